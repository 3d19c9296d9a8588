//! The treatment session in the chair: its steps and the order they must come in, vital signs
//! and the alerts they raise, when the next check is due, the discharge checklist, adverse
//! events and the Spravato REMS Patient Monitoring Form.
//!
//! Facts and their sources: research `clinical.md` §2 (IV protocols), §3.2–3.3 (Spravato session
//! monitoring and REMS) and §6.1 (blood pressure during ketamine). Every threshold here is a
//! setting with the conservative published value as its default.

use jiff::{SignedDuration, Timestamp};

use crate::course::Product;

mod scales;
pub use scales::*;

/// A free text the session room records: a note, an adverse event's description, the reason
/// for overriding a dose limit, a lot number, the action taken on an alert or adverse event, an
/// addendum to a signed record. Each is checked with [`crate::text`]: within its length (not
/// clinical limits: room for any real text, and a bound on what a signed record keeps), and
/// without a control character or an invisible mark; only a note, a description and an
/// addendum may run over lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionText {
    /// A note on the pre-session assessment or a pump event.
    Note,
    /// What happened, for an adverse event.
    Description,
    /// Why a dose over the order or the cap is given.
    OverrideReason,
    /// The lot number of what was given.
    Lot,
    /// The action taken on an alert or an adverse event.
    Action,
    /// An addendum to a signed record.
    Addendum,
}

impl SessionText {
    /// Every session text.
    pub const ALL: [SessionText; 6] = [
        SessionText::Note,
        SessionText::Description,
        SessionText::OverrideReason,
        SessionText::Lot,
        SessionText::Action,
        SessionText::Addendum,
    ];

    /// The most characters it holds; a lot number as the ledger's.
    pub fn max_chars(self) -> usize {
        match self {
            SessionText::Note | SessionText::Description => 2000,
            SessionText::OverrideReason | SessionText::Action => 500,
            SessionText::Lot => crate::ledger::TextField::Lot.max_chars(),
            SessionText::Addendum => 10_000,
        }
    }

    /// Its name on the form.
    pub fn label(self) -> &'static str {
        match self {
            SessionText::Note => "Note",
            SessionText::Description => "Description",
            SessionText::OverrideReason => "Reason",
            SessionText::Lot => "Lot number",
            SessionText::Action => "Action taken",
            SessionText::Addendum => "Addendum",
        }
    }

    /// Checks a text as typed: trimmed, `None` when empty.
    pub fn check(self, input: &str) -> Result<Option<&str>, crate::text::TextProblem> {
        match self {
            SessionText::Note | SessionText::Description | SessionText::Addendum => {
                crate::text::optional_lines(input, self.max_chars())
            }
            SessionText::OverrideReason | SessionText::Lot | SessionText::Action => {
                crate::text::optional_line(input, self.max_chars())
            }
        }
    }
}

/// The checked value of one [`SessionText`]: made only by its `parse`, so a store that takes it
/// can trust the text is trimmed, within its length and readable.
pub trait CheckedText<'a>: Sized {
    /// The kind of text it is.
    const KIND: SessionText;

    /// Checks a text as typed ([`SessionText::check`]): `None` when it is empty.
    fn parse(input: &'a str) -> Result<Option<Self>, crate::text::TextProblem>;
}

/// Declares a [`CheckedText`] of the session room.
macro_rules! checked_session_text {
    ($(#[$doc:meta])* $name:ident => $kind:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $name<'a>(&'a str);

        impl<'a> CheckedText<'a> for $name<'a> {
            const KIND: SessionText = $kind;

            fn parse(input: &'a str) -> Result<Option<Self>, crate::text::TextProblem> {
                Ok(Self::KIND.check(input)?.map(Self))
            }
        }

        impl<'a> $name<'a> {
            /// The checked text.
            pub fn as_str(self) -> &'a str {
                self.0
            }
        }
    };
}

checked_session_text!(
    /// A checked note on the pre-session assessment or a pump event.
    SessionNote => SessionText::Note
);
checked_session_text!(
    /// A checked description of an adverse event.
    EventDescription => SessionText::Description
);
checked_session_text!(
    /// A checked reason for giving a dose over the order or the cap.
    OverrideReason => SessionText::OverrideReason
);
checked_session_text!(
    /// A checked lot number of what was given.
    LotNumber => SessionText::Lot
);
checked_session_text!(
    /// A checked account of the action taken on an alert or an adverse event.
    ActionTaken => SessionText::Action
);
checked_session_text!(
    /// A checked addendum to a signed record.
    AddendumText => SessionText::Addendum
);

/// The pregnancy test recorded before a session. Spravato is not recommended in pregnancy and
/// is stopped if a pregnancy occurs (research `clinical.md` §5, contraindications and
/// precautions), so the pre-session assessment records a negative test today, or that a test
/// does not apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PregnancyTest {
    /// Negative today.
    Negative,
    /// Not applicable to this patient.
    NotApplicable,
}

impl PregnancyTest {
    /// Stored code.
    pub fn code(self) -> &'static str {
        match self {
            PregnancyTest::Negative => "negative",
            PregnancyTest::NotApplicable => "not_applicable",
        }
    }

    /// Parses a stored code.
    pub fn parse(code: &str) -> Option<PregnancyTest> {
        match code {
            "negative" => Some(PregnancyTest::Negative),
            "not_applicable" => Some(PregnancyTest::NotApplicable),
            _ => None,
        }
    }

    /// In words, as the form offers it.
    pub fn label(self) -> &'static str {
        match self {
            PregnancyTest::Negative => "negative today",
            PregnancyTest::NotApplicable => "not applicable",
        }
    }
}

/// Why a session ended before any drug was given. A session is checked in before the
/// pre-session assessment, so what that assessment finds can stop it: a blood pressure too high
/// to dose (the Ketalar label, 10/2024, §5.1, warns of raised pressure and names conditions
/// where it would be a serious hazard; research `clinical.md` §5), a positive pregnancy test
/// ([`PregnancyTest`]), no escort home, not fasting. The patient may also decline, or a
/// clinician judge that today is not safe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotGivenReason {
    /// Blood pressure or another vital sign outside what the clinic doses at.
    Vitals,
    /// A positive pregnancy test.
    PregnancyTest,
    /// Nobody to take the patient home.
    NoEscort,
    /// Not fasting as the clinic's policy asks.
    NotFasting,
    /// A clinician judged dosing unsafe today (the note says why).
    ClinicalJudgement,
    /// The patient declined today's dose.
    Declined,
    /// Another reason (the note says which).
    Other,
}

impl NotGivenReason {
    /// Every reason, in the order the form offers them.
    pub const ALL: [NotGivenReason; 7] = [
        NotGivenReason::Vitals,
        NotGivenReason::PregnancyTest,
        NotGivenReason::NoEscort,
        NotGivenReason::NotFasting,
        NotGivenReason::ClinicalJudgement,
        NotGivenReason::Declined,
        NotGivenReason::Other,
    ];

    /// Stored code.
    pub fn code(self) -> &'static str {
        match self {
            NotGivenReason::Vitals => "vitals",
            NotGivenReason::PregnancyTest => "pregnancy_test",
            NotGivenReason::NoEscort => "no_escort",
            NotGivenReason::NotFasting => "not_fasting",
            NotGivenReason::ClinicalJudgement => "clinical_judgement",
            NotGivenReason::Declined => "declined",
            NotGivenReason::Other => "other",
        }
    }

    /// Parses a stored code.
    pub fn parse(code: &str) -> Option<NotGivenReason> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }

    /// In words, as the form offers it.
    pub fn label(self) -> &'static str {
        match self {
            NotGivenReason::Vitals => {
                "Blood pressure or another vital sign too far out of range to dose"
            }
            NotGivenReason::PregnancyTest => "Pregnancy test positive",
            NotGivenReason::NoEscort => "No responsible adult to take the patient home",
            NotGivenReason::NotFasting => "Not fasting as the clinic's policy asks",
            NotGivenReason::ClinicalJudgement => "A clinician judged dosing unsafe today",
            NotGivenReason::Declined => "The patient declined today's dose",
            NotGivenReason::Other => "Another reason",
        }
    }

    /// Whether the note must say more: a clinician's judgement says what was judged, and
    /// another reason says which.
    pub fn needs_note(self) -> bool {
        matches!(
            self,
            NotGivenReason::ClinicalJudgement | NotGivenReason::Other
        )
    }
}

