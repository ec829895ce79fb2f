//! `adebox bench …`: measurements of the product's hot paths against the in-process
//! simulators, on this machine. They report; they do not assert (the README keeps results).

use crate::audit::Actor;
use crate::clock::Clock;
use crate::devices::Devices;
use crate::sim::dep::{SimDep, SimDepConfig};
use crate::store::Store;
use crate::sync::{RunKind, Sync, SyncSettings};
use crate::tokens::Tokens;
use serde::Serialize;
use std::time::Instant;

/// The result of `bench sync`.
#[derive(Debug, Serialize)]
pub struct SyncBench {
    pub devices: u64,
    pub wall_s: f64,
    pub per_s: f64,
    pub requests: u64,
    pub pages: u64,
    pub peak_rss_mb: f64,
    pub store_mb: f64,
}

/// A full sync of `devices` devices from the in-process DEP simulator, over HTTPS, into a
/// fresh store: what a new token with a large fleet costs.
pub async fn sync(devices: usize) -> anyhow::Result<SyncBench> {
    let sim = SimDep::start(SimDepConfig::default()).await?;
    let http = crate::outbound::client(&crate::outbound::OutboundConfig::trusting_only([sim.ca_pem().to_string()]))?;
    let dir = tempfile::tempdir()?;
    let store = Store::open(dir.path())?;
    let clock = Clock::system();
    let tokens = Tokens::new(store.clone(), clock.clone(), sim.base_url().to_string(), crate::depclient::account_check(http.clone(), clock.clone()));
    let devices_svc = Devices::new(store.clone());
    let sync = Sync::new(store.clone(), clock.clone(), tokens.clone(), devices_svc, http.clone(), crate::depclient::RetryPolicy::default());
    sync.set_settings(Actor::System, SyncSettings { page_limit: 1000, ..SyncSettings::default() }).await?;

    // The token arrives the real way: a key pair, a .p7m from the simulated ABM, the check.
    let key = tokens.create_pending_key(Actor::System, None).await?;
    let cert = tokens.pending_key_certificate(&key.id).await?;
    let issued = sim.create_server("Benchmark server", &cert).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut left = devices;
    while left > 0 {
        let n = left.min(50_000);
        sim.add_devices(Some(&issued.server_uuid), n).map_err(|e| anyhow::anyhow!("{e}"))?;
        left -= n;
    }
    let token = tokens.add(Actor::System, &key.id, issued.token_p7m.as_bytes(), "bench@example.org").await?;

    let requests_before = sim.requests();
    let started = Instant::now();
    let run = sync.run_now(&token.id, RunKind::Full).await?;
    let wall = started.elapsed().as_secs_f64();
    anyhow::ensure!(run.outcome == crate::sync::RunOutcome::Completed, "the sync did not complete: {}", run.message);
    let store_mb = std::fs::metadata(store.path()).map(|m| m.len() as f64 / 1_048_576.0).unwrap_or(0.0);
    let result = SyncBench {
        devices: run.stats.seen,
        wall_s: round(wall),
        per_s: round(run.stats.seen as f64 / wall),
        requests: sim.requests() - requests_before,
        pages: run.pages,
        peak_rss_mb: round(peak_rss_mb()),
        store_mb: round(store_mb),
    };
    sim.stop().await;
    Ok(result)
}

fn round(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// Peak resident set size of this process (Linux `VmHWM`).
pub fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|kb| kb.parse::<f64>().ok()))
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}
