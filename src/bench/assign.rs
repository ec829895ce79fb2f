//! `adebox bench assign`: default-profile assignment of a full inventory. A daemon in this
//! process syncs `devices` devices from the in-process DEP simulator; then the admin makes a
//! profile the token's default and the clock runs until Apple (the simulator) has every
//! device assigned and the inventory says so: the scan that queues the devices, the
//! profile's definition at Apple, and the batches of 1000 serials with their transactions.

use super::{peak_rss_mb, round};
use crate::audit::Actor;
use crate::daemon::{self, DaemonOptions, Mode};
use crate::devices::Lifecycle;
use crate::sim::fleet::report::percentile;
use crate::sync::SyncSettings;
use serde::Serialize;
use std::time::{Duration, Instant};

/// The result of `bench assign`.
#[derive(Debug, Serialize)]
pub struct AssignBench {
    pub devices: u64,
    /// From setting the default to the last device shown as assigned.
    pub wall_s: f64,
    /// Devices assigned per second.
    pub per_s: f64,
    /// From setting the default to the first batch assigned (the scan that queues every
    /// device, and the profile's definition at Apple).
    pub first_batch_ms: f64,
    /// Time per batch of 1000 serials, as seen in the inventory (call to Apple and its
    /// transaction): between successive batches landing.
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Requests the simulated Apple side answered during the assignment.
    pub requests: u64,
    pub peak_rss_mb: f64,
}

/// Syncs `devices` devices, then times their default-profile assignment.
pub async fn assign(devices: usize) -> anyhow::Result<AssignBench> {
    let dir = tempfile::tempdir()?;
    let sim = daemon::sandbox::start_simulator().await?;
    let apns = daemon::sandbox::start_apns_simulator().await?;
    let config =
        crate::config::Config::for_sandbox(dir.path().to_path_buf(), "127.0.0.1:0".parse()?);
    let mut opts = DaemonOptions::new(config, Mode::Sandbox);
    opts.apple = daemon::sandbox::apple_side(&sim, &apns);
    let running = daemon::start(opts).await?;
    running
        .services
        .sync
        .set_settings(Actor::System, SyncSettings { page_limit: 1000, ..SyncSettings::default() })
        .await?;

    // The token arrives the real way; its first sync (started by the token event) brings the
    // inventory before any default exists.
    let token = super::token_with_devices(&running.services.tokens, &sim, devices).await?;
    let deadline = Instant::now() + Duration::from_secs(600);
    while lifecycle_count(&running, Lifecycle::NotContacted).await? < devices as u64 {
        anyhow::ensure!(
            Instant::now() < deadline,
            "the first sync did not bring {devices} devices"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let profile = running
        .services
        .profiles
        .create(
            Actor::System,
            serde_json::json!({
                "name": "Benchmark profile",
                "platforms": ["iOS", "iPadOS", "macOS", "tvOS", "visionOS"],
                "supervised": true,
                "await_device_configured": true,
            }),
        )
        .await?;
    let requests_before = sim.requests();
    let started = Instant::now();
    running.services.profiles.set_default(Actor::System, &token.id, None, Some(profile.id)).await?;

    // Batches land one transaction at a time; polling the in-memory counts every 2 ms sees
    // each one (a batch takes far longer).
    let mut landed = Vec::new();
    let mut last = 0u64;
    let deadline = Instant::now() + Duration::from_secs(600);
    while last < devices as u64 {
        anyhow::ensure!(
            Instant::now() < deadline,
            "only {last} of {devices} devices were assigned in 10 minutes"
        );
        let now = lifecycle_count(&running, Lifecycle::ProfileAssigned).await?;
        if now > last {
            landed.push(started.elapsed().as_secs_f64() * 1000.0);
            last = now;
        } else {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    let wall = started.elapsed().as_secs_f64();
    let mut gaps: Vec<f64> = landed.windows(2).map(|w| w[1] - w[0]).collect();
    let result = AssignBench {
        devices: devices as u64,
        wall_s: round(wall),
        per_s: round(devices as f64 / wall),
        first_batch_ms: round(landed.first().copied().unwrap_or(0.0)),
        p50_ms: round(percentile(&mut gaps, 0.50)),
        p99_ms: round(percentile(&mut gaps, 0.99)),
        requests: sim.requests() - requests_before,
        peak_rss_mb: round(peak_rss_mb()),
    };
    running.shutdown().await;
    sim.stop().await;
    Ok(result)
}

async fn lifecycle_count(running: &daemon::Running, state: Lifecycle) -> anyhow::Result<u64> {
    Ok(running.services.devices.counts().await?.by_lifecycle.get(&state).copied().unwrap_or(0))
}
