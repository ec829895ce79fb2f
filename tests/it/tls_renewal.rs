//! The self-managed server certificate renewed while the daemon runs: under a manual clock
//! stepped past the renewal date, the upkeep task issues a new certificate and the listener
//! serves it on the next handshake, without a restart; audited as `tls.renew`.

use crate::common::*;
use adebox::daemon::Mode;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use std::sync::Arc;
use std::time::Duration;

/// The leaf certificate the daemon serves on a fresh handshake, verified against `ca_pem`.
pub(crate) fn served_leaf(port: u16, ca_pem: Vec<u8>) -> Vec<u8> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&ca_pem) {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = "localhost".try_into().unwrap();
    let mut conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let mut sock = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    while conn.is_handshaking() {
        conn.complete_io(&mut sock).unwrap();
    }
    conn.peer_certificates().unwrap()[0].to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_self_managed_certificate_is_renewed_and_served_without_a_restart() {
    // Started 370 days ago by the manual clock: the first certificate (397 days) is then due
    // for renewal 3 days ago in real time, and both certificates are valid for the client,
    // which checks against the real time.
    #[allow(clippy::disallowed_methods)]
    let real_now = time::OffsetDateTime::now_utc();
    let clock = adebox::clock::Clock::manual(real_now - time::Duration::days(370));
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(dir.path(), Mode::Production);
    opts.clock = clock.clone();
    let d = TestDaemon::start_with(dir, opts).await;
    let page = d.setup_admin().await;
    let port = d.running().https_addrs[0].port();
    let ca = d.ca_pem();

    let (_, before) = page.get("/api/v1/settings/tls").await;
    assert_eq!(before["mode"], "self_managed", "{before}");
    let first = {
        let ca = ca.clone();
        tokio::task::spawn_blocking(move || served_leaf(port, ca)).await.unwrap()
    };
    assert_eq!(
        before["server"]["fingerprint_sha256"],
        adebox::crypto::ca::fingerprint_sha256(&first),
        "{before}"
    );

    clock.advance(time::Duration::days(368));
    let mut renewed = first.clone();
    for _ in 0..200 {
        let ca = ca.clone();
        renewed = tokio::task::spawn_blocking(move || served_leaf(port, ca)).await.unwrap();
        if renewed != first {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_ne!(renewed, first, "the renewed certificate is served without a restart");

    // The session expired with the year the clock moved: sign in again.
    let (s, _, page) = d.login("alice", PASSWORD).await;
    assert_eq!(s, reqwest::StatusCode::OK);
    let (_, after) = page.get("/api/v1/settings/tls").await;
    assert_eq!(
        after["server"]["fingerprint_sha256"],
        adebox::crypto::ca::fingerprint_sha256(&renewed),
        "{after}"
    );
    assert_ne!(after["renews_at"], before["renews_at"], "{after}");
    let (_, audit) = page.get("/api/v1/audit?action=tls.renew").await;
    assert_eq!(audit["total"], 1, "{audit}");
}
