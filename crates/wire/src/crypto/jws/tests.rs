use super::signer::{AccountKey, sign_with_header};
use super::*;
use serde_json::json;

const URL: &str = "https://ade.example.org/acme/new-order";

fn body(v: &Value) -> Vec<u8> {
    v.to_string().into_bytes()
}

fn round_trip(key: &AccountKey) {
    let payload = json!({"identifiers": [{"type": "permanent-identifier", "value": "abc"}]});
    let req = parse(&body(&key.sign(URL, "n1", None, Some(&payload)))).unwrap();
    assert_eq!(req.alg, key.alg());
    assert_eq!(req.nonce, "n1");
    req.check_url(URL).unwrap();
    let KeyRef::Jwk(jwk) = &req.key else { panic!("expected a jwk") };
    assert_eq!(jwk, &key.jwk());
    let got: Value = serde_json::from_slice(req.verify(jwk).unwrap()).unwrap();
    assert_eq!(got, payload);
}

#[test]
fn verifies_es256() {
    round_trip(&AccountKey::p256());
}

#[test]
fn verifies_es384() {
    round_trip(&AccountKey::p384());
}

#[test]
fn verifies_rs256() {
    round_trip(&AccountKey::rsa2048().unwrap());
}

#[test]
fn post_as_get_has_an_empty_payload() {
    let key = AccountKey::p256();
    let req = parse(&body(&key.sign(URL, "n", Some("https://x/acme/acct/1"), None))).unwrap();
    assert_eq!(req.key, KeyRef::Kid("https://x/acme/acct/1".into()));
    assert!(req.verify(&key.jwk()).unwrap().is_empty());
}

#[test]
fn rejects_a_bad_signature() {
    let key = AccountKey::p256();
    let mut jws = key.sign(URL, "n", None, Some(&json!({"a": 1})));
    // Another payload under the same signature.
    jws["payload"] = json!(Base64UrlUnpadded::encode_string(br#"{"a":2}"#));
    let req = parse(&body(&jws)).unwrap();
    let KeyRef::Jwk(jwk) = &req.key else { panic!() };
    assert_eq!(req.verify(jwk), Err(JwsError::BadSignature));
    assert_eq!(JwsError::BadSignature.problem_type(), "malformed");
}

#[test]
fn rejects_a_signature_by_another_key() {
    let (key, other) = (AccountKey::p256(), AccountKey::p256());
    let req = parse(&body(&key.sign(URL, "n", Some("kid"), None))).unwrap();
    assert_eq!(req.verify(&other.jwk()), Err(JwsError::BadSignature));
}

#[test]
fn a_missing_nonce_is_bad_nonce() {
    let key = AccountKey::p256();
    let jws = sign_with_header(&key, &json!({"alg": "ES256", "url": URL, "kid": "k"}), None);
    let err = parse(&body(&jws)).unwrap_err();
    assert_eq!(err, JwsError::BadNonce);
    assert_eq!(err.problem_type(), "badNonce");
}

#[test]
fn rejects_a_wrong_url_as_unauthorized() {
    let key = AccountKey::p256();
    let req =
        parse(&body(&key.sign("https://evil.example/acme/new-order", "n", None, None))).unwrap();
    let err = req.check_url(URL).unwrap_err();
    assert!(matches!(err, JwsError::WrongUrl { .. }));
    assert_eq!(err.problem_type(), "unauthorized");
}

#[test]
fn rejects_both_jwk_and_kid() {
    let key = AccountKey::p256();
    let header = json!({"alg": "ES256", "nonce": "n", "url": URL, "kid": "k",
        "jwk": key.jwk().to_json()});
    let err = parse(&body(&sign_with_header(&key, &header, None))).unwrap_err();
    assert!(matches!(err, JwsError::Malformed(ref m) if m.contains("both")), "{err}");
}

#[test]
fn rejects_neither_jwk_nor_kid() {
    let key = AccountKey::p256();
    let header = json!({"alg": "ES256", "nonce": "n", "url": URL});
    assert!(matches!(
        parse(&body(&sign_with_header(&key, &header, None))),
        Err(JwsError::Malformed(_))
    ));
}

#[test]
fn rejects_unsupported_algorithms() {
    let key = AccountKey::p256();
    for alg in ["none", "HS256", "EdDSA", "ES512"] {
        let header = json!({"alg": alg, "nonce": "n", "url": URL, "kid": "k"});
        let err = parse(&body(&sign_with_header(&key, &header, None))).unwrap_err();
        assert_eq!(err.problem_type(), "badSignatureAlgorithm", "{alg}");
    }
}

#[test]
fn rejects_an_alg_that_does_not_fit_the_key() {
    let key = AccountKey::p256();
    let header = json!({"alg": "ES384", "nonce": "n", "url": URL, "jwk": key.jwk().to_json()});
    let req = parse(&body(&sign_with_header(&key, &header, None))).unwrap();
    let KeyRef::Jwk(jwk) = &req.key else { panic!() };
    assert!(matches!(req.verify(jwk), Err(JwsError::BadSignatureAlgorithm(_))));
}

#[test]
fn rejects_garbage_without_panicking() {
    for input in [&b""[..], b"{", b"[]", b"{\"protected\":1}", &[0xff; 10]] {
        assert!(matches!(parse(input), Err(JwsError::Malformed(_))));
    }
    let big = vec![b' '; MAX_JWS_LEN + 1];
    assert!(matches!(parse(&big), Err(JwsError::Malformed(_))));
    let bad_point = json!({"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"});
    assert!(Jwk::from_json(&bad_point).is_err());
}

#[test]
fn thumbprint_matches_rfc_7638_example() {
    // RFC 7638 §3.1.
    let jwk = Jwk::Rsa {
        n: "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw".into(),
        e: "AQAB".into(),
    };
    assert_eq!(jwk.thumbprint(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
}

#[test]
fn thumbprint_is_the_same_for_the_same_key() {
    let key = AccountKey::p384();
    let a = key.jwk().thumbprint();
    let b = Jwk::from_json(&key.jwk().to_json()).unwrap().thumbprint();
    assert_eq!(a, b);
    assert_ne!(a, AccountKey::p384().jwk().thumbprint());
}
