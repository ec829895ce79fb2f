//! The push queue and its worker: [`Pusher::notify`] enqueues a wake-up without waiting; the
//! worker sends it with the current push certificate, retries transient failures (429, 5xx,
//! resets) with full-jitter backoff, and marks devices whose token APNs refuses for good
//! (`push.devices` and a timeline event) so the device page can say why it is unreachable.
//!
//! Pushes to one device coalesce: while one is queued or retrying, another for the same UDID
//! is dropped (an MDM push only says "check in"; one is as good as two).

use super::apns::{ApnsClient, SendError};
use super::records::{CERT, CURRENT, CertRecord, CertRefusal, DEVICES, DeviceRecord, Unreachable};
use super::{Push, PushError};
use crate::apple::apns::Scope;
use crate::depclient::RetryPolicy;
use crate::depclient::retry::{backoff_delay, random_unit};
use crate::ids::{Serial, Udid};
use crate::outbound::OutboundConfig;
use crate::store::{self, StoreError};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Semaphore, mpsc};

/// A device to wake: what its last TokenUpdate said (spec §4.3, §5.1). Its Debug shows the
/// UDID and topic only: the token and PushMagic are what lets anyone wake the device.
#[derive(Clone, PartialEq, Eq)]
pub struct PushTarget {
    pub udid: Udid,
    /// The APNs device token (raw bytes of TokenUpdate's `Token`).
    pub token: Vec<u8>,
    pub push_magic: String,
    /// The topic the device enrolled with (the push certificate's).
    pub topic: String,
}

impl std::fmt::Debug for PushTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushTarget")
            .field("udid", &self.udid)
            .field("topic", &self.topic)
            .finish_non_exhaustive()
    }
}

/// Enqueues pushes (cheap to clone).
#[derive(Clone, Debug)]
pub struct Pusher {
    tx: mpsc::Sender<PushTarget>,
}

impl Pusher {
    /// Enqueues a push and returns at once. A full queue drops it (logged): the device still
    /// checks in on its own schedule.
    pub fn notify(&self, target: PushTarget) {
        if let Err(e) = self.tx.try_send(target) {
            let udid = match &e {
                mpsc::error::TrySendError::Full(t) | mpsc::error::TrySendError::Closed(t) => {
                    t.udid.clone()
                }
            };
            log::warn!(udid = udid.as_str(); "push not queued ({e}); the device will check in on its own schedule");
        }
    }
}

/// Where APNs is and how hard to try.
#[derive(Clone, Debug)]
pub struct ApnsOptions {
    pub base_url: String,
    /// Trust roots and proxy (the push certificate is added per client).
    pub outbound: OutboundConfig,
    pub retry: RetryPolicy,
    /// Pushes waiting at most.
    pub queue: usize,
    /// Pushes in flight at once.
    pub concurrency: usize,
}

impl ApnsOptions {
    /// Apple's production service, trusted through the system's roots, reached directly.
    pub fn production() -> ApnsOptions {
        ApnsOptions::new(crate::apple::apns::PRODUCTION_URL, OutboundConfig::production())
    }

    pub fn new(base_url: &str, outbound: OutboundConfig) -> ApnsOptions {
        ApnsOptions {
            base_url: base_url.to_string(),
            outbound,
            retry: RetryPolicy {
                max_attempts: 6,
                max_total: Duration::from_secs(15 * 60),
                base_delay: Duration::from_secs(1),
                max_delay: Duration::from_secs(120),
            },
            queue: 10_000,
            concurrency: 16,
        }
    }
}

/// Finds a device's serial number from its UDID, inside a write transaction (for its timeline).
pub type SerialOf =
    Arc<dyn Fn(&redb::WriteTransaction, &Udid) -> Result<Option<Serial>, StoreError> + Send + Sync>;

/// What the worker shares between its pushes.
struct Worker {
    push: Push,
    options: ApnsOptions,
    serial_of: Option<SerialOf>,
    busy: Mutex<HashSet<Udid>>,
    /// The client of the current certificate, keyed by its serial.
    client: Mutex<Option<(String, ApnsClient)>>,
}

