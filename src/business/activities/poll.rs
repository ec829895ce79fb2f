//! Following an action at Apple until it ends: each action in progress is asked for its
//! status when its poll is due, the wait doubling from [`Polling::first`] up to
//! [`Polling::max`] (Apple answers within seconds to minutes; a community script waits 30 s
//! before its first poll, apple-2026.md §8.7). When Apple says it ended, its per-serial log is
//! downloaded and read; a log that cannot be fetched yet is tried again on the same back-off.
//! Partial failures end `COMPLETED` with `COMPLETED_WITH_ERROR` (§8.7, seen live), so each
//! serial's outcome comes from the log, never from the status alone.

use super::logfile::{self, Outcome};
use super::{ACTIVITIES, Activities, ActivityError, POLLING, Record, SerialOutcome, State, put_in};
use crate::business::client::BusinessClient;
use crate::store;
use redb::ReadableTable;
use time::{Duration, OffsetDateTime};

/// How often an action in progress is asked about.
#[derive(Clone, Copy, Debug)]
pub struct Polling {
    pub first: Duration,
    pub max: Duration,
    /// After this many polls an action Apple never finishes is left `in_progress` and polled
    /// at `max` only.
    pub fast_polls: u32,
}

impl Default for Polling {
    fn default() -> Self {
        Polling { first: Duration::seconds(10), max: Duration::minutes(10), fast_polls: 12 }
    }
}

impl Polling {
    /// The wait before poll number `polls` (0 is the first).
    pub fn delay(&self, polls: u32) -> Duration {
        if polls >= self.fast_polls {
            return self.max;
        }
        let factor = 1i64 << polls.min(20);
        (self.first * factor as i32).min(self.max)
    }
}

/// Whether Apple's status says the activity ended.
fn ended(status: Option<&str>) -> bool {
    matches!(status, Some("COMPLETED" | "FAILED" | "STOPPED"))
}

/// Each serial's outcome, from the log, in the order the action named them.
pub fn outcomes(r: &Record, text: &str) -> Vec<SerialOutcome> {
    let rows = logfile::rows(text);
    r.serials
        .iter()
        .map(|s| match rows.iter().find(|row| *s == row.serial) {
            Some(row) => {
                let outcome = logfile::outcome(&row.status);
                SerialOutcome {
                    serial: s.clone(),
                    advice: (outcome == Outcome::Refused)
                        .then(|| logfile::advice(r.action, &row.message)),
                    outcome,
                    status: row.status.clone(),
                    message: row.message.clone(),
                }
            }
            None => SerialOutcome {
                serial: s.clone(),
                outcome: Outcome::Unknown,
                status: String::new(),
                message: "not in Apple's log".into(),
                advice: Some(
                    "Check the device in Apple Business: Apple's log does not say what happened to it."
                        .into(),
                ),
            },
        })
        .collect()
}

impl Activities {
    /// The earliest moment an action is due to be polled.
    pub async fn next_due(&self) -> Result<Option<OffsetDateTime>, ActivityError> {
        Ok(self.due(None).await?.into_iter().filter_map(|r| r.next_poll_at).min())
    }

    /// Actions whose poll is due at `now` (all that wait for one when `now` is None).
    async fn due(&self, now: Option<OffsetDateTime>) -> Result<Vec<Record>, ActivityError> {
        self.store
            .read(move |tx| {
                let t = tx.open_table(ACTIVITIES)?;
                let mut out = Vec::new();
                for item in tx.open_table(POLLING)?.iter()? {
                    let (id, _) = item?;
                    let Some(r) = store::get::<Record, _>(&t, id.value())? else { continue };
                    if r.next_poll_at.is_some_and(|at| now.is_none_or(|now| at <= now)) {
                        out.push(r);
                    }
                }
                Ok::<_, ActivityError>(out)
            })
            .await
    }

