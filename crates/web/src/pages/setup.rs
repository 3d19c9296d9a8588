//! The clinic's set-up for scheduling (administrators): rooms, chairs with the routes they take
//! and their opening hours, and the site's Spravato REMS certification.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use clinical::booking::{OpeningHours, WEEK, day_code, day_name};
use clinical::course::Product;
use jiff::civil::{Time, Weekday};
use serde::Deserialize;
use store::{ClosingRefusal, NewChair, SiteRems, StoreError};

use super::{FormErrors, form_value, form_values, sentence};
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
    /// What was typed in the REMS form, kept when it is sent back.
    typed: RemsForm,
    /// The room name typed in the room form, kept when it is sent back.
    room_name: String,
    /// What was chosen and typed in the chair form, kept when it is sent back.
    chair: ChairTyped,
    /// The days the clinic is closed from today on: day, reason, who closed it and when.
    closed: Vec<ClosedRow>,
    /// What was typed in the form that closes a day, kept when it is sent back.
    closing: ClosedDayForm,
}

pub(crate) struct ClosedRow {
    day: String,
    weekday: &'static str,
    reason: String,
    by: String,
}

/// The chair form as the administrator left it: sent back with its errors, nothing they chose
/// or typed is lost. A new form has the working week ticked and 08:00 to 18:00.
pub(crate) struct ChairTyped {
    room: String,
    chair_name: String,
    supports: Vec<String>,
    days: Vec<String>,
    opens: String,
    closes: String,
}

impl Default for ChairTyped {
    fn default() -> Self {
        ChairTyped {
            room: String::new(),
            chair_name: String::new(),
            supports: Vec::new(),
            // A new chair's days as the clinic's default has them (Monday to Friday).
            days: OpeningHours::weekdays_8_to_18()
                .days
                .iter()
                .map(|d| day_code(*d).to_owned())
                .collect(),
            opens: "08:00".to_owned(),
            closes: "18:00".to_owned(),
        }
    }
}

impl ChairTyped {
    /// The form as sent: every value of a field that may be ticked more than once.
    fn from_fields(fields: &[(String, String)]) -> ChairTyped {
        let one = |k: &str| form_value(fields, k).to_owned();
        ChairTyped {
            room: one("room"),
            chair_name: one("chair_name"),
            supports: form_values(fields, "supports"),
            days: form_values(fields, "days"),
            opens: one("opens"),
            closes: one("closes"),
        }
    }

    fn is_room(&self, id: &str) -> bool {
        self.room == id
    }

    fn has_support(&self, code: &str) -> bool {
        self.supports.iter().any(|s| s == code)
    }

    fn has_day(&self, code: &str) -> bool {
        self.days.iter().any(|d| d == code)
    }
}

async fn page(
    state: &AppState,
    who: &Can<Administration>,
    ctx: PageCtx,
    errors: FormErrors,
    notice: Option<&'static str>,
) -> Result<SetupPage, AppError> {
    let site = &who.user().site_id;
    let rems = state.store().site_rems(site).await?.map(|r| {
        let contact = r.contact.as_ref().map_or_else(
            || "; no setting address or telephone yet (the REMS Patient Monitoring Form needs them)".to_owned(),
            |c| {
                format!(
                    "; setting {}, {}, {} {}, telephone {}",
                    c.street, c.city, c.state, c.postal_code, c.phone
                )
            },
        );
        format!(
            "Certified on {}; authorized representative {}{contact}",
            r.certified_on, r.representative
        )
    });
    let today = ctx.today();
    let closed = state
        .store()
        .closed_days(site, today, jiff::civil::Date::MAX)
        .await?
        .into_iter()
        .map(|c| ClosedRow {
            day: c.day.to_string(),
            weekday: day_name(c.day.weekday()),
            reason: c.reason,
            by: ctx.time_by(c.closed_at, c.closed_by.as_deref()),
        })
        .collect();
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
            hours: c.hours.words(),
        })
        .collect();
    Ok(SetupPage {
        rems,
        rooms,
        chairs,
        products: Product::ALL.iter().map(|p| (p.code(), p.label())).collect(),
        days: WEEK.iter().map(|d| (day_code(*d), day_name(*d))).collect(),
        errors,
        notice,
        typed: RemsForm::default(),
        room_name: String::new(),
        chair: ChairTyped::default(),
        closed,
        closing: ClosedDayForm::default(),
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
        Some("closed") => Some("The day is closed: nothing is proposed or booked on it."),
        Some("reopened") => Some("The day is open again for booking."),
        _ => None,
    };
    render(&page(&state, &who, ctx, FormErrors::default(), notice).await?)
}

