//! Where "Apple" is and how the daemon reaches it: for `serve`, the configuration alone
//! (`apple.dep_url`, `apple.apns_url`, `apple.extra_ca_file`, `outbound.proxy`, else the
//! environment's proxy); for the sandbox and tests, the simulators and their CAs.
//!
//! The extra roots go into the outbound clients of the DEP API and APNs only. The roots
//! devices are trusted through are chosen elsewhere ([`super::device_roots`]) and never see
//! them, so a test server's CA cannot make a device identity or attestation trusted
//! (design rule 10).

use super::DaemonError;
use crate::config::Config;
use crate::outbound::{AppleServices, Described, OutboundConfig, ProxyChoice, TrustRoots};

/// Where "Apple" is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AppleSide {
    /// What the configuration names: Apple's own services through the system's roots unless
    /// `[apple]` and `[outbound]` say otherwise (`serve`).
    Production,
    /// Simulators (sandbox and tests only): the DEP base URL, portal URL and CA, and the APNs
    /// simulator's URL and CA, trusted for outbound calls instead of the system's roots.
    Simulator {
        base_url: String,
        portal_url: String,
        ca_pem: String,
        apns_url: String,
        apns_ca_pem: String,
    },
}

/// The daemon's way to each Apple service, and what the page says about it.
pub struct Routes {
    pub dep_url: String,
    /// The client settings for the DEP API (and the sandbox's portal, on the same host).
    pub dep: OutboundConfig,
    pub apns: crate::push::ApnsOptions,
    /// The stand-in ABM portal, in the sandbox.
    pub portal_url: Option<String>,
    pub report: AppleServices,
    /// The outbound proxy of the site (None in the sandbox), for webhook deliveries.
    pub proxy: Option<ProxyChoice>,
    /// The Apple Business API (Apple's, or the simulator's beside its DEP API) and how it is
    /// reached.
    pub business: crate::business::Endpoints,
    pub business_out: OutboundConfig,
}

