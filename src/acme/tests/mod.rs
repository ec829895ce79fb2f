//! The ACME service end to end in-process: a simulated device with a stand-in attestation.

mod account;
mod finalize_fallback;
mod in_memory;
mod limits;
mod stored_bytes;

use super::*;
use crate::config::Config;
use crate::crypto::jws::signer::AccountKey;
use crate::sim::apple_pki::{AttestedProperties, StandInApplePki, new_device_key};
use rcgen::{KeyPair, PublicKeyData};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use time::macros::datetime;

pub(super) const SERIAL: &str = "C02TEST0001";
pub(super) const UDID: &str = "00008030-000A1B2C3D4E5F60";

/// The test device's identifiers as types.
pub(super) fn ids() -> (Serial, Udid) {
    (Serial::parse(SERIAL).unwrap(), Udid::parse(UDID).unwrap())
}
pub(super) const CLIENT_ID: &str = "cid-0123456789";

pub(super) struct World {
    _dir: tempfile::TempDir,
    pub(super) acme: AcmeService,
    pub(super) pki: StandInApplePki,
    ca: Arc<Authority>,
    pub(super) now: OffsetDateTime,
}

pub(super) async fn world() -> World {
    world_with(AcmeOptions::default()).await
}

pub(super) async fn world_with(options: AcmeOptions) -> World {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), &[crate::audit::TABLES, super::TABLES]).unwrap();
    let now = datetime!(2026-11-24 12:00 UTC);
    let pki = StandInApplePki::generate(now).unwrap();
    let ca = Arc::new(Authority::generate("test CA", now, Duration::days(3650)).unwrap());
    let config = Config::for_sandbox(dir.path().into(), "127.0.0.1:8443".parse().unwrap());
    let acme = AcmeService::new(
        store,
        Clock::manual(now),
        Urls::new(&config),
        pki.attestation_anchors(),
        ca.clone(),
        options,
    );
    let (serial, udid) = ids();
    acme.expect_device(CLIENT_ID, &serial, &udid, now + Duration::minutes(30)).await.unwrap();
    World { _dir: dir, acme, pki, ca, now }
}

/// A device talking ACME: its account key and, once registered, its account URL.
pub(super) struct Device {
    pub(super) key: AccountKey,
    pub(super) kid: Option<String>,
    pub(super) se_key: KeyPair,
}

impl Device {
    pub(super) fn new() -> Device {
        Device { key: AccountKey::p256(), kid: None, se_key: new_device_key().unwrap() }
    }

    pub(super) async fn post(
        &self,
        acme: &AcmeService,
        endpoint: Endpoint,
        payload: Option<Value>,
    ) -> Result<Reply, AcmeError> {
        let nonce = acme.new_nonce();
        let jws =
            self.key.sign(&acme.url_of(&endpoint), &nonce, self.kid.as_deref(), payload.as_ref());
        acme.handle(endpoint, jws.to_string().into_bytes(), None).await
    }

    pub(super) async fn register(&mut self, acme: &AcmeService) {
        let r = self
            .post(acme, Endpoint::NewAccount, Some(json!({"termsOfServiceAgreed": true})))
            .await
            .unwrap();
        assert_eq!(r.status, 201);
        self.kid = r.location;
    }

    /// Account → order → authz; returns (order id, authz id, token).
    pub(super) async fn order(&mut self, acme: &AcmeService) -> (String, String, String) {
        if self.kid.is_none() {
            self.register(acme).await;
        }
        let r = self
            .post(
                acme,
                Endpoint::NewOrder,
                Some(
                    json!({"identifiers": [{"type": "permanent-identifier", "value": CLIENT_ID}]}),
                ),
            )
            .await
            .unwrap();
        assert_eq!(r.status, 201);
        let order_id = r.location.unwrap().rsplit('/').next().unwrap().to_string();
        let Body::Json(order) = r.body else { panic!() };
        assert_eq!(order["status"], "pending");
        let authz_url = order["authorizations"][0].as_str().unwrap();
        let authz_id = authz_url.rsplit('/').next().unwrap().to_string();
        let r = self.post(acme, Endpoint::Authz(authz_id.clone()), None).await.unwrap();
        let Body::Json(authz) = r.body else { panic!() };
        assert_eq!(authz["challenges"][0]["type"], "device-attest-01");
        let token = authz["challenges"][0]["token"].as_str().unwrap().to_string();
        (order_id, authz_id, token)
    }

