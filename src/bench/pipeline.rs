//! `adebox bench pipeline`: Automated Device Enrollment end to end, from adding a server token
//! to every device released: the token's first sync brings the devices, the profile made the
//! token's default is assigned to all of them at the simulated Apple side, then the fleet
//! enrolls (MachineInfo, profile, ACME or SCEP, MDM check-in) and the commands end with
//! DeviceConfigured. Phases are timed one after another; the daemon runs in sandbox mode with
//! the in-process simulators and fleet, as `bench enroll` does. Before the clock starts: the
//! simulated Apple side holds the devices, the profile exists, and the simulated devices have
//! their factory keys (real devices bring theirs).

use super::rig::{FleetRun, Rig};
use super::{cpu, peak_rss_mb, round};
use crate::audit::Actor;
use crate::daemon::Running;
use crate::ids::TokenId;
use serde::Serialize;
use std::time::{Duration, Instant};

/// No phase may take longer than this: a run that stalls ends with an error instead.
const PHASE_LIMIT: Duration = Duration::from_secs(900);

/// The result of `bench pipeline`.
#[derive(Debug, Serialize)]
pub struct PipelineBench {
    pub devices: usize,
    pub concurrency: usize,
    pub released: usize,
    pub failed: usize,
    /// From adding the token to the last device released.
    pub total_s: f64,
    pub devices_per_minute: f64,
    /// Adding the token (its check with Apple) until the inventory holds every device.
    pub sync_s: f64,
    /// The profile made the default until Apple has it assigned to every device.
    pub assign_s: f64,
    /// The fleet enrolling until every device is released.
    pub enroll_release_s: f64,
    pub commits: u64,
    pub daemon_cpu_s: f64,
    pub fleet_cpu_s: f64,
    pub peak_rss_mb: f64,
    pub failures: std::collections::BTreeMap<String, usize>,
}

/// Runs the whole pipeline for `devices` devices, enrolling `concurrency` at a time.
pub async fn pipeline(devices: usize, concurrency: usize) -> anyhow::Result<PipelineBench> {
    let rig = Rig::start().await?;
    let running = &rig.running;
    // The Apple side and the profile, before the clock.
    let key = running.services.tokens.create_pending_key(Actor::System, None).await?;
    let cert = running.services.tokens.pending_key_certificate(&key.id).await?;
    let issued =
        rig.sim.create_server("Pipeline server", &cert).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut serials = Vec::with_capacity(devices);
    while serials.len() < devices {
        let n = (devices - serials.len()).min(50_000);
        let added = rig.sim.add_devices(Some(&issued.server_uuid), n);
        serials.extend(added.map_err(|e| anyhow::anyhow!("{e}"))?);
    }
    let profile = running
        .services
        .profiles
        .create(
            Actor::System,
            serde_json::json!({
                "name": "Pipeline",
                "platforms": ["iOS", "iPadOS", "macOS", "tvOS", "visionOS"],
                "supervised": true,
                "await_device_configured": true,
            }),
        )
        .await?
        .id;
    let fleet_devices = rig.factory_devices(&serials).await?;

    let (commits, cpu_before) = (running.services.store.write_stats().commits, cpu::process());
    let started = Instant::now();
    let token = running
        .services
        .tokens
        .add(Actor::System, &key.id, issued.token_p7m.as_bytes(), "bench@example.org")
        .await?;
    wait_for(|| active_devices(running, &token.id), devices, "synced").await?;
    let synced = started.elapsed();
    running.services.profiles.set_default(Actor::System, &token.id, None, Some(profile)).await?;
    wait_for(|| assigned(running), devices, "assigned").await?;
    let assigned_at = started.elapsed();
    let FleetRun { report, cpu: fleet_cpu, .. } = rig.run_fleet(fleet_devices, concurrency).await?;
    let total = started.elapsed();
    let daemon_cpu = (cpu::process() - cpu_before).saturating_sub(fleet_cpu);
    let result = PipelineBench {
        devices,
        concurrency,
        released: report.released,
        failed: report.failed,
        total_s: round(total.as_secs_f64()),
        devices_per_minute: round(report.released as f64 * 60.0 / total.as_secs_f64()),
        sync_s: round(synced.as_secs_f64()),
        assign_s: round((assigned_at - synced).as_secs_f64()),
        enroll_release_s: round((total - assigned_at).as_secs_f64()),
        commits: running.services.store.write_stats().commits - commits,
        daemon_cpu_s: round(daemon_cpu.as_secs_f64()),
        fleet_cpu_s: round(fleet_cpu.as_secs_f64()),
        peak_rss_mb: round(peak_rss_mb()),
        failures: report.failures.clone(),
    };
    rig.stop().await;
    Ok(result)
}

async fn active_devices(running: &Running, token: &TokenId) -> anyhow::Result<usize> {
    let counts = running.services.devices.counts().await?;
    Ok(counts.by_token.get(token).copied().unwrap_or(0) as usize)
}

async fn assigned(running: &Running) -> anyhow::Result<usize> {
    let (_, total) =
        running.services.profiles.assignments(Some("assigned".into()), None, 0, 0).await?;
    Ok(total as usize)
}

/// Polls `count` until it reaches `target`, every 20 ms (the resolution of the phase times).
async fn wait_for<F, Fut>(count: F, target: usize, what: &str) -> anyhow::Result<()>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<usize>>,
{
    let deadline = Instant::now() + PHASE_LIMIT;
    loop {
        let n = count().await?;
        if n >= target {
            return Ok(());
        }
        anyhow::ensure!(Instant::now() < deadline, "only {n} of {target} devices were {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
