//! Throttled device sync: one worker task per token fetches Apple's device list and keeps
//! it current within Apple's traffic budget.
//!
//! Owns the tables `sync.state`, `sync.history` and `sync.settings`. [`budget`] is the pure
//! policy (state, now) → what may run; [`run`](self) executes one run page by page;
//! the worker loop decides when. At most one run per token at a time and one request in
//! flight per token (the worker is sequential). Calls `tokens` (credentials, problems),
//! `devices` (pages) and `depclient` (Apple); [`follow`] syncs the tokens an Apple Business
//! action touched when Apple finishes it.

pub mod budget;
mod follow;
mod progress;
mod run;
pub mod state;
mod status;
mod worker;

pub use budget::{BudgetPolicy, ManualKind, RunKind};
pub use progress::Progress;
pub use state::RunOutcome;
pub use state::TABLES;
pub use status::{Run, RunStats, SyncSettings, SyncStatus};

use crate::audit::{self, Action, Actor, NewEntry, Outcome};
use crate::clock::Clock;
use crate::depclient::RetryPolicy;
use crate::devices::Devices;
use crate::ids::{Serial, TokenId};
use crate::store::{Store, StoreError};
use crate::tokens::{TokenError, Tokens};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use time::OffsetDateTime;
use tokio::sync::Notify;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("token {0} not found")]
    UnknownToken(String),
    #[error(
        "a manual sync of this token was requested less than {minutes} minutes ago; the next one is allowed at {next_allowed_at}"
    )]
    TooSoon { next_allowed_at: OffsetDateTime, minutes: i64 },
    #[error("{message}")]
    Validation { field: &'static str, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

crate::store::redb_errors_into!(SyncError);

impl From<TokenError> for SyncError {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::NotFound(what) => SyncError::UnknownToken(what),
            TokenError::Store(s) => SyncError::Store(s),
            other => SyncError::Store(StoreError::Redb(other.to_string())),
        }
    }
}

/// The sync service handle (cheap to clone).
#[derive(Clone)]
pub struct Sync {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    clock: Clock,
    tokens: Tokens,
    devices: Devices,
    http: reqwest::Client,
    retry: RetryPolicy,
    progress: progress::ProgressBoard,
    wakeups: Mutex<HashMap<TokenId, Arc<Notify>>>,
    gates: crate::depclient::Gates,
    hook: DevicesHook,
}

/// Told, after each committed page, which devices of a token the page added or changed
/// (design rule 2: the daemon wires it to profiles for default assignment). Must not block.
pub type DevicesHook = Arc<dyn Fn(&TokenId, Vec<Serial>) + Send + std::marker::Sync>;

/// What sync is built with besides the store and the clock.
pub struct SyncParts {
    pub tokens: Tokens,
    pub devices: Devices,
    pub http: reqwest::Client,
    pub retry: RetryPolicy,
    /// The per-token request gates, shared with whoever else calls Apple for a token.
    pub gates: crate::depclient::Gates,
    pub devices_hook: DevicesHook,
}

impl Sync {
    pub fn new(store: Store, clock: Clock, parts: SyncParts) -> Sync {
        let SyncParts { tokens, devices, http, retry, gates, devices_hook } = parts;
        Sync {
            inner: Arc::new(Inner {
                store,
                clock,
                tokens,
                devices,
                http,
                retry,
                progress: progress::ProgressBoard::default(),
                wakeups: Mutex::new(HashMap::new()),
                gates,
                hook: devices_hook,
            }),
        }
    }

    fn now(&self) -> OffsetDateTime {
        self.inner.clock.now()
    }

    /// Tells the devices hook which devices a committed page added or changed.
    fn changed(&self, token: &TokenId, serials: Vec<Serial>) {
        if serials.is_empty() {
            return;
        }
        (self.inner.hook)(token, serials);
    }

    async fn load(&self, token: &TokenId) -> Result<state::SyncState, StoreError> {
        let token = token.clone();
        self.inner.store.read(move |rtx| state::load_in(rtx, &token)).await
    }

