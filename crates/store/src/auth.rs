//! Sign-in: password checks with lockout, login sessions with an inactivity limit, and API tokens.
//!
//! Secrets handed to browsers and API clients (session cookies, bearer tokens) are random
//! 256-bit values; the database keeps only their SHA-256.

use jiff::{SignedDuration, Timestamp};
use sqlx::Row;

use crate::audit::{self, Actor, AuditEvent, AuditOutcome};
use crate::users::{PasswordHash, USER_COLUMNS, User, UserId, user_from_row};
use crate::{Store, StoreError, instant, millis, new_id, random_hex, token_hash};

/// The rules sign-in follows; built from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct LoginSettings {
    /// Consecutive failed passwords that lock an account.
    pub max_failed_logins: i64,
    /// How long a locked account stays locked.
    pub lockout: SignedDuration,
    /// Inactivity after which a login session ends.
    pub idle_timeout: SignedDuration,
    /// Whether the server runs in demo mode (only then may demo accounts sign in).
    pub demo_mode: bool,
}

impl Default for LoginSettings {
    /// Five failures lock for fifteen minutes; fifteen idle minutes end a session.
    fn default() -> Self {
        LoginSettings {
            max_failed_logins: 5,
            lockout: SignedDuration::from_mins(15),
            idle_timeout: SignedDuration::from_mins(15),
            demo_mode: false,
        }
    }
}

/// Why a sign-in was refused. People are shown one generic message whatever the reason, so
/// the variants exist for the audit trail and tests only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginFailure {
    /// No account has that email.
    UnknownEmail,
    /// The password did not match.
    WrongPassword,
    /// Too many failures; locked until the given instant.
    Locked {
        /// When sign-in is allowed again.
        until: Timestamp,
    },
    /// The account is switched off.
    Disabled,
    /// A demo account, and the server is not in demo mode.
    DemoAccountOutsideDemo,
}

/// A login session just made: the cookie value and the form token.
#[derive(Debug, Clone)]
pub struct NewLoginSession {
    /// Goes into the session cookie; never stored in clear.
    pub token: String,
    /// Must accompany every state-changing form of this session.
    pub csrf_token: String,
    /// Who signed in.
    pub user: User,
}

/// Who a request comes from, once its cookie or bearer token has been checked.
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// The user.
    pub user: User,
    /// The session's form token; `None` for bearer tokens, which forms do not use.
    pub csrf_token: Option<String>,
}

/// An API token's public description (never the secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiTokenInfo {
    /// Identifier.
    pub id: String,
    /// What the token is for, as its creator wrote.
    pub label: String,
    /// When it was made.
    pub created_at: Timestamp,
    /// When it was last used.
    pub last_used_at: Option<Timestamp>,
    /// When it was revoked.
    pub revoked_at: Option<Timestamp>,
}

/// A password check for unknown emails, so that they take as long as known ones and the
/// response time does not tell which emails have accounts.
fn equalise_timing(password: &str) {
    static DUMMY: std::sync::OnceLock<Option<PasswordHash>> = std::sync::OnceLock::new();
    if let Some(hash) = DUMMY.get_or_init(|| PasswordHash::hash("not-a-real-password").ok()) {
        let _ = hash.verify(password);
    }
}

