//! The `adebox inspect …` commands on real and stand-in artifacts: server tokens,
//! MachineInfo, attestations and signed enrollment profiles.

use crate::binary::{adebox, run_fail};
use std::path::{Path, PathBuf};
use std::process::Command;

#[test]
fn inspect_token_decrypts_the_real_fixture_and_refuses_a_wrong_key() {
    let (Some(key), Some(token), Some(example)) = (
        adebox::fixtures::path("dep-token/apple-mdm-client-tests-1.pem"),
        adebox::fixtures::path("dep-token/apple-mdm-client-tests-1-server-token.p7m"),
        adebox::fixtures::path("dep-token/apple-example-server-token.p7m"),
    ) else {
        return;
    };
    let out = adebox().args(["inspect", "token", "--key"]).arg(&key).arg(&token).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["access_token_expiry"], "2026-01-17T11:02:21Z");
    assert!(json["consumer_secret"].as_str().unwrap().ends_with("(masked)"));
    let shown = adebox()
        .args(["inspect", "token", "--show-secrets", "--key"])
        .arg(&key)
        .arg(&token)
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(json["consumer_secret"], "CS_810bb5ab05e53becb3bfbe40b3608a0c9039c457");
    let err =
        run_fail(&["inspect", "token", "--key", key.to_str().unwrap(), example.to_str().unwrap()]);
    assert!(err.contains("different public key"), "{err}");
    let err =
        run_fail(&["inspect", "token", "--key", key.to_str().unwrap(), key.to_str().unwrap()]);
    assert!(err.contains("private key"), "{err}");
}

/// Signs `plist` with a new stand-in device identity via `openssl cms -sign -stream` (BER,
/// SHA-1, no signed attributes: the shape of real captures); None without openssl.
fn stand_in_machineinfo(
    dir: &Path,
    pki: &adebox::sim::apple_pki::StandInApplePki,
    plist: &str,
) -> Option<PathBuf> {
    let now = time::macros::datetime!(2026-11-24 12:00 UTC);
    let id = pki.issue_device_identity("UDID-CLI-1", now).unwrap();
    std::fs::write(dir.join("id.crt"), &id.cert_pem).unwrap();
    std::fs::write(dir.join("id.key"), id.key_pem.expose()).unwrap();
    std::fs::write(
        dir.join("bag.pem"),
        format!("{}{}", pki.device_ca.cert_pem, pki.device_root.cert_pem),
    )
    .unwrap();
    std::fs::write(dir.join("mi.plist"), plist).unwrap();
    let status = Command::new("openssl")
        .current_dir(dir)
        .args(["cms", "-sign", "-binary", "-nodetach", "-stream", "-noattr", "-md", "sha1"])
        .args(["-in", "mi.plist", "-signer", "id.crt", "-inkey", "id.key", "-certfile", "bag.pem"])
        .args(["-outform", "DER", "-out", "mi.p7"])
        .status();
    match status {
        Ok(s) if s.success() => Some(dir.join("mi.p7")),
        _ => {
            eprintln!("notice: openssl unavailable; skipping");
            None
        }
    }
}

#[test]
fn inspect_machineinfo_prints_the_plist_and_refuses_an_untrusted_signer() {
    let dir = tempfile::tempdir().unwrap();
    let now = time::macros::datetime!(2026-11-24 12:00 UTC);
    let pki = adebox::sim::apple_pki::StandInApplePki::generate(now).unwrap();
    let plist = r#"<plist version="1.0"><dict><key>SERIAL</key><string>C02CLI</string><key>UDID</key><string>UDID-CLI-1</string><key>PRODUCT</key><string>iPhone15,2</string></dict></plist>"#;
    let Some(body) = stand_in_machineinfo(dir.path(), &pki, plist) else { return };
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &pki.device_ca.cert_pem).unwrap();
    let out =
        adebox().args(["inspect", "machineinfo", "--ca"]).arg(&ca).arg(&body).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["verified"], true);
    assert_eq!(json["plist"]["SERIAL"], "C02CLI");
    assert_eq!(json["machine_info"]["product"], "iPhone15,2");
    assert_eq!(json["digest"], "sha1");
    // The same body in base64, as the x-apple-aspen-deviceinfo header carries it.
    use base64ct::{Base64, Encoding};
    let b64 = dir.path().join("mi.b64");
    std::fs::write(&b64, Base64::encode_string(&std::fs::read(&body).unwrap())).unwrap();
    let out =
        adebox().args(["inspect", "machineinfo", "--ca"]).arg(&ca).arg(&b64).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // Against Apple's pinned Device CA, the stand-in signer is refused.
    let err = run_fail(&["inspect", "machineinfo", body.to_str().unwrap()]);
    assert!(err.contains("not signed by a device identity"), "{err}");
    let err = run_fail(&["inspect", "machineinfo", ca.to_str().unwrap()]);
    assert!(err.contains("not a valid signed message"), "{err}");
}

