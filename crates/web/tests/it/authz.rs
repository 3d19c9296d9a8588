//! The authorization matrix: every route the router itself lists (`web::route_paths`), found
//! method by method, checked for every role and for an anonymous caller, pages with a signed-in
//! session and a valid form token (so the role check itself is what answers), the API with a
//! bearer token. A route the router serves without an entry here fails the test, and so does
//! an entry the router no longer serves. Then every route that takes an id is asked for records
//! of another site and for ids that do not exist: never a 2xx, never a 5xx.

use std::collections::BTreeSet;

use reqwest::{Client, Method, StatusCode};
use store::testing::text_rows;
use store::{Actor, Role};

use crate::support::TestApp;

/// Who may use a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    /// Anyone, signed in or not.
    Public,
    /// Any signed-in staff member.
    Staff,
    /// Prescriber, nurse, front desk.
    Directory,
    /// Prescriber, nurse.
    Clinical,
    /// Prescriber only.
    Prescriber,
    /// Administrator only.
    Admin,
    /// Nurse, prescriber, administrator.
    Ledger,
}
use Access::*;

impl Access {
    fn allows(self, role: Role) -> bool {
        match self {
            Public | Staff => true,
            Directory => matches!(role, Role::Prescriber | Role::Nurse | Role::FrontDesk),
            Clinical => matches!(role, Role::Prescriber | Role::Nurse),
            Prescriber => role == Role::Prescriber,
            Admin => role == Role::Admin,
            Ledger => matches!(role, Role::Prescriber | Role::Nurse | Role::Admin),
        }
    }
}

