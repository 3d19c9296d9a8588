//! Measurement-based care in the interface: the patient's measurements section (trajectories,
//! response and remission, what is due, safety alerts), entering an assessment, sending a
//! self-report link, and the public self-report page a patient opens from that link.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use clinical::instruments::content::InstrumentContent;
use clinical::instruments::recording::{Intent, RecordingRefusal};
use clinical::instruments::schedule::{Done, Schedule, Status, TimePoint};
use clinical::instruments::{Instrument, InstrumentId, Rater, Score, outcome, score};
use serde::Deserialize;
use store::{Actor, AlertRecord, AssessmentRecord, EnteredBy, LinkState, PatientId, User};

use super::{FormErrors, form_value};
use crate::AppState;
use crate::capability::{Can, ClinicalData};
use crate::chart::{Chart, Sample, trajectory};
use crate::display::Choice;
use crate::error::AppError;
use crate::ids::IdPath;
use crate::view::{PageCtx, render};

/// Language of the wording looked up for forms; clinics load more with `instruments import`.
const LANGUAGE: &str = "en";

/// Weeks of weekly assessments in Ketaflow's default plan, until treatment courses set one.
pub(crate) const DEFAULT_PLAN_WEEKS: i32 = 8;

// ---------------------------------------------------------------------------------------------
// The measurements section of a patient's page

/// One row of an instrument's table.
pub(crate) struct RowView {
    pub(crate) date: String,
    pub(crate) time_point: &'static str,
    pub(crate) total: i32,
    pub(crate) severity: String,
    pub(crate) change: String,
    pub(crate) flags: String,
    pub(crate) by: String,
}

/// One instrument's history.
pub(crate) struct SeriesView {
    pub(crate) name: &'static str,
    pub(crate) status: String,
    /// An open safety alert, said beside the status so improvement is not read without it.
    pub(crate) status_alert: Option<String>,
    pub(crate) chart: Chart,
    pub(crate) rows: Vec<RowView>,
}

pub(crate) struct AlertView {
    pub(crate) id: String,
    pub(crate) patient_id: String,
    pub(crate) patient_name: String,
    pub(crate) message: String,
    pub(crate) raised: String,
}

pub(crate) struct DueView {
    pub(crate) instrument: &'static str,
    pub(crate) time_point: &'static str,
    pub(crate) window: String,
    pub(crate) status: &'static str,
}

/// The clinical part of a patient's page.
/// A closed safety alert on the patient's chart, with its follow-up in brief.
pub(crate) struct ClosedAlertView {
    pub(crate) id: String,
    pub(crate) raised: String,
    pub(crate) message: String,
    pub(crate) closed: String,
    pub(crate) done: String,
}

pub(crate) struct Measurements {
    pub(crate) alerts: Vec<AlertView>,
    pub(crate) closed_alerts: Vec<ClosedAlertView>,
    pub(crate) series: Vec<SeriesView>,
    pub(crate) due: Vec<DueView>,
    /// Which plan `due` follows, in a sentence.
    pub(crate) due_basis: String,
    /// The patient's assessments as a plan counts them (for the plans of their courses).
    pub(crate) done: Vec<Done>,
    pub(crate) instruments: Vec<Choice>,
    pub(crate) link_instruments: Vec<Choice>,
    pub(crate) time_points: Vec<Choice>,
}

impl Measurements {
    /// What is due follows the patient's planned and active courses instead of the default
    /// plan, as the start page's list does: `courses` names them, `due` is what they make due.
    pub(crate) fn follow_courses(&mut self, courses: &[String], due: Vec<DueView>) {
        self.due_basis = match courses {
            [one] => format!("By the treatment course's plan ({one})."),
            _ => format!(
                "By the plans of the treatment courses ({}).",
                courses.join("; ")
            ),
        };
        self.due = due;
    }
}

pub(crate) fn alert_views(alerts: Vec<AlertRecord>, ctx: &PageCtx) -> Vec<AlertView> {
    alerts
        .into_iter()
        .filter(|a| a.acknowledged_at.is_none())
        .map(|a| AlertView {
            raised: ctx.time(a.created_at),
            id: a.id.as_str().to_owned(),
            patient_id: a.patient_id.as_str().to_owned(),
            patient_name: a.patient_name,
            message: a.message,
        })
        .collect()
}

