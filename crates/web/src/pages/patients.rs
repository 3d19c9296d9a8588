//! The patient directory: search, register, view demographics.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use clinical::patient::{PatientInput, Sex};
use serde::Deserialize;
use store::{PatientRecord, PatientSort};

use super::{FormErrors, sentence};
use crate::AppState;
use crate::capability::{Can, PatientDirectory};
use crate::display::Choice;
use crate::error::AppError;
use crate::view::{PageCtx, render};

/// A patient as the pages show one.
pub(crate) struct PatientView {
    id: String,
    mrn: String,
    given_name: String,
    family_name: String,
    date_of_birth: String,
    age: i16,
    sex: &'static str,
    phone: Option<String>,
    email: Option<String>,
    registered: String,
}

impl PatientView {
    fn new(p: PatientRecord, ctx: &PageCtx) -> Self {
        PatientView {
            age: clinical::patient::age_on(p.date_of_birth, ctx.today()),
            registered: ctx.time(p.created_at),
            id: p.id,
            mrn: p.mrn,
            given_name: p.given_name,
            family_name: p.family_name,
            date_of_birth: p.date_of_birth.to_string(),
            sex: p.sex.label(),
            phone: p.phone,
            email: p.email,
        }
    }
}

#[derive(Template)]
#[template(path = "patients/list.html")]
pub(crate) struct ListPage {
    ctx: PageCtx,
    query: String,
    patients: Vec<PatientView>,
}

#[derive(Deserialize)]
pub(crate) struct ListQuery {
    #[serde(default)]
    q: String,
}

/// How many patients one page lists.
const LIST_LIMIT: i64 = 200;

pub(crate) async fn list(
    State(state): State<AppState>,
    who: Can<PatientDirectory>,
    ctx: PageCtx,
    Query(q): Query<ListQuery>,
) -> Result<Html<String>, AppError> {
    let records = state
        .store()
        .patients(
            &who.actor(),
            &who.user().site_id,
            &q.q,
            PatientSort::Name,
            LIST_LIMIT,
            jiff::Timestamp::now(),
        )
        .await?;
    let patients = records
        .into_iter()
        .map(|p| PatientView::new(p, &ctx))
        .collect();
    render(&ListPage {
        ctx,
        query: q.q.trim().to_owned(),
        patients,
    })
}

/// The registration form's fields, as typed.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct PatientForm {
    #[serde(default)]
    given_name: String,
    #[serde(default)]
    family_name: String,
    #[serde(default)]
    date_of_birth: String,
    #[serde(default)]
    sex: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    email: String,
}

impl From<&PatientForm> for PatientInput {
    fn from(f: &PatientForm) -> Self {
        PatientInput {
            given_name: f.given_name.clone(),
            family_name: f.family_name.clone(),
            date_of_birth: f.date_of_birth.clone(),
            sex: f.sex.clone(),
            phone: f.phone.clone(),
            email: f.email.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "patients/new.html")]
pub(crate) struct NewPage {
    ctx: PageCtx,
    form: PatientForm,
    errors: FormErrors,
    sexes: Vec<Choice>,
}

fn sex_choices(selected: &str) -> Vec<Choice> {
    Sex::ALL
        .into_iter()
        .map(|s| Choice {
            value: s.code(),
            label: s.label(),
            selected: s.code() == selected,
        })
        .collect()
}

pub(crate) async fn new(
    _who: Can<PatientDirectory>,
    ctx: PageCtx,
) -> Result<Html<String>, AppError> {
    render(&NewPage {
        ctx,
        form: PatientForm::default(),
        errors: FormErrors::default(),
        sexes: sex_choices(""),
    })
}

pub(crate) async fn create(
    State(state): State<AppState>,
    who: Can<PatientDirectory>,
    ctx: PageCtx,
    Form(form): Form<PatientForm>,
) -> Result<Response, AppError> {
    match PatientInput::from(&form).validate(ctx.today()) {
        Ok(patient) => {
            let record = state
                .store()
                .create_patient(
                    &who.actor(),
                    &who.user().site_id,
                    &patient,
                    jiff::Timestamp::now(),
                )
                .await?;
            Ok(Redirect::to(&format!("/patients/{}?created=1", record.id)).into_response())
        }
        Err(problems) => {
            let mut errors = FormErrors::default();
            for p in problems {
                errors.push(p.field(), sentence(&p.to_string()));
            }
            let sexes = sex_choices(form.sex.trim());
            let page = NewPage {
                ctx,
                form,
                errors,
                sexes,
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "patients/show.html")]
pub(crate) struct ShowPage {
    ctx: PageCtx,
    p: PatientView,
    created: bool,
}

#[derive(Deserialize)]
pub(crate) struct ShowQuery {
    created: Option<String>,
}

pub(crate) async fn show(
    State(state): State<AppState>,
    who: Can<PatientDirectory>,
    ctx: PageCtx,
    Path(id): Path<String>,
    Query(q): Query<ShowQuery>,
) -> Result<Html<String>, AppError> {
    let record = state
        .store()
        .patient(
            &who.actor(),
            &who.user().site_id,
            &id,
            jiff::Timestamp::now(),
        )
        .await?;
    let p = PatientView::new(record, &ctx);
    render(&ShowPage {
        ctx,
        p,
        created: q.created.is_some(),
    })
}
