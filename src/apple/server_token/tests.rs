use super::*;
use crate::crypto::token_keypair::{generate, load_rsa_private_key};
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2025-06-01 00:00 UTC);

fn fixture_key() -> Option<rsa::PrivateKey> {
    crate::fixtures::read("dep-token/apple-mdm-client-tests-1.pem")
        .map(|k| load_rsa_private_key(&k).unwrap())
}

#[test]
fn decrypts_the_real_apple_token_with_its_key() {
    let (Some(p7m), Some(key)) = (
        crate::fixtures::read("dep-token/apple-mdm-client-tests-1-server-token.p7m"),
        fixture_key(),
    ) else {
        return;
    };
    let c = decrypt(&p7m, &key).unwrap();
    assert_eq!(
        c.consumer_key,
        "CK_75b2eb55cec9641e869a7d2c88b4bf1f7ffee504716571d191306385b8647ead9a4239ad6a2095ea0197feb46ce61399"
    );
    assert_eq!(c.consumer_secret.expose(), "CS_810bb5ab05e53becb3bfbe40b3608a0c9039c457");
    assert_eq!(
        c.access_token.expose(),
        "AT_O8474885631Oe8ddece11c1a70077b340e281a2c4e2c4924a54cO1737111741803"
    );
    assert_eq!(c.access_secret.expose(), "AS_97b944021a19633782a36c2a85038a46d6acaa06");
    assert_eq!(c.access_token_expiry, datetime!(2026-01-17 11:02:21 UTC));
    // The same key as PKCS#1 DER opens it too.
    let der = crate::fixtures::read("dep-token/apple-mdm-client-tests-1.der").unwrap();
    assert_eq!(
        decrypt(&p7m, &load_rsa_private_key(&der).unwrap()).unwrap().consumer_key,
        c.consumer_key
    );
    // It is expired now, and was not a year ago.
    assert!(check_not_expired(&c, NOW).is_ok());
    let err = check_not_expired(&c, datetime!(2026-11-24 00:00 UTC)).unwrap_err();
    assert!(err.to_string().contains("expired on 2026-01-17"), "{err}");
}

#[test]
fn the_plaintext_matches_the_fixture_byte_for_byte_shape() {
    let Some(text) =
        crate::fixtures::read("dep-token/apple-mdm-client-tests-1-server-token.decrypted.txt")
    else {
        return;
    };
    let c = parse_plaintext(&text).unwrap();
    assert_eq!(plaintext_for(&c), text, "what we encrypt is what Apple encrypts");
}

#[test]
fn apples_documented_example_parses_but_needs_its_own_key() {
    let (Some(p7m), Some(key), Some(text)) = (
        crate::fixtures::read("dep-token/apple-example-server-token.p7m"),
        fixture_key(),
        crate::fixtures::read("dep-token/apple-example-server-token.decrypted.txt"),
    ) else {
        return;
    };
    let der = unframe(&p7m).unwrap();
    assert_eq!(der.len(), 978);
    let err = decrypt(&p7m, &key).unwrap_err();
    assert!(matches!(err, ServerTokenError::WrongKey), "{err}");
    assert!(err.to_string().contains("different public key"));
    // Its published plaintext: hard-wrapped JSON, no BEGIN/END markers.
    let c = parse_plaintext(&text).unwrap();
    assert_eq!(
        c.consumer_key,
        "CK_9dcd8190dde27dfddd9272c657e011f7bec9761676b1b11e46a2f61d3cb1e482ef22093c7d54b23252f3bdb4d19b4d49"
    );
    assert_eq!(c.consumer_secret.expose(), "CS_27c083df1ab7271e129cb23325dabaf0de95d087");
    assert_eq!(
        c.access_token.expose(),
        "AT_O365587095O8247e0b5288abcdee25642311746d67b5858ea5cO1389734861908"
    );
    assert_eq!(c.access_secret.expose(), "AS_8c3313de9a3462014c6c96f39dd7c3d4342b8cea");
    assert_eq!(c.access_token_expiry, datetime!(2015-01-14 21:27:41 UTC));
}

