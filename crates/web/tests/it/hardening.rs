//! Regressions from the outside probe of the server: redirects, bad header values, slow
//! clients, throttling, refused-access audit rows and what the audit page shows.

use serde_json::{Value, json};
use store::Role;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{TestApp, form_token};

async fn only_same_origin_paths_are_followed_and_bad_ones_are_not_errors(app: &TestApp) {
    app.user("redirect@example.org", Role::Nurse).await;
    // Before sign-in: the sign-in form carries a safe `next` and goes there afterwards.
    let client = TestApp::browser();
    let token = app.csrf(&client, "/login").await;
    let res = app
        .post_form(
            &client,
            "/login",
            &token,
            &[
                ("email", "redirect@example.org"),
                ("password", crate::support::PASSWORD),
                ("next", "/\t/evil.example/phish"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/");

    // Signed in, `/login?next=` redirects at once; hostile or broken values go home.
    for next in [
        "/%09/evil.example/phish",
        "//evil.example",
        "/%5Cevil.example",
        "/%0D%0AX",
        "/%0AX",
        "https://evil.example/",
    ] {
        let res = app.get(&client, &format!("/login?next={next}")).await;
        assert_eq!(res.status(), 303, "{next}");
        assert_eq!(res.headers()["location"], "/", "{next}");
    }
    let res = app.get(&client, "/login?next=/patients%3Fq%3Da").await;
    assert_eq!(res.headers()["location"], "/patients?q=a");

    // The reading-aids form returns only to local paths, and a line break is not a 500.
    let home = app.get(&client, "/").await.text().await.unwrap();
    let form = form_token(&home);
    for return_to in ["/\nX", "/\r\nSet-Cookie: x=y", "//evil.example"] {
        let res = app
            .post_form(
                &client,
                "/display",
                &form,
                &[("text", "larger"), ("return_to", return_to)],
            )
            .await;
        assert_eq!(res.status(), 303, "{return_to:?}");
        assert_eq!(res.headers()["location"], "/", "{return_to:?}");
    }
}

async fn refused_access_is_audited_with_the_full_path_and_the_patient(app: &TestApp) {
    let nurse = app.token(Role::Nurse).await;
    let client = reqwest::Client::new();
    let res = client
        .post(app.url("/api/v1/patients"))
        .bearer_auth(&nurse)
        .json(&json!({"given_name": "Guarded", "family_name": "Record", "date_of_birth": "1970-07-07", "sex": "male"}))
        .send()
        .await
        .unwrap();
    let id = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let desk = app.token(Role::FrontDesk).await;
    let res = client
        .get(app.url(&format!("/api/v1/patients/{id}/assessments")))
        .bearer_auth(&desk)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let denied: Vec<_> = app
        .audit()
        .await
        .into_iter()
        .filter(|e| e.action == "access.denied")
        .collect();
    assert_eq!(denied.len(), 1, "{denied:?}");
    assert_eq!(
        denied[0].detail.as_deref(),
        Some(format!("GET /api/v1/patients/{id}/assessments").as_str())
    );
    assert_eq!(denied[0].patient_id.as_deref(), Some(id.as_str()));

    // A guessed id of the wrong shape is still refused by role first, then is not found.
    let res = client
        .get(app.url("/api/v1/patients/1%20or%201=1"))
        .bearer_auth(&desk)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = client
        .get(app.url("/api/v1/patients/not-an-id"))
        .bearer_auth(&nurse)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

async fn the_audit_page_shows_no_clinical_hints_and_only_this_site(app: &TestApp) {
    let nurse = app.token(Role::Nurse).await;
    let client = reqwest::Client::new();
    let res = client
        .post(app.url("/api/v1/patients"))
        .bearer_auth(&nurse)
        .json(&json!({"given_name": "Hinted", "family_name": "Not", "date_of_birth": "1985-05-05", "sex": "female"}))
        .send()
        .await
        .unwrap();
    let id = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let url = app.url(&format!("/api/v1/patients/{id}/assessments"));
    for body in [
        json!({"instrument": "pcl5", "answers": vec![2; 20], "time_point": "baseline"}),
        json!({"instrument": "epds", "answers": [1, 1, 1, 1, 1, 1, 1, 1, 1, 2], "time_point": "baseline"}),
    ] {
        let res = client
            .post(&url)
            .bearer_auth(&nurse)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
    }
    // An event of another site of the same database.
    app.db
        .raw(
            "insert into sites (id, name, timezone, is_demo, created_at)
             values ('0190aaaa-0000-7000-8000-000000000000', 'Elsewhere', 'UTC', 0, 9000000000000)",
        )
        .await;
    app.db
        .store
        .audit(
            &store::Actor::anonymous("elsewhere@example.org"),
            store::AuditEvent::new("other.site.marker", store::AuditOutcome::Ok)
                .site("0190aaaa-0000-7000-8000-000000000000"),
            jiff::Timestamp::from_second(0).unwrap(),
        )
        .await
        .unwrap();

    app.user("auditor@example.org", Role::Admin).await;
    let admin = app.signed_in("auditor@example.org").await;
    let page = app.get(&admin, "/admin/audit").await.text().await.unwrap();
    assert!(page.contains("assessment.create"), "{page}");
    for hint in ["pcl5", "epds", "suicid", "self_harm", "flag="] {
        assert!(!page.contains(hint), "the audit page shows '{hint}'");
    }
    assert!(
        !page.contains("href=\"/patients/"),
        "the audit page links to patient pages its reader cannot open"
    );
    assert!(!page.contains("other.site.marker"));
}

async fn a_slow_client_is_cut_off(app: &TestApp) {
    let addr = app.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // The test server allows 2 s for headers (hyper's own default is 30 s); the connection
    // must be closed well before 10 s.
    let mut buf = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut buf),
    )
    .await;
    assert!(read.is_ok(), "the connection was still open after 10 s");
}

async fn sign_in_attempts_are_throttled_per_address(app: &TestApp) {
    let client = TestApp::browser();
    let token = app.csrf(&client, "/login").await;
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let res = app
            .post_form(
                &client,
                "/login",
                &token,
                &[
                    ("email", "nobody@example.org"),
                    ("password", "not the password"),
                ],
            )
            .await;
        statuses.push(res.status().as_u16());
        if res.status() == 429 {
            assert!(res.headers().contains_key("retry-after"));
            let body = res.text().await.unwrap();
            assert!(body.contains("Too many attempts"), "{body}");
        }
    }
    assert_eq!(&statuses[..10], &[401; 10], "{statuses:?}");
    assert_eq!(&statuses[10..], &[429, 429], "{statuses:?}");
    // Pages other than the sign-in form are not throttled by it.
    assert_eq!(app.get(&client, "/login").await.status(), 200);
}

async fn a_huge_email_writes_a_small_audit_row(app: &TestApp) {
    let client = TestApp::browser();
    let token = app.csrf(&client, "/login").await;
    let huge = "x".repeat(200 * 1024);
    let res = app
        .post_form(
            &client,
            "/login",
            &token,
            &[("email", huge.as_str()), ("password", "whatever")],
        )
        .await;
    assert_eq!(res.status(), 401);
    let bytes = app.db.store.audit_text_bytes().await.unwrap();
    assert!(bytes < 1024, "{bytes} bytes of audit text for one attempt");
}

async fn small_fixes_of_the_clinic_fit_review(app: &TestApp) {
    // A favicon, so browsers do not log a 404 on every page.
    let client = TestApp::browser();
    let res = app.get(&client, "/favicon.ico").await;
    assert_eq!(res.status(), 308);
    assert_eq!(res.headers()["location"], "/static/favicon.svg");
    let res = app.get(&client, "/static/favicon.svg").await;
    assert_eq!(res.headers()["content-type"], "image/svg+xml");
    assert!(res.text().await.unwrap().starts_with("<svg"));

    // The staff form: no role chosen for the admin, and an empty name in words.
    app.user("fit-admin@example.org", Role::Admin).await;
    let admin = app.signed_in("fit-admin@example.org").await;
    let page = app.get(&admin, "/admin/users").await.text().await.unwrap();
    assert!(
        page.contains("<option value=\"\">Choose a role</option>"),
        "{page}"
    );
    let roles = &page[page.find("<select id=\"role\"").unwrap()..];
    let roles = &roles[..roles.find("</select>").unwrap()];
    assert!(
        !roles.contains(" selected"),
        "a role is pre-selected: {roles}"
    );
    let token = form_token(&page);
    let res = app
        .post_form(
            &admin,
            "/admin/users",
            &token,
            &[
                ("display_name", " "),
                ("email", "new@example.org"),
                ("role", ""),
                ("password", "a long enough password"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let page = res.text().await.unwrap();
    assert!(page.contains("Enter the person&#39;s name."), "{page}");
    assert!(page.contains("Choose a role from the list."));

    // Error pages keep the navigation and the sign-out button.
    let res = app.get(&admin, "/no-such-page").await;
    assert_eq!(res.status(), 404);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("Page not found") && page.contains("Sign out"),
        "{page}"
    );
    let res = app.get(&admin, "/patients").await;
    assert_eq!(res.status(), 403);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("Not available to your role") && page.contains("Sign out"),
        "{page}"
    );
    let res = app.get(&TestApp::browser(), "/no-such-page").await;
    assert_eq!(res.status(), 404);
    assert!(res.text().await.unwrap().contains("Page not found"));

    // An unknown scale in the address is a 404 that says so, not a silent redirect.
    app.user("fit-nurse@example.org", Role::Nurse).await;
    let nurse = app.signed_in("fit-nurse@example.org").await;
    let token = app.token(Role::Nurse).await;
    let res = reqwest::Client::new()
        .post(app.url("/api/v1/patients"))
        .bearer_auth(&token)
        .json(&json!({"given_name": "Fit", "family_name": "Check", "date_of_birth": "1990-01-01", "sex": "male"}))
        .send()
        .await
        .unwrap();
    let id = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = app
        .get(
            &nurse,
            &format!("/patients/{id}/assessments/new?instrument=nope"),
        )
        .await;
    assert_eq!(res.status(), 404);
    assert!(res.text().await.unwrap().contains("No such rating scale"));
    // The clinician's form reads as a sentence.
    let page = app
        .get(
            &nurse,
            &format!("/patients/{id}/assessments/new?instrument=moaas"),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("about right now"), "{page}");
    assert!(!page.contains("about the right now"));
}

async fn a_clinician_enters_a_paper_form_from_yesterday(app: &TestApp) {
    app.user("paper@example.org", Role::Nurse).await;
    let nurse = app.signed_in("paper@example.org").await;
    let token = app.token(Role::Nurse).await;
    let res = reqwest::Client::new()
        .post(app.url("/api/v1/patients"))
        .bearer_auth(&token)
        .json(&json!({"given_name": "Paper", "family_name": "Form", "date_of_birth": "1980-02-02", "sex": "female"}))
        .send()
        .await
        .unwrap();
    let id = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let form_url = format!("/patients/{id}/assessments/new?instrument=gad7");
    let page = app.get(&nurse, &form_url).await.text().await.unwrap();
    // No GAD-7 yet: the form starts at Baseline.
    assert!(
        page.contains("<option value=\"baseline\" selected>"),
        "{page}"
    );
    assert!(page.contains("type=\"datetime-local\""));
    let token = form_token(&page);
    let answers: Vec<(String, String)> = (1..=7)
        .map(|i| (format!("item{i}"), "1".to_owned()))
        .collect();
    let post = |taken: &str| {
        let mut fields: Vec<(&str, &str)> = vec![
            ("instrument", "gad7"),
            ("time_point", "baseline"),
            ("taken_at", taken),
        ];
        fields.extend(answers.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let url = format!("/patients/{id}/assessments");
        let fields: Vec<(String, String)> = fields
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let token = token.clone();
        let nurse = nurse.clone();
        async move {
            let refs: Vec<(&str, &str)> = fields
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            app.post_form(&nurse, &url, &token, &refs).await
        }
    };
    // Next year is refused at the field and nothing is stored.
    let res = post("2099-01-01T09:00").await;
    assert_eq!(res.status(), 422);
    let page = res.text().await.unwrap();
    assert!(page.contains("The date taken is in the future"), "{page}");
    let res = post("yesterday").await;
    assert_eq!(res.status(), 422);
    // 02:30 on the night Chicago's clocks went forward did not happen: refused at the field
    // (it was stored as 03:30 without a word).
    let res = post("2026-03-08T02:30").await;
    assert_eq!(res.status(), 422);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("That time does not exist on that day: the clocks went forward an hour."),
        "{page}"
    );
    // Yesterday at 9:00 in the clinic's time zone (America/Chicago in the tests).
    let tz = jiff::tz::TimeZone::get("America/Chicago").unwrap();
    let yesterday = jiff::Timestamp::now().to_zoned(tz.clone()).date() - jiff::Span::new().days(1);
    let text = format!("{yesterday}T09:00");
    let res = post(&text).await;
    assert_eq!(res.status(), 303);
    let list: Value = reqwest::Client::new()
        .get(app.url(&format!("/api/v1/patients/{id}/assessments")))
        .bearer_auth(&app.token(Role::Nurse).await)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let stored = list["assessments"].as_array().unwrap();
    assert_eq!(stored.len(), 1, "{list}");
    let at: jiff::Timestamp = stored[0]["administered_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(at.to_zoned(tz).date(), yesterday);
    // With a baseline on file, the next form starts at Weekly.
    let page = app.get(&nurse, &form_url).await.text().await.unwrap();
    assert!(
        page.contains("<option value=\"weekly\" selected>"),
        "{page}"
    );
}

/// A session left open let anyone at the screen try the account's password at "Change your
/// password" without end (and, once found, keep the account). Wrong current passwords now count
/// toward the lockout, as at sign-in, and the form says so.
async fn the_current_password_is_not_guessed_without_end(app: &TestApp) {
    app.user("own@example.org", Role::Nurse).await;
    let client = app.signed_in("own@example.org").await;
    let token = app.csrf(&client, "/account/password").await;
    let change = |current: &'static str| {
        [
            ("current_password", current),
            ("new_password", "a brand new passphrase"),
            ("confirm_password", "a brand new passphrase"),
        ]
    };
    let limit = store::LoginSettings::default().max_failed_logins;
    for i in 0..limit {
        let res = app
            .post_form(&client, "/account/password", &token, &change("a guess"))
            .await;
        assert_eq!(res.status(), 422, "guess {i}");
        let html = res.text().await.unwrap();
        assert!(
            html.contains(&format!(
                "The current password is not right. Type it again. After {limit} wrong passwords in a row, here or at sign-in, the account is locked for 15 minutes."
            )),
            "{html}"
        );
    }
    let res = app
        .post_form(
            &client,
            "/account/password",
            &token,
            &change(crate::support::PASSWORD),
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("Your account is locked after too many wrong passwords, until 20"),
        "{html}"
    );
    // The password is unchanged, and sign-in is locked too.
    let other = TestApp::browser();
    let login = app.csrf(&other, "/login").await;
    let res = app
        .post_form(
            &other,
            "/login",
            &login,
            &[
                ("email", "own@example.org"),
                ("password", crate::support::PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), 401);
    let user = app
        .db
        .store
        .user_by_email("own@example.org")
        .await
        .unwrap()
        .unwrap();
    assert!(user.locked_until.is_some());
}

crate::on_both!(
    the_current_password_is_not_guessed_without_end,
    small_fixes_of_the_clinic_fit_review,
    a_clinician_enters_a_paper_form_from_yesterday,
    only_same_origin_paths_are_followed_and_bad_ones_are_not_errors,
    refused_access_is_audited_with_the_full_path_and_the_patient,
    the_audit_page_shows_no_clinical_hints_and_only_this_site,
    sign_in_attempts_are_throttled_per_address,
    a_huge_email_writes_a_small_audit_row,
);

/// Made-up bearer tokens are never trusted, so each costs a database query: an address may have
/// only `token_checks_per_minute` looked up, while a token it has just used goes on working.
async fn unknown_bearer_tokens_are_throttled_per_address(backend: store::Backend) {
    let app = TestApp::spawn_full(
        backend,
        false,
        web::Limits {
            token_checks_per_minute: 5,
            ..web::Limits::default()
        },
    )
    .await;
    let token = app.token(store::Role::Nurse).await;
    let client = reqwest::Client::new();
    let list = |bearer: String| {
        client
            .get(app.url("/api/v1/patients"))
            .bearer_auth(bearer)
            .send()
    };
    // One look-up for the real token (now trusted for a moment), four for made-up ones.
    assert_eq!(list(token.clone()).await.unwrap().status(), 200);
    let mut statuses = Vec::new();
    for i in 0..6 {
        statuses.push(
            list(format!("kf_made_up_{i}"))
                .await
                .unwrap()
                .status()
                .as_u16(),
        );
    }
    assert_eq!(statuses, [401, 401, 401, 401, 429, 429]);
    let res = list("kf_made_up_again".into()).await.unwrap();
    assert_eq!(res.status(), 429);
    let wait: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_many_requests", "{body}");
    // The token just used is not looked up again, so it is not throttled.
    assert_eq!(list(token).await.unwrap().status(), 200);
    app.finish().await;
}

#[tokio::test]
async fn unknown_bearer_tokens_are_throttled_per_address_sqlite() {
    unknown_bearer_tokens_are_throttled_per_address(store::Backend::Sqlite).await;
}

#[tokio::test]
async fn unknown_bearer_tokens_are_throttled_per_address_postgres() {
    unknown_bearer_tokens_are_throttled_per_address(store::Backend::Postgres).await;
}

/// Sends `head` and then `body` (chunks written by hand, cut short or malformed as a test
/// needs) on a connection of its own, and returns the whole answer as text.
async fn chunked(app: &TestApp, head: String, body: &[u8]) -> String {
    let addr = app.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut request = head.into_bytes();
    request.extend_from_slice(body);
    stream.write_all(&request).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut answer),
    )
    .await
    .expect("answered within 10 s")
    .unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

/// A form body that stops arriving, or arrives garbled, is answered as what it is (before,
/// both were told the form was over 256 KB), and one over the limit still is.
#[tokio::test]
async fn a_form_that_stalls_or_breaks_is_answered_as_such() {
    let app = TestApp::spawn_full(
        store::Backend::Sqlite,
        false,
        web::Limits {
            body_read_timeout: std::time::Duration::from_secs(1),
            ..web::Limits::default()
        },
    )
    .await;
    let head = "POST /login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
        Content-Type: application/x-www-form-urlencoded\r\n\
        Transfer-Encoding: chunked\r\n\r\n";
    let send = |body: &'static [u8]| chunked(&app, head.to_owned(), body);
    // Five bytes promised, two sent, then nothing: the body timeout (1 s here).
    let stalled = send(b"5\r\nab").await;
    assert!(stalled.starts_with("HTTP/1.1 408"), "{stalled}");
    assert!(stalled.contains("took too long to arrive"), "{stalled}");
    // A chunk size that is not hexadecimal.
    let garbled = send(b"zz\r\nab\r\n0\r\n\r\n").await;
    assert!(garbled.starts_with("HTTP/1.1 400"), "{garbled}");
    assert!(garbled.contains("did not arrive whole"), "{garbled}");
    // Over 256 KB (sent whole, as a browser sends it).
    let client = TestApp::browser();
    let token = app.csrf(&client, "/login").await;
    let big = "a".repeat(300 * 1024);
    let res = app
        .post_form(&client, "/login", &token, &[("email", big.as_str())])
        .await;
    assert_eq!(res.status(), 413);
    assert!(res.text().await.unwrap().contains("more than 256 KB"));
    app.finish().await;
}

/// The API answers a JSON body that stops arriving with 408 and one that arrives garbled with
/// 400, each saying nothing was stored; before, a stalled body was told "the body could not be
/// read", as if the program had sent something wrong.
#[tokio::test]
async fn an_api_body_that_stalls_or_breaks_is_answered_as_such() {
    let app = TestApp::spawn_full(
        store::Backend::Sqlite,
        false,
        web::Limits {
            body_read_timeout: std::time::Duration::from_secs(1),
            ..web::Limits::default()
        },
    )
    .await;
    let token = app.token(Role::Prescriber).await;
    let head = format!(
        "POST /api/v1/pk/simulate HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
         Authorization: Bearer {token}\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\n\r\n"
    );
    let send = |body: &'static [u8]| chunked(&app, head.clone(), body);
    let stalled = send(b"5\r\n{\"mo").await;
    assert!(stalled.starts_with("HTTP/1.1 408"), "{stalled}");
    assert!(stalled.contains("\"request_timeout\""), "{stalled}");
    assert!(stalled.contains("nothing was stored"), "{stalled}");
    let garbled = send(b"zz\r\n{}\r\n0\r\n\r\n").await;
    assert!(garbled.starts_with("HTTP/1.1 400"), "{garbled}");
    assert!(garbled.contains("did not arrive whole"), "{garbled}");
    app.finish().await;
}

#[tokio::test]
async fn a_slow_client_is_cut_off_sqlite() {
    let app = TestApp::spawn(store::Backend::Sqlite).await;
    a_slow_client_is_cut_off(&app).await;
    app.finish().await;
}

/// A simulation request as a clinician's program would send it.
async fn simulate(app: &TestApp, token: &str, body: Value) -> (u16, Value) {
    let res = reqwest::Client::new()
        .post(app.url("/api/v1/pk/simulate"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

#[tokio::test]
async fn simulations_are_bounded_before_they_start() {
    let app = TestApp::spawn(store::Backend::Sqlite).await;
    let token = app.token(Role::Prescriber).await;
    // 120 oral doses, each with its own time to peak: 120 depots were 62 s of CPU once.
    let doses: Vec<Value> = (0..120)
        .map(|i| json!({"route": "oral", "start_min": i, "amount_mg": 0.1, "absorption_tmax_min": 20.0 + f64::from(i) * 0.5}))
        .collect();
    let (status, body) = simulate(
        &app,
        &token,
        json!({"model": "kamp2020", "patient": {"weight_kg": 80}, "doses": doses, "times_min": [60]}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "doses");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("at most 100"),
        "{body}"
    );
    // Ten oral doses with ten times to peak: within the dose count, over the depot count.
    let doses: Vec<Value> = (0..10)
        .map(|i| json!({"route": "oral", "start_min": i * 60, "amount_mg": 1, "absorption_tmax_min": 20 + i}))
        .collect();
    let (status, body) = simulate(
        &app,
        &token,
        json!({"model": "kamp2020", "patient": {"weight_kg": 80}, "doses": doses, "times_min": [60]}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("absorption depots") && message.contains("at most 4"),
        "{message}"
    );

    // A population that would hold 2 billion values (16 GB) is refused by its size.
    let times: Vec<u32> = (1..=20_000).collect();
    let (status, body) = simulate(
        &app,
        &token,
        json!({"model": "perez_ruixo2021", "patient": {"weight_kg": 75},
               "doses": [{"route": "intranasal", "start_min": 0, "devices": 2}],
               "times_min": times, "population": 100000}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "population");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("5000000"),
        "{body}"
    );
    app.finish().await;
}

#[tokio::test]
async fn a_simulation_past_its_deadline_is_stopped_and_the_server_stays_responsive() {
    let app = TestApp::spawn_full(
        store::Backend::Sqlite,
        false,
        web::Limits {
            simulation_deadline: std::time::Duration::from_millis(1),
            ..web::Limits::default()
        },
    )
    .await;
    let token = app.token(Role::Prescriber).await;
    let times: Vec<u32> = (1..=50).map(|i| i * 5).collect();
    let body = json!({"model": "perez_ruixo2021", "patient": {"weight_kg": 75},
                      "doses": [{"route": "intranasal", "start_min": 0, "devices": 3}],
                      "times_min": times, "population": 100000});
    let (status, answer) = simulate(&app, &token, body).await;
    assert_eq!(status, 503, "{answer}");
    assert_eq!(answer["error"]["code"], "simulation_timeout");
    let health = reqwest::get(app.url("/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);
    app.finish().await;
}

#[tokio::test]
async fn a_json_body_over_the_limit_is_413() {
    let app = TestApp::spawn(store::Backend::Sqlite).await;
    let token = app.token(Role::Prescriber).await;
    let big = format!(
        "{{\"model\":\"domino\",\"pad\":\"{}\"}}",
        "x".repeat(3 * 1024 * 1024)
    );
    let res = reqwest::Client::new()
        .post(app.url("/api/v1/pk/simulate"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "payload_too_large");
    app.finish().await;
}

#[tokio::test]
async fn the_spravato_maximum_belongs_to_the_nasal_spray_not_to_every_s_ketamine() {
    let app = TestApp::spawn(store::Backend::Sqlite).await;
    let token = app.token(Role::Prescriber).await;
    let film = |mg: f64| {
        json!({"model": "simons2022", "patient": {"weight_kg": 70},
               "doses": [{"route": "sublingual", "start_min": 0, "amount_mg": mg}],
               "times_min": [30, 60, 120]})
    };
    // Simons 2022 studied a 100 mg film: accepted, though above the nasal label's 84 mg.
    let (status, body) = simulate(&app, &token, film(100.0)).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = simulate(&app, &token, film(110.0)).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "doses[0].amount_mg");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Simons 2022"),
        "{body}"
    );
    // Spravato devices keep the label's 84 mg, named at the devices field.
    let (status, body) = simulate(
        &app,
        &token,
        json!({"model": "perez_ruixo2021", "patient": {"weight_kg": 70},
               "doses": [{"route": "intranasal", "start_min": 0, "devices": 3, "mg_per_device": 40}],
               "times_min": [30]}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "doses[0].devices");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Spravato"),
        "{body}"
    );
    app.finish().await;
}
