//! The organisation's devices from Apple Business, over HTTPS against the daemon and the
//! simulator's Business API: synced on demand through Apple's pages (one run at a time),
//! filtered by whose server, status, family, model and serial, paged, exported as CSV;
//! 429s waited through and counted; a failed run keeps the list; devices Apple no longer
//! lists are removed by a complete run.

use crate::business::new_account;
use crate::common::*;
use adebox::sim::business::BusinessFaults;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::Duration;

/// Starts a run and waits (up to 60 s) until run `n` has ended; its state.
async fn sync(page: &Page, n: u64) -> Value {
    let (s, started) = page.send(Method::POST, "/api/v1/business/devices/sync", None).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{started}");
    for _ in 0..600 {
        let (_, v) = page.get("/api/v1/business/devices/sync").await;
        if v["run"] == n && v["state"] != "running" {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("run {n} did not end");
}

async fn serials(page: &Page, query: &str) -> (u64, BTreeSet<String>) {
    let (s, list) = page.get(&format!("/api/v1/business/devices?limit=500&{query}")).await;
    assert_eq!(s, StatusCode::OK, "{list}");
    let items = list["items"].as_array().unwrap();
    let set = items.iter().map(|d| d["serial"].as_str().unwrap().to_string()).collect();
    (list["total"].as_u64().unwrap(), set)
}

#[tokio::test]
async fn org_devices_are_synced_filtered_paged_and_exported() {
    let d = TestDaemon::with_simulator().await;
    let page = d.sandbox_admin().await;
    let (token, ours_uuid) = add_token(&d, &page, "Ours").await;
    let token_id = token["id"].as_str().unwrap().to_string();
    let (theirs_uuid, _) = d.sim().add_server_with_credentials("Theirs");
    let at_theirs: BTreeSet<String> =
        d.sim().add_devices(Some(&theirs_uuid), 3).unwrap().into_iter().collect();
    let nowhere: BTreeSet<String> = d.sim().add_devices(None, 2).unwrap().into_iter().collect();
    let at_ours: BTreeSet<String> =
        d.sim().add_devices(Some(&ours_uuid), 2).unwrap().into_iter().collect();
    let everyone = d.sim().with_world(|w| w.org_device_count()) as u64;

    // Without an account: nothing to sync, said so.
    let (_, v) = page.get("/api/v1/business/devices/sync").await;
    assert_eq!((v["configured"].clone(), v["state"].clone()), (json!(false), json!("never")));
    let (s, e) = page.send(Method::POST, "/api/v1/business/devices/sync", None).await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    assert!(e["message"].as_str().unwrap().contains("add one first"), "{e}");

    let (s, e) = page.send(Method::PUT, "/api/v1/business/account", Some(new_account(&d))).await;
    assert_eq!(s, StatusCode::OK, "{e}");
    let v = sync(&page, 1).await;
    assert_eq!(v["state"], "complete", "{v}");
    assert_eq!((v["devices"].as_u64(), v["total"].as_u64()), (Some(everyone), Some(everyone)));
    assert_eq!(v["every_hours"], 6);
    assert!(v["next_run_at"].is_string() && v["pages"].as_u64().unwrap() >= 2, "{v}");

    // Whose server: ours by our token's name, theirs by Apple's, none.
    let (n, ours) = serials(&page, "server=ours").await;
    assert_eq!((n, &ours), (2, &at_ours));
    let (_, list) = page.get("/api/v1/business/devices?server=ours").await;
    let first = &list["items"][0];
    assert_eq!(first["server"]["kind"], "ours", "{first}");
    assert_eq!(first["server"]["server_name"], "Ours");
    assert_eq!(first["server"]["token"], json!(token_id));
    assert_eq!(first["status"], "ASSIGNED");
    for key in ["model", "product_family", "purchase_source_type", "order_number", "added_at"] {
        assert!(first[key].is_string(), "{key} in {first}");
    }
    assert!(first["migration_capable"].is_boolean(), "{first}");
    let (_, theirs) = serials(&page, "server=elsewhere").await;
    assert!(at_theirs.is_subset(&theirs), "{theirs:?}");
    let (_, list) =
        page.get(&format!("/api/v1/business/devices?serial={}", at_theirs.first().unwrap())).await;
    assert_eq!(list["items"][0]["server"]["server_name"], "Theirs", "{list}");
    let (_, none) = serials(&page, "server=none").await;
    assert!(nowhere.is_subset(&none), "{none:?}");
    let (_, unassigned) = serials(&page, "status=unassigned").await;
    assert_eq!(none, unassigned);
    let (s, e) = page.get("/api/v1/business/devices?server=mine").await;
    assert_eq!((s, e["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("server")), "{e}");

    // Model and family filters keep only what matches.
    let family = first["product_family"].as_str().unwrap();
    let (n, fam) = serials(&page, &format!("family={family}")).await;
    assert!(n >= 1 && fam.contains(first["serial"].as_str().unwrap()));
    let (_, all_items) = page.get("/api/v1/business/devices?limit=500").await;
    let other_family = all_items["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["product_family"] != family)
        .count() as u64;
    assert_eq!(n + other_family, everyone);

    // Paging like /devices: limit and offset, total counting every match.
    let (_, p1) = page.get("/api/v1/business/devices?limit=2&offset=0").await;
    let (_, p2) = page.get("/api/v1/business/devices?limit=2&offset=2").await;
    assert_eq!((p1["total"].as_u64(), p1["items"].as_array().unwrap().len()), (Some(everyone), 2));
    assert_ne!(p1["items"][0]["serial"], p2["items"][0]["serial"]);

    // CSV of the filter, every column named.
    let resp = page
        .client
        .get(d.url("/api/v1/business/devices/export.csv?server=elsewhere"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let csv = resp.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("serial,assigned_server,server_kind,mdm_server_id,status"));
    assert_eq!(lines.len() - 1, theirs.len());
    let row = lines.iter().find(|l| l.starts_with(at_theirs.first().unwrap().as_str())).unwrap();
    assert!(row.contains(",Theirs,elsewhere,"), "{row}");
}

#[tokio::test]
async fn a_failed_run_keeps_the_list_429s_are_counted_and_a_complete_run_removes() {
    let d = TestDaemon::with_simulator().await;
    let page = d.sandbox_admin().await;
    let (theirs_uuid, _) = d.sim().add_server_with_credentials("Theirs");
    let at_theirs = d.sim().add_devices(Some(&theirs_uuid), 3).unwrap();
    // More than one of Apple's pages (1,000 a page).
    d.sim().add_devices(None, 1_100).unwrap();
    let everyone = d.sim().with_world(|w| w.org_device_count()) as u64;
    let (s, e) = page.send(Method::PUT, "/api/v1/business/account", Some(new_account(&d))).await;
    assert_eq!(s, StatusCode::OK, "{e}");

    // Every third request refused with Retry-After: waited through, counted, the run ends.
    d.sim().business().set_faults(BusinessFaults { rate_limit_every: 3, retry_after: Some(1) });
    let v = sync(&page, 1).await;
    assert_eq!(v["state"], "complete", "{v}");
    assert!(v["rate_limited"].as_u64().unwrap() >= 1, "{v}");
    assert!(v["pages"].as_u64().unwrap() >= 4, "two device pages, servers and their lists: {v}");
    assert_eq!(v["total"].as_u64(), Some(everyone));

    // Apple refuses everything: the run fails saying why, the list stays as it was.
    d.sim().release_devices(&at_theirs[..1]);
    d.sim().business().set_faults(BusinessFaults { rate_limit_every: 1, retry_after: Some(0) });
    let v = sync(&page, 2).await;
    assert_eq!(v["state"], "failed", "{v}");
    assert!(v["last_error"].as_str().unwrap().contains("429"), "{v}");
    assert!(v["rate_limited"].as_u64().unwrap() >= 6, "{v}");
    assert_eq!(v["total"].as_u64(), Some(everyone), "a failed run removes nothing");
    let (n, _) = serials(&page, &format!("serial={}", at_theirs[0])).await;
    assert_eq!(n, 1);

    // A complete run removes what Apple no longer lists; and moves are seen.
    d.sim().business().set_faults(BusinessFaults::default());
    let v = sync(&page, 3).await;
    assert_eq!(v["state"], "complete", "{v}");
    assert_eq!((v["removed"].as_u64(), v["total"].as_u64()), (Some(1), Some(everyone - 1)));
    assert!(v["last_error"].is_null(), "{v}");
    let (n, _) = serials(&page, &format!("serial={}", at_theirs[0])).await;
    assert_eq!(n, 0);
    let (_, theirs) = serials(&page, "server=elsewhere").await;
    assert_eq!(theirs, at_theirs[1..].iter().cloned().collect());
}
