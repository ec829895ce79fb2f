//! Apple Managed Device Attestation as ACME `device-attest-01` carries it.
//!
//! Exposes [`parse_att_obj`] (the CBOR attestation object → `x5c`), [`encode_att_obj`] (the
//! same shape, for simulated devices), [`parse_pem_chain`] (a PEM chain, for inspection),
//! [`read_leaf`] (the Apple OIDs and the attested public key), [`verify_attestation`] (chain
//! to the pinned Apple Enterprise Attestation Root at a given time) and [`check_freshness`].
//!
//! Spec: ../shared/spec/enrollment.md §3.2 (attObj: `fmt` "apple", `attStmt.x5c` leaf first;
//! `authData` and other members ignored), §3.3 (OID values are raw bytes, not DER strings,
//! except SIP and kext status, which are DER INTEGERs), §3.4 (chain at the current time;
//! freshness = SHA-256 of the challenge token, required). Apple may omit an OID it cannot
//! verify, so every property is optional here; the caller decides which it needs. Pure: no
//! tokio, redb, reqwest or actix; time is a parameter.

use crate::crypto::chain::{ChainError, TrustAnchors, pem_certificates, verify_chain};
use serde::Serialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, X509Certificate};

/// Largest attestation object accepted (Apple's are about 2 KiB: two certificates).
pub const MAX_ATT_OBJ_LEN: usize = 32 * 1024;
/// Most certificates accepted in `x5c` (Apple sends two).
pub const MAX_X5C: usize = 4;

/// Why an attestation was refused. Messages are shown to admins.
#[derive(Debug, thiserror::Error)]
pub enum AttestationError {
    #[error("the attestation is {len} bytes, over the {max}-byte limit")]
    TooLarge { len: usize, max: usize },
    #[error("the attestation object is not valid CBOR: {0}")]
    NotCbor(String),
    #[error("the attestation object is malformed: {0}")]
    Malformed(String),
    #[error("the attestation format is \"{0}\", not \"apple\"")]
    WrongFormat(String),
    #[error("the attestation carries no certificate")]
    NoCertificates,
    #[error("the attestation carries {0} certificates, more than the {MAX_X5C} accepted")]
    TooManyCertificates(usize),
    #[error("the attestation certificate is not a well-formed X.509 certificate: {0}")]
    BadCertificate(String),
    #[error("the attestation does not chain to the trusted Apple attestation root: {0}")]
    Untrusted(#[from] ChainError),
    #[error("the attestation has no freshness code (nonce), so it may be replayed")]
    FreshnessMissing,
    #[error(
        "the attestation's freshness code is not the SHA-256 of this challenge token: it was made \
         for another challenge (stale or replayed)"
    )]
    FreshnessMismatch,
}

/// What the attestation leaf states about the device (../shared/spec/enrollment.md §3.3).
#[derive(Clone, Debug, Default, Eq, PartialEq, Serialize)]
pub struct AttestedLeaf {
    pub serial: Option<String>,
    pub udid: Option<String>,
    /// The freshness code, as lower-case hex.
    pub nonce_hex: Option<String>,
    pub os_version: Option<String>,
    pub sepos_version: Option<String>,
    pub llb_version: Option<String>,
    pub software_update_device_id: Option<String>,
    /// SIP status (0 = enabled), macOS.
    pub sip_status: Option<i64>,
    /// Secure boot level, macOS ("Full Security", …).
    pub secure_boot: Option<String>,
    /// Third-party kernel extensions allowed (0 = no), macOS.
    pub third_party_kexts: Option<i64>,
    /// The attested (Secure Enclave) public key, DER SubjectPublicKeyInfo, hex.
    pub public_key_spki_hex: String,
    pub subject: String,
    pub issuer: String,
    pub not_before: String,
    pub not_after: String,
    #[serde(skip)]
    pub nonce: Option<Vec<u8>>,
    #[serde(skip)]
    pub public_key_spki: Vec<u8>,
}

/// A leaf whose chain verified, and the path (leaf first, pinned root last, DER).
#[derive(Clone, Debug)]
pub struct VerifiedAttestation {
    pub leaf: AttestedLeaf,
    pub path: Vec<Vec<u8>>,
}

const APPLE: &str = "1.2.840.113635.100.8.";

/// Reads `x5c` from a CBOR attestation object (`{"fmt": "apple", "attStmt": {"x5c": [bstr…]}}`).
pub fn parse_att_obj(bytes: &[u8]) -> Result<Vec<Vec<u8>>, AttestationError> {
    use ciborium::Value;
    if bytes.len() > MAX_ATT_OBJ_LEN {
        return Err(AttestationError::TooLarge { len: bytes.len(), max: MAX_ATT_OBJ_LEN });
    }
    let value: Value = ciborium::de::from_reader_with_recursion_limit(bytes, 16)
        .map_err(|e| AttestationError::NotCbor(e.to_string()))?;
    let map = value.as_map().ok_or_else(|| AttestationError::Malformed("not a map".into()))?;
    let get = |map: &[(Value, Value)], key: &str| {
        map.iter().find(|(k, _)| k.as_text() == Some(key)).map(|(_, v)| v.clone())
    };
    let fmt = get(map, "fmt").and_then(|v| v.as_text().map(str::to_string));
    match fmt.as_deref() {
        Some("apple") => {}
        Some(other) => return Err(AttestationError::WrongFormat(other.to_string())),
        None => return Err(AttestationError::Malformed("no \"fmt\" text member".into())),
    }
    let stmt = get(map, "attStmt")
        .and_then(|v| v.as_map().cloned())
        .ok_or_else(|| AttestationError::Malformed("no \"attStmt\" map".into()))?;
    let x5c = get(&stmt, "x5c")
        .and_then(|v| v.as_array().cloned())
        .ok_or_else(|| AttestationError::Malformed("no \"attStmt.x5c\" array".into()))?;
    let certs: Vec<Vec<u8>> = x5c
        .into_iter()
        .map(|v| {
            v.into_bytes().map_err(|_| {
                AttestationError::Malformed("an x5c entry is not a byte string".into())
            })
        })
        .collect::<Result<_, _>>()?;
    check_count(certs)
}

