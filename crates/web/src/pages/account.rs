//! The signed-in person's own account: details and API tokens.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use store::PasswordHash;

use super::{FormErrors, sentence};

use crate::AppState;
use crate::capability::{Can, Staff};
use crate::error::AppError;
use crate::ids::IdPath;
use crate::view::{PageCtx, render};

pub(crate) struct TokenRow {
    id: String,
    label: String,
    created: String,
    last_used: String,
    expires: String,
    revoked: bool,
    expired: bool,
}

/// The expiries a new token may be given, in days (`0`: until revoked).
const EXPIRY_CHOICES: [(u32, &str); 6] = [
    (0, "never (until revoked)"),
    (1, "after 1 day"),
    (7, "after 7 days"),
    (30, "after 30 days"),
    (90, "after 90 days"),
    (365, "after a year"),
];

#[derive(Template)]
#[template(path = "account/index.html")]
pub(crate) struct AccountPage {
    ctx: PageCtx,
    name: String,
    email: String,
    role: &'static str,
    tokens: Vec<TokenRow>,
    new_secret: Option<String>,
    expiries: &'static [(u32, &'static str)],
    error: Option<String>,
}

async fn account_page(
    state: &AppState,
    who: &Can<Staff>,
    ctx: PageCtx,
    new_secret: Option<String>,
    error: Option<String>,
) -> Result<Html<String>, AppError> {
    let user = who.user();
    let now = jiff::Timestamp::now();
    let tokens = state
        .store()
        .api_tokens(&user.id)
        .await?
        .into_iter()
        .map(|t| TokenRow {
            created: ctx.time(t.created_at),
            last_used: t
                .last_used_at
                .map_or_else(|| "never".to_owned(), |at| ctx.time(at)),
            revoked: t.revoked_at.is_some(),
            expired: t.expires_at.is_some_and(|e| e <= now),
            expires: t
                .expires_at
                .map_or_else(|| "never".to_owned(), |at| ctx.time(at)),
            id: t.id.as_str().to_owned(),
            label: t.label,
        })
        .collect();
    render(&AccountPage {
        ctx,
        name: user.display_name.clone(),
        email: user.email.clone(),
        role: user.role.label(),
        tokens,
        new_secret,
        expiries: &EXPIRY_CHOICES,
        error,
    })
}

pub(crate) async fn page(
    State(state): State<AppState>,
    who: Can<Staff>,
    ctx: PageCtx,
) -> Result<Html<String>, AppError> {
    account_page(&state, &who, ctx, None, None).await
}

#[derive(Deserialize)]
pub(crate) struct TokenForm {
    #[serde(default)]
    label: String,
    /// Days until the token expires, one of [`EXPIRY_CHOICES`]; blank for never.
    #[serde(default)]
    expires_in_days: String,
}

pub(crate) async fn create_token(
    State(state): State<AppState>,
    who: Can<Staff>,
    ctx: PageCtx,
    Form(form): Form<TokenForm>,
) -> Result<Response, AppError> {
    let label: String = form.label.trim().chars().take(100).collect();
    let now = jiff::Timestamp::now();
    let days = match form.expires_in_days.trim() {
        "" => Some(0),
        typed => typed
            .parse::<u32>()
            .ok()
            .filter(|d| EXPIRY_CHOICES.iter().any(|(c, _)| c == d)),
    };
    let expires_at = match days {
        Some(0) => Ok(None),
        Some(d) => now
            .checked_add(jiff::SignedDuration::from_hours(24 * i64::from(d)))
            .map(Some)
            .map_err(|_| ()),
        None => Err(()),
    };
    let Ok(expires_at) = expires_at else {
        let page = account_page(
            &state,
            &who,
            ctx,
            None,
            Some("Choose when the token expires from the list.".into()),
        )
        .await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    };
    let (_, secret) = state
        .store()
        .create_api_token_expiring(&who.actor(), &who.user().id, &label, expires_at, now)
        .await?;
    Ok(account_page(&state, &who, ctx, Some(secret), None)
        .await?
        .into_response())
}

