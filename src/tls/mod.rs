//! The appliance's TLS identity: its own CA, the server certificate it issues itself and
//! renews 30 days before expiry without a restart, or a certificate the admin provides (in
//! the config file or uploaded on the page), and the rustls configuration that serves it.
//!
//! Owns the folder `<data_dir>/tls/` (0700): `ca.pem`, `ca.key` (0600), `server.pem`,
//! `server.key` (0600), and `custom.pem` / `custom.key` (0600) for an uploaded certificate.
//! The certificate in use sits behind an atomic pointer that the rustls resolver reads on
//! every handshake, so renewing or replacing it never drops a listener.
//!
//! Every listener follows Apple's 2026 TLS rules (`../shared/spec/apple-2026.md` §7): TLS 1.2
//! or later, forward-secret AEAD suites only (ring's defaults), the extended master secret
//! required on TLS 1.2, and a certificate that meets [`rules`]. An uploaded certificate that
//! breaks a rule is refused; one named in the configuration file is served anyway (the site
//! may have no other yet) and reported in the log and a banner.
//!
//! Client certificates are optional at the TLS layer (the device-facing MDM routes require
//! them; the http layer checks per route): any presented certificate must chain to the
//! appliance CA.

use crate::files;

mod acme;
mod hold;
mod rules;
pub use acme::{AcmeError, AcmeRenewer, AcmeStatus, Challenges, RenewalBasis};
pub use hold::describe as describe_source;
pub use rules::{RuleBreak, check_chain, check_pem};

use crate::certinfo;
pub use crate::certinfo::{CertInfo, CertProblem, describe as describe_certificate};

use crate::config::Config;
use crate::crypto::ca::{Authority, CaError};
use arc_swap::ArcSwap;
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls_pki_types::CertificateDer;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use time::{Duration, OffsetDateTime};

/// Lifetime of the self-managed server certificate (well under Apple's 825-day limit).
const SERVER_CERT_DAYS: i64 = 397;
/// Renew this long before expiry.
pub const RENEW_BEFORE: Duration = Duration::days(30);
const CA_YEARS: i64 = 10;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
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

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot use {path}: {detail}")]
    Io { path: PathBuf, detail: String },
    #[error("the appliance CA could not be created or loaded: {0}")]
    Ca(#[from] CaError),
    #[error(
        "{source} (config keys tls.cert_file = {cert}, tls.key_file = {key}; fix the files or remove both keys to let adebox manage its certificate)"
    )]
    ConfigCertificate { cert: String, key: String, source: CertProblem },
    #[error("{0}")]
    Custom(CertProblem),
    #[error(
        "the certificate is set in the configuration file (tls.cert_file); change it there, or remove tls.cert_file and tls.key_file to manage it on this page"
    )]
    ConfigManaged,
    #[error(
        "the certificate comes from the ACME CA set in the configuration file ([tls.acme]); remove that section to upload your own"
    )]
    AcmeManaged,
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> TlsError + '_ {
    move |e| TlsError::Io { path: path.to_path_buf(), detail: e.to_string() }
}

/// What a reload did.
#[derive(Clone, Debug)]
pub struct Reloaded {
    pub info: TlsInfo,
    /// `[tls.acme]` is set and `public.hosts` changed: a certificate is to be ordered now.
    pub order_needed: bool,
}

/// What the Settings page shows.
#[derive(Clone, Debug, Serialize)]
pub struct TlsInfo {
    pub mode: TlsMode,
    pub ca: CertInfo,
    pub server: CertInfo,
    #[serde(with = "time::serde::rfc3339::option")]
    pub renews_at: Option<OffsetDateTime>,
    pub public_hosts: Vec<String>,
    /// The Apple TLS rule the certificate in use breaks (a configured certificate only).
    pub rule_break: Option<RuleBreak>,
    /// The certificate the configuration file asks for, waiting for a confirmation.
    pub held: Option<TlsMode>,
}

struct Current {
    key: Arc<CertifiedKey>,
    info: CertInfo,
    mode: TlsMode,
    rule_break: Option<RuleBreak>,
}

/// Serves whatever certificate is current; swapped atomically on renewal.
#[derive(Debug)]
struct Resolver(ArcSwap<CertifiedKey>);

impl ResolvesServerCert for Resolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.load_full())
    }
}

