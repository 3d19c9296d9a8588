//! Sign-in: password checks with lockout, login sessions with an inactivity limit, and API tokens.
//!
//! Secrets handed to browsers and API clients (session cookies, bearer tokens) are random
//! 256-bit values; the database keeps only their SHA-256.

use jiff::{SignedDuration, Timestamp};
use sqlx::Row;

use crate::audit::{self, Actor, AuditEvent, AuditOutcome};
use crate::row::{ApiTokenId, RowReader, UserId};
use crate::users::{PasswordHash, USER_COLUMNS, User, user_from_row};
use crate::{Store, StoreError, millis, random_hex, token_hash};

/// The rules sign-in follows; built from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct LoginSettings {
    /// Consecutive failed passwords that lock an account.
    pub max_failed_logins: i64,
    /// How long a locked account stays locked.
    pub lockout: SignedDuration,
    /// Inactivity after which a login session ends.
    pub idle_timeout: SignedDuration,
    /// How long a login session lasts at most, however active (then the person signs in
    /// again).
    pub session_lifetime: SignedDuration,
    /// Whether the server runs in demo mode (only then may demo accounts sign in).
    pub demo_mode: bool,
}

impl Default for LoginSettings {
    /// Five failures lock for fifteen minutes; fifteen idle minutes end a session, and so do
    /// twelve hours from sign-in (a clinic day; a Ketaflow choice, not a rule of any source).
    fn default() -> Self {
        LoginSettings {
            max_failed_logins: 5,
            lockout: SignedDuration::from_mins(15),
            idle_timeout: SignedDuration::from_mins(15),
            session_lifetime: SignedDuration::from_hours(12),
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
    pub id: ApiTokenId,
    /// What the token is for, as its creator wrote.
    pub label: String,
    /// When it was made.
    pub created_at: Timestamp,
    /// When it was last used.
    pub last_used_at: Option<Timestamp>,
    /// When it was revoked.
    pub revoked_at: Option<Timestamp>,
    /// When it stops opening anything, if it was given an expiry.
    pub expires_at: Option<Timestamp>,
}

/// A password check for unknown emails, so that they take as long as known ones and the
/// response time does not tell which emails have accounts.
fn equalise_timing(password: &str) {
    static DUMMY: std::sync::OnceLock<Option<PasswordHash>> = std::sync::OnceLock::new();
    if let Some(hash) = DUMMY.get_or_init(|| PasswordHash::hash("not-a-real-password").ok()) {
        let _ = hash.verify(password);
    }
}

/// Runs an argon2 check on Tokio's blocking pool, so a burst of sign-ins never stalls the
/// threads that serve every other request.
pub(crate) async fn verify_off_executor(hash: Option<PasswordHash>, password: &str) -> bool {
    let password = password.to_owned();
    let job = tokio::task::spawn_blocking(move || match hash {
        Some(hash) => hash.verify(&password),
        None => {
            equalise_timing(&password);
            false
        }
    });
    // A panicked check (it cannot panic on any input) counts as a mismatch.
    job.await.unwrap_or(false)
}

/// An email as typed, made comparable and bounded: trimmed, lower case, at most 254 characters.
fn normalise_email(email: &str) -> String {
    email
        .trim()
        .chars()
        .take(audit::MAX_LABEL_CHARS)
        .collect::<String>()
        .to_lowercase()
}

/// What counting a password attempt found ([`Store::claim_attempt`]).
enum Claim {
    /// The attempt is counted; `locks` when it is the one that reached the limit (the account
    /// is locked from now unless the password proves right).
    Counted { locks: bool },
    /// The account is locked until then: the password is not to be checked.
    Locked { until: Timestamp },
}

/// What checking a password typed to confirm an act found ([`Store::confirm_password`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirmation {
    /// The password is the account's.
    Right,
    /// It is not; the failure counts toward the account's lockout, as at sign-in.
    Wrong,
    /// The account is locked after wrong passwords (at sign-in or in a confirmation) until
    /// then; the password was not checked.
    Locked {
        /// When the lock ends.
        until: Timestamp,
    },
}

impl LoginSettings {
    /// Whether `user` may act with their password under these rules: not disabled, and not a
    /// demo account outside demo mode.
    pub fn admits(&self, user: &User) -> bool {
        !user.disabled && (!user.is_demo || self.demo_mode)
    }
}

impl User {
    /// Whether this account may check a dose or witness a ledger entry at `site_id`, with its
    /// password: a nurse or prescriber of that site whom `sign_in` admits.
    pub fn may_attest(&self, site_id: &crate::SiteId, sign_in: &LoginSettings) -> bool {
        self.site_id == *site_id
            && sign_in.admits(self)
            && matches!(self.role, crate::Role::Nurse | crate::Role::Prescriber)
    }
}

impl Store {
    /// Counts a password attempt on `user` before the password is checked, refuses it if the
    /// account is locked, and locks it at the limit: one statement, so however many attempts
    /// arrive at once, through sign-in or a confirmation, at most `max_failed_logins` passwords
    /// are checked between two lockouts.
    async fn claim_attempt(
        &self,
        user: &UserId,
        settings: &LoginSettings,
        now: Timestamp,
    ) -> Result<Claim, StoreError> {
        // ok: only an instant within the lockout of jiff's last one (the year 9999) has no end
        // of lockout; a real clock never reads such an instant.
        let until = now.checked_add(settings.lockout).unwrap_or(now);
        let claimed: Option<(i64, Option<i64>)> = sqlx::query_as(
            "update users
                set failed_logins = case when failed_logins + 1 >= $2 then 0 else failed_logins + 1 end,
                    locked_until = case when failed_logins + 1 >= $2 then $3 else locked_until end
              where id = $1 and (locked_until is null or locked_until <= $4)
             returning failed_logins, locked_until",
        )
        .bind(user.as_str())
        .bind(settings.max_failed_logins)
        .bind(millis(until))
        .bind(millis(now))
        .fetch_optional(&self.pool)
        .await?;
        if let Some((count_after, locked_after)) = claimed {
            return Ok(Claim::Counted {
                locks: locked_after == Some(millis(until)) && count_after == 0,
            });
        }
        let row = sqlx::query("select id, locked_until from users where id = $1")
            .bind(user.as_str())
            .fetch_one(&self.pool)
            .await?;
        let locked_until = RowReader::new(&row, "users", "id")?.opt_instant("locked_until")?;
        // ok: unlocked by someone else between the claim and this read; the attempt was still
        // refused as locked, and `until` is only reported.
        Ok(Claim::Locked {
            until: locked_until.unwrap_or(until),
        })
    }

