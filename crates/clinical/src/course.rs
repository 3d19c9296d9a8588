//! Treatment courses: the product and route, the protocol a course follows (templates as data,
//! each with its source), the planned session dates a protocol expands to, the course's status
//! and its lawful changes, and the assessment schedule a course drives.

use jiff::ToSpan;
use jiff::civil::Date;

use crate::instruments::InstrumentId;
use crate::instruments::schedule::{Planned, Schedule, TimePoint};

/// What is given, by which route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Product {
    /// Racemic ketamine by intravenous infusion.
    IvRacemic,
    /// Racemic ketamine by intramuscular injection.
    ImRacemic,
    /// Esketamine nasal spray (Spravato).
    EsketamineNasal,
    /// Racemic ketamine swallowed.
    OralRacemic,
    /// Racemic ketamine held under the tongue.
    SublingualRacemic,
}

impl Product {
    /// Every product, in form order.
    pub const ALL: [Product; 5] = [
        Product::IvRacemic,
        Product::ImRacemic,
        Product::EsketamineNasal,
        Product::OralRacemic,
        Product::SublingualRacemic,
    ];

    /// Stored code.
    pub fn code(self) -> &'static str {
        match self {
            Product::IvRacemic => "iv_racemic",
            Product::ImRacemic => "im_racemic",
            Product::EsketamineNasal => "esketamine_nasal",
            Product::OralRacemic => "oral_racemic",
            Product::SublingualRacemic => "sublingual_racemic",
        }
    }

    /// Words for people.
    pub fn label(self) -> &'static str {
        match self {
            Product::IvRacemic => "Ketamine IV infusion",
            Product::ImRacemic => "Ketamine intramuscular",
            Product::EsketamineNasal => "Esketamine nasal spray (Spravato)",
            Product::OralRacemic => "Ketamine by mouth",
            Product::SublingualRacemic => "Ketamine under the tongue",
        }
    }

    /// The product with this code.
    pub fn parse(code: &str) -> Option<Product> {
        Product::ALL.into_iter().find(|p| p.code() == code)
    }

    /// Whether the Spravato REMS applies.
    pub fn is_esketamine(self) -> bool {
        self == Product::EsketamineNasal
    }

    /// The pharmacokinetic route, for dose caps.
    pub fn route(self) -> pk::model::Route {
        match self {
            Product::IvRacemic => pk::model::Route::IvInfusion,
            Product::ImRacemic => pk::model::Route::Intramuscular,
            Product::EsketamineNasal => pk::model::Route::Intranasal,
            Product::OralRacemic => pk::model::Route::Oral,
            Product::SublingualRacemic => pk::model::Route::Sublingual,
        }
    }
}

/// How often sessions come in a phase of a protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frequency {
    /// Three a week, two or three days apart (as Monday, Wednesday, Friday).
    ThriceWeekly,
    /// Two a week, three or four days apart (as Monday and Thursday).
    TwiceWeekly,
    /// One a week.
    Weekly,
    /// One every two weeks.
    EveryTwoWeeks,
}

impl Frequency {
    /// Every frequency, in form order.
    pub const ALL: [Frequency; 4] = [
        Frequency::ThriceWeekly,
        Frequency::TwiceWeekly,
        Frequency::Weekly,
        Frequency::EveryTwoWeeks,
    ];

