use super::*;
use rsa::PublicKey;
use rsa::pkcs8::DecodePublicKey;
use rsa::traits::PublicKeyParts;
use sha2::{Digest, Sha256};
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2026-11-24 12:00 UTC);

/// What `openssl rsa -noout -modulus | sha256sum` prints for the fixture key (fixtures README).
const FIXTURE_MODULUS_SHA256: &str =
    "82f0d63fd0d2f35df244f92986d4cf69fb733db9c7e216c641225d51ca8a8c1d";

fn openssl_modulus_sha256(key: &PrivateKey) -> String {
    let line = format!("Modulus={}\n", hex::encode_upper(key.n_bytes()));
    hex::encode(Sha256::digest(line.as_bytes()))
}

fn cert_public_key(cert_pem: &str) -> PublicKey {
    let der = crate::crypto::ca::pem_to_der(cert_pem).unwrap();
    let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
    PublicKey::from_public_key_der(cert.public_key().raw).unwrap()
}

#[test]
fn generates_a_certificate_apple_business_manager_accepts() {
    let pair = generate("adebox DEP token 1", NOW).unwrap();
    let der = crate::crypto::ca::pem_to_der(&pair.cert_pem).unwrap();
    let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();

    assert_eq!(cert.signature_algorithm.algorithm.to_id_string(), "1.2.840.113549.1.1.11");
    assert_eq!(cert.subject(), cert.issuer(), "self-signed");
    let cn = cert.subject().iter_common_name().next().unwrap().as_str().unwrap();
    assert_eq!(cn, "adebox DEP token 1");
    let ku = cert.key_usage().unwrap().unwrap().value;
    assert!(ku.digital_signature() && ku.key_encipherment());
    assert!(!ku.key_cert_sign());
    assert!(!cert.basic_constraints().unwrap().unwrap().value.ca);
    cert.verify_signature(None).unwrap();
    assert_eq!(cert.validity().not_before.timestamp(), (NOW - Duration::hours(1)).unix_timestamp());
    assert_eq!(cert.validity().not_after.timestamp(), (NOW + VALIDITY).unix_timestamp());
    assert_eq!(pair.fingerprint_sha256, crate::crypto::ca::fingerprint_sha256(&der));

    let key = load_rsa_private_key(pair.key_pem.expose().as_bytes()).unwrap();
    assert_eq!(key.size() * 8, KEY_BITS);
    assert_eq!(PublicKey::from(&key), cert_public_key(&pair.cert_pem));
    assert!(!format!("{pair:?}").contains("PRIVATE KEY"), "Debug must not show the key");
}

#[test]
fn openssl_reads_the_generated_certificate() {
    if !crate::crypto::openssl_cli::available() {
        return;
    }
    let pair = generate("depserver", NOW).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.pem"), &pair.cert_pem).unwrap();
    let text =
        crate::crypto::openssl_cli::run(dir.path(), &["x509", "-in", "c.pem", "-noout", "-text"])
            .unwrap();
    let text = String::from_utf8(text).unwrap();
    assert!(text.contains("Public-Key: (2048 bit)"), "{text}");
    assert!(text.contains("sha256WithRSAEncryption"), "{text}");
    assert!(text.contains("Digital Signature, Key Encipherment"), "{text}");
}

#[test]
fn refuses_unusable_common_names() {
    for bad in ["", "   ", &"x".repeat(65), "line\nbreak"] {
        assert!(matches!(generate(bad, NOW), Err(TokenKeyError::BadCommonName(_))), "{bad:?}");
    }
}

