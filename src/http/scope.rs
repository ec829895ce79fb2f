//! The caller's scope ([`crate::admin::Scope`]) turned into what the services take: a device
//! filter for lists and exports, and the per-object checks of actions (a device, a server
//! token, a pending key, a list of serials). Handlers call one of these and never decide
//! about scopes themselves; an unscoped caller passes every check without a store read.

use super::error::ApiError;
use super::extract::Authenticated;
use super::state::AppState;
use crate::admin::{OutOfScope, Scope};
use crate::devices::DeviceFilter;
use crate::ids::{Serial, TokenId};

impl Authenticated {
    pub fn scope(&self) -> &Scope {
        self.principal.scope()
    }

    /// Limits a device list or export to the caller's tokens.
    pub fn restrict(&self, filter: &mut DeviceFilter) {
        if let Some(tokens) = self.scope().tokens() {
            filter.within_tokens = Some(tokens.iter().cloned().collect());
        }
    }

    /// Refuses acting on a server token outside the scope.
    pub fn require_token(&self, token: &TokenId) -> Result<(), ApiError> {
        Ok(self.scope().require(token.as_str(), &format!("server token {token}"))?)
    }

    /// Refuses organisation-wide `what` to a scoped caller.
    pub fn require_unscoped(&self, what: &str) -> Result<(), ApiError> {
        Ok(self.scope().require_all(what)?)
    }

    /// Refuses acting on a device of a token outside the scope. A device the inventory does
    /// not know belongs to no token: organisation-wide, so refused to scoped callers too.
    pub async fn require_device(&self, state: &AppState, serial: &Serial) -> Result<(), ApiError> {
        if self.scope().is_all() {
            return Ok(());
        }
        let what = format!("device {serial}");
        match state.devices.facts(vec![serial.clone()]).await?.first() {
            Some(facts) => Ok(self.scope().require(facts.token.as_str(), &what)?),
            None => Err(OutOfScope::OrgWide {
                what: format!("{what}, which is in no server token's inventory,"),
            }
            .into()),
        }
    }

    /// Refuses a list of serials (an assignment) when a known one is of a token outside the
    /// scope; unknown serials are left to the assignment's own report.
    pub async fn require_serials(
        &self,
        state: &AppState,
        serials: &[String],
    ) -> Result<(), ApiError> {
        if self.scope().is_all() {
            return Ok(());
        }
        let parsed: Vec<Serial> = serials.iter().filter_map(|s| Serial::parse(s).ok()).collect();
        for facts in state.devices.facts(parsed).await? {
            self.scope().require(facts.token.as_str(), &format!("device {}", facts.serial))?;
        }
        Ok(())
    }

    /// Refuses a pending key pair unless it renews a token in scope (a key for a new token
    /// is organisation-wide, like adding a token).
    pub async fn require_pending_key(&self, state: &AppState, id: &str) -> Result<(), ApiError> {
        if self.scope().is_all() {
            return Ok(());
        }
        let keys = state.tokens.list_pending_keys().await?;
        match keys.iter().find(|k| k.id == id).and_then(|k| k.for_token.as_ref()) {
            Some(token) => self.require_token(token),
            None => self.require_unscoped("a key pair for a new server token"),
        }
    }
}
