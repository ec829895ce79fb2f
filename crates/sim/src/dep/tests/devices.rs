//! Fetch, sync, device details and disown over HTTPS (dep-api.md §3.2, §7 items 4–6).

use super::{Sim, start};
use reqwest::Method;
use serde_json::{Value, json};
use time::Duration;

async fn sync(s: &Sim, cursor: &str) -> Value {
    let r = s
        .call(Method::POST, "/devices/sync", Some(&json!({ "cursor": cursor, "limit": 1000 })))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()
}

fn ops(page: &Value) -> Vec<(String, String)> {
    page["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["serial_number"].as_str().unwrap().to_string(),
                d["op_type"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn fetch_pages_with_the_default_and_maximum_limit_and_no_op_type() {
    let s = start(1205).await;
    let first = s.call(Method::POST, "/server/devices", Some(&json!({}))).await.json();
    assert_eq!(first["devices"].as_array().unwrap().len(), 100, "default limit is 100");
    assert_eq!(first["more_to_follow"], true);
    assert!(first["devices"].as_array().unwrap().iter().all(|d| d.get("op_type").is_none()));
    let big = s.call(Method::POST, "/server/devices", Some(&json!({ "limit": 5000 }))).await.json();
    assert_eq!(big["devices"].as_array().unwrap().len(), 1000, "limit is capped at 1000");
    let (serials, _) = s.fetch_all(1000).await;
    assert_eq!(serials, s.truth_serials());
    s.sim.stop().await;
}

#[tokio::test]
async fn a_finished_fetch_cursor_is_exhausted_and_syncs_from_there() {
    let s = start(3).await;
    let (_, cursor) = s.fetch_all(100).await;
    let r = s.call(Method::POST, "/server/devices", Some(&json!({ "cursor": cursor }))).await;
    assert_eq!((r.status, r.text.as_str()), (400, "EXHAUSTED_CURSOR"));
    let now = s.sim.now();
    let added = s.sim.with_world(|w| w.add_devices(Some(s.server), 2, &[], now).unwrap());
    let page = sync(&s, &cursor).await;
    assert_eq!(
        ops(&page),
        added.iter().map(|a| (a.clone(), "added".to_string())).collect::<Vec<_>>()
    );
    assert_eq!(page["more_to_follow"], false);
    s.sim.stop().await;
}

#[tokio::test]
async fn sync_cursor_errors_are_apples_codes() {
    let s = start(1).await;
    let r = s.call(Method::POST, "/devices/sync", Some(&json!({}))).await;
    assert_eq!((r.status, r.text.as_str()), (400, "CURSOR_REQUIRED"));
    let r =
        s.call(Method::POST, "/devices/sync", Some(&json!({ "cursor": "bm90IGEgY3Vyc29y" }))).await;
    assert_eq!((r.status, r.text.as_str()), (400, "INVALID_CURSOR"));
    let r = s.call(Method::POST, "/server/devices", Some(&json!({ "cursor": "garbage" }))).await;
    assert_eq!((r.status, r.text.as_str()), (400, "INVALID_CURSOR"));
    let r =
        s.call(Method::POST, "/devices/sync", Some(&json!({ "cursor": "x".repeat(1001) }))).await;
    assert_eq!((r.status, r.text.as_str()), (400, "INVALID_CURSOR"));
    let r = super::send(
        s.http
            .post(s.url("/devices/sync"))
            .header("User-Agent", super::UA)
            .header("X-ADM-Auth-Session", s.new_session().await)
            .body("{not json"),
    )
    .await;
    assert_eq!((r.status, r.text.as_str()), (400, "MALFORMED_REQUEST_BODY"));
    s.sim.stop().await;
}

#[tokio::test]
async fn a_cursor_expires_after_seven_days_on_the_simulator_clock() {
    let s = start(2).await;
    let (_, cursor) = s.fetch_all(100).await;
    s.sim.advance(Duration::days(7) - Duration::minutes(1));
    // The session lasts 30 minutes; open a new one for each step.
    let fresh = s.new_session().await;
    let body = json!({ "cursor": cursor });
    assert_eq!(
        s.call_with(Method::POST, "/devices/sync", &fresh, 10, Some(&body)).await.status,
        200
    );
    s.sim.advance(Duration::minutes(2));
    let fresh = s.new_session().await;
    let r = s.call_with(Method::POST, "/devices/sync", &fresh, 10, Some(&body)).await;
    assert_eq!((r.status, r.text.as_str()), (400, "EXPIRED_CURSOR"));
    s.sim.stop().await;
}

#[tokio::test]
async fn paging_stays_stable_while_devices_change_concurrently() {
    let s = start(3000).await;
    let before = s.truth_serials();
    let sim = &s.sim;
    let server = s.server;
    let changer = async {
        for i in 0..20 {
            let now = sim.now();
            sim.with_world(|w| {
                w.add_devices(Some(server), 25, &[], now).unwrap();
                let t = w.truth();
                let victim = t.servers[0].devices[i * 7].serial_number.clone();
                w.release_devices(&[victim], false, now);
            });
            tokio::task::yield_now().await;
        }
    };
    // The first page pins the snapshot; the rest is fetched while the world changes.
    let first =
        s.call(Method::POST, "/server/devices", Some(&json!({ "limit": 100 }))).await.json();
    let (rest, _) = tokio::join!(s.fetch_rest(100, first["cursor"].as_str().unwrap()), changer);
    let (rest, cursor) = rest;
    let mut serials: Vec<String> = first["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["serial_number"].as_str().unwrap().to_string())
        .collect();
    serials.extend(rest);
    assert_eq!(serials, before, "the fetch returns the list as it was when it started");
    // Everything that changed meanwhile arrives through sync.
    let page = sync(&s, &cursor).await;
    let added = ops(&page).iter().filter(|(_, op)| op == "added").count();
    let deleted = ops(&page).iter().filter(|(_, op)| op == "deleted").count();
    assert_eq!((added, deleted), (500, 20));
    s.sim.stop().await;
}

#[tokio::test]
async fn a_moved_device_is_deleted_at_the_old_server_and_modified_at_the_new() {
    let s = start(2).await;
    let now = s.sim.now();
    let (other, other_creds) = s.sim.with_world(|w| {
        let id = w.add_server("Other MDM", None, now);
        (id, w.server(id).unwrap().token.to_credentials())
    });
    let (_, cursor_a) = s.fetch_all(100).await;
    // The other server's client, on its own session.
    let header = s.auth_header(&other_creds, "other-nonce", None);
    let other_session =
        s.raw_session(Some(&header), Some(super::UA)).await.json()["auth_session_token"]
            .as_str()
            .unwrap()
            .to_string();
    let r = s
        .call_with(Method::POST, "/server/devices", &other_session, 10, Some(&json!({})))
        .await
        .json();
    let cursor_b = r["cursor"].as_str().unwrap().to_string();

    let serial = s.truth_serials()[0].clone();
    s.sim.with_world(|w| w.move_devices(std::slice::from_ref(&serial), other, now).unwrap());
    assert_eq!(ops(&sync(&s, &cursor_a).await), vec![(serial.clone(), "deleted".to_string())]);
    let at_b = s
        .call_with(
            Method::POST,
            "/devices/sync",
            &other_session,
            10,
            Some(&json!({ "cursor": cursor_b })),
        )
        .await
        .json();
    assert_eq!(ops(&at_b), vec![(serial.clone(), "modified".to_string())]);
    // The old server can no longer see it.
    let d = s.call(Method::POST, "/devices", Some(&json!({ "devices": [serial] }))).await.json();
    assert_eq!(d["devices"][&serial]["response_status"], "NOT_ACCESSIBLE");
    s.sim.stop().await;
}

#[tokio::test]
async fn a_quiet_release_is_only_noticed_by_a_full_fetch() {
    let s = start(3).await;
    s.sim.set_quirks(crate::dep::Quirks { release_emits_deleted: false, ..Default::default() });
    let (_, cursor) = s.fetch_all(100).await;
    let serial = s.truth_serials()[1].clone();
    let now = s.sim.now();
    s.sim.with_world(|w| w.release_devices(std::slice::from_ref(&serial), false, now));
    assert!(ops(&sync(&s, &cursor).await).is_empty());
    let (serials, _) = s.fetch_all(100).await;
    assert!(!serials.contains(&serial) && serials.len() == 2);
    s.sim.stop().await;
}

#[tokio::test]
async fn device_details_answer_per_serial_and_need_a_serial() {
    let s = start(2).await;
    let serial = s.truth_serials()[0].clone();
    let r = s
        .call(Method::POST, "/devices", Some(&json!({ "devices": [serial, "NOTMINE0001"] })))
        .await
        .json();
    assert_eq!(r["devices"][&serial]["response_status"], "SUCCESS");
    assert_eq!(r["devices"][&serial]["serial_number"], serial.as_str());
    assert!(r["devices"][&serial]["wifi_mac_address"].is_string(), "protocol 10 fields");
    assert_eq!(r["devices"]["NOTMINE0001"], json!({ "response_status": "NOT_ACCESSIBLE" }));
    let r = s.call(Method::POST, "/devices", Some(&json!({ "devices": [] }))).await;
    assert_eq!((r.status, r.text.as_str()), (400, "DEVICE_ID_REQUIRED"));
    s.sim.stop().await;
}

#[tokio::test]
async fn disown_removes_the_servers_devices_and_logs_deleted() {
    let s = start(2).await;
    let (_, cursor) = s.fetch_all(100).await;
    let serial = s.truth_serials()[0].clone();
    let r = s
        .call(Method::POST, "/devices/disown", Some(&json!({ "devices": [serial, "NOTMINE0001"] })))
        .await
        .json();
    assert_eq!(r["devices"][&serial], "SUCCESS");
    assert_eq!(r["devices"]["NOTMINE0001"], "NOT_ACCESSIBLE");
    assert_eq!(ops(&sync(&s, &cursor).await), vec![(serial, "deleted".to_string())]);
    let r = s.call(Method::POST, "/devices/disown", Some(&json!({}))).await;
    assert_eq!((r.status, r.text.as_str()), (400, "DEVICE_ID_REQUIRED"));
    s.sim.stop().await;
}

#[tokio::test]
async fn device_fields_follow_the_protocol_version() {
    let s = start(200).await;
    let v1 =
        s.call_v(Method::POST, "/server/devices", 1, Some(&json!({ "limit": 200 }))).await.json();
    assert!(
        v1["devices"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d.get("os").is_none() && d.get("device_family").is_none())
    );
    let v6 =
        s.call_v(Method::POST, "/server/devices", 6, Some(&json!({ "limit": 200 }))).await.json();
    let families = |page: &Value, fam: &str| -> Vec<String> {
        page["devices"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["device_family"] == fam)
            .map(|d| d["os"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(families(&v6, "iPad").iter().all(|os| os == "iOS"));
    let v7 =
        s.call_v(Method::POST, "/server/devices", 7, Some(&json!({ "limit": 200 }))).await.json();
    let ipads = families(&v7, "iPad");
    assert!(!ipads.is_empty() && ipads.iter().all(|os| os == "iPadOS"));
    assert!(v7["devices"].as_array().unwrap().iter().all(|d| d.get("wifi_mac_address").is_none()));
    let v10 =
        s.call_v(Method::POST, "/server/devices", 10, Some(&json!({ "limit": 200 }))).await.json();
    assert!(v10["devices"].as_array().unwrap().iter().all(|d| d["wifi_mac_address"].is_string()));
    s.sim.stop().await;
}

#[tokio::test]
async fn activation_lock_and_replacement_details() {
    let s = start(300).await;
    let now = s.sim.now();
    let (phone, replacement) = s.sim.with_world(|w| {
        let t = w.truth();
        let devs = &t.servers[0].devices;
        let phone =
            devs.iter().find(|d| d.model.starts_with("iPhone")).unwrap().serial_number.clone();
        let repl = devs
            .iter()
            .find(|d| w.device_at(0, &d.serial_number).unwrap().is_replacement)
            .map(|d| d.serial_number.clone());
        let _ = now;
        (phone, repl)
    });
    let r = s
        .call(Method::POST, "/device/activationlock", Some(&json!({ "device": phone })))
        .await
        .json();
    assert_eq!(r, json!({ "serial_number": phone, "response_status": "SUCCESS" }));
    let r = s
        .call(Method::POST, "/device/activationlock", Some(&json!({ "device": phone })))
        .await
        .json();
    assert_eq!(r["response_status"], "DEVICE_ALREADY_LOCKED");
    let r = s
        .call(Method::POST, "/device/activationlock", Some(&json!({ "device": "NOTMINE0001" })))
        .await
        .json();
    assert_eq!(r["response_status"], "NOT_ACCESSIBLE");
    let r = s
        .call(
            Method::POST,
            "/device/activationlock",
            Some(&json!({ "device": phone, "escrow_key": "short" })),
        )
        .await;
    assert_eq!((r.status, r.text.as_str()), (400, "MALFORMED_REQUEST_BODY"));
    let r = s.call(Method::GET, "/device/replacementDetails", None).await;
    assert_eq!((r.status, r.text.as_str()), (400, "DEVICE_ID_REQUIRED"));
    let r = s.call(Method::GET, &format!("/device/replacementDetails?device={phone}"), None).await;
    assert_eq!((r.status, r.text.as_str()), (400, "DEVICE_NOT_FOUND"));
    if let Some(repl) = replacement {
        let r = s
            .call(Method::GET, &format!("/device/replacementDetails?device={repl}"), None)
            .await
            .json();
        assert_eq!(r["serial_number"], repl.as_str());
        assert_eq!(r["replacement_date"].as_str().unwrap().len(), 10);
    }
    s.sim.stop().await;
}
