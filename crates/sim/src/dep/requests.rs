//! What a DEP client may send, read strictly with the simulator's own types
//! (../shared/spec/dep-api.md §3, §4), never with the product's wire types: a key the spec does
//! not list, a value of the wrong JSON type or a body that is not JSON is refused with Apple's
//! `MALFORMED_REQUEST_BODY` (400), and the refusal is logged with serde's words so the sender
//! sees which key. Missing fields are not a parse error: Apple answers them with their own codes
//! (`CURSOR_REQUIRED`, `DEVICE_ID_REQUIRED`, `PROFILE_UUID_REQUIRED`, `CONFIG_NAME_REQUIRED`, …),
//! which the routes decide.
//!
//! Unknown keys: Apple's handling is not documented (§4 lists the keys, nothing says what an
//! extra one does). The simulator refuses them, so a misspelt key in a client fails its tests
//! instead of being dropped without a word, which is the best Apple would do with it. The
//! documented spellings observers disagree on are tolerated: the unprefixed profile flags
//! (`supervised`, …, §4 "Open question") and `profile_uuid` in a define body (a client that
//! re-defines what `GET /profile` returned sends it; each define makes a new UUID, §3.3, so it
//! is ignored). Pure.

use crate::dep::codes::Code;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Reads a JSON body; an empty body is the type's default (every field absent).
pub fn read<T: DeserializeOwned + Default>(what: &str, bytes: &[u8]) -> Result<T, Code> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(bytes).map_err(|e| {
        log::warn!(target: "sim::dep", "refused the {what} body as MALFORMED_REQUEST_BODY: {e}");
        Code::MalformedRequestBody
    })
}

/// Reads a query string the same way (`GET /profile`, `GET /device/replacementDetails`).
pub fn read_query<T: DeserializeOwned>(what: &str, query: &str) -> Result<T, Code> {
    query_object(query).and_then(|v| {
        serde_json::from_value(v).map_err(|e| {
            log::warn!(target: "sim::dep", "refused the {what} query: {e}");
            Code::MalformedRequestBody
        })
    })
}

/// `a=1&b=2` as a JSON object of strings; a repeated name is refused.
fn query_object(query: &str) -> Result<serde_json::Value, Code> {
    let mut map = serde_json::Map::new();
    for item in query.split('&').filter(|s| !s.is_empty()) {
        let (k, v) = item.split_once('=').unwrap_or((item, ""));
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(&s.replace('+', " "))
                .decode_utf8()
                .map(|c| c.into_owned())
                .map_err(|_| Code::MalformedRequestBody)
        };
        if map.insert(decode(k)?, serde_json::Value::String(decode(v)?)).is_some() {
            return Err(Code::MalformedRequestBody);
        }
    }
    Ok(serde_json::Value::Object(map))
}

/// `POST /server/devices` (FetchDeviceRequest) and `POST /devices/sync` (SyncDeviceRequest):
/// `cursor` a string of at most 1000 characters, `limit` an int32 (§3.2).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CursorRequest {
    pub cursor: Option<String>,
    pub limit: Option<i32>,
}

/// `POST /devices` (details) and `POST /devices/disown`: `{"devices": [serial, …]}` (§3).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceList {
    pub devices: Option<Vec<String>>,
}

/// `POST|PUT /profile/devices` (ProfileServiceRequest) and `DELETE /profile/devices`
/// (ClearProfileRequest, whose `profile_uuid` Apple accepts but does not use, §3.3).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileDevices {
    pub profile_uuid: Option<String>,
    pub devices: Option<Vec<String>>,
}

/// `POST /device/activationlock` (ActivationLockRequest, §3.2).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivationLock {
    pub device: Option<String>,
    pub escrow_key: Option<String>,
    pub lost_message: Option<String>,
}

/// `POST /account-driven-enrollment/profile` (§3).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceDiscovery {
    pub mdm_service_discovery_url: Option<String>,
}

/// `GET /profile?profile_uuid=`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileQuery {
    pub profile_uuid: Option<String>,
}

/// `GET /device/replacementDetails?device=`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceQuery {
    pub device: Option<String>,
}

