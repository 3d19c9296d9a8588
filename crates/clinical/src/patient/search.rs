//! Finding a patient the way front-desk staff type: either name order, with or without the
//! comma, by birth date or record number, ignoring case and accents.

use jiff::civil::Date;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// The most words a search uses; the rest are ignored (a name rarely has more).
pub const MAX_SEARCH_WORDS: usize = 8;

/// `text` folded for matching: lower case, accents and other combining marks removed
/// ("Nguyễn" → "nguyen", "Zoë" → "zoe"), and the few Latin letters that carry no separable
/// accent spelled plainly ("Ø" → "o", "ß" → "ss", "Ł" → "l").
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.nfd() {
        if is_combining_mark(c) {
            continue;
        }
        match c {
            'ø' | 'Ø' => out.push('o'),
            'đ' | 'Đ' | 'ð' | 'Ð' => out.push('d'),
            'ł' | 'Ł' => out.push('l'),
            'ı' => out.push('i'),
            'ß' => out.push_str("ss"),
            'æ' | 'Æ' => out.push_str("ae"),
            'œ' | 'Œ' => out.push_str("oe"),
            'þ' | 'Þ' => out.push_str("th"),
            _ => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// The text a patient's record is found by: folded given and family names and the record
/// number, separated by single spaces. Stored beside the record and kept in step with it.
pub fn search_key(given_name: &str, family_name: &str, mrn: &str) -> String {
    format!(
        "{} {} {}",
        squeeze(&fold(given_name)),
        squeeze(&fold(family_name)),
        mrn.trim().to_lowercase()
    )
}

/// The start of [`search_key`] for a name: two records whose keys start alike hold the same
/// folded name.
pub fn name_key(given_name: &str, family_name: &str) -> String {
    format!(
        "{} {} ",
        squeeze(&fold(given_name)),
        squeeze(&fold(family_name))
    )
}

fn squeeze(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A directory search as typed, split into what it asks for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PatientQuery {
    /// Folded words, each of which the record's [`search_key`] must contain.
    pub words: Vec<String>,
    /// A birth date the record must have, when the search held one.
    pub birth_date: Option<Date>,
}

impl PatientQuery {
    /// Reads a search: words separated by spaces or commas, in any order; a word that is a date
    /// (`1985-03-14`, or `03/14/1985` as written in the United States) is a birth date. A
    /// control character separates words too: no name or record number holds one, and a NUL
    /// byte cannot be sent to PostgreSQL at all.
    pub fn parse(input: &str) -> PatientQuery {
        let mut query = PatientQuery::default();
        for token in input
            .split(|c: char| c.is_whitespace() || c.is_control() || c == ',' || c == ';')
            .filter(|t| !t.is_empty())
        {
            if query.birth_date.is_none()
                && let Some(date) = parse_date(token)
            {
                query.birth_date = Some(date);
                continue;
            }
            let word = fold(token);
            if !word.is_empty() && query.words.len() < MAX_SEARCH_WORDS {
                query.words.push(word);
            }
        }
        query
    }

    /// Whether the search asks for nothing (every patient matches).
    pub fn is_empty(&self) -> bool {
        self.words.is_empty() && self.birth_date.is_none()
    }
}

/// A search word read as a birth date, when it is one. ok: a word that is not a date is no
/// error: it is searched for as a word (a record number may hold digits and slashes).
fn parse_date(token: &str) -> Option<Date> {
    if let Ok(date) = token.parse::<Date>() {
        return Some(date);
    }
    let mut parts = token.split('/');
    let (m, d, y) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 {
        return None;
    }
    Date::new(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn folding_removes_case_and_accents() {
        assert_eq!(fold("Nguyễn"), "nguyen");
        assert_eq!(fold("Zoë"), "zoe");
        assert_eq!(fold("ZOË"), "zoe");
        assert_eq!(fold("Søren Łukasz Straße"), "soren lukasz strasse");
        assert_eq!(fold("Ægir"), "aegir");
        // Other scripts are lower-cased and lose their marks too; both sides of a search are
        // folded alike, so "Дмитрий" is still found by "дмитрий".
        assert_eq!(fold("Дмитрий"), fold("дмитрий"));
        assert_eq!(fold("Дмитрий"), "дмитрии");
    }

    #[test]
    fn a_search_takes_names_in_either_order_and_dates() {
        let q = PatientQuery::parse("Ashgrove, Marlow");
        assert_eq!(q.words, vec!["ashgrove", "marlow"]);
        assert_eq!(q.birth_date, None);
        let q = PatientQuery::parse("  marlow 1985-03-14 ");
        assert_eq!(q.words, vec!["marlow"]);
        assert_eq!(q.birth_date, Some(date(1985, 3, 14)));
        let q = PatientQuery::parse("03/14/1985");
        assert!(q.words.is_empty());
        assert_eq!(q.birth_date, Some(date(1985, 3, 14)));
        // Not a date: kept as a word (a record number may hold digits).
        let q = PatientQuery::parse("13/45/1985 K12");
        assert_eq!(q.words, vec!["13/45/1985", "k12"]);
        assert!(PatientQuery::parse(" , ").is_empty());
        // Control characters separate words; none reaches a word.
        let q = PatientQuery::parse("Ada\0Park\u{7}");
        assert_eq!(q.words, ["ada", "park"]);
        assert!(PatientQuery::parse("\0\u{1b}").is_empty());
        let many = PatientQuery::parse("a b c d e f g h i j");
        assert_eq!(many.words.len(), MAX_SEARCH_WORDS);
    }

    #[test]
    fn every_word_of_a_search_is_in_the_key_whatever_the_order() {
        let key = search_key("Marlow", "Ashgrove", "K1234567");
        for typed in [
            "Marlow Ashgrove",
            "Ashgrove, Marlow",
            "ashgr",
            "k1234",
            "MARLOW",
        ] {
            let q = PatientQuery::parse(typed);
            assert!(q.words.iter().all(|w| key.contains(w.as_str())), "{typed}");
        }
        assert!(!key.contains("zed"));
        assert!(search_key("Zoë", "Nguyễn", "K1").contains(&PatientQuery::parse("zoe").words[0]));
        assert!(name_key("Zoë ", "  Nguyễn").starts_with("zoe nguyen "));
        assert!(search_key("Zoë", "Nguyễn", "KX").starts_with(&name_key("zoe", "NGUYEN")));
    }
}
