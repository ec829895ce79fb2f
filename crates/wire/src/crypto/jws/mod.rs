//! ACME's flattened JSON JWS (RFC 8555 §6.2, RFC 7515 §7.2.2) and JWKs (RFC 7517/7518).
//!
//! Exposes [`parse`] (body → [`SignedRequest`], header checked for shape but signature not
//! yet checked, since with `kid` the key comes from the account), [`SignedRequest::verify`],
//! [`Jwk`] (EC P-256, EC P-384, RSA) with its RFC 7638 [`Jwk::thumbprint`], and
//! [`JwsError`], whose variants map to RFC 8555 problem types.
//!
//! Algorithms: ES256, ES384 and RS256 (../shared/spec/enrollment.md §3.1: the Apple account
//! key's algorithm is uncertain, ES256 is assumed; the key's curve must match `alg`). RSA keys
//! must be 2048 to 8192 bits. Pure: no tokio, redb, reqwest or actix.

use base64ct::{Base64UrlUnpadded, Encoding};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Largest JWS body accepted (a finalize with an RSA CSR is a few KiB).
pub const MAX_JWS_LEN: usize = 64 * 1024;

/// Why a signed request is refused; each maps to an RFC 8555 error type.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JwsError {
    #[error("the request is not a well-formed flattened JWS: {0}")]
    Malformed(String),
    /// The words say what was refused; the accepted algorithms follow.
    #[error(
        "{0}; this server accepts ES256 (P-256), ES384 (P-384) and RS256 (RSA, 2048 to 8192 bits)"
    )]
    BadSignatureAlgorithm(String),
    #[error("the JWS signature does not verify with the request's key")]
    BadSignature,
    #[error(
        "the nonce is missing, unknown, expired or already used; retry with the one in this \
         answer's Replay-Nonce header"
    )]
    BadNonce,
    #[error("the JWS header url \"{got}\" is not the URL this request was sent to ({expected})")]
    WrongUrl { got: String, expected: String },
    /// A `kid` that names no account of this server.
    #[error("there is no account at {0}; create one with a new-account request")]
    AccountDoesNotExist(String),
    /// new-account with `onlyReturnExisting` for a key no account has (RFC 8555 §7.3.1).
    #[error(
        "no account has this key; send new-account without \"onlyReturnExisting\" to create one"
    )]
    NoAccountForKey,
}

impl JwsError {
    /// The RFC 8555 error type (without the `urn:ietf:params:acme:error:` prefix).
    pub fn problem_type(&self) -> &'static str {
        match self {
            JwsError::Malformed(_) | JwsError::BadSignature => "malformed",
            JwsError::BadSignatureAlgorithm(_) => "badSignatureAlgorithm",
            JwsError::BadNonce => "badNonce",
            JwsError::WrongUrl { .. } => "unauthorized",
            JwsError::AccountDoesNotExist(_) | JwsError::NoAccountForKey => "accountDoesNotExist",
        }
    }
}

fn malformed(msg: impl Into<String>) -> JwsError {
    JwsError::Malformed(msg.into())
}

/// A JWS algorithm we accept.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Alg {
    Es256,
    Es384,
    Rs256,
}

impl Alg {
    /// Every algorithm accepted, as `badSignatureAlgorithm` lists them (RFC 8555 §6.2).
    pub const ALL: [Alg; 3] = [Alg::Es256, Alg::Es384, Alg::Rs256];

    fn parse(name: &str) -> Result<Alg, JwsError> {
        match name {
            "ES256" => Ok(Alg::Es256),
            "ES384" => Ok(Alg::Es384),
            "RS256" => Ok(Alg::Rs256),
            other => Err(JwsError::BadSignatureAlgorithm(format!(
                "the JWS algorithm \"{}\" is not supported",
                other.chars().take(32).collect::<String>()
            ))),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Alg::Es256 => "ES256",
            Alg::Es384 => "ES384",
            Alg::Rs256 => "RS256",
        }
    }
}

/// A public key as a JWK. Members are kept base64url as received, which is what the RFC 7638
/// thumbprint hashes.
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum Jwk {
    P256 { x: String, y: String },
    P384 { x: String, y: String },
    Rsa { n: String, e: String },
}

fn member<'a>(v: &'a Value, name: &str) -> Result<&'a str, JwsError> {
    v.get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| malformed(format!("the jwk has no \"{name}\" string")))
}

fn b64(s: &str, what: &str) -> Result<Vec<u8>, JwsError> {
    Base64UrlUnpadded::decode_vec(s).map_err(|_| malformed(format!("{what} is not base64url")))
}

