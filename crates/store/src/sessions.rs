//! Treatment sessions: check-in for a booked appointment, the pre-session assessment, the
//! verified dose, pump events, vitals and the alerts they raise, adverse events, discharge, the
//! prescriber's lock, addenda and the Spravato REMS Patient Monitoring Form.
//!
//! Every step is one transaction that first takes the session's row (an update that also
//! refuses a locked session), then reads its status, checks the step with
//! [`clinical::session::check_step`] and writes; two steps at once therefore never both pass.
//! Vitals posted with an idempotency key are stored once: the key's row is inserted first, so a
//! second request with the same key waits for the first and then reads what it stored.

use clinical::course::Product;
use clinical::instruments::schedule::TimePoint;
use clinical::instruments::{InstrumentId, Score};
use clinical::screening::Decision;
use clinical::session::{
    ActionTaken, AddendumText, AdverseKind, AlertFinding, AlertKind, AlertSettings, CheckClock,
    Checklist, Delivery, DischargeFacts, DueCheck, EventDescription, LotNumber, NotGivenReason,
    OverrideReason, PregnancyTest, RemsAnswers, RemsChannel, RemsRecord, ScaleSettings,
    SessionNote, SessionStatus, Step, StepRefused, Vitals, minute_words,
};
use jiff::Timestamp;
use jiff::civil::Date;
use sqlx::AnyConnection;

use crate::audit::{self, Actor, AuditEvent, AuditOutcome};
use crate::row::{
    AppointmentId, CourseId, PatientId, RowReader, SessionAlertId, SessionId, SiteId, UserId,
};
use crate::{Store, StoreError, millis};

/// The dose verified for a session.
#[derive(Debug, Clone, PartialEq)]
pub struct GivenDose {
    /// The order it was computed from.
    pub order_id: String,
    /// Dose to give, mg.
    pub dose_mg: f64,
    /// What the order gives for today's weight, mg.
    pub ordered_mg: f64,
    /// Infusion length, min (IV).
    pub duration_min: Option<f64>,
    /// Pump rate, mL/h (IV).
    pub rate_ml_per_h: Option<f64>,
    /// Dose rate, mg/h (IV).
    pub dose_rate_mg_per_h: Option<f64>,
    /// Stock concentration, mg/mL (IV).
    pub stock_mg_per_ml: Option<f64>,
    /// Lot number of the vial or devices.
    pub lot: Option<String>,
    /// Who verified it.
    pub verified_by: String,
    /// Who confirmed it with their own password (IV).
    pub second_verifier: Option<String>,
    /// The prescriber who overrode the order or cap, with the reason.
    pub overridden: Option<(String, String)>,
    /// The ledger's vials or devices it is drawn from.
    pub containers: Vec<String>,
    /// When.
    pub verified_at: Timestamp,
}

/// A pump or administration event.
#[derive(Debug, Clone, PartialEq)]
pub struct PumpEvent {
    /// When.
    pub at: Timestamp,
    /// Which step (start, pause, resume, rate, stop).
    pub step: Step,
    /// The dose rate from now on, mg/h (start and rate changes of an infusion).
    pub dose_rate_mg_per_h: Option<f64>,
    /// A note.
    pub note: Option<String>,
    /// By whom: a staff member's email, `None` when a part of the system recorded it (the
    /// recording column is empty for a system actor).
    pub by: Option<String>,
}

/// A stored set of vitals.
#[derive(Debug, Clone, PartialEq)]
pub struct VitalsRecord {
    /// Identifier.
    pub id: String,
    /// When taken.
    pub taken_at: Timestamp,
    /// The measures.
    pub vitals: Vitals,
    /// `hand` or `device`.
    pub source: &'static str,
    /// By whom: a staff member's email, `None` when a part of the system recorded it (the
    /// recording column is empty for a system actor).
    pub by: Option<String>,
}

/// A session alert.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionAlert {
    /// Identifier.
    pub id: SessionAlertId,
    /// The reading that raised it.
    pub vitals_id: String,
    /// Kind.
    pub kind: AlertKind,
    /// What is wrong, in words.
    pub message: String,
    /// When raised.
    pub raised_at: Timestamp,
    /// Acknowledgement: when, by whom (`None` for a system actor), the action taken.
    pub acknowledged: Option<(Timestamp, Option<String>, String)>,
}

/// A stored adverse event.
#[derive(Debug, Clone, PartialEq)]
pub struct AdverseRecord {
    /// When.
    pub at: Timestamp,
    /// Kind.
    pub kind: AdverseKind,
    /// Grade 1–5.
    pub grade: u8,
    /// Action taken.
    pub action: Option<String>,
    /// Serious adverse event.
    pub serious: bool,
    /// Description.
    pub note: Option<String>,
    /// By whom: a staff member's email, `None` when a part of the system recorded it (the
    /// recording column is empty for a system actor).
    pub by: Option<String>,
}

/// A dissociation or sedation rating taken in the chair at one of the session's set times.
#[derive(Debug, Clone, PartialEq)]
pub struct ScaleRecord {
    /// The instrument (CADSS-6 or MOAA/S).
    pub instrument: InstrumentId,
    /// The set time it answers, minutes from the start of dosing (0: before the first dose).
    pub minute: u32,
    /// When it was taken.
    pub taken_at: Timestamp,
    /// Total score.
    pub total: i32,
    /// The severity band's code, where the instrument has bands.
    pub band: Option<String>,
    /// By whom: a staff member's email, `None` when a part of the system recorded it (the
    /// recording column is empty for a system actor).
    pub by: Option<String>,
}

/// An addendum to a locked session.
#[derive(Debug, Clone, PartialEq)]
pub struct Addendum {
    /// When.
    pub at: Timestamp,
    /// Text.
    pub body: String,
    /// By whom.
    pub by: String,
}

/// A session with everything recorded in it.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    /// Identifier.
    pub id: SessionId,
    /// The appointment.
    pub appointment_id: AppointmentId,
    /// The patient.
    pub patient_id: PatientId,
    /// Their name.
    pub patient_name: String,
    /// The course.
    pub course_id: CourseId,
    /// Room and chair.
    pub chair_name: String,
    /// Product.
    pub product: Product,
    /// Status.
    pub status: SessionStatus,
    /// Check-in.
    pub checked_in_at: Timestamp,
    /// Today's weight, kg.
    pub weight_kg: Option<f64>,
    /// Escort home confirmed.
    pub escort_confirmed: Option<bool>,
    /// Fasting per clinic policy confirmed.
    pub fasting_confirmed: Option<bool>,
    /// The pregnancy test.
    pub pregnancy_test: Option<PregnancyTest>,
    /// Pre-session note.
    pub pre_note: Option<String>,
    /// The verified dose.
    pub dose: Option<GivenDose>,
    /// Administration started.
    pub started_at: Option<Timestamp>,
    /// Administration stopped.
    pub ended_at: Option<Timestamp>,
    /// Discharged.
    pub discharged_at: Option<Timestamp>,
    /// Who discharged the patient, or ended the session undosed (`None` for a system actor).
    pub discharged_by: Option<String>,
    /// Ended before any drug was given: why, and the note saying more.
    pub not_given: Option<(NotGivenReason, Option<String>)>,
    /// The discharge checklist.
    pub checklist: Option<Checklist>,
    /// Signed and locked: when and by whom.
    pub locked: Option<(Timestamp, String)>,
    /// REMS form answers.
    pub rems: RemsAnswers,
    /// REMS form submission: date and method.
    pub rems_submitted: Option<(Date, RemsChannel)>,
    /// Pump events.
    pub events: Vec<PumpEvent>,
    /// Vitals, oldest first.
    pub vitals: Vec<VitalsRecord>,
    /// Alerts, oldest first.
    pub alerts: Vec<SessionAlert>,
    /// Adverse events.
    pub adverse: Vec<AdverseRecord>,
    /// Dissociation and sedation ratings, oldest first.
    pub scales: Vec<ScaleRecord>,
    /// The patient's assessments marked "before session" taken from 12 hours before check-in
    /// to discharge (`minute` is 0), oldest first.
    pub before_session: Vec<ScaleRecord>,
    /// Addenda.
    pub addenda: Vec<Addendum>,
}

impl SessionRecord {
    /// How the product is given.
    pub fn delivery(&self) -> Delivery {
        Delivery::of(self.product)
    }

    /// The stretches an IV infusion ran by its pump events, up to `now` or discharge, and no
    /// more than the bag held ([`clinical::session::infusion_stretches`]); none for another
    /// delivery or before it started.
    pub fn infusion_stretches(&self, now: Timestamp) -> Vec<clinical::session::Stretch> {
        let (Some(started), Some(dose)) = (self.started_at, self.dose.as_ref()) else {
            return Vec::new();
        };
        if self.delivery() != Delivery::Infusion {
            return Vec::new();
        }
        let events: Vec<(Timestamp, Step, Option<f64>)> = self
            .events
            .iter()
            .map(|e| (e.at, e.step, e.dose_rate_mg_per_h))
            .collect();
        stretches_from(
            started,
            &events,
            dose.dose_rate_mg_per_h,
            dose.dose_mg,
            self.discharged_at,
            now,
        )
    }

    /// What an IV infusion gave by its pump events, mg ([`SessionRecord::infusion_stretches`]);
    /// `None` for another delivery or before it started.
    pub fn infused_mg(&self, now: Timestamp) -> Option<f64> {
        (self.delivery() == Delivery::Infusion && self.started_at.is_some())
            .then(|| clinical::session::infused_mg(&self.infusion_stretches(now)))
    }

    /// Where the session stands, in words: its status's, or that it ended without dosing.
    pub fn status_words(&self) -> &'static str {
        session_status_words(self.status, self.not_given.is_some())
    }

    /// The baseline reading: the first blood pressure taken before administration started (or
    /// the first of the session when none was).
    pub fn baseline(&self) -> Option<&Vitals> {
        baseline_of(&self.vitals, self.started_at)
    }

    /// Alerts not yet acknowledged.
    pub fn open_alerts(&self) -> impl Iterator<Item = &SessionAlert> {
        self.alerts.iter().filter(|a| a.acknowledged.is_none())
    }

    /// The next vital-sign check due.
    pub fn next_check(&self) -> Option<DueCheck> {
        clinical::session::next_check(&self.clock())
    }

    /// The earliest discharge the rules set (esketamine's two hours), while dosing or
    /// monitoring.
    pub fn earliest_discharge(&self) -> Option<jiff::Timestamp> {
        clinical::session::earliest_discharge(&self.clock())
    }

    fn clock(&self) -> CheckClock {
        use clinical::session::{CHECK_EARLY_MIN, ESKETAMINE_MONITOR_MIN, ESKETAMINE_RECHECK_MIN};
        // Whether a blood pressure was taken from a little before `mark` minutes after the
        // start of dosing on.
        let pressure_from = |mark: i64| {
            self.started_at.is_some_and(|s| {
                let from = s + jiff::SignedDuration::from_mins(mark - CHECK_EARLY_MIN);
                self.vitals
                    .iter()
                    .any(|v| v.taken_at >= from && v.vitals.systolic_mmhg.is_some())
            })
        };
        CheckClock {
            delivery: self.delivery(),
            esketamine: self.product.is_esketamine(),
            status: self.status,
            started_at: self.started_at,
            last_vitals_at: self.vitals.last().map(|v| v.taken_at),
            has_forty_minute_reading: pressure_from(ESKETAMINE_RECHECK_MIN),
            has_discharge_reading: pressure_from(ESKETAMINE_MONITOR_MIN),
        }
    }

    /// What the REMS form takes from the record; `setting_contact` says whether the site's
    /// REMS certification carries the setting's address and telephone.
    pub fn rems_record(&self, setting_contact: bool) -> RemsRecord {
        let pressure = |v: &VitalsRecord| v.vitals.systolic_mmhg.zip(v.vitals.diastolic_mmhg);
        let with_bp: Vec<&VitalsRecord> = self
            .vitals
            .iter()
            .filter(|v| pressure(v).is_some())
            .collect();
        let before = self.started_at.and_then(|s| {
            with_bp
                .iter()
                .rev()
                .find(|v| v.taken_at <= s)
                .and_then(|v| pressure(v))
        });
        let forty = self.started_at.and_then(|s| {
            let target = s + jiff::SignedDuration::from_mins(40);
            with_bp
                .iter()
                .filter(|v| v.taken_at > s)
                .min_by_key(|v| (v.taken_at.as_second() - target.as_second()).abs())
                .filter(|v| (v.taken_at.as_second() - target.as_second()).abs() <= 15 * 60)
                .and_then(|v| pressure(v))
        });
        let end_of_monitoring = self.discharged_at;
        let end = end_of_monitoring.and_then(|d| {
            with_bp
                .iter()
                .rev()
                .find(|v| v.taken_at <= d && self.ended_at.is_some_and(|e| v.taken_at >= e))
                .and_then(|v| pressure(v))
        });
        RemsRecord {
            bp_before: before,
            bp_forty: forty,
            bp_end: end,
            monitored_min: self
                .started_at
                .zip(end_of_monitoring)
                .map(|(s, d)| d.duration_since(s).as_mins()),
            lot_recorded: self
                .dose
                .as_ref()
                .is_some_and(|d| d.lot.as_deref().is_some_and(|l| !l.trim().is_empty())),
            setting_contact,
        }
    }
}

