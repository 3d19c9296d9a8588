//! The candidate's self-screening questionnaire: staff send a single-use link; the patient
//! answers yes, no or not sure to each screening question in plain words; the answers reach
//! the clinician's screening marked as reported by the patient.

use std::collections::BTreeSet;

use askama::Template;
use axum::Form;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use clinical::screening::Condition;
use store::{LinkState, PatientId, ScreeningLinkState};

use super::FormErrors;
use super::measure::closed_page;
use crate::AppState;
use crate::auth::Identity;
use crate::capability::{Can, ClinicalData};
use crate::error::AppError;
use crate::ids::IdPath;
use crate::view::{PageCtx, render};

/// The cookie that carries a link just made to the screening page, once.
pub(crate) const NEW_SCREENING_LINK_COOKIE: &str = "kf_new_screening_link";

/// `POST /patients/{id}/screening/link`: makes a link, then shows it once on the screening page.
pub(crate) async fn create_link(
    State(state): State<AppState>,
    who: Can<ClinicalData>,
    Extension(identity): Extension<Identity>,
    IdPath(id): IdPath<PatientId>,
) -> Result<Response, AppError> {
    let link = state
        .store()
        .create_screening_link(
            who.user(),
            &id,
            state.config().self_report_link,
            jiff::Timestamp::now(),
        )
        .await?;
    let mut c = crate::auth::cookie(NEW_SCREENING_LINK_COOKIE, link.secret, identity.secure);
    c.set_path(format!("/patients/{id}/screening"));
    c.set_max_age(time::Duration::minutes(5));
    let mut res = Redirect::to(&format!("/patients/{id}/screening?done=link")).into_response();
    crate::auth::append_cookie(&mut res, &c);
    Ok(res)
}

pub(crate) struct Question {
    code: &'static str,
    text: &'static str,
    answer: String,
}

#[derive(Template)]
#[template(path = "measure/self_screening.html")]
pub(crate) struct SelfScreeningPage {
    ctx: PageCtx,
    secret: String,
    questions: Vec<Question>,
    errors: FormErrors,
    crisis_message: String,
}

#[derive(Template)]
#[template(path = "measure/report_done.html")]
pub(crate) struct DonePage {
    ctx: PageCtx,
    heading: &'static str,
    message: &'static str,
    safety: bool,
    crisis_message: String,
}

fn closed(ctx: PageCtx, state: &AppState, link: &ScreeningLinkState) -> Result<Response, AppError> {
    let shown = match link {
        ScreeningLinkState::Used => LinkState::Used,
        ScreeningLinkState::Expired => LinkState::Expired,
        ScreeningLinkState::Revoked => LinkState::Revoked,
        _ => LinkState::Unknown,
    };
    closed_page(ctx, state, &shown)
}

fn questions(answers: &[(String, String)]) -> Vec<Question> {
    Condition::ALL
        .into_iter()
        .map(|c| Question {
            code: c.code(),
            text: c.patient_question(),
            answer: answers
                .iter()
                .find(|(k, _)| k == c.code())
                .map(|(_, v)| v.clone())
                .unwrap_or_default(),
        })
        .collect()
}

/// `GET /s/{secret}`.
pub(crate) async fn form(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(secret): Path<String>,
) -> Result<Response, AppError> {
    match state
        .store()
        .screening_link(&secret, jiff::Timestamp::now())
        .await?
    {
        ScreeningLinkState::Open { .. } => {
            let page = SelfScreeningPage {
                ctx,
                secret,
                questions: questions(&[]),
                errors: FormErrors::default(),
                crisis_message: state.config().crisis_message.clone(),
            };
            Ok(render(&page)?.into_response())
        }
        other => closed(ctx, &state, &other),
    }
}

/// `POST /s/{secret}`.
pub(crate) async fn submit(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(secret): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let now = jiff::Timestamp::now();
    let link = state.store().screening_link(&secret, now).await?;
    if !matches!(link, ScreeningLinkState::Open { .. }) {
        return closed(ctx, &state, &link);
    }
    let mut yes = BTreeSet::new();
    let mut not_sure = BTreeSet::new();
    let mut errors = FormErrors::default();
    for c in Condition::ALL {
        match fields
            .iter()
            .find(|(k, _)| k == c.code())
            .map(|(_, v)| v.as_str())
        {
            Some("yes") => {
                yes.insert(c);
            }
            Some("not_sure") => {
                not_sure.insert(c);
            }
            Some("no") => {}
            _ => errors.push(
                c.code(),
                format!("Answer yes, no or not sure: {}", c.patient_question()),
            ),
        }
    }
    if !errors.is_empty() {
        let page = SelfScreeningPage {
            ctx,
            secret,
            questions: questions(&fields),
            errors,
            crisis_message: state.config().crisis_message.clone(),
        };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
    }
    if !state
        .store()
        .submit_self_screening(&secret, &yes, &not_sure, now)
        .await?
    {
        let link = match state.store().screening_link(&secret, now).await? {
            ScreeningLinkState::Open { .. } => ScreeningLinkState::Used,
            other => other,
        };
        return closed(ctx, &state, &link);
    }
    let page = DonePage {
        ctx,
        heading: "Thank you",
        message: "Your answers have reached your clinic. A clinician will go through them with you before any treatment. You can close this page.",
        safety: false,
        crisis_message: state.config().crisis_message.clone(),
    };
    Ok(render(&page)?.into_response())
}
