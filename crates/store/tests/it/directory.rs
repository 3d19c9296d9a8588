//! The patient directory as front-desk staff use it: search by either name order, birth date,
//! record number, ignoring accents; likely duplicates; contact details edited and audited.

use clinical::patient::{ContactInput, PatientInput};
use store::{Actor, PatientSort, Store};

use crate::support::{TestDb, t0, today};

fn person(given: &str, family: &str, born: &str) -> clinical::patient::NewPatient {
    PatientInput {
        given_name: given.into(),
        family_name: family.into(),
        date_of_birth: born.into(),
        sex: "female".into(),
        ..PatientInput::default()
    }
    .validate(today())
    .unwrap()
}

async fn search(store: &Store, site: &store::SiteId, q: &str) -> Vec<String> {
    store
        .patients(&Actor::system("test"), site, q, PatientSort::Name, 50, t0())
        .await
        .unwrap()
        .into_iter()
        .map(|p| format!("{} {}", p.given_name, p.family_name))
        .collect()
}

async fn the_directory_finds_people_as_staff_type_them(db: &TestDb) {
    let actor = Actor::system("test");
    let site = db.clinic().await;
    let s = &db.store;
    let marlow = s
        .create_patient(
            &actor,
            &site.id,
            &person("Marlow", "Ashgrove", "1985-03-14"),
            t0(),
        )
        .await
        .unwrap();
    s.create_patient(
        &actor,
        &site.id,
        &person("Zoë", "Nguyễn", "1990-11-02"),
        t0(),
    )
    .await
    .unwrap();
    s.create_patient(
        &actor,
        &site.id,
        &person("Marlow", "Keane", "1970-01-20"),
        t0(),
    )
    .await
    .unwrap();

    assert_eq!(
        search(s, &site.id, "Marlow Ashgrove").await,
        ["Marlow Ashgrove"]
    );
    assert_eq!(
        search(s, &site.id, "Ashgrove, Marlow").await,
        ["Marlow Ashgrove"]
    );
    assert_eq!(
        search(s, &site.id, "ashgrove marlow").await,
        ["Marlow Ashgrove"]
    );
    assert_eq!(search(s, &site.id, "zoe").await, ["Zoë Nguyễn"]);
    assert_eq!(search(s, &site.id, "Nguyen").await, ["Zoë Nguyễn"]);
    assert_eq!(search(s, &site.id, "NGUYỄN zoë").await, ["Zoë Nguyễn"]);
    assert_eq!(search(s, &site.id, "1985-03-14").await, ["Marlow Ashgrove"]);
    assert_eq!(
        search(s, &site.id, "marlow 01/20/1970").await,
        ["Marlow Keane"]
    );
    assert_eq!(
        search(s, &site.id, &marlow.mrn.to_lowercase()).await,
        ["Marlow Ashgrove"]
    );
    assert_eq!(search(s, &site.id, "Marlow").await.len(), 2);
    assert!(search(s, &site.id, "Marlow Nguyen").await.is_empty());
    assert!(search(s, &site.id, "1985-03-15").await.is_empty());

    // A likely duplicate: same folded name and birth date, whatever the accents and case.
    let same = s
        .same_person(
            &actor,
            &site.id,
            &person("zoe", "NGUYEN", "1990-11-02"),
            t0(),
        )
        .await
        .unwrap();
    assert_eq!(same.len(), 1);
    assert_eq!(same[0].given_name, "Zoë");
    for other in [
        person("Zoë", "Nguyễn", "1990-11-03"),
        person("Zoë", "Nguyễnson", "1990-11-02"),
    ] {
        assert!(
            s.same_person(&actor, &site.id, &other, t0())
                .await
                .unwrap()
                .is_empty()
        );
    }

    // Records written before the search key existed are found once the store opens again.
    db.raw("update patients set search_text = ''").await;
    let reopened = Store::connect(&db.url).await.unwrap();
    assert_eq!(
        search(&reopened, &site.id, "ashgrove").await,
        ["Marlow Ashgrove"]
    );
    reopened.close().await;
}

