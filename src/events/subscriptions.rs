//! Webhook subscriptions: create (the secret shown once), edit, delete, resume, and the view
//! the Integrations page lists. The secret is sealed (`store::seal`) and never returned or
//! logged after creation.

use super::records::{LOG, OUTBOX, SECRET, SUBSCRIPTIONS, SubscriptionRecord, seq_range};
use super::topic::Topic;
use super::{Events, EventsError};
use crate::crypto::Secret;
use crate::ids::SubscriptionId;
use crate::store::{self, StoreError};
use redb::{ReadTransaction, ReadableTable, ReadableTableMetadata};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// A secret given by the admin must be at least this long.
pub const MIN_SECRET_CHARS: usize = 16;

/// What the admin gives to create a subscription.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSubscription {
    pub name: String,
    pub url: String,
    /// Topic names (`mdm.Authenticate`, `adebox.Released`, …).
    pub topics: Vec<String>,
    /// The signing secret; adebox makes one when absent. Shown only in the answer to this
    /// request.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub secret: Option<String>,
    #[serde(default)]
    pub allow_http: bool,
    pub max_outbox: Option<u64>,
}

/// What the admin may change (absent fields stay as they are).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionUpdate {
    pub name: Option<String>,
    pub url: Option<String>,
    pub topics: Option<Vec<String>>,
    pub allow_http: Option<bool>,
    pub max_outbox: Option<u64>,
}

/// A subscription as the page shows it (never the secret).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct SubscriptionView {
    #[schema(value_type = String)]
    pub id: SubscriptionId,
    pub name: String,
    pub url: String,
    #[schema(value_type = Vec<String>)]
    pub topics: Vec<Topic>,
    pub allow_http: bool,
    pub max_outbox: u64,
    /// Events waiting to be delivered.
    pub queued: u64,
    /// Events dropped (outbox full) or given up on (a day of failed retries).
    pub dropped: u64,
    #[serde(with = "time::serde::rfc3339::option")]
    pub failing_since: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_success_at: Option<OffsetDateTime>,
    /// Set when a day of failures paused it: nothing is sent until it is resumed.
    #[serde(with = "time::serde::rfc3339::option")]
    pub paused_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl From<&SubscriptionRecord> for SubscriptionView {
    fn from(r: &SubscriptionRecord) -> Self {
        SubscriptionView {
            id: r.id.clone(),
            name: r.name.clone(),
            url: r.url.clone(),
            topics: r.topics.clone(),
            allow_http: r.allow_http,
            max_outbox: r.max_outbox,
            queued: r.queued,
            dropped: r.dropped,
            failing_since: r.failing_since,
            last_success_at: r.last_success_at,
            paused_at: r.paused_at,
            created_at: r.created_at,
        }
    }
}

pub(super) fn all_in(rtx: &ReadTransaction) -> Result<Vec<SubscriptionRecord>, StoreError> {
    let table = rtx.open_table(SUBSCRIPTIONS)?;
    let mut out = Vec::new();
    for row in table.iter()? {
        let (_, v) = row?;
        out.push(store::decode("events.subscriptions", v.value())?);
    }
    Ok(out)
}

fn check_name(name: &str) -> Result<String, EventsError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(EventsError::invalid(
            "name",
            "give the subscription a name of 1–100 characters",
        ));
    }
    Ok(name.to_string())
}

fn check_topics(names: &[String]) -> Result<Vec<Topic>, EventsError> {
    let mut topics = Vec::new();
    for n in names {
        let t = Topic::parse(n).ok_or_else(|| {
            EventsError::invalid(
                "topics",
                format!(
                    "{n:?} is not a topic adebox publishes; choose from {}",
                    Topic::ALL.map(Topic::name).join(", ")
                ),
            )
        })?;
        if !topics.contains(&t) {
            topics.push(t);
        }
    }
    if topics.is_empty() {
        return Err(EventsError::invalid("topics", "choose at least one topic"));
    }
    topics.sort();
    Ok(topics)
}

fn check_max_outbox(n: u64) -> Result<u64, EventsError> {
    let (lo, hi) = super::MAX_OUTBOX_RANGE;
    if !(lo..=hi).contains(&n) {
        return Err(EventsError::invalid(
            "max_outbox",
            format!("the outbox limit must be between {lo} and {hi} events"),
        ));
    }
    Ok(n)
}

impl Events {
    fn check_url(&self, url: &str, allow_http: bool) -> Result<String, EventsError> {
        super::target::check(url, allow_http, &self.inner.me)
            .map(|u| u.to_string())
            .map_err(|p| EventsError::invalid("url", p.to_string()))
    }

    pub async fn list(&self) -> Result<Vec<SubscriptionView>, EventsError> {
        self.inner
            .store
            .read(|rtx| {
                Ok::<_, EventsError>(all_in(rtx)?.iter().map(SubscriptionView::from).collect())
            })
            .await
    }

