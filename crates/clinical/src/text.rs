//! Free text typed into a form: what every such field refuses, in one place.
//!
//! A field's text is trimmed; it must fit its length, and it may not hold a control character
//! (pasted text can carry an escape sequence, a bell or a NUL, which a terminal reading a log
//! or an export would obey, and which PostgreSQL cannot store) nor a mark that is invisible or
//! turns the text's direction around (which can make a lot number or a name read as another).
//! Text of several lines keeps its line breaks and tabs.

/// Why a text was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TextProblem {
    /// Nothing but spaces where text is needed.
    #[error("is empty")]
    Empty,
    /// Longer than the field's limit.
    #[error("is longer than {max} characters")]
    TooLong {
        /// The limit, in characters.
        max: usize,
    },
    /// A control character, or an invisible or direction-changing mark.
    #[error("holds a control character or an invisible mark, which pasted text can carry")]
    Unreadable,
}

impl TextProblem {
    /// What to tell the person about the text `what` names ("the lot number"): to give it, to
    /// shorten it, or to type it again, with what is wrong.
    pub fn said_of(self, what: &str) -> String {
        match self {
            TextProblem::Empty => format!("give {what}"),
            TextProblem::TooLong { .. } => format!("{what} {self}; shorten it"),
            TextProblem::Unreadable => format!("{what} {self}; type it again"),
        }
    }
}

/// The most characters of a refused value that a message shows.
pub const SHOWN_CHARS: usize = 40;

/// A refused value as a message shows it: trimmed, at most [`SHOWN_CHARS`] characters (with
/// "…" when cut), control characters and invisible marks shown as "�". A message names what
/// was typed so the person can find it; it need not repeat 3,000 characters, nor pass on a
/// terminal's escape sequence.
pub fn shown(input: &str) -> String {
    let t = input.trim();
    let mut out: String = t
        .chars()
        .take(SHOWN_CHARS)
        .map(|c| {
            if c.is_control() || has_invisible_mark(c.encode_utf8(&mut [0; 4])) {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect();
    if t.chars().nth(SHOWN_CHARS).is_some() {
        out.push('…');
    }
    out
}

/// Whether `text` holds a bidirectional control (embeddings, overrides, isolates, marks), a
/// zero-width space, word joiner or byte-order mark, or a zero-width (non-)joiner that does not
/// stand between two letters (where Persian and Indic names use it legitimately).
pub(crate) fn has_invisible_mark(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    chars.iter().enumerate().any(|(i, &c)| match c {
        '\u{202A}'..='\u{202E}'
        | '\u{2066}'..='\u{2069}'
        | '\u{200E}'
        | '\u{200F}'
        | '\u{061C}'
        | '\u{200B}'
        | '\u{2060}'
        | '\u{FEFF}' => true,
        '\u{200C}' | '\u{200D}' => {
            let before = i.checked_sub(1).and_then(|j| chars.get(j));
            let after = chars.get(i + 1);
            !matches!((before, after), (Some(b), Some(a)) if b.is_alphabetic() && a.is_alphabetic())
        }
        _ => false,
    })
}

fn check(text: &str, max_chars: usize, lines: bool) -> Result<Option<&str>, TextProblem> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    if t.chars().count() > max_chars {
        return Err(TextProblem::TooLong { max: max_chars });
    }
    let allowed = |c: char| lines && matches!(c, '\n' | '\r' | '\t');
    if t.chars().any(|c| c.is_control() && !allowed(c)) || has_invisible_mark(t) {
        return Err(TextProblem::Unreadable);
    }
    Ok(Some(t))
}

/// One line of text, trimmed, of at most `max_chars` characters; `None` when it is empty.
pub fn optional_line(text: &str, max_chars: usize) -> Result<Option<&str>, TextProblem> {
    check(text, max_chars, false)
}

/// One line of text that must be given, trimmed, of at most `max_chars` characters.
pub fn line(text: &str, max_chars: usize) -> Result<&str, TextProblem> {
    check(text, max_chars, false)?.ok_or(TextProblem::Empty)
}

/// Text of one or more lines (line breaks and tabs kept), trimmed, of at most `max_chars`
/// characters; `None` when it is empty.
pub fn optional_lines(text: &str, max_chars: usize) -> Result<Option<&str>, TextProblem> {
    check(text, max_chars, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_trimmed_bounded_and_readable() {
        assert_eq!(line("  Lot A12 ", 10), Ok("Lot A12"));
        assert_eq!(line("   ", 10), Err(TextProblem::Empty));
        assert_eq!(optional_line("   ", 10), Ok(None));
        assert_eq!(
            line("abcdefghijk", 10),
            Err(TextProblem::TooLong { max: 10 })
        );
        // Ten characters, not ten bytes.
        assert_eq!(line("éééééééééé", 10), Ok("éééééééééé"));
        for bad in [
            "A\u{1b}[2J",
            "bell\u{7}",
            "nul\0",
            "two\nlines",
            "tab\there",
        ] {
            assert_eq!(line(bad, 50), Err(TextProblem::Unreadable), "{bad:?}");
        }
        // A direction override makes "A12-3" read as another lot number.
        assert_eq!(line("A\u{202E}21-3", 50), Err(TextProblem::Unreadable));
        // A joiner between two letters is part of a name's spelling.
        assert_eq!(line("می\u{200C}خواهم", 50), Ok("می\u{200C}خواهم"));
    }

    #[test]
    fn a_refused_value_is_shown_short_and_readable() {
        assert_eq!(shown(" 1e309 "), "1e309");
        assert_eq!(shown(&"x".repeat(3000)), format!("{}…", "x".repeat(40)));
        assert_eq!(
            shown("Pasted\u{1b}[2J\u{202e}"),
            "Pasted\u{FFFD}[2J\u{FFFD}"
        );
        assert_eq!(shown(&"é".repeat(40)), "é".repeat(40));
    }

    #[test]
    fn lines_keep_their_breaks_and_tabs_only() {
        assert_eq!(
            optional_lines("first\r\nsecond\tend", 50),
            Ok(Some("first\r\nsecond\tend"))
        );
        assert_eq!(
            optional_lines("first\u{1b}second", 50),
            Err(TextProblem::Unreadable)
        );
        assert_eq!(optional_lines(" \n ", 50), Ok(None));
    }
}
