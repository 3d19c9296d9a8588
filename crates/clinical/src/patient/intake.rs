//! Intake details kept once per patient and updated as they change: allergies, the referring
//! clinician, and pregnancy status. No clinical rule reads them here; the screening will.

use crate::patient::{PatientError, PersonName, Phone, optional};

/// The most allergies listed, one per line.
pub const MAX_ALLERGIES: usize = 30;
/// The longest allergy line, in characters.
pub const MAX_ALLERGY_CHARS: usize = 200;
/// The longest practice name, in characters.
pub const MAX_PRACTICE_CHARS: usize = 200;

/// Pregnancy status as last asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pregnancy {
    /// Not asked yet.
    NotAsked,
    /// Does not apply to this patient.
    NotApplicable,
    /// Not pregnant.
    NotPregnant,
    /// Pregnant.
    Pregnant,
    /// Breastfeeding.
    Breastfeeding,
}

impl Pregnancy {
    /// Every status, in form order.
    pub const ALL: [Pregnancy; 5] = [
        Pregnancy::NotAsked,
        Pregnancy::NotApplicable,
        Pregnancy::NotPregnant,
        Pregnancy::Pregnant,
        Pregnancy::Breastfeeding,
    ];

    /// Stored code.
    pub fn code(self) -> &'static str {
        match self {
            Pregnancy::NotAsked => "not_asked",
            Pregnancy::NotApplicable => "not_applicable",
            Pregnancy::NotPregnant => "not_pregnant",
            Pregnancy::Pregnant => "pregnant",
            Pregnancy::Breastfeeding => "breastfeeding",
        }
    }

    /// Words for people.
    pub fn label(self) -> &'static str {
        match self {
            Pregnancy::NotAsked => "Not asked yet",
            Pregnancy::NotApplicable => "Does not apply",
            Pregnancy::NotPregnant => "Not pregnant",
            Pregnancy::Pregnant => "Pregnant",
            Pregnancy::Breastfeeding => "Breastfeeding",
        }
    }

    /// The status with this code.
    pub fn parse(code: &str) -> Option<Pregnancy> {
        Pregnancy::ALL.into_iter().find(|p| p.code() == code)
    }
}

/// Allergies as known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Allergies {
    /// Not asked yet.
    NotAsked,
    /// The patient has no known allergies.
    NoneKnown,
    /// One entry per allergy, such as "penicillin: rash".
    Listed(Vec<String>),
}

/// Why intake details were refused; each names its field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntakeError {
    /// Allergies listed and "no known allergies" ticked together.
    #[error("allergies are listed and \"no known allergies\" is ticked; keep one of the two")]
    AllergiesContradict,
    /// Too many lines.
    #[error("{count} allergies are listed; at most {MAX_ALLERGIES}, one per line")]
    TooManyAllergies {
        /// How many.
        count: usize,
    },
    /// A line too long or holding control characters.
    #[error(
        "allergy {line} is longer than {MAX_ALLERGY_CHARS} characters or holds a control character or an invisible mark; shorten it or type it again"
    )]
    AllergyUnreadable {
        /// The line number.
        line: usize,
    },
    /// The referrer's name, practice or phone is not right.
    #[error("{0}")]
    Referrer(PatientError),
    /// The practice name is too long or holds control characters.
    #[error(
        "the referring practice must be one line of at most {MAX_PRACTICE_CHARS} characters, without control characters or invisible marks"
    )]
    PracticeUnreadable,
    /// A pregnancy status not on the form.
    #[error("choose the pregnancy status from the list")]
    PregnancyUnknown,
}

impl From<PatientError> for IntakeError {
    fn from(e: PatientError) -> Self {
        IntakeError::Referrer(e)
    }
}

impl IntakeError {
    /// The form field the error is about.
    pub fn field(&self) -> &'static str {
        match self {
            IntakeError::AllergiesContradict
            | IntakeError::TooManyAllergies { .. }
            | IntakeError::AllergyUnreadable { .. } => "allergies",
            IntakeError::Referrer(e) => e.field(),
            IntakeError::PracticeUnreadable => "referrer_practice",
            IntakeError::PregnancyUnknown => "pregnancy",
        }
    }
}

