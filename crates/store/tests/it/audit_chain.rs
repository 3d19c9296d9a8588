//! The audit trail's hash chain on both databases: events written inside transactions and by
//! the group-commit writer at once form one unbroken chain; the schema refuses changes; and an
//! event altered, forged, written without a place, cut off or deleted behind the application's
//! back (triggers dropped) is found by `verify_audit` at that event; a long trail is checked in
//! chunks, reports its progress, stops at a deadline saying how far it got, and holds no
//! transaction open between its chunks.

use store::{Actor, AuditCheck, AuditEvent, AuditOutcome, Backend, Store, VERIFY_CHUNK};

use crate::support::{OpenTransactions, TestDb, t0, today};

async fn verified(store: &Store) -> u64 {
    match store.verify_audit(None, &|_, _| {}).await.unwrap() {
        AuditCheck::Intact(n) => n,
        other => panic!("the chain should verify: {other}"),
    }
}

async fn broken_at(store: &Store) -> store::AuditBroken {
    match store.verify_audit(None, &|_, _| {}).await.unwrap() {
        AuditCheck::Broken(broken) => broken,
        other => panic!("verify should fail: {other}"),
    }
}

async fn demo_clinic(db: &TestDb) -> (store::Site, Vec<store::PatientId>) {
    db.store.seed_demo(t0(), today()).await.unwrap();
    let site = db.store.first_site().await.unwrap().unwrap();
    let patients = db
        .store
        .patients(
            &Actor::system("test"),
            &site.id,
            "",
            store::PatientSort::Name,
            50,
            t0(),
        )
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    (site, patients)
}

