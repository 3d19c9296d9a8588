//! Treatment sessions on both databases: a whole IV session through the pages (illegal steps
//! refused with what comes first, the second check, an alert and its acknowledgement,
//! discharge, the prescriber's lock, addenda only afterwards), idempotent vitals through the API,
//! impossible readings refused at their field, and the esketamine lock held until the REMS
//! form is complete.

use clinical::session::CheckedText;
use serde_json::{Value, json};
use store::{Actor, Role};

use crate::support::TestApp;

/// A patient with a current diagnosis, signed consent and a course of `protocol`, to be booked
/// in `chair`.
struct Ready {
    site: store::SiteId,
    patient: store::PatientId,
    course: store::CourseId,
    chair: store::ChairId,
    kind: clinical::booking::AppointmentKind,
}

async fn ready(app: &TestApp, protocol: &str, kind: &str, chair: &str) -> Ready {
    let store = &app.db.store;
    let site = store.first_site().await.unwrap().unwrap();
    let now = jiff::Timestamp::now();
    let actor = Actor::system("test");
    let nurse = app.token(Role::Nurse).await;
    let doctor = app.token(Role::Prescriber).await;
    let client = reqwest::Client::new();
    let patient: Value = client
        .post(app.url("/api/v1/patients"))
        .bearer_auth(&nurse)
        .json(&json!({"given_name": "Sol", "family_name": "Seated", "date_of_birth": "1980-01-01", "sex": "female"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let pid = store::PatientId::parse(patient["id"].as_str().unwrap()).unwrap();
    store
        .add_diagnosis(
            &actor,
            &site.id,
            &pid,
            clinical::diagnoses::find("F33.2").unwrap(),
            now,
        )
        .await
        .unwrap();
    screened(store, &site.id, &pid, "eligible", now).await;
    let text = clinical::consent::ConsentText::parse(
        "Consent to ketamine treatment",
        "I understand the risks and benefits of ketamine treatment that were explained to me, including raised blood pressure and dissociation, and I agree to it.",
    ).unwrap();
    let version = store
        .publish_consent(&actor, &site.id, &text, now)
        .await
        .unwrap();
    assert!(
        store
            .sign_consent(&actor, &site.id, &pid, version, "Sol Seated", now)
            .await
            .unwrap()
    );
    if kind == "esketamine" {
        store
            .set_site_rems(
                &actor,
                &site.id,
                &store::SiteRems {
                    certified_on: "2026-01-05".parse().unwrap(),
                    representative: "Dr Rep".into(),
                    contact: Some(store::SettingContact {
                        street: "1 Test Street".into(),
                        city: "Chicago".into(),
                        state: "IL".into(),
                        postal_code: "60601".into(),
                        phone: "(312) 555-0100".into(),
                    }),
                },
                now,
            )
            .await
            .unwrap();
        store
            .set_patient_rems(
                &actor,
                &site.id,
                &pid,
                &store::PatientRems {
                    enrolled_on: "2026-01-05".parse().unwrap(),
                    submitted_by: clinical::session::RemsChannel::Online,
                },
                now,
            )
            .await
            .unwrap();
    }
    let tz = jiff::tz::TimeZone::get("America/Chicago").unwrap();
    let today = now.to_zoned(tz.clone()).date();
    let course: Value = client
        .post(app.url("/api/v1/courses"))
        .bearer_auth(&doctor)
        .json(
            &json!({"patient_id": pid.as_str(), "diagnosis_code": "F33.2", "protocol": protocol,
                      "instrument": "phq9", "starts_on": today.to_string()}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let course = store::CourseId::parse(course["id"].as_str().expect("course made")).unwrap();
    Ready {
        site: site.id,
        patient: pid,
        course,
        chair: store::ChairId::parse(chair).unwrap(),
        kind: clinical::booking::AppointmentKind::parse(kind).unwrap(),
    }
}

/// A 130-minute slot of the course from `start`, booked through the store so the slot may be
/// at any hour (the chair's hours are a booking rule, tested in scheduling), in a zone where
/// it cannot cross midnight.
async fn book_at(app: &TestApp, r: &Ready, start: jiff::Timestamp) -> store::AppointmentRecord {
    try_book(app, r, &r.course, start)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// [`book_at`] for `course`, one of the patient's courses; the refusal, if any.
async fn try_book(
    app: &TestApp,
    r: &Ready,
    course: &store::CourseId,
    start: jiff::Timestamp,
) -> Result<store::AppointmentRecord, store::BookingRefusal> {
    let now = jiff::Timestamp::now();
    app.db
        .store
        .book(
            &Actor::system("test"),
            &r.site,
            &store::NewAppointment {
                patient_id: &r.patient,
                chair_id: &r.chair,
                course_id: Some(course),
                kind: r.kind,
                starts_at: start,
                ends_at: start + jiff::SignedDuration::from_mins(130),
            },
            &noon_zone(now),
            now,
        )
        .await
        .unwrap()
}

/// A second open course of the patient, of the same product as their first: the maintenance
/// protocol of `protocol`'s route, signed by a prescriber of its own.
async fn second_course(app: &TestApp, r: &Ready, protocol: &str) -> store::CourseId {
    let code = if protocol.starts_with("esketamine") {
        "esketamine_maintenance_two_weekly"
    } else {
        "iv_maintenance_weekly"
    };
    let protocol = clinical::course::builtin_protocols()
        .into_iter()
        .find(|p| p.code == code)
        .unwrap();
    let doctor = app
        .user("second.prescriber@example.org", Role::Prescriber)
        .await;
    let now = jiff::Timestamp::now();
    app.db
        .store
        .create_course(
            &Actor::user(&doctor),
            &r.site,
            &store::NewCourse {
                patient_id: &r.patient,
                diagnosis_code: "F33.2",
                protocol: &protocol,
                instrument: clinical::instruments::InstrumentId::Phq9,
                starts_on: now.to_zoned(noon_zone(now)).date(),
                dose: protocol.dose,
            },
            now,
        )
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("{e}"))
}

/// A new screening of the patient with nothing to declare, and a prescriber's `decision` on
/// it ("eligible", "not_eligible", "needs_review"), or none when `decision` is empty; the
/// screening's id.
async fn screened(
    store: &store::Store,
    site: &store::SiteId,
    pid: &store::PatientId,
    decision: &str,
    at: jiff::Timestamp,
) -> store::ScreeningId {
    let input = clinical::screening::ScreeningInput::for_age(45);
    let findings =
        clinical::screening::screen(&input, &clinical::screening::ScreeningSettings::default());
    let actor = Actor::system("test");
    let id = store
        .record_screening(&actor, site, pid, &input, &findings, at)
        .await
        .unwrap();
    if !decision.is_empty() {
        decide(store, site, pid, &id, decision, at).await;
    }
    id
}

async fn decide(
    store: &store::Store,
    site: &store::SiteId,
    pid: &store::PatientId,
    id: &store::ScreeningId,
    decision: &str,
    at: jiff::Timestamp,
) {
    let input = clinical::screening::ScreeningInput::for_age(45);
    let findings =
        clinical::screening::screen(&input, &clinical::screening::ScreeningSettings::default());
    let checked = clinical::screening::check_decision(
        &findings,
        decision,
        "Decided on the screening's findings.",
        "",
    )
    .unwrap();
    let actor = Actor::system("test");
    assert!(
        store
            .decide_screening(&actor, site, pid, id, &checked, at)
            .await
            .unwrap()
    );
}

/// A patient is checked in only while the decision on their newest screening is "eligible":
/// a newer screening not decided yet, one that needs review, or a decision of not eligible
/// refuses the check-in with what to do, and opens nothing.
async fn a_patient_is_checked_in_only_once_screened_eligible(app: &TestApp) {
    let (iv, _) = all_day_chairs(app).await;
    let r = ready(app, "iv_induction_thrice_weekly", "iv_infusion", &iv).await;
    let store = &app.db.store;
    let actor = Actor::system("test");
    let now = jiff::Timestamp::now();
    let appointment = book_at(app, &r, now - jiff::SignedDuration::from_mins(5)).await;
    let today = noon_today(now);
    let later = |s: i64| now + jiff::SignedDuration::from_secs(s);
    app.user("booker@example.org", Role::FrontDesk).await;
    let desk = app.signed_in("booker@example.org").await;
    let booking = format!("/courses/{}/book", r.course);
    let not_cleared = "This patient cannot be checked in yet";
    let html = app.get(&desk, &booking).await.text().await.unwrap();
    assert!(!html.contains(not_cleared), "decided eligible: {html}");
    // The prescriber ordering a course learns it at the order form too.
    app.user("orderer@example.org", Role::Prescriber).await;
    let doctor = app.signed_in("orderer@example.org").await;
    let courses = format!("/patients/{}/courses", r.patient.as_str());
    let order_note = "This patient has not been decided eligible at their latest screening.";
    let html = app.get(&doctor, &courses).await.text().await.unwrap();
    assert!(
        html.contains("Order a course") && !html.contains(order_note),
        "{html}"
    );
    // New findings (a second screening), not decided yet: the earlier "eligible" no longer
    // stands, and the booking page says so.
    let newer = screened(store, &r.site, &r.patient, "", later(1)).await;
    let html = app.get(&desk, &booking).await.text().await.unwrap();
    assert!(html.contains(not_cleared), "{html}");
    let html = app.get(&doctor, &courses).await.text().await.unwrap();
    assert!(html.contains(order_note), "{html}");
    for (n, (decision, said)) in [
        ("", "has not been screened and decided eligible"),
        ("needs_review", "latest screening needs review"),
        (
            "not_eligible",
            "decided not eligible at their latest screening",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let step = 2 + 2 * n as i64;
        if !decision.is_empty() {
            decide(store, &r.site, &r.patient, &newer, decision, later(step)).await;
        }
        match store
            .check_in(&actor, &r.site, &appointment.id, today, later(step + 1))
            .await
            .unwrap()
        {
            Err(store::SessionRefusal::CheckIn(why)) => assert!(why.contains(said), "{why}"),
            other => panic!("{decision}: {other:?}"),
        }
        assert!(
            store
                .session_of_appointment(&r.site, &appointment.id)
                .await
                .unwrap()
                .is_none()
        );
    }
    // Decided eligible (a later decision on the same screening): checked in.
    decide(store, &r.site, &r.patient, &newer, "eligible", later(10)).await;
    assert!(
        store
            .check_in(&actor, &r.site, &appointment.id, today, later(11))
            .await
            .unwrap()
            .is_ok()
    );
}

crate::on_both!(a_patient_is_checked_in_only_once_screened_eligible);

/// A patient with a current diagnosis, signed consent, a course of `protocol` and an
/// appointment for it today, checked in; the session's id.
async fn checked_in(app: &TestApp, protocol: &str, kind: &str, chair: &str) -> String {
    let r = ready(app, protocol, kind, chair).await;
    let store = &app.db.store;
    let actor = Actor::system("test");
    let now = jiff::Timestamp::now();
    let appointment = book_at(app, &r, now - jiff::SignedDuration::from_mins(5)).await;
    let today = noon_today(now);
    let id = store
        .check_in(&actor, &r.site, &appointment.id, today, now)
        .await
        .unwrap()
        .unwrap();
    // Checking in again returns the same session.
    let again = store
        .check_in(&actor, &r.site, &appointment.id, today, now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(id, again);
    // A second session of the course the same day is refused at booking: a course plans one
    // session a day at most.
    let later = now + jiff::SignedDuration::from_hours(3);
    match try_book(app, &r, &r.course, later).await {
        Err(store::BookingRefusal::SameDay { with, .. }) => assert_eq!(with, appointment.id),
        other => panic!("{other:?}"),
    }
    // An appointment of another of the patient's courses cannot open a second session while
    // this one runs.
    let other = second_course(app, &r, protocol).await;
    let second = try_book(app, &r, &other, later)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    match store
        .check_in(&actor, &r.site, &second.id, today, now)
        .await
        .unwrap()
    {
        Err(store::SessionRefusal::CheckIn(why)) => assert!(why.contains("another session")),
        other => panic!("{other:?}"),
    }
    id.as_str().to_owned()
}

/// The site, id and patient of the session `id` (as [`checked_in`] gives it).
async fn seated(app: &TestApp, id: &str) -> (store::SiteId, store::SessionId, store::PatientId) {
    let store = &app.db.store;
    let site = store.first_site().await.unwrap().unwrap().id;
    let sid = store::SessionId::parse(id).unwrap();
    let patient = store
        .treatment_session(&Actor::system("test"), &site, &sid, jiff::Timestamp::now())
        .await
        .unwrap()
        .patient_id;
    (site, sid, patient)
}

/// Records a PHQ-9 with `answers` before the session, through the API with `token`; the status.
async fn phq9_before_session(
    app: &TestApp,
    token: &str,
    patient: &store::PatientId,
    answers: [i64; 9],
) -> u16 {
    reqwest::Client::new()
        .post(app.url(&format!("/api/v1/patients/{patient}/assessments")))
        .bearer_auth(token)
        .json(&json!({"instrument": "phq9", "answers": answers, "time_point": "before_session"}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Waits, when the clinic's date would change within `margin`, until it has changed: a story
/// that books for now and then reads today's pages must not straddle the clinic's midnight.
async fn clear_of_midnight(zone: &str, margin: std::time::Duration) {
    let now = jiff::Timestamp::now().in_tz(zone).unwrap();
    let midnight = now
        .date()
        .tomorrow()
        .unwrap()
        .to_zoned(now.time_zone().clone())
        .unwrap();
    let left = now.duration_until(&midnight).unsigned_abs();
    if left < margin {
        tokio::time::sleep(left + std::time::Duration::from_secs(1)).await;
    }
}

/// A fixed time zone in which `now` is about noon, so the test's slots of a few hours never
/// cross midnight (the chairs' hours are checked day by day).
fn noon_zone(now: jiff::Timestamp) -> jiff::tz::TimeZone {
    let hour = now.to_zoned(jiff::tz::TimeZone::UTC).hour();
    jiff::tz::TimeZone::fixed(jiff::tz::Offset::from_hours(12 - hour).unwrap())
}

/// The instants `[start, end)` of the day around `now` in [`noon_zone`]: the "today" of the
/// appointments [`book_at`] books near `now`.
fn noon_today(now: jiff::Timestamp) -> (jiff::Timestamp, jiff::Timestamp) {
    let tz = noon_zone(now);
    let day = now.to_zoned(tz.clone()).date();
    (
        day.to_zoned(tz.clone()).unwrap().timestamp(),
        day.tomorrow().unwrap().to_zoned(tz).unwrap().timestamp(),
    )
}

/// Chairs open every day, all day, so the test runs at any hour.
async fn all_day_chairs(app: &TestApp) -> (String, String) {
    use clinical::booking::OpeningHours;
    use clinical::course::Product;
    // The first account makes the site.
    app.token(Role::Nurse).await;
    let store = &app.db.store;
    let site = store.first_site().await.unwrap().unwrap();
    let now = jiff::Timestamp::now();
    let actor = Actor::system("test");
    let room = store
        .create_room(&actor, &site.id, "Room S", now)
        .await
        .unwrap();
    let hours = OpeningHours::every_day_all_day();
    let mut ids = Vec::new();
    for (name, p) in [
        ("IV S", Product::IvRacemic),
        ("Nasal S", Product::EsketamineNasal),
    ] {
        ids.push(
            store
                .create_chair(
                    &actor,
                    &site.id,
                    &store::NewChair {
                        room_id: &room,
                        name,
                        supports: &[p],
                        hours: &hours,
                    },
                    now,
                )
                .await
                .unwrap()
                .as_str()
                .to_owned(),
        );
    }
    (ids[0].clone(), ids[1].clone())
}

async fn a_whole_iv_session_runs_in_order_and_locks(app: &TestApp) {
    let (iv, _) = all_day_chairs(app).await;
    let id = checked_in(app, "iv_induction_thrice_weekly", "iv_infusion", &iv).await;
    app.user("nurse.one@example.org", Role::Nurse).await;
    app.user_named("nurse.two@example.org", "Nia Second", Role::Nurse)
        .await;
    app.user("doctor@example.org", Role::Prescriber).await;
    let nurse = app.signed_in("nurse.one@example.org").await;
    let page = format!("/sessions/{id}");
    let token = app.csrf(&nurse, &page).await;

    // Starting before the pre-assessment is refused, saying what comes first.
    let res = app
        .post_form(
            &nurse,
            &format!("{page}/pump"),
            &token,
            &[("step", "start")],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("pre-session assessment"), "{html}");

    // The vitals before dosing hold a blood pressure: the fields say it is required, and
    // the pulse and saturation alone are refused at the systolic field (they were taken).
    let html = app.get(&nurse, &page).await.text().await.unwrap();
    assert!(
        html.contains(r#"<label for="systolic_mmhg">Systolic (mmHg)</label>"#)
            && html.contains(
                r#"name="systolic_mmhg" type="text" inputmode="numeric" value="" required"#
            ),
        "{html}"
    );
    let no_pressure = [
        ("weight_kg", "80"),
        ("heart_rate_bpm", "72"),
        ("spo2_percent", "98"),
        ("pregnancy_test", "not_applicable"),
        ("escort", "on"),
    ];
    let res = app
        .post_form(&nurse, &format!("{page}/pre"), &token, &no_pressure)
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains(r#"<p class="field-error" id="systolic_mmhg-error"><span class="visually-hidden">Error:</span> Take the blood pressure before dosing: enter the systolic and the diastolic pressure.</p>"#),
        "{html}"
    );
    assert!(html.contains(r#"value="72""#), "typed values kept");

    // An impossible reading is refused at its field and nothing is stored.
    let mut pre = vec![
        ("weight_kg", "80"),
        ("systolic_mmhg", "80"),
        ("diastolic_mmhg", "90"),
        ("heart_rate_bpm", "72"),
        ("spo2_percent", "98"),
        ("respiratory_rate_per_min", "14"),
        ("pregnancy_test", "not_applicable"),
        ("escort", "on"),
    ];
    let res = app
        .post_form(&nurse, &format!("{page}/pre"), &token, &pre)
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("must be higher than the diastolic"), "{html}");
    assert!(html.contains("value=\"80\""), "typed values kept");
    // Chairside entry on a tablet: the readings ask for the number keypad (whole numbers for
    // the monitor's readings, decimals for the weight), as text so a mistyped value comes back.
    for (name, mode, typed) in [
        ("systolic_mmhg", "numeric", "80"),
        ("spo2_percent", "numeric", "98"),
        ("respiratory_rate_per_min", "numeric", "14"),
        ("weight_kg", "decimal", "80"),
    ] {
        let input = format!(r#"name="{name}" type="text" inputmode="{mode}" value="{typed}""#);
        assert!(html.contains(&input), "{input} in {html}");
    }
    pre[1] = ("systolic_mmhg", "124");
    pre[2] = ("diastolic_mmhg", "78");
    let res = app
        .post_form(&nurse, &format!("{page}/pre"), &token, &pre)
        .await;
    assert_eq!(res.status(), 303);

    // The IV dose needs a second person with their own password.
    let html = app.get(&nurse, &page).await.text().await.unwrap();
    assert!(html.contains("40.0 mg"), "0.5 mg/kg × 80 kg: {html}");
    // What the pre-assessment recorded stays on the page for the rest of the session.
    assert!(
        html.contains(
            "<strong>Pre-session:</strong> 80.0 kg; pregnancy test not applicable; escort home: yes; fasting: no</p>"
        ),
        "{html}"
    );
    let dose = |second: &'static str, password: &'static str| {
        vec![
            ("dose_mg", ""),
            ("duration_min", "40"),
            ("stock_mg_per_ml", "10"),
            ("bag_ml", "100"),
            ("lot", "K123"),
            ("second_email", second),
            ("second_password", password),
        ]
    };
    let res = app
        .post_form(
            &nurse,
            &format!("{page}/dose"),
            &token,
            &dose("nurse.one@example.org", crate::support::PASSWORD),
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("not you"));
    let res = app
        .post_form(
            &nurse,
            &format!("{page}/dose"),
            &token,
            &dose("nurse.two@example.org", "wrong password"),
        )
        .await;
    assert_eq!(res.status(), 422);
    // Nor run it faster than the published regimens: "4" typed for "40" is refused to a
    // nurse at the length, saying why, and below the planning floor to anyone.
    let mut fast = dose("nurse.two@example.org", crate::support::PASSWORD);
    fast[1] = ("duration_min", "4");
    let res = app
        .post_form(&nurse, &format!("{page}/dose"), &token, &fast)
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains(r#"<p class="field-error" id="duration_min-error"><span class="visually-hidden">Error:</span> 4 min is shorter than the 40 min of the published regimens, so the dose would run faster; only a prescriber can shorten the infusion, with a reason.</p>"#),
        "{html}"
    );
    assert!(html.contains(r#"value="4""#), "typed kept");
    fast[1] = ("duration_min", "1");
    let res = app
        .post_form(&nurse, &format!("{page}/dose"), &token, &fast)
        .await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("1 min is shorter than the shortest infusion planned, 2 min")
    );
    // A nurse cannot give more than the order.
    let mut over = dose("nurse.two@example.org", crate::support::PASSWORD);
    over[0] = ("dose_mg", "60");
    let res = app
        .post_form(&nurse, &format!("{page}/dose"), &token, &over)
        .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("only a prescriber"));
    let res = app
        .post_form(
            &nurse,
            &format!("{page}/dose"),
            &token,
            &dose("nurse.two@example.org", crate::support::PASSWORD),
        )
        .await;
    assert_eq!(res.status(), 303);
    let html = app.get(&nurse, &page).await.text().await.unwrap();
    // 40 mg in 4 mL of stock added to 100 mL over 40 minutes: 156 mL/h, 60 mg/h.
    assert!(html.contains("pump 156.0 mL/h (60.0 mg/h)"), "{html}");
    // Staff are named as on every record page (the session room gave their emails).
    assert!(html.contains("checked by Nia Second"), "{html}");

    let res = app
        .post_form(
            &nurse,
            &format!("{page}/pump"),
            &token,
            &[("step", "start")],
        )
        .await;
    assert_eq!(res.status(), 303);
    // A high pressure raises an alert that stays until acknowledged with the action.
    let res = app
        .post_form(
            &nurse,
            &format!("{page}/vitals"),
            &token,
            &[("systolic_mmhg", "186"), ("diastolic_mmhg", "96")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let html = app.get(&nurse, &page).await.text().await.unwrap();
    assert!(
        html.contains("ALERT:</strong> Blood pressure 186/96 mmHg: systolic at or above 180"),
        "{html}"
    );
    let board = app.get(&nurse, "/board").await.text().await.unwrap();
    // The chart draws the concentration predicted for what has been given so far, and the
    // dose line and the patient's record say what the pump has infused so far.
    assert!(
        html.contains("Predicted plasma concentration for what was given (Domino"),
        "{html}"
    );
    assert!(
        html.contains(" mg infused so far by the pump&#39;s record"),
        "{html}"
    );
    let (_, _, patient) = seated(app, &id).await;
    let record = app
        .get(&nurse, &format!("/patients/{patient}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        record.contains(" of 40.0 mg infused so far</td><td>Administering</td>"),
        "{record}"
    );
    // Above 180, and 62 over the baseline of 124: two alerts, both said in words.
    assert!(board.contains("2 open alerts"), "{board}");
    assert!(
        board.contains("risen 62 over the baseline of 124"),
        "{board}"
    );
    let marker = "name=\"alert\" value=\"";
    let alert_ids: Vec<String> = html
        .match_indices(marker)
        .map(|(i, _)| html[i + marker.len()..i + marker.len() + 36].to_owned())
        .collect();
    assert_eq!(alert_ids.len(), 2);
    let alert_id = alert_ids[0].clone();
    let res = app
        .post_form(
            &nurse,
            &format!("{page}/pump"),
            &token,
            &[("step", "pause")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let res = app
        .post_form(
            &nurse,
            &format!("{page}/pump"),
            &token,
            &[("step", "rate"), ("dose_rate_mg_per_h", "40")],
        )
        .await;
    assert_eq!(res.status(), 422, "no rate change while paused");
    let res = app
        .post_form(
            &nurse,
            &format!("{page}/alert"),
            &token,
            &[("alert", alert_id.as_str()), ("action", "")],
        )
        .await;
    assert_eq!(res.status(), 422, "an acknowledgement needs the action");
    // A control character in the action is refused at its field, and acknowledges nothing
    // (a NUL byte, which PostgreSQL's text cannot hold, is refused for every form: hardening).
    for pasted in ["paused\u{1}", "paused\u{1b}"] {
        let res = app
            .post_form(
                &nurse,
                &format!("{page}/alert"),
                &token,
                &[("alert", alert_id.as_str()), ("action", pasted)],
            )
            .await;
        assert_eq!(res.status(), 422, "{pasted:?}");
        let body = res.text().await.unwrap();
        assert!(
            body.contains("Action taken holds a control character")
                && body.contains(&format!("#action-{alert_id}")),
            "{body}"
        );
    }
    let res = app
        .post_form(
            &nurse,
            &format!("{page}/alert"),
            &token,
            &[("alert", alert_id.as_str()), ("action", "infusion paused")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let res = app
        .post_form(
            &nurse,
            &format!("{page}/alert"),
            &token,
            &[
                ("alert", alert_ids[1].as_str()),
                ("action", "infusion paused"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let res = app
        .post_form(
            &nurse,
            &format!("{page}/alert"),
            &token,
            &[("alert", alert_ids[1].as_str()), ("action", "again")],
        )
        .await;
    assert_eq!(res.status(), 422, "an alert is acknowledged once");
    let res = app
        .post_form(
            &nurse,
            &format!("{page}/pump"),
            &token,
            &[("step", "resume")],
        )
        .await;
    assert_eq!(res.status(), 303);
    // A nurse cannot run it faster than verified (60 mg/h), at the rate's field.
    let res = app
        .post_form(
            &nurse,
            &format!("{page}/pump"),
            &token,
            &[("step", "rate"), ("dose_rate_mg_per_h", "90")],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains(r#"<p class="field-error" id="dose_rate_mg_per_h-error"><span class="visually-hidden">Error:</span> 90 mg/h is faster than the 60 mg/h verified with the dose; only a prescriber can run the infusion faster.</p>"#),
        "{html}"
    );
    // A new dose rate shows the pump's mL/h for the bag as prepared: 40 mg in 104 mL.
    let res = app
        .post_form(
            &nurse,
            &format!("{page}/pump"),
            &token,
            &[("step", "rate"), ("dose_rate_mg_per_h", "30")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let html = app.get(&nurse, &page).await.text().await.unwrap();
    assert!(
        html.contains("Rate changed at 30.0 mg/h, pump 78.0 mL/h"),
        "{html}"
    );
    let res = app
        .post_form(&nurse, &format!("{page}/pump"), &token, &[("step", "stop")])
        .await;
    assert_eq!(res.status(), 303);
    // "Other" needs a description: refused at its field, the action typed kept.
    let res = app
        .post_form(
            &nurse,
            &format!("{page}/adverse"),
            &token,
            &[
                ("kind", "other"),
                ("grade", "2"),
                ("action", "ondansetron given"),
                ("serious", "on"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("id=\"description-error\""), "{html}");
    assert!(
        html.contains("id=\"ae-action\" name=\"action\" type=\"text\" value=\"ondansetron given\""),
        "{html}"
    );
    // What was chosen and ticked is kept too (the grade and the box came back empty).
    assert!(
        html.contains("<option value=\"other\" selected>")
            && html.contains("<option value=\"2\" selected>2, moderate</option>")
            && html.contains("name=\"serious\" checked>"),
        "{html}"
    );
    let res = app
        .post_form(
            &nurse,
            &format!("{page}/adverse"),
            &token,
            &[
                ("kind", "nausea"),
                ("grade", "1"),
                ("action", "ondansetron given"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    // Discharge needs vitals after the infusion and every item ticked.
    let all = [
        ("alert_and_oriented", "on"),
        ("no_active_nausea", "on"),
        ("escort_present", "on"),
        ("vitals_near_baseline", "on"),
    ];
    let res = app
        .post_form(&nurse, &format!("{page}/discharge"), &token, &all)
        .await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("ake vitals after administration ended")
    );
    let res = app
        .post_form(
            &nurse,
            &format!("{page}/vitals"),
            &token,
            &[("systolic_mmhg", "130"), ("diastolic_mmhg", "80")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let res = app
        .post_form(&nurse, &format!("{page}/discharge"), &token, &all[..3])
        .await;
    assert_eq!(res.status(), 422);
    // Sent back for the fourth, the three ticked stay ticked.
    let html = res.text().await.unwrap();
    for (name, _) in &all[..3] {
        assert!(
            html.contains(&format!("id=\"{name}\" name=\"{name}\" checked")),
            "{name}: {html}"
        );
    }
    assert!(
        !html.contains("id=\"vitals_near_baseline\" name=\"vitals_near_baseline\" checked"),
        "{html}"
    );
    let res = app
        .post_form(&nurse, &format!("{page}/discharge"), &token, &all)
        .await;
    assert_eq!(res.status(), 303);

    // Only a prescriber locks; afterwards the record takes addenda only.
    let res = app
        .post_form(&nurse, &format!("{page}/lock"), &token, &[])
        .await;
    assert_eq!(res.status(), 403);
    let doctor = app.signed_in("doctor@example.org").await;
    // The prescriber's start page lists it among the sessions to sign and lock, linked; the
    // nurse's does not (only a prescriber locks).
    let home = app.get(&doctor, "/").await.text().await.unwrap();
    assert!(home.contains("Sessions to sign and lock (1)"), "{home}");
    assert!(
        home.contains(&format!(
            r#"<a href="{page}">Sign and lock<span class="visually-hidden"> the session of "#
        )),
        "{home}"
    );
    let nurse_home = app.get(&nurse, "/").await.text().await.unwrap();
    assert!(
        !nurse_home.contains("Sessions to sign and lock"),
        "{nurse_home}"
    );
    let dtoken = app.csrf(&doctor, &page).await;
    let res = app
        .post_form(&doctor, &format!("{page}/lock"), &dtoken, &[])
        .await;
    assert_eq!(res.status(), 303);
    let home = app.get(&doctor, "/").await.text().await.unwrap();
    assert!(
        !home.contains("Sessions to sign and lock"),
        "locked: {home}"
    );
    // The patient's record lists the session among their treatment sessions, linked, with
    // the dose given (by the pump's record: the test stops the infusion seconds after its
    // start) and its adverse event.
    let record = app
        .get(&doctor, &format!("/patients/{patient}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        record.contains(" of 40.0 mg infused</td><td>Signed and locked</td><td>1</td>")
            && record.contains(&format!(r#"<a href="/sessions/{id}">Open"#)),
        "{record}"
    );
    let res = app
        .post_form(
            &nurse,
            &format!("{page}/vitals"),
            &token,
            &[("heart_rate_bpm", "70")],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("addendum"));
    // A signed record keeps a bounded addendum: one too long is refused, nothing added.
    let long = "Called again. ".repeat(800);
    let res = app
        .post_form(
            &nurse,
            &format!("{page}/addendum"),
            &token,
            &[("body", &long)],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Addendum is longer than 10000 characters; shorten it.")
    );
    let res = app
        .post_form(
            &nurse,
            &format!("{page}/addendum"),
            &token,
            &[("body", "Called the next day: well.")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let html = app.get(&doctor, &page).await.text().await.unwrap();
    assert!(html.contains("Called the next day: well."));
    assert!(html.contains("Signed and locked"));
    // The database itself refuses a change to a locked session.
    let changed = app
        .db
        .store
        .lock_session(
            &Actor::system("test"),
            &app.db.store.first_site().await.unwrap().unwrap().id,
            &store::SessionId::parse(&id).unwrap(),
            jiff::Timestamp::now(),
        )
        .await
        .unwrap();
    assert_eq!(changed, Err(store::SessionRefusal::Locked));
    let trail = app.audit().await;
    assert!(trail.iter().any(|e| e.action == "session.vitals"));
    assert!(trail.iter().filter(|e| e.action == "session.step").count() >= 8);
}

async fn vitals_are_stored_once_per_idempotency_key(app: &TestApp) {
    let (iv, _) = all_day_chairs(app).await;
    let id = checked_in(app, "iv_induction_thrice_weekly", "iv_infusion", &iv).await;
    let token = app.token(Role::Nurse).await;
    let client = reqwest::Client::new();
    let now = jiff::Timestamp::now();
    let body = json!({"observations": [
        {"taken_at": now.to_string(), "systolic_mmhg": 128, "diastolic_mmhg": 82, "heart_rate_bpm": 76},
        {"taken_at": now.to_string(), "spo2_percent": 88}
    ]});
    let post = |key: &'static str, body: Value| {
        client
            .post(app.url(&format!("/api/v1/sessions/{id}/vitals")))
            .bearer_auth(&token)
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
    };
    let first = post("chair-7-0001", body.clone()).await.unwrap();
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["observations"].as_array().unwrap().len(), 2);
    assert_eq!(first["alerts"][0]["kind"], "spo2_low");
    let again = post("chair-7-0001", body.clone()).await.unwrap();
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(again, first, "the same answer");
    // The same key for other readings is refused.
    let other = json!({"observations": [{"taken_at": now.to_string(), "heart_rate_bpm": 90}]});
    let res = post("chair-7-0001", other).await.unwrap();
    assert_eq!(res.status(), 422);
    let e: Value = res.json().await.unwrap();
    assert_eq!(e["error"]["code"], "idempotency_key_reused");
    // Impossible readings name their field.
    let bad = json!({"observations": [{"taken_at": now.to_string(), "spo2_percent": 101}]});
    let e: Value = post("chair-7-0002", bad)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(e["error"]["field"], "observations[0].spo2_percent");
    let bad = json!({"observations": [{"taken_at": now.to_string(), "systolic_mmhg": 70, "diastolic_mmhg": 90}]});
    let e: Value = post("chair-7-0003", bad)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(e["error"]["field"], "observations[0].systolic_mmhg");
    // Ten concurrent retries of one key store the readings once.
    let many = json!({"observations": [{"taken_at": now.to_string(), "heart_rate_bpm": 80}]});
    let tries = (0..10).map(|_| post("chair-7-0004", many.clone()));
    for r in futures_util::future::join_all(tries).await {
        assert_eq!(r.unwrap().status(), 201);
    }
    let session: Value = client
        .get(app.url(&format!("/api/v1/sessions/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(session["vitals"].as_array().unwrap().len(), 3, "{session}");
    assert_eq!(session["alerts"].as_array().unwrap().len(), 1);
    let active: Value = client
        .get(app.url("/api/v1/sessions?status=active"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(active["sessions"][0]["id"], id.as_str());
    // A kept answer that does not decode is an error on the repeat, never an empty answer.
    app.db
        .raw("update idempotency_keys set response = '{\"vitals\": 7}' where key = 'chair-7-0001'")
        .await;
    let res = post("chair-7-0001", body.clone()).await.unwrap();
    assert_eq!(res.status(), 500);
    let e: Value = res.json().await.unwrap();
    assert!(
        !e.to_string().contains("idempotency_keys"),
        "opaque to the caller: {e}"
    );
    // Front desk sees no session.
    let desk = app.token(Role::FrontDesk).await;
    let res = client
        .get(app.url(&format!("/api/v1/sessions/{id}")))
        .bearer_auth(&desk)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}

async fn an_esketamine_session_locks_only_with_a_complete_rems_form(app: &TestApp) {
    let (_, nasal) = all_day_chairs(app).await;
    let id = checked_in(app, "esketamine_trd_label", "esketamine", &nasal).await;
    let store = &app.db.store;
    let site = store.first_site().await.unwrap().unwrap().id;
    let sid = store::SessionId::parse(&id).unwrap();
    let doctor = app
        .user_named("esk.doctor@example.org", "Esme Doctor", Role::Prescriber)
        .await;
    let actor = Actor::user(&doctor);
    let settings = clinical::session::AlertSettings::default();
    let now = jiff::Timestamp::now();
    let bp = |s, d| clinical::session::Vitals {
        systolic_mmhg: Some(s),
        diastolic_mmhg: Some(d),
        ..Default::default()
    };
    let pre = store::PreAssessment {
        weight_kg: 70.0,
        escort: true,
        fasting: true,
        pregnancy_test: clinical::session::PregnancyTest::Negative,
        note: None,
        vitals: bp(126, 80),
    };
    // The store refuses a pre-assessment without a blood pressure, whoever asks (the Spravato
    // label: blood pressure before dosing), and the session stays checked in.
    let pulse_only = store::PreAssessment {
        vitals: clinical::session::Vitals {
            heart_rate_bpm: Some(70),
            ..Default::default()
        },
        ..pre.clone()
    };
    let refused = store
        .pre_assess(&actor, &site, &sid, &pulse_only, &settings, now)
        .await
        .unwrap();
    assert!(
        matches!(&refused, Err(store::SessionRefusal::Vitals(p))
            if p == &[clinical::session::VitalsError::NoPressureBeforeDosing]),
        "{refused:?}"
    );
    let read = store
        .treatment_session(&actor, &site, &sid, now)
        .await
        .unwrap();
    assert_eq!(read.status, clinical::session::SessionStatus::CheckedIn);
    store
        .pre_assess(&actor, &site, &sid, &pre, &settings, now)
        .await
        .unwrap()
        .unwrap();
    let read = store
        .treatment_session(&actor, &site, &sid, now)
        .await
        .unwrap();
    assert_eq!(
        read.pregnancy_test,
        Some(clinical::session::PregnancyTest::Negative)
    );
    // A stored result that is not one of the two (written past the table's own check) does
    // not decode: an error naming it, never a default.
    let unsure =
        format!("update treatment_sessions set pregnancy_test = 'unsure' where id = '{id}'");
    match store.backend() {
        store::Backend::Sqlite => {
            app.db
                .raw(&format!("pragma ignore_check_constraints = on; {unsure}"))
                .await
        }
        store::Backend::Postgres => {
            app.db
                .raw("alter table treatment_sessions drop constraint treatment_sessions_pregnancy_test_check")
                .await;
            app.db.raw(&unsure).await;
        }
    }
    match store.treatment_session(&actor, &site, &sid, now).await {
        Err(store::StoreError::Corrupt(c)) => {
            assert_eq!(
                (c.table, c.column),
                ("treatment_sessions", "pregnancy_test")
            );
        }
        other => panic!("{other:?}"),
    }
    app.db
        .raw(&format!(
            "update treatment_sessions set pregnancy_test = 'negative' where id = '{id}'"
        ))
        .await;
    let s = store.board_sessions(&site).await.unwrap();
    let order_id = store
        .course(&site, &s[0].course_id)
        .await
        .unwrap()
        .order()
        .unwrap()
        .id
        .clone();
    store
        .verify_dose(
            &actor,
            &site,
            &sid,
            &store::DoseVerification {
                order_id: &order_id,
                dose_mg: 56.0,
                caps: &pk::dose::DoseCaps::default(),
                min_infusion_min: pk::dose::DEFAULT_MIN_INFUSION_MIN,
                infusion: None,
                lot: clinical::session::LotNumber::parse("ESK-7").unwrap(),
                second_verifier: None,
                override_reason: None,
                containers: &[],
                rule: &clinical::ledger::StockRule {
                    today: now.to_zoned(jiff::tz::TimeZone::UTC).date(),
                    zone: jiff::tz::TimeZone::UTC,
                    opened_vial_days: clinical::ledger::OPENED_VIAL_DAYS,
                },
            },
            now,
        )
        .await
        .unwrap()
        .unwrap();
    let at = |m: i64| now + jiff::SignedDuration::from_mins(m);
    store
        .pump(
            &actor,
            &site,
            &sid,
            clinical::session::Step::Start,
            None,
            None,
            at(1),
        )
        .await
        .unwrap()
        .unwrap();
    // The stop comes from a part of the system (a pump bridge, say), with no staff account.
    store
        .pump(
            &Actor::system("pump-bridge"),
            &site,
            &sid,
            clinical::session::Step::Stop,
            None,
            None,
            at(11),
        )
        .await
        .unwrap()
        .unwrap();
    store
        .record_vitals(
            &actor,
            &site,
            &sid,
            &[(at(20), bp(130, 82))],
            "hand",
            None,
            &settings,
            at(20),
        )
        .await
        .unwrap()
        .unwrap();
    let checklist = clinical::session::Checklist {
        alert_and_oriented: true,
        no_active_nausea: true,
        escort_present: true,
        vitals_near_baseline: true,
    };
    // Less than two hours since the first device: refused, saying how long so far.
    let refused = store
        .discharge(&actor, &site, &sid, &checklist, &settings, at(30))
        .await
        .unwrap()
        .unwrap_err();
    match refused {
        store::SessionRefusal::Discharge(list) => {
            assert!(
                list.iter().any(|(f, m)| *f == "monitoring"
                    && m.contains("120 minutes")
                    && m.contains("29 so far")),
                "{list:?}"
            )
        }
        other => panic!("{other:?}"),
    }
    // The chair board and the session room say from when: two hours after the first device.
    app.user("esk.nurse@example.org", Role::Nurse).await;
    let nurse = app.signed_in("esk.nurse@example.org").await;
    let from = at(1)
        .to_zoned(jiff::tz::TimeZone::get(crate::support::CLINIC_ZONE).unwrap())
        .checked_add(jiff::SignedDuration::from_mins(120))
        .unwrap()
        .strftime("%H:%M")
        .to_string();
    let board = app.get(&nurse, "/board").await.text().await.unwrap();
    assert!(
        board.contains(&format!(
            "<p>Discharge: from {from}, two hours after dosing began</p>"
        )),
        "{board}"
    );
    let room = app
        .get(&nurse, &format!("/sessions/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        room.contains(&format!("the patient may be discharged from {from}")),
        "{room}"
    );
    let later = now + jiff::SignedDuration::from_mins(125);
    store
        .discharge(&actor, &site, &sid, &checklist, &settings, later)
        .await
        .unwrap()
        .unwrap();
    let refused = store
        .lock_session(&actor, &site, &sid, later)
        .await
        .unwrap()
        .unwrap_err();
    match refused {
        store::SessionRefusal::Rems(list) => {
            assert!(list.iter().any(|(f, _)| *f == "opioids"));
            assert!(list.iter().any(|(f, _)| *f == "bp_forty"));
        }
        other => panic!("{other:?}"),
    }
    // The printed form shows what is missing.
    let form = app
        .get(&nurse, &format!("/sessions/{id}/rems-form"))
        .await
        .text()
        .await
        .unwrap();
    assert!(form.contains("Patient Monitoring Form"));
    assert!(form.contains("126/80 mmHg"), "{form}");
    assert!(form.contains("Incomplete"));
    // The setting and the monitoring provider as the form asks for them.
    assert!(form.contains("1 Test Street, Chicago, IL 60601"), "{form}");
    assert!(
        form.contains("Esme Doctor, esk.doctor@example.org, telephone (312) 555-0100"),
        "{form}"
    );
    let due = app.get(&nurse, "/rems/forms").await.text().await.unwrap();
    assert!(due.contains("Sol Seated"), "{due}");
    // The start page counts it, with the day it is due (seven days after the session's).
    let home = app.get(&nurse, "/").await.text().await.unwrap();
    assert!(
        home.contains("REMS monitoring forms to submit (1)"),
        "{home}"
    );
    let due_on = jiff::Timestamp::now()
        .in_tz(crate::support::CLINIC_ZONE)
        .unwrap()
        .date()
        .checked_add(jiff::ToSpan::days(7))
        .unwrap();
    assert!(
        home.contains(&format!("The first is due {due_on}.")),
        "{home}"
    );
    assert!(!home.contains("is overdue."), "{home}");
    // Who recorded each step is named; the system's stop says so (it showed "()").
    let html = app
        .get(&nurse, &format!("/sessions/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Started (Esme Doctor)"), "{html}");
    assert!(html.contains("Stopped (the system)"), "{html}");
    assert!(
        html.contains("<td>entered</td><td>Esme Doctor</td>"),
        "each reading names who recorded it: {html}"
    );

    // Its submission: online or by fax, nothing else; recorded once, then off the due list.
    let page = format!("/sessions/{id}");
    let token = app.csrf(&nurse, &page).await;
    // Yesterday in UTC is never after the clinic's today.
    let today = jiff::Zoned::now().date().yesterday().unwrap().to_string();
    let submit = |method: &'static str| [("submitted_on", today.as_str()), ("method", method)];
    let url = format!("{page}/rems-submitted");
    let res = app.post_form(&nurse, &url, &token, &submit("pigeon")).await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("Choose online or fax."), "{html}");
    let res = app.post_form(&nurse, &url, &token, &submit("fax")).await;
    assert_eq!(res.status(), 303);
    let html = app.get(&nurse, &page).await.text().await.unwrap();
    assert!(
        html.contains(&format!("Submitted {today} (by fax).")),
        "{html}"
    );
    let due = app.get(&nurse, "/rems/forms").await.text().await.unwrap();
    assert!(!due.contains("Sol Seated"), "{due}");
    let home = app.get(&nurse, "/").await.text().await.unwrap();
    assert!(!home.contains("REMS monitoring forms"), "{home}");
}

async fn dissociation_and_sedation_are_rated_at_their_set_times(app: &TestApp) {
    let (iv, _) = all_day_chairs(app).await;
    let id = checked_in(app, "iv_induction_thrice_weekly", "iv_infusion", &iv).await;
    app.user("rater@example.org", Role::Nurse).await;
    let nurse = app.signed_in("rater@example.org").await;
    let page = format!("/sessions/{id}");
    let store = &app.db.store;
    let (site, sid, patient) = seated(app, &id).await;
    let now = jiff::Timestamp::now();

    // Before dosing: the pre-dose times are due, the course's outcome scale is not yet taken.
    let html = app.get(&nurse, &page).await.text().await.unwrap();
    assert!(html.contains("CADSS-6 before the first dose"), "{html}");
    assert!(html.contains("MOAA/S 40 min after the start"), "{html}");
    assert!(
        html.contains(
            "PHQ-9 (the outcome scale of this course) before this session: not recorded yet"
        ),
        "{html}"
    );
    assert!(
        html.contains(&format!(
            "/patients/{patient}/assessments/new?instrument=phq9&#38;time_point=before_session"
        )),
        "{html}"
    );
    let token = app.csrf(&nurse, &page).await;
    let url = format!("{page}/scale");

    // A CADSS-6 with an item unanswered is refused at that item, keeping the session as it was.
    let partial = [
        ("instrument", "cadss6"),
        ("point", "0"),
        ("answer_1", "1"),
        ("answer_2", "0"),
        ("answer_4", "0"),
        ("answer_5", "0"),
        ("answer_6", "1"),
    ];
    let res = app.post_form(&nurse, &url, &token, &partial).await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("Choose an answer for"), "{html}");
    assert!(html.contains("id=\"cadss6-answer-3\""), "{html}");
    // The answers given are kept, in the CADSS-6's form only (they were all cleared).
    assert!(
        html.contains("name=\"answer_1\" value=\"1\" checked>")
            && html.contains("name=\"answer_6\" value=\"1\" checked>")
            && !html.contains("name=\"answer_3\" value=\"0\" checked>"),
        "{html}"
    );
    assert_eq!(html.matches(" checked>").count(), 5, "{html}");
    // A time the clinic does not set is refused, naming the set times.
    let mut odd = partial.to_vec();
    odd.push(("answer_3", "2"));
    odd[1] = ("point", "25");
    let res = app.post_form(&nurse, &url, &token, &odd).await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("Choose one of the set times for the CADSS-6: before the first dose, 40 min after the start, 120 min after the start"), "{html}");
    // The whole rating is stored once for its time.
    let mut whole = odd.clone();
    whole[1] = ("point", "0");
    let res = app.post_form(&nurse, &url, &token, &whole).await;
    assert_eq!(res.status(), 303);
    let res = app.post_form(&nurse, &url, &token, &whole).await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("already recorded"));
    // MOAA/S 0 (no response to a painful squeeze) raises the patient's safety alert.
    let res = app
        .post_form(
            &nurse,
            &url,
            &token,
            &[("instrument", "moaas"), ("point", "0"), ("answer_1", "0")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let s = store
        .treatment_session(&Actor::system("test"), &site, &sid, now)
        .await
        .unwrap();
    let got: Vec<_> = s
        .scales
        .iter()
        .map(|k| (k.instrument.code(), k.minute, k.total))
        .collect();
    assert_eq!(got, vec![("cadss6", 0, 4), ("moaas", 0, 0)]);
    let alerts = store
        .open_alerts(&Actor::system("test"), &site, now)
        .await
        .unwrap();
    assert!(
        alerts
            .iter()
            .any(|a| a.patient_id == patient && a.message.contains("painful")),
        "{alerts:?}"
    );
    // The chair board shows it on the patient's card, as it shows a vital sign's alert.
    let board = app.get(&nurse, "/board").await.text().await.unwrap();
    assert!(
        board.contains("No response to a painful stimulus (MOAA/S 0): loss of consciousness"),
        "{board}"
    );
    let html = app.get(&nurse, &page).await.text().await.unwrap();
    assert!(html.contains("4 of 24 at"), "{html}");
    assert!(
        html.contains("<title>CADSS-6 4 of 24</title>"),
        "the band is drawn: {html}"
    );
    assert!(
        html.contains("0: No response to a painful squeeze at"),
        "{html}"
    );
    // The rating is an assessment of the patient, marked as taken during the session.
    let token_api = app.token(Role::Nurse).await;
    let list: Value = reqwest::Client::new()
        .get(app.url(&format!("/api/v1/patients/{patient}/assessments")))
        .bearer_auth(&token_api)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let during = list["assessments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["time_point"] == "during_session")
        .count();
    assert_eq!(during, 2, "{list}");

    // The course's outcome scale taken before the session is shown with its score.
    let status = phq9_before_session(app, &token_api, &patient, [2, 2, 1, 1, 1, 1, 1, 1, 0]).await;
    assert_eq!(status, 201);
    let html = app.get(&nurse, &page).await.text().await.unwrap();
    assert!(
        html.contains("PHQ-9 before this session: 10 of 27 (moderate) at"),
        "{html}"
    );
    assert!(
        !html.contains("time_point=before_session"),
        "no link once taken"
    );

    // On the patient's record, the ratings of the moment are not read as a course's change:
    // no baseline, response or remission, and the open alert's caveat ("before reading these
    // scores as improvement") stands on the PHQ-9 alone.
    let record = app
        .get(&nurse, &format!("/patients/{patient}"))
        .await
        .text()
        .await
        .unwrap();
    let block = |name: &str| {
        let start = record
            .find(&format!(
                r#"<section class="series-block" aria-label="{name}">"#
            ))
            .unwrap_or_else(|| panic!("{name} in {record}"));
        let end = start + record[start..].find("</section>").unwrap();
        record[start..end].to_owned()
    };
    for name in ["CADSS-6", "MOAA/S"] {
        let b = block(name);
        assert!(
            b.contains("rates the treatment&#39;s effect at the moment it is taken, not the condition treated: read each rating within its session, not as change over the course."),
            "{b}"
        );
        assert!(b.contains(&format!("The {name} rates")), "{b}");
        for absent in ["Response:", "Baseline", "status-alert", "<td>baseline</td>"] {
            assert!(!b.contains(absent), "{absent} in {b}");
        }
    }
    let phq9 = block("PHQ-9");
    assert!(phq9.contains("Baseline 10"), "{phq9}");
    assert!(
        phq9.contains("follow it up before reading these scores as improvement"),
        "{phq9}"
    );
}

async fn the_rems_certification_records_the_setting_for_the_monitoring_form(app: &TestApp) {
    app.user("owner@example.org", Role::Admin).await;
    let admin = app.signed_in("owner@example.org").await;
    let token = app.csrf(&admin, "/admin/clinic").await;
    let mut fields = vec![
        ("certified_on", "2026-01-05"),
        ("representative", "Dr Rosa Imani"),
        ("street", "1 Test Street"),
        ("city", "Chicago"),
        ("state", "Illinois"),
        ("postal_code", "6060"),
        ("phone", "555-01"),
    ];
    let res = app
        .post_form(&admin, "/admin/clinic/rems", &token, &fields)
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    for message in [
        "Give the state as its two letters, such as IL.",
        "Give the ZIP code as 5 digits",
        "Give the telephone at which the monitoring provider is reached",
    ] {
        assert!(html.contains(message), "{message}: {html}");
    }
    assert!(
        html.contains("value=\"1 Test Street\""),
        "what was typed is kept: {html}"
    );
    let site = app.db.store.first_site().await.unwrap().unwrap().id;
    assert_eq!(
        app.db.store.site_rems(&site).await.unwrap(),
        None,
        "nothing stored"
    );
    fields[4] = ("state", "il");
    fields[5] = ("postal_code", "60601-1234");
    fields[6] = ("phone", "+1 (312) 555-0100");
    let res = app
        .post_form(&admin, "/admin/clinic/rems", &token, &fields)
        .await;
    assert_eq!(res.status(), 303);
    let stored = app.db.store.site_rems(&site).await.unwrap().unwrap();
    assert_eq!(
        stored.contact,
        Some(store::SettingContact {
            street: "1 Test Street".into(),
            city: "Chicago".into(),
            state: "IL".into(),
            postal_code: "60601-1234".into(),
            phone: "+1 (312) 555-0100".into(),
        })
    );
    let page = app.get(&admin, "/admin/clinic").await.text().await.unwrap();
    assert!(
        page.contains("setting 1 Test Street, Chicago, IL 60601-1234, telephone +1 (312) 555-0100"),
        "{page}"
    );
}

/// A checked-in IV session of a clinic that keeps its stock in the ledger: the session, its
/// nurse signed in (`{who}.nurse@example.org`), a second nurse to check doses
/// (`{who}.check@example.org`), and a safe to receive into.
struct Stocked {
    id: String,
    nurse: reqwest::Client,
    keeper: store::User,
    checker: store::User,
    site: store::SiteId,
    safe: String,
}

async fn stocked(app: &TestApp, who: &str) -> Stocked {
    let (iv, _) = all_day_chairs(app).await;
    let id = checked_in(app, "iv_induction_thrice_weekly", "iv_infusion", &iv).await;
    let keeper = app
        .user(&format!("{who}.nurse@example.org"), Role::Nurse)
        .await;
    let checker = app
        .user(&format!("{who}.check@example.org"), Role::Nurse)
        .await;
    let nurse = app.signed_in(&format!("{who}.nurse@example.org")).await;
    let store = &app.db.store;
    let site = store.first_site().await.unwrap().unwrap().id;
    let safe = store
        .add_cs_location(
            &Actor::user(&keeper),
            &site,
            &clinical::ledger::NewPlace::parse("Safe", "safe").unwrap(),
            jiff::Timestamp::now(),
        )
        .await
        .unwrap()
        .unwrap();
    Stocked {
        id,
        nurse,
        keeper,
        checker,
        site,
        safe,
    }
}

/// Receives `containers` vials of ketamine HCl 10 mg/mL, 5 mL (50 mg), of `lot` expiring on
/// `expires_on`, into `safe`.
async fn receive_vials(
    app: &TestApp,
    keeper: &store::User,
    site: &store::SiteId,
    safe: &str,
    lot: &str,
    expires_on: jiff::civil::Date,
    containers: u32,
) {
    app.db
        .store
        .receive_stock(
            &Actor::user(keeper),
            site,
            &store::Receipt {
                form: clinical::ledger::Form::Vial {
                    mg_per_ml: 10,
                    ml: 5.0,
                },
                ndc: "0143-9508-10",
                lot,
                expires_on,
                supplier: &store::Supplier {
                    name: "Example Medical Supply".into(),
                    address: "1 Supply Road, Columbus, OH".into(),
                    dea_number: "RX1234563".into(),
                    invoice: "INV-1".into(),
                },
                containers,
                location_id: safe,
            },
            jiff::Timestamp::now(),
        )
        .await
        .unwrap()
        .unwrap();
}

/// Records session `id`'s pre-assessment as `nurse`, so its dose form opens; the session's
/// page and a form token.
async fn pre_assessed(app: &TestApp, nurse: &reqwest::Client, id: &str) -> (String, String) {
    let page = format!("/sessions/{id}");
    let token = app.csrf(nurse, &page).await;
    let pre = [
        ("weight_kg", "80"),
        ("systolic_mmhg", "124"),
        ("diastolic_mmhg", "78"),
        ("pregnancy_test", "not_applicable"),
        ("escort", "on"),
    ];
    let res = app
        .post_form(nurse, &format!("{page}/pre"), &token, &pre)
        .await;
    assert_eq!(res.status(), 303);
    (page, token)
}

async fn the_dose_leaves_the_ledger_when_administration_starts(app: &TestApp) {
    let Stocked {
        id,
        nurse,
        keeper: nurse_user,
        checker,
        site,
        safe,
    } = stocked(app, "stock").await;
    let store = &app.db.store;
    let actor = Actor::user(&nurse_user);
    let now = jiff::Timestamp::now();
    // Two 50 mg vials of a lot in date, and one of a lot received in date that has expired
    // since (two days ago in the clinic's zone).
    let receive = |lot, expires_on, containers| {
        receive_vials(app, &nurse_user, &site, &safe, lot, expires_on, containers)
    };
    receive("KET-5", "2028-06-30".parse().unwrap(), 2).await;
    let expired_on = now
        .to_zoned(jiff::tz::TimeZone::get(crate::support::CLINIC_ZONE).unwrap())
        .date()
        .checked_sub(jiff::Span::new().days(2))
        .unwrap();
    receive("KET-OLD", expired_on, 1).await;
    let rule = clinical::ledger::StockRule {
        today: now.to_zoned(jiff::tz::TimeZone::UTC).date(),
        zone: jiff::tz::TimeZone::UTC,
        opened_vial_days: clinical::ledger::OPENED_VIAL_DAYS,
    };
    let lots = store.lots_in_stock(&site, false, &rule).await.unwrap();
    let lot_of = |number: &str| {
        lots.iter()
            .find(|l| l.lot == number)
            .map(|l| l.id.clone())
            .unwrap()
    };
    let (lot_id, old_lot_id) = (lot_of("KET-5"), lot_of("KET-OLD"));
    let (page, token) = pre_assessed(app, &nurse, &id).await;
    let html = app.get(&nurse, &page).await.text().await.unwrap();
    assert!(
        html.contains("Lot KET-5: ketamine HCl 10 mg/mL, 5 mL vial, 2 holding 100.0 mg"),
        "{html}"
    );
    // The expired lot is named beside the choice, not offered in it.
    assert!(
        html.contains(&format!(
            "Not offered, as expired: Lot KET-OLD: ketamine HCl 10 mg/mL, 5 mL vial, 1 holding 50.0 mg, expired {expired_on}."
        )),
        "{html}"
    );
    assert!(
        !html.contains(&format!("<option value=\"{old_lot_id}\"")),
        "{html}"
    );
    let mut dose = vec![
        ("dose_mg", ""),
        ("duration_min", "40"),
        ("stock_mg_per_ml", "10"),
        ("bag_ml", "100"),
        ("second_email", "stock.check@example.org"),
        ("second_password", crate::support::PASSWORD),
    ];
    // With stock in the ledger, the dose names the lot it is drawn from.
    let res = app
        .post_form(&nurse, &format!("{page}/dose"), &token, &dose)
        .await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Choose the lot the dose is drawn from")
    );
    // Sent anyway, the expired lot is refused and nothing is verified.
    dose.push(("stock_lot", old_lot_id.as_str()));
    let res = app
        .post_form(&nurse, &format!("{page}/dose"), &token, &dose)
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains(&format!(
            "Lot KET-OLD expired on {expired_on}: choose a lot in date."
        )),
        "{html}"
    );
    // The store refuses the expired vial too, whoever asks.
    let (_, sid, _) = seated(app, &id).await;
    let session = store
        .treatment_session(&actor, &site, &sid, now)
        .await
        .unwrap();
    let order_id = store
        .course(&site, &session.course_id)
        .await
        .unwrap()
        .order()
        .unwrap()
        .id
        .clone();
    let old_vial: Vec<String> = store
        .cs_stock(&site)
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.lot == "KET-OLD")
        .map(|c| c.id)
        .collect();
    let refused = store
        .verify_dose(
            &actor,
            &site,
            &sid,
            &store::DoseVerification {
                order_id: &order_id,
                dose_mg: 40.0,
                caps: &pk::dose::DoseCaps::default(),
                min_infusion_min: pk::dose::DEFAULT_MIN_INFUSION_MIN,
                infusion: Some((40.0, 156.0, 60.0, 10.0)),
                lot: None,
                second_verifier: Some(&checker.id),
                override_reason: None,
                containers: &old_vial,
                rule: &clinical::ledger::StockRule {
                    today: expired_on.tomorrow().unwrap(),
                    zone: jiff::tz::TimeZone::UTC,
                    opened_vial_days: clinical::ledger::OPENED_VIAL_DAYS,
                },
            },
            now,
        )
        .await
        .unwrap();
    match refused {
        Err(store::SessionRefusal::Dose(why)) => assert!(why.contains("expired"), "{why}"),
        other => panic!("{other:?}"),
    }
    // The ledger says so too, and what each lot holds together.
    let ledger = app.get(&nurse, "/ledger").await.text().await.unwrap();
    assert!(
        ledger.contains(&format!(
            "<strong>Expired:</strong> lot KET-OLD (ketamine HCl 10 mg/mL, 5 mL vial, 1 holding 50.0 mg (5.00 mL)) expired on {expired_on}."
        )),
        "{ledger}"
    );
    assert!(
        ledger.contains("<td>KET-5</td><td>ketamine HCl 10 mg/mL, 5 mL vial</td><td>2</td><td>100.0 mg (10.00 mL)</td>"),
        "{ledger}"
    );
    dose.pop();
    dose.push(("stock_lot", lot_id.as_str()));
    let res = app
        .post_form(&nurse, &format!("{page}/dose"), &token, &dose)
        .await;
    assert_eq!(res.status(), 303);
    let html = app.get(&nurse, &page).await.text().await.unwrap();
    assert!(
        html.contains("lot KET-5"),
        "the lot number comes from the stock: {html}"
    );
    // Nothing leaves the stock until the dose starts; then 40 mg from one 50 mg vial. (The
    // expired lot is left out of what follows.)
    let in_date = || async {
        let mut c = store.cs_stock(&site).await.unwrap();
        c.retain(|c| c.lot == "KET-5");
        c
    };
    let held = |c: Vec<store::ContainerRecord>| c.iter().map(|c| c.balance_mg).sum::<f64>();
    assert_eq!(held(in_date().await), 100.0);
    let res = app
        .post_form(
            &nurse,
            &format!("{page}/pump"),
            &token,
            &[("step", "start")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let containers = in_date().await;
    assert_eq!(held(containers.clone()), 60.0);
    assert_eq!(
        containers.iter().map(|c| c.balance_mg).collect::<Vec<_>>(),
        vec![10.0, 50.0],
        "one vial drawn from"
    );
    let entries = store
        .ledger_entries(
            &site,
            now - jiff::SignedDuration::from_hours(1),
            jiff::Timestamp::now(),
        )
        .await
        .unwrap();
    let given: Vec<_> = entries
        .iter()
        .filter(|e| e.kind == clinical::ledger::EntryKind::Administration)
        .collect();
    assert_eq!(given.len(), 1);
    assert_eq!(given[0].amount_mg, 40.0);
    assert_eq!(store.verify_ledger().await.unwrap(), Ok(4));
    // The session points to the opened vial's remainder, and the ledger's form starts filled.
    let html = app.get(&nurse, &page).await.text().await.unwrap();
    let opened = &containers[0].id;
    assert!(
        html.contains("ketamine HCl 10 mg/mL, 5 mL vial #1 of lot KET-5 still holds 10.0 mg"),
        "{html}"
    );
    assert!(html.contains(&format!("/ledger?waste={opened}")), "{html}");
    let form = app
        .get(&nurse, &format!("/ledger?waste={opened}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(form.contains("<option value=\"waste\" selected>"), "{form}");
    assert!(
        form.contains(
            "id=\"amount_mg\" name=\"amount_mg\" type=\"text\" inputmode=\"decimal\" value=\"10\""
        ),
        "{form}"
    );
}

/// The front desk marks a patient arrived on today's day list; the chair board then shows them
/// in the waiting room with a check-in button, and once checked in from there they are in a
/// chair and out of the waiting room.
async fn an_arrived_patient_waits_on_the_board_until_checked_in(app: &TestApp) {
    let (iv, _) = all_day_chairs(app).await;
    let r = ready(app, "iv_induction_thrice_weekly", "iv_infusion", &iv).await;
    // Starting now: on the clinic's today whatever the hour, and the story done before the
    // clinic's date changes (the board and the day's schedule show the clinic's today).
    clear_of_midnight(
        crate::support::CLINIC_ZONE,
        std::time::Duration::from_secs(60),
    )
    .await;
    let appointment = book_at(app, &r, jiff::Timestamp::now()).await;
    let id = appointment.id.as_str();
    app.user("desk@example.org", Role::FrontDesk).await;
    app.user("nurse.one@example.org", Role::Nurse).await;
    let desk = app.signed_in("desk@example.org").await;
    let nurse = app.signed_in("nurse.one@example.org").await;

    // Booked but not arrived: nobody waits. The front desk's start page lists the patient
    // among today's appointments.
    let board = app.get(&nurse, "/board").await.text().await.unwrap();
    assert!(!board.contains("Waiting room"), "{board}");
    let today_row = |home: String| {
        home.split("<tr>")
            .find(|r| r.contains(">Sol Seated</a>"))
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("today's appointment is on the start page: {home}"))
    };
    let home = app.get(&desk, "/").await.text().await.unwrap();
    assert!(home.contains("Today, "), "{home}");
    let row = today_row(home);
    assert!(
        row.contains("Room S, IV S") && row.contains("<td>Booked</td>"),
        "{row}"
    );

    let day = app.get(&desk, "/schedule/day").await.text().await.unwrap();
    assert!(day.contains("Mark arrived"), "{day}");
    let token = app.csrf(&desk, "/schedule/day").await;
    let res = app
        .post_form(&desk, "/schedule/arrived", &token, &[("appointment", id)])
        .await;
    assert_eq!(res.status(), 303);
    let day = app.get(&desk, "/schedule/day").await.text().await.unwrap();
    assert!(day.contains("<strong>Arrived "), "{day}");
    let row = today_row(app.get(&desk, "/").await.text().await.unwrap());
    assert!(row.contains("<td>Arrived "), "{row}");

    let board = app.get(&nurse, "/board").await.text().await.unwrap();
    assert!(board.contains("Waiting room (1)"), "{board}");
    assert!(board.contains("\">Sol Seated</a></td>"), "{board}");
    assert!(board.contains("Room S, IV S"), "{board}");
    assert!(board.contains("min ago)"), "{board}");
    assert!(
        board.contains(&format!("name=\"appointment\" value=\"{id}\"")),
        "{board}"
    );
    assert!(board.contains("No patient is in a chair now."), "{board}");

    // The board's own button checks the patient in.
    let token = app.csrf(&nurse, "/board").await;
    let res = app
        .post_form(&nurse, "/sessions/check-in", &token, &[("appointment", id)])
        .await;
    assert_eq!(res.status(), 303);
    let session = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(session.starts_with("/sessions/"), "{session}");
    let board = app.get(&nurse, "/board").await.text().await.unwrap();
    assert!(!board.contains("Waiting room"), "{board}");
    assert!(
        board.contains(&format!("<a href=\"{session}\">")),
        "{board}"
    );
    assert!(board.contains("IV S: Sol Seated"), "{board}");
    // No vitals are due before dosing; the card says what comes first instead of "none due".
    assert!(
        board.contains(
            "Next check: none until the pre-assessment, which takes the vitals before dosing"
        ),
        "{board}"
    );
    let row = today_row(app.get(&desk, "/").await.text().await.unwrap());
    assert!(row.contains("<td>Checked in</td>"), "{row}");

    // In the chair, the appointment is no longer the front desk's to cancel or mark a
    // no-show: the day list says so and offers neither, and a post of either is refused (it
    // closed the appointment under the session and freed the chair for another booking).
    let day = app.get(&desk, "/schedule/day").await.text().await.unwrap();
    let row = day
        .split("<tr")
        .find(|r| r.contains(">Sol Seated</a>"))
        .expect("the appointment is on the day list");
    assert!(row.contains("<td>Checked in</td>"), "{row}");
    assert!(row.contains("In the session room"), "{row}");
    assert!(!row.contains("No-show</button>"), "{row}");
    let token = app.csrf(&desk, "/schedule/day").await;
    let res = app
        .post_form(
            &desk,
            "/schedule/close",
            &token,
            &[
                ("appointment", id),
                ("action", "no_show"),
                ("reason", "not here"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("The patient is checked in for this appointment"),
        "{page}"
    );
    // The summary's link lands on the row, which shows the message where the form was.
    assert!(page.contains(&format!("href=\"#reason-{id}\"")), "{page}");
    assert!(
        page.contains(&format!(
            "<span class=\"form-error\" id=\"reason-{id}\" tabindex=\"-1\">The patient is checked in"
        )),
        "{page}"
    );
    let api = reqwest::Client::new()
        .post(app.url(&format!("/api/v1/appointments/{id}/cancel")))
        .bearer_auth(app.token(Role::FrontDesk).await)
        .json(&serde_json::json!({"reason": "not here"}))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 409);
    let body: Value = api.json().await.unwrap();
    assert_eq!(body["error"]["code"], "checked_in", "{body}");
    // The schedule's API says which session an appointment is checked in for.
    let list: Value = reqwest::Client::new()
        .get(app.url(&format!(
            "/api/v1/appointments?from={}",
            appointment.starts_at - jiff::SignedDuration::from_hours(1)
        )))
        .bearer_auth(app.token(Role::FrontDesk).await)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let listed = list["appointments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == id)
        .unwrap_or_else(|| panic!("{list}"));
    assert_eq!(
        format!("/sessions/{}", listed["session_id"].as_str().unwrap()),
        session
    );
    let day = app.get(&desk, "/schedule/day").await.text().await.unwrap();
    assert!(day.contains("<td>Checked in</td>"), "still booked: {day}");
}

/// A session is opened only on its appointment's day: another day's list offers no check-in
/// and a check-in posted anyway is refused, opening nothing. To treat the patient today, a
/// session of the course is booked by hand for today, in the words of the booking form, and
/// that one is checked in.
async fn a_session_is_opened_only_on_its_appointments_day(app: &TestApp) {
    let (iv, nasal) = all_day_chairs(app).await;
    let r = ready(app, "iv_induction_thrice_weekly", "iv_infusion", &iv).await;
    // The story reads the clinic's today from start to end.
    clear_of_midnight(
        crate::support::CLINIC_ZONE,
        std::time::Duration::from_secs(60),
    )
    .await;
    let now = jiff::Timestamp::now();
    // Thirty hours on is the clinic's next day or the one after, whatever the hour (a day
    // lasts at most 25 hours).
    let later = book_at(app, &r, now + jiff::SignedDuration::from_hours(30)).await;
    let id = later.id.as_str();
    app.user("nurse.one@example.org", Role::Nurse).await;
    let nurse = app.signed_in("nurse.one@example.org").await;
    let zone = jiff::tz::TimeZone::get(crate::support::CLINIC_ZONE).unwrap();
    let its_day = later.starts_at.to_zoned(zone.clone()).date();
    let list = app
        .get(&nurse, &format!("/schedule/day?date={its_day}"))
        .await
        .text()
        .await
        .unwrap();
    let row = list
        .split("<tr")
        .find(|r| r.contains(">Sol Seated</a>"))
        .unwrap_or_else(|| panic!("the appointment is on its day's list: {list}"));
    assert!(row.contains("Checked in on its day"), "{row}");
    assert!(!row.contains("/sessions/check-in"), "{row}");

    let token = app.csrf(&nurse, "/schedule/day").await;
    let res = app
        .post_form(&nurse, "/sessions/check-in", &token, &[("appointment", id)])
        .await;
    assert_eq!(res.status(), 422);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("The appointment is not today&#39;s"),
        "{page}"
    );
    assert!(page.contains("book a session for today"), "{page}");
    assert!(
        app.db
            .store
            .session_of_appointment(&r.site, &later.id)
            .await
            .unwrap()
            .is_none(),
        "nothing was opened"
    );

    // The course's booking page leads to the hand form with the course chosen.
    let course = r.course.as_str();
    let patient = r.patient.as_str();
    let book = app
        .get(&nurse, &format!("/courses/{course}/book"))
        .await
        .text()
        .await
        .unwrap();
    let by_hand = format!("/schedule/new?patient={patient}&amp;course={course}");
    assert!(book.contains(&by_hand), "{book}");
    let form = app
        .get(&nurse, &by_hand.replace("&amp;", "&"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        form.contains(&format!("<option value=\"{course}\" selected>")),
        "{form}"
    );
    let today = now.to_zoned(zone).date().to_string();
    let token = app.csrf(&nurse, "/schedule/day").await;
    let fields = |kind: &'static str, chair: String| {
        vec![
            ("patient", patient.to_owned()),
            ("course", course.to_owned()),
            ("kind", kind.to_owned()),
            ("chair", chair),
            ("date", today.clone()),
            ("time", "00:00".to_owned()),
            ("duration", String::new()),
        ]
    };
    let client = &nurse;
    let post = |fields: Vec<(&'static str, String)>| {
        let token = token.clone();
        async move {
            let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.post_form(client, "/schedule/new", &token, &pairs).await
        }
    };
    // Booked as something the course does not give: refused at "For", what was chosen kept.
    let res = post(fields("esketamine", nasal.clone())).await;
    assert_eq!(res.status(), 422);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("A session of this course is booked as “IV infusion”: choose that under For"),
        "{page}"
    );
    assert!(page.contains("href=\"#kind\""), "{page}");
    assert!(
        page.contains(&format!("<option value=\"{course}\" selected>")),
        "{page}"
    );
    // The API refuses it too, at its field.
    let api = reqwest::Client::new()
        .post(app.url("/api/v1/appointments"))
        .bearer_auth(app.token(Role::FrontDesk).await)
        .json(&json!({"patient_id": patient, "chair_id": iv, "course_id": course,
                      "kind": "intake", "start": (now + jiff::SignedDuration::from_hours(50)).to_string()}))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 422);
    let body: Value = api.json().await.unwrap();
    assert_eq!(body["error"]["field"], "kind", "{body}");
    // "For" left to choose: the course's kind.
    let res = post(fields("", iv.clone())).await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let list = app.get(&nurse, "/schedule/day").await.text().await.unwrap();
    let row = list
        .split("<tr")
        .find(|r| r.contains(">Sol Seated</a>") && r.contains("Room S, IV S"))
        .unwrap_or_else(|| panic!("today's session is on today's list: {list}"));
    assert!(row.contains("Check in<span"), "{row}");
    let today_id = row
        .split("name=\"appointment\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the row's check-in names its appointment")
        .to_owned();
    assert_ne!(today_id, id);
    let res = app
        .post_form(
            &nurse,
            "/sessions/check-in",
            &token,
            &[("appointment", today_id.as_str())],
        )
        .await;
    assert_eq!(res.status(), 303);
    let list = app.get(&nurse, "/schedule/day").await.text().await.unwrap();
    assert!(list.contains("Open the session<span"), "{list}");
}

/// A course session of an earlier day that no one checked in, cancelled or marked a no-show
/// is listed on the front desk's start page as left open, linked to its day; once marked a
/// no-show it leaves the list and the course proposes a session in its place.
async fn sessions_left_open_are_listed_until_closed(app: &TestApp) {
    let (iv, _) = all_day_chairs(app).await;
    let r = ready(app, "iv_induction_thrice_weekly", "iv_infusion", &iv).await;
    clear_of_midnight(
        crate::support::CLINIC_ZONE,
        std::time::Duration::from_secs(60),
    )
    .await;
    let now = jiff::Timestamp::now();
    // Fifty hours ago: two or three days back in the clinic, whatever the hour.
    let past = book_at(app, &r, now - jiff::SignedDuration::from_hours(50)).await;
    // A visit outside any course has no session to open: it is never "left open".
    let store = &app.db.store;
    let start = now - jiff::SignedDuration::from_hours(80);
    store
        .book(
            &Actor::system("test"),
            &r.site,
            &store::NewAppointment {
                patient_id: &r.patient,
                chair_id: &r.chair,
                course_id: None,
                kind: clinical::booking::AppointmentKind::FollowUp,
                starts_at: start,
                ends_at: start + jiff::SignedDuration::from_mins(30),
            },
            &noon_zone(now),
            now,
        )
        .await
        .unwrap()
        .unwrap();
    app.user("desk@example.org", Role::FrontDesk).await;
    let desk = app.signed_in("desk@example.org").await;
    let zone = jiff::tz::TimeZone::get(crate::support::CLINIC_ZONE).unwrap();
    let day = past.starts_at.to_zoned(zone).date();
    let proposals = |page: &str| page.matches("name=\"slot\"").count();
    let course_page = format!("/courses/{}/book", r.course);
    let before = proposals(&app.get(&desk, &course_page).await.text().await.unwrap());

    let home = app.get(&desk, "/").await.text().await.unwrap();
    assert!(home.contains("Sessions left open (1)"), "{home}");
    assert!(
        home.contains("A course session of the last 30 days is still booked"),
        "{home}"
    );
    let row = home
        .split("<tr>")
        .find(|r| r.contains(&format!("/schedule/day?date={day}")))
        .unwrap_or_else(|| panic!("the session is listed with its day: {home}"));
    assert!(row.contains(">Sol Seated</a>"), "{row}");
    assert!(row.contains("IV infusion"), "{row}");

    let token = app.csrf(&desk, &format!("/schedule/day?date={day}")).await;
    let res = app
        .post_form(
            &desk,
            "/schedule/close",
            &token,
            &[
                ("appointment", past.id.as_str()),
                ("action", "no_show"),
                ("reason", "did not come"),
                ("date", &day.to_string()),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let home = app.get(&desk, "/").await.text().await.unwrap();
    assert!(!home.contains("Sessions left open"), "{home}");
    let after = proposals(&app.get(&desk, &course_page).await.text().await.unwrap());
    assert_eq!(
        after,
        before + 1,
        "the course proposes a session in its place"
    );
}

crate::on_both!(
    a_whole_iv_session_runs_in_order_and_locks,
    an_arrived_patient_waits_on_the_board_until_checked_in,
    a_session_is_opened_only_on_its_appointments_day,
    sessions_left_open_are_listed_until_closed,
    vitals_are_stored_once_per_idempotency_key,
    an_esketamine_session_locks_only_with_a_complete_rems_form,
    dissociation_and_sedation_are_rated_at_their_set_times,
    the_rems_certification_records_the_setting_for_the_monitoring_form,
    the_dose_leaves_the_ledger_when_administration_starts
);

/// A PHQ-9 whose item 9 (thoughts of death or self-harm) is above 0 opens a safety alert. The
/// session room did not show it: the nurse in the chair read only "PHQ-9 before this session:
/// 16 of 27" while the follow-up stayed open. Now the alert stands at the top of the session,
/// with the way to record its follow-up and come back, until a clinician records it.
async fn the_chair_shows_the_patients_open_safety_alert(app: &TestApp) {
    let (iv, _) = all_day_chairs(app).await;
    let id = checked_in(app, "iv_induction_thrice_weekly", "iv_infusion", &iv).await;
    app.user("chair@example.org", Role::Nurse).await;
    let nurse = app.signed_in("chair@example.org").await;
    let page = format!("/sessions/{id}");
    let store = &app.db.store;
    let (site, _, patient) = seated(app, &id).await;
    let actor = Actor::system("test");
    let html = app.get(&nurse, &page).await.text().await.unwrap();
    assert!(!html.contains("Urgent: safety alert"), "{html}");
    let token = app.token(Role::Nurse).await;
    let status = phq9_before_session(app, &token, &patient, [2, 2, 2, 2, 2, 2, 2, 1, 1]).await;
    assert_eq!(status, 201);
    let alerts = store.patient_alerts(&site, &patient).await.unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let html = app.get(&nurse, &page).await.text().await.unwrap();
    assert!(
        html.contains("<strong>Urgent: safety alert</strong> for this patient, raised ")
            && html.contains("PHQ-9 item 9"),
        "{html}"
    );
    assert!(
        html.contains(&format!(
            "href=\"/alerts/{}?return_to=/sessions/{id}\"",
            alerts[0].id.as_str()
        )),
        "{html}"
    );
    // The patient's record shows the same alert, its follow-up coming back to the record.
    let record = app
        .get(&nurse, &format!("/patients/{}", patient.as_str()))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        record.contains("<strong>Urgent: safety alert</strong> raised ")
            && record.contains(&format!(
                "href=\"/alerts/{}?return_to=/patients/{}\"",
                alerts[0].id.as_str(),
                patient.as_str()
            )),
        "{record}"
    );
    let follow_up = clinical::safety::FollowUpInput {
        contact: "in_person".into(),
        actions: vec!["crisis_line_given".into()],
        note: "Seen in the chair before dosing; no plan or intent, crisis line given.".into(),
    }
    .validate()
    .unwrap();
    store
        .acknowledge_alert(
            &actor,
            &site,
            &alerts[0].id,
            &follow_up,
            jiff::Timestamp::now(),
        )
        .await
        .unwrap();
    let html = app.get(&nurse, &page).await.text().await.unwrap();
    assert!(!html.contains("Urgent: safety alert"), "{html}");
}

crate::on_both!(the_chair_shows_the_patients_open_safety_alert);

/// A clinic whose only vial was opened more than `ledger.opened_vial_days` ago: the dose form
/// names it as not drawn from, and a dose is refused rather than verified without the ledger
/// (with no usable lot, the form used to take the clinic for one that keeps no stock).
async fn a_dose_is_not_verified_from_stock_past_its_days(app: &TestApp) {
    let Stocked {
        id,
        nurse,
        keeper,
        site,
        safe,
        ..
    } = stocked(app, "aged").await;
    let store = &app.db.store;
    let actor = Actor::user(&keeper);
    let now = jiff::Timestamp::now();
    receive_vials(
        app,
        &keeper,
        &site,
        &safe,
        "KET-AGED",
        "2099-06-30".parse().unwrap(),
        1,
    )
    .await;
    // Its first dose was drawn 30 days ago.
    let vial = store.cs_stock(&site).await.unwrap()[0].id.clone();
    let opened_on = crate::support::opened_days_ago(app, &actor, &site, &vial, 30).await;
    let (page, token) = pre_assessed(app, &nurse, &id).await;
    let html = app.get(&nurse, &page).await.text().await.unwrap();
    assert!(
        html.contains(&format!(
            "Not drawn from, as opened more than 28 days ago: ketamine HCl 10 mg/mL, 5 mL vial #1 of lot KET-AGED (opened {opened_on})."
        )),
        "{html}"
    );
    let dose = [
        ("dose_mg", ""),
        ("duration_min", "40"),
        ("stock_mg_per_ml", "10"),
        ("bag_ml", "100"),
        ("second_email", "aged.check@example.org"),
        ("second_password", crate::support::PASSWORD),
        ("lot", "KET-AGED"),
    ];
    let res = app
        .post_form(&nurse, &format!("{page}/dose"), &token, &dose)
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("No stock in the ledger can be given: every lot has expired, or its opened vials are past their days."),
        "{html}"
    );
    let s = store
        .treatment_session(&actor, &site, &store::SessionId::parse(&id).unwrap(), now)
        .await
        .unwrap();
    assert_eq!(s.status, clinical::session::SessionStatus::PreAssessed);
}

crate::on_both!(a_dose_is_not_verified_from_stock_past_its_days);

/// The second checker's password was checked with nothing counted: a nurse could try a
/// colleague's password at the dose form without end. Wrong ones now count toward that
/// colleague's lockout, as at sign-in, and the form says when the account is locked.
async fn a_second_checkers_password_is_not_guessed_without_end(app: &TestApp) {
    // No stock is received: the clinic keeps its stock outside Ketaflow.
    let Stocked {
        id,
        nurse,
        keeper,
        checker,
        site,
        ..
    } = stocked(app, "guess").await;
    let store = &app.db.store;
    let (page, token) = pre_assessed(app, &nurse, &id).await;
    let dose = |password: &'static str| {
        [
            ("dose_mg", ""),
            ("duration_min", "40"),
            ("stock_mg_per_ml", "10"),
            ("bag_ml", "100"),
            ("lot", "K123"),
            ("second_email", "guess.check@example.org"),
            ("second_password", password),
        ]
    };
    let limit = store::LoginSettings::default().max_failed_logins;
    for i in 0..limit {
        let res = app
            .post_form(&nurse, &format!("{page}/dose"), &token, &dose("a guess"))
            .await;
        assert_eq!(res.status(), 422, "guess {i}");
        let html = res.text().await.unwrap();
        assert!(
            html.contains("That password is not the second checker&#39;s; they enter their own."),
            "{html}"
        );
    }
    // Locked: the right password is refused too, and the form says so and until when.
    let res = app
        .post_form(
            &nurse,
            &format!("{page}/dose"),
            &token,
            &dose(crate::support::PASSWORD),
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains(
            "The second checker&#39;s account is locked after too many wrong passwords, until 20"
        ),
        "{html}"
    );
    assert!(
        store
            .user(&checker.id)
            .await
            .unwrap()
            .locked_until
            .is_some()
    );
    let sid = store::SessionId::parse(&id).unwrap();
    let actor = Actor::user(&keeper);
    let now = jiff::Timestamp::now();
    let s = store
        .treatment_session(&actor, &site, &sid, now)
        .await
        .unwrap();
    assert_eq!(s.status, clinical::session::SessionStatus::PreAssessed);
    // The trail names the nurse who typed, whose password it was and for what.
    let trail = store.audit_events(&site, 1000, None).await.unwrap();
    let confirmations: Vec<_> = trail
        .iter()
        .filter(|e| e.action == "auth.confirm")
        .map(|e| {
            (
                e.actor_label.as_str(),
                e.entity_id.as_deref(),
                e.detail.as_deref().unwrap_or_default(),
            )
        })
        .collect();
    let wrong = (
        "guess.nurse@example.org",
        Some(checker.id.as_str()),
        "purpose=dose-second-check wrong-password",
    );
    let locked = (wrong.0, wrong.1, "purpose=dose-second-check locked");
    assert_eq!(
        confirmations.iter().filter(|c| **c == wrong).count() as i64,
        limit,
        "{confirmations:?}"
    );
    assert_eq!(confirmations.iter().filter(|c| **c == locked).count(), 1);
    // The administrator unlocks the account; the dose is checked and verified.
    app.user("guess.admin@example.org", Role::Admin).await;
    let admin = app.signed_in("guess.admin@example.org").await;
    let user_page = format!("/admin/users/{}", checker.id);
    let admin_token = app.csrf(&admin, &user_page).await;
    let res = app
        .post_form(&admin, &format!("{user_page}/unlock"), &admin_token, &[])
        .await;
    assert_eq!(res.status(), 303);
    let res = app
        .post_form(
            &nurse,
            &format!("{page}/dose"),
            &token,
            &dose(crate::support::PASSWORD),
        )
        .await;
    assert_eq!(res.status(), 303);
}

crate::on_both!(a_second_checkers_password_is_not_guessed_without_end);

/// The REMS Patient Monitoring Form asks about concomitant benzodiazepines, hypnotics,
/// psychostimulants, MAOIs and opioids, and whether this is the first treatment; the nurse
/// answered from memory while Ketaflow held the medication list and the earlier sessions. Each
/// question now says what the record holds, tied to it for screen readers.
async fn the_rems_questions_show_what_the_record_says(app: &TestApp) {
    let (_, nasal) = all_day_chairs(app).await;
    let id = checked_in(app, "esketamine_trd_label", "esketamine", &nasal).await;
    app.user("rems@example.org", Role::Nurse).await;
    let nurse = app.signed_in("rems@example.org").await;
    let store = &app.db.store;
    let site = store.first_site().await.unwrap().unwrap().id;
    let sid = store::SessionId::parse(&id).unwrap();
    let actor = Actor::system("test");
    let now = jiff::Timestamp::now();
    let session = store
        .treatment_session(&actor, &site, &sid, now)
        .await
        .unwrap();
    let lorazepam =
        clinical::medications::Medication::parse("lorazepam", "1 mg at night", "").unwrap();
    assert!(
        store
            .add_medication(&actor, &site, &session.patient_id, &lorazepam, now)
            .await
            .unwrap()
    );
    let html = app
        .get(&nurse, &format!("/sessions/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("aria-describedby=\"benzodiazepines-record\"")
            && html.contains(
                "<p class=\"hint\" id=\"benzodiazepines-record\">The medication list records, as current (benzodiazepine): lorazepam 1 mg at night.</p>"
            ),
        "{html}"
    );
    assert!(
        html.contains("The medication list records no current opioid."),
        "{html}"
    );
    assert!(
        html.contains(
            "Ketaflow records no earlier esketamine session of this patient at this clinic."
        ),
        "{html}"
    );
    // Answered against the record: saved as given, and the page names what to check.
    let token = app.csrf(&nurse, &format!("/sessions/{id}")).await;
    let res = app
        .post_form(
            &nurse,
            &format!("/sessions/{id}/rems"),
            &token,
            &[("benzodiazepines", "no"), ("first_treatment", "yes")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let html = app
        .get(&nurse, &format!("/sessions/{id}"))
        .await
        .text()
        .await
        .unwrap();
    let differ = html
        .split_once("id=\"rems-differences\"")
        .map(|(_, after)| after.split("</div>").next().unwrap_or_default().to_owned())
        .expect("the differences are named");
    assert!(
        differ.contains(
            "is answered No, while the medication list records lorazepam 1 mg at night as current"
        ) && !differ.contains("First treatment"),
        "{differ}"
    );
    // The count behind "first treatment?": this session is earlier than anything after it,
    // and nothing is earlier than it.
    let product = clinical::course::Product::EsketamineNasal;
    assert_eq!(
        store
            .earlier_sessions(&site, &session.patient_id, product, session.checked_in_at)
            .await
            .unwrap(),
        (0, None)
    );
    let later = session.checked_in_at + jiff::SignedDuration::from_hours(1);
    let (n, last) = store
        .earlier_sessions(&site, &session.patient_id, product, later)
        .await
        .unwrap();
    assert_eq!(
        (n, last.map(|t| t.as_millisecond())),
        (1, Some(session.checked_in_at.as_millisecond()))
    );
    assert_eq!(
        store
            .earlier_sessions(
                &site,
                &session.patient_id,
                clinical::course::Product::IvRacemic,
                later
            )
            .await
            .unwrap()
            .0,
        0
    );
}

crate::on_both!(the_rems_questions_show_what_the_record_says);

/// A patient whose blood pressure is too high to dose leaves undosed: the session ends with why
/// (a reason from the list, a note where the reason needs one), is signed like any other, needs
/// no REMS form, and its course keeps the session to book again.
async fn a_session_ends_without_dosing_and_its_course_books_it_again(app: &TestApp) {
    let (_, nasal) = all_day_chairs(app).await;
    let id = checked_in(app, "esketamine_trd_label", "esketamine", &nasal).await;
    let (site, sid, patient) = seated(app, &id).await;
    let store = &app.db.store;
    let actor = Actor::system("test");
    let now = jiff::Timestamp::now();
    app.user_named("nurse.nell@example.org", "Nell Chair", Role::Nurse)
        .await;
    app.user("doctor@example.org", Role::Prescriber).await;
    let nurse = app.signed_in("nurse.nell@example.org").await;
    let page = format!("/sessions/{id}");
    let token = app.csrf(&nurse, &page).await;
    let course = store.board_sessions(&site).await.unwrap()[0]
        .course_id
        .clone();
    let booked = |c: store::CourseRecord| c.booked.len();
    assert_eq!(booked(store.course(&site, &course).await.unwrap()), 1);

    // Until a dose starts, the page offers to end the session without dosing.
    let html = app.get(&nurse, &page).await.text().await.unwrap();
    assert!(
        html.contains(r#"<h2 id="not-given-h">Not dosing today</h2>"#),
        "{html}"
    );
    let pre = [
        ("weight_kg", "70"),
        ("systolic_mmhg", "182"),
        ("diastolic_mmhg", "112"),
        ("heart_rate_bpm", "88"),
        ("pregnancy_test", "negative"),
        ("escort", "on"),
    ];
    let res = app
        .post_form(&nurse, &format!("{page}/pre"), &token, &pre)
        .await;
    assert_eq!(res.status(), 303);

    // No reason, or a reason that needs a note without one: refused at the field, nothing
    // changed.
    let res = app
        .post_form(&nurse, &format!("{page}/not-given"), &token, &[])
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains(r#"<p class="field-error" id="not_given-error"><span class="visually-hidden">Error:</span> Choose why the dose is not given today.</p>"#),
        "{html}"
    );
    let res = app
        .post_form(
            &nurse,
            &format!("{page}/not-given"),
            &token,
            &[("not_given", "clinical_judgement"), ("not_given_note", " ")],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains(r#"id="not_given_note-error"><span class="visually-hidden">Error:</span> Say in the note why the dose is not given (“A clinician judged dosing unsafe today” needs it).</p>"#),
        "{html}"
    );
    assert!(
        html.contains(r#"value="clinical_judgement" checked"#),
        "the choice is kept: {html}"
    );
    // The store holds the same rule whoever asks.
    assert_eq!(
        store
            .end_undosed(
                &actor,
                &site,
                &sid,
                clinical::session::NotGivenReason::Other,
                None,
                now
            )
            .await
            .unwrap(),
        Err(store::SessionRefusal::NotGiven(
            "say in the note why the dose is not given"
        ))
    );
    let s = store
        .treatment_session(&actor, &site, &sid, now)
        .await
        .unwrap();
    assert_eq!(s.status, clinical::session::SessionStatus::PreAssessed);
    assert_eq!(s.not_given, None);

    // The reading that stops the dose raised its alerts: the patient leaves once a clinician
    // has acknowledged each with what was done or advised.
    let ended = [
        ("not_given", "vitals"),
        ("not_given_note", "182/112 and 178/110 ten minutes apart"),
    ];
    let res = app
        .post_form(&nurse, &format!("{page}/not-given"), &token, &ended)
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains(r#"id="not_given-error"><span class="visually-hidden">Error:</span> 2 alerts are still open: acknowledge each with the action taken (what was done or advised) before the patient leaves.</p>"#),
        "{html}"
    );
    assert_eq!(s.alerts.len(), 2, "{:?}", s.alerts);
    let action = clinical::session::ActionTaken::parse("advised to see their own doctor this week")
        .unwrap()
        .unwrap();
    for a in &s.alerts {
        store
            .acknowledge_session_alert(&actor, &site, &sid, &a.id, action, now)
            .await
            .unwrap()
            .unwrap();
    }
    let res = app
        .post_form(&nurse, &format!("{page}/not-given"), &token, &ended)
        .await;
    assert_eq!(res.status(), 303);
    let html = app.get(&nurse, &page).await.text().await.unwrap();
    assert!(
        html.contains("Status: <strong>Ended without dosing</strong>"),
        "{html}"
    );
    assert!(
        html.contains("by Nell Chair: Blood pressure or another vital sign too far out of range to dose. 182/112 and 178/110 ten minutes apart</p>"),
        "{html}"
    );
    assert!(!html.contains("Not dosing today"), "{html}");
    assert!(
        !html.contains("REMS Patient Monitoring Form") && !html.contains("REMS form submission"),
        "nothing given, nothing to report: {html}"
    );
    // Ended is ended: neither again, nor a dose after it.
    let res = app
        .post_form(
            &nurse,
            &format!("{page}/not-given"),
            &token,
            &[("not_given", "declined")],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("the session has ended already")
    );
    let res = app
        .post_form(
            &nurse,
            &format!("{page}/pump"),
            &token,
            &[("step", "start")],
        )
        .await;
    assert_eq!(res.status(), 422);

    // The patient has left the chair board; the course keeps the session to book again, the
    // REMS list does not ask for a form, and it is not an earlier treatment.
    assert!(store.board_sessions(&site).await.unwrap().is_empty());
    assert_eq!(booked(store.course(&site, &course).await.unwrap()), 0);
    let courses = app
        .get(&nurse, &format!("/patients/{patient}/courses"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        courses.contains("Ended without dosing, so not counted among its sessions: ")
            && courses.contains("<dd>0 of 12 booked</dd>"),
        "{courses}"
    );
    // The front desk's day list says so, and not why (that is the clinical record's).
    app.user("desk.dee@example.org", Role::FrontDesk).await;
    let desk = app.signed_in("desk.dee@example.org").await;
    let day = app.get(&desk, "/schedule/day").await.text().await.unwrap();
    assert!(day.contains("<td>Not dosed: to book again</td>"), "{day}");
    assert!(
        !day.contains("182/112") && !day.contains("vital sign"),
        "{day}"
    );
    let due = store.rems_forms_due(&actor, &site, now).await.unwrap();
    assert!(due.iter().all(|r| r.session_id != sid), "{due:?}");
    let (earlier, _) = store
        .earlier_sessions(
            &site,
            &patient,
            clinical::course::Product::EsketamineNasal,
            now + jiff::SignedDuration::from_hours(1),
        )
        .await
        .unwrap();
    assert_eq!(earlier, 0);
    let nurse_token = app.token(Role::Nurse).await;
    let api: Value = reqwest::Client::new()
        .get(app.url(&format!("/api/v1/sessions/{id}")))
        .bearer_auth(&nurse_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (api["status"].as_str(), api["not_given"].as_str()),
        (Some("discharged"), Some("vitals")),
        "{api}"
    );

    // The prescriber signs it without a REMS form.
    let doctor = app.signed_in("doctor@example.org").await;
    let home = app.get(&doctor, "/").await.text().await.unwrap();
    assert!(
        home.contains("<td>Esketamine nasal spray (Spravato): ended without dosing</td>"),
        "{home}"
    );
    let dtoken = app.csrf(&doctor, &page).await;
    let res = app
        .post_form(&doctor, &format!("{page}/lock"), &dtoken, &[])
        .await;
    assert_eq!(res.status(), 303);
    let html = app.get(&doctor, &page).await.text().await.unwrap();
    assert!(
        html.contains("Status: <strong>Ended without dosing; signed and locked</strong>"),
        "{html}"
    );
    // The patient's record lists it with no dose given; the front desk does not see the list.
    let record_page = format!("/patients/{patient}");
    let record = app.get(&doctor, &record_page).await.text().await.unwrap();
    assert!(
        record.contains("<td>Esketamine nasal spray (Spravato)</td><td>none given</td><td>Ended without dosing; signed and locked</td><td>none</td>"),
        "{record}"
    );
    let record = app.get(&desk, &record_page).await.text().await.unwrap();
    assert!(!record.contains("Treatment sessions"), "{record}");

    // A stored reason that is not one of the list (written past the table's check) does not
    // decode: an error naming it, never a default.
    let odd = format!("update treatment_sessions set not_given = 'weather' where id = '{id}'");
    match store.backend() {
        store::Backend::Sqlite => {
            app.db
                .raw(&format!(
                    "pragma ignore_check_constraints = on; drop trigger treatment_sessions_locked; {odd}"
                ))
                .await
        }
        store::Backend::Postgres => {
            app.db
                .raw("alter table treatment_sessions drop constraint treatment_sessions_not_given_check")
                .await;
            app.db
                .raw("alter table treatment_sessions disable trigger user")
                .await;
            app.db.raw(&odd).await;
        }
    }
    match store.treatment_session(&actor, &site, &sid, now).await {
        Err(store::StoreError::Corrupt(c)) => {
            assert_eq!((c.table, c.column), ("treatment_sessions", "not_given"));
        }
        other => panic!("{other:?}"),
    }
}

crate::on_both!(a_session_ends_without_dosing_and_its_course_books_it_again);

/// A blood pressure before dosing at an alert threshold holds the dose until a clinician
/// acknowledges the alert with what they decided; Ketaflow sets no pressure under which dosing
/// is allowed, so the decision is recorded, not guessed.
async fn dosing_starts_only_once_every_alert_is_acknowledged(app: &TestApp) {
    let (_, nasal) = all_day_chairs(app).await;
    let id = checked_in(app, "esketamine_trd_label", "esketamine", &nasal).await;
    let (site, sid, _) = seated(app, &id).await;
    let store = &app.db.store;
    let doctor = app
        .user_named(
            "start.doctor@example.org",
            "Stella Doctor",
            Role::Prescriber,
        )
        .await;
    let actor = Actor::user(&doctor);
    let now = jiff::Timestamp::now();
    let high = clinical::session::Vitals {
        systolic_mmhg: Some(184),
        diastolic_mmhg: Some(114),
        ..Default::default()
    };
    let pre = store::PreAssessment {
        weight_kg: 70.0,
        escort: true,
        fasting: true,
        pregnancy_test: clinical::session::PregnancyTest::Negative,
        note: None,
        vitals: high,
    };
    store
        .pre_assess(&actor, &site, &sid, &pre, &Default::default(), now)
        .await
        .unwrap()
        .unwrap();
    let s = store.board_sessions(&site).await.unwrap();
    assert_eq!(s[0].open_alerts().count(), 2, "systolic and diastolic");
    let order_id = store
        .course(&site, &s[0].course_id)
        .await
        .unwrap()
        .order()
        .unwrap()
        .id
        .clone();
    let (caps, rule) = (pk::dose::DoseCaps::default(), utc_rule(now));
    let dose = nasal_dose(&order_id, 56.0, None, &caps, &rule);
    store
        .verify_dose(&actor, &site, &sid, &dose, now)
        .await
        .unwrap()
        .unwrap();

    // The page refuses the start at its button, saying what to do.
    app.user("start.nurse@example.org", Role::Nurse).await;
    let nurse = app.signed_in("start.nurse@example.org").await;
    let page = format!("/sessions/{id}");
    let token = app.csrf(&nurse, &page).await;
    let res = app
        .post_form(
            &nurse,
            &format!("{page}/pump"),
            &token,
            &[("step", "start")],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains(r#"<p class="form-error" id="step">2 alerts are still open: acknowledge each with the action taken (rechecked after rest, the prescriber agreed to go ahead) before dosing starts, or end the session without dosing.</p>"#),
        "{html}"
    );
    let start = || {
        store.pump(
            &actor,
            &site,
            &sid,
            clinical::session::Step::Start,
            None,
            None,
            now,
        )
    };
    let alerts = store
        .treatment_session(&actor, &site, &sid, now)
        .await
        .unwrap()
        .alerts;
    let action = clinical::session::ActionTaken::parse("rechecked after 10 minutes: 150/92")
        .unwrap()
        .unwrap();
    store
        .acknowledge_session_alert(&actor, &site, &sid, &alerts[0].id, action, now)
        .await
        .unwrap()
        .unwrap();
    match start().await.unwrap() {
        Err(store::SessionRefusal::AlertsOpen(why)) => {
            assert!(why.starts_with("1 alert is still open"), "{why}")
        }
        other => panic!("{other:?}"),
    }
    let s = store
        .treatment_session(&actor, &site, &sid, now)
        .await
        .unwrap();
    assert_eq!(s.status, clinical::session::SessionStatus::DoseVerified);
    assert!(s.events.is_empty(), "nothing started: {:?}", s.events);
    store
        .acknowledge_session_alert(&actor, &site, &sid, &alerts[1].id, action, now)
        .await
        .unwrap()
        .unwrap();
    start().await.unwrap().unwrap();
}

crate::on_both!(dosing_starts_only_once_every_alert_is_acknowledged);

/// The stock rule of a test: today in UTC, the default days an opened vial is drawn from.
fn utc_rule(now: jiff::Timestamp) -> clinical::ledger::StockRule {
    clinical::ledger::StockRule {
        today: now.to_zoned(jiff::tz::TimeZone::UTC).date(),
        zone: jiff::tz::TimeZone::UTC,
        opened_vial_days: clinical::ledger::OPENED_VIAL_DAYS,
    }
}

/// An esketamine dose of `mg` from `order`, with no stock drawn and no second check.
fn nasal_dose<'a>(
    order: &'a str,
    mg: f64,
    why: Option<clinical::session::OverrideReason<'a>>,
    caps: &'a pk::dose::DoseCaps,
    rule: &'a clinical::ledger::StockRule,
) -> store::DoseVerification<'a> {
    store::DoseVerification {
        order_id: order,
        dose_mg: mg,
        caps,
        min_infusion_min: pk::dose::DEFAULT_MIN_INFUSION_MIN,
        infusion: None,
        lot: None,
        second_verifier: None,
        override_reason: why,
        containers: &[],
        rule,
    }
}

/// The store checks a dose against the course's order in force and the weight the session
/// holds when it records it, and who is asking, whatever the caller: a page that read an
/// older order, or a caller that is not a prescriber, cannot give more than the order.
async fn the_store_checks_the_dose_against_the_order_in_force(app: &TestApp) {
    use clinical::session::DoseProblem;
    let (_, nasal) = all_day_chairs(app).await;
    let id = checked_in(app, "esketamine_trd_label", "esketamine", &nasal).await;
    let (site, sid, _) = seated(app, &id).await;
    let store = &app.db.store;
    let nurse = Actor::user(&app.user("order.nurse@example.org", Role::Nurse).await);
    let doctor = Actor::user(&app.user("order.doctor@example.org", Role::Prescriber).await);
    let now = jiff::Timestamp::now();
    let pre = store::PreAssessment {
        weight_kg: 70.0,
        escort: true,
        fasting: true,
        pregnancy_test: clinical::session::PregnancyTest::Negative,
        note: None,
        vitals: clinical::session::Vitals {
            systolic_mmhg: Some(124),
            diastolic_mmhg: Some(80),
            ..Default::default()
        },
    };
    store
        .pre_assess(&nurse, &site, &sid, &pre, &Default::default(), now)
        .await
        .unwrap()
        .unwrap();
    let course_id = store.board_sessions(&site).await.unwrap()[0]
        .course_id
        .clone();
    let first = store.course(&site, &course_id).await.unwrap();
    let first_order = first.order().unwrap().id.clone();
    assert_eq!(
        first.order().unwrap().dose,
        clinical::course::TargetDose::Mg(56.0)
    );
    let (caps, rule) = (pk::dose::DoseCaps::default(), utc_rule(now));
    let reason =
        clinical::session::OverrideReason::parse("tolerated 84 mg before, slow response").unwrap();
    let dose = |order, mg, why| nasal_dose(order, mg, why, &caps, &rule);
    // Above the order: not a nurse's to give, with a reason or without.
    match store
        .verify_dose(&nurse, &site, &sid, &dose(&first_order, 84.0, reason), now)
        .await
        .unwrap()
    {
        Err(store::SessionRefusal::Limits(DoseProblem::NeedsOverride { given, limit, .. })) => {
            assert_eq!((given, limit), (84.0, 56.0));
        }
        other => panic!("{other:?}"),
    }
    // A prescriber needs a reason, and no one passes the product's maximum.
    match store
        .verify_dose(&doctor, &site, &sid, &dose(&first_order, 84.0, None), now)
        .await
        .unwrap()
    {
        Err(store::SessionRefusal::Limits(DoseProblem::ReasonMissing { .. })) => {}
        other => panic!("{other:?}"),
    }
    match store
        .verify_dose(
            &doctor,
            &site,
            &sid,
            &dose(&first_order, 112.0, reason),
            now,
        )
        .await
        .unwrap()
    {
        Err(store::SessionRefusal::Limits(DoseProblem::AboveProductMax { max, .. })) => {
            assert_eq!(max, 84.0);
        }
        other => panic!("{other:?}"),
    }
    // A new order signed since the page was read: the old one is refused.
    store
        .change_dose(
            &doctor,
            &site,
            &course_id,
            clinical::course::TargetDose::Mg(84.0),
            "partial response at 56 mg",
            now,
        )
        .await
        .unwrap()
        .unwrap();
    match store
        .verify_dose(&nurse, &site, &sid, &dose(&first_order, 56.0, None), now)
        .await
        .unwrap()
    {
        Err(store::SessionRefusal::Dose(why)) => {
            assert!(why.contains("order has changed"), "{why}")
        }
        other => panic!("{other:?}"),
    }
    let s = store
        .treatment_session(&nurse, &site, &sid, now)
        .await
        .unwrap();
    assert_eq!(s.status, clinical::session::SessionStatus::PreAssessed);
    assert_eq!(s.dose, None);
    // Under the order in force, the nurse's 84 mg is no override, and a reason sent with it
    // is not kept as one.
    let second = store.course(&site, &course_id).await.unwrap();
    let in_force = second.order().unwrap().id.clone();
    store
        .verify_dose(&nurse, &site, &sid, &dose(&in_force, 84.0, reason), now)
        .await
        .unwrap()
        .unwrap();
    let s = store
        .treatment_session(&nurse, &site, &sid, now)
        .await
        .unwrap();
    let given = s.dose.unwrap();
    assert_eq!((given.dose_mg, given.ordered_mg), (84.0, 84.0));
    assert_eq!(given.overridden, None);
}

crate::on_both!(the_store_checks_the_dose_against_the_order_in_force);

/// An IV session ended undosed after its dose was verified from the ledger's stock: nothing
/// leaves the stock, and the session points to the vial it was to be drawn from, to waste what
/// was drawn up.
async fn an_undosed_iv_dose_points_to_the_vial_it_was_drawn_from(app: &TestApp) {
    let Stocked {
        id,
        nurse,
        keeper,
        site,
        safe,
        ..
    } = stocked(app, "undrawn").await;
    let store = &app.db.store;
    receive_vials(
        app,
        &keeper,
        &site,
        &safe,
        "KET-7",
        "2028-06-30".parse().unwrap(),
        2,
    )
    .await;
    let rule = utc_rule(jiff::Timestamp::now());
    let lot = store.lots_in_stock(&site, false, &rule).await.unwrap()[0]
        .id
        .clone();
    let (page, token) = pre_assessed(app, &nurse, &id).await;
    let dose = [
        ("dose_mg", ""),
        ("duration_min", "40"),
        ("stock_mg_per_ml", "10"),
        ("bag_ml", "100"),
        ("stock_lot", lot.as_str()),
        ("second_email", "undrawn.check@example.org"),
        ("second_password", crate::support::PASSWORD),
    ];
    let res = app
        .post_form(&nurse, &format!("{page}/dose"), &token, &dose)
        .await;
    assert_eq!(res.status(), 303);
    let res = app
        .post_form(
            &nurse,
            &format!("{page}/not-given"),
            &token,
            &[("not_given", "declined")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let stock = store.cs_stock(&site).await.unwrap();
    assert_eq!(
        stock.iter().map(|c| c.balance_mg).collect::<Vec<_>>(),
        vec![50.0, 50.0],
        "nothing administered"
    );
    let first = &stock[0].id;
    let html = app.get(&nurse, &page).await.text().await.unwrap();
    assert!(
        html.contains(&format!(
            r#"The dose verified was to be drawn from ketamine HCl 10 mg/mL, 5 mL vial #1 of lot KET-7 (50.0 mg in the ledger): <a href="/ledger?waste={first}#entry-h">if it was drawn up, record its waste, with a witness</a>."#
        )),
        "{html}"
    );
    assert!(
        html.contains("Ended without dosing:</strong>")
            && html.contains("The patient declined today&#39;s dose"),
        "{html}"
    );
}

crate::on_both!(an_undosed_iv_dose_points_to_the_vial_it_was_drawn_from);