/// The headline of one instrument's series: baseline and latest with their dates (the scores
/// the status rests on), change, response and remission. While a safety alert is open,
/// remission is not declared.
fn status_text(
    instrument: &Instrument,
    baseline: &AssessmentRecord,
    latest: &AssessmentRecord,
    ctx: &PageCtx,
    alert_open: bool,
) -> String {
    if instrument.id.rates_acute_effect() {
        return acute_status(instrument, latest, ctx);
    }
    if baseline.id == latest.id {
        return format!(
            "Baseline {} on {}; no follow-up yet.",
            baseline.total,
            ctx.time(baseline.administered_at)
        );
    }
    let o = outcome(instrument, baseline.total, latest.total);
    let pct = o
        .percent_change
        .map_or(String::new(), |p| format!(" ({p:+.0} %)"));
    let judge = |v: Option<bool>| match v {
        Some(true) => "yes",
        Some(false) => "no",
        None => "no published rule",
    };
    let remission = if alert_open && o.remission == Some(true) {
        "not declared while a safety alert is open"
    } else {
        judge(o.remission)
    };
    format!(
        "Baseline {} ({}) → latest {} ({}): change {:+}{pct}. Response: {}. Remission: {remission}. Judged on these two scores.",
        o.baseline,
        ctx.time(baseline.administered_at),
        o.current,
        ctx.time(latest.administered_at),
        o.change,
        judge(o.response),
    )
}

/// The headline of a scale that rates the treatment's acute effect: the latest rating, and
/// that it is read within its session, not as change over the course.
fn acute_status(instrument: &Instrument, latest: &AssessmentRecord, ctx: &PageCtx) -> String {
    format!(
        "Latest {} ({}). The {} rates the treatment's effect at the moment it is taken, not the condition treated: read each rating within its session, not as change over the course.",
        latest.total,
        ctx.time(latest.administered_at),
        instrument.short_name,
    )
}

fn instrument_choices(
    filter: impl Fn(&Instrument) -> bool,
    selected: Option<InstrumentId>,
) -> Vec<Choice> {
    InstrumentId::ALL
        .into_iter()
        .map(InstrumentId::instrument)
        .filter(|i| filter(i))
        .map(|i| Choice {
            value: i.id.code(),
            label: i.short_name,
            selected: Some(i.id) == selected,
        })
        .collect()
}

fn time_point_choices(selected: TimePoint) -> Vec<Choice> {
    TimePoint::ALL
        .into_iter()
        .map(|t| Choice {
            value: t.code(),
            label: t.label(),
            selected: t == selected,
        })
        .collect()
}

/// Whether a patient can answer an instrument from Ketaflow's own labels (otherwise the clinic
/// must load the wording first: the EPDS and QIDS options differ per item).
fn answerable_without_wording(i: &Instrument) -> bool {
    !i.options.is_empty() || i.id == InstrumentId::PainNrs
}

/// One assessment a patient's plan asks for now or next.
pub(crate) struct DueItem {
    pub(crate) instrument: InstrumentId,
    pub(crate) time_point: TimePoint,
    pub(crate) window: String,
    /// The window's last day.
    pub(crate) closes: jiff::civil::Date,
    /// "Due now", "Missed" or "Next".
    pub(crate) status: &'static str,
}

/// Assessments as a plan counts them: each instrument and time point on the clinic's date.
pub(crate) fn done_of<'a>(
    records: impl IntoIterator<Item = &'a AssessmentRecord>,
    tz: &jiff::tz::TimeZone,
) -> Vec<Done> {
    records
        .into_iter()
        .map(|r| Done {
            instrument: r.instrument,
            time_point: r.time_point,
            date: r.administered_at.to_zoned(tz.clone()).date(),
        })
        .collect()
}

/// What one patient's assessments leave due, by Ketaflow's default plan from each baseline
/// (baseline, then weekly for [`DEFAULT_PLAN_WEEKS`] weeks) until treatment courses supply
/// plans: every due assessment, then the next upcoming one per instrument, then every missed
/// one.
pub(crate) fn due_items(
    records: &[AssessmentRecord],
    today: jiff::civil::Date,
    tz: &jiff::tz::TimeZone,
) -> Vec<DueItem> {
    let done = done_of(records, tz);
    let mut due = Vec::new();
    for id in InstrumentId::ALL {
        let Some(start) = records
            .iter()
            .find(|r| r.instrument == id && r.time_point == TimePoint::Baseline)
            .map(|r| r.administered_at.to_zoned(tz.clone()).date())
        else {
            continue;
        };
        let plan = Schedule::baseline_then_weekly(&[id], start, DEFAULT_PLAN_WEEKS);
        let mut upcoming_shown = false;
        for (p, status) in plan.status(&done, today) {
            let label = match status {
                Status::Done => continue,
                Status::Due => "Due now",
                Status::Missed => "Missed",
                Status::Upcoming if !upcoming_shown => {
                    upcoming_shown = true;
                    "Next"
                }
                Status::Upcoming => continue,
            };
            due.push(DueItem {
                instrument: id,
                time_point: p.time_point,
                window: format!("{} to {}", p.earliest, p.latest),
                closes: p.latest,
                status: label,
            });
        }
    }
    due.sort_by_key(|d| listed_rank(d.status));
    due
}