    /// Stored code.
    pub fn code(self) -> &'static str {
        match self {
            Frequency::ThriceWeekly => "thrice_weekly",
            Frequency::TwiceWeekly => "twice_weekly",
            Frequency::Weekly => "weekly",
            Frequency::EveryTwoWeeks => "every_two_weeks",
        }
    }

    /// Words for people.
    pub fn label(self) -> &'static str {
        match self {
            Frequency::ThriceWeekly => "three times a week",
            Frequency::TwiceWeekly => "twice a week",
            Frequency::Weekly => "once a week",
            Frequency::EveryTwoWeeks => "every two weeks",
        }
    }

    /// The frequency with this code.
    pub fn parse(code: &str) -> Option<Frequency> {
        Frequency::ALL.into_iter().find(|f| f.code() == code)
    }

    /// Days from one session to the next, cycling (three a week over 12 days gives 0, 2, 4, 7,
    /// 9, 11; twice a week over three weeks gives 0, 3, 7, 10, 14, 17).
    fn gaps(self) -> &'static [i32] {
        match self {
            Frequency::ThriceWeekly => &[2, 2, 3],
            Frequency::TwiceWeekly => &[3, 4],
            Frequency::Weekly => &[7],
            Frequency::EveryTwoWeeks => &[14],
        }
    }
}

/// One phase of a protocol (induction, optimisation, maintenance).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phase {
    /// Its name ("induction").
    pub name: String,
    /// Sessions in the phase.
    pub sessions: u32,
    /// How often.
    pub frequency: Frequency,
}

/// The starting dose a protocol names.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TargetDose {
    /// Racemic ketamine by body weight.
    MgPerKg(f64),
    /// A fixed dose (esketamine devices: 28 mg each).
    Mg(f64),
}

impl TargetDose {
    /// The dose in words ("0.5 mg/kg", "56 mg").
    pub fn words(self) -> String {
        match self {
            TargetDose::MgPerKg(v) => format!("{v} mg/kg"),
            TargetDose::Mg(v) => format!("{v} mg"),
        }
    }
}

/// A protocol template.
#[derive(Debug, Clone, PartialEq)]
pub struct Protocol {
    /// Stable code (`iv_induction_thrice_weekly`).
    pub code: String,
    /// Name for people.
    pub name: String,
    /// The product it is for.
    pub product: Product,
    /// Its phases, in order.
    pub phases: Vec<Phase>,
    /// The starting dose, for adults under 65.
    pub dose: TargetDose,
    /// The starting dose at 65 and over, where the source gives a different one.
    pub dose_65_and_over: Option<TargetDose>,
    /// Where it comes from.
    pub source: String,
}

fn phase(name: &str, sessions: u32, frequency: Frequency) -> Phase {
    Phase {
        name: name.to_owned(),
        sessions,
        frequency,
    }
}

/// The built-in protocol library (research `clinical.md` §2.1 and §3.1); a clinic adds its own.
pub fn builtin_protocols() -> Vec<Protocol> {
    vec![
        Protocol {
            code: "iv_induction_thrice_weekly".into(),
            name: "IV induction: 6 infusions, three a week over 2 weeks".into(),
            product: Product::IvRacemic,
            phases: vec![phase("induction", 6, Frequency::ThriceWeekly)],
            dose: TargetDose::MgPerKg(0.5),
            dose_65_and_over: None,
            source: "Murrough et al. 2013, Biol Psychiatry 74:250: six infusions of 0.5 mg/kg over 40 min, three a week over 12 days (pmc.ncbi.nlm.nih.gov/articles/PMC3725185)".into(),
        },
        Protocol {
            code: "iv_induction_twice_weekly".into(),
            name: "IV induction: 6 infusions, twice a week over 3 weeks".into(),
            product: Product::IvRacemic,
            phases: vec![phase("induction", 6, Frequency::TwiceWeekly)],
            dose: TargetDose::MgPerKg(0.5),
            dose_65_and_over: None,
            source: "ELEKT-D, Anand et al. 2023, N Engl J Med: six infusions of 0.5 mg/kg over 40 min, twice a week over 3 weeks (utsouthwestern.elsevierpure.com/en/publications/ketamine-versus-ect-for-nonpsychotic-treatment-resistant-major-de)".into(),
        },
        Protocol {
            code: "iv_maintenance_weekly".into(),
            name: "IV maintenance: 4 weekly infusions".into(),
            product: Product::IvRacemic,
            phases: vec![phase("maintenance", 4, Frequency::Weekly)],
            dose: TargetDose::MgPerKg(0.5),
            dose_65_and_over: None,
            source: "Phillips et al. 2019, Am J Psychiatry 176:401: responders given four once-weekly infusions kept their gains (pubmed.ncbi.nlm.nih.gov/30922101)".into(),
        },
        Protocol {
            code: "esketamine_trd_label".into(),
            name: "Esketamine for treatment-resistant depression, per label: weeks 1-4 twice a week, weeks 5-8 weekly".into(),
            product: Product::EsketamineNasal,
            phases: vec![
                phase("induction", 8, Frequency::TwiceWeekly),
                phase("weeks 5-8", 4, Frequency::Weekly),
            ],
            dose: TargetDose::Mg(56.0),
            dose_65_and_over: Some(TargetDose::Mg(28.0)),
            source: "Spravato prescribing information, dosage and administration for TRD: day 1 56 mg (28 mg at 65 and over), weeks 1-4 twice a week, weeks 5-8 once a week, then every 2 weeks or weekly".into(),
        },
        Protocol {
            code: "esketamine_maintenance_two_weekly".into(),
            name: "Esketamine maintenance from week 9: every 2 weeks for 6 months".into(),
            product: Product::EsketamineNasal,
            phases: vec![phase("maintenance", 13, Frequency::EveryTwoWeeks)],
            dose: TargetDose::Mg(56.0),
            dose_65_and_over: None,
            source: "Spravato prescribing information: from week 9, every 2 weeks or weekly at the lowest frequency that keeps the response; continue at least 6 months after improvement".into(),
        },
    ]
}

