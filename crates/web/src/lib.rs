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
mod csrf;
mod display;
mod error;
mod headers;
mod ids;
mod pages;
pub mod scenario;
mod view;

use std::sync::Arc;

use axum::Router;
use axum::middleware;
use store::{LoginSettings, Store};

pub use api::openapi_json;
pub use chart::concentration_svg;

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
}

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    config: WebConfig,
}

impl AppState {
    /// Bundles the store and the configuration.
    pub fn new(store: Store, config: WebConfig) -> Self {
        AppState {
            inner: Arc::new(Inner { store, config }),
        }
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
    let pages = pages::router().layer(middleware::from_fn_with_state(state.clone(), csrf::guard));
    Router::new()
        .merge(pages)
        .nest("/api/v1", api::router())
        .merge(assets::router())
        .route("/healthz", axum::routing::get(api::health::healthz))
        .fallback(error::not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::identify,
        ))
        .layer(middleware::from_fn(headers::security_headers))
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

/// Serves `router` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}
