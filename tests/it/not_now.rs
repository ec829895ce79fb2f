//! A device still busy after DeviceConfigured (`../shared/spec/apple-2026.md` §2.5 steps 9 and
//! 12): the fleet's devices answer the next commands with NotNow, then send Idle once done.
//! The daemon keeps each deferred command queued, never offers it again in the answer to its
//! own NotNow, sends it again when the device asks with Idle, marks nothing failed, and says on
//! the timeline and in the command list that the device deferred it.

use crate::enroll::fleet_with_default_profile;
use adebox::ids::Serial;
use adebox::mdm::MdmPhase;
use adebox::sim::apple_pki::StandInApplePki;
use adebox::sim::fleet::{Fleet, FleetDevice, FleetTarget, Progress, Seen, Wiretap};
use reqwest::StatusCode;
use serde_json::json;
use std::sync::Arc;

/// Commands the device defers after DeviceConfigured.
const DEFERRED: usize = 3;

/// A recorded plist's `key` as a string.
fn field(bytes: &[u8], key: &str) -> Option<String> {
    let v: plist::Value = plist::from_bytes(bytes).ok()?;
    let d = v.as_dictionary()?;
    let found = d.get(key).or_else(|| d.get("Command")?.as_dictionary()?.get(key))?;
    found.as_string().map(str::to_string)
}

#[tokio::test]
async fn commands_a_busy_device_defers_after_release_stay_queued_and_are_sent_again() {
    let now = adebox::clock::Clock::system().now();
    let pki = Arc::new(StandInApplePki::generate(now - time::Duration::days(1)).unwrap());
    let (d, page, _, serials) = fleet_with_default_profile(&pki, 1).await;
    let target = FleetTarget {
        profile_url: d.url("/enroll/machineinfo"),
        ca_pem: String::from_utf8(d.ca_pem()).unwrap(),
        resolve_to: None,
    };
    let tap = Arc::new(Wiretap::default());
    let fleet = Fleet::new(target, pki)
        .unwrap()
        .woken_by(d.apns().feed())
        .tapped(tap.clone())
        .busy_after_configured(DEFERRED);
    let device = FleetDevice::for_serial(&serials[0], 0);
    let run = tokio::spawn(async move {
        fleet.run(std::slice::from_ref(&device), 1, &Progress::default(), now).await
    });

    // Released: the device acknowledged DeviceConfigured and is now busy.
    let serial = Serial::parse(&serials[0]).unwrap();
    let mdm = d.running().services.mdm.clone();
    let mut released = false;
    for _ in 0..600 {
        let state = mdm.state(&serial).await.unwrap();
        if state.is_some_and(|s| s.state == MdmPhase::Enrolled && s.released_at.is_some()) {
            released = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(released, "the device was released");

    // An admin asks for two things right away; the device defers what it is sent.
    let base = format!("/api/v1/devices/{}/mdm", serials[0]);
    let (s, v) = page.post(&format!("{base}/refresh"), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = page.post(&format!("{base}/rename"), json!({"name": "Front desk"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");

    let report = run.await.unwrap();
    assert_eq!(report.released, 1, "the device finished: {report:?}");

    // On the wire: exactly DEFERRED NotNow reports; none answered with the command it defers,
    // then an Idle that brings the deferred commands back, each acknowledged.
    let wire = tap.exchanges();
    let mut not_now = 0;
    for (i, x) in wire.iter().enumerate() {
        if x.seen != Seen::Report || field(&x.bytes, "Status").as_deref() != Some("NotNow") {
            continue;
        }
        not_now += 1;
        let deferred = field(&x.bytes, "CommandUUID").unwrap();
        if let Some(next) = wire.get(i + 1).filter(|n| n.seen == Seen::Command) {
            let sent = field(&next.bytes, "CommandUUID").unwrap();
            assert_ne!(
                sent, deferred,
                "a deferred command is not offered in the answer to its NotNow"
            );
        }
    }
    assert_eq!(not_now, DEFERRED, "the device deferred {DEFERRED} commands");

    // Nothing failed: both commands acknowledged, the deferrals counted.
    let state = mdm.state(&serial).await.unwrap().unwrap();
    assert_eq!(state.state, MdmPhase::Enrolled);
    let (_, view) = page.get(&base).await;
    let commands = view["commands"].as_array().unwrap();
    let after: Vec<_> = commands
        .iter()
        .filter(|c| {
            c["request_type"] == "DeviceInformation"
                || c["words"].as_str().unwrap().contains("Front desk")
        })
        .collect();
    assert_eq!(after.len(), 2, "{view}");
    assert!(after.iter().all(|c| c["state"] == "acknowledged"), "{view}");
    let counted: u64 = after.iter().map(|c| c["not_now_count"].as_u64().unwrap()).sum();
    assert_eq!(counted, DEFERRED as u64, "{view}");
    assert!(commands.iter().all(|c| c["state"] != "error" && c["state"] != "not_now"), "{view}");

    // The timeline says the device deferred them, once per command, and nothing failed.
    let (_, dev) = page.get(&format!("/api/v1/devices/{}", serials[0])).await;
    let events = dev["timeline"].as_array().unwrap();
    let deferrals: Vec<&str> = events
        .iter()
        .filter_map(|e| e["message"].as_str())
        .filter(|m| m.contains("answered NotNow"))
        .collect();
    let deferred_commands = after.iter().filter(|c| c["not_now_count"].as_u64() > Some(0)).count();
    assert_eq!(deferrals.len(), deferred_commands, "{deferrals:?}");
    assert!(deferrals.iter().all(|m| m.contains("sent again")), "{deferrals:?}");
    assert!(events.iter().all(|e| e["kind"] != "mdm_command_failed"), "{events:?}");
    assert!(
        events.iter().any(|e| e["message"].as_str().unwrap_or_default().contains("Front desk")
            && e["kind"] == "mdm_renamed"),
        "the rename took effect once the device was done: {events:?}"
    );
}
