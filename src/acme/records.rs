//! The ACME tables (`acme.*`) and their stored records (serde JSON, store-wide rule), and the
//! order and authorization records held in memory (`super::pending`; no table since store
//! schema 6).

use crate::ids::{Serial, Udid};
use crate::store::{Table, table};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::error::Problem;

/// Account id → [`AccountRec`].
pub const ACCOUNTS: Table = table("acme.accounts");
/// RFC 7638 thumbprint → account id.
pub const ACCOUNT_KEYS: Table = table("acme.account_keys");
/// ClientIdentifier → [`Expectation`].
pub const EXPECTED: Table = table("acme.expected");
/// Certificate id → [`CertRec`].
pub const CERTS: Table = table("acme.certs");
/// SHA-256 of an issued certificate's DER (lower-case hex) → [`IssuedTo`].
pub const CERT_BY_HASH: Table = table("acme.cert_by_hash");
/// RFC 7638 thumbprint of a deleted deactivated account's key → when upkeep deleted the
/// account (RFC 3339). The key stays refused (RFC 8555 §7.3.6) after its account is gone.
pub const DEACTIVATED_KEYS: Table = table("acme.deactivated_keys");
/// This module's tables, all created when the store opens ([`crate::store::Store::open`]).
pub const TABLES: &[Table] =
    &[ACCOUNTS, ACCOUNT_KEYS, EXPECTED, CERTS, CERT_BY_HASH, DEACTIVATED_KEYS];

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AccountRec {
    pub id: String,
    pub thumbprint: String,
    pub jwk: serde_json::Value,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// `valid` or `deactivated` (RFC 8555 §7.1.6; the server never revokes an account).
    #[serde(default = "AccountStatus::valid")]
    pub status: AccountStatus,
    /// `mailto:` URLs the client gave (RFC 8555 §7.3); nothing is ever sent to them.
    #[serde(default)]
    pub contact: Vec<String>,
}

/// An account's status (RFC 8555 §7.1.6).
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum AccountStatus {
    Valid,
    Deactivated,
}

impl AccountStatus {
    fn valid() -> AccountStatus {
        AccountStatus::Valid
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Valid => "valid",
            AccountStatus::Deactivated => "deactivated",
        }
    }
}

/// The device an enrollment expects behind a one-time ClientIdentifier.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Expectation {
    pub serial: Serial,
    pub udid: Udid,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// The account that first ordered with it; no other account may.
    #[serde(default)]
    pub account_id: Option<String>,
    /// Set once a certificate was issued: the identifier is used up.
    #[serde(default)]
    pub cert_id: Option<String>,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pending,
    Ready,
    Processing,
    Valid,
    Invalid,
    /// An authorization of an account that was deactivated (RFC 8555 §7.1.6).
    Deactivated,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Ready => "ready",
            Status::Processing => "processing",
            Status::Valid => "valid",
            Status::Invalid => "invalid",
            Status::Deactivated => "deactivated",
        }
    }
}

/// An order's key in its account's list (RFC 8555 §7.1.2.1): ids are base64url, so `/`
/// separates them and a range finds one account's orders.
pub fn account_order_key(account_id: &str, order_id: &str) -> String {
    format!("{account_id}/{order_id}")
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OrderRec {
    pub id: String,
    pub account_id: String,
    /// The `permanent-identifier` value (the ClientIdentifier).
    pub identifier: String,
    pub status: Status,
    #[serde(with = "time::serde::rfc3339")]
    pub expires: OffsetDateTime,
    pub authz_id: String,
    #[serde(default)]
    pub cert_id: Option<String>,
    #[serde(default)]
    pub error: Option<Problem>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AuthzRec {
    pub id: String,
    pub order_id: String,
    pub account_id: String,
    pub identifier: String,
    pub status: Status,
    #[serde(with = "time::serde::rfc3339")]
    pub expires: OffsetDateTime,
    /// The `device-attest-01` challenge's token (128 bits, base64url).
    pub token: String,
    pub challenge_status: Status,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub validated: Option<OffsetDateTime>,
    #[serde(default)]
    pub challenge_error: Option<Problem>,
    /// The attested key (DER SubjectPublicKeyInfo, hex); the CSR must carry the same.
    #[serde(default)]
    pub attested_spki_hex: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CertRec {
    pub id: String,
    pub order_id: String,
    pub account_id: String,
    /// Leaf first, then the appliance CA.
    pub chain_pem: String,
    pub sha256: String,
    pub serial: Serial,
    pub udid: Udid,
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// Set by revokeCert (RFC 8555 §7.6).
    #[serde(default)]
    pub revoked: Option<Revocation>,
}

/// An issued identity certificate as the admin sees it (no key, no chain).
#[derive(Clone, Debug, Serialize)]
pub struct IssuedCert {
    /// SHA-256 of the certificate's DER, lower-case hex.
    pub sha256: String,
    pub udid: Udid,
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// `acme` (an ACME order) or the protocol that proved the device (`scep`).
    pub via: String,
    pub revoked: bool,
}

impl From<CertRec> for IssuedCert {
    fn from(c: CertRec) -> IssuedCert {
        IssuedCert {
            // Identities proven by another protocol carry its name in `order_id`.
            via: if c.account_id.is_empty() { c.order_id } else { "acme".into() },
            sha256: c.sha256,
            udid: c.udid,
            issued_at: c.issued_at,
            not_after: c.not_after,
            revoked: c.revoked.is_some(),
        }
    }
}

/// When and why a certificate was revoked.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Revocation {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The RFC 5280 CRLReason code (0 unspecified).
    pub reason: u8,
    /// `account` (its ACME account) or `certificate_key` (signed with the certificate's key).
    pub by: String,
}

/// Which device a certificate was issued to (the MDM check-in maps identities with it).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct IssuedTo {
    pub cert_id: String,
    pub serial: Serial,
    pub udid: Udid,
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// Set once the certificate is revoked: MDM must no longer accept it.
    #[serde(default)]
    pub revoked: Option<Revocation>,
}
