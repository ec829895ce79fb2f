//! Device actions at Apple Business (apple-2026.md §8.7): assign serials to one of our MDM
//! servers, unassign them, release them from the organisation, schedule / change / cancel a
//! migration to one of our servers with a deadline. Apple runs each as an asynchronous
//! `orgDeviceActivities` activity; adebox submits it once, polls its status with back-off
//! until it ends, then keeps its per-serial log as Apple sent it with each serial's outcome
//! read from it ([`logfile`]).
//!
//! Each action is told to [`Activities::subscribe`] listeners when Apple finishes it (the
//! daemon syncs the tokens it touched); ended actions are pruned after 90 days ([`prune`]).
//!
//! Owns the tables `business.activities` (request id → [`Record`]),
//! `business.activities_recent` (creation time + request id, for the list) and
//! `business.activities_polling` (the actions waiting for a poll). Exactly once: the
//! caller names each action with a request id, and the record is stored (state `sending`)
//! before the POST; a request id seen before returns what is stored and never posts again.
//! When Apple's answer to the POST is lost (the connection broke, adebox stopped) the record
//! ends `unknown` rather than being posted a second time: Apple has no way to ask whether it
//! took a request, and a second assign or release would show as a failure, or worse.
//!
//! Serials the organisation does not own are refused before the call (our inventory first,
//! then Apple for the others), so one typo does not make Apple refuse the whole activity; so
//! are, for a migration's change or cancellation, serials not assigned to one of our servers
//! ([`here`]).

mod here;
mod kinds;
pub mod logfile;
mod poll;
pub mod prune;
#[cfg(test)]
mod tests;

pub use kinds::{Action, State};
pub use poll::Polling;

use super::client::{BusinessClient, ClientError};
use super::client_activities::ActivityRequest;
use crate::clock::Clock;
use crate::ids::{Serial, TokenId};
use crate::store::{self, Store, StoreError, Table};
use logfile::Outcome;
use redb::ReadableTable;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

const ACTIVITIES: Table = store::table("business.activities");
const RECENT: Table = store::table("business.activities_recent");
/// Request ids of the actions waiting for a poll (→ nothing): the poller reads only these.
const POLLING: Table = store::table("business.activities_polling");
/// This module's tables, created when the store opens.
pub const TABLES: &[Table] = &[ACTIVITIES, RECENT, POLLING];

/// The most serials one action names (Apple does not say, §8.7; DEP's limit is 1,000).
pub const MAX_SERIALS: usize = 1000;
/// Migration deadlines adebox accepts, in days from now (Apple refuses over 90, §8.7).
pub const DEADLINE_DAYS: std::ops::RangeInclusive<i64> = 1..=90;

impl Action {
    pub fn apple(self) -> &'static str {
        match self {
            Action::Assign => "ASSIGN_DEVICES",
            Action::Unassign => "UNASSIGN_DEVICES",
            Action::Migrate => "ASSIGN_DEVICES_WITH_MDM_MIGRATION_DEADLINE",
            Action::ChangeDeadline => "UPDATE_MDM_MIGRATION_DEADLINE",
            Action::CancelMigration => "CANCEL_MDM_MIGRATION",
            Action::Release => "RELEASE_DEVICES",
        }
    }

    pub fn words(self) -> &'static str {
        match self {
            Action::Assign => "assign",
            Action::Unassign => "unassign",
            Action::Migrate => "schedule a migration",
            Action::ChangeDeadline => "change the migration deadline",
            Action::CancelMigration => "cancel the migration",
            Action::Release => "release from the organisation",
        }
    }

    pub fn needs_server(self) -> bool {
        matches!(self, Action::Assign | Action::Unassign | Action::Migrate)
    }

    pub fn needs_deadline(self) -> bool {
        matches!(self, Action::Migrate | Action::ChangeDeadline)
    }
}

/// What the admin types to confirm `action` on `serials`: the serial for one device, the
/// number of devices for more; a release (it cannot be undone) starts with `release`.
pub fn confirmation(action: Action, serials: &[Serial]) -> String {
    let what = match serials {
        [one] => one.as_str().to_string(),
        many => format!("{} devices", many.len()),
    };
    match action {
        Action::Release => format!("release {what}"),
        _ => what,
    }
}

/// Checks the typed confirmation; the error says what to type and what will happen.
pub fn confirm(action: Action, serials: &[Serial], typed: &str) -> Result<(), ActivityError> {
    let expected = confirmation(action, serials);
    let norm = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ").to_ascii_lowercase();
    if norm(typed) == norm(&expected) {
        return Ok(());
    }
    let effect = match action {
        Action::Release => {
            "the devices leave your organisation for good: they lose their MDM assignment and can come back only through Apple Configurator or their reseller"
        }
        Action::Unassign => "the devices are no longer assigned to that MDM server",
        _ => "Apple Business changes where the devices enroll",
    };
    Err(ActivityError::Invalid {
        field: "confirm",
        message: format!("type `{expected}` to confirm: {effect}"),
    })
}

