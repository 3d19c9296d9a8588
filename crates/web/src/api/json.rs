//! Body and query extractors whose failures are API errors that name the problem.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, FailedToBufferBody, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, Unread};

/// A JSON body; malformed JSON is a 400 that quotes the parser, a body of the wrong shape a 400
/// whose `field` is the path to the value at fault (found by `serde_path_to_error`, not by
/// reading serde's message), a wrong content type a 415, a body over the limit a 413, one too
/// slow to arrive a 408.
pub(crate) struct ApiJson<T>(pub(crate) T);

fn is_json(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .is_some_and(|m| {
            m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
        })
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !is_json(req.headers()) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with the header 'Content-Type: application/json'",
            ));
        }
        let bytes = match Bytes::from_request(req, state).await {
            Ok(b) => b,
            Err(e) => return Err(unread(&e)),
        };
        // Every body of this API is an object; serde would also fill a struct from an array.
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                "the body must be a JSON object, such as {\"conditions\": []}",
            ));
        }
        // PostgreSQL's text cannot hold a NUL character, and no field of this API is meant to:
        // refused here for every body, at the value that holds it, before any handler runs.
        if let Some(field) = nul_at(&bytes) {
            let what = if field.is_empty() {
                "a key of the body"
            } else {
                &field
            };
            let err = ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                format!(
                    "{what} holds a NUL character (\\u0000), which pasted text can carry and no field accepts; remove it and send the body again"
                ),
            );
            return Err(if field.is_empty() {
                err
            } else {
                err.field(field)
            });
        }
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        let e = match serde_path_to_error::deserialize::<_, T>(&mut de) {
            // Anything after the value (`{} {}`) makes the body malformed.
            Ok(value) => {
                return match de.end() {
                    Ok(()) => Ok(ApiJson(value)),
                    Err(e) => Err(ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "malformed_json",
                        format!("the body is not valid JSON: {e}"),
                    )),
                };
            }
            Err(e) => e,
        };
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "malformed_json",
                format!("the body is not valid JSON: {inner}"),
            ));
        }
        let message = inner.to_string();
        let mut err = ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_body",
            format!("the JSON body does not have the expected fields: {message}"),
        );
        if let Some(field) = field_of(&path, &message) {
            err = err.field(field);
        }
        Err(err)
    }
}

/// The answer to a body that could not be read whole: over the limit (413), too slow to arrive
/// (408), or cut off or garbled on the way (400). Nothing was stored in any of them.
fn unread(e: &BytesRejection) -> ApiError {
    // axum has already told an over-limit body apart (its error arrives boxed twice, so the
    // chain of causes would not show it); the rest by their causes.
    let why = match e {
        BytesRejection::FailedToBufferBody(FailedToBufferBody::LengthLimitError(_)) => {
            Unread::TooLarge
        }
        _ => Unread::of(e),
    };
    match why {
        Unread::TooLarge => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "the body is larger than this server accepts (2 MB); send less at once",
        ),
        Unread::TooSlow => ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            "the body took too long to arrive; nothing was stored, so send the request again",
        ),
        Unread::Broken => ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!(
                "the body did not arrive whole ({}); nothing was stored, so send the request again",
                e.body_text()
            ),
        ),
    }
}

/// Where a well-formed body holds a NUL character in a string or a key: the path to that value
/// (`doses[0].note`), or to the object whose key holds it. `None` for a body without one, or one
/// that is not well-formed JSON (the parser then says what is wrong). A NUL can only be written
/// as the escape `\u0000` (a raw control character is not JSON), so bodies without those six
/// bytes are not parsed twice.
fn nul_at(bytes: &[u8]) -> Option<String> {
    if !bytes.windows(6).any(|w| w == br"\u0000") {
        return None;
    }
    // ok: a body that is not JSON is left to the parser below, which says what is wrong.
    let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    nul_in(&value, "")
}

fn nul_in(value: &serde_json::Value, path: &str) -> Option<String> {
    match value {
        serde_json::Value::String(s) => s.contains('\0').then(|| path.to_owned()),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| nul_in(v, &format!("{path}[{i}]"))),
        serde_json::Value::Object(map) => map.iter().find_map(|(k, v)| {
            if k.contains('\0') {
                return Some(path.to_owned());
            }
            let inner = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            nul_in(v, &inner)
        }),
        _ => None,
    }
}

/// The field a shape error is about: the path serde_path_to_error tracked, and for a missing
/// field the name serde reports (the path then points at the object that lacks it).
fn field_of(path: &str, message: &str) -> Option<String> {
    let path = if path == "." { "" } else { path };
    if let Some(rest) = message.strip_prefix("missing field `") {
        let name = rest.split('`').next()?;
        return Some(if path.is_empty() {
            name.to_owned()
        } else {
            format!("{path}.{name}")
        });
    }
    (!path.is_empty()).then(|| path.to_owned())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nul_character_is_found_at_its_value_and_only_there() {
        assert_eq!(nul_at(br#"{"a": 1, "b": "x"}"#), None);
        // An escaped backslash followed by "u0000" is text, not a NUL.
        assert_eq!(nul_at(br#"{"a": "C:\\u0000"}"#), None);
        assert_eq!(nul_at(br#"{"a": "x\u0000y"}"#).as_deref(), Some("a"));
        assert_eq!(
            nul_at(br#"{"doses": [{"n": 1}, {"note": "\u0000"}]}"#).as_deref(),
            Some("doses[1].note")
        );
        assert_eq!(nul_at(br#"{"p": {"k\u0000": 1}}"#).as_deref(), Some("p"));
        assert_eq!(nul_at(br#"{"k\u0000": 1}"#).as_deref(), Some(""));
        // Not JSON: left for the parser to name.
        assert_eq!(nul_at(br#"{"a": "\u0000"#), None);
    }

    #[test]
    fn shape_errors_name_the_path_and_missing_fields_their_name() {
        assert_eq!(field_of(".", "missing field `sex`").as_deref(), Some("sex"));
        assert_eq!(
            field_of("patient", "missing field `weight_kg`").as_deref(),
            Some("patient.weight_kg")
        );
        assert_eq!(
            field_of(
                "doses[0].amount_mg",
                "invalid type: string \"x\", expected f64"
            )
            .as_deref(),
            Some("doses[0].amount_mg")
        );
        assert_eq!(
            field_of(".", "invalid type: integer `3`, expected a map"),
            None
        );
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