fn creds() -> OAuthCredentials {
    OAuthCredentials {
        consumer_key: "CK_test0001".into(),
        consumer_secret: Secret::new("CS_test0001".into()),
        access_token: Secret::new("AT_O0000000001Otest0001O1700000000000".into()),
        access_secret: Secret::new("AS_test0001".into()),
        access_token_expiry: datetime!(2030-01-01 00:00 UTC),
    }
}

#[test]
fn minted_tokens_look_like_apples_and_round_trip() {
    let pair = generate("test", NOW).unwrap();
    let p7m = mint_p7m(&pair.cert_pem, &creds()).unwrap();
    let text = String::from_utf8(p7m.clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "Content-Type: application/pkcs7-mime; name=\"smime.p7m\"; smime-type=enveloped-data"
    );
    assert_eq!(lines[3], "Content-Description: S/MIME Encrypted Message");
    assert_eq!(lines[4], "");
    assert!(lines[5..lines.len() - 1].iter().all(|l| l.len() == 76));
    assert!(text.ends_with('\n') && !text.contains('\r'));
    let der = unframe(&p7m).unwrap();
    assert_eq!(&der[..2], &[0x30, 0x80], "BER indefinite length, as Apple sends");
    assert_eq!(&der[der.len() - 10..], &[0u8; 10], "five end-of-contents pairs");
    let key = load_rsa_private_key(pair.key_pem.expose().as_bytes()).unwrap();
    let back = decrypt(&p7m, &key).unwrap();
    assert_eq!(back.access_secret.expose(), "AS_test0001");
    assert_eq!(back.access_token_expiry, datetime!(2030-01-01 00:00 UTC));
    // A DER encoding of the same thing decrypts as well, and so does raw CMS.
    let der_cms = cms::encrypt_enveloped_der(
        &plaintext_for(&creds()),
        &crate::crypto::ca::pem_to_der(&pair.cert_pem).unwrap(),
    )
    .unwrap();
    assert_eq!(decrypt(&der_cms, &key).unwrap().consumer_key, "CK_test0001");
    assert_eq!(decrypt(smime_wrap(&der_cms).as_bytes(), &key).unwrap().consumer_key, "CK_test0001");
    // Another key is told apart.
    let other = generate("other", NOW).unwrap();
    let other_key = load_rsa_private_key(other.key_pem.expose().as_bytes()).unwrap();
    assert!(matches!(decrypt(&p7m, &other_key), Err(ServerTokenError::WrongKey)));
}

fn openssl() -> bool {
    let ok = std::process::Command::new("openssl")
        .arg("version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        eprintln!("notice: openssl not on PATH; skipping the interoperability check");
    }
    ok
}

