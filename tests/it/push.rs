//! The push certificate over HTTPS: the admin's upload flow (request → portal → upload),
//! enrollment refused (503) without a push certificate and reaching the gate after, refusals
//! of certificates that are not ours, and a push from the daemon's queue reaching the APNs
//! simulator.

use crate::common::*;
use crate::enroll::signed;
use adebox::sim::apple_pki::StandInApplePki;
use reqwest::StatusCode;
use serde_json::json;
use std::sync::Arc;

async fn post_machine_info(d: &TestDaemon, body: Vec<u8>) -> (StatusCode, serde_json::Value) {
    let (status, _, bytes) = crate::enroll::post(d, body).await;
    (status, serde_json::from_slice(&bytes).unwrap_or_default())
}

/// Request → stand-in portal → upload, through the API; returns the upload's answer.
async fn upload_flow(
    d: &TestDaemon,
    page: &Page,
    topic: Option<&str>,
) -> (StatusCode, serde_json::Value) {
    let (s, v) = page.post("/api/v1/push/request", json!({"email": "it@example.org"})).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let csr = page.client.get(d.url("/api/v1/push/request.csr")).send().await.unwrap();
    assert_eq!(csr.status(), StatusCode::OK);
    assert_eq!(csr.headers()["content-type"], "application/pkcs10");
    let csr = csr.text().await.unwrap();
    assert!(csr.contains("BEGIN CERTIFICATE REQUEST"));
    let cert = d.apns().issue_push_certificate(csr.as_bytes(), topic).unwrap();
    page.post("/api/v1/push/certificate", json!({"certificate": cert})).await
}

#[tokio::test]
async fn enrollment_waits_for_a_push_certificate_uploaded_over_https() {
    let pki = Arc::new(StandInApplePki::generate(adebox::clock::Clock::system().now()).unwrap());
    let d =
        TestDaemon::with_simulator_no_push(adebox::daemon::DeviceTrust::StandIn(pki.clone())).await;
    let page = d.sandbox_admin().await;

    let (s, v) = page.get("/api/v1/push").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["state"], "missing");
    let (_, status) = page.get("/api/v1/status").await;
    let codes: Vec<&str> =
        status["banners"].as_array().unwrap().iter().filter_map(|b| b["code"].as_str()).collect();
    assert!(codes.contains(&"push_certificate_missing"), "{codes:?}");

    // No push certificate: the device is asked to come back later, not refused for good.
    let (s, v) = post_machine_info(&d, signed(&pki, "UNKNOWNPUSH1", "U-PUSH-1")).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{v}");
    assert_eq!(v["code"], "adebox.enrollment.no_push_certificate");

    // A certificate for someone else's key is refused with the reason.
    let other = adebox::crypto::push_cert::generate_request("x", "US", "a@b.c").unwrap();
    let foreign = d.apns().issue_push_certificate(other.csr_pem.as_bytes(), None).unwrap();
    let (s, v) = page.post("/api/v1/push/request", json!({})).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = page.post("/api/v1/push/certificate", json!({"certificate": foreign})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["field"], "certificate");
    let (s, v) = page.post("/api/v1/push/certificate", json!({"certificate": "hello"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v["message"].as_str().unwrap().contains("not a certificate"), "{v}");

    let (s, v) = upload_flow(&d, &page, None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["state"], "ok");
    assert_eq!(v["topic"], d.apns().topic());
    assert!(!v.to_string().contains("PRIVATE KEY"));

    // Now the device reaches the gate (an unknown serial is refused there).
    let (s, v) = post_machine_info(&d, signed(&pki, "UNKNOWNPUSH1", "U-PUSH-1")).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(v["code"], "adebox.enrollment.unknown_device");

    // A "Create" instead of "Renew" at the portal: another topic, refused.
    let (s, v) = upload_flow(&d, &page, Some("com.apple.mgmt.External.another-topic")).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["error"], "topic_changed");

    let (_, audit) = page.get("/api/v1/audit?limit=50").await;
    let text = audit.to_string();
    assert!(
        text.contains("push.certificate_upload") && text.contains("push.request_create"),
        "{text}"
    );
}

#[tokio::test]
async fn the_daemon_queue_wakes_a_device_through_the_apns_simulator() {
    let d = TestDaemon::with_simulator().await;
    let token = vec![0x5a; 32];
    d.running().services.pusher.notify(adebox::push::PushTarget {
        udid: adebox::ids::Udid::parse("00008101-PUSHTEST").unwrap(),
        token: token.clone(),
        push_magic: "push-magic-it".into(),
        topic: d.apns().topic().to_string(),
    });
    let got = d
        .apns()
        .wait_for_push(&hex::encode(&token), std::time::Duration::from_secs(10))
        .await
        .expect("the push arrives");
    assert_eq!(got.push_magic, "push-magic-it");
    assert_eq!(got.push_type.as_deref(), Some("mdm"));

    // A token Apple refuses for good: the device is marked, and the API shows why.
    let gone = vec![0x6b; 32];
    d.apns().unregister(&hex::encode(&gone));
    d.running().services.pusher.notify(adebox::push::PushTarget {
        // The UDID in mixed case, as a device may send it: the route finds it in any case.
        udid: adebox::ids::Udid::parse("00008101-PushGone").unwrap(),
        token: gone,
        push_magic: "m".into(),
        topic: d.apns().topic().to_string(),
    });
    let page = d.sandbox_admin().await;
    let mut last = serde_json::Value::Null;
    for _ in 0..200 {
        let (s, v) = page.get("/api/v1/push/devices/00008101-PUSHGONE").await;
        if s == StatusCode::OK {
            last = v;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(last["unreachable"]["reason"], "Unregistered", "{last}");
    let (s, lower) = page.get("/api/v1/push/devices/00008101-pushgone").await;
    assert_eq!((s, &lower), (StatusCode::OK, &last), "the UDID is matched without case");
}
