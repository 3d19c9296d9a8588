//! `/api/v1/chairs` and `/api/v1/appointments`: the site's chairs and its schedule (clinical
//! roles and front desk; an appointment carries times, names and its kind, no clinical content).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use clinical::booking::AppointmentKind;
use serde::{Deserialize, Serialize};
use store::{
    AppointmentId, AppointmentRecord, AppointmentStatus, BookingRefusal, ChairId, CourseId,
    CourseRefusal, NewAppointment, PatientId,
};
use utoipa::{IntoParams, ToSchema};

use super::invalid;
use super::json::{ApiJson, ApiQuery};
use crate::AppState;
use crate::capability::{Can, PatientDirectory};
use crate::error::{ApiError, ErrorBody};
use crate::ids::IdPath;

/// A treatment chair.
#[derive(Serialize, ToSchema)]
pub(crate) struct Chair {
    id: String,
    room: String,
    name: String,
    /// Product codes it is set up for.
    supports: Vec<&'static str>,
    /// `mon` .. `sun`.
    open_days: Vec<String>,
    /// Local time it opens, `HH:MM`.
    opens: String,
    /// Local time it closes, `HH:MM`.
    closes: String,
}

/// The site's chairs.
#[derive(Serialize, ToSchema)]
pub(crate) struct ChairList {
    chairs: Vec<Chair>,
}

#[utoipa::path(
    get,
    path = "/api/v1/chairs",
    tag = "scheduling",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The site's chairs by room", body = ChairList),
        (status = 401, description = "No valid token or session", body = ErrorBody),
        (status = 403, description = "The caller's role has no access to the schedule", body = ErrorBody)
    )
)]
pub(crate) async fn chairs(
    State(state): State<AppState>,
    who: Can<PatientDirectory>,
) -> Result<Json<ChairList>, ApiError> {
    let chairs = state
        .store()
        .chairs(&who.user().site_id)
        .await?
        .into_iter()
        .map(|c| Chair {
            id: c.id.as_str().to_owned(),
            room: c.room,
            name: c.name,
            supports: c.supports.iter().map(|p| p.code()).collect(),
            open_days: c
                .hours
                .day_codes()
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            opens: c.hours.opens.strftime("%H:%M").to_string(),
            closes: c.hours.closes.strftime("%H:%M").to_string(),
        })
        .collect();
    Ok(Json(ChairList { chairs }))
}

/// An appointment.
#[derive(Serialize, ToSchema)]
pub(crate) struct Appointment {
    id: String,
    patient_id: String,
    patient_name: String,
    chair_id: String,
    chair_name: String,
    course_id: Option<String>,
    /// `iv_infusion`, `esketamine`, `im`, `oral`, `intake` or `follow_up`.
    kind: &'static str,
    /// RFC 3339 instant.
    start: String,
    /// RFC 3339 instant.
    end: String,
    duration_min: i64,
    /// `booked`, `cancelled` or `no_show`.
    status: &'static str,
    status_reason: Option<String>,
    /// RFC 3339 instant the front desk marked the patient arrived; absent until then.
    arrived_at: Option<String>,
    /// The treatment session the patient is checked in for (it is no longer cancelled or
    /// marked a no-show); absent until then.
    session_id: Option<String>,
}

impl From<AppointmentRecord> for Appointment {
    fn from(a: AppointmentRecord) -> Self {
        Appointment {
            id: a.id.as_str().to_owned(),
            patient_id: a.patient_id.as_str().to_owned(),
            patient_name: a.patient_name,
            chair_id: a.chair_id.as_str().to_owned(),
            chair_name: a.chair_name,
            course_id: a.course_id.map(|c| c.as_str().to_owned()),
            kind: a.kind.code(),
            start: a.starts_at.to_string(),
            end: a.ends_at.to_string(),
            duration_min: a.ends_at.duration_since(a.starts_at).as_mins(),
            status: a.status.code(),
            status_reason: a.status_reason,
            arrived_at: a.arrived_at.map(|t| t.to_string()),
            session_id: a.session_id.map(|s| s.as_str().to_owned()),
        }
    }
}

