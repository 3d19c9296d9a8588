//! The reference of the audited-read load test (`bench/audited-reads`): a bare axum handler that
//! returns a small JSON list, served the same way Ketaflow serves, so the ratio of Ketaflow's
//! figures to this one's says what authentication, the database and the audit trail cost.
//!
//! `cargo run --release -p web --example bare_reference -- 127.0.0.1:8090`

use axum::Json;
use axum::routing::get;

/// The same allocator as the `ketaflow` binary, so the ratio measures Ketaflow's work, not the
/// allocators.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8090".to_owned());
    let app = axum::Router::new().route(
        "/list",
        get(|| async {
            Json(serde_json::json!({"patients": [
                {"id": "0190aaaa-0000-7000-8000-000000000001", "mrn": "K0000001", "given_name": "Ada", "family_name": "Example"},
                {"id": "0190aaaa-0000-7000-8000-000000000002", "mrn": "K0000002", "given_name": "Ben", "family_name": "Example"}
            ]}))
        }),
    );
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!(
        "bare reference serving on http://{}",
        listener.local_addr()?
    );
    axum::serve(listener, app).await
}
