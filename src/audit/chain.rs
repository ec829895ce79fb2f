//! The chain that makes the audit log tamper-evident.
//!
//! Every entry gets a MAC (HMAC-SHA256 under the audit key, [`crate::keys::KeyName::Audit`],
//! kept outside the store) over its sequence number, its stored bytes exactly as written and
//! the MAC of the entry before it. Editing, deleting, inserting or reordering entries in the
//! store file breaks the chain at that entry, and nobody without the key can mend it. The
//! chain's start (its *origin*) is a record MACed with the same key: a new chain starts at
//! sequence 0, an older store's entries are chained when this version first opens it (the
//! origin says which entries were chained at upgrade, and an `audit.chain_start` entry says so
//! in the log), and pruning moves the origin to a checkpoint, the sequence number and MAC of
//! the last pruned entry, so verification starts there ([`super::prune`]).
//!
//! The stored bytes are MACed rather than a re-encoding of the entry, so a later version that
//! gives entries a new field still verifies what an older one wrote.
//!
//! Owns the tables `audit.macs` (big-endian sequence number → 32-byte MAC) and `audit.chain`
//! (`origin` → origin MAC followed by the origin as JSON).
//!
//! Why the key is looked up by the chain's id: other modules add their audit entry inside
//! their own write transaction ([`super::record_in`]), and a redb transaction cannot carry the
//! key to it. [`start`] loads the key and registers it under the id stored in the origin; a
//! process that writes to a store without having started its chain (a unit test's scratch
//! store) writes unchained entries, as adebox did before the chain, and its next start chains
//! them.

use crate::keys::{self, Key, KeyError, KeyName};
use crate::store::{self, Store, StoreError, Table};
use hmac::{Hmac, KeyInit, Mac};
use redb::{ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, LazyLock, RwLock};
use time::OffsetDateTime;

pub(super) const MACS: Table = store::table("audit.macs");
pub(super) const CHAIN: Table = store::table("audit.chain");
const ORIGIN: &[u8] = b"origin";

/// Length of a MAC (HMAC-SHA256).
pub const MAC_LEN: usize = 32;
pub type MacBytes = [u8; MAC_LEN];

// Domain separation: an entry's MAC can never pass for an origin's, or the key check's.
const ENTRY_DOMAIN: &[u8] = b"adebox-audit-entry-v1\0";
const ORIGIN_DOMAIN: &[u8] = b"adebox-audit-origin-v1\0";
const KEY_CHECK_DOMAIN: &[u8] = b"adebox-audit-key-check-v1\0";

/// How the chain began where verification starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OriginKind {
    /// A store that had no entries when the chain started.
    New,
    /// Entries written before the chain were chained when this version first opened the store.
    Upgrade,
    /// Entries up to `seq` were pruned; the chain goes on from the last one's MAC.
    Checkpoint,
}

/// A span of sequence numbers, both ends included.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub first: u64,
    pub last: u64,
}

/// Where verification starts. Stored MACed, so it cannot be moved without the key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Origin {
    /// The chain's id (not secret): names the key in this process's registry.
    pub chain: String,
    pub kind: OriginKind,
    /// The link before the first entry this origin vouches for: 0, the entry before the first
    /// chained at upgrade, or the last pruned entry.
    pub seq: u64,
    /// Hex MAC that entry `seq + 1` chains onto (the last pruned entry's MAC at a checkpoint).
    pub prev: String,
    /// When the chain started or the checkpoint was taken.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The entries chained at upgrade, kept through checkpoints: their content before the
    /// upgrade is not vouched for.
    pub upgraded: Option<Span>,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub upgraded_at: Option<OffsetDateTime>,
    /// A MAC of a fixed text, telling "wrong key" apart from "edited origin".
    pub key_check: String,
}