#[test]
fn loads_the_fixture_key_as_pkcs1_pem_pkcs1_der_and_pkcs8() {
    let Some(pem) = crate::fixtures::read("dep-token/apple-mdm-client-tests-1.pem") else { return };
    let Some(der) = crate::fixtures::read("dep-token/apple-mdm-client-tests-1.der") else { return };
    let from_pem = load_rsa_private_key(&pem).unwrap();
    let from_der = load_rsa_private_key(&der).unwrap();
    assert_eq!(openssl_modulus_sha256(&from_pem), FIXTURE_MODULUS_SHA256);
    assert_eq!(openssl_modulus_sha256(&from_der), FIXTURE_MODULUS_SHA256);

    let pkcs8_pem = from_pem.to_pkcs8_pem(LineEnding::LF).unwrap();
    let pkcs8_der = from_pem.to_pkcs8_der().unwrap();
    assert_eq!(
        openssl_modulus_sha256(&load_rsa_private_key(pkcs8_pem.as_bytes()).unwrap()),
        FIXTURE_MODULUS_SHA256
    );
    assert_eq!(
        openssl_modulus_sha256(&load_rsa_private_key(pkcs8_der.as_bytes()).unwrap()),
        FIXTURE_MODULUS_SHA256
    );

    // The key next to its certificate in one PEM file, and with CRLF line endings.
    let Some(cert) = crate::fixtures::read("dep-token/apple-mdm-client-tests-1.crt") else {
        return;
    };
    let bundle = [cert.clone(), pem.clone()].concat();
    assert_eq!(
        openssl_modulus_sha256(&load_rsa_private_key(&bundle).unwrap()),
        FIXTURE_MODULUS_SHA256
    );
    let crlf = String::from_utf8(pem.clone()).unwrap().replace('\n', "\r\n");
    assert_eq!(
        openssl_modulus_sha256(&load_rsa_private_key(crlf.as_bytes()).unwrap()),
        FIXTURE_MODULUS_SHA256
    );
}

#[test]
fn a_certificate_is_not_taken_for_a_key() {
    let Some(cert) = crate::fixtures::read("dep-token/apple-mdm-client-tests-1.crt") else {
        return;
    };
    let err = load_rsa_private_key(&cert).unwrap_err();
    assert!(matches!(err, TokenKeyError::NotAKey(_)), "{err}");
    assert!(err.to_string().contains("this is a certificate"), "{err}");
}

#[test]
fn refuses_bad_key_files_with_a_reason() {
    let key =
        rsa::PrivateKey::from_pkcs8_pem(generate("k", NOW).unwrap().key_pem.expose()).unwrap();
    let pem = key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string();

    assert!(matches!(load_rsa_private_key(b""), Err(TokenKeyError::NotAKey(_))));
    assert!(matches!(load_rsa_private_key(b"hello world"), Err(TokenKeyError::NotAKey(_))));
    assert!(matches!(load_rsa_private_key(&[0xff, 0xfe, 0x00]), Err(TokenKeyError::NotAKey(_))));
    assert!(matches!(
        load_rsa_private_key(&[0x30, 0x03, 0x02, 0x01]),
        Err(TokenKeyError::Malformed(_))
    ));
    assert!(matches!(load_rsa_private_key(&vec![b'A'; 70_000]), Err(TokenKeyError::TooLarge(_))));

    let truncated = format!("{}\n-----END PRIVATE KEY-----\n", &pem[..400]);
    assert!(matches!(load_rsa_private_key(truncated.as_bytes()), Err(TokenKeyError::Malformed(_))));

    let encrypted =
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n";
    assert!(matches!(load_rsa_private_key(encrypted.as_bytes()), Err(TokenKeyError::Encrypted)));
    let legacy = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nMIIB\n-----END RSA PRIVATE KEY-----\n";
    assert!(matches!(load_rsa_private_key(legacy.as_bytes()), Err(TokenKeyError::Encrypted)));

    let ec = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let err = load_rsa_private_key(ec.serialize_pem().as_bytes()).unwrap_err();
    assert!(matches!(err, TokenKeyError::NotRsa), "{err}");
    let err = load_rsa_private_key(ec.serialize_der().as_slice()).unwrap_err();
    assert!(matches!(err, TokenKeyError::NotRsa), "{err}");
    let sec1 = "-----BEGIN EC PRIVATE KEY-----\nMHcC\n-----END EC PRIVATE KEY-----\n";
    assert!(matches!(load_rsa_private_key(sec1.as_bytes()), Err(TokenKeyError::NotRsa)));
}
