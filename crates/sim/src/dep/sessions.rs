//! Sessions, OAuth nonces and the User-Agent rule of the DEP simulator (dep-api.md §2.2–§2.4).
//!
//! Exposes [`Sessions`] (opaque `X-ADM-Auth-Session` tokens with a TTL on the simulator clock
//! and optional rotation, switched by the `rotate-session` fault: every N uses the response
//! carries a new token, and the old one stays valid until its own TTL), [`NonceCache`] (a nonce is accepted once per consumer key) and
//! [`check_user_agent`]. Pure: time comes in as Unix milliseconds.

use crate::dep::codes::Code;
use crate::dep::world::ServerId;
use crate::rng::SimRng;
use std::collections::{HashMap, HashSet, VecDeque};

/// One live session.
#[derive(Clone, Debug)]
struct Session {
    server: ServerId,
    /// The access token it was opened with: a renewal retires it, and with it the session.
    access_token: String,
    created_ms: i64,
    uses: u32,
}

/// What a valid session resolves to.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionUse {
    pub server: ServerId,
    pub access_token: String,
    /// A new token to hand back in `X-ADM-Auth-Session` (rotation).
    pub rotated: Option<String>,
}

/// Live sessions.
#[derive(Debug)]
pub struct Sessions {
    map: HashMap<String, Session>,
    ttl_ms: i64,
    rng: SimRng,
    inserts: u64,
}

impl Sessions {
    pub fn new(ttl_ms: i64, seed: u64) -> Self {
        Sessions { map: HashMap::new(), ttl_ms, rng: SimRng::new(seed), inserts: 0 }
    }

    /// Opens a session; the token looks like Apple's (`<ms>O1O<hex>`, dep-api.md §2.1).
    pub fn open(&mut self, server: ServerId, access_token: &str, now_ms: i64) -> String {
        let token = format!("{now_ms}O1O{}", self.rng.hex_upper(40));
        self.map.insert(
            token.clone(),
            Session { server, access_token: access_token.to_string(), created_ms: now_ms, uses: 0 },
        );
        self.inserts += 1;
        if self.inserts.is_multiple_of(1024) {
            let ttl = self.ttl_ms;
            self.map.retain(|_, s| now_ms - s.created_ms <= ttl);
        }
        token
    }

    /// Resolves a session token; `None` when unknown or older than the TTL (→ 401). With
    /// `rotate_every` N, every N-th use of a session hands out a new token ("The service
    /// periodically issues a new X-ADM-Auth-Session", AppleDoc, §2.2).
    pub fn use_session(
        &mut self,
        token: &str,
        now_ms: i64,
        rotate_every: Option<u32>,
    ) -> Option<SessionUse> {
        let s = self.map.get_mut(token)?;
        if now_ms - s.created_ms > self.ttl_ms {
            self.map.remove(token);
            return None;
        }
        s.uses += 1;
        let (server, access_token, uses) = (s.server, s.access_token.clone(), s.uses);
        let rotated = match rotate_every {
            Some(n) if n > 0 && uses.is_multiple_of(n) => {
                Some(self.open(server, &access_token, now_ms))
            }
            _ => None,
        };
        Some(SessionUse { server, access_token, rotated })
    }

    /// Ends every session of `server` (after a token renewal).
    pub fn close_server(&mut self, server: ServerId) {
        self.map.retain(|_, s| s.server != server);
    }

    pub fn set_ttl_ms(&mut self, ttl_ms: i64) {
        self.ttl_ms = ttl_ms;
    }
}

/// Nonces seen per consumer key. Apple rejects an already-used nonce with 401 (§2.3); the
/// cache forgets the oldest entries beyond its capacity, which only a flood of sessions reaches.
#[derive(Debug)]
pub struct NonceCache {
    seen: HashSet<(String, String)>,
    order: VecDeque<(String, String)>,
    capacity: usize,
}

impl NonceCache {
    pub fn new(capacity: usize) -> Self {
        NonceCache { seen: HashSet::new(), order: VecDeque::new(), capacity }
    }

