//! The simulator's bodies have the field names and JSON types of the public samples in
//! `../shared/fixtures/dep-api-json/`, and it accepts the sample request bodies.
//!
//! A sample is one observation, not the whole schema: the simulator may add documented
//! optional fields a sample happens to lack (listed per comparison), and may lack fields a
//! sample's device happens to have.

use super::{Sim, start};
use crate::dep::Behaviour;
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeMap;

type Shape = BTreeMap<String, &'static str>;

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Field name → JSON type, merged over several objects.
fn shape<'a>(objects: impl IntoIterator<Item = &'a Value>) -> Shape {
    let mut out = Shape::new();
    for o in objects {
        for (k, v) in o.as_object().expect("an object") {
            out.insert(k.clone(), kind(v));
        }
    }
    out
}

fn fixture(name: &str) -> Option<Value> {
    let bytes = crate::fixtures::read(&format!("dep-api-json/{name}"))?;
    Some(serde_json::from_slice(&bytes).expect("fixture is JSON"))
}

/// Same types where both have a field; the simulator adds only `may_add`, lacks only `may_lack`.
fn assert_shape(what: &str, sample: &Shape, sim: &Shape, may_add: &[&str], may_lack: &[&str]) {
    for (k, t) in sample {
        match sim.get(k) {
            Some(st) => {
                assert_eq!(st, t, "{what}: `{k}` is {st} in the simulator, {t} in the sample")
            }
            None => {
                assert!(may_lack.contains(&k.as_str()), "{what}: the simulator never sends `{k}`")
            }
        }
    }
    for k in sim.keys() {
        assert!(
            sample.contains_key(k) || may_add.contains(&k.as_str()),
            "{what}: the simulator sends `{k}`, the sample has no such field"
        );
    }
}

const V10_DEVICE: &[&str] = &[
    "asset_tag",
    "eid",
    "ethernet_mac_address",
    "wifi_mac_address",
    "bluetooth_mac_address",
    "imei",
    "meid",
    "is_replacement_device",
    "mdm_migration_deadline",
    "profile_push_time",
    "profile_assign_time",
    "device_assigned_date",
];

/// A simulator whose devices show every profile state.
async fn busy_sim() -> Sim {
    let s = start(400).await;
    let serials = s.truth_serials();
    let uuid = s
        .call(
            Method::POST,
            "/profile",
            Some(&json!({ "profile_name": "p", "url": "https://m.example/e" })),
        )
        .await
        .json()["profile_uuid"]
        .as_str()
        .unwrap()
        .to_string();
    s.call(
        Method::PUT,
        "/profile/devices",
        Some(&json!({ "profile_uuid": uuid, "devices": &serials[..200] })),
    )
    .await;
    let now = s.sim.now();
    s.sim.with_world(|w| w.mark_pushed(&serials[..100], now));
    s
}

#[tokio::test]
async fn fetch_and_details_match_the_samples() {
    let Some(fetch_sample) = fixture("server-devices.post.response.json") else { return };
    let details_sample = fixture("devices.post.response.json").unwrap();
    let s = busy_sim().await;
    let page =
        s.call(Method::POST, "/server/devices", Some(&json!({ "limit": 1000 }))).await.json();
    assert_shape("fetch page", &shape([&fetch_sample]), &shape([&page]), &[], &[]);
    let sample_devices = shape(fetch_sample["devices"].as_array().unwrap());
    let sim_devices = shape(page["devices"].as_array().unwrap());
    assert_shape("fetched device", &sample_devices, &sim_devices, V10_DEVICE, &[]);

    let serials = s.truth_serials();
    let cellular = s.sim.with_world(|w| {
        serials
            .iter()
            .find(|x| w.device_at(s.server, x).unwrap().model().cellular)
            .cloned()
            .unwrap()
    });
    let r = s
        .call(Method::POST, "/devices", Some(&json!({ "devices": [cellular, "NOTMINE0001"] })))
        .await
        .json();
    let sample_ok = shape(
        details_sample["devices"]
            .as_object()
            .unwrap()
            .values()
            .filter(|d| d["response_status"] == "SUCCESS"),
    );
    let sim_ok = shape([&r["devices"][&cellular]]);
    assert_shape(
        "device details",
        &sample_ok,
        &sim_ok,
        V10_DEVICE,
        &["ethernet_mac_address", "profile_assign_time", "profile_uuid"],
    );
    let sample_na = shape(
        details_sample["devices"]
            .as_object()
            .unwrap()
            .values()
            .filter(|d| d["response_status"] == "NOT_ACCESSIBLE"),
    );
    assert_shape(
        "inaccessible device",
        &sample_na,
        &shape([&r["devices"]["NOTMINE0001"]]),
        &[],
        &[],
    );
    s.sim.stop().await;
}

