//! Server tokens against the real Apple fixtures, `openssl`, and every kind of bad upload.

use super::*;
use crate::crypto::openssl_cli;
use crate::crypto::token_keypair::{self, load_rsa_private_key};
use base64ct::{Base64, Encoding};
use rsa::pkcs8::{EncodePrivateKey, LineEnding};
use time::macros::datetime;

const REAL_TOKEN: &str = "dep-token/apple-mdm-client-tests-1-server-token.p7m";
const REAL_PLAINTEXT: &str = "dep-token/apple-mdm-client-tests-1-server-token.decrypted.txt";
const REAL_KEY_PEM: &str = "dep-token/apple-mdm-client-tests-1.pem";
const REAL_KEY_DER: &str = "dep-token/apple-mdm-client-tests-1.der";
const REAL_CERT: &str = "dep-token/apple-mdm-client-tests-1.crt";
const EXAMPLE_TOKEN: &str = "dep-token/apple-example-server-token.p7m";
const EXAMPLE_PLAINTEXT: &str = "dep-token/apple-example-server-token.decrypted.txt";

const NOW: OffsetDateTime = datetime!(2026-11-24 12:00 UTC);

/// The values the fixtures README gives for the real token.
fn assert_real_token_values(creds: &OAuthCredentials) {
    assert_eq!(
        creds.consumer_key,
        "CK_75b2eb55cec9641e869a7d2c88b4bf1f7ffee504716571d191306385b8647ead9a4239ad6a2095ea0197feb46ce61399"
    );
    assert_eq!(creds.consumer_secret.expose(), "CS_810bb5ab05e53becb3bfbe40b3608a0c9039c457");
    assert_eq!(
        creds.access_token.expose(),
        "AT_O8474885631Oe8ddece11c1a70077b340e281a2c4e2c4924a54cO1737111741803"
    );
    assert_eq!(creds.access_secret.expose(), "AS_97b944021a19633782a36c2a85038a46d6acaa06");
    assert_eq!(creds.access_token_expiry, datetime!(2026-01-17 11:02:21 UTC));
    assert_eq!(issued_at(creds), Some(datetime!(2025-01-17 11:02:21.803 UTC)));
}

fn fixture_key() -> Option<rsa::PrivateKey> {
    crate::fixtures::read(REAL_KEY_PEM).map(|pem| load_rsa_private_key(&pem).unwrap())
}

fn fixture_cert_pem() -> Option<String> {
    crate::fixtures::read(REAL_CERT).map(|b| String::from_utf8(b).unwrap())
}

fn sample_creds(expiry: OffsetDateTime) -> OAuthCredentials {
    OAuthCredentials {
        consumer_key: "CK_test0001".into(),
        consumer_secret: Secret::new("CS_test0001".into()),
        access_token: Secret::new("AT_O0000000001Otest0001O1700000000000".into()),
        access_secret: Secret::new("AS_test0001".into()),
        access_token_expiry: expiry,
    }
}

/// The base64 body of an S/MIME file, decoded.
fn cms_of(p7m: &[u8]) -> Vec<u8> {
    framing::unwrap(p7m).unwrap().0
}

#[test]
fn decrypts_the_real_token_with_its_key_in_every_form() {
    let (Some(p7m), Some(pem), Some(der)) = (
        crate::fixtures::read(REAL_TOKEN),
        crate::fixtures::read(REAL_KEY_PEM),
        crate::fixtures::read(REAL_KEY_DER),
    ) else {
        return;
    };
    let from_pem = load_rsa_private_key(&pem).unwrap();
    let pkcs8 = from_pem.to_pkcs8_pem(LineEnding::LF).unwrap();
    for key in [
        from_pem.clone(),
        load_rsa_private_key(&der).unwrap(),
        load_rsa_private_key(pkcs8.as_bytes()).unwrap(),
    ] {
        assert_real_token_values(&decrypt(&p7m, &key).unwrap());
    }
    let cert = fixture_cert_pem().unwrap();
    assert_real_token_values(&decrypt_for_certificate(&p7m, &from_pem, &cert).unwrap());
}