/// Every route and who may use it. Keep it in step with the router: the test says which
/// entries are missing or stale.
const MATRIX: &[(&str, &str, Access)] = &[
    ("GET", "/", Staff),
    ("GET", "/login", Public),
    ("POST", "/login", Public),
    ("POST", "/logout", Public),
    ("GET", "/session/ping", Staff),
    ("POST", "/display", Public),
    ("GET", "/patients", Directory),
    ("POST", "/patients", Directory),
    ("GET", "/patients/new", Directory),
    ("GET", "/patients/{id}", Directory),
    ("GET", "/patients/{id}/body", Clinical),
    ("POST", "/patients/{id}/body", Clinical),
    ("GET", "/patients/{id}/diagnoses", Clinical),
    ("POST", "/patients/{id}/diagnoses", Clinical),
    ("POST", "/patients/{id}/diagnoses/end", Clinical),
    ("GET", "/patients/{id}/intake", Clinical),
    ("POST", "/patients/{id}/intake", Clinical),
    ("GET", "/patients/{id}/medications", Clinical),
    ("POST", "/patients/{id}/medications", Clinical),
    ("POST", "/patients/{id}/medications/end", Clinical),
    ("GET", "/patients/{id}/courses", Clinical),
    ("POST", "/patients/{id}/courses", Prescriber),
    ("POST", "/patients/{id}/courses/{course}/dose", Prescriber),
    ("POST", "/patients/{id}/courses/{course}/status", Prescriber),
    ("POST", "/patients/{id}/rems", Clinical),
    ("GET", "/patients/{id}/consent", Clinical),
    ("POST", "/patients/{id}/consent", Clinical),
    ("GET", "/patients/{id}/screening", Clinical),
    ("POST", "/patients/{id}/screening", Clinical),
    ("POST", "/patients/{id}/screening/link", Clinical),
    ("GET", "/s/{secret}", Public),
    ("POST", "/s/{secret}", Public),
    (
        "POST",
        "/patients/{id}/screenings/{screening}/decision",
        Prescriber,
    ),
    ("POST", "/patients/{id}/trials", Clinical),
    ("POST", "/patients/{id}/trials/strike", Clinical),
    ("GET", "/patients/{id}/contact", Directory),
    ("POST", "/patients/{id}/contact", Directory),
    ("GET", "/patients/{id}/assessments/new", Clinical),
    ("POST", "/patients/{id}/assessments", Clinical),
    ("GET", "/patients/{id}/links", Clinical),
    ("POST", "/patients/{id}/links", Clinical),
    ("POST", "/patients/{id}/links/{link}/revoke", Clinical),
    ("GET", "/alerts/{id}", Clinical),
    ("POST", "/alerts/{id}/acknowledge", Clinical),
    ("GET", "/r/{secret}", Public),
    ("POST", "/r/{secret}", Public),
    ("GET", "/planner", Clinical),
    ("GET", "/protocols", Clinical),
    ("POST", "/protocols", Prescriber),
    ("GET", "/schedule", Directory),
    ("GET", "/schedule/day", Directory),
    ("GET", "/schedule/chairs/{id}/calendar.ics", Directory),
    ("GET", "/patients/{id}/appointments.ics", Directory),
    ("POST", "/schedule/close", Directory),
    ("POST", "/schedule/cancel-day", Directory),
    ("POST", "/schedule/arrived", Directory),
    ("GET", "/schedule/new", Directory),
    ("POST", "/schedule/new", Directory),
    ("POST", "/sessions/check-in", Clinical),
    ("GET", "/sessions/{id}", Clinical),
    ("POST", "/sessions/{id}/lock", Prescriber),
    ("GET", "/sessions/{id}/rems-form", Clinical),
    ("POST", "/sessions/{id}/{action}", Clinical),
    ("GET", "/board", Clinical),
    ("GET", "/board/events", Clinical),
    ("GET", "/rems/forms", Clinical),
    ("GET", "/ledger", Ledger),
    ("GET", "/ledger/log", Ledger),
    ("GET", "/ledger/reconciliation", Ledger),
    ("POST", "/ledger/verify", Ledger),
    ("POST", "/ledger/{action}", Clinical),
    ("GET", "/courses/{id}/book", Directory),
    ("POST", "/courses/{id}/book", Directory),
    ("GET", "/inquiry", Public),
    ("POST", "/inquiry", Public),
    ("GET", "/inquiry/thanks", Public),
    ("GET", "/inquiries", Directory),
    ("GET", "/inquiries/{id}", Directory),
    ("POST", "/inquiries/{id}/status", Directory),
    ("GET", "/admin/users", Admin),
    ("POST", "/admin/users", Admin),
    ("GET", "/admin/users/{id}", Admin),
    ("POST", "/admin/users/{id}/role", Admin),
    ("POST", "/admin/users/{id}/disable", Admin),
    ("POST", "/admin/users/{id}/enable", Admin),
    ("POST", "/admin/users/{id}/unlock", Admin),
    ("POST", "/admin/users/{id}/password", Admin),
    ("GET", "/admin/audit", Admin),
    ("POST", "/admin/audit/verify", Admin),
    ("GET", "/admin/consent", Admin),
    ("POST", "/admin/consent", Admin),
    ("GET", "/admin/clinic", Admin),
    ("POST", "/admin/clinic/rems", Admin),
    ("POST", "/admin/clinic/rooms", Admin),
    ("POST", "/admin/clinic/chairs", Admin),
    ("POST", "/admin/clinic/closed", Admin),
    ("POST", "/admin/clinic/closed/reopen", Admin),
    ("GET", "/account", Staff),
    ("GET", "/account/password", Staff),
    ("POST", "/account/password", Staff),
    ("POST", "/account/tokens", Staff),
    ("POST", "/account/tokens/{id}/revoke", Staff),
    ("GET", "/api/v1/openapi.json", Public),
    ("GET", "/api/v1/patients", Clinical),
    ("POST", "/api/v1/patients", Clinical),
    ("GET", "/api/v1/patients/{id}", Clinical),
    ("POST", "/api/v1/pk/simulate", Clinical),
    ("GET", "/api/v1/patients/{id}/assessments", Clinical),
    ("POST", "/api/v1/patients/{id}/assessments", Clinical),
    ("GET", "/api/v1/patients/{id}/screenings", Clinical),
    ("POST", "/api/v1/patients/{id}/screenings", Clinical),
    ("GET", "/api/v1/protocols", Clinical),
    ("GET", "/api/v1/courses", Clinical),
    ("POST", "/api/v1/courses", Prescriber),
    ("GET", "/api/v1/courses/{id}", Clinical),
    ("POST", "/api/v1/courses/{id}/status", Prescriber),
    ("POST", "/api/v1/courses/{id}/orders", Prescriber),
    ("GET", "/api/v1/chairs", Directory),
    ("GET", "/api/v1/appointments", Directory),
    ("POST", "/api/v1/appointments", Directory),
    ("POST", "/api/v1/appointments/{id}/cancel", Directory),
    ("POST", "/api/v1/appointments/{id}/no-show", Directory),
    ("GET", "/api/v1/sessions", Clinical),
    ("GET", "/api/v1/sessions/{id}", Clinical),
    ("POST", "/api/v1/sessions/{id}/vitals", Clinical),
    ("GET", "/static/app.css", Public),
    ("GET", "/static/app.js", Public),
    ("GET", "/static/favicon.svg", Public),
    ("GET", "/favicon.ico", Public),
    ("GET", "/healthz", Public),
];

