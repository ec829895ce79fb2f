//! The closed sets of words a Business action is named and tracked by: what to do
//! ([`Action`]) and where it stands ([`State`]). Each is a stable code, the same word in the
//! stored action, the API and the page, by design (like `alerts::AlertKind`): a new word is a
//! new variant, never a renamed one.

use serde::{Deserialize, Serialize};

/// What to do at Apple Business.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Assign to one of our MDM servers (`ASSIGN_DEVICES`).
    Assign,
    /// Unassign from one of our MDM servers (`UNASSIGN_DEVICES`).
    Unassign,
    /// Schedule a migration to one of our servers (`ASSIGN_DEVICES_WITH_MDM_MIGRATION_DEADLINE`).
    Migrate,
    /// Change a scheduled migration's deadline (`UPDATE_MDM_MIGRATION_DEADLINE`).
    ChangeDeadline,
    /// Cancel a scheduled migration (`CANCEL_MDM_MIGRATION`).
    CancelMigration,
    /// Release from the organisation, for good (`RELEASE_DEVICES`).
    Release,
}

/// Where an action stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Being sent to Apple.
    Sending,
    /// Apple refused it; nothing was applied.
    Rejected,
    /// Apple's answer was lost: it may or may not have been applied.
    Unknown,
    /// Apple took it and is working on it.
    InProgress,
    /// Apple finished it (see each serial's outcome).
    Finished,
}
