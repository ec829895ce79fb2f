//! `adebox bench login`: a flood of wrong sign-ins from many addresses against a daemon in
//! its own process (`adebox serve`, production password cost), while `/healthz` is timed and
//! the real admin signs in from another network (issue 17: 100 parallel wrong sign-ins once
//! took the daemon to 2.4 GB, `/healthz` to 3.4 s and the admin's sign-in to 13.6 s).
//!
//! Each flood client is bound to its own loopback address (127.0.1.1, 127.0.1.2, …: 250 to a
//! /24), so the daemon sees distinct peers, as it would distinct hosts. A client sends one
//! wrong sign-in at a time, at once again after a 401 and a second after a 429. They guess
//! other names than the admin's: against the admin's own name the per-username delay (up to
//! 4 s, docs/admins.md "Sign-in limits") applies by design.

use super::round;
use crate::config::Config;
use crate::crypto::Secret;
use crate::sim::fleet::report::percentile;
use reqwest::{Client, StatusCode};
use serde::Serialize;
use std::net::IpAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const ADMIN: &str = "bench-admin";
const ADMIN_PASSWORD: &str = "the real admin's password";
const GUESSED: [&str; 4] = ["admin", "root", "administrator", "support"];

/// The result of `bench login`.
#[derive(Debug, Serialize)]
pub struct LoginBench {
    pub addresses: usize,
    pub flood_s: f64,
    /// Flood answers: 401 (a password was checked), 429 `busy`, 429 `locked_out`, other.
    pub answers: u64,
    pub wrong: u64,
    pub busy: u64,
    pub locked_out: u64,
    pub failed: u64,
    /// The daemon's resident memory before the flood, its peak during it, and the growth.
    pub rss_before_mb: f64,
    pub rss_peak_mb: f64,
    pub rss_growth_mb: f64,
    /// `/healthz` during the flood, one request after another on a kept-alive connection.
    pub healthz_requests: u64,
    /// `/healthz` requests that got no answer (not in the percentiles).
    pub healthz_failed: u64,
    pub healthz_p50_ms: f64,
    pub healthz_p99_ms: f64,
    /// The real admin's sign-ins during the flood, from another network, every 2 s.
    pub admin_sign_ins: u64,
    pub admin_refused: u64,
    pub admin_p50_ms: f64,
    pub admin_max_ms: f64,
}

