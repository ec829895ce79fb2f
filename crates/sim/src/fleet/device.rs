//! One simulated iPhone/iPad enrolling (../shared/spec/enrollment.md §0): a signed MachineInfo
//! to the profile URL, the signed profile checked against the appliance CA, then ACME
//! device-attest-01 with a synthetic attestation of a P-384 "Secure Enclave" key.
//! Each step is timed; the first failure ends the device's run with a short reason code.

use super::FleetDevice;
use super::report::DeviceOutcome;
use super::step::{Ctx, Fail, Timer, deviation, fail, header, post, read, transport};
use super::wire;
use crate::apple_pki::{AttestedProperties, new_device_key};
use crate::crypto::chain::{pem_certificates, verify_chain};
use crate::crypto::cms::{CmsEncoding, SignOptions, SignerKey, sign_attached, verify_signed};
use crate::crypto::jws::signer::AccountKey;
use crate::crypto::sigverify::Digest;
use base64ct::{Base64UrlUnpadded, Encoding};
use rcgen::{KeyPair, PublicKeyData};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use std::time::Instant;

/// The MachineInfo plist a device of `d` sends (§1.1).
pub fn machine_info(d: &FleetDevice) -> Vec<u8> {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n\
         <plist version=\"1.0\"><dict>\
         <key>LANGUAGE</key><string>en</string>\
         <key>OS_VERSION</key><string>{os}</string>\
         <key>PRODUCT</key><string>{product}</string>\
         <key>SERIAL</key><string>{serial}</string>\
         <key>UDID</key><string>{udid}</string>\
         <key>VERSION</key><string>{build}</string>\
         </dict></plist>",
        os = d.os_version,
        product = xml_escape(&d.product),
        serial = xml_escape(&d.serial),
        udid = xml_escape(&d.udid),
        build = d.build,
    )
    .into_bytes()
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// How device number `index` signs: BER and DER, with and without signed attributes, SHA-1
/// and SHA-256 across the fleet (real devices send BER, SHA-1, either form: §1.2).
pub fn sign_options(index: usize) -> SignOptions {
    SignOptions {
        encoding: if index.is_multiple_of(2) { CmsEncoding::Ber } else { CmsEncoding::Der },
        digest: if (index / 2).is_multiple_of(2) { Digest::Sha1 } else { Digest::Sha256 },
        signed_attributes: (index / 4) % 2 == 1,
        signing_time: None,
    }
}

/// Runs device `d` (number `index` in the fleet) to its certificate or its first failure.
pub(super) async fn enroll(
    ctx: std::sync::Arc<Ctx>,
    index: usize,
    d: FleetDevice,
) -> DeviceOutcome {
    enroll_given(ctx, index, d, None).await
}

/// [`enroll`], installing `given` (a signed enrollment profile, as Return to Service's
/// `MDMProfileData` hands it) instead of asking the profile URL for one.
pub(super) async fn enroll_given(
    ctx: std::sync::Arc<Ctx>,
    index: usize,
    d: FleetDevice,
    given: Option<Vec<u8>>,
) -> DeviceOutcome {
    let (ctx, d) = (&*ctx, &d);
    let start = Instant::now();
    let mut t = Timer { steps: Vec::new(), at: start, current: "machine_info", certificate: None };
    let result = run(ctx, index, d, given.as_deref(), &mut t).await;
    let total_ms = (start.elapsed().as_secs_f64() * 10_000.0).round() / 10.0;
    let (failure, failed_step) = match &result {
        Ok(()) => (None, None),
        Err(Fail(reason)) => (Some(reason.clone()), Some(t.current.to_string())),
    };
    DeviceOutcome {
        serial: d.serial.clone(),
        udid: d.udid.clone(),
        failure,
        failed_step,
        steps_ms: t.steps,
        total_ms,
        released: result.is_ok(),
        certificate_sha256: t.certificate,
        migrated: d.migrating,
        attempts: 1,
    }
}

