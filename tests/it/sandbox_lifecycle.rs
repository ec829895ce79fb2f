//! The sandbox's demo of Apple's 2026 lifecycle, made through the same calls as
//! `adebox sandbox` (prepare, settle, the demo, settle): a device of the other demo MDM server
//! scheduled to migrate here arrives with "Apple Business set a migration deadline: …" and
//! the profile that awaits final configuration; an iPhone the in-process fleet enrolled went
//! through Return to Service, its timeline showing both enrollments and the audit log its erase
//! as the system's. Exactly one assignment
//! more than the demo server's devices (the migrating one), and a restart does neither again.

use adebox::daemon::{self, Mode, Running, sandbox};
use adebox::devices::TimelineKind;
use adebox::ids::Serial;
use adebox::profiles::schedule::{Assignment, AssignmentState};
use std::path::Path;
use std::time::Duration;

const DEVICES: usize = 6;

async fn start(
    dir: &Path,
) -> (Running, adebox::sim::dep::RunningSimDep, adebox::sim::apns::RunningSimApns) {
    let sim = sandbox::start_simulator_in(dir).await.unwrap();
    let apns = sandbox::start_apns_simulator().await.unwrap();
    let mut opts = crate::common::options(dir, Mode::Sandbox);
    opts.apple = sandbox::apple_side(&sim, &apns);
    opts.sandbox_pushes = Some(apns.feed());
    opts.before_workers = Some(sandbox::restore_hook(&sim, DEVICES));
    let running = daemon::start(opts).await.unwrap();
    sandbox::provision_push_certificate(&running, &apns).await.unwrap();
    sandbox::prepare(&running, dir, &sim, DEVICES).await.unwrap();
    assert!(sandbox::settle(&running, Duration::from_secs(60)).await, "the first sync settled");
    sandbox::demo_lifecycle(&running, &sim).await.unwrap();
    assert!(sandbox::settle(&running, Duration::from_secs(30)).await, "the demo settled");
    (running, sim, apns)
}

async fn assigned(running: &Running) -> Vec<Assignment> {
    let (all, _) = running.services.profiles.assignments(None, None, usize::MAX, 0).await.unwrap();
    all.into_iter().filter(|a| a.state == AssignmentState::Assigned).collect()
}

/// The audit log's erases done by the system (not by an admin).
async fn system_erases(running: &Running) -> Vec<adebox::audit::Entry> {
    let filter = adebox::audit::Filter {
        actor: Some("system".into()),
        action: Some("mdm.erase".into()),
        outcome: None,
    };
    running.services.audit.list(filter, 100, 0).await.unwrap().0
}

#[tokio::test]
async fn the_sandbox_shows_a_migration_deadline_and_a_return_to_service() {
    let dir = tempfile::tempdir().unwrap();
    let (running, sim, apns) = start(dir.path()).await;

    let all = assigned(&running).await;
    assert_eq!(all.len(), DEVICES + 1, "the demo server's devices and the migrating one: {all:?}");
    let forced: Vec<_> = all.iter().filter(|a| a.forced_await).collect();
    assert_eq!(forced.len(), 1, "{all:?}");
    let migrating = running.services.devices.get(&forced[0].serial).await.unwrap().unwrap();
    assert!(migrating.summary.mdm_migration_deadline.is_some(), "{migrating:?}");
    let words = migrating.timeline.iter().map(|e| e.message.as_str()).collect::<Vec<_>>();
    assert!(
        words.iter().any(|w| w.starts_with("Apple Business set a migration deadline: ")),
        "{words:?}"
    );

    let returned = sim.truth().servers.into_iter().find(|s| s.server_name == sandbox::DEMO_SERVER);
    let returned = returned.unwrap().devices.into_iter().find(|d| d.model.starts_with("iPhone"));
    let serial = Serial::parse(&returned.unwrap().serial_number).unwrap();
    let enrollments = |d: &adebox::devices::DeviceDetail| {
        d.timeline.iter().filter(|e| e.kind == TimelineKind::MdmAuthenticated).count()
    };
    let device = running.services.devices.get(&serial).await.unwrap().unwrap();
    assert_eq!(enrollments(&device), 2, "{:?}", device.timeline);
    assert!(device.timeline.iter().any(|e| e.message.contains("returns to service")));
    let erases = system_erases(&running).await;
    assert_eq!(erases.len(), 1, "the demo's erase is audited as the system's: {erases:?}");
    assert_eq!(erases[0].target.as_deref(), Some(serial.as_str()));
    assert_eq!(erases[0].outcome, adebox::audit::Outcome::Success);
    let detail = erases[0].detail.as_deref().unwrap_or_default();
    assert!(detail.contains("erase and return to service (sandbox demo)"), "{detail}");

    // A restart on the same directory makes neither again.
    running.shutdown().await;
    sim.stop().await;
    apns.stop().await;
    let (running, sim, apns) = start(dir.path()).await;
    assert_eq!(assigned(&running).await.len(), DEVICES + 1);
    let device = running.services.devices.get(&serial).await.unwrap().unwrap();
    assert_eq!(enrollments(&device), 2, "{:?}", device.timeline);
    assert_eq!(sim.with_world(|w| w.migrations()).len(), 1);
    assert_eq!(system_erases(&running).await.len(), 1, "not erased, nor audited, again");
    running.shutdown().await;
    sim.stop().await;
    apns.stop().await;
}