pub struct TlsManager {
    dir: PathBuf,
    /// `public.hosts`: the names every certificate served must carry (a reload may change them).
    public_hosts: ArcSwap<Vec<String>>,
    config_files: Option<(PathBuf, PathBuf)>,
    /// `[tls.acme]` is set: the ACME certificate comes first once issued.
    acme: bool,
    ca: Authority,
    ca_info: CertInfo,
    current: ArcSwap<Current>,
    resolver: Arc<Resolver>,
    /// Serialises renew / install / remove.
    changing: Mutex<()>,
    /// The mode in use, for whoever follows switches (the profiles' `anchor_certs`).
    mode_tx: tokio::sync::watch::Sender<TlsMode>,
    /// A certificate from the configuration file waiting for a confirmation (`hold`).
    gate: Mutex<hold::Gate>,
}

impl std::fmt::Debug for TlsManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsManager").field("dir", &self.dir).finish()
    }
}

impl TlsManager {
    /// Loads or creates the CA and the certificate to serve. Blocking (key generation, files).
    pub fn open(config: &Config, now: OffsetDateTime) -> Result<TlsManager, TlsError> {
        crate::outbound::ensure_crypto_provider();
        let dir = config.data_dir.join("tls");
        create_private_dir(&dir)?;
        let ca = load_or_create_ca(&dir, now)?;
        let ca_info = certinfo::describe(ca.cert_der()).map_err(TlsError::Custom)?;
        let config_files = config.tls_cert_file.clone().zip(config.tls_key_file.clone());
        let placeholder = Current {
            key: Arc::new(CertifiedKey::new(vec![], Arc::new(NoKey))),
            info: ca_info.clone(),
            mode: TlsMode::SelfManaged,
            rule_break: None,
        };
        let manager = TlsManager {
            dir,
            public_hosts: ArcSwap::from_pointee(config.public_hosts.clone()),
            config_files,
            acme: config.tls_acme.is_some(),
            ca,
            ca_info,
            resolver: Arc::new(Resolver(ArcSwap::from(placeholder.key.clone()))),
            current: ArcSwap::from_pointee(placeholder),
            changing: Mutex::new(()),
            mode_tx: tokio::sync::watch::Sender::new(TlsMode::SelfManaged),
            gate: Mutex::new(hold::Gate::new(config.tls_confirm_reassign)),
        };
        manager.load_current(now)?;
        Ok(manager)
    }