    fn wakeup(&self, token: &TokenId) -> Arc<Notify> {
        self.inner
            .wakeups
            .lock()
            .expect("wakeups mutex is never held across a panic")
            .entry(token.clone())
            .or_insert_with(|| Arc::new(Notify::new()))
            .clone()
    }

    /// "Sync now" / "Full resync": allowed when no manual sync of this token was requested in
    /// the last 15 minutes (a token's first sync does not count); queued for its worker.
    pub async fn request(
        &self,
        actor: Actor,
        token: &TokenId,
        kind: ManualKind,
    ) -> Result<RunKind, SyncError> {
        let view = self.inner.tokens.get(token).await?;
        let settings = self.settings().await?;
        let now = self.now();
        let token_s = token.clone();
        let server = view.server_name.clone();
        let run = self
            .inner
            .store
            .write(move |wtx| {
                let mut s = state::load_w(wtx, &token_s)?;
                let run = match settings.policy.manual(&s.budget, kind, now) {
                    Ok(run) => run,
                    Err(too_soon) => {
                        return Err(SyncError::TooSoon {
                            next_allowed_at: too_soon.next_allowed_at,
                            minutes: settings.policy.manual_every.whole_minutes(),
                        });
                    }
                };
                if s.budget.last_run.is_some() {
                    s.budget.manual_requested(now);
                }
                // A full request outranks a pending sync request.
                s.requested = Some(match (s.requested, run) {
                    (Some(RunKind::Full), _) => RunKind::Full,
                    (_, r) => r,
                });
                state::save_in(wtx, &token_s, &s)?;
                audit::record_in(
                    wtx,
                    NewEntry::new(now, actor, Action::SyncRequest, Outcome::Success)
                        .target(format!("{server} ({token_s})"))
                        .detail(format!("{run:?}")),
                )?;
                Ok(run)
            })
            .await?;
        self.wakeup(token).notify_one();
        Ok(run)
    }

    /// Runs one sync of `token` now, outside the schedule and the budget (tests, benchmarks).
    pub async fn run_now(&self, token: &TokenId, kind: RunKind) -> Result<Run, SyncError> {
        let client = self.client(token).await?;
        Ok(Run::from(&self.run(token, &client, kind, false).await))
    }

    async fn client(&self, token: &TokenId) -> Result<crate::depclient::DepClient, SyncError> {
        let (base_url, creds) = self.inner.tokens.credentials(token).await?;
        Ok(crate::depclient::DepClient::new(
            base_url,
            creds,
            self.inner.http.clone(),
            self.inner.clock.clone(),
        )
        .with_label(token.as_str())
        .with_gate(self.inner.gates.gate(token)))
    }

    /// Forgets a deleted token's sync state.
    pub async fn forget(&self, token: &TokenId) -> Result<(), SyncError> {
        self.inner.gates.forget(token);
        let token = token.clone();
        self.inner
            .store
            .write(move |wtx| state::forget_in(wtx, &token).map_err(SyncError::from))
            .await
    }

    pub async fn settings(&self) -> Result<SyncSettings, StoreError> {
        self.inner.store.read(status::settings_in).await
    }

    pub async fn set_settings(
        &self,
        actor: Actor,
        settings: SyncSettings,
    ) -> Result<SyncSettings, SyncError> {
        settings.validate()?;
        let now = self.now();
        let saved = settings.clone();
        self.inner
            .store
            .write(move |wtx| {
                crate::store::put(&mut wtx.open_table(state::SETTINGS)?, b"settings", &saved)?;
                audit::record_in(
                    wtx,
                    NewEntry::new(now, actor, Action::SyncSettingsChange, Outcome::Success)
                        .detail(saved.describe()),
                )?;
                Ok::<_, SyncError>(())
            })
            .await?;
        for n in
            self.inner.wakeups.lock().expect("wakeups mutex is never held across a panic").values()
        {
            n.notify_one();
        }
        Ok(settings)
    }
}

#[cfg(test)]
mod tests;
