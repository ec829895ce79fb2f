//! What `adebox inspect machineinfo` and `adebox inspect attestation` print: JSON reports of a
//! device-signed MachineInfo (or any device-identity-signed plist) and of an attestation.
//!
//! Exposes [`machineinfo_report`] and [`attestation_report`]. Input files may be raw bytes or
//! base64 (the `x-apple-aspen-deviceinfo` header and the ACME `attObj` are base64). Pure: no
//! tokio, redb, reqwest or actix; time is a parameter.

use super::attestation::{self, AttestationError};
use super::machineinfo::{self, MachineInfoError};
use crate::crypto::chain::TrustAnchors;
use base64ct::{Base64, Base64Url, Base64UrlUnpadded, Encoding};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use x509_parser::prelude::{FromDer, X509Certificate};

fn subject(der: &[u8]) -> String {
    X509Certificate::from_der(der)
        .map(|(_, c)| c.subject().to_string())
        .unwrap_or_else(|_| "(unreadable certificate)".into())
}

/// Raw bytes, or the bytes of base64 / base64url text (whitespace ignored).
fn maybe_base64(bytes: &[u8]) -> Vec<u8> {
    let Ok(text) = std::str::from_utf8(bytes) else { return bytes.to_vec() };
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if compact.is_empty() {
        return bytes.to_vec();
    }
    Base64::decode_vec(&compact)
        .or_else(|_| Base64Url::decode_vec(&compact))
        .or_else(|_| Base64UrlUnpadded::decode_vec(&compact))
        .unwrap_or_else(|_| bytes.to_vec())
}

/// Verifies a signed MachineInfo against `anchors` and reports it; an error when the signature
/// or chain does not verify.
pub fn machineinfo_report(body: &[u8], anchors: &TrustAnchors) -> Result<Value, MachineInfoError> {
    let v = machineinfo::verify_signed_plist(&maybe_base64(body), anchors)?;
    let parsed = machineinfo::machine_info_from_value(&v.value);
    Ok(json!({
        "verified": true,
        "signer": subject(&v.signer),
        "chain": v.path.iter().map(|c| subject(c)).collect::<Vec<_>>(),
        "digest": v.digest,
        "signed_attributes": v.signed_attributes,
        "machine_info": parsed.as_ref().ok(),
        "machine_info_problem": parsed.as_ref().err().map(ToString::to_string),
        "plist": machineinfo::plist_to_json(&v.value),
    }))
}

/// Reads an attestation (PEM chain, CBOR attObj, or base64 of either) and reports its leaf and
/// whether the chain verifies to `anchors` at `at`. The bool is that verdict; an error only
/// when nothing could be read.
pub fn attestation_report(
    input: &[u8],
    anchors: &TrustAnchors,
    at: OffsetDateTime,
) -> Result<(Value, bool), AttestationError> {
    let x5c = match std::str::from_utf8(input) {
        Ok(text) if text.contains("-----BEGIN CERTIFICATE-----") => {
            attestation::parse_pem_chain(text)?
        }
        _ => attestation::parse_att_obj(&maybe_base64(input))?,
    };
    let leaf = attestation::read_leaf(&x5c[0])?;
    let verdict = attestation::verify_attestation(&x5c, anchors, at);
    let verified = verdict.is_ok();
    let mut report = serde_json::to_value(&leaf).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut report {
        map.insert("certificates".into(), json!(x5c.len()));
        map.insert("chain_verified".into(), json!(verified));
        map.insert("chain_error".into(), json!(verdict.err().map(|e| e.to_string())));
        map.insert("verified_at".into(), json!(at.format(&Rfc3339).ok()));
    }
    Ok((report, verified))
}
