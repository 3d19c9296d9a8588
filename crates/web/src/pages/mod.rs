//! The server-rendered interface, one module per area.

mod account;
mod admin;
mod alerts;
mod body;
mod booking;
mod calendar;
mod chain_check;
mod consent;
mod courses;
mod diagnoses;
mod home;
pub(crate) mod inquiry;
mod intake;
mod ledger;
mod login;
mod measure;
mod medications;
pub(crate) mod patients;
mod planner;
mod protocols;
mod schedule;
mod screening;
mod self_screening;
mod sessions;
mod setup;

use axum::routing::{get, post};
use tower_governor::GovernorLayer;

use crate::AppState;

pub(crate) use courses::protocol_library;

pub(crate) fn router(state: &AppState) -> crate::routes::Routes {
    let sign_in = GovernorLayer::new(state.sign_in_throttle().clone())
        .error_handler(crate::throttle::too_many);
    let public = GovernorLayer::new(state.public_throttle().clone())
        .error_handler(crate::throttle::too_many);
    crate::routes::Routes::new()
        .route("/", get(home::home))
        .route(
            "/login",
            get(login::form).merge(post(login::submit).layer(sign_in)),
        )
        .route("/logout", post(login::logout))
        .route("/session/ping", get(login::ping))
        .route("/display", post(crate::display::save))
        .route("/patients", get(patients::list).post(patients::create))
        .route("/patients/new", get(patients::new))
        .route("/patients/{id}", get(patients::show))
        .route("/patients/{id}/body", get(body::form).post(body::save))
        .route(
            "/patients/{id}/diagnoses",
            get(diagnoses::show).post(diagnoses::add),
        )
        .route("/patients/{id}/diagnoses/end", post(diagnoses::end))
        .route(
            "/patients/{id}/intake",
            get(intake::show).post(intake::save),
        )
        .route(
            "/patients/{id}/medications",
            get(medications::show).post(medications::add_medication),
        )
        .route(
            "/patients/{id}/medications/end",
            post(medications::end_medication),
        )
        .route(
            "/patients/{id}/courses",
            get(courses::show).post(courses::create),
        )
        .route(
            "/patients/{id}/courses/{course}/dose",
            post(courses::change_dose),
        )
        .route(
            "/patients/{id}/courses/{course}/status",
            post(courses::change_status),
        )
        .route("/patients/{id}/rems", post(courses::enroll))
        .route(
            "/patients/{id}/consent",
            get(consent::show).post(consent::sign),
        )
        .route(
            "/patients/{id}/screening",
            get(screening::show).post(screening::create),
        )
        .route(
            "/patients/{id}/screening/link",
            post(self_screening::create_link),
        )
        .route(
            "/s/{secret}",
            get(self_screening::form)
                .post(self_screening::submit)
                .layer(public.clone()),
        )
        .route(
            "/patients/{id}/screenings/{screening}/decision",
            post(screening::decide),
        )
        .route("/patients/{id}/trials", post(medications::add_trial))
        .route(
            "/patients/{id}/trials/strike",
            post(medications::strike_trial),
        )
        .route(
            "/patients/{id}/contact",
            get(patients::contact_form).post(patients::contact_save),
        )
        .route(
            "/patients/{id}/assessments/new",
            get(measure::new_assessment),
        )
        .route(
            "/patients/{id}/assessments",
            post(measure::create_assessment),
        )
        .route(
            "/patients/{id}/links",
            get(patients::links).post(patients::create_link),
        )
        .route(
            "/patients/{id}/links/{link}/revoke",
            post(patients::revoke_link),
        )
        .route("/alerts/{id}", get(alerts::show))
        .route("/alerts/{id}/acknowledge", post(alerts::acknowledge))
        .route(
            "/r/{secret}",
            get(measure::report_form)
                .post(measure::report_submit)
                .layer(public.clone()),
        )
        .route("/planner", get(planner::planner))
        .route("/protocols", get(protocols::show).post(protocols::add))
        .route("/schedule", get(schedule::week))
        .route("/schedule/day", get(schedule::day))
        .route("/schedule/chairs/{id}/calendar.ics", get(calendar::chair))
        .route("/patients/{id}/appointments.ics", get(calendar::patient))
        .route("/schedule/close", post(schedule::close))
        .route("/schedule/cancel-day", post(schedule::cancel_day))
        .route("/schedule/arrived", post(schedule::arrived))
        .route("/schedule/new", get(schedule::new).post(schedule::create))
        .route("/sessions/check-in", post(sessions::check_in))
        .route("/sessions/{id}", get(sessions::show))
        .route("/sessions/{id}/lock", post(sessions::lock))
        .route("/sessions/{id}/rems-form", get(sessions::rems_form))
        .route("/sessions/{id}/{action}", post(sessions::act))
        .route("/board", get(sessions::board))
        .route("/board/events", get(sessions::board_events))
        .route("/rems/forms", get(sessions::rems_due))
        .route("/ledger", get(ledger::show))
        .route("/ledger/log", get(ledger::log))
        .route("/ledger/reconciliation", get(ledger::reconciliation))
        .route("/ledger/verify", post(ledger::verify))
        .route("/ledger/{action}", post(ledger::act))
        .route(
            "/courses/{id}/book",
            get(booking::show).post(booking::confirm),
        )
        .route(
            "/inquiry",
            get(inquiry::public_form).merge(post(inquiry::public_submit).layer(public.clone())),
        )
        .route("/inquiry/thanks", get(inquiry::thanks))
        .route("/inquiries", get(inquiry::list))
        .route("/inquiries/{id}", get(inquiry::show))
        .route("/inquiries/{id}/status", post(inquiry::set_status))
        .route("/admin/users", get(admin::users).post(admin::add_user))
        .route("/admin/users/{id}", get(admin::account))
        .route("/admin/users/{id}/role", post(admin::change_role))
        .route("/admin/users/{id}/disable", post(admin::disable))
        .route("/admin/users/{id}/enable", post(admin::enable))
        .route("/admin/users/{id}/unlock", post(admin::unlock))
        .route("/admin/users/{id}/password", post(admin::reset_password))
        .route("/admin/audit", get(admin::audit))
        .route("/admin/audit/verify", post(admin::verify_audit))
        .route("/admin/consent", get(consent::admin).post(consent::publish))
        .route("/admin/clinic", get(setup::show))
        .route("/admin/clinic/rems", post(setup::rems))
        .route("/admin/clinic/rooms", post(setup::add_room))
        .route("/admin/clinic/chairs", post(setup::add_chair))
        .route("/admin/clinic/closed", post(setup::close_day))
        .route("/admin/clinic/closed/reopen", post(setup::reopen_day))
        .route("/account", get(account::page))
        .route(
            "/account/password",
            get(account::password_form).post(account::password_save),
        )
        .route("/account/tokens", post(account::create_token))
        .route("/account/tokens/{id}/revoke", post(account::revoke_token))
}

