//! The Apple side of a profile: the `POST /profile` body built from a validated
//! [`ProfileInput`] (../shared/spec/dep-api.md §4).
//!
//! - Booleans are written with Apple's `is_*` names (`apple::dep::Profile` does that).
//! - `is_mdm_removable` is sent only as `false` (locked enrollment, which validation allows
//!   only with supervision); absent, Apple's default `true` applies and a serialiser default
//!   can never produce `FLAGS_INVALID` (§4, fleetdm/fleet#17558).
//! - `is_multi_user` is sent only when Shared iPad is on.
//! - `anchor_certs` is the appliance CA while it issues the server certificate, so devices
//!   trust our enrollment URL even before the server certificate is known to them, and empty
//!   for a publicly trusted certificate (read live: [`super::anchors`]); `url` and
//!   `configuration_web_url` are this appliance's enrollment endpoints (`crate::urls`).
//! - `org_magic` is fixed and non-empty (§4: whether Apple accepts an empty one is uncertain).

use super::model::ProfileInput;
use crate::apple::dep::Profile;
use base64ct::Encoding;

/// What adebox sends as `org_magic`.
pub const ORG_MAGIC: &str = "adebox";

/// What the profile needs from the appliance itself.
#[derive(Clone, Debug, Default)]
pub struct Endpoints {
    /// MachineInfo POST endpoint (`url`).
    pub url: String,
    /// The web sign-in page (`configuration_web_url`), for profiles with user affinity.
    pub configuration_web_url: String,
    /// The certificates devices pin for `url` (the appliance CA, or none).
    pub anchors: super::anchors::Anchors,
}

