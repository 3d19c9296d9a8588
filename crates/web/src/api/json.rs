//! Body and query extractors whose failures are API errors that name the problem.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A JSON body; malformed JSON is a 400 that quotes the parser, a wrong content type a 415.
pub(crate) struct ApiJson<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(JsonRejection::JsonSyntaxError(e)) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "malformed_json",
                format!(
                    "the body is not valid JSON: {}",
                    source_text(&e.body_text())
                ),
            )),
            Err(JsonRejection::JsonDataError(e)) => {
                let text = source_text(&e.body_text());
                let mut err = ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_body",
                    format!("the JSON body does not have the expected fields: {text}"),
                );
                if let Some(field) = named_field(&text) {
                    err = err.field(field);
                }
                Err(err)
            }
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with the header 'Content-Type: application/json'",
            )),
            Err(other) if other.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "the body is larger than this server accepts (2 MB); send less at once",
            )),
            Err(other) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                format!("the body could not be read: {}", other.body_text()),
            )),
        }
    }
}

/// Query parameters; a bad one is a 400 naming it.
pub(crate) struct ApiQuery<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| ApiQuery(v))
            .map_err(|e: QueryRejection| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_query",
                    format!(
                        "a query parameter is not valid: {}",
                        source_text(&e.body_text())
                    ),
                )
            })
    }
}

/// The parser's own words, without axum's preamble.
fn source_text(text: &str) -> String {
    text.split_once(": ")
        .map_or(text, |(_, rest)| rest)
        .to_owned()
}

/// The field a serde message names (`missing field `x``, `unknown field `x``, or a path `x: ...`).
fn named_field(text: &str) -> Option<String> {
    for marker in ["missing field `", "unknown field `"] {
        if let Some(rest) = text.split_once(marker).map(|(_, r)| r) {
            return rest.split('`').next().map(str::to_owned);
        }
    }
    let (path, _) = text.split_once(": ")?;
    (!path.contains(' ')).then(|| path.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_are_found_in_serde_messages() {
        assert_eq!(
            named_field("missing field `sex` at line 1 column 20").as_deref(),
            Some("sex")
        );
        assert_eq!(
            named_field("unknown field `diagnosis`, expected one of ...").as_deref(),
            Some("diagnosis")
        );
        assert_eq!(
            named_field("given_name: invalid type: integer `3`").as_deref(),
            Some("given_name")
        );
        assert_eq!(named_field("expected value at line 1 column 1"), None);
    }
}

/// Whole numbers in JSON bodies, accepting the integral floats (`2.0`) that JSON Schema counts
/// as integers, so a body valid by the published schema is never refused for its spelling.
pub(crate) mod whole {
    use serde::Deserialize;
    use serde::de::{Deserializer, Error};

    fn to_i128<E: Error>(n: &serde_json::Number) -> Result<i128, E> {
        if let Some(i) = n.as_i64() {
            return Ok(i128::from(i));
        }
        if let Some(u) = n.as_u64() {
            return Ok(i128::from(u));
        }
        match n.as_f64() {
            // Exactly integral and within ±2^63 (beyond which no field here is meaningful).
            Some(f) if f.fract() == 0.0 && f.abs() < 9.2e18 => Ok(f as i128),
            _ => Err(E::custom(format!("{n} is not a whole number"))),
        }
    }

    fn narrow<T: TryFrom<i128>, E: Error>(n: &serde_json::Number) -> Result<T, E> {
        let wide = to_i128::<E>(n)?;
        T::try_from(wide).map_err(|_| E::custom(format!("{n} is out of range")))
    }

    /// An optional whole number of type `T`.
    pub(crate) fn option<'de, D: Deserializer<'de>, T: TryFrom<i128>>(
        d: D,
    ) -> Result<Option<T>, D::Error> {
        Option::<serde_json::Number>::deserialize(d)?
            .map(|n| narrow(&n))
            .transpose()
    }

    /// A list of whole numbers.
    pub(crate) fn list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<i64>, D::Error> {
        Vec::<serde_json::Number>::deserialize(d)?
            .iter()
            .map(narrow)
            .collect()
    }
}
