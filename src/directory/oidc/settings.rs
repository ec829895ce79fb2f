//! The OpenID Connect settings an admin gives, and their checks: each refusal names the
//! field and says how to fix it, so nothing half-valid is ever stored.

use super::MAX_TIMEOUT_SECONDS;
use crate::crypto::Secret;
use crate::directory::DirectoryError;
use serde::{Deserialize, Serialize};

/// The provider settings (never the client secret): stored, and what the API answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OidcSettings {
    /// The name on the sign-in button ("Sign in with <name>").
    pub provider_name: String,
    /// `https://…`; `<issuer>/.well-known/openid-configuration` is the discovery document.
    pub issuer: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub username_claim: String,
    pub display_name_claim: String,
    pub email_claim: String,
    pub groups_claim: String,
    /// PEM certificates to trust for the provider besides the system's roots.
    #[serde(default)]
    pub ca_pem: Option<String>,
    pub timeout_seconds: u64,
}

/// What an admin sends: the settings, and the client secret (left out: keep the stored one).
#[derive(Clone, Default)]
pub struct NewOidcSettings {
    pub provider_name: Option<String>,
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<Secret<String>>,
    pub scopes: Option<Vec<String>>,
    pub username_claim: Option<String>,
    pub display_name_claim: Option<String>,
    pub email_claim: Option<String>,
    pub groups_claim: Option<String>,
    pub ca_pem: Option<String>,
    pub timeout_seconds: Option<u64>,
}

fn invalid(field: &'static str, message: impl Into<String>) -> DirectoryError {
    DirectoryError::Validation { field, message: message.into() }
}

/// A claim name: what JSON object keys in ID tokens look like, without oddities.
fn claim(
    field: &'static str,
    given: Option<String>,
    default: &str,
) -> Result<String, DirectoryError> {
    let name = given.map(|g| g.trim().to_string()).filter(|g| !g.is_empty());
    let name = name.unwrap_or_else(|| default.to_string());
    let ok =
        name.len() <= 128 && name.chars().all(|c| c.is_ascii_alphanumeric() || "_-.:/".contains(c));
    if ok {
        Ok(name)
    } else {
        Err(invalid(
            field,
            format!(
                "\"{name}\" is not a claim name; use letters, digits and _-.:/ (up to 128), or leave it empty for \"{default}\""
            ),
        ))
    }
}

impl NewOidcSettings {
    /// The settings checked and completed with defaults.
    pub fn check(self) -> Result<OidcSettings, DirectoryError> {
        let issuer = self.issuer.trim().trim_end_matches('/').to_string();
        let parsed = url::Url::parse(&issuer).map_err(|e| {
            invalid("issuer", format!("\"{issuer}\" is not a URL ({e}); give the provider's issuer, e.g. https://login.example.org/realms/staff"))
        })?;
        if parsed.scheme() != "https" || parsed.host_str().is_none() {
            return Err(invalid(
                "issuer",
                "the issuer must be an https:// URL with a host name; OpenID Connect providers are only used over TLS",
            ));
        }
        if parsed.query().is_some() || parsed.fragment().is_some() || !parsed.username().is_empty()
        {
            return Err(invalid(
                "issuer",
                "the issuer has no query, fragment or user name; give it exactly as the provider's discovery document names it",
            ));
        }
        let client_id = self.client_id.trim().to_string();
        if client_id.is_empty() || client_id.len() > 256 {
            return Err(invalid(
                "client_id",
                "give the client id the provider shows for this application (1 to 256 characters)",
            ));
        }
        let provider_name = self
            .provider_name
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| parsed.host_str().unwrap_or_default().to_string());
        if provider_name.chars().count() > 64 {
            return Err(invalid("provider_name", "keep the provider's name to 64 characters"));
        }
        let mut scopes: Vec<String> = match self.scopes {
            Some(s) => s.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
            None => ["openid", "profile", "email"].map(String::from).to_vec(),
        };
        if scopes.iter().any(|s| {
            s.len() > 64 || !s.chars().all(|c| c.is_ascii_graphic() && c != '"' && c != '\\')
        }) {
            return Err(invalid(
                "scopes",
                "each scope is one word of printable characters (up to 64)",
            ));
        }
        if !scopes.iter().any(|s| s == "openid") {
            scopes.insert(0, "openid".into());
        }
        scopes.dedup();
        if scopes.len() > 20 {
            return Err(invalid("scopes", "list at most 20 scopes"));
        }
        let ca_pem = self.ca_pem.map(|p| p.trim().to_string()).filter(|p| !p.is_empty());
        if let Some(pem) = &ca_pem {
            check_ca_pem(pem)?;
        }
        let timeout_seconds = self.timeout_seconds.unwrap_or(MAX_TIMEOUT_SECONDS);
        if !(1..=MAX_TIMEOUT_SECONDS).contains(&timeout_seconds) {
            return Err(invalid(
                "timeout_seconds",
                format!(
                    "give 1 to {MAX_TIMEOUT_SECONDS} seconds: the device's page must answer within {MAX_TIMEOUT_SECONDS}"
                ),
            ));
        }
        if let Some(s) = &self.client_secret
            && (s.expose().is_empty() || s.expose().len() > 1024)
        {
            return Err(invalid(
                "client_secret",
                "give the client secret the provider shows for this application (1 to 1024 characters)",
            ));
        }
        Ok(OidcSettings {
            provider_name,
            issuer,
            client_id,
            scopes,
            username_claim: claim("username_claim", self.username_claim, "preferred_username")?,
            display_name_claim: claim("display_name_claim", self.display_name_claim, "name")?,
            email_claim: claim("email_claim", self.email_claim, "email")?,
            groups_claim: claim("groups_claim", self.groups_claim, "groups")?,
            ca_pem,
            timeout_seconds,
        })
    }
}