impl Push {
    /// The queue handle and the worker future (the daemon spawns it as the task `apns`).
    /// `serial_of` lets a refused device's timeline say so (wired by the daemon).
    pub fn pusher(
        &self,
        options: ApnsOptions,
        serial_of: Option<SerialOf>,
    ) -> (Pusher, impl std::future::Future<Output = ()> + Send + 'static) {
        let (tx, mut rx) = mpsc::channel::<PushTarget>(options.queue.max(1));
        let limit = Arc::new(Semaphore::new(options.concurrency.max(1)));
        let worker = Arc::new(Worker {
            push: self.clone(),
            options,
            serial_of,
            busy: Mutex::new(HashSet::new()),
            client: Mutex::new(None),
        });
        let run = async move {
            while let Some(target) = rx.recv().await {
                if !lock(&worker.busy).insert(target.udid.clone()) {
                    log::debug!(udid = target.udid.as_str(); "push already pending; coalesced");
                    continue;
                }
                let Ok(permit) = limit.clone().acquire_owned().await else { break };
                let w = worker.clone();
                tokio::spawn(async move {
                    let udid = target.udid.clone();
                    w.deliver(target).await;
                    lock(&w.busy).remove(&udid);
                    drop(permit);
                });
            }
        };
        (Pusher { tx }, run)
    }

    /// How pushes to a device went, if any was tried; the UDID in any case ([`Udid::key`]).
    pub async fn device(&self, udid: &Udid) -> Result<Option<DeviceRecord>, PushError> {
        let key = udid.key();
        self.inner
            .store
            .read(move |rtx| {
                let t = rtx.open_table(DEVICES).map_err(PushError::from)?;
                Ok(store::get(&t, key.as_bytes())?)
            })
            .await
    }
}

impl Worker {
    async fn deliver(&self, target: PushTarget) {
        let udid = target.udid.as_str();
        let start = std::time::Instant::now();
        let mut failures = 0u32;
        loop {
            let result = self.send_once(&target).await;
            let now = self.push.now();
            let metrics = self.push.inner.store.metrics();
            metrics.apns_result(match &result {
                Ok(_) => "accepted",
                Err(e) => match e.scope() {
                    Scope::Transient => "transient_failure",
                    Scope::Device => "device_refused",
                    Scope::Certificate => "certificate_refused",
                    Scope::Request => "request_refused",
                },
            });
            let err = match result {
                Ok(id) => {
                    log::debug!(udid = udid, apns_id = id.as_str(); "push accepted by APNs");
                    self.record(&target, None, now).await;
                    self.note_refusal(None).await;
                    return;
                }
                Err(e) => e,
            };
            match err.scope() {
                Scope::Transient => {
                    failures += 1;
                    let retry_after = match &err {
                        SendError::Refused { retry_after, .. } => *retry_after,
                        _ => None,
                    };
                    let policy = &self.options.retry;
                    let delay = backoff_delay(policy, failures, retry_after, random_unit());
                    if failures >= policy.max_attempts
                        || start.elapsed().saturating_add(delay) > policy.max_total
                    {
                        log::warn!(udid = udid, attempts = failures; "push given up: {err}");
                        return;
                    }
                    log::debug!(udid = udid, failures = failures; "push failed ({err}); retrying");
                    tokio::time::sleep(delay).await;
                }
                Scope::Device => {
                    log::warn!(udid = udid; "push refused for this device: {err}");
                    let reason = match &err {
                        SendError::Refused { reason, .. } => reason.clone(),
                        other => other.to_string(),
                    };
                    let words = crate::apple::apns::Reason::parse(&reason)
                        .map_or("Apple refused this device's push token", |r| r.words());
                    let mark = Unreachable { reason, message: words.to_string(), at: now };
                    self.record(&target, Some(mark), now).await;
                    return;
                }
                Scope::Certificate | Scope::Request => {
                    log::error!(udid = udid; "push refused: {err}");
                    if let (Scope::Certificate, SendError::Refused { status, reason, .. }) =
                        (err.scope(), &err)
                    {
                        let refusal =
                            CertRefusal { status: *status, reason: reason.clone(), at: now };
                        self.note_refusal(Some(refusal)).await;
                    }
                    return;
                }
            }
        }
    }

