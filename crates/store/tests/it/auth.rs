//! Accounts, sign-in with lockout, login sessions with idle timeout, API tokens.

use clinical::patient::Email;
use jiff::SignedDuration;
use store::{
    Actor, Confirmation, LoginFailure, LoginSettings, PasswordHash, Role, StoreError, User,
};

use crate::support::{TestDb, t0};

const PASSWORD: &str = "correct horse battery";

async fn user(db: &TestDb, email: &str, role: Role) -> User {
    let site = db.clinic().await;
    db.store
        .create_user(
            &Actor::system("test"),
            &site.id,
            store::NewUser {
                email: &Email::parse(email).unwrap(),
                display_name: "Test User",
                role,
                password: &PasswordHash::new(PASSWORD).unwrap(),
            },
            t0(),
        )
        .await
        .unwrap()
}

async fn accounts_are_unique_by_email(db: &TestDb) {
    let u = user(db, "Nurse@Example.org", Role::Nurse).await;
    assert_eq!(u.email, "nurse@example.org");
    assert_eq!(u.role, Role::Nurse);
    let site = db.store.first_site().await.unwrap().unwrap();
    let err = db
        .store
        .create_user(
            &Actor::system("test"),
            &site.id,
            store::NewUser {
                email: &Email::parse("nurse@EXAMPLE.org").unwrap(),
                display_name: "Twin",
                role: Role::Admin,
                password: &PasswordHash::new(PASSWORD).unwrap(),
            },
            t0(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict { constraint } if constraint == "users_email_key"),
        "{err:?}"
    );
    assert_eq!(db.store.users(&site.id).await.unwrap(), vec![u.clone()]);
    assert_eq!(
        db.store.user_by_email(" NURSE@example.org ").await.unwrap(),
        Some(u)
    );
}

async fn five_failures_lock_the_account_for_fifteen_minutes(db: &TestDb) {
    let u = user(db, "p@example.org", Role::Prescriber).await;
    let settings = LoginSettings::default();
    let unknown = db
        .store
        .login("nobody@example.org", PASSWORD, &settings, t0())
        .await
        .unwrap();
    assert_eq!(unknown.unwrap_err(), LoginFailure::UnknownEmail);
    for i in 0..5 {
        let at = t0() + SignedDuration::from_secs(i);
        let r = db
            .store
            .login("p@example.org", "wrong password!", &settings, at)
            .await
            .unwrap();
        assert_eq!(r.unwrap_err(), LoginFailure::WrongPassword, "attempt {i}");
    }
    // Locked: even the right password fails, until fifteen minutes have passed.
    let at = t0() + SignedDuration::from_mins(14);
    let locked = db
        .store
        .login("p@example.org", PASSWORD, &settings, at)
        .await
        .unwrap();
    assert!(
        matches!(locked, Err(LoginFailure::Locked { .. })),
        "{locked:?}"
    );
    let at = t0() + SignedDuration::from_mins(16);
    let ok = db
        .store
        .login("p@example.org", PASSWORD, &settings, at)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ok.user.id, u.id);

    let site = db.store.first_site().await.unwrap().unwrap();
    let trail = db.store.audit_events(&site.id, 100, None).await.unwrap();
    let actions: Vec<_> = trail
        .iter()
        .rev()
        .map(|e| (e.action.as_str(), e.detail.as_deref()))
        .collect();
    assert!(
        actions.contains(&("auth.lockout", Some("failures=5"))),
        "{actions:?}"
    );
    assert!(
        actions.contains(&("auth.login", Some("locked"))),
        "{actions:?}"
    );
    assert!(
        actions.contains(&("auth.login", Some("unknown-email"))),
        "{actions:?}"
    );
}

async fn a_success_resets_the_failure_count(db: &TestDb) {
    user(db, "n@example.org", Role::Nurse).await;
    let settings = LoginSettings::default();
    for _ in 0..4 {
        db.store
            .login("n@example.org", "nope nope nope", &settings, t0())
            .await
            .unwrap()
            .unwrap_err();
    }
    db.store
        .login("n@example.org", PASSWORD, &settings, t0())
        .await
        .unwrap()
        .unwrap();
    for _ in 0..4 {
        db.store
            .login("n@example.org", "nope nope nope", &settings, t0())
            .await
            .unwrap()
            .unwrap_err();
    }
    db.store
        .login("n@example.org", PASSWORD, &settings, t0())
        .await
        .unwrap()
        .unwrap();
}

