//! Patient demographics: the validated input for registering a patient.
//!
//! Only demographics live here; clinical data (screening, courses, sessions, scores) belongs to
//! later modules and is kept apart so that front-desk staff can work with this record alone.

use jiff::civil::Date;

pub mod body;
pub mod intake;
mod search;
#[cfg(test)]
mod tests;

pub use search::{MAX_SEARCH_WORDS, PatientQuery, fold, name_key, search_key};

/// Why a piece of demographic input was refused.
///
/// Every message says what is wrong and what would be accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatientError {
    /// A required name is empty or only spaces.
    #[error(
        "{} is required: enter the name as the patient writes it",
        field_label(field)
    )]
    NameMissing {
        /// The field that was empty.
        field: &'static str,
    },
    /// A name is longer than [`MAX_NAME_CHARS`].
    #[error(
        "{} is {len} characters long; at most {MAX_NAME_CHARS} are accepted",
        field_label(field)
    )]
    NameTooLong {
        /// The field that was too long.
        field: &'static str,
        /// Its length in characters.
        len: usize,
    },
    /// A name holds control characters (line breaks, tabs and the like).
    #[error(
        "{} contains a line break or another control character; remove it",
        field_label(field)
    )]
    NameControlChar {
        /// The offending field.
        field: &'static str,
    },
    /// A name holds a character that changes how it is shown without being seen: a
    /// bidirectional override, isolate or mark, or a zero-width space (a name shown as
    /// "gnp.exe" could be stored as "exe.png").
    #[error(
        "{} contains an invisible character that changes how the name reads (a direction or zero-width mark); type the name again without pasting it",
        field_label(field)
    )]
    NameInvisibleChar {
        /// The offending field.
        field: &'static str,
    },
    /// A name without a single letter (only digits, punctuation or symbols).
    #[error("{} must contain at least one letter", field_label(field))]
    NameNoLetter {
        /// The offending field.
        field: &'static str,
    },
    /// No birth date was given.
    #[error("date of birth is required: use the form YYYY-MM-DD, for example 1980-04-23")]
    BirthDateMissing,
    /// The birth date is not a calendar date in `YYYY-MM-DD` form.
    #[error(
        "date of birth '{input}' is not a date; use the form YYYY-MM-DD, for example 1980-04-23"
    )]
    BirthDateUnreadable {
        /// What was typed.
        input: String,
    },
    /// The birth date lies after today.
    #[error("date of birth {date} is in the future; today is {today}")]
    BirthDateInFuture {
        /// The date given.
        date: Date,
        /// The date it was checked against.
        today: Date,
    },
    /// The birth date lies implausibly far back.
    #[error(
        "date of birth {date} would make the patient older than {MAX_AGE_YEARS}; check the year"
    )]
    BirthDateTooEarly {
        /// The date given.
        date: Date,
    },
    /// No sex was chosen.
    #[error("sex is required: choose female, male, other or unknown")]
    SexMissing,
    /// The sex is not one of the administrative codes.
    #[error("sex '{input}' is not recognised; choose female, male, other or unknown")]
    SexUnknownCode {
        /// What was given.
        input: String,
    },
    /// The telephone number has characters other than digits and the usual separators.
    #[error(
        "{} '{input}' is not a telephone number; use 7 to 20 digits, optionally with +, spaces, dashes, dots or brackets",
        field_label(field)
    )]
    PhoneInvalid {
        /// The field it was typed into (`phone`, `emergency_contact_phone`).
        field: &'static str,
        /// What was given.
        input: String,
    },
    /// The postal address is longer than [`MAX_ADDRESS_CHARS`].
    #[error("address is {len} characters long; at most {MAX_ADDRESS_CHARS} are accepted")]
    AddressTooLong {
        /// Its length in characters.
        len: usize,
    },
    /// The postal address holds a control character other than a line break, or an invisible
    /// direction mark.
    #[error(
        "address contains a tab, an invisible mark or another control character; type it again without pasting it"
    )]
    AddressUnreadable,
    /// The email address lacks the `local@domain` shape.
    #[error("email '{input}' is not an email address; it needs the form name@example.org")]
    EmailInvalid {
        /// What was given.
        input: String,
    },
}

