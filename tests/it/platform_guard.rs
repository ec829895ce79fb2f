//! The platform guard over HTTPS against the simulated Apple: an iPad-only profile is refused
//! for an iPhone by an assignment (dry run and real), a CSV dry run, a per-family default and
//! a token-wide default, and at the enrollment gate for an iPhone whose profile lost iOS.

use crate::assignments_api::{csv, serials_of, wait_for};
use crate::common::*;
use crate::enroll::{post, signed};
use crate::tokens_api::sync_until;
use adebox::sim::apple_pki::StandInApplePki;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;

fn outcome_of<'a>(report: &'a Value, serial: &str) -> &'a Value {
    report["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["serial"] == serial)
        .unwrap_or_else(|| panic!("{serial} not in {report}"))
}

fn assert_refused_for_iphone(report: &Value, iphone: &str) {
    let item = outcome_of(report, iphone);
    assert_eq!(item["outcome"], "wrong_platform", "{report}");
    let words = item["message"].as_str().unwrap();
    assert!(words.contains("\"Shared iPad\" is for iPadOS only"), "{words}");
    assert!(words.contains("iPhone runs iOS"), "{words}");
    assert!(words.contains("add iOS to the profile's platforms"), "{words}");
}

async fn defined(page: &Page, body: Value) -> String {
    let (s, p) = page.post("/api/v1/profiles", body).await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let id = p["id"].as_str().unwrap().to_string();
    wait_for(page, &format!("/api/v1/profiles/{id}"), "definition", |v| {
        v["tokens"][0]["state"] == "defined"
    })
    .await;
    id
}

#[tokio::test]
async fn refuses_a_profile_for_another_platform_everywhere() {
    let now = adebox::clock::Clock::system().now();
    let pki = Arc::new(StandInApplePki::generate(now).unwrap());
    let d = TestDaemon::with_simulator_trusting(adebox::daemon::DeviceTrust::StandIn(pki.clone()))
        .await;
    let page = d.sandbox_admin().await;
    let (token, uuid) = add_token(&d, &page, "Guard campus").await;
    let tid = token["id"].as_str().unwrap().to_string();
    let (s, added) =
        page.post("/api/v1/sandbox/devices", json!({"server_uuid": uuid, "count": 60})).await;
    assert_eq!(s, StatusCode::OK, "{added}");
    sync_until(&d, &page, &tid, 60).await;
    let (_, list) = page.get(&format!("/api/v1/devices?token={tid}&limit=100")).await;
    let of_family = |family: &str| -> Vec<String> {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["family"] == family)
            .map(|r| r["serial"].as_str().unwrap().to_string())
            .collect()
    };
    let (iphones, ipads) = (of_family("iPhone"), of_family("iPad"));
    assert!(iphones.len() >= 2 && !ipads.is_empty(), "the fleet has iPhones and iPads: {list}");
    assert_eq!(serials_of(&added).len(), 60);
    let (iphone, ipad) = (iphones[0].clone(), ipads[0].clone());

    let shared = defined(
        &page,
        json!({"name": "Shared iPad", "platforms": ["iPadOS"], "supervised": true, "shared_ipad": true}),
    )
    .await;

    // An assignment, dry run and real: the iPhone is refused with the reason, the iPad is not.
    for dry_run in [true, false] {
        let body = json!({"profile_id": shared, "serials": [iphone, ipad], "dry_run": dry_run});
        let (s, report) = page.post("/api/v1/assignments", body).await;
        assert!(s == StatusCode::OK || s == StatusCode::ACCEPTED, "{report}");
        assert_refused_for_iphone(&report, &iphone);
        let want = if dry_run { "will_assign" } else { "queued" };
        assert_eq!(outcome_of(&report, &ipad)["outcome"], want, "{report}");
    }
    let (_, dev) = page.get(&format!("/api/v1/devices/{iphone}")).await;
    assert!(dev["assignment"].is_null(), "nothing queued for the iPhone: {dev}");

    // The CSV dry run.
    let (s, report) = csv(
        &page,
        &format!("profile_id={shared}&dry_run=true"),
        format!("serial\n{iphone}\n{}\n", iphones[1]),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{report}");
    assert_eq!(report["summary"], json!({"wrong_platform": 2}));
    assert_refused_for_iphone(&report, &iphone);

    // A per-family default for iPhones is refused; for iPads it is taken.
    let set_default =
        |family: Option<&str>| json!({"token_id": tid, "family": family, "profile_id": shared});
    let (s, e) = page
        .send(Method::PUT, "/api/v1/profiles/defaults", Some(set_default(Some("iPhone"))))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(e.to_string().contains("iPhone devices run iOS"), "{e}");
    let (s, e) =
        page.send(Method::PUT, "/api/v1/profiles/defaults", Some(set_default(Some("iPad")))).await;
    assert_eq!(s, StatusCode::OK, "{e}");

    // A token-wide default reaches only the devices of its platform.
    let (s, e) = page.send(Method::PUT, "/api/v1/profiles/defaults", Some(set_default(None))).await;
    assert_eq!(s, StatusCode::OK, "{e}");
    let n = ipads.len();
    let assigned = wait_for(&page, "/api/v1/assignments?limit=1000", "the iPads' default", |v| {
        v["total"] == n && v["items"].as_array().unwrap().iter().all(|a| a["state"] == "assigned")
    })
    .await;
    for a in assigned["items"].as_array().unwrap() {
        let serial = a["serial"].as_str().unwrap();
        assert!(ipads.iter().any(|s| s == serial), "only iPads get it, not {a}");
    }

    // The enrollment gate: an iPhone whose profile loses iOS after Apple assigned it.
    let phones = defined(&page, json!({"name": "Phones", "platforms": ["iOS", "iPadOS"]})).await;
    let (s, report) =
        page.post("/api/v1/assignments", json!({"profile_id": phones, "serials": [iphone]})).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{report}");
    wait_for(&page, &format!("/api/v1/devices/{iphone}"), "assigned at Apple", |v| {
        v["assignment"]["state"] == "assigned" && v["apple"]["profile_status"] == "assigned"
    })
    .await;
    let (s, _, body) = post(&d, signed(&pki, &iphone, "00008101-0001")).await;
    assert_eq!(s, StatusCode::OK, "enrolls while the profile is for iOS: {body:?}");
    let (_, mut edited) = page.get(&format!("/api/v1/profiles/{phones}")).await;
    edited["platforms"] = json!(["iPadOS"]);
    let (s, e) = page.send(Method::PUT, &format!("/api/v1/profiles/{phones}"), Some(edited)).await;
    assert_eq!(s, StatusCode::OK, "{e}");
    let (s, _, body) = post(&d, signed(&pki, &iphone, "00008101-0001")).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["code"], "adebox.enrollment.wrong_platform", "{v}");
    let (_, r) = page.get("/api/v1/enrollment/refusals?limit=10").await;
    let refusal = r["items"].as_array().unwrap().iter().find(|e| e["reason"] == "wrong_platform");
    assert!(refusal.is_some_and(|e| e.to_string().contains("iPadOS only")), "{r}");
}
