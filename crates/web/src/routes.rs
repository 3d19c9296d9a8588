//! A router that remembers the paths it was given, so the authorization test can enumerate
//! every route from the router itself instead of a hand-kept list.

use axum::Router;
use axum::routing::MethodRouter;

use crate::AppState;

/// An axum router and the paths registered on it, in order.
pub(crate) struct Routes {
    pub(crate) router: Router<AppState>,
    pub(crate) paths: Vec<&'static str>,
}

impl Routes {
    pub(crate) fn new() -> Routes {
        Routes {
            router: Router::new(),
            paths: Vec::new(),
        }
    }

    /// Registers `path`, as `Router::route` does, and remembers it.
    pub(crate) fn route(mut self, path: &'static str, methods: MethodRouter<AppState>) -> Routes {
        self.paths.push(path);
        self.router = self.router.route(path, methods);
        self
    }
}

/// Every path the application serves, as the router spells them (`/patients/{id}`), the API's
/// with their `/api/v1` prefix.
pub fn route_paths(state: &AppState) -> Vec<String> {
    let mut all: Vec<String> = crate::pages::router(state)
        .paths
        .into_iter()
        .map(str::to_owned)
        .collect();
    all.extend(
        crate::api::router()
            .paths
            .into_iter()
            .map(|p| format!("/api/v1{p}")),
    );
    all.extend(crate::assets::router().paths.into_iter().map(str::to_owned));
    all.push(HEALTHZ.to_owned());
    all
}

/// The health check's path (outside the pages and the API).
pub(crate) const HEALTHZ: &str = "/healthz";
