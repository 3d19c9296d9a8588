//! `/api/v1/courses` and `/api/v1/protocols`: treatment courses with their signed orders and
//! planned sessions (clinical roles read; only a prescriber orders, changes a dose or a status).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use clinical::course::{Protocol, TargetDose, check_dose, check_status_change};
use clinical::instruments::InstrumentId;
use serde::{Deserialize, Serialize};
use store::{CourseId, CourseRecord, CourseRefusal, NewCourse, PatientId, StatusChange};
use utoipa::{IntoParams, ToSchema};

use super::invalid;
use super::json::{ApiJson, ApiQuery};
use super::scheduling::rems;
use crate::AppState;
use crate::capability::{Can, ClinicalData, Prescribing};
use crate::error::{ApiError, ErrorBody};
use crate::ids::IdPath;

/// A dose: `unit` is `mg_per_kg` or `mg`.
#[derive(Serialize, ToSchema)]
pub(crate) struct Dose {
    value: f64,
    unit: &'static str,
}

fn dose(d: TargetDose) -> Dose {
    match d {
        TargetDose::MgPerKg(value) => Dose {
            value,
            unit: "mg_per_kg",
        },
        TargetDose::Mg(value) => Dose { value, unit: "mg" },
    }
}

/// A protocol phase.
#[derive(Serialize, ToSchema)]
pub(crate) struct PhaseView {
    name: String,
    sessions: u32,
    /// `thrice_weekly`, `twice_weekly`, `weekly` or `every_two_weeks`.
    frequency: &'static str,
}

/// A protocol template.
#[derive(Serialize, ToSchema)]
pub(crate) struct ProtocolView {
    code: String,
    name: String,
    product: &'static str,
    phases: Vec<PhaseView>,
    dose: Dose,
    dose_65_and_over: Option<Dose>,
    source: String,
}

fn protocol_view(p: &Protocol) -> ProtocolView {
    ProtocolView {
        code: p.code.clone(),
        name: p.name.clone(),
        product: p.product.code(),
        phases: p
            .phases
            .iter()
            .map(|ph| PhaseView {
                name: ph.name.clone(),
                sessions: ph.sessions,
                frequency: ph.frequency.code(),
            })
            .collect(),
        dose: dose(p.dose),
        dose_65_and_over: p.dose_65_and_over.map(dose),
        source: p.source.clone(),
    }
}

/// The protocol library.
#[derive(Serialize, ToSchema)]
pub(crate) struct ProtocolList {
    protocols: Vec<ProtocolView>,
}

#[utoipa::path(
    get,
    path = "/api/v1/protocols",
    tag = "courses",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The protocol templates, each with its source", body = ProtocolList),
        (status = 401, description = "No valid token or session", body = ErrorBody),
        (status = 403, description = "The caller's role has no clinical access", body = ErrorBody)
    )
)]
pub(crate) async fn protocols(
    State(state): State<AppState>,
    who: Can<ClinicalData>,
) -> Result<Json<ProtocolList>, ApiError> {
    let all = crate::pages::protocol_library(&state, &who.user().site_id).await?;
    Ok(Json(ProtocolList {
        protocols: all.iter().map(protocol_view).collect(),
    }))
}

/// A signed order.
#[derive(Serialize, ToSchema)]
pub(crate) struct Order {
    dose: Dose,
    reason: Option<String>,
    signed_by: String,
    /// RFC 3339 instant.
    signed_at: String,
    /// A later order replaced it.
    superseded: bool,
}

/// A planned session.
#[derive(Serialize, ToSchema)]
pub(crate) struct Session {
    number: u32,
    /// `YYYY-MM-DD`.
    date: String,
    phase: String,
}

/// A treatment course.
#[derive(Serialize, ToSchema)]
pub(crate) struct Course {
    id: String,
    patient_id: String,
    diagnosis_code: String,
    product: &'static str,
    protocol_code: String,
    protocol_name: String,
    protocol_source: String,
    instrument: &'static str,
    starts_on: String,
    /// `planned`, `active`, `paused`, `completed` or `stopped`.
    status: &'static str,
    status_reason: Option<String>,
    /// The dose in force.
    dose: Option<Dose>,
    /// Orders, newest first.
    orders: Vec<Order>,
    sessions: Vec<Session>,
}

