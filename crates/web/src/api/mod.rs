//! The JSON API under `/api/v1`, and its OpenAPI 3 document generated from the handlers'
//! annotations, so the document cannot drift from the code.
//!
//! Wire types are DTOs of their own, converted by hand from domain and store types.

mod assessments;
mod courses;
pub(crate) mod health;
pub(crate) mod json;
mod patients;
mod pk;
mod scheduling;
mod screenings;
mod sessions;

use axum::response::IntoResponse;
use axum::routing::get;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

/// An optional whole number in a JSON body (also for the scenario wire format, which the command
/// line shares).
pub(crate) use json::whole::option as whole_option;

/// A 422 `validation_failed` naming the field at fault.
pub(crate) fn invalid(field: &str, message: impl Into<String>) -> crate::error::ApiError {
    crate::error::ApiError::new(
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        message,
    )
    .field(field)
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Ketaflow API",
        description = "Clinic operations for ketamine and esketamine treatment. \
                       Authenticate with `Authorization: Bearer <token>` (create one with \
                       `ketaflow token create` or on the My account page) or a signed-in session. \
                       Errors have the shape `{\"error\":{\"code\":..,\"message\":..,\"field\":..}}`."
    ),
    paths(
        health::healthz,
        patients::list,
        patients::create,
        patients::get_one,
        assessments::list,
        assessments::create,
        screenings::list,
        screenings::create,
        courses::protocols,
        courses::create,
        courses::list,
        courses::get_one,
        courses::set_status,
        courses::order,
        scheduling::chairs,
        scheduling::book,
        scheduling::list,
        scheduling::cancel,
        scheduling::no_show,
        sessions::list,
        sessions::get_one,
        sessions::post_vitals,
        pk::simulate
    ),
    modifiers(&BearerScheme),
    tags(
        (name = "system", description = "Service status"),
        (name = "patients", description = "Patient demographics; clinical roles only"),
        (name = "assessments", description = "Rating scales: scoring, response and remission; clinical roles only"),
        (name = "screening", description = "Contraindication screening before a first session; clinical roles only"),
        (name = "courses", description = "Treatment courses, protocols and signed orders; clinical roles read, prescribers order"),
        (name = "scheduling", description = "Chairs and appointments; clinical roles and front desk"),
        (name = "sessions", description = "Treatment sessions: vitals posted by devices or the chair side, alerts; clinical roles only"),
        (name = "pharmacokinetics", description = "Published ketamine and esketamine models; clinical roles only")
    )
)]
struct ApiDoc;

struct BearerScheme;

