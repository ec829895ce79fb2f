//! The view of an audit line (`/api/v1/audit`).

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