fn check_count(certs: Vec<Vec<u8>>) -> Result<Vec<Vec<u8>>, AttestationError> {
    match certs.len() {
        0 => Err(AttestationError::NoCertificates),
        n if n > MAX_X5C => Err(AttestationError::TooManyCertificates(n)),
        _ => Ok(certs),
    }
}

/// An attestation object in Apple's shape, for simulated devices.
pub fn encode_att_obj(x5c: &[Vec<u8>]) -> Vec<u8> {
    use ciborium::Value;
    let value = Value::Map(vec![
        (Value::Text("fmt".into()), Value::Text("apple".into())),
        (
            Value::Text("attStmt".into()),
            Value::Map(vec![(
                Value::Text("x5c".into()),
                Value::Array(x5c.iter().map(|c| Value::Bytes(c.clone())).collect()),
            )]),
        ),
        (Value::Text("authData".into()), Value::Bytes(Vec::new())),
    ]);
    let mut out = Vec::new();
    ciborium::ser::into_writer(&value, &mut out).expect("writing CBOR to a Vec cannot fail");
    out
}

/// The certificates of a PEM chain (leaf first), for inspecting an attestation outside ACME.
pub fn parse_pem_chain(text: &str) -> Result<Vec<Vec<u8>>, AttestationError> {
    if text.len() > MAX_ATT_OBJ_LEN * 2 {
        return Err(AttestationError::TooLarge { len: text.len(), max: MAX_ATT_OBJ_LEN * 2 });
    }
    check_count(pem_certificates(text).map_err(AttestationError::BadCertificate)?)
}

/// Reads the Apple OIDs and the attested key from a leaf certificate (no chain check).
pub fn read_leaf(der: &[u8]) -> Result<AttestedLeaf, AttestationError> {
    let cert = match X509Certificate::from_der(der) {
        Ok(([], cert)) => cert,
        Ok(_) => return Err(AttestationError::BadCertificate("trailing bytes".into())),
        Err(e) => return Err(AttestationError::BadCertificate(e.to_string())),
    };
    let mut leaf = AttestedLeaf {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        not_before: cert.validity().not_before.to_string(),
        not_after: cert.validity().not_after.to_string(),
        public_key_spki: cert.public_key().raw.to_vec(),
        public_key_spki_hex: hex::encode(cert.public_key().raw),
        ..AttestedLeaf::default()
    };
    for ext in cert.extensions() {
        let oid = ext.oid.to_id_string();
        let Some(arc) = oid.strip_prefix(APPLE) else { continue };
        let raw = ext.value;
        let text = || Some(String::from_utf8_lossy(raw).into_owned());
        match arc {
            "9.1" => leaf.serial = text(),
            "9.2" => leaf.udid = text(),
            "9.4" => leaf.software_update_device_id = text(),
            "10.1" => leaf.os_version = text(),
            "10.2" => leaf.sepos_version = text(),
            "10.3" => leaf.llb_version = text(),
            "11.1" => leaf.nonce = Some(raw.to_vec()),
            "13.1" => leaf.sip_status = der_small_integer(raw),
            "13.2" => leaf.secure_boot = text(),
            "13.3" => leaf.third_party_kexts = der_small_integer(raw),
            _ => {}
        }
    }
    leaf.nonce_hex = leaf.nonce.as_ref().map(hex::encode);
    Ok(leaf)
}

/// A DER INTEGER of at most 8 bytes (`02 01 00` → 0).
fn der_small_integer(raw: &[u8]) -> Option<i64> {
    let [0x02, len, value @ ..] = raw else { return None };
    if *len as usize != value.len() || value.is_empty() || value.len() > 8 {
        return None;
    }
    let negative = value[0] & 0x80 != 0;
    let mut n: i64 = if negative { -1 } else { 0 };
    for b in value {
        n = (n << 8) | i64::from(*b);
    }
    Some(n)
}

/// Verifies `x5c` (leaf first, then intermediates) to `anchors` at `now` and reads the leaf.
pub fn verify_attestation(
    x5c: &[Vec<u8>],
    anchors: &TrustAnchors,
    now: OffsetDateTime,
) -> Result<VerifiedAttestation, AttestationError> {
    let leaf_der = x5c.first().ok_or(AttestationError::NoCertificates)?;
    if x5c.len() > MAX_X5C {
        return Err(AttestationError::TooManyCertificates(x5c.len()));
    }
    let path = verify_chain(leaf_der, &x5c[1..], anchors, Some(now))?;
    Ok(VerifiedAttestation { leaf: read_leaf(leaf_der)?, path })
}

/// The leaf's freshness code must be SHA-256 of the challenge token's ASCII bytes (§3.4 step
/// 4; required, as nanoca does).
pub fn check_freshness(leaf: &AttestedLeaf, token: &str) -> Result<(), AttestationError> {
    let nonce = leaf.nonce.as_ref().ok_or(AttestationError::FreshnessMissing)?;
    let expected = Sha256::digest(token.as_bytes());
    if subtle::ConstantTimeEq::ct_eq(nonce.as_slice(), expected.as_slice()).into() {
        Ok(())
    } else {
        Err(AttestationError::FreshnessMismatch)
    }
}

#[cfg(test)]
mod tests;
