//! The start page after sign-in.

use askama::Template;
use axum::extract::State;
use axum::response::Html;

use super::measure::{AlertView, alert_views};
use crate::AppState;
use crate::capability::{Administration, Can, Capability, ClinicalData, PatientDirectory, Staff};
use crate::error::AppError;
use crate::view::{PageCtx, render};

#[derive(Template)]
#[template(path = "home.html")]
pub(crate) struct HomePage {
    ctx: PageCtx,
    name: String,
    role: &'static str,
    patient_count: Option<i64>,
    admin: bool,
    user_count: usize,
    alerts: Option<Vec<AlertView>>,
}

pub(crate) async fn home(
    State(state): State<AppState>,
    who: Can<Staff>,
    ctx: PageCtx,
) -> Result<Html<String>, AppError> {
    let user = who.user();
    let patient_count = if PatientDirectory::allows(user.role) {
        Some(state.store().patient_count(&user.site_id).await?)
    } else {
        None
    };
    let admin = Administration::allows(user.role);
    let user_count = if admin {
        state.store().users(&user.site_id).await?.len()
    } else {
        0
    };
    let alerts = if ClinicalData::allows(user.role) {
        Some(alert_views(
            state
                .store()
                .open_alerts(&who.actor(), &user.site_id, jiff::Timestamp::now())
                .await?,
            &ctx,
        ))
    } else {
        None
    };
    render(&HomePage {
        alerts,
        ctx,
        name: user.display_name.clone(),
        role: user.role.label(),
        patient_count,
        admin,
        user_count,
    })
}
