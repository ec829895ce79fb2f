//! The audit log: who did what, when, from where, with what outcome.
//!
//! Owns the table `audit.entries` (big-endian sequence number → [`Entry`]). Append-only but
//! for retention pruning. Other modules add their entry inside their own write transaction
//! with [`record_in`], so an action and its audit line commit together, with the entry's MAC.
//!
//! Tamper-evident: every entry is chained to the one before by a keyed MAC ([`chain`]), the
//! key kept outside the store; [`verify`] finds the first broken link; the chain's head goes
//! to the journal at start and daily ([`AuditLog::anchor`]) as an anchor outside the store;
//! pruning keeps a MACed checkpoint.
//!
//! No secret can reach it: actions are a closed enum, the other fields are identifiers and
//! plain words, and secrets are `crate::crypto::Secret`, which has no `Serialize` and prints
//! as `[redacted]`.

pub mod chain;
mod kinds;
pub mod prune;
pub mod verify;

pub use chain::{AuditError, Head, Origin, OriginKind, Span, Started, start};
pub use kinds::{Action, Actor, Outcome};
pub use prune::Pruned;
pub use verify::{Break, Problem, Verdict, Verification};

use crate::store::{self, StoreError, Table};
use redb::{ReadableTable, ReadableTableMetadata, WriteTransaction};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

const ENTRIES: Table = store::table("audit.entries");
/// This module's tables, all created when the store opens ([`crate::store::Store::open`]).
pub const TABLES: &[Table] = &[ENTRIES, chain::MACS, chain::CHAIN];

/// One audit line as the log reports it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Entry {
    pub id: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub outcome: Outcome,
    pub remote_addr: Option<String>,
    pub detail: Option<String>,
}

/// An [`Entry`] as `audit.entries` keeps it: these bytes are what the chain MACs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct EntryRecord {
    id: u64,
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
    actor: String,
    action: String,
    target: Option<String>,
    outcome: Outcome,
    remote_addr: Option<String>,
    detail: Option<String>,
}

impl From<EntryRecord> for Entry {
    fn from(r: EntryRecord) -> Entry {
        let EntryRecord { id, at, actor, action, target, outcome, remote_addr, detail } = r;
        Entry { id, at, actor, action, target, outcome, remote_addr, detail }
    }
}

/// The stored entry whose bytes are `value`, read as the log reports it.
fn decode_entry(value: &[u8]) -> Result<Entry, StoreError> {
    Ok(store::decode::<EntryRecord>("audit.entries", value)?.into())
}

/// An entry before it has an id.
#[derive(Clone, Debug)]
pub struct NewEntry {
    pub at: OffsetDateTime,
    pub actor: Actor,
    pub action: Action,
    pub target: Option<String>,
    pub outcome: Outcome,
    pub remote_addr: Option<String>,
    pub detail: Option<String>,
}

impl NewEntry {
    pub fn new(at: OffsetDateTime, actor: Actor, action: Action, outcome: Outcome) -> Self {
        NewEntry { at, actor, action, target: None, outcome, remote_addr: None, detail: None }
    }

    pub fn target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }

    pub fn from_addr(mut self, addr: Option<String>) -> Self {
        self.remote_addr = addr;
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

/// Filters of the audit list; empty fields match everything.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub outcome: Option<Outcome>,
}

/// An entry as exported: its sequence number is its `id`, with the MAC that chains it (`None`
/// for an entry the chain does not cover: written before it started, or inserted).
#[derive(Clone, Debug, PartialEq)]
pub struct Sealed {
    pub entry: Entry,
    pub mac: Option<String>,
}

/// The audit log as a service handle for the edges (they never see the store). Its chain's
/// key is the one [`start`] loaded for the store.
#[derive(Clone, Debug)]
pub struct AuditLog {
    store: store::Store,
}

impl AuditLog {
    pub fn new(store: store::Store) -> AuditLog {
        AuditLog { store }
    }

    pub async fn record(&self, entry: NewEntry) -> Result<u64, StoreError> {
        record(&self.store, entry).await
    }

    pub async fn list(
        &self,
        filter: Filter,
        limit: usize,
        offset: usize,
    ) -> Result<(Vec<Entry>, u64), StoreError> {
        list(&self.store, filter, limit, offset).await
    }

    pub async fn count(&self) -> Result<u64, StoreError> {
        count(&self.store).await
    }

    /// Deletes entries older than `keep` at `now` (retention), keeping a checkpoint.
    pub async fn prune(&self, now: OffsetDateTime, keep: Duration) -> Result<Pruned, StoreError> {
        let cutoff = now - keep;
        self.store.write(move |wtx| prune::prune_in(wtx, now, cutoff)).await
    }

    /// Verifies the whole chain under the registered key.
    pub async fn verify(&self) -> Result<Verification, StoreError> {
        self.store.read(|rtx| verify::verify_in(rtx, None)).await
    }

    /// The chain's head; `None` before the chain starts.
    pub async fn head(&self) -> Result<Option<Head>, StoreError> {
        self.store.read(chain::head_in).await
    }

    /// Up to `limit` entries after sequence number `after`, oldest first, with their MACs.
    pub async fn export_page(&self, after: u64, limit: usize) -> Result<Vec<Sealed>, StoreError> {
        self.store.read(move |rtx| export_page_in(rtx, after, limit)).await
    }

