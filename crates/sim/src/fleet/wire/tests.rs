//! The fleet's strict readers: what the appliance writes reads; each kind of deviation (the
//! bytes served before the `PayloadDescription` fix among them) is refused with the key path.
//! The product's builders only make the input here; the readers never see their types.

use super::command::{Request, Setting, read_check_in_answer, read_command, read_connect_answer};
use super::*;
use crate::apple::enroll_profile::{ProfileInputs, build_profile, random_uuid};
use crate::apple::mdm::Command;

const BEFORE_FIX_ACME: &[u8] =
    include_bytes!("../../../../../tests/data/enrollment-profile-before-fix-acme.xml");
const BEFORE_FIX_SCEP: &[u8] =
    include_bytes!("../../../../../tests/data/enrollment-profile-before-fix-scep.xml");

fn inputs(scep: bool) -> ProfileInputs {
    use crate::apple::enroll_profile::examples as profile;
    let mut i = profile::inputs(if scep { profile::scep() } else { profile::acme() });
    i.mdm.server_capabilities = vec!["com.apple.mdm.token".into()];
    i
}

fn xml(scep: bool) -> Vec<u8> {
    build_profile(&inputs(scep), &mut random_uuid).unwrap().to_xml().unwrap()
}

/// The profile's plist with `change` applied, as bytes.
fn changed(scep: bool, change: impl FnOnce(&mut plist::Dictionary)) -> Vec<u8> {
    let mut top = plist_value(&xml(scep)).unwrap().into_dictionary().unwrap();
    change(&mut top);
    let mut out = Vec::new();
    plist::Value::Dictionary(top).to_writer_xml(&mut out).unwrap();
    out
}

fn payload(top: &mut plist::Dictionary, i: usize) -> &mut plist::Dictionary {
    top.get_mut("PayloadContent").unwrap().as_array_mut().unwrap()[i].as_dictionary_mut().unwrap()
}

fn refused(bytes: &[u8]) -> WireError {
    read_profile(bytes).expect_err("the deviation went unnoticed")
}

#[test]
fn what_the_appliance_writes_reads() {
    let p = read_profile(&xml(false)).unwrap();
    assert!(p.description.as_deref().unwrap().starts_with("Enrolls this device"));
    let acme = p.acme().unwrap();
    assert_eq!(
        (acme.key_type.as_str(), acme.key_size, acme.attest),
        ("ECSECPrimeRandom", 384, true)
    );
    let mdm = p.mdm().unwrap();
    assert_eq!(mdm.check_in_url, "https://mdm.example.test/mdm/checkin");
    assert_eq!(mdm.identity_certificate_uuid, acme.common.uuid);
    let p = read_profile(&xml(true)).unwrap();
    let scep = p.scep().unwrap();
    assert_eq!(scep.challenge.as_deref(), Some("s3cret-challenge"));
    assert_eq!(scep.subject[1], [("CN".to_string(), "G4NQM9HHK0".to_string())]);
}

#[test]
fn the_bytes_served_before_the_fix_are_refused_at_payload_description() {
    for old in [BEFORE_FIX_ACME, BEFORE_FIX_SCEP] {
        let e = refused(old);
        assert_eq!(e.at, "PayloadDescription");
        assert_eq!(e.problem, WireProblem::WrongType { expected: "string", found: "dictionary" });
        assert_eq!(e.code("profile_invalid"), "profile_invalid:PayloadDescription:wrong_type");
    }
}

#[test]
fn each_kind_of_profile_deviation_is_refused_with_its_key() {
    let e = refused(&changed(false, |t| drop(payload(t, 2).remove("Topic"))));
    assert_eq!((e.at.as_str(), &e.problem), ("PayloadContent[2].Topic", &WireProblem::Missing));
    let e =
        refused(&changed(false, |t| drop(payload(t, 1).insert("KeySize".into(), "384".into()))));
    assert_eq!(e.at, "PayloadContent[1].KeySize");
    assert!(matches!(e.problem, WireProblem::WrongType { expected: "integer", .. }), "{e}");
    let e = refused(&changed(false, |t| drop(t.insert("Extra".into(), 1.into()))));
    assert_eq!((e.at.as_str(), &e.problem), ("Extra", &WireProblem::Unknown));
    let e = refused(&changed(false, |t| drop(payload(t, 2).insert("Stray".into(), 1.into()))));
    assert_eq!((e.at.as_str(), &e.problem), ("PayloadContent[2].Stray", &WireProblem::Unknown));
    let e = refused(&changed(true, |t| {
        let c = payload(t, 1).get_mut("PayloadContent").unwrap().as_dictionary_mut().unwrap();
        c.insert("Keysize".into(), 2048.5.into());
    }));
    assert_eq!(e.at, "PayloadContent[1].PayloadContent.Keysize");
    let e = refused(&changed(false, |t| {
        payload(t, 0).insert("PayloadType".into(), "com.example.unknown".into());
    }));
    assert_eq!(e.at, "PayloadContent[0].PayloadType");
    let e = refused(&changed(false, |t| {
        payload(t, 2).insert("IdentityCertificateUUID".into(), "nope".into());
    }));
    assert_eq!(e.at, "PayloadContent[2].IdentityCertificateUUID");
    let e = refused(&changed(false, |t| {
        payload(t, 2).insert("ServerURL".into(), "http://mdm.example.test/".into());
    }));
    assert_eq!(e.at, "PayloadContent[2].ServerURL");
    let e = refused(&changed(false, |t| drop(t.insert("PayloadVersion".into(), 2.into()))));
    assert_eq!(e.at, "PayloadVersion");
    let e = refused(&changed(false, |t| {
        let subject = payload(t, 1).get_mut("Subject").unwrap().as_array_mut().unwrap();
        subject[0] = plist::Value::Array(vec![plist::Value::Array(vec!["O".into()])]);
    }));
    assert_eq!(e.at, "PayloadContent[1].Subject[0][0]");
    assert!(matches!(refused(b"garbage").problem, WireProblem::NotPlist(_)));
}

