//! The state every worker of the APNs simulator shares ([`Shared`]: faults, deliveries, the
//! tokens it refuses, the stand-in push CA) and what it records ([`Delivery`]). A leaf of
//! `apns`: the routes and the server import it, it imports neither.

use super::faults::Faults;
use crate::crypto::ca::Authority;
use crate::rng::SimRng;
use arc_swap::ArcSwap;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::AtomicU64;
use std::sync::{Mutex, MutexGuard};
use time::OffsetDateTime;
use tokio::sync::broadcast;

/// Deliveries kept per device token (older ones are dropped).
const KEEP_PER_TOKEN: usize = 100;

/// A push the simulator accepted.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Delivery {
    /// Lower-case hex device token.
    pub token: String,
    pub topic: String,
    pub push_magic: String,
    pub apns_id: String,
    pub push_type: Option<String>,
    pub priority: Option<String>,
    pub expiration: Option<i64>,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// State every worker shares.
pub struct Shared {
    pub faults: ArcSwap<Faults>,
    pub rng: Mutex<SimRng>,
    /// Pushes answered (any status).
    pub requests: AtomicU64,
    pub deliveries: Mutex<HashMap<String, Vec<Delivery>>>,
    /// Tokens answered 410 `Unregistered` (the app was removed / the device unenrolled).
    pub unregistered: Mutex<HashSet<String>>,
    /// Tokens answered 400 `BadDeviceToken`.
    pub bad_tokens: Mutex<HashSet<String>>,
    pub events: broadcast::Sender<Delivery>,
    /// The stand-in push CA: issues push certificates and the server certificate.
    pub ca: Authority,
    /// The topic certificates get unless the request names one.
    pub topic: String,
}

pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    /// Keeps a delivery for the controls and tells its listeners.
    pub fn record(&self, d: Delivery) {
        let mut all = lock(&self.deliveries);
        let list = all.entry(d.token.clone()).or_default();
        list.push(d.clone());
        if list.len() > KEEP_PER_TOKEN {
            list.remove(0);
        }
        drop(all);
        let _ = self.events.send(d); // nobody listening is fine
    }
}
