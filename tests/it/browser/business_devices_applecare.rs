//! AppleCare coverage on the organisation devices, in the browser, against the daemon and the
//! simulator's Business API: "Unknown" and what it means while Apple refuses, then each
//! device's coverage in its column once read; the AppleCare filter narrows the list and keeps
//! itself in the address and the export link, at 1440 and 390 px without scrolling sideways.

use super::harness;
use super::{assert_clean, choose, log_in, wait_js};
use crate::common::TestDaemon;
use reqwest::{Method, StatusCode};

#[tokio::test]
async fn applecare_is_a_column_and_a_filter_and_unknown_is_explained() {
    let Some(b) = harness::start().await else { return };
    let d = TestDaemon::with_simulator().await;
    let page = d.sandbox_admin().await;
    d.sim().add_devices(None, 4).unwrap();
    d.sim().business().set_applecare_refused(true);
    let (s, e) = page
        .send(Method::PUT, "/api/v1/business/account", Some(crate::business::new_account(&d)))
        .await;
    assert_eq!(s, StatusCode::OK, "{e}");

    log_in(&b, &d, "admin").await;
    b.goto(&d.url("/admin/business")).await;
    b.click("#business-devices-sync-now").await;
    b.wait_text("#business-devices-sync", "Synced").await;
    for _ in 0..300 {
        let (_, v) = page.get("/api/v1/business/devices/sync").await;
        if v["applecare"]["last_error"].is_string() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // Nothing read yet: every device "Unknown", and the page says why and how it fills.
    b.goto(&d.url("/admin/business")).await;
    b.wait_text("#business-devices-applecare", "Apple was not asked yet").await;
    b.wait_text("#business-devices-applecare", "one device at a time").await;
    b.wait_text("#business-devices-applecare", "Apple refused the last reading").await;
    wait_js(
        &b,
        "[...document.querySelectorAll('#business-devices [data-applecare]')].some((c) => c.dataset.applecare === 'unknown' && c.textContent.includes('Unknown'))",
        vec![],
        "devices shown as Unknown",
    )
    .await;

    d.sim().business().set_applecare_refused(false);
    let (_, v) = page.get("/api/v1/business/devices/sync").await;
    let everyone = v["total"].as_u64().unwrap();
    for _ in 0..300 {
        let (_, v) = page.get("/api/v1/business/devices/sync").await;
        if v["applecare"]["unknown"] == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (_, none) = page.get("/api/v1/business/devices?applecare=none&limit=1").await;
    let uncovered = none["items"][0]["serial"].as_str().map(str::to_string);
    assert!(everyone > 0);

    for (width, height) in [(1440, 900), (390, 844)] {
        b.client.set_window_size(width, height).await.unwrap();
        b.goto(&d.url("/admin/business")).await;
        b.wait_text("#business-devices-applecare", "read for every device").await;
        wait_js(
            &b,
            "document.querySelectorAll('#business-devices [data-applecare]').length > 0 && \
             ![...document.querySelectorAll('#business-devices [data-applecare]')].some((c) => c.dataset.applecare === 'unknown')",
            vec![],
            "every device's coverage in its column",
        )
        .await;
        choose(&b, "#business-devices-list-filter-applecare", "No coverage").await;
        wait_js(
            &b,
            "location.search.includes('applecare=none') && \
             document.querySelector('#business-devices-export').href.includes('applecare=none') && \
             [...document.querySelectorAll('#business-devices [data-applecare]')].every((c) => c.dataset.applecare === 'none' && c.textContent.includes('No coverage'))",
            vec![],
            "the filter in the address, the export link and the list",
        )
        .await;
        if let Some(serial) = &uncovered {
            b.wait_text("#business-devices", serial).await;
        }
        super::business::fits(&b, &format!("the AppleCare column at {width} px")).await;
    }
    assert_clean(&b, "the AppleCare column and filter").await;
    b.close().await;
}
