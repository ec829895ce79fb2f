//! What the profile URL answers (../shared/spec/enrollment.md §1.3–1.5, §2.6).
//!
//! Exposes [`CONTENT_TYPE_PROFILE`], [`sign_profile`] (the signed .mobileconfig bytes: CMS
//! SignedData, attached, DER, SHA-256, signed attributes), [`Refusal`] (the 403 JSON body) and
//! [`SoftwareUpdateRequired`] (the 403 JSON that asks the device to update first), and
//! [`CONTENT_TYPE_REFUSAL`]. The HTTP layer sends these; nothing here does I/O. Time is a
//! parameter (the CMS signingTime).

use super::build::ProfileError;
use super::model::EnrollmentProfile;
use crate::crypto::cms::{CmsError, SignOptions, SignerKey, sign_attached};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Content type of a served profile (§1.3).
pub const CONTENT_TYPE_PROFILE: &str = "application/x-apple-aspen-config";
/// Content type of a 403 body: devices parse the body only when it is exactly this (§1.4).
pub const CONTENT_TYPE_REFUSAL: &str = "application/json";
/// The `code` of the software-update-required response (§1.5).
pub const CODE_SOFTWARE_UPDATE_REQUIRED: &str = "com.apple.softwareupdate.required";

/// Why a signed profile could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Profile(#[from] ProfileError),
    #[error("the enrollment profile could not be signed: {0}")]
    Sign(#[from] CmsError),
}

/// The profile as served: its XML plist in a CMS SignedData (attached, DER, SHA-256, signed
/// attributes with `now` as signingTime), signed by `signer_cert` (DER) with `key`, carrying
/// `chain` (DER, e.g. the appliance CA) after the signer (§2.6).
pub fn sign_profile(
    profile: &EnrollmentProfile,
    signer_cert: &[u8],
    chain: &[Vec<u8>],
    key: &SignerKey,
    now: OffsetDateTime,
) -> Result<Vec<u8>, ServeError> {
    let xml = profile.to_xml()?;
    Ok(sign_attached(&xml, signer_cert, chain, key, &SignOptions::profile(now))?)
}

/// A 403 refusal at the profile URL (§1.4). `message` may be shown to the person at the
/// device; `description` is for the device's logs only.
#[derive(Clone, Debug, Eq, PartialEq, Serialize, Deserialize)]
pub struct Refusal {
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "serde_json::Map::is_empty", default)]
    pub details: serde_json::Map<String, serde_json::Value>,
}

impl Refusal {
    /// A refusal with our own `code` (e.g. `adebox.enrollment.unknown-device`) and a message
    /// the device shows as "…from server with message …".
    pub fn new(code: &str, message: &str) -> Refusal {
        Refusal {
            code: code.to_string(),
            message: Some(message.to_string()),
            description: None,
            details: serde_json::Map::new(),
        }
    }
}

/// The OS update a device must install before it may enroll (§1.5). Only send it when the
/// MachineInfo says `MDM_CAN_REQUEST_SOFTWARE_UPDATE = true`.
#[derive(Clone, Debug, Eq, PartialEq, Serialize, Deserialize)]
pub struct SoftwareUpdateRequired {
    /// Always [`CODE_SOFTWARE_UPDATE_REQUIRED`].
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub details: SoftwareUpdateDetails,
}

/// `details` of [`SoftwareUpdateRequired`]: `OSVersion` is required (may carry a supplemental
/// suffix such as `16.1 (a)`), `BuildVersion` optional.
#[derive(Clone, Debug, Eq, PartialEq, Serialize, Deserialize)]
pub struct SoftwareUpdateDetails {
    #[serde(rename = "OSVersion")]
    pub os_version: String,
    #[serde(rename = "BuildVersion", skip_serializing_if = "Option::is_none")]
    pub build_version: Option<String>,
}

impl SoftwareUpdateRequired {
    pub fn new(os_version: &str, build_version: Option<&str>) -> SoftwareUpdateRequired {
        SoftwareUpdateRequired {
            code: CODE_SOFTWARE_UPDATE_REQUIRED.to_string(),
            message: None,
            description: None,
            details: SoftwareUpdateDetails {
                os_version: os_version.to_string(),
                build_version: build_version.map(str::to_string),
            },
        }
    }
}