/// One of our MDM servers, as Apple Business names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerTarget {
    /// Apple Business's `mdmServers` id.
    pub id: String,
    pub name: String,
    pub token: Option<TokenId>,
}

/// An action as asked.
#[derive(Clone, Debug)]
pub struct NewActivity {
    /// The caller's name for this action: the same id again returns the same activity.
    pub request_id: String,
    pub action: Action,
    pub serials: Vec<Serial>,
    pub server: Option<ServerTarget>,
    pub deadline: Option<OffsetDateTime>,
    pub actor: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ActivityError {
    #[error("{message}")]
    Invalid { field: &'static str, message: String },
    #[error(
        "{} of these serials are not devices of your organisation in Apple Business: {}; check them for typos and leave them out (nothing was sent to Apple)",
        .0.len(), .0.join(", ")
    )]
    NotOwned(Vec<String>),
    #[error(
        "the request id `{0}` was already used for a different action; use a new request id for a new action"
    )]
    RequestIdReused(String),
    #[error("no action with the request id `{0}`")]
    NotFound(String),
    #[error(
        "adebox cannot tell which Apple Business MDM server the server token \"{0}\" is: no MDM server of your organisation has its server uuid; check that the token is current (renew it if Apple replaced the server), or map the token to its MDM server on the Apple Business page"
    )]
    UnknownServer(String),
    #[error(
        "{} of these serials are not assigned to one of adebox's MDM servers in Apple Business: {}; adebox changes and cancels only migrations to its own servers, so check the serials for typos, and change a migration to another MDM server in Apple Business (nothing was sent to Apple)",
        .0.len(), .0.join(", ")
    )]
    NotAssignedHere(Vec<String>),
    #[error(transparent)]
    Tokens(#[from] crate::tokens::TokenError),
    #[error(transparent)]
    Account(#[from] super::BusinessError),
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error(transparent)]
    Store(#[from] StoreError),
}
store::redb_errors_into!(ActivityError);

/// One serial's outcome (the API shows it as `ActionSerialOutcome`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SerialOutcome {
    pub serial: Serial,
    pub outcome: Outcome,
    /// Apple's status word for it, as in the log.
    pub status: String,
    /// Apple's message, as in the log.
    pub message: String,
    /// What to do, for a refused serial.
    pub advice: Option<String>,
}

/// The stored action.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Record {
    pub request_id: String,
    pub action: Action,
    pub serials: Vec<Serial>,
    pub server: Option<ServerTarget>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub deadline: Option<OffsetDateTime>,
    pub actor: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub state: State,
    pub apple_id: Option<String>,
    pub apple_status: Option<String>,
    pub apple_sub_status: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
    /// Polls made so far (the back-off grows with them).
    pub polls: u32,
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_poll_at: Option<OffsetDateTime>,
    /// Where Apple's log waits to be downloaded (pre-signed: never shown).
    #[serde(default)]
    pub log_url: Option<String>,
    /// Apple's per-serial log, exactly as downloaded.
    pub log: Option<String>,
    pub results: Vec<SerialOutcome>,
    /// Why the action was refused or stands unknown, or why its log is missing.
    pub error: Option<String>,
}

impl Record {
    fn same_ask(&self, n: &NewActivity) -> bool {
        self.action == n.action
            && self.serials == n.serials
            && self.server.as_ref().map(|s| &s.id) == n.server.as_ref().map(|s| &s.id)
            && self.deadline == n.deadline
    }

    /// The serials Apple refused.
    pub fn refused(&self) -> impl Iterator<Item = &SerialOutcome> {
        self.results.iter().filter(|r| r.outcome == Outcome::Refused)
    }

    /// One line for the page and the audit log.
    pub fn summary(&self) -> String {
        let n = self.serials.len();
        let what = format!("{} {n} device{}", self.action.words(), if n == 1 { "" } else { "s" });
        match self.state {
            State::Sending => format!("{what}: being sent to Apple Business"),
            State::Rejected => format!("{what}: refused by Apple Business, nothing was changed"),
            State::Unknown => format!(
                "{what}: adebox did not get Apple Business's answer, so it may or may not have been applied; check the devices in Apple Business (or the Apple Business page) before asking again"
            ),
            State::InProgress => format!("{what}: Apple Business is working on it"),
            State::Finished => {
                let refused = self.refused().count();
                let done = self.results.iter().filter(|r| r.outcome == Outcome::Done).count();
                let unknown = n.saturating_sub(done + refused);
                let mut s = format!("{what}: {done} done");
                if refused > 0 {
                    s.push_str(&format!(", {refused} refused (see each device for what to do)"));
                }
                if unknown > 0 {
                    s.push_str(&format!(", {unknown} without a clear outcome in Apple's log"));
                }
                s
            }
        }
    }
}

