//! The stand-in ABM portal over HTTPS.

use super::{Resp, Sim, UA, send, start};
use reqwest::Method;
use serde_json::{Value, json};

async fn portal(s: &Sim, method: Method, path: &str, body: Option<Value>) -> Resp {
    let mut req = s.http.request(method, format!("{}{path}", s.sim.portal_url()));
    if let Some(b) = body {
        req = req.header("Content-Type", "application/json").body(b.to_string());
    }
    send(req).await
}

/// The real RSA certificate an MDM server once uploaded to Apple (fixtures `dep-token/`).
fn public_key_pem() -> Option<String> {
    crate::fixtures::read("dep-token/apple-mdm-client-tests-1.crt")
        .map(|b| String::from_utf8(b).unwrap())
}

/// Minting may not be available in this build; then there is nothing more to check.
fn minted(r: &Resp) -> bool {
    if r.status == 500 && r.text.contains("not available in this build") {
        eprintln!("notice: .p7m minting is not available in this build; skipping the token checks");
        return false;
    }
    assert_eq!(r.status, 200, "{}", r.text);
    true
}

fn assert_apple_token(token: &Value) {
    let text = token["token_p7m"].as_str().unwrap();
    assert!(
        text.starts_with(
            "Content-Type: application/pkcs7-mime; name=\"smime.p7m\"; smime-type=enveloped-data\n"
        ),
        "{text}"
    );
    let body = text.split("\n\n").nth(1).unwrap();
    assert!(body.lines().all(|l| l.len() <= 76));
    let name = token["token_file_name"].as_str().unwrap();
    assert!(name.contains("_Token_") && name.ends_with("Z_smime.p7m"), "{name}");
}

#[tokio::test]
async fn creates_a_server_from_a_public_key_and_hands_out_its_token() {
    let s = start(0).await;
    let Some(pem) = public_key_pem() else { return };
    let r = portal(
        &s,
        Method::POST,
        "/servers",
        Some(json!({ "server_name": "Portal MDM", "public_key_pem": pem })),
    )
    .await;
    let before = portal(&s, Method::GET, "/servers", None).await.json();
    if !minted(&r) {
        // Nothing is left half-made.
        assert_eq!(before.as_array().unwrap().len(), 1);
        return;
    }
    let token = r.json();
    assert_apple_token(&token);
    assert_eq!(before.as_array().unwrap().len(), 2);
    let uuid = token["server_uuid"].as_str().unwrap();
    // Renewal gives a new token; the old credentials are then rejected.
    let old = s
        .sim
        .with_world(|w| w.server(w.server_by_uuid(uuid).unwrap()).unwrap().token.to_credentials());
    let r = portal(
        &s,
        Method::POST,
        &format!("/servers/{uuid}/token"),
        Some(json!({ "public_key_pem": pem })),
    )
    .await;
    assert!(minted(&r));
    assert_apple_token(&r.json());
    let h = s.auth_header(&old, "after-renewal", None);
    let r = s.raw_session(Some(&h), Some(UA)).await;
    assert_eq!((r.status, r.text.as_str()), (401, "token_rejected"));
    // A second server of the same name (any case) is refused, as Apple Business Manager does.
    let r = portal(
        &s,
        Method::POST,
        "/servers",
        Some(json!({ "server_name": " portal mdm ", "public_key_pem": pem })),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.json()["error"].as_str().unwrap().contains("already exists"), "{}", r.text);
    assert_eq!(portal(&s, Method::GET, "/servers", None).await.json().as_array().unwrap().len(), 2);
    s.sim.stop().await;
}

