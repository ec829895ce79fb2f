//! MachineInfo: lenient parsing, and verification of bodies signed by stand-in device
//! identities with `openssl cms -sign` (BER and DER, SHA-1 and SHA-256, with and without
//! signed attributes) against stand-in and real pinned anchors.

use super::*;
use crate::apple::pinned;
use crate::apple::stand_in_pki::StandInApplePki;
use crate::crypto::openssl_cli;
use std::path::Path;
use time::OffsetDateTime;
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2026-11-24 12:00 UTC);

pub(crate) const PLIST: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>LANGUAGE</key><string>en</string>
	<key>MDM_CAN_REQUEST_SOFTWARE_UPDATE</key><true/>
	<key>OS_VERSION</key><string>17.5</string>
	<key>PRODUCT</key><string>iPad13,18</string>
	<key>SERIAL</key><string>F9FTESTSERIAL</string>
	<key>SOFTWARE_UPDATE_DEVICE_ID</key><string>J307AP</string>
	<key>UDID</key><string>00008103-000A1B2C3D4E5F60</string>
	<key>VERSION</key><string>21F79</string>
	<key>SOME_FUTURE_KEY</key><dict><key>x</key><integer>1</integer></dict>
</dict>
</plist>"#;

/// Writes the stand-in device identity (cert, key, bag) into `dir` and signs `content`.
fn sign(
    dir: &Path,
    pki: &StandInApplePki,
    content: &[u8],
    md: &str,
    attrs: bool,
    ber: bool,
) -> Vec<u8> {
    let id = pki.issue_device_identity("00008103-000A1B2C3D4E5F60", NOW).unwrap();
    std::fs::write(dir.join("id.crt"), &id.cert_pem).unwrap();
    std::fs::write(dir.join("id.key"), id.key_pem.expose()).unwrap();
    let bag = format!("{}{}", pki.device_ca.cert_pem, pki.device_root.cert_pem);
    std::fs::write(dir.join("bag.pem"), bag).unwrap();
    std::fs::write(dir.join("mi.plist"), content).unwrap();
    let mut args = vec![
        "cms",
        "-sign",
        "-binary",
        "-nodetach",
        "-in",
        "mi.plist",
        "-signer",
        "id.crt",
        "-inkey",
        "id.key",
        "-certfile",
        "bag.pem",
        "-outform",
        "DER",
        "-out",
        "mi.p7",
        "-md",
        md,
    ];
    if !attrs {
        args.push("-noattr");
    }
    if ber {
        args.push("-stream");
    }
    openssl_cli::run(dir, &args).unwrap();
    std::fs::read(dir.join("mi.p7")).unwrap()
}

#[test]
fn parses_known_keys_and_ignores_unknown_ones() {
    let info = parse_machine_info(PLIST.as_bytes()).unwrap();
    assert_eq!(info.serial, "F9FTESTSERIAL");
    assert_eq!(info.udid, "00008103-000A1B2C3D4E5F60");
    assert_eq!(info.product.as_deref(), Some("iPad13,18"));
    assert_eq!(info.version.as_deref(), Some("21F79"));
    assert_eq!(info.os_version.as_deref(), Some("17.5"));
    assert_eq!(info.language.as_deref(), Some("en"));
    assert_eq!(info.software_update_device_id.as_deref(), Some("J307AP"));
    assert_eq!(info.mdm_can_request_software_update, Some(true));
    assert_eq!(info.imei, None);
    assert!(!info.has_pairing_token);
}

#[test]
fn missing_or_odd_optional_keys_read_as_absent() {
    let minimal = r#"<plist version="1.0"><dict><key>SERIAL</key><string>S1</string>
        <key>UDID</key><string>U1</string><key>OS_VERSION</key><integer>16</integer>
        <key>IMEI</key><string> </string><key>PAIRING_TOKEN</key><data>AAE=</data></dict></plist>"#;
    let info = parse_machine_info(minimal.as_bytes()).unwrap();
    assert_eq!((info.serial.as_str(), info.udid.as_str()), ("S1", "U1"));
    assert_eq!(info.os_version, None);
    assert_eq!(info.imei, None);
    assert!(info.has_pairing_token);
}

#[test]
fn serial_is_upper_cased_and_a_udid_that_is_no_udid_is_refused() {
    let plist = |serial: &str, udid: &str| {
        format!(
            r#"<plist version="1.0"><dict><key>SERIAL</key><string>{serial}</string>
            <key>UDID</key><string>{udid}</string></dict></plist>"#
        )
    };
    let info = parse_machine_info(plist("c02xk1abcd12", "663b07bb").as_bytes()).unwrap();
    assert_eq!((info.serial.as_str(), info.udid.as_str()), ("C02XK1ABCD12", "663b07bb"));
    for udid in ["A".repeat(3000), "\u{202e}00008030-001A2C3E0A12802E".into()] {
        let err = parse_machine_info(plist("S1", &udid).as_bytes()).unwrap_err();
        assert!(matches!(err, MachineInfoError::BadId { key: "UDID", .. }), "{err}");
    }
    let err = parse_machine_info(plist("S 1", "U1").as_bytes()).unwrap_err();
    assert!(matches!(err, MachineInfoError::BadId { key: "SERIAL", .. }), "{err}");
}

