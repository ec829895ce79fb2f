//! The one builder for outbound HTTP clients (Apple's DEP service, APNs, the simulators):
//! reqwest with rustls on the ring provider, a product User-Agent, timeouts, explicit trust
//! roots (../shared/design.md rule 10), and the outbound proxy.
//!
//! Exposes [`OutboundConfig`] and [`client`], [`describe`] for transport errors, plus
//! [`ensure_crypto_provider`] (re-exported from `adebox-tls-provider`, also for servers) and
//! [`user_agent`]; the service
//! URLs ([`ServiceUrl`]), the proxy ([`ProxyUrl`], [`ProxyChoice`]) and the report the page
//! shows ([`AppleServices`]). Owns no state. Must not know any domain module.
//!
//! Trust modes ([`TrustRoots`]):
//! - [`TrustRoots::System`] (production, `serve`): the operating system's certificate store
//!   (Debian's `ca-certificates`, read through rustls-platform-verifier) and nothing else;
//!   only `https://` URLs may be used. Apple's servers chain to public roots in that store.
//! - [`TrustRoots::SystemAnd`] (`serve` with `apple.extra_ca_file`): the same plus the
//!   admin's extra roots, for a test server or a TLS-inspecting proxy. These clients only
//!   ever talk to the DEP API and APNs: the extra roots never reach the trust devices are
//!   checked against (that is `daemon::trust`, Apple's pinned roots only).
//! - [`TrustRoots::Only`] (sandbox and tests): exactly the given PEM roots (the simulators'
//!   stand-in CAs), *no* system roots, and plain `http://` is allowed for in-process
//!   simulators. `serve` must never build this mode.
//!
//! Proxy: a client with [`OutboundConfig::proxy`] sends everything through it (the daemon
//! decides per service, see [`ProxyChoice::for_host`]) and its connection errors name it; a
//! client without one connects directly and never reads the environment by itself.
//!
//! Redirects are never followed: DEP's session header is not a standard credential header, so a
//! redirect would carry it to whatever host the redirect names. A 3xx is an error for callers.

mod proxy;
mod report;
mod service_url;

pub use proxy::{IpNet, NoProxy, ProxyChoice, ProxyEnvError, ProxyProblem, ProxySource, ProxyUrl};
pub use report::{AppleServices, Described, ExtraCa, Notice, ProxyInUse, ServiceRoute};
pub use service_url::{ServiceUrl, UrlProblem};

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
    /// The system's roots and these PEM certificates (production with `apple.extra_ca_file`).
    SystemAnd(Vec<String>),
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
    /// Send every request through this proxy; `None` connects directly.
    pub proxy: Option<ProxyUrl>,
    /// Plain `http://` allowed with the system roots too (a webhook receiver the admin
    /// allowed on a trusted network); Apple's services are always https-only.
    pub allow_http: bool,
}

