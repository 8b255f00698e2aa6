//! SEP-10 web authentication: `GET /auth` (a challenge) and `POST /auth` (a token).

use serde::{Deserialize, Serialize};

use crate::de::opt_text;

/// `GET /auth?account=…&memo=…&home_domain=…&client_domain=…`.
#[derive(Deserialize, Debug, Default)]
pub struct ChallengeQuery {
    #[serde(default, deserialize_with = "opt_text")]
    pub account: Option<String>,
    /// As sent: an empty memo is refused, not ignored.
    #[serde(default)]
    pub memo: Option<String>,
    /// Present but empty is not "absent" here: an empty home domain is refused.
    #[serde(default)]
    pub home_domain: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub client_domain: Option<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ChallengeResponse {
    /// The challenge transaction envelope, base64 XDR.
    pub transaction: String,
    pub network_passphrase: String,
}

/// `POST /auth`, as JSON or an URL-encoded form.
#[derive(Deserialize, Debug)]
pub struct TokenRequest {
    #[serde(default, deserialize_with = "opt_text")]
    pub transaction: Option<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TokenResponse {
    pub token: String,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::decode;

    #[test]
    fn the_spec_examples_read_and_write_back() {
        let challenge = json!({
            "transaction": "AAAAAgAAAADIiRu2BrqqeOcP28PWCkD4D5Rjjsqh71HwvqFX+F4VXAAAAGQAAAAAAAAAAAAAAAEAAAAAXzrUcQAAAABfOtf1AAAAAAAAAAEAAAABAAAAAEEB8rhqNa70RYjaNnF1ARE2CbL50iR9HPXST/fImJN1AAAACgAAADB0aGlzaXNhdGVzdC5zYW5kYm94LmFuY2hvci5hbmNob3Jkb21haW4gYXV0aAAAAAEAAABAaKpu8JOHKpRNp8nW3lT+q9VJ1ky0pe00vl0MJ3V+DTXQgIDMk7SY6zwN8aWZeb3TQzJCY3qlXCfi6w4+wvxLGAAAAAAAAAAB+F4VXAAAAEBAT1yeO+kIdAn9bDkRxqaKGvoPOOeXiTF5YaO3vwngPiBn3CSHG/xfm7YHIb9MAR2Yn6CWlDWAjpYwpN2C1/DDBA==",
            "network_passphrase": "Test SDF Network ; September 2015"
        });
        let read: ChallengeResponse = serde_json::from_value(challenge.clone()).unwrap();
        assert_eq!(serde_json::to_value(&read).unwrap(), challenge);
        let token = json!({ "token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJodHRwczovL2V4YW1wbGUuY29tIn0.sig" });
        let read: TokenResponse = serde_json::from_value(token.clone()).unwrap();
        assert_eq!(serde_json::to_value(&read).unwrap(), token);
    }

    #[test]
    fn requests_read_strings_and_ignore_extras() {
        let q: ChallengeQuery = decode(
            json!({ "account": "GABC", "memo": "", "client_domain": "wallet.example", "extra": "x" })
                .as_object()
                .unwrap()
                .clone(),
        )
        .unwrap();
        assert_eq!(q.account.as_deref(), Some("GABC"));
        assert_eq!(q.memo.as_deref(), Some(""));
        assert_eq!(q.client_domain.as_deref(), Some("wallet.example"));
        let t: TokenRequest = decode(json!({ "transaction": "AAAA" }).as_object().unwrap().clone()).unwrap();
        assert_eq!(t.transaction.as_deref(), Some("AAAA"));
    }
}
