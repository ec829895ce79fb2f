//! SignedData signing: every option combination reads back through our verifier and through
//! `openssl cms -verify`; the key must match the certificate; the signing time is the one given.

use super::*;
use crate::apple::stand_in_pki::StandInApplePki;
use crate::crypto::ca::{Authority, pem_to_der};
use crate::crypto::cms::ber::{content_info, decode_content};
use crate::crypto::cms::verify_signed;
use crate::crypto::openssl_cli;
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2026-03-01 12:00 UTC);
const CONTENT: &[u8] = b"<?xml version=\"1.0\"?><plist version=\"1.0\"><dict><key>SERIAL</key>\
<string>C02TEST</string></dict></plist>";

/// A signer: its certificate, the chain it carries, the key, and the anchor for openssl.
struct TestSigner {
    name: &'static str,
    cert: Vec<u8>,
    chain: Vec<Vec<u8>>,
    key: SignerKey,
    anchor: Vec<u8>,
}

fn rsa1024(pki: &StandInApplePki) -> TestSigner {
    let id = pki.issue_device_identity("00008101-001938611EE9001E", NOW).unwrap();
    TestSigner {
        name: "rsa1024",
        cert: id.cert_der,
        chain: vec![pki.device_ca.cert_der.clone()],
        key: SignerKey::from_pkcs8_pem(id.key_pem.expose()).unwrap(),
        anchor: pki.device_root.cert_der.clone(),
    }
}

fn rsa2048() -> TestSigner {
    use rsa::pkcs8::{EncodePrivateKey, LineEnding};
    let key = rsa::PrivateKey::new(&mut getrandom::SysRng, 2048).unwrap();
    let pem = key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string();
    let kp = rcgen::KeyPair::from_pkcs8_pem_and_sign_algo(&pem, &rcgen::PKCS_RSA_SHA256).unwrap();
    let params = rcgen::CertificateParams::new(vec!["rsa2048.test".to_string()]).unwrap();
    let cert = params.self_signed(&kp).unwrap().der().to_vec();
    TestSigner {
        name: "rsa2048",
        cert: cert.clone(),
        chain: vec![],
        key: SignerKey::from_pkcs8_pem(&pem).unwrap(),
        anchor: cert,
    }
}

fn p256() -> TestSigner {
    let ca = Authority::generate("adebox test CA", NOW, time::Duration::days(30)).unwrap();
    let leaf =
        ca.issue_server(&["mdm.example.test".into()], NOW, time::Duration::days(30)).unwrap();
    TestSigner {
        name: "p256",
        cert: pem_to_der(&leaf.cert_pem).unwrap(),
        chain: vec![ca.cert_der().to_vec()],
        key: SignerKey::from_pkcs8_pem(leaf.key_pem.expose()).unwrap(),
        anchor: ca.cert_der().to_vec(),
    }
}

fn all_signers() -> Vec<TestSigner> {
    let pki = StandInApplePki::generate(NOW).unwrap();
    vec![rsa1024(&pki), rsa2048(), p256()]
}

fn every_option() -> Vec<SignOptions> {
    let mut out = Vec::new();
    for encoding in [CmsEncoding::Der, CmsEncoding::Ber] {
        for digest in [Digest::Sha1, Digest::Sha256] {
            for signed_attributes in [true, false] {
                let signing_time = signed_attributes.then_some(NOW);
                out.push(SignOptions { encoding, digest, signed_attributes, signing_time });
            }
        }
    }
    out
}

#[test]
fn every_combination_round_trips_through_our_verifier() {
    let big: Vec<u8> = (0..27_019u32).map(|i| (i % 251) as u8).collect();
    for s in all_signers() {
        for opts in every_option() {
            for content in [CONTENT, big.as_slice(), b"".as_slice()] {
                let shape = format!("{} {opts:?} len={}", s.name, content.len());
                let blob = sign_attached(content, &s.cert, &s.chain, &s.key, &opts)
                    .unwrap_or_else(|e| panic!("{shape}: {e}"));
                match opts.encoding {
                    CmsEncoding::Ber => assert_eq!(&blob[..2], &[0x30, 0x80], "{shape}"),
                    CmsEncoding::Der => {
                        ContentInfo::from_der(&blob).unwrap_or_else(|e| panic!("{shape}: {e}"));
                    }
                }
                let v = verify_signed(&blob).unwrap_or_else(|e| panic!("{shape}: {e}"));
                assert_eq!(v.content, content, "{shape}");
                assert_eq!(v.digest, opts.digest, "{shape}");
                assert_eq!(v.signed_attributes, opts.signed_attributes, "{shape}");
                assert_eq!(v.signer, s.cert, "{shape}");
                assert_eq!(v.certificates.len(), 1 + s.chain.len(), "{shape}");
                assert_eq!(v.content_type, rfc5911::ID_DATA, "{shape}");
            }
        }
    }
}

