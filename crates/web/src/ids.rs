//! Record identifiers in URLs, parsed at the boundary: a path segment that is not an id of the
//! right shape names no record, so it is a "not found" before any handler or query runs.

use axum::extract::{FromRequestParts, OriginalUri, Path};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use store::{
    AlertId, ApiTokenId, AppointmentId, ChairId, CourseId, InquiryId, PatientId, SessionId, UserId,
};

use crate::error::{ApiError, AppError};

/// An identifier type that can appear as `{id}` in a route.
pub(crate) trait PathId: Sized {
    /// What the id names, for the API's "not found" message.
    const WHAT: &'static str;
    /// Parses the path segment.
    fn parse_segment(segment: &str) -> Option<Self>;
}

impl PathId for PatientId {
    const WHAT: &'static str = "patient";
    fn parse_segment(segment: &str) -> Option<Self> {
        PatientId::parse(segment)
    }
}

impl PathId for AlertId {
    const WHAT: &'static str = "alert";
    fn parse_segment(segment: &str) -> Option<Self> {
        AlertId::parse(segment)
    }
}

impl PathId for ApiTokenId {
    const WHAT: &'static str = "API token";
    fn parse_segment(segment: &str) -> Option<Self> {
        ApiTokenId::parse(segment)
    }
}

impl PathId for InquiryId {
    const WHAT: &'static str = "inquiry";
    fn parse_segment(segment: &str) -> Option<Self> {
        InquiryId::parse(segment)
    }
}

impl PathId for AppointmentId {
    const WHAT: &'static str = "appointment";
    fn parse_segment(segment: &str) -> Option<Self> {
        AppointmentId::parse(segment)
    }
}

impl PathId for ChairId {
    const WHAT: &'static str = "chair";
    fn parse_segment(segment: &str) -> Option<Self> {
        ChairId::parse(segment)
    }
}

impl PathId for CourseId {
    const WHAT: &'static str = "course";
    fn parse_segment(segment: &str) -> Option<Self> {
        CourseId::parse(segment)
    }
}

impl PathId for SessionId {
    const WHAT: &'static str = "session";
    fn parse_segment(segment: &str) -> Option<Self> {
        SessionId::parse(segment)
    }
}

impl PathId for UserId {
    const WHAT: &'static str = "user";
    fn parse_segment(segment: &str) -> Option<Self> {
        UserId::parse(segment)
    }
}

/// The route's `{id}`, parsed as a `T`.
pub(crate) struct IdPath<T>(pub(crate) T);

impl<S: Send + Sync, T: PathId> FromRequestParts<S> for IdPath<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let api = parts
            .extensions
            .get::<OriginalUri>()
            .map_or_else(|| parts.uri.path(), |o| o.0.path())
            .starts_with("/api/");
        let segment = Path::<String>::from_request_parts(parts, state)
            .await
            .ok()
            .map(|Path(s)| s);
        match segment.as_deref().and_then(T::parse_segment) {
            Some(id) => Ok(IdPath(id)),
            None if api => Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("{} not found", T::WHAT),
            )
            .into_response()),
            None => Err(AppError::NotFound.into_response()),
        }
    }
}