/// How a Spravato REMS form went to the program: online at SpravatoREMS.com or by fax
/// (research `clinical.md` §3.3, the Patient Monitoring Form and enrollment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemsChannel {
    /// Online, on the REMS website.
    Online,
    /// By fax.
    Fax,
}

impl RemsChannel {
    /// Stored code.
    pub fn code(self) -> &'static str {
        match self {
            RemsChannel::Online => "online",
            RemsChannel::Fax => "fax",
        }
    }

    /// Parses a stored code.
    pub fn parse(code: &str) -> Option<RemsChannel> {
        match code {
            "online" => Some(RemsChannel::Online),
            "fax" => Some(RemsChannel::Fax),
            _ => None,
        }
    }

    /// In words.
    pub fn label(self) -> &'static str {
        match self {
            RemsChannel::Online => "online",
            RemsChannel::Fax => "by fax",
        }
    }
}

/// Where a session stands. A session begins when the patient is checked in for a booked
/// appointment and ends when the prescriber signs and locks it; after that only addenda.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionStatus {
    /// The patient has arrived.
    CheckedIn,
    /// Pre-session vitals, scales, escort and fasting are recorded.
    PreAssessed,
    /// The dose is computed from the signed order and verified (for IV, by a second person).
    DoseVerified,
    /// The drug is being given (infusion running, or nasal devices being used).
    Administering,
    /// An infusion is paused.
    Paused,
    /// Administration is over; the patient is observed.
    Monitoring,
    /// The discharge checklist is complete and the patient has left.
    Discharged,
    /// Signed by the prescriber; only addenda from now on.
    Locked,
}

impl SessionStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [SessionStatus; 8] = [
        SessionStatus::CheckedIn,
        SessionStatus::PreAssessed,
        SessionStatus::DoseVerified,
        SessionStatus::Administering,
        SessionStatus::Paused,
        SessionStatus::Monitoring,
        SessionStatus::Discharged,
        SessionStatus::Locked,
    ];

    /// Stored and wire code.
    pub fn code(self) -> &'static str {
        match self {
            SessionStatus::CheckedIn => "checked_in",
            SessionStatus::PreAssessed => "pre_assessed",
            SessionStatus::DoseVerified => "dose_verified",
            SessionStatus::Administering => "administering",
            SessionStatus::Paused => "paused",
            SessionStatus::Monitoring => "monitoring",
            SessionStatus::Discharged => "discharged",
            SessionStatus::Locked => "locked",
        }
    }

    /// In words.
    pub fn label(self) -> &'static str {
        match self {
            SessionStatus::CheckedIn => "Checked in",
            SessionStatus::PreAssessed => "Pre-assessment done",
            SessionStatus::DoseVerified => "Dose verified",
            SessionStatus::Administering => "Administering",
            SessionStatus::Paused => "Infusion paused",
            SessionStatus::Monitoring => "Monitoring",
            SessionStatus::Discharged => "Discharged",
            SessionStatus::Locked => "Signed and locked",
        }
    }

    /// Parses a code.
    pub fn parse(code: &str) -> Option<SessionStatus> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Whether the patient is in the chair (checked in, not yet discharged).
    pub fn is_active(self) -> bool {
        !matches!(self, SessionStatus::Discharged | SessionStatus::Locked)
    }

    /// Whether vitals, alerts and adverse events may still be recorded (not locked).
    pub fn is_open(self) -> bool {
        self != SessionStatus::Locked
    }

    /// Before dosing, what the session waits for, in words: no vital-sign check is due then
    /// ([`next_check`]), because the pre-assessment takes the vitals before dosing.
    pub fn before_dosing(self) -> Option<&'static str> {
        match self {
            SessionStatus::CheckedIn => {
                Some("none until the pre-assessment, which takes the vitals before dosing")
            }
            SessionStatus::PreAssessed => {
                Some("none until dosing starts; the dose is to be verified")
            }
            SessionStatus::DoseVerified => Some("none until dosing starts"),
            _ => None,
        }
    }
}

/// How a product is given, which decides the steps a session takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// An IV infusion by pump: it can be paused, resumed and its rate changed, and a second
    /// staff member confirms the dose.
    Infusion,
    /// One administration watched by staff (nasal devices, an injection, a lozenge).
    Observed,
}

impl Delivery {
    /// How a course's product is given.
    pub fn of(product: Product) -> Delivery {
        match product {
            Product::IvRacemic => Delivery::Infusion,
            _ => Delivery::Observed,
        }
    }
}

/// What a member of staff asks the session to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    /// Record the pre-session assessment.
    PreAssess,
    /// Verify the dose.
    VerifyDose,
    /// Start the infusion, or give the first device or dose.
    Start,
    /// Pause the infusion.
    Pause,
    /// Resume a paused infusion.
    Resume,
    /// Change the infusion's rate.
    ChangeRate,
    /// Stop the infusion, or record that the last device or dose was given.
    Stop,
    /// Discharge after the checklist.
    Discharge,
    /// Sign and lock.
    Lock,
    /// End the session before any drug is given (the patient leaves undosed), with why.
    EndUndosed,
}

impl Step {
    /// Every step.
    pub const ALL: [Step; 10] = [
        Step::PreAssess,
        Step::VerifyDose,
        Step::Start,
        Step::Pause,
        Step::Resume,
        Step::ChangeRate,
        Step::Stop,
        Step::Discharge,
        Step::Lock,
        Step::EndUndosed,
    ];

    /// Stored code (pump events use it).
    pub fn code(self) -> &'static str {
        match self {
            Step::PreAssess => "pre_assess",
            Step::VerifyDose => "verify_dose",
            Step::Start => "start",
            Step::Pause => "pause",
            Step::Resume => "resume",
            Step::ChangeRate => "rate",
            Step::Stop => "stop",
            Step::Discharge => "discharge",
            Step::Lock => "lock",
            Step::EndUndosed => "end_undosed",
        }
    }

    /// Parses a code.
    pub fn parse(code: &str) -> Option<Step> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// In words, as a button says it.
    pub fn label(self, delivery: Delivery) -> &'static str {
        match (self, delivery) {
            (Step::PreAssess, _) => "record the pre-session assessment",
            (Step::VerifyDose, _) => "verify the dose",
            (Step::Start, Delivery::Infusion) => "start the infusion",
            (Step::Start, Delivery::Observed) => "record the first dose given",
            (Step::Pause, _) => "pause the infusion",
            (Step::Resume, _) => "resume the infusion",
            (Step::ChangeRate, _) => "change the infusion rate",
            (Step::Stop, Delivery::Infusion) => "stop the infusion",
            (Step::Stop, Delivery::Observed) => "record that administration is complete",
            (Step::Discharge, _) => "discharge the patient",
            (Step::Lock, _) => "sign and lock the session",
            (Step::EndUndosed, _) => "end the session without dosing",
        }
    }
}

/// Why a step cannot be taken now, saying what must happen first.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {step} while the session is “{status}”: {first}")]
pub struct StepRefused {
    /// The step asked for, in words.
    pub step: &'static str,
    /// The session's status, in words.
    pub status: &'static str,
    /// What must happen first.
    pub first: &'static str,
}

/// The status a step leads to from `from`, or why it cannot be taken. This is the whole state
/// machine: every pair not listed is refused.
pub fn check_step(
    from: SessionStatus,
    step: Step,
    delivery: Delivery,
) -> Result<SessionStatus, StepRefused> {
    use SessionStatus as S;
    let to = match (from, step, delivery) {
        (S::CheckedIn | S::PreAssessed, Step::PreAssess, _) => Some(S::PreAssessed),
        (S::PreAssessed | S::DoseVerified, Step::VerifyDose, _) => Some(S::DoseVerified),
        (S::DoseVerified, Step::Start, _) => Some(S::Administering),
        (S::Administering, Step::Pause, Delivery::Infusion) => Some(S::Paused),
        (S::Paused, Step::Resume, Delivery::Infusion) => Some(S::Administering),
        (S::Administering, Step::ChangeRate, Delivery::Infusion) => Some(S::Administering),
        (S::Administering | S::Paused, Step::Stop, _) => Some(S::Monitoring),
        (S::Monitoring, Step::Discharge, _) => Some(S::Discharged),
        (S::Discharged, Step::Lock, _) => Some(S::Locked),
        // Nothing given yet: the patient may leave undosed (the record says why).
        (S::CheckedIn | S::PreAssessed | S::DoseVerified, Step::EndUndosed, _) => {
            Some(S::Discharged)
        }
        _ => None,
    };
    to.ok_or_else(|| StepRefused {
        step: step.label(delivery),
        status: from.label(),
        first: what_first(from, step, delivery),
    })
}