/// Where a status stands in a list of what is due: what can be done today first, what comes
/// next, and last what was missed.
pub(crate) fn listed_rank(status: &str) -> u8 {
    match status {
        "Due now" => 0,
        "Next" => 1,
        _ => 2,
    }
}

pub(crate) async fn measurements(
    state: &AppState,
    user: &User,
    actor: &Actor,
    ctx: &PageCtx,
    patient_id: &PatientId,
) -> Result<Measurements, AppError> {
    let now = jiff::Timestamp::now();
    let records = state
        .store()
        .assessments(actor, &user.site_id, patient_id, now)
        .await?;
    let all_alerts = state
        .store()
        .patient_alerts(&user.site_id, patient_id)
        .await?;
    let closed_alerts = all_alerts
        .iter()
        .filter_map(|a| {
            let at = a.acknowledged_at?;
            let by = a
                .follow_up
                .as_ref()
                .and_then(|f| f.by_name.clone())
                .map_or_else(String::new, |n| format!(" by {n}"));
            Some(ClosedAlertView {
                id: a.id.as_str().to_owned(),
                raised: ctx.time(a.created_at),
                message: a.message.clone(),
                closed: format!("{}{by}", ctx.time(at)),
                done: a.follow_up.as_ref().map_or_else(
                    || "not recorded".to_owned(),
                    |f| {
                        f.actions
                            .iter()
                            .map(|x| x.label())
                            .collect::<Vec<_>>()
                            .join("; ")
                    },
                ),
            })
        })
        .collect();
    let alerts = alert_views(all_alerts, ctx);
    let tz = ctx.time_zone();

    let mut series = Vec::new();
    for id in InstrumentId::ALL {
        let of_this: Vec<&AssessmentRecord> =
            records.iter().filter(|r| r.instrument == id).collect();
        let (Some(first), Some(latest)) = (of_this.first(), of_this.last()) else {
            continue;
        };
        let instrument = id.instrument();
        let acute = id.rates_acute_effect();
        let baseline = store::baseline(&records, id).unwrap_or(first);
        // The chart starts at the baseline.
        let from_baseline: Vec<&&AssessmentRecord> = of_this
            .iter()
            .filter(|r| r.administered_at >= baseline.administered_at)
            .collect();
        let samples: Vec<Sample> = from_baseline
            .iter()
            .map(|r| Sample {
                at_ms: r.administered_at.as_millisecond(),
                date: ctx.date(r.administered_at),
                total: r.total,
            })
            .collect();
        let rows = of_this
            .iter()
            .rev()
            .map(|r| RowView {
                date: ctx.time(r.administered_at),
                time_point: r.time_point.label(),
                total: r.total,
                severity: r
                    .severity
                    .as_deref()
                    .and_then(|code| instrument.bands.iter().find(|b| b.code == code))
                    .map_or_else(String::new, |b| b.label.to_owned()),
                change: if acute {
                    String::new()
                } else if r.id == baseline.id {
                    "baseline".into()
                } else {
                    format!("{:+}", r.total - baseline.total)
                },
                flags: r
                    .flags
                    .iter()
                    .map(|f| f.replace('_', " "))
                    .collect::<Vec<_>>()
                    .join(", "),
                by: match (&r.entered_by, r.entered_by_patient) {
                    (_, true) => "Patient (self-report link)".to_owned(),
                    (Some((name, role)), false) => format!("{name} ({})", role.label()),
                    // No staff account and not the patient: a part of Ketaflow entered it
                    // (the demo's seed, an import), as the other record pages say.
                    (None, false) => crate::view::recorded_by(None).to_owned(),
                },
            })
            .collect();
        series.push(SeriesView {
            name: instrument.short_name,
            status: status_text(instrument, baseline, latest, ctx, !alerts.is_empty()),
            // A safety alert tempers what a course's scores say; a rating of the moment
            // says nothing of the course.
            status_alert: alerts.first().filter(|_| !acute).map(|a| {
                format!(
                    "A safety alert is open (raised {}): follow it up before reading these scores as improvement.",
                    a.raised
                )
            }),
            chart: trajectory(instrument, &samples),
            rows,
        });
    }

    let due = due_items(&records, ctx.today(), &tz)
        .into_iter()
        .map(|d| DueView {
            instrument: d.instrument.instrument().short_name,
            time_point: d.time_point.label(),
            window: d.window,
            status: d.status,
        })
        .collect();

    Ok(Measurements {
        alerts,
        closed_alerts,
        series,
        due,
        done: done_of(&records, &tz),
        due_basis: format!(
            "By Ketaflow's default plan (baseline, then weekly for {DEFAULT_PLAN_WEEKS} weeks) until a treatment course sets one."
        ),
        instruments: instrument_choices(|_| true, Some(InstrumentId::Phq9)),
        link_instruments: instrument_choices(
            |i| i.rater == Rater::Patient,
            Some(InstrumentId::Phq9),
        ),
        time_points: time_point_choices(TimePoint::Weekly),
    })
}