    /// The rustls server configuration: our certificate, optional client certificates that
    /// must chain to the appliance CA.
    pub fn server_config(&self) -> Result<rustls::ServerConfig, TlsError> {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from(self.ca.cert_der().to_vec()))
            .map_err(|e| TlsError::Custom(CertProblem { field: "ca", message: e.to_string() }))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier =
            WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .allow_unauthenticated()
                .build()
                .map_err(|e| {
                    TlsError::Custom(CertProblem { field: "ca", message: e.to_string() })
                })?;
        // TLS 1.2 and 1.3 only; ring's suites are all ECDHE (or TLS 1.3) with AEAD.
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| TlsError::Custom(CertProblem { field: "tls", message: e.to_string() }))?
            .with_client_cert_verifier(verifier)
            .with_cert_resolver(self.resolver.clone());
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        // RFC 7627: Apple requires the extended master secret on TLS 1.2 (spec §7.2).
        config.require_ems = true;
        Ok(config)
    }

    pub fn ca(&self) -> &Authority {
        &self.ca
    }

    pub fn info(&self) -> TlsInfo {
        let current = self.current.load();
        TlsInfo {
            mode: current.mode,
            ca: self.ca_info.clone(),
            server: current.info.clone(),
            renews_at: match current.mode {
                TlsMode::SelfManaged => Some(current.info.not_after - RENEW_BEFORE),
                TlsMode::Acme => Some(acme::renewal_time(&current.info)),
                TlsMode::CustomUpload | TlsMode::CustomConfig => None,
            },
            public_hosts: self.hosts().to_vec(),
            rule_break: current.rule_break.clone(),
            held: self.held(),
        }
    }

    /// Renews the self-managed certificate when it is within 30 days of expiry; returns the
    /// new certificate's description when it did. Blocking.
    pub fn renew_if_due(&self, now: OffsetDateTime) -> Result<Option<CertInfo>, TlsError> {
        let _guard = self.changing.lock().expect("tls mutex is never held across a panic");
        let current = self.current.load();
        if current.mode != TlsMode::SelfManaged || now < current.info.not_after - RENEW_BEFORE {
            return Ok(None);
        }
        let info = self.issue_self_managed(now)?;
        Ok(Some(info))
    }

    /// The names every certificate served must carry (`public.hosts`).
    pub fn hosts(&self) -> Arc<Vec<String>> {
        self.public_hosts.load_full()
    }

    /// Re-reads the certificate from disk (SIGHUP): picks up replaced config files, and
    /// `hosts`, the configuration's `public.hosts` now. A changed host list re-issues the
    /// self-managed certificate at once. The ACME certificate in use is kept until the CA
    /// issues one for the new names ([`Reloaded::order_needed`]): falling back to the
    /// self-managed one meanwhile would switch the profiles' anchors at Apple twice.
    pub fn reload(
        &self,
        hosts: Option<Vec<String>>,
        now: OffsetDateTime,
    ) -> Result<Reloaded, TlsError> {
        let _guard = self.changing.lock().expect("tls mutex is never held across a panic");
        let mut changed = false;
        if let Some(h) = hosts
            && !same_names(&h, &self.hosts())
        {
            log::info!("public.hosts changed to {}; the certificate follows", h.join(", "));
            self.public_hosts.store(Arc::new(h));
            changed = true;
        }
        let current = self.current.load_full();
        let keep_acme =
            current.mode == TlsMode::Acme && !same_names(&current.info.sans, &self.hosts());
        if !keep_acme {
            self.load_current(now)?;
        }
        let order_needed = self.acme && self.config_files.is_none() && (keep_acme || changed);
        Ok(Reloaded { info: self.info(), order_needed })
    }

    /// Installs an admin's own certificate chain and key (uploaded on the page).
    pub fn install_custom(
        &self,
        cert_pem: &str,
        key_pem: &str,
        now: OffsetDateTime,
    ) -> Result<TlsInfo, TlsError> {
        if self.config_files.is_some() {
            return Err(TlsError::ConfigManaged);
        }
        if self.acme {
            return Err(TlsError::AcmeManaged);
        }
        let _guard = self.changing.lock().expect("tls mutex is never held across a panic");
        rules::check_pem(cert_pem).map_err(|broken| {
            TlsError::Custom(CertProblem { field: "cert_pem", message: broken.to_string() })
        })?;
        let (key, info) = certinfo::load_custom(cert_pem, key_pem, &self.hosts(), now)
            .map_err(TlsError::Custom)?;
        let key_path = self.dir.join("custom.key");
        let cert_path = self.dir.join("custom.pem");
        files::write_atomic(&key_path, key_pem.as_bytes(), 0o600).map_err(io(&key_path))?;
        files::write_atomic(&cert_path, cert_pem.as_bytes(), 0o600).map_err(io(&cert_path))?;
        self.set(key, info, TlsMode::CustomUpload, None);
        Ok(self.info())
    }

    /// Goes back to the self-managed certificate.
    pub fn remove_custom(&self, now: OffsetDateTime) -> Result<TlsInfo, TlsError> {
        if self.config_files.is_some() {
            return Err(TlsError::ConfigManaged);
        }
        let _guard = self.changing.lock().expect("tls mutex is never held across a panic");
        for name in ["custom.pem", "custom.key"] {
            let p = self.dir.join(name);
            match std::fs::remove_file(&p) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io(&p)(e)),
            }
        }
        self.load_current(now)?;
        Ok(self.info())
    }

    /// Decides which certificate to serve: config files, else an uploaded one, else the
    /// self-managed one (issued or re-issued when missing, due, or naming other hosts).
    fn load_current(&self, now: OffsetDateTime) -> Result<(), TlsError> {
        if let Some((cert_path, key_path)) = &self.config_files {
            let read = |p: &PathBuf| std::fs::read_to_string(p).map_err(io(p));
            let cert_pem = read(cert_path)?;
            let rule_break = rules::check_pem(&cert_pem).err();
            if let Some(broken) = &rule_break {
                log::error!(
                    "the TLS certificate {} breaks Apple's rules for MDM servers: {broken}; replace it (config key tls.cert_file)",
                    cert_path.display()
                );
            }
            let loaded = certinfo::load_custom(&cert_pem, &read(key_path)?, &self.hosts(), now);
            match (loaded, rule_break) {
                (Ok((key, info)), rule_break) => {
                    let next = Current { key, info, mode: TlsMode::CustomConfig, rule_break };
                    return self.serve_configured(next, now);
                }
                // A key too weak for the TLS library to sign with: the daemon still starts
                // (with its own certificate) so that the admin sees the banner naming the rule.
                (Err(_), Some(broken)) => {
                    return self.load_self_managed(now, Some(broken));
                }
                (Err(source), None) => {
                    return Err(TlsError::ConfigCertificate {
                        cert: cert_path.display().to_string(),
                        key: key_path.display().to_string(),
                        source,
                    });
                }
            }
        }
        if self.acme
            && let Some(current) = self.load_acme(now)?
        {
            return self.serve_configured(current, now);
        }
        let custom_cert = self.dir.join("custom.pem");
        let custom_key = self.dir.join("custom.key");
        if !self.acme
            && let (Some(c), Some(k)) = (
                files::read_text(&custom_cert).map_err(io(&custom_cert))?,
                files::read_text(&custom_key).map_err(io(&custom_key))?,
            )
        {
            match certinfo::load_custom(&c, &k, &self.hosts(), now) {
                Ok((key, info)) => {
                    // Uploaded before the rules were checked: keep serving it, and say so.
                    let rule_break = rules::check_pem(&c).err();
                    self.set(key, info, TlsMode::CustomUpload, rule_break);
                    return Ok(());
                }
                // An uploaded certificate that expired or no longer fits the configured names
                // must not take the admin page down: fall back and say so in the log.
                Err(problem) => log::warn!(
                    "the uploaded TLS certificate cannot be used ({problem}); serving the self-managed certificate instead"
                ),
            }
        }
        self.load_self_managed(now, None)
    }

    /// Serves the self-managed certificate, issued anew when missing, due or naming other
    /// hosts; `rule_break` is the configured certificate's broken rule, kept for the banner.
    fn load_self_managed(
        &self,
        now: OffsetDateTime,
        rule_break: Option<RuleBreak>,
    ) -> Result<(), TlsError> {
        let server_pem = self.dir.join("server.pem");
        let server_key = self.dir.join("server.key");
        let hosts = self.hosts();
        if let (Some(c), Some(k)) = (
            files::read_text(&server_pem).map_err(io(&server_pem))?,
            files::read_text(&server_key).map_err(io(&server_key))?,
        ) && let Ok((key, info)) = certinfo::load_custom(&c, &k, &hosts, now)
            && now < info.not_after - RENEW_BEFORE
            && same_names(&info.sans, &hosts)
        {
            self.set(key, info, TlsMode::SelfManaged, rule_break);
            return Ok(());
        }
        let info = self.issue_self_managed(now)?;
        let key = self.current.load().key.clone();
        self.set(key, info, TlsMode::SelfManaged, rule_break);
        Ok(())
    }

    fn issue_self_managed(&self, now: OffsetDateTime) -> Result<CertInfo, TlsError> {
        let hosts = self.hosts();
        let issued = self.ca.issue_server(&hosts, now, Duration::days(SERVER_CERT_DAYS))?;
        let chain = format!("{}{}", issued.cert_pem, self.ca.cert_pem());
        let (key, info) = certinfo::load_custom(&chain, issued.key_pem.expose(), &hosts, now)
            .map_err(TlsError::Custom)?;
        let key_path = self.dir.join("server.key");
        let cert_path = self.dir.join("server.pem");
        files::write_atomic(&key_path, issued.key_pem.expose().as_bytes(), 0o600)
            .map_err(io(&key_path))?;
        files::write_atomic(&cert_path, chain.as_bytes(), 0o644).map_err(io(&cert_path))?;
        log::info!(not_after = info.not_after.to_string().as_str(); "issued a new TLS server certificate for {}", hosts.join(", "));
        self.set(key, info.clone(), TlsMode::SelfManaged, None);
        Ok(info)
    }

    fn set(
        &self,
        key: Arc<CertifiedKey>,
        info: CertInfo,
        mode: TlsMode,
        rule_break: Option<RuleBreak>,
    ) {
        self.resolver.0.store(key.clone());
        self.current.store(Arc::new(Current { key, info, mode, rule_break }));
        self.mode_tx.send_if_modified(|m| std::mem::replace(m, mode) != mode);
    }

    /// The certificates devices pin for the enrollment URL (DER): the appliance CA while it
    /// issued the certificate in use; none for any other (a public CA, or the site's own,
    /// whose rotating intermediates must not be pinned). `/enroll/anchors` and the DEP
    /// profiles' `anchor_certs` both read this.
    pub fn anchor_certs(&self) -> Vec<Vec<u8>> {
        match self.current.load().mode {
            TlsMode::SelfManaged => vec![self.ca.cert_der().to_vec()],
            TlsMode::CustomUpload | TlsMode::CustomConfig | TlsMode::Acme => vec![],
        }
    }

    /// Changes of the mode in use (each switch between the appliance CA and another
    /// certificate changes [`TlsManager::anchor_certs`]).
    pub fn watch_mode(&self) -> tokio::sync::watch::Receiver<TlsMode> {
        self.mode_tx.subscribe()
    }
}

