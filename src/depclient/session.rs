//! One shared DEP session per client with single-flight (re-)authentication
//! (../shared/spec/dep-api.md §2.2).
//!
//! Apple may not like several concurrent sessions per token (§2.2, uncertain), and nanodep's
//! unlocked re-auth is a known issue (#84). So: one session token, behind a tokio mutex that is
//! held while `/session` is called. Callers that find the session stale wait on that mutex;
//! when they get it they use the session someone else just made (generation changed) or the
//! error that login just failed with, instead of signing in again. Every token change (login or
//! a rotated `X-ADM-Auth-Session` adopted from a response) bumps the generation.

use super::DepError;
use crate::crypto::Secret;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::Mutex;

/// A session token and the generation it belongs to.
#[derive(Clone, Debug)]
pub(crate) struct Current {
    pub token: Secret<String>,
    pub generation: u64,
}

#[derive(Default)]
struct State {
    token: Option<Secret<String>>,
    generation: u64,
    last_error: Option<DepError>,
}

#[derive(Default)]
pub(crate) struct Session {
    state: Mutex<State>,
    /// Login attempts finished, readable without the lock so a waiter can tell whether one
    /// ended while it waited.
    completed: AtomicU64,
}

impl Session {
    /// The current session, signing in first if there is none.
    pub async fn current<F, Fut>(&self, login: F) -> Result<Current, DepError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Secret<String>, DepError>>,
    {
        let seen = self.completed.load(Ordering::Acquire);
        let mut state = self.state.lock().await;
        if let Some(token) = &state.token {
            return Ok(Current { token: token.clone(), generation: state.generation });
        }
        self.login_locked(&mut state, seen, login).await
    }

    /// A fresh session after `stale` was refused: reuses one made meanwhile by another caller,
    /// otherwise signs in again (once, for every caller waiting).
    pub async fn renew<F, Fut>(&self, stale: u64, login: F) -> Result<Current, DepError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Secret<String>, DepError>>,
    {
        let seen = self.completed.load(Ordering::Acquire);
        let mut state = self.state.lock().await;
        if state.generation != stale
            && let Some(token) = &state.token
        {
            return Ok(Current { token: token.clone(), generation: state.generation });
        }
        state.token = None;
        self.login_locked(&mut state, seen, login).await
    }

    /// Adopts a rotated session token seen on a response to a request made with generation
    /// `generation`. A rotation from an older generation is ignored: a newer session exists.
    pub async fn adopt(&self, generation: u64, rotated: &str) {
        let mut state = self.state.lock().await;
        let same = state.token.as_ref().is_some_and(|t| t.expose() == rotated);
        if state.generation == generation && !same && !rotated.is_empty() {
            state.token = Some(Secret::new(rotated.to_owned()));
            state.generation += 1;
        }
    }

    async fn login_locked<F, Fut>(
        &self,
        state: &mut State,
        seen: u64,
        login: F,
    ) -> Result<Current, DepError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Secret<String>, DepError>>,
    {
        // A login ended (and failed, or there would be a token) while we waited: share its error.
        if self.completed.load(Ordering::Acquire) != seen
            && let Some(err) = &state.last_error
        {
            return Err(err.clone());
        }
        let outcome = login().await;
        self.completed.fetch_add(1, Ordering::AcqRel);
        match outcome {
            Ok(token) => {
                state.generation += 1;
                state.token = Some(token.clone());
                state.last_error = None;
                Ok(Current { token, generation: state.generation })
            }
            Err(err) => {
                state.last_error = Some(err.clone());
                Err(err)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    type LoginFuture =
        std::pin::Pin<Box<dyn Future<Output = Result<Secret<String>, DepError>> + Send>>;

    /// A login that takes a moment, counts its calls and answers `result` numbered by call.
    fn counting_login(
        calls: Arc<AtomicUsize>,
        result: Result<&'static str, DepError>,
    ) -> impl FnOnce() -> LoginFuture {
        move || {
            Box::pin(async move {
                let n = calls.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
                result.map(|t| Secret::new(format!("{t}-{n}")))
            })
        }
    }

    #[tokio::test]
    async fn concurrent_first_use_signs_in_once() {
        let session = Arc::new(Session::default());
        let calls = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (s, c) = (session.clone(), calls.clone());
            tasks.push(tokio::spawn(async move { s.current(counting_login(c, Ok("tok"))).await }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap().unwrap().token.expose(), "tok-0");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn concurrent_renewals_of_one_stale_session_sign_in_once() {
        let session = Arc::new(Session::default());
        let calls = Arc::new(AtomicUsize::new(0));
        let first = session.current(counting_login(calls.clone(), Ok("tok"))).await.unwrap();
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (s, c) = (session.clone(), calls.clone());
            let stale = first.generation;
            tasks.push(tokio::spawn(
                async move { s.renew(stale, counting_login(c, Ok("tok"))).await },
            ));
        }
        for t in tasks {
            let cur = t.await.unwrap().unwrap();
            assert_eq!(cur.token.expose(), "tok-1");
            assert_eq!(cur.generation, first.generation + 1);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 2, "one initial login, one renewal");
    }

    #[tokio::test]
    async fn a_failed_login_is_shared_with_waiters_not_repeated() {
        let session = Arc::new(Session::default());
        let calls = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..5 {
            let (s, c) = (session.clone(), calls.clone());
            tasks.push(tokio::spawn(async move {
                s.current(counting_login(c, Err(DepError::TermsNotSigned))).await
            }));
        }
        for t in tasks {
            assert!(matches!(t.await.unwrap(), Err(DepError::TermsNotSigned)));
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // A later caller (not waiting during that attempt) tries again.
        let again = session.current(counting_login(calls.clone(), Ok("tok"))).await.unwrap();
        assert_eq!(again.token.expose(), "tok-1");
    }

    #[tokio::test]
    async fn adopts_rotation_only_from_the_current_generation() {
        let session = Session::default();
        let calls = Arc::new(AtomicUsize::new(0));
        let first = session.current(counting_login(calls.clone(), Ok("tok"))).await.unwrap();
        session.adopt(first.generation, "rotated").await;
        let now = session.current(counting_login(calls.clone(), Ok("tok"))).await.unwrap();
        assert_eq!(now.token.expose(), "rotated");
        assert_eq!(now.generation, first.generation + 1);
        session.adopt(first.generation, "stale-rotation").await;
        let still = session.current(counting_login(calls.clone(), Ok("tok"))).await.unwrap();
        assert_eq!(still.token.expose(), "rotated");
        // Renewing the pre-rotation generation reuses the rotated token without a login.
        let renewed = session.renew(first.generation, counting_login(calls.clone(), Ok("x"))).await;
        assert_eq!(renewed.unwrap().token.expose(), "rotated");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
