//! The checks of a signed request's payload that read no stored state: the device-attest-01
//! attestation chain (signatures up to the trust anchors) and a finalize CSR's
//! self-signature. They are most of an enrollment's ACME CPU, so [`super::AcmeService::handle`]
//! runs them on the request's own thread before the change reaches the store's one writer
//! thread; the change then uses their results and checks there only what depends on the
//! stored records (the challenge's token, the expected device, the attested key).
//!
//! The results are kept as values (not errors to return) because the change may run more than
//! once (group commit) and because where they surface is the change's to decide: a refused
//! attestation is a challenge answered `invalid`, and a bad CSR counts only for an order that
//! is ready.

use super::error::Problem;
use super::records::{self, Expectation, Status};
use super::{AcmeError, Inner, Tx, load};
use crate::apple::attestation::{
    self, AttestedLeaf, MAX_ATT_OBJ_LEN, parse_att_obj, verify_attestation,
};
use crate::crypto::chain::TrustAnchors;
use crate::ids::{Serial, Udid};
use base64ct::{Base64UrlUnpadded, Encoding};
use serde_json::Value;
use time::OffsetDateTime;

/// The problem type of a refused attestation (RFC 8555 §6.7 registry, draft-ietf-acme-device-attest).
pub(super) const BAD_ATTESTATION: &str = "badAttestationStatement";

/// What was checked before the write; `None` where the request carried nothing to check.
#[derive(Debug, Default)]
pub(super) struct Checked {
    /// A challenge response: the leaf of the attestation chain verified at the request's time,
    /// or why the attestation is refused.
    pub attestation: Option<Result<AttestedLeaf, Problem>>,
    /// A finalize request: the CSR's public key (SubjectPublicKeyInfo DER) once its signature
    /// verified, or why the CSR is refused.
    pub csr: Option<Result<Vec<u8>, String>>,
    /// A finalize request whose order looked ready in the last commit: the certificate signed
    /// for it ([`presign`]).
    pub presigned: Option<Presigned>,
}

/// A device certificate signed before the write, and what it was signed for. The change uses
/// it only if the stored records it reads still name the same device and key; otherwise it
/// signs again inside the write.
#[derive(Debug)]
pub(super) struct Presigned {
    pub spki: Vec<u8>,
    pub serial: Serial,
    pub udid: Udid,
    pub der: Vec<u8>,
}

impl Checked {
    pub(super) fn of(
        endpoint: &super::Endpoint,
        payload: &[u8],
        inner: &Inner,
        now: OffsetDateTime,
    ) -> Checked {
        use super::Endpoint;
        if !matches!(endpoint, Endpoint::Challenge(_) | Endpoint::Finalize(_)) {
            return Checked::default();
        }
        let Ok(json @ Value::Object(_)) = serde_json::from_slice::<Value>(payload) else {
            return Checked::default();
        };
        match endpoint {
            Endpoint::Challenge(_)
                if json.get("attObj").is_some() || json.get("error").is_some() =>
            {
                Checked {
                    attestation: Some(attested_chain(&json, &inner.anchors, now)),
                    ..Checked::default()
                }
            }
            Endpoint::Finalize(_) => Checked {
                csr: super::finalize::csr_der(&json).ok().map(|der| super::finalize::csr_key(&der)),
                ..Checked::default()
            },
            _ => Checked::default(),
        }
    }
}

/// ../shared/spec/enrollment.md §3.4 steps 1–3: the device's answer is an attestation object
/// in Apple's format whose chain reaches `anchors` at `now`; returns its leaf. Freshness and
/// identity are checked against the stored challenge by the change itself.
pub(super) fn attested_chain(
    payload: &Value,
    anchors: &TrustAnchors,
    now: OffsetDateTime,
) -> Result<AttestedLeaf, Problem> {
    let bad = |detail: String| Problem::new(BAD_ATTESTATION, detail);
    if let Some(e) = payload.get("error") {
        let text: String = e.to_string().chars().take(200).collect();
        return Err(bad(format!("the device reported that it could not attest: {text}")));
    }
    let att = payload
        .get("attObj")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("\"attObj\" is not a string".into()))?;
    if att.len() > MAX_ATT_OBJ_LEN * 4 / 3 + 4 {
        return Err(bad(format!("the attestation is over {MAX_ATT_OBJ_LEN} bytes")));
    }
    let bytes = Base64UrlUnpadded::decode_vec(att.trim_end_matches('='))
        .map_err(|_| bad("\"attObj\" is not base64url".into()))?;
    let fail = |e: attestation::AttestationError| bad(e.to_string());
    let x5c = parse_att_obj(&bytes).map_err(fail)?;
    Ok(verify_attestation(&x5c, anchors, now).map_err(fail)?.leaf)
}

/// Signs a finalize request's certificate from a read of the last commit, so that the store's
/// one writer does not spend the signature: the order must be the account's and ready, its
/// authorization must have attested the CSR's key, and its identifier must name a device.
/// `None` when any of that does not hold yet; the change then decides (and signs) itself.
pub(super) fn presign(
    inner: &Inner,
    rtx: &impl Tx,
    order_id: &str,
    account_id: &str,
    spki: &[u8],
    now: OffsetDateTime,
) -> Result<Option<Presigned>, AcmeError> {
    let Some(order) = inner.pending.order(order_id) else { return Ok(None) };
    if order.account_id != account_id || order.status != Status::Ready || order.expires <= now {
        return Ok(None);
    }
    let Some(authz) = inner.pending.authz(&order.authz_id) else { return Ok(None) };
    if authz.attested_spki_hex.as_deref().map(hex::decode).and_then(Result::ok).as_deref()
        != Some(spki)
    {
        return Ok(None);
    }
    let Some(exp) = load::<Expectation>(rtx, records::EXPECTED, &order.identifier)? else {
        return Ok(None);
    };
    let der = inner.sign_device_cert(spki, &exp.serial, &exp.udid, now)?;
    Ok(Some(Presigned { spki: spki.to_vec(), serial: exp.serial, udid: exp.udid, der }))
}
