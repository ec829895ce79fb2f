//! [`SignInGuard`]: the one way a password from the network is checked, whoever signs in
//! (admins today; the user sign-in page's local accounts later). It applies the lockout rule
//! ([`super::throttle`]) before the argon2 run, waits the username's delay, then runs the
//! check through the bounded [`PasswordGate`], and counts the outcome. An unknown account
//! takes the same path at the same cost.

use super::gate::{Busy, PasswordGate};
use super::throttle::{LoginThrottle, Refusal};
use crate::clock::Clock;
use crate::crypto::Secret;
use std::net::IpAddr;
use time::Duration;

/// Why a check did not run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CheckRefused {
    /// The address failed too often; HTTP 429 `locked_out`.
    #[error("too many failed sign-ins from this address; try again in {} minutes", .retry_after.whole_minutes().max(1))]
    LockedOut { retry_after: Duration },
    /// Too many checks from this address, or from everywhere, right now; HTTP 429 `busy`.
    #[error("too many sign-ins are being checked right now; try again in {} seconds", .retry_after.whole_seconds().max(1))]
    Busy { retry_after: Duration },
}

/// The outcome of a check that ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Checked {
    Matches,
    /// Wrong password or unknown account; `lockout` when this failure locked the address.
    Wrong {
        lockout: Option<Duration>,
    },
}

/// Lockout rule, username delay and bounded hashing together (cheap to clone: one per
/// daemon, shared by every sign-in page, so the bounds are global).
#[derive(Clone)]
pub struct SignInGuard {
    throttle: LoginThrottle,
    gate: PasswordGate,
    clock: Clock,
}

impl SignInGuard {
    pub fn new(throttle: LoginThrottle, gate: PasswordGate, clock: Clock) -> SignInGuard {
        SignInGuard { throttle, gate, clock }
    }

    /// Checks `password` for `username` from `addr` against `stored` (the account's PHC
    /// string; `None` when no such account exists).
    pub async fn check(
        &self,
        addr: Option<IpAddr>,
        username: &str,
        password: Secret<String>,
        stored: Option<String>,
    ) -> Result<Checked, CheckRefused> {
        self.check_locking(addr, &[], username, password, stored).await
    }

    /// [`Self::check`] with the lockout rule applied to each of `keys` instead of the
    /// address (the user sign-in page names the device and the directory account), counted
    /// before the check. The address is not locked: a school's devices sign in from behind
    /// one NAT address, and five wrong passwords there must not stop every device; the gate
    /// still bounds what one address runs and waits for at once.
    pub async fn check_locking(
        &self,
        addr: Option<IpAddr>,
        keys: &[String],
        username: &str,
        password: Secret<String>,
        stored: Option<String>,
    ) -> Result<Checked, CheckRefused> {
        let locked_by = if keys.is_empty() { addr } else { None };
        let attempt = self.begin(locked_by, keys, username).await?;
        let matches = self.gate.verify(addr, password, stored).await.map_err(busy)?;
        Ok(if matches {
            attempt.succeeded();
            Checked::Matches
        } else {
            Checked::Wrong { lockout: attempt.failed(self.clock.now()) }
        })
    }

    /// Runs `check` (a password check done elsewhere, such as an LDAP bind) under the same
    /// lockout rule and username delay as [`Self::check_locking`]; `check` answers whether
    /// the password matched, or an error that counts as neither.
    pub async fn check_external<E>(
        &self,
        keys: &[String],
        username: &str,
        check: impl std::future::Future<Output = Result<bool, E>>,
    ) -> Result<Result<Checked, E>, CheckRefused> {
        let attempt = self.begin(None, keys, username).await?;
        Ok(match check.await {
            Ok(true) => {
                attempt.succeeded();
                Ok(Checked::Matches)
            }
            Ok(false) => Ok(Checked::Wrong { lockout: attempt.failed(self.clock.now()) }),
            Err(e) => Err(e),
        })
    }

    /// Starts an attempt (its place counted now) and waits the username's delay.
    async fn begin(
        &self,
        addr: Option<IpAddr>,
        keys: &[String],
        username: &str,
    ) -> Result<super::throttle::Attempt, CheckRefused> {
        let attempt = self.throttle.begin_locking(addr, keys, username, self.clock.now()).map_err(
            |r| match r {
                Refusal::Locked { retry_after } => CheckRefused::LockedOut { retry_after },
                Refusal::TooFast { retry_after } => CheckRefused::Busy { retry_after },
            },
        )?;
        if attempt.delay > Duration::ZERO {
            // Real time on purpose, even under a test clock: this slows a guesser down.
            tokio::time::sleep(attempt.delay.unsigned_abs()).await;
        }
        Ok(attempt)
    }

    /// Runs `check` (a cheap comparison, e.g. a setup code) under the lockout rule only.
    pub fn check_cheap(
        &self,
        addr: Option<IpAddr>,
        check: impl FnOnce() -> bool,
    ) -> Result<Checked, CheckRefused> {
        let now = self.clock.now();
        let attempt = self.throttle.begin(addr, "", now).map_err(|r| match r {
            Refusal::Locked { retry_after } => CheckRefused::LockedOut { retry_after },
            Refusal::TooFast { retry_after } => CheckRefused::Busy { retry_after },
        })?;
        Ok(if check() {
            attempt.succeeded();
            Checked::Matches
        } else {
            Checked::Wrong { lockout: attempt.failed(now) }
        })
    }

    /// A new password's hash, through the same bounded gate.
    pub async fn hash(
        &self,
        addr: Option<IpAddr>,
        password: Secret<String>,
    ) -> Result<String, CheckRefused> {
        self.gate.hash(addr, password).await.map_err(busy)
    }

    /// Verifies a signed-in user's current password (a password change): bounded, but not
    /// counted by the lockout rule, which is for unauthenticated guesses.
    pub async fn verify_signed_in(
        &self,
        addr: Option<IpAddr>,
        password: Secret<String>,
        stored: String,
    ) -> Result<bool, CheckRefused> {
        self.gate.verify(addr, password, Some(stored)).await.map_err(busy)
    }

    /// See [`LoginThrottle::unlock`].
    pub fn unlock(&self, addr: Option<IpAddr>, username: Option<&str>) -> usize {
        self.throttle.unlock(addr, username)
    }

    /// Argon2 runs so far.
    pub fn hash_runs(&self) -> u64 {
        self.gate.runs()
    }
}

fn busy(b: Busy) -> CheckRefused {
    let secs = b.retry_after.as_secs_f64().ceil() as i64;
    CheckRefused::Busy { retry_after: Duration::seconds(secs.max(1)) }
}
