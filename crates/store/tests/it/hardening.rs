//! Regressions from the outside probe: concurrent sign-in bursts, the size of what anonymous
//! input writes to the audit trail, and rows that do not decode.

use clinical::patient::{Email, PatientInput};
use store::{Actor, LoginFailure, LoginSettings, PasswordHash, PatientSort, Role, StoreError};

use crate::support::{TestDb, t0, today};

const PASSWORD: &str = "correct horse battery";

async fn forty_concurrent_wrong_passwords_check_at_most_the_limit(db: &TestDb) {
    let site = db.clinic().await;
    db.store
        .create_user(
            &Actor::system("test"),
            &site.id,
            store::NewUser {
                email: &Email::parse("burst@example.org").unwrap(),
                display_name: "Burst",
                role: Role::Nurse,
                password: &PasswordHash::new(PASSWORD).unwrap(),
            },
            t0(),
        )
        .await
        .unwrap();
    let settings = LoginSettings::default();
    let attempts = (0..40).map(|i| {
        let store = db.store.clone();
        tokio::spawn(async move {
            store
                .login(
                    "burst@example.org",
                    &format!("wrong password {i}"),
                    &settings,
                    t0(),
                )
                .await
                .unwrap()
        })
    });
    let mut wrong = 0;
    let mut locked = 0;
    for outcome in futures_join(attempts).await {
        match outcome {
            Err(LoginFailure::WrongPassword) => wrong += 1,
            Err(LoginFailure::Locked { .. }) => locked += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(
        wrong <= settings.max_failed_logins,
        "{wrong} passwords were checked; at most {} may be",
        settings.max_failed_logins
    );
    assert_eq!(wrong + locked, 40);
    // The right password right after the burst is refused: the account is locked.
    let after = db
        .store
        .login("burst@example.org", PASSWORD, &settings, t0())
        .await
        .unwrap();
    assert!(
        matches!(after, Err(LoginFailure::Locked { .. })),
        "{after:?}"
    );
    // The trail says the same: exactly as many wrong-password events as checks, one lockout.
    let trail = db.store.audit_events(&site.id, 1000, None).await.unwrap();
    let checked = trail
        .iter()
        .filter(|e| e.detail.as_deref() == Some("wrong-password"))
        .count();
    assert_eq!(checked as i64, wrong);
    assert_eq!(
        trail.iter().filter(|e| e.action == "auth.lockout").count(),
        1
    );
}

async fn futures_join<T: Send + 'static>(
    handles: impl Iterator<Item = tokio::task::JoinHandle<T>>,
) -> Vec<T> {
    let handles: Vec<_> = handles.collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

async fn anonymous_sign_in_attempts_write_bounded_rows(db: &TestDb) {
    let settings = LoginSettings::default();
    let huge = "x".repeat(256 * 1024) + "@example.org";
    for _ in 0..20 {
        let r = db
            .store
            .login(&huge, "whatever password", &settings, t0())
            .await
            .unwrap();
        assert_eq!(r.unwrap_err(), LoginFailure::UnknownEmail);
    }
    let bytes = db.store.audit_text_bytes().await.unwrap();
    // 20 rows of at most 254 characters of label and a short detail each.
    assert!(bytes <= 20 * (254 + 32), "{bytes} bytes for 20 attempts");
}

async fn a_row_that_does_not_decode_is_an_error_naming_it(db: &TestDb) {
    let actor = Actor::system("test");
    let site = db.clinic().await;
    let input = PatientInput {
        given_name: "Decoded".into(),
        family_name: "Strictly".into(),
        date_of_birth: "1980-01-01".into(),
        sex: "female".into(),
        ..Default::default()
    };
    let p = db
        .store
        .create_patient(&actor, &site.id, &input.validate(today()).unwrap(), t0())
        .await
        .unwrap();
    for (column, value) in [
        ("date_of_birth", "'not a date'"),
        ("created_at", "99999999999999999"),
    ] {
        db.raw(&format!(
            "update patients set {column} = {value} where id = '{}'",
            p.id
        ))
        .await;
        let one = db
            .store
            .patient(&actor, &site.id, &p.id, t0())
            .await
            .unwrap_err();
        // The list is read on SQLite's native path: the same decoder, the same error.
        let list = db
            .store
            .patients(&actor, &site.id, "", PatientSort::Name, 50, t0())
            .await
            .unwrap_err();
        for err in [one, list] {
            match &err {
                StoreError::Corrupt(c) => {
                    assert_eq!(
                        (c.table, c.column, c.id.as_str()),
                        ("patients", column, p.id.as_str())
                    );
                }
                other => panic!("{column}: {other:?}"),
            }
            assert!(err.to_string().contains("patients."), "{err}");
        }
        // Put the good value back before the next column.
        db.raw(&format!(
            "update patients set date_of_birth = '1980-01-01', created_at = 0 where id = '{}'",
            p.id
        ))
        .await;
    }
}

async fn a_site_whose_time_zone_is_unknown_does_not_decode(db: &TestDb) {
    let site = db.clinic().await;
    assert_eq!(site.zone, jiff::tz::TimeZone::get(&site.timezone).unwrap());
    // A zone renamed or dropped from the time zone database, or a row written by hand: the
    // site's days and times are never shown in UTC instead.
    db.raw(&format!(
        "update sites set timezone = 'Mars/Olympus' where id = '{}'",
        site.id
    ))
    .await;
    let one = db.store.site(&site.id).await.unwrap_err();
    let all = db.store.sites().await.unwrap_err();
    for err in [one, all] {
        match &err {
            StoreError::Corrupt(c) => {
                assert_eq!(
                    (c.table, c.column, c.id.as_str()),
                    ("sites", "timezone", site.id.as_str())
                );
                assert!(c.problem.contains("Mars/Olympus"), "{}", c.problem);
            }
            other => panic!("{other:?}"),
        }
    }
}

crate::on_both!(
    a_site_whose_time_zone_is_unknown_does_not_decode,
    forty_concurrent_wrong_passwords_check_at_most_the_limit,
    anonymous_sign_in_attempts_write_bounded_rows,
    a_row_that_does_not_decode_is_an_error_naming_it,
);
