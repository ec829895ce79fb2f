//! The set-up the Apple Business action tests share (API and browser): a daemon with the
//! simulators, the server token "Main campus" synced, organisation devices on no MDM server
//! and on another organisation's server, and the Apple Business account set up; plus sending
//! a CSV to an action route and waiting for a device to enter or leave the devices list.

use crate::business_actions::set_up_account;
use crate::common::*;
use crate::tokens_api::sync_until;
use reqwest::StatusCode;
use serde_json::Value;
use std::time::Duration;

pub(crate) struct World {
    pub d: TestDaemon,
    pub page: Page,
    /// The id of the server token "Main campus".
    pub tid: String,
    /// Devices of the organisation on no MDM server.
    pub loose: Vec<String>,
    /// Devices on another MDM server of the organisation ("Previous MDM").
    pub theirs: Vec<String>,
}

/// The world with `loose` devices on no MDM server and `theirs` on "Previous MDM".
pub(crate) async fn world(loose: usize, theirs: usize) -> World {
    let w = world_without_account(loose, theirs).await;
    set_up_account(&w.d, &w.page).await;
    w
}

/// [`world`] before the Apple Business account is set up.
pub(crate) async fn world_without_account(loose: usize, theirs: usize) -> World {
    let d = TestDaemon::with_simulator().await;
    let page = d.sandbox_admin().await;
    let (token, _) = add_token(&d, &page, "Main campus").await;
    let tid = token["id"].as_str().unwrap().to_string();
    let now = d.sim().now();
    let (loose, theirs) = d.sim().with_world(|w| {
        let other = w.add_server("Previous MDM", None, now);
        let mut add = |to, n| if n == 0 { vec![] } else { w.add_devices(to, n, &[], now).unwrap() };
        (add(None, loose), add(Some(other), theirs))
    });
    sync_until(&d, &page, &tid, 0).await;
    World { d, page, tid, loose, theirs }
}

/// POSTs `body` as `text/csv` to `/api/v1{path}?query`, as the page does (or with `bearer`).
pub(crate) async fn post_csv(
    d: &TestDaemon,
    page: &Page,
    bearer: Option<&str>,
    path: &str,
    query: &[(&str, &str)],
    body: String,
) -> (StatusCode, Value) {
    let url = reqwest::Url::parse_with_params(&d.url(&format!("/api/v1{path}")), query).unwrap();
    let req = match bearer {
        Some(t) => d.client().post(url).bearer_auth(t),
        None => page.client.post(url).header("X-CSRF-Token", &page.csrf),
    };
    let req = req.header("Content-Type", "text/csv").body(body);
    let resp = req.send().await.unwrap();
    let s = resp.status();
    (s, serde_json::from_str(&resp.text().await.unwrap()).unwrap_or(Value::Null))
}

/// Waits until the devices list has `serial` (`present`) or not, without asking for a sync.
pub(crate) async fn listed(page: &Page, serial: &str, present: bool) -> Value {
    for _ in 0..150 {
        let (s, v) = page.get(&format!("/api/v1/devices/{serial}")).await;
        let removed = s != StatusCode::OK || !v["removed"].is_null();
        if removed != present {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{serial} never {} the devices list", if present { "entered" } else { "left" });
}

/// `days` from the daemon's now, to the second, as RFC 3339.
pub(crate) fn days_from_now(d: &TestDaemon, days: i64) -> String {
    let at = d.running().services.clock.now() + time::Duration::days(days);
    at.replace_nanosecond(0)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}
