//! The ACME documents a device reads (RFC 8555 §7.1, ../shared/spec/enrollment.md §3), with
//! the fleet's own types: the directory, an order, an authorization and a challenge.
//!
//! Strict about what RFC 8555 makes required (each field present with its JSON type, a
//! `status` only from the values §7.1.6 defines) and silent about extra fields: ACME objects
//! are extensible through IANA registries (§9.7), so a client that refused unknown fields would
//! refuse a conforming server. A document that does not read is a [`WireError`] naming the
//! document and serde's words about the field.

use super::WireError;
use serde::Deserialize;

/// The directory (§7.1.1).
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Directory {
    pub new_nonce: String,
    pub new_account: String,
    pub new_order: String,
    #[serde(default)]
    pub revoke_cert: Option<String>,
    #[serde(default)]
    pub key_change: Option<String>,
}

/// An identifier of an order or authorization (§7.1.3, §7.1.4).
#[derive(Clone, Debug, Deserialize)]
pub struct Identifier {
    #[serde(rename = "type")]
    pub kind: String,
    pub value: String,
}

/// Order states (§7.1.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrderStatus {
    Pending,
    Ready,
    Processing,
    Valid,
    Invalid,
}

/// An order (§7.1.3).
#[derive(Clone, Debug, Deserialize)]
pub struct Order {
    pub status: OrderStatus,
    pub identifiers: Vec<Identifier>,
    pub authorizations: Vec<String>,
    pub finalize: String,
    #[serde(default)]
    pub certificate: Option<String>,
}

/// Authorization states (§7.1.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthorizationStatus {
    Pending,
    Valid,
    Invalid,
    Deactivated,
    Expired,
    Revoked,
}

/// An authorization (§7.1.4).
#[derive(Clone, Debug, Deserialize)]
pub struct Authorization {
    pub identifier: Identifier,
    pub status: AuthorizationStatus,
    pub challenges: Vec<Challenge>,
}

/// Challenge states (§7.1.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChallengeStatus {
    Pending,
    Processing,
    Valid,
    Invalid,
}

/// A challenge (§8); `device-attest-01` carries a `token` (enrollment.md §3).
#[derive(Clone, Debug, Deserialize)]
pub struct Challenge {
    #[serde(rename = "type")]
    pub kind: String,
    pub url: String,
    pub status: ChallengeStatus,
    #[serde(default)]
    pub token: Option<String>,
}

/// Reads ACME document `what` (`directory`, `order`, …) from `body`.
pub fn read<T: serde::de::DeserializeOwned>(what: &str, body: &[u8]) -> Result<T, WireError> {
    serde_json::from_slice(body).map_err(|e| WireError::invalid(what, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_with_missing_or_mistyped_fields_are_refused_and_extras_ignored() {
        let order = br#"{"status":"pending","identifiers":[{"type":"permanent-identifier","value":"x"}],
            "authorizations":["https://a/1"],"finalize":"https://a/f","expires":"2026-01-01T00:00:00Z"}"#;
        let o: Order = read("order", order).unwrap();
        assert_eq!((o.status, o.authorizations.len()), (OrderStatus::Pending, 1));
        let e =
            read::<Order>("order", br#"{"status":"pending","identifiers":[],"authorizations":[]}"#)
                .unwrap_err();
        assert!(e.to_string().contains("finalize"), "{e}");
        let e = read::<Order>(
            "order",
            br#"{"status":"done","identifiers":[],"authorizations":[],"finalize":"f"}"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("done"), "{e}");
        let e =
            read::<Directory>("directory", br#"{"newNonce":"n","newAccount":1,"newOrder":"o"}"#)
                .unwrap_err();
        assert!(e.to_string().starts_with("directory:"), "{e}");
    }
}
