//! `ketaflow audit verify`: checks the audit trail's hash chain.

use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::bail;
use store::AuditCheck;

use crate::config::Config;
use crate::serve::open_store;

/// Checks the whole audit trail, telling on standard error how far it got at each tenth;
/// prints how many events were checked, or fails naming the first bad event.
pub(crate) async fn verify(config: &Config) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    let tenths = AtomicU64::new(0);
    let progress = |checked: u64, total: u64| {
        let tenth = checked.saturating_mul(10) / total.max(1);
        if tenth > tenths.swap(tenth, Ordering::Relaxed) && checked < total {
            eprintln!("checked {checked} of {total} events");
        }
    };
    let outcome = store.verify_audit(None, &progress).await;
    store.close().await;
    match outcome? {
        AuditCheck::Intact(n) => {
            println!("Audit trail verified: {n} events checked, the hash chain intact.");
            Ok(())
        }
        AuditCheck::Broken(broken) => bail!("audit verify failed at {broken}"),
        other => bail!("audit verify failed: {other}"),
    }
}
