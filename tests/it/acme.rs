//! ACME device-attest-01 over HTTPS against a daemon trusting a stand-in attestation root:
//! the full flow as a device runs it, the refusals (../shared/spec/enrollment.md §3), the
//! account's orders list and media type (RFC 8555 §6.2, §7.1.2.1), and a refused attestation
//! in the enrollment funnel, the refusal list and the device's timeline. The client here is
//! ours (`acme::signer`); `acme_client.rs` drives the same server with a crate nobody here
//! wrote.

use crate::common::{TestDaemon, client_trusting, options};
use adebox::crypto::jws::signer::AccountKey;
use adebox::daemon::{self, DeviceTrust, Mode};
use adebox::ids::{Serial, Udid};
use adebox::sim::apple_pki::{AttestedProperties, StandInApplePki, new_device_key};
use base64ct::{Base64UrlUnpadded, Encoding};
use rcgen::{KeyPair, PublicKeyData};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use time::Duration;

const SERIAL: &str = "F9FTESTACME1";
const UDID: &str = "00008110-001234567890ABCD";
const CLIENT_ID: &str = "client-identifier-1";

fn now() -> time::OffsetDateTime {
    adebox::clock::Clock::system().now()
}

pub(crate) async fn daemon_with_stand_in() -> (TestDaemon, std::sync::Arc<StandInApplePki>) {
    let dir = tempfile::tempdir().unwrap();
    let pki = std::sync::Arc::new(StandInApplePki::generate(now() - Duration::days(1)).unwrap());
    let mut opts = options(dir.path(), Mode::Sandbox);
    opts.device_trust = DeviceTrust::StandIn(pki.clone());
    let running = daemon::start(opts).await.expect("daemon starts");
    let port = running.https_addrs[0].port();
    let d = TestDaemon {
        running: Some(running),
        dir,
        base: format!("https://localhost:{port}"),
        sim: None,
        apns: None,
    };
    (d, pki)
}

/// A device: HTTPS client, account key, Secure Enclave key.
pub(crate) struct Device {
    http: Client,
    dir: Value,
    key: AccountKey,
    kid: Option<String>,
    pub(crate) se_key: KeyPair,
    nonce: Option<String>,
    pub(crate) client_id: String,
}

pub(crate) struct Resp {
    pub(crate) status: StatusCode,
    pub(crate) body: Value,
    pub(crate) text: String,
    pub(crate) location: Option<String>,
    pub(crate) content_type: String,
    /// Every `Link` header.
    pub(crate) links: Vec<String>,
}

impl Device {
    pub(crate) async fn new(d: &TestDaemon) -> Device {
        let http = client_trusting(&d.ca_pem());
        let resp = http.get(d.url("/acme/directory")).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert!(resp.headers().contains_key("replay-nonce"));
        let dir: Value = resp.json().await.unwrap();
        Device {
            http,
            dir,
            key: AccountKey::p256(),
            kid: None,
            se_key: new_device_key().unwrap(),
            nonce: None,
            client_id: CLIENT_ID.into(),
        }
    }

    async fn fresh_nonce(&self) -> String {
        let r = self.http.head(self.dir["newNonce"].as_str().unwrap()).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        r.headers()["replay-nonce"].to_str().unwrap().to_string()
    }

    pub(crate) async fn post(&mut self, url: &str, payload: Option<Value>) -> Resp {
        let nonce = match self.nonce.take() {
            Some(n) => n,
            None => self.fresh_nonce().await,
        };
        let jws = self.key.sign(url, &nonce, self.kid.as_deref(), payload.as_ref());
        self.post_raw(url, jws.to_string()).await
    }

    async fn post_raw(&mut self, url: &str, body: String) -> Resp {
        self.post_typed(url, body, Some("application/jose+json")).await
    }

    /// Posts `body` with `content_type` (none when None).
    async fn post_typed(&mut self, url: &str, body: String, content_type: Option<&str>) -> Resp {
        let mut req = self.http.post(url).body(body);
        if let Some(ct) = content_type {
            req = req.header("Content-Type", ct);
        }
        let r = req.send().await.unwrap();
        let h = r.headers().clone();
        self.nonce = Some(h["replay-nonce"].to_str().unwrap().to_string());
        let status = r.status();
        let text = r.text().await.unwrap();
        Resp {
            status,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
            text,
            location: h.get("location").map(|v| v.to_str().unwrap().to_string()),
            content_type: h
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default(),
            links: h.get_all("link").iter().map(|v| v.to_str().unwrap().to_string()).collect(),
        }
    }

