//! Consent documents and signatures.
//!
//! The clinic supplies the text (Markdown); each publication is a new version, and a signature
//! holds for the version signed. A first session needs a signature of the current version, so a
//! new version asks every patient to sign again. The patient signs by typing their full name,
//! which must be the name on the record; the staff member signed in witnesses it.

use crate::patient::fold;

/// The longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// The longest document, in characters (a long consent form is some 5,000 words).
pub const MAX_BODY_CHARS: usize = 60_000;
/// The shortest document, in characters: a sentence or two is not a consent form.
pub const MIN_BODY_CHARS: usize = 100;

/// Why a document or a signature was refused; each names its field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConsentError {
    /// No title, or too long, or more than one line.
    #[error(
        "the title is required: one line of at most {MAX_TITLE_CHARS} characters, without control characters or invisible marks"
    )]
    Title,
    /// The text is too short or too long.
    #[error(
        "the text is {0} characters; a consent document needs {MIN_BODY_CHARS} to {MAX_BODY_CHARS}"
    )]
    BodyLength(usize),
    /// The text holds control characters other than line breaks and tabs, or an invisible mark.
    #[error(
        "the text holds a control character or an invisible mark; paste it again as plain text"
    )]
    BodyUnreadable,
    /// The typed name is not the patient's.
    #[error("the signature must be the patient's full name as on the record, {0}")]
    NameMismatch(String),
    /// The witness did not confirm.
    #[error("tick the box to confirm that you witnessed the patient read and sign")]
    NotWitnessed,
}

impl ConsentError {
    /// The form field the error is about.
    pub fn field(&self) -> &'static str {
        match self {
            ConsentError::Title => "title",
            ConsentError::BodyLength(_) | ConsentError::BodyUnreadable => "body",
            ConsentError::NameMismatch(_) => "signed_name",
            ConsentError::NotWitnessed => "witnessed",
        }
    }
}

/// A consent document's text, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentText {
    /// One line.
    pub title: String,
    /// Markdown, line breaks as `\n`.
    pub body: String,
}

impl ConsentText {
    /// Checks a document as typed.
    pub fn parse(title: &str, body: &str) -> Result<ConsentText, Vec<ConsentError>> {
        let mut errors = Vec::new();
        let title = crate::text::line(title, MAX_TITLE_CHARS).unwrap_or_else(|_| {
            errors.push(ConsentError::Title);
            ""
        });
        let body = body.replace("\r\n", "\n").trim().to_owned();
        let n = body.chars().count();
        if !(MIN_BODY_CHARS..=MAX_BODY_CHARS).contains(&n) {
            errors.push(ConsentError::BodyLength(n));
        } else if crate::text::optional_lines(&body, MAX_BODY_CHARS).is_err() {
            errors.push(ConsentError::BodyUnreadable);
        }
        if errors.is_empty() {
            Ok(ConsentText {
                title: title.to_owned(),
                body,
            })
        } else {
            Err(errors)
        }
    }
}

/// Checks a signature: `typed` must be the patient's given and family name (either order,
/// ignoring case, accents and extra spaces) and the witness must have confirmed. Returns the
/// name as typed, trimmed.
pub fn check_signature(
    given: &str,
    family: &str,
    typed: &str,
    witnessed: bool,
) -> Result<String, Vec<ConsentError>> {
    let words =
        |s: &str| -> Vec<String> { fold(s).split_whitespace().map(str::to_owned).collect() };
    let typed_words = words(typed);
    let mut expected = words(given);
    expected.extend(words(family));
    let mut reversed = words(family);
    reversed.extend(words(given));
    let mut errors = Vec::new();
    if typed_words.is_empty() || (typed_words != expected && typed_words != reversed) {
        errors.push(ConsentError::NameMismatch(format!("{given} {family}")));
    }
    if !witnessed {
        errors.push(ConsentError::NotWitnessed);
    }
    if errors.is_empty() {
        Ok(typed.split_whitespace().collect::<Vec<_>>().join(" "))
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_checked_at_their_fields() {
        let body = "# Consent\n\nI understand ketamine treatment. ".repeat(4);
        let ok = ConsentText::parse(" Ketamine treatment consent ", &body.replace('\n', "\r\n"))
            .unwrap();
        assert_eq!(ok.title, "Ketamine treatment consent");
        assert!(!ok.body.contains('\r'));
        let e = ConsentText::parse("", "too short").unwrap_err();
        let fields: Vec<_> = e.iter().map(ConsentError::field).collect();
        assert_eq!(fields, ["title", "body"]);
        let e = ConsentText::parse("T", &format!("{body}\u{7}")).unwrap_err();
        assert_eq!(e, [ConsentError::BodyUnreadable]);
        let e = ConsentText::parse("T", &format!("{body}\u{200B}")).unwrap_err();
        assert_eq!(e, [ConsentError::BodyUnreadable]);
        let e = ConsentText::parse("Consent \u{202E}", &body).unwrap_err();
        assert_eq!(e, [ConsentError::Title]);
        assert!(ConsentText::parse("a\nb", &body).is_err());
        assert!(ConsentText::parse("T", &"x".repeat(MAX_BODY_CHARS + 1)).is_err());
    }

    #[test]
    fn a_signature_is_the_patients_name_and_a_witness() {
        assert_eq!(
            check_signature("Zoë", "Ångström", "  zoe   ANGSTROM ", true).unwrap(),
            "zoe ANGSTROM"
        );
        assert!(check_signature("Zoë", "Ångström", "Ångström Zoë", true).is_ok());
        let e = check_signature("Zoë", "Ångström", "Zoe", false).unwrap_err();
        let fields: Vec<_> = e.iter().map(ConsentError::field).collect();
        assert_eq!(fields, ["signed_name", "witnessed"]);
        assert!(e[0].to_string().ends_with("Zoë Ångström"));
        assert!(check_signature("Zoë", "Ångström", "", true).is_err());
    }
}
