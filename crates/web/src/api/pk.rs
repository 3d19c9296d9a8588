//! `POST /api/v1/pk/simulate`: the same scenario as `ketaflow simulate` (clinical roles).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use super::json::ApiJson;
use crate::AppState;
use crate::capability::{Can, ClinicalData};
use crate::error::{ApiError, ErrorBody};
use crate::scenario::{ScenarioInput, SimulationOutput};

#[utoipa::path(
    post,
    path = "/api/v1/pk/simulate",
    tag = "pharmacokinetics",
    request_body = ScenarioInput,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Concentrations at the requested times, with summary metrics and the model's provenance", body = SimulationOutput),
        (status = 400, description = "The body is not JSON of the expected shape", body = ErrorBody),
        (status = 401, description = "No valid token or session", body = ErrorBody),
        (status = 403, description = "The caller's role has no clinical access", body = ErrorBody),
        (status = 422, description = "A value is out of range, a route the model cannot describe, a dose over the cap; `field` names it", body = ErrorBody)
    )
)]
pub(crate) async fn simulate(
    _who: Can<ClinicalData>,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<ScenarioInput>,
) -> Result<Json<SimulationOutput>, ApiError> {
    let invalid = |field: String, message: String| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            message,
        )
        .field(field)
    };
    let scenario = body
        .validate(state.config().dose_caps)
        .map_err(|e| invalid(e.field, e.message))?;
    let out = scenario
        .run()
        .map_err(|e| invalid(e.field().to_owned(), e.to_string()))?;
    Ok(Json(out))
}
