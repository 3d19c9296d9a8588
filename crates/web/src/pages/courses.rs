//! A patient's treatment courses: ordering one (prescribers sign it), its orders, its planned
//! sessions with what is booked, the assessments it makes due, dose changes and status changes;
//! and the patient's Spravato REMS enrollment.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use clinical::course::{
    Product, TargetDose, assessment_schedule, builtin_protocols, check_dose, check_status_change,
};
use clinical::instruments::InstrumentId;
use clinical::instruments::schedule::{Done, Planned, Status, TimePoint, due_together};
use serde::Deserialize;
use store::{
    AppointmentStatus, CourseId, CourseRecord, CourseRefusal, NewCourse, PatientId, PatientRems,
    Role, StatusChange,
};

use super::{FormErrors, sentence};
use crate::AppState;
use crate::capability::{Can, ClinicalData, Prescribing};
use crate::display::Choice;
use crate::error::AppError;
use crate::ids::IdPath;
use crate::view::{PageCtx, render};

pub(crate) struct OrderRow {
    dose: String,
    reason: String,
    signed: String,
    superseded: bool,
}

pub(crate) struct SessionRow {
    number: u32,
    date: String,
    phase: String,
    booked: Option<String>,
}

pub(crate) struct DueRow {
    what: String,
    window: String,
    /// The window's last day.
    closes: jiff::civil::Date,
    status: &'static str,
    instrument: &'static str,
    time_point: &'static str,
    /// The query that opens the assessment form on this row's instrument and time point.
    form: String,
}

pub(crate) struct CourseView {
    id: String,
    title: String,
    product: &'static str,
    diagnosis: String,
    status: &'static str,
    status_reason: Option<String>,
    dose: String,
    dose_unit: &'static str,
    source: String,
    orders: Vec<OrderRow>,
    sessions: Vec<SessionRow>,
    booked: usize,
    /// When its sessions that ended without dosing were (not counted among its sessions).
    not_dosed: Vec<String>,
    due: Vec<DueRow>,
    next: Vec<Choice>,
    ended: bool,
}

#[derive(Default, Deserialize)]
pub(crate) struct NewCourseForm {
    #[serde(default)]
    diagnosis: String,
    #[serde(default)]
    protocol: String,
    #[serde(default)]
    instrument: String,
    #[serde(default)]
    starts_on: String,
    #[serde(default)]
    dose: String,
}

#[derive(Template)]
#[template(path = "patients/courses.html")]
pub(crate) struct CoursesPage {
    ctx: PageCtx,
    patient_id: String,
    patient_name: String,
    courses: Vec<CourseView>,
    can_order: bool,
    diagnoses: Vec<Choice>,
    protocols: Vec<(String, String, String)>,
    instruments: Vec<Choice>,
    form: NewCourseForm,
    errors: FormErrors,
    /// Errors of a form about one course, named `<field>-<course id>`.
    course_errors: FormErrors,
    rems: Option<String>,
    needs_rems: bool,
    /// Whether the patient's newest screening is decided "eligible": a course may be ordered
    /// before, but its patient is not checked in until then, and the prescriber ordering it
    /// is told so at the form.
    cleared: bool,
    /// The REMS enrollment form as sent, kept when it is refused.
    rems_sent: RemsForm,
    /// A refused form about one course, as it was sent.
    sent: SentCourseForm,
    notice: Option<&'static str>,
}

/// A form about one course as it was sent and refused: which course, which form (`dose` or
/// `status`) and what was typed and chosen, shown again in that form only.
#[derive(Default)]
pub(crate) struct SentCourseForm {
    course: String,
    form: &'static str,
    values: CourseForm,
}

impl SentCourseForm {
    /// What was sent in `field` of the `form` about `course`; empty for every other form.
    fn value(&self, course: &str, form: &str, field: &str) -> &str {
        if self.course != course || self.form != form {
            return "";
        }
        match field {
            "dose" => &self.values.dose,
            "reason" => &self.values.reason,
            "status" => &self.values.status,
            _ => "",
        }
    }
}

/// The built-in protocols and the clinic's own.
pub(crate) async fn protocol_library(
    state: &AppState,
    site: &store::SiteId,
) -> Result<Vec<clinical::course::Protocol>, store::StoreError> {
    let mut all = builtin_protocols();
    all.extend(state.store().site_protocols(site).await?);
    Ok(all)
}

