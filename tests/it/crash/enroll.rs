//! Enrollment under kills: simulated devices (this process, over HTTPS, with the stand-in
//! Apple PKI the sandbox writes to `stand-in-pki.json`) enroll against `adebox sandbox` while
//! it is killed with SIGKILL at seeded random points; each restart gets a new port and a new
//! stand-in PKI, and the devices not yet released start over from their MachineInfo. When
//! every device has been released once, they all enroll again (a re-enrollment, as after an
//! erase), so every kill lands in enrollment work. After the last restart the rest enroll,
//! and the checks are: every identity certificate a device received is still recorded
//! against it, no certificate is listed twice, the inventory holds each demo device once, and
//! every device ends enrolled.

use super::{Sandbox, client_when_ready, get_json, inventory, kills, log_tail};
use adebox::sim::apple_pki::StandInApplePki;
use adebox::sim::fleet::{DeviceOutcome, Fleet, FleetDevice, FleetTarget, Progress};
use reqwest::Client;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Demo devices: enough that enrollment is still going on at the 50th kill (a debug build
/// enrolls a few a second on 2 cores), few enough that the test stays near 3 minutes.
const DEVICES: usize = 80;
const CONCURRENCY: usize = 4;
/// Devices started per run: more would not get past the kill anyway.
const BATCH: usize = 24;

/// A fleet aimed at the running sandbox in `data` (its enrollment URL, CA and stand-in PKI).
pub(super) async fn fleet_for(sb: &Sandbox, client: &Client, token: &str, data: &Path) -> Fleet {
    let settings = get_json(sb, client, token, "/api/v1/enrollment/settings").await;
    let profile_url = settings["enrollment_url"].as_str().unwrap().to_string();
    let pki = StandInApplePki::from_json(&std::fs::read(data.join("stand-in-pki.json")).unwrap())
        .unwrap();
    let target = FleetTarget {
        profile_url,
        ca_pem: std::fs::read_to_string(data.join("tls/ca.pem")).unwrap(),
        resolve_to: Some(SocketAddr::from(([127, 0, 0, 1], sb.port))),
    };
    Fleet::new(target, Arc::new(pki)).unwrap()
}

/// Waits until the restarted sandbox serves and has written its new stand-in PKI.
pub(super) async fn enrollable(sb: &mut Sandbox, client: &Client, data: &Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = sb.child.try_wait().unwrap() {
            panic!("the daemon exited ({status}); the log ends:\n{}", log_tail(data));
        }
        if data.join("stand-in-pki.json").exists()
            && client.get(sb.url("/healthz")).send().await.is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the sandbox did not come up; the log ends:\n{}",
            log_tail(data)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the inventory holds `n` devices, each with its profile; returns the serials.
pub(super) async fn synced(
    sb: &Sandbox,
    client: &Client,
    token: &str,
    data: &Path,
    n: usize,
) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let rows = inventory(sb, client, token).await.unwrap_or_default();
        if rows.len() >= n && rows.iter().all(|(_, p)| !p.is_empty()) {
            let mut serials: Vec<String> = rows.into_iter().map(|(s, _)| s).collect();
            serials.sort();
            return serials;
        }
        assert!(
            Instant::now() < deadline,
            "the sandbox did not sync its {n} devices with their profile; the log ends:\n{}",
            log_tail(data)
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// The devices of `serials` not released in this round; a device keeps its index (its kind).
fn pending(serials: &[String], released: &HashSet<String>) -> Vec<FleetDevice> {
    serials
        .iter()
        .enumerate()
        .filter(|(_, s)| !released.contains(*s))
        .map(|(i, s)| FleetDevice::for_serial(s, i))
        .collect()
}

#[tokio::test]
async fn enrollment_survives_kills() {
    let (runs, mut rng, _root, data) = kills(0xe1c0);
    let started = Instant::now();
    let mut sb = Sandbox::start(&data, DEVICES);
    // The first API token stays valid across restarts (each start adds one).
    let (mut client, mut token) = client_when_ready(&mut sb, &data, Duration::from_secs(60)).await;
    // The sandbox's own demo first (a device migrating in, the first iPhone returned to
    // service), so that its fleet and this test's do not enroll one device at once.
    super::printed_running(&data, 1, Duration::from_secs(180)).await;
    // The demo migrates one device in from the other server; it has the user-affinity profile
    // (a sign-in this fleet does not give), so the devices enrolled here are those of the
    // first sync, which all carry that run's time.
    synced(&sb, &client, &token, &data, DEVICES + 1).await;
    let list = get_json(&sb, &client, &token, "/api/v1/devices?limit=1000").await;
    let items = list["items"].as_array().unwrap();
    let first = items.iter().filter_map(|d| d["first_seen"].as_str()).min().unwrap();
    let mut serials: Vec<String> = items
        .iter()
        .filter(|d| d["first_seen"] == first)
        .map(|d| d["serial"].as_str().unwrap().to_string())
        .collect();
    serials.sort();
    assert_eq!(serials.len(), DEVICES, "{list}");

    // serial → certificates the device was given; devices enrolled and released.
    let mut issued: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut released: HashSet<String> = HashSet::new();
    let mut interrupted = 0usize;
    let record = |o: &DeviceOutcome,
                  issued: &mut BTreeMap<String, BTreeSet<String>>,
                  released: &mut HashSet<String>| {
        if let Some(sha) = &o.certificate_sha256 {
            issued.entry(o.serial.clone()).or_default().insert(sha.clone());
        }
        if o.released {
            released.insert(o.serial.clone());
        }
    };
    let mut rounds = 1;
    for run in 0..runs {
        let fleet = fleet_for(&sb, &client, &token, &data).await;
        if pending(&serials, &released).is_empty() {
            released.clear();
            rounds += 1;
        }
        let devices: Vec<FleetDevice> =
            pending(&serials, &released).into_iter().take(BATCH).collect();
        let progress = Arc::new(Progress::default());
        let task = {
            let progress = progress.clone();
            tokio::spawn(async move {
                let now = adebox::clock::Clock::system().now();
                fleet.run(&devices, CONCURRENCY, &progress, now).await
            })
        };
        let at = Duration::from_millis(rng.below(3000));
        tokio::time::sleep(at).await;
        sb.kill();
        // Devices in flight see the connection drop and stop; a straggler is abandoned (its
        // outcome is unknown, so it is not counted either way).
        let abort = task.abort_handle();
        if tokio::time::timeout(Duration::from_secs(10), task).await.is_err() {
            abort.abort();
        }
        let outcomes = progress.outcomes();
        interrupted += outcomes.iter().filter(|o| !o.released && !o.steps_ms.is_empty()).count();
        for o in &outcomes {
            record(o, &mut issued, &mut released);
        }
        eprintln!(
            "enrollment crash run {run}: killed after {at:?}; round {rounds}, {} released",
            released.len()
        );
        sb = Sandbox::start(&data, DEVICES);
        enrollable(&mut sb, &client, &data).await;
    }
    (client, token) = client_when_ready(&mut sb, &data, Duration::from_secs(60)).await;
    synced(&sb, &client, &token, &data, DEVICES + 1).await;

    // The rest enroll after the last restart, interrupted ones starting over.
    let fleet = fleet_for(&sb, &client, &token, &data).await;
    let rest = pending(&serials, &released);
    let progress = Progress::default();
    let report =
        fleet.run(&rest, CONCURRENCY, &progress, adebox::clock::Clock::system().now()).await;
    for o in &progress.outcomes() {
        record(o, &mut issued, &mut released);
    }
    assert_eq!(
        report.failed,
        0,
        "after {runs} kills {} of {} remaining devices failed to enroll: {:?}; the log ends:\n{}",
        report.failed,
        rest.len(),
        report.failures,
        log_tail(&data)
    );
    assert_eq!(released.len(), DEVICES, "every device ends enrolled and released");

    // Each device once in the inventory, each enrolled.
    let rows = inventory(&sb, &client, &token).await.unwrap();
    let unique: BTreeSet<&str> = rows.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(unique.len(), rows.len(), "a device is listed twice");
    assert_eq!(rows.len(), DEVICES + 1, "the demo devices and the one migrating in, once each");
    let enrolled =
        get_json(&sb, &client, &token, "/api/v1/devices?lifecycle=enrolled&limit=1").await;
    assert_eq!(enrolled["total"], DEVICES, "every device is enrolled in the inventory");

    // No issued certificate lost, none recorded twice.
    let mut certificates = 0;
    for (serial, shas) in &issued {
        let list =
            get_json(&sb, &client, &token, &format!("/api/v1/devices/{serial}/certificates")).await;
        let recorded: Vec<&str> =
            list.as_array().unwrap().iter().map(|c| c["sha256"].as_str().unwrap()).collect();
        let distinct: BTreeSet<&str> = recorded.iter().copied().collect();
        assert_eq!(distinct.len(), recorded.len(), "{serial}: a certificate is listed twice");
        for sha in shas {
            assert!(
                distinct.contains(sha.as_str()),
                "{serial}: the certificate {sha} the device received is not recorded after \
                 the kills (recorded: {recorded:?})"
            );
        }
        certificates += shas.len();
    }
    eprintln!(
        "{runs} kills during enrollment and recovery in {:?}: {DEVICES} devices enrolled, \
         {interrupted} enrollments cut short mid-way and started over, {rounds} rounds, \
         {certificates} certificates checked",
        started.elapsed()
    );
    sb.kill();
}
