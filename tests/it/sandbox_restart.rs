//! The sandbox restarted on its data directory (in process, through the same calls as
//! `adebox sandbox`): a set-up an earlier run did not finish (killed after the demo token was
//! added, before the demo profile) is completed, and the new simulated Apple side knows the
//! stored token before any worker calls it: no sync is refused, every device gets the demo
//! profile without waiting for a retry.

use adebox::audit::Actor;
use adebox::daemon::{self, Mode, Running, sandbox};
use adebox::sim::apns::RunningSimApns;
use adebox::sim::dep::RunningSimDep;
use adebox::sim::dep::portal_client::PortalClient;
use adebox::sync::RunOutcome;
use std::path::Path;
use std::time::{Duration, Instant};

const DEVICES: usize = 40;

/// Starts simulators and the daemon as `adebox sandbox` does (default DEP backoff: a refused
/// call would leave the token alone for minutes).
async fn start(dir: &Path) -> (Running, RunningSimDep, RunningSimApns) {
    let sim = sandbox::start_simulator().await.unwrap();
    let apns = sandbox::start_apns_simulator().await.unwrap();
    let mut opts = crate::common::options(dir, Mode::Sandbox);
    opts.apple = sandbox::apple_side(&sim, &apns);
    opts.sandbox_pushes = Some(apns.feed());
    opts.before_workers = Some(sandbox::restore_hook(&sim, DEVICES));
    let running = daemon::start(opts).await.unwrap();
    (running, sim, apns)
}

/// What the first run got done before it was killed: the demo server at the simulated ABM,
/// its devices, the token added (the real path), no profile.
async fn demo_token_only(running: &Running, sim: &RunningSimDep) -> adebox::ids::TokenId {
    let http = adebox::outbound::client(&adebox::outbound::OutboundConfig::trusting_only([sim
        .ca_pem()
        .to_string()]))
    .unwrap();
    let portal = PortalClient::new(sim.portal_url(), http);
    let key = running.services.tokens.create_pending_key(Actor::System, None).await.unwrap();
    let cert = running.services.tokens.pending_key_certificate(&key.id).await.unwrap();
    let issued = portal.create_server(sandbox::DEMO_SERVER, &cert).await.unwrap();
    portal.add_devices(issued["server_uuid"].as_str().unwrap(), DEVICES).await.unwrap();
    let p7m = issued["token_p7m"].as_str().unwrap();
    let token = running
        .services
        .tokens
        .add(Actor::System, &key.id, p7m.as_bytes(), sandbox::DEMO_APPLE_ID)
        .await
        .unwrap();
    token.id
}

#[tokio::test]
async fn restart_completes_the_demo_profile_and_syncs_without_refusal() {
    let dir = tempfile::tempdir().unwrap();
    let (running, sim, apns) = start(dir.path()).await;
    let token = demo_token_only(&running, &sim).await;
    running.shutdown().await;
    sim.stop().await;
    apns.stop().await;

    let restarted_at = adebox::clock::Clock::system().now();
    let (running, sim, apns) = start(dir.path()).await;
    // Before the set-up runs again the new simulator already holds the demo server's devices
    // and the stored token: the first sync after the restart completes.
    sandbox::provision_push_certificate(&running, &apns).await.unwrap();
    sandbox::prepare(&running, dir.path(), &sim, DEVICES).await.unwrap();

    let profiles = running.services.profiles.list().await.unwrap();
    let demo: Vec<_> = profiles.iter().filter(|p| p.input.name == sandbox::DEMO_PROFILE).collect();
    assert_eq!(demo.len(), 1, "the restart made the demo profile, once");
    let defaults = running.services.profiles.defaults().await.unwrap();
    assert!(
        defaults.iter().any(|d| d.token_id == token && d.profile_id == demo[0].id),
        "the demo profile is the demo token's default: {defaults:?}"
    );

    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (assigned, _) = running
            .services
            .profiles
            .assignments(Some("assigned".into()), None, usize::MAX, 0)
            .await
            .unwrap();
        if assigned.len() >= DEVICES {
            break;
        }
        if Instant::now() > deadline {
            let (all, _) =
                running.services.profiles.assignments(None, None, usize::MAX, 0).await.unwrap();
            let status = running.services.sync.status(&token, true).await.unwrap();
            panic!(
                "{} of {DEVICES} devices have the demo profile a minute after the restart; \
                 assignments {all:?}; sync {:?}",
                assigned.len(),
                status.history
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let status = running.services.sync.status(&token, true).await.unwrap();
    let since: Vec<_> = status.history.iter().filter(|r| r.started_at >= restarted_at).collect();
    assert!(!since.is_empty(), "a sync ran after the restart");
    for r in &since {
        assert_ne!(r.outcome, RunOutcome::Failed, "a sync after the restart failed: {}", r.message);
    }
    assert_eq!(status.consecutive_failures, 0);

    // A third start changes nothing: no second demo profile.
    running.shutdown().await;
    sim.stop().await;
    apns.stop().await;
    let (running, sim, apns) = start(dir.path()).await;
    sandbox::prepare(&running, dir.path(), &sim, DEVICES).await.unwrap();
    let profiles = running.services.profiles.list().await.unwrap();
    assert_eq!(profiles.iter().filter(|p| p.input.name == sandbox::DEMO_PROFILE).count(), 1);
    running.shutdown().await;
    sim.stop().await;
    apns.stop().await;
}