#[test]
fn ber_output_chunks_the_content_as_devices_do() {
    let s = p256();
    let opts = SignOptions { encoding: CmsEncoding::Ber, ..SignOptions::profile(NOW) };
    let content = vec![b'x'; 2500];
    let blob = sign_attached(&content, &s.cert, &s.chain, &s.key, &opts).unwrap();
    // eContent: [0] indefinite, then a constructed OCTET STRING of 1000-byte chunks.
    let marker = [0xa0, 0x80, 0x24, 0x80, 0x04, 0x82, 0x03, 0xe8];
    assert!(blob.windows(marker.len()).any(|w| w == marker), "no chunked eContent");
}

#[test]
fn openssl_verifies_der_and_ber_output() {
    if !openssl_cli::available() {
        return;
    }
    for s in all_signers() {
        let anchor = der::Document::try_from(s.anchor.as_slice()).unwrap();
        let ca_pem = anchor.to_pem("CERTIFICATE", Default::default()).unwrap();
        for opts in every_option() {
            let shape = format!("{} {opts:?}", s.name);
            let blob = sign_attached(CONTENT, &s.cert, &s.chain, &s.key, &opts).unwrap();
            let out = openssl_cli::cms_verify(&blob, &ca_pem, NOW.unix_timestamp())
                .unwrap_or_else(|e| panic!("{shape}: openssl refused: {e}"));
            assert_eq!(out, CONTENT, "{shape}");
        }
    }
}

#[test]
fn profile_options_carry_content_type_digest_and_the_given_signing_time() {
    let s = p256();
    let blob =
        sign_attached(CONTENT, &s.cert, &s.chain, &s.key, &SignOptions::profile(NOW)).unwrap();
    let info = content_info(&blob, rfc5911::ID_SIGNED_DATA, "SignedData").unwrap();
    let sd: SignedDataBer = decode_content(&info).unwrap();
    let signer = sd.signer_infos.iter().next().unwrap();
    assert_eq!(signer.digest_alg.oid, rfc5912::ID_SHA_256);
    assert_eq!(signer.signature_algorithm.oid, rfc5912::ECDSA_WITH_SHA_256);
    let attrs = signer.signed_attrs.as_ref().unwrap();
    let oids: Vec<_> = attrs.iter().map(|a| a.oid).collect();
    for expected in [rfc5911::ID_CONTENT_TYPE, rfc5911::ID_MESSAGE_DIGEST, rfc5911::ID_SIGNING_TIME]
    {
        assert!(oids.contains(&expected), "{expected} missing");
    }
    let time = attrs.iter().find(|a| a.oid == rfc5911::ID_SIGNING_TIME).unwrap();
    let utc: UtcTime = time.values.iter().next().unwrap().decode_as().unwrap();
    assert_eq!(utc.to_unix_duration().as_secs(), NOW.unix_timestamp() as u64);
}

#[test]
fn refuses_a_key_that_does_not_belong_to_the_certificate() {
    let a = p256();
    let b = p256();
    let err = sign_attached(CONTENT, &a.cert, &[], &b.key, &SignOptions::profile(NOW)).unwrap_err();
    assert!(err.to_string().contains("does not belong"), "{err}");
}

#[test]
fn refuses_garbage_certificates_and_keys_without_panicking() {
    let s = p256();
    let opts = SignOptions::profile(NOW);
    assert!(sign_attached(CONTENT, b"not a cert", &[], &s.key, &opts).is_err());
    assert!(sign_attached(CONTENT, &s.cert, &[vec![0x30, 0x03, 1, 2, 3]], &s.key, &opts).is_err());
    let err =
        SignerKey::from_pkcs8_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
            .unwrap_err();
    assert!(err.to_string().contains("PKCS#8"), "{err}");
}

#[test]
fn altered_content_no_longer_verifies() {
    let s = p256();
    for signed_attributes in [true, false] {
        let opts = SignOptions { signed_attributes, ..SignOptions::profile(NOW) };
        let mut blob = sign_attached(CONTENT, &s.cert, &s.chain, &s.key, &opts).unwrap();
        let at = blob.windows(7).position(|w| w == b"C02TEST").unwrap();
        blob[at] = b'X';
        assert!(verify_signed(&blob).is_err());
    }
}
