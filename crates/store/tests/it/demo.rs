//! Demo seeding: idempotent, and refused on a database with real data.

use clinical::patient::Email;
use store::{Actor, LoginFailure, LoginSettings, PasswordHash, Role, StoreError};

use crate::support::{TestDb, t0, today};

async fn seeding_twice_adds_nothing_the_second_time(db: &TestDb) {
    let first = db.store.seed_demo(t0(), today()).await.unwrap();
    assert_eq!(first.users_created, 4);
    assert_eq!(first.patients_created, 7);
    assert!(first.site.is_demo);
    let second = db.store.seed_demo(t0(), today()).await.unwrap();
    assert_eq!((second.users_created, second.patients_created), (0, 0));
    assert_eq!(second.site, first.site);
    // One patient waits in the waiting room (the demo clinic's day around t0, in New York);
    // seeding again, later the same day, books her no second time.
    let day = (
        "2026-11-23T05:00:00Z".parse::<jiff::Timestamp>().unwrap(),
        "2026-11-24T05:00:00Z".parse::<jiff::Timestamp>().unwrap(),
    );
    db.store
        .seed_demo(t0() + jiff::SignedDuration::from_hours(2), today())
        .await
        .unwrap();
    let waiting = db
        .store
        .waiting_room(&first.site.id, day.0, day.1)
        .await
        .unwrap();
    let names: Vec<_> = waiting.iter().map(|a| a.patient_name.as_str()).collect();
    assert_eq!(names, ["Noor Penhallow"]);
    let users = db.store.users(&first.site.id).await.unwrap();
    let roles: Vec<_> = users.iter().map(|u| u.role).collect();
    for role in Role::ALL {
        assert!(roles.contains(&role), "{roles:?}");
    }
    assert!(users.iter().all(|u| u.is_demo));
    assert_eq!(db.store.patient_count(&first.site.id).await.unwrap(), 7);
    // Three patients have a month of weekly scores; one answered PHQ-9 item 9 last week.
    let alerts = db
        .store
        .open_alerts(&Actor::system("test"), &first.site.id, t0())
        .await
        .unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert!(alerts.iter().all(|a| a.message.contains("PHQ-9 item 9")));
    // Two sessions in progress, the infusion with an open blood-pressure alert; the second
    // seeding (within three hours) adds no others.
    let board = db.store.board_sessions(&first.site.id).await.unwrap();
    assert_eq!(board.len(), 2, "{board:?}");
    let iv = board
        .iter()
        .find(|s| s.product == clinical::course::Product::IvRacemic)
        .unwrap();
    assert_eq!(iv.status, clinical::session::SessionStatus::Administering);
    assert!(iv.open_alerts().any(|a| a.kind.is_blood_pressure()));
    let esk = board.iter().find(|s| s.product.is_esketamine()).unwrap();
    assert_eq!(esk.status, clinical::session::SessionStatus::Monitoring);
    assert!(esk.vitals.len() >= 3);
    // Its 40-minute and two-hour blood pressures are in: no check is due (the one before
    // discharge stayed overdue after it was taken).
    assert_eq!(esk.next_check(), None, "{:?}", esk.vitals);
    // The sessions drew their doses from the demo's stock: every dose is in the ledger, the
    // opened vials of past sessions were wasted with a witness, and the chain verifies.
    let site = &first.site.id;
    let month = jiff::SignedDuration::from_hours(24 * 31);
    let recon = db
        .store
        .reconciliation(site, t0() - month, t0() + month, 1000)
        .await
        .unwrap();
    assert!(recon.len() >= 3, "{recon:?}");
    let first_two = db
        .store
        .reconciliation(site, t0() - month, t0() + month, 2)
        .await
        .unwrap();
    assert_eq!(
        first_two.iter().map(|r| &r.session_id).collect::<Vec<_>>(),
        recon
            .iter()
            .take(2)
            .map(|r| &r.session_id)
            .collect::<Vec<_>>(),
        "bounded to its first sessions"
    );
    assert!(recon.iter().all(|r| r.gap_mg() == 0.0), "{recon:?}");
    let log = db
        .store
        .dispensing_log(site, t0() - month, t0() + month, &[], 1000)
        .await
        .unwrap();
    let kinds = |k| log.iter().filter(|r| r.entry.kind == k).count();
    use clinical::ledger::EntryKind;
    assert_eq!(kinds(EntryKind::Receipt), 24);
    assert_eq!(kinds(EntryKind::Count), 1);
    assert!(kinds(EntryKind::Waste) >= 1);
    assert!(
        log.iter()
            .filter(|r| r.entry.kind == EntryKind::Waste)
            .all(|r| r.entry.witness.as_deref() == Some("prescriber@example.org"))
    );
    let entries = db.store.verify_ledger().await.unwrap().unwrap();
    assert_eq!(entries as usize, log.len());
    // The front desk has inquiries to answer: two new, one reached already; seeding again
    // adds none.
    let counts = db.store.inquiry_counts(site).await.unwrap();
    use clinical::inquiry::InquiryStatus;
    assert_eq!(
        counts,
        [
            (InquiryStatus::New, 2),
            (InquiryStatus::Contacted, 1),
            (InquiryStatus::BookedForIntake, 0),
            (InquiryStatus::Declined, 0),
        ]
    );
}

