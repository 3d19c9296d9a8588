//! Staff accounts: roles, password hashes and the queries on the `users` table.

use std::fmt;

use crate::audit::{self, Actor, AuditEvent, AuditOutcome};
use crate::row::{RowReader, SiteId, UserId};
use crate::{Store, StoreError, millis};
use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
use clinical::patient::Email;

/// What a staff member does in the clinic; each route checks the capabilities a role grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Clinic owner or administrator: users, audit trail, settings.
    Admin,
    /// Physician, nurse practitioner or physician assistant who orders and signs.
    Prescriber,
    /// Nurse who runs sessions.
    Nurse,
    /// Front desk: inquiries, registration, scheduling; never clinical data.
    FrontDesk,
}

impl Role {
    /// Every role, in the order forms list them.
    pub const ALL: [Role; 4] = [Role::Admin, Role::Prescriber, Role::Nurse, Role::FrontDesk];

    /// Parses the stored code (`admin`, `prescriber`, `nurse`, `front_desk`).
    pub fn parse(input: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.code() == input.trim())
    }

    /// The code stored in the database and accepted on the command line.
    pub fn code(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Prescriber => "prescriber",
            Role::Nurse => "nurse",
            Role::FrontDesk => "front_desk",
        }
    }

    /// The name shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Administrator",
            Role::Prescriber => "Prescriber",
            Role::Nurse => "Nurse",
            Role::FrontDesk => "Front desk",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A staff account as the rest of the application sees it (no password hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Identifier.
    pub id: UserId,
    /// The clinic site the user belongs to.
    pub site_id: SiteId,
    /// Login email, lower case.
    pub email: String,
    /// Name shown in the interface and the audit trail.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Whether the account was made by demo seeding.
    pub is_demo: bool,
    /// Whether the account is switched off.
    pub disabled: bool,
    /// Until when sign-in is refused after too many wrong passwords (may lie in the past).
    pub locked_until: Option<jiff::Timestamp>,
    /// Whether the person must choose a new password before anything else (after a reset).
    pub must_change_password: bool,
    /// When the account was created.
    pub created_at: jiff::Timestamp,
}

impl User {
    /// Until when the account is locked, if it is locked at `now`.
    pub fn locked_at(&self, now: jiff::Timestamp) -> Option<jiff::Timestamp> {
        self.locked_until.filter(|until| *until > now)
    }
}

/// A change an administrator makes to someone's account.
#[derive(Debug, Clone, Copy)]
pub enum AccountChange<'a> {
    /// Switch the account off (`true`: its sessions end) or on again (`false`).
    Disable(bool),
    /// Give the account another role.
    Role(Role),
    /// Clear a lockout and the count of wrong passwords.
    Unlock,
    /// Set a temporary password: the person must choose a new one at their next sign-in, and
    /// every session of theirs ends now.
    ResetPassword(&'a PasswordHash),
}

impl AccountChange<'_> {
    fn action(&self) -> &'static str {
        match self {
            AccountChange::Disable(true) => "user.disable",
            AccountChange::Disable(false) => "user.enable",
            AccountChange::Role(_) => "user.role_change",
            AccountChange::Unlock => "user.unlock",
            AccountChange::ResetPassword(_) => "user.password_reset",
        }
    }
}

/// Why an account change was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AccountRefusal {
    /// An administrator tried to switch off their own account or take away their own
    /// administration role: the site could be left without one.
    #[error(
        "you cannot switch off your own account or remove your own administrator role; ask another administrator"
    )]
    OwnAccount,
    /// An administrator tried to reset their own password here, which needs no current
    /// password: a borrowed session could then keep the account. Their own is changed on
    /// their account page, which asks for the current one.
    #[error(
        "your own password is changed under Account, which asks for the current one; a reset here is for other people"
    )]
    OwnPassword,
}

/// Why a password was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// Shorter than [`PasswordHash::MIN_CHARS`].
    #[error("the password has {len} characters; use at least {min}", min = PasswordHash::MIN_CHARS)]
    TooShort {
        /// Its length in characters.
        len: usize,
    },
    /// Longer than [`PasswordHash::MAX_CHARS`].
    #[error("the password has {len} characters; at most {max} are accepted", max = PasswordHash::MAX_CHARS)]
    TooLong {
        /// Its length in characters.
        len: usize,
    },
    /// The published demo password was chosen for a real account.
    #[error("the demo password is published and only works in demo mode; choose another")]
    DemoPassword,
    /// The hashing library failed (should not happen with valid parameters).
    #[error("could not hash the password: {0}")]
    Hashing(String),
}

/// An argon2id hash in PHC string form.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(..)")
    }
}