    /// Polls every action that is due; the number polled.
    pub async fn poll_due(&self, client: &BusinessClient) -> Result<usize, ActivityError> {
        let due = self.due(Some(self.clock.now())).await?;
        let n = due.len();
        for r in due {
            let request_id = r.request_id.clone();
            if let Err(e) = self.poll_one(client, r).await {
                ::log::warn!(request = request_id.as_str(); "polling an Apple Business action failed: {e}");
            }
        }
        Ok(n)
    }

    async fn poll_one(&self, client: &BusinessClient, mut r: Record) -> Result<(), ActivityError> {
        let Some(apple_id) = r.apple_id.clone() else { return Ok(()) };
        let was_running = r.state == State::InProgress;
        r.polls += 1;
        let result = self.step(client, &apple_id, &mut r).await;
        let now = self.clock.now();
        match &result {
            Ok(true) => r.next_poll_at = None,
            Ok(false) => r.next_poll_at = Some(now + self.polling.delay(r.polls)),
            Err(e) => {
                r.error = Some(format!("adebox could not ask Apple Business about it yet: {e}"));
                r.next_poll_at = Some(now + self.polling.delay(r.polls));
            }
        }
        let ended = (was_running && r.state == State::Finished).then(|| r.clone());
        self.store.write(move |tx| put_in(tx, &r)).await?;
        if let Some(r) = ended {
            // Nobody listening (no daemon) is fine: the next scheduled sync shows the change.
            let _ = self.finished.send(r);
        }
        result.map(|_| ())
    }

    /// One poll: true when nothing is left to ask.
    async fn step(
        &self,
        client: &BusinessClient,
        apple_id: &str,
        r: &mut Record,
    ) -> Result<bool, ActivityError> {
        if r.state == State::InProgress {
            let a = client.activity(apple_id).await?;
            r.apple_status = a.status.clone();
            r.apple_sub_status = a.sub_status.clone();
            if !ended(a.status.as_deref()) {
                return Ok(false);
            }
            r.state = State::Finished;
            r.finished_at = Some(self.clock.now());
            r.error = None;
            r.log_url = a.download_url;
        }
        let Some(url) = r.log_url.clone() else {
            // No log to read: every serial's outcome stays unknown.
            r.results = outcomes(r, "");
            return Ok(true);
        };
        match client.activity_log(&url).await {
            Ok(text) => {
                r.results = outcomes(r, &text);
                r.log = Some(text);
                r.log_url = None;
                r.error = None;
                Ok(true)
            }
            Err(e) => Err(e.into()),
        }
    }
}

impl Activities {
    /// The poller: asks Apple about each action in progress when its poll is due, and prunes
    /// old actions hourly ([`super::prune`]). Runs until the daemon stops it; without an account nothing is due, so it only looks every
    /// few seconds.
    pub async fn run(self, connection: crate::business::connect::Connection) {
        let idle = std::time::Duration::from_secs(2);
        let mut upkept: Option<std::time::Instant> = None;
        match self.recover().await {
            Ok(0) => {}
            Ok(n) => {
                ::log::warn!(actions = n; "Apple Business actions whose answer was lost when adebox stopped are marked unknown")
            }
            Err(e) => ::log::error!("checking Apple Business actions at start failed: {e}"),
        }
        loop {
            if upkept.is_none_or(|at| at.elapsed() >= std::time::Duration::from_secs(3600)) {
                self.upkeep().await;
                upkept = Some(std::time::Instant::now());
            }
            let due = match self.next_due().await {
                Ok(d) => d,
                Err(e) => {
                    ::log::error!("reading the Apple Business actions in progress failed: {e}");
                    None
                }
            };
            let now = self.clock.now();
            match due {
                Some(at) if at <= now => match connection.client().await {
                    Ok(c) => {
                        if let Err(e) = self.poll_due(&c).await {
                            ::log::error!("polling Apple Business actions failed: {e}");
                        }
                    }
                    Err(e) => {
                        ::log::warn!("Apple Business actions wait: {e}");
                        tokio::time::sleep(idle * 15).await;
                    }
                },
                Some(at) => {
                    let wait = (at - now).try_into().unwrap_or(idle).min(idle);
                    tokio::time::sleep(wait).await;
                }
                None => tokio::time::sleep(idle).await,
            }
        }
    }
}