/// The origin as stored, with whether its MAC holds under `key`.
pub(super) struct StoredOrigin {
    pub origin: Origin,
    pub mac_ok: bool,
    pub key_ok: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What starting the chain did.
#[derive(Clone, Debug, PartialEq)]
pub struct Started {
    pub chain: String,
    /// Entries of an older store chained now.
    pub upgraded: Option<Span>,
    /// False when the key file is not the one the chain was made with.
    pub key_matches: bool,
}

static KEYS: LazyLock<RwLock<HashMap<String, Arc<Key>>>> = LazyLock::new(Default::default);

fn register(chain: &str, key: Arc<Key>) {
    KEYS.write().unwrap_or_else(|e| e.into_inner()).insert(chain.to_string(), key);
}

pub(super) fn key_of(chain: &str) -> Option<Arc<Key>> {
    KEYS.read().unwrap_or_else(|e| e.into_inner()).get(chain).cloned()
}

fn keyed(key: &Key) -> Hmac<Sha256> {
    <Hmac<Sha256> as KeyInit>::new_from_slice(key.expose()).expect("HMAC takes a key of any size")
}

/// The MAC of entry `seq` whose stored bytes are `value`, chained onto `prev`.
pub(super) fn entry_mac(key: &Key, seq: u64, value: &[u8], prev: &[u8]) -> MacBytes {
    let mut m = keyed(key);
    m.update(ENTRY_DOMAIN);
    m.update(&seq.to_be_bytes());
    m.update(&(value.len() as u64).to_be_bytes());
    m.update(value);
    m.update(prev);
    m.finalize().into_bytes().into()
}

fn origin_mac(key: &Key, body: &[u8]) -> MacBytes {
    let mut m = keyed(key);
    m.update(ORIGIN_DOMAIN);
    m.update(body);
    m.finalize().into_bytes().into()
}

fn key_check(key: &Key) -> String {
    let mut m = keyed(key);
    m.update(KEY_CHECK_DOMAIN);
    hex::encode(m.finalize().into_bytes())
}

/// Compares two MACs in constant time.
pub(super) fn same_mac(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.ct_eq(b).into()
}

fn decode_origin(bytes: &[u8]) -> Result<(MacBytes, &[u8], Origin), StoreError> {
    let bad = |detail: String| StoreError::Decode { table: "audit.chain".into(), detail };
    if bytes.len() < MAC_LEN {
        return Err(bad("the origin is shorter than its MAC".into()));
    }
    let (mac, body) = bytes.split_at(MAC_LEN);
    let origin = store::decode("audit.chain", body)?;
    Ok((mac.try_into().expect("split at MAC_LEN"), body, origin))
}

/// The chain's origin, unchecked; `None` while the chain has not started.
pub(super) fn origin_of(
    chain: &impl ReadableTable<&'static [u8], &'static [u8]>,
) -> Result<Option<Origin>, StoreError> {
    match chain.get(ORIGIN)? {
        Some(v) => Ok(Some(decode_origin(v.value())?.2)),
        None => Ok(None),
    }
}

/// The chain's origin, checked under `key`.
pub(super) fn checked_origin(
    chain: &impl ReadableTable<&'static [u8], &'static [u8]>,
    key: &Key,
) -> Result<Option<StoredOrigin>, StoreError> {
    let Some(v) = chain.get(ORIGIN)? else { return Ok(None) };
    let (mac, body, origin) = decode_origin(v.value())?;
    let mac_ok = same_mac(&mac, &origin_mac(key, body));
    let key_ok = origin.key_check == key_check(key);
    Ok(Some(StoredOrigin { origin, mac_ok, key_ok }))
}

pub(super) fn put_origin(
    wtx: &WriteTransaction,
    key: &Key,
    origin: &Origin,
) -> Result<(), StoreError> {
    let body = store::encode(origin);
    let mut value = origin_mac(key, &body).to_vec();
    value.extend_from_slice(&body);
    wtx.open_table(CHAIN)?.insert(ORIGIN, value.as_slice())?;
    Ok(())
}

/// Chains entry `seq`, just written as `value`, onto the one before it. Called by
/// [`super::record_in`] in the caller's transaction, so the entry and its MAC commit together.
pub(super) fn seal_in(wtx: &WriteTransaction, seq: u64, value: &[u8]) -> Result<(), StoreError> {
    let Some(origin) = origin_of(&wtx.open_table(CHAIN)?)? else {
        return Ok(()); // no chain yet: the next start chains it with the others
    };
    let Some(key) = key_of(&origin.chain) else {
        // A wiring defect, not an attack: the entry is kept (the action it audits happened)
        // and verification shows it as unsealed.
        log::error!(
            seq = seq;
            "audit entry #{seq} was written without its MAC: this process has not loaded the audit key (audit::start)"
        );
        return Ok(());
    };
    let mut macs = wtx.open_table(MACS)?;
    let prev = match macs.last()? {
        Some((k, v)) if super::decode_id(k.value()) > origin.seq => v.value().to_vec(),
        _ => hex::decode(&origin.prev).map_err(|e| StoreError::Decode {
            table: "audit.chain".into(),
            detail: format!("origin MAC: {e}"),
        })?,
    };
    let mac = entry_mac(&key, seq, value, &prev);
    macs.insert(seq.to_be_bytes().as_slice(), mac.as_slice())?;
    Ok(())
}

/// Loads the audit key of `data_dir` (creating it on first use) and starts the chain of
/// `store`: on a store that has none yet, its existing entries are chained now (an upgrade).
/// Run once by whatever opens the store for writing (the daemon, `adebox admin` commands that
/// write with the daemon stopped) before any entry is recorded. Blocking.
pub fn start(store: &Store, data_dir: &Path, now: OffsetDateTime) -> Result<Started, AuditError> {
    let key = Arc::new(keys::load_or_create(data_dir, KeyName::Audit)?);
    let started = store.write_blocking(move |wtx| start_in(wtx, key, now))?;
    if let Some(span) = started.upgraded {
        log::warn!(
            first = span.first, last = span.last;
            "audit: chained entries #{}–#{} written before the audit chain existed; verification vouches for them only from now on",
            span.first, span.last
        );
    }
    if !started.key_matches {
        log::error!(
            path = KeyName::Audit.path(data_dir).display().to_string().as_str();
            "audit: the audit key is not the one this store's chain was made with, so the chain cannot verify; restore the key folder from the backup made with this store"
        );
    }
    Ok(started)
}

pub(super) fn start_in(
    wtx: &WriteTransaction,
    key: Arc<Key>,
    now: OffsetDateTime,
) -> Result<Started, StoreError> {
    if let Some(stored) = checked_origin(&wtx.open_table(CHAIN)?, &key)? {
        register(&stored.origin.chain, key);
        return Ok(Started {
            chain: stored.origin.chain,
            upgraded: None,
            key_matches: stored.key_ok,
        });
    }
    let chain = hex::encode(crate::crypto::random_bytes::<16>());
    let (first, last) = {
        let entries = wtx.open_table(super::ENTRIES)?;
        let first = entries.first()?.map(|(k, _)| super::decode_id(k.value()));
        let last = entries.last()?.map(|(k, _)| super::decode_id(k.value()));
        (first, last)
    };
    let upgraded = first.zip(last).map(|(first, last)| Span { first, last });
    let origin = Origin {
        chain: chain.clone(),
        kind: if upgraded.is_some() { OriginKind::Upgrade } else { OriginKind::New },
        seq: first.map_or(0, |f| f - 1),
        prev: hex::encode([0u8; MAC_LEN]),
        at: now,
        upgraded,
        upgraded_at: upgraded.map(|_| now),
        key_check: key_check(&key),
    };
    put_origin(wtx, &key, &origin)?;
    if let Some(span) = upgraded {
        let entries = wtx.open_table(super::ENTRIES)?;
        let mut macs = wtx.open_table(MACS)?;
        macs.retain(|_, _| false)?; // left by nothing we know of; the chain starts clean
        let mut prev = [0u8; MAC_LEN];
        for row in entries.iter()? {
            let (k, v) = row?;
            prev = entry_mac(&key, super::decode_id(k.value()), v.value(), &prev);
            macs.insert(k.value(), prev.as_slice())?;
        }
        drop((entries, macs));
        register(&chain, key);
        record_system_in(
            wtx,
            now,
            super::Action::AuditChainStart,
            format!(
                "entries #{}–#{}, written before the audit chain existed, were chained at upgrade",
                span.first, span.last
            ),
        )?;
    } else {
        register(&chain, key);
    }
    Ok(Started { chain, upgraded, key_matches: true })
}

/// Records what the chain itself did, as the system.
pub(super) fn record_system_in(
    wtx: &WriteTransaction,
    now: OffsetDateTime,
    action: super::Action,
    detail: String,
) -> Result<u64, StoreError> {
    let entry = super::NewEntry::new(now, super::Actor::System, action, super::Outcome::Success);
    super::record_in(wtx, entry.detail(detail))
}

/// The chain's head: the last entry's sequence number and MAC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Head {
    pub chain: String,
    pub seq: u64,
    pub mac: String,
}

pub(super) fn head_in(rtx: &redb::ReadTransaction) -> Result<Option<Head>, StoreError> {
    let Some(origin) = origin_of(&rtx.open_table(CHAIN)?)? else { return Ok(None) };
    let macs = rtx.open_table(MACS)?;
    let (seq, mac) = match macs.last()? {
        Some((k, v)) => (super::decode_id(k.value()), hex::encode(v.value())),
        None => (origin.seq, origin.prev.clone()),
    };
    Ok(Some(Head { chain: origin.chain, seq, mac }))
}