/// The CA text holds one or more PEM certificates, and nothing else.
fn check_ca_pem(pem: &str) -> Result<(), DirectoryError> {
    if pem.len() > 64 * 1024 {
        return Err(invalid(
            "ca_pem",
            "the CA certificates are over 64 KiB; give only the provider's CA",
        ));
    }
    match reqwest::Certificate::from_pem_bundle(pem.as_bytes()) {
        Ok(certs) if !certs.is_empty() => Ok(()),
        _ => Err(invalid(
            "ca_pem",
            "the CA is not PEM certificates; paste the provider's CA as -----BEGIN CERTIFICATE----- … blocks, or leave it empty to trust the system's roots",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(issuer: &str) -> NewOidcSettings {
        NewOidcSettings { issuer: issuer.into(), client_id: "adebox".into(), ..Default::default() }
    }

    #[test]
    fn defaults_fill_what_is_left_out() {
        let s = new("https://id.example.org/realms/staff/").check().unwrap();
        assert_eq!(s.issuer, "https://id.example.org/realms/staff");
        assert_eq!(s.provider_name, "id.example.org");
        assert_eq!(s.scopes, ["openid", "profile", "email"]);
        assert_eq!(s.username_claim, "preferred_username");
        assert_eq!(s.groups_claim, "groups");
        assert_eq!(s.timeout_seconds, MAX_TIMEOUT_SECONDS);
    }

    #[test]
    fn bad_settings_name_their_field() {
        let field = |n: NewOidcSettings| match n.check() {
            Err(DirectoryError::Validation { field, .. }) => field,
            other => panic!("{:?}", other.map(|_| ())),
        };
        assert_eq!(field(new("http://id.example.org")), "issuer");
        assert_eq!(field(new("https://id.example.org/?x=1")), "issuer");
        assert_eq!(
            field(NewOidcSettings { client_id: " ".into(), ..new("https://a.example") }),
            "client_id"
        );
        assert_eq!(
            field(NewOidcSettings { timeout_seconds: Some(30), ..new("https://a.example") }),
            "timeout_seconds"
        );
        assert_eq!(
            field(NewOidcSettings { ca_pem: Some("not pem".into()), ..new("https://a.example") }),
            "ca_pem"
        );
        assert_eq!(
            field(NewOidcSettings { groups_claim: Some("a b".into()), ..new("https://a.example") }),
            "groups_claim"
        );
        let scopes = Some(vec!["profile".to_string()]);
        assert_eq!(
            NewOidcSettings { scopes, ..new("https://a.example") }.check().unwrap().scopes,
            ["openid", "profile"]
        );
    }
}