/// One session a protocol plans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedSession {
    /// 1, 2, ...
    pub number: u32,
    /// The target date.
    pub date: Date,
    /// The phase it belongs to.
    pub phase: String,
}

impl Protocol {
    /// All sessions of the protocol.
    pub fn sessions(&self) -> u32 {
        session_count(&self.phases)
    }

    /// The target dates of every session from `first` ([`expand`]).
    pub fn expand(&self, first: Date) -> Vec<PlannedSession> {
        expand(&self.phases, first)
    }

    /// The starting dose for a patient of `age_years`.
    pub fn dose_for_age(&self, age_years: i16) -> TargetDose {
        match self.dose_65_and_over {
            Some(d) if age_years >= 65 => d,
            _ => self.dose,
        }
    }
}

/// Why an ordered dose was refused; the message names the clinic's limit or the label's doses.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DoseError {
    /// Not a number.
    #[error("the dose '{0}' is not a number; give it in {1}, such as {2}")]
    Unreadable(String, &'static str, &'static str),
    /// Outside the clinic's floor and cap.
    #[error(
        "{value} mg/kg is outside {min} to {max} mg/kg, the clinic's smallest planned dose and its cap for this route"
    )]
    OutOfRange {
        /// Given.
        value: f64,
        /// Floor.
        min: f64,
        /// Cap.
        max: f64,
    },
    /// Not a label dose of esketamine.
    #[error("{0}")]
    Spravato(pk::dose::SpravatoDose),
    /// 84 mg of esketamine as a starting dose.
    #[error("the label starts esketamine at 56 mg; 84 mg only after a 56 mg start")]
    NotFirst,
    /// Esketamine given in devices that are not whole.
    #[error("{0} mg is not a Spravato dose; the label's doses are 28, 56 and 84 mg")]
    NotDevices(f64),
}