fn dose_words(d: TargetDose) -> String {
    d.words()
}

fn view(
    ctx: &PageCtx,
    c: CourseRecord,
    booked: &[store::AppointmentRecord],
    done: &[Done],
) -> CourseView {
    let planned = c.planned();
    let of_course = |a: &&store::AppointmentRecord| {
        a.course_id.as_ref() == Some(&c.id) && a.status == AppointmentStatus::Booked
    };
    // A session that ended before any drug was given is not one of the course's: it is listed
    // apart, and the course books it again.
    let mine: Vec<&store::AppointmentRecord> = booked
        .iter()
        .filter(of_course)
        .filter(|a| !a.not_dosed)
        .collect();
    let not_dosed: Vec<String> = booked
        .iter()
        .filter(of_course)
        .filter(|a| a.not_dosed)
        .map(|a| ctx.time(a.starts_at))
        .collect();
    // Sessions not booked yet of a plan that has fallen behind show the day they can still
    // be booked from, beside the day planned.
    let ahead: Vec<_> = if c.status.is_final() {
        Vec::new()
    } else {
        c.sessions_as_they_stand(&ctx.time_zone(), ctx.today())
            .into_iter()
            .skip(mine.len())
            .collect()
    };
    let sessions: Vec<SessionRow> = planned
        .iter()
        .enumerate()
        .map(|(i, s)| SessionRow {
            number: s.number,
            date: match ahead
                .iter()
                .find(|m| m.number == s.number && m.date != s.date)
            {
                Some(m) => format!("{} (planned for {})", m.date, s.date),
                None => s.date.to_string(),
            },
            phase: s.phase.clone(),
            booked: mine
                .get(i)
                .map(|a| format!("{} in {}", ctx.time(a.starts_at), a.chair_name)),
        })
        .collect();
    let due = due_rows(ctx, &c, done);
    let diagnosis = clinical::diagnoses::find(&c.diagnosis_code).map_or_else(
        || c.diagnosis_code.clone(),
        |d| format!("{} {}", d.code, d.label),
    );
    CourseView {
        id: c.id.as_str().to_owned(),
        title: c.protocol_name.clone(),
        product: c.product.label(),
        diagnosis,
        status: c.status.label(),
        status_reason: c.status_reason.clone(),
        dose: c.order().map_or_else(String::new, |o| dose_words(o.dose)),
        dose_unit: if c.product == Product::EsketamineNasal {
            "mg"
        } else {
            "mg/kg"
        },
        source: c.protocol_source.clone(),
        orders: c
            .orders
            .iter()
            .map(|o| OrderRow {
                dose: dose_words(o.dose),
                reason: o.reason.clone().unwrap_or_else(|| "First order".into()),
                signed: format!("{} by {}", ctx.time(o.signed_at), o.signed_by),
                superseded: o.superseded,
            })
            .collect(),
        booked: mine.len(),
        not_dosed,
        sessions,
        due,
        next: c
            .status
            .next()
            .iter()
            .map(|s| Choice {
                value: s.code(),
                label: s.label(),
                selected: false,
            })
            .collect(),
        ended: c.status.is_final(),
    }
}

/// The assessments a course makes due today, then those it missed (windows closed without
/// one), each in plan order; none once it has ended or while paused.
pub(crate) fn due_rows(ctx: &PageCtx, c: &CourseRecord, done: &[Done]) -> Vec<DueRow> {
    let plan = plan_status(ctx, c, done);
    let of = |wanted: Status| {
        plan.iter()
            .filter(move |(_, s)| *s == wanted)
            .map(|(p, _)| p)
    };
    // Two entries due today that one assessment answers together are one row: the baseline
    // and the assessment before a course's first session, say.
    let due: Vec<&Planned> = of(Status::Due).collect();
    let today = ctx.today();
    let mut paired = vec![false; due.len()];
    let mut rows = Vec::new();
    for (i, p) in due.iter().enumerate() {
        if paired[i] {
            continue;
        }
        let partner = (i + 1..due.len())
            .filter(|&j| !paired[j])
            .find_map(|j| due_together(p, due[j], today).map(|together| (j, together)));
        let mut row = due_row(p, "Due");
        if let Some((j, (words, record_at))) = partner {
            paired[j] = true;
            let q = due[j];
            row.time_point = words;
            row.form = form_query(p.instrument, record_at);
            row.what = format!("{} {}", p.instrument.instrument().short_name, words);
            // The days on which one assessment answers both: where the windows meet.
            let (earliest, latest) = (p.earliest.max(q.earliest), p.latest.min(q.latest));
            row.window = window_words(earliest, latest);
            row.closes = latest;
        }
        rows.push(row);
    }
    rows.extend(of(Status::Missed).map(|p| due_row(p, "Missed")));
    rows
}