/// The page again with `errors` (422), the form that was sent keeping what was typed in it.
async fn refused(
    state: &AppState,
    who: &Can<Administration>,
    ctx: PageCtx,
    errors: FormErrors,
    keep: impl FnOnce(&mut SetupPage),
) -> Result<Response, AppError> {
    let mut page = page(state, who, ctx, errors, None).await?;
    keep(&mut page);
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
}

/// The text trimmed; `None` when it is empty, too long or unreadable (`clinical::text`).
fn one_line(text: &str, max: usize) -> Option<String> {
    // ok: `None` is the refusal, which the caller says at its field.
    clinical::text::line(text, max).ok().map(str::to_owned)
}

/// One line of text for `field`, trimmed; or `None`, with the field's error: `give` when it is
/// empty, else what is wrong with it, `what` naming it ("The city").
fn line_or_error(
    errors: &mut FormErrors,
    field: &str,
    text: &str,
    max: usize,
    what: &str,
    give: &str,
) -> Option<String> {
    match clinical::text::line(text, max) {
        Ok(t) => Some(t.to_owned()),
        Err(clinical::text::TextProblem::Empty) => {
            errors.push(field, give);
            None
        }
        Err(problem) => {
            errors.push(field, sentence(&problem.said_of(what)));
            None
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct RemsForm {
    certified_on: String,
    representative: String,
    street: String,
    city: String,
    state: String,
    postal_code: String,
    phone: String,
}

/// The setting's address and telephone as the form gives them, or what is wrong, by field.
fn setting_contact(form: &RemsForm, errors: &mut FormErrors) -> Option<store::SettingContact> {
    let street = line_or_error(
        errors,
        "street",
        &form.street,
        200,
        "The street address",
        "Give the setting's street address (one line, at most 200 characters).",
    );
    let city = line_or_error(
        errors,
        "city",
        &form.city,
        100,
        "The city",
        "Give the city (at most 100 characters).",
    );
    let state_code = form.state.trim().to_ascii_uppercase();
    let state_ok = state_code.len() == 2 && state_code.chars().all(|c| c.is_ascii_uppercase());
    if !state_ok {
        errors.push("state", "Give the state as its two letters, such as IL.");
    }
    let zip = form.postal_code.trim();
    let digits: Vec<char> = zip.chars().filter(char::is_ascii_digit).collect();
    let zip_ok = (zip.len() == 5 && digits.len() == 5)
        || (zip.len() == 10 && digits.len() == 9 && zip.as_bytes()[5] == b'-');
    if !zip_ok {
        errors.push(
            "postal_code",
            "Give the ZIP code as 5 digits, or 5 and 4 with a hyphen (62701-1234).",
        );
    }
    let phone = one_line(&form.phone, 40);
    let phone_digits = form.phone.chars().filter(char::is_ascii_digit).count();
    let phone_ok = phone.is_some()
        && (10..=15).contains(&phone_digits)
        && form
            .phone
            .trim()
            .chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c));
    if !phone_ok {
        errors.push(
            "phone",
            "Give the telephone at which the monitoring provider is reached, with its area code, such as (217) 555-0142.",
        );
    }
    match (street, city, state_ok, zip_ok, phone, phone_ok) {
        (Some(street), Some(city), true, true, Some(phone), true) => Some(store::SettingContact {
            street,
            city,
            state: state_code,
            postal_code: zip.to_owned(),
            phone,
        }),
        _ => None,
    }
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
    let rep = line_or_error(
        &mut errors,
        "representative",
        &form.representative,
        120,
        "The representative's name",
        "Give the authorized representative's name (one line, at most 120 characters).",
    );
    let contact = setting_contact(&form, &mut errors);
    if let (true, Some(certified_on), Some(representative), Some(contact)) =
        (errors.is_empty(), date, rep, contact)
    {
        state
            .store()
            .set_site_rems(
                &who.actor(),
                &who.user().site_id,
                &SiteRems {
                    certified_on,
                    representative,
                    contact: Some(contact),
                },
                jiff::Timestamp::now(),
            )
            .await?;
        return Ok(Redirect::to("/admin/clinic?done=rems").into_response());
    }
    refused(&state, &who, ctx, errors, |page| page.typed = form).await
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
    match line_or_error(
        &mut errors,
        "room_name",
        &form.room_name,
        80,
        "The room's name",
        "Give the room a name of at most 80 characters.",
    ) {
        None => {}
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
    refused(&state, &who, ctx, errors, |page| {
        page.room_name = form.room_name
    })
    .await
}

/// `POST /admin/clinic/chairs`.
pub(crate) async fn add_chair(
    State(state): State<AppState>,
    who: Can<Administration>,
    ctx: PageCtx,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let typed = ChairTyped::from_fields(&fields);
    let mut errors = FormErrors::default();
    if typed.room.is_empty() {
        errors.push("room", "Choose the room.");
    }
    let name = line_or_error(
        &mut errors,
        "chair_name",
        &typed.chair_name,
        80,
        "The chair's name",
        "Give the chair a name of at most 80 characters.",
    );
    let supports: Vec<Product> = typed
        .supports
        .iter()
        .filter_map(|v| Product::parse(v))
        .collect();
    if supports.is_empty() {
        errors.push(
            "supports",
            "Tick at least one treatment the chair is set up for.",
        );
    }
    let days: Vec<Weekday> = typed
        .days
        .iter()
        .filter_map(|v| OpeningHours::parse_days(v))
        .flatten()
        .collect();
    if days.is_empty() {
        errors.push("days", "Tick at least one day the chair is open.");
    }
    let opens = typed.opens.parse::<Time>().ok();
    let closes = typed.closes.parse::<Time>().ok();
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
            room_id: &typed.room,
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
    refused(&state, &who, ctx, errors, |page| page.chair = typed).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct ClosedDayForm {
    closed_day: String,
    closed_reason: String,
}

/// `POST /admin/clinic/closed`: closes a day (a holiday, a training day).
pub(crate) async fn close_day(
    State(state): State<AppState>,
    who: Can<Administration>,
    ctx: PageCtx,
    Form(form): Form<ClosedDayForm>,
) -> Result<Response, AppError> {
    let mut errors = FormErrors::default();
    let day = match form.closed_day.trim().parse::<jiff::civil::Date>() {
        Ok(d) => Some(d),
        Err(_) => {
            errors.push(
                "closed_day",
                "Enter the day the clinic is closed, such as 2026-12-25.",
            );
            None
        }
    };
    if form.closed_reason.trim().is_empty() {
        errors.push(
            "closed_reason",
            "Say why the clinic is closed, such as Christmas Day or Staff training.",
        );
    } else if let Some(day) = day {
        let done = state
            .store()
            .close_day(
                &who.actor(),
                &who.user().site_id,
                day,
                &form.closed_reason,
                &ctx.time_zone(),
                ctx.today(),
                jiff::Timestamp::now(),
            )
            .await?;
        match done {
            Ok(()) => return Ok(Redirect::to("/admin/clinic?done=closed").into_response()),
            Err(ClosingRefusal::Reason(problem)) => {
                errors.push("closed_reason", sentence(&problem.said_of("The reason")))
            }
            Err(ClosingRefusal::Booked { booked }) => {
                let first: Vec<String> = booked
                    .iter()
                    .take(5)
                    .map(|a| {
                        format!(
                            "{} {} in {}",
                            a.starts_at.to_zoned(ctx.time_zone()).strftime("%H:%M"),
                            a.patient_name,
                            a.chair_name
                        )
                    })
                    .collect();
                let more = booked.len().saturating_sub(first.len());
                errors.push(
                    "closed_day",
                    format!(
                        "{} ({}{}). Move or cancel {} on the day list first, then close the day.",
                        if booked.len() == 1 {
                            "An appointment is booked that day".to_owned()
                        } else {
                            format!("{} appointments are booked that day", booked.len())
                        },
                        first.join("; "),
                        if more > 0 {
                            format!("; and {more} more")
                        } else {
                            String::new()
                        },
                        if booked.len() == 1 { "it" } else { "them" },
                    ),
                );
            }
            Err(other) => errors.push("closed_day", sentence(&other.to_string())),
        }
    }
    refused(&state, &who, ctx, errors, |page| page.closing = form).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct ReopenForm {
    day: String,
}

/// `POST /admin/clinic/closed/reopen`: opens a closed day again.
pub(crate) async fn reopen_day(
    State(state): State<AppState>,
    who: Can<Administration>,
    ctx: PageCtx,
    Form(form): Form<ReopenForm>,
) -> Result<Response, AppError> {
    let mut errors = FormErrors::default();
    match form.day.trim().parse::<jiff::civil::Date>() {
        Ok(day)
            if state
                .store()
                .reopen_day(
                    &who.actor(),
                    &who.user().site_id,
                    day,
                    jiff::Timestamp::now(),
                )
                .await? =>
        {
            return Ok(Redirect::to("/admin/clinic?done=reopened").into_response());
        }
        _ => errors.push(
            "closed_day",
            "That day is not closed; choose one of the closed days listed.",
        ),
    }
    refused(&state, &who, ctx, errors, |_| {}).await
}
