//! The Integrations page in the browser: an Owner adds a webhook (a wrong URL gets its error
//! next to the field), sees the secret once, sends a test event to a receiver and finds it in
//! the delivery log; the Command API panel says the checks are for shape only without
//! `[mdm] schemas_dir`.

use super::harness;
use super::{assert_clean, log_in};
use crate::common::TestDaemon;
use crate::webhooks::Receiver;

#[tokio::test]
async fn an_owner_adds_a_webhook_sees_the_secret_once_and_its_deliveries() {
    let Some(b) = harness::start().await else { return };
    let d = TestDaemon::start().await;
    d.setup_admin().await;
    let receiver = Receiver::start().await;
    log_in(&b, &d, "alice").await;
    b.click("#nav-integrations").await;
    b.wait_text("#page-title", "Integrations").await;
    b.wait_text("#webhooks-empty", "No webhook yet").await;
    // Without `[mdm] schemas_dir` the Command API panel says the checks are for shape only.
    b.wait_text("#schema-checks", "checked for shape only").await;
    b.wait_text("#schema-checks", "schemas_dir").await;

    b.fill("#webhook-name", "Site tools").await;
    b.fill("#webhook-url", &receiver.url).await;
    b.wait("#webhook-topics input[value='adebox.Alert']").await;
    b.click("#webhook-topics input[value='adebox.Alert']").await;
    b.click("#webhook-form button[type='submit']").await;
    b.wait_text("#webhook-url-error", "https://").await;

    b.click("#webhook-allow-http").await;
    b.click("#webhook-form button[type='submit']").await;
    b.wait_text("#webhook-secret", "whsec_").await;
    b.wait_text("#webhooks", "Site tools").await;
    assert_clean(&b, "adding a webhook").await;

    b.click("#webhooks tbody tr button:nth-child(2)").await; // Send test
    receiver.wait_for(1).await;
    b.click("#webhooks tbody tr button:nth-child(1)").await; // Delivery log
    b.wait_text("#deliveries", "adebox.Alert").await;
    b.wait_text("#deliveries", "Delivered").await;
    assert_clean(&b, "reading the delivery log").await;
    b.close().await;
}

/// The Alerts panel: SMTP settings against a real SMTP server, "Send test" showing a wrong
/// password's refusal and then the server's acceptance in plain words; the page never scrolls
/// sideways at desktop or phone width.
#[tokio::test]
async fn the_alerts_panel_sends_a_test_and_the_page_fits_a_phone() {
    let Some(b) = harness::start().await else { return };
    let Some(smtp) = crate::alerts::Smtp::start() else { return };
    let d = TestDaemon::start().await;
    d.setup_admin().await;
    log_in(&b, &d, "alice").await;
    b.click("#nav-integrations").await;
    b.wait_text("#page-title", "Integrations").await;
    b.wait_text("#alerts", "E-mail server").await;

    b.fill("#smtp-host", "localhost").await;
    b.fill("#smtp-port", &smtp.port.to_string()).await;
    b.fill("#smtp-username", "alerts").await;
    b.fill("#smtp-password", "not-the-password").await;
    b.fill("#smtp-from", "adebox@example.org").await;
    b.fill("#smtp-ca", &smtp.ca_pem).await;
    b.click("#smtp-form button[type='submit']").await;
    super::wait_js(
        &b,
        "document.querySelector('#smtp-password').placeholder.startsWith('Stored')",
        vec![],
        "the saved SMTP settings",
    )
    .await;
    b.fill("#alert-test-to", "ops@example.org").await;
    b.click("#alert-test-send").await;
    b.wait_text("#alert-test-result", "refused the user name or password").await;
    assert!(smtp.messages().is_empty());

    b.fill("#smtp-password", "smtp-secret-4711").await;
    b.click("#smtp-form button[type='submit']").await;
    super::wait_js(
        &b,
        "document.querySelector('#smtp-password').value === ''",
        vec![],
        "the password field emptied after saving",
    )
    .await;
    b.click("#alert-test-send").await;
    b.wait_text("#alert-test-result", "accepted the message").await;
    smtp.wait_for(1).await;
    let page_text = b.text("#main").await;
    assert!(!page_text.contains("smtp-secret-4711"), "the password is never shown");
    assert_clean(&b, "the alerts panel").await;

    for (width, height) in [(1440, 900), (390, 844)] {
        b.client.set_window_size(width, height).await.unwrap();
        b.goto(&d.url("/admin/integrations")).await;
        b.wait_text("#alerts", "E-mail server").await;
        b.wait("#webhook-form").await;
        let over = b
            .client
            .execute("return document.documentElement.scrollWidth - window.innerWidth", vec![])
            .await
            .unwrap();
        assert!(over.as_f64().unwrap() <= 1.0, "at {width} px the page scrolls sideways by {over}");
    }
    assert_clean(&b, "the Integrations page at phone width").await;
    b.close().await;
}
