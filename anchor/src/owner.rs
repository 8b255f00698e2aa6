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

impl Owner {
    /// The whole account, whatever the token's memo: SEP-31's principal. A sending anchor
    /// registers the sender under one memo and the receiver under another and pays from
    /// the one account; in SEP-31 both (and its quotes) are its own. SEP-12 and SEP-38
    /// reads and writes keep the memo's scope.
    pub fn account(&self) -> Owner {
        Owner { memo: None, ..self.clone() }
    }
}
