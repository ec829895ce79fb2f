//! Enrollment profiles on the simulated Apple side: Apple's define-time validation, and
//! define / get / assign / remove on `World` (dep-api.md §3.3, §4).
//!
//! Validation works on the raw JSON, because Apple answers a missing `profile_name` with
//! `CONFIG_NAME_REQUIRED` rather than a parse error; the stored profile is the body minus
//! `devices`, with the unprefixed boolean spellings (`supervised`, …) renamed to Apple's `is_*`
//! names (§4 "Open question"). Assign and remove update `profile_status`, `profile_uuid`,
//! `profile_assign_time` and log `modified` events. Pure.

use crate::apple::dep::{DepErrorCode as Code, Profile};
use crate::sim::dep::device::{ProfileStatus, SimDevice, When};
use crate::sim::dep::world::{ServerId, World};
use serde_json::{Map, Value};
use std::sync::Arc;
use time::OffsetDateTime;

/// Most serials per assign/remove request Apple asks for (§3.3).
pub const MAX_ASSIGN: usize = 1000;

/// Per-device outcome of define/assign/remove/disown (§3.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceResult {
    Success,
    NotAccessible,
    Failed,
    Throttled,
}

/// Share of devices that fail or are throttled on this request (faults; throttling only at
/// protocol ≥ 9, decided by the caller).
#[derive(Clone, Copy, Debug, Default)]
pub struct AssignFaults {
    pub throttle_rate: f64,
    pub fail_rate: f64,
}

/// Boolean keys Apple knows, with the unprefixed aliases some clients send.
const FLAGS: &[(&str, Option<&str>)] = &[
    ("allow_pairing", None),
    ("is_supervised", Some("supervised")),
    ("is_mandatory", Some("mandatory")),
    ("is_mdm_removable", Some("mdm_removable")),
    ("await_device_configured", None),
    ("auto_advance_setup", None),
    ("is_multi_user", Some("multi_user")),
    ("is_return_to_service", Some("return_to_service")),
    ("do_not_use_profile_from_backup", None),
];

/// Checks a define body the way Apple does and returns the profile to store, or the error
/// code Apple answers (400 body).
pub fn validate(body: &Value) -> Result<Profile, Code> {
    let obj = body.as_object().ok_or(Code::MalformedRequestBody)?;
    let mut out = Map::new();
    for (k, v) in obj {
        let key = FLAGS
            .iter()
            .find(|(_, alias)| *alias == Some(k.as_str()))
            .map_or(k.as_str(), |(n, _)| n);
        if key != "devices" && key != "profile_uuid" {
            out.insert(key.to_string(), v.clone());
        }
    }
    match out.get("profile_name") {
        None | Some(Value::Null) => return Err(Code::ConfigNameRequired),
        Some(Value::String(s)) if s.is_empty() => return Err(Code::ConfigNameRequired),
        Some(v) => text(v, 1, 125).ok_or(Code::ConfigNameInvalid).map(|_| ())?,
    }
    match out.get("url") {
        None | Some(Value::Null) => return Err(Code::ConfigUrlRequired),
        Some(Value::String(s)) if s.is_empty() => return Err(Code::ConfigUrlRequired),
        Some(v) => text(v, 1, 2000)
            .filter(|u| is_url(u, false))
            .ok_or(Code::ConfigUrlInvalid)
            .map(|_| ())?,
    }
    if let Some(v) = out.get("configuration_web_url") {
        text(v, 1, 2000).filter(|u| is_url(u, true)).ok_or(Code::ConfigUrlInvalid)?;
    }
    optional_text(&out, "department", 125, Code::DepartmentInvalid)?;
    optional_text(&out, "support_phone_number", 50, Code::SupportPhoneInvalid)?;
    optional_text(&out, "support_email_address", 250, Code::SupportEmailInvalid)?;
    if let Some(e) = out.get("support_email_address").and_then(Value::as_str) {
        let ok = e
            .split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !e.contains(' '));
        if !ok {
            return Err(Code::SupportEmailInvalid);
        }
    }
    // Whether Apple refuses an empty org_magic is uncertain (§4); the simulator tolerates it.
    if let Some(v) = out.get("org_magic") {
        text(v, 0, 256).ok_or(Code::MagicInvalid)?;
    }
    if let Some(v) = out.get("language") {
        text(v, 2, 3)
            .filter(|l| l.bytes().all(|b| b.is_ascii_lowercase()))
            .ok_or(Code::LocaleInvalid)?;
    }
    if let Some(v) = out.get("region") {
        text(v, 2, 2)
            .filter(|r| r.bytes().all(|b| b.is_ascii_uppercase()))
            .ok_or(Code::LocaleInvalid)?;
    }
    for (name, _) in FLAGS {
        if out.get(*name).is_some_and(|v| !v.is_boolean()) {
            return Err(Code::FlagsInvalid);
        }
    }
    let flag = |k: &str| out.get(k).and_then(Value::as_bool);
    // Locked enrollment needs supervision (Fleet hit this, fleetdm/fleet#17558).
    if flag("is_mdm_removable") == Some(false) && flag("is_supervised") != Some(true) {
        return Err(Code::FlagsInvalid);
    }
    for key in ["skip_setup_items", "anchor_certs", "supervising_host_certs"] {
        if out.get(key).is_some_and(|v| !is_string_array(v)) {
            return Err(Code::MalformedRequestBody);
        }
    }
    // Every field was checked above, so the shared wire type reads it; anything it still
    // cannot read (a number where a string belongs) is a malformed body.
    serde_json::from_value(Value::Object(out)).map_err(|_| Code::MalformedRequestBody)
}