#[tokio::test]
async fn sync_records_match_the_samples() {
    let Some(sample) = fixture("devices-sync.post.response-modified-deleted.json") else { return };
    let empty_sample = fixture("devices-sync.post.response-empty.json").unwrap();
    let s = busy_sim().await;
    let (_, cursor) = s.fetch_all(1000).await;
    let empty = s
        .call(Method::POST, "/devices/sync", Some(&json!({ "cursor": cursor, "limit": 500 })))
        .await
        .json();
    assert_shape("empty sync", &shape([&empty_sample]), &shape([&empty]), &[], &[]);

    let serials = s.truth_serials();
    let now = s.sim.now();
    s.sim.with_world(|w| {
        w.mark_pushed(&serials[100..200], now);
        w.release_devices(&serials[300..302], true, now);
    });
    let page = s
        .call(Method::POST, "/devices/sync", Some(&json!({ "cursor": cursor, "limit": 500 })))
        .await
        .json();
    let split = |v: &Value, op: &str| -> Vec<Value> {
        v["devices"].as_array().unwrap().iter().filter(|d| d["op_type"] == op).cloned().collect()
    };
    assert_shape(
        "modified record",
        &shape(&split(&sample, "modified")),
        &shape(&split(&page, "modified")),
        V10_DEVICE,
        &[],
    );
    assert_shape(
        "deleted record",
        &shape(&split(&sample, "deleted")),
        &shape(&split(&page, "deleted")),
        &[],
        &[],
    );
    s.sim.stop().await;
}

#[tokio::test]
async fn account_and_session_match_the_samples() {
    let Some(account_sample) = fixture("account.get.response.json") else { return };
    let session_sample = fixture("session.get.response.json").unwrap();
    let s = start(0).await;
    let h = s.auth_header(&s.creds, "fixture-nonce", Some("ADM"));
    let session = s.raw_session(Some(&h), Some(super::UA)).await.json();
    assert_shape("session", &shape([&session_sample]), &shape([&session]), &[], &[]);
    let account = s.call(Method::GET, "/account", None).await.json();
    assert_shape("account", &shape([&account_sample]), &shape([&account]), &[], &[]);
    let urls = |v: &Value| shape(v["urls"].as_array().unwrap());
    assert_shape("account url", &urls(&account_sample), &urls(&account), &[], &[]);
    let limits =
        |v: &Value| shape(v["urls"].as_array().unwrap().iter().filter_map(|u| u.get("limit")));
    assert_shape("url limit", &limits(&account_sample), &limits(&account), &[], &[]);
    s.sim.stop().await;
}

