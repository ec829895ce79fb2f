//! Actions at Apple Business through the daemon's API, against the simulated Apple Business
//! API that shares its organisation with the simulated DEP API: an assignment shows in the
//! next DEP sync, a migration's deadline reaches the device record, a partial failure is told
//! per serial, a release needs its stronger confirmation, and a repeated request acts once.

use crate::common::*;
use crate::tokens_api::sync_until;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

/// Sets up the Apple Business API account with one the simulated Apple Business made, as an
/// admin does on the page.
pub(crate) async fn set_up_account(d: &TestDaemon, page: &Page) {
    let body = crate::business::new_account(d);
    let (s, v) = page.send(reqwest::Method::PUT, "/api/v1/business/account", Some(body)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
}

/// Polls an action until Apple has finished it.
pub(crate) async fn finished(page: &Page, request_id: &str) -> Value {
    for _ in 0..300 {
        let (s, v) = page.get(&format!("/api/v1/business/actions/{request_id}")).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        if v["state"] == "finished" && v["next_poll_at"].is_null() {
            return v;
        }
        assert!(v["state"] == "in_progress" || v["state"] == "sending", "{v}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{request_id} never finished");
}

#[tokio::test]
async fn actions_reach_the_next_dep_sync_with_their_confirmations_and_partial_failures() {
    let w = crate::business_world::world_without_account(2, 1).await;
    let (d, page, tid, loose, theirs) = (&w.d, &w.page, &w.tid, &w.loose, &w.theirs);

    // Without the account, the action says what to set up.
    let assign = |id: &str, serials: &[&String], confirm: &str| json!({"request_id": id, "action": "assign", "serials": serials, "token": tid, "confirm": confirm});
    let (s, v) =
        page.post("/api/v1/business/actions", assign("it-0", &[&loose[0]], &loose[0])).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["error"], "business_not_set");

    set_up_account(d, page).await;

    // A wrong confirmation and a serial the organisation does not own are refused first.
    let (s, v) = page.post("/api/v1/business/actions", assign("it-1", &[&loose[0]], "yes")).await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("confirm")),
        "{v}"
    );
    assert!(v["message"].as_str().unwrap().contains(&format!("type `{}`", loose[0])), "{v}");
    let stranger = "NOTOURS00001".to_string();
    let (s, v) =
        page.post("/api/v1/business/actions", assign("it-1", &[&stranger], &stranger)).await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("serials")),
        "{v}"
    );

    // Assign: visible after the next DEP sync.
    let (s, v) =
        page.post("/api/v1/business/actions", assign("it-1", &[&loose[0]], &loose[0])).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["server_name"], "Main campus");
    let done = finished(page, "it-1").await;
    assert_eq!(done["results"][0]["outcome"], "done", "{done}");
    sync_until(d, page, tid, 1).await;
    // The same request again acts once: it answers what was done.
    let (s, again) =
        page.post("/api/v1/business/actions", assign("it-1", &[&loose[0]], &loose[0])).await;
    assert_eq!((s, &again["apple_id"]), (StatusCode::OK, &done["apple_id"]));
    assert_eq!(again["results"], done["results"]);

    // Migrate with a deadline: the device record carries it after the sync.
    let deadline = (d.running().services.clock.now() + time::Duration::days(30))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let body = json!({"request_id": "it-2", "action": "migrate", "serials": [theirs[0]],
        "token": tid, "deadline": deadline, "confirm": theirs[0]});
    let (s, v) = page.post("/api/v1/business/actions", body).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    finished(page, "it-2").await;
    sync_until(d, page, tid, 2).await;
    let (_, dev) = page.get(&format!("/api/v1/devices/{}", theirs[0])).await;
    assert!(dev["mdm_migration_deadline"].is_string(), "{dev}");

    // Partial failure: one is already ours, the other goes; each said in plain words.
    let both = [&loose[0], &loose[1]];
    let (s, v) = page.post("/api/v1/business/actions", assign("it-3", &both, "2 devices")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let partial = finished(page, "it-3").await;
    assert!(partial["summary"].as_str().unwrap().contains("1 done, 1 refused"), "{partial}");
    let refused = partial["results"].as_array().unwrap().iter().find(|r| r["outcome"] == "refused");
    let refused = refused.unwrap();
    assert_eq!(refused["serial"], loose[0].as_str());
    assert!(refused["advice"].as_str().unwrap().contains("Nothing to do"), "{refused}");
    assert!(partial["log"].as_str().unwrap().contains("serialNumber"), "the log as sent");

    // Release: not on the general route, and only with its own, stronger confirmation.
    let body = json!({"request_id": "it-4", "action": "release", "serials": [loose[1]],
        "confirm": loose[1]});
    let (s, _) = page.post("/api/v1/business/actions", body).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let release =
        |confirm: &str| json!({"request_id": "it-4", "serials": [loose[1]], "confirm": confirm});
    let (s, v) = page.post("/api/v1/business/actions/release", release(&loose[1])).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v["message"].as_str().unwrap().contains(&format!("release {}", loose[1])), "{v}");
    let (s, v) = page
        .post("/api/v1/business/actions/release", release(&format!("release {}", loose[1])))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    finished(page, "it-4").await;
    assert!(d.sim().with_world(|w| w.org_device(&loose[1]).is_none()), "released at Apple");

    let (_, list) = page.get("/api/v1/business/actions").await;
    let ids: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["request_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["it-4", "it-3", "it-2", "it-1"]);
    let (_, audit) = page.get("/api/v1/audit?action=business.activity").await;
    assert!(audit.to_string().contains("request it-4"), "{audit}");

    // AppleCare: read through the API, kept a day.
    let (s, care) = page.get(&format!("/api/v1/business/applecare/{}", loose[0])).await;
    assert_eq!(s, StatusCode::OK, "{care}");
    assert!(care["coverages"].is_array());
    let (_, again) = page.get(&format!("/api/v1/business/applecare/{}", loose[0])).await;
    assert_eq!(again["fetched_at"], care["fetched_at"], "kept, not asked again");
}
