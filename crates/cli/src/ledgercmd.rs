//! `ketaflow ledger verify`: checks the controlled-substance ledger's hash chain and balances.

use anyhow::bail;

use crate::config::Config;
use crate::serve::open_store;

/// Checks the whole ledger; prints how many entries were checked, or fails naming the first
/// bad entry.
pub(crate) async fn verify(config: &Config) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    let outcome = store.verify_ledger().await;
    store.close().await;
    match outcome? {
        Ok(n) => {
            println!("Ledger verified: {n} entries checked, the chain and every balance intact.");
            Ok(())
        }
        Err(broken) => bail!("ledger verify failed at {broken}"),
    }
}
