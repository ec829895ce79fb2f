//! The delivery worker: every second (or as soon as an event is published) it finds the
//! subscriptions whose oldest waiting event is due and delivers their events in order, a few
//! subscriptions at once ([`super::MAX_CONCURRENT_DELIVERIES`]), each request within
//! [`super::DELIVERY_TIMEOUT`].
//!
//! Per event: one transaction counts the attempt (before anything is sent), the request goes
//! out, a second transaction records the answer — removing the event on a 2xx. A kill
//! between the two leaves the event in the outbox with its attempt counted, so it is sent
//! again with a higher `X-Adebox-Attempt`: at least once, never silently twice.

use super::publish::{WAKE, append_log};
use super::records::{LOG, LogEntry, OUTBOX, OutboxEntry, Outcome, SECRET, SUBSCRIPTIONS};
use super::records::{SubscriptionRecord, seq_range};
use super::{Events, EventsError, sign};
use crate::crypto::Secret;
use crate::ids::SubscriptionId;
use crate::store;
use redb::ReadableTable;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Events delivered for one subscription before the worker looks at the others again.
const BATCH: usize = 100;

pub(super) async fn run(events: Events) {
    let permits = Arc::new(tokio::sync::Semaphore::new(super::MAX_CONCURRENT_DELIVERIES));
    loop {
        tokio::select! {
            _ = WAKE.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
        let due = match due_subscriptions(&events).await {
            Ok(due) => due,
            Err(e) => {
                log::warn!(error:% = e; "webhooks: cannot read the outbox");
                continue;
            }
        };
        let mut set = tokio::task::JoinSet::new();
        for id in due {
            let (events, permits) = (events.clone(), permits.clone());
            set.spawn(async move {
                let Ok(_permit) = permits.acquire_owned().await else { return };
                if let Err(e) = drain(&events, &id).await {
                    log::warn!(subscription:% = id, error:% = e; "webhooks: delivery stopped");
                }
            });
        }
        while set.join_next().await.is_some() {}
    }
}

/// Subscriptions, not paused, whose oldest waiting event is due.
async fn due_subscriptions(events: &Events) -> Result<Vec<SubscriptionId>, EventsError> {
    let now = events.inner.clock.now();
    events
        .inner
        .store
        .read(move |rtx| {
            let outbox = rtx.open_table(OUTBOX)?;
            let mut due = Vec::new();
            for rec in super::subscriptions::all_in(rtx)? {
                if rec.paused_at.is_some() {
                    continue;
                }
                let (from, to) = seq_range(&rec.id);
                if let Some(row) = outbox.range(from.as_slice()..=to.as_slice())?.next() {
                    let (_, v) = row?;
                    let head: OutboxEntry = store::decode("events.outbox", v.value())?;
                    if head.next_attempt_at <= now {
                        due.push(rec.id);
                    }
                }
            }
            Ok(due)
        })
        .await
}

/// One attempt about to be made.
struct Attempt {
    key: Vec<u8>,
    entry: OutboxEntry,
    url: String,
    allow_http: bool,
    secret: Secret<String>,
}

/// Delivers `id`'s due events in order until one fails or the batch is done.
async fn drain(events: &Events, id: &SubscriptionId) -> Result<(), EventsError> {
    for _ in 0..BATCH {
        let Some(attempt) = begin(events, id).await? else { return Ok(()) };
        let answer = send(events, &attempt).await;
        let ok = answer.error.is_none();
        finish(events, id, attempt, answer).await?;
        if !ok {
            break;
        }
    }
    Ok(())
}

/// Counts the attempt of `id`'s oldest event, if it is due and the subscription not paused.
async fn begin(events: &Events, id: &SubscriptionId) -> Result<Option<Attempt>, EventsError> {
    let (id, now, sealer) =
        (id.clone(), events.inner.clock.now(), events.inner.store.sealer().clone());
    events
        .inner
        .store
        .write(move |wtx| {
            let subs = wtx.open_table(SUBSCRIPTIONS)?;
            let Some(rec): Option<SubscriptionRecord> = store::get(&subs, id.as_bytes())? else {
                return Ok(None);
            };
            if rec.paused_at.is_some() {
                return Ok(None);
            }
            let mut outbox = wtx.open_table(OUTBOX)?;
            let (from, to) = seq_range(&id);
            let head = outbox
                .range(from.as_slice()..=to.as_slice())?
                .next()
                .transpose()?
                .map(|(k, v)| (k.value().to_vec(), v.value().to_vec()));
            let Some((key, value)) = head else { return Ok(None) };
            let mut entry: OutboxEntry = store::decode("events.outbox", &value)?;
            if entry.next_attempt_at > now {
                return Ok(None);
            }
            entry.attempts += 1;
            store::put(&mut outbox, &key, &entry)?;
            let secret = sealer.open(SECRET, id.as_bytes(), &rec.secret)?;
            Ok(Some(Attempt { key, entry, url: rec.url, allow_http: rec.allow_http, secret }))
        })
        .await
}

/// What the receiver answered.
struct Answer {
    status: Option<u16>,
    latency_ms: Option<u64>,
    /// `None`: delivered (a 2xx).
    error: Option<String>,
}

async fn send(events: &Events, a: &Attempt) -> Answer {
    // Checked again: the appliance's own addresses may have changed since it was saved.
    let failed = |error: String| Answer { status: None, latency_ms: None, error: Some(error) };
    let url = match super::target::check(&a.url, a.allow_http, &events.inner.me) {
        Ok(url) => url,
        Err(p) => return failed(p.to_string()),
    };
    let client = match events.client(url.host_str().unwrap_or(""), a.allow_http) {
        Ok(c) => c,
        Err(e) => return failed(e),
    };
    let timestamp = events.inner.clock.now().unix_timestamp();
    let started = Instant::now();
    let sent = client
        .post(&a.url)
        .header("Content-Type", "application/json")
        .header(sign::EVENT_ID_HEADER, &a.entry.event_id)
        .header(sign::TOPIC_HEADER, a.entry.topic.name())
        .header(sign::ATTEMPT_HEADER, a.entry.attempts.to_string())
        .header(sign::TIMESTAMP_HEADER, timestamp.to_string())
        .header(
            sign::SIGNATURE_HEADER,
            sign::signature(&a.secret, timestamp, a.entry.body.as_bytes()),
        )
        .body(a.entry.body.clone())
        .send()
        .await;
    let latency_ms = Some(started.elapsed().as_millis() as u64);
    match sent {
        Ok(r) if r.status().is_success() => {
            Answer { status: Some(r.status().as_u16()), latency_ms, error: None }
        }
        Ok(r) => Answer {
            status: Some(r.status().as_u16()),
            latency_ms,
            error: Some(format!("the receiver answered {}", r.status())),
        },
        Err(e) if e.is_timeout() => Answer {
            status: None,
            latency_ms,
            error: Some(format!(
                "the receiver did not answer within {} s",
                super::DELIVERY_TIMEOUT.as_secs()
            )),
        },
        Err(e) => Answer { status: None, latency_ms, error: Some(crate::outbound::describe(&e)) },
    }
}

/// Records the answer: a delivered event leaves the outbox; a failed one waits for its
/// retry, or is given up after the retry window; a day of failures pauses the subscription.
async fn finish(
    events: &Events,
    id: &SubscriptionId,
    a: Attempt,
    answer: Answer,
) -> Result<(), EventsError> {
    let (id, now) = (id.clone(), events.inner.clock.now());
    let metrics = events.inner.store.metrics();
    metrics.webhook_delivery(if answer.error.is_none() { "delivered" } else { "failed" });
    events
        .inner
        .store
        .write(move |wtx| {
            let mut subs = wtx.open_table(SUBSCRIPTIONS)?;
            let Some(mut rec): Option<SubscriptionRecord> = store::get(&subs, id.as_bytes())?
            else {
                return Ok(());
            };
            let mut outbox = wtx.open_table(OUTBOX)?;
            let mut log = wtx.open_table(LOG)?;
            let still: Option<OutboxEntry> = store::get(&outbox, &a.key)?;
            let mut line = LogEntry {
                event_id: a.entry.event_id.clone(),
                topic: a.entry.topic,
                at: now,
                attempt: a.entry.attempts,
                outcome: Outcome::Delivered,
                status: answer.status,
                latency_ms: answer.latency_ms,
                error: answer.error.clone(),
                next_retry_at: None,
                body: a.entry.body.clone(),
            };
            match answer.error {
                None => {
                    rec.failing_since = None;
                    rec.last_success_at = Some(now);
                    if still.is_some() {
                        outbox.remove(a.key.as_slice())?;
                        rec.queued = rec.queued.saturating_sub(1);
                    }
                }
                Some(_) => {
                    let since = *rec.failing_since.get_or_insert(now);
                    let next = super::retry::after_failure(a.entry.attempts, a.entry.created_at, since, now);
                    if next.pause && rec.paused_at.is_none() {
                        rec.paused_at = Some(now);
                        log::warn!(subscription:% = id; "webhooks: a day of failed deliveries; the subscription is paused until resumed");
                    }
                    match (next.retry_at, still) {
                        (Some(at), Some(mut entry)) => {
                            entry.next_attempt_at = at;
                            store::put(&mut outbox, &a.key, &entry)?;
                            line.outcome = Outcome::Retrying;
                            line.next_retry_at = Some(at);
                        }
                        (None, Some(_)) => {
                            outbox.remove(a.key.as_slice())?;
                            rec.queued = rec.queued.saturating_sub(1);
                            rec.dropped += 1;
                            line.outcome = Outcome::GaveUp;
                        }
                        (_, None) => line.outcome = Outcome::GaveUp,
                    }
                    log::info!(
                        subscription:% = id, event:% = a.entry.event_id, attempt = a.entry.attempts;
                        "webhooks: delivery failed: {}", answer.error.as_deref().unwrap_or("")
                    );
                }
            }
            append_log(&mut log, &mut rec, &line)?;
            store::put(&mut subs, id.as_bytes(), &rec)?;
            Ok::<_, EventsError>(())
        })
        .await
}
