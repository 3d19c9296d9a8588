//! The stylesheet, the script and the icon, compiled into the binary.

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

const CSS: &str = include_str!("../static/app.css");
const JS: &str = include_str!("../static/app.js");
const ICON: &str = include_str!("../static/favicon.svg");

pub(crate) fn router() -> crate::routes::Routes {
    crate::routes::Routes::new()
        .route("/static/app.css", get(css))
        .route("/static/app.js", get(js))
        .route("/static/favicon.svg", get(icon))
        // Browsers ask for /favicon.ico on their own; send them to the icon.
        .route(
            "/favicon.ico",
            get(|| async { axum::response::Redirect::permanent("/static/favicon.svg") }),
        )
}

async fn icon() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        ICON,
    )
}

async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        CSS,
    )
}

async fn js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        JS,
    )
}
