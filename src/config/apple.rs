//! The `[apple]` and `[outbound]` sections of the configuration file: the way to Apple's
//! services (or the test servers standing in for them) and the outbound proxy.

use super::ConfigError;
use crate::outbound::{NoProxy, ProxyUrl, ServiceUrl};
use serde::Deserialize;
use std::path::PathBuf;

/// `[apple]`: Apple's own services unless a test server is named.
#[derive(Clone, Debug, PartialEq)]
pub struct AppleConfig {
    /// The DEP API base URL every server token talks to.
    pub dep_url: ServiceUrl,
    /// The APNs base URL MDM pushes go to.
    pub apns_url: ServiceUrl,
    /// A PEM file of roots trusted, besides the system's, for these two services only.
    pub extra_ca_file: Option<PathBuf>,
}

impl Default for AppleConfig {
    fn default() -> Self {
        AppleConfig {
            dep_url: ServiceUrl::parse(crate::apple::dep::APPLE_BASE_URL)
                .expect("Apple's DEP URL is a valid https URL"),
            apns_url: ServiceUrl::parse(crate::apple::apns::PRODUCTION_URL)
                .expect("Apple's APNs URL is a valid https URL"),
            extra_ca_file: None,
        }
    }
}

/// `[outbound]`: the proxy, when the file names one (it then wins over the environment).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OutboundFileConfig {
    pub proxy: Option<ProxyUrl>,
    pub no_proxy: NoProxy,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawApple {
    dep_url: Option<String>,
    apns_url: Option<String>,
    extra_ca_file: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOutbound {
    proxy: Option<String>,
    no_proxy: Option<Vec<String>>,
}

pub(super) type Bad<'a> = dyn Fn(&'static str, String, &str) -> ConfigError + 'a;

pub(super) fn parse_apple(raw: RawApple, bad: &Bad<'_>) -> Result<AppleConfig, ConfigError> {
    let defaults = AppleConfig::default();
    let url = |key, value: Option<String>, default: ServiceUrl, example: &str| {
        match value {
        None => Ok(default),
        Some(v) => ServiceUrl::parse(&v).map_err(|p| {
            bad(
                key,
                p.to_string(),
                &format!(
                    "write an https URL like \"{example}\" (scheme, host, optional port and path), or remove the key to use Apple's"
                ),
            )
        }),
    }
    };
    let dep_url =
        url("apple.dep_url", raw.dep_url, defaults.dep_url, crate::apple::dep::APPLE_BASE_URL)?;
    let apns_url =
        url("apple.apns_url", raw.apns_url, defaults.apns_url, crate::apple::apns::PRODUCTION_URL)?;
    let extra_ca_file = raw.extra_ca_file.filter(|s| !s.is_empty()).map(PathBuf::from);
    if let Some(f) = &extra_ca_file
        && !f.is_absolute()
    {
        return Err(bad(
            "apple.extra_ca_file",
            format!("is `{}`, a relative path", f.display()),
            "use an absolute path such as \"/etc/adebox/test-server-ca.pem\"",
        ));
    }
    Ok(AppleConfig { dep_url, apns_url, extra_ca_file })
}

pub(super) fn parse_outbound(
    raw: RawOutbound,
    bad: &Bad<'_>,
) -> Result<OutboundFileConfig, ConfigError> {
    let proxy = match raw.proxy.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(p) => Some(ProxyUrl::parse(p).map_err(|problem| {
            bad(
                "outbound.proxy",
                problem.to_string(),
                "write it like \"http://proxy.example.org:3128\" (with \"user:password@\" before the host if the proxy asks for it), or remove the key to use the environment's HTTPS_PROXY",
            )
        })?),
    };
    let no_proxy = match raw.no_proxy {
        None => NoProxy::default(),
        Some(_) if proxy.is_none() => {
            return Err(bad(
                "outbound.no_proxy",
                "is set while outbound.proxy is not".into(),
                "set outbound.proxy too, or remove outbound.no_proxy (without outbound.proxy, the environment's HTTPS_PROXY and NO_PROXY apply)",
            ));
        }
        Some(list) => NoProxy::parse(&list).map_err(|problem| {
            bad(
                "outbound.no_proxy",
                problem,
                "list host names, domains (\".example.org\"), IP addresses or networks (\"10.0.0.0/8\")",
            )
        })?,
    };
    Ok(OutboundFileConfig { proxy, no_proxy })
}
