//! The command API as a NanoMDM script uses it: `PUT /api/v1/mdm/enqueue/{id,…}` with the
//! bytes of NanoMDM's example command plist, an Operator API token as the credential; NanoMDM's
//! result JSON and 200/207/500; erase-like and unknown request types refused below Owner; the
//! device gets the command with the script's CommandUUID and its answer lands in the history.

use crate::common::*;
use crate::mdm::{appliance_ca, authenticate, identity, put, tls_client};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

/// NanoMDM's example body for `/v1/enqueue` (its OpenAPI document), as a script sends it.
fn nanomdm_example() -> Vec<u8> {
    let inline = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n<plist version=\"1.0\">\n<dict>\n  <key>Command</key>\n  <dict>\n    <key>RequestType</key>\n    <string>ProfileList</string>\n  </dict>\n  <key>CommandUUID</key>\n  <string>fedd659e-fc3c-4e35-8bb1-c8f51ae542a5</string>\n</dict>\n</plist>";
    let Some(yaml) = adebox::fixtures::read("mdm-integration/nanomdm-openapi.yaml") else {
        return inline.as_bytes().to_vec();
    };
    let text = String::from_utf8(yaml).unwrap();
    let start = text.find("<?xml").unwrap();
    let end = text[start..].find("</plist>").unwrap() + start + "</plist>".len();
    let lines: Vec<&str> =
        text[start..end].lines().map(|l| l.strip_prefix("              ").unwrap_or(l)).collect();
    let body = lines.join("\n");
    assert!(body.contains("ProfileList") && body.contains("fedd659e"), "{body}");
    body.into_bytes()
}

fn command(request_type: &str, uuid: &str) -> Vec<u8> {
    format!(
        "<plist version=\"1.0\"><dict><key>Command</key><dict><key>RequestType</key>\
         <string>{request_type}</string></dict><key>CommandUUID</key><string>{uuid}</string></dict></plist>"
    )
    .into_bytes()
}

async fn enqueue(
    client: &Client,
    d: &TestDaemon,
    token: &str,
    ids: &str,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    let resp = client
        .put(d.url(&format!("/api/v1/mdm/enqueue/{ids}")))
        .bearer_auth(token)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

#[tokio::test]
async fn a_nanomdm_script_enqueues_with_an_operator_token_and_the_answer_is_kept() {
    let d = TestDaemon::start().await;
    let page = d.setup_admin().await;
    let ca = appliance_ca(&d);
    let id = identity(&d, &ca, Some("UDID-C")).await;
    let device = tls_client(&d, &id);
    let (s, _) = put(&device, d.url("/mdm/checkin"), authenticate("UDID-C"), None).await;
    assert_eq!(s, StatusCode::OK);
    let (s, t) =
        page.post("/api/v1/admin/api-tokens", json!({"name": "script", "role": "operator"})).await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    let operator = t["token"].as_str().unwrap().to_string();
    let client = d.client();

    // By UDID, by serial (the same device: the CommandUUID is taken), and an unknown id: 207.
    let url_ids = "UDID-C,SERUDIDC,NOPE";
    let resp = client
        .put(d.url(&format!("/api/v1/mdm/enqueue/{url_ids}?nopush=1")))
        .bearer_auth(&operator)
        .body(nanomdm_example())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::MULTI_STATUS);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["command_uuid"], "fedd659e-fc3c-4e35-8bb1-c8f51ae542a5", "{v}");
    assert_eq!(v["request_type"], "ProfileList");
    assert_eq!(v["no_push"], true);
    assert_eq!(v["status"]["UDID-C"], json!({}), "{v}");
    assert!(
        v["status"]["SERUDIDC"]["command_error"].as_str().unwrap().contains("CommandUUID"),
        "{v}"
    );
    assert!(
        v["status"]["NOPE"]["command_error"].as_str().unwrap().contains("no MDM enrollment"),
        "{v}"
    );

    // The device gets it with the script's CommandUUID; its answer is in the history.
    let idle = "<plist version=\"1.0\"><dict><key>UDID</key><string>UDID-C</string><key>Status</key><string>Idle</string></dict></plist>";
    let (s, cmd) = put(&device, d.url("/mdm/connect"), idle.into(), None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        cmd.contains("ProfileList") && cmd.contains("fedd659e-fc3c-4e35-8bb1-c8f51ae542a5"),
        "{cmd}"
    );
    let ack = "<plist version=\"1.0\"><dict><key>UDID</key><string>UDID-C</string><key>Status</key>\
        <string>Acknowledged</string><key>CommandUUID</key><string>fedd659e-fc3c-4e35-8bb1-c8f51ae542a5</string>\
        <key>ProfileList</key><array/></dict></plist>";
    let (s, _) = put(&device, d.url("/mdm/connect"), ack.into(), None).await;
    assert_eq!(s, StatusCode::OK);
    let (_, state) = page.get("/api/v1/devices/SERUDIDC/mdm").await;
    let c = &state["commands"][0];
    assert_eq!(
        (c["request_type"].as_str(), c["state"].as_str()),
        (Some("ProfileList"), Some("acknowledged")),
        "{state}"
    );
    assert_eq!(c["result"]["ProfileList"], json!([]));

    // Every id failing is a 500; pushing a device without a push token says why.
    let (s, v) = enqueue(&client, &d, &operator, "NOPE", command("ProfileList", "u-2")).await;
    assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR, "{v}");
    assert!(v["command_error"].is_string(), "{v}");
    let resp =
        client.get(d.url("/api/v1/mdm/push/UDID-C")).bearer_auth(&operator).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let v: Value = resp.json().await.unwrap();
    assert!(v["status"]["UDID-C"]["push_error"].as_str().unwrap().contains("push token"), "{v}");

    // Erase-like and unknown request types are the Owner's; bad bodies are refused clearly.
    let (s, v) = enqueue(&client, &d, &operator, "UDID-C", command("EraseDevice", "u-3")).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(v["missing_permission"], "device_erase", "{v}");
    let (s, v) = enqueue(&client, &d, &operator, "UDID-C", command("FlyToTheMoon", "u-4")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["message"].as_str().unwrap().contains("allow_unknown"), "{v}");
    let (s, v) =
        enqueue(&client, &d, &operator, "UDID-C?allow_unknown=1", command("FlyToTheMoon", "u-4"))
            .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let (s, o) = page
        .post("/api/v1/admin/api-tokens", json!({"name": "owner script", "role": "owner"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{o}");
    let owner = o["token"].as_str().unwrap();
    let (s, v) = enqueue(
        &client,
        &d,
        owner,
        "UDID-C?nopush=1&allow_unknown=1",
        command("FlyToTheMoon", "u-4"),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = enqueue(&client, &d, &operator, "UDID-C", b"<plist><dict>".to_vec()).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (s, v) = enqueue(&client, &d, &operator, "UDID-C", command("ProfileList", "")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (s, _) = enqueue(&client, &d, &operator, "UDID-C", vec![b' '; 1024 * 1024 + 1]).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);

    // Each request is in the audit log.
    let (_, audit) = page.get("/api/v1/audit?action=mdm.command").await;
    assert!(audit["total"].as_u64().unwrap() >= 2, "{audit}");
}
