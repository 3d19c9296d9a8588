//! Migrations: both databases reach the same schema, a newer schema is refused, SQLite settings.

use store::{Backend, StoreError};

use crate::support::TestDb;

#[tokio::test]
async fn sqlite_and_postgres_reach_the_same_schema() {
    let lite = TestDb::new(Backend::Sqlite).await;
    let pg = TestDb::new(Backend::Postgres).await;
    let a = lite.store.schema_outline().await.unwrap();
    let b = pg.store.schema_outline().await.unwrap();
    let patients = a.tables.iter().find(|t| t.name == "patients").unwrap();
    assert!(
        patients
            .columns
            .iter()
            .any(|c| c.name == "date_of_birth" && c.kind == "text" && c.not_null),
        "{patients:?}"
    );
    assert!(
        patients
            .indexes
            .iter()
            .any(|(n, c)| n == "patients_name_order_idx"
                && c == "site_id,(expression),(expression),id"),
        "{patients:?}"
    );
    assert_eq!(
        a.guarded_tables,
        [
            "audit_events",
            "cs_ledger",
            "session_vitals",
            "treatment_sessions"
        ]
    );
    // Table by table, so a difference is easy to read.
    assert_eq!(
        a.tables.iter().map(|t| &t.name).collect::<Vec<_>>(),
        b.tables.iter().map(|t| &t.name).collect::<Vec<_>>()
    );
    for (x, y) in a.tables.iter().zip(&b.tables) {
        assert_eq!(x, y, "table {} differs", x.name);
    }
    assert_eq!(a, b);
    assert_eq!(
        lite.store.schema_version().await.unwrap(),
        lite.store.supported_schema_version()
    );
    assert_eq!(
        pg.store.schema_version().await.unwrap(),
        pg.store.supported_schema_version()
    );
    lite.finish().await;
    pg.finish().await;
}

async fn newer_schema_is_refused(db: &TestDb) {
    let future = db.store.supported_schema_version() + 1;
    let sql = match db.store.backend() {
        Backend::Sqlite => format!(
            "insert into _sqlx_migrations (version, description, success, checksum, execution_time) \
             values ({future}, 'from the future', 1, x'00', 0)"
        ),
        Backend::Postgres => format!(
            "insert into _sqlx_migrations (version, description, success, checksum, execution_time) \
             values ({future}, 'from the future', true, '\\x00'::bytea, 0)"
        ),
    };
    db.raw(&sql).await;
    let err = store::Store::connect(&db.url).await.unwrap_err();
    match &err {
        StoreError::SchemaTooNew { found, supported } => {
            assert_eq!(*found, future);
            assert_eq!(*supported, future - 1);
        }
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
    assert!(err.to_string().contains("newer Ketaflow release"), "{err}");
}

async fn reconnecting_keeps_data_and_migrates_nothing_twice(db: &TestDb) {
    let site = db
        .store
        .ensure_site(
            &store::Actor::system("test"),
            "Clinic",
            "UTC",
            crate::support::t0(),
        )
        .await
        .unwrap();
    let again = store::Store::connect(&db.url).await.unwrap();
    assert_eq!(again.first_site().await.unwrap(), Some(site));
    again.close().await;
}

crate::on_both!(
    newer_schema_is_refused,
    reconnecting_keeps_data_and_migrates_nothing_twice
);

#[tokio::test]
async fn sqlite_enforces_foreign_keys_and_uses_wal() {
    let db = TestDb::new(Backend::Sqlite).await;
    let patient = clinical::patient::PatientInput {
        given_name: "A".into(),
        family_name: "B".into(),
        date_of_birth: "1990-01-01".into(),
        sex: "female".into(),
        ..Default::default()
    }
    .validate(crate::support::today())
    .unwrap();
    let err = db
        .store
        .create_patient(
            &store::Actor::system("test"),
            &store::SiteId::parse("00000000-0000-7000-8000-000000000000").unwrap(),
            &patient,
            crate::support::t0(),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("FOREIGN KEY"), "{err}");
    let path = db.url.to_string();
    let file = path
        .trim_start_matches("sqlite://")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    assert!(
        std::path::Path::new(&format!("{file}-wal")).exists(),
        "no WAL file beside {file}"
    );
    db.finish().await;
}

#[tokio::test]
async fn a_test_that_panics_leaves_no_database_behind() {
    let name = std::sync::Arc::new(std::sync::Mutex::new(None::<String>));
    let seen = name.clone();
    let outcome = tokio::spawn(async move {
        let db = store::testing::TestDb::new(store::Backend::Postgres).await;
        *seen.lock().unwrap() = db.database_name().map(str::to_owned);
        panic!("a failing assertion, on purpose");
    })
    .await;
    assert!(outcome.is_err());
    let name = name.lock().unwrap().clone().unwrap();
    use sqlx::{Connection, Row};
    sqlx::any::install_default_drivers();
    let mut admin = sqlx::AnyConnection::connect(&store::testing::postgres_base_url())
        .await
        .unwrap();
    let left: i64 = sqlx::query("select count(*) from pg_database where datname = $1")
        .bind(&name)
        .fetch_one(&mut admin)
        .await
        .unwrap()
        .get(0);
    assert_eq!(left, 0, "{name} was left behind");
}