#[tokio::test]
async fn profile_bodies_match_the_samples() {
    let Some(get_sample) = fixture("profile.get.response.json") else { return };
    let define_request = fixture("profile.post.request.json").unwrap();
    let define_sample = fixture("profile.post.response.json").unwrap();
    let assign_request = fixture("profile-devices.post.request.json").unwrap();
    let assign_sample = fixture("profile-devices.post.response.json").unwrap();
    let throttled_sample = fixture("profile-devices.post.response-throttled.json").unwrap();
    let remove_sample = fixture("profile-devices.delete.response.json").unwrap();
    let s = start(2).await;

    // The sample define body is accepted as is.
    let r = s.call(Method::POST, "/profile", Some(&define_request)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_shape("define answer", &shape([&define_sample]), &shape([&r.json()]), &[], &[]);

    // GET answers the sample's field set when asked for the unprefixed spelling it uses.
    let mut body = get_sample.clone();
    body.as_object_mut().unwrap().remove("profile_uuid");
    let uuid = s.call(Method::POST, "/profile", Some(&body)).await.json()["profile_uuid"]
        .as_str()
        .unwrap()
        .to_string();
    s.sim.set_behaviour(Behaviour { unprefixed_profile_names: true, ..Behaviour::default() });
    let got = s.call(Method::GET, &format!("/profile?profile_uuid={uuid}"), None).await.json();
    assert_shape("profile", &shape([&get_sample]), &shape([&got]), &[], &[]);
    assert_eq!(got["skip_setup_items"], get_sample["skip_setup_items"]);
    s.sim.set_behaviour(Behaviour::default());

    let mut assign = assign_request.clone();
    assign["profile_uuid"] = json!(uuid);
    let mine = s.truth_serials();
    assign["devices"][0] = json!(mine[0]);
    let r = s.call(Method::POST, "/profile/devices", Some(&assign)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_shape("assign answer", &shape([&assign_sample]), &shape([&r.json()]), &[], &[]);
    s.sim.set_faults(crate::dep::Faults::parse("throttle=1").unwrap());
    let r = s.call(Method::POST, "/profile/devices", Some(&assign)).await.json();
    assert_shape("throttled answer", &shape([&throttled_sample]), &shape([&r]), &[], &[]);
    s.sim.set_faults(crate::dep::Faults::default());
    let r = s.call(Method::DELETE, "/profile/devices", Some(&assign_request)).await.json();
    assert_shape("remove answer", &shape([&remove_sample]), &shape([&r]), &[], &[]);
    s.sim.stop().await;
}

#[tokio::test]
async fn the_smaller_endpoints_match_the_samples() {
    let Some(lock_ok) = fixture("device-activationlock.post.response-success.json") else { return };
    let lock_na = fixture("device-activationlock.post.response-not-accessible.json").unwrap();
    let escrow_request = fixture("device-activationlock.post.request-escrow-key.json").unwrap();
    let minimal_request = fixture("device-activationlock.post.request-minimal.json").unwrap();
    let replacement = fixture("device-replacementdetails.get.response.json").unwrap();
    let ade_request = fixture("account-driven-enrollment-profile.post.request.json").unwrap();
    let ade = fixture("account-driven-enrollment-profile.get.response.json").unwrap();
    let beta = fixture("os-beta-enrollment-tokens.get.response.json").unwrap();
    let s = start(300).await;

    let (phone, repl) = s.sim.with_world(|w| {
        let t = w.truth();
        let devs = &t.servers[0].devices;
        let phone =
            devs.iter().find(|d| d.model.starts_with("iPhone")).unwrap().serial_number.clone();
        // Make sure one device is a replacement (about 1% are).
        let repl =
            devs.iter().find(|d| !d.model.starts_with("iPhone")).unwrap().serial_number.clone();
        w.update_device(0, &repl, 0, |d| {
            Some(crate::dep::device::SimDevice { is_replacement: true, ..d.clone() })
        });
        (phone, repl)
    });
    let mut req = escrow_request.clone();
    req["device"] = json!(phone);
    let r = s.call(Method::POST, "/device/activationlock", Some(&req)).await;
    assert_eq!(r.status, 200, "the sample's base64 escrow key is tolerated: {}", r.text);
    assert_shape("activation lock", &shape([&lock_ok]), &shape([&r.json()]), &[], &[]);
    let r = s.call(Method::POST, "/device/activationlock", Some(&minimal_request)).await.json();
    assert_eq!(r["response_status"], "NOT_ACCESSIBLE");
    assert_shape("activation lock refused", &shape([&lock_na]), &shape([&r]), &[], &[]);

    let r = s
        .call(Method::GET, &format!("/device/replacementDetails?device={repl}"), None)
        .await
        .json();
    assert_shape("replacement details", &shape([&replacement]), &shape([&r]), &[], &[]);

    assert_eq!(
        s.call(Method::POST, "/account-driven-enrollment/profile", Some(&ade_request)).await.status,
        200
    );
    let r = s.call(Method::GET, "/account-driven-enrollment/profile", None).await.json();
    assert_shape("ADE profile", &shape([&ade]), &shape([&r]), &[], &[]);

    let r = s.call(Method::GET, "/os-beta-enrollment/tokens", None).await.json();
    assert_shape("beta tokens", &shape([&beta]), &shape([&r]), &[], &[]);
    let tokens = |v: &Value| shape(v["betaEnrollmentTokens"].as_array().unwrap());
    assert_shape("beta token", &tokens(&beta), &tokens(&r), &[], &[]);
    s.sim.stop().await;
}

#[tokio::test]
async fn the_sample_requests_are_accepted() {
    let Some(fetch) = fixture("server-devices.post.request.json") else { return };
    let details = fixture("devices.post.request.json").unwrap();
    let sync = fixture("devices-sync.post.request.json").unwrap();
    let s = start(1).await;
    assert_eq!(s.call(Method::POST, "/server/devices", Some(&fetch)).await.status, 200);
    assert_eq!(s.call(Method::POST, "/devices", Some(&details)).await.status, 200);
    // The sample's cursor is someone else's: refused as Apple refuses a foreign cursor.
    let r = s.call(Method::POST, "/devices/sync", Some(&sync)).await;
    assert_eq!((r.status, r.text.as_str()), (400, "INVALID_CURSOR"));
    s.sim.stop().await;
}
