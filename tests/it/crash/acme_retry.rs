//! ACME under kills: the appliance holds orders and authorizations in memory only, so a kill
//! forgets every order in flight. Devices (this process, over HTTPS, the stand-in Apple PKI
//! of each start) go through ACME one request at a time while `adebox sandbox` is killed with
//! SIGKILL at seeded random points and started again on the same port. Each device keeps what
//! a real one keeps: its account key and the ClientIdentifier of the profile it installed.
//! After a kill it carries on as an RFC 8555 client does: it registers its key again (the
//! stored account answers), orders again for the same identifier, and only when the
//! identifier is refused (a certificate was issued for it but the answer was lost) fetches
//! the profile again for a new one. The checks: every device ends with a certificate, and
//! every certificate a device received is still recorded against it.

use super::enroll::{enrollable, synced};
use super::{Sandbox, client_when_ready, get_json, kills, log_tail};
use adebox::crypto::jws::signer::AccountKey;
use adebox::sim::apple_pki::{StandInApplePki, new_device_key};
use base64ct::{Base64UrlUnpadded, Encoding};
use rcgen::KeyPair;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// Demo devices in the sandbox; the first [`ACME_DEVICES`] of them go through ACME here.
const DEVICES: usize = 20;
const ACME_DEVICES: usize = 8;
/// Kills at most, whatever `ADEBOX_CRASH_RUNS` says: each costs a restart (about a second).
const MAX_RUNS: u64 = 15;

/// What a device keeps across the appliance's crashes.
struct AcmeDevice {
    serial: String,
    udid: String,
    key: AccountKey,
    se_key: KeyPair,
    /// The ClientIdentifier of the profile it installed.
    client_id: Option<String>,
    /// SHA-256 of each certificate it received.
    received: Vec<String>,
}

/// The sandbox as a device sees it: its URLs, the CA it trusts, the stand-in Apple PKI.
struct Target {
    http: Client,
    enroll_url: String,
    dir: Value,
    pki: StandInApplePki,
}

type Step<T> = Result<T, String>;

async fn target(sb: &Sandbox, client: &Client, token: &str, data: &Path) -> Target {
    let settings = get_json(sb, client, token, "/api/v1/enrollment/settings").await;
    let pki = StandInApplePki::from_json(&std::fs::read(data.join("stand-in-pki.json")).unwrap())
        .unwrap();
    let dir = client.get(sb.url("/acme/directory")).send().await.unwrap().json().await.unwrap();
    let enroll_url = settings["enrollment_url"].as_str().unwrap().to_string();
    // The enrollment URL names the appliance's host; the test reaches it on localhost.
    let enroll_url = format!("{}{}", sb.url(""), url_path(&enroll_url));
    Target { http: client.clone(), enroll_url, dir, pki }
}

fn url_path(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.find('/').map_or("/", |i| &rest[i..])
}

impl Target {
    /// A signed request with a fresh nonce; a transport error is a kill.
    async fn post(
        &self,
        dev: &AcmeDevice,
        kid: Option<&str>,
        url: &str,
        payload: Option<Value>,
    ) -> Step<(StatusCode, Option<String>, String)> {
        let new_nonce = self.dir["newNonce"].as_str().unwrap();
        let r = self.http.head(new_nonce).send().await.map_err(|e| e.to_string())?;
        let nonce =
            r.headers().get("replay-nonce").ok_or("no nonce")?.to_str().unwrap().to_string();
        let jws = dev.key.sign(url, &nonce, kid, payload.as_ref());
        let r = self
            .http
            .post(url)
            .header("Content-Type", "application/jose+json")
            .body(jws.to_string())
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let (status, location) = (r.status(), r.headers().get("location").cloned());
        let location = location.map(|l| l.to_str().unwrap().to_string());
        Ok((status, location, r.text().await.map_err(|e| e.to_string())?))
    }

