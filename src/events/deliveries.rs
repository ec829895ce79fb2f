//! A subscription's delivery log as the page shows it (newest first), "redeliver" (the same
//! event, same id and body, queued again) and "send test".

use super::envelope::{AdeboxEvent, adebox_event};
use super::publish::{WAKE, enqueue};
use super::records::{
    LOG, LogEntry, OUTBOX, OutboxEntry, Outcome, SUBSCRIPTIONS, SubscriptionRecord,
};
use super::records::{seq_key, seq_of, seq_range};
use super::topic::Topic;
use super::{Event, Events, EventsError};
use crate::ids::SubscriptionId;
use crate::store;
use redb::ReadableTable;
use serde::Serialize;
use time::OffsetDateTime;

/// One delivery attempt (never the body or the secret).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct DeliveryView {
    /// The log entry's number, for "redeliver".
    pub seq: u64,
    pub event_id: String,
    #[schema(value_type = String)]
    pub topic: Topic,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub attempt: u32,
    /// `delivered`, `retrying`, `gave_up` or `dropped`.
    #[schema(value_type = String)]
    pub outcome: Outcome,
    pub status: Option<u16>,
    pub latency_ms: Option<u64>,
    pub error: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_retry_at: Option<OffsetDateTime>,
}

impl Events {
    /// The newest `limit` attempts of a subscription, newest first.
    pub async fn deliveries(
        &self,
        id: &SubscriptionId,
        limit: usize,
    ) -> Result<Vec<DeliveryView>, EventsError> {
        self.get(id).await?;
        let id = id.clone();
        self.inner
            .store
            .read(move |rtx| {
                let log = rtx.open_table(LOG)?;
                let (from, to) = seq_range(&id);
                let mut out = Vec::new();
                for row in log.range(from.as_slice()..=to.as_slice())?.rev().take(limit) {
                    let (k, v) = row?;
                    let e: LogEntry = store::decode("events.log", v.value())?;
                    out.push(DeliveryView {
                        seq: seq_of(k.value()),
                        event_id: e.event_id,
                        topic: e.topic,
                        at: e.at,
                        attempt: e.attempt,
                        outcome: e.outcome,
                        status: e.status,
                        latency_ms: e.latency_ms,
                        error: e.error,
                        next_retry_at: e.next_retry_at,
                    });
                }
                Ok(out)
            })
            .await
    }

    /// Queues the event of log entry `seq` again (same id and body; a higher attempt number
    /// tells the receiver it is a repeat).
    pub async fn redeliver(&self, id: &SubscriptionId, seq: u64) -> Result<String, EventsError> {
        let (id, now) = (id.clone(), self.inner.clock.now());
        let event_id = self
            .inner
            .store
            .write(move |wtx| {
                let mut subs = wtx.open_table(SUBSCRIPTIONS)?;
                let mut rec: SubscriptionRecord = store::get(&subs, id.as_bytes())?
                    .ok_or_else(|| EventsError::NotFound(id.to_string()))?;
                let mut log = wtx.open_table(LOG)?;
                let line: LogEntry = store::get(&log, &seq_key(&id, seq))?
                    .ok_or(EventsError::NoSuchDelivery(seq))?;
                let mut outbox = wtx.open_table(OUTBOX)?;
                let event = Event {
                    id: line.event_id.clone(),
                    topic: line.topic,
                    created_at: now,
                    body: line.body,
                };
                enqueue(&mut outbox, &mut log, &mut rec, &event)?;
                // Keep the attempt count going, so the receiver sees a repeat.
                let key = seq_key(&id, rec.next_seq - 1);
                let mut entry: OutboxEntry =
                    store::get(&outbox, &key)?.expect("the entry enqueue just wrote is there");
                entry.attempts = line.attempt;
                store::put(&mut outbox, &key, &entry)?;
                store::put(&mut subs, id.as_bytes(), &rec)?;
                Ok::<_, EventsError>(line.event_id)
            })
            .await?;
        WAKE.notify_one();
        Ok(event_id)
    }

    /// Queues an `adebox.Alert` test event for this subscription only, whatever its topics.
    pub async fn send_test(&self, id: &SubscriptionId) -> Result<String, EventsError> {
        let (id, now) = (id.clone(), self.inner.clock.now());
        let what = AdeboxEvent {
            serial: None,
            kind: "test".into(),
            message: "A test event sent from the Integrations page".into(),
            fix_url: None,
        };
        let event = adebox_event(Topic::Alert, &what, now);
        let event_id = event.id.clone();
        self.inner
            .store
            .write(move |wtx| {
                let mut subs = wtx.open_table(SUBSCRIPTIONS)?;
                let mut rec: SubscriptionRecord = store::get(&subs, id.as_bytes())?
                    .ok_or_else(|| EventsError::NotFound(id.to_string()))?;
                let mut outbox = wtx.open_table(OUTBOX)?;
                let mut log = wtx.open_table(LOG)?;
                enqueue(&mut outbox, &mut log, &mut rec, &event)?;
                store::put(&mut subs, id.as_bytes(), &rec)?;
                Ok::<_, EventsError>(())
            })
            .await?;
        WAKE.notify_one();
        Ok(event_id)
    }
}

/// Makes every waiting event of a subscription due now (after "resume").
pub(super) async fn retry_all_now(events: &Events, id: &SubscriptionId) -> Result<(), EventsError> {
    let (id, now) = (id.clone(), events.inner.clock.now());
    events
        .inner
        .store
        .write(move |wtx| {
            let mut outbox = wtx.open_table(OUTBOX)?;
            let (from, to) = seq_range(&id);
            let mut due = Vec::new();
            for row in outbox.range(from.as_slice()..=to.as_slice())? {
                let (k, v) = row?;
                let mut e: OutboxEntry = store::decode("events.outbox", v.value())?;
                e.next_attempt_at = now;
                due.push((k.value().to_vec(), e));
            }
            for (k, e) in due {
                store::put(&mut outbox, &k, &e)?;
            }
            Ok::<_, EventsError>(())
        })
        .await?;
    WAKE.notify_one();
    Ok(())
}
