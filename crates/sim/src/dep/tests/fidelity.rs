//! Where the simulator once differed from Apple's documented API, over HTTPS: fetch cursor
//! codes, the `limit` rule, the `dup` fault and page sizes, syncing from the middle of a fetch,
//! `/account`'s `urls`, session rotation from the portal, and the strict reading of request
//! bodies (dep-api.md §2.2, §3, §4).

use super::{Sim, UA, send, start};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use time::Duration;

fn serials(page: &Value) -> Vec<String> {
    page["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["serial_number"].as_str().unwrap().to_string())
        .collect()
}

async fn post(s: &Sim, path: &str, body: Value) -> super::Resp {
    s.call(Method::POST, path, Some(&body)).await
}

#[tokio::test]
async fn a_fetch_with_a_stale_cursor_is_invalid_because_expired_is_syncs_code() {
    let s = start(30).await;
    let first = post(&s, "/server/devices", json!({ "limit": 10 })).await.json();
    let cursor = first["cursor"].as_str().unwrap().to_string();
    s.sim.advance(Duration::days(8));
    let fresh = s.new_session().await;
    let body = json!({ "cursor": cursor });
    let r = s.call_with(Method::POST, "/server/devices", &fresh, 10, Some(&body)).await;
    assert_eq!((r.status, r.text.as_str()), (400, "INVALID_CURSOR"));
    let r = s.call_with(Method::POST, "/devices/sync", &fresh, 10, Some(&body)).await;
    assert_eq!((r.status, r.text.as_str()), (400, "EXPIRED_CURSOR"));
    s.sim.stop().await;
}

#[tokio::test]
async fn a_limit_below_one_means_the_default_and_a_limit_that_is_no_int32_is_malformed() {
    let s = start(150).await;
    for limit in [json!(0), json!(-5), json!(null)] {
        let r = post(&s, "/server/devices", json!({ "limit": limit })).await;
        assert_eq!(r.status, 200, "limit {limit}: {}", r.text);
        assert_eq!(serials(&r.json()).len(), 100, "limit {limit}");
    }
    for limit in [json!("100"), json!(2.5), json!(4_294_967_296_u64)] {
        let r = post(&s, "/server/devices", json!({ "limit": limit })).await;
        assert_eq!((r.status, r.text.as_str()), (400, "MALFORMED_REQUEST_BODY"), "limit {limit}");
    }
    s.sim.stop().await;
}

#[tokio::test]
async fn the_dup_fault_never_answers_more_records_than_the_limit() {
    let s = start(0).await;
    let (_, mut cursor) = s.fetch_all(100).await;
    let now = s.sim.now();
    let added = s.sim.with_world(|w| w.add_devices(Some(s.server), 1100, &[], now).unwrap());
    s.sim.set_faults(crate::dep::Faults::parse("dup=0.2").unwrap());
    let mut seen = BTreeSet::new();
    let mut records = 0;
    loop {
        let r = post(&s, "/devices/sync", json!({ "cursor": cursor, "limit": 1000 })).await;
        let page = r.json();
        let got = serials(&page);
        assert!(got.len() <= 1000, "{} records at limit 1000", got.len());
        records += got.len();
        seen.extend(got);
        cursor = page["cursor"].as_str().unwrap().to_string();
        if page["more_to_follow"] == false {
            break;
        }
    }
    assert!(records > 1100, "the fault repeated some records");
    assert_eq!(seen, added.into_iter().collect(), "and lost none");
    s.sim.stop().await;
}

#[tokio::test]
async fn a_sync_from_the_middle_of_a_fetch_returns_what_the_fetch_had_not_reached() {
    let s = start(250).await;
    let first = post(&s, "/server/devices", json!({ "limit": 100 })).await.json();
    assert_eq!(first["more_to_follow"], true);
    let r = post(&s, "/devices/sync", json!({ "cursor": first["cursor"], "limit": 1000 })).await;
    let page = r.json();
    assert_eq!(page["more_to_follow"], false);
    let rest = serials(&page);
    assert_eq!(rest.len(), 150, "not an empty answer");
    assert!(page["devices"].as_array().unwrap().iter().all(|d| d["op_type"] == "added"));
    assert_eq!([serials(&first), rest].concat(), s.truth_serials());
    s.sim.stop().await;
}

#[tokio::test]
async fn account_urls_list_exactly_what_apple_was_seen_to_answer() {
    let s = start(0).await;
    let account = s.call(Method::GET, "/account", None).await.json();
    let urls: Vec<(String, Vec<String>, Value)> = account["urls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            let methods = u["http_method"].as_array().unwrap();
            let methods = methods.iter().map(|m| m.as_str().unwrap().to_string()).collect();
            (u["uri"].as_str().unwrap().to_string(), methods, u["limit"].clone())
        })
        .collect();
    let limit = json!({ "default": 1000, "maximum": 1000 });
    let expected = [
        ("/session", &["GET"][..], Value::Null),
        ("/devices", &["POST"], Value::Null),
        ("/server/devices", &["POST"], limit.clone()),
        ("/devices/sync", &["POST"], limit),
        ("/profile/devices", &["DELETE", "POST", "PUT"], Value::Null),
        ("/devices/disown", &["POST"], Value::Null),
        ("/account-driven-enrollment/profile", &["DELETE", "POST", "GET"], Value::Null),
    ];
    let expected: Vec<(String, Vec<String>, Value)> = expected
        .into_iter()
        .map(|(u, m, l)| (u.to_string(), m.iter().map(|m| m.to_string()).collect(), l))
        .collect();
    assert_eq!(urls, expected);
    // Every entry of the public sample is there as the sample has it.
    if let Some(bytes) = crate::fixtures::read("dep-api-json/account.get.response.json") {
        let sample: Value = serde_json::from_slice(&bytes).unwrap();
        for u in sample["urls"].as_array().unwrap() {
            assert!(account["urls"].as_array().unwrap().contains(u), "{u}");
        }
    }
    s.sim.stop().await;
}

