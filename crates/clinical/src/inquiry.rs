//! A prospective patient's inquiry from the public page: how to reach them, never their health.
//!
//! The form has no field for symptoms, diagnoses or medications, and [`InquiryInput`] holds only
//! the allow-listed fields, so nothing else a browser sends can be kept. The one free-text line
//! (questions about the clinic) is short and the page asks people not to put health details in it.

use crate::patient::{Email, PatientError, PersonName, Phone, keep, optional};

/// The longest question accepted, in characters.
pub const MAX_QUESTION_CHARS: usize = 300;

/// When the person prefers to be called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactTime {
    /// Mornings.
    Mornings,
    /// Afternoons.
    Afternoons,
    /// Evenings.
    Evenings,
    /// Weekends.
    Weekends,
}

impl ContactTime {
    /// Every choice, in form order.
    pub const ALL: [ContactTime; 4] = [
        ContactTime::Mornings,
        ContactTime::Afternoons,
        ContactTime::Evenings,
        ContactTime::Weekends,
    ];

    /// Stored code.
    pub fn code(self) -> &'static str {
        match self {
            ContactTime::Mornings => "mornings",
            ContactTime::Afternoons => "afternoons",
            ContactTime::Evenings => "evenings",
            ContactTime::Weekends => "weekends",
        }
    }

    /// Words for people.
    pub fn label(self) -> &'static str {
        match self {
            ContactTime::Mornings => "Mornings",
            ContactTime::Afternoons => "Afternoons",
            ContactTime::Evenings => "Evenings",
            ContactTime::Weekends => "Weekends",
        }
    }

    /// The choice with this code.
    pub fn parse(code: &str) -> Option<ContactTime> {
        ContactTime::ALL.into_iter().find(|c| c.code() == code)
    }
}

/// How the person heard of the clinic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeardFrom {
    /// Referred by a clinician.
    Clinician,
    /// A web search.
    Search,
    /// A friend or relative.
    FriendOrFamily,
    /// Social media.
    SocialMedia,
    /// Something else.
    Other,
}

impl HeardFrom {
    /// Every choice, in form order.
    pub const ALL: [HeardFrom; 5] = [
        HeardFrom::Clinician,
        HeardFrom::Search,
        HeardFrom::FriendOrFamily,
        HeardFrom::SocialMedia,
        HeardFrom::Other,
    ];

    /// Stored code.
    pub fn code(self) -> &'static str {
        match self {
            HeardFrom::Clinician => "clinician",
            HeardFrom::Search => "search",
            HeardFrom::FriendOrFamily => "friend_or_family",
            HeardFrom::SocialMedia => "social_media",
            HeardFrom::Other => "other",
        }
    }

    /// Words for people.
    pub fn label(self) -> &'static str {
        match self {
            HeardFrom::Clinician => "My doctor or therapist referred me",
            HeardFrom::Search => "A web search",
            HeardFrom::FriendOrFamily => "A friend or relative",
            HeardFrom::SocialMedia => "Social media",
            HeardFrom::Other => "Somewhere else",
        }
    }

    /// The choice with this code.
    pub fn parse(code: &str) -> Option<HeardFrom> {
        HeardFrom::ALL.into_iter().find(|c| c.code() == code)
    }
}

/// Where an inquiry stands at the front desk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InquiryStatus {
    /// Not yet answered.
    New,
    /// The clinic reached the person.
    Contacted,
    /// An intake appointment is booked.
    BookedForIntake,
    /// Not taken further (the person declined, or the clinic cannot help).
    Declined,
}

impl InquiryStatus {
    /// Every status, in the order of the work.
    pub const ALL: [InquiryStatus; 4] = [
        InquiryStatus::New,
        InquiryStatus::Contacted,
        InquiryStatus::BookedForIntake,
        InquiryStatus::Declined,
    ];

