//! The push module's tables and stored records.

use crate::store::{self, Sealed, SecretField, Table};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// `current` → [`RequestRecord`]: the key and CSR waiting for the portal's certificate.
pub(super) const REQUEST: Table = store::table("push.request");
/// `current` → [`CertRecord`]: the push certificate in use and its key.
pub(super) const CERT: Table = store::table("push.certificate");
/// [`crate::ids::Udid::key`] (the UDID upper-cased) → [`DeviceRecord`]: how pushes to that
/// device went. Schema 3 kept the UDID as the enrollment held it (store migration 3 → 4).
pub(super) const DEVICES: Table = store::table("push.devices");
/// This module's tables, all created when the store opens ([`crate::store::Store::open`]).
pub const TABLES: &[Table] = &[REQUEST, CERT, DEVICES];

/// The only key of the single-row tables.
pub(super) const CURRENT: &[u8] = b"current";

// The private keys, sealed with the data key (`store::seal`): a request's key opens only in
// `push.request`, the certificate's only in `push.certificate`.
pub(super) const REQUEST_KEY: SecretField = SecretField::new("push.request", "key_pem");
pub(super) const CERT_KEY: SecretField = SecretField::new("push.certificate", "key_pem");

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct RequestRecord {
    /// Sealed ([`REQUEST_KEY`]).
    pub key_pem: Sealed,
    pub csr_pem: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub created_by: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct CertRecord {
    pub cert_pem: String,
    /// Sealed ([`CERT_KEY`]).
    pub key_pem: Sealed,
    pub topic: String,
    pub subject: String,
    pub issuer: String,
    pub serial_hex: String,
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub installed_at: OffsetDateTime,
    pub installed_by: String,
    #[serde(with = "time::serde::rfc3339::option")]
    pub renewed_at: Option<OffsetDateTime>,
    /// APNs refused this certificate (403 `BadCertificate`, `BadCertificateEnvironment`, a
    /// revoked or expired certificate): cleared by the next accepted push or a new upload.
    #[serde(default)]
    pub refused: Option<CertRefusal>,
}

/// APNs' last refusal of the push certificate itself.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct CertRefusal {
    /// HTTP status (403 for the certificate, 400 for a topic it may not use).
    pub status: u16,
    /// APNs' reason (`BadCertificate`, `BadCertificateEnvironment`, …).
    pub reason: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// How pushes to one device went (the device page shows it).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct DeviceRecord {
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_sent_at: Option<OffsetDateTime>,
    /// APNs refused this device's token for good (`Unregistered`, `BadDeviceToken`, …): no
    /// push reaches it until it sends a new token (TokenUpdate).
    pub unreachable: Option<Unreachable>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Unreachable {
    /// APNs' reason (`Unregistered`, `BadDeviceToken`, …).
    pub reason: String,
    pub message: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}
