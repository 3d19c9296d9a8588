//! A patient's intake details: allergies, the referring clinician, pregnancy status.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use clinical::patient::intake::{Allergies, IntakeInput, Pregnancy};
use serde::Deserialize;
use store::PatientId;

use super::{ChangeRow, FormErrors, change_rows, sentence};
use crate::AppState;
use crate::capability::{Can, ClinicalData};
use crate::display::Choice;
use crate::error::AppError;
use crate::ids::IdPath;
use crate::view::{PageCtx, render};

/// The form as typed.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct IntakeForm {
    #[serde(default)]
    allergies: String,
    #[serde(default)]
    no_known_allergies: String,
    #[serde(default)]
    referrer_name: String,
    #[serde(default)]
    referrer_practice: String,
    #[serde(default)]
    referrer_phone: String,
    #[serde(default)]
    pregnancy: String,
}

#[derive(Template)]
#[template(path = "patients/intake.html")]
pub(crate) struct IntakePage {
    ctx: PageCtx,
    patient_id: String,
    patient_name: String,
    form: IntakeForm,
    pregnancies: Vec<Choice>,
    errors: FormErrors,
    last_change: Option<String>,
    saved: bool,
    changes: Vec<ChangeRow>,
}

/// The intake form's fields in words, for the list of changes.
fn field_words(code: &str) -> &'static str {
    match code {
        "all" => "first saved",
        "none" => "saved without a change",
        "allergies" => "allergies",
        "referrer_name" => "referring clinician",
        "referrer_practice" => "referring practice",
        "referrer_phone" => "referrer phone",
        "pregnancy" => "pregnancy status",
        _ => "another field",
    }
}

#[derive(Deserialize)]
pub(crate) struct SavedQuery {
    saved: Option<String>,
}

async fn page(
    state: &AppState,
    who: &Can<ClinicalData>,
    ctx: PageCtx,
    id: &PatientId,
    form: Option<IntakeForm>,
    errors: FormErrors,
    saved: bool,
) -> Result<IntakePage, AppError> {
    let now = jiff::Timestamp::now();
    let site = &who.user().site_id;
    let p = state.store().patient(&who.actor(), site, id, now).await?;
    let stored = state.store().intake(&who.actor(), site, id, now).await?;
    let last_change = stored
        .as_ref()
        .map(|r| ctx.time_by(r.updated_at, r.updated_by.as_deref()));
    let form = form.unwrap_or_else(|| match stored {
        None => IntakeForm::default(),
        Some(r) => IntakeForm {
            allergies: match &r.allergies {
                Allergies::Listed(l) => l.join("\n"),
                _ => String::new(),
            },
            no_known_allergies: if r.allergies == Allergies::NoneKnown {
                "yes".into()
            } else {
                String::new()
            },
            referrer_name: r.referrer_name.unwrap_or_default(),
            referrer_practice: r.referrer_practice.unwrap_or_default(),
            referrer_phone: r.referrer_phone.unwrap_or_default(),
            pregnancy: r.pregnancy.code().into(),
        },
    });
    let chosen = if form.pregnancy.is_empty() {
        Pregnancy::NotAsked.code()
    } else {
        form.pregnancy.as_str()
    };
    let pregnancies = Pregnancy::ALL
        .into_iter()
        .map(|p| Choice {
            value: p.code(),
            label: p.label(),
            selected: p.code() == chosen,
        })
        .collect();
    let changes = change_rows(state, &ctx, site, id, "intake.update", field_words).await?;
    Ok(IntakePage {
        changes,
        patient_id: p.id.as_str().to_owned(),
        patient_name: format!("{} {}", p.given_name, p.family_name),
        ctx,
        form,
        pregnancies,
        errors,
        last_change,
        saved,
    })
}

/// `GET /patients/{id}/intake`.
pub(crate) async fn show(
    State(state): State<AppState>,
    who: Can<ClinicalData>,
    ctx: PageCtx,
    IdPath(id): IdPath<PatientId>,
    Query(q): Query<SavedQuery>,
) -> Result<Html<String>, AppError> {
    render(
        &page(
            &state,
            &who,
            ctx,
            &id,
            None,
            FormErrors::default(),
            q.saved.is_some(),
        )
        .await?,
    )
}

/// `POST /patients/{id}/intake`.
pub(crate) async fn save(
    State(state): State<AppState>,
    who: Can<ClinicalData>,
    ctx: PageCtx,
    IdPath(id): IdPath<PatientId>,
    Form(form): Form<IntakeForm>,
) -> Result<Response, AppError> {
    let input = IntakeInput {
        allergies: form.allergies.clone(),
        no_known_allergies: form.no_known_allergies == "yes",
        referrer_name: form.referrer_name.clone(),
        referrer_practice: form.referrer_practice.clone(),
        referrer_phone: form.referrer_phone.clone(),
        pregnancy: form.pregnancy.clone(),
    };
    match input.validate() {
        Ok(details) => {
            state
                .store()
                .save_intake(
                    &who.actor(),
                    &who.user().site_id,
                    &id,
                    &details,
                    jiff::Timestamp::now(),
                )
                .await?;
            Ok(Redirect::to(&format!("/patients/{id}/intake?saved=1")).into_response())
        }
        Err(problems) => {
            let mut errors = FormErrors::default();
            for p in problems {
                errors.push(p.field(), sentence(&p.to_string()));
            }
            let page = page(&state, &who, ctx, &id, Some(form), errors, false).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
    }
}
