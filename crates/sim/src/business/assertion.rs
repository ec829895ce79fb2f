//! Checking a client assertion at the simulated token endpoint (apple-2026.md §8.3, §8.9):
//! a compact JWS signed ES256 (raw `r‖s`) with the account's key, `kid` = key id, `iss` =
//! `sub` = client id, `aud` = Apple's `…/v2/token`, `iat` not in the future, `exp` after now
//! and at most 180 days after `iat`. Read strictly with the simulator's own types.
//!
//! The audience is passed in: [`AUDIENCE`], or [`MOVED_AUDIENCE`] under the fault that plays
//! Apple moving it (see `Business::set_audience_moved`).
//!
//! Exposes [`check`] and [`Refusal`] (the OAuth error Apple is assumed to answer with; its
//! body is undocumented, §8.3 UNCERTAIN). Pure.

use crate::business::accounts::Accounts;
use base64ct::{Base64UrlUnpadded, Encoding};
use p256::ecdsa::Signature;
use p256::ecdsa::signature::Verifier;
use serde::Deserialize;

/// The audience Apple requires in the assertion (note `v2`, unlike the token URL).
pub const AUDIENCE: &str = "https://account.apple.com/auth/oauth2/v2/token";
/// The audience under the `moved_audience` fault: one adebox does not sign for.
pub const MOVED_AUDIENCE: &str = "https://account.apple.com/auth/oauth2/v3/token";
/// An assertion may live at most 180 days.
pub const MAX_LIFETIME_SECS: i64 = 180 * 86_400;
/// Clock skew tolerated on `iat`.
const SKEW_SECS: i64 = 300;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    alg: String,
    kid: String,
    #[serde(default)]
    #[allow(dead_code)]
    typ: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Claims {
    iss: String,
    sub: String,
    aud: String,
    iat: i64,
    exp: i64,
    #[allow(dead_code)]
    jti: String,
}

/// Why an assertion is refused: the OAuth `error` and a description naming the problem.
#[derive(Debug, PartialEq)]
pub struct Refusal {
    pub error: &'static str,
    pub description: String,
}

fn invalid_client(description: impl Into<String>) -> Refusal {
    Refusal { error: "invalid_client", description: description.into() }
}

fn part<T: for<'de> Deserialize<'de>>(b64: &str, what: &str) -> Result<T, Refusal> {
    let bytes = Base64UrlUnpadded::decode_vec(b64)
        .map_err(|_| invalid_client(format!("the assertion's {what} is not base64url")))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| invalid_client(format!("the assertion's {what} is not as expected: {e}")))
}

/// Checks `jwt` for `client_id` at `now` (Unix seconds).
pub fn check(
    accounts: &Accounts,
    client_id: &str,
    jwt: &str,
    now: i64,
    audience: &str,
) -> Result<(), Refusal> {
    let account = accounts
        .get(client_id)
        .ok_or_else(|| invalid_client(format!("unknown client_id `{client_id}`")))?;
    if account.revoked {
        return Err(invalid_client("the API account was revoked"));
    }
    let mut parts = jwt.split('.');
    let (Some(h), Some(c), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid_client(
            "the assertion is not a compact JWS (three dot-separated parts)",
        ));
    };
    let header: Header = part(h, "header")?;
    if header.alg != "ES256" {
        return Err(invalid_client(format!("alg must be ES256, not `{}`", header.alg)));
    }
    if header.kid != account.key_id {
        return Err(invalid_client("kid is not the account's key id"));
    }
    let sig = Base64UrlUnpadded::decode_vec(s)
        .ok()
        .and_then(|raw| Signature::from_slice(&raw).ok())
        .ok_or_else(|| invalid_client("the signature is not a raw 64-byte ES256 r‖s"))?;
    let signed = &jwt[..h.len() + 1 + c.len()];
    account
        .key
        .verify(signed.as_bytes(), &sig)
        .map_err(|_| invalid_client("the signature does not verify with the account's key"))?;
    let claims: Claims = part(c, "claims")?;
    if claims.sub != client_id || claims.iss != client_id {
        return Err(invalid_client("iss and sub must both be the client id"));
    }
    if claims.aud != audience {
        return Err(invalid_client(format!("aud must be {audience}")));
    }
    if claims.iat > now + SKEW_SECS {
        return Err(invalid_client("iat is in the future"));
    }
    if claims.exp <= now {
        return Err(invalid_client("the assertion has expired; make a new one"));
    }
    if claims.exp - claims.iat > MAX_LIFETIME_SECS {
        return Err(invalid_client("exp must be at most 180 days after iat"));
    }
    Ok(())
}
