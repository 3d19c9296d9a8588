//! Arrival: the front desk marks a booked patient arrived on the appointment's own day, once.

use store::{Actor, AppointmentStatus};

use crate::support::{TestDb, t0, today};

/// Books an appointment at `at` for `min` minutes in the demo chair named `chair` for the
/// patient of the demo's open course whose patient is named `family`, as a session of that
/// course when `of_course`.
#[allow(clippy::too_many_arguments)]
async fn book_for(
    db: &TestDb,
    site: &store::SiteId,
    family: &str,
    chair: &str,
    kind: clinical::booking::AppointmentKind,
    of_course: bool,
    at: &str,
    min: i64,
) -> store::AppointmentRecord {
    let desk = Actor::system("front-desk-test");
    let tz = jiff::tz::TimeZone::get("America/New_York").unwrap();
    let (courses, _) = db.store.open_courses(&desk, site, t0()).await.unwrap();
    let course = courses
        .iter()
        .find(|c| c.patient_name.ends_with(family))
        .expect("a demo course");
    let chairs = db.store.chairs(site).await.unwrap();
    let chair = chairs.iter().find(|c| c.name == chair).unwrap().id.clone();
    let at: jiff::Timestamp = at.parse().unwrap();
    db.store
        .book(
            &desk,
            site,
            &store::NewAppointment {
                patient_id: &course.patient_id,
                chair_id: &chair,
                course_id: of_course.then_some(&course.id),
                kind,
                starts_at: at,
                ends_at: at + jiff::SignedDuration::from_mins(min),
            },
            &tz,
            t0(),
        )
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("{e}"))
}

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
    // Two visits this afternoon (the demo's Monday appointments have their patients in the
    // chairs or in the waiting room already).
    use clinical::booking::AppointmentKind;
    let todays = &book_for(
        db,
        site,
        "Ashgrove",
        "Nasal 2",
        AppointmentKind::FollowUp,
        false,
        "2026-11-23T22:20:00Z",
        30,
    )
    .await;
    let second = book_for(
        db,
        site,
        "Ashgrove",
        "Nasal 2",
        AppointmentKind::FollowUp,
        false,
        "2026-11-23T21:00:00Z",
        30,
    )
    .await;
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
    let other = &second;
    assert_eq!(
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
            .unwrap(),
        Ok(())
    );
    assert!(
        !db.store
            .mark_arrived(&desk, site, &other.id, day, now)
            .await
            .unwrap()
    );
}

crate::on_both!(a_booked_patient_is_marked_arrived_once_on_the_day);

