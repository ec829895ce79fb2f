//! Command delivery under kills: a few simulated devices enroll (and are released) against
//! `adebox sandbox`, then keep polling its MDM ServerURL with their identities while the test
//! queues DeviceInformation commands through the admin API and kills the sandbox with SIGKILL
//! at seeded random points (it restarts on the same port, so the devices' URLs stay valid).
//! After the last restart the devices drain their queues, and the checks are: every command
//! the API said it queued ends acknowledged in its device's history, no command is delivered
//! again after its acknowledgement was accepted (nor acknowledged twice), and no history
//! lists a command twice.

use super::enroll::{fleet_for, synced};
use super::{Sandbox, client_when_ready, free_port, get_json, kills, log_tail};
use adebox::sim::fleet::{EnrolledDevice, FleetDevice, Progress};
use reqwest::Client;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const DEVICES: usize = 6;

/// What the devices saw, shared by their pollers.
#[derive(Default)]
struct Seen {
    /// Command uuid → acknowledgements the server accepted (answered 200).
    acked: HashMap<String, u32>,
    /// Commands delivered again after their acknowledgement was accepted.
    redelivered: Vec<String>,
}

/// A device polling until stopped: answers each command, then polls again; a failed request
/// (the sandbox is down) is retried as Idle, so an unanswered command is delivered again.
async fn poll_forever(device: EnrolledDevice, seen: Arc<Mutex<Seen>>) {
    let mut carrying: Option<(String, String)> = None;
    loop {
        let answer = carrying.as_ref().map(|(u, t)| (u.as_str(), t.as_str()));
        match device.poll(answer).await {
            Ok(next) => {
                {
                    let mut seen = seen.lock().unwrap();
                    if let Some((uuid, _)) = &carrying {
                        *seen.acked.entry(uuid.clone()).or_default() += 1;
                    }
                    if let Some((uuid, _)) = &next
                        && seen.acked.contains_key(uuid)
                    {
                        seen.redelivered.push(uuid.clone());
                    }
                }
                if next.is_none() {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                carrying = next;
            }
            Err(_) => {
                carrying = None;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Each device's command history (newest first).
async fn histories(
    sb: &Sandbox,
    client: &Client,
    token: &str,
    serials: &[String],
) -> BTreeMap<String, Vec<Value>> {
    let mut out = BTreeMap::new();
    for serial in serials {
        let state = get_json(sb, client, token, &format!("/api/v1/devices/{serial}/mdm")).await;
        out.insert(serial.clone(), state["commands"].as_array().unwrap().clone());
    }
    out
}

/// Queues DeviceInformation for `serial`; the uuid when the API answered.
async fn queue(sb_url: &str, client: &Client, token: &str, serial: &str) -> Option<String> {
    let url = format!("{sb_url}/api/v1/devices/{serial}/mdm/refresh");
    let resp = client.post(url).bearer_auth(token).send().await.ok()?;
    if !resp.status().is_success() {
        return None;
    }
    let v: Value = resp.json().await.ok()?;
    v["command_uuid"].as_str().map(str::to_string)
}

#[tokio::test]
async fn command_delivery_survives_kills() {
    let (runs, mut rng, _root, data) = kills(0xc0dd);
    let started = Instant::now();
    let port = free_port();
    let mut sb = Sandbox::start_on(&data, DEVICES, port);
    let (client, token) = client_when_ready(&mut sb, &data, Duration::from_secs(60)).await;
    let serials = synced(&sb, &client, &token, &data, DEVICES).await;
    let fleet = fleet_for(&sb, &client, &token, &data).await.keeping();
    let all: Vec<FleetDevice> =
        serials.iter().enumerate().map(|(i, s)| FleetDevice::for_serial(s, i)).collect();
    let report =
        fleet.run(&all, DEVICES, &Progress::default(), adebox::clock::Clock::system().now()).await;
    assert_eq!(report.released, DEVICES, "every device enrolls first: {:?}", report.failures);
    let devices = fleet.enrolled();

    let seen = Arc::new(Mutex::new(Seen::default()));
    // Command uuid → serial, for every command the API said it queued.
    let queued = Arc::new(Mutex::new(BTreeMap::<String, String>::new()));
    let base = format!("https://localhost:{port}");
    let mut run = 0;
    let pollers = loop {
        let pollers: Vec<_> =
            devices.iter().map(|d| tokio::spawn(poll_forever(d.clone(), seen.clone()))).collect();
        let queuer = {
            let (client, token, queued, base) =
                (client.clone(), token.clone(), queued.clone(), base.clone());
            let (serials, gap) = (serials.clone(), Duration::from_millis(rng.below(400)));
            tokio::spawn(async move {
                for serial in serials {
                    if let Some(uuid) = queue(&base, &client, &token, &serial).await {
                        queued.lock().unwrap().insert(uuid, serial);
                    }
                    tokio::time::sleep(gap).await;
                }
            })
        };
        if run == runs {
            let _ = queuer.await;
            break pollers;
        }
        let at = Duration::from_millis(rng.below(2500));
        tokio::time::sleep(at).await;
        sb.kill();
        queuer.abort();
        pollers.iter().for_each(|p| p.abort());
        eprintln!(
            "command crash run {run}: killed after {at:?}; {} commands queued so far",
            queued.lock().unwrap().len()
        );
        sb = Sandbox::start_on(&data, DEVICES, port);
        super::enroll::enrollable(&mut sb, &client, &data).await;
        run += 1;
    };

    // After the last restart the devices drain their queues: every command the API queued
    // must end acknowledged in its device's history.
    let queued = queued.lock().unwrap().clone();
    let deadline = Instant::now() + Duration::from_secs(60);
    let histories = loop {
        let histories = histories(&sb, &client, &token, &serials).await;
        let mut open = Vec::new();
        for (uuid, serial) in &queued {
            let c = histories[serial].iter().find(|c| c["uuid"] == uuid.as_str());
            let c = c.unwrap_or_else(|| panic!("{serial}: the queued command {uuid} is lost"));
            if c["state"] != "acknowledged" {
                open.push(c.clone());
            }
        }
        if open.is_empty() {
            break histories;
        }
        assert!(
            Instant::now() < deadline,
            "queued commands did not end acknowledged after the restart: {open:?}; the log \
             ends:\n{}",
            log_tail(&data)
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    pollers.iter().for_each(|p| p.abort());

    let seen = std::mem::take(&mut *seen.lock().unwrap());
    assert!(
        seen.redelivered.is_empty(),
        "delivered again after an accepted acknowledgement: {:?}",
        seen.redelivered
    );
    for (uuid, n) in &seen.acked {
        assert_eq!(*n, 1, "command {uuid} was acknowledged {n} times");
    }
    let mut entries = 0;
    for (serial, commands) in &histories {
        let uuids: Vec<&str> = commands.iter().map(|c| c["uuid"].as_str().unwrap()).collect();
        let distinct: BTreeSet<&str> = uuids.iter().copied().collect();
        assert_eq!(distinct.len(), uuids.len(), "{serial}: a command is listed twice");
        entries += commands.len();
    }
    eprintln!(
        "{runs} kills during command delivery and recovery in {:?}: {} commands queued, \
         {} acknowledgements the devices saw accepted, {entries} history entries checked",
        started.elapsed(),
        queued.len(),
        seen.acked.len()
    );
}