async fn demo_accounts_sign_in_only_in_demo_mode(db: &TestDb) {
    db.store.seed_demo(t0(), today()).await.unwrap();
    let demo = LoginSettings {
        demo_mode: true,
        ..LoginSettings::default()
    };
    let real = LoginSettings::default();
    let s = db
        .store
        .login("nurse@example.org", store::DEMO_PASSWORD, &demo, t0())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(s.user.role, Role::Nurse);
    let refused = db
        .store
        .login("nurse@example.org", store::DEMO_PASSWORD, &real, t0())
        .await
        .unwrap();
    assert_eq!(refused.unwrap_err(), LoginFailure::DemoAccountOutsideDemo);
    // A session opened in demo mode does not survive a restart without it.
    assert!(
        db.store
            .session(&s.token, &real, t0())
            .await
            .unwrap()
            .is_none()
    );
}

async fn demo_refuses_a_database_with_real_data(db: &TestDb) {
    let site = db
        .store
        .ensure_site(&Actor::system("test"), "Real Clinic", "UTC", t0())
        .await
        .unwrap();
    let err = db.store.seed_demo(t0(), today()).await.unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::NotADemoDatabase {
                what: "clinic sites"
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("without --demo"), "{err}");
    db.store
        .create_user(
            &Actor::system("test"),
            &site.id,
            store::NewUser {
                email: &Email::parse("real@example.org").unwrap(),
                display_name: "Real",
                role: Role::Admin,
                password: &PasswordHash::new("a real password").unwrap(),
            },
            t0(),
        )
        .await
        .unwrap();
    assert!(db.store.seed_demo(t0(), today()).await.is_err());
    assert!(
        db.store
            .user_by_email("admin@example.org")
            .await
            .unwrap()
            .is_none()
    );
}

/// A demo started on a Saturday afternoon: the active IV course (Marlow Ashgrove's) has signed
/// sessions behind it and a booked session ahead, as the browser suite's nurse expects (on a
/// weekend the whole course used to lie in the past).
async fn a_weekend_demo_has_a_course_session_ahead(db: &TestDb) {
    let now: jiff::Timestamp = "2026-12-05T20:00:00Z".parse().unwrap();
    let today: jiff::civil::Date = "2026-12-05".parse().unwrap();
    let seed = db.store.seed_demo(now, today).await.unwrap();
    let system = Actor::system("test");
    let site = &seed.site.id;
    let week = jiff::SignedDuration::from_hours(24 * 8);
    let all = db
        .store
        .appointments(&system, site, now - week, now + week, None, None, now)
        .await
        .unwrap();
    let ashgrove: Vec<_> = all
        .iter()
        .filter(|a| a.patient_name == "Marlow Ashgrove" && a.course_id.is_some())
        .collect();
    assert!(
        ashgrove
            .iter()
            .any(|a| a.starts_at > now && a.status == store::AppointmentStatus::Booked),
        "{ashgrove:?}"
    );
    let behind = ashgrove.iter().find(|a| a.starts_at < now).unwrap();
    assert!(
        db.store
            .session_of_appointment(site, &behind.id)
            .await
            .unwrap()
            .is_some(),
        "the course's past appointment became a session"
    );
}

/// What a course's patient has done, as the course's plan counts it: each assessment by
/// instrument, time point and day at the clinic.
async fn done_of(
    db: &TestDb,
    site: &store::SiteId,
    course: &store::CourseRecord,
    tz: &jiff::tz::TimeZone,
    now: jiff::Timestamp,
) -> Vec<clinical::instruments::schedule::Done> {
    db.store
        .assessments(&Actor::system("test"), site, &course.patient_id, now)
        .await
        .unwrap()
        .iter()
        .map(|r| clinical::instruments::schedule::Done {
            instrument: r.instrument,
            time_point: r.time_point,
            date: r.administered_at.to_zoned(tz.clone()).date(),
        })
        .collect()
}

