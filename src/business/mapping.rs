//! Which of our server tokens is which Apple Business MDM server.
//!
//! The server uuid the DEP API reports (`GET /account` `server_uuid`) is compared with the
//! Business `mdmServers` id, ignoring case and dashes (Apple shows the one as a UUID and the
//! other as 32 hex digits; apple-2026.md §8.6 marks their equality UNCERTAIN). Where they
//! differ the admin maps a token once; that choice is stored in `business.server_map` (token
//! id → MDM server id) and wins over the uuid. A name is never used to match: two servers may
//! share one, and a rename would move devices between them.

use crate::audit::{Action, Actor, NewEntry, Outcome};
use crate::business::wire::MdmServerAttributes;
use crate::ids::TokenId;
use crate::store::{self, Store, StoreError, Table};
use crate::tokens::TokenView;
use serde::Serialize;
use std::collections::BTreeMap;

/// Token id → the Apple Business MDM server id the admin chose for it.
pub(super) const SERVER_MAP: Table = store::table("business.server_map");

/// How a token was found to be a server.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    /// The DEP server uuid equals the Business MDM server id.
    ServerUuid,
    /// The admin mapped it.
    Admin,
}

/// An Apple Business MDM server and, when it is ours, our token.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ServerLink {
    pub mdm_server_id: String,
    pub server_name: Option<String>,
    pub server_type: Option<String>,
    pub device_count: Option<u64>,
    pub token: Option<TokenId>,
    /// Our token's server name, when ours.
    pub token_name: Option<String>,
    pub matched_by: Option<MatchedBy>,
}

fn same_id(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.chars().filter(|c| *c != '-').collect::<String>().to_ascii_uppercase();
    norm(a) == norm(b)
}

/// Links each server to our token: the admin's mapping first, then the server uuid.
pub fn link(
    servers: &[(String, MdmServerAttributes)],
    tokens: &[TokenView],
    mapped: &BTreeMap<String, String>,
) -> Vec<ServerLink> {
    servers
        .iter()
        .map(|(id, a)| {
            let by_admin = mapped
                .iter()
                .find(|(_, server)| *server == id)
                .and_then(|(token, _)| tokens.iter().find(|t| t.id.as_str() == token));
            // A token the admin mapped elsewhere is not matched by its uuid as well.
            let by_uuid = || {
                tokens
                    .iter()
                    .find(|t| same_id(&t.server_uuid, id) && !mapped.contains_key(t.id.as_str()))
            };
            let (token, how) = match by_admin {
                Some(t) => (Some(t), Some(MatchedBy::Admin)),
                None => match by_uuid() {
                    Some(t) => (Some(t), Some(MatchedBy::ServerUuid)),
                    None => (None, None),
                },
            };
            ServerLink {
                mdm_server_id: id.clone(),
                server_name: a.server_name.clone(),
                server_type: a.server_type.clone(),
                device_count: a.device_count,
                token: token.map(|t| t.id.clone()),
                token_name: token.map(|t| t.server_name.clone()),
                matched_by: how,
            }
        })
        .collect()
}

/// The admin's mappings: token id → MDM server id.
pub async fn stored(store: &Store) -> Result<BTreeMap<String, String>, StoreError> {
    store
        .read(|tx| {
            let t = tx.open_table(SERVER_MAP)?;
            let mut out = BTreeMap::new();
            for row in redb::ReadableTable::iter(&t)? {
                let (k, _) = row?;
                let key = String::from_utf8_lossy(k.value()).into_owned();
                if let Some(v) = store::get::<String, _>(&t, k.value())? {
                    out.insert(key, v);
                }
            }
            Ok(out)
        })
        .await
}

/// Stores (or, with None, forgets) the admin's mapping of `token`, audited.
pub async fn store(
    store: &Store,
    now: time::OffsetDateTime,
    actor: Actor,
    token: TokenId,
    token_name: &str,
    mdm_server_id: Option<String>,
) -> Result<(), StoreError> {
    let detail = match &mdm_server_id {
        Some(id) => format!("{token_name} ({token}) is Apple Business MDM server {id}"),
        None => format!("mapping of {token_name} ({token}) forgotten; matched by server uuid"),
    };
    let entry = NewEntry::new(now, actor, Action::BusinessServerMap, Outcome::Success)
        .target(token.to_string())
        .detail(detail);
    store
        .write(move |tx| {
            {
                let mut t = tx.open_table(SERVER_MAP)?;
                match &mdm_server_id {
                    Some(id) => store::put(&mut t, token.as_str().as_bytes(), id)?,
                    None => {
                        t.remove(token.as_str().as_bytes())?;
                    }
                }
            }
            crate::audit::record_in(tx, entry)?;
            Ok(())
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_match_ignoring_case_and_dashes_never_by_name() {
        assert!(same_id(
            "6f1a2b3c-4d5e-6f70-8192-a3b4c5d6e7f8",
            "6F1A2B3C4D5E6F708192A3B4C5D6E7F8"
        ));
        assert!(!same_id("6f1a2b3c-4d5e", "6f1a2b3c-4d5f"));
    }
}
