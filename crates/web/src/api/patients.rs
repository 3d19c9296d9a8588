//! `/api/v1/patients`: list, register and read patients (clinical roles).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use clinical::patient::PatientInput;
use serde::{Deserialize, Serialize};
use store::PatientId;
use store::{PatientRecord, PatientSort, Registration};
use utoipa::{IntoParams, ToSchema};

use super::json::{ApiJson, ApiQuery};
use crate::AppState;
use crate::capability::{Can, ClinicalData};
use crate::error::{ApiError, ErrorBody};
use crate::ids::IdPath;

/// A registered patient.
#[derive(Serialize, ToSchema)]
pub(crate) struct Patient {
    /// Identifier.
    id: String,
    /// Medical record number, unique within the clinic.
    #[schema(example = "K7Q2M9XA")]
    mrn: String,
    given_name: String,
    family_name: String,
    /// `YYYY-MM-DD`.
    #[schema(example = "1980-04-23")]
    date_of_birth: String,
    /// FHIR administrative gender: `female`, `male`, `other`, `unknown`.
    sex: &'static str,
    phone: Option<String>,
    email: Option<String>,
    /// RFC 3339 instant of registration.
    created_at: String,
}

impl From<PatientRecord> for Patient {
    fn from(p: PatientRecord) -> Self {
        Patient {
            id: p.id.as_str().to_owned(),
            mrn: p.mrn,
            given_name: p.given_name,
            family_name: p.family_name,
            date_of_birth: p.date_of_birth.to_string(),
            sex: p.sex.code(),
            phone: p.phone,
            email: p.email,
            created_at: p.created_at.to_string(),
        }
    }
}

/// A page of patients.
#[derive(Serialize, ToSchema)]
pub(crate) struct PatientList {
    patients: Vec<Patient>,
}

/// A patient to register.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewPatient {
    #[schema(example = "Ada")]
    given_name: String,
    #[schema(example = "Lovelace")]
    family_name: String,
    /// `YYYY-MM-DD`, not in the future.
    #[schema(example = "1985-12-10")]
    date_of_birth: String,
    /// `female`, `male`, `other` or `unknown`.
    #[schema(example = "female")]
    sex: String,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    email: Option<String>,
    /// `true` registers even when the site has a patient of the same name and birth date
    /// (after checking that this is another person); otherwise such a request answers 409
    /// naming the likely duplicates and registers nothing.
    #[serde(default)]
    different_person: bool,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListParams {
    /// Part of a name or record number (case-insensitive).
    #[serde(default)]
    search: String,
    /// At most this many patients, 1 to 500 (default 100).
    limit: Option<i64>,
}

#[utoipa::path(
    get,
    path = "/api/v1/patients",
    tag = "patients",
    params(ListParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Patients by name", body = PatientList),
        (status = 400, description = "A query parameter is not valid", body = ErrorBody),
        (status = 401, description = "No valid token or session", body = ErrorBody),
        (status = 403, description = "The caller's role has no clinical access", body = ErrorBody)
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    who: Can<ClinicalData>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<PatientList>, ApiError> {
    let limit = params.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            format!("limit {limit} is out of range; use 1 to 500"),
        )
        .field("limit"));
    }
    let patients = state
        .store()
        .patients(
            &who.actor(),
            &who.user().site_id,
            &params.search,
            PatientSort::Name,
            limit,
            jiff::Timestamp::now(),
        )
        .await?;
    Ok(Json(PatientList {
        patients: patients.into_iter().map(Patient::from).collect(),
    }))
}

#[utoipa::path(
    post,
    path = "/api/v1/patients",
    tag = "patients",
    request_body = NewPatient,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Registered", body = Patient),
        (status = 400, description = "The body is not JSON of the expected shape", body = ErrorBody),
        (status = 413, description = "The body is larger than the server accepts", body = ErrorBody),
        (status = 408, description = "The body took too long to arrive; nothing was stored", body = ErrorBody),
        (status = 415, description = "The body is not sent as application/json", body = ErrorBody),
        (status = 401, description = "No valid token or session", body = ErrorBody),
        (status = 403, description = "The caller's role has no clinical access", body = ErrorBody),
        (status = 409, description = "The site has a patient of the same name and birth date (`likely_duplicate`, naming their record numbers); send `different_person: true` if this is another person", body = ErrorBody),
        (status = 422, description = "A field's value is not acceptable; `field` names it", body = ErrorBody)
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    who: Can<ClinicalData>,
    ApiJson(body): ApiJson<NewPatient>,
) -> Result<(StatusCode, Json<Patient>), ApiError> {
    let site = state.store().site(&who.user().site_id).await?;
    let today = jiff::Timestamp::now().to_zoned(site.zone.clone()).date();
    let input = PatientInput {
        given_name: body.given_name,
        family_name: body.family_name,
        date_of_birth: body.date_of_birth,
        sex: body.sex,
        phone: body.phone.unwrap_or_default(),
        email: body.email.unwrap_or_default(),
    };
    let patient = input.validate(today).map_err(|errors| {
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
    })?;
    // The look for the same person and the registration are one transaction, so a request
    // retried after a lost answer registers once.
    let registered = state
        .store()
        .register_patient(
            &who.actor(),
            &site.id,
            &patient,
            None,
            !body.different_person,
            jiff::Timestamp::now(),
        )
        .await?;
    match registered {
        Registration::Registered(record) => Ok((StatusCode::CREATED, Json((*record).into()))),
        Registration::LikelySame(same) => {
            let mrns = same
                .iter()
                .map(|p| p.mrn.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            Err(ApiError::new(
                StatusCode::CONFLICT,
                "likely_duplicate",
                format!(
                    "a patient of the same name and birth date is registered already (record {mrns}); if this is another person, send \"different_person\": true"
                ),
            )
            .field("different_person"))
        }
        // ok: no inquiry was given, so none can have been registered already.
        Registration::InquiryTaken => Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            "the registration conflicted with another; send it again",
        )),
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/patients/{id}",
    tag = "patients",
    params(("id" = String, Path, description = "Patient identifier")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The patient", body = Patient),
        (status = 401, description = "No valid token or session", body = ErrorBody),
        (status = 403, description = "The caller's role has no clinical access", body = ErrorBody),
        (status = 404, description = "No such patient", body = ErrorBody)
    )
)]
pub(crate) async fn get_one(
    State(state): State<AppState>,
    who: Can<ClinicalData>,
    IdPath(id): IdPath<PatientId>,
) -> Result<Json<Patient>, ApiError> {
    let record = state
        .store()
        .patient(
            &who.actor(),
            &who.user().site_id,
            &id,
            jiff::Timestamp::now(),
        )
        .await?;
    Ok(Json(record.into()))
}
