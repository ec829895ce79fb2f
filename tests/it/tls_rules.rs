//! Apple's 2026 TLS rules on every listener (`../shared/spec/apple-2026.md` §7), checked with
//! OpenSSL's `s_client` as the client: TLS 1.0 and 1.1 refused, TLS 1.2 without the extended
//! master secret refused, and weak certificates refused on upload or flagged when configured.
//! Each test skips with a notice where `openssl` is absent (apt-get install openssl).

use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::path::Path;
use std::process::{Command, Stdio};

pub(crate) fn openssl_available() -> bool {
    let found = Command::new("openssl")
        .arg("version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        // .ci/run installs it: in CI a missing openssl is a failure, not a skip.
        assert!(
            std::env::var_os("CI").is_none(),
            "openssl is not installed: .ci/run installs it; the TLS rule tests need it"
        );
        eprintln!("notice: openssl not installed (apt-get install openssl); skipping");
    }
    found
}

/// Whether `openssl s_client` completes a handshake with `args`, with `conf` as OPENSSL_CONF.
async fn handshake(port: u16, args: &'static [&'static str], conf: Option<&Path>) -> bool {
    let conf = conf.map(Path::to_path_buf);
    tokio::task::spawn_blocking(move || {
        let mut cmd = Command::new("openssl");
        cmd.args([
            "s_client",
            "-connect",
            &format!("127.0.0.1:{port}"),
            "-servername",
            "localhost",
        ])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        if let Some(c) = conf {
            cmd.env("OPENSSL_CONF", c);
        }
        cmd.status().unwrap().success()
    })
    .await
    .unwrap()
}

/// An OpenSSL configuration whose clients do not offer the extended master secret (OpenSSL
/// 3.0 has no command-line flag for it).
fn no_ems_conf(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("no-ems.cnf");
    std::fs::write(
        &path,
        "openssl_conf = openssl_init\n[openssl_init]\nssl_conf = ssl_sect\n[ssl_sect]\nsystem_default = system_default_sect\n[system_default_sect]\nOptions = -ExtendedMasterSecret\n",
    )
    .unwrap();
    path
}

#[tokio::test]
async fn old_protocols_and_tls12_without_extended_master_secret_are_refused() {
    if !openssl_available() {
        return;
    }
    let d = TestDaemon::start().await;
    let port = d.running().https_addrs[0].port();
    // SECLEVEL=0 so that OpenSSL itself is willing to offer the old protocols.
    assert!(!handshake(port, &["-tls1", "-cipher", "DEFAULT@SECLEVEL=0"], None).await);
    assert!(!handshake(port, &["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"], None).await);
    assert!(handshake(port, &["-tls1_2"], None).await, "TLS 1.2 with EMS is served");
    assert!(handshake(port, &["-tls1_3"], None).await, "TLS 1.3 is served");
    let conf = no_ems_conf(d.dir.path());
    assert!(!handshake(port, &["-tls1_2"], Some(&conf)).await, "TLS 1.2 without EMS refused");
    // The same configuration is otherwise usable: TLS 1.3 has no such extension to drop.
    assert!(handshake(port, &["-tls1_3"], Some(&conf)).await);
    // A suite without forward secrecy is not offered.
    assert!(!handshake(port, &["-tls1_2", "-cipher", "AES128-GCM-SHA256"], None).await);
}

/// A certificate and key made by OpenSSL with `args` (ours cannot make weak ones).
fn weak_certificate(dir: &Path, name: &str, args: &[&str]) -> (String, String) {
    let cert = dir.join(format!("{name}.pem"));
    let key = dir.join(format!("{name}.key"));
    let status = Command::new("openssl")
        .args(["req", "-x509", "-nodes", "-days", "30", "-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        .args(args)
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    (std::fs::read_to_string(cert).unwrap(), std::fs::read_to_string(key).unwrap())
}

const SHA1_P256: &[&str] = &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-sha1"];
const RSA_1024: &[&str] = &["-newkey", "rsa:1024", "-sha256"];

#[tokio::test]
async fn weak_uploaded_certificates_are_refused_with_the_rule_named() {
    if !openssl_available() {
        return;
    }
    let d = TestDaemon::start().await;
    let page = d.setup_admin().await;
    for (name, args, rule) in [("sha1", SHA1_P256, "SHA-256"), ("rsa1024", RSA_1024, "2048")] {
        let (cert, key) = weak_certificate(d.dir.path(), name, args);
        let (s, body) = page
            .post("/api/v1/settings/tls/custom", json!({"cert_pem": cert, "key_pem": key}))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["field"], "cert_pem");
        let text = body.to_string();
        assert!(text.contains("Apple's TLS rule") && text.contains(rule), "{text}");
    }
    let (_, info) = page.get("/api/v1/settings/tls").await;
    assert_eq!((info["mode"].as_str(), &info["rule_break"]), (Some("self_managed"), &json!(null)));
}

#[tokio::test]
async fn a_weak_configured_certificate_starts_the_daemon_with_an_error_banner() {
    if !openssl_available() {
        return;
    }
    for (name, args, rule) in [("sha1", SHA1_P256, "SHA-256"), ("rsa1024", RSA_1024, "2048")] {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = weak_certificate(dir.path(), name, args);
        let cert_file = dir.path().join("site.pem");
        let key_file = dir.path().join("site.key");
        std::fs::write(&cert_file, cert).unwrap();
        std::fs::write(&key_file, key).unwrap();
        let mut opts = options(dir.path(), adebox::daemon::Mode::Production);
        opts.config.tls_cert_file = Some(cert_file);
        opts.config.tls_key_file = Some(key_file);
        let d = TestDaemon::start_with(dir, opts).await;
        // The TLS library cannot sign with RSA-1024: that one falls back to our own certificate.
        let client = reqwest::Client::builder()
            .danger_accept_invalid_certs(true)
            .cookie_store(true)
            .build()
            .unwrap();
        assert_eq!(client.get(d.url("/healthz")).send().await.unwrap().status(), StatusCode::OK);
        let page = setup_admin_trusting_any(&d, client).await;
        let (_, status) = page.get("/api/v1/status").await;
        let banner = status["banners"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["code"] == "tls_certificate_breaks_apple_rules")
            .unwrap_or_else(|| panic!("{name}: no banner in {status}"));
        assert_eq!(banner["level"], "error");
        assert!(banner["message"].as_str().unwrap().contains(rule), "{banner}");
        let (_, info) = page.get("/api/v1/settings/tls").await;
        assert!(info["rule_break"].as_str().unwrap().contains(rule), "{info}");
    }
}

/// First-run setup through `client` (the daemon's certificate is not from its CA here).
async fn setup_admin_trusting_any(d: &TestDaemon, client: reqwest::Client) -> Page {
    let code = d.running().setup_code.as_ref().unwrap().expose().clone();
    let page = Page { client, base: d.base.clone(), csrf: String::new() };
    let body = json!({"setup_code": code, "username": "alice", "password": PASSWORD});
    let (status, body) = page.send(Method::POST, "/api/v1/admin/setup", Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    Page { csrf: body["csrf_token"].as_str().unwrap().to_string(), ..page }
}