const ROLES: [(&str, Role); 4] = [
    ("admin@example.org", Role::Admin),
    ("prescriber@example.org", Role::Prescriber),
    ("nurse@example.org", Role::Nurse),
    ("frontdesk@example.org", Role::FrontDesk),
];

/// A caller: a browser session (pages) and a bearer token (API), or neither.
struct Caller {
    role: Option<Role>,
    browser: Client,
    csrf: String,
    token: Option<String>,
}

/// A demo account signed in (its browser session and form token) with a bearer token of its own.
async fn signed_in(
    app: &TestApp,
    email: &str,
    role: Role,
    label: &str,
    now: jiff::Timestamp,
) -> Caller {
    let browser = TestApp::browser();
    let token = app.csrf(&browser, "/login").await;
    let res = app
        .post_form(
            &browser,
            "/login",
            &token,
            &[
                ("email", email),
                ("password", store::DEMO_PASSWORD),
                ("next", "/"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303, "sign-in of {email}");
    let csrf = app.csrf(&browser, "/account").await;
    let user = app.db.store.user_by_email(email).await.unwrap().unwrap();
    let (_, secret) = app
        .db
        .store
        .create_api_token(&Actor::user(&user), &user.id, label, now)
        .await
        .unwrap();
    Caller {
        role: Some(role),
        browser,
        csrf,
        token: Some(secret),
    }
}

async fn first(app: &TestApp, sql: &str) -> String {
    text_rows(&app.db.store, sql)
        .await
        .into_iter()
        .next()
        .and_then(|r| r.into_iter().next().flatten())
        .unwrap_or_else(|| panic!("the demo has no row for {sql}"))
}

/// Ids of real records for each kind of path parameter.
struct Ids {
    patient: String,
    course: String,
    session: String,
    alert: String,
    inquiry: String,
    chair: String,
    appointment: String,
    spare_user: String,
    spare_token: String,
    /// Links and screenings: any id (the routes only redirect or refuse).
    other: String,
}

impl Ids {
    /// The same id for every kind of record: a guess.
    fn every(guess: &str) -> Ids {
        let g = || guess.to_owned();
        Ids {
            patient: g(),
            course: g(),
            session: g(),
            alert: g(),
            inquiry: g(),
            chair: g(),
            appointment: g(),
            spare_user: g(),
            spare_token: g(),
            other: g(),
        }
    }

    /// `path` with its parameters filled from `self`.
    fn fill(&self, path: &str) -> String {
        let mut out = Vec::new();
        let parts: Vec<&str> = path.split('/').collect();
        for (i, part) in parts.iter().enumerate() {
            let before = if i > 0 { parts[i - 1] } else { "" };
            let value = match *part {
                "{id}" => match before {
                    "patients" => self.patient.clone(),
                    "courses" => self.course.clone(),
                    "sessions" => self.session.clone(),
                    "alerts" => self.alert.clone(),
                    "inquiries" => self.inquiry.clone(),
                    "chairs" => self.chair.clone(),
                    "appointments" => self.appointment.clone(),
                    "users" => self.spare_user.clone(),
                    "tokens" => self.spare_token.clone(),
                    other => panic!("no id for a {other} path: {path}"),
                },
                "{course}" => self.course.clone(),
                "{link}" | "{screening}" => self.other.clone(),
                "{secret}" => "a".repeat(43),
                "{action}" => match before {
                    "sessions" | "{id}" if path.starts_with("/sessions") => "vitals".to_owned(),
                    _ => "entry".to_owned(),
                },
                plain => plain.to_owned(),
            };
            out.push(value);
        }
        out.join("/")
    }
}

async fn send(app: &TestApp, caller: &Caller, method: &Method, path: &str) -> reqwest::Response {
    let api = path.starts_with("/api/");
    let mut req = caller.browser.request(method.clone(), app.url(path));
    if api {
        if let Some(t) = &caller.token {
            req = req.bearer_auth(t);
        }
        if *method != Method::GET {
            req = req.header("content-type", "application/json").body("{}");
        }
    } else if *method != Method::GET {
        req = req.form(&[("csrf", caller.csrf.as_str())]);
    }
    req.send().await.unwrap()
}

fn sent_to_sign_in(res: &reqwest::Response) -> bool {
    res.status() == StatusCode::UNAUTHORIZED
        || (res.status().is_redirection()
            && res
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .is_some_and(|l| l.starts_with("/login")))
}

async fn the_router_and_the_matrix_agree_for_every_role(app: &TestApp) {
    let now = jiff::Timestamp::now();
    app.db
        .store
        .seed_demo(now, now.to_zoned(jiff::tz::TimeZone::UTC).date())
        .await
        .unwrap();
    // Callers: anonymous first, then each role.
    let anonymous = {
        let browser = TestApp::browser();
        let csrf = app.csrf(&browser, "/login").await;
        Caller {
            role: None,
            browser,
            csrf,
            token: None,
        }
    };
    let site = app.db.store.first_site().await.unwrap().unwrap();
    let inquiry = clinical::inquiry::InquiryInput {
        given_name: "Ira".into(),
        family_name: "Asks".into(),
        phone: "+1 555 010 0199".into(),
        email: String::new(),
        contact_times: Vec::new(),
        heard_from: String::new(),
        question: String::new(),
    }
    .validate()
    .unwrap();
    app.db
        .store
        .create_inquiry(&site.id, &inquiry, now)
        .await
        .unwrap();
    let spare = app.user("spare@example.org", Role::Nurse).await;
    let (spare_token, _) = app
        .db
        .store
        .create_api_token(&Actor::user(&spare), &spare.id, "spare", now)
        .await
        .unwrap();
    let mut callers = vec![anonymous];
    for (email, role) in ROLES {
        callers.push(signed_in(app, email, role, "matrix", now).await);
    }
    let ids = Ids {
        patient: first(app, "select id from patients where is_demo = 1 order by id").await,
        course: first(app, "select id from courses order by id").await,
        session: first(app, "select id from treatment_sessions order by id").await,
        alert: first(app, "select id from alerts order by id").await,
        inquiry: first(app, "select id from inquiries order by id").await,
        chair: first(app, "select id from chairs order by id").await,
        appointment: first(app, "select id from appointments order by id").await,
        spare_user: spare.id.as_str().to_owned(),
        spare_token: spare_token.id.as_str().to_owned(),
        other: "0190aaaa-0000-7000-8000-00000000abcd".to_owned(),
    };

    // The methods each path answers, found by asking: 405 means the router has none.
    let mut served = BTreeSet::new();
    for path in &app.routes {
        for method in [Method::GET, Method::POST, Method::PUT, Method::DELETE] {
            let filled = ids.fill(path);
            let res = send(app, &callers[0], &method, &filled).await;
            if res.status() != StatusCode::METHOD_NOT_ALLOWED {
                served.insert((method.as_str().to_owned(), path.clone()));
            }
        }
    }
    let listed: BTreeSet<_> = MATRIX
        .iter()
        .map(|(m, p, _)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    let missing: Vec<_> = served.difference(&listed).collect();
    assert!(
        missing.is_empty(),
        "routes without a matrix entry: {missing:?}"
    );
    let stale: Vec<_> = listed.difference(&served).collect();
    assert!(
        stale.is_empty(),
        "matrix entries the router does not serve: {stale:?}"
    );

    // Every route, every caller; signing out comes last.
    let mut order: Vec<_> = MATRIX.iter().collect();
    order.sort_by_key(|(_, p, _)| *p == "/logout");
    let mut checked = 0;
    for (method, path, access) in order {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let filled = ids.fill(path);
        for caller in &callers {
            let res = send(app, caller, &method, &filled).await;
            let status = res.status();
            let who = caller
                .role
                .map_or("anonymous".to_owned(), |r| r.to_string());
            assert!(
                !status.is_server_error(),
                "{method} {path} as {who}: {status}"
            );
            match (access, caller.role) {
                (Public, _) => assert_ne!(status, 403, "{method} {path} as {who}"),
                (_, None) => assert!(
                    sent_to_sign_in(&res),
                    "{method} {path} anonymously answered {status}"
                ),
                (access, Some(role)) if access.allows(role) => assert!(
                    status != 403 && !sent_to_sign_in(&res),
                    "{method} {path} as {who} ({access:?}) answered {status}"
                ),
                (access, Some(_)) => assert_eq!(
                    status, 403,
                    "{method} {path} as {who} ({access:?}) should be refused"
                ),
            }
            checked += 1;
        }
    }
    assert!(checked >= MATRIX.len() * 5);
    eprintln!(
        "authorization matrix: {} routes x {} callers = {checked} requests",
        MATRIX.len(),
        callers.len()
    );
}

async fn ids_of_another_site_or_of_nothing_open_nothing(app: &TestApp) {
    let now = jiff::Timestamp::now();
    app.db
        .store
        .seed_demo(now, now.to_zoned(jiff::tz::TimeZone::UTC).date())
        .await
        .unwrap();
    // A second site of the same database, with a patient of its own.
    app.db
        .raw(
            "insert into sites (id, name, timezone, is_demo, created_at)
             values ('0190aaaa-0000-7000-8000-000000000000', 'North clinic', 'UTC', 0, 0)",
        )
        .await;
    let elsewhere = store::SiteId::parse("0190aaaa-0000-7000-8000-000000000000").unwrap();
    let patient = clinical::patient::PatientInput {
        given_name: "Other".into(),
        family_name: "Site".into(),
        date_of_birth: "1970-02-02".into(),
        sex: "male".into(),
        ..Default::default()
    }
    .validate(now.to_zoned(jiff::tz::TimeZone::UTC).date())
    .unwrap();
    let theirs = app
        .db
        .store
        .create_patient(&Actor::system("test"), &elsewhere, &patient, now)
        .await
        .unwrap();
    let mut checked = 0;
    for (email, role) in ROLES {
        let caller = signed_in(app, email, role, "guess", now).await;
        for (method, path, _) in MATRIX
            .iter()
            .filter(|(m, p, _)| *m == "GET" && p.contains("{id}"))
        {
            let method = Method::from_bytes(method.as_bytes()).unwrap();
            let mut guesses = vec!["0190ffff-0000-7000-8000-000000000000".to_owned()];
            if path.contains("/patients/{id}") {
                guesses.push(theirs.id.as_str().to_owned());
            }
            for guess in guesses {
                let filled = Ids::every(&guess).fill(path);
                let res = send(app, &caller, &method, &filled).await;
                let status = res.status();
                // Refused, not found, or sent elsewhere (a form's page that only redirects):
                // never the record, never a failure.
                assert!(
                    status == 404 || status == 403 || status == 303,
                    "{method} {filled} as {role} answered {status}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 50, "{checked}");
    eprintln!("id guessing: {checked} requests, each 403 or 404");
}

/// The demo accounts sign in only in demo mode.
macro_rules! in_demo_mode {
    ($($scenario:ident),* $(,)?) => {
        $(
            mod $scenario {
                #[tokio::test]
                async fn sqlite() {
                    let app = TestApp::spawn_with(store::Backend::Sqlite, true).await;
                    super::$scenario(&app).await;
                    app.finish().await;
                }
                #[tokio::test]
                async fn postgres() {
                    let app = TestApp::spawn_with(store::Backend::Postgres, true).await;
                    super::$scenario(&app).await;
                    app.finish().await;
                }
                use crate::support::TestApp;
            }
        )*
    };
}

in_demo_mode!(
    the_router_and_the_matrix_agree_for_every_role,
    ids_of_another_site_or_of_nothing_open_nothing
);
