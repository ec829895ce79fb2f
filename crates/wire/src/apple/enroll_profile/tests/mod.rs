//! The enrollment profile checked key by key against ../shared/spec/enrollment.md §2 (ACME and
//! SCEP variants), its signature checked by our verifier and by `openssl cms -verify`, the
//! identity choice of §1.7 as tables, the 403 bodies of §1.4–1.5, and `inspect` on hostile
//! input.

mod schema;

use super::examples::{acme, inputs, scep, uuids};
use super::inspect::profile_report;
use super::*;
use crate::apple::machineinfo::MachineInfo;
use crate::crypto::ca::{Authority, pem_to_der};
use crate::crypto::chain::TrustAnchors;
use crate::crypto::cms::{SignerKey, verify_signed};
use crate::crypto::openssl_cli;
use crate::ids::{Serial, Udid};
use plist::{Dictionary, Value};
use time::OffsetDateTime;
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2026-03-01 12:00 UTC);
const TOPIC: &str = "com.apple.mgmt.External.2a3c5e7d-1111-4a4a-9b9b-123456789abc";

/// The profile as a device's plist parser sees it.
fn as_plist(profile: &EnrollmentProfile) -> Dictionary {
    let xml = profile.to_xml().unwrap();
    Value::from_reader_xml(xml.as_slice()).unwrap().into_dictionary().unwrap()
}

fn s(d: &Dictionary, k: &str) -> String {
    d.get(k).and_then(Value::as_string).unwrap_or_else(|| panic!("{k} missing")).to_string()
}
fn int(d: &Dictionary, k: &str) -> u64 {
    d.get(k).and_then(Value::as_unsigned_integer).unwrap_or_else(|| panic!("{k} missing"))
}
fn boolean(d: &Dictionary, k: &str) -> bool {
    d.get(k).and_then(Value::as_boolean).unwrap_or_else(|| panic!("{k} missing"))
}
fn strings(d: &Dictionary, k: &str) -> Vec<String> {
    d.get(k)
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("{k} missing"))
        .iter()
        .map(|v| v.as_string().unwrap().to_string())
        .collect()
}

fn payloads(top: &Dictionary) -> Vec<Dictionary> {
    top.get("PayloadContent")
        .and_then(Value::as_array)
        .unwrap()
        .iter()
        .map(|p| p.as_dictionary().unwrap().clone())
        .collect()
}

fn check_common(p: &Dictionary, payload_type: &str, suffix: &str) {
    assert_eq!(s(p, "PayloadType"), payload_type);
    assert_eq!(int(p, "PayloadVersion"), 1);
    assert_eq!(s(p, "PayloadIdentifier"), format!("com.example.adebox.enroll.{suffix}"));
    assert!(!s(p, "PayloadUUID").is_empty());
    assert!(!s(p, "PayloadDisplayName").is_empty());
}