async fn run(
    ctx: &Ctx,
    index: usize,
    d: &FleetDevice,
    given: Option<&[u8]>,
    t: &mut Timer,
) -> Result<(), Fail> {
    t.step("machine_info");
    let profile = match given {
        Some(signed) => read_signed_profile(ctx, d, signed)?,
        None => fetch_profile(ctx, index, d).await?,
    };
    t.done();
    // read_profile guarantees exactly one MDM payload.
    let mdm = profile.mdm().cloned().ok_or_else(|| fail("profile_without_mdm_payload"))?;
    // Devices too old for ACME get a SCEP payload instead (their own file).
    if let Some(scep) = profile.scep() {
        let identity = super::scep::enroll(ctx, d, scep, t).await?;
        t.certificate = Some(identity.sha256.clone());
        return super::mdm::release(
            ctx,
            d,
            &mdm,
            &identity.chain_pem,
            identity.key_pem.expose(),
            t,
        )
        .await;
    }
    let acme_payload = profile.acme().ok_or_else(|| fail("profile_without_identity_payload"))?;
    // This device's key is a P-384 Secure Enclave key that can attest.
    if acme_payload.key_type != "ECSECPrimeRandom"
        || acme_payload.key_size != 384
        || !acme_payload.hardware_bound
        || !acme_payload.attest
    {
        return Err(fail("profile_unsupported_key_type"));
    }

    t.step("acme_directory");
    let mut acme = Acme::open(ctx, d, &acme_payload.directory_url).await?;
    t.done();

    t.step("acme_account");
    let url = acme.dir.new_account.clone();
    let r = acme.post(&url, Some(json!({"termsOfServiceAgreed": true}))).await?;
    expect(&r, StatusCode::CREATED, "account_refused")?;
    acme.kid = r.location.clone();
    t.done();

    t.step("acme_order");
    let id = json!({"identifiers": [{"type": "permanent-identifier", "value": acme_payload.client_identifier}]});
    let url = acme.dir.new_order.clone();
    let r = acme.post(&url, Some(id)).await?;
    expect(&r, StatusCode::CREATED, "order_refused")?;
    let order: wire::acme::Order = doc(d, "order", &r)?;
    let order_url = r.location.clone().ok_or_else(|| fail("order_without_location"))?;
    let authz_url =
        order.authorizations.first().ok_or_else(|| fail("order_without_authorization"))?;
    let r = acme.post(authz_url, None).await?;
    expect(&r, StatusCode::OK, "authorization_refused")?;
    let authz: wire::acme::Authorization = doc(d, "authorization", &r)?;
    let challenge = authz
        .challenges
        .iter()
        .find(|c| c.kind == "device-attest-01")
        .ok_or_else(|| fail("no_device_attest_challenge"))?;
    let token = challenge.token.clone().ok_or_else(|| fail("challenge_without_token"))?;
    t.done();

    t.step("attest");
    let se_key = new_device_key().map_err(|_| fail("device_key"))?;
    let props = AttestedProperties {
        serial: Some(d.serial.clone()),
        udid: Some(d.udid.clone()),
        os_version: Some(d.os_version.clone()),
        freshness: Some(Sha256::digest(token.as_bytes()).to_vec()),
        ..Default::default()
    };
    let x5c = ctx
        .pki
        .issue_attestation(&props, &se_key.subject_public_key_info(), ctx.now)
        .map_err(|_| fail("attestation_generation"))?;
    let att = Base64UrlUnpadded::encode_string(&crate::apple::attestation::encode_att_obj(&x5c));
    let r = acme.post(&challenge.url, Some(json!({"attObj": att}))).await?;
    // A refused attestation is the challenge object with status invalid (RFC 8555 §7.5.1).
    expect(&r, StatusCode::OK, "attestation_refused")?;
    let answered: wire::acme::Challenge = doc(d, "challenge", &r)?;
    match answered.status {
        wire::acme::ChallengeStatus::Valid => {}
        wire::acme::ChallengeStatus::Invalid => return Err(fail("attestation_refused:invalid")),
        // This server validates synchronously: anything else is a deviation.
        other => return Err(fail(format!("attestation_refused:{other:?}"))),
    }
    t.done();

    t.step("finalize");
    let csr = csr(&se_key)?;
    let r = acme.post(&order.finalize, Some(json!({"csr": csr}))).await?;
    expect(&r, StatusCode::OK, "finalize_refused")?;
    let mut order: wire::acme::Order = doc(d, "order", &r)?;
    // A server may finalize asynchronously (RFC 8555 §7.4): poll the order a few times.
    for _ in 0..20 {
        if order.status != wire::acme::OrderStatus::Processing {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let r = acme.post(&order_url, None).await?;
        order = doc(d, "order", &r)?;
    }
    if order.status != wire::acme::OrderStatus::Valid {
        return Err(fail(format!("order_{:?}", order.status).to_lowercase()));
    }
    let cert_url = order.certificate.ok_or_else(|| fail("order_without_certificate"))?;
    t.done();

    t.step("certificate");
    let r = acme.post(&cert_url, None).await?;
    expect(&r, StatusCode::OK, "certificate_refused")?;
    let chain = pem_certificates(&r.text).map_err(|_| fail("certificate_malformed"))?;
    let leaf = chain.first().ok_or_else(|| fail("certificate_empty"))?;
    verify_chain(leaf, &chain[1..], &ctx.appliance_ca, Some(ctx.now))
        .map_err(|_| fail("certificate_untrusted"))?;
    let (_, parsed) =
        x509_parser::parse_x509_certificate(leaf).map_err(|_| fail("certificate_malformed"))?;
    if parsed.public_key().raw != se_key.subject_public_key_info().as_slice() {
        return Err(fail("certificate_for_another_key"));
    }
    t.done();
    t.certificate = Some(hex::encode(Sha256::digest(leaf)));
    let key_pem = se_key.serialize_pem();
    super::mdm::release(ctx, d, &mdm, &r.text, &key_pem, t).await
}

/// ACME document `what` from answer `r`, read with the fleet's strict types.
fn doc<T: serde::de::DeserializeOwned>(d: &FleetDevice, what: &str, r: &Answer) -> Result<T, Fail> {
    wire::acme::read(what, r.text.as_bytes()).map_err(|e| deviation(d, "acme", &e))
}

/// The signed profile the appliance serves `d`, read as a device installing it does.
async fn fetch_profile(ctx: &Ctx, index: usize, d: &FleetDevice) -> Result<wire::Profile, Fail> {
    let made;
    let id = match &d.factory {
        Some(f) => &f.identity,
        None => {
            made = ctx
                .pki
                .issue_device_identity(&d.udid, ctx.now)
                .map_err(|_| fail("device_identity"))?;
            &made
        }
    };
    let key =
        SignerKey::from_pkcs8_pem(id.key_pem.expose()).map_err(|_| fail("device_identity"))?;
    let body = sign_attached(
        &machine_info(d),
        &id.cert_der,
        &ctx.pki.device_identity_bag(),
        &key,
        &sign_options(index),
    )
    .map_err(|_| fail("machine_info_signing"))?;
    // A profile with user affinity: Setup Assistant opens its sign-in page first, and the
    // page's answer is the profile (../shared/spec/enrollment.md §1.6).
    let web_urls = ctx.web_urls.as_ref().map_err(|_| fail("apple_side_unreachable"))?;
    let (status, ct, bytes) = match web_urls.get(&d.serial) {
        Some(web_url) => super::web::sign_in(ctx, d, web_url, &body).await?,
        None => post(ctx, &ctx.profile_url, "application/pkcs7-signature", body).await?,
    };
    if status != StatusCode::OK {
        let code = serde_json::from_slice::<Value>(&bytes)
            .ok()
            .and_then(|v| v["code"].as_str().map(str::to_string))
            .unwrap_or_else(|| format!("http_{}", status.as_u16()));
        return Err(fail(format!("profile_refused:{code}")));
    }
    if ct != "application/x-apple-aspen-config" {
        return Err(fail("profile_wrong_content_type"));
    }
    read_signed_profile(ctx, d, &bytes)
}

/// A signed enrollment profile, checked against the appliance CA and read as a device
/// installing it does.
fn read_signed_profile(ctx: &Ctx, d: &FleetDevice, bytes: &[u8]) -> Result<wire::Profile, Fail> {
    let signed = verify_signed(bytes).map_err(|_| fail("profile_bad_signature"))?;
    let others: Vec<Vec<u8>> =
        signed.certificates.iter().filter(|c| **c != signed.signer).cloned().collect();
    verify_chain(&signed.signer, &others, &ctx.appliance_ca, Some(ctx.now))
        .map_err(|_| fail("profile_signer_untrusted"))?;
    ctx.record(d, super::Seen::Profile, &signed.content);
    wire::read_profile(&signed.content).map_err(|e| deviation(d, "profile", &e))
}

fn csr(key: &KeyPair) -> Result<String, Fail> {
    let params = rcgen::CertificateParams::new(vec![]).map_err(|_| fail("csr"))?;
    let req = params.serialize_request(key).map_err(|_| fail("csr"))?;
    Ok(Base64UrlUnpadded::encode_string(req.der()))
}

fn expect(r: &Answer, status: StatusCode, reason: &str) -> Result<(), Fail> {
    if r.status == status {
        return Ok(());
    }
    let kind = r.body["type"]
        .as_str()
        .and_then(|t| t.rsplit(':').next())
        .map(str::to_string)
        .unwrap_or_else(|| format!("http_{}", r.status.as_u16()));
    Err(fail(format!("{reason}:{kind}")))
}

struct Answer {
    status: StatusCode,
    body: Value,
    text: String,
    location: Option<String>,
}

/// How many `rateLimited` answers one request waits out before the device gives up.
const RATE_WAITS: u32 = 3;

/// The device's ACME client (RFC 8555): one account key, nonces carried from answer to answer.
struct Acme<'a> {
    http: &'a Client,
    dir: wire::acme::Directory,
    key: AccountKey,
    kid: Option<String>,
    nonce: Option<String>,
}