#[tokio::test]
async fn refuses_a_public_key_that_is_not_a_certificate() {
    let s = start(0).await;
    let r = portal(
        &s,
        Method::POST,
        "/servers",
        Some(json!({ "server_name": "X", "public_key_pem": "hello" })),
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(r.json()["error"].as_str().unwrap().contains("PEM certificate"));
    let r = portal(
        &s,
        Method::POST,
        "/servers",
        Some(json!({ "server_name": "" , "public_key_pem": "x"})),
    )
    .await;
    assert_eq!(r.status, 400);
    let r = portal(
        &s,
        Method::POST,
        &format!("/servers/{}/token", "0".repeat(32)),
        Some(json!({ "public_key_pem": public_key_pem().unwrap_or_default() })),
    )
    .await;
    assert!(r.status == 404 || r.status == 400, "{}", r.status);
    let r = portal(&s, Method::POST, "/servers", Some(json!("not an object"))).await;
    assert_eq!(r.status, 400);
    s.sim.stop().await;
}

#[tokio::test]
async fn adds_moves_releases_and_pushes_devices_and_reports_the_truth() {
    let s = start(0).await;
    let (other_uuid, _) = s.sim.add_server_with_credentials("Other");
    let r = portal(
        &s,
        Method::POST,
        "/devices",
        Some(json!({ "server_uuid": s.uuid, "count": 5, "serials": ["C02XK1ABJGH5"] })),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let added: Vec<String> = serde_json::from_value(r.json()["added"].clone()).unwrap();
    assert_eq!(added.len(), 6);
    assert_eq!(added[0], "C02XK1ABJGH5");
    let r = portal(&s, Method::POST, "/devices", Some(json!({ "count": 2 }))).await;
    assert_eq!(r.json()["added"].as_array().unwrap().len(), 2);

    let r = portal(
        &s,
        Method::POST,
        "/devices/move",
        Some(json!({ "serials": [added[1], "UNKNOWN01"], "server_uuid": other_uuid })),
    )
    .await
    .json();
    assert_eq!(r, json!({ "changed": [added[1]], "unknown": ["UNKNOWN01"] }));
    let r = portal(
        &s,
        Method::POST,
        "/devices/release",
        Some(json!({ "serials": [added[2]], "released_by_replacement": true })),
    )
    .await
    .json();
    assert_eq!(r["changed"], json!([added[2]]));

    let truth = portal(&s, Method::GET, "/truth", None).await.json();
    assert_eq!(truth["unassigned"].as_array().unwrap().len(), 2);
    let mine =
        portal(&s, Method::GET, &format!("/truth?server_uuid={}", s.uuid), None).await.json();
    let serials: Vec<&str> = mine["servers"][0]["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["serial_number"].as_str().unwrap())
        .collect();
    assert_eq!(serials.len(), 4);
    assert!(!serials.contains(&added[1].as_str()) && !serials.contains(&added[2].as_str()));
    assert_eq!(
        portal(&s, Method::GET, &format!("/truth?server_uuid={}", "F".repeat(32)), None)
            .await
            .status,
        404
    );

    // Pushed only applies to devices with a profile.
    let r = portal(&s, Method::POST, "/devices/pushed", Some(json!({ "serials": [added[0]] })))
        .await
        .json();
    assert_eq!(r["unknown"], json!([added[0]]));
    let r = portal(
        &s,
        Method::POST,
        "/devices",
        Some(json!({ "server_uuid": s.uuid, "serials": ["C02XK1ABJGH5"] })),
    )
    .await;
    assert_eq!(r.status, 400, "a serial exists once");
    let r = portal(
        &s,
        Method::POST,
        "/devices/move",
        Some(json!({ "serials": [added[0]], "server_uuid": "nope" })),
    )
    .await;
    assert_eq!(r.status, 404);
    s.sim.stop().await;
}

#[tokio::test]
async fn switches_faults_and_quirks_at_run_time() {
    let s = start(1).await;
    assert_eq!(portal(&s, Method::GET, "/faults", None).await.json()["spec"], "none");
    let r = portal(&s, Method::PUT, "/faults", Some(json!({ "spec": "tc-not-signed" }))).await;
    assert_eq!(r.json()["spec"], "tc-not-signed");
    let session_attempt = s.raw_session(Some(&s.auth_header(&s.creds, "n1", None)), Some(UA)).await;
    assert_eq!(session_attempt.status, 403);
    let r = portal(&s, Method::PUT, "/faults", Some(json!({ "spec": "5xx=7" }))).await;
    assert_eq!(r.status, 400);
    assert!(r.json()["error"].as_str().unwrap().contains("0 to 1"));
    portal(&s, Method::PUT, "/faults", Some(json!({ "spec": "none" }))).await;
    assert_eq!(
        s.raw_session(Some(&s.auth_header(&s.creds, "n2", None)), Some(UA)).await.status,
        200
    );

    let q = portal(
        &s,
        Method::PUT,
        "/quirks",
        Some(json!({ "move_emits_modified": false, "release_emits_deleted": false })),
    )
    .await
    .json();
    assert_eq!(q["move_emits_modified"], false);
    assert!(!s.sim.with_world(|w| w.quirks.release_emits_deleted));
    s.sim.stop().await;
}

#[tokio::test]
async fn advances_the_simulated_clock() {
    let s = start(1).await;
    let before =
        portal(&s, Method::GET, "/clock", None).await.json()["now"].as_str().unwrap().to_string();
    assert_eq!(before, "2026-03-01T12:00:00Z");
    let r = portal(&s, Method::POST, "/clock/advance", Some(json!({ "seconds": 8 * 86_400 })))
        .await
        .json();
    assert_eq!(r["now"], "2026-03-09T12:00:00Z");
    assert_eq!(
        s.sim.clock().now(),
        super::T0 + time::Duration::days(8),
        "a manual clock itself moves"
    );
    assert_eq!(
        portal(&s, Method::POST, "/clock/advance", Some(json!({ "seconds": -5 }))).await.status,
        400
    );
    s.sim.stop().await;
}

#[tokio::test]
async fn the_portal_is_not_subject_to_dep_faults() {
    let s = start(1).await;
    s.sim.set_faults(crate::dep::Faults::parse("5xx=1").unwrap());
    assert_eq!(portal(&s, Method::GET, "/servers", None).await.status, 200);
    s.sim.stop().await;
}

#[tokio::test]
async fn the_in_process_controls_match_the_portal() {
    let s = start(3).await;
    let (other, creds) = s.sim.add_server_with_credentials("Other");
    assert!(creds.consumer_key.starts_with("CK_"));
    let added = s.sim.add_devices(Some(&other), 2).unwrap();
    let mine = s.truth_serials();
    let moved = s.sim.move_devices(&mine[..1], &other).unwrap();
    assert_eq!(moved.changed, mine[..1].to_vec());
    let released = s.sim.release_devices(&added[..1]);
    assert_eq!(released.changed, added[..1].to_vec());
    let truth = s.sim.truth();
    let at_other: Vec<&str> =
        truth.servers[1].devices.iter().map(|d| d.serial_number.as_str()).collect();
    assert_eq!(at_other.len(), 2);
    assert!(at_other.contains(&mine[0].as_str()) && at_other.contains(&added[1].as_str()));
    assert!(s.sim.move_devices(&mine[1..2], "nope").is_err());
    s.sim.stop().await;
}
