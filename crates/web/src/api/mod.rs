//! The JSON API under `/api/v1`, and its OpenAPI 3 document generated from the handlers'
//! annotations, so the document cannot drift from the code.
//!
//! Wire types are DTOs of their own, converted by hand from domain and store types.

mod assessments;
pub(crate) mod health;
mod json;
mod patients;
mod pk;

use axum::Router;
use axum::response::IntoResponse;
use axum::routing::get;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

use crate::AppState;

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
        pk::simulate
    ),
    modifiers(&BearerScheme),
    tags(
        (name = "system", description = "Service status"),
        (name = "patients", description = "Patient demographics; clinical roles only"),
        (name = "assessments", description = "Rating scales: scoring, response and remission; clinical roles only"),
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
pub fn openapi_json() -> String {
    ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

async fn openapi() -> impl IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        openapi_json(),
    )
}

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi))
        .route("/patients", get(patients::list).post(patients::create))
        .route("/patients/{id}", get(patients::get_one))
        .route("/pk/simulate", axum::routing::post(pk::simulate))
        .route(
            "/patients/{id}/assessments",
            get(assessments::list).post(assessments::create),
        )
}
