//! SignedData verification against messages `openssl cms -sign` makes (BER and DER, SHA-1 and
//! SHA-256, RSA-1024 and ECDSA signers, with and without signed attributes, attached and
//! detached), the real `Mdm-Signature` capture, tampering and hostile bytes.

use super::*;
use crate::crypto::openssl_cli;
use std::path::Path;

const CONTENT: &[u8] = b"<?xml version=\"1.0\"?><plist version=\"1.0\"><dict><key>SERIAL</key>\
<string>C02TEST</string></dict></plist>";

/// Makes self-signed signer certificates: rsa1024, p256, p384.
fn signers(dir: &Path) {
    let run = |args: &[&str]| openssl_cli::run(dir, args).unwrap();
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:1024",
        "-nodes",
        "-keyout",
        "rsa1024.key",
        "-out",
        "rsa1024.crt",
        "-subj",
        "/CN=rsa1024",
        "-days",
        "2",
    ]);
    for curve in ["P-256", "P-384"] {
        let name = curve.replace('-', "").to_lowercase();
        let (key, crt, subj) =
            (format!("{name}.key"), format!("{name}.crt"), format!("/CN={name}"));
        run(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            &format!("ec_paramgen_curve:{curve}"),
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &crt,
            "-subj",
            &subj,
            "-days",
            "2",
        ]);
    }
}

struct Opts<'a> {
    signer: &'a str,
    md: &'a str,
    attrs: bool,
    ber: bool,
    detached: bool,
    extra: &'a [&'a str],
}

const BASE: Opts<'static> =
    Opts { signer: "rsa1024", md: "sha1", attrs: true, ber: false, detached: false, extra: &[] };

fn sign(dir: &Path, content: &[u8], o: &Opts) -> Vec<u8> {
    std::fs::write(dir.join("content.bin"), content).unwrap();
    let (crt, key) = (format!("{}.crt", o.signer), format!("{}.key", o.signer));
    let mut args = vec![
        "cms",
        "-sign",
        "-binary",
        "-in",
        "content.bin",
        "-signer",
        &crt,
        "-inkey",
        &key,
        "-outform",
        "DER",
        "-out",
        "out.p7",
        "-md",
        o.md,
    ];
    if !o.attrs {
        args.push("-noattr");
    }
    if o.ber {
        args.push("-stream");
    }
    if !o.detached {
        args.push("-nodetach");
    }
    args.extend_from_slice(o.extra);
    openssl_cli::run(dir, &args).unwrap();
    std::fs::read(dir.join("out.p7")).unwrap()
}

