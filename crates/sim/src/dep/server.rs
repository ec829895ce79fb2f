//! The DEP simulator's HTTPS server: configuration, TLS, start and stop (the state its
//! workers share is in [`super::state`]).
//!
//! Exposes [`SimDepConfig`], [`Behaviour`] (switchable Apple behaviours), [`SimDep::start`]
//! and [`RunningSimDep`] (base URL, CA PEM, portal URL, in-process control, `stop`). The
//! server is actix-web 4 on rustls 0.23 with the ring provider, its certificate issued by a
//! stand-in CA made with [`crate::crypto::ca::Authority`]; sockets get `TCP_NODELAY` and a
//! write buffer big enough for a 1000-device page. Uses actix-web, tokio and rustls; no
//! domain module, no store.

use crate::apple::server_token::OAuthCredentials;
use crate::clock::Clock;
use crate::crypto::ca::{Authority, CaError};
use crate::dep::changes::ChangeReport;
use crate::dep::faults::Faults;
use crate::dep::persist::StateFile;
use crate::dep::sessions::{NonceCache, Sessions};
use crate::dep::state::{Behaviour, Shared, lock};
use crate::dep::world::{Quirks, Truth, World, WorldError};
use crate::dep::{api, portal};
use crate::rng::SimRng;
use actix_web::{App, HttpServer, web};
use arc_swap::ArcSwap;
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use time::{Duration, OffsetDateTime};

/// Request bodies larger than this are refused (a 1000-serial assign is ~20 KB; the portal
/// may add a few thousand explicit serials at once).
const MAX_BODY: usize = 4 << 20;

/// How to start a simulator.
#[derive(Clone, Debug)]
pub struct SimDepConfig {
    /// Where to listen; port 0 picks a free one.
    pub listen: SocketAddr,
    /// Seeds every random choice (devices, identifiers, faults).
    pub seed: u64,
    /// The simulator's clock (cursor expiry, session TTL, timestamps).
    pub clock: Clock,
    pub faults: Faults,
    pub quirks: Quirks,
    pub behaviour: Behaviour,
    /// How long a `/session` token lives. Apple says only "after a period of time" (§2.2).
    pub session_ttl: Duration,
    /// Hand out a new `X-ADM-Auth-Session` on every N-th use of a session; when set, it
    /// overrides `faults.rotate_session_every` (the `rotate-session` fault).
    pub rotate_session_every: Option<u32>,
    /// actix worker threads.
    pub workers: usize,
    /// Extra DNS names or IPs for the server certificate.
    pub extra_names: Vec<String>,
    /// Keep the simulated Apple side in this file: loaded at start when it exists, saved
    /// after every change (`persist.rs`). `None` keeps it in memory only.
    pub state_file: Option<std::path::PathBuf>,
}

