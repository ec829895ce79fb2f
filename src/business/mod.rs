//! The Apple Business API account (apple-2026.md §8): the optional second credential that
//! lets adebox see every device the organisation owns, also those assigned to another MDM
//! server or to none.
//!
//! Owns the table `business.account`: the account's client id, key id and private key (sealed
//! with the data key, never shown again), saved only after its key is checked to be EC P-256.
//! [`client`] speaks to Apple with it: adebox makes a short client assertion for each token
//! request ([`key`]), so the stored credential has no assertion of its own to expire.
//! Responses are read leniently by [`wire`]. The actions adebox takes at Apple Business
//! (assign, unassign, migrate, release) are [`activities`]; AppleCare coverage is
//! [`applecare`], each with its own tables.
//!
//! Which of our server tokens is which Apple Business MDM server is decided by the server
//! uuid both APIs report (DEP `GET /account` `server_uuid`, Business `mdmServers` id):
//! apple-2026.md §8.6 marks their equality UNCERTAIN for Apple; the simulator makes it hold,
//! and a name is never used to match.

pub mod actions;
pub mod activities;
pub mod applecare;
pub mod client;
pub mod client_activities;
pub mod connect;
pub mod key;
pub mod mapping;
pub mod orgdevices;
pub mod service;
pub mod wire;

pub use client::{BusinessClient, ClientError, Endpoints};
pub use key::{ApiKey, KeyError};
pub use service::{Business, ServiceError, WhereIs};

use crate::audit::{Action, Actor, NewEntry, Outcome};
use crate::clock::Clock;
use crate::crypto::Secret;
use crate::store::{self, Sealed, SecretField, Store, StoreError, Table};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The one API account (row [`ROW`]) → [`AccountRecord`].
const ACCOUNT: Table = store::table("business.account");
/// This module's tables, created when the store opens.
pub const TABLES: &[Table] = &[ACCOUNT, mapping::SERVER_MAP];
const ROW: &[u8] = b"account";
const PRIVATE_KEY: SecretField = SecretField::new("business.account", "private_key");

#[derive(Debug, thiserror::Error)]
pub enum BusinessError {
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(
        "the client id `{0}` is not an Apple Business API client id; copy it from Apple Business (Preferences → API): it looks like BUSINESSAPI.<uuid>"
    )]
    ClientId(String),
    #[error(
        "the key id is empty; copy it from the API account in Apple Business (Preferences → API)"
    )]
    KeyId,
    #[error("no Apple Business API account is set up; add one first")]
    NotSet,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the admin uploads.
pub struct AccountInput {
    pub client_id: String,
    pub key_id: String,
    pub private_key_pem: Secret<String>,
}

/// The account as stored.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountRecord {
    client_id: String,
    key_id: String,
    private_key: Sealed,
    #[serde(with = "time::serde::rfc3339")]
    saved_at: OffsetDateTime,
}

/// The account as shown (no key).
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct AccountView {
    pub client_id: String,
    pub key_id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub saved_at: OffsetDateTime,
}

/// The account and its opened key, for the client.
pub struct Credential {
    pub client_id: String,
    pub key_id: String,
    pub key: ApiKey,
}

/// The service: save, show, remove the account, open it for the client.
#[derive(Clone)]
pub struct BusinessAccount {
    store: Store,
    clock: Clock,
}

fn check(input: &AccountInput) -> Result<ApiKey, BusinessError> {
    let id = input.client_id.trim();
    let shaped =
        ["BUSINESSAPI.", "SCHOOLAPI."].iter().any(|p| id.starts_with(p) && id.len() > p.len());
    if !shaped || id.chars().any(char::is_whitespace) {
        return Err(BusinessError::ClientId(id.to_string()));
    }
    if input.key_id.trim().is_empty() {
        return Err(BusinessError::KeyId);
    }
    Ok(ApiKey::from_pem(input.private_key_pem.expose())?)
}

impl BusinessAccount {
    pub fn new(store: Store, clock: Clock) -> BusinessAccount {
        BusinessAccount { store, clock }
    }

    /// Checks and saves the account (replacing any earlier one), audited as `actor`; the key
    /// is sealed.
    pub async fn save(
        &self,
        actor: Actor,
        input: AccountInput,
    ) -> Result<AccountView, BusinessError> {
        check(&input)?;
        let record = AccountRecord {
            client_id: input.client_id.trim().to_string(),
            key_id: input.key_id.trim().to_string(),
            private_key: self.store.sealer().seal(PRIVATE_KEY, ROW, &input.private_key_pem),
            saved_at: self.clock.now(),
        };
        let view = AccountView {
            client_id: record.client_id.clone(),
            key_id: record.key_id.clone(),
            saved_at: record.saved_at,
        };
        let entry =
            NewEntry::new(record.saved_at, actor, Action::BusinessAccountSave, Outcome::Success)
                .target(record.client_id.clone())
                .detail(format!("Apple Business API account saved: key id {}", record.key_id));
        self.store
            .write(move |tx| {
                {
                    let mut t = tx.open_table(ACCOUNT).map_err(StoreError::from)?;
                    store::put(&mut t, ROW, &record)?;
                }
                crate::audit::record_in(tx, entry)?;
                Ok::<_, BusinessError>(())
            })
            .await?;
        Ok(view)
    }

    async fn record(&self) -> Result<Option<AccountRecord>, BusinessError> {
        self.store
            .read(|tx| {
                let t = tx.open_table(ACCOUNT).map_err(StoreError::from)?;
                Ok::<_, BusinessError>(store::get(&t, ROW)?)
            })
            .await
    }

    pub async fn view(&self) -> Result<Option<AccountView>, BusinessError> {
        Ok(self.record().await?.map(|r| AccountView {
            client_id: r.client_id,
            key_id: r.key_id,
            saved_at: r.saved_at,
        }))
    }

    /// The account with its key opened.
    pub async fn credential(&self) -> Result<Credential, BusinessError> {
        let r = self.record().await?.ok_or(BusinessError::NotSet)?;
        let pem = self.store.sealer().open(PRIVATE_KEY, ROW, &r.private_key)?;
        Ok(Credential {
            client_id: r.client_id,
            key_id: r.key_id,
            key: ApiKey::from_pem(pem.expose())?,
        })
    }

    /// Erases the account and its sealed key, audited as `actor`; false when none was set.
    pub async fn remove(&self, actor: Actor) -> Result<bool, BusinessError> {
        let entry =
            NewEntry::new(self.clock.now(), actor, Action::BusinessAccountRemove, Outcome::Success);
        self.store
            .write(move |tx| {
                let old: Option<AccountRecord> = {
                    let mut t = tx.open_table(ACCOUNT).map_err(StoreError::from)?;
                    let old = store::get(&t, ROW)?;
                    t.remove(ROW).map_err(StoreError::from)?;
                    old
                };
                let Some(old) = old else { return Ok::<_, BusinessError>(false) };
                crate::audit::record_in(
                    tx,
                    entry
                        .target(old.client_id)
                        .detail("Apple Business API account and key removed"),
                )?;
                Ok(true)
            })
            .await
    }

    /// A client for the saved account.
    pub async fn client(
        &self,
        http: reqwest::Client,
        endpoints: Endpoints,
    ) -> Result<BusinessClient, BusinessError> {
        let c = self.credential().await?;
        Ok(BusinessClient::new(http, endpoints, &c.client_id, &c.key_id, c.key, self.clock.clone()))
    }
}

#[cfg(test)]
mod tests;
