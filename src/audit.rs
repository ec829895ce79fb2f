//! The audit log: who did what, when, from where, with what outcome.
//!
//! Owns the table `audit.entries` (big-endian sequence number → [`Entry`]). Append-only but
//! for retention pruning. Other modules add their entry inside their own write transaction
//! with [`record_in`], so an action and its audit line commit together.
//!
//! No secret can reach it: actions are a closed enum, the other fields are identifiers and
//! plain words, and secrets are `crate::crypto::Secret`, which has no `Serialize` and prints
//! as `[redacted]`.

use crate::store::{self, StoreError, Table};
use redb::{ReadableTable, ReadableTableMetadata, WriteTransaction};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

const ENTRIES: Table = store::table("audit.entries");
/// This module's tables, all created when the store opens ([`crate::store::Store::open`]).
pub const TABLES: &[Table] = &[ENTRIES];

/// Who acted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    Admin(String),
    ApiToken(String),
    System,
    Cli,
    /// Someone not signed in (a failed login names the attempted user in `target`).
    Anonymous,
}

impl Actor {
    pub fn label(&self) -> String {
        match self {
            Actor::Admin(u) => u.clone(),
            Actor::ApiToken(name) => format!("api-token:{name}"),
            Actor::System => "system".into(),
            Actor::Cli => "cli".into(),
            Actor::Anonymous => "anonymous".into(),
        }
    }
}

/// What was done: every audited action, with its stable dotted code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    AdminSetup,
    AdminLogin,
    AdminLogout,
    AdminPasswordChange,
    AdminPasswordSetByCli,
    AdminUserCreate,
    AdminUserDelete,
    ApiTokenCreate,
    ApiTokenRevoke,
    TlsCustomInstall,
    TlsCustomRemove,
    TlsRenew,
    BackupCreate,
    TokenKeyCreate,
    TokenKeyDiscard,
    TokenAdd,
    TokenRenew,
    TokenDelete,
    SyncRequest,
    SyncSettingsChange,
    ProfileCreate,
    ProfileUpdate,
    ProfileDelete,
    ProfileDefaultSet,
    AssignmentRequest,
    AssignmentRemove,
    EnrollmentSettingsChange,
    PushRequestCreate,
    PushCertUpload,
    PushCertRenew,
    MdmCommand,
    MdmErase,
}

impl Action {
    pub const ALL: &'static [Action] = &[
        Action::AdminSetup,
        Action::AdminLogin,
        Action::AdminLogout,
        Action::AdminPasswordChange,
        Action::AdminPasswordSetByCli,
        Action::AdminUserCreate,
        Action::AdminUserDelete,
        Action::ApiTokenCreate,
        Action::ApiTokenRevoke,
        Action::TlsCustomInstall,
        Action::TlsCustomRemove,
        Action::TlsRenew,
        Action::BackupCreate,
        Action::TokenKeyCreate,
        Action::TokenKeyDiscard,
        Action::TokenAdd,
        Action::TokenRenew,
        Action::TokenDelete,
        Action::SyncRequest,
        Action::SyncSettingsChange,
        Action::ProfileCreate,
        Action::ProfileUpdate,
        Action::ProfileDelete,
        Action::ProfileDefaultSet,
        Action::AssignmentRequest,
        Action::AssignmentRemove,
        Action::EnrollmentSettingsChange,
        Action::PushRequestCreate,
        Action::PushCertUpload,
        Action::PushCertRenew,
        Action::MdmCommand,
        Action::MdmErase,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Action::AdminSetup => "admin.setup",
            Action::AdminLogin => "admin.login",
            Action::AdminLogout => "admin.logout",
            Action::AdminPasswordChange => "admin.password_change",
            Action::AdminPasswordSetByCli => "admin.password_set_cli",
            Action::AdminUserCreate => "admin.user_create",
            Action::AdminUserDelete => "admin.user_delete",
            Action::ApiTokenCreate => "admin.api_token_create",
            Action::ApiTokenRevoke => "admin.api_token_revoke",
            Action::TlsCustomInstall => "tls.custom_install",
            Action::TlsCustomRemove => "tls.custom_remove",
            Action::TlsRenew => "tls.renew",
            Action::BackupCreate => "store.backup",
            Action::TokenKeyCreate => "token.key_create",
            Action::TokenKeyDiscard => "token.key_discard",
            Action::TokenAdd => "token.add",
            Action::TokenRenew => "token.renew",
            Action::TokenDelete => "token.delete",
            Action::SyncRequest => "sync.request",
            Action::SyncSettingsChange => "sync.settings_change",
            Action::ProfileCreate => "profile.create",
            Action::ProfileUpdate => "profile.update",
            Action::ProfileDelete => "profile.delete",
            Action::ProfileDefaultSet => "profile.default_set",
            Action::AssignmentRequest => "assignment.request",
            Action::AssignmentRemove => "assignment.remove",
            Action::EnrollmentSettingsChange => "enrollment.settings_change",
            Action::PushRequestCreate => "push.request_create",
            Action::PushCertUpload => "push.certificate_upload",
            Action::PushCertRenew => "push.certificate_renew",
            Action::MdmCommand => "mdm.command",
            Action::MdmErase => "mdm.erase",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    Failure,
}

