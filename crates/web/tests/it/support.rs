//! `TestApp`: a running server, its database, and one method per route the tests use.

use clinical::patient::Email;
use reqwest::{Client, Response, redirect};
use store::testing::TestDb;
use store::{Actor, Backend, LoginSettings, PasswordHash, Role, User};

pub(crate) const PASSWORD: &str = "a long test password";

/// The time zone of the clinic a test makes.
pub(crate) const CLINIC_ZONE: &str = "America/Chicago";

pub(crate) struct TestApp {
    pub(crate) base: String,
    pub(crate) db: TestDb,
    /// Every path the router serves (`web::route_paths`).
    pub(crate) routes: Vec<String>,
    server: tokio::task::JoinHandle<()>,
}

impl TestApp {
    pub(crate) async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, false).await
    }

    pub(crate) async fn spawn_with(backend: Backend, demo_mode: bool) -> TestApp {
        Self::spawn_full(
            backend,
            demo_mode,
            web::Limits {
                header_read_timeout: std::time::Duration::from_secs(2),
                ..web::Limits::default()
            },
        )
        .await
    }

    pub(crate) async fn spawn_full(
        backend: Backend,
        demo_mode: bool,
        limits: web::Limits,
    ) -> TestApp {
        let db = TestDb::new(backend).await;
        let state = web::AppState::new(
            db.store.clone(),
            web::WebConfig {
                login: LoginSettings {
                    demo_mode,
                    ..LoginSettings::default()
                },
                secure_cookies: false,
                version: "test",
                self_report_link: jiff::SignedDuration::from_hours(72),
                crisis_message: "Call or text 988 now.".into(),
                dose_caps: pk::dose::DoseCaps::default(),
                planning_floor: pk::dose::PlanningFloor::default(),
                screening: clinical::screening::ScreeningSettings::default(),
                durations: clinical::booking::KindDurations::default(),
                session_alerts: clinical::session::AlertSettings::default(),
                session_scales: clinical::session::ScaleSettings::default(),
                ledger_witness: true,
                opened_vial_days: clinical::ledger::OPENED_VIAL_DAYS,
                inquiry_retention: jiff::SignedDuration::from_hours(24 * 90),
                inquiry_call_back: "within one working day".into(),
                limits,
            },
        );
        let routes = web::route_paths(&state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            web::serve(listener, state, std::future::pending())
                .await
                .unwrap();
        });
        TestApp {
            base,
            db,
            routes,
            server,
        }
    }

    pub(crate) async fn finish(self) {
        self.server.abort();
        self.db.finish().await;
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A staff account with `role` at the clinic (made on first use, in [`CLINIC_ZONE`]).
    pub(crate) async fn user(&self, email: &str, role: Role) -> User {
        self.user_named(email, "Test Person", role).await
    }

    /// A staff account of the test clinic with its own display name.
    pub(crate) async fn user_named(&self, email: &str, name: &str, role: Role) -> User {
        let now = jiff::Timestamp::now();
        let site = self
            .db
            .store
            .ensure_site(&Actor::system("test"), "Test Clinic", CLINIC_ZONE, now)
            .await
            .unwrap();
        self.db
            .store
            .create_user(
                &Actor::system("test"),
                &site.id,
                store::NewUser {
                    email: &Email::parse(email).unwrap(),
                    display_name: name,
                    role,
                    password: &PasswordHash::new(PASSWORD).unwrap(),
                },
                now,
            )
            .await
            .unwrap()
    }

    /// The newest audit events of the test clinic (and those of no site), newest first.
    pub(crate) async fn audit(&self) -> Vec<store::AuditRecord> {
        let site = self.db.store.first_site().await.unwrap().unwrap();
        self.db
            .store
            .audit_events(&site.id, 1000, None)
            .await
            .unwrap()
    }

    /// Changes a row of a hash chain behind the application's back: drops the guard `trigger`
    /// on `table`, then runs `change`.
    pub(crate) async fn tamper(&self, trigger: &str, table: &str, change: &str) {
        let on = match self.db.store.backend() {
            Backend::Sqlite => String::new(),
            Backend::Postgres => format!(" on {table}"),
        };
        self.db.raw(&format!("drop trigger {trigger}{on}")).await;
        self.db.raw(change).await;
    }

    /// The page a chain check (`path`, a form with no fields) answers with.
    pub(crate) async fn check_page(&self, client: &Client, path: &str, token: &str) -> String {
        self.post_form(client, path, token, &[])
            .await
            .text()
            .await
            .unwrap()
    }

    /// A bearer token for a new account with `role`.
    pub(crate) async fn token(&self, role: Role) -> String {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let user = self
            .user(
                &format!("{}{n}@example.org", role.code().replace('_', "")),
                role,
            )
            .await;
        let (_, secret) = self
            .db
            .store
            .create_api_token(
                &Actor::user(&user),
                &user.id,
                "test",
                jiff::Timestamp::now(),
            )
            .await
            .unwrap();
        secret
    }

    /// A browser-like client: keeps cookies, does not follow redirects (tests look at them).
    pub(crate) fn browser() -> Client {
        Client::builder()
            .cookie_store(true)
            .redirect(redirect::Policy::none())
            .build()
            .unwrap()
    }

    pub(crate) async fn get(&self, client: &Client, path: &str) -> Response {
        client.get(self.url(path)).send().await.unwrap()
    }

    /// The form token in a page (the value of the first `name="csrf"` input).
    pub(crate) async fn csrf(&self, client: &Client, path: &str) -> String {
        let html = self.get(client, path).await.text().await.unwrap();
        form_token(&html)
    }

    /// Sends a form the way a browser does, with the page's own form token.
    pub(crate) async fn post_form(
        &self,
        client: &Client,
        path: &str,
        token: &str,
        fields: &[(&str, &str)],
    ) -> Response {
        let mut body: Vec<(&str, &str)> = vec![("csrf", token)];
        body.extend_from_slice(fields);
        client
            .post(self.url(path))
            .form(&body)
            .send()
            .await
            .unwrap()
    }

    /// Registers a patient through the form and returns the new record's id.
    pub(crate) async fn register(
        &self,
        client: &reqwest::Client,
        given: &str,
        family: &str,
        born: &str,
    ) -> String {
        let token = self.csrf(client, "/patients/new").await;
        let res = self
            .post_form(
                client,
                "/patients",
                &token,
                &[
                    ("given_name", given),
                    ("family_name", family),
                    ("date_of_birth", born),
                    ("sex", "female"),
                ],
            )
            .await;
        assert_eq!(res.status(), 303, "registering {given} {family}");
        let location = res.headers()["location"].to_str().unwrap().to_owned();
        location
            .trim_start_matches("/patients/")
            .trim_end_matches("?created=1")
            .to_owned()
    }

    /// Signs `email` in and returns the client holding the session.
    pub(crate) async fn signed_in(&self, email: &str) -> Client {
        let client = Self::browser();
        let token = self.csrf(&client, "/login").await;
        let res = self
            .post_form(
                &client,
                "/login",
                &token,
                &[("email", email), ("password", PASSWORD), ("next", "/")],
            )
            .await;
        assert_eq!(res.status(), 303, "sign-in of {email} failed");
        client
    }
}