    /// A new account, then a new order for this device's ClientIdentifier (unchecked).
    pub(crate) async fn try_order(&mut self) -> Resp {
        let url = self.dir["newAccount"].as_str().unwrap().to_string();
        let r = self.post(&url, Some(json!({"termsOfServiceAgreed": true}))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        self.kid = r.location;
        let url = self.dir["newOrder"].as_str().unwrap().to_string();
        let id =
            json!({"identifiers": [{"type": "permanent-identifier", "value": self.client_id}]});
        self.post(&url, Some(id)).await
    }

    /// Account, order, authorization; returns (order, authz url, token).
    pub(crate) async fn start(&mut self) -> (Value, String, String) {
        let r = self.try_order().await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        assert!(r.location.is_some());
        let authz_url = r.body["authorizations"][0].as_str().unwrap().to_string();
        let a = self.post(&authz_url, None).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        let token = a.body["challenges"][0]["token"].as_str().unwrap().to_string();
        (r.body, authz_url, token)
    }

    fn att_obj(&self, pki: &StandInApplePki, serial: &str, token: &str) -> String {
        self.att_obj_of(pki, serial, UDID, token)
    }

    /// An attestation of this device's key for `serial` / `udid`, fresh for `token`.
    pub(crate) fn att_obj_of(
        &self,
        pki: &StandInApplePki,
        serial: &str,
        udid: &str,
        token: &str,
    ) -> String {
        Base64UrlUnpadded::encode_string(&att_obj(pki, &self.se_key, serial, udid, token))
    }

    /// Answers the challenge of `authz_url`.
    pub(crate) async fn attest(&mut self, authz_url: &str, att: String) -> Resp {
        let a = self.post(authz_url, None).await;
        let ch = a.body["challenges"][0]["url"].as_str().unwrap().to_string();
        self.post(&ch, Some(json!({"attObj": att}))).await
    }

    pub(crate) fn csr(key: &KeyPair) -> String {
        let params = rcgen::CertificateParams::new(vec![]).unwrap();
        Base64UrlUnpadded::encode_string(params.serialize_request(key).unwrap().der())
    }
}

/// The CBOR attestation object a device makes for `se_key` with `serial` / `udid`, fresh for
/// `token`, from the stand-in attestation CA.
pub(crate) fn att_obj(
    pki: &StandInApplePki,
    se_key: &KeyPair,
    serial: &str,
    udid: &str,
    token: &str,
) -> Vec<u8> {
    let props = AttestedProperties {
        serial: Some(serial.into()),
        udid: Some(udid.into()),
        freshness: Some(Sha256::digest(token.as_bytes()).to_vec()),
        ..Default::default()
    };
    let x5c = pki.issue_attestation(&props, &se_key.subject_public_key_info(), now()).unwrap();
    adebox::apple::attestation::encode_att_obj(&x5c)
}

async fn expect(d: &TestDaemon) {
    let until = now() + Duration::minutes(30);
    let (serial, udid) = (Serial::parse(SERIAL).unwrap(), Udid::parse(UDID).unwrap());
    d.running().services.acme.expect_device(CLIENT_ID, &serial, &udid, until).await.unwrap();
}

pub(crate) fn assert_problem(r: &Resp, status: StatusCode, kind: &str) {
    assert_eq!(r.status, status, "{}", r.text);
    assert_eq!(r.content_type, "application/problem+json");
    assert_eq!(r.body["type"], format!("urn:ietf:params:acme:error:{kind}"), "{}", r.text);
}

/// A refused attestation is answered as RFC 8555 §7.5.1 describes: 200 with the challenge
/// object, `invalid`, its `error` the problem (whose detail mentions `words`).
pub(crate) fn assert_refused(r: &Resp, words: &str) {
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.content_type, "application/json");
    assert_eq!(r.body["type"], "device-attest-01", "{}", r.text);
    assert_eq!(r.body["status"], "invalid", "{}", r.text);
    let error = &r.body["error"];
    assert_eq!(error["type"], "urn:ietf:params:acme:error:badAttestationStatement", "{}", r.text);
    assert!(error["detail"].as_str().unwrap().contains(words), "{}", r.text);
}