#[test]
fn the_real_token_is_expired_and_says_when() {
    let (Some(p7m), Some(key)) = (crate::fixtures::read(REAL_TOKEN), fixture_key()) else { return };
    let creds = decrypt(&p7m, &key).unwrap();
    assert!(check_not_expired(&creds, datetime!(2025-06-01 00:00 UTC)).is_ok());
    let err = check_not_expired(&creds, NOW).unwrap_err();
    assert!(matches!(err, ServerTokenError::Expired { .. }));
    assert_eq!(
        err.to_string(),
        "this token expired on 2026-01-17 11:02:21 UTC — download a new token for this MDM \
         server in Apple Business Manager"
    );
    assert!(check_not_expired(&creds, datetime!(2026-01-17 11:02:21 UTC)).is_err(), "at expiry");
}

#[test]
fn accepts_the_real_token_in_other_wrappings() {
    let (Some(p7m), Some(key)) = (crate::fixtures::read(REAL_TOKEN), fixture_key()) else { return };
    let text = String::from_utf8(p7m.clone()).unwrap();
    let crlf = text.replace('\n', "\r\n");
    let (_, body) = text.split_once("\n\n").unwrap();
    let der = cms_of(&p7m);
    let pem =
        format!("-----BEGIN PKCS7-----\n{}\n-----END PKCS7-----\n", Base64::encode_string(&der));
    let folded = text.replacen("; smime-type", ";\n smime-type", 1);
    let x_pkcs7 = text.replacen("application/pkcs7-mime", "application/x-pkcs7-mime", 1);
    let one_line = Base64::encode_string(&der);
    for (what, file) in [
        ("CRLF", crlf.into_bytes()),
        ("bare base64 body", body.as_bytes().to_vec()),
        ("one-line base64", one_line.into_bytes()),
        ("raw BER", der.clone()),
        ("PKCS7 PEM", pem.into_bytes()),
        ("folded header", folded.into_bytes()),
        ("x-pkcs7-mime", x_pkcs7.into_bytes()),
        ("leading blank line", [b"\n".as_slice(), &p7m].concat()),
    ] {
        let creds = decrypt(&file, &key).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_real_token_values(&creds);
    }
}

#[test]
fn rewrapping_the_real_token_gives_apples_exact_file() {
    let Some(p7m) = crate::fixtures::read(REAL_TOKEN) else { return };
    assert_eq!(framing::wrap(&cms_of(&p7m)), p7m);
}

#[test]
fn rendering_the_real_credentials_gives_apples_exact_plaintext() {
    let (Some(p7m), Some(key), Some(expected)) =
        (crate::fixtures::read(REAL_TOKEN), fixture_key(), crate::fixtures::read(REAL_PLAINTEXT))
    else {
        return;
    };
    let creds = decrypt(&p7m, &key).unwrap();
    assert_eq!(plaintext::render(&creds).as_bytes(), expected.as_slice());
}

#[test]
fn apple_example_token_parses_but_is_not_for_the_fixture_key() {
    let (Some(p7m), Some(key), Some(cert)) =
        (crate::fixtures::read(EXAMPLE_TOKEN), fixture_key(), fixture_cert_pem())
    else {
        return;
    };
    assert_eq!(cms_of(&p7m).len(), 978);
    let recips = cms::recipients(&cms_of(&p7m)).unwrap();
    assert!(recips[0].to_string().ends_with("serial -7CB4A13342F086E4"));

    let err = decrypt(&p7m, &key).unwrap_err();
    assert!(matches!(err, ServerTokenError::WrongKey { detail: None }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "this token was made for a different public key — download the public key again and \
         re-create the token in Apple Business Manager"
    );
    let err = decrypt_for_certificate(&p7m, &key, &cert).unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with("this token was made for a different public key"), "{msg}");
    assert!(msg.contains("Zippo Inc") && msg.contains("apple-mdm-client-tests"), "{msg}");
}