fn recent_key(r: &Record) -> Vec<u8> {
    let mut k = (r.created_at.unix_timestamp_nanos() as u128).to_be_bytes().to_vec();
    k.extend_from_slice(r.request_id.as_bytes());
    k
}

fn put_in(tx: &redb::WriteTransaction, r: &Record) -> Result<(), ActivityError> {
    let mut t = tx.open_table(ACTIVITIES)?;
    store::put(&mut t, r.request_id.as_bytes(), r)?;
    let mut polling = tx.open_table(POLLING)?;
    if r.next_poll_at.is_some() {
        polling.insert(r.request_id.as_bytes(), &[][..])?;
    } else {
        polling.remove(r.request_id.as_bytes())?;
    }
    Ok(())
}

/// The service.
#[derive(Clone)]
pub struct Activities {
    store: Store,
    clock: Clock,
    devices: crate::devices::Devices,
    /// Which MDM servers are ours, for a serial our inventory does not list (`here`).
    tokens: Option<crate::tokens::Tokens>,
    polling: Polling,
    /// Each action as Apple finishes it (for the sync that follows it, wired by the daemon).
    finished: tokio::sync::broadcast::Sender<Record>,
}

impl Activities {
    pub fn new(
        store: Store,
        clock: Clock,
        devices: crate::devices::Devices,
        polling: Polling,
    ) -> Activities {
        let (finished, _) = tokio::sync::broadcast::channel(64);
        Activities { store, clock, devices, tokens: None, polling, finished }
    }

    /// Knows our MDM servers through `tokens`: a migration change for a serial the inventory
    /// does not list yet is checked against Apple Business's assignment.
    pub fn knowing_tokens(mut self, tokens: crate::tokens::Tokens) -> Activities {
        self.tokens = Some(tokens);
        self
    }