/// Checks an ordered dose: racemic ketamine in mg/kg between the clinic's planning floor and its
/// cap for the route; esketamine in mg, one of the label's doses for the patient's age
/// (`pk::dose::check_spravato_devices`).
pub fn check_dose(
    product: Product,
    typed: &str,
    caps: &pk::dose::DoseCaps,
    floor: &pk::dose::PlanningFloor,
    age_years: i16,
) -> Result<TargetDose, DoseError> {
    let t = typed.trim().replace(',', ".");
    if product.is_esketamine() {
        let mg: f64 = t
            .trim_end_matches("mg")
            .trim()
            .parse()
            .map_err(|_| DoseError::Unreadable(crate::text::shown(typed), "mg", "56"))?;
        let devices = mg / 28.0;
        if !mg.is_finite() || devices.fract() != 0.0 || !(1.0..=3.0).contains(&devices) {
            return Err(DoseError::NotDevices(mg));
        }
        // ok: devices is a whole number from 1 to 3 here.
        let n = devices as u32;
        pk::dose::check_spravato_devices(n, Some(f64::from(age_years)))
            .map_err(DoseError::Spravato)?;
        return Ok(TargetDose::Mg(mg));
    }
    let v: f64 = t
        .trim_end_matches("mg/kg")
        .trim()
        .parse()
        .map_err(|_| DoseError::Unreadable(crate::text::shown(typed), "mg/kg", "0.5"))?;
    let max = caps.for_route(product.route());
    if !v.is_finite() || v < floor.min_mg_per_kg || v > max {
        return Err(DoseError::OutOfRange {
            value: v,
            min: floor.min_mg_per_kg,
            max,
        });
    }
    Ok(TargetDose::MgPerKg(v))
}

/// The target dates of every session of `phases` from `first`: within a phase the frequency's
/// gaps; a new phase starts one of its own gaps after the last session of the one before.
pub fn expand(phases: &[Phase], first: Date) -> Vec<PlannedSession> {
    let mut out = Vec::new();
    let mut date = first;
    let mut number = 0;
    for (p, ph) in phases.iter().enumerate() {
        let gaps = ph.frequency.gaps();
        if p > 0 {
            match date.checked_add(gaps[0].days()) {
                Ok(d) => date = d,
                Err(_) => return out,
            }
        }
        for i in 0..ph.sessions {
            if i > 0 {
                let gap = gaps[(i as usize - 1) % gaps.len()];
                match date.checked_add(gap.days()) {
                    Ok(d) => date = d,
                    Err(_) => return out,
                }
            }
            number += 1;
            out.push(PlannedSession {
                number,
                date,
                phase: ph.name.clone(),
            });
        }
    }
    out
}

/// How many sessions `phases` plan in all.
pub fn session_count(phases: &[Phase]) -> u32 {
    phases.iter().map(|p| p.sessions).sum()
}

/// The sessions of a course's plan (`planned`) after its first `booked`, on the dates they can
/// still be booked from `today`. They follow the course's last booked session (`last_booked`)
/// as far as the plan puts them after the session before them, and move together, keeping
/// the plan's spacing:
/// - later, when the plan has fallen behind (a course paused and resumed, sessions cancelled
///   or missed, a session booked late); never before `today`;
/// - earlier, when the course runs ahead of its plan (begun before the day its order planned
///   because a chair came free): a twice-weekly induction begun a week early asks its second
///   session three or four days after the first, not ten or eleven.
///
/// A course on its plan's days, and one with nothing booked whose plan lies ahead, keeps its
/// dates.
pub fn still_to_book(
    planned: &[PlannedSession],
    booked: usize,
    last_booked: Option<Date>,
    today: Date,
) -> Vec<PlannedSession> {
    // ok: more booked than planned (a course booked before the store refused it) leaves
    // nothing to book.
    let rest = planned.get(booked..).unwrap_or_default();
    let Some(first) = rest.first() else {
        return Vec::new();
    };
    let follows = match (last_booked, booked.checked_sub(1)) {
        (Some(last), Some(before)) => {
            let gap = planned
                .get(before)
                .map_or(0, |b| (first.date - b.date).get_days());
            // ok: only a last session at the calendar's end has no day after it; the rest
            // are then placed from today, as with nothing booked.
            last.checked_add(gap.days()).ok()
        }
        _ => None,
    };
    let shift = match follows {
        Some(after) => (after.max(today) - first.date).get_days(),
        None => (today - first.date).get_days().max(0),
    };
    rest.iter()
        .map(|s| PlannedSession {
            // ok: only a plan at the calendar's end cannot move; it then keeps its date.
            date: s.date.checked_add(shift.days()).unwrap_or(s.date),
            ..s.clone()
        })
        .collect()
}

