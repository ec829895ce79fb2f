//! The Integrations page in the browser: an Owner adds a webhook (a wrong URL gets its error
//! next to the field), sees the secret once, sends a test event to a receiver and finds it in
//! the delivery log.

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
