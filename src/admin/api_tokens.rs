//! API tokens for scripts: `Authorization: Bearer adbx_…`. Stored hashed; shown once.

use super::records::{API_TOKEN_BY_HASH, API_TOKENS, ApiTokenRecord, secret_hash};
use super::roles::{Permission, Role};
use super::scope::Scope;
use super::{Admin, AdminError, Principal};
use crate::audit::{self, Action, Actor, NewEntry, Outcome};
use crate::crypto::Secret;
use crate::ids::TokenId;
use crate::store::{self, StoreError};
use redb::ReadableTable;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use time::{Duration, OffsetDateTime};

/// Prefix that makes leaked tokens easy to recognise (secret scanners, logs review).
const PREFIX: &str = "adbx_";

/// An API token as listed (never the secret).
#[derive(Clone, Debug, Serialize)]
pub struct ApiTokenInfo {
    pub id: String,
    pub name: String,
    pub created_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
    pub role: Role,
    /// The admin whose role bounds the token (None: made by the appliance itself).
    pub owner_admin: Option<String>,
    /// The server token ids it is limited to (None: its admin's scope alone bounds it).
    pub scope: Option<BTreeSet<TokenId>>,
}

/// A freshly created token: the only time the secret is available.
#[derive(Debug)]
pub struct NewApiToken {
    pub info: ApiTokenInfo,
    pub token: Secret<String>,
}

fn info(r: ApiTokenRecord) -> ApiTokenInfo {
    ApiTokenInfo {
        id: r.id,
        name: r.name,
        created_by: r.created_by,
        created_at: r.created_at,
        last_used_at: r.last_used_at,
        revoked_at: r.revoked_at,
        role: r.role,
        owner_admin: r.owner_admin,
        scope: r.scope,
    }
}

/// How often `last_used_at` is written: a script polling every second must not turn every
/// request into a store write.
const LAST_USED_RESOLUTION: Duration = Duration::minutes(1);

fn last_use_cache() -> &'static Mutex<HashMap<String, OffsetDateTime>> {
    static CACHE: std::sync::OnceLock<Mutex<HashMap<String, OffsetDateTime>>> =
        std::sync::OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

impl Admin {
    /// An Owner token the appliance makes for itself (the sandbox's and the benchmarks'
    /// scripts); bound to no admin.
    pub async fn create_api_token(
        &self,
        actor: Actor,
        name: &str,
    ) -> Result<NewApiToken, AdminError> {
        self.insert_api_token(actor, name, Role::Owner, None, Scope::All).await
    }

    /// A token made by a signed-in admin (or by a token): its role and scope default to the
    /// creator's and may not be wider, and it stays bound to the creator's admin account.
    pub async fn create_api_token_for(
        &self,
        creator: &Principal,
        name: &str,
        role: Option<Role>,
        scope: Option<Scope>,
    ) -> Result<NewApiToken, AdminError> {
        let mine = creator.role();
        let role = role.unwrap_or(mine);
        if !role.within(mine) {
            let allowed: Vec<&str> =
                Role::ALL.into_iter().filter(|r| r.within(mine)).map(Role::code).collect();
            return Err(AdminError::Forbidden(format!(
                "a token's role cannot be wider than yours ({}); choose one of: {}",
                mine.title(),
                allowed.join(", ")
            )));
        }
        let scope = scope.unwrap_or_else(|| creator.scope().clone());
        if !scope.within(creator.scope()) {
            return Err(AdminError::Forbidden(
                "a token's scope cannot be wider than yours: choose only server tokens of your scope, or leave the scope out to give it yours".into(),
            ));
        }
        let owner = creator.admin().map(str::to_string);
        self.insert_api_token(creator.actor(), name, role, owner, scope).await
    }

