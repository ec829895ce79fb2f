//! The device-fleet simulator against a sandbox daemon: simulated iPhones/iPads with synced
//! serials enroll end to end (MachineInfo, signed profile, ACME device-attest-01 or SCEP for
//! iOS 15 devices, certificate, MDM check-in woken by APNs pushes, release),
//! unknown serials are refused and counted; the sandbox's "simulate devices enrolling" route.

use crate::common::*;
use crate::enroll::fleet_with_default_profile;
use adebox::ids::Serial;
use adebox::sim::apple_pki::StandInApplePki;
use adebox::sim::fleet::{Fleet, FleetDevice, FleetTarget, Progress};
use reqwest::StatusCode;
use serde_json::json;
use std::sync::Arc;

fn pki() -> Arc<StandInApplePki> {
    let now = adebox::clock::Clock::system().now();
    Arc::new(StandInApplePki::generate(now - time::Duration::days(1)).unwrap())
}

#[tokio::test]
async fn a_fleet_of_synced_devices_enrolls_and_unknown_serials_are_counted_as_refused() {
    let pki = pki();
    let (d, _page, _, serials) = fleet_with_default_profile(&pki, 20).await;
    let target = FleetTarget {
        profile_url: d.url("/enroll/machineinfo"),
        ca_pem: String::from_utf8(d.ca_pem()).unwrap(),
        resolve_to: None,
    };
    // Devices wait for their pushes from the APNs simulator, as real ones do.
    let fleet = Fleet::new(target, pki.clone()).unwrap().woken_by(d.apns().feed());
    let mut pushes = d.apns().subscribe();
    let mut devices: Vec<FleetDevice> =
        serials.iter().enumerate().map(|(i, s)| FleetDevice::for_serial(s, i)).collect();
    devices.push(FleetDevice::for_serial("UNKNOWNFLEET1", 20));
    devices.push(FleetDevice::for_serial("UNKNOWNFLEET2", 21));
    let progress = Progress::default();
    let now = adebox::clock::Clock::system().now();
    let report = fleet.run(&devices, 6, &progress, now).await;

    let outcomes = progress.outcomes();
    let failures: Vec<_> = outcomes.iter().filter(|o| o.failure.is_some()).collect();
    assert_eq!(report.devices, 22);
    assert_eq!(report.enrolled, 20, "{report:?} {failures:?}");
    assert_eq!(report.failed, 2);
    assert_eq!(report.released, 20, "{report:?}");
    assert_eq!(report.steps["mdm_release"].ok, 20);
    assert_eq!(report.failures["profile_refused:adebox.enrollment.unknown_device"], 2);
    assert!(report.latency_ms.p50 > 0.0 && report.latency_ms.p99 >= report.latency_ms.p50);
    assert_eq!(report.steps["certificate"].ok, 20);
    // Every fifth device runs iOS 15 and gets its identity by SCEP instead of ACME.
    assert_eq!(report.steps["scep_ca_cert"].ok, 4, "{report:?}");
    assert_eq!(report.steps["acme_order"].ok, 16);
    assert_eq!(report.steps["machine_info"].failed, 2);

    // Every certificate is recorded against its device.
    for o in outcomes.iter().filter(|o| o.failure.is_none()) {
        let sha = o.certificate_sha256.as_deref().unwrap();
        let to = d.running().services.acme.device_for_certificate(sha).await.unwrap().unwrap();
        assert_eq!((to.serial.as_str(), to.udid.as_str()), (o.serial.as_str(), o.udid.as_str()));
    }
    let certified = d.running().services.acme.certified_serials().await.unwrap();
    assert!(serials.iter().all(|s| certified.contains(&Serial::parse(s).unwrap())));

    // Released: named by the profile's template, lifecycle "Enrolled".
    for serial in &serials {
        let serial = &Serial::parse(serial).unwrap();
        let dev = d.running().services.devices.get(serial).await.unwrap().unwrap();
        assert_eq!(dev.summary.lifecycle, adebox::devices::Lifecycle::Enrolled, "{serial}");
        let mdm = d.running().services.mdm.state(serial).await.unwrap().unwrap();
        assert_eq!(mdm.state, adebox::mdm::MdmPhase::Enrolled);
        let words: Vec<_> = mdm.commands.iter().map(|c| (c.words.clone(), c.state)).collect();
        let named = format!("Set the device name to \"Lab-{serial}\"");
        assert!(words.contains(&(named, adebox::mdm::CommandStatus::Acknowledged)), "{words:?}");
    }

    // MDM woke every released device through APNs at least once (the release commands).
    let mut woken = std::collections::HashSet::new();
    while let Ok(push) = pushes.try_recv() {
        woken.insert(push.token);
    }
    assert!(woken.len() >= 20, "{} devices were pushed", woken.len());

    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["failures"]["profile_refused:adebox.enrollment.unknown_device"], 2);
    assert!(json["latency_ms"]["p99"].is_number());
}

#[tokio::test]
async fn the_sandbox_enrolls_devices_not_yet_enrolled_in_the_background() {
    let pki = pki();
    let (d, page, _, serials) = fleet_with_default_profile(&pki, 5).await;

    let (s, v) = page.get("/api/v1/sandbox/enroll").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["running"], false);
    let (s, v) = page.post("/api/v1/sandbox/enroll", json!({"count": 0})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");

    let (s, v) = page.post("/api/v1/sandbox/enroll", json!({"count": 3})).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    assert_eq!(v["devices"], 3);
    let done = wait_run(&page).await;
    assert_eq!(done["report"]["enrolled"], 3, "{done}");
    assert_eq!(done["report"]["devices"], 3);
    assert_eq!((done["total"].as_u64(), done["done"].as_u64()), (Some(3), Some(3)));

    // The next run picks only the two not yet enrolled; then none is left.
    let (s, v) = page.post("/api/v1/sandbox/enroll", json!({"count": 10})).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    assert_eq!(v["devices"], 2);
    let done = wait_run(&page).await;
    assert_eq!(done["report"]["enrolled"], 2, "{done}");
    let certified = d.running().services.acme.certified_serials().await.unwrap();
    assert!(serials.iter().all(|s| certified.contains(&Serial::parse(s).unwrap())));
    let (s, v) = page.post("/api/v1/sandbox/enroll", json!({"count": 1})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
}

#[tokio::test]
async fn the_enroll_simulation_is_not_found_outside_the_sandbox() {
    let d = TestDaemon::start().await;
    let page = d.setup_admin().await;
    let (s, _) = page.post("/api/v1/sandbox/enroll", json!({"count": 1})).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = page.get("/api/v1/sandbox/enroll").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

async fn wait_run(page: &Page) -> serde_json::Value {
    for _ in 0..600 {
        let (s, v) = page.get("/api/v1/sandbox/enroll").await;
        assert_eq!(s, StatusCode::OK, "{v}");
        if v["running"] == false && v["total"].as_u64() > Some(0) {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the simulated enrollment run did not finish");
}