    /// Audits a wrong password, and the lockout when this attempt reached the limit: one
    /// transaction.
    async fn record_wrong_password(
        &self,
        actor: &Actor,
        user: &User,
        failure: AuditEvent,
        locks: bool,
        settings: &LoginSettings,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        audit::insert(&mut tx, now, actor, &failure).await?;
        if locks {
            let event = AuditEvent::new("auth.lockout", AuditOutcome::Ok)
                .site(user.site_id.as_str())
                .entity("user", user.id.as_str())
                .detail(format!("failures={}", settings.max_failed_logins));
            audit::insert(&mut tx, now, &Actor::system("login"), &event).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Checks the password of `user`, typed to confirm an act: a witness's to a waste, a
    /// second checker's to a dose, one's own before changing it. `purpose` names the act in
    /// the audit trail (a code, never clinical content).
    ///
    /// It shares sign-in's failure count and lockout: a wrong password counts, the limit locks
    /// the account, a locked account's password is not checked, and a right one clears the
    /// count. Without that, a signed-in account could try another's password without end.
    /// Wrong and locked attempts are audited, as `asked_by`'s, on `user`.
    #[tracing::instrument(skip_all, fields(purpose))]
    pub async fn confirm_password(
        &self,
        asked_by: &Actor,
        user: &User,
        password: &str,
        purpose: &str,
        settings: &LoginSettings,
        now: Timestamp,
    ) -> Result<Confirmation, StoreError> {
        let stored: Option<String> =
            sqlx::query_scalar("select password_hash from users where id = $1")
                .bind(user.id.as_str())
                .fetch_optional(&self.pool)
                .await?;
        let Some(stored) = stored else {
            return Err(StoreError::NotFound { entity: "user" });
        };
        let fail = |reason: &str| {
            AuditEvent::new("auth.confirm", AuditOutcome::Failed)
                .site(user.site_id.as_str())
                .entity("user", user.id.as_str())
                .detail(format!("purpose={purpose} {reason}"))
        };
        let locks = match self.claim_attempt(&user.id, settings, now).await? {
            Claim::Counted { locks } => locks,
            Claim::Locked { until } => {
                verify_off_executor(None, password).await;
                self.audit(asked_by, fail("locked"), now).await?;
                return Ok(Confirmation::Locked { until });
            }
        };
        if !verify_off_executor(Some(PasswordHash::from_stored(stored)), password).await {
            self.record_wrong_password(
                asked_by,
                user,
                fail("wrong-password"),
                locks,
                settings,
                now,
            )
            .await?;
            return Ok(Confirmation::Wrong);
        }
        sqlx::query("update users set failed_logins = 0, locked_until = null where id = $1")
            .bind(user.id.as_str())
            .execute(&self.pool)
            .await?;
        Ok(Confirmation::Right)
    }
}

/// How long one process trusts a bearer token it has checked before asking the database again.
/// A token revoked through another process stops working within this time; in the process that
/// revoked it, at once.
pub const TOKEN_CHECK_TTL: std::time::Duration = std::time::Duration::from_secs(2);

/// The most checked tokens one process remembers; past that the memory is emptied.
const TOKEN_CACHE_ENTRIES: usize = 10_000;

/// What checking a bearer token found; `R` is why the caller would not have the database
/// asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenCheck<R> {
    /// The token opens the account of this user.
    Valid(User),
    /// The token opens nothing: unknown, revoked, expired, or its user may not sign in.
    Invalid,
    /// The database was not asked, because the caller said no, for this reason.
    NotLookedUp(R),
}

/// Bearer tokens this process checked lately: a cache in front of `api_tokens`, never the truth.
#[derive(Default)]
pub(crate) struct TokenCache {
    entries: std::sync::Mutex<std::collections::HashMap<String, CachedToken>>,
}

#[derive(Clone)]
struct CachedToken {
    user: User,
    last_used_ms: Option<i64>,
    expires_ms: Option<i64>,
    checked: std::time::Instant,
}

impl TokenCache {
    fn get(&self, hash: &str) -> Option<CachedToken> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(hash)
            .filter(|c| c.checked.elapsed() < TOKEN_CHECK_TTL)
            .cloned()
    }

