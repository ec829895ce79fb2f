//! Apple-schema conformance of every plist the appliance writes or accepts, checked by
//! `device-schema` (Apple's YAML in `../shared/fixtures/device-management/` plus
//! `schemas/overlay/`), a reader that shares nothing with the product's types. A finding is a
//! test failure:
//!
//! - the enrollment profile the running daemon serves to each OS class (iPhone, iPad, Mac,
//!   Apple TV; ACME and SCEP),
//! - everything a fleet of simulated devices exchanges with the daemon: profiles, check-ins,
//!   reports, and every command the appliance sends (the release commands, refresh, rename,
//!   erase),
//! - each command the builder writes, for each kind of device,
//! - the real check-in and report plists of `../shared/fixtures/mdm-checkin/`, which the
//!   appliance also accepts.
//!
//! The bytes the appliance served before the `PayloadDescription` fix are refused by the check
//! and by the fleet's own reader. Skipped with a notice when the fixtures are absent.

use crate::common::*;
use crate::enroll::{fleet_with_default_profile, post, signed_content};
use adebox::apple::mdm::{Command, DEFAULT_QUERIES};
use adebox::sim::apple_pki::StandInApplePki;
use adebox::sim::fleet::{Exchange, Fleet, FleetDevice, FleetTarget, Progress, Seen, Wiretap};
use device_schema::{Context, Os, Problem, Schemas, Type};
use plist::Value;
use reqwest::StatusCode;
use serde_json::json;
use std::sync::{Arc, OnceLock};

const BEFORE_FIX: [(&str, &[u8]); 2] = [
    ("ACME", include_bytes!("../data/enrollment-profile-before-fix-acme.xml")),
    ("SCEP", include_bytes!("../data/enrollment-profile-before-fix-scep.xml")),
];

/// Apple's schemas with the overlay, loaded once; `None` (with a notice) without fixtures.
fn schemas() -> Option<&'static Schemas> {
    static LOADED: OnceLock<Option<Schemas>> = OnceLock::new();
    LOADED
        .get_or_init(|| {
            let dir = adebox::fixtures::dir()?;
            Some(Schemas::from_fixtures(&dir).unwrap_or_else(|e| panic!("{e}")))
        })
        .as_ref()
}

/// The schema's OS for a model identifier (iPadOS is `iOS` in Apple's files).
fn os_of(product: &str) -> Os {
    match product {
        p if p.starts_with("iPhone") || p.starts_with("iPad") || p.starts_with("iPod") => Os::Ios,
        p if p.starts_with("AppleTV") => Os::TvOs,
        p if p.starts_with("RealityDevice") => Os::VisionOs,
        _ => Os::MacOs,
    }
}

fn value(bytes: &[u8]) -> Value {
    Value::from_reader(std::io::Cursor::new(bytes)).expect("a plist")
}

fn pki() -> Arc<StandInApplePki> {
    let now = adebox::clock::Clock::system().now();
    Arc::new(StandInApplePki::generate(now - time::Duration::days(1)).unwrap())
}

#[test]
fn the_bytes_served_before_the_fix_are_refused_by_the_check_and_by_the_fleet() {
    let Some(schemas) = schemas() else { return };
    for (variant, bytes) in BEFORE_FIX {
        let v = schemas
            .check_profile(&value(bytes), &Context::device(Os::Ios))
            .expect_err("the schema check accepted the old profile");
        assert_eq!(
            v.at("PayloadDescription"),
            Some(&Problem::WrongType { expected: Type::String, found: "dictionary" }),
            "{variant}: {v}"
        );
        assert_eq!(v.0.len(), 1, "{variant}: only PayloadDescription was wrong: {v}");
        // The reader a simulated device installs the profile with refuses it too.
        let e = adebox::sim::fleet::wire::read_profile(bytes).expect_err("the fleet accepted it");
        assert_eq!(e.at, "PayloadDescription", "{variant}: {e}");
        assert!(e.to_string().contains("expected string, found dictionary"), "{e}");
    }
}

