//! The Apple Business page and "why isn't my device here?" in the browser, against the
//! daemon and the simulator's Business API: an Owner uploads the API account (a wrong key is
//! refused next to its field, the key never comes back), sees which MDM server is ours, and
//! the devices page, searched for a serial assigned to another server, says which; both pages
//! fit 1440 and 390 px without scrolling sideways.

use super::harness;
use super::{assert_clean, log_in, wait_js};
use crate::common::{TestDaemon, add_token};

/// Fails when the page scrolls sideways (`what` names it).
pub(super) async fn fits(b: &harness::Browser, what: &str) {
    let over = b
        .client
        .execute("return document.documentElement.scrollWidth - window.innerWidth", vec![])
        .await
        .unwrap();
    assert!(over.as_f64().unwrap() <= 1.0, "{what} scrolls sideways by {over}");
}

#[tokio::test]
async fn the_account_is_uploaded_and_the_devices_page_says_where_a_serial_is() {
    let Some(b) = harness::start().await else { return };
    let d = TestDaemon::with_simulator().await;
    let page = d.sandbox_admin().await;
    add_token(&d, &page, "Ours").await;
    let (theirs, _) = d.sim().add_server_with_credentials("Theirs");
    let at_theirs = d.sim().add_devices(Some(&theirs), 1).unwrap().remove(0);
    let account = d.sim().business().create_account("adebox").unwrap();

    log_in(&b, &d, "admin").await;
    b.click("#nav-business").await;
    b.wait_text("#page-title", "Apple Business").await;
    b.wait_text("#business-account-state", "Not set up").await;
    b.fill("#business-client_id", &account.client_id).await;
    b.fill("#business-key_id", &account.key_id).await;
    let p384 = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
    b.fill("#business-private_key_pem", &p384.serialize_pem()).await;
    b.click("#business-account-save").await;
    b.wait_text("#business-private_key_pem-error", "not an EC P-256 key").await;
    b.fill("#business-private_key_pem", &account.private_key_pem).await;
    b.click("#business-account-save").await;
    b.wait_text("#business-account-state", "Stored sealed").await;
    b.wait_text("#business-account-state", &account.client_id).await;
    wait_js(
        &b,
        "document.querySelector('#business-private_key_pem').value === ''",
        vec![],
        "the key field emptied",
    )
    .await;
    let key_line = account.private_key_pem.lines().nth(1).unwrap().to_string();
    assert!(!b.text("#main").await.contains(&key_line), "the key is never put back");
    b.wait_text("#business-servers-list", "Ours").await;
    b.wait_text("#business-servers-list", "Same server uuid").await;
    b.wait_text("#business-servers-list", "Theirs").await;
    assert_clean(&b, "saving the Apple Business account").await;

    for (width, height) in [(1440, 900), (390, 844)] {
        b.client.set_window_size(width, height).await.unwrap();
        b.goto(&d.url(&format!("/admin/devices?serial={at_theirs}"))).await;
        b.wait_text("#devices-where", "Assigned to another MDM server").await;
        b.wait_text("#devices-where-message", "“Theirs”").await;
        fits(&b, &format!("the devices page at {width} px")).await;
        b.goto(&d.url("/admin/business")).await;
        b.wait_text("#business-servers-list", "Theirs").await;
        fits(&b, &format!("the Apple Business page at {width} px")).await;
    }
    b.client.set_window_size(1440, 900).await.unwrap();
    b.goto(&d.url("/admin/devices?serial=NOTINORG0001")).await;
    b.wait_text("#devices-where", "Not in your organisation").await;
    assert_clean(&b, "asking where serials are").await;
    b.close().await;
}
