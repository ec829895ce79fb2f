//! The push certificate section of the Enrollment page: without a certificate the page says
//! devices cannot enroll; the admin makes a request, gets the certificate from the (stand-in)
//! portal, uploads it through the form, and the page shows it valid with its topic.

use super::{assert_clean, log_in};
use crate::common::TestDaemon;

#[tokio::test]
async fn the_admin_installs_a_push_certificate_from_the_enrollment_page() {
    let Some(b) = super::harness::start().await else { return };
    let d = TestDaemon::with_simulator_no_push(adebox::daemon::DeviceTrust::Apple).await;
    let page = d.sandbox_admin().await;

    log_in(&b, &d, "admin").await;
    b.click("#nav-enrollment").await;
    b.wait_text("#enroll-apns", "no Apple push (APNs) certificate").await;
    b.wait("#push-state[data-state=missing]").await;
    b.click("#push-new-request").await;
    b.wait("#push-csr-download").await;

    // The portal's part, with the request the page made.
    let csr = page.client.get(d.url("/api/v1/push/request.csr")).send().await.unwrap();
    let csr = csr.text().await.unwrap();
    let cert = d.apns().issue_push_certificate(csr.as_bytes(), None).unwrap();

    // A private key in the box is caught before sending.
    b.fill("#push-cert-pem", "-----BEGIN PRIVATE KEY-----").await;
    b.click("#push-upload-submit").await;
    b.wait_text("#push-cert-pem-error", "private key").await;

    b.fill("#push-cert-pem", &cert).await;
    b.click("#push-upload-submit").await;
    b.wait("#push-state[data-state=ok]").await;
    b.wait_text("#push-topic", d.apns().topic()).await;
    let hidden = b
        .client
        .execute("return document.querySelector('#enroll-apns').hidden", vec![])
        .await
        .unwrap();
    assert_eq!(hidden, serde_json::json!(true), "the notice goes once a certificate is in");
    b.screenshot(&std::env::temp_dir().join("adebox-push-certificate.png")).await;
    assert_clean(&b, "installing a push certificate").await;
    b.close().await;
}