impl Jwk {
    /// Reads a JWK object (EC P-256 / P-384 or RSA); the coordinates must decode.
    pub fn from_json(v: &Value) -> Result<Jwk, JwsError> {
        let jwk = match member(v, "kty")? {
            "EC" => {
                let (x, y) = (member(v, "x")?.to_string(), member(v, "y")?.to_string());
                match member(v, "crv")? {
                    "P-256" => Jwk::P256 { x, y },
                    "P-384" => Jwk::P384 { x, y },
                    other => {
                        return Err(JwsError::BadSignatureAlgorithm(format!(
                            "keys on the EC curve \"{}\" are not supported",
                            other.chars().take(16).collect::<String>()
                        )));
                    }
                }
            }
            "RSA" => Jwk::Rsa { n: member(v, "n")?.to_string(), e: member(v, "e")?.to_string() },
            other => {
                return Err(JwsError::BadSignatureAlgorithm(format!(
                    "keys of type \"{}\" are not supported",
                    other.chars().take(16).collect::<String>()
                )));
            }
        };
        jwk.check()?;
        Ok(jwk)
    }

    /// The JWK as JSON (only the required members, RFC 7638 order).
    pub fn to_json(&self) -> Value {
        match self {
            Jwk::P256 { x, y } => serde_json::json!({"crv": "P-256", "kty": "EC", "x": x, "y": y}),
            Jwk::P384 { x, y } => serde_json::json!({"crv": "P-384", "kty": "EC", "x": x, "y": y}),
            Jwk::Rsa { n, e } => serde_json::json!({"e": e, "kty": "RSA", "n": n}),
        }
    }

