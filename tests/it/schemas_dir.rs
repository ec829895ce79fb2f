//! `[mdm] schemas_dir` in the running daemon, pointed at the fixtures' copy of
//! apple/device-management: a command whose key breaks Apple's schema is refused with 400
//! naming the key and the rule, a good one is queued, each device's own OS is checked, an
//! uploaded profile with a wrong-typed key is refused naming the payload and the key. Without
//! the setting the status says the checks are for shape only; a folder that is not a checkout
//! refuses the start. Skipped with a notice when the fixtures are absent.

use crate::common::*;
use crate::mdm::{appliance_ca, identity, put, tls_client};
use crate::setup_steps::upload;
use adebox::daemon::Mode;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn command(request_type: &str, uuid: &str, keys: &str) -> Vec<u8> {
    format!(
        "<plist version=\"1.0\"><dict><key>Command</key><dict><key>RequestType</key>\
         <string>{request_type}</string>{keys}</dict><key>CommandUUID</key><string>{uuid}</string>\
         </dict></plist>"
    )
    .into_bytes()
}

fn authenticate(udid: &str, product: &str) -> Vec<u8> {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><plist version=\"1.0\"><dict>\
         <key>MessageType</key><string>Authenticate</string>\
         <key>Topic</key><string>com.apple.mgmt.External.x</string>\
         <key>ProductName</key><string>{product}</string>\
         <key>UDID</key><string>{udid}</string></dict></plist>"
    )
    .into_bytes()
}