#[tokio::test]
async fn a_device_gets_a_client_certificate_over_acme() {
    let (d, pki) = daemon_with_stand_in().await;
    expect(&d).await;
    let mut dev = Device::new(&d).await;
    let (order, authz_url, token) = dev.start().await;
    let att = dev.att_obj(&pki, SERIAL, &token);
    let r = dev.attest(&authz_url, att).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], "valid");

    let finalize = order["finalize"].as_str().unwrap().to_string();
    let csr = Device::csr(&dev.se_key);
    let r = dev.post(&finalize, Some(json!({"csr": csr}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], "valid");
    let order_url = r.location.unwrap();
    let r = dev.post(&order_url, None).await;
    let cert_url = r.body["certificate"].as_str().unwrap().to_string();
    let r = dev.post(&cert_url, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.content_type, "application/pem-certificate-chain");

    let chain = adebox::crypto::chain::pem_certificates(&r.text).unwrap();
    let ca =
        adebox::crypto::chain::TrustAnchors::from_pem(std::str::from_utf8(&d.ca_pem()).unwrap())
            .unwrap();
    adebox::crypto::chain::verify_chain(&chain[0], &chain[1..], &ca, None).unwrap();
    let (_, cert) = x509_parser::parse_x509_certificate(&chain[0]).unwrap();
    assert!(cert.extended_key_usage().unwrap().unwrap().value.client_auth);
    let san = cert.subject_alternative_name().unwrap().unwrap();
    assert!(!san.critical);
    assert!(matches!(
        &san.value.general_names[0],
        x509_parser::extensions::GeneralName::OtherName(oid, _) if oid.to_id_string() == "1.3.6.1.5.5.7.8.3"
    ));
    let sha = hex::encode(Sha256::digest(&chain[0]));
    let to = d.running().services.acme.device_for_certificate(&sha).await.unwrap().unwrap();
    assert_eq!(to.serial, SERIAL);
}

#[tokio::test]
async fn refusals_carry_the_right_problem_types() {
    let (d, pki) = daemon_with_stand_in().await;
    expect(&d).await;

    // An attestation from a root the daemon does not trust.
    let other = StandInApplePki::generate(now() - Duration::days(1)).unwrap();
    let mut dev = Device::new(&d).await;
    let (_, authz_url, token) = dev.start().await;
    let r = dev.attest(&authz_url, dev.att_obj(&other, SERIAL, &token)).await;
    assert_refused(&r, "trusted");
    let a = dev.post(&authz_url, None).await;
    assert_eq!(a.body["status"], "invalid");
    assert_eq!(a.body["challenges"][0]["status"], "invalid");

    // A stale token (the attestation was made for another challenge). A ClientIdentifier is
    // bound to the first account that orders with it, so this device gets its own.
    let until = now() + Duration::minutes(30);
    let (serial, udid) = (Serial::parse(SERIAL).unwrap(), Udid::parse(UDID).unwrap());
    d.running()
        .services
        .acme
        .expect_device("client-identifier-2", &serial, &udid, until)
        .await
        .unwrap();
    let mut dev = Device::new(&d).await;
    dev.client_id = "client-identifier-2".into();
    let (_, authz_url, _) = dev.start().await;
    let r = dev.attest(&authz_url, dev.att_obj(&pki, SERIAL, "stale-token")).await;
    assert_refused(&r, "freshness");
}

