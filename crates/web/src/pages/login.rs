//! Signing in and out.

use askama::Template;
use axum::Form;
use axum::extract::{Extension, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;
use store::{DEMO_PASSWORD, demo_accounts};

use crate::AppState;
use crate::auth::{Identity, SESSION_COOKIE, append_cookie, cookie};
use crate::capability::{Can, Staff};
use crate::display::safe_return;
use crate::error::AppError;
use crate::view::{PageCtx, render};

pub(crate) struct DemoAccountView {
    role: &'static str,
    email: &'static str,
}

#[derive(Template)]
#[template(path = "login.html")]
pub(crate) struct LoginPage {
    ctx: PageCtx,
    email: String,
    next: String,
    error: Option<String>,
    expired: bool,
    signed_out: bool,
    idle_minutes: i64,
    demo_password: &'static str,
    demo_accounts: Vec<DemoAccountView>,
}

impl LoginPage {
    fn new(ctx: PageCtx, state: &AppState) -> Self {
        LoginPage {
            idle_minutes: state.config().login.idle_timeout.as_mins(),
            demo_password: DEMO_PASSWORD,
            demo_accounts: demo_accounts()
                .into_iter()
                .map(|a| DemoAccountView {
                    role: a.role.label(),
                    email: a.email,
                })
                .collect(),
            ctx,
            email: String::new(),
            next: "/".into(),
            error: None,
            expired: false,
            signed_out: false,
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct LoginQuery {
    #[serde(default)]
    next: String,
    #[serde(default)]
    expired: Option<String>,
    #[serde(default)]
    signed_out: Option<String>,
}

pub(crate) async fn form(
    State(state): State<AppState>,
    Extension(identity): Extension<Identity>,
    ctx: PageCtx,
    Query(q): Query<LoginQuery>,
) -> Result<Response, AppError> {
    if identity.auth.is_some() {
        return Ok(Redirect::to(&safe_return(&q.next)).into_response());
    }
    let mut page = LoginPage::new(ctx, &state);
    page.next = safe_return(&q.next);
    page.expired = q.expired.is_some();
    page.signed_out = q.signed_out.is_some();
    Ok(render(&page)?.into_response())
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

pub(crate) async fn submit(
    State(state): State<AppState>,
    Extension(identity): Extension<Identity>,
    ctx: PageCtx,
    Form(form): Form<LoginForm>,
) -> Result<Response, AppError> {
    let settings = state.config().login;
    let outcome = state
        .store()
        .login_from(
            &form.email,
            &form.password,
            &settings,
            identity.address.as_deref(),
            jiff::Timestamp::now(),
        )
        .await?;
    match outcome {
        Ok(session) => {
            let mut res = Redirect::to(&safe_return(&form.next)).into_response();
            append_cookie(
                &mut res,
                &cookie(SESSION_COOKIE, session.token, identity.secure),
            );
            Ok(res)
        }
        Err(_) => {
            // One message whatever the reason, so it does not reveal which emails have accounts.
            let mut page = LoginPage::new(ctx, &state);
            page.email = form.email.trim().to_owned();
            page.next = safe_return(&form.next);
            page.error = Some(format!(
                "The email or password is not right. After {} failed attempts in a row an account is locked for {} minutes.",
                settings.max_failed_logins,
                settings.lockout.as_mins()
            ));
            Ok((StatusCode::UNAUTHORIZED, render(&page)?).into_response())
        }
    }
}

pub(crate) async fn logout(
    State(state): State<AppState>,
    Extension(identity): Extension<Identity>,
    jar: CookieJar,
) -> Result<Response, AppError> {
    if let Some(c) = jar.get(SESSION_COOKIE) {
        state
            .store()
            .logout(c.value(), jiff::Timestamp::now())
            .await?;
    }
    let mut res = Redirect::to("/login?signed_out=1").into_response();
    let mut gone = cookie(SESSION_COOKIE, String::new(), identity.secure);
    gone.make_removal();
    append_cookie(&mut res, &gone);
    Ok(res)
}

/// `GET /session/ping`: counts as activity, for the “stay signed in” button.
pub(crate) async fn ping(_who: Can<Staff>) -> StatusCode {
    StatusCode::NO_CONTENT
}
