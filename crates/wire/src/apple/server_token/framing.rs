//! The S/MIME wrapping around a server token's CMS bytes (../shared/spec/dep-api.md §1.3).
//!
//! Reading is lenient about what an admin may upload: Apple's file (four headers, LF line
//! endings), the same with CRLF, `openssl smime` output (`MIME-Version`,
//! `application/x-pkcs7-mime`, 64-column base64), folded header lines, the bare base64 body,
//! a `-----BEGIN PKCS7-----` PEM, or the raw DER/BER. Writing reproduces Apple's bytes exactly.

use super::{MAX_TOKEN_FILE, ServerTokenError};
use base64ct::{Base64, Encoding};

/// How the CMS bytes were wrapped: decides whether a CMS parse failure means "damaged token"
/// (it claimed to be S/MIME) or "not a token at all".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Framing {
    Smime,
    Base64,
    Binary,
}

/// Apple's four headers, in Apple's order, LF line endings (§1.3).
const APPLE_HEADERS: &str = "Content-Type: application/pkcs7-mime; name=\"smime.p7m\"; \
smime-type=enveloped-data\n\
Content-Transfer-Encoding: base64\n\
Content-Disposition: attachment; filename=\"smime.p7m\"\n\
Content-Description: S/MIME Encrypted Message\n\n";

/// Base64 line length in Apple's tokens (the MIME maximum).
const LINE: usize = 76;

/// The S/MIME file Apple would send for `cms`: headers, blank line, 76-column base64, final LF.
pub(super) fn wrap(cms: &[u8]) -> Vec<u8> {
    let b64 = Base64::encode_string(cms);
    let mut out = String::with_capacity(APPLE_HEADERS.len() + b64.len() * 78 / 76 + 2);
    out.push_str(APPLE_HEADERS);
    for line in b64.as_bytes().chunks(LINE) {
        // Base64 output is ASCII, so every 76-byte chunk is valid UTF-8.
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.into_bytes()
}

/// The CMS bytes inside an uploaded file, and how they were wrapped.
pub(super) fn unwrap(file: &[u8]) -> Result<(Vec<u8>, Framing), ServerTokenError> {
    if file.len() > MAX_TOKEN_FILE {
        return Err(ServerTokenError::TooLarge { len: file.len() });
    }
    let file = file.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(file);
    let start = file.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(file.len());
    let content = &file[start..];
    let Some(&first) = content.first() else {
        return Err(ServerTokenError::Empty);
    };
    if first == 0x30 {
        return Ok((content.to_vec(), Framing::Binary));
    }
    let Ok(text) = std::str::from_utf8(content) else {
        return Err(not_a_token(""));
    };
    if let Some(rest) = text.strip_prefix("-----BEGIN ") {
        return unwrap_pem(rest);
    }
    if first == b'{' {
        return Err(not_a_token(
            " — this looks like JSON, perhaps the decrypted contents; upload the .p7m file itself",
        ));
    }
    // Base64 never contains ':', so a bare base64 body is never mistaken for headers.
    if super::is_header_line(text.lines().next().unwrap_or_default()) {
        return unwrap_mime(text);
    }
    if text.bytes().all(|b| is_base64_byte(b) || b.is_ascii_whitespace()) {
        // A real token's base64 is about 1,300 characters: a short word that happens to use
        // only base64 letters is not a damaged token, it is not a token.
        if text.trim().len() < 200 {
            return Err(not_a_token(""));
        }
        return Ok((decode_base64(text)?, Framing::Base64));
    }
    Err(not_a_token(""))
}

fn not_a_token(hint: &str) -> ServerTokenError {
    ServerTokenError::NotAToken { hint: hint.to_string() }
}

fn damaged(detail: &str) -> ServerTokenError {
    ServerTokenError::Damaged { detail: detail.to_string() }
}

fn unwrap_pem(after_begin: &str) -> Result<(Vec<u8>, Framing), ServerTokenError> {
    let label = after_begin.split("-----").next().unwrap_or_default();
    match label {
        "PKCS7" | "CMS" => {
            let body = after_begin
                .get(label.len() + "-----".len()..)
                .unwrap_or_default()
                .split("-----END ")
                .next()
                .unwrap_or_default();
            Ok((decode_base64(body)?, Framing::Smime))
        }
        "CERTIFICATE" => Err(not_a_token(
            " — this is a certificate: the public key you upload to Apple Business Manager, not \
             the token you download from it",
        )),
        l if l.ends_with("PRIVATE KEY") => Err(not_a_token(
            " — this is a private key; upload the token (.p7m) here and keep the key secret",
        )),
        _ => Err(not_a_token("")),
    }
}

fn unwrap_mime(text: &str) -> Result<(Vec<u8>, Framing), ServerTokenError> {
    let text = text.replace("\r\n", "\n");
    let Some((head, body)) = text.split_once("\n\n") else {
        return Err(damaged("the file ends after its headers"));
    };
    let headers = parse_headers(head);
    let header = |name: &str| {
        headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    };

    let content_type = header("Content-Type").unwrap_or_default();
    let mime_type = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    if mime_type != "application/pkcs7-mime" && mime_type != "application/x-pkcs7-mime" {
        let shown: String = mime_type.chars().take(60).collect();
        return Err(not_a_token(&format!(" — its Content-Type is \"{shown}\"")));
    }
    // The smime-type parameter is optional; when present it must say enveloped-data (a
    // signed-data file is a signed message, not a token).
    let lower = content_type.to_ascii_lowercase();
    let kind = lower
        .split(';')
        .find_map(|p| p.trim().strip_prefix("smime-type="))
        .map(|k| k.trim_matches('"'));
    if let Some(kind) = kind.filter(|k| *k != "enveloped-data") {
        let shown: String = kind.chars().take(40).collect();
        return Err(not_a_token(&format!(" — it is an S/MIME {shown} message")));
    }
    let encoding =
        header("Content-Transfer-Encoding").unwrap_or("base64").trim().to_ascii_lowercase();
    match encoding.as_str() {
        "base64" => Ok((decode_base64(body)?, Framing::Smime)),
        "binary" => Ok((body.as_bytes().to_vec(), Framing::Smime)),
        _ => Err(damaged("its Content-Transfer-Encoding is not base64")),
    }
}

/// Header lines into (name, value) pairs, joining folded continuation lines.
fn parse_headers(head: &str) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = headers.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_string(), value.trim().to_string()));
        }
    }
    headers
}

fn is_base64_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'='
}

/// Standard base64 with '=' padding, ignoring all whitespace (line breaks of any width).
fn decode_base64(body: &str) -> Result<Vec<u8>, ServerTokenError> {
    let compact: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if compact.is_empty() {
        return Err(damaged("it has no content after the headers"));
    }
    if let Some(bad) = compact.bytes().find(|b| !is_base64_byte(*b)) {
        return Err(damaged(&format!(
            "it contains {:?}, which base64 does not use",
            char::from(bad)
        )));
    }
    Base64::decode_vec(&compact).map_err(|_| damaged("its base64 text is cut short or garbled"))
}
