//! The outbound HTTP(S) proxy: its URL (credentials kept out of every text), the exclusion
//! list, where the setting came from, and the connector layer that names the proxy in
//! connection errors.
//!
//! Exposes [`ProxyUrl`], [`NoProxy`], [`ProxyChoice`] (with [`ProxyChoice::resolve`]: the
//! configuration's `outbound.proxy`, else the environment), [`ProxyProblem`] and
//! [`ProxyEnvError`]. The proxy is reached with HTTP `CONNECT` (an `http://` proxy) or over
//! TLS first (`https://`); the TLS session with the Apple service runs inside the tunnel, so
//! the proxy sees host names only.
//!
//! adebox resolves the environment itself instead of letting reqwest read it, so that what
//! the Settings page and `/api/v1/status` show is exactly what the clients do. The variables
//! are the usual ones (curl's, in reqwest's order): `HTTPS_PROXY`, `https_proxy`, then
//! `ALL_PROXY`, `all_proxy`; exclusions in `NO_PROXY` or `no_proxy`. Every outbound URL is
//! `https://`, so `HTTP_PROXY` never applies. When `outbound.proxy` is set, the environment is
//! not read at all.

use std::net::IpAddr;

/// A proxy URL. Its `Display` and `Debug` show `user:***@` instead of the password; only
/// [`ProxyUrl::expose`] gives the whole URL, to the HTTP client.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyUrl(url::Url);

/// Why a proxy URL cannot be used. Never holds the password.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProxyProblem {
    #[error("is not a proxy URL ({0})")]
    NotAUrl(String),
    #[error(
        "uses `{0}://`, which adebox does not speak; it reaches proxies with HTTP CONNECT (`http://`) or over TLS (`https://`)"
    )]
    Scheme(String),
    #[error(
        "has a path, query or fragment; a proxy URL is only `http://[user:password@]host:port`"
    )]
    Path,
}

impl ProxyUrl {
    /// Parses `[scheme://][user[:password]@]host[:port][/]`. Without a scheme, `http://` is
    /// meant (as curl reads `HTTPS_PROXY=proxy:3128`). User and password are percent-encoded
    /// in URLs (`p%40ss` for `p@ss`).
    pub fn parse(text: &str) -> Result<ProxyUrl, ProxyProblem> {
        let text = text.trim();
        let with_scheme =
            if text.contains("://") { text.to_string() } else { format!("http://{text}") };
        let url =
            url::Url::parse(&with_scheme).map_err(|e| ProxyProblem::NotAUrl(e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ProxyProblem::Scheme(url.scheme().to_string()));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(ProxyProblem::NotAUrl("no host name".into()));
        }
        if !matches!(url.path(), "" | "/") || url.query().is_some() || url.fragment().is_some() {
            return Err(ProxyProblem::Path);
        }
        Ok(ProxyUrl(url))
    }

    /// The whole URL, credentials included: for the HTTP client only.
    pub(crate) fn expose(&self) -> &str {
        self.0.as_str()
    }

    /// `scheme://[user:***@]host:port`, safe for logs, errors, the page and the API.
    pub fn redacted(&self) -> String {
        let mut shown = self.0.clone();
        if shown.password().is_some() {
            // Cannot fail: the URL has a host, so it can carry a password.
            let _ = shown.set_password(Some("***"));
        }
        shown.as_str().trim_end_matches('/').to_string()
    }

    pub fn has_credentials(&self) -> bool {
        !self.0.username().is_empty() || self.0.password().is_some()
    }
}

impl std::fmt::Display for ProxyUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl std::fmt::Debug for ProxyUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ProxyUrl({})", self.redacted())
    }
}

/// Hosts reached without the proxy, read like curl's `NO_PROXY`: `*` (everything), a domain
/// (itself and every subdomain; a leading `.` or `*.` is ignored), an IP address, or a
/// network in CIDR notation. A `:port` after a name is ignored, as the proxy decision is per
/// host.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NoProxy {
    entries: Vec<String>,
}