fn same_names(sans: &[String], hosts: &[String]) -> bool {
    let norm = |v: &[String]| {
        let mut v: Vec<String> = v.iter().map(|s| s.to_ascii_lowercase()).collect();
        v.sort();
        v
    };
    norm(sans) == norm(hosts)
}

fn create_private_dir(dir: &Path) -> Result<(), TlsError> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    if !dir.exists() {
        std::fs::DirBuilder::new().mode(0o700).recursive(true).create(dir).map_err(io(dir))?;
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io(dir))
}

fn load_or_create_ca(dir: &Path, now: OffsetDateTime) -> Result<Authority, TlsError> {
    let cert_path = dir.join("ca.pem");
    let key_path = dir.join("ca.key");
    match (files::read_text(&cert_path).map_err(io(&cert_path))?, files::read_text(&key_path).map_err(io(&key_path))?) {
        (Some(cert), Some(key)) => Ok(Authority::from_pem(&cert, &key)?),
        (None, None) => {
            let ca = Authority::generate("adebox appliance CA", now, Duration::days(365 * CA_YEARS))?;
            // Key first: a crash between the two writes leaves a key without a certificate,
            // which the next start reports instead of silently making a second CA.
            files::write_atomic(&key_path, ca.key_pem().expose().as_bytes(), 0o600).map_err(io(&key_path))?;
            files::write_atomic(&cert_path, ca.cert_pem().as_bytes(), 0o644).map_err(io(&cert_path))?;
            log::info!(fingerprint = ca.fingerprint_sha256().as_str(); "created the appliance CA");
            Ok(ca)
        }
        (Some(_), None) | (None, Some(_)) => Err(TlsError::Io {
            path: dir.to_path_buf(),
            detail: "only one of ca.pem and ca.key exists; restore both from a backup of the data directory (devices trust this CA, so do not make a new one casually)".into(),
        }),
    }
}

