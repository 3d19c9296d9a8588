//! Booking a course's sessions: proposals of free slots in chairs that take the course's route,
//! from its protocol's dates, which the front desk confirms (each booking is checked again by
//! the database, so a slot taken meanwhile is refused, not double-booked).

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use clinical::booking::{AppointmentKind, ChairPlan, ProposalAsk, propose};
use clinical::course::CourseStatus;
use serde::Deserialize;
use store::{ChairId, CourseId, CourseRecord, NewAppointment};

use crate::AppState;
use crate::capability::{Can, PatientDirectory};
use crate::error::AppError;
use crate::ids::IdPath;
use crate::view::{PageCtx, render};

pub(crate) struct ProposalRow {
    value: String,
    session: u32,
    target: String,
    when: String,
    chair: String,
}

#[derive(Template)]
#[template(path = "schedule/book_course.html")]
pub(crate) struct BookCoursePage {
    ctx: PageCtx,
    course_id: String,
    patient_id: String,
    patient_name: String,
    title: String,
    kind: &'static str,
    minutes: u32,
    booked: usize,
    total: usize,
    rows: Vec<ProposalRow>,
    unplaced: Vec<String>,
    refused: Vec<String>,
    notice: Option<String>,
    /// What the course's status means for booking, for a course not planned or active.
    status_note: Option<String>,
    /// Why the remaining sessions are proposed later than planned, when they are.
    moved: Option<String>,
    /// That the patient is not cleared by screening yet, when they are not.
    screening_note: Option<&'static str>,
    /// The course has ended: nothing is proposed or booked.
    ended: bool,
    /// The days the clinic is closed that a remaining session's plan falls on.
    closed_note: Option<String>,
}

