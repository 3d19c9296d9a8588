//! What backup and restore need from the database: SQLite's online copy (`VACUUM INTO`, a
//! consistent snapshot taken while other connections go on writing), whether a database is
//! empty (a restore goes only into an empty one), and where a SQLite URL's file is. Running
//! `pg_dump` and `pg_restore` is process work and lives in the `cli` crate.

use std::path::{Path, PathBuf};

use sqlx::{Connection, Executor};

use crate::{Backend, DatabaseUrl, Store, StoreError};

impl DatabaseUrl {
    /// The file a SQLite URL names (`None` for PostgreSQL or an in-memory database).
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        if self.backend() != Backend::Sqlite {
            return None;
        }
        let rest = self.expose().strip_prefix("sqlite:")?;
        let path = rest.trim_start_matches("//");
        // ok: split always yields a first part; the fallback is never taken.
        let path = path.split('?').next().unwrap_or(path);
        (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
    }

    /// For PostgreSQL's own tools: the URL without its password, and the password (to hand
    /// over in `PGPASSWORD`, so it is never on a command line).
    pub fn libpq_parts(&self) -> (String, Option<String>) {
        match crate::connect::around_password(self.expose()) {
            Some((head, password, tail)) => (format!("{head}{tail}"), Some(password.to_owned())),
            None => (self.expose().to_owned(), None),
        }
    }
}

/// Whether the database at `url` holds no tables (a SQLite file that does not exist yet, or is
/// empty, counts as empty), without creating or migrating anything.
pub async fn database_is_empty(url: &DatabaseUrl) -> Result<bool, StoreError> {
    sqlx::any::install_default_drivers();
    if let Some(path) = url.sqlite_path() {
        return match std::fs::metadata(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
            Err(e) => Err(StoreError::Backup {
                reason: format!("cannot read {}: {e}", path.display()),
            }),
            Ok(meta) => Ok(meta.len() == 0),
        };
    }
    let mut conn = sqlx::AnyConnection::connect(url.expose()).await?;
    let tables: i64 = sqlx::query_scalar(
        "select count(*) from information_schema.tables where table_schema = current_schema()",
    )
    .fetch_one(&mut conn)
    .await?;
    conn.close().await?;
    Ok(tables == 0)
}

impl Store {
    /// Writes a consistent copy of this SQLite database to `out` (which must not exist) while
    /// other connections go on reading and writing: `VACUUM INTO` reads one snapshot.
    pub async fn backup_sqlite(&self, out: &Path) -> Result<(), StoreError> {
        if self.backend() != Backend::Sqlite {
            return Err(StoreError::Backup {
                reason: "this is a PostgreSQL database; its backup is made with pg_dump".into(),
            });
        }
        if out.exists() {
            return Err(StoreError::Backup {
                reason: format!(
                    "{} already exists; choose a new file name (a backup never overwrites one)",
                    out.display()
                ),
            });
        }
        let target = out.to_str().ok_or_else(|| StoreError::Backup {
            reason: format!(
                "{} is not a UTF-8 path; choose a plainer name",
                out.display()
            ),
        })?;
        let literal = target.replace('\'', "''");
        let mut conn = self.pool.acquire().await?;
        conn.execute(format!("vacuum into '{literal}'").as_str())
            .await?;
        Ok(())
    }
}
