//! At most one request in flight per server token, across everything that talks to Apple for
//! it (sync runs, profile definitions, assignment batches).
//!
//! Apple documents no concurrency limit, but its guidance is per-token traffic budgets and
//! one session per token (../shared/spec/dep-api.md §2.2, §3.4); serialising the calls keeps
//! the session single-flight and a slow answer from being raced by another. A [`Gates`]
//! registry hands out one [`Gate`] per token id; a [`super::DepClient`] built
//! [`with_gate`](super::DepClient::with_gate) holds it for the duration of each call (sign-in
//! and one re-authentication included), not while a caller backs off between retries.

use crate::ids::TokenId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// One token's gate.
pub type Gate = Arc<tokio::sync::Mutex<()>>;

/// The gates of every token, shared by the services that call Apple (cheap to clone).
#[derive(Clone, Default, Debug)]
pub struct Gates {
    inner: Arc<Mutex<HashMap<TokenId, Gate>>>,
}

impl Gates {
    /// The gate of `token` (the same one for every caller).
    pub fn gate(&self, token: &TokenId) -> Gate {
        self.inner
            .lock()
            .expect("gates mutex is never held across a panic")
            .entry(token.clone())
            .or_default()
            .clone()
    }

    /// Forgets a deleted token's gate.
    pub fn forget(&self, token: &TokenId) {
        self.inner.lock().expect("gates mutex is never held across a panic").remove(token);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_gate_per_token_shared_by_every_caller() {
        let gates = Gates::default();
        let (t1, t2) = (TokenId::parse("t1").unwrap(), TokenId::parse("t2").unwrap());
        let a = gates.gate(&t1);
        let b = gates.clone().gate(&t1);
        assert!(Arc::ptr_eq(&a, &b));
        let held = a.lock().await;
        assert!(b.try_lock().is_err(), "a second caller of the same token waits");
        assert!(gates.gate(&t2).try_lock().is_ok(), "other tokens are not held up");
        drop(held);
        assert!(b.try_lock().is_ok());
    }
}
