//! The public inquiry page and the front desk's queue, end to end over HTTP.

use store::Role;

use crate::support::TestApp;

async fn an_anonymous_inquiry_reaches_the_queue_and_becomes_a_patient(app: &TestApp) {
    let site = app.user("desk@example.org", Role::FrontDesk).await.site_id;
    app.user("admin@example.org", Role::Admin).await;
    let visitor = TestApp::browser();
    let page = app.get(&visitor, "/inquiry").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Please do not send health information here"));
    for absent in ["symptom\"", "diagnosis\"", "medication\""] {
        assert!(
            !html.contains(&format!("name=\"{absent}")),
            "no {absent} field"
        );
    }
    let login = app.get(&visitor, "/login").await.text().await.unwrap();
    assert!(
        login.contains("href=\"/inquiry\""),
        "linked from the sign-in page"
    );
    let token = crate::support::form_token(&html);

    // Bad input: each problem at its field, what was typed kept, nothing stored.
    let res = app
        .post_form(
            &visitor,
            "/inquiry",
            &token,
            &[
                ("given_name", "Wren"),
                ("family_name", ""),
                ("question", "Evening slots?"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("Family name is required"), "{html}");
    assert!(html.contains("Give a telephone number or an email address"));
    assert!(html.contains("value=\"Wren\"") && html.contains("value=\"Evening slots?\""));

    // A bot fills the honeypot: thanked, nothing kept.
    let res = app
        .post_form(
            &visitor,
            "/inquiry",
            &token,
            &[
                ("given_name", "Bot"),
                ("family_name", "Spam"),
                ("phone", "555 010 0999"),
                ("website", "http://spam.example"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);

    // A real inquiry carrying fields the form does not have: none of them is stored.
    let res = app
        .post_form(
            &visitor,
            "/inquiry",
            &token,
            &[
                ("given_name", "Wren"),
                ("family_name", "Adair"),
                ("phone", "555 010 0777"),
                ("contact_times", "evenings"),
                ("contact_times", "weekends"),
                ("heard_from", "friend_or_family"),
                ("question", "Do you have evening slots?"),
                ("diagnosis", "major depressive disorder"),
                ("medications", "sertraline 100 mg"),
                ("symptoms", "hopelessness"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/inquiry/thanks");
    let thanks = app
        .get(&visitor, "/inquiry/thanks")
        .await
        .text()
        .await
        .unwrap();
    assert!(thanks.contains("will call you within one working day"));

    // The front desk's queue: the new inquiry, not the bot's.
    let desk = app.signed_in("desk@example.org").await;
    let queue = app.get(&desk, "/inquiries").await.text().await.unwrap();
    assert!(queue.contains("Wren Adair"), "{queue}");
    assert!(!queue.contains("Bot Spam"), "the honeypot kept nothing");
    // Each tab says how many it holds, and the start page how many wait for an answer.
    assert!(
        queue.contains("aria-current=\"page\">New (1)</a>") && queue.contains(">Contacted (0)</a>"),
        "{queue}"
    );
    let home = app.get(&desk, "/").await.text().await.unwrap();
    assert!(
        home.contains("Inquiries waiting: <a href=\"/inquiries?status=new\">1 new</a>."),
        "{home}"
    );
    let start = queue.find("href=\"/inquiries/").unwrap() + "href=\"".len();
    let path = queue[start..].split('"').next().unwrap().to_owned();
    let detail = app.get(&desk, &path).await.text().await.unwrap();
    assert!(detail.contains("evenings, weekends") && detail.contains("A friend or relative"));
    for leaked in ["sertraline", "hopelessness", "depressive"] {
        assert!(!detail.contains(leaked), "{leaked} was stored");
    }
    let token = crate::support::form_token(&detail);
    let res = app
        .post_form(
            &desk,
            &format!("{path}/status"),
            &token,
            &[("status", "contacted"), ("note", "left a voicemail")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let detail = app
        .get(&desk, &format!("{path}?saved=1"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        detail.contains("left a voicemail") && detail.contains("Test Person"),
        "{detail}"
    );
    let res = app
        .post_form(
            &desk,
            &format!("{path}/status"),
            &token,
            &[("status", "lost")],
        )
        .await;
    assert_eq!(res.status(), 422);
    // A note with a terminal's escape sequence pasted into it is sent back at its field, and
    // the status stays as it was.
    let res = app
        .post_form(
            &desk,
            &format!("{path}/status"),
            &token,
            &[("status", "declined"), ("note", "no answer \u{1b}[2J")],
        )
        .await;
    assert_eq!(res.status(), 422);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("The note holds a control character or an invisible mark, which pasted text can carry; type it again."),
        "{page}"
    );
    let detail = app.get(&desk, &path).await.text().await.unwrap();
    assert!(!detail.contains("Declined</td>"), "{detail}");

    // Registered in one step: the form comes filled in; once registered, never twice.
    let id = path.trim_start_matches("/inquiries/").to_owned();
    let form = app
        .get(&desk, &format!("/patients/new?inquiry={id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(form.contains("value=\"Wren\"") && form.contains("value=\"555 010 0777\""));
    let register = [
        ("inquiry", id.as_str()),
        ("given_name", "Wren"),
        ("family_name", "Adair"),
        ("date_of_birth", "1990-02-02"),
        ("sex", "female"),
        ("phone", "555 010 0777"),
    ];
    let res = app.post_form(&desk, "/patients", &token, &register).await;
    assert_eq!(res.status(), 303);
    let record = res.headers()["location"].to_str().unwrap().to_owned();
    let detail = app.get(&desk, &path).await.text().await.unwrap();
    assert!(detail.contains("Booked for intake") && detail.contains("Open the patient record"));
    let mut again = register.to_vec();
    again.push(("different_person", "yes"));
    let res = app.post_form(&desk, "/patients", &token, &again).await;
    assert_eq!(res.status(), 409);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("registered as a patient already")
    );
    assert!(record.starts_with("/patients/"));

    // A queue longer than one page says how much of it the page lists; the oldest come first,
    // so the one that waited longest is never left off.
    let waited = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(48);
    for n in 0..201 {
        let inquiry = clinical::inquiry::InquiryInput {
            given_name: format!("Caller{n}"),
            family_name: "Queue".into(),
            phone: "555 010 0123".into(),
            ..clinical::inquiry::InquiryInput::default()
        }
        .validate()
        .unwrap();
        let at = waited + jiff::SignedDuration::from_mins(n);
        app.db
            .store
            .create_inquiry(&site, &inquiry, at)
            .await
            .unwrap();
    }
    let queue = app.get(&desk, "/inquiries").await.text().await.unwrap();
    assert!(
        queue.contains("200 of the 201 are listed, oldest first."),
        "{queue}"
    );
    assert!(queue.contains(">Caller0 Queue</a>") && !queue.contains(">Caller200 Queue</a>"));
    let all = app
        .get(&desk, "/inquiries?status=all")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        all.contains("200 of the 202 are listed, newest first."),
        "{all}"
    );
    assert!(all.contains(">Caller200 Queue</a>") && !all.contains(">Caller0 Queue</a>"));

    // Staff pages only: anonymous is sent to sign in, an administrator is refused.
    assert_eq!(app.get(&visitor, "/inquiries").await.status(), 303);
    let admin = app.signed_in("admin@example.org").await;
    assert_eq!(app.get(&admin, "/inquiries").await.status(), 403);
    let trail = app.audit().await;
    assert!(trail.iter().any(|e| e.action == "inquiry.create"));
    assert!(
        trail
            .iter()
            .all(|e| !e.detail.as_deref().unwrap_or("").contains("Wren"))
    );
}

crate::on_both!(an_anonymous_inquiry_reaches_the_queue_and_becomes_a_patient);
