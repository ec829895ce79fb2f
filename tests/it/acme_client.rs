//! device-attest-01 driven by an ACME client nobody here wrote: `instant-acme` (its
//! experimental device-attest API, ring, its own hyper-rustls stack trusting only the test
//! daemon's CA) against the real daemon over HTTPS.
//!
//! What this checks independently is the RFC 8555 plumbing: directory, nonces, JWS, account
//! creation, contact update, key rollover (keyChange), deactivation, orders, authorizations,
//! the challenge answer, finalize, the certificate download, and how a refused challenge
//! reads to a client. The attestation object itself is still made by our test code with the
//! sandbox's stand-in attestation CA (which the daemon is started trusting), because no
//! independent maker of Apple attestations exists; its checking is covered by `acme.rs` and
//! the unit tests.

use crate::acme::{att_obj, daemon_with_stand_in};
use crate::common::{TestDaemon, client_trusting};
use adebox::crypto::jws::signer::AccountKey;
use adebox::ids::{Serial, Udid};
use adebox::sim::apple_pki::{StandInApplePki, new_device_key};
use instant_acme::{
    Account, AccountCredentials, AuthorizationStatus, ChallengeStatus, ChallengeType,
    DeviceAttestation, Identifier, NewAccount, NewOrder, Order, OrderStatus, RetryPolicy,
};
use rcgen::{KeyPair, PublicKeyData};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use time::Duration;

const SERIAL: &str = "F9FINSTANT01";
const UDID: &str = "00008110-0000INSTANTACME";

/// Lets one order for `client_id` through for the test device.
async fn expect(d: &TestDaemon, client_id: &str) {
    let until = adebox::clock::Clock::system().now() + Duration::minutes(30);
    let (serial, udid) = (Serial::parse(SERIAL).unwrap(), Udid::parse(UDID).unwrap());
    d.running().services.acme.expect_device(client_id, &serial, &udid, until).await.unwrap();
}

/// A new instant-acme account (its own P-256 key), trusting only the daemon's CA.
async fn account(d: &TestDaemon, contact: &[&str]) -> (Account, AccountCredentials) {
    adebox::outbound::ensure_crypto_provider();
    let ca = d.dir.path().join("instant-acme-ca.pem");
    std::fs::write(&ca, d.ca_pem()).unwrap();
    let new = NewAccount { contact, terms_of_service_agreed: true, only_return_existing: false };
    Account::builder_with_root(&ca)
        .unwrap()
        .create(&new, d.url("/acme/directory"), None)
        .await
        .expect("instant-acme creates an account")
}

/// An order for `client_id`, and the token of its device-attest-01 challenge.
async fn order(account: &Account, client_id: &str) -> (Order, String) {
    let ids = [Identifier::PermanentIdentifier(client_id.into())];
    let mut order = account.new_order(&NewOrder::new(&ids)).await.unwrap();
    assert_eq!(order.state().status, OrderStatus::Pending);
    let mut authzs = order.authorizations();
    let mut authz = authzs.next().await.unwrap().unwrap();
    assert_eq!(authz.status, AuthorizationStatus::Pending);
    assert_eq!(authz.identifier().to_string(), client_id);
    let challenge = authz.challenge(ChallengeType::DeviceAttest01).expect("device-attest-01");
    assert_eq!(challenge.status, ChallengeStatus::Pending);
    let token = challenge.token.clone();
    (order, token)
}

/// Answers the order's challenge with `att` through the crate.
async fn attest(order: &mut Order, att: Vec<u8>) -> Result<ChallengeStatus, instant_acme::Error> {
    let mut authzs = order.authorizations();
    let mut authz = authzs.next().await.unwrap().unwrap();
    let mut challenge = authz.challenge(ChallengeType::DeviceAttest01).unwrap();
    challenge.send_device_attestation(&DeviceAttestation { att_obj: Cow::Owned(att) }).await
}

/// Our own signer with the crate's account key, to read what the crate has no call for.
fn our_signer(creds: &AccountCredentials) -> AccountKey {
    use p256::pkcs8::DecodePrivateKey;
    let der = creds.private_key().secret_pkcs8_der();
    AccountKey::P256(p256::ecdsa::SigningKey::from_pkcs8_der(der).unwrap())
}

