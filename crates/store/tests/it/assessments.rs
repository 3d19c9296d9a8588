//! Assessments, self-report links, safety alerts and loaded wording.

use clinical::instruments::content::{ContentInput, ItemInput};
use clinical::instruments::schedule::TimePoint;
use clinical::instruments::{InstrumentId, score};
use clinical::patient::{Email, PatientInput};
use jiff::SignedDuration;
use store::{
    Actor, EnteredBy, LinkState, NewUser, PasswordHash, PatientId, PatientRecord, Role, SiteId,
};

use crate::support::{TestDb, t0, today};

async fn patient(db: &TestDb) -> (SiteId, PatientRecord) {
    let actor = Actor::system("test");
    let site = db
        .store
        .ensure_site(&actor, "Clinic", "UTC", t0())
        .await
        .unwrap();
    let input = PatientInput {
        given_name: "Robin".into(),
        family_name: "Measured".into(),
        date_of_birth: "1979-03-03".into(),
        sex: "other".into(),
        ..Default::default()
    };
    let p = db
        .store
        .create_patient(&actor, &site.id, &input.validate(today()).unwrap(), t0())
        .await
        .unwrap();
    (site.id, p)
}

async fn a_positive_safety_item_raises_an_alert_with_the_assessment(db: &TestDb) {
    let (site, p) = patient(db).await;
    let actor = Actor::system("test");
    let calm = score(InstrumentId::Phq9, &[2, 2, 2, 2, 2, 2, 2, 2, 0]).unwrap();
    let day = SignedDuration::from_hours(24);
    let first = db
        .store
        .record_assessment(
            EnteredBy::Staff(&actor),
            &site,
            &p.id,
            &calm,
            TimePoint::Baseline,
            t0(),
            t0(),
        )
        .await
        .unwrap();
    assert_eq!(
        (first.total, first.severity.as_deref()),
        (16, Some("moderately_severe"))
    );
    assert_eq!(first.answers, vec![2, 2, 2, 2, 2, 2, 2, 2, 0]);
    assert!(first.flags.is_empty());
    assert!(
        db.store
            .open_alerts(&actor, &site, t0())
            .await
            .unwrap()
            .is_empty()
    );

    let worrying = score(InstrumentId::Phq9, &[1, 1, 1, 1, 1, 1, 1, 1, 2]).unwrap();
    let second = db
        .store
        .record_assessment(
            EnteredBy::Staff(&actor),
            &site,
            &p.id,
            &worrying,
            TimePoint::Weekly,
            t0() + day,
            t0() + day,
        )
        .await
        .unwrap();
    assert_eq!(second.flags, vec!["suicidality_item"]);
    let alerts = db.store.open_alerts(&actor, &site, t0()).await.unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].patient_name, "Measured, Robin");
    assert!(alerts[0].message.contains("PHQ-9 item 9"));

    let listed = db
        .store
        .assessments(&actor, &site, &p.id, t0())
        .await
        .unwrap();
    assert_eq!(listed, vec![first, second]);
    // Another site sees nothing of this patient (a site that does not exist cannot even be
    // audited, so the read fails rather than answering without its audit record).
    let elsewhere = db
        .store
        .assessments(
            &actor,
            &SiteId::parse("00000000-0000-7000-8000-000000000000").unwrap(),
            &p.id,
            t0(),
        )
        .await;
    assert!(
        matches!(elsewhere, Err(store::StoreError::AuditUnavailable { .. })),
        "{elsewhere:?}"
    );

    let follow_up = clinical::safety::FollowUpInput {
        contact: "phone".into(),
        actions: vec!["crisis_line_given".into()],
        note: "Reached by phone; safe, crisis line given.".into(),
    }
    .validate()
    .unwrap();
    db.store
        .acknowledge_alert(&actor, &site, &alerts[0].id, &follow_up, t0() + day)
        .await
        .unwrap();
    assert!(
        db.store
            .open_alerts(&actor, &site, t0())
            .await
            .unwrap()
            .is_empty()
    );
    let again = db
        .store
        .acknowledge_alert(&actor, &site, &alerts[0].id, &follow_up, t0() + day)
        .await;
    assert!(again.is_err(), "an alert is acknowledged once");
    let history = db.store.patient_alerts(&site, &p.id).await.unwrap();
    assert_eq!(history.len(), 1);
    assert!(history[0].acknowledged_at.is_some());
    let kept = history[0].follow_up.as_ref().unwrap();
    assert_eq!(kept.contact, clinical::safety::Contact::Phone);
    assert_eq!(kept.actions, [clinical::safety::Action::CrisisLineGiven]);
    assert_eq!(kept.note, "Reached by phone; safe, crisis line given.");
    assert_eq!(
        history[0].raised_by.as_ref().map(|r| r.0),
        Some(InstrumentId::Phq9)
    );

    let trail: Vec<_> = db
        .store
        .audit_events_for_patient(&p.id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    for action in [
        "assessment.create",
        "alert.raise",
        "assessment.list",
        "alert.acknowledge",
    ] {
        assert!(
            trail.iter().any(|a| a == action),
            "{action} missing from {trail:?}"
        );
    }
    let missing = db
        .store
        .record_assessment(
            EnteredBy::Staff(&actor),
            &site,
            &PatientId::parse("00000000-0000-7000-8000-000000000001").unwrap(),
            &calm,
            TimePoint::Other,
            t0(),
            t0(),
        )
        .await;
    assert!(missing.is_err());
}

