//! Who a SEP request speaks for.

use uuid::Uuid;

/// The sending anchor a request speaks for, at one tenant.
#[derive(Debug, Clone)]
pub struct Owner {
    pub tenant_id: Uuid,
    /// The `G...` account from the SEP-10 token.
    pub sa_account: String,
    /// The token's memo (or muxed id), if any: it speaks for that one user of the
    /// account, and nothing under another memo exists for it. `None`: the whole account.
    pub memo: Option<String>,
}
