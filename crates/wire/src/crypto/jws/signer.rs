//! The client side of ACME's JWS: an account key that signs requests as a device would.
//!
//! Exposes [`AccountKey`] (ES256 / ES384 / RS256), its [`AccountKey::jwk`] and
//! [`AccountKey::sign`], which produces a flattened JWS body. Used by tests and by the device
//! simulators; the server never signs. Pure: no tokio, redb, reqwest or actix.

use super::{Alg, Jwk};
use base64ct::{Base64UrlUnpadded, Encoding};
use serde_json::{Value, json};

/// An ACME account key pair.
pub enum AccountKey {
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    Rsa(Box<rsa::pkcs1v15::SigningKey<sha2::Sha256>>),
}

fn enc(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

impl AccountKey {
    /// A new P-256 key (ES256), as Apple devices are assumed to use.
    pub fn p256() -> AccountKey {
        loop {
            if let Ok(k) = p256::ecdsa::SigningKey::from_slice(&crate::crypto::random_bytes::<32>())
            {
                return AccountKey::P256(k);
            }
        }
    }

    /// A new P-384 key (ES384).
    pub fn p384() -> AccountKey {
        loop {
            if let Ok(k) = p384::ecdsa::SigningKey::from_slice(&crate::crypto::random_bytes::<48>())
            {
                return AccountKey::P384(k);
            }
        }
    }

    /// A new RSA-2048 key (RS256). Slow in unoptimised builds; tests make one.
    pub fn rsa2048() -> Result<AccountKey, String> {
        let key = rsa::PrivateKey::new(&mut getrandom::SysRng, 2048).map_err(|e| e.to_string())?;
        Ok(AccountKey::Rsa(Box::new(rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(key))))
    }

    pub fn alg(&self) -> Alg {
        match self {
            AccountKey::P256(_) => Alg::Es256,
            AccountKey::P384(_) => Alg::Es384,
            AccountKey::Rsa(_) => Alg::Rs256,
        }
    }

    /// The public key as a JWK.
    pub fn jwk(&self) -> Jwk {
        match self {
            AccountKey::P256(k) => {
                let p = k.verifying_key().to_sec1_point(false);
                let b = p.as_bytes();
                Jwk::P256 { x: enc(&b[1..33]), y: enc(&b[33..65]) }
            }
            AccountKey::P384(k) => {
                let p = k.verifying_key().to_sec1_point(false);
                let b = p.as_bytes();
                Jwk::P384 { x: enc(&b[1..49]), y: enc(&b[49..97]) }
            }
            AccountKey::Rsa(k) => {
                use rsa::traits::PublicKeyParts;
                let public = k.as_ref().as_ref().to_public_key();
                Jwk::Rsa {
                    n: enc(&public.n().to_be_bytes_trimmed_vartime()),
                    e: enc(&public.e().to_be_bytes_trimmed_vartime()),
                }
            }
        }
    }

    /// Raw JWS signature over `input`.
    pub fn raw_sign(&self, input: &[u8]) -> Vec<u8> {
        use signature::{SignatureEncoding, Signer};
        match self {
            AccountKey::P256(k) => {
                let s: p256::ecdsa::Signature = k.sign(input);
                s.to_bytes().to_vec()
            }
            AccountKey::P384(k) => {
                let s: p384::ecdsa::Signature = k.sign(input);
                s.to_bytes().to_vec()
            }
            AccountKey::Rsa(k) => k.sign(input).to_vec(),
        }
    }

    /// A flattened JWS for `url` with `nonce`, naming the key by `kid` (an account URL) or,
    /// when `kid` is None, carrying the `jwk`. `payload` None is POST-as-GET (empty payload).
    pub fn sign(
        &self,
        url: &str,
        nonce: &str,
        kid: Option<&str>,
        payload: Option<&Value>,
    ) -> Value {
        let mut protected = json!({"alg": self.alg().name(), "nonce": nonce, "url": url});
        match kid {
            Some(kid) => protected["kid"] = json!(kid),
            None => protected["jwk"] = self.jwk().to_json(),
        }
        sign_with_header(self, &protected, payload)
    }
}

/// A flattened JWS with an arbitrary protected header (tests build malformed ones with it).
pub fn sign_with_header(key: &AccountKey, protected: &Value, payload: Option<&Value>) -> Value {
    let protected_b64 = enc(protected.to_string().as_bytes());
    let payload_b64 = match payload {
        Some(p) => enc(p.to_string().as_bytes()),
        None => String::new(),
    };
    let signature = key.raw_sign(format!("{protected_b64}.{payload_b64}").as_bytes());
    json!({"protected": protected_b64, "payload": payload_b64, "signature": enc(&signature)})
}