#[test]
fn acme_profile_has_every_key_of_spec_section_2() {
    let profile = build_profile(&inputs(acme()), &mut uuids()).unwrap();
    let top = as_plist(&profile);
    // §2.1 top level.
    assert_eq!(s(&top, "PayloadType"), "Configuration");
    assert_eq!(int(&top, "PayloadVersion"), 1);
    assert_eq!(s(&top, "PayloadIdentifier"), "com.example.adebox.enroll");
    assert_eq!(s(&top, "PayloadUUID"), "00000000-0000-4000-8000-000000000001");
    assert_eq!(s(&top, "PayloadDisplayName"), "Example Corp MDM");
    assert_eq!(s(&top, "PayloadOrganization"), "Example Corp");
    // A string, not the `{Some: …}` dictionary an Option in a flattened serde struct became.
    assert_eq!(
        s(&top, "PayloadDescription"),
        "Enrolls this device in Example Corp's device management."
    );
    let p = payloads(&top);
    assert_eq!(p.len(), 3);
    // §2.4 root first, with the CA as DER data.
    check_common(&p[0], "com.apple.security.root", "root");
    assert_eq!(p[0].get("PayloadContent").and_then(Value::as_data), Some(&[0x30, 3, 2, 1, 1][..]));
    assert_eq!(s(&p[0], "PayloadCertificateFileName"), "adebox-root.cer");
    let root_uuid = s(&p[0], "PayloadUUID");
    // §2.3 ACME, keys directly in the payload.
    check_common(&p[1], "com.apple.security.acme", "acme");
    assert_eq!(s(&p[1], "DirectoryURL"), "https://mdm.example.test/acme/directory");
    assert_eq!(s(&p[1], "ClientIdentifier"), "q7Kx2mZ0oneTimeValue");
    assert_eq!(s(&p[1], "KeyType"), "ECSECPrimeRandom");
    assert_eq!(int(&p[1], "KeySize"), 384);
    assert!(boolean(&p[1], "HardwareBound"));
    assert!(boolean(&p[1], "Attest"));
    assert_eq!(int(&p[1], "UsageFlags"), 1);
    assert_eq!(strings(&p[1], "ExtendedKeyUsage"), ["1.3.6.1.5.5.7.3.2"]);
    let subject = p[1].get("Subject").unwrap().as_array().unwrap();
    let rdn = |i: usize| -> Vec<String> {
        subject[i].as_array().unwrap()[0]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_string().unwrap().to_string())
            .collect()
    };
    assert_eq!(rdn(0), ["O", "Example Corp"]);
    assert_eq!(rdn(1), ["CN", "00008101-001938611EE9001E"]);
    // §2.2 MDM last, pointing at the identity and pinning the root.
    check_common(&p[2], "com.apple.mdm", "mdm");
    assert_eq!(s(&p[2], "IdentityCertificateUUID"), s(&p[1], "PayloadUUID"));
    assert_eq!(s(&p[2], "Topic"), TOPIC);
    assert_eq!(s(&p[2], "ServerURL"), "https://mdm.example.test/mdm/connect");
    assert_eq!(s(&p[2], "CheckInURL"), "https://mdm.example.test/mdm/checkin");
    assert!(boolean(&p[2], "SignMessage"));
    assert_eq!(int(&p[2], "AccessRights"), 8191);
    assert!(boolean(&p[2], "CheckOutWhenRemoved"));
    assert_eq!(
        strings(&p[2], "ServerURLPinningCertificateUUIDs"),
        std::slice::from_ref(&root_uuid)
    );
    assert_eq!(strings(&p[2], "CheckInURLPinningCertificateUUIDs"), [root_uuid]);
    assert!(!p[2].contains_key("ServerCapabilities"), "none for plain iPhones and iPads");
    assert!(!p[2].contains_key("UseDevelopmentAPNS"));
    // Every PayloadUUID is distinct.
    let mut all: Vec<String> = p.iter().map(|d| s(d, "PayloadUUID")).collect();
    all.push(s(&top, "PayloadUUID"));
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 4);
}

#[test]
fn scep_profile_keeps_its_keys_inside_payload_content() {
    let mut i = inputs(scep());
    i.mdm.server_capabilities = vec!["com.apple.mdm.token".into()];
    let top = as_plist(&build_profile(&i, &mut uuids()).unwrap());
    let p = payloads(&top);
    check_common(&p[1], "com.apple.security.scep", "scep");
    assert!(!p[1].contains_key("URL"), "§2.5: SCEP keys are inside PayloadContent");
    let c = p[1].get("PayloadContent").and_then(Value::as_dictionary).unwrap();
    assert_eq!(s(c, "URL"), "https://mdm.example.test/scep");
    assert_eq!(s(c, "Challenge"), "s3cret-challenge");
    assert_eq!(int(c, "Keysize"), 2048);
    assert_eq!(s(c, "Key Type"), "RSA");
    assert_eq!(int(c, "Key Usage"), 5);
    assert_eq!(s(c, "Name"), "Example Corp");
    assert!(c.get("Subject").and_then(Value::as_array).is_some());
    assert_eq!(s(&p[2], "IdentityCertificateUUID"), s(&p[1], "PayloadUUID"));
    assert_eq!(strings(&p[2], "ServerCapabilities"), ["com.apple.mdm.token"]);
}

