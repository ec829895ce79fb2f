//! Event webhooks: the events a site's tools subscribe to, a durable outbox in the store, and
//! the delivery worker that posts them, signed, to each subscription's URL.
//!
//! Owns the tables `events.subscriptions`, `events.outbox` and `events.log` ([`records`]).
//! Exposes [`Events`] (subscriptions, delivery log, redeliver, resume; publishing MDM
//! messages and adebox's own events from outside a transaction) and [`Publisher`] for
//! publishing inside the transaction of the change an event reports (the device timeline
//! uses it, so a device event exists exactly when its change was committed).
//!
//! Delivery is at least once: an event leaves the outbox only in the transaction that
//! records its receiver's 2xx (or gives up on it after a day), and each attempt is counted
//! before it is sent, so an event sent again after a kill carries a higher
//! `X-Adebox-Attempt`. See docs/webhooks.md for the headers and how receivers verify them.
//!
//! Calls store, outbound (the one HTTP client builder, proxy included) and the clock. Must
//! not use: http, daemon, actix types, or any later domain module.

mod deliveries;
pub mod envelope;
mod publish;
pub mod records;
pub mod retry;
pub mod sign;
mod subscriptions;
pub mod target;
pub mod topic;
mod worker;

#[cfg(test)]
mod tests;

pub use deliveries::DeliveryView;
pub use envelope::{AdeboxEvent, Event, MdmChannel};
pub use publish::Publisher;
pub use records::{LOG_LIMIT, Outcome, TABLES};
pub use subscriptions::{NewSubscription, SubscriptionUpdate, SubscriptionView};
pub use target::{SelfAddresses, TargetProblem};
pub use topic::Topic;

use crate::clock::Clock;
use crate::store::{Store, StoreError};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// Every delivery request's whole time budget (connect, send, answer).
pub const DELIVERY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
/// Deliveries in flight at once, over all subscriptions.
pub const MAX_CONCURRENT_DELIVERIES: usize = 4;
/// At most this many subscriptions.
pub const MAX_SUBSCRIPTIONS: usize = 50;
/// The outbox limit of a new subscription, and the bounds an admin may set.
pub const DEFAULT_MAX_OUTBOX: u64 = 10_000;
pub const MAX_OUTBOX_RANGE: (u64, u64) = (10, 1_000_000);

#[derive(Debug, thiserror::Error)]
pub enum EventsError {
    #[error("webhook subscription {0} does not exist")]
    NotFound(String),
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },
    #[error(
        "there are already {0} webhook subscriptions, the most adebox keeps; delete one you no \
         longer use"
    )]
    TooMany(usize),
    #[error("delivery log entry {0} does not exist (the log keeps the newest {LOG_LIMIT})")]
    NoSuchDelivery(u64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

crate::store::redb_errors_into!(EventsError);

impl EventsError {
    fn invalid(field: &'static str, message: impl Into<String>) -> EventsError {
        EventsError::Invalid { field, message: message.into() }
    }
}

/// The webhook service (cheap to clone).
#[derive(Clone)]
pub struct Events {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    clock: Clock,
    me: SelfAddresses,
    /// The site's outbound proxy, chosen per receiver host (its no-proxy list applies).
    proxy: Option<crate::outbound::ProxyChoice>,
    /// Clients by (proxy, plain http allowed): at most four, built on first use.
    clients: Mutex<HashMap<(Option<String>, bool), reqwest::Client>>,
}

impl Events {
    /// Receivers are reached through the system's roots and the site's `proxy`, within
    /// [`DELIVERY_TIMEOUT`]. `me` is how the appliance itself is reached, which no webhook
    /// may be.
    pub fn new(
        store: Store,
        clock: Clock,
        me: SelfAddresses,
        proxy: Option<crate::outbound::ProxyChoice>,
    ) -> Events {
        let clients = Mutex::new(HashMap::new());
        Events { inner: Arc::new(Inner { store, clock, me, proxy, clients }) }
    }

    /// The client for a receiver at `host`.
    fn client(&self, host: &str, allow_http: bool) -> Result<reqwest::Client, String> {
        let proxy = self.inner.proxy.as_ref().and_then(|p| p.for_host(host)).cloned();
        let key = (proxy.as_ref().map(|p| p.redacted()), allow_http);
        let mut clients = self.inner.clients.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = clients.get(&key) {
            return Ok(c.clone());
        }
        let mut config = crate::outbound::OutboundConfig::production()
            .with_request_timeout(DELIVERY_TIMEOUT)
            .via(proxy);
        config.connect_timeout = DELIVERY_TIMEOUT;
        config.allow_http = allow_http;
        let client = crate::outbound::client(&config).map_err(|e| e.to_string())?;
        clients.insert(key, client.clone());
        Ok(client)
    }

    /// Publishes an MDM message a device sent to `channel`, as MicroMDM's event, when a
    /// subscription wants its topic. Without one, nothing is written (a read decides).
    pub async fn publish_mdm(
        &self,
        channel: MdmChannel,
        body: &[u8],
        url_params: BTreeMap<String, String>,
    ) -> Result<(), EventsError> {
        let Some(topic) = envelope::mdm_topic(channel, body) else {
            return Ok(());
        };
        if !self.anyone_wants(topic).await? {
            return Ok(());
        }
        let (body, now) = (body.to_vec(), self.inner.clock.now());
        self.inner
            .store
            .write(move |wtx| {
                Publisher::open(wtx)?.publish(topic, || {
                    envelope::mdm_event(topic, channel, &body, &url_params, now)
                })?;
                Ok::<_, EventsError>(())
            })
            .await
    }

    /// Publishes one of adebox's own events (alerts, sync failures) on its own.
    pub async fn publish_adebox(&self, topic: Topic, what: AdeboxEvent) -> Result<(), EventsError> {
        if !self.anyone_wants(topic).await? {
            return Ok(());
        }
        let now = self.inner.clock.now();
        self.inner
            .store
            .write(move |wtx| {
                Publisher::open(wtx)?
                    .publish(topic, || envelope::adebox_event(topic, &what, now))?;
                Ok::<_, EventsError>(())
            })
            .await
    }

    async fn anyone_wants(&self, topic: Topic) -> Result<bool, EventsError> {
        self.inner
            .store
            .read(move |rtx| {
                Ok::<_, EventsError>(subscriptions::all_in(rtx)?.iter().any(|s| s.wants(topic)))
            })
            .await
    }

    /// The delivery worker: runs until dropped (the daemon stops it at shutdown).
    pub async fn run(self) {
        worker::run(self).await
    }
}
