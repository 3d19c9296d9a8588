//! The JSON API: authentication, roles, validation, errors, the OpenAPI document.

use serde_json::{Value, json};
use store::Role;

use crate::support::TestApp;

async fn healthz_names_the_database(app: &TestApp) {
    let res = reqwest::get(app.url("/healthz")).await.unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let expected = app.db.store.backend().name();
    assert_eq!(
        body,
        json!({"status": "ok", "database": expected, "version": "test"})
    );
}

async fn patients_need_a_token_and_a_clinical_role(app: &TestApp) {
    let client = reqwest::Client::new();
    let res = client
        .get(app.url("/api/v1/patients"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthenticated");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Bearer")
    );

    let res = client
        .get(app.url("/api/v1/patients"))
        .bearer_auth("kf_not_a_token")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);

    for role in [Role::FrontDesk, Role::Admin] {
        let token = app.token(role).await;
        let res = client
            .get(app.url("/api/v1/patients"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{role}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "forbidden");
        let res = client
            .post(app.url("/api/v1/patients"))
            .bearer_auth(&token)
            .json(&json!({"given_name": "A", "family_name": "B", "date_of_birth": "1990-01-01", "sex": "male"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{role}");
    }
    let denied = app.audit().await;
    assert_eq!(
        denied
            .iter()
            .filter(|e| e.action == "access.denied")
            .count(),
        4
    );
}

async fn clinicians_register_and_list_patients(app: &TestApp) {
    let client = reqwest::Client::new();
    for role in [Role::Prescriber, Role::Nurse] {
        let token = app.token(role).await;
        let family = format!("Tester-{}", role.code());
        let res = client
            .post(app.url("/api/v1/patients"))
            .bearer_auth(&token)
            .json(&json!({
                "given_name": "Ada", "family_name": family, "date_of_birth": "1985-12-10",
                "sex": "female", "email": "Ada@Example.org"
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{role}");
        let created: Value = res.json().await.unwrap();
        assert_eq!(created["family_name"], family.as_str());
        assert_eq!(created["email"], "ada@example.org");
        assert_eq!(created["phone"], Value::Null);
        let id = created["id"].as_str().unwrap();

        // The same request again (a retry after a lost answer) registers nothing and names the
        // record; said to be another person, it registers.
        let again = json!({
            "given_name": "ada", "family_name": family.to_uppercase(), "date_of_birth": "1985-12-10",
            "sex": "female"
        });
        let res = client
            .post(app.url("/api/v1/patients"))
            .bearer_auth(&token)
            .json(&again)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 409, "{role}");
        let refused: Value = res.json().await.unwrap();
        assert_eq!(refused["error"]["code"], "likely_duplicate", "{refused}");
        assert_eq!(refused["error"]["field"], "different_person", "{refused}");
        let mrn = created["mrn"].as_str().unwrap();
        assert!(
            refused["error"]["message"].as_str().unwrap().contains(mrn),
            "{refused}"
        );
        let mut other = again.clone();
        other["different_person"] = json!(true);
        let res = client
            .post(app.url("/api/v1/patients"))
            .bearer_auth(&token)
            .json(&other)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{role}");
        let twin: Value = res.json().await.unwrap();

        let res = client
            .get(app.url(&format!("/api/v1/patients/{id}")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.json::<Value>().await.unwrap(), created);

        let res = client
            .get(app.url(&format!("/api/v1/patients?search={}", role.code())))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        // An API client fills in no forms: no form cookie is set for it.
        assert!(
            res.headers().get("set-cookie").is_none(),
            "{:?}",
            res.headers()
        );
        let list: Value = res.json().await.unwrap();
        let ids: Vec<&str> = list["patients"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| p["id"].as_str())
            .collect();
        assert_eq!(ids.len(), 2, "{list}");
        assert!(
            ids.contains(&id) && ids.contains(&twin["id"].as_str().unwrap()),
            "{list}"
        );
        // A control character in a search separates words: the same patient, no error (a NUL
        // byte sent to PostgreSQL answered 500).
        let res = client
            .get(app.url(&format!("/api/v1/patients?search=Ada%00{}%07", role.code())))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let list: Value = res.json().await.unwrap();
        assert_eq!(list["patients"][0]["id"], id, "{list}");
    }
    let token = app.token(Role::Prescriber).await.replace("kf_", "kf_x");
    let res = client
        .get(app.url("/api/v1/patients/nope"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

async fn bad_bodies_get_errors_that_name_the_problem(app: &TestApp) {
    let client = reqwest::Client::new();
    let token = app.token(Role::Nurse).await;
    let post = |body: &'static str, content_type: &'static str| {
        client
            .post(app.url("/api/v1/patients"))
            .bearer_auth(&token)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    // (body, content type, status, error code, field, words in the message)
    type Case = (
        &'static str,
        &'static str,
        u16,
        &'static str,
        Option<&'static str>,
        &'static str,
    );
    let cases: [Case; 8] = [
        (
            "{\"given_name\": ",
            "application/json",
            400,
            "malformed_json",
            None,
            "not valid JSON",
        ),
        (
            "{\"given_name\":\"A\"}",
            "application/json",
            400,
            "invalid_body",
            Some("family_name"),
            "missing field",
        ),
        (
            "{\"given_name\":\"A\",\"family_name\":\"B\",\"date_of_birth\":\"1990-01-01\",\"sex\":\"male\",\"diagnosis\":\"x\"}",
            "application/json",
            400,
            "invalid_body",
            Some("diagnosis"),
            "unknown field",
        ),
        (
            "{\"given_name\":\"A\",\"family_name\":\"B\",\"date_of_birth\":\"2999-01-01\",\"sex\":\"male\"}",
            "application/json",
            422,
            "validation_failed",
            Some("date_of_birth"),
            "is in the future",
        ),
        (
            "{\"given_name\":\" \",\"family_name\":\"B\",\"date_of_birth\":\"1990-01-01\",\"sex\":\"x\"}",
            "application/json",
            422,
            "validation_failed",
            Some("given_name"),
            "choose female, male, other or unknown",
        ),
        // A NUL character anywhere in a body is refused at its value before a handler runs
        // (PostgreSQL's text cannot hold one); an escaped backslash before "u0000" is text.
        (
            "{\"given_name\":\"A\",\"family_name\":\"B\",\"date_of_birth\":\"1990-01-01\",\"sex\":\"male\",\"phone\":\"555\\u0000\"}",
            "application/json",
            422,
            "validation_failed",
            Some("phone"),
            "phone holds a NUL character",
        ),
        (
            "{\"given_name\":\"A\\\\u0000\",\"family_name\":\"B\",\"date_of_birth\":\"2999-01-01\",\"sex\":\"male\"}",
            "application/json",
            422,
            "validation_failed",
            Some("date_of_birth"),
            "is in the future",
        ),
        (
            "given_name=A",
            "application/x-www-form-urlencoded",
            415,
            "unsupported_media_type",
            None,
            "Content-Type: application/json",
        ),
    ];
    for (body, content_type, status, code, field, fragment) in cases {
        let res = post(body, content_type).await.unwrap();
        assert_eq!(res.status().as_u16(), status, "{body}");
        let json: Value = res.json().await.unwrap();
        assert_eq!(json["error"]["code"], code, "{body}: {json}");
        assert_eq!(json["error"]["field"].as_str(), field, "{body}: {json}");
        assert!(
            json["error"]["message"]
                .as_str()
                .unwrap()
                .contains(fragment),
            "{body}: {json}"
        );
    }
    // A long value is named short in the message, its control characters shown as such.
    let long = format!(
        "{{\"given_name\":\"A\",\"family_name\":\"B\",\"date_of_birth\":\"1990-01-01\",\"sex\":\"\\u001b[2J{}\"}}",
        "x".repeat(3000)
    );
    let res = client
        .post(app.url("/api/v1/patients"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(long)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 422);
    let json: Value = res.json().await.unwrap();
    let message = json["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("sex '\u{FFFD}[2Jxxx") && message.contains("x…'"),
        "{message}"
    );
    assert!(message.chars().count() < 200, "{message}");
    // Nothing was stored by the refused requests.
    let res = client
        .get(app.url("/api/v1/patients"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.json::<Value>().await.unwrap()["patients"], json!([]));

    let res = client
        .get(app.url("/api/v1/patients?limit=0"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"]["field"],
        "limit"
    );
    let res = client
        .get(app.url("/api/v1/patients?limit=many"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"]["code"],
        "invalid_query"
    );

    let res = client
        .get(app.url("/api/v1/nothing-here"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"]["code"],
        "not_found"
    );
}

crate::on_both!(
    healthz_names_the_database,
    patients_need_a_token_and_a_clinical_role,
    clinicians_register_and_list_patients,
    bad_bodies_get_errors_that_name_the_problem,
);

#[tokio::test]
async fn the_openapi_document_describes_the_routes() {
    let app = TestApp::spawn(store::Backend::Sqlite).await;
    let res = reqwest::get(app.url("/api/v1/openapi.json")).await.unwrap();
    assert_eq!(res.status(), 200);
    let doc: Value = res.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in ["/healthz", "/api/v1/patients", "/api/v1/patients/{id}"] {
        assert!(doc["paths"][path].is_object(), "missing {path}");
    }
    assert!(doc["paths"]["/api/v1/patients"]["post"]["responses"]["422"].is_object());
    // Every operation a token opens documents the throttle of unknown tokens.
    let mut secured = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if operation.get("security").is_some() {
                secured += 1;
                assert!(
                    operation["responses"]["429"].is_object(),
                    "{method} {path} documents no 429"
                );
            }
            // Every operation that takes a body documents what a body that cannot be read gets.
            if operation.get("requestBody").is_some() {
                for status in ["400", "408", "413", "415"] {
                    assert!(
                        operation["responses"][status].is_object(),
                        "{method} {path} documents no {status}"
                    );
                }
            }
        }
    }
    assert!(secured > 10, "{secured} operations need a token");
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert!(
        doc["components"]["schemas"]["NewPatient"]["required"]
            .as_array()
            .unwrap()
            .contains(&json!("date_of_birth"))
    );
    app.finish().await;
}
