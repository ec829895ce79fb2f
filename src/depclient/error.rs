//! `DepError`: every way a DEP call can fail, classified from status + body code
//! (../shared/spec/dep-api.md §2.3, §3, §3.4), with plain-words admin messages.
//!
//! Nothing here holds a secret: error bodies are reduced to a short excerpt with control
//! characters removed and any known secret (session token, token credentials) blanked before
//! they are stored.

use crate::apple::dep::DepErrorCode;
use std::time::Duration;
use time::OffsetDateTime;

/// Longest body excerpt kept in an error.
const EXCERPT_CHARS: usize = 120;

/// A failed DEP call. `Display` is the admin message.
#[derive(Clone, Debug, thiserror::Error)]
pub enum DepError {
    /// The token's `access_token_expiry` is in the past; Apple was not asked.
    TokenExpired { expired: OffsetDateTime },
    /// `/session` refused the credentials without a code we know (bad consumer key, token or
    /// signature, used nonce: §2.3).
    AuthenticationFailed { status: u16 },
    /// `token_rejected` / `signature_invalid`: revoked, or superseded by a newer download.
    TokenRejected { code: DepErrorCode },
    /// `T_C_NOT_SIGNED`: the organisation must accept new terms in ABM.
    TermsNotSigned,
    /// `ACCESS_DENIED`.
    AccessDenied,
    /// Still 401 (or 403 `FORBIDDEN`) after one fresh sign-in.
    Unauthorized,
    /// `USER_AGENT_MISSING` / `USER_AGENT_INVALID`.
    UserAgentRejected { code: DepErrorCode },
    /// `EXHAUSTED_CURSOR`: the fetch is complete; continue with sync on the same cursor.
    CursorExhausted,
    /// `EXPIRED_CURSOR`: older than 7 days; start a full fetch.
    CursorExpired,
    /// `INVALID_CURSOR`: start a full fetch.
    CursorInvalid,
    /// `CURSOR_REQUIRED`.
    CursorRequired,
    /// `DEVICE_ID_REQUIRED`.
    DeviceIdRequired,
    /// `PROFILE_UUID_REQUIRED`.
    ProfileUuidRequired,
    /// `NOT_FOUND`, `DEVICE_NOT_FOUND`, `PROFILE_NOT_FOUND`, or a plain 404.
    NotFound { code: Option<DepErrorCode> },
    /// A profile field Apple refused (`CONFIG_NAME_INVALID`, `FLAGS_INVALID`, …).
    ProfileInvalid { code: DepErrorCode },
    /// `MALFORMED_REQUEST_BODY`.
    MalformedRequest,
    /// Any other refusal: a known code without its own variant (`ORG_NOT_SUPPORTED`, …) or a
    /// short plain-text code this version does not know.
    Refused { status: u16, code: Option<DepErrorCode>, excerpt: String },
    /// 5xx or 429: try again later, after `retry_after` if Apple said.
    Retryable { status: u16, retry_after: Option<Duration> },
    /// No complete answer within the request timeout.
    Timeout,
    /// The connection failed (DNS, TCP, TLS, reset).
    Transport(String),
    /// Apple answered something that is not a DEP answer: HTML, garbage, a redirect, a body
    /// that is not the expected JSON, or one too large.
    BadResponse { status: u16, excerpt: String },
    /// adebox was asked to send something Apple documents as not allowed (e.g. > 1000 serials).
    InvalidArgument(String),
}

impl std::fmt::Display for DepError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.admin_message())
    }
}

impl DepError {
    /// Worth trying again later with backoff: 5xx, 429, timeouts and connection failures.
    pub fn is_retryable(&self) -> bool {
        matches!(self, DepError::Retryable { .. } | DepError::Timeout | DepError::Transport(_))
    }

    /// How long Apple asked us to wait (`Retry-After`), if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            DepError::Retryable { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The Apple error code behind this error, if there was one.
    pub fn code(&self) -> Option<DepErrorCode> {
        use DepErrorCode as C;
        match self {
            DepError::TokenRejected { code }
            | DepError::UserAgentRejected { code }
            | DepError::ProfileInvalid { code } => Some(*code),
            DepError::NotFound { code } | DepError::Refused { code, .. } => *code,
            DepError::TermsNotSigned => Some(C::TermsNotSigned),
            DepError::AccessDenied => Some(C::AccessDenied),
            DepError::CursorExhausted => Some(C::ExhaustedCursor),
            DepError::CursorExpired => Some(C::ExpiredCursor),
            DepError::CursorInvalid => Some(C::InvalidCursor),
            DepError::CursorRequired => Some(C::CursorRequired),
            DepError::DeviceIdRequired => Some(C::DeviceIdRequired),
            DepError::ProfileUuidRequired => Some(C::ProfileUuidRequired),
            DepError::MalformedRequest => Some(C::MalformedRequestBody),
            _ => None,
        }
    }

