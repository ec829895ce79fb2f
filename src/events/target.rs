//! Where a webhook may point: `https://` (plain `http://` only when the admin allows it for
//! this subscription), no credentials in the URL (they would show in the page and logs), and
//! never the appliance itself (its names and addresses on its own ports) (a subscription delivering to adebox would feed on its own
//! events). Checked when a subscription is saved and again before every delivery.
//!
//! The check compares names and literal addresses; a name of the admin's DNS that resolves to
//! the appliance is not caught (adebox does not resolve names it is given to save).

use std::collections::BTreeSet;
use std::net::IpAddr;

/// How the appliance can be reached: its public host names and its ports.
#[derive(Clone, Debug, Default)]
pub struct SelfAddresses {
    /// The configured public host names (lower case).
    pub hosts: BTreeSet<String>,
    /// Addresses the appliance listens on.
    pub ips: BTreeSet<IpAddr>,
    /// Ports the appliance serves on.
    pub ports: BTreeSet<u16>,
}

impl SelfAddresses {
    /// Whether `host:port` reaches the appliance: one of its names, a loopback, unspecified
    /// or listening address, on one of its ports. (Another port of the same machine is
    /// another service: a receiver may run beside adebox.)
    fn is_self(&self, host: &url::Host<&str>, port: u16) -> bool {
        if !self.ports.contains(&port) {
            return false;
        }
        match host {
            url::Host::Domain(d) => {
                let d = d.trim_end_matches('.').to_ascii_lowercase();
                self.hosts.contains(&d) || d == "localhost"
            }
            url::Host::Ipv4(ip) => self.ip_is_self(IpAddr::V4(*ip)),
            url::Host::Ipv6(ip) => self.ip_is_self(IpAddr::V6(*ip)),
        }
    }

    fn ip_is_self(&self, ip: IpAddr) -> bool {
        self.hosts.contains(&ip.to_string())
            || ip.is_loopback()
            || ip.is_unspecified()
            || self.ips.contains(&ip)
    }
}

/// Why a webhook URL is refused; each says the fix.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TargetProblem {
    #[error(
        "the URL is not valid ({0}); give the full address, like https://tools.example.org/adebox"
    )]
    Malformed(String),
    #[error(
        "the URL must start with https:// (events carry device data); tick \"allow http on this \
         network\" only for a receiver on a network you trust"
    )]
    NotHttps,
    #[error("only https:// and http:// URLs can receive webhooks")]
    Scheme,
    #[error(
        "the URL holds a user name or password; put credentials in the receiver's check of the \
         signature header instead (the secret), not in the URL"
    )]
    Credentials,
    #[error(
        "the URL points back at this appliance ({0}); give the address of the receiver that \
         should get the events"
    )]
    IsSelf(String),
    #[error("the URL is longer than 2,000 characters")]
    TooLong,
}

/// Checks `text` as a webhook URL; returns it normalised.
pub fn check(text: &str, allow_http: bool, me: &SelfAddresses) -> Result<url::Url, TargetProblem> {
    let text = text.trim();
    if text.len() > 2000 {
        return Err(TargetProblem::TooLong);
    }
    let url = url::Url::parse(text).map_err(|e| TargetProblem::Malformed(e.to_string()))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_http => {}
        "http" => return Err(TargetProblem::NotHttps),
        _ => return Err(TargetProblem::Scheme),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(TargetProblem::Credentials);
    }
    let host = url.host().ok_or_else(|| TargetProblem::Malformed("no host".into()))?;
    let port = url.port_or_known_default().unwrap_or(443);
    if me.is_self(&host, port) {
        return Err(TargetProblem::IsSelf(format!("{host}:{port}")));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn me() -> SelfAddresses {
        SelfAddresses {
            hosts: ["adebox.example.org".to_string()].into(),
            ips: ["10.0.0.5".parse().unwrap()].into(),
            ports: [443, 8443].into(),
        }
    }

    #[test]
    fn https_receivers_elsewhere_are_accepted() {
        assert!(check("https://tools.example.org/hook", false, &me()).is_ok());
        assert!(check("https://127.0.0.1:9000/hook", false, &me()).is_ok());
        assert!(check("https://adebox.example.org:9000/hook", false, &me()).is_ok());
    }

    #[test]
    fn plain_http_needs_the_admin_s_permission() {
        assert_eq!(check("http://tools.example.org/", false, &me()), Err(TargetProblem::NotHttps));
        assert!(check("http://tools.example.org/", true, &me()).is_ok());
        assert_eq!(check("ftp://tools.example.org/", true, &me()), Err(TargetProblem::Scheme));
    }

    #[test]
    fn the_appliance_itself_is_refused() {
        for url in [
            "https://adebox.example.org/api",
            "https://ADEBOX.example.org.:8443/",
            "https://127.0.0.1:8443/mdm",
            "https://localhost/",
            "https://10.0.0.5/",
            "https://[::1]:8443/",
            "https://0.0.0.0:443/",
        ] {
            assert!(
                matches!(check(url, false, &me()), Err(TargetProblem::IsSelf(_))),
                "{url} should be refused"
            );
        }
    }

    #[test]
    fn credentials_and_nonsense_are_refused() {
        assert_eq!(check("https://u:p@x.example/", false, &me()), Err(TargetProblem::Credentials));
        assert!(matches!(check("not a url", false, &me()), Err(TargetProblem::Malformed(_))));
        let long = format!("https://x.example/{}", "a".repeat(2100));
        assert_eq!(check(&long, false, &me()), Err(TargetProblem::TooLong));
    }
}