    /// The ClientIdentifier of the profile served for the device's MachineInfo.
    async fn profile_client_id(&self, dev: &AcmeDevice) -> Step<String> {
        let body = crate::enroll::signed(&self.pki, &dev.serial, &dev.udid);
        let r = self
            .http
            .post(&self.enroll_url)
            .header("Content-Type", "application/pkcs7-signature")
            .body(body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !r.status().is_success() {
            return Err(format!("profile: {}", r.status()));
        }
        let body = r.bytes().await.map_err(|e| e.to_string())?;
        Ok(crate::acme::client_id_in(&body))
    }

    /// One attempt at the device's identity, from wherever the device stands.
    async fn attempt(&self, dev: &mut AcmeDevice) -> Step<()> {
        let client_id = match dev.client_id.clone() {
            Some(id) => id,
            None => {
                let id = self.profile_client_id(dev).await?;
                dev.client_id = Some(id.clone());
                id
            }
        };
        let new_account = self.dir["newAccount"].as_str().unwrap();
        let body = json!({"termsOfServiceAgreed": true});
        let (s, kid, text) = self.post(dev, None, new_account, Some(body)).await?;
        // 201 made, 200 the account the key already has (it survived the kill).
        if !(s == StatusCode::CREATED || s == StatusCode::OK) {
            return Err(format!("newAccount {s}: {text}"));
        }
        let kid = kid.ok_or("no account URL")?;
        let ids = json!({"identifiers": [{"type": "permanent-identifier", "value": client_id}]});
        let new_order = self.dir["newOrder"].as_str().unwrap();
        let (s, _, text) = self.post(dev, Some(&kid), new_order, Some(ids)).await?;
        if s == StatusCode::FORBIDDEN && text.contains("rejectedIdentifier") {
            // Used for a certificate whose answer the kill took: a new profile, a new one.
            dev.client_id = None;
            return Err(format!("identifier refused: {text}"));
        }
        if s != StatusCode::CREATED {
            return Err(format!("newOrder {s}: {text}"));
        }
        let order: Value = serde_json::from_str(&text).unwrap();
        let authz_url = order["authorizations"][0].as_str().unwrap();
        let (s, _, text) = self.post(dev, Some(&kid), authz_url, None).await?;
        if s != StatusCode::OK {
            return Err(format!("authorization {s}: {text}"));
        }
        let authz: Value = serde_json::from_str(&text).unwrap();
        let challenge = &authz["challenges"][0];
        let token = challenge["token"].as_str().unwrap();
        let att = crate::acme::att_obj(&self.pki, &dev.se_key, &dev.serial, &dev.udid, token);
        let att = json!({"attObj": Base64UrlUnpadded::encode_string(&att)});
        let url = challenge["url"].as_str().unwrap();
        let (s, _, text) = self.post(dev, Some(&kid), url, Some(att)).await?;
        if s != StatusCode::OK || !text.contains("\"valid\"") {
            return Err(format!("challenge {s}: {text}"));
        }
        let csr = crate::acme::Device::csr(&dev.se_key);
        let finalize = order["finalize"].as_str().unwrap();
        let (s, _, text) = self.post(dev, Some(&kid), finalize, Some(json!({"csr": csr}))).await?;
        if s != StatusCode::OK {
            return Err(format!("finalize {s}: {text}"));
        }
        let done: Value = serde_json::from_str(&text).unwrap();
        let cert_url = done["certificate"].as_str().ok_or("no certificate URL")?;
        let (s, _, pem) = self.post(dev, Some(&kid), cert_url, None).await?;
        if s != StatusCode::OK {
            return Err(format!("certificate {s}: {pem}"));
        }
        let der = adebox::crypto::chain::pem_certificates(&pem).map_err(|e| e.to_string())?;
        dev.received.push(hex::encode(Sha256::digest(&der[0])));
        Ok(())
    }
}

/// Every device without a certificate tries once, all at once; returns the failures.
async fn round(t: &Arc<Target>, devices: &[Arc<Mutex<AcmeDevice>>]) -> Vec<String> {
    let mut tasks = Vec::new();
    for d in devices {
        let (t, d) = (t.clone(), d.clone());
        tasks.push(tokio::spawn(async move {
            let mut dev = d.lock().await;
            if !dev.received.is_empty() {
                return Ok(());
            }
            t.attempt(&mut dev).await.map_err(|e| format!("{}: {e}", dev.serial))
        }));
    }
    let mut failed = Vec::new();
    for task in tasks {
        if let Ok(Err(e)) = task.await {
            failed.push(e);
        }
    }
    failed
}

#[tokio::test]
async fn devices_recover_from_lost_acme_orders_by_ordering_again() {
    let (runs, mut rng, _root, data) = kills(0xac3e);
    let runs = runs.min(MAX_RUNS);
    let started = Instant::now();
    let mut sb = Sandbox::start(&data, DEVICES);
    let port = sb.port;
    let (client, token) = client_when_ready(&mut sb, &data, Duration::from_secs(60)).await;
    let serials = synced(&sb, &client, &token, &data, DEVICES).await;
    let devices: Vec<Arc<Mutex<AcmeDevice>>> = serials
        .iter()
        .take(ACME_DEVICES)
        .enumerate()
        .map(|(i, s)| {
            Arc::new(Mutex::new(AcmeDevice {
                serial: s.clone(),
                udid: format!("00008110-{:016X}", 0xACE0_0000_u64 + i as u64),
                key: AccountKey::p256(),
                se_key: new_device_key().unwrap(),
                client_id: None,
                received: Vec::new(),
            }))
        })
        .collect();

    let mut interrupted = 0;
    for run in 0..runs {
        let t = Arc::new(target(&sb, &client, &token, &data).await);
        let work = {
            let devices = devices.clone();
            tokio::spawn(async move { round(&t, &devices).await })
        };
        let at = Duration::from_millis(rng.below(1500));
        tokio::time::sleep(at).await;
        sb.kill();
        let abort = work.abort_handle();
        match tokio::time::timeout(Duration::from_secs(10), work).await {
            Ok(Ok(failed)) => interrupted += failed.len(),
            _ => abort.abort(),
        }
        eprintln!("ACME crash run {run}: killed after {at:?}");
        sb = Sandbox::start_on(&data, DEVICES, port);
        enrollable(&mut sb, &client, &data).await;
    }

    // After the last restart every device gets its certificate, retrying as it must.
    let t = Arc::new(target(&sb, &client, &token, &data).await);
    let mut failed = Vec::new();
    for _ in 0..3 {
        failed = round(&t, &devices).await;
        if failed.is_empty() {
            break;
        }
    }
    assert!(
        failed.is_empty(),
        "after {runs} kills devices did not recover: {failed:?}; the log ends:\n{}",
        log_tail(&data)
    );
    let mut recorded = BTreeMap::new();
    for d in &devices {
        let d = d.lock().await;
        assert!(!d.received.is_empty(), "{} has no certificate", d.serial);
        let path = format!("/api/v1/devices/{}/certificates", d.serial);
        let list = get_json(&sb, &client, &token, &path).await;
        let shas: Vec<String> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["sha256"].as_str().unwrap().to_string())
            .collect();
        for sha in &d.received {
            assert!(shas.contains(sha), "{}: a received certificate was lost", d.serial);
        }
        recorded.insert(d.serial.clone(), shas.len());
    }
    eprintln!(
        "{runs} kills in {:?}; {interrupted} attempts interrupted; certificates recorded: \
         {recorded:?}",
        started.elapsed()
    );
}
