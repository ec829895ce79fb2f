//! CMS against the real Apple artifacts and against `openssl cms` / `openssl smime`.

use super::ber::{SignedDataBer, content_info, decode_content};
use super::*;
use crate::crypto::openssl_cli;
use crate::crypto::token_keypair::{self, TokenKeyPair, load_rsa_private_key};
use base64ct::{Base64, Encoding};
use rsa::PrivateKey;
use std::path::Path;
use time::macros::datetime;

const REAL_TOKEN: &str = "dep-token/apple-mdm-client-tests-1-server-token.p7m";
const REAL_PLAINTEXT: &str = "dep-token/apple-mdm-client-tests-1-server-token.decrypted.txt";
const REAL_KEY: &str = "dep-token/apple-mdm-client-tests-1.pem";
const REAL_CERT: &str = "dep-token/apple-mdm-client-tests-1.crt";
const EXAMPLE_TOKEN: &str = "dep-token/apple-example-server-token.p7m";

/// The CMS bytes of an S/MIME file: `sed '1,/^$/d' | base64 -d`.
fn smime_body(p7m: &[u8]) -> Vec<u8> {
    let text = std::str::from_utf8(p7m).unwrap().replace("\r\n", "\n");
    let (_, body) = text.split_once("\n\n").unwrap();
    let b64: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    Base64::decode_vec(&b64).unwrap()
}

fn fixture_token(name: &str) -> Option<Vec<u8>> {
    crate::fixtures::read(name).map(|p7m| smime_body(&p7m))
}

fn fixture_key() -> Option<PrivateKey> {
    crate::fixtures::read(REAL_KEY).map(|pem| load_rsa_private_key(&pem).unwrap())
}

fn fixture_cert_der() -> Option<Vec<u8>> {
    crate::fixtures::read(REAL_CERT)
        .map(|pem| crate::crypto::ca::pem_to_der(std::str::from_utf8(&pem).unwrap()).unwrap())
}

fn new_pair() -> (TokenKeyPair, PrivateKey, Vec<u8>) {
    let pair = token_keypair::generate("depserver", datetime!(2026-11-24 12:00 UTC)).unwrap();
    let key = load_rsa_private_key(pair.key_pem.expose().as_bytes()).unwrap();
    let cert_der = crate::crypto::ca::pem_to_der(&pair.cert_pem).unwrap();
    (pair, key, cert_der)
}

#[test]
fn decrypts_the_real_apple_token_to_its_exact_plaintext() {
    let (Some(der), Some(key), Some(cert), Some(expected)) = (
        fixture_token(REAL_TOKEN),
        fixture_key(),
        fixture_cert_der(),
        crate::fixtures::read(REAL_PLAINTEXT),
    ) else {
        return;
    };
    assert_eq!(der.len(), 967);
    assert_eq!(decrypt_enveloped(&der, &key).unwrap(), expected);
    assert_eq!(decrypt_enveloped_for_cert(&der, &key, &cert).unwrap(), expected);
    let recips = recipients(&der).unwrap();
    let [Recipient::IssuerSerial { issuer, serial, .. }] = recips.as_slice() else {
        panic!("one issuer-and-serial recipient expected")
    };
    assert_eq!(issuer, "CN=apple-mdm-client-tests,OU=com.github.petarov,C=DE");
    assert_eq!(hex::encode_upper(serial), "70FEDDC7D5AFA393");
}

#[test]
fn apple_example_token_parses_but_the_fixture_key_is_wrong_for_it() {
    let (Some(der), Some(key), Some(cert)) =
        (fixture_token(EXAMPLE_TOKEN), fixture_key(), fixture_cert_der())
    else {
        return;
    };
    assert_eq!(der.len(), 978);
    let recips = recipients(&der).unwrap();
    assert_eq!(recips.len(), 1);
    let shown = recips[0].to_string();
    assert!(shown.contains("CN=Profile Manager S/MIME Identity,O=Zippo Inc,C=US"), "{shown}");
    assert!(shown.ends_with("serial -7CB4A13342F086E4"), "negative serial: {shown}");

    let err = decrypt_enveloped(&der, &key).unwrap_err();
    assert!(
        matches!(&err, CmsError::WrongKey { key_certificate: None, addressed_to } if addressed_to.len() == 1),
        "{err:?}"
    );
    let err = decrypt_enveloped_for_cert(&der, &key, &cert).unwrap_err();
    let CmsError::WrongKey { key_certificate: Some(mine), .. } = &err else { panic!("{err:?}") };
    assert!(mine.to_string().contains("apple-mdm-client-tests"));
    let msg = err.to_string();
    assert!(msg.contains("Zippo") && msg.contains("apple-mdm-client-tests"), "{msg}");
}

