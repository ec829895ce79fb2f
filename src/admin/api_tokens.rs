//! API tokens for scripts: `Authorization: Bearer adbx_…`. Stored hashed; shown once.

use super::records::{API_TOKEN_BY_HASH, API_TOKENS, ApiTokenRecord, secret_hash};
use super::{Admin, AdminError, Principal};
use crate::audit::{self, Action, Actor, NewEntry, Outcome};
use crate::crypto::Secret;
use crate::store::{self, StoreError};
use redb::ReadableTable;
use serde::Serialize;
use std::collections::HashMap;
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
    pub async fn create_api_token(
        &self,
        actor: Actor,
        name: &str,
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
                        .target(format!("{} ({})", stored.name, stored.id)),
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

    /// Revokes a token; it stays listed with its revocation time.
    pub async fn revoke_api_token(&self, actor: Actor, id: &str) -> Result<(), AdminError> {
        let now = self.now();
        let id = id.to_string();
        self.inner
            .store
            .write(move |wtx| {
                let mut tokens = wtx.open_table(API_TOKENS)?;
                let Some(mut r): Option<ApiTokenRecord> = store::get(&tokens, id.as_bytes())?
                else {
                    return Err(AdminError::NotFound(format!("API token {id}")));
                };
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
        self.touch_token(&record.id).await?;
        Ok(Some(Principal::ApiToken { id: record.id, name: record.name }))
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
