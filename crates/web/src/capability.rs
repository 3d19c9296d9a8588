//! What each role may do, as types: a handler that takes `Can<ClinicalData>` cannot run for a
//! caller whose role lacks it.
//!
//! | capability | admin | prescriber | nurse | front desk |
//! | --- | --- | --- | --- | --- |
//! | [`Staff`] (any signed-in account) | yes | yes | yes | yes |
//! | [`PatientDirectory`] (demographics, registration) | no | yes | yes | yes |
//! | [`ClinicalData`] (the clinical record, the patients API) | no | yes | yes | no |
//! | [`Administration`] (accounts, audit trail) | yes | no | no | no |
//!
//! Administrators manage the system but do not open records; a medical director who treats
//! patients holds a prescriber account as well.

use std::marker::PhantomData;

use axum::extract::{FromRequestParts, MatchedPath, RawPathParams};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use store::{Actor, AuditEvent, AuditOutcome, Authenticated, Role, User};

use crate::AppState;
use crate::auth::Identity;
use crate::error::{ApiError, AppError};

/// Where a person whose password was reset chooses a new one.
pub(crate) const CHANGE_PASSWORD_PATH: &str = "/account/password";

/// A permission that some roles hold.
pub(crate) trait Capability {
    /// How the permission is named in error messages.
    const NAME: &'static str;
    /// Whether `role` holds it.
    fn allows(role: Role) -> bool;
}

/// The controlled-substance ledger's pages and reports: clinicians (who write entries) and the
/// clinic's administrator (who reads the reports).
pub(crate) struct LedgerReports;
impl Capability for LedgerReports {
    const NAME: &'static str = "the controlled-substance ledger";
    fn allows(role: Role) -> bool {
        matches!(role, Role::Prescriber | Role::Nurse | Role::Admin)
    }
}

/// Any signed-in staff member.
pub(crate) struct Staff;
impl Capability for Staff {
    const NAME: &'static str = "a staff account";
    fn allows(_: Role) -> bool {
        true
    }
}

/// Patient demographics: search, view, register.
pub(crate) struct PatientDirectory;
impl Capability for PatientDirectory {
    const NAME: &'static str = "the prescriber, nurse or front-desk role";
    fn allows(role: Role) -> bool {
        matches!(role, Role::Prescriber | Role::Nurse | Role::FrontDesk)
    }
}

/// Clinical data. Front desk never holds it.
pub(crate) struct ClinicalData;
impl Capability for ClinicalData {
    const NAME: &'static str = "a clinical role (prescriber or nurse)";
    fn allows(role: Role) -> bool {
        matches!(role, Role::Prescriber | Role::Nurse)
    }
}

/// Decisions only a prescriber takes: eligibility after screening, orders.
pub(crate) struct Prescribing;
impl Capability for Prescribing {
    const NAME: &'static str = "the prescriber role";
    fn allows(role: Role) -> bool {
        role == Role::Prescriber
    }
}

/// Accounts and the audit trail.
pub(crate) struct Administration;
impl Capability for Administration {
    const NAME: &'static str = "the administrator role";
    fn allows(role: Role) -> bool {
        role == Role::Admin
    }
}

/// `user` as the audit trail names them, acting from `address` when the request came over a
/// connection the server saw.
pub(crate) fn actor_from(user: &User, address: Option<&str>) -> Actor {
    let actor = Actor::user(user);
    match address {
        Some(a) => actor.from_address(a),
        None => actor,
    }
}

/// Proof that the caller holds capability `C`.
pub(crate) struct Can<C> {
    pub(crate) auth: Authenticated,
    address: Option<String>,
    _capability: PhantomData<C>,
}

impl<C> Can<C> {
    pub(crate) fn user(&self) -> &User {
        &self.auth.user
    }

    /// The signed-in person as the audit trail names them, with the address they act from.
    pub(crate) fn actor(&self) -> Actor {
        actor_from(&self.auth.user, self.address.as_deref())
    }
}

impl<C: Capability> FromRequestParts<AppState> for Can<C> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        // Nested routers see their path without the prefix; the original tells API from pages.
        let uri = parts
            .extensions
            .get::<axum::extract::OriginalUri>()
            .map_or_else(|| parts.uri.clone(), |o| o.0.clone());
        let api = uri.path().starts_with("/api/");
        let identity = parts.extensions.get::<Identity>().cloned();
        let Some(identity) = identity else {
            return Err(AppError::Forbidden.into_response());
        };
        let Some(auth) = identity.auth else {
            if api {
                return Err(ApiError::unauthenticated().into_response());
            }
            let next = uri.path_and_query().map_or("/", |p| p.as_str());
            let expired = if identity.session_ended {
                "expired=1&"
            } else {
                ""
            };
            let to = format!("/login?{expired}next={}", encode(next));
            return Err(Redirect::to(&to).into_response());
        };
        // After an administrator reset the password, nothing opens until the person chose a new
        // one (the temporary password was seen by someone else).
        if auth.user.must_change_password && uri.path() != CHANGE_PASSWORD_PATH {
            return Err(if api {
                ApiError::new(
                    axum::http::StatusCode::FORBIDDEN,
                    "password_change_required",
                    "the account's password was reset; sign in to Ketaflow in a browser and choose a new password",
                )
                .into_response()
            } else {
                Redirect::to(CHANGE_PASSWORD_PATH).into_response()
            });
        }
        if !C::allows(auth.user.role) {
            let mut event = AuditEvent::new("access.denied", AuditOutcome::Denied).detail(format!(
                "{} {}",
                parts.method,
                uri.path()
            ));
            if let Some(patient) = patient_in_path(parts).await {
                event = event.entity("patient", &patient).patient(&patient);
            }
            if let Err(e) = state
                .store()
                .audit(
                    &actor_from(&auth.user, identity.address.as_deref()),
                    event,
                    jiff::Timestamp::now(),
                )
                .await
            {
                return Err(AppError::Store(e).into_response());
            }
            return Err(if api {
                ApiError::forbidden(C::NAME).into_response()
            } else {
                AppError::Forbidden.into_response()
            });
        }
        Ok(Can {
            auth,
            address: identity.address,
            _capability: PhantomData,
        })
    }
}

/// The patient a refused request was about, when its route names one (`/patients/{id}/...`
/// among the pages, `/api/v1/patients/{id}/...` in the API), so a per-patient audit report
/// also lists refused attempts.
async fn patient_in_path(parts: &mut Parts) -> Option<String> {
    let matched = parts.extensions.get::<MatchedPath>()?.as_str().to_owned();
    let names_patient =
        matched.starts_with("/patients/{id}") || matched.starts_with("/api/v1/patients/{id}");
    if !names_patient {
        return None;
    }
    let params = RawPathParams::from_request_parts(parts, &()).await.ok()?;
    params
        .iter()
        .find(|(name, _)| *name == "id")
        .and_then(|(_, value)| store::PatientId::parse(value))
        .map(|id| id.as_str().to_owned())
}

pub(crate) fn encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