async fn writes_from_everywhere_make_one_unbroken_chain(db: &TestDb) {
    let (site, patients) = demo_clinic(db).await;
    let before = verified(&db.store).await;
    assert!(before > 50, "the demo writes its events: {before}");
    let nurse = db
        .store
        .user_by_email("nurse@example.org")
        .await
        .unwrap()
        .unwrap();
    let actor = Actor::user(&nurse).from_address("192.0.2.7");
    // 40 reads through the group-commit writer and 10 patient-record reads, all at once.
    let mut tasks = Vec::new();
    for i in 0..40 {
        let (store, actor) = (db.store.clone(), actor.clone());
        let patient = patients[i % patients.len()].clone();
        tasks.push(tokio::spawn(async move {
            let event = AuditEvent::new("patient.read", AuditOutcome::Ok)
                .entity("patient", patient.as_str())
                .patient(patient.as_str());
            store.audit(&actor, event, t0()).await.unwrap();
        }));
    }
    for i in 0..10 {
        let (store, actor, site) = (db.store.clone(), actor.clone(), site.id.clone());
        let patient = patients[i % patients.len()].clone();
        tasks.push(tokio::spawn(async move {
            store.patient(&actor, &site, &patient, t0()).await.unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(verified(&db.store).await, before + 50);
    // The address is part of what the privacy officer reads, and of what is hashed.
    let events = db
        .store
        .audit_events_for_patient(&patients[0])
        .await
        .unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.client_address.as_deref() == Some("192.0.2.7")),
        "{events:?}"
    );
}

async fn the_schema_refuses_changes_and_unchained_events(db: &TestDb) {
    demo_clinic(db).await;
    for sql in [
        "update audit_events set detail = 'x' where seq = 2",
        "update audit_events set seq = 99999 where seq = 2",
        "delete from audit_events where seq = 2",
        "insert into audit_events (at, actor_label, action, outcome) values (0, 'x', 'patient.read', 'ok')",
    ] {
        let e = refusal(db, sql).await;
        assert!(
            e.contains("append-only") || e.contains("hash chain"),
            "{sql}: {e}"
        );
    }
    verified(&db.store).await;
}

async fn refusal(db: &TestDb, sql: &str) -> String {
    match db.try_raw(sql).await {
        Ok(()) => panic!("the database accepted {sql}"),
        Err(e) => e,
    }
}

async fn drop_guards(db: &TestDb) {
    match db.store.backend() {
        Backend::Sqlite => {
            for t in [
                "audit_events_no_update",
                "audit_events_no_delete",
                "audit_events_chained",
            ] {
                db.raw(&format!("drop trigger {t}")).await;
            }
        }
        Backend::Postgres => {
            for t in ["audit_events_no_update", "audit_events_chained"] {
                db.raw(&format!("drop trigger {t} on audit_events")).await;
            }
        }
    }
}

async fn a_trail_changed_behind_the_applications_back_fails_verify_at_that_event(db: &TestDb) {
    demo_clinic(db).await;
    let total = verified(&db.store).await;
    let total = i64::try_from(total).unwrap();
    drop_guards(db).await;

    // Altered: one character added to the actor of event 5, then taken off again.
    db.raw("update audit_events set actor_label = actor_label || 'x' where seq = 5")
        .await;
    let broken = broken_at(&db.store).await;
    assert_eq!(broken.seq, 5, "{broken}");
    assert!(broken.problem.contains("altered"), "{broken}");
    db.raw(
        "update audit_events set actor_label = substr(actor_label, 1, length(actor_label) - 1) where seq = 5",
    )
    .await;
    assert_eq!(verified(&db.store).await, total as u64);

    // Forged: an event after the head, with a made-up hash.
    db.raw(&format!(
        "insert into audit_events (seq, at, actor_label, action, outcome, prev_hash, hash)
         values ({}, 0, 'intruder', 'patient.read', 'ok', 'x', 'y')",
        total + 1
    ))
    .await;
    let broken = broken_at(&db.store).await;
    assert_eq!(broken.seq, total + 1, "{broken}");
    db.raw(&format!(
        "delete from audit_events where seq = {}",
        total + 1
    ))
    .await;

    // Written without a place in the chain.
    db.raw(
        "insert into audit_events (at, actor_label, action, outcome) values (0, 'intruder', 'patient.read', 'ok')",
    )
    .await;
    let broken = broken_at(&db.store).await;
    assert!(broken.problem.contains("no place"), "{broken}");
    db.raw("delete from audit_events where seq is null").await;
    assert_eq!(verified(&db.store).await, total as u64);

    // Cut off: the newest event deleted.
    db.raw(&format!(
        "create table kept_event as select * from audit_events where seq = {total}"
    ))
    .await;
    db.raw(&format!("delete from audit_events where seq = {total}"))
        .await;
    let broken = broken_at(&db.store).await;
    assert!(broken.problem.contains("newest"), "{broken}");
    let overriding = match db.store.backend() {
        Backend::Sqlite => "",
        // The id column is generated always; putting a row back needs the override.
        Backend::Postgres => "overriding system value",
    };
    db.raw(&format!(
        "insert into audit_events {overriding} select * from kept_event"
    ))
    .await;
    assert_eq!(verified(&db.store).await, total as u64);

    // Deleted: event 3.
    db.raw("delete from audit_events where seq = 3").await;
    let broken = broken_at(&db.store).await;
    assert_eq!(broken.seq, 3, "{broken}");
    assert!(broken.problem.contains("missing"), "{broken}");
}

async fn events_from_before_the_chain_are_sealed_once_at_the_next_start(db: &TestDb) {
    let before = verified(&db.store).await;
    // As a database migrated from a version without the chain holds them: no place, no hash.
    drop_guards(db).await;
    db.raw("update audit_chain set legacy_until = 1000000000")
        .await;
    for i in 0..3 {
        db.raw(&format!(
            "insert into audit_events (at, actor_label, action, outcome) values ({i}, 'system:old', 'site.create', 'ok')"
        ))
        .await;
    }
    let reopened = Store::connect(&db.url).await.unwrap();
    assert_eq!(verified(&reopened).await, before + 3);
    // A second start seals nothing more.
    let again = Store::connect(&db.url).await.unwrap();
    assert_eq!(verified(&again).await, before + 3);
    reopened.close().await;
    again.close().await;
}

/// A trail of more than two chunks: checked whole with its progress told after each chunk, an
/// event altered in the third chunk found at that event, and a check whose deadline has passed
/// stops after its first chunk saying how far it got.
/// Writes events until the trail holds at least `wanted`; returns how many it holds.
async fn trail_of_at_least(db: &TestDb, wanted: u64) -> u64 {
    let actor = Actor::system("chunk-test");
    let before = verified(&db.store).await;
    let more = wanted.saturating_sub(before);
    for batch in 0..more.div_ceil(500) {
        let n = (more - batch * 500).min(500);
        let writes = (0..n).map(|_| {
            db.store.audit(
                &actor,
                AuditEvent::new("audit.verify", AuditOutcome::Ok),
                t0(),
            )
        });
        for w in futures_util::future::join_all(writes).await {
            w.unwrap();
        }
    }
    before + more
}

async fn a_long_trail_is_checked_in_chunks_with_progress_and_a_deadline(db: &TestDb) {
    demo_clinic(db).await;
    let total = trail_of_at_least(db, 2 * VERIFY_CHUNK as u64 + 100).await;
    assert!(total > 2 * VERIFY_CHUNK as u64);

    let seen = std::sync::Mutex::new(Vec::new());
    let progress = |checked: u64, of: u64| seen.lock().unwrap().push((checked, of));
    let check = db.store.verify_audit(None, &progress).await.unwrap();
    assert_eq!(check, AuditCheck::Intact(total));
    let seen = seen.into_inner().unwrap();
    let chunk = VERIFY_CHUNK as u64;
    assert_eq!(
        seen,
        vec![(chunk, total), (2 * chunk, total), (total, total)],
        "after each chunk"
    );

    let passed = std::time::Instant::now();
    let check = db
        .store
        .verify_audit(Some(passed), &|_, _| {})
        .await
        .unwrap();
    assert_eq!(
        check,
        AuditCheck::Unfinished {
            checked: chunk,
            total
        }
    );
    assert_eq!(
        check.to_string(),
        format!("stopped after {chunk} of {total} events")
    );

    drop_guards(db).await;
    let target = 2 * VERIFY_CHUNK as i64 + 7;
    db.raw(&format!(
        "update audit_events set actor_label = 'someone else' where seq = {target}"
    ))
    .await;
    let broken = broken_at(&db.store).await;
    assert_eq!(broken.seq, target, "{broken}");
    assert!(broken.problem.contains("altered"), "{broken}");

    // A second event at the first chunk's last place (the unique index on places dropped):
    // the next chunk is read from the place after, so it is looked for before the walk.
    let boundary = VERIFY_CHUNK as i64;
    let columns = "seq, at, site_id, actor_user_id, actor_label, action, outcome, entity_type, \
                   entity_id, patient_id, detail, client_address, prev_hash, hash";
    db.raw("drop index audit_events_seq_key").await;
    db.raw(&format!(
        "insert into audit_events ({columns})
         select {columns} from audit_events where seq = {boundary}"
    ))
    .await;
    let broken = broken_at(&db.store).await;
    assert_eq!(
        (broken.seq, broken.id.as_str()),
        (boundary, "shared"),
        "{broken}"
    );
    assert!(
        broken
            .problem
            .contains("more than one event claims this place"),
        "{broken}"
    );
}

/// Between its chunks a check of the trail holds no transaction open: on SQLite the WAL can
/// be checkpointed and reset while a long check runs (a snapshot held for the whole check kept
/// it from being reset, so under the clinic's writes it grew for as long as the check ran);
/// on PostgreSQL no transaction of the store's stays open (one would hold back vacuum).
async fn a_check_of_the_trail_holds_no_transaction_between_its_chunks(db: &TestDb) {
    demo_clinic(db).await;
    let total = trail_of_at_least(db, 2 * VERIFY_CHUNK as u64 + 100).await;
    let open = OpenTransactions::new(db).await;
    let seen = std::sync::Mutex::new(Vec::new());
    let progress = |checked: u64, of: u64| {
        if checked < of {
            seen.lock().unwrap().push(open.look());
        }
    };
    let check = db.store.verify_audit(None, &progress).await.unwrap();
    assert_eq!(check, AuditCheck::Intact(total));
    let seen = seen.into_inner().unwrap();
    assert_eq!(
        seen,
        vec![open.none(); 2],
        "after the first two of three chunks"
    );
}

crate::on_both!(
    a_check_of_the_trail_holds_no_transaction_between_its_chunks,
    writes_from_everywhere_make_one_unbroken_chain,
    a_long_trail_is_checked_in_chunks_with_progress_and_a_deadline,
    the_schema_refuses_changes_and_unchained_events,
    a_trail_changed_behind_the_applications_back_fails_verify_at_that_event,
    events_from_before_the_chain_are_sealed_once_at_the_next_start
);
