//! The workers: one task per token that decides when to run and runs, and a supervisor that
//! starts and stops workers as tokens come and go.

use super::budget::{Next, RunKind};
use super::{Sync, state};
use crate::ids::TokenId;
use crate::tokens::TokenEvent;
use std::collections::HashMap;
use std::time::Duration as StdDuration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Workers re-check their schedule at least this often (the clock may be moved in tests and
/// the sandbox; the system clock may jump).
const RECHECK: StdDuration = StdDuration::from_secs(60);

impl Sync {
    /// Runs the supervisor until `stop` turns true: a worker per token, added and removed
    /// with the tokens.
    pub async fn supervise(self, stop: watch::Receiver<bool>) {
        let mut events = self.inner.tokens.subscribe();
        let mut workers: HashMap<TokenId, JoinHandle<()>> = HashMap::new();
        match self.inner.tokens.list().await {
            Ok(tokens) => {
                for t in tokens {
                    workers.insert(t.id.clone(), self.spawn_worker(t.id, stop.clone()));
                }
            }
            Err(e) => log::error!("sync cannot list the tokens: {e}"),
        }
        let mut stopping = stop.clone();
        loop {
            tokio::select! {
                _ = stopped(&mut stopping) => break,
                event = events.recv() => match event {
                    Ok(TokenEvent::Added(id)) => {
                        workers.insert(id.clone(), self.spawn_worker(id, stop.clone()));
                    }
                    Ok(TokenEvent::Renewed(id)) => self.wakeup(&id).notify_one(),
                    Ok(TokenEvent::Deleted(id)) => {
                        if let Some(w) = workers.remove(&id) {
                            w.abort();
                        }
                        if let Err(e) = self.forget(&id).await {
                            log::warn!(token = id.as_str(); "could not forget the sync state of a deleted token: {e}");
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        // Missed events: reconcile with the token list.
                        if let Ok(tokens) = self.inner.tokens.list().await {
                            for t in tokens {
                                workers.entry(t.id.clone()).or_insert_with(|| self.spawn_worker(t.id, stop.clone()));
                            }
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                },
            }
        }
        for (_, w) in workers {
            let _ = tokio::time::timeout(StdDuration::from_secs(5), w).await;
        }
    }

    fn spawn_worker(&self, token: TokenId, stop: watch::Receiver<bool>) -> JoinHandle<()> {
        let me = self.clone();
        tokio::spawn(async move { me.worker(token, stop).await })
    }

    /// One token's loop: pick what to run (a manual request first, then the budget's
    /// schedule, never inside a failure backoff), run it, repeat; sleep in between.
    async fn worker(self, token: TokenId, mut stop: watch::Receiver<bool>) {
        let wakeup = self.wakeup(&token);
        log::debug!(token = token.as_str(); "sync worker started");
        loop {
            let stopping = *stop.borrow();
            if stopping {
                break;
            }
            let wait = match self.next_step(&token).await {
                Ok(Step::Run(kind, manual)) => {
                    // Shown as running from the moment the request is taken, so the page
                    // never sees it neither requested nor running.
                    self.inner.progress.begin(&token, kind, self.now(), None);
                    match self.client(&token).await {
                        Ok(client) => {
                            // The run is what stops first on shutdown: its pages are committed
                            // one by one, so stopping between two is safe.
                            tokio::select! {
                                _ = self.run(&token, &client, kind, manual) => {}
                                _ = stopped(&mut stop) => break,
                            }
                        }
                        Err(super::SyncError::UnknownToken(_)) => break,
                        Err(e) => {
                            self.inner.progress.end(&token);
                            log::error!(token = token.as_str(); "sync cannot start: {e}");
                        }
                    }
                    continue;
                }
                Ok(Step::Wait(d)) => d.min(RECHECK),
                Err(super::SyncError::UnknownToken(_)) => break,
                Err(e) => {
                    log::error!(token = token.as_str(); "sync cannot read its state: {e}");
                    RECHECK
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = wakeup.notified() => {}
                _ = stopped(&mut stop) => break,
            }
        }
        log::debug!(token = token.as_str(); "sync worker stopped");
    }

    async fn next_step(&self, token: &TokenId) -> Result<Step, super::SyncError> {
        self.inner.tokens.get(token).await?;
        let settings = self.settings().await?;
        let now = self.now();
        let token_s = token.clone();
        // Take a manual request (and clear it) in one transaction.
        let taken = self
            .inner
            .store
            .write(move |wtx| {
                let mut s = state::load_w(wtx, &token_s)?;
                let req = s.requested.take();
                if req.is_some() {
                    state::save_in(wtx, &token_s, &s)?;
                }
                Ok::<_, super::SyncError>((req, s))
            })
            .await?;
        let (requested, s) = taken;
        if let Some(kind) = requested {
            return Ok(Step::Run(kind, true));
        }
        match settings.policy.next_automatic(&s.budget, now) {
            Next::RunNow(kind) => match s.backoff_until {
                Some(b) if b > now => Ok(Step::Wait(to_std(b - now))),
                _ => Ok(Step::Run(kind, false)),
            },
            Next::WaitUntil(t) => Ok(Step::Wait(to_std(t - now))),
        }
    }
}

enum Step {
    Run(RunKind, bool),
    Wait(StdDuration),
}

fn to_std(d: time::Duration) -> StdDuration {
    StdDuration::try_from(d).unwrap_or(StdDuration::ZERO).max(StdDuration::from_millis(10))
}

/// Resolves once `stop` turns true (without holding the watch guard across awaits).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}
