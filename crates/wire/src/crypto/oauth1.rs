//! OAuth 1.0a HMAC-SHA1 (RFC 5849) for DEP's one signed request, `GET <base>/session`
//! (../shared/spec/dep-api.md §2.1).
//!
//! Exposes [`authorization_header`] for the client side (nonce and timestamp are parameters:
//! the caller passes a random nonce and the clock's now) and [`Authorization::parse`] +
//! [`Authorization::verify`] for the simulator side. Pure: no tokio, redb, reqwest or actix.
//!
//! Rules that matter for interoperability: header values and the base string use the RFC 3986
//! unreserved set (`A-Za-z0-9-._~` left alone, everything else `%XX` upper-case); `realm` is
//! sent optionally and is never part of the base string (nanodep and petarov send none, zentral
//! sends `ADM`; Apple accepts both); the base URI is normalised (lower-case scheme and host,
//! default port dropped, no query) so both sides agree however the URL was written.

use crate::crypto::Secret;
use hmac::{Hmac, KeyInit, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use sha1::Sha1;
use std::collections::BTreeMap;
use subtle::ConstantTimeEq;

/// The only signature method DEP accepts.
pub const SIGNATURE_METHOD: &str = "HMAC-SHA1";
/// `oauth_version`, optional on the wire but always sent by us.
pub const VERSION: &str = "1.0";
/// Longest `Authorization` header [`Authorization::parse`] reads; real ones are ~400 bytes.
pub const MAX_HEADER_LEN: usize = 8 * 1024;

/// RFC 3986 §2.3 unreserved characters stay; everything else is percent-encoded.
const ENCODE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Parameters every DEP `/session` header must carry (RFC 5849 §3.1; `oauth_version` optional).
const REQUIRED: [&str; 6] = [
    "oauth_consumer_key",
    "oauth_token",
    "oauth_signature_method",
    "oauth_signature",
    "oauth_timestamp",
    "oauth_nonce",
];

/// Why a header was refused. [`OAuthError::http_status`] gives the status Apple documents
/// (dep-api.md §2.3): 400 for malformed/unsupported/missing/duplicated, 401 for a bad signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OAuthError {
    #[error("the Authorization header is not an OAuth header")]
    NotOAuth,
    #[error("the Authorization header is longer than {MAX_HEADER_LEN} bytes")]
    TooLong,
    #[error("the Authorization header is malformed: {0}")]
    Malformed(String),
    #[error("the OAuth parameter {0} is missing")]
    Missing(&'static str),
    #[error("the OAuth parameter {0} appears more than once")]
    Duplicate(String),
    #[error("the OAuth parameter {0} is not supported")]
    UnsupportedParameter(String),
    #[error("the signature method {0} is not supported; only HMAC-SHA1 is")]
    UnsupportedSignatureMethod(String),
    #[error("the OAuth signature does not match")]
    BadSignature,
}

impl OAuthError {
    /// 401 for a wrong signature, 400 for everything else.
    pub fn http_status(&self) -> u16 {
        match self {
            OAuthError::BadSignature => 401,
            _ => 400,
        }
    }
}

/// The four credentials, borrowed. `Debug` shows only the consumer key.
#[derive(Clone, Copy)]
pub struct Keys<'a> {
    pub consumer_key: &'a str,
    pub consumer_secret: &'a str,
    pub token: &'a str,
    pub token_secret: &'a str,
}

impl std::fmt::Debug for Keys<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys").field("consumer_key", &self.consumer_key).finish_non_exhaustive()
    }
}

/// RFC 3986 percent-encoding as OAuth requires.
pub fn encode(s: &str) -> String {
    utf8_percent_encode(s, ENCODE).to_string()
}

/// RFC 5849 §3.4.1.2 base string URI: lower-case scheme and host, default port removed,
/// query and fragment dropped, empty path becomes `/`.
pub fn normalize_url(url: &str) -> String {
    let url = url.split(['?', '#']).next().unwrap_or(url);
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let scheme = scheme.to_ascii_lowercase();
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let mut authority = authority.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => Some(":443"),
        "http" => Some(":80"),
        _ => None,
    };
    if let Some(port) = default_port
        && authority.ends_with(port)
    {
        authority.truncate(authority.len() - port.len());
    }
    format!("{scheme}://{authority}{path}")
}

