//! Admin accounts with their roles, first-run setup, sessions with CSRF tokens, login
//! throttling and API tokens for scripts (each with a role no wider than its creator's).
//! `roles.rs` is the table of which role holds which permission.
//!
//! Owns the tables `admin.users`, `admin.sessions`, `admin.api_tokens`,
//! `admin.api_token_by_hash` and `admin.meta`. Every change writes its audit entry in the
//! same transaction. Knows nothing of HTTP: the edge passes client addresses and cookie
//! values in, and gets typed errors back.

mod api_tokens;
mod gate;
mod guard;
mod members;
mod password;
mod records;
mod roles;
mod scope;
mod sessions;
mod throttle;
mod users;

pub use api_tokens::{ApiTokenInfo, NewApiToken};
pub use gate::{GateLimits, PasswordGate};
pub use guard::{CheckRefused, Checked, SignInGuard};
pub use password::HashCost;
pub use password::check_policy as check_password_policy;
pub use records::TABLES;
pub use roles::{Missing, Permission, Role, require};
pub use scope::{OutOfScope, Scope, org_wide};
pub use sessions::Session;
pub use throttle::{LoginThrottle, ThrottlePolicy};
pub use users::UserInfo;

use crate::clock::Clock;
use crate::crypto::Secret;
use crate::store::{Store, StoreError};
use std::sync::{Arc, Mutex};
use time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("wrong username or password")]
    BadCredentials,
    #[error("too many failed sign-ins from this address; try again in {} minutes", .retry_after.whole_minutes().max(1))]
    LockedOut { retry_after: Duration },
    #[error("too many sign-ins are being checked right now; try again in {} seconds", .retry_after.whole_seconds().max(1))]
    Busy { retry_after: Duration },
    #[error(
        "the setup code is wrong; the current code is in the daemon log (journalctl -u adebox)"
    )]
    BadSetupCode,
    #[error("setup is already done; sign in instead")]
    SetupDone,
    #[error("{message}")]
    Validation { field: &'static str, message: String },
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// The caller's role or the rule of an object forbids this (e.g. revoking another
    /// admin's API token without being an Owner).
    #[error("{0}")]
    Forbidden(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

crate::store::redb_errors_into!(AdminError);

impl From<CheckRefused> for AdminError {
    fn from(r: CheckRefused) -> Self {
        match r {
            CheckRefused::LockedOut { retry_after } => AdminError::LockedOut { retry_after },
            CheckRefused::Busy { retry_after } => AdminError::Busy { retry_after },
        }
    }
}

/// Who is acting, as the edge established it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    /// A signed-in admin (session cookie); `csrf_token` must accompany changes. The role is
    /// read from the admin's record at every request, so a change applies at once.
    Session { username: String, csrf_token: String, role: Role, scope: Scope },
    /// A script with an API token; `owner_admin` is the admin whose role and scope bound
    /// it (`scope` is already narrowed to the admin's current one).
    ApiToken { id: String, name: String, role: Role, owner_admin: Option<String>, scope: Scope },
}

impl Principal {
    pub fn role(&self) -> Role {
        match self {
            Principal::Session { role, .. } | Principal::ApiToken { role, .. } => *role,
        }
    }

    /// The server tokens the principal may see ([`Scope`]).
    pub fn scope(&self) -> &Scope {
        match self {
            Principal::Session { scope, .. } | Principal::ApiToken { scope, .. } => scope,
        }
    }

    /// Whether the principal may use `permission`: its role holds it, and it is not
    /// organisation-wide for a scoped principal.
    pub fn holds(&self, permission: Permission) -> bool {
        self.role().holds(permission) && self.scope().permits(permission)
    }

    /// The admin acting, or on whose behalf a token acts.
    pub fn admin(&self) -> Option<&str> {
        match self {
            Principal::Session { username, .. } => Some(username),
            Principal::ApiToken { owner_admin, .. } => owner_admin.as_deref(),
        }
    }

    pub fn actor(&self) -> crate::audit::Actor {
        match self {
            Principal::Session { username, .. } => crate::audit::Actor::Admin(username.clone()),
            Principal::ApiToken { name, .. } => crate::audit::Actor::ApiToken(name.clone()),
        }
    }
}

/// Tunables; production uses the defaults.
#[derive(Clone, Debug)]
pub struct AdminOptions {
    pub hash_cost: HashCost,
    pub throttle: ThrottlePolicy,
    pub gate: GateLimits,
    pub session_lifetime: Duration,
}

impl Default for AdminOptions {
    fn default() -> Self {
        AdminOptions {
            hash_cost: HashCost::PRODUCTION,
            throttle: ThrottlePolicy::default(),
            gate: GateLimits::default(),
            session_lifetime: Duration::hours(12),
        }
    }
}

/// The admin service handle (cheap to clone).
#[derive(Clone)]
pub struct Admin {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    clock: Clock,
    options: AdminOptions,
    guard: SignInGuard,
    /// The one-time setup code while no admin exists. In memory only: a restart prints a
    /// new one, and it never reaches the store or a backup.
    setup_code: Mutex<Option<Secret<String>>>,
}

impl Admin {
    pub fn new(store: Store, clock: Clock, options: AdminOptions) -> Admin {
        let guard = SignInGuard::new(
            LoginThrottle::new(options.throttle),
            PasswordGate::new(options.gate, options.hash_cost),
            clock.clone(),
        );
        Admin {
            inner: Arc::new(Inner { store, clock, options, guard, setup_code: Mutex::new(None) }),
        }
    }

    /// When no admin exists yet, makes a fresh one-time setup code and returns it for the log.
    pub async fn prepare_setup_code(&self) -> Result<Option<Secret<String>>, AdminError> {
        if users::count(&self.inner.store).await? > 0 {
            return Ok(None);
        }
        let code = new_setup_code();
        *self.inner.setup_code.lock().expect("setup code mutex is never held across a panic") =
            Some(code.clone());
        Ok(Some(code))
    }

    pub async fn setup_required(&self) -> Result<bool, AdminError> {
        Ok(users::count(&self.inner.store).await? == 0)
    }

    /// The daemon's one [`SignInGuard`]: every sign-in page checks passwords through it, so
    /// its bounds (hashing at once, waiting, per address) hold for all of them together.
    pub fn sign_in_guard(&self) -> SignInGuard {
        self.inner.guard.clone()
    }

    /// `adebox admin unlock`: see [`LoginThrottle::unlock`].
    pub fn unlock(&self, addr: Option<std::net::IpAddr>, username: Option<&str>) -> usize {
        self.inner.guard.unlock(addr, username)
    }

    fn now(&self) -> time::OffsetDateTime {
        self.inner.clock.now()
    }
}

/// Four groups of four characters from an alphabet without look-alikes (no 0/O, 1/I/L).
fn new_setup_code() -> Secret<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let bytes = crate::crypto::random_bytes::<16>();
    let mut code = String::with_capacity(19);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 && i % 4 == 0 {
            code.push('-');
        }
        code.push(ALPHABET[*b as usize % ALPHABET.len()] as char);
    }
    Secret::new(code)
}

/// Usernames: 1–64 characters of letters, digits and `._@-`; compared case-insensitively.
fn check_username(username: &str) -> Result<(), AdminError> {
    username_rule(username).map_err(|message| AdminError::Validation { field: "username", message })
}

/// The username rule admins and the local sign-in accounts share; the words say the fix.
pub fn username_rule(username: &str) -> Result<(), String> {
    let ok = !username.is_empty()
        && username.len() <= 64
        && username.bytes().all(|b| b.is_ascii_alphanumeric() || b"._@-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err("use 1 to 64 letters, digits, dots, dashes, underscores or @".into())
    }
}

/// Options for tests: cheap hashes, and a gate and rate that only the lockout rule limits.
#[cfg(test)]
pub(crate) fn testing_options() -> AdminOptions {
    AdminOptions {
        hash_cost: HashCost::TESTING,
        gate: GateLimits { workers: 2, queue: 1024, per_address: 1024 },
        throttle: ThrottlePolicy {
            first_delay: Duration::milliseconds(1),
            max_delay: Duration::milliseconds(2),
            per_minute: 1000,
            ..Default::default()
        },
        ..Default::default()
    }
}

#[cfg(test)]
mod tests;
