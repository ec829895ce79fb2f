//! Views of the Settings page: the TLS certificates and how the appliance reaches Apple.

use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;

/// What the page shows about one certificate.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    pub sans: Vec<String>,
    pub fingerprint_sha256: String,
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
}

impl From<&crate::tls::CertInfo> for CertInfo {
    fn from(r: &crate::tls::CertInfo) -> CertInfo {
        CertInfo {
            subject: r.subject.clone(),
            issuer: r.issuer.clone(),
            sans: r.sans.clone(),
            fingerprint_sha256: r.fingerprint_sha256.clone(),
            not_before: r.not_before,
            not_after: r.not_after,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TlsMode {
    /// Issued by the appliance CA and renewed automatically.
    SelfManaged,
    /// Uploaded by an admin on the page.
    CustomUpload,
    /// Named in the configuration file (`tls.cert_file`, `tls.key_file`).
    CustomConfig,
    /// Issued by the ACME CA of `[tls.acme]` and renewed automatically.
    Acme,
}

impl From<&crate::tls::TlsMode> for TlsMode {
    fn from(r: &crate::tls::TlsMode) -> TlsMode {
        match r {
            crate::tls::TlsMode::SelfManaged => TlsMode::SelfManaged,
            crate::tls::TlsMode::CustomUpload => TlsMode::CustomUpload,
            crate::tls::TlsMode::CustomConfig => TlsMode::CustomConfig,
            crate::tls::TlsMode::Acme => TlsMode::Acme,
        }
    }
}

/// What the Settings page shows.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TlsInfo {
    pub mode: TlsMode,
    pub ca: CertInfo,
    pub server: CertInfo,
    #[serde(with = "time::serde::rfc3339::option")]
    pub renews_at: Option<OffsetDateTime>,
    pub public_hosts: Vec<String>,
    /// The Apple TLS rule the certificate in use breaks, with what it does instead; null when
    /// it meets them all.
    pub rule_break: Option<String>,
    /// The ACME CA's settings and the last order, when `[tls.acme]` is set.
    pub acme: Option<crate::tls::AcmeStatus>,
    /// The certificate the configuration file asks for (`acme` or `custom_config`) while it
    /// waits for a confirmation (`POST /settings/tls/held/confirm`); null otherwise.
    pub held: Option<TlsMode>,
}

impl From<&crate::tls::TlsInfo> for TlsInfo {
    fn from(r: &crate::tls::TlsInfo) -> TlsInfo {
        TlsInfo {
            mode: (&r.mode).into(),
            ca: (&r.ca).into(),
            server: (&r.server).into(),
            renews_at: r.renews_at,
            public_hosts: r.public_hosts.clone(),
            rule_break: r.rule_break.as_ref().map(|b| b.to_string()),
            acme: None,
            held: r.held.as_ref().map(Into::into),
        }
    }
}

/// How the appliance reaches Apple.
#[derive(Clone, Debug, Serialize, ToSchema)]
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

impl From<&crate::outbound::AppleServices> for AppleServices {
    fn from(r: &crate::outbound::AppleServices) -> AppleServices {
        AppleServices {
            dep_api: (&r.dep_api).into(),
            apns: (&r.apns).into(),
            trust: r.trust.clone(),
            extra_ca: r.extra_ca.as_ref().map(Into::into),
            proxy: r.proxy.as_ref().map(Into::into),
            notices: r.notices.iter().map(Into::into).collect(),
        }
    }
}

/// One Apple service.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ServiceRoute {
    pub url: String,
    /// Whether this is Apple's own service.
    pub apple: bool,
    /// Whether requests to it go through the proxy.
    pub via_proxy: bool,
}

impl From<&crate::outbound::ServiceRoute> for ServiceRoute {
    fn from(r: &crate::outbound::ServiceRoute) -> ServiceRoute {
        ServiceRoute { url: r.url.clone(), apple: r.apple, via_proxy: r.via_proxy }
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ExtraCa {
    pub file: String,
    pub certificates: Vec<CertInfo>,
}

impl From<&crate::outbound::ExtraCa> for ExtraCa {
    fn from(r: &crate::outbound::ExtraCa) -> ExtraCa {
        ExtraCa {
            file: r.file.clone(),
            certificates: r.certificates.iter().map(Into::into).collect(),
        }
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ProxyInUse {
    /// The proxy's URL, password replaced by `***`.
    pub url: String,
    /// `outbound.proxy`, or the environment variable it came from (`HTTPS_PROXY`, …).
    pub source: String,
    /// Hosts reached without it.
    pub no_proxy: Vec<String>,
}

impl From<&crate::outbound::ProxyInUse> for ProxyInUse {
    fn from(r: &crate::outbound::ProxyInUse) -> ProxyInUse {
        ProxyInUse { url: r.url.clone(), source: r.source.clone(), no_proxy: r.no_proxy.clone() }
    }
}

/// A setting that is not the default, in plain words.
#[derive(Clone, Debug, Serialize, ToSchema, PartialEq, Eq)]
pub struct Notice {
    /// `dep_api_not_apple`, `apns_not_apple`, `extra_ca` or `proxy`.
    pub code: String,
    pub message: String,
}

impl From<&crate::outbound::Notice> for Notice {
    fn from(r: &crate::outbound::Notice) -> Notice {
        Notice { code: r.code.clone(), message: r.message.clone() }
    }
}
