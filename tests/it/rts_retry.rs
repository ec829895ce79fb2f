//! `ShouldRetryEnrollment` acted on (`../shared/spec/apple-2026.md` §2.2, §2.6): after a
//! Return to Service erase the simulated device's first enrollment fails because the appliance
//! cannot be reached. An iOS 27 device, whose erase carries the key, backs off and enrolls
//! again once the network is back, and its timeline shows both enrollments; an iOS 26 device,
//! whose erase does not, stays where its one failed attempt left it.
//!
//! The devices reach the daemon through a relay on another loopback address (the fleet
//! resolves the daemon's host name there, keeping its port) that the test cuts and restores:
//! the network between a device and the appliance, not a stand-in for either.

use crate::enroll::fleet_with_default_profile;
use adebox::sim::apple_pki::StandInApplePki;
use adebox::sim::fleet::{EnrolledDevice, Fleet, FleetDevice, FleetTarget, Progress};
use reqwest::StatusCode;
use serde_json::json;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// A TCP relay from `127.0.0.2:port` to the daemon on `127.0.0.1:port`; cut, it drops every
/// connection it carries (pooled ones too) and every new one.
struct Relay {
    addr: SocketAddr,
    up: Arc<AtomicBool>,
    carried: Arc<Mutex<JoinSet<()>>>,
    _accept: tokio::task::JoinHandle<()>,
}

impl Relay {
    async fn start(port: u16) -> Relay {
        let addr = SocketAddr::from(([127, 0, 0, 2], port));
        let listener = TcpListener::bind(addr).await.expect("127.0.0.2 is loopback on Linux");
        let up = Arc::new(AtomicBool::new(true));
        let carried: Arc<Mutex<JoinSet<()>>> = Arc::default();
        let (u, c) = (up.clone(), carried.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !u.load(Ordering::SeqCst) {
                    continue; // dropped: the device sees the connection fail
                }
                c.lock().unwrap().spawn(async move {
                    let to = SocketAddr::from(([127, 0, 0, 1], port));
                    if let Ok(mut out) = TcpStream::connect(to).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                    }
                });
            }
        });
        Relay { addr, up, carried, _accept: accept }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.carried.lock().unwrap().abort_all();
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

fn kept(fleet: &Fleet, serial: &str) -> EnrolledDevice {
    let all = fleet.enrolled().into_iter().filter(|k| k.device.serial == serial);
    all.last().unwrap_or_else(|| panic!("{serial} was kept"))
}

fn enrollments(device: &serde_json::Value) -> usize {
    let all = device["timeline"].as_array().unwrap();
    all.iter().filter(|e| e["kind"] == "mdm_authenticated").count()
}

#[tokio::test]
async fn after_return_to_service_only_a_device_told_should_retry_enrollment_retries() {
    let now = adebox::clock::Clock::system().now();
    let pki = Arc::new(StandInApplePki::generate(now - time::Duration::days(1)).unwrap());
    let (d, page, _, serials) = fleet_with_default_profile(&pki, 2).await;
    let relay = Relay::start(d.running().https_addrs[0].port()).await;
    let target = FleetTarget {
        profile_url: d.url("/enroll/machineinfo"),
        ca_pem: String::from_utf8(d.ca_pem()).unwrap(),
        resolve_to: Some(relay.addr),
    };
    let fleet = Fleet::new(target, pki)
        .unwrap()
        .keeping()
        .retrying_enrollment_after(Duration::from_millis(200));
    let on = |i: usize, os: &str, build: &str| FleetDevice {
        os_version: os.into(),
        build: build.into(),
        ..FleetDevice::for_serial(&serials[i], 0)
    };
    let (ios27, ios26) = (on(0, "27.0", "24A335"), on(1, "26.2", "23C55"));
    let report = fleet.run(&[ios27.clone(), ios26.clone()], 2, &Progress::default(), now).await;
    assert_eq!(report.released, 2, "{report:?}");
    for serial in [&ios27.serial, &ios26.serial] {
        let path = format!("/api/v1/devices/{serial}/mdm/return-to-service");
        let (s, v) = page.post(&path, json!({"confirm": serial})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }

    // Each device takes its erase, then loses the appliance for its first enrollment; the
    // network comes back a second later.
    let mut outcomes = Vec::new();
    for device in [&ios27, &ios26] {
        let kept = kept(&fleet, &device.serial);
        let rts = fleet.receive_return_to_service(&kept).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(rts.should_retry_enrollment, device.os_version.starts_with("27"), "{rts:?}");
        relay.cut();
        let back = async {
            tokio::time::sleep(Duration::from_secs(1)).await;
            relay.restore();
        };
        let (outcome, ()) = tokio::join!(fleet.enroll_after_erase(&kept, &rts, now), back);
        outcomes.push(outcome.unwrap_or_else(|e| panic!("{e}")));
    }
    let (o27, o26) = (&outcomes[0], &outcomes[1]);
    assert!(o27.released, "the iOS 27 device retried until it enrolled: {o27:?}");
    assert!(o27.attempts >= 2, "{o27:?}");
    assert!(!o26.released, "the iOS 26 device was not told to retry: {o26:?}");
    assert_eq!(o26.attempts, 1, "{o26:?}");
    assert_eq!(o26.failed_step.as_deref(), Some("acme_directory"), "{o26:?}");

    let (_, v) = page.get(&format!("/api/v1/devices/{}", ios27.serial)).await;
    assert_eq!(enrollments(&v), 2, "both enrollments on the timeline: {v}");
    let (_, v) = page.get(&format!("/api/v1/devices/{}", ios26.serial)).await;
    assert_eq!(enrollments(&v), 1, "the failed attempt never reached the appliance: {v}");
}
