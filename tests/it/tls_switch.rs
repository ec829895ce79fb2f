//! Switching the appliance certificate between the appliance CA and another one: the DEP
//! profiles' `anchor_certs` follow, so the simulated Apple side receives every profile again
//! (the appliance CA pinned, or nothing for a publicly trusted certificate) and the devices are
//! re-assigned; the count is shown first and an upload or removal that re-assigns devices
//! needs a confirmation; `/enroll/anchors` agrees with the profile. Against the DEP simulator,
//! with an uploaded certificate and with one from a real ACME CA (Debian's pebble). A switch
//! made in the configuration file (`[tls.acme]` added) is held with a banner until confirmed,
//! unless the file confirms it in advance (`tls.confirm_reassign`).

use crate::assignments_api::{serials_of, wait_for};
use crate::common::*;
use crate::tls_acme::{Pebble, free_port};
use crate::tokens_api::sync_until;
use adebox::config::AcmeConfig;
use adebox::crypto::ca::Authority;
use adebox::daemon::Mode;
use base64ct::{Base64, Encoding};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

/// A sandbox daemon on `dir` talking to `sim`, with `[tls.acme]` when given, and
/// `tls.confirm_reassign = confirmed`.
async fn sandbox_daemon(
    dir: tempfile::TempDir,
    sim: adebox::sim::dep::RunningSimDep,
    apns: adebox::sim::apns::RunningSimApns,
    acme: Option<AcmeConfig>,
    confirmed: bool,
) -> TestDaemon {
    let mut opts = options(dir.path(), Mode::Sandbox);
    opts.config.tls_acme = acme;
    opts.config.tls_confirm_reassign = confirmed;
    opts.apple = adebox::daemon::sandbox::apple_side(&sim, &apns);
    opts.sandbox_pushes = Some(apns.feed());
    opts.dep_retry = adebox::depclient::RetryPolicy {
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(50),
        ..Default::default()
    };
    let mut d = TestDaemon::start_with(dir, opts).await;
    d.sim = Some(sim);
    d.apns = Some(apns);
    d
}