impl utoipa::Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The OpenAPI document as pretty-printed JSON.
///
/// The derive describes shapes; the value sets and ranges the server enforces are added here
/// from the domain's own lists and limits, so the document cannot drift from what is accepted.
pub fn openapi_json() -> String {
    let mut doc = match serde_json::to_value(ApiDoc::openapi()) {
        Ok(doc) => doc,
        Err(e) => return format!("{{\"error\":\"{e}\"}}"),
    };
    constrain(&mut doc);
    document_token_throttle(&mut doc);
    serde_json::to_string_pretty(&doc).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

/// Adds enums, ranges and lengths to the request schemas and parameters.
fn constrain(doc: &mut serde_json::Value) {
    use serde_json::json;
    let codes = |it: &mut dyn Iterator<Item = &'static str>| json!(it.collect::<Vec<_>>());
    let models = codes(&mut ::pk::models::ModelId::ALL.iter().map(|m| m.info().id));
    let routes = codes(&mut ::pk::model::Route::ALL.iter().map(|r| r.code()));
    let instruments = codes(
        &mut clinical::instruments::InstrumentId::ALL
            .iter()
            .map(|i| i.code()),
    );
    let time_points = codes(
        &mut clinical::instruments::schedule::TimePoint::ALL
            .iter()
            .map(|t| t.code()),
    );
    let conditions = codes(&mut clinical::screening::Condition::ALL.iter().map(|c| c.code()));
    let classes = codes(
        &mut clinical::medications::MedicationClass::ALL
            .iter()
            .map(|c| c.code()),
    );
    let kinds = codes(
        &mut clinical::booking::AppointmentKind::ALL
            .iter()
            .map(|k| k.code()),
    );
    let statuses = codes(&mut clinical::course::CourseStatus::ALL.iter().map(|s| s.code()));
    let (sys_min, sys_max) = clinical::screening::SYSTOLIC_RANGE;
    let (dia_min, dia_max) = clinical::screening::DIASTOLIC_RANGE;
    let sexes = codes(&mut clinical::patient::Sex::ALL.iter().map(|s| s.code()));
    let last_minute = 14.0 * 24.0 * 60.0;
    let rules: &[(&str, &str, serde_json::Value)] = &[
        ("ScenarioInput", "model", json!({"enum": models})),
        (
            "ScenarioInput",
            "doses",
            json!({"minItems": 1, "maxItems": ::pk::limits::MAX_DOSES}),
        ),
        (
            "ScenarioInput",
            "times_min",
            json!({"minItems": 1, "maxItems": ::pk::limits::MAX_TIMES,
                   "items": {"type": "number", "minimum": 0, "maximum": last_minute}}),
        ),
        (
            "ScenarioInput",
            "band_mg_per_l",
            json!({"minItems": 2, "maxItems": 2, "items": {"type": "number", "minimum": 0}}),
        ),
        (
            "ScenarioInput",
            "population",
            json!({"minimum": 1, "maximum": ::pk::population::MAX_PATIENTS}),
        ),
        ("ScenarioInput", "seed", json!({"minimum": 0})),
        (
            "OptionsInput",
            "weight_scaling",
            json!({"enum": ["allometric", "linear", null]}),
        ),
        (
            "PatientInput",
            "weight_kg",
            json!({"minimum": ::pk::units::Kg::MIN, "maximum": ::pk::units::Kg::MAX}),
        ),
        (
            "PatientInput",
            "age_years",
            json!({"minimum": 0, "maximum": 120}),
        ),
        (
            "PatientInput",
            "sex",
            json!({"enum": ["female", "male", null]}),
        ),
        ("DoseInput", "route", json!({"enum": routes})),
        (
            "DoseInput",
            "start_min",
            json!({"minimum": 0, "maximum": last_minute}),
        ),
        ("DoseInput", "devices", json!({"minimum": 1, "maximum": 3})),
        (
            "DoseInput",
            "bioavailability",
            json!({"exclusiveMinimum": 0, "maximum": 1}),
        ),
        (
            "DoseInput",
            "absorption_tmax_min",
            json!({"minimum": 1, "maximum": 360}),
        ),
        ("NewPatient", "sex", json!({"enum": sexes})),
        ("NewPatient", "date_of_birth", json!({"format": "date"})),
        ("NewAssessment", "instrument", json!({"enum": instruments})),
        ("NewAssessment", "time_point", json!({"enum": time_points})),
        (
            "NewAssessment",
            "answers",
            json!({"minItems": 1, "maxItems": 20,
                   "items": {"type": "integer", "minimum": 0, "maximum": 10}}),
        ),
        (
            "NewAssessment",
            "administered_at",
            json!({"format": "date-time"}),
        ),
        (
            "NewScreening",
            "conditions",
            json!({"items": {"type": "string", "enum": conditions}}),
        ),
        (
            "NewScreening",
            "patient_reported_conditions",
            json!({"items": {"type": "string", "enum": conditions}}),
        ),
        (
            "NewScreening",
            "medication_classes",
            json!({"items": {"type": "string", "enum": classes}}),
        ),
        (
            "NewScreening",
            "systolic_mmhg",
            json!({"minimum": sys_min, "maximum": sys_max}),
        ),
        (
            "NewScreening",
            "diastolic_mmhg",
            json!({"minimum": dia_min, "maximum": dia_max}),
        ),
        ("NewAppointmentBody", "kind", json!({"enum": kinds})),
        (
            "NewAppointmentBody",
            "start",
            json!({"format": "date-time"}),
        ),
        (
            "NewAppointmentBody",
            "duration_min",
            json!({"minimum": 5, "maximum": clinical::booking::MAX_APPOINTMENT_MIN}),
        ),
        (
            "CloseBody",
            "reason",
            // One line once trimmed: surrounding white space (a pasted line break) is trimmed
            // away, so the pattern allows it and forbids control characters only inside.
            json!({"minLength": 1, "maxLength": 500, "pattern": "^\\s*[^\\u0000-\\u001f]*\\S[^\\u0000-\\u001f]*\\s*$"}),
        ),
        ("NewCourseBody", "instrument", json!({"enum": instruments})),
        ("NewCourseBody", "starts_on", json!({"format": "date"})),
        ("StatusBody", "status", json!({"enum": statuses})),
        (
            "NewVitals",
            "observations",
            json!({"minItems": 1, "maxItems": sessions::MAX_OBSERVATIONS}),
        ),
        (
            "ObservationInput",
            "taken_at",
            json!({"format": "date-time"}),
        ),
        (
            "ObservationInput",
            "systolic_mmhg",
            json!({"minimum": sys_min, "maximum": sys_max}),
        ),
        (
            "ObservationInput",
            "diastolic_mmhg",
            json!({"minimum": dia_min, "maximum": dia_max}),
        ),
        (
            "ObservationInput",
            "heart_rate_bpm",
            json!({"minimum": clinical::session::HEART_RATE_RANGE.0, "maximum": clinical::session::HEART_RATE_RANGE.1}),
        ),
        (
            "ObservationInput",
            "spo2_percent",
            json!({"minimum": clinical::session::SPO2_RANGE.0, "maximum": clinical::session::SPO2_RANGE.1}),
        ),
        (
            "ObservationInput",
            "respiratory_rate_per_min",
            json!({"minimum": clinical::session::RESPIRATORY_RATE_RANGE.0, "maximum": clinical::session::RESPIRATORY_RATE_RANGE.1}),
        ),
        (
            "NewScreening",
            "adequate_antidepressant_trials",
            json!({"minimum": 0, "maximum": clinical::screening::MAX_TRIALS}),
        ),
    ];
    for (schema, property, extra) in rules {
        let target = &mut doc["components"]["schemas"][schema]["properties"][property];
        merge(target, extra);
    }
    if let Some(params) = doc["paths"]["/api/v1/patients"]["get"]["parameters"].as_array_mut() {
        for p in params {
            if p["name"] == "limit" {
                merge(&mut p["schema"], &json!({"minimum": 1, "maximum": 500}));
            }
        }
    }
}

/// Every operation a bearer token opens may answer 429: the address has had too many unknown
/// tokens looked up (`Limits::token_checks_per_minute`).
fn document_token_throttle(doc: &mut serde_json::Value) {
    let answer = serde_json::json!({
        "description": "Too many unrecognised bearer tokens came from this address; wait for `Retry-After` seconds",
        "headers": {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}},
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    });
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for item in paths.values_mut() {
        let Some(operations) = item.as_object_mut() else {
            continue;
        };
        for operation in operations.values_mut() {
            if operation.get("security").is_some()
                && let Some(responses) = operation["responses"].as_object_mut()
            {
                responses.insert("429".to_owned(), answer.clone());
            }
        }
    }
}

