//! MachineInfo: the CMS-signed property list a device POSTs to the enrollment profile URL.
//!
//! Exposes [`MachineInfo`] (the keys adebox uses, parsed leniently), [`parse_machine_info`],
//! [`verify_signed_plist`] (any device-identity-signed plist, e.g. an OTA payload: signature,
//! chain to the pinned anchors, plist) and [`verify_machine_info`] (that, plus the required
//! keys), and [`plist_to_json`] for inspection.
//!
//! Spec: ../shared/spec/enrollment.md §1.1 (keys), §1.2 (signature: BER or DER, SHA-1 or
//! SHA-256, RSA-1024, with or without signed attributes; the signer chained by signature to the
//! pinned Apple iPhone Device CA, validity dates ignored because Apple's chain expired), §1.7
//! (what decides the identity payload). MachineInfo has no nonce, so a verified one means "this
//! SERIAL/UDID asked", not proof of hardware (§1.2 security note): the ACME attestation is.
//! Unknown keys are ignored, optional keys may be missing or of an unexpected type (then they
//! read as absent); only SERIAL and UDID are required. Pure: no tokio, redb, reqwest or actix.

use crate::crypto::chain::{ChainError, TrustAnchors, verify_chain};
use crate::crypto::cms::{CmsError, verify_signed};
use crate::ids::{IdError, Serial, Udid};
use serde::Serialize;

/// Largest MachineInfo body accepted. Real ones are 2–5 KiB (fleet caps at 10 KiB); the
/// margin allows a larger certificate bag.
pub const MAX_MACHINE_INFO_LEN: usize = 64 * 1024;