#[test]
fn inspect_attestation_reads_the_real_leaf_and_verifies_a_stand_in_att_obj() {
    if let Some(leaf) = adebox::fixtures::path("attestation/apple-attestation-leaf-macos-15.5.pem")
    {
        let out = adebox()
            .args(["inspect", "attestation", "--at", "2025-08-01T00:00:00Z"])
            .arg(&leaf)
            .output()
            .unwrap();
        // The Sub CA is not published, so the chain cannot verify: non-zero, report printed.
        assert!(!out.status.success());
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(json["serial"], "TMWFWWWP67");
        assert_eq!(json["udid"], "00006030-000651690A84001C");
        assert_eq!(json["os_version"], "15.5");
        assert_eq!(json["chain_verified"], false);
        assert!(json["nonce_hex"].as_str().unwrap().starts_with("9ff219c2"));
    }
    let dir = tempfile::tempdir().unwrap();
    let now = time::macros::datetime!(2026-11-24 12:00 UTC);
    let pki = adebox::sim::apple_pki::StandInApplePki::generate(now).unwrap();
    let key = adebox::sim::apple_pki::new_device_key().unwrap();
    let props = adebox::sim::apple_pki::AttestedProperties {
        serial: Some("C02CLI".into()),
        freshness: Some(vec![7; 32]),
        ..Default::default()
    };
    let spki = rcgen::PublicKeyData::subject_public_key_info(&key);
    let x5c = pki.issue_attestation(&props, &spki, now).unwrap();
    let att = dir.path().join("att.cbor");
    std::fs::write(&att, adebox::apple::attestation::encode_att_obj(&x5c)).unwrap();
    let root = dir.path().join("root.pem");
    std::fs::write(&root, &pki.attestation_root.cert_pem).unwrap();
    let out = adebox()
        .args(["inspect", "attestation", "--at", "2026-11-25T00:00:00Z", "--ca"])
        .arg(&root)
        .arg(&att)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["serial"], "C02CLI");
    assert_eq!(json["chain_verified"], true);
    // Under Apple's real root, the stand-in chain is refused.
    let out = adebox().args(["inspect", "attestation"]).arg(&att).output().unwrap();
    assert!(!out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json["chain_error"].as_str().unwrap().contains("trusted Apple attestation root"));
    let err = run_fail(&["inspect", "attestation", root.to_str().unwrap(), "--at", "yesterday"]);
    assert!(err.contains("--at"), "{err}");
    std::fs::write(dir.path().join("junk"), [0xffu8; 40]).unwrap();
    let err = run_fail(&["inspect", "attestation", dir.path().join("junk").to_str().unwrap()]);
    assert!(err.contains("CBOR") || err.contains("malformed"), "{err}");
}

