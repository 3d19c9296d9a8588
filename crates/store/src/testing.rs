//! Test databases for Ketaflow's own suites (feature `testing`): a fresh SQLite file or a fresh
//! PostgreSQL database per test, removed at the end.
//!
//! PostgreSQL is reached at `KETAFLOW_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`).
#![allow(clippy::unwrap_used, clippy::panic, clippy::expect_used, missing_docs)]

use crate::{Backend, DatabaseUrl, Store};

/// The PostgreSQL server the suites use.
pub fn postgres_base_url() -> String {
    std::env::var("KETAFLOW_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A database that exists for one test.
pub struct TestDb {
    pub store: Store,
    pub url: DatabaseUrl,
    cleanup: Cleanup,
    finished: bool,
}

impl Drop for TestDb {
    /// A test that panicked never reaches [`TestDb::finish`]: its PostgreSQL database is dropped
    /// here, from a thread of its own (the test's runtime may be gone or inside a panic).
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        if let Cleanup::Postgres { admin_url, name } = &self.cleanup {
            drop_database_from_thread(admin_url, name);
        }
    }
}

/// Drops a PostgreSQL test database from a thread of its own (the caller's runtime may be gone
/// or inside a panic).
fn drop_database_from_thread(admin_url: &str, name: &str) {
    let (admin_url, name) = (admin_url.to_owned(), name.to_owned());
    let _ = std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        rt.block_on(async {
            use sqlx::{Connection, Executor};
            sqlx::any::install_default_drivers();
            if let Ok(mut conn) = sqlx::AnyConnection::connect(&admin_url).await {
                let _ = conn
                    .execute(format!("drop database if exists {name} with (force)").as_str())
                    .await;
                let _ = conn.close().await;
            }
        });
    })
    .join();
}

/// A database with nothing in it yet, for restore tests: a SQLite file name in a fresh
/// directory (the file does not exist), or a newly created, empty PostgreSQL database. Removed
/// when dropped.
pub struct EmptyDb {
    pub url: DatabaseUrl,
    cleanup: Cleanup,
}

impl EmptyDb {
    pub async fn new(backend: Backend) -> EmptyDb {
        let (url, cleanup) = new_database(backend).await;
        EmptyDb { url, cleanup }
    }
}

impl Drop for EmptyDb {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, name } = &self.cleanup {
            drop_database_from_thread(admin_url, name);
        }
    }
}

async fn new_database(backend: Backend) -> (DatabaseUrl, Cleanup) {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}", dir.path().join("ketaflow.db").display());
            (DatabaseUrl::parse(&url).unwrap(), Cleanup::Sqlite(dir))
        }
        Backend::Postgres => {
            let admin_url = postgres_base_url();
            let name = format!("kf_test_{}", uuid_simple());
            admin(&admin_url, &format!("create database {name}")).await;
            let url = replace_database(&admin_url, &name);
            (
                DatabaseUrl::parse(&url).unwrap(),
                Cleanup::Postgres { admin_url, name },
            )
        }
    }
}

/// Every application table's rows, each row as a JSON list of its column values in column
/// order, the rows sorted: two databases hold the same data exactly when these are equal.
pub async fn table_rows(store: &Store) -> std::collections::BTreeMap<String, Vec<String>> {
    use sqlx::Row;
    let outline = store.schema_outline().await.unwrap();
    let mut all = std::collections::BTreeMap::new();
    for table in outline.tables {
        let columns: Vec<_> = table.columns.iter().map(|c| c.name.clone()).collect();
        let sql = format!("select {} from {}", columns.join(", "), table.name);
        let rows = sqlx::query(&sql).fetch_all(&store.pool).await.unwrap();
        let mut out: Vec<String> = rows
            .iter()
            .map(|row| {
                let values: Vec<serde_json::Value> = table
                    .columns
                    .iter()
                    .map(|c| match c.kind {
                        "integer" => serde_json::json!(
                            row.try_get::<Option<i64>, _>(c.name.as_str())
                                .unwrap_or_else(|e| panic!("{}.{}: {e}", table.name, c.name))
                        ),
                        "real" => serde_json::json!(
                            row.try_get::<Option<f64>, _>(c.name.as_str())
                                .unwrap_or_else(|e| panic!("{}.{}: {e}", table.name, c.name))
                        ),
                        _ => serde_json::json!(
                            row.try_get::<Option<String>, _>(c.name.as_str())
                                .unwrap_or_else(|e| panic!("{}.{}: {e}", table.name, c.name))
                        ),
                    })
                    .collect();
                serde_json::Value::Array(values).to_string()
            })
            .collect();
        out.sort();
        all.insert(table.name, out);
    }
    all
}