#[test]
fn debug_output_never_shows_the_scep_challenge() {
    let profile = build_profile(&inputs(scep()), &mut uuids()).unwrap();
    let shown = format!("{profile:?} {:?}", inputs(scep()));
    assert!(!shown.contains("s3cret-challenge"), "{shown}");
}

#[test]
fn refuses_values_a_device_would_reject() {
    let mut bad_topic = inputs(acme());
    bad_topic.mdm.topic = "com.example.push".into();
    assert!(matches!(build_profile(&bad_topic, &mut uuids()), Err(ProfileError::BadTopic(_))));
    let mut http = inputs(acme());
    http.mdm.server_url = "http://mdm.example.test/mdm/connect".into();
    let err = build_profile(&http, &mut uuids()).unwrap_err();
    assert!(err.to_string().contains("ServerURL"), "{err}");
    for id in ["", "serial/oid"] {
        let i = inputs(IdentityInputs::Acme {
            directory_url: "https://mdm.example.test/acme/directory".into(),
            client_identifier: id.into(),
            subject: subject("", "x"),
        });
        assert!(matches!(build_profile(&i, &mut uuids()), Err(ProfileError::BadClientIdentifier)));
    }
    let mut empty_ca = inputs(acme());
    empty_ca.ca_der = Some(vec![]);
    assert!(build_profile(&empty_ca, &mut uuids()).is_err());
}

#[test]
fn without_the_appliance_ca_there_is_no_root_payload_and_nothing_pinned() {
    for identity in [acme(), scep()] {
        let mut i = inputs(identity);
        i.ca_der = None;
        let top = as_plist(&build_profile(&i, &mut uuids()).unwrap());
        let p = payloads(&top);
        let types: Vec<String> = p.iter().map(|d| s(d, "PayloadType")).collect();
        assert!(!types.iter().any(|t| t == "com.apple.security.root"), "{types:?}");
        assert_eq!(p.len(), 2, "{types:?}");
        let mdm = &p[1];
        assert_eq!(s(mdm, "PayloadType"), "com.apple.mdm");
        assert_eq!(s(mdm, "IdentityCertificateUUID"), s(&p[0], "PayloadUUID"));
        for key in ["ServerURLPinningCertificateUUIDs", "CheckInURLPinningCertificateUUIDs"] {
            assert!(!mdm.contains_key(key), "{key} pins nothing, so it is left out");
        }
    }
}

#[test]
fn random_uuids_are_version_4_upper_case_and_distinct() {
    let (a, b) = (random_uuid(), random_uuid());
    assert_ne!(a, b);
    assert_eq!(a.len(), 36);
    assert_eq!(&a[14..15], "4");
    assert_eq!(a, a.to_uppercase());
}

fn info(product: &str, os_version: Option<&str>, build: Option<&str>) -> MachineInfo {
    MachineInfo {
        product: Some(product.into()),
        os_version: os_version.map(str::to_string),
        version: build.map(str::to_string),
        ..MachineInfo::new(Udid::parse("u").unwrap(), Serial::parse("s").unwrap())
    }
}