    /// What went wrong and what to do, in plain words.
    pub fn admin_message(&self) -> String {
        if let Some(code) = self.code() {
            return code.admin_message().to_owned();
        }
        match self {
            DepError::TokenExpired { expired } => format!(
                "This server token expired on {}. Download a new server token for this MDM server in Apple Business Manager and renew the token in adebox.",
                crate::apple::dep::time_format::format(*expired)
            ),
            DepError::AuthenticationFailed { status } => format!(
                "Apple refused to sign in with this server token (HTTP {status}): the token is no longer valid or was replaced. Download the current server token from Apple Business Manager and renew the token in adebox; if it was just renewed, check the appliance's clock."
            ),
            DepError::Unauthorized => "Apple refused the session even after signing in again. Renew the server token (download it again from Apple Business Manager); if it persists, check the appliance's clock.".to_owned(),
            DepError::NotFound { .. } => "Apple answered that the requested item does not exist for this MDM server. Check the serial number or profile and try again.".to_owned(),
            DepError::Refused { status, excerpt, .. } => format!(
                "Apple refused the request (HTTP {status}, \"{excerpt}\"). If it persists, report it with this message."
            ),
            DepError::Retryable { status, retry_after } => match retry_after {
                Some(wait) => format!(
                    "Apple's service is busy or unavailable (HTTP {status}); adebox tries again in {} s. Nothing to do unless it lasts for hours.",
                    wait.as_secs()
                ),
                None => format!(
                    "Apple's service is busy or unavailable (HTTP {status}); adebox tries again later. Nothing to do unless it lasts for hours."
                ),
            },
            DepError::Timeout => "Apple's service did not answer in time; adebox tries again later. If it keeps happening, check the network path to Apple (proxy, firewall).".to_owned(),
            DepError::Transport(detail) => format!(
                "adebox could not reach Apple's service ({detail}). Check DNS, the firewall, the proxy (outbound.proxy or HTTPS_PROXY, when one is named above) and outbound HTTPS (port 443) from this appliance."
            ),
            DepError::BadResponse { status, excerpt } => format!(
                "Apple's service gave an answer adebox cannot read (HTTP {status}, starting \"{excerpt}\"). This usually means a proxy or captive portal is in the way, or the service URL is wrong; check the network path and the token's service URL."
            ),
            DepError::InvalidArgument(what) => format!("adebox did not send this request: {what}."),
            // Covered by the code branch above.
            _ => "Apple refused the request.".to_owned(),
        }
    }
}

/// Turns a non-2xx answer into a typed error. `secrets` are blanked from any excerpt.
/// 401 and 403 `FORBIDDEN` reach here only after the client's one re-authentication.
pub(crate) fn classify(
    status: u16,
    body: &[u8],
    retry_after: Option<Duration>,
    secrets: &[&str],
) -> DepError {
    if status == 429 || status >= 500 {
        return DepError::Retryable { status, retry_after };
    }
    let text = String::from_utf8_lossy(body);
    if let Some(code) = DepErrorCode::parse(&text) {
        return from_code(status, code, excerpt(body, secrets));
    }
    let plain = is_plain_code_text(body);
    match status {
        401 if plain => DepError::Unauthorized,
        404 if plain => DepError::NotFound { code: None },
        400..=499 if plain => {
            DepError::Refused { status, code: None, excerpt: excerpt(body, secrets) }
        }
        _ => DepError::BadResponse { status, excerpt: excerpt(body, secrets) },
    }
}

/// Classifies a failed `GET /session`: like [`classify`], but a 400/401 without a known code
/// means the credentials were refused.
pub(crate) fn classify_session(
    status: u16,
    body: &[u8],
    retry_after: Option<Duration>,
    secrets: &[&str],
) -> DepError {
    match classify(status, body, retry_after, secrets) {
        DepError::Unauthorized | DepError::Refused { code: None, .. } if status < 500 => {
            DepError::AuthenticationFailed { status }
        }
        DepError::NotFound { code: None } => {
            DepError::BadResponse { status, excerpt: excerpt(body, secrets) }
        }
        other => other,
    }
}