fn what_first(from: SessionStatus, step: Step, delivery: Delivery) -> &'static str {
    use SessionStatus as S;
    if from == S::Locked {
        return "the session is signed and locked; add an addendum instead";
    }
    if matches!(step, Step::Pause | Step::Resume | Step::ChangeRate)
        && delivery == Delivery::Observed
    {
        return "only an IV infusion can be paused, resumed or have its rate changed";
    }
    if step == Step::EndUndosed {
        return match from {
            S::Discharged => "the session has ended already",
            _ => {
                "administration has started; stop it and monitor the patient, then discharge with the checklist"
            }
        };
    }
    match from {
        S::CheckedIn => "record the pre-session assessment (vitals, escort, fasting) first",
        S::PreAssessed => "verify the dose against the signed order first",
        S::DoseVerified => match step {
            Step::PreAssess => "the pre-session assessment is done; start administration next",
            _ => "start administration first",
        },
        S::Administering => match step {
            Step::Resume => "the infusion is running, not paused",
            Step::Discharge | Step::Lock => "stop administration and monitor the patient first",
            _ => "administration has started; pause or stop it",
        },
        S::Paused => match step {
            Step::Pause | Step::ChangeRate => "resume the infusion first",
            _ => "resume or stop the infusion first",
        },
        S::Monitoring => match step {
            Step::Lock => "complete the discharge checklist first",
            _ => "administration is over; complete the discharge checklist next",
        },
        S::Discharged => match step {
            Step::Lock => "only a prescriber can sign and lock",
            _ => "the patient has been discharged; the prescriber signs and locks next",
        },
        S::Locked => "the session is signed and locked; add an addendum instead",
    }
}

/// The dose to give at a session, against the course's signed order and the clinic's cap.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DoseLimits {
    /// The dose the signed order gives for today's weight, mg.
    pub ordered_mg: f64,
    /// The clinic's cap for today's weight, mg.
    pub cap_mg: f64,
    /// The product's own maximum, which no override passes (Spravato 84 mg), mg.
    pub product_max_mg: Option<f64>,
}

/// Why a dose cannot be given as entered.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DoseProblem {
    /// Not a positive number.
    #[error("enter the dose to give in mg, a number above 0")]
    NotPositive,
    /// Above the product's maximum.
    #[error("{given} mg is above the product's maximum of {max} mg; no override can pass it")]
    AboveProductMax {
        /// Given, mg.
        given: f64,
        /// Maximum, mg.
        max: f64,
    },
    /// Above the order or the cap without a prescriber's override.
    #[error(
        "{given} mg is above {what} ({limit} mg); only a prescriber can override it, with a reason"
    )]
    NeedsOverride {
        /// Given, mg.
        given: f64,
        /// The limit passed, mg.
        limit: f64,
        /// Which limit, in words.
        what: &'static str,
    },
    /// An override without a reason.
    #[error("give the reason for giving more than {what}")]
    ReasonMissing {
        /// Which limit, in words.
        what: &'static str,
    },
    /// An infusion shorter than the shortest Ketaflow plans: a typing slip, refused.
    #[error(
        "{minutes} min is shorter than the shortest infusion planned, {floor} min; check the infusion length"
    )]
    InfusionBelowFloor {
        /// The length entered.
        minutes: f64,
        /// The shortest planned (`dosing.min_infusion_min`).
        floor: f64,
    },
    /// An infusion shorter than the published regimens', without a prescriber's override.
    #[error(
        "{minutes} min is shorter than the {CONVENTIONAL_INFUSION_MIN} min of the published regimens, so the dose would run faster; only a prescriber can shorten the infusion, with a reason"
    )]
    InfusionShort {
        /// The length entered.
        minutes: f64,
    },
    /// A pump rate above the one verified with the dose, set by someone other than a
    /// prescriber.
    #[error(
        "{rate} mg/h is faster than the {verified} mg/h verified with the dose; only a prescriber can run the infusion faster"
    )]
    RateAboveVerified {
        /// The rate entered, mg/h.
        rate: f64,
        /// The rate verified, mg/h.
        verified: f64,
    },
    /// A prescriber's shorter infusion without a reason.
    #[error("give the reason for an infusion shorter than {CONVENTIONAL_INFUSION_MIN} minutes")]
    InfusionReasonMissing,
}

/// The length of the IV infusions of the published regimens Ketaflow's protocols cite,
/// minutes: 0.5 mg/kg over 40 minutes (Murrough et al. 2013, Biol Psychiatry 74:250; ELEKT-D,
/// Anand et al. 2023, N Engl J Med; Phillips et al. 2019, Am J Psychiatry 176:401), which
/// Andrade 2017 (J Clin Psychiatry 78:e852) calls conventional while reporting 2 to 100 minutes
/// given safely. A shorter infusion gives the dose at a faster rate.
pub const CONVENTIONAL_INFUSION_MIN: f64 = 40.0;

/// Checks an IV infusion's length in minutes: never under `floor_min` (the shortest infusion
/// Ketaflow plans, `dosing.min_infusion_min`), and under [`CONVENTIONAL_INFUSION_MIN`] only by a
/// prescriber with a reason, as for a dose above the order. `Ok(true)` when it is such an
/// override.
pub fn check_infusion_length(
    minutes: f64,
    floor_min: f64,
    by_prescriber: bool,
    reason: Option<&str>,
) -> Result<bool, DoseProblem> {
    if !minutes.is_finite() || minutes < floor_min {
        return Err(DoseProblem::InfusionBelowFloor {
            minutes,
            floor: floor_min,
        });
    }
    if minutes >= CONVENTIONAL_INFUSION_MIN {
        return Ok(false);
    }
    if !by_prescriber {
        return Err(DoseProblem::InfusionShort { minutes });
    }
    match reason.map(str::trim) {
        Some(r) if !r.is_empty() => Ok(true),
        _ => Err(DoseProblem::InfusionReasonMissing),
    }
}

/// Checks a new pump rate, mg/h: faster than the rate verified with the dose (`verified`) only
/// by a prescriber. Slowing the pump, as for side effects, is anyone's to do.
pub fn check_rate_change(
    rate_mg_per_h: f64,
    verified_mg_per_h: Option<f64>,
    by_prescriber: bool,
) -> Result<(), DoseProblem> {
    match verified_mg_per_h {
        Some(v) if rate_mg_per_h > v + 1e-9 && !by_prescriber => {
            Err(DoseProblem::RateAboveVerified {
                rate: (rate_mg_per_h * 10.0).round() / 10.0,
                verified: (v * 10.0).round() / 10.0,
            })
        }
        _ => Ok(()),
    }
}

/// What a session's dose is checked against, for the course's signed order `order` and
/// today's weight: the order's dose (a weight-based order needs the weight: `None` without it);
/// the clinic's cap for the product's route (`caps`, settings, [`pk::dose::DoseCaps`]); and, for
/// a dose in mg, the most one session may give ([`pk::dose::esketamine_max_mg`]: the Spravato
/// label's 84 mg for the nasal spray), which esketamine keeps as its product maximum.
pub fn dose_limits(
    order: crate::course::TargetDose,
    product: Product,
    weight_kg: Option<f64>,
    caps: &pk::dose::DoseCaps,
) -> Option<DoseLimits> {
    use crate::course::TargetDose;
    match order {
        TargetDose::MgPerKg(per_kg) => {
            let weight = weight_kg?;
            Some(DoseLimits {
                ordered_mg: per_kg * weight,
                cap_mg: caps.for_route(product.route()) * weight,
                product_max_mg: None,
            })
        }
        TargetDose::Mg(mg) => {
            let (max, _) = pk::dose::esketamine_max_mg(product.route());
            Some(DoseLimits {
                ordered_mg: mg,
                cap_mg: max,
                product_max_mg: product.is_esketamine().then_some(max),
            })
        }
    }
}

impl DoseProblem {
    /// The dose form's field it belongs to: the reason, the infusion's length, or the dose.
    pub fn field(&self) -> &'static str {
        match self {
            DoseProblem::ReasonMissing { .. } | DoseProblem::InfusionReasonMissing => {
                "override_reason"
            }
            DoseProblem::InfusionBelowFloor { .. } | DoseProblem::InfusionShort { .. } => {
                "duration_min"
            }
            DoseProblem::RateAboveVerified { .. } => "dose_rate_mg_per_h",
            DoseProblem::NotPositive
            | DoseProblem::AboveProductMax { .. }
            | DoseProblem::NeedsOverride { .. } => "dose_mg",
        }
    }
}

