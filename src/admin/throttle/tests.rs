//! The lockout rule and the username delay, step by step on a fixed clock.

use super::*;
use time::macros::datetime;

fn ip(s: &str) -> Option<IpAddr> {
    Some(s.parse().unwrap())
}

const T0: OffsetDateTime = datetime!(2026-11-24 10:00 UTC);

fn fail(t: &LoginThrottle, addr: &str, user: &str, now: OffsetDateTime) -> Option<Duration> {
    t.begin(ip(addr), user, now).expect("may try").failed(now)
}

#[test]
fn locks_out_after_repeated_failures_then_forgives() {
    let t = LoginThrottle::new(ThrottlePolicy::default());
    for _ in 0..4 {
        assert_eq!(fail(&t, "192.0.2.1", "alice", T0), None);
    }
    assert_eq!(fail(&t, "192.0.2.1", "alice", T0), Some(Duration::minutes(15)));
    let later = T0 + Duration::minutes(1);
    assert_eq!(
        t.begin(ip("192.0.2.1"), "alice", later).err(),
        Some(Refusal::Locked { retry_after: Duration::minutes(14) })
    );
    assert!(t.begin(ip("192.0.2.2"), "bob", T0).is_ok(), "another address is not affected");
    let after = T0 + Duration::minutes(16);
    assert_eq!(fail(&t, "192.0.2.1", "alice", after), None, "a new window starts");
}

#[test]
fn attempts_hold_their_place_before_they_are_checked() {
    let t = LoginThrottle::new(ThrottlePolicy::default());
    let started: Vec<_> =
        (0..40).filter_map(|_| t.begin(ip("192.0.2.1"), "alice", T0).ok()).collect();
    assert_eq!(started.len(), 5, "a burst tests at most the allowed number");
    assert_eq!(
        t.begin(ip("192.0.2.1"), "alice", T0).err(),
        Some(Refusal::TooFast { retry_after: Duration::seconds(1) })
    );
    let mut lock = None;
    for a in started {
        lock = lock.or(a.failed(T0));
    }
    assert_eq!(lock, Some(Duration::minutes(15)));
    assert!(matches!(t.begin(ip("192.0.2.1"), "alice", T0), Err(Refusal::Locked { .. })));
}

#[test]
fn an_attempt_that_never_ran_counts_nothing() {
    let t = LoginThrottle::new(ThrottlePolicy::default());
    for _ in 0..20 {
        drop(t.begin(ip("192.0.2.1"), "alice", T0).unwrap());
    }
    assert_eq!(fail(&t, "192.0.2.1", "alice", T0), None);
}

#[test]
fn failures_spread_over_more_than_the_window_do_not_lock() {
    let t = LoginThrottle::new(ThrottlePolicy::default());
    let mut now = T0;
    for _ in 0..20 {
        assert_eq!(fail(&t, "192.0.2.1", "alice", now), None);
        now += Duration::minutes(4);
        t.begin(ip("192.0.2.1"), "alice", now).unwrap().succeeded();
    }
}

#[test]
fn a_username_under_attack_is_slowed_never_locked() {
    let t = LoginThrottle::new(ThrottlePolicy::default());
    let mut delays = Vec::new();
    for i in 0..12 {
        let a = t.begin(ip(&format!("203.0.113.{i}")), "Alice", T0).unwrap();
        delays.push(a.delay.whole_milliseconds());
        a.failed(T0);
    }
    assert_eq!(delays, [0, 0, 0, 0, 250, 500, 1000, 2000, 4000, 4000, 4000, 4000]);
    let admin = t.begin(ip("192.0.2.9"), "alice", T0).expect("never locked");
    assert_eq!(admin.delay, Duration::seconds(4), "case-insensitive, from any address");
    admin.succeeded();
    assert_eq!(t.begin(ip("192.0.2.9"), "alice", T0).unwrap().delay, Duration::ZERO);
    let much_later = T0 + Duration::minutes(16);
    for i in 0..6 {
        fail(&t, &format!("198.51.100.{i}"), "bob", T0);
    }
    assert_eq!(t.begin(None, "bob", much_later).unwrap().delay, Duration::ZERO, "the window ends");
}

#[test]
fn an_address_may_start_only_so_many_attempts_a_minute() {
    let policy = ThrottlePolicy { per_minute: 3, ..Default::default() };
    let t = LoginThrottle::new(policy);
    for _ in 0..3 {
        t.begin(ip("192.0.2.1"), "alice", T0).unwrap().succeeded();
    }
    let soon = T0 + Duration::seconds(20);
    assert_eq!(
        t.begin(ip("192.0.2.1"), "alice", soon).err(),
        Some(Refusal::TooFast { retry_after: Duration::seconds(40) })
    );
    assert!(t.begin(ip("192.0.2.1"), "alice", T0 + Duration::MINUTE).is_ok());
}

#[test]
fn unlock_clears_the_address_lock_and_the_username_delay() {
    let t = LoginThrottle::new(ThrottlePolicy::default());
    for i in 0..5 {
        fail(&t, "192.0.2.1", "alice", T0);
        fail(&t, &format!("198.51.100.{i}"), "bob", T0);
    }
    assert!(t.begin(ip("192.0.2.1"), "x", T0).is_err());
    assert_eq!(t.unlock(ip("192.0.2.1"), Some("alice")), 2);
    assert!(t.begin(ip("192.0.2.1"), "x", T0).is_ok());
    assert!(t.begin(None, "bob", T0).unwrap().delay > Duration::ZERO);
    assert!(t.unlock(None, None) >= 1);
    assert_eq!(t.begin(None, "bob", T0).unwrap().delay, Duration::ZERO);
}

#[test]
fn a_named_key_locks_like_an_address_whatever_the_address() {
    let t = LoginThrottle::new(ThrottlePolicy::default());
    let device = vec!["device:UDID-1".to_string()];
    // Five guesses from five addresses for one device: the device is locked, not the addresses.
    let mut lock = None;
    for i in 1..=5 {
        let a = t.begin_locking(ip(&format!("192.0.2.{i}")), &device, "alice", T0).unwrap();
        lock = lock.or(a.failed(T0));
    }
    assert_eq!(lock, Some(Duration::minutes(15)));
    assert!(matches!(
        t.begin_locking(ip("192.0.2.9"), &device, "bob", T0),
        Err(Refusal::Locked { .. })
    ));
    assert!(t.begin(ip("192.0.2.9"), "bob", T0).is_ok(), "the address itself is not locked");
}

#[test]
fn parallel_attempts_on_a_named_key_hold_their_places() {
    let t = LoginThrottle::new(ThrottlePolicy::default());
    let user = vec!["user:alice".to_string()];
    let started: Vec<_> = (0..40u8)
        .filter_map(|i| t.begin_locking(ip(&format!("198.51.100.{i}")), &user, "alice", T0).ok())
        .collect();
    assert_eq!(started.len(), 5, "concurrent guesses from many addresses test at most five");
}