/// RFC 5849 §3.4.1 signature base string. `params` are the request's OAuth parameters without
/// `oauth_signature` and `realm` (DEP's `/session` has no query or body parameters).
pub fn signature_base_string(method: &str, url: &str, params: &[(&str, &str)]) -> String {
    let mut pairs: Vec<(String, String)> =
        params.iter().map(|(k, v)| (encode(k), encode(v))).collect();
    pairs.sort();
    let normalized: Vec<String> = pairs.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        encode(&normalize_url(url)),
        encode(&normalized.join("&"))
    )
}

/// The HMAC key: `pct(consumer_secret)&pct(token_secret)`.
pub fn signing_key(consumer_secret: &str, token_secret: &str) -> Secret<String> {
    Secret::new(format!("{}&{}", encode(consumer_secret), encode(token_secret)))
}

/// base64(HMAC-SHA1(key, base string)).
pub fn sign(base_string: &str, consumer_secret: &str, token_secret: &str) -> String {
    use base64ct::{Base64, Encoding};
    let key = signing_key(consumer_secret, token_secret);
    let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(key.expose().as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(base_string.as_bytes());
    Base64::encode_string(&mac.finalize().into_bytes())
}

/// The `Authorization` header value for `method url` (in practice `GET <base>/session`).
/// It carries the access token, hence `Secret`.
pub fn authorization_header(
    method: &str,
    url: &str,
    keys: &Keys<'_>,
    timestamp: u64,
    nonce: &str,
    realm: Option<&str>,
) -> Secret<String> {
    let timestamp = timestamp.to_string();
    let params = [
        ("oauth_consumer_key", keys.consumer_key),
        ("oauth_token", keys.token),
        ("oauth_signature_method", SIGNATURE_METHOD),
        ("oauth_timestamp", timestamp.as_str()),
        ("oauth_nonce", nonce),
        ("oauth_version", VERSION),
    ];
    let base = signature_base_string(method, url, &params);
    let signature = sign(&base, keys.consumer_secret, keys.token_secret);
    // Apple's documented order (dep-api.md §2.1); order does not matter to a parser.
    let ordered = [
        ("oauth_consumer_key", keys.consumer_key),
        ("oauth_token", keys.token),
        ("oauth_signature_method", SIGNATURE_METHOD),
        ("oauth_signature", signature.as_str()),
        ("oauth_timestamp", timestamp.as_str()),
        ("oauth_nonce", nonce),
        ("oauth_version", VERSION),
    ];
    let mut parts: Vec<String> = Vec::with_capacity(8);
    if let Some(realm) = realm {
        parts.push(format!("realm=\"{}\"", encode(realm)));
    }
    parts.extend(ordered.iter().map(|(k, v)| format!("{k}=\"{}\"", encode(v))));
    Secret::new(format!("OAuth {}", parts.join(", ")))
}

/// A parsed OAuth `Authorization` header (values percent-decoded).
#[derive(Clone, PartialEq, Eq)]
pub struct Authorization {
    pub realm: Option<String>,
    params: BTreeMap<String, String>,
}

impl std::fmt::Debug for Authorization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authorization")
            .field("realm", &self.realm)
            .field("consumer_key", &self.consumer_key())
            .field("timestamp", &self.timestamp())
            .finish_non_exhaustive()
    }
}

impl Authorization {
    /// Parses `OAuth realm="…", oauth_…="…", …`. Checks the shape Apple checks before the
    /// signature: every required parameter present once, no unknown `oauth_*` parameter,
    /// HMAC-SHA1, numeric timestamp, version `1.0` if given.
    pub fn parse(header: &str) -> Result<Self, OAuthError> {
        if header.len() > MAX_HEADER_LEN {
            return Err(OAuthError::TooLong);
        }
        let header = header.trim();
        let rest = match header.split_once(|c: char| c.is_ascii_whitespace()) {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("OAuth") => rest,
            _ => return Err(OAuthError::NotOAuth),
        };
        let mut realm = None;
        let mut params = BTreeMap::new();
        for (name, raw) in split_params(rest)? {
            let value = percent_decode_str(raw)
                .decode_utf8()
                .map_err(|_| OAuthError::Malformed(format!("{name} is not valid UTF-8")))?
                .into_owned();
            if name == "realm" {
                if realm.replace(value).is_some() {
                    return Err(OAuthError::Duplicate(name.to_owned()));
                }
                continue;
            }
            if !name.starts_with("oauth_") {
                continue; // RFC 5849 §3.5.1: other parameters are not OAuth's business
            }
            if !REQUIRED.contains(&name) && name != "oauth_version" {
                return Err(OAuthError::UnsupportedParameter(name.to_owned()));
            }
            if params.insert(name.to_owned(), value).is_some() {
                return Err(OAuthError::Duplicate(name.to_owned()));
            }
        }
        for name in REQUIRED {
            if !params.contains_key(name) {
                return Err(OAuthError::Missing(name));
            }
        }
        let auth = Authorization { realm, params };
        if auth.signature_method() != SIGNATURE_METHOD {
            return Err(OAuthError::UnsupportedSignatureMethod(auth.signature_method().to_owned()));
        }
        if auth.timestamp().is_none() {
            return Err(OAuthError::Malformed("oauth_timestamp is not a number".into()));
        }
        if auth.version().is_some_and(|v| v != VERSION) {
            return Err(OAuthError::Malformed("oauth_version is not 1.0".into()));
        }
        Ok(auth)
    }

