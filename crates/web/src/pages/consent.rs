//! Consent: the clinic's versioned document (administrators publish it) and each patient's
//! signature of the current version, witnessed by the staff member signed in.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use clinical::consent::{ConsentText, check_signature};
use serde::Deserialize;
use store::PatientId;

use super::{FormErrors, sentence};
use crate::AppState;
use crate::capability::{Administration, Can, ClinicalData};
use crate::error::AppError;
use crate::ids::IdPath;
use crate::markdown;
use crate::view::{PageCtx, render};

pub(crate) struct SignatureRow {
    version: i64,
    title: String,
    signed_name: String,
    when: String,
    witness: String,
    current: bool,
}

#[derive(Default, Deserialize)]
pub(crate) struct SignForm {
    #[serde(default)]
    version: String,
    #[serde(default)]
    signed_name: String,
    #[serde(default)]
    witnessed: String,
}

#[derive(Template)]
#[template(path = "patients/consent.html")]
pub(crate) struct PatientConsentPage {
    ctx: PageCtx,
    patient_id: String,
    patient_name: String,
    /// Version, title and the text as HTML.
    current: Option<(i64, String, String)>,
    signed_current: bool,
    signatures: Vec<SignatureRow>,
    form: SignForm,
    errors: FormErrors,
    notice: Option<&'static str>,
}

#[derive(Deserialize)]
pub(crate) struct NoticeQuery {
    done: Option<String>,
}

async fn patient_page(
    state: &AppState,
    who: &Can<ClinicalData>,
    ctx: PageCtx,
    id: &PatientId,
    form: SignForm,
    errors: FormErrors,
    notice: Option<&'static str>,
) -> Result<PatientConsentPage, AppError> {
    let now = jiff::Timestamp::now();
    let site = &who.user().site_id;
    let p = state.store().patient(&who.actor(), site, id, now).await?;
    let status = state
        .store()
        .consent_status(&who.actor(), site, id, now)
        .await?;
    let current_version = status.current.as_ref().map(|d| d.version);
    let signatures = status
        .signatures
        .iter()
        .map(|s| SignatureRow {
            version: s.version,
            title: s.title.clone(),
            signed_name: s.signed_name.clone(),
            when: ctx.time(s.signed_at),
            witness: s.witness.clone().unwrap_or_default(),
            current: Some(s.version) == current_version,
        })
        .collect();
    Ok(PatientConsentPage {
        patient_id: p.id.as_str().to_owned(),
        patient_name: format!("{} {}", p.given_name, p.family_name),
        signed_current: status.signed_current(),
        current: status
            .current
            .map(|d| (d.version, d.text.title, markdown::to_html(&d.text.body))),
        signatures,
        form,
        errors,
        notice,
        ctx,
    })
}

/// `GET /patients/{id}/consent`.
pub(crate) async fn show(
    State(state): State<AppState>,
    who: Can<ClinicalData>,
    ctx: PageCtx,
    IdPath(id): IdPath<PatientId>,
    Query(q): Query<NoticeQuery>,
) -> Result<Html<String>, AppError> {
    let notice = match q.done.as_deref() {
        Some("signed") => Some("The signed consent is recorded."),
        _ => None,
    };
    let page = patient_page(
        &state,
        &who,
        ctx,
        &id,
        SignForm::default(),
        FormErrors::default(),
        notice,
    )
    .await?;
    render(&page)
}

/// `POST /patients/{id}/consent`.
pub(crate) async fn sign(
    State(state): State<AppState>,
    who: Can<ClinicalData>,
    ctx: PageCtx,
    IdPath(id): IdPath<PatientId>,
    Form(form): Form<SignForm>,
) -> Result<Response, AppError> {
    let now = jiff::Timestamp::now();
    let site = &who.user().site_id;
    let p = state.store().patient(&who.actor(), site, &id, now).await?;
    let mut errors = FormErrors::default();
    match check_signature(
        &p.given_name,
        &p.family_name,
        &form.signed_name,
        form.witnessed == "yes",
    ) {
        Ok(name) => {
            let version = form.version.trim().parse::<i64>().unwrap_or(0);
            if state
                .store()
                .sign_consent(&who.actor(), site, &id, version, &name, now)
                .await?
            {
                return Ok(
                    Redirect::to(&format!("/patients/{id}/consent?done=signed")).into_response()
                );
            }
            errors.push(
                "signed_name",
                "A newer version of the consent was published while this page was open. Read the current version below with the patient, then sign again.",
            );
        }
        Err(problems) => {
            for p in problems {
                errors.push(p.field(), sentence(&p.to_string()));
            }
        }
    }
    let page = patient_page(&state, &who, ctx, &id, form, errors, None).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
}

pub(crate) struct VersionRow {
    version: i64,
    title: String,
    published: String,
}

#[derive(Default, Deserialize)]
pub(crate) struct PublishForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
}

#[derive(Template)]
#[template(path = "admin/consent.html")]
pub(crate) struct AdminConsentPage {
    ctx: PageCtx,
    versions: Vec<VersionRow>,
    /// Version, title and the text as HTML.
    current: Option<(i64, String, String)>,
    form: PublishForm,
    errors: FormErrors,
    notice: Option<String>,
}

async fn admin_page(
    state: &AppState,
    who: &Can<Administration>,
    ctx: PageCtx,
    form: Option<PublishForm>,
    errors: FormErrors,
    notice: Option<String>,
) -> Result<AdminConsentPage, AppError> {
    let docs = state.store().consent_documents(&who.user().site_id).await?;
    let form = form.unwrap_or_else(|| match docs.first() {
        Some(d) => PublishForm {
            title: d.text.title.clone(),
            body: d.text.body.clone(),
        },
        None => PublishForm::default(),
    });
    Ok(AdminConsentPage {
        current: docs.first().map(|d| {
            (
                d.version,
                d.text.title.clone(),
                markdown::to_html(&d.text.body),
            )
        }),
        versions: docs
            .iter()
            .map(|d| VersionRow {
                version: d.version,
                title: d.text.title.clone(),
                published: ctx.time_by(d.published_at, d.published_by.as_deref()),
            })
            .collect(),
        form,
        errors,
        notice,
        ctx,
    })
}

#[derive(Deserialize)]
pub(crate) struct PublishedQuery {
    published: Option<i64>,
}

/// `GET /admin/consent`.
pub(crate) async fn admin(
    State(state): State<AppState>,
    who: Can<Administration>,
    ctx: PageCtx,
    Query(q): Query<PublishedQuery>,
) -> Result<Html<String>, AppError> {
    let notice = q.published.map(|v| {
        format!("Version {v} is published. Patients who signed an earlier version are asked to sign again.")
    });
    render(&admin_page(&state, &who, ctx, None, FormErrors::default(), notice).await?)
}

/// `POST /admin/consent`.
pub(crate) async fn publish(
    State(state): State<AppState>,
    who: Can<Administration>,
    ctx: PageCtx,
    Form(form): Form<PublishForm>,
) -> Result<Response, AppError> {
    match ConsentText::parse(&form.title, &form.body) {
        Ok(text) => {
            let version = state
                .store()
                .publish_consent(
                    &who.actor(),
                    &who.user().site_id,
                    &text,
                    jiff::Timestamp::now(),
                )
                .await?;
            Ok(Redirect::to(&format!("/admin/consent?published={version}")).into_response())
        }
        Err(problems) => {
            let mut errors = FormErrors::default();
            for p in problems {
                errors.push(p.field(), sentence(&p.to_string()));
            }
            let page = admin_page(&state, &who, ctx, Some(form), errors, None).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
    }
}
