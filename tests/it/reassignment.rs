//! Same-server re-assignment (`../shared/spec/dep-api.md` §3.2 item 8): an admin assigns a
//! device in Apple Business to the server it already belongs to, Apple drops our profile and
//! the next sync shows it `modified` with status `removed`. adebox assigns the same profile
//! again (not the default, not nothing) instead of believing its earlier success.

use crate::assignments_api::{serials_of, wait_for};
use crate::common::*;
use crate::tokens_api::sync_until;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_device_reassigned_to_this_server_gets_its_profile_again() {
    let d = TestDaemon::with_simulator().await;
    let page = d.sandbox_admin().await;
    let (token, server_uuid) = add_token(&d, &page, "Re-assign campus").await;
    let tid = token["id"].as_str().unwrap().to_string();
    // An explicit profile and no default: only the re-assignment rule can bring it back.
    let (s, p) = page
        .post("/api/v1/profiles", json!({"name": "Lab", "platforms": ["iOS", "iPadOS", "macOS"]}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let pid = p["id"].as_str().unwrap().to_string();
    let defined = wait_for(&page, &format!("/api/v1/profiles/{pid}"), "definition", |v| {
        v["tokens"].as_array().is_some_and(|t| t.iter().any(|t| t["state"] == "defined"))
    })
    .await;
    let uuid = defined["tokens"][0]["profile_uuid"].as_str().unwrap().to_string();
    let (_, added) =
        page.post("/api/v1/sandbox/devices", json!({"server_uuid": server_uuid, "count": 2})).await;
    let serials = serials_of(&added);
    sync_until(&d, &page, &tid, 2).await;
    let (s, r) =
        page.post("/api/v1/assignments", json!({"profile_id": pid, "serials": serials})).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{r}");
    for serial in &serials {
        wait_for(&page, &format!("/api/v1/devices/{serial}"), "assignment", |v| {
            v["assignment"]["state"] == "assigned" && v["apple"]["profile_status"] == "assigned"
        })
        .await;
    }

    // The admin re-assigns the first device to this same server at Apple.
    let moved = d
        .sim_client()
        .post(format!("{}/devices/move", d.sim().portal_url()))
        .json(&json!({"serials": [serials[0]], "server_uuid": server_uuid}))
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), StatusCode::OK);
    let truth = |serial: String| {
        let sim = d.sim_client();
        let url = format!("{}/truth", d.sim().portal_url());
        async move {
            let t: serde_json::Value = sim.get(url).send().await.unwrap().json().await.unwrap();
            t["servers"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|s| s["devices"].as_array().unwrap().iter())
                .find(|d| d["serial_number"] == serial.as_str())
                .cloned()
                .unwrap()
        }
    };
    assert_eq!(truth(serials[0].clone()).await["profile_status"], "removed");

    let id = adebox::ids::TokenId::parse(&tid).unwrap();
    d.running().services.sync.run_now(&id, adebox::sync::RunKind::Delta).await.unwrap();
    wait_for(&page, &format!("/api/v1/devices/{}", serials[0]), "re-assignment", |v| {
        v["assignment"]["state"] == "assigned"
            && v["apple"]["profile_status"] == "assigned"
            && v["apple"]["profile_uuid"] == uuid.as_str()
    })
    .await;
    // Apple holds our profile again; the other device was never touched.
    let again = truth(serials[0].clone()).await;
    assert_eq!(
        (again["profile_status"].as_str(), again["profile_uuid"].as_str()),
        (Some("assigned"), Some(uuid.as_str()))
    );
    let (_, other) = page.get(&format!("/api/v1/devices/{}", serials[1])).await;
    assert_eq!(other["apple"]["profile_status"], "assigned", "{other}");
}
