//! The lockout rule, counted before any hashing so parallel guesses cannot outrun it:
//!
//! - per address: `max_failures` failures within `window` lock the address for `lockout`.
//!   An attempt reserves its place in the count when it starts ([`LoginThrottle::begin`]), so
//!   a burst of 40 tries from one address tests at most `max_failures` passwords (issue 17:
//!   checked before hashing and counted after, a burst once got in 3 times in 7 bursts);
//! - per address, also a rate: at most `per_minute` attempts a minute, whatever their outcome;
//! - the same lock and rate for any extra keys a caller names ([`LoginThrottle::begin_locking`]:
//!   the user sign-in page locks per device and per directory account as well);
//! - per username, failures from any address add a growing delay before the check (capped),
//!   but never a lock: an attacker elsewhere can slow the real admin down, not lock them out.
//!
//! Kept in memory on purpose: a restart forgives, and nothing an attacker sends can grow the
//! store. Both maps are bounded; the least recently seen entries go first.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use time::{Duration, OffsetDateTime};

#[derive(Clone, Copy, Debug)]
pub struct ThrottlePolicy {
    /// Failures allowed inside `window` before a lockout.
    pub max_failures: u32,
    pub window: Duration,
    pub lockout: Duration,
    /// Attempts one address may start in a minute.
    pub per_minute: u32,
    /// Failures of one username (from anywhere, inside `window`) that cost no delay.
    pub free_failures: u32,
    /// The first delay; each further failure doubles it, up to `max_delay`.
    pub first_delay: Duration,
    pub max_delay: Duration,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        ThrottlePolicy {
            max_failures: 5,
            window: Duration::minutes(15),
            lockout: Duration::minutes(15),
            per_minute: 30,
            free_failures: 3,
            first_delay: Duration::milliseconds(250),
            max_delay: Duration::seconds(4),
        }
    }
}

const MAX_TRACKED: usize = 10_000;

/// Why an attempt may not start now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The address is locked out.
    Locked { retry_after: Duration },
    /// Attempts already under way (or this minute's) use up what the address may try.
    TooFast { retry_after: Duration },
}

#[derive(Clone, Copy)]
struct AddrRecord {
    failures: u32,
    first_failure: OffsetDateTime,
    locked_until: Option<OffsetDateTime>,
    /// Attempts begun and not yet resolved.
    pending: u32,
    /// Start of the current rate minute, and attempts begun in it.
    minute_start: OffsetDateTime,
    in_minute: u32,
    last_seen: OffsetDateTime,
}

#[derive(Clone, Copy)]
struct UserRecord {
    failures: u32,
    first_failure: OffsetDateTime,
    last_seen: OffsetDateTime,
}

/// What the lockout rule counts: an address, or a key a caller names (`device:<udid>`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Lockable {
    Addr(IpAddr),
    Named(String),
}

#[derive(Default)]
struct Maps {
    by_addr: HashMap<Lockable, AddrRecord>,
    by_user: HashMap<String, UserRecord>,
}

/// The shared limiter (cheap to clone).
#[derive(Clone)]
pub struct LoginThrottle {
    policy: ThrottlePolicy,
    maps: Arc<Mutex<Maps>>,
}

/// A started attempt. Resolve it with [`Attempt::failed`] or [`Attempt::succeeded`]; dropped
/// unresolved (the check never ran: the server was busy, the client left), it counts nothing.
pub struct Attempt {
    throttle: LoginThrottle,
    /// The address and the named keys this attempt holds a place in.
    locks: Vec<Lockable>,
    user: String,
    /// Wait this long before checking (the username's failures).
    pub delay: Duration,
    resolved: bool,
}

/// Usernames are case-insensitive; longer ones than any valid name share one key, so a
/// sprayer cannot grow the map with megabyte names.
fn user_key(username: &str) -> String {
    username.chars().take(65).collect::<String>().to_lowercase()
}

fn bound<K: Eq + Hash + Clone, V>(
    map: &mut HashMap<K, V>,
    key: &K,
    last_seen: impl Fn(&V) -> OffsetDateTime,
) {
    if map.len() >= MAX_TRACKED
        && !map.contains_key(key)
        && let Some(oldest) = map.iter().min_by_key(|(_, v)| last_seen(v)).map(|(k, _)| k.clone())
    {
        map.remove(&oldest);
    }
}

impl LoginThrottle {
    pub fn new(policy: ThrottlePolicy) -> Self {
        LoginThrottle { policy, maps: Arc::new(Mutex::new(Maps::default())) }
    }

