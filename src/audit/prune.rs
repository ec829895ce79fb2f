//! Retention of the audit log: entries older than the retention are deleted, and the chain
//! keeps a checkpoint (the last pruned entry's sequence number and MAC, in the MACed origin)
//! so verification starts there. A span that does not verify is kept: pruning it would erase
//! the evidence.

use super::chain::{self, CHAIN, MACS, Origin, OriginKind, Span};
use super::verify::{self, Verdict};
use crate::store::StoreError;
use redb::{ReadableTable, WriteTransaction};
use time::OffsetDateTime;

/// What a pruning pass did.
#[derive(Clone, Debug, PartialEq)]
pub enum Pruned {
    /// Nothing was old enough.
    Nothing,
    /// Entries of this span were deleted; the checkpoint is the last one's.
    Span(Span),
    /// Nothing was deleted: the span due for pruning does not verify, and pruning it would
    /// erase the evidence.
    Held(verify::Break),
}

/// Deletes entries older than `cutoff` and keeps a checkpoint (the last pruned entry's
/// sequence number and MAC, in the MACed origin) so verification starts there. A span that
/// does not verify is kept, with an error in the journal, until an admin has looked at it.
pub(super) fn prune_in(
    wtx: &WriteTransaction,
    now: OffsetDateTime,
    cutoff: OffsetDateTime,
) -> Result<Pruned, StoreError> {
    let last = {
        let entries = wtx.open_table(super::ENTRIES)?;
        let mut last = None;
        for row in entries.iter()? {
            let (k, v) = row?;
            let entry = super::decode_entry(v.value())?;
            if entry.at >= cutoff {
                break; // sequence numbers grow with time
            }
            last = Some(super::decode_id(k.value()));
        }
        match last {
            Some(last) => last,
            None => return Ok(Pruned::Nothing),
        }
    };
    let first = {
        let entries = wtx.open_table(super::ENTRIES)?;
        entries.first()?.map_or(last, |(k, _)| super::decode_id(k.value()))
    };
    let origin = chain::origin_of(&wtx.open_table(CHAIN)?)?;
    let checkpoint = match &origin {
        None => None, // no chain yet (a scratch store): plain retention
        Some(o) => {
            let Some(key) = chain::key_of(&o.chain) else {
                log::error!("audit entries were not pruned: the audit key is not loaded");
                return Ok(Pruned::Nothing);
            };
            let walked = verify::walk(
                &wtx.open_table(super::ENTRIES)?,
                &wtx.open_table(MACS)?,
                &wtx.open_table(CHAIN)?,
                &key,
                Some(last),
            )?;
            let mac = match walked.verdict {
                Verdict::Verifies { .. } => wtx
                    .open_table(MACS)?
                    .get(last.to_be_bytes().as_slice())?
                    .map(|v| hex::encode(v.value())),
                Verdict::Broken(b) => return Ok(Pruned::Held(b)),
                _ => None,
            };
            mac.map(|prev| {
                (
                    key,
                    Origin {
                        kind: OriginKind::Checkpoint,
                        seq: last,
                        prev,
                        at: now,
                        key_check: o.key_check.clone(),
                        ..o.clone()
                    },
                )
            })
        }
    };
    {
        let mut entries = wtx.open_table(super::ENTRIES)?;
        let mut macs = wtx.open_table(MACS)?;
        let end = (last + 1).to_be_bytes();
        entries.retain_in(..end.as_slice(), |_, _| false)?;
        macs.retain_in(..end.as_slice(), |_, _| false)?;
    }
    if let Some((key, checkpoint)) = checkpoint {
        chain::put_origin(wtx, &key, &checkpoint)?;
        chain::record_system_in(
            wtx,
            now,
            super::Action::AuditPrune,
            format!(
                "pruned entries #{first}–#{last} (older than the retention); verification starts at the checkpoint of #{last}"
            ),
        )?;
    }
    Ok(Pruned::Span(Span { first, last }))
}