    /// One attempt with the current certificate.
    async fn send_once(&self, target: &PushTarget) -> Result<String, SendError> {
        let Some(identity) =
            self.push.identity().await.map_err(|e| SendError::Identity(e.to_string()))?
        else {
            return Err(SendError::Identity("no push certificate is installed".into()));
        };
        let cached = lock(&self.client).clone();
        let client = match cached {
            Some((serial, c)) if serial == identity.serial_hex => c,
            _ => {
                let c = ApnsClient::new(
                    &self.options.base_url,
                    &self.options.outbound,
                    identity.pem.clone(),
                )?;
                *lock(&self.client) = Some((identity.serial_hex.clone(), c.clone()));
                c
            }
        };
        let topic = if target.topic.is_empty() { &identity.topic } else { &target.topic };
        client.send(&target.token, topic, &target.push_magic, self.push.now()).await
    }

    /// Records that APNs refused the certificate in use, or (`None`) that it accepted a push
    /// again; writes only when that changes, so accepted pushes cost a read.
    async fn note_refusal(&self, refusal: Option<CertRefusal>) {
        let store = &self.push.inner.store;
        let current: Result<Option<CertRecord>, PushError> =
            store.read(|rtx| Ok(store::get(&rtx.open_table(CERT)?, CURRENT)?)).await;
        let same = |c: &CertRecord| {
            c.refused.as_ref().map(|r| &r.reason) == refusal.as_ref().map(|r| &r.reason)
        };
        match current {
            Ok(Some(c)) if !same(&c) => {}
            Ok(_) => return,
            Err(e) => {
                log::error!("the push certificate's state could not be read: {e}");
                return;
            }
        }
        let result = store
            .write(move |wtx| {
                let mut t = wtx.open_table(CERT)?;
                let current: Option<CertRecord> = store::get(&t, CURRENT)?;
                if let Some(mut c) = current {
                    c.refused = refusal.clone();
                    store::put(&mut t, CURRENT, &c)?;
                }
                Ok::<_, PushError>(())
            })
            .await;
        if let Err(e) = result {
            log::error!("the push certificate's refusal could not be stored: {e}");
        }
    }

    /// Stores the outcome; a newly unreachable device gets a timeline event.
    async fn record(
        &self,
        target: &PushTarget,
        mark: Option<Unreachable>,
        now: time::OffsetDateTime,
    ) {
        let (udid, serial_of) = (target.udid.clone(), self.serial_of.clone());
        let result = self
            .push
            .inner
            .store
            .write(move |wtx| {
                let mut t = wtx.open_table(DEVICES)?;
                let key = udid.key();
                let key = key.as_bytes();
                let mut r: DeviceRecord = store::get(&t, key)?.unwrap_or_default();
                r.last_sent_at = Some(now);
                let newly = mark.is_some() && r.unreachable.is_none();
                r.unreachable = mark.clone();
                store::put(&mut t, key, &r)?;
                drop(t);
                if let (true, Some(m), Some(f)) = (newly, &mark, &serial_of)
                    && let Some(serial) = f(wtx, &udid)?
                {
                    let words = format!("push refused by Apple ({}): {}", m.reason, m.message);
                    let kind = crate::devices::TimelineKind::PushUnreachable;
                    crate::devices::note_in(wtx, &serial, kind, words, now)?;
                }
                Ok::<_, PushError>(())
            })
            .await;
        if let Err(e) = result {
            log::error!(udid = target.udid.as_str(); "the push outcome could not be stored: {e}");
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