/// Where a session stands, in words: its status's, or, for one that ended before any drug was
/// given, that it ended without dosing.
pub fn session_status_words(status: SessionStatus, undosed: bool) -> &'static str {
    match (status, undosed) {
        (SessionStatus::Discharged, true) => "Ended without dosing",
        (SessionStatus::Locked, true) => "Ended without dosing; signed and locked",
        (status, _) => status.label(),
    }
}

/// One of a patient's sessions, as their record lists them.
#[derive(Debug, Clone, PartialEq)]
pub struct PatientSession {
    /// Session.
    pub id: SessionId,
    /// Check-in.
    pub checked_in_at: Timestamp,
    /// What was to be given.
    pub product: Product,
    /// Status.
    pub status: SessionStatus,
    /// The dose verified, mg.
    pub dose_mg: Option<f64>,
    /// Whether administration started.
    pub started: bool,
    /// What an IV infusion gave by its pump events, mg, once started.
    pub infused_mg: Option<f64>,
    /// Why it ended before any drug was given.
    pub not_given: Option<NotGivenReason>,
    /// How many adverse events it records.
    pub adverse_events: i64,
}

/// [`clinical::session::infusion_stretches`] of pump events at instants, for an infusion
/// started at `started`, up to its discharge or, before it, `now`.
fn stretches_from(
    started: Timestamp,
    events: &[(Timestamp, Step, Option<f64>)],
    verified_mg_per_h: Option<f64>,
    dose_mg: f64,
    discharged_at: Option<Timestamp>,
    now: Timestamp,
) -> Vec<clinical::session::Stretch> {
    // ok: a session not yet discharged is read up to now, not defaulted.
    let until = discharged_at.unwrap_or(now);
    let minute = |t: Timestamp| t.duration_since(started).as_secs_f64() / 60.0;
    let events: Vec<(f64, Step, Option<f64>)> = events
        .iter()
        .map(|(at, step, rate)| (minute(*at), *step, *rate))
        .collect();
    clinical::session::infusion_stretches(&events, verified_mg_per_h, dose_mg, minute(until))
}

fn baseline_of(vitals: &[VitalsRecord], started: Option<Timestamp>) -> Option<&Vitals> {
    let with_bp = |v: &&VitalsRecord| v.vitals.systolic_mmhg.is_some();
    vitals
        .iter()
        .filter(with_bp)
        .find(|v| started.is_none_or(|s| v.taken_at <= s))
        .or_else(|| vitals.iter().find(with_bp))
        .map(|v| &v.vitals)
}

/// Why a session step was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SessionRefusal {
    /// Not allowed in the session's state.
    #[error("{0}")]
    Step(StepRefused),
    /// Locked.
    #[error("the session is signed and locked; add an addendum instead")]
    Locked,
    /// The appointment cannot be checked in, with why (a sentence).
    #[error("{0}")]
    CheckIn(&'static str),
    /// The dose cannot be verified or started, or the pump's rate changed, with why.
    #[error("{0}")]
    Dose(String),
    /// The dose or the infusion passes a limit (the order, the cap, the product's maximum, the
    /// published infusion length, the rate verified) in a way the actor may not.
    #[error("{0}")]
    Limits(clinical::session::DoseProblem),
    /// What the discharge still needs, by field.
    #[error("the patient cannot be discharged yet")]
    Discharge(Vec<(&'static str, String)>),
    /// What the REMS form still needs before the session can be locked.
    #[error("the REMS Patient Monitoring Form is not complete")]
    Rems(Vec<(&'static str, String)>),
    /// Alerts are still open where the step needs them acknowledged (dosing starts, an
    /// undosed patient leaves), with what to do.
    #[error("{0}")]
    AlertsOpen(String),
    /// The session cannot end undosed as asked, with why (a sentence's body).
    #[error("{0}")]
    NotGiven(&'static str),
    /// The alert is not open (acknowledged already or not this session's).
    #[error("that alert is already acknowledged")]
    AlertClosed,
    /// A dissociation or sedation rating cannot be stored as it stands, with why.
    #[error("{0}")]
    Scale(String),
    /// The vitals taken before dosing are not what dosing needs, each problem at its field.
    #[error("the vitals before dosing are not complete")]
    Vitals(Vec<clinical::session::VitalsError>),
    /// The same idempotency key came with a different body.
    #[error(
        "this Idempotency-Key was used for a different request; send a new key for new observations"
    )]
    KeyReused,
}

/// What an idempotent vitals post keeps to answer its repeats: the ids of the readings and of
/// the alerts it made. A stored answer that does not decode as this is an error, never an
/// empty answer.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredVitalsAnswer {
    vitals: Vec<String>,
    alerts: Vec<String>,
}

/// What the pre-session assessment records.
#[derive(Debug, Clone)]
pub struct PreAssessment<'a> {
    /// Today's weight, kg.
    pub weight_kg: f64,
    /// Escort home confirmed.
    pub escort: bool,
    /// Fasting per clinic policy confirmed.
    pub fasting: bool,
    /// The pregnancy test.
    pub pregnancy_test: PregnancyTest,
    /// Note.
    pub note: Option<SessionNote<'a>>,
    /// The pre-session vitals.
    pub vitals: Vitals,
}

/// A verified dose to record. The store checks it against the course's order in force and the
/// weight the session holds when it is recorded, not as a page read them before.
#[derive(Debug, Clone)]
pub struct DoseVerification<'a> {
    /// The order it comes from: refused when a later order has replaced it.
    pub order_id: &'a str,
    /// Dose, mg.
    pub dose_mg: f64,
    /// The clinic's caps (settings: `dose_caps`).
    pub caps: &'a pk::dose::DoseCaps,
    /// The shortest infusion Ketaflow plans, min (settings: `dosing.min_infusion_min`).
    pub min_infusion_min: f64,
    /// IV: length, rate, dose rate, stock.
    pub infusion: Option<(f64, f64, f64, f64)>,
    /// Lot number.
    pub lot: Option<LotNumber<'a>>,
    /// The second person (IV), already checked with their password.
    pub second_verifier: Option<&'a UserId>,
    /// Why a prescriber gives more than the order or the cap, or a shorter infusion than the
    /// published regimens' (kept only when the dose or the infusion is such an override).
    pub override_reason: Option<OverrideReason<'a>>,
    /// The ledger's vials or devices the dose is drawn from (none when the clinic does not
    /// keep its stock in Ketaflow).
    pub containers: &'a [String],
    /// What makes the containers usable today: their expiry, and an opened vial's days.
    pub rule: &'a clinical::ledger::StockRule,
}

/// Where an idempotent post comes from.
#[derive(Debug, Clone, Copy)]
pub struct IdempotencyKey<'a> {
    /// The caller (token or user).
    pub caller: &'a str,
    /// The key sent.
    pub key: &'a str,
    /// A fingerprint of the request body.
    pub request: &'a str,
}

/// What a post of vitals stored (or stored the first time its key was used).
#[derive(Debug, Clone, PartialEq)]
pub struct VitalsOutcome {
    /// The observations.
    pub vitals: Vec<VitalsRecord>,
    /// Alerts they raised.
    pub alerts: Vec<SessionAlert>,
    /// Whether this is a replay of an earlier request with the same key.
    pub replayed: bool,
}

/// A REMS form due or submitted.
#[derive(Debug, Clone, PartialEq)]
pub struct RemsFormRow {
    /// Session.
    pub session_id: SessionId,
    /// Patient.
    pub patient_id: PatientId,
    /// Name.
    pub patient_name: String,
    /// Session time.
    pub checked_in_at: Timestamp,
    /// Status.
    pub status: SessionStatus,
}

/// A discharged session waiting for the prescriber's signature and lock.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionToLock {
    /// Session.
    pub session_id: SessionId,
    /// Patient.
    pub patient_id: PatientId,
    /// Name.
    pub patient_name: String,
    /// What was given.
    pub product: Product,
    /// When the patient was discharged.
    pub discharged_at: Timestamp,
    /// Whether the session ended before any drug was given.
    pub undosed: bool,
}

const SESSION_SELECT: &str = "select s.id, s.appointment_id, s.patient_id,
        p.given_name || ' ' || p.family_name as patient_name, s.course_id,
        r.name || ', ' || c.name as chair_name, s.product, s.status, s.checked_in_at,
        s.weight_kg, s.escort_confirmed, s.fasting_confirmed, s.pregnancy_test, s.pre_note,
        s.order_id, s.dose_mg, s.ordered_mg, s.duration_min, s.rate_ml_per_h,
        s.dose_rate_mg_per_h, s.stock_mg_per_ml, s.lot, vb.email as verified_by,
        sv.email as second_verifier, ob.email as override_by, s.override_reason, s.verified_at,
        s.started_at, s.ended_at, s.discharged_at, db.email as discharged_by, s.checklist,
        s.locked_at,
        lb.email as locked_by, s.rems_answers, s.cs_containers, s.not_given, s.not_given_note
   from treatment_sessions s
   join patients p on p.id = s.patient_id
   join appointments a on a.id = s.appointment_id
   join chairs c on c.id = a.chair_id
   join rooms r on r.id = c.room_id
   left join users vb on vb.id = s.verified_by
   left join users sv on sv.id = s.second_verifier
   left join users ob on ob.id = s.override_by
   left join users lb on lb.id = s.locked_by
   left join users db on db.id = s.discharged_by";

fn opt_flag(r: &RowReader<'_>, column: &'static str) -> Result<Option<bool>, StoreError> {
    match r.opt_int(column)? {
        None => Ok(None),
        Some(0) => Ok(Some(false)),
        Some(1) => Ok(Some(true)),
        Some(other) => Err(r.corrupt(column, format!("{other} is not a 0/1 flag"))),
    }
}

fn checklist_json(c: &Checklist) -> String {
    serde_json::json!({
        "alert_and_oriented": c.alert_and_oriented,
        "no_active_nausea": c.no_active_nausea,
        "escort_present": c.escort_present,
        "vitals_near_baseline": c.vitals_near_baseline,
    })
    .to_string()
}

fn checklist_from(text: &str) -> Result<Checklist, String> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let get = |k: &str| {
        v.get(k)
            .and_then(serde_json::Value::as_bool)
            .ok_or_else(|| format!("{k} is missing"))
    };
    Ok(Checklist {
        alert_and_oriented: get("alert_and_oriented")?,
        no_active_nausea: get("no_active_nausea")?,
        escort_present: get("escort_present")?,
        vitals_near_baseline: get("vitals_near_baseline")?,
    })
}

fn rems_json(a: &RemsAnswers) -> String {
    let mut map = serde_json::Map::new();
    for (code, _, v) in a.questions() {
        map.insert(code.into(), v.map_or(serde_json::Value::Null, Into::into));
    }
    map.insert(
        "ready_to_leave_min".into(),
        a.ready_to_leave_min
            .map_or(serde_json::Value::Null, Into::into),
    );
    serde_json::Value::Object(map).to_string()
}