impl PatientError {
    /// The input field this error is about, as named in forms and JSON bodies.
    pub fn field(&self) -> &'static str {
        match self {
            PatientError::NameMissing { field }
            | PatientError::NameTooLong { field, .. }
            | PatientError::NameControlChar { field }
            | PatientError::NameInvisibleChar { field }
            | PatientError::NameNoLetter { field } => field,
            PatientError::BirthDateMissing
            | PatientError::BirthDateUnreadable { .. }
            | PatientError::BirthDateInFuture { .. }
            | PatientError::BirthDateTooEarly { .. } => "date_of_birth",
            PatientError::SexMissing | PatientError::SexUnknownCode { .. } => "sex",
            PatientError::PhoneInvalid { field, .. } => field,
            PatientError::AddressTooLong { .. } | PatientError::AddressUnreadable => "address",
            PatientError::EmailInvalid { .. } => "email",
        }
    }
}

/// How a field is named in messages: `family_name` reads as "family name".
fn field_label(field: &str) -> String {
    field.trim_start_matches('-').replace('_', " ")
}

/// The longest name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// The oldest age accepted for a birth date, in years.
///
/// Not a clinical threshold: a guard against typing 1089 for 1989.
pub const MAX_AGE_YEARS: i16 = 120;

/// A person's given or family name: trimmed, non-empty, at most [`MAX_NAME_CHARS`] characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    /// Parses a name typed into `field`.
    pub fn parse(field: &'static str, input: &str) -> Result<Self, PatientError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(PatientError::NameMissing { field });
        }
        let len = trimmed.chars().count();
        if len > MAX_NAME_CHARS {
            return Err(PatientError::NameTooLong { field, len });
        }
        if trimmed.chars().any(char::is_control) {
            return Err(PatientError::NameControlChar { field });
        }
        if crate::text::has_invisible_mark(trimmed) {
            return Err(PatientError::NameInvisibleChar { field });
        }
        if !trimmed.chars().any(char::is_alphabetic) {
            return Err(PatientError::NameNoLetter { field });
        }
        Ok(PersonName(trimmed.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Administrative sex, with the codes of FHIR R4 `AdministrativeGender`.
///
/// Source: <https://hl7.org/fhir/R4/valueset-administrative-gender.html>.
/// Pharmacokinetic covariates that need biological sex ask for it separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sex {
    /// `female`.
    Female,
    /// `male`.
    Male,
    /// `other`.
    Other,
    /// `unknown`.
    Unknown,
}

impl Sex {
    /// Every value, in the order forms offer them.
    pub const ALL: [Sex; 4] = [Sex::Female, Sex::Male, Sex::Other, Sex::Unknown];

    /// Parses the FHIR code (case-insensitive, surrounding spaces ignored).
    pub fn parse(input: &str) -> Result<Self, PatientError> {
        match input.trim().to_ascii_lowercase().as_str() {
            "" => Err(PatientError::SexMissing),
            "female" => Ok(Sex::Female),
            "male" => Ok(Sex::Male),
            "other" => Ok(Sex::Other),
            "unknown" => Ok(Sex::Unknown),
            _ => Err(PatientError::SexUnknownCode {
                input: crate::text::shown(input),
            }),
        }
    }

    /// The FHIR code.
    pub fn code(self) -> &'static str {
        match self {
            Sex::Female => "female",
            Sex::Male => "male",
            Sex::Other => "other",
            Sex::Unknown => "unknown",
        }
    }

    /// The word shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Sex::Female => "Female",
            Sex::Male => "Male",
            Sex::Other => "Other",
            Sex::Unknown => "Unknown",
        }
    }
}

/// A date of birth that is not in the future and not more than [`MAX_AGE_YEARS`] years back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateOfBirth(Date);

impl DateOfBirth {
    /// Parses `YYYY-MM-DD` and checks it against `today` (the clinic's local date).
    pub fn parse(input: &str, today: Date) -> Result<Self, PatientError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(PatientError::BirthDateMissing);
        }
        let date: Date = trimmed
            .parse()
            .map_err(|_| PatientError::BirthDateUnreadable {
                input: crate::text::shown(input),
            })?;
        Self::new(date, today)
    }

    /// Checks an already typed date against `today`.
    pub fn new(date: Date, today: Date) -> Result<Self, PatientError> {
        if date > today {
            return Err(PatientError::BirthDateInFuture { date, today });
        }
        if age_on(date, today) > MAX_AGE_YEARS {
            return Err(PatientError::BirthDateTooEarly { date });
        }
        Ok(DateOfBirth(date))
    }

    /// The date.
    pub fn date(self) -> Date {
        self.0
    }

    /// Age in whole years on `day`.
    pub fn age_on(self, day: Date) -> i16 {
        age_on(self.0, day)
    }
}