/// A course's sessions as they stand on `today`: the first of its plan (`planned`) on the
/// days they are booked (`booked_days`, in order), the rest where they can still be booked
/// ([`still_to_book`]). What the course asks of its patient (an assessment before each
/// session, a week after the first) follows these days, not the plan's: a session booked a
/// day late, or a course resumed after a pause, moves what is due with it.
pub fn as_they_stand(
    planned: &[PlannedSession],
    booked_days: &[Date],
    today: Date,
) -> Vec<PlannedSession> {
    let mut out: Vec<PlannedSession> = planned
        .iter()
        .zip(booked_days)
        .map(|(s, day)| PlannedSession {
            date: *day,
            ..s.clone()
        })
        .collect();
    let booked = out.len();
    let last = out.last().map(|s| s.date);
    out.extend(still_to_book(planned, booked, last, today));
    out
}

/// Why a clinic's protocol template was refused; each names its field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProtocolError {
    /// A code that is not 3 to 60 lower-case letters, digits and underscores.
    #[error(
        "the code must be 3 to 60 lower-case letters, digits and underscores, such as iv_induction_8"
    )]
    Code,
    /// A built-in protocol's code.
    #[error("'{0}' is a built-in protocol's code; choose another")]
    CodeTaken(String),
    /// No name, or too long, or unreadable.
    #[error(
        "the name is required: one line of at most 200 characters, without control characters or invisible marks"
    )]
    Name,
    /// A product not on the list.
    #[error("choose the product from the list")]
    Product,
    /// A phase row is not right.
    #[error("phase {row}: {problem}")]
    Phase {
        /// 1, 2, 3.
        row: usize,
        /// What is wrong.
        problem: &'static str,
    },
    /// A phase's name too long or unreadable.
    #[error(
        "phase {0}: the name must be one line of at most 60 characters, without control characters or invisible marks"
    )]
    PhaseName(usize),
    /// No phase at all.
    #[error("give at least one phase with its number of sessions and how often")]
    NoPhase,
    /// The starting dose.
    #[error("{0}")]
    Dose(DoseError),
    /// No source, or too short.
    #[error(
        "cite the protocol's source (a publication, a guideline or the clinic's own policy) in one line of 10 to 500 characters"
    )]
    Source,
}

impl ProtocolError {
    /// The form field the error is about.
    pub fn field(&self) -> String {
        match self {
            ProtocolError::Code | ProtocolError::CodeTaken(_) => "code".into(),
            ProtocolError::Name => "name".into(),
            ProtocolError::Product => "product".into(),
            ProtocolError::Phase { row, .. } => format!("phase{row}_sessions"),
            ProtocolError::PhaseName(row) => format!("phase{row}_name"),
            ProtocolError::NoPhase => "phase1_sessions".into(),
            ProtocolError::Dose(_) => "dose".into(),
            ProtocolError::Source => "source".into(),
        }
    }
}

/// A phase as typed: name, sessions, frequency code; a row left empty is skipped.
pub type PhaseInput<'a> = (&'a str, &'a str, &'a str);

