//! `/api/v1/patients/{id}/assessments`: a patient's scored rating scales (clinical roles).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use clinical::instruments::recording::{Intent, RecordingRefusal};
use clinical::instruments::schedule::TimePoint;
use clinical::instruments::{InstrumentId, outcome, score};
use serde::{Deserialize, Serialize};
use store::{AssessmentRecord, EnteredBy, PatientId};
use utoipa::ToSchema;

use super::invalid;
use super::json::ApiJson;
use crate::AppState;
use crate::capability::{Can, ClinicalData};
use crate::error::{ApiError, ErrorBody};
use crate::ids::IdPath;

/// A stored assessment with its computed result.
#[derive(Serialize, ToSchema)]
pub(crate) struct Assessment {
    id: String,
    /// Instrument id, such as `phq9`.
    instrument: &'static str,
    /// `baseline`, `before_session`, `during_session`, `after_session_2h`, `after_24h`, `weekly`, `end_of_course`, `other`.
    time_point: &'static str,
    /// RFC 3339 instant it was taken.
    administered_at: String,
    /// Answers as given on the form.
    answers: Vec<i64>,
    total: i32,
    /// Severity band code, where the instrument has bands.
    severity: Option<String>,
    /// Flag codes, such as `suicidality_item`.
    flags: Vec<String>,
    scoring_version: String,
    /// `staff` or `patient`.
    entered_by: &'static str,
    /// Why a clinician recorded this baseline again, when it is a re-baseline.
    rebaseline_reason: Option<String>,
}

impl From<AssessmentRecord> for Assessment {
    fn from(r: AssessmentRecord) -> Self {
        Assessment {
            id: r.id.as_str().to_owned(),
            instrument: r.instrument.code(),
            time_point: r.time_point.code(),
            administered_at: r.administered_at.to_string(),
            answers: r.answers,
            total: r.total,
            severity: r.severity,
            flags: r.flags,
            scoring_version: r.scoring_version,
            entered_by: if r.entered_by_patient {
                "patient"
            } else {
                "staff"
            },
            rebaseline_reason: r.rebaseline_reason,
        }
    }
}

/// Where the patient stands on one instrument against the baseline.
#[derive(Serialize, ToSchema)]
pub(crate) struct Status {
    instrument: &'static str,
    baseline_total: i32,
    latest_total: i32,
    change: i32,
    /// `null` when the baseline is 0.
    percent_change: Option<f64>,
    /// `null` where no response rule is published for the instrument.
    response: Option<bool>,
    /// `null` where no remission rule is published.
    remission: Option<bool>,
}

/// A patient's assessments, oldest first, and the status per instrument.
#[derive(Serialize, ToSchema)]
pub(crate) struct AssessmentList {
    assessments: Vec<Assessment>,
    status: Vec<Status>,
}

/// Answers to score and store.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewAssessment {
    /// Instrument id.
    #[schema(example = "phq9")]
    instrument: String,
    /// The numbers beside the chosen options, in item order (EPDS: option positions 0–3).
    #[schema(example = json!([1, 2, 1, 1, 2, 1, 1, 1, 0]))]
    #[serde(deserialize_with = "crate::api::json::whole::list")]
    answers: Vec<i64>,
    /// Time point code.
    #[schema(example = "baseline")]
    time_point: String,
    /// RFC 3339 instant it was taken; now when absent.
    #[serde(default)]
    administered_at: Option<String>,
    /// Why a new baseline replaces the earlier one; required to record a second `baseline`.
    #[serde(default)]
    #[schema(max_length = 500, example = "restarting after a six-month break")]
    rebaseline_reason: Option<String>,
    /// `true` to keep answers identical to an assessment of the same instrument taken within
    /// ten minutes (otherwise refused with 409 `repeat_assessment`, as a likely double entry).
    #[serde(default)]
    confirm_repeat: bool,
}

/// The stored assessment and whether it needs same-day safety follow-up.
#[derive(Serialize, ToSchema)]
pub(crate) struct Recorded {
    assessment: Assessment,
    safety_follow_up_due: bool,
}

fn statuses(records: &[AssessmentRecord]) -> Vec<Status> {
    InstrumentId::ALL
        .into_iter()
        .filter_map(|id| {
            let baseline = store::baseline(records, id)?;
            let latest = records.iter().rev().find(|r| r.instrument == id)?;
            let o = outcome(id.instrument(), baseline.total, latest.total);
            Some(Status {
                instrument: id.code(),
                baseline_total: o.baseline,
                latest_total: o.current,
                change: o.change,
                percent_change: o.percent_change,
                response: o.response,
                remission: o.remission,
            })
        })
        .collect()
}

