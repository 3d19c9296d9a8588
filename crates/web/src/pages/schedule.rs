//! The schedule: a week per site with the chairs as columns, a day list for the front desk with
//! cancel and no-show, arrival, and the form that books one appointment.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use clinical::booking::AppointmentKind;
use jiff::ToSpan;
use jiff::civil::{Date, Weekday};
use serde::Deserialize;
use store::{
    AppointmentId, AppointmentStatus, BookingRefusal, ChairId, CourseId, NewAppointment, PatientId,
};

use super::{FormErrors, sentence};
use crate::AppState;
use crate::capability::{Can, PatientDirectory};
use crate::display::Choice;
use crate::error::AppError;
use crate::view::{PageCtx, render};

/// A refusal in the page's words, with times in the clinic's zone.
pub(crate) fn refusal_words(ctx: &PageCtx, r: &BookingRefusal) -> String {
    match r {
        BookingRefusal::ChairTaken {
            chair,
            patient,
            from,
            until,
            ..
        } => format!(
            "{chair} is booked from {} to {} for {patient}; choose another time or chair",
            ctx.time(*from),
            ctx.time(*until)
        ),
        BookingRefusal::PatientTaken {
            chair, from, until, ..
        } => format!(
            "the patient already has an appointment from {} to {} in {chair}; choose another time",
            ctx.time(*from),
            ctx.time(*until)
        ),
        BookingRefusal::SameDay { chair, from, .. } => format!(
            "this course has a session on that day already, at {} in {chair}; a course plans one session a day at most, so choose another day",
            ctx.time(*from)
        ),
        other => other.to_string(),
    }
}

pub(crate) struct Slot {
    id: String,
    time: String,
    patient_id: String,
    patient: String,
    kind: &'static str,
    chair: String,
    status: &'static str,
    open: bool,
    reason: Option<String>,
    /// A session of a course, so it can be checked in.
    session: bool,
    /// When the patient was marked arrived, in the clinic's time ("09:02").
    arrived: Option<String>,
    /// The patient is checked in: the appointment can no longer be cancelled or marked.
    checked_in: bool,
}

pub(crate) struct DayColumn {
    chair: String,
    slots: Vec<Slot>,
}

pub(crate) struct DayView {
    date: String,
    label: String,
    columns: Vec<DayColumn>,
    count: usize,
    /// Why the clinic is closed that day, when it is.
    closed: Option<String>,
}

#[derive(Template)]
#[template(path = "schedule/week.html")]
pub(crate) struct WeekPage {
    ctx: PageCtx,
    monday: String,
    previous: String,
    next: String,
    /// Id and name of each chair, for its calendar file.
    chairs: Vec<(String, String)>,
    days: Vec<DayView>,
}

/// The instants `[start, end)` of `days` days from `day` in the clinic's zone.
pub(crate) fn day_bounds(
    ctx: &PageCtx,
    day: Date,
    days: i64,
) -> (jiff::Timestamp, jiff::Timestamp) {
    zone_day_bounds(&ctx.time_zone(), day, days)
}

/// The instants `[start, end)` of `days` days from `day` in the zone `tz`.
pub(crate) fn zone_day_bounds(
    tz: &jiff::tz::TimeZone,
    day: Date,
    days: i64,
) -> (jiff::Timestamp, jiff::Timestamp) {
    // ok: only days at the ends of jiff's calendar have no instant; the span then starts now,
    // or is empty, and a list over it shows nothing rather than failing.
    let start = day
        .to_zoned(tz.clone())
        .map_or_else(|_| jiff::Timestamp::now(), |z| z.timestamp());
    let end = day
        .checked_add(days.days())
        .ok()
        .and_then(|d| d.to_zoned(tz.clone()).ok())
        .map_or(start, |z| z.timestamp());
    (start, end)
}

fn slot(ctx: &PageCtx, a: store::AppointmentRecord) -> Slot {
    let tz = ctx.time_zone();
    let status = status_words(&a);
    Slot {
        id: a.id.as_str().to_owned(),
        time: format!(
            "{}–{}",
            a.starts_at.to_zoned(tz.clone()).strftime("%H:%M"),
            a.ends_at.to_zoned(tz).strftime("%H:%M")
        ),
        patient_id: a.patient_id.as_str().to_owned(),
        patient: a.patient_name,
        kind: a.kind.label(),
        chair: a.chair_name,
        status,
        checked_in: a.session_id.is_some(),
        open: a.status == AppointmentStatus::Booked,
        session: a.course_id.is_some() && a.status == AppointmentStatus::Booked,
        reason: a.status_reason,
        arrived: a
            .arrived_at
            .map(|t| t.to_zoned(ctx.time_zone()).strftime("%H:%M").to_string()),
    }
}

