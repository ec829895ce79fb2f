//! The appliance's own server certificate from a real ACME CA: Debian's pebble, started here
//! with its own configuration (`PEBBLE_VA_ALWAYS_VALID` unset, so it really connects to the
//! daemon's HTTP-01 listener on the port its configuration names). Issuance, the certificate
//! served over TLS, renewal, a refusal (bad EAB) raising the alert with the CA's words, an
//! unreachable challenge listener, and a restart keeping the certificate.

use crate::common::{self, PASSWORD, Page, TestDaemon};
use adebox::config::{AcmeConfig, Eab};
use adebox::crypto::Secret;
use adebox::daemon::Mode;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

pub(crate) const EAB_KID: &str = "adebox-test";
/// base64url of the HMAC key pebble is given for [`EAB_KID`].
const EAB_HMAC: &str = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W";

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// pebble in the foreground, with a TLS certificate made here for its own listener.
pub(crate) struct Pebble {
    child: Child,
    dir: tempfile::TempDir,
    port: u16,
    management: u16,
}

impl Pebble {
    /// `None` (with a notice) when Debian's pebble is not installed; under CI (which installs
    /// it) a missing pebble fails the test.
    pub(crate) fn start(http_port: u16, eab_required: bool) -> Option<Pebble> {
        if !Path::new("/usr/bin/pebble").is_file() {
            assert!(
                std::env::var_os("CI").is_none(),
                "pebble is not installed: .ci/run installs it; the ACME certificate tests need it"
            );
            eprintln!(
                "notice: pebble is not installed (apt-get install pebble); skipping the ACME certificate test"
            );
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
        let cert = params.self_signed(&key).unwrap();
        std::fs::write(dir.path().join("cert.pem"), cert.pem()).unwrap();
        std::fs::write(dir.path().join("key.pem"), key.serialize_pem()).unwrap();
        let (port, management) = (free_port(), free_port());
        let config = json!({"pebble": {
            "listenAddress": format!("127.0.0.1:{port}"),
            "managementListenAddress": format!("127.0.0.1:{management}"),
            "certificate": dir.path().join("cert.pem"),
            "privateKey": dir.path().join("key.pem"),
            "httpPort": http_port,
            "tlsPort": free_port(),
            "ocspResponderURL": "",
            "externalAccountBindingRequired": eab_required,
            "externalAccountMACKeys": {EAB_KID: EAB_HMAC},
            // An hour: renewal (at two thirds) is then due within the test's reach.
            "certificateValidityPeriod": 3600,
        }});
        let conf = dir.path().join("pebble.json");
        std::fs::write(&conf, config.to_string()).unwrap();
        let log = std::fs::File::create(dir.path().join("pebble.log")).unwrap();
        let child = Command::new("/usr/bin/pebble")
            .arg("-config")
            .arg(&conf)
            .env("PEBBLE_VA_NOSLEEP", "1")
            .env("PEBBLE_VA_ALWAYS_VALID", "0")
            .env("PEBBLE_WFE_NONCEREJECT", "0")
            .env("PEBBLE_AUTHZREUSE", "0")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("pebble starts");
        let pebble = Pebble { child, dir, port, management };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "pebble did not listen: {}", pebble.log());
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(pebble)
    }

    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("pebble.log")).unwrap_or_default()
    }

    fn listener_ca(&self) -> PathBuf {
        self.dir.path().join("cert.pem")
    }

    /// The root pebble issues under (from its management interface).
    pub(crate) async fn root_pem(&self) -> String {
        let ca = std::fs::read(self.listener_ca()).unwrap();
        let client = common::client_trusting(&ca);
        let url = format!("https://127.0.0.1:{}/roots/0", self.management);
        client.get(url).send().await.unwrap().text().await.unwrap()
    }

    pub(crate) fn acme_config(&self, http_port: u16, eab: Option<Eab>) -> AcmeConfig {
        AcmeConfig {
            directory_url: format!("https://127.0.0.1:{}/dir", self.port),
            contact: Some("mailto:ops@example.org".into()),
            eab,
            ca_file: Some(self.listener_ca()),
            http_listen: format!("127.0.0.1:{http_port}").parse().unwrap(),
        }
    }
}

impl Drop for Pebble {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) async fn start_daemon(dir: tempfile::TempDir, acme: AcmeConfig) -> TestDaemon {
    let mut opts = common::options(dir.path(), Mode::Production);
    opts.config.tls_acme = Some(acme);
    TestDaemon::start_with(dir, opts).await
}

