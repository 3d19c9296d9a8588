//! The patient directory: search, register, view demographics.

use askama::Template;
use axum::Form;
use axum::extract::{Extension, Query, State};
use axum::http::StatusCode;
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use clinical::patient::{ContactInput, PatientInput, Sex};
use serde::Deserialize;
use store::{Actor, PatientId, PatientRecord, PatientSort, User};

use super::measure::{LinkOutcome, Measurements, NewLinkView, make_link, measurements};

use super::{FormErrors, sentence};
use crate::AppState;
use crate::auth::Identity;
use crate::capability::{Can, Capability, ClinicalData, PatientDirectory};
use crate::display::Choice;
use crate::error::AppError;
use crate::ids::IdPath;
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
    address: Option<String>,
    emergency_contact: Option<String>,
    registered: String,
    updated: Option<String>,
}

impl PatientView {
    fn new(p: PatientRecord, ctx: &PageCtx) -> Self {
        PatientView {
            age: clinical::patient::age_on(p.date_of_birth, ctx.today()),
            registered: ctx.time(p.created_at),
            updated: (p.updated_at != p.created_at).then(|| ctx.time(p.updated_at)),
            emergency_contact: match (p.emergency_contact_name, p.emergency_contact_phone) {
                (Some(n), Some(t)) => Some(format!("{n}, {t}")),
                (Some(one), None) | (None, Some(one)) => Some(one),
                (None, None) => None,
            },
            address: p.address,
            id: p.id.as_str().to_owned(),
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
    /// Set when the person registering confirmed, after the duplicate warning, that this is a
    /// different person from the records shown.
    #[serde(default)]
    different_person: String,
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
    /// Records with the same name and birth date, shown before registering another.
    same: Vec<PatientView>,
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
        same: Vec::new(),
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
            if form.different_person != "yes" {
                let same = state
                    .store()
                    .same_person(
                        &who.actor(),
                        &who.user().site_id,
                        &patient,
                        jiff::Timestamp::now(),
                    )
                    .await?;
                if !same.is_empty() {
                    let same = same
                        .into_iter()
                        .map(|p| PatientView::new(p, &ctx))
                        .collect();
                    let sexes = sex_choices(form.sex.trim());
                    let page = NewPage {
                        ctx,
                        form,
                        errors: FormErrors::default(),
                        sexes,
                        same,
                    };
                    return Ok((StatusCode::CONFLICT, render(&page)?).into_response());
                }
            }
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
                same: Vec::new(),
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
    recorded: bool,
    updated: bool,
    clinical: Option<Measurements>,
    new_link: Option<NewLinkView>,
    link_error: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct ShowQuery {
    created: Option<String>,
    recorded: Option<String>,
    updated: Option<String>,
}

/// Renders a patient's page; the measurements section only for roles with clinical access.
async fn show_page(
    state: &AppState,
    user: &User,
    ctx: PageCtx,
    id: &PatientId,
    query: &ShowQuery,
    link: Option<LinkOutcome>,
) -> Result<Html<String>, AppError> {
    let record = state
        .store()
        .patient(
            &Actor::user(user),
            &user.site_id,
            id,
            jiff::Timestamp::now(),
        )
        .await?;
    let p = PatientView::new(record, &ctx);
    let clinical = if ClinicalData::allows(user.role) {
        Some(measurements(state, user, &ctx, id).await?)
    } else {
        None
    };
    let (new_link, link_error) = match link {
        Some(LinkOutcome::Made(v)) => (Some(v), None),
        Some(LinkOutcome::Refused(m)) => (None, Some(m)),
        None => (None, None),
    };
    render(&ShowPage {
        ctx,
        p,
        created: query.created.is_some(),
        recorded: query.recorded.is_some(),
        updated: query.updated.is_some(),
        clinical,
        new_link,
        link_error,
    })
}

pub(crate) async fn show(
    State(state): State<AppState>,
    who: Can<PatientDirectory>,
    ctx: PageCtx,
    IdPath(id): IdPath<PatientId>,
    Query(q): Query<ShowQuery>,
) -> Result<Html<String>, AppError> {
    show_page(&state, who.user(), ctx, &id, &q, None).await
}

/// `POST /patients/{id}/links`: makes a self-report link and shows it once on the page.
pub(crate) async fn create_link(
    State(state): State<AppState>,
    who: Can<ClinicalData>,
    Extension(identity): Extension<Identity>,
    headers: HeaderMap,
    ctx: PageCtx,
    IdPath(id): IdPath<PatientId>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Html<String>, AppError> {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1:8080");
    let scheme = if identity.secure { "https" } else { "http" };
    let base = format!("{scheme}://{host}");
    let outcome = make_link(&state, who.user(), &ctx, &id, &fields, &base).await?;
    let query = ShowQuery {
        created: None,
        recorded: None,
        updated: None,
    };
    show_page(&state, who.user(), ctx, &id, &query, Some(outcome)).await
}

/// The contact-details form's fields, as typed.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ContactForm {
    #[serde(default)]
    phone: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    emergency_contact_name: String,
    #[serde(default)]
    emergency_contact_phone: String,
}

impl From<&ContactForm> for ContactInput {
    fn from(f: &ContactForm) -> Self {
        ContactInput {
            phone: f.phone.clone(),
            email: f.email.clone(),
            address: f.address.clone(),
            emergency_contact_name: f.emergency_contact_name.clone(),
            emergency_contact_phone: f.emergency_contact_phone.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "patients/contact.html")]
pub(crate) struct ContactPage {
    ctx: PageCtx,
    p: PatientView,
    form: ContactForm,
    errors: FormErrors,
}

/// `GET /patients/{id}/contact`: the contact details, ready to change.
pub(crate) async fn contact_form(
    State(state): State<AppState>,
    who: Can<PatientDirectory>,
    ctx: PageCtx,
    IdPath(id): IdPath<PatientId>,
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
    let form = ContactForm {
        phone: record.phone.clone().unwrap_or_default(),
        email: record.email.clone().unwrap_or_default(),
        address: record.address.clone().unwrap_or_default(),
        emergency_contact_name: record.emergency_contact_name.clone().unwrap_or_default(),
        emergency_contact_phone: record.emergency_contact_phone.clone().unwrap_or_default(),
    };
    let p = PatientView::new(record, &ctx);
    render(&ContactPage {
        ctx,
        p,
        form,
        errors: FormErrors::default(),
    })
}

/// `POST /patients/{id}/contact`: saves the details, or shows the form again with each problem
/// at its field (nothing stored changes until every field is right).
pub(crate) async fn contact_save(
    State(state): State<AppState>,
    who: Can<PatientDirectory>,
    ctx: PageCtx,
    IdPath(id): IdPath<PatientId>,
    Form(form): Form<ContactForm>,
) -> Result<Response, AppError> {
    let now = jiff::Timestamp::now();
    match ContactInput::from(&form).validate() {
        Ok(details) => {
            state
                .store()
                .update_contact(&who.actor(), &who.user().site_id, &id, &details, now)
                .await?;
            Ok(Redirect::to(&format!("/patients/{id}?updated=1")).into_response())
        }
        Err(problems) => {
            let record = state
                .store()
                .patient(&who.actor(), &who.user().site_id, &id, now)
                .await?;
            let mut errors = FormErrors::default();
            for p in problems {
                errors.push(p.field(), sentence(&p.to_string()));
            }
            let page = ContactPage {
                p: PatientView::new(record, &ctx),
                ctx,
                form,
                errors,
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
    }
}
