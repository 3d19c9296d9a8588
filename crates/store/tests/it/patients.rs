//! Patients: registration, listing and search, audited reads, and the append-only audit trail.

use clinical::patient::{PatientInput, Sex};
use store::{Actor, AuditOutcome, PatientSort};

use crate::support::{TestDb, t0, today};

fn input(given: &str, family: &str) -> PatientInput {
    PatientInput {
        given_name: given.into(),
        family_name: family.into(),
        date_of_birth: "1984-07-01".into(),
        sex: "male".into(),
        phone: "+1 555 010 0199".into(),
        email: "Pat@Example.org".into(),
    }
}

async fn patients_are_registered_listed_and_every_access_audited(db: &TestDb) {
    let actor = Actor::system("test");
    let site = db.clinic().await;
    let zed = input("Zed", "Young").validate(today()).unwrap();
    let amy = input("Amy", "o'Brien_100%").validate(today()).unwrap();
    let a = db
        .store
        .create_patient(&actor, &site.id, &zed, t0())
        .await
        .unwrap();
    let b = db
        .store
        .create_patient(&actor, &site.id, &amy, t0())
        .await
        .unwrap();
    assert_eq!(a.sex, Sex::Male);
    assert_eq!(a.email.as_deref(), Some("pat@example.org"));
    assert_eq!(a.date_of_birth.to_string(), "1984-07-01");
    assert!(a.mrn.starts_with('K') && a.mrn.len() == 8, "{}", a.mrn);
    assert_ne!(a.mrn, b.mrn);

    let by_name = db
        .store
        .patients(&actor, &site.id, "", PatientSort::Name, 50, t0())
        .await
        .unwrap();
    assert_eq!(
        by_name
            .iter()
            .map(|p| p.given_name.as_str())
            .collect::<Vec<_>>(),
        ["Amy", "Zed"]
    );
    let newest = db
        .store
        .patients(&actor, &site.id, "", PatientSort::Newest, 50, t0())
        .await
        .unwrap();
    assert_eq!(newest[0].id, b.id);
    // Search is case-insensitive, matches record numbers, and treats % and _ literally.
    let hits = db
        .store
        .patients(&actor, &site.id, "YOU", PatientSort::Name, 50, t0())
        .await
        .unwrap();
    assert_eq!(hits, vec![a.clone()]);
    let hits = db
        .store
        .patients(
            &actor,
            &site.id,
            &a.mrn.to_lowercase(),
            PatientSort::Name,
            50,
            t0(),
        )
        .await
        .unwrap();
    assert_eq!(hits, vec![a.clone()]);
    let hits = db
        .store
        .patients(&actor, &site.id, "_100%", PatientSort::Name, 50, t0())
        .await
        .unwrap();
    assert_eq!(hits, vec![b.clone()]);
    let hits = db
        .store
        .patients(&actor, &site.id, "%", PatientSort::Name, 50, t0())
        .await
        .unwrap();
    assert_eq!(hits, vec![b.clone()]);
    let limited = db
        .store
        .patients(&actor, &site.id, "", PatientSort::Name, 1, t0())
        .await
        .unwrap();
    assert_eq!(limited.len(), 1);

    let read = db
        .store
        .patient(&actor, &site.id, &a.id, t0())
        .await
        .unwrap();
    assert_eq!(read, a);
    let missing = db.store.patient(&actor, &other_site(), &a.id, t0()).await;
    assert!(
        matches!(
            missing,
            Err(store::StoreError::NotFound { entity: "patient" })
        ),
        "{missing:?}"
    );

    let trail = db.store.audit_events_for_patient(&a.id).await.unwrap();
    let actions: Vec<_> = trail.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["patient.create", "patient.read"]);
    assert!(
        trail
            .iter()
            .all(|e| e.outcome == AuditOutcome::Ok && e.actor_label == "system:test")
    );
    let lists = db.store.audit_events(&site.id, 100, None).await.unwrap();
    assert_eq!(
        lists.iter().filter(|e| e.action == "patient.list").count(),
        7
    );
    assert!(
        lists
            .iter()
            .all(|e| !e.detail.as_deref().unwrap_or("").contains("Young"))
    );
    // Paging goes strictly backwards.
    let first_page = db.store.audit_events(&site.id, 3, None).await.unwrap();
    let second_page = db
        .store
        .audit_events(&site.id, 3, Some(first_page[2].id))
        .await
        .unwrap();
    assert!(second_page[0].id < first_page[2].id);
}

async fn the_audit_trail_refuses_changes(db: &TestDb) {
    let site = db.clinic().await;
    let event = db
        .store
        .audit_events(&site.id, 1, None)
        .await
        .unwrap()
        .remove(0);
    let update = db.store.try_tamper_with_audit(event.id).await.unwrap_err();
    assert!(update.to_string().contains("append-only"), "{update}");
    let delete = db.store.try_delete_audit(event.id).await.unwrap_err();
    assert!(delete.to_string().contains("append-only"), "{delete}");
    assert_eq!(
        db.store.audit_events(&site.id, 1, None).await.unwrap()[0],
        event
    );
}

crate::on_both!(
    patients_are_registered_listed_and_every_access_audited,
    the_audit_trail_refuses_changes,
);

fn other_site() -> store::SiteId {
    store::SiteId::parse("00000000-0000-7000-8000-000000000000").unwrap()
}
