//! `POST /api/v1/pk/simulate`: the same scenario as `ketaflow simulate` (clinical roles).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use pk::PkError;

use super::json::ApiJson;
use crate::AppState;
use crate::capability::{Can, ClinicalData};
use crate::compute::{Unfinished, off_executor};
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
        (status = 413, description = "The body is larger than the server accepts", body = ErrorBody),
        (status = 408, description = "The body took too long to arrive; nothing was stored", body = ErrorBody),
        (status = 415, description = "The body is not sent as application/json", body = ErrorBody),
        (status = 422, description = "A value is out of range, a route the model cannot describe, a dose over the cap, more doses, depots, times or virtual patients than one simulation may hold; `field` names it", body = ErrorBody),
        (status = 503, description = "The simulation ran past the server's deadline and was stopped; ask for fewer virtual patients or times", body = ErrorBody)
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
    let deadline = state.config().limits.simulation_deadline;
    match off_executor(deadline, move |stop| scenario.run_until(stop)).await {
        Ok(Ok(out)) => Ok(Json(out)),
        Ok(Err(PkError::Stopped)) | Err(Unfinished::Deadline(_)) => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "simulation_timeout",
            format!(
                "the simulation took longer than the {} s this server allows and was stopped; ask for fewer virtual patients or times",
                deadline.as_secs_f64()
            ),
        )),
        Ok(Err(e)) => Err(invalid(e.field().to_owned(), e.to_string())),
        Err(Unfinished::Failed) => Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the simulation could not be completed; try again",
        )),
    }
}
