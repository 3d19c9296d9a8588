//! Ketaflow's HTTP server.
//!
//! Server-rendered pages that work without JavaScript, a JSON API under `/api/v1` described by
//! an OpenAPI document generated from the handlers, sign-in with sessions or bearer tokens, and
//! per-route capabilities derived from staff roles.
//!
//! Where to start:
//! - [`router`] assembles every route and the layers around them.
//! - `auth.rs` resolves who a request comes from; `capability.rs` says what each role may do.
//! - `pages/` holds one module per area of the interface, `api/` the JSON endpoints.
//!
//! This is the only crate that knows HTTP and HTML.

mod api;
mod assets;
mod auth;
mod capability;
mod chart;
mod compute;
mod csrf;
mod display;
mod error;
pub mod fuzzing;
mod headers;
mod ids;
mod markdown;
mod pages;
mod routes;
pub mod scenario;
mod throttle;
mod tls;
mod view;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::middleware;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use store::{LoginSettings, Store};
use tower::ServiceExt;

pub use api::openapi_json;
pub use chart::{ChartError, concentration_svg};
pub use routes::route_paths;
pub use tls::{Tls, TlsError, load_tls};

/// Settings the server needs, built once from the configuration.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Sign-in rules: lockout, idle timeout, demo mode.
    pub login: LoginSettings,
    /// Mark cookies `Secure` even when no proxy says the request came over TLS.
    pub secure_cookies: bool,
    /// The Ketaflow version reported by `/healthz` and shown in the footer.
    pub version: &'static str,
    /// How long a patient self-report link stays usable.
    pub self_report_link: jiff::SignedDuration,
    /// Crisis resources shown to patients on self-report pages.
    pub crisis_message: String,
    /// The clinic's caps on racemic ketamine doses, by route.
    pub dose_caps: pk::dose::DoseCaps,
    /// The smallest dose and shortest infusion the dose planner plans.
    pub planning_floor: pk::dose::PlanningFloor,
    /// The candidate screening's thresholds.
    pub screening: clinical::screening::ScreeningSettings,
    /// Default lengths of appointments by kind.
    pub durations: clinical::booking::KindDurations,
    /// Thresholds of the alerts vital signs raise during a session.
    pub session_alerts: clinical::session::AlertSettings,
    /// When the dissociation and sedation scales are taken in the chair.
    pub session_scales: clinical::session::ScaleSettings,
    /// Whether waste and breakage of controlled substances need a second person's witness.
    pub ledger_witness: bool,
    /// Days an opened vial may be drawn from after its first entry (0: single use).
    pub opened_vial_days: u32,
    /// How long public inquiries are kept.
    pub inquiry_retention: jiff::SignedDuration,
    /// When the clinic calls back, as the thank-you page says it ("within one working day").
    pub inquiry_call_back: String,
    /// Bounds on connections and requests.
    pub limits: Limits,
}

/// Bounds on what one connection, one request and one address may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Time a client has to send a request's headers (slow clients hold a connection open).
    pub header_read_timeout: Duration,
    /// Time a client has to send a request's body.
    pub body_read_timeout: Duration,
    /// Time a simulation may compute before it is stopped and refused.
    pub simulation_deadline: Duration,
    /// Time the audit page's check of the trail may take before it stops and says how far it
    /// got (`ketaflow audit verify` checks the whole trail, however long).
    pub check_deadline: Duration,
    /// Sign-in attempts one address may make per minute.
    pub sign_in_per_minute: u32,
    /// Requests one address may make per minute to the public pages (self-report links).
    pub public_per_minute: u32,
    /// Bearer tokens one address may have looked up in the database per minute. A token
    /// checked in the last [`store::TOKEN_CHECK_TTL`] is not looked up again, so this bounds
    /// the queries made-up tokens cause, not a client's use of its own token.
    pub token_checks_per_minute: u32,
    /// Lines one ledger report holds (the dispensing log, its CSV, the inventory records, the
    /// reconciliation with sessions): a longer period is shown up to this many with a warning,
    /// and its CSV is refused, so the reader chooses shorter periods.
    pub report_lines: u32,
}

impl Default for Limits {
    /// 10 s for headers, 15 s for a body, 10 s for a simulation, 20 s for a check of the audit
    /// trail, 10 sign-ins, 60 public requests and 600 token look-ups per address and minute,
    /// 5,000 lines a ledger report.
    fn default() -> Self {
        Limits {
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(15),
            simulation_deadline: Duration::from_secs(10),
            check_deadline: Duration::from_secs(20),
            sign_in_per_minute: 10,
            public_per_minute: 60,
            token_checks_per_minute: 600,
            report_lines: 5000,
        }
    }
}

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    config: WebConfig,
    sign_in_throttle: throttle::Config,
    public_throttle: throttle::Config,
    token_throttle: throttle::Config,
}

impl AppState {
    /// Bundles the store and the configuration.
    pub fn new(store: Store, config: WebConfig) -> Self {
        let sign_in_throttle = throttle::per_minute(config.limits.sign_in_per_minute);
        let public_throttle = throttle::per_minute(config.limits.public_per_minute);
        let token_throttle = throttle::per_minute(config.limits.token_checks_per_minute);
        AppState {
            inner: Arc::new(Inner {
                store,
                config,
                sign_in_throttle,
                public_throttle,
                token_throttle,
            }),
        }
    }

