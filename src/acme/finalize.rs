//! Finalize (RFC 8555 §7.4): the CSR must be signed by, and name, the attested key
//! (../shared/spec/enrollment.md §3.4 step 6); then the appliance CA issues the identity
//! (§3.6) and its SHA-256 is recorded against the device. Certificate download is a PEM chain.

use super::outcomes::{DeviceOutcome, OutcomeKind};
use super::records::{self, CertRec, Expectation, IssuedTo, Status};
use super::{AcmeError, Body, Ctx, Reply, load, save};
use crate::ids::{Serial, Udid};
use base64ct::{Base64, Base64UrlUnpadded, Encoding};
use serde_json::Value;
use sha2::{Digest, Sha256};
use x509_parser::prelude::FromDer;

/// Largest CSR accepted (DER).
pub const MAX_CSR_LEN: usize = 16 * 1024;

impl Ctx<'_> {
    pub(super) fn finalize(&self, order_id: &str) -> Result<Reply, AcmeError> {
        let mut order = self.own_order(order_id)?;
        let not_ready = match order.status {
            Status::Ready => None,
            // A retry whose first answer was lost (a dropped connection, a timeout): the order
            // as it stands, with its certificate URL, so the client goes on to download it.
            // RFC 8555 §7.4 allows this or `orderNotReady`; the latter leaves a client that
            // never saw the first answer with an order it believes failed.
            Status::Valid => return Ok(self.order_reply(&order)),
            Status::Processing => {
                Some("this order is being finalized; read the order again in a moment")
            }
            Status::Pending => {
                Some("this order is pending: its device-attest-01 challenge must succeed first")
            }
            Status::Invalid | Status::Deactivated => {
                Some("this order is invalid (its \"error\" says why); start a new order")
            }
        };
        if let Some(why) = not_ready {
            return Err(AcmeError::OrderNotReady(why.into()));
        }
        if order.expires <= self.now {
            return Err(AcmeError::OrderNotReady(
                "this order has expired; start a new order".into(),
            ));
        }
        let csr_der = csr_der(&self.json_payload()?)?;
        // Checked before the write ([`super::precheck`]) for this same payload.
        let spki = match &self.checked.csr {
            Some(checked) => checked.clone(),
            None => csr_key(&csr_der),
        }
        .map_err(AcmeError::BadCsr)?;
        let authz = self.authz_rec(&order.authz_id).ok_or_else(|| {
            AcmeError::NotFound("this order's authorization no longer exists".into())
        })?;
        let attested = authz.attested_spki_hex.as_deref().map(hex::decode);
        if attested.and_then(Result::ok).as_deref() != Some(spki.as_slice()) {
            return Err(AcmeError::BadCsr(
                "the CSR's public key is not the key the device attested".into(),
            ));
        }
        let mut exp = load::<Expectation>(&self.tx, records::EXPECTED, &order.identifier)?
            .ok_or_else(|| {
                AcmeError::RejectedIdentifier(
                    "this order's ClientIdentifier is no longer registered; install the enrollment \
                     profile again"
                        .into(),
                )
            })?;
        if exp.cert_id.is_some() && !super::flow::renewable(&self.tx, &exp, self.now)? {
            return Err(AcmeError::RejectedIdentifier(
                "this identifier was already used for a certificate".into(),
            ));
        }
        // Signed before the write when the last commit already showed this order ready for
        // this device and key ([`super::precheck::presign`]); signed here otherwise.
        let der = match &self.checked.presigned {
            Some(p) if p.spki == spki && p.serial == exp.serial && p.udid == exp.udid => {
                p.der.clone()
            }
            _ => self.inner.sign_device_cert(&spki, &exp.serial, &exp.udid, self.now)?,
        };
        let validity = self.inner.options.cert_validity;
        let sha256 = hex::encode(Sha256::digest(&der));
        let cert_id = crate::crypto::random_token::<12>();
        let rec = CertRec {
            id: cert_id.clone(),
            order_id: order.id.clone(),
            account_id: order.account_id.clone(),
            chain_pem: format!("{}{}", pem("CERTIFICATE", &der), self.inner.ca.cert_pem()),
            sha256: sha256.clone(),
            serial: exp.serial.clone(),
            udid: exp.udid.clone(),
            issued_at: self.now,
            not_after: self.now + validity,
            revoked: None,
        };
        let issued_to = IssuedTo {
            cert_id: cert_id.clone(),
            serial: exp.serial.clone(),
            udid: exp.udid.clone(),
            not_after: rec.not_after,
            revoked: None,
        };
        save(self.wtx()?, records::CERTS, &cert_id, &rec)?;
        save(self.wtx()?, records::CERT_BY_HASH, &sha256, &issued_to)?;
        exp.cert_id = Some(cert_id.clone());
        save(self.wtx()?, records::EXPECTED, &order.identifier, &exp)?;
        order.status = Status::Valid;
        order.cert_id = Some(cert_id);
        self.stage_order(&order);
        log::info!(serial = exp.serial.as_str(), udid = exp.udid.as_str(), sha256 = sha256.as_str(); "ACME: device identity issued");
        let outcome = DeviceOutcome {
            at: self.now,
            serial: Some(exp.serial.clone()),
            udid: Some(exp.udid.clone()),
            kind: OutcomeKind::CertificateIssued,
        };
        self.inner.report(self.wtx()?, &outcome)?;
        Ok(self.order_reply(&order))
    }

    /// A finalize's answer: the order, with its own URL as the Location (RFC 8555 §7.4).
    fn order_reply(&self, order: &records::OrderRec) -> Reply {
        let mut r = Reply::json(200, self.inner.order_json(order));
        r.location = Some(self.inner.order_url(&order.id));
        r
    }

    pub(super) fn certificate(&self, id: &str) -> Result<Reply, AcmeError> {
        self.require_post_as_get()?;
        let cert = load::<CertRec>(&self.tx, records::CERTS, id)?
            .ok_or_else(|| AcmeError::NotFound("no such certificate".into()))?;
        if cert.account_id != self.account_id()? {
            return Err(AcmeError::Unauthorized(
                "this certificate belongs to another account".into(),
            ));
        }
        Ok(Reply {
            status: 200,
            location: None,
            link_up: None,
            link_next: None,
            body: Body::PemChain(cert.chain_pem),
        })
    }
}