/// `POST /profile`: every key of the Profile object with its JSON type (§4). Kept as defined
/// (minus `devices` and `profile_uuid`) and answered back by `GET /profile`, always with
/// Apple's `is_*` names.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileDefinition {
    pub profile_name: Option<String>,
    pub url: Option<String>,
    pub configuration_web_url: Option<String>,
    pub allow_pairing: Option<bool>,
    #[serde(alias = "supervised")]
    pub is_supervised: Option<bool>,
    #[serde(alias = "mandatory")]
    pub is_mandatory: Option<bool>,
    #[serde(alias = "mdm_removable")]
    pub is_mdm_removable: Option<bool>,
    pub await_device_configured: Option<bool>,
    pub auto_advance_setup: Option<bool>,
    #[serde(alias = "multi_user")]
    pub is_multi_user: Option<bool>,
    #[serde(alias = "return_to_service")]
    pub is_return_to_service: Option<bool>,
    pub do_not_use_profile_from_backup: Option<bool>,
    pub support_phone_number: Option<String>,
    pub support_email_address: Option<String>,
    pub department: Option<String>,
    pub org_magic: Option<String>,
    pub language: Option<String>,
    pub region: Option<String>,
    pub anchor_certs: Option<Vec<String>>,
    pub supervising_host_certs: Option<Vec<String>>,
    pub skip_setup_items: Option<Vec<String>>,
    #[serde(skip_serializing)]
    pub devices: Option<Vec<String>>,
    #[serde(skip_serializing)]
    pub profile_uuid: Option<String>,
}

impl ProfileDefinition {
    /// The profile as `GET /profile` answers it: the keys it was defined with, nothing else.
    pub fn answer(&self) -> serde_json::Map<String, serde_json::Value> {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(mut map)) => {
                map.retain(|_, v| !v.is_null());
                map
            }
            _ => serde_json::Map::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_request_takes_only_cursor_and_an_int32_limit() {
        let ok: CursorRequest = read("fetch", br#"{"cursor": "abc", "limit": -5}"#).unwrap();
        assert_eq!((ok.cursor.as_deref(), ok.limit), (Some("abc"), Some(-5)));
        let empty: CursorRequest = read("fetch", b" \n").unwrap();
        assert!(empty.cursor.is_none() && empty.limit.is_none());
        for bad in [
            &br#"{"limit": "100"}"#[..],
            br#"{"limit": 1.5}"#,
            br#"{"limit": 4294967296}"#,
            br#"{"cursor": 5}"#,
            br#"{"cursor": "a", "page": 2}"#,
            br#"["cursor"]"#,
            b"limit=100",
        ] {
            let r = read::<CursorRequest>("fetch", bad);
            assert_eq!(
                r.err(),
                Some(Code::MalformedRequestBody),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn a_profile_takes_the_documented_keys_and_the_unprefixed_flag_spellings() {
        let p: ProfileDefinition =
            read("profile", br#"{"profile_name": "p", "supervised": true, "profile_uuid": "X"}"#)
                .unwrap();
        assert_eq!(p.is_supervised, Some(true));
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["is_supervised"], true);
        assert!(json.get("profile_uuid").is_none() && json.get("devices").is_none());
        for bad in [
            &br#"{"profile_name": "p", "is_supervized": true}"#[..],
            br#"{"profile_name": 5}"#,
            br#"{"is_supervised": "yes"}"#,
            br#"{"skip_setup_items": "Siri"}"#,
            br#"{"is_supervised": true, "supervised": true}"#,
        ] {
            let r = read::<ProfileDefinition>("profile", bad);
            assert_eq!(
                r.err(),
                Some(Code::MalformedRequestBody),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn queries_take_only_their_parameter_once() {
        let q: ProfileQuery = read_query("profile", "profile_uuid=AB%43").unwrap();
        assert_eq!(q.profile_uuid.as_deref(), Some("ABC"));
        assert!(read_query::<ProfileQuery>("profile", "").unwrap().profile_uuid.is_none());
        assert!(read_query::<ProfileQuery>("profile", "uuid=1").is_err());
        assert!(read_query::<ProfileQuery>("profile", "profile_uuid=1&profile_uuid=2").is_err());
        assert!(read_query::<DeviceQuery>("details", "device=%FF").is_err());
    }
}