impl From<CourseRecord> for Course {
    fn from(c: CourseRecord) -> Self {
        Course {
            sessions: c
                .planned()
                .into_iter()
                .map(|s| Session {
                    number: s.number,
                    date: s.date.to_string(),
                    phase: s.phase,
                })
                .collect(),
            dose: c.order().map(|o| dose(o.dose)),
            orders: c
                .orders
                .iter()
                .map(|o| Order {
                    dose: dose(o.dose),
                    reason: o.reason.clone(),
                    signed_by: o.signed_by.clone(),
                    signed_at: o.signed_at.to_string(),
                    superseded: o.superseded,
                })
                .collect(),
            id: c.id.as_str().to_owned(),
            patient_id: c.patient_id.as_str().to_owned(),
            diagnosis_code: c.diagnosis_code,
            product: c.product.code(),
            protocol_code: c.protocol_code,
            protocol_name: c.protocol_name,
            protocol_source: c.protocol_source,
            instrument: c.instrument.code(),
            starts_on: c.starts_on.to_string(),
            status: c.status.code(),
            status_reason: c.status_reason,
        }
    }
}

/// A course to order.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewCourseBody {
    patient_id: String,
    /// One of the patient's current diagnoses (ICD-10-CM).
    #[schema(example = "F33.2")]
    diagnosis_code: String,
    /// A protocol code from `/api/v1/protocols` (built-in or the clinic's own).
    #[schema(example = "iv_induction_thrice_weekly")]
    protocol: String,
    /// Outcome instrument.
    #[schema(example = "phq9")]
    instrument: String,
    /// First session's target date, `YYYY-MM-DD`: from the clinic's today to two years
    /// ahead.
    #[schema(example = "2026-12-07")]
    starts_on: String,
    /// mg/kg for racemic ketamine, mg for esketamine; the protocol's starting dose when absent.
    #[schema(example = "0.5")]
    #[serde(default)]
    dose: Option<String>,
}

fn refused(c: CourseRefusal) -> ApiError {
    match c {
        CourseRefusal::RemsCertificationRequired | CourseRefusal::RemsEnrollmentRequired => rems(c),
        CourseRefusal::DiagnosisNotCurrent => invalid("diagnosis_code", c.to_string()),
        CourseRefusal::StatusChanged => {
            ApiError::new(StatusCode::CONFLICT, "conflict", c.to_string())
        }
        CourseRefusal::Ended => invalid("status", c.to_string()),
        CourseRefusal::SameProtocolOpen { .. } => {
            ApiError::new(StatusCode::CONFLICT, "course_open", c.to_string()).field("protocol")
        }
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/courses",
    tag = "courses",
    request_body = NewCourseBody,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Ordered and signed by the prescriber calling", body = Course),
        (status = 400, description = "The body is not JSON of the expected shape", body = ErrorBody),
        (status = 401, description = "No valid token or session", body = ErrorBody),
        (status = 403, description = "Only a prescriber orders a course", body = ErrorBody),
        (status = 404, description = "No such patient", body = ErrorBody),
        (status = 409, description = "`course_open`: the patient already has a planned, active or paused course of this protocol; nothing was ordered", body = ErrorBody),
        (status = 413, description = "The body is larger than the server accepts", body = ErrorBody),
        (status = 408, description = "The body took too long to arrive; nothing was stored", body = ErrorBody),
        (status = 415, description = "The body is not sent as application/json", body = ErrorBody),
        (status = 422, description = "A bad field (`field` names it), a dose outside the clinic's caps or the label, a condition not among the patient's diagnoses, a first session before today or more than two years ahead; `rems_enrollment_required` or `rems_certification_required` for esketamine", body = ErrorBody)
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    who: Can<Prescribing>,
    ApiJson(body): ApiJson<NewCourseBody>,
) -> Result<(StatusCode, Json<Course>), ApiError> {
    let now = jiff::Timestamp::now();
    let site = &who.user().site_id;
    let patient_id = PatientId::parse(&body.patient_id)
        .ok_or_else(|| invalid("patient_id", "patient_id is not a patient's id"))?;
    // A patient's diagnoses come from Ketaflow's list, so a code not on it is none of theirs
    // (and never reaches the database: a NUL byte cannot be sent to PostgreSQL).
    if clinical::diagnoses::find(body.diagnosis_code.trim()).is_none() {
        return Err(invalid(
            "diagnosis_code",
            CourseRefusal::DiagnosisNotCurrent.to_string(),
        ));
    }
    let protocol = crate::pages::protocol_library(&state, site)
        .await?
        .into_iter()
        .find(|p| p.code == body.protocol.trim())
        .ok_or_else(|| {
            invalid(
                "protocol",
                format!(
                    "'{}' is not a protocol; GET /api/v1/protocols lists them",
                    body.protocol
                ),
            )
        })?;
    let instrument =
        InstrumentId::parse(&body.instrument).map_err(|e| invalid("instrument", e.to_string()))?;
    let starts_on: jiff::civil::Date = body.starts_on.trim().parse().map_err(|_| {
        invalid(
            "starts_on",
            format!("'{}' is not a date such as 2026-12-07", body.starts_on),
        )
    })?;
    let patient = state
        .store()
        .patient(&who.actor(), site, &patient_id, now)
        .await?;
    let tz = super::scheduling::site_zone(&state, site).await?;
    let today = now.to_zoned(tz).date();
    clinical::course::check_first_session(starts_on, today)
        .map_err(|e| invalid("starts_on", e.to_string()))?;
    let age = clinical::patient::age_on(patient.date_of_birth, today);
    let dose = match body.dose.as_deref() {
        None => protocol.dose_for_age(age),
        Some(text) => check_dose(
            protocol.product,
            text,
            &state.config().dose_caps,
            &state.config().planning_floor,
            age,
        )
        .map_err(|e| invalid("dose", e.to_string()))?,
    };
    clinical::course::check_first_dose(protocol.product, dose).map_err(|m| invalid("dose", m))?;
    let new = NewCourse {
        patient_id: &patient_id,
        diagnosis_code: body.diagnosis_code.trim(),
        protocol: &protocol,
        instrument,
        starts_on,
        dose,
    };
    let id = state
        .store()
        .create_course(&who.actor(), site, &new, now)
        .await?
        .map_err(refused)?;
    let course = state.store().course(site, &id).await?;
    Ok((StatusCode::CREATED, Json(course.into())))
}

/// Which courses.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct CourseQuery {
    /// The patient whose courses to list.
    patient_id: String,
}

