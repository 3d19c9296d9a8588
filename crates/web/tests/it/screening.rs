//! Intake medications and trials, the contraindication screening (page and API), and the
//! prescriber's decision.

use serde_json::{Value, json};
use store::Role;

use crate::support::{TestApp, form_token};

/// The value of the first `name="row"` input after `after` in a page.
fn row_after(html: &str, after: &str) -> String {
    let from = html.find(after).expect("the row is shown");
    let marker = "name=\"row\" value=\"";
    let start = html[from..].find(marker).unwrap() + from + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

async fn medications_are_classed_ended_and_trials_counted(app: &TestApp) {
    app.user("desk@example.org", Role::FrontDesk).await;
    app.user("nurse@example.org", Role::Nurse).await;
    let desk = app.signed_in("desk@example.org").await;
    let id = app.register(&desk, "Ines", "Vale", "1980-02-02").await;
    let nurse = app.signed_in("nurse@example.org").await;
    let path = format!("/patients/{id}/medications");
    let html = app.get(&nurse, &path).await.text().await.unwrap();
    assert!(html.contains("No medication is recorded yet."));
    let token = form_token(&html);
    let post = |to: String, fields: Vec<(&'static str, &'static str)>| {
        let nurse = nurse.clone();
        let token = token.clone();
        async move { app.post_form(&nurse, &to, &token, &fields).await }
    };
    let res = post(
        path.clone(),
        vec![
            ("med_name", "Lorazepam"),
            ("med_dose", "1 mg at night"),
            ("med_class", ""),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    let res = post(
        path.clone(),
        vec![
            ("med_name", "Sertraline"),
            ("med_dose", "100 mg"),
            ("med_class", ""),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    // A bad form keeps what was typed and says what to fix at the field.
    let res = post(
        path.clone(),
        vec![
            ("med_name", ""),
            ("med_dose", "5 mg"),
            ("med_class", "opiates"),
        ],
    )
    .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("The drug name is required."));
    assert!(html.contains("id=\"med_name-error\""));
    assert!(html.contains("value=\"5 mg\""), "the dose typed is kept");
    let html = app.get(&nurse, &path).await.text().await.unwrap();
    assert!(html.contains("<strong class=\"flag\">Benzodiazepine</strong>"));
    assert!(
        html.contains("None flagged"),
        "sertraline is in no listed class"
    );

    for (drug, weeks, response, adequate) in [
        ("Sertraline", "8", "partial", "yes"),
        ("Venlafaxine", "10", "none", "yes"),
        ("Bupropion", "3", "none", ""),
    ] {
        let res = app
            .post_form(
                &nurse,
                &format!("/patients/{id}/trials"),
                &token,
                &[
                    ("trial_drug", drug),
                    ("trial_dose", "full"),
                    ("trial_weeks", weeks),
                    ("trial_response", response),
                    ("trial_adequate", adequate),
                ],
            )
            .await;
        assert_eq!(res.status(), 303, "{drug}");
    }
    let res = app
        .post_form(
            &nurse,
            &format!("/patients/{id}/trials"),
            &token,
            &[
                ("trial_drug", "X"),
                ("trial_weeks", "many"),
                ("trial_response", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("Weeks &#39;many&#39; is not a whole number"),
        "{html}"
    );
    assert!(html.contains("id=\"trial_response-error\""));
    let html = app.get(&nurse, &path).await.text().await.unwrap();
    assert!(html.contains("2 failed adequate trials counted"));

    // Ending a medication and striking a trial keep both on the record.
    let lorazepam = row_after(&html, "<td>Lorazepam</td>");
    let res = post(
        format!("{path}/end"),
        vec![("row", Box::leak(lorazepam.into_boxed_str()))],
    )
    .await;
    assert_eq!(res.status(), 303);
    let venlafaxine = row_after(&html, "<td>Venlafaxine</td>");
    let res = post(
        format!("/patients/{id}/trials/strike"),
        vec![("row", Box::leak(venlafaxine.into_boxed_str()))],
    )
    .await;
    assert_eq!(res.status(), 303);
    let html = app.get(&nurse, &path).await.text().await.unwrap();
    assert!(html.contains("Ended "));
    assert!(html.contains("Struck out "));
    assert!(html.contains("1 failed adequate trial counted"));
    assert_eq!(app.get(&desk, &path).await.status(), 403);
    let trail = app.audit().await;
    for action in [
        "medication.add",
        "medication.end",
        "trial.add",
        "trial.strike",
    ] {
        assert!(trail.iter().any(|e| e.action == action), "{action}");
    }
    assert!(
        trail
            .iter()
            .all(|e| !e.detail.as_deref().unwrap_or("").contains("orazepam")),
        "no drug names in the trail"
    );
}

crate::on_both!(medications_are_classed_ended_and_trials_counted);

async fn the_screening_reads_the_intake_and_a_prescriber_decides(app: &TestApp) {
    app.user("desk@example.org", Role::FrontDesk).await;
    app.user("nurse@example.org", Role::Nurse).await;
    app.user("doctor@example.org", Role::Prescriber).await;
    let desk = app.signed_in("desk@example.org").await;
    let id = app.register(&desk, "Mara", "Quill", "1990-03-03").await;
    let nurse = app.signed_in("nurse@example.org").await;
    let token = app.csrf(&nurse, &format!("/patients/{id}/intake")).await;
    let res = app
        .post_form(
            &nurse,
            &format!("/patients/{id}/intake"),
            &token,
            &[
                ("allergies", "Ketamine: hives"),
                ("pregnancy", "breastfeeding"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    for (name, class) in [("Zolpidem", ""), ("Phenelzine", "")] {
        let res = app
            .post_form(
                &nurse,
                &format!("/patients/{id}/medications"),
                &token,
                &[("med_name", name), ("med_dose", ""), ("med_class", class)],
            )
            .await;
        assert_eq!(res.status(), 303);
    }
    let res = app
        .post_form(
            &nurse,
            &format!("/patients/{id}/diagnoses"),
            &token,
            &[("code", "F33.3")],
        )
        .await;
    assert_eq!(res.status(), 303);

    let path = format!("/patients/{id}/screening");
    let html = app.get(&nurse, &path).await.text().await.unwrap();
    for code in [
        "ketamine_hypersensitivity",
        "breastfeeding",
        "psychotic_features",
    ] {
        assert!(
            html.contains(&format!("name=\"condition\" value=\"{code}\" checked")),
            "{code} is ticked from the record"
        );
    }
    assert!(html.contains("From the record: allergy listed: Ketamine: hives"));
    assert!(html.contains("name=\"med_class\" value=\"maoi\" checked"));
    assert!(html.contains("name=\"med_class\" value=\"non_benzodiazepine_hypnotic\" checked"));
    assert!(!html.contains("name=\"condition\" value=\"pregnancy\" checked"));

    // Bad numbers come back at their fields with every box as it was.
    let res = app
        .post_form(
            &nurse,
            &path,
            &token,
            &[
                ("condition", "dementia"),
                ("systolic", "80"),
                ("diastolic", "95"),
                ("trials", "two"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("Failed adequate trials must be a whole number"));
    assert!(html.contains("name=\"condition\" value=\"dementia\" checked"));
    assert!(
        !html.contains("name=\"condition\" value=\"breastfeeding\" checked"),
        "what was sent, not the record, is shown again"
    );
    let res = app
        .post_form(
            &nurse,
            &path,
            &token,
            &[("systolic", "80"), ("diastolic", "95")],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("The systolic pressure 80 mmHg must be higher than the diastolic 95 mmHg.")
    );
    // A reading out of range is named in the form's words, not by its field code.
    let res = app
        .post_form(
            &nurse,
            &path,
            &token,
            &[("systolic", "1"), ("diastolic", "80")],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("The systolic pressure 1 mmHg is outside 50 to 300 mmHg; check the reading."),
        "{html}"
    );
    assert!(!html.contains("_mmhg 1"), "no field code in the message");

    let res = app
        .post_form(
            &nurse,
            &path,
            &token,
            &[
                ("condition", "arteriovenous_malformation"),
                ("condition", "raised_intraocular_pressure"),
                ("systolic", "152"),
                ("diastolic", "88"),
                ("med_class", "maoi"),
                ("trials", "2"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let html = app.get(&nurse, &path).await.text().await.unwrap();
    assert!(html.contains("1 contraindication."));
    assert!(html.contains("class=\"finding absolute\"><strong>Contraindication: do not treat.</strong> Arteriovenous malformation"));
    assert!(
        html.contains(" by Test Person</h3>"),
        "the screening names who recorded it"
    );
    assert!(html.contains("Blood pressure today 152/88 mmHg is above 140/90 mmHg"));
    assert!(html.contains("MAO inhibitor: blood pressure may rise further"));
    assert!(html.contains("2 failed adequate antidepressant trials recorded: meets"));
    assert!(html.contains("Source: Spravato (esketamine) prescribing information, section 4"));
    assert!(
        !html.contains("Record the decision"),
        "a nurse sees no decision form"
    );
    assert!(
        !html.contains("/decision\""),
        "no decision action for a nurse"
    );
    let marker = "/screenings/";
    let nurse_try = app
        .post_form(
            &nurse,
            &format!("/patients/{id}/screenings/00000000-0000-7000-8000-000000000000/decision"),
            &token,
            &[("decision", "eligible"), ("reason", "looks fine to me")],
        )
        .await;
    assert_eq!(nurse_try.status(), 403, "only a prescriber decides");

    let doctor = app.signed_in("doctor@example.org").await;
    let html = app.get(&doctor, &path).await.text().await.unwrap();
    let start = html.find(marker).unwrap() + marker.len();
    let sid = html[start..].split('/').next().unwrap().to_owned();
    let decide = format!("/patients/{id}/screenings/{sid}/decision");
    let dtoken = form_token(&html);
    let res = app
        .post_form(
            &doctor,
            &decide,
            &dtoken,
            &[
                ("decision", "eligible"),
                ("reason", "Benefit outweighs the risk."),
                ("justification", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("This screening has a contraindication (arteriovenous malformation)"));
    assert!(html.contains(&format!("href=\"#justification-{sid}\"")));
    assert!(
        html.contains("Benefit outweighs the risk.</textarea>"),
        "the reason is kept"
    );
    let res = app
        .post_form(
            &doctor,
            &decide,
            &dtoken,
            &[
                ("decision", "eligible"),
                ("reason", "Benefit outweighs the risk."),
                (
                    "justification",
                    "AVM embolised in 2019; neurosurgery cleared treatment in writing.",
                ),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let html = app.get(&nurse, &path).await.text().await.unwrap();
    assert!(html.contains("<strong>Decision: Eligible.</strong> Benefit outweighs the risk."));
    assert!(html.contains("<strong>Contraindication overridden:</strong> AVM embolised in 2019"));
    // A screening of another patient is not found through this one.
    let other = app.register(&desk, "Odo", "Lark", "1970-01-01").await;
    let res = app
        .post_form(
            &doctor,
            &format!("/patients/{other}/screenings/{sid}/decision"),
            &dtoken,
            &[
                ("decision", "not_eligible"),
                ("reason", "a reason of some length"),
            ],
        )
        .await;
    assert_eq!(res.status(), 404);
    assert_eq!(app.get(&desk, &path).await.status(), 403);
    let trail = app.audit().await;
    assert!(trail.iter().any(|e| e.action == "screening.record"));
    assert!(trail.iter().any(|e| e.action == "screening.decide"
        && e.detail.as_deref() == Some("decision=eligible override=true")));
    // One recorded by a part of the system (no staff account) says so, as the session room does;
    // it named no one.
    let store = &app.db.store;
    let site = store.first_site().await.unwrap().unwrap();
    store
        .record_screening(
            &store::Actor::system("import"),
            &site.id,
            &store::PatientId::parse(&id).unwrap(),
            &clinical::screening::ScreeningInput::for_age(36),
            &[],
            jiff::Timestamp::now(),
        )
        .await
        .unwrap();
    let html = app.get(&nurse, &path).await.text().await.unwrap();
    assert!(html.contains(" by the system</h3>"), "{html}");
}

crate::on_both!(the_screening_reads_the_intake_and_a_prescriber_decides);

async fn the_screening_api_answers_findings_and_lists_them(app: &TestApp) {
    let token = app.token(Role::Nurse).await;
    let client = reqwest::Client::new();
    let created: Value = client
        .post(app.url("/api/v1/patients"))
        .bearer_auth(&token)
        .json(&json!({"given_name":"Tam","family_name":"Reed","date_of_birth":"2010-05-05","sex":"male"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let url = app.url(&format!("/api/v1/patients/{id}/screenings"));
    let res = client
        .post(&url)
        .bearer_auth(&token)
        .json(&json!({
            "conditions": ["pregnancy", "substance_use_disorder"],
            "patient_reported_conditions": ["dementia"],
            "systolic_mmhg": 138, "diastolic_mmhg": 92,
            "medication_classes": ["opioid", "lamotrigine"],
            "adequate_antidepressant_trials": 1
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    let findings = body["findings"].as_array().unwrap();
    let got: Vec<(&str, &str)> = findings
        .iter()
        .map(|f| (f["code"].as_str().unwrap(), f["class"].as_str().unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            ("age_under_minimum", "absolute"),
            ("pregnancy", "absolute"),
            ("substance_use_disorder", "relative"),
            ("dementia", "relative"),
            ("blood_pressure_elevated", "relative"),
            ("medication_opioid", "relative"),
            ("medication_lamotrigine", "note"),
            ("treatment_resistance", "note"),
        ],
        "the age comes from the record (born 2010)"
    );
    assert_eq!(findings[3]["basis"], "patient_reported");
    assert!(
        findings
            .iter()
            .all(|f| !f["source"].as_str().unwrap().is_empty())
    );
    let res = client
        .post(&url)
        .bearer_auth(&token)
        .json(&json!({"conditions": ["gout"], "medication_classes": ["statin"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let e: Value = res.json().await.unwrap();
    assert_eq!(e["error"]["field"], "conditions");
    assert!(e["error"]["message"].as_str().unwrap().contains("'gout'"));
    assert!(e["error"]["message"].as_str().unwrap().contains("'statin'"));
    let res = client
        .post(&url)
        .bearer_auth(&token)
        .json(&json!({"systolic_mmhg": 400}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let e: Value = res.json().await.unwrap();
    assert_eq!(e["error"]["field"], "systolic_mmhg");
    let res = client
        .post(&url)
        .bearer_auth(&token)
        .json(&json!({"conditions": [], "mood": "low"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400, "unknown fields are refused");
    let res = client
        .post(&url)
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("[]")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400, "an array is not a screening");
    let e: Value = res.json().await.unwrap();
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("JSON object")
    );
    let list: Value = client
        .get(&url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let screenings = list["screenings"].as_array().unwrap();
    assert_eq!(screenings.len(), 1);
    assert_eq!(screenings[0]["id"], body["id"]);
    assert_eq!(screenings[0]["age_years"], 16);
    assert!(screenings[0]["decision"].is_null());
    let desk = app.token(Role::FrontDesk).await;
    let res = client.get(&url).bearer_auth(&desk).send().await.unwrap();
    assert_eq!(res.status(), 403);
    let missing = app.url("/api/v1/patients/00000000-0000-7000-8000-000000000000/screenings");
    let res = client
        .post(&missing)
        .bearer_auth(&token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

crate::on_both!(the_screening_api_answers_findings_and_lists_them);

const CONSENT_BODY: &str = "# Risks\n\nKetamine can raise blood pressure and make you feel detached for an hour or two.\n\n<script>alert(1)</script>\n\n- You can stop at any time.\n";

async fn consent_is_versioned_and_a_new_version_asks_for_a_new_signature(app: &TestApp) {
    app.user("admin@example.org", Role::Admin).await;
    app.user("desk@example.org", Role::FrontDesk).await;
    app.user("nurse@example.org", Role::Nurse).await;
    let desk = app.signed_in("desk@example.org").await;
    let id = app.register(&desk, "Zoë", "Ångström", "1985-08-08").await;
    let nurse = app.signed_in("nurse@example.org").await;
    let path = format!("/patients/{id}/consent");
    let html = app.get(&nurse, &path).await.text().await.unwrap();
    assert!(html.contains("has not published a consent document yet"));
    let show = app
        .get(&nurse, &format!("/patients/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(show.contains("<dd>not screened yet</dd>"));
    assert!(show.contains("no consent document is published"));

    let admin = app.signed_in("admin@example.org").await;
    let token = app.csrf(&admin, "/admin/consent").await;
    let res = app
        .post_form(
            &admin,
            "/admin/consent",
            &token,
            &[("title", ""), ("body", CONSENT_BODY)],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("The title is required"));
    assert!(
        html.contains("Ketamine can raise blood pressure"),
        "the text typed is kept"
    );
    // Two administrators publishing at once get consecutive versions.
    let (a, b) = tokio::join!(
        app.post_form(
            &admin,
            "/admin/consent",
            &token,
            &[("title", "Treatment consent"), ("body", CONSENT_BODY)],
        ),
        app.post_form(
            &admin,
            "/admin/consent",
            &token,
            &[("title", "Treatment consent"), ("body", CONSENT_BODY)],
        ),
    );
    let mut places: Vec<String> = [a, b]
        .iter()
        .map(|r| {
            assert_eq!(r.status(), 303);
            r.headers()["location"].to_str().unwrap().to_owned()
        })
        .collect();
    places.sort();
    assert_eq!(
        places,
        ["/admin/consent?published=1", "/admin/consent?published=2"]
    );

    let html = app.get(&nurse, &path).await.text().await.unwrap();
    assert!(
        html.contains("<h2>Risks</h2>"),
        "headings start below the page title"
    );
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!html.contains("<script>alert(1)"));
    assert!(html.contains("A signature of version 2 is needed before a first session."));
    let token = form_token(&html);
    let res = app
        .post_form(
            &nurse,
            &path,
            &token,
            &[("version", "2"), ("signed_name", "Zoe Angstrom-Smith")],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains(
        "The signature must be the patient&#39;s full name as on the record, Zoë Ångström."
    ));
    assert!(html.contains("Tick the box to confirm that you witnessed"));
    assert!(html.contains("value=\"Zoe Angstrom-Smith\""));
    let res = app
        .post_form(
            &nurse,
            &path,
            &token,
            &[
                ("version", "2"),
                ("signed_name", "zoe angstrom"),
                ("witnessed", "yes"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let show = app
        .get(&nurse, &format!("/patients/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(show.contains("signed version 2"));

    // A new version asks for a new signature; a form open on the old one is refused.
    let token_admin = app.csrf(&admin, "/admin/consent").await;
    let res = app
        .post_form(
            &admin,
            "/admin/consent",
            &token_admin,
            &[
                ("title", "Treatment consent"),
                ("body", &format!("{CONSENT_BODY}\nNew paragraph.")),
            ],
        )
        .await;
    assert_eq!(res.headers()["location"], "/admin/consent?published=3");
    let show = app
        .get(&nurse, &format!("/patients/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(show.contains("version 3 needs signing"));
    let res = app
        .post_form(
            &nurse,
            &path,
            &token,
            &[
                ("version", "2"),
                ("signed_name", "Zoë Ångström"),
                ("witnessed", "yes"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("A newer version of the consent was published")
    );
    let html = app.get(&nurse, &path).await.text().await.unwrap();
    assert!(html.contains("The version signed earlier has been replaced."));
    assert!(html.contains("<td class=\"num\">2</td>"));
    assert_eq!(app.get(&desk, &path).await.status(), 403);
    assert_eq!(app.get(&nurse, "/admin/consent").await.status(), 403);
    let trail = app.audit().await;
    assert_eq!(
        trail
            .iter()
            .filter(|e| e.action == "consent.publish")
            .count(),
        3
    );
    assert!(trail.iter().any(|e| e.action == "consent.sign"
        && e.patient_id.as_deref() == Some(id.as_str())
        && e.detail.as_deref() == Some("version=2")));
}

crate::on_both!(consent_is_versioned_and_a_new_version_asks_for_a_new_signature);

async fn a_self_screening_link_feeds_the_screening_as_patient_reported(app: &TestApp) {
    app.user("desk@example.org", Role::FrontDesk).await;
    app.user("nurse@example.org", Role::Nurse).await;
    let desk = app.signed_in("desk@example.org").await;
    let id = app.register(&desk, "Nell", "Arden", "1992-09-09").await;
    let nurse = app.signed_in("nurse@example.org").await;
    let path = format!("/patients/{id}/screening");
    let token = app.csrf(&nurse, &path).await;
    let res = app
        .post_form(&nurse, &format!("{path}/link"), &token, &[])
        .await;
    assert_eq!(res.status(), 303);
    let html = app.get(&nurse, &path).await.text().await.unwrap();
    let marker = "id=\"new-link\" class=\"mono link-field\" type=\"text\" readonly value=\"";
    let start = html.find(marker).expect("the link is shown once") + marker.len();
    let url = html[start..].split('"').next().unwrap().to_owned();
    let link = url[url.find("/s/").unwrap()..].to_owned();
    assert!(html.contains("QR code of the self-screening link"));
    let again = app.get(&nurse, &path).await.text().await.unwrap();
    assert!(!again.contains(&link), "the link is shown only once");
    assert_eq!(app.get(&desk, &path).await.status(), 403);

    let patient = TestApp::browser();
    let html = app.get(&patient, &link).await.text().await.unwrap();
    assert!(html.contains("Have you ever had bleeding in the brain?"));
    assert!(html.contains("Need help now?"));
    let ptoken = form_token(&html);
    let mut answers: Vec<(&str, &str)> = clinical::screening::Condition::ALL
        .iter()
        .map(|c| (c.code(), "no"))
        .collect();
    answers.retain(|(c, _)| *c != "dementia");
    let res = app.post_form(&patient, &link, &ptoken, &answers).await;
    assert_eq!(res.status(), 422, "every question needs an answer");
    let html = res.text().await.unwrap();
    assert!(html.contains("href=\"#dementia\""));
    assert!(
        html.contains("value=\"no\" checked"),
        "answers given are kept"
    );
    for a in answers.iter_mut() {
        match a.0 {
            "breastfeeding" => a.1 = "yes",
            "substance_use_disorder" => a.1 = "not_sure",
            _ => {}
        }
    }
    answers.push(("dementia", "no"));
    let res = app.post_form(&patient, &link, &ptoken, &answers).await;
    assert_eq!(res.status(), 200);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Your answers have reached your clinic.")
    );
    let res = app.post_form(&patient, &link, &ptoken, &answers).await;
    assert_eq!(res.status(), 410, "a link answers once");

    let html = app.get(&nurse, &path).await.text().await.unwrap();
    assert!(
        html.contains(
            "answered yes to “Are you breastfeeding?”; not sure about “Are you currently struggling"
        ),
        "{html}"
    );
    assert!(html.contains("<input type=\"hidden\" name=\"reported\" value=\"breastfeeding\">"));
    assert!(
        html.contains("<input type=\"hidden\" name=\"reported\" value=\"substance_use_disorder\">")
    );
    assert!(
        !html.contains("name=\"condition\" value=\"breastfeeding\" checked"),
        "a report is not a confirmation"
    );
    assert!(html.contains("the patient answered yes on"));
    let token = form_token(&html);
    let res = app
        .post_form(
            &nurse,
            &path,
            &token,
            &[
                ("reported", "breastfeeding"),
                ("reported", "substance_use_disorder"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let html = app.get(&nurse, &path).await.text().await.unwrap();
    assert!(html.contains("(reported by the patient, not yet confirmed)"));
    let trail = app.audit().await;
    assert!(trail.iter().any(
        |e| e.action == "self_screening.submit" && e.patient_id.as_deref() == Some(id.as_str())
    ));
}

crate::on_both!(a_self_screening_link_feeds_the_screening_as_patient_reported);