#[test]
fn apple_example_plaintext_unwraps_from_hard_wrapped_json() {
    let Some(text) = crate::fixtures::read(EXAMPLE_PLAINTEXT) else { return };
    let creds = plaintext::parse(&text).unwrap();
    assert_eq!(
        creds.consumer_key,
        "CK_9dcd8190dde27dfddd9272c657e011f7bec9761676b1b11e46a2f61d3cb1e482ef22093c7d54b23252f3bdb4d19b4d49"
    );
    assert_eq!(creds.consumer_secret.expose(), "CS_27c083df1ab7271e129cb23325dabaf0de95d087");
    assert_eq!(
        creds.access_token.expose(),
        "AT_O365587095O8247e0b5288abcdee25642311746d67b5858ea5cO1389734861908"
    );
    assert_eq!(creds.access_secret.expose(), "AS_8c3313de9a3462014c6c96f39dd7c3d4342b8cea");
    assert_eq!(creds.access_token_expiry, datetime!(2015-01-14 21:27:41 UTC));
    assert_eq!(issued_at(&creds), Some(datetime!(2014-01-14 21:27:41.908 UTC)));
}

#[test]
fn plaintext_tolerates_extra_keys_and_checks_shapes_without_echoing_secrets() {
    let ok = br#"{"consumer_key":"CK_a","consumer_secret":"CS_b","access_token":"AT_c","access_secret":"AS_d","access_token_expiry":"2030-01-01T00:00:00Z","org":"x"}"#;
    assert_eq!(plaintext::parse(ok).unwrap().consumer_key, "CK_a");

    let wrong_prefix = br#"{"consumer_key":"CK_a","consumer_secret":"XX_topsecret","access_token":"AT_c","access_secret":"AS_d","access_token_expiry":"2030-01-01T00:00:00Z"}"#;
    let err = plaintext::parse(wrong_prefix).unwrap_err();
    assert!(matches!(err, ServerTokenError::BadContent { .. }));
    assert!(err.to_string().contains("consumer_secret") && !err.to_string().contains("topsecret"));

    let missing = br#"{"consumer_key":"CK_a"}"#;
    assert!(plaintext::parse(missing).unwrap_err().to_string().contains("consumer_secret"));
    let bad_date = br#"{"consumer_key":"CK_a","consumer_secret":"CS_b","access_token":"AT_c","access_secret":"AS_d","access_token_expiry":"next year"}"#;
    assert!(plaintext::parse(bad_date).unwrap_err().to_string().contains("access_token_expiry"));
    let unpaired = b"-----BEGIN MESSAGE-----\n{}\n";
    assert!(matches!(plaintext::parse(unpaired), Err(ServerTokenError::BadContent { .. })));
}

#[test]
fn minted_tokens_round_trip_and_look_like_apples() {
    let pair = token_keypair::generate("depserver", NOW).unwrap();
    let key = load_rsa_private_key(pair.key_pem.expose().as_bytes()).unwrap();
    let creds = sample_creds(datetime!(2030-01-01 00:00 UTC));
    let p7m = mint_p7m(&pair.cert_pem, &creds).unwrap();

    let text = std::str::from_utf8(&p7m).unwrap();
    assert!(text.starts_with(
        "Content-Type: application/pkcs7-mime; name=\"smime.p7m\"; smime-type=enveloped-data\n\
         Content-Transfer-Encoding: base64\n\
         Content-Disposition: attachment; filename=\"smime.p7m\"\n\
         Content-Description: S/MIME Encrypted Message\n\n"
    ));
    assert!(text.ends_with('\n') && !text.contains('\r'));
    let (_, body) = text.split_once("\n\n").unwrap();
    let lines: Vec<&str> = body.lines().collect();
    assert!(lines[..lines.len() - 1].iter().all(|l| l.len() == 76));
    assert_eq!(&cms_of(&p7m)[..2], &[0x30, 0x80]);

    let back = decrypt(&p7m, &key).unwrap();
    assert_eq!(back.consumer_key, creds.consumer_key);
    assert_eq!(back.consumer_secret, creds.consumer_secret);
    assert_eq!(back.access_token, creds.access_token);
    assert_eq!(back.access_secret, creds.access_secret);
    assert_eq!(back.access_token_expiry, creds.access_token_expiry);
    assert_eq!(
        decrypt_for_certificate(&p7m, &key, &pair.cert_pem).unwrap().consumer_key,
        "CK_test0001"
    );
}

