//! `/api/v1/sessions`: treatment sessions as the chair side and devices see them (clinical roles
//! only). A monitor or a chair-side tablet posts vitals with an `Idempotency-Key`, so a retry
//! after a lost answer stores nothing twice.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use clinical::session::Vitals;
use serde::{Deserialize, Serialize};
use sha2::Digest;
use store::{IdempotencyKey, SessionAlert, SessionId, SessionRecord, SessionRefusal, VitalsRecord};
use utoipa::{IntoParams, ToSchema};

use super::invalid;
use super::json::{ApiJson, ApiQuery};
use crate::AppState;
use crate::capability::{Can, ClinicalData};
use crate::error::{ApiError, ErrorBody};
use crate::ids::IdPath;

/// The most observations one post may carry.
pub(crate) const MAX_OBSERVATIONS: usize = 100;
/// The longest Idempotency-Key accepted, characters.
pub(crate) const MAX_KEY_CHARS: usize = 200;

/// One set of vital signs.
#[derive(Serialize, ToSchema)]
pub(crate) struct Observation {
    id: String,
    /// RFC 3339 instant.
    taken_at: String,
    systolic_mmhg: Option<u16>,
    diastolic_mmhg: Option<u16>,
    heart_rate_bpm: Option<u16>,
    spo2_percent: Option<u16>,
    respiratory_rate_per_min: Option<u16>,
    /// `hand` (entered chair-side) or `device` (posted through the API).
    source: &'static str,
}

impl From<&VitalsRecord> for Observation {
    fn from(v: &VitalsRecord) -> Self {
        Observation {
            id: v.id.clone(),
            taken_at: v.taken_at.to_string(),
            systolic_mmhg: v.vitals.systolic_mmhg,
            diastolic_mmhg: v.vitals.diastolic_mmhg,
            heart_rate_bpm: v.vitals.heart_rate_bpm,
            spo2_percent: v.vitals.spo2_percent,
            respiratory_rate_per_min: v.vitals.respiratory_rate_per_min,
            source: v.source,
        }
    }
}

/// An alert a reading raised.
#[derive(Serialize, ToSchema)]
pub(crate) struct SessionAlertBody {
    id: String,
    /// `systolic_high`, `diastolic_high`, `systolic_rise`, `diastolic_rise`,
    /// `heart_rate_high`, `heart_rate_low`, `spo2_low` or `respiratory_rate_low`.
    kind: &'static str,
    /// What is wrong, in words.
    message: String,
    /// RFC 3339 instant.
    raised_at: String,
    /// The reading that raised it.
    observation_id: String,
    /// RFC 3339 instant; absent while open.
    acknowledged_at: Option<String>,
    /// The action recorded with the acknowledgement.
    action: Option<String>,
}

impl From<&SessionAlert> for SessionAlertBody {
    fn from(a: &SessionAlert) -> Self {
        SessionAlertBody {
            id: a.id.as_str().to_owned(),
            kind: a.kind.code(),
            message: a.message.clone(),
            raised_at: a.raised_at.to_string(),
            observation_id: a.vitals_id.clone(),
            acknowledged_at: a.acknowledged.as_ref().map(|(t, _, _)| t.to_string()),
            action: a.acknowledged.as_ref().map(|(_, _, act)| act.clone()),
        }
    }
}

/// A treatment session.
#[derive(Serialize, ToSchema)]
pub(crate) struct TreatmentSession {
    id: String,
    appointment_id: String,
    patient_id: String,
    patient_name: String,
    course_id: String,
    chair: String,
    /// Product code (`iv_racemic`, `esketamine_nasal`, ...).
    product: &'static str,
    /// `checked_in`, `pre_assessed`, `dose_verified`, `administering`, `paused`,
    /// `monitoring`, `discharged` or `locked`.
    status: &'static str,
    /// RFC 3339 instant.
    checked_in_at: String,
    dose_mg: Option<f64>,
    /// IV pump rate, mL/h.
    rate_ml_per_h: Option<f64>,
    /// RFC 3339 instant.
    started_at: Option<String>,
    /// RFC 3339 instant.
    ended_at: Option<String>,
    /// Why the session ended before any drug was given (it is then `discharged` or `locked`
    /// with no dose started): `vitals`, `pregnancy_test`, `no_escort`, `not_fasting`,
    /// `clinical_judgement`, `declined` or `other`. Absent otherwise.
    #[schema(value_type = Option<String>)]
    not_given: Option<&'static str>,
    /// When the next vital-sign check is due (RFC 3339), and what it is.
    next_check_at: Option<String>,
    next_check: Option<&'static str>,
    vitals: Vec<Observation>,
    alerts: Vec<SessionAlertBody>,
}

