//! The one error type at the store's boundary.

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The thing asked for does not exist (or is not visible to the caller).
    #[error("{entity} not found")]
    NotFound {
        /// What kind of thing was looked for.
        entity: &'static str,
    },
    /// A uniqueness or other named constraint refused the write.
    #[error("the change conflicts with existing data ({constraint})")]
    Conflict {
        /// The constraint's name as declared in the migrations.
        constraint: String,
    },
    /// The database holds a schema newer than this build understands.
    #[error(
        "the database schema is at version {found}, newer than the {supported} this Ketaflow build knows; \
         run the newer Ketaflow release that wrote it, or restore a backup made before the upgrade"
    )]
    SchemaTooNew {
        /// The highest migration version recorded in the database.
        found: i64,
        /// The highest migration version embedded in this build.
        supported: i64,
    },
    /// A backup or restore cannot go ahead.
    #[error("backup: {reason}")]
    Backup {
        /// What is wrong, and what to do.
        reason: String,
    },
    /// The database URL cannot be used.
    #[error("database URL is not usable: {reason}")]
    BadUrl {
        /// What is wrong with it.
        reason: String,
    },
    /// `--demo` was asked for on a database that holds real data.
    #[error(
        "this database holds {what} that are not demo data; demo mode refuses to run on it. \
         Start without --demo, or point --database at a new file such as sqlite://demo.db"
    )]
    NotADemoDatabase {
        /// What real data was found.
        what: &'static str,
    },
    /// A password could not be hashed.
    #[error(transparent)]
    Password(#[from] crate::PasswordError),
    /// The migrations could not be applied.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored value does not decode: the row was edited behind the application's back or
    /// written by a faulty build. Never replaced by a default.
    #[error(transparent)]
    Corrupt(#[from] Corrupt),
    /// The audit trail could not be written, so the action it would record was not done.
    #[error("the audit trail could not be written ({reason}); the request was not completed")]
    AuditUnavailable {
        /// What failed.
        reason: String,
    },
    /// A read on the native SQLite path failed.
    #[error("database error: {reason}")]
    Native {
        /// What SQLite said.
        reason: String,
    },
    /// Work handed to the blocking pool did not finish (it panicked, or the runtime is
    /// shutting down).
    #[error("a step run in the background did not finish: {0}")]
    Task(String),
    /// Any other database failure.
    #[error("database error: {0}")]
    Other(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e {
            if let Some(constraint) = db.constraint() {
                return StoreError::Conflict {
                    constraint: constraint.to_owned(),
                };
            }
            // SQLite does not name the constraint; it names the columns of a unique index
            // ("UNIQUE constraint failed: users.email"), which we map to the declared name.
            if let Some(constraint) = sqlite_unique_constraint(db.message()) {
                return StoreError::Conflict {
                    constraint: constraint.to_owned(),
                };
            }
        }
        if matches!(e, sqlx::Error::RowNotFound) {
            return StoreError::NotFound { entity: "row" };
        }
        StoreError::Other(e)
    }
}

/// The declared name of the unique constraint a SQLite message points at.
fn sqlite_unique_constraint(message: &str) -> Option<&'static str> {
    let columns = message.strip_prefix("UNIQUE constraint failed: ")?;
    match columns {
        "users.email" => Some("users_email_key"),
        "api_tokens.token_hash" => Some("api_tokens_token_hash_key"),
        "patients.site_id, patients.mrn" => Some("patients_mrn_key"),
        "rooms.site_id, rooms.name" => Some("rooms_name_unique"),
        "protocols.site_id, protocols.code" => Some("protocols_code_unique"),
        "chairs.room_id, chairs.name" => Some("chairs_name_unique"),
        "consent_documents.site_id, consent_documents.version" => {
            Some("consent_documents_version_unique")
        }
        _ => None,
    }
}

/// A stored value that does not decode, named by table, column and row.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{table}.{column} of row {id} does not decode ({problem}); the row was changed outside \
     Ketaflow: restore it from a backup"
)]
pub struct Corrupt {
    /// The table.
    pub table: &'static str,
    /// The column.
    pub column: &'static str,
    /// The row's id.
    pub id: String,
    /// What is wrong with the value.
    pub problem: String,
}
