//! The protocol library: the built-in templates with their sources, and the clinic's own,
//! which prescribers add (each cites its source).

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use clinical::course::{Frequency, Product, builtin_protocols, check_protocol};
use serde::Deserialize;
use store::{Role, StoreError};

use super::{FormErrors, sentence};
use crate::AppState;
use crate::capability::{Can, ClinicalData, Prescribing};
use crate::error::AppError;
use crate::view::{PageCtx, render};

pub(crate) struct ProtocolRow {
    name: String,
    code: String,
    product: &'static str,
    phases: String,
    dose: String,
    source: String,
    builtin: bool,
}

#[derive(Default, Deserialize)]
pub(crate) struct ProtocolForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    product: String,
    #[serde(default)]
    phase1_name: String,
    #[serde(default)]
    phase1_sessions: String,
    #[serde(default)]
    phase1_frequency: String,
    #[serde(default)]
    phase2_name: String,
    #[serde(default)]
    phase2_sessions: String,
    #[serde(default)]
    phase2_frequency: String,
    #[serde(default)]
    dose: String,
    #[serde(default)]
    source: String,
}

#[derive(Template)]
#[template(path = "protocols.html")]
pub(crate) struct ProtocolsPage {
    ctx: PageCtx,
    rows: Vec<ProtocolRow>,
    can_add: bool,
    products: Vec<(&'static str, &'static str)>,
    frequencies: Vec<(&'static str, &'static str)>,
    form: ProtocolForm,
    errors: FormErrors,
    notice: Option<&'static str>,
}

async fn page<C>(
    state: &AppState,
    who: &Can<C>,
    ctx: PageCtx,
    form: ProtocolForm,
    errors: FormErrors,
    notice: Option<&'static str>,
) -> Result<ProtocolsPage, AppError> {
    let builtin: Vec<String> = builtin_protocols().into_iter().map(|p| p.code).collect();
    let rows = super::protocol_library(state, &who.user().site_id)
        .await?
        .into_iter()
        .map(|p| ProtocolRow {
            builtin: builtin.contains(&p.code),
            phases: p
                .phases
                .iter()
                .map(|ph| {
                    format!(
                        "{}: {} sessions {}",
                        ph.name,
                        ph.sessions,
                        ph.frequency.label()
                    )
                })
                .collect::<Vec<_>>()
                .join("; "),
            dose: match p.dose_65_and_over {
                Some(older) => format!("{} ({} at 65 and over)", p.dose.words(), older.words()),
                None => p.dose.words(),
            },
            name: p.name,
            code: p.code,
            product: p.product.label(),
            source: p.source,
        })
        .collect();
    Ok(ProtocolsPage {
        rows,
        can_add: who.user().role == Role::Prescriber,
        products: Product::ALL.iter().map(|p| (p.code(), p.label())).collect(),
        frequencies: Frequency::ALL
            .iter()
            .map(|f| (f.code(), f.label()))
            .collect(),
        form,
        errors,
        notice,
        ctx,
    })
}

#[derive(Deserialize)]
pub(crate) struct NoticeQuery {
    done: Option<String>,
}

/// `GET /protocols`.
pub(crate) async fn show(
    State(state): State<AppState>,
    who: Can<ClinicalData>,
    ctx: PageCtx,
    Query(q): Query<NoticeQuery>,
) -> Result<Html<String>, AppError> {
    let notice = q
        .done
        .is_some()
        .then_some("The protocol is added to the clinic's library.");
    render(
        &page(
            &state,
            &who,
            ctx,
            ProtocolForm::default(),
            FormErrors::default(),
            notice,
        )
        .await?,
    )
}

/// `POST /protocols` (prescribers).
pub(crate) async fn add(
    State(state): State<AppState>,
    who: Can<Prescribing>,
    ctx: PageCtx,
    Form(form): Form<ProtocolForm>,
) -> Result<Response, AppError> {
    let phases = [
        (
            form.phase1_name.as_str(),
            form.phase1_sessions.as_str(),
            form.phase1_frequency.as_str(),
        ),
        (
            form.phase2_name.as_str(),
            form.phase2_sessions.as_str(),
            form.phase2_frequency.as_str(),
        ),
    ];
    let mut errors = FormErrors::default();
    match check_protocol(
        &form.code,
        &form.name,
        &form.product,
        &phases,
        &form.dose,
        &form.source,
        &state.config().dose_caps,
        &state.config().planning_floor,
    ) {
        Ok(protocol) => {
            match state
                .store()
                .create_protocol(
                    &who.actor(),
                    &who.user().site_id,
                    &protocol,
                    jiff::Timestamp::now(),
                )
                .await
            {
                Ok(()) => return Ok(Redirect::to("/protocols?done=added").into_response()),
                Err(StoreError::Conflict { .. }) => errors.push(
                    "code",
                    format!(
                        "The clinic has a protocol with the code {} already.",
                        protocol.code
                    ),
                ),
                Err(e) => return Err(e.into()),
            }
        }
        Err(problems) => {
            for p in problems {
                errors.push(p.field(), sentence(&p.to_string()));
            }
        }
    }
    let page = page(&state, &who, ctx, form, errors, None).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
}
