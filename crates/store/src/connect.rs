//! Opening a database: URL parsing, connection settings, migrations and the schema-version guard.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor};

use crate::StoreError;
use crate::audit::AuditWriter;
use crate::auth::TokenCache;
use crate::native::NativeReads;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// How long a SQLite connection waits for another writer before giving up, in milliseconds.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 5_000;

/// Which database engine a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded SQLite file (the default).
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

impl Backend {
    /// The name reported by `/healthz` and in logs.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    fn migrator(self) -> &'static Migrator {
        match self {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        }
    }
}

/// A database URL whose scheme has been recognised. Its `Debug` and `Display` hide any password.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    url: String,
    backend: Backend,
}

impl DatabaseUrl {
    /// Parses `sqlite://PATH`, `sqlite:PATH`, `postgres://...` or `postgresql://...`.
    ///
    /// A SQLite file that does not exist yet is created (`mode=rwc` is added unless a mode is given).
    pub fn parse(input: &str) -> Result<Self, StoreError> {
        let input = input.trim();
        if input.starts_with("postgres://") || input.starts_with("postgresql://") {
            return Ok(DatabaseUrl {
                url: input.to_owned(),
                backend: Backend::Postgres,
            });
        }
        if let Some(rest) = input.strip_prefix("sqlite:") {
            let path = rest.trim_start_matches("//");
            if path.is_empty() || path.starts_with('?') {
                return Err(StoreError::BadUrl {
                    reason: format!(
                        "'{input}' names no file; use sqlite://ketaflow.db or sqlite:///absolute/path.db"
                    ),
                });
            }
            let mut url = input.to_owned();
            if !path.contains("mode=") {
                url.push(if path.contains('?') { '&' } else { '?' });
                url.push_str("mode=rwc");
            }
            return Ok(DatabaseUrl {
                url,
                backend: Backend::Sqlite,
            });
        }
        Err(StoreError::BadUrl {
            reason: format!(
                "'{}' is neither sqlite://PATH nor postgres://USER@HOST/DB",
                redact(input)
            ),
        })
    }

    /// The engine this URL names.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The full URL, password included; for handing to the driver only.
    pub(crate) fn expose(&self) -> &str {
        &self.url
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({})", redact(&self.url))
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact(&self.url))
    }
}

/// The parts of `scheme://user:password@host/rest` around the password:
/// (`scheme://user`, the password, `@host/rest`), when the URL has one.
pub(crate) fn around_password(url: &str) -> Option<(String, &str, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    // ok: a URL without a path is all authority.
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let at = rest[..authority_end].rfind('@')?;
    let (user, password) = rest[..at].split_once(':')?;
    Some((format!("{scheme}://{user}"), password, &rest[at..]))
}

/// Replaces the password in `scheme://user:password@host` with `***`.
fn redact(url: &str) -> String {
    match around_password(url) {
        Some((head, _, tail)) => format!("{head}:***{tail}"),
        None => url.to_owned(),
    }
}

/// A connection pool to one Ketaflow database. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pub(crate) pool: AnyPool,
    backend: Backend,
    pub(crate) audit_writer: AuditWriter,
    pub(crate) tokens: std::sync::Arc<TokenCache>,
    /// The native read path of a SQLite file ([`crate::native`]); `None` on PostgreSQL and
    /// for an in-memory database.
    pub(crate) native: Option<NativeReads>,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish()
    }
}