/// Checks a dose: at most the order and the cap, unless a prescriber overrides with a reason;
/// never above the product's maximum. `Ok(true)` when the dose is an override.
pub fn check_given_dose(
    given_mg: f64,
    limits: &DoseLimits,
    by_prescriber: bool,
    reason: Option<&str>,
) -> Result<bool, DoseProblem> {
    if !given_mg.is_finite() || given_mg <= 0.0 {
        return Err(DoseProblem::NotPositive);
    }
    if let Some(max) = limits.product_max_mg
        && given_mg > max + 1e-9
    {
        return Err(DoseProblem::AboveProductMax {
            given: given_mg,
            max,
        });
    }
    let passed = if given_mg > limits.cap_mg + 1e-9 {
        Some((limits.cap_mg, "the clinic's cap"))
    } else if given_mg > limits.ordered_mg + 1e-9 {
        Some((limits.ordered_mg, "the signed order"))
    } else {
        None
    };
    let Some((limit, what)) = passed else {
        return Ok(false);
    };
    let round = |v: f64| (v * 10.0).round() / 10.0;
    if !by_prescriber {
        return Err(DoseProblem::NeedsOverride {
            given: round(given_mg),
            limit: round(limit),
            what,
        });
    }
    match reason.map(str::trim) {
        Some(r) if !r.is_empty() => Ok(true),
        _ => Err(DoseProblem::ReasonMissing { what }),
    }
}

/// One set of vital signs; any subset of the measures (blood pressure as a pair).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Vitals {
    /// Systolic blood pressure, mmHg.
    pub systolic_mmhg: Option<u16>,
    /// Diastolic blood pressure, mmHg.
    pub diastolic_mmhg: Option<u16>,
    /// Heart rate, beats per minute.
    pub heart_rate_bpm: Option<u16>,
    /// Oxygen saturation by pulse oximetry, %.
    pub spo2_percent: Option<u16>,
    /// Respiratory rate, breaths per minute.
    pub respiratory_rate_per_min: Option<u16>,
}

/// The widest heart rate accepted as a reading, beats per minute: outside it the number is a
/// typing or device error. Input bounds, not clinical thresholds (those are [`AlertSettings`]).
pub const HEART_RATE_RANGE: (u16, u16) = (20, 300);
/// The widest oxygen saturation accepted, %: a saturation cannot exceed 100 %, and readings
/// below 50 % are outside what pulse oximeters are calibrated for. Input bounds.
pub const SPO2_RANGE: (u16, u16) = (50, 100);
/// The widest respiratory rate accepted, breaths per minute. Input bounds.
pub const RESPIRATORY_RATE_RANGE: (u16, u16) = (1, 80);

/// What is wrong with a set of vitals, at its field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VitalsError {
    /// No measure at all.
    #[error("enter at least one measure: blood pressure, heart rate, SpO2 or respiratory rate")]
    Empty,
    /// One half of a blood pressure.
    #[error("enter both the systolic and the diastolic pressure, or neither")]
    HalfPressure {
        /// The half that is missing.
        field: &'static str,
    },
    /// A measure outside what can be a reading.
    #[error("{value} is not a possible {what}; enter a value from {min} to {max}")]
    OutOfRange {
        /// The field.
        field: &'static str,
        /// The measure in words.
        what: &'static str,
        /// Value given.
        value: u16,
        /// Lowest accepted.
        min: u16,
        /// Highest accepted.
        max: u16,
    },
    /// No blood pressure among the vitals taken before dosing ([`Vitals::check_before_dosing`]).
    #[error("take the blood pressure before dosing: enter the systolic and the diastolic pressure")]
    NoPressureBeforeDosing,
    /// Systolic at or below diastolic.
    #[error(
        "the systolic pressure ({systolic}) must be higher than the diastolic ({diastolic}); check the order"
    )]
    SystolicNotAboveDiastolic {
        /// Systolic.
        systolic: u16,
        /// Diastolic.
        diastolic: u16,
    },
}

impl VitalsError {
    /// The field the error belongs to.
    pub fn field(&self) -> &'static str {
        match self {
            VitalsError::Empty | VitalsError::NoPressureBeforeDosing => "systolic_mmhg",
            VitalsError::HalfPressure { field } | VitalsError::OutOfRange { field, .. } => field,
            VitalsError::SystolicNotAboveDiastolic { .. } => "systolic_mmhg",
        }
    }
}

impl Vitals {
    /// Whether no measure is present.
    pub fn is_empty(&self) -> bool {
        self.systolic_mmhg.is_none()
            && self.diastolic_mmhg.is_none()
            && self.heart_rate_bpm.is_none()
            && self.spo2_percent.is_none()
            && self.respiratory_rate_per_min.is_none()
    }

    /// Every problem with the reading, in the order of the form.
    pub fn check(&self) -> Vec<VitalsError> {
        use crate::screening::{DIASTOLIC_RANGE, SYSTOLIC_RANGE};
        if self.is_empty() {
            return vec![VitalsError::Empty];
        }
        let mut out = Vec::new();
        type Range = (&'static str, &'static str, Option<u16>, (u16, u16));
        let ranges: [Range; 5] = [
            (
                "systolic_mmhg",
                "systolic pressure (mmHg)",
                self.systolic_mmhg,
                SYSTOLIC_RANGE,
            ),
            (
                "diastolic_mmhg",
                "diastolic pressure (mmHg)",
                self.diastolic_mmhg,
                DIASTOLIC_RANGE,
            ),
            (
                "heart_rate_bpm",
                "heart rate (beats per minute)",
                self.heart_rate_bpm,
                HEART_RATE_RANGE,
            ),
            ("spo2_percent", "SpO2 (%)", self.spo2_percent, SPO2_RANGE),
            (
                "respiratory_rate_per_min",
                "respiratory rate (breaths per minute)",
                self.respiratory_rate_per_min,
                RESPIRATORY_RATE_RANGE,
            ),
        ];
        for (field, what, value, (min, max)) in ranges {
            if let Some(v) = value
                && !(min..=max).contains(&v)
            {
                out.push(VitalsError::OutOfRange {
                    field,
                    what,
                    value: v,
                    min,
                    max,
                });
            }
        }
        match (self.systolic_mmhg, self.diastolic_mmhg) {
            (Some(_), None) => out.push(VitalsError::HalfPressure {
                field: "diastolic_mmhg",
            }),
            (None, Some(_)) => out.push(VitalsError::HalfPressure {
                field: "systolic_mmhg",
            }),
            (Some(s), Some(d)) if s <= d => out.push(VitalsError::SystolicNotAboveDiastolic {
                systolic: s,
                diastolic: d,
            }),
            _ => {}
        }
        out
    }

    /// What is wrong with the vitals taken before a session's first dose: [`Vitals::check`],
    /// and a blood pressure is among them.
    ///
    /// Sources: the Spravato label asks for the blood pressure to be assessed before dosing
    /// (research `clinical.md` §3.2, <https://www.spravatohcp.com/dosing-spravato-trd>); the
    /// Ketalar label (revised 10/2024) asks for vital signs to be monitored continuously in
    /// patients receiving ketamine (§2.1) and warns of raised blood pressure (§5.1,
    /// hemodynamic instability), <https://fda.report/DailyMed/46dab560-8ecd-4d92-8c92-6baa2310b09b>.
    /// The session's alerts on a rise over baseline ([`DEFAULT_SYSTOLIC_RISE`]) compare every
    /// later reading with this one, so without it they could not be raised.
    pub fn check_before_dosing(&self) -> Vec<VitalsError> {
        if self.is_empty() {
            return vec![VitalsError::NoPressureBeforeDosing];
        }
        let mut out = self.check();
        if out.is_empty() && (self.systolic_mmhg.is_none() || self.diastolic_mmhg.is_none()) {
            out.push(VitalsError::NoPressureBeforeDosing);
        }
        out
    }
}