    /// Stored code.
    pub fn code(self) -> &'static str {
        match self {
            InquiryStatus::New => "new",
            InquiryStatus::Contacted => "contacted",
            InquiryStatus::BookedForIntake => "booked_for_intake",
            InquiryStatus::Declined => "declined",
        }
    }

    /// Words for people.
    pub fn label(self) -> &'static str {
        match self {
            InquiryStatus::New => "New",
            InquiryStatus::Contacted => "Contacted",
            InquiryStatus::BookedForIntake => "Booked for intake",
            InquiryStatus::Declined => "Declined",
        }
    }

    /// The status with this code.
    pub fn parse(code: &str) -> Option<InquiryStatus> {
        InquiryStatus::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Whether inquiries of this status are still to be worked (new, contacted): a queue,
    /// answered oldest first. The others are a record, read newest first.
    pub fn is_open(self) -> bool {
        matches!(self, InquiryStatus::New | InquiryStatus::Contacted)
    }
}

/// Why an inquiry was refused; each names its field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InquiryError {
    /// A name, telephone number or email address is not right.
    #[error("{0}")]
    Contact(PatientError),
    /// Neither a telephone number nor an email address.
    #[error("give a telephone number or an email address, so the clinic can reach you")]
    NoWayToReach,
    /// A choice that is not on the form.
    #[error("choose from the list")]
    UnknownChoice {
        /// The field.
        field: &'static str,
    },
    /// The question is longer than [`MAX_QUESTION_CHARS`].
    #[error(
        "the question is {len} characters long; at most {MAX_QUESTION_CHARS} fit here, and the clinic will answer the rest when they call"
    )]
    QuestionTooLong {
        /// Its length.
        len: usize,
    },
    /// The question holds a control character or an invisible mark.
    #[error(
        "the question contains a control character or an invisible mark; type it again without pasting it"
    )]
    QuestionUnreadable,
}

impl From<PatientError> for InquiryError {
    fn from(e: PatientError) -> Self {
        InquiryError::Contact(e)
    }
}

impl InquiryError {
    /// The form field the error is about.
    pub fn field(&self) -> &'static str {
        match self {
            InquiryError::Contact(e) => e.field(),
            InquiryError::NoWayToReach => "phone",
            InquiryError::UnknownChoice { field } => field,
            InquiryError::QuestionTooLong { .. } | InquiryError::QuestionUnreadable => "question",
        }
    }
}

/// An inquiry as typed in the public form: the allow-listed fields only.
#[derive(Debug, Clone, Default)]
pub struct InquiryInput {
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// Telephone number; empty when not given.
    pub phone: String,
    /// Email address; empty when not given.
    pub email: String,
    /// Codes of the preferred contact times.
    pub contact_times: Vec<String>,
    /// Code of how they heard of the clinic; empty when not said.
    pub heard_from: String,
    /// A question about the clinic; empty when none.
    pub question: String,
}

/// A checked inquiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inquiry {
    /// Given name.
    pub given_name: PersonName,
    /// Family name.
    pub family_name: PersonName,
    /// Telephone number.
    pub phone: Option<Phone>,
    /// Email address.
    pub email: Option<Email>,
    /// Preferred contact times, without repeats.
    pub contact_times: Vec<ContactTime>,
    /// How they heard of the clinic.
    pub heard_from: Option<HeardFrom>,
    /// Their question, trimmed.
    pub question: Option<String>,
}

