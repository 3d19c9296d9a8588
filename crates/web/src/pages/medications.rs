//! A patient's current medications (with the classes that matter with ketamine) and past
//! antidepressant trials; ended or struck out, never deleted.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use clinical::medications::{AntidepressantTrial, Medication, MedicationClass, TrialResponse};
use serde::Deserialize;
use store::PatientId;

use super::{FormErrors, sentence};
use crate::AppState;
use crate::capability::{Can, ClinicalData};
use crate::display::Choice;
use crate::error::AppError;
use crate::ids::IdPath;
use crate::view::{PageCtx, render};

pub(crate) struct MedRow {
    id: String,
    name: String,
    dose: String,
    class: Option<&'static str>,
    recorded: String,
    ended: Option<String>,
}

pub(crate) struct TrialRow {
    id: String,
    drug: String,
    dose: String,
    weeks: String,
    response: &'static str,
    adequate: bool,
    counts: bool,
    recorded: String,
    struck: Option<String>,
}

/// Both forms as typed (each submits its own fields).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct MedForm {
    #[serde(default)]
    med_name: String,
    #[serde(default)]
    med_dose: String,
    #[serde(default)]
    med_class: String,
    #[serde(default)]
    trial_drug: String,
    #[serde(default)]
    trial_dose: String,
    #[serde(default)]
    trial_weeks: String,
    #[serde(default)]
    trial_response: String,
    #[serde(default)]
    trial_adequate: String,
}

#[derive(Template)]
#[template(path = "patients/medications.html")]
pub(crate) struct MedicationsPage {
    ctx: PageCtx,
    patient_id: String,
    patient_name: String,
    form: MedForm,
    classes: Vec<Choice>,
    responses: Vec<Choice>,
    medications: Vec<MedRow>,
    trials: Vec<TrialRow>,
    counted: usize,
    errors: FormErrors,
    notice: Option<&'static str>,
}

fn by(ctx: &PageCtx, who: Option<String>, at: jiff::Timestamp) -> String {
    format!(
        "{}{}",
        ctx.time(at),
        who.map_or_else(String::new, |n| format!(" by {n}"))
    )
}

async fn page(
    state: &AppState,
    who: &Can<ClinicalData>,
    ctx: PageCtx,
    id: &PatientId,
    form: MedForm,
    errors: FormErrors,
    notice: Option<&'static str>,
) -> Result<MedicationsPage, AppError> {
    let now = jiff::Timestamp::now();
    let site = &who.user().site_id;
    let p = state.store().patient(&who.actor(), site, id, now).await?;
    let (meds, trials) = state
        .store()
        .medication_history(&who.actor(), site, id, now)
        .await?;
    let medications = meds
        .into_iter()
        .map(|m| MedRow {
            id: m.id,
            name: m.medication.name,
            dose: m.medication.dose,
            class: m.medication.class.map(MedicationClass::label),
            recorded: by(&ctx, m.recorded.0, m.recorded.1),
            ended: m.ended.map(|(w, at)| by(&ctx, w, at)),
        })
        .collect();
    let trials: Vec<TrialRow> = trials
        .into_iter()
        .map(|t| TrialRow {
            counts: t.struck.is_none() && t.trial.counts(),
            id: t.id,
            weeks: t.trial.weeks.map_or_else(String::new, |w| w.to_string()),
            drug: t.trial.drug,
            dose: t.trial.dose,
            response: t.trial.response.label(),
            adequate: t.trial.adequate,
            recorded: by(&ctx, t.recorded.0, t.recorded.1),
            struck: t.struck.map(|(w, at)| by(&ctx, w, at)),
        })
        .collect();
    let counted = trials.iter().filter(|t| t.counts).count();
    let mut classes = vec![
        Choice {
            value: "",
            label: "Find it from the name",
            selected: form.med_class.is_empty(),
        },
        Choice {
            value: "none",
            label: "Not one of these classes",
            selected: form.med_class == "none",
        },
    ];
    classes.extend(MedicationClass::ALL.into_iter().map(|c| Choice {
        value: c.code(),
        label: c.label(),
        selected: form.med_class == c.code(),
    }));
    let responses = TrialResponse::ALL
        .into_iter()
        .map(|r| Choice {
            value: r.code(),
            label: r.label(),
            selected: form.trial_response == r.code(),
        })
        .collect();
    Ok(MedicationsPage {
        patient_id: p.id.as_str().to_owned(),
        patient_name: format!("{} {}", p.given_name, p.family_name),
        ctx,
        form,
        classes,
        responses,
        medications,
        trials,
        counted,
        errors,
        notice,
    })
}