    async fn insert_api_token(
        &self,
        actor: Actor,
        name: &str,
        role: Role,
        owner_admin: Option<String>,
        scope: Scope,
    ) -> Result<NewApiToken, AdminError> {
        let name = name.trim().to_string();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(AdminError::Validation {
                field: "name",
                message: "give the token a name of 1 to 100 characters saying what uses it".into(),
            });
        }
        let now = self.now();
        let token = format!("{PREFIX}{}", crate::crypto::random_token::<32>());
        let record = ApiTokenRecord {
            id: crate::crypto::random_token::<9>(),
            name,
            token_hash: secret_hash(&token),
            created_by: actor.label(),
            created_at: now,
            last_used_at: None,
            revoked_at: None,
            role,
            owner_admin,
            scope: scope.to_stored(),
        };
        let stored = record.clone();
        self.inner
            .store
            .write(move |wtx| {
                store::put(&mut wtx.open_table(API_TOKENS)?, stored.id.as_bytes(), &stored)?;
                wtx.open_table(API_TOKEN_BY_HASH)?
                    .insert(stored.token_hash.as_bytes(), stored.id.as_bytes())?;
                audit::record_in(
                    wtx,
                    NewEntry::new(now, actor, Action::ApiTokenCreate, Outcome::Success)
                        .target(format!("{} ({})", stored.name, stored.id))
                        .detail(format!(
                            "role {}, {}",
                            stored.role.title(),
                            super::members::describe(&Scope::from_stored(stored.scope.clone()))
                        )),
                )?;
                Ok::<_, AdminError>(())
            })
            .await?;
        Ok(NewApiToken { info: info(record), token: Secret::new(token) })
    }

    pub async fn list_api_tokens(&self) -> Result<Vec<ApiTokenInfo>, AdminError> {
        self.inner
            .store
            .read(|rtx| {
                let t = rtx.open_table(API_TOKENS)?;
                let mut out = Vec::new();
                for row in t.iter()? {
                    let (_, v) = row?;
                    out.push(info(store::decode("admin.api_tokens", v.value())?));
                }
                out.sort_by_key(|t: &ApiTokenInfo| std::cmp::Reverse(t.created_at));
                Ok(out)
            })
            .await
    }

    pub async fn count_active_api_tokens(&self) -> Result<u64, AdminError> {
        Ok(self.list_api_tokens().await?.iter().filter(|t| t.revoked_at.is_none()).count() as u64)
    }

    /// Revokes a token; it stays listed with its revocation time. Only an admin who may
    /// manage admins revokes someone else's token.
    pub async fn revoke_api_token(&self, by: &Principal, id: &str) -> Result<(), AdminError> {
        let now = self.now();
        let id = id.to_string();
        let actor = by.actor();
        let any = by.holds(Permission::AdminsManage);
        let me = by.admin().map(str::to_ascii_lowercase);
        self.inner
            .store
            .write(move |wtx| {
                let mut tokens = wtx.open_table(API_TOKENS)?;
                let Some(mut r): Option<ApiTokenRecord> = store::get(&tokens, id.as_bytes())?
                else {
                    return Err(AdminError::NotFound(format!("API token {id}")));
                };
                let own =
                    me.is_some() && r.owner_admin.as_ref().map(|o| o.to_ascii_lowercase()) == me;
                if !any && !own {
                    return Err(AdminError::Forbidden(
                        "only an Owner can revoke another admin's API token".into(),
                    ));
                }
                if r.revoked_at.is_some() {
                    return Ok(());
                }
                r.revoked_at = Some(now);
                store::put(&mut tokens, id.as_bytes(), &r)?;
                wtx.open_table(API_TOKEN_BY_HASH)?.remove(r.token_hash.as_bytes())?;
                audit::record_in(
                    wtx,
                    NewEntry::new(now, actor, Action::ApiTokenRevoke, Outcome::Success)
                        .target(format!("{} ({})", r.name, r.id)),
                )?;
                Ok(())
            })
            .await
    }

    /// The principal behind a bearer token, if it is valid and not revoked.
    pub async fn principal_for_token(&self, bearer: &str) -> Result<Option<Principal>, AdminError> {
        if !bearer.starts_with(PREFIX) || bearer.len() > 128 {
            return Ok(None);
        }
        let h = secret_hash(bearer);
        let record: Option<ApiTokenRecord> = self
            .inner
            .store
            .read(move |rtx| {
                let by_hash = rtx.open_table(API_TOKEN_BY_HASH).map_err(StoreError::from)?;
                let Some(id) = by_hash.get(h.as_bytes())? else { return Ok(None) };
                store::get(&rtx.open_table(API_TOKENS)?, id.value())
            })
            .await?;
        let Some(record) = record.filter(|r| r.revoked_at.is_none()) else { return Ok(None) };
        let mut scope = Scope::from_stored(record.scope.clone());
        if let Some(owner) = &record.owner_admin {
            // The token is never wider than its admin is now: removed or narrowed admins
            // take their scripts' rights with them.
            match self.access_of(owner).await? {
                None => return Ok(None),
                Some((now, _)) if !record.role.within(now) => {
                    return Err(AdminError::Forbidden(format!(
                        "this API token has the role {}, but its admin {owner} is now {}; create a new token",
                        record.role.title(),
                        now.title()
                    )));
                }
                Some((_, admin_scope)) => scope = scope.narrowed_by(&admin_scope),
            }
        }
        self.touch_token(&record.id).await?;
        Ok(Some(Principal::ApiToken {
            id: record.id,
            name: record.name,
            role: record.role,
            owner_admin: record.owner_admin,
            scope,
        }))
    }

    async fn touch_token(&self, id: &str) -> Result<(), AdminError> {
        let now = self.now();
        {
            let mut cache =
                last_use_cache().lock().expect("cache mutex is never held across a panic");
            if cache.get(id).is_some_and(|t| now - *t < LAST_USED_RESOLUTION) {
                return Ok(());
            }
            cache.insert(id.to_string(), now);
        }
        let id = id.to_string();
        self.inner
            .store
            .write(move |wtx| {
                let mut tokens = wtx.open_table(API_TOKENS)?;
                if let Some(mut r) = store::get::<ApiTokenRecord, _>(&tokens, id.as_bytes())? {
                    r.last_used_at = Some(now);
                    store::put(&mut tokens, id.as_bytes(), &r)?;
                }
                Ok(())
            })
            .await
    }
}
