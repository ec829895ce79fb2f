//! Sync against the real DEP simulator over HTTPS: the inventory must end equal to the
//! simulator's truth, whatever faults and quirks are on.

use super::*;
use crate::audit::Actor;
use crate::devices::{DeviceFilter, SortKey};
use crate::sim::dep::{Faults, Quirks};
use crate::tokens::tests::{Kit, add_token, kit_with};
use std::collections::BTreeSet;
use time::Duration;

struct Env {
    k: Kit,
    sync: Sync,
    devices: Devices,
}

/// What sync is built with here: no one listens to the devices a page changed.
fn parts(k: &Kit, devices: &Devices, retry: RetryPolicy) -> SyncParts {
    SyncParts {
        tokens: k.tokens.clone(),
        devices: devices.clone(),
        http: k.http.clone(),
        retry,
        gates: crate::depclient::Gates::default(),
        devices_hook: std::sync::Arc::new(|_, _| {}),
    }
}

async fn env(page_limit: u32) -> Env {
    let k =
        kit_with(&[crate::audit::TABLES, crate::tokens::TABLES, crate::devices::TABLES, TABLES])
            .await;
    let devices = Devices::new(k.store.clone());
    let retry = RetryPolicy {
        base_delay: std::time::Duration::from_millis(5),
        max_delay: std::time::Duration::from_millis(50),
        max_attempts: 8,
        ..RetryPolicy::default()
    };
    let sync = Sync::new(k.store.clone(), Clock::system(), parts(&k, &devices, retry));
    let settings = SyncSettings { page_limit, ..SyncSettings::default() };
    sync.set_settings(Actor::System, settings).await.unwrap();
    Env { k, sync, devices }
}

fn server_id(e: &Env, uuid: &str) -> u32 {
    e.k.sim.with_world(|w| w.server_by_uuid(uuid).unwrap())
}

fn add_devices(e: &Env, uuid: &str, n: usize) -> Vec<String> {
    let id = server_id(e, uuid);
    let now = e.k.sim.now();
    e.k.sim.with_world(|w| w.add_devices(Some(id), n, &[], now).unwrap())
}

/// Serials the simulator says are at this server.
fn truth(e: &Env, uuid: &str) -> BTreeSet<String> {
    e.k.sim.with_world(|w| {
        w.truth()
            .servers
            .into_iter()
            .find(|s| s.server_uuid == uuid)
            .map(|s| s.devices.into_iter().map(|d| d.serial_number).collect())
            .unwrap_or_default()
    })
}

/// Serials our inventory has active for this token.
async fn ours(e: &Env, token: &crate::ids::TokenId) -> BTreeSet<String> {
    let f = DeviceFilter { token: Some(token.clone()), ..Default::default() };
    e.devices
        .list(f, SortKey::Serial, false, 1_000_000, 0)
        .await
        .unwrap()
        .0
        .into_iter()
        .map(|d| d.serial.into_string())
        .collect()
}

#[tokio::test]
async fn a_full_sync_then_deltas_keep_the_inventory_equal_to_apple() {
    let e = env(100).await;
    let (t, uuid) = add_token(&e.k, "Main campus").await;
    add_devices(&e, &uuid, 250);
    let r = e.sync.run_now(&t.id, RunKind::Full).await.unwrap();
    assert_eq!(r.outcome, RunOutcome::Completed, "{}", r.message);
    assert_eq!(r.pages, 3);
    assert_eq!(r.stats.added, 250);
    assert_eq!(ours(&e, &t.id).await, truth(&e, &uuid));

    // Apple-side changes: new devices, a move to another server, a release.
    let (t2, uuid2) = add_token(&e.k, "Annex").await;
    add_devices(&e, &uuid, 20);
    let moving: Vec<String> = truth(&e, &uuid).into_iter().take(5).collect();
    let releasing: Vec<String> = truth(&e, &uuid).into_iter().skip(5).take(3).collect();
    let now = e.k.sim.now();
    let to = server_id(&e, &uuid2);
    e.k.sim.with_world(|w| {
        w.move_devices(&moving, to, now).unwrap();
        w.release_devices(&releasing, false, now);
    });
    let r = e.sync.run_now(&t.id, RunKind::Delta).await.unwrap();
    assert_eq!(r.outcome, RunOutcome::Completed, "{}", r.message);
    assert_eq!(ours(&e, &t.id).await, truth(&e, &uuid));
    let r2 = e.sync.run_now(&t2.id, RunKind::Full).await.unwrap();
    assert_eq!(r2.stats.moved, 5, "{}", r2.message);
    assert_eq!(ours(&e, &t2.id).await, truth(&e, &uuid2));
    let releasing = crate::ids::Serial::parse(&releasing[0]).unwrap();
    let released = e.devices.get(&releasing).await.unwrap().unwrap();
    assert!(released.summary.removed.is_some());
}