#[test]
fn minting_for_the_real_certificate_matches_the_real_tokens_size() {
    let (Some(p7m), Some(key), Some(cert)) =
        (crate::fixtures::read(REAL_TOKEN), fixture_key(), fixture_cert_pem())
    else {
        return;
    };
    let creds = decrypt(&p7m, &key).unwrap();
    let minted = mint_p7m(&cert, &creds).unwrap();
    assert_eq!(minted.len(), p7m.len(), "same structure, same sizes, only random bytes differ");
    assert_real_token_values(&decrypt(&minted, &key).unwrap());
}

#[test]
fn minting_refuses_what_is_not_an_rsa_certificate() {
    let creds = sample_creds(NOW);
    let err = mint_p7m("not a pem", &creds).unwrap_err();
    assert!(matches!(err, ServerTokenError::BadCertificate { .. }), "{err}");
    let ca = crate::crypto::ca::Authority::generate("ec", NOW, time::Duration::days(1)).unwrap();
    let err = mint_p7m(ca.cert_pem(), &creds).unwrap_err();
    assert!(matches!(err, ServerTokenError::BadCertificate { .. }), "{err}");
}

#[test]
fn inspect_masks_secrets_unless_asked() {
    let (Some(p7m), Some(key)) = (crate::fixtures::read(REAL_TOKEN), fixture_key()) else { return };
    let creds = decrypt(&p7m, &key).unwrap();
    let masked = inspect_json(&creds, false, NOW);
    assert_eq!(masked["consumer_key"], creds.consumer_key.as_str());
    assert_eq!(masked["consumer_secret"], "CS_81…9c457 (masked)");
    assert_eq!(masked["access_token"], "AT_O8…41803 (masked)");
    assert_eq!(masked["access_secret"], "AS_97…caa06 (masked)");
    assert_eq!(masked["access_token_expiry"], "2026-01-17T11:02:21Z");
    assert_eq!(masked["issued_at"], "2025-01-17T11:02:21.803Z");
    assert_eq!(masked["expired"], true);
    let shown = masked.to_string();
    assert!(!shown.contains("810bb5ab05e53becb3bfbe40b3608a0c") && !shown.contains("e8ddece11c1a"));

    let full = inspect_json(&creds, true, datetime!(2025-06-01 00:00 UTC));
    assert_eq!(full["consumer_secret"], "CS_810bb5ab05e53becb3bfbe40b3608a0c9039c457");
    assert_eq!(full["expired"], false);
    let odd =
        OAuthCredentials { access_token: Secret::new("AT_opaque".into()), ..sample_creds(NOW) };
    assert_eq!(inspect_json(&odd, false, NOW)["issued_at"], serde_json::Value::Null);
}