/// The rows `sql` returns, every column read as text (cast numbers in the query).
pub async fn text_rows(store: &Store, sql: &str) -> Vec<Vec<Option<String>>> {
    use sqlx::Row;
    let rows = sqlx::query(sql).fetch_all(&store.pool).await.unwrap();
    rows.iter()
        .map(|row| {
            (0..row.len())
                .map(|i| {
                    row.try_get::<Option<String>, _>(i)
                        .unwrap_or_else(|e| panic!("{sql}: column {i}: {e}"))
                })
                .collect()
        })
        .collect()
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    pub async fn new(backend: Backend) -> TestDb {
        let (url, cleanup) = new_database(backend).await;
        let store = Store::connect(&url).await.unwrap();
        TestDb {
            store,
            url,
            cleanup,
            finished: false,
        }
    }

    /// The clinic most stories take place in: "Clinic", keeping UTC, set up at [`t0`] by the
    /// system (the same site on every call).
    pub async fn clinic(&self) -> crate::Site {
        self.store
            .ensure_site(&crate::Actor::system("test"), "Clinic", "UTC", t0())
            .await
            .unwrap()
    }

    /// The PostgreSQL database's name (`None` on SQLite).
    pub fn database_name(&self) -> Option<&str> {
        match &self.cleanup {
            Cleanup::Postgres { name, .. } => Some(name),
            Cleanup::Sqlite(_) => None,
        }
    }

    /// Closes the store and removes the database.
    pub async fn finish(mut self) {
        self.finished = true;
        self.store.close().await;
        if let Cleanup::Postgres { admin_url, name } = &self.cleanup {
            admin(
                admin_url,
                &format!("drop database if exists {name} with (force)"),
            )
            .await;
        }
    }

    /// Runs one statement on a connection of the test's own, outside the store's API.
    pub async fn raw(&self, sql: &str) {
        if let Err(e) = self.try_raw(sql).await {
            panic!("{sql}: {e}");
        }
    }

    /// Runs one statement outside the store's API; the database's error, if it refuses it.
    pub async fn try_raw(&self, sql: &str) -> Result<(), String> {
        use sqlx::{Connection, Executor};
        sqlx::any::install_default_drivers();
        let url = match self.store.backend() {
            Backend::Sqlite => self.url.to_string(),
            Backend::Postgres => match &self.cleanup {
                Cleanup::Postgres { admin_url, name } => replace_database(admin_url, name),
                Cleanup::Sqlite(_) => unreachable!(),
            },
        };
        let mut conn = sqlx::AnyConnection::connect(&url)
            .await
            .map_err(|e| e.to_string())?;
        let outcome = conn
            .execute(sql)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string());
        conn.close().await.map_err(|e| e.to_string())?;
        outcome
    }
}

async fn admin(url: &str, sql: &str) {
    use sqlx::{Connection, Executor};
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap_or_else(|e| {
        panic!(
            "PostgreSQL is not reachable at {url} ({e}); start it \
             (pg_ctlcluster --skip-systemctl-redirect 15 main start) or set KETAFLOW_TEST_POSTGRES_URL"
        )
    });
    conn.execute(sql).await.unwrap();
    conn.close().await.unwrap();
}

fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let cut = base
        .rfind('/')
        .filter(|&i| i > "postgres://".len())
        .unwrap_or(base.len());
    let mut out = format!("{}/{name}", &base[..cut]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

fn uuid_simple() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{}_{}_{}",
        std::process::id(),
        nanos % 1_000_000_000,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A fixed instant, so tests can move time forward explicitly.
pub fn t0() -> jiff::Timestamp {
    "2026-11-23T14:00:00Z".parse().unwrap()
}

pub fn today() -> jiff::civil::Date {
    "2026-11-23".parse().unwrap()
}

/// Seats `n` more patients of the (already seeded) demo clinic in chairs of their own, each in
/// an IV infusion that is running with two readings: the load of a busy clinic for the session
/// benchmark (`crates/web/examples/session_load.rs`). Returns the sessions' ids.
pub async fn seat_patients(
    store: &Store,
    n: usize,
    now: jiff::Timestamp,
) -> Result<Vec<crate::SessionId>, crate::StoreError> {
    use crate::demo_sessions::{Plan, bp};
    use crate::{Actor, NewAppointment, NewChair, NewCourse, StoreError};
    use clinical::course::{Product, builtin_protocols};
    let site = store
        .first_site()
        .await?
        .ok_or(StoreError::NotFound { entity: "site" })?;
    let nurse_user = store
        .user_by_email("nurse@example.org")
        .await?
        .ok_or(StoreError::NotFound { entity: "user" })?;
    let doctor_user = store
        .user_by_email("prescriber@example.org")
        .await?
        .ok_or(StoreError::NotFound { entity: "user" })?;
    let (nurse, doctor) = (Actor::user(&nurse_user), Actor::user(&doctor_user));
    let system = Actor::system("bench");
    let protocol = builtin_protocols()
        .into_iter()
        .find(|p| p.code == "iv_induction_thrice_weekly")
        .ok_or(StoreError::NotFound { entity: "protocol" })?;
    // A zone in which now is about noon, so the slots never cross a chair's midnight.
    let hour = now.to_zoned(jiff::tz::TimeZone::UTC).hour();
    let tz = jiff::tz::TimeZone::fixed(
        jiff::tz::Offset::from_hours(12 - hour).unwrap_or(jiff::tz::Offset::UTC),
    );
    let today = now.to_zoned(tz.clone()).date();
    let room = store
        .create_room(&system, &site.id, "Bench room", now)
        .await?;
    let hours = clinical::booking::OpeningHours::every_day_all_day();
    let diagnosis = clinical::diagnoses::find("F33.2").ok_or(StoreError::NotFound {
        entity: "diagnosis",
    })?;
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let chair = store
            .create_chair(
                &system,
                &site.id,
                &NewChair {
                    room_id: &room,
                    name: &format!("Bench chair {i}"),
                    supports: &[Product::IvRacemic],
                    hours: &hours,
                },
                now,
            )
            .await?;
        let input = clinical::patient::PatientInput {
            given_name: format!("Bench{i}"),
            family_name: "Seated".into(),
            date_of_birth: "1980-05-05".into(),
            sex: "female".into(),
            phone: String::new(),
            email: String::new(),
        };
        let patient = input
            .validate(today)
            .map_err(|_| StoreError::NotFound { entity: "patient" })?;
        let record = store
            .create_patient(&system, &site.id, &patient, now)
            .await?;
        store
            .add_diagnosis(&doctor, &site.id, &record.id, diagnosis, now)
            .await?;
        let new = NewCourse {
            patient_id: &record.id,
            diagnosis_code: diagnosis.code,
            protocol: &protocol,
            instrument: clinical::instruments::InstrumentId::Phq9,
            starts_on: today,
            dose: protocol.dose,
        };
        let course_id = store
            .create_course(&doctor, &site.id, &new, now)
            .await?
            .map_err(|_| StoreError::NotFound { entity: "course" })?;
        let course = store.course(&site.id, &course_id).await?;
        store.demo_screening(&site, &course, &doctor, now).await?;
        store.demo_consent(&site, &course, &nurse, now).await?;
        let start = now - jiff::SignedDuration::from_mins(20);
        let appointment = store
            .book(
                &system,
                &site.id,
                &NewAppointment {
                    patient_id: &record.id,
                    chair_id: &chair,
                    course_id: Some(&course_id),
                    kind: clinical::booking::AppointmentKind::IvInfusion,
                    starts_at: start,
                    ends_at: start + jiff::SignedDuration::from_mins(130),
                },
                &tz,
                now,
            )
            .await?
            .map_err(|_| StoreError::NotFound { entity: "slot" })?;
        let readings = [(5, bp(134, 84, 80, 98, 15)), (12, bp(140, 86, 82, 97, 14))];
        let plan = Plan {
            course: &course,
            appointment: &appointment.id,
            at: start,
            weight_kg: 70.0,
            baseline: bp(124, 80, 76, 98, 15),
            readings: &readings,
            stop_after: None,
            close_after: None,
        };
        store
            .demo_session(&site, &plan, &nurse, &doctor, &doctor_user.id)
            .await?;
        if let Some(id) = store
            .session_of_appointment(&site.id, &appointment.id)
            .await?
        {
            ids.push(id);
        }
    }
    Ok(ids)
}
