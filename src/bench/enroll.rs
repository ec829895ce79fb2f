//! `adebox bench enroll`: devices enrolling end to end against a sandbox-mode daemon in this
//! process, with the in-process device fleet: MachineInfo → signed profile → ACME
//! (account, order, attestation, finalize, certificate, or SCEP for the fleet's iOS 15
//! devices), then MDM check-in until DeviceConfigured releases each device. The simulated
//! devices run in this process on the same cores; their keys are made before the clock
//! starts, their per-request signing (JWS, MachineInfo, attestation) is inside it.

use super::{peak_rss_mb, round};
use crate::daemon::{self, DaemonOptions, DeviceTrust, Mode};
use crate::sim::apple_pki::StandInApplePki;
use crate::sim::fleet::{Fleet, FleetDevice, FleetTarget, Progress, report::percentile};
use serde::Serialize;
use std::sync::Arc;
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
    /// Failed devices by reason.
    pub failures: std::collections::BTreeMap<String, usize>,
    /// Each step across the fleet (where the time goes).
    pub steps: std::collections::BTreeMap<String, crate::sim::fleet::report::StepReport>,
}

/// Syncs `devices` devices with the demo profile from the simulated Apple side, then
/// enrolls them all, `concurrency` at a time.
pub async fn enroll(devices: usize, concurrency: usize) -> anyhow::Result<EnrollBench> {
    let dir = tempfile::tempdir()?;
    let sim = daemon::sandbox::start_simulator().await?;
    let now = crate::clock::Clock::system().now();
    let pki = Arc::new(StandInApplePki::generate(now - time::Duration::hours(1))?);
    let config =
        crate::config::Config::for_sandbox(dir.path().to_path_buf(), "127.0.0.1:0".parse()?);
    let mut opts = DaemonOptions::new(config, Mode::Sandbox);
    let apns = daemon::sandbox::start_apns_simulator().await?;
    opts.apple = daemon::sandbox::apple_side(&sim, &apns);
    opts.device_trust = DeviceTrust::StandIn(pki.clone());
    // The whole fleet comes from one address; a site's devices each have their own.
    opts.scep_per_client_per_minute = u32::MAX;
    let running = daemon::start(opts).await?;
    daemon::sandbox::prepare(&running, dir.path(), &sim, devices).await?;
    daemon::sandbox::provision_push_certificate(&running, &apns).await?;

    // The demo token's first sync brings the devices; the default profile follows.
    let deadline = Instant::now() + Duration::from_secs(600);
    let serials = loop {
        let (assigned, total) =
            running.profiles.assignments(Some("assigned".into()), None, usize::MAX, 0).await?;
        if total as usize >= devices {
            break assigned.into_iter().map(|a| a.serial).take(devices).collect::<Vec<_>>();
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "only {total} of {devices} devices got a profile"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    let addr = running.https_addrs[0];
    let target = FleetTarget {
        profile_url: format!("https://localhost:{}/enroll/machineinfo", addr.port()),
        ca_pem: std::fs::read_to_string(dir.path().join("tls/ca.pem"))?,
        resolve_to: Some(addr),
    };
    let fleet = Fleet::new(target, pki.clone())?.woken_by(apns.feed());
    // The devices' own keys (device identity, SCEP key) exist before the clock starts: the
    // benchmark measures the appliance, not the simulated devices' RSA key generation.
    let mut making = Vec::with_capacity(serials.len());
    for (i, s) in serials.iter().enumerate() {
        let (d, pki) = (FleetDevice::for_serial(s.as_str(), i), pki.clone());
        making.push(tokio::task::spawn_blocking(move || d.with_factory_keys(&pki, now)));
    }
    let mut fleet_devices = Vec::with_capacity(making.len());
    for m in making {
        fleet_devices.push(m.await??);
    }
    let progress = Progress::default();
    let started = Instant::now();
    let report = fleet.run(&fleet_devices, concurrency, &progress, now).await;
    let wall = started.elapsed().as_secs_f64();

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
        failures: report.failures.clone(),
        steps: report.steps.clone(),
    };
    running.shutdown().await;
    sim.stop().await;
    Ok(result)
}
