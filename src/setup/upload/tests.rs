//! The checks of an uploaded configuration profile, with profiles written as admins export
//! them (XML, a root certificate payload) and signed with the CMS code MachineInfo uses.

use super::*;
use crate::crypto::ca::Authority;
use crate::crypto::cms::{CmsEncoding, SignOptions, SignerKey, sign_attached};

fn profile(payloads: &str) -> Vec<u8> {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0"><dict>
<key>PayloadType</key><string>Configuration</string>
<key>PayloadIdentifier</key><string>org.example.wifi</string>
<key>PayloadUUID</key><string>5C1C39A4-8D6B-4B6A-9E40-3A4F8C2B1D10</string>
<key>PayloadVersion</key><integer>1</integer>
<key>PayloadDisplayName</key><string>School Wi-Fi</string>
<key>PayloadContent</key><array>{payloads}</array>
</dict></plist>"#
    )
    .into_bytes()
}

fn payload(ty: &str, extra: &str) -> String {
    format!(
        "<dict><key>PayloadType</key><string>{ty}</string>\
         <key>PayloadIdentifier</key><string>org.example.p</string>\
         <key>PayloadUUID</key><string>0E8C7B52-3D7B-4E3A-8D6E-0A1B2C3D4E5F</string>\
         <key>PayloadVersion</key><integer>1</integer>{extra}</dict>"
    )
}

fn ca() -> Authority {
    Authority::generate(
        "Example Root",
        time::OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000),
        time::Duration::days(30),
    )
    .unwrap()
}

fn root_payload(der: &[u8]) -> String {
    use base64ct::{Base64, Encoding};
    payload(
        "com.apple.security.root",
        &format!("<key>PayloadContent</key><data>{}</data>", Base64::encode_string(der)),
    )
}

#[test]
fn an_unsigned_profile_with_a_certificate_payload_is_read() {
    let ca = ca();
    let bytes = profile(&format!(
        "{}{}",
        payload("com.apple.wifi.managed", "<key>SSID_STR</key><string>School</string>"),
        root_payload(ca.cert_der())
    ));
    let c = check(&bytes).unwrap();
    assert_eq!(c.name, "School Wi-Fi");
    assert_eq!(c.payload_types, ["com.apple.wifi.managed", "com.apple.security.root"]);
    assert_eq!(c.signed_by, None);
    assert!(c.certificates[0].contains("Example Root"), "{:?}", c.certificates);
}

#[test]
fn a_signed_profile_is_verified_and_its_signer_named() {
    let at = time::OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000);
    let ca = Authority::generate_rsa("Example Root", at, time::Duration::days(30)).unwrap();
    let bytes = profile(&payload("com.apple.wifi.managed", ""));
    let key = SignerKey::from_pkcs8_pem(ca.key_pem().expose()).unwrap();
    let opts = SignOptions {
        encoding: CmsEncoding::Der,
        digest: crate::crypto::sigverify::Digest::Sha256,
        signed_attributes: true,
        signing_time: None,
    };
    let signed = sign_attached(&bytes, ca.cert_der(), &[], &key, &opts).unwrap();
    let c = check(&signed).unwrap();
    assert!(c.signed_by.unwrap().contains("Example Root"));
    // One flipped byte in the signed content: the signature no longer verifies.
    let mut broken = signed.clone();
    let at = broken.windows(6).position(|w| w == b"School").unwrap();
    broken[at] = b'X';
    let e = check(&broken).unwrap_err().to_string();
    assert!(e.contains("signature"), "{e}");
}

#[test]
fn refusals_name_the_payload_and_the_key() {
    let cases = [
        (
            profile(&payload("com.apple.wifi.managed", ""))
                .replace_str("PayloadUUID</key><string>0E8C", "X</key><string>0E8C"),
            "payload 1 (com.apple.wifi.managed): PayloadUUID is missing",
        ),
        (profile(&payload("com.apple.mdm", "")), "payload 1 (com.apple.mdm): an MDM payload"),
        (profile(""), "no payloads"),
        (
            profile(&payload(
                "com.apple.security.root",
                "<key>PayloadContent</key><data>AAAA</data>",
            )),
            "payload 1 (com.apple.security.root): PayloadContent is not a certificate",
        ),
        (b"not a profile at all".to_vec(), "neither a property list nor a signed profile"),
        (
            profile(&payload("x", "")).replace_str("<integer>1</integer>", "<string>1</string>"),
            "the profile: PayloadVersion must be",
        ),
        (b"<plist><array/></plist>".to_vec(), "top level must be a <dict>"),
    ];
    for (bytes, want) in cases {
        let e = check(&bytes).unwrap_err().to_string();
        assert!(e.contains(want), "{e:?} should say {want:?}");
    }
    let huge = vec![b' '; MAX_PROFILE + 1];
    assert!(matches!(check(&huge), Err(SetupError::TooLarge { .. })));
}

trait ReplaceStr {
    fn replace_str(self, from: &str, to: &str) -> Vec<u8>;
}

impl ReplaceStr for Vec<u8> {
    fn replace_str(self, from: &str, to: &str) -> Vec<u8> {
        String::from_utf8(self).unwrap().replacen(from, to, 1).into_bytes()
    }
}

fn checkout() -> Option<AppleSchemas> {
    let dir = crate::fixtures::dir()?.join("device-management");
    Some(AppleSchemas::load(Some(&dir)).unwrap_or_else(|e| panic!("{e}")))
}

fn scep(keysize: &str) -> Vec<u8> {
    profile(&payload(
        "com.apple.security.scep",
        &format!(
            "<key>PayloadContent</key><dict><key>URL</key><string>https://ca.example.org/scep</string>\
             <key>Keysize</key>{keysize}</dict>"
        ),
    ))
}

#[test]
fn with_the_schemas_a_payload_with_a_wrong_typed_key_is_refused_naming_payload_and_key() {
    let Some(schemas) = checkout() else { return };
    let bad = scep("<string>2048</string>");
    // Shape only: the common keys are right, so it passes.
    check(&bad).unwrap();
    let e = check_with(&bad, &schemas).unwrap_err().to_string();
    assert!(
        e.contains("payload 1 (com.apple.security.scep): PayloadContent.Keysize: expected integer, found string"),
        "{e}"
    );
    let good = check_with(&scep("<integer>2048</integer>"), &schemas).unwrap();
    assert_eq!(good.payload_types, ["com.apple.security.scep"]);
    // A type the checkout has no schema for needs only its common keys.
    let wifi = profile(&payload("com.apple.wifi.managed", "<key>SSID_STR</key><string>S</string>"));
    check_with(&wifi, &schemas).unwrap();
}