// ---------------------------------------------------------------------------------------------
// Entering answers: one form serves staff and patients.

pub(crate) struct OptionView {
    pub(crate) id: String,
    pub(crate) value: i8,
    pub(crate) label: String,
    pub(crate) checked: bool,
    /// What choosing it adds to the total, where the total is a sum of points per answer.
    pub(crate) points: Option<i32>,
}

pub(crate) struct ItemView {
    pub(crate) name: String,
    pub(crate) legend: String,
    pub(crate) options: Vec<OptionView>,
    pub(crate) error: Option<String>,
}

/// The items of `instrument` as radio groups; `answers` are what was chosen so far.
fn item_views(
    instrument: &Instrument,
    content: Option<&InstrumentContent>,
    answers: &[Option<i8>],
    errors: &FormErrors,
) -> Vec<ItemView> {
    let points = clinical::instruments::additive_points(instrument.id);
    let values: Vec<(i8, String)> = if instrument.options.is_empty() {
        (instrument.answer_min..=instrument.answer_max)
            .map(|v| (v, v.to_string()))
            .collect()
    } else {
        instrument
            .options
            .iter()
            .map(|o| (o.value, o.label.to_owned()))
            .collect()
    };
    instrument
        .items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let wording = content.and_then(|c| c.items().get(i));
            let name = format!("item{}", item.number);
            let options = values
                .iter()
                .enumerate()
                .map(|(k, (value, label))| OptionView {
                    id: format!("{name}-{k}"),
                    value: *value,
                    label: wording
                        .and_then(|(_, opts)| opts.get(k))
                        .cloned()
                        .unwrap_or_else(|| label.clone()),
                    checked: answers.get(i).copied().flatten() == Some(*value),
                    points: points
                        .as_ref()
                        .and_then(|p| p.added.get(i))
                        .and_then(|row| row.get(k))
                        .copied(),
                })
                .collect();
            ItemView {
                legend: format!(
                    "{}. {}",
                    item.number,
                    wording.map_or(item.label, |(text, _)| text.as_str())
                ),
                error: errors.get(&name).map(str::to_owned),
                name,
                options,
            }
        })
        .collect()
}

/// Reads `itemN` fields; every missing or invalid answer becomes a message at its item.
fn read_answers(
    instrument: &Instrument,
    fields: &[(String, String)],
) -> (Vec<Option<i8>>, FormErrors) {
    let mut errors = FormErrors::default();
    let answers = instrument
        .items
        .iter()
        .map(|item| {
            let name = format!("item{}", item.number);
            let raw = fields
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.trim());
            let parsed = raw
                .and_then(|v| v.parse::<i8>().ok())
                .filter(|v| (instrument.answer_min..=instrument.answer_max).contains(v));
            if parsed.is_none() {
                errors.push(
                    name,
                    format!("Choose an answer for question {}.", item.number),
                );
            }
            parsed
        })
        .collect();
    (answers, errors)
}

/// Scores complete answers (every answer is in range, so scoring cannot fail on them).
fn score_answers(instrument: &Instrument, answers: &[Option<i8>]) -> Option<Score> {
    let values: Option<Vec<i64>> = answers.iter().map(|a| a.map(i64::from)).collect();
    values.and_then(|v| score(instrument.id, &v).ok())
}

#[derive(Template)]
#[template(path = "measure/new.html")]
pub(crate) struct NewAssessmentPage {
    ctx: PageCtx,
    patient_id: String,
    patient_name: String,
    instrument_code: &'static str,
    instrument_name: &'static str,
    recall: String,
    rater: &'static str,
    show_count: bool,
    instructions: String,
    items: Vec<ItemView>,
    time_points: Vec<Choice>,
    taken_at: String,
    taken_max: String,
    errors: FormErrors,
    /// Column headings when every item offers the same answers: the form is then a compact
    /// grid (one row per item, answers as columns).
    grid: Option<Vec<String>>,
    /// The total with every item at its lowest answer, for the running total (additive
    /// instruments only).
    running_base: Option<i32>,
    /// The total of the answers chosen so far, shown without script when the form comes back.
    total_so_far: Option<i32>,
    total_max: i32,
    recording: RecordingView,
}

