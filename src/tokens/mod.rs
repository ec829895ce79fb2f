//! Apple server tokens (DEP): the key pair handed to Apple Business Manager, the `.p7m`
//! token Apple hands back, staged renewal, expiry, and deletion with preconditions.
//!
//! Owns the tables `tokens.by_id` and `tokens.pending_keys`. A pending key survives page
//! reloads and restarts until a token is uploaded with it or the admin discards it. Adding
//! or renewing a token checks it with Apple (`GET /account`) through a callback the daemon
//! wires to the DEP client (which comes later in the module order); deleting asks a guard the
//! daemon wires to the inventory and profiles, inside the delete transaction, so nothing can
//! slip in between the check and the delete.
//!
//! Token secrets and private keys are stored in the store (a 0600 file in the 0700 data
//! directory) and never leave it through the API, the logs or the audit log.

mod lifecycle;
mod pending;
mod records;
mod view;

pub use crate::ids::{TOKEN_ID_MAX, TokenId};
pub use lifecycle::MovedToken;
pub use records::TABLES;
pub use records::TokenProblem;
pub use view::{Blocker, ExpiryState, PendingKeyInfo, TokenUse, TokenView};

use crate::apple::dep::AccountDetail;
use crate::apple::server_token::OAuthCredentials;
use crate::clock::Clock;
use crate::store::{Store, StoreError};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// Apple's production DEP service.
pub const APPLE_BASE_URL: &str = "https://mdmenrollment.apple.com";

/// Why Apple (or the way to it) refused a token.
#[derive(Clone, Debug)]
pub struct CheckFailure {
    /// Apple's code when there is one (`T_C_NOT_SIGNED`, `token_rejected`, …).
    pub code: Option<String>,
    /// Plain words, with what to do.
    pub message: String,
    /// Apple could not be reached or answered 5xx: try again later; the token may be fine.
    pub transient: bool,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Asks Apple who a token belongs to (`GET /account` at `base_url`). Wired by the daemon to
/// the DEP client.
pub type AccountCheck = Arc<
    dyn Fn(String, OAuthCredentials) -> BoxFuture<Result<AccountDetail, CheckFailure>>
        + Send
        + Sync,
>;

/// Counts what still uses a token, inside the delete transaction. Wired by the daemon to the
/// inventory and profiles (which come later in the module order).
pub type DeleteGuard =
    Arc<dyn Fn(&redb::WriteTransaction, &TokenId) -> Result<TokenUse, StoreError> + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("{0} not found")]
    NotFound(String),
    #[error("{message}")]
    Validation { field: &'static str, message: String },
    #[error("Apple refused this token: {message}")]
    Refused { code: Option<String>, message: String },
    #[error(
        "Apple could not be reached to check the token ({0}); nothing was changed, try again in a few minutes"
    )]
    AppleUnreachable(String),
    #[error(
        "this token belongs to the MDM server \"{got_name}\" ({got_uuid}), not to \"{expected_name}\" ({expected_uuid}). In Apple Business Manager, download the token of \"{expected_name}\" (Preferences → your MDM server → Download Token)"
    )]
    ForeignServer {
        expected_name: String,
        expected_uuid: String,
        got_name: String,
        got_uuid: String,
    },
    #[error(
        "the MDM server \"{server_name}\" is already added here; renew that token instead of adding it again"
    )]
    AlreadyAdded { id: TokenId, server_name: String },
    #[error("this token is still in use: {}", .0.iter().map(|b| b.message.as_str()).collect::<Vec<_>>().join("; "))]
    InUse(Vec<Blocker>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

crate::store::redb_errors_into!(TokenError);

/// Something that happened to a token (the sync runner listens).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenEvent {
    Added(TokenId),
    Renewed(TokenId),
    Deleted(TokenId),
}

#[derive(Clone)]
pub struct Tokens {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    clock: Clock,
    /// Where new tokens' DEP service is: Apple, or the simulator in the sandbox.
    base_url: String,
    check: AccountCheck,
    delete_guard: DeleteGuard,
    events: tokio::sync::broadcast::Sender<TokenEvent>,
}

impl Tokens {
    pub fn new(
        store: Store,
        clock: Clock,
        base_url: String,
        check: AccountCheck,
        delete_guard: DeleteGuard,
    ) -> Tokens {
        let (events, _) = tokio::sync::broadcast::channel(64);
        Tokens { inner: Arc::new(Inner { store, clock, base_url, check, delete_guard, events }) }
    }

    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<TokenEvent> {
        self.inner.events.subscribe()
    }

    fn emit(&self, e: TokenEvent) {
        let _ = self.inner.events.send(e); // nobody listening is fine
    }

    fn now(&self) -> time::OffsetDateTime {
        self.inner.clock.now()
    }
}

#[cfg(test)]
pub(crate) mod tests;
