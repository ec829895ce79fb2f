//! The bootstrap configuration file, `/etc/adebox/adebox.toml`.
//!
//! Only what the daemon needs before it can open its store and listen: the data directory,
//! listen addresses, the public host names used in URLs and in the server certificate, an
//! optional certificate of the admin's own, the log level, and the way to Apple (the DEP API
//! and APNs URLs, extra roots for them, an outbound proxy). Everything an admin changes at
//! run time lives in the store. Unknown keys and bad values are refused with a message that
//! names the key and the fix; every key is documented in docs/configuration.md with its default.

mod acme;
mod apple;
mod backup;
mod metrics;

pub use acme::{AcmeConfig, DEFAULT_CHALLENGE_LISTEN, Eab};
pub use apple::{AppleConfig, OutboundFileConfig};
pub use backup::{BackupConfig, BackupSeal, DEFAULT_KEEP, Retention};
pub use metrics::MetricsConfig;

use apple::{RawApple, RawOutbound, parse_apple, parse_outbound};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Where the packaged daemon reads its configuration.
pub const DEFAULT_PATH: &str = "/etc/adebox/adebox.toml";

#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub data_dir: PathBuf,
    pub log_level: log::LevelFilter,
    /// Addresses of the HTTPS listener (admin page, API, device endpoints).
    pub https_listen: Vec<SocketAddr>,
    /// Optional plain-HTTP listener that only redirects to HTTPS.
    pub http_redirect_listen: Option<SocketAddr>,
    /// Host names and IP addresses this appliance is reached by; the first one is used in
    /// every URL it hands out (enrollment, ACME, MDM). All of them go into its certificate.
    pub public_hosts: Vec<String>,
    /// Port in the URLs handed out (differs from the listener's when behind port forwarding).
    pub public_port: u16,
    /// The admin's own certificate chain and key instead of the self-managed one.
    pub tls_cert_file: Option<PathBuf>,
    pub tls_key_file: Option<PathBuf>,
    /// The server certificate from an ACME CA (`[tls.acme]`), when set.
    pub tls_acme: Option<AcmeConfig>,
    /// `tls.confirm_reassign`: a certificate switch made in this file (`[tls.acme]`,
    /// `tls.cert_file`) is confirmed in advance; otherwise it waits for an admin (`tls::hold`).
    pub tls_confirm_reassign: bool,
    /// Minutes a device waiting in "Awaiting final configuration" is given to acknowledge its
    /// name before DeviceConfigured releases it anyway (with a warning on its timeline).
    pub mdm_release_timeout_minutes: u32,
    /// A checkout of apple/device-management (`[mdm] schemas_dir`): when set, commands and
    /// uploaded profiles are checked against Apple's schemas (`crate::schemas`).
    pub mdm_schemas_dir: Option<PathBuf>,
    /// Where Apple's services are and which extra roots are trusted for them.
    pub apple: AppleConfig,
    /// The outbound proxy named in the file (the environment's applies when there is none).
    pub outbound: OutboundFileConfig,
    /// Whether `GET /metrics` answers, and to which addresses without a token.
    pub metrics: MetricsConfig,
    /// The daily backup, when `backup.directory` is set.
    pub backup: Option<BackupConfig>,
}

/// Default of `mdm.release_timeout_minutes`.
pub const DEFAULT_RELEASE_TIMEOUT_MINUTES: u32 = 5;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {detail}")]
    Read { path: PathBuf, detail: String },
    #[error("the configuration file {path} is not valid: {detail}")]
    Syntax { path: PathBuf, detail: String },
    #[error("{path}: `{key}` {problem}. Fix: {fix}")]
    Value { path: PathBuf, key: &'static str, problem: String, fix: String },
}

