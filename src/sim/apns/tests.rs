//! The APNs simulator over real HTTPS: who may push, Apple's error bodies, HTTP/2.

use super::*;
use crate::crypto::push_cert::generate_request;

async fn started() -> RunningSimApns {
    SimApns::start(SimApnsConfig::default()).await.unwrap()
}

/// A client trusting the simulator, presenting a push certificate of its CA (or none).
fn client(sim: &RunningSimApns, with_cert: bool) -> reqwest::Client {
    let mut config = crate::outbound::OutboundConfig::trusting_only([sim.ca_pem().to_string()]);
    if with_cert {
        let req = generate_request("t", "US", "t@example.org").unwrap();
        let cert = sim.issue_push_certificate(req.csr_pem.as_bytes(), None).unwrap();
        config = config
            .with_identity(crate::crypto::Secret::new(format!("{cert}{}", req.key_pem.expose())));
    }
    crate::outbound::client(&config).unwrap()
}

async fn push(c: &reqwest::Client, sim: &RunningSimApns, token: &str) -> (u16, String, String) {
    let resp = c
        .post(format!("{}/3/device/{token}", sim.base_url()))
        .header("apns-topic", sim.topic())
        .header("apns-push-type", "mdm")
        .body(r#"{"mdm":"m"}"#)
        .send()
        .await
        .unwrap();
    let version = format!("{:?}", resp.version());
    (resp.status().as_u16(), version, resp.text().await.unwrap())
}

#[tokio::test]
async fn accepts_a_push_certificate_of_its_ca_over_http2_and_records_the_push() {
    let sim = started().await;
    let token = "ab".repeat(32);
    let (status, version, _) = push(&client(&sim, true), &sim, &token).await;
    assert_eq!((status, version.as_str()), (200, "HTTP/2.0"));
    assert_eq!(sim.deliveries(&token).len(), 1);
    assert_eq!(sim.deliveries(&token)[0].push_magic, "m");
    sim.stop().await;
}

#[tokio::test]
async fn answers_apples_reasons_for_what_it_refuses() {
    let sim = started().await;
    let (status, _, body) = push(&client(&sim, false), &sim, &"ab".repeat(32)).await;
    assert_eq!(status, 403);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["reason"],
        "MissingProviderToken"
    );

    let c = client(&sim, true);
    let (status, _, body) = push(&c, &sim, "not-hex").await;
    assert_eq!((status, body.contains("BadDeviceToken")), (400, true), "{body}");
    let gone = "cd".repeat(32);
    sim.unregister(&gone);
    let (status, _, body) = push(&c, &sim, &gone).await;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!((status, v["reason"].as_str()), (410, Some("Unregistered")));
    assert!(v["timestamp"].is_number());
    sim.set_faults(Faults::parse("429=1").unwrap());
    let (status, _, body) = push(&c, &sim, &"ef".repeat(32)).await;
    assert_eq!((status, body.contains("TooManyRequests")), (429, true));
    assert!(sim.deliveries(&gone).is_empty());
    sim.stop().await;
}

#[tokio::test]
async fn a_certificate_of_another_ca_does_not_get_through() {
    let sim = started().await;
    let other = started().await;
    let req = generate_request("t", "US", "t@example.org").unwrap();
    let foreign = other.issue_push_certificate(req.csr_pem.as_bytes(), None).unwrap();
    let config = crate::outbound::OutboundConfig::trusting_only([sim.ca_pem().to_string()])
        .with_identity(crate::crypto::Secret::new(format!("{foreign}{}", req.key_pem.expose())));
    let c = crate::outbound::client(&config).unwrap();
    let r = c.post(format!("{}/3/device/{}", sim.base_url(), "ab".repeat(32))).send().await;
    assert!(r.is_err() || !r.unwrap().status().is_success());
    assert_eq!(sim.deliveries(&"ab".repeat(32)).len(), 0);
    sim.stop().await;
    other.stop().await;
}
