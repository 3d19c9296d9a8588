//! Errors at the HTTP boundary: an HTML error page for the interface, a JSON body for the API.
//!
//! Internal failures are logged once, here, inside the request's span, and shown to people
//! as an opaque message; what went wrong stays in the log.

use askama::Template;
use axum::Json;
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;
use store::StoreError;

/// A failure while serving a page.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AppError {
    #[error("page not found")]
    NotFound,
    #[error("unknown rating scale")]
    UnknownInstrument,
    #[error("forbidden")]
    Forbidden,
    #[error("form expired")]
    CsrfRejected,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("template: {0}")]
    Render(#[from] askama::Error),
    /// A computation on the blocking pool panicked (a bug; Tokio logged the panic).
    #[error("a computation failed")]
    ComputationFailed,
    /// Writing an export (CSV) failed.
    #[error("export: {0}")]
    Export(String),
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    status: u16,
    title: &'static str,
    message: &'static str,
}

/// What an error page says, left on the response so [`with_navigation`] can draw it again
/// inside the site's layout once it knows who is asking.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PageError {
    status: StatusCode,
    title: &'static str,
    message: &'static str,
}

pub(crate) fn error_page(
    status: StatusCode,
    title: &'static str,
    message: &'static str,
) -> Response {
    let page = ErrorPage {
        status: status.as_u16(),
        title,
        message,
    };
    let mut res = match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => (status, title).into_response(),
    };
    res.extensions_mut().insert(PageError {
        status,
        title,
        message,
    });
    res
}

#[derive(Template)]
#[template(path = "error_in_layout.html")]
struct ErrorInLayout {
    ctx: crate::view::PageCtx,
    status: u16,
    title: &'static str,
    message: &'static str,
}

/// Draws "not found", "not available to your role" and the like inside the site's layout, with
/// the navigation and the sign-out button, so a wrong turn is not a dead end. Server errors keep
/// the bare page (drawing the layout needs the database, which may be what failed).
pub(crate) async fn with_navigation(
    axum::extract::State(state): axum::extract::State<crate::AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    use axum::extract::FromRequestParts;
    // The API answers errors in JSON: no copy of its request is needed, which keeps the
    // audited-read path free of it.
    if req.uri().path().starts_with("/api/") {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let mut copy = axum::http::Request::builder()
        .method(parts.method.clone())
        .uri(parts.uri.clone())
        .body(())
        .map(|r| r.into_parts().0)
        .ok();
    if let Some(copy) = copy.as_mut() {
        copy.headers = parts.headers.clone();
        copy.extensions = parts.extensions.clone();
    }
    let res = next
        .run(axum::extract::Request::from_parts(parts, body))
        .await;
    let Some(error) = res.extensions().get::<PageError>().copied() else {
        return res;
    };
    if error.status.is_server_error() {
        return res;
    }
    let Some(mut copy) = copy else { return res };
    let Ok(ctx) = crate::view::PageCtx::from_request_parts(&mut copy, &state).await else {
        return res;
    };
    let page = ErrorInLayout {
        ctx,
        status: error.status.as_u16(),
        title: error.title,
        message: error.message,
    };
    match page.render() {
        Ok(html) => {
            let mut out = (error.status, Html(html)).into_response();
            // Keep what the first answer set, such as a cookie removal.
            for (name, value) in res.headers() {
                if name != axum::http::header::CONTENT_TYPE
                    && name != axum::http::header::CONTENT_LENGTH
                {
                    out.headers_mut().append(name.clone(), value.clone());
                }
            }
            out
        }
        Err(_) => res,
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match self {
            AppError::NotFound | AppError::Store(StoreError::NotFound { .. }) => error_page(
                StatusCode::NOT_FOUND,
                "Page not found",
                "There is nothing at this address. Check the link, or go back to the start page.",
            ),
            AppError::UnknownInstrument => error_page(
                StatusCode::NOT_FOUND,
                "No such rating scale",
                "There is no rating scale by that name. Go back to the patient's page and choose one from the list.",
            ),
            AppError::Forbidden => error_page(
                StatusCode::FORBIDDEN,
                "Not available to your role",
                "Your account's role does not include this page. Ask an administrator if you need it.",
            ),
            AppError::CsrfRejected => error_page(
                StatusCode::FORBIDDEN,
                "The form has expired",
                "For your security the form could not be accepted. Go back, reload the page and send it again.",
            ),
            AppError::Store(e) => {
                tracing::error!(error = %e, "store failure");
                internal()
            }
            AppError::Render(e) => {
                tracing::error!(error = %e, "template failure");
                internal()
            }
            AppError::ComputationFailed => {
                tracing::error!("a computation on the blocking pool failed");
                internal()
            }
            AppError::Export(e) => {
                tracing::error!(error = %e, "export failure");
                internal()
            }
        }
    }
}

fn internal() -> Response {
    error_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        "The request could not be completed. Nothing you entered was lost from the record; try again in a moment.",
    )
}

/// Why a request body could not be read whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unread {
    /// Over the size the route accepts.
    TooLarge,
    /// Still arriving when the body-read timeout ([`crate::Limits::body_read_timeout`]) ran out.
    TooSlow,
    /// Cut off or malformed on the way (a broken chunk, a closed connection).
    Broken,
}

impl Unread {
    /// Tells the three apart by the error's chain of causes, as the body layers raise them.
    pub(crate) fn of(e: &(dyn std::error::Error + 'static)) -> Unread {
        let mut cause = Some(e);
        while let Some(c) = cause {
            if c.is::<http_body_util::LengthLimitError>() {
                return Unread::TooLarge;
            }
            if c.is::<tower_http::timeout::TimeoutError>() {
                return Unread::TooSlow;
            }
            cause = c.source();
        }
        Unread::Broken
    }
}

/// The fallback for unknown routes: JSON under `/api`, a page elsewhere.
pub(crate) async fn not_found(uri: Uri) -> Response {
    if uri.path().starts_with("/api/") {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no API route at {}", uri.path()),
        )
        .into_response()
    } else {
        AppError::NotFound.into_response()
    }
}

/// An API failure: `{"error":{"code":..,"message":..,"field":..}}`.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    field: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ErrorBody {
    error: ErrorDetail,
}

/// What went wrong, for programs (`code`), people (`message`) and forms (`field`).
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ErrorDetail {
    /// Stable machine-readable code such as `validation_failed`.
    code: &'static str,
    /// A sentence that says what is wrong and how to fix it.
    message: String,
    /// The request field at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<String>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
        }
    }

    pub(crate) fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub(crate) fn unauthenticated() -> Self {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "sign in or send a valid token as 'Authorization: Bearer <token>' (create one with `ketaflow token create`)",
        )
    }

    pub(crate) fn forbidden(needed: &str) -> Self {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("your role may not do this; it needs {needed}"),
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { entity } => ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("{entity} not found"),
            ),
            StoreError::Conflict { constraint } => ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                format!("the change conflicts with existing data ({constraint})"),
            ),
            other => {
                tracing::error!(error = %other, "store failure");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "the request could not be completed; try again",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
                field: self.field,
            },
        };
        (self.status, Json(body)).into_response()
    }
}