/// Courses, newest first.
#[derive(Serialize, ToSchema)]
pub(crate) struct CourseList {
    courses: Vec<Course>,
}

#[utoipa::path(
    get,
    path = "/api/v1/courses",
    tag = "courses",
    params(CourseQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The patient's courses, newest first", body = CourseList),
        (status = 400, description = "patient_id is missing", body = ErrorBody),
        (status = 401, description = "No valid token or session", body = ErrorBody),
        (status = 403, description = "The caller's role has no clinical access", body = ErrorBody),
        (status = 404, description = "No such patient", body = ErrorBody),
        (status = 422, description = "patient_id is not an id", body = ErrorBody)
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    who: Can<ClinicalData>,
    ApiQuery(q): ApiQuery<CourseQuery>,
) -> Result<Json<CourseList>, ApiError> {
    let now = jiff::Timestamp::now();
    let site = &who.user().site_id;
    let patient = PatientId::parse(&q.patient_id)
        .ok_or_else(|| invalid("patient_id", "patient_id is not a patient's id"))?;
    state
        .store()
        .patient(&who.actor(), site, &patient, now)
        .await?;
    let list = state
        .store()
        .courses(&who.actor(), site, &patient, now)
        .await?;
    Ok(Json(CourseList {
        courses: list.into_iter().map(Course::from).collect(),
    }))
}

#[utoipa::path(
    get,
    path = "/api/v1/courses/{id}",
    tag = "courses",
    params(("id" = String, Path, description = "Course identifier")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The course", body = Course),
        (status = 401, description = "No valid token or session", body = ErrorBody),
        (status = 403, description = "The caller's role has no clinical access", body = ErrorBody),
        (status = 404, description = "No such course", body = ErrorBody)
    )
)]
pub(crate) async fn get_one(
    State(state): State<AppState>,
    who: Can<ClinicalData>,
    IdPath(id): IdPath<CourseId>,
) -> Result<Json<Course>, ApiError> {
    let now = jiff::Timestamp::now();
    let site = &who.user().site_id;
    let course = state.store().course(site, &id).await?;
    // Reading the patient audits the access to the course.
    state
        .store()
        .patient(&who.actor(), site, &course.patient_id, now)
        .await?;
    Ok(Json(course.into()))
}

