//! A simulated device too old for ACME (iOS 15) getting its identity by SCEP (RFC 8894), as
//! its enrollment profile's `com.apple.security.scep` payload says
//! (../shared/spec/enrollment.md §2.5): GetCACaps, GetCACert (the RA must chain to the CA
//! beside it in the answer), then a PKCSReq with a new RSA key whose CSR carries
//! the one-time challenge, and the certificate out of the CertRep.
//!
//! Exposes [`enroll`] to `device.rs`, which hands it the profile's SCEP payload as
//! [`super::wire::profile::Scep`] read it.
//! Steps are timed as `scep_ca_cert` and `certificate`, so the report counts issued
//! certificates the same way whichever protocol a device used.

use super::FleetDevice;
use super::step::{Ctx, Fail, Timer, fail, post, read};
use super::wire::profile::Scep;
use crate::crypto::chain::verify_chain;
use crate::crypto::scep::client::{CertRep, DeviceKey, pick_ca, pick_ra};
use reqwest::StatusCode;
use sha2::{Digest, Sha256};

/// The identity SCEP gave a device: what it checks in to MDM with.
pub(super) struct ScepIdentity {
    /// SHA-256 (hex) of the issued certificate.
    pub sha256: String,
    pub chain_pem: String,
    pub key_pem: crate::crypto::Secret<String>,
}

/// Runs the SCEP exchange for `d`; returns the issued identity.
pub(super) async fn enroll(
    ctx: &Ctx,
    d: &FleetDevice,
    p: &Scep,
    t: &mut Timer,
) -> Result<ScepIdentity, Fail> {
    // The appliance's challenge is one-time and bound to this device: without it there is
    // nothing to authenticate the request with.
    let challenge = p.challenge.clone().ok_or_else(|| fail("scep_without_challenge"))?;
    // Subject is [[["O", …]], [["CN", …]]]: take the CN.
    let common_name = p
        .subject
        .iter()
        .flatten()
        .find(|(k, _)| k == "CN")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    t.step("scep_ca_cert");
    let caps = get(ctx, &format!("{}?operation=GetCACaps", p.url), "scep_caps").await?;
    if !String::from_utf8_lossy(&caps).lines().any(|l| l.trim() == "POSTPKIOperation") {
        return Err(fail("scep_caps_without_post"));
    }
    let bundle = get(ctx, &format!("{}?operation=GetCACert", p.url), "scep_ca_cert").await?;
    let certs = crate::crypto::scep::read_certs_only(&bundle)
        .map_err(|_| fail("scep_ca_cert_malformed"))?;
    let ra = pick_ra(&certs).ok_or_else(|| fail("scep_without_rsa_ra"))?;
    // Like iOS: the RA's CA is beside it in the answer, which came over TLS from the appliance.
    pick_ca(&certs, &ra, ctx.now).ok_or_else(|| fail("scep_ra_untrusted"))?;
    t.done();

    t.step("certificate");
    let (cn, now) = (common_name, ctx.now);
    let label = if cn.is_empty() { d.udid.clone() } else { cn.clone() };
    let ra_cert = ra.clone();
    let made_earlier = d.factory.as_ref().and_then(|f| f.scep_key.clone());
    let (key, msg, pending) = tokio::task::spawn_blocking(move || {
        let key = match made_earlier {
            Some(k) => DeviceKey::from_key(k, &label, now)?,
            None => DeviceKey::generate(&label, now)?,
        };
        let csr = key.csr(&cn, &challenge)?;
        let (msg, pending) = key.pkcs_req(&csr, &ra_cert)?;
        Ok::<_, crate::crypto::scep::ScepError>((key, msg, pending))
    })
    .await
    .map_err(|_| fail("scep_request"))?
    .map_err(|_| fail("scep_request"))?;
    let url = format!("{}?operation=PKIOperation", p.url);
    let (status, ct, bytes) = post(ctx, &url, "application/x-pki-message", msg).await?;
    if status != StatusCode::OK || ct != "application/x-pki-message" {
        return Err(fail(format!("scep_refused:http_{}", status.as_u16())));
    }
    let cert = match key.read_cert_rep(&bytes, &ra, &pending) {
        Ok(CertRep::Issued(der)) => der,
        Ok(CertRep::Failed(f)) => return Err(fail(format!("scep_refused:{}", f.name()))),
        Ok(CertRep::Pending) => return Err(fail("scep_pending")),
        Err(_) => return Err(fail("scep_reply_malformed")),
    };
    verify_chain(&cert, &[], &ctx.appliance_ca, Some(ctx.now))
        .map_err(|_| fail("certificate_untrusted"))?;
    t.done();
    let chain_pem = der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, &cert)
        .map_err(|_| fail("certificate_malformed"))?;
    let key_pem = key.key_pem().map_err(|_| fail("scep_key"))?;
    Ok(ScepIdentity { sha256: hex::encode(Sha256::digest(&cert)), chain_pem, key_pem })
}

async fn get(ctx: &Ctx, url: &str, what: &str) -> Result<Vec<u8>, Fail> {
    let resp = ctx.http.get(url).send().await.map_err(|_| fail(format!("{what}:transport")))?;
    if resp.status() != StatusCode::OK {
        return Err(fail(format!("{what}:http_{}", resp.status().as_u16())));
    }
    read(resp).await
}