/// Systolic pressure at or above which a session alert is raised, mmHg. Severe hypertension is
/// defined as above 180/110 mmHg in primary care (Hebert & Vidt 2008, Prim Care 35:475) and as
/// 180/120 mmHg in the 2017 ACC/AHA guideline (Maloberti et al. 2018, High Blood Press
/// Cardiovasc Prev); the lower diastolic of the two is the default.
pub const DEFAULT_SYSTOLIC_MAX: u16 = 180;
/// Diastolic pressure at or above which a session alert is raised, mmHg (see
/// [`DEFAULT_SYSTOLIC_MAX`]: 110 is the more cautious of the two published values).
pub const DEFAULT_DIASTOLIC_MAX: u16 = 110;
/// Rise of the systolic pressure over the session's baseline that raises an alert, mmHg: the
/// Spravato label reports the share of patients whose systolic rose by 40 mmHg or more in the
/// first 1.5 hours (8–19 % on esketamine, 1–4 % on placebo; research `clinical.md` §10).
pub const DEFAULT_SYSTOLIC_RISE: u16 = 40;
/// Rise of the diastolic pressure over baseline that raises an alert, mmHg (Spravato label:
/// 25 mmHg or more, as [`DEFAULT_SYSTOLIC_RISE`]).
pub const DEFAULT_DIASTOLIC_RISE: u16 = 25;
/// Heart rate above which an alert is raised, beats per minute: tachycardia in an adult is a
/// resting rate over 100 (ICRP Publication 120, 2012, glossary).
pub const DEFAULT_HEART_RATE_MAX: u16 = 100;
/// Heart rate below which an alert is raised, beats per minute: bradycardia is a rate under 60,
/// the lower end of the normal adult resting range of 60–100.
pub const DEFAULT_HEART_RATE_MIN: u16 = 60;
/// Oxygen saturation below which an alert is raised, %: hypoxaemia is an arterial saturation
/// below 90 % (Jubran 1999, Crit Care 3:R11, "Pulse oximetry"). The Spravato REMS requires a
/// pulse oximeter on site and respiratory monitoring at every session (research §3.3).
pub const DEFAULT_SPO2_MIN: u16 = 90;
/// Respiratory rate below which an alert is raised, breaths per minute: a rate below 12 is used
/// as the definition of respiratory depression (Mosby's Medical Dictionary; Harrison's
/// Principles of Internal Medicine, 19th ed.). The Spravato boxed warning names respiratory
/// depression since its 2024–2026 labels (research §3.1).
pub const DEFAULT_RESPIRATORY_RATE_MIN: u16 = 12;

/// The thresholds of session alerts. Settings (`[session_alerts]`), defaults above.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertSettings {
    /// See [`DEFAULT_SYSTOLIC_MAX`].
    pub systolic_max: u16,
    /// See [`DEFAULT_DIASTOLIC_MAX`].
    pub diastolic_max: u16,
    /// See [`DEFAULT_SYSTOLIC_RISE`].
    pub systolic_rise: u16,
    /// See [`DEFAULT_DIASTOLIC_RISE`].
    pub diastolic_rise: u16,
    /// See [`DEFAULT_HEART_RATE_MAX`].
    pub heart_rate_max: u16,
    /// See [`DEFAULT_HEART_RATE_MIN`].
    pub heart_rate_min: u16,
    /// See [`DEFAULT_SPO2_MIN`].
    pub spo2_min: u16,
    /// See [`DEFAULT_RESPIRATORY_RATE_MIN`].
    pub respiratory_rate_min: u16,
}

impl Default for AlertSettings {
    fn default() -> Self {
        AlertSettings {
            systolic_max: DEFAULT_SYSTOLIC_MAX,
            diastolic_max: DEFAULT_DIASTOLIC_MAX,
            systolic_rise: DEFAULT_SYSTOLIC_RISE,
            diastolic_rise: DEFAULT_DIASTOLIC_RISE,
            heart_rate_max: DEFAULT_HEART_RATE_MAX,
            heart_rate_min: DEFAULT_HEART_RATE_MIN,
            spo2_min: DEFAULT_SPO2_MIN,
            respiratory_rate_min: DEFAULT_RESPIRATORY_RATE_MIN,
        }
    }
}

impl AlertSettings {
    /// Checks the settings are readings a monitor could give, naming the first that is not.
    pub fn check(&self) -> Result<(), String> {
        use crate::screening::{DIASTOLIC_RANGE, SYSTOLIC_RANGE};
        let within = |name: &str, v: u16, (min, max): (u16, u16)| {
            if (min..=max).contains(&v) {
                Ok(())
            } else {
                Err(format!(
                    "session_alerts.{name} = {v} is outside {min}..={max}"
                ))
            }
        };
        within("systolic_max", self.systolic_max, SYSTOLIC_RANGE)?;
        within("diastolic_max", self.diastolic_max, DIASTOLIC_RANGE)?;
        within("systolic_rise", self.systolic_rise, (1, 150))?;
        within("diastolic_rise", self.diastolic_rise, (1, 100))?;
        within("heart_rate_max", self.heart_rate_max, HEART_RATE_RANGE)?;
        within("heart_rate_min", self.heart_rate_min, HEART_RATE_RANGE)?;
        within("spo2_min", self.spo2_min, SPO2_RANGE)?;
        within(
            "respiratory_rate_min",
            self.respiratory_rate_min,
            RESPIRATORY_RATE_RANGE,
        )?;
        if self.heart_rate_min >= self.heart_rate_max {
            return Err("session_alerts.heart_rate_min must be below heart_rate_max".into());
        }
        Ok(())
    }
}

/// What a session alert is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlertKind {
    /// Systolic at or above the maximum.
    SystolicHigh,
    /// Diastolic at or above the maximum.
    DiastolicHigh,
    /// Systolic risen from baseline by the set amount or more.
    SystolicRise,
    /// Diastolic risen from baseline by the set amount or more.
    DiastolicRise,
    /// Heart rate above the maximum.
    HeartRateHigh,
    /// Heart rate below the minimum.
    HeartRateLow,
    /// Oxygen saturation below the minimum.
    Spo2Low,
    /// Respiratory rate below the minimum.
    RespiratoryRateLow,
}

impl AlertKind {
    /// Every kind.
    pub const ALL: [AlertKind; 8] = [
        AlertKind::SystolicHigh,
        AlertKind::DiastolicHigh,
        AlertKind::SystolicRise,
        AlertKind::DiastolicRise,
        AlertKind::HeartRateHigh,
        AlertKind::HeartRateLow,
        AlertKind::Spo2Low,
        AlertKind::RespiratoryRateLow,
    ];

    /// Stored and wire code.
    pub fn code(self) -> &'static str {
        match self {
            AlertKind::SystolicHigh => "systolic_high",
            AlertKind::DiastolicHigh => "diastolic_high",
            AlertKind::SystolicRise => "systolic_rise",
            AlertKind::DiastolicRise => "diastolic_rise",
            AlertKind::HeartRateHigh => "heart_rate_high",
            AlertKind::HeartRateLow => "heart_rate_low",
            AlertKind::Spo2Low => "spo2_low",
            AlertKind::RespiratoryRateLow => "respiratory_rate_low",
        }
    }

    /// Parses a code.
    pub fn parse(code: &str) -> Option<AlertKind> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }

    /// Whether it is about blood pressure.
    pub fn is_blood_pressure(self) -> bool {
        matches!(
            self,
            AlertKind::SystolicHigh
                | AlertKind::DiastolicHigh
                | AlertKind::SystolicRise
                | AlertKind::DiastolicRise
        )
    }
}

/// An alert a reading raised, with what is wrong in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertFinding {
    /// Kind.
    pub kind: AlertKind,
    /// What is wrong ("Blood pressure 186/100 mmHg: systolic at or above 180").
    pub message: String,
}