#[tokio::test]
async fn session_rotation_is_switched_on_and_off_from_the_portal() {
    let s = start(0).await;
    let portal = |spec: &str| {
        s.http
            .put(format!("{}/faults", s.sim.portal_url()))
            .header("Content-Type", "application/json")
            .body(json!({ "spec": spec }).to_string())
    };
    let session = s.new_session().await;
    let r = s.call_with(Method::GET, "/account", &session, 10, None).await;
    assert_eq!(r.header("x-adm-auth-session"), None, "off by default");
    let r = send(portal("rotate-session")).await;
    assert_eq!((r.status, r.json()["spec"].as_str()), (200, Some("rotate-session")));
    let r = s.call_with(Method::GET, "/account", &session, 10, None).await;
    let rotated = r.header("x-adm-auth-session").expect("a new session token").to_string();
    assert_ne!(rotated, session);
    assert_eq!(s.call_with(Method::GET, "/account", &rotated, 10, None).await.status, 200);
    send(portal("none")).await;
    let r = s.call_with(Method::GET, "/account", &rotated, 10, None).await;
    assert_eq!(r.header("x-adm-auth-session"), None);
    s.sim.stop().await;
}

/// Bodies a client may not send, each with the answer Apple documents.
#[tokio::test]
async fn request_bodies_are_read_strictly_with_apples_answers() {
    let s = start(2).await;
    let serial = s.truth_serials()[0].clone();
    let uuid = post(&s, "/profile", json!({ "profile_name": "p", "url": "https://a.example" }))
        .await
        .json()["profile_uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let cases = [
        ("/server/devices", json!({ "limit": 10, "page": 2 }), "MALFORMED_REQUEST_BODY"),
        ("/devices/sync", json!({ "cursor": 5 }), "MALFORMED_REQUEST_BODY"),
        ("/devices", json!({ "devices": serial }), "MALFORMED_REQUEST_BODY"),
        ("/devices", json!({ "serials": [serial] }), "MALFORMED_REQUEST_BODY"),
        ("/devices", json!({}), "DEVICE_ID_REQUIRED"),
        ("/devices/disown", json!({ "devices": [1, 2] }), "MALFORMED_REQUEST_BODY"),
        ("/profile/devices", json!({ "devices": [serial] }), "PROFILE_UUID_REQUIRED"),
        ("/profile/devices", json!({ "profile_uuid": uuid }), "DEVICE_ID_REQUIRED"),
        (
            "/profile/devices",
            json!({ "profile_uuid": uuid, "devices": [serial], "force": true }),
            "MALFORMED_REQUEST_BODY",
        ),
        (
            "/profile",
            json!({ "profile_name": "p", "url": "https://a.example", "is_superviser": true }),
            "MALFORMED_REQUEST_BODY",
        ),
        (
            "/profile",
            json!({ "profile_name": "p", "url": "https://a.example", "is_supervised": "true" }),
            "MALFORMED_REQUEST_BODY",
        ),
        ("/device/activationlock", json!({ "serial": serial }), "MALFORMED_REQUEST_BODY"),
        (
            "/account-driven-enrollment/profile",
            json!({ "url": "https://a.example" }),
            "MALFORMED_REQUEST_BODY",
        ),
    ];
    for (path, body, code) in cases {
        let r = post(&s, path, body.clone()).await;
        assert_eq!((r.status, r.text.as_str()), (400, code), "{path} {body}");
    }
    let r = s.call(Method::GET, &format!("/profile?profile_uuid={uuid}&x=1"), None).await;
    assert_eq!((r.status, r.text.as_str()), (400, "MALFORMED_REQUEST_BODY"));
    // What Apple's documented shapes allow still works: remove with its unused profile_uuid,
    // the unprefixed flag names, a define that names no devices.
    let r = s
        .call(
            Method::DELETE,
            "/profile/devices",
            Some(&json!({ "profile_uuid": uuid, "devices": [serial] })),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let body = json!({ "profile_name": "p", "url": "https://a.example", "supervised": true,
        "mdm_removable": false, "devices": [] });
    assert_eq!(post(&s, "/profile", body).await.status, 200);
    s.sim.stop().await;
}

#[tokio::test]
async fn the_oauth_header_must_be_rfc_5849_syntax() {
    let s = start(0).await;
    let good = s.auth_header(&s.creds, "n-strict", None);
    // Unquoted values are not RFC 5849 §3.5.1 (the product's own reader let them pass).
    let unquoted = good.replace("oauth_nonce=\"n-strict\"", "oauth_nonce=n-strict");
    let r = s.raw_session(Some(&unquoted), Some(UA)).await;
    assert_eq!((r.status, r.text.as_str()), (400, "oauth_problem=parameter_rejected"));
    let extra = format!("{good}, oauth_callback=\"oob\"");
    assert_eq!(s.raw_session(Some(&extra), Some(UA)).await.status, 400);
    assert_eq!(s.raw_session(Some(&good), Some(UA)).await.status, 200);
    s.sim.stop().await;
}

/// curl reported "Stream error in the HTTP/2 framing layer" (exit 92) for any early answer to
/// a body over the 64 KiB window, dropping the answer; reqwest (hyper) takes the
/// RST_STREAM(NO_ERROR) that came after it, so curl is the client that shows it.
#[tokio::test]
async fn early_answers_with_a_large_body_are_clean_over_http2() {
    let s = start(0).await;
    let r = s.http.put(s.url("/api/v1/nope")).body(vec![b'x'; 300_000]).send().await.unwrap();
    assert_eq!(r.version(), reqwest::Version::HTTP_2);
    assert_eq!((r.status().as_u16(), r.text().await.unwrap().as_str()), (404, "NOT_FOUND"));
    let session = format!("X-ADM-Auth-Session: {}", s.new_session().await);
    let cases: [(&str, &str, Vec<&str>, &str); 4] = [
        ("PUT", "/api/v1/nope", vec![], "NOT_FOUND\n404"),
        ("POST", "/devices/sync", vec![], "UNAUTHORIZED\n401"),
        ("POST", "/devices/sync", vec!["-A", ""], "USER_AGENT_MISSING\n400"),
        ("POST", "/server/devices", vec!["-H", &session], "MALFORMED_REQUEST_BODY\n400"),
    ];
    for (method, path, extra, expected) in cases {
        let url = s.url(path);
        let ca = s.sim.ca_pem().to_string();
        let mut args: Vec<String> = extra.iter().map(|a| a.to_string()).collect();
        args.extend(["-w".to_string(), "\n%{http_code}".to_string()]);
        let out = tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            crate::drain::curl_h2(&ca, method, &url, 300_000, &args)
        })
        .await
        .unwrap();
        let Some((exit, text)) = out else { break };
        assert!(exit.success(), "curl {exit:?} on {method} {path}: {text}");
        assert_eq!(text, expected, "{method} {path}");
    }
    s.sim.stop().await;
}
