//! Keeping the action records bounded: an action that ended (finished with its log read,
//! refused by Apple, or left with its outcome unknown) is deleted [`RETENTION`] after it
//! ended, by the poller's hourly upkeep. An action still being sent or followed is never
//! deleted, however old: its outcome is not known yet. The audit log keeps every action's
//! summary for its own two years.

use super::{ACTIVITIES, Activities, ActivityError, POLLING, RECENT, Record, State};
use crate::store;
use redb::ReadableTable;
use time::{Duration, OffsetDateTime};

/// How long an ended action is kept (its page and API record; the audit keeps its line).
pub const RETENTION: Duration = Duration::days(90);
/// The most records one pass deletes (one transaction stays small; the rest waits an hour).
pub const MAX_PER_PASS: usize = 2000;

/// Whether `r` ended before `cutoff` and nothing is left to ask Apple about it.
fn prunable(r: &Record, cutoff: OffsetDateTime) -> bool {
    let ended = match r.state {
        State::Sending | State::InProgress => false,
        State::Finished => r.next_poll_at.is_none(),
        State::Rejected | State::Unknown => true,
    };
    ended && r.finished_at.unwrap_or(r.created_at) < cutoff
}

impl Activities {
    /// Deletes the actions that ended more than `retention` before now (at most
    /// [`MAX_PER_PASS`]); the number deleted.
    pub async fn prune(&self, retention: Duration) -> Result<usize, ActivityError> {
        let cutoff = self.clock.now() - retention;
        self.store
            .write(move |tx| {
                let mut recent = tx.open_table(RECENT)?;
                let mut all = tx.open_table(ACTIVITIES)?;
                let mut polling = tx.open_table(POLLING)?;
                let mut doomed = Vec::new();
                // Oldest first; an action created after the cutoff cannot have ended before it.
                for item in recent.iter()? {
                    let (key, id) = item?;
                    if doomed.len() >= MAX_PER_PASS {
                        break;
                    }
                    let Some(r) = store::get::<Record, _>(&all, id.value())? else {
                        doomed.push((key.value().to_vec(), id.value().to_vec()));
                        continue;
                    };
                    if r.created_at >= cutoff {
                        break;
                    }
                    if prunable(&r, cutoff) {
                        doomed.push((key.value().to_vec(), id.value().to_vec()));
                    }
                }
                for (key, id) in &doomed {
                    recent.remove(key.as_slice())?;
                    all.remove(id.as_slice())?;
                    polling.remove(id.as_slice())?;
                }
                Ok::<_, ActivityError>(doomed.len())
            })
            .await
    }

    /// The hourly upkeep of the poller: prunes, and says so.
    pub(super) async fn upkeep(&self) {
        match self.prune(RETENTION).await {
            Ok(0) => {}
            Ok(n) => ::log::info!(
                actions = n;
                "deleted Apple Business actions that ended more than 90 days ago"
            ),
            Err(e) => ::log::error!("pruning old Apple Business actions failed: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Action, Polling, TABLES, put_in, recent_key};
    use super::*;
    use crate::clock::Clock;
    use crate::store::Store;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-03-01 12:00 UTC);

    fn record(id: &str, state: State, created: OffsetDateTime, ended: Option<Duration>) -> Record {
        Record {
            request_id: id.into(),
            action: Action::Unassign,
            serials: vec![crate::ids::Serial::parse("C02XK1ABCD12").unwrap()],
            server: None,
            deadline: None,
            actor: "admin".into(),
            created_at: created,
            state,
            apple_id: Some("a".into()),
            apple_status: None,
            apple_sub_status: None,
            finished_at: ended.map(|d| created + d),
            polls: 0,
            next_poll_at: matches!(state, State::InProgress).then_some(created),
            log_url: None,
            log: None,
            results: Vec::new(),
            error: None,
        }
    }

    async fn left(acts: &Activities) -> Vec<String> {
        let mut ids: Vec<String> =
            acts.recent(100).await.unwrap().into_iter().map(|r| r.request_id).collect();
        ids.sort();
        ids
    }

    #[tokio::test]
    async fn ended_actions_go_after_the_retention_those_in_progress_never() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), &[crate::devices::TABLES, TABLES]).unwrap();
        let clock = Clock::manual(T0);
        let devices = crate::devices::Devices::new(store.clone());
        let acts = Activities::new(store.clone(), clock.clone(), devices, Polling::default());
        let old = T0 - Duration::days(200);
        let recent = T0 - Duration::days(10);
        let rows = vec![
            record("finished-old", State::Finished, old, Some(Duration::minutes(5))),
            // Created long ago but ended recently: kept for its own 90 days.
            record("finished-late", State::Finished, old, Some(Duration::days(150))),
            record("rejected-old", State::Rejected, old, None),
            record("unknown-old", State::Unknown, old, None),
            record("in-progress-old", State::InProgress, old, None),
            record("sending-old", State::Sending, old, None),
            record("finished-new", State::Finished, recent, Some(Duration::minutes(1))),
        ];
        store
            .write(move |tx| {
                for r in &rows {
                    put_in(tx, r)?;
                    let key = recent_key(r);
                    tx.open_table(RECENT)?.insert(key.as_slice(), r.request_id.as_bytes())?;
                }
                Ok::<_, ActivityError>(())
            })
            .await
            .unwrap();

        assert_eq!(acts.prune(RETENTION).await.unwrap(), 3);
        assert_eq!(
            left(&acts).await,
            ["finished-late", "finished-new", "in-progress-old", "sending-old"]
        );
        for gone in ["finished-old", "rejected-old", "unknown-old"] {
            assert!(acts.get(gone).await.unwrap().is_none(), "{gone}");
        }
        assert!(acts.next_due().await.unwrap().is_some(), "the action in progress is still polled");
        assert_eq!(acts.prune(RETENTION).await.unwrap(), 0, "nothing more is due");

        // 91 days on, the late one and the new one go too; the unfinished ones stay.
        clock.advance(Duration::days(91));
        assert_eq!(acts.prune(RETENTION).await.unwrap(), 2);
        assert_eq!(left(&acts).await, ["in-progress-old", "sending-old"]);
    }
}
