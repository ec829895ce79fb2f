//! The `[tls.acme]` section: the appliance's own server certificate from an ACME CA (Let's
//! Encrypt, the site's step-ca) over HTTP-01. Off unless `directory_url` is set.

use super::ConfigError;
use super::apple::Bad;
use crate::crypto::Secret;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Where the HTTP-01 challenge listener binds unless `tls.acme.http_listen` says otherwise:
/// the CA always connects to port 80.
pub const DEFAULT_CHALLENGE_LISTEN: &str = "0.0.0.0:80";

/// `[tls.acme]`.
#[derive(Clone, Debug, PartialEq)]
pub struct AcmeConfig {
    /// The CA's directory, e.g. `https://acme-v02.api.letsencrypt.org/directory`.
    pub directory_url: String,
    /// `mailto:` contact given to the CA (expiry notices).
    pub contact: Option<String>,
    /// External account binding, when the CA requires one.
    pub eab: Option<Eab>,
    /// Extra roots trusted for the CA's own HTTPS (a private CA such as step-ca or a test CA);
    /// without it only the system's roots are.
    pub ca_file: Option<PathBuf>,
    /// The plain-HTTP listener that answers `/.well-known/acme-challenge/…` and nothing else.
    pub http_listen: SocketAddr,
}

/// An external account binding: the key id and HMAC key the CA handed out.
#[derive(Clone, Debug, PartialEq)]
pub struct Eab {
    pub key_id: String,
    /// base64url, as CAs hand it out.
    pub hmac_key: Secret<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAcme {
    directory_url: Option<String>,
    contact: Option<String>,
    eab_key_id: Option<String>,
    eab_hmac_key: Option<Secret<String>>,
    ca_file: Option<String>,
    http_listen: Option<String>,
}

pub(super) fn parse_acme(
    raw: Option<RawAcme>,
    cert_file_set: bool,
    bad: &Bad<'_>,
) -> Result<Option<AcmeConfig>, ConfigError> {
    let Some(raw) = raw else { return Ok(None) };
    let Some(directory_url) = raw.directory_url.filter(|u| !u.is_empty()) else {
        return Err(bad(
            "tls.acme.directory_url",
            "is missing while [tls.acme] is present".into(),
            "give the ACME directory URL, e.g. \"https://acme-v02.api.letsencrypt.org/directory\", or remove [tls.acme]",
        ));
    };
    if !directory_url.starts_with("https://") || url::Url::parse(&directory_url).is_err() {
        return Err(bad(
            "tls.acme.directory_url",
            format!("is `{directory_url}`, not an https:// URL"),
            "give the CA's directory URL starting with https://",
        ));
    }
    if cert_file_set {
        return Err(bad(
            "tls.acme",
            "is set together with tls.cert_file".into(),
            "choose one: remove tls.cert_file and tls.key_file to let ACME manage the certificate, or remove [tls.acme]",
        ));
    }
    let contact = match raw.contact.filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => {
            let address = c.strip_prefix("mailto:").unwrap_or(&c);
            if !address.contains('@') || address.contains(char::is_whitespace) {
                return Err(bad(
                    "tls.acme.contact",
                    format!("is `{c}`, not an e-mail address"),
                    "give an address like \"ops@example.org\" or remove the key",
                ));
            }
            Some(format!("mailto:{address}"))
        }
    };
    let eab = match (raw.eab_key_id.filter(|k| !k.is_empty()), raw.eab_hmac_key) {
        (None, None) => None,
        (Some(key_id), Some(hmac_key)) => {
            use base64ct::{Base64UrlUnpadded, Encoding};
            if Base64UrlUnpadded::decode_vec(hmac_key.expose().trim_end_matches('=')).is_err() {
                return Err(bad(
                    "tls.acme.eab_hmac_key",
                    "is not base64url (the value is not shown)".into(),
                    "copy the HMAC key exactly as the CA shows it",
                ));
            }
            Some(Eab { key_id, hmac_key })
        }
        (Some(_), None) | (None, Some(_)) => {
            return Err(bad(
                "tls.acme.eab_key_id",
                "and tls.acme.eab_hmac_key must be set together".into(),
                "set both (the CA's external account key id and HMAC key) or neither",
            ));
        }
    };
    let listen = raw.http_listen.unwrap_or_else(|| DEFAULT_CHALLENGE_LISTEN.into());
    let http_listen = listen.parse().map_err(|_| {
        bad(
            "tls.acme.http_listen",
            format!("is `{listen}`, not an address:port"),
            "write it like \"0.0.0.0:80\" (the CA validates on port 80)",
        )
    })?;
    Ok(Some(AcmeConfig {
        directory_url,
        contact,
        eab,
        ca_file: raw.ca_file.filter(|f| !f.is_empty()).map(PathBuf::from),
        http_listen,
    }))
}

