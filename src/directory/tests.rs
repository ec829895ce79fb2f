//! The local directory: accounts added and listed without their hashes, sign-ins that match
//! or not, group rules, and the device's lockout counted across parallel guesses.

use super::*;
use crate::admin::Admin;
use std::net::{IpAddr, Ipv4Addr};
use time::macros::datetime;

fn service() -> (Directory, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let tables = [crate::audit::TABLES, crate::admin::TABLES, TABLES];
    let store = Store::open(dir.path(), &tables).unwrap();
    let clock = Clock::manual(datetime!(2026-11-24 10:00 UTC));
    let admin = Admin::new(store.clone(), clock.clone(), crate::admin::testing_options());
    (Directory::new(store, clock, admin.sign_in_guard()), dir)
}

fn pw(s: &str) -> Secret<String> {
    Secret::new(s.to_string())
}

async fn add(d: &Directory, name: &str, groups: &[&str]) {
    let new = NewLocalUser {
        username: name.into(),
        display_name: format!("{name} Example"),
        email: Some(format!("{name}@example.org")),
        groups: groups.iter().map(|g| g.to_string()).collect(),
        password: pw(&format!("{name} password 1")),
    };
    d.add_local_user(Actor::Cli, new, None).await.unwrap();
}

fn addr(last: u8) -> Option<IpAddr> {
    Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, last)))
}

#[tokio::test]
async fn a_local_account_signs_in_with_its_password_only() {
    let (d, _t) = service();
    assert!(d.usable(Source::Local).await.unwrap().is_err(), "no accounts: not usable");
    add(&d, "alice", &["Staff"]).await;
    assert_eq!(d.usable(Source::Local).await.unwrap(), Ok(()));
    let a = d.sign_in(Source::Local, addr(1), &[], "Alice", pw("alice password 1")).await.unwrap();
    assert_eq!(a.username, "alice");
    assert_eq!(a.email.as_deref(), Some("alice@example.org"));
    assert!(a.in_any_group(&["staff".into()]) && !a.in_any_group(&["pupils".into()]));
    assert!(a.in_any_group(&[]), "no group rule: everyone");
    let wrong = d.sign_in(Source::Local, addr(1), &[], "alice", pw("nope nope nope")).await;
    assert!(matches!(wrong, Err(SignInFailure::Wrong)), "{wrong:?}");
    let unknown = d.sign_in(Source::Local, addr(1), &[], "mallory", pw("whatever 12")).await;
    assert!(matches!(unknown, Err(SignInFailure::Wrong)), "{unknown:?}");
    let listed = serde_json::to_string(&d.local_users().await.unwrap()).unwrap();
    assert!(listed.contains("alice") && !listed.contains("argon2"), "{listed}");
}

#[tokio::test]
async fn new_accounts_are_checked_and_unique() {
    let (d, _t) = service();
    add(&d, "alice", &[]).await;
    let dup = NewLocalUser {
        username: "ALICE".into(),
        display_name: "Alice".into(),
        email: None,
        groups: vec![],
        password: pw("long enough pw"),
    };
    assert!(matches!(
        d.add_local_user(Actor::Cli, dup, None).await,
        Err(DirectoryError::Conflict(_))
    ));
    let bad = NewLocalUser {
        username: "a b".into(),
        display_name: "A".into(),
        email: None,
        groups: vec![],
        password: pw("long enough pw"),
    };
    assert!(matches!(
        d.add_local_user(Actor::Cli, bad, None).await,
        Err(DirectoryError::Validation { field: "username", .. })
    ));
    d.delete_local_user(Actor::Cli, "Alice").await.unwrap();
    assert!(d.local_users().await.unwrap().is_empty());
    assert!(matches!(
        d.delete_local_user(Actor::Cli, "alice").await,
        Err(DirectoryError::NotFound(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_guesses_for_one_device_test_at_most_five_passwords() {
    let (d, _t) = service();
    add(&d, "alice", &[]).await;
    let locks = vec!["device:UDID-1".to_string()];
    let mut tries = Vec::new();
    for i in 0..30u8 {
        let (d, locks) = (d.clone(), locks.clone());
        tries.push(tokio::spawn(async move {
            d.sign_in(Source::Local, addr(i), &locks, "alice", pw("wrong guess 1")).await
        }));
    }
    let mut wrong = 0;
    for t in tries {
        if matches!(t.await.unwrap(), Err(SignInFailure::Wrong)) {
            wrong += 1;
        }
    }
    assert!(wrong <= 5, "{wrong} guesses were checked");
    let right = d.sign_in(Source::Local, addr(99), &locks, "alice", pw("alice password 1")).await;
    assert!(matches!(right, Err(SignInFailure::LockedOut { .. })), "{right:?}");
}