/// What the clinician says besides the answers: the reason for a new baseline, the
/// confirmation of an identical repeat. The fields appear once the form asks for them.
#[derive(Default)]
pub(crate) struct RecordingView {
    pub(crate) ask_reason: bool,
    pub(crate) reason: String,
    pub(crate) ask_repeat: bool,
}

#[derive(Deserialize)]
pub(crate) struct NewQuery {
    #[serde(default)]
    instrument: String,
    /// A time point to start from (the session page asks for "before_session").
    #[serde(default)]
    time_point: String,
}

async fn patient_name(
    state: &AppState,
    who: &Can<ClinicalData>,
    id: &PatientId,
) -> Result<String, AppError> {
    let p = state
        .store()
        .patient(
            &who.actor(),
            &who.user().site_id,
            id,
            jiff::Timestamp::now(),
        )
        .await?;
    Ok(format!("{} {}", p.given_name, p.family_name))
}

/// The entry form for `instrument`, with the answers chosen so far and their messages.
#[allow(clippy::too_many_arguments)]
async fn assessment_page(
    state: &AppState,
    who: &Can<ClinicalData>,
    ctx: PageCtx,
    patient_id: PatientId,
    instrument: &'static Instrument,
    answers: &[Option<i8>],
    errors: FormErrors,
    time_point: TimePoint,
    taken_at: String,
    recording: RecordingView,
) -> Result<NewAssessmentPage, AppError> {
    let patient_name = patient_name(state, who, &patient_id).await?;
    // The latest a clinician may choose (the clinic's current minute plus a little slack).
    let taken_max = local_minute(jiff::Timestamp::now() + TAKEN_AT_SLACK, &ctx);
    let content = state
        .store()
        .instrument_content(instrument.id, LANGUAGE)
        .await?;
    let items = item_views(instrument, content.as_ref(), answers, &errors);
    let labels = |i: &ItemView| {
        i.options
            .iter()
            .map(|o| o.label.clone())
            .collect::<Vec<_>>()
    };
    let grid = items
        .first()
        .map(labels)
        .filter(|first| items.iter().all(|i| labels(i) == *first));
    let running_base = clinical::instruments::additive_points(instrument.id).map(|p| p.base);
    let total_so_far = running_base
        .filter(|_| answers.iter().any(Option::is_some))
        .map(|base| {
            base + items
                .iter()
                .flat_map(|i| i.options.iter().filter(|o| o.checked))
                .filter_map(|o| o.points)
                .sum::<i32>()
        });
    Ok(NewAssessmentPage {
        items,
        grid,
        running_base,
        total_so_far,
        total_max: instrument.total_range().1,
        recording,
        instructions: content
            .map(|c| c.instructions().to_owned())
            .unwrap_or_default(),
        ctx,
        patient_id: patient_id.as_str().to_owned(),
        patient_name,
        instrument_code: instrument.id.code(),
        instrument_name: instrument.name,
        recall: recall_phrase(instrument.recall),
        show_count: false,
        rater: match instrument.rater {
            Rater::Patient => "patient-rated",
            Rater::Clinician => "clinician-rated",
        },
        time_points: time_point_choices(time_point),
        taken_max,
        taken_at,
        errors,
    })
}

/// An instant as a `datetime-local` value in the clinic's time zone: `2026-11-23T09:05`.
fn local_minute(t: jiff::Timestamp, ctx: &PageCtx) -> String {
    t.to_zoned(ctx.time_zone())
        .strftime("%Y-%m-%dT%H:%M")
        .to_string()
}

/// How far ahead of the server's clock a "date taken" may be (clocks of tablets drift).
const TAKEN_AT_SLACK: jiff::SignedDuration = jiff::SignedDuration::from_mins(5);

/// The "Date taken" field: empty means now; otherwise a local date and time in the clinic's
/// time zone, not in the future. The error is the sentence shown at the field.
fn taken_at(
    text: &str,
    now: jiff::Timestamp,
    ctx: &PageCtx,
) -> Result<jiff::Timestamp, &'static str> {
    if text.is_empty() {
        return Ok(now);
    }
    let local = jiff::civil::DateTime::strptime("%Y-%m-%dT%H:%M", text)
        .or_else(|_| jiff::civil::DateTime::strptime("%Y-%m-%dT%H:%M:%S", text))
        .map_err(|_| "Enter the date and time the answers were given, such as 2026-11-23 09:05.")?;
    let at = crate::view::clinic_instant(local, &ctx.time_zone()).ok_or(
        "That time does not exist on that day: the clocks went forward an hour. Check the hour.",
    )?;
    if at > now + TAKEN_AT_SLACK {
        return Err("The date taken is in the future; enter when the answers were given.");
    }
    Ok(at)
}

