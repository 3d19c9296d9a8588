//! The server-rendered pages: sign-in, CSRF, lockout, roles, forms, headers.

use store::Role;

use crate::support::{PASSWORD, TestApp, form_token};

async fn sign_in_sets_a_strict_http_only_cookie_and_sign_out_ends_it(app: &TestApp) {
    app.user("nurse@example.org", Role::Nurse).await;
    let client = TestApp::browser();
    let res = app.get(&client, "/").await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/login?next=%2F");

    let token = app.csrf(&client, "/login").await;
    let res = app
        .post_form(
            &client,
            "/login",
            &token,
            &[
                ("email", "Nurse@Example.org"),
                ("password", PASSWORD),
                ("next", "/patients"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/patients");
    let set_cookie: Vec<_> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let session = set_cookie
        .iter()
        .find(|c| c.starts_with("kf_session="))
        .expect("session cookie");
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Strict"),
        "{session}"
    );
    assert!(
        !session.contains("Secure"),
        "plain HTTP must not mark Secure: {session}"
    );

    let home = app.get(&client, "/").await.text().await.unwrap();
    assert!(home.contains("Test Person"), "{home}");
    // The signed-in form token differs from the pre-session one.
    let signed_in_token = form_token(&home);
    assert_ne!(signed_in_token, token);

    let res = app
        .post_form(&client, "/logout", &signed_in_token, &[])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/login?signed_out=1");
    let res = app.get(&client, "/patients").await;
    assert_eq!(res.status(), 303, "signed out, pages need sign-in again");
}

async fn cookies_are_secure_behind_a_tls_proxy(app: &TestApp) {
    app.user("tls@example.org", Role::Nurse).await;
    let client = TestApp::browser();
    let res = client
        .get(app.url("/login"))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    let pre = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        pre.starts_with("kf_pre=") && pre.contains("Secure"),
        "{pre}"
    );
    let token = form_token(&res.text().await.unwrap());
    let res = client
        .post(app.url("/login"))
        .header("x-forwarded-proto", "https")
        .form(&[
            ("csrf", token.as_str()),
            ("email", "tls@example.org"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let session = res.headers()["set-cookie"].to_str().unwrap();
    assert!(
        session.starts_with("kf_session=")
            && session.contains("Secure")
            && session.contains("HttpOnly"),
        "{session}"
    );
}

async fn forms_without_the_right_token_are_refused(app: &TestApp) {
    app.user("fd@example.org", Role::FrontDesk).await;
    let client = TestApp::browser();
    app.get(&client, "/login").await;
    let res = app
        .post_form(
            &client,
            "/login",
            "0".repeat(64).as_str(),
            &[("email", "fd@example.org"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), 403);
    assert!(res.text().await.unwrap().contains("The form has expired"));
    let res = client
        .post(app.url("/login"))
        .form(&[("email", "fd@example.org"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);

    // Signed in, the pre-session token no longer opens forms.
    let client = app.signed_in("fd@example.org").await;
    let res = app
        .post_form(
            &client,
            "/patients",
            "f".repeat(64).as_str(),
            &[
                ("given_name", "X"),
                ("family_name", "Y"),
                ("date_of_birth", "1990-01-01"),
                ("sex", "male"),
            ],
        )
        .await;
    assert_eq!(res.status(), 403);
    assert_eq!(
        app.audit()
            .await
            .iter()
            .filter(|e| e.action == "patient.create")
            .count(),
        0
    );
}

async fn wrong_passwords_get_one_generic_message_and_five_lock_the_account(app: &TestApp) {
    let prescriber = app
        .user_named("p@example.org", "Pia Locked", Role::Prescriber)
        .await;
    let client = TestApp::browser();
    let token = app.csrf(&client, "/login").await;
    let unknown = app
        .post_form(
            &client,
            "/login",
            &token,
            &[("email", "ghost@example.org"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(unknown.status(), 401);
    let unknown = unknown.text().await.unwrap();
    let wrong = app
        .post_form(
            &client,
            "/login",
            &token,
            &[("email", "p@example.org"), ("password", "not the password")],
        )
        .await;
    let wrong = wrong.text().await.unwrap();
    let message = "The email or password is not right. After 5 failed attempts in a row an account is locked for 15 minutes.";
    assert!(unknown.contains(message), "{unknown}");
    assert!(wrong.contains(message), "{wrong}");
    assert!(
        wrong.contains("value=\"p@example.org\""),
        "the typed email is kept"
    );
    for _ in 0..4 {
        app.post_form(
            &client,
            "/login",
            &token,
            &[("email", "p@example.org"), ("password", "still not it")],
        )
        .await;
    }
    let locked = app
        .post_form(
            &client,
            "/login",
            &token,
            &[("email", "p@example.org"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(
        locked.status(),
        401,
        "locked accounts refuse even the right password"
    );
    assert!(locked.text().await.unwrap().contains(message));
    // The administrator's start page names the locked account, linked to where it is unlocked.
    app.user("admin@example.org", Role::Admin).await;
    let admin = app.signed_in("admin@example.org").await;
    let home = app.get(&admin, "/").await.text().await.unwrap();
    assert!(
        home.contains(&format!(
            "<strong>Locked after wrong passwords:</strong> <a href=\"/admin/users/{}\">Pia Locked</a>.",
            prescriber.id.as_str()
        )),
        "{home}"
    );
}

async fn front_desk_sees_the_directory_but_not_administration(app: &TestApp) {
    app.user("fd@example.org", Role::FrontDesk).await;
    let client = app.signed_in("fd@example.org").await;
    let home = app.get(&client, "/").await.text().await.unwrap();
    assert!(home.contains("href=\"/patients\""));
    assert!(!home.contains("href=\"/admin/users\""));
    for path in ["/admin/users", "/admin/audit"] {
        let res = app.get(&client, path).await;
        assert_eq!(res.status(), 403, "{path}");
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("Not available to your role")
        );
    }
    assert_eq!(app.get(&client, "/patients").await.status(), 200);
    assert_eq!(app.get(&client, "/account").await.status(), 200);
}

async fn admins_manage_accounts_but_not_patients(app: &TestApp) {
    app.user("admin@example.org", Role::Admin).await;
    let client = app.signed_in("admin@example.org").await;
    assert_eq!(app.get(&client, "/patients").await.status(), 403);
    let token = app.csrf(&client, "/admin/users").await;
    let res = app
        .post_form(
            &client,
            "/admin/users",
            &token,
            &[
                ("display_name", "New Nurse"),
                ("email", "not-an-email"),
                ("role", "nurse"),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("value=\"New Nurse\""),
        "typed values are kept"
    );
    assert!(page.contains("is not an email address"));
    assert!(page.contains("use at least 12"));
    let res = app
        .post_form(
            &client,
            "/admin/users",
            &token,
            &[
                ("display_name", "New Nurse"),
                ("email", "new.nurse@example.org"),
                ("role", "nurse"),
                ("password", "a proper long password"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("new.nurse@example.org"));
    let again = app
        .post_form(
            &client,
            "/admin/users",
            &token,
            &[
                ("display_name", "Twin"),
                ("email", "NEW.nurse@example.org"),
                ("role", "nurse"),
                ("password", "a proper long password"),
            ],
        )
        .await;
    assert_eq!(again.status(), 422);
    assert!(again.text().await.unwrap().contains("already exists"));
    let audit = app.get(&client, "/admin/audit").await.text().await.unwrap();
    assert!(
        audit.contains("user.create") && audit.contains("auth.login"),
        "{audit}"
    );
}

async fn an_invalid_patient_form_comes_back_with_messages_and_values(app: &TestApp) {
    app.user("n@example.org", Role::Nurse).await;
    let client = app.signed_in("n@example.org").await;
    let token = app.csrf(&client, "/patients/new").await;
    let res = app
        .post_form(
            &client,
            "/patients",
            &token,
            &[
                ("given_name", "Grace"),
                ("family_name", ""),
                ("date_of_birth", "10/12/1985"),
                ("sex", "female"),
                ("phone", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("There are 2 problems with this form"),
        "{page}"
    );
    assert!(page.contains("value=\"Grace\""));
    assert!(page.contains("value=\"10/12/1985\""));
    assert!(page.contains("Family name is required"), "{page}");
    assert!(page.contains("aria-invalid=\"true\""));
    assert!(page.contains("value=\"female\" checked"));

    let res = app
        .post_form(
            &client,
            "/patients",
            &token,
            &[
                ("given_name", "Grace"),
                ("family_name", "Hopper"),
                ("date_of_birth", "1985-12-10"),
                ("sex", "female"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/patients/") && location.ends_with("?created=1"));
    let page = app.get(&client, &location).await.text().await.unwrap();
    assert!(page.contains("Grace Hopper") && page.contains("The patient is registered."));
    let list = app
        .get(&client, "/patients?q=hop")
        .await
        .text()
        .await
        .unwrap();
    assert!(list.contains("Hopper, Grace"));
}

async fn every_response_carries_the_security_headers(app: &TestApp) {
    for path in [
        "/login",
        "/healthz",
        "/api/v1/patients",
        "/no-such-page",
        "/static/app.css",
    ] {
        let res = reqwest::get(app.url(path)).await.unwrap();
        let h = res.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"),
            "{path}"
        );
        assert!(!csp.contains("unsafe-inline"), "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
    }
    let res = reqwest::get(app.url("/no-such-page")).await.unwrap();
    assert_eq!(res.status(), 404);
    assert!(res.text().await.unwrap().contains("Page not found"));
}

async fn reading_aids_are_remembered(app: &TestApp) {
    let client = TestApp::browser();
    let token = app.csrf(&client, "/login").await;
    let res = app
        .post_form(
            &client,
            "/display",
            &token,
            &[
                ("text", "largest"),
                ("contrast", "high"),
                ("return_to", "/login"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/login");
    let page = app.get(&client, "/login").await.text().await.unwrap();
    assert!(
        page.contains("class=\"text-largest contrast-high\""),
        "{page}"
    );
    let res = app
        .post_form(
            &client,
            "/display",
            &token,
            &[("text", "larger"), ("return_to", "https://evil.example/")],
        )
        .await;
    assert_eq!(res.headers()["location"], "/");
}

async fn api_tokens_are_made_on_the_account_page(app: &TestApp) {
    app.user("p@example.org", Role::Prescriber).await;
    let client = app.signed_in("p@example.org").await;
    let token = app.csrf(&client, "/account").await;
    let page = app
        .post_form(
            &client,
            "/account/tokens",
            &token,
            &[("label", "reporting")],
        )
        .await
        .text()
        .await
        .unwrap();
    let marker = "id=\"new-token\" class=\"mono\" type=\"text\" readonly value=\"";
    let start = page.find(marker).expect("the new token is shown") + marker.len();
    let secret = &page[start..start + 67];
    let res = reqwest::Client::new()
        .get(app.url("/api/v1/patients"))
        .bearer_auth(secret)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let again = app.get(&client, "/account").await.text().await.unwrap();
    assert!(!again.contains(secret), "the secret is shown only once");
    assert!(again.contains("reporting"));
}

crate::on_both!(
    sign_in_sets_a_strict_http_only_cookie_and_sign_out_ends_it,
    cookies_are_secure_behind_a_tls_proxy,
    forms_without_the_right_token_are_refused,
    wrong_passwords_get_one_generic_message_and_five_lock_the_account,
    front_desk_sees_the_directory_but_not_administration,
    admins_manage_accounts_but_not_patients,
    an_invalid_patient_form_comes_back_with_messages_and_values,
    every_response_carries_the_security_headers,
    reading_aids_are_remembered,
    api_tokens_are_made_on_the_account_page,
);

#[tokio::test]
async fn demo_accounts_work_only_in_demo_mode() {
    for demo in [true, false] {
        let app = TestApp::spawn_with(store::Backend::Sqlite, demo).await;
        let now = jiff::Timestamp::now();
        app.db
            .store
            .seed_demo(now, "2026-11-23".parse().unwrap())
            .await
            .unwrap();
        let client = TestApp::browser();
        let login = app.get(&client, "/login").await.text().await.unwrap();
        assert_eq!(login.contains("Demo accounts"), demo);
        let token = form_token(&login);
        let res = app
            .post_form(
                &client,
                "/login",
                &token,
                &[
                    ("email", "frontdesk@example.org"),
                    ("password", store::DEMO_PASSWORD),
                ],
            )
            .await;
        assert_eq!(
            res.status(),
            if demo { 303 } else { 401 },
            "demo mode {demo}"
        );
        if demo {
            // The seed's scores were entered by no staff member: the table says "the system"
            // as the other record pages do (it said "Staff (name not recorded)").
            let nurse = TestApp::browser();
            let login = app.get(&nurse, "/login").await.text().await.unwrap();
            let res = app
                .post_form(
                    &nurse,
                    "/login",
                    &form_token(&login),
                    &[
                        ("email", "nurse@example.org"),
                        ("password", store::DEMO_PASSWORD),
                    ],
                )
                .await;
            assert_eq!(res.status(), 303);
            let list = app.get(&nurse, "/patients").await.text().await.unwrap();
            let marker = "href=\"/patients/";
            let ids: Vec<&str> = list
                .match_indices(marker)
                .map(|(i, m)| &list[i + m.len()..i + m.len() + 36])
                .collect();
            let mut seen = false;
            for id in ids {
                let page = app
                    .get(&nurse, &format!("/patients/{id}"))
                    .await
                    .text()
                    .await
                    .unwrap();
                assert!(!page.contains("name not recorded"), "{page}");
                seen |= page.contains("<td>the system</td>");
            }
            assert!(seen, "a demo patient's scores say who entered them");
        }
        app.finish().await;
    }
}