impl NoProxy {
    /// Entries as written; an empty entry or one with a scheme or path is refused.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<NoProxy, String> {
        let mut out = Vec::new();
        for raw in entries {
            let e = raw.as_ref().trim();
            if e.is_empty() {
                return Err("holds an empty entry".into());
            }
            if e.contains("://") || (e.contains('/') && e.parse::<IpNet>().is_err()) {
                return Err(format!(
                    "holds `{e}`, which is neither a host name, an IP address nor a network like 10.0.0.0/8"
                ));
            }
            out.push(e.to_string());
        }
        Ok(NoProxy { entries: out })
    }

    /// A comma-separated list as in `NO_PROXY`; empty entries are skipped (as curl does).
    pub fn parse_list(list: &str) -> Result<NoProxy, String> {
        let parts: Vec<&str> = list.split(',').map(str::trim).filter(|p| !p.is_empty()).collect();
        NoProxy::parse(&parts)
    }

    pub fn entries(&self) -> &[String] {
        &self.entries
    }

    /// Whether `host` (a name, or an IP address without brackets) bypasses the proxy.
    pub fn matches(&self, host: &str) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
        let ip = host.parse::<IpAddr>().ok();
        self.entries.iter().any(|entry| {
            let entry = entry.to_ascii_lowercase();
            if entry == "*" {
                return true;
            }
            if let Ok(net) = entry.parse::<IpNet>() {
                return ip.is_some_and(|ip| net.contains(ip));
            }
            let name = strip_port(&entry);
            let name = name.trim_start_matches("*.").trim_start_matches('.');
            if let Ok(want) = name.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
                return ip == Some(want);
            }
            !name.is_empty() && (host == name || host.ends_with(&format!(".{name}")))
        })
    }
}

/// `name:port` → `name`; IPv6 literals and plain names unchanged.
fn strip_port(entry: &str) -> &str {
    match entry.rsplit_once(':') {
        Some((name, port))
            if !name.contains(':')
                && !port.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit()) =>
        {
            name
        }
        _ => entry,
    }
}

/// An IP network (`10.0.0.0/8`, `fd00::/8`) or a single address (also the ranges allowed to
/// read `/metrics`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl std::str::FromStr for IpNet {
    type Err = ();
    fn from_str(s: &str) -> Result<IpNet, ()> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => {
                (a.parse::<IpAddr>().map_err(|_| ())?, p.parse::<u8>().map_err(|_| ())?)
            }
            None => {
                let a = s.parse::<IpAddr>().map_err(|_| ())?;
                (a, if a.is_ipv4() { 32 } else { 128 })
            }
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if prefix > max {
            return Err(());
        }
        Ok(IpNet { addr, prefix })
    }
}

impl std::fmt::Display for IpNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl IpNet {
    pub fn contains(&self, ip: IpAddr) -> bool {
        let bits = |a: IpAddr| -> u128 {
            match a {
                IpAddr::V4(v4) => u128::from(u32::from(v4)) << 96,
                IpAddr::V6(v6) => u128::from(v6),
            }
        };
        if self.addr.is_ipv4() != ip.is_ipv4() {
            return false;
        }
        let mask = if self.prefix == 0 { 0 } else { u128::MAX << (128 - u32::from(self.prefix)) };
        bits(self.addr) & mask == bits(ip) & mask
    }
}

/// Where the proxy setting came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProxySource {
    /// `outbound.proxy` in the configuration file.
    Config,
    /// This environment variable (`HTTPS_PROXY`, …).
    Environment(&'static str),
}

impl std::fmt::Display for ProxySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProxySource::Config => f.write_str("outbound.proxy"),
            ProxySource::Environment(name) => f.write_str(name),
        }
    }
}

/// The proxy in effect: its URL, where that came from, and what bypasses it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxyChoice {
    pub url: ProxyUrl,
    pub source: ProxySource,
    pub no_proxy: NoProxy,
}

/// An environment variable holds something adebox cannot use. Never holds the value itself
/// (it may carry a password), only the problem.
#[derive(Debug, thiserror::Error)]
#[error(
    "the environment variable {variable} {problem}. Fix it where the environment is set (for the packaged service: `systemctl edit adebox`), or set outbound.proxy in the configuration file, which takes precedence over the environment"
)]
pub struct ProxyEnvError {
    pub variable: &'static str,
    pub problem: String,
}

const PROXY_VARS: [&str; 4] = ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"];
const NO_PROXY_VARS: [&str; 2] = ["NO_PROXY", "no_proxy"];

