//! The Apple Business API simulator (apple-2026.md §8): OAuth2 client credentials with an
//! ES256 client assertion, JSON:API organisation devices and MDM servers, asynchronous device
//! activities, Apple's error bodies and a 429 fault.
//!
//! Served by the DEP simulator's HTTPS server and sharing its world (the same organisation,
//! MDM servers, devices and migrations), so an assignment made here shows in the next DEP
//! sync. Its own state ([`Business`]: API accounts and tokens, activities, faults) is kept
//! apart from the DEP world so it can be persisted on its own. Layout: [`accounts`] and
//! [`assertion`] (auth), [`resources`] (world → JSON:API), [`activities`], [`api`] and [`api_activities`] (routes
//! under `/v1` and `/auth/oauth2/token`), [`portal`] (`/portal/business/…`: create and
//! revoke API accounts, faults). Reads requests with its own strict types, never the
//! product's.

pub mod accounts;
pub mod activities;
pub mod api;
pub mod api_activities;
pub mod assertion;
pub mod portal;
pub mod resources;

use crate::dep::state::lock;
use accounts::Accounts;
use activities::Activities;
use serde::{Deserialize, Serialize};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// The 429 fault: every `every`-th API request is refused with 429 (0: off), with a
/// `Retry-After` of `retry_after` seconds when set (Apple documents neither, §8.8).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusinessFaults {
    #[serde(default)]
    pub rate_limit_every: u32,
    #[serde(default)]
    pub retry_after: Option<u32>,
}

/// The Business API's own state.
#[derive(Debug)]
pub struct Business {
    pub accounts: Mutex<Accounts>,
    pub activities: Mutex<Activities>,
    pub faults: Mutex<BusinessFaults>,
    /// API requests counted for the 429 fault.
    pub requests: AtomicU64,
    /// The fault that plays Apple moving its token audience: the token endpoint then requires
    /// [`assertion::MOVED_AUDIENCE`] and refuses every assertion made for the documented one.
    pub audience_moved: AtomicBool,
    /// The fault that refuses every AppleCare request with 429 (`Retry-After: 0`), so a
    /// client's coverage reading fails while the rest of the API answers.
    pub applecare_refused: AtomicBool,
}

/// How long an activity takes by default, in simulated seconds.
pub const DEFAULT_ACTIVITY_DELAY_SECS: i64 = 2;

impl Business {
    pub fn new(seed: u64) -> Business {
        Business {
            accounts: Mutex::new(Accounts::new(seed ^ 0xAB_A91)),
            activities: Mutex::new(Activities::new(seed ^ 0xAC71, DEFAULT_ACTIVITY_DELAY_SECS)),
            faults: Mutex::new(BusinessFaults::default()),
            requests: AtomicU64::new(0),
            audience_moved: AtomicBool::new(false),
            applecare_refused: AtomicBool::new(false),
        }
    }

    /// Turns the moved-audience fault on or off.
    pub fn set_audience_moved(&self, moved: bool) {
        self.audience_moved.store(moved, Ordering::SeqCst);
    }

    /// Turns the AppleCare refusal on or off.
    pub fn set_applecare_refused(&self, refused: bool) {
        self.applecare_refused.store(refused, Ordering::SeqCst);
    }

    pub fn set_faults(&self, faults: BusinessFaults) {
        *lock(&self.faults) = faults;
    }

    pub fn set_activity_delay(&self, secs: i64) {
        lock(&self.activities).delay_secs = secs;
    }

    /// Creates an API account (as the portal does).
    pub fn create_account(
        &self,
        name: &str,
    ) -> Result<accounts::NewAccount, accounts::AccountError> {
        lock(&self.accounts).create(name)
    }

    pub fn revoke_account(&self, client_id: &str) -> Result<(), accounts::AccountError> {
        lock(&self.accounts).revoke(client_id)
    }
}

#[cfg(test)]
mod tests;