#[test]
fn refuses_every_kind_of_bad_upload_with_the_right_error() {
    let Some(key) = fixture_key() else { return };
    let real = crate::fixtures::read(REAL_TOKEN).unwrap();
    let cert = fixture_cert_pem().unwrap();
    let not_token = |file: &[u8], hint: &str| match decrypt(file, &key) {
        Err(e @ ServerTokenError::NotAToken { .. }) => {
            assert!(e.to_string().contains(hint), "{e}");
            assert!(e.to_string().starts_with("not an Apple server token (expected the .p7m file"));
        }
        other => panic!(
            "expected NotAToken for {:?}: {other:?}",
            String::from_utf8_lossy(&file[..file.len().min(40)])
        ),
    };
    not_token(cert.as_bytes(), "this is a certificate");
    not_token(b"{\"consumer_key\":\"CK_x\"}", "JSON");
    not_token(crate::fixtures::read(REAL_KEY_PEM).unwrap().as_slice(), "private key");
    not_token(b"hello, this is just some text file.\n", "");
    not_token(&[0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, b'J', b'F', b'I', b'F'], "");
    not_token(b"Content-Type: text/plain\n\nhello\n", "text/plain");
    not_token(
        b"Content-Type: application/pkcs7-mime; smime-type=signed-data\n\nMIAG\n",
        "signed-data",
    );
    // Valid DER of another kind: a certificate as DER.
    not_token(&crate::crypto::ca::pem_to_der(&cert).unwrap(), "");

    assert!(matches!(decrypt(b"", &key), Err(ServerTokenError::Empty)));
    assert!(matches!(decrypt(b" \n\r\n\t", &key), Err(ServerTokenError::Empty)));
    let big = vec![b'A'; MAX_TOKEN_FILE + 1];
    let err = decrypt(&big, &key).unwrap_err();
    assert!(matches!(err, ServerTokenError::TooLarge { .. }) && err.to_string().contains("64 KiB"));

    let damaged = |file: &[u8]| match decrypt(file, &key) {
        Err(e @ ServerTokenError::Damaged { .. }) => {
            assert!(e.to_string().contains("download it again"), "{e}")
        }
        other => panic!("expected Damaged: {other:?}"),
    };
    damaged(&real[..real.len() / 2]); // base64 cut mid-way
    damaged(&real[..real.len() - 30]); // the last line lost
    damaged(&real[..300]); // only a few base64 lines
    let text = String::from_utf8(real.clone()).unwrap();
    damaged(text.replacen("MIAG", "MI*G", 1).as_bytes());
    damaged(text.split_once("\n\n").unwrap().0.as_bytes()); // headers only
    damaged(format!("{}\n\n", text.split_once("\n\n").unwrap().0).as_bytes()); // no body
    let der = cms_of(&real);
    damaged(Base64::encode_string(&der[..600]).as_bytes()); // bare base64 of a cut CMS

    let other = token_keypair::generate("other", NOW).unwrap();
    let other_key = load_rsa_private_key(other.key_pem.expose().as_bytes()).unwrap();
    assert!(matches!(decrypt(&real, &other_key), Err(ServerTokenError::WrongKey { .. })));
}

#[test]
fn garbled_ciphertext_is_damage_and_random_plaintext_is_a_wrong_key() {
    assert!(check_decrypted_text(b"Content-Type: text/plain\r\n\r\n{}\n").is_ok());
    let mut garbled = b"Content-Type: text/plain;charset=UTF-8\r\n".repeat(10);
    garbled[40..56].copy_from_slice(&[0xf3; 16]);
    assert!(matches!(check_decrypted_text(&garbled), Err(ServerTokenError::Damaged { .. })));
    let random: Vec<u8> = (0..=255u8).cycle().take(500).collect();
    assert!(matches!(
        check_decrypted_text(&random),
        Err(ServerTokenError::WrongKey { detail: None })
    ));
}

#[test]
fn truncations_and_bit_flips_of_the_real_token_never_panic() {
    let (Some(real), Some(key)) = (crate::fixtures::read(REAL_TOKEN), fixture_key()) else {
        return;
    };
    for cut in 0..real.len() - 1 {
        assert!(decrypt(&real[..cut], &key).is_err(), "truncated at {cut}");
    }
    // Framing and CMS parsing see every flipped bit; the full decryption (an RSA operation,
    // ~80 ms in a debug build) a spread sample of them.
    for bit in 0..real.len() * 8 {
        let mut flipped = real.clone();
        flipped[bit / 8] ^= 1 << (bit % 8);
        if let Ok((bytes, _)) = framing::unwrap(&flipped) {
            let _ = cms::recipients(&bytes);
        }
        if bit % 211 == 0 {
            let _ = decrypt(&flipped, &key);
        }
    }
}

