//! Assessments, self-report links, safety alerts and loaded wording.

use clinical::instruments::content::{ContentInput, ItemInput};
use clinical::instruments::recording::Intent;
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
    let site = db.clinic().await;
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

/// A nurse of `site`, who makes self-report links.
async fn nurse(db: &TestDb, site: &SiteId, email: &str) -> store::User {
    db.store
        .create_user(
            &Actor::system("test"),
            site,
            NewUser {
                email: &Email::parse(email).unwrap(),
                display_name: "Nurse",
                role: Role::Nurse,
                password: &PasswordHash::new("a long enough password").unwrap(),
            },
            t0(),
        )
        .await
        .unwrap()
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
            Intent::default(),
            t0(),
        )
        .await
        .unwrap()
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
            Intent::default(),
            t0() + day,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(second.flags, vec!["suicidality_item"]);
    let alerts = db.store.open_alerts(&actor, &site, t0()).await.unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].patient_name, "Robin Measured");
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
            Intent::default(),
            t0(),
        )
        .await;
    assert!(missing.is_err());
}

async fn self_report_links_work_once_and_expire(db: &TestDb) {
    let (site, p) = patient(db).await;
    let actor = Actor::system("test");
    let nurse = nurse(db, &site, "nurse@example.org").await;
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

async fn a_baseline_link_answered_after_the_baseline_is_kept_at_another_time(db: &TestDb) {
    let (site, p) = patient(db).await;
    let actor = Actor::system("test");
    let nurse = nurse(db, &site, "links@example.org").await;
    let link = || {
        db.store.create_self_report_link(
            &nurse,
            &p.id,
            InstrumentId::Phq9,
            TimePoint::Baseline,
            SignedDuration::from_hours(72),
            t0(),
        )
    };
    // Two baseline links, both made before any baseline: the first answered is the baseline,
    // the second is kept whole at another time.
    let (first, second) = (link().await.unwrap(), link().await.unwrap());
    let phq = |item9| score(InstrumentId::Phq9, &[2, 2, 2, 2, 2, 2, 2, 2, item9]).unwrap();
    let a = db
        .store
        .submit_self_report(&first.secret, &phq(0), t0())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a.time_point, TimePoint::Baseline);
    let later = t0() + SignedDuration::from_hours(1);
    let b = db
        .store
        .submit_self_report(&second.secret, &phq(1), later)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(b.time_point, TimePoint::Other);
    assert_eq!(b.answers[8], 1, "the answers are kept as given");
    assert_eq!(
        db.store
            .open_alerts(&actor, &site, later)
            .await
            .unwrap()
            .len(),
        1,
        "and still raise their alert"
    );
    // A GAD-7 has no baseline yet: its baseline link is its baseline.
    let gad_link = db
        .store
        .create_self_report_link(
            &nurse,
            &p.id,
            InstrumentId::Gad7,
            TimePoint::Baseline,
            SignedDuration::from_hours(72),
            t0(),
        )
        .await
        .unwrap();
    let gad = score(InstrumentId::Gad7, &[1; 7]).unwrap();
    let c = db
        .store
        .submit_self_report(&gad_link.secret, &gad, later)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.time_point, TimePoint::Baseline);
    let all = db
        .store
        .assessments(&actor, &site, &p.id, later)
        .await
        .unwrap();
    let baselines = all
        .iter()
        .filter(|r| r.instrument == InstrumentId::Phq9 && r.time_point == TimePoint::Baseline)
        .count();
    assert_eq!(baselines, 1);
    assert_eq!(store::baseline(&all, InstrumentId::Phq9).unwrap().id, a.id);

    // Two baseline links answered at the same moment make one baseline.
    let epds_link = || {
        db.store.create_self_report_link(
            &nurse,
            &p.id,
            InstrumentId::Epds,
            TimePoint::Baseline,
            SignedDuration::from_hours(72),
            t0(),
        )
    };
    let (x, y) = (epds_link().await.unwrap(), epds_link().await.unwrap());
    let epds = score(InstrumentId::Epds, &[1, 1, 1, 1, 1, 1, 1, 1, 1, 0]).unwrap();
    let (one, two) = tokio::join!(
        db.store.submit_self_report(&x.secret, &epds, later),
        db.store.submit_self_report(&y.secret, &epds, later)
    );
    let mut points = [
        one.unwrap().unwrap().time_point,
        two.unwrap().unwrap().time_point,
    ];
    points.sort_by_key(|t| t.code());
    assert_eq!(points, [TimePoint::Baseline, TimePoint::Other]);
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