impl Default for SimDepConfig {
    fn default() -> Self {
        SimDepConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            seed: 1,
            clock: Clock::system(),
            faults: Faults::default(),
            quirks: Quirks::default(),
            behaviour: Behaviour::default(),
            session_ttl: Duration::minutes(30),
            rotate_session_every: None,
            workers: 2,
            extra_names: Vec::new(),
            state_file: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SimDepError {
    #[error(
        "cannot listen on {addr}: {source}; pick another address or port (port 0 picks a free one)"
    )]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("cannot make the simulator's certificate: {0}")]
    Certificate(#[from] CaError),
    #[error("cannot set up TLS: {0}")]
    Tls(String),
    #[error("bad --faults: {0}")]
    Faults(#[from] crate::dep::faults::FaultSpecError),
    #[error("{0}")]
    World(#[from] crate::dep::world::WorldError),
    #[error("cannot write {path}: {source}")]
    Write { path: String, source: std::io::Error },
    #[error("cannot listen for the stop signals: {0}")]
    Signals(std::io::Error),
    #[error("{0}")]
    State(#[from] crate::dep::persist::StateError),
    #[error("the simulator stopped: {0}")]
    Stopped(std::io::Error),
}

/// Entry point.
pub struct SimDep;

/// A simulator that is serving.
pub struct RunningSimDep {
    pub(super) shared: web::Data<Shared>,
    business: web::Data<crate::business::Business>,
    base_url: String,
    ca_pem: String,
    handle: actix_web::dev::ServerHandle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl SimDep {
    /// Binds, makes the stand-in CA and server certificate, and starts serving.
    pub async fn start(config: SimDepConfig) -> Result<RunningSimDep, SimDepError> {
        // The saved world first: a file that cannot be used stops the start before anything
        // listens.
        let state = config.state_file.clone().map(StateFile::new);
        let saved = match &state {
            Some(file) => file.load(config.quirks)?,
            None => None,
        };
        let listener = TcpListener::bind(config.listen)
            .map_err(|source| SimDepError::Bind { addr: config.listen, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| SimDepError::Bind { addr: config.listen, source })?;
        // TLS validity is judged by the client's real clock, not the simulated one.
        let real_now = Clock::system().now();
        let ca = Authority::generate("adebox DEP simulator CA", real_now, Duration::days(3650))?;
        let mut names = crate::server_names(addr);
        names.extend(config.extra_names.iter().cloned());
        let leaf = ca.issue_server(&names, real_now, Duration::days(397))?;
        let tls = tls_config(&leaf.cert_pem, leaf.key_pem.expose())?;

        let seed = config.seed;
        let shared = web::Data::new(Shared {
            world: Mutex::new(saved.unwrap_or_else(|| World::new(seed, config.quirks))),
            sessions: Mutex::new(Sessions::new(
                config.session_ttl.whole_milliseconds() as i64,
                seed ^ 0x5E55_1045,
            )),
            nonces: Mutex::new(NonceCache::new(1_000_000)),
            faults: ArcSwap::from_pointee(Faults {
                rotate_session_every: config
                    .rotate_session_every
                    .or(config.faults.rotate_session_every),
                ..config.faults.clone()
            }),
            fault_rng: Mutex::new(SimRng::new(seed ^ 0xFA17)),
            behaviour: ArcSwap::from_pointee(config.behaviour.clone()),
            clock: config.clock.clone(),
            offset: Mutex::new(Duration::ZERO),
            requests: AtomicU64::new(0),
            state,
        });
        let data = shared.clone();
        let business = web::Data::new(crate::business::Business::new(seed));
        let business_data = business.clone();
        let server = HttpServer::new(move || {
            App::new()
                .wrap(actix_web::middleware::from_fn(crate::drain::drain_unread_body))
                .app_data(data.clone())
                .app_data(business_data.clone())
                .app_data(web::PayloadConfig::new(MAX_BODY))
                .configure(api::routes)
                // The Apple Business API shares the host and the world (business/mod.rs);
                // its portal scope comes before the DEP portal's `/portal`.
                .configure(crate::business::api::routes)
                .configure(crate::business::api_activities::routes)
                .configure(crate::business::portal::routes)
                .configure(portal::routes)
                .default_service(web::to(api::not_found))
        })
        .workers(config.workers.max(1))
        .tcp_nodelay(true)
        // Room for a whole 1000-device page, so it is handed to TLS in one piece.
        .h1_write_buffer_size(2 << 20)
        .disable_signals()
        .shutdown_timeout(1)
        .listen_rustls_0_23(listener, tls)
        .map_err(|source| SimDepError::Bind { addr, source })?
        .run();
        let handle = server.handle();
        let task = tokio::spawn(server);
        let base_url = crate::base_url(addr);
        log::info!(target: "sim::dep", "DEP simulator listening on {base_url}");
        Ok(RunningSimDep {
            shared,
            business,
            base_url,
            ca_pem: ca.cert_pem().to_string(),
            handle,
            task,
        })
    }
}

fn tls_config(cert_pem: &str, key_pem: &str) -> Result<rustls::ServerConfig, SimDepError> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let cert = CertificateDer::from_pem_slice(cert_pem.as_bytes())
        .map_err(|e| SimDepError::Tls(format!("{e:?}")))?;
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
        .map_err(|e| SimDepError::Tls(format!("{e:?}")))?;
    rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| SimDepError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .map_err(|e| SimDepError::Tls(e.to_string()))
}

impl RunningSimDep {
    /// `https://127.0.0.1:PORT`: the DEP API base URL (Apple's is `https://mdmenrollment.apple.com`).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The stand-in CA certificate (PEM) clients must trust to talk to this simulator.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The stand-in Apple Business Manager portal (JSON API).
    pub fn portal_url(&self) -> String {
        format!("{}/portal", self.base_url)
    }

    /// The state the simulator's workers share, kept beyond a borrow of this value (the
    /// sandbox's start-up hook works on the world through it).
    pub fn shared(&self) -> Arc<Shared> {
        self.shared.clone().into_inner()
    }

    /// The Apple Business API's own state (API accounts, activities, its 429 fault).
    pub fn business(&self) -> &crate::business::Business {
        &self.business
    }

    /// The simulator's clock.
    pub fn clock(&self) -> &Clock {
        &self.shared.clock
    }

    /// The simulator's "now" (its clock plus any portal advance).
    pub fn now(&self) -> OffsetDateTime {
        self.shared.now()
    }

    /// Moves simulated time forward: a manual clock itself, a system clock by an offset.
    pub fn advance(&self, by: Duration) {
        self.shared.advance(by)
    }

    /// DEP API requests served so far.
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn faults(&self) -> Faults {
        (**self.shared.faults.load()).clone()
    }

    /// Switches faults at run time.
    pub fn set_faults(&self, faults: Faults) {
        self.shared.faults.store(Arc::new(faults));
    }

    pub fn behaviour(&self) -> Behaviour {
        (**self.shared.behaviour.load()).clone()
    }

    pub fn set_behaviour(&self, behaviour: Behaviour) {
        self.shared.behaviour.store(Arc::new(behaviour));
    }

    pub fn set_quirks(&self, quirks: Quirks) {
        self.shared.world().quirks = quirks;
    }

    /// Changes the session TTL and rotation (the `rotate-session` fault) for sessions used from
    /// now on.
    pub fn set_sessions(&self, ttl: Duration, rotate_every: Option<u32>) {
        lock(&self.shared.sessions).set_ttl_ms(ttl.whole_milliseconds() as i64);
        self.set_faults(Faults { rotate_session_every: rotate_every, ..self.faults() });
    }

    /// Creates an MDM server and returns its `.p7m` token for `public_key_pem`, as the
    /// portal's `POST /portal/servers` does.
    pub fn create_server(
        &self,
        name: &str,
        public_key_pem: &str,
    ) -> Result<portal::IssuedToken, portal::PortalError> {
        portal::create_server(&self.shared, name, None, public_key_pem)
    }

    /// Renews a server's token (the old one then gets `token_rejected`).
    pub fn renew_token(
        &self,
        server_uuid: &str,
        public_key_pem: &str,
    ) -> Result<portal::IssuedToken, portal::PortalError> {
        portal::renew_server_token(&self.shared, server_uuid, public_key_pem)
    }

    /// Creates an MDM server and hands back its uuid and decrypted credentials directly (for
    /// tests and the sandbox when no key pair is involved).
    pub fn add_server_with_credentials(&self, name: &str) -> (String, OAuthCredentials) {
        let now = self.now();
        self.with_world(|w| {
            let id = w.add_server(name, None, now);
            let s = w.server(id).expect("the server was just added");
            (s.uuid.clone(), s.token.to_credentials())
        })
    }

    /// Adds `count` generated devices to a server (`None`: the unassigned pool).
    pub fn add_devices(
        &self,
        server_uuid: Option<&str>,
        count: usize,
    ) -> Result<Vec<String>, WorldError> {
        let now = self.now();
        self.with_world(|w| {
            let to = server_uuid.map(|u| w.server_by_uuid(u)).transpose()?;
            w.add_devices(to, count, &[], now)
        })
    }

    /// Moves devices to another server (`deleted` at the old one, `modified` or `added` at
    /// the new one, per the quirks).
    pub fn move_devices(
        &self,
        serials: &[String],
        to_uuid: &str,
    ) -> Result<ChangeReport, WorldError> {
        let now = self.now();
        self.with_world(|w| {
            let to = w.server_by_uuid(to_uuid)?;
            w.move_devices(serials, to, now)
        })
    }

    /// Releases devices from the organisation (`deleted`, or nothing with the quiet-release
    /// quirk).
    pub fn release_devices(&self, serials: &[String]) -> ChangeReport {
        let now = self.now();
        self.with_world(|w| w.release_devices(serials, false, now))
    }

    /// The ground truth: which serial is at which server with which profile.
    pub fn truth(&self) -> Truth {
        self.shared.world().truth()
    }

    /// Runs `f` on the world under its lock (tests and the sandbox script scenarios with it).
    pub fn with_world<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        f(&mut self.shared.world())
    }

    /// Stops serving at once (open connections are dropped: the simulator has nothing to
    /// flush) and waits for the server to finish.
    pub async fn stop(self) {
        self.handle.stop(false).await;
        let _ = self.task.await;
    }
}