#[tokio::test]
async fn silent_releases_are_caught_by_the_next_full_sync() {
    let e = env(1000).await;
    let (t, uuid) = add_token(&e.k, "Main campus").await;
    add_devices(&e, &uuid, 40);
    e.sync.run_now(&t.id, RunKind::Full).await.unwrap();
    e.k.sim.set_quirks(Quirks { release_emits_deleted: false, ..Quirks::default() });
    let gone: Vec<String> = truth(&e, &uuid).into_iter().take(4).collect();
    let now = e.k.sim.now();
    e.k.sim.with_world(|w| w.release_devices(&gone, false, now));
    e.sync.run_now(&t.id, RunKind::Delta).await.unwrap();
    assert_eq!(ours(&e, &t.id).await.len(), 40, "Apple said nothing");
    let r = e.sync.run_now(&t.id, RunKind::Full).await.unwrap();
    assert_eq!(r.swept, 4, "{}", r.message);
    assert_eq!(ours(&e, &t.id).await, truth(&e, &uuid));
}

#[tokio::test]
async fn faults_do_not_change_the_result() {
    let e = env(50).await;
    let (t, uuid) = add_token(&e.k, "Main campus").await;
    add_devices(&e, &uuid, 300);
    e.k.sim.set_faults(Faults {
        server_error_rate: 0.15,
        too_many_requests_rate: 0.1,
        retry_after_secs: 0,
        reset_rate: 0.05,
        duplicate_rate: 0.2,
        ..Faults::default()
    });
    // A run may give up on a bad streak; the next ones resume, and the result converges.
    for _ in 0..10 {
        let r = e.sync.run_now(&t.id, RunKind::Full).await.unwrap();
        if r.outcome == RunOutcome::Completed {
            break;
        }
    }
    assert_eq!(ours(&e, &t.id).await, truth(&e, &uuid));
    add_devices(&e, &uuid, 30);
    for _ in 0..10 {
        let kind =
            e.sync.status(&t.id, false).await.unwrap().next_run_kind.unwrap_or(RunKind::Delta);
        let r = e.sync.run_now(&t.id, kind).await.unwrap();
        if r.outcome == RunOutcome::Completed && kind == RunKind::Delta {
            break;
        }
    }
    e.k.sim.set_faults(Faults::default());
    assert_eq!(ours(&e, &t.id).await, truth(&e, &uuid));
}

#[tokio::test]
async fn an_echoed_cursor_ends_the_run_with_a_warning_instead_of_looping() {
    let e = env(100).await;
    let (t, uuid) = add_token(&e.k, "Main campus").await;
    add_devices(&e, &uuid, 250);
    e.k.sim.set_faults(Faults { echo_cursor_rate: 1.0, ..Faults::default() });
    let r = e.sync.run_now(&t.id, RunKind::Full).await.unwrap();
    assert_eq!(r.outcome, RunOutcome::CompletedWithWarning, "{}", r.message);
    assert!(r.message.contains("same cursor"), "{}", r.message);
    assert!(r.pages <= 2);
}