/// The file's shape; every table and key refuses unknown neighbours.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    data_dir: Option<String>,
    log_level: Option<String>,
    #[serde(default)]
    listen: RawListen,
    #[serde(default)]
    public: RawPublic,
    #[serde(default)]
    tls: RawTls,
    #[serde(default)]
    mdm: RawMdm,
    #[serde(default)]
    apple: RawApple,
    #[serde(default)]
    outbound: RawOutbound,
    #[serde(default)]
    metrics: metrics::RawMetrics,
    #[serde(default)]
    backup: backup::RawBackup,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawMdm {
    release_timeout_minutes: Option<i64>,
    schemas_dir: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawListen {
    https: Option<Vec<String>>,
    http_redirect: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawPublic {
    hosts: Option<Vec<String>>,
    port: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawTls {
    cert_file: Option<String>,
    key_file: Option<String>,
    acme: Option<acme::RawAcme>,
    confirm_reassign: Option<bool>,
}

impl Config {
    /// Reads and validates a configuration file. A missing file at the default path means
    /// "all defaults"; a missing file named explicitly is an error.
    pub fn load(path: &Path, explicit: bool) -> Result<Config, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => String::new(),
            Err(e) => {
                return Err(ConfigError::Read { path: path.into(), detail: e.to_string() });
            }
        };
        Self::parse(&text, path)
    }

    /// Parses and validates configuration text; `path` is only used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            path: path.into(),
            detail: e.to_string().trim_end().replace('\n', "\n    "),
        })?;
        let bad = |key, problem: String, fix: &str| ConfigError::Value {
            path: path.into(),
            key,
            problem,
            fix: fix.to_string(),
        };

        let data_dir = PathBuf::from(raw.data_dir.unwrap_or_else(|| "/var/lib/adebox".into()));
        if !data_dir.is_absolute() {
            return Err(bad(
                "data_dir",
                format!("is `{}`, a relative path", data_dir.display()),
                "use an absolute path such as \"/var/lib/adebox\"",
            ));
        }

        let log_level = match raw.log_level.as_deref().unwrap_or("info") {
            "error" => log::LevelFilter::Error,
            "warn" => log::LevelFilter::Warn,
            "info" => log::LevelFilter::Info,
            "debug" => log::LevelFilter::Debug,
            "trace" => log::LevelFilter::Trace,
            other => {
                return Err(bad(
                    "log_level",
                    format!("is `{other}`"),
                    "use one of \"error\", \"warn\", \"info\", \"debug\", \"trace\"",
                ));
            }
        };

        let https = raw.listen.https.unwrap_or_else(|| vec!["0.0.0.0:443".into()]);
        if https.is_empty() {
            return Err(bad(
                "listen.https",
                "is empty".into(),
                "list at least one address, e.g. [\"0.0.0.0:443\"]",
            ));
        }
        let https_listen = https
            .iter()
            .map(|a| {
                a.parse::<SocketAddr>().map_err(|_| {
                    bad(
                        "listen.https",
                        format!("contains `{a}`, which is not an IP address with a port"),
                        "write addresses like \"0.0.0.0:443\" or \"[::]:443\"",
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let http_redirect_listen = match raw.listen.http_redirect.as_deref() {
            None | Some("") => None,
            Some(a) => Some(a.parse::<SocketAddr>().map_err(|_| {
                bad(
                    "listen.http_redirect",
                    format!("is `{a}`, which is not an IP address with a port"),
                    "write an address like \"0.0.0.0:80\", or remove the key to turn it off",
                )
            })?),
        };

        let public_hosts = match raw.public.hosts {
            Some(h) => h,
            None => vec![default_host_name()],
        };
        if public_hosts.is_empty() {
            return Err(bad(
                "public.hosts",
                "is empty".into(),
                "list the DNS name devices use to reach this server, e.g. [\"adebox.example.org\"]",
            ));
        }
        for h in &public_hosts {
            if h.parse::<std::net::IpAddr>().is_err() && !crate::crypto::ca::is_dns_name(h) {
                return Err(bad(
                    "public.hosts",
                    format!("contains `{h}`, which is neither a DNS name nor an IP address"),
                    "use names like \"adebox.example.org\" (no scheme, no port, no path)",
                ));
            }
        }
        let public_port = match raw.public.port {
            None => https_listen[0].port(),
            Some(p) if (1..=65535).contains(&p) => p as u16,
            Some(p) => {
                return Err(bad(
                    "public.port",
                    format!("is {p}"),
                    "use a port from 1 to 65535 (or remove it to use the listener's port)",
                ));
            }
        };

        let tls_cert_file = raw.tls.cert_file.filter(|s| !s.is_empty()).map(PathBuf::from);
        let tls_key_file = raw.tls.key_file.filter(|s| !s.is_empty()).map(PathBuf::from);
        match (&tls_cert_file, &tls_key_file) {
            (Some(_), None) => {
                return Err(bad(
                    "tls.key_file",
                    "is missing while tls.cert_file is set".into(),
                    "set both tls.cert_file and tls.key_file, or neither to let adebox manage its certificate",
                ));
            }
            (None, Some(_)) => {
                return Err(bad(
                    "tls.cert_file",
                    "is missing while tls.key_file is set".into(),
                    "set both tls.cert_file and tls.key_file, or neither to let adebox manage its certificate",
                ));
            }
            _ => {}
        }

        let tls_acme = acme::parse_acme(raw.tls.acme, tls_cert_file.is_some(), &bad)?;

        let mdm_release_timeout_minutes = match raw.mdm.release_timeout_minutes {
            None => DEFAULT_RELEASE_TIMEOUT_MINUTES,
            Some(m) if (1..=1440).contains(&m) => m as u32,
            Some(m) => {
                return Err(bad(
                    "mdm.release_timeout_minutes",
                    format!("is {m}"),
                    "use a number of minutes from 1 to 1440 (a day)",
                ));
            }
        };

        let mdm_schemas_dir = raw.mdm.schemas_dir.filter(|s| !s.is_empty()).map(PathBuf::from);
        if let Some(d) = mdm_schemas_dir.as_ref().filter(|d| !d.is_absolute()) {
            return Err(bad(
                "mdm.schemas_dir",
                format!("is `{}`, a relative path", d.display()),
                "use the absolute path of a checkout of apple/device-management, such as \
                 \"/var/lib/adebox/device-management\"",
            ));
        }

        let apple = parse_apple(raw.apple, &bad)?;
        let outbound = parse_outbound(raw.outbound, &bad)?;
        let metrics = metrics::parse_metrics(raw.metrics, &bad)?;
        let backup = backup::parse_backup(raw.backup, &bad)?;

        Ok(Config {
            data_dir,
            log_level,
            https_listen,
            http_redirect_listen,
            public_hosts,
            public_port,
            tls_cert_file,
            tls_key_file,
            tls_acme,
            tls_confirm_reassign: raw.tls.confirm_reassign.unwrap_or(false),
            mdm_release_timeout_minutes,
            mdm_schemas_dir,
            apple,
            outbound,
            metrics,
            backup,
        })
    }

    /// The configuration sandbox mode and tests run with.
    pub fn for_sandbox(data_dir: PathBuf, listen: SocketAddr) -> Config {
        Config {
            data_dir,
            log_level: log::LevelFilter::Info,
            https_listen: vec![listen],
            http_redirect_listen: None,
            public_hosts: vec!["localhost".into(), "127.0.0.1".into()],
            public_port: listen.port(),
            tls_cert_file: None,
            tls_key_file: None,
            tls_acme: None,
            tls_confirm_reassign: false,
            mdm_release_timeout_minutes: DEFAULT_RELEASE_TIMEOUT_MINUTES,
            mdm_schemas_dir: None,
            apple: AppleConfig::default(),
            outbound: OutboundFileConfig::default(),
            // The sandbox shows every feature: `/metrics` answers admins' API tokens.
            metrics: MetricsConfig { enabled: true, allow: Vec::new() },
            backup: None,
        }
    }

    /// The configuration as TOML, as `check-config` prints it.
    pub fn to_toml(&self) -> String {
        let quote = |s: &str| format!("{s:?}");
        let list = |v: Vec<String>| format!("[{}]", v.join(", "));
        let mut out = String::new();
        out += &format!("data_dir = {}\n", quote(&self.data_dir.display().to_string()));
        out += &format!(
            "log_level = {}\n\n[listen]\n",
            quote(&self.log_level.to_string().to_lowercase())
        );
        out += &format!(
            "https = {}\n",
            list(self.https_listen.iter().map(|a| quote(&a.to_string())).collect())
        );
        if let Some(a) = self.http_redirect_listen {
            out += &format!("http_redirect = {}\n", quote(&a.to_string()));
        }
        out += &format!(
            "\n[public]\nhosts = {}\nport = {}\n",
            list(self.public_hosts.iter().map(|h| quote(h)).collect()),
            self.public_port
        );
        if let (Some(c), Some(k)) = (&self.tls_cert_file, &self.tls_key_file) {
            out += &format!(
                "\n[tls]\ncert_file = {}\nkey_file = {}\n",
                quote(&c.display().to_string()),
                quote(&k.display().to_string())
            );
            if self.tls_confirm_reassign {
                out += "confirm_reassign = true\n";
            }
        } else if self.tls_confirm_reassign {
            out += "\n[tls]\nconfirm_reassign = true\n";
        }
        if let Some(a) = &self.tls_acme {
            out += &a.to_toml(&quote);
        }
        out +=
            &format!("\n[mdm]\nrelease_timeout_minutes = {}\n", self.mdm_release_timeout_minutes);
        if let Some(d) = &self.mdm_schemas_dir {
            out += &format!("schemas_dir = {}\n", quote(&d.display().to_string()));
        }
        out += &format!(
            "\n[apple]\ndep_url = {}\napns_url = {}\n",
            quote(self.apple.dep_url.as_str()),
            quote(self.apple.apns_url.as_str())
        );
        if let Some(f) = &self.apple.extra_ca_file {
            out += &format!("extra_ca_file = {}\n", quote(&f.display().to_string()));
        }
        if self.metrics.enabled {
            out += "\n[metrics]\nenabled = true\n";
            if !self.metrics.allow.is_empty() {
                out += &format!(
                    "allow = {}\n",
                    list(self.metrics.allow.iter().map(|n| quote(&n.to_string())).collect())
                );
            }
        }
        if let Some(b) = &self.backup {
            out += &b.to_toml(&quote);
        }
        if let Some(p) = &self.outbound.proxy {
            out += "\n[outbound]\n";
            if p.has_credentials() {
                out += "# the password is not shown\n";
            }
            out += &format!("proxy = {}\n", quote(&p.redacted()));
            if !self.outbound.no_proxy.entries().is_empty() {
                out += &format!(
                    "no_proxy = {}\n",
                    list(self.outbound.no_proxy.entries().iter().map(|e| quote(e)).collect())
                );
            }
        }
        out
    }
}

/// The machine's host name, the best default for the name devices use.
fn default_host_name() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .filter(|h| crate::crypto::ca::is_dns_name(h))
        .unwrap_or_else(|| "localhost".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("/etc/adebox/adebox.toml"))
    }

    #[test]
    fn the_release_timeout_is_read_and_bounded() {
        assert_eq!(parse("").unwrap().mdm_release_timeout_minutes, 5);
        let c = parse("[mdm]\nrelease_timeout_minutes = 30\n").unwrap();
        assert_eq!(c.mdm_release_timeout_minutes, 30);
        assert_eq!(c.mdm_schemas_dir, None);
        let d = parse("[mdm]\nschemas_dir = \"/srv/device-management\"\n").unwrap();
        assert_eq!(d.mdm_schemas_dir, Some(PathBuf::from("/srv/device-management")));
        assert!(d.to_toml().contains("schemas_dir = \"/srv/device-management\""));
        let e = parse("[mdm]\nschemas_dir = \"device-management\"\n").unwrap_err();
        assert!(e.to_string().contains("mdm.schemas_dir") && e.to_string().contains("absolute"));
        assert!(c.to_toml().contains("release_timeout_minutes = 30"));
        for bad in ["0", "1441", "-3"] {
            let e = parse(&format!("[mdm]\nrelease_timeout_minutes = {bad}\n")).unwrap_err();
            assert!(e.to_string().contains("mdm.release_timeout_minutes"), "{e}");
        }
    }

    #[test]
    fn an_empty_file_means_every_default() {
        let c = parse("").unwrap();
        assert_eq!(c.data_dir, PathBuf::from("/var/lib/adebox"));
        assert_eq!(c.https_listen, vec!["0.0.0.0:443".parse().unwrap()]);
        assert_eq!(c.public_port, 443);
        assert_eq!(c.http_redirect_listen, None);
        assert_eq!(c.log_level, log::LevelFilter::Info);
        assert_eq!(c.public_hosts.len(), 1);
    }

    #[test]
    fn reads_every_key() {
        let c = parse(
            r#"
            data_dir = "/srv/adebox"
            log_level = "debug"
            [listen]
            https = ["0.0.0.0:8443", "[::]:8443"]
            http_redirect = "0.0.0.0:80"
            [public]
            hosts = ["ade.example.org", "10.0.0.5"]
            port = 443
            [tls]
            cert_file = "/etc/ssl/ade.pem"
            key_file = "/etc/ssl/ade.key"
            "#,
        )
        .unwrap();
        assert_eq!(c.https_listen.len(), 2);
        assert_eq!(c.public_port, 443);
        assert_eq!(c.public_hosts[0], "ade.example.org");
        assert_eq!(c.tls_key_file.unwrap(), PathBuf::from("/etc/ssl/ade.key"));
        assert_eq!(parse(&c_roundtrip()).unwrap().data_dir, PathBuf::from("/srv/adebox"));
    }

    fn c_roundtrip() -> String {
        let mut c = Config::for_sandbox("/srv/adebox".into(), "127.0.0.1:8443".parse().unwrap());
        c.http_redirect_listen = Some("127.0.0.1:8080".parse().unwrap());
        c.to_toml()
    }

    #[test]
    fn refuses_unknown_keys_naming_them() {
        let err = parse("[listen]\nhtps = [\"0.0.0.0:443\"]\n").unwrap_err().to_string();
        assert!(err.contains("htps"), "{err}");
        let err = parse("datadir = \"/x\"\n").unwrap_err().to_string();
        assert!(err.contains("datadir") && err.contains("data_dir"), "{err}");
    }

    #[test]
    fn refuses_bad_values_naming_key_and_fix() {
        for (text, key) in [
            ("data_dir = \"relative/dir\"", "data_dir"),
            ("log_level = \"loud\"", "log_level"),
            ("[listen]\nhttps = [\"0.0.0.0\"]", "listen.https"),
            ("[listen]\nhttps = []", "listen.https"),
            ("[listen]\nhttp_redirect = \"nope\"", "listen.http_redirect"),
            ("[public]\nhosts = [\"https://x.example\"]", "public.hosts"),
            ("[public]\nhosts = []", "public.hosts"),
            ("[public]\nport = 70000", "public.port"),
            ("[tls]\ncert_file = \"/a.pem\"", "tls.key_file"),
        ] {
            let err = parse(text).unwrap_err().to_string();
            assert!(err.contains(&format!("`{key}`")), "{text}: {err}");
            assert!(err.contains("Fix:"), "{text}: {err}");
        }
    }

    #[test]
    fn apple_services_default_to_apples_own_and_no_proxy() {
        let c = parse("").unwrap();
        assert_eq!(c.apple.dep_url.as_str(), "https://mdmenrollment.apple.com");
        assert_eq!(c.apple.apns_url.as_str(), "https://api.push.apple.com");
        assert_eq!(c.apple.extra_ca_file, None);
        assert_eq!(c.outbound, OutboundFileConfig::default());
        let toml = c.to_toml();
        assert!(toml.contains("dep_url = \"https://mdmenrollment.apple.com\""), "{toml}");
        assert!(!toml.contains("[outbound]"), "{toml}");
    }

    #[test]
    fn reads_the_apple_endpoints_the_extra_roots_and_the_proxy() {
        let c = parse(
            r#"
            [apple]
            dep_url = "https://dep.test.example:8444/"
            apns_url = "https://api.push.apple.com:2197"
            extra_ca_file = "/etc/adebox/test-ca.pem"
            [outbound]
            proxy = "http://ops:pa%24%24word@proxy.example.org:3128"
            no_proxy = [".internal.example", "10.0.0.0/8"]
            "#,
        )
        .unwrap();
        assert_eq!(c.apple.dep_url.as_str(), "https://dep.test.example:8444");
        assert_eq!(c.apple.apns_url.as_str(), "https://api.push.apple.com:2197");
        assert_eq!(c.apple.extra_ca_file, Some(PathBuf::from("/etc/adebox/test-ca.pem")));
        let proxy = c.outbound.proxy.as_ref().unwrap();
        assert_eq!(proxy.redacted(), "http://ops:***@proxy.example.org:3128");
        assert!(c.outbound.no_proxy.matches("10.1.2.3"));
        // check-config prints it without the password, and what it prints reads back.
        let toml = c.to_toml();
        assert!(!toml.contains("pa%24%24word") && toml.contains("ops:***@"), "{toml}");
        let again = parse(&toml).unwrap();
        assert_eq!(again.apple, c.apple);
        assert_eq!(again.outbound.no_proxy, c.outbound.no_proxy);
        // Empty values mean unset.
        let c = parse("[apple]\nextra_ca_file = \"\"\n[outbound]\nproxy = \"\"\n").unwrap();
        assert_eq!((c.apple.extra_ca_file, c.outbound.proxy), (None, None));
    }

    #[test]
    fn refuses_unusable_apple_endpoints_and_proxies_saying_why() {
        for (text, key, why) in [
            ("[apple]\ndep_url = \"http://dep.example\"", "apple.dep_url", "HTTPS only"),
            ("[apple]\ndep_url = \"dep.example\"", "apple.dep_url", "not a URL"),
            ("[apple]\ndep_url = \"https://dep.example/?x=1\"", "apple.dep_url", "query"),
            ("[apple]\ndep_url = \"https://dep.example/#x\"", "apple.dep_url", "fragment"),
            ("[apple]\napns_url = \"https://u:pw@apns.example\"", "apple.apns_url", "password"),
            ("[apple]\nextra_ca_file = \"ca.pem\"", "apple.extra_ca_file", "relative"),
            ("[outbound]\nproxy = \"socks5://p:1080\"", "outbound.proxy", "CONNECT"),
            ("[outbound]\nproxy = \"http://p:3128/x\"", "outbound.proxy", "path"),
            ("[outbound]\nproxy = \"http://u:pw@:3128\"", "outbound.proxy", "not a proxy URL"),
            (
                "[outbound]\nno_proxy = [\"x.example\"]",
                "outbound.no_proxy",
                "outbound.proxy is not",
            ),
            (
                "[outbound]\nproxy = \"http://p:1\"\nno_proxy = [\"http://x\"]",
                "outbound.no_proxy",
                "neither a host name",
            ),
        ] {
            let err = parse(text).unwrap_err().to_string();
            assert!(err.contains(&format!("`{key}`")), "{text}: {err}");
            assert!(err.contains(why) && err.contains("Fix:"), "{text}: {err}");
            assert!(!err.contains("pw@"), "the password is never repeated: {err}");
        }
        let err = parse("[apple]\ndep = \"https://x\"").unwrap_err().to_string();
        assert!(err.contains("dep_url"), "unknown keys name the known ones: {err}");
        let err = parse("[outbound]\nhttps_proxy = \"http://x:1\"").unwrap_err().to_string();
        assert!(err.contains("https_proxy") && err.contains("proxy"), "{err}");
    }

    #[test]
    fn refuses_a_wrong_type_with_the_location() {
        let err = parse("[public]\nport = \"443\"").unwrap_err().to_string();
        assert!(err.contains("port"), "{err}");
    }

    #[test]
    fn a_missing_default_file_is_defaults_but_a_missing_explicit_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("none.toml");
        assert!(Config::load(&missing, false).is_ok());
        assert!(Config::load(&missing, true).is_err());
    }
}
