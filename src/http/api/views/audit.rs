//! The views of the audit log: a line (`/api/v1/audit`), an exported line with its MAC
//! (`/api/v1/audit/export`) and the chain's verification (`/api/v1/audit/verify`).

use crate::audit::Outcome;
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;

/// One audit line as stored and as the API returns it.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct Entry {
    pub id: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    #[schema(value_type = String, example = "success")]
    pub outcome: Outcome,
    pub remote_addr: Option<String>,
    pub detail: Option<String>,
}

impl From<&crate::audit::Entry> for Entry {
    fn from(r: &crate::audit::Entry) -> Entry {
        Entry {
            id: r.id,
            at: r.at,
            actor: r.actor.clone(),
            action: r.action.clone(),
            target: r.target.clone(),
            outcome: r.outcome,
            remote_addr: r.remote_addr.clone(),
            detail: r.detail.clone(),
        }
    }
}

/// One line of the JSON-lines export (`/api/v1/audit/export`): the entry, whose `id` is its
/// sequence number in the chain, with the MAC that chains it (hex; absent for an entry the
/// chain does not cover).
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct ExportLine {
    #[serde(flatten)]
    pub entry: Entry,
    pub mac: Option<String>,
}

impl From<&crate::audit::Sealed> for ExportLine {
    fn from(s: &crate::audit::Sealed) -> ExportLine {
        ExportLine { entry: Entry::from(&s.entry), mac: s.mac.clone() }
    }
}

/// Whether the audit chain verifies (`/api/v1/audit/verify`).
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct AuditVerification {
    /// `verifies`, `broken`, `not_started` or `key_not_loaded`.
    pub status: &'static str,
    /// The report in words, as `adebox admin verify-audit` prints it.
    pub message: String,
    /// Entries that verified (before the break, when broken).
    pub entries: u64,
    pub first_seq: Option<u64>,
    pub last_seq: Option<u64>,
    /// The head MAC (hex) at `last_seq`, to compare with the journal's anchors.
    pub head_mac: Option<String>,
    pub broken: Option<AuditBreak>,
    pub start: Option<AuditChainStart>,
}

/// The first broken link.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct AuditBreak {
    pub seq: u64,
    /// `edited`, `missing`, `reordered`, `unsealed`, `inserted`, `start_edited`, `wrong_key`.
    pub problem: &'static str,
    /// For `missing`: the last missing sequence number.
    pub missing_to: Option<u64>,
    /// For `reordered`: the sequence number the entry in this place carries.
    pub holds: Option<u64>,
}

/// Where verification starts.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct AuditChainStart {
    /// `new`, `upgrade` or `checkpoint`.
    pub kind: &'static str,
    /// The link before the first entry the chain covers (the last pruned one at a checkpoint).
    pub seq: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The entries chained at upgrade, whose content before then is not vouched for.
    pub upgraded_first: Option<u64>,
    pub upgraded_last: Option<u64>,
}

impl From<&crate::audit::Verification> for AuditVerification {
    fn from(v: &crate::audit::Verification) -> AuditVerification {
        use crate::audit::{OriginKind, Problem, Verdict};
        let (status, entries, first_seq, last_seq, broken) = match &v.verdict {
            Verdict::Verifies { entries, first, last } => {
                ("verifies", *entries, *first, *last, None)
            }
            Verdict::Broken(b) => {
                let (missing_to, holds) = match b.problem {
                    Problem::Missing { last } => (Some(last), None),
                    Problem::Reordered { holds } => (None, Some(holds)),
                    _ => (None, None),
                };
                let brk = AuditBreak { seq: b.seq, problem: b.problem.code(), missing_to, holds };
                ("broken", b.verified, None, None, Some(brk))
            }
            Verdict::NotStarted { entries } => ("not_started", *entries, None, None, None),
            Verdict::KeyNotLoaded => ("key_not_loaded", 0, None, None, None),
        };
        let start = v.origin.as_ref().map(|o| AuditChainStart {
            kind: match o.kind {
                OriginKind::New => "new",
                OriginKind::Upgrade => "upgrade",
                OriginKind::Checkpoint => "checkpoint",
            },
            seq: o.seq,
            at: o.at,
            upgraded_first: o.upgraded.map(|s| s.first),
            upgraded_last: o.upgraded.map(|s| s.last),
        });
        AuditVerification {
            status,
            message: v.report(),
            entries,
            first_seq,
            last_seq,
            head_mac: v.head.clone().filter(|_| status == "verifies"),
            broken,
            start,
        }
    }
}