fn merge(target: &mut serde_json::Value, extra: &serde_json::Value) {
    if let (Some(t), Some(e)) = (target.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            t.insert(k.clone(), v.clone());
        }
    }
}

async fn openapi() -> impl IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        openapi_json(),
    )
}

pub(crate) fn router() -> crate::routes::Routes {
    crate::routes::Routes::new()
        .route("/openapi.json", get(openapi))
        .route("/patients", get(patients::list).post(patients::create))
        .route("/patients/{id}", get(patients::get_one))
        .route("/pk/simulate", axum::routing::post(pk::simulate))
        .route(
            "/patients/{id}/assessments",
            get(assessments::list).post(assessments::create),
        )
        .route(
            "/patients/{id}/screenings",
            get(screenings::list).post(screenings::create),
        )
        .route("/protocols", get(courses::protocols))
        .route("/courses", get(courses::list).post(courses::create))
        .route("/courses/{id}", get(courses::get_one))
        .route(
            "/courses/{id}/status",
            axum::routing::post(courses::set_status),
        )
        .route("/courses/{id}/orders", axum::routing::post(courses::order))
        .route("/chairs", get(scheduling::chairs))
        .route(
            "/appointments",
            get(scheduling::list).post(scheduling::book),
        )
        .route(
            "/appointments/{id}/cancel",
            axum::routing::post(scheduling::cancel),
        )
        .route(
            "/appointments/{id}/no-show",
            axum::routing::post(scheduling::no_show),
        )
        .route("/sessions", get(sessions::list))
        .route("/sessions/{id}", get(sessions::get_one))
        .route(
            "/sessions/{id}/vitals",
            axum::routing::post(sessions::post_vitals),
        )
}