/// The alerts one reading raises against the settings and the session's baseline reading (the
/// first blood pressure of the session, before dosing).
pub fn evaluate(v: &Vitals, baseline: Option<&Vitals>, s: &AlertSettings) -> Vec<AlertFinding> {
    let mut out = Vec::new();
    let mut push = |kind, message: String| out.push(AlertFinding { kind, message });
    if let (Some(sys), Some(dia)) = (v.systolic_mmhg, v.diastolic_mmhg) {
        if sys >= s.systolic_max {
            push(
                AlertKind::SystolicHigh,
                format!(
                    "Blood pressure {sys}/{dia} mmHg: systolic at or above {}",
                    s.systolic_max
                ),
            );
        }
        if dia >= s.diastolic_max {
            push(
                AlertKind::DiastolicHigh,
                format!(
                    "Blood pressure {sys}/{dia} mmHg: diastolic at or above {}",
                    s.diastolic_max
                ),
            );
        }
        if let Some(base) = baseline
            && let (Some(bs), Some(bd)) = (base.systolic_mmhg, base.diastolic_mmhg)
        {
            if sys >= bs.saturating_add(s.systolic_rise) {
                push(
                    AlertKind::SystolicRise,
                    format!(
                        "Systolic pressure {sys} mmHg has risen {} over the baseline of {bs} (alert at a rise of {})",
                        sys - bs,
                        s.systolic_rise
                    ),
                );
            }
            if dia >= bd.saturating_add(s.diastolic_rise) {
                push(
                    AlertKind::DiastolicRise,
                    format!(
                        "Diastolic pressure {dia} mmHg has risen {} over the baseline of {bd} (alert at a rise of {})",
                        dia - bd,
                        s.diastolic_rise
                    ),
                );
            }
        }
    }
    if let Some(hr) = v.heart_rate_bpm {
        if hr > s.heart_rate_max {
            push(
                AlertKind::HeartRateHigh,
                format!(
                    "Heart rate {hr} beats per minute: above {}",
                    s.heart_rate_max
                ),
            );
        }
        if hr < s.heart_rate_min {
            push(
                AlertKind::HeartRateLow,
                format!(
                    "Heart rate {hr} beats per minute: below {}",
                    s.heart_rate_min
                ),
            );
        }
    }
    if let Some(o2) = v.spo2_percent
        && o2 < s.spo2_min
    {
        push(
            AlertKind::Spo2Low,
            format!("SpO2 {o2} %: below {} %", s.spo2_min),
        );
    }
    if let Some(rr) = v.respiratory_rate_per_min
        && rr < s.respiratory_rate_min
    {
        push(
            AlertKind::RespiratoryRateLow,
            format!(
                "Respiratory rate {rr} breaths per minute: below {}",
                s.respiratory_rate_min
            ),
        );
    }
    out
}

/// Minutes between vital-sign checks while an infusion runs: blood pressure was taken every
/// 10 minutes during 0.5 mg/kg infusions in the Emory series (Dunlop et al. 2018, J Affect
/// Disord, PMID 29525051) and the Yale chart review (2024, Gen Hosp Psychiatry,
/// doi:10.1016/j.genhosppsych.2024.07.001), which found the peak at 40 minutes.
pub const INFUSION_CHECK_MIN: i64 = 10;
/// Minutes between checks after administration: every 15 minutes after the infusion in the
/// Emory series (Dunlop et al. 2018).
pub const MONITORING_CHECK_MIN: i64 = 15;
/// Minutes after an esketamine dose at which blood pressure is measured again: the Spravato
/// label asks for a reading before dosing, about 40 minutes after, and then as needed until
/// stable (research §3.2).
pub const ESKETAMINE_RECHECK_MIN: i64 = 40;
/// Minutes of observation after esketamine, from the first device to the end of monitoring,
/// before the patient may leave (Spravato label and REMS: at least 2 hours; research §3.2).
pub const ESKETAMINE_MONITOR_MIN: i64 = 120;
/// Minutes before a fixed check's mark (the 40-minute and the pre-discharge blood pressure of
/// esketamine) from which a reading counts for it, so a reading taken as the mark approaches
/// is not asked for again. A tolerance of the schedule, not a clinical threshold.
pub const CHECK_EARLY_MIN: i64 = 5;

/// The next vital-sign check a session has due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DueCheck {
    /// When it is due.
    pub at: Timestamp,
    /// What it is, in words ("the 40-minute blood pressure").
    pub what: &'static str,
}

/// What the due-check rule reads of a session.
#[derive(Debug, Clone, Copy)]
pub struct CheckClock {
    /// How the product is given.
    pub delivery: Delivery,
    /// Whether it is esketamine (which has its own fixed checks).
    pub esketamine: bool,
    /// Where the session stands.
    pub status: SessionStatus,
    /// When administration started.
    pub started_at: Option<Timestamp>,
    /// When the last vitals were taken.
    pub last_vitals_at: Option<Timestamp>,
    /// Whether a blood pressure has been taken from [`CHECK_EARLY_MIN`] before the 40-minute
    /// mark on (esketamine).
    pub has_forty_minute_reading: bool,
    /// Whether a blood pressure has been taken from [`CHECK_EARLY_MIN`] before the end of the
    /// two hours of observation on (esketamine): the reading before discharge.
    pub has_discharge_reading: bool,
}

/// The earliest discharge the rules set: for esketamine, [`ESKETAMINE_MONITOR_MIN`] after the
/// start of dosing (the Spravato REMS's two hours of monitoring); `None` for ketamine, whose
/// discharge follows the checklist and the clinician's judgement, and for a session that is
/// not dosing or being monitored.
pub fn earliest_discharge(c: &CheckClock) -> Option<Timestamp> {
    use SessionStatus as S;
    match c.status {
        S::Administering | S::Paused | S::Monitoring if c.esketamine => c
            .started_at
            .map(|s| s + SignedDuration::from_mins(ESKETAMINE_MONITOR_MIN)),
        _ => None,
    }
}

/// When the next check is due, or `None` when none is (before dosing the pre-assessment asks
/// for vitals itself; after discharge nothing is due; after esketamine's reading before
/// discharge, only the nurse's judgement asks for more).
pub fn next_check(c: &CheckClock) -> Option<DueCheck> {
    use SessionStatus as S;
    match c.status {
        S::CheckedIn | S::PreAssessed | S::DoseVerified | S::Discharged | S::Locked => None,
        S::Administering | S::Paused | S::Monitoring => {
            let started = c.started_at?;
            if c.esketamine {
                if !c.has_forty_minute_reading {
                    return Some(DueCheck {
                        at: started + SignedDuration::from_mins(ESKETAMINE_RECHECK_MIN),
                        what: "the 40-minute blood pressure",
                    });
                }
                if !c.has_discharge_reading {
                    return Some(DueCheck {
                        at: started + SignedDuration::from_mins(ESKETAMINE_MONITOR_MIN),
                        what: "the blood pressure before discharge",
                    });
                }
                // Both fixed readings are in: the label asks for more only as needed.
                return None;
            }
            let every = if c.status == S::Monitoring || c.delivery == Delivery::Observed {
                MONITORING_CHECK_MIN
            } else {
                INFUSION_CHECK_MIN
            };
            let from = c.last_vitals_at.map_or(started, |l| l.max(started));
            Some(DueCheck {
                at: from + SignedDuration::from_mins(every),
                what: if c.status == S::Monitoring {
                    "the next monitoring vitals"
                } else {
                    "the next vitals"
                },
            })
        }
    }
}

/// The discharge checklist as the nurse ticks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Checklist {
    /// Alert and oriented.
    pub alert_and_oriented: bool,
    /// No active nausea or vomiting.
    pub no_active_nausea: bool,
    /// A responsible adult is present to take the patient home (Ketalar label: outpatients leave
    /// accompanied by a responsible adult; Spravato: no driving until the next day; research
    /// §2.3 and §3.2).
    pub escort_present: bool,
    /// The nurse judges the vitals near the patient's baseline.
    pub vitals_near_baseline: bool,
}

/// Why administration cannot start yet, or `None` when it can: an alert the session's vitals
/// raised (the pre-session reading above all, at the thresholds of [`AlertSettings`]) that no
/// clinician has acknowledged with the action taken. Ketaflow sets no blood pressure under which
/// dosing is allowed (the published figures are not confirmed, research `clinical.md` gaps §1;
/// the Spravato label asks to weigh an elevated baseline and consider delaying, §3.2): a clinician
/// records what they decided (rechecked after rest, the prescriber agreed to go ahead) or ends
/// the session without dosing. The same rule holds at discharge ([`check_discharge`]).
pub fn check_start(open_alerts: usize) -> Option<String> {
    (open_alerts > 0).then(|| {
        format!(
            "{} still open: acknowledge each with the action taken (rechecked after rest, the prescriber agreed to go ahead) before dosing starts, or end the session without dosing",
            alert_count(open_alerts)
        )
    })
}

/// Why the patient cannot leave undosed yet, or `None` when they can: an alert still open, as
/// at discharge ([`check_discharge`]). A reading high enough to stop the dose is one a
/// clinician acts on before the patient goes (what was done or advised is the alert's action).
pub fn check_end_undosed(open_alerts: usize) -> Option<String> {
    (open_alerts > 0).then(|| {
        format!(
            "{} still open: acknowledge each with the action taken (what was done or advised) before the patient leaves",
            alert_count(open_alerts)
        )
    })
}

fn alert_count(n: usize) -> String {
    format!("{n} alert{}", if n == 1 { " is" } else { "s are" })
}

