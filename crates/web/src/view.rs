//! What every page's layout needs: who is signed in, the navigation their role sees, the form
//! token, reading aids, and how to show times in the clinic's time zone.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;
use jiff::tz::TimeZone;
use store::User;

use crate::AppState;
use crate::auth::Identity;
use crate::capability::{
    Administration, Capability, ClinicalData, LedgerReports, PatientDirectory,
};
use crate::display::{Choice, Display};
use crate::error::AppError;

/// A link in the main navigation.
#[derive(Debug, Clone)]
pub(crate) struct NavItem {
    pub(crate) href: &'static str,
    pub(crate) label: &'static str,
    pub(crate) current: bool,
}

/// The signed-in person as the layout shows them.
#[derive(Debug, Clone)]
pub(crate) struct UserView {
    pub(crate) name: String,
    pub(crate) role: &'static str,
}

/// The layout's view-model, extracted once per page request.
#[derive(Debug, Clone)]
pub(crate) struct PageCtx {
    pub(crate) user: Option<UserView>,
    pub(crate) csrf: String,
    pub(crate) display: Display,
    pub(crate) clinic_name: String,
    pub(crate) path: String,
    pub(crate) nav: Vec<NavItem>,
    /// Seconds of inactivity before the server ends the session (for the warning script).
    pub(crate) idle_seconds: i64,
    pub(crate) version: &'static str,
    pub(crate) demo: bool,
    /// Open safety alerts of the site, for clinical roles (shown in the navigation).
    pub(crate) open_alerts: Option<i64>,
    tz: TimeZone,
}

/// Who recorded something: the staff member's name, or "the system" for what a part of
/// Ketaflow recorded with no staff account behind it (the demo's seed, a pump or monitor bridge).
pub(crate) fn recorded_by(by: Option<&str>) -> &str {
    // ok: no staff member is recorded only when a part of the system acted.
    by.unwrap_or("the system")
}

/// The staff of a site by email, to name who recorded what in the session room and the ledger,
/// whose records keep who by email: pages name staff as every other record page does.
pub(crate) struct StaffNames(std::collections::HashMap<String, String>);

impl StaffNames {
    /// Every account of `site`, disabled ones included (they still recorded what they did).
    pub(crate) async fn of_site(
        state: &crate::AppState,
        site: &store::SiteId,
    ) -> Result<StaffNames, crate::error::AppError> {
        let users = state.store().users(site).await?;
        Ok(StaffNames(
            users
                .into_iter()
                .map(|u| (u.email, u.display_name))
                .collect(),
        ))
    }

    /// Who recorded something, by the email kept with it: the staff member's name, the email
    /// itself for an account this site no longer holds, and "the system" for none
    /// ([`recorded_by`]).
    pub(crate) fn by<'a>(&'a self, email: Option<&'a str>) -> &'a str {
        match email {
            Some(e) => self.0.get(e).map_or(e, String::as_str),
            None => recorded_by(None),
        }
    }
}

/// The instant a clinic date and time typed in a form names in `tz`, or `None` when no such
/// time exists there: the hour the clocks skip when they go forward. A time the clocks pass
/// twice (when they go back) is its first passing. jiff's `to_zoned` moves a skipped time
/// forward instead, so 02:30 on the night the clocks went forward was booked at 03:30 without
/// a word.
pub(crate) fn clinic_instant(dt: jiff::civil::DateTime, tz: &TimeZone) -> Option<jiff::Timestamp> {
    let ambiguous = tz.to_ambiguous_timestamp(dt);
    if matches!(ambiguous.offset(), jiff::tz::AmbiguousOffset::Gap { .. }) {
        return None;
    }
    // ok: an instant out of jiff's range only comes of a date no form accepts.
    ambiguous.compatible().ok()
}

impl PageCtx {
    /// When something was recorded and by whom: `2026-11-23 09:05 by Sam Lee`.
    pub(crate) fn time_by(&self, t: jiff::Timestamp, by: Option<&str>) -> String {
        format!("{} by {}", self.time(t), recorded_by(by))
    }

    /// An instant as the clinic reads it: `2026-11-23 09:05`.
    pub(crate) fn time(&self, t: jiff::Timestamp) -> String {
        t.to_zoned(self.tz.clone())
            .strftime("%Y-%m-%d %H:%M")
            .to_string()
    }

    /// An instant to the second with its time zone, for records people compare across sites
    /// and clock changes: `2026-11-23 09:05:17 CST`.
    pub(crate) fn time_with_zone(&self, t: jiff::Timestamp) -> String {
        t.to_zoned(self.tz.clone())
            .strftime("%Y-%m-%d %H:%M:%S %Z")
            .to_string()
    }

