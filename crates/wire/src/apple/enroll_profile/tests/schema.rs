//! Every variant of the enrollment profile the builder can write, checked against Apple's
//! schemas (`../shared/fixtures/device-management/`, plus `schemas/overlay/`) by
//! `device-schema`, a reader that shares nothing with [`super::super::model`]: ACME and SCEP, with
//! and without the optional values (description, SCEP `Name`, `CAFingerprint`,
//! `ServerCapabilities`), for each OS class that gets it. A finding is a failure.

use super::super::examples::{acme, inputs, scep, uuids};
use super::super::*;
use crate::apple::machineinfo::MachineInfo;
use crate::ids::{Serial, Udid};
use device_schema::{Context, Os, Schemas};
use plist::Value;
use std::sync::OnceLock;

/// Apple's schemas and the overlay, loaded once; `None` (with a notice) without fixtures.
pub(crate) fn schemas() -> Option<&'static Schemas> {
    static LOADED: OnceLock<Option<Schemas>> = OnceLock::new();
    LOADED
        .get_or_init(|| {
            let dir = crate::fixtures::dir()?;
            Some(Schemas::from_fixtures(&dir).unwrap_or_else(|e| panic!("{e}")))
        })
        .as_ref()
}

fn scep_pinned() -> IdentityInputs {
    let mut s = scep();
    if let IdentityInputs::Scep { ca_fingerprint, .. } = &mut s {
        *ca_fingerprint = Some(vec![0xab; 32]);
    }
    s
}

/// The profile the builder writes for `inputs`, read back from its XML bytes.
fn written(inputs: &ProfileInputs) -> Value {
    let xml = build_profile(inputs, &mut uuids()).unwrap().to_xml().unwrap();
    Value::from_reader_xml(xml.as_slice()).unwrap()
}

/// Every payload-changing combination of the builder's inputs, named.
fn variants() -> Vec<(String, ProfileInputs)> {
    let mut out = Vec::new();
    let identities =
        [("ACME", acme()), ("SCEP", scep()), ("SCEP with CAFingerprint", scep_pinned())];
    for (name, identity) in identities {
        for description in [true, false] {
            for organization in ["Example Corp", ""] {
                for caps in [vec![], vec!["com.apple.mdm.token", "com.apple.mdm.bootstraptoken"]] {
                    let mut i = inputs(identity.clone());
                    if !description {
                        i.description = None;
                    }
                    i.organization = organization.into();
                    i.mdm.server_capabilities = caps.iter().map(|c| c.to_string()).collect();
                    let label = format!(
                        "{name}, description {description}, organization {organization:?}, capabilities {caps:?}"
                    );
                    out.push((label.clone(), i.clone()));
                    // Under a publicly trusted server certificate: no root, nothing pinned.
                    i.ca_der = None;
                    out.push((format!("{label}, without the appliance CA"), i));
                }
            }
        }
    }
    out
}

fn info(product: &str, os_version: &str) -> MachineInfo {
    MachineInfo {
        product: Some(product.into()),
        os_version: Some(os_version.into()),
        ..MachineInfo::new(Udid::parse("u").unwrap(), Serial::parse("s").unwrap())
    }
}

/// The OS classes the appliance serves: (product, OS version, schema OS, identity chosen).
const CLASSES: &[(&str, &str, Os, IdentityKind)] = &[
    ("iPhone15,2", "17.5", Os::Ios, IdentityKind::Acme),
    ("iPhone12,1", "15.7.9", Os::Ios, IdentityKind::Scep),
    ("iPad13,18", "17.5", Os::Ios, IdentityKind::Acme),
    ("iPad7,11", "17.5", Os::Ios, IdentityKind::Scep),
    ("Mac14,3", "14.5", Os::MacOs, IdentityKind::Acme),
    ("iMac20,1", "14.5", Os::MacOs, IdentityKind::Scep),
    ("AppleTV14,1", "17.5", Os::TvOs, IdentityKind::Acme),
    ("AppleTV6,2", "17.5", Os::TvOs, IdentityKind::Scep),
    ("RealityDevice14,1", "2.0", Os::VisionOs, IdentityKind::Scep),
];

#[test]
fn every_profile_variant_matches_apples_schemas_on_every_os_class() {
    let Some(schemas) = schemas() else { return };
    let mut checked = 0;
    for (product, version, os, kind) in CLASSES {
        assert_eq!(choose_identity(&info(product, version)), *kind, "{product} {version}");
        let ctx = Context::device(*os).at(version);
        for (label, inputs) in variants() {
            let is_acme = matches!(inputs.identity, IdentityInputs::Acme { .. });
            if is_acme != (*kind == IdentityKind::Acme) {
                continue;
            }
            if let Err(v) = schemas.check_profile(&written(&inputs), &ctx) {
                panic!("{product} ({os} {version}), {label}: {v}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 2 * 9 * 8, "{checked} profiles checked");
}

#[test]
fn the_description_is_a_string_in_the_written_bytes() {
    let xml = build_profile(&inputs(acme()), &mut random_uuid).unwrap().to_xml().unwrap();
    let text = String::from_utf8(xml).unwrap();
    assert!(
        text.contains("<key>PayloadDescription</key>\n\t<string>Enrolls this device in"),
        "{text}"
    );
    assert!(!text.contains("<key>Some</key>"), "{text}");
}
