//! The decrypted text of a server token (../shared/spec/dep-api.md §1.5–§1.6): MIME headers
//! (CRLF), a blank line, optional `-----BEGIN MESSAGE-----` / `-----END MESSAGE-----` markers
//! (LF), and one JSON object, possibly hard-wrapped (Apple's documentation example wraps it at
//! 78 columns without markers).
//!
//! Reading tolerates unknown extra JSON keys and checks each credential's shape loosely (its
//! `CK_`/`CS_`/`AT_`/`AS_` prefix, no spaces or control characters): Apple documents no exact
//! lengths, and being strict here would only risk refusing a valid token.

use super::{OAuthCredentials, ServerTokenError};
use crate::crypto::Secret;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use zeroize::Zeroizing;

const BEGIN: &str = "-----BEGIN MESSAGE-----";
const END: &str = "-----END MESSAGE-----";

/// Longest credential value accepted (the longest real one, `consumer_key`, is 99 bytes).
const MAX_VALUE: usize = 1024;

#[derive(Deserialize)]
struct Wire {
    consumer_key: String,
    consumer_secret: Secret<String>,
    access_token: Secret<String>,
    access_secret: Secret<String>,
    access_token_expiry: String,
}

/// The JSON in Apple's field order; serialised compactly it is byte-identical to a real token.
#[derive(Serialize)]
struct WireOut<'a> {
    consumer_key: &'a str,
    consumer_secret: &'a str,
    access_token: &'a str,
    access_secret: &'a str,
    access_token_expiry: &'a str,
}

/// The credentials in a decrypted token text.
pub(super) fn parse(plaintext: &[u8]) -> Result<OAuthCredentials, ServerTokenError> {
    let text = std::str::from_utf8(plaintext)
        .map_err(|_| bad_content("the decrypted text is not UTF-8"))?;
    let body = strip_headers(text);
    let inner = match (body.find(BEGIN), body.find(END)) {
        // The markers share dashes, so "BEGIN" can end after "END" starts: compare the end
        // of BEGIN, not its start (found by the fuzz run).
        (Some(b), Some(e)) if b + BEGIN.len() <= e => &body[b + BEGIN.len()..e],
        (None, None) => body,
        _ => return Err(bad_content("its BEGIN/END MESSAGE markers do not pair up")),
    };
    // Hard-wrapped JSON: line breaks were inserted, never meaningful (§1.5).
    let json: Zeroizing<String> =
        Zeroizing::new(inner.chars().filter(|c| !matches!(c, '\r' | '\n')).collect());
    let wire: Wire = serde_json::from_str(json.trim())
        .map_err(|e| bad_content(&format!("the JSON inside cannot be read: {e}")))?;

    check_shape("consumer_key", &wire.consumer_key, "CK_")?;
    check_shape("consumer_secret", wire.consumer_secret.expose(), "CS_")?;
    check_shape("access_token", wire.access_token.expose(), "AT_")?;
    check_shape("access_secret", wire.access_secret.expose(), "AS_")?;
    let access_token_expiry = OffsetDateTime::parse(&wire.access_token_expiry, &Rfc3339)
        .map_err(|_| bad_content("its access_token_expiry is not an RFC 3339 date"))?;

    Ok(OAuthCredentials {
        consumer_key: wire.consumer_key,
        consumer_secret: wire.consumer_secret,
        access_token: wire.access_token,
        access_secret: wire.access_secret,
        access_token_expiry,
    })
}

/// The text Apple encrypts: CRLF headers, LF body, BEGIN/END markers, one-line JSON, final LF.
pub(super) fn render(creds: &OAuthCredentials) -> Zeroizing<String> {
    let expiry = format_expiry(creds.access_token_expiry);
    let json = Zeroizing::new(
        serde_json::to_string(&WireOut {
            consumer_key: &creds.consumer_key,
            consumer_secret: creds.consumer_secret.expose(),
            access_token: creds.access_token.expose(),
            access_secret: creds.access_secret.expose(),
            access_token_expiry: &expiry,
        })
        .expect("a struct of strings always serialises"),
    );
    Zeroizing::new(format!(
        "Content-Type: text/plain;charset=UTF-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n\
         {BEGIN}\n{}\n{END}\n",
        json.as_str()
    ))
}

/// `2026-01-17T11:02:21Z`: UTC, whole seconds, `Z`, as Apple writes it (§1.6).
pub(super) fn format_expiry(t: OffsetDateTime) -> String {
    let utc = t.to_offset(time::UtcOffset::UTC);
    utc.format(format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z"))
        .expect("a UTC date in years 0..=9999 always formats")
}

/// Drops a leading MIME header block (up to the first blank line) when the text has one.
fn strip_headers(text: &str) -> &str {
    if !super::is_header_line(text.lines().next().unwrap_or_default()) {
        return text;
    }
    for sep in ["\r\n\r\n", "\n\n"] {
        if let Some(i) = text.find(sep) {
            return &text[i + sep.len()..];
        }
    }
    text
}

fn check_shape(field: &str, value: &str, prefix: &str) -> Result<(), ServerTokenError> {
    let ok = value.len() > prefix.len()
        && value.len() <= MAX_VALUE
        && value.starts_with(prefix)
        && value.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(())
    } else {
        // The value itself stays out of the message: it may be a secret.
        Err(bad_content(&format!("its {field} does not look like an Apple credential ({prefix}…)")))
    }
}

fn bad_content(detail: &str) -> ServerTokenError {
    ServerTokenError::BadContent { detail: detail.to_string() }
}