/// Floods a fresh daemon with `addresses` parallel wrong sign-ins for `seconds`.
pub async fn login(addresses: usize, seconds: u64) -> anyhow::Result<LoginBench> {
    anyhow::ensure!(
        (1..=60_000).contains(&addresses),
        "use 1 to 60000 addresses (the flood comes from 127.0.1.1 onwards, 250 to a /24)"
    );
    crate::outbound::ensure_crypto_provider();
    let dir = tempfile::tempdir()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let daemon = Daemon::start(dir.path(), port)?;
    let ca = wait_for_ca(dir.path()).await?;
    let client = |from: IpAddr| -> anyhow::Result<Client> {
        Ok(Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(&ca)?])
            .local_address(from)
            .resolve("localhost", ([127, 0, 0, 1], port).into())
            .timeout(Duration::from_secs(60))
            .build()?)
    };
    let base = format!("https://localhost:{port}");
    let health = client([127, 0, 0, 1].into())?;
    wait_healthy(&health, &base).await?;
    let req = crate::control::Request::SetPassword {
        username: ADMIN.into(),
        password: Secret::new(ADMIN_PASSWORD.into()),
        role: None,
    };
    let mut resp = crate::control::call(&dir.path().join("data"), &req).await;
    for _ in 0..50 {
        if resp.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        resp = crate::control::call(&dir.path().join("data"), &req).await;
    }
    let resp = resp?;
    anyhow::ensure!(resp.ok, "creating the admin failed: {}", resp.message);
    // The admin's browser has the page open: its connection is up before the flood.
    let admin = client([127, 0, 250, 1].into())?;
    admin.get(format!("{base}/healthz")).send().await?;
    let attackers = (0..addresses)
        .map(|i| client([127, 0, 1 + (i / 250) as u8, 1 + (i % 250) as u8].into()))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let rss_before = daemon.rss_mb();

    let counts = Arc::new(Counts::default());
    let flood_until = Instant::now() + Duration::from_secs(seconds);
    let mut flood = Vec::with_capacity(addresses);
    for (i, c) in attackers.into_iter().enumerate() {
        let (counts, url) = (counts.clone(), format!("{base}/api/v1/admin/login"));
        flood.push(tokio::spawn(async move {
            let body = serde_json::json!({"username": GUESSED[i % GUESSED.len()], "password": format!("guess {i}")});
            while Instant::now() < flood_until {
                let pause = counts.record(c.post(&url).json(&body).send().await).await;
                tokio::time::sleep(pause).await;
            }
        }));
    }
    let sampler = {
        let pid = daemon.pid();
        tokio::spawn(async move {
            let mut peak: f64 = 0.0;
            while Instant::now() < flood_until + Duration::from_secs(1) {
                peak = peak.max(rss_mb(pid));
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            peak
        })
    };
    let healthz = {
        let (c, url) = (health.clone(), format!("{base}/healthz"));
        tokio::spawn(async move {
            let (mut times, mut failed) = (Vec::new(), 0u64);
            while Instant::now() < flood_until {
                let t = Instant::now();
                if c.get(&url).send().await.is_ok_and(|r| r.status().is_success()) {
                    times.push(t.elapsed().as_secs_f64() * 1000.0);
                } else {
                    failed += 1;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            (times, failed)
        })
    };
    let mut admin_times = Vec::new();
    let mut admin_refused = 0;
    tokio::time::sleep(Duration::from_secs(2).min(Duration::from_secs(seconds) / 3)).await;
    while Instant::now() + Duration::from_secs(1) < flood_until {
        let t = Instant::now();
        let body = serde_json::json!({"username": ADMIN, "password": ADMIN_PASSWORD});
        let ok = admin
            .post(format!("{base}/api/v1/admin/login"))
            .json(&body)
            .send()
            .await
            .is_ok_and(|r| r.status() == StatusCode::OK);
        if ok {
            admin_times.push(t.elapsed().as_secs_f64() * 1000.0);
        } else {
            admin_refused += 1;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    for f in flood {
        f.await?;
    }
    let (mut healthz, healthz_failed) = healthz.await?;
    let rss_peak = sampler.await?.max(rss_before);
    let admin_max = admin_times.iter().copied().fold(0.0, f64::max);
    Ok(LoginBench {
        addresses,
        flood_s: seconds as f64,
        answers: counts.answers.load(Ordering::Relaxed),
        wrong: counts.wrong.load(Ordering::Relaxed),
        busy: counts.busy.load(Ordering::Relaxed),
        locked_out: counts.locked.load(Ordering::Relaxed),
        failed: counts.failed.load(Ordering::Relaxed),
        rss_before_mb: round(rss_before),
        rss_peak_mb: round(rss_peak),
        rss_growth_mb: round(rss_peak - rss_before),
        healthz_requests: healthz.len() as u64,
        healthz_failed,
        healthz_p50_ms: percentile(&mut healthz, 0.50),
        healthz_p99_ms: percentile(&mut healthz, 0.99),
        admin_sign_ins: admin_times.len() as u64,
        admin_refused,
        admin_p50_ms: percentile(&mut admin_times, 0.50),
        admin_max_ms: round(admin_max),
    })
}

#[derive(Default)]
struct Counts {
    answers: AtomicU64,
    wrong: AtomicU64,
    busy: AtomicU64,
    locked: AtomicU64,
    failed: AtomicU64,
}

impl Counts {
    /// Counts one flood answer; returns the pause before the client's next try.
    async fn record(&self, resp: reqwest::Result<reqwest::Response>) -> Duration {
        self.answers.fetch_add(1, Ordering::Relaxed);
        let resp = match resp {
            Ok(r) => r,
            Err(e) => {
                // One line says why (a refused connection, a handshake timeout), not 500.
                if self.failed.fetch_add(1, Ordering::Relaxed) == 0 {
                    eprintln!("a flood request failed (counted in `failed`): {e}");
                }
                return Duration::from_secs(1);
            }
        };
        let status = resp.status();
        let code = resp
            .json::<serde_json::Value>()
            .await
            .ok()
            .and_then(|b| b.get("error").and_then(|e| e.as_str()).map(str::to_string));
        let counter = match (status, code.as_deref()) {
            (StatusCode::UNAUTHORIZED, _) => &self.wrong,
            (StatusCode::TOO_MANY_REQUESTS, Some("locked_out")) => &self.locked,
            (StatusCode::TOO_MANY_REQUESTS, _) => &self.busy,
            _ => &self.failed,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        if status == StatusCode::UNAUTHORIZED { Duration::ZERO } else { Duration::from_secs(1) }
    }
}

/// `adebox serve` in a child process, stopped when dropped.
struct Daemon(Child);

impl Daemon {
    fn start(dir: &Path, port: u16) -> anyhow::Result<Daemon> {
        let config = Config::for_sandbox(
            dir.join("data"),
            std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        );
        let path = dir.join("adebox.toml");
        std::fs::write(&path, config.to_toml())?;
        let child = Command::new(std::env::current_exe()?)
            .arg("serve")
            .arg("--config")
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        Ok(Daemon(child))
    }

    fn pid(&self) -> u32 {
        self.0.id()
    }

    fn rss_mb(&self) -> f64 {
        rss_mb(self.pid())
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Resident set size of process `pid` (Linux `VmRSS`), 0 when unreadable.
fn rss_mb(pid: u32) -> f64 {
    super::proc_status_mb(&format!("/proc/{pid}/status"), "VmRSS:")
}

async fn wait_for_ca(dir: &Path) -> anyhow::Result<Vec<u8>> {
    let path = dir.join("data/tls/ca.pem");
    for _ in 0..300 {
        if let Ok(pem) = std::fs::read(&path) {
            return Ok(pem);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("the daemon did not make its CA in 30 s ({})", path.display())
}

async fn wait_healthy(client: &Client, base: &str) -> anyhow::Result<()> {
    for _ in 0..300 {
        if client.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status().is_success())
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("the daemon did not answer /healthz in 30 s")
}
