//! `adebox bench sync`: a full sync of many devices into a fresh store, against the DEP
//! simulator running as its own process (`adebox sim dep`), so that the peak RSS reported is
//! the daemon's alone. In the same run a plain pager — the product's DEP client fetching every
//! page and keeping nothing — pages through the same devices first: the ratio of the two is
//! what persisting costs over the transfer itself.

use super::{cpu, peak_rss_mb, round};
use crate::audit::Actor;
use crate::clock::Clock;
use crate::depclient::DepClient;
use crate::sim::dep::portal_client::PortalClient;
use crate::sync::{RunKind, SyncSettings};
use anyhow::Context;
use serde::Serialize;
use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

/// Devices per page, for the sync and the pager alike (Apple's maximum).
const PAGE: u32 = 1000;

/// The result of `bench sync`.
#[derive(Debug, Serialize)]
pub struct SyncBench {
    pub devices: u64,
    pub wall_s: f64,
    pub per_s: f64,
    pub requests: u64,
    pub pages: u64,
    /// The daemon's peak RSS (the simulator runs in its own process).
    pub peak_rss_mb: f64,
    pub store_mb: f64,
    /// Durable commits the sync made.
    pub commits: u64,
    /// The daemon's CPU time for the sync, and the simulator process's meanwhile.
    pub daemon_cpu_s: f64,
    pub simulator_cpu_s: f64,
    /// The plain pager over the same devices: wall time and devices seen.
    pub pager_s: f64,
    pub pager_devices: u64,
    /// `wall_s / pager_s`.
    pub ratio: f64,
}

/// `adebox sim dep` as a child process, stopped on drop (also `bench org-devices`'s, whose
/// Business API it serves).
pub(super) struct ExternalDep {
    child: Child,
    pub(super) base_url: String,
    pub(super) portal_url: String,
    pub(super) ca_pem: String,
    server_uuid: String,
    credentials: Vec<u8>,
}

impl ExternalDep {
    /// Starts the simulator with one MDM server of `devices` devices and reads where it is
    /// from what it prints.
    pub(super) fn start(devices: usize) -> anyhow::Result<ExternalDep> {
        let exe = std::env::current_exe().context("cannot find the adebox binary")?;
        let mut child = Command::new(exe)
            .args(["sim", "dep", "--listen", "127.0.0.1:0", "--devices", &devices.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start `adebox sim dep`")?;
        let stdout = child.stdout.take().context("no output from `adebox sim dep`")?;
        let mut field = std::collections::HashMap::new();
        for line in std::io::BufReader::new(stdout).lines() {
            let line = line?;
            if line.starts_with("Press Ctrl-C") {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                field.insert(name.trim().to_string(), value.trim().to_string());
            }
        }
        let get = |name: &str| {
            field.get(name).cloned().with_context(|| format!("`adebox sim dep` printed no {name}"))
        };
        let server = get("MDM server")?;
        let server_uuid = server
            .split_once('(')
            .and_then(|(_, rest)| rest.split_once(')'))
            .map(|(uuid, _)| uuid.to_string())
            .context("`adebox sim dep` printed no server uuid")?;
        let credentials_path = get("Its credentials")?;
        let credentials_path = credentials_path.split(" (").next().unwrap_or_default();
        Ok(ExternalDep {
            base_url: get("DEP simulator")?,
            portal_url: get("ABM portal")?,
            ca_pem: std::fs::read_to_string(get("CA certificate")?)?,
            credentials: std::fs::read(credentials_path)?,
            server_uuid,
            child,
        })
    }

    pub(super) fn http(&self) -> anyhow::Result<reqwest::Client> {
        crate::outbound::ensure_crypto_provider();
        Ok(reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(self.ca_pem.as_bytes())?])
            .build()?)
    }
}

