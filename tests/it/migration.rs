//! MDM migration to this appliance (`../shared/spec/apple-2026.md` §1) end to end: an admin
//! schedules, at the simulated Apple Business portal, the move of devices enrolled at another
//! MDM server to this one with a deadline; the next sync shows them (as `modified`, §1.3) with
//! `mdm_migration_deadline`; the default profile is assigned whatever the `op_type`; the devices
//! re-enroll without an erase and go through the await-phase onboarding like new devices (a
//! deadline is no proof of a migration, §1.6) and are released. The dashboard counts the
//! deadlines and names the soonest. The portal refuses bad deadlines and devices nothing
//! manages.

use crate::assignments_api::wait_for;
use crate::common::*;
use crate::enroll::fleet_with_default_profile;
use adebox::sim::apple_pki::StandInApplePki;
use adebox::sim::fleet::{Fleet, FleetDevice, FleetTarget, Progress};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;

pub(crate) async fn portal(
    d: &TestDaemon,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let r = d
        .sim_client()
        .request(method, format!("{}{path}", d.sim().portal_url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn devices_migrating_in_are_assigned_onboarded_and_released_and_bad_deadlines_refused() {
    let now = adebox::clock::Clock::system().now();
    let pki = Arc::new(StandInApplePki::generate(now - time::Duration::days(1)).unwrap());
    // Our server with its default profile (device name template) and one device of its own.
    let (d, page, tid, own) = fleet_with_default_profile(&pki, 1).await;
    let (_, servers) = portal(&d, reqwest::Method::GET, "/servers", Value::Null).await;
    let ours = servers[0]["server_uuid"].as_str().unwrap().to_string();

    // Another MDM server at the same organisation manages two devices.
    let ca = String::from_utf8(d.ca_pem()).unwrap();
    let (_, key) = pending_key(&d, &page).await;
    let (s, other) = portal(
        &d,
        reqwest::Method::POST,
        "/servers",
        json!({"server_name": "Previous MDM", "public_key_pem": key}),
    )
    .await;
    assert_eq!(s, 200, "{other}");
    let other = other["server_uuid"].as_str().unwrap().to_string();
    let (s, added) =
        portal(&d, reqwest::Method::POST, "/devices", json!({"server_uuid": other, "count": 2}))
            .await;
    assert_eq!(s, 200, "{added}");
    let serials: Vec<String> = added["added"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();

    // Bad input: a deadline out of 1–90 days is refused whole (409, as Apple's API), and
    // nothing moves; a device nothing manages cannot migrate; a device already ours neither.
    for days in [0, -2, 91] {
        let body = json!({"serials": serials, "server_uuid": ours, "deadline_days": days});
        let (s, v) = portal(&d, reqwest::Method::POST, "/migrations", body).await;
        assert_eq!(s, 409, "{days}: {v}");
        assert!(v["error"].as_str().unwrap().contains("between 1 and 90 days"), "{v}");
    }
    let (_, list) = portal(&d, reqwest::Method::GET, "/migrations", Value::Null).await;
    assert_eq!(list, json!([]));
    let body = json!({"serials": [own[0]], "server_uuid": ours, "deadline_days": 10});
    let (s, v) = portal(&d, reqwest::Method::POST, "/migrations", body).await;
    assert_eq!(s, 200);
    assert!(v["refused"][0]["reason"].as_str().unwrap().contains("already assigned"), "{v}");

    // Schedule both, then bring one deadline forward.
    let body = json!({"serials": serials, "server_uuid": ours, "deadline_days": 30});
    let (s, v) = portal(&d, reqwest::Method::POST, "/migrations", body).await;
    assert_eq!((s, v["changed"].as_array().map(Vec::len)), (200, Some(2)), "{v}");
    let body = json!({"serials": [serials[1]], "deadline_days": 3});
    let (s, v) = portal(&d, reqwest::Method::PUT, "/migrations", body).await;
    assert_eq!(s, 200, "{v}");

    // A delta sync sees them; the default profile is assigned to both.
    let id = adebox::ids::TokenId::parse(&tid).unwrap();
    d.running().services.sync.run_now(&id, adebox::sync::RunKind::Delta).await.unwrap();
    for serial in &serials {
        let v = wait_for(&page, &format!("/api/v1/devices/{serial}"), "assignment", |v| {
            v["assignment"]["state"] == "assigned" && v["apple"]["profile_status"] == "assigned"
        })
        .await;
        assert!(v["apple"]["mdm_migration_deadline"].is_string(), "{v}");
        let words: Vec<&str> = v["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["message"].as_str())
            .collect();
        assert!(
            words.iter().any(|w| w.starts_with("Apple Business set a migration deadline:")),
            "{words:?}"
        );
        assert!(!words.iter().any(|w| w.to_lowercase().contains("migrating")), "{words:?}");
    }

    // The dashboard counts the deadlines and names the soonest.
    let (s, counts) = page.get("/api/v1/devices/counts").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(counts["migration_deadlines"], 2, "{counts}");
    assert_eq!(counts["next_deadline"]["serial"], serials[1].as_str(), "{counts}");

    // The devices re-enroll without an erase and go through the whole await-phase onboarding.
    let target = FleetTarget {
        profile_url: d.url("/enroll/machineinfo"),
        ca_pem: ca.clone(),
        resolve_to: None,
    };
    let fleet = Fleet::new(target, pki.clone()).unwrap().woken_by(d.apns().feed());
    let devices: Vec<FleetDevice> = serials
        .iter()
        .enumerate()
        .map(|(i, s)| FleetDevice::for_serial(s, i).migrating_in())
        .collect();
    let progress = Progress::default();
    let report = fleet.run(&devices, 2, &progress, now).await;
    assert_eq!((report.enrolled, report.released), (2, 2), "{report:?}");
    assert!(progress.outcomes().iter().all(|o| o.migrated), "{:?}", progress.outcomes());
    for serial in &serials {
        let s = adebox::ids::Serial::parse(serial).unwrap();
        let mdm = d.running().services.mdm.state(&s).await.unwrap().unwrap();
        assert_eq!(mdm.state, adebox::mdm::MdmPhase::Enrolled);
        let named = format!("Set the device name to \"Lab-{serial}\"");
        assert!(
            mdm.commands
                .iter()
                .any(|c| c.words == named && c.state == adebox::mdm::CommandStatus::Acknowledged),
            "the setup steps ran during await"
        );
    }
}

#[tokio::test]
async fn a_cancelled_migration_puts_the_device_back_and_the_next_sync_removes_it() {
    let now = adebox::clock::Clock::system().now();
    let pki = Arc::new(StandInApplePki::generate(now - time::Duration::days(1)).unwrap());
    let (d, page, tid, _) = fleet_with_default_profile(&pki, 1).await;
    let (_, servers) = portal(&d, reqwest::Method::GET, "/servers", Value::Null).await;
    let ours = servers[0]["server_uuid"].as_str().unwrap().to_string();
    let (_, key) = pending_key(&d, &page).await;
    let (_, other) = portal(
        &d,
        reqwest::Method::POST,
        "/servers",
        json!({"server_name": "Previous MDM", "public_key_pem": key}),
    )
    .await;
    let other = other["server_uuid"].as_str().unwrap().to_string();
    let (_, added) =
        portal(&d, reqwest::Method::POST, "/devices", json!({"server_uuid": other, "count": 1}))
            .await;
    let serial = added["added"][0].as_str().unwrap().to_string();
    let body =
        json!({"serials": [serial], "server_uuid": ours, "deadline": "2001-01-01T00:00:00Z"});
    let (s, v) = portal(&d, reqwest::Method::POST, "/migrations", body).await;
    assert_eq!(s, 409, "a deadline in the past: {v}");
    // The sandbox page's route: the same refusal in the API's words, then the schedule.
    let body = json!({"serials": [serial], "server_uuid": ours, "deadline_days": 91});
    let (s, v) = page.post("/api/v1/sandbox/devices/migrate", body).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v.to_string().contains("between 1 and 90 days"), "{v}");
    let body = json!({"serials": [serial], "server_uuid": ours, "deadline_days": 20});
    let (s, v) = page.post("/api/v1/sandbox/devices/migrate", body).await;
    assert_eq!((s, v["changed"][0].as_str()), (StatusCode::OK, Some(serial.as_str())), "{v}");
    let id = adebox::ids::TokenId::parse(&tid).unwrap();
    d.running().services.sync.run_now(&id, adebox::sync::RunKind::Delta).await.unwrap();
    wait_for(&page, "/api/v1/devices/counts", "the deadline counted", |v| {
        v["migration_deadlines"] == 1
    })
    .await;

    let (s, v) =
        portal(&d, reqwest::Method::POST, "/migrations/cancel", json!({"serials": [serial]})).await;
    assert_eq!((s, v["changed"][0].as_str()), (200, Some(serial.as_str())), "{v}");
    let (_, list) = portal(&d, reqwest::Method::GET, "/migrations", Value::Null).await;
    assert_eq!(list[0]["state"], "cancelled");
    d.running().services.sync.run_now(&id, adebox::sync::RunKind::Delta).await.unwrap();
    let v = wait_for(&page, &format!("/api/v1/devices/{serial}"), "removal", |v| {
        v["removed"].is_object()
    })
    .await;
    assert!(v["removed"].is_object(), "{v}");
    let (_, counts) = page.get("/api/v1/devices/counts").await;
    assert_eq!(counts["migration_deadlines"], 0, "a removed device's deadline is not counted");
}