#[tokio::test]
async fn an_expired_cursor_makes_the_next_run_a_full_one() {
    let e = env(1000).await;
    let (t, uuid) = add_token(&e.k, "Main campus").await;
    add_devices(&e, &uuid, 10);
    e.sync.run_now(&t.id, RunKind::Full).await.unwrap();
    e.k.sim.advance(Duration::days(8));
    let r = e.sync.run_now(&t.id, RunKind::Delta).await.unwrap();
    assert_eq!(r.outcome, RunOutcome::Failed);
    assert_eq!(r.error_code.as_deref(), Some("EXPIRED_CURSOR"));
    let s = e.sync.status(&t.id, true).await.unwrap();
    assert_eq!(s.next_run_kind, Some(RunKind::Full));
    assert_eq!(s.history.len(), 2);
    let r = e.sync.run_now(&t.id, RunKind::Full).await.unwrap();
    assert_eq!(r.outcome, RunOutcome::Completed);
}

#[tokio::test]
async fn a_revoked_token_is_marked_broken_and_a_good_run_clears_it() {
    let e = env(1000).await;
    let (t, uuid) = add_token(&e.k, "Main campus").await;
    add_devices(&e, &uuid, 5);
    e.k.sim.set_faults(Faults { revoked: true, ..Faults::default() });
    let r = e.sync.run_now(&t.id, RunKind::Full).await.unwrap();
    assert_eq!(r.outcome, RunOutcome::Failed);
    let view = e.k.tokens.get(&t.id).await.unwrap();
    assert_eq!(view.state, crate::tokens::ExpiryState::Broken, "{:?}", view.problem);
    e.k.sim.set_faults(Faults::default());
    e.sync.run_now(&t.id, RunKind::Full).await.unwrap();
    assert_eq!(e.k.tokens.get(&t.id).await.unwrap().state, crate::tokens::ExpiryState::Ok);
}

#[tokio::test]
async fn interrupted_runs_lose_nothing_and_duplicate_nothing() {
    let e = env(20).await;
    let (t, uuid) = add_token(&e.k, "Main campus").await;
    add_devices(&e, &uuid, 200);
    // Cut the run off at many points, as a kill would; every committed page stays, the
    // next run resumes from the last committed cursor.
    for ms in [5u64, 15, 30, 45, 60, 90, 120, 200] {
        let _ = tokio::time::timeout(
            std::time::Duration::from_millis(ms),
            e.sync.run_now(&t.id, RunKind::Full),
        )
        .await;
    }
    let mut done = false;
    for _ in 0..5 {
        if e.sync.run_now(&t.id, RunKind::Full).await.unwrap().outcome == RunOutcome::Completed {
            done = true;
            break;
        }
    }
    assert!(done);
    let mine = ours(&e, &t.id).await;
    let want = truth(&e, &uuid);
    let extra: Vec<_> = mine.difference(&want).collect();
    let missing: Vec<_> = want.difference(&mine).collect();
    assert!(extra.is_empty() && missing.is_empty(), "extra {extra:?}, missing {missing:?}");
    let (_, total) = e
        .devices
        .list(
            DeviceFilter { include_removed: true, ..Default::default() },
            SortKey::Serial,
            false,
            1,
            0,
        )
        .await
        .unwrap();
    assert_eq!(total, 200, "no duplicates");
}

#[tokio::test]
async fn manual_syncs_respect_the_budget() {
    let e = env(1000).await;
    let (t, _) = add_token(&e.k, "Main campus").await;
    // The first sync of a new token is not held to the budget.
    assert_eq!(
        e.sync.request(Actor::Admin("a".into()), &t.id, ManualKind::Sync).await.unwrap(),
        RunKind::Full
    );
    assert_eq!(
        e.sync.request(Actor::Admin("a".into()), &t.id, ManualKind::Sync).await.unwrap(),
        RunKind::Full
    );
    e.sync.run_now(&t.id, RunKind::Full).await.unwrap();
    assert_eq!(
        e.sync.request(Actor::Admin("a".into()), &t.id, ManualKind::Sync).await.unwrap(),
        RunKind::Delta
    );
    let err = e.sync.request(Actor::Admin("a".into()), &t.id, ManualKind::Sync).await.unwrap_err();
    let SyncError::TooSoon { next_allowed_at, .. } = err else { panic!("{err}") };
    assert!(next_allowed_at > e.sync.now() + Duration::minutes(14));
    let s = e.sync.status(&t.id, false).await.unwrap();
    assert_eq!(s.manual_allowed_at, Some(next_allowed_at));
    assert!(matches!(
        e.sync
            .request(Actor::System, &crate::ids::TokenId::parse("nope").unwrap(), ManualKind::Sync)
            .await,
        Err(SyncError::UnknownToken(_))
    ));
}

