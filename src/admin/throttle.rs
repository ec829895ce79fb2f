//! Login throttling per client address: after repeated failures the address is locked out
//! for a while. Kept in memory on purpose: a restart forgives, and nothing an attacker sends
//! can grow the store. The map is bounded; the oldest entries are dropped first.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use time::{Duration, OffsetDateTime};

#[derive(Clone, Copy, Debug)]
pub struct ThrottlePolicy {
    /// Failures allowed inside `window` before a lockout.
    pub max_failures: u32,
    pub window: Duration,
    pub lockout: Duration,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        ThrottlePolicy {
            max_failures: 5,
            window: Duration::minutes(15),
            lockout: Duration::minutes(15),
        }
    }
}

const MAX_TRACKED: usize = 10_000;

#[derive(Clone, Copy)]
struct Record {
    failures: u32,
    first_failure: OffsetDateTime,
    locked_until: Option<OffsetDateTime>,
}

pub struct LoginThrottle {
    policy: ThrottlePolicy,
    by_addr: Mutex<HashMap<IpAddr, Record>>,
}

impl LoginThrottle {
    pub fn new(policy: ThrottlePolicy) -> Self {
        LoginThrottle { policy, by_addr: Mutex::new(HashMap::new()) }
    }

    /// `Some(time left)` while `addr` is locked out.
    pub fn locked(&self, addr: IpAddr, now: OffsetDateTime) -> Option<Duration> {
        let map = self.by_addr.lock().expect("throttle mutex is never held across a panic");
        map.get(&addr).and_then(|r| r.locked_until).filter(|until| *until > now).map(|u| u - now)
    }

    /// Counts a failure; returns the lockout when this failure triggers one.
    pub fn failed(&self, addr: IpAddr, now: OffsetDateTime) -> Option<Duration> {
        let mut map = self.by_addr.lock().expect("throttle mutex is never held across a panic");
        if map.len() >= MAX_TRACKED
            && !map.contains_key(&addr)
            && let Some(oldest) = map.iter().min_by_key(|(_, r)| r.first_failure).map(|(a, _)| *a)
        {
            map.remove(&oldest);
        }
        let rec = map.entry(addr).or_insert(Record {
            failures: 0,
            first_failure: now,
            locked_until: None,
        });
        if now - rec.first_failure > self.policy.window
            || rec.locked_until.is_some_and(|u| u <= now)
        {
            *rec = Record { failures: 0, first_failure: now, locked_until: None };
        }
        rec.failures += 1;
        if rec.failures >= self.policy.max_failures {
            rec.locked_until = Some(now + self.policy.lockout);
            return Some(self.policy.lockout);
        }
        None
    }

    /// A success clears the address's record.
    pub fn succeeded(&self, addr: IpAddr) {
        self.by_addr.lock().expect("throttle mutex is never held across a panic").remove(&addr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn locks_out_after_repeated_failures_then_forgives() {
        let t = LoginThrottle::new(ThrottlePolicy::default());
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let now = datetime!(2026-11-24 10:00 UTC);
        for _ in 0..4 {
            assert_eq!(t.failed(a, now), None);
        }
        assert_eq!(t.failed(a, now), Some(Duration::minutes(15)));
        assert_eq!(t.locked(a, now + Duration::minutes(1)), Some(Duration::minutes(14)));
        assert_eq!(t.locked(b, now), None, "another address is not affected");
        assert_eq!(t.locked(a, now + Duration::minutes(16)), None);
        assert_eq!(t.failed(a, now + Duration::minutes(16)), None, "a new window starts");
    }

    #[test]
    fn failures_spread_over_more_than_the_window_do_not_lock() {
        let t = LoginThrottle::new(ThrottlePolicy::default());
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let mut now = datetime!(2026-11-24 10:00 UTC);
        for _ in 0..20 {
            assert_eq!(t.failed(a, now), None);
            now += Duration::minutes(4);
            if t.locked(a, now).is_some() {
                panic!("locked");
            }
            t.succeeded(a);
        }
    }
}
