//! The DEP server token (`.p7m`) Apple Business Manager hands out: S/MIME framing, the
//! decrypted plaintext, and the OAuth 1.0a credentials inside (../shared/spec/dep-api.md §1).
//!
//! Framing (§1.3): MIME headers up to the first empty line (LF or CRLF; Apple's four, or
//! openssl's `application/x-pkcs7-mime`), then base64 in any line length. A bare base64 body
//! or a raw BER/DER CMS file is accepted too. Plaintext (§1.5): MIME headers, optional
//! `-----BEGIN MESSAGE-----` / `-----END MESSAGE-----` markers, JSON possibly hard-wrapped
//! (Apple's documented example is wrapped at 78 columns).

use crate::crypto::Secret;
use crate::crypto::cms::{self, CmsError};
use base64ct::{Base64, Encoding};
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A real token is about 1.5 KB; anything this large is not one.
pub const MAX_TOKEN_BYTES: usize = 64 * 1024;

/// The four OAuth 1.0a credentials of a server token and their expiry (dep-api.md §1.6).
#[derive(Clone, Debug)]
pub struct OAuthCredentials {
    /// `CK_…`: not secret on its own, identifies the MDM server's token; safe to show.
    pub consumer_key: String,
    pub consumer_secret: Secret<String>,
    pub access_token: Secret<String>,
    pub access_secret: Secret<String>,
    pub access_token_expiry: OffsetDateTime,
}

#[derive(Debug, thiserror::Error)]
pub enum ServerTokenError {
    #[error(
        "this file is {size} bytes; an Apple server token is about 2 KB (upload the .p7m file downloaded from Apple Business Manager)"
    )]
    TooLarge { size: usize },
    #[error(
        "not an Apple server token (expected the .p7m file downloaded from Apple Business Manager or Apple School Manager): {0}"
    )]
    NotAToken(String),
    #[error("the token file is damaged ({0}); download it again from Apple Business Manager")]
    Damaged(String),
    #[error(
        "this token was made for a different public key — download the public key again and re-create the token in Apple Business Manager"
    )]
    WrongKey,
    #[error(
        "this token is encrypted with {0}, which adebox does not accept; download it again from Apple Business Manager"
    )]
    UnsupportedCipher(String),
    #[error("this token expired on {} — download a new token for this MDM server in Apple Business Manager", .0.date())]
    Expired(OffsetDateTime),
}

/// The JSON inside the token; unknown extra keys are tolerated.
#[derive(Deserialize)]
struct TokenJson {
    consumer_key: String,
    consumer_secret: String,
    access_token: String,
    access_secret: String,
    access_token_expiry: String,
}

/// Decrypts a `.p7m` server token with the private key of the certificate uploaded to ABM.
pub fn decrypt(p7m: &[u8], key: &rsa::PrivateKey) -> Result<OAuthCredentials, ServerTokenError> {
    let cms_bytes = unframe(p7m)?;
    let plaintext = cms::decrypt_enveloped(&cms_bytes, key).map_err(|e| match e {
        CmsError::WrongKey | CmsError::NoUsableRecipient => ServerTokenError::WrongKey,
        CmsError::UnsupportedCipher(c) => ServerTokenError::UnsupportedCipher(c),
        CmsError::NotCms(d) | CmsError::NotEnveloped(d) => ServerTokenError::NotAToken(d),
        CmsError::Malformed(d) | CmsError::BadRecipient(d) => ServerTokenError::Damaged(d),
    })?;
    // The key opened the envelope and the padding checked out; if what is inside is not a
    // token, the key was still the wrong one (implicit rejection can pass padding by chance).
    parse_plaintext(&plaintext).map_err(|_| ServerTokenError::WrongKey)
}

/// Refuses a token whose `access_token_expiry` has passed.
pub fn check_not_expired(
    creds: &OAuthCredentials,
    now: OffsetDateTime,
) -> Result<(), ServerTokenError> {
    if creds.access_token_expiry <= now {
        Err(ServerTokenError::Expired(creds.access_token_expiry))
    } else {
        Ok(())
    }
}