impl Store {
    /// Checks an email and password; on success opens a login session.
    ///
    /// Every attempt is audited. After `max_failed_logins` consecutive wrong passwords the
    /// account is locked for `lockout`, and while it is locked even the right password fails.
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        settings: &LoginSettings,
        now: Timestamp,
    ) -> Result<Result<NewLoginSession, LoginFailure>, StoreError> {
        let email = email.trim().to_ascii_lowercase();
        let row = sqlx::query(&format!(
            "select {USER_COLUMNS}, password_hash, failed_logins, locked_until from users where email = $1"
        ))
        .bind(&email)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            equalise_timing(password);
            let event =
                AuditEvent::new("auth.login", AuditOutcome::Failed).detail("unknown-email".into());
            self.audit(&Actor::anonymous(email), event, now).await?;
            return Ok(Err(LoginFailure::UnknownEmail));
        };
        let user = user_from_row(&row)?;
        let hash = PasswordHash::from_stored(row.try_get("password_hash")?);
        let locked_until: Option<i64> = row.try_get("locked_until")?;
        let actor = Actor::user(&user);
        let fail = |reason: &str| {
            AuditEvent::new("auth.login", AuditOutcome::Failed)
                .entity("user", user.id.as_str())
                .detail(reason.to_owned())
        };

        if let Some(until) = locked_until.filter(|&u| u > millis(now)) {
            equalise_timing(password);
            self.audit(&actor, fail("locked"), now).await?;
            return Ok(Err(LoginFailure::Locked {
                until: instant(until),
            }));
        }
        if !hash.verify(password) {
            let failures: i64 = sqlx::query_scalar(
                "update users set failed_logins = failed_logins + 1 where id = $1 returning failed_logins",
            )
            .bind(user.id.as_str())
            .fetch_one(&self.pool)
            .await?;
            self.audit(&actor, fail("wrong-password"), now).await?;
            if failures >= settings.max_failed_logins {
                let until = now.checked_add(settings.lockout).unwrap_or(now);
                sqlx::query("update users set failed_logins = 0, locked_until = $2 where id = $1")
                    .bind(user.id.as_str())
                    .bind(millis(until))
                    .execute(&self.pool)
                    .await?;
                let event = AuditEvent::new("auth.lockout", AuditOutcome::Ok)
                    .entity("user", user.id.as_str())
                    .detail(format!("failures={failures}"));
                self.audit(&Actor::system("login"), event, now).await?;
            }
            return Ok(Err(LoginFailure::WrongPassword));
        }
        if user.disabled {
            self.audit(&actor, fail("disabled"), now).await?;
            return Ok(Err(LoginFailure::Disabled));
        }
        if user.is_demo && !settings.demo_mode {
            self.audit(&actor, fail("demo-account-outside-demo-mode"), now)
                .await?;
            return Ok(Err(LoginFailure::DemoAccountOutsideDemo));
        }

        let token = random_hex(32);
        let csrf_token = random_hex(32);
        let mut tx = self.pool.begin().await?;
        sqlx::query("update users set failed_logins = 0, locked_until = null where id = $1")
            .bind(user.id.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "insert into login_sessions (token_hash, user_id, csrf_token, created_at, last_seen_at)
             values ($1, $2, $3, $4, $4)",
        )
        .bind(token_hash(&token))
        .bind(user.id.as_str())
        .bind(&csrf_token)
        .bind(millis(now))
        .execute(&mut *tx)
        .await?;
        audit::insert(
            &mut tx,
            now,
            &actor,
            &AuditEvent::new("auth.login", AuditOutcome::Ok).entity("user", user.id.as_str()),
        )
        .await?;
        tx.commit().await?;
        Ok(Ok(NewLoginSession {
            token,
            csrf_token,
            user,
        }))
    }

    /// The user behind a session cookie, if the session is open and has been used within the
    /// idle timeout; using it counts as activity. An idle session is ended here.
    pub async fn session(
        &self,
        token: &str,
        settings: &LoginSettings,
        now: Timestamp,
    ) -> Result<Option<Authenticated>, StoreError> {
        let hash = token_hash(token);
        let columns = USER_COLUMNS
            .split(", ")
            .map(|c| format!("u.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let row = sqlx::query(&format!(
            "select {columns}, s.csrf_token, s.last_seen_at from login_sessions s
             join users u on u.id = s.user_id
             where s.token_hash = $1 and s.ended_at is null"
        ))
        .bind(&hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let user = user_from_row(&row)?;
        let last_seen: i64 = row.try_get("last_seen_at")?;
        let idle_ms = settings
            .idle_timeout
            .as_millis()
            .try_into()
            .unwrap_or(i64::MAX);
        if millis(now).saturating_sub(last_seen) > idle_ms {
            self.end_session(&hash, &user, "idle-timeout", now).await?;
            return Ok(None);
        }
        if user.disabled || (user.is_demo && !settings.demo_mode) {
            self.end_session(&hash, &user, "account-not-allowed", now)
                .await?;
            return Ok(None);
        }
        sqlx::query("update login_sessions set last_seen_at = $2 where token_hash = $1")
            .bind(&hash)
            .bind(millis(now))
            .execute(&self.pool)
            .await?;
        Ok(Some(Authenticated {
            user,
            csrf_token: Some(row.try_get("csrf_token")?),
        }))
    }

    /// Ends the session behind a cookie (sign-out). Unknown tokens are ignored.
    pub async fn logout(&self, token: &str, now: Timestamp) -> Result<(), StoreError> {
        let hash = token_hash(token);
        let user_id: Option<String> = sqlx::query_scalar(
            "select user_id from login_sessions where token_hash = $1 and ended_at is null",
        )
        .bind(&hash)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(id) = user_id {
            let user = self.user(&UserId(id)).await?;
            self.end_session(&hash, &user, "sign-out", now).await?;
        }
        Ok(())
    }

    async fn end_session(
        &self,
        hash: &str,
        user: &User,
        reason: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "update login_sessions set ended_at = $2 where token_hash = $1 and ended_at is null",
        )
        .bind(hash)
        .bind(millis(now))
        .execute(&mut *tx)
        .await?;
        let event = AuditEvent::new("auth.logout", AuditOutcome::Ok)
            .entity("user", user.id.as_str())
            .detail(reason.to_owned());
        audit::insert(&mut tx, now, &Actor::user(user), &event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Makes a bearer token for `user`. The secret is returned once and never stored in clear.
    pub async fn create_api_token(
        &self,
        actor: &Actor,
        user: &UserId,
        label: &str,
        now: Timestamp,
    ) -> Result<(ApiTokenInfo, String), StoreError> {
        let id = new_id();
        let secret = format!("kf_{}", random_hex(32));
        let label = match label.trim() {
            "" => "API token",
            l => l,
        };
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "insert into api_tokens (id, user_id, token_hash, label, created_at) values ($1, $2, $3, $4, $5)",
        )
        .bind(&id)
        .bind(user.as_str())
        .bind(token_hash(&secret))
        .bind(label)
        .bind(millis(now))
        .execute(&mut *tx)
        .await?;
        let event = AuditEvent::new("token.create", AuditOutcome::Ok).entity("api_token", &id);
        audit::insert(&mut tx, now, actor, &event).await?;
        tx.commit().await?;
        let info = ApiTokenInfo {
            id,
            label: label.to_owned(),
            created_at: now,
            last_used_at: None,
            revoked_at: None,
        };
        Ok((info, secret))
    }

    /// The user behind a bearer token, if it exists, is not revoked and its user may sign in.
    pub async fn authenticate_token(
        &self,
        secret: &str,
        settings: &LoginSettings,
        now: Timestamp,
    ) -> Result<Option<User>, StoreError> {
        let hash = token_hash(secret);
        let user_id: Option<String> = sqlx::query_scalar(
            "select user_id from api_tokens where token_hash = $1 and revoked_at is null",
        )
        .bind(&hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(user_id) = user_id else {
            return Ok(None);
        };
        let user = self.user(&UserId(user_id)).await?;
        if user.disabled || (user.is_demo && !settings.demo_mode) {
            return Ok(None);
        }
        sqlx::query("update api_tokens set last_used_at = $2 where token_hash = $1")
            .bind(&hash)
            .bind(millis(now))
            .execute(&self.pool)
            .await?;
        Ok(Some(user))
    }

    /// A user's tokens, newest first.
    pub async fn api_tokens(&self, user: &UserId) -> Result<Vec<ApiTokenInfo>, StoreError> {
        let rows = sqlx::query(
            "select id, label, created_at, last_used_at, revoked_at from api_tokens
             where user_id = $1 order by created_at desc, id desc",
        )
        .bind(user.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ApiTokenInfo {
                    id: row.try_get("id")?,
                    label: row.try_get("label")?,
                    created_at: instant(row.try_get("created_at")?),
                    last_used_at: row.try_get::<Option<i64>, _>("last_used_at")?.map(instant),
                    revoked_at: row.try_get::<Option<i64>, _>("revoked_at")?.map(instant),
                })
            })
            .collect()
    }

    /// Revokes one of `user`'s tokens; another user's token is [`StoreError::NotFound`].
    pub async fn revoke_api_token(
        &self,
        actor: &Actor,
        user: &UserId,
        token_id: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "update api_tokens set revoked_at = $3 where id = $1 and user_id = $2 and revoked_at is null",
        )
        .bind(token_id)
        .bind(user.as_str())
        .bind(millis(now))
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                entity: "API token",
            });
        }
        let event = AuditEvent::new("token.revoke", AuditOutcome::Ok).entity("api_token", token_id);
        audit::insert(&mut tx, now, actor, &event).await?;
        tx.commit().await?;
        Ok(())
    }
}
