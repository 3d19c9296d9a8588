//! The session benchmark (`bench/sessions`): a demo clinic with 20 patients in chairs, then
//! (a) vitals ingest: 20 chairs each posting batches of 10 observations with an
//! `Idempotency-Key`, as fast as answers come, beside `GET /healthz` from the same 20 clients
//! as the reference; (b) the chair board with 20 active sessions, fetched one at a time by a
//! signed-in nurse, beside `/healthz` fetched the same way. Prints a Markdown table.
//!
//! `cargo run --release -p web --example session_load -- [sqlite|postgres] [seconds]`

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use store::testing::TestDb;

/// The same allocator as the `ketaflow` binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CHAIRS: usize = 20;
const BATCH: usize = 10;
const BOARD_FETCHES: usize = 400;

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// Posts batches (or reads `/healthz` when `sessions` is empty) from 20 clients for `secs`;
/// the number of successful requests.
async fn hammer(base: &str, token: &str, sessions: &[String], secs: u64) -> (u64, f64) {
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let stop = start + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for chair in 0..CHAIRS {
        let client = reqwest::Client::new();
        let url = if sessions.is_empty() {
            format!("{base}/healthz")
        } else {
            format!(
                "{base}/api/v1/sessions/{}/vitals",
                sessions[chair % sessions.len()]
            )
        };
        let token = token.to_owned();
        let done = done.clone();
        let vitals = !sessions.is_empty();
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while Instant::now() < stop {
                n += 1;
                let ok = if vitals {
                    let now = jiff::Timestamp::now().to_string();
                    let obs: Vec<_> = (0..BATCH)
                        .map(|i| {
                            serde_json::json!({"taken_at": now, "systolic_mmhg": 120 + i,
                                "diastolic_mmhg": 80, "heart_rate_bpm": 72, "spo2_percent": 98,
                                "respiratory_rate_per_min": 14})
                        })
                        .collect();
                    client
                        .post(&url)
                        .bearer_auth(&token)
                        .header("Idempotency-Key", format!("bench-{chair}-{n}"))
                        .json(&serde_json::json!({ "observations": obs }))
                        .send()
                        .await
                        .map(|r| r.status().as_u16() == 201)
                        .unwrap_or(false)
                } else {
                    client
                        .get(&url)
                        .send()
                        .await
                        .map(|r| r.status().is_success())
                        .unwrap_or(false)
                };
                if ok {
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    (done.load(Ordering::Relaxed), start.elapsed().as_secs_f64())
}

async fn latencies(client: &reqwest::Client, url: &str) -> Vec<Duration> {
    let mut out = Vec::with_capacity(BOARD_FETCHES);
    for _ in 0..BOARD_FETCHES {
        let t = Instant::now();
        let ok = client
            .get(url)
            .send()
            .await
            .map(|r| r.status().is_success())
            .unwrap_or(false);
        if ok {
            out.push(t.elapsed());
        }
    }
    out.sort();
    out
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let backend = match args.next().as_deref() {
        Some("postgres") => store::Backend::Postgres,
        _ => store::Backend::Sqlite,
    };
    let secs: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(10);
    let db = TestDb::new(backend).await;
    let now = jiff::Timestamp::now();
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    db.store.seed_demo(now, today).await?;
    let seated = store::testing::seat_patients(&db.store, CHAIRS - 2, now).await?;
    let site = db.store.first_site().await?.ok_or("no site")?;
    let nurse = db
        .store
        .user_by_email("nurse@example.org")
        .await?
        .ok_or("no nurse")?;
    let (_, token) = db
        .store
        .create_api_token(&store::Actor::user(&nurse), &nurse.id, "bench", now)
        .await?;
    let active = db.store.board_sessions(&site.id).await?;
    let sessions: Vec<String> = active.iter().map(|s| s.id.as_str().to_owned()).collect();
    eprintln!(
        "{} active sessions ({} seated for the benchmark)",
        sessions.len(),
        seated.len()
    );
    let state = web::AppState::new(
        db.store.clone(),
        web::WebConfig {
            login: store::LoginSettings {
                demo_mode: true,
                ..store::LoginSettings::default()
            },
            secure_cookies: false,
            version: "bench",
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
            limits: web::Limits {
                sign_in_per_minute: 1000,
                ..web::Limits::default()
            },
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let server = tokio::spawn(web::serve(listener, state, std::future::pending()));

    let (health, health_secs) = hammer(&base, &token, &[], secs).await;
    let (batches, vitals_secs) = hammer(&base, &token, &sessions, secs).await;
    let mut stored = 0;
    for s in &active {
        stored += db
            .store
            .treatment_session(&store::Actor::user(&nurse), &site.id, &s.id, now)
            .await?
            .vitals
            .len();
    }
    let health_rps = health as f64 / health_secs;
    let obs_rps = (batches as usize * BATCH) as f64 / vitals_secs;

    // The board as a signed-in nurse sees it.
    let client = reqwest::Client::builder().cookie_store(true).build()?;
    let login = client
        .get(format!("{base}/login"))
        .send()
        .await?
        .text()
        .await?;
    let marker = "name=\"csrf\" value=\"";
    let start = login.find(marker).ok_or("no form token")? + marker.len();
    let csrf = &login[start..start + login[start..].find('"').ok_or("no form token")?];
    let res = client
        .post(format!("{base}/login"))
        .form(&[
            ("csrf", csrf),
            ("email", "nurse@example.org"),
            ("password", store::DEMO_PASSWORD),
            ("next", "/"),
        ])
        .send()
        .await?;
    if !res.status().is_success() {
        return Err(format!("sign-in answered {}", res.status()).into());
    }
    let board_html = client
        .get(format!("{base}/board"))
        .send()
        .await?
        .text()
        .await?;
    let cards = board_html.matches("class=\"board-card").count();
    let health_lat = latencies(&client, &format!("{base}/healthz")).await;
    let board_lat = latencies(&client, &format!("{base}/board")).await;
    server.abort();

    println!("| measure | figure | reference (same run) | ratio |");
    println!("| --- | --- | --- | --- |");
    println!(
        "| vitals ingest, {CHAIRS} chairs × batches of {BATCH} | {obs_rps:.0} observations/s ({:.0} posts/s) | GET /healthz from the same {CHAIRS} clients: {health_rps:.0} requests/s | {:.3}× in requests |",
        batches as f64 / vitals_secs,
        (batches as f64 / vitals_secs) / health_rps
    );
    println!(
        "| chair board, {cards} sessions, p50 / p99 | {:.2} / {:.2} ms | GET /healthz one at a time: {:.2} / {:.2} ms | {:.1}× at p99 |",
        percentile(&board_lat, 0.5),
        percentile(&board_lat, 0.99),
        percentile(&health_lat, 0.5),
        percentile(&health_lat, 0.99),
        percentile(&board_lat, 0.99) / percentile(&health_lat, 0.99).max(1e-9)
    );
    eprintln!(
        "{} observations stored in the active sessions ({} posted in the run)",
        stored,
        batches as usize * BATCH
    );
    db.finish().await;
    Ok(())
}
