//! Appointments as iCalendar files (RFC 5545, by the `icalendar` crate) for reminders: one per
//! chair for the clinic's calendars, one per patient. Booked appointments from 30 days back to
//! 180 days ahead; the download is an audited read of the schedule.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use icalendar::{Calendar, Component, Event, EventLike};
use store::{AppointmentRecord, AppointmentStatus, ChairId, PatientId};

use crate::AppState;
use crate::capability::{Can, PatientDirectory};
use crate::error::AppError;
use crate::ids::IdPath;

fn utc(t: jiff::Timestamp) -> chrono::DateTime<chrono::Utc> {
    // ok: jiff's range (years -9999 to 9999) lies inside chrono's, so this never falls back.
    chrono::DateTime::from_timestamp(t.as_second(), t.subsec_nanosecond().unsigned_abs())
        .unwrap_or_default()
}

fn ics(
    name: &str,
    list: &[AppointmentRecord],
    summary: impl Fn(&AppointmentRecord) -> String,
) -> Response {
    let mut calendar = Calendar::new();
    calendar.name(name);
    for a in list
        .iter()
        .filter(|a| a.status == AppointmentStatus::Booked)
    {
        calendar.push(
            Event::new()
                .uid(&format!("{}@ketaflow", a.id))
                .summary(&summary(a))
                .location(&a.chair_name)
                .starts(utc(a.starts_at))
                .ends(utc(a.ends_at))
                .done(),
        );
    }
    (
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"appointments.ics\"",
            ),
        ],
        calendar.done().to_string(),
    )
        .into_response()
}

fn window() -> (jiff::Timestamp, jiff::Timestamp) {
    let now = jiff::Timestamp::now();
    let from = now
        .checked_sub(jiff::SignedDuration::from_hours(24 * 30))
        .unwrap_or(now);
    let until = now
        .checked_add(jiff::SignedDuration::from_hours(24 * 180))
        .unwrap_or(now);
    (from, until)
}

/// `GET /patients/{id}/appointments.ics`.
pub(crate) async fn patient(
    State(state): State<AppState>,
    who: Can<PatientDirectory>,
    IdPath(id): IdPath<PatientId>,
) -> Result<Response, AppError> {
    let (from, until) = window();
    let site = &who.user().site_id;
    let p = state
        .store()
        .patient(&who.actor(), site, &id, jiff::Timestamp::now())
        .await?;
    let list = state
        .store()
        .appointments(
            &who.actor(),
            site,
            from,
            until,
            None,
            Some(&id),
            jiff::Timestamp::now(),
        )
        .await?;
    let clinic = state.store().site(site).await?.name;
    Ok(ics(
        &format!("{} {} at {clinic}", p.given_name, p.family_name),
        &list,
        |a| format!("{} at {clinic}", a.kind.label()),
    ))
}

/// `GET /schedule/chairs/{id}/calendar.ics`.
pub(crate) async fn chair(
    State(state): State<AppState>,
    who: Can<PatientDirectory>,
    IdPath(id): IdPath<ChairId>,
) -> Result<Response, AppError> {
    let (from, until) = window();
    let site = &who.user().site_id;
    let chairs = state.store().chairs(site).await?;
    let Some(chair) = chairs.iter().find(|c| c.id == id) else {
        return Err(AppError::NotFound);
    };
    let list = state
        .store()
        .appointments(
            &who.actor(),
            site,
            from,
            until,
            Some(&id),
            None,
            jiff::Timestamp::now(),
        )
        .await?;
    Ok(ics(
        &format!("{}, {}", chair.room, chair.name),
        &list,
        |a| format!("{}: {}", a.patient_name, a.kind.label()),
    ))
}