impl PasswordHash {
    /// The shortest password accepted. NIST SP 800-63B §3.1.1.2 sets 8 as the floor for
    /// user-chosen passwords; accounts that open patient records ask for more.
    pub const MIN_CHARS: usize = 12;
    /// The longest password accepted (bounds hashing work).
    pub const MAX_CHARS: usize = 256;

    /// Hashes a new password for a real (non-demo) account, enforcing the length rules.
    ///
    /// Parameters are the argon2 crate's defaults for argon2id (19 MiB, 2 passes, 1 lane),
    /// which are OWASP's recommended minimum.
    pub fn new(password: &str) -> Result<Self, PasswordError> {
        let len = password.chars().count();
        if len < Self::MIN_CHARS {
            return Err(PasswordError::TooShort { len });
        }
        if len > Self::MAX_CHARS {
            return Err(PasswordError::TooLong { len });
        }
        if password == crate::DEMO_PASSWORD {
            return Err(PasswordError::DemoPassword);
        }
        Self::hash(password)
    }

    /// Hashes without the policy checks; used for the demo accounts only.
    pub(crate) fn hash(password: &str) -> Result<Self, PasswordError> {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| PasswordHash(h.to_string()))
            .map_err(|e| PasswordError::Hashing(e.to_string()))
    }

    /// Whether `password` matches. A malformed stored hash never matches.
    pub fn verify(&self, password: &str) -> bool {
        match argon2::password_hash::PasswordHash::new(&self.0) {
            Ok(parsed) => Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok(),
            Err(_) => false,
        }
    }

    pub(crate) fn from_stored(s: String) -> Self {
        PasswordHash(s)
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

pub(crate) const USER_COLUMNS: &str = "id, site_id, email, display_name, role, is_demo, disabled, \
     locked_until, must_change_password, created_at";

/// The one decoder of `users` rows.
pub(crate) fn user_from_row(row: &sqlx::any::AnyRow) -> Result<User, StoreError> {
    let r = RowReader::new(row, "users", "id")?;
    Ok(User {
        id: r.id("id", UserId::parse)?,
        site_id: r.id("site_id", SiteId::parse)?,
        email: r.text("email")?,
        display_name: r.text("display_name")?,
        role: r.parsed("role", |s| Role::parse(s).ok_or("not a role"))?,
        is_demo: r.flag("is_demo")?,
        disabled: r.flag("disabled")?,
        locked_until: r.opt_instant("locked_until")?,
        must_change_password: r.flag("must_change_password")?,
        created_at: r.instant("created_at")?,
    })
}

/// A staff account to create: every field already validated.
#[derive(Debug, Clone, Copy)]
pub struct NewUser<'a> {
    /// Login email.
    pub email: &'a Email,
    /// Name shown in the interface.
    pub display_name: &'a str,
    /// Role.
    pub role: Role,
    /// Hash of the initial password.
    pub password: &'a PasswordHash,
}

impl Store {
    /// Adds a staff account to a site. An email already in use gives
    /// [`StoreError::Conflict`] with constraint `users_email_key`.
    #[tracing::instrument(skip_all)]
    pub async fn create_user(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        user: NewUser<'_>,
        now: jiff::Timestamp,
    ) -> Result<User, StoreError> {
        self.insert_user(actor, site_id, user, false, now).await
    }

    pub(crate) async fn insert_user(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        user: NewUser<'_>,
        is_demo: bool,
        now: jiff::Timestamp,
    ) -> Result<User, StoreError> {
        let NewUser {
            email,
            display_name,
            role,
            password,
        } = user;
        let id = UserId::new();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "insert into users (id, site_id, email, display_name, role, password_hash, is_demo, created_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id.as_str())
        .bind(site_id.as_str())
        .bind(email.as_str())
        .bind(display_name.trim())
        .bind(role.code())
        .bind(password.as_str())
        .bind(i64::from(is_demo))
        .bind(millis(now))
        .execute(&mut *tx)
        .await?;
        audit::insert(
            &mut tx,
            now,
            actor,
            &AuditEvent::new("user.create", AuditOutcome::Ok)
                .site(site_id.as_str())
                .entity("user", id.as_str())
                .detail(format!("role={}", role.code())),
        )
        .await?;
        tx.commit().await?;
        self.user(&id).await
    }

