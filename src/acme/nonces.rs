//! Replay nonces (RFC 8555 §6.5): random, single use, bounded in number and age.
//!
//! Kept in memory: after a restart every outstanding nonce is unknown and a device's next
//! request gets `badNonce`, which RFC 8555 clients answer by fetching a new one and retrying.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use time::{Duration, OffsetDateTime};

/// Most nonces outstanding at once; the oldest are dropped beyond it.
pub const MAX_NONCES: usize = 10_000;
/// How long a nonce stays usable.
pub const NONCE_TTL: Duration = Duration::minutes(30);

#[derive(Default)]
pub struct Nonces {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    issued: HashMap<String, OffsetDateTime>,
    order: VecDeque<String>,
}

impl Nonces {
    /// A new nonce (128 bits, base64url).
    pub fn issue(&self, now: OffsetDateTime) -> String {
        let nonce = crate::crypto::random_token::<16>();
        let mut inner = self.inner.lock().expect("the nonce mutex is never held across a panic");
        while inner.order.len() >= MAX_NONCES {
            if let Some(old) = inner.order.pop_front() {
                inner.issued.remove(&old);
            }
        }
        inner.issued.insert(nonce.clone(), now + NONCE_TTL);
        inner.order.push_back(nonce.clone());
        nonce
    }

    /// Forgets the nonces expired at `now`; returns how many.
    pub fn purge(&self, now: OffsetDateTime) -> usize {
        let mut inner = self.inner.lock().expect("the nonce mutex is never held across a panic");
        let before = inner.issued.len();
        inner.issued.retain(|_, expires| *expires > now);
        let Inner { issued, order } = &mut *inner;
        order.retain(|n| issued.contains_key(n));
        before - inner.issued.len()
    }

    /// Uses up `nonce`; false when it is unknown, expired or already used.
    pub fn consume(&self, nonce: &str, now: OffsetDateTime) -> bool {
        let mut inner = self.inner.lock().expect("the nonce mutex is never held across a panic");
        match inner.issued.remove(nonce) {
            Some(expires) => {
                inner.order.retain(|n| n != nonce);
                expires > now
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_nonce_is_good_once() {
        let n = Nonces::default();
        let now = datetime!(2026-11-24 12:00 UTC);
        let a = n.issue(now);
        assert!(n.consume(&a, now));
        assert!(!n.consume(&a, now));
        assert!(!n.consume("never-issued", now));
    }

    #[test]
    fn purge_forgets_only_expired_nonces() {
        let n = Nonces::default();
        let t0 = datetime!(2026-11-24 12:00 UTC);
        let old = n.issue(t0);
        let fresh = n.issue(t0 + Duration::minutes(20));
        assert_eq!(n.purge(t0 + NONCE_TTL), 1);
        assert_eq!(n.purge(t0 + NONCE_TTL), 0);
        assert!(!n.consume(&old, t0));
        assert!(n.consume(&fresh, t0 + NONCE_TTL));
    }

    #[test]
    fn an_expired_nonce_is_refused() {
        let n = Nonces::default();
        let now = datetime!(2026-11-24 12:00 UTC);
        let a = n.issue(now);
        assert!(!n.consume(&a, now + NONCE_TTL + Duration::seconds(1)));
    }
}