/// POST-as-GET of `url` signed by `key` for the account `kid`.
async fn read_as(d: &TestDaemon, key: &AccountKey, kid: &str, url: &str) -> (StatusCode, Value) {
    let http = client_trusting(&d.ca_pem());
    let r = crate::acme::post_signed(&http, d, key, Some(kid), url, None).await;
    (r.status(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn instant_acme_completes_device_attest_01_and_manages_its_account() {
    let (d, pki) = daemon_with_stand_in().await;
    expect(&d, "instant-acme-1").await;
    let (account, creds) = account(&d, &["mailto:devices@example.org"]).await;
    let (mut order, token) = order(&account, "instant-acme-1").await;

    let se_key = new_device_key().unwrap();
    let status = attest(&mut order, att_obj(&pki, &se_key, SERIAL, UDID, &token)).await.unwrap();
    assert_eq!(status, ChallengeStatus::Valid);
    let retry = RetryPolicy::new().initial_delay(std::time::Duration::from_millis(10));
    assert_eq!(order.poll_ready(&retry).await.unwrap(), OrderStatus::Ready);

    // Finalize with a CSR for the attested key; the crate downloads the chain.
    let csr = rcgen::CertificateParams::new(vec![]).unwrap().serialize_request(&se_key).unwrap();
    order.finalize_csr(csr.der()).await.unwrap();
    let pem = order.poll_certificate(&retry).await.unwrap();
    check_certificate(&d, &pem, &se_key).await;

    // Contacts: the crate updates them; our signer with its key reads them back.
    account.update_contacts(&["mailto:new@example.org"]).await.unwrap();
    let key = our_signer(&creds);
    let (s, v) = read_as(&d, &key, account.id(), account.id()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["contact"], json!(["mailto:new@example.org"]));
    assert_eq!(v["status"], "valid");
    let (s, list) = read_as(&d, &key, account.id(), v["orders"].as_str().unwrap()).await;
    assert_eq!(s, StatusCode::OK, "{list}");
    assert_eq!(list["orders"], json!([order.url()]));

    // keyChange: the crate rolls the account to a new key; the old key is refused after.
    let before = account.clone();
    let mut rolled = account;
    let new_creds = rolled.update_key().await.expect("keyChange");
    assert_eq!(rolled.id(), before.id());
    let (s, _) = read_as(&d, &key, rolled.id(), rolled.id()).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "the old key no longer signs");
    let (s, v) = read_as(&d, &our_signer(&new_creds), rolled.id(), rolled.id()).await;
    assert_eq!((s, &v["status"]), (StatusCode::OK, &json!("valid")), "{v}");
    rolled.order(order.url().to_string()).await.expect("the new key works through the crate");

    // Deactivation: afterwards the account's key is refused, whatever it asks.
    let after = rolled.clone();
    rolled.deactivate().await.unwrap();
    let ids = [Identifier::PermanentIdentifier("instant-acme-1".into())];
    let err = after.new_order(&NewOrder::new(&ids)).await.err().expect("refused");
    let instant_acme::Error::Api(problem) = err else { panic!("a problem document: {err}") };
    assert_eq!(problem.r#type.as_deref(), Some("urn:ietf:params:acme:error:unauthorized"));
    assert!(problem.detail.unwrap().contains("deactivated"));
    let err = after.order(order.url().to_string()).await.err().expect("refused");
    assert!(matches!(err, instant_acme::Error::Api(_)), "{err}");
}

/// The chain the crate downloaded: the attested key, the daemon's CA, recorded against the
/// device.
async fn check_certificate(d: &TestDaemon, pem: &str, se_key: &KeyPair) {
    let chain = adebox::crypto::chain::pem_certificates(pem).unwrap();
    let ca = std::str::from_utf8(&d.ca_pem()).unwrap().to_string();
    let anchors = adebox::crypto::chain::TrustAnchors::from_pem(&ca).unwrap();
    adebox::crypto::chain::verify_chain(&chain[0], &chain[1..], &anchors, None).unwrap();
    let (_, cert) = x509_parser::parse_x509_certificate(&chain[0]).unwrap();
    assert_eq!(cert.public_key().raw, se_key.subject_public_key_info().as_slice());
    assert!(cert.extended_key_usage().unwrap().unwrap().value.client_auth);
    let cn = cert.subject().iter_common_name().next().unwrap().as_str().unwrap().to_string();
    assert_eq!(cn, UDID);
    let sha = hex::encode(Sha256::digest(&chain[0]));
    let to = d.running().services.acme.device_for_certificate(&sha).await.unwrap().unwrap();
    assert_eq!((to.serial.as_str(), to.udid.as_str()), (SERIAL, UDID));
}

#[tokio::test]
async fn instant_acme_reads_a_refused_attestation_as_the_challenges_error() {
    let (d, _pki) = daemon_with_stand_in().await;
    expect(&d, "instant-acme-2").await;
    let (account, _) = account(&d, &[]).await;
    let (mut order, token) = order(&account, "instant-acme-2").await;

    // An attestation from a CA the daemon does not trust.
    let other = StandInApplePki::generate(adebox::clock::Clock::system().now()).unwrap();
    let se_key = new_device_key().unwrap();
    let err = attest(&mut order, att_obj(&other, &se_key, SERIAL, UDID, &token)).await.unwrap_err();
    let instant_acme::Error::Api(problem) = err else { panic!("a problem document: {err}") };
    assert_eq!(
        problem.r#type.as_deref(),
        Some("urn:ietf:params:acme:error:badAttestationStatement")
    );
    assert!(problem.detail.as_deref().unwrap().contains("trusted"), "{problem}");

    // The authorization and the order are invalid, the order says why.
    let mut authzs = order.authorizations();
    let mut authz = authzs.next().await.unwrap().unwrap();
    let state = authz.refresh().await.unwrap();
    assert_eq!(state.status, AuthorizationStatus::Invalid);
    let challenge = &state.challenges[0];
    assert_eq!(challenge.status, ChallengeStatus::Invalid);
    assert_eq!(challenge.error.as_ref().unwrap().detail, problem.detail);
    let state = order.refresh().await.unwrap();
    assert_eq!(state.status, OrderStatus::Invalid);
    assert_eq!(state.error.as_ref().unwrap().r#type, problem.r#type);
    let retry = RetryPolicy::new().initial_delay(std::time::Duration::from_millis(10));
    assert!(order.poll_ready(&retry).await.is_err(), "the crate sees the order's error");
}

/// A client whose finalize answer was lost finalizes again: the daemon answers the valid
/// order with the same certificate URL (RFC 8555 §7.4), and issues nothing more.
#[tokio::test]
async fn instant_acme_retrying_a_finalize_gets_the_valid_order_and_the_same_certificate() {
    let (d, pki) = daemon_with_stand_in().await;
    expect(&d, "instant-acme-3").await;
    let (account, _) = account(&d, &[]).await;
    let (mut order, token) = order(&account, "instant-acme-3").await;
    let se_key = new_device_key().unwrap();
    attest(&mut order, att_obj(&pki, &se_key, SERIAL, UDID, &token)).await.unwrap();
    let retry = RetryPolicy::new().initial_delay(std::time::Duration::from_millis(10));
    assert_eq!(order.poll_ready(&retry).await.unwrap(), OrderStatus::Ready);
    let csr = rcgen::CertificateParams::new(vec![]).unwrap().serialize_request(&se_key).unwrap();
    order.finalize_csr(csr.der()).await.unwrap();
    let first = order.state().certificate.clone().expect("a certificate URL");

    order.finalize_csr(csr.der()).await.expect("the retried finalize is answered");
    assert_eq!(order.state().status, OrderStatus::Valid);
    assert_eq!(order.state().certificate.as_deref(), Some(first.as_str()));
    let pem = order.poll_certificate(&retry).await.unwrap();
    check_certificate(&d, &pem, &se_key).await;
    let serial = Serial::parse(SERIAL).unwrap();
    let issued = d.running().services.acme.certificates_of(&serial).await.unwrap();
    assert_eq!(issued.len(), 1, "one certificate for one order");
}
