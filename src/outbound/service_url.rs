//! The URL of one Apple service (the DEP API, APNs) as the configuration names it, checked
//! before anything is sent there.
//!
//! Exposes [`ServiceUrl`] and [`UrlProblem`]. The configuration maps a problem to its key and
//! fix; this module only knows what makes a URL unusable as a service base:
//! - `https://` only: DEP carries the server token's OAuth signature and the session, APNs
//!   the push certificate; none of it may travel in clear (../shared/spec/dep-api.md §2,
//!   ../shared/spec/enrollment.md §5.1).
//! - no user name or password: neither service authenticates that way, and a URL is logged
//!   and shown on the Settings page.
//! - no query and no fragment: the clients append the API's paths (`/session`,
//!   `/3/device/<token>`) to the base, so a query would end up in the middle of every path.
//!
//! A path is allowed (a test server mounted under a prefix); a trailing `/` is dropped, so
//! `https://host/` and `https://host` are the same base.

/// A usable service base URL: `https://host[:port][/prefix]`, without a trailing slash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceUrl(String);

/// Why a URL cannot be a service base.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UrlProblem {
    #[error("is not a URL ({0})")]
    NotAUrl(String),
    #[error("uses `{0}://`; adebox talks to Apple's services over HTTPS only")]
    NotHttps(String),
    #[error(
        "holds a user name or password; neither Apple service signs in that way, and the URL is shown on the Settings page and in logs"
    )]
    Credentials,
    #[error(
        "has a query (`?…`); adebox appends the API's paths to this URL, so the query would end up in the middle of every request"
    )]
    Query,
    #[error("has a fragment (`#…`), which is never sent to a server")]
    Fragment,
}

impl ServiceUrl {
    pub fn parse(text: &str) -> Result<ServiceUrl, UrlProblem> {
        let url = url::Url::parse(text.trim()).map_err(|e| UrlProblem::NotAUrl(e.to_string()))?;
        if url.scheme() != "https" {
            return Err(UrlProblem::NotHttps(url.scheme().to_string()));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(UrlProblem::Credentials);
        }
        if url.query().is_some() {
            return Err(UrlProblem::Query);
        }
        if url.fragment().is_some() {
            return Err(UrlProblem::Fragment);
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(UrlProblem::NotAUrl("no host name".into()));
        }
        Ok(ServiceUrl(url.as_str().trim_end_matches('/').to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The host name (or IP address, IPv6 without brackets) requests go to.
    pub fn host(&self) -> String {
        host_of(&self.0).unwrap_or_default()
    }
}

impl std::fmt::Display for ServiceUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The host of any absolute URL, IPv6 without brackets.
pub(crate) fn host_of(url: &str) -> Option<String> {
    let url = url::Url::parse(url).ok()?;
    Some(match url.host()? {
        url::Host::Domain(d) => d.to_ascii_lowercase(),
        url::Host::Ipv4(ip) => ip.to_string(),
        url::Host::Ipv6(ip) => ip.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_https_bases_and_normalises_them() {
        for (text, want) in [
            ("https://mdmenrollment.apple.com", "https://mdmenrollment.apple.com"),
            ("https://mdmenrollment.apple.com/", "https://mdmenrollment.apple.com"),
            ("https://API.push.apple.com:2197", "https://api.push.apple.com:2197"),
            ("https://api.push.apple.com:443/", "https://api.push.apple.com"),
            ("https://127.0.0.1:8444", "https://127.0.0.1:8444"),
            ("https://dep.test.example/prefix/", "https://dep.test.example/prefix"),
            ("  https://[::1]:9000 ", "https://[::1]:9000"),
        ] {
            assert_eq!(ServiceUrl::parse(text).unwrap().as_str(), want, "{text}");
        }
        assert_eq!(ServiceUrl::parse("https://[::1]:9000").unwrap().host(), "::1");
        assert_eq!(ServiceUrl::parse("https://Dep.Example/x").unwrap().host(), "dep.example");
    }

    #[test]
    fn refuses_what_cannot_be_a_service_base_saying_why() {
        use UrlProblem::*;
        for (text, want) in [
            ("http://mdmenrollment.apple.com", NotHttps("http".into())),
            ("ftp://x.example", NotHttps("ftp".into())),
            ("https://user:secret@dep.example", Credentials),
            ("https://user@dep.example", Credentials),
            ("https://dep.example/?a=b", Query),
            ("https://dep.example/#top", Fragment),
        ] {
            assert_eq!(ServiceUrl::parse(text).unwrap_err(), want, "{text}");
        }
        for text in ["", "mdmenrollment.apple.com", "https://", "https://exa mple.com"] {
            assert!(matches!(ServiceUrl::parse(text), Err(NotAUrl(_))), "{text}");
        }
        // The message never repeats the password.
        let e = ServiceUrl::parse("https://user:secret@dep.example").unwrap_err().to_string();
        assert!(!e.contains("secret"), "{e}");
    }
}