/// The first value sent for `name` in a form read as pairs, or "" when none was.
pub(crate) fn form_value<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

/// Every value sent for `name` (a field ticked more than once), in the order sent.
pub(crate) fn form_values(fields: &[(String, String)], name: &str) -> Vec<String> {
    fields
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .collect()
}

/// Which of a page's forms sent the values the page shows again, so that a field two forms
/// share by name (a container, a note) is filled in again only in the form it came from.
#[derive(Debug, Default, Clone)]
pub(crate) struct Posted(pub(crate) String);

impl Posted {
    /// `value` when `form` is the form that was sent, else nothing.
    pub(crate) fn sent<'a>(&self, form: &str, value: &'a str) -> &'a str {
        if self.0 == form { value } else { "" }
    }
}

/// Messages for the fields of a form that was sent back, in the order of the form.
#[derive(Debug, Default, Clone)]
pub(crate) struct FormErrors(Vec<(String, String)>);

impl FormErrors {
    pub(crate) fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push((field.into(), message.into()));
    }

    /// The message for `field`, if it has one.
    pub(crate) fn get(&self, field: impl AsRef<str>) -> Option<&str> {
        let field = field.as_ref();
        self.0
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    pub(crate) fn all(&self) -> &[(String, String)] {
        &self.0
    }
}

/// Capitalises the first letter of an error message for display as a sentence.
pub(crate) fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect::<String>() + ".",
        None => String::new(),
    }
}

/// One change to a part of a patient's record, as its page lists them.
pub(crate) struct ChangeRow {
    pub(crate) when: String,
    pub(crate) by: String,
    pub(crate) fields: String,
}

/// The latest changes of `action` to a patient's record, with each field code put in words.
pub(crate) async fn change_rows(
    state: &crate::AppState,
    ctx: &crate::view::PageCtx,
    site: &store::SiteId,
    patient: &store::PatientId,
    action: &'static str,
    words: fn(&str) -> &'static str,
) -> Result<Vec<ChangeRow>, crate::error::AppError> {
    Ok(state
        .store()
        .change_history(site, patient, action, 50)
        .await?
        .into_iter()
        .map(|c| ChangeRow {
            when: ctx.time(c.at),
            by: c.by,
            fields: c
                .fields
                .iter()
                .map(|f| words(f))
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect())
}