/// Checks a clinic's protocol template. The starting dose is checked like an order for an
/// adult under 65 (`check_dose`).
#[allow(clippy::too_many_arguments)]
pub fn check_protocol(
    code: &str,
    name: &str,
    product: &str,
    phases: &[PhaseInput<'_>],
    dose: &str,
    source: &str,
    caps: &pk::dose::DoseCaps,
    floor: &pk::dose::PlanningFloor,
) -> Result<Protocol, Vec<ProtocolError>> {
    let mut errors = Vec::new();
    let code = code.trim();
    if !(3..=60).contains(&code.len())
        || !code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        errors.push(ProtocolError::Code);
    } else if builtin_protocols().iter().any(|p| p.code == code) {
        errors.push(ProtocolError::CodeTaken(code.to_owned()));
    }
    let name = crate::text::line(name, 200).unwrap_or_else(|_| {
        errors.push(ProtocolError::Name);
        ""
    });
    let product = Product::parse(product.trim());
    if product.is_none() {
        errors.push(ProtocolError::Product);
    }
    let mut checked = Vec::new();
    for (i, (phase_name, sessions, frequency)) in phases.iter().enumerate() {
        let row = i + 1;
        if phase_name.trim().is_empty() && sessions.trim().is_empty() {
            continue;
        }
        let n = sessions
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=52).contains(n));
        let f = Frequency::parse(frequency.trim());
        match (n, f) {
            (None, _) => errors.push(ProtocolError::Phase {
                row,
                problem: "give the number of sessions, a whole number from 1 to 52",
            }),
            (_, None) => errors.push(ProtocolError::Phase {
                row,
                problem: "choose how often from the list",
            }),
            (Some(sessions), Some(frequency)) => match crate::text::optional_line(phase_name, 60) {
                Ok(pn) => checked.push(Phase {
                    name: pn.map_or_else(|| format!("phase {row}"), str::to_owned),
                    sessions,
                    frequency,
                }),
                Err(_) => errors.push(ProtocolError::PhaseName(row)),
            },
        }
    }
    if checked.is_empty()
        && !errors
            .iter()
            .any(|e| matches!(e, ProtocolError::Phase { .. } | ProtocolError::PhaseName(_)))
    {
        errors.push(ProtocolError::NoPhase);
    }
    let dose = product.and_then(|p| match check_dose(p, dose, caps, floor, 40) {
        Ok(d) if check_first_dose(p, d).is_err() => {
            errors.push(ProtocolError::Dose(DoseError::NotFirst));
            None
        }
        Ok(d) => Some(d),
        Err(e) => {
            errors.push(ProtocolError::Dose(e));
            None
        }
    });
    let source = match crate::text::line(source, 500) {
        Ok(s) if s.chars().count() >= 10 => s,
        _ => {
            errors.push(ProtocolError::Source);
            ""
        }
    };
    match (product, dose) {
        (Some(product), Some(dose)) if errors.is_empty() => Ok(Protocol {
            code: code.to_owned(),
            name: name.to_owned(),
            product,
            phases: checked,
            dose,
            dose_65_and_over: None,
            source: source.to_owned(),
        }),
        _ => Err(errors),
    }
}

/// Why the first session's date of a new course was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FirstSessionError {
    /// Before today: the course's assessment plan would begin with windows already closed,
    /// every one of them missed, and its sessions could never be checked in.
    #[error(
        "the first session cannot be before today, {today}: a course is planned from today on (check the year)"
    )]
    Past {
        /// The clinic's date today.
        today: Date,
    },
    /// Further ahead than any appointment can be booked.
    #[error("the first session is more than two years ahead; plan it by {latest} (check the year)")]
    TooFar {
        /// The last day a session can be booked.
        latest: Date,
    },
}

/// Checks the first session's date of a new course: from `today` (the clinic's date) to the
/// last day an appointment can be booked ([`crate::booking::MAX_DAYS_AHEAD`]), as the course's
/// sessions are booked and checked in from today on.
pub fn check_first_session(day: Date, today: Date) -> Result<(), FirstSessionError> {
    crate::booking::check_day(day, today).map_err(|e| match e {
        crate::booking::DayError::Past { today } => FirstSessionError::Past { today },
        crate::booking::DayError::TooFar { latest } => FirstSessionError::TooFar { latest },
    })
}

/// Checks the first order of a course: esketamine starts at 56 mg on day 1 (28 mg at 65 and
/// over); 84 mg only after a 56 mg start (Spravato prescribing information, dosage and
/// administration for TRD, research §3.1).
pub fn check_first_dose(product: Product, dose: TargetDose) -> Result<(), &'static str> {
    match (product, dose) {
        (Product::EsketamineNasal, TargetDose::Mg(mg)) if mg > 56.0 => Err(
            "the label starts esketamine at 56 mg on day 1 (28 mg at 65 and over); 84 mg only after a 56 mg start, as a new order",
        ),
        _ => Ok(()),
    }
}

