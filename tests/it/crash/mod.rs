//! Crash tests: the real `adebox` binary (`adebox sandbox`, the daemon with its simulated
//! Apple side) killed with SIGKILL at random points, again and again on one data directory,
//! then started once more and checked: the store opens, the inventory converges to what the
//! simulator holds (every device once, none lost, none duplicated) and every device gets its
//! default profile.
//!
//! The kill points come from a seeded RNG (`ADEBOX_CRASH_SEED`); `ADEBOX_CRASH_RUNS` sets the
//! kills per flow (default 50; raise it for long runs). A sandbox restarted on the same data
//! directory gets the same seeded demo world back, but a new simulator process: stored cursors
//! are stale, so recovery also exercises the full resync.
//!
//! Flows, one test each: sync and default-profile assignment (one flow: the sandbox assigns
//! as it syncs; after the kills the admin's "Full resync" is requested and the inventory must
//! equal the simulator's, every device with its default profile), enrollment
//! ([`enroll::enrollment_survives_kills`]), ACME orders lost in a kill and ordered again
//! ([`acme_retry::devices_recover_from_lost_acme_orders_by_ordering_again`]), command delivery
//! ([`commands::command_delivery_survives_kills`]), a storm of grouped writes
//! ([`group_commit::acknowledged_grouped_writes_survive_kills`]) and webhook delivery
//! ([`webhooks::webhook_events_survive_kills_and_repeats_say_why`]).

mod acme_retry;
mod commands;
mod enroll;
mod group_commit;
mod webhooks;

use adebox::sim::rng::SimRng;
use reqwest::Client;
use serde_json::Value;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

const DEVICES: usize = 3000;

