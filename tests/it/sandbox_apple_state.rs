//! The sandbox restarted on its data directory finds the simulated Apple side as the earlier
//! run left it: a token rehearsed at the simulated ABM is still accepted, migrations scheduled
//! and changed there are still there, devices and the profiles assigned at Apple are where
//! they were. A saved side that cannot be read stops the start with an error naming the file.

use adebox::audit::Actor;
use adebox::daemon::{self, Mode, Running, sandbox};
use adebox::ids::TokenId;
use adebox::sim::apns::RunningSimApns;
use adebox::sim::dep::RunningSimDep;
use adebox::sim::dep::portal_client::PortalClient;
use adebox::sync::{ManualKind, RunKind, RunOutcome};
use std::path::Path;
use std::time::{Duration, Instant};
use time::OffsetDateTime;

const DEVICES: usize = 30;

/// Starts simulators and the daemon as `adebox sandbox` does, the simulated Apple side kept
/// in `dir`.
async fn start(dir: &Path) -> (Running, RunningSimDep, RunningSimApns) {
    let sim = sandbox::start_simulator_in(dir).await.unwrap();
    let apns = sandbox::start_apns_simulator().await.unwrap();
    let mut opts = crate::common::options(dir, Mode::Sandbox);
    opts.apple = sandbox::apple_side(&sim, &apns);
    opts.sandbox_pushes = Some(apns.feed());
    opts.before_workers = Some(sandbox::restore_hook(&sim, DEVICES));
    let running = daemon::start(opts).await.unwrap();
    (running, sim, apns)
}

async fn stop(running: Running, sim: RunningSimDep, apns: RunningSimApns) {
    running.shutdown().await;
    sim.stop().await;
    apns.stop().await;
}

fn portal(sim: &RunningSimDep) -> PortalClient {
    let ca = [sim.ca_pem().to_string()];
    let http = adebox::outbound::client(&adebox::outbound::OutboundConfig::trusting_only(ca));
    PortalClient::new(sim.portal_url(), http.unwrap())
}

/// Waits until every demo device has a profile assigned at Apple.
async fn demo_profiles_assigned(running: &Running) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let filter = Some("assigned".into());
        let (assigned, _) =
            running.services.profiles.assignments(filter, None, usize::MAX, 0).await.unwrap();
        if assigned.len() >= DEVICES {
            return;
        }
        assert!(Instant::now() < deadline, "{} of {DEVICES} assigned", assigned.len());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits until a sync of `token` started at or after `since` completed; none of them failed.
async fn synced_since(running: &Running, token: &TokenId, since: OffsetDateTime) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let status = running.services.sync.status(token, true).await.unwrap();
        let runs: Vec<_> = status.history.iter().filter(|r| r.started_at >= since).collect();
        for r in &runs {
            assert_ne!(r.outcome, RunOutcome::Failed, "a sync failed: {}", r.message);
        }
        if runs.iter().any(|r| r.outcome == RunOutcome::Completed) {
            return;
        }
        assert!(Instant::now() < deadline, "no sync completed in a minute: {runs:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn restart_keeps_the_rehearsed_token_the_migrations_devices_and_profiles() {
    let dir = tempfile::tempdir().unwrap();
    let started = adebox::clock::Clock::system().now();
    let (running, sim, apns) = start(dir.path()).await;
    sandbox::prepare(&running, dir.path(), &sim, DEVICES).await.unwrap();
    demo_profiles_assigned(&running).await;

    // Rehearse adding a token, as the Sandbox page does: a pending key, a new server at the
    // simulated ABM, its .p7m uploaded.
    let abm = portal(&sim);
    let key = running.services.tokens.create_pending_key(Actor::System, None).await.unwrap();
    let cert = running.services.tokens.pending_key_certificate(&key.id).await.unwrap();
    let issued = abm.create_server("Rehearsal server", &cert).await.unwrap();
    let rehearsal = issued["server_uuid"].as_str().unwrap().to_string();
    abm.add_devices(&rehearsal, 4).await.unwrap();
    let p7m = issued["token_p7m"].as_str().unwrap();
    let token = running
        .services
        .tokens
        .add(Actor::System, &key.id, p7m.as_bytes(), "rehearsal@example.org")
        .await
        .unwrap()
        .id;
    synced_since(&running, &token, started).await;

    // Two demo devices migrate to the rehearsal server; one deadline changes.
    let truth = sim.truth();
    let demo = truth.servers.iter().find(|s| s.server_name == sandbox::DEMO_SERVER).unwrap();
    let serials: Vec<String> =
        demo.devices.iter().take(2).map(|d| d.serial_number.clone()).collect();
    abm.schedule_migration(&serials, &rehearsal, 20).await.unwrap();
    abm.change_migration(&serials[..1], 5).await.unwrap();

    let truth_before = serde_json::to_value(sim.truth()).unwrap();
    let migrations_before = abm.migrations().await.unwrap();
    assert_eq!(migrations_before.as_array().map(Vec::len), Some(2));
    stop(running, sim, apns).await;

    let restarted_at = adebox::clock::Clock::system().now();
    let (running, sim, apns) = start(dir.path()).await;
    let abm = portal(&sim);
    assert_eq!(serde_json::to_value(sim.truth()).unwrap(), truth_before, "devices and profiles");
    assert_eq!(abm.migrations().await.unwrap(), migrations_before);
    // The rehearsed token is accepted: "Sync now" after the restart completes, from the
    // cursor the earlier run stored.
    let kind =
        running.services.sync.request(Actor::System, &token, ManualKind::Sync).await.unwrap();
    assert_eq!(kind, RunKind::Delta, "the earlier run's cursor is used");
    synced_since(&running, &token, restarted_at).await;
    let status = running.services.sync.status(&token, true).await.unwrap();
    let last = status.last_run.expect("a run");
    assert_eq!((last.kind, last.outcome), (RunKind::Delta, RunOutcome::Completed), "{last:?}");
    stop(running, sim, apns).await;
}

#[tokio::test]
async fn a_damaged_saved_apple_side_stops_the_start_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(sandbox::SIMULATED_APPLE_FILE);
    std::fs::write(&path, b"{\"format\": 1, \"servers\": [").unwrap();
    let e = sandbox::start_simulator_in(dir.path()).await.err().expect("refused").to_string();
    assert!(e.contains(&path.display().to_string()), "{e}");
    assert!(e.contains("delete it to start the simulated Apple side afresh"), "{e}");
    assert_eq!(std::fs::read(&path).unwrap(), b"{\"format\": 1, \"servers\": [", "left as it was");
}