/// Intake details as typed.
#[derive(Debug, Clone, Default)]
pub struct IntakeInput {
    /// One allergy per line.
    pub allergies: String,
    /// "No known allergies" ticked.
    pub no_known_allergies: bool,
    /// The referring clinician's name; empty when none.
    pub referrer_name: String,
    /// Their practice; empty when not given.
    pub referrer_practice: String,
    /// Their telephone; empty when not given.
    pub referrer_phone: String,
    /// Pregnancy status code.
    pub pregnancy: String,
}

/// Checked intake details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntakeDetails {
    /// Allergies.
    pub allergies: Allergies,
    /// The referring clinician's name.
    pub referrer_name: Option<PersonName>,
    /// Their practice.
    pub referrer_practice: Option<String>,
    /// Their telephone.
    pub referrer_phone: Option<Phone>,
    /// Pregnancy status.
    pub pregnancy: Pregnancy,
}

impl IntakeInput {
    /// Checks every field and returns the details or every problem.
    pub fn validate(&self) -> Result<IntakeDetails, Vec<IntakeError>> {
        let mut errors = Vec::new();
        let lines: Vec<String> = self
            .allergies
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect();
        let allergies = if !lines.is_empty() && self.no_known_allergies {
            errors.push(IntakeError::AllergiesContradict);
            Allergies::NotAsked
        } else if self.no_known_allergies {
            Allergies::NoneKnown
        } else if lines.is_empty() {
            Allergies::NotAsked
        } else if lines.len() > MAX_ALLERGIES {
            errors.push(IntakeError::TooManyAllergies { count: lines.len() });
            Allergies::NotAsked
        } else {
            if let Some(bad) = lines
                .iter()
                .position(|l| crate::text::line(l, MAX_ALLERGY_CHARS).is_err())
            {
                errors.push(IntakeError::AllergyUnreadable { line: bad + 1 });
            }
            Allergies::Listed(lines)
        };
        // A refused value is noted in `errors`, which refuses the whole form below.
        let referrer_name = optional(&mut errors, &self.referrer_name, |s| {
            PersonName::parse("referrer_name", s)
        })
        .flatten();
        // ok: a refused practice is in `errors`, which refuses the form; empty is none given.
        let practice = crate::text::optional_line(&self.referrer_practice, MAX_PRACTICE_CHARS)
            .unwrap_or_else(|_| {
                errors.push(IntakeError::PracticeUnreadable);
                None
            })
            .unwrap_or("");
        let referrer_phone = optional(&mut errors, &self.referrer_phone, |s| {
            Phone::parse_field("referrer_phone", s)
        })
        .flatten();
        let pregnancy = match self.pregnancy.trim() {
            "" => Pregnancy::NotAsked,
            code => Pregnancy::parse(code).unwrap_or_else(|| {
                errors.push(IntakeError::PregnancyUnknown);
                Pregnancy::NotAsked
            }),
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(IntakeDetails {
            allergies,
            referrer_name,
            referrer_practice: (!practice.is_empty()).then(|| practice.to_owned()),
            referrer_phone,
            pregnancy,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intake_details_are_checked_at_their_fields() {
        let ok = IntakeInput {
            allergies: "penicillin: rash\r\n\r\n  latex  ".into(),
            referrer_name: "Dr Ines Vale".into(),
            referrer_practice: "Harbor Family Medicine".into(),
            referrer_phone: "555 010 0800".into(),
            pregnancy: "not_pregnant".into(),
            ..IntakeInput::default()
        }
        .validate()
        .expect("valid");
        assert_eq!(
            ok.allergies,
            Allergies::Listed(vec!["penicillin: rash".into(), "latex".into()])
        );
        assert_eq!(ok.pregnancy, Pregnancy::NotPregnant);
        let none = IntakeInput {
            no_known_allergies: true,
            ..IntakeInput::default()
        }
        .validate()
        .unwrap();
        assert_eq!(none.allergies, Allergies::NoneKnown);
        assert_eq!(none.pregnancy, Pregnancy::NotAsked);
        let errors = IntakeInput {
            allergies: "latex".into(),
            no_known_allergies: true,
            referrer_phone: "ring the office".into(),
            pregnancy: "maybe".into(),
            ..IntakeInput::default()
        }
        .validate()
        .unwrap_err();
        let fields: Vec<_> = errors.iter().map(IntakeError::field).collect();
        assert_eq!(fields, ["allergies", "referrer_phone", "pregnancy"]);
    }
}
