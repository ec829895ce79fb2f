//! Verification of the audit chain: walks the entries from the chain's origin, recomputes
//! every MAC and reports the first broken link, saying what is wrong there (an edited entry, a
//! gap where entries were deleted, an entry that holds another's place, one with no MAC).
//!
//! What it cannot see on its own: the newest entries deleted all together leave a shorter but
//! valid chain. The head anchored in the journal ([`super::AuditLog::anchor`]) is what shows
//! that: a verified head older than one the journal recorded means entries were cut off.

use super::chain::{self, Origin, OriginKind};
use crate::keys::Key;
use crate::store::StoreError;
use redb::ReadableTable;
use std::fmt;

/// What is wrong at the first broken link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// The entry's bytes (or its MAC) changed after it was written.
    Edited,
    /// Entries from the broken link's sequence number to `last` are gone.
    Missing { last: u64 },
    /// The entry in this place carries the sequence number `holds`: entries were moved.
    Reordered { holds: u64 },
    /// The entry has no MAC: inserted, or written without the key loaded.
    Unsealed,
    /// An entry at or before the chain's start, where none can be: inserted.
    BeforeStart,
    /// The chain's start (checkpoint) was changed.
    StartEdited,
    /// The audit key is not the one the chain was made with.
    WrongKey,
}

impl Problem {
    /// A stable code for scripts.
    pub fn code(&self) -> &'static str {
        match self {
            Problem::Edited => "edited",
            Problem::Missing { .. } => "missing",
            Problem::Reordered { .. } => "reordered",
            Problem::Unsealed => "unsealed",
            Problem::BeforeStart => "inserted",
            Problem::StartEdited => "start_edited",
            Problem::WrongKey => "wrong_key",
        }
    }
}

/// The first broken link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Break {
    pub seq: u64,
    pub problem: Problem,
    /// Entries that verified before it.
    pub verified: u64,
}

impl fmt::Display for Break {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seq = self.seq;
        write!(f, "chain broken at #{seq}: ")?;
        match &self.problem {
            Problem::Edited => {
                write!(f, "entry #{seq} was edited (its MAC does not match its content)")
            }
            Problem::Missing { last } if *last == seq => {
                write!(f, "entry #{seq} is missing (deleted)")
            }
            Problem::Missing { last } => write!(f, "entries #{seq}–#{last} are missing (deleted)"),
            Problem::Reordered { holds } => {
                write!(f, "entries were reordered (the place of #{seq} holds entry #{holds})")
            }
            Problem::Unsealed => write!(
                f,
                "entry #{seq} has no MAC (inserted, or written by a process that had not loaded the audit key)"
            ),
            Problem::BeforeStart => {
                write!(f, "entry #{seq} lies before the chain's start (inserted)")
            }
            Problem::StartEdited => {
                write!(f, "the chain's start (its checkpoint after #{seq}) was edited")
            }
            Problem::WrongKey => write!(
                f,
                "the audit key (keys/audit.key in the data directory) is not the one this chain was made with; restore the key folder from the backup made with this store"
            ),
        }?;
        match self.verified {
            1 => write!(f, "; 1 entry before it verifies"),
            n => write!(f, "; {n} entries before it verify"),
        }
    }
}

/// The outcome of a verification.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// Every entry from the origin on verifies; `first`/`last` are `None` with no entries.
    Verifies {
        entries: u64,
        first: Option<u64>,
        last: Option<u64>,
    },
    Broken(Break),
    /// The chain has not started: this version of adebox has not run on the store yet.
    NotStarted {
        entries: u64,
    },
    /// The audit key is not loaded in this process (a defect: see `audit::start`).
    KeyNotLoaded,
}

/// A verification with the origin it started from.
#[derive(Clone, Debug, PartialEq)]
pub struct Verification {
    pub origin: Option<Origin>,
    pub verdict: Verdict,
    /// The head MAC at the last verified entry (the origin's with no entries).
    pub head: Option<String>,
}

impl Verification {
    pub fn verifies(&self) -> bool {
        matches!(self.verdict, Verdict::Verifies { .. })
    }

    /// The report of `adebox admin verify-audit`: the verdict, then the head and the start.
    pub fn report(&self) -> String {
        let mut lines = vec![self.verdict.to_string()];
        if let (Verdict::Verifies { last: Some(last), .. }, Some(head)) =
            (&self.verdict, &self.head)
        {
            lines.push(format!(
                "head: #{last} {head} (compare with the last \"audit chain head\" line in the journal)"
            ));
        }
        if let Some(o) = &self.origin {
            if o.kind == OriginKind::Checkpoint {
                lines.push(format!(
                    "starts at the checkpoint of #{}, taken when older entries were pruned on {}",
                    o.seq,
                    rfc3339(o.at)
                ));
            }
            if let (Some(span), Some(at)) = (o.upgraded, o.upgraded_at) {
                lines.push(format!(
                    "entries #{}–#{} were written before the audit chain existed and were chained at upgrade on {}: their content before then is not vouched for",
                    span.first,
                    span.last,
                    rfc3339(at)
                ));
            }
        }
        lines.join("\n")
    }
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Verifies { entries, first: Some(a), last: Some(b) } => {
                write!(f, "chain verifies: {entries} entries from #{a} to #{b}")
            }
            Verdict::Verifies { .. } => write!(f, "chain verifies: no entries since its start"),
            Verdict::Broken(b) => b.fmt(f),
            Verdict::NotStarted { entries } => write!(
                f,
                "the audit chain has not started: {entries} entries wait to be chained when the daemon next starts"
            ),
            Verdict::KeyNotLoaded => write!(f, "cannot verify: the audit key is not loaded"),
        }
    }
}