    fn put(&self, hash: String, entry: CachedToken) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= TOKEN_CACHE_ENTRIES {
                entries.clear();
            }
            entries.insert(hash, entry);
        }
    }

    /// Forgets every token; called on every change that can end a token's validity (revocation,
    /// and any change of an account).
    pub(crate) fn forget_all(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}

/// How often a bearer token's `last_used_at` is written at most: reads stay reads.
const TOKEN_USE_RESOLUTION_MS: i64 = 60_000;
/// How often a session's `last_seen_at` is written at most; the idle timeout (at least a minute)
/// is kept to within this.
const SESSION_SEEN_RESOLUTION_MS: i64 = 15_000;

/// The one decoder of `api_tokens` rows (never the hash).
fn token_from_row(row: &sqlx::any::AnyRow) -> Result<ApiTokenInfo, StoreError> {
    let r = RowReader::new(row, "api_tokens", "id")?;
    Ok(ApiTokenInfo {
        id: r.id("id", ApiTokenId::parse)?,
        label: r.text("label")?,
        created_at: r.instant("created_at")?,
        last_used_at: r.opt_instant("last_used_at")?,
        revoked_at: r.opt_instant("revoked_at")?,
        expires_at: r.opt_instant("expires_at")?,
    })
}

impl Store {
    /// Checks an email and password; on success opens a login session.
    ///
    /// Every attempt is audited. After `max_failed_logins` consecutive wrong passwords the
    /// account is locked for `lockout`, and while it is locked even the right password fails.
    ///
    /// The attempt is counted before the password is checked, in one statement that also
    /// refuses a locked account and locks it at the limit, so however many attempts arrive at
    /// once, at most `max_failed_logins` passwords are ever checked between two lockouts. A
    /// right password then clears the count. The argon2 check runs on the blocking pool.
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        settings: &LoginSettings,
        now: Timestamp,
    ) -> Result<Result<NewLoginSession, LoginFailure>, StoreError> {
        self.login_from(email, password, settings, None, now).await
    }

    /// Like [`Store::login`], recording in the audit trail the network address the attempt
    /// came from.
    #[tracing::instrument(skip_all)]
    pub async fn login_from(
        &self,
        email: &str,
        password: &str,
        settings: &LoginSettings,
        address: Option<&str>,
        now: Timestamp,
    ) -> Result<Result<NewLoginSession, LoginFailure>, StoreError> {
        let from = |actor: Actor| match address {
            Some(a) => actor.from_address(a),
            None => actor,
        };
        let email = normalise_email(email);
        let row = sqlx::query(&format!(
            "select {USER_COLUMNS}, password_hash from users where email = $1"
        ))
        .bind(&email)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            verify_off_executor(None, password).await;
            let event =
                AuditEvent::new("auth.login", AuditOutcome::Failed).detail("unknown-email".into());
            self.audit(&from(Actor::anonymous(&email)), event, now)
                .await?;
            return Ok(Err(LoginFailure::UnknownEmail));
        };
        let user = user_from_row(&row)?;
        let hash = PasswordHash::from_stored(row.try_get("password_hash")?);
        let actor = from(Actor::user(&user));
        let fail = |reason: &str| {
            AuditEvent::new("auth.login", AuditOutcome::Failed)
                .entity("user", user.id.as_str())
                .detail(reason.to_owned())
        };

        let locks = match self.claim_attempt(&user.id, settings, now).await? {
            Claim::Counted { locks } => locks,
            Claim::Locked { until } => {
                verify_off_executor(None, password).await;
                self.audit(&actor, fail("locked"), now).await?;
                return Ok(Err(LoginFailure::Locked { until }));
            }
        };
        if !verify_off_executor(Some(hash), password).await {
            self.record_wrong_password(&actor, &user, fail("wrong-password"), locks, settings, now)
                .await?;
            return Ok(Err(LoginFailure::WrongPassword));
        }
        // The password was right: the attempt is not a failure, whatever else refuses it.
        let mut tx = self.pool.begin().await?;
        sqlx::query("update users set failed_logins = 0, locked_until = null where id = $1")
            .bind(user.id.as_str())
            .execute(&mut *tx)
            .await?;
        let refusal = if user.disabled {
            Some((LoginFailure::Disabled, "disabled"))
        } else if user.is_demo && !settings.demo_mode {
            Some((
                LoginFailure::DemoAccountOutsideDemo,
                "demo-account-outside-demo-mode",
            ))
        } else {
            None
        };
        if let Some((failure, reason)) = refusal {
            audit::insert(&mut tx, now, &actor, &fail(reason)).await?;
            tx.commit().await?;
            return Ok(Err(failure));
        }

        let token = random_hex(32);
        let csrf_token = random_hex(32);
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
    #[tracing::instrument(skip_all)]
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
            "select {columns}, s.csrf_token, s.created_at, s.last_seen_at from login_sessions s
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
        let created: i64 = row.try_get("created_at")?;
        // ok: a lifetime beyond i64 milliseconds is no limit at all.
        let lifetime_ms = settings
            .session_lifetime
            .as_millis()
            .try_into()
            .unwrap_or(i64::MAX);
        if millis(now).saturating_sub(created) > lifetime_ms {
            self.end_session(&hash, &user, "lifetime", now).await?;
            return Ok(None);
        }
        if !settings.admits(&user) {
            self.end_session(&hash, &user, "account-not-allowed", now)
                .await?;
            return Ok(None);
        }
        if millis(now).saturating_sub(last_seen) >= SESSION_SEEN_RESOLUTION_MS {
            sqlx::query("update login_sessions set last_seen_at = $2 where token_hash = $1")
                .bind(&hash)
                .bind(millis(now))
                .execute(&self.pool)
                .await?;
        }
        Ok(Some(Authenticated {
            user,
            csrf_token: Some(row.try_get("csrf_token")?),
        }))
    }

    /// Ends the session behind a cookie (sign-out). Unknown tokens are ignored.
    #[tracing::instrument(skip_all)]
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
    #[tracing::instrument(skip_all)]
    pub async fn create_api_token(
        &self,
        actor: &Actor,
        user: &UserId,
        label: &str,
        now: Timestamp,
    ) -> Result<(ApiTokenInfo, String), StoreError> {
        self.create_api_token_expiring(actor, user, label, None, now)
            .await
    }

    /// Like [`Store::create_api_token`], for a token that opens nothing after `expires_at`
    /// (`None`: until revoked).
    #[tracing::instrument(skip_all)]
    pub async fn create_api_token_expiring(
        &self,
        actor: &Actor,
        user: &UserId,
        label: &str,
        expires_at: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<(ApiTokenInfo, String), StoreError> {
        let id = ApiTokenId::new();
        let secret = format!("kf_{}", random_hex(32));
        let label = match label.trim() {
            "" => "API token",
            l => l,
        };
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "insert into api_tokens (id, user_id, token_hash, label, created_at, expires_at)
             values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id.as_str())
        .bind(user.as_str())
        .bind(token_hash(&secret))
        .bind(label)
        .bind(millis(now))
        .bind(expires_at.map(millis))
        .execute(&mut *tx)
        .await?;
        let event =
            AuditEvent::new("token.create", AuditOutcome::Ok).entity("api_token", id.as_str());
        audit::insert(&mut tx, now, actor, &event).await?;
        tx.commit().await?;
        let info = ApiTokenInfo {
            id,
            label: label.to_owned(),
            created_at: now,
            last_used_at: None,
            revoked_at: None,
            expires_at,
        };
        Ok((info, secret))
    }

    /// The user behind a bearer token, if it exists, is not revoked and its user may sign in.
    ///
    /// One query reads the token and its user, and this process then trusts the answer for
    /// [`TOKEN_CHECK_TTL`]; `last_used_at` is written only when it is more than a minute old, so
    /// an API read does not become a write.
    #[tracing::instrument(skip_all)]
    pub async fn authenticate_token(
        &self,
        secret: &str,
        settings: &LoginSettings,
        now: Timestamp,
    ) -> Result<Option<User>, StoreError> {
        let always = || Ok::<(), std::convert::Infallible>(());
        match self.check_token(secret, settings, now, always).await? {
            TokenCheck::Valid(user) => Ok(Some(user)),
            TokenCheck::Invalid => Ok(None),
            TokenCheck::NotLookedUp(never) => match never {},
        }
    }

    /// Like [`Store::authenticate_token`], asking `may_look_up` first whenever the answer is
    /// not already trusted in this process and the database would have to be asked: a caller
    /// throttles made-up tokens that way (they are never trusted, so each would cost a query)
    /// without throttling the use of a token it has just seen. Its refusal comes back as
    /// [`TokenCheck::NotLookedUp`].
    #[tracing::instrument(skip_all)]
    pub async fn check_token<R>(
        &self,
        secret: &str,
        settings: &LoginSettings,
        now: Timestamp,
        may_look_up: impl FnOnce() -> Result<(), R>,
    ) -> Result<TokenCheck<R>, StoreError> {
        let hash = token_hash(secret);
        let cached = self.tokens.get(&hash);
        let was_cached = cached.is_some();
        let (user, last_used, expires_ms) = match cached {
            Some(c) => (c.user, c.last_used_ms, c.expires_ms),
            None => {
                if let Err(refusal) = may_look_up() {
                    return Ok(TokenCheck::NotLookedUp(refusal));
                }
                let columns = USER_COLUMNS
                    .split(", ")
                    .map(|c| format!("u.{c}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let row = sqlx::query(&format!(
                    "select {columns}, t.last_used_at, t.expires_at from api_tokens t join users u on u.id = t.user_id
                     where t.token_hash = $1 and t.revoked_at is null"
                ))
                .bind(&hash)
                .fetch_optional(&self.pool)
                .await?;
                let Some(row) = row else {
                    return Ok(TokenCheck::Invalid);
                };
                let user = user_from_row(&row)?;
                let last_used: Option<i64> = row.try_get("last_used_at")?;
                let expires: Option<i64> = row.try_get("expires_at")?;
                (user, last_used, expires)
            }
        };
        if !settings.admits(&user) {
            return Ok(TokenCheck::Invalid);
        }
        if expires_ms.is_some_and(|e| millis(now) >= e) {
            return Ok(TokenCheck::Invalid);
        }
        let stale =
            last_used.is_none_or(|t| millis(now).saturating_sub(t) >= TOKEN_USE_RESOLUTION_MS);
        let mut last_used_ms = last_used;
        if stale {
            sqlx::query(
                "update api_tokens set last_used_at = $2
                  where token_hash = $1 and (last_used_at is null or last_used_at <= $3)",
            )
            .bind(&hash)
            .bind(millis(now))
            .bind(millis(now) - TOKEN_USE_RESOLUTION_MS)
            .execute(&self.pool)
            .await?;
            last_used_ms = Some(millis(now));
        }
        if !was_cached || stale {
            self.tokens.put(
                hash,
                CachedToken {
                    user: user.clone(),
                    last_used_ms,
                    expires_ms,
                    checked: std::time::Instant::now(),
                },
            );
        }
        Ok(TokenCheck::Valid(user))
    }

    /// A user's tokens, newest first.
    #[tracing::instrument(skip_all)]
    pub async fn api_tokens(&self, user: &UserId) -> Result<Vec<ApiTokenInfo>, StoreError> {
        let rows = sqlx::query(
            "select id, label, created_at, last_used_at, revoked_at, expires_at from api_tokens
             where user_id = $1 order by created_at desc, id desc",
        )
        .bind(user.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(token_from_row).collect()
    }

    /// Revokes one of `user`'s tokens; another user's token is [`StoreError::NotFound`].
    #[tracing::instrument(skip_all)]
    pub async fn revoke_api_token(
        &self,
        actor: &Actor,
        user: &UserId,
        token_id: &ApiTokenId,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "update api_tokens set revoked_at = $3 where id = $1 and user_id = $2 and revoked_at is null",
        )
        .bind(token_id.as_str())
        .bind(user.as_str())
        .bind(millis(now))
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                entity: "API token",
            });
        }
        let event = AuditEvent::new("token.revoke", AuditOutcome::Ok)
            .entity("api_token", token_id.as_str());
        audit::insert(&mut tx, now, actor, &event).await?;
        tx.commit().await?;
        self.tokens.forget_all();
        Ok(())
    }
}
