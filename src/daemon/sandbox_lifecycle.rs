//! The sandbox's demo of Apple's 2026 lifecycle (`../shared/spec/apple-2026.md` §1, §2), made
//! once the first sync has assigned the demo profile: a device moving in from the other demo
//! MDM server with a migration deadline (scheduled at the simulated Apple Business portal, so
//! the next sync shows it with "Apple Business set a migration deadline: …" and assigns it the
//! profile with "await final configuration"), and an iPhone the in-process fleet enrolls, then
//! returns to service: its timeline shows both enrollments, and the audit log has the erase as
//! the system's (an erase is audited whoever asks). Each half is skipped when an
//! earlier start made it (the sandbox's data directory is kept across restarts).

use super::Running;
use super::sandbox::{DEMO_SERVER, DEMO_WIFI_PROFILE, OTHER_SERVER};
use crate::audit::{Action, Actor, NewEntry, Outcome};
use crate::ids::Serial;
use crate::sim::dep::RunningSimDep;
use crate::sim::dep::portal_client::PortalClient;
use crate::sync::RunKind;

/// Days until the demo migration's deadline (the portal takes 1–90, spec §1.1).
const DEADLINE_DAYS: i64 = 30;
/// Who the demo's Return to Service is by, on the device's timeline.
const ACTOR: &str = "sandbox demo";

/// Makes both demo devices; what fails is logged and leaves the rest of the sandbox running.
pub async fn demo_lifecycle(running: &Running, sim: &RunningSimDep) -> anyhow::Result<()> {
    let tokens = running.services.tokens.list().await?;
    let Some(demo) = tokens.iter().find(|t| t.server_name == DEMO_SERVER) else {
        return Ok(()); // the admin's own tokens keep the demo away
    };
    if let Err(e) = migration(running, sim, &demo.id, &demo.server_uuid).await {
        log::warn!("the sandbox's migration-deadline demo was not made: {e}");
    }
    if let Err(e) = return_to_service(running, sim, &demo.server_uuid).await {
        log::warn!("the sandbox's Return to Service demo was not made: {e}");
    }
    Ok(())
}

/// Schedules the move of the other MDM server's first device to the demo server, then syncs
/// so that it arrives with its deadline (and its assignment is queued).
async fn migration(
    running: &Running,
    sim: &RunningSimDep,
    token: &crate::ids::TokenId,
    to: &str,
) -> anyhow::Result<()> {
    let scheduled = sim.with_world(|w| w.migrations());
    if scheduled.iter().any(|m| m.to_server_uuid.eq_ignore_ascii_case(to)) {
        return Ok(());
    }
    let truth = sim.truth();
    let other = truth.servers.iter().find(|s| s.server_name == OTHER_SERVER);
    let Some(device) = other.and_then(|s| s.devices.first()) else {
        anyhow::bail!("the simulated Apple side has no device at {OTHER_SERVER}");
    };
    let http = crate::outbound::client(&crate::outbound::OutboundConfig::trusting_only([sim
        .ca_pem()
        .to_string()]))?;
    let portal = PortalClient::new(sim.portal_url(), http);
    portal
        .schedule_migration(std::slice::from_ref(&device.serial_number), to, DEADLINE_DAYS)
        .await?;
    running.services.sync.run_now(token, RunKind::Delta).await?;
    Ok(())
}

/// Enrolls the demo server's first iPhone with the in-process fleet, starts Return to Service
/// for it (joining the demo Wi-Fi), and lets it erase and enroll again.
async fn return_to_service(
    running: &Running,
    sim: &RunningSimDep,
    server_uuid: &str,
) -> anyhow::Result<()> {
    let Some(fleet) = running.sandbox_fleet.as_ref() else { return Ok(()) };
    let truth = sim.truth();
    let server = truth.servers.iter().find(|s| s.server_uuid.eq_ignore_ascii_case(server_uuid));
    let iphone = server.and_then(|s| s.devices.iter().find(|d| d.model.starts_with("iPhone")));
    let Some(iphone) = iphone else {
        anyhow::bail!("the demo server has no iPhone");
    };
    let serial = Serial::parse(&iphone.serial_number)?;
    if running.services.mdm.state(&serial).await?.is_some() {
        return Ok(()); // enrolled by an earlier start
    }
    let (mdm, audit, clock) = (
        running.services.mdm.clone(),
        running.services.audit.clone(),
        running.services.clock.clone(),
    );
    let start = || async move {
        let wifi = Some(DEMO_WIFI_PROFILE.as_bytes().to_vec());
        let queued = match mdm.plan_return_to_service(&serial, serial.as_str(), wifi).await {
            Ok(plan) => mdm.return_to_service(plan, ACTOR).await.map(|_| ()),
            Err(e) => Err(e),
        };
        // An erase is audited whoever asks (the API audits an admin's); this one is the
        // system's, done for the demo.
        let outcome = if queued.is_ok() { Outcome::Success } else { Outcome::Failure };
        let entry = NewEntry::new(clock.now(), Actor::System, Action::MdmErase, outcome)
            .target(serial.to_string())
            .detail(format!("erase and return to service ({ACTOR})"));
        audit.record(entry).await.map_err(|e| e.to_string())?;
        queued.map_err(|e| e.to_string())
    };
    let now = running.services.clock.now();
    let outcome = fleet.return_to_service_demo(&iphone.serial_number, now, start).await;
    let outcome = outcome.map_err(|e| anyhow::anyhow!("{e}"))?;
    match outcome.failure {
        None => Ok(()),
        Some(why) => anyhow::bail!("the device did not enroll again: {why}"),
    }
}
