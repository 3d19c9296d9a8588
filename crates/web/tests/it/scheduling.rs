//! Chairs, appointments and the REMS gates, over the API: overlaps refused (also under 20
//! concurrent bookings of one slot), opening hours and routes checked, cancellations kept.

use clinical::booking::OpeningHours;
use clinical::course::Product;
use serde_json::{Value, json};
use store::{Actor, Role};

use crate::support::TestApp;

/// The next Monday at `hour`:00 in the test clinic's zone (America/Chicago), as RFC 3339.
fn monday_at(hour: i8, minute: i8) -> String {
    let tz = jiff::tz::TimeZone::get("America/Chicago").unwrap();
    let mut day = jiff::Timestamp::now().to_zoned(tz.clone()).date();
    day = day.checked_add(jiff::ToSpan::days(1)).unwrap();
    while day.weekday() != jiff::civil::Weekday::Monday {
        day = day.checked_add(jiff::ToSpan::days(1)).unwrap();
    }
    day.at(hour, minute, 0, 0)
        .to_zoned(tz)
        .unwrap()
        .timestamp()
        .to_string()
}

/// Two chairs in one room: "IV 1" (IV and IM) and "Nasal 1" (esketamine); their ids.
pub(crate) async fn two_chairs(app: &TestApp) -> (String, String) {
    let store = &app.db.store;
    let site = store.first_site().await.unwrap().unwrap();
    let now = jiff::Timestamp::now();
    let actor = Actor::system("test");
    let room = store
        .create_room(&actor, &site.id, "Room A", now)
        .await
        .unwrap();
    let hours = OpeningHours::weekdays_8_to_18();
    let iv = store
        .create_chair(
            &actor,
            &site.id,
            &store::NewChair {
                room_id: &room,
                name: "IV 1",
                supports: &[Product::IvRacemic, Product::ImRacemic],
                hours: &hours,
            },
            now,
        )
        .await
        .unwrap();
    let nasal = store
        .create_chair(
            &actor,
            &site.id,
            &store::NewChair {
                room_id: &room,
                name: "Nasal 1",
                supports: &[Product::EsketamineNasal],
                hours: &hours,
            },
            now,
        )
        .await
        .unwrap();
    (iv.as_str().to_owned(), nasal.as_str().to_owned())
}

