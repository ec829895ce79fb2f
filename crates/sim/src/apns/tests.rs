//! The APNs simulator over real HTTPS: who may push, Apple's error bodies, HTTP/2.

use super::*;
use crate::crypto::push_cert::generate_request;

async fn started() -> RunningSimApns {
    SimApns::start(SimApnsConfig::default()).await.unwrap()
}

/// A client trusting only `sim`'s CA, presenting `identity` (certificate and key, PEM).
fn client_with(sim: &RunningSimApns, identity: Option<String>) -> reqwest::Client {
    crate::ensure_crypto_provider();
    let ca = reqwest::Certificate::from_pem(sim.ca_pem().as_bytes()).unwrap();
    let mut b = reqwest::Client::builder().tls_certs_only([ca]);
    if let Some(pem) = identity {
        b = b.identity(reqwest::Identity::from_pem(pem.as_bytes()).unwrap());
    }
    b.build().unwrap()
}

/// A client trusting the simulator, presenting a push certificate of its CA (or none).
fn client(sim: &RunningSimApns, with_cert: bool) -> reqwest::Client {
    let identity = with_cert.then(|| {
        let req = generate_request("t", "US", "t@example.org").unwrap();
        let cert = sim.issue_push_certificate(req.csr_pem.as_bytes(), None).unwrap();
        format!("{cert}{}", req.key_pem.expose())
    });
    client_with(sim, identity)
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
    let c = client_with(&sim, Some(format!("{foreign}{}", req.key_pem.expose())));
    let r = c.post(format!("{}/3/device/{}", sim.base_url(), "ab".repeat(32))).send().await;
    assert!(r.is_err() || !r.unwrap().status().is_success());
    assert_eq!(sim.deliveries(&"ab".repeat(32)).len(), 0);
    sim.stop().await;
    other.stop().await;
}

/// One header set to a value, or dropped (`None`).
type Change<'a> = Option<(&'a str, Option<&'a str>)>;

/// A push with the product's headers, one of them changed, and `body`.
async fn push_with(
    c: &reqwest::Client,
    sim: &RunningSimApns,
    path: &str,
    change: Change<'_>,
    body: Vec<u8>,
) -> (u16, String) {
    let topic = sim.topic().to_string();
    let mut headers = vec![
        ("apns-push-type", "mdm".to_string()),
        ("apns-topic", topic),
        ("apns-priority", "10".to_string()),
        ("apns-expiration", "1767225600".to_string()),
    ];
    if let Some((name, value)) = change {
        headers.retain(|(k, _)| *k != name);
        if let Some(v) = value {
            headers.push((name, v.to_string()));
        }
    }
    let mut req = c.post(format!("{}{path}", sim.base_url())).body(body);
    for (k, v) in headers {
        req = req.header(k, v);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    let reason = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v["reason"].as_str().map(str::to_string))
        .unwrap_or(text);
    (status, reason)
}

#[tokio::test]
async fn reads_each_push_strictly_and_answers_apples_reason() {
    let sim = started().await;
    let c = client(&sim, true);
    let token = "ab".repeat(32);
    let path = format!("/3/device/{token}");
    let body = || br#"{"mdm":"magic"}"#.to_vec();
    let cases: Vec<(String, Change, Vec<u8>, u16, &str)> = vec![
        (path.clone(), None, body(), 200, ""),
        (path.clone(), Some(("apns-topic", None)), body(), 200, ""),
        (path.clone(), Some(("apns-push-type", None)), body(), 200, ""),
        (format!("/3/device/{}", "ab".repeat(8)), None, body(), 400, "BadDeviceToken"),
        ("/3/device/".into(), None, body(), 400, "MissingDeviceToken"),
        (
            path.clone(),
            Some(("apns-topic", Some("com.apple.mgmt.other"))),
            body(),
            400,
            "TopicDisallowed",
        ),
        (path.clone(), Some(("apns-push-type", Some("alert"))), body(), 400, "InvalidPushType"),
        (path.clone(), Some(("apns-priority", Some("7"))), body(), 400, "BadPriority"),
        (path.clone(), Some(("apns-expiration", Some("soon"))), body(), 400, "BadExpirationDate"),
        (path.clone(), Some(("apns-id", Some("1"))), body(), 400, "BadMessageId"),
        (path.clone(), None, Vec::new(), 400, "PayloadEmpty"),
        (path.clone(), None, br#"{"aps":{"alert":"hi"}}"#.to_vec(), 400, "PayloadEmpty"),
        (path.clone(), None, br#"{"mdm":"m","extra":1}"#.to_vec(), 400, "PayloadEmpty"),
        (path.clone(), None, vec![b' '; 100_000], 413, "PayloadTooLarge"),
        ("/3/devices/x".into(), None, body(), 404, "BadPath"),
    ];
    for (path, change, body, status, reason) in cases {
        let got = push_with(&c, &sim, &path, change, body).await;
        if status == 200 {
            assert_eq!(got.0, 200, "{path} {change:?}: {got:?}");
        } else {
            assert_eq!(got, (status, reason.to_string()), "{path} {change:?}");
        }
    }
    assert_eq!(sim.deliveries(&token).len(), 3, "only the good pushes were delivered");
    let r = c.get(format!("{}{path}", sim.base_url())).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 405);
    sim.stop().await;
}

#[tokio::test]
async fn a_push_over_http_1_1_is_refused() {
    let sim = started().await;
    let req = generate_request("t", "US", "t@example.org").unwrap();
    let cert = sim.issue_push_certificate(req.csr_pem.as_bytes(), None).unwrap();
    let identity =
        reqwest::Identity::from_pem(format!("{cert}{}", req.key_pem.expose()).as_bytes()).unwrap();
    let c = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(sim.ca_pem().as_bytes()).unwrap()])
        .identity(identity)
        .http1_only()
        .build()
        .unwrap();
    let token = "ab".repeat(32);
    let (status, _) =
        push_with(&c, &sim, &format!("/3/device/{token}"), None, br#"{"mdm":"m"}"#.to_vec()).await;
    assert_eq!(status, 505);
    assert!(sim.deliveries(&token).is_empty());
    sim.stop().await;
}

#[tokio::test]
async fn early_answers_with_a_large_body_are_clean_over_http2() {
    let sim = started().await;
    for (path, status) in [("/nope", "404"), (&*format!("/3/device/{}", "ab".repeat(32)), "403")] {
        let url = format!("{}{path}", sim.base_url());
        let ca = sim.ca_pem().to_string();
        let out = tokio::task::spawn_blocking(move || {
            crate::drain::curl_h2(&ca, "POST", &url, 300_000, &["-w", "\n%{http_code}"])
        })
        .await
        .unwrap();
        let Some((exit, text)) = out else { break };
        assert!(exit.success(), "curl {exit:?} on {path}: {text}");
        assert!(text.ends_with(status), "{path}: {text}");
    }
    sim.stop().await;
}