impl From<&SessionRecord> for TreatmentSession {
    fn from(s: &SessionRecord) -> Self {
        let due = s.next_check();
        TreatmentSession {
            id: s.id.as_str().to_owned(),
            appointment_id: s.appointment_id.as_str().to_owned(),
            patient_id: s.patient_id.as_str().to_owned(),
            patient_name: s.patient_name.clone(),
            course_id: s.course_id.as_str().to_owned(),
            chair: s.chair_name.clone(),
            product: s.product.code(),
            status: s.status.code(),
            checked_in_at: s.checked_in_at.to_string(),
            dose_mg: s.dose.as_ref().map(|d| d.dose_mg),
            rate_ml_per_h: s.dose.as_ref().and_then(|d| d.rate_ml_per_h),
            started_at: s.started_at.map(|t| t.to_string()),
            ended_at: s.ended_at.map(|t| t.to_string()),
            not_given: s.not_given.as_ref().map(|(r, _)| r.code()),
            next_check_at: due.map(|d| d.at.to_string()),
            next_check: due.map(|d| d.what),
            vitals: s.vitals.iter().map(Observation::from).collect(),
            alerts: s.alerts.iter().map(SessionAlertBody::from).collect(),
        }
    }
}

/// Sessions, newest first.
#[derive(Serialize, ToSchema)]
pub(crate) struct TreatmentSessionList {
    sessions: Vec<TreatmentSession>,
}

/// Which sessions.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SessionQuery {
    /// `active` (in the chair now) or `recent` (checked in during the last 7 days); `active`
    /// when absent.
    status: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/sessions",
    tag = "sessions",
    params(SessionQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Sessions, newest first, each with its open and closed alerts and its latest 5 vitals (the whole record at `/api/v1/sessions/{id}`)", body = TreatmentSessionList),
        (status = 400, description = "A query parameter is not of the expected shape", body = ErrorBody),
        (status = 401, description = "No valid token or session", body = ErrorBody),
        (status = 403, description = "The caller's role has no clinical access", body = ErrorBody),
        (status = 422, description = "`status` is neither `active` nor `recent`", body = ErrorBody)
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    who: Can<ClinicalData>,
    ApiQuery(q): ApiQuery<SessionQuery>,
) -> Result<Json<TreatmentSessionList>, ApiError> {
    let now = jiff::Timestamp::now();
    let active = match q.status.as_deref().map(str::trim) {
        None | Some("active") => true,
        Some("recent") => false,
        Some(other) => {
            return Err(invalid(
                "status",
                format!("'{other}' is not a status filter; use active or recent"),
            ));
        }
    };
    let since = now
        .checked_sub(jiff::SignedDuration::from_hours(24 * 7))
        .unwrap_or(now);
    let list = state
        .store()
        .sessions(&who.actor(), &who.user().site_id, active, since, now)
        .await?;
    Ok(Json(TreatmentSessionList {
        sessions: list.iter().map(TreatmentSession::from).collect(),
    }))
}

#[utoipa::path(
    get,
    path = "/api/v1/sessions/{id}",
    tag = "sessions",
    params(("id" = String, Path, description = "TreatmentSession id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The session with its vitals and alerts", body = TreatmentSession),
        (status = 401, description = "No valid token or session", body = ErrorBody),
        (status = 403, description = "The caller's role has no clinical access", body = ErrorBody),
        (status = 404, description = "No such session at the caller's site", body = ErrorBody)
    )
)]
pub(crate) async fn get_one(
    State(state): State<AppState>,
    who: Can<ClinicalData>,
    IdPath(id): IdPath<SessionId>,
) -> Result<Json<TreatmentSession>, ApiError> {
    let now = jiff::Timestamp::now();
    let s = state
        .store()
        .treatment_session(&who.actor(), &who.user().site_id, &id, now)
        .await?;
    Ok(Json(TreatmentSession::from(&s)))
}

/// One reading to store: `taken_at` and any of the measures (blood pressure as a pair).
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ObservationInput {
    /// RFC 3339 instant, at most 5 minutes ahead of the server's clock and at most 24 hours
    /// old.
    #[schema(example = "2026-12-01T15:10:00Z")]
    taken_at: String,
    #[serde(default, deserialize_with = "crate::api::json::whole::option")]
    #[schema(value_type = Option<i64>, example = 128)]
    systolic_mmhg: Option<u16>,
    #[serde(default, deserialize_with = "crate::api::json::whole::option")]
    #[schema(value_type = Option<i64>, example = 82)]
    diastolic_mmhg: Option<u16>,
    #[serde(default, deserialize_with = "crate::api::json::whole::option")]
    #[schema(value_type = Option<i64>, example = 76)]
    heart_rate_bpm: Option<u16>,
    #[serde(default, deserialize_with = "crate::api::json::whole::option")]
    #[schema(value_type = Option<i64>, example = 98)]
    spo2_percent: Option<u16>,
    #[serde(default, deserialize_with = "crate::api::json::whole::option")]
    #[schema(value_type = Option<i64>, example = 14)]
    respiratory_rate_per_min: Option<u16>,
}

/// Readings to store.
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewVitals {
    observations: Vec<ObservationInput>,
}