/// A booking.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewAppointmentBody {
    patient_id: String,
    chair_id: String,
    /// RFC 3339 instant.
    #[schema(example = "2026-12-07T14:00:00Z")]
    start: String,
    /// Minutes; the kind's default length when absent.
    #[serde(default, deserialize_with = "crate::api::json::whole::option")]
    #[schema(value_type = Option<i64>, example = 130)]
    duration_min: Option<i64>,
    /// Appointment kind.
    #[schema(example = "iv_infusion")]
    kind: String,
    /// The course it is a session of: one of the patient's open courses, booked as the kind
    /// its product gives (an IV course's sessions are `iv_infusion`). Only a session of a
    /// course can be checked in, and only on its day.
    #[serde(default)]
    course_id: Option<String>,
}

/// The API's answer to a refused booking.
pub(crate) fn refused(r: BookingRefusal) -> ApiError {
    let message = r.to_string();
    match r {
        BookingRefusal::ChairTaken { .. } => {
            ApiError::new(StatusCode::CONFLICT, "conflict", message).field("chair_id")
        }
        BookingRefusal::PatientTaken { .. } => {
            ApiError::new(StatusCode::CONFLICT, "conflict", message).field("patient_id")
        }
        BookingRefusal::NotSupported { .. } => invalid("chair_id", message),
        BookingRefusal::OutsideHours { .. } => invalid("start", message),
        BookingRefusal::CourseNotOpen => invalid("course_id", message),
        BookingRefusal::NotCourseKind { .. } => invalid("kind", message),
        BookingRefusal::CourseFull { .. } => {
            ApiError::new(StatusCode::CONFLICT, "course_full", message).field("course_id")
        }
        BookingRefusal::SameDay { .. } => {
            ApiError::new(StatusCode::CONFLICT, "course_same_day", message).field("start")
        }
        BookingRefusal::Closed { .. } => invalid("start", message),
        BookingRefusal::Rems(c) => rems(c),
    }
}

/// The REMS gate's answer.
pub(crate) fn rems(c: CourseRefusal) -> ApiError {
    let code = match c {
        CourseRefusal::RemsCertificationRequired => "rems_certification_required",
        CourseRefusal::RemsEnrollmentRequired => "rems_enrollment_required",
        _ => "validation_failed",
    };
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, c.to_string())
}

/// The site's time zone, for opening hours.
pub(crate) async fn site_zone(
    state: &AppState,
    site_id: &store::SiteId,
) -> Result<jiff::tz::TimeZone, ApiError> {
    Ok(state.store().site(site_id).await?.zone)
}

#[utoipa::path(
    post,
    path = "/api/v1/appointments",
    tag = "scheduling",
    request_body = NewAppointmentBody,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Booked", body = Appointment),
        (status = 400, description = "The body is not JSON of the expected shape", body = ErrorBody),
        (status = 401, description = "No valid token or session", body = ErrorBody),
        (status = 403, description = "The caller's role has no access to the schedule", body = ErrorBody),
        (status = 404, description = "No such patient or chair", body = ErrorBody),
        (status = 409, description = "`conflict`: the chair, or the patient, is booked for part of the slot; the message names the other appointment. `course_full`: every session the course plans is booked (`field` is `course_id`). `course_same_day`: the course has a session booked that day (`field` is `start`)", body = ErrorBody),
        (status = 413, description = "The body is larger than the server accepts", body = ErrorBody),
        (status = 408, description = "The body took too long to arrive; nothing was stored", body = ErrorBody),
        (status = 415, description = "The body is not sent as application/json", body = ErrorBody),
        (status = 422, description = "A bad field, a start before today or more than two years ahead, a chair not set up for the kind, outside opening hours, a course that is not the patient's or has ended, a kind other than the course's (`field` is `kind`); `rems_enrollment_required` or `rems_certification_required` for esketamine", body = ErrorBody)
    )
)]
pub(crate) async fn book(
    State(state): State<AppState>,
    who: Can<PatientDirectory>,
    ApiJson(body): ApiJson<NewAppointmentBody>,
) -> Result<(StatusCode, Json<Appointment>), ApiError> {
    let now = jiff::Timestamp::now();
    let kind = AppointmentKind::parse(body.kind.trim()).ok_or_else(|| {
        let codes: Vec<_> = AppointmentKind::ALL.iter().map(|k| k.code()).collect();
        invalid(
            "kind",
            format!(
                "'{}' is not a kind; use one of {}",
                body.kind,
                codes.join(", ")
            ),
        )
    })?;
    let patient = PatientId::parse(&body.patient_id)
        .ok_or_else(|| invalid("patient_id", "patient_id is not a patient's id"))?;
    let chair = ChairId::parse(&body.chair_id)
        .ok_or_else(|| invalid("chair_id", "chair_id is not a chair's id"))?;
    let course = match body.course_id.as_deref() {
        None => None,
        Some(c) => Some(
            CourseId::parse(c)
                .ok_or_else(|| invalid("course_id", "course_id is not a course's id"))?,
        ),
    };
    let start: jiff::Timestamp = body.start.parse().map_err(|_| {
        invalid(
            "start",
            format!(
                "'{}' is not an RFC 3339 instant such as 2026-12-07T14:00:00Z",
                body.start
            ),
        )
    })?;
    let minutes = body
        .duration_min
        .unwrap_or_else(|| i64::from(state.config().durations.of(kind)));
    let max = i64::from(clinical::booking::MAX_APPOINTMENT_MIN);
    let min = if kind.is_esketamine() {
        i64::from(clinical::booking::MIN_ESKETAMINE_MIN)
    } else {
        5
    };
    if !(min..=max).contains(&minutes) {
        return Err(invalid(
            "duration_min",
            format!(
                "duration_min {minutes} is outside {min} to {max} minutes{}",
                if kind.is_esketamine() {
                    " (an esketamine visit holds at least the label's 2 hours of monitoring)"
                } else {
                    ""
                }
            ),
        ));
    }
    let end = start
        .checked_add(jiff::SignedDuration::from_mins(minutes))
        .map_err(|_| invalid("start", "the appointment would end past the calendar's end"))?;
    let tz = site_zone(&state, &who.user().site_id).await?;
    clinical::booking::check_day(
        start.to_zoned(tz.clone()).date(),
        now.to_zoned(tz.clone()).date(),
    )
    .map_err(|e| invalid("start", e.to_string()))?;
    let new = NewAppointment {
        patient_id: &patient,
        chair_id: &chair,
        course_id: course.as_ref(),
        kind,
        starts_at: start,
        ends_at: end,
    };
    let booked = state
        .store()
        .book(&who.actor(), &who.user().site_id, &new, &tz, now)
        .await?
        .map_err(refused)?;
    Ok((StatusCode::CREATED, Json(booked.into())))
}

