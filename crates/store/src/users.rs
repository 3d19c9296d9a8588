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
    /// When the account was created.
    pub created_at: jiff::Timestamp,
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

pub(crate) const USER_COLUMNS: &str =
    "id, site_id, email, display_name, role, is_demo, disabled, created_at";

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
}
