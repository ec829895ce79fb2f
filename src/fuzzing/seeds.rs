//! Seed corpora for the fuzz targets: the real public artifacts in `../shared/fixtures` (when
//! present) and valid inputs generated with the [`super::harness`] material, so mutations
//! start from inputs that pass the early checks. One function per target family.

use super::harness::{NOW, harness};
use crate::apple::server_token::{self, OAuthCredentials};
use crate::crypto::Secret;
use crate::crypto::cms::{SignerKey, encrypt_enveloped_ber, sign_attached};
use crate::crypto::jws::signer::AccountKey;
use crate::sim::apple_pki::{AttestedProperties, new_device_key, new_device_key_p256};
use crate::sim::fleet::{FleetDevice, machine_info, sign_options};
use serde_json::json;

/// Fixture files, silently none when the folder is absent (`fixtures::dir` prints why).
fn fixtures(names: &[&str]) -> Vec<Vec<u8>> {
    let Some(dir) = crate::fixtures::dir() else { return Vec::new() };
    names.iter().filter_map(|n| std::fs::read(dir.join(n)).ok()).collect()
}

fn creds() -> OAuthCredentials {
    OAuthCredentials {
        consumer_key: "CK_3a0f1e4c5e0b4b0c8f2e7e1d2c3b4a59".into(),
        consumer_secret: Secret::new("CS_a1b2c3d4e5f60718293a4b5c6d7e8f90".into()),
        access_token: Secret::new("AT_O12345678O1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c".into()),
        access_secret: Secret::new("AS_0f1e2d3c4b5a69788796a5b4c3d2e1f0".into()),
        access_token_expiry: NOW + time::Duration::days(365),
    }
}

fn minted_token() -> Vec<u8> {
    server_token::mint_p7m(&harness().token_cert_pem, &creds())
        .expect("minting a token for the harness certificate works")
}

pub fn server_token() -> Vec<Vec<u8>> {
    let mut out = fixtures(&[
        "dep-token/apple-mdm-client-tests-1-server-token.p7m",
        "dep-token/apple-example-server-token.p7m",
    ]);
    out.push(minted_token());
    out
}

pub fn server_token_text() -> Vec<Vec<u8>> {
    let mut out = fixtures(&[
        "dep-token/apple-mdm-client-tests-1-server-token.decrypted.txt",
        "dep-token/apple-example-server-token.decrypted.txt",
    ]);
    out.push(server_token::render_plaintext(&creds()).into_bytes());
    out
}

pub fn cms_enveloped() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for p7m in server_token() {
        if let Ok(der) = server_token::unwrap_file(&p7m) {
            out.push(der);
        }
    }
    let text = server_token::render_plaintext(&creds());
    if let Ok(der) = encrypt_enveloped_ber(text.as_bytes(), &harness().token_cert_der) {
        out.push(der);
    }
    out
}

/// MachineInfos signed by the harness device identity, in every encoding a fleet uses, plus
/// the real detached `Mdm-Signature` and device certificate.
pub fn cms_signed() -> Vec<Vec<u8>> {
    let h = harness();
    let key = SignerKey::Rsa(Box::new(h.device.key.clone()));
    let bag = h.pki.device_identity_bag();
    let mut out: Vec<Vec<u8>> = (0..8)
        .filter_map(|i| {
            let device = FleetDevice::for_serial(&format!("F0ZZ{i:08}"), i);
            sign_attached(&machine_info(&device), &h.device.cert_der, &bag, &key, &sign_options(i))
                .ok()
        })
        .collect();
    for b64 in fixtures(&["mdm-signature/mdm-signature-header-1.b64"]) {
        use base64ct::{Base64, Encoding};
        let text = String::from_utf8_lossy(&b64).trim().to_string();
        if let Ok(der) = Base64::decode_vec(&text) {
            out.push(der);
        }
    }
    out
}

/// MachineInfo and check-in plists: generated ones (XML and binary) and the real check-ins.
pub fn plists() -> Vec<Vec<u8>> {
    let mut out = fixtures(&[
        "mdm-checkin/Authenticate.1.plist",
        "mdm-checkin/Authenticate.2.plist",
        "mdm-checkin/TokenUpdate.1.plist",
        "mdm-checkin/TokenUpdate.2.plist",
        "mdm-checkin/DeviceInformation.1.plist",
    ]);
    for i in 0..3 {
        let xml = machine_info(&FleetDevice::for_serial(&format!("F0ZZ{i:08}"), i));
        if let Ok(value) = plist::Value::from_reader(std::io::Cursor::new(&xml)) {
            let mut binary = Vec::new();
            if plist::to_writer_binary(&mut binary, &value).is_ok() {
                out.push(binary);
            }
        }
        out.push(xml);
    }
    out
}

const ACME_URL: &str = "https://adebox.example/acme/new-account";

fn account_keys() -> Vec<AccountKey> {
    let mut keys = vec![AccountKey::p256(), AccountKey::p384()];
    keys.extend(AccountKey::rsa2048());
    keys
}

pub fn jws() -> Vec<Vec<u8>> {
    let payload = json!({"termsOfServiceAgreed": true, "contact": []});
    let mut out = Vec::new();
    for key in account_keys() {
        out.push(key.sign(ACME_URL, "bm9uY2U", None, Some(&payload)).to_string().into_bytes());
        out.push(key.sign(ACME_URL, "bm9uY2U", Some("https://a/acct/1"), None).to_string().into());
    }
    out
}

