//! A migration deadline that goes away ends the forced await at once
//! (`../shared/spec/apple-2026.md` §1.1, §1.4 D3), through the strict DEP simulator: a device
//! whose migration completed (Apple drops the deadline, the device stays) is assigned the
//! profile itself again by the next sync, not at some later re-queue; a device whose migration
//! was cancelled (it goes back to its origin) stops counting, so no assignment keeps the await
//! variant alive.

use crate::assignments_api::wait_for;
use crate::common::*;
use crate::enroll::fleet_with_profile_at;
use crate::migration::portal;
use adebox::sim::apple_pki::StandInApplePki;
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::Arc;

/// The simulator's record of `serial`: (profile uuid, the profile's await_device_configured),
/// `None` when the device is not at any of its servers.
async fn at_apple(d: &TestDaemon, serial: &str) -> Option<(Option<String>, Option<bool>)> {
    let (_, truth) = portal(d, Method::GET, "/truth", Value::Null).await;
    let servers = truth["servers"].as_array().unwrap();
    let devices = servers.iter().flat_map(|s| s["devices"].as_array().cloned().unwrap_or_default());
    let found = devices.into_iter().find(|x| x["serial_number"] == serial)?;
    Some((
        found["profile_uuid"].as_str().map(str::to_string),
        found["await_device_configured"].as_bool(),
    ))
}

#[tokio::test]
async fn a_deadline_that_goes_away_ends_the_forced_await_at_the_next_sync() {
    let now = adebox::clock::Clock::system().now();
    let pki = Arc::new(StandInApplePki::generate(now - time::Duration::days(1)).unwrap());
    let profile = json!({"name": "Default", "platforms": ["iOS", "iPadOS"],
        "device_name_template": "Lab-{{SERIAL}}", "await_device_configured": false});
    let clock = adebox::clock::Clock::system();
    let (d, page, tid, own) = fleet_with_profile_at(&pki, 1, clock, profile, &[]).await;
    let (own_uuid, _) = at_apple(&d, &own[0]).await.unwrap();
    let token = adebox::ids::TokenId::parse(&tid).unwrap();
    let sync = async || {
        d.running().services.sync.run_now(&token, adebox::sync::RunKind::Delta).await.unwrap();
    };

    // Two devices of another MDM server move here with a deadline: both get the variant.
    let (_, servers) = portal(&d, Method::GET, "/servers", Value::Null).await;
    let ours = servers[0]["server_uuid"].as_str().unwrap().to_string();
    let (_, key) = pending_key(&d, &page).await;
    let body = json!({"server_name": "Previous MDM", "public_key_pem": key});
    let (_, other) = portal(&d, Method::POST, "/servers", body).await;
    let body = json!({"server_uuid": other["server_uuid"], "count": 2});
    let (_, added) = portal(&d, Method::POST, "/devices", body).await;
    let (done, called_off) =
        (added["added"][0].as_str().unwrap().to_string(), added["added"][1].as_str().unwrap());
    let body = json!({"serials": [done, called_off], "server_uuid": ours, "deadline_days": 30});
    let (s, v) = portal(&d, Method::POST, "/migrations", body).await;
    assert_eq!(s, 200, "{v}");
    sync().await;
    for serial in [done.as_str(), called_off] {
        let v = wait_for(&page, &format!("/api/v1/devices/{serial}"), "the variant", |v| {
            v["assignment"]["state"] == "assigned" && v["apple"]["profile_status"] == "assigned"
        })
        .await;
        assert_eq!(v["assignment"]["forced_await"], true, "{v}");
        let (uuid, awaits) = at_apple(&d, serial).await.unwrap();
        assert_eq!(awaits, Some(true), "{serial} has the await variant");
        assert_ne!(uuid, own_uuid);
    }

    // The first device migrated: Apple drops its deadline, the device stays. The next sync
    // assigns it the profile itself.
    let (s, v) = portal(&d, Method::POST, "/migrations/complete", json!({"serials": [done]})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["changed"], json!([done]), "{v}");
    sync().await;
    let path = format!("/api/v1/devices/{done}");
    let v = wait_for(&page, &path, "the profile itself", |v| {
        v["assignment"]["state"] == "assigned" && v["assignment"]["forced_await"] == false
    })
    .await;
    assert!(v["apple"]["mdm_migration_deadline"].is_null(), "{v}");
    let mut plain = false;
    for _ in 0..300 {
        let now = at_apple(&d, &done).await.unwrap();
        if now.0 == own_uuid && now.1 != Some(true) {
            plain = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(plain, "the device has the profile itself: {:?}", at_apple(&d, &done).await);
    let (_, still) = page.get(&format!("/api/v1/devices/{called_off}")).await;
    assert_eq!(still["assignment"]["forced_await"], true, "the other one still migrates");

    // The second one's migration is cancelled: it goes back to its origin and stops counting.
    let body = json!({"serials": [called_off]});
    let (s, v) = portal(&d, Method::POST, "/migrations/cancel", body).await;
    assert_eq!(s, 200, "{v}");
    sync().await;
    let path = format!("/api/v1/devices/{called_off}");
    wait_for(&page, &path, "the end of the forced await", |v| {
        v["assignment"]["forced_await"] == false
    })
    .await;
    let (_, back) = at_apple(&d, called_off).await.unwrap();
    assert_ne!(back, Some(true), "back at its origin, not given anything by us");
    let (_, all) = page.get("/api/v1/assignments?limit=100").await;
    let items = all["items"].as_array().unwrap_or_else(|| panic!("{all}"));
    assert!(items.iter().all(|a| a["forced_await"] == false), "nothing needs the variant: {all}");
}