#[test]
fn every_command_the_appliance_builds_matches_apples_schemas() {
    let Some(schemas) = schemas() else { return };
    let queries = DEFAULT_QUERIES.iter().map(|q| q.to_string()).collect();
    let all = [
        Command::DeviceInformation { queries },
        Command::DeviceName { name: "Lab-F2LXK0AAHG7F".into() },
        Command::DeviceConfigured,
        Command::EraseDevice,
        Command::InstallProfile { name: "Wi-Fi".into(), payload: b"<plist/>".to_vec() },
    ];
    let devices = [
        ("iPhone15,2", "17.5"),
        ("iPad13,18", "18.1"),
        ("iPhone12,1", "15.7.9"),
        ("Mac14,3", "14.5"),
    ];
    for c in &all {
        for (product, version) in devices {
            let ctx = Context::device(os_of(product)).at(version);
            let bytes = c.to_plist("6A1C0F3E-0000-4000-8000-000000000001", Some(product));
            if let Err(v) = schemas.check_command(&value(&bytes), &ctx) {
                panic!("{} for {product} {version}: {v}", c.request_type());
            }
        }
    }
    // AccountConfiguration exists on macOS only (a setup step skips it elsewhere).
    let account = Command::AccountConfiguration {
        short_name: "ann".into(),
        full_name: "Ann Lee".into(),
        lock: true,
    };
    let bytes = account.to_plist("6A1C0F3E-0000-4000-8000-000000000002", Some("Mac14,3"));
    let ctx = Context::device(os_of("Mac14,3")).at("14.5");
    if let Err(v) = schemas.check_command(&value(&bytes), &ctx) {
        panic!("AccountConfiguration: {v}");
    }
}

#[test]
fn every_check_in_fixture_the_appliance_accepts_matches_apples_schemas() {
    let Some(schemas) = schemas() else { return };
    // (file, OS and version of the device that sent it; from the fixtures README)
    let check_ins = [
        ("Authenticate.1.plist", Os::Ios, "9.3.5"),
        ("Authenticate.2.plist", Os::MacOs, "10.12.6"),
        ("TokenUpdate.1.plist", Os::Ios, "9.3.5"),
        ("TokenUpdate.2.plist", Os::MacOs, "10.12.6"),
    ];
    for (file, os, version) in check_ins {
        let Some(bytes) = adebox::fixtures::read(&format!("mdm-checkin/{file}")) else { return };
        adebox::apple::mdm::parse_check_in(&bytes).unwrap_or_else(|e| panic!("{file}: {e}"));
        if let Err(v) = schemas.check_check_in(&value(&bytes), &Context::device(os).at(version)) {
            panic!("{file}: {v}");
        }
    }
    let Some(bytes) = adebox::fixtures::read("mdm-checkin/DeviceInformation.1.plist") else {
        return;
    };
    adebox::apple::mdm::parse_report(&bytes).unwrap();
    let ctx = Context::device(Os::MacOs).at("10.12.6");
    schemas.check_report(&value(&bytes), Some("DeviceInformation"), &ctx).unwrap();
}

/// The signed profile the daemon serves to device number `n`, a `product` at `version`
/// (serial `serial`, synced with the default profile).
async fn served(
    d: &TestDaemon,
    pki: &StandInApplePki,
    serial: &str,
    (product, version): (&str, &str),
    n: usize,
) -> Vec<u8> {
    let device = FleetDevice {
        serial: serial.into(),
        udid: format!("00008110-{n:016X}"),
        product: product.into(),
        os_version: version.into(),
        build: "21F79".into(),
        factory: None,
        migrating: false,
    };
    let body = signed_content(pki, &device.udid, &adebox::sim::fleet::machine_info(&device));
    let (status, ct, bytes) = post(d, body).await;
    assert_eq!(status, StatusCode::OK, "{product}: {}", String::from_utf8_lossy(&bytes));
    assert_eq!(ct, "application/x-apple-aspen-config");
    adebox::crypto::cms::verify_signed(&bytes).unwrap().content
}

#[tokio::test]
async fn the_profile_served_to_each_os_class_matches_apples_schemas() {
    let Some(schemas) = schemas() else { return };
    let pki = pki();
    let (d, _page, _, serials) = fleet_with_default_profile(&pki, 1).await;
    // (product, version, the identity payload the daemon chooses)
    let classes = [
        ("iPhone15,2", "17.5", "com.apple.security.acme"),
        ("iPhone12,1", "15.7.9", "com.apple.security.scep"),
        ("iPad13,18", "18.1", "com.apple.security.acme"),
        ("iPad7,11", "17.5", "com.apple.security.scep"),
        ("Mac14,3", "14.5", "com.apple.security.acme"),
        ("iMac20,1", "14.5", "com.apple.security.scep"),
        ("AppleTV14,1", "17.5", "com.apple.security.acme"),
        ("AppleTV6,2", "17.5", "com.apple.security.scep"),
    ];
    for (n, (product, version, identity)) in classes.into_iter().enumerate() {
        let content = served(&d, &pki, &serials[0], (product, version), n).await;
        let profile = value(&content);
        let ctx = Context::device(os_of(product)).at(version);
        if let Err(v) = schemas.check_profile(&profile, &ctx) {
            panic!("{product} {version}: {v}");
        }
        let payloads = profile.as_dictionary().unwrap()["PayloadContent"].as_array().unwrap();
        let types: Vec<&str> = payloads
            .iter()
            .map(|p| p.as_dictionary().unwrap()["PayloadType"].as_string().unwrap())
            .collect();
        assert_eq!(types, ["com.apple.security.root", identity, "com.apple.mdm"], "{product}");
        // And the fleet's strict reader installs it.
        adebox::sim::fleet::wire::read_profile(&content).unwrap();
    }
}

