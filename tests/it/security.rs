//! Hostile clients: another admin's CSRF token, path traversal on the page's static files,
//! oversized bodies on every device endpoint, clients that send slowly, and device identities
//! from stand-in roots against a production daemon. Raw requests go over a hand-driven TLS
//! connection so paths reach the server exactly as written (no URL normalisation).

use crate::common::*;
use adebox::daemon::Mode;
use adebox::sim::apple_pki::StandInApplePki;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

type Tls = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

fn port_of(d: &TestDaemon) -> u16 {
    d.running().https_addrs[0].port()
}

/// A TLS connection to the daemon that trusts only its CA.
fn connect(port: u16, ca_pem: &[u8]) -> Tls {
    adebox::outbound::ensure_crypto_provider();
    let mut roots = rustls::RootCertStore::empty();
    for der in adebox::crypto::chain::pem_certificates(&String::from_utf8_lossy(ca_pem)).unwrap() {
        roots.add(rustls_pki_types::CertificateDer::from(der)).unwrap();
    }
    let config =
        rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth();
    let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let sock = TcpStream::connect(("127.0.0.1", port)).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    rustls::StreamOwned::new(conn, sock)
}

/// Everything the server sends until it closes (or the read timeout).
fn read_all(tls: &mut Tls) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match tls.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A GET of `path` exactly as written; the status and the body.
async fn raw_get(d: &TestDaemon, path: &str) -> (u16, String) {
    let (port, ca, path) = (port_of(d), d.ca_pem(), path.to_string());
    tokio::task::spawn_blocking(move || {
        let mut tls = connect(port, &ca);
        let req = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        tls.write_all(req.as_bytes()).unwrap();
        let text = read_all(&mut tls);
        let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
        (status, body)
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn another_admins_csrf_token_does_not_authorize_a_session() {
    let d = TestDaemon::start().await;
    let alice = d.setup_admin().await;
    let (s, _) = alice
        .post(
            "/api/v1/admin/users",
            json!({"username": "bob", "password": "bob password 12", "role": "owner"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _, bob) = d.login("bob", "bob password 12").await;
    assert_eq!(s, StatusCode::OK);
    assert_ne!(alice.csrf, bob.csrf, "each session has its own CSRF token");
    // Alice's cookie with Bob's token, and the other way round: refused, nothing made.
    for (client, csrf) in [(&alice.client, &bob.csrf), (&bob.client, &alice.csrf)] {
        let crossed = Page { client: client.clone(), base: d.base.clone(), csrf: csrf.clone() };
        let (s, body) = crossed.post("/api/v1/admin/api-tokens", json!({"name": "x"})).await;
        assert_eq!((s, body["error"].as_str()), (StatusCode::FORBIDDEN, Some("csrf")), "{body}");
        let (s, body) = crossed.send(Method::DELETE, "/api/v1/admin/users/alice", None).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    }
    let (_, tokens) = alice.get("/api/v1/admin/api-tokens").await;
    assert!(!tokens.to_string().contains("\"x\""), "{tokens}");
    // Bob's token still works for Bob once Bob's session ends: a logged-out session's token
    // is dead too.
    let (s, _) = bob.send(Method::POST, "/api/v1/admin/logout", None).await;
    assert!(s.is_success(), "{s}");
    let (s, _) = bob.post("/api/v1/admin/api-tokens", json!({"name": "y"})).await;
    assert!(s == StatusCode::UNAUTHORIZED || s == StatusCode::FORBIDDEN, "{s}");
}

#[tokio::test]
async fn static_assets_refuse_path_traversal() {
    let d = TestDaemon::start().await;
    let (s, index) = raw_get(&d, "/admin/").await;
    assert_eq!(s, 200);
    let (s, svg) = raw_get(&d, "/admin/assets/favicon.svg").await;
    assert_eq!(s, 200, "a real asset is served");
    assert!(svg.contains("<svg"));
    let attempts = [
        "/admin/assets/../../Cargo.toml",
        "/admin/assets/../../../../../../etc/passwd",
        "/admin/assets/%2e%2e/%2e%2e/Cargo.toml",
        "/admin/assets/%2E%2E%2F%2E%2E%2FCargo.toml",
        "/admin/assets/..%2f..%2fsrc%2flib.rs",
        "/admin/assets/..%252f..%252fCargo.toml",
        "/admin/assets/..\\..\\Cargo.toml",
        "/admin/assets/%5c..%5c..%5cCargo.toml",
        "/admin/assets/css/..%5c..%5c..%5cCargo.toml",
        "/admin/../Cargo.toml",
        "/admin/%2e%2e/Cargo.toml",
        "/admin/assets/....//....//etc/passwd",
        "/admin/assets//etc/passwd",
        "/admin/assets/.hidden",
        "/admin/assets/%00",
        "/admin/..%2f..%2fetc/passwd",
        "/../../etc/passwd",
    ];
    for path in attempts {
        let (s, body) = raw_get(&d, path).await;
        // The page's router answers extension-less /admin/… paths with index.html; anything
        // else must be a client error. Never a file from outside web/.
        assert!(
            (400..500).contains(&s) || (s == 200 && body == index) || s == 308,
            "{path}: {s} {body:.200}"
        );
        for leak in ["[package]", "root:", "pub mod", "#!/"] {
            assert!(!body.contains(leak), "{path} leaked {leak}");
        }
    }
}

#[tokio::test]
async fn oversized_bodies_on_device_endpoints_are_refused_and_nothing_is_stored() {
    let d = TestDaemon::start().await;
    let page = d.setup_admin().await;
    let big = vec![b'0'; 100 * 1024];
    let endpoints = [
        ("/enroll/machineinfo", "application/pkcs7-signature"),
        ("/acme/new-account", "application/jose+json"),
        ("/acme/new-order", "application/jose+json"),
        ("/mdm/checkin", "application/x-apple-aspen-mdm-checkin"),
        ("/mdm/server", "application/x-apple-aspen-mdm"),
    ];
    for (path, ct) in endpoints {
        let resp = d
            .client()
            .post(d.url(path))
            .header("Content-Type", ct)
            .body(big.clone())
            .send()
            .await
            .unwrap_or_else(|e| panic!("{path}: no answer: {e}"));
        let s = resp.status();
        let body = resp.text().await.unwrap();
        // /mdm answers 403 first: no client certificate, no body read.
        let expected = if path.starts_with("/mdm") {
            s == StatusCode::PAYLOAD_TOO_LARGE || s == StatusCode::FORBIDDEN
        } else {
            s == StatusCode::PAYLOAD_TOO_LARGE
        };
        assert!(expected, "{path}: {s} {body:.300}");
        assert!(!body.is_empty(), "{path}: the refusal says why");
    }
    let (_, devices) = page.get("/api/v1/devices").await;
    assert_eq!(devices["total"].as_u64().unwrap_or(0), 0, "{devices}");
    let (_, refusals) = page.get("/api/v1/enrollment/refusals?limit=50").await;
    for item in refusals["items"].as_array().into_iter().flatten() {
        assert!(item["serial"].is_null() || item["serial"] == "", "{item}");
    }
}

/// A production daemon whose clients get 1 s for the request head and 2 s for the request.
async fn impatient_daemon() -> TestDaemon {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(dir.path(), Mode::Production);
    opts.http_timeouts = adebox::http::Timeouts {
        request_head: Duration::from_secs(1),
        request: Duration::from_secs(2),
    };
    TestDaemon::start_with(dir, opts).await
}

#[tokio::test]
async fn slow_clients_are_cut_off() {
    let d = impatient_daemon().await;
    let (port, ca) = (port_of(&d), d.ca_pem());
    let outcomes = tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        // Headers that never finish.
        let mut tls = connect(port, &ca);
        let started = Instant::now();
        tls.write_all(b"POST /enroll/machineinfo HTTP/1.1\r\nHost: localhost\r\n").unwrap();
        out.push(("slow head", read_all(&mut tls), started.elapsed()));
        // A body that trickles in: the head arrives, then 10 of 1000 bytes.
        let mut tls = connect(port, &ca);
        let started = Instant::now();
        tls.write_all(
            b"POST /enroll/machineinfo HTTP/1.1\r\nHost: localhost\r\n\
              Content-Type: application/pkcs7-signature\r\nContent-Length: 1000\r\n\r\n0123456789",
        )
        .unwrap();
        out.push(("slow body", read_all(&mut tls), started.elapsed()));
        out
    })
    .await
    .unwrap();
    for (what, answer, took) in outcomes {
        assert!(took < Duration::from_secs(8), "{what}: held for {took:?}");
        assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 408"), "{what}: {answer:.200}");
    }
    // The daemon still serves well-behaved clients.
    let resp = d.client().get(d.url("/healthz")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn production_refuses_device_identities_from_stand_in_roots() {
    let d = TestDaemon::start().await;
    let _page = d.setup_admin().await;
    let pki = StandInApplePki::generate(adebox::clock::Clock::system().now()).unwrap();
    let body = crate::enroll::signed(&pki, "F0ZZSTANDIN1", "U-STAND-IN");
    let (s, _, answer) = crate::enroll::post(&d, body).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(String::from_utf8_lossy(&answer).contains("code"));
}