#[test]
fn serial_and_udid_are_required() {
    let no_serial =
        r#"<plist version="1.0"><dict><key>UDID</key><string>U1</string></dict></plist>"#;
    let err = parse_machine_info(no_serial.as_bytes()).unwrap_err();
    assert!(matches!(err, MachineInfoError::MissingKey("SERIAL")), "{err}");
    let no_udid =
        r#"<plist version="1.0"><dict><key>SERIAL</key><string>S</string></dict></plist>"#;
    assert!(matches!(
        parse_machine_info(no_udid.as_bytes()),
        Err(MachineInfoError::MissingKey("UDID"))
    ));
    let array = r#"<plist version="1.0"><array/></plist>"#;
    assert!(matches!(parse_machine_info(array.as_bytes()), Err(MachineInfoError::NotDictionary)));
    assert!(matches!(parse_machine_info(b"not a plist"), Err(MachineInfoError::NotPlist(_))));
}

#[test]
fn binary_plists_parse_too() {
    let value = plist::Value::from_reader(std::io::Cursor::new(PLIST.as_bytes())).unwrap();
    let mut bin = Vec::new();
    value.to_writer_binary(&mut bin).unwrap();
    assert_eq!(parse_machine_info(&bin).unwrap().serial, "F9FTESTSERIAL");
}

#[test]
fn verifies_every_signing_shape_from_a_stand_in_device() {
    if !openssl_cli::available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pki = StandInApplePki::generate(NOW).unwrap();
    for md in ["sha1", "sha256"] {
        for attrs in [true, false] {
            for ber in [true, false] {
                let body = sign(dir.path(), &pki, PLIST.as_bytes(), md, attrs, ber);
                let info = verify_machine_info(&body, &pki.device_identity_anchors())
                    .unwrap_or_else(|e| panic!("{md} attrs={attrs} ber={ber}: {e}"));
                assert_eq!(info.serial, "F9FTESTSERIAL");
                let v = verify_signed_plist(&body, &pki.device_identity_anchors()).unwrap();
                assert_eq!((v.digest, v.signed_attributes), (md, attrs));
                assert_eq!(v.path.len(), 2, "leaf and the pinned device CA");
            }
        }
    }
}

#[test]
fn refuses_a_stand_in_device_under_the_real_apple_anchors() {
    if !openssl_cli::available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pki = StandInApplePki::generate(NOW).unwrap();
    let body = sign(dir.path(), &pki, PLIST.as_bytes(), "sha1", false, true);
    let err = verify_machine_info(&body, &pinned::device_identity_anchors()).unwrap_err();
    assert!(matches!(err, MachineInfoError::Untrusted(_)), "{err}");
    assert!(err.to_string().contains("not signed by a device identity"), "{err}");
    // Another stand-in PKI is just as foreign.
    let other = StandInApplePki::generate(NOW).unwrap();
    assert!(verify_machine_info(&body, &other.device_identity_anchors()).is_err());
}

#[test]
fn refuses_tampered_non_plist_and_oversized_bodies() {
    if !openssl_cli::available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pki = StandInApplePki::generate(NOW).unwrap();
    let anchors = pki.device_identity_anchors();
    for attrs in [true, false] {
        let mut body = sign(dir.path(), &pki, PLIST.as_bytes(), "sha256", attrs, false);
        let pos = body.windows(6).position(|w| w == b"F9FTES").unwrap();
        body[pos] = b'X';
        let err = verify_machine_info(&body, &anchors).unwrap_err();
        assert!(matches!(err, MachineInfoError::Signature(_)), "{err}");
    }
    let body = sign(dir.path(), &pki, b"hello", "sha256", true, false);
    assert!(matches!(verify_machine_info(&body, &anchors), Err(MachineInfoError::NotPlist(_))));
    let big = vec![0u8; MAX_MACHINE_INFO_LEN + 1];
    assert!(matches!(verify_machine_info(&big, &anchors), Err(MachineInfoError::TooLarge { .. })));
    for garbage in [&b""[..], b"\x30\x80", b"<plist/>"] {
        assert!(verify_machine_info(garbage, &anchors).is_err());
    }
}

#[test]
fn plist_becomes_json_with_data_as_base64() {
    let text = r#"<plist version="1.0"><dict><key>A</key><data>AAE=</data><key>B</key>
        <array><integer>3</integer><true/></array></dict></plist>"#;
    let value = plist::Value::from_reader(std::io::Cursor::new(text.as_bytes())).unwrap();
    assert_eq!(plist_to_json(&value), serde_json::json!({"A": "AAE=", "B": [3, true]}));
}