/// The CMS bytes inside an S/MIME file (or the file itself when it is raw CMS).
pub fn unframe(file: &[u8]) -> Result<Vec<u8>, ServerTokenError> {
    if file.len() > MAX_TOKEN_BYTES {
        return Err(ServerTokenError::TooLarge { size: file.len() });
    }
    if file.is_empty() {
        return Err(ServerTokenError::NotAToken("the file is empty".into()));
    }
    if file[0] == 0x30 {
        return Ok(file.to_vec()); // raw BER/DER
    }
    let text = std::str::from_utf8(file)
        .map_err(|_| ServerTokenError::NotAToken("the file is neither text nor CMS".into()))?;
    if text.contains("-----BEGIN CERTIFICATE-----") {
        return Err(ServerTokenError::NotAToken("this is a certificate (the public key you upload to Apple), not the token Apple gives back".into()));
    }
    if text.contains("-----BEGIN") && text.contains("PRIVATE KEY-----") {
        return Err(ServerTokenError::NotAToken("this is a private key".into()));
    }
    let (body, framed) = match split_headers(text) {
        Some((headers, body)) => {
            let ctype = header(headers, "content-type").unwrap_or_default().to_ascii_lowercase();
            if !(ctype.contains("application/pkcs7-mime")
                || ctype.contains("application/x-pkcs7-mime"))
            {
                return Err(ServerTokenError::NotAToken(format!(
                    "its Content-Type is `{}`",
                    ctype.trim()
                )));
            }
            (body, true)
        }
        None => (text, false),
    };
    // Without S/MIME headers nothing says this was meant to be a token: a failure below then
    // means "not a token" rather than "a damaged token".
    let damaged = |what: &str| {
        if framed {
            ServerTokenError::Damaged(what.into())
        } else {
            ServerTokenError::NotAToken(what.into())
        }
    };
    let compact: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if compact.is_empty() {
        return Err(damaged("the body is empty"));
    }
    if !compact.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=') {
        return Err(ServerTokenError::NotAToken("its body is not base64".into()));
    }
    let der = Base64::decode_vec(&compact)
        .map_err(|_| damaged("the base64 is truncated or corrupted"))?;
    if der.first() != Some(&0x30) {
        return Err(ServerTokenError::NotAToken("its content is not CMS".into()));
    }
    Ok(der)
}

/// Splits MIME headers from the body at the first empty line. `None` when the text does not
/// start with headers.
fn split_headers(text: &str) -> Option<(&str, &str)> {
    let first = text.lines().next()?;
    if !first.contains(':') || first.starts_with('{') {
        return None;
    }
    for sep in ["\r\n\r\n", "\n\n"] {
        if let Some(i) = text.find(sep) {
            return Some((&text[..i], &text[i + sep.len()..]));
        }
    }
    None
}

fn header<'a>(headers: &'a str, name: &str) -> Option<&'a str> {
    headers.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then_some(v)
    })
}

/// Reads the decrypted plaintext (§1.5) into credentials.
pub fn parse_plaintext(plaintext: &[u8]) -> Result<OAuthCredentials, String> {
    let text =
        std::str::from_utf8(plaintext).map_err(|_| "the plaintext is not text".to_string())?;
    let body = match split_headers(text) {
        Some((_, body)) => body,
        None => text,
    };
    let inner = match (body.find("-----BEGIN MESSAGE-----"), body.find("-----END MESSAGE-----")) {
        (Some(b), Some(e)) if e > b => &body[b + "-----BEGIN MESSAGE-----".len()..e],
        _ => body,
    };
    let json: String = inner.chars().filter(|c| *c != '\n' && *c != '\r').collect();
    let t: TokenJson = serde_json::from_str(json.trim())
        .map_err(|e| format!("the token JSON is not readable: {e}"))?;
    let prefixed = |v: &str, p: &str| v.starts_with(p) && v.len() > p.len();
    if !(prefixed(&t.consumer_key, "CK_")
        && prefixed(&t.consumer_secret, "CS_")
        && prefixed(&t.access_token, "AT_")
        && prefixed(&t.access_secret, "AS_"))
    {
        return Err("the credentials do not have Apple's CK_/CS_/AT_/AS_ shape".into());
    }
    let expiry = OffsetDateTime::parse(t.access_token_expiry.trim(), &Rfc3339)
        .map_err(|e| format!("access_token_expiry is not a date: {e}"))?;
    Ok(OAuthCredentials {
        consumer_key: t.consumer_key,
        consumer_secret: Secret::new(t.consumer_secret),
        access_token: Secret::new(t.access_token),
        access_secret: Secret::new(t.access_secret),
        access_token_expiry: expiry,
    })
}

