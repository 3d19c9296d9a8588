//! Administration: staff accounts and the audit trail.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use clinical::patient::{Email, PersonName};
use serde::Deserialize;
use store::{AccountChange, PasswordHash, Role, StoreError, User, UserId};

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
    entity: String,
    patient_id: Option<String>,
    detail: String,
    /// The network address the request came from.
    from: String,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
pub(crate) struct AuditPage {
    ctx: PageCtx,
    events: Vec<EventRow>,
    /// The query string of the next (older) page, when there is one.
    older: Option<String>,
    /// The query string of the first page with the same filters.
    newest: Option<String>,
    filter: AuditQuery,
    people: Vec<PersonChoice>,
    actions: Vec<Choice>,
    errors: FormErrors,
    filtered: bool,
    zone: String,
}

/// A staff member in the audit page's person list.
pub(crate) struct PersonChoice {
    value: String,
    label: String,
    selected: bool,
}

/// The audit page's filters as typed (every field optional; all text so that nothing typed is
/// a bare 400).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct AuditQuery {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    person: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    patient: String,
    #[serde(default)]
    before: String,
}

impl AuditQuery {
    /// The filters as a query string, without the page position.
    fn filters(&self) -> String {
        let pairs = [
            ("from", &self.from),
            ("to", &self.to),
            ("person", &self.person),
            ("action", &self.action),
            ("patient", &self.patient),
        ];
        pairs
            .iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(k, v)| format!("{k}={}", crate::capability::encode(v.trim())))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// Events per page of the audit trail.
const AUDIT_PAGE: i64 = 100;

/// A date typed as `YYYY-MM-DD` (nothing when blank; a message at the field when unreadable).
fn day_start(
    typed: &str,
    field: &str,
    label: &str,
    errors: &mut FormErrors,
) -> Option<jiff::civil::Date> {
    let typed = typed.trim();
    if typed.is_empty() {
        return None;
    }
    match typed.parse::<jiff::civil::Date>() {
        Ok(d) => Some(d),
        Err(_) => {
            errors.push(
                field,
                format!("{label} '{typed}' is not a date; use the form YYYY-MM-DD, for example 2026-11-23."),
            );
            None
        }
    }
}

/// The first instant of `day` in the clinic's time zone, or a message at `field` (only dates at
/// the ends of the calendar have none).
fn instant_of(
    day: jiff::civil::Date,
    ctx: &PageCtx,
    field: &str,
    errors: &mut FormErrors,
) -> Option<jiff::Timestamp> {
    match day.to_zoned(ctx.time_zone()) {
        Ok(z) => Some(z.timestamp()),
        Err(_) => {
            errors.push(
                field,
                format!("{day} is outside the dates the trail can hold; choose a nearer date."),
            );
            None
        }
    }
}

const AUDIT_TRAIL: super::chain_check::Chain = super::chain_check::Chain {
    title: "Audit trail check",
    action: "audit.verify",
    what: "the audit trail",
    tell: "the clinic's security officer",
    back: ("/admin/audit", "Back to the audit trail"),
};

/// Checks the whole audit trail's hash chain (every site's events: the chain is one per
/// database) and says whether it is intact; the check itself is recorded.
pub(crate) async fn verify_audit(
    State(state): State<AppState>,
    who: Can<Administration>,
    ctx: PageCtx,
) -> Result<Html<String>, AppError> {
    let deadline = std::time::Instant::now() + state.config().limits.check_deadline;
    let outcome = state
        .store()
        .verify_audit(Some(deadline), &|_, _| {})
        .await?;
    let (ok, words) = match outcome {
        store::AuditCheck::Intact(n) => (
            true,
            format!("Intact: {n} events checked; every hash and link agrees."),
        ),
        store::AuditCheck::Broken(broken) => (false, format!("BROKEN: {broken}.")),
        store::AuditCheck::Unfinished { checked, total } => (
            true,
            format!(
                "Not finished: the first {checked} of {total} events were checked in the {} seconds a page may take, and every hash and link among them agrees. To check the whole trail, run `ketaflow audit verify` on the server.",
                state.config().limits.check_deadline.as_secs()
            ),
        ),
    };
    let site = &who.user().site_id;
    super::chain_check::outcome(&state, &who.actor(), site, ctx, &AUDIT_TRAIL, ok, words).await
}

pub(crate) async fn audit(
    State(state): State<AppState>,
    who: Can<Administration>,
    ctx: PageCtx,
    Query(q): Query<AuditQuery>,
) -> Result<Response, AppError> {
    let site = &who.user().site_id;
    let mut errors = FormErrors::default();
    let mut filter = store::AuditFilter::default();
    let from = day_start(&q.from, "from", "From", &mut errors);
    let to = day_start(&q.to, "to", "To", &mut errors);
    if let (Some(f), Some(t)) = (from, to)
        && t < f
    {
        errors.push(
            "to",
            format!("To {t} is before From {f}; choose a later date or swap them."),
        );
    }
    filter.from = from.and_then(|d| instant_of(d, &ctx, "from", &mut errors));
    // The last day is included: the filter ends where the next day starts.
    filter.until = to.and_then(|d| match d.tomorrow() {
        Ok(next) => instant_of(next, &ctx, "to", &mut errors),
        Err(_) => {
            errors.push(
                "to",
                format!("{d} is outside the dates the trail can hold; choose a nearer date."),
            );
            None
        }
    });
    let users = state.store().users(site).await?;
    if !q.person.trim().is_empty() {
        match users.iter().find(|u| u.id.as_str() == q.person.trim()) {
            Some(u) => filter.actor = Some(u.id.clone()),
            None => errors.push("person", "Choose a person from the list."),
        }
    }
    if !q.action.trim().is_empty() {
        match store::AUDIT_ACTIONS
            .iter()
            .find(|(code, _)| *code == q.action.trim())
        {
            Some((code, _)) => filter.action = Some((*code).to_owned()),
            None => errors.push("action", "Choose an action from the list."),
        }
    }
    let typed_patient = q.patient.trim();
    if !typed_patient.is_empty() {
        let id = match store::PatientId::parse(typed_patient) {
            Some(id) => Some(id),
            None => state.store().patient_id_by_mrn(site, typed_patient).await?,
        };
        match id {
            Some(id) => filter.patient = Some(id),
            None => errors.push(
                "patient",
                format!(
                    "No patient at this site has the record number '{typed_patient}'; check it on the patient's page (for example K7M2Q9XA)."
                ),
            ),
        }
    }
    let before = match q.before.trim() {
        "" => None,
        text => match text.parse::<i64>() {
            Ok(id) => Some(id),
            Err(_) => {
                errors.push(
                    "before",
                    "The page position in the address is damaged; go to the newest events.",
                );
                None
            }
        },
    };
    let records = if errors.is_empty() {
        state
            .store()
            .audit_search(site, &filter, AUDIT_PAGE, before)
            .await?
    } else {
        Vec::new()
    };
    let filters = q.filters();
    let join = |extra: String| {
        if filters.is_empty() {
            extra
        } else if extra.is_empty() {
            filters.clone()
        } else {
            format!("{filters}&{extra}")
        }
    };
    let older = (records.len() as i64 == AUDIT_PAGE)
        .then(|| records.last().map(|r| join(format!("before={}", r.id))))
        .flatten();
    let newest = before.map(|_| join(String::new()));
    let events = records
        .into_iter()
        .map(|r| EventRow {
            at: ctx.time_with_zone(r.at),
            actor: users
                .iter()
                .find(|u| Some(u.id.as_str()) == r.actor_user_id.as_deref())
                .map_or_else(
                    || r.actor_label.clone(),
                    |u| format!("{} ({})", u.display_name, r.actor_label),
                ),
            action: store::action_in_words(&r.action, r.outcome),
            entity: match (r.entity_type, r.entity_id) {
                (Some(t), Some(id)) => format!("{t} {id}"),
                _ => String::new(),
            },
            patient_id: r.patient_id,
            detail: r.detail.unwrap_or_default(),
            from: r.client_address.unwrap_or_default(),
        })
        .collect();
    let people = users
        .iter()
        .map(|u| PersonChoice {
            selected: u.id.as_str() == q.person.trim(),
            value: u.id.as_str().to_owned(),
            label: format!("{} ({})", u.display_name, u.email),
        })
        .collect();
    let actions = store::AUDIT_ACTIONS
        .iter()
        .map(|(code, words)| Choice {
            value: code,
            label: words,
            selected: *code == q.action.trim(),
        })
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let zone = ctx.time_zone().iana_name().unwrap_or("UTC").to_owned();
    let page = AuditPage {
        filtered: !filters.is_empty(),
        ctx,
        events,
        older,
        newest,
        filter: q,
        people,
        actions,
        errors,
        zone,
    };
    Ok((status, render(&page)?).into_response())
}