pub(crate) async fn revoke_token(
    State(state): State<AppState>,
    who: Can<Staff>,
    IdPath(id): IdPath<store::ApiTokenId>,
) -> Result<Response, AppError> {
    state
        .store()
        .revoke_api_token(&who.actor(), &who.user().id, &id, jiff::Timestamp::now())
        .await?;
    Ok(Redirect::to("/account").into_response())
}

#[derive(Template)]
#[template(path = "account/password.html")]
pub(crate) struct PasswordPage {
    ctx: PageCtx,
    required: bool,
    errors: FormErrors,
    changed: bool,
}

#[derive(Deserialize)]
pub(crate) struct PasswordQuery {
    changed: Option<String>,
}

/// `GET /account/password`: choose a new password (demanded after an administrator reset it).
pub(crate) async fn password_form(
    who: Can<Staff>,
    ctx: PageCtx,
    axum::extract::Query(q): axum::extract::Query<PasswordQuery>,
) -> Result<Html<String>, AppError> {
    render(&PasswordPage {
        ctx,
        required: who.user().must_change_password,
        errors: FormErrors::default(),
        changed: q.changed.is_some(),
    })
}

#[derive(Deserialize)]
pub(crate) struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

/// `POST /account/password`: checks the current password, then stores the new one.
pub(crate) async fn password_save(
    State(state): State<AppState>,
    who: Can<Staff>,
    ctx: PageCtx,
    Form(mut form): Form<PasswordForm>,
) -> Result<Response, AppError> {
    let mut errors = FormErrors::default();
    let current = std::mem::take(&mut form.current_password);
    if current.is_empty() {
        errors.push(
            "current_password",
            "Enter your current password (after a reset: the one the administrator gave you).",
        );
    } else {
        let sign_in = state.config().login;
        let said = state
            .store()
            .confirm_password(
                &who.actor(),
                who.user(),
                &current,
                "password-change",
                &sign_in,
                jiff::Timestamp::now(),
            )
            .await?;
        match said {
            store::Confirmation::Right => {}
            store::Confirmation::Wrong => errors.push(
                "current_password",
                format!(
                    "The current password is not right. Type it again. After {} wrong passwords in a row, here or at sign-in, the account is locked for {} minutes.",
                    sign_in.max_failed_logins,
                    sign_in.lockout.as_mins()
                ),
            ),
            store::Confirmation::Locked { until } => errors.push(
                "current_password",
                format!(
                    "Your account is locked after too many wrong passwords, until {}. Try again then, or ask the administrator to unlock it.",
                    ctx.time(until)
                ),
            ),
        }
    }
    if form.new_password != form.confirm_password {
        errors.push(
            "confirm_password",
            "The two new passwords differ. Type the same password in both fields.",
        );
    } else if !current.is_empty() && form.new_password == current {
        errors.push(
            "new_password",
            "The new password is the current one. Choose a different password.",
        );
    }
    let new = std::mem::take(&mut form.new_password);
    let hashed = tokio::task::spawn_blocking(move || PasswordHash::new(&new)).await;
    let hash = match hashed {
        Ok(Ok(hash)) => Some(hash),
        Ok(Err(e)) => {
            errors.push("new_password", sentence(&e.to_string()));
            None
        }
        Err(_) => {
            errors.push(
                "new_password",
                "The password could not be processed; try again.",
            );
            None
        }
    };
    match hash {
        Some(hash) if errors.is_empty() => {
            state
                .store()
                .set_own_password(who.user(), &hash, jiff::Timestamp::now())
                .await?;
            Ok(Redirect::to("/account/password?changed=1").into_response())
        }
        _ => {
            let page = PasswordPage {
                ctx,
                required: who.user().must_change_password,
                errors,
                changed: false,
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
    }
}
