use crate::common::*;
use adebox::crypto::ca::Authority;
use reqwest::{Method, StatusCode};
use serde_json::json;
use time::Duration;

#[tokio::test]
async fn the_ca_is_downloadable_and_matches_the_fingerprint_shown() {
    let d = TestDaemon::start().await;
    let page = d.setup_admin().await;
    let (_, info) = page.get("/api/v1/settings/tls").await;
    assert_eq!(info["mode"], "self_managed");
    let anon = d.client();
    let der =
        anon.get(d.url("/api/v1/settings/tls/ca.der")).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(
        adebox::crypto::ca::fingerprint_sha256(&der),
        info["ca"]["fingerprint_sha256"].as_str().unwrap()
    );
    let pem =
        anon.get(d.url("/api/v1/settings/tls/ca.pem")).send().await.unwrap().text().await.unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
    assert!(info["server"]["sans"].as_array().unwrap().iter().any(|s| s == "localhost"));
    assert!(info["renews_at"].is_string());
}

#[tokio::test]
async fn an_uploaded_certificate_is_served_and_can_be_removed() {
    let d = TestDaemon::start().await;
    let page = d.setup_admin().await;
    #[allow(clippy::disallowed_methods)]
    let now = time::OffsetDateTime::now_utc();
    let site_ca =
        Authority::generate("Site CA", now - Duration::days(1), Duration::days(3650)).unwrap();
    let issued = site_ca
        .issue_server(&["localhost".into(), "127.0.0.1".into()], now, Duration::days(90))
        .unwrap();
    let chain = format!("{}{}", issued.cert_pem, site_ca.cert_pem());

    let (s, body) = page
        .post("/api/v1/settings/tls/custom", json!({"cert_pem": chain, "key_pem": "garbage"}))
        .await;
    assert_eq!((s, body["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("key_pem")));
    let (s, body) = page
        .post(
            "/api/v1/settings/tls/custom",
            json!({"cert_pem": chain, "key_pem": issued.key_pem.expose()}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["mode"], "custom_upload");

    // New connections now get the site's certificate: a client trusting only the site CA works.
    let site_client = client_trusting(site_ca.cert_pem().as_bytes());
    let resp = site_client.get(d.url("/healthz")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);

    let (s, body) = page.send(Method::DELETE, "/api/v1/settings/tls/custom", None).await;
    assert_eq!((s, body["mode"].as_str()), (StatusCode::OK, Some("self_managed")));
    let fresh = client_trusting(&d.ca_pem());
    assert_eq!(fresh.get(d.url("/healthz")).send().await.unwrap().status(), StatusCode::OK);
    let (_, audit) = page.get("/api/v1/audit?action=tls").await;
    assert_eq!(audit["total"], 3, "{audit}");
}

#[tokio::test]
async fn mdm_routes_require_a_client_certificate_from_the_appliance_ca() {
    let d = TestDaemon::start().await;
    let anon = d.client();
    let resp = anon.put(d.url("/mdm/checkin")).body("x").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN, "never 401 to a device");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "client_certificate_required");

    // A certificate issued by the appliance CA passes the TLS layer and the route's check; the
    // check-in handler then refuses the body, which is not a check-in plist.
    #[allow(clippy::disallowed_methods)]
    let now = time::OffsetDateTime::now_utc();
    let ca = d.running().services.tls.ca();
    let device = ca.issue_client("device-UDID-1234", now, Duration::days(1)).unwrap();
    let identity = reqwest::Identity::from_pem(
        format!("{}{}", device.cert_pem, device.key_pem.expose()).as_bytes(),
    )
    .unwrap();
    let with_cert = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&d.ca_pem()).unwrap()])
        .identity(identity)
        .build()
        .unwrap();
    let resp = with_cert.put(d.url("/mdm/checkin")).body("x").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "past the certificate check");

    // A certificate from another CA fails the TLS handshake.
    let stranger_ca = Authority::generate("Stranger", now, Duration::days(10)).unwrap();
    let stranger = stranger_ca.issue_client("device-UDID-1234", now, Duration::days(1)).unwrap();
    let identity = reqwest::Identity::from_pem(
        format!("{}{}", stranger.cert_pem, stranger.key_pem.expose()).as_bytes(),
    )
    .unwrap();
    let foreign = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&d.ca_pem()).unwrap()])
        .identity(identity)
        .build()
        .unwrap();
    assert!(foreign.put(d.url("/mdm/checkin")).body("x").send().await.is_err());
}

#[tokio::test]
async fn security_headers_and_the_page_are_served() {
    let d = TestDaemon::start().await;
    let resp = d.client().get(d.url("/admin/devices?serial=ABC")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let csp = resp.headers().get("content-security-policy").unwrap().to_str().unwrap().to_string();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(resp.headers().get("x-frame-options").unwrap(), "DENY");
    assert!(resp.text().await.unwrap().contains("<html"));
    for bad in [
        "/admin/assets/../../Cargo.toml",
        "/admin/assets/%2e%2e/%2e%2e/Cargo.toml",
        "/admin/secret.txt",
    ] {
        let resp = d.client().get(d.url(bad)).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{bad}");
    }
}