    fn maps(&self) -> std::sync::MutexGuard<'_, Maps> {
        self.maps.lock().expect("throttle mutex is never held across a panic")
    }

    /// Starts an attempt from `addr` for `username`, or says why it may not start. Atomic:
    /// the attempt holds its place in the address's count from here on.
    pub fn begin(
        &self,
        addr: Option<IpAddr>,
        username: &str,
        now: OffsetDateTime,
    ) -> Result<Attempt, Refusal> {
        self.begin_locking(addr, &[], username, now)
    }

    /// [`Self::begin`], with the address's lockout rule applied to each of `keys` as well:
    /// the attempt starts only when none is locked or used up, and then holds a place in all.
    pub fn begin_locking(
        &self,
        addr: Option<IpAddr>,
        keys: &[String],
        username: &str,
        now: OffsetDateTime,
    ) -> Result<Attempt, Refusal> {
        let p = self.policy;
        let mut maps = self.maps();
        let locks: Vec<Lockable> = addr
            .map(Lockable::Addr)
            .into_iter()
            .chain(keys.iter().map(|k| Lockable::Named(k.chars().take(200).collect())))
            .collect();
        // Every key is checked before any place is taken, so a refusal takes none.
        for lock in &locks {
            let map = &mut maps.by_addr;
            // Prefer forgetting idle, unlocked entries: evicting a lock would lift it.
            if map.len() >= MAX_TRACKED && !map.contains_key(lock) {
                map.retain(|_, r| r.pending > 0 || r.locked_until.is_some_and(|u| u > now));
            }
            bound(map, lock, |r| r.last_seen);
            let rec = map.entry(lock.clone()).or_insert(AddrRecord {
                failures: 0,
                first_failure: now,
                locked_until: None,
                pending: 0,
                minute_start: now,
                in_minute: 0,
                last_seen: now,
            });
            rec.last_seen = now;
            if let Some(until) = rec.locked_until {
                if until > now {
                    return Err(Refusal::Locked { retry_after: until - now });
                }
                rec.locked_until = None;
                rec.failures = 0;
            }
            if rec.failures > 0 && now - rec.first_failure > p.window {
                rec.failures = 0;
            }
            if rec.failures + rec.pending >= p.max_failures {
                return Err(Refusal::TooFast { retry_after: Duration::seconds(1) });
            }
            if now - rec.minute_start >= Duration::MINUTE {
                rec.minute_start = now;
                rec.in_minute = 0;
            }
            if rec.in_minute >= p.per_minute {
                let retry_after = Duration::MINUTE - (now - rec.minute_start);
                return Err(Refusal::TooFast { retry_after });
            }
        }
        for lock in &locks {
            // Entered above; only a full map evicting one just entered could lose it.
            if let Some(rec) = maps.by_addr.get_mut(lock) {
                rec.in_minute += 1;
                rec.pending += 1;
            }
        }
        let user = user_key(username);
        let delay = match maps.by_user.get(&user) {
            Some(u) if now - u.first_failure <= p.window && u.failures > p.free_failures => {
                let doublings = (u.failures - p.free_failures - 1).min(16);
                (p.first_delay * 2i32.pow(doublings)).min(p.max_delay)
            }
            _ => Duration::ZERO,
        };
        Ok(Attempt { throttle: self.clone(), locks, user, delay, resolved: false })
    }

    /// `adebox admin unlock`: lifts the lockout of `addr` and the delay of `username`; with
    /// neither, of every address and username. Returns how many entries were cleared.
    pub fn unlock(&self, addr: Option<IpAddr>, username: Option<&str>) -> usize {
        let mut maps = self.maps();
        let mut cleared = 0;
        let clear = |r: &mut AddrRecord| {
            let was = r.failures > 0 || r.locked_until.is_some();
            r.failures = 0;
            r.locked_until = None;
            usize::from(was)
        };
        match (addr, username) {
            (None, None) => {
                cleared += maps.by_addr.values_mut().map(clear).sum::<usize>();
                cleared += maps.by_user.len();
                maps.by_user.clear();
            }
            _ => {
                if let Some(ip) = addr {
                    cleared += maps.by_addr.get_mut(&Lockable::Addr(ip)).map_or(0, clear);
                }
                if let Some(u) = username {
                    cleared += usize::from(maps.by_user.remove(&user_key(u)).is_some());
                }
            }
        }
        cleared
    }
}

impl Attempt {
    /// The check failed: counts it for the address and the username. Returns the lockout
    /// when this failure starts one.
    pub fn failed(mut self, now: OffsetDateTime) -> Option<Duration> {
        self.resolved = true;
        let p = self.throttle.policy;
        let mut maps = self.throttle.maps();
        bound(&mut maps.by_user, &self.user, |u| u.last_seen);
        let user = maps.by_user.entry(self.user.clone()).or_insert(UserRecord {
            failures: 0,
            first_failure: now,
            last_seen: now,
        });
        if now - user.first_failure > p.window {
            *user = UserRecord { failures: 0, first_failure: now, last_seen: now };
        }
        user.failures += 1;
        user.last_seen = now;
        let mut locked = None;
        for lock in &self.locks {
            let Some(rec) = maps.by_addr.get_mut(lock) else { continue };
            rec.pending = rec.pending.saturating_sub(1);
            if rec.failures == 0 {
                rec.first_failure = now;
            }
            rec.failures += 1;
            if rec.failures >= p.max_failures {
                rec.locked_until = Some(now + p.lockout);
                locked = Some(p.lockout);
            }
        }
        locked
    }

    /// The check passed: the address's and the username's failures are forgiven.
    pub fn succeeded(mut self) {
        self.resolved = true;
        let mut maps = self.throttle.maps();
        maps.by_user.remove(&self.user);
        for lock in &self.locks {
            if let Some(rec) = maps.by_addr.get_mut(lock) {
                rec.pending = rec.pending.saturating_sub(1);
                rec.failures = 0;
            }
        }
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        if self.resolved {
            return;
        }
        let mut maps = self.throttle.maps();
        for lock in &self.locks {
            if let Some(rec) = maps.by_addr.get_mut(lock) {
                rec.pending = rec.pending.saturating_sub(1);
            }
        }
    }
}

#[cfg(test)]
mod tests;