/// Which appointments.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AppointmentQuery {
    /// RFC 3339 instant; now when absent.
    from: Option<String>,
    /// RFC 3339 instant; 7 days after `from` when absent (at most 62 days after it).
    to: Option<String>,
    /// Only this chair.
    chair_id: Option<String>,
    /// Only this patient.
    patient_id: Option<String>,
}

/// Appointments by start.
#[derive(Serialize, ToSchema)]
pub(crate) struct AppointmentList {
    appointments: Vec<Appointment>,
}

#[utoipa::path(
    get,
    path = "/api/v1/appointments",
    tag = "scheduling",
    params(AppointmentQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Appointments starting in the range, by start", body = AppointmentList),
        (status = 400, description = "A query parameter is not of the expected shape", body = ErrorBody),
        (status = 401, description = "No valid token or session", body = ErrorBody),
        (status = 403, description = "The caller's role has no access to the schedule", body = ErrorBody),
        (status = 422, description = "A bad instant or id, or a range over 62 days; `field` names it", body = ErrorBody)
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    who: Can<PatientDirectory>,
    ApiQuery(q): ApiQuery<AppointmentQuery>,
) -> Result<Json<AppointmentList>, ApiError> {
    let now = jiff::Timestamp::now();
    let instant = |field: &str, v: &Option<String>, default: jiff::Timestamp| match v {
        None => Ok(default),
        Some(t) => t.parse::<jiff::Timestamp>().map_err(|_| {
            invalid(
                field,
                format!("'{t}' is not an RFC 3339 instant such as 2026-12-07T00:00:00Z"),
            )
        }),
    };
    let from = instant("from", &q.from, now)?;
    let week = from
        .checked_add(jiff::SignedDuration::from_hours(24 * 7))
        .unwrap_or(from);
    let to = instant("to", &q.to, week)?;
    if to <= from || to.duration_since(from) > jiff::SignedDuration::from_hours(24 * 62) {
        return Err(invalid(
            "to",
            "'to' must come after 'from', at most 62 days after it",
        ));
    }
    let chair = match q.chair_id.as_deref() {
        None => None,
        Some(c) => Some(ChairId::parse(c).ok_or_else(|| invalid("chair_id", "not a chair's id"))?),
    };
    let patient = match q.patient_id.as_deref() {
        None => None,
        Some(p) => {
            Some(PatientId::parse(p).ok_or_else(|| invalid("patient_id", "not a patient's id"))?)
        }
    };
    let list = state
        .store()
        .appointments(
            &who.actor(),
            &who.user().site_id,
            from,
            to,
            chair.as_ref(),
            patient.as_ref(),
            now,
        )
        .await?;
    Ok(Json(AppointmentList {
        appointments: list.into_iter().map(Appointment::from).collect(),
    }))
}