impl AcmeConfig {
    /// The section as TOML (`check-config`); the EAB HMAC key is never printed.
    pub(super) fn to_toml(&self, quote: &dyn Fn(&str) -> String) -> String {
        let mut out = format!("\n[tls.acme]\ndirectory_url = {}\n", quote(&self.directory_url));
        if let Some(c) = &self.contact {
            out += &format!("contact = {}\n", quote(c));
        }
        if let Some(e) = &self.eab {
            out +=
                &format!("eab_key_id = {}\n# eab_hmac_key is set (not shown)\n", quote(&e.key_id));
        }
        if let Some(f) = &self.ca_file {
            out += &format!("ca_file = {}\n", quote(&f.display().to_string()));
        }
        out += &format!("http_listen = {}\n", quote(&self.http_listen.to_string()));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::Config;
    use std::path::Path;

    fn parse(text: &str) -> Result<Config, super::ConfigError> {
        Config::parse(text, Path::new("/etc/adebox/adebox.toml"))
    }

    #[test]
    fn acme_is_off_by_default_and_read_when_given() {
        assert!(parse("").unwrap().tls_acme.is_none());
        let c = parse(
            "[tls.acme]\ndirectory_url = \"https://ca.example/dir\"\ncontact = \"ops@example.org\"\neab_key_id = \"kid\"\neab_hmac_key = \"c2VjcmV0\"\nhttp_listen = \"127.0.0.1:8080\"\n",
        )
        .unwrap();
        let acme = c.tls_acme.clone().unwrap();
        assert_eq!(acme.contact.as_deref(), Some("mailto:ops@example.org"));
        assert_eq!(acme.http_listen.port(), 8080);
        assert_eq!(acme.eab.as_ref().unwrap().key_id, "kid");
        let toml = c.to_toml();
        assert!(!toml.contains("c2VjcmV0"), "the HMAC key is never printed: {toml}");
    }

    #[test]
    fn bad_acme_settings_name_the_key_and_the_fix() {
        for (text, key) in [
            ("[tls.acme]\ncontact = \"a@b\"", "tls.acme.directory_url"),
            ("[tls.acme]\ndirectory_url = \"http://ca/dir\"", "tls.acme.directory_url"),
            (
                "[tls.acme]\ndirectory_url = \"https://ca/dir\"\ncontact = \"nobody\"",
                "tls.acme.contact",
            ),
            (
                "[tls.acme]\ndirectory_url = \"https://ca/dir\"\neab_key_id = \"k\"",
                "tls.acme.eab_key_id",
            ),
            (
                "[tls.acme]\ndirectory_url = \"https://ca/dir\"\neab_key_id = \"k\"\neab_hmac_key = \"not base64!\"",
                "tls.acme.eab_hmac_key",
            ),
            (
                "[tls]\ncert_file = \"/a\"\nkey_file = \"/b\"\n[tls.acme]\ndirectory_url = \"https://ca/dir\"",
                "tls.acme",
            ),
        ] {
            let e = parse(text).unwrap_err().to_string();
            assert!(e.contains(&format!("`{key}`")), "{text}: {e}");
            assert!(e.contains("Fix:"), "{e}");
            assert!(!e.contains("not base64!"), "{e}");
        }
    }
}
