//! What the appliance tells the admin about its way to Apple: which DEP API and APNs it
//! talks to, which roots it trusts for them, and which proxy carries the traffic, with a
//! plain notice for every setting that is not the default, so nobody runs against a test
//! server by accident. `/api/v1/status` carries it and the Settings page shows it.
//!
//! Exposes [`AppleServices`] (built once at start; the configuration needs a restart to
//! change) and its parts. Holds no secret: the proxy is shown redacted.

use super::ProxyChoice;
use serde::Serialize;

/// How the appliance reaches Apple.
#[derive(Clone, Debug, Serialize)]
pub struct AppleServices {
    /// The DEP API (device assignment) every server token talks to.
    pub dep_api: ServiceRoute,
    /// The push service MDM wake-ups go to.
    pub apns: ServiceRoute,
    /// `system` (the operating system's roots), `system_and_extra` (those plus
    /// `apple.extra_ca_file`), or `simulator` (the sandbox's: only the simulators' CAs).
    pub trust: String,
    /// The extra roots of `apple.extra_ca_file`, trusted for these two services only.
    pub extra_ca: Option<ExtraCa>,
    /// The outbound proxy in effect (credentials shown as `user:***@`), or null.
    pub proxy: Option<ProxyInUse>,
    /// One notice per setting that is not the default.
    pub notices: Vec<Notice>,
}

/// One Apple service.
#[derive(Clone, Debug, Serialize)]
pub struct ServiceRoute {
    pub url: String,
    /// Whether this is Apple's own service.
    pub apple: bool,
    /// Whether requests to it go through the proxy.
    pub via_proxy: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct ExtraCa {
    pub file: String,
    pub certificates: Vec<crate::certinfo::CertInfo>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ProxyInUse {
    /// The proxy's URL, password replaced by `***`.
    pub url: String,
    /// `outbound.proxy`, or the environment variable it came from (`HTTPS_PROXY`, …).
    pub source: String,
    /// Hosts reached without it.
    pub no_proxy: Vec<String>,
}

/// A setting that is not the default, in plain words.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Notice {
    /// `dep_api_not_apple`, `apns_not_apple`, `extra_ca` or `proxy`.
    pub code: String,
    pub message: String,
}

/// What [`AppleServices::describe`] is given.
pub struct Described<'a> {
    pub dep_url: &'a str,
    pub apns_url: &'a str,
    pub simulated: bool,
    pub extra_ca: Option<ExtraCa>,
    pub proxy: Option<&'a ProxyChoice>,
}

impl AppleServices {
    pub fn describe(d: Described<'_>) -> AppleServices {
        let route = |url: &str, apple: &str| ServiceRoute {
            url: url.to_string(),
            apple: url == apple,
            via_proxy: d.proxy.is_some_and(|p| {
                super::service_url::host_of(url).is_some_and(|h| p.for_host(&h).is_some())
            }),
        };
        let dep_api = route(d.dep_url, crate::apple::dep::APPLE_BASE_URL);
        let apns = route(d.apns_url, crate::apple::apns::PRODUCTION_URL);
        let mut notices = Vec::new();
        let mut notice = |code: &str, message: String| {
            notices.push(Notice { code: code.into(), message });
        };
        let why = |key: &str| {
            if d.simulated {
                "the sandbox's simulator".to_string()
            } else {
                format!("not Apple's; set by {key}")
            }
        };
        if !dep_api.apple {
            notice(
                "dep_api_not_apple",
                format!("Apple DEP API: {} ({})", dep_api.url, why("apple.dep_url")),
            );
        }
        if !apns.apple {
            notice("apns_not_apple", format!("APNs: {} ({})", apns.url, why("apple.apns_url")));
        }
        if let Some(ca) = &d.extra_ca {
            let subjects: Vec<&str> = ca.certificates.iter().map(|c| c.subject.as_str()).collect();
            notice(
                "extra_ca",
                format!(
                    "Also trusted for the DEP API and APNs: {} from {} (apple.extra_ca_file)",
                    subjects.join("; "),
                    ca.file
                ),
            );
        }
        if let Some(p) = d.proxy {
            let used_by: Vec<&str> = [("the DEP API", dep_api.via_proxy), ("APNs", apns.via_proxy)]
                .into_iter()
                .filter_map(|(name, used)| used.then_some(name))
                .collect();
            let scope = if used_by.is_empty() {
                "used by neither service (both are in its no-proxy list)".to_string()
            } else {
                format!("for {}", used_by.join(" and "))
            };
            notice("proxy", format!("Outbound proxy {} {scope} (from {})", p.url, p.source));
        }
        AppleServices {
            dep_api,
            apns,
            trust: match (d.simulated, d.extra_ca.is_some()) {
                (true, _) => "simulator",
                (false, false) => "system",
                (false, true) => "system_and_extra",
            }
            .into(),
            extra_ca: d.extra_ca,
            proxy: d.proxy.map(|p| ProxyInUse {
                url: p.url.redacted(),
                source: p.source.to_string(),
                no_proxy: p.no_proxy.entries().to_vec(),
            }),
            notices,
        }
    }

