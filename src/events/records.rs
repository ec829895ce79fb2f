//! The tables of `events` and their stored records.
//!
//! - `events.subscriptions`: subscription id → [`SubscriptionRecord`] (the secret sealed).
//! - `events.outbox`: subscription id ‖ 0 ‖ sequence (u64 big-endian) → [`OutboxEntry`]: the
//!   events still to deliver, oldest first. An entry leaves only in the transaction that
//!   records its delivery (or gives up on it), so a kill at any moment keeps it.
//! - `events.log`: subscription id ‖ 0 ‖ sequence → [`LogEntry`]: the newest attempts, at most
//!   [`LOG_LIMIT`] per subscription, for the page's delivery log and "redeliver".

use super::topic::Topic;
use crate::ids::SubscriptionId;
use crate::store::{Sealed, SecretField, Table, table};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

pub(super) const SUBSCRIPTIONS: Table = table("events.subscriptions");
pub(super) const OUTBOX: Table = table("events.outbox");
pub(super) const LOG: Table = table("events.log");

pub const TABLES: &[Table] = &[SUBSCRIPTIONS, OUTBOX, LOG];

/// Where a subscription's signing secret is sealed.
pub(super) const SECRET: SecretField = SecretField::new("events.subscriptions", "secret");

/// The delivery log keeps this many attempts per subscription.
pub const LOG_LIMIT: u64 = 200;

/// A webhook subscription as stored.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SubscriptionRecord {
    pub id: SubscriptionId,
    pub name: String,
    pub url: String,
    /// The HMAC-SHA256 key of the signature header; never shown again after creation.
    pub secret: Sealed,
    pub topics: Vec<Topic>,
    /// Plain `http://` accepted for this URL (the admin ticked "allow http on this network").
    #[serde(default)]
    pub allow_http: bool,
    /// At most this many events wait; publishing one more drops the oldest (counted).
    pub max_outbox: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Events waiting in the outbox.
    #[serde(default)]
    pub queued: u64,
    /// Events dropped because the outbox was full, or given up on after the retry window.
    #[serde(default)]
    pub dropped: u64,
    /// Next outbox sequence number.
    #[serde(default)]
    pub next_seq: u64,
    /// Next delivery log sequence number.
    #[serde(default)]
    pub next_log: u64,
    /// Since when every delivery attempt failed (None: the last one succeeded).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub failing_since: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub last_success_at: Option<OffsetDateTime>,
    /// Paused after a day of failures: events still queue, none is sent until resumed.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub paused_at: Option<OffsetDateTime>,
}

impl SubscriptionRecord {
    pub fn wants(&self, topic: Topic) -> bool {
        self.topics.contains(&topic)
    }
}

/// One event waiting for delivery to one subscription.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub event_id: String,
    pub topic: Topic,
    /// The exact JSON body sent (and signed).
    pub body: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Attempts started so far. Counted before the request is sent, so a delivery repeated
    /// after a crash carries a higher attempt number: the receiver sees why it came again.
    #[serde(default)]
    pub attempts: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub next_attempt_at: OffsetDateTime,
}

/// How one delivery attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Delivered,
    /// Failed; retried at `next_retry_at`.
    Retrying,
    /// Failed for the last time: the retry window is over.
    GaveUp,
    /// Dropped unsent because the outbox was full.
    Dropped,
}

/// One line of a subscription's delivery log.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LogEntry {
    pub event_id: String,
    pub topic: Topic,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub attempt: u32,
    pub outcome: Outcome,
    /// The HTTP status the receiver answered, if it answered.
    pub status: Option<u16>,
    pub latency_ms: Option<u64>,
    /// What went wrong, in words (never the secret or the body).
    pub error: Option<String>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub next_retry_at: Option<OffsetDateTime>,
    /// The body, kept so "redeliver" can send the same event again.
    pub body: String,
}

/// The key of row `seq` of a subscription in the outbox or the log.
pub(super) fn seq_key(id: &SubscriptionId, seq: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(id.as_bytes().len() + 9);
    k.extend_from_slice(id.as_bytes());
    k.push(0);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// The range of every row of a subscription in the outbox or the log.
pub(super) fn seq_range(id: &SubscriptionId) -> (Vec<u8>, Vec<u8>) {
    (seq_key(id, 0), seq_key(id, u64::MAX))
}

/// The sequence number of a key made by [`seq_key`].
pub(super) fn seq_of(key: &[u8]) -> u64 {
    let tail: [u8; 8] = key[key.len().saturating_sub(8)..].try_into().unwrap_or([0; 8]);
    u64::from_be_bytes(tail)
}