    pub async fn get(&self, id: &SubscriptionId) -> Result<SubscriptionView, EventsError> {
        let id = id.clone();
        self.inner
            .store
            .read(move |rtx| {
                let table = rtx.open_table(SUBSCRIPTIONS)?;
                let rec: Option<SubscriptionRecord> = store::get(&table, id.as_bytes())?;
                rec.map(|r| SubscriptionView::from(&r)).ok_or(EventsError::NotFound(id.to_string()))
            })
            .await
    }

    /// Creates a subscription; the answer holds the signing secret, shown this once.
    pub async fn create(
        &self,
        new: NewSubscription,
    ) -> Result<(SubscriptionView, Secret<String>), EventsError> {
        let name = check_name(&new.name)?;
        let url = self.check_url(&new.url, new.allow_http)?;
        let topics = check_topics(&new.topics)?;
        let max_outbox = check_max_outbox(new.max_outbox.unwrap_or(super::DEFAULT_MAX_OUTBOX))?;
        let secret = match new.secret.map(Secret::new) {
            Some(s) if s.expose().trim().chars().count() < MIN_SECRET_CHARS => {
                return Err(EventsError::invalid(
                    "secret",
                    format!(
                        "the secret must be at least {MIN_SECRET_CHARS} characters; leave it \
                         empty and adebox makes a strong one"
                    ),
                ));
            }
            Some(s) => s,
            None => super::sign::new_secret(),
        };
        let id = SubscriptionId::generate();
        let sealed = self.inner.store.sealer().seal(SECRET, id.as_bytes(), &secret);
        let rec = SubscriptionRecord {
            id: id.clone(),
            name,
            url,
            secret: sealed,
            topics,
            allow_http: new.allow_http,
            max_outbox,
            created_at: self.inner.clock.now(),
            queued: 0,
            dropped: 0,
            next_seq: 0,
            next_log: 0,
            failing_since: None,
            last_success_at: None,
            paused_at: None,
        };
        let view = SubscriptionView::from(&rec);
        self.inner
            .store
            .write(move |wtx| {
                let mut table = wtx.open_table(SUBSCRIPTIONS)?;
                if table.len()? as usize >= super::MAX_SUBSCRIPTIONS {
                    return Err(EventsError::TooMany(super::MAX_SUBSCRIPTIONS));
                }
                store::put(&mut table, id.as_bytes(), &rec)?;
                Ok(())
            })
            .await?;
        Ok((view, secret))
    }

    /// Changes a subscription; events already waiting keep their bodies.
    pub async fn update(
        &self,
        id: &SubscriptionId,
        change: SubscriptionUpdate,
    ) -> Result<SubscriptionView, EventsError> {
        let current = self.get(id).await?;
        let allow_http = change.allow_http.unwrap_or(current.allow_http);
        let url = self.check_url(change.url.as_deref().unwrap_or(&current.url), allow_http)?;
        let name = change.name.as_deref().map(check_name).transpose()?;
        let topics = change.topics.as_deref().map(check_topics).transpose()?;
        let max_outbox = change.max_outbox.map(check_max_outbox).transpose()?;
        self.modify(id, move |r| {
            r.url = url;
            r.allow_http = allow_http;
            if let Some(n) = name {
                r.name = n;
            }
            if let Some(t) = topics {
                r.topics = t;
            }
            if let Some(m) = max_outbox {
                r.max_outbox = m;
            }
        })
        .await
    }

    /// Resumes a paused subscription: waiting events are tried again now.
    pub async fn resume(&self, id: &SubscriptionId) -> Result<SubscriptionView, EventsError> {
        let view = self
            .modify(id, |r| {
                r.paused_at = None;
                r.failing_since = None;
            })
            .await?;
        super::deliveries::retry_all_now(self, id).await?;
        Ok(view)
    }

    pub(super) async fn modify(
        &self,
        id: &SubscriptionId,
        change: impl FnOnce(&mut SubscriptionRecord) + Send + Clone + 'static,
    ) -> Result<SubscriptionView, EventsError> {
        let id = id.clone();
        self.inner
            .store
            .write(move |wtx| {
                let mut table = wtx.open_table(SUBSCRIPTIONS)?;
                let mut rec: SubscriptionRecord = store::get(&table, id.as_bytes())?
                    .ok_or_else(|| EventsError::NotFound(id.to_string()))?;
                change(&mut rec);
                store::put(&mut table, id.as_bytes(), &rec)?;
                Ok(SubscriptionView::from(&rec))
            })
            .await
    }

    /// Deletes a subscription with its waiting events and its log.
    pub async fn delete(&self, id: &SubscriptionId) -> Result<SubscriptionView, EventsError> {
        let id = id.clone();
        self.inner
            .store
            .write(move |wtx| {
                let mut table = wtx.open_table(SUBSCRIPTIONS)?;
                let rec: SubscriptionRecord = store::get(&table, id.as_bytes())?
                    .ok_or_else(|| EventsError::NotFound(id.to_string()))?;
                table.remove(id.as_bytes())?;
                let (from, to) = seq_range(&id);
                for def in [OUTBOX, LOG] {
                    let mut t = wtx.open_table(def)?;
                    t.retain_in(from.as_slice()..=to.as_slice(), |_, _| false)?;
                }
                Ok(SubscriptionView::from(&rec))
            })
            .await
    }
}