#[tokio::test]
async fn the_worker_runs_the_first_sync_by_itself_and_stops_on_request() {
    let e = env(1000).await;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let supervisor = tokio::spawn(e.sync.clone().supervise(stop_rx));
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let (t, uuid) = add_token(&e.k, "Main campus").await;
    add_devices(&e, &uuid, 30);
    let mut synced = false;
    for _ in 0..100 {
        if ours(&e, &t.id).await.len() == 30 {
            synced = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(synced, "the worker did not sync a new token");
    stop_tx.send(true).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(5), supervisor).await.unwrap().unwrap();
}

#[tokio::test]
async fn a_run_past_its_time_limit_is_stopped_reported_and_resumed() {
    let k =
        kit_with(&[crate::audit::TABLES, crate::tokens::TABLES, crate::devices::TABLES, TABLES])
            .await;
    let devices = Devices::new(k.store.clone());
    let clock = Clock::manual(Clock::system().now());
    let sync =
        Sync::new(k.store.clone(), clock.clone(), parts(&k, &devices, RetryPolicy::default()));
    sync.set_settings(Actor::System, SyncSettings { page_limit: 10, ..SyncSettings::default() })
        .await
        .unwrap();
    let (t, uuid) = add_token(&k, "Main campus").await;
    let id = k.sim.with_world(|w| w.server_by_uuid(&uuid).unwrap());
    let now = k.sim.now();
    k.sim.with_world(|w| w.add_devices(Some(id), 100, &[], now).unwrap());
    k.sim.set_faults(Faults {
        slow: Some(crate::sim::dep::faults::Slow {
            delay: std::time::Duration::from_millis(50),
            rate: 1.0,
        }),
        ..Faults::default()
    });
    // Time runs out while the run is between pages.
    let c = clock.clone();
    let mover = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        c.advance(Duration::minutes(16));
    });
    let r = sync.run_now(&t.id, RunKind::Full).await.unwrap();
    mover.await.unwrap();
    assert_eq!(r.outcome, RunOutcome::TimedOut, "{}", r.message);
    assert!(r.message.contains("continues where this one stopped"), "{}", r.message);
    assert!(r.pages > 0 && r.pages < 10, "{}", r.pages);
    k.sim.set_faults(Faults::default());
    let r = sync.run_now(&t.id, RunKind::Full).await.unwrap();
    assert_eq!(r.outcome, RunOutcome::Completed, "{}", r.message);
    let f = DeviceFilter { token: Some(t.id.clone()), ..Default::default() };
    assert_eq!(devices.list(f, SortKey::Serial, false, 1000, 0).await.unwrap().1, 100);
}

/// A run as `sync.history` kept it before the sync answered with [`super::Run`] reads back
/// and is re-written byte for byte; the run the sync reports carries the same values.
#[test]
fn a_stored_run_keeps_its_bytes() {
    let stored = br#"{"kind":"full_new_only","started_at":"2026-12-07T11:00:00Z","ended_at":"2026-12-07T11:00:03.5Z","outcome":"completed_with_warning","pages":3,"stats":{"seen":250,"added":200,"modified":1,"removed":2,"moved":3,"unchanged":40,"ignored":4},"swept":2,"message":"done","error_code":null,"manual":true}"#;
    let r: super::state::RunRecord = crate::store::decode("sync.history", stored).unwrap();
    assert_eq!(crate::store::encode(&r), stored.to_vec());
    let run = super::Run::from(&r);
    assert_eq!((run.kind, run.outcome), (RunKind::FullNewOnly, RunOutcome::CompletedWithWarning));
    assert_eq!((run.pages, run.stats.added, run.swept, run.manual), (3, 200, 2, true));
    assert_eq!(run.ended_at - run.started_at, time::Duration::milliseconds(3500));
}
