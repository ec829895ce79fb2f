//! `adebox bench enroll`: devices enrolling end to end against a sandbox-mode daemon in this
//! process, with the in-process device fleet: MachineInfo → signed profile → ACME
//! (account, order, attestation, finalize, certificate, or SCEP for the fleet's iOS 15
//! devices), then MDM check-in until DeviceConfigured releases each device. The simulated
//! devices run in this process on the same cores; their keys are made before the clock
//! starts, their per-request signing (JWS, MachineInfo, attestation) is inside it.
//!
//! The fleet runs on its own runtime ([`super::rig`]), so that the CPU time of the simulated
//! devices and of the daemon (everything else in the process: its HTTPS workers, its tasks,
//! the store's writer, the APNs simulator's few pushes) are told apart.

use super::rig::{FleetRun, Rig};
use super::{cpu, peak_rss_mb, round};
use crate::daemon;
use crate::sim::fleet::report::percentile;
use serde::Serialize;
use std::time::{Duration, Instant};

/// The result of `bench enroll`.
#[derive(Debug, Serialize)]
pub struct EnrollBench {
    pub devices: usize,
    pub concurrency: usize,
    pub enrolled: usize,
    pub released: usize,
    pub failed: usize,
    pub wall_s: f64,
    /// Devices enrolled per second.
    pub per_s: f64,
    /// Latency of single device requests (every step of every device).
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Latency of a whole enrollment.
    pub enrollment_p50_ms: f64,
    pub enrollment_p99_ms: f64,
    pub requests: usize,
    pub peak_rss_mb: f64,
    /// Durable store commits during the run, per device enrolled (group commit shares one
    /// commit among the changes waiting at that moment).
    pub commits_per_device: f64,
    /// Changes written per device enrolled (each its own commit before group commit).
    pub changes_per_device: f64,
    /// CPU milliseconds per device enrolled: the daemon's, and the simulated devices'.
    pub daemon_cpu_ms_per_device: f64,
    pub fleet_cpu_ms_per_device: f64,
    /// Failed devices by reason.
    pub failures: std::collections::BTreeMap<String, usize>,
    /// Each step across the fleet (where the time goes).
    pub steps: std::collections::BTreeMap<String, crate::sim::fleet::report::StepReport>,
}

/// Syncs `devices` devices with the demo profile from the simulated Apple side, then
/// enrolls them all, `concurrency` at a time.
pub async fn enroll(devices: usize, concurrency: usize) -> anyhow::Result<EnrollBench> {
    let rig = Rig::start().await?;
    let running = &rig.running;
    daemon::sandbox::prepare(running, rig.dir.path(), &rig.sim, devices).await?;

    // The demo token's first sync brings the devices; the default profile follows.
    let deadline = Instant::now() + Duration::from_secs(600);
    let serials = loop {
        let (assigned, total) = running
            .services
            .profiles
            .assignments(Some("assigned".into()), None, usize::MAX, 0)
            .await?;
        if total as usize >= devices {
            break assigned
                .into_iter()
                .map(|a| a.serial.to_string())
                .take(devices)
                .collect::<Vec<_>>();
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "only {total} of {devices} devices got a profile"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let fleet_devices = rig.factory_devices(&serials).await?;

    let (writes_before, cpu_before) = (running.services.store.write_stats(), cpu::process());
    let started = Instant::now();
    let FleetRun { report, progress, cpu: fleet_cpu } =
        rig.run_fleet(fleet_devices, concurrency).await?;
    let wall = started.elapsed().as_secs_f64();
    let daemon_cpu = (cpu::process() - cpu_before).saturating_sub(fleet_cpu);
    let writes = running.services.store.write_stats();
    let per_device = |n: u64| round(n as f64 / report.enrolled.max(1) as f64);

    let outcomes = progress.outcomes();
    let mut requests: Vec<f64> =
        outcomes.iter().flat_map(|o| o.steps_ms.iter().map(|(_, ms)| *ms)).collect();
    let result = EnrollBench {
        devices: report.devices,
        concurrency,
        enrolled: report.enrolled,
        released: report.released,
        failed: report.failed,
        wall_s: round(wall),
        per_s: round(report.enrolled as f64 / wall),
        p50_ms: percentile(&mut requests, 0.50),
        p99_ms: percentile(&mut requests, 0.99),
        enrollment_p50_ms: report.latency_ms.p50,
        enrollment_p99_ms: report.latency_ms.p99,
        requests: requests.len(),
        peak_rss_mb: round(peak_rss_mb()),
        commits_per_device: per_device(writes.commits - writes_before.commits),
        changes_per_device: per_device(writes.units - writes_before.units),
        daemon_cpu_ms_per_device: cpu::ms_per(daemon_cpu, report.enrolled),
        fleet_cpu_ms_per_device: cpu::ms_per(fleet_cpu, report.enrolled),
        failures: report.failures.clone(),
        steps: report.steps.clone(),
    };
    rig.stop().await;
    Ok(result)
}
