//! Following up a safety alert: how the patient was reached, what was done, and a note.
//!
//! A positive safety item (PHQ-9 item 9, EPDS item 10, MOAA/S 0) raises an alert that a
//! clinician must follow up the same day. Closing it without saying what happened would leave no
//! clinical trace, so a follow-up is only valid with a way of contact, at least one action and a
//! note; [`FollowUpInput::validate`] reports every missing part at once.
//!
//! The lists are the clinic's workflow vocabulary, not clinical thresholds: they carry no number.

/// How the clinician reached the patient (or tried to).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contact {
    /// Spoke by telephone.
    Phone,
    /// Saw the patient at the clinic.
    InPerson,
    /// A video call.
    Video,
    /// Could not reach the patient.
    NotReached,
}

impl Contact {
    /// Every way, in the order forms list them.
    pub const ALL: [Contact; 4] = [
        Contact::Phone,
        Contact::InPerson,
        Contact::Video,
        Contact::NotReached,
    ];

    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            Contact::Phone => "phone",
            Contact::InPerson => "in_person",
            Contact::Video => "video",
            Contact::NotReached => "not_reached",
        }
    }

    /// Words for people.
    pub fn label(self) -> &'static str {
        match self {
            Contact::Phone => "By telephone",
            Contact::InPerson => "In person",
            Contact::Video => "By video call",
            Contact::NotReached => "Could not reach the patient",
        }
    }

    /// Parses a stored or submitted code.
    pub fn parse(code: &str) -> Option<Contact> {
        Contact::ALL.into_iter().find(|c| c.code() == code.trim())
    }
}

/// What the clinician did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Went through the patient's safety plan with them.
    SafetyPlanReviewed,
    /// Gave the crisis line.
    CrisisLineGiven,
    /// Called emergency services.
    EmergencyServicesCalled,
    /// Told the prescriber.
    PrescriberInformed,
    /// Brought the next visit forward.
    VisitBroughtForward,
    /// Will try to reach the patient again.
    WillTryAgain,
}

impl Action {
    /// Every action, in the order forms list them.
    pub const ALL: [Action; 6] = [
        Action::SafetyPlanReviewed,
        Action::CrisisLineGiven,
        Action::EmergencyServicesCalled,
        Action::PrescriberInformed,
        Action::VisitBroughtForward,
        Action::WillTryAgain,
    ];

    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            Action::SafetyPlanReviewed => "safety_plan_reviewed",
            Action::CrisisLineGiven => "crisis_line_given",
            Action::EmergencyServicesCalled => "emergency_services_called",
            Action::PrescriberInformed => "prescriber_informed",
            Action::VisitBroughtForward => "visit_brought_forward",
            Action::WillTryAgain => "will_try_again",
        }
    }

    /// Words for people.
    pub fn label(self) -> &'static str {
        match self {
            Action::SafetyPlanReviewed => "Safety plan reviewed",
            Action::CrisisLineGiven => "Crisis line given",
            Action::EmergencyServicesCalled => "Emergency services called",
            Action::PrescriberInformed => "Prescriber informed",
            Action::VisitBroughtForward => "Next visit brought forward",
            Action::WillTryAgain => "Will try to reach the patient again",
        }
    }

    /// Parses a stored or submitted code.
    pub fn parse(code: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.code() == code.trim())
    }
}

/// The longest follow-up note accepted, in characters (a few paragraphs).
pub const MAX_NOTE_CHARS: usize = 4000;

/// A follow-up as submitted, unchecked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FollowUpInput {
    /// A [`Contact`] code.
    pub contact: String,
    /// [`Action`] codes.
    pub actions: Vec<String>,
    /// What happened, in the clinician's words.
    pub note: String,
}

/// A complete follow-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowUp {
    contact: Contact,
    actions: Vec<Action>,
    note: String,
}

impl FollowUp {
    /// How the patient was reached.
    pub fn contact(&self) -> Contact {
        self.contact
    }

    /// What was done, each once, in the order of [`Action::ALL`].
    pub fn actions(&self) -> &[Action] {
        &self.actions
    }

    /// The note, trimmed.
    pub fn note(&self) -> &str {
        &self.note
    }
}