#[test]
fn choose_identity_follows_spec_section_1_7() {
    use IdentityKind::{Acme, Scep};
    let table: &[(&str, Option<&str>, Option<&str>, IdentityKind)] = &[
        // iOS 16.0+ (iOS 16 sends no OS_VERSION: the build says it).
        ("iPhone15,2", Some("17.5"), Some("21F79"), Acme),
        ("iPhone14,5", None, Some("20A362"), Acme),
        ("iPhone13,2", None, Some("19H12"), Scep),
        ("iPhone12,1", Some("15.7"), None, Scep),
        ("iPod9,1", None, Some("20A362"), Acme),
        // iPadOS 16.1+: 16.0 is not enough.
        ("iPad13,18", Some("17.5"), None, Acme),
        ("iPad13,18", None, Some("20A362"), Scep),
        ("iPad13,18", None, Some("20B82"), Acme),
        ("iPad13,18", Some("16.0"), None, Scep),
        ("iPad13,18", Some("16.1 (a)"), None, Acme),
        // A10X and earlier ignore Attest.
        ("iPad7,11", Some("17.5"), None, Scep),
        ("iPad7,3", Some("17.5"), None, Scep),
        ("AppleTV6,2", Some("17.5"), None, Scep),
        ("AppleTV14,1", Some("17.5"), None, Acme),
        // macOS 13.1+ on Apple silicon.
        ("Mac14,3", Some("14.5"), None, Acme),
        ("MacBookPro18,1", None, Some("22C65"), Acme),
        ("MacBookAir10,1", None, Some("22A380"), Scep),
        ("VirtualMac2,1", Some("15.5"), None, Acme),
        ("MacBookPro16,1", Some("14.5"), None, Scep),
        ("iMac20,1", Some("14.5"), None, Scep),
        ("Macmini9,1", Some("13.1"), None, Acme),
        // Unknown products and unreadable versions fall back to SCEP.
        ("Watch6,1", Some("10.0"), None, Scep),
        ("iPhone15,2", None, None, Scep),
        ("iPhone15,2", Some("garbage"), None, Scep),
        ("iPhone15,2", None, Some("x"), Scep),
        ("", Some("17.5"), None, Scep),
    ];
    for (product, os, build, expected) in table {
        let got = choose_identity(&info(product, *os, *build));
        assert_eq!(got, *expected, "{product} os={os:?} build={build:?}");
    }
}

#[test]
fn refusal_bodies_have_apples_shape() {
    let r = Refusal::new("adebox.enrollment.unknown-device", "This device is not registered.");
    assert_eq!(
        serde_json::to_value(&r).unwrap(),
        serde_json::json!({"code": "adebox.enrollment.unknown-device",
                           "message": "This device is not registered."})
    );
    let u = SoftwareUpdateRequired::new("17.5", Some("21F79"));
    assert_eq!(
        serde_json::to_value(&u).unwrap(),
        serde_json::json!({"code": "com.apple.softwareupdate.required",
                           "details": {"OSVersion": "17.5", "BuildVersion": "21F79"}})
    );
    let minimal = SoftwareUpdateRequired::new("16.1 (a)", None);
    let v = serde_json::to_value(&minimal).unwrap();
    assert_eq!(v["details"], serde_json::json!({"OSVersion": "16.1 (a)"}));
    let back: SoftwareUpdateRequired = serde_json::from_value(v).unwrap();
    assert_eq!(back, minimal);
    assert_eq!(CONTENT_TYPE_PROFILE, "application/x-apple-aspen-config");
    assert_eq!(CONTENT_TYPE_REFUSAL, "application/json");
}

struct Signer {
    ca: Authority,
    cert: Vec<u8>,
    key: SignerKey,
}

fn signer() -> Signer {
    let ca = Authority::generate("adebox test CA", NOW, time::Duration::days(3650)).unwrap();
    let leaf =
        ca.issue_server(&["mdm.example.test".into()], NOW, time::Duration::days(30)).unwrap();
    Signer {
        cert: pem_to_der(&leaf.cert_pem).unwrap(),
        key: SignerKey::from_pkcs8_pem(leaf.key_pem.expose()).unwrap(),
        ca,
    }
}

fn signed(identity: IdentityInputs, sg: &Signer) -> Vec<u8> {
    let mut i = inputs(identity);
    i.ca_der = Some(sg.ca.cert_der().to_vec());
    let profile = build_profile(&i, &mut uuids()).unwrap();
    sign_profile(&profile, &sg.cert, &[sg.ca.cert_der().to_vec()], &sg.key, NOW).unwrap()
}