#[test]
fn openssl_agrees_with_our_encryption_in_both_directions() {
    if !openssl() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pair = generate("test", NOW).unwrap();
    let cert = dir.path().join("dep.pem");
    let keyf = dir.path().join("dep.key");
    std::fs::write(&cert, &pair.cert_pem).unwrap();
    std::fs::write(&keyf, pair.key_pem.expose()).unwrap();
    let key = load_rsa_private_key(pair.key_pem.expose().as_bytes()).unwrap();
    // openssl decrypts what we mint.
    let minted = dir.path().join("minted.p7m");
    std::fs::write(&minted, mint_p7m(&pair.cert_pem, &creds()).unwrap()).unwrap();
    let out = std::process::Command::new("openssl")
        .args(["cms", "-decrypt", "-inform", "SMIME", "-in"])
        .arg(&minted)
        .arg("-inkey")
        .arg(&keyf)
        .arg("-recip")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.stdout, plaintext_for(&creds()));
    // We decrypt what openssl makes: BER streamed CMS (Apple's shape) and S/MIME DER.
    let plain = dir.path().join("token.txt");
    std::fs::write(&plain, plaintext_for(&creds())).unwrap();
    let ber = dir.path().join("token.der");
    let st = std::process::Command::new("openssl")
        .args(["cms", "-encrypt", "-aes-128-cbc", "-binary", "-stream", "-outform", "DER", "-in"])
        .arg(&plain)
        .arg("-out")
        .arg(&ber)
        .arg(&cert)
        .status()
        .unwrap();
    assert!(st.success());
    let ber_bytes = std::fs::read(&ber).unwrap();
    assert_eq!(
        decrypt(smime_wrap(&ber_bytes).as_bytes(), &key).unwrap().consumer_key,
        "CK_test0001"
    );
    let smime = dir.path().join("token.smime");
    for cipher in ["-aes128", "-aes256"] {
        let st = std::process::Command::new("openssl")
            .args(["smime", "-encrypt", cipher, "-binary", "-in"])
            .arg(&plain)
            .arg("-out")
            .arg(&smime)
            .arg(&cert)
            .status()
            .unwrap();
        assert!(st.success());
        assert_eq!(
            decrypt(&std::fs::read(&smime).unwrap(), &key).unwrap().consumer_key,
            "CK_test0001",
            "{cipher}"
        );
    }
}

#[test]
fn bad_uploads_get_precise_errors() {
    let pair = generate("t", NOW).unwrap();
    let key = load_rsa_private_key(pair.key_pem.expose().as_bytes()).unwrap();
    let p7m = String::from_utf8(mint_p7m(&pair.cert_pem, &creds()).unwrap()).unwrap();
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (vec![], "empty"),
        (pair.cert_pem.clone().into_bytes(), "certificate"),
        (pair.key_pem.expose().clone().into_bytes(), "private key"),
        (br#"{"consumer_key": "x"}"#.to_vec(), "not an Apple server token"),
        (b"Content-Type: text/html\n\n<html>".to_vec(), "Content-Type"),
        (p7m.as_bytes()[..p7m.len() / 2].to_vec(), "damaged"),
        (vec![b'A'; MAX_TOKEN_BYTES + 1], "about 2 KB"),
    ];
    for (input, expect) in cases {
        let err = decrypt(&input, &key).unwrap_err().to_string();
        assert!(err.contains(expect), "expected `{expect}` in `{err}`");
    }
}

#[test]
fn never_panics_on_truncated_or_flipped_tokens() {
    let pair = generate("t", NOW).unwrap();
    let key = load_rsa_private_key(pair.key_pem.expose().as_bytes()).unwrap();
    let p7m = mint_p7m(&pair.cert_pem, &creds()).unwrap();
    let der = unframe(&p7m).unwrap();
    for cut in (0..der.len()).step_by(7) {
        let _ = decrypt(&der[..cut], &key);
    }
    for i in (0..der.len()).step_by(3) {
        let mut flipped = der.clone();
        flipped[i] ^= 0x55;
        let _ = decrypt(&flipped, &key);
    }
    if let Some(real) = crate::fixtures::read("dep-token/apple-mdm-client-tests-1-server-token.p7m")
    {
        for cut in (0..real.len()).step_by(11) {
            let _ = decrypt(&real[..cut], &key);
        }
    }
}

#[test]
fn inspection_masks_secrets_unless_asked() {
    let c = creds();
    let masked = inspect_json(&c, false, NOW).to_string();
    assert!(
        !masked.contains("CS_test0001")
            && masked.contains("CK_test0001")
            && masked.contains("(masked)")
    );
    let shown = inspect_json(&c, true, NOW);
    assert_eq!(shown["access_secret"], "AS_test0001");
    assert_eq!(shown["issued_at"], "2023-11-14T22:13:20Z");
    assert_eq!(shown["expired"], false);
}
