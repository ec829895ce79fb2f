//! The Enrollment page against a sandbox daemon: a garbage body and a genuine-looking request
//! for a serial the appliance does not know are refused at the profile URL, and the page shows
//! both in the funnel and the refusals with their reasons; audit-only mode is turned on through
//! its confirmation and is saved, after which the unknown device is let through and listed so.

use super::{assert_clean, log_in, wait_js};
use crate::common::TestDaemon;
use adebox::sim::apple_pki::StandInApplePki;
use reqwest::StatusCode;
use serde_json::json;
use std::sync::Arc;

const UNKNOWN: &str = "UNKNOWNSN001";

async fn post_machine_info(d: &TestDaemon, body: Vec<u8>) -> StatusCode {
    d.client()
        .post(d.url("/enroll/machineinfo"))
        .header("Content-Type", "application/pkcs7-signature")
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn enrollment_page_shows_refusals_and_saves_audit_only_mode() {
    let Some(b) = super::harness::start().await else { return };
    let now = adebox::clock::Clock::system().now();
    let pki = Arc::new(StandInApplePki::generate(now).unwrap());
    let d = TestDaemon::with_simulator_trusting(adebox::daemon::DeviceTrust::StandIn(pki.clone()))
        .await;
    let page = d.sandbox_admin().await;
    // A profile, so the page can show the enrollment URL it carries.
    let (s, p) = page
        .post("/api/v1/profiles", json!({"name": "Default", "platforms": ["iOS", "iPadOS"]}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");

    let garbage = post_machine_info(&d, b"not a signed MachineInfo at all".to_vec()).await;
    assert!(garbage.is_client_error(), "garbage is refused, got {garbage}");
    let unknown = crate::enroll::signed(&pki, UNKNOWN, "00008110-000A1B2C3D4E5F60");
    assert_eq!(post_machine_info(&d, unknown.clone()).await, StatusCode::FORBIDDEN);

    log_in(&b, &d, "admin").await;
    b.click("#nav-enrollment").await;
    b.wait_text("#page-title", "Enrollment").await;
    b.wait("#push-state[data-state=ok]").await;

    // The funnel counts both requests as refused; only the readable one contacted us.
    b.wait_text("#enroll-funnel-24h [data-step=refused]", "2").await;
    b.wait_text("#enroll-funnel-24h [data-step=contacted]", "1").await;
    b.wait_text("#enroll-funnel-all [data-step=refused]", "2").await;
    b.wait_text("#enroll-funnel-all [data-step=profile_served]", "0").await;

    // The refusals: the unknown serial linked to its device, and the garbage with no serial.
    b.wait_text("#enroll-refusals-table", UNKNOWN).await;
    b.wait_text("#enroll-refusals-table", "Not in this appliance’s device list").await;
    b.wait_text("#enroll-refusals-table", "Not a genuine signed device request").await;
    let href = b.wait(&format!("a[data-serial={UNKNOWN}]")).await.attr("href").await.unwrap();
    assert_eq!(href.as_deref(), Some(format!("/admin/devices/{UNKNOWN}").as_str()));
    b.wait_text("#enroll-refusals-summary", "2").await;

    let url =
        wait_js(&b, "document.querySelector('#enroll-url')?.dataset.url", vec![], "the URL").await;
    assert!(url.as_str().unwrap().ends_with("/enroll/machineinfo"), "{url}");
    assert_clean(&b, "opening the Enrollment page").await;

    // Audit-only mode: the confirmation says what happens, then the setting is saved.
    b.wait("#enroll-audit-state[data-audit-only=false]").await;
    b.click("#enroll-audit-toggle").await;
    b.wait_text("#enroll-audit-dialog", "only logged").await;
    b.click("#enroll-audit-dialog-confirm").await;
    b.wait("#enroll-audit-state[data-audit-only=true]").await;
    b.wait_text("#enroll-audit-banner", "Audit-only mode is on").await;
    let (s, settings) = page.get("/api/v1/enrollment/settings").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(settings["audit_only"], json!(true), "the page saved audit-only mode");

    // Now the unknown device is let through, and the page says so after a reload.
    assert_eq!(post_machine_info(&d, unknown).await, StatusCode::OK);
    b.client.refresh().await.unwrap();
    b.wait("#enroll-audit-state[data-audit-only=true]").await;
    b.wait_text("#enroll-refusals-table", "Let through").await;
    b.wait_text("#enroll-funnel-all [data-step=profile_served]", "1").await;
    assert_clean(&b, "turning on audit-only mode").await;
    b.close().await;
}