/// A signed SCEP-variant enrollment profile from a new appliance CA: (profile file, CA PEM file,
/// another CA's PEM file).
fn signed_profile(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    use adebox::apple::enroll_profile::{self as ep, IdentityInputs, MdmInputs, ProfileInputs};
    use adebox::crypto::ca::{Authority, pem_to_der};
    let now = time::macros::datetime!(2026-11-24 12:00 UTC);
    let ca = Authority::generate("adebox CLI test CA", now, time::Duration::days(3650)).unwrap();
    let leaf =
        ca.issue_server(&["mdm.example.test".into()], now, time::Duration::days(800)).unwrap();
    let inputs = ProfileInputs {
        identifier: "com.example.adebox.enroll".into(),
        display_name: "Example MDM".into(),
        organization: "Example".into(),
        description: None,
        ca_der: Some(ca.cert_der().to_vec()),
        ca_file_name: "adebox-root.cer".into(),
        identity: IdentityInputs::Scep {
            url: "https://mdm.example.test/scep".into(),
            challenge: adebox::crypto::Secret::new("cli-secret-challenge".into()),
            subject: ep::subject("Example", "C02CLI"),
            ca_fingerprint: None,
        },
        mdm: MdmInputs {
            topic: "com.apple.mgmt.External.00000000-1111-2222-3333-444444444444".into(),
            server_url: "https://mdm.example.test/mdm/connect".into(),
            check_in_url: "https://mdm.example.test/mdm/checkin".into(),
            server_capabilities: vec![],
        },
    };
    let profile = ep::build_profile(&inputs, &mut ep::random_uuid).unwrap();
    let key = adebox::crypto::cms::SignerKey::from_pkcs8_pem(leaf.key_pem.expose()).unwrap();
    let cert = pem_to_der(&leaf.cert_pem).unwrap();
    let bytes = ep::sign_profile(&profile, &cert, &[ca.cert_der().to_vec()], &key, now).unwrap();
    let other = Authority::generate("another CA", now, time::Duration::days(3650)).unwrap();
    let (file, ca_pem, other_pem) =
        (dir.join("enroll.mobileconfig"), dir.join("ca.pem"), dir.join("other.pem"));
    std::fs::write(&file, bytes).unwrap();
    std::fs::write(&ca_pem, ca.cert_pem()).unwrap();
    std::fs::write(&other_pem, other.cert_pem()).unwrap();
    (file, ca_pem, other_pem)
}

#[test]
fn inspect_profile_lists_payloads_masks_the_challenge_and_refuses_bad_signatures() {
    let dir = tempfile::tempdir().unwrap();
    let (file, ca, other) = signed_profile(dir.path());
    let out = adebox().args(["inspect", "profile", "--ca"]).arg(&ca).arg(&file).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("cli-secret-challenge"), "{stdout}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["signature_verified"], true);
    assert_eq!(json["chains_to_ca"], true);
    assert!(json["signer"].as_str().unwrap().contains("mdm.example.test"), "{json}");
    let types: Vec<&str> =
        json["payloads"].as_array().unwrap().iter().map(|p| p["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["com.apple.security.root", "com.apple.security.scep", "com.apple.mdm"]);
    assert_eq!(json["payloads"][1]["fields"]["PayloadContent"]["Challenge"], "(set, hidden)");
    // Without --ca only the signature counts.
    assert!(adebox().args(["inspect", "profile"]).arg(&file).status().unwrap().success());
    // A signer that does not chain to --ca: report printed, non-zero exit.
    let out =
        adebox().args(["inspect", "profile", "--ca"]).arg(&other).arg(&file).output().unwrap();
    assert!(!out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["chains_to_ca"], false);
    // Altered, truncated and garbage files: non-zero with a reason, never a panic.
    let bytes = std::fs::read(&file).unwrap();
    let mut altered = bytes.clone();
    let at = altered.windows(7).position(|w| w == b"Example").unwrap();
    altered[at] ^= 0x20;
    for (name, content) in [
        ("altered", altered),
        ("truncated", bytes[..bytes.len() / 2].to_vec()),
        ("garbage", b"this is not a profile".to_vec()),
        ("empty", Vec::new()),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        let err = run_fail(&["inspect", "profile", path.to_str().unwrap()]);
        assert!(!err.contains("panicked"), "{name}: {err}");
        assert!(err.contains("not a validly signed profile"), "{name}: {err}");
    }
}
