//! `/api/v1/patients/{id}/screenings`: contraindication screenings (clinical roles).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use clinical::screening::{BloodPressure, ScreeningInput, screen};
use serde::{Deserialize, Serialize};
use store::{PatientId, ScreeningRecord};
use utoipa::ToSchema;

use super::json::ApiJson;
use crate::AppState;
use crate::capability::{Can, ClinicalData};
use crate::error::{ApiError, ErrorBody};
use crate::ids::IdPath;

/// What to screen. The patient's age comes from the record.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewScreening {
    /// Condition codes a clinician confirmed.
    #[schema(example = json!(["raised_intraocular_pressure"]))]
    #[serde(default)]
    conditions: Vec<String>,
    /// Condition codes only the patient reported (self-screening), not yet confirmed.
    #[serde(default)]
    patient_reported_conditions: Vec<String>,
    /// Today's systolic blood pressure, mmHg.
    #[serde(default, deserialize_with = "crate::api::json::whole::option")]
    #[schema(value_type = Option<i64>, example = 132)]
    systolic_mmhg: Option<i64>,
    /// Today's diastolic blood pressure, mmHg.
    #[serde(default, deserialize_with = "crate::api::json::whole::option")]
    #[schema(value_type = Option<i64>, example = 84)]
    diastolic_mmhg: Option<i64>,
    /// Classes of the current medications.
    #[schema(example = json!(["benzodiazepine"]))]
    #[serde(default)]
    medication_classes: Vec<String>,
    /// Failed adequate antidepressant trials in the current episode; absent when not taken.
    #[serde(default, deserialize_with = "crate::api::json::whole::option")]
    #[schema(value_type = Option<i64>, example = 2)]
    adequate_antidepressant_trials: Option<i64>,
}

/// One finding.
#[derive(Serialize, ToSchema)]
pub(crate) struct ScreeningFinding {
    /// A condition code, `medication_<class>`, `age_under_minimum`, `blood_pressure_elevated`
    /// or `treatment_resistance`.
    code: String,
    /// `absolute` (do not treat), `relative` (the prescriber weighs it) or `note`.
    class: &'static str,
    reason: String,
    /// The published source of the rule.
    source: String,
    /// `confirmed` or `patient_reported`.
    basis: &'static str,
}

/// The prescriber's decision.
#[derive(Serialize, ToSchema)]
pub(crate) struct ScreeningDecision {
    /// `eligible`, `not_eligible` or `needs_review`.
    decision: &'static str,
    reason: String,
    /// Why an absolute finding was overridden.
    justification: Option<String>,
    decided_by: Option<String>,
    /// RFC 3339 instant.
    decided_at: String,
}

/// A stored screening.
#[derive(Serialize, ToSchema)]
pub(crate) struct Screening {
    id: String,
    /// RFC 3339 instant.
    recorded_at: String,
    recorded_by: Option<String>,
    /// The age the screening used.
    age_years: u32,
    findings: Vec<ScreeningFinding>,
    /// The decision that stands; `null` until a prescriber decides.
    decision: Option<ScreeningDecision>,
}

fn findings(list: &[clinical::screening::Finding]) -> Vec<ScreeningFinding> {
    list.iter()
        .map(|f| ScreeningFinding {
            code: f.code.clone(),
            class: f.class.code(),
            reason: f.reason.clone(),
            source: f.source.clone(),
            basis: f.basis.code(),
        })
        .collect()
}

impl From<ScreeningRecord> for Screening {
    fn from(r: ScreeningRecord) -> Self {
        Screening {
            findings: findings(&r.findings),
            decision: r.decision().map(|d| ScreeningDecision {
                decision: d.decision.code(),
                reason: d.reason.clone(),
                justification: d.justification.clone(),
                decided_by: d.decided_by.clone(),
                decided_at: d.decided_at.to_string(),
            }),
            id: r.id.as_str().to_owned(),
            recorded_at: r.recorded_at.to_string(),
            recorded_by: r.recorded_by,
            age_years: r.input.age_years,
        }
    }
}