    /// One user by id.
    #[tracing::instrument(skip_all)]
    pub async fn user(&self, id: &UserId) -> Result<User, StoreError> {
        let sql = format!("select {USER_COLUMNS} from users where id = $1");
        let row = sqlx::query(&sql)
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound { entity: "user" })?;
        user_from_row(&row)
    }

    /// One user by login email (case-insensitive).
    #[tracing::instrument(skip_all)]
    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        let sql = format!("select {USER_COLUMNS} from users where email = $1");
        let row = sqlx::query(&sql)
            .bind(email.trim().to_ascii_lowercase())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// Every user of a site, by role then name.
    #[tracing::instrument(skip_all)]
    pub async fn users(&self, site_id: &SiteId) -> Result<Vec<User>, StoreError> {
        let sql = format!(
            "select {USER_COLUMNS} from users where site_id = $1 order by role, display_name, email"
        );
        let rows = sqlx::query(&sql)
            .bind(site_id.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(user_from_row).collect()
    }

    /// One user of a site (an administrator's view: another site's account is not found).
    #[tracing::instrument(skip_all)]
    pub async fn site_user(&self, site_id: &SiteId, id: &UserId) -> Result<User, StoreError> {
        let sql = format!("select {USER_COLUMNS} from users where id = $1 and site_id = $2");
        let row = sqlx::query(&sql)
            .bind(id.as_str())
            .bind(site_id.as_str())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound { entity: "user" })?;
        user_from_row(&row)
    }

    /// Changes an account of the administrator's own site, in one transaction with its audit
    /// event (which names the change, never a password). Switching an account off or resetting
    /// its password ends its sessions at once. Returns the account as stored, or the refusal.
    #[tracing::instrument(skip_all)]
    pub async fn change_account(
        &self,
        admin: &User,
        id: &UserId,
        change: AccountChange<'_>,
        now: jiff::Timestamp,
    ) -> Result<Result<User, AccountRefusal>, StoreError> {
        let own = admin.id == *id;
        let refused = match change {
            AccountChange::Disable(true) => own.then_some(AccountRefusal::OwnAccount),
            AccountChange::Role(role) => {
                (own && role != Role::Admin).then_some(AccountRefusal::OwnAccount)
            }
            AccountChange::ResetPassword(_) => own.then_some(AccountRefusal::OwnPassword),
            AccountChange::Disable(false) | AccountChange::Unlock => None,
        };
        if let Some(refusal) = refused {
            return Ok(Err(refusal));
        }
        let mut tx = self.pool.begin().await?;
        let site = admin.site_id.as_str();
        let (sql, detail): (&str, Option<String>) = match change {
            AccountChange::Disable(off) => (
                if off {
                    "update users set disabled = 1 where id = $1 and site_id = $2"
                } else {
                    "update users set disabled = 0 where id = $1 and site_id = $2"
                },
                None,
            ),
            AccountChange::Role(role) => (
                "update users set role = $3 where id = $1 and site_id = $2",
                Some(format!("role={}", role.code())),
            ),
            AccountChange::Unlock => (
                "update users set failed_logins = 0, locked_until = null
                  where id = $1 and site_id = $2",
                None,
            ),
            AccountChange::ResetPassword(_) => (
                "update users set password_hash = $3, must_change_password = 1,
                        failed_logins = 0, locked_until = null
                  where id = $1 and site_id = $2",
                None,
            ),
        };
        let mut update = sqlx::query(sql).bind(id.as_str()).bind(site);
        match change {
            AccountChange::Role(role) => update = update.bind(role.code()),
            AccountChange::ResetPassword(hash) => update = update.bind(hash.as_str()),
            AccountChange::Disable(_) | AccountChange::Unlock => {}
        }
        if update.execute(&mut *tx).await?.rows_affected() == 0 {
            return Err(StoreError::NotFound { entity: "user" });
        }
        if matches!(
            change,
            AccountChange::Disable(true) | AccountChange::ResetPassword(_)
        ) {
            sqlx::query(
                "update login_sessions set ended_at = $2 where user_id = $1 and ended_at is null",
            )
            .bind(id.as_str())
            .bind(millis(now))
            .execute(&mut *tx)
            .await?;
        }
        let mut event = AuditEvent::new(change.action(), AuditOutcome::Ok)
            .site(site)
            .entity("user", id.as_str());
        if let Some(detail) = detail {
            event = event.detail(detail);
        }
        audit::insert(&mut tx, now, &Actor::user(admin), &event).await?;
        tx.commit().await?;
        self.tokens.forget_all();
        Ok(Ok(self.user(id).await?))
    }

    /// The person's own new password, chosen after a reset (or whenever they like): clears the
    /// demand to change it. The caller has checked the current password.
    #[tracing::instrument(skip_all)]
    pub async fn set_own_password(
        &self,
        user: &User,
        hash: &PasswordHash,
        now: jiff::Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("update users set password_hash = $2, must_change_password = 0 where id = $1")
            .bind(user.id.as_str())
            .bind(hash.as_str())
            .execute(&mut *tx)
            .await?;
        let event = AuditEvent::new("user.password_change", AuditOutcome::Ok)
            .site(user.site_id.as_str())
            .entity("user", user.id.as_str());
        audit::insert(&mut tx, now, &Actor::user(user), &event).await?;
        tx.commit().await?;
        Ok(())
    }
}