async fn self_report_links_work_once_and_expire(db: &TestDb) {
    let (site, p) = patient(db).await;
    let actor = Actor::system("test");
    let nurse = db
        .store
        .create_user(
            &actor,
            &site,
            NewUser {
                email: &Email::parse("nurse@example.org").unwrap(),
                display_name: "Nurse",
                role: Role::Nurse,
                password: &PasswordHash::new("a long enough password").unwrap(),
            },
            t0(),
        )
        .await
        .unwrap();
    let hours = SignedDuration::from_hours(72);
    let link = db
        .store
        .create_self_report_link(
            &nurse,
            &p.id,
            InstrumentId::Phq9,
            TimePoint::Weekly,
            hours,
            t0(),
        )
        .await
        .unwrap();
    assert_eq!(link.expires_at, t0() + hours);
    match db.store.self_report_link(&link.secret, t0()).await.unwrap() {
        LinkState::Open {
            patient_id,
            instrument,
            time_point,
            ..
        } => {
            assert_eq!(
                (patient_id, instrument, time_point),
                (p.id.clone(), InstrumentId::Phq9, TimePoint::Weekly)
            );
        }
        other => panic!("{other:?}"),
    }
    // A score of another instrument is refused; nothing is stored.
    let gad = score(InstrumentId::Gad7, &[0; 7]).unwrap();
    assert!(
        db.store
            .submit_self_report(&link.secret, &gad, t0())
            .await
            .unwrap()
            .is_none()
    );

    let phq = score(InstrumentId::Phq9, &[0, 0, 0, 0, 0, 0, 0, 0, 1]).unwrap();
    let stored = db
        .store
        .submit_self_report(&link.secret, &phq, t0())
        .await
        .unwrap()
        .unwrap();
    assert!(stored.entered_by_patient);
    assert_eq!(stored.entered_by_user_id, None);
    assert_eq!(
        db.store
            .open_alerts(&actor, &site, t0())
            .await
            .unwrap()
            .len(),
        1,
        "the safety item raised an alert"
    );
    assert_eq!(
        db.store.self_report_link(&link.secret, t0()).await.unwrap(),
        LinkState::Used
    );
    assert!(
        db.store
            .submit_self_report(&link.secret, &phq, t0())
            .await
            .unwrap()
            .is_none()
    );

    let late = db
        .store
        .create_self_report_link(
            &nurse,
            &p.id,
            InstrumentId::Phq9,
            TimePoint::Weekly,
            hours,
            t0(),
        )
        .await
        .unwrap();
    let after = t0() + hours;
    assert_eq!(
        db.store
            .self_report_link(&late.secret, after)
            .await
            .unwrap(),
        LinkState::Expired
    );
    assert!(
        db.store
            .submit_self_report(&late.secret, &phq, after)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        db.store.self_report_link("nonsense", t0()).await.unwrap(),
        LinkState::Unknown
    );
    let mut elsewhere = nurse.clone();
    elsewhere.site_id = SiteId::parse("00000000-0000-7000-8000-000000000000").unwrap();
    let none = db
        .store
        .create_self_report_link(
            &elsewhere,
            &p.id,
            InstrumentId::Phq9,
            TimePoint::Weekly,
            hours,
            t0(),
        )
        .await;
    assert!(none.is_err(), "a link needs a patient of the caller's site");
    let all = db
        .store
        .assessments(&actor, &site, &p.id, t0())
        .await
        .unwrap();
    assert_eq!(all.len(), 1);
}

async fn loaded_wording_round_trips_and_replaces(db: &TestDb) {
    let actor = Actor::system("test");
    let input = |first: &str| ContentInput {
        instrument: "gad7".into(),
        language: "en".into(),
        instructions: "Over the last two weeks, how often...".into(),
        options: vec![
            "Never".into(),
            "Some days".into(),
            "Most days".into(),
            "Every day".into(),
        ],
        items: (1..=7)
            .map(|i| ItemInput {
                text: format!("{first} {i}"),
                options: vec![],
            })
            .collect(),
    };
    assert!(
        db.store
            .instrument_content(InstrumentId::Gad7, "en")
            .await
            .unwrap()
            .is_none()
    );
    db.store
        .save_instrument_content(&actor, &input("first").validate().unwrap(), t0())
        .await
        .unwrap();
    db.store
        .save_instrument_content(&actor, &input("second").validate().unwrap(), t0())
        .await
        .unwrap();
    let loaded = db
        .store
        .instrument_content(InstrumentId::Gad7, "en")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(loaded, input("second").validate().unwrap());
    assert!(
        db.store
            .instrument_content(InstrumentId::Gad7, "es")
            .await
            .unwrap()
            .is_none()
    );
}

crate::on_both!(
    a_positive_safety_item_raises_an_alert_with_the_assessment,
    self_report_links_work_once_and_expire,
    loaded_wording_round_trips_and_replaces,
);
