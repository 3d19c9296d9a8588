//! A patient's weight and height: recorded in kg or lb and cm or in, kept with the date taken,
//! shown with the body-mass index.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use clinical::patient::body::{BodyInput, bmi};
use serde::Deserialize;
use store::{BodyRecord, PatientId};

use super::{FormErrors, sentence};
use crate::AppState;
use crate::capability::{Can, ClinicalData};
use crate::error::AppError;
use crate::ids::IdPath;
use crate::view::{PageCtx, render};

/// One measurement as the pages show it.
pub(crate) struct BodyRow {
    pub(crate) date: String,
    pub(crate) weight: String,
    pub(crate) height: String,
    pub(crate) bmi: String,
    pub(crate) by: String,
}

/// Rows of a history, newest first; the BMI uses the latest height known on or before each
/// weight's date.
pub(crate) fn rows(history: &[BodyRecord]) -> Vec<BodyRow> {
    history
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let height = r
                .height_cm
                .or_else(|| history[i..].iter().find_map(|h| h.height_cm));
            BodyRow {
                date: r.measured_on.to_string(),
                weight: r.weight_kg.map_or_else(
                    || "–".into(),
                    |kg| {
                        format!(
                            "{kg:.1} kg ({:.1} lb)",
                            kg / clinical::patient::body::KG_PER_LB
                        )
                    },
                ),
                height: r.height_cm.map_or_else(
                    || "–".into(),
                    |cm| {
                        format!(
                            "{cm:.1} cm ({:.1} in)",
                            cm / clinical::patient::body::CM_PER_IN
                        )
                    },
                ),
                bmi: match (r.weight_kg, height) {
                    (Some(kg), Some(cm)) => format!("{:.1} kg/m²", bmi(kg, cm)),
                    _ => "–".into(),
                },
                by: crate::view::recorded_by(r.recorded_by.as_deref()).to_owned(),
            }
        })
        .collect()
}

/// The form as typed.
#[derive(Debug, Deserialize)]
pub(crate) struct BodyForm {
    #[serde(default)]
    weight: String,
    #[serde(default = "kg")]
    weight_unit: String,
    #[serde(default)]
    height: String,
    #[serde(default = "cm")]
    height_unit: String,
    #[serde(default)]
    measured_on: String,
}

fn kg() -> String {
    "kg".into()
}
fn cm() -> String {
    "cm".into()
}

#[derive(Template)]
#[template(path = "patients/body.html")]
pub(crate) struct BodyPage {
    ctx: PageCtx,
    patient_id: String,
    patient_name: String,
    form: BodyForm,
    errors: FormErrors,
    rows: Vec<BodyRow>,
    saved: bool,
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
    form: BodyForm,
    errors: FormErrors,
    saved: bool,
) -> Result<BodyPage, AppError> {
    let now = jiff::Timestamp::now();
    let site = &who.user().site_id;
    let p = state.store().patient(&who.actor(), site, id, now).await?;
    let history = state
        .store()
        .body_history(&who.actor(), site, id, now)
        .await?;
    Ok(BodyPage {
        saved,
        patient_id: p.id.as_str().to_owned(),
        patient_name: format!("{} {}", p.given_name, p.family_name),
        rows: rows(&history),
        ctx,
        form,
        errors,
    })
}

/// `GET /patients/{id}/body`.
pub(crate) async fn form(
    State(state): State<AppState>,
    who: Can<ClinicalData>,
    ctx: PageCtx,
    IdPath(id): IdPath<PatientId>,
    axum::extract::Query(q): axum::extract::Query<SavedQuery>,
) -> Result<Html<String>, AppError> {
    let blank = BodyForm {
        weight: String::new(),
        weight_unit: kg(),
        height: String::new(),
        height_unit: cm(),
        measured_on: String::new(),
    };
    render(
        &page(
            &state,
            &who,
            ctx,
            &id,
            blank,
            FormErrors::default(),
            q.saved.is_some(),
        )
        .await?,
    )
}

/// `POST /patients/{id}/body`.
pub(crate) async fn save(
    State(state): State<AppState>,
    who: Can<ClinicalData>,
    ctx: PageCtx,
    IdPath(id): IdPath<PatientId>,
    Form(form): Form<BodyForm>,
) -> Result<Response, AppError> {
    let input = BodyInput {
        weight: form.weight.clone(),
        weight_unit: form.weight_unit.clone(),
        height: form.height.clone(),
        height_unit: form.height_unit.clone(),
        measured_on: form.measured_on.clone(),
    };
    match input.validate(ctx.today()) {
        Ok(body) => {
            state
                .store()
                .record_body(
                    &who.actor(),
                    &who.user().site_id,
                    &id,
                    &body,
                    jiff::Timestamp::now(),
                )
                .await?;
            Ok(Redirect::to(&format!("/patients/{id}/body?saved=1")).into_response())
        }
        Err(problems) => {
            let mut errors = FormErrors::default();
            for p in problems {
                errors.push(p.field(), sentence(&p.to_string()));
            }
            let page = page(&state, &who, ctx, &id, form, errors, false).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
    }
}