impl Drop for ExternalDep {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Pages through every device of the token in `credentials` and keeps nothing: the
/// transfer alone. Returns the devices seen and the seconds it took.
async fn plain_pager(sim: &ExternalDep) -> anyhow::Result<(u64, f64)> {
    let credentials = crate::apple::server_token::parse_plaintext(&sim.credentials)?;
    let client = DepClient::new(&sim.base_url, credentials, sim.http()?, Clock::system());
    let started = Instant::now();
    let (mut seen, mut cursor) = (0u64, None::<String>);
    loop {
        let page = client.fetch_devices(cursor.as_deref(), PAGE).await?;
        seen += page.devices.len() as u64;
        let unchanged = cursor.as_deref() == Some(page.cursor.as_str());
        if !page.more_to_follow || unchanged {
            break;
        }
        cursor = Some(page.cursor);
    }
    Ok((seen, started.elapsed().as_secs_f64()))
}

/// A full sync of `devices` devices from the simulator process, over HTTPS, into a fresh
/// store: what a new token with a large fleet costs; the plain pager first.
pub async fn sync(devices: usize) -> anyhow::Result<SyncBench> {
    use crate::daemon::{AppleSide, DaemonOptions, Foundation, Mode, Services};
    let sim = tokio::task::spawn_blocking(move || ExternalDep::start(devices)).await??;
    let (pager_devices, pager_s) = plain_pager(&sim).await?;

    let dir = tempfile::tempdir()?;
    // The services a daemon has, with their hooks (sync tells profiles about new devices),
    // but none of its background workers: the run below is the only sync.
    let config =
        crate::config::Config::for_sandbox(dir.path().to_path_buf(), "127.0.0.1:0".parse()?);
    let mut opts = DaemonOptions::new(config, Mode::Production);
    opts.apple = AppleSide::Simulator {
        base_url: sim.base_url.clone(),
        portal_url: sim.portal_url.clone(),
        ca_pem: sim.ca_pem.clone(),
        // Nothing is pushed here.
        apns_url: sim.base_url.clone(),
        apns_ca_pem: sim.ca_pem.clone(),
    };
    let (services, _workers) = Services::build(&opts, Foundation::open(&opts).await?, 0)?;
    let Services { store, tokens, sync, .. } = &services;
    sync.set_settings(Actor::System, SyncSettings { page_limit: PAGE, ..SyncSettings::default() })
        .await?;
    // The simulator's server, with a token for this appliance's key (a renewal at the portal:
    // the pager's token stops working, as at Apple).
    let key = tokens.create_pending_key(Actor::System, None).await?;
    let cert = tokens.pending_key_certificate(&key.id).await?;
    let portal = PortalClient::new(&sim.portal_url, sim.http()?);
    let issued = portal.renew(&sim.server_uuid, &cert).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let p7m = issued["token_p7m"].as_str().context("the portal answered no token")?;
    let token = tokens.add(Actor::System, &key.id, p7m.as_bytes(), "bench@example.org").await?;

    let (commits, cpu_before, sim_cpu_before) =
        (store.write_stats().commits, cpu::process(), cpu::of_pid(sim.child.id()));
    let started = Instant::now();
    let run = sync.run_now(&token.id, RunKind::Full).await?;
    let wall = started.elapsed().as_secs_f64();
    let (daemon_cpu, sim_cpu) =
        (cpu::process() - cpu_before, cpu::of_pid(sim.child.id()) - sim_cpu_before);
    anyhow::ensure!(
        run.outcome == crate::sync::RunOutcome::Completed,
        "the sync did not complete: {}",
        run.message
    );
    let store_mb =
        std::fs::metadata(store.path()).map(|m| m.len() as f64 / 1_048_576.0).unwrap_or(0.0);
    Ok(SyncBench {
        devices: run.stats.seen,
        wall_s: round(wall),
        per_s: round(run.stats.seen as f64 / wall),
        requests: run.pages + 1,
        pages: run.pages,
        peak_rss_mb: round(peak_rss_mb()),
        store_mb: round(store_mb),
        commits: store.write_stats().commits - commits,
        daemon_cpu_s: round(daemon_cpu.as_secs_f64()),
        simulator_cpu_s: round(sim_cpu.as_secs_f64()),
        pager_s: round(pager_s),
        pager_devices,
        ratio: round(wall / pager_s.max(0.001)),
    })
}
