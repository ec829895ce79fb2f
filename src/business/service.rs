//! The Apple Business service the appliance runs: the account ([`BusinessAccount`]), the
//! client for it shared with the actions and the organisation devices' sync
//! ([`Connection`]: one access token serves every request of its hour), which of our server tokens is which Apple Business MDM server
//! ([`super::mapping`]), and where a serial is ([`WhereIs`]).

use super::client::{BusinessClient, ClientError};
use super::connect::Connection;
use super::mapping::{self, ServerLink};
use super::{AccountInput, AccountView, BusinessAccount, BusinessError};
use crate::audit::Actor;
use crate::clock::Clock;
use crate::ids::{Serial, TokenId};
use crate::store::Store;
use serde::Serialize;
use std::sync::Arc;

/// Where a serial is, as Apple Business says.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum WhereIs {
    /// Assigned to one of our MDM servers (a sync brings it in), named as our token is.
    Ours { token: TokenId, server_name: String, mdm_server_id: String },
    /// Assigned to another MDM server of the organisation.
    Elsewhere { mdm_server_id: String, server_name: Option<String> },
    /// The organisation has it, assigned to no MDM server.
    Unassigned,
    /// The organisation does not have this serial.
    NotInOrganisation,
    /// No API account is set up.
    NotSetUp,
}

/// The Apple Business side of the appliance.
#[derive(Clone)]
pub struct Business {
    account: BusinessAccount,
    store: Store,
    clock: Clock,
    tokens: crate::tokens::Tokens,
    connection: Connection,
}

/// Why the service could not answer.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Account(#[from] BusinessError),
    #[error(transparent)]
    Apple(#[from] ClientError),
    #[error(transparent)]
    Tokens(#[from] crate::tokens::TokenError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("{0}")]
    Invalid(String),
}

impl Business {
    pub fn new(
        store: Store,
        clock: Clock,
        tokens: crate::tokens::Tokens,
        connection: Connection,
    ) -> Business {
        Business {
            account: BusinessAccount::new(store.clone(), clock.clone()),
            store,
            clock,
            tokens,
            connection,
        }
    }

    pub fn account(&self) -> &BusinessAccount {
        &self.account
    }

    fn forget_client(&self) {
        self.connection.forget();
    }

    /// Saves the account (see [`BusinessAccount::save`]); the next request uses it.
    pub async fn save(
        &self,
        actor: Actor,
        input: AccountInput,
    ) -> Result<AccountView, BusinessError> {
        let saved = self.account.save(actor, input).await?;
        self.forget_client();
        Ok(saved)
    }

    /// Removes the account (see [`BusinessAccount::remove`]).
    pub async fn remove(&self, actor: Actor) -> Result<bool, BusinessError> {
        let removed = self.account.remove(actor).await?;
        self.forget_client();
        Ok(removed)
    }

    /// The client of the saved account, shared with the actions and the sync.
    pub async fn client(&self) -> Result<Arc<BusinessClient>, BusinessError> {
        self.connection.client().await
    }

    /// Every MDM server of the organisation, each with the server token of ours it is.
    pub async fn servers(&self) -> Result<Vec<ServerLink>, ServiceError> {
        let client = self.client().await?;
        let servers = client.mdm_servers().await?;
        let tokens = self.tokens.list().await?;
        let mapped = mapping::stored(&self.store).await?;
        Ok(mapping::link(&servers, &tokens, &mapped))
    }

    /// Maps our token `token` to the Apple Business MDM server `mdm_server_id` (None: forget
    /// the mapping), for when their ids differ; audited as `actor`.
    pub async fn map_server(
        &self,
        actor: Actor,
        token: TokenId,
        mdm_server_id: Option<String>,
    ) -> Result<(), ServiceError> {
        let known = self.tokens.list().await?;
        let Some(t) = known.iter().find(|t| t.id == token) else {
            return Err(ServiceError::Invalid(format!(
                "there is no server token {token}; choose one of the tokens on the Tokens page"
            )));
        };
        if let Some(id) = &mdm_server_id {
            let servers = self.client().await?.mdm_servers().await?;
            if !servers.iter().any(|(sid, _)| sid == id) {
                return Err(ServiceError::Invalid(format!(
                    "Apple Business has no MDM server with id {id}; choose one of the servers Apple Business lists"
                )));
            }
        }
        mapping::store(
            &self.store,
            self.clock.now(),
            actor,
            t.id.clone(),
            &t.server_name,
            mdm_server_id,
        )
        .await?;
        Ok(())
    }

    /// Where `serial` is assigned, asked of Apple Business.
    pub async fn where_is(&self, serial: &Serial) -> Result<WhereIs, ServiceError> {
        let client = match self.client().await {
            Ok(c) => c,
            Err(BusinessError::NotSet) => return Ok(WhereIs::NotSetUp),
            Err(e) => return Err(e.into()),
        };
        let id = match client.assigned_server(serial).await {
            Ok(Some(id)) => id,
            Ok(None) => return Ok(WhereIs::Unassigned),
            Err(ClientError::Api { status: 404, .. }) => return Ok(WhereIs::NotInOrganisation),
            Err(e) => return Err(e.into()),
        };
        let links = self.servers().await?;
        let link = links.into_iter().find(|l| l.mdm_server_id == id);
        Ok(match link {
            // Ours by our token's name: the admin knows the server by it, and a server the
            // admin mapped may be named quite differently at Apple.
            Some(ServerLink { token: Some(token), token_name, server_name, .. }) => WhereIs::Ours {
                server_name: token_name.or(server_name).unwrap_or_else(|| token.to_string()),
                token,
                mdm_server_id: id,
            },
            Some(l) => WhereIs::Elsewhere { mdm_server_id: id, server_name: l.server_name },
            None => WhereIs::Elsewhere { mdm_server_id: id, server_name: None },
        })
    }
}