/// Why a MachineInfo was refused. Messages are shown to admins.
#[derive(Debug, thiserror::Error)]
pub enum MachineInfoError {
    #[error("the MachineInfo is {len} bytes, over the {max}-byte limit")]
    TooLarge { len: usize, max: usize },
    #[error("the MachineInfo is not a valid signed message: {0}")]
    Signature(#[from] CmsError),
    #[error(
        "the MachineInfo was not signed by a device identity certificate from the trusted device \
         CA: {0}"
    )]
    Untrusted(#[from] ChainError),
    #[error("the signed content is not a property list: {0}")]
    NotPlist(String),
    #[error("the signed property list is not a dictionary")]
    NotDictionary,
    #[error(
        "the MachineInfo has no {0}; every device sends it, so the message is not a MachineInfo"
    )]
    MissingKey(&'static str),
    /// SERIAL or UDID is not one (a 3,000-character UDID, a control character): refused here,
    /// before it could reach a certificate subject or the store.
    #[error("the MachineInfo {key} is refused: {problem}")]
    BadId { key: &'static str, problem: IdError },
}

/// The MachineInfo keys adebox uses (apple/device-management `other/machineinfo.yaml`).
#[derive(Clone, Debug, Eq, PartialEq, Serialize)]
pub struct MachineInfo {
    pub udid: Udid,
    pub serial: Serial,
    /// Model, e.g. `iPad13,18`.
    pub product: Option<String>,
    /// OS **build**, e.g. `21F79`.
    pub version: Option<String>,
    /// OS version, e.g. `17.5` (iOS 17+ / macOS 14+ only).
    pub os_version: Option<String>,
    pub supplemental_build_version: Option<String>,
    pub supplemental_os_version_extra: Option<String>,
    pub imei: Option<String>,
    pub meid: Option<String>,
    pub language: Option<String>,
    pub mdm_can_request_software_update: Option<bool>,
    pub software_update_device_id: Option<String>,
    /// `MANDATORY_SOFTWARE_UPDATE_REQUIRED` (macOS 26.1+): the Mac is about to update in Setup
    /// Assistant and lets the server choose the version (apple-2026.md §5.1).
    pub mandatory_software_update_required: Option<bool>,
    /// Whether a watch pairing token was sent (its bytes are not kept).
    pub has_pairing_token: bool,
}

impl MachineInfo {
    /// A MachineInfo with only the required keys.
    pub fn new(udid: Udid, serial: Serial) -> MachineInfo {
        MachineInfo {
            udid,
            serial,
            product: None,
            version: None,
            os_version: None,
            supplemental_build_version: None,
            supplemental_os_version_extra: None,
            imei: None,
            meid: None,
            language: None,
            mdm_can_request_software_update: None,
            software_update_device_id: None,
            mandatory_software_update_required: None,
            has_pairing_token: false,
        }
    }
}

/// A device-identity-signed property list whose signature and chain verified.
#[derive(Clone, Debug)]
pub struct VerifiedPlist {
    /// The plist bytes (XML or binary) as signed.
    pub plist: Vec<u8>,
    pub value: plist::Value,
    /// The signer's certificate, DER.
    pub signer: Vec<u8>,
    /// The chain from the signer to the pinned anchor, DER.
    pub path: Vec<Vec<u8>>,
    pub digest: &'static str,
    pub signed_attributes: bool,
}

/// Verifies a signed plist from a device: the CMS signature, then the signer's chain to
/// `pinned` by signature only, ignoring dates (§1.2), then parses the plist.
pub fn verify_signed_plist(
    body: &[u8],
    pinned: &TrustAnchors,
) -> Result<VerifiedPlist, MachineInfoError> {
    if body.len() > MAX_MACHINE_INFO_LEN {
        return Err(MachineInfoError::TooLarge { len: body.len(), max: MAX_MACHINE_INFO_LEN });
    }
    let signed = verify_signed(body)?;
    let intermediates: Vec<Vec<u8>> =
        signed.certificates.iter().filter(|c| **c != signed.signer).cloned().collect();
    let path = verify_chain(&signed.signer, &intermediates, pinned, None)?;
    let value = plist::Value::from_reader(std::io::Cursor::new(&signed.content))
        .map_err(|e| MachineInfoError::NotPlist(e.to_string()))?;
    Ok(VerifiedPlist {
        plist: signed.content,
        value,
        signer: signed.signer,
        path,
        digest: signed.digest.name(),
        signed_attributes: signed.signed_attributes,
    })
}

/// Verifies a MachineInfo body (the POST to the profile URL) and returns its keys.
pub fn verify_machine_info(
    body: &[u8],
    pinned: &TrustAnchors,
) -> Result<MachineInfo, MachineInfoError> {
    machine_info_from_value(&verify_signed_plist(body, pinned)?.value)
}

/// Parses an unsigned MachineInfo plist (XML or binary), e.g. one already verified.
pub fn parse_machine_info(plist_bytes: &[u8]) -> Result<MachineInfo, MachineInfoError> {
    let value = plist::Value::from_reader(std::io::Cursor::new(plist_bytes))
        .map_err(|e| MachineInfoError::NotPlist(e.to_string()))?;
    machine_info_from_value(&value)
}

/// The MachineInfo keys of a parsed plist.
pub fn machine_info_from_value(value: &plist::Value) -> Result<MachineInfo, MachineInfoError> {
    let dict = value.as_dictionary().ok_or(MachineInfoError::NotDictionary)?;
    let text = |key: &str| {
        dict.get(key).and_then(|v| v.as_string()).map(str::trim).filter(|s| !s.is_empty())
    };
    let required =
        |key: &'static str| text(key).map(str::to_string).ok_or(MachineInfoError::MissingKey(key));
    let optional = |key: &str| text(key).map(str::to_string);
    let bad = |key| move |problem| MachineInfoError::BadId { key, problem };
    Ok(MachineInfo {
        udid: Udid::parse(&required("UDID")?).map_err(bad("UDID"))?,
        serial: Serial::parse(&required("SERIAL")?).map_err(bad("SERIAL"))?,
        product: optional("PRODUCT"),
        version: optional("VERSION"),
        os_version: optional("OS_VERSION"),
        supplemental_build_version: optional("SUPPLEMENTAL_BUILD_VERSION"),
        supplemental_os_version_extra: optional("SUPPLEMENTAL_OS_VERSION_EXTRA"),
        imei: optional("IMEI"),
        meid: optional("MEID"),
        language: optional("LANGUAGE"),
        mdm_can_request_software_update: dict
            .get("MDM_CAN_REQUEST_SOFTWARE_UPDATE")
            .and_then(|v| v.as_boolean()),
        software_update_device_id: optional("SOFTWARE_UPDATE_DEVICE_ID"),
        mandatory_software_update_required: dict
            .get("MANDATORY_SOFTWARE_UPDATE_REQUIRED")
            .and_then(|v| v.as_boolean()),
        has_pairing_token: dict.get("PAIRING_TOKEN").is_some(),
    })
}

/// A plist as JSON for display: data as base64, dates as ISO 8601 text.
pub fn plist_to_json(value: &plist::Value) -> serde_json::Value {
    use base64ct::{Base64, Encoding};
    use plist::Value as P;
    use serde_json::Value as J;
    match value {
        P::Dictionary(d) => {
            J::Object(d.iter().map(|(k, v)| (k.clone(), plist_to_json(v))).collect())
        }
        P::Array(a) => J::Array(a.iter().map(plist_to_json).collect()),
        P::Boolean(b) => J::Bool(*b),
        P::Integer(i) => {
            i.as_signed().map(J::from).or_else(|| i.as_unsigned().map(J::from)).unwrap_or(J::Null)
        }
        P::Real(r) => serde_json::Number::from_f64(*r).map(J::Number).unwrap_or(J::Null),
        P::String(s) => J::String(s.clone()),
        P::Date(d) => J::String(d.to_xml_format()),
        P::Data(bytes) => J::String(Base64::encode_string(bytes)),
        P::Uid(u) => J::from(u.get()),
        _ => J::Null,
    }
}

#[cfg(test)]
mod tests;