/// Whole years between `born` and `day` (the birthday counts on its date; 29 February birthdays
/// count on 1 March in common years).
pub fn age_on(born: Date, day: Date) -> i16 {
    let mut years = day.year() - born.year();
    if (day.month(), day.day()) < (born.month(), born.day()) {
        years -= 1;
    }
    years
}

/// A telephone number as typed, restricted to digits and common separators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    /// Parses a telephone number: 7 to 20 digits, with `+`, spaces, `-`, `.`, `(` or `)`.
    pub fn parse(input: &str) -> Result<Self, PatientError> {
        Phone::parse_field("phone", input)
    }

    /// Parses a telephone number typed into `field` (named in the message when it is refused).
    pub fn parse_field(field: &'static str, input: &str) -> Result<Self, PatientError> {
        let trimmed = input.trim();
        let digits = trimmed.chars().filter(char::is_ascii_digit).count();
        let allowed = trimmed
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '.' | '(' | ')'));
        if !allowed || !(7..=20).contains(&digits) {
            return Err(PatientError::PhoneInvalid {
                field,
                input: crate::text::shown(input),
            });
        }
        Ok(Phone(trimmed.to_owned()))
    }

    /// The number as typed (trimmed).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An email address with the shape `local@domain.tld`; delivery is not checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Parses an address, lower-casing it so that lookups do not depend on case.
    pub fn parse(input: &str) -> Result<Self, PatientError> {
        let trimmed = input.trim();
        let invalid = || PatientError::EmailInvalid {
            input: crate::text::shown(input),
        };
        let (local, domain) = trimmed.split_once('@').ok_or_else(invalid)?;
        let shape_ok = !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
            && trimmed.len() <= 254
            && !trimmed.chars().any(|c| c.is_whitespace() || c.is_control())
            && !crate::text::has_invisible_mark(trimmed);
        if !shape_ok {
            return Err(invalid());
        }
        Ok(Email(trimmed.to_ascii_lowercase()))
    }

    /// The address, lower case.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Loose input for a new patient, as it arrives from a form, an API body or an import.
///
/// Turn it into a [`NewPatient`] with [`PatientInput::validate`].
#[derive(Debug, Clone, Default)]
pub struct PatientInput {
    /// Given (first) name.
    pub given_name: String,
    /// Family (last) name.
    pub family_name: String,
    /// Date of birth, `YYYY-MM-DD`.
    pub date_of_birth: String,
    /// Administrative sex code.
    pub sex: String,
    /// Telephone number; empty when not given.
    pub phone: String,
    /// Email address; empty when not given.
    pub email: String,
}

impl PatientInput {
    /// Checks every field and returns either the validated patient or every problem found, so a
    /// form can mark all of its fields at once.
    pub fn validate(&self, today: Date) -> Result<NewPatient, Vec<PatientError>> {
        let mut errors = Vec::new();
        let given = keep(
            &mut errors,
            PersonName::parse("given_name", &self.given_name),
        );
        let family = keep(
            &mut errors,
            PersonName::parse("family_name", &self.family_name),
        );
        let dob = keep(&mut errors, DateOfBirth::parse(&self.date_of_birth, today));
        let sex = keep(&mut errors, Sex::parse(&self.sex));
        let phone = optional(&mut errors, &self.phone, Phone::parse);
        let email = optional(&mut errors, &self.email, Email::parse);
        match (given, family, dob, sex, phone, email) {
            (
                Some(given_name),
                Some(family_name),
                Some(date_of_birth),
                Some(sex),
                Some(phone),
                Some(email),
            ) => Ok(NewPatient {
                given_name,
                family_name,
                date_of_birth,
                sex,
                phone,
                email,
            }),
            _ => Err(errors),
        }
    }
}

/// The value of `result`, or `None` after noting its error (in the caller's error type, so the
/// inquiry and intake forms collect demographic errors beside their own).
pub(crate) fn keep<T, E>(errors: &mut Vec<E>, result: Result<T, impl Into<E>>) -> Option<T> {
    result.map_err(|e| errors.push(e.into())).ok()
}

