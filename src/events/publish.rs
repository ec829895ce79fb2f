//! Writing events into the outbox, inside the transaction of the change they report, so an
//! event exists exactly when its change was committed. Nothing is written for a topic no
//! subscription wants (an idle MDM poll with no subscription stays a read).

use super::envelope::Event;
use super::records::{
    LOG, LOG_LIMIT, LogEntry, OUTBOX, OutboxEntry, Outcome, SUBSCRIPTIONS, SubscriptionRecord,
    seq_key, seq_range,
};
use super::topic::Topic;
use crate::ids::SubscriptionId;
use crate::store::{self, StoreError, WriteTable};
use redb::{ReadableTable, WriteTransaction};

/// Wakes the delivery worker early (it also looks every second). A permit is kept when no
/// worker waits, so an event committed between two looks is not left for the next tick.
pub(super) static WAKE: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// Publishes events inside one write transaction: reads which subscriptions want what once,
/// then writes only the events some subscription wants.
pub struct Publisher<'txn> {
    wtx: &'txn WriteTransaction,
    wanted: Vec<(SubscriptionId, Vec<Topic>)>,
}

impl<'txn> Publisher<'txn> {
    pub fn open(wtx: &'txn WriteTransaction) -> Result<Publisher<'txn>, StoreError> {
        let table = wtx.open_table(SUBSCRIPTIONS)?;
        let mut wanted = Vec::new();
        for row in table.iter()? {
            let (_, v) = row?;
            let rec: SubscriptionRecord = store::decode("events.subscriptions", v.value())?;
            wanted.push((rec.id, rec.topics));
        }
        Ok(Publisher { wtx, wanted })
    }

    /// Whether any subscription wants `topic`.
    pub fn wants(&self, topic: Topic) -> bool {
        self.wanted.iter().any(|(_, topics)| topics.contains(&topic))
    }

    /// Writes the event `make` builds (called only if some subscription wants `topic`) into
    /// the outbox of every subscription that wants it.
    pub fn publish(
        &mut self,
        topic: Topic,
        make: impl FnOnce() -> Event,
    ) -> Result<(), StoreError> {
        if !self.wants(topic) {
            return Ok(());
        }
        let event = make();
        let mut subs = self.wtx.open_table(SUBSCRIPTIONS)?;
        let mut outbox = self.wtx.open_table(OUTBOX)?;
        let mut log = self.wtx.open_table(LOG)?;
        for (id, topics) in &self.wanted {
            if !topics.contains(&topic) {
                continue;
            }
            let Some(mut rec): Option<SubscriptionRecord> = store::get(&subs, id.as_bytes())?
            else {
                continue;
            };
            enqueue(&mut outbox, &mut log, &mut rec, &event)?;
            store::put(&mut subs, id.as_bytes(), &rec)?;
        }
        WAKE.notify_one();
        Ok(())
    }
}

/// Appends `event` to `rec`'s outbox; when full, the oldest waiting event is dropped first
/// and counted (the log says which).
pub(super) fn enqueue(
    outbox: &mut WriteTable<'_>,
    log: &mut WriteTable<'_>,
    rec: &mut SubscriptionRecord,
    event: &Event,
) -> Result<(), StoreError> {
    while rec.queued >= rec.max_outbox.max(1) {
        let (from, to) = seq_range(&rec.id);
        let oldest = outbox
            .range(from.as_slice()..=to.as_slice())?
            .next()
            .transpose()?
            .map(|(k, v)| (k.value().to_vec(), v.value().to_vec()));
        let Some((key, value)) = oldest else {
            rec.queued = 0;
            break;
        };
        outbox.remove(key.as_slice())?;
        let entry: OutboxEntry = store::decode("events.outbox", &value)?;
        rec.queued -= 1;
        rec.dropped += 1;
        let line = LogEntry {
            event_id: entry.event_id,
            topic: entry.topic,
            at: event.created_at,
            attempt: entry.attempts,
            outcome: Outcome::Dropped,
            status: None,
            latency_ms: None,
            error: Some(format!(
                "the outbox was full ({} events waiting, the subscription's limit): the oldest \
                 was dropped unsent",
                rec.max_outbox
            )),
            next_retry_at: None,
            body: entry.body,
        };
        append_log(log, rec, &line)?;
    }
    let entry = OutboxEntry {
        event_id: event.id.clone(),
        topic: event.topic,
        body: event.body.clone(),
        created_at: event.created_at,
        attempts: 0,
        next_attempt_at: event.created_at,
    };
    store::put(outbox, &seq_key(&rec.id, rec.next_seq), &entry)?;
    rec.next_seq += 1;
    rec.queued += 1;
    Ok(())
}

/// Appends a line to `rec`'s delivery log, dropping the oldest beyond [`LOG_LIMIT`].
pub(super) fn append_log(
    log: &mut WriteTable<'_>,
    rec: &mut SubscriptionRecord,
    line: &LogEntry,
) -> Result<(), StoreError> {
    let seq = rec.next_log;
    store::put(log, &seq_key(&rec.id, seq), line)?;
    rec.next_log += 1;
    if seq >= LOG_LIMIT {
        log.remove(seq_key(&rec.id, seq - LOG_LIMIT).as_slice())?;
    }
    Ok(())
}