fn from_code(status: u16, code: DepErrorCode, excerpt: String) -> DepError {
    use DepErrorCode as C;
    match code {
        C::ExhaustedCursor => DepError::CursorExhausted,
        C::ExpiredCursor => DepError::CursorExpired,
        C::InvalidCursor => DepError::CursorInvalid,
        C::CursorRequired => DepError::CursorRequired,
        C::TermsNotSigned => DepError::TermsNotSigned,
        C::AccessDenied => DepError::AccessDenied,
        C::TokenRejected | C::SignatureInvalid => DepError::TokenRejected { code },
        C::Forbidden => DepError::Unauthorized,
        C::UserAgentMissing | C::UserAgentInvalid => DepError::UserAgentRejected { code },
        C::DeviceIdRequired => DepError::DeviceIdRequired,
        C::ProfileUuidRequired => DepError::ProfileUuidRequired,
        C::NotFound | C::DeviceNotFound | C::ProfileNotFound => {
            DepError::NotFound { code: Some(code) }
        }
        C::MalformedRequestBody => DepError::MalformedRequest,
        C::ConfigNameRequired
        | C::ConfigNameInvalid
        | C::ConfigUrlRequired
        | C::ConfigUrlInvalid
        | C::DepartmentInvalid
        | C::FlagsInvalid
        | C::LocaleInvalid
        | C::MagicInvalid
        | C::SupportEmailInvalid
        | C::SupportPhoneInvalid => DepError::ProfileInvalid { code },
        C::AppleSeedForItTurnedOff
        | C::OrgNotSupported
        | C::MdmServiceDiscoveryUrlRequired
        | C::MdmServiceDiscoveryUrlNotValid => {
            DepError::Refused { status, code: Some(code), excerpt }
        }
    }
}

/// A short body that reads like an error code or sentence, not HTML or binary.
fn is_plain_code_text(body: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(body) else { return false };
    let text = text.trim();
    text.len() <= 256
        && !text.contains('<')
        && !text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
}

