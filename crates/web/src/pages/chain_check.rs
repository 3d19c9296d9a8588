//! The page that tells how a check of one of the two hash chains (the audit trail, the
//! controlled-substance ledger) came out. Running the check is itself recorded in the audit
//! trail, at the reader's site.

use askama::Template;
use axum::response::Html;
use store::{Actor, AuditEvent, AuditOutcome, SiteId};

use crate::AppState;
use crate::error::AppError;
use crate::view::{PageCtx, render};

/// What differs between the two chains' pages.
pub(crate) struct Chain {
    /// The page's heading, "Audit trail check".
    pub(crate) title: &'static str,
    /// The audit event that records a check, "audit.verify".
    pub(crate) action: &'static str,
    /// What was changed when the check fails, "the audit trail".
    pub(crate) what: &'static str,
    /// Who must be told of a failed check, "the clinic's security officer".
    pub(crate) tell: &'static str,
    /// The page to go back to, and its link's words.
    pub(crate) back: (&'static str, &'static str),
}

#[derive(Template)]
#[template(path = "chain_check.html")]
struct ChainCheckPage {
    ctx: PageCtx,
    chain: &'static Chain,
    ok: bool,
    words: String,
}

/// Records that `actor` checked `chain`, then renders the outcome: `ok` with `words` as a
/// notice, or `words` as an alert with what to do about a changed chain.
pub(crate) async fn outcome(
    state: &AppState,
    actor: &Actor,
    site: &SiteId,
    ctx: PageCtx,
    chain: &'static Chain,
    ok: bool,
    words: String,
) -> Result<Html<String>, AppError> {
    let event = AuditEvent::new(chain.action, AuditOutcome::Ok).site(site.as_str());
    state
        .store()
        .audit(actor, event, jiff::Timestamp::now())
        .await?;
    render(&ChainCheckPage {
        ctx,
        chain,
        ok,
        words,
    })
}