    /// The date of an instant in the clinic's time zone: `2026-11-23`.
    pub(crate) fn date(&self, t: jiff::Timestamp) -> String {
        t.to_zoned(self.tz.clone()).date().to_string()
    }

    /// The clinic's time zone.
    pub(crate) fn time_zone(&self) -> TimeZone {
        self.tz.clone()
    }

    /// The clinic's current local date.
    pub(crate) fn today(&self) -> jiff::civil::Date {
        jiff::Timestamp::now().to_zoned(self.tz.clone()).date()
    }

    pub(crate) fn text_choices(&self) -> Vec<Choice> {
        self.display.text_choices()
    }

    pub(crate) fn html_classes(&self) -> String {
        self.display.classes()
    }
}

fn nav_for(user: &User, path: &str) -> Vec<NavItem> {
    let mut items = vec![("/", "Home")];
    if PatientDirectory::allows(user.role) {
        items.push(("/patients", "Patients"));
        items.push(("/inquiries", "Inquiries"));
        items.push(("/schedule", "Schedule"));
    }
    if ClinicalData::allows(user.role) {
        items.push(("/board", "Chair board"));
        items.push(("/planner", "Dose planner"));
        items.push(("/protocols", "Protocols"));
    }
    if LedgerReports::allows(user.role) {
        items.push(("/ledger", "Ledger"));
    }
    if Administration::allows(user.role) {
        items.push(("/admin/users", "Users"));
        items.push(("/admin/audit", "Audit trail"));
        items.push(("/admin/consent", "Consent"));
        items.push(("/admin/clinic", "Chairs and REMS"));
    }
    items.push(("/account", "My account"));
    items
        .into_iter()
        .map(|(href, label)| NavItem {
            href,
            label,
            current: if href == "/" {
                path == "/"
            } else {
                path.starts_with(href)
            },
        })
        .collect()
}

impl FromRequestParts<AppState> for PageCtx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let identity = parts
            .extensions
            .get::<Identity>()
            .cloned()
            .ok_or_else(|| AppError::Forbidden.into_response())?;
        let jar = CookieJar::from_headers(&parts.headers);
        let path = parts.uri.path().to_owned();
        let site = match &identity.auth {
            Some(a) => Some(state.store().site(&a.user.site_id).await),
            None => state.store().first_site().await.transpose(),
        }
        .transpose()
        .map_err(|e| AppError::Store(e).into_response())?;
        // ok: a database with no site yet (before `ketaflow user create`) has no clinic day;
        // its pages show times in UTC. A site's own zone always decodes (`Site::zone`).
        let tz = site.as_ref().map_or(TimeZone::UTC, |s| s.zone.clone());
        let config = state.config();
        let open_alerts = match &identity.auth {
            Some(a) if ClinicalData::allows(a.user.role) => Some(
                state
                    .store()
                    .open_alert_count(&a.user.site_id)
                    .await
                    .map_err(|e| AppError::Store(e).into_response())?,
            ),
            _ => None,
        };
        Ok(PageCtx {
            open_alerts,
            user: identity.auth.as_ref().map(|a| UserView {
                name: a.user.display_name.clone(),
                role: a.user.role.label(),
            }),
            csrf: identity.form_token().to_owned(),
            display: Display::from_jar(&jar),
            clinic_name: site.map_or_else(|| "Ketaflow".to_owned(), |s| s.name),
            nav: identity
                .auth
                .as_ref()
                .map(|a| nav_for(&a.user, &path))
                .unwrap_or_default(),
            path: parts
                .uri
                .path_and_query()
                .map_or("/", |p| p.as_str())
                .to_owned(),
            idle_seconds: config.login.idle_timeout.as_secs(),
            version: config.version,
            demo: config.login.demo_mode,
            tz,
        })
    }
}

/// Renders a template into an HTML response.
pub(crate) fn render<T: askama::Template>(page: &T) -> Result<Html<String>, AppError> {
    Ok(Html(page.render()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_skipped_clinic_time_names_no_instant_and_a_repeated_one_its_first() {
        let tz = TimeZone::get("America/New_York").unwrap();
        let at = |s: &str| clinic_instant(s.parse().unwrap(), &tz);
        // 14 March 2027: 02:00 becomes 03:00.
        assert_eq!(at("2027-03-14T02:30"), None);
        assert_eq!(
            at("2027-03-14T03:30"),
            Some("2027-03-14T07:30:00Z".parse().unwrap())
        );
        // 7 November 2027: 01:30 comes twice; the first is daylight time (UTC-4).
        assert_eq!(
            at("2027-11-07T01:30"),
            Some("2027-11-07T05:30:00Z".parse().unwrap())
        );
        assert_eq!(
            at("2027-06-01T09:00"),
            Some("2027-06-01T13:00:00Z".parse().unwrap())
        );
    }
}
