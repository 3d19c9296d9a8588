//! Arrival: the front desk marks a booked patient arrived on the appointment's own day, once.

use store::{Actor, AppointmentStatus};

use crate::support::{TestDb, t0, today};

async fn a_booked_patient_is_marked_arrived_once_on_the_day(db: &TestDb) {
    let seed = db.store.seed_demo(t0(), today()).await.unwrap();
    let site = &seed.site.id;
    let desk = Actor::system("front-desk-test");
    // The demo clinic's day around t0 (Monday 09:00 in New York), and the week after it.
    let day = (
        "2026-11-23T05:00:00Z".parse::<jiff::Timestamp>().unwrap(),
        "2026-11-24T05:00:00Z".parse::<jiff::Timestamp>().unwrap(),
    );
    let week = day.1 + jiff::SignedDuration::from_hours(24 * 7);
    let all = db
        .store
        .appointments(&desk, site, day.0, week, None, None, t0())
        .await
        .unwrap();
    let booked = |a: &&store::AppointmentRecord| a.status == AppointmentStatus::Booked;
    let todays = all
        .iter()
        .filter(booked)
        .find(|a| a.starts_at < day.1)
        .expect("a booked appointment on the demo's Monday");
    let later = all
        .iter()
        .filter(booked)
        .find(|a| a.starts_at >= day.1)
        .expect("a booked appointment later in the week");
    assert_eq!(todays.arrived_at, None);

    // Not today's: refused, nothing written.
    assert!(
        !db.store
            .mark_arrived(&desk, site, &later.id, day, t0())
            .await
            .unwrap()
    );
    // Eight clicks at once mark it once.
    let now = t0() + jiff::SignedDuration::from_mins(2);
    let clicks = futures_util::future::join_all(
        (0..8).map(|_| db.store.mark_arrived(&desk, site, &todays.id, day, now)),
    )
    .await;
    let marked = clicks.into_iter().filter(|r| *r.as_ref().unwrap()).count();
    assert_eq!(marked, 1);
    let after = db
        .store
        .appointments(&desk, site, day.0, week, None, None, now)
        .await
        .unwrap();
    let find = |id| after.iter().find(|a| &a.id == id).unwrap();
    assert_eq!(find(&todays.id).arrived_at, Some(now));
    assert_eq!(find(&later.id).arrived_at, None);
    assert_eq!(find(&todays.id).status, AppointmentStatus::Booked);

    // A cancelled appointment cannot be marked.
    let other = after
        .iter()
        .filter(booked)
        .find(|a| a.starts_at < day.1 && a.id != todays.id)
        .expect("a second booked appointment on the demo's Monday");
    assert!(
        db.store
            .close_appointment(
                &desk,
                site,
                &other.id,
                AppointmentStatus::Cancelled,
                "ill",
                now
            )
            .await
            .unwrap()
    );
    assert!(
        !db.store
            .mark_arrived(&desk, site, &other.id, day, now)
            .await
            .unwrap()
    );
}

crate::on_both!(a_booked_patient_is_marked_arrived_once_on_the_day);