/// Signs in as the sandbox admin with a client trusting `roots` (so it keeps working across
/// the switch).
pub(crate) async fn login_trusting(d: &TestDaemon, roots: &[&[u8]]) -> Page {
    let roots: Vec<reqwest::Certificate> =
        roots.iter().map(|pem| reqwest::Certificate::from_pem(pem).unwrap()).collect();
    let client = Client::builder().cookie_store(true).tls_certs_only(roots).build().unwrap();
    let page = Page { client, base: d.base.clone(), csrf: String::new() };
    let (s, v) = page
        .send(
            Method::POST,
            "/api/v1/admin/login",
            Some(json!({"username": "admin", "password": PASSWORD})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    Page { csrf: v["csrf_token"].as_str().unwrap().to_string(), ..page }
}

/// A token, a profile and two devices assigned to it; returns (server uuid, serials).
async fn two_assigned_devices(d: &TestDaemon, page: &Page) -> (String, Vec<String>) {
    let (token, server_uuid) = add_token(d, page, "Switch campus").await;
    let tid = token["id"].as_str().unwrap().to_string();
    let (s, p) = page
        .post("/api/v1/profiles", json!({"name": "Lab", "platforms": ["iOS", "iPadOS", "macOS"]}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let pid = p["id"].as_str().unwrap().to_string();
    let (_, added) =
        page.post("/api/v1/sandbox/devices", json!({"server_uuid": server_uuid, "count": 2})).await;
    let serials = serials_of(&added);
    sync_until(d, page, &tid, 2).await;
    let (s, r) =
        page.post("/api/v1/assignments", json!({"profile_id": pid, "serials": serials})).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{r}");
    for serial in &serials {
        wait_for(page, &format!("/api/v1/devices/{serial}"), "assignment", |v| {
            v["apple"]["profile_status"] == "assigned"
        })
        .await;
    }
    (server_uuid, serials)
}

/// The `anchor_certs` of the profile Apple (the simulator) holds for each of `serials`.
fn apple_anchors(d: &TestDaemon, server_uuid: &str, serials: &[String]) -> Vec<Vec<String>> {
    d.sim().with_world(|w| {
        let id = w.server_by_uuid(server_uuid).unwrap();
        let truth = w.truth();
        serials
            .iter()
            .map(|serial| {
                let device = truth
                    .servers
                    .iter()
                    .flat_map(|s| &s.devices)
                    .find(|x| &x.serial_number == serial)
                    .unwrap();
                let uuid = device.profile_uuid.clone().unwrap_or_default();
                w.profile(id, &uuid).and_then(|p| p.anchor_certs.clone()).unwrap_or_default()
            })
            .collect()
    })
}

/// Waits until Apple holds profiles with `expected` anchors for every serial, each
/// re-assigned (a uuid other than the ones in `before`).
async fn until_apple_anchors(
    d: &TestDaemon,
    server_uuid: &str,
    serials: &[String],
    expected: &[String],
) {
    for _ in 0..300 {
        if apple_anchors(d, server_uuid, serials).iter().all(|a| a == expected) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "Apple never received the anchors {expected:?}: {:?}",
        apple_anchors(d, server_uuid, serials)
    );
}

async fn enroll_anchors(page: &Page, d: &TestDaemon) -> Value {
    page.client.get(d.url("/enroll/anchors")).send().await.unwrap().json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_and_its_removal_redefine_the_profiles_after_a_confirmation() {
    let d = TestDaemon::with_simulator().await;
    d.sandbox_admin().await;
    #[allow(clippy::disallowed_methods)]
    let now = time::OffsetDateTime::now_utc();
    let site_ca =
        Authority::generate("Site CA", now - time::Duration::days(1), time::Duration::days(3650))
            .unwrap();
    let page = login_trusting(&d, &[&d.ca_pem(), site_ca.cert_pem().as_bytes()]).await;
    let (server_uuid, serials) = two_assigned_devices(&d, &page).await;
    let ca = vec![Base64::encode_string(d.running().services.tls.ca().cert_der())];
    assert_eq!(apple_anchors(&d, &server_uuid, &serials), vec![ca.clone(), ca.clone()]);
    assert_eq!(enroll_anchors(&page, &d).await, json!(ca));

    // The count first, then a refusal without the confirmation, naming it.
    let (s, impact) = page.get("/api/v1/settings/tls/switch-impact").await;
    assert_eq!(s, StatusCode::OK, "{impact}");
    assert_eq!(impact["devices_to_reassign"], 2, "{impact}");
    let issued = site_ca
        .issue_server(&["localhost".into(), "127.0.0.1".into()], now, time::Duration::days(90))
        .unwrap();
    let chain = format!("{}{}", issued.cert_pem, site_ca.cert_pem());
    let body = json!({"cert_pem": chain, "key_pem": issued.key_pem.expose()});
    let (s, e) = page.post("/api/v1/settings/tls/custom", body.clone()).await;
    assert_eq!((s, e["error"].as_str()), (StatusCode::CONFLICT, Some("confirm_reassign")), "{e}");
    assert!(e["message"].as_str().unwrap().contains("2 devices are re-assigned"), "{e}");
    let (_, tls) = page.get("/api/v1/settings/tls").await;
    assert_eq!(tls["mode"], "self_managed", "nothing changed: {tls}");

    let mut confirmed = body;
    confirmed["confirm"] = json!(true);
    let (s, v) = page.post("/api/v1/settings/tls/custom", confirmed).await;
    assert_eq!((s, v["mode"].as_str()), (StatusCode::OK, Some("custom_upload")), "{v}");
    assert_eq!(enroll_anchors(&page, &d).await, json!([]));
    until_apple_anchors(&d, &server_uuid, &serials, &[]).await;
    let (_, p) = page.get("/api/v1/profiles").await;
    assert_eq!(p["items"][0]["apple_json"].get("anchor_certs"), None, "{p}");
    let (_, audit) = page.get("/api/v1/audit?action=tls.anchors_switch").await;
    assert_eq!(audit["total"], 1, "{audit}");
    assert!(audit.to_string().contains("2 devices re-assigned"), "{audit}");

    // Back to the appliance CA: confirmed through the query, pinned again at Apple.
    let (s, e) = page.send(Method::DELETE, "/api/v1/settings/tls/custom", None).await;
    assert_eq!((s, e["error"].as_str()), (StatusCode::CONFLICT, Some("confirm_reassign")), "{e}");
    let (s, v) = page.send(Method::DELETE, "/api/v1/settings/tls/custom?confirm=true", None).await;
    assert_eq!((s, v["mode"].as_str()), (StatusCode::OK, Some("self_managed")), "{v}");
    assert_eq!(enroll_anchors(&page, &d).await, json!(ca));
    until_apple_anchors(&d, &server_uuid, &serials, &ca).await;
    let (_, audit) = page.get("/api/v1/audit?action=tls.anchors_switch").await;
    assert_eq!(audit["total"], 2, "{audit}");
}

/// A sandbox daemon with two devices assigned under the appliance CA, restarted with
/// `[tls.acme]` (and `tls.confirm_reassign = confirmed`): the daemon, a page trusting both
/// CAs, the server uuid, the serials and the appliance CA as Apple's anchors.
async fn restarted_with_acme(
    pebble: &Pebble,
    http_port: u16,
    confirmed: bool,
) -> (TestDaemon, Page, String, Vec<String>, Vec<String>) {
    let root = pebble.root_pem().await;
    let sim = adebox::daemon::sandbox::start_simulator().await.unwrap();
    let apns = adebox::daemon::sandbox::start_apns_simulator().await.unwrap();
    let d = sandbox_daemon(tempfile::tempdir().unwrap(), sim, apns, None, false).await;
    d.sandbox_admin().await;
    let appliance_ca = d.ca_pem();
    let page = login_trusting(&d, &[&appliance_ca, root.as_bytes()]).await;
    let (server_uuid, serials) = two_assigned_devices(&d, &page).await;
    let ca = vec![Base64::encode_string(d.running().services.tls.ca().cert_der())];
    assert_eq!(apple_anchors(&d, &server_uuid, &serials), vec![ca.clone(), ca.clone()]);
    let (_, impact) = page.get("/api/v1/settings/tls/switch-impact").await;
    assert_eq!(impact["devices_to_reassign"], 2, "{impact}");

    // The site adds [tls.acme] and restarts.
    let mut d = d;
    let (sim, apns) = (d.sim.take().unwrap(), d.apns.take().unwrap());
    let dir = d.stop().await;
    let acme = Some(pebble.acme_config(http_port, None));
    let d = sandbox_daemon(dir, sim, apns, acme, confirmed).await;
    let page = login_trusting(&d, &[&appliance_ca, root.as_bytes()]).await;
    (d, page, server_uuid, serials, ca)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_acme_section_confirmed_in_the_file_redefines_the_profiles_without_anchors() {
    let http_port = free_port();
    let Some(pebble) = Pebble::start(http_port, false) else { return };
    let (d, page, server_uuid, serials, _) = restarted_with_acme(&pebble, http_port, true).await;
    crate::tls_acme::tls_until(&page, &pebble, |v| v["mode"] == "acme").await;
    assert_eq!(enroll_anchors(&page, &d).await, json!([]));
    until_apple_anchors(&d, &server_uuid, &serials, &[]).await;
    let (_, audit) = page.get("/api/v1/audit?action=tls.anchors_switch").await;
    assert_eq!(audit["total"], 1, "{audit}");
    assert!(audit.to_string().contains("2 devices re-assigned"), "{audit}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_acme_section_added_to_the_file_is_held_until_an_admin_confirms() {
    let http_port = free_port();
    let Some(pebble) = Pebble::start(http_port, false) else { return };
    let (d, page, server_uuid, serials, ca) = restarted_with_acme(&pebble, http_port, false).await;

    // The CA issues, but the certificate waits: the appliance CA is still served and pinned.
    let v = crate::tls_acme::tls_until(&page, &pebble, |v| v["held"] == "acme").await;
    assert_eq!(v["mode"], "self_managed", "{v}");
    assert!(v["acme"]["last_success_at"].is_string(), "the order succeeded: {v}");
    assert_eq!(enroll_anchors(&page, &d).await, json!(ca));
    let (_, status) = page.get("/api/v1/status").await;
    let banner = status["banners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["code"] == "tls_switch_held")
        .unwrap_or_else(|| panic!("no banner: {status}"))
        .clone();
    let message = banner["message"].as_str().unwrap();
    assert!(message.contains("[tls.acme]") && message.contains("2 devices"), "{banner}");
    assert_eq!(apple_anchors(&d, &server_uuid, &serials), vec![ca.clone(), ca.clone()]);
    let (_, audit) = page.get("/api/v1/audit?action=tls.anchors_switch").await;
    assert_eq!(audit["total"], 0, "nothing redefined yet: {audit}");

    // Confirmed: served, pinned nowhere, redefined at Apple; audited with the count.
    let (s, v) = page.post("/api/v1/settings/tls/held/confirm", json!({})).await;
    assert_eq!((s, v["mode"].as_str()), (StatusCode::OK, Some("acme")), "{v}");
    assert_eq!(v["held"], Value::Null, "{v}");
    assert_eq!(enroll_anchors(&page, &d).await, json!([]));
    until_apple_anchors(&d, &server_uuid, &serials, &[]).await;
    let (_, audit) = page.get("/api/v1/audit?action=tls.switch_confirm").await;
    assert_eq!(audit["total"], 1, "{audit}");
    assert!(audit.to_string().contains("2 devices to re-assign"), "{audit}");
    let (_, status) = page.get("/api/v1/status").await;
    assert!(!status.to_string().contains("tls_switch_held"), "{status}");
    // Nothing waits any more.
    let (s, e) = page.post("/api/v1/settings/tls/held/confirm", json!({})).await;
    assert_eq!((s, e["error"].as_str()), (StatusCode::CONFLICT, Some("nothing_held")), "{e}");
}
