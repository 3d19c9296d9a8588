//! Helpers of the story suite; the databases themselves come from `store::testing`.

pub(crate) use store::testing::{TestDb, t0, today};

/// Declares `sqlite` and `postgres` tests that run the same story.
#[macro_export]
macro_rules! on_both {
    ($($story:ident),* $(,)?) => {
        $(
            mod $story {
                #[tokio::test]
                async fn sqlite() {
                    let db = store::testing::TestDb::new(store::Backend::Sqlite).await;
                    super::$story(&db).await;
                    db.finish().await;
                }
                #[tokio::test]
                async fn postgres() {
                    let db = store::testing::TestDb::new(store::Backend::Postgres).await;
                    super::$story(&db).await;
                    db.finish().await;
                }
            }
        )*
    };
}

/// Looks, from outside the store, at what a check of a chain leaves open between its chunks.
/// On SQLite it writes a row to a table of its own (so the WAL holds frames) and runs
/// `pragma wal_checkpoint(truncate)`, which resets the WAL only when no read transaction is
/// left behind; on PostgreSQL it counts the open transactions of other connections.
pub(crate) struct OpenTransactions {
    backend: store::Backend,
    url: String,
}

impl OpenTransactions {
    /// What [`OpenTransactions::look`] says when nothing is left open.
    pub(crate) const NONE_SQLITE: &str = "busy 0, WAL frames 0, copied 0";
    pub(crate) const NONE_POSTGRES: &str = "0 transactions open";

    pub(crate) async fn new(db: &TestDb) -> OpenTransactions {
        let backend = db.store.backend();
        if backend == store::Backend::Sqlite {
            db.raw("create table wal_probe (n integer)").await;
        }
        OpenTransactions {
            backend,
            url: db.url.to_string(),
        }
    }

    /// What nothing left open looks like on this database.
    pub(crate) fn none(&self) -> &'static str {
        match self.backend {
            store::Backend::Sqlite => Self::NONE_SQLITE,
            store::Backend::Postgres => Self::NONE_POSTGRES,
        }
    }

    /// Looks now (synchronously: it is called from a check's progress callback).
    pub(crate) fn look(&self) -> String {
        match self.backend {
            store::Backend::Sqlite => {
                let path = self
                    .url
                    .trim_start_matches("sqlite:")
                    .trim_start_matches("//")
                    .split('?')
                    .next()
                    .unwrap();
                let conn = rusqlite::Connection::open(path).unwrap();
                conn.busy_timeout(std::time::Duration::from_secs(2))
                    .unwrap();
                conn.execute("insert into wal_probe (n) values (1)", [])
                    .unwrap();
                // (busy, WAL frames, frames copied): all 0 once the WAL is reset.
                let (busy, log, done): (i64, i64, i64) = conn
                    .query_row("pragma wal_checkpoint(truncate)", [], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                    })
                    .unwrap();
                format!("busy {busy}, WAL frames {log}, copied {done}")
            }
            store::Backend::Postgres => {
                let url = self.url.clone();
                // On a thread with a runtime of its own: the caller is inside the test's.
                let open: i64 = std::thread::spawn(move || {
                    tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap()
                        .block_on(async {
                            use sqlx::Connection;
                            sqlx::any::install_default_drivers();
                            let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
                            sqlx::query_scalar(
                                "select count(*) from pg_stat_activity
                                  where datname = current_database() and pid <> pg_backend_pid()
                                    and backend_type = 'client backend' and xact_start is not null",
                            )
                            .fetch_one(&mut conn)
                            .await
                            .unwrap()
                        })
                })
                .join()
                .unwrap();
                format!("{open} transactions open")
            }
        }
    }
}