/// Resolves `apple`; `env` looks up an environment variable (the proxy's).
pub fn routes(
    apple: &AppleSide,
    config: &Config,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Routes, DaemonError> {
    match apple {
        AppleSide::Production => configured(config, env),
        AppleSide::Simulator { base_url, portal_url, ca_pem, apns_url, apns_ca_pem } => {
            Ok(Routes {
                dep_url: base_url.clone(),
                dep: OutboundConfig::trusting_only([ca_pem.clone()]),
                apns: crate::push::ApnsOptions::new(
                    apns_url,
                    OutboundConfig::trusting_only([apns_ca_pem.clone()]),
                ),
                portal_url: Some(portal_url.clone()),
                business: crate::business::Endpoints {
                    token_url: format!("{}/auth/oauth2/token", base_url.trim_end_matches('/')),
                    api_base: base_url.trim_end_matches('/').to_string(),
                },
                business_out: OutboundConfig::trusting_only([ca_pem.clone()]),
                report: AppleServices::describe(Described {
                    dep_url: base_url,
                    apns_url,
                    simulated: true,
                    extra_ca: None,
                    proxy: None,
                }),
                proxy: None,
            })
        }
    }
}

fn configured(
    config: &Config,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Routes, DaemonError> {
    let (dep_url, apns_url) = (&config.apple.dep_url, &config.apple.apns_url);
    let (trust, extra_ca) = match &config.apple.extra_ca_file {
        None => (TrustRoots::System, None),
        Some(path) => {
            let (pem, described) = crate::outbound::load_extra_roots(path)?;
            (TrustRoots::SystemAnd(vec![pem]), Some(described))
        }
    };
    let proxy =
        ProxyChoice::resolve(config.outbound.proxy.clone(), config.outbound.no_proxy.clone(), env)
            .map_err(crate::outbound::OutboundError::from)?;
    let via = |host: String| proxy.as_ref().and_then(|p| p.for_host(&host)).cloned();
    let base = OutboundConfig { trust, ..OutboundConfig::production() };
    let report = AppleServices::describe(Described {
        dep_url: dep_url.as_str(),
        apns_url: apns_url.as_str(),
        simulated: false,
        extra_ca,
        proxy: proxy.as_ref(),
    });
    for notice in &report.notices {
        log::warn!(code = notice.code.as_str(); "{}", notice.message);
    }
    let business = crate::business::Endpoints::default();
    let business_host = url::Url::parse(&business.api_base)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    Ok(Routes {
        dep_url: dep_url.to_string(),
        dep: base.clone().via(via(dep_url.host())),
        business_out: base.clone().via(via(business_host)),
        business,
        apns: crate::push::ApnsOptions::new(apns_url.as_str(), base.via(via(apns_url.host()))),
        portal_url: None,
        report,
        proxy,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn config(text: &str) -> Config {
        Config::parse(text, Path::new("/etc/adebox/adebox.toml")).unwrap()
    }

    #[test]
    fn serve_defaults_to_apple_through_the_system_roots_and_reads_the_environment_proxy() {
        let r = routes(&AppleSide::Production, &config(""), &|_| None).unwrap();
        assert_eq!(r.dep_url, crate::apple::dep::APPLE_BASE_URL);
        assert_eq!(r.apns.base_url, crate::apple::apns::PRODUCTION_URL);
        assert!(matches!(r.dep.trust, TrustRoots::System));
        assert!(r.dep.proxy.is_none() && r.apns.outbound.proxy.is_none());
        assert!(r.report.notices.is_empty());

        let env = |k: &str| match k {
            "HTTPS_PROXY" => Some("http://u:secret@proxy.example:3128".to_string()),
            "NO_PROXY" => Some("push.apple.com".to_string()),
            _ => None,
        };
        let r = routes(&AppleSide::Production, &config(""), &env).unwrap();
        assert_eq!(r.dep.proxy.as_ref().unwrap().redacted(), "http://u:***@proxy.example:3128");
        assert!(r.apns.outbound.proxy.is_none(), "NO_PROXY excludes APNs");
        assert_eq!(r.report.proxy.as_ref().unwrap().source, "HTTPS_PROXY");
    }

    #[test]
    fn serve_uses_the_configured_endpoints_extra_roots_and_proxy() {
        let dir = tempfile::tempdir().unwrap();
        let ca = crate::crypto::ca::Authority::generate(
            "Test DEP server CA",
            time::macros::datetime!(2026-01-01 00:00 UTC),
            time::Duration::days(30),
        )
        .unwrap();
        let ca_file = dir.path().join("ca.pem");
        std::fs::write(&ca_file, ca.cert_pem()).unwrap();
        let text = format!(
            "[apple]\ndep_url = \"https://127.0.0.1:8444\"\nextra_ca_file = \"{}\"\n[outbound]\nproxy = \"http://127.0.0.1:3128\"\n",
            ca_file.display()
        );
        // The configuration wins over the environment.
        let env = |_: &str| Some("http://env.example:1".to_string());
        let r = routes(&AppleSide::Production, &config(&text), &env).unwrap();
        assert_eq!(r.dep_url, "https://127.0.0.1:8444");
        assert!(matches!(&r.dep.trust, TrustRoots::SystemAnd(p) if p[0] == ca.cert_pem()));
        assert_eq!(r.dep.proxy.as_ref().unwrap().redacted(), "http://127.0.0.1:3128");
        assert_eq!(r.apns.outbound.proxy, r.dep.proxy);
        assert_eq!(r.report.trust, "system_and_extra");
        let subject = &r.report.extra_ca.as_ref().unwrap().certificates[0].subject;
        assert!(subject.contains("Test DEP server CA"), "{subject}");
        crate::outbound::client(&r.dep).unwrap();

        // A missing or unreadable file stops the start, naming the key.
        let missing = text.replace(&ca_file.display().to_string(), "/nonexistent/ca.pem");
        let err = routes(&AppleSide::Production, &config(&missing), &|_| None).err().unwrap();
        assert!(err.to_string().contains("apple.extra_ca_file /nonexistent/ca.pem"), "{err}");
        std::fs::write(&ca_file, "not a certificate").unwrap();
        let err = routes(&AppleSide::Production, &config(&text), &|_| None).err().unwrap();
        assert!(err.to_string().contains("no PEM certificate"), "{err}");
    }

    #[test]
    fn a_bad_environment_proxy_stops_the_start_naming_the_variable() {
        let env = |k: &str| (k == "https_proxy").then(|| "socks5://p:1080".to_string());
        let err = routes(&AppleSide::Production, &config(""), &env).err().unwrap();
        assert!(err.to_string().contains("https_proxy"), "{err}");
    }
}