/// The two patients in the chairs had their course's PHQ-9 asked twice that morning (the
/// baseline and the one before the session), and the esketamine patient sat in the first
/// session of a course planned to start a week later, its second session ten days after it.
/// Now his course begins with the session in progress, the next follows three or four days
/// later as the label's twice-weekly induction plans, and the PHQ-9 taken before each session
/// is all their plans ask of that morning.
/// The orders were signed as the demo started, after a week of doses given under them.
async fn the_demo_patients_in_the_chairs_are_where_their_courses_plan(db: &TestDb) {
    use clinical::instruments::schedule::{Status, TimePoint};
    let seed = db.store.seed_demo(t0(), today()).await.unwrap();
    let system = Actor::system("test");
    let site = &seed.site.id;
    let tz = seed.site.zone.clone();
    let (courses, _) = db.store.open_courses(&system, site, t0()).await.unwrap();
    for family in ["Wrenfield", "Ashgrove"] {
        let course = courses
            .iter()
            .find(|c| c.patient_name.ends_with(family))
            .unwrap();
        let sessions = course.sessions_as_they_stand(&tz, today());
        let now_on: Vec<_> = sessions.iter().filter(|s| s.date >= today()).collect();
        assert_eq!(now_on[0].date, today(), "{family}: {sessions:?}");
        let next = (now_on[1].date - today()).get_days();
        assert!((2..=4).contains(&next), "{family}: {sessions:?}");
        let done = done_of(db, site, course, &tz, t0()).await;
        let plan = clinical::course::assessment_schedule(course.instrument, &sessions);
        let today_asks: Vec<_> = plan
            .status(&done, today())
            .into_iter()
            .filter(|(p, _)| (p.earliest..=p.latest).contains(&today()))
            .collect();
        assert!(
            today_asks.iter().all(|(_, s)| *s == Status::Done),
            "{family}: {today_asks:?}"
        );
        assert!(
            today_asks
                .iter()
                .any(|(p, _)| p.time_point == TimePoint::BeforeSession),
            "{family}: {today_asks:?}"
        );
    }
    // Every dose was given under an order signed before it, to a patient registered before
    // that (the orders were signed as the demo started, after a week of sessions).
    for course in &courses {
        let order = course.orders.last().unwrap();
        if let Some(first) = course.booked.first() {
            assert!(order.signed_at < *first, "{course:?}");
        }
        let patient = db
            .store
            .patient(&system, site, &course.patient_id, t0())
            .await
            .unwrap();
        assert!(patient.created_at < order.signed_at, "{patient:?}");
    }
    let wrenfield = courses
        .iter()
        .find(|c| c.patient_name.ends_with("Wrenfield"))
        .unwrap();
    assert_eq!(wrenfield.starts_on, today());
    assert_eq!(wrenfield.booked[0].to_zoned(tz.clone()).date(), today());
}

/// A demo started late on a Monday morning (11:40 in New York): the active course's first
/// session, a week back at 09:00, had its PHQ-9 before the session refused as a repeat of the
/// weekly score seeded five minutes earlier with the same answers (the history is timed from
/// the demo's start), so the course showed that assessment missed.
async fn a_demo_started_late_morning_misses_no_assessment(db: &TestDb) {
    use clinical::instruments::schedule::Status;
    let now: jiff::Timestamp = "2026-11-30T16:40:00Z".parse().unwrap();
    let today: jiff::civil::Date = "2026-11-30".parse().unwrap();
    let seed = db.store.seed_demo(now, today).await.unwrap();
    let system = Actor::system("test");
    let site = &seed.site.id;
    let tz = seed.site.zone.clone();
    let (courses, _) = db.store.open_courses(&system, site, now).await.unwrap();
    let course = courses
        .iter()
        .find(|c| c.patient_name == "Marlow Ashgrove")
        .unwrap();
    let done = done_of(db, site, course, &tz, now).await;
    let sessions = course.sessions_as_they_stand(&tz, today);
    let plan = clinical::course::assessment_schedule(course.instrument, &sessions);
    let missed: Vec<_> = plan
        .status(&done, today)
        .into_iter()
        .filter(|(_, s)| *s == Status::Missed)
        .collect();
    assert!(missed.is_empty(), "{missed:?} of {done:?}");
}

crate::on_both!(
    a_demo_started_late_morning_misses_no_assessment,
    the_demo_patients_in_the_chairs_are_where_their_courses_plan,
    a_weekend_demo_has_a_course_session_ahead,
    seeding_twice_adds_nothing_the_second_time,
    demo_accounts_sign_in_only_in_demo_mode,
    demo_refuses_a_database_with_real_data,
);