async fn enqueue(d: &TestDaemon, token: &str, ids: &str, body: Vec<u8>) -> (StatusCode, Value) {
    let resp = d
        .client()
        .put(d.url(&format!("/api/v1/mdm/enqueue/{ids}")))
        .bearer_auth(token)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// A daemon checking against the fixtures' checkout, or `None` without fixtures.
async fn checking_daemon() -> Option<TestDaemon> {
    let checkout = adebox::fixtures::dir()?.join("device-management");
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(dir.path(), Mode::Production);
    opts.config.mdm_schemas_dir = Some(checkout);
    Some(TestDaemon::start_with(dir, opts).await)
}

#[tokio::test]
async fn commands_and_uploads_are_checked_against_apples_schemas() {
    let Some(d) = checking_daemon().await else { return };
    let page = d.setup_admin().await;
    let (_, status) = page.get("/api/v1/status").await;
    assert_eq!(status["schema_checks"]["enabled"], true, "{status}");
    assert!(status["schema_checks"]["notice"].is_null(), "{status}");
    let ca = appliance_ca(&d);
    for (udid, product) in [("UDID-PHONE", "iPhone15,2"), ("UDID-MAC", "Mac14,3")] {
        let id = identity(&d, &ca, Some(udid)).await;
        let (s, _) =
            put(&tls_client(&d, &id), d.url("/mdm/checkin"), authenticate(udid, product), None)
                .await;
        assert_eq!(s, StatusCode::OK);
    }
    let (s, t) =
        page.post("/api/v1/admin/api-tokens", json!({"name": "owner", "role": "owner"})).await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    let owner = t["token"].as_str().unwrap().to_string();

    // A wrong-typed key: 400 naming the key and the rule; nothing is queued.
    let lock =
        |text: &str, uuid: &str| command("DeviceLock", uuid, &format!("<key>Message</key>{text}"));
    let (s, v) = enqueue(&d, &owner, "UDID-PHONE", lock("<integer>5</integer>", "u-1")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let message = v["message"].as_str().unwrap();
    assert!(message.contains("Command.Message: expected string, found integer"), "{v}");
    assert_eq!(v["field"], "Command.Message", "{v}");
    // A key Apple's schema does not have.
    let extra = command("ProfileList", "u-2", "<key>Everything</key><true/>");
    let (s, v) = enqueue(&d, &owner, "UDID-PHONE", extra).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["message"].as_str().unwrap().contains("Command.Everything: key not in the schema"));
    let (_, state) = page.get("/api/v1/devices/SERUDIDPHONE/mdm").await;
    assert!(state["commands"].as_array().unwrap().is_empty(), "{state}");

    // A good one is queued.
    let (s, v) =
        enqueue(&d, &owner, "UDID-PHONE?nopush=1", lock("<string>Lost</string>", "u-3")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, state) = page.get("/api/v1/devices/SERUDIDPHONE/mdm").await;
    assert_eq!(state["commands"][0]["request_type"], "DeviceLock", "{state}");

    // Each device is checked for its own OS: PreserveDataPlan is an iPhone's, not a Mac's.
    let erase = command("EraseDevice", "u-4", "<key>PreserveDataPlan</key><true/>");
    let (s, v) = enqueue(&d, &owner, "UDID-PHONE,UDID-MAC?nopush=1", erase).await;
    assert_eq!(s, StatusCode::MULTI_STATUS, "{v}");
    assert_eq!(v["status"]["UDID-PHONE"], json!({}), "{v}");
    let mac = v["status"]["UDID-MAC"]["command_error"].as_str().unwrap();
    assert!(mac.contains("Command.PreserveDataPlan") && mac.contains("Mac14,3"), "{v}");

    // An unknown request type still follows the allow_unknown rule.
    let (s, v) = enqueue(&d, &owner, "UDID-PHONE", command("FlyToTheMoon", "u-5", "")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["message"].as_str().unwrap().contains("allow_unknown"), "{v}");
    let (s, v) = enqueue(
        &d,
        &owner,
        "UDID-PHONE?allow_unknown=1&nopush=1",
        command("FlyToTheMoon", "u-6", "<key>Speed</key><integer>1</integer>"),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");

    // An uploaded profile with a wrong-typed key in a payload Apple describes.
    let scep = |keysize: &str| {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0"><dict>
<key>PayloadType</key><string>Configuration</string>
<key>PayloadIdentifier</key><string>org.example.scep</string>
<key>PayloadUUID</key><string>5C1C39A4-8D6B-4B6A-9E40-3A4F8C2B1D11</string>
<key>PayloadVersion</key><integer>1</integer>
<key>PayloadDisplayName</key><string>Site SCEP</string>
<key>PayloadContent</key><array><dict>
<key>PayloadType</key><string>com.apple.security.scep</string>
<key>PayloadIdentifier</key><string>org.example.scep.p</string>
<key>PayloadUUID</key><string>0E8C7B52-3D7B-4E3A-8D6E-0A1B2C3D4E50</string>
<key>PayloadVersion</key><integer>1</integer>
<key>PayloadContent</key><dict><key>URL</key><string>https://ca.example.org/scep</string>
<key>Keysize</key>{keysize}</dict>
</dict></array>
</dict></plist>"#
        )
        .into_bytes()
    };
    let (s, v) = upload(&d, &page, scep("<string>2048</string>")).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let message = v["message"].as_str().unwrap();
    assert!(
        message.contains(
            "payload 1 (com.apple.security.scep): PayloadContent.Keysize: expected integer, \
             found string"
        ),
        "{v}"
    );
    let (s, v) = upload(&d, &page, scep("<integer>2048</integer>")).await;
    assert!(s.is_success(), "{s} {v}");
}

#[tokio::test]
async fn without_the_setting_the_status_says_the_checks_are_for_shape_only() {
    let d = TestDaemon::start().await;
    let page = d.setup_admin().await;
    let (s, status) = page.get("/api/v1/status").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(status["schema_checks"]["enabled"], false, "{status}");
    assert_eq!(
        status["schema_checks"]["notice"],
        "commands and profiles are checked for shape only; set `[mdm] schemas_dir` for \
         Apple's schema checks",
        "{status}"
    );
}

#[tokio::test]
async fn a_folder_that_is_not_a_checkout_refuses_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("device-management");
    std::fs::create_dir(&empty).unwrap();
    let mut opts = options(dir.path(), Mode::Production);
    opts.config.mdm_schemas_dir = Some(empty.clone());
    let e = match adebox::daemon::start(opts).await {
        Ok(_) => panic!("the daemon started with a folder that is not a checkout"),
        Err(e) => e.to_string(),
    };
    assert!(e.contains("mdm.schemas_dir") && e.contains(&empty.display().to_string()), "{e}");
    assert!(e.contains("git clone") && e.contains("mdm/commands"), "{e}");
}