#[test]
fn what_we_encrypt_has_apples_shape_and_round_trips() {
    let (_, key, cert) = new_pair();
    let plaintext = b"Content-Type: text/plain;charset=UTF-8\r\n\r\nhello";
    let ber = encrypt_enveloped_ber(plaintext, &cert).unwrap();

    // 30 80 06 09 <envelopedData> a0 80 30 80 02 01 00 31 82 …: indefinite lengths, v0.
    assert_eq!(&ber[..4], &[0x30, 0x80, 0x06, 0x09]);
    assert_eq!(&ber[13..22], &[0xa0, 0x80, 0x30, 0x80, 0x02, 0x01, 0x00, 0x31, 0x82]);
    assert!(ber.ends_with(&[0; 10]), "five EOCs closing [0] and its four parents");
    let info =
        content_info(&ber, const_oid::db::rfc5911::ID_ENVELOPED_DATA, "EnvelopedData").unwrap();
    let data: cms::enveloped_data::EnvelopedData = decode_content(&info).unwrap();
    assert_eq!(data.version, cms::content_info::CmsVersion::V0);
    let cms::enveloped_data::RecipientInfo::Ktri(ktri) = &data.recip_infos.0.as_slice()[0] else {
        panic!("key transport recipient expected")
    };
    assert_eq!(ktri.key_enc_alg.oid, const_oid::db::rfc5912::RSA_ENCRYPTION);
    assert_eq!(ktri.key_enc_alg.parameters, Some(der::Any::null()));
    assert_eq!(ktri.enc_key.as_bytes().len(), 256);
    assert_eq!(data.encrypted_content.content_enc_alg.oid, const_oid::db::rfc5911::ID_AES_128_CBC);

    assert_eq!(decrypt_enveloped(&ber, &key).unwrap(), plaintext);
    assert_eq!(decrypt_enveloped_for_cert(&ber, &key, &cert).unwrap(), plaintext);
    // Fresh CEK and IV every time.
    assert_ne!(encrypt_enveloped_ber(plaintext, &cert).unwrap(), ber);
}

#[test]
fn large_content_is_chunked_and_still_decrypts() {
    let (_, key, cert) = new_pair();
    let plaintext: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
    let ber = encrypt_enveloped_ber(&plaintext, &cert).unwrap();
    assert_eq!(decrypt_enveloped(&ber, &key).unwrap(), plaintext);
}

#[test]
fn a_different_key_is_reported_as_wrong_key_not_garbage() {
    let (_, _, cert_a) = new_pair();
    let (_, key_b, cert_b) = new_pair();
    let ber = encrypt_enveloped_ber(b"secret", &cert_a).unwrap();
    let err = decrypt_enveloped(&ber, &key_b).unwrap_err();
    assert!(matches!(err, CmsError::WrongKey { key_certificate: None, .. }), "{err:?}");
    let err = decrypt_enveloped_for_cert(&ber, &key_b, &cert_b).unwrap_err();
    assert!(matches!(err, CmsError::WrongKey { key_certificate: Some(_), .. }), "{err:?}");
    if let Some(fixture) = fixture_key() {
        assert!(matches!(decrypt_enveloped(&ber, &fixture), Err(CmsError::WrongKey { .. })));
    }
}

#[test]
fn refuses_certificates_it_cannot_encrypt_for() {
    assert!(matches!(encrypt_enveloped_ber(b"x", b"not a cert"), Err(CmsError::BadCertificate(_))));
    let ca = crate::crypto::ca::Authority::generate(
        "ec",
        datetime!(2026-11-24 12:00 UTC),
        time::Duration::days(1),
    )
    .unwrap();
    let err = encrypt_enveloped_ber(b"x", ca.cert_der()).unwrap_err();
    assert!(err.to_string().contains("not RSA"), "{err}");
}

#[test]
fn truncated_or_flipped_tokens_give_errors_never_panics() {
    let (Some(der), Some(key)) = (fixture_token(REAL_TOKEN), fixture_key()) else { return };
    for cut in 0..der.len() {
        assert!(decrypt_enveloped(&der[..cut], &key).is_err(), "truncated at {cut}");
    }
    // Parsing sees every flipped bit; full decryption (an RSA operation, ~80 ms in a debug
    // build) a spread sample of them.
    for bit in 0..der.len() * 8 {
        let mut flipped = der.clone();
        flipped[bit / 8] ^= 1 << (bit % 8);
        let _ = recipients(&flipped);
        if bit % 197 == 0 {
            let _ = decrypt_enveloped(&flipped, &key);
        }
    }
    assert!(matches!(decrypt_enveloped(&[], &key), Err(CmsError::Malformed(_))));
    assert!(matches!(decrypt_enveloped(b"garbage", &key), Err(CmsError::Malformed(_))));
}

// ---- openssl as the independent oracle ----------------------------------------------------

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::write(dir.join(name), bytes).unwrap();
}

/// A temp dir with `k.pem` + `c.pem` of a fresh pair and `pt.txt`.
fn openssl_setup(plaintext: &[u8]) -> (tempfile::TempDir, PrivateKey, Vec<u8>) {
    let (pair, key, cert_der) = new_pair();
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "k.pem", pair.key_pem.expose().as_bytes());
    write(dir.path(), "c.pem", pair.cert_pem.as_bytes());
    write(dir.path(), "pt.txt", plaintext);
    (dir, key, cert_der)
}