/// One stretch of an IV infusion at one rate, in minutes from the start of dosing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stretch {
    /// When it began.
    pub from_min: f64,
    /// When it ended.
    pub to_min: f64,
    /// The dose rate, mg/h.
    pub mg_per_h: f64,
}

impl Stretch {
    /// What it gave, mg.
    pub fn mg(&self) -> f64 {
        self.mg_per_h * (self.to_min - self.from_min) / 60.0
    }
}

/// What an infusion's stretches gave together, mg.
pub fn infused_mg(stretches: &[Stretch]) -> f64 {
    stretches.iter().map(Stretch::mg).sum()
}

/// The stretches an infusion ran, read from its pump events in order, each `(minute, step,
/// rate)` with the minute from the start of dosing: a start or a resume runs at the rate it
/// names, or else the one before it (at first the rate verified, `verified_mg_per_h`); a rate
/// change begins a new stretch; a pause or a stop ends one; one still running ends at
/// `until_min`. The pump gives no more than the bag held (`dose_mg`): the stretches end where
/// their sum reaches it, whether or not a stop was recorded.
pub fn infusion_stretches(
    events: &[(f64, Step, Option<f64>)],
    verified_mg_per_h: Option<f64>,
    dose_mg: f64,
    until_min: f64,
) -> Vec<Stretch> {
    let mut out: Vec<Stretch> = Vec::new();
    let mut rate = verified_mg_per_h;
    let mut running: Option<(f64, f64)> = None;
    let close = |from: f64, to: f64, r: f64, out: &mut Vec<Stretch>| {
        if to > from && r > 0.0 {
            out.push(Stretch {
                from_min: from,
                to_min: to,
                mg_per_h: r,
            });
        }
    };
    for &(t, step, named) in events {
        let t = t.max(0.0);
        match step {
            Step::Start | Step::Resume | Step::ChangeRate => {
                if let Some((from, r)) = running.take() {
                    close(from, t, r, &mut out);
                }
                rate = named.or(rate);
                running = rate.map(|r| (t, r));
            }
            Step::Pause | Step::Stop => {
                if let Some((from, r)) = running.take() {
                    close(from, t, r, &mut out);
                }
            }
            _ => {}
        }
    }
    if let Some((from, r)) = running {
        close(from, until_min.max(from), r, &mut out);
    }
    // The bag runs out: cut the stretch in which the sum reaches the dose, drop the rest.
    let mut given = 0.0;
    let mut kept = Vec::with_capacity(out.len());
    for st in out {
        let left = dose_mg - given;
        if left <= 1e-9 {
            break;
        }
        if st.mg() > left {
            kept.push(Stretch {
                to_min: st.from_min + left * 60.0 / st.mg_per_h,
                ..st
            });
            break;
        }
        given += st.mg();
        kept.push(st);
    }
    kept
}

/// What the discharge rule reads of a session besides the checklist.
#[derive(Debug, Clone, Copy)]
pub struct DischargeFacts {
    /// Alerts not yet acknowledged.
    pub open_alerts: usize,
    /// Whether the last reading raised an alert.
    pub last_reading_alerts: bool,
    /// Whether vitals were taken after administration ended.
    pub vitals_after_administration: bool,
    /// Minutes from the start of administration to now (esketamine needs
    /// [`ESKETAMINE_MONITOR_MIN`]).
    pub minutes_since_start: i64,
    /// Whether it is esketamine.
    pub esketamine: bool,
}

/// Why the patient cannot be discharged yet: every reason at once, each with its field.
pub fn check_discharge(c: &Checklist, f: &DischargeFacts) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if f.open_alerts > 0 {
        out.push((
            "alerts",
            format!(
                "{} still open; acknowledge each with the action taken",
                alert_count(f.open_alerts)
            ),
        ));
    }
    if !f.vitals_after_administration {
        out.push((
            "vitals",
            "take vitals after administration ended, before discharge".to_owned(),
        ));
    } else if f.last_reading_alerts {
        out.push((
            "vitals",
            "the last vitals raised an alert; take them again when they have settled".to_owned(),
        ));
    }
    if f.esketamine && f.minutes_since_start < ESKETAMINE_MONITOR_MIN {
        out.push((
            "monitoring",
            format!(
                "esketamine needs at least {ESKETAMINE_MONITOR_MIN} minutes of monitoring from the first device; {} so far",
                f.minutes_since_start.max(0)
            ),
        ));
    }
    for (field, ok, words) in [
        (
            "alert_and_oriented",
            c.alert_and_oriented,
            "confirm the patient is alert and oriented",
        ),
        (
            "no_active_nausea",
            c.no_active_nausea,
            "confirm there is no active nausea or vomiting",
        ),
        (
            "escort_present",
            c.escort_present,
            "confirm a responsible adult is here to take the patient home",
        ),
        (
            "vitals_near_baseline",
            c.vitals_near_baseline,
            "confirm the vitals are near the patient's baseline",
        ),
    ] {
        if !ok {
            out.push((field, words.to_owned()));
        }
    }
    out
}

/// An adverse event's kind (the common effects of ketamine and esketamine in research §6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AdverseKind {
    /// Nausea.
    Nausea,
    /// Vomiting.
    Vomiting,
    /// Headache.
    Headache,
    /// Dizziness.
    Dizziness,
    /// An emergence reaction (distressing perceptual changes, agitation).
    EmergenceReaction,
    /// Hypertension needing action.
    Hypertension,
    /// Anxiety.
    Anxiety,
    /// Excessive sedation.
    Sedation,
    /// Respiratory depression.
    RespiratoryDepression,
    /// Anything else (described in the note).
    Other,
}

impl AdverseKind {
    /// Every kind.
    pub const ALL: [AdverseKind; 10] = [
        AdverseKind::Nausea,
        AdverseKind::Vomiting,
        AdverseKind::Headache,
        AdverseKind::Dizziness,
        AdverseKind::EmergenceReaction,
        AdverseKind::Hypertension,
        AdverseKind::Anxiety,
        AdverseKind::Sedation,
        AdverseKind::RespiratoryDepression,
        AdverseKind::Other,
    ];

    /// Code.
    pub fn code(self) -> &'static str {
        match self {
            AdverseKind::Nausea => "nausea",
            AdverseKind::Vomiting => "vomiting",
            AdverseKind::Headache => "headache",
            AdverseKind::Dizziness => "dizziness",
            AdverseKind::EmergenceReaction => "emergence_reaction",
            AdverseKind::Hypertension => "hypertension",
            AdverseKind::Anxiety => "anxiety",
            AdverseKind::Sedation => "sedation",
            AdverseKind::RespiratoryDepression => "respiratory_depression",
            AdverseKind::Other => "other",
        }
    }

    /// In words.
    pub fn label(self) -> &'static str {
        match self {
            AdverseKind::Nausea => "Nausea",
            AdverseKind::Vomiting => "Vomiting",
            AdverseKind::Headache => "Headache",
            AdverseKind::Dizziness => "Dizziness",
            AdverseKind::EmergenceReaction => "Emergence reaction",
            AdverseKind::Hypertension => "Hypertension",
            AdverseKind::Anxiety => "Anxiety",
            AdverseKind::Sedation => "Excessive sedation",
            AdverseKind::RespiratoryDepression => "Respiratory depression",
            AdverseKind::Other => "Other (describe)",
        }
    }

    /// Parses a code.
    pub fn parse(code: &str) -> Option<AdverseKind> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }
}

/// Grades of an adverse event: 1 mild, 2 moderate, 3 severe, 4 life-threatening, 5 death
/// (Common Terminology Criteria for Adverse Events v5.0, NCI 2017, general grade definitions).
pub const ADVERSE_GRADES: [(u8, &str); 5] = [
    (1, "1, mild"),
    (2, "2, moderate"),
    (3, "3, severe"),
    (4, "4, life-threatening"),
    (5, "5, death"),
];

/// The yes/no questions of the Spravato REMS Patient Monitoring Form that the session record
/// cannot answer by itself (research §3.3: the 11/2021 form and the later version's opioid and
/// respiratory-depression questions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RemsAnswers {
    /// Concomitant benzodiazepines.
    pub benzodiazepines: Option<bool>,
    /// Concomitant non-benzodiazepine sedative hypnotics.
    pub sedative_hypnotics: Option<bool>,
    /// Concomitant psychostimulants.
    pub psychostimulants: Option<bool>,
    /// Concomitant monoamine oxidase inhibitors.
    pub maois: Option<bool>,
    /// Concomitant opioids or other drugs that cause sedation, respiratory depression or a
    /// change in blood pressure.
    pub opioids: Option<bool>,
    /// Whether this is the patient's first treatment.
    pub first_treatment: Option<bool>,
    /// Vital signs acceptable before administration.
    pub vitals_ok_before: Option<bool>,
    /// Vital signs acceptable before the end of the session.
    pub vitals_ok_end: Option<bool>,
    /// Sedation during the session.
    pub sedation: Option<bool>,
    /// Dissociation during the session.
    pub dissociation: Option<bool>,
    /// Respiratory depression during the session.
    pub respiratory_depression: Option<bool>,
    /// Minutes from the start of administration after which the patient would have been ready
    /// to leave without the 2-hour rule (the REMS evaluation question).
    pub ready_to_leave_min: Option<u16>,
}