    pub(super) fn att_obj(
        &self,
        pki: &StandInApplePki,
        props: AttestedProperties,
        now: OffsetDateTime,
    ) -> String {
        let x5c =
            pki.issue_attestation(&props, &self.se_key.subject_public_key_info(), now).unwrap();
        Base64UrlUnpadded::encode_string(&crate::apple::attestation::encode_att_obj(&x5c))
    }

    pub(super) fn csr(&self, key: &KeyPair) -> String {
        let params = rcgen::CertificateParams::new(vec![]).unwrap();
        Base64UrlUnpadded::encode_string(params.serialize_request(key).unwrap().der())
    }
}

use base64ct::{Base64UrlUnpadded, Encoding};

pub(super) fn props(token: &str) -> AttestedProperties {
    AttestedProperties {
        serial: Some(SERIAL.into()),
        udid: Some(UDID.into()),
        os_version: Some("18.1".into()),
        freshness: Some(Sha256::digest(token.as_bytes()).to_vec()),
        ..Default::default()
    }
}

pub(super) async fn status_of(acme: &AcmeService, d: &Device, ep: Endpoint) -> Value {
    let Body::Json(v) = d.post(acme, ep, None).await.unwrap().body else { panic!() };
    v
}

#[tokio::test]
async fn issues_a_client_certificate_for_the_attested_key() {
    let w = world().await;
    let mut d = Device::new();
    let (order_id, authz_id, token) = d.order(&w.acme).await;
    let att = d.att_obj(&w.pki, props(&token), w.now);
    let r = d
        .post(&w.acme, Endpoint::Challenge(authz_id.clone()), Some(json!({"attObj": att})))
        .await
        .unwrap();
    let Body::Json(ch) = &r.body else { panic!() };
    assert_eq!(ch["status"], "valid");
    assert!(r.link_up.unwrap().ends_with(&format!("/acme/authz/{authz_id}")));
    assert_eq!(status_of(&w.acme, &d, Endpoint::Order(order_id.clone())).await["status"], "ready");

    let csr = d.csr(&d.se_key);
    let r = d
        .post(&w.acme, Endpoint::Finalize(order_id.clone()), Some(json!({"csr": csr})))
        .await
        .unwrap();
    let Body::Json(order) = r.body else { panic!() };
    assert_eq!(order["status"], "valid");
    let cert_id = order["certificate"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
    let r = d.post(&w.acme, Endpoint::Cert(cert_id), None).await.unwrap();
    let Body::PemChain(pem) = r.body else { panic!() };
    let chain = crate::crypto::chain::pem_certificates(&pem).unwrap();
    assert_eq!(chain.len(), 2);
    assert_eq!(chain[1], w.ca.cert_der());

    let (_, cert) = x509_parser::parse_x509_certificate(&chain[0]).unwrap();
    let (_, ca) = x509_parser::parse_x509_certificate(w.ca.cert_der()).unwrap();
    cert.verify_signature(Some(ca.public_key())).unwrap();
    assert!(cert.extended_key_usage().unwrap().unwrap().value.client_auth);
    assert_eq!(cert.public_key().raw, d.se_key.subject_public_key_info().as_slice());
    let cn = cert.subject().iter_common_name().next().unwrap().as_str().unwrap().to_string();
    assert_eq!(cn, UDID);
    let san = cert.subject_alternative_name().unwrap().unwrap();
    assert!(!san.critical);
    let x509_parser::extensions::GeneralName::OtherName(oid, value) = &san.value.general_names[0]
    else {
        panic!("expected an otherName")
    };
    assert_eq!(oid.to_id_string(), "1.3.6.1.5.5.7.8.3");
    assert!(value.windows(SERIAL.len()).any(|w| w == SERIAL.as_bytes()));
    assert!((cert.validity().not_after.timestamp() - w.now.unix_timestamp()) >= 364 * 86400);

    let sha = hex::encode(Sha256::digest(&chain[0]));
    let to = w.acme.device_for_certificate(&sha).await.unwrap().unwrap();
    assert_eq!((to.serial.as_str(), to.udid.as_str()), (SERIAL, UDID));

    // The ClientIdentifier is used up.
    let mut again = Device::new();
    again.register(&w.acme).await;
    let err = again
        .post(
            &w.acme,
            Endpoint::NewOrder,
            Some(json!({"identifiers": [{"type": "permanent-identifier", "value": CLIENT_ID}]})),
        )
        .await
        .unwrap_err();
    assert_eq!(err.problem_type(), "rejectedIdentifier");
}

/// Answers a fresh order's challenge with `att`, which must be refused: the challenge POST
/// answers the challenge object, invalid with its error (RFC 8555 §7.5.1), and the
/// authorization and order are invalid too. Returns the recorded problem and the ids.
pub(super) async fn refused_attestation(
    w: &World,
    d: &mut Device,
    att: String,
) -> (Problem, String, String) {
    let (order_id, authz_id, _) = d.order(&w.acme).await;
    let problem = refuse(w, d, &authz_id, att).await;
    let authz = status_of(&w.acme, d, Endpoint::Authz(authz_id.clone())).await;
    assert_eq!(authz["status"], "invalid");
    assert_eq!(authz["challenges"][0]["status"], "invalid");
    assert_eq!(authz["challenges"][0]["error"]["detail"], problem.detail.as_str());
    let order = status_of(&w.acme, d, Endpoint::Order(order_id.clone())).await;
    assert_eq!(order["status"], "invalid");
    assert_eq!(order["error"]["type"], problem.kind.as_str());
    (problem, order_id, authz_id)
}

/// Posts `att` to the challenge of `authz_id`, expecting it refused; returns the challenge's
/// error.
pub(super) async fn refuse(w: &World, d: &Device, authz_id: &str, att: String) -> Problem {
    let r = d
        .post(&w.acme, Endpoint::Challenge(authz_id.into()), Some(json!({"attObj": att})))
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    assert!(r.link_up.unwrap().ends_with(&format!("/acme/authz/{authz_id}")));
    let Body::Json(ch) = r.body else { panic!("a challenge object") };
    assert_eq!(ch["status"], "invalid", "{ch}");
    let problem: Problem = serde_json::from_value(ch["error"].clone()).unwrap();
    assert_eq!(problem.kind, format!("{}badAttestationStatement", error::ERROR_NS));
    problem
}

#[tokio::test]
async fn refuses_an_attested_udid_that_is_not_a_udid() {
    for bad in ["A".repeat(3_000), format!("\u{202E}{UDID}")] {
        let w = world().await;
        let mut d = Device::new();
        let (_, authz_id, token) = d.order(&w.acme).await;
        let mut p = props(&token);
        p.udid = Some(bad.clone());
        let att = d.att_obj(&w.pki, p, w.now);
        let problem = refuse(&w, &d, &authz_id, att).await;
        assert!(problem.detail.contains("the attestation's UDID is refused"), "{}", problem.detail);
        assert!(problem.detail.len() < 300, "the value is not echoed: {}", problem.detail);
        assert!(!problem.detail.contains('\u{202E}'), "{}", problem.detail);
    }
}

#[tokio::test]
async fn refuses_an_attestation_of_another_serial() {
    let w = world().await;
    let mut d = Device::new();
    let (_, authz_id, token) = d.order(&w.acme).await;
    let mut p = props(&token);
    p.serial = Some("OTHERSERIAL".into());
    let att = d.att_obj(&w.pki, p, w.now);
    let problem = refuse(&w, &d, &authz_id, att).await;
    assert!(problem.detail.contains("OTHERSERIAL"), "{problem:?}");
    assert_eq!(problem.subproblems[0].kind, format!("{}rejectedIdentifier", error::ERROR_NS));
    let authz = status_of(&w.acme, &d, Endpoint::Authz(authz_id)).await;
    assert_eq!(authz["status"], "invalid");
    assert_eq!(authz["challenges"][0]["status"], "invalid");
}

#[tokio::test]
async fn a_refused_device_gets_no_certificate() {
    let w = world().await;
    let mut d = Device::new();
    let att = d.att_obj(&w.pki, props("not-this-challenge"), w.now);
    let (_, order_id, _) = refused_attestation(&w, &mut d, att).await;
    let csr = d.csr(&d.se_key);
    let err =
        d.post(&w.acme, Endpoint::Finalize(order_id), Some(json!({"csr": csr}))).await.unwrap_err();
    assert_eq!(err.problem_type(), "orderNotReady");
    assert!(err.to_string().contains("invalid"), "{err}");
}

#[tokio::test]
async fn refuses_an_attestation_from_an_untrusted_root() {
    let w = world().await;
    let other = StandInApplePki::generate(w.now).unwrap();
    let mut d = Device::new();
    // The token must be right, so only the root differs: order first, then attest.
    let (_, authz_id, token) = d.order(&w.acme).await;
    let att = d.att_obj(&other, props(&token), w.now);
    let problem = refuse(&w, &d, &authz_id, att).await;
    assert!(problem.detail.contains("trusted"), "{problem:?}");
}

#[tokio::test]
async fn refuses_an_attestation_made_for_another_token() {
    let w = world().await;
    let mut d = Device::new();
    let att = d.att_obj(&w.pki, props("an-older-token"), w.now);
    let (problem, _, _) = refused_attestation(&w, &mut d, att).await;
    assert!(problem.detail.contains("freshness"), "{problem:?}");
}

#[tokio::test]
async fn a_reused_attestation_fails_the_next_challenge() {
    let w = world().await;
    let mut d = Device::new();
    let (_, authz_id, token) = d.order(&w.acme).await;
    let att = d.att_obj(&w.pki, props(&token), w.now);
    d.post(&w.acme, Endpoint::Challenge(authz_id), Some(json!({"attObj": att.clone()})))
        .await
        .unwrap();
    // A new order has a new token; the old attestation's freshness no longer matches.
    let (problem, _, _) = refused_attestation(&w, &mut d, att).await;
    assert!(problem.detail.contains("freshness"), "{problem:?}");
}

#[tokio::test]
async fn refuses_a_csr_for_another_key() {
    let w = world().await;
    let mut d = Device::new();
    let (order_id, authz_id, token) = d.order(&w.acme).await;
    let att = d.att_obj(&w.pki, props(&token), w.now);
    d.post(&w.acme, Endpoint::Challenge(authz_id), Some(json!({"attObj": att}))).await.unwrap();
    let swapped = new_device_key().unwrap();
    let csr = d.csr(&swapped);
    let err = d
        .post(&w.acme, Endpoint::Finalize(order_id.clone()), Some(json!({"csr": csr})))
        .await
        .unwrap_err();
    assert_eq!(err.problem_type(), "badCSR");
    let err = d
        .post(&w.acme, Endpoint::Finalize(order_id), Some(json!({"csr": "AAAA"})))
        .await
        .unwrap_err();
    assert_eq!(err.problem_type(), "badCSR");
}

#[tokio::test]
async fn refuses_a_reused_nonce() {
    let w = world().await;
    let d = Device::new();
    let nonce = w.acme.new_nonce();
    let url = w.acme.url_of(&Endpoint::NewAccount);
    let jws = d.key.sign(&url, &nonce, None, Some(&json!({})));
    w.acme.handle(Endpoint::NewAccount, jws.to_string().into_bytes(), None).await.unwrap();
    let jws = d.key.sign(&url, &nonce, None, Some(&json!({})));
    let err =
        w.acme.handle(Endpoint::NewAccount, jws.to_string().into_bytes(), None).await.unwrap_err();
    assert_eq!(err.problem_type(), "badNonce");
}

#[tokio::test]
async fn an_existing_key_gets_its_account_back() {
    let w = world().await;
    let mut d = Device::new();
    d.register(&w.acme).await;
    let r = d.post(&w.acme, Endpoint::NewAccount, Some(json!({}))).await;
    // With a kid the request is malformed; with the jwk it returns the same account.
    assert_eq!(r.unwrap_err().problem_type(), "malformed");
    let kid = d.kid.take();
    let r = d.post(&w.acme, Endpoint::NewAccount, Some(json!({}))).await.unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.location, kid);
}