#[test]
fn openssl_decrypts_what_we_encrypt() {
    if !openssl_cli::available() {
        return;
    }
    let plaintext = b"Content-Type: text/plain;charset=UTF-8\r\n\r\n{\"a\":1}\n";
    let (dir, _, cert) = openssl_setup(plaintext);
    write(dir.path(), "ours.der", &encrypt_enveloped_ber(plaintext, &cert).unwrap());
    let out = openssl_cli::run(
        dir.path(),
        &[
            "cms", "-decrypt", "-binary", "-inform", "DER", "-in", "ours.der", "-inkey", "k.pem",
            "-recip", "c.pem",
        ],
    )
    .unwrap();
    assert_eq!(out, plaintext);
    let parsed =
        openssl_cli::run(dir.path(), &["asn1parse", "-inform", "DER", "-in", "ours.der", "-i"])
            .unwrap();
    let parsed = String::from_utf8(parsed).unwrap();
    assert!(parsed.contains("l=inf") && parsed.contains("aes-128-cbc"), "{parsed}");
}

#[test]
fn decrypts_openssl_cms_stream_output_for_every_aes_size() {
    if !openssl_cli::available() {
        return;
    }
    let plaintext: Vec<u8> = (0..9000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let (dir, key, _) = openssl_setup(&plaintext);
    for cipher in ["-aes-128-cbc", "-aes-192-cbc", "-aes-256-cbc"] {
        let args = [
            "cms", "-encrypt", cipher, "-binary", "-stream", "-outform", "DER", "-in", "pt.txt",
            "-out", "e.der", "c.pem",
        ];
        openssl_cli::run(dir.path(), &args).unwrap();
        let ber = std::fs::read(dir.path().join("e.der")).unwrap();
        assert_eq!(&ber[..2], &[0x30, 0x80], "openssl -stream writes BER");
        assert_eq!(decrypt_enveloped(&ber, &key).unwrap(), plaintext, "{cipher}");
    }
}

#[test]
fn decrypts_openssl_definite_length_der_and_3des_and_refuses_single_des_by_name() {
    if !openssl_cli::available() {
        return;
    }
    let (dir, key, _) = openssl_setup(b"hello from openssl cms");
    for (cipher, out) in [("-aes128", "e.der"), ("-des3", "d3.der")] {
        let args = [
            "cms", "-encrypt", cipher, "-binary", "-outform", "DER", "-in", "pt.txt", "-out", out,
            "c.pem",
        ];
        openssl_cli::run(dir.path(), &args).unwrap();
        let der = std::fs::read(dir.path().join(out)).unwrap();
        assert_ne!(&der[..2], &[0x30, 0x80], "definite-length DER");
        assert_eq!(decrypt_enveloped(&der, &key).unwrap(), b"hello from openssl cms", "{cipher}");
    }

    // Single DES lives in OpenSSL 3's legacy provider.
    let args = [
        "cms",
        "-encrypt",
        "-des",
        "-binary",
        "-outform",
        "DER",
        "-in",
        "pt.txt",
        "-out",
        "d.der",
        "-provider",
        "legacy",
        "-provider",
        "default",
        "c.pem",
    ];
    openssl_cli::run(dir.path(), &args).unwrap();
    let bytes = std::fs::read(dir.path().join("d.der")).unwrap();
    let err = decrypt_enveloped(&bytes, &key).unwrap_err();
    assert!(
        matches!(&err, CmsError::UnsupportedCipher(name) if name == "DES-CBC (1.3.14.3.2.7)"),
        "{err}"
    );
    assert!(matches!(content_cipher(&bytes), Err(CmsError::UnsupportedCipher(_))));
}

#[test]
fn signed_data_ber_keeps_chunked_econtent_whole() {
    if !openssl_cli::available() {
        return;
    }
    let content: Vec<u8> = (0..10_000u32).map(|i| b'A' + (i % 26) as u8).collect();
    let (dir, _, _) = openssl_setup(&content);
    let args = [
        "cms",
        "-sign",
        "-nodetach",
        "-binary",
        "-stream",
        "-outform",
        "DER",
        "-in",
        "pt.txt",
        "-out",
        "s.der",
        "-signer",
        "c.pem",
        "-inkey",
        "k.pem",
    ];
    openssl_cli::run(dir.path(), &args).unwrap();
    let ber = std::fs::read(dir.path().join("s.der")).unwrap();
    let info = content_info(&ber, const_oid::db::rfc5911::ID_SIGNED_DATA, "SignedData").unwrap();
    let signed: SignedDataBer = decode_content(&info).unwrap();
    let econtent = signed.encap_content_info.econtent.expect("attached content");
    assert_eq!(econtent.as_bytes(), content.as_slice());
    assert_eq!(signed.signer_infos.len(), 1);
}