#[utoipa::path(
    get,
    path = "/api/v1/patients/{id}/assessments",
    tag = "assessments",
    params(("id" = String, Path, description = "Patient identifier")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Assessments oldest first, with response and remission status", body = AssessmentList),
        (status = 401, description = "No valid token or session", body = ErrorBody),
        (status = 403, description = "The caller's role has no clinical access", body = ErrorBody),
        (status = 404, description = "No such patient", body = ErrorBody)
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    who: Can<ClinicalData>,
    IdPath(id): IdPath<PatientId>,
) -> Result<Json<AssessmentList>, ApiError> {
    let now = jiff::Timestamp::now();
    let site = &who.user().site_id;
    // Reading the patient first gives a 404 for unknown ids and audits the access.
    state.store().patient(&who.actor(), site, &id, now).await?;
    let records = state
        .store()
        .assessments(&who.actor(), site, &id, now)
        .await?;
    Ok(Json(AssessmentList {
        status: statuses(&records),
        assessments: records.into_iter().map(Assessment::from).collect(),
    }))
}

#[utoipa::path(
    post,
    path = "/api/v1/patients/{id}/assessments",
    tag = "assessments",
    params(("id" = String, Path, description = "Patient identifier")),
    request_body = NewAssessment,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Scored and stored; a positive safety item also raised an alert", body = Recorded),
        (status = 400, description = "The body is not JSON of the expected shape", body = ErrorBody),
        (status = 413, description = "The body is larger than the server accepts", body = ErrorBody),
        (status = 408, description = "The body took too long to arrive; nothing was stored", body = ErrorBody),
        (status = 415, description = "The body is not sent as application/json", body = ErrorBody),
        (status = 401, description = "No valid token or session", body = ErrorBody),
        (status = 403, description = "The caller's role has no clinical access", body = ErrorBody),
        (status = 404, description = "No such patient", body = ErrorBody),
        (status = 409, description = "`baseline_exists`: the instrument has a baseline (give `rebaseline_reason` to record a new one); `repeat_assessment`: identical answers within ten minutes (send `confirm_repeat: true` to keep both)", body = ErrorBody),
        (status = 422, description = "Unknown instrument or time point, wrong answer count or range; `field` names it", body = ErrorBody)
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    who: Can<ClinicalData>,
    IdPath(id): IdPath<PatientId>,
    ApiJson(body): ApiJson<NewAssessment>,
) -> Result<(StatusCode, Json<Recorded>), ApiError> {
    let now = jiff::Timestamp::now();
    let instrument =
        InstrumentId::parse(&body.instrument).map_err(|e| invalid("instrument", e.to_string()))?;
    let time_point = TimePoint::parse(&body.time_point).ok_or_else(|| {
        let codes: Vec<_> = TimePoint::ALL.iter().map(|t| t.code()).collect();
        invalid(
            "time_point",
            format!(
                "'{}' is not a time point; use one of {}",
                body.time_point,
                codes.join(", ")
            ),
        )
    })?;
    let administered_at = match body.administered_at.as_deref() {
        None => now,
        Some(text) => {
            let at: jiff::Timestamp = text.parse().map_err(|_| {
                invalid(
                    "administered_at",
                    format!("'{text}' is not an RFC 3339 instant such as 2026-11-23T14:05:00Z"),
                )
            })?;
            if at > now + jiff::SignedDuration::from_mins(5) {
                return Err(invalid(
                    "administered_at",
                    format!("{at} is in the future; give the time the answers were given"),
                ));
            }
            at
        }
    };
    let s = score(instrument, &body.answers).map_err(|e| invalid("answers", e.to_string()))?;
    let intent = Intent {
        rebaseline_reason: body.rebaseline_reason.as_deref(),
        repeat_confirmed: body.confirm_repeat,
    };
    let record = state
        .store()
        .record_assessment(
            EnteredBy::Staff(&who.actor()),
            &who.user().site_id,
            &id,
            &s,
            time_point,
            administered_at,
            intent,
            now,
        )
        .await?
        .map_err(|refusal| {
            let (status, code, field) = match refusal {
                RecordingRefusal::BaselineExists { .. } => {
                    (StatusCode::CONFLICT, "baseline_exists", "time_point")
                }
                RecordingRefusal::Repeat { .. } => {
                    (StatusCode::CONFLICT, "repeat_assessment", "confirm_repeat")
                }
                RecordingRefusal::ReasonUnreadable => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation_failed",
                    "rebaseline_reason",
                ),
            };
            ApiError::new(status, code, refusal.to_string()).field(field)
        })?;
    Ok((
        StatusCode::CREATED,
        Json(Recorded {
            assessment: record.into(),
            safety_follow_up_due: s.safety_follow_up_due(),
        }),
    ))
}