fn rems_from(text: &str) -> Result<RemsAnswers, String> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let yes_no = |k: &str| -> Result<Option<bool>, String> {
        match v.get(k) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(format!("{k} is {other}, not true, false or null")),
        }
    };
    let ready = match v.get("ready_to_leave_min") {
        None | Some(serde_json::Value::Null) => None,
        Some(n) => Some(
            n.as_u64()
                .and_then(|n| u16::try_from(n).ok())
                .ok_or_else(|| format!("ready_to_leave_min is {n}, not a number of minutes"))?,
        ),
    };
    Ok(RemsAnswers {
        benzodiazepines: yes_no("benzodiazepines")?,
        sedative_hypnotics: yes_no("sedative_hypnotics")?,
        psychostimulants: yes_no("psychostimulants")?,
        maois: yes_no("maois")?,
        opioids: yes_no("opioids")?,
        first_treatment: yes_no("first_treatment")?,
        vitals_ok_before: yes_no("vitals_ok_before")?,
        vitals_ok_end: yes_no("vitals_ok_end")?,
        sedation: yes_no("sedation")?,
        dissociation: yes_no("dissociation")?,
        respiratory_depression: yes_no("respiratory_depression")?,
        ready_to_leave_min: ready,
    })
}

/// Why a session ended undosed, from its `not_given` column: `None` when it did not.
fn not_given(r: &RowReader<'_>) -> Result<Option<NotGivenReason>, StoreError> {
    match r.opt_text("not_given")? {
        None => Ok(None),
        Some(code) => NotGivenReason::parse(&code)
            .map(Some)
            .ok_or_else(|| r.corrupt("not_given", format!("{code:?} is not a reason for no dose"))),
    }
}

fn session_from_row(row: &sqlx::any::AnyRow) -> Result<SessionRecord, StoreError> {
    let r = RowReader::new(row, "treatment_sessions", "id")?;
    let dose = match r.opt_float("dose_mg")? {
        None => None,
        Some(dose_mg) => {
            let override_by = r.opt_text("override_by")?;
            let override_reason = r.opt_text("override_reason")?;
            let duration = r.opt_float("duration_min")?;
            Some(GivenDose {
                order_id: r
                    .opt_text("order_id")?
                    .ok_or_else(|| r.corrupt("order_id", "a dose without its order"))?,
                dose_mg,
                ordered_mg: r
                    .opt_float("ordered_mg")?
                    .ok_or_else(|| r.corrupt("ordered_mg", "a dose without the ordered dose"))?,
                duration_min: duration,
                rate_ml_per_h: r.opt_float("rate_ml_per_h")?,
                dose_rate_mg_per_h: r.opt_float("dose_rate_mg_per_h")?,
                stock_mg_per_ml: r.opt_float("stock_mg_per_ml")?,
                lot: r.opt_text("lot")?,
                verified_by: r
                    .opt_text("verified_by")?
                    .ok_or_else(|| r.corrupt("verified_by", "a dose nobody verified"))?,
                second_verifier: r.opt_text("second_verifier")?,
                overridden: override_by.zip(override_reason),
                containers: match r.opt_text("cs_containers")? {
                    None => Vec::new(),
                    Some(text) => r.parsed("cs_containers", |_| {
                        serde_json::from_str::<Vec<String>>(&text)
                    })?,
                },
                verified_at: r
                    .opt_instant("verified_at")?
                    .ok_or_else(|| r.corrupt("verified_at", "a dose without its time"))?,
            })
        }
    };
    let locked = match (r.opt_instant("locked_at")?, r.opt_text("locked_by")?) {
        (Some(at), Some(by)) => Some((at, by)),
        (None, _) => None,
        (Some(_), None) => return Err(r.corrupt("locked_by", "locked by nobody")),
    };
    Ok(SessionRecord {
        id: r.id("id", SessionId::parse)?,
        appointment_id: r.id("appointment_id", AppointmentId::parse)?,
        patient_id: r.id("patient_id", PatientId::parse)?,
        patient_name: r.text("patient_name")?,
        course_id: r.id("course_id", CourseId::parse)?,
        chair_name: r.text("chair_name")?,
        product: r.parsed("product", |s| Product::parse(s).ok_or("not a product"))?,
        status: r.parsed("status", |s| SessionStatus::parse(s).ok_or("not a status"))?,
        checked_in_at: r.instant("checked_in_at")?,
        weight_kg: r.opt_float("weight_kg")?,
        escort_confirmed: opt_flag(&r, "escort_confirmed")?,
        fasting_confirmed: opt_flag(&r, "fasting_confirmed")?,
        pregnancy_test: match r.opt_text("pregnancy_test")? {
            None => None,
            Some(code) => Some(PregnancyTest::parse(&code).ok_or_else(|| {
                r.corrupt(
                    "pregnancy_test",
                    format!("{code:?} is not a pregnancy test result"),
                )
            })?),
        },
        pre_note: r.opt_text("pre_note")?,
        dose,
        started_at: r.opt_instant("started_at")?,
        ended_at: r.opt_instant("ended_at")?,
        discharged_at: r.opt_instant("discharged_at")?,
        discharged_by: r.opt_text("discharged_by")?,
        not_given: match not_given(&r)? {
            None => None,
            Some(reason) => Some((reason, r.opt_text("not_given_note")?)),
        },
        checklist: match r.opt_text("checklist")? {
            None => None,
            Some(t) => Some(checklist_from(&t).map_err(|e| r.corrupt("checklist", e))?),
        },
        locked,
        rems: match r.opt_text("rems_answers")? {
            None => RemsAnswers::default(),
            Some(t) => rems_from(&t).map_err(|e| r.corrupt("rems_answers", e))?,
        },
        rems_submitted: None,
        events: Vec::new(),
        vitals: Vec::new(),
        alerts: Vec::new(),
        adverse: Vec::new(),
        scales: Vec::new(),
        before_session: Vec::new(),
        addenda: Vec::new(),
    })
}

fn measure(r: &RowReader<'_>, column: &'static str) -> Result<Option<u16>, StoreError> {
    r.opt_int(column)?
        .map(|v| u16::try_from(v).map_err(|_| r.corrupt(column, format!("{v} is not a reading"))))
        .transpose()
}

fn vitals_from_row(row: &sqlx::any::AnyRow) -> Result<(String, VitalsRecord), StoreError> {
    let r = RowReader::new(row, "session_vitals", "id")?;
    Ok((
        r.text("session_id")?,
        VitalsRecord {
            id: r.text("id")?,
            taken_at: r.instant("taken_at")?,
            vitals: Vitals {
                systolic_mmhg: measure(&r, "systolic_mmhg")?,
                diastolic_mmhg: measure(&r, "diastolic_mmhg")?,
                heart_rate_bpm: measure(&r, "heart_rate_bpm")?,
                spo2_percent: measure(&r, "spo2_percent")?,
                respiratory_rate_per_min: measure(&r, "respiratory_rate_per_min")?,
            },
            source: r.parsed("source", |s| match s {
                "hand" => Ok("hand"),
                "device" => Ok("device"),
                _ => Err("not hand or device"),
            })?,
            by: r.opt_text("by_email")?,
        },
    ))
}

fn alert_from_row(row: &sqlx::any::AnyRow) -> Result<(String, SessionAlert), StoreError> {
    let r = RowReader::new(row, "session_alerts", "id")?;
    let acknowledged = match r.opt_instant("acknowledged_at")? {
        None => None,
        Some(at) => Some((
            at,
            r.opt_text("by_email")?,
            r.opt_text("action")?
                .ok_or_else(|| r.corrupt("action", "acknowledged without an action"))?,
        )),
    };
    Ok((
        r.text("session_id")?,
        SessionAlert {
            id: r.id("id", SessionAlertId::parse)?,
            vitals_id: r.text("vitals_id")?,
            kind: r.parsed("kind", |s| AlertKind::parse(s).ok_or("not an alert kind"))?,
            message: r.text("message")?,
            raised_at: r.instant("raised_at")?,
            acknowledged,
        },
    ))
}

const VITALS_SELECT: &str = "select v.id, v.session_id, v.taken_at, v.systolic_mmhg,
        v.diastolic_mmhg, v.heart_rate_bpm, v.spo2_percent, v.respiratory_rate_per_min, v.source,
        u.email as by_email
   from session_vitals v left join users u on u.id = v.recorded_by";

const ALERT_SELECT: &str = "select a.id, a.session_id, a.vitals_id, a.kind, a.message,
        a.raised_at, a.acknowledged_at, u.email as by_email, a.action
   from session_alerts a left join users u on u.id = a.acknowledged_by";

/// How far before check-in a "before session" assessment counts for the session, ms (12 h).
const BEFORE_SESSION_MS: i64 = 12 * 60 * 60 * 1000;

/// How many of each session's latest readings the chair board reads.
const BOARD_VITALS: usize = 5;

/// How much of a session's record a caller reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// Everything: the session page, discharge, the lock.
    Everything,
    /// The latest readings, alerts and pump events (the chair board, the list).
    Latest,
    /// The baseline reading and the open alerts only: what recording vitals needs, so a
    /// reading costs the same however many came before.
    Core,
}

