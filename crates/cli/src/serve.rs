//! `ketaflow serve` and `ketaflow healthcheck`.

use anyhow::Context;
use store::{DatabaseUrl, Store};
use tracing_subscriber::EnvFilter;

use crate::config::Config;

/// Installs the log subscriber once: `RUST_LOG` if set, else the configured filter.
pub(crate) fn init_tracing(config: &Config) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&config.log.filter))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .try_init();
}

pub(crate) async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let url = DatabaseUrl::parse(&config.database.url).context("configuration: database.url")?;
    Store::connect(&url)
        .await
        .with_context(|| format!("opening the database {url}"))
}

pub(crate) async fn serve(config: Config, demo: bool) -> anyhow::Result<()> {
    let addr = config.addr()?;
    let tls = match (&config.server.tls_cert, &config.server.tls_key) {
        (None, None) => None,
        (Some(cert), Some(key)) => Some(
            web::load_tls(cert, key)
                .map_err(|e| anyhow::Error::new(crate::InputError(format!("TLS: {e}"))))?,
        ),
        _ => {
            return Err(anyhow::Error::new(crate::InputError(
                "TLS needs both --tls-cert and --tls-key (server.tls_cert and server.tls_key); give both, or neither to serve plain HTTP behind a TLS proxy".into(),
            )));
        }
    };
    let store = open_store(&config).await?;
    let tz = jiff::tz::TimeZone::get(&config.clinic.timezone).with_context(|| {
        format!(
            "configuration: clinic.timezone '{}' is not an IANA time zone",
            config.clinic.timezone
        )
    })?;
    if demo {
        let now = jiff::Timestamp::now();
        let today = now.to_zoned(tz).date();
        let seed = store.seed_demo(now, today).await.map_err(|e| match e {
            store::StoreError::NotADemoDatabase { .. } => {
                anyhow::Error::new(crate::InputError(e.to_string()))
            }
            other => anyhow::Error::new(other).context("seeding demo data"),
        })?;
        println!(
            "Demo clinic \"{}\" is ready ({} accounts and {} patients added this time).",
            seed.site.name, seed.users_created, seed.patients_created
        );
        println!(
            "Sign in with any of these accounts; the password is {}",
            store::DEMO_PASSWORD
        );
        for a in store::demo_accounts() {
            println!("  {:<12} {}", a.role.label(), a.email);
        }
    } else if store.first_site().await?.is_none() {
        println!(
            "No accounts yet. Create the first with:\n  ketaflow user add --email you@clinic.example --role admin --password-stdin"
        );
    }
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| {
        format!(
            "listening on {addr} (is another server using the port? choose another with --addr)"
        )
    })?;
    let local = listener.local_addr().context("reading the bound address")?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    println!(
        "Ketaflow is serving on {scheme}://{local} (database: {})",
        store.backend().name()
    );
    let state = web::AppState::new(
        store.clone(),
        web::WebConfig {
            login: config.login_settings(demo),
            secure_cookies: config.server.secure_cookies || tls.is_some(),
            version: env!("CARGO_PKG_VERSION"),
            self_report_link: jiff::SignedDuration::from_hours(config.self_report.link_hours),
            crisis_message: config.self_report.crisis_message.trim().to_owned(),
            dose_caps: config.dosing.caps(),
            planning_floor: config.dosing.floor(),
            screening: config.screening.settings(),
            durations: config.appointments.durations(),
            session_alerts: config.session_alerts.settings(),
            session_scales: config.session_scales.settings(),
            ledger_witness: config.ledger.witness_waste,
            opened_vial_days: config.ledger.opened_vial_days,
            inquiry_retention: jiff::SignedDuration::from_hours(24 * config.inquiry.retention_days),
            inquiry_call_back: config.inquiry.call_back.trim().to_owned(),
            limits: config.limits.limits(),
        },
    );
    web::serve_with(listener, state, tls, shutdown_signal())
        .await
        .context("serving HTTP")?;
    store.close().await;
    println!("Ketaflow stopped.");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

pub(crate) async fn healthcheck(base: &str) -> anyhow::Result<()> {
    let url = format!("{}/healthz", base.trim_end_matches('/'));
    let res = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(5))
        .build()
        .context("building the HTTP client")?
        .get(&url)
        .send()
        .await
        .with_context(|| format!("requesting {url}"))?;
    let status = res.status();
    let body = res.text().await.unwrap_or_default();
    if !status.is_success() {
        anyhow::bail!("{url} answered {status}: {body}");
    }
    println!("{body}");
    Ok(())
}