/// A table of the store, read inside a read or a write transaction.
pub(super) trait Readable: ReadableTable<&'static [u8], &'static [u8]> {}
impl<T: ReadableTable<&'static [u8], &'static [u8]>> Readable for T {}

/// Walks the chain (up to and including `upto`, or all of it) and returns the verdict.
pub(super) fn walk(
    entries: &impl Readable,
    macs: &impl Readable,
    chain_table: &impl Readable,
    key: &Key,
    upto: Option<u64>,
) -> Result<Verification, StoreError> {
    let Some(stored) = chain::checked_origin(chain_table, key)? else {
        let n = entries.iter()?.count() as u64;
        return Ok(Verification {
            origin: None,
            verdict: Verdict::NotStarted { entries: n },
            head: None,
        });
    };
    let origin = stored.origin;
    let broken = |seq, problem, verified| Verification {
        origin: Some(origin.clone()),
        verdict: Verdict::Broken(Break { seq, problem, verified }),
        head: None,
    };
    if !stored.key_ok {
        return Ok(broken(origin.seq, Problem::WrongKey, 0));
    }
    if !stored.mac_ok {
        return Ok(broken(origin.seq, Problem::StartEdited, 0));
    }
    let mut prev = hex::decode(&origin.prev).unwrap_or_default();
    let (mut expected, mut count, mut first, mut last) = (origin.seq + 1, 0u64, None, None);
    for row in entries.iter()? {
        let (k, v) = row?;
        let seq = super::decode_id(k.value());
        if upto.is_some_and(|u| seq > u) {
            break;
        }
        if seq < expected {
            return Ok(broken(seq, Problem::BeforeStart, count));
        }
        if seq > expected {
            return Ok(broken(expected, Problem::Missing { last: seq - 1 }, count));
        }
        let Some(mac) = macs.get(k.value())? else {
            return Ok(broken(seq, Problem::Unsealed, count));
        };
        let mac = mac.value().to_vec();
        if !chain::same_mac(&mac, &chain::entry_mac(key, seq, v.value(), &prev)) {
            let problem = match held_id(v.value()) {
                Some(holds) if holds != seq => Problem::Reordered { holds },
                _ => Problem::Edited,
            };
            return Ok(broken(seq, problem, count));
        }
        (prev, expected, count) = (mac, seq + 1, count + 1);
        first = first.or(Some(seq));
        last = Some(seq);
    }
    // An entry deleted at the very end with its MAC left behind.
    if upto.is_none()
        && let Some((k, _)) = macs.last()?
        && super::decode_id(k.value()) >= expected
    {
        return Ok(broken(expected, Problem::Missing { last: super::decode_id(k.value()) }, count));
    }
    Ok(Verification {
        origin: Some(origin),
        verdict: Verdict::Verifies { entries: count, first, last },
        head: Some(hex::encode(prev)),
    })
}

/// The sequence number an entry's own bytes name (entries carry their `id`).
fn held_id(value: &[u8]) -> Option<u64> {
    #[derive(serde::Deserialize)]
    struct Id {
        id: u64,
    }
    serde_json::from_slice::<Id>(value).ok().map(|i| i.id)
}

/// Verifies the whole chain of the store's read transaction.
pub(super) fn verify_in(
    rtx: &redb::ReadTransaction,
    key: Option<&Key>,
) -> Result<Verification, StoreError> {
    let entries = rtx.open_table(super::ENTRIES)?;
    let macs = rtx.open_table(chain::MACS)?;
    let chain_table = rtx.open_table(chain::CHAIN)?;
    let registered;
    let key: &Key = match key {
        Some(k) => k,
        None => {
            let Some(origin) = chain::origin_of(&chain_table)? else {
                let n = entries.iter()?.count() as u64;
                return Ok(Verification {
                    origin: None,
                    verdict: Verdict::NotStarted { entries: n },
                    head: None,
                });
            };
            registered = match chain::key_of(&origin.chain) {
                Some(k) => k,
                None => {
                    return Ok(Verification {
                        origin: Some(origin),
                        verdict: Verdict::KeyNotLoaded,
                        head: None,
                    });
                }
            };
            &registered
        }
    };
    walk(&entries, &macs, &chain_table, key, None)
}
