//! The admin module's tables and stored records.

use super::roles::Role;
use crate::ids::TokenId;
use crate::store::{self, Table};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use time::OffsetDateTime;

/// Lower-cased username → [`UserRecord`].
pub(super) const USERS: Table = store::table("admin.users");
/// SHA-256 of the session id → [`SessionRecord`]. The cookie holds the id; the store only
/// its hash, so a stolen backup cannot be replayed as a session.
pub(super) const SESSIONS: Table = store::table("admin.sessions");
/// Token id → [`ApiTokenRecord`].
pub(super) const API_TOKENS: Table = store::table("admin.api_tokens");
/// SHA-256 of the token → token id.
pub(super) const API_TOKEN_BY_HASH: Table = store::table("admin.api_token_by_hash");
/// This module's tables, all created when the store opens ([`crate::store::Store::open`]).
pub const TABLES: &[Table] = &[USERS, SESSIONS, API_TOKENS, API_TOKEN_BY_HASH];

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct UserRecord {
    pub username: String,
    pub password_hash: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub last_login_at: Option<OffsetDateTime>,
    /// Admins stored before roles existed have no role field: they were allowed everything,
    /// so they read back as Owners.
    #[serde(default = "owner")]
    pub role: Role,
    /// The server tokens this admin is limited to ([`super::Scope`]); None (every admin made
    /// before scopes existed) is unscoped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<BTreeSet<TokenId>>,
}

fn owner() -> Role {
    Role::Owner
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct SessionRecord {
    pub username: String,
    pub csrf_token: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    pub remote_addr: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct ApiTokenRecord {
    pub id: String,
    pub name: String,
    pub token_hash: String,
    pub created_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub last_used_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub revoked_at: Option<OffsetDateTime>,
    /// Tokens made before roles existed could do everything: they read back as Owner tokens.
    #[serde(default = "owner")]
    pub role: Role,
    /// The admin whose role bounds this token: it stops working when that admin is removed or
    /// no longer holds `role`. None for tokens the appliance made itself (sandbox, bench) and
    /// for tokens made before roles existed.
    #[serde(default)]
    pub owner_admin: Option<String>,
    /// The server tokens this API token is limited to, within its admin's scope; None is
    /// unscoped (bounded by the admin's scope alone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<BTreeSet<TokenId>>,
}

/// SHA-256 hex of a high-entropy secret (session id, API token): a fast hash is enough
/// because the input has 256 bits of entropy.
pub(super) fn secret_hash(secret: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The key of an admin in [`USERS`]: usernames compare case-insensitively.
pub(super) fn user_key(username: &str) -> Vec<u8> {
    username.to_ascii_lowercase().into_bytes()
}
