//! Administration: staff accounts and the audit trail.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use clinical::patient::{Email, PersonName};
use serde::Deserialize;
use store::{AuditOutcome, PasswordHash, Role, StoreError, User};

use super::{FormErrors, sentence};
use crate::AppState;
use crate::capability::{Administration, Can};
use crate::display::Choice;
use crate::error::AppError;
use crate::view::{PageCtx, render};

pub(crate) struct UserRow {
    name: String,
    email: String,
    role: &'static str,
    created: String,
    status: &'static str,
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
    let users = state
        .store()
        .users(&admin.site_id)
        .await?
        .into_iter()
        .map(|u| UserRow {
            created: ctx.time(u.created_at),
            status: if u.disabled { "Disabled" } else { "Active" },
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