    /// Writes the chain's head to the journal now and every day after, so a copy of it lives
    /// outside the store: a verified chain whose head is older than an anchored one lost its
    /// newest entries. The message is stable for a SIEM to match; the key never appears.
    pub async fn anchor(self) {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(24 * 3600));
        loop {
            tick.tick().await;
            match self.head().await {
                Ok(Some(h)) => log::info!(
                    audit_chain = h.chain.as_str(), audit_seq = h.seq, audit_head = h.mac.as_str();
                    "audit chain head"
                ),
                Ok(None) => log::warn!("audit chain head: the chain has not started"),
                Err(e) => log::error!("audit chain head could not be read: {e}"),
            }
        }
    }
}

fn export_page_in(
    rtx: &redb::ReadTransaction,
    after: u64,
    limit: usize,
) -> Result<Vec<Sealed>, StoreError> {
    let entries = rtx.open_table(ENTRIES)?;
    let macs = rtx.open_table(chain::MACS)?;
    let from = after.saturating_add(1).to_be_bytes();
    let mut page = Vec::new();
    for row in entries.range(from.as_slice()..)?.take(limit) {
        let (k, v) = row?;
        let entry = decode_entry(v.value())?;
        let mac = macs.get(k.value())?.map(|m| hex::encode(m.value()));
        page.push(Sealed { entry, mac });
    }
    Ok(page)
}

/// Appends an entry inside the caller's transaction; returns its id.
pub fn record_in(wtx: &WriteTransaction, entry: NewEntry) -> Result<u64, StoreError> {
    // After a checkpoint that pruned every entry, numbering goes on from the checkpoint.
    let after = chain::origin_of(&wtx.open_table(chain::CHAIN)?)?.map_or(0, |o| o.seq);
    let mut table = wtx.open_table(ENTRIES)?;
    let id = match table.last()? {
        Some((k, _)) => decode_id(k.value()).max(after) + 1,
        None => after + 1,
    };
    let stored = EntryRecord {
        id,
        at: entry.at,
        actor: entry.actor.label(),
        action: entry.action.code().to_string(),
        target: entry.target,
        outcome: entry.outcome,
        remote_addr: entry.remote_addr,
        detail: entry.detail,
    };
    let bytes = store::encode(&stored);
    table.insert(id.to_be_bytes().as_slice(), bytes.as_slice())?;
    drop(table);
    chain::seal_in(wtx, id, &bytes)?;
    log::info!(
        seq = id, action = stored.action.as_str(), actor = stored.actor.as_str(),
        outcome = format!("{:?}", stored.outcome).to_lowercase().as_str();
        "audit: {}", stored.target.as_deref().unwrap_or("")
    );
    Ok(id)
}

/// Verifies the chain of `store` under `key` (the CLI, with the daemon stopped).
pub async fn verify_store(
    store: &store::Store,
    key: &crate::keys::Key,
) -> Result<Verification, StoreError> {
    let key = std::sync::Arc::new(crate::keys::Key::new(*key.expose()));
    store.read(move |rtx| verify::verify_in(rtx, Some(&key))).await
}

/// Appends an entry in its own transaction.
pub async fn record(store: &store::Store, entry: NewEntry) -> Result<u64, StoreError> {
    store.write(move |wtx| record_in(wtx, entry)).await
}

/// Entries matching `filter`, newest first, with the number of matches.
pub async fn list(
    store: &store::Store,
    filter: Filter,
    limit: usize,
    offset: usize,
) -> Result<(Vec<Entry>, u64), StoreError> {
    store
        .read(move |rtx| {
            let table = rtx.open_table(ENTRIES)?;
            let unfiltered =
                filter.actor.is_none() && filter.action.is_none() && filter.outcome.is_none();
            let mut items = Vec::new();
            let mut total = 0u64;
            for row in table.iter()?.rev() {
                let (_, v) = row?;
                if !unfiltered || (total as usize >= offset && items.len() < limit) {
                    let entry = decode_entry(v.value())?;
                    if !matches(&filter, &entry) {
                        continue;
                    }
                    if total as usize >= offset && items.len() < limit {
                        items.push(entry);
                    }
                } else if unfiltered && items.len() >= limit {
                    // Nothing more to collect: the total is the table length.
                    return Ok((items, table.len()?));
                }
                total += 1;
            }
            Ok((items, total))
        })
        .await
}

/// Number of entries.
pub async fn count(store: &store::Store) -> Result<u64, StoreError> {
    store.read(|rtx| Ok(rtx.open_table(ENTRIES)?.len()?)).await
}

fn matches(filter: &Filter, e: &Entry) -> bool {
    filter.actor.as_ref().is_none_or(|a| e.actor.eq_ignore_ascii_case(a))
        && filter
            .action
            .as_ref()
            .is_none_or(|a| e.action == *a || e.action.starts_with(&format!("{a}.")))
        && filter.outcome.is_none_or(|o| e.outcome == o)
}

fn decode_id(bytes: &[u8]) -> u64 {
    u64::from_be_bytes(bytes.try_into().expect("audit keys are written as 8 bytes"))
}

#[cfg(test)]
mod tests;
