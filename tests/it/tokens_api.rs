//! Token lifecycle, sync and the inventory through the API, against the simulated Apple.

use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

/// Runs full syncs (the worker may be running the token's first one at the same time; one of
/// the two then stops as superseded) until the inventory has `n` devices.
pub(crate) async fn sync_until(d: &TestDaemon, page: &Page, token: &str, n: u64) {
    let id = adebox::ids::TokenId::parse(token).unwrap();
    for _ in 0..20 {
        d.running().services.sync.run_now(&id, adebox::sync::RunKind::Full).await.unwrap();
        let (_, list) = page.get(&format!("/api/v1/devices?token={token}&limit=1")).await;
        if list["total"] == n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("token {token} never reached {n} devices");
}

#[tokio::test]
async fn add_renew_and_delete_a_token_through_the_api() {
    let d = TestDaemon::with_simulator().await;
    let page = d.sandbox_admin().await;
    let (token, uuid) = add_token(&d, &page, "Main campus").await;
    let id = token["id"].as_str().unwrap().to_string();
    assert_eq!(token["server_name"], "Main campus");
    assert_eq!(token["state"], "ok");
    assert!(token.to_string().find("CS_").is_none(), "no secret in the answer");

    // Devices assigned at the simulated ABM arrive through the sync worker.
    let (s, _) =
        page.post("/api/v1/sandbox/devices", json!({"server_uuid": uuid, "count": 25})).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = page.post(&format!("/api/v1/sync/{id}"), json!({})).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    wait_for_devices(&page, &id, 25).await;

    // Renewal with the same key (ABM re-issues to the uploaded key).
    let after = renew_token(&page, &uuid, &id).await;
    assert!(after["renewed_at"].is_string());

    // A token from another MDM server is refused with both names.
    let (_, key) = page.post("/api/v1/tokens/keys", json!({"for_token": id})).await;
    let (_, other) = page
        .post(
            "/api/v1/sandbox/abm/servers",
            json!({"key_id": key["id"], "server_name": "Other school"}),
        )
        .await;
    let (s, err) = page
        .post(
            &format!("/api/v1/tokens/{id}/renew"),
            json!({"token": other["token_p7m"], "key_id": key["id"]}),
        )
        .await;
    assert_eq!((s, err["error"].as_str()), (StatusCode::CONFLICT, Some("foreign_server")), "{err}");

    // Delete is refused while devices are assigned, and says so.
    let (s, err) = page.send(Method::DELETE, &format!("/api/v1/tokens/{id}"), None).await;
    assert_eq!((s, err["error"].as_str()), (StatusCode::CONFLICT, Some("token_in_use")), "{err}");
    assert_eq!(err["blockers"][0]["kind"], "devices");
    assert_eq!(err["blockers"][0]["count"], 25);

    // Released at Apple and synced: now it can go.
    let (_, list) = page.get(&format!("/api/v1/devices?token={id}&limit=500")).await;
    let serials: Vec<Value> =
        list["items"].as_array().unwrap().iter().map(|d| d["serial"].clone()).collect();
    let (s, _) = page.post("/api/v1/sandbox/devices/release", json!({"serials": serials})).await;
    assert_eq!(s, StatusCode::OK);
    sync_until(&d, &page, &id, 0).await;
    let (s, body) = page.send(Method::DELETE, &format!("/api/v1/tokens/{id}"), None).await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{body}");
    let (_, audit) = page.get("/api/v1/audit?action=token").await;
    let actions: Vec<&str> =
        audit["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for a in ["token.key_create", "token.add", "token.renew", "token.delete"] {
        assert!(actions.contains(&a), "{a} not audited: {actions:?}");
    }
}

#[tokio::test]
async fn bad_token_uploads_are_refused_with_the_field() {
    let d = TestDaemon::with_simulator().await;
    let page = d.sandbox_admin().await;
    let (_, key) = page.post("/api/v1/tokens/keys", json!({})).await;
    for (token, needle) in [
        ("", "empty"),
        ("garbage", "not an Apple server token"),
        ("-----BEGIN CERTIFICATE-----\nAA\n-----END CERTIFICATE-----", "certificate"),
    ] {
        let (s, err) = page
            .post(
                "/api/v1/tokens",
                json!({"key_id": key["id"], "token": token, "apple_id": "it@example.org"}),
            )
            .await;
        assert_eq!(
            (s, err["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("token")),
            "{err}"
        );
        assert!(err["message"].as_str().unwrap().contains(needle), "{err}");
    }
    let (s, err) = page
        .post(
            "/api/v1/tokens",
            json!({"key_id": "nope", "token": "x", "apple_id": "it@example.org"}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{err}");
    let (_, list) = page.get("/api/v1/tokens").await;
    assert_eq!(list["total"], 0, "nothing stored half-way");
    let (_, keys) = page.get("/api/v1/tokens/keys").await;
    assert_eq!(keys["total"], 1, "the pending key waits");
}

#[tokio::test]
async fn sync_now_is_budgeted_and_reports_progress_and_history() {
    let d = TestDaemon::with_simulator().await;
    let page = d.sandbox_admin().await;
    let (token, uuid) = add_token(&d, &page, "Main campus").await;
    let id = token["id"].as_str().unwrap().to_string();
    page.post("/api/v1/sandbox/devices", json!({"server_uuid": uuid, "count": 10})).await;
    // The first sync happens by itself; wait for it, then a manual one.
    for _ in 0..100 {
        let (_, s) = page.get(&format!("/api/v1/sync/{id}")).await;
        if s["last_run"]["outcome"] == "completed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (s, body) = page.post(&format!("/api/v1/sync/{id}"), json!({"kind": "sync"})).await;
    assert_eq!((s, body["run"].as_str()), (StatusCode::ACCEPTED, Some("delta")), "{body}");
    let (s, body) = page.post(&format!("/api/v1/sync/{id}"), json!({"kind": "sync"})).await;
    assert_eq!(
        (s, body["error"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("sync_budget")),
        "{body}"
    );
    assert!(body["next_allowed_at"].is_string());
    let (_, status) = page.get(&format!("/api/v1/sync/{id}")).await;
    assert!(status["manual_allowed_at"].is_string());
    assert!(!status["history"].as_array().unwrap().is_empty());
    let (s, _) = page.post("/api/v1/sync/unknown-token", json!({})).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, settings) = page.get("/api/v1/settings/sync").await;
    assert_eq!((s, settings["manual_every_minutes"].as_i64()), (StatusCode::OK, Some(15)));
    let mut bad = settings.clone();
    bad["page_limit"] = json!(5000);
    let (s, err) = page.send(Method::PUT, "/api/v1/settings/sync", Some(bad)).await;
    assert_eq!((s, err["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("page_limit")));
}

#[tokio::test]
async fn the_device_list_filters_sorts_pages_and_exports() {
    let d = TestDaemon::with_simulator().await;
    let page = d.sandbox_admin().await;
    let (token, uuid) = add_token(&d, &page, "Main campus").await;
    let id = token["id"].as_str().unwrap().to_string();
    page.post("/api/v1/sandbox/devices", json!({"server_uuid": uuid, "count": 120})).await;
    sync_until(&d, &page, &id, 120).await;
    let (_, all) = page.get("/api/v1/devices?limit=50&offset=100&sort=serial").await;
    assert_eq!(all["total"], 120);
    assert_eq!(all["items"].as_array().unwrap().len(), 20);
    let (_, desc) = page.get("/api/v1/devices?limit=1&sort=serial&order=desc").await;
    let (_, asc) = page.get("/api/v1/devices?limit=1&sort=serial").await;
    assert!(desc["items"][0]["serial"].as_str() > asc["items"][0]["serial"].as_str());
    let first = asc["items"][0]["serial"].as_str().unwrap().to_string();
    let (_, one) = page.get(&format!("/api/v1/devices?serial={first}")).await;
    assert_eq!(one["total"], 1);
    // The serial and the Apple profile uuid are parsed where they arrive: any case finds the
    // device, and a malformed one is a 400 saying what is wrong (it was an empty list).
    let (_, lower) = page.get(&format!("/api/v1/devices?serial={}", first.to_lowercase())).await;
    assert_eq!(lower["total"], 1, "{lower}");
    for (query, names) in
        [("serial=C02.XK1", "serial number"), ("profile=not-a-uuid", "profile uuid")]
    {
        let (s, err) = page.get(&format!("/api/v1/devices?{query}")).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{query}: {err}");
        assert!(err["message"].as_str().unwrap().contains(names), "{query}: {err}");
    }
    let (_, pre) = page.get(&format!("/api/v1/devices?serial_prefix={}", &first[..2])).await;
    assert!(pre["total"].as_u64().unwrap() >= 1);
    let (_, fam) = page.get("/api/v1/devices?family=iPad&limit=500").await;
    assert!(fam["items"].as_array().unwrap().iter().all(|x| x["family"] == "iPad"));
    let (s, err) = page.get("/api/v1/devices?lifecycle=sleepy").await;
    assert_eq!((s, err["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("lifecycle")));
    let (s, detail) = page.get(&format!("/api/v1/devices/{first}")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(detail["apple"]["serial_number"], first.as_str());
    assert_eq!(detail["timeline"][0]["kind"], "added");
    assert_eq!(page.get("/api/v1/devices/NOPE000000").await.0, StatusCode::NOT_FOUND);
    let csv = export_csv(&d, &page, "family=iPhone").await;
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("serial,model"));
    assert_eq!(
        lines.len() as u64 - 1,
        page.get("/api/v1/devices?family=iPhone&limit=1").await.1["total"].as_u64().unwrap()
    );
    let (_, counts) = page.get("/api/v1/devices/counts").await;
    assert_eq!(counts["by_token"][&id], 120);
    let (_, status) = page.get("/api/v1/status").await;
    assert_eq!(
        (status["counts"]["tokens"].as_u64(), status["counts"]["devices"].as_u64()),
        (Some(1), Some(120))
    );
}

#[tokio::test]
async fn the_sandbox_overview_is_the_simulators_truth() {
    let d = TestDaemon::with_simulator().await;
    let page = d.sandbox_admin().await;
    let (_, uuid) = add_token(&d, &page, "Main campus").await;
    page.post("/api/v1/sandbox/devices", json!({"server_uuid": uuid, "count": 7})).await;
    let (_, overview) = page.get("/api/v1/sandbox").await;
    assert_eq!(overview["servers"][0]["devices"], 7);
    // The portal itself, as an admin's script would call it, agrees.
    let truth: Value = d
        .sim_client()
        .get(format!("{}/truth", d.sim().portal_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(truth["servers"][0]["devices"].as_array().unwrap().len(), 7);
    let (s, err) =
        page.post("/api/v1/sandbox/devices", json!({"server_uuid": uuid, "count": 0})).await;
    assert_eq!((s, err["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("count")));
}

#[tokio::test]
async fn a_malformed_token_id_in_a_path_is_a_400_naming_the_problem() {
    let d = TestDaemon::start().await;
    let page = d.setup_admin().await;
    for (method, path) in [
        (Method::GET, "/api/v1/tokens/oCaG.2Svw"),
        (Method::DELETE, "/api/v1/tokens/oCaG.2Svw"),
        (Method::GET, "/api/v1/tokens/oCaG.2Svw/public-key.pem"),
    ] {
        let (s, err) = page.send(method.clone(), path, None).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{method} {path}: {err}");
        assert!(err["message"].as_str().unwrap().contains("token id"), "{err}");
    }
    let (s, err) = page.post("/api/v1/tokens/oCaG.2Svw/renew", json!({"token": "x"})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{err}");
    let (s, err) = page.post("/api/v1/tokens/keys", json!({"for_token": "oCaG.2Svw"})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{err}");
    // A well-formed id that names no token is still a 404.
    let (s, err) = page.get("/api/v1/tokens/oCaG2Svw").await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{err}");
}

#[tokio::test]
async fn a_malformed_token_id_in_a_sync_path_is_a_400_like_the_token_api() {
    let d = TestDaemon::start().await;
    let page = d.setup_admin().await;
    let (_, of_tokens) = page.get("/api/v1/tokens/oCaG.2Svw").await;
    for (method, body) in [(Method::GET, None), (Method::POST, Some(json!({})))] {
        let (s, err) = page.send(method.clone(), "/api/v1/sync/oCaG.2Svw", body).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{method}: {err}");
        assert_eq!(err, of_tokens, "{method}: the same error, the same shape");
        let (s, err) = page.send(method.clone(), "/api/v1/sync/oCaG2Svw", None).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{method}: a well-formed unknown id: {err}");
    }
}

#[tokio::test]
async fn the_sandbox_api_is_absent_outside_the_sandbox() {
    let d = TestDaemon::start().await;
    let page = d.setup_admin().await;
    let (s, _) = page.get("/api/v1/sandbox").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}