/// Where a course stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CourseStatus {
    /// Ordered, not started.
    Planned,
    /// Sessions are being given.
    Active,
    /// Held for now.
    Paused,
    /// Every planned session given, or ended as planned.
    Completed,
    /// Ended early, with a reason.
    Stopped,
}

impl CourseStatus {
    /// Every status, in order.
    pub const ALL: [CourseStatus; 5] = [
        CourseStatus::Planned,
        CourseStatus::Active,
        CourseStatus::Paused,
        CourseStatus::Completed,
        CourseStatus::Stopped,
    ];

    /// Stored code.
    pub fn code(self) -> &'static str {
        match self {
            CourseStatus::Planned => "planned",
            CourseStatus::Active => "active",
            CourseStatus::Paused => "paused",
            CourseStatus::Completed => "completed",
            CourseStatus::Stopped => "stopped",
        }
    }

    /// Words for people.
    pub fn label(self) -> &'static str {
        match self {
            CourseStatus::Planned => "Planned",
            CourseStatus::Active => "Active",
            CourseStatus::Paused => "Paused",
            CourseStatus::Completed => "Completed",
            CourseStatus::Stopped => "Stopped",
        }
    }

    /// The status with this code.
    pub fn parse(code: &str) -> Option<CourseStatus> {
        CourseStatus::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Whether the course has ended.
    pub fn is_final(self) -> bool {
        matches!(self, CourseStatus::Completed | CourseStatus::Stopped)
    }

    /// The statuses a course may move to from this one.
    pub fn next(self) -> &'static [CourseStatus] {
        use CourseStatus::*;
        match self {
            Planned => &[Active, Stopped],
            Active => &[Paused, Completed, Stopped],
            Paused => &[Active, Stopped],
            Completed | Stopped => &[],
        }
    }
}

/// Why a change of status was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatusError {
    /// Not a status.
    #[error("choose the new status from the list")]
    Unknown,
    /// Not allowed from here.
    #[error("a {from} course cannot become {to}; from {from} it can become {allowed}")]
    NotAllowed {
        /// From, in words.
        from: &'static str,
        /// To, in words.
        to: &'static str,
        /// What is allowed, in words.
        allowed: String,
    },
    /// Stopping without a reason.
    #[error("give the reason the course is stopped (at least 10 characters)")]
    ReasonMissing,
    /// A reason longer than [`MAX_STOP_REASON_CHARS`].
    #[error("the reason is longer than {MAX_STOP_REASON_CHARS} characters; shorten it")]
    ReasonTooLong,
    /// A reason with a control character or an invisible mark.
    #[error("the reason {}; type it again", crate::text::TextProblem::Unreadable)]
    ReasonUnreadable,
}

impl StatusError {
    /// The field the error is about: `reason` or `status`.
    pub fn field(&self) -> &'static str {
        match self {
            StatusError::ReasonMissing
            | StatusError::ReasonTooLong
            | StatusError::ReasonUnreadable => "reason",
            StatusError::Unknown | StatusError::NotAllowed { .. } => "status",
        }
    }
}

/// The longest reason for stopping a course, in characters.
pub const MAX_STOP_REASON_CHARS: usize = 2000;
/// The fewest characters of the reason for a new dose.
pub const MIN_DOSE_REASON_CHARS: usize = 5;
/// The most characters of the reason for a new dose.
pub const MAX_DOSE_REASON_CHARS: usize = 500;

/// Why the reason for a new dose was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DoseReasonError {
    /// Too short or too long.
    #[error(
        "give the reason for the new dose in {MIN_DOSE_REASON_CHARS} to {MAX_DOSE_REASON_CHARS} characters"
    )]
    Length,
    /// A control character or an invisible mark.
    #[error("the reason {}; type it again", crate::text::TextProblem::Unreadable)]
    Unreadable,
}