impl InquiryInput {
    /// Checks every field and returns the inquiry or every problem found.
    pub fn validate(&self) -> Result<Inquiry, Vec<InquiryError>> {
        let mut errors = Vec::new();
        let given = keep(
            &mut errors,
            PersonName::parse("given_name", &self.given_name),
        );
        let family = keep(
            &mut errors,
            PersonName::parse("family_name", &self.family_name),
        );
        let phone = optional(&mut errors, &self.phone, Phone::parse);
        let email = optional(&mut errors, &self.email, Email::parse);
        if self.phone.trim().is_empty() && self.email.trim().is_empty() {
            errors.push(InquiryError::NoWayToReach);
        }
        let mut contact_times = Vec::new();
        for code in &self.contact_times {
            match ContactTime::parse(code.trim()) {
                Some(t) if !contact_times.contains(&t) => contact_times.push(t),
                Some(_) => {}
                None => {
                    errors.push(InquiryError::UnknownChoice {
                        field: "contact_times",
                    });
                    break;
                }
            }
        }
        let heard_from = match self.heard_from.trim() {
            "" => None,
            code => match HeardFrom::parse(code) {
                Some(h) => Some(h),
                None => {
                    errors.push(InquiryError::UnknownChoice {
                        field: "heard_from",
                    });
                    None
                }
            },
        };
        let question = match crate::text::optional_line(&self.question, MAX_QUESTION_CHARS) {
            Ok(q) => q,
            Err(crate::text::TextProblem::TooLong { .. }) => {
                let len = self.question.trim().chars().count();
                errors.push(InquiryError::QuestionTooLong { len });
                None
            }
            Err(_) => {
                errors.push(InquiryError::QuestionUnreadable);
                None
            }
        };
        match (given, family, phone, email, errors.is_empty()) {
            (Some(given_name), Some(family_name), Some(phone), Some(email), true) => Ok(Inquiry {
                given_name,
                family_name,
                phone,
                email,
                contact_times,
                heard_from,
                question: question.map(str::to_owned),
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> InquiryInput {
        InquiryInput {
            given_name: "Ana".into(),
            family_name: "Ortiz".into(),
            phone: "555 010 0100".into(),
            contact_times: vec!["evenings".into(), "evenings".into(), "mornings".into()],
            heard_from: "search".into(),
            question: "  Do you take evening appointments?  ".into(),
            ..InquiryInput::default()
        }
    }

    #[test]
    fn a_good_inquiry_keeps_only_what_it_needs() {
        let i = input().validate().expect("valid");
        assert_eq!(
            i.contact_times,
            vec![ContactTime::Evenings, ContactTime::Mornings]
        );
        assert_eq!(i.heard_from, Some(HeardFrom::Search));
        assert_eq!(
            i.question.as_deref(),
            Some("Do you take evening appointments?")
        );
        assert_eq!(i.email, None);
        let bare = InquiryInput {
            email: "ana@example.org".into(),
            phone: String::new(),
            contact_times: vec![],
            heard_from: String::new(),
            question: String::new(),
            ..input()
        };
        assert!(bare.validate().is_ok());
    }

    #[test]
    fn each_problem_is_named_at_its_field() {
        let errors = InquiryInput {
            given_name: " ".into(),
            phone: String::new(),
            email: String::new(),
            contact_times: vec!["midnight".into()],
            heard_from: "tv".into(),
            question: "x".repeat(MAX_QUESTION_CHARS + 1),
            ..input()
        }
        .validate()
        .expect_err("five problems");
        let fields: Vec<_> = errors.iter().map(InquiryError::field).collect();
        assert_eq!(
            fields,
            [
                "given_name",
                "phone",
                "contact_times",
                "heard_from",
                "question"
            ]
        );
        let bad_email = InquiryInput {
            email: "not an address".into(),
            ..input()
        }
        .validate()
        .expect_err("bad email");
        assert_eq!(bad_email[0].field(), "email");
        // A direction override or a bell in the question, or an override in the address.
        for (question, email) in [
            ("Evening \u{202E}appointments?", "ana@example.org"),
            ("Evening appointments?\u{7}", "ana@example.org"),
            ("", "ana\u{202E}gro.elpmaxe@evil.example"),
        ] {
            let e = InquiryInput {
                question: question.into(),
                email: email.into(),
                ..input()
            }
            .validate()
            .expect_err(question);
            let want = if question.is_empty() {
                "email"
            } else {
                "question"
            };
            assert_eq!(e[0].field(), want, "{question:?}");
        }
        for code in ["new", "contacted", "booked_for_intake", "declined"] {
            assert_eq!(
                InquiryStatus::parse(code).map(InquiryStatus::code),
                Some(code)
            );
        }
    }
}
