//! The DEP simulator's own reading of the OAuth 1.0a `Authorization` header of `GET /session`
//! (RFC 5849; ../shared/spec/dep-api.md §2.1, §2.3), written apart from the product's signer
//! so that a mistake in one is not mirrored by the other.
//!
//! Exposes [`SessionAuth::parse`] (strict RFC 5849 §3.5.1 syntax: `OAuth` scheme, every value
//! quoted and percent-encoded per §3.6, each parameter once, only `realm` and the protocol
//! parameters) and [`SessionAuth::verify`] (the §3.4.1 base string over the request's own
//! method, URI and query, HMAC-SHA1 with `pct(consumer_secret)&pct(token_secret)`, compared in
//! constant time). Refusals are [`OAuthProblem`]s with the status Apple documents: 400 for
//! unsupported, missing or duplicated parameters and other methods, 401 for a bad signature
//! (§2.3). Pure.

use base64ct::{Base64, Encoding};
use hmac::{Hmac, KeyInit, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use sha1::Sha1;
use std::collections::BTreeMap;

/// RFC 5849 §3.6: everything but `A-Z a-z 0-9 - . _ ~` is `%XX` (upper-case hex).
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// A header longer than this is refused unread (real ones are about 400 bytes).
const MAX_LEN: usize = 8 * 1024;

/// The parameters Apple's example carries (§2.1); `oauth_version` is optional (RFC 5849
/// §3.1), every other one is required.
const REQUIRED: [&str; 6] = [
    "oauth_consumer_key",
    "oauth_token",
    "oauth_signature_method",
    "oauth_signature",
    "oauth_timestamp",
    "oauth_nonce",
];

/// Why `/session` is refused before any credential is looked up, or for its signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OAuthProblem {
    /// No `Authorization` header, or not the OAuth scheme.
    Absent,
    /// A required parameter is missing.
    Missing(&'static str),
    /// A parameter appears twice.
    Duplicated(String),
    /// A parameter OAuth (or Apple) does not use here.
    Unsupported(String),
    /// Not RFC 5849 syntax: unquoted or badly encoded value, stray text, non-numeric timestamp.
    Malformed(String),
    /// `oauth_version` other than `1.0`.
    Version,
    /// Anything but HMAC-SHA1.
    SignatureMethod,
    /// The signature does not match.
    Signature,
}

impl OAuthProblem {
    /// Apple's status for it (§2.3).
    pub fn status(&self) -> u16 {
        match self {
            OAuthProblem::Signature => 401,
            _ => 400,
        }
    }

    /// The body: OAuth Problem Reporting words; Apple's exact text is not published (§2.3).
    pub fn body(&self) -> &'static str {
        match self {
            OAuthProblem::Absent | OAuthProblem::Missing(_) => "oauth_problem=parameter_absent",
            OAuthProblem::Duplicated(_)
            | OAuthProblem::Unsupported(_)
            | OAuthProblem::Malformed(_) => "oauth_problem=parameter_rejected",
            OAuthProblem::Version => "oauth_problem=version_rejected",
            OAuthProblem::SignatureMethod => "oauth_problem=signature_method_rejected",
            OAuthProblem::Signature => "oauth_problem=bad_signature",
        }
    }
}

impl std::fmt::Display for OAuthProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OAuthProblem::Absent => f.write_str("no OAuth Authorization header"),
            OAuthProblem::Missing(p) => write!(f, "the OAuth parameter {p} is missing"),
            OAuthProblem::Duplicated(p) => write!(f, "the OAuth parameter {p} appears twice"),
            OAuthProblem::Unsupported(p) => write!(f, "the parameter {p} is not supported"),
            OAuthProblem::Malformed(why) => write!(f, "malformed Authorization header: {why}"),
            OAuthProblem::Version => f.write_str("oauth_version is not 1.0"),
            OAuthProblem::SignatureMethod => f.write_str("the signature method is not HMAC-SHA1"),
            OAuthProblem::Signature => f.write_str("the signature does not match"),
        }
    }
}

/// The protocol parameters of a `/session` request, percent-decoded.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionAuth {
    params: BTreeMap<String, String>,
}

impl std::fmt::Debug for SessionAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionAuth").field("consumer_key", &self.consumer_key()).finish()
    }
}