async fn contact_details_are_edited_and_the_change_is_audited_without_values(db: &TestDb) {
    let actor = Actor::system("test");
    let site = db.clinic().await;
    let p = db
        .store
        .create_patient(
            &actor,
            &site.id,
            &person("Ana", "Ortiz", "1980-05-05"),
            t0(),
        )
        .await
        .unwrap();
    let details = ContactInput {
        phone: "555 0100 300".into(),
        address: "12 Elm St\nSpringfield".into(),
        emergency_contact_name: "Jo Ortiz (sister)".into(),
        emergency_contact_phone: "555 0100 301".into(),
        ..ContactInput::default()
    }
    .validate()
    .unwrap();
    let later = t0() + jiff::SignedDuration::from_mins(5);
    let stored = db
        .store
        .update_contact(&actor, &site.id, &p.id, &details, later)
        .await
        .unwrap();
    assert_eq!(stored.phone.as_deref(), Some("555 0100 300"));
    assert_eq!(stored.address.as_deref(), Some("12 Elm St\nSpringfield"));
    assert_eq!(
        stored.emergency_contact_name.as_deref(),
        Some("Jo Ortiz (sister)")
    );
    assert_eq!(stored.updated_at, later);
    // Saving the same details again writes nothing.
    db.store
        .update_contact(&actor, &site.id, &p.id, &details, later)
        .await
        .unwrap();
    let trail = db.store.audit_events_for_patient(&p.id).await.unwrap();
    let updates: Vec<_> = trail
        .iter()
        .filter(|e| e.action == "patient.update")
        .collect();
    assert_eq!(updates.len(), 1);
    assert_eq!(
        updates[0].detail.as_deref(),
        Some("fields=phone,address,emergency_contact_name,emergency_contact_phone")
    );
    // Another site's patient cannot be changed.
    let elsewhere = store::SiteId::parse("00000000-0000-7000-8000-000000000000").unwrap();
    let refused = db
        .store
        .update_contact(&actor, &elsewhere, &p.id, &details, later)
        .await;
    assert!(
        matches!(refused, Err(store::StoreError::NotFound { .. })),
        "{refused:?}"
    );
}

/// Eight registrations of one person at once (a double click, a retried request) make one
/// record; the others are told of it and register nothing. Told it is someone else, it registers.
async fn registrations_of_one_person_at_once_make_one_record(db: &TestDb) {
    let actor = Actor::system("test");
    let site = db.clinic().await;
    let ana = person("Ana", "Ortiz", "1980-05-05");
    let attempts = (0..8).map(|_| {
        db.store
            .register_patient(&actor, &site.id, &ana, None, true, t0())
    });
    let outcomes = futures_util::future::join_all(attempts).await;
    let mut made = Vec::new();
    let mut told = 0;
    for outcome in outcomes {
        match outcome.unwrap() {
            store::Registration::Registered(record) => made.push(record.id.clone()),
            store::Registration::LikelySame(same) => {
                assert_eq!(same.len(), 1);
                told += 1;
            }
            store::Registration::InquiryTaken => panic!("no inquiry was given"),
        }
    }
    assert_eq!((made.len(), told), (1, 7));
    assert_eq!(search(&db.store, &site.id, "ortiz").await.len(), 1);
    // The same name and birth date, said to be another person: registered.
    let other = db
        .store
        .register_patient(&actor, &site.id, &ana, None, false, t0())
        .await
        .unwrap();
    assert!(matches!(other, store::Registration::Registered(_)));
    assert_eq!(search(&db.store, &site.id, "ortiz").await.len(), 2);
}

crate::on_both!(
    registrations_of_one_person_at_once_make_one_record,
    the_directory_finds_people_as_staff_type_them,
    contact_details_are_edited_and_the_change_is_audited_without_values,
);
