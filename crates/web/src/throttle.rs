//! Per-address throttling of the doors anyone can knock on: the sign-in form, the public
//! patient pages, and bearer tokens the database is asked about. It slows guessing from one
//! address down; the account lockout, kept in the database, is what stops guessing of one
//! account from many.
//!
//! The buckets live in this process only: they are a cache of recent traffic, not a record,
//! so several server processes each throttle what reaches them.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Request, Response, StatusCode, header};
use axum::response::IntoResponse;
use governor::clock::QuantaInstant;
use governor::middleware::NoOpMiddleware;
use tower_governor::GovernorError;
use tower_governor::governor::{GovernorConfig, GovernorConfigBuilder};
use tower_governor::key_extractor::KeyExtractor;

use crate::error::error_page;

/// The peer's address as the key (a request without one, as in some in-process tests, shares
/// one bucket). Behind a reverse proxy every request has the proxy's address.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PeerAddress;

impl PeerAddress {
    /// The bucket `req` counts against.
    pub(crate) fn key<T>(req: &Request<T>) -> IpAddr {
        req.extensions()
            .get::<ConnectInfo<SocketAddr>>()
            // ok: no peer address (an in-process caller) is one shared bucket, as said above.
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip())
    }
}

impl KeyExtractor for PeerAddress {
    type Key = IpAddr;

    fn extract<T>(&self, req: &Request<T>) -> Result<IpAddr, GovernorError> {
        Ok(Self::key(req))
    }
}

/// A throttle's quota and buckets, shared by the routes it guards.
pub(crate) type Config = Arc<GovernorConfig<PeerAddress, NoOpMiddleware<QuantaInstant>>>;

/// A bucket of `per_minute` requests that refills evenly over a minute.
pub(crate) fn per_minute(per_minute: u32) -> Config {
    let per_minute = per_minute.max(1);
    let period =
        Duration::from_millis(60_000 / u64::from(per_minute)).max(Duration::from_millis(1));
    let config = GovernorConfigBuilder::default()
        .key_extractor(PeerAddress)
        .period(period)
        .burst_size(per_minute)
        .finish();
    // `finish` refuses only a zero burst or period, which the lines above rule out.
    Arc::new(config.unwrap_or_else(|| {
        GovernorConfigBuilder::default()
            .key_extractor(PeerAddress)
            .finish()
            .unwrap_or_else(|| unreachable!("the default quota is valid"))
    }))
}

/// Takes one request for `address` from `config`'s bucket; when it is empty, the whole seconds
/// until it holds one again (at least 1).
pub(crate) fn take(config: &Config, address: IpAddr) -> Result<(), u64> {
    use governor::clock::{Clock, QuantaClock};
    config.limiter().check_key(&address).map_err(|not_until| {
        not_until
            .wait_time_from(QuantaClock::default().now())
            .as_secs()
            .max(1)
    })
}

/// The page for a throttled request: 429 with `Retry-After`.
pub(crate) fn too_many(error: GovernorError) -> Response<Body> {
    let wait = match error {
        GovernorError::TooManyRequests { wait_time, .. } => wait_time.max(1),
        _ => 60,
    };
    let mut res = error_page(
        StatusCode::TOO_MANY_REQUESTS,
        "Too many attempts",
        "Too many requests came from your network in a short time. Wait a minute, then try again.",
    )
    .into_response();
    if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}

/// Forgets addresses not seen for a while, so the buckets do not grow with every address that
/// ever knocked. Runs until the process ends.
pub(crate) fn spawn_cleanup(configs: Vec<Config>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            for c in &configs {
                c.limiter().retain_recent();
                c.limiter().shrink_to_fit();
            }
        }
    });
}