/// An optional field: blank is `Some(None)`, a valid value `Some(Some(v))`, an invalid one `None`.
pub(crate) fn optional<T, E, F: Into<E>>(
    errors: &mut Vec<E>,
    input: &str,
    parse: impl Fn(&str) -> Result<T, F>,
) -> Option<Option<T>> {
    if input.trim().is_empty() {
        Some(None)
    } else {
        keep(errors, parse(input)).map(Some)
    }
}

/// A patient record ready to be stored: every field validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPatient {
    given_name: PersonName,
    family_name: PersonName,
    date_of_birth: DateOfBirth,
    sex: Sex,
    phone: Option<Phone>,
    email: Option<Email>,
}

impl NewPatient {
    /// Given name.
    pub fn given_name(&self) -> &PersonName {
        &self.given_name
    }
    /// Family name.
    pub fn family_name(&self) -> &PersonName {
        &self.family_name
    }
    /// Date of birth.
    pub fn date_of_birth(&self) -> DateOfBirth {
        self.date_of_birth
    }
    /// Administrative sex.
    pub fn sex(&self) -> Sex {
        self.sex
    }
    /// Telephone number, when given.
    pub fn phone(&self) -> Option<&Phone> {
        self.phone.as_ref()
    }
    /// Email address, when given.
    pub fn email(&self) -> Option<&Email> {
        self.email.as_ref()
    }
}

/// The longest postal address accepted, in characters.
pub const MAX_ADDRESS_CHARS: usize = 300;

/// A postal address as typed: line breaks kept (one line per part), at most
/// [`MAX_ADDRESS_CHARS`] characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address(String);

impl Address {
    /// Parses an address; Windows line breaks become plain ones and blank lines are dropped.
    pub fn parse(input: &str) -> Result<Self, PatientError> {
        let lines: Vec<&str> = input
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let text = lines.join("\n");
        let len = text.chars().count();
        if len > MAX_ADDRESS_CHARS {
            return Err(PatientError::AddressTooLong { len });
        }
        if text.chars().any(|c| c.is_control() && c != '\n')
            || crate::text::has_invisible_mark(&text)
        {
            return Err(PatientError::AddressUnreadable);
        }
        Ok(Address(text))
    }

    /// The address, one line per part.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Loose input for the contact details front-desk staff keep up to date, as typed in the form.
#[derive(Debug, Clone, Default)]
pub struct ContactInput {
    /// Telephone number; empty when not given.
    pub phone: String,
    /// Email address; empty when not given.
    pub email: String,
    /// Postal address; empty when not given.
    pub address: String,
    /// Who to call in an emergency (a name, perhaps with the relationship); empty when not given.
    pub emergency_contact_name: String,
    /// Their telephone number; empty when not given.
    pub emergency_contact_phone: String,
}

/// Validated contact details, every one optional.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContactDetails {
    /// Telephone number.
    pub phone: Option<Phone>,
    /// Email address.
    pub email: Option<Email>,
    /// Postal address.
    pub address: Option<Address>,
    /// The emergency contact's name.
    pub emergency_contact_name: Option<PersonName>,
    /// The emergency contact's telephone number.
    pub emergency_contact_phone: Option<Phone>,
}

impl ContactInput {
    /// Checks every field and returns the details or every problem found.
    pub fn validate(&self) -> Result<ContactDetails, Vec<PatientError>> {
        let mut errors = Vec::new();
        let phone = optional(&mut errors, &self.phone, Phone::parse);
        let email = optional(&mut errors, &self.email, Email::parse);
        let address = optional(&mut errors, &self.address, Address::parse);
        let contact_name = optional(&mut errors, &self.emergency_contact_name, |s| {
            PersonName::parse("emergency_contact_name", s)
        });
        let contact_phone = optional(&mut errors, &self.emergency_contact_phone, |s| {
            Phone::parse_field("emergency_contact_phone", s)
        });
        match (phone, email, address, contact_name, contact_phone) {
            (
                Some(phone),
                Some(email),
                Some(address),
                Some(emergency_contact_name),
                Some(emergency_contact_phone),
            ) => Ok(ContactDetails {
                phone,
                email,
                address,
                emergency_contact_name,
                emergency_contact_phone,
            }),
            _ => Err(errors),
        }
    }
}