impl SessionAuth {
    /// Reads the header the way RFC 5849 §3.5.1 writes it.
    pub fn parse(header: Option<&str>) -> Result<SessionAuth, OAuthProblem> {
        let header = header.ok_or(OAuthProblem::Absent)?;
        if header.len() > MAX_LEN {
            return Err(OAuthProblem::Malformed("longer than 8 KiB".into()));
        }
        let (scheme, list) = header.trim().split_once(' ').ok_or(OAuthProblem::Absent)?;
        if !scheme.eq_ignore_ascii_case("OAuth") {
            return Err(OAuthProblem::Absent);
        }
        let mut params = BTreeMap::new();
        let mut realm_seen = false;
        for item in list.split(',') {
            let (name, value) = parse_param(item.trim_matches([' ', '\t']))?;
            if name == "realm" {
                // Not part of the signature (§3.4.1.3.1); Apple's example sends `ADM`,
                // nanodep none (§2.1).
                if std::mem::replace(&mut realm_seen, true) {
                    return Err(OAuthProblem::Duplicated(name));
                }
                continue;
            }
            if !REQUIRED.contains(&name.as_str()) && name != "oauth_version" {
                return Err(OAuthProblem::Unsupported(name));
            }
            if params.contains_key(&name) {
                return Err(OAuthProblem::Duplicated(name));
            }
            params.insert(name, value);
        }
        if let Some(missing) = REQUIRED.iter().find(|p| !params.contains_key(**p)) {
            return Err(OAuthProblem::Missing(missing));
        }
        let auth = SessionAuth { params };
        if auth.get("oauth_signature_method") != "HMAC-SHA1" {
            return Err(OAuthProblem::SignatureMethod);
        }
        if auth.params.get("oauth_version").is_some_and(|v| v != "1.0") {
            return Err(OAuthProblem::Version);
        }
        let ts = auth.get("oauth_timestamp");
        if ts.is_empty() || !ts.bytes().all(|b| b.is_ascii_digit()) {
            return Err(OAuthProblem::Malformed("oauth_timestamp is not whole seconds".into()));
        }
        if auth.nonce().is_empty() {
            return Err(OAuthProblem::Malformed("oauth_nonce is empty".into()));
        }
        Ok(auth)
    }

    fn get(&self, name: &str) -> &str {
        self.params.get(name).map_or("", String::as_str)
    }

    pub fn consumer_key(&self) -> &str {
        self.get("oauth_consumer_key")
    }

    pub fn token(&self) -> &str {
        self.get("oauth_token")
    }

    pub fn nonce(&self) -> &str {
        self.get("oauth_nonce")
    }

    /// Checks the signature of `method https://<authority><path>?<query>` (RFC 5849 §3.4).
    pub fn verify(
        &self,
        method: &str,
        authority: &str,
        path: &str,
        query: &str,
        consumer_secret: &str,
        token_secret: &str,
    ) -> Result<(), OAuthProblem> {
        let mut pairs: Vec<(String, String)> = self
            .params
            .iter()
            .filter(|(k, _)| *k != "oauth_signature")
            .map(|(k, v)| (pct(k), pct(v)))
            .collect();
        // Query parameters are signed too (§3.4.1.3.1); Apple's `/session` has none.
        for item in query.split('&').filter(|s| !s.is_empty()) {
            let (k, v) = item.split_once('=').unwrap_or((item, ""));
            let decode =
                |s: &str| percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned();
            pairs.push((pct(&decode(k)), pct(&decode(v))));
        }
        pairs.sort();
        let normalized: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let base = format!(
            "{}&{}&{}",
            method.to_ascii_uppercase(),
            pct(&base_uri(authority, path)),
            pct(&normalized.join("&"))
        );
        let key = format!("{}&{}", pct(consumer_secret), pct(token_secret));
        let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(key.as_bytes())
            .expect("HMAC takes keys of any length");
        mac.update(base.as_bytes());
        let given = Base64::decode_vec(self.get("oauth_signature")).unwrap_or_default();
        // `verify_slice` compares in constant time.
        mac.verify_slice(&given).map_err(|_| OAuthProblem::Signature)
    }
}

/// `name="value"` with the value decoded; anything else is malformed (§3.5.1).
fn parse_param(item: &str) -> Result<(String, String), OAuthProblem> {
    let malformed = |why: &str| OAuthProblem::Malformed(format!("`{item}`: {why}"));
    let (name, quoted) = item.split_once('=').ok_or_else(|| malformed("no `=`"))?;
    let value = quoted
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .ok_or_else(|| malformed("the value is not in double quotes"))?;
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(malformed("not a parameter name"));
    }
    if value.contains('"') || !well_encoded(value) {
        return Err(malformed("the value is not percent-encoded as RFC 5849 §3.6 asks"));
    }
    let decoded = percent_decode_str(value)
        .decode_utf8()
        .map_err(|_| malformed("the value is not UTF-8"))?
        .into_owned();
    Ok((name.to_string(), decoded))
}

/// Only unreserved characters and `%XX` escapes.
fn well_encoded(value: &str) -> bool {
    let b = value.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let escape = b.get(i + 1..i + 3);
                if !escape.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                    return false;
                }
                i += 3;
            }
            c if c.is_ascii_alphanumeric() || b"-._~".contains(&c) => i += 1,
            _ => return false,
        }
    }
    true
}