async fn sessions_end_after_idle_timeout_and_at_sign_out(db: &TestDb) {
    let u = user(db, "fd@example.org", Role::FrontDesk).await;
    let settings = LoginSettings::default();
    let s = db
        .store
        .login("fd@example.org", PASSWORD, &settings, t0())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(s.csrf_token.len(), 64);

    // Activity within 15 minutes keeps the session alive, each use resetting the clock.
    let mut at = t0();
    for _ in 0..3 {
        at += SignedDuration::from_mins(14);
        let auth = db
            .store
            .session(&s.token, &settings, at)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(auth.user.id, u.id);
        assert_eq!(auth.csrf_token.as_deref(), Some(s.csrf_token.as_str()));
    }
    // Sixteen idle minutes end it for good.
    at += SignedDuration::from_mins(16);
    assert!(
        db.store
            .session(&s.token, &settings, at)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        db.store
            .session(&s.token, &settings, at)
            .await
            .unwrap()
            .is_none()
    );

    let s2 = db
        .store
        .login("fd@example.org", PASSWORD, &settings, at)
        .await
        .unwrap()
        .unwrap();
    db.store.logout(&s2.token, at).await.unwrap();
    assert!(
        db.store
            .session(&s2.token, &settings, at)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        db.store
            .session("not-a-token", &settings, at)
            .await
            .unwrap()
            .is_none()
    );
}

async fn api_tokens_authenticate_until_revoked(db: &TestDb) {
    let u = user(db, "api@example.org", Role::Prescriber).await;
    let other = user(db, "other@example.org", Role::Nurse).await;
    let settings = LoginSettings::default();
    let (info, secret) = db
        .store
        .create_api_token(&Actor::user(&u), &u.id, "  ", t0())
        .await
        .unwrap();
    assert!(secret.starts_with("kf_") && secret.len() == 67, "{secret}");
    assert_eq!(info.label, "API token");
    let who = db
        .store
        .authenticate_token(&secret, &settings, t0())
        .await
        .unwrap();
    assert_eq!(who.map(|w| w.id), Some(u.id.clone()));
    let listed = db.store.api_tokens(&u.id).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].last_used_at, Some(t0()));

    let err = db
        .store
        .revoke_api_token(&Actor::user(&other), &other.id, &info.id, t0())
        .await;
    assert!(matches!(err, Err(StoreError::NotFound { .. })), "{err:?}");
    db.store
        .revoke_api_token(&Actor::user(&u), &u.id, &info.id, t0())
        .await
        .unwrap();
    assert!(
        db.store
            .authenticate_token(&secret, &settings, t0())
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        db.store
            .authenticate_token("kf_guess", &settings, t0())
            .await
            .unwrap()
            .is_none()
    );
}

async fn a_session_ends_at_its_lifetime_however_active(db: &TestDb) {
    user(db, "long@example.org", Role::Nurse).await;
    let settings = LoginSettings {
        session_lifetime: SignedDuration::from_hours(2),
        ..LoginSettings::default()
    };
    let s = db
        .store
        .login("long@example.org", PASSWORD, &settings, t0())
        .await
        .unwrap()
        .unwrap();
    // Used every ten minutes: alive up to two hours after sign-in, ended just after.
    let mut at = t0();
    while at < t0() + SignedDuration::from_mins(120) {
        at += SignedDuration::from_mins(10);
        assert!(
            db.store
                .session(&s.token, &settings, at)
                .await
                .unwrap()
                .is_some(),
            "alive at {at}"
        );
    }
    at += SignedDuration::from_mins(1);
    assert!(
        db.store
            .session(&s.token, &settings, at)
            .await
            .unwrap()
            .is_none()
    );
    // Ended for good: an earlier instant does not revive it.
    assert!(
        db.store
            .session(&s.token, &settings, t0())
            .await
            .unwrap()
            .is_none()
    );
}

async fn an_api_token_with_an_expiry_opens_nothing_after_it(db: &TestDb) {
    let u = user(db, "expiring@example.org", Role::Nurse).await;
    let settings = LoginSettings::default();
    let until = t0() + SignedDuration::from_hours(24);
    let (info, secret) = db
        .store
        .create_api_token_expiring(&Actor::user(&u), &u.id, "a day", Some(until), t0())
        .await
        .unwrap();
    assert_eq!(info.expires_at, Some(until));
    assert_eq!(
        db.store.api_tokens(&u.id).await.unwrap()[0].expires_at,
        Some(until)
    );
    let before = until - SignedDuration::from_mins(1);
    assert!(
        db.store
            .authenticate_token(&secret, &settings, before)
            .await
            .unwrap()
            .is_some()
    );
    // The process trusts a checked token for two seconds, but never past its expiry.
    assert!(
        db.store
            .authenticate_token(&secret, &settings, until)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        db.store
            .authenticate_token(&secret, &settings, until + SignedDuration::from_hours(1))
            .await
            .unwrap()
            .is_none()
    );
}

