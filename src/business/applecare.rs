//! A device's AppleCare coverage (apple-2026.md §8.5), read from Apple Business one device at a
//! time (Apple has no bulk endpoint) and kept a day, so the device page does not ask Apple at
//! every visit. Owns the table `business.applecare` (serial → [`Coverage`]); the
//! organisation-device list reads it through [`Kept`] and fills it on a budget.

use super::client::{BusinessClient, ClientError};
use super::client_activities::CoverageAttributes;
use crate::clock::Clock;
use crate::ids::Serial;
use crate::store::{self, Store, StoreError, Table};
use redb::ReadableTable;
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

/// A device's coverage in one word, as the device page shows it: `active` (a coverage Apple
/// calls ACTIVE), `inactive` (coverages, none active: ended or cancelled), `none` (Apple lists
/// none) or `unknown` (Apple not asked yet).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CoverageState {
    Active,
    Inactive,
    None,
    Unknown,
}

impl CoverageState {
    pub const ALL: [CoverageState; 4] = [
        CoverageState::Active,
        CoverageState::Inactive,
        CoverageState::None,
        CoverageState::Unknown,
    ];

    /// The word the API, the CSV and the page use.
    pub fn as_str(self) -> &'static str {
        match self {
            CoverageState::Active => "active",
            CoverageState::Inactive => "inactive",
            CoverageState::None => "none",
            CoverageState::Unknown => "unknown",
        }
    }

    pub fn parse(word: &str) -> Option<CoverageState> {
        CoverageState::ALL.into_iter().find(|s| s.as_str() == word)
    }
}

/// What a list shows of a device's coverage: its state, the end date that goes with it (the
/// latest active coverage's, else the latest one's, as Apple wrote it), and when Apple said so.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    pub state: CoverageState,
    pub end: Option<String>,
    pub fetched_at: Option<OffsetDateTime>,
}

impl Summary {
    pub const UNKNOWN: Summary =
        Summary { state: CoverageState::Unknown, end: None, fetched_at: None };
}

impl Coverage {
    pub fn summary(&self) -> Summary {
        let active = |c: &&CoverageAttributes| c.status.as_deref() == Some("ACTIVE");
        let (state, which): (_, Vec<&CoverageAttributes>) =
            if self.coverages.iter().any(|c| active(&c)) {
                (CoverageState::Active, self.coverages.iter().filter(active).collect())
            } else if self.coverages.is_empty() {
                (CoverageState::None, Vec::new())
            } else {
                (CoverageState::Inactive, self.coverages.iter().collect())
            };
        // RFC 3339 in one zone sorts as text; Apple writes UTC.
        let end = which.iter().filter_map(|c| c.end_date_time.clone()).max();
        Summary { state, end, fetched_at: Some(self.fetched_at) }
    }
}

/// The kept coverage, read inside a caller's read transaction (the organisation-device list
/// shows it beside each device without a transaction per device).
pub struct Kept(redb::ReadOnlyTable<&'static [u8], &'static [u8]>);

impl Kept {
    pub fn open_in(tx: &redb::ReadTransaction) -> Result<Kept, StoreError> {
        Ok(Kept(tx.open_table(APPLECARE)?))
    }

    /// What was kept for `serial`, if Apple was asked.
    pub fn get(&self, serial: &[u8]) -> Result<Option<Coverage>, StoreError> {
        store::get::<Coverage, _>(&self.0, serial)
    }

    pub fn summary(&self, serial: &[u8]) -> Result<Summary, StoreError> {
        Ok(self.get(serial)?.map(|c| c.summary()).unwrap_or(Summary::UNKNOWN))
    }

    /// Serials with a kept answer, in order (for counting beside another serial-keyed table
    /// without a look-up per row).
    pub fn serials(
        &self,
    ) -> Result<impl Iterator<Item = Result<Vec<u8>, StoreError>> + '_, StoreError> {
        Ok(self
            .0
            .iter()?
            .map(|item| item.map(|(k, _)| k.value().to_vec()).map_err(StoreError::from)))
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
