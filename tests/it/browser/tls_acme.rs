//! Settings → TLS certificate with an ACME CA (Debian's pebble, started by the test), in the
//! browser at desktop and phone width: the certificate the CA issued with its state and
//! renewal, "Renew now" swapping in a new one; and a CA that refuses (a wrong EAB key), its own
//! words on the page and in the error "Renew now" shows, the self-managed certificate kept.

use super::harness::{self, Browser};
use super::{assert_clean, log_in, wait_js};
use crate::tls_acme::{EAB_KID, Pebble, free_port, page_trusting, start_daemon, tls_until};
use adebox::config::Eab;
use adebox::crypto::Secret;

async fn fits(b: &Browser, width: u32) {
    let over = b
        .client
        .execute("return document.documentElement.scrollWidth - window.innerWidth", vec![])
        .await
        .unwrap();
    assert!(over.as_f64().unwrap() <= 1.0, "at {width} px the page scrolls sideways by {over}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_acme_certificate_state_and_renew_now_on_settings() {
    let http_port = free_port();
    let Some(pebble) = Pebble::start(http_port, false) else { return };
    let Some(b) = harness::start().await else { return };
    let root = pebble.root_pem().await;
    let d = start_daemon(tempfile::tempdir().unwrap(), pebble.acme_config(http_port, None)).await;
    let appliance_ca = d.ca_pem();
    let page = page_trusting(&d, &[&appliance_ca, root.as_bytes()], true).await;
    tls_until(&page, &pebble, |v| v["mode"] == "acme").await;
    log_in(&b, &d, "alice").await;

    for (width, height) in [(1440, 900), (390, 844)] {
        b.client.set_window_size(width, height).await.unwrap();
        b.goto(&d.url("/admin/settings")).await;
        b.wait("#tls-mode[data-mode='acme']").await;
        let (_, before) = page.get("/api/v1/settings/tls").await;
        b.wait_text("#tls-acme-directory", before["acme"]["directory_url"].as_str().unwrap()).await;
        b.wait_text("#tls-server-renews", "two thirds of its lifetime").await;
        b.wait_text("#tls-acme-ca-file", "cert.pem").await;
        assert!(b.text("#tls-acme-last-success").await.trim() != "", "when it was issued");
        b.click("#tls-acme-renew").await;
        b.wait_text("#toasts-status", "The CA issued a new certificate").await;
        let (_, after) = page.get("/api/v1/settings/tls").await;
        assert_ne!(
            after["server"]["fingerprint_sha256"],
            before["server"]["fingerprint_sha256"],
            "a new certificate\npebble: {}",
            pebble.log()
        );
        let shown = wait_js(
            &b,
            "document.querySelector('#tls')?.textContent.replace(/\\s/g, '')",
            vec![],
            "the TLS panel",
        )
        .await;
        let print = after["server"]["fingerprint_sha256"].as_str().unwrap().replace(':', "");
        let shown = shown.as_str().unwrap().replace(':', "").to_lowercase();
        assert!(shown.contains(&print.to_lowercase()), "the panel shows the new certificate");
        fits(&b, width).await;
        assert_clean(&b, "renewing the ACME certificate").await;
    }
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusing_acme_ca_shows_its_own_words_on_settings() {
    let http_port = free_port();
    let Some(pebble) = Pebble::start(http_port, true) else { return };
    let Some(b) = harness::start().await else { return };
    let bad = Eab { key_id: EAB_KID.into(), hmac_key: Secret::new("d3JvbmcgaG1hYyBrZXk".into()) };
    let d =
        start_daemon(tempfile::tempdir().unwrap(), pebble.acme_config(http_port, Some(bad))).await;
    let appliance_ca = d.ca_pem();
    let page = page_trusting(&d, &[&appliance_ca], true).await;
    let v = tls_until(&page, &pebble, |v| v["acme"]["last_error"].is_string()).await;
    let words = v["acme"]["last_error"].as_str().unwrap().to_string();
    log_in(&b, &d, "alice").await;

    for (width, height) in [(1440, 900), (390, 844)] {
        b.client.set_window_size(width, height).await.unwrap();
        b.goto(&d.url("/admin/settings")).await;
        b.wait("#tls-mode[data-mode='self_managed']").await;
        b.wait_text("#tls-acme-error", "the CA refused to register the account").await;
        let shown = b.text("#tls-acme-error").await;
        let ca_part = words.split(':').next_back().unwrap().trim();
        assert!(shown.contains(ca_part), "the CA's words `{ca_part}` on the page: {shown}");
        b.wait_text("#tls-server-renews", "without a restart").await;
        b.click("#tls-acme-renew").await;
        b.wait_text("#toasts-alert", "the CA refused to register the account").await;
        assert!(!b.text("#toasts-alert").await.contains("d3JvbmcgaG1hYyBrZXk"), "no key shown");
        let next = b.text("#tls-acme-next").await;
        assert!(!next.trim().is_empty(), "the retry is shown");
        fits(&b, width).await;
        assert_clean(&b, "a refused ACME order").await;
        b.client
            .execute(
                "document.querySelectorAll('#toasts-alert .toast-close').forEach((c) => c.click())",
                vec![],
            )
            .await
            .unwrap();
    }
    let (_, v) = page.get("/api/v1/settings/tls").await;
    assert_eq!(v["mode"], "self_managed", "the certificate in use stays: {v}");
    assert!(v["acme"]["last_error"].is_string(), "{v}");
    b.close().await;
}