/// A browser session whose client trusts the appliance CA and pebble's root, so it keeps
/// working when the certificate changes.
pub(crate) async fn page_trusting(d: &TestDaemon, roots: &[&[u8]], setup: bool) -> Page {
    let roots: Vec<reqwest::Certificate> =
        roots.iter().map(|pem| reqwest::Certificate::from_pem(pem).unwrap()).collect();
    let client = Client::builder().cookie_store(true).tls_certs_only(roots).build().unwrap();
    let page = Page { client, base: d.base.clone(), csrf: String::new() };
    let (path, body) = if setup {
        let code = d.running().setup_code.as_ref().unwrap().expose().clone();
        (
            "/api/v1/admin/setup",
            json!({"setup_code": code, "username": "alice", "password": PASSWORD}),
        )
    } else {
        ("/api/v1/admin/login", json!({"username": "alice", "password": PASSWORD}))
    };
    let (status, v) = page.send(Method::POST, path, Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    Page { csrf: v["csrf_token"].as_str().unwrap().to_string(), ..page }
}

/// Waits until `GET /api/v1/settings/tls` satisfies `ok` (60 s at most).
pub(crate) async fn tls_until(page: &Page, pebble: &Pebble, ok: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..600 {
        let (_, v) = page.get("/api/v1/settings/tls").await;
        if ok(&v) {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, v) = page.get("/api/v1/settings/tls").await;
    panic!("the TLS state never got there: {v}\npebble: {}", pebble.log());
}

/// The chain the daemon serves, read with a client that trusts only pebble's root.
async fn served_by_pebble(d: &TestDaemon, root: &str) -> StatusCode {
    let client = common::client_trusting(root.as_bytes());
    client
        .get(d.url("/healthz"))
        .send()
        .await
        .expect("the served chain verifies up to pebble's root")
        .status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acme_certificate_is_issued_served_renewed_and_kept_across_a_restart() {
    let http_port = free_port();
    let Some(pebble) = Pebble::start(http_port, false) else { return };
    let root = pebble.root_pem().await;
    let d = start_daemon(tempfile::tempdir().unwrap(), pebble.acme_config(http_port, None)).await;
    let appliance_ca = d.ca_pem();
    let page = page_trusting(&d, &[&appliance_ca, root.as_bytes()], true).await;

    // Issued at start (no certificate yet), checked and swapped in without a restart.
    let v = tls_until(&page, &pebble, |v| v["mode"] == "acme").await;
    assert!(v["server"]["issuer"].as_str().unwrap().contains("Pebble"), "{v}");
    assert_eq!(v["acme"]["last_error"], Value::Null, "{v}");
    assert!(v["acme"]["last_success_at"].is_string(), "{v}");
    let sans: Vec<&str> =
        v["server"]["sans"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    assert!(sans.contains(&"localhost") && sans.contains(&"127.0.0.1"), "{v}");
    assert_eq!(served_by_pebble(&d, &root).await, StatusCode::OK);
    // Renewal at two thirds of the hour pebble grants.
    let lifetime = 3600.0 * 2.0 / 3.0;
    let (before, renews) =
        (v["server"]["not_before"].as_str().unwrap(), v["renews_at"].as_str().unwrap());
    let parse = |s: &str| {
        time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).unwrap()
    };
    assert!(((parse(renews) - parse(before)).as_seconds_f64() - lifetime).abs() < 2.0, "{v}");
    // The enrollment profile's anchors: none for a publicly trusted (ACME) certificate.
    let anchors: Value =
        page.client.get(d.url("/enroll/anchors")).send().await.unwrap().json().await.unwrap();
    assert_eq!(anchors, json!([]), "no appliance CA pinned for an ACME certificate");

    // The plain-HTTP listener answers no other path, and never redirects.
    let plain =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    for path in ["/", "/admin/", "/api/v1/status", "/.well-known/acme-challenge/unknown"] {
        let r = plain.get(format!("http://127.0.0.1:{http_port}{path}")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
    }

    // "Renew now": a new certificate, served at once, audited.
    let first = v["server"]["fingerprint_sha256"].clone();
    let (s, renewed) = page.post("/api/v1/settings/tls/acme/renew", json!({})).await;
    assert_eq!(s, StatusCode::OK, "{renewed}\npebble: {}", pebble.log());
    assert_ne!(renewed["server"]["fingerprint_sha256"], first, "{renewed}");
    assert_eq!(served_by_pebble(&d, &root).await, StatusCode::OK);
    let (_, audit) = page.get("/api/v1/audit?limit=50").await;
    assert!(audit.to_string().contains("ACME, valid until"), "{audit}");

    // The account key is sealed at rest and never shown.
    let account = std::fs::read_to_string(d.data_dir().join("tls/acme-account.sealed")).unwrap();
    assert!(account.contains("\"sealed\"") && !account.contains("key_pkcs8"), "{account}");
    assert!(!renewed.to_string().contains("key_pkcs8"));

    // A restart serves the same certificate at once, with no new order.
    let fingerprint = renewed["server"]["fingerprint_sha256"].clone();
    let d = start_daemon(d.stop().await, pebble.acme_config(http_port, None)).await;
    let page = page_trusting(&d, &[&appliance_ca, root.as_bytes()], false).await;
    let (_, v) = page.get("/api/v1/settings/tls").await;
    assert_eq!(v["mode"], "acme", "{v}");
    assert_eq!(v["server"]["fingerprint_sha256"], fingerprint, "{v}");
    assert_eq!(v["acme"]["last_order_at"], Value::Null, "no order after a restart: {v}");
    assert_eq!(served_by_pebble(&d, &root).await, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusing_ca_raises_the_alert_with_its_own_words_and_keeps_the_certificate() {
    let http_port = free_port();
    let Some(pebble) = Pebble::start(http_port, true) else { return };
    let bad = Eab { key_id: EAB_KID.into(), hmac_key: Secret::new("d3JvbmcgaG1hYyBrZXk".into()) };
    let d =
        start_daemon(tempfile::tempdir().unwrap(), pebble.acme_config(http_port, Some(bad))).await;
    let appliance_ca = d.ca_pem();
    let page = page_trusting(&d, &[&appliance_ca], true).await;

    let v = tls_until(&page, &pebble, |v| v["acme"]["last_error"].is_string()).await;
    let error = v["acme"]["last_error"].as_str().unwrap();
    assert!(error.contains("the CA refused to register the account"), "{error}");
    assert!(
        error.to_lowercase().contains("external account")
            || error.contains("EAB")
            || error.contains("HMAC"),
        "the CA's own words: {error}"
    );
    assert!(!v.to_string().contains("d3JvbmcgaG1hYyBrZXk"), "the HMAC key never shows: {v}");
    assert_eq!(v["mode"], "self_managed", "the certificate in use stays: {v}");
    assert!(v["acme"]["next_attempt_at"].is_string(), "a retry is scheduled: {v}");

    // The existing alert and a banner, both with the CA's words.
    let mut alerts = Value::Null;
    for _ in 0..100 {
        alerts = page.get("/api/v1/alerts").await.1;
        if alerts.to_string().contains("certificate_renewal_failing") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(alerts.to_string().contains("certificate_renewal_failing"), "{alerts}");
    assert!(alerts.to_string().contains("the CA refused to register the account"), "{alerts}");
    let (_, status) = page.get("/api/v1/status").await;
    assert!(status.to_string().contains("tls_acme_failing"), "{status}");
    let (_, audit) = page.get("/api/v1/audit?limit=50").await;
    assert!(!audit.to_string().contains("d3JvbmcgaG1hYyBrZXk"), "{audit}");

    // "Renew now" answers with the same plain error.
    let (s, v) = page.post("/api/v1/settings/tls/acme/renew", json!({})).await;
    assert_eq!(s, StatusCode::BAD_GATEWAY, "{v}");
    assert!(v.to_string().contains("the CA refused to register the account"), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_challenge_listener_is_named_in_the_error() {
    // pebble validates on a port nothing listens on: the daemon's listener is elsewhere.
    let (http_port, pebble_port) = (free_port(), free_port());
    let Some(pebble) = Pebble::start(pebble_port, false) else { return };
    let d = start_daemon(tempfile::tempdir().unwrap(), pebble.acme_config(http_port, None)).await;
    let appliance_ca = d.ca_pem();
    let page = page_trusting(&d, &[&appliance_ca], true).await;
    let v = tls_until(&page, &pebble, |v| v["acme"]["last_error"].is_string()).await;
    let error = v["acme"]["last_error"].as_str().unwrap();
    assert!(error.contains("the CA could not validate the names"), "{error}");
    assert!(error.contains("connection refused"), "the CA's own words: {error}");
    assert!(error.contains(&format!(":{pebble_port}/.well-known/acme-challenge/")), "{error}");
    assert_eq!(v["mode"], "self_managed", "{v}");
}
