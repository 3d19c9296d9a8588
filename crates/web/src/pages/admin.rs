//! Administration: staff accounts and the audit trail.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use clinical::patient::{Email, PersonName};
use serde::Deserialize;
use store::{AccountChange, AuditOutcome, PasswordHash, Role, StoreError, User, UserId};

use super::{FormErrors, sentence};
use crate::AppState;
use crate::capability::{Administration, Can};
use crate::display::Choice;
use crate::error::AppError;
use crate::ids::IdPath;
use crate::view::{PageCtx, render};

pub(crate) struct UserRow {
    id: String,
    name: String,
    email: String,
    role: &'static str,
    created: String,
    status: String,
}

/// An account's state in words: switched off, locked until when, waiting for a new password.
fn account_status(u: &User, ctx: &PageCtx, now: jiff::Timestamp) -> String {
    let mut parts = Vec::new();
    if u.disabled {
        parts.push("Switched off".to_owned());
    } else {
        parts.push("Active".to_owned());
    }
    if let Some(until) = u.locked_at(now) {
        parts.push(format!("Locked until {}", ctx.time(until)));
    }
    if u.must_change_password {
        parts.push("Must choose a new password".to_owned());
    }
    parts.join("; ")
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct UserForm {
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
pub(crate) struct UsersPage {
    ctx: PageCtx,
    users: Vec<UserRow>,
    form: UserForm,
    errors: FormErrors,
    roles: Vec<Choice>,
    created: Option<String>,
}

fn role_choices(selected: &str) -> Vec<Choice> {
    Role::ALL
        .into_iter()
        .map(|r| Choice {
            value: r.code(),
            label: r.label(),
            selected: r.code() == selected,
        })
        .collect()
}

async fn users_page(
    state: &AppState,
    admin: &User,
    ctx: PageCtx,
    form: UserForm,
    errors: FormErrors,
    created: Option<String>,
) -> Result<UsersPage, AppError> {
    let now = jiff::Timestamp::now();
    let users = state
        .store()
        .users(&admin.site_id)
        .await?
        .into_iter()
        .map(|u| UserRow {
            created: ctx.time(u.created_at),
            status: account_status(&u, &ctx, now),
            id: u.id.as_str().to_owned(),
            name: u.display_name,
            email: u.email,
            role: u.role.label(),
        })
        .collect();
    let roles = role_choices(&form.role);
    Ok(UsersPage {
        ctx,
        users,
        form,
        errors,
        roles,
        created,
    })
}

pub(crate) async fn users(
    State(state): State<AppState>,
    who: Can<Administration>,
    ctx: PageCtx,
) -> Result<Html<String>, AppError> {
    let page = users_page(
        &state,
        who.user(),
        ctx,
        UserForm::default(),
        FormErrors::default(),
        None,
    )
    .await?;
    render(&page)
}

pub(crate) async fn add_user(
    State(state): State<AppState>,
    who: Can<Administration>,
    ctx: PageCtx,
    Form(mut form): Form<UserForm>,
) -> Result<Response, AppError> {
    let mut errors = FormErrors::default();
    let name = if form.display_name.trim().is_empty() {
        errors.push("display_name", "Enter the person's name.");
        None
    } else {
        PersonName::parse("display_name", &form.display_name)
            .map_err(|e| errors.push("display_name", sentence(&e.to_string())))
            .ok()
    };
    let email = Email::parse(&form.email)
        .map_err(|e| errors.push("email", sentence(&e.to_string())))
        .ok();
    let role = Role::parse(&form.role);
    if role.is_none() {
        errors.push("role", "Choose a role from the list.");
    }
    // argon2 is deliberately slow: hash on the blocking pool, not on the threads serving pages.
    let password = std::mem::take(&mut form.password);
    let hashed = tokio::task::spawn_blocking(move || PasswordHash::new(&password)).await;
    let hash = match hashed {
        Ok(Ok(hash)) => Some(hash),
        Ok(Err(e)) => {
            errors.push("password", sentence(&e.to_string()));
            None
        }
        Err(_) => {
            errors.push(
                "password",
                "The password could not be processed; try again.",
            );
            None
        }
    };
    if let (Some(name), Some(email), Some(role), Some(hash)) = (name, email, role, hash) {
        let result = state
            .store()
            .create_user(
                &who.actor(),
                &who.user().site_id,
                store::NewUser {
                    email: &email,
                    display_name: name.as_str(),
                    role,
                    password: &hash,
                },
                jiff::Timestamp::now(),
            )
            .await;
        match result {
            Ok(user) => {
                let page = users_page(
                    &state,
                    who.user(),
                    ctx,
                    UserForm::default(),
                    errors,
                    Some(user.email),
                )
                .await?;
                return Ok(render(&page)?.into_response());
            }
            Err(StoreError::Conflict { .. }) => {
                errors.push(
                    "email",
                    "An account with this email already exists. Use another address.",
                );
            }
            Err(e) => return Err(e.into()),
        }
    }
    let page = users_page(&state, who.user(), ctx, form, errors, None).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
}

#[derive(Template)]
#[template(path = "admin/account.html")]
pub(crate) struct AccountPage {
    ctx: PageCtx,
    id: String,
    name: String,
    email: String,
    role: &'static str,
    status: String,
    disabled: bool,
    locked: bool,
    own: bool,
    roles: Vec<Choice>,
    done: Option<&'static str>,
    errors: FormErrors,
}

#[derive(Deserialize)]
pub(crate) struct AccountQuery {
    done: Option<String>,
}

fn done_message(code: &str) -> Option<&'static str> {
    Some(match code {
        "role" => "The role is changed. It applies from the person's next page.",
        "disable" => "The account is switched off and its sessions have ended.",
        "enable" => "The account is switched on again.",
        "unlock" => "The account is unlocked; the person can sign in again.",
        "password" => {
            "The password is reset. Give the temporary password to the person by a separate channel; they choose a new one when they sign in."
        }
        _ => return None,
    })
}

async fn account_page(
    state: &AppState,
    admin: &User,
    ctx: PageCtx,
    id: &UserId,
    done: Option<&'static str>,
    errors: FormErrors,
) -> Result<AccountPage, AppError> {
    let u = state.store().site_user(&admin.site_id, id).await?;
    let now = jiff::Timestamp::now();
    Ok(AccountPage {
        status: account_status(&u, &ctx, now),
        locked: u.locked_at(now).is_some(),
        own: u.id == admin.id,
        roles: role_choices(u.role.code()),
        disabled: u.disabled,
        id: u.id.as_str().to_owned(),
        name: u.display_name,
        email: u.email,
        role: u.role.label(),
        ctx,
        done,
        errors,
    })
}

/// `GET /admin/users/{id}`: one account and what an administrator can do with it.
pub(crate) async fn account(
    State(state): State<AppState>,
    who: Can<Administration>,
    ctx: PageCtx,
    IdPath(id): IdPath<UserId>,
    Query(q): Query<AccountQuery>,
) -> Result<Html<String>, AppError> {
    let done = q.done.as_deref().and_then(done_message);
    render(&account_page(&state, who.user(), ctx, &id, done, FormErrors::default()).await?)
}

/// Applies a change, then shows the account again with what happened, or with the refusal at
/// the field it concerns.
async fn apply(
    state: &AppState,
    who: &Can<Administration>,
    ctx: PageCtx,
    id: &UserId,
    change: AccountChange<'_>,
    done: &str,
    field: &str,
) -> Result<Response, AppError> {
    match state
        .store()
        .change_account(who.user(), id, change, jiff::Timestamp::now())
        .await?
    {
        Ok(_) => Ok(Redirect::to(&format!("/admin/users/{id}?done={done}")).into_response()),
        Err(refusal) => {
            let mut errors = FormErrors::default();
            errors.push(field, sentence(&refusal.to_string()));
            let page = account_page(state, who.user(), ctx, id, None, errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct RoleForm {
    #[serde(default)]
    role: String,
}

/// `POST /admin/users/{id}/role`.
pub(crate) async fn change_role(
    State(state): State<AppState>,
    who: Can<Administration>,
    ctx: PageCtx,
    IdPath(id): IdPath<UserId>,
    Form(form): Form<RoleForm>,
) -> Result<Response, AppError> {
    let Some(role) = Role::parse(&form.role) else {
        let mut errors = FormErrors::default();
        errors.push("role", "Choose a role from the list.");
        let page = account_page(&state, who.user(), ctx, &id, None, errors).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
    };
    apply(
        &state,
        &who,
        ctx,
        &id,
        AccountChange::Role(role),
        "role",
        "role",
    )
    .await
}

/// `POST /admin/users/{id}/disable`.
pub(crate) async fn disable(
    State(state): State<AppState>,
    who: Can<Administration>,
    ctx: PageCtx,
    IdPath(id): IdPath<UserId>,
) -> Result<Response, AppError> {
    apply(
        &state,
        &who,
        ctx,
        &id,
        AccountChange::Disable(true),
        "disable",
        "switch",
    )
    .await
}

/// `POST /admin/users/{id}/enable`.
pub(crate) async fn enable(
    State(state): State<AppState>,
    who: Can<Administration>,
    ctx: PageCtx,
    IdPath(id): IdPath<UserId>,
) -> Result<Response, AppError> {
    apply(
        &state,
        &who,
        ctx,
        &id,
        AccountChange::Disable(false),
        "enable",
        "switch",
    )
    .await
}

/// `POST /admin/users/{id}/unlock`.
pub(crate) async fn unlock(
    State(state): State<AppState>,
    who: Can<Administration>,
    ctx: PageCtx,
    IdPath(id): IdPath<UserId>,
) -> Result<Response, AppError> {
    apply(
        &state,
        &who,
        ctx,
        &id,
        AccountChange::Unlock,
        "unlock",
        "unlock",
    )
    .await
}

#[derive(Deserialize)]
pub(crate) struct ResetForm {
    #[serde(default)]
    temporary_password: String,
}

/// `POST /admin/users/{id}/password`: a temporary password the person must replace.
pub(crate) async fn reset_password(
    State(state): State<AppState>,
    who: Can<Administration>,
    ctx: PageCtx,
    IdPath(id): IdPath<UserId>,
    Form(mut form): Form<ResetForm>,
) -> Result<Response, AppError> {
    let password = std::mem::take(&mut form.temporary_password);
    let hashed = tokio::task::spawn_blocking(move || PasswordHash::new(&password)).await;
    let problem = match hashed {
        Ok(Ok(hash)) => {
            return apply(
                &state,
                &who,
                ctx,
                &id,
                AccountChange::ResetPassword(&hash),
                "password",
                "temporary_password",
            )
            .await;
        }
        Ok(Err(e)) => sentence(&e.to_string()),
        Err(_) => "The password could not be processed; try again.".to_owned(),
    };
    let mut errors = FormErrors::default();
    errors.push("temporary_password", problem);
    let page = account_page(&state, who.user(), ctx, &id, None, errors).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
}

pub(crate) struct EventRow {
    at: String,
    actor: String,
    action: String,
    outcome: &'static str,
    entity: String,
    patient_id: Option<String>,
    detail: String,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
pub(crate) struct AuditPage {
    ctx: PageCtx,
    events: Vec<EventRow>,
    older: Option<i64>,
    paged: bool,
}

#[derive(Deserialize)]
pub(crate) struct AuditQuery {
    before: Option<i64>,
}

/// Events per page of the audit trail.
const AUDIT_PAGE: i64 = 100;

pub(crate) async fn audit(
    State(state): State<AppState>,
    who: Can<Administration>,
    ctx: PageCtx,
    Query(q): Query<AuditQuery>,
) -> Result<Html<String>, AppError> {
    let records = state
        .store()
        .audit_events(&who.user().site_id, AUDIT_PAGE, q.before)
        .await?;
    let older = (records.len() as i64 == AUDIT_PAGE)
        .then(|| records.last().map(|r| r.id))
        .flatten();
    let events = records
        .into_iter()
        .map(|r| EventRow {
            at: ctx.time(r.at),
            actor: r.actor_label,
            action: r.action,
            outcome: match r.outcome {
                AuditOutcome::Ok => "ok",
                AuditOutcome::Denied => "denied",
                AuditOutcome::Failed => "failed",
            },
            entity: match (r.entity_type, r.entity_id) {
                (Some(t), Some(id)) => format!("{t} {id}"),
                _ => String::new(),
            },
            patient_id: r.patient_id,
            detail: r.detail.unwrap_or_default(),
        })
        .collect();
    render(&AuditPage {
        ctx,
        events,
        older,
        paged: q.before.is_some(),
    })
}