#[derive(Deserialize)]
pub(crate) struct WeekQuery {
    week: Option<String>,
}

/// `GET /schedule`: the week around `week` (a date; today when absent).
pub(crate) async fn week(
    State(state): State<AppState>,
    who: Can<PatientDirectory>,
    ctx: PageCtx,
    Query(q): Query<WeekQuery>,
) -> Result<Html<String>, AppError> {
    let day = q
        .week
        .as_deref()
        .and_then(|w| w.parse::<Date>().ok())
        .unwrap_or_else(|| ctx.today());
    let back = i64::from(day.weekday().to_monday_zero_offset());
    let monday = day.checked_sub(back.days()).unwrap_or(day);
    let (from, until) = day_bounds(&ctx, monday, 7);
    let now = jiff::Timestamp::now();
    let site = &who.user().site_id;
    let chairs = state.store().chairs(site).await?;
    let list = state
        .store()
        .appointments(&who.actor(), site, from, until, None, None, now)
        .await?;
    let tz = ctx.time_zone();
    let sunday = monday.checked_add(6.days()).unwrap_or(monday);
    let closed = state.store().closed_days(site, monday, sunday).await?;
    let mut days = Vec::new();
    for i in 0..7 {
        let Ok(d) = monday.checked_add(i.days()) else {
            continue;
        };
        let columns: Vec<DayColumn> = chairs
            .iter()
            .map(|c| DayColumn {
                chair: format!("{}, {}", c.room, c.name),
                slots: list
                    .iter()
                    .filter(|a| {
                        a.chair_id == c.id
                            && a.status == AppointmentStatus::Booked
                            && a.starts_at.to_zoned(tz.clone()).date() == d
                    })
                    .cloned()
                    .map(|a| slot(&ctx, a))
                    .collect(),
            })
            .collect();
        let count = columns.iter().map(|c| c.slots.len()).sum();
        let weekend = matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday);
        if weekend && count == 0 {
            continue;
        }
        days.push(DayView {
            date: d.to_string(),
            label: d.strftime("%A %e %B").to_string(),
            columns,
            count,
            closed: closed.iter().find(|c| c.day == d).map(|c| c.reason.clone()),
        });
    }
    let shift = |n: i64| {
        monday
            .checked_add(n.days())
            .map_or_else(|_| monday.to_string(), |d| d.to_string())
    };
    render(&WeekPage {
        monday: monday.to_string(),
        previous: shift(-7),
        next: shift(7),
        chairs: chairs
            .iter()
            .map(|c| (c.id.as_str().to_owned(), format!("{}, {}", c.room, c.name)))
            .collect(),
        days,
        ctx,
    })
}

#[derive(Template)]
#[template(path = "schedule/day.html")]
pub(crate) struct DayPage {
    ctx: PageCtx,
    date: String,
    label: String,
    previous: String,
    next: String,
    slots: Vec<Slot>,
    errors: FormErrors,
    notice: Option<&'static str>,
    /// Whether the reader runs sessions (nurse, prescriber): they see the check-in button.
    clinical: bool,
    /// Whether the list is today's: only then can patients be marked arrived.
    today: bool,
    /// Why the clinic is closed that day, when it is.
    closed: Option<String>,
    /// A refused cancellation's appointment and the reason typed for it.
    typed_reason: Option<(String, String)>,
    /// Whether the day is today or later, so its appointments can be cancelled together.
    cancellable: bool,
    /// The reason typed for cancelling the whole day, and whether its box was ticked, when
    /// that was refused.
    typed_day_reason: String,
    day_confirmed: bool,
}

impl DayPage {
    /// How many of the day's appointments are booked and not checked in: what cancelling the
    /// whole day cancels.
    fn open_to_cancel(&self) -> usize {
        self.slots
            .iter()
            .filter(|s| s.open && !s.checked_in)
            .count()
    }