/// The first assessment a course asks for after those due today, where it asks for any more
/// (none once it has ended or while paused).
pub(crate) fn next_row(ctx: &PageCtx, c: &CourseRecord, done: &[Done]) -> Option<DueRow> {
    plan_status(ctx, c, done)
        .into_iter()
        .find(|(_, s)| *s == Status::Upcoming)
        .map(|(p, _)| due_row(&p, "Next"))
}

/// Each assessment of a course's plan with its status today, on the days its sessions are
/// booked or can still be booked; none for an ended or paused course.
fn plan_status(ctx: &PageCtx, c: &CourseRecord, done: &[Done]) -> Vec<(Planned, Status)> {
    if c.status.is_final() || c.status == clinical::course::CourseStatus::Paused {
        return Vec::new();
    }
    let sessions = c.sessions_as_they_stand(&ctx.time_zone(), ctx.today());
    assessment_schedule(c.instrument, &sessions).status(done, ctx.today())
}

/// A window of days in words: one day, or "from to".
fn window_words(earliest: jiff::civil::Date, latest: jiff::civil::Date) -> String {
    if earliest == latest {
        earliest.to_string()
    } else {
        format!("{earliest} to {latest}")
    }
}

fn due_row(p: &Planned, status: &'static str) -> DueRow {
    DueRow {
        instrument: p.instrument.instrument().short_name,
        time_point: p.time_point.label(),
        what: format!(
            "{} {}",
            p.instrument.instrument().short_name,
            p.time_point.label()
        ),
        window: window_words(p.earliest, p.latest),
        closes: p.latest,
        status,
        form: form_query(p.instrument, p.time_point),
    }
}

/// The query that opens the assessment form on `instrument` at `time_point`.
pub(crate) fn form_query(instrument: InstrumentId, time_point: TimePoint) -> String {
    format!(
        "instrument={}&time_point={}",
        instrument.code(),
        time_point.code()
    )
}