/// The medication class a concomitant-medication question of the REMS Patient Monitoring
/// Form asks about, with its words; `None` for the other questions.
fn rems_class(question: &str) -> Option<(crate::medications::MedicationClass, &'static str)> {
    use crate::medications::MedicationClass as C;
    Some(match question {
        "benzodiazepines" => (C::Benzodiazepine, "benzodiazepine"),
        "sedative_hypnotics" => (
            C::NonBenzodiazepineHypnotic,
            "non-benzodiazepine hypnotic (Z-drug)",
        ),
        "psychostimulants" => (C::Psychostimulant, "psychostimulant"),
        "maois" => (C::Maoi, "MAO inhibitor"),
        "opioids" => (C::Opioid, "opioid"),
        _ => return None,
    })
}

/// The current medications of `class`, as "name dose".
fn listed_of(
    current: &[crate::medications::Medication],
    class: crate::medications::MedicationClass,
) -> Vec<String> {
    current
        .iter()
        .filter(|m| m.class == Some(class))
        .map(|m| {
            if m.dose.is_empty() {
                m.name.clone()
            } else {
                format!("{} {}", m.name, m.dose)
            }
        })
        .collect()
}

/// What Ketaflow's own record says that bears on a question of the REMS Patient Monitoring
/// Form, shown beside it so the nurse answering can check one against the other: the patient's
/// current medications of the classes the concomitant-medication questions ask about, and
/// whether an earlier esketamine session is on record. The nurse still answers; a medication
/// list can be out of date, and a patient may have been treated elsewhere.
pub fn rems_record_hint(
    question: &str,
    current: &[crate::medications::Medication],
    earlier_sessions: usize,
    last_session: Option<jiff::civil::Date>,
) -> Option<String> {
    if question == "first_treatment" {
        return Some(match (earlier_sessions, last_session) {
            (0, _) | (_, None) => {
                "Ketaflow records no earlier esketamine session of this patient at this clinic."
                    .to_owned()
            }
            (1, Some(day)) => {
                format!("Ketaflow records 1 earlier esketamine session of this patient, on {day}.")
            }
            (n, Some(day)) => format!(
                "Ketaflow records {n} earlier esketamine sessions of this patient, the last on {day}."
            ),
        });
    }
    let (class, what) = rems_class(question)?;
    let listed = listed_of(current, class);
    Some(if listed.is_empty() {
        format!("The medication list records no current {what}.")
    } else {
        format!(
            "The medication list records, as current ({what}): {}.",
            listed.join("; ")
        )
    })
}

/// Where the saved answers of the REMS form and Ketaflow's record disagree, each in words that
/// say what to check: a concomitant medication answered "No" while the list records one of its
/// class as current (or "Yes" while it records none), and "First treatment?" answered "Yes"
/// while earlier esketamine sessions are on record. Neither side is assumed right: the answer
/// is saved as given, and the nurse checks.
pub fn rems_record_differences(
    answers: &RemsAnswers,
    current: &[crate::medications::Medication],
    earlier_sessions: usize,
) -> Vec<String> {
    answers
        .questions()
        .into_iter()
        .filter_map(|(code, words, value)| {
            if code == "first_treatment" {
                return (value == Some(true) && earlier_sessions > 0).then(|| {
                    format!(
                        "\u{201c}{words}\u{201d} is answered Yes, while Ketaflow records {earlier_sessions} earlier esketamine session{} of this patient at this clinic.",
                        if earlier_sessions == 1 { "" } else { "s" }
                    )
                });
            }
            let (class, what) = rems_class(code)?;
            let listed = listed_of(current, class);
            match value {
                Some(false) if !listed.is_empty() => Some(format!(
                    "\u{201c}{words}\u{201d} is answered No, while the medication list records {} as current: check with the patient, and end it on the list if they no longer take it.",
                    listed.join("; ")
                )),
                Some(true) if listed.is_empty() => Some(format!(
                    "\u{201c}{words}\u{201d} is answered Yes, while the medication list records no current {what}: add it to the list."
                )),
                _ => None,
            }
        })
        .collect()
}

impl RemsAnswers {
    /// The yes/no questions with their codes and words, in the form's order.
    pub fn questions(&self) -> [(&'static str, &'static str, Option<bool>); 11] {
        [
            ("first_treatment", "First treatment?", self.first_treatment),
            ("benzodiazepines", "Benzodiazepines?", self.benzodiazepines),
            (
                "sedative_hypnotics",
                "Non-benzodiazepine sedative hypnotics?",
                self.sedative_hypnotics,
            ),
            (
                "psychostimulants",
                "Psychostimulants?",
                self.psychostimulants,
            ),
            ("maois", "Monoamine oxidase inhibitors (MAOIs)?", self.maois),
            (
                "opioids",
                "Opioids or other drugs causing sedation, respiratory depression or blood-pressure change?",
                self.opioids,
            ),
            (
                "vitals_ok_before",
                "Vital signs acceptable before administration?",
                self.vitals_ok_before,
            ),
            (
                "vitals_ok_end",
                "Vital signs acceptable before the end of the session?",
                self.vitals_ok_end,
            ),
            ("sedation", "Sedation?", self.sedation),
            ("dissociation", "Dissociation?", self.dissociation),
            (
                "respiratory_depression",
                "Respiratory depression?",
                self.respiratory_depression,
            ),
        ]
    }
}

/// What the form takes from the session record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RemsRecord {
    /// Blood pressure before dosing.
    pub bp_before: Option<(u16, u16)>,
    /// About 40 minutes after dosing.
    pub bp_forty: Option<(u16, u16)>,
    /// Before the end of the session.
    pub bp_end: Option<(u16, u16)>,
    /// Minutes from the first device to the end of monitoring.
    pub monitored_min: Option<i64>,
    /// Whether the lot number was recorded.
    pub lot_recorded: bool,
    /// Whether the setting's address and telephone (where the monitoring provider is reached)
    /// are recorded with its REMS certification.
    pub setting_contact: bool,
}

/// The form's fields still missing, each with its code and words; empty when the form is
/// complete and the session may be locked.
pub fn rems_missing(a: &RemsAnswers, r: &RemsRecord) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = a
        .questions()
        .into_iter()
        .filter(|(_, _, v)| v.is_none())
        .map(|(code, words, _)| (code, format!("answer “{words}”")))
        .collect();
    if a.ready_to_leave_min.is_none() {
        out.push((
            "ready_to_leave_min",
            "enter the minutes after which the patient would have been ready to leave".into(),
        ));
    }
    if !r.lot_recorded {
        out.push(("lot", "record the lot number of the devices".into()));
    }
    if !r.setting_contact {
        out.push((
            "setting",
            "an administrator records the setting's address and telephone with the REMS certification (Chairs and REMS)".into(),
        ));
    }
    for (code, bp, words) in [
        ("bp_before", r.bp_before, "a blood pressure before dosing"),
        (
            "bp_forty",
            r.bp_forty,
            "a blood pressure about 40 minutes after dosing",
        ),
        (
            "bp_end",
            r.bp_end,
            "a blood pressure before the end of the session",
        ),
    ] {
        if bp.is_none() {
            out.push((code, format!("record {words}")));
        }
    }
    match r.monitored_min {
        Some(m) if m >= ESKETAMINE_MONITOR_MIN => {}
        Some(m) => out.push((
            "monitored_min",
            format!(
                "the form needs at least {ESKETAMINE_MONITOR_MIN} minutes from the first device to the end of monitoring; {m} are recorded"
            ),
        )),
        None => out.push((
            "monitored_min",
            "record the start of administration and the end of monitoring".into(),
        )),
    }
    out
}

/// Days after a session within which its Patient Monitoring Form is submitted (research §3.3).
pub const REMS_FORM_DAYS: i64 = 7;

#[cfg(test)]
mod tests;