    /// The reason typed for `appointment` in a refused post, else nothing.
    fn typed_reason_for(&self, appointment: &str) -> &str {
        match &self.typed_reason {
            Some((id, reason)) if id == appointment => reason,
            _ => "",
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct DayQuery {
    date: Option<String>,
    done: Option<String>,
}

async fn day_page(
    state: &AppState,
    who: &Can<PatientDirectory>,
    ctx: PageCtx,
    day: Date,
    errors: FormErrors,
    notice: Option<&'static str>,
) -> Result<DayPage, AppError> {
    let list = day_appointments(state, &who.actor(), &who.user().site_id, &ctx, day).await?;
    let closed = state
        .store()
        .closed_days(&who.user().site_id, day, day)
        .await?
        .into_iter()
        .next()
        .map(|c| c.reason);
    let shift = |n: i64| {
        day.checked_add(n.days())
            .map_or_else(|_| day.to_string(), |d| d.to_string())
    };
    Ok(DayPage {
        date: day.to_string(),
        label: day.strftime("%A %e %B %Y").to_string(),
        previous: shift(-1),
        next: shift(1),
        slots: list.into_iter().map(|a| slot(&ctx, a)).collect(),
        closed,
        errors,
        notice,
        today: day == ctx.today(),
        typed_reason: None,
        cancellable: day >= ctx.today(),
        typed_day_reason: String::new(),
        day_confirmed: false,
        clinical: matches!(
            ctx.user.as_ref().map(|u| u.role),
            Some(r) if r == store::Role::Nurse.label() || r == store::Role::Prescriber.label()
        ),
        ctx,
    })
}

/// `GET /schedule/day`: one day's appointments by time.
/// Every appointment of the site on `day` (the clinic's calendar day), by start; an audited
/// read of the patients' names.
pub(crate) async fn day_appointments(
    state: &AppState,
    actor: &store::Actor,
    site: &store::SiteId,
    ctx: &PageCtx,
    day: Date,
) -> Result<Vec<store::AppointmentRecord>, AppError> {
    let (from, until) = day_bounds(ctx, day, 1);
    Ok(state
        .store()
        .appointments(actor, site, from, until, None, None, jiff::Timestamp::now())
        .await?)
}

/// Where an appointment stands, in the day list's words.
pub(crate) fn status_words(a: &store::AppointmentRecord) -> &'static str {
    match a.status {
        AppointmentStatus::Booked if a.not_dosed => "Not dosed: to book again",
        AppointmentStatus::Booked if a.session_id.is_some() => "Checked in",
        AppointmentStatus::Booked => "Booked",
        AppointmentStatus::Cancelled => "Cancelled",
        AppointmentStatus::NoShow => "No-show",
    }
}

pub(crate) async fn day(
    State(state): State<AppState>,
    who: Can<PatientDirectory>,
    ctx: PageCtx,
    Query(q): Query<DayQuery>,
) -> Result<Html<String>, AppError> {
    let day = q
        .date
        .as_deref()
        .and_then(|d| d.parse::<Date>().ok())
        .unwrap_or_else(|| ctx.today());
    let notice = match q.done.as_deref() {
        Some("booked") => Some("The appointment is booked."),
        Some("cancelled") => Some("The appointment is cancelled; its slot is free."),
        Some("no_show") => Some("The appointment is marked a no-show; its slot is free."),
        Some("arrived") => Some("The patient is marked arrived."),
        Some("day_cancelled") => Some(
            "Every appointment of the day not checked in is cancelled, with the reason. Let the patients know; the administrator can now close the day under Chairs and REMS.",
        ),
        _ => None,
    };
    render(&day_page(&state, &who, ctx, day, FormErrors::default(), notice).await?)
}

#[derive(Deserialize)]
pub(crate) struct CloseForm {
    #[serde(default)]
    appointment: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    date: String,
}

/// `POST /schedule/close`: cancels an appointment or marks a no-show, with the reason.
pub(crate) async fn close(
    State(state): State<AppState>,
    who: Can<PatientDirectory>,
    ctx: PageCtx,
    Form(form): Form<CloseForm>,
) -> Result<Response, AppError> {
    let day = form.date.parse::<Date>().unwrap_or_else(|_| ctx.today());
    let Some(id) = AppointmentId::parse(&form.appointment) else {
        return Err(AppError::NotFound);
    };
    let mut errors = FormErrors::default();
    let status = match form.action.as_str() {
        "cancel" => Some(AppointmentStatus::Cancelled),
        "no_show" => Some(AppointmentStatus::NoShow),
        // Only a post made by hand lacks one of the two buttons' values.
        _ => None,
    };
    let reason = clinical::booking::check_close_reason(&form.reason);
    if reason.is_none() {
        errors.push(
            format!("reason-{id}"),
            "Give the reason in one line of at most 500 characters.",
        );
    }
    if let (Some(status), Some(reason)) = (status, reason) {
        match state
            .store()
            .close_appointment(
                &who.actor(),
                &who.user().site_id,
                &id,
                status,
                reason,
                jiff::Timestamp::now(),
            )
            .await?
        {
            Ok(()) => {
                return Ok(Redirect::to(&format!(
                    "/schedule/day?date={day}&done={}",
                    status.code()
                ))
                .into_response());
            }
            Err(store::CloseRefused::NotBooked) => errors.push(
                format!("reason-{id}"),
                "The appointment was already cancelled or marked a no-show.",
            ),
            Err(store::CloseRefused::CheckedIn) => errors.push(
                format!("reason-{id}"),
                "The patient is checked in for this appointment, so it can no longer be cancelled or marked a no-show; the session room records how it ends.",
            ),
        }
    } else if status.is_none() {
        errors.push(
            format!("reason-{id}"),
            "Choose Cancel or No-show for the appointment.",
        );
    }
    let mut page = day_page(&state, &who, ctx, day, errors, None).await?;
    // What was typed stays in the row's field.
    page.typed_reason = Some((id.as_str().to_owned(), form.reason));
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
}

#[derive(Deserialize)]
pub(crate) struct CancelDayForm {
    #[serde(default)]
    date: String,
    #[serde(default)]
    day_reason: String,
    #[serde(default)]
    confirm_day: String,
}

/// `POST /schedule/cancel-day`: cancels every appointment of a day (today or later) not yet
/// checked in, with one reason, once the form's box confirms it.
pub(crate) async fn cancel_day(
    State(state): State<AppState>,
    who: Can<PatientDirectory>,
    ctx: PageCtx,
    Form(form): Form<CancelDayForm>,
) -> Result<Response, AppError> {
    let mut errors = FormErrors::default();
    let day = match form.date.trim().parse::<Date>() {
        Ok(d) if d >= ctx.today() => Some(d),
        Ok(_) => {
            errors.push(
                "day_reason",
                "That day has passed: close its appointments one by one, as cancelled or no-show.",
            );
            None
        }
        // Only a post made by hand lacks the day list's own date.
        Err(_) => return Err(AppError::NotFound),
    };
    let reason = clinical::booking::check_close_reason(&form.day_reason);
    if reason.is_none() {
        errors.push(
            "day_reason",
            "Say why the day's appointments are cancelled, in one line of at most 500 characters.",
        );
    }
    if form.confirm_day != "on" {
        errors.push(
            "confirm_day",
            "Tick the box to confirm that every appointment of the day not checked in is cancelled.",
        );
    }
    if let (Some(day), Some(reason), true) = (day, reason, errors.is_empty()) {
        state
            .store()
            .cancel_day(
                &who.actor(),
                &who.user().site_id,
                day_bounds(&ctx, day, 1),
                reason,
                jiff::Timestamp::now(),
            )
            .await?;
        return Ok(
            Redirect::to(&format!("/schedule/day?date={day}&done=day_cancelled")).into_response(),
        );
    }
    let day = day.unwrap_or_else(|| ctx.today());
    let mut page = day_page(&state, &who, ctx, day, errors, None).await?;
    page.typed_day_reason = form.day_reason;
    page.day_confirmed = form.confirm_day == "on";
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
}

#[derive(Deserialize)]
pub(crate) struct ArrivedForm {
    #[serde(default)]
    appointment: String,
    #[serde(default)]
    date: String,
}

/// `POST /schedule/arrived`: marks the patient of a booked appointment arrived.
pub(crate) async fn arrived(
    State(state): State<AppState>,
    who: Can<PatientDirectory>,
    ctx: PageCtx,
    Form(form): Form<ArrivedForm>,
) -> Result<Response, AppError> {
    // ok: `date` only names the day list to return to (a hidden field); without a readable
    // one the front desk lands on today's, and the arrival itself is checked against today.
    let day = form.date.parse::<Date>().unwrap_or_else(|_| ctx.today());
    let Some(id) = AppointmentId::parse(&form.appointment) else {
        return Err(AppError::NotFound);
    };
    let today = day_bounds(&ctx, ctx.today(), 1);
    if state
        .store()
        .mark_arrived(
            &who.actor(),
            &who.user().site_id,
            &id,
            today,
            jiff::Timestamp::now(),
        )
        .await?
    {
        return Ok(Redirect::to(&format!("/schedule/day?date={day}&done=arrived")).into_response());
    }
    let mut errors = FormErrors::default();
    errors.push(
        format!("arrived-{id}"),
        "Only a booked appointment of today can be marked arrived, once: this one was marked already, cancelled, marked a no-show, has its patient checked in, or is not today's.",
    );
    let page = day_page(&state, &who, ctx, day, errors, None).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
}

#[derive(Default, Deserialize)]
pub(crate) struct BookForm {
    #[serde(default)]
    patient: String,
    #[serde(default)]
    chair: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    time: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    duration: String,
    /// The course the appointment is a session of; empty for none.
    #[serde(default)]
    course: String,
}

#[derive(Template)]
#[template(path = "schedule/new.html")]
pub(crate) struct BookPage {
    ctx: PageCtx,
    patient_id: String,
    patient_name: String,
    /// Id, name, selected.
    chairs: Vec<(String, String, bool)>,
    kinds: Vec<(Choice, u32)>,
    /// The patient's open courses: id, words, selected.
    courses: Vec<(String, String, bool)>,
    form: BookForm,
    errors: FormErrors,
}

async fn book_page(
    state: &AppState,
    who: &Can<PatientDirectory>,
    ctx: PageCtx,
    form: BookForm,
    errors: FormErrors,
) -> Result<BookPage, AppError> {
    let Some(pid) = PatientId::parse(&form.patient) else {
        return Err(AppError::NotFound);
    };
    let site = &who.user().site_id;
    let now = jiff::Timestamp::now();
    let p = state.store().patient(&who.actor(), site, &pid, now).await?;
    let courses = state
        .store()
        .courses(&who.actor(), site, &pid, now)
        .await?
        .into_iter()
        .filter(|c| !c.status.is_final())
        .map(|c| {
            (
                c.id.as_str().to_owned(),
                format!(
                    "{} from {} ({})",
                    c.protocol_name,
                    c.starts_on,
                    c.status.label().to_lowercase()
                ),
                form.course == c.id.as_str(),
            )
        })
        .collect();
    let chairs = state
        .store()
        .chairs(site)
        .await?
        .into_iter()
        .map(|c| {
            (
                c.id.as_str().to_owned(),
                format!("{}, {}", c.room, c.name),
                form.chair == c.id.as_str(),
            )
        })
        .collect();
    let kinds = AppointmentKind::ALL
        .into_iter()
        .map(|k| {
            (
                Choice {
                    value: k.code(),
                    label: k.label(),
                    selected: form.kind == k.code(),
                },
                state.config().durations.of(k),
            )
        })
        .collect();
    Ok(BookPage {
        patient_id: p.id.as_str().to_owned(),
        patient_name: format!("{} {}", p.given_name, p.family_name),
        chairs,
        kinds,
        courses,
        form,
        errors,
        ctx,
    })
}

/// `GET /schedule/new?patient=`: the form that books one appointment.
pub(crate) async fn new(
    State(state): State<AppState>,
    who: Can<PatientDirectory>,
    ctx: PageCtx,
    Query(form): Query<BookForm>,
) -> Result<Html<String>, AppError> {
    render(&book_page(&state, &who, ctx, form, FormErrors::default()).await?)
}

/// `POST /schedule/new`: books one appointment.
pub(crate) async fn create(
    State(state): State<AppState>,
    who: Can<PatientDirectory>,
    ctx: PageCtx,
    Form(form): Form<BookForm>,
) -> Result<Response, AppError> {
    let mut errors = FormErrors::default();
    // A slot taken by another appointment answers 409; every other refusal 422.
    let mut taken = false;
    let patient = PatientId::parse(&form.patient);
    let chair = ChairId::parse(&form.chair);
    if chair.is_none() {
        errors.push("chair", "Choose the chair.");
    }
    // The course the appointment is a session of: one of the patient's open courses. Its
    // kind is the course's product's, taken when "For" is left to choose.
    let course = match form.course.trim() {
        "" => None,
        c => {
            let site = &who.user().site_id;
            let found = match (CourseId::parse(c), &patient) {
                (Some(id), Some(pid)) => match state.store().course(site, &id).await {
                    Ok(course) if course.patient_id == *pid && !course.status.is_final() => {
                        Some(course)
                    }
                    Ok(_) | Err(store::StoreError::NotFound { .. }) => None,
                    Err(e) => return Err(e.into()),
                },
                _ => None,
            };
            if found.is_none() {
                errors.push(
                    "course",
                    "Choose one of the patient's open treatment courses, or none.",
                );
            }
            found
        }
    };
    let course_kind = course
        .as_ref()
        .map(|c| AppointmentKind::for_product(c.product));
    let kind = match (AppointmentKind::parse(&form.kind), course_kind) {
        (None, Some(k)) if form.kind.trim().is_empty() => Some(k),
        (Some(k), Some(of_course)) if k != of_course => {
            errors.push(
                "kind",
                format!(
                    "A session of this course is booked as “{}”: choose that under For, or choose no course.",
                    of_course.label()
                ),
            );
            None
        }
        (k, _) => {
            if k.is_none() {
                errors.push("kind", "Choose what the appointment is for.");
            }
            k
        }
    };
    let date = form.date.trim().parse::<Date>().ok();
    match date.map(|d| clinical::booking::check_day(d, ctx.today())) {
        None => errors.push("date", "Give the date in the form YYYY-MM-DD."),
        Some(Err(e)) => errors.push("date", sentence(&e.to_string())),
        Some(Ok(())) => {}
    }
    let time = form.time.trim().parse::<jiff::civil::Time>().ok();
    if time.is_none() {
        errors.push("time", "Give the start time as HH:MM, for example 09:30.");
    }
    let minutes = match (form.duration.trim(), kind) {
        ("", Some(k)) => Some(state.config().durations.of(k)),
        (d, Some(k)) => match d.parse::<u32>() {
            Ok(m)
                if (if k.is_esketamine() {
                    clinical::booking::MIN_ESKETAMINE_MIN
                } else {
                    5
                }..=clinical::booking::MAX_APPOINTMENT_MIN)
                    .contains(&m) =>
            {
                Some(m)
            }
            _ => {
                errors.push(
                    "duration",
                    if k.is_esketamine() {
                        "An esketamine visit lasts 120 to 720 minutes (the label's 2 hours of monitoring at least)."
                    } else {
                        "The length must be a whole number of minutes from 5 to 720."
                    },
                );
                None
            }
        },
        _ => None,
    };
    if let (Some(pid), Some(chair_id), Some(kind), Some(date), Some(time), Some(minutes), true) = (
        patient.clone(),
        chair,
        kind,
        date,
        time,
        minutes,
        errors.is_empty(),
    ) {
        match crate::view::clinic_instant(date.to_datetime(time), &ctx.time_zone()) {
            None => errors.push(
                "time",
                "That time does not exist on that day: the clocks go forward an hour. Choose a time outside the skipped hour.",
            ),
            Some(starts_at) => {
                let ends_at = starts_at
                    .checked_add(jiff::SignedDuration::from_mins(i64::from(minutes)))
                    .unwrap_or(starts_at);
                let new = NewAppointment {
                    patient_id: &pid,
                    chair_id: &chair_id,
                    course_id: course.as_ref().map(|c| &c.id),
                    kind,
                    starts_at,
                    ends_at,
                };
                match state
                    .store()
                    .book(
                        &who.actor(),
                        &who.user().site_id,
                        &new,
                        &ctx.time_zone(),
                        jiff::Timestamp::now(),
                    )
                    .await?
                {
                    Ok(_) => {
                        return Ok(
                            Redirect::to(&format!("/schedule/day?date={date}&done=booked"))
                                .into_response(),
                        );
                    }
                    Err(r) => {
                        taken = r.is_taken();
                        let field = match r {
                            BookingRefusal::OutsideHours { .. } => "time",
                            BookingRefusal::PatientTaken { .. } => "time",
                            BookingRefusal::CourseNotOpen | BookingRefusal::CourseFull { .. } => {
                                "course"
                            }
                            BookingRefusal::SameDay { .. } | BookingRefusal::Closed { .. } => {
                                "date"
                            }
                            BookingRefusal::NotCourseKind { .. } => "kind",
                            _ => "chair",
                        };
                        errors.push(field, sentence(&refusal_words(&ctx, &r)));
                    }
                }
            }
        }
    }
    let status = if taken {
        StatusCode::CONFLICT
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = book_page(&state, &who, ctx, form, errors).await?;
    Ok((status, render(&page)?).into_response())
}