fn command_bytes(pairs: &[(&str, plist::Value)], inner: &[(&str, plist::Value)]) -> Vec<u8> {
    let cmd: plist::Dictionary = inner.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    let mut top: plist::Dictionary =
        pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    top.insert("Command".into(), plist::Value::Dictionary(cmd));
    let mut out = Vec::new();
    plist::Value::Dictionary(top).to_writer_xml(&mut out).unwrap();
    out
}

#[test]
fn every_command_the_appliance_sends_reads() {
    let all = [
        Command::DeviceInformation { queries: vec!["OSVersion".into(), "UDID".into()] },
        Command::DeviceName { name: "Lab-1".into() },
        Command::DeviceConfigured,
        Command::EraseDevice,
    ];
    for c in &all {
        for product in [Some("iPhone15,2"), Some("Mac14,3"), None] {
            let read = read_command(&c.to_plist("U-1", product)).unwrap();
            assert_eq!(
                (read.uuid.as_str(), read.request.request_type()),
                ("U-1", c.request_type())
            );
        }
    }
    let r = read_command(&all[1].to_plist("U", None)).unwrap().request;
    assert_eq!(r, Request::Settings { items: vec![Setting::DeviceName("Lab-1".into())] });
    let r = read_command(&all[3].to_plist("U", Some("iPhone15,2"))).unwrap().request;
    assert_eq!(r, Request::EraseDevice { preserve_data_plan: true, return_to_service: None });
}

#[test]
fn each_kind_of_command_deviation_is_refused_with_its_key() {
    let uuid = || ("CommandUUID", plist::Value::from("U"));
    let rt = |t: &str| ("RequestType", plist::Value::from(t));
    let e = read_command(&command_bytes(&[], &[rt("DeviceConfigured")])).unwrap_err();
    assert_eq!((e.at.as_str(), &e.problem), ("CommandUUID", &WireProblem::Missing));
    let extra = ("Priority", plist::Value::from(1));
    let e = read_command(&command_bytes(&[uuid(), extra], &[rt("DeviceConfigured")])).unwrap_err();
    assert_eq!((e.at.as_str(), &e.problem), ("Priority", &WireProblem::Unknown));
    let e = read_command(&command_bytes(&[uuid()], &[rt("DeviceConfigured"), ("X", 1.into())]))
        .unwrap_err();
    assert_eq!((e.at.as_str(), &e.problem), ("Command.X", &WireProblem::Unknown));
    let e = read_command(&command_bytes(
        &[uuid()],
        &[rt("DeviceInformation"), ("Queries", "UDID".into())],
    ))
    .unwrap_err();
    assert_eq!(e.at, "Command.Queries");
    let item = plist::Value::Dictionary(
        [("Item".to_string(), plist::Value::from("DeviceName"))].into_iter().collect(),
    );
    let e = read_command(&command_bytes(
        &[uuid()],
        &[rt("Settings"), ("Settings", plist::Value::Array(vec![item]))],
    ))
    .unwrap_err();
    assert_eq!(
        (e.at.as_str(), &e.problem),
        ("Command.Settings[0].DeviceName", &WireProblem::Missing)
    );
    // A command the device does not implement is not a deviation.
    let r = read_command(&command_bytes(&[uuid()], &[rt("ProfileList")])).unwrap();
    assert_eq!(r.request, Request::Unsupported("ProfileList".into()));
}

#[test]
fn the_answers_on_the_mdm_channels_are_read_strictly() {
    read_check_in_answer("Authenticate", 200, b"").unwrap();
    let e = read_check_in_answer("TokenUpdate", 200, b"<plist/>").unwrap_err();
    assert!(e.to_string().contains("TokenUpdate"), "{e}");
    assert!(read_check_in_answer("Authenticate", 204, b"").is_err());
    assert_eq!(read_connect_answer(200, b"").unwrap(), None);
    let cmd = Command::DeviceConfigured.to_plist("U", None);
    assert_eq!(read_connect_answer(200, &cmd).unwrap().unwrap().uuid, "U");
    assert!(read_connect_answer(200, b"{}").is_err());
    assert!(read_connect_answer(202, b"").is_err());
}
