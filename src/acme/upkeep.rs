//! ACME upkeep: a maintenance pass that deletes what devices can no longer use — expired
//! orders and authorizations and expired replay nonces (all held in memory), expired
//! ClientIdentifier expectations, and accounts left with no order and no certificate a day
//! after they were made — bounded per run so one pass never holds the store for long.
//!
//! Kept: certificates and the certificate → device map (MDM check-in and revocation need
//! them), accounts that hold a certificate (revocation by account, RFC 8555 §7.6), a used
//! ClientIdentifier while its certificate is valid (it marks the identifier used, and a
//! renewal orders with it; see `flow`), and the key thumbprint of a deleted deactivated
//! account, so that key stays refused (RFC 8555 §7.3.6; `acme.deactivated_keys`).

use super::records::{self, AccountRec, AccountStatus, CertRec, Expectation};
use super::{AcmeError, AcmeService, load};
use crate::store;
use redb::ReadableTable;
use serde::Serialize;
use time::{Duration, OffsetDateTime};

/// How long after it expires a record is kept (a device may still read its order shortly
/// after; an admin may look at a failed one).
pub const GRACE: Duration = Duration::days(1);
/// Most records one pass deletes.
pub const MAX_PER_RUN: usize = 5_000;

/// What a pass deleted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Cleanup {
    pub orders: usize,
    pub authorizations: usize,
    pub expectations: usize,
    /// Accounts with no order and no certificate, made over [`GRACE`] ago.
    pub accounts: usize,
    pub nonces: usize,
    /// The pass stopped at its bound; run it again.
    pub more: bool,
}

impl Cleanup {
    pub fn total(&self) -> usize {
        self.orders + self.authorizations + self.expectations + self.accounts + self.nonces
    }
}

/// Keys of `def` whose record `expired` says is gone, at most `max`.
fn expired_keys<T: serde::de::DeserializeOwned>(
    wtx: &redb::WriteTransaction,
    def: store::Table,
    max: usize,
    mut expired: impl FnMut(&T) -> Result<bool, AcmeError>,
) -> Result<Vec<Vec<u8>>, AcmeError> {
    let t = wtx.open_table(def)?;
    let mut out = Vec::new();
    for row in t.iter()? {
        if out.len() >= max {
            break;
        }
        let (k, v) = row?;
        // A record that no longer decodes is of no use to any device either.
        let gone = match store::decode::<T>(redb::TableHandle::name(&def), v.value()) {
            Ok(rec) => expired(&rec)?,
            Err(_) => true,
        };
        if gone {
            out.push(k.value().to_vec());
        }
    }
    Ok(out)
}

fn delete(
    wtx: &redb::WriteTransaction,
    def: store::Table,
    keys: &[Vec<u8>],
) -> Result<(), AcmeError> {
    let mut t = wtx.open_table(def)?;
    for k in keys {
        t.remove(k.as_slice())?;
    }
    Ok(())
}

/// One bounded pass of the stored records inside `wtx`, with at most `max` deletions;
/// `has_orders` says whether an account still has an order held in memory.
fn cleanup_in(
    wtx: &redb::WriteTransaction,
    now: OffsetDateTime,
    max: usize,
    has_orders: &dyn Fn(&str) -> bool,
) -> Result<Cleanup, AcmeError> {
    let cutoff = now - GRACE;
    let mut budget = max;
    let expectations = expired_keys::<Expectation>(wtx, records::EXPECTED, budget, |e| {
        if e.expires_at > cutoff {
            return Ok(false);
        }
        // A used identifier stays while its certificate is valid.
        Ok(match &e.cert_id {
            None => true,
            Some(id) => {
                load::<CertRec>(wtx, records::CERTS, id)?.is_none_or(|c| c.not_after <= cutoff)
            }
        })
    })?;
    delete(wtx, records::EXPECTED, &expectations)?;
    budget -= expectations.len();
    let accounts = unused_accounts(wtx, cutoff, budget, has_orders)?;
    delete_accounts(wtx, &accounts, now)?;
    budget -= accounts.len();
    Ok(Cleanup {
        orders: 0,
        authorizations: 0,
        expectations: expectations.len(),
        accounts: accounts.len(),
        nonces: 0,
        more: budget == 0,
    })
}

/// Accounts made before `cutoff` that have no order left and no certificate, at most `max`.
/// Runs after the orders pass, so an account whose orders all expired goes too.
fn unused_accounts(
    wtx: &redb::WriteTransaction,
    cutoff: OffsetDateTime,
    max: usize,
    has_orders: &dyn Fn(&str) -> bool,
) -> Result<Vec<AccountRec>, AcmeError> {
    let mut certified = std::collections::HashSet::new();
    for row in wtx.open_table(records::CERTS)?.iter()? {
        let (_, v) = row?;
        if let Ok(c) = store::decode::<CertRec>("acme.certs", v.value()) {
            certified.insert(c.account_id);
        }
    }
    let mut out = Vec::new();
    for row in wtx.open_table(records::ACCOUNTS)?.iter()? {
        if out.len() >= max {
            break;
        }
        let (_, v) = row?;
        let Ok(a) = store::decode::<AccountRec>("acme.accounts", v.value()) else { continue };
        if a.created_at > cutoff || certified.contains(&a.id) || has_orders(&a.id) {
            continue;
        }
        out.push(a);
    }
    Ok(out)
}

/// Deletes accounts and their key entries; a deactivated one leaves its key's thumbprint.
fn delete_accounts(
    wtx: &redb::WriteTransaction,
    accounts: &[AccountRec],
    now: OffsetDateTime,
) -> Result<(), AcmeError> {
    let mut table = wtx.open_table(records::ACCOUNTS)?;
    let mut keys = wtx.open_table(records::ACCOUNT_KEYS)?;
    let mut refused = wtx.open_table(records::DEACTIVATED_KEYS)?;
    for a in accounts {
        table.remove(a.id.as_bytes())?;
        let holder: Option<String> = store::get(&keys, a.thumbprint.as_bytes())?;
        if holder.as_deref() == Some(a.id.as_str()) {
            keys.remove(a.thumbprint.as_bytes())?;
        }
        if a.status == AccountStatus::Deactivated {
            let at = now.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
            store::put(&mut refused, a.thumbprint.as_bytes(), &at)?;
        }
    }
    Ok(())
}

impl AcmeService {
    /// Deletes expired orders, authorizations, expectations, unused accounts and nonces, at
    /// most `max`
    /// records per call (see [`Cleanup::more`]).
    pub async fn cleanup(&self, now: OffsetDateTime, max: usize) -> Result<Cleanup, AcmeError> {
        // Orders first, so an account whose orders all expired goes in the same pass.
        let (orders, authorizations) = self.inner.pending.expire(now - GRACE, max);
        let (inner, left) = (self.inner.clone(), max - orders - authorizations);
        let mut done = self
            .inner
            .store
            .write(move |wtx| cleanup_in(wtx, now, left, &|a| inner.pending.has_orders(a)))
            .await?;
        done.orders = orders;
        done.authorizations = authorizations;
        done.nonces = self.inner.nonces.purge(now);
        Ok(done)
    }
}
