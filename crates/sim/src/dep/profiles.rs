//! Enrollment profiles on the simulated Apple side: Apple's define-time validation, and
//! define / get / assign / remove on `World` (dep-api.md §3.3, §4).
//!
//! The body is read strictly by [`ProfileDefinition`] (`requests.rs`); [`validate`] then
//! applies Apple's value rules and answers the code Apple documents for each (§4 table). The
//! stored profile is the definition minus `devices` and `profile_uuid`, always with Apple's
//! `is_*` flag names. Assign and remove update `profile_status`, `profile_uuid`,
//! `profile_assign_time` and log `modified` events. Pure.

use crate::dep::codes::Code;
use crate::dep::device::{ProfileStatus, SimDevice, When};
use crate::dep::requests::ProfileDefinition;
use crate::dep::world::{ServerId, World};
use std::sync::Arc;
use time::OffsetDateTime;

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

/// Applies Apple's rules to a define body (§4) and returns the profile to store, or the code
/// Apple answers (400 body). A value of the wrong JSON type never gets here: the strict reader
/// already answered `MALFORMED_REQUEST_BODY`.
pub fn validate(mut p: ProfileDefinition) -> Result<ProfileDefinition, Code> {
    match p.profile_name.as_deref() {
        None | Some("") => return Err(Code::ConfigNameRequired),
        Some(name) if !chars_within(name, 1, 125) => return Err(Code::ConfigNameInvalid),
        Some(_) => {}
    }
    match p.url.as_deref() {
        None | Some("") => return Err(Code::ConfigUrlRequired),
        Some(url) if !(chars_within(url, 1, 2000) && is_url(url, false)) => {
            return Err(Code::ConfigUrlInvalid);
        }
        Some(_) => {}
    }
    // The web view must be https (AppleDoc `authenticating-through-web-views`, §4).
    if p.configuration_web_url
        .as_deref()
        .is_some_and(|u| !(chars_within(u, 1, 2000) && is_url(u, true)))
    {
        return Err(Code::ConfigUrlInvalid);
    }
    within(&p.department, 1, 125, Code::DepartmentInvalid)?;
    within(&p.support_phone_number, 1, 50, Code::SupportPhoneInvalid)?;
    within(&p.support_email_address, 1, 250, Code::SupportEmailInvalid)?;
    if let Some(e) = p.support_email_address.as_deref() {
        let ok = e
            .split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !e.contains(' '));
        if !ok {
            return Err(Code::SupportEmailInvalid);
        }
    }
    // Whether Apple refuses an empty org_magic is uncertain (§4); the simulator tolerates it.
    within(&p.org_magic, 0, 256, Code::MagicInvalid)?;
    let letters = |s: &str, n: std::ops::RangeInclusive<usize>, upper: bool| {
        n.contains(&s.len())
            && s.bytes()
                .all(|b| if upper { b.is_ascii_uppercase() } else { b.is_ascii_lowercase() })
    };
    if p.language.as_deref().is_some_and(|l| !letters(l, 2..=3, false))
        || p.region.as_deref().is_some_and(|r| !letters(r, 2..=2, true))
    {
        return Err(Code::LocaleInvalid);
    }
    // Locked enrollment needs supervision (Fleet hit this, fleetdm/fleet#17558).
    if p.is_mdm_removable == Some(false) && p.is_supervised != Some(true) {
        return Err(Code::FlagsInvalid);
    }
    // Base64 DER certificates (§4). Apple's code for a bad one is not documented; a value that
    // is not a certificate cannot be read as one.
    for list in [&p.anchor_certs, &p.supervising_host_certs] {
        if list.iter().flatten().any(|c| !is_der_certificate(c)) {
            log::warn!(target: "sim::dep", "refused a profile: a certificate is not base64 DER");
            return Err(Code::MalformedRequestBody);
        }
    }
    p.devices = None;
    p.profile_uuid = None;
    Ok(p)
}

fn chars_within(s: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&s.chars().count())
}

fn within(v: &Option<String>, min: usize, max: usize, code: Code) -> Result<(), Code> {
    match v {
        Some(s) if !chars_within(s, min, max) => Err(code),
        _ => Ok(()),
    }
}