    pub(crate) fn sign_in_throttle(&self) -> &throttle::Config {
        &self.inner.sign_in_throttle
    }

    pub(crate) fn public_throttle(&self) -> &throttle::Config {
        &self.inner.public_throttle
    }

    pub(crate) fn token_throttle(&self) -> &throttle::Config {
        &self.inner.token_throttle
    }

    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }

    pub(crate) fn config(&self) -> &WebConfig {
        &self.inner.config
    }
}

/// The whole application: pages, API, static assets and the layers every response passes.
pub fn router(state: AppState) -> Router {
    let pages = pages::router(&state)
        .router
        .layer(middleware::from_fn_with_state(state.clone(), csrf::guard));
    let body_timeout = state.config().limits.body_read_timeout;
    Router::new()
        .merge(pages)
        .nest("/api/v1", api::router().router)
        .merge(assets::router().router)
        .route(routes::HEALTHZ, axum::routing::get(api::health::healthz))
        .fallback(error::not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            error::with_navigation,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::identify,
        ))
        .layer(middleware::from_fn(headers::security_headers))
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
            body_timeout,
        ))
        .layer(
            tower_http::trace::TraceLayer::new_for_http().make_span_with(
                |req: &axum::http::Request<axum::body::Body>| {
                    let path = req
                        .extensions()
                        .get::<axum::extract::MatchedPath>()
                        .map_or("unmatched", |p| p.as_str());
                    tracing::info_span!("request", method = %req.method(), path)
                },
            ),
        )
        .with_state(state)
}

/// How long a stopping server waits for requests in flight.
const DRAIN: Duration = Duration::from_secs(10);

/// How often the server deletes what has outlived its retention period.
const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(60 * 60);

/// Deletes public inquiries past the retention period, at start and then every hour. Every
/// process of a clinic network may do it: the delete is one statement, idempotent.
fn spawn_housekeeping(state: AppState) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(HOUSEKEEPING_EVERY);
        loop {
            every.tick().await;
            let now = jiff::Timestamp::now();
            let before = now
                .checked_sub(state.config().inquiry_retention)
                .unwrap_or(now);
            match state.store().purge_inquiries(before, now).await {
                Ok(0) => {}
                Ok(n) => {
                    tracing::info!(inquiries = n, "purged inquiries past the retention period")
                }
                Err(e) => {
                    tracing::warn!(error = %e, "purging old inquiries failed; trying again in an hour")
                }
            }
        }
    });
}

/// Serves `router` on `listener` until `shutdown` completes, then lets requests in flight
/// finish (for at most ten seconds).
///
/// Each connection speaks HTTP/1.1 or HTTP/2, must send its headers within
/// [`Limits::header_read_timeout`] (so slow clients cannot hold connections open), and carries
/// the peer's address for per-address throttling.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, state, None, shutdown).await
}

/// Like [`serve`], speaking HTTPS with `tls` when given: the handshake runs in the
/// connection's own task within the header-read timeout (a client that stalls it holds only its
/// own connection), HTTP/2 or HTTP/1.1 as the client chose by ALPN, and every answer carries
/// Strict-Transport-Security.
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    state: AppState,
    tls: Option<Tls>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = state.config().limits;
    spawn_housekeeping(state.clone());
    throttle::spawn_cleanup(vec![
        state.sign_in_throttle().clone(),
        state.public_throttle().clone(),
        state.token_throttle().clone(),
    ]);
    let mut app = router(state);
    if tls.is_some() {
        app = app.layer(middleware::map_response(tls::hsts));
    }
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(Duration::from_secs(30)));
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service =
            app.clone()
                .map_request(move |mut req: axum::http::Request<hyper::body::Incoming>| {
                    req.extensions_mut()
                        .insert(ConnectInfo::<SocketAddr>(remote));
                    req
                });
        let service = hyper_util::service::TowerToHyperService::new(service);
        match &tls {
            None => {
                let conn = builder
                    .serve_connection_with_upgrades(TokioIo::new(stream), service)
                    .into_owned();
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    // A client that goes away mid-request is not a server error.
                    let _ = conn.await;
                });
            }
            Some(tls) => {
                let (acceptor, builder, watcher) =
                    (tls.acceptor.clone(), builder.clone(), graceful.watcher());
                let handshake_timeout = limits.header_read_timeout;
                tokio::spawn(async move {
                    // A failed or stalled handshake ends this connection only.
                    let Ok(Ok(stream)) =
                        tokio::time::timeout(handshake_timeout, acceptor.accept(stream)).await
                    else {
                        return;
                    };
                    let conn = builder
                        .serve_connection_with_upgrades(TokioIo::new(stream), service)
                        .into_owned();
                    let _ = watcher.watch(conn).await;
                });
            }
        }
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(DRAIN) => {
            tracing::warn!("requests still running after {DRAIN:?} were cut off");
        }
    }
    Ok(())
}
