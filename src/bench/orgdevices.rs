//! `adebox bench org-devices`: the organisation's devices at scale. The DEP simulator, whose
//! Apple Business API serves every device of its world as an organisation device, runs as
//! its own process (`adebox sim dep`), so the peak RSS reported is the daemon's alone. A
//! daemon with an API account syncs every device from it, then the list API is paged over
//! HTTPS with the filters the page offers and the whole list is exported as CSV, counting
//! what arrives and keeping none of it.

use super::sync::ExternalDep;
use super::{cpu, peak_rss_mb, round};
use crate::audit::Actor;
use anyhow::Context;
use serde::Serialize;
use std::time::Instant;

/// The result of `bench org-devices`.
#[derive(Debug, Serialize)]
pub struct OrgDevicesBench {
    pub devices: u64,
    /// The sync: wall time, requests to Apple (device and server pages), durable commits.
    pub sync_s: f64,
    pub sync_per_s: f64,
    pub pages: u64,
    pub commits: u64,
    pub daemon_cpu_s: f64,
    /// The list API: requests, their p50 / p99 / max.
    pub requests: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// The CSV export of every device: wall time, rows and bytes received.
    pub export_s: f64,
    pub export_rows: u64,
    pub export_mb: f64,
    /// The daemon's peak RSS (the simulator runs in its own process).
    pub peak_rss_mb: f64,
    pub store_mb: f64,
}

/// Syncs `devices` organisation devices from the simulator process, pages the list API
/// `requests` times and exports the list.
pub async fn org_devices(devices: usize, requests: usize) -> anyhow::Result<OrgDevicesBench> {
    use crate::daemon::{self, AppleSide, DaemonOptions, Mode};
    let sim = tokio::task::spawn_blocking(move || ExternalDep::start(devices)).await??;
    let http = sim.http()?;
    let account: serde_json::Value = http
        .post(format!("{}/business/accounts", sim.portal_url))
        .json(&serde_json::json!({"name": "adebox bench"}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let field = |name: &str| {
        account[name]
            .as_str()
            .map(str::to_string)
            .with_context(|| format!("the portal answered no {name}: {account}"))
    };

    let dir = tempfile::tempdir()?;
    let config =
        crate::config::Config::for_sandbox(dir.path().to_path_buf(), "127.0.0.1:0".parse()?);
    let mut opts = DaemonOptions::new(config, Mode::Production);
    opts.apple = AppleSide::Simulator {
        base_url: sim.base_url.clone(),
        portal_url: sim.portal_url.clone(),
        ca_pem: sim.ca_pem.clone(),
        apns_url: sim.base_url.clone(),
        apns_ca_pem: sim.ca_pem.clone(),
    };
    let running = daemon::start(opts).await?;
    let s = &running.services;
    let input = crate::business::AccountInput {
        client_id: field("client_id")?,
        key_id: field("key_id")?,
        private_key_pem: crate::crypto::Secret::new(field("private_key_pem")?),
    };
    s.business.save(Actor::System, input).await?;
    let token = s.admin.create_api_token(Actor::System, "bench").await?.token.expose().clone();

    let (commits, cpu_before) = (s.store.write_stats().commits, cpu::process());
    let started = Instant::now();
    // The daemon's own task may have started the first run: then that one is waited for.
    if !s.business_devices.run_now().await? {
        while s.business_devices.view().await?.state == "running" {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
    let sync_s = started.elapsed().as_secs_f64();
    let daemon_cpu = cpu::process() - cpu_before;
    let view = s.business_devices.view().await?;
    anyhow::ensure!(view.state == "complete", "the sync did not complete: {:?}", view.last_error);
    let commits = s.store.write_stats().commits - commits;

    let ca = std::fs::read(dir.path().join("tls/ca.pem"))?;
    let client = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&ca)?])
        .build()?;
    let base =
        format!("https://localhost:{}/api/v1/business/devices", running.https_addrs[0].port());
    let deep = (view.total as usize).saturating_sub(50);
    let queries = [
        "?limit=50".to_string(),
        format!("?limit=50&offset={deep}"),
        "?limit=50&server=elsewhere".into(),
        "?limit=50&family=iPad".into(),
        "?limit=50&applecare=unknown&offset=1000".into(),
        "?limit=50&model=air&status=ASSIGNED".into(),
        "?limit=500&serial=A".into(),
    ];
    let mut latencies = Vec::with_capacity(requests);
    for i in 0..requests {
        let url = format!("{base}{}", queries[i % queries.len()]);
        let t = Instant::now();
        let resp = client.get(&url).bearer_auth(&token).send().await?;
        anyhow::ensure!(resp.status().is_success(), "{url}: {}", resp.status());
        let _ = resp.bytes().await?;
        latencies.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    latencies.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| {
        latencies[((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1]
    };

    let t = Instant::now();
    let mut resp = client.get(format!("{base}/export.csv")).bearer_auth(&token).send().await?;
    anyhow::ensure!(resp.status().is_success(), "export.csv: {}", resp.status());
    let (mut lines, mut bytes) = (0u64, 0u64);
    while let Some(chunk) = resp.chunk().await? {
        lines += chunk.iter().filter(|b| **b == b'\n').count() as u64;
        bytes += chunk.len() as u64;
    }
    let export_s = t.elapsed().as_secs_f64();

    let store_mb =
        std::fs::metadata(s.store.path()).map(|m| m.len() as f64 / 1_048_576.0).unwrap_or(0.0);
    let result = OrgDevicesBench {
        devices: view.total,
        sync_s: round(sync_s),
        sync_per_s: round(view.total as f64 / sync_s.max(0.001)),
        pages: view.pages,
        commits,
        daemon_cpu_s: round(daemon_cpu.as_secs_f64()),
        requests: requests as u64,
        p50_ms: round(if requests > 0 { pct(0.50) } else { 0.0 }),
        p99_ms: round(if requests > 0 { pct(0.99) } else { 0.0 }),
        max_ms: round(latencies.last().copied().unwrap_or(0.0)),
        export_s: round(export_s),
        // The header is a line too.
        export_rows: lines.saturating_sub(1),
        export_mb: round(bytes as f64 / 1_048_576.0),
        peak_rss_mb: round(peak_rss_mb()),
        store_mb: round(store_mb),
    };
    running.shutdown().await;
    drop(sim);
    Ok(result)
}
