//! The clinic's set-up for scheduling (administrators): rooms, chairs with the routes they take
//! and their opening hours, and the site's Spravato REMS certification.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use clinical::booking::OpeningHours;
use clinical::course::Product;
use jiff::civil::{Time, Weekday};
use serde::Deserialize;
use store::{NewChair, SiteRems, StoreError};

use super::{FormErrors, sentence};
use crate::AppState;
use crate::capability::{Administration, Can};
use crate::error::AppError;
use crate::view::{PageCtx, render};

pub(crate) struct ChairRow {
    room: String,
    name: String,
    supports: String,
    hours: String,
}

#[derive(Template)]
#[template(path = "admin/setup.html")]
pub(crate) struct SetupPage {
    ctx: PageCtx,
    rems: Option<String>,
    rooms: Vec<(String, String)>,
    chairs: Vec<ChairRow>,
    products: Vec<(&'static str, &'static str)>,
    days: Vec<(&'static str, &'static str)>,
    errors: FormErrors,
    notice: Option<&'static str>,
}

const DAYS: [(&str, &str); 7] = [
    ("mon", "Monday"),
    ("tue", "Tuesday"),
    ("wed", "Wednesday"),
    ("thu", "Thursday"),
    ("fri", "Friday"),
    ("sat", "Saturday"),
    ("sun", "Sunday"),
];

async fn page(
    state: &AppState,
    who: &Can<Administration>,
    ctx: PageCtx,
    errors: FormErrors,
    notice: Option<&'static str>,
) -> Result<SetupPage, AppError> {
    let site = &who.user().site_id;
    let rems = state.store().site_rems(site).await?.map(|r| {
        format!(
            "Certified on {}; authorized representative {}",
            r.certified_on, r.representative
        )
    });
    let rooms = state.store().rooms(site).await?;
    let chairs = state
        .store()
        .chairs(site)
        .await?
        .into_iter()
        .map(|c| ChairRow {
            room: c.room,
            name: c.name,
            supports: c
                .supports
                .iter()
                .map(|p| p.label())
                .collect::<Vec<_>>()
                .join(", "),
            hours: format!(
                "{} {}–{}",
                c.hours.day_codes().replace(',', " "),
                c.hours.opens.strftime("%H:%M"),
                c.hours.closes.strftime("%H:%M")
            ),
        })
        .collect();
    Ok(SetupPage {
        rems,
        rooms,
        chairs,
        products: Product::ALL.iter().map(|p| (p.code(), p.label())).collect(),
        days: DAYS.to_vec(),
        errors,
        notice,
        ctx,
    })
}

#[derive(Deserialize)]
pub(crate) struct NoticeQuery {
    done: Option<String>,
}

/// `GET /admin/clinic`.
pub(crate) async fn show(
    State(state): State<AppState>,
    who: Can<Administration>,
    ctx: PageCtx,
    Query(q): Query<NoticeQuery>,
) -> Result<Html<String>, AppError> {
    let notice = match q.done.as_deref() {
        Some("rems") => Some("The REMS certification is recorded."),
        Some("room") => Some("The room is added."),
        Some("chair") => Some("The chair is added."),
        _ => None,
    };
    render(&page(&state, &who, ctx, FormErrors::default(), notice).await?)
}

async fn refused(
    state: &AppState,
    who: &Can<Administration>,
    ctx: PageCtx,
    errors: FormErrors,
) -> Result<Response, AppError> {
    let page = page(state, who, ctx, errors, None).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
}

fn one_line(text: &str, max: usize) -> Option<String> {
    let t = text.trim();
    (!t.is_empty() && t.chars().count() <= max && !t.chars().any(char::is_control))
        .then(|| t.to_owned())
}

#[derive(Deserialize)]
pub(crate) struct RemsForm {
    #[serde(default)]
    certified_on: String,
    #[serde(default)]
    representative: String,
}

