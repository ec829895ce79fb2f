//! The `[metrics]` section of the configuration file: whether `GET /metrics` answers at all,
//! and which client addresses may read it without an API token.

use super::ConfigError;
use super::apple::Bad;
use crate::outbound::IpNet;
use serde::Deserialize;
use std::net::IpAddr;

/// `[metrics]`: off unless enabled; when on, admins' API tokens may always read the
/// metrics, and clients from `allow` without one.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MetricsConfig {
    pub enabled: bool,
    /// Address ranges (a Prometheus server's) that may scrape without a token.
    pub allow: Vec<IpNet>,
}

impl MetricsConfig {
    /// Whether a client at `ip` may scrape without a token.
    pub fn allows(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.allow.iter().any(|net| net.contains(ip))
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMetrics {
    enabled: Option<bool>,
    allow: Option<Vec<String>>,
}

pub(super) fn parse_metrics(raw: RawMetrics, bad: &Bad<'_>) -> Result<MetricsConfig, ConfigError> {
    let allow = raw
        .allow
        .unwrap_or_default()
        .iter()
        .map(|a| {
            a.parse::<IpNet>().map_err(|()| {
                bad(
                    "metrics.allow",
                    format!("contains `{a}`, which is not an IP address or network"),
                    "write addresses or networks like \"10.0.0.5\" or \"10.0.0.0/24\" (no host names)",
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let enabled = raw.enabled.unwrap_or(false);
    if !enabled && !allow.is_empty() {
        return Err(bad(
            "metrics.allow",
            "is set while metrics.enabled is not true".into(),
            "add `enabled = true` under [metrics] to serve /metrics, or remove metrics.allow",
        ));
    }
    Ok(MetricsConfig { enabled, allow })
}

#[cfg(test)]
mod tests {
    use super::super::Config;
    use std::path::Path;

    fn parse(text: &str) -> Result<Config, super::ConfigError> {
        Config::parse(text, Path::new("/etc/adebox/adebox.toml"))
    }

    #[test]
    fn metrics_are_off_by_default_and_ranges_are_read() {
        assert!(!parse("").unwrap().metrics.enabled);
        let c = parse("[metrics]\nenabled = true\nallow = [\"10.0.0.0/8\", \"::1\"]\n").unwrap();
        assert!(c.metrics.enabled);
        assert!(c.metrics.allows("10.1.2.3".parse().unwrap()));
        assert!(c.metrics.allows("::ffff:10.1.2.3".parse().unwrap()));
        assert!(c.metrics.allows("::1".parse().unwrap()));
        assert!(!c.metrics.allows("192.168.1.1".parse().unwrap()));
        let again = parse(&c.to_toml()).unwrap();
        assert_eq!(again.metrics, c.metrics);
    }

    #[test]
    fn bad_ranges_name_the_key_and_the_fix() {
        for text in [
            "[metrics]\nenabled = true\nallow = [\"prometheus.example\"]",
            "[metrics]\nenabled = true\nallow = [\"10.0.0.0/33\"]",
            "[metrics]\nallow = [\"10.0.0.0/8\"]",
        ] {
            let err = parse(text).unwrap_err().to_string();
            assert!(err.contains("`metrics.allow`") && err.contains("Fix:"), "{text}: {err}");
        }
    }
}
