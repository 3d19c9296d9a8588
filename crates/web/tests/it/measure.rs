//! Measurement-based care over HTTP: the assessments API, the forms, self-report links, alerts.

use serde_json::{Value, json};
use store::Role;

use crate::support::{TestApp, form_token};

/// A patient registered through the API by a nurse; returns (token, patient id).
async fn nurse_and_patient(app: &TestApp) -> (String, String) {
    let token = app.token(Role::Nurse).await;
    let res = reqwest::Client::new()
        .post(app.url("/api/v1/patients"))
        .bearer_auth(&token)
        .json(&json!({"given_name": "Quinn", "family_name": "Scalewell", "date_of_birth": "1988-08-08", "sex": "female"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let id = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (token, id)
}

async fn the_api_scores_stores_and_reports_response(app: &TestApp) {
    let (token, id) = nurse_and_patient(app).await;
    let client = reqwest::Client::new();
    let url = app.url(&format!("/api/v1/patients/{id}/assessments"));
    let post = |body: Value| client.post(&url).bearer_auth(&token).json(&body).send();

    let res = post(json!({"instrument": "phq9", "answers": [3, 3, 2, 2, 2, 2, 2, 2, 0], "time_point": "baseline",
                           "administered_at": "2026-11-01T15:00:00Z"}))
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["assessment"]["total"], 18);
    assert_eq!(body["assessment"]["severity"], "moderately_severe");
    assert_eq!(body["safety_follow_up_due"], false);

    let res = post(json!({"instrument": "phq9", "answers": [1, 1, 1, 1, 1, 1, 1, 1, 1], "time_point": "weekly"})).await.unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["assessment"]["flags"], json!(["suicidality_item"]));
    assert_eq!(body["safety_follow_up_due"], true);

    let list: Value = client
        .get(&url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["assessments"].as_array().unwrap().len(), 2);
    assert_eq!(list["assessments"][0]["time_point"], "baseline");
    assert_eq!(
        list["status"],
        json!([{"instrument": "phq9", "baseline_total": 18, "latest_total": 9, "change": -9,
                "percent_change": -50.0, "response": true, "remission": false}])
    );

    let cases = [
        (
            json!({"instrument": "hamd", "answers": [1], "time_point": "baseline"}),
            "instrument",
            "is not an instrument",
        ),
        (
            json!({"instrument": "gad7", "answers": [1, 2], "time_point": "baseline"}),
            "answers",
            "gad7 has 7 items, but 2 answers",
        ),
        (
            json!({"instrument": "gad7", "answers": [0, 0, 0, 0, 9, 0, 0], "time_point": "baseline"}),
            "answers",
            "item 5: answer 9 is out of range; allowed 0 to 3",
        ),
        (
            json!({"instrument": "gad7", "answers": [0, 0, 0, 0, 0, 0, 0], "time_point": "soon"}),
            "time_point",
            "use one of baseline",
        ),
        (
            json!({"instrument": "gad7", "answers": [0, 0, 0, 0, 0, 0, 0], "time_point": "weekly", "administered_at": "2999-01-01T00:00:00Z"}),
            "administered_at",
            "in the future",
        ),
    ];
    for (body, field, fragment) in cases {
        let res = post(body.clone()).await.unwrap();
        assert_eq!(res.status(), 422, "{body}");
        let err: Value = res.json().await.unwrap();
        assert_eq!(err["error"]["field"], field, "{err}");
        assert!(
            err["error"]["message"].as_str().unwrap().contains(fragment),
            "{err}"
        );
    }
    let list: Value = client
        .get(&url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        list["assessments"].as_array().unwrap().len(),
        2,
        "refused bodies stored nothing"
    );

    let fd = app.token(Role::FrontDesk).await;
    assert_eq!(
        client
            .get(&url)
            .bearer_auth(&fd)
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    let missing = client
        .get(app.url("/api/v1/patients/nobody/assessments"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

async fn a_nurse_records_a_scale_and_sees_the_trajectory(app: &TestApp) {
    let (_, id) = nurse_and_patient(app).await;
    app.user("n@example.org", Role::Nurse).await;
    let client = app.signed_in("n@example.org").await;
    let form = app
        .get(
            &client,
            &format!("/patients/{id}/assessments/new?instrument=phq9"),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(
        form.contains("1. Little interest or pleasure") && form.contains("Nearly every day"),
        "{form}"
    );
    let token = form_token(&form);
    let path = format!("/patients/{id}/assessments");
    // Two answers missing: the form comes back with both marked and the others kept.
    let mut fields = vec![("instrument", "phq9"), ("time_point", "baseline")];
    let answers = [
        ("item1", "3"),
        ("item2", "2"),
        ("item3", "2"),
        ("item4", "2"),
        ("item5", "2"),
        ("item6", "2"),
        ("item7", "2"),
    ];
    fields.extend_from_slice(&answers);
    let res = app.post_form(&client, &path, &token, &fields).await;
    assert_eq!(res.status(), 422);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("Choose an answer for question 8.")
            && page.contains("Choose an answer for question 9.")
    );
    assert!(
        page.contains("id=\"item1-3\" name=\"item1\" value=\"3\" checked"),
        "kept answers"
    );
    fields.extend_from_slice(&[("item8", "2"), ("item9", "0")]);
    let res = app.post_form(&client, &path, &token, &fields).await;
    assert_eq!(res.status(), 303);
    let page = app
        .get(&client, &format!("/patients/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"measurements\""));
    assert!(
        page.contains("<svg") && page.contains("PHQ-9 total over time"),
        "a chart is drawn"
    );
    assert!(
        page.contains("Baseline 17 on "),
        "the chart describes itself"
    );
    assert!(
        page.contains("Remission ≤ 4") && page.contains("Response ≤ 8.5"),
        "thresholds are labelled"
    );
    assert!(
        page.contains("Test Person (Nurse)"),
        "the table says who entered the score"
    );
    assert!(
        page.contains("<td>17</td><td>Moderately severe</td><td>baseline</td>"),
        "a table lists the values"
    );
    assert!(
        page.contains("Weekly") && page.contains("Next"),
        "the next weekly assessment is listed"
    );
}

async fn a_patient_answers_by_link_once_and_a_safety_answer_alerts_staff(app: &TestApp) {
    let (_, id) = nurse_and_patient(app).await;
    app.user("n@example.org", Role::Nurse).await;
    let staff = app.signed_in("n@example.org").await;
    let token = app.csrf(&staff, &format!("/patients/{id}")).await;
    let res = app
        .post_form(
            &staff,
            &format!("/patients/{id}/links"),
            &token,
            &[("instrument", "phq9"), ("time_point", "weekly")],
        )
        .await;
    assert_eq!(res.status(), 303, "post-redirect-get");
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    let page = app.get(&staff, &to).await.text().await.unwrap();
    let marker = "id=\"new-link\" class=\"mono link-field\" type=\"text\" readonly value=\"";
    let start = page.find(marker).expect("the link is shown") + marker.len();
    let url = page[start..].split('"').next().unwrap().to_owned();
    let path = url
        .strip_prefix(&app.base)
        .expect("the link points at this server")
        .to_owned();

    let patient = TestApp::browser();
    let form = app.get(&patient, &path).await.text().await.unwrap();
    assert!(
        !form.contains("Quinn") && !form.contains("Scalewell"),
        "the page shows no name"
    );
    assert!(
        form.contains("Call or text 988 now."),
        "crisis resources are on the page"
    );
    let ptoken = form_token(&form);
    let mut fields: Vec<(String, String)> = (1..=8)
        .map(|i| (format!("item{i}"), "0".to_owned()))
        .collect();
    fields.push(("item9".into(), "2".into()));
    let borrowed: Vec<(&str, &str)> = fields
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let done = app.post_form(&patient, &path, &ptoken, &borrowed).await;
    assert_eq!(done.status(), 200);
    let done = done.text().await.unwrap();
    assert!(
        done.contains("Your clinic has been alerted") && done.contains("Call or text 988 now."),
        "{done}"
    );

    let again = app.post_form(&patient, &path, &ptoken, &borrowed).await;
    assert_eq!(again.status(), 410, "the link works once");
    assert_eq!(app.get(&patient, &path).await.status(), 410);
    assert_eq!(app.get(&patient, "/r/not-a-link").await.status(), 404);

    let home = app.get(&staff, "/").await.text().await.unwrap();
    assert!(
        home.contains("Safety alerts (1 open)") && home.contains("Quinn Scalewell"),
        "{home}"
    );
    // Every page's navigation says how many alerts are open.
    let patients = app.get(&staff, "/patients").await.text().await.unwrap();
    assert!(patients.contains("Safety alerts: 1 open"), "{patients}");
    let record = app
        .get(&staff, &format!("/patients/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(record.contains("Patient (self-report link)"));
    let alert_marker = "href=\"/alerts/";
    let start = home.find(alert_marker).unwrap() + alert_marker.len();
    let alert_id = home[start..].split('?').next().unwrap().to_owned();
    // The follow-up page shows what raised the alert and how to call the patient.
    let page = app
        .get(&staff, &format!("/alerts/{alert_id}?return_to=/"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("PHQ-9 item 9: 2 (More than half the days)"),
        "{page}"
    );
    assert!(page.contains("Urgent, open: follow up today"));
    let token = form_token(&page);
    // Closing it needs a contact, an action and a note; nothing is lost when one is missing.
    let res = app
        .post_form(
            &staff,
            &format!("/alerts/{alert_id}/acknowledge"),
            &token,
            &[("return_to", "/"), ("note", "Left a voicemail.")],
        )
        .await;
    assert_eq!(res.status(), 422);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("Choose how you reached the patient"),
        "{page}"
    );
    assert!(page.contains("Choose at least one thing you did"));
    assert!(page.contains("Left a voicemail."), "the note typed is kept");
    let res = app
        .post_form(
            &staff,
            &format!("/alerts/{alert_id}/acknowledge"),
            &token,
            &[
                ("return_to", "/"),
                ("contact", "phone"),
                ("actions", "safety_plan_reviewed"),
                ("actions", "crisis_line_given"),
                ("note", "Spoke with Quinn; safe tonight, partner at home."),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let home = app.get(&staff, "/").await.text().await.unwrap();
    assert!(home.contains("No open safety alerts."));
    assert!(!home.contains("Safety alerts: 1 open"));
    // The follow-up stays on the chart.
    let record = app
        .get(&staff, &format!("/patients/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(record.contains("Safety alerts followed up"), "{record}");
    assert!(record.contains("Safety plan reviewed; Crisis line given"));
    let page = app
        .get(&staff, &format!("/alerts/{alert_id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Spoke with Quinn; safe tonight, partner at home."));
    assert!(page.contains("By telephone"));
    // A follow-up sent after the alert was closed (a second nurse, a second click) is refused
    // with the follow-up that stands and what was written shown back, not "nothing here".
    let res = app
        .post_form(
            &staff,
            &format!("/alerts/{alert_id}/acknowledge"),
            &token,
            &[
                ("return_to", "/"),
                ("contact", "video"),
                ("actions", "crisis_line_given"),
                ("note", "Called back by video; gave the crisis line again."),
            ],
        )
        .await;
    assert_eq!(res.status(), 409);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("Someone closed this alert before your follow-up was sent"),
        "{page}"
    );
    assert!(
        page.contains("Called back by video; gave the crisis line again."),
        "{page}"
    );
    assert!(page.contains("Spoke with Quinn; safe tonight, partner at home."));
    assert!(!page.contains("Close the alert with this follow-up"));
    let page = app
        .get(&staff, &format!("/alerts/{alert_id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("By telephone"), "the first follow-up stands");
    assert!(!page.contains("Called back by video"));
    // An alert that is not there is still not found.
    let res = app
        .post_form(
            &staff,
            "/alerts/01a24aef-0000-7000-8000-000000000000/acknowledge",
            &token,
            &[
                ("return_to", "/"),
                ("contact", "phone"),
                ("actions", "crisis_line_given"),
                ("note", "Nothing."),
            ],
        )
        .await;
    assert_eq!(res.status(), 404);
}

async fn links_are_only_for_patient_rated_scales_with_wording(app: &TestApp) {
    let (_, id) = nurse_and_patient(app).await;
    app.user("p@example.org", Role::Prescriber).await;
    let staff = app.signed_in("p@example.org").await;
    let token = app.csrf(&staff, &format!("/patients/{id}")).await;
    for (instrument, fragment) in [
        ("madrs", "rated by a clinician"),
        ("epds", "needs its wording"),
    ] {
        let page = app
            .post_form(
                &staff,
                &format!("/patients/{id}/links"),
                &token,
                &[("instrument", instrument), ("time_point", "weekly")],
            )
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains(fragment), "{instrument}");
        assert!(!page.contains("id=\"new-link\""));
        // Said at the instrument's list, which keeps what was chosen.
        assert!(
            page.contains(
                "<select id=\"link-instrument\" name=\"instrument\" aria-invalid=\"true\" aria-describedby=\"link-instrument-error\">"
            ) && page.contains("id=\"link-instrument-error\""),
            "{page}"
        );
        // A clinician-rated scale is not on the link's list, so only the EPDS can stay chosen.
        assert_eq!(
            page.contains(&format!("<option value=\"{instrument}\" selected>")),
            instrument == "epds",
            "{instrument}"
        );
    }
}

async fn front_desk_never_sees_measurements(app: &TestApp) {
    let (_, id) = nurse_and_patient(app).await;
    app.user("fd@example.org", Role::FrontDesk).await;
    let client = app.signed_in("fd@example.org").await;
    let page = app
        .get(&client, &format!("/patients/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Demographics") && !page.contains("Measurements"));
    let home = app.get(&client, "/").await.text().await.unwrap();
    assert!(!home.contains("Safety alerts"));
    assert_eq!(
        app.get(
            &client,
            &format!("/patients/{id}/assessments/new?instrument=phq9")
        )
        .await
        .status(),
        403
    );
    let token = form_token(&page);
    let res = app
        .post_form(
            &client,
            &format!("/patients/{id}/links"),
            &token,
            &[("instrument", "phq9"), ("time_point", "weekly")],
        )
        .await;
    assert_eq!(res.status(), 403);
}

crate::on_both!(
    the_api_scores_stores_and_reports_response,
    a_nurse_records_a_scale_and_sees_the_trajectory,
    a_patient_answers_by_link_once_and_a_safety_answer_alerts_staff,
    links_are_only_for_patient_rated_scales_with_wording,
    front_desk_never_sees_measurements,
);