/// The stored screening's id and its findings.
#[derive(Serialize, ToSchema)]
pub(crate) struct ScreeningRecorded {
    id: String,
    findings: Vec<ScreeningFinding>,
}

/// A patient's screenings, newest first.
#[derive(Serialize, ToSchema)]
pub(crate) struct ScreeningList {
    screenings: Vec<Screening>,
}

#[utoipa::path(
    get,
    path = "/api/v1/patients/{id}/screenings",
    tag = "screening",
    params(("id" = String, Path, description = "Patient identifier")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Screenings newest first, each with its findings and the decision that stands", body = ScreeningList),
        (status = 401, description = "No valid token or session", body = ErrorBody),
        (status = 403, description = "The caller's role has no clinical access", body = ErrorBody),
        (status = 404, description = "No such patient", body = ErrorBody)
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    who: Can<ClinicalData>,
    IdPath(id): IdPath<PatientId>,
) -> Result<Json<ScreeningList>, ApiError> {
    let now = jiff::Timestamp::now();
    let site = &who.user().site_id;
    state.store().patient(&who.actor(), site, &id, now).await?;
    let records = state
        .store()
        .screenings(&who.actor(), site, &id, now)
        .await?;
    Ok(Json(ScreeningList {
        screenings: records.into_iter().map(Screening::from).collect(),
    }))
}

#[utoipa::path(
    post,
    path = "/api/v1/patients/{id}/screenings",
    tag = "screening",
    params(("id" = String, Path, description = "Patient identifier")),
    request_body = NewScreening,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Screened and stored, with its findings heaviest first", body = ScreeningRecorded),
        (status = 400, description = "The body is not JSON of the expected shape", body = ErrorBody),
        (status = 413, description = "The body is larger than the server accepts", body = ErrorBody),
        (status = 408, description = "The body took too long to arrive; nothing was stored", body = ErrorBody),
        (status = 415, description = "The body is not sent as application/json", body = ErrorBody),
        (status = 401, description = "No valid token or session", body = ErrorBody),
        (status = 403, description = "The caller's role has no clinical access", body = ErrorBody),
        (status = 404, description = "No such patient", body = ErrorBody),
        (status = 422, description = "An unknown condition or class code, an implausible blood pressure or trial count; `field` names it", body = ErrorBody)
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    who: Can<ClinicalData>,
    IdPath(id): IdPath<PatientId>,
    ApiJson(body): ApiJson<NewScreening>,
) -> Result<(StatusCode, Json<ScreeningRecorded>), ApiError> {
    let now = jiff::Timestamp::now();
    let site_id = &who.user().site_id;
    let refuse = |errors: Vec<clinical::screening::ScreeningError>| {
        let field = errors.first().map_or("body", |e| e.field());
        let message = errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            message,
        )
        .field(field)
    };
    let bp = BloodPressure::parse(body.systolic_mmhg, body.diastolic_mmhg).map_err(refuse)?;
    let patient = state
        .store()
        .patient(&who.actor(), site_id, &id, now)
        .await?;
    let tz = super::scheduling::site_zone(&state, site_id).await?;
    let age = clinical::patient::age_on(patient.date_of_birth, now.to_zoned(tz).date());
    let input = ScreeningInput::from_codes(
        // ok: registration refuses a birth date after today, so the age is never negative; a
        // negative one would screen as under age, the cautious side.
        u32::try_from(age).unwrap_or(0),
        &body.conditions,
        &body.patient_reported_conditions,
        bp,
        &body.medication_classes,
        body.adequate_antidepressant_trials,
    )
    .map_err(refuse)?;
    let found = screen(&input, &state.config().screening);
    let sid = state
        .store()
        .record_screening(&who.actor(), site_id, &id, &input, &found, now)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(ScreeningRecorded {
            id: sid.as_str().to_owned(),
            findings: findings(&found),
        }),
    ))
}