async fn one_baseline_unless_rebaselined_and_repeats_are_confirmed(db: &TestDb) {
    use clinical::instruments::recording::RecordingRefusal;
    let (site, p) = patient(db).await;
    let actor = Actor::system("test");
    let day = SignedDuration::from_hours(24);
    let record =
        |answers: Vec<i64>, tp: TimePoint, at: jiff::Timestamp, intent: Intent<'static>| {
            let store = db.store.clone();
            let (site, id, actor) = (site.clone(), p.id.clone(), actor.clone());
            async move {
                let s = score(InstrumentId::Gad7, &answers).unwrap();
                store
                    .record_assessment(EnteredBy::Staff(&actor), &site, &id, &s, tp, at, intent, at)
                    .await
                    .unwrap()
            }
        };
    // Ten first baselines at once: exactly one is kept, the others are refused.
    let tries = (0..10).map(|i| {
        record(
            vec![2, 2, 2, 2, 2, 2, i64::from(i % 4)],
            TimePoint::Baseline,
            t0() + SignedDuration::from_mins(i64::from(i) * 20),
            Intent::default(),
        )
    });
    let outcomes = futures_join(tries).await;
    assert_eq!(
        outcomes.iter().filter(|o| o.is_ok()).count(),
        1,
        "{outcomes:?}"
    );
    assert!(
        outcomes
            .iter()
            .filter_map(|o| o.as_ref().err())
            .all(|e| matches!(e, RecordingRefusal::BaselineExists { .. }))
    );

    // A re-baseline with a reason is kept, and becomes the baseline.
    let rebased = record(
        vec![3, 3, 3, 3, 3, 3, 3],
        TimePoint::Baseline,
        t0() + 40 * day,
        Intent {
            rebaseline_reason: Some("restarting after a break"),
            ..Intent::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        rebased.rebaseline_reason.as_deref(),
        Some("restarting after a break")
    );
    let all = db
        .store
        .assessments(&actor, &site, &p.id, t0())
        .await
        .unwrap();
    assert_eq!(
        store::baseline(&all, InstrumentId::Gad7).map(|b| b.id.clone()),
        Some(rebased.id)
    );

    // Identical answers five minutes later: refused until confirmed.
    let weekly = vec![1, 1, 1, 1, 1, 1, 1];
    let at = t0() + 47 * day;
    record(weekly.clone(), TimePoint::Weekly, at, Intent::default())
        .await
        .unwrap();
    let again = record(
        weekly.clone(),
        TimePoint::Weekly,
        at + SignedDuration::from_mins(5),
        Intent::default(),
    )
    .await;
    assert_eq!(again, Err(RecordingRefusal::Repeat { taken_at: at }));
    let confirmed = Intent {
        repeat_confirmed: true,
        ..Intent::default()
    };
    assert!(
        record(
            weekly,
            TimePoint::Weekly,
            at + SignedDuration::from_mins(5),
            confirmed
        )
        .await
        .is_ok()
    );
}

/// Runs the futures at once and returns their outputs in order.
async fn futures_join<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

crate::on_both!(
    one_baseline_unless_rebaselined_and_repeats_are_confirmed,
    a_positive_safety_item_raises_an_alert_with_the_assessment,
    self_report_links_work_once_and_expire,
    a_baseline_link_answered_after_the_baseline_is_kept_at_another_time,
    loaded_wording_round_trips_and_replaces,
);