/// What follows a page's alert marker: the alert and the rest of the page.
pub(crate) fn alert_of(page: &str) -> &str {
    page.split("role=\"alert\"")
        .nth(1)
        .expect("the page has an alert")
}

pub(crate) fn form_token(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).expect("page has a form token") + marker.len();
    html[start..start + 64].to_owned()
}

/// Declares `sqlite` and `postgres` tests that run the same scenario.
#[macro_export]
macro_rules! on_both {
    ($($scenario:ident),* $(,)?) => {
        $(
            mod $scenario {
                #[tokio::test]
                async fn sqlite() {
                    let app = $crate::support::TestApp::spawn(store::Backend::Sqlite).await;
                    super::$scenario(&app).await;
                    app.finish().await;
                }
                #[tokio::test]
                async fn postgres() {
                    let app = $crate::support::TestApp::spawn(store::Backend::Postgres).await;
                    super::$scenario(&app).await;
                    app.finish().await;
                }
            }
        )*
    };
}

/// Writes an administration of 20 mg from `vial` dated `days` ago, as `actor`: the vial was
/// opened then. The day it was opened at the clinic.
pub(crate) async fn opened_days_ago(
    app: &TestApp,
    actor: &store::Actor,
    site: &store::SiteId,
    vial: &str,
    days: i64,
) -> jiff::civil::Date {
    let at = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24 * days);
    app.db
        .store
        .write_ledger_entry(
            actor,
            site,
            &store::NewEntry::new(clinical::ledger::EntryKind::Administration, vial, 20.0),
            true,
            at.to_zoned(jiff::tz::TimeZone::UTC).date(),
            at,
        )
        .await
        .unwrap()
        .unwrap();
    at.to_zoned(jiff::tz::TimeZone::get(CLINIC_ZONE).unwrap())
        .date()
}
