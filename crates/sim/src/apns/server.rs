//! The APNs simulator's HTTPS server: configuration, TLS with optional client
//! certificates, start and stop, and the in-process controls tests and the sandbox use.
//!
//! Exposes [`SimApnsConfig`], [`SimApns::start`], [`RunningSimApns`] (base URL, CA, the
//! stand-in push CA's issuing, deliveries per device token and a broadcast of them, token
//! controls, faults) and [`Delivery`]. actix-web on rustls 0.23 (ring) with HTTP/2 by ALPN;
//! no domain module, no store.

use super::faults::Faults;
use super::routes;
use super::state::{Delivery, Shared, lock};
use crate::crypto::ca::{Authority, CaError};
use crate::rng::SimRng;
use actix_web::{App, HttpServer, web};
use arc_swap::ArcSwap;
use std::collections::{HashMap, HashSet};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use time::Duration;
use tokio::sync::broadcast;

#[derive(Clone, Debug)]
pub struct SimApnsConfig {
    /// Where to listen; port 0 picks a free one.
    pub listen: SocketAddr,
    pub seed: u64,
    pub faults: Faults,
    pub workers: usize,
}

impl Default for SimApnsConfig {
    fn default() -> Self {
        SimApnsConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            seed: 1,
            faults: Faults::default(),
            workers: 2,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SimApnsError {
    #[error(
        "cannot listen on {addr}: {source}; pick another address or port (port 0 picks a free one)"
    )]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("cannot make the simulator's certificates: {0}")]
    Certificate(#[from] CaError),
    #[error("cannot set up TLS: {0}")]
    Tls(String),
    #[error("bad --faults: {0}")]
    Faults(#[from] super::faults::ApnsFaultError),
    #[error("cannot write {path}: {source}")]
    Write { path: String, source: std::io::Error },
    #[error("cannot listen for the stop signals: {0}")]
    Signals(std::io::Error),
    #[error("the certificate request: {0}")]
    Request(String),
}

pub struct SimApns;

pub struct RunningSimApns {
    shared: web::Data<Shared>,
    base_url: String,
    handle: actix_web::dev::ServerHandle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl SimApns {
    pub async fn start(config: SimApnsConfig) -> Result<RunningSimApns, SimApnsError> {
        let listener = TcpListener::bind(config.listen)
            .map_err(|source| SimApnsError::Bind { addr: config.listen, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| SimApnsError::Bind { addr: config.listen, source })?;
        crate::ensure_crypto_provider();
        // TLS validity is judged by real clocks on both sides.
        let now = crate::clock::Clock::system().now();
        let ca = Authority::generate("adebox APNs simulator CA", now, Duration::days(3650))?;
        let names = crate::server_names(addr);
        let leaf = ca.issue_server(&names, now, Duration::days(397))?;
        let tls = tls_config(&leaf.cert_pem, leaf.key_pem.expose(), ca.cert_der())?;
        let mut rng = SimRng::new(config.seed);
        let topic = format!("com.apple.mgmt.External.{}", seeded_uuid(&mut rng));
        let (events, _) = broadcast::channel(1024);
        let shared = web::Data::new(Shared {
            faults: ArcSwap::from_pointee(config.faults.clone()),
            rng: Mutex::new(rng),
            requests: AtomicU64::new(0),
            deliveries: Mutex::new(HashMap::new()),
            unregistered: Mutex::new(HashSet::new()),
            bad_tokens: Mutex::new(HashSet::new()),
            events,
            ca,
            topic,
        });
        let data = shared.clone();
        let server = HttpServer::new(move || {
            App::new()
                .wrap(actix_web::middleware::from_fn(crate::drain::drain_unread_body))
                .app_data(data.clone())
                .app_data(web::PayloadConfig::new(routes::MAX_BODY))
                .configure(routes::routes)
                .default_service(web::to(routes::bad_path))
        })
        .workers(config.workers.max(1))
        .on_connect(routes::on_connect)
        .disable_signals()
        .shutdown_timeout(1)
        .listen_rustls_0_23(listener, tls)
        .map_err(|source| SimApnsError::Bind { addr, source })?
        .run();
        let handle = server.handle();
        let task = tokio::spawn(server);
        let base_url = crate::base_url(addr);
        log::info!(target: "sim::apns", "APNs simulator listening on {base_url}");
        Ok(RunningSimApns { shared, base_url, handle, task })
    }
}

/// Server TLS: our certificate, HTTP/2 preferred, client certificates checked against the
/// stand-in push CA when presented (none is answered 403 `MissingProviderToken`, as Apple
/// does for a request with neither certificate nor token).
fn tls_config(
    cert_pem: &str,
    key_pem: &str,
    ca_der: &[u8],
) -> Result<rustls::ServerConfig, SimApnsError> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let tls = |e: &dyn std::fmt::Debug| SimApnsError::Tls(format!("{e:?}"));
    let cert = CertificateDer::from_pem_slice(cert_pem.as_bytes()).map_err(|e| tls(&e))?;
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(|e| tls(&e))?;
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from(ca_der.to_vec())).map_err(|e| tls(&e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .allow_unauthenticated()
    .build()
    .map_err(|e| tls(&e))?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls(&e))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![cert], key)
        .map_err(|e| tls(&e))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

fn seeded_uuid(rng: &mut SimRng) -> String {
    let h = rng.hex_upper(16).to_lowercase();
    format!("{}-{}-4{}-a{}-{}", &h[0..8], &h[8..12], &h[13..16], &h[17..20], &h[20..32])
}

impl Shared {
    /// A push certificate for `csr` (PEM or DER) with `topic` (the simulator's own when
    /// `None`), as the Apple Push Certificates Portal issues: subject `UID=<topic>,
    /// CN=APSP:<uuid>, C=US`, EKU clientAuth, one year.
    pub fn issue(&self, csr: &[u8], topic: Option<&str>) -> Result<String, SimApnsError> {
        let der = match csr.first() {
            Some(0x30) => csr.to_vec(),
            _ => x509_parser::pem::Pem::iter_from_buffer(csr)
                .map_while(Result::ok)
                .find(|p| p.label == "CERTIFICATE REQUEST")
                .map(|p| p.contents)
                .ok_or_else(|| SimApnsError::Request("not a PEM or DER CSR".into()))?,
        };
        let topic = topic.unwrap_or(&self.topic);
        let uuid = topic.rsplit('.').next().unwrap_or(topic);
        let mut dn = rcgen::DistinguishedName::new();
        dn.push(rcgen::DnType::CustomDnType(vec![0, 9, 2342, 19200300, 100, 1, 1]), topic);
        dn.push(rcgen::DnType::CommonName, format!("APSP:{uuid}"));
        dn.push(rcgen::DnType::CountryName, "US");
        let now = crate::clock::Clock::system().now();
        self.ca
            .issue_for_request(&der, dn, now, Duration::days(365))
            .map_err(|e| SimApnsError::Request(e.to_string()))
    }
}

impl RunningSimApns {
    /// `https://127.0.0.1:PORT` (Apple's is `https://api.push.apple.com`).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The stand-in CA (PEM): clients trust it for the server, and it issues push certificates.
    pub fn ca_pem(&self) -> &str {
        self.shared.ca.cert_pem()
    }

    /// The topic this simulator's push certificates carry.
    pub fn topic(&self) -> &str {
        &self.shared.topic
    }

    /// Issues a push certificate (PEM) for `csr` (see [`Shared::issue`]).
    pub fn issue_push_certificate(
        &self,
        csr: &[u8],
        topic: Option<&str>,
    ) -> Result<String, SimApnsError> {
        self.shared.issue(csr, topic)
    }

    /// A cloneable view of the pushes this simulator accepts, for simulated devices waiting
    /// to be woken.
    pub fn feed(&self) -> PushFeed {
        PushFeed { shared: self.shared.clone() }
    }

    /// Pushes accepted for `token` (any case hex), oldest first.
    pub fn deliveries(&self, token_hex: &str) -> Vec<Delivery> {
        lock(&self.shared.deliveries).get(&token_hex.to_lowercase()).cloned().unwrap_or_default()
    }

    /// Every accepted push from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Delivery> {
        self.shared.events.subscribe()
    }

    /// Waits up to `timeout` for a push to `token_hex` (one already delivered counts).
    pub async fn wait_for_push(
        &self,
        token_hex: &str,
        timeout: std::time::Duration,
    ) -> Option<Delivery> {
        let token = token_hex.to_lowercase();
        let mut rx = self.subscribe();
        if let Some(d) = self.deliveries(&token).pop() {
            return Some(d);
        }
        tokio::time::timeout(timeout, async {
            loop {
                match rx.recv().await {
                    Ok(d) if d.token == token => return Some(d),
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        })
        .await
        .ok()
        .flatten()
    }

    /// From now on, pushes to `token_hex` answer 410 `Unregistered`.
    pub fn unregister(&self, token_hex: &str) {
        lock(&self.shared.unregistered).insert(token_hex.to_lowercase());
    }

    /// From now on, pushes to `token_hex` answer 400 `BadDeviceToken`.
    pub fn mark_bad(&self, token_hex: &str) {
        lock(&self.shared.bad_tokens).insert(token_hex.to_lowercase());
    }

    /// Pushes answered so far (any status).
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn faults(&self) -> Faults {
        (**self.shared.faults.load()).clone()
    }

    pub fn set_faults(&self, faults: Faults) {
        self.shared.faults.store(Arc::new(faults));
    }

    pub async fn stop(self) {
        self.handle.stop(false).await;
        let _ = self.task.await;
    }
}

/// The pushes an APNs simulator accepts, as a device sees them (cheap to clone).
#[derive(Clone)]
pub struct PushFeed {
    shared: web::Data<Shared>,
}

impl std::fmt::Debug for PushFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushFeed").finish_non_exhaustive()
    }
}

impl PushFeed {
    /// How many pushes `token_hex` has had so far.
    pub fn count(&self, token_hex: &str) -> usize {
        lock(&self.shared.deliveries).get(&token_hex.to_lowercase()).map_or(0, Vec::len)
    }

    /// Waits up to `timeout` until `token_hex` has had more than `seen` pushes; returns the
    /// count then (equal to `seen` when none came).
    pub async fn wait_beyond(
        &self,
        token_hex: &str,
        seen: usize,
        timeout: std::time::Duration,
    ) -> usize {
        let token = token_hex.to_lowercase();
        let mut rx = self.shared.events.subscribe();
        let now = self.count(&token);
        if now > seen {
            return now;
        }
        let _ = tokio::time::timeout(timeout, async {
            loop {
                match rx.recv().await {
                    Ok(d) if d.token == token => return,
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        })
        .await;
        self.count(&token)
    }
}
