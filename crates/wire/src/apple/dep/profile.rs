//! Enrollment profile bodies: the define body (Profile), define/assign answers
//! (dep-api.md §3.3, §4).
//!
//! Boolean key names: Apple's docs and every production client use `is_supervised`,
//! `is_mandatory`, `is_mdm_removable`, `is_multi_user`, `is_return_to_service`; petarov's newer
//! mocks use the unprefixed names. We always write `is_*` and read both (§4, open question).

use super::status::DeviceStatus;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The Profile object: the body of `POST /profile` and the answer of `GET /profile`.
///
/// `profile_name` and `url` are required by Apple; they read as `""` when absent so that a
/// server can answer `CONFIG_NAME_REQUIRED` / `CONFIG_URL_REQUIRED` instead of a parse error.
/// Optional flags are `None` when absent so that Apple's defaults apply (notably
/// `is_mdm_removable` defaults to **true**; sending `false` without `is_supervised: true` is
/// `FLAGS_INVALID`).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Profile {
    #[serde(default)]
    pub profile_name: String,
    #[serde(default)]
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration_web_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_pairing: Option<bool>,
    #[serde(
        rename = "is_supervised",
        alias = "supervised",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub is_supervised: Option<bool>,
    #[serde(
        rename = "is_mandatory",
        alias = "mandatory",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub is_mandatory: Option<bool>,
    #[serde(
        rename = "is_mdm_removable",
        alias = "mdm_removable",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub is_mdm_removable: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub await_device_configured: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_advance_setup: Option<bool>,
    #[serde(
        rename = "is_multi_user",
        alias = "multi_user",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub is_multi_user: Option<bool>,
    #[serde(
        rename = "is_return_to_service",
        alias = "return_to_service",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub is_return_to_service: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub do_not_use_profile_from_backup: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support_phone_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support_email_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_magic: Option<String>,
    /// ISO 639-1/639-2 code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// ISO 3166-1 alpha-2, upper case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Base64 DER certificates trusted for the MDM server URL.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub anchor_certs: Vec<String>,
    /// Base64 DER certificates of hosts allowed to pair.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub supervising_host_certs: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skip_setup_items: Vec<String>,
    /// Serials to assign at definition time.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<String>,
    /// Only in `GET /profile` answers (undocumented there, but present).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_uuid: Option<String>,
}

/// `POST /profile` answer: a new 32-hex UUID per define, and per-device results for the
/// profile's `devices`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct DefineProfileResponse {
    pub profile_uuid: String,
    #[serde(default)]
    pub devices: BTreeMap<String, DeviceStatus>,
}

/// `POST|PUT /profile/devices` body (ProfileServiceRequest), ≤ 1000 serials.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct AssignProfileRequest {
    #[serde(default)]
    pub profile_uuid: String,
    #[serde(default)]
    pub devices: Vec<String>,
}

/// `POST|PUT /profile/devices` answer. `retry_after_seconds` (v10) is present when at least one
/// device was `THROTTLED`; wait at least that long before retrying those devices (§3.3).
/// Serials missing from `devices` should be treated as FAILED (Fleet's practice).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct AssignProfileResponse {
    #[serde(default)]
    pub profile_uuid: String,
    #[serde(default)]
    pub devices: BTreeMap<String, DeviceStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_is_prefixed_flags() {
        let p = Profile {
            profile_name: "p".into(),
            url: "https://mdm.example/enroll".into(),
            is_supervised: Some(true),
            is_mdm_removable: Some(false),
            is_return_to_service: Some(true),
            ..Profile::default()
        };
        let json = serde_json::to_string(&p).unwrap();
        assert!(json.contains(r#""is_supervised":true"#), "{json}");
        assert!(json.contains(r#""is_mdm_removable":false"#), "{json}");
        assert!(json.contains(r#""is_return_to_service":true"#), "{json}");
        assert!(!json.contains("is_mandatory"), "absent flags stay absent: {json}");
    }

    #[test]
    fn reads_both_prefixed_and_unprefixed_flags() {
        let prefixed: Profile = serde_json::from_str(
            r#"{"profile_name":"p","url":"u","is_supervised":true,"is_multi_user":false}"#,
        )
        .unwrap();
        let plain: Profile = serde_json::from_str(
            r#"{"profile_name":"p","url":"u","supervised":true,"multi_user":false}"#,
        )
        .unwrap();
        assert_eq!(prefixed, plain);
        assert_eq!(plain.is_supervised, Some(true));
        assert_eq!(plain.is_multi_user, Some(false));
    }

    #[test]
    fn missing_name_and_url_read_as_empty() {
        let p: Profile = serde_json::from_str("{}").unwrap();
        assert!(p.profile_name.is_empty() && p.url.is_empty());
    }

    #[test]
    fn assign_response_keeps_retry_after() {
        let r: AssignProfileResponse = serde_json::from_str(
            r#"{"profile_uuid":"A","devices":{"C1":"THROTTLED"},"retry_after_seconds":30}"#,
        )
        .unwrap();
        assert_eq!(r.retry_after_seconds, Some(30));
        assert_eq!(r.devices["C1"], DeviceStatus::Throttled);
    }
}
