//! The MDM push (APNs) certificate and the pushes sent with it
//! (../shared/spec/enrollment.md §5).
//!
//! Owns the tables of [`records`] (`push.request`, `push.certificate`, `push.devices`). The
//! certificate side ([`certificate`]): a pending RSA-2048 key and CSR for the Apple Push
//! Certificates Portal (plain, or vendor-signed with an MDM vendor certificate), the upload
//! of the issued certificate (its key must be ours; a renewal must keep the topic), status and
//! expiry banners. The push side ([`apns`], [`worker`]): [`Pusher::notify`] enqueues a wake-up
//! for a device; the worker sends it over HTTP/2 with the certificate as client identity,
//! retries transient failures with backoff and marks devices APNs refuses for good.
//!
//! Calls audit, devices (timeline) and depclient (backoff rule); never names actix types. The
//! push key is stored in the store (0600 file, carried by backups like the token keys) and
//! never leaves it through the API, the logs or the audit log.

pub mod apns;
pub mod certificate;
mod records;
pub mod view;
pub mod worker;

pub use records::TABLES;
pub use records::{CertRefusal, DeviceRecord, Unreachable};
pub use view::{PushState, PushStatus, RequestInfo};
pub use worker::{ApnsOptions, PushTarget, Pusher};

use crate::clock::Clock;
use crate::crypto::push_cert::PushCertError;
use crate::store::{Store, StoreError};
use std::sync::Arc;

/// Where the admin gets push certificates.
pub const APPLE_PORTAL_URL: &str = "https://identity.apple.com/pushcert";

#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error(
        "no push certificate is installed: devices cannot be managed without one. On the Enrollment page, download the certificate request, upload it at the Apple Push Certificates Portal, then upload the certificate it gives you"
    )]
    NoCertificate,
    #[error(
        "the push certificate expired on {0}; renew it at the Apple Push Certificates Portal (Renew, with the same Apple Account) and upload the renewed certificate"
    )]
    Expired(time::Date),
    #[error(
        "there is no pending certificate request: make one on the Enrollment page (Push certificate → New request) first"
    )]
    NoRequest,
    #[error("{0}")]
    Certificate(#[from] PushCertError),
    #[error(
        "this certificate was not issued for adebox's current request (its key is not ours); upload the certificate the portal issued for the request downloaded from this appliance, or make a new request"
    )]
    KeyMismatch,
    #[error(
        "this certificate's topic ({got}) differs from the one in use ({current}): every enrolled device would have to be re-enrolled. Renew the existing certificate at the Apple Push Certificates Portal with the same Apple Account (Renew, not Create) so the topic stays the same"
    )]
    TopicChanged { current: String, got: String },
    #[error(
        "this certificate expired on {0}; upload a current one from the Apple Push Certificates Portal"
    )]
    UploadExpired(time::Date),
    #[error("{field}: {message}")]
    Validation { field: &'static str, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

crate::store::redb_errors_into!(PushError);

/// The push certificate service (cheap to clone).
#[derive(Clone)]
pub struct Push {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    clock: Clock,
}

impl Push {
    pub fn new(store: Store, clock: Clock) -> Push {
        Push { inner: Arc::new(Inner { store, clock }) }
    }

    fn now(&self) -> time::OffsetDateTime {
        self.inner.clock.now()
    }
}

#[cfg(test)]
mod tests;