/// A change of status.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StatusBody {
    /// `active`, `paused`, `completed` or `stopped`.
    #[schema(example = "active")]
    status: String,
    /// Required to stop a course.
    #[serde(default)]
    #[schema(max_length = 2000)]
    reason: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/courses/{id}/status",
    tag = "courses",
    params(("id" = String, Path, description = "Course identifier")),
    request_body = StatusBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The course with its new status", body = Course),
        (status = 400, description = "The body is not JSON of the expected shape", body = ErrorBody),
        (status = 401, description = "No valid token or session", body = ErrorBody),
        (status = 403, description = "Only a prescriber changes a course's status", body = ErrorBody),
        (status = 404, description = "No such course", body = ErrorBody),
        (status = 409, description = "The status changed meanwhile", body = ErrorBody),
        (status = 413, description = "The body is larger than the server accepts", body = ErrorBody),
        (status = 408, description = "The body took too long to arrive; nothing was stored", body = ErrorBody),
        (status = 415, description = "The body is not sent as application/json", body = ErrorBody),
        (status = 422, description = "A change the course's status does not allow, or stopping without a reason", body = ErrorBody)
    )
)]
pub(crate) async fn set_status(
    State(state): State<AppState>,
    who: Can<Prescribing>,
    IdPath(id): IdPath<CourseId>,
    ApiJson(body): ApiJson<StatusBody>,
) -> Result<Json<Course>, ApiError> {
    let now = jiff::Timestamp::now();
    let site = &who.user().site_id;
    let course = state.store().course(site, &id).await?;
    let (to, reason) = check_status_change(
        course.status,
        &body.status,
        body.reason.as_deref().unwrap_or(""),
    )
    .map_err(|e| invalid(e.field(), e.to_string()))?;
    let change = StatusChange {
        from: course.status,
        to,
        reason: reason.as_deref(),
    };
    state
        .store()
        .set_course_status(&who.actor(), site, &id, change, now)
        .await?
        .map_err(refused)?;
    Ok(Json(state.store().course(site, &id).await?.into()))
}

/// A new signed order.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct OrderBody {
    /// mg/kg for racemic ketamine, mg for esketamine.
    #[schema(example = "0.75")]
    dose: String,
    /// Why the dose changes.
    #[schema(example = "partial response after 3 infusions", max_length = 500)]
    reason: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/courses/{id}/orders",
    tag = "courses",
    params(("id" = String, Path, description = "Course identifier")),
    request_body = OrderBody,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Signed; the earlier order is kept, marked as replaced", body = Course),
        (status = 400, description = "The body is not JSON of the expected shape", body = ErrorBody),
        (status = 401, description = "No valid token or session", body = ErrorBody),
        (status = 403, description = "Only a prescriber signs an order", body = ErrorBody),
        (status = 404, description = "No such course", body = ErrorBody),
        (status = 413, description = "The body is larger than the server accepts", body = ErrorBody),
        (status = 408, description = "The body took too long to arrive; nothing was stored", body = ErrorBody),
        (status = 415, description = "The body is not sent as application/json", body = ErrorBody),
        (status = 422, description = "A dose outside the caps or the label, no reason, or a course that has ended", body = ErrorBody)
    )
)]
pub(crate) async fn order(
    State(state): State<AppState>,
    who: Can<Prescribing>,
    IdPath(id): IdPath<CourseId>,
    ApiJson(body): ApiJson<OrderBody>,
) -> Result<(StatusCode, Json<Course>), ApiError> {
    let now = jiff::Timestamp::now();
    let site = &who.user().site_id;
    let course = state.store().course(site, &id).await?;
    let patient = state
        .store()
        .patient(&who.actor(), site, &course.patient_id, now)
        .await?;
    let tz = super::scheduling::site_zone(&state, site).await?;
    let age = clinical::patient::age_on(patient.date_of_birth, now.to_zoned(tz).date());
    let dose = check_dose(
        course.product,
        &body.dose,
        &state.config().dose_caps,
        &state.config().planning_floor,
        age,
    )
    .map_err(|e| invalid("dose", e.to_string()))?;
    let reason = clinical::course::check_dose_reason(&body.reason)
        .map_err(|e| invalid("reason", e.to_string()))?;
    state
        .store()
        .change_dose(&who.actor(), site, &id, dose, reason, now)
        .await?
        .map_err(refused)?;
    Ok((
        StatusCode::CREATED,
        Json(state.store().course(site, &id).await?.into()),
    ))
}
