//! Who a request comes from: a bearer token, a session cookie, or nobody yet.
//!
//! The [`identify`] layer resolves the caller once per request and leaves an [`Identity`] in the
//! request's extensions for the capability extractors, the CSRF guard and the pages.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use store::{Authenticated, TokenCheck};

use crate::AppState;
use crate::error::AppError;

/// The session cookie: a random token whose hash names a row in `login_sessions`.
pub(crate) const SESSION_COOKIE: &str = "kf_session";
/// A random per-browser value that protects forms used before sign-in (double-submit).
pub(crate) const PRE_SESSION_COOKIE: &str = "kf_pre";

/// The caller of one request.
#[derive(Debug, Clone)]
pub(crate) struct Identity {
    /// The signed-in user, if any.
    pub(crate) auth: Option<Authenticated>,
    /// A session cookie came, but its session has ended (inactivity, sign-out elsewhere).
    pub(crate) session_ended: bool,
    /// The pre-session form token of this browser.
    pub(crate) pre_token: String,
    /// Whether the request reached us over TLS, so cookies must be `Secure`.
    pub(crate) secure: bool,
    /// The peer's IP address, as the server saw the connection (behind a reverse proxy, the
    /// proxy's), for the audit trail's "from where".
    pub(crate) address: Option<String>,
}

impl Identity {
    /// The token forms of this request must carry.
    pub(crate) fn form_token(&self) -> &str {
        self.auth
            .as_ref()
            .and_then(|a| a.csrf_token.as_deref())
            .unwrap_or(&self.pre_token)
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

fn over_tls(state: &AppState, headers: &HeaderMap) -> bool {
    state.config().secure_cookies
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// Builds a cookie with the flags every Ketaflow cookie has.
pub(crate) fn cookie(name: &'static str, value: String, secure: bool) -> Cookie<'static> {
    Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .build()
}

/// Resolves the caller and records it as an [`Identity`] extension.
pub(crate) async fn identify(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let now = jiff::Timestamp::now();
    let login = state.config().login;
    let jar = CookieJar::from_headers(req.headers());
    let secure = over_tls(&state, req.headers());
    let mut auth = None;
    let mut session_ended = false;
    let token = bearer(req.headers());
    let sent_bearer = token.is_some();
    if let Some(token) = token {
        // Made-up tokens are never trusted, so each would be a query: an address may have only
        // so many looked up per minute (a token it used in the last seconds is not looked up).
        let key = crate::throttle::PeerAddress::key(&req);
        let may_look_up = || crate::throttle::take(state.token_throttle(), key);
        match state
            .store()
            .check_token(token, &login, now, may_look_up)
            .await
        {
            Ok(TokenCheck::Valid(user)) => {
                auth = Some(Authenticated {
                    user,
                    csrf_token: None,
                })
            }
            Ok(TokenCheck::Invalid) => {}
            Ok(TokenCheck::NotLookedUp(seconds)) => return too_many_token_checks(seconds),
            Err(e) => return AppError::Store(e).into_response(),
        }
    } else if let Some(c) = jar.get(SESSION_COOKIE) {
        match state.store().session(c.value(), &login, now).await {
            Ok(Some(a)) => auth = Some(a),
            Ok(None) => session_ended = true,
            Err(e) => return AppError::Store(e).into_response(),
        }
    }
    let existing = jar
        .get(PRE_SESSION_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()));
    // An API client (a bearer token) fills in no forms: it gets no form cookie.
    let new_pre = existing.is_none() && !sent_bearer;
    let pre_token = existing.unwrap_or_else(random_token);
    let address = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    req.extensions_mut().insert(Identity {
        auth,
        session_ended,
        pre_token: pre_token.clone(),
        secure,
        address,
    });

    let mut res = next.run(req).await;
    if new_pre {
        append_cookie(&mut res, &cookie(PRE_SESSION_COOKIE, pre_token, secure));
    }
    // Forget a dead session cookie, unless the handler has just set a fresh one (sign-in).
    let handler_set_session = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|v| v.as_bytes().starts_with(SESSION_COOKIE.as_bytes()));
    if session_ended && !handler_set_session {
        let mut gone = cookie(SESSION_COOKIE, String::new(), secure);
        gone.make_removal();
        append_cookie(&mut res, &gone);
    }
    res
}

/// The answer to an address that has had too many bearer tokens looked up: 429, in the API's
/// error shape, with `Retry-After`.
fn too_many_token_checks(seconds: u64) -> Response {
    let mut res = crate::error::ApiError::new(
        axum::http::StatusCode::TOO_MANY_REQUESTS,
        "too_many_requests",
        format!(
            "too many unrecognised bearer tokens came from your address; wait {seconds} s, then send a valid token"
        ),
    )
    .into_response();
    if let Ok(v) = HeaderValue::from_str(&seconds.to_string()) {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}

pub(crate) fn append_cookie(res: &mut Response, c: &Cookie<'_>) {
    if let Ok(v) = HeaderValue::from_str(&c.encoded().to_string()) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// 256 random bits, hex-encoded.
pub(crate) fn random_token() -> String {
    use rand::RngCore;
    let mut buf = [0u8; 32];
    rand::rng().fill_bytes(&mut buf);
    hex::encode(buf)
}