fn is_der_certificate(b64: &str) -> bool {
    use base64ct::{Base64, Encoding};
    Base64::decode_vec(b64).is_ok_and(|der| x509_parser::parse_x509_certificate(&der).is_ok())
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
        profile: ProfileDefinition,
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
    pub fn profile(&self, server: ServerId, uuid: &str) -> Option<&ProfileDefinition> {
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
    use crate::dep::requests::read;
    use serde_json::{Value, json};

    fn ok() -> Value {
        json!({"profile_name": "Sales", "url": "https://mdm.example.org/enroll"})
    }

    fn with(extra: Value) -> Value {
        let mut v = ok();
        v.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        v
    }

    /// What Apple answers for a body: the strict read, then the value rules.
    fn check(body: &Value) -> Result<ProfileDefinition, Code> {
        validate(read("profile", body.to_string().as_bytes())?)
    }

    #[test]
    fn accepts_a_minimal_profile_and_renames_unprefixed_flags() {
        let p = check(&with(json!({"supervised": true, "mdm_removable": false, "devices": ["A"]})))
            .unwrap();
        assert_eq!(p.is_supervised, Some(true));
        assert_eq!(p.is_mdm_removable, Some(false));
        assert!(p.devices.is_none(), "devices are assigned, not stored");
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
            (with(json!({"anchor_certs": ["bm90IGEgY2VydA=="]})), Code::MalformedRequestBody),
            // Values of the wrong JSON type and unknown keys cannot be read at all.
            (json!({"profile_name": 5, "url": "https://a.example"}), Code::MalformedRequestBody),
            (with(json!({"is_supervised": "yes"})), Code::MalformedRequestBody),
            (with(json!({"skip_setup_items": "Siri"})), Code::MalformedRequestBody),
            (with(json!({"is_supervized": true})), Code::MalformedRequestBody),
            (json!(["not", "an", "object"]), Code::MalformedRequestBody),
        ];
        for (body, code) in cases {
            assert_eq!(check(&body).err(), Some(code), "{body}");
        }
    }

    #[test]
    fn locked_enrollment_is_fine_when_supervised() {
        assert!(check(&with(json!({"is_mdm_removable": false, "is_supervised": true}))).is_ok());
        assert!(check(&with(json!({"org_magic": "", "language": "en", "region": "US"}))).is_ok());
    }

    #[test]
    fn the_fixture_define_body_is_valid() {
        let Some(bytes) = crate::fixtures::read("dep-api-json/profile.post.request.json") else {
            return;
        };
        let body: ProfileDefinition = read("profile", &bytes).unwrap();
        assert_eq!(body.devices.as_ref().map(Vec::len), Some(2));
        let stored = validate(body).unwrap();
        assert_eq!(stored.is_supervised, Some(true));
        assert_eq!(stored.is_return_to_service, Some(true));
    }

    #[test]
    fn what_the_product_sends_is_read_key_for_key() {
        // The product's full define body, every optional key set, passes the strict reader and
        // comes back from `GET /profile` unchanged.
        let cert = crate::crypto::ca::Authority::generate(
            "anchor",
            time::macros::datetime!(2026-03-01 12:00 UTC),
            time::Duration::days(1),
        )
        .unwrap();
        let der = crate::crypto::ca::pem_to_der(cert.cert_pem()).unwrap();
        let b64 = <base64ct::Base64 as base64ct::Encoding>::encode_string(&der);
        let product = crate::apple::dep::Profile {
            profile_name: "All".into(),
            url: "https://mdm.example.org/enroll".into(),
            configuration_web_url: Some("https://mdm.example.org/web".into()),
            allow_pairing: Some(true),
            is_supervised: Some(true),
            is_mandatory: Some(true),
            is_mdm_removable: Some(false),
            await_device_configured: Some(true),
            auto_advance_setup: Some(false),
            is_multi_user: Some(false),
            is_return_to_service: Some(false),
            do_not_use_profile_from_backup: Some(true),
            support_phone_number: Some("+1 555 0100".into()),
            support_email_address: Some("it@example.org".into()),
            department: Some("IT".into()),
            org_magic: Some("1".into()),
            language: Some("en".into()),
            region: Some("US".into()),
            anchor_certs: vec![b64.clone()],
            supervising_host_certs: vec![b64],
            skip_setup_items: vec!["Siri".into()],
            devices: vec!["SERIAL0001".into()],
            profile_uuid: None,
        };
        let sent = serde_json::to_vec(&product).unwrap();
        let stored = validate(read("profile", &sent).unwrap()).unwrap();
        let mut expected = serde_json::to_value(&product).unwrap();
        expected.as_object_mut().unwrap().remove("devices");
        assert_eq!(Value::Object(stored.answer()), expected);
    }
}