/// Why an appointment is cancelled or marked a no-show.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CloseBody {
    #[schema(example = "patient unwell; will call to rebook", max_length = 500)]
    reason: String,
}

async fn close(
    state: &AppState,
    who: &Can<PatientDirectory>,
    id: &AppointmentId,
    status: AppointmentStatus,
    reason: &str,
) -> Result<StatusCode, ApiError> {
    // The published schema counts the reason as sent (its `maxLength`), surrounding white
    // space included; the check below counts it trimmed.
    let within = reason.chars().count() <= clinical::booking::MAX_CLOSE_REASON_CHARS;
    let Some(reason) = clinical::booking::check_close_reason(reason).filter(|_| within) else {
        return Err(invalid(
            "reason",
            "give the reason in one line of at most 500 characters",
        ));
    };
    match state
        .store()
        .close_appointment(
            &who.actor(),
            &who.user().site_id,
            id,
            status,
            reason,
            jiff::Timestamp::now(),
        )
        .await?
    {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(store::CloseRefused::NotBooked) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            "the appointment is not booked (already cancelled or marked a no-show), or there is no such appointment",
        )),
        Err(store::CloseRefused::CheckedIn) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "checked_in",
            "the patient is checked in for the appointment, so it can no longer be cancelled or marked a no-show; the session records how it ends",
        )),
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/appointments/{id}/cancel",
    tag = "scheduling",
    params(("id" = String, Path, description = "Appointment identifier")),
    request_body = CloseBody,
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Cancelled; the slot is free and the appointment kept with its reason"),
        (status = 400, description = "The body is not JSON of the expected shape", body = ErrorBody),
        (status = 401, description = "No valid token or session", body = ErrorBody),
        (status = 403, description = "The caller's role has no access to the schedule", body = ErrorBody),
        (status = 404, description = "Not an appointment id", body = ErrorBody),
        (status = 409, description = "Not booked (already cancelled or a no-show), not found, or its patient is checked in (`checked_in`)", body = ErrorBody),
        (status = 413, description = "The body is larger than the server accepts", body = ErrorBody),
        (status = 408, description = "The body took too long to arrive; nothing was stored", body = ErrorBody),
        (status = 415, description = "The body is not sent as application/json", body = ErrorBody),
        (status = 422, description = "No reason, or one too long", body = ErrorBody)
    )
)]
pub(crate) async fn cancel(
    State(state): State<AppState>,
    who: Can<PatientDirectory>,
    IdPath(id): IdPath<AppointmentId>,
    ApiJson(body): ApiJson<CloseBody>,
) -> Result<StatusCode, ApiError> {
    close(
        &state,
        &who,
        &id,
        AppointmentStatus::Cancelled,
        &body.reason,
    )
    .await
}

#[utoipa::path(
    post,
    path = "/api/v1/appointments/{id}/no-show",
    tag = "scheduling",
    params(("id" = String, Path, description = "Appointment identifier")),
    request_body = CloseBody,
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Marked a no-show; the slot is free and the appointment kept with its reason"),
        (status = 400, description = "The body is not JSON of the expected shape", body = ErrorBody),
        (status = 401, description = "No valid token or session", body = ErrorBody),
        (status = 403, description = "The caller's role has no access to the schedule", body = ErrorBody),
        (status = 404, description = "Not an appointment id", body = ErrorBody),
        (status = 409, description = "Not booked (already cancelled or a no-show), not found, or its patient is checked in (`checked_in`)", body = ErrorBody),
        (status = 413, description = "The body is larger than the server accepts", body = ErrorBody),
        (status = 408, description = "The body took too long to arrive; nothing was stored", body = ErrorBody),
        (status = 415, description = "The body is not sent as application/json", body = ErrorBody),
        (status = 422, description = "No reason, or one too long", body = ErrorBody)
    )
)]
pub(crate) async fn no_show(
    State(state): State<AppState>,
    who: Can<PatientDirectory>,
    IdPath(id): IdPath<AppointmentId>,
    ApiJson(body): ApiJson<CloseBody>,
) -> Result<StatusCode, ApiError> {
    close(&state, &who, &id, AppointmentStatus::NoShow, &body.reason).await
}
