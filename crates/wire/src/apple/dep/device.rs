//! Device bodies: fetch/sync pages, the Device record, device details, disown, activation
//! lock and replacement details (dep-api.md §3.2).

use super::status::{ActivationLockStatus, DeviceStatus, OpType, ProfileStatus};
use super::time_format;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// `POST /server/devices` body. `cursor` is omitted on the first fetch; `limit` is 1..=1000.
/// Also the sync body ([`SyncDeviceRequest`]), where Apple requires `cursor`: it stays an
/// `Option` here so a server can answer `CURSOR_REQUIRED` rather than a parse error.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct FetchDeviceRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// `POST /devices/sync` body: the same shape as fetch, `cursor` required by Apple.
pub type SyncDeviceRequest = FetchDeviceRequest;

/// One page of fetch or sync (FetchDeviceResponse, dep-api.md §3.2).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct FetchDeviceResponse {
    /// Always present; opaque (≤ 1000 chars). Store it after the page is saved.
    pub cursor: String,
    #[serde(default)]
    pub devices: Vec<Device>,
    /// Progress mark; depsim sends `0001-01-01T00:00:00Z`.
    #[serde(default, with = "time_format::option", skip_serializing_if = "Option::is_none")]
    pub fetched_until: Option<OffsetDateTime>,
    /// Call again at once with the new cursor. Apple has been seen echoing the request cursor
    /// with `true` forever (§3.2 item 6): callers must not loop on an unchanged cursor.
    #[serde(default)]
    pub more_to_follow: bool,
}

/// A device record (ADS `Device.json`, dep-api.md §3.2 table), every field up to protocol 10.
///
/// Everything is optional on the wire: `deleted` sync records carry only serial, op_type,
/// op_date (and v10 `released_by_replacement`), and `POST /devices` answers a serial it cannot
/// see with only `response_status`. An absent `serial_number` reads as `""`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Device {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub serial_number: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_tag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_status: Option<ProfileStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_uuid: Option<String>,
    #[serde(default, with = "time_format::option", skip_serializing_if = "Option::is_none")]
    pub profile_assign_time: Option<OffsetDateTime>,
    #[serde(default, with = "time_format::option", skip_serializing_if = "Option::is_none")]
    pub profile_push_time: Option<OffsetDateTime>,
    #[serde(default, with = "time_format::option", skip_serializing_if = "Option::is_none")]
    pub device_assigned_date: Option<OffsetDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_assigned_by: Option<String>,
    /// v2+: `iOS`, `iPadOS` (v7+), `OSX`, `tvOS`, `visionOS`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    /// v2+: `iPad`, `iPhone`, `iPod`, `Mac`, `AppleTV`, `Vision`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_family: Option<String>,
    /// Sync records only; absent on fetch (treat as present/added).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op_type: Option<OpType>,
    #[serde(default, with = "time_format::option", skip_serializing_if = "Option::is_none")]
    pub op_date: Option<OffsetDateTime>,
    /// v8+.
    #[serde(default, with = "time_format::option", skip_serializing_if = "Option::is_none")]
    pub mdm_migration_deadline: Option<OffsetDateTime>,
    /// v10+ fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ethernet_mac_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wifi_mac_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bluetooth_mac_address: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub imei: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub meid: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_replacement_device: Option<bool>,
    /// Only on `deleted` sync records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub released_by_replacement: Option<bool>,
    /// Only in `POST /devices` results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_status: Option<DeviceStatus>,
}

/// `{"devices": [serial…]}`: the body of `POST /devices` and `POST /devices/disown`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct DeviceListRequest {
    #[serde(default)]
    pub devices: Vec<String>,
}

/// `POST /devices` answer: device records keyed by serial (dep-api.md §3.2).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct DeviceListResponse {
    #[serde(default)]
    pub devices: BTreeMap<String, Device>,
}

/// `{"devices": {serial: status}}`: the answer of disown and of `DELETE /profile/devices`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct DeviceStatusResponse {
    #[serde(default)]
    pub devices: BTreeMap<String, DeviceStatus>,
}

/// `POST /devices/disown` answer. FAILED → retry; after three failures contact Apple.
pub type DisownResponse = DeviceStatusResponse;

/// `DELETE /profile/devices` body (ClearProfileRequest). Apple accepts and ignores
/// `profile_uuid` (dep-api.md §3.3).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ClearProfileRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_uuid: Option<String>,
    #[serde(default)]
    pub devices: Vec<String>,
}

/// `DELETE /profile/devices` answer.
pub type ClearProfileResponse = DeviceStatusResponse;

/// `POST /device/activationlock` body. `escrow_key` is 64 hex chars of the PBKDF2-derived
/// bypass key (dep-api.md §3.2); `Debug` redacts it.
#[derive(Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ActivationLockRequest {
    pub device: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escrow_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lost_message: Option<String>,
}

impl std::fmt::Debug for ActivationLockRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActivationLockRequest")
            .field("device", &self.device)
            .field("escrow_key", &self.escrow_key.as_ref().map(|_| "[redacted]"))
            .field("lost_message", &self.lost_message)
            .finish()
    }
}

/// `POST /device/activationlock` answer.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ActivationLockResponse {
    #[serde(default)]
    pub serial_number: String,
    pub response_status: ActivationLockStatus,
}

/// `GET /device/replacementDetails?device=…` answer (v10). `replacement_date` is a bare date
/// (`2025-01-15`), kept as text.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ReplacementDetails {
    pub serial_number: String,
    #[serde(default)]
    pub original_device_serial_number: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replacement_date: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deleted_record_with_only_three_fields_parses() {
        let d: Device = serde_json::from_str(
            r#"{"serial_number":"C1","op_type":"deleted","op_date":"2025-05-04T09:12:00Z"}"#,
        )
        .unwrap();
        assert_eq!(d.op_type, Some(OpType::Deleted));
        assert!(d.model.is_none());
    }

    #[test]
    fn unknown_fields_and_odd_dates_do_not_fail_a_device() {
        let d: Device = serde_json::from_str(
            r#"{"serial_number":"C1","model":"iPhone","future_field":{"x":1},
                "profile_push_time":"not a date","profile_status":""}"#,
        )
        .unwrap();
        assert_eq!(d.profile_push_time, None);
        assert_eq!(d.profile_status, Some(ProfileStatus::Empty));
    }

    #[test]
    fn request_omits_absent_cursor() {
        let r = FetchDeviceRequest { cursor: None, limit: Some(100) };
        assert_eq!(serde_json::to_string(&r).unwrap(), r#"{"limit":100}"#);
    }

    #[test]
    fn device_round_trips_through_json() {
        let d = Device {
            serial_number: "C1".into(),
            op_type: Some(OpType::Added),
            op_date: time_format::parse("2025-05-04T09:12:00Z"),
            imei: vec!["1".into()],
            ..Device::default()
        };
        let json = serde_json::to_string(&d).unwrap();
        assert!(json.contains(r#""op_date":"2025-05-04T09:12:00Z""#));
        assert_eq!(serde_json::from_str::<Device>(&json).unwrap(), d);
    }

    #[test]
    fn escrow_key_is_redacted_in_debug() {
        let r = ActivationLockRequest {
            device: "C1".into(),
            escrow_key: Some("abcd".into()),
            lost_message: None,
        };
        assert!(!format!("{r:?}").contains("abcd"));
    }
}
