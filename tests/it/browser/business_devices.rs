//! The organisation devices on the Apple Business page, in the browser, against the daemon
//! and the simulator's Business API: "Sync now" fills the list, each kind of server is
//! shown by name (ours, another MDM's, none), a filter narrows the list and keeps itself in
//! the address and the export link, and the page fits 1440 and 390 px without scrolling
//! sideways.

use super::harness;
use super::{assert_clean, log_in, wait_js};
use crate::common::{TestDaemon, add_token};
use reqwest::{Method, StatusCode};

#[tokio::test]
async fn organisation_devices_are_synced_listed_and_filtered_on_the_page() {
    let Some(b) = harness::start().await else { return };
    let d = TestDaemon::with_simulator().await;
    let page = d.sandbox_admin().await;
    let (_, ours) = add_token(&d, &page, "Ours").await;
    let (theirs, _) = d.sim().add_server_with_credentials("Theirs");
    let at_theirs = d.sim().add_devices(Some(&theirs), 2).unwrap();
    let nowhere = d.sim().add_devices(None, 1).unwrap();
    d.sim().add_devices(Some(&ours), 1).unwrap();
    let (s, e) = page
        .send(Method::PUT, "/api/v1/business/account", Some(crate::business::new_account(&d)))
        .await;
    assert_eq!(s, StatusCode::OK, "{e}");

    log_in(&b, &d, "admin").await;
    b.goto(&d.url("/admin/business")).await;
    b.wait_text("#business-devices-sync", "Not synced yet").await;
    b.click("#business-devices-sync-now").await;
    b.wait_text("#business-devices-sync", "Synced").await;
    b.wait_text("#business-devices-sync", "every 6 hours").await;
    b.wait_text("#business-devices", &at_theirs[0]).await;
    b.wait_text("#business-devices", "Theirs").await;
    b.wait_text("#business-devices", "This appliance").await;
    b.wait_text("#business-devices", "No server").await;
    assert_clean(&b, "syncing the organisation devices").await;

    for (width, height) in [(1440, 900), (390, 844)] {
        b.client.set_window_size(width, height).await.unwrap();
        b.goto(&d.url("/admin/business?server=none")).await;
        b.wait_text("#business-devices", &nowhere[0]).await;
        wait_js(
            &b,
            "!document.querySelector('#business-devices').textContent.includes(arguments[0])",
            vec![serde_json::json!(at_theirs[0])],
            "the filter leaves the other servers' devices out",
        )
        .await;
        let href = b
            .client
            .execute("return document.querySelector('#business-devices-export').href", vec![])
            .await
            .unwrap();
        assert!(href.as_str().unwrap().contains("server=none"), "{href}");
        super::business::fits(&b, &format!("the organisation devices at {width} px")).await;
    }
    assert_clean(&b, "filtering the organisation devices").await;
    b.close().await;
}
