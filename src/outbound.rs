//! The one builder for outbound HTTP clients (Apple's DEP service, APNs, the simulators):
//! reqwest with rustls on the ring provider, a product User-Agent, timeouts, explicit trust
//! roots (../shared/design.md rule 10).
//!
//! Exposes [`OutboundConfig`] and [`client`], plus [`ensure_crypto_provider`] (idempotent;
//! also for servers) and [`user_agent`]. Owns no state. Must not know any domain module.
//!
//! Trust modes ([`TrustRoots`]):
//! - [`TrustRoots::System`] (production, `serve`): the operating system's certificate store
//!   (Debian's `ca-certificates`, read through rustls-platform-verifier) and nothing else;
//!   only `https://` URLs may be used. Apple's servers chain to public roots in that store.
//! - [`TrustRoots::Only`] (sandbox and tests): exactly the given PEM roots (the simulators'
//!   stand-in CAs), *no* system roots, and plain `http://` is allowed for in-process
//!   simulators. `serve` must never build this mode.
//!
//! Redirects are never followed: DEP's session header is not a standard credential header, so a
//! redirect would carry it to whatever host the redirect names. A 3xx is an error for callers.

use std::sync::Once;
use std::time::Duration;

/// Connect timeout for every outbound client.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default whole-request timeout (connect, send, wait, read).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Which certificate authorities an outbound client trusts. See the module docs.
#[derive(Clone, Debug, Default)]
pub enum TrustRoots {
    /// The system's roots only (production).
    #[default]
    System,
    /// Exactly these PEM certificates (each entry may hold several), nothing else
    /// (sandbox/test: the simulators' CAs).
    Only(Vec<String>),
}

/// Settings of one outbound client.
#[derive(Clone, Debug)]
pub struct OutboundConfig {
    pub trust: TrustRoots,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    /// A TLS client certificate and its key as one PEM (APNs: the push certificate).
    pub identity_pem: Option<crate::crypto::Secret<String>>,
}

impl Default for OutboundConfig {
    fn default() -> Self {
        OutboundConfig {
            trust: TrustRoots::System,
            connect_timeout: CONNECT_TIMEOUT,
            request_timeout: REQUEST_TIMEOUT,
            identity_pem: None,
        }
    }
}

impl OutboundConfig {
    /// Production settings: system roots, default timeouts.
    pub fn production() -> Self {
        Self::default()
    }

    /// Sandbox/test settings: trust exactly `roots_pem` (the simulators' CAs).
    pub fn trusting_only(roots_pem: impl IntoIterator<Item = String>) -> Self {
        OutboundConfig {
            trust: TrustRoots::Only(roots_pem.into_iter().collect()),
            ..Self::default()
        }
    }

    /// Presents `pem` (certificate and private key) as the TLS client identity.
    pub fn with_identity(mut self, pem: crate::crypto::Secret<String>) -> Self {
        self.identity_pem = Some(pem);
        self
    }

    /// Replaces the whole-request timeout.
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    #[error(
        "a trusted root certificate is not valid PEM ({0}); check the simulator CA file given to the sandbox/test configuration"
    )]
    BadRootPem(String),
    #[error("the sandbox/test trust list holds no certificate; give at least one simulator CA")]
    NoRoots,
    #[error("the client certificate or its key cannot be used: {0}")]
    BadIdentity(String),
    #[error("the HTTP client could not be built: {0}")]
    Build(String),
}

/// `adebox/<version>`: Apple filters User-Agents (dep-api.md §2.4), so send a product-style
/// `Name/version` on every request.
pub fn user_agent() -> String {
    format!("adebox/{}", crate::version())
}

/// Installs rustls's ring provider as the process default, once. Later calls, and calls after
/// another part of the process installed one, do nothing (the first provider wins), so every
/// client and server in the process uses the same provider.
pub fn ensure_crypto_provider() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // Err means a provider is already installed: exactly what we want.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Builds a client per `config`. Every outbound client of the product comes from here.
pub fn client(config: &OutboundConfig) -> Result<reqwest::Client, OutboundError> {
    ensure_crypto_provider();
    let mut builder = reqwest::Client::builder()
        .user_agent(user_agent())
        .connect_timeout(config.connect_timeout)
        .timeout(config.request_timeout)
        .redirect(reqwest::redirect::Policy::none());
    builder = match &config.trust {
        TrustRoots::System => builder.https_only(true),
        TrustRoots::Only(pems) => builder.tls_certs_only(parse_roots(pems)?),
    };
    if let Some(pem) = &config.identity_pem {
        let identity = reqwest::Identity::from_pem(pem.expose().as_bytes())
            .map_err(|e| OutboundError::BadIdentity(e.to_string()))?;
        builder = builder.identity(identity);
    }
    builder.build().map_err(|e| OutboundError::Build(e.to_string()))
}

fn parse_roots(pems: &[String]) -> Result<Vec<reqwest::Certificate>, OutboundError> {
    let mut roots = Vec::new();
    for pem in pems {
        let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
            .map_err(|e| OutboundError::BadRootPem(e.to_string()))?;
        if certs.is_empty() {
            return Err(OutboundError::BadRootPem("no CERTIFICATE block found".into()));
        }
        roots.extend(certs);
    }
    if roots.is_empty() {
        return Err(OutboundError::NoRoots);
    }
    Ok(roots)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn user_agent_is_product_style() {
        assert_eq!(user_agent(), format!("adebox/{}", env!("CARGO_PKG_VERSION")));
    }

    #[test]
    fn crypto_provider_install_is_idempotent() {
        ensure_crypto_provider();
        ensure_crypto_provider();
        assert!(rustls::crypto::CryptoProvider::get_default().is_some());
    }

    #[test]
    fn builds_production_and_test_clients() {
        client(&OutboundConfig::production()).unwrap();
        let ca = crate::crypto::ca::Authority::generate(
            "adebox test CA",
            datetime!(2026-01-01 00:00 UTC),
            time::Duration::days(1),
        )
        .unwrap();
        let cfg = OutboundConfig::trusting_only([ca.cert_pem().to_owned()])
            .with_request_timeout(Duration::from_secs(5));
        assert_eq!(cfg.request_timeout, Duration::from_secs(5));
        client(&cfg).unwrap();
    }

    #[test]
    fn refuses_bad_or_empty_trust_lists() {
        let bad = OutboundConfig::trusting_only(["not a certificate".to_owned()]);
        assert!(matches!(client(&bad), Err(OutboundError::BadRootPem(_))));
        let none = OutboundConfig::trusting_only(Vec::new());
        assert!(matches!(client(&none), Err(OutboundError::NoRoots)));
    }
}