/// Checks the reason given for a new dose: one line of [`MIN_DOSE_REASON_CHARS`] to
/// [`MAX_DOSE_REASON_CHARS`] characters. Returns it trimmed.
pub fn check_dose_reason(reason: &str) -> Result<&str, DoseReasonError> {
    match crate::text::line(reason, MAX_DOSE_REASON_CHARS) {
        Ok(r) if r.chars().count() >= MIN_DOSE_REASON_CHARS => Ok(r),
        Err(crate::text::TextProblem::Unreadable) => Err(DoseReasonError::Unreadable),
        _ => Err(DoseReasonError::Length),
    }
}

/// Checks a change of status: it must be one `from.next()` allows, and stopping needs a reason.
pub fn check_status_change(
    from: CourseStatus,
    to: &str,
    reason: &str,
) -> Result<(CourseStatus, Option<String>), StatusError> {
    let to = CourseStatus::parse(to.trim()).ok_or(StatusError::Unknown)?;
    if !from.next().contains(&to) {
        let allowed = match from.next() {
            [] => "nothing else: it has ended".to_owned(),
            list => list
                .iter()
                .map(|s| s.label().to_lowercase())
                .collect::<Vec<_>>()
                .join(" or "),
        };
        return Err(StatusError::NotAllowed {
            from: from.label(),
            to: to.label(),
            allowed,
        });
    }
    if to == CourseStatus::Stopped {
        let reason = match crate::text::line(reason, MAX_STOP_REASON_CHARS) {
            Ok(r) if r.chars().count() >= 10 => r,
            Ok(_) | Err(crate::text::TextProblem::Empty) => return Err(StatusError::ReasonMissing),
            Err(crate::text::TextProblem::TooLong { .. }) => {
                return Err(StatusError::ReasonTooLong);
            }
            Err(crate::text::TextProblem::Unreadable) => return Err(StatusError::ReasonUnreadable),
        };
        return Ok((to, Some(reason.to_owned())));
    }
    Ok((to, None))
}

/// The assessments a course plans for its outcome instrument: a baseline in the 7 days before
/// the first session, one before each session (on its day), one about 24 hours after the first
/// (the next day), one a week through the course, and one at the end of the last phase (within
/// 7 days after the last session). Windows are Ketaflow's defaults, not clinical rules.
pub fn assessment_schedule(instrument: InstrumentId, sessions: &[PlannedSession]) -> Schedule {
    let mut planned = Vec::new();
    let (Some(first), Some(last)) = (sessions.first(), sessions.last()) else {
        return Schedule::new(planned);
    };
    // ok: a window day past the calendar's end (year 9999) cannot come from a real course;
    // the date itself is kept rather than dropping the assessment.
    let plus = |d: Date, n: i32| d.checked_add(n.days()).unwrap_or(d);
    planned.push(Planned {
        instrument,
        time_point: TimePoint::Baseline,
        earliest: plus(first.date, -7),
        latest: first.date,
    });
    for s in sessions {
        planned.push(Planned {
            instrument,
            time_point: TimePoint::BeforeSession,
            earliest: s.date,
            latest: s.date,
        });
    }
    planned.push(Planned {
        instrument,
        time_point: TimePoint::After24h,
        earliest: plus(first.date, 1),
        latest: plus(first.date, 2),
    });
    let mut due = plus(first.date, 7);
    while due <= last.date {
        planned.push(Planned {
            instrument,
            time_point: TimePoint::Weekly,
            earliest: due,
            latest: plus(due, 6),
        });
        due = plus(due, 7);
    }
    planned.push(Planned {
        instrument,
        time_point: TimePoint::EndOfCourse,
        earliest: last.date,
        latest: plus(last.date, 7),
    });
    Schedule::new(planned)
}

#[cfg(test)]
mod tests;