#[tokio::test]
async fn refuses_an_unknown_account_and_identifier() {
    let w = world().await;
    let mut d = Device::new();
    d.kid = Some(w.acme.url_of(&Endpoint::Account("nobody".into())));
    let err = d.post(&w.acme, Endpoint::NewOrder, Some(json!({}))).await.unwrap_err();
    assert_eq!(err.problem_type(), "accountDoesNotExist");
    let mut d = Device::new();
    d.register(&w.acme).await;
    let order = |v: &str| json!({"identifiers": [{"type": "permanent-identifier", "value": v}]});
    let err = d.post(&w.acme, Endpoint::NewOrder, Some(order("not-issued"))).await.unwrap_err();
    assert_eq!(err.problem_type(), "rejectedIdentifier");
    let err = d
        .post(
            &w.acme,
            Endpoint::NewOrder,
            Some(json!({"identifiers": [{"type": "dns", "value": "a.example"}]})),
        )
        .await
        .unwrap_err();
    assert_eq!(err.problem_type(), "unsupportedIdentifier");
    // The first account to order with an identifier keeps it.
    d.post(&w.acme, Endpoint::NewOrder, Some(order(CLIENT_ID))).await.unwrap();
    let mut thief = Device::new();
    thief.register(&w.acme).await;
    let err = thief.post(&w.acme, Endpoint::NewOrder, Some(order(CLIENT_ID))).await.unwrap_err();
    assert_eq!(err.problem_type(), "rejectedIdentifier");
}