impl super::Inner {
    /// The device identity for `spki`, named by the device's UDID (its serial when it has
    /// none) with its serial as the permanent identifier (../shared/spec/enrollment.md §3.6).
    pub(super) fn sign_device_cert(
        &self,
        spki: &[u8],
        serial: &Serial,
        udid: &Udid,
        now: time::OffsetDateTime,
    ) -> Result<Vec<u8>, AcmeError> {
        let (serial, udid) = (serial.as_str(), udid.as_str());
        let common_name = if udid.is_empty() { serial } else { udid };
        let permanent_id = if serial.is_empty() { udid } else { serial };
        self.ca
            .issue_for_device_key(spki, common_name, permanent_id, now, self.options.cert_validity)
            .map_err(|e| AcmeError::Issue(e.to_string()))
    }
}

/// The DER CSR a finalize payload carries (RFC 8555 §7.4), bounded in size.
pub(super) fn csr_der(payload: &Value) -> Result<Vec<u8>, AcmeError> {
    let csr_b64 = payload.get("csr").and_then(Value::as_str).ok_or_else(|| {
        AcmeError::Malformed(
            "a finalize request must carry \"csr\", the base64url DER CSR (RFC 8555 §7.4)".into(),
        )
    })?;
    if csr_b64.len() > MAX_CSR_LEN * 4 / 3 + 4 {
        return Err(AcmeError::BadCsr(format!("the CSR is over {MAX_CSR_LEN} bytes")));
    }
    Base64UrlUnpadded::decode_vec(csr_b64.trim_end_matches('='))
        .map_err(|_| AcmeError::BadCsr("the CSR is not base64url".into()))
}

/// The CSR's SubjectPublicKeyInfo (DER), after checking the CSR's self-signature. The
/// requested subject and extensions are ignored: the issued certificate follows policy, and
/// iOS's CSR layout is not documented (../shared/spec/enrollment.md §8.3).
pub(crate) fn csr_public_key(der: &[u8]) -> Result<Vec<u8>, AcmeError> {
    csr_key(der).map_err(AcmeError::BadCsr)
}

/// [`csr_public_key`] with the refusal as its detail, kept across runs of a change.
pub(super) fn csr_key(der: &[u8]) -> Result<Vec<u8>, String> {
    use x509_parser::certification_request::X509CertificationRequest;
    let (rest, csr) = X509CertificationRequest::from_der(der)
        .map_err(|e| format!("the CSR is not a PKCS#10 request: {e}"))?;
    if !rest.is_empty() {
        return Err("the CSR has trailing bytes".into());
    }
    csr.verify_signature().map_err(|_| "the CSR's signature does not verify".to_string())?;
    Ok(csr.certification_request_info.subject_pki.raw.to_vec())
}

/// PEM with 64-column lines.
pub(super) fn pem(label: &str, der: &[u8]) -> String {
    let b64 = Base64::encode_string(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}
