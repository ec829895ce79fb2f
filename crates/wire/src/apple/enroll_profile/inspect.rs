//! Reading a signed .mobileconfig back, for `adebox inspect profile` (admins troubleshooting
//! what a device was served).
//!
//! Exposes [`profile_report`]: verifies the CMS signature, reports the signer and, when a CA is
//! given, whether the signer chains to it at the given time; then lists the payloads (type,
//! identifier, display name, UUID and their other keys). Secrets are never printed: keys such
//! as a SCEP `Challenge` or a PKCS#12 `Password` show only whether they are set, and data
//! values show their size (certificates their subject). Input is hostile: size-capped by the
//! CMS reader, no panics. Pure: no tokio, redb, reqwest or actix; time is a parameter.

use crate::crypto::chain::{TrustAnchors, verify_chain};
use crate::crypto::cms::{CmsError, verify_signed};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, X509Certificate};

/// Why a profile could not be read.
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    #[error("the file is not a validly signed profile: {0}")]
    Signature(#[from] CmsError),
    #[error("the signed content is not a property list: {0}")]
    NotPlist(String),
    #[error("the signed property list is not a configuration profile (no dictionary at the top)")]
    NotProfile,
}

/// Keys whose values are secrets (matched case-insensitively, by substring).
const SECRET_KEYS: &[&str] = &["challenge", "password", "secret", "passcode", "token"];

fn is_secret(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    SECRET_KEYS.iter().any(|s| key.contains(s))
}

fn subject(der: &[u8]) -> Option<String> {
    X509Certificate::from_der(der).ok().map(|(_, c)| c.subject().to_string())
}

/// A plist value for display, with secrets masked and data summarised.
fn shown(key: &str, value: &plist::Value) -> Value {
    use plist::Value as P;
    if is_secret(key) {
        let set = !matches!(value, P::String(s) if s.is_empty());
        return json!(if set { "(set, hidden)" } else { "(empty)" });
    }
    match value {
        P::Dictionary(d) => {
            Value::Object(d.iter().map(|(k, v)| (k.clone(), shown(k, v))).collect())
        }
        P::Array(a) => Value::Array(a.iter().map(|v| shown(key, v)).collect()),
        P::Data(bytes) => match subject(bytes) {
            Some(s) => json!(format!("certificate: {s}")),
            None => json!(format!("({} bytes of data)", bytes.len())),
        },
        other => crate::apple::machineinfo::plist_to_json(other),
    }
}

const COMMON: &[&str] =
    &["PayloadType", "PayloadIdentifier", "PayloadDisplayName", "PayloadUUID", "PayloadVersion"];

fn payload_entry(payload: &plist::Value) -> Value {
    let Some(d) = payload.as_dictionary() else {
        return json!({ "problem": "the payload is not a dictionary" });
    };
    let text = |k: &str| d.get(k).and_then(|v| v.as_string()).map(str::to_string);
    let fields: Map<String, Value> = d
        .iter()
        .filter(|(k, _)| !COMMON.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), shown(k, v)))
        .collect();
    json!({
        "type": text("PayloadType"),
        "identifier": text("PayloadIdentifier"),
        "display_name": text("PayloadDisplayName"),
        "uuid": text("PayloadUUID"),
        "fields": fields,
    })
}

/// Reports a signed .mobileconfig. The bool is the verdict: true when the signature verifies
/// and, with `ca`, the signer chains to it (valid at `at`). An error when the signature does
/// not verify or the content is not a profile.
pub fn profile_report(
    bytes: &[u8],
    ca: Option<&TrustAnchors>,
    at: OffsetDateTime,
) -> Result<(Value, bool), InspectError> {
    let signed = verify_signed(bytes)?;
    let chain = ca.map(|anchors| {
        let others: Vec<Vec<u8>> =
            signed.certificates.iter().filter(|c| **c != signed.signer).cloned().collect();
        verify_chain(&signed.signer, &others, anchors, Some(at))
    });
    let value = plist::Value::from_reader(std::io::Cursor::new(&signed.content))
        .map_err(|e| InspectError::NotPlist(e.to_string()))?;
    let top = value.as_dictionary().ok_or(InspectError::NotProfile)?;
    let text = |k: &str| top.get(k).and_then(|v| v.as_string()).map(str::to_string);
    let payloads: Vec<Value> = top
        .get("PayloadContent")
        .and_then(|v| v.as_array())
        .map(|a| a.iter().map(payload_entry).collect())
        .unwrap_or_default();
    let chain_ok = chain.as_ref().is_none_or(Result::is_ok);
    let report = json!({
        "signature_verified": true,
        "signer": subject(&signed.signer),
        "digest": signed.digest.name(),
        "signed_attributes": signed.signed_attributes,
        "certificates": signed.certificates.len(),
        "chains_to_ca": chain.as_ref().map(Result::is_ok),
        "chain_error": chain.and_then(Result::err).map(|e| e.to_string()),
        "type": text("PayloadType"),
        "identifier": text("PayloadIdentifier"),
        "display_name": text("PayloadDisplayName"),
        "organization": text("PayloadOrganization"),
        "uuid": text("PayloadUUID"),
        "payloads": payloads,
    });
    Ok((report, chain_ok))
}
