//! Every externally visible URL, built from the configured public host and port.
//!
//! Devices and admins reach the appliance by the first name in `public.hosts`; the other
//! names only go into the certificate.

use crate::config::Config;

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

    /// The ACME directory devices use for their identity (../shared/spec/enrollment.md §2.3).
    pub fn acme_directory(&self) -> String {
        format!("{}/acme/directory", self.base())
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