/// The period a scale asks about, as the end of a sentence: "about the past 2 weeks",
/// "about right now".
fn recall_phrase(recall: &str) -> String {
    if recall.starts_with("past") {
        format!("about the {recall}")
    } else {
        format!("about {recall}")
    }
}

pub(crate) async fn new_assessment(
    State(state): State<AppState>,
    who: Can<ClinicalData>,
    ctx: PageCtx,
    IdPath(id): IdPath<PatientId>,
    Query(q): Query<NewQuery>,
) -> Result<Response, AppError> {
    let Ok(instrument) = Instrument::get(&q.instrument) else {
        return Err(AppError::UnknownInstrument);
    };
    let now = jiff::Timestamp::now();
    // The first score of a scale is its baseline unless one is already recorded.
    let has_baseline = state
        .store()
        .assessments(&who.actor(), &who.user().site_id, &id, now)
        .await?
        .iter()
        .any(|r| r.instrument == instrument.id && r.time_point == TimePoint::Baseline);
    let time_point = match TimePoint::parse(&q.time_point) {
        Some(asked) if has_baseline => asked,
        _ if has_baseline => TimePoint::Weekly,
        _ => TimePoint::Baseline,
    };
    let taken_at = local_minute(now, &ctx);
    let page = assessment_page(
        &state,
        &who,
        ctx,
        id,
        instrument,
        &[],
        FormErrors::default(),
        time_point,
        taken_at,
        RecordingView::default(),
    )
    .await?;
    Ok(render(&page)?.into_response())
}

pub(crate) async fn create_assessment(
    State(state): State<AppState>,
    who: Can<ClinicalData>,
    ctx: PageCtx,
    IdPath(id): IdPath<PatientId>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let Ok(instrument) = Instrument::get(form_value(&fields, "instrument")) else {
        return Err(AppError::NotFound);
    };
    let (answers, mut errors) = read_answers(instrument, &fields);
    let time_point = match TimePoint::parse(form_value(&fields, "time_point")) {
        Some(t) => t,
        None => {
            errors.push(
                "time_point",
                "Choose when the scale was taken from the list.",
            );
            TimePoint::Weekly
        }
    };
    let now = jiff::Timestamp::now();
    let taken_text = form_value(&fields, "taken_at").trim().to_owned();
    let taken = match taken_at(&taken_text, now, &ctx) {
        Ok(t) => Some(t),
        Err(message) => {
            errors.push("taken_at", message);
            None
        }
    };
    let reason = form_value(&fields, "rebaseline_reason").to_owned();
    let mut recording = RecordingView {
        ask_reason: !reason.trim().is_empty(),
        reason,
        ask_repeat: false,
    };
    if let (true, Some(s), Some(taken)) = (
        errors.is_empty(),
        score_answers(instrument, &answers),
        taken,
    ) {
        let intent = Intent {
            rebaseline_reason: Some(recording.reason.as_str()),
            repeat_confirmed: form_value(&fields, "repeat_confirmed") == "yes",
        };
        let outcome = state
            .store()
            .record_assessment(
                EnteredBy::Staff(&who.actor()),
                &who.user().site_id,
                &id,
                &s,
                time_point,
                taken,
                intent,
                now,
            )
            .await?;
        match outcome {
            Ok(_) => {
                return Ok(Redirect::to(&format!(
                    "/patients/{id}?recorded={}#measurements",
                    instrument.id.code()
                ))
                .into_response());
            }
            Err(refusal) => {
                let message = match &refusal {
                    RecordingRefusal::BaselineExists { taken_at } => format!(
                        "{} already has a baseline, taken {}. Choose another time point, or record a new baseline: give the reason below.",
                        instrument.short_name,
                        ctx.time(*taken_at)
                    ),
                    RecordingRefusal::ReasonUnreadable => format!(
                        "The reason for a new baseline must be one line of at most {} characters.",
                        clinical::instruments::recording::MAX_REASON_CHARS
                    ),
                    RecordingRefusal::Repeat { taken_at } => format!(
                        "The same {} answers were recorded for this patient at {}. If this is a separate assessment, tick the box below and save again.",
                        instrument.short_name,
                        ctx.time(*taken_at)
                    ),
                };
                match refusal {
                    RecordingRefusal::BaselineExists { .. }
                    | RecordingRefusal::ReasonUnreadable => {
                        recording.ask_reason = true;
                        errors.push(
                            if matches!(refusal, RecordingRefusal::ReasonUnreadable) {
                                "rebaseline_reason"
                            } else {
                                "time_point"
                            },
                            message,
                        );
                    }
                    RecordingRefusal::Repeat { .. } => {
                        recording.ask_repeat = true;
                        errors.push("repeat_confirmed", message);
                    }
                }
            }
        }
    }
    let page = assessment_page(
        &state, &who, ctx, id, instrument, &answers, errors, time_point, taken_text, recording,
    )
    .await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
}

