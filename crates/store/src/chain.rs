//! What the two hash chains (the audit trail and the controlled-substance ledger) share: the
//! hash the first link follows and how a link's hash is made from its predecessor's.

use sha2::{Digest, Sha256};

/// The hash the first link of a chain follows.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// SHA-256, hex-encoded, of the previous link's hash, a newline and this link's canonical
/// content.
pub(crate) fn chain_hash(prev: &str, content: &str) -> String {
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    h.update(b"\n");
    h.update(content.as_bytes());
    hex::encode(h.finalize())
}