    fn get(&self, name: &str) -> &str {
        self.params.get(name).map(String::as_str).unwrap_or("")
    }

    pub fn consumer_key(&self) -> &str {
        self.get("oauth_consumer_key")
    }
    pub fn token(&self) -> &str {
        self.get("oauth_token")
    }
    pub fn signature_method(&self) -> &str {
        self.get("oauth_signature_method")
    }
    pub fn signature(&self) -> &str {
        self.get("oauth_signature")
    }
    pub fn nonce(&self) -> &str {
        self.get("oauth_nonce")
    }
    /// Unix seconds; `None` only if not numeric (parse already refuses that).
    pub fn timestamp(&self) -> Option<u64> {
        self.get("oauth_timestamp").parse().ok()
    }
    pub fn version(&self) -> Option<&str> {
        self.params.get("oauth_version").map(String::as_str)
    }

    /// Recomputes the signature for `method url` with the given secrets and compares in
    /// constant time. Nonce reuse and timestamp windows are the server's policy, not checked
    /// here.
    pub fn verify(
        &self,
        method: &str,
        url: &str,
        consumer_secret: &str,
        token_secret: &str,
    ) -> Result<(), OAuthError> {
        let signed: Vec<(&str, &str)> = self
            .params
            .iter()
            .filter(|(k, _)| k.as_str() != "oauth_signature")
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let base = signature_base_string(method, url, &signed);
        let expected = sign(&base, consumer_secret, token_secret);
        if bool::from(expected.as_bytes().ct_eq(self.signature().as_bytes())) {
            Ok(())
        } else {
            Err(OAuthError::BadSignature)
        }
    }
}