impl Store {
    /// Opens the database, brings its schema up to date and returns the store.
    ///
    /// SQLite connections run in WAL mode with foreign keys enforced and a busy timeout.
    /// A database whose schema is newer than this build is refused with
    /// [`StoreError::SchemaTooNew`] and left untouched.
    pub async fn connect(url: &DatabaseUrl) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = url.backend();
        let options =
            AnyConnectOptions::from_str(url.expose()).map_err(|e| StoreError::BadUrl {
                reason: e.to_string(),
            })?;
        let pool = match backend {
            Backend::Sqlite => {
                // A local file's connections do not drop, so they are not pinged before each use
                // (a ping is a round trip to the connection's worker thread, as dear as a query).
                // Four for reads and writes, one held by the audit writer.
                AnyPoolOptions::new()
                    .max_connections(5)
                    .test_before_acquire(false)
                    .acquire_timeout(Duration::from_secs(10))
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            let pragmas = format!(
                                "pragma foreign_keys = on; pragma busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}; \
                                 pragma journal_mode = wal; pragma synchronous = normal;"
                            );
                            conn.execute(pragmas.as_str()).await?;
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await?
            }
            Backend::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(10)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await?
            }
        };
        // A SQLite file takes the native path for its hot reads and its audit writer
        // (`crate::native`); both open their connections when first used, after migration.
        let busy = Duration::from_millis(u64::from(SQLITE_BUSY_TIMEOUT_MS));
        let sqlite_path = url.sqlite_path();
        let audit_writer = match sqlite_path.clone() {
            Some(path) => {
                AuditWriter::start_thread(move |rx| crate::native::run_audit_writer(path, busy, rx))
                    .map_err(|e| StoreError::AuditUnavailable {
                        reason: format!("the audit writer thread did not start: {e}"),
                    })?
            }
            None => AuditWriter::start(pool.clone()),
        };
        let store = Store {
            pool,
            backend,
            audit_writer,
            tokens: std::sync::Arc::default(),
            native: sqlite_path.map(|path| NativeReads::new(&path, busy)),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Which engine this store runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        match &self.native {
            Some(native) => {
                native
                    .read(|conn| {
                        conn.prepare_cached("select 1")?
                            .query_row([], |row| row.get::<_, i64>(0))?;
                        Ok(())
                    })
                    .await
            }
            None => {
                sqlx::query("select 1").execute(&self.pool).await?;
                Ok(())
            }
        }
    }

    /// Closes every connection; waits for queries in flight and for the audit events queued.
    pub async fn close(&self) {
        self.audit_writer.stop().await;
        self.pool.close().await;
    }

    /// The highest migration version this build embeds.
    pub fn supported_schema_version(&self) -> i64 {
        self.backend
            .migrator()
            .iter()
            .map(|m| m.version)
            .max()
            .unwrap_or(0)
    }

    /// The highest migration version recorded in the database (0 for a new database).
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        let exists_sql = match self.backend {
            Backend::Sqlite => {
                "select count(*) from sqlite_master where type = 'table' and name = '_sqlx_migrations'"
            }
            Backend::Postgres => {
                "select count(*) from information_schema.tables \
                 where table_schema = current_schema() and table_name = '_sqlx_migrations'"
            }
        };
        let exists: i64 = sqlx::query_scalar(exists_sql).fetch_one(&self.pool).await?;
        if exists == 0 {
            return Ok(0);
        }
        let version: i64 =
            sqlx::query_scalar("select coalesce(max(version), 0) from _sqlx_migrations")
                .fetch_one(&self.pool)
                .await?;
        Ok(version)
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let found = self.schema_version().await?;
        let supported = self.supported_schema_version();
        if found > supported {
            return Err(StoreError::SchemaTooNew { found, supported });
        }
        self.backend.migrator().run(&self.pool).await?;
        self.fill_patient_search_keys().await?;
        self.seal_legacy_audit().await?;
        Ok(())
    }

    /// Every application table's columns (name, kind of type, nullability), its explicitly
    /// created indexes (name and columns), and which tables triggers guard, normalised so the
    /// two databases' schemas can be compared.
    pub async fn schema_outline(&self) -> Result<SchemaOutline, StoreError> {
        let tables_sql = match self.backend {
            Backend::Sqlite => {
                "select name from sqlite_master where type = 'table' \
                 and name not like 'sqlite_%' and name <> '_sqlx_migrations' order by name"
            }
            Backend::Postgres => {
                "select table_name::text from information_schema.tables where table_schema = current_schema() \
                 and table_type = 'BASE TABLE' and table_name <> '_sqlx_migrations' order by table_name"
            }
        };
        let names: Vec<String> = sqlx::query_scalar(tables_sql).fetch_all(&self.pool).await?;
        let mut tables = Vec::with_capacity(names.len());
        for name in names {
            let columns_sql = match self.backend {
                Backend::Sqlite => {
                    "select name, lower(type), cast(\"notnull\" as bigint) + cast(pk as bigint) \
                     from pragma_table_info($1) order by name"
                }
                Backend::Postgres => {
                    "select column_name::text, data_type::text, \
                            case when is_nullable = 'NO' then 1 else 0 end::bigint \
                     from information_schema.columns \
                     where table_schema = current_schema() and table_name = $1 order by column_name"
                }
            };
            let rows: Vec<(String, String, i64)> = sqlx::query_as(columns_sql)
                .bind(&name)
                .fetch_all(&self.pool)
                .await?;
            let columns = rows
                .into_iter()
                .map(|(column, ty, not_null)| ColumnOutline {
                    name: column,
                    kind: type_kind(&ty),
                    not_null: not_null > 0,
                })
                .collect();
            let index_sql = match self.backend {
                Backend::Sqlite => {
                    "select i.name, group_concat(coalesce(c.name, '(expression)'), ',') from sqlite_master i \
                     join pragma_index_info(i.name) c \
                     where i.type = 'index' and i.tbl_name = $1 and i.sql is not null \
                     group by i.name order by i.name"
                }
                Backend::Postgres => {
                    "select ic.relname::text, string_agg(coalesce(a.attname::text, '(expression)'), ',' order by k.ord) \
                     from pg_index x \
                     join pg_class ic on ic.oid = x.indexrelid \
                     join pg_class tc on tc.oid = x.indrelid \
                     join pg_namespace n on n.oid = tc.relnamespace \
                     cross join lateral unnest(x.indkey::int2[]) with ordinality as k(attnum, ord) \
                     left join pg_attribute a on a.attrelid = x.indrelid and a.attnum = k.attnum \
                     where tc.relname = $1 and n.nspname = current_schema() \
                       and not exists (select 1 from pg_constraint c where c.conindid = x.indexrelid) \
                     group by ic.relname order by ic.relname"
                }
            };
            let indexes: Vec<(String, String)> = sqlx::query_as(index_sql)
                .bind(&name)
                .fetch_all(&self.pool)
                .await?;
            tables.push(TableOutline {
                name,
                columns,
                indexes,
            });
        }
        let guarded_sql = match self.backend {
            Backend::Sqlite => {
                "select distinct tbl_name from sqlite_master where type = 'trigger' order by tbl_name"
            }
            Backend::Postgres => {
                "select distinct c.relname::text from pg_trigger t join pg_class c on c.oid = t.tgrelid \
                 join pg_namespace n on n.oid = c.relnamespace \
                 where not t.tgisinternal and n.nspname = current_schema() order by 1"
            }
        };
        let guarded_tables = sqlx::query_scalar(guarded_sql)
            .fetch_all(&self.pool)
            .await?;
        Ok(SchemaOutline {
            tables,
            guarded_tables,
        })
    }
}