/// Placeholder signing key for the moment between construction and the first load.
#[derive(Debug)]
struct NoKey;

impl rustls::sign::SigningKey for NoKey {
    fn choose_scheme(
        &self,
        _offered: &[rustls::SignatureScheme],
    ) -> Option<Box<dyn rustls::sign::Signer>> {
        None
    }
    fn algorithm(&self) -> rustls::SignatureAlgorithm {
        rustls::SignatureAlgorithm::ECDSA
    }
}

#[cfg(test)]
mod tests;

/// The files of the TLS folder a backup must carry (the CA above all: enrolled devices trust
/// it), as `("tls/<name>", contents)`.
pub fn backup_files(data_dir: &Path) -> Result<files::Carried, TlsError> {
    let names = [
        "ca.pem",
        "ca.key",
        "server.pem",
        "server.key",
        "custom.pem",
        "custom.key",
        acme::CERT,
        acme::KEY,
        acme::ACCOUNT,
    ];
    files::read_folder(data_dir, "tls", &names).map_err(|(p, e)| io(&p)(e))
}

/// Puts back the TLS files a backup carried (keys 0600, certificates 0644, folder 0700).
/// Names outside `tls/` are ignored.
pub fn restore_files(data_dir: &Path, carried: &[(String, Vec<u8>)]) -> Result<usize, TlsError> {
    files::write_folder(data_dir, "tls", carried).map_err(|(p, e)| io(&p)(e))
}