fn pct(s: &str) -> String {
    utf8_percent_encode(s, UNRESERVED).to_string()
}

/// §3.4.1.2: `https://` + lower-case authority without the default port + path.
fn base_uri(authority: &str, path: &str) -> String {
    let authority = authority.to_ascii_lowercase();
    let authority = authority.strip_suffix(":443").unwrap_or(&authority);
    let path = if path.is_empty() { "/" } else { path };
    format!("https://{authority}{path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// dep-api.md §2.1's vector (cross-checked there against gomodule/oauth1): CK_test,
    /// CS_test, AT_test, AS_test, timestamp 1700000000, nonce abc123.
    const VECTOR: &str = "OAuth realm=\"ADM\", oauth_consumer_key=\"CK_test\", \
        oauth_token=\"AT_test\", oauth_signature_method=\"HMAC-SHA1\", \
        oauth_signature=\"U3%2F4pSzzE3SgMbm6snkJVi8lxxU%3D\", oauth_timestamp=\"1700000000\", \
        oauth_nonce=\"abc123\", oauth_version=\"1.0\"";

    fn verify(header: &str, authority: &str) -> Result<(), OAuthProblem> {
        SessionAuth::parse(Some(header))?
            .verify("GET", authority, "/session", "", "CS_test", "AS_test")
    }

    #[test]
    fn verifies_the_specs_test_vector_with_and_without_realm() {
        assert_eq!(verify(VECTOR, "mdmenrollment.apple.com"), Ok(()));
        assert_eq!(verify(VECTOR, "MDMENROLLMENT.apple.com:443"), Ok(()));
        let no_realm = VECTOR.replace("realm=\"ADM\", ", "");
        assert_eq!(verify(&no_realm, "mdmenrollment.apple.com"), Ok(()));
        let auth = SessionAuth::parse(Some(VECTOR)).unwrap();
        assert_eq!(
            (auth.consumer_key(), auth.token(), auth.nonce()),
            ("CK_test", "AT_test", "abc123")
        );
    }

    #[test]
    fn a_wrong_secret_host_or_nonce_breaks_the_signature() {
        assert_eq!(verify(VECTOR, "localhost:8444"), Err(OAuthProblem::Signature));
        let other_nonce = VECTOR.replace("abc123", "abc124");
        assert_eq!(verify(&other_nonce, "mdmenrollment.apple.com"), Err(OAuthProblem::Signature));
        let auth = SessionAuth::parse(Some(VECTOR)).unwrap();
        let r = auth.verify("GET", "mdmenrollment.apple.com", "/session", "", "CS_test", "AS_x");
        assert_eq!(r, Err(OAuthProblem::Signature));
        let r =
            auth.verify("GET", "mdmenrollment.apple.com", "/session", "a=1", "CS_test", "AS_test");
        assert_eq!(r, Err(OAuthProblem::Signature), "query parameters are signed");
    }

    #[test]
    fn refuses_what_rfc_5849_does_not_write_with_400() {
        let cases: Vec<(String, OAuthProblem)> = vec![
            ("Basic abc".into(), OAuthProblem::Absent),
            (VECTOR.replace("HMAC-SHA1", "PLAINTEXT"), OAuthProblem::SignatureMethod),
            (VECTOR.replace("\"1.0\"", "\"2.0\""), OAuthProblem::Version),
            (VECTOR.replace(", oauth_nonce=\"abc123\"", ""), OAuthProblem::Missing("oauth_nonce")),
            (
                format!("{VECTOR}, oauth_nonce=\"x\""),
                OAuthProblem::Duplicated("oauth_nonce".into()),
            ),
            (
                format!("{VECTOR}, oauth_callback=\"oob\""),
                OAuthProblem::Unsupported("oauth_callback".into()),
            ),
        ];
        for (header, problem) in cases {
            let got = SessionAuth::parse(Some(&header)).unwrap_err();
            assert_eq!(got, problem, "{header}");
            assert_eq!(got.status(), 400);
        }
        for bad in [
            VECTOR.replace("\"abc123\"", "abc123"),
            VECTOR.replace("\"1700000000\"", "\"17e8\""),
            VECTOR.replace("abc123", "abc 123"),
            VECTOR.replace("abc123", "abc%2"),
            format!("{VECTOR}, junk"),
        ] {
            assert!(
                matches!(SessionAuth::parse(Some(&bad)), Err(OAuthProblem::Malformed(_))),
                "{bad}"
            );
        }
        assert_eq!(SessionAuth::parse(None).unwrap_err(), OAuthProblem::Absent);
        assert_eq!(OAuthProblem::Signature.status(), 401);
    }
}
