//! Cross-site request forgery protection for every state-changing form.
//!
//! Signed-in forms carry the login session's own token (synchroniser token); forms used before
//! sign-in carry the browser's `kf_pre` cookie value (double submit). The guard reads the
//! `csrf` field of the urlencoded body before any handler runs, so no form can forget it.
//! The JSON API is not covered here: it needs a bearer token or a `SameSite=Strict` cookie and a
//! JSON content type, which cross-site forms cannot send.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use crate::AppState;
use crate::auth::Identity;
use crate::error::AppError;

/// The largest form body accepted, in bytes.
const MAX_FORM_BYTES: usize = 256 * 1024;

/// The answer to a form whose body could not be read whole: too large, too slow to arrive
/// (the server's body-read timeout), or cut off or malformed on the way.
fn unread(e: &axum::Error) -> Response {
    let (status, title, message) = match crate::error::Unread::of(e) {
        crate::error::Unread::TooLarge => (
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            "The form is too large",
            "The form sent more than 256 KB. Shorten the text and send it again.",
        ),
        crate::error::Unread::TooSlow => (
            axum::http::StatusCode::REQUEST_TIMEOUT,
            "The form took too long to arrive",
            "The connection was too slow to send the form in time. Nothing was saved; send it again.",
        ),
        crate::error::Unread::Broken => (
            axum::http::StatusCode::BAD_REQUEST,
            "The form did not arrive whole",
            "The form was cut off or garbled on the way. Nothing was saved; send it again.",
        ),
    };
    crate::error::error_page(status, title, message)
}

pub(crate) async fn guard(State(_): State<AppState>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let Some(identity) = req.extensions().get::<Identity>().cloned() else {
        return AppError::CsrfRejected.into_response();
    };
    if identity.auth.is_none() && identity.session_ended {
        return Redirect::to("/login?expired=1").into_response();
    }
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_FORM_BYTES).await {
        Ok(bytes) => bytes,
        Err(e) => return unread(&e),
    };
    // One pass over the fields: the form's token, and whether any field holds a NUL byte.
    let mut sent = None;
    let mut nul = false;
    for (k, v) in form_urlencoded::parse(&bytes) {
        nul |= k.contains('\0') || v.contains('\0');
        if sent.is_none() && k == "csrf" {
            sent = Some(v);
        }
    }
    // A form without a token is refused like one with a wrong token.
    let matches = sent
        .is_some_and(|sent| constant_time_eq(sent.as_bytes(), identity.form_token().as_bytes()));
    if !matches {
        tracing::warn!("form rejected: missing or wrong csrf token");
        return AppError::CsrfRejected.into_response();
    }
    // No field of any form is meant to hold a NUL byte, and PostgreSQL's text cannot store
    // one: a form with one is refused before its page's handler, whatever the field (pages
    // with their own check for control characters name the field for the others).
    if nul {
        return crate::error::error_page(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "The form holds an invisible character",
            "A field holds a NUL character, which pasted text can carry. Go back, type that text again and send the form.",
        );
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