async fn page(
    state: &AppState,
    who: &Can<PatientDirectory>,
    ctx: PageCtx,
    course: CourseRecord,
    refused: Vec<String>,
    notice: Option<String>,
) -> Result<BookCoursePage, AppError> {
    let now = jiff::Timestamp::now();
    let site = &who.user().site_id;
    let patient = state
        .store()
        .patient(&who.actor(), site, &course.patient_id, now)
        .await?;
    let tz = ctx.time_zone();
    // The course's booked sessions, however far back or ahead (the store reads them with it).
    let course_days: Vec<jiff::civil::Date> = course
        .booked
        .iter()
        .map(|t| t.to_zoned(tz.clone()).date())
        .collect();
    let booked = course_days.len();
    let planned = course.planned();
    let ended = course.status.is_final();
    // An ended course books nothing (the store refuses it too), so nothing is proposed.
    let remaining: Vec<_> = if ended {
        Vec::new()
    } else {
        course
            .sessions_as_they_stand(&tz, ctx.today())
            .into_iter()
            .skip(booked)
            .collect()
    };
    // The plan fell behind (a pause, cancelled or missed sessions) or runs ahead (begun
    // early): say from when the rest are proposed.
    let moved = match (remaining.first(), planned.get(booked)) {
        (Some(now_on), Some(was)) if now_on.date > was.date => Some(format!(
            "The course's plan has fallen behind: session {} was planned for {}. The remaining sessions are proposed from {} on, as far apart as the plan puts them.",
            was.number, was.date, now_on.date
        )),
        (Some(now_on), Some(was)) if now_on.date < was.date => Some(format!(
            "The course runs ahead of its plan: session {} was planned for {}. The remaining sessions are proposed from {} on, as far apart as the plan puts them after the last one booked.",
            was.number, was.date, now_on.date
        )),
        _ => None,
    };
    // Staff booking the sessions learn now, not at the chair, that the patient cannot be
    // checked in until a prescriber decides them eligible at screening.
    let screening_note = (!state
        .store()
        .cleared_by_screening(site, &course.patient_id)
        .await?)
        .then_some(
            "This patient cannot be checked in yet: a prescriber decides them eligible at screening first. Sessions booked now keep their slots for then.",
        );
    let status_note = match course.status {
        CourseStatus::Paused => Some(
            "This course is paused: its patient cannot be checked in until a prescriber resumes it. Appointments booked now keep their slots for then."
                .to_owned(),
        ),
        s if s.is_final() => Some(format!(
            "This course is {}: nothing more can be booked for it.",
            s.label().to_lowercase()
        )),
        _ => None,
    };
    let kind = AppointmentKind::for_product(course.product);
    let minutes = state.config().durations.of(kind);
    let busy = state.store().busy(site, now).await?;
    let names = state.store().chairs(site).await?;
    let chairs: Vec<ChairPlan> = names
        .iter()
        .cloned()
        .map(|c| ChairPlan {
            busy: busy
                .iter()
                .filter(|(chair, _, _, _)| *chair == c.id)
                .map(|(_, _, s, e)| (*s, *e))
                .collect(),
            id: c.id.as_str().to_owned(),
            supports: c.supports,
            hours: c.hours,
        })
        .collect();
    let patient_busy: Vec<_> = busy
        .iter()
        .filter(|(_, p, _, _)| *p == course.patient_id)
        .map(|(_, _, s, e)| (*s, *e))
        .collect();
    // Days the clinic is closed from today to the furthest a proposal may fall.
    let horizon = ctx
        .today()
        .checked_add(jiff::Span::new().days(clinical::booking::MAX_DAYS_AHEAD))
        .unwrap_or(jiff::civil::Date::MAX);
    let closed = state
        .store()
        .closed_days(site, ctx.today(), horizon)
        .await?;
    let ask = ProposalAsk {
        closed_days: closed.iter().map(|c| c.day).collect(),
        kind,
        minutes,
        tz: tz.clone(),
        not_before: now,
        slack_days: 2,
        taken_days: course_days,
        // The time the patient comes: their latest booked session's.
        prefer: course
            .booked
            .iter()
            .max()
            .map(|t| t.to_zoned(tz.clone()).time()),
    };
    let proposals = propose(&remaining, &ask, &chairs, &patient_busy);
    // The closed days that a remaining session's plan falls on, said so that a session
    // proposed a day later than planned is not a surprise.
    let days: Vec<String> = closed
        .iter()
        .filter(|c| remaining.iter().any(|s| s.date == c.day))
        .map(|c| format!("{} ({})", c.day, c.reason))
        .collect();
    let closed_note = (!days.is_empty()).then(|| {
        format!(
            "The clinic is closed on {}: nothing is proposed on {}.",
            days.join(", "),
            if days.len() == 1 {
                "that day"
            } else {
                "those days"
            }
        )
    });
    let rows = proposals
        .iter()
        .map(|p| {
            let target = remaining
                .iter()
                .find(|s| s.number == p.session)
                .map_or_else(String::new, |s| s.date.to_string());
            ProposalRow {
                value: format!("{}|{}|{}", p.session, p.chair_id, p.start.as_millisecond()),
                session: p.session,
                target,
                when: ctx.time(p.start),
                chair: names
                    .iter()
                    .find(|c| c.id.as_str() == p.chair_id)
                    .map_or_else(String::new, |c| format!("{}, {}", c.room, c.name)),
            }
        })
        .collect();
    let unplaced = remaining
        .iter()
        .filter(|s| !proposals.iter().any(|p| p.session == s.number))
        .map(|s| format!("Session {} (target {})", s.number, s.date))
        .collect();
    Ok(BookCoursePage {
        course_id: course.id.as_str().to_owned(),
        patient_id: patient.id.as_str().to_owned(),
        patient_name: format!("{} {}", patient.given_name, patient.family_name),
        title: course.protocol_name.clone(),
        kind: kind.label(),
        minutes,
        booked,
        total: planned.len(),
        rows,
        unplaced,
        refused,
        notice,
        status_note,
        screening_note,
        moved,
        ended,
        closed_note,
        ctx,
    })
}