    /// Each action as Apple finishes it. A listener that falls behind loses the oldest
    /// (told by the channel): they only hasten a sync the schedule runs anyway.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Record> {
        self.finished.subscribe()
    }

    fn check(&self, n: &NewActivity) -> Result<(), ActivityError> {
        let invalid = |field, message: &str| {
            Err(ActivityError::Invalid { field, message: message.to_string() })
        };
        let id = n.request_id.trim();
        if id.is_empty() || id.len() > 100 || id.chars().any(|c| c.is_control()) {
            return invalid(
                "request_id",
                "the request id must be 1 to 100 characters: a new one (a UUID) for each action",
            );
        }
        if n.serials.is_empty() || n.serials.len() > MAX_SERIALS {
            return invalid("serials", &format!("name 1 to {MAX_SERIALS} serial numbers"));
        }
        if n.action.needs_server() && n.server.is_none() {
            return invalid("token", "name the server token whose MDM server the devices go to");
        }
        match (n.action.needs_deadline(), n.deadline) {
            (true, None) => {
                return invalid("deadline", "give the migration deadline (1 to 90 days from now)");
            }
            (true, Some(d)) => {
                let now = self.clock.now();
                let (lo, hi) = (*DEADLINE_DAYS.start(), *DEADLINE_DAYS.end());
                if d < now + Duration::days(lo) || d > now + Duration::days(hi) {
                    return invalid(
                        "deadline",
                        &format!(
                            "the migration deadline must be {lo} to {hi} days from now (Apple allows no more than {hi}); pick a date in that range"
                        ),
                    );
                }
            }
            (false, _) => {}
        }
        Ok(())
    }

    /// The serials neither our inventory nor Apple Business knows as the organisation's.
    async fn not_owned(
        &self,
        client: &BusinessClient,
        serials: &[Serial],
    ) -> Result<Vec<String>, ActivityError> {
        let known = self.devices.facts(serials.to_vec()).await?;
        let mut out = Vec::new();
        for s in serials {
            // A device Apple lists for one of our tokens is the organisation's.
            if known.iter().any(|f| &f.serial == s && !f.removed) {
                continue;
            }
            if !client.owns(s.as_str()).await? {
                out.push(s.as_str().to_string());
            }
        }
        Ok(out)
    }

    /// Submits an action once: a request id seen before returns its record unchanged.
    pub async fn submit(
        &self,
        client: &BusinessClient,
        mut n: NewActivity,
    ) -> Result<Record, ActivityError> {
        n.request_id = n.request_id.trim().to_string();
        n.serials.sort();
        n.serials.dedup();
        self.check(&n)?;
        if let Some(r) = self.get(&n.request_id).await? {
            return if r.same_ask(&n) {
                Ok(r)
            } else {
                Err(ActivityError::RequestIdReused(r.request_id))
            };
        }
        let missing = self.not_owned(client, &n.serials).await?;
        if !missing.is_empty() {
            return Err(ActivityError::NotOwned(missing));
        }
        if n.action.changes_a_migration() {
            let elsewhere = self.not_assigned_here(client, &n.serials).await?;
            if !elsewhere.is_empty() {
                return Err(ActivityError::NotAssignedHere(elsewhere));
            }
        }
        let record = Record {
            request_id: n.request_id.clone(),
            action: n.action,
            serials: n.serials.clone(),
            server: n.server.clone(),
            deadline: n.deadline,
            actor: n.actor.clone(),
            created_at: self.clock.now(),
            state: State::Sending,
            apple_id: None,
            apple_status: None,
            apple_sub_status: None,
            finished_at: None,
            polls: 0,
            next_poll_at: None,
            log_url: None,
            log: None,
            results: Vec::new(),
            error: None,
        };
        // Stored before the POST, in the transaction that decides whether this request id is
        // new: of two identical requests racing, one posts and the other gets its record.
        let (first, ask) = (record.clone(), n.clone());
        let claimed = self
            .store
            .write(move |tx| {
                let mut t = tx.open_table(ACTIVITIES)?;
                if let Some(r) = store::get::<Record, _>(&t, first.request_id.as_bytes())? {
                    return Ok::<_, ActivityError>(Err(r));
                }
                store::put(&mut t, first.request_id.as_bytes(), &first)?;
                tx.open_table(RECENT)?
                    .insert(recent_key(&first).as_slice(), first.request_id.as_bytes())?;
                Ok(Ok(()))
            })
            .await?;
        if let Err(existing) = claimed {
            return if existing.same_ask(&ask) {
                Ok(existing)
            } else {
                Err(ActivityError::RequestIdReused(existing.request_id))
            };
        }
        let deadline = record
            .deadline
            .map(|d| d.format(&time::format_description::well_known::Rfc3339).unwrap_or_default());
        let ask = ActivityRequest {
            activity_type: record.action.apple(),
            serials: &record.serials,
            server_id: record.server.as_ref().map(|s| s.id.as_str()),
            deadline: deadline.as_deref(),
        };
        let answer = client.create_activity(&ask).await;
        let now = self.clock.now();
        let mut r = record;
        match answer {
            Ok((id, a)) => {
                r.state = State::InProgress;
                r.apple_id = Some(id);
                r.apple_status = a.status;
                r.apple_sub_status = a.sub_status;
                r.next_poll_at = Some(now + self.polling.delay(0));
            }
            // Apple answered: it did not take the request.
            Err(
                e @ (ClientError::Api { .. }
                | ClientError::Refused { .. }
                | ClientError::RateLimited(_)),
            ) => {
                r.state = State::Rejected;
                r.error = Some(e.to_string());
            }
            Err(e) => {
                r.state = State::Unknown;
                r.error = Some(e.to_string());
            }
        }
        let saved = r.clone();
        self.store.write(move |tx| put_in(tx, &saved)).await?;
        Ok(r)
    }

    pub async fn get(&self, request_id: &str) -> Result<Option<Record>, ActivityError> {
        let id = request_id.trim().to_string();
        self.store
            .read(move |tx| {
                let t = tx.open_table(ACTIVITIES)?;
                Ok::<_, ActivityError>(store::get(&t, id.as_bytes())?)
            })
            .await
    }

    /// The newest `limit` actions, newest first.
    pub async fn recent(&self, limit: usize) -> Result<Vec<Record>, ActivityError> {
        self.store
            .read(move |tx| {
                let recent = tx.open_table(RECENT)?;
                let all = tx.open_table(ACTIVITIES)?;
                let mut out = Vec::new();
                for item in recent.iter()?.rev().take(limit) {
                    let (_, id) = item?;
                    if let Some(r) = store::get::<Record, _>(&all, id.value())? {
                        out.push(r);
                    }
                }
                Ok::<_, ActivityError>(out)
            })
            .await
    }

    /// At start: an action still `sending` lost its answer when adebox stopped.
    pub async fn recover(&self) -> Result<usize, ActivityError> {
        self.store
            .write(|tx| {
                let mut t = tx.open_table(ACTIVITIES)?;
                let mut stuck = Vec::new();
                for item in t.iter()? {
                    let (_, v) = item?;
                    let r: Record = store::decode("business.activities", v.value())?;
                    if r.state == State::Sending {
                        stuck.push(r);
                    }
                }
                for mut r in stuck.clone() {
                    r.state = State::Unknown;
                    r.error = Some(
                        "adebox stopped while sending this action to Apple Business".to_string(),
                    );
                    store::put(&mut t, r.request_id.as_bytes(), &r)?;
                }
                Ok::<_, ActivityError>(stuck.len())
            })
            .await
    }
}