/// Fills the child rows of `sessions` (a bounded number of queries, whatever their number).
async fn fill_children(
    conn: &mut AnyConnection,
    sessions: &mut [SessionRecord],
    scope: Scope,
) -> Result<(), StoreError> {
    let everything = scope == Scope::Everything;
    if sessions.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = sessions.iter().map(|s| s.id.as_str().to_owned()).collect();
    let list = crate::placeholders(1, ids.len());
    let index = |id: &str, sessions: &[SessionRecord]| sessions.iter().position(|s| s.id.0 == id);

    // The board needs only each session's latest readings (the last time, the last pressure,
    // whether the 40-minute reading is in); the whole record reads them all.
    // Per session, its own index range: the latest few, or the earliest pressure (the
    // baseline), one union part each.
    let per_session = |pick: &str| -> String {
        (1..=ids.len())
            .map(|i| {
                format!("select * from ({VITALS_SELECT} where v.session_id = ${i} {pick}) p{i}")
            })
            .collect::<Vec<_>>()
            .join(" union all ")
    };
    let q = match scope {
        Scope::Everything => {
            format!("{VITALS_SELECT} where v.session_id in ({list}) order by v.taken_at, v.id")
        }
        Scope::Latest => format!(
            "select * from ({}) x order by taken_at, id",
            per_session(&format!(
                "order by v.taken_at desc, v.id desc limit {BOARD_VITALS}"
            ))
        ),
        Scope::Core => format!(
            "select * from ({}) x order by taken_at, id",
            per_session("and v.systolic_mmhg is not null order by v.taken_at, v.id limit 1")
        ),
    };
    let mut query = sqlx::query(&q);
    for id in &ids {
        query = query.bind(id.as_str());
    }
    for row in query.fetch_all(&mut *conn).await? {
        let (sid, v) = vitals_from_row(&row)?;
        if let Some(i) = index(&sid, sessions) {
            sessions[i].vitals.push(v);
        }
    }
    let open_only = if scope == Scope::Core {
        "and a.acknowledged_at is null"
    } else {
        ""
    };
    let q = format!(
        "{ALERT_SELECT} where a.session_id in ({list}) {open_only} order by a.raised_at, a.id"
    );
    let mut query = sqlx::query(&q);
    for id in &ids {
        query = query.bind(id.as_str());
    }
    for row in query.fetch_all(&mut *conn).await? {
        let (sid, a) = alert_from_row(&row)?;
        if let Some(i) = index(&sid, sessions) {
            sessions[i].alerts.push(a);
        }
    }
    if scope != Scope::Core {
        let q = format!(
            "select e.id, e.session_id, e.at, e.kind, e.dose_rate_mg_per_h, e.note, u.email as by_email
               from session_events e left join users u on u.id = e.recorded_by
              where e.session_id in ({list}) order by e.at, e.id"
        );
        let mut query = sqlx::query(&q);
        for id in &ids {
            query = query.bind(id.as_str());
        }
        for row in query.fetch_all(&mut *conn).await? {
            let r = RowReader::new(&row, "session_events", "id")?;
            let sid = r.text("session_id")?;
            let e = PumpEvent {
                at: r.instant("at")?,
                step: r.parsed("kind", |s| Step::parse(s).ok_or("not a pump event"))?,
                dose_rate_mg_per_h: r.opt_float("dose_rate_mg_per_h")?,
                note: r.opt_text("note")?,
                by: r.opt_text("by_email")?,
            };
            if let Some(i) = index(&sid, sessions) {
                sessions[i].events.push(e);
            }
        }
    }
    if !everything {
        return Ok(());
    }
    let q = format!(
        "select e.id, e.session_id, e.at, e.kind, e.grade, e.action, e.serious, e.note,
                u.email as by_email
           from adverse_events e left join users u on u.id = e.recorded_by
          where e.session_id in ({list}) order by e.at, e.id"
    );
    let mut query = sqlx::query(&q);
    for id in &ids {
        query = query.bind(id.as_str());
    }
    for row in query.fetch_all(&mut *conn).await? {
        let r = RowReader::new(&row, "adverse_events", "id")?;
        let sid = r.text("session_id")?;
        let grade = r.int("grade")?;
        let e = AdverseRecord {
            at: r.instant("at")?,
            kind: r.parsed("kind", |s| AdverseKind::parse(s).ok_or("not a kind"))?,
            grade: u8::try_from(grade)
                .ok()
                .filter(|g| (1..=5).contains(g))
                .ok_or_else(|| r.corrupt("grade", format!("{grade} is not a grade 1-5")))?,
            action: r.opt_text("action")?,
            serious: r.flag("serious")?,
            note: r.opt_text("note")?,
            by: r.opt_text("by_email")?,
        };
        if let Some(i) = index(&sid, sessions) {
            sessions[i].adverse.push(e);
        }
    }
    let q = format!(
        "select k.session_id, k.instrument, k.minute, a.id, a.administered_at, a.total,
                a.severity, u.email as by_email
           from session_scales k join assessments a on a.id = k.assessment_id
           left join users u on u.id = a.entered_by_user_id
          where k.session_id in ({list}) order by a.administered_at, k.minute, a.id"
    );
    let mut query = sqlx::query(&q);
    for id in &ids {
        query = query.bind(id.as_str());
    }
    for row in query.fetch_all(&mut *conn).await? {
        let r = RowReader::new(&row, "session_scales", "id")?;
        let sid = r.text("session_id")?;
        let minute = r.int("minute")?;
        let total = r.int("total")?;
        let k = ScaleRecord {
            instrument: r.parsed("instrument", |s| {
                InstrumentId::parse(s).map_err(|_| "not an instrument")
            })?,
            minute: u32::try_from(minute)
                .map_err(|_| r.corrupt("minute", format!("{minute} is not a set time")))?,
            taken_at: r.instant("administered_at")?,
            total: i32::try_from(total)
                .map_err(|_| r.corrupt("total", format!("{total} is not a score")))?,
            band: r.opt_text("severity")?,
            by: r.opt_text("by_email")?,
        };
        if let Some(i) = index(&sid, sessions) {
            sessions[i].scales.push(k);
        }
    }
    // The pre-session scales of the course: the patient's "before session" assessments from
    // 12 hours before check-in (Ketaflow's window: the morning of the session) to discharge.
    let q = format!(
        "select s.id as session_id, a.id, a.instrument, a.administered_at, a.total, a.severity,
                u.email as by_email
           from treatment_sessions s
           join assessments a on a.patient_id = s.patient_id and a.time_point = 'before_session'
                and a.administered_at >= s.checked_in_at - {BEFORE_SESSION_MS}
                and (s.discharged_at is null or a.administered_at <= s.discharged_at)
           left join users u on u.id = a.entered_by_user_id
          where s.id in ({list}) order by a.administered_at, a.id"
    );
    let mut query = sqlx::query(&q);
    for id in &ids {
        query = query.bind(id.as_str());
    }
    for row in query.fetch_all(&mut *conn).await? {
        let r = RowReader::new(&row, "assessments", "id")?;
        let sid = r.text("session_id")?;
        let total = r.int("total")?;
        let k = ScaleRecord {
            instrument: r.parsed("instrument", |s| {
                InstrumentId::parse(s).map_err(|_| "not an instrument")
            })?,
            minute: 0,
            taken_at: r.instant("administered_at")?,
            total: i32::try_from(total)
                .map_err(|_| r.corrupt("total", format!("{total} is not a score")))?,
            band: r.opt_text("severity")?,
            by: r.opt_text("by_email")?,
        };
        if let Some(i) = index(&sid, sessions) {
            sessions[i].before_session.push(k);
        }
    }
    let q = format!(
        "select d.id, d.session_id, d.at, d.body, u.email as by_email
           from session_addenda d join users u on u.id = d.written_by
          where d.session_id in ({list}) order by d.at, d.id"
    );
    let mut query = sqlx::query(&q);
    for id in &ids {
        query = query.bind(id.as_str());
    }
    for row in query.fetch_all(&mut *conn).await? {
        let r = RowReader::new(&row, "session_addenda", "id")?;
        let sid = r.text("session_id")?;
        let a = Addendum {
            at: r.instant("at")?,
            body: r.text("body")?,
            by: r.text("by_email")?,
        };
        if let Some(i) = index(&sid, sessions) {
            sessions[i].addenda.push(a);
        }
    }
    Ok(())
}

/// Decodes sessions and fills what `scope` needs (REMS submissions with the whole record only).
async fn decode_list(
    conn: &mut AnyConnection,
    rows: &[sqlx::any::AnyRow],
    scope: Scope,
) -> Result<Vec<SessionRecord>, StoreError> {
    let mut list = rows
        .iter()
        .map(session_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    fill_children(conn, &mut list, scope).await?;
    if scope == Scope::Everything {
        fill_submissions(conn, &mut list).await?;
    }
    Ok(list)
}

async fn read_session(
    conn: &mut AnyConnection,
    site_id: &SiteId,
    id: &SessionId,
) -> Result<Option<SessionRecord>, StoreError> {
    read_scoped(conn, site_id, id, Scope::Everything).await
}

async fn read_scoped(
    conn: &mut AnyConnection,
    site_id: &SiteId,
    id: &SessionId,
    scope: Scope,
) -> Result<Option<SessionRecord>, StoreError> {
    let row = sqlx::query(&format!(
        "{SESSION_SELECT} where s.id = $1 and s.site_id = $2"
    ))
    .bind(id.as_str())
    .bind(site_id.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    Ok(decode_list(conn, &[row], scope).await?.pop())
}

/// Takes the session's row for the rest of the transaction; `Err(Locked)` when it is locked.
async fn take(
    conn: &mut AnyConnection,
    site_id: &SiteId,
    id: &SessionId,
    now: Timestamp,
) -> Result<Result<SessionRecord, SessionRefusal>, StoreError> {
    take_scoped(conn, site_id, id, now, Scope::Everything).await
}

async fn take_scoped(
    conn: &mut AnyConnection,
    site_id: &SiteId,
    id: &SessionId,
    now: Timestamp,
    scope: Scope,
) -> Result<Result<SessionRecord, SessionRefusal>, StoreError> {
    let touched = sqlx::query(
        "update treatment_sessions set updated_at = $3
          where id = $1 and site_id = $2 and status <> 'locked'",
    )
    .bind(id.as_str())
    .bind(site_id.as_str())
    .bind(millis(now))
    .execute(&mut *conn)
    .await?;
    let record = read_scoped(conn, site_id, id, scope)
        .await?
        .ok_or(StoreError::NotFound { entity: "session" })?;
    if touched.rows_affected() != 1 {
        return Ok(Err(SessionRefusal::Locked));
    }
    Ok(Ok(record))
}

fn step_to(s: &SessionRecord, step: Step) -> Result<SessionStatus, SessionRefusal> {
    clinical::session::check_step(s.status, step, s.delivery()).map_err(SessionRefusal::Step)
}

async fn set_status(
    conn: &mut AnyConnection,
    id: &SessionId,
    to: SessionStatus,
) -> Result<(), StoreError> {
    sqlx::query("update treatment_sessions set status = $2 where id = $1")
        .bind(id.as_str())
        .bind(to.code())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

fn step_event(s: &SessionRecord, what: &str) -> AuditEvent {
    AuditEvent::new("session.step", AuditOutcome::Ok)
        .entity("session", s.id.as_str())
        .patient(s.patient_id.as_str())
        .detail(format!("step={what}"))
}

/// Inserts vitals and the alerts they raise (no second open alert of a kind).
async fn insert_vitals(
    conn: &mut AnyConnection,
    s: &SessionRecord,
    readings: &[(Timestamp, Vitals)],
    source: &'static str,
    actor: &Actor,
    settings: &AlertSettings,
    now: Timestamp,
) -> Result<(Vec<VitalsRecord>, Vec<SessionAlert>), StoreError> {
    // What is returned is what a later read gives: instants to the millisecond.
    let to_ms = |t: Timestamp| Timestamp::from_millisecond(millis(t)).unwrap_or(t);
    let now = to_ms(now);
    let mut stored = Vec::with_capacity(readings.len());
    let mut raised = Vec::new();
    let mut open: Vec<AlertKind> = s.open_alerts().map(|a| a.kind).collect();
    let mut all_vitals = s.vitals.clone();
    let ids: Vec<String> = readings.iter().map(|_| crate::new_id()).collect();
    // The batch in one statement: eleven values a row.
    if !readings.is_empty() {
        let rows: Vec<String> = (0..readings.len())
            .map(|r| format!("({})", crate::placeholders(r * 11 + 1, 11)))
            .collect();
        let sql = format!(
            "insert into session_vitals (id, session_id, taken_at, systolic_mmhg, diastolic_mmhg,
                 heart_rate_bpm, spo2_percent, respiratory_rate_per_min, source, recorded_by,
                 recorded_at)
             values {}",
            rows.join(", ")
        );
        let as_i64 = |m: Option<u16>| m.map(i64::from);
        let mut query = sqlx::query(&sql);
        for (id, (taken_at, v)) in ids.iter().zip(readings) {
            query = query
                .bind(id.as_str())
                .bind(s.id.as_str())
                .bind(millis(*taken_at))
                .bind(as_i64(v.systolic_mmhg))
                .bind(as_i64(v.diastolic_mmhg))
                .bind(as_i64(v.heart_rate_bpm))
                .bind(as_i64(v.spo2_percent))
                .bind(as_i64(v.respiratory_rate_per_min))
                .bind(source)
                .bind(actor.user_id())
                .bind(millis(now));
        }
        query.execute(&mut *conn).await?;
    }
    for (id, (taken_at, v)) in ids.iter().zip(readings) {
        let record = VitalsRecord {
            id: id.clone(),
            taken_at: to_ms(*taken_at),
            vitals: *v,
            source,
            // As read back: the user's email, none for a system actor.
            by: actor.user_id().map(|_| actor.label().to_owned()),
        };
        all_vitals.push(record.clone());
        all_vitals.sort_by_key(|r| r.taken_at);
        let baseline = baseline_of(&all_vitals, s.started_at).copied();
        // The baseline reading does not alert against itself.
        let against = baseline.filter(|b| b != v || s.started_at.is_some());
        for AlertFinding { kind, message } in
            clinical::session::evaluate(v, against.as_ref(), settings)
        {
            if open.contains(&kind) {
                continue;
            }
            let alert_id = SessionAlertId::new();
            sqlx::query(
                "insert into session_alerts (id, session_id, vitals_id, kind, message, raised_at)
                 values ($1, $2, $3, $4, $5, $6)",
            )
            .bind(alert_id.as_str())
            .bind(s.id.as_str())
            .bind(id.as_str())
            .bind(kind.code())
            .bind(message.as_str())
            .bind(millis(now))
            .execute(&mut *conn)
            .await?;
            open.push(kind);
            raised.push(SessionAlert {
                id: alert_id,
                vitals_id: id.clone(),
                kind,
                message,
                raised_at: now,
                acknowledged: None,
            });
        }
        stored.push(record);
    }
    let event = AuditEvent::new("session.vitals", AuditOutcome::Ok)
        .entity("session", s.id.as_str())
        .patient(s.patient_id.as_str())
        .detail(format!("rows={} alerts={}", stored.len(), raised.len()));
    audit::insert(conn, now, actor, &event).await?;
    Ok((stored, raised))
}

/// The decision standing on the patient's newest screening (`None` when there is no
/// screening, or none decided): a later screening (new findings) stands in for the ones
/// before it until a prescriber decides on it.
async fn standing_decision<'e, E>(
    executor: E,
    patient: &PatientId,
) -> Result<Option<Decision>, StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let screening = sqlx::query(
        "select s.id, d.decision
           from screenings s left join screening_decisions d on d.screening_id = s.id
          where s.patient_id = $1
          order by s.recorded_at desc, s.id desc, d.decided_at desc, d.id desc limit 1",
    )
    .bind(patient.as_str())
    .fetch_optional(executor)
    .await?;
    let Some(row) = &screening else {
        return Ok(None);
    };
    let r = RowReader::new(row, "screenings", "id")?;
    r.opt_text("decision")?
        .map(|code| {
            Decision::parse(&code)
                .ok_or_else(|| r.corrupt("decision", format!("'{code}' is not a decision")))
        })
        .transpose()
}