#[derive(Deserialize)]
pub(crate) struct NoticeQuery {
    done: Option<String>,
}

/// `GET /patients/{id}/medications`.
pub(crate) async fn show(
    State(state): State<AppState>,
    who: Can<ClinicalData>,
    ctx: PageCtx,
    IdPath(id): IdPath<PatientId>,
    Query(q): Query<NoticeQuery>,
) -> Result<Html<String>, AppError> {
    let notice = match q.done.as_deref() {
        Some("medication") => Some("The medication is recorded."),
        Some("ended") => Some("The medication is ended; it stays on the record."),
        Some("trial") => Some("The antidepressant trial is recorded."),
        Some("struck") => {
            Some("The trial is struck out as entered in error; it stays on the record.")
        }
        _ => None,
    };
    let form = MedForm::default();
    render(&page(&state, &who, ctx, &id, form, FormErrors::default(), notice).await?)
}

async fn refused(
    state: &AppState,
    who: &Can<ClinicalData>,
    ctx: PageCtx,
    id: &PatientId,
    form: MedForm,
    problems: Vec<clinical::medications::MedicationError>,
    prefix: &str,
) -> Result<Response, AppError> {
    let mut errors = FormErrors::default();
    for p in problems {
        let field = match (prefix, p.field()) {
            ("trial", "name") => "trial_drug".to_owned(),
            (prefix, field) => format!("{prefix}_{field}"),
        };
        errors.push(field, sentence(&p.to_string()));
    }
    let page = page(state, who, ctx, id, form, errors, None).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
}

/// `POST /patients/{id}/medications`.
pub(crate) async fn add_medication(
    State(state): State<AppState>,
    who: Can<ClinicalData>,
    ctx: PageCtx,
    IdPath(id): IdPath<PatientId>,
    Form(form): Form<MedForm>,
) -> Result<Response, AppError> {
    match Medication::parse(&form.med_name, &form.med_dose, &form.med_class) {
        Ok(m) => {
            let site = &who.user().site_id;
            let now = jiff::Timestamp::now();
            if !state
                .store()
                .add_medication(&who.actor(), site, &id, &m, now)
                .await?
            {
                return Err(AppError::NotFound);
            }
            Ok(
                Redirect::to(&format!("/patients/{id}/medications?done=medication"))
                    .into_response(),
            )
        }
        Err(problems) => refused(&state, &who, ctx, &id, form, problems, "med").await,
    }
}

/// `POST /patients/{id}/trials`.
pub(crate) async fn add_trial(
    State(state): State<AppState>,
    who: Can<ClinicalData>,
    ctx: PageCtx,
    IdPath(id): IdPath<PatientId>,
    Form(form): Form<MedForm>,
) -> Result<Response, AppError> {
    match AntidepressantTrial::parse(
        &form.trial_drug,
        &form.trial_dose,
        &form.trial_weeks,
        &form.trial_response,
        form.trial_adequate == "yes",
    ) {
        Ok(t) => {
            let site = &who.user().site_id;
            let now = jiff::Timestamp::now();
            if !state
                .store()
                .add_trial(&who.actor(), site, &id, &t, now)
                .await?
            {
                return Err(AppError::NotFound);
            }
            Ok(Redirect::to(&format!("/patients/{id}/medications?done=trial")).into_response())
        }
        Err(problems) => refused(&state, &who, ctx, &id, form, problems, "trial").await,
    }
}

#[derive(Deserialize)]
pub(crate) struct RowForm {
    #[serde(default)]
    row: String,
}

/// `POST /patients/{id}/medications/end`.
pub(crate) async fn end_medication(
    State(state): State<AppState>,
    who: Can<ClinicalData>,
    IdPath(id): IdPath<PatientId>,
    Form(form): Form<RowForm>,
) -> Result<Response, AppError> {
    state
        .store()
        .end_medication(
            &who.actor(),
            &who.user().site_id,
            &id,
            form.row.trim(),
            jiff::Timestamp::now(),
        )
        .await?;
    Ok(Redirect::to(&format!("/patients/{id}/medications?done=ended")).into_response())
}

/// `POST /patients/{id}/trials/strike`.
pub(crate) async fn strike_trial(
    State(state): State<AppState>,
    who: Can<ClinicalData>,
    IdPath(id): IdPath<PatientId>,
    Form(form): Form<RowForm>,
) -> Result<Response, AppError> {
    state
        .store()
        .strike_trial(
            &who.actor(),
            &who.user().site_id,
            &id,
            form.row.trim(),
            jiff::Timestamp::now(),
        )
        .await?;
    Ok(Redirect::to(&format!("/patients/{id}/medications?done=struck")).into_response())
}
