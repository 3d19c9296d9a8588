//! The reference of the audited-read load test (`bench/audited-reads`): a bare axum handler that
//! returns a small JSON list, served the same way Ketaflow serves, so the ratio of Ketaflow's
//! figures to this one's says what authentication, the database and the audit trail cost.
//!
//! `cargo run --release -p web --example bare_reference -- 127.0.0.1:8090`
//!
//! Given a second and third argument, a JSON body and the response headers that Ketaflow sent
//! with it (as `curl -D` writes them), it also serves that same answer at `/answer`: the body
//! parsed once and serialized again for every request, with the same headers. The ratio of
//! Ketaflow's audited read to that route says what everything but the answer's size costs.

use axum::Json;
use axum::http::{HeaderName, HeaderValue};
use axum::response::IntoResponse;
use axum::routing::get;

/// The same allocator as the `ketaflow` binary, so the ratio measures Ketaflow's work, not the
/// allocators.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Headers the server sets for itself (hyper and axum's `Json`), not copied from the capture.
const OWN_HEADERS: [&str; 4] = ["content-length", "content-type", "date", "connection"];

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:8090".to_owned());
    let mut app = axum::Router::new().route(
        "/list",
        get(|| async {
            Json(serde_json::json!({"patients": [
                {"id": "0190aaaa-0000-7000-8000-000000000001", "mrn": "K0000001", "given_name": "Ada", "family_name": "Example"},
                {"id": "0190aaaa-0000-7000-8000-000000000002", "mrn": "K0000002", "given_name": "Ben", "family_name": "Example"}
            ]}))
        }),
    );
    if let (Some(body), Some(headers)) = (args.next(), args.next()) {
        let answer: std::sync::Arc<serde_json::Value> =
            std::sync::Arc::new(serde_json::from_str(&std::fs::read_to_string(&body)?)?);
        let mut copied = Vec::new();
        for line in std::fs::read_to_string(&headers)?.lines().skip(1) {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let name = name.trim().to_ascii_lowercase();
            if OWN_HEADERS.contains(&name.as_str()) {
                continue;
            }
            copied.push((
                HeaderName::try_from(name)?,
                HeaderValue::try_from(value.trim())?,
            ));
        }
        let copied = std::sync::Arc::new(copied);
        app = app.route(
            "/answer",
            get(move || {
                let answer = answer.clone();
                let copied = copied.clone();
                async move {
                    let mut res = Json(&*answer).into_response();
                    res.headers_mut().extend(copied.iter().cloned());
                    res
                }
            }),
        );
    }
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!(
        "bare reference serving on http://{}",
        listener.local_addr()?
    );
    axum::serve(listener, app).await?;
    Ok(())
}
