//! AppleCare coverage on the organisation-devices list, over HTTPS against the daemon and the
//! simulator's Business API: read in the background one device at a time after the list's
//! sync, "unknown" until then (and while Apple refuses, with Apple's words), a column, a
//! filter and CSV columns that agree with the device page's answer.

use crate::business::new_account;
use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::time::Duration;

/// Polls the sync state (up to 60 s) until `done` holds; the state.
async fn state_when(page: &Page, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..600 {
        let (_, v) = page.get("/api/v1/business/devices/sync").await;
        if done(&v) {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, v) = page.get("/api/v1/business/devices/sync").await;
    panic!("{what} did not happen: {v}");
}

async fn total(page: &Page, query: &str) -> u64 {
    let (s, list) = page.get(&format!("/api/v1/business/devices?limit=1&{query}")).await;
    assert_eq!(s, StatusCode::OK, "{list}");
    list["total"].as_u64().unwrap()
}

#[tokio::test]
async fn applecare_is_read_on_a_budget_and_listed_filtered_and_exported() {
    let d = TestDaemon::with_simulator().await;
    let page = d.sandbox_admin().await;
    d.sim().add_devices(None, 12).unwrap();
    let everyone = d.sim().with_world(|w| w.org_device_count()) as u64;
    // Apple refuses every AppleCare request: the list is synced, its coverage stays unknown.
    d.sim().business().set_applecare_refused(true);
    let (s, e) = page.send(Method::PUT, "/api/v1/business/account", Some(new_account(&d))).await;
    assert_eq!(s, StatusCode::OK, "{e}");
    let (s, v) = page.send(Method::POST, "/api/v1/business/devices/sync", None).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    let v = state_when(&page, "a refused AppleCare reading", |v| {
        v["state"] == "complete" && v["applecare"]["last_error"].is_string()
    })
    .await;
    assert!(v["applecare"]["last_error"].as_str().unwrap().contains("429"), "{v}");
    assert_eq!(v["applecare"]["unknown"].as_u64(), Some(everyone), "{v}");
    assert!(v["applecare"]["per_hour"].as_u64().unwrap() > 0, "{v}");
    assert_eq!(v["applecare"]["refresh_days"], 30, "{v}");
    assert_eq!(total(&page, "applecare=unknown").await, everyone);
    let (_, list) = page.get("/api/v1/business/devices?limit=1").await;
    assert_eq!(list["items"][0]["applecare"]["status"], "unknown", "{list}");
    assert!(list["items"][0]["applecare"]["checked_at"].is_null(), "{list}");

    // Apple answers again: every device is read, one at a time, and none is unknown.
    d.sim().business().set_applecare_refused(false);
    let v = state_when(&page, "every coverage read", |v| v["applecare"]["unknown"] == 0).await;
    assert!(v["applecare"]["last_error"].is_null(), "{v}");
    let counts: Vec<u64> = [
        total(&page, "applecare=active").await,
        total(&page, "applecare=inactive").await,
        total(&page, "applecare=none").await,
        total(&page, "applecare=unknown").await,
    ]
    .to_vec();
    assert_eq!(counts.iter().sum::<u64>(), everyone, "{counts:?}");
    assert_eq!(counts[3], 0);

    // The list says what the device page says.
    let (_, list) = page.get("/api/v1/business/devices?limit=500").await;
    for item in list["items"].as_array().unwrap().iter().take(4) {
        let serial = item["serial"].as_str().unwrap();
        let (s, c) = page.get(&format!("/api/v1/business/applecare/{serial}")).await;
        assert_eq!(s, StatusCode::OK, "{c}");
        let coverages = c["coverages"].as_array().unwrap();
        let want = if coverages.iter().any(|x| x["status"] == "ACTIVE") {
            "active"
        } else if coverages.is_empty() {
            "none"
        } else {
            "inactive"
        };
        assert_eq!(item["applecare"]["status"], want, "{item} vs {c}");
        assert_eq!(
            item["applecare"]["end_date"],
            coverages.first().map_or(Value::Null, |x| x["endDateTime"].clone()),
            "{item} vs {c}"
        );
        assert!(item["applecare"]["checked_at"].is_string(), "{item}");
    }
    let (s, e) = page.get("/api/v1/business/devices?applecare=expired").await;
    assert_eq!(
        (s, e["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("applecare")),
        "{e}"
    );

    // The CSV has the coverage, and its filter.
    let csv = page
        .client
        .get(d.url("/api/v1/business/devices/export.csv?applecare=none"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].ends_with(",applecare_status,applecare_end_date"), "{}", lines[0]);
    assert_eq!(lines.len() as u64 - 1, counts[2]);
    assert!(lines[1..].iter().all(|l| l.ends_with(",none,")), "{csv}");
}