/// The plaintext Apple encrypts: CRLF headers, LF body, BEGIN/END MESSAGE around the JSON.
pub fn plaintext_for(creds: &OAuthCredentials) -> Vec<u8> {
    let expiry =
        creds.access_token_expiry.replace_nanosecond(0).unwrap_or(creds.access_token_expiry);
    // Apple's key order (a struct keeps it; a JSON map would sort the keys).
    #[derive(serde::Serialize)]
    struct Ordered<'a> {
        consumer_key: &'a str,
        consumer_secret: &'a str,
        access_token: &'a str,
        access_secret: &'a str,
        access_token_expiry: String,
    }
    let json = serde_json::to_string(&Ordered {
        consumer_key: &creds.consumer_key,
        consumer_secret: creds.consumer_secret.expose(),
        access_token: creds.access_token.expose(),
        access_secret: creds.access_secret.expose(),
        access_token_expiry: expiry.format(&Rfc3339).unwrap_or_default(),
    })
    .expect("string fields serialize");
    format!(
        "Content-Type: text/plain;charset=UTF-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n-----BEGIN MESSAGE-----\n{json}\n-----END MESSAGE-----\n"
    )
    .into_bytes()
}

/// The exact bytes Apple would send for `creds` encrypted to `recipient_cert_pem`: Apple's
/// four MIME headers in Apple's order, LF line endings, BER CMS in 76-column base64, final LF.
pub fn mint_p7m(
    recipient_cert_pem: &str,
    creds: &OAuthCredentials,
) -> Result<Vec<u8>, ServerTokenError> {
    let der = crate::crypto::ca::pem_to_der(recipient_cert_pem)
        .map_err(|e| ServerTokenError::NotAToken(e.to_string()))?;
    let ber = cms::encrypt_enveloped_ber(&plaintext_for(creds), &der)
        .map_err(|e| ServerTokenError::NotAToken(e.to_string()))?;
    Ok(smime_wrap(&ber).into_bytes())
}

/// Apple's S/MIME framing around CMS bytes.
pub fn smime_wrap(cms: &[u8]) -> String {
    let b64 = Base64::encode_string(cms);
    let mut out = String::from(
        "Content-Type: application/pkcs7-mime; name=\"smime.p7m\"; smime-type=enveloped-data\nContent-Transfer-Encoding: base64\nContent-Disposition: attachment; filename=\"smime.p7m\"\nContent-Description: S/MIME Encrypted Message\n\n",
    );
    for line in b64.as_bytes().chunks(76) {
        out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        out.push('\n');
    }
    out
}

/// The token as `adebox inspect token` prints it; secrets masked unless `show_secrets`.
pub fn inspect_json(
    creds: &OAuthCredentials,
    show_secrets: bool,
    now: OffsetDateTime,
) -> serde_json::Value {
    let show =
        |s: &Secret<String>| if show_secrets { s.expose().clone() } else { mask(s.expose()) };
    serde_json::json!({
        "consumer_key": creds.consumer_key,
        "consumer_secret": show(&creds.consumer_secret),
        "access_token": show(&creds.access_token),
        "access_secret": show(&creds.access_secret),
        "access_token_expiry": creds.access_token_expiry.format(&Rfc3339).unwrap_or_default(),
        "issued_at": issued_at(creds.access_token.expose()).and_then(|t| t.format(&Rfc3339).ok()),
        "expired": creds.access_token_expiry <= now,
        "secrets": if show_secrets { "shown" } else { "masked (use --show-secrets to print them)" },
    })
}

/// `CS_81…0c457 (masked)`: enough to tell two tokens apart, not enough to use one.
fn mask(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= 10 {
        return "(masked)".into();
    }
    let head: String = chars[..5].iter().collect();
    let tail: String = chars[chars.len() - 5..].iter().collect();
    format!("{head}…{tail} (masked)")
}

/// The issue time encoded in the access token's last `O`-separated field (epoch ms, §1.6).
fn issued_at(access_token: &str) -> Option<OffsetDateTime> {
    let ms: i128 = access_token.rsplit('O').next()?.parse().ok()?;
    OffsetDateTime::from_unix_timestamp_nanos(ms * 1_000_000).ok()
}

#[cfg(test)]
mod tests;
