//! The Apple Business API account's private key and the client assertion adebox makes with
//! it (apple-2026.md §8.2–§8.3).
//!
//! Exposes [`ApiKey`] (an EC P-256 key read from the `.pem` Apple's portal downloads, PKCS#8
//! or SEC1; any other key is refused saying what to do) and [`ApiKey::assertion`]: a compact
//! JWS signed ES256 (raw `r‖s`), `kid` = key id, `iss` = `sub` = client id, `aud` = Apple's
//! `…/v2/token`, `iat` now, `exp` at most 180 days later, a random `jti`. Pure.

use crate::crypto::Secret;
use base64ct::{Base64UrlUnpadded, Encoding};
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::DecodePrivateKey;
use serde_json::json;
use time::{Duration, OffsetDateTime};

/// The audience Apple requires in the assertion (`v2`, unlike the token URL).
pub const AUDIENCE: &str = "https://account.apple.com/auth/oauth2/v2/token";
/// The longest an assertion may live (Apple refuses longer).
pub const MAX_ASSERTION_LIFETIME: Duration = Duration::days(180);

/// Why a key was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error(
        "the private key is not a PEM file; upload the .pem file Apple Business downloaded when you generated the API account's private key"
    )]
    NotPem,
    #[error(
        "the private key is not an EC P-256 key (Apple Business API keys are P-256, for ES256); in Apple Business open Preferences → API, generate a private key for the account and upload that .pem"
    )]
    NotP256,
}

/// An API account's private key.
pub struct ApiKey(SigningKey);

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey(..)")
    }
}

impl ApiKey {
    /// Reads a P-256 private key from PEM (`PRIVATE KEY` or `EC PRIVATE KEY`).
    pub fn from_pem(pem: &str) -> Result<ApiKey, KeyError> {
        let pem = pem.trim();
        if !pem.starts_with("-----BEGIN ") {
            return Err(KeyError::NotPem);
        }
        if let Ok(k) = p256::SecretKey::from_pkcs8_pem(pem) {
            return Ok(ApiKey(SigningKey::from(&k)));
        }
        if let Ok(k) = p256::SecretKey::from_sec1_pem(pem) {
            return Ok(ApiKey(SigningKey::from(&k)));
        }
        if pem.contains("PRIVATE KEY-----") {
            Err(KeyError::NotP256)
        } else {
            Err(KeyError::NotPem)
        }
    }

    /// A client assertion for `client_id`/`key_id` valid from `now` for `lifetime` (capped at
    /// 180 days).
    pub fn assertion(
        &self,
        client_id: &str,
        key_id: &str,
        now: OffsetDateTime,
        lifetime: Duration,
    ) -> Secret<String> {
        let iat = now.unix_timestamp();
        let exp = iat + lifetime.min(MAX_ASSERTION_LIFETIME).whole_seconds();
        let enc = |v: serde_json::Value| Base64UrlUnpadded::encode_string(v.to_string().as_bytes());
        let input = format!(
            "{}.{}",
            enc(json!({"alg": "ES256", "kid": key_id, "typ": "JWT"})),
            enc(json!({"iss": client_id, "sub": client_id, "aud": AUDIENCE,
                       "iat": iat, "exp": exp, "jti": crate::crypto::random_token::<16>()}))
        );
        let sig: Signature = self.0.sign(input.as_bytes());
        Secret::new(format!("{input}.{}", Base64UrlUnpadded::encode_string(&sig.to_bytes())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_keys_are_refused_with_what_to_do() {
        assert_eq!(ApiKey::from_pem("hello").unwrap_err(), KeyError::NotPem);
        let p384 = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
        let err = ApiKey::from_pem(&p384.serialize_pem()).unwrap_err();
        assert_eq!(err, KeyError::NotP256);
        assert!(err.to_string().contains("Preferences → API"));
        let p256 = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        assert!(ApiKey::from_pem(&p256.serialize_pem()).is_ok());
    }

    #[test]
    fn the_assertion_never_lives_over_180_days() {
        let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let key = ApiKey::from_pem(&pair.serialize_pem()).unwrap();
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let jwt = key.assertion("BUSINESSAPI.x", "k", now, Duration::days(400));
        let claims = jwt.expose().split('.').nth(1).unwrap().to_string();
        let claims: serde_json::Value =
            serde_json::from_slice(&Base64UrlUnpadded::decode_vec(&claims).unwrap()).unwrap();
        assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 180 * 86_400);
        assert_eq!(claims["aud"], AUDIENCE);
        assert_eq!(
            (claims["iss"].as_str(), claims["sub"].as_str()),
            (Some("BUSINESSAPI.x"), Some("BUSINESSAPI.x"))
        );
    }
}