/// What a post stored and the alerts it raised.
#[derive(Serialize, ToSchema)]
pub(crate) struct VitalsStored {
    observations: Vec<Observation>,
    alerts: Vec<SessionAlertBody>,
}

fn refusal(r: SessionRefusal) -> ApiError {
    let message = r.to_string();
    match r {
        SessionRefusal::Locked => ApiError::new(StatusCode::CONFLICT, "session_locked", message),
        SessionRefusal::KeyReused => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            message,
        )
        .field("Idempotency-Key"),
        other => ApiError::new(StatusCode::CONFLICT, "conflict", other.to_string()),
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/sessions/{id}/vitals",
    tag = "sessions",
    params(
        ("id" = String, Path, description = "TreatmentSession id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Any text up to 200 characters, new for each set of readings; the same key with the same body again returns the first answer and stores nothing")
    ),
    request_body = NewVitals,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Stored (or stored before under this key), with the alerts raised", body = VitalsStored),
        (status = 400, description = "The body is not JSON of the expected shape", body = ErrorBody),
        (status = 401, description = "No valid token or session", body = ErrorBody),
        (status = 403, description = "The caller's role has no clinical access", body = ErrorBody),
        (status = 404, description = "No such session at the caller's site", body = ErrorBody),
        (status = 409, description = "`session_locked`: the session is signed and locked", body = ErrorBody),
        (status = 413, description = "The body is larger than the server accepts", body = ErrorBody),
        (status = 408, description = "The body took too long to arrive; nothing was stored", body = ErrorBody),
        (status = 415, description = "The body is not sent as application/json", body = ErrorBody),
        (status = 422, description = "An impossible reading (systolic not above diastolic, SpO2 over 100 ...) or a bad instant, named in `field` as `observations[i].name`; or `idempotency_key_reused`", body = ErrorBody)
    )
)]
pub(crate) async fn post_vitals(
    State(state): State<AppState>,
    who: Can<ClinicalData>,
    IdPath(id): IdPath<SessionId>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<NewVitals>,
) -> Result<Response, ApiError> {
    let now = jiff::Timestamp::now();
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(v) => {
            let text = v
                .to_str()
                .ok()
                .map(str::trim)
                .filter(|k| !k.is_empty() && k.chars().count() <= MAX_KEY_CHARS)
                .ok_or_else(|| {
                    invalid(
                        "Idempotency-Key",
                        format!(
                            "the Idempotency-Key must be 1 to {MAX_KEY_CHARS} visible ASCII characters"
                        ),
                    )
                })?;
            Some(text.to_owned())
        }
    };
    if body.observations.is_empty() || body.observations.len() > MAX_OBSERVATIONS {
        return Err(invalid(
            "observations",
            format!("send 1 to {MAX_OBSERVATIONS} observations"),
        ));
    }
    let earliest = now
        .checked_sub(jiff::SignedDuration::from_hours(24))
        .unwrap_or(now);
    let latest = now
        .checked_add(jiff::SignedDuration::from_mins(5))
        .unwrap_or(now);
    let mut readings = Vec::with_capacity(body.observations.len());
    for (i, o) in body.observations.iter().enumerate() {
        let taken_at: jiff::Timestamp = o.taken_at.parse().map_err(|_| {
            invalid(
                &format!("observations[{i}].taken_at"),
                format!(
                    "'{}' is not an RFC 3339 instant such as 2026-12-01T15:10:00Z",
                    o.taken_at
                ),
            )
        })?;
        if taken_at < earliest || taken_at > latest {
            return Err(invalid(
                &format!("observations[{i}].taken_at"),
                "taken_at must be within the last 24 hours and not more than 5 minutes ahead",
            ));
        }
        let v = Vitals {
            systolic_mmhg: o.systolic_mmhg,
            diastolic_mmhg: o.diastolic_mmhg,
            heart_rate_bpm: o.heart_rate_bpm,
            spo2_percent: o.spo2_percent,
            respiratory_rate_per_min: o.respiratory_rate_per_min,
        };
        if let Some(e) = v.check().into_iter().next() {
            return Err(invalid(
                &format!("observations[{i}].{}", e.field()),
                e.to_string(),
            ));
        }
        readings.push((taken_at, v));
    }
    // ok: a struct of strings and small numbers always serialises; the default is unreachable.
    let fingerprint = hex::encode(sha2::Sha256::digest(
        serde_json::to_vec(&body).unwrap_or_default(),
    ));
    let caller = who.user().id.as_str().to_owned();
    let idem = key.as_deref().map(|k| IdempotencyKey {
        caller: &caller,
        key: k,
        request: &fingerprint,
    });
    let out = state
        .store()
        .record_vitals(
            &who.actor(),
            &who.user().site_id,
            &id,
            &readings,
            "device",
            idem,
            &state.config().session_alerts,
            now,
        )
        .await?
        .map_err(refusal)?;
    let body = VitalsStored {
        observations: out.vitals.iter().map(Observation::from).collect(),
        alerts: out.alerts.iter().map(SessionAlertBody::from).collect(),
    };
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    if out.replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}