/// Checks one recorded exchange; `commands` maps each command uuid to its RequestType, for
/// the reports that answer them.
fn check_exchange(
    schemas: &Schemas,
    e: &Exchange,
    commands: &std::collections::HashMap<String, String>,
) {
    let ctx = Context::device(os_of(&e.product)).at(&e.os_version);
    let v = value(&e.bytes);
    let result = match e.seen {
        Seen::Profile => schemas.check_profile(&v, &ctx),
        Seen::Command => schemas.check_command(&v, &ctx),
        Seen::CheckIn => schemas.check_check_in(&v, &ctx),
        Seen::Report => {
            let uuid = v.as_dictionary().and_then(|d| d.get("CommandUUID")?.as_string());
            let request_type = uuid.and_then(|u| commands.get(u)).map(String::as_str);
            schemas.check_report(&v, request_type, &ctx)
        }
    };
    if let Err(found) = result {
        panic!(
            "{:?} of {} ({}): {found}\n{}",
            e.seen,
            e.serial,
            e.product,
            String::from_utf8_lossy(&e.bytes)
        );
    }
}

#[tokio::test]
async fn everything_a_fleet_exchanges_with_the_daemon_matches_apples_schemas() {
    let Some(schemas) = schemas() else { return };
    let pki = pki();
    let (d, page, _, serials) = fleet_with_default_profile(&pki, 5).await;
    let target = FleetTarget {
        profile_url: d.url("/enroll/machineinfo"),
        ca_pem: String::from_utf8(d.ca_pem()).unwrap(),
        resolve_to: None,
    };
    let tap = Arc::new(Wiretap::default());
    let fleet = Fleet::new(target, pki.clone()).unwrap().keeping().tapped(tap.clone());
    // iPhones and iPads on iOS 17/18 (ACME) and an iPhone on iOS 15 (SCEP).
    let devices: Vec<FleetDevice> =
        serials.iter().enumerate().map(|(i, s)| FleetDevice::for_serial(s, i)).collect();
    assert!(devices.iter().any(|d| d.os_version.starts_with("15.")));
    let now = adebox::clock::Clock::system().now();
    let report = fleet.run(&devices, 5, &Progress::default(), now).await;
    assert_eq!(report.released, 5, "{report:?}");

    // The admin's commands reach a kept device: refresh and rename, then erase (which ends
    // the enrollment, so it goes last).
    let device = fleet.enrolled().into_iter().next().unwrap();
    let serial = device.device.serial.clone();
    let mut carried = Vec::new();
    for actions in [
        vec![("refresh", json!({})), ("rename", json!({"name": "Renamed-1"}))],
        vec![("erase", json!({"confirm": serial}))],
    ] {
        for (action, body) in actions {
            let (s, v) = page.post(&format!("/api/v1/devices/{serial}/mdm/{action}"), body).await;
            assert_eq!(s, StatusCode::OK, "{action}: {v}");
        }
        let mut carrying: Option<(String, String)> = None;
        for _ in 0..10 {
            let answer = carrying.as_ref().map(|(u, t)| (u.as_str(), t.as_str()));
            carrying = device.poll(answer).await.unwrap();
            match &carrying {
                Some((_, rt)) => carried.push(rt.clone()),
                None => break,
            }
        }
    }
    for rt in ["EraseDevice", "DeviceInformation", "Settings"] {
        assert!(carried.iter().any(|c| c == rt), "{rt} not delivered: {carried:?}");
    }

    let exchanges = tap.exchanges();
    let commands: std::collections::HashMap<String, String> = exchanges
        .iter()
        .filter(|e| e.seen == Seen::Command)
        .filter_map(|e| {
            let v = value(&e.bytes);
            let d = v.as_dictionary()?;
            let uuid = d.get("CommandUUID")?.as_string()?.to_string();
            let rt = d.get("Command")?.as_dictionary()?.get("RequestType")?.as_string()?;
            Some((uuid, rt.to_string()))
        })
        .collect();
    for seen in [Seen::Profile, Seen::CheckIn, Seen::Report, Seen::Command] {
        let n = exchanges.iter().filter(|e| e.seen == seen).count();
        assert!(n >= 5, "{n} exchanges of {seen:?}");
    }
    let request_types: std::collections::HashSet<&str> =
        commands.values().map(String::as_str).collect();
    for rt in ["Settings", "DeviceConfigured", "DeviceInformation", "EraseDevice"] {
        assert!(request_types.contains(rt), "no {rt} among {request_types:?}");
    }
    for e in &exchanges {
        check_exchange(schemas, e, &commands);
    }
}
