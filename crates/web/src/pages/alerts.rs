//! Following up a safety alert: the alert with what raised it and how to reach the patient, and
//! the follow-up form (how the patient was reached, what was done, a note) that closes it.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use clinical::instruments::Flag;
use clinical::safety::{Action, Contact, FollowUpInput};
use serde::Deserialize;
use store::{AlertId, AlertRecord};

use super::FormErrors;
use crate::AppState;
use crate::capability::{Can, ClinicalData};
use crate::display::{Choice, safe_return};
use crate::error::AppError;
use crate::ids::IdPath;
use crate::view::{PageCtx, render};

pub(crate) struct FollowUpView {
    at: String,
    by: Option<String>,
    contact: &'static str,
    actions: String,
    note: String,
}

pub(crate) struct AlertDetail {
    id: String,
    patient_id: String,
    patient_name: String,
    phone: Option<String>,
    message: String,
    raised: String,
    answer: Option<String>,
    open: bool,
    follow_up: Option<FollowUpView>,
}

#[derive(Template)]
#[template(path = "alerts/follow_up.html")]
pub(crate) struct FollowUpPage {
    ctx: PageCtx,
    a: AlertDetail,
    contacts: Vec<Choice>,
    actions: Vec<Choice>,
    note: String,
    return_to: String,
    errors: FormErrors,
    /// Set when a follow-up was sent for an alert someone else had closed meanwhile: what this
    /// person wrote, shown back so it is not lost (it was not recorded).
    late_note: Option<String>,
}

/// "PHQ-9 item 9: 2 (More than half the days)": the answer behind the safety flag.
fn raising_answer(alert: &AlertRecord) -> Option<String> {
    let (instrument, answers, flags) = alert.raised_by.as_ref()?;
    let flag = flags
        .iter()
        .filter_map(|f| Flag::parse(f))
        .find(|f| f.is_safety())?;
    let item = flag.item()?;
    let value = *answers.get(item - 1)?;
    let definition = instrument.instrument();
    let label = definition
        .options
        .iter()
        .find(|o| i64::from(o.value) == value)
        .map(|o| format!(" ({})", o.label))
        .unwrap_or_default();
    Some(format!(
        "{} item {item}: {value}{label}",
        definition.short_name
    ))
}

fn detail(alert: AlertRecord, ctx: &PageCtx) -> AlertDetail {
    let answer = raising_answer(&alert);
    AlertDetail {
        id: alert.id.as_str().to_owned(),
        patient_id: alert.patient_id.as_str().to_owned(),
        open: alert.acknowledged_at.is_none(),
        follow_up: match (&alert.follow_up, alert.acknowledged_at) {
            (Some(f), Some(at)) => Some(FollowUpView {
                at: ctx.time(at),
                by: f.by_name.clone(),
                contact: f.contact.label(),
                actions: f
                    .actions
                    .iter()
                    .map(|a| a.label())
                    .collect::<Vec<_>>()
                    .join("; "),
                note: f.note.clone(),
            }),
            (None, Some(at)) => Some(FollowUpView {
                at: ctx.time(at),
                by: None,
                contact: "not recorded",
                actions: "not recorded (closed before follow-ups were kept)".into(),
                note: String::new(),
            }),
            _ => None,
        },
        patient_name: alert.patient_name,
        phone: alert.patient_phone,
        message: alert.message,
        raised: ctx.time(alert.created_at),
        answer,
    }
}

fn choices(input: &FollowUpInput) -> (Vec<Choice>, Vec<Choice>) {
    let contacts = Contact::ALL
        .into_iter()
        .map(|c| Choice {
            value: c.code(),
            label: c.label(),
            selected: input.contact == c.code(),
        })
        .collect();
    let actions = Action::ALL
        .into_iter()
        .map(|a| Choice {
            value: a.code(),
            label: a.label(),
            selected: input.actions.iter().any(|x| x == a.code()),
        })
        .collect();
    (contacts, actions)
}

async fn follow_up_page(
    state: &AppState,
    who: &Can<ClinicalData>,
    ctx: PageCtx,
    id: &AlertId,
    input: &FollowUpInput,
    return_to: String,
    errors: FormErrors,
) -> Result<FollowUpPage, AppError> {
    let alert = state
        .store()
        .alert(
            &who.actor(),
            &who.user().site_id,
            id,
            jiff::Timestamp::now(),
        )
        .await?;
    let (contacts, actions) = choices(input);
    Ok(FollowUpPage {
        a: detail(alert, &ctx),
        ctx,
        contacts,
        actions,
        note: input.note.clone(),
        return_to,
        errors,
        late_note: None,
    })
}

#[derive(Deserialize)]
pub(crate) struct ReturnQuery {
    #[serde(default)]
    return_to: String,
}

/// `GET /alerts/{id}`: the alert and, while it is open, the follow-up form.
pub(crate) async fn show(
    State(state): State<AppState>,
    who: Can<ClinicalData>,
    ctx: PageCtx,
    IdPath(id): IdPath<AlertId>,
    Query(q): Query<ReturnQuery>,
) -> Result<Response, AppError> {
    let page = follow_up_page(
        &state,
        &who,
        ctx,
        &id,
        &FollowUpInput::default(),
        safe_return(&q.return_to),
        FormErrors::default(),
    )
    .await?;
    Ok(render(&page)?.into_response())
}

/// `POST /alerts/{id}/acknowledge`: closes the alert with its follow-up, or shows the form
/// again with a message at each missing part and what was typed kept.
pub(crate) async fn acknowledge(
    State(state): State<AppState>,
    who: Can<ClinicalData>,
    ctx: PageCtx,
    IdPath(id): IdPath<AlertId>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let value = |name: &str| super::form_value(&fields, name).to_owned();
    let input = FollowUpInput {
        contact: value("contact"),
        actions: super::form_values(&fields, "actions"),
        note: value("note"),
    };
    let return_to = safe_return(&value("return_to"));
    match input.validate() {
        Ok(follow_up) => {
            let closed = state
                .store()
                .acknowledge_alert(
                    &who.actor(),
                    &who.user().site_id,
                    &id,
                    &follow_up,
                    jiff::Timestamp::now(),
                )
                .await;
            match closed {
                Ok(()) => Ok(Redirect::to(&return_to).into_response()),
                // Not open any more: someone else closed it between this page and the post (two
                // nurses on one alert, a second click). Show whose follow-up stands, with what
                // this person wrote, instead of "nothing at this address". An alert that does
                // not exist at the site is still a 404 (the page cannot be read).
                Err(store::StoreError::NotFound { .. }) => {
                    let mut page = follow_up_page(
                        &state,
                        &who,
                        ctx,
                        &id,
                        &input,
                        return_to,
                        FormErrors::default(),
                    )
                    .await?;
                    if page.a.open {
                        return Err(AppError::NotFound);
                    }
                    page.late_note = Some(input.note);
                    Ok((StatusCode::CONFLICT, render(&page)?).into_response())
                }
                Err(e) => Err(e.into()),
            }
        }
        Err(problems) => {
            let mut errors = FormErrors::default();
            for p in problems {
                errors.push(p.field(), super::sentence(&p.to_string()));
            }
            let page = follow_up_page(&state, &who, ctx, &id, &input, return_to, errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
    }
}