impl ProxyChoice {
    /// The configuration's proxy when set (the environment is then not read), else the first
    /// non-empty proxy variable of the environment (`env` looks one up), else none.
    pub fn resolve(
        configured: Option<ProxyUrl>,
        configured_no_proxy: NoProxy,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Option<ProxyChoice>, ProxyEnvError> {
        if let Some(url) = configured {
            return Ok(Some(ProxyChoice {
                url,
                source: ProxySource::Config,
                no_proxy: configured_no_proxy,
            }));
        }
        let first = |names: &[&'static str]| {
            names.iter().find_map(|&n| env(n).filter(|v| !v.trim().is_empty()).map(|v| (n, v)))
        };
        let Some((variable, value)) = first(&PROXY_VARS) else { return Ok(None) };
        let url = ProxyUrl::parse(&value)
            .map_err(|p| ProxyEnvError { variable, problem: p.to_string() })?;
        let no_proxy = match first(&NO_PROXY_VARS) {
            Some((variable, list)) => {
                NoProxy::parse_list(&list).map_err(|problem| ProxyEnvError { variable, problem })?
            }
            None => NoProxy::default(),
        };
        Ok(Some(ProxyChoice { url, source: ProxySource::Environment(variable), no_proxy }))
    }

    /// The proxy for requests to `host`, or `None` when it is excluded.
    pub fn for_host(&self, host: &str) -> Option<&ProxyUrl> {
        (!self.no_proxy.matches(host)).then_some(&self.url)
    }
}

/// A connection through the proxy failed; names the proxy (redacted) so the admin knows
/// which hop to look at, and says what a refused tunnel usually means.
#[derive(Debug, thiserror::Error)]
#[error("through the proxy {proxy}{hint}")]
pub struct ViaProxy {
    proxy: String,
    hint: &'static str,
    #[source]
    source: Box<dyn std::error::Error + Send + Sync>,
}

/// What the proxy's refusal of `CONNECT` (hyper-util's tunnel errors, matched by text: the
/// type is not public) most likely means.
fn hint(source: &(dyn std::error::Error + 'static)) -> &'static str {
    let mut chain = source.to_string();
    let mut next = source.source();
    while let Some(s) = next {
        chain.push_str(&s.to_string());
        next = s.source();
    }
    if chain.contains("proxy authorization required") {
        ", which asks for credentials (put user:password@ in the proxy URL)"
    } else if chain.contains("tunnel error: unsuccessful") {
        ", which refused the tunnel (wrong credentials, or CONNECT to this host and port not allowed by the proxy)"
    } else {
        ""
    }
}

/// The connector layer a proxied client gets: every connection error then says which proxy.
pub(crate) fn naming_layer(
    proxy: &ProxyUrl,
) -> tower::util::MapErrLayer<
    impl Fn(Box<dyn std::error::Error + Send + Sync>) -> Box<dyn std::error::Error + Send + Sync>
    + Clone
    + Send
    + Sync
    + 'static,
> {
    let proxy = proxy.redacted();
    tower::util::MapErrLayer::new(move |source: Box<dyn std::error::Error + Send + Sync>| {
        let hint = hint(source.as_ref());
        Box::new(ViaProxy { proxy: proxy.clone(), hint, source })
            as Box<dyn std::error::Error + Send + Sync>
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn proxy_urls_are_parsed_and_redacted() {
        let p = ProxyUrl::parse("http://alice:s3cret@proxy.example.org:3128").unwrap();
        assert_eq!(p.redacted(), "http://alice:***@proxy.example.org:3128");
        assert_eq!(format!("{p}"), p.redacted());
        assert!(!format!("{p:?}").contains("s3cret"));
        assert!(p.expose().contains("alice:s3cret@"));
        assert!(p.has_credentials());
        // No scheme means http://, as curl reads it; a user without password stays visible.
        let bare = ProxyUrl::parse("proxy.example.org:3128").unwrap();
        assert_eq!(bare.redacted(), "http://proxy.example.org:3128");
        assert!(!bare.has_credentials());
        let user = ProxyUrl::parse("https://bob@proxy.example.org:8443/").unwrap();
        assert_eq!(user.redacted(), "https://bob@proxy.example.org:8443");
        // A password with reserved characters is percent-encoded, and stays hidden.
        let enc = ProxyUrl::parse("http://carol:p%40ss%3Aw@10.0.0.1:8080").unwrap();
        assert_eq!(enc.redacted(), "http://carol:***@10.0.0.1:8080");
    }

    #[test]
    fn unusable_proxy_urls_are_refused_without_echoing_the_password() {
        assert_eq!(
            ProxyUrl::parse("socks5://u:pw@proxy:1080").unwrap_err(),
            ProxyProblem::Scheme("socks5".into())
        );
        assert_eq!(ProxyUrl::parse("http://proxy:3128/path").unwrap_err(), ProxyProblem::Path);
        assert_eq!(ProxyUrl::parse("http://proxy:3128/?a=1").unwrap_err(), ProxyProblem::Path);
        for bad in ["", "http://", "http://proxy:99999", "http://u:pw@"] {
            let e = ProxyUrl::parse(bad).unwrap_err();
            assert!(matches!(e, ProxyProblem::NotAUrl(_)), "{bad}: {e}");
            assert!(!e.to_string().contains("pw"), "{e}");
        }
    }

    #[test]
    fn no_proxy_matches_like_curl() {
        let n = NoProxy::parse(&[
            ".internal.example",
            "dep.test.example",
            "10.0.0.0/8",
            "192.168.1.7",
            "fd00::/8",
            "*.wild.example",
            "ported.example:8443",
        ])
        .unwrap();
        for host in [
            "internal.example",
            "a.internal.example",
            "dep.test.example",
            "x.dep.test.example",
            "10.20.30.40",
            "192.168.1.7",
            "[fd12::1]",
            "fd12::1",
            "a.wild.example",
            "ported.example",
            "DEP.Test.Example",
        ] {
            assert!(n.matches(host), "{host}");
        }
        for host in [
            "mdmenrollment.apple.com",
            "xinternal.example",
            "test.example",
            "11.0.0.1",
            "192.168.1.8",
            "fe80::1",
        ] {
            assert!(!n.matches(host), "{host}");
        }
        assert!(NoProxy::parse(&["*"]).unwrap().matches("api.push.apple.com"));
        assert!(NoProxy::parse(&[""]).is_err());
        assert!(NoProxy::parse(&["https://x.example"]).is_err());
        assert!(NoProxy::parse(&["10.0.0.0/40"]).is_err());
        assert_eq!(NoProxy::parse_list(" a.example, ,b.example ").unwrap().entries().len(), 2);
    }

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn the_configuration_wins_over_the_environment() {
        let configured = ProxyUrl::parse("http://cfg.example:3128").unwrap();
        let e = env(&[("HTTPS_PROXY", "http://env.example:8080"), ("NO_PROXY", "*")]);
        let c = ProxyChoice::resolve(Some(configured.clone()), NoProxy::default(), &e)
            .unwrap()
            .unwrap();
        assert_eq!(c.url, configured);
        assert_eq!(c.source, ProxySource::Config);
        // The environment's NO_PROXY is not read either.
        assert!(c.for_host("mdmenrollment.apple.com").is_some());
    }

    #[test]
    fn the_environment_is_read_in_curls_order() {
        let resolve = |pairs: &[(&str, &str)]| {
            ProxyChoice::resolve(None, NoProxy::default(), &env(pairs)).unwrap()
        };
        assert_eq!(resolve(&[]), None);
        assert_eq!(resolve(&[("HTTP_PROXY", "http://plain.example:80")]), None);
        let c = resolve(&[
            ("ALL_PROXY", "http://all.example:1"),
            ("https_proxy", "http://lower.example:2"),
            ("HTTPS_PROXY", "http://upper.example:3"),
        ])
        .unwrap();
        assert_eq!(c.url.redacted(), "http://upper.example:3");
        assert_eq!(c.source, ProxySource::Environment("HTTPS_PROXY"));
        let c = resolve(&[("HTTPS_PROXY", " "), ("all_proxy", "proxy.example:3128")]).unwrap();
        assert_eq!(c.source.to_string(), "all_proxy");
        let c =
            resolve(&[("https_proxy", "http://p.example:3"), ("no_proxy", "apple.com")]).unwrap();
        assert!(c.for_host("mdmenrollment.apple.com").is_none());
        assert!(c.for_host("dep.test.example").is_some());
    }

    #[test]
    fn a_bad_environment_value_names_the_variable_not_the_password() {
        let e = ProxyChoice::resolve(
            None,
            NoProxy::default(),
            &env(&[("HTTPS_PROXY", "socks5://u:topsecret@p:1080")]),
        )
        .unwrap_err();
        let text = e.to_string();
        assert!(text.contains("HTTPS_PROXY") && text.contains("outbound.proxy"), "{text}");
        assert!(!text.contains("topsecret"), "{text}");
        let e = ProxyChoice::resolve(
            None,
            NoProxy::default(),
            &env(&[("HTTPS_PROXY", "p:1"), ("NO_PROXY", "http://x")]),
        )
        .unwrap_err();
        assert_eq!(e.variable, "NO_PROXY");
    }
}
