//! The sync that follows an action at Apple Business: when Apple finishes an assign,
//! unassign, migration (scheduled, changed or cancelled) or release, the tokens it touched
//! (the server the devices went to, and the tokens our inventory has them under) are synced
//! at once, so the devices list shows the change without waiting for the schedule.
//!
//! Such a sync is not the admin's "Sync now": it does not count against the manual budget
//! (one per 15 minutes) and is not audited as a request (the action itself is). Requests
//! coalesce: a token with a sync already asked for gets one run.

use super::{RunKind, Sync, state};
use crate::business::activities::{Activities, Record};
use crate::ids::TokenId;
use std::collections::BTreeSet;
use tokio::sync::broadcast::error::RecvError;

impl Sync {
    /// Asks `token`'s worker for a sync now (a delta when it can, a full sync when the token
    /// has no cursor yet), outside the manual budget.
    pub async fn request_after_change(&self, token: &TokenId) -> Result<RunKind, super::SyncError> {
        self.inner.tokens.get(token).await?;
        let token_s = token.clone();
        let run = self
            .inner
            .store
            .write(move |wtx| {
                let mut s = state::load_w(wtx, &token_s)?;
                let wanted = if s.budget.needs_full || !s.budget.has_cursor {
                    RunKind::Full
                } else {
                    RunKind::Delta
                };
                // Whatever is already asked for covers a delta.
                let run = s.requested.unwrap_or(wanted);
                s.requested = Some(run);
                state::save_in(wtx, &token_s, &s)?;
                Ok::<_, super::SyncError>(run)
            })
            .await?;
        self.wakeup(token).notify_one();
        Ok(run)
    }

    /// The tokens an action touched: the server it sent devices to, and each token our
    /// inventory lists one of its serials under.
    async fn touched(&self, r: &Record) -> Vec<TokenId> {
        let mut out = BTreeSet::new();
        if let Some(t) = r.server.as_ref().and_then(|s| s.token.clone()) {
            out.insert(t);
        }
        match self.inner.devices.facts(r.serials.clone()).await {
            Ok(facts) => out.extend(facts.into_iter().map(|f| f.token)),
            Err(e) => {
                ::log::warn!("reading the devices of a finished Apple Business action failed: {e}")
            }
        }
        out.into_iter().collect()
    }

    /// Runs until the daemon stops it: syncs the tokens of each action Apple finishes.
    pub async fn follow_business(self, activities: Activities) {
        let mut finished = activities.subscribe();
        loop {
            let r = match finished.recv().await {
                Ok(r) => r,
                Err(RecvError::Lagged(n)) => {
                    ::log::warn!(missed = n; "finished Apple Business actions were missed; the scheduled sync shows their effect");
                    continue;
                }
                Err(RecvError::Closed) => return,
            };
            for token in self.touched(&r).await {
                match self.request_after_change(&token).await {
                    Ok(kind) => ::log::info!(
                        token = token.as_str(), request = r.request_id.as_str();
                        "syncing after an Apple Business action finished ({kind:?})"
                    ),
                    Err(e) => ::log::warn!(
                        token = token.as_str();
                        "could not ask for a sync after an Apple Business action: {e}"
                    ),
                }
            }
        }
    }
}
