//! The clinic-fit points (issue 9) as staff meet them in the pages: the patient directory,
//! contact details, the patient banner.

use store::Role;

use crate::support::TestApp;

async fn directory_search_duplicates_and_contact_details(app: &TestApp) {
    app.user("desk@example.org", Role::FrontDesk).await;
    let client = app.signed_in("desk@example.org").await;
    let marlow = app
        .register(&client, "Marlow", "Ashgrove", "1985-03-14")
        .await;
    app.register(&client, "Zoë", "Nguyễn", "1990-11-02").await;

    for (q, expect) in [
        ("Marlow+Ashgrove", "Ashgrove, Marlow"),
        ("Ashgrove%2C+Marlow", "Ashgrove, Marlow"),
        ("zoe", "Nguyễn, Zoë"),
        ("Nguyen", "Nguyễn, Zoë"),
        ("1985-03-14", "Ashgrove, Marlow"),
        ("03%2F14%2F1985", "Ashgrove, Marlow"),
    ] {
        let html = app
            .get(&client, &format!("/patients?q={q}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(html.contains(expect), "search {q} finds {expect}");
        assert!(html.contains("1 patient matching"), "search {q} finds one");
    }

    // The same name (accents aside) and birth date: a warning that links to the record, and
    // nothing registered until the person confirms it is someone else.
    let token = app.csrf(&client, "/patients/new").await;
    let twin = [
        ("given_name", "MARLOW"),
        ("family_name", "ashgrove"),
        ("date_of_birth", "1985-03-14"),
        ("sex", "male"),
    ];
    let res = app.post_form(&client, "/patients", &token, &twin).await;
    assert_eq!(res.status(), 409);
    let html = res.text().await.unwrap();
    assert!(html.contains("This person may already be registered"));
    assert!(html.contains(&format!("href=\"/patients/{marlow}\"")));
    assert!(html.contains("value=\"MARLOW\""), "what was typed is kept");
    let listed = app
        .get(&client, "/patients?q=ashgrove")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        listed.contains("1 patient matching"),
        "nothing registered yet"
    );
    let mut confirmed = twin.to_vec();
    confirmed.push(("different_person", "yes"));
    let res = app
        .post_form(&client, "/patients", &token, &confirmed)
        .await;
    assert_eq!(res.status(), 303);
    let listed = app
        .get(&client, "/patients?q=ashgrove")
        .await
        .text()
        .await
        .unwrap();
    assert!(listed.contains("2 patients matching"));

    // Contact details: each problem at its field in the form's words, nothing stored changes;
    // then saved, shown, and audited by field name only.
    let path = format!("/patients/{marlow}/contact");
    let token = app.csrf(&client, &path).await;
    let res = app
        .post_form(
            &client,
            &path,
            &token,
            &[
                ("phone", "555 0100 300"),
                ("emergency_contact_name", "Jo Ashgrove (sister)"),
                ("emergency_contact_phone", "her mobile"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("Emergency contact phone &#39;her mobile&#39; is not a telephone number"),
        "{html}"
    );
    assert!(
        html.contains("value=\"Jo Ashgrove (sister)\""),
        "typed values kept"
    );
    let page = app
        .get(&client, &format!("/patients/{marlow}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !page.contains("555 0100 300"),
        "nothing stored from a refused form"
    );

    let res = app
        .post_form(
            &client,
            &path,
            &token,
            &[
                ("phone", "555 0100 300"),
                ("address", "12 Elm St\r\nSpringfield IL"),
                ("emergency_contact_name", "Jo Ashgrove (sister)"),
                ("emergency_contact_phone", "555 0100 301"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"],
        format!("/patients/{marlow}?updated=1").as_str()
    );
    let page = app
        .get(&client, &format!("/patients/{marlow}?updated=1"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("The contact details are saved."));
    assert!(page.contains("12 Elm St\nSpringfield IL"));
    assert!(page.contains("Jo Ashgrove (sister), 555 0100 301"));
    assert!(page.contains("class=\"patient-banner\""));
    assert!(page.contains("Last changed"));
    let form = app.get(&client, &path).await.text().await.unwrap();
    assert!(
        form.contains(
            "<td>telephone, postal address, emergency contact, emergency contact phone</td>"
        ),
        "the contact page lists the change with its fields"
    );
    let update = app
        .audit()
        .await
        .into_iter()
        .find(|e| e.action == "patient.update")
        .expect("the change is audited");
    assert_eq!(update.patient_id.as_deref(), Some(marlow.as_str()));
    assert_eq!(
        update.detail.as_deref(),
        Some("fields=phone,address,emergency_contact_name,emergency_contact_phone")
    );
}

async fn the_banner_counts_open_alerts_for_clinicians_only(app: &TestApp) {
    app.user("desk@example.org", Role::FrontDesk).await;
    app.user("nurse@example.org", Role::Nurse).await;
    let desk = app.signed_in("desk@example.org").await;
    let id = app.register(&desk, "Ana", "Ortiz", "1980-05-05").await;
    let desk_page = app
        .get(&desk, &format!("/patients/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(desk_page.contains("Record number"));
    assert!(
        !desk_page.contains("Safety alerts</dt>"),
        "front desk sees no clinical counts"
    );
    let nurse = app.signed_in("nurse@example.org").await;
    let nurse_page = app
        .get(&nurse, &format!("/patients/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(nurse_page.contains("<dt>Safety alerts</dt><dd>none open</dd>"));
}

crate::on_both!(
    directory_search_duplicates_and_contact_details,
    the_banner_counts_open_alerts_for_clinicians_only,
);

/// Signs in with `password` and returns the client and where the sign-in sent it.
async fn sign_in(app: &TestApp, email: &str, password: &str) -> (reqwest::Client, u16, String) {
    let client = TestApp::browser();
    let token = app.csrf(&client, "/login").await;
    let res = app
        .post_form(
            &client,
            "/login",
            &token,
            &[("email", email), ("password", password), ("next", "/")],
        )
        .await;
    let status = res.status().as_u16();
    let location = res
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (client, status, location)
}

async fn admins_switch_off_change_roles_unlock_and_reset_passwords(app: &TestApp) {
    let admin_user = app.user("admin@example.org", Role::Admin).await;
    let nurse = app.user("nurse@example.org", Role::Nurse).await;
    let admin = app.signed_in("admin@example.org").await;
    let nurse_client = app.signed_in("nurse@example.org").await;
    let manage = format!("/admin/users/{}", nurse.id);
    let list = app.get(&admin, "/admin/users").await.text().await.unwrap();
    assert!(list.contains(&format!("href=\"{manage}\"")));

    // Switched off: the open session ends at once; switched on again, sign-in works.
    let token = app.csrf(&admin, &manage).await;
    let res = app
        .post_form(&admin, &format!("{manage}/disable"), &token, &[])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"],
        format!("{manage}?done=disable").as_str()
    );
    assert_eq!(
        app.get(&nurse_client, "/patients").await.status(),
        303,
        "session ended"
    );
    let page = app.get(&admin, &manage).await.text().await.unwrap();
    assert!(page.contains("Switched off"));
    let (_, status, _) = sign_in(app, "nurse@example.org", crate::support::PASSWORD).await;
    assert_eq!(status, 401, "a switched-off account cannot sign in");
    app.post_form(&admin, &format!("{manage}/enable"), &token, &[])
        .await;
    let (_, status, _) = sign_in(app, "nurse@example.org", crate::support::PASSWORD).await;
    assert_eq!(status, 303);

    // A role change applies to the next page.
    let res = app
        .post_form(
            &admin,
            &format!("{manage}/role"),
            &token,
            &[("role", "front_desk")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let nurse_client = app.signed_in("nurse@example.org").await;
    let page = app
        .get(&nurse_client, "/patients")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !page.contains("Safety alerts:"),
        "front desk sees no clinical navigation"
    );
    let res = app
        .post_form(
            &admin,
            &format!("{manage}/role"),
            &token,
            &[("role", "pilot")],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Choose a role from the list.")
    );

    // Locked by wrong passwords: the list says until when; unlocking lets the person in.
    for _ in 0..5 {
        sign_in(app, "nurse@example.org", "not the password at all").await;
    }
    let list = app.get(&admin, "/admin/users").await.text().await.unwrap();
    assert!(list.contains("Locked until"), "{list}");
    let (_, status, _) = sign_in(app, "nurse@example.org", crate::support::PASSWORD).await;
    assert_eq!(status, 401, "locked");
    let res = app
        .post_form(&admin, &format!("{manage}/unlock"), &token, &[])
        .await;
    assert_eq!(res.status(), 303);
    let (_, status, _) = sign_in(app, "nurse@example.org", crate::support::PASSWORD).await;
    assert_eq!(status, 303, "unlocked");

    // Reset: a short temporary password is refused at its field; a good one ends sessions,
    // and the person must choose a new password before any page or API call.
    let res = app
        .post_form(
            &admin,
            &format!("{manage}/password"),
            &token,
            &[("temporary_password", "short")],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("use at least 12"));
    let res = app
        .post_form(
            &admin,
            &format!("{manage}/password"),
            &token,
            &[("temporary_password", "temporary pass 2026")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        app.get(&nurse_client, "/patients").await.status(),
        303,
        "session ended"
    );
    let (old, status, _) = sign_in(app, "nurse@example.org", crate::support::PASSWORD).await;
    assert_eq!(status, 401, "the old password is gone");
    drop(old);
    let (client, status, _) = sign_in(app, "nurse@example.org", "temporary pass 2026").await;
    assert_eq!(status, 303);
    let res = app.get(&client, "/patients").await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/account/password");
    let form = app
        .get(&client, "/account/password")
        .await
        .text()
        .await
        .unwrap();
    assert!(form.contains("An administrator reset your password"));
    let token = crate::support::form_token(&form);
    let res = app
        .post_form(
            &client,
            "/account/password",
            &token,
            &[
                ("current_password", "temporary pass 2026"),
                ("new_password", "my own new password"),
                ("confirm_password", "my own new passwrod"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("The two new passwords differ")
    );
    let res = app
        .post_form(
            &client,
            "/account/password",
            &token,
            &[
                ("current_password", "temporary pass 2026"),
                ("new_password", "my own new password"),
                ("confirm_password", "my own new password"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(app.get(&client, "/patients").await.status(), 200);
    let (_, status, _) = sign_in(app, "nurse@example.org", "my own new password").await;
    assert_eq!(status, 303);

    // An administrator cannot switch off or demote themselves.
    let own = format!("/admin/users/{}", admin_user.id);
    let res = app
        .post_form(
            &admin,
            &format!("{own}/disable"),
            &token_of(app, &admin, &own).await,
            &[],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("You cannot switch off your own account")
    );
    // Nor reset their own password here, which asks for no current password: the page
    // sends them to their account page instead, and a post is refused with the same words.
    let page = app.get(&admin, &own).await.text().await.unwrap();
    assert!(!page.contains(&format!("{own}/password")), "{page}");
    assert!(page.contains("href=\"/account/password\""), "{page}");
    let res = app
        .post_form(
            &admin,
            &format!("{own}/password"),
            &token_of(app, &admin, &own).await,
            &[("temporary_password", "a takeover password 2026")],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Your own password is changed under Account")
    );
    assert_eq!(app.get(&admin, &own).await.status(), 200, "still signed in");
    let (_, status, _) = sign_in(app, "admin@example.org", "a takeover password 2026").await;
    assert_ne!(status, 303, "the password did not change");

    let actions: Vec<String> = app.audit().await.into_iter().map(|e| e.action).collect();
    for expected in [
        "user.disable",
        "user.enable",
        "user.role_change",
        "user.unlock",
        "user.password_reset",
        "user.password_change",
    ] {
        assert!(actions.iter().any(|a| a == expected), "{expected} audited");
    }
}

async fn token_of(app: &TestApp, client: &reqwest::Client, path: &str) -> String {
    app.csrf(client, path).await
}

/// This story signs in more often than the per-address limit allows in a minute.
async fn roomy(backend: store::Backend) -> TestApp {
    TestApp::spawn_full(
        backend,
        false,
        web::Limits {
            sign_in_per_minute: 200,
            ..web::Limits::default()
        },
    )
    .await
}

#[tokio::test]
async fn account_administration_sqlite() {
    let app = roomy(store::Backend::Sqlite).await;
    admins_switch_off_change_roles_unlock_and_reset_passwords(&app).await;
    app.finish().await;
}

#[tokio::test]
async fn account_administration_postgres() {
    let app = roomy(store::Backend::Postgres).await;
    admins_switch_off_change_roles_unlock_and_reset_passwords(&app).await;
    app.finish().await;
}

async fn the_audit_trail_filters_pages_and_speaks_in_words(app: &TestApp) {
    app.user("admin@example.org", Role::Admin).await;
    let nurse = app.user("nurse@example.org", Role::Nurse).await;
    app.user("desk@example.org", Role::FrontDesk).await;
    let desk = app.signed_in("desk@example.org").await;
    let id = app.register(&desk, "Ana", "Ortiz", "1980-05-05").await;
    let nurse_client = app.signed_in("nurse@example.org").await;
    for _ in 0..105 {
        assert_eq!(
            app.get(&nurse_client, &format!("/patients/{id}"))
                .await
                .status(),
            200
        );
    }
    let admin = app.signed_in("admin@example.org").await;
    let page = app.get(&admin, "/admin/audit").await.text().await.unwrap();
    assert!(page.contains("read a patient record"), "actions in words");
    assert!(page.contains("signed in"));
    assert!(page.contains(" CST</td>"), "times carry their zone: {page}");
    assert!(page.contains("America/Chicago"));

    // Filter by person and action; the older page keeps the filters.
    let q = format!("/admin/audit?person={}&action=patient.read", nurse.id);
    let page = app.get(&admin, &q).await.text().await.unwrap();
    assert!(page.contains("100 events matching the filters"), "{page}");
    assert!(!page.contains("<td>registered a patient</td>"));
    let older = page
        .split("href=\"/admin/audit?")
        .find(|s| s.contains("before="))
        .and_then(|s| s.split('"').next())
        .expect("an older page")
        .replace("&amp;", "&")
        .replace("&#38;", "&");
    assert!(older.contains("action=patient.read"), "{older}");
    let page = app
        .get(&admin, &format!("/admin/audit?{older}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("5 events matching the filters"), "{page}");
    assert!(page.contains("Newest events"));

    // By patient record number, and by dates (today in the clinic's zone holds everything).
    let mrn = {
        let html = app
            .get(&desk, &format!("/patients/{id}"))
            .await
            .text()
            .await
            .unwrap();
        let at = html.find("class=\"mono\">").unwrap() + "class=\"mono\">".len();
        html[at..at + 8].to_owned()
    };
    let page = app
        .get(
            &admin,
            &format!(
                "/admin/audit?patient={}&action=patient.create",
                mrn.to_lowercase()
            ),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("1 event matching the filters"), "{page}");
    let today = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::get("America/Chicago").unwrap())
        .date();
    let page = app
        .get(
            &admin,
            &format!("/admin/audit?from={today}&to={today}&action=patient.create"),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("1 event matching the filters"));
    let tomorrow = today.tomorrow().unwrap();
    let page = app
        .get(&admin, &format!("/admin/audit?from={tomorrow}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("0 events matching the filters"));

    // Bad filters: a message at the field, never a bare 400.
    let res = app
        .get(
            &admin,
            "/admin/audit?from=yesterday&patient=K0000000&action=nonsense&before=x",
        )
        .await;
    assert_eq!(res.status(), 422);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("From &#39;yesterday&#39; is not a date"),
        "{page}"
    );
    assert!(page.contains("No patient at this site has the record number"));
    assert!(page.contains("Choose an action from the list."));
    let res = app
        .get(&admin, &format!("/admin/audit?from={tomorrow}&to={today}"))
        .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("is before From"));
    // An address that does not parse is said, never ignored.
    let res = app.get(&admin, "/admin/audit?before=x").await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("The page position in the address is damaged")
    );
    let res = app.get(&admin, "/admin/audit?to=9999-12-31").await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("outside the dates the trail can hold")
    );
}

crate::on_both!(the_audit_trail_filters_pages_and_speaks_in_words);

async fn a_clinicians_start_page_shows_todays_work(app: &TestApp) {
    app.user("desk@example.org", Role::FrontDesk).await;
    app.user("nurse@example.org", Role::Nurse).await;
    let desk = app.signed_in("desk@example.org").await;
    let recent = app.register(&desk, "Rhea", "Calder", "1979-02-02").await;
    let old = app.register(&desk, "Otto", "Brand", "1960-06-06").await;
    let token = app.token(Role::Nurse).await;
    let client = reqwest::Client::new();
    let baseline = |id: &str, days_ago: i64| {
        let at = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24 * days_ago);
        client
            .post(app.url(&format!("/api/v1/patients/{id}/assessments")))
            .bearer_auth(&token)
            .json(
                &serde_json::json!({"instrument": "gad7", "answers": [1, 1, 1, 1, 1, 1, 1],
                                      "time_point": "baseline", "administered_at": at.to_string()}),
            )
            .send()
    };
    let late = app.register(&desk, "Mae", "Lorn", "1985-03-03").await;
    assert_eq!(baseline(&recent, 9).await.unwrap().status(), 201);
    assert_eq!(baseline(&old, 120).await.unwrap().status(), 201);
    // Week 1's window (9 to 3 days ago) closed without an assessment; week 2's is open.
    assert_eq!(baseline(&late, 16).await.unwrap().status(), 201);

    let nurse = app.signed_in("nurse@example.org").await;
    let home = app.get(&nurse, "/").await.text().await.unwrap();
    assert!(home.contains("Assessments due"), "{home}");
    let (due, missed) = home
        .split_once("<h3>Missed</h3>")
        .expect("the start page counts missed assessments");
    let row = due
        .split("<tr>")
        .find(|r| r.contains("Rhea Calder"))
        .expect("the recent patient's weekly assessment is due");
    assert!(row.contains("GAD-7") && row.contains("Weekly"), "{row}");
    // One click opens the form on that instrument and time point.
    assert!(
        row.contains(&format!(
            "href=\"/patients/{recent}/assessments/new?instrument=gad7&#38;time_point=weekly\""
        )),
        "{row}"
    );
    assert!(!missed.contains("Rhea Calder"), "{missed}");
    assert!(
        !home.contains("Otto Brand"),
        "a plan that ended long ago is not today's work"
    );
    // A window that closed is not work for today (nothing taken now would count for it): it
    // is counted among the missed, and the open one is listed as due.
    let baseline_date = (jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24 * 16))
        .to_zoned(jiff::tz::TimeZone::get("America/Chicago").unwrap())
        .date();
    let week = |days: i64| baseline_date + jiff::Span::new().days(days);
    let missed_row = missed
        .split("<tr>")
        .find(|r| r.contains("Mae Lorn"))
        .expect("the missed week is counted");
    assert!(
        missed_row.contains("<td>1</td>")
            && missed_row.contains(&format!("GAD-7 Weekly, {} to {}", week(7), week(13))),
        "{missed_row}"
    );
    let due_row = due
        .split("<tr>")
        .find(|r| r.contains("Mae Lorn"))
        .expect("the open week is due");
    assert!(
        due_row.contains(&format!("{} to {}", week(14), week(20))),
        "{due_row}"
    );
    // Taken today, the weekly assessment clears what is due; the missed week stays missed.
    let weekly = client
        .post(app.url(&format!("/api/v1/patients/{late}/assessments")))
        .bearer_auth(&token)
        .json(
            &serde_json::json!({"instrument": "gad7", "answers": [0, 0, 0, 0, 0, 0, 0],
                                  "time_point": "weekly"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(weekly.status(), 201);
    let home = app.get(&nurse, "/").await.text().await.unwrap();
    let (due, missed) = home.split_once("<h3>Missed</h3>").unwrap();
    assert!(!due.contains("Mae Lorn"), "{due}");
    assert!(missed.contains("Mae Lorn"), "{missed}");
    // Without a treatment course, the record's own list follows the default plan and says so.
    let record = app
        .get(&nurse, &format!("/patients/{recent}"))
        .await
        .text()
        .await
        .unwrap();
    let due = record
        .split("<h3>What is due</h3>")
        .nth(1)
        .expect("the record says what is due");
    assert!(
        due.contains("By Ketaflow&#39;s default plan (baseline, then weekly for 8 weeks)"),
        "{due}"
    );
    assert!(due.contains("<td>GAD-7</td><td>Weekly</td>"), "{due}");
    assert!(
        !home.contains("API tokens for scripts"),
        "the tokens card is gone"
    );
    let read = app.audit().await.into_iter().any(|e| {
        e.action == "assessment.list"
            && e.detail
                .as_deref()
                .is_some_and(|d| d.contains("scope=site"))
    });
    assert!(read, "the site-wide read is audited");

    let desk_home = app.get(&desk, "/").await.text().await.unwrap();
    assert!(
        !desk_home.contains("Assessments due"),
        "front desk sees no clinical work"
    );
}

crate::on_both!(a_clinicians_start_page_shows_todays_work);

async fn self_report_links_are_made_once_listed_and_revoked(app: &TestApp) {
    app.user("desk@example.org", Role::FrontDesk).await;
    app.user("nurse@example.org", Role::Nurse).await;
    let desk = app.signed_in("desk@example.org").await;
    let id = app.register(&desk, "Lena", "Hart", "1991-09-09").await;
    let nurse = app.signed_in("nurse@example.org").await;
    let page_path = format!("/patients/{id}");
    let token = app.csrf(&nurse, &page_path).await;
    let res = app
        .post_form(
            &nurse,
            &format!("/patients/{id}/links"),
            &token,
            &[("instrument", "phq9"), ("time_point", "weekly")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(to, format!("/patients/{id}?link=new"));
    let shown = app.get(&nurse, &to).await.text().await.unwrap();
    assert!(shown.contains("id=\"new-link\""), "the new link is shown");
    assert!(shown.contains("<svg"), "with a QR code");
    assert!(shown.contains("aria-label=\"QR code of the self-report link\""));
    assert!(
        shown.contains("data-copy=\"new-link\""),
        "and a copy button"
    );
    // A reload shows it no more and makes no second link.
    let again = app.get(&nurse, &to).await.text().await.unwrap();
    assert!(!again.contains("id=\"new-link\""));
    assert_eq!(
        again.matches("/revoke\"").count(),
        1,
        "one open link listed"
    );
    assert!(again.contains("Open self-report links"));
    // The link page's own address leads to the patient's page, not a bare 405.
    let res = app.get(&nurse, &format!("/patients/{id}/links")).await;
    assert_eq!(res.status(), 303);

    let marker = "id=\"new-link\" class=\"mono link-field\" type=\"text\" readonly value=\"";
    let start = shown.find(marker).unwrap() + marker.len();
    let url = shown[start..].split('"').next().unwrap().to_owned();
    let patient_path = url.strip_prefix(&app.base).unwrap().to_owned();
    assert_eq!(
        app.get(&TestApp::browser(), &patient_path).await.status(),
        200
    );

    // Revoked: gone from the list, and the patient's link no longer opens the questions.
    let action = again
        .split("action=\"")
        .find(|s| s.contains("/revoke\""))
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_owned();
    let res = app.post_form(&nurse, &action, &token, &[]).await;
    assert_eq!(res.status(), 303);
    let after = app
        .get(&nurse, &format!("/patients/{id}?link=revoked"))
        .await
        .text()
        .await
        .unwrap();
    assert!(after.contains("The link is revoked"));
    assert!(!after.contains("Open self-report links"));
    let res = app.get(&TestApp::browser(), &patient_path).await;
    assert_eq!(res.status(), 410);
    assert!(res.text().await.unwrap().contains("withdrawn"));
    let res = app.post_form(&nurse, &action, &token, &[]).await;
    assert!(
        res.headers()["location"]
            .to_str()
            .unwrap()
            .contains("link=gone")
    );
    assert!(
        app.audit()
            .await
            .iter()
            .any(|e| e.action == "self_report_link.revoke"
                && e.patient_id.as_deref() == Some(id.as_str()))
    );
}

crate::on_both!(self_report_links_are_made_once_listed_and_revoked);

async fn assessments_refuse_a_second_baseline_and_ask_about_repeats(app: &TestApp) {
    app.user("desk@example.org", Role::FrontDesk).await;
    app.user("nurse@example.org", Role::Nurse).await;
    let desk = app.signed_in("desk@example.org").await;
    let id = app.register(&desk, "Ivo", "Sand", "1984-04-04").await;
    let nurse = app.signed_in("nurse@example.org").await;
    let form = format!("/patients/{id}/assessments/new?instrument=phq9");
    let html = app.get(&nurse, &form).await.text().await.unwrap();
    assert!(html.contains("class=\"answer-grid\""), "a compact grid");
    assert!(html.contains("data-total-base=\"0\""));
    assert!(html.contains("data-points=\"3\""));
    assert!(html.contains("Total so far: <output id=\"running-total\""));
    let token = crate::support::form_token(&html);
    let post = |answers: [&'static str; 9], extra: Vec<(&'static str, String)>| {
        let mut body: Vec<(String, String)> = vec![
            ("instrument".into(), "phq9".into()),
            ("time_point".into(), "baseline".into()),
        ];
        for (i, a) in answers.iter().enumerate() {
            body.push((format!("item{}", i + 1), (*a).into()));
        }
        for (k, v) in extra {
            body.retain(|(name, _)| name != k);
            body.push((k.into(), v));
        }
        let fields: Vec<(String, String)> = body;
        let (app, nurse, token, id) = (app, nurse.clone(), token.clone(), id.clone());
        async move {
            let refs: Vec<(&str, &str)> = fields
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            app.post_form(
                &nurse,
                &format!("/patients/{id}/assessments"),
                &token,
                &refs,
            )
            .await
        }
    };
    let first = ["3", "3", "2", "2", "2", "2", "2", "2", "0"];
    assert_eq!(post(first, vec![]).await.status(), 303);
    // A second baseline: refused at the time point, with a reason field offered.
    let res = post(["1", "1", "1", "1", "1", "1", "1", "1", "0"], vec![]).await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("PHQ-9 already has a baseline"), "{html}");
    assert!(html.contains("id=\"rebaseline_reason\""));
    assert!(
        html.contains("Total so far: <output id=\"running-total\" aria-live=\"polite\">8</output>"),
        "the total shows on review"
    );
    let res = post(
        ["1", "1", "1", "1", "1", "1", "1", "1", "0"],
        vec![("rebaseline_reason", "restarting after a break".into())],
    )
    .await;
    assert_eq!(res.status(), 303);
    // The same answers again moments later: asked to confirm.
    let weekly = ["1", "0", "1", "0", "1", "0", "1", "0", "0"];
    let as_weekly = || vec![("time_point", "weekly".to_owned())];
    assert_eq!(post(weekly, as_weekly()).await.status(), 303);
    let res = post(weekly, as_weekly()).await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("The same PHQ-9 answers were recorded"));
    assert!(html.contains("id=\"repeat_confirmed\""));
    let mut confirmed = as_weekly();
    confirmed.push(("repeat_confirmed", "yes".into()));
    assert_eq!(post(weekly, confirmed).await.status(), 303);

    // A baseline link is refused once a baseline exists (the patient's answers are never
    // refused after they are given).
    let res = app
        .post_form(
            &nurse,
            &format!("/patients/{id}/links"),
            &token,
            &[("instrument", "phq9"), ("time_point", "baseline")],
        )
        .await;
    assert_eq!(res.status(), 422);
    let page = res.text().await.unwrap();
    assert!(page.contains("PHQ-9 already has a baseline, taken"));
    // Said at the time point, whose list keeps the baseline chosen.
    assert!(
        page.contains("id=\"link-time-point-error\"")
            && page.contains("aria-describedby=\"link-time-point-error\"")
            && page.contains("<option value=\"baseline\" selected>"),
        "{page}"
    );

    // The API says the same with 409 and the field.
    let token = app.token(Role::Nurse).await;
    let res = reqwest::Client::new()
        .post(app.url(&format!("/api/v1/patients/{id}/assessments")))
        .bearer_auth(&token)
        .json(&serde_json::json!({"instrument": "phq9", "answers": [0, 0, 0, 0, 0, 0, 0, 0, 0], "time_point": "baseline"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 409);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "baseline_exists", "{body}");
    assert_eq!(body["error"]["field"], "time_point");
}

async fn remission_is_not_declared_while_a_safety_alert_is_open(app: &TestApp) {
    app.user("desk@example.org", Role::FrontDesk).await;
    app.user("nurse@example.org", Role::Nurse).await;
    let desk = app.signed_in("desk@example.org").await;
    let id = app.register(&desk, "Noor", "Vale", "1988-08-08").await;
    let token = app.token(Role::Nurse).await;
    let client = reqwest::Client::new();
    let post = |body: serde_json::Value| {
        client
            .post(app.url(&format!("/api/v1/patients/{id}/assessments")))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let earlier = (jiff::Timestamp::now() - jiff::SignedDuration::from_hours(3)).to_string();
    let res = post(
        serde_json::json!({"instrument": "phq9", "answers": [3, 3, 3, 2, 2, 2, 2, 2, 0],
                                      "time_point": "baseline", "administered_at": earlier}),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 201);
    // Same day, a low total with item 9 answered: remission by the number, and an alert.
    let res = post(
        serde_json::json!({"instrument": "phq9", "answers": [0, 0, 0, 0, 0, 0, 0, 0, 1],
                                      "time_point": "after_session_2h"}),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 201);
    let nurse = app.signed_in("nurse@example.org").await;
    let page = app
        .get(&nurse, &format!("/patients/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!page.contains("Remission: yes"), "{page}");
    assert!(page.contains("Remission: not declared while a safety alert is open"));
    assert!(page.contains("A safety alert is open (raised"));
    assert!(page.contains("Judged on these two scores"));
}

crate::on_both!(
    assessments_refuse_a_second_baseline_and_ask_about_repeats,
    remission_is_not_declared_while_a_safety_alert_is_open,
);

async fn a_plan_opened_from_a_record_says_whose_it_is(app: &TestApp) {
    app.user("desk@example.org", Role::FrontDesk).await;
    app.user("nurse@example.org", Role::Nurse).await;
    let desk = app.signed_in("desk@example.org").await;
    let id = app.register(&desk, "Pia", "Lund", "1975-05-05").await;
    let nurse = app.signed_in("nurse@example.org").await;
    let record = app
        .get(&nurse, &format!("/patients/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(record.contains(&format!("href=\"/planner?patient={id}\"")));
    let page = app
        .get(&nurse, &format!("/planner?patient={id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Dose planner for Pia Lund"));
    assert!(page.contains("No weight is recorded for this patient yet"));
    assert!(
        page.contains(
            "id=\"weight\" name=\"weight\" type=\"text\" inputmode=\"decimal\" value=\"\""
        ),
        "no stranger's weight"
    );
    assert!(
        !page.contains("<svg"),
        "nothing planned before the form is sent"
    );
    let res = app
        .get(
            &nurse,
            &format!("/planner?patient={id}&weight=60&weight_unit=kg&model=kamp2020&route=iv_infusion&mg_per_kg=0.5&duration_min=40"),
        )
        .await;
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(page.contains("Dose planner for Pia Lund") && page.contains("30.0 mg"));
    assert!(
        app.audit()
            .await
            .iter()
            .any(|e| e.action == "patient.read" && e.patient_id.as_deref() == Some(id.as_str()))
    );
}

crate::on_both!(a_plan_opened_from_a_record_says_whose_it_is);

async fn weights_and_heights_are_kept_and_the_planner_starts_from_the_latest(app: &TestApp) {
    app.user("desk@example.org", Role::FrontDesk).await;
    app.user("nurse@example.org", Role::Nurse).await;
    let desk = app.signed_in("desk@example.org").await;
    let id = app.register(&desk, "Bo", "Lind", "1970-07-07").await;
    let nurse = app.signed_in("nurse@example.org").await;
    let path = format!("/patients/{id}/body");
    let token = app.csrf(&nurse, &path).await;
    let res = app
        .post_form(
            &nurse,
            &path,
            &token,
            &[
                ("weight", "11"),
                ("weight_unit", "stone"),
                ("height", "5ft"),
                ("height_unit", "cm"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("Choose kg or lb for the weight unit")
            && html.contains("Height must be a number"),
        "{html}"
    );
    assert!(html.contains("value=\"5ft\""), "typed kept");
    let res = app
        .post_form(
            &nurse,
            &path,
            &token,
            &[
                ("weight", "180"),
                ("weight_unit", "lb"),
                ("height", "70"),
                ("height_unit", "in"),
                ("measured_on", "2026-11-20"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let res = app
        .post_form(
            &nurse,
            &path,
            &token,
            &[
                ("weight", "80.2"),
                ("weight_unit", "kg"),
                ("height", ""),
                ("height_unit", "cm"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let html = app
        .get(&nurse, &format!("{path}?saved=1"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("81.6 kg (180.0 lb)") && html.contains("177.8 cm (70.0 in)"),
        "{html}"
    );
    assert!(html.contains("25.8 kg/m²"), "BMI from 81.6 kg and 177.8 cm");
    assert!(
        html.contains("25.4 kg/m²"),
        "today's weight with the latest height"
    );
    assert!(html.contains("The measurement is saved."));
    let plan = app
        .get(&nurse, &format!("/planner?patient={id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        plan.contains("Starting from the latest recorded weight, 80.2 kg on"),
        "{plan}"
    );
    assert!(plan.contains("name=\"weight\" type=\"text\" inputmode=\"decimal\" value=\"80.2\""));
    assert_eq!(
        app.get(&desk, &path).await.status(),
        403,
        "front desk keeps to demographics"
    );
    assert!(
        app.audit()
            .await
            .iter()
            .any(|e| e.action == "body.record" && e.patient_id.as_deref() == Some(id.as_str()))
    );
}

crate::on_both!(weights_and_heights_are_kept_and_the_planner_starts_from_the_latest);

async fn diagnoses_come_from_the_list_once_and_are_ended_not_deleted(app: &TestApp) {
    app.user("desk@example.org", Role::FrontDesk).await;
    app.user("nurse@example.org", Role::Nurse).await;
    let desk = app.signed_in("desk@example.org").await;
    let id = app.register(&desk, "Cy", "Moor", "1965-06-06").await;
    let nurse = app.signed_in("nurse@example.org").await;
    let path = format!("/patients/{id}/diagnoses");
    let html = app.get(&nurse, &path).await.text().await.unwrap();
    assert!(html.contains("<optgroup label=\"Major depressive disorder, recurrent\">"));
    assert!(
        html.contains(
            "F33.2 Major depressive disorder, recurrent, severe without psychotic features"
        )
    );
    let token = crate::support::form_token(&html);
    assert_eq!(
        app.post_form(&nurse, &path, &token, &[("code", "Z99.9")])
            .await
            .status(),
        422
    );
    assert_eq!(
        app.post_form(&nurse, &path, &token, &[("code", "F33.2")])
            .await
            .status(),
        303
    );
    let res = app
        .post_form(&nurse, &path, &token, &[("code", "f33.2")])
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("already a current diagnosis"), "{html}");
    assert!(
        html.contains("<option value=\"F33.2\" selected>"),
        "the choice stays chosen: {html}"
    );
    assert_eq!(
        app.post_form(&nurse, &path, &token, &[("code", "F41.1")])
            .await
            .status(),
        303
    );
    let html = app.get(&nurse, &path).await.text().await.unwrap();
    let marker = "name=\"diagnosis\" value=\"";
    let start = html.find(marker).unwrap() + marker.len();
    let first = html[start..].split('"').next().unwrap().to_owned();
    let res = app
        .post_form(
            &nurse,
            &format!("{path}/end"),
            &token,
            &[("diagnosis", first.as_str())],
        )
        .await;
    assert_eq!(res.status(), 303);
    let html = app.get(&nurse, &path).await.text().await.unwrap();
    assert_eq!(html.matches(">Current").count(), 1);
    assert!(html.contains("Ended ") && html.contains("by Test Person"));
    assert_eq!(app.get(&desk, &path).await.status(), 403);
    let trail = app.audit().await;
    assert!(trail.iter().any(|e| e.action == "diagnosis.add"));
    assert!(
        trail
            .iter()
            .all(|e| !e.detail.as_deref().unwrap_or("").contains("F33")),
        "no codes in the trail"
    );
}

crate::on_both!(diagnoses_come_from_the_list_once_and_are_ended_not_deleted);

async fn intake_details_are_saved_changed_and_audited(app: &TestApp) {
    app.user("desk@example.org", Role::FrontDesk).await;
    app.user("nurse@example.org", Role::Nurse).await;
    let desk = app.signed_in("desk@example.org").await;
    let id = app.register(&desk, "Ida", "Roe", "1992-09-09").await;
    let nurse = app.signed_in("nurse@example.org").await;
    let path = format!("/patients/{id}/intake");
    let html = app.get(&nurse, &path).await.text().await.unwrap();
    assert!(html.contains("Nothing is recorded yet."));
    let token = crate::support::form_token(&html);
    let res = app
        .post_form(
            &nurse,
            &path,
            &token,
            &[
                ("allergies", "latex"),
                ("no_known_allergies", "yes"),
                ("referrer_phone", "ring the office"),
                ("pregnancy", "maybe"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("keep one of the two")
            && html.contains("Referrer phone &#39;ring the office&#39; is not a telephone number"),
        "{html}"
    );
    assert!(html.contains("Choose the pregnancy status from the list"));
    assert!(html.contains(">latex</textarea>"), "typed kept");
    let res = app
        .post_form(
            &nurse,
            &path,
            &token,
            &[
                ("allergies", "penicillin: rash\nlatex"),
                ("referrer_name", "Dr Ines Vale"),
                ("referrer_practice", "Harbor Family Medicine"),
                ("referrer_phone", "555 010 0800"),
                ("pregnancy", "not_pregnant"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    // Saved again with a change: one row, the latest kept, each write audited.
    let res = app
        .post_form(
            &nurse,
            &path,
            &token,
            &[
                ("no_known_allergies", "yes"),
                ("pregnancy", "not_applicable"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let html = app
        .get(&nurse, &format!("{path}?saved=1"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("The intake details are saved.") && html.contains("by Test Person"));
    assert!(
        html.contains(
            "id=\"no_known_allergies\" name=\"no_known_allergies\" value=\"yes\" checked"
        )
    );
    assert!(html.contains("value=\"not_applicable\" selected"));
    // Each change is listed with who made it and which fields it touched.
    assert!(html.contains("<td>Test Person</td><td>allergies, referring clinician, referring practice, referrer phone, pregnancy status</td>"), "{html}");
    assert!(html.contains("<td>Test Person</td><td>first saved</td>"));
    let res = app
        .post_form(
            &nurse,
            &path,
            &token,
            &[
                ("no_known_allergies", "yes"),
                ("pregnancy", "not_applicable"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let html = app.get(&nurse, &path).await.text().await.unwrap();
    assert!(html.contains("<td>saved without a change</td>"));
    let updates = app
        .audit()
        .await
        .into_iter()
        .filter(|e| e.action == "intake.update")
        .count();
    assert_eq!(updates, 3);
    assert_eq!(app.get(&desk, &path).await.status(), 403);
}

crate::on_both!(intake_details_are_saved_changed_and_audited);

/// A refused REMS enrollment comes back with the date typed and the way it was submitted (the
/// date field came back empty and the list back at "Online").
async fn a_refused_rems_enrollment_keeps_what_was_typed(app: &TestApp) {
    app.user("desk.rems@example.org", Role::FrontDesk).await;
    app.user("nurse.rems@example.org", Role::Nurse).await;
    let desk = app.signed_in("desk.rems@example.org").await;
    let id = app.register(&desk, "Remy", "Kept", "1981-02-03").await;
    let nurse = app.signed_in("nurse.rems@example.org").await;
    let page = format!("/patients/{id}/courses");
    let token = app.csrf(&nurse, &page).await;
    let res = app
        .post_form(
            &nurse,
            &format!("/patients/{id}/rems"),
            &token,
            &[("enrolled_on", "2999-01-01"), ("submitted_by", "fax")],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("cannot be in the future"), "{html}");
    assert!(html.contains("value=\"2999-01-01\""), "{html}");
    assert!(html.contains("<option value=\"fax\" selected>"), "{html}");
}

crate::on_both!(a_refused_rems_enrollment_keeps_what_was_typed);
