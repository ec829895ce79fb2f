//! Every externally visible URL, built from the configured public host and port.
//!
//! Devices and admins reach the appliance by the first name in `public.hosts`; the other
//! names only go into the certificate.

use crate::config::Config;

/// ACME paths below `/acme/` (RFC 8555 §7.1; the names are ours, devices follow the
/// directory).
pub const ACME_DIRECTORY: &str = "directory";
pub const ACME_NEW_NONCE: &str = "new-nonce";
pub const ACME_NEW_ACCOUNT: &str = "new-account";
pub const ACME_NEW_ORDER: &str = "new-order";
pub const ACME_ACCOUNT: &str = "acct";
pub const ACME_ORDER: &str = "order";
pub const ACME_AUTHZ: &str = "authz";
pub const ACME_CHALLENGE: &str = "chall";
pub const ACME_CERT: &str = "cert";
pub const ACME_REVOKE_CERT: &str = "revoke-cert";
pub const ACME_KEY_CHANGE: &str = "key-change";
/// Suffix of an account's orders list: `acct/{id}/orders`.
pub const ACME_ORDERS: &str = "orders";
/// Suffix of an order's finalize URL: `order/{id}/finalize`.
pub const ACME_FINALIZE: &str = "finalize";

#[derive(Clone, Debug)]
pub struct Urls {
    host: String,
    port: u16,
}

impl Urls {
    pub fn new(config: &Config) -> Urls {
        Urls {
            host: config.public_hosts.first().cloned().unwrap_or_else(|| "localhost".into()),
            port: config.public_port,
        }
    }

    /// `https://host[:port]` (the port is left out when it is 443).
    pub fn base(&self) -> String {
        let host =
            if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        if self.port == 443 {
            format!("https://{host}")
        } else {
            format!("https://{host}:{}", self.port)
        }
    }

    /// Where devices post their signed MachineInfo during Setup Assistant: a profile's `url`
    /// (../shared/spec/dep-api.md §4). Served by the enrollment module.
    pub fn enroll_machine_info(&self) -> String {
        format!("{}/enroll/machineinfo", self.base())
    }

    /// The web sign-in page for profiles with user affinity: a profile's
    /// `configuration_web_url` (../shared/spec/dep-api.md §4). Served by the enrollment module.
    pub fn enroll_web(&self) -> String {
        format!("{}/enroll/web", self.base())
    }

    /// Where an OpenID Connect provider sends the user back to the sign-in page (the redirect
    /// URI to register at the provider). Served by `http::signin`.
    pub fn enroll_web_oidc_callback(&self) -> String {
        format!("{}/enroll/web/oidc/callback", self.base())
    }

    /// The SCEP server (the `URL` of the profile's SCEP payload, spec §2.5); devices append
    /// `?operation=…`.
    pub fn scep(&self) -> String {
        format!("{}/scep", self.base())
    }

    /// The MDM command endpoint (`ServerURL`, spec §2.2).
    pub fn mdm_server(&self) -> String {
        format!("{}/mdm/connect", self.base())
    }

    /// The MDM check-in endpoint (`CheckInURL`, spec §2.2).
    pub fn mdm_checkin(&self) -> String {
        format!("{}/mdm/checkin", self.base())
    }

    pub fn admin_page(&self) -> String {
        format!("{}/admin/", self.base())
    }

    /// The same URLs with another port: a listener configured on port 0 (tests) only learns
    /// its port once bound.
    pub fn with_port(mut self, port: u16) -> Urls {
        self.port = port;
        self
    }

    /// The ACME directory (the `DirectoryURL` of the enrollment profile's ACME payload).
    pub fn acme_directory(&self) -> String {
        self.acme(ACME_DIRECTORY)
    }

    /// An ACME resource: `acme(ACME_NEW_ORDER)`, `acme(&format!("{ACME_ORDER}/{id}"))`.
    pub fn acme(&self, path: &str) -> String {
        format!("{}/acme/{path}", self.base())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaves_out_the_default_port_and_brackets_ipv6() {
        let mut c = Config::for_sandbox("/tmp/x".into(), "127.0.0.1:443".parse().unwrap());
        c.public_hosts = vec!["ade.example.org".into()];
        assert_eq!(Urls::new(&c).admin_page(), "https://ade.example.org/admin/");
        c.public_port = 8443;
        c.public_hosts = vec!["::1".into()];
        assert_eq!(Urls::new(&c).base(), "https://[::1]:8443");
    }
}