/// `POST /admin/clinic/rems`.
pub(crate) async fn rems(
    State(state): State<AppState>,
    who: Can<Administration>,
    ctx: PageCtx,
    Form(form): Form<RemsForm>,
) -> Result<Response, AppError> {
    let mut errors = FormErrors::default();
    let date = form.certified_on.trim().parse::<jiff::civil::Date>().ok();
    match date {
        None => errors.push("certified_on", "Give the certification date as YYYY-MM-DD."),
        Some(d) if d > ctx.today() => {
            errors.push(
                "certified_on",
                "The certification date cannot be in the future.",
            );
        }
        Some(_) => {}
    }
    let rep = one_line(&form.representative, 120);
    if rep.is_none() {
        errors.push(
            "representative",
            "Give the authorized representative's name (one line, at most 120 characters).",
        );
    }
    if let (true, Some(certified_on), Some(representative)) = (errors.is_empty(), date, rep) {
        state
            .store()
            .set_site_rems(
                &who.actor(),
                &who.user().site_id,
                &SiteRems {
                    certified_on,
                    representative,
                },
                jiff::Timestamp::now(),
            )
            .await?;
        return Ok(Redirect::to("/admin/clinic?done=rems").into_response());
    }
    refused(&state, &who, ctx, errors).await
}

#[derive(Deserialize)]
pub(crate) struct RoomForm {
    #[serde(default)]
    room_name: String,
}

/// `POST /admin/clinic/rooms`.
pub(crate) async fn add_room(
    State(state): State<AppState>,
    who: Can<Administration>,
    ctx: PageCtx,
    Form(form): Form<RoomForm>,
) -> Result<Response, AppError> {
    let mut errors = FormErrors::default();
    match one_line(&form.room_name, 80) {
        None => errors.push(
            "room_name",
            "Give the room a name of at most 80 characters.",
        ),
        Some(name) => {
            match state
                .store()
                .create_room(
                    &who.actor(),
                    &who.user().site_id,
                    &name,
                    jiff::Timestamp::now(),
                )
                .await
            {
                Ok(_) => return Ok(Redirect::to("/admin/clinic?done=room").into_response()),
                Err(StoreError::Conflict { .. }) => {
                    errors.push(
                        "room_name",
                        format!("There is a room called {name} already."),
                    );
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    refused(&state, &who, ctx, errors).await
}

/// `POST /admin/clinic/chairs`.
pub(crate) async fn add_chair(
    State(state): State<AppState>,
    who: Can<Administration>,
    ctx: PageCtx,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let get = |k: &str| {
        fields
            .iter()
            .find(|(f, _)| f == k)
            .map_or("", |(_, v)| v.as_str())
    };
    let mut errors = FormErrors::default();
    let room = get("room").to_owned();
    if room.is_empty() {
        errors.push("room", "Choose the room.");
    }
    let name = one_line(get("chair_name"), 80);
    if name.is_none() {
        errors.push(
            "chair_name",
            "Give the chair a name of at most 80 characters.",
        );
    }
    let supports: Vec<Product> = fields
        .iter()
        .filter(|(k, _)| k == "supports")
        .filter_map(|(_, v)| Product::parse(v))
        .collect();
    if supports.is_empty() {
        errors.push(
            "supports",
            "Tick at least one treatment the chair is set up for.",
        );
    }
    let days: Vec<Weekday> = fields
        .iter()
        .filter(|(k, _)| k == "days")
        .filter_map(|(_, v)| OpeningHours::parse_days(v))
        .flatten()
        .collect();
    if days.is_empty() {
        errors.push("days", "Tick at least one day the chair is open.");
    }
    let opens = get("opens").parse::<Time>().ok();
    let closes = get("closes").parse::<Time>().ok();
    match (opens, closes) {
        (Some(o), Some(c)) if o < c => {}
        (Some(_), Some(_)) => errors.push("closes", "The chair must close after it opens."),
        _ => errors.push("opens", "Give the opening and closing times as HH:MM."),
    }
    if let (true, Some(name), Some(opens), Some(closes)) = (errors.is_empty(), name, opens, closes)
    {
        let hours = OpeningHours {
            days,
            opens,
            closes,
        };
        let chair = NewChair {
            room_id: &room,
            name: &name,
            supports: &supports,
            hours: &hours,
        };
        match state
            .store()
            .create_chair(
                &who.actor(),
                &who.user().site_id,
                &chair,
                jiff::Timestamp::now(),
            )
            .await
        {
            Ok(_) => return Ok(Redirect::to("/admin/clinic?done=chair").into_response()),
            Err(StoreError::Conflict { .. }) => errors.push(
                "chair_name",
                sentence(&format!("that room has a chair called {name} already")),
            ),
            Err(StoreError::NotFound { .. }) => errors.push("room", "Choose the room."),
            Err(e) => return Err(e.into()),
        }
    }
    refused(&state, &who, ctx, errors).await
}
