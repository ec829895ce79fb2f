//! Sign-in attempts in progress: a device whose MachineInfo verified, waiting for its user to
//! sign in. Setup Assistant sends `x-apple-aspen-deviceinfo` only on the first load of the page
//! (../shared/spec/enrollment.md §1.6) and web views may drop cookies, so the verified device
//! is kept here, server-side, under a single-use random id the form carries back.
//!
//! Kept in memory on purpose and bounded: at most [`MAX_ATTEMPTS`] live for [`ATTEMPT_TTL`];
//! past the bound the oldest goes. A restart forgets them; the page then asks to start over.

use crate::directory::Source;
use crate::directory::oidc::OidcPending;
use crate::enroll::Admitted;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use time::{Duration, OffsetDateTime};

/// How long a sign-in page stays usable after Setup Assistant opened it.
pub const ATTEMPT_TTL: Duration = Duration::minutes(30);
/// Attempts kept at once (each holds one MachineInfo, a few hundred bytes).
pub const MAX_ATTEMPTS: usize = 10_000;

/// One device waiting for its user.
#[derive(Clone, Debug)]
pub struct Attempt {
    pub admitted: Admitted,
    /// The synchronizer token the form must carry back (CSRF).
    pub csrf: String,
    pub source: Source,
    /// Groups whose members may enroll; empty: everyone the directory knows.
    pub allowed_groups: Vec<String>,
    pub started: OffsetDateTime,
    /// The authorization request sent to the OpenID provider, while one is out: its `state`
    /// finds this attempt again when the provider sends the user back.
    pub oidc: Option<OidcPending>,
}

/// The live attempts (cheap to clone).
#[derive(Clone, Default)]
pub struct Attempts {
    map: Arc<Mutex<HashMap<String, Attempt>>>,
}

impl Attempts {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Attempt>> {
        self.map.lock().expect("attempts mutex is never held across a panic")
    }

    /// Keeps `attempt`; returns its new random id.
    pub fn insert(&self, attempt: Attempt, now: OffsetDateTime) -> String {
        let id = crate::crypto::random_token::<32>();
        let mut map = self.map();
        map.retain(|_, a| now - a.started < ATTEMPT_TTL);
        if map.len() >= MAX_ATTEMPTS
            && let Some(oldest) = map.iter().min_by_key(|(_, a)| a.started).map(|(k, _)| k.clone())
        {
            map.remove(&oldest);
        }
        map.insert(id.clone(), attempt);
        id
    }

    /// The live attempt `id`, left in place (a wrong password may be retried).
    pub fn get(&self, id: &str, now: OffsetDateTime) -> Option<Attempt> {
        let map = self.map();
        map.get(id).filter(|a| now - a.started < ATTEMPT_TTL).cloned()
    }

    /// Ends attempt `id` (the device got its profile); whether it was still there, so two
    /// parallel right answers serve one profile only.
    pub fn take(&self, id: &str) -> bool {
        self.map().remove(id).is_some()
    }

    /// Binds `pending` to the live attempt `id` (replacing an earlier request); whether the
    /// attempt was still there.
    pub fn set_oidc(&self, id: &str, pending: OidcPending, now: OffsetDateTime) -> bool {
        let mut map = self.map();
        match map.get_mut(id).filter(|a| now - a.started < ATTEMPT_TTL) {
            Some(a) => {
                a.oidc = Some(pending);
                true
            }
            None => false,
        }
    }

    /// The live attempt whose request carries `state`, with that request taken out of it: a
    /// state is answered once, so a replayed redirect finds nothing.
    pub fn take_oidc(
        &self,
        state: &str,
        now: OffsetDateTime,
    ) -> Option<(String, Attempt, OidcPending)> {
        use subtle::ConstantTimeEq;
        let mut map = self.map();
        let (id, attempt) = map.iter_mut().find(|(_, a)| {
            a.oidc.as_ref().is_some_and(|p| {
                p.state.len() == state.len()
                    && bool::from(p.state.as_bytes().ct_eq(state.as_bytes()))
            })
        })?;
        let pending = attempt.oidc.take()?;
        if now - attempt.started >= ATTEMPT_TTL {
            return None;
        }
        Some((id.clone(), attempt.clone(), pending))
    }

    pub fn len(&self) -> usize {
        self.map().len()
    }

    pub fn is_empty(&self) -> bool {
        self.map().is_empty()
    }
}