impl Default for OutboundConfig {
    fn default() -> Self {
        OutboundConfig {
            trust: TrustRoots::System,
            connect_timeout: CONNECT_TIMEOUT,
            request_timeout: REQUEST_TIMEOUT,
            identity_pem: None,
            proxy: None,
            allow_http: false,
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

    /// Sends every request through `proxy` (`None`: directly).
    pub fn via(mut self, proxy: Option<ProxyUrl>) -> Self {
        self.proxy = proxy;
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
    #[error(
        "apple.extra_ca_file {path}: {detail}. Fix: name a PEM file readable by the adebox user holding the CA certificate(s) the DEP or APNs server you point adebox at chains to, or remove the key"
    )]
    ExtraCa { path: String, detail: String },
    #[error("the proxy {0} cannot be used by the HTTP client")]
    Proxy(String),
    #[error(transparent)]
    ProxyEnv(#[from] ProxyEnvError),
}

/// `adebox/<version>`: Apple filters User-Agents (dep-api.md §2.4), so send a product-style
/// `Name/version` on every request.
pub fn user_agent() -> String {
    format!("adebox/{}", crate::version())
}

/// The process's one rustls provider (ring), shared with the simulators: every client and
/// server in the process calls it before building a TLS configuration.
pub use adebox_tls_provider::ensure_crypto_provider;

/// Builds a client per `config`. Every outbound client of the product comes from here.
pub fn client(config: &OutboundConfig) -> Result<reqwest::Client, OutboundError> {
    ensure_crypto_provider();
    let mut builder = reqwest::Client::builder()
        .user_agent(user_agent())
        .connect_timeout(config.connect_timeout)
        .timeout(config.request_timeout)
        .redirect(reqwest::redirect::Policy::none());
    builder = match &config.trust {
        TrustRoots::System => builder.https_only(!config.allow_http),
        TrustRoots::SystemAnd(pems) => {
            builder.https_only(!config.allow_http).tls_certs_merge(parse_roots(pems)?)
        }
        TrustRoots::Only(pems) => builder.tls_certs_only(parse_roots(pems)?),
    };
    builder = match &config.proxy {
        // The URL was checked by ProxyUrl::parse; reqwest's own error text could repeat it
        // whole, so only the redacted form is reported.
        Some(p) => builder
            .proxy(reqwest::Proxy::all(p.expose()).map_err(|_| OutboundError::Proxy(p.redacted()))?)
            .connector_layer(proxy::naming_layer(p)),
        None => builder.no_proxy(),
    };
    if let Some(pem) = &config.identity_pem {
        let identity = reqwest::Identity::from_pem(pem.expose().as_bytes())
            .map_err(|e| OutboundError::BadIdentity(e.to_string()))?;
        builder = builder.identity(identity);
    }
    builder.build().map_err(|e| OutboundError::Build(e.to_string()))
}

/// reqwest's error with its causes (the top level alone says little: "error sending request"),
/// e.g. `… (https://host/session): client error (Connect): through the proxy
/// http://user:***@proxy:3128: tcp connect error: Connection refused`. Holds no secret: the
/// URL carries none (DEP's session and OAuth travel in headers), the proxy is redacted.
pub fn describe(e: &reqwest::Error) -> String {
    let mut out = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// Reads `apple.extra_ca_file`: its PEM text (for [`TrustRoots::SystemAnd`]) and what the
/// page shows about it.
pub fn load_extra_roots(path: &std::path::Path) -> Result<(String, ExtraCa), OutboundError> {
    let err = |detail: String| OutboundError::ExtraCa { path: path.display().to_string(), detail };
    let pem = std::fs::read_to_string(path).map_err(|e| err(format!("cannot be read ({e})")))?;
    let ders = crate::crypto::chain::pem_certificates(&pem).map_err(err)?;
    let certificates = ders
        .iter()
        .map(|der| crate::certinfo::describe(der).map_err(|e| err(e.message)))
        .collect::<Result<Vec<_>, _>>()?;
    // reqwest must accept them too (it parses them again when a client is built).
    parse_roots(std::slice::from_ref(&pem)).map_err(|e| err(e.to_string()))?;
    Ok((pem, ExtraCa { file: path.display().to_string(), certificates }))
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

    fn proxied(port: u16) -> reqwest::Client {
        let proxy = ProxyUrl::parse(&format!("http://ops:hunter2@127.0.0.1:{port}")).unwrap();
        client(&OutboundConfig::production().via(Some(proxy))).unwrap()
    }

    #[tokio::test]
    async fn a_proxy_that_cannot_be_reached_is_named_without_its_password() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        let e = proxied(port).get("https://dep.test.example/session").send().await.unwrap_err();
        let text = describe(&e);
        assert!(
            text.contains(&format!("through the proxy http://ops:***@127.0.0.1:{port}")),
            "{text}"
        );
        assert!(!text.contains("hunter2"), "{text}");
    }

    #[tokio::test]
    async fn a_proxy_refusing_the_tunnel_is_named_with_its_refusal() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let proxy = tokio::spawn(async move {
            let (mut conn, _) = listener.accept().await.unwrap();
            let mut request = vec![0u8; 4096];
            let n = conn.read(&mut request).await.unwrap();
            conn.write_all(
                b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n",
            )
            .await
            .unwrap();
            String::from_utf8_lossy(&request[..n]).into_owned()
        });
        let e = proxied(port).get("https://dep.test.example/session").send().await.unwrap_err();
        let text = describe(&e);
        assert!(
            text.contains(&format!(
                "through the proxy http://ops:***@127.0.0.1:{port}, which asks for credentials"
            )),
            "{text}"
        );
        // The tunnel was asked for with the credentials, as Basic auth.
        let request = proxy.await.unwrap();
        assert!(request.starts_with("CONNECT dep.test.example:443 "), "{request}");
        assert!(request.contains("proxy-authorization: Basic b3BzOmh1bnRlcjI="), "{request}");
    }

    #[test]
    fn refuses_bad_or_empty_trust_lists() {
        let bad = OutboundConfig::trusting_only(["not a certificate".to_owned()]);
        assert!(matches!(client(&bad), Err(OutboundError::BadRootPem(_))));
        let none = OutboundConfig::trusting_only(Vec::new());
        assert!(matches!(client(&none), Err(OutboundError::NoRoots)));
    }
}