/// A missing or wrong part of a follow-up, with the form field it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FollowUpError {
    /// No way of contact chosen.
    #[error("choose how you reached the patient, or that you could not")]
    NoContact,
    /// No action chosen, or an unknown one.
    #[error("choose at least one thing you did")]
    NoAction,
    /// An action code that is not in the list.
    #[error("'{0}' is not one of the actions listed; choose from the list")]
    UnknownAction(String),
    /// An empty note.
    #[error("write what happened: who you spoke to, what they said, what was agreed")]
    NoNote,
    /// A note over [`MAX_NOTE_CHARS`].
    #[error("the note has {0} characters; shorten it to at most {MAX_NOTE_CHARS}")]
    NoteTooLong(usize),
}

impl FollowUpError {
    /// The form field the problem belongs to.
    pub fn field(&self) -> &'static str {
        match self {
            FollowUpError::NoContact => "contact",
            FollowUpError::NoAction | FollowUpError::UnknownAction(_) => "actions",
            FollowUpError::NoNote | FollowUpError::NoteTooLong(_) => "note",
        }
    }
}

impl FollowUpInput {
    /// Checks every part; all problems at once.
    pub fn validate(&self) -> Result<FollowUp, Vec<FollowUpError>> {
        let mut problems = Vec::new();
        let contact = Contact::parse(&self.contact);
        if contact.is_none() {
            problems.push(FollowUpError::NoContact);
        }
        let mut actions = Vec::new();
        for code in self.actions.iter().filter(|c| !c.trim().is_empty()) {
            match Action::parse(code) {
                Some(a) if !actions.contains(&a) => actions.push(a),
                Some(_) => {}
                None => problems.push(FollowUpError::UnknownAction(crate::text::shown(code))),
            }
        }
        if actions.is_empty() && !problems.iter().any(|p| p.field() == "actions") {
            problems.push(FollowUpError::NoAction);
        }
        actions.sort_by_key(|a| Action::ALL.iter().position(|b| b == a));
        let note = self.note.trim();
        let chars = note.chars().count();
        if chars == 0 {
            problems.push(FollowUpError::NoNote);
        } else if chars > MAX_NOTE_CHARS {
            problems.push(FollowUpError::NoteTooLong(chars));
        }
        match contact {
            Some(contact) if problems.is_empty() => Ok(FollowUp {
                contact,
                actions,
                note: note.to_owned(),
            }),
            _ => Err(problems),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_follow_up_needs_a_contact_an_action_and_a_note() {
        let empty = FollowUpInput::default().validate().unwrap_err();
        let fields: Vec<_> = empty.iter().map(FollowUpError::field).collect();
        assert_eq!(fields, ["contact", "actions", "note"]);

        let odd = FollowUpInput {
            contact: "carrier pigeon".into(),
            actions: vec!["crisis_line_given".into(), "hope".into()],
            note: "x".repeat(MAX_NOTE_CHARS + 1),
        }
        .validate()
        .unwrap_err();
        assert_eq!(
            odd,
            [
                FollowUpError::NoContact,
                FollowUpError::UnknownAction("hope".into()),
                FollowUpError::NoteTooLong(MAX_NOTE_CHARS + 1)
            ]
        );

        let done = FollowUpInput {
            contact: "phone".into(),
            actions: vec![
                "crisis_line_given".into(),
                "safety_plan_reviewed".into(),
                "crisis_line_given".into(),
            ],
            note: "  Spoke with the patient; safe tonight, partner at home.  ".into(),
        }
        .validate()
        .unwrap();
        assert_eq!(done.contact(), Contact::Phone);
        assert_eq!(
            done.actions(),
            [Action::SafetyPlanReviewed, Action::CrisisLineGiven]
        );
        assert_eq!(
            done.note(),
            "Spoke with the patient; safe tonight, partner at home."
        );
    }

    #[test]
    fn codes_round_trip() {
        for c in Contact::ALL {
            assert_eq!(Contact::parse(c.code()), Some(c));
        }
        for a in Action::ALL {
            assert_eq!(Action::parse(a.code()), Some(a));
        }
    }
}