/// One audit line as stored and as the API returns it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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

/// The audit log as a service handle for the edges (they never see the store).
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

    /// Deletes entries older than `cutoff` (retention).
    pub async fn prune(&self, cutoff: OffsetDateTime) -> Result<u64, StoreError> {
        self.store.write(move |wtx| prune_in(wtx, cutoff)).await
    }
}

/// Appends an entry inside the caller's transaction; returns its id.
pub fn record_in(wtx: &WriteTransaction, entry: NewEntry) -> Result<u64, StoreError> {
    let mut table = wtx.open_table(ENTRIES)?;
    let id = match table.last()? {
        Some((k, _)) => decode_id(k.value()) + 1,
        None => 1,
    };
    let stored = Entry {
        id,
        at: entry.at,
        actor: entry.actor.label(),
        action: entry.action.code().to_string(),
        target: entry.target,
        outcome: entry.outcome,
        remote_addr: entry.remote_addr,
        detail: entry.detail,
    };
    store::put(&mut table, &id.to_be_bytes(), &stored)?;
    log::info!(
        action = stored.action.as_str(), actor = stored.actor.as_str(),
        outcome = format!("{:?}", stored.outcome).to_lowercase().as_str();
        "audit: {}", stored.target.as_deref().unwrap_or("")
    );
    Ok(id)
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
                    let entry: Entry = store::decode("audit.entries", v.value())?;
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

/// Deletes entries older than `cutoff`; returns how many. Retention keeps the log bounded.
pub fn prune_in(wtx: &WriteTransaction, cutoff: OffsetDateTime) -> Result<u64, StoreError> {
    let mut table = wtx.open_table(ENTRIES)?;
    let mut doomed = Vec::new();
    for row in table.iter()? {
        let (k, v) = row?;
        let entry: Entry = store::decode("audit.entries", v.value())?;
        if entry.at >= cutoff {
            break; // ids grow with time
        }
        doomed.push(k.value().to_vec());
    }
    for k in &doomed {
        table.remove(k.as_slice())?;
    }
    Ok(doomed.len() as u64)
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
mod tests {
    use super::*;
    use time::macros::datetime;

    #[tokio::test]
    async fn lists_newest_first_with_filters_and_totals() {
        let dir = tempfile::tempdir().unwrap();
        let store = store::Store::open(dir.path(), &[TABLES]).unwrap();
        let t0 = datetime!(2026-11-01 10:00 UTC);
        for i in 0..30 {
            let outcome = if i % 3 == 0 { Outcome::Failure } else { Outcome::Success };
            let actor = if i % 2 == 0 { Actor::Admin("alice".into()) } else { Actor::System };
            record(
                &store,
                NewEntry::new(t0 + time::Duration::minutes(i), actor, Action::AdminLogin, outcome)
                    .target(format!("t{i}")),
            )
            .await
            .unwrap();
        }
        let (items, total) = list(&store, Filter::default(), 5, 0).await.unwrap();
        assert_eq!(total, 30);
        assert_eq!(items[0].target.as_deref(), Some("t29"));
        let (items, total) = list(&store, Filter::default(), 5, 28).await.unwrap();
        assert_eq!((items.len(), total), (2, 30));

        let f = Filter {
            actor: Some("alice".into()),
            outcome: Some(Outcome::Failure),
            ..Default::default()
        };
        let (items, total) = list(&store, f, 100, 0).await.unwrap();
        assert_eq!(total, 5); // i = 0, 6, 12, 18, 24
        assert!(items.iter().all(|e| e.actor == "alice" && e.outcome == Outcome::Failure));

        let f = Filter { action: Some("admin".into()), ..Default::default() };
        assert_eq!(list(&store, f, 1, 0).await.unwrap().1, 30);

        let pruned =
            store.write(move |wtx| prune_in(wtx, t0 + time::Duration::minutes(10))).await.unwrap();
        assert_eq!(pruned, 10);
        assert_eq!(count(&store).await.unwrap(), 20);
    }

    #[test]
    fn every_action_has_a_distinct_dotted_code() {
        let mut codes: Vec<_> = Action::ALL.iter().map(|a| a.code()).collect();
        assert!(codes.iter().all(|c| c.contains('.')));
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), Action::ALL.len());
    }
}
