//! What `adebox inspect token` prints: the credentials as JSON, secrets masked unless asked,
//! with the issue time Apple encodes in the access token and whether the token has expired.

use super::OAuthCredentials;
use super::plaintext::format_expiry;
use crate::crypto::Secret;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The token as JSON: `consumer_key`, the three secrets (masked like `CS_81…9c457 (masked)`
/// unless `show_secrets`), `access_token_expiry`, `issued_at` (from the access token, or null)
/// and `expired` (at `now`).
pub fn inspect_json(creds: &OAuthCredentials, show_secrets: bool, now: OffsetDateTime) -> Value {
    let secret = |s: &Secret<String>| {
        if show_secrets { s.expose().clone() } else { mask(s.expose()) }
    };
    json!({
        "consumer_key": creds.consumer_key,
        "consumer_secret": secret(&creds.consumer_secret),
        "access_token": secret(&creds.access_token),
        "access_secret": secret(&creds.access_secret),
        "access_token_expiry": format_expiry(creds.access_token_expiry),
        "issued_at": issued_at(creds).and_then(|t| t.format(&Rfc3339).ok()),
        "expired": now >= creds.access_token_expiry,
    })
}

/// When Apple issued the token: the access token is `AT_O<digits>O<hex>O<epoch-ms>` and its
/// last field is the issue time (../shared/spec/dep-api.md §1.6). `None` when the token does
/// not have that shape or the time is implausible (Apple documents none of this).
pub fn issued_at(creds: &OAuthCredentials) -> Option<OffsetDateTime> {
    let token = creds.access_token.expose();
    let rest = token.strip_prefix("AT_O")?;
    let millis = rest.rsplit('O').next().filter(|m| *m != rest)?;
    if millis.is_empty() || millis.len() > 15 || !millis.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let millis: i128 = millis.parse().ok()?;
    let t = OffsetDateTime::from_unix_timestamp_nanos(millis * 1_000_000).ok()?;
    (2000..=2100).contains(&t.year()).then_some(t)
}

/// The prefix and two more characters, an ellipsis, and the last five characters: enough to
/// tell two tokens apart, far too little to use one.
fn mask(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() >= 16 {
        let head: String = chars[..5].iter().collect();
        let tail: String = chars[chars.len() - 5..].iter().collect();
        format!("{head}…{tail} (masked)")
    } else {
        let head: String = chars.iter().take(3).collect();
        format!("{head}… (masked)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_the_prefix_and_a_short_tail_only() {
        assert_eq!(mask("CS_810bb5ab05e53becb3bfbe40b3608a0c9039c457"), "CS_81…9c457 (masked)");
        assert_eq!(mask("AS_short"), "AS_… (masked)");
        assert_eq!(mask(""), "… (masked)");
    }
}