/// At most [`EXCERPT_CHARS`] printable characters of `body`, secrets blanked.
pub(crate) fn excerpt(body: &[u8], secrets: &[&str]) -> String {
    let mut text = String::from_utf8_lossy(body).into_owned();
    for secret in secrets.iter().filter(|s| s.len() >= 4) {
        text = text.replace(secret, "[redacted]");
    }
    let cleaned: String =
        text.chars().map(|c| if c.is_control() || c == '\u{FFFD}' { ' ' } else { c }).collect();
    let collapsed = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out: String = collapsed.chars().take(EXCERPT_CHARS).collect();
    if collapsed.chars().count() > EXCERPT_CHARS {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use DepErrorCode as C;

    #[test]
    fn every_code_maps_to_its_variant() {
        for &code in DepErrorCode::ALL {
            let err = classify(code.status(), format!("{code}\n").as_bytes(), None, &[]);
            let expected_ok = match code {
                C::ExhaustedCursor => matches!(err, DepError::CursorExhausted),
                C::ExpiredCursor => matches!(err, DepError::CursorExpired),
                C::InvalidCursor => matches!(err, DepError::CursorInvalid),
                C::CursorRequired => matches!(err, DepError::CursorRequired),
                C::TermsNotSigned => matches!(err, DepError::TermsNotSigned),
                C::AccessDenied => matches!(err, DepError::AccessDenied),
                C::TokenRejected | C::SignatureInvalid => {
                    matches!(err, DepError::TokenRejected { code: c } if c == code)
                }
                C::Forbidden => matches!(err, DepError::Unauthorized),
                C::UserAgentMissing | C::UserAgentInvalid => {
                    matches!(err, DepError::UserAgentRejected { code: c } if c == code)
                }
                C::DeviceIdRequired => matches!(err, DepError::DeviceIdRequired),
                C::ProfileUuidRequired => matches!(err, DepError::ProfileUuidRequired),
                C::NotFound | C::DeviceNotFound | C::ProfileNotFound => {
                    matches!(err, DepError::NotFound { code: Some(c) } if c == code)
                }
                C::MalformedRequestBody => matches!(err, DepError::MalformedRequest),
                c if c.is_profile_validation() => {
                    matches!(err, DepError::ProfileInvalid { code: c2 } if c2 == code)
                }
                _ => matches!(err, DepError::Refused { code: Some(c), .. } if c == code),
            };
            assert!(expected_ok, "{code} → {err:?}");
            assert!(!err.is_retryable(), "{code}");
            assert!(!err.admin_message().is_empty());
            if code != C::Forbidden {
                assert_eq!(err.code(), Some(code), "{code}");
            }
        }
    }

    #[test]
    fn quoted_codes_classify_like_bare_ones() {
        assert!(matches!(classify(400, b"\"INVALID_CURSOR\"", None, &[]), DepError::CursorInvalid));
        assert!(matches!(classify(403, b"T_C_NOT_SIGNED\n", None, &[]), DepError::TermsNotSigned));
    }

    #[test]
    fn server_errors_and_429_are_retryable_with_retry_after() {
        let e = classify(503, b"Try again", Some(Duration::from_secs(7)), &[]);
        assert!(e.is_retryable());
        assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
        let e = classify(429, b"", None, &[]);
        assert!(matches!(e, DepError::Retryable { status: 429, retry_after: None }));
        assert!(DepError::Timeout.is_retryable());
        assert!(DepError::Transport("reset".into()).is_retryable());
        assert!(!DepError::CursorExpired.is_retryable());
    }

    #[test]
    fn html_and_garbage_are_bad_responses_with_a_short_excerpt() {
        let html =
            format!("<html><head><title>Proxy login</title></head>{}</html>", "x".repeat(5000));
        let e = classify(400, html.as_bytes(), None, &[]);
        let DepError::BadResponse { status: 400, excerpt } = &e else { panic!("{e:?}") };
        assert!(excerpt.starts_with("<html><head><title>Proxy login"));
        assert!(excerpt.chars().count() <= EXCERPT_CHARS + 1);
        assert!(e.admin_message().contains("proxy"));
        let e = classify(403, &[0, 159, 146, 150, 1, 2], None, &[]);
        assert!(matches!(e, DepError::BadResponse { status: 403, .. }));
    }

    #[test]
    fn unknown_plain_codes_are_refusals() {
        let e = classify(400, b"SOMETHING_NEW", None, &[]);
        assert!(
            matches!(&e, DepError::Refused { status: 400, code: None, excerpt } if excerpt == "SOMETHING_NEW")
        );
        assert!(e.admin_message().contains("SOMETHING_NEW"));
        assert!(matches!(classify(404, b"", None, &[]), DepError::NotFound { code: None }));
        assert!(matches!(classify(401, b"", None, &[]), DepError::Unauthorized));
    }

    #[test]
    fn session_refusals_without_code_mean_bad_credentials() {
        assert!(matches!(
            classify_session(401, b"", None, &[]),
            DepError::AuthenticationFailed { status: 401 }
        ));
        assert!(matches!(
            classify_session(400, b"oauth_problem", None, &[]),
            DepError::AuthenticationFailed { status: 400 }
        ));
        assert!(matches!(
            classify_session(401, b"token_rejected", None, &[]),
            DepError::TokenRejected { code: C::TokenRejected }
        ));
        assert!(matches!(
            classify_session(403, b"T_C_NOT_SIGNED", None, &[]),
            DepError::TermsNotSigned
        ));
        assert!(matches!(classify_session(404, b"", None, &[]), DepError::BadResponse { .. }));
    }

    #[test]
    fn excerpts_never_hold_secrets() {
        let body = b"<html>echo: X-ADM-Auth-Session: sess-SECRET-123 oauth_token=AT_secret</html>";
        let e = classify(400, body, None, &["sess-SECRET-123", "AT_secret"]);
        let msg = format!("{e} {e:?}");
        assert!(!msg.contains("sess-SECRET-123") && !msg.contains("AT_secret"), "{msg}");
        assert!(msg.contains("[redacted]"));
    }

    #[test]
    fn messages_say_what_to_do() {
        let expired =
            DepError::TokenExpired { expired: time::macros::datetime!(2026-01-17 11:02:21 UTC) };
        assert!(expired.admin_message().contains("expired on 2026-01-17T11:02:21Z"));
        assert!(DepError::TermsNotSigned.admin_message().contains("accept the new terms"));
        assert!(
            DepError::TokenRejected { code: C::SignatureInvalid }.admin_message().contains("renew")
        );
        assert!(DepError::Unauthorized.admin_message().contains("Renew"));
    }
}