pub(crate) fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A free port below Linux's ephemeral range (32768–60999 by default): the restarted sandbox
/// binds it after its own simulators and the other tests have bound `:0` ports, which come
/// from that range, so none of them can take it in between.
pub(crate) fn free_port() -> u16 {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let seed = std::process::id().wrapping_mul(7919);
    for _ in 0..1000 {
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let port = 20000 + (seed.wrapping_add(n.wrapping_mul(97)) % 12000) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port between 20000 and 32000");
}

pub(crate) struct Sandbox {
    child: Child,
    pub(crate) port: u16,
}

impl Sandbox {
    /// Starts `adebox sandbox` with `devices` demo devices on `data` (its log goes to
    /// `data.log`).
    pub(crate) fn start(data: &Path, devices: usize) -> Sandbox {
        Sandbox::start_on(data, devices, free_port())
    }

    /// [`Sandbox::start`] on a given port (restarts that keep the devices' URLs valid).
    pub(crate) fn start_on(data: &Path, devices: usize, port: u16) -> Sandbox {
        // The previous run's files must not pass for this one's (a port can come back).
        let _ = std::fs::remove_file(data.join("sandbox.json"));
        let _ = std::fs::remove_file(data.join("stand-in-pki.json"));
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(data.with_extension("log"))
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_adebox"))
            .args(["sandbox", "--devices", &devices.to_string(), "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("--data")
            .arg(data)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("the adebox binary starts");
        Sandbox { child, port }
    }

    pub(crate) fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.port)
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An API client for the sandbox in `data` (its CA, its API token), once it serves.
pub(crate) async fn client_when_ready(
    sb: &mut Sandbox,
    data: &Path,
    within: Duration,
) -> (Client, String) {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = sb.child.try_wait().unwrap() {
            panic!("the daemon exited ({status}); see {}", data.with_extension("log").display());
        }
        let ca = std::fs::read(data.join("tls/ca.pem")).ok();
        let info: Option<Value> = std::fs::read(data.join("sandbox.json"))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .filter(|v: &Value| {
                v["url"].as_str().is_some_and(|u| u.ends_with(&sb.port.to_string()))
            });
        if let (Some(ca), Some(info)) = (ca, info) {
            let client = crate::common::client_trusting(&ca);
            let token = info["api_token"].as_str().unwrap().to_string();
            if client.get(sb.url("/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
                return (client, token);
            }
        }
        assert!(Instant::now() < deadline, "the daemon did not come up on {}", data.display());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The devices CSV rows: serial and profile uuid of every device not removed.
pub(crate) async fn inventory(
    sb: &Sandbox,
    client: &Client,
    token: &str,
) -> Option<Vec<(String, String)>> {
    let resp =
        client.get(sb.url("/api/v1/devices/export.csv")).bearer_auth(token).send().await.ok()?;
    let text = resp.text().await.ok()?;
    let mut rows = csv::Reader::from_reader(text.as_bytes());
    let headers = rows.headers().ok()?.clone();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let (serial, profile, removed) = (col("serial")?, col("profile_uuid")?, col("removed_at")?);
    Some(
        rows.records()
            .filter_map(Result::ok)
            .filter(|r| r.get(removed).unwrap_or("").is_empty())
            .map(|r| (r[serial].to_string(), r[profile].to_string()))
            .collect(),
    )
}

/// A GET of the sandbox's API that must succeed, as JSON.
pub(crate) async fn get_json(sb: &Sandbox, client: &Client, token: &str, path: &str) -> Value {
    let resp = client.get(sb.url(path)).bearer_auth(token).send().await.unwrap();
    assert!(resp.status().is_success(), "GET {path}: {}", resp.status());
    resp.json().await.unwrap()
}

/// A crash test's kills (`ADEBOX_CRASH_RUNS`), seeded RNG (`ADEBOX_CRASH_SEED`, else `seed`)
/// and data directory (inside the returned temporary directory).
pub(crate) fn kills(seed: u64) -> (u64, SimRng, tempfile::TempDir, PathBuf) {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    (env_u64("ADEBOX_CRASH_RUNS", 50), SimRng::new(env_u64("ADEBOX_CRASH_SEED", seed)), root, data)
}

/// The last lines the daemon logged across all runs, for failure messages.
/// Waits until the sandbox says it is running (its demo made, the credentials printed) for
/// the `n`th time in its log.
pub(crate) async fn printed_running(data: &Path, n: usize, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let log = std::fs::read_to_string(data.with_extension("log")).unwrap_or_default();
        if log.matches("Press Ctrl-C to stop.").count() >= n {
            return;
        }
        assert!(Instant::now() < deadline, "the sandbox never said it runs:\n{}", log_tail(data));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub(crate) fn log_tail(data: &Path) -> String {
    let text = std::fs::read_to_string(data.with_extension("log")).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

#[tokio::test]
async fn sync_and_assignment_survive_kills() {
    let (runs, mut rng, _root, data) = kills(0xc4a5);
    let started = Instant::now();
    for run in 0..runs {
        let sb = Sandbox::start(&data, DEVICES);
        // Anywhere from start-up (store creation, first-run setup) to the end of the sync
        // and assignment of all devices (about 3 s on 2 cores, debug build).
        let at = Duration::from_millis(rng.below(3500));
        tokio::time::sleep(at).await;
        sb.kill();
        eprintln!("crash run {run}: killed after {at:?}");
    }
    let mut sb = Sandbox::start(&data, DEVICES);
    let (client, token) = client_when_ready(&mut sb, &data, Duration::from_secs(60)).await;
    // The admin's "Full resync" after the crashes: the stored cursor belongs to an earlier
    // simulator, and the inventory must come back equal to this one's.
    let tokens = get_json(&sb, &client, &token, "/api/v1/tokens").await;
    let list = tokens.get("items").unwrap_or(&tokens);
    for t in list.as_array().into_iter().flatten() {
        let id = t["id"].as_str().unwrap();
        let _ = client
            .post(sb.url(&format!("/api/v1/sync/{id}")))
            .bearer_auth(&token)
            .json(&serde_json::json!({"kind": "full"}))
            .send()
            .await;
    }
    let deadline = Instant::now() + Duration::from_secs(90);
    let rows = loop {
        let rows = inventory(&sb, &client, &token).await.unwrap_or_default();
        let assigned = rows.iter().filter(|(_, p)| !p.is_empty()).count();
        let profiles_done = assigned == rows.len();
        if rows.len() >= DEVICES && profiles_done {
            break rows;
        }
        assert!(
            Instant::now() < deadline,
            "after {runs} kills the inventory did not converge: {} devices, {assigned} with a \
             profile; the daemon's log ends:\n{}",
            rows.len(),
            log_tail(&data)
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    let mut serials: Vec<&str> = rows.iter().map(|(s, _)| s.as_str()).collect();
    serials.sort_unstable();
    serials.dedup();
    assert_eq!(serials.len(), rows.len(), "a device is listed twice");
    assert_eq!(rows.len(), DEVICES, "the inventory holds exactly the simulator's devices");
    let status = client.get(sb.url("/api/v1/status")).bearer_auth(&token).send().await.unwrap();
    assert!(status.status().is_success());
    let with_profile = rows.iter().filter(|(_, p)| !p.is_empty()).count();
    eprintln!(
        "{runs} kills and recovery in {:?}; {with_profile} of {} devices have their profile",
        started.elapsed(),
        rows.len()
    );
}
