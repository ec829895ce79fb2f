//! Sign-in under concurrency: the lockout rule against bursts, the bounded checks, and
//! unknown names costing what known ones do.

use super::super::*;
use std::net::{IpAddr, Ipv4Addr};
use time::macros::datetime;

fn service() -> (Admin, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), &[crate::audit::TABLES, TABLES]).unwrap();
    let clock = Clock::manual(datetime!(2026-11-24 10:00 UTC));
    // Only the lockout rule limits the bursts below: the gate lets all of them wait.
    (Admin::new(store, clock, testing_options()), dir)
}

fn pw(s: &str) -> Secret<String> {
    Secret::new(s.to_string())
}

const RIGHT: &str = "alice password 1";

async fn set_up(admin: &Admin) {
    let code = admin.prepare_setup_code().await.unwrap().unwrap();
    admin.setup(code.expose(), "alice", pw(RIGHT), None).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_from_one_address_tests_at_most_the_allowed_number() {
    let (admin, _d) = service();
    set_up(&admin).await;
    let guard = admin.sign_in_guard();
    for burst in 0..7u8 {
        let addr = Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 100 + burst)));
        let runs_before = guard.hash_runs();
        let mut tries = Vec::new();
        for _ in 0..40 {
            let admin = admin.clone();
            tries.push(tokio::spawn(async move {
                admin.login("alice", pw("a wrong password"), addr).await
            }));
        }
        // The right password, inside the burst once five wrong ones have been tested (their
        // failures counted or about to be: either way they hold every place).
        while guard.hash_runs() - runs_before < 5 {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        let right = {
            let admin = admin.clone();
            tokio::spawn(async move { admin.login("alice", pw(RIGHT), addr).await })
        };
        let (mut wrong, mut locked, mut refused) = (0, 0, 0);
        for t in tries {
            match t.await.unwrap() {
                Err(AdminError::BadCredentials) => wrong += 1,
                Err(AdminError::LockedOut { .. }) => locked += 1,
                Err(AdminError::Busy { .. }) => refused += 1,
                other => panic!("unexpected answer in burst {burst}: {other:?}"),
            }
        }
        let hashed = guard.hash_runs() - runs_before;
        let right = right.await.unwrap();
        assert!(
            matches!(right, Err(AdminError::LockedOut { .. } | AdminError::Busy { .. })),
            "burst {burst}: the right password got in after the allowed tries: {right:?}"
        );
        assert!(hashed <= 5, "burst {burst}: {hashed} passwords tested, at most 5 may be");
        assert_eq!(wrong, 4, "burst {burst}: four wrong answers, then the lock");
        assert!(locked >= 1, "burst {burst}: the fifth failure locks");
        assert_eq!(wrong + locked + refused, 40);
        assert!(
            matches!(
                admin.login("alice", pw(RIGHT), addr).await,
                Err(AdminError::LockedOut { .. })
            ),
            "burst {burst}: the address stays locked"
        );
    }
    // Another address signs in: the username was slowed, never locked.
    let elsewhere = Some(IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1)));
    assert!(admin.login("alice", pw(RIGHT), elsewhere).await.is_ok());
}

#[tokio::test]
async fn an_unknown_name_takes_the_same_bounded_check() {
    let (admin, _d) = service();
    set_up(&admin).await;
    let guard = admin.sign_in_guard();
    let addr = Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
    let before = guard.hash_runs();
    assert!(matches!(
        admin.login("mallory", pw("a wrong password"), addr).await,
        Err(AdminError::BadCredentials)
    ));
    assert!(matches!(
        admin.login("alice", pw("a wrong password"), addr).await,
        Err(AdminError::BadCredentials)
    ));
    assert_eq!(guard.hash_runs() - before, 2, "one argon2 run each, known or not");
    for _ in 0..3 {
        let _ = admin.login("nobody", pw("a wrong password"), addr).await;
    }
    assert!(
        matches!(admin.login("alice", pw(RIGHT), addr).await, Err(AdminError::LockedOut { .. })),
        "failures for unknown names count towards the address's lock too"
    );
}

#[tokio::test]
async fn unlock_lifts_the_address_lock() {
    let (admin, _d) = service();
    set_up(&admin).await;
    let addr = Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
    for _ in 0..5 {
        let _ = admin.login("alice", pw("a wrong password"), addr).await;
    }
    assert!(matches!(
        admin.login("alice", pw(RIGHT), addr).await,
        Err(AdminError::LockedOut { .. })
    ));
    assert!(admin.unlock(addr, Some("alice")) >= 1);
    assert!(admin.login("alice", pw(RIGHT), addr).await.is_ok());
}