#[tokio::test]
async fn refuses_another_serial_a_key_swap_and_a_reused_nonce() {
    let (d, pki) = daemon_with_stand_in().await;
    expect(&d).await;
    let mut dev = Device::new(&d).await;
    let (order, authz_url, token) = dev.start().await;

    // Attestation of another serial.
    let r = dev.attest(&authz_url, dev.att_obj(&pki, "ANOTHERSERIAL", &token)).await;
    assert_refused(&r, "ANOTHERSERIAL");
    let a = dev.post(&authz_url, None).await;
    assert_eq!(a.body["status"], "invalid");
    let finalize = order["finalize"].as_str().unwrap().to_string();
    let r = dev.post(&finalize, Some(json!({"csr": Device::csr(&dev.se_key)}))).await;
    assert_problem(&r, StatusCode::FORBIDDEN, "orderNotReady");

    // The same account orders again, attests correctly, and swaps the key in the CSR.
    let url = dev.dir["newOrder"].as_str().unwrap().to_string();
    let r = dev
        .post(
            &url,
            Some(json!({"identifiers": [{"type": "permanent-identifier", "value": CLIENT_ID}]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let authz_url = r.body["authorizations"][0].as_str().unwrap().to_string();
    let finalize = r.body["finalize"].as_str().unwrap().to_string();
    let a = dev.post(&authz_url, None).await;
    let token = a.body["challenges"][0]["token"].as_str().unwrap().to_string();
    let r = dev.attest(&authz_url, dev.att_obj(&pki, SERIAL, &token)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r =
        dev.post(&finalize, Some(json!({"csr": Device::csr(&new_device_key().unwrap())}))).await;
    assert_problem(&r, StatusCode::BAD_REQUEST, "badCSR");

    // A nonce used twice.
    let nonce = dev.fresh_nonce().await;
    let jws = dev.key.sign(&authz_url, &nonce, dev.kid.as_deref(), None);
    let r = dev.post_raw(&authz_url, jws.to_string()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = dev.post_raw(&authz_url, jws.to_string()).await;
    assert_problem(&r, StatusCode::BAD_REQUEST, "badNonce");

    // A request signed for another URL.
    let nonce = dev.fresh_nonce().await;
    let jws = dev.key.sign(&finalize, &nonce, dev.kid.as_deref(), None);
    let r = dev.post_raw(&authz_url, jws.to_string()).await;
    assert_problem(&r, StatusCode::FORBIDDEN, "unauthorized");
}

#[tokio::test]
async fn production_refuses_a_stand_in_attestation_root() {
    let dir = tempfile::tempdir().unwrap();
    let pki = std::sync::Arc::new(StandInApplePki::generate(now()).unwrap());
    let mut opts = options(dir.path(), Mode::Production);
    opts.device_trust = DeviceTrust::StandIn(pki);
    let err = daemon::start(opts).await.err().expect("refused");
    assert!(matches!(err, daemon::DaemonError::StandInRoots), "{err}");
}

#[tokio::test]
async fn a_body_over_the_limit_is_answered_as_an_acme_problem() {
    let (d, _pki) = daemon_with_stand_in().await;
    let mut dev = Device::new(&d).await;
    let url = dev.dir["newAccount"].as_str().unwrap().to_string();
    let r = dev.post_raw(&url, "x".repeat(200 * 1024)).await;
    assert_problem(&r, StatusCode::PAYLOAD_TOO_LARGE, "malformed");
    assert!(r.body["detail"].as_str().unwrap().contains("limit"), "{}", r.text);
    // A body within the limit that is no JWS is malformed too, as before.
    let r = dev.post_raw(&url, "{}".into()).await;
    assert_problem(&r, StatusCode::BAD_REQUEST, "malformed");
}

#[tokio::test]
async fn a_request_not_sent_as_jose_json_gets_415() {
    let (d, _pki) = daemon_with_stand_in().await;
    let mut dev = Device::new(&d).await;
    let url = dev.dir["newAccount"].as_str().unwrap().to_string();
    for ct in [Some("application/json"), Some("text/plain; charset=utf-8"), None] {
        let nonce = dev.fresh_nonce().await;
        let jws = dev.key.sign(&url, &nonce, None, Some(&json!({})));
        let r = dev.post_typed(&url, jws.to_string(), ct).await;
        assert_problem(&r, StatusCode::UNSUPPORTED_MEDIA_TYPE, "malformed");
        assert!(r.body["detail"].as_str().unwrap().contains("application/jose+json"), "{}", r.text);
        assert_eq!(r.body["status"], 415);
    }
    // Nothing was created: sent properly, the request makes the account (201, not 200).
    let r = dev.post(&url, Some(json!({}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
}

#[tokio::test]
async fn the_account_lists_its_orders_a_page_at_a_time() {
    let (d, _pki) = daemon_with_stand_in().await;
    expect(&d).await;
    let mut dev = Device::new(&d).await;
    let first = dev.try_order().await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let mut made = vec![first.location.unwrap()];
    let url = dev.dir["newOrder"].as_str().unwrap().to_string();
    let id = json!({"identifiers": [{"type": "permanent-identifier", "value": CLIENT_ID}]});
    while made.len() < 51 {
        let r = dev.post(&url, Some(id.clone())).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        made.push(r.location.unwrap());
    }
    // The account object names its orders list (RFC 8555 §7.1.2).
    let kid = dev.kid.clone().unwrap();
    let account = dev.post(&kid, None).await;
    assert_eq!(account.status, StatusCode::OK, "{}", account.text);
    assert_eq!(account.body["status"], "valid");
    let mut next = Some(account.body["orders"].as_str().unwrap().to_string());
    let (mut listed, mut pages) = (Vec::new(), 0);
    while let Some(page) = next.take() {
        let r = dev.post(&page, None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        pages += 1;
        listed.extend(r.body["orders"].as_array().unwrap().iter().map(|u| u.to_string()));
        next = r.links.iter().find_map(|l| {
            l.strip_suffix(">;rel=\"next\"").and_then(|l| l.strip_prefix('<')).map(String::from)
        });
    }
    assert_eq!(pages, 2);
    listed.sort();
    made.sort();
    let made: Vec<String> = made.iter().map(|u| json!(u).to_string()).collect();
    assert_eq!(listed, made);
}

/// The ClientIdentifier of the profile the appliance serves `serial` / `udid`.
async fn client_id_from_profile(
    d: &TestDaemon,
    pki: &StandInApplePki,
    serial: &str,
    udid: &str,
) -> String {
    let (s, _, body) = crate::enroll::post(d, crate::enroll::signed(pki, serial, udid)).await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    client_id_in(&body)
}

/// The ClientIdentifier of the ACME payload in a signed enrollment profile.
pub(crate) fn client_id_in(body: &[u8]) -> String {
    let v = adebox::crypto::cms::verify_signed(body).unwrap();
    let plist = plist::Value::from_reader(std::io::Cursor::new(&v.content)).unwrap();
    let payloads = plist.as_dictionary().unwrap()["PayloadContent"].as_array().unwrap().clone();
    let acme = payloads
        .iter()
        .map(|p| p.as_dictionary().unwrap())
        .find(|p| p["PayloadType"].as_string() == Some("com.apple.security.acme"))
        .expect("an ACME payload");
    acme["ClientIdentifier"].as_string().unwrap().to_string()
}

#[tokio::test]
async fn a_refused_attestation_and_an_issue_show_in_the_funnel_refusals_and_timeline() {
    let pki = std::sync::Arc::new(StandInApplePki::generate(now() - Duration::days(1)).unwrap());
    let (d, page, _, serials) = crate::enroll::fleet_with_default_profile(&pki, 1).await;
    let (serial, udid) = (serials[0].clone(), "00008101-000A1B2C3D4E5F61".to_string());
    let step = |f: &Value, name: &str| {
        f["steps"].as_array().unwrap().iter().find(|x| x["step"] == name).unwrap()["last_24h"]
            .as_u64()
            .unwrap()
    };
    let (_, before) = page.get("/api/v1/enrollment/funnel").await;

    // The device attests another serial: refused.
    let mut dev = Device::new(&d).await;
    dev.client_id = client_id_from_profile(&d, &pki, &serial, &udid).await;
    let (_, authz_url, token) = dev.start().await;
    let r = dev.attest(&authz_url, dev.att_obj_of(&pki, "NOTTHISONE", &udid, &token)).await;
    assert_refused(&r, "NOTTHISONE");
    let detail = r.body["error"]["detail"].as_str().unwrap().to_string();

    let (_, r) = page.get("/api/v1/enrollment/refusals?limit=10").await;
    let refusal = r["items"][0].clone();
    assert_eq!(refusal["step"], "refused", "{r}");
    assert_eq!(refusal["reason"], "acme_attestation_refused", "{r}");
    assert_eq!(refusal["serial"], serial.as_str());
    assert_eq!(refusal["udid"], udid.as_str());
    assert!(refusal["message"].as_str().unwrap().contains(&detail), "{refusal}");
    let (_, after) = page.get("/api/v1/enrollment/funnel").await;
    assert_eq!(step(&after, "refused"), step(&before, "refused") + 1, "{after}");
    let (_, device) = page.get(&format!("/api/v1/devices/{serial}")).await;
    let timeline = device.to_string();
    assert!(timeline.contains("enrollment_refused") && timeline.contains("NOTTHISONE"), "{device}");

    // The device enrolls again and attests itself: the identity is the funnel's last step.
    let mut dev = Device::new(&d).await;
    dev.client_id = client_id_from_profile(&d, &pki, &serial, &udid).await;
    let (order, authz_url, token) = dev.start().await;
    let r = dev.attest(&authz_url, dev.att_obj_of(&pki, &serial, &udid, &token)).await;
    assert_eq!(r.body["status"], "valid", "{}", r.text);
    let finalize = order["finalize"].as_str().unwrap().to_string();
    let r = dev.post(&finalize, Some(json!({"csr": Device::csr(&dev.se_key)}))).await;
    assert_eq!(r.body["status"], "valid", "{}", r.text);
    let (_, f) = page.get("/api/v1/enrollment/funnel").await;
    assert_eq!(step(&f, "certificate_issued"), step(&before, "certificate_issued") + 1, "{f}");
    let (_, device) = page.get(&format!("/api/v1/devices/{serial}")).await;
    assert!(device.to_string().contains("enrollment_certificate_issued"), "{device}");
}

/// A request to `url` signed by `key` (for the account `kid`, or with its `jwk`), with a fresh
/// nonce, sent from `http`.
pub(crate) async fn post_signed(
    http: &Client,
    d: &TestDaemon,
    key: &AccountKey,
    kid: Option<&str>,
    url: &str,
    payload: Option<&Value>,
) -> reqwest::Response {
    let r = http.head(d.url("/acme/new-nonce")).send().await.unwrap();
    let nonce = r.headers()["replay-nonce"].to_str().unwrap().to_string();
    let jws = key.sign(url, &nonce, kid, payload);
    http.post(url)
        .header("Content-Type", "application/jose+json")
        .body(jws.to_string())
        .send()
        .await
        .unwrap()
}

/// A new-account request signed by a fresh key, sent from `client`.
async fn flood_new_account(
    client: &Client,
    d: &TestDaemon,
    url: &str,
) -> (StatusCode, Value, Option<String>) {
    let r = post_signed(client, d, &AccountKey::p256(), None, url, Some(&json!({}))).await;
    let retry = r.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null), retry)
}

#[tokio::test]
async fn a_new_account_flood_meets_the_per_address_limit_and_the_cap() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(dir.path(), Mode::Sandbox);
    opts.acme.per_client_per_minute = 5;
    opts.acme.max_unfinished = 12;
    let d = TestDaemon::start_with(dir, opts).await;
    let url = d.url("/acme/new-account");
    adebox::outbound::ensure_crypto_provider();
    let ca = reqwest::Certificate::from_pem(&d.ca_pem()).unwrap();
    // Six clients, each from its own loopback address, each sending 8 new accounts.
    let mut tally = std::collections::BTreeMap::<u16, usize>::new();
    let mut full = None;
    for i in 1..=6u8 {
        let client = Client::builder()
            .tls_certs_only([ca.clone()])
            .local_address(std::net::IpAddr::from([127, 0, 0, i]))
            .build()
            .unwrap();
        let mut limited = 0;
        for _ in 0..8 {
            let (status, body, retry) = flood_new_account(&client, &d, &url).await;
            *tally.entry(status.as_u16()).or_default() += 1;
            match status {
                StatusCode::CREATED => {}
                StatusCode::TOO_MANY_REQUESTS => {
                    limited += 1;
                    assert_eq!(body["type"], "urn:ietf:params:acme:error:rateLimited", "{body}");
                    let secs: u64 = retry.expect("Retry-After").parse().unwrap();
                    assert!((1..=60).contains(&secs), "{secs}");
                }
                StatusCode::SERVICE_UNAVAILABLE => {
                    assert_eq!(body["type"], "urn:ietf:params:acme:error:rateLimited", "{body}");
                    assert_eq!(retry.as_deref(), Some("3600"));
                    full = Some(body["detail"].as_str().unwrap().to_string());
                }
                other => panic!("unexpected {other}: {body}"),
            }
        }
        assert_eq!(limited, 3, "each address gets 5 a minute");
    }
    // 30 got past the per-address limit; the store took 12 of them.
    assert_eq!(tally.get(&201), Some(&12), "{tally:?}");
    assert_eq!(tally.get(&503), Some(&18), "{tally:?}");
    assert!(full.unwrap().contains("accounts without a certificate"));
    let stored = d.running().services.acme.unfinished_accounts().await.unwrap();
    assert_eq!(stored, 12);
}