impl Store {
    /// Whether the patient of the site can be checked in as far as screening goes: the
    /// decision on their newest screening is "eligible" ([`Store::check_in`] refuses
    /// otherwise). Says nothing of the screening's content; not audited, like the chair
    /// board's reads.
    #[tracing::instrument(skip_all)]
    pub async fn cleared_by_screening(
        &self,
        site_id: &SiteId,
        patient: &PatientId,
    ) -> Result<bool, StoreError> {
        let known: Option<String> =
            sqlx::query_scalar("select id from patients where id = $1 and site_id = $2")
                .bind(patient.as_str())
                .bind(site_id.as_str())
                .fetch_optional(&self.pool)
                .await?;
        if known.is_none() {
            return Err(StoreError::NotFound { entity: "patient" });
        }
        Ok(standing_decision(&self.pool, patient).await? == Some(Decision::Eligible))
    }

    /// Checks a patient in for a booked treatment appointment of a course with a signed order
    /// (the patient's current consent signed, and their newest screening decided eligible by a
    /// prescriber), making the session; checking in an appointment
    /// that already has a session returns that session. `today` is the clinic's day around
    /// `now` (`[start, end)`): a session is opened only for an appointment starting that day,
    /// so a session is never opened days early from another day's list.
    #[tracing::instrument(skip_all)]
    pub async fn check_in(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        appointment: &AppointmentId,
        today: (Timestamp, Timestamp),
        now: Timestamp,
    ) -> Result<Result<SessionId, SessionRefusal>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let locked = sqlx::query(
            "update appointments set changed_at = changed_at where id = $1 and site_id = $2",
        )
        .bind(appointment.as_str())
        .bind(site_id.as_str())
        .execute(&mut *tx)
        .await?;
        if locked.rows_affected() != 1 {
            return Err(StoreError::NotFound {
                entity: "appointment",
            });
        }
        let existing: Option<String> =
            sqlx::query_scalar("select id from treatment_sessions where appointment_id = $1")
                .bind(appointment.as_str())
                .fetch_optional(&mut *tx)
                .await?;
        if let Some(id) = existing {
            return SessionId::parse(&id)
                .map(Ok)
                .ok_or(StoreError::NotFound { entity: "session" });
        }
        let row = sqlx::query(
            "select a.id, a.patient_id, a.course_id, a.status, a.kind, a.starts_at, c.product,
                    c.status as course_status,
                    (select count(*) from course_orders o where o.course_id = c.id) as orders
               from appointments a left join courses c on c.id = a.course_id
              where a.id = $1",
        )
        .bind(appointment.as_str())
        .fetch_one(&mut *tx)
        .await?;
        let r = RowReader::new(&row, "appointments", "id")?;
        let refuse = |why: &'static str| Ok(Err(SessionRefusal::CheckIn(why)));
        if r.text("status")? != "booked" {
            return refuse("The appointment was cancelled or marked a no-show; book a new one.");
        }
        let starts = r.instant("starts_at")?;
        if starts < today.0 || starts >= today.1 {
            return refuse(
                "The appointment is not today's: a patient is checked in on the day of their appointment. To treat them today, book a session for today.",
            );
        }
        let Some(course) = r.opt_id("course_id", CourseId::parse)? else {
            return refuse(
                "The appointment is not a session of a treatment course; book it from the patient's course.",
            );
        };
        let product = match r.opt_text("product")? {
            Some(p) => Product::parse(&p).ok_or_else(|| r.corrupt("product", "not a product"))?,
            None => return Err(r.corrupt("course_id", "names no course")),
        };
        if !matches!(
            r.opt_text("course_status")?.as_deref(),
            Some("planned" | "active")
        ) {
            return refuse("The course is paused or has ended; a prescriber resumes it first.");
        }
        if r.int("orders")? == 0 {
            return refuse("The course has no signed dose order; a prescriber signs one first.");
        }
        let patient = r.id("patient_id", PatientId::parse)?;
        // The patient's row, so two check-ins of one patient at once wait for each other.
        sqlx::query("update patients set updated_at = updated_at where id = $1")
            .bind(patient.as_str())
            .execute(&mut *tx)
            .await?;
        let busy: i64 = sqlx::query_scalar(
            "select count(*) from treatment_sessions
              where patient_id = $1 and status not in ('discharged', 'locked')",
        )
        .bind(patient.as_str())
        .fetch_one(&mut *tx)
        .await?;
        if busy > 0 {
            return refuse(
                "The patient is in another session that has not been discharged; finish that one first.",
            );
        }
        let consent = sqlx::query(
            "select (select max(d.version) from consent_documents d where d.site_id = $1) as current,
                    (select d.version from consent_signatures s
                       join consent_documents d on d.id = s.document_id
                      where s.patient_id = $2
                      order by s.signed_at desc, s.id desc limit 1) as signed",
        )
        .bind(site_id.as_str())
        .bind(patient.as_str())
        .fetch_one(&mut *tx)
        .await?;
        let version = |column: &str| -> Result<Option<i64>, StoreError> {
            use sqlx::Row;
            Ok(consent.try_get::<Option<i64>, _>(column)?)
        };
        let signed_current =
            matches!((version("current")?, version("signed")?), (Some(a), Some(b)) if a == b);
        if !signed_current {
            return refuse(
                "The patient has not signed the current consent; record their signature first.",
            );
        }
        let decision = standing_decision(&mut *tx, &patient).await?;
        match decision {
            Some(Decision::Eligible) => {}
            Some(Decision::NotEligible) => {
                return refuse(
                    "The patient was decided not eligible at their latest screening; they are treated only if a prescriber screens them again and decides them eligible.",
                );
            }
            Some(Decision::NeedsReview) => {
                return refuse(
                    "The patient's latest screening needs review; a prescriber decides on it before a session.",
                );
            }
            None => {
                return refuse(
                    "The patient has not been screened and decided eligible; a prescriber screens them for contraindications and records the decision first.",
                );
            }
        }
        let id = SessionId::new();
        sqlx::query(
            "insert into treatment_sessions (id, site_id, appointment_id, patient_id, course_id,
                 product, status, checked_in_at, checked_in_by, updated_at)
             values ($1, $2, $3, $4, $5, $6, 'checked_in', $7, $8, $7)",
        )
        .bind(id.as_str())
        .bind(site_id.as_str())
        .bind(appointment.as_str())
        .bind(patient.as_str())
        .bind(course.as_str())
        .bind(product.code())
        .bind(millis(now))
        .bind(actor.user_id())
        .execute(&mut *tx)
        .await?;
        // The course is under way from its first session.
        sqlx::query(
            "update courses set status = 'active', updated_at = $2, updated_by = $3
              where id = $1 and status = 'planned'",
        )
        .bind(course.as_str())
        .bind(millis(now))
        .bind(actor.user_id())
        .execute(&mut *tx)
        .await?;
        let event = AuditEvent::new("session.check_in", AuditOutcome::Ok)
            .site(site_id.as_str())
            .entity("session", id.as_str())
            .patient(patient.as_str());
        audit::insert(&mut tx, now, actor, &event).await?;
        tx.commit().await?;
        Ok(Ok(id))
    }

    /// A session with everything in it; audited as a read of the patient's record.
    #[tracing::instrument(skip_all)]
    pub async fn treatment_session(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        id: &SessionId,
        now: Timestamp,
    ) -> Result<SessionRecord, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let record = read_session(&mut conn, site_id, id)
            .await?
            .ok_or(StoreError::NotFound { entity: "session" })?;
        drop(conn);
        let event = AuditEvent::new("session.read", AuditOutcome::Ok)
            .site(site_id.as_str())
            .entity("session", id.as_str())
            .patient(record.patient_id.as_str());
        self.audit(actor, event, now).await?;
        Ok(record)
    }

    /// The session of an appointment, if it has one.
    #[tracing::instrument(skip_all)]
    pub async fn session_of_appointment(
        &self,
        site_id: &SiteId,
        appointment: &AppointmentId,
    ) -> Result<Option<SessionId>, StoreError> {
        let row = sqlx::query(
            "select id from treatment_sessions where appointment_id = $1 and site_id = $2",
        )
        .bind(appointment.as_str())
        .bind(site_id.as_str())
        .fetch_optional(&self.pool)
        .await?;
        // A stored id that does not parse is an error naming the row, not "no session".
        row.map(|row| RowReader::new(&row, "treatment_sessions", "id")?.id("id", SessionId::parse))
            .transpose()
    }

    /// Records the pre-session assessment with its vitals.
    #[tracing::instrument(skip_all)]
    pub async fn pre_assess(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        id: &SessionId,
        pre: &PreAssessment<'_>,
        settings: &AlertSettings,
        now: Timestamp,
    ) -> Result<Result<(), SessionRefusal>, StoreError> {
        let problems = pre.vitals.check_before_dosing();
        if !problems.is_empty() {
            return Ok(Err(SessionRefusal::Vitals(problems)));
        }
        let mut tx = self.pool.begin().await?;
        let s = match take_scoped(&mut tx, site_id, id, now, Scope::Core).await? {
            Ok(s) => s,
            Err(r) => return Ok(Err(r)),
        };
        let to = match step_to(&s, Step::PreAssess) {
            Ok(to) => to,
            Err(r) => return Ok(Err(r)),
        };
        sqlx::query(
            "update treatment_sessions set status = $2, weight_kg = $3, escort_confirmed = $4,
                    fasting_confirmed = $5, pregnancy_test = $6, pre_note = $7
              where id = $1",
        )
        .bind(id.as_str())
        .bind(to.code())
        .bind(pre.weight_kg)
        .bind(i64::from(pre.escort))
        .bind(i64::from(pre.fasting))
        .bind(pre.pregnancy_test.code())
        .bind(pre.note.map(SessionNote::as_str))
        .execute(&mut *tx)
        .await?;
        insert_vitals(
            &mut tx,
            &s,
            &[(now, pre.vitals)],
            "hand",
            actor,
            settings,
            now,
        )
        .await?;
        audit::insert(&mut tx, now, actor, &step_event(&s, "pre_assess")).await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Records the verified dose.
    #[tracing::instrument(skip_all)]
    pub async fn verify_dose(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        id: &SessionId,
        dose: &DoseVerification<'_>,
        now: Timestamp,
    ) -> Result<Result<(), SessionRefusal>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let s = match take_scoped(&mut tx, site_id, id, now, Scope::Core).await? {
            Ok(s) => s,
            Err(r) => return Ok(Err(r)),
        };
        let to = match step_to(&s, Step::VerifyDose) {
            Ok(to) => to,
            Err(r) => return Ok(Err(r)),
        };
        if s.delivery() == Delivery::Infusion {
            match dose.second_verifier {
                None => {
                    return Ok(Err(SessionRefusal::Dose(
                        "an IV dose needs a second staff member to confirm it with their own password".into(),
                    )));
                }
                Some(second) if actor.user_id() == Some(second.as_str()) => {
                    return Ok(Err(SessionRefusal::Dose(
                        "the second check must be by someone other than you".into(),
                    )));
                }
                Some(_) => {}
            }
        }
        // The order in force and today's weight as they stand now: the page that sent the dose
        // read them earlier, and a new order or weight may have come in between.
        let order = sqlx::query(
            "select o.id, o.dose_value, o.dose_unit from course_orders o
              where o.id = $1 and o.course_id = $2
                and not exists (select 1 from course_orders n where n.supersedes = o.id)",
        )
        .bind(dose.order_id)
        .bind(s.course_id.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(order) = order else {
            return Ok(Err(SessionRefusal::Dose(
                "the course's signed order has changed; check the dose against the order in force"
                    .into(),
            )));
        };
        let target = crate::courses::target_dose(&RowReader::new(&order, "course_orders", "id")?)?;
        let Some(limits) =
            clinical::session::dose_limits(target, s.product, s.weight_kg, dose.caps)
        else {
            return Ok(Err(SessionRefusal::Dose(
                "record today's weight in the pre-assessment first".into(),
            )));
        };
        let prescriber = acts_as_prescriber(&mut tx, actor).await?;
        let reason = dose.override_reason.map(OverrideReason::as_str);
        let over_order =
            match clinical::session::check_given_dose(dose.dose_mg, &limits, prescriber, reason) {
                Ok(over) => over,
                Err(p) => return Ok(Err(SessionRefusal::Limits(p))),
            };
        let over_length = match dose.infusion {
            None => false,
            Some((minutes, ..)) => match clinical::session::check_infusion_length(
                minutes,
                dose.min_infusion_min,
                prescriber,
                reason,
            ) {
                Ok(over) => over,
                Err(p) => return Ok(Err(SessionRefusal::Limits(p))),
            },
        };
        let override_reason = dose.override_reason.filter(|_| over_order || over_length);
        sqlx::query(
            "update treatment_sessions set status = $2, order_id = $3, dose_mg = $4,
                    ordered_mg = $5, lot = $6, verified_by = $7, second_verifier = $8,
                    override_by = $9, override_reason = $10, verified_at = $11
              where id = $1",
        )
        .bind(id.as_str())
        .bind(to.code())
        .bind(dose.order_id)
        .bind(dose.dose_mg)
        .bind(limits.ordered_mg)
        .bind(dose.lot.map(LotNumber::as_str))
        .bind(actor.user_id())
        .bind(dose.second_verifier.map(|u| u.as_str()))
        .bind(override_reason.and(actor.user_id()))
        .bind(override_reason.map(OverrideReason::as_str))
        .bind(millis(now))
        .execute(&mut *tx)
        .await?;
        // The vials or devices: this site's, holding enough between them for the dose.
        let chosen = if dose.containers.is_empty() {
            None
        } else {
            match crate::ledger::check_containers(
                &mut tx,
                site_id,
                dose.containers,
                s.product.is_esketamine(),
                dose.dose_mg,
                dose.rule,
            )
            .await?
            {
                Ok(()) => Some(serde_json::json!(dose.containers).to_string()),
                Err(why) => return Ok(Err(SessionRefusal::Dose(why))),
            }
        };
        sqlx::query("update treatment_sessions set cs_containers = $2 where id = $1")
            .bind(id.as_str())
            .bind(chosen)
            .execute(&mut *tx)
            .await?;
        // The infusion's figures in a statement of their own, so no number is ever bound as
        // NULL (see `pump`).
        if let Some((duration, rate, dose_rate, stock)) = dose.infusion {
            sqlx::query(
                "update treatment_sessions set duration_min = $2, rate_ml_per_h = $3,
                        dose_rate_mg_per_h = $4, stock_mg_per_ml = $5
                  where id = $1",
            )
            .bind(id.as_str())
            .bind(duration)
            .bind(rate)
            .bind(dose_rate)
            .bind(stock)
            .execute(&mut *tx)
            .await?;
        }
        let what = if override_reason.is_some() {
            "verify_dose override"
        } else {
            "verify_dose"
        };
        audit::insert(&mut tx, now, actor, &step_event(&s, what)).await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Starts, pauses, resumes, changes the rate of or stops administration.
    #[tracing::instrument(skip_all)]
    #[allow(clippy::too_many_arguments)]
    pub async fn pump(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        id: &SessionId,
        step: Step,
        dose_rate_mg_per_h: Option<f64>,
        note: Option<SessionNote<'_>>,
        now: Timestamp,
    ) -> Result<Result<(), SessionRefusal>, StoreError> {
        if !matches!(
            step,
            Step::Start | Step::Pause | Step::Resume | Step::ChangeRate | Step::Stop
        ) {
            return Err(StoreError::NotFound { entity: "step" });
        }
        let mut tx = self.pool.begin().await?;
        let s = match take_scoped(&mut tx, site_id, id, now, Scope::Core).await? {
            Ok(s) => s,
            Err(r) => return Ok(Err(r)),
        };
        let to = match step_to(&s, step) {
            Ok(to) => to,
            Err(r) => return Ok(Err(r)),
        };
        if step == Step::Start
            && let Some(why) = clinical::session::check_start(s.open_alerts().count())
        {
            return Ok(Err(SessionRefusal::AlertsOpen(why)));
        }
        let rate = match step {
            Step::Start => {
                dose_rate_mg_per_h.or(s.dose.as_ref().and_then(|d| d.dose_rate_mg_per_h))
            }
            Step::ChangeRate => match dose_rate_mg_per_h {
                Some(r) if r.is_finite() && r > 0.0 => {
                    // Faster than verified only by a prescriber; slower by anyone.
                    let verified = s.dose.as_ref().and_then(|d| d.dose_rate_mg_per_h);
                    let prescriber = acts_as_prescriber(&mut tx, actor).await?;
                    if let Err(e) = clinical::session::check_rate_change(r, verified, prescriber) {
                        return Ok(Err(SessionRefusal::Limits(e)));
                    }
                    Some(r)
                }
                _ => {
                    return Ok(Err(SessionRefusal::Dose(
                        "enter the new dose rate in mg/h, a number above 0".into(),
                    )));
                }
            },
            _ => None,
        };
        // A missing rate is left out rather than bound as NULL: sqlx's `Any` driver types a NULL
        // so that PostgreSQL then refuses a number in the same prepared statement.
        let insert = if rate.is_some() {
            "insert into session_events (id, session_id, at, kind, note, recorded_by,
                                         dose_rate_mg_per_h)
             values ($1, $2, $3, $4, $5, $6, $7)"
        } else {
            "insert into session_events (id, session_id, at, kind, note, recorded_by)
             values ($1, $2, $3, $4, $5, $6)"
        };
        let mut query = sqlx::query(insert)
            .bind(crate::new_id())
            .bind(id.as_str())
            .bind(millis(now))
            .bind(step.code())
            .bind(note.map(SessionNote::as_str))
            .bind(actor.user_id());
        if let Some(r) = rate {
            query = query.bind(r);
        }
        query.execute(&mut *tx).await?;
        set_status(&mut tx, id, to).await?;
        match step {
            Step::Start => {
                // The dose leaves the ledger as it is given: one administration entry per
                // container drawn from, in the same transaction as the start.
                if let Some(d) = s.dose.as_ref().filter(|d| !d.containers.is_empty())
                    && let Err(why) = crate::ledger::administer(
                        &mut tx,
                        site_id,
                        &d.containers,
                        d.dose_mg,
                        &s.id,
                        &s.patient_id,
                        actor,
                        now,
                    )
                    .await?
                {
                    return Ok(Err(SessionRefusal::Dose(why)));
                }
                sqlx::query("update treatment_sessions set started_at = $2 where id = $1")
                    .bind(id.as_str())
                    .bind(millis(now))
                    .execute(&mut *tx)
                    .await?;
            }
            Step::Stop => {
                sqlx::query("update treatment_sessions set ended_at = $2 where id = $1")
                    .bind(id.as_str())
                    .bind(millis(now))
                    .execute(&mut *tx)
                    .await?;
            }
            _ => {}
        }
        audit::insert(&mut tx, now, actor, &step_event(&s, step.code())).await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Records vitals and raises their alerts, once per idempotency key when one is given.
    #[tracing::instrument(skip_all)]
    #[allow(clippy::too_many_arguments)]
    pub async fn record_vitals(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        id: &SessionId,
        readings: &[(Timestamp, Vitals)],
        source: &'static str,
        key: Option<IdempotencyKey<'_>>,
        settings: &AlertSettings,
        now: Timestamp,
    ) -> Result<Result<VitalsOutcome, SessionRefusal>, StoreError> {
        let mut tx = self.pool.begin().await?;
        if let Some(k) = key {
            let fresh = sqlx::query(
                "insert into idempotency_keys (caller, key, request, status, response, created_at)
                 values ($1, $2, $3, 0, '', $4) on conflict (caller, key) do nothing",
            )
            .bind(k.caller)
            .bind(k.key)
            .bind(k.request)
            .bind(millis(now))
            .execute(&mut *tx)
            .await?;
            if fresh.rows_affected() == 0 {
                let row = sqlx::query(
                    "select key, request, response from idempotency_keys
                      where caller = $1 and key = $2",
                )
                .bind(k.caller)
                .bind(k.key)
                .fetch_one(&mut *tx)
                .await?;
                let r = RowReader::new(&row, "idempotency_keys", "key")?;
                if r.text("request")? != k.request {
                    return Ok(Err(SessionRefusal::KeyReused));
                }
                let stored: StoredVitalsAnswer = r.parsed("response", |s| {
                    serde_json::from_str::<StoredVitalsAnswer>(s)
                })?;
                drop(tx);
                return self.replay(site_id, id, &stored).await.map(Ok);
            }
        }
        let s = match take_scoped(&mut tx, site_id, id, now, Scope::Core).await? {
            Ok(s) => s,
            Err(r) => return Ok(Err(r)),
        };
        let (vitals, alerts) =
            insert_vitals(&mut tx, &s, readings, source, actor, settings, now).await?;
        if let Some(k) = key {
            let answer = StoredVitalsAnswer {
                vitals: vitals.iter().map(|v| v.id.clone()).collect(),
                alerts: alerts.iter().map(|a| a.id.as_str().to_owned()).collect(),
            };
            // ok: two lists of strings always serialise.
            let kept = serde_json::to_string(&answer).unwrap_or_default();
            sqlx::query(
                "update idempotency_keys set status = 201, response = $3
                  where caller = $1 and key = $2",
            )
            .bind(k.caller)
            .bind(k.key)
            .bind(kept)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(Ok(VitalsOutcome {
            vitals,
            alerts,
            replayed: false,
        }))
    }

    async fn replay(
        &self,
        site_id: &SiteId,
        id: &SessionId,
        stored: &StoredVitalsAnswer,
    ) -> Result<VitalsOutcome, StoreError> {
        let (vitals_ids, alert_ids) = (&stored.vitals, &stored.alerts);
        let mut conn = self.pool.acquire().await?;
        let s = read_session(&mut conn, site_id, id)
            .await?
            .ok_or(StoreError::NotFound { entity: "session" })?;
        Ok(VitalsOutcome {
            vitals: s
                .vitals
                .into_iter()
                .filter(|v| vitals_ids.contains(&v.id))
                .collect(),
            alerts: s
                .alerts
                .into_iter()
                .filter(|a| alert_ids.iter().any(|i| i == a.id.as_str()))
                .collect(),
            replayed: true,
        })
    }

    /// Acknowledges an open alert with the action taken.
    #[tracing::instrument(skip_all)]
    pub async fn acknowledge_session_alert(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        id: &SessionId,
        alert: &SessionAlertId,
        action: ActionTaken<'_>,
        now: Timestamp,
    ) -> Result<Result<(), SessionRefusal>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let s = match take_scoped(&mut tx, site_id, id, now, Scope::Core).await? {
            Ok(s) => s,
            Err(r) => return Ok(Err(r)),
        };
        let done = sqlx::query(
            "update session_alerts set acknowledged_at = $3, acknowledged_by = $4, action = $5
              where id = $1 and session_id = $2 and acknowledged_at is null",
        )
        .bind(alert.as_str())
        .bind(id.as_str())
        .bind(millis(now))
        .bind(actor.user_id())
        .bind(action.as_str())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(Err(SessionRefusal::AlertClosed));
        }
        let event = AuditEvent::new("session.alert_acknowledge", AuditOutcome::Ok)
            .entity("session", id.as_str())
            .patient(s.patient_id.as_str());
        audit::insert(&mut tx, now, actor, &event).await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Records an adverse event.
    #[tracing::instrument(skip_all)]
    #[allow(clippy::too_many_arguments)]
    pub async fn add_adverse_event(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        id: &SessionId,
        kind: AdverseKind,
        grade: u8,
        action: Option<ActionTaken<'_>>,
        serious: bool,
        note: Option<EventDescription<'_>>,
        now: Timestamp,
    ) -> Result<Result<(), SessionRefusal>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let s = match take_scoped(&mut tx, site_id, id, now, Scope::Core).await? {
            Ok(s) => s,
            Err(r) => return Ok(Err(r)),
        };
        sqlx::query(
            "insert into adverse_events (id, session_id, at, kind, grade, action, serious, note,
                                         recorded_by)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(crate::new_id())
        .bind(id.as_str())
        .bind(millis(now))
        .bind(kind.code())
        .bind(i64::from(grade))
        .bind(action.map(ActionTaken::as_str))
        .bind(i64::from(serious))
        .bind(note.map(EventDescription::as_str))
        .bind(actor.user_id())
        .execute(&mut *tx)
        .await?;
        let event = AuditEvent::new("session.adverse_event", AuditOutcome::Ok)
            .entity("session", id.as_str())
            .patient(s.patient_id.as_str());
        audit::insert(&mut tx, now, actor, &event).await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Discharges the patient when the checklist and the rules allow it.
    #[tracing::instrument(skip_all)]
    pub async fn discharge(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        id: &SessionId,
        checklist: &Checklist,
        settings: &AlertSettings,
        now: Timestamp,
    ) -> Result<Result<(), SessionRefusal>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let s = match take(&mut tx, site_id, id, now).await? {
            Ok(s) => s,
            Err(r) => return Ok(Err(r)),
        };
        let to = match step_to(&s, Step::Discharge) {
            Ok(to) => to,
            Err(r) => return Ok(Err(r)),
        };
        let last = s.vitals.last();
        let facts = DischargeFacts {
            open_alerts: s.open_alerts().count(),
            last_reading_alerts: last.is_some_and(|l| {
                !clinical::session::evaluate(&l.vitals, s.baseline(), settings).is_empty()
            }),
            vitals_after_administration: match (s.ended_at, last) {
                (Some(e), Some(l)) => l.taken_at >= e,
                _ => false,
            },
            minutes_since_start: s
                .started_at
                .map_or(0, |st| now.duration_since(st).as_mins()),
            esketamine: s.product.is_esketamine(),
        };
        let missing = clinical::session::check_discharge(checklist, &facts);
        if !missing.is_empty() {
            return Ok(Err(SessionRefusal::Discharge(missing)));
        }
        sqlx::query(
            "update treatment_sessions set status = $2, discharged_at = $3, discharged_by = $4,
                    checklist = $5
              where id = $1",
        )
        .bind(id.as_str())
        .bind(to.code())
        .bind(millis(now))
        .bind(actor.user_id())
        .bind(checklist_json(checklist))
        .execute(&mut *tx)
        .await?;
        audit::insert(&mut tx, now, actor, &step_event(&s, "discharge")).await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Ends the session before any drug is given: the patient leaves undosed, for `reason`
    /// (with a note where the reason needs one). The session is discharged with no checklist,
    /// waits for the prescriber's lock like any other, needs no REMS form and does not count
    /// as one of its course's sessions. A dose verified but not started wrote nothing to the
    /// ledger; what was drawn up is the clinic's to waste there.
    #[tracing::instrument(skip_all)]
    pub async fn end_undosed(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        id: &SessionId,
        reason: NotGivenReason,
        note: Option<SessionNote<'_>>,
        now: Timestamp,
    ) -> Result<Result<(), SessionRefusal>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let s = match take_scoped(&mut tx, site_id, id, now, Scope::Core).await? {
            Ok(s) => s,
            Err(r) => return Ok(Err(r)),
        };
        let to = match step_to(&s, Step::EndUndosed) {
            Ok(to) => to,
            Err(r) => return Ok(Err(r)),
        };
        if reason.needs_note() && note.is_none() {
            return Ok(Err(SessionRefusal::NotGiven(
                "say in the note why the dose is not given",
            )));
        }
        if let Some(why) = clinical::session::check_end_undosed(s.open_alerts().count()) {
            return Ok(Err(SessionRefusal::AlertsOpen(why)));
        }
        sqlx::query(
            "update treatment_sessions set status = $2, discharged_at = $3, discharged_by = $4,
                    not_given = $5, not_given_note = $6
              where id = $1",
        )
        .bind(id.as_str())
        .bind(to.code())
        .bind(millis(now))
        .bind(actor.user_id())
        .bind(reason.code())
        .bind(note.map(SessionNote::as_str))
        .execute(&mut *tx)
        .await?;
        // The reason stays out of the audit detail: it can be clinical (a pregnancy test).
        audit::insert(&mut tx, now, actor, &step_event(&s, "end_undosed")).await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Saves the REMS form's answers (any time before the lock).
    #[tracing::instrument(skip_all)]
    pub async fn save_rems_answers(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        id: &SessionId,
        answers: &RemsAnswers,
        lot: Option<LotNumber<'_>>,
        now: Timestamp,
    ) -> Result<Result<(), SessionRefusal>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let s = match take_scoped(&mut tx, site_id, id, now, Scope::Core).await? {
            Ok(s) => s,
            Err(r) => return Ok(Err(r)),
        };
        sqlx::query(
            "update treatment_sessions set rems_answers = $2, lot = coalesce($3, lot) where id = $1",
        )
        .bind(id.as_str())
        .bind(rems_json(answers))
        .bind(lot.map(LotNumber::as_str))
        .execute(&mut *tx)
        .await?;
        let event = AuditEvent::new("session.rems", AuditOutcome::Ok)
            .entity("session", id.as_str())
            .patient(s.patient_id.as_str());
        audit::insert(&mut tx, now, actor, &event).await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Signs and locks a discharged session (the caller checks the actor prescribes); an
    /// esketamine session needs its REMS form complete.
    #[tracing::instrument(skip_all)]
    pub async fn lock_session(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        id: &SessionId,
        now: Timestamp,
    ) -> Result<Result<(), SessionRefusal>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let s = match take(&mut tx, site_id, id, now).await? {
            Ok(s) => s,
            Err(r) => return Ok(Err(r)),
        };
        let to = match step_to(&s, Step::Lock) {
            Ok(to) => to,
            Err(r) => return Ok(Err(r)),
        };
        // No Spravato given, no treatment for the REMS form to report.
        if s.product.is_esketamine() && s.not_given.is_none() {
            let street: Option<Option<String>> =
                sqlx::query_scalar("select street from site_rems where site_id = $1")
                    .bind(site_id.as_str())
                    .fetch_optional(&mut *tx)
                    .await?;
            let contact = street.flatten().is_some();
            let missing = clinical::session::rems_missing(&s.rems, &s.rems_record(contact));
            if !missing.is_empty() {
                return Ok(Err(SessionRefusal::Rems(missing)));
            }
        }
        sqlx::query(
            "update treatment_sessions set status = $2, locked_at = $3, locked_by = $4
              where id = $1",
        )
        .bind(id.as_str())
        .bind(to.code())
        .bind(millis(now))
        .bind(actor.user_id())
        .execute(&mut *tx)
        .await?;
        audit::insert(&mut tx, now, actor, &step_event(&s, "lock")).await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Stores a dissociation (CADSS-6) or sedation (MOAA/S) rating taken in the chair at one
    /// of the session's set times: an assessment of the patient (raising the safety alert its
    /// score calls for, as every assessment does) linked to the session and the set time. One
    /// rating per instrument and set time; not after the session is locked.
    #[allow(clippy::too_many_arguments)]
    #[tracing::instrument(skip_all)]
    pub async fn record_session_scale(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        id: &SessionId,
        score: &Score,
        minute: u32,
        settings: &ScaleSettings,
        now: Timestamp,
    ) -> Result<Result<(), SessionRefusal>, StoreError> {
        let times = settings.minutes(score.instrument);
        if times.is_empty() {
            return Ok(Err(SessionRefusal::Scale(format!(
                "{} is not taken in the chair; record it from the patient's page",
                score.instrument.instrument().short_name
            ))));
        }
        if !times.contains(&minute) {
            let list: Vec<String> = times.iter().map(|m| minute_words(*m)).collect();
            return Ok(Err(SessionRefusal::Scale(format!(
                "choose one of the set times for the {}: {}",
                score.instrument.instrument().short_name,
                list.join(", ")
            ))));
        }
        let mut tx = self.pool.begin().await?;
        let s = match take_scoped(&mut tx, site_id, id, now, Scope::Core).await? {
            Ok(s) => s,
            Err(r) => return Ok(Err(r)),
        };
        let taken: Option<i64> = sqlx::query_scalar(
            "select 1 from session_scales where session_id = $1 and instrument = $2 and minute = $3",
        )
        .bind(id.as_str())
        .bind(score.instrument.code())
        .bind(i64::from(minute))
        .fetch_optional(&mut *tx)
        .await?;
        if taken.is_some() {
            return Ok(Err(SessionRefusal::Scale(format!(
                "the {} {} is already recorded; add a note to the session if it needs correcting",
                score.instrument.instrument().short_name,
                minute_words(minute)
            ))));
        }
        let assessment = crate::assessments::insert_assessment(
            &mut tx,
            &crate::EnteredBy::Staff(actor),
            site_id,
            &s.patient_id,
            score,
            TimePoint::DuringSession,
            now,
            now,
        )
        .await?;
        sqlx::query(
            "insert into session_scales (session_id, assessment_id, instrument, minute)
             values ($1, $2, $3, $4)",
        )
        .bind(id.as_str())
        .bind(assessment.as_str())
        .bind(score.instrument.code())
        .bind(i64::from(minute))
        .execute(&mut *tx)
        .await?;
        let event = AuditEvent::new("session.scale", AuditOutcome::Ok)
            .entity("session", id.as_str())
            .patient(s.patient_id.as_str())
            .detail(format!("minute={minute}"));
        audit::insert(&mut tx, now, actor, &event).await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Adds an addendum to a locked session.
    #[tracing::instrument(skip_all)]
    pub async fn add_addendum(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        id: &SessionId,
        body: AddendumText<'_>,
        now: Timestamp,
    ) -> Result<Result<(), SessionRefusal>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let s = read_session(&mut tx, site_id, id)
            .await?
            .ok_or(StoreError::NotFound { entity: "session" })?;
        if s.status != SessionStatus::Locked {
            return Ok(Err(SessionRefusal::Step(StepRefused {
                step: "add an addendum",
                status: s.status.label(),
                first: "addenda are for locked sessions; record the note in the session itself",
            })));
        }
        sqlx::query(
            "insert into session_addenda (id, session_id, at, body, written_by)
             values ($1, $2, $3, $4, $5)",
        )
        .bind(crate::new_id())
        .bind(id.as_str())
        .bind(millis(now))
        .bind(body.as_str())
        .bind(actor.user_id())
        .execute(&mut *tx)
        .await?;
        let event = AuditEvent::new("session.addendum", AuditOutcome::Ok)
            .entity("session", id.as_str())
            .patient(s.patient_id.as_str());
        audit::insert(&mut tx, now, actor, &event).await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Records how and when a session's REMS form was submitted, once. Allowed after the lock:
    /// it is a fact about the form, not a change to the session record, so it has its own
    /// table. `false` when the session is not an esketamine session of the site or the
    /// submission was already recorded.
    #[tracing::instrument(skip_all)]
    pub async fn record_rems_submission(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        id: &SessionId,
        on: Date,
        method: RemsChannel,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
            "insert into rems_submissions (session_id, submitted_on, method, recorded_by, recorded_at)
             select s.id, $3, $4, $5, $6 from treatment_sessions s
              where s.id = $1 and s.site_id = $2 and s.product = 'esketamine_nasal'
             on conflict (session_id) do nothing
             returning session_id",
        )
        .bind(id.as_str())
        .bind(site_id.as_str())
        .bind(on.to_string())
        .bind(method.code())
        .bind(actor.user_id())
        .bind(millis(now))
        .fetch_optional(&mut *tx)
        .await?;
        if row.is_none() {
            return Ok(false);
        }
        let event = AuditEvent::new("session.rems_submit", AuditOutcome::Ok)
            .site(site_id.as_str())
            .entity("session", id.as_str());
        audit::insert(&mut tx, now, actor, &event).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Sessions of the site: the active ones (in the chair), or all checked in from `since`,
    /// newest first; at most 500. With alerts, pump events and each session's latest readings,
    /// not adverse events or REMS submissions.
    #[tracing::instrument(skip_all)]
    pub async fn sessions(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        active_only: bool,
        since: Timestamp,
        now: Timestamp,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let rows = sqlx::query(&format!(
            "{SESSION_SELECT}
              where s.site_id = $1
                and (($2 = 1 and s.status not in ('discharged', 'locked'))
                     or ($2 = 0 and s.checked_in_at >= $3))
              order by s.checked_in_at desc limit 500"
        ))
        .bind(site_id.as_str())
        .bind(i64::from(active_only))
        .bind(millis(since))
        .fetch_all(&mut *conn)
        .await?;
        let list = decode_list(&mut conn, &rows, Scope::Latest).await?;
        drop(conn);
        let event = AuditEvent::new("session.list", AuditOutcome::Ok)
            .site(site_id.as_str())
            .detail(format!("rows={}", list.len()));
        self.audit(actor, event, now).await?;
        Ok(list)
    }

    /// How many sessions of `product` the patient had at the site before `before`, and when
    /// the last was checked in: the REMS form's "first treatment?" is answered beside it. Not
    /// audited: the session page that asks it is.
    #[tracing::instrument(skip_all)]
    pub async fn earlier_sessions(
        &self,
        site_id: &SiteId,
        patient_id: &PatientId,
        product: Product,
        before: Timestamp,
    ) -> Result<(usize, Option<Timestamp>), StoreError> {
        let row = sqlx::query(
            "select count(*) as n, max(checked_in_at) as last from treatment_sessions
              where site_id = $1 and patient_id = $2 and product = $3 and checked_in_at < $4
                and not_given is null",
        )
        .bind(site_id.as_str())
        .bind(patient_id.as_str())
        .bind(product.code())
        .bind(millis(before))
        .fetch_one(&self.pool)
        .await?;
        // The count is the row's key: never null.
        let r = RowReader::new(&row, "treatment_sessions", "n")?;
        let n = r.int("n")?;
        let n = usize::try_from(n).map_err(|_| r.corrupt("n", format!("{n} is not a count")))?;
        Ok((n, r.opt_instant("last")?))
    }

    /// The site's active sessions for the chair board, not audited (the board audits once when
    /// it opens and then reads every few seconds).
    #[tracing::instrument(skip_all)]
    pub async fn board_sessions(&self, site_id: &SiteId) -> Result<Vec<SessionRecord>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let rows = sqlx::query(&format!(
            "{SESSION_SELECT}
              where s.site_id = $1 and s.status not in ('discharged', 'locked')
              order by r.name, c.name limit 500"
        ))
        .bind(site_id.as_str())
        .fetch_all(&mut *conn)
        .await?;
        decode_list(&mut conn, &rows, Scope::Latest).await
    }

    /// The open patient safety alerts raised by ratings taken in the chair (MOAA/S 0: no
    /// response to a painful stimulus) of the site's active sessions, oldest first, as (session,
    /// message): the chair board shows them beside the vital-sign alerts. Alerts raised
    /// elsewhere (a PHQ-9 item 9 answer, say) are not for a board in the treatment room. Not
    /// audited, like [`Store::board_sessions`].
    #[tracing::instrument(skip_all)]
    pub async fn board_scale_alerts(
        &self,
        site_id: &SiteId,
    ) -> Result<Vec<(SessionId, String)>, StoreError> {
        let rows = sqlx::query(
            "select sc.session_id, a.id, a.message
               from session_scales sc
               join alerts a on a.assessment_id = sc.assessment_id
               join treatment_sessions s on s.id = sc.session_id
              where s.site_id = $1 and s.status not in ('discharged', 'locked')
                and a.acknowledged_at is null
              order by a.created_at, a.id limit 500",
        )
        .bind(site_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let r = RowReader::new(row, "alerts", "id")?;
                Ok((r.id("session_id", SessionId::parse)?, r.text("message")?))
            })
            .collect()
    }

    /// Esketamine sessions whose REMS form is not yet recorded as submitted, oldest first.
    #[tracing::instrument(skip_all)]
    pub async fn rems_forms_due(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        now: Timestamp,
    ) -> Result<Vec<RemsFormRow>, StoreError> {
        let rows = sqlx::query(
            "select s.id, s.patient_id, p.given_name || ' ' || p.family_name as patient_name,
                    s.checked_in_at, s.status
               from treatment_sessions s join patients p on p.id = s.patient_id
              where s.site_id = $1 and s.product = 'esketamine_nasal' and s.not_given is null
                and not exists (select 1 from rems_submissions r where r.session_id = s.id)
              order by s.checked_in_at limit 1000",
        )
        .bind(site_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        let list = rows
            .iter()
            .map(|row| {
                let r = RowReader::new(row, "treatment_sessions", "id")?;
                Ok(RemsFormRow {
                    session_id: r.id("id", SessionId::parse)?,
                    patient_id: r.id("patient_id", PatientId::parse)?,
                    patient_name: r.text("patient_name")?,
                    checked_in_at: r.instant("checked_in_at")?,
                    status: r
                        .parsed("status", |s| SessionStatus::parse(s).ok_or("not a status"))?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let event = AuditEvent::new("session.list", AuditOutcome::Ok)
            .site(site_id.as_str())
            .detail(format!("rems_due={}", list.len()));
        self.audit(actor, event, now).await?;
        Ok(list)
    }
}

impl Store {
    /// The patient's sessions at the site, newest first, at most 500: their treatment history
    /// on their record. An audited read of the patient.
    #[tracing::instrument(skip_all)]
    pub async fn patient_sessions(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        patient_id: &PatientId,
        now: Timestamp,
    ) -> Result<Vec<PatientSession>, StoreError> {
        let rows = sqlx::query(
            "select s.id, s.checked_in_at, s.product, s.status, s.dose_mg, s.started_at,
                    s.dose_rate_mg_per_h, s.discharged_at, s.not_given,
                    (select count(*) from adverse_events e where e.session_id = s.id) as adverse
               from treatment_sessions s
              where s.site_id = $1 and s.patient_id = $2
              order by s.checked_in_at desc, s.id desc limit 500",
        )
        .bind(site_id.as_str())
        .bind(patient_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        // The pump events of the patient's infusions, in one read, by session.
        let event_rows = sqlx::query(
            "select e.id, e.session_id, e.at, e.kind, e.dose_rate_mg_per_h
               from session_events e join treatment_sessions s on s.id = e.session_id
              where s.site_id = $1 and s.patient_id = $2 and s.product = $3
              order by e.at, e.id limit 100000",
        )
        .bind(site_id.as_str())
        .bind(patient_id.as_str())
        .bind(Product::IvRacemic.code())
        .fetch_all(&self.pool)
        .await?;
        let mut events: std::collections::HashMap<String, Vec<(Timestamp, Step, Option<f64>)>> =
            std::collections::HashMap::new();
        for row in &event_rows {
            let r = RowReader::new(row, "session_events", "id")?;
            events.entry(r.text("session_id")?).or_default().push((
                r.instant("at")?,
                r.parsed("kind", |s| Step::parse(s).ok_or("not a pump event"))?,
                r.opt_float("dose_rate_mg_per_h")?,
            ));
        }
        let list = rows
            .iter()
            .map(|row| {
                let r = RowReader::new(row, "treatment_sessions", "id")?;
                let product = r.parsed("product", |s| Product::parse(s).ok_or("not a product"))?;
                let dose_mg = r.opt_float("dose_mg")?;
                let started = r.opt_instant("started_at")?;
                let infused_mg = match (started, dose_mg) {
                    (Some(st), Some(dose)) if Delivery::of(product) == Delivery::Infusion => {
                        let stretches = stretches_from(
                            st,
                            events.get(&r.text("id")?).map_or(&[][..], Vec::as_slice),
                            r.opt_float("dose_rate_mg_per_h")?,
                            dose,
                            r.opt_instant("discharged_at")?,
                            now,
                        );
                        Some(clinical::session::infused_mg(&stretches))
                    }
                    _ => None,
                };
                Ok(PatientSession {
                    id: r.id("id", SessionId::parse)?,
                    checked_in_at: r.instant("checked_in_at")?,
                    product,
                    status: r
                        .parsed("status", |s| SessionStatus::parse(s).ok_or("not a status"))?,
                    dose_mg,
                    started: started.is_some(),
                    infused_mg,
                    not_given: not_given(&r)?,
                    adverse_events: r.int("adverse")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let event = AuditEvent::new("session.list", AuditOutcome::Ok)
            .site(site_id.as_str())
            .patient(patient_id.as_str())
            .detail(format!("rows={}", list.len()));
        self.audit(actor, event, now).await?;
        Ok(list)
    }

    /// The discharged sessions of the site not yet signed and locked by a prescriber, the
    /// longest waiting first; an audited read of the patients' names.
    #[tracing::instrument(skip_all)]
    pub async fn sessions_to_lock(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        now: Timestamp,
    ) -> Result<Vec<SessionToLock>, StoreError> {
        let rows = sqlx::query(
            "select s.id, s.patient_id, p.given_name || ' ' || p.family_name as patient_name,
                    s.product, s.discharged_at, s.not_given
               from treatment_sessions s join patients p on p.id = s.patient_id
              where s.site_id = $1 and s.status = 'discharged'
              order by s.discharged_at, s.id limit 500",
        )
        .bind(site_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        let list = rows
            .iter()
            .map(|row| {
                let r = RowReader::new(row, "treatment_sessions", "id")?;
                Ok(SessionToLock {
                    session_id: r.id("id", SessionId::parse)?,
                    patient_id: r.id("patient_id", PatientId::parse)?,
                    patient_name: r.text("patient_name")?,
                    product: r.parsed("product", |s| Product::parse(s).ok_or("not a product"))?,
                    discharged_at: r.instant("discharged_at")?,
                    undosed: not_given(&r)?.is_some(),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let event = AuditEvent::new("session.list", AuditOutcome::Ok)
            .site(site_id.as_str())
            .detail(format!("to_lock={}", list.len()));
        self.audit(actor, event, now).await?;
        Ok(list)
    }
}

/// Whether `actor` is a prescriber, by their account's role as it stands now.
async fn acts_as_prescriber(conn: &mut AnyConnection, actor: &Actor) -> Result<bool, StoreError> {
    let Some(id) = actor.user_id() else {
        return Ok(false);
    };
    let role: Option<String> = sqlx::query_scalar("select role from users where id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(role.as_deref() == Some(crate::Role::Prescriber.code()))
}

async fn fill_submissions(
    conn: &mut AnyConnection,
    sessions: &mut [SessionRecord],
) -> Result<(), StoreError> {
    let esk: Vec<String> = sessions
        .iter()
        .filter(|s| s.product.is_esketamine())
        .map(|s| s.id.as_str().to_owned())
        .collect();
    if esk.is_empty() {
        return Ok(());
    }
    let q = format!(
        "select session_id, submitted_on, method from rems_submissions
          where session_id in ({})",
        crate::placeholders(1, esk.len())
    );
    let mut query = sqlx::query(&q);
    for id in &esk {
        query = query.bind(id.as_str());
    }
    for row in query.fetch_all(&mut *conn).await? {
        let r = RowReader::new(&row, "rems_submissions", "session_id")?;
        let sid = r.text("session_id")?;
        let on = r.parsed("submitted_on", |s| s.parse::<Date>())?;
        let method = r.parsed("method", |s| {
            RemsChannel::parse(s).ok_or("not online or fax")
        })?;
        if let Some(s) = sessions.iter_mut().find(|s| s.id.0 == sid) {
            s.rems_submitted = Some((on, method));
        }
    }
    Ok(())
}