#[tokio::test]
async fn refuses_another_accounts_order() {
    let w = world().await;
    let mut d = Device::new();
    let (order_id, _, _) = d.order(&w.acme).await;
    let mut other = Device::new();
    other.register(&w.acme).await;
    let err = other.post(&w.acme, Endpoint::Order(order_id), None).await.unwrap_err();
    assert_eq!(err.problem_type(), "unauthorized");
}

#[tokio::test]
async fn upkeep_deletes_expired_orders_and_identifiers_bounded_per_run() {
    let w = world().await;
    let clock = w.acme.inner.clock.clone();
    let mut d = Device::new();
    let (order_id, authz_id, _) = d.order(&w.acme).await;
    let (serial, udid) = ids();
    for i in 0..3 {
        let id = format!("unused-{i}");
        w.acme.expect_device(&id, &serial, &udid, w.now + Duration::minutes(30)).await.unwrap();
    }
    // Nothing has expired yet.
    let none = w.acme.cleanup(w.now, upkeep::MAX_PER_RUN).await.unwrap();
    assert_eq!(none.total(), 0, "{none:?}");

    // A day after everything expired: at most two per pass, until all are gone.
    let later = w.now + Duration::hours(1) + upkeep::GRACE + Duration::minutes(1);
    clock.set(later);
    let first = w.acme.cleanup(later, 2).await.unwrap();
    assert_eq!(first.orders + first.authorizations + first.expectations, 2, "{first:?}");
    assert!(first.more);
    let mut total = first.total();
    loop {
        let next = w.acme.cleanup(later, 2).await.unwrap();
        total += next.total();
        if !next.more {
            break;
        }
    }
    // One order, its authorization, four identifiers (the device's and three unused), the
    // account (no order left, no certificate) and the nonces the device was given.
    assert!(total >= 7, "{total}");
    let err = d.post(&w.acme, Endpoint::Order(order_id), None).await.unwrap_err();
    assert_eq!(err.problem_type(), "accountDoesNotExist", "the account is gone: {err}");
    assert!(w.acme.inner.pending.authz(&authz_id).is_none(), "the authorization is gone");
    let left = w.acme.cleanup(later, upkeep::MAX_PER_RUN).await.unwrap();
    assert_eq!(left, upkeep::Cleanup::default());
}

