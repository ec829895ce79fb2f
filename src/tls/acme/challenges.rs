//! The HTTP-01 key authorizations of the order in progress, which the plain-HTTP challenge
//! listener serves at `/.well-known/acme-challenge/{token}`. Empty between orders, so the
//! listener then answers nothing but 404.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Tokens are base64url of at least 128 bits (RFC 8555 §8.3); anything longer than this or
/// outside the alphabet is not looked up at all.
const MAX_TOKEN: usize = 128;

#[derive(Clone, Default, Debug)]
pub struct Challenges(Arc<Mutex<HashMap<String, String>>>);

impl Challenges {
    /// The key authorization for `token`, while its order is pending.
    pub fn answer(&self, token: &str) -> Option<String> {
        let well_formed = !token.is_empty()
            && token.len() <= MAX_TOKEN
            && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !well_formed {
            return None;
        }
        self.0.lock().expect("challenge map is never held across a panic").get(token).cloned()
    }

    pub(super) fn insert(&self, token: String, key_authorization: String) {
        self.0
            .lock()
            .expect("challenge map is never held across a panic")
            .insert(token, key_authorization);
    }

    pub(super) fn clear(&self) {
        self.0.lock().expect("challenge map is never held across a panic").clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_pending_well_formed_tokens_are_answered() {
        let c = Challenges::default();
        assert_eq!(c.answer("abc"), None);
        c.insert("abc_-1".into(), "abc_-1.thumb".into());
        assert_eq!(c.answer("abc_-1").as_deref(), Some("abc_-1.thumb"));
        assert_eq!(c.answer("../abc"), None);
        assert_eq!(c.answer(&"a".repeat(129)), None);
        c.clear();
        assert_eq!(c.answer("abc_-1"), None);
    }
}