    /// RFC 7638 thumbprint: SHA-256 of the required members in lexicographic order, with no
    /// whitespace, base64url.
    pub fn thumbprint(&self) -> String {
        let canonical = match self {
            Jwk::P256 { x, y } => format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#),
            Jwk::P384 { x, y } => format!(r#"{{"crv":"P-384","kty":"EC","x":"{x}","y":"{y}"}}"#),
            Jwk::Rsa { n, e } => format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#),
        };
        Base64UrlUnpadded::encode_string(&Sha256::digest(canonical.as_bytes()))
    }

    /// The algorithm this key signs with.
    fn alg(&self) -> Alg {
        match self {
            Jwk::P256 { .. } => Alg::Es256,
            Jwk::P384 { .. } => Alg::Es384,
            Jwk::Rsa { .. } => Alg::Rs256,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Jwk::P256 { .. } => "P-256",
            Jwk::P384 { .. } => "P-384",
            Jwk::Rsa { .. } => "RSA",
        }
    }

    fn sec1(x: &str, y: &str, len: usize) -> Result<Vec<u8>, JwsError> {
        let (x, y) = (b64(x, "jwk x")?, b64(y, "jwk y")?);
        if x.len() != len || y.len() != len {
            return Err(malformed("the jwk's coordinates have the wrong length for its curve"));
        }
        Ok([&[0x04][..], &x, &y].concat())
    }

    fn rsa_key(n: &str, e: &str) -> Result<rsa::PublicKey, JwsError> {
        use rsa::BoxedUint;
        let (n, e) = (b64(n, "jwk n")?, b64(e, "jwk e")?);
        if n.len() > 1024 || e.len() > 8 {
            return Err(malformed("the jwk's RSA key is over 8192 bits"));
        }
        rsa::PublicKey::new_with_size_limits(
            BoxedUint::from_be_slice_vartime(&n),
            BoxedUint::from_be_slice_vartime(&e),
            2048..=8192,
        )
        .map_err(|e| malformed(format!("the RSA key is not usable (2048 to 8192 bits): {e}")))
    }

    /// Checks that the key material is a valid public key.
    fn check(&self) -> Result<(), JwsError> {
        match self {
            Jwk::P256 { x, y } => {
                p256::ecdsa::VerifyingKey::from_sec1_bytes(&Self::sec1(x, y, 32)?)
                    .map_err(|_| malformed("the jwk is not a point on P-256"))?;
            }
            Jwk::P384 { x, y } => {
                p384::ecdsa::VerifyingKey::from_sec1_bytes(&Self::sec1(x, y, 48)?)
                    .map_err(|_| malformed("the jwk is not a point on P-384"))?;
            }
            Jwk::Rsa { n, e } => {
                Self::rsa_key(n, e)?;
            }
        }
        Ok(())
    }

    /// Checks `signature` (JWS form: raw r||s for ECDSA, PKCS#1 v1.5 for RSA) over `message`.
    pub fn verify(&self, alg: Alg, message: &[u8], signature: &[u8]) -> Result<(), JwsError> {
        use signature::Verifier;
        if self.alg() != alg {
            return Err(JwsError::BadSignatureAlgorithm(format!(
                "the JWS algorithm {} does not fit the key (a {} key signs with {})",
                alg.name(),
                self.kind(),
                self.alg().name()
            )));
        }
        let ok = match self {
            Jwk::P256 { x, y } => {
                let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(&Self::sec1(x, y, 32)?)
                    .map_err(|_| malformed("the jwk is not a point on P-256"))?;
                p256::ecdsa::Signature::from_slice(signature)
                    .is_ok_and(|sig| key.verify(message, &sig).is_ok())
            }
            Jwk::P384 { x, y } => {
                let key = p384::ecdsa::VerifyingKey::from_sec1_bytes(&Self::sec1(x, y, 48)?)
                    .map_err(|_| malformed("the jwk is not a point on P-384"))?;
                p384::ecdsa::Signature::from_slice(signature)
                    .is_ok_and(|sig| key.verify(message, &sig).is_ok())
            }
            Jwk::Rsa { n, e } => {
                let key = Self::rsa_key(n, e)?;
                let hashed = Sha256::digest(message);
                key.verify(rsa::Pkcs1v15Sign::new::<Sha256>(), &hashed, signature).is_ok()
            }
        };
        if ok { Ok(()) } else { Err(JwsError::BadSignature) }
    }
}

/// Which key the request names.
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum KeyRef {
    /// `jwk`: the key itself (new-account only).
    Jwk(Jwk),
    /// `kid`: an account URL.
    Kid(String),
}

/// A parsed, not yet verified, flattened JWS.
#[derive(Clone, Debug)]
pub struct SignedRequest {
    pub alg: Alg,
    pub nonce: String,
    pub url: String,
    pub key: KeyRef,
    signing_input: Vec<u8>,
    signature: Vec<u8>,
    payload: Vec<u8>,
}

/// Parses a flattened JWS body and its protected header. The signature is not checked here:
/// call [`SignedRequest::verify`] with the key (the `jwk`, or the account's key for `kid`).
pub fn parse(body: &[u8]) -> Result<SignedRequest, JwsError> {
    let (req, nonce) = parse_any(body)?;
    let nonce = nonce.ok_or(JwsError::BadNonce)?;
    Ok(SignedRequest { nonce, ..req })
}

/// Parses the inner JWS of a keyChange request (RFC 8555 §7.3.5): like [`parse`], but it
/// must carry the new key as `jwk` and must not carry a `nonce`. Its `nonce` is left empty.
pub fn parse_key_change(body: &[u8]) -> Result<SignedRequest, JwsError> {
    let (req, nonce) = parse_any(body)?;
    if nonce.is_some() {
        return Err(malformed("the inner JWS of a keyChange must not carry a \"nonce\""));
    }
    if !matches!(req.key, KeyRef::Jwk(_)) {
        return Err(malformed("the inner JWS of a keyChange must carry the new key as \"jwk\""));
    }
    Ok(req)
}

/// [`parse`] without the nonce rule: the nonce, if any, is returned beside the request.
fn parse_any(body: &[u8]) -> Result<(SignedRequest, Option<String>), JwsError> {
    if body.len() > MAX_JWS_LEN {
        return Err(malformed(format!("the body is over {MAX_JWS_LEN} bytes")));
    }
    let outer: Value =
        serde_json::from_slice(body).map_err(|_| malformed("the body is not JSON"))?;
    let field = |name: &str| {
        outer
            .get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| malformed(format!("the JWS has no \"{name}\" string")))
    };
    let (protected_b64, payload_b64, sig_b64) =
        (field("protected")?, field("payload")?, field("signature")?);
    if outer.get("header").is_some() {
        return Err(malformed("unprotected headers are not allowed (RFC 8555 §6.2)"));
    }
    let header: Value = serde_json::from_slice(&b64(protected_b64, "protected")?)
        .map_err(|_| malformed("the protected header is not JSON"))?;
    let text = |name: &str| {
        header
            .get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| malformed(format!("the protected header has no \"{name}\" string")))
    };
    let alg = Alg::parse(text("alg")?)?;
    let nonce = match header.get("nonce") {
        None => None,
        Some(n) => Some(n.as_str().ok_or(JwsError::BadNonce)?.to_string()),
    };
    let url = text("url")?;
    let key = match (header.get("jwk"), header.get("kid")) {
        (Some(_), Some(_)) => {
            return Err(malformed("the protected header has both \"jwk\" and \"kid\""));
        }
        (Some(jwk), None) => KeyRef::Jwk(Jwk::from_json(jwk)?),
        (None, Some(kid)) => KeyRef::Kid(
            kid.as_str().ok_or_else(|| malformed("\"kid\" is not a string"))?.to_string(),
        ),
        (None, None) => {
            return Err(malformed("the protected header has neither \"jwk\" nor \"kid\""));
        }
    };
    let req = SignedRequest {
        alg,
        nonce: String::new(),
        url: url.to_string(),
        key,
        signing_input: format!("{protected_b64}.{payload_b64}").into_bytes(),
        signature: b64(sig_b64, "signature")?,
        payload: b64(payload_b64, "payload")?,
    };
    Ok((req, nonce))
}

impl SignedRequest {
    /// Checks the signature with `key`; returns the payload bytes (empty for POST-as-GET).
    pub fn verify(&self, key: &Jwk) -> Result<&[u8], JwsError> {
        key.verify(self.alg, &self.signing_input, &self.signature)?;
        Ok(&self.payload)
    }

    /// The header's url must be exactly the URL the request reached (RFC 8555 §6.4).
    pub fn check_url(&self, expected: &str) -> Result<(), JwsError> {
        if self.url == expected {
            Ok(())
        } else {
            Err(JwsError::WrongUrl {
                got: self.url.chars().take(200).collect(),
                expected: expected.to_string(),
            })
        }
    }
}

pub mod signer;

#[cfg(test)]
mod tests;