/// The waiting room (the chair board's list): today's course appointments marked arrived whose
/// session has not been checked in, first arrived first; not a visit without a course, not one
/// not marked arrived, not one already checked in (the demo's patients in the chairs). The
/// demo seeds one patient waiting.
async fn the_waiting_room_holds_arrived_patients_until_they_are_checked_in(db: &TestDb) {
    let seed = db.store.seed_demo(t0(), today()).await.unwrap();
    let site = &seed.site.id;
    let desk = Actor::system("front-desk-test");
    let day = (
        "2026-11-23T05:00:00Z".parse::<jiff::Timestamp>().unwrap(),
        "2026-11-24T05:00:00Z".parse::<jiff::Timestamp>().unwrap(),
    );
    // A session of the esketamine course starting this week at 15:00 (a course has one
    // session a day at most, and the IV course's of today is in the chair), and a follow-up
    // visit of the IV course's patient (no course).
    use clinical::booking::AppointmentKind;
    let session = book_for(
        db,
        site,
        "Quintrell",
        "Nasal 1",
        AppointmentKind::Esketamine,
        true,
        "2026-11-23T20:00:00Z",
        130,
    )
    .await;
    let visit = book_for(
        db,
        site,
        "Ashgrove",
        "Nasal 2",
        AppointmentKind::FollowUp,
        false,
        "2026-11-23T22:20:00Z",
        30,
    )
    .await;
    let day_list = db
        .store
        .appointments(&desk, site, day.0, day.1, None, None, t0())
        .await
        .unwrap();
    let mut seated = Vec::new();
    for a in &day_list {
        if db
            .store
            .session_of_appointment(site, &a.id)
            .await
            .unwrap()
            .is_some()
        {
            seated.push(a.id.clone());
        }
    }
    assert!(
        !seated.is_empty(),
        "the demo's patients in the chairs are on the day's list"
    );
    // A patient in the chair is not marked arrived, and the appointment is not cancelled or
    // marked a no-show: that left the chair free to book under a patient in it.
    for id in &seated {
        let a = day_list.iter().find(|a| &a.id == id).unwrap();
        assert!(a.session_id.is_some(), "the list says who is checked in");
        assert!(
            !db.store
                .mark_arrived(&desk, site, id, day, t0())
                .await
                .unwrap()
        );
        for status in [AppointmentStatus::NoShow, AppointmentStatus::Cancelled] {
            assert_eq!(
                db.store
                    .close_appointment(&desk, site, id, status, "did not come", t0())
                    .await
                    .unwrap(),
                Err(store::CloseRefused::CheckedIn)
            );
        }
    }
    assert!(
        day_list
            .iter()
            .filter(|a| !seated.contains(&a.id))
            .all(|a| a.session_id.is_none())
    );
    // The demo's waiting patient: arrived three minutes before t0 for her session at 9:10.
    let demo_waiting = db.store.waiting_room(site, day.0, day.1).await.unwrap();
    assert_eq!(demo_waiting.len(), 1, "{demo_waiting:?}");
    let penhallow = demo_waiting[0].id.clone();
    assert_eq!(demo_waiting[0].patient_name, "Noor Penhallow");
    assert_eq!(
        demo_waiting[0].arrived_at,
        Some(t0() - jiff::SignedDuration::from_mins(3))
    );
    assert_eq!(
        demo_waiting[0].starts_at,
        t0() + jiff::SignedDuration::from_mins(10)
    );

    // Everybody else on the list arrives, one a minute, the follow-up visit first.
    let mut order: Vec<&store::AppointmentRecord> =
        vec![day_list.iter().find(|a| a.id == visit.id).unwrap()];
    order.extend(day_list.iter().filter(|a| {
        a.id != visit.id
            && a.status == AppointmentStatus::Booked
            && a.arrived_at.is_none()
            && !seated.contains(&a.id)
    }));
    for (i, a) in order.iter().enumerate() {
        let at = t0() + jiff::SignedDuration::from_mins(i as i64);
        assert!(
            db.store
                .mark_arrived(&desk, site, &a.id, day, at)
                .await
                .unwrap()
        );
    }
    let waiting = db.store.waiting_room(site, day.0, day.1).await.unwrap();
    let ids: Vec<_> = waiting.iter().map(|a| a.id.clone()).collect();
    assert_eq!(
        ids,
        vec![penhallow.clone(), session.id.clone()],
        "only the course sessions not checked in, first arrived first"
    );
    assert!(waiting[1].arrived_at.is_some());
    // Another day's waiting room is empty.
    let next = (day.1, day.1 + jiff::SignedDuration::from_hours(24));
    assert!(
        db.store
            .waiting_room(site, next.0, next.1)
            .await
            .unwrap()
            .is_empty()
    );

    // Cancelled after arriving (the patient went home): out of the waiting room.
    assert_eq!(
        db.store
            .close_appointment(
                &desk,
                site,
                &session.id,
                AppointmentStatus::Cancelled,
                "felt unwell",
                t0()
            )
            .await
            .unwrap(),
        Ok(())
    );
    let left: Vec<_> = db
        .store
        .waiting_room(site, day.0, day.1)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(left, vec![penhallow]);
}

crate::on_both!(the_waiting_room_holds_arrived_patients_until_they_are_checked_in);
