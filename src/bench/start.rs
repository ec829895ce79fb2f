//! `adebox bench start`: how long the daemon takes from start to answering over HTTPS — the
//! first start of a new appliance (its CA and server certificate are made then), and restarts
//! with a full inventory in the store.

use super::{fill_inventory, peak_rss_mb, round};
use crate::daemon::{self, DaemonOptions, Mode};
use crate::sim::fleet::report::percentile;
use serde::Serialize;
use std::path::Path;
use std::time::Instant;

/// The result of `bench start`.
#[derive(Debug, Serialize)]
pub struct StartBench {
    pub devices: usize,
    pub restarts: usize,
    /// The first start of a new appliance, until `/healthz` answers.
    pub first_start_ms: f64,
    /// Restarts with `devices` devices in the store, until `/healthz` answers.
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub wall_s: f64,
    /// Restarts per second.
    pub per_s: f64,
    pub peak_rss_mb: f64,
}

/// Starts a new appliance, fills its inventory with `devices` devices, then restarts it
/// `restarts` times, timing each start until `/healthz` answers over HTTPS.
pub async fn start(devices: usize, restarts: usize) -> anyhow::Result<StartBench> {
    let dir = tempfile::tempdir()?;
    let config =
        crate::config::Config::for_sandbox(dir.path().to_path_buf(), "127.0.0.1:0".parse()?);
    let started = Instant::now();
    let running = daemon::start(DaemonOptions::new(config.clone(), Mode::Production)).await?;
    healthy(&running, dir.path()).await?;
    let first_start_ms = started.elapsed().as_secs_f64() * 1000.0;
    fill_inventory(&running, devices).await?;
    running.shutdown().await;

    let mut times = Vec::with_capacity(restarts);
    let wall = Instant::now();
    for _ in 0..restarts.max(1) {
        let t = Instant::now();
        let running = daemon::start(DaemonOptions::new(config.clone(), Mode::Production)).await?;
        healthy(&running, dir.path()).await?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        running.shutdown().await;
    }
    let wall_s = wall.elapsed().as_secs_f64();
    Ok(StartBench {
        devices,
        restarts: times.len(),
        first_start_ms: round(first_start_ms),
        p50_ms: round(percentile(&mut times, 0.50)),
        p99_ms: round(percentile(&mut times, 0.99)),
        wall_s: round(wall_s),
        per_s: round(times.len() as f64 / wall_s),
        peak_rss_mb: round(peak_rss_mb()),
    })
}

/// Waits for the first `/healthz` answer over HTTPS (trusting the appliance's own CA).
async fn healthy(running: &daemon::Running, dir: &Path) -> anyhow::Result<()> {
    let ca = std::fs::read(dir.join("tls/ca.pem"))?;
    let client = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&ca)?])
        .build()?;
    let url = format!("https://localhost:{}/healthz", running.https_addrs[0].port());
    let resp = client.get(&url).send().await?;
    anyhow::ensure!(resp.status().is_success(), "{url}: {}", resp.status());
    Ok(())
}