#[derive(Deserialize)]
pub(crate) struct BookedQuery {
    booked: Option<usize>,
}

/// `GET /courses/{id}/book`.
pub(crate) async fn show(
    State(state): State<AppState>,
    who: Can<PatientDirectory>,
    ctx: PageCtx,
    IdPath(id): IdPath<CourseId>,
    Query(q): Query<BookedQuery>,
) -> Result<Html<String>, AppError> {
    let course = state.store().course(&who.user().site_id, &id).await?;
    let notice = q.booked.map(|n| {
        format!(
            "{n} appointment{} booked.",
            if n == 1 { " is" } else { "s are" }
        )
    });
    render(&page(&state, &who, ctx, course, Vec::new(), notice).await?)
}

/// `POST /courses/{id}/book`: books the proposals ticked.
pub(crate) async fn confirm(
    State(state): State<AppState>,
    who: Can<PatientDirectory>,
    ctx: PageCtx,
    IdPath(id): IdPath<CourseId>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let now = jiff::Timestamp::now();
    let site = &who.user().site_id;
    let course = state.store().course(site, &id).await?;
    let kind = AppointmentKind::for_product(course.product);
    let minutes = state.config().durations.of(kind);
    let length = jiff::SignedDuration::from_mins(i64::from(minutes));
    let tz = ctx.time_zone();
    let mut booked = 0;
    let mut refused = Vec::new();
    // A slot taken meanwhile answers 409; a form that cannot be read (nothing ticked, a
    // proposal altered) 422.
    let mut taken = false;
    let picked: Vec<&String> = fields
        .iter()
        .filter(|(k, _)| k == "slot")
        .map(|(_, v)| v)
        .take(100)
        .collect();
    if picked.is_empty() {
        refused.push("Tick at least one proposed appointment to book.".to_owned());
    }
    for value in picked {
        let mut parts = value.split('|');
        // The session's number is echoed in the refusal, so only a number is taken. ok: one
        // that is not a number makes the proposal unreadable, which is refused below.
        let (Some(session), Some(chair), Some(start)) = (
            parts.next().and_then(|n| n.parse::<u32>().ok()),
            parts.next(),
            parts.next(),
        ) else {
            refused.push("A proposal could not be read; book again from the list below.".into());
            continue;
        };
        let (Some(chair_id), Ok(ms)) = (ChairId::parse(chair), start.parse::<i64>()) else {
            refused.push(format!(
                "Session {session}: the proposal could not be read."
            ));
            continue;
        };
        let Ok(starts_at) = jiff::Timestamp::from_millisecond(ms) else {
            refused.push(format!(
                "Session {session}: the proposal could not be read."
            ));
            continue;
        };
        let Ok(ends_at) = starts_at.checked_add(length) else {
            refused.push(format!(
                "Session {session}: the proposal could not be read."
            ));
            continue;
        };
        let new = NewAppointment {
            patient_id: &course.patient_id,
            chair_id: &chair_id,
            course_id: Some(&course.id),
            kind,
            starts_at,
            ends_at,
        };
        match state
            .store()
            .book(&who.actor(), site, &new, &tz, now)
            .await?
        {
            Ok(_) => booked += 1,
            Err(r) => {
                taken |= r.is_taken();
                refused.push(format!(
                    "Session {session} at {}: {}",
                    ctx.time(starts_at),
                    crate::pages::schedule::refusal_words(&ctx, &r)
                ));
            }
        }
    }
    if refused.is_empty() {
        return Ok(Redirect::to(&format!("/courses/{id}/book?booked={booked}")).into_response());
    }
    let notice = (booked > 0).then(|| format!("{booked} booked; the others were not."));
    let page = page(&state, &who, ctx, course, refused, notice).await?;
    let status = if taken {
        StatusCode::CONFLICT
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, render(&page)?).into_response())
}
