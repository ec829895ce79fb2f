//! The state every worker of the DEP simulator shares ([`Shared`]: the world, sessions,
//! faults, the switchable [`Behaviour`], the clock), [`WorldGuard`] (the world under its lock,
//! saved on release when it was changed and the simulator keeps a state file), and [`lock`].
//! A leaf of `dep`: the routes and the server import it, it imports neither.

use crate::clock::Clock;
use crate::dep::faults::Faults;
use crate::dep::persist::StateFile;
use crate::dep::sessions::{DEFAULT_USER_AGENT_DENY, NonceCache, Sessions};
use crate::dep::world::World;
use crate::rng::SimRng;
use arc_swap::ArcSwap;
use std::sync::atomic::AtomicU64;
use std::sync::{Mutex, MutexGuard};
use time::{Duration, OffsetDateTime};

/// How error codes are written in bodies. Apple sends bare text; some observed bodies end
/// with a newline; micromdm's depsim JSON-quotes them (§2.3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ErrorStyle {
    #[default]
    Bare,
    BareNewline,
    JsonQuoted,
}

/// Apple behaviours that differ between observers; switchable at run time.
#[derive(Clone, Debug)]
pub struct Behaviour {
    pub error_style: ErrorStyle,
    /// Refused User-Agent prefixes (case-insensitive).
    pub user_agent_deny: Vec<String>,
    /// `GET /profile` answers `supervised`, `mandatory`, … instead of the `is_*` names
    /// (dep-api.md §4 open question).
    pub unprefixed_profile_names: bool,
    /// Status for an unknown profile: 400 per AppleDoc, 404 as petarov observes (§3).
    pub profile_not_found_status: u16,
    /// Answer an unknown or expired session with 403 `FORBIDDEN`, as micromdm's depsim does
    /// after a restart (§2.2), instead of Apple's 401.
    pub unknown_session_forbidden: bool,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            error_style: ErrorStyle::Bare,
            user_agent_deny: DEFAULT_USER_AGENT_DENY.iter().map(|s| s.to_string()).collect(),
            unprefixed_profile_names: false,
            profile_not_found_status: 400,
            unknown_session_forbidden: false,
        }
    }
}

/// State every worker shares.
#[derive(Debug)]
pub struct Shared {
    pub world: Mutex<World>,
    pub sessions: Mutex<Sessions>,
    pub nonces: Mutex<NonceCache>,
    pub faults: ArcSwap<Faults>,
    pub fault_rng: Mutex<SimRng>,
    pub behaviour: ArcSwap<Behaviour>,
    pub clock: Clock,
    /// Added to a system clock's time by the portal's clock advance (a manual clock is
    /// advanced itself, so everything sharing it moves together).
    pub offset: Mutex<Duration>,
    /// DEP requests served (portal requests not counted).
    pub requests: AtomicU64,
    /// Where the world is saved after each change (the sandbox's data directory); `None`
    /// keeps it in memory only (tests, benchmarks, `adebox sim dep`).
    pub state: Option<StateFile>,
}

impl Shared {
    /// The simulator's "now".
    pub fn now(&self) -> OffsetDateTime {
        self.clock.now() + *lock(&self.offset)
    }

    /// The world under its lock. Changing it through the guard saves it when the guard is
    /// released, before the change is answered.
    pub fn world(&self) -> WorldGuard<'_> {
        WorldGuard { world: lock(&self.world), state: self.state.as_ref(), changed: false }
    }

    /// Runs `f` on the world under its lock.
    pub fn with_world<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        f(&mut self.world())
    }

    /// Moves simulated time forward.
    pub fn advance(&self, by: Duration) {
        if self.clock.is_manual() {
            self.clock.advance(by);
        } else {
            *lock(&self.offset) += by;
        }
    }
}

/// The locked world; a mutable use marks it changed, and a changed world is saved to the
/// state file on release, still under the lock, so saves happen in the order of the changes.
pub struct WorldGuard<'a> {
    world: MutexGuard<'a, World>,
    state: Option<&'a StateFile>,
    changed: bool,
}

impl std::ops::Deref for WorldGuard<'_> {
    type Target = World;
    fn deref(&self) -> &World {
        &self.world
    }
}

impl std::ops::DerefMut for WorldGuard<'_> {
    fn deref_mut(&mut self) -> &mut World {
        self.changed = true;
        &mut self.world
    }
}

impl Drop for WorldGuard<'_> {
    fn drop(&mut self) {
        if let (true, Some(state)) = (self.changed, self.state)
            && let Err(e) = state.save(&self.world)
        {
            // The change stands in memory; the next change tries the whole file again.
            log::error!(target: "sim::dep", "{e}");
        }
    }
}

/// Locks a mutex; a panic in another holder does not make the state unusable (every
/// mutation of the world is a single call that leaves it consistent).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
