//! Settings → Apple services on a production appliance pointed at a DEP API that is not
//! Apple's: the panel lists it as not the default, and a banner on every page says adebox is
//! not talking to Apple.

use super::harness;
use super::{assert_clean, log_in};
use crate::endpoints::serve_with;

#[tokio::test]
async fn a_dep_api_that_is_not_apples_is_shown_on_settings_and_every_page() {
    let Some(b) = harness::start().await else { return };
    let d = serve_with("[apple]\ndep_url = \"https://dep.test.example:8444\"\n").await;
    d.setup_admin().await;
    log_in(&b, &d, "alice").await;
    // The banner on the first page after sign-in, linking to the panel.
    b.wait_text("#banners", "adebox is not talking to Apple").await;
    b.wait_text("#banners", "https://dep.test.example:8444").await;

    b.click("#nav-settings").await;
    b.wait_text("#page-title", "Settings").await;
    b.wait_text(
        "#apple-services-notices",
        "Apple DEP API: https://dep.test.example:8444 (not Apple's; set by apple.dep_url)",
    )
    .await;
    b.wait_text("#apple-dep-api", "Not Apple’s").await;
    b.wait_text("#apple-apns", "https://api.push.apple.com").await;
    b.wait_text("#apple-proxy", "None").await;
    assert_clean(&b, "opening Settings").await;
    b.close().await;
}
