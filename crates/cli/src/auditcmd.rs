//! `ketaflow audit verify`: checks the audit trail's hash chain.

use anyhow::bail;

use crate::config::Config;
use crate::serve::open_store;

/// Checks the whole audit trail; prints how many events were checked, or fails naming the
/// first bad event.
pub(crate) async fn verify(config: &Config) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    let outcome = store.verify_audit().await;
    store.close().await;
    match outcome? {
        Ok(n) => {
            println!("Audit trail verified: {n} events checked, the hash chain intact.");
            Ok(())
        }
        Err(broken) => bail!("audit verify failed at {broken}"),
    }
}
