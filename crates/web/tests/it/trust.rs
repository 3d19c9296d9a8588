//! Trust: the privacy officer's report of who opened a record, when and from where, and the
//! audit trail's hash-chain check from the administrator's page.

use store::Role;

use crate::support::{TestApp, alert_of};

async fn the_privacy_officer_sees_who_opened_a_record_and_from_where(app: &TestApp) {
    app.user("admin@example.org", Role::Admin).await;
    app.user("nurse@example.org", Role::Nurse).await;
    let nurse = app.signed_in("nurse@example.org").await;
    let id = app.register(&nurse, "Ana", "Ortiz", "1980-05-05").await;
    assert_eq!(
        app.get(&nurse, &format!("/patients/{id}")).await.status(),
        200
    );
    // A wrong password is recorded with its address too.
    let stranger = TestApp::browser();
    let token = app.csrf(&stranger, "/login").await;
    let res = app
        .post_form(
            &stranger,
            "/login",
            &token,
            &[
                ("email", "nurse@example.org"),
                ("password", "wrong"),
                ("next", "/"),
            ],
        )
        .await;
    assert_eq!(res.status(), 401);
    let failed = app
        .audit()
        .await
        .into_iter()
        .find(|e| e.action == "auth.login" && e.outcome == store::AuditOutcome::Failed)
        .expect("the failed sign-in is audited");
    assert_eq!(failed.client_address.as_deref(), Some("127.0.0.1"));

    let admin = app.signed_in("admin@example.org").await;
    let page = app
        .get(&admin, &format!("/admin/audit?patient={id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("<th scope=\"col\">From</th>"), "{page}");
    let read_row = page
        .split("<tr>")
        .find(|row| row.contains("<td>read a patient record</td>"))
        .expect("the nurse's read is listed");
    assert!(read_row.contains("nurse@example.org"), "{read_row}");
    assert!(read_row.contains("<td>127.0.0.1</td>"), "{read_row}");
    assert!(!page.contains("Ortiz"), "identifiers only, never the name");

    // The chain check, from the page; a nurse may not run it.
    let token = app.csrf(&admin, "/admin/audit").await;
    let res = app
        .post_form(&admin, "/admin/audit/verify", &token, &[])
        .await;
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(page.contains("Intact: "), "{page}");
    assert!(page.contains("events checked"), "{page}");
    let token = app.csrf(&nurse, "/").await;
    let res = app
        .post_form(&nurse, "/admin/audit/verify", &token, &[])
        .await;
    assert_eq!(res.status(), 403);
    assert!(
        app.audit().await.iter().any(|e| e.action == "audit.verify"),
        "the check itself is recorded"
    );
}

async fn a_token_made_on_the_account_page_can_be_given_an_expiry(app: &TestApp) {
    let nurse = app.user("tokens@example.org", Role::Nurse).await;
    let client = app.signed_in("tokens@example.org").await;
    let token = app.csrf(&client, "/account").await;
    let res = app
        .post_form(
            &client,
            "/account/tokens",
            &token,
            &[("label", "export"), ("expires_in_days", "7")],
        )
        .await;
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(page.contains("Copy this token now"), "{page}");
    let listed = app.db.store.api_tokens(&nurse.id).await.unwrap();
    let expires = listed[0].expires_at.expect("an expiry");
    let days = expires.duration_since(listed[0].created_at).as_hours() / 24;
    assert_eq!(days, 7);
    assert!(
        !page.contains("<td>never</td><td>never</td>"),
        "the expiry is shown: {page}"
    );
    // A value the list does not offer is sent back at the field, and nothing is made.
    let res = app
        .post_form(
            &client,
            "/account/tokens",
            &token,
            &[("label", "forever"), ("expires_in_days", "100000")],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Choose when the token expires")
    );
    assert_eq!(app.db.store.api_tokens(&nurse.id).await.unwrap().len(), 1);
}

/// A trail changed behind the application's back: the check's page says BROKEN as an alert,
/// names the event, and says whom to tell; the check is still recorded.
async fn a_changed_trail_is_reported_as_an_alert_with_whom_to_tell(app: &TestApp) {
    app.user("admin@example.org", Role::Admin).await;
    let admin = app.signed_in("admin@example.org").await;
    let token = app.csrf(&admin, "/admin/audit").await;
    let page = app.check_page(&admin, "/admin/audit/verify", &token).await;
    assert!(page.contains("Intact: "), "{page}");
    assert!(!page.contains("role=\"alert\""), "{page}");
    app.tamper(
        "audit_events_no_update",
        "audit_events",
        "update audit_events set actor_label = 'someone else' where seq = 2",
    )
    .await;
    let before = app.audit().await.len();
    let page = app.check_page(&admin, "/admin/audit/verify", &token).await;
    let alert = alert_of(&page);
    assert!(
        alert.contains(
            "BROKEN: audit event 2 (row 2): its content does not match its hash (altered)."
        ),
        "{alert}"
    );
    assert!(
        alert.contains("Something changed the audit trail outside Ketaflow: tell the clinic&#39;s security officer"),
        "{alert}"
    );
    assert!(page.contains("href=\"/admin/audit\""), "{page}");
    let after = app.audit().await;
    assert_eq!(after.len(), before + 1);
    assert!(after.iter().any(|e| e.action == "audit.verify"));
}

crate::on_both!(
    the_privacy_officer_sees_who_opened_a_record_and_from_where,
    a_token_made_on_the_account_page_can_be_given_an_expiry,
    a_changed_trail_is_reported_as_an_alert_with_whom_to_tell
);

/// A trail longer than the page may check in its time: the page says how far it got, that
/// those events agree, and how to check the whole trail.
#[tokio::test]
async fn the_audit_page_stops_a_long_check_at_its_deadline_and_says_how_far_it_got() {
    let app = TestApp::spawn_full(
        store::Backend::Sqlite,
        false,
        web::Limits {
            check_deadline: std::time::Duration::ZERO,
            ..web::Limits::default()
        },
    )
    .await;
    app.user("admin@example.org", Role::Admin).await;
    let actor = store::Actor::system("trust-test");
    let writes = (0..store::VERIFY_CHUNK + 50).map(|_| {
        app.db.store.audit(
            &actor,
            store::AuditEvent::new("audit.verify", store::AuditOutcome::Ok),
            jiff::Timestamp::now(),
        )
    });
    for w in futures_util::future::join_all(writes).await {
        w.unwrap();
    }
    let admin = app.signed_in("admin@example.org").await;
    let token = app.csrf(&admin, "/admin/audit").await;
    let res = app
        .post_form(&admin, "/admin/audit/verify", &token, &[])
        .await;
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    let first = format!("the first {} of ", store::VERIFY_CHUNK);
    assert!(page.contains("Not finished: "), "{page}");
    assert!(page.contains(&first), "{page}");
    assert!(page.contains("ketaflow audit verify"), "{page}");
    app.finish().await;
}
