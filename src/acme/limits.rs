//! What a stranger can make the ACME server hold, bounded (issue 17 item 3): `newAccount`
//! and `newOrder` are limited per client address ([`Limits::allow`], RFC 8555 §6.6
//! `rateLimited` with `Retry-After`), and the unfinished state (stored accounts, orders held
//! in memory) has a hard cap
//! ([`check_cap`]) that holds even against a flood from many
//! addresses. Upkeep ([`super::upkeep`]) deletes what is left unused, so the cap only bites
//! during a flood; the admin learns of it from one warning in the log every
//! [`FULL_LOG_EVERY`].

use super::limit::Limiter;
use super::records;
use super::{AcmeError, Endpoint};
use redb::ReadableTableMetadata;
use std::net::IpAddr;
use std::sync::Mutex;
use time::{Duration, OffsetDateTime};

/// How often the "cap reached" warning may be repeated while a flood goes on.
pub const FULL_LOG_EVERY: Duration = Duration::minutes(10);

/// How long a client is told to wait when the cap is reached: upkeep runs hourly.
const FULL_RETRY_SECS: u64 = 3600;

/// The per-address budgets, one for new accounts and one for new orders.
pub(super) struct Limits {
    accounts: Mutex<Limiter>,
    orders: Mutex<Limiter>,
    /// When the cap warning was last logged.
    full_logged: Mutex<Option<OffsetDateTime>>,
}

impl Limits {
    pub(super) fn new(per_client_per_minute: u32) -> Limits {
        Limits {
            accounts: Mutex::new(Limiter::new(per_client_per_minute)),
            orders: Mutex::new(Limiter::new(per_client_per_minute)),
            full_logged: Mutex::new(None),
        }
    }

    /// Counts a request to `endpoint` from `client`; only `newAccount` and `newOrder` store
    /// something new, so only they are limited. Without an address (not over TCP) nothing is
    /// counted.
    pub(super) fn allow(
        &self,
        endpoint: &Endpoint,
        client: Option<IpAddr>,
        now: OffsetDateTime,
    ) -> Result<(), AcmeError> {
        let (limiter, what) = match endpoint {
            Endpoint::NewAccount => (&self.accounts, "new accounts"),
            Endpoint::NewOrder => (&self.orders, "new orders"),
            _ => return Ok(()),
        };
        let Some(ip) = client else { return Ok(()) };
        let mut l = limiter.lock().unwrap_or_else(|p| p.into_inner());
        let per_window = l.per_window;
        l.allow(ip, now).map_err(|retry_at| {
            let secs = (retry_at - now).whole_seconds().max(1) as u64;
            AcmeError::RateLimited {
                detail: format!(
                    "too many {what} from this address: at most {per_window} a minute \
                     (RFC 8555 §6.6); try again in {secs} s"
                ),
                retry_after_secs: secs,
            }
        })
    }

    /// The refusal while the cap is reached, logging it (at most every [`FULL_LOG_EVERY`]).
    fn full(&self, what: &str, count: u64, max: u64, now: OffsetDateTime) -> AcmeError {
        let mut last = self.full_logged.lock().unwrap_or_else(|p| p.into_inner());
        if last.is_none_or(|t| now - t >= FULL_LOG_EVERY) {
            *last = Some(now);
            log::warn!(
                count = count, max = max;
                "ACME: the store holds {count} {what}, its cap; new ones are refused until the \
                 hourly upkeep deletes unused ones. A client may be flooding /acme: look for \
                 `rateLimited` answers and their addresses"
            );
        }
        AcmeError::Full {
            detail: format!(
                "the appliance holds as many {what} as it keeps ({max}); try again later"
            ),
            retry_after_secs: FULL_RETRY_SECS,
        }
    }
}

/// What the cap counts.
#[derive(Clone, Copy, Debug)]
pub(super) enum Stored {
    /// Accounts beyond the certificates issued: an account with a certificate is offset by
    /// it, so the accounts of enrolled devices never count against new ones.
    Accounts,
    /// Orders held in memory (each has one authorization): how many.
    Orders(u64),
}

/// Refuses one more of `what` while the store holds `max` of them. Counts are O(1) (redb keeps
/// table lengths).
pub(super) fn check_cap(
    wtx: &redb::WriteTransaction,
    limits: &Limits,
    max: u64,
    now: OffsetDateTime,
    what: Stored,
) -> Result<(), AcmeError> {
    let (count, words) = match what {
        Stored::Accounts => {
            let accounts = wtx.open_table(records::ACCOUNTS)?.len()?;
            let certs = wtx.open_table(records::CERTS)?.len()?;
            (accounts.saturating_sub(certs), "ACME accounts without a certificate")
        }
        Stored::Orders(held) => (held, "ACME orders"),
    };
    if count >= max {
        return Err(limits.full(words, count, max, now));
    }
    Ok(())
}

impl super::AcmeService {
    /// How many accounts the store holds beyond its certificates: what the cap on new
    /// accounts counts.
    pub async fn unfinished_accounts(&self) -> Result<u64, AcmeError> {
        self.inner
            .store
            .read(|rtx| {
                let accounts = rtx.open_table(records::ACCOUNTS)?.len()?;
                let certs = rtx.open_table(records::CERTS)?.len()?;
                Ok(accounts.saturating_sub(certs))
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acme::limit::WINDOW;
    use time::macros::datetime;

    #[test]
    fn new_accounts_and_new_orders_have_their_own_budget_per_address() {
        let now = datetime!(2026-12-07 05:00 UTC);
        let l = Limits::new(2);
        let ip: Option<IpAddr> = Some("192.0.2.7".parse().unwrap());
        for _ in 0..2 {
            l.allow(&Endpoint::NewAccount, ip, now).unwrap();
        }
        let err = l.allow(&Endpoint::NewAccount, ip, now).unwrap_err();
        assert_eq!(err.problem_type(), "rateLimited");
        assert_eq!(err.retry_after_secs(), Some(60));
        assert!(err.to_string().contains("at most 2 a minute"), "{err}");
        l.allow(&Endpoint::NewOrder, ip, now).unwrap();
        l.allow(&Endpoint::Order("x".into()), ip, now).unwrap();
        l.allow(&Endpoint::Order("x".into()), ip, now).unwrap();
        l.allow(&Endpoint::NewAccount, ip, now + WINDOW).unwrap();
    }
}
