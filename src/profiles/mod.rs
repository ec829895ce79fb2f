//! Enrollment profiles: the profile model and its local validation, the Apple JSON, stored
//! revisions, their definition at each token's Apple side, defaults per token and family.
//!
//! Owns the tables `profiles.by_id`, `profiles.defaults`, `profiles.assignments` and
//! `profiles.anchors`. Exposes [`Profiles`] (the service handle), the model types and
//! [`ProfileError`]. Calls tokens, devices and (for defining at Apple) depclient; never names
//! actix types.

pub mod anchors;
pub mod apple_json;
pub mod assign;
mod crud;
mod forced_await;
pub mod csv;
pub mod model;
mod owner;
pub mod platform;
mod records;
mod round;
pub mod schedule;
pub mod screens;
mod task;
pub mod validate;
mod worker;

pub use anchors::Anchors;
pub use apple_json::Endpoints;
pub use assign::{RequestReport, SerialOutcome};
pub use crud::{DefaultEntry, EditImpact, token_defaults_in};
pub use model::{
    AppleRefusal, DefaultRef, DefinitionState, FieldIssue, ProfileInput, ProfileView,
    SharedIpadSettings, SignInChoice, TokenProfileState,
};
pub use owner::{DefinedProfile, ProfileNames};
pub use records::TABLES;
pub use round::Round;
pub use schedule::{Assignment, AssignmentState};

use crate::clock::Clock;
use crate::devices::Devices;
use crate::store::{Store, StoreError};
use crate::tokens::{Blocker, Tokens};
use std::sync::Arc;

/// At most this many profiles: each is defined at every token, and Apple's guidance is
/// ≤ 1000 profiles per MDM server.
pub const MAX_PROFILES_PER_TOKEN: u64 = 1000;
/// At most this many devices per profile (Apple's guidance; docs/profiles.md "Limits").
pub const MAX_DEVICES_PER_PROFILE: u64 = 200_000;

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("{0} not found")]
    NotFound(String),
    #[error("{}", .0.first().map(|f| f.message.as_str()).unwrap_or("the profile is not valid"))]
    Invalid(Vec<FieldIssue>),
    #[error("{message}")]
    Limit { message: String, limit: u64 },
    #[error("this profile is still in use: {}", .0.iter().map(|b| b.message.as_str()).collect::<Vec<_>>().join("; "))]
    InUse(Vec<Blocker>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

crate::store::redb_errors_into!(ProfileError);

impl ProfileError {
    pub fn field(field: &str, message: impl Into<String>) -> ProfileError {
        ProfileError::Invalid(vec![FieldIssue::new(field, message)])
    }
}

impl From<crate::tokens::TokenError> for ProfileError {
    fn from(e: crate::tokens::TokenError) -> Self {
        match e {
            crate::tokens::TokenError::NotFound(w) => ProfileError::NotFound(w),
            crate::tokens::TokenError::Store(s) => ProfileError::Store(s),
            other => ProfileError::field("token_id", other.to_string()),
        }
    }
}

/// The profiles service (cheap to clone).
#[derive(Clone)]
pub struct Profiles {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    clock: Clock,
    tokens: Tokens,
    devices: Devices,
    endpoints: Endpoints,
    http: reqwest::Client,
    gates: crate::depclient::Gates,
    /// Wakes the definition worker after a change.
    changed: tokio::sync::Notify,
    /// A default changed: the worker scans every token for devices without a profile in its
    /// next round instead of waiting for the periodic scan.
    scan_due: std::sync::atomic::AtomicBool,
}

impl Profiles {
    pub fn new(
        store: Store,
        clock: Clock,
        tokens: Tokens,
        devices: Devices,
        endpoints: Endpoints,
        http: reqwest::Client,
        gates: crate::depclient::Gates,
    ) -> Profiles {
        Profiles {
            inner: Arc::new(Inner {
                store,
                clock,
                tokens,
                devices,
                endpoints,
                http,
                gates,
                changed: tokio::sync::Notify::new(),
                scan_due: std::sync::atomic::AtomicBool::new(false),
            }),
        }
    }

    fn now(&self) -> time::OffsetDateTime {
        self.inner.clock.now()
    }

    /// Resolves once a profile or a default changed (the definition worker waits on it).
    pub async fn changed(&self) {
        self.inner.changed.notified().await
    }
}