pub fn jws_header() -> Vec<Vec<u8>> {
    account_keys()
        .iter()
        .map(|key| {
            json!({"alg": key.alg().name(), "nonce": "bm9uY2U", "url": ACME_URL,
                   "jwk": key.jwk().to_json()})
            .to_string()
            .into_bytes()
        })
        .collect()
}

pub fn csr() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for key in [new_device_key(), new_device_key_p256()].into_iter().flatten() {
        let Ok(params) = rcgen::CertificateParams::new(vec!["device.example".to_string()]) else {
            continue;
        };
        if let Ok(csr) = params.serialize_request(&key) {
            out.push(csr.der().to_vec());
        }
    }
    out
}

fn attestation_chain() -> Option<Vec<Vec<u8>>> {
    use rcgen::PublicKeyData;
    let key = new_device_key().ok()?;
    let props = AttestedProperties {
        serial: Some("F0ZZ00000001".into()),
        udid: Some("00008110-000A1B2C3D4E5F60".into()),
        os_version: Some("18.1".into()),
        sepos_version: Some("22.1.0".into()),
        llb_version: Some("iBoot-11881".into()),
        sw_update_device_id: Some("iPhone15,2".into()),
        freshness: Some(vec![0xab; 32]),
    };
    harness().pki.issue_attestation(&props, &key.subject_public_key_info(), NOW).ok()
}

pub fn attestation() -> Vec<Vec<u8>> {
    let mut out = fixtures(&["attestation/apple-attestation-leaf-macos-15.5.pem"]);
    if let Some(x5c) = attestation_chain() {
        out.push(crate::apple::attestation::encode_att_obj(&x5c));
        let pem: String = x5c
            .iter()
            .map(|der| {
                use base64ct::{Base64, Encoding};
                format!(
                    "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
                    Base64::encode_string(der)
                )
            })
            .collect();
        out.push(pem.into_bytes());
    }
    out
}

/// Certificates (DER): attestation, device identity and token ones.
pub fn certificates() -> Vec<Vec<u8>> {
    let h = harness();
    let mut out = attestation_chain().unwrap_or_default();
    out.push(h.device.cert_der.clone());
    out.push(h.token_cert_der.clone());
    out.extend(crate::apple::pinned::iphone_device_ca_chain());
    out
}

pub fn profile_json() -> Vec<Vec<u8>> {
    let mut out = fixtures(&["dep-api-json/profile.post.request.json"]);
    out.push(
        json!({
            "name": "Staff iPhones", "platforms": ["iOS", "iPadOS"], "supervised": true,
            "is_mdm_removable": false, "department": "IT", "support_phone_number": "+1 555 0100",
            "support_email_address": "it@example.org", "language": "en", "region": "US",
            "hidden_screens": ["Siri", "Privacy"], "minimum_os": {"iOS": "17.0"},
        })
        .to_string()
        .into_bytes(),
    );
    out
}

pub fn profile_csv() -> Vec<Vec<u8>> {
    let mut csv = String::from("serial,asset tag,room\n");
    for i in 0..20 {
        csv.push_str(&format!("F0ZZ{i:08},A{i},\"Room {i}\"\n"));
    }
    vec![csv.into_bytes(), b"C02MT66KFLHH;x\r\nnot a serial;y\r\n".to_vec()]
}

/// The packaged configuration file with every documented key uncommented, and as shipped.
pub fn config() -> Vec<Vec<u8>> {
    let shipped = include_str!("../../packaging/adebox.toml");
    let uncommented: String = shipped
        .lines()
        .map(|l| match l.strip_prefix('#') {
            Some(rest)
                if rest.starts_with(|c: char| c.is_ascii_lowercase()) && rest.contains(" = ") =>
            {
                rest
            }
            _ => l,
        })
        .flat_map(|l| [l, "\n"])
        .collect();
    vec![shipped.as_bytes().to_vec(), uncommented.into_bytes()]
}

pub fn retry_after() -> Vec<Vec<u8>> {
    [
        "120",
        "0",
        "Wed, 21 Oct 2015 07:28:00 GMT",
        "Thu, 15 Jan 2026 12:05:00 GMT",
        "2026-01-15T12:00:00Z",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect()
}

pub fn dep_response() -> Vec<Vec<u8>> {
    let mut out = fixtures(&[
        "dep-api-json/session.get.response.json",
        "dep-api-json/account.get.response.json",
        "dep-api-json/devices-sync.post.response-modified-deleted.json",
        "dep-api-json/devices-sync.post.response-empty.json",
        "dep-api-json/devices.post.response.json",
        "dep-api-json/profile.post.response.json",
        "dep-api-json/profile.get.response.json",
        "dep-api-json/profile-devices.post.response.json",
        "dep-api-json/profile-devices.post.response-throttled.json",
        "dep-api-json/device-replacementdetails.get.response.json",
        "dep-api-json/os-beta-enrollment-tokens.get.response.json",
    ]);
    out.extend(
        ["EXPIRED_CURSOR", "T_C_NOT_SIGNED", "<html><body>Bad Gateway</body></html>", "FORBIDDEN"]
            .iter()
            .map(|s| s.as_bytes().to_vec()),
    );
    out
}

pub fn token_key() -> Vec<Vec<u8>> {
    let mut out = fixtures(&["dep-token/apple-mdm-client-tests-1.pem"]);
    out.push(harness().token_key_pem.clone().into_bytes());
    out
}