async fn patient(app: &TestApp, token: &str, given: &str) -> String {
    let v: Value = reqwest::Client::new()
        .post(app.url("/api/v1/patients"))
        .bearer_auth(token)
        .json(&json!({"given_name": given, "family_name": "Booker", "date_of_birth": "1980-01-01", "sex": "female"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["id"].as_str().unwrap().to_owned()
}

async fn book(app: &TestApp, token: &str, body: Value) -> (u16, Value) {
    let res = reqwest::Client::new()
        .post(app.url("/api/v1/appointments"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn bookings_never_overlap_and_keep_to_hours_and_routes(app: &TestApp) {
    let nurse = app.token(Role::Nurse).await;
    let desk = app.token(Role::FrontDesk).await;
    let (iv, nasal) = two_chairs(app).await;
    let ana = patient(app, &nurse, "Ana").await;
    let ben = patient(app, &nurse, "Ben").await;
    let client = reqwest::Client::new();
    let chairs: Value = client
        .get(app.url("/api/v1/chairs"))
        .bearer_auth(&desk)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(chairs["chairs"].as_array().unwrap().len(), 2);
    assert_eq!(
        chairs["chairs"][0]["supports"],
        json!(["iv_racemic", "im_racemic"])
    );
    assert_eq!(chairs["chairs"][0]["opens"], "08:00");

    let nine = monday_at(9, 0);
    let (status, first) = book(
        app,
        &desk,
        json!({"patient_id": ana, "chair_id": iv, "start": nine, "kind": "iv_infusion"}),
    )
    .await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["duration_min"], 130, "the kind's default length");
    assert_eq!(first["chair_name"], "Room A, IV 1");
    // Ben in the same chair half an hour later: the chair is taken.
    let (status, e) = book(
        app,
        &desk,
        json!({"patient_id": ben, "chair_id": iv, "start": monday_at(9, 30), "kind": "iv_infusion"}),
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(e["error"]["code"], "conflict");
    assert_eq!(e["error"]["field"], "chair_id");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Ana Booker")
    );
    // Ana in another chair at the same time: the patient is taken.
    let (status, e) = book(
        app,
        &desk,
        json!({"patient_id": ana, "chair_id": iv, "start": monday_at(11, 10), "kind": "intake", "duration_min": 30}),
    )
    .await;
    assert_eq!(status, 201, "back to back is not an overlap: {e}");
    let (status, e) = book(
        app,
        &nurse,
        json!({"patient_id": ana, "chair_id": nasal, "start": monday_at(10, 0), "kind": "intake"}),
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(e["error"]["field"], "patient_id");
    // Outside hours and the wrong chair are 422 at their fields.
    let (status, e) = book(
        app,
        &desk,
        json!({"patient_id": ben, "chair_id": iv, "start": monday_at(16, 30), "kind": "iv_infusion"}),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(e["error"]["field"], "start");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("is open Monday to Friday, 08:00–18:00; the appointment must start"),
        "the chair's days in words: {e}"
    );
    let (status, e) = book(
        app,
        &desk,
        json!({"patient_id": ben, "chair_id": nasal, "start": monday_at(13, 0), "kind": "iv_infusion"}),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(e["error"]["field"], "chair_id");
    let (status, e) = book(
        app,
        &desk,
        json!({"patient_id": ben, "chair_id": iv, "start": "next monday", "kind": "iv_infusion"}),
    )
    .await;
    assert_eq!((status, e["error"]["field"].as_str()), (422, Some("start")));
    // A year typed wrong: a day past, or decades ahead, is refused at the start.
    for (start, words) in [
        ("2025-12-08T15:00:00Z", "that day has passed"),
        ("2062-12-08T15:00:00Z", "more than two years ahead"),
    ] {
        let (status, e) = book(
            app,
            &desk,
            json!({"patient_id": ben, "chair_id": iv, "start": start, "kind": "iv_infusion"}),
        )
        .await;
        assert_eq!((status, e["error"]["field"].as_str()), (422, Some("start")));
        assert!(
            e["error"]["message"].as_str().unwrap().contains(words),
            "{e}"
        );
    }
    let (status, e) = book(
        app,
        &desk,
        json!({"patient_id": ben, "chair_id": iv, "start": nine, "kind": "massage"}),
    )
    .await;
    assert_eq!((status, e["error"]["field"].as_str()), (422, Some("kind")));

    // Cancelling frees the slot and keeps the appointment with its reason. The reason is held
    // to the published schema: 500 characters as sent, and one line once the white space
    // around it (a pasted line break) is trimmed, as the schema's pattern allows.
    let id = first["id"].as_str().unwrap();
    let long = format!(" {}", "x".repeat(500));
    let res = client
        .post(app.url(&format!("/api/v1/appointments/{id}/cancel")))
        .bearer_auth(&desk)
        .json(&json!({ "reason": long }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let res = client
        .post(app.url(&format!("/api/v1/appointments/{id}/cancel")))
        .bearer_auth(&desk)
        .json(&json!({"reason": "patient has a cold\n"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let res = client
        .post(app.url(&format!("/api/v1/appointments/{id}/no-show")))
        .bearer_auth(&desk)
        .json(&json!({"reason": "twice"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 409, "only a booked appointment closes");
    let (status, _) = book(
        app,
        &desk,
        json!({"patient_id": ben, "chair_id": iv, "start": nine, "kind": "iv_infusion"}),
    )
    .await;
    assert_eq!(status, 201, "the cancelled slot is free");
    let list: Value = client
        .get(app.url(&format!(
            "/api/v1/appointments?from={}&chair_id={iv}",
            monday_at(0, 0).replace('+', "%2B")
        )))
        .bearer_auth(&desk)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let all = list["appointments"].as_array().unwrap();
    assert_eq!(all.len(), 3);
    let cancelled = all.iter().find(|a| a["status"] == "cancelled").unwrap();
    assert_eq!(cancelled["status_reason"], "patient has a cold");
    let admin = app.token(Role::Admin).await;
    let res = client
        .get(app.url("/api/v1/appointments"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = client
        .get(app.url("/api/v1/appointments?to=2020-01-01T00:00:00Z"))
        .bearer_auth(&desk)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
}

crate::on_both!(bookings_never_overlap_and_keep_to_hours_and_routes);

async fn twenty_concurrent_bookings_of_one_slot_give_one(app: &TestApp) {
    let desk = app.token(Role::FrontDesk).await;
    let nurse = app.token(Role::Nurse).await;
    let (iv, _) = two_chairs(app).await;
    let mut patients = Vec::new();
    for i in 0..20 {
        patients.push(patient(app, &nurse, &format!("P{}", char::from(b'a' + i))).await);
    }
    let start = monday_at(10, 0);
    let mut tries = tokio::task::JoinSet::new();
    let url = app.url("/api/v1/appointments");
    for p in &patients {
        let body = json!({"patient_id": p, "chair_id": iv, "start": start, "kind": "iv_infusion"});
        let (url, desk) = (url.clone(), desk.clone());
        tries.spawn(async move {
            let res = reqwest::Client::new()
                .post(url)
                .bearer_auth(desk)
                .json(&body)
                .send()
                .await
                .unwrap();
            res.status().as_u16()
        });
    }
    let results = tries.join_all().await;
    let won = results.iter().filter(|s| **s == 201).count();
    let lost = results.iter().filter(|s| **s == 409).count();
    assert_eq!((won, lost), (1, 19), "{results:?}");
}

crate::on_both!(twenty_concurrent_bookings_of_one_slot_give_one);

async fn esketamine_needs_the_rems_records(app: &TestApp) {
    let desk = app.token(Role::FrontDesk).await;
    let nurse = app.token(Role::Nurse).await;
    let (_, nasal) = two_chairs(app).await;
    let cleo = patient(app, &nurse, "Cleo").await;
    let body = json!({"patient_id": cleo, "chair_id": nasal, "start": monday_at(9, 0), "kind": "esketamine"});
    let (status, e) = book(app, &desk, body.clone()).await;
    assert_eq!(status, 422);
    assert_eq!(e["error"]["code"], "rems_certification_required");
    let store = &app.db.store;
    let site = store.first_site().await.unwrap().unwrap();
    let now = jiff::Timestamp::now();
    store
        .set_site_rems(
            &Actor::system("test"),
            &site.id,
            &store::SiteRems {
                certified_on: "2026-01-05".parse().unwrap(),
                representative: "Dr Rosa Imani".into(),
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
    let (status, e) = book(app, &desk, body.clone()).await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (422, Some("rems_enrollment_required"))
    );
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("REMS enrollment")
    );
    store
        .set_patient_rems(
            &Actor::system("test"),
            &site.id,
            &store::PatientId::parse(&cleo).unwrap(),
            &store::PatientRems {
                enrolled_on: "2026-11-30".parse().unwrap(),
                submitted_by: clinical::session::RemsChannel::Online,
            },
            now,
        )
        .await
        .unwrap();
    let (status, e) = book(
        app,
        &desk,
        json!({"patient_id": cleo, "chair_id": nasal, "start": monday_at(9, 0), "kind": "esketamine", "duration_min": 90}),
    )
    .await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (422, Some("duration_min"))
    );
    let (status, _) = book(app, &desk, body).await;
    assert_eq!(status, 201);
}

crate::on_both!(esketamine_needs_the_rems_records);

async fn a_prescriber_orders_a_course_and_each_dose_change_is_a_new_order(app: &TestApp) {
    let doctor = app.token(Role::Prescriber).await;
    let nurse = app.token(Role::Nurse).await;
    let id = patient(app, &nurse, "Dara").await;
    let store = &app.db.store;
    let site = store.first_site().await.unwrap().unwrap();
    let pid = store::PatientId::parse(&id).unwrap();
    store
        .add_diagnosis(
            &Actor::system("test"),
            &site.id,
            &pid,
            clinical::diagnoses::find("F33.2").unwrap(),
            jiff::Timestamp::now(),
        )
        .await
        .unwrap();
    let client = reqwest::Client::new();
    let post = |token: &str, path: &str, body: Value| {
        client
            .post(app.url(path))
            .bearer_auth(token.to_owned())
            .json(&body)
            .send()
    };
    let body = json!({"patient_id": id, "diagnosis_code": "F33.2", "protocol": "iv_induction_thrice_weekly",
                      "instrument": "phq9", "starts_on": clinic_today()});
    let res = post(&nurse, "/api/v1/courses", body.clone()).await.unwrap();
    assert_eq!(res.status(), 403, "only a prescriber orders");
    let mut wrong = body.clone();
    wrong["diagnosis_code"] = json!("F41.1");
    let res = post(&doctor, "/api/v1/courses", wrong).await.unwrap();
    assert_eq!(res.status(), 422);
    let e: Value = res.json().await.unwrap();
    assert_eq!(e["error"]["field"], "diagnosis_code");
    // Not a code at all (a NUL byte answered 500 on PostgreSQL): the same refusal.
    let mut nul = body.clone();
    nul["diagnosis_code"] = json!("F33.2\u{0}");
    let res = post(&doctor, "/api/v1/courses", nul).await.unwrap();
    assert_eq!(res.status(), 422);
    let e: Value = res.json().await.unwrap();
    assert_eq!(e["error"]["field"], "diagnosis_code");
    let mut past = body.clone();
    past["starts_on"] = json!("2025-12-07");
    let e: Value = post(&doctor, "/api/v1/courses", past)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(e["error"]["field"], "starts_on", "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cannot be before today"),
        "{e}"
    );
    let mut high = body.clone();
    high["dose"] = json!("1.5");
    let e: Value = post(&doctor, "/api/v1/courses", high)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(e["error"]["field"], "dose");
    assert!(e["error"]["message"].as_str().unwrap().contains("cap"));
    let mut nasal = body.clone();
    nasal["protocol"] = json!("esketamine_trd_label");
    let mut start_high = nasal.clone();
    start_high["dose"] = json!("84");
    let e: Value = post(&doctor, "/api/v1/courses", start_high)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        e["error"]["field"], "dose",
        "84 mg only after a 56 mg start"
    );
    let e: Value = post(&doctor, "/api/v1/courses", nasal)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(e["error"]["code"], "rems_certification_required");

    // Sent twice at once (a double click, a retried request): one course, the other refused.
    let (a, b) = tokio::join!(
        post(&doctor, "/api/v1/courses", body.clone()),
        post(&doctor, "/api/v1/courses", body.clone())
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409], "one course of a protocol at a time");
    let (res, refused) = if a.status() == 201 { (a, b) } else { (b, a) };
    let e: Value = refused.json().await.unwrap();
    assert_eq!(
        (e["error"]["code"].as_str(), e["error"]["field"].as_str()),
        (Some("course_open"), Some("protocol"))
    );
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("already has a planned course of this protocol"),
        "{e}"
    );
    let course: Value = res.json().await.unwrap();
    assert_eq!(course["status"], "planned");
    assert_eq!(course["dose"], json!({"value": 0.5, "unit": "mg_per_kg"}));
    assert_eq!(course["sessions"].as_array().unwrap().len(), 6);
    assert_eq!(course["sessions"][5]["date"], "2026-12-18");
    assert!(
        course["protocol_source"]
            .as_str()
            .unwrap()
            .contains("Murrough")
    );
    let cid = course["id"].as_str().unwrap().to_owned();

    let res = post(
        &doctor,
        &format!("/api/v1/courses/{cid}/orders"),
        json!({"dose": "0.75", "reason": "partial response"}),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 201);
    let course: Value = res.json().await.unwrap();
    let orders = course["orders"].as_array().unwrap();
    assert_eq!(orders.len(), 2);
    assert_eq!(orders[0]["dose"]["value"], 0.75);
    assert_eq!(orders[0]["superseded"], false);
    assert_eq!(
        orders[1]["superseded"], true,
        "the first order is kept, replaced"
    );

    let res = post(
        &doctor,
        &format!("/api/v1/courses/{cid}/status"),
        json!({"status": "completed"}),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 422, "a planned course cannot complete");
    let res = post(
        &doctor,
        &format!("/api/v1/courses/{cid}/status"),
        json!({"status": "active"}),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 200);
    let res = post(
        &doctor,
        &format!("/api/v1/courses/{cid}/status"),
        json!({"status": "stopped"}),
    )
    .await
    .unwrap();
    let e: Value = res.json().await.unwrap();
    assert_eq!(e["error"]["field"], "reason");
    let res = post(
        &doctor,
        &format!("/api/v1/courses/{cid}/status"),
        json!({"status": "stopped", "reason": "moved to another city"}),
    )
    .await
    .unwrap();
    let course: Value = res.json().await.unwrap();
    assert_eq!(
        (course["status"].as_str(), course["status_reason"].as_str()),
        (Some("stopped"), Some("moved to another city"))
    );
    let res = post(
        &doctor,
        &format!("/api/v1/courses/{cid}/orders"),
        json!({"dose": "0.5", "reason": "restart please"}),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 422, "no order on an ended course");
    let list: Value = client
        .get(app.url(&format!("/api/v1/courses?patient_id={id}")))
        .bearer_auth(&nurse)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["courses"].as_array().unwrap().len(), 1);
    // Once that course has ended, the protocol may be ordered again.
    let res = post(&doctor, "/api/v1/courses", body).await.unwrap();
    assert_eq!(res.status(), 201);
    let desk = app.token(Role::FrontDesk).await;
    let res = client
        .get(app.url(&format!("/api/v1/courses/{cid}")))
        .bearer_auth(&desk)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "front desk sees no clinical content");
}

crate::on_both!(a_prescriber_orders_a_course_and_each_dose_change_is_a_new_order);

/// The value a page's form field `name` (drawn by the field macro) is filled with.
fn field_value(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" type=\"");
    let from = html.find(&marker).expect("the field is on the page");
    let start = html[from..].find("value=\"").unwrap() + from + "value=\"".len();
    html[start..].split('"').next().unwrap().to_owned()
}

/// The value of the first `name="<name>"` input after `after` in a page.
fn input_after(html: &str, after: &str, name: &str) -> String {
    let from = html.find(after).expect("the marker is on the page");
    let marker = format!("name=\"{name}\" value=\"");
    let start = html[from..].find(&marker).unwrap() + from + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

async fn the_clinic_sets_up_chairs_orders_a_course_and_books_it_from_proposals(app: &TestApp) {
    app.user("admin@example.org", Role::Admin).await;
    app.user("desk@example.org", Role::FrontDesk).await;
    app.user("doctor@example.org", Role::Prescriber).await;
    let admin = app.signed_in("admin@example.org").await;
    let token = app.csrf(&admin, "/admin/clinic").await;
    let res = app
        .post_form(
            &admin,
            "/admin/clinic/rooms",
            &token,
            &[("room_name", "Infusion room")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let res = app
        .post_form(
            &admin,
            "/admin/clinic/rooms",
            &token,
            &[("room_name", "Infusion room")],
        )
        .await;
    assert_eq!(res.status(), 422, "room names are unique");
    let html = res.text().await.unwrap();
    assert_eq!(
        field_value(&html, "room_name"),
        "Infusion room",
        "the refused room name is kept in its field"
    );
    // Pasted text with a direction override or a terminal's escape is refused, saying why.
    for pasted in ["Room \u{202E}A", "Room \u{1b}[2J"] {
        let res = app
            .post_form(
                &admin,
                "/admin/clinic/rooms",
                &token,
                &[("room_name", pasted)],
            )
            .await;
        assert_eq!(res.status(), 422, "{pasted:?}");
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("The room&#39;s name holds a control character or an invisible mark"),
            "{pasted:?}"
        );
    }
    let html = app.get(&admin, "/admin/clinic").await.text().await.unwrap();
    let marker = "<select id=\"room\" name=\"room\"><option value=\"";
    let at = html.find(marker).unwrap() + marker.len();
    let room = html[at..].split('"').next().unwrap().to_owned();
    let res = app
        .post_form(
            &admin,
            "/admin/clinic/chairs",
            &token,
            &[
                ("room", &room),
                ("chair_name", "Chair 1"),
                ("days", "mon"),
                ("opens", "18:00"),
                ("closes", "08:00"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("Tick at least one treatment the chair is set up for."));
    assert!(html.contains("The chair must close after it opens."));
    // Everything chosen and typed comes back as it was sent, for the administrator to correct.
    assert!(html.contains(&format!("<option value=\"{room}\" selected>")));
    assert_eq!(field_value(&html, "chair_name"), "Chair 1");
    assert_eq!(field_value(&html, "opens"), "18:00");
    assert_eq!(field_value(&html, "closes"), "08:00");
    assert!(html.contains(r#"name="days" value="mon" checked>"#));
    assert!(
        html.contains(r#"name="days" value="tue">"#),
        "an unticked day stays unticked"
    );
    assert!(!html.contains(r#"name="supports" value="iv_racemic" checked"#));
    for name in ["Chair 1", "Chair 2"] {
        let res = app
            .post_form(
                &admin,
                "/admin/clinic/chairs",
                &token,
                &[
                    ("room", &room),
                    ("chair_name", name),
                    ("supports", "iv_racemic"),
                    ("days", "mon"),
                    ("days", "tue"),
                    ("days", "wed"),
                    ("days", "thu"),
                    ("days", "fri"),
                    ("opens", "08:00"),
                    ("closes", "18:00"),
                ],
            )
            .await;
        assert_eq!(res.status(), 303, "{name}");
    }
    let html = app.get(&admin, "/admin/clinic").await.text().await.unwrap();
    assert!(html.contains(
        "<td>Chair 2</td><td>Ketamine IV infusion</td><td>Monday to Friday, 08:00–18:00</td>"
    ));

    let desk = app.signed_in("desk@example.org").await;
    let id = app.register(&desk, "Vera", "Lind", "1975-05-05").await;
    let doctor = app.signed_in("doctor@example.org").await;
    let token = app
        .csrf(&doctor, &format!("/patients/{id}/diagnoses"))
        .await;
    app.post_form(
        &doctor,
        &format!("/patients/{id}/diagnoses"),
        &token,
        &[("code", "F33.1")],
    )
    .await;
    let path = format!("/patients/{id}/courses");
    let monday = monday_at(9, 0);
    let tz = jiff::tz::TimeZone::get("America/Chicago").unwrap();
    let first_day = monday
        .parse::<jiff::Timestamp>()
        .unwrap()
        .to_zoned(tz)
        .date()
        .to_string();
    let res = app
        .post_form(
            &doctor,
            &path,
            &token,
            &[
                ("diagnosis", "F33.1"),
                ("protocol", "iv_induction_thrice_weekly"),
                ("instrument", "phq9"),
                ("starts_on", &first_day),
                ("dose", "2"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("2 mg/kg is outside 0.1 to 1 mg/kg")
    );
    // A first session before today: every assessment window of the plan would be closed and
    // missed before the course begins, and its sessions could never be checked in.
    let today: jiff::civil::Date = clinic_today().parse().unwrap();
    let yesterday = today.yesterday().unwrap().to_string();
    let res = app
        .post_form(
            &doctor,
            &path,
            &token,
            &[
                ("diagnosis", "F33.1"),
                ("protocol", "iv_induction_thrice_weekly"),
                ("instrument", "phq9"),
                ("starts_on", &yesterday),
                ("dose", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let page = res.text().await.unwrap();
    assert!(
        page.contains(&format!(
            "The first session cannot be before today, {today}: a course is planned from today on"
        )),
        "{page}"
    );
    assert!(page.contains(&format!("value=\"{yesterday}\"")), "{page}");
    let res = app
        .post_form(
            &doctor,
            &path,
            &token,
            &[
                ("diagnosis", "F33.1"),
                ("protocol", "iv_induction_thrice_weekly"),
                ("instrument", "phq9"),
                ("starts_on", &first_day),
                ("dose", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let html = app.get(&doctor, &path).await.text().await.unwrap();
    assert!(html.contains("<dd>0.5 mg/kg</dd>"));
    assert!(html.contains("0 of 6 booked"));
    assert!(html.contains("Murrough"));
    let record = app
        .get(&doctor, &format!("/patients/{id}"))
        .await
        .text()
        .await
        .unwrap();
    // What is due on the record follows the course, as the start page does (it followed the
    // default plan beside the course's own list, and the two disagreed).
    let due = record
        .split("<h3>What is due</h3>")
        .nth(1)
        .expect("the record says what is due");
    assert!(
        due.contains("By the treatment course&#39;s plan (IV induction"),
        "{due}"
    );
    assert!(!due.contains("default plan"), "{due}");
    let row = due
        .split("<tr>")
        .find(|r| r.contains("Baseline"))
        .expect("the course makes the baseline due in the week before the first session");
    assert!(row.contains("PHQ-9") && row.contains("Due now"), "{row}");
    assert!(
        due.split("</table>")
            .next()
            .unwrap()
            .contains("<td>Next</td>"),
        "and says what comes next: {due}"
    );
    let home = app.get(&doctor, "/").await.text().await.unwrap();
    let row = home
        .split("<tr>")
        .find(|r| r.contains("Vera Lind"))
        .expect("the start page lists the course's due baseline");
    assert!(row.contains("PHQ-9") && row.contains("Baseline"), "{row}");
    assert!(!home.contains("<h3>Missed</h3>"), "nothing is missed yet");

    // The front desk books the induction from the proposals: its start page lists the course
    // to book until all six are booked.
    let home = app.get(&desk, "/").await.text().await.unwrap();
    assert!(home.contains("Courses to book (1)"), "{home}");
    let record = app
        .get(&desk, &format!("/patients/{id}"))
        .await
        .text()
        .await
        .unwrap();
    let marker = "/courses/";
    let s = record
        .find(marker)
        .expect("a booking link for the front desk")
        + marker.len();
    let course = record[s..].split('/').next().unwrap().to_owned();
    let book = format!("/courses/{course}/book");
    let html = app.get(&desk, &book).await.text().await.unwrap();
    assert_eq!(html.matches("name=\"slot\"").count(), 6, "{html}");
    let slots: Vec<String> = html
        .match_indices("name=\"slot\" value=\"")
        .map(|(i, m)| html[i + m.len()..].split('"').next().unwrap().to_owned())
        .collect();
    // Someone takes the first slot's chair and time meanwhile: that one is refused, not doubled.
    let first: Vec<&str> = slots[0].split('|').collect();
    let other = app.register(&desk, "Olaf", "Brun", "1970-07-07").await;
    let ms: i64 = first[2].parse().unwrap();
    let start = jiff::Timestamp::from_millisecond(ms)
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::get("America/Chicago").unwrap());
    let dtoken = app
        .csrf(&desk, &format!("/schedule/new?patient={other}"))
        .await;
    let res = app
        .post_form(
            &desk,
            "/schedule/new",
            &dtoken,
            &[
                ("patient", &other),
                ("chair", first[1]),
                ("date", &start.date().to_string()),
                ("time", &start.time().strftime("%H:%M").to_string()),
                ("kind", "intake"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    // The same booking again: the slot is taken now, a conflict (409) said on the form.
    let again = [
        ("patient", other.as_str()),
        ("chair", first[1]),
        ("date", &start.date().to_string()),
        ("time", &start.time().strftime("%H:%M").to_string()),
        ("kind", "intake"),
    ];
    let res = app.post_form(&desk, "/schedule/new", &dtoken, &again).await;
    assert_eq!(res.status(), 409);
    let html = res.text().await.unwrap();
    assert!(html.contains("choose another time"), "{html}");
    // The same form with the year typed wrong: refused at the date, with the day to book from.
    let mut past = again;
    past[2] = ("date", "2025-12-08");
    let res = app.post_form(&desk, "/schedule/new", &dtoken, &past).await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("id=\"date-error\""), "{html}");
    assert!(
        html.contains("That day has passed; book from today"),
        "{html}"
    );
    // 02:30 on the next night Chicago's clocks go forward does not happen: refused at the time
    // (it was booked at 03:30 with "The appointment is booked").
    let chicago = jiff::tz::TimeZone::get("America/Chicago").unwrap();
    let spring = (1..=400)
        .map(|n| jiff::Zoned::now().date() + jiff::Span::new().days(n))
        .find(|d| {
            matches!(
                chicago.to_ambiguous_timestamp(d.at(2, 30, 0, 0)).offset(),
                jiff::tz::AmbiguousOffset::Gap { .. }
            )
        })
        .expect("the clocks go forward within a year")
        .to_string();
    let mut skipped = again;
    skipped[2] = ("date", &spring);
    skipped[3] = ("time", "02:30");
    let res = app
        .post_form(&desk, "/schedule/new", &dtoken, &skipped)
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("id=\"time-error\""), "{html}");
    assert!(
        html.contains("That time does not exist on that day: the clocks go forward an hour."),
        "{html}"
    );
    let mut fields: Vec<(&str, &str)> = slots.iter().map(|v| ("slot", v.as_str())).collect();
    fields.truncate(6);
    let res = app.post_form(&desk, &book, &dtoken, &fields).await;
    assert_eq!(res.status(), 409);
    let html = res.text().await.unwrap();
    assert!(html.contains("Some appointments could not be booked"));
    assert!(html.contains("is booked from"), "{html}");
    assert!(html.contains("5 booked; the others were not."));
    let html = app.get(&desk, &book).await.text().await.unwrap();
    assert!(html.contains("5 of 6 sessions are booked"));
    assert_eq!(
        html.matches("name=\"slot\"").count(),
        1,
        "the last session is proposed again"
    );
    let last: String = input_after(&html, "Proposed appointments", "slot");
    // A second session of the course on a day that has one: refused on the form at the date
    // (422) and over the API (409), nothing booked. A course plans one session a day at most.
    let second: Vec<&str> = slots[1].split('|').collect();
    let day_of_second = jiff::Timestamp::from_millisecond(second[2].parse().unwrap())
        .unwrap()
        .to_zoned(chicago.clone())
        .date();
    let same_day = [
        ("patient", id.as_str()),
        ("chair", second[1]),
        ("date", &day_of_second.to_string()),
        ("time", "15:30"),
        ("kind", ""),
        ("course", course.as_str()),
    ];
    refused_by_hand(
        app,
        &desk,
        &dtoken,
        &same_day,
        "date",
        "This course has a session on that day already, at ",
    )
    .await;
    let api = app.token(Role::FrontDesk).await;
    let (status, body) = self::book(
        app,
        &api,
        json!({
            "patient_id": id,
            "chair_id": second[1],
            "course_id": course,
            "kind": "iv_infusion",
            "start": day_of_second.at(15, 30, 0, 0).to_zoned(chicago.clone()).unwrap().timestamp().to_string(),
        }),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("course_same_day")),
        "{body}"
    );
    assert_eq!(body["error"]["field"], "start");
    let html = app.get(&desk, &book).await.text().await.unwrap();
    assert!(html.contains("5 of 6 sessions are booked"), "{html}");
    // A form that cannot be read is bad input (422), not a conflict, and books nothing:
    // nothing ticked, or a proposal altered (its session's text is not echoed).
    let res = app.post_form(&desk, &book, &dtoken, &[]).await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Tick at least one proposed appointment")
    );
    let altered = format!("<b>x</b>{last}");
    let res = app
        .post_form(&desk, &book, &dtoken, &[("slot", &altered)])
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("A proposal could not be read"), "{html}");
    assert!(!html.contains("&lt;b&gt;x"), "{html}");
    let res = app
        .post_form(&desk, &book, &dtoken, &[("slot", &last)])
        .await;
    assert_eq!(res.status(), 303);
    let html = app.get(&doctor, &path).await.text().await.unwrap();
    assert!(html.contains("6 of 6 booked"));
    let home = app.get(&desk, "/").await.text().await.unwrap();
    assert!(!home.contains("Courses to book"), "{home}");
    // A seventh session of a course of six: refused at the course, nothing booked. The fourth
    // week's Monday holds none of the course's sessions (the session booked last follows the
    // others, in the third week).
    let free_day = first_day
        .parse::<jiff::civil::Date>()
        .unwrap()
        .checked_add(jiff::ToSpan::days(21))
        .unwrap()
        .to_string();
    let seventh = [
        ("patient", id.as_str()),
        ("chair", first[1]),
        ("date", &free_day),
        ("time", "09:00"),
        ("kind", "iv_infusion"),
        ("course", course.as_str()),
    ];
    refused_by_hand(
        app,
        &desk,
        &dtoken,
        &seventh,
        "course",
        "All 6 sessions of this course are booked already; cancel one or mark it a no-show to book it again",
    )
    .await;
    let html = app.get(&doctor, &path).await.text().await.unwrap();
    assert!(html.contains("6 of 6 booked"));

    // The week and the day show the bookings; the day list cancels with a reason.
    let week = app
        .get(&desk, &format!("/schedule?week={first_day}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(week.contains("Vera Lind") && week.contains("Olaf Brun"));
    assert!(week.contains("<th scope=\"col\">Infusion room, Chair 1</th>"));
    let day = app
        .get(&desk, &format!("/schedule/day?date={first_day}"))
        .await
        .text()
        .await
        .unwrap();
    let appt = input_after(&day, "Olaf Brun", "appointment");
    // Arrival is marked on the appointment's own day only: next Monday's list offers no
    // button, and a forged post is refused at the row with nothing changed (the store's story
    // `arrival` marks today's).
    assert!(day.contains("<th scope=\"col\">Arrival</th>"));
    assert!(!day.contains("Mark arrived"), "not on another day's list");
    let early = app
        .post_form(
            &desk,
            "/schedule/arrived",
            &dtoken,
            &[("appointment", &appt), ("date", &first_day)],
        )
        .await;
    assert_eq!(early.status(), 422);
    let html = early.text().await.unwrap();
    assert!(
        html.contains("Only a booked appointment of today can be marked arrived"),
        "{html}"
    );
    assert!(!html.contains("<strong>Arrived "), "nothing changed");
    let res = app
        .post_form(
            &desk,
            "/schedule/close",
            &dtoken,
            &[
                ("appointment", &appt),
                ("date", &first_day),
                ("action", "cancel"),
                ("reason", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    // Neither button's value (a post by hand): nothing is cancelled, and the reason typed
    // stays in the row's field.
    let res = app
        .post_form(
            &desk,
            "/schedule/close",
            &dtoken,
            &[
                ("appointment", &appt),
                ("date", &first_day),
                ("action", "delete"),
                ("reason", "rebooking next week"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("Choose Cancel or No-show"), "{html}");
    assert!(
        html.contains(&format!(
            "id=\"reason-{appt}\" name=\"reason\" type=\"text\" value=\"rebooking next week\""
        )),
        "{html}"
    );
    let res = app
        .post_form(
            &desk,
            "/schedule/close",
            &dtoken,
            &[
                ("appointment", &appt),
                ("date", &first_day),
                ("action", "cancel"),
                ("reason", "rebooking next week"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let day = app
        .get(&desk, &format!("/schedule/day?date={first_day}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(day.contains("Cancelled: rebooking next week"));
    assert_eq!(
        app.get(&desk, &path).await.status(),
        403,
        "front desk sees no course details"
    );

    // A paused course's sessions may still be booked, for when it resumes, and the booking page
    // says its patient cannot be checked in meanwhile; an ended course proposes nothing.
    let status = format!("{path}/{course}/status");
    let ctoken = app.csrf(&doctor, &path).await;
    for change in [
        [("status", "active"), ("reason", "")],
        [("status", "paused"), ("reason", "")],
    ] {
        let res = app.post_form(&doctor, &status, &ctoken, &change).await;
        assert_eq!(res.status(), 303);
    }
    let html = app.get(&desk, &book).await.text().await.unwrap();
    assert!(
        html.contains("This course is paused: its patient cannot be checked in"),
        "{html}"
    );
    // A refused change keeps what was typed and chosen in its own form, not in the others.
    let res = app
        .post_form(
            &doctor,
            &status,
            &ctoken,
            &[("status", "stopped"), ("reason", "moved")],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains(&format!(
            "id=\"status_reason-{course}\" name=\"reason\" type=\"text\" autocomplete=\"off\" value=\"moved\""
        )) && html.contains("<option value=\"stopped\" selected>"),
        "{html}"
    );
    assert!(
        html.contains(&format!(
            "id=\"reason-{course}\" name=\"reason\" type=\"text\" autocomplete=\"off\" value=\"\""
        )),
        "the dose form's reason stays empty: {html}"
    );
    let res = app
        .post_form(
            &doctor,
            &format!("{path}/{course}/dose"),
            &ctoken,
            &[("dose", "lots"), ("reason", "slow responder")],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("value=\"lots\"") && html.contains("value=\"slow responder\""),
        "{html}"
    );
    let stop = [("status", "stopped"), ("reason", "moved to another city")];
    let res = app.post_form(&doctor, &status, &ctoken, &stop).await;
    assert_eq!(res.status(), 303);
    let html = app.get(&desk, &book).await.text().await.unwrap();
    assert!(
        html.contains("This course is stopped: nothing more can be booked for it."),
        "{html}"
    );
    assert!(!html.contains("name=\"slot\"") && !html.contains("Book one appointment by hand"));
}

crate::on_both!(the_clinic_sets_up_chairs_orders_a_course_and_books_it_from_proposals);

/// Posts the hand booking form with `fields` and checks that it is refused (422) saying
/// `said` at the field `field`.
async fn refused_by_hand(
    app: &TestApp,
    client: &reqwest::Client,
    token: &str,
    fields: &[(&str, &str)],
    field: &str,
    said: &str,
) {
    let res = app.post_form(client, "/schedule/new", token, fields).await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains(&format!("id=\"{field}-error\"")), "{html}");
    assert!(html.contains(said), "{html}");
}

/// A clinic with two chairs, a front desk and a prescriber signed in, and Ines Lauder, with a
/// current diagnosis and a twice-weekly IV induction ordered to start on `starts_on`.
struct Ordered {
    desk: reqwest::Client,
    doctor: reqwest::Client,
    /// The IV chair.
    iv: String,
    /// The patient.
    id: String,
    /// Her courses page.
    path: String,
}

async fn ordered_twice_weekly(app: &TestApp, starts_on: jiff::civil::Date) -> Ordered {
    app.user("desk@example.org", Role::FrontDesk).await;
    app.user("doctor@example.org", Role::Prescriber).await;
    let (iv, _) = two_chairs(app).await;
    let desk = app.signed_in("desk@example.org").await;
    let doctor = app.signed_in("doctor@example.org").await;
    let id = app.register(&desk, "Ines", "Lauder", "1979-03-03").await;
    let dx = format!("/patients/{id}/diagnoses");
    let token = app.csrf(&doctor, &dx).await;
    app.post_form(&doctor, &dx, &token, &[("code", "F33.1")])
        .await;
    let path = format!("/patients/{id}/courses");
    let res = app
        .post_form(
            &doctor,
            &path,
            &token,
            &[
                ("diagnosis", "F33.1"),
                ("protocol", "iv_induction_twice_weekly"),
                ("instrument", "phq9"),
                ("starts_on", &starts_on.to_string()),
                ("dose", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    Ordered {
        desk,
        doctor,
        iv,
        id,
        path,
    }
}

/// When the booking page's first proposal starts, in the clinic's zone (its checkbox's value is
/// session|chair|start in milliseconds).
fn first_proposed(html: &str, zone: &jiff::tz::TimeZone) -> jiff::Zoned {
    let proposed = input_after(html, "Proposed appointments", "slot");
    let ms: i64 = proposed.split('|').nth(2).unwrap().parse().unwrap();
    jiff::Timestamp::from_millisecond(ms)
        .unwrap()
        .to_zoned(zone.clone())
}

/// The id of the course linked first from the patient's record.
async fn first_course(app: &TestApp, o: &Ordered) -> String {
    let record = app
        .get(&o.desk, &format!("/patients/{}", o.id))
        .await
        .text()
        .await
        .unwrap();
    let s = record.find("/courses/").unwrap() + "/courses/".len();
    record[s..].split('/').next().unwrap().to_owned()
}

/// A course paused before its first session and resumed three weeks later: its sessions are
/// proposed from today on, as far apart as planned, and its page says so. The booking page
/// said "No free slot was found ... in the next days" and proposed nothing: every target day
/// had passed.
async fn a_course_fallen_behind_is_proposed_from_today(app: &TestApp) {
    let today: jiff::civil::Date = clinic_today().parse().unwrap();
    let o = ordered_twice_weekly(app, today).await;
    // Its plan as it stands three weeks on: ordered to start 21 days ago.
    let planned = today.checked_sub(jiff::ToSpan::days(21)).unwrap();
    app.db
        .raw(&format!(
            "update courses set starts_on = '{planned}' where patient_id = '{}'",
            o.id
        ))
        .await;
    let course = first_course(app, &o).await;
    let Ordered {
        desk, doctor, path, ..
    } = o;
    let html = app
        .get(&desk, &format!("/courses/{course}/book"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(&format!(
            "The course&#39;s plan has fallen behind: session 1 was planned for {planned}. The remaining sessions are proposed from {today} on"
        )),
        "{html}"
    );
    // Never screened: the booking page says the patient cannot be checked in yet.
    assert!(
        html.contains("This patient cannot be checked in yet: a prescriber decides them eligible at screening first."),
        "{html}"
    );
    // Whatever was proposed is from today on, one a day at most.
    let chicago = jiff::tz::TimeZone::get(crate::support::CLINIC_ZONE).unwrap();
    let days: Vec<jiff::civil::Date> = html
        .match_indices("name=\"slot\" value=\"")
        .map(|(i, m)| {
            let v = html[i + m.len()..].split('"').next().unwrap();
            let ms: i64 = v.split('|').nth(2).unwrap().parse().unwrap();
            jiff::Timestamp::from_millisecond(ms)
                .unwrap()
                .to_zoned(chicago.clone())
                .date()
        })
        .collect();
    assert!(days.iter().all(|d| *d >= today), "{days:?}");
    let mut distinct = days.clone();
    distinct.dedup();
    assert_eq!(distinct, days, "one a day: {days:?}");
    // The course's page shows the day each session can still be booked from, and what the
    // course asks follows those days: the baseline is due before the first session as it now
    // stands, and nothing of the plan's past days is missed (it listed a missed baseline and
    // a missed assessment before each planned session).
    let page = app.get(&doctor, &path).await.text().await.unwrap();
    assert!(
        page.contains(&format!("{today} (planned for {planned})")),
        "{page}"
    );
    // One PHQ-9 answers the baseline and the one before the first session, so they are one
    // line, due by the day the second closes.
    assert!(
        page.contains(&format!(
            "<strong>Due:</strong> PHQ-9 Baseline and before session ({today})"
        )),
        "{page}"
    );
    assert!(!page.contains("<strong>Missed:</strong>"), "{page}");
    // The front desk's start page lists it among the courses to book, with the day its next
    // session can be booked from and a link to its proposals.
    let home = app.get(&desk, "/").await.text().await.unwrap();
    assert!(home.contains("Courses to book (1)"), "{home}");
    let clinician = app.get(&doctor, "/").await.text().await.unwrap();
    let due: Vec<&str> = clinician
        .split("<tr>")
        .filter(|r| r.contains("Ines Lauder") && r.contains("PHQ-9"))
        .collect();
    assert_eq!(due.len(), 1, "{clinician}");
    assert!(
        due[0].contains("<td>Baseline and before session</td>"),
        "{}",
        due[0]
    );
    // Its link records the one before the session, which answers both.
    assert!(
        due[0].contains("assessments/new?instrument=phq9&#38;time_point=before_session\""),
        "{}",
        due[0]
    );
    let row = home
        .split("<tr>")
        .find(|r| r.contains("Ines Lauder"))
        .expect("the course is listed");
    assert!(
        row.contains(&format!("<td>{today} (planned for {planned})</td>"))
            && row.contains("<td>0 of 6</td>")
            && row.contains(&format!("href=\"/courses/{course}/book\"")),
        "{row}"
    );
}

crate::on_both!(a_course_fallen_behind_is_proposed_from_today);

/// A course ordered to start in three weeks whose first session is booked two weeks early,
/// because a chair came free: its second session is proposed three days after the first, as
/// a twice-weekly induction plans, not on its planned day two weeks on. The booking page
/// proposed the plan's old days, leaving seventeen days between the first two infusions.
async fn a_course_begun_early_keeps_its_spacing(app: &TestApp) {
    let chicago = jiff::tz::TimeZone::get(crate::support::CLINIC_ZONE).unwrap();
    let first: jiff::Timestamp = monday_at(9, 0).parse().unwrap();
    let first_day = first.to_zoned(chicago.clone()).date();
    let planned = first_day.checked_add(jiff::ToSpan::days(14)).unwrap();
    let o = ordered_twice_weekly(app, planned).await;
    let course = first_course(app, &o).await;
    let Ordered {
        desk,
        doctor,
        iv,
        id,
        path,
    } = o;
    let api = app.token(Role::FrontDesk).await;
    let (status, body) = self::book(
        app,
        &api,
        json!({
            "patient_id": id,
            "chair_id": iv,
            "course_id": course,
            "kind": "iv_infusion",
            "start": first.to_string(),
        }),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let html = app
        .get(&desk, &format!("/courses/{course}/book"))
        .await
        .text()
        .await
        .unwrap();
    // Monday, Thursday, Monday: the second three days after the first.
    let second = first_day.checked_add(jiff::ToSpan::days(3)).unwrap();
    let was = planned.checked_add(jiff::ToSpan::days(3)).unwrap();
    assert!(
        html.contains(&format!(
            "The course runs ahead of its plan: session 2 was planned for {was}. The remaining sessions are proposed from {second} on"
        )),
        "{html}"
    );
    let at = first_proposed(&html, &chicago);
    assert_eq!(at.date(), second, "{at}");
    // At the time the patient came to the first, not at the chair's opening.
    assert_eq!((at.hour(), at.minute()), (9, 0), "{at}");
    // The course's page shows the day beside the one planned, and asks the assessment before
    // the second session on that day.
    let page = app.get(&doctor, &path).await.text().await.unwrap();
    assert!(
        page.contains(&format!("{second} (planned for {was})")),
        "{page}"
    );
}

crate::on_both!(a_course_begun_early_keeps_its_spacing);

async fn a_clinic_adds_its_own_protocol_and_orders_from_it(app: &TestApp) {
    app.user("doctor@example.org", Role::Prescriber).await;
    app.user("nurse@example.org", Role::Nurse).await;
    let doctor = app.signed_in("doctor@example.org").await;
    let nurse = app.signed_in("nurse@example.org").await;
    let html = app.get(&nurse, "/protocols").await.text().await.unwrap();
    assert!(
        html.contains("Murrough"),
        "the built-in library with its sources"
    );
    assert!(!html.contains("Add a protocol"), "only prescribers add");
    let token = form_token_of(&html);
    let res = app
        .post_form(&nurse, "/protocols", &token, &[("code", "x")])
        .await;
    assert_eq!(res.status(), 403);
    let fields = [
        ("name", "IV induction: 8 infusions twice a week"),
        ("code", "iv_induction_8"),
        ("product", "iv_racemic"),
        ("phase1_name", "induction"),
        ("phase1_sessions", "8"),
        ("phase1_frequency", "twice_weekly"),
        ("dose", "0.5"),
        (
            "source",
            "Abdallah et al. 2022 (PTSD): eight infusions twice a week",
        ),
    ];
    let token = app.csrf(&doctor, "/protocols").await;
    let mut bad = fields.to_vec();
    bad[4] = ("phase1_sessions", "eighty");
    let res = app.post_form(&doctor, "/protocols", &token, &bad).await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("Phase 1: give the number of sessions"));
    assert!(
        html.contains("value=\"iv_induction_8\""),
        "typed values kept"
    );
    let res = app.post_form(&doctor, "/protocols", &token, &fields).await;
    assert_eq!(res.status(), 303);
    let res = app.post_form(&doctor, "/protocols", &token, &fields).await;
    assert_eq!(res.status(), 422, "one code once");
    let html = app.get(&nurse, "/protocols").await.text().await.unwrap();
    assert!(html.contains("clinic&#39;s own") || html.contains("clinic's own"));

    let token = app.token(Role::Prescriber).await;
    let nurse_token = app.token(Role::Nurse).await;
    let id = patient(app, &nurse_token, "Ines").await;
    let site = app.db.store.first_site().await.unwrap().unwrap();
    app.db
        .store
        .add_diagnosis(
            &Actor::system("test"),
            &site.id,
            &store::PatientId::parse(&id).unwrap(),
            clinical::diagnoses::find("F43.10").unwrap(),
            jiff::Timestamp::now(),
        )
        .await
        .unwrap();
    let res = reqwest::Client::new()
        .post(app.url("/api/v1/courses"))
        .bearer_auth(&token)
        .json(
            &json!({"patient_id": id, "diagnosis_code": "F43.10", "protocol": "iv_induction_8",
                      "instrument": "pcl5", "starts_on": clinic_today()}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let course: Value = res.json().await.unwrap();
    assert_eq!(course["sessions"].as_array().unwrap().len(), 8);
    assert!(
        course["protocol_source"]
            .as_str()
            .unwrap()
            .contains("Abdallah")
    );
}

fn form_token_of(html: &str) -> String {
    crate::support::form_token(html)
}

crate::on_both!(a_clinic_adds_its_own_protocol_and_orders_from_it);

/// The clinic's date today, `YYYY-MM-DD`: a course's first session is planned from today on.
fn clinic_today() -> String {
    jiff::Timestamp::now()
        .in_tz(crate::support::CLINIC_ZONE)
        .unwrap()
        .date()
        .to_string()
}

/// A clinic closed for a holiday had its sessions proposed and booked on it: there was no way
/// to say a day is closed. The administrator now closes a day (not while appointments are
/// booked on it, which are named), proposals pass over it, a booking on it is refused, the
/// week and the day list say so, and the day opens again.
async fn the_clinic_closes_a_day_and_nothing_is_booked_on_it(app: &TestApp) {
    let chicago = jiff::tz::TimeZone::get(crate::support::CLINIC_ZONE).unwrap();
    let monday: jiff::Timestamp = monday_at(9, 0).parse().unwrap();
    let monday_day = monday.to_zoned(chicago.clone()).date();
    let thursday = monday_day.checked_add(jiff::ToSpan::days(3)).unwrap();
    let friday = monday_day.checked_add(jiff::ToSpan::days(4)).unwrap();
    let o = ordered_twice_weekly(app, monday_day).await;
    let course = first_course(app, &o).await;
    app.user("owner@example.org", Role::Admin).await;
    let admin = app.signed_in("owner@example.org").await;
    let api = app.token(Role::FrontDesk).await;
    let at_nine = |day: jiff::civil::Date| {
        day.at(9, 0, 0, 0)
            .to_zoned(chicago.clone())
            .unwrap()
            .timestamp()
            .to_string()
    };
    let session = |day| {
        json!({
            "patient_id": o.id,
            "chair_id": o.iv,
            "course_id": course,
            "kind": "iv_infusion",
            "start": at_nine(day),
        })
    };
    let (status, body) = self::book(app, &api, session(monday_day)).await;
    assert_eq!(status, 201, "{body}");
    let setup = "/admin/clinic";
    let token = app.csrf(&admin, setup).await;
    let close = |day: String, reason: &'static str| {
        let (admin, token) = (admin.clone(), token.clone());
        async move {
            app.post_form(
                &admin,
                "/admin/clinic/closed",
                &token,
                &[("closed_day", day.as_str()), ("closed_reason", reason)],
            )
            .await
        }
    };
    // A day with a booking is not closed: the booking is named.
    let res = close(monday_day.to_string(), "Staff training").await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("An appointment is booked that day (09:00 Ines Lauder in Room A, IV 1). Move or cancel it on the day list first, then close the day."),
        "{html}"
    );
    assert!(html.contains(r#"id="closed_day-error""#), "{html}");
    assert!(html.contains("value=\"Staff training\""), "typed kept");
    // Bad input at its field, nothing stored.
    let res = close(thursday.to_string(), "").await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Say why the clinic is closed")
    );
    let res = close(thursday.to_string(), "Staff\u{7}training").await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains(r#"id="closed_reason-error""#)
    );
    let res = close("2020-01-01".into(), "Long ago").await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("That day has passed"));
    let res = close("the 25th".into(), "Christmas").await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Enter the day the clinic is closed, such as 2026-12-25.")
    );
    // Thursday, the second session's day, is closed.
    let res = close(thursday.to_string(), "Staff training").await;
    assert_eq!(res.status(), 303);
    let page = app.get(&admin, setup).await.text().await.unwrap();
    assert!(
        page.contains(&format!(
            "<td>Thursday {thursday}</td><td>Staff training</td>"
        )),
        "{page}"
    );
    let res = close(thursday.to_string(), "Again").await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("The clinic is closed that day already (Staff training).")
    );
    // A closed day no session is planned on (the Saturday) is not said on the booking page.
    let saturday = friday.checked_add(jiff::ToSpan::days(1)).unwrap();
    let res = close(saturday.to_string(), "Inventory day").await;
    assert_eq!(res.status(), 303);
    // The booking page passes over it, and says why.
    let html = app
        .get(&o.desk, &format!("/courses/{course}/book"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(&format!(
            "The clinic is closed on {thursday} (Staff training): nothing is proposed on that day."
        )),
        "{html}"
    );
    assert_eq!(first_proposed(&html, &chicago).date(), friday);
    assert!(!html.contains("Inventory day"), "{html}");
    // A booking on it is refused, by the API and by hand.
    let (status, body) = self::book(app, &api, session(thursday)).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "start", "{body}");
    assert_eq!(
        body["error"]["message"].as_str().unwrap_or_default(),
        format!("the clinic is closed on {thursday} (Staff training); choose another day"),
        "{body}"
    );
    // The week and the day list say so.
    let week = app
        .get(&o.desk, &format!("/schedule?week={thursday}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        week.contains("The clinic is closed this day: Staff training."),
        "{week}"
    );
    let day = app
        .get(&o.desk, &format!("/schedule/day?date={thursday}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        day.contains("The clinic is closed this day: Staff training."),
        "{day}"
    );
    // Opened again, it books.
    let res = app
        .post_form(
            &admin,
            "/admin/clinic/closed/reopen",
            &token,
            &[("day", thursday.to_string().as_str())],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (status, body) = self::book(app, &api, session(thursday)).await;
    assert_eq!(status, 201, "{body}");
    let store = &app.db.store;
    let site = store.first_site().await.unwrap().unwrap();
    let trail = store.audit_events(&site.id, 200, None).await.unwrap();
    let day_detail = format!("day={thursday}");
    for action in ["site.close_day", "site.reopen_day"] {
        assert!(
            trail
                .iter()
                .any(|e| e.action == action && e.detail.as_deref() == Some(day_detail.as_str())),
            "{action}"
        );
    }
}

crate::on_both!(the_clinic_closes_a_day_and_nothing_is_booked_on_it);

/// Closing a day and booking on it at once: one of the two wins, never both.
async fn closing_a_day_and_booking_it_at_once_never_both_succeed(app: &TestApp) {
    let chicago = jiff::tz::TimeZone::get(crate::support::CLINIC_ZONE).unwrap();
    let nurse = app.token(Role::Nurse).await;
    let (iv, _) = two_chairs(app).await;
    let store = app.db.store.clone();
    let site = store.first_site().await.unwrap().unwrap();
    let actor = Actor::system("test");
    let today = jiff::Timestamp::now().to_zoned(chicago.clone()).date();
    let chair = store::ChairId::parse(&iv).unwrap();
    let first: jiff::Timestamp = monday_at(10, 0).parse().unwrap();
    for week in 0..6_i64 {
        let start = first
            .checked_add(jiff::SignedDuration::from_hours(24 * 7 * week))
            .unwrap();
        let day = start.to_zoned(chicago.clone()).date();
        let given = format!("Race{}", char::from(b'a' + u8::try_from(week).unwrap()));
        let pid = store::PatientId::parse(&patient(app, &nurse, &given).await).unwrap();
        let booking = {
            let (store, site, actor, chair, chicago) = (
                store.clone(),
                site.id.clone(),
                actor.clone(),
                chair.clone(),
                chicago.clone(),
            );
            tokio::spawn(async move {
                let new = store::NewAppointment {
                    patient_id: &pid,
                    chair_id: &chair,
                    course_id: None,
                    kind: clinical::booking::AppointmentKind::IvInfusion,
                    starts_at: start,
                    ends_at: start + jiff::SignedDuration::from_mins(60),
                };
                store
                    .book(&actor, &site, &new, &chicago, jiff::Timestamp::now())
                    .await
                    .unwrap()
            })
        };
        let closing = {
            let (store, site, actor, chicago) = (
                store.clone(),
                site.id.clone(),
                actor.clone(),
                chicago.clone(),
            );
            tokio::spawn(async move {
                store
                    .close_day(
                        &actor,
                        &site,
                        day,
                        "Race",
                        &chicago,
                        today,
                        jiff::Timestamp::now(),
                    )
                    .await
                    .unwrap()
            })
        };
        let (booked, closed) = (booking.await.unwrap(), closing.await.unwrap());
        match (&booked, &closed) {
            (Ok(_), Err(store::ClosingRefusal::Booked { booked })) => {
                assert_eq!(booked.len(), 1);
            }
            (Err(store::BookingRefusal::Closed { day: d, .. }), Ok(())) => assert_eq!(*d, day),
            other => panic!("week {week}: {other:?}"),
        }
    }
}

crate::on_both!(closing_a_day_and_booking_it_at_once_never_both_succeed);

/// A day the clinic cannot open (a storm) is cancelled from its day list at once, with one
/// reason, once a box confirms it; a past day is not; then the day can be closed.
async fn a_day_the_clinic_cannot_open_is_cancelled_at_once(app: &TestApp) {
    let chicago = jiff::tz::TimeZone::get(crate::support::CLINIC_ZONE).unwrap();
    let monday: jiff::Timestamp = monday_at(9, 0).parse().unwrap();
    let monday_day = monday.to_zoned(chicago.clone()).date();
    let o = ordered_twice_weekly(app, monday_day).await;
    let course = first_course(app, &o).await;
    let api = app.token(Role::FrontDesk).await;
    let nurse = app.token(Role::Nurse).await;
    let other = patient(app, &nurse, "Orla").await;
    for body in [
        json!({"patient_id": o.id, "chair_id": o.iv, "course_id": course, "kind": "iv_infusion", "start": monday_at(9, 0)}),
        json!({"patient_id": other, "chair_id": o.iv, "kind": "intake", "start": monday_at(13, 0)}),
    ] {
        let (status, body) = self::book(app, &api, body).await;
        assert_eq!(status, 201, "{body}");
    }
    let list = format!("/schedule/day?date={monday_day}");
    let html = app.get(&o.desk, &list).await.text().await.unwrap();
    assert!(
        html.contains("cancel its 2 appointment(s) not checked in at once"),
        "{html}"
    );
    let token = app.csrf(&o.desk, &list).await;
    let post = |fields: Vec<(&'static str, String)>| {
        let (desk, token) = (o.desk.clone(), token.clone());
        async move {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.post_form(&desk, "/schedule/cancel-day", &token, &fields)
                .await
        }
    };
    // Not confirmed, or without a reason, or a past day: refused at the field, nothing changed.
    let res = post(vec![
        ("date", monday_day.to_string()),
        ("day_reason", "Clinic closed: snowstorm".into()),
    ])
    .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains(r#"id="confirm_day-error"><span class="visually-hidden">Error:</span> Tick the box to confirm that every appointment of the day not checked in is cancelled.</p>"#)
            && html.contains(r#"value="Clinic closed: snowstorm""#),
        "{html}"
    );
    let res = post(vec![
        ("date", monday_day.to_string()),
        ("day_reason", " ".into()),
        ("confirm_day", "on".into()),
    ])
    .await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains(r#"id="day_reason-error""#)
    );
    let res = post(vec![
        ("date", "2020-01-06".into()),
        ("day_reason", "Snow".into()),
        ("confirm_day", "on".into()),
    ])
    .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("That day has passed"));
    let html = app.get(&o.desk, &list).await.text().await.unwrap();
    assert_eq!(html.matches("<td>Booked</td>").count(), 2, "{html}");

    let res = post(vec![
        ("date", monday_day.to_string()),
        ("day_reason", "Clinic closed: snowstorm".into()),
        ("confirm_day", "on".into()),
    ])
    .await;
    assert_eq!(res.status(), 303);
    let html = app.get(&o.desk, &list).await.text().await.unwrap();
    assert_eq!(
        html.matches("<td>Cancelled: Clinic closed: snowstorm</td>")
            .count(),
        2,
        "{html}"
    );
    assert!(!html.contains("Cancel the whole day"), "{html}");
    // Each patient's audit has its cancellation.
    let store = &app.db.store;
    for p in [&o.id, &other] {
        let pid = store::PatientId::parse(p).unwrap();
        let trail = store.audit_events_for_patient(&pid).await.unwrap();
        assert!(
            trail.iter().any(|e| e.action == "appointment.close"
                && e.detail.as_deref() == Some("status=cancelled")),
            "{trail:?}"
        );
    }
    // The day can now be closed.
    app.user("owner@example.org", Role::Admin).await;
    let admin = app.signed_in("owner@example.org").await;
    let token = app.csrf(&admin, "/admin/clinic").await;
    let res = app
        .post_form(
            &admin,
            "/admin/clinic/closed",
            &token,
            &[
                ("closed_day", monday_day.to_string().as_str()),
                ("closed_reason", "Snowstorm"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
}

crate::on_both!(a_day_the_clinic_cannot_open_is_cancelled_at_once);