/// Splits `a="1", b="2"` into raw (still percent-encoded) name/value pairs.
fn split_params(s: &str) -> Result<Vec<(&str, &str)>, OAuthError> {
    let mut out = Vec::new();
    let mut rest = s;
    loop {
        rest = rest.trim_start_matches(|c: char| c == ',' || c.is_ascii_whitespace());
        if rest.is_empty() {
            return Ok(out);
        }
        let eq =
            rest.find('=').ok_or_else(|| OAuthError::Malformed("parameter without =".into()))?;
        let name = rest[..eq].trim();
        if name.is_empty() || name.contains(|c: char| c.is_ascii_whitespace() || c == ',') {
            return Err(OAuthError::Malformed("bad parameter name".into()));
        }
        let after = rest[eq + 1..].trim_start();
        let (value, next) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted
                .find('"')
                .ok_or_else(|| OAuthError::Malformed(format!("{name} has no closing quote")))?;
            (&quoted[..end], &quoted[end + 1..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim_end(), &after[end..])
        };
        let next = next.trim_start();
        if !(next.is_empty() || next.starts_with(',')) {
            return Err(OAuthError::Malformed(format!("unexpected text after {name}")));
        }
        out.push((name, value));
        rest = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://mdmenrollment.apple.com/session";
    const KEYS: Keys<'static> = Keys {
        consumer_key: "CK_test",
        consumer_secret: "CS_test",
        token: "AT_test",
        token_secret: "AS_test",
    };

    /// dep-api.md §2.1 test vector.
    #[test]
    fn spec_vector_base_string_key_and_signature() {
        let params = [
            ("oauth_consumer_key", "CK_test"),
            ("oauth_token", "AT_test"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "1700000000"),
            ("oauth_nonce", "abc123"),
            ("oauth_version", "1.0"),
        ];
        let base = signature_base_string("GET", URL, &params);
        assert_eq!(
            base,
            "GET&https%3A%2F%2Fmdmenrollment.apple.com%2Fsession&oauth_consumer_key%3DCK_test%26oauth_nonce%3Dabc123%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1700000000%26oauth_token%3DAT_test%26oauth_version%3D1.0"
        );
        assert_eq!(signing_key("CS_test", "AS_test").expose(), "CS_test&AS_test");
        assert_eq!(sign(&base, "CS_test", "AS_test"), "U3/4pSzzE3SgMbm6snkJVi8lxxU=");
    }

    #[test]
    fn spec_vector_header_form() {
        let h = authorization_header("GET", URL, &KEYS, 1_700_000_000, "abc123", None);
        assert_eq!(
            h.expose(),
            "OAuth oauth_consumer_key=\"CK_test\", oauth_token=\"AT_test\", \
             oauth_signature_method=\"HMAC-SHA1\", oauth_signature=\"U3%2F4pSzzE3SgMbm6snkJVi8lxxU%3D\", \
             oauth_timestamp=\"1700000000\", oauth_nonce=\"abc123\", oauth_version=\"1.0\""
        );
        let with_realm =
            authorization_header("GET", URL, &KEYS, 1_700_000_000, "abc123", Some("ADM"));
        assert!(with_realm.expose().starts_with("OAuth realm=\"ADM\", oauth_consumer_key="));
        assert!(
            with_realm.expose().contains("U3%2F4pSzzE3SgMbm6snkJVi8lxxU%3D"),
            "realm not signed"
        );
    }

    /// RFC 5849 §1.2 / OAuth Core 1.0 photos.example.net vector (crates.md Q11).
    #[test]
    fn rfc_photos_vector() {
        let keys = Keys {
            consumer_key: "dpf43f3p2l4k3l03",
            consumer_secret: "kd94hf93k423kf44",
            token: "nnch734d00sl2jdk",
            token_secret: "pfkkdhi9sl3r4s00",
        };
        let mut params = vec![
            ("oauth_consumer_key", keys.consumer_key),
            ("oauth_token", keys.token),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "1191242096"),
            ("oauth_nonce", "kllo9940pd9333jh"),
            ("oauth_version", "1.0"),
        ];
        params.extend([("file", "vacation.jpg"), ("size", "original")]);
        let base = signature_base_string("GET", "http://photos.example.net/photos", &params);
        assert_eq!(
            sign(&base, keys.consumer_secret, keys.token_secret),
            "tR3+Ty81lMeYAr/Fid0kMTYa/WM="
        );
    }

    #[test]
    fn parses_and_verifies_own_header_with_and_without_realm() {
        for realm in [None, Some("ADM")] {
            let h = authorization_header("GET", URL, &KEYS, 1_700_000_000, "n-1", realm);
            let a = Authorization::parse(h.expose()).unwrap();
            assert_eq!(a.realm.as_deref(), realm);
            assert_eq!(a.consumer_key(), "CK_test");
            assert_eq!(a.token(), "AT_test");
            assert_eq!(a.nonce(), "n-1");
            assert_eq!(a.timestamp(), Some(1_700_000_000));
            assert_eq!(a.signature(), sign_expected(realm));
            a.verify("GET", URL, "CS_test", "AS_test").unwrap();
        }
    }

    /// nonce `n-1` changes the signature; realm must not.
    fn sign_expected(_realm: Option<&str>) -> String {
        let params = [
            ("oauth_consumer_key", "CK_test"),
            ("oauth_token", "AT_test"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "1700000000"),
            ("oauth_nonce", "n-1"),
            ("oauth_version", "1.0"),
        ];
        sign(&signature_base_string("GET", URL, &params), "CS_test", "AS_test")
    }

    #[test]
    fn verify_normalises_host_case_and_default_port() {
        let h = authorization_header(
            "GET",
            "https://MDMenrollment.apple.com:443/session",
            &KEYS,
            1,
            "n",
            None,
        );
        let a = Authorization::parse(h.expose()).unwrap();
        a.verify("GET", URL, "CS_test", "AS_test").unwrap();
        let h = authorization_header("GET", "https://127.0.0.1:8443/session", &KEYS, 1, "n", None);
        let a = Authorization::parse(h.expose()).unwrap();
        assert_eq!(
            a.verify("GET", "https://127.0.0.1/session", "CS_test", "AS_test"),
            Err(OAuthError::BadSignature)
        );
        a.verify("GET", "https://127.0.0.1:8443/session", "CS_test", "AS_test").unwrap();
    }

    #[test]
    fn rejects_wrong_secret_or_tampered_parameter() {
        let h = authorization_header("GET", URL, &KEYS, 1_700_000_000, "abc123", None);
        let a = Authorization::parse(h.expose()).unwrap();
        assert_eq!(a.verify("GET", URL, "CS_test", "AS_wrong"), Err(OAuthError::BadSignature));
        assert_eq!(a.verify("GET", URL, "CS_wrong", "AS_test"), Err(OAuthError::BadSignature));
        let tampered = h.expose().replace("1700000000", "1700000001");
        let t = Authorization::parse(&tampered).unwrap();
        assert_eq!(t.verify("GET", URL, "CS_test", "AS_test"), Err(OAuthError::BadSignature));
        assert_eq!(OAuthError::BadSignature.http_status(), 401);
    }

    #[test]
    fn rejects_malformed_headers_with_400() {
        let good = authorization_header("GET", URL, &KEYS, 1, "n", None);
        let good = good.expose();
        let cases = [
            ("Basic dXNlcjpwYXNz".to_owned(), OAuthError::NotOAuth),
            (
                good.replace("HMAC-SHA1", "PLAINTEXT"),
                OAuthError::UnsupportedSignatureMethod("PLAINTEXT".into()),
            ),
            (good.replace(", oauth_nonce=\"n\"", ""), OAuthError::Missing("oauth_nonce")),
            (format!("{good}, oauth_nonce=\"m\""), OAuthError::Duplicate("oauth_nonce".into())),
            (
                format!("{good}, oauth_callback=\"oob\""),
                OAuthError::UnsupportedParameter("oauth_callback".into()),
            ),
            (
                good.replace("oauth_timestamp=\"1\"", "oauth_timestamp=\"soon\""),
                OAuthError::Malformed("oauth_timestamp is not a number".into()),
            ),
            (
                good.replace("oauth_version=\"1.0\"", "oauth_version=\"2.0\""),
                OAuthError::Malformed("oauth_version is not 1.0".into()),
            ),
        ];
        for (header, want) in cases {
            let got = Authorization::parse(&header).unwrap_err();
            assert_eq!(got, want, "{header}");
            assert_eq!(got.http_status(), 400);
        }
        assert_eq!(Authorization::parse(&"OAuth a=\"b\", ".repeat(2000)), Err(OAuthError::TooLong));
        assert!(matches!(
            Authorization::parse("OAuth oauth_nonce=\"unterminated"),
            Err(OAuthError::Malformed(_))
        ));
        assert!(matches!(Authorization::parse("OAuth justtext"), Err(OAuthError::Malformed(_))));
        assert!(matches!(
            Authorization::parse("OAuth oauth_nonce=%FF%FE"),
            Err(OAuthError::Malformed(_))
        ));
    }

    #[test]
    fn accepts_unquoted_values_and_missing_version() {
        let h = authorization_header("GET", URL, &KEYS, 1_700_000_000, "abc123", None);
        let no_version = h.expose().replace(", oauth_version=\"1.0\"", "");
        let a = Authorization::parse(&no_version).unwrap();
        assert_eq!(a.version(), None);
        // Signed with version, verified without: must fail, the base strings differ.
        assert_eq!(a.verify("GET", URL, "CS_test", "AS_test"), Err(OAuthError::BadSignature));
        let unquoted = h.expose().replace('"', "");
        Authorization::parse(&unquoted).unwrap().verify("GET", URL, "CS_test", "AS_test").unwrap();
    }

    #[test]
    fn debug_output_holds_no_secrets() {
        let h = authorization_header("GET", URL, &KEYS, 1, "n", None);
        assert_eq!(format!("{h:?}"), "[redacted]");
        let a = Authorization::parse(h.expose()).unwrap();
        let dbg = format!("{a:?} {KEYS:?}");
        assert!(!dbg.contains("AT_test") && !dbg.contains("CS_test") && !dbg.contains("AS_test"));
    }

    #[test]
    fn encodes_reserved_characters() {
        assert_eq!(encode("a b+c/=~._-"), "a%20b%2Bc%2F%3D~._-");
        assert_eq!(normalize_url("HTTPS://Example.COM"), "https://example.com/");
        assert_eq!(normalize_url("http://h:80/p?q=1"), "http://h/p");
    }
}
