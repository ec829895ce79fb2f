//! `public.hosts` changed in the configuration file and reloaded (what SIGHUP runs): the
//! self-managed certificate is issued again with the new names and served on the next
//! handshake, without a restart; under an ACME certificate (Debian's pebble) a new one is
//! ordered for the new names at once, the old one served until it arrives.

use crate::common::*;
use crate::tls_acme::{Pebble, free_port, page_trusting, start_daemon, tls_until};
use crate::tls_renewal::served_leaf;
use adebox::daemon::Mode;
use serde_json::json;

/// The names of the certificate a fresh handshake on `port` gets, verified against `roots`.
async fn served_names(port: u16, roots: Vec<u8>) -> Vec<String> {
    let leaf = tokio::task::spawn_blocking(move || served_leaf(port, roots)).await.unwrap();
    let mut sans = adebox::tls::describe_certificate(&leaf).unwrap().sans;
    sans.sort();
    sans
}

/// The configuration file as the admin edited it: `hosts` in `[public]`.
fn edited(d: &TestDaemon, hosts: &[&str]) -> adebox::config::Config {
    let mut config = options(d.dir.path(), Mode::Production).config;
    config.public_hosts = hosts.iter().map(|h| h.to_string()).collect();
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_with_other_hosts_serves_a_self_managed_certificate_naming_them() {
    let d = TestDaemon::start().await;
    let page = d.setup_admin().await;
    let port = d.running().https_addrs[0].port();
    assert_eq!(served_names(port, d.ca_pem()).await, ["127.0.0.1", "localhost"]);

    d.running().reload(Some(edited(&d, &["localhost", "127.0.0.1", "ade.example.test"]))).await;
    // The reload returns once the certificate is swapped in: the next handshake sees it.
    assert_eq!(
        served_names(port, d.ca_pem()).await,
        ["127.0.0.1", "ade.example.test", "localhost"]
    );
    let (_, tls) = page.get("/api/v1/settings/tls").await;
    assert_eq!(tls["mode"], "self_managed", "{tls}");
    assert_eq!(tls["public_hosts"], json!(["localhost", "127.0.0.1", "ade.example.test"]));

    // A reload with the same names keeps the certificate.
    let before = tls["server"]["fingerprint_sha256"].clone();
    d.running().reload(Some(edited(&d, &["ade.example.test", "localhost", "127.0.0.1"]))).await;
    let (_, tls) = page.get("/api/v1/settings/tls").await;
    assert_eq!(tls["server"]["fingerprint_sha256"], before, "{tls}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_with_other_hosts_orders_a_new_acme_certificate() {
    let http_port = free_port();
    let Some(pebble) = Pebble::start(http_port, false) else { return };
    let root = pebble.root_pem().await;
    let acme = pebble.acme_config(http_port, None);
    let d = start_daemon(tempfile::tempdir().unwrap(), acme.clone()).await;
    let appliance_ca = d.ca_pem();
    let page = page_trusting(&d, &[&appliance_ca, root.as_bytes()], true).await;
    let port = d.running().https_addrs[0].port();
    tls_until(&page, &pebble, |v| v["mode"] == "acme").await;
    assert_eq!(served_names(port, root.clone().into_bytes()).await, ["127.0.0.1", "localhost"]);

    // pebble checks each name over HTTP-01, so the new list is one it can reach: one name less.
    let mut config = edited(&d, &["localhost"]);
    config.tls_acme = Some(acme);
    d.running().reload(Some(config)).await;
    // Until the new certificate arrives the ACME one keeps being served (no fall back to the
    // appliance CA, which would re-assign every device twice).
    let (_, now) = page.get("/api/v1/settings/tls").await;
    assert_eq!(now["mode"], "acme", "{now}");
    let v = tls_until(&page, &pebble, |v| v["server"]["sans"] == json!(["localhost"])).await;
    assert_eq!(v["mode"], "acme", "{v}");
    assert_eq!(served_names(port, root.into_bytes()).await, ["localhost"]);
}