/// A password typed to confirm an act (a witness's, a second checker's, one's own before a
/// change) counts with sign-in's failures: a signed-in account cannot try another's password
/// without end, and twenty at once check at most the limit.
async fn a_password_typed_to_confirm_an_act_shares_the_sign_in_lockout(db: &TestDb) {
    let p = user(db, "p@example.org", Role::Prescriber).await;
    let nurse = db
        .store
        .create_user(
            &Actor::system("test"),
            &p.site_id,
            store::NewUser {
                email: &Email::parse("n@example.org").unwrap(),
                display_name: "Nurse",
                role: Role::Nurse,
                password: &PasswordHash::new(PASSWORD).unwrap(),
            },
            t0(),
        )
        .await
        .unwrap();
    let asker = Actor::user(&nurse);
    let settings = LoginSettings::default();
    let whose = p.clone();
    let confirm = move |password: &'static str, at| {
        let (store, asker, p) = (db.store.clone(), asker.clone(), whose.clone());
        async move {
            store
                .confirm_password(&asker, &p, password, "test-witness", &settings, at)
                .await
                .unwrap()
        }
    };
    // Four wrong sign-ins, then a right confirmation: the count starts again.
    for _ in 0..4 {
        db.store
            .login("p@example.org", "wrong password!", &settings, t0())
            .await
            .unwrap()
            .unwrap_err();
    }
    assert_eq!(confirm(PASSWORD, t0()).await, Confirmation::Right);
    // Four wrong confirmations and one wrong sign-in lock the account.
    for i in 0..4 {
        assert_eq!(
            confirm("not theirs", t0()).await,
            Confirmation::Wrong,
            "{i}"
        );
    }
    let fifth = db
        .store
        .login("p@example.org", "wrong password!", &settings, t0())
        .await
        .unwrap();
    assert_eq!(fifth.unwrap_err(), LoginFailure::WrongPassword);
    let until = t0() + settings.lockout;
    assert_eq!(
        confirm(PASSWORD, t0() + SignedDuration::from_mins(1)).await,
        Confirmation::Locked { until }
    );
    let signed = db
        .store
        .login("p@example.org", PASSWORD, &settings, t0())
        .await
        .unwrap();
    assert_eq!(signed.unwrap_err(), LoginFailure::Locked { until });
    // After the lock: twenty wrong at once check at most the limit, the rest are refused as
    // locked, and the right password after them too.
    let later = t0() + SignedDuration::from_mins(16);
    let burst = (0..20).map(|_| tokio::spawn(confirm("not theirs", later)));
    let mut wrong = 0;
    for handle in burst {
        match handle.await.unwrap() {
            Confirmation::Wrong => wrong += 1,
            Confirmation::Locked { .. } => {}
            Confirmation::Right => panic!("a wrong password was taken"),
        }
    }
    assert_eq!(wrong, settings.max_failed_logins);
    assert!(matches!(
        confirm(PASSWORD, later).await,
        Confirmation::Locked { .. }
    ));
    // The trail names who typed, whose password it was and for what; never the password.
    let trail = db.store.audit_events(&p.site_id, 1000, None).await.unwrap();
    let confirmations: Vec<_> = trail
        .iter()
        .filter(|e| e.action == "auth.confirm")
        .map(|e| {
            (
                e.actor_label.as_str(),
                e.entity_id.as_deref(),
                e.detail.as_deref().unwrap_or_default(),
            )
        })
        .collect();
    let wrongs = confirmations
        .iter()
        .filter(|c| {
            *c == &(
                "n@example.org",
                Some(p.id.as_str()),
                "purpose=test-witness wrong-password",
            )
        })
        .count();
    assert_eq!(wrongs as i64, 4 + settings.max_failed_logins);
    let locked = confirmations
        .iter()
        .filter(|c| c.2 == "purpose=test-witness locked")
        .count();
    assert_eq!(locked as i64, 2 + 20 - settings.max_failed_logins);
    assert_eq!(confirmations.len(), wrongs + locked);
    assert_eq!(
        trail.iter().filter(|e| e.action == "auth.lockout").count(),
        2
    );
}

crate::on_both!(
    a_password_typed_to_confirm_an_act_shares_the_sign_in_lockout,
    a_session_ends_at_its_lifetime_however_active,
    an_api_token_with_an_expiry_opens_nothing_after_it,
    accounts_are_unique_by_email,
    five_failures_lock_the_account_for_fifteen_minutes,
    a_success_resets_the_failure_count,
    sessions_end_after_idle_timeout_and_at_sign_out,
    api_tokens_authenticate_until_revoked,
);

#[test]
fn passwords_follow_the_policy() {
    assert!(matches!(
        PasswordHash::new("short"),
        Err(store::PasswordError::TooShort { len: 5 })
    ));
    assert!(matches!(
        PasswordHash::new(&"x".repeat(257)),
        Err(store::PasswordError::TooLong { .. })
    ));
    assert!(matches!(
        PasswordHash::new(store::DEMO_PASSWORD),
        Err(store::PasswordError::DemoPassword)
    ));
    let hash = PasswordHash::new(PASSWORD).unwrap();
    assert!(hash.verify(PASSWORD));
    assert!(!hash.verify("correct horse battery "));
    assert_eq!(format!("{hash:?}"), "PasswordHash(..)");
}