fn setup() -> Option<tempfile::TempDir> {
    if !openssl_cli::available() {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    signers(dir.path());
    Some(dir)
}

#[test]
fn verifies_every_shape_apple_devices_send() {
    let Some(dir) = setup() else { return };
    let big: Vec<u8> = (0..27_019u32).map(|i| (i % 251) as u8).collect();
    for content in [CONTENT, big.as_slice()] {
        for signer in ["rsa1024", "p256", "p384"] {
            for md in ["sha1", "sha256"] {
                if signer == "p384" && md == "sha1" {
                    continue; // a 160-bit digest is too short for P-384 ECDSA
                }
                for attrs in [true, false] {
                    for ber in [true, false] {
                        let o = Opts { signer, md, attrs, ber, ..BASE };
                        let blob = sign(dir.path(), content, &o);
                        let shape = format!("{signer} {md} attrs={attrs} ber={ber}");
                        if ber {
                            assert_eq!(&blob[..2], &[0x30, 0x80], "{shape}: BER expected");
                        }
                        let v = verify_signed(&blob).unwrap_or_else(|e| panic!("{shape}: {e}"));
                        assert_eq!(v.content, content, "{shape}");
                        assert_eq!(v.signed_attributes, attrs, "{shape}");
                        assert_eq!(v.digest.name(), md, "{shape}");
                        assert_eq!(v.certificates.len(), 1, "{shape}");
                        assert_eq!(v.signer, v.certificates[0], "{shape}");
                        assert_eq!(v.content_type, const_oid::db::rfc5911::ID_DATA);
                    }
                }
            }
        }
    }
}

#[test]
fn verifies_a_detached_signature_over_the_given_content_only() {
    let Some(dir) = setup() else { return };
    // (`openssl cms -stream` always attaches; the BER detached shape is covered by the real
    // Mdm-Signature capture below.)
    for attrs in [true, false] {
        let blob = sign(dir.path(), CONTENT, &Opts { detached: true, attrs, ..BASE });
        let v = verify_detached(&blob, CONTENT).unwrap();
        assert_eq!(v.content, CONTENT);
        assert!(matches!(verify_signed(&blob), Err(CmsError::Detached)));
        let other = verify_detached(&blob, b"another body").unwrap_err();
        assert!(
            matches!(other, CmsError::ContentDigestMismatch | CmsError::BadSignature(_)),
            "{other}"
        );
    }
    let attached = sign(dir.path(), CONTENT, &BASE);
    assert!(matches!(verify_detached(&attached, CONTENT), Err(CmsError::NotDetached)));
}

#[test]
fn refuses_altered_content() {
    let Some(dir) = setup() else { return };
    for (attrs, ber) in [(true, false), (false, false), (true, true), (false, true)] {
        let mut blob = sign(dir.path(), CONTENT, &Opts { attrs, ber, ..BASE });
        let pos = blob.windows(7).position(|w| w == b"C02TEST").unwrap();
        blob[pos] = b'X';
        let err = verify_signed(&blob).unwrap_err();
        if attrs {
            assert!(matches!(err, CmsError::ContentDigestMismatch), "{err}");
            assert!(err.to_string().contains("altered after signing"), "{err}");
        } else {
            assert!(matches!(err, CmsError::BadSignature(_)), "{err}");
        }
    }
}

#[test]
fn refuses_an_altered_signature_and_a_message_without_its_signer_certificate() {
    let Some(dir) = setup() else { return };
    let mut blob = sign(dir.path(), CONTENT, &BASE);
    let n = blob.len();
    blob[n - 5] ^= 0x01; // inside the signature, the last field of the SignerInfo
    assert!(matches!(verify_signed(&blob), Err(CmsError::BadSignature(_))));
    let blob = sign(dir.path(), CONTENT, &Opts { extra: &["-nocerts"], ..BASE });
    assert!(matches!(verify_signed(&blob), Err(CmsError::SignerCertificateMissing)));
}

#[test]
fn carries_extra_certificates_and_finds_the_signer_among_them() {
    let Some(dir) = setup() else { return };
    let blob =
        sign(dir.path(), CONTENT, &Opts { extra: &["-certfile", "p384.crt"], ber: true, ..BASE });
    let v = verify_signed(&blob).unwrap();
    assert_eq!(v.certificates.len(), 2);
    let signer = parse_certificate(&v.signer).unwrap();
    assert!(signer.tbs_certificate().subject().to_string().contains("rsa1024"));
}

#[test]
fn real_mdm_signature_parses_and_fails_only_on_the_unknown_body() {
    let Some(b64) = crate::fixtures::read("mdm-signature/mdm-signature-header-1.b64") else {
        return;
    };
    use base64ct::{Base64, Encoding};
    let der = Base64::decode_vec(std::str::from_utf8(&b64).unwrap().trim()).unwrap();
    assert_eq!(der.len(), 1226);
    // The signed body is not published: the structure, signer lookup and RSA check all run,
    // and only the signature comparison fails.
    let err = verify_detached(&der, b"<plist/>").unwrap_err();
    assert!(matches!(err, CmsError::BadSignature(sigverify::SigError::Mismatch)), "{err}");
    assert!(matches!(verify_signed(&der), Err(CmsError::Detached)));
}

#[test]
fn hostile_bytes_are_refused_without_panic() {
    let Some(dir) = setup() else { return };
    for ber in [true, false] {
        let blob = sign(dir.path(), CONTENT, &Opts { ber, ..BASE });
        for len in 0..blob.len() {
            assert!(verify_signed(&blob[..len]).is_err(), "truncated at {len}");
        }
        // Every single-byte corruption either fails or (when it hits a byte that does not
        // matter to DER, which should not exist) still yields the exact content.
        for i in 0..blob.len() {
            let mut bad = blob.clone();
            bad[i] ^= 0xff;
            if let Ok(v) = verify_signed(&bad) {
                assert_eq!(v.content, CONTENT, "corruption at {i} changed the content");
            }
        }
    }
    for garbage in [&[][..], &[0x30, 0x80], &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff], &[0u8; 64]] {
        assert!(verify_signed(garbage).is_err());
    }
    assert!(matches!(
        verify_signed(&vec![0u8; super::super::MAX_CMS_LEN + 1]),
        Err(CmsError::TooLarge { .. })
    ));
}
