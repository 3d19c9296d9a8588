//! The signed-in person's own account: details and API tokens.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

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
    revoked: bool,
}

#[derive(Template)]
#[template(path = "account/index.html")]
pub(crate) struct AccountPage {
    ctx: PageCtx,
    name: String,
    email: String,
    role: &'static str,
    tokens: Vec<TokenRow>,
    new_secret: Option<String>,
}

async fn account_page(
    state: &AppState,
    who: &Can<Staff>,
    ctx: PageCtx,
    new_secret: Option<String>,
) -> Result<Html<String>, AppError> {
    let user = who.user();
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
    })
}

pub(crate) async fn page(
    State(state): State<AppState>,
    who: Can<Staff>,
    ctx: PageCtx,
) -> Result<Html<String>, AppError> {
    account_page(&state, &who, ctx, None).await
}

#[derive(Deserialize)]
pub(crate) struct TokenForm {
    #[serde(default)]
    label: String,
}

pub(crate) async fn create_token(
    State(state): State<AppState>,
    who: Can<Staff>,
    ctx: PageCtx,
    Form(form): Form<TokenForm>,
) -> Result<Html<String>, AppError> {
    let label: String = form.label.trim().chars().take(100).collect();
    let (_, secret) = state
        .store()
        .create_api_token(&who.actor(), &who.user().id, &label, jiff::Timestamp::now())
        .await?;
    account_page(&state, &who, ctx, Some(secret)).await
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
