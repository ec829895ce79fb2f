//! Replay nonces (RFC 8555 §6.5): random, single use, bounded in number and age.
//!
//! Kept in memory: after a restart every outstanding nonce is unknown and a device's next
//! request gets `badNonce`, which RFC 8555 clients answer by fetching a new one and retrying.
//!
//! Every signed request uses one up and every response issues one, so both are O(1): a used
//! nonce leaves the map at once but stays in the issue order until it reaches the front (or
//! the order is compacted when such stale entries outnumber the live ones), rather than being
//! searched for among up to [`MAX_NONCES`] others.

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
    /// The outstanding nonces and when each expires.
    issued: HashMap<String, OffsetDateTime>,
    /// Issue order, oldest first: every outstanding nonce, and used ones not yet dropped.
    order: VecDeque<String>,
}

impl Inner {
    /// Drops the oldest outstanding nonces until there is room for one more.
    fn make_room(&mut self) {
        while self.issued.len() >= MAX_NONCES {
            match self.order.pop_front() {
                Some(old) => {
                    self.issued.remove(&old);
                }
                None => break,
            }
        }
        // Used nonces left in the order: compacted once they are as many as the live ones, so
        // the order stays under twice the cap and each entry is moved a bounded number of
        // times.
        if self.order.len() >= 2 * self.issued.len().max(MAX_NONCES / 2) {
            let Inner { issued, order } = self;
            order.retain(|n| issued.contains_key(n));
        }
    }
}

impl Nonces {
    /// A new nonce (128 bits, base64url).
    pub fn issue(&self, now: OffsetDateTime) -> String {
        let nonce = crate::crypto::random_token::<16>();
        let mut inner = self.inner.lock().expect("the nonce mutex is never held across a panic");
        inner.make_room();
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
        // Its place in the order goes stale; `make_room` drops it later.
        inner.issued.remove(nonce).is_some_and(|expires| expires > now)
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
    fn the_oldest_outstanding_nonces_make_room_and_used_ones_are_compacted() {
        let n = Nonces::default();
        let now = datetime!(2026-11-24 12:00 UTC);
        let first = n.issue(now);
        let second = n.issue(now);
        // Many nonces issued and used at once (the normal traffic) never push out one that is
        // still outstanding, and the order holding them stays bounded.
        for _ in 0..3 * MAX_NONCES {
            let used = n.issue(now);
            assert!(n.consume(&used, now));
        }
        assert!(n.inner.lock().unwrap().order.len() <= 2 * MAX_NONCES);
        assert!(n.consume(&first, now));
        // Beyond the cap of outstanding ones, the oldest goes first.
        let kept: Vec<String> = (0..MAX_NONCES).map(|_| n.issue(now)).collect();
        assert!(!n.consume(&second, now), "the oldest outstanding nonce was dropped");
        assert!(kept.iter().all(|k| n.consume(k, now)));
    }

    #[test]
    fn an_expired_nonce_is_refused() {
        let n = Nonces::default();
        let now = datetime!(2026-11-24 12:00 UTC);
        let a = n.issue(now);
        assert!(!n.consume(&a, now + NONCE_TTL + Duration::seconds(1)));
    }
}