// ---- openssl as the independent oracle ----------------------------------------------------

#[test]
fn openssl_decrypts_the_p7m_we_mint() {
    if !openssl_cli::available() {
        return;
    }
    let pair = token_keypair::generate("depserver", NOW).unwrap();
    let creds = sample_creds(datetime!(2030-01-01 00:00 UTC));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("k.pem"), pair.key_pem.expose()).unwrap();
    std::fs::write(dir.path().join("c.pem"), &pair.cert_pem).unwrap();
    std::fs::write(dir.path().join("t.p7m"), mint_p7m(&pair.cert_pem, &creds).unwrap()).unwrap();
    let args = [
        "cms", "-decrypt", "-binary", "-inform", "SMIME", "-in", "t.p7m", "-inkey", "k.pem",
        "-recip", "c.pem",
    ];
    let out = openssl_cli::run(dir.path(), &args).unwrap();
    assert_eq!(out, plaintext::render(&creds).as_bytes());
}

#[test]
fn decrypts_tokens_made_with_openssl_both_ways() {
    if !openssl_cli::available() {
        return;
    }
    // ../shared/spec/dep-api.md §1.7: variant A (openssl smime: DER, x-pkcs7-mime, 64-column
    // base64, MIME-Version) and variant B (cms -stream: BER in Apple's framing).
    let pair = token_keypair::generate("depserver", NOW).unwrap();
    let key = load_rsa_private_key(pair.key_pem.expose().as_bytes()).unwrap();
    let creds = sample_creds(datetime!(2030-01-01 00:00 UTC));
    let dir = tempfile::tempdir().unwrap();
    let path = |n: &str| dir.path().join(n);
    std::fs::write(path("c.pem"), &pair.cert_pem).unwrap();
    std::fs::write(path("token.txt"), plaintext::render(&creds).as_bytes()).unwrap();

    let a =
        ["smime", "-encrypt", "-aes128", "-binary", "-in", "token.txt", "-out", "a.p7m", "c.pem"];
    openssl_cli::run(dir.path(), &a).unwrap();
    let a_file = std::fs::read(path("a.p7m")).unwrap();
    assert!(String::from_utf8_lossy(&a_file).contains("application/x-pkcs7-mime"));
    assert_eq!(decrypt(&a_file, &key).unwrap().consumer_key, "CK_test0001");

    let b = [
        "cms",
        "-encrypt",
        "-aes-128-cbc",
        "-binary",
        "-stream",
        "-outform",
        "DER",
        "-in",
        "token.txt",
        "-out",
        "b.der",
        "c.pem",
    ];
    openssl_cli::run(dir.path(), &b).unwrap();
    let b_file = framing::wrap(&std::fs::read(path("b.der")).unwrap());
    assert_eq!(decrypt(&b_file, &key).unwrap().access_secret.expose(), "AS_test0001");
}

#[test]
fn overlapping_begin_and_end_markers_are_refused_not_a_panic() {
    // "-----BEGIN MESSAGE------END MESSAGE-----": END starts inside BEGIN's trailing dashes.
    let text = "-----BEGIN MESSAGE------END MESSAGE-------\n{\"consumer_key\":\"CK_1\"}\n";
    let err = plaintext::parse(text.as_bytes()).expect_err("refused");
    assert!(matches!(err, ServerTokenError::BadContent { .. }), "{err}");
    // The shape of the input the fuzz run found (MIME header, overlapping markers, JSON).
    let found = hex::decode(
        "436f6e74656e742d547970653a20746578742f706c61696e3b636861727365743d5554462d380d0a0d0a\
         2d2d2d2d2d424547494e204d4553534147452d2d2d2d2d2d454e44204d4553534147452d2d2d2d2d2d2d0a\
         7b7d0a2d2d2d2d2d454e44204d4553534147452d2d2d2d2d0a",
    )
    .unwrap();
    assert!(plaintext::parse(&found).is_err());
}