#[test]
fn signed_profile_verifies_with_our_verifier_and_openssl() {
    let sg = signer();
    let blob = signed(acme(), &sg);
    let v = verify_signed(&blob).unwrap();
    assert_eq!(v.digest.name(), "sha256");
    assert!(v.signed_attributes);
    assert_eq!(v.signer, sg.cert);
    let top = Value::from_reader_xml(v.content.as_slice()).unwrap();
    assert_eq!(
        top.as_dictionary().unwrap().get("PayloadType").unwrap().as_string(),
        Some("Configuration")
    );
    if !openssl_cli::available() {
        return;
    }
    let out = openssl_cli::cms_verify(&blob, sg.ca.cert_pem(), NOW.unix_timestamp()).unwrap();
    assert_eq!(out, v.content);
}

#[test]
fn inspect_lists_payloads_and_masks_the_challenge() {
    let sg = signer();
    let anchors = TrustAnchors::from_der(vec![sg.ca.cert_der().to_vec()]).unwrap();
    let (report, ok) = profile_report(&signed(scep(), &sg), Some(&anchors), NOW).unwrap();
    assert!(ok);
    assert_eq!(report["chains_to_ca"], true);
    assert!(report["signer"].as_str().unwrap().contains("mdm.example.test"));
    let text = report.to_string();
    assert!(!text.contains("s3cret-challenge"), "{text}");
    let payloads = report["payloads"].as_array().unwrap();
    let types: Vec<&str> = payloads.iter().map(|p| p["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["com.apple.security.root", "com.apple.security.scep", "com.apple.mdm"]);
    assert_eq!(payloads[1]["fields"]["PayloadContent"]["Challenge"], "(set, hidden)");
    assert!(payloads[0]["fields"]["PayloadContent"].as_str().unwrap().contains("adebox test CA"));
    assert_eq!(payloads[2]["fields"]["Topic"], TOPIC);
    assert_eq!(payloads[2]["uuid"], "00000000-0000-4000-8000-000000000004");
}

#[test]
fn inspect_says_when_the_signer_does_not_chain_to_the_given_ca() {
    let sg = signer();
    let other = Authority::generate("another CA", NOW, time::Duration::days(30)).unwrap();
    let anchors = TrustAnchors::from_der(vec![other.cert_der().to_vec()]).unwrap();
    let (report, ok) = profile_report(&signed(acme(), &sg), Some(&anchors), NOW).unwrap();
    assert!(!ok);
    assert_eq!(report["chains_to_ca"], false);
    assert!(report["chain_error"].is_string());
    let (_, ok) = profile_report(&signed(acme(), &sg), None, NOW).unwrap();
    assert!(ok, "without --ca only the signature counts");
}

#[test]
fn inspect_refuses_hostile_input_without_panicking() {
    let sg = signer();
    let blob = signed(acme(), &sg);
    let mut inputs: Vec<Vec<u8>> = vec![
        vec![],
        b"garbage".to_vec(),
        b"<?xml version=\"1.0\"?><plist><dict/></plist>".to_vec(),
        vec![0x30, 0x80],
        vec![0x30, 0x84, 0xff, 0xff, 0xff, 0xff],
    ];
    for cut in [1, 10, blob.len() / 2, blob.len() - 1] {
        inputs.push(blob[..cut].to_vec());
    }
    let mut flipped = blob.clone();
    let at = flipped.windows(12).position(|w| w == b"Example Corp").unwrap();
    flipped[at] ^= 0x20;
    inputs.push(flipped);
    for (n, input) in inputs.iter().enumerate() {
        assert!(profile_report(input, None, NOW).is_err(), "input {n} accepted");
    }
    // Signed content that is not a profile is refused after the signature check.
    let not_plist = crate::crypto::cms::sign_attached(
        b"not a plist",
        &sg.cert,
        &[],
        &sg.key,
        &crate::crypto::cms::SignOptions::profile(NOW),
    )
    .unwrap();
    let err = profile_report(&not_plist, None, NOW).unwrap_err();
    assert!(err.to_string().contains("property list"), "{err}");
}
