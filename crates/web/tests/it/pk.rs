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
    assert!(page.contains("<caption>Predicted concentrations, mg/L, every 30 minutes with the peak and the end of the infusion</caption>"));
    let bad = app
        .get(
            &client,
            "/planner?weight=abc&model=domino&route=iv_infusion&mg_per_kg=0.5&duration_min=40",
        )
        .await;
    assert_eq!(bad.status(), 422);
    let bad = bad.text().await.unwrap();
    assert!(bad.contains("The weight must be a number") && bad.contains("value=\"abc\""));
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
        bad_tmax.contains("Absorption time to peak must be between 1 and 360 minutes")
            && bad_tmax.contains("id=\"tmax_min-error\"")
    );
    app.user("fd@example.org", Role::FrontDesk).await;
    let fd = app.signed_in("fd@example.org").await;
    assert_eq!(app.get(&fd, "/planner").await.status(), 403);
}

/// The planner page for a query, with its status.
async fn plan(app: &TestApp, client: &reqwest::Client, query: &str) -> (u16, String) {
    let res = app.get(client, &format!("/planner?{query}")).await;
    let status = res.status().as_u16();
    (status, res.text().await.unwrap())
}

/// The message at one field of the planner page, if any.
fn field_error(page: &str, field: &str) -> Option<String> {
    let marker = format!("id=\"{field}-error\"><span class=\"visually-hidden\">Error:</span> ");
    let start = page.find(&marker)? + marker.len();
    Some(page[start..].split("</p>").next()?.to_owned())
}

async fn the_planner_refuses_the_impossible_in_the_forms_words(app: &TestApp) {
    app.user("n@example.org", Role::Nurse).await;
    let client = app.signed_in("n@example.org").await;
    let iv = "model=kamp2020&route=iv_infusion&weight_unit=kg";
    for (query, field, expect) in [
        (format!("{iv}&weight=70&mg_per_kg=0.5&duration_min=0.001"), "duration_min", "shorter than the shortest planned, 2 minutes"),
        (format!("{iv}&weight=70&mg_per_kg=0.5&duration_min=1e-320"), "duration_min", "An infusion of less than 0.001 minutes"),
        (format!("{iv}&weight=70&mg_per_kg=0&duration_min=40"), "mg_per_kg", "Dose must be more than 0 mg/kg"),
        (format!("{iv}&weight=70&mg_per_kg=0.01&duration_min=40"), "mg_per_kg", "below the smallest dose planned, 0.1 mg/kg"),
        (format!("{iv}&weight=-82&mg_per_kg=0.5&duration_min=40"), "weight", "Weight must be more than 0 kg"),
        (format!("{iv}&weight=1e308&mg_per_kg=0.5&duration_min=40"), "weight", "Weight must be between 2 and 350 kg"),
        ("model=kamp2020&route=iv_infusion&weight=11&weight_unit=stone&mg_per_kg=0.5&duration_min=40".into(), "weight_unit", "Choose kg or lb"),
        // Esketamine devices with a racemic model: a message at the route, never a 404.
        ("model=kamp2020&route=intranasal&weight=70&devices=2".into(), "route", "does not describe esketamine nasal spray"),
        ("model=domino&route=intranasal&weight=70&devices=2".into(), "route", "does not describe esketamine nasal spray"),
        // Spravato doses by label, at the field that holds the dose.
        ("model=perez_ruixo2021&route=intranasal&weight=70&devices=4".into(), "devices", "4 devices is not a Spravato dose"),
        ("model=perez_ruixo2021&route=intranasal&weight=70&devices=1&age_years=40".into(), "devices", "under 65 it is 56 or 84 mg"),
    ] {
        let (status, page) = plan(app, &client, &query).await;
        assert_eq!(status, 422, "{query}");
        let message = field_error(&page, field).unwrap_or_else(|| panic!("no message at {field} for {query}: {page}"));
        assert!(message.contains(expect), "{query}: {message}");
        assert!(!page.contains("0000000000"), "no long numbers: {query}");
        assert!(!message.contains("weight_kg") && !message.contains("amount_mg"), "{message}");
    }
    // A Spravato dose for an older adult, and the nurse's figures for an infusion.
    let (status, page) = plan(
        app,
        &client,
        "model=perez_ruixo2021&route=intranasal&weight=70&devices=1&age_years=70",
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("28 mg esketamine: 1 Spravato device"));
    let (status, page) = plan(app, &client, "model=kamp2020&route=iv_infusion&weight=82&weight_unit=kg&mg_per_kg=0.5&duration_min=40&stock_mg_per_ml=10&bag_ml=100").await;
    assert_eq!(status, 200);
    for figure in [
        "41.0 mg (0.5 mg/kg × 82.0 kg)",
        "4.10 mL of 10 mg/mL",
        "100 mL + stock = 104.10 mL at 0.394 mg/mL",
        "156.2 mL/h (61.5 mg/h) for 40 min",
        "Rounding: computed from unrounded values",
    ] {
        assert!(page.contains(figure), "{figure}");
    }
    assert!(
        page.contains("<td>Peak</td>") && page.contains("<td>40</td><td>End of infusion</td>"),
        "{page}"
    );
    assert!(
        page.contains("<strong>Caution:</strong> this model's values come from open-source"),
        "provenance is a caution"
    );
    assert!(!page.contains("class=\"notice\""), "no success box");
    assert!(
        page.contains("data-routes=\"iv_infusion\""),
        "fields say their route"
    );
}

crate::on_both!(
    the_simulation_api_answers_clinicians_and_names_bad_fields,
    the_planner_draws_a_curve_and_keeps_bad_input,
    the_planner_refuses_the_impossible_in_the_forms_words,
);