/// A schema as both databases can describe it, for the parity test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaOutline {
    /// Application tables by name.
    pub tables: Vec<TableOutline>,
    /// Tables that triggers guard (the append-only ones).
    pub guarded_tables: Vec<String>,
}

/// One table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableOutline {
    /// Its name.
    pub name: String,
    /// Its columns by name.
    pub columns: Vec<ColumnOutline>,
    /// Indexes created by name (not those behind constraints), with their columns.
    pub indexes: Vec<(String, String)>,
}

/// One column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnOutline {
    /// Its name.
    pub name: String,
    /// `text`, `integer` or `real`, whatever the width the engine stores.
    pub kind: &'static str,
    /// Whether it refuses NULL (a primary key counts as refusing it).
    pub not_null: bool,
}

/// The family of a declared type, as sqlx's `Any` driver decodes it.
fn type_kind(declared: &str) -> &'static str {
    let t = declared.to_ascii_lowercase();
    if t.contains("int") {
        "integer"
    } else if t.contains("char") || t.contains("text") || t.contains("clob") {
        "text"
    } else if t.contains("real")
        || t.contains("double")
        || t.contains("float")
        || t.contains("numeric")
    {
        "real"
    } else {
        "other"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_tools_get_the_url_without_its_password() {
        let url = DatabaseUrl::parse("postgres://kf:s3cret@db:5432/kf?sslmode=require").unwrap();
        assert_eq!(
            url.libpq_parts(),
            (
                "postgres://kf@db:5432/kf?sslmode=require".to_owned(),
                Some("s3cret".to_owned())
            )
        );
        let plain = DatabaseUrl::parse("postgres://postgres@127.0.0.1/test").unwrap();
        assert_eq!(
            plain.libpq_parts(),
            ("postgres://postgres@127.0.0.1/test".to_owned(), None)
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite://k.db").unwrap().sqlite_path(),
            Some(std::path::PathBuf::from("k.db"))
        );
    }

    #[test]
    fn urls_are_recognised_and_redacted() {
        let cases = [
            (
                "sqlite://ketaflow.db",
                Backend::Sqlite,
                "sqlite://ketaflow.db?mode=rwc",
            ),
            (
                "sqlite:data/k.db?mode=ro",
                Backend::Sqlite,
                "sqlite:data/k.db?mode=ro",
            ),
            (
                "sqlite:///abs/k.db?cache=shared",
                Backend::Sqlite,
                "sqlite:///abs/k.db?cache=shared&mode=rwc",
            ),
            (
                "postgres://kf:s3cret@db:5432/kf",
                Backend::Postgres,
                "postgres://kf:***@db:5432/kf",
            ),
            (
                "postgresql://postgres@127.0.0.1/test",
                Backend::Postgres,
                "postgresql://postgres@127.0.0.1/test",
            ),
        ];
        for (input, backend, shown) in cases {
            let url = DatabaseUrl::parse(input).unwrap();
            assert_eq!(url.backend(), backend, "{input}");
            assert_eq!(url.to_string(), shown, "{input}");
            assert!(!format!("{url:?}").contains("s3cret"));
        }
    }

    #[test]
    fn unusable_urls_say_what_is_accepted() {
        for input in [
            "mysql://root@localhost/k",
            "sqlite://",
            "ketaflow.db",
            "postgres:/x:pw@h",
        ] {
            let err = DatabaseUrl::parse(input).unwrap_err().to_string();
            assert!(err.contains("sqlite://"), "{input}: {err}");
        }
        let err = DatabaseUrl::parse("mysql://u:topsecret@h/db")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("topsecret"), "{err}");
    }
}