/// The `devices` list of a define/assign/remove body: `Ok(empty)` when absent.
pub fn serials(body: &Value) -> Result<Vec<String>, Code> {
    match body.get("devices") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(v) if is_string_array(v) => Ok(v
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect()),
        Some(_) => Err(Code::MalformedRequestBody),
    }
}

fn text(v: &Value, min: usize, max: usize) -> Option<&str> {
    let s = v.as_str()?;
    let n = s.chars().count();
    (min..=max).contains(&n).then_some(s)
}

fn optional_text(obj: &Map<String, Value>, key: &str, max: usize, code: Code) -> Result<(), Code> {
    match obj.get(key) {
        None => Ok(()),
        Some(v) => text(v, 1, max).map(|_| ()).ok_or(code),
    }
}

fn is_string_array(v: &Value) -> bool {
    v.as_array().is_some_and(|a| a.iter().all(Value::is_string))
}

/// RFC 2396-ish: a scheme, `://`, a host, no whitespace.
fn is_url(u: &str, https_only: bool) -> bool {
    let Some((scheme, rest)) = u.split_once("://") else { return false };
    let scheme_ok = if https_only {
        scheme.eq_ignore_ascii_case("https")
    } else {
        scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http")
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    scheme_ok && !host.is_empty() && !u.chars().any(|c| c.is_whitespace() || c.is_control())
}

impl World {
    /// `POST /profile`: stores a validated profile under a new 32-hex UUID and assigns it to
    /// `devices` at once.
    pub fn define_profile(
        &mut self,
        server: ServerId,
        profile: Profile,
        devices: &[String],
        faults: AssignFaults,
        now: OffsetDateTime,
    ) -> (String, Vec<(String, DeviceResult)>) {
        let uuid = self.rng.hex_upper(16);
        if let Some(srv) = self.servers.get_mut(server as usize) {
            srv.profiles.insert(uuid.clone(), profile);
        }
        let results = self.assign_profile(server, &uuid, devices, faults, now).unwrap_or_default();
        (uuid, results)
    }

    /// `GET /profile`: the stored profile (without `profile_uuid`; the caller adds it).
    pub fn profile(&self, server: ServerId, uuid: &str) -> Option<&Profile> {
        self.servers.get(server as usize)?.profiles.get(&uuid.to_ascii_uppercase())
    }

    /// `POST|PUT /profile/devices`. `None` when the server has no such profile.
    pub fn assign_profile(
        &mut self,
        server: ServerId,
        uuid: &str,
        serials: &[String],
        faults: AssignFaults,
        now: OffsetDateTime,
    ) -> Option<Vec<(String, DeviceResult)>> {
        let uuid = uuid.to_ascii_uppercase();
        self.servers.get(server as usize)?.profiles.get(&uuid)?;
        let profile: Arc<str> = Arc::from(uuid.as_str());
        let at = now.unix_timestamp();
        Some(self.per_device(
            server,
            serials,
            faults,
            |d| SimDevice {
                profile_uuid: Some(Arc::clone(&profile)),
                profile_status: ProfileStatus::Assigned,
                profile_assign_time: When::at(at),
                profile_push_time: When::NEVER,
                ..d.clone()
            },
            at,
        ))
    }

    /// `DELETE /profile/devices`: the devices keep no assignment (`profile_status: removed`;
    /// the last `profile_uuid` stays visible, as in Apple's sample, fixtures
    /// `devices-sync.post.response-modified-deleted.json`).
    pub fn remove_profile(
        &mut self,
        server: ServerId,
        serials: &[String],
        fail_rate: f64,
        now: OffsetDateTime,
    ) -> Vec<(String, DeviceResult)> {
        let at = now.unix_timestamp();
        let faults = AssignFaults { throttle_rate: 0.0, fail_rate };
        self.per_device(
            server,
            serials,
            faults,
            |d| SimDevice {
                profile_status: ProfileStatus::Removed,
                profile_push_time: When::NEVER,
                ..d.clone()
            },
            at,
        )
    }

    fn per_device(
        &mut self,
        server: ServerId,
        serials: &[String],
        faults: AssignFaults,
        change: impl Fn(&SimDevice) -> SimDevice,
        at: i64,
    ) -> Vec<(String, DeviceResult)> {
        let mut results: Vec<(String, DeviceResult)> = Vec::with_capacity(serials.len());
        let mut seen = std::collections::HashSet::with_capacity(serials.len());
        for serial in serials {
            if !seen.insert(serial.as_str()) {
                continue;
            }
            let result = if self.device_at(server, serial).is_none() {
                DeviceResult::NotAccessible
            } else if self.rng.chance(faults.throttle_rate) {
                DeviceResult::Throttled
            } else if self.rng.chance(faults.fail_rate) {
                DeviceResult::Failed
            } else {
                self.update_device(server, serial, at, |d| Some(change(d)));
                DeviceResult::Success
            };
            results.push((serial.clone(), result));
        }
        results
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ok() -> Value {
        json!({"profile_name": "Sales", "url": "https://mdm.example.org/enroll"})
    }

    fn with(extra: Value) -> Value {
        let mut v = ok();
        v.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        v
    }

    #[test]
    fn accepts_a_minimal_profile_and_renames_unprefixed_flags() {
        let p =
            validate(&with(json!({"supervised": true, "mdm_removable": false, "devices": ["A"]})))
                .unwrap();
        assert_eq!(p.is_supervised, Some(true));
        assert_eq!(p.is_mdm_removable, Some(false));
        assert!(p.devices.is_empty(), "devices are assigned, not stored");
    }

    #[test]
    fn names_apples_codes_for_each_bad_field() {
        let cases = [
            (json!({"url": "https://a.example"}), Code::ConfigNameRequired),
            (json!({"profile_name": "", "url": "https://a.example"}), Code::ConfigNameRequired),
            (
                json!({"profile_name": "x".repeat(126), "url": "https://a.example"}),
                Code::ConfigNameInvalid,
            ),
            (json!({"profile_name": 5, "url": "https://a.example"}), Code::ConfigNameInvalid),
            (json!({"profile_name": "p"}), Code::ConfigUrlRequired),
            (json!({"profile_name": "p", "url": "not a url"}), Code::ConfigUrlInvalid),
            (
                json!({"profile_name": "p", "url": format!("https://a.example/{}", "x".repeat(2000))}),
                Code::ConfigUrlInvalid,
            ),
            (with(json!({"configuration_web_url": "http://a.example"})), Code::ConfigUrlInvalid),
            (with(json!({"department": "d".repeat(126)})), Code::DepartmentInvalid),
            (with(json!({"department": ""})), Code::DepartmentInvalid),
            (with(json!({"support_phone_number": "1".repeat(51)})), Code::SupportPhoneInvalid),
            (with(json!({"support_email_address": "nobody"})), Code::SupportEmailInvalid),
            (with(json!({"org_magic": "m".repeat(257)})), Code::MagicInvalid),
            (with(json!({"language": "EN"})), Code::LocaleInvalid),
            (with(json!({"region": "us"})), Code::LocaleInvalid),
            (with(json!({"is_mdm_removable": false})), Code::FlagsInvalid),
            (with(json!({"is_mdm_removable": false, "is_supervised": false})), Code::FlagsInvalid),
            (with(json!({"is_supervised": "yes"})), Code::FlagsInvalid),
            (with(json!({"skip_setup_items": "Siri"})), Code::MalformedRequestBody),
            (json!(["not", "an", "object"]), Code::MalformedRequestBody),
        ];
        for (body, code) in cases {
            assert_eq!(validate(&body).err(), Some(code), "{body}");
        }
    }

    #[test]
    fn locked_enrollment_is_fine_when_supervised() {
        assert!(validate(&with(json!({"is_mdm_removable": false, "is_supervised": true}))).is_ok());
        assert!(
            validate(&with(json!({"org_magic": "", "language": "en", "region": "US"}))).is_ok()
        );
    }

    #[test]
    fn the_fixture_define_body_is_valid() {
        let Some(bytes) = crate::fixtures::read("dep-api-json/profile.post.request.json") else {
            return;
        };
        let body: Value = serde_json::from_slice(&bytes).unwrap();
        let stored = validate(&body).unwrap();
        assert_eq!(stored.is_supervised, Some(true));
        assert_eq!(serials(&body).unwrap().len(), 2);
    }
}