/// The define body for `p` (validated) with `endpoints`.
pub fn apple_profile(p: &ProfileInput, endpoints: &Endpoints) -> Profile {
    let host_certs = if p.sync_with_computers == "allow_certificates" {
        p.supervising_host_certs
            .iter()
            .filter_map(|pem| super::validate::host_cert_der(pem))
            .map(|der| base64ct::Base64::encode_string(&der))
            .collect()
    } else {
        vec![]
    };
    Profile {
        profile_name: p.name.clone(),
        url: endpoints.url.clone(),
        // With user affinity the device signs the user in on our web page first; without,
        // it posts MachineInfo to `url` (§4).
        configuration_web_url: (p.user_affinity == "with_affinity")
            .then(|| endpoints.configuration_web_url.clone()),
        allow_pairing: Some(p.sync_with_computers == "allow_all"),
        is_supervised: Some(p.supervised),
        is_mandatory: Some(true),
        is_mdm_removable: p.locked_enrollment.then_some(false),
        await_device_configured: Some(p.await_device_configured),
        auto_advance_setup: None,
        is_multi_user: p.shared_ipad.then_some(true),
        // Sent only when on, like `is_multi_user`: older OSes ignore them (§4.1).
        is_return_to_service: p.return_to_service.then_some(true),
        do_not_use_profile_from_backup: p.do_not_use_profile_from_backup.then_some(true),
        support_phone_number: p.support_phone_number.clone(),
        support_email_address: p.support_email_address.clone(),
        department: p.department.clone(),
        org_magic: Some(ORG_MAGIC.into()),
        language: p.language.clone(),
        region: p.region.clone(),
        anchor_certs: endpoints.anchors.base64(),
        supervising_host_certs: host_certs,
        skip_setup_items: p.hidden_screens.clone(),
        devices: vec![],
        profile_uuid: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profiles::model::parse;
    use serde_json::{Value, json};

    fn endpoints() -> Endpoints {
        Endpoints {
            url: "https://ade.example.org/enroll/machineinfo".into(),
            configuration_web_url: "https://ade.example.org/enroll/web".into(),
            anchors: crate::profiles::anchors::Anchors::fixed(vec![vec![0x30, 0x82, 0x01]]),
        }
    }

    fn json_of(body: Value) -> Value {
        let p = crate::profiles::validate::normalise(parse(body).unwrap());
        serde_json::to_value(apple_profile(&p, &endpoints())).unwrap()
    }

    #[test]
    fn writes_apple_keys_with_is_names_and_our_endpoints() {
        let j = json_of(json!({"name": "Lab", "platforms": ["iOS"], "supervised": true,
            "locked_enrollment": true, "hidden_screens": ["Passcode", "Siri"],
            "department": "IT", "language": "en", "region": "US"}));
        assert_eq!(j["profile_name"], "Lab");
        assert_eq!(j["url"], "https://ade.example.org/enroll/machineinfo");
        assert!(j.get("configuration_web_url").is_none(), "no web sign-in without affinity");
        assert_eq!(j["is_supervised"], true);
        assert_eq!(j["is_mdm_removable"], false);
        assert_eq!(j["await_device_configured"], true);
        assert_eq!(j["anchor_certs"], json!(["MIIB"]));
        assert_eq!(j["skip_setup_items"], json!(["Passcode", "Siri"]));
        assert_eq!(j["org_magic"], ORG_MAGIC);
        assert!(j.get("supervised").is_none() && j.get("is_multi_user").is_none());
        // Every key we write is one of §4's keys (the fixture's define body is read by the
        // same type, see apple::dep fixture tests).
        let known = [
            "profile_name",
            "url",
            "configuration_web_url",
            "allow_pairing",
            "is_supervised",
            "is_mandatory",
            "is_mdm_removable",
            "await_device_configured",
            "auto_advance_setup",
            "is_multi_user",
            "is_return_to_service",
            "do_not_use_profile_from_backup",
            "support_phone_number",
            "support_email_address",
            "department",
            "org_magic",
            "language",
            "region",
            "anchor_certs",
            "supervising_host_certs",
            "skip_setup_items",
            "devices",
        ];
        for k in j.as_object().unwrap().keys() {
            assert!(known.contains(&k.as_str()), "{k} is not an Apple profile key");
        }
    }

    #[test]
    fn removable_is_left_to_apples_default_unless_locked() {
        let j = json_of(json!({"name": "x", "platforms": ["macOS"]}));
        assert!(j.get("is_mdm_removable").is_none(), "{j}");
        assert_eq!(j["is_supervised"], false);
    }

    #[test]
    fn affinity_adds_the_web_sign_in_and_shared_ipad_multi_user() {
        let j = json_of(
            json!({"name": "x", "platforms": ["iPadOS"], "user_affinity": "with_affinity"}),
        );
        assert_eq!(j["configuration_web_url"], "https://ade.example.org/enroll/web");
        let j = json_of(json!({"name": "x", "platforms": ["iPadOS"], "supervised": true,
            "shared_ipad": true, "user_affinity": "shared_device"}));
        assert_eq!(j["is_multi_user"], true);
    }

    #[test]
    fn the_2026_keys_are_sent_only_when_on() {
        let j = json_of(json!({"name": "x", "platforms": ["iOS"]}));
        assert!(j.get("is_return_to_service").is_none(), "{j}");
        assert!(j.get("do_not_use_profile_from_backup").is_none(), "{j}");
        let j = json_of(json!({"name": "x", "platforms": ["iOS"], "supervised": true,
            "return_to_service": true, "do_not_use_profile_from_backup": true}));
        assert_eq!(j["is_return_to_service"], true);
        assert_eq!(j["do_not_use_profile_from_backup"], true);
    }

    #[test]
    fn pairing_follows_sync_with_computers() {
        assert_eq!(json_of(json!({"name": "x", "platforms": ["iOS"]}))["allow_pairing"], true);
        let j =
            json_of(json!({"name": "x", "platforms": ["iOS"], "sync_with_computers": "deny_all"}));
        assert_eq!(j["allow_pairing"], false);
        assert!(j.get("supervising_host_certs").is_none());
    }

    #[test]
    fn the_fixture_define_body_reads_into_the_same_type() {
        let Some(bytes) = crate::fixtures::read("dep-api-json/profile.post.request.json") else {
            return;
        };
        let p: Profile = serde_json::from_slice(&bytes).unwrap();
        assert!(!p.profile_name.is_empty());
        for key in &p.skip_setup_items {
            assert!(crate::apple::skipkeys::find(key).is_some(), "{key} is in Apple's catalog");
        }
    }
}
