//! `adebox bench …`: measurements of the product's hot paths against the in-process
//! simulators, on this machine. They report; they do not assert (docs/benchmarks.md keeps results).

mod assign;
pub mod cpu;
mod enroll;
mod login;
mod mdm;
mod orgdevices;
mod pipeline;
mod rig;
mod start;
mod sync;

pub use assign::{AssignBench, assign};
pub use enroll::{EnrollBench, enroll};
pub use login::{LoginBench, login};
pub use mdm::{MdmBench, mdm};
pub use orgdevices::{OrgDevicesBench, org_devices};
pub use pipeline::{PipelineBench, pipeline};
pub use start::{StartBench, start};
pub use sync::{SyncBench, sync};

use crate::audit::Actor;
use crate::clock::Clock;
use crate::devices::Devices;
use crate::tokens::Tokens;
use serde::Serialize;
use std::time::Instant;

/// A token the real way (a key pair, a `.p7m` from the simulated ABM, the check with Apple)
/// for a new MDM server holding `devices` devices.
async fn token_with_devices(
    tokens: &Tokens,
    sim: &crate::sim::dep::RunningSimDep,
    devices: usize,
) -> anyhow::Result<crate::tokens::TokenView> {
    let key = tokens.create_pending_key(Actor::System, None).await?;
    let cert = tokens.pending_key_certificate(&key.id).await?;
    let issued =
        sim.create_server("Benchmark server", &cert).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut left = devices;
    while left > 0 {
        let n = left.min(50_000);
        sim.add_devices(Some(&issued.server_uuid), n).map_err(|e| anyhow::anyhow!("{e}"))?;
        left -= n;
    }
    Ok(tokens.add(Actor::System, &key.id, issued.token_p7m.as_bytes(), "bench@example.org").await?)
}

/// Fills the inventory with `devices` devices of every family through the same write path
/// sync uses, 1000 devices a transaction.
async fn fill_inventory(running: &crate::daemon::Running, devices: usize) -> anyhow::Result<()> {
    use crate::apple::dep::{Device, ProfileStatus};
    let families = [
        ("iPhone", "iOS", "iPhone 15"),
        ("iPad", "iPadOS", "iPad (10th generation)"),
        ("Mac", "OSX", "MacBook Air"),
        ("AppleTV", "tvOS", "Apple TV 4K"),
    ];
    let mut n = 0usize;
    while n < devices {
        let batch: Vec<Device> = (n..(n + 1000).min(devices))
            .map(|i| {
                let (family, os, model) = families[i % families.len()];
                Device {
                    serial_number: format!(
                        "B{:010}",
                        (i as u64).wrapping_mul(2654435761) % 10_000_000_000
                    ),
                    model: Some(model.into()),
                    device_family: Some(family.into()),
                    os: Some(os.into()),
                    profile_status: Some(if i % 3 == 0 {
                        ProfileStatus::Assigned
                    } else {
                        ProfileStatus::Empty
                    }),
                    ..Default::default()
                }
            })
            .collect();
        n += batch.len();
        let token_id = crate::ids::TokenId::parse(&format!("T{}", n % 3))?;
        let now = Clock::system().now();
        let (_, changes) = running
            .services
            .store
            .write(move |wtx| {
                crate::devices::apply_page_in(
                    wtx,
                    &token_id,
                    &batch,
                    &crate::devices::PageMode::Sync,
                    now,
                )
            })
            .await?;
        running.services.devices.apply_changes(changes);
    }
    Ok(())
}

fn round(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// Peak resident set size of this process (Linux `VmHWM`).
pub fn peak_rss_mb() -> f64 {
    proc_status_mb("/proc/self/status", "VmHWM:")
}

/// A memory figure of `/proc/<pid>/status` in MB, 0 when unreadable.
fn proc_status_mb(path: &str, field: &str) -> f64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// The result of `bench api`.
#[derive(Debug, Serialize)]
pub struct ApiBench {
    pub devices: u64,
    pub requests: u64,
    pub wall_s: f64,
    pub per_s: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub peak_rss_mb: f64,
    /// Time to build the list index from the store after a restart.
    pub index_build_s: f64,
}

/// The Devices list API over HTTPS at `devices` devices: a mix of the queries the page makes
/// (first page, deep pages, filters, sorts, serial searches), one after another.
pub async fn api(devices: usize, requests: usize) -> anyhow::Result<ApiBench> {
    use crate::daemon::{self, DaemonOptions, Mode};
    let dir = tempfile::tempdir()?;
    let config =
        crate::config::Config::for_sandbox(dir.path().to_path_buf(), "127.0.0.1:0".parse()?);
    let running = daemon::start(DaemonOptions::new(config, Mode::Production)).await?;
    let token = running
        .services
        .admin
        .create_api_token(Actor::System, "bench")
        .await?
        .token
        .expose()
        .clone();

    fill_inventory(&running, devices).await?;
    // A fresh service over the same store measures the index build of a restart.
    let fresh = Devices::new(running.services.store.clone());
    let t = Instant::now();
    fresh.warm().await?;
    let index_build_s = t.elapsed().as_secs_f64();
    running.services.devices.warm().await?;

    let ca = std::fs::read(dir.path().join("tls/ca.pem"))?;
    let client = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&ca)?])
        .build()?;
    let base = format!("https://localhost:{}/api/v1/devices", running.https_addrs[0].port());
    let queries = [
        "?limit=50",
        "?limit=50&offset=100000",
        "?limit=50&family=iPad",
        "?limit=50&lifecycle=profile_assigned&sort=model&order=desc",
        "?limit=50&serial_prefix=B12",
        "?limit=50&os=tvOS&sort=first_seen",
        "?limit=50&model=macbook&token=T1",
        "?limit=500&sort=serial&order=desc",
    ];
    let mut latencies = Vec::with_capacity(requests);
    let started = Instant::now();
    for i in 0..requests {
        let url = format!("{base}{}", queries[i % queries.len()]);
        let t = Instant::now();
        let resp = client.get(&url).bearer_auth(&token).send().await?;
        anyhow::ensure!(resp.status().is_success(), "{url}: {}", resp.status());
        let _ = resp.bytes().await?;
        latencies.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let wall = started.elapsed().as_secs_f64();
    latencies.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| {
        latencies[((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1]
    };
    let result = ApiBench {
        devices: devices as u64,
        requests: requests as u64,
        wall_s: round(wall),
        per_s: round(requests as f64 / wall),
        p50_ms: round(pct(0.50)),
        p99_ms: round(pct(0.99)),
        max_ms: round(latencies.last().copied().unwrap_or(0.0)),
        peak_rss_mb: round(peak_rss_mb()),
        index_build_s: round(index_build_s),
    };
    running.shutdown().await;
    Ok(result)
}