impl<'a> Acme<'a> {
    async fn open(ctx: &'a Ctx, d: &FleetDevice, directory_url: &str) -> Result<Acme<'a>, Fail> {
        let resp = ctx.http.get(directory_url).send().await.map_err(|e| fail(transport(&e)))?;
        if resp.status() != StatusCode::OK {
            return Err(fail(format!("directory_http_{}", resp.status().as_u16())));
        }
        let dir = wire::acme::read("directory", &read(resp).await?)
            .map_err(|e| deviation(d, "acme", &e))?;
        Ok(Acme { http: &ctx.http, dir, key: AccountKey::p256(), kid: None, nonce: None })
    }

    async fn fresh_nonce(&self) -> Result<String, Fail> {
        let r =
            self.http.head(&self.dir.new_nonce).send().await.map_err(|e| fail(transport(&e)))?;
        let n = header(&r, "replay-nonce");
        if n.is_empty() {
            return Err(fail("no_nonce"));
        }
        Ok(n)
    }

    async fn post(&mut self, url: &str, payload: Option<Value>) -> Result<Answer, Fail> {
        // One retry on badNonce, as RFC 8555 §6.5 asks clients to; a `rateLimited` answer is
        // waited out for its `Retry-After` (RFC 8555 §6.6), a few times, as a client behind a
        // shared address (a school's NAT, or a whole simulated fleet) must.
        let mut rate_waits = 0;
        let mut attempt = 0;
        loop {
            let nonce = match self.nonce.take() {
                Some(n) => n,
                None => self.fresh_nonce().await?,
            };
            let jws = self.key.sign(url, &nonce, self.kid.as_deref(), payload.as_ref());
            let resp = self
                .http
                .post(url)
                .header("Content-Type", "application/jose+json")
                .body(jws.to_string())
                .send()
                .await
                .map_err(|e| fail(transport(&e)))?;
            let n = header(&resp, "replay-nonce");
            self.nonce = (!n.is_empty()).then_some(n);
            let status = resp.status();
            let retry_after = header(&resp, "retry-after").parse::<u64>().unwrap_or(1).min(60);
            let location =
                resp.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_string);
            let text = String::from_utf8_lossy(&read(resp).await?).into_owned();
            let body = serde_json::from_str(&text).unwrap_or(Value::Null);
            if body["type"] == "urn:ietf:params:acme:error:badNonce" {
                attempt += 1;
                if attempt == 2 {
                    return Err(fail("bad_nonce"));
                }
                continue;
            }
            if body["type"] == "urn:ietf:params:acme:error:rateLimited" && rate_waits < RATE_WAITS {
                rate_waits += 1;
                tokio::time::sleep(std::time::Duration::from_secs(retry_after)).await;
                continue;
            }
            return Ok(Answer { status, body, text, location });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fleet_varies_encoding_digest_and_signed_attributes() {
        let opts: Vec<SignOptions> = (0..8).map(sign_options).collect();
        assert!(opts.iter().any(|o| o.encoding == CmsEncoding::Ber));
        assert!(opts.iter().any(|o| o.encoding == CmsEncoding::Der));
        assert!(opts.iter().any(|o| o.signed_attributes));
        assert!(opts.iter().any(|o| !o.signed_attributes));
        assert!(opts.iter().any(|o| matches!(o.digest, Digest::Sha1)));
        assert!(opts.iter().any(|o| matches!(o.digest, Digest::Sha256)));
    }

    #[test]
    fn machine_info_is_a_plist_with_the_device_fields() {
        let d = FleetDevice::for_serial("C02TEST0001", 0);
        let v = plist::Value::from_reader(std::io::Cursor::new(machine_info(&d))).unwrap();
        let dict = v.as_dictionary().unwrap();
        assert_eq!(dict["SERIAL"].as_string(), Some("C02TEST0001"));
        assert_eq!(dict["UDID"].as_string(), Some(d.udid.as_str()));
        assert!(dict["PRODUCT"].as_string().unwrap().starts_with("iP"));
    }
}
