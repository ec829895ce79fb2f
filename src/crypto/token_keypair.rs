//! The key pair behind a DEP server token: an RSA-2048 key and a self-signed certificate the
//! admin uploads in Apple Business Manager, which Apple encrypts the token to
//! (../shared/spec/dep-api.md §1.1–1.2). Apple only needs the certificate's public key at
//! upload time; it is valid five years so an admin who renews with the same key never meets
//! an expired one.

use crate::crypto::Secret;
use rcgen::{
    CertificateParams, DistinguishedName, DnType, KeyPair, KeyUsagePurpose, PKCS_RSA_SHA256,
};
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use time::{Duration, OffsetDateTime};

/// RSA key size Apple's tokens are made for (every real token uses 2048).
pub const KEY_BITS: usize = 2048;

#[derive(Debug, thiserror::Error)]
pub enum KeyPairError {
    #[error("key generation failed: {0}")]
    Generate(String),
    #[error(
        "not an RSA private key this appliance can read (PKCS#1 or PKCS#8, PEM or DER, unencrypted)"
    )]
    BadKey,
}

/// A generated pair.
pub struct TokenKeyPair {
    pub cert_pem: String,
    /// PKCS#8 PEM.
    pub key_pem: Secret<String>,
    pub fingerprint_sha256: String,
}

/// Makes a new RSA-2048 key and its self-signed certificate. About 0.2–1 s of CPU: call it
/// off the async threads.
pub fn generate(common_name: &str, now: OffsetDateTime) -> Result<TokenKeyPair, KeyPairError> {
    let key = rsa::PrivateKey::new(&mut getrandom::SysRng, KEY_BITS)
        .map_err(|e| KeyPairError::Generate(e.to_string()))?;
    let key_pem =
        key.to_pkcs8_pem(LineEnding::LF).map_err(|e| KeyPairError::Generate(e.to_string()))?;
    let signing = KeyPair::from_pkcs8_pem_and_sign_algo(&key_pem, &PKCS_RSA_SHA256)
        .map_err(|e| KeyPairError::Generate(e.to_string()))?;
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "adebox");
    dn.push(DnType::CommonName, common_name);
    params.distinguished_name = dn;
    params.key_usages = vec![KeyUsagePurpose::KeyEncipherment, KeyUsagePurpose::DigitalSignature];
    params.not_before = now - Duration::hours(1);
    params.not_after = now + Duration::days(5 * 365);
    let mut serial = crate::crypto::random_bytes::<16>();
    serial[0] = (serial[0] & 0x7f) | 0x01;
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
    let cert = params.self_signed(&signing).map_err(|e| KeyPairError::Generate(e.to_string()))?;
    Ok(TokenKeyPair {
        fingerprint_sha256: crate::crypto::ca::fingerprint_sha256(cert.der()),
        cert_pem: cert.pem(),
        key_pem: Secret::new(key_pem.to_string()),
    })
}

/// Reads an RSA private key in PKCS#1 or PKCS#8, PEM or DER (the real fixture key is PKCS#1).
pub fn load_rsa_private_key(bytes: &[u8]) -> Result<rsa::PrivateKey, KeyPairError> {
    if let Ok(text) = std::str::from_utf8(bytes)
        && text.contains("-----BEGIN")
    {
        return rsa::PrivateKey::from_pkcs1_pem(text)
            .or_else(|_| rsa::PrivateKey::from_pkcs8_pem(text))
            .map_err(|_| KeyPairError::BadKey);
    }
    rsa::PrivateKey::from_pkcs1_der(bytes)
        .or_else(|_| rsa::PrivateKey::from_pkcs8_der(bytes))
        .map_err(|_| KeyPairError::BadKey)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn generates_an_rsa_2048_certificate_for_apple() {
        let pair = generate("adebox DEP token key", datetime!(2026-11-24 10:00 UTC)).unwrap();
        let der = crate::crypto::ca::pem_to_der(&pair.cert_pem).unwrap();
        let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
        assert_eq!(cert.public_key().algorithm.algorithm.to_id_string(), "1.2.840.113549.1.1.1");
        assert_eq!(cert.signature_algorithm.algorithm.to_id_string(), "1.2.840.113549.1.1.11");
        let ku = cert.key_usage().unwrap().unwrap().value;
        assert!(ku.key_encipherment() && ku.digital_signature());
        let key = load_rsa_private_key(pair.key_pem.expose().as_bytes()).unwrap();
        use rsa::traits::PublicKeyParts;
        assert_eq!(key.n().bit_width(), 2048);
    }

    #[test]
    fn reads_the_fixture_key_in_every_encoding() {
        let (Some(pem), Some(der)) = (
            crate::fixtures::read("dep-token/apple-mdm-client-tests-1.pem"),
            crate::fixtures::read("dep-token/apple-mdm-client-tests-1.der"),
        ) else {
            return;
        };
        let a = load_rsa_private_key(&pem).unwrap();
        let b = load_rsa_private_key(&der).unwrap();
        let pkcs8 = a.to_pkcs8_der().unwrap();
        let c = load_rsa_private_key(pkcs8.as_bytes()).unwrap();
        assert!(a == b && b == c);
        assert!(matches!(load_rsa_private_key(b"not a key"), Err(KeyPairError::BadKey)));
    }
}
