//! Profile assignment against the simulated Apple: defaults through sync in batches over
//! 1000, edits that re-assign, THROTTLED with retry_after_seconds, FAILED and NOT_ACCESSIBLE
//! cooldowns, CSV dry runs with junk and duplicates, and the 200,000-serial limit.

use crate::common::*;
use crate::tokens_api::sync_until;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

pub(crate) async fn wait_for(
    page: &Page,
    path: &str,
    what: &str,
    ok: impl Fn(&Value) -> bool,
) -> Value {
    for _ in 0..300 {
        let (_, v) = page.get(path).await;
        if ok(&v) {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, v) = page.get(path).await;
    panic!("{what} never happened: {v}");
}

/// The serials of a `POST /api/v1/sandbox/devices` answer.
pub(crate) fn serials_of(added: &Value) -> Vec<String> {
    added["serials"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect()
}

pub(crate) async fn csv(page: &Page, query: &str, body: String) -> (StatusCode, Value) {
    let resp = page
        .client
        .post(format!("{}/api/v1/assignments/csv?{query}", page.base))
        .header("X-CSRF-Token", &page.csrf)
        .header("Content-Type", "text/csv")
        .body(body)
        .send()
        .await
        .unwrap();
    let s = resp.status();
    (s, serde_json::from_str(&resp.text().await.unwrap()).unwrap_or(Value::Null))
}

#[tokio::test]
async fn defaults_edits_retries_and_bulk_requests_against_the_simulator() {
    let d = TestDaemon::with_simulator().await;
    let page = d.sandbox_admin().await;
    let (s, p) = page
        .post(
            "/api/v1/profiles",
            json!({"name": "Default", "platforms": ["iOS", "iPadOS", "macOS", "tvOS", "visionOS"], "supervised": true}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let pid = p["id"].as_str().unwrap().to_string();
    let (token, uuid) = add_token(&d, &page, "Assign campus").await;
    let tid = token["id"].as_str().unwrap().to_string();
    let (s, _) = page
        .send(
            Method::PUT,
            "/api/v1/profiles/defaults",
            Some(json!({"token_id": tid, "profile_id": pid})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let profile = wait_for(&page, &format!("/api/v1/profiles/{pid}"), "definition", |v| {
        v["tokens"][0]["state"] == "defined"
    })
    .await;
    let uuid1 = profile["tokens"][0]["profile_uuid"].as_str().unwrap().to_string();

    // 1205 devices arrive through sync; the hook queues the default; batches ≤ 1000.
    let (s, added) =
        page.post("/api/v1/sandbox/devices", json!({"server_uuid": uuid, "count": 1205})).await;
    assert_eq!(s, StatusCode::OK, "{added}");
    sync_until(&d, &page, &tid, 1205).await;
    wait_for(&page, "/api/v1/assignments?state=assigned&limit=1", "default assignment", |v| {
        v["total"] == 1205
    })
    .await;
    let serials = serials_of(&added);
    let (_, dev) = page.get(&format!("/api/v1/devices/{}", serials[0])).await;
    assert_eq!(dev["assignment"]["state"], "assigned", "{dev}");
    assert_eq!(dev["assignment"]["last_result"], "SUCCESS");
    assert_eq!(dev["apple"]["profile_uuid"], uuid1.as_str());
    assert_eq!(dev["apple"]["profile_status"], "assigned");
    let (_, p) = page.get(&format!("/api/v1/profiles/{pid}")).await;
    assert_eq!(p["devices"], 1205);
    let (_, impact) = page.get(&format!("/api/v1/profiles/{pid}/edit-impact")).await;
    assert_eq!(impact["devices_to_reassign"], 1205);

    // An edit defines a new revision and re-assigns the devices that had the old one.
    let mut edited = p.clone();
    edited["department"] = json!("Science");
    let (s, _) = page.send(Method::PUT, &format!("/api/v1/profiles/{pid}"), Some(edited)).await;
    assert_eq!(s, StatusCode::OK);
    let p2 = wait_for(&page, &format!("/api/v1/profiles/{pid}"), "new revision defined", |v| {
        v["tokens"][0]["state"] == "defined"
    })
    .await;
    let uuid2 = p2["tokens"][0]["profile_uuid"].as_str().unwrap().to_string();
    assert_ne!(uuid1, uuid2);
    wait_for(&page, &format!("/api/v1/devices/{}", serials[1204]), "re-assignment", |v| {
        v["apple"]["profile_uuid"] == uuid2.as_str()
    })
    .await;

    // A second profile, by CSV: dry run first, with a header, junk, duplicates, unknowns.
    let (_, other) = page
        .post(
            "/api/v1/profiles",
            json!({"name": "Lab", "platforms": ["iOS", "iPadOS", "macOS", "tvOS", "visionOS"]}),
        )
        .await;
    let oid = other["id"].as_str().unwrap().to_string();
    wait_for(&page, &format!("/api/v1/profiles/{oid}"), "definition", |v| {
        v["tokens"][0]["state"] == "defined"
    })
    .await;
    let body = format!(
        "serial,room\n{},A1\n{},A2\n{},A2\n#junk!,x\nZZZZ99999999,B\n",
        serials[0], serials[1], serials[1]
    );
    let (s, dry) = csv(&page, &format!("profile_id={oid}&dry_run=true"), body.clone()).await;
    assert_eq!(s, StatusCode::OK, "{dry}");
    assert_eq!(
        dry["summary"],
        json!({"will_assign": 2, "duplicate": 1, "invalid": 1, "unknown_serial": 1})
    );
    let (_, dev) = page.get(&format!("/api/v1/devices/{}", serials[0])).await;
    assert_eq!(dev["apple"]["profile_uuid"], uuid2.as_str(), "a dry run changes nothing");

    // THROTTLED: wait at least retry_after_seconds.
    d.sim().set_faults(adebox::sim::dep::Faults {
        throttle_rate: 1.0,
        throttle_retry_after_secs: 600,
        ..Default::default()
    });
    let (s, queued) = csv(&page, &format!("profile_id={oid}"), body).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{queued}");
    assert_eq!(queued["summary"]["queued"], 2);
    let dev = wait_for(&page, &format!("/api/v1/devices/{}", serials[0]), "throttled", |v| {
        v["assignment"]["state"] == "throttled"
    })
    .await;
    assert_eq!(dev["assignment"]["last_result"], "THROTTLED");
    let next = time::OffsetDateTime::parse(
        dev["assignment"]["next_retry_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    #[allow(clippy::disallowed_methods)]
    let wait = next - time::OffsetDateTime::now_utc();
    assert!(wait > time::Duration::seconds(590), "{wait}");

    // FAILED: cooldown of an hour.
    d.sim().set_faults(adebox::sim::dep::Faults { assign_fail_rate: 1.0, ..Default::default() });
    let (s, _) =
        page.post("/api/v1/assignments", json!({"profile_id": oid, "serials": [serials[2]]})).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let dev = wait_for(&page, &format!("/api/v1/devices/{}", serials[2]), "cooldown", |v| {
        v["assignment"]["state"] == "cooldown"
    })
    .await;
    assert_eq!(dev["assignment"]["last_result"], "FAILED");
    assert!(dev["timeline"].to_string().contains("FAILED"), "the timeline says so");

    // NOT_ACCESSIBLE: a device released at ABM that the inventory still lists.
    d.sim().set_faults(adebox::sim::dep::Faults::default());
    let (s, _) =
        page.post("/api/v1/sandbox/devices/release", json!({"serials": [serials[3]]})).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = page
        .post(
            "/api/v1/assignments",
            json!({"profile_id": oid, "serials": [serials[3]], "token_id": tid}),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let dev = wait_for(&page, &format!("/api/v1/devices/{}", serials[3]), "not accessible", |v| {
        v["assignment"]["last_result"] == "NOT_ACCESSIBLE"
    })
    .await;
    assert_eq!(dev["assignment"]["state"], "cooldown");

    // Serials of another token are reported, not sent.
    let (s, r) = page
        .post("/api/v1/assignments", json!({"profile_id": oid, "serials": [serials[4]], "token_id": "nope", "dry_run": true}))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(r["items"][0]["outcome"], "other_token");

    // Unassign.
    let (s, _) = page
        .send(Method::DELETE, "/api/v1/assignments", Some(json!({"serials": [serials[5]]})))
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    wait_for(&page, &format!("/api/v1/devices/{}", serials[5]), "removal", |v| {
        v["apple"]["profile_status"] == "removed"
    })
    .await;

    // 300,000 rows: refused whole with the limit.
    let big = "C02XK1ABCD12\n".repeat(300_000);
    let (s, e) = csv(&page, &format!("profile_id={oid}&dry_run=true"), big).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"], "limit");
    assert_eq!(e["limit"], 200_000);
}

#[tokio::test]
async fn a_family_default_wins_over_the_token_default() {
    let d = TestDaemon::with_simulator().await;
    let page = d.sandbox_admin().await;
    let mut ids = Vec::new();
    for name in ["Everyone", "Macs"] {
        let (s, p) = page
            .post(
                "/api/v1/profiles",
                json!({"name": name, "platforms": ["iOS", "iPadOS", "macOS", "tvOS", "visionOS"]}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{p}");
        ids.push(p["id"].as_str().unwrap().to_string());
    }
    let (token, uuid) = add_token(&d, &page, "Family campus").await;
    let tid = token["id"].as_str().unwrap().to_string();
    for (family, pid) in [(Value::Null, &ids[0]), (json!("Mac"), &ids[1])] {
        let (s, _) = page
            .send(
                Method::PUT,
                "/api/v1/profiles/defaults",
                Some(json!({"token_id": tid, "family": family, "profile_id": pid})),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
    }
    let (s, _) =
        page.post("/api/v1/sandbox/devices", json!({"server_uuid": uuid, "count": 60})).await;
    assert_eq!(s, StatusCode::OK);
    sync_until(&d, &page, &tid, 60).await;
    wait_for(&page, "/api/v1/assignments?state=assigned&limit=1", "default assignment", |v| {
        v["total"] == 60
    })
    .await;
    let mut uuids = Vec::new();
    for pid in &ids {
        let (_, p) = page.get(&format!("/api/v1/profiles/{pid}")).await;
        uuids.push(p["tokens"][0]["profile_uuid"].as_str().unwrap().to_string());
    }
    let (_, list) = page.get(&format!("/api/v1/devices?token={tid}&limit=100")).await;
    let mut macs = 0;
    for dev in list["items"].as_array().unwrap() {
        let (_, detail) =
            page.get(&format!("/api/v1/devices/{}", dev["serial"].as_str().unwrap())).await;
        let is_mac = detail["apple"]["device_family"] == "Mac";
        macs += usize::from(is_mac);
        let want = if is_mac { &uuids[1] } else { &uuids[0] };
        assert_eq!(detail["apple"]["profile_uuid"], want.as_str(), "{detail}");
    }
    assert!(macs > 0, "the simulator makes some Macs");
}

#[tokio::test]
async fn the_sandbox_demo_profile_is_the_demo_servers_default() {
    let d = TestDaemon::with_simulator().await;
    adebox::daemon::sandbox::prepare(d.running(), &d.data_dir(), d.sim(), 30).await.unwrap();
    let page = d.sandbox_admin().await;
    let (_, profiles) = page.get("/api/v1/profiles").await;
    let demo = &profiles["items"][0];
    assert_eq!(demo["name"], adebox::daemon::sandbox::DEMO_PROFILE);
    assert_eq!(demo["supervised"], true);
    assert_eq!(demo["defaults"][0]["family"], Value::Null);
    let tid = demo["defaults"][0]["token_id"].as_str().unwrap().to_string();
    sync_until(&d, &page, &tid, 30).await;
    wait_for(&page, "/api/v1/assignments?state=assigned&limit=1", "demo assignment", |v| {
        v["total"] == 30
    })
    .await;
    let (_, list) = page.get(&format!("/api/v1/devices?token={tid}&limit=1")).await;
    let serial = list["items"][0]["serial"].as_str().unwrap();
    let (_, dev) = page.get(&format!("/api/v1/devices/{serial}")).await;
    assert_eq!(dev["apple"]["profile_status"], "assigned", "{dev}");
}

#[tokio::test]
async fn a_default_set_after_sync_reaches_the_devices_already_there() {
    let d = TestDaemon::with_simulator().await;
    let page = d.sandbox_admin().await;
    let (token, uuid) = add_token(&d, &page, "Late default campus").await;
    let tid = token["id"].as_str().unwrap().to_string();
    let (s, _) =
        page.post("/api/v1/sandbox/devices", json!({"server_uuid": uuid, "count": 40})).await;
    assert_eq!(s, StatusCode::OK);
    sync_until(&d, &page, &tid, 40).await;
    let (_, none) = page.get("/api/v1/assignments?limit=1").await;
    assert_eq!(none["total"], 0, "no default yet, nothing queued: {none}");

    let (s, p) = page
        .post(
            "/api/v1/profiles",
            json!({"name": "Late", "platforms": ["iOS", "iPadOS", "macOS", "tvOS", "visionOS"]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let (s, _) = page
        .send(
            Method::PUT,
            "/api/v1/profiles/defaults",
            Some(json!({"token_id": tid, "profile_id": p["id"]})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    // Within the wait (30 s), long before the 10-minute safety scan.
    wait_for(&page, "/api/v1/assignments?state=assigned&limit=1", "default assignment", |v| {
        v["total"] == 40
    })
    .await;
    let (_, counts) =
        page.get(&format!("/api/v1/devices?token={tid}&lifecycle=profile_assigned&limit=1")).await;
    assert_eq!(counts["total"], 40, "{counts}");
}