// ---------------------------------------------------------------------------------------------
// Self-report links and alerts (staff side)

/// What the patient page shows after a link was made.
pub(crate) struct NewLinkView {
    pub(crate) url: String,
    pub(crate) instrument: &'static str,
    pub(crate) expires: String,
    /// The link as a QR code (inline SVG) for the patient's phone camera.
    pub(crate) qr_svg: String,
}

impl NewLinkView {
    /// The view of the link with this secret, made at `base_url`.
    pub(crate) fn new(
        base_url: &str,
        secret: &str,
        instrument: &Instrument,
        expires: String,
    ) -> Self {
        NewLinkView::at(
            format!("{base_url}/r/{secret}"),
            instrument.short_name,
            expires,
        )
    }

    /// The view of a link to `url`, for `what` ("PHQ-9", "self-screening").
    pub(crate) fn at(url: String, what: &'static str, expires: String) -> Self {
        NewLinkView {
            qr_svg: qr_svg(&url),
            url,
            instrument: what,
            expires,
        }
    }
}

/// A QR code of `text` as an SVG element to put inline in a page (no XML declaration). Empty
/// when the text is too long for a QR code (a link never is).
fn qr_svg(text: &str) -> String {
    use qrcode::render::svg;
    match qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M) {
        Ok(code) => {
            let image = code
                .render::<svg::Color<'_>>()
                .min_dimensions(200, 200)
                .quiet_zone(true)
                .build();
            match image.find("<svg") {
                Some(at) => image[at..].to_owned(),
                None => image,
            }
        }
        Err(_) => String::new(),
    }
}

/// Outcome of the link form: a link, or why not.
pub(crate) enum LinkOutcome {
    /// Made: the link's secret, to show once on the page the browser is sent to.
    Made(String),
    Refused(LinkRefused),
}

/// Why a self-report link was not made: the field at fault (`instrument` or `time_point`),
/// what to do, and what was chosen, so the form comes back as it was sent.
pub(crate) struct LinkRefused {
    pub(crate) field: &'static str,
    pub(crate) message: String,
    pub(crate) instrument: String,
    pub(crate) time_point: String,
}

impl Measurements {
    /// Selects in the link form what was sent (a value not on the list leaves the default).
    pub(crate) fn keep_link_choices(&mut self, refused: &LinkRefused) {
        for (choices, sent) in [
            (&mut self.link_instruments, &refused.instrument),
            (&mut self.time_points, &refused.time_point),
        ] {
            if choices.iter().any(|c| c.value == sent.as_str()) {
                for c in choices.iter_mut() {
                    c.selected = c.value == sent.as_str();
                }
            }
        }
    }
}

pub(crate) async fn make_link(
    state: &AppState,
    user: &User,
    actor: &Actor,
    ctx: &PageCtx,
    patient_id: &PatientId,
    fields: &[(String, String)],
) -> Result<LinkOutcome, AppError> {
    let refused = |field: &'static str, message: String| {
        Ok(LinkOutcome::Refused(LinkRefused {
            field,
            message,
            instrument: form_value(fields, "instrument").to_owned(),
            time_point: form_value(fields, "time_point").to_owned(),
        }))
    };
    let Ok(instrument) = Instrument::get(form_value(fields, "instrument")) else {
        return refused("instrument", "Choose an instrument from the list.".into());
    };
    if instrument.rater != Rater::Patient {
        return refused(
            "instrument",
            format!(
                "{} is rated by a clinician; only patient-rated instruments can be sent by link.",
                instrument.short_name
            ),
        );
    }
    let content = state
        .store()
        .instrument_content(instrument.id, LANGUAGE)
        .await?;
    if content.is_none() && !answerable_without_wording(instrument) {
        return refused(
            "instrument",
            format!(
                "{} needs its wording before patients can answer it by link: load it with `ketaflow instruments import`.",
                instrument.short_name
            ),
        );
    }
    let Some(time_point) = TimePoint::parse(form_value(fields, "time_point")) else {
        return refused(
            "time_point",
            "Choose when the scale is for from the list.".into(),
        );
    };
    // A patient's answers are never refused once given, so a second baseline is refused here,
    // before the link exists (re-baselining, with its reason, is a clinician's entry).
    if time_point == TimePoint::Baseline {
        let now = jiff::Timestamp::now();
        let records = state
            .store()
            .assessments(actor, &user.site_id, patient_id, now)
            .await?;
        if let Some(b) = records
            .iter()
            .find(|r| r.instrument == instrument.id && r.time_point == TimePoint::Baseline)
        {
            return refused(
                "time_point",
                format!(
                    "{} already has a baseline, taken {}. Send the link for another time point.",
                    instrument.short_name,
                    ctx.time(b.administered_at)
                ),
            );
        }
    }
    let link = state
        .store()
        .create_self_report_link(
            user,
            patient_id,
            instrument.id,
            time_point,
            state.config().self_report_link,
            jiff::Timestamp::now(),
        )
        .await?;
    Ok(LinkOutcome::Made(link.secret))
}