/// Runs the whole flow for `d`; returns the issued certificate (DER).
pub(super) async fn issue(w: &World, d: &mut Device) -> Vec<u8> {
    let (order_id, authz_id, token) = d.order(&w.acme).await;
    let att = d.att_obj(&w.pki, props(&token), w.now);
    let ch = Some(json!({"attObj": att}));
    d.post(&w.acme, Endpoint::Challenge(authz_id), ch).await.unwrap();
    let csr = Some(json!({"csr": d.csr(&d.se_key)}));
    let r = d.post(&w.acme, Endpoint::Finalize(order_id), csr).await.unwrap();
    let Body::Json(order) = r.body else { panic!() };
    let cert_id = order["certificate"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
    let Body::PemChain(pem) = d.post(&w.acme, Endpoint::Cert(cert_id), None).await.unwrap().body
    else {
        panic!()
    };
    crate::crypto::chain::pem_certificates(&pem).unwrap().remove(0)
}

#[tokio::test]
async fn revocation_by_its_owner_or_its_key_is_recorded_against_the_device() {
    use p384::pkcs8::DecodePrivateKey;
    let w = world().await;
    let mut d = Device::new();
    let der = issue(&w, &mut d).await;
    let cert = Base64UrlUnpadded::encode_string(&der);
    let sha = hex::encode(Sha256::digest(&der));

    // Another account may not; an unknown certificate or reason is refused.
    let mut stranger = Device::new();
    stranger.register(&w.acme).await;
    let revoke = |c: &str, reason: Option<u64>| {
        let mut p = json!({"certificate": c});
        if let Some(r) = reason {
            p["reason"] = json!(r);
        }
        Some(p)
    };
    let err = stranger.post(&w.acme, Endpoint::RevokeCert, revoke(&cert, None)).await.unwrap_err();
    assert_eq!(err.problem_type(), "unauthorized", "{err}");
    let err = d.post(&w.acme, Endpoint::RevokeCert, revoke(&cert, Some(7))).await.unwrap_err();
    assert_eq!(err.problem_type(), "badRevocationReason");
    let unknown = Base64UrlUnpadded::encode_string(w.ca.cert_der());
    let err = d.post(&w.acme, Endpoint::RevokeCert, revoke(&unknown, None)).await.unwrap_err();
    assert!(matches!(err, AcmeError::NotFound(_)), "{err}");
    // Signed with another key than the certificate's (jwk, no account).
    let not_the_key = Device::new();
    let err = not_the_key.post(&w.acme, Endpoint::RevokeCert, revoke(&cert, None)).await;
    assert_eq!(err.unwrap_err().problem_type(), "unauthorized");

    // The certificate's own key (the Secure Enclave key) may.
    let se = p384::ecdsa::SigningKey::from_pkcs8_der(&d.se_key.serialize_der()).unwrap();
    let by_key = Device { key: AccountKey::P384(se), kid: None, se_key: new_device_key().unwrap() };
    let r = by_key.post(&w.acme, Endpoint::RevokeCert, revoke(&cert, Some(1))).await.unwrap();
    assert_eq!(r.status, 200);
    let to = w.acme.device_for_certificate(&sha).await.unwrap().unwrap();
    let revoked = to.revoked.expect("recorded against the device");
    assert_eq!((revoked.reason, revoked.by.as_str()), (1, "certificate_key"));
    assert_eq!(to.serial, SERIAL);

    // Once is enough.
    let err = d.post(&w.acme, Endpoint::RevokeCert, revoke(&cert, None)).await.unwrap_err();
    assert_eq!(err.problem_type(), "alreadyRevoked");
}

#[tokio::test]
async fn a_device_near_its_identity_expiry_renews_with_the_same_identifier() {
    let w = world().await;
    let clock = w.acme.inner.clock.clone();
    let mut d = Device::new();
    let first = issue(&w, &mut d).await;

    // Months before expiry the identifier stays used up.
    clock.set(w.now + Duration::days(200));
    let mut early = Device::new();
    let payload = json!({"identifiers": [{"type": "permanent-identifier", "value": CLIENT_ID}]});
    early.register(&w.acme).await;
    let err = early.post(&w.acme, Endpoint::NewOrder, Some(payload.clone())).await.unwrap_err();
    assert_eq!(err.problem_type(), "rejectedIdentifier");

    // Within the window, a new key and account get a new attested certificate.
    let renew_at = w.now + Duration::days(365) - Duration::days(10);
    clock.set(renew_at);
    let mut renewing = Device::new();
    let w2 = World { now: renew_at, ..w };
    let second = issue(&w2, &mut renewing).await;
    assert_ne!(first, second);
    let sha = hex::encode(Sha256::digest(&second));
    let to = w2.acme.device_for_certificate(&sha).await.unwrap().unwrap();
    assert_eq!((to.serial.as_str(), to.udid.as_str()), (SERIAL, UDID));
    assert!(to.not_after > renew_at + Duration::days(300));
}
