//! A patient's diagnoses, chosen from the built-in ICD-10-CM list; ended, never deleted.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use clinical::diagnoses::DIAGNOSES;
use serde::Deserialize;
use store::PatientId;

use super::FormErrors;
use crate::AppState;
use crate::capability::{Can, ClinicalData};
use crate::error::AppError;
use crate::ids::IdPath;
use crate::view::{PageCtx, render};

/// A group of the list, for `<optgroup>`.
pub(crate) struct Group {
    label: &'static str,
    options: Vec<(&'static str, String)>,
}

pub(crate) struct Row {
    id: String,
    code: &'static str,
    label: &'static str,
    recorded: String,
    ended: Option<String>,
}

#[derive(Template)]
#[template(path = "patients/diagnoses.html")]
pub(crate) struct DiagnosesPage {
    ctx: PageCtx,
    patient_id: String,
    patient_name: String,
    groups: Vec<Group>,
    rows: Vec<Row>,
    errors: FormErrors,
    notice: Option<&'static str>,
    /// The diagnosis chosen in a refused form, kept chosen.
    chosen: String,
}

#[derive(Deserialize)]
pub(crate) struct NoticeQuery {
    done: Option<String>,
}

fn groups() -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    for d in DIAGNOSES {
        let option = (d.code, format!("{} {}", d.code, d.label));
        match groups.iter_mut().find(|g| g.label == d.group) {
            Some(g) => g.options.push(option),
            None => groups.push(Group {
                label: d.group,
                options: vec![option],
            }),
        }
    }
    groups
}

async fn page(
    state: &AppState,
    who: &Can<ClinicalData>,
    ctx: PageCtx,
    id: &PatientId,
    errors: FormErrors,
    notice: Option<&'static str>,
) -> Result<DiagnosesPage, AppError> {
    let now = jiff::Timestamp::now();
    let site = &who.user().site_id;
    let p = state.store().patient(&who.actor(), site, id, now).await?;
    let rows = state
        .store()
        .diagnoses(&who.actor(), site, id, now)
        .await?
        .into_iter()
        .map(|r| Row {
            id: r.id,
            code: r.diagnosis.code,
            label: r.diagnosis.label,
            recorded: ctx.time_by(r.recorded_at, r.recorded_by.as_deref()),
            ended: r.ended.map(|(by, at)| ctx.time_by(at, by.as_deref())),
        })
        .collect();
    Ok(DiagnosesPage {
        patient_id: p.id.as_str().to_owned(),
        patient_name: format!("{} {}", p.given_name, p.family_name),
        groups: groups(),
        rows,
        ctx,
        errors,
        notice,
        chosen: String::new(),
    })
}

/// `GET /patients/{id}/diagnoses`.
pub(crate) async fn show(
    State(state): State<AppState>,
    who: Can<ClinicalData>,
    ctx: PageCtx,
    IdPath(id): IdPath<PatientId>,
    Query(q): Query<NoticeQuery>,
) -> Result<Html<String>, AppError> {
    let notice = match q.done.as_deref() {
        Some("added") => Some("The diagnosis is recorded."),
        Some("ended") => Some("The diagnosis is ended; it stays on the record."),
        _ => None,
    };
    render(&page(&state, &who, ctx, &id, FormErrors::default(), notice).await?)
}

#[derive(Deserialize)]
pub(crate) struct AddForm {
    #[serde(default)]
    code: String,
}

/// `POST /patients/{id}/diagnoses`.
pub(crate) async fn add(
    State(state): State<AppState>,
    who: Can<ClinicalData>,
    ctx: PageCtx,
    IdPath(id): IdPath<PatientId>,
    Form(form): Form<AddForm>,
) -> Result<Response, AppError> {
    let mut errors = FormErrors::default();
    match clinical::diagnoses::find(&form.code) {
        None => errors.push("code", "Choose a diagnosis from the list."),
        Some(d) => {
            let added = state
                .store()
                .add_diagnosis(
                    &who.actor(),
                    &who.user().site_id,
                    &id,
                    d,
                    jiff::Timestamp::now(),
                )
                .await?;
            if added {
                return Ok(
                    Redirect::to(&format!("/patients/{id}/diagnoses?done=added")).into_response(),
                );
            }
            errors.push(
                "code",
                format!("{} {} is already a current diagnosis.", d.code, d.label),
            );
        }
    }
    let mut page = page(&state, &who, ctx, &id, errors, None).await?;
    // The list's own spelling of the code, so a code typed in lower case is chosen too.
    page.chosen = clinical::diagnoses::find(&form.code).map_or(form.code, |d| d.code.to_owned());
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
}

#[derive(Deserialize)]
pub(crate) struct EndForm {
    #[serde(default)]
    diagnosis: String,
}

/// `POST /patients/{id}/diagnoses/end`.
pub(crate) async fn end(
    State(state): State<AppState>,
    who: Can<ClinicalData>,
    IdPath(id): IdPath<PatientId>,
    Form(form): Form<EndForm>,
) -> Result<Response, AppError> {
    state
        .store()
        .end_diagnosis(
            &who.actor(),
            &who.user().site_id,
            &id,
            form.diagnosis.trim(),
            jiff::Timestamp::now(),
        )
        .await?;
    Ok(Redirect::to(&format!("/patients/{id}/diagnoses?done=ended")).into_response())
}
