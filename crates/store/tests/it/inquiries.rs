//! Public inquiries: stored from the public page, worked by the front desk with each change kept,
//! registered as a patient once, and purged after the retention period.

use clinical::inquiry::{InquiryInput, InquiryStatus};
use clinical::patient::PatientInput;
use jiff::SignedDuration;
use store::{Actor, NewUser, PasswordHash, Role};

use crate::support::{TestDb, t0, today};

fn inquiry(given: &str) -> clinical::inquiry::Inquiry {
    InquiryInput {
        given_name: given.into(),
        family_name: "Hale".into(),
        phone: "555 010 0123".into(),
        contact_times: vec!["evenings".into()],
        heard_from: "clinician".into(),
        ..InquiryInput::default()
    }
    .validate()
    .unwrap()
}

async fn inquiries_are_worked_registered_once_and_purged(db: &TestDb) {
    let system = Actor::system("test");
    let site = db.clinic().await;
    let email = clinical::patient::Email::parse("desk@example.org").unwrap();
    let hash = PasswordHash::new("a long test password").unwrap();
    let desk = db
        .store
        .create_user(
            &system,
            &site.id,
            NewUser {
                email: &email,
                display_name: "Dee Desk",
                role: Role::FrontDesk,
                password: &hash,
            },
            t0(),
        )
        .await
        .unwrap();
    let actor = Actor::user(&desk);
    let old = db
        .store
        .create_inquiry(&site.id, &inquiry("Old"), t0())
        .await
        .unwrap();
    let later = t0() + SignedDuration::from_hours(24 * 100);
    let id = db
        .store
        .create_inquiry(&site.id, &inquiry("Gale"), later)
        .await
        .unwrap();

    let new = db
        .store
        .inquiries(&actor, &site.id, Some(InquiryStatus::New), 50, later)
        .await
        .unwrap();
    // The queue of new ones is answered oldest first.
    assert_eq!(
        new.iter().map(|i| i.id.clone()).collect::<Vec<_>>(),
        vec![old.clone(), id.clone()]
    );
    db.store
        .set_inquiry_status(
            &desk,
            &id,
            InquiryStatus::Contacted,
            Some("left a voicemail"),
            later,
        )
        .await
        .unwrap();
    // Counted by status, every status listed; all together, newest first.
    assert_eq!(
        db.store.inquiry_counts(&site.id).await.unwrap(),
        vec![
            (InquiryStatus::New, 1),
            (InquiryStatus::Contacted, 1),
            (InquiryStatus::BookedForIntake, 0),
            (InquiryStatus::Declined, 0),
        ]
    );
    let all = db
        .store
        .inquiries(&actor, &site.id, None, 50, later)
        .await
        .unwrap();
    assert_eq!(
        all.iter().map(|i| i.id.clone()).collect::<Vec<_>>(),
        vec![id.clone(), old.clone()]
    );
    let (record, changes) = db
        .store
        .inquiry(&actor, &site.id, &id, later)
        .await
        .unwrap();
    assert_eq!(record.status, InquiryStatus::Contacted);
    assert_eq!(record.phone.as_deref(), Some("555 010 0123"));
    assert_eq!(
        changes
            .iter()
            .map(|c| (c.status, c.by.clone(), c.note.clone()))
            .collect::<Vec<_>>(),
        vec![
            (InquiryStatus::New, None, None),
            (
                InquiryStatus::Contacted,
                Some("Dee Desk".to_owned()),
                Some("left a voicemail".to_owned())
            ),
        ]
    );

    // Registered as a patient in one step, once: two registrations at once make one patient.
    let patient = PatientInput {
        given_name: record.given_name.clone(),
        family_name: record.family_name.clone(),
        date_of_birth: "1980-01-01".into(),
        sex: "female".into(),
        phone: record.phone.clone().unwrap_or_default(),
        ..PatientInput::default()
    }
    .validate(today())
    .unwrap();
    let (a, b) = tokio::join!(
        db.store
            .create_patient_from_inquiry(&actor, &site.id, &id, &patient, later),
        db.store
            .create_patient_from_inquiry(&actor, &site.id, &id, &patient, later),
    );
    let made: Vec<_> = [a.unwrap(), b.unwrap()].into_iter().flatten().collect();
    assert_eq!(made.len(), 1, "one patient from one inquiry");
    assert_eq!(db.store.patient_count(&site.id).await.unwrap(), 1);
    let (record, changes) = db
        .store
        .inquiry(&actor, &site.id, &id, later)
        .await
        .unwrap();
    assert_eq!(record.status, InquiryStatus::BookedForIntake);
    assert_eq!(record.patient_id.as_ref(), Some(&made[0].id));
    assert_eq!(changes.len(), 3);

    // Purged after the retention period; the patient stays.
    let gone = db
        .store
        .purge_inquiries(later - SignedDuration::from_hours(24 * 90), later)
        .await
        .unwrap();
    assert_eq!(gone, 1);
    let left = db
        .store
        .inquiries(&actor, &site.id, None, 50, later)
        .await
        .unwrap();
    assert_eq!(
        left.iter().map(|i| i.id.clone()).collect::<Vec<_>>(),
        vec![id.clone()]
    );
    assert!(matches!(
        db.store.inquiry(&actor, &site.id, &old, later).await,
        Err(store::StoreError::NotFound { .. })
    ));
    let trail = db.store.audit_events(&site.id, 100, None).await.unwrap();
    for action in [
        "inquiry.create",
        "inquiry.status",
        "inquiry.read",
        "inquiry.purge",
        "patient.create",
    ] {
        assert!(trail.iter().any(|e| e.action == action), "{action}");
    }
}

crate::on_both!(inquiries_are_worked_registered_once_and_purged);