    /// Records the nonce; false when it was already used with this consumer key.
    pub fn first_use(&mut self, consumer_key: &str, nonce: &str) -> bool {
        let key = (consumer_key.to_string(), nonce.to_string());
        if !self.seen.insert(key.clone()) {
            return false;
        }
        self.order.push_back(key);
        while self.order.len() > self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.seen.remove(&old);
            }
        }
        true
    }
}

/// User-Agents Apple is known to refuse (§2.4): nanodep's old default and generic library
/// defaults. Matched case-insensitively as prefixes.
pub const DEFAULT_USER_AGENT_DENY: &[&str] =
    &["nanodep-godep/", "python-requests/", "Go-http-client/", "okhttp/", "Java/"];

/// The 400 code for a request's User-Agent, if it is refused.
pub fn check_user_agent(user_agent: Option<&str>, deny: &[String]) -> Option<Code> {
    let ua = user_agent.map(str::trim).unwrap_or("");
    if ua.is_empty() {
        return Some(Code::UserAgentMissing);
    }
    let lower = ua.to_ascii_lowercase();
    deny.iter()
        .any(|d| lower.starts_with(&d.to_ascii_lowercase()))
        .then_some(Code::UserAgentInvalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_lives_for_its_ttl_only() {
        let mut s = Sessions::new(1000, 1);
        let t = s.open(3, "AT_x", 0);
        assert!(t.contains("O1O"));
        assert_eq!(s.use_session(&t, 1000, None).map(|u| u.server), Some(3));
        assert_eq!(s.use_session(&t, 1001, None), None);
        assert_eq!(s.use_session("nope", 0, None), None);
    }

    #[test]
    fn rotation_hands_out_a_new_token_and_keeps_the_old_one_valid() {
        let mut s = Sessions::new(60_000, 1);
        let t = s.open(0, "AT_x", 0);
        assert_eq!(s.use_session(&t, 1, Some(2)).unwrap().rotated, None);
        let new = s.use_session(&t, 2, Some(2)).unwrap().rotated.expect("second use rotates");
        assert_ne!(new, t);
        assert!(s.use_session(&new, 3, Some(2)).is_some());
        assert!(s.use_session(&t, 3, None).is_some());
    }

    #[test]
    fn closing_a_server_ends_its_sessions() {
        let mut s = Sessions::new(60_000, 1);
        let a = s.open(0, "AT_a", 0);
        let b = s.open(1, "AT_b", 0);
        s.close_server(0);
        assert!(s.use_session(&a, 1, None).is_none());
        assert!(s.use_session(&b, 1, None).is_some());
    }

    #[test]
    fn a_nonce_is_accepted_once_per_consumer_key() {
        let mut n = NonceCache::new(2);
        assert!(n.first_use("CK_a", "n1"));
        assert!(!n.first_use("CK_a", "n1"));
        assert!(n.first_use("CK_b", "n1"));
        assert!(n.first_use("CK_a", "n2"));
        // Capacity 2: the oldest is forgotten.
        assert!(n.first_use("CK_a", "n1"));
    }

    #[test]
    fn user_agent_must_be_present_and_not_denied() {
        let deny: Vec<String> = DEFAULT_USER_AGENT_DENY.iter().map(|s| s.to_string()).collect();
        assert_eq!(check_user_agent(None, &deny), Some(Code::UserAgentMissing));
        assert_eq!(check_user_agent(Some("  "), &deny), Some(Code::UserAgentMissing));
        assert_eq!(
            check_user_agent(Some("python-requests/2.31"), &deny),
            Some(Code::UserAgentInvalid)
        );
        assert_eq!(check_user_agent(Some("NANODEP-GODEP/0"), &deny), Some(Code::UserAgentInvalid));
        assert_eq!(check_user_agent(Some("adebox/0.1.0"), &deny), None);
        assert_eq!(check_user_agent(Some("nanodep-g-o-dep/0"), &deny), None);
    }
}