// ---------------------------------------------------------------------------------------------
// The public self-report page: no sign-in, no name, single use.

#[derive(Template)]
#[template(path = "measure/report.html")]
pub(crate) struct ReportPage {
    ctx: PageCtx,
    secret: String,
    instrument_name: &'static str,
    recall: String,
    instructions: String,
    items: Vec<ItemView>,
    show_count: bool,
    errors: FormErrors,
    crisis_message: String,
}

#[derive(Template)]
#[template(path = "measure/report_done.html")]
pub(crate) struct ReportDonePage {
    ctx: PageCtx,
    heading: &'static str,
    message: &'static str,
    safety: bool,
    crisis_message: String,
}

pub(crate) fn closed_page(
    ctx: PageCtx,
    state: &AppState,
    link: &LinkState,
) -> Result<Response, AppError> {
    let (status, heading, message) = match link {
        LinkState::Used => (
            StatusCode::GONE,
            "Already answered",
            "These questions have already been answered through this link. Thank you.",
        ),
        LinkState::Expired => (
            StatusCode::GONE,
            "This link has expired",
            "For your privacy, links work for a limited time. Ask your clinic for a new one.",
        ),
        LinkState::Revoked => (
            StatusCode::GONE,
            "This link was withdrawn",
            "Your clinic withdrew this link. Ask them for a new one if you still need to answer.",
        ),
        _ => (
            StatusCode::NOT_FOUND,
            "Link not found",
            "Check that the whole link was copied, or ask your clinic for a new one.",
        ),
    };
    let page = ReportDonePage {
        ctx,
        heading,
        message,
        safety: false,
        crisis_message: state.config().crisis_message.clone(),
    };
    Ok((status, render(&page)?).into_response())
}

async fn report_page(
    state: &AppState,
    ctx: PageCtx,
    secret: String,
    instrument: &Instrument,
    answers: &[Option<i8>],
    errors: FormErrors,
) -> Result<Html<String>, AppError> {
    let content = state
        .store()
        .instrument_content(instrument.id, LANGUAGE)
        .await?;
    render(&ReportPage {
        items: item_views(instrument, content.as_ref(), answers, &errors),
        instructions: content
            .map(|c| c.instructions().to_owned())
            .unwrap_or_default(),
        ctx,
        secret,
        instrument_name: instrument.short_name,
        recall: recall_phrase(instrument.recall),
        show_count: true,
        errors,
        crisis_message: state.config().crisis_message.clone(),
    })
}

pub(crate) async fn report_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(secret): Path<String>,
) -> Result<Response, AppError> {
    match state
        .store()
        .self_report_link(&secret, jiff::Timestamp::now())
        .await?
    {
        LinkState::Open { instrument, .. } => Ok(report_page(
            &state,
            ctx,
            secret,
            instrument.instrument(),
            &[],
            FormErrors::default(),
        )
        .await?
        .into_response()),
        closed => closed_page(ctx, &state, &closed),
    }
}

pub(crate) async fn report_submit(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(secret): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let now = jiff::Timestamp::now();
    let LinkState::Open { instrument, .. } = state.store().self_report_link(&secret, now).await?
    else {
        let closed = state.store().self_report_link(&secret, now).await?;
        return closed_page(ctx, &state, &closed);
    };
    let instrument = instrument.instrument();
    let (answers, errors) = read_answers(instrument, &fields);
    let Some(s) = score_answers(instrument, &answers).filter(|_| errors.is_empty()) else {
        let page = report_page(&state, ctx, secret, instrument, &answers, errors).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    };
    let Some(_stored) = state.store().submit_self_report(&secret, &s, now).await? else {
        // Closed between the form and the answers: say why (used, withdrawn or expired).
        let closed = match state.store().self_report_link(&secret, now).await? {
            LinkState::Open { .. } => LinkState::Used,
            other => other,
        };
        return closed_page(ctx, &state, &closed);
    };
    let safety = s.safety_follow_up_due();
    let page = ReportDonePage {
        ctx,
        heading: "Thank you",
        message: "Your answers have reached your clinic. You can close this page.",
        safety,
        crisis_message: state.config().crisis_message.clone(),
    };
    Ok(render(&page)?.into_response())
}
