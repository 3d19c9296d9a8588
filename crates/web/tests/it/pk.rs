//! The simulation API and the dose planner page.

use serde_json::{Value, json};
use store::Role;

use crate::support::TestApp;

async fn the_simulation_api_answers_clinicians_and_names_bad_fields(app: &TestApp) {
    let token = app.token(Role::Prescriber).await;
    let client = reqwest::Client::new();
    let post = |body: Value| {
        client
            .post(app.url("/api/v1/pk/simulate"))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let scenario = json!({"model": "domino", "patient": {"weight_kg": 70, "age_years": 45, "sex": "female"},
        "doses": [{"route": "iv_infusion", "start_min": 0, "amount_mg": 35, "duration_min": 40}],
        "times_min": [5, 10, 20, 40]});
    let res = post(scenario.clone()).await.unwrap();
    assert_eq!(res.status(), 200);
    let out: Value = res.json().await.unwrap();
    assert_eq!(out["unit"], "mg/L");
    assert_eq!(out["times_min"], json!([5.0, 10.0, 20.0, 40.0]));
    assert_eq!(out["concentration_mg_per_l"].as_array().unwrap().len(), 4);
    assert_eq!(out["effect_site_mg_per_l"].as_array().unwrap().len(), 4);
    assert!(out["summary"]["cmax_mg_per_l"].as_f64().unwrap() > 0.2);
    assert_eq!(out["model_info"]["provenance"], "open_source_only");

    let spravato = json!({"model": "perez_ruixo2021", "patient": {"weight_kg": 80},
        "doses": [{"route": "intranasal", "start_min": 0, "devices": 3, "mg_per_device": 28, "interval_min": 5}],
        "times_min": [30, 60]});
    let out: Value = post(spravato).await.unwrap().json().await.unwrap();
    assert_eq!(
        out["metabolites"]["noresketamine_mg_per_l"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(out["model_info"]["provenance"], "checked_against_paper");

    let film = json!({"model": "simons2022", "patient": {"weight_kg": 70},
        "doses": [{"route": "sublingual", "start_min": 0, "amount_mg": 50}], "times_min": [20, 60]});
    let out: Value = post(film).await.unwrap().json().await.unwrap();
    assert_eq!(
        out["metabolites"]["norketamine_mg_per_l"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        out["metabolites"]["hydroxynorketamine_mg_per_l"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(out["model_info"]["sampling"], "arterial");

    let oral = json!({"model": "kamp2020", "patient": {"weight_kg": 70},
        "doses": [{"route": "oral", "start_min": 0, "amount_mg": 70, "bioavailability": 0.2}], "times_min": [30, 60]});
    let res = post(oral).await.unwrap();
    assert_eq!(res.status(), 200);

    // Intramuscular racemic ketamine peaks at the published 15 min unless the dose sets its own
    // time to peak.
    let times: Vec<f64> = (0..=60).map(f64::from).collect();
    for (tmax, expected) in [(None, 15.0), (Some(30.0), 30.0)] {
        let mut dose = json!({"route": "intramuscular", "start_min": 0, "amount_mg": 35});
        if let Some(t) = tmax {
            dose["absorption_tmax_min"] = json!(t);
        }
        let im = json!({"model": "kamp2020", "patient": {"weight_kg": 70}, "doses": [dose], "times_min": times});
        let res = post(im).await.unwrap();
        assert_eq!(res.status(), 200);
        let out: serde_json::Value = res.json().await.unwrap();
        assert_eq!(out["summary"]["tmax_min"], expected, "{out}");
    }

    let cases = [
        (json!({"model": "marsh"}), 400, Some("patient")),
        (
            {
                let mut s = scenario.clone();
                s["doses"][0] = json!({"route": "oral", "start_min": 0, "amount_mg": 35, "bioavailability": 1.5});
                s
            },
            422,
            Some("doses[0].bioavailability"),
        ),
        (
            {
                let mut s = scenario.clone();
                s["model"] = json!("simons2022");
                s["doses"][0]["route"] = json!("intramuscular");
                s
            },
            422,
            Some("doses[0].route"),
        ),
        (
            {
                let mut s = scenario.clone();
                s["doses"][0] = json!({"route": "intramuscular", "start_min": 0, "amount_mg": 35, "absorption_tmax_min": 0.5});
                s
            },
            422,
            Some("doses[0].absorption_tmax_min"),
        ),
        (
            {
                let mut s = scenario.clone();
                s["model"] = json!("simons2022");
                s["doses"][0] = json!({"route": "sublingual", "start_min": 0, "amount_mg": 50, "absorption_tmax_min": 20});
                s
            },
            422,
            Some("doses[0].absorption_tmax_min"),
        ),
        (
            {
                let mut s = scenario.clone();
                s["model"] = json!("marsh");
                s
            },
            422,
            Some("model"),
        ),
        (
            {
                let mut s = scenario.clone();
                s["patient"]["weight_kg"] = json!(400);
                s
            },
            422,
            Some("patient.weight_kg"),
        ),
        (
            {
                let mut s = scenario.clone();
                s["times_min"] = json!([10, 5]);
                s
            },
            422,
            Some("times_min[1]"),
        ),
        (
            {
                let mut s = scenario.clone();
                s["doses"][0]["amount_mg"] = json!(-1);
                s
            },
            422,
            Some("doses[0].amount_mg"),
        ),
        (
            {
                let mut s = scenario.clone();
                s["doses"][0]["amount_mg"] = json!(140);
                s
            },
            422,
            Some("doses[0].amount_mg"),
        ),
        (
            {
                let mut s = scenario.clone();
                s["doses"][0]["route"] = json!("intranasal");
                s
            },
            422,
            Some("doses[0].duration_min"),
        ),
    ];
    for (body, status, field) in cases {
        let res = post(body.clone()).await.unwrap();
        assert_eq!(res.status().as_u16(), status, "{body}");
        let err: Value = res.json().await.unwrap();
        assert_eq!(err["error"]["field"].as_str(), field, "{err}");
    }
    let fd = app.token(Role::FrontDesk).await;
    let res = client
        .post(app.url("/api/v1/pk/simulate"))
        .bearer_auth(&fd)
        .json(&scenario)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}

async fn the_planner_draws_a_curve_and_keeps_bad_input(app: &TestApp) {
    app.user("n@example.org", Role::Nurse).await;
    let client = app.signed_in("n@example.org").await;
    let empty = app.get(&client, "/planner").await.text().await.unwrap();
    assert!(empty.contains("Dose planner") && !empty.contains("<svg"));
    let page = app
        .get(&client, "/planner?weight=180&weight_unit=lb&model=kamp2020&route=iv_infusion&mg_per_kg=0.5&duration_min=40")
        .await;
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(
        page.contains("<svg") && page.contains("Dissociation reported 0.10–0.25 mg/L"),
        "{page}"
    );
    assert!(page.contains("40.8 mg"), "0.5 mg/kg of 180 lb (81.6 kg)");
    assert!(page.contains("<caption>Predicted concentrations, mg/L</caption>"));
    let bad = app
        .get(
            &client,
            "/planner?weight=abc&model=domino&route=iv_infusion&mg_per_kg=0.5&duration_min=40",
        )
        .await;
    assert_eq!(bad.status(), 422);
    let bad = bad.text().await.unwrap();
    assert!(bad.contains("Weight: enter a number") && bad.contains("value=\"abc\""));
    let capped = app
        .get(
            &client,
            "/planner?weight=70&model=domino&route=iv_infusion&mg_per_kg=2&duration_min=40",
        )
        .await;
    assert_eq!(capped.status(), 422);
    assert!(
        capped
            .text()
            .await
            .unwrap()
            .contains("cap of 1 mg/kg (70.0 mg for this patient)")
    );
    // Intramuscular: the published time to peak, the evidence named; a set time to peak holds.
    let im = app
        .get(
            &client,
            "/planner?weight=70&model=kamp2020&route=intramuscular&mg_per_kg=0.5",
        )
        .await;
    assert_eq!(im.status(), 200);
    let im = im.text().await.unwrap();
    assert!(im.contains("at 15 min"), "{im}");
    assert!(im.contains(
        "Intramuscular: bioavailability 0.93 (default), time to peak 15 min (published)"
    ));
    assert!(im.contains("Anaesthesist 1984"));
    let slow = app
        .get(
            &client,
            "/planner?weight=70&model=kamp2020&route=intramuscular&mg_per_kg=0.5&tmax_min=30",
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(slow.contains("at 30 min") && slow.contains("time to peak 30 min (set here)"));
    let racemic_nasal = app
        .get(
            &client,
            "/planner?weight=70&model=domino&route=intranasal_mg&mg_per_kg=0.5",
        )
        .await;
    assert_eq!(racemic_nasal.status(), 200);
    assert!(
        racemic_nasal
            .text()
            .await
            .unwrap()
            .contains("Nasal spray: bioavailability 0.45")
    );
    let bad_tmax = app
        .get(
            &client,
            "/planner?weight=70&model=kamp2020&route=oral&mg_per_kg=0.5&tmax_min=900",
        )
        .await;
    assert_eq!(bad_tmax.status(), 422);
    let bad_tmax = bad_tmax.text().await.unwrap();
    assert!(
        bad_tmax.contains("accepted 1 to 360 minutes")
            && bad_tmax.contains("id=\"tmax_min-error\"")
    );
    app.user("fd@example.org", Role::FrontDesk).await;
    let fd = app.signed_in("fd@example.org").await;
    assert_eq!(app.get(&fd, "/planner").await.status(), 403);
}

crate::on_both!(
    the_simulation_api_answers_clinicians_and_names_bad_fields,
    the_planner_draws_a_curve_and_keeps_bad_input,
);
