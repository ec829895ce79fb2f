//! A device's AppleCare coverage (apple-2026.md §8.5), read from Apple Business one device at a
//! time (Apple has no bulk endpoint) and kept a day, so the device page does not ask Apple at
//! every visit. Owns the table `business.applecare` (serial → [`Coverage`]).

use super::client::{BusinessClient, ClientError};
use super::client_activities::CoverageAttributes;
use crate::clock::Clock;
use crate::ids::Serial;
use crate::store::{self, Store, StoreError, Table};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

const APPLECARE: Table = store::table("business.applecare");
/// This module's tables, created when the store opens.
pub const TABLES: &[Table] = &[APPLECARE];
/// How long an answer is kept before Apple is asked again.
pub const KEEP: Duration = Duration::days(1);

/// What Apple said about one device, and when.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Coverage {
    pub serial: Serial,
    #[serde(with = "time::serde::rfc3339")]
    pub fetched_at: OffsetDateTime,
    /// Apple's coverages, as it listed them (none: not covered).
    pub coverages: Vec<CoverageAttributes>,
}

#[derive(Debug, thiserror::Error)]
pub enum AppleCareError {
    #[error(
        "Apple Business does not know the device {0} in your organisation, so it has no AppleCare coverage to show"
    )]
    NotInOrganisation(String),
    #[error(transparent)]
    Client(ClientError),
    #[error(transparent)]
    Account(#[from] super::BusinessError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The cache.
#[derive(Clone)]
pub struct AppleCare {
    store: Store,
    clock: Clock,
}

impl AppleCare {
    pub fn new(store: Store, clock: Clock) -> AppleCare {
        AppleCare { store, clock }
    }

    async fn cached(&self, serial: &Serial) -> Result<Option<Coverage>, AppleCareError> {
        let key = serial.clone();
        Ok(self
            .store
            .read(move |tx| {
                let t = tx.open_table(APPLECARE).map_err(StoreError::from)?;
                store::get::<Coverage, _>(&t, key.as_bytes())
            })
            .await?)
    }

    /// The coverage of `serial`: kept for a day unless `refresh`.
    pub async fn coverage(
        &self,
        client: &BusinessClient,
        serial: &Serial,
        refresh: bool,
    ) -> Result<Coverage, AppleCareError> {
        let now = self.clock.now();
        if !refresh
            && let Some(c) = self.cached(serial).await?
            && now - c.fetched_at < KEEP
        {
            return Ok(c);
        }
        let coverages = match client.apple_care(serial.as_str()).await {
            Ok(c) => c,
            Err(ClientError::Api { status: 404, .. }) => {
                return Err(AppleCareError::NotInOrganisation(serial.to_string()));
            }
            Err(e) => return Err(AppleCareError::Client(e)),
        };
        let c = Coverage { serial: serial.clone(), fetched_at: now, coverages };
        let saved = c.clone();
        self.store
            .write(move |tx| {
                let mut t = tx.open_table(APPLECARE).map_err(StoreError::from)?;
                store::put(&mut t, saved.serial.as_bytes(), &saved)?;
                Ok::<_, AppleCareError>(())
            })
            .await?;
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::Coverage;

    /// A coverage stored before its serial became a `Serial` (lower case, as it was held)
    /// reads back and is written again byte for byte.
    #[test]
    fn a_stored_coverage_keeps_its_bytes() {
        let stored = r#"{"serial":"c02xk1abcd12","fetched_at":"2026-03-01T12:00:00Z","coverages":[{"status":"ACTIVE","paymentType":null,"description":"AppleCare+","startDateTime":"2025-01-01T00:00:00Z","endDateTime":null,"isRenewable":true,"isCanceled":false,"agreementNumber":null}]}"#;
        let c: Coverage = serde_json::from_str(stored).expect("an old coverage reads");
        assert_eq!(c.serial.as_str(), "c02xk1abcd12");
        assert_eq!(serde_json::to_string(&c).unwrap(), stored);
    }
}
