//! The way to Apple Business for the appliance's background work and actions: the saved
//! account, the HTTP client and the endpoints, and one [`BusinessClient`] kept while the
//! account stays the same, so its access token serves its hour instead of being fetched for
//! every action. Where-is, the organisation devices' sync and the actions all share it, so
//! the appliance holds one access token at a time. A replaced or removed account is noticed
//! at the next call (and forgotten at once when saved through [`super::Business`]).

use super::{BusinessAccount, BusinessClient, BusinessError, Endpoints};
use std::sync::{Arc, Mutex};
use time::OffsetDateTime;

/// The client kept, with the `saved_at` of the account it was made for.
type Kept = Option<(OffsetDateTime, Arc<BusinessClient>)>;

#[derive(Clone)]
pub struct Connection {
    account: BusinessAccount,
    http: reqwest::Client,
    endpoints: Endpoints,
    cached: Arc<Mutex<Kept>>,
}

impl Connection {
    pub fn new(account: BusinessAccount, http: reqwest::Client, endpoints: Endpoints) -> Self {
        Connection { account, http, endpoints, cached: Arc::new(Mutex::new(None)) }
    }

    /// Whether an API account is saved.
    pub async fn configured(&self) -> Result<bool, BusinessError> {
        Ok(self.account.view().await?.is_some())
    }

    /// Drops the kept client: the next call makes one for the account then saved.
    pub fn forget(&self) {
        *self.cached.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// A client for the saved account ([`BusinessError::NotSet`] without one).
    pub async fn client(&self) -> Result<Arc<BusinessClient>, BusinessError> {
        let saved_at = self.account.view().await?.ok_or(BusinessError::NotSet)?.saved_at;
        if let Some((at, c)) = self.cached.lock().unwrap_or_else(|p| p.into_inner()).as_ref()
            && *at == saved_at
        {
            return Ok(c.clone());
        }
        let c = Arc::new(self.account.client(self.http.clone(), self.endpoints.clone()).await?);
        *self.cached.lock().unwrap_or_else(|p| p.into_inner()) = Some((saved_at, c.clone()));
        Ok(c)
    }
}
