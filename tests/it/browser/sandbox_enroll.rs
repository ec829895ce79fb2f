//! The Sandbox page's "Simulate devices enrolling" control against a sandbox daemon whose
//! devices have a default profile: the simulated devices go through the profile URL and ACME
//! and the page reports them enrolled.

use super::{assert_clean, log_in};
use adebox::sim::apple_pki::StandInApplePki;
use std::sync::Arc;

#[tokio::test]
async fn the_sandbox_page_simulates_devices_enrolling() {
    let Some(b) = super::harness::start().await else { return };
    let now = adebox::clock::Clock::system().now();
    let pki = Arc::new(StandInApplePki::generate(now - time::Duration::days(1)).unwrap());
    let (d, _page, _, _) = crate::enroll::fleet_with_default_profile(&pki, 4).await;

    log_in(&b, &d, "admin").await;
    b.click("#nav-sandbox").await;
    b.wait("#sandbox-enroll-form").await;
    b.fill("#sandbox-enroll-count", "3").await;
    b.click("#sandbox-enroll-submit").await;
    b.wait("#sandbox-enroll-report[data-enrolled='3'][data-failed='0']").await;
    b.screenshot(&std::env::temp_dir().join("adebox-sandbox-enroll.png")).await;
    assert_clean(&b, "simulating devices enrolling").await;

    // The certificates are real: ACME recorded one per enrolled serial.
    let certified = d.running().services.acme.certified_serials().await.unwrap();
    assert_eq!(certified.len(), 3, "{certified:?}");
}