impl DueRow {
    /// The instrument's short name.
    pub(crate) fn instrument_name(&self) -> &'static str {
        self.instrument
    }

    /// The time point in words.
    pub(crate) fn time_point_label(&self) -> &'static str {
        self.time_point
    }

    /// The window in words.
    pub(crate) fn window_text(&self) -> String {
        self.window.clone()
    }

    /// The query that opens the assessment form on this row's instrument and time point.
    pub(crate) fn form_query(&self) -> String {
        self.form.clone()
    }

    /// The window's last day.
    pub(crate) fn closes(&self) -> jiff::civil::Date {
        self.closes
    }

    /// Its status as the lists of what is due say it, beside the default plan's rows: "Due
    /// now", "Missed" or "Next".
    pub(crate) fn listed_status(&self) -> &'static str {
        match self.status {
            "Due" => "Due now",
            other => other,
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn page<C>(
    state: &AppState,
    who: &Can<C>,
    ctx: PageCtx,
    id: &PatientId,
    form: NewCourseForm,
    errors: FormErrors,
    course_errors: FormErrors,
    notice: Option<&'static str>,
) -> Result<CoursesPage, AppError> {
    let now = jiff::Timestamp::now();
    let site = &who.user().site_id;
    let actor = who.actor();
    let p = state.store().patient(&actor, site, id, now).await?;
    let courses = state.store().courses(&actor, site, id, now).await?;
    let far = now
        .checked_sub(jiff::SignedDuration::from_hours(24 * 365))
        .unwrap_or(now);
    let until = now
        .checked_add(jiff::SignedDuration::from_hours(24 * 365))
        .unwrap_or(now);
    let appointments = state
        .store()
        .appointments(&actor, site, far, until, None, Some(id), now)
        .await?;
    let tz = ctx.time_zone();
    let done: Vec<Done> = state
        .store()
        .assessments(&actor, site, id, now)
        .await?
        .iter()
        .map(|a| Done {
            instrument: a.instrument,
            time_point: a.time_point,
            date: a.administered_at.to_zoned(tz.clone()).date(),
        })
        .collect();
    let diagnoses = state
        .store()
        .diagnoses(&actor, site, id, now)
        .await?
        .into_iter()
        .filter(|d| d.ended.is_none())
        .map(|d| Choice {
            value: d.diagnosis.code,
            label: d.diagnosis.label,
            selected: form.diagnosis == d.diagnosis.code,
        })
        .collect();
    let instruments = InstrumentId::ALL
        .into_iter()
        .map(|i| Choice {
            value: i.code(),
            label: i.instrument().short_name,
            selected: if form.instrument.is_empty() {
                i == InstrumentId::Phq9
            } else {
                form.instrument == i.code()
            },
        })
        .collect();
    let rems = state.store().patient_rems(site, id).await?.map(|r| {
        format!(
            "Enrolled in the Spravato REMS on {} (submitted {})",
            r.enrolled_on,
            r.submitted_by.label()
        )
    });
    let cleared = state.store().cleared_by_screening(site, id).await?;
    Ok(CoursesPage {
        cleared,
        patient_id: p.id.as_str().to_owned(),
        patient_name: format!("{} {}", p.given_name, p.family_name),
        courses: courses
            .into_iter()
            .map(|c| view(&ctx, c, &appointments, &done))
            .collect(),
        can_order: who.user().role == Role::Prescriber,
        diagnoses,
        protocols: protocol_library(state, site)
            .await?
            .into_iter()
            .map(|pr| (pr.code, pr.name, pr.dose.words()))
            .collect(),
        instruments,
        form,
        errors,
        course_errors,
        needs_rems: rems.is_none(),
        rems,
        rems_sent: RemsForm::default(),
        sent: SentCourseForm::default(),
        notice,
        ctx,
    })
}

#[derive(Deserialize)]
pub(crate) struct NoticeQuery {
    done: Option<String>,
}

/// `GET /patients/{id}/courses`.
pub(crate) async fn show(
    State(state): State<AppState>,
    who: Can<ClinicalData>,
    ctx: PageCtx,
    IdPath(id): IdPath<PatientId>,
    Query(q): Query<NoticeQuery>,
) -> Result<Html<String>, AppError> {
    let notice = match q.done.as_deref() {
        Some("ordered") => Some("The course is ordered and signed."),
        Some("dose") => Some("The new dose is signed; the earlier order is kept."),
        Some("status") => Some("The course's status is changed."),
        Some("rems") => Some("The REMS enrollment is recorded."),
        _ => None,
    };
    let form = NewCourseForm::default();
    render(
        &page(
            &state,
            &who,
            ctx,
            &id,
            form,
            FormErrors::default(),
            FormErrors::default(),
            notice,
        )
        .await?,
    )
}

fn course_refusal(errors: &mut FormErrors, field: &str, r: CourseRefusal) {
    let field = match r {
        CourseRefusal::DiagnosisNotCurrent => "diagnosis".to_owned(),
        _ => field.to_owned(),
    };
    errors.push(field, sentence(&r.to_string()));
}

/// `POST /patients/{id}/courses` (prescribers): orders and signs a course.
pub(crate) async fn create(
    State(state): State<AppState>,
    who: Can<Prescribing>,
    ctx: PageCtx,
    IdPath(id): IdPath<PatientId>,
    Form(form): Form<NewCourseForm>,
) -> Result<Response, AppError> {
    let now = jiff::Timestamp::now();
    let site = &who.user().site_id;
    let mut errors = FormErrors::default();
    if form.diagnosis.trim().is_empty() {
        errors.push("diagnosis", "Choose the condition the course treats.");
    }
    let protocol = protocol_library(&state, site)
        .await?
        .into_iter()
        .find(|p| p.code == form.protocol.trim());
    if protocol.is_none() {
        errors.push("protocol", "Choose the protocol from the list.");
    }
    let instrument = InstrumentId::parse(form.instrument.trim()).ok();
    if instrument.is_none() {
        errors.push(
            "instrument",
            "Choose the outcome rating scale from the list.",
        );
    }
    let starts_on = match form.starts_on.trim().parse::<jiff::civil::Date>() {
        Err(_) => {
            errors.push(
                "starts_on",
                "Give the first session's date in the form YYYY-MM-DD, for example 2026-12-07.",
            );
            None
        }
        Ok(day) => match clinical::course::check_first_session(day, ctx.today()) {
            Ok(()) => Some(day),
            Err(e) => {
                errors.push("starts_on", sentence(&e.to_string()));
                None
            }
        },
    };
    let p = state.store().patient(&who.actor(), site, &id, now).await?;
    let age = clinical::patient::age_on(p.date_of_birth, ctx.today());
    let dose = match &protocol {
        Some(pr) if form.dose.trim().is_empty() => Some(pr.dose_for_age(age)),
        Some(pr) => match check_dose(
            pr.product,
            &form.dose,
            &state.config().dose_caps,
            &state.config().planning_floor,
            age,
        ) {
            Ok(d) => match clinical::course::check_first_dose(pr.product, d) {
                Ok(()) => Some(d),
                Err(m) => {
                    errors.push("dose", sentence(m));
                    None
                }
            },
            Err(e) => {
                errors.push("dose", sentence(&e.to_string()));
                None
            }
        },
        None => None,
    };
    if let (true, Some(protocol), Some(instrument), Some(starts_on), Some(dose)) =
        (errors.is_empty(), &protocol, instrument, starts_on, dose)
    {
        let new = NewCourse {
            patient_id: &id,
            diagnosis_code: form.diagnosis.trim(),
            protocol,
            instrument,
            starts_on,
            dose,
        };
        match state
            .store()
            .create_course(&who.actor(), site, &new, now)
            .await?
        {
            Ok(_) => {
                return Ok(
                    Redirect::to(&format!("/patients/{id}/courses?done=ordered")).into_response(),
                );
            }
            Err(r) => course_refusal(&mut errors, "protocol", r),
        }
    }
    let page = page(
        &state,
        &who,
        ctx,
        &id,
        form,
        errors,
        FormErrors::default(),
        None,
    )
    .await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
}

#[derive(Default, Deserialize)]
pub(crate) struct CourseForm {
    #[serde(default)]
    dose: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    status: String,
}

async fn own_course(
    state: &AppState,
    site: &store::SiteId,
    patient: &str,
    course: &str,
) -> Result<(PatientId, CourseId, CourseRecord), AppError> {
    let (Some(pid), Some(cid)) = (PatientId::parse(patient), CourseId::parse(course)) else {
        return Err(AppError::NotFound);
    };
    let record = state.store().course(site, &cid).await?;
    if record.patient_id != pid {
        return Err(AppError::NotFound);
    }
    Ok((pid, cid, record))
}

/// `POST /patients/{id}/courses/{course}/dose` (prescribers): a new signed order.
pub(crate) async fn change_dose(
    State(state): State<AppState>,
    who: Can<Prescribing>,
    ctx: PageCtx,
    axum::extract::Path((patient, course)): axum::extract::Path<(String, String)>,
    Form(form): Form<CourseForm>,
) -> Result<Response, AppError> {
    let now = jiff::Timestamp::now();
    let site = &who.user().site_id;
    let (pid, cid, record) = own_course(&state, site, &patient, &course).await?;
    let p = state.store().patient(&who.actor(), site, &pid, now).await?;
    let age = clinical::patient::age_on(p.date_of_birth, ctx.today());
    let mut errors = FormErrors::default();
    let dose = check_dose(
        record.product,
        &form.dose,
        &state.config().dose_caps,
        &state.config().planning_floor,
        age,
    );
    let reason = clinical::course::check_dose_reason(&form.reason);
    if let Err(e) = &reason {
        errors.push(format!("reason-{cid}"), sentence(&e.to_string()));
    }
    match (dose, reason) {
        (Err(e), _) => errors.push(format!("dose-{cid}"), sentence(&e.to_string())),
        (Ok(d), Ok(reason)) => {
            match state
                .store()
                .change_dose(&who.actor(), site, &cid, d, reason, now)
                .await?
            {
                Ok(()) => {
                    return Ok(
                        Redirect::to(&format!("/patients/{pid}/courses?done=dose")).into_response()
                    );
                }
                Err(r) => course_refusal(&mut errors, &format!("dose-{cid}"), r),
            }
        }
        (Ok(_), Err(_)) => {}
    }
    let mut page = page(
        &state,
        &who,
        ctx,
        &pid,
        NewCourseForm::default(),
        FormErrors::default(),
        errors,
        None,
    )
    .await?;
    page.sent = SentCourseForm {
        course: cid.as_str().to_owned(),
        form: "dose",
        values: form,
    };
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
}

/// `POST /patients/{id}/courses/{course}/status` (prescribers).
pub(crate) async fn change_status(
    State(state): State<AppState>,
    who: Can<Prescribing>,
    ctx: PageCtx,
    axum::extract::Path((patient, course)): axum::extract::Path<(String, String)>,
    Form(form): Form<CourseForm>,
) -> Result<Response, AppError> {
    let now = jiff::Timestamp::now();
    let site = &who.user().site_id;
    let (pid, cid, record) = own_course(&state, site, &patient, &course).await?;
    let mut errors = FormErrors::default();
    match check_status_change(record.status, &form.status, &form.reason) {
        Ok((to, reason)) => {
            let change = StatusChange {
                from: record.status,
                to,
                reason: reason.as_deref(),
            };
            match state
                .store()
                .set_course_status(&who.actor(), site, &cid, change, now)
                .await?
            {
                Ok(()) => {
                    return Ok(
                        Redirect::to(&format!("/patients/{pid}/courses?done=status"))
                            .into_response(),
                    );
                }
                Err(r) => course_refusal(&mut errors, &format!("status-{cid}"), r),
            }
        }
        Err(e) => {
            let field = match e.field() {
                "reason" => format!("status_reason-{cid}"),
                _ => format!("status-{cid}"),
            };
            errors.push(field, sentence(&e.to_string()));
        }
    }
    let mut page = page(
        &state,
        &who,
        ctx,
        &pid,
        NewCourseForm::default(),
        FormErrors::default(),
        errors,
        None,
    )
    .await?;
    page.sent = SentCourseForm {
        course: cid.as_str().to_owned(),
        form: "status",
        values: form,
    };
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct RemsForm {
    #[serde(default)]
    enrolled_on: String,
    #[serde(default)]
    submitted_by: String,
}

/// `POST /patients/{id}/rems`: records the patient's REMS enrollment (clinical roles).
pub(crate) async fn enroll(
    State(state): State<AppState>,
    who: Can<ClinicalData>,
    ctx: PageCtx,
    IdPath(id): IdPath<PatientId>,
    Form(form): Form<RemsForm>,
) -> Result<Response, AppError> {
    let mut errors = FormErrors::default();
    let date = form.enrolled_on.trim().parse::<jiff::civil::Date>().ok();
    match date {
        None => errors.push(
            "enrolled_on",
            "Give the enrollment date in the form YYYY-MM-DD.",
        ),
        Some(d) if d > ctx.today() => {
            errors.push(
                "enrolled_on",
                "The enrollment date cannot be in the future.",
            );
        }
        Some(_) => {}
    }
    let channel = clinical::session::RemsChannel::parse(&form.submitted_by);
    if channel.is_none() {
        errors.push(
            "submitted_by",
            "Say how the enrollment form was submitted: online or by fax.",
        );
    }
    if let (true, Some(enrolled_on), Some(submitted_by)) = (errors.is_empty(), date, channel) {
        state
            .store()
            .set_patient_rems(
                &who.actor(),
                &who.user().site_id,
                &id,
                &PatientRems {
                    enrolled_on,
                    submitted_by,
                },
                jiff::Timestamp::now(),
            )
            .await?;
        return Ok(Redirect::to(&format!("/patients/{id}/courses?done=rems")).into_response());
    }
    let mut page = page(
        &state,
        &who,
        ctx,
        &id,
        NewCourseForm::default(),
        errors,
        FormErrors::default(),
        None,
    )
    .await?;
    page.rems_sent = form;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
}