    /// Apple's services, the system's roots, no proxy: the default, with nothing to notice.
    pub fn apple_default() -> AppleServices {
        AppleServices::describe(Described {
            dep_url: crate::apple::dep::APPLE_BASE_URL,
            apns_url: crate::apple::apns::PRODUCTION_URL,
            simulated: false,
            extra_ca: None,
            proxy: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbound::{NoProxy, ProxySource, ProxyUrl};

    #[test]
    fn the_default_has_nothing_to_notice() {
        let a = AppleServices::apple_default();
        assert!(a.notices.is_empty());
        assert!(a.dep_api.apple && a.apns.apple);
        assert_eq!(a.trust, "system");
    }

    #[test]
    fn every_setting_that_is_not_the_default_gets_a_notice_without_secrets() {
        let proxy = ProxyChoice {
            url: ProxyUrl::parse("http://u:hunter2@proxy.example:3128").unwrap(),
            source: ProxySource::Environment("HTTPS_PROXY"),
            no_proxy: NoProxy::parse(&["push.apple.com"]).unwrap(),
        };
        let a = AppleServices::describe(Described {
            dep_url: "https://dep.test.example",
            apns_url: crate::apple::apns::PRODUCTION_URL,
            simulated: false,
            extra_ca: Some(ExtraCa {
                file: "/etc/adebox/test-ca.pem".into(),
                certificates: vec![],
            }),
            proxy: Some(&proxy),
        });
        let codes: Vec<&str> = a.notices.iter().map(|n| n.code.as_str()).collect();
        assert_eq!(codes, ["dep_api_not_apple", "extra_ca", "proxy"]);
        assert_eq!(
            a.notices[0].message,
            "Apple DEP API: https://dep.test.example (not Apple's; set by apple.dep_url)"
        );
        assert!(a.dep_api.via_proxy && !a.apns.via_proxy);
        assert!(a.notices[2].message.contains("for the DEP API (from HTTPS_PROXY)"));
        assert_eq!(a.trust, "system_and_extra");
        let json = serde_json::to_string(&a).unwrap();
        assert!(!json.contains("hunter2") && json.contains("u:***@"), "{json}");
    }

    #[test]
    fn the_sandbox_says_its_simulators_are_not_apple() {
        let a = AppleServices::describe(Described {
            dep_url: "https://127.0.0.1:8444",
            apns_url: "https://127.0.0.1:8445",
            simulated: true,
            extra_ca: None,
            proxy: None,
        });
        assert_eq!(a.trust, "simulator");
        assert_eq!(
            a.notices[0].message,
            "Apple DEP API: https://127.0.0.1:8444 (the sandbox's simulator)"
        );
        assert_eq!(a.notices[1].message, "APNs: https://127.0.0.1:8445 (the sandbox's simulator)");
    }
}
