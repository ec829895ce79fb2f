//! The composition root: prepares the data directory, opens the store, builds the services,
//! binds the listeners, spawns the named background tasks, tells systemd it is ready, and
//! shuts everything down in order. Sandbox wiring lives here too.

mod apple_side;
mod options;
pub mod sandbox;
mod tables;
mod tasks;
mod trust;

use tasks::{maintenance, spawn_task, tls_renewal};

pub use apple_side::{AppleSide, Routes, routes};
pub use options::{BeforeWorkers, DaemonOptions, Mode, StartupServices};
pub use tables::TABLES;
pub use trust::{DeviceRoots, DeviceTrust, device_roots};

use crate::admin::Admin;
use crate::audit::AuditLog;
use crate::clock::Clock;
use crate::config::Config;
use crate::http::{self, AppState, ListenError};
use crate::store::{Store, StoreError};
use crate::tls::{TlsError, TlsManager};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration as StdDuration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("data directory {path} (config key data_dir): {detail}")]
    DataDir { path: PathBuf, detail: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error(transparent)]
    Listen(#[from] ListenError),
    #[error("startup task failed: {0}")]
    Task(String),
    /// Says itself what it is about (the HTTP client, apple.extra_ca_file, the proxy).
    #[error(transparent)]
    Outbound(#[from] crate::outbound::OutboundError),
    #[error(
        "refusing to trust stand-in (simulated) Apple device roots in a production configuration: devices are only trusted through Apple's own. Stand-in roots are for the sandbox and tests only"
    )]
    StandInRoots,
    #[error("enrollment: {0}")]
    Signing(#[from] crate::enroll::SigningError),
}

/// A started daemon.
pub struct Running {
    pub https_addrs: Vec<SocketAddr>,
    pub redirect_addr: Option<SocketAddr>,
    pub admin: Admin,
    pub tokens: crate::tokens::Tokens,
    pub devices: crate::devices::Devices,
    pub sync: crate::sync::Sync,
    pub acme: crate::acme::AcmeService,
    /// Outside production: the stand-in Apple PKI the enrollment endpoint and ACME trust, for
    /// simulated devices to sign and attest with.
    pub stand_in_pki: Option<Arc<crate::sim::apple_pki::StandInApplePki>>,
    pub profiles: crate::profiles::Profiles,
    /// The push certificate, and the queue MDM wakes devices through.
    pub push: crate::push::Push,
    pub pusher: crate::push::Pusher,
    pub mdm: crate::mdm::Mdm,
    pub tls: Arc<TlsManager>,
    pub store: Store,
    pub mode: Mode,
    pub apple: AppleSide,
    /// The one-time setup code printed at start while no admin exists.
    pub setup_code: Option<crate::crypto::Secret<String>>,
    config: Config,
    clock: Clock,
    stop: watch::Sender<bool>,
    tasks: Vec<(&'static str, JoinHandle<()>)>,
    servers: Vec<(actix_web::dev::ServerHandle, JoinHandle<std::io::Result<()>>)>,
}

/// The sandbox's device fleet, enrolling against this daemon: the public host name is
/// reached at the first bound address (loopback when bound to every address).
fn sandbox_fleet(
    urls: &crate::urls::Urls,
    tls: &TlsManager,
    https_addrs: &[SocketAddr],
    pki: &Arc<crate::sim::apple_pki::StandInApplePki>,
    pushes: Option<crate::sim::apns::PushFeed>,
) -> Result<crate::sim::fleet::sandbox::SandboxFleet, DaemonError> {
    let resolve_to = https_addrs.first().map(|a| {
        let ip = if a.ip().is_unspecified() {
            std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)
        } else {
            a.ip()
        };
        SocketAddr::new(ip, a.port())
    });
    let target = crate::sim::fleet::FleetTarget {
        profile_url: urls.enroll_machine_info(),
        ca_pem: tls.ca().cert_pem().to_string(),
        resolve_to,
    };
    let mut fleet = crate::sim::fleet::Fleet::new(target, pki.clone())
        .map_err(|e| DaemonError::Task(e.to_string()))?;
    if let Some(feed) = pushes {
        fleet = fleet.woken_by(feed);
    }
    Ok(crate::sim::fleet::sandbox::SandboxFleet::new(fleet))
}

/// Starts everything; returns once the store is open and the listeners are bound.
pub async fn start(opts: DaemonOptions) -> Result<Running, DaemonError> {
    let config = opts.config.clone();
    let clock = opts.clock.clone();
    let (mode, trust, now) = (opts.mode, opts.device_trust.clone(), clock.now());
    let roots = blocking(move || device_roots(mode, &trust, now)).await??;
    let stand_in_pki = roots.stand_in.clone();
    // Before anything is written: a wrong endpoint, root file or proxy stops the start.
    let routes = routes(&opts.apple, &config, &|name| std::env::var(name).ok())?;
    prepare_data_dir(&config.data_dir)?;

    let dir = config.data_dir.clone();
    let store = blocking(move || Store::open(&dir, TABLES)).await??;
    let tls_config = config.clone();
    let now = clock.now();
    let tls = Arc::new(blocking(move || TlsManager::open(&tls_config, now)).await??);

    let admin = Admin::new(store.clone(), clock.clone(), opts.admin.clone());
    let audit = AuditLog::new(store.clone());
    let http_client = crate::outbound::client(&routes.dep)?;
    let tokens = crate::tokens::Tokens::new(
        store.clone(),
        clock.clone(),
        routes.dep_url.clone(),
        crate::depclient::account_check(http_client.clone(), clock.clone()),
    );
    let devices = crate::devices::Devices::new(store.clone());
    let push = crate::push::Push::new(store.clone(), clock.clone());
    // MDM knows which serial a UDID is, so a device APNs refuses for good gets it on its
    // timeline.
    let serial_of: crate::push::worker::SerialOf = Arc::new(crate::mdm::records::serial_of_udid_in);
    let (pusher, apns_worker) = push.pusher(routes.apns.clone(), Some(serial_of));
    tokens.set_delete_guard(Arc::new(|wtx, token| {
        let n = crate::devices::count_for_token_in(wtx, token)?;
        let defaults = crate::profiles::token_defaults_in(wtx, token)?;
        let mut blockers = Vec::new();
        if defaults > 0 {
            blockers.push(crate::tokens::Blocker {
                kind: "default_profile".into(),
                count: defaults,
                message: format!(
                    "it has {defaults} default profile{}; clear them on the Profiles page first",
                    if defaults == 1 { "" } else { "s" }
                ),
            });
        }
        if n > 0 {
            blockers.push(crate::tokens::Blocker {
                kind: "devices".into(),
                count: n,
                message: format!(
                    "{n} device{} still assigned to this MDM server in Apple Business Manager; release them or assign them to another MDM server there, then sync",
                    if n == 1 { " is" } else { "s are" }
                ),
            });
        }
        Ok(blockers)
    }));
    let sync = crate::sync::Sync::new(
        store.clone(),
        clock.clone(),
        tokens.clone(),
        devices.clone(),
        http_client.clone(),
        opts.dep_retry.clone(),
    );
    let urls = crate::urls::Urls::new(&config);
    let profiles = crate::profiles::Profiles::new(
        store.clone(),
        clock.clone(),
        tokens.clone(),
        devices.clone(),
        crate::profiles::Endpoints {
            url: urls.enroll_machine_info(),
            configuration_web_url: urls.enroll_web(),
            ca_der: tls.ca().cert_der().to_vec(),
        },
        http_client.clone(),
        sync.gates(),
    );
    // Design rule 2: sync reports the devices a page added or changed; profiles gives those
    // without a profile their default.
    let hooked = profiles.clone();
    sync.set_devices_hook(Arc::new(move |token: &str, serials: Vec<crate::ids::Serial>| {
        let (p, token) = (hooked.clone(), token.to_string());
        tokio::spawn(async move {
            if let Err(e) = p.assign_defaults(&token, Some(serials)).await {
                log::error!(token = token.as_str(); "queueing default profiles failed: {e}");
            }
        });
    }));
    let signer = {
        let (dir, tls) = (config.data_dir.clone(), tls.clone());
        blocking(move || crate::enroll::ProfileSigner::ensure(&dir, tls.ca(), now)).await??
    };
    match &opts.apple {
        AppleSide::Simulator { base_url, .. } => {
            tokens
                .retarget_simulator(base_url)
                .await
                .map_err(|e| DaemonError::Task(e.to_string()))?;
        }
        // The configuration is the one source of where the DEP API is: every token follows
        // `apple.dep_url`, and the log says so when one moves.
        AppleSide::Production => {
            let moved = tokens
                .follow_service(&routes.dep_url)
                .await
                .map_err(|e| DaemonError::Task(e.to_string()))?;
            for m in moved {
                log::warn!(
                    token = m.id.as_str();
                    "the server token of \"{}\" was used at {}; it now talks to {} (apple.dep_url). A token only works at the service that issued it",
                    m.server_name, m.from, routes.dep_url
                );
            }
        }
    }
    if let Some(hook) = &opts.before_workers {
        let services = StartupServices { tokens: tokens.clone(), profiles: profiles.clone() };
        (hook.0)(services).await.map_err(DaemonError::Task)?;
    }

    let mut listeners = Vec::new();
    for addr in &config.https_listen {
        listeners.push(http::bind(*addr, "listen.https")?);
    }
    let https_addrs: Vec<SocketAddr> =
        listeners.iter().filter_map(|l| l.local_addr().ok()).collect();
    let redirect_listener = match config.http_redirect_listen {
        Some(addr) => Some(http::bind(addr, "listen.http_redirect")?),
        None => None,
    };
    let redirect_addr = redirect_listener.as_ref().and_then(|l| l.local_addr().ok());

    let public_port = match (config.public_port, https_addrs.first()) {
        (0, Some(addr)) => addr.port(),
        (port, _) => port,
    };
    let ca =
        crate::crypto::ca::Authority::from_pem(tls.ca().cert_pem(), tls.ca().key_pem().expose())
            .map_err(|e| DaemonError::Task(format!("the appliance CA cannot issue: {e}")))?;
    // The URLs devices are given (a configured port 0, in tests, becomes the bound one).
    let public_urls = crate::urls::Urls::new(&config).with_port(public_port);
    let acme = crate::acme::AcmeService::new(
        store.clone(),
        clock.clone(),
        public_urls.clone(),
        roots.attestation.clone(),
        Arc::new(ca),
        opts.acme.clone(),
    );

    let enroll = crate::enroll::Enroll::new(
        store.clone(),
        clock.clone(),
        crate::enroll::Peers {
            tokens: tokens.clone(),
            profiles: profiles.clone(),
            acme: acme.clone(),
            push: push.clone(),
        },
        roots.device_identity.clone(),
        signer,
        public_urls.clone(),
    );

    // Every command queued for a device with a push token wakes it through APNs.
    let nudge: crate::mdm::PushNudge = {
        let pusher = pusher.clone();
        Arc::new(move |target| pusher.notify(target))
    };
    let mdm = crate::mdm::Mdm::new(
        store.clone(),
        clock.clone(),
        devices.clone(),
        Some(profiles.clone()),
        acme.clone(),
        opts.mdm.clone(),
        nudge,
    );
    let scep_ra = {
        let dir = config.data_dir.clone();
        blocking(move || crate::enroll::scep::ra::ensure(&dir, now)).await??
    };
    let scep = crate::enroll::scep::Scep::new(
        store.clone(),
        clock.clone(),
        acme.clone(),
        scep_ra,
        opts.scep_per_client_per_minute,
    );

    let sandbox_fleet = match (&stand_in_pki, opts.mode) {
        (Some(pki), Mode::Sandbox) => {
            Some(sandbox_fleet(&public_urls, &tls, &https_addrs, pki, opts.sandbox_pushes.clone())?)
        }
        _ => None,
    };
    let state = AppState {
        sandbox_fleet,
        acme: acme.clone(),
        admin: admin.clone(),
        tokens: tokens.clone(),
        devices: devices.clone(),
        sync: sync.clone(),
        profiles: profiles.clone(),
        enroll: enroll.clone(),
        push: push.clone(),
        mdm: mdm.clone(),
        scep,
        sandbox_portal: routes
            .portal_url
            .clone()
            .map(|p| crate::sim::dep::portal_client::PortalClient::new(p, http_client.clone())),
        apple_services: Arc::new(routes.report.clone()),
        audit: audit.clone(),
        tls: tls.clone(),
        clock: clock.clone(),
        started_at: clock.now(),
        sandbox: opts.mode == Mode::Sandbox,
        openapi_json: Arc::new(http::api::openapi_json()),
    };
    let workers = if opts.workers == 0 {
        std::thread::available_parallelism().map_or(2, |n| n.get())
    } else {
        opts.workers
    };
    let mut servers = Vec::new();
    let https = http::serve_https(state, listeners, workers, opts.http_timeouts)?;
    servers.push((https.handle(), tokio::spawn(https)));
    if let Some(l) = redirect_listener {
        let base = crate::urls::Urls::new(&config).base();
        let redirect = http::serve_redirect(l, base)?;
        servers.push((redirect.handle(), tokio::spawn(redirect)));
    }

    let (stop, stop_rx) = watch::channel(false);
    let tasks = vec![
        spawn_task(
            "tls-renewal",
            stop_rx.clone(),
            tls_renewal(tls.clone(), audit.clone(), clock.clone()),
        ),
        spawn_task(
            "maintenance",
            stop_rx.clone(),
            maintenance(
                admin.clone(),
                audit.clone(),
                devices.clone(),
                sync.clone(),
                acme.clone(),
                clock.clone(),
            ),
        ),
        spawn_task("profiles", stop_rx.clone(), profiles.clone().run()),
        spawn_task("apns", stop_rx.clone(), apns_worker),
        // Not wrapped in spawn_task: the supervisor stops its workers itself, between pages.
        ("sync", tokio::spawn(sync.clone().supervise(stop_rx.clone()))),
        spawn_task(
            "control-socket",
            stop_rx.clone(),
            crate::control::serve(config.data_dir.join(crate::control::SOCKET_NAME), admin.clone()),
        ),
    ];

    // The device list's index is built in the background: readiness does not wait for a
    // scan of the whole inventory.
    let warming = devices.clone();
    tokio::spawn(async move {
        if let Err(e) = warming.warm().await {
            log::error!("the device list index could not be built: {e}");
        }
    });

    // The sandbox creates its own admin; only a real appliance starts with a setup code.
    let setup_code = match opts.mode {
        Mode::Production => {
            admin.prepare_setup_code().await.map_err(|e| DaemonError::Task(e.to_string()))?
        }
        Mode::Sandbox => None,
    };
    if let Some(code) = &setup_code {
        let url = crate::urls::Urls::new(&config).admin_page();
        // The code is meant for this log: whoever can read the journal owns the box.
        log::warn!(
            "No admin exists yet. Open {url} and enter the one-time setup code {} to create the first admin. (It changes at every restart until setup is done.)",
            code.expose()
        );
    }
    log::info!(
        addrs = format!("{https_addrs:?}").as_str(), mode = format!("{:?}", opts.mode).as_str();
        "adebox {} listening", crate::version()
    );
    Ok(Running {
        acme,
        stand_in_pki,
        https_addrs,
        redirect_addr,
        admin,
        tokens,
        devices,
        sync,
        profiles,
        push,
        pusher,
        mdm,
        tls,
        store,
        mode: opts.mode,
        apple: opts.apple.clone(),
        setup_code,
        config,
        clock,
        stop,
        tasks,
        servers,
    })
}

impl Running {
    /// `https://<first public host>:<port>` as the page and devices use it.
    pub fn public_url(&self) -> String {
        crate::urls::Urls::new(&self.config).base()
    }

    /// SIGHUP: re-read what can change without a restart (log level, certificate files).
    pub async fn reload(&self, new_config: Option<Config>) {
        if let Some(c) = &new_config {
            crate::logging::set_level(c.log_level);
            let restart_needed = Config {
                log_level: self.config.log_level,
                tls_cert_file: self.config.tls_cert_file.clone(),
                tls_key_file: self.config.tls_key_file.clone(),
                ..c.clone()
            } != self.config;
            if restart_needed {
                log::warn!(
                    "the configuration file changed in keys that need a restart (data_dir, listen, public, mdm, apple, outbound); run `systemctl restart adebox` to apply them"
                );
            }
        }
        let tls = self.tls.clone();
        let now = self.clock.now();
        match blocking(move || tls.reload(now)).await {
            Ok(Ok(info)) => log::info!(
                "reloaded: TLS certificate {:?} valid until {}",
                info.mode,
                info.server.not_after
            ),
            Ok(Err(e)) => log::error!(
                "reload: the TLS certificate could not be reloaded ({e}); still serving the previous one"
            ),
            Err(e) => log::error!("reload failed: {e}"),
        }
    }

    /// Graceful shutdown: stop accepting, let in-flight requests finish (at most 10 s),
    /// stop the background tasks, close the store.
    pub async fn shutdown(self) {
        for (handle, _) in &self.servers {
            handle.stop(true).await;
        }
        for (_, task) in self.servers {
            let _ = task.await;
        }
        let _ = self.stop.send(true);
        for (name, task) in self.tasks {
            if tokio::time::timeout(StdDuration::from_secs(5), task).await.is_err() {
                log::warn!(task = name; "background task did not stop in time");
            }
        }
        let _ = std::fs::remove_file(self.config.data_dir.join(crate::control::SOCKET_NAME));
        // Services are shared with worker threads that let go of them a moment after they
        // stop; wait for that so the store file is really closed when shutdown returns.
        drop((self.admin, self.tokens, self.devices, self.sync, self.acme, self.profiles));
        drop((self.push, self.pusher));
        let deadline = std::time::Instant::now() + StdDuration::from_secs(5);
        while self.store.handles() > 1 && std::time::Instant::now() < deadline {
            tokio::time::sleep(StdDuration::from_millis(10)).await;
        }
        if self.store.handles() > 1 {
            log::warn!(
                "the store is still in use by {} handles at shutdown",
                self.store.handles() - 1
            );
        }
        drop(self.store);
        log::info!("adebox stopped");
    }
}

/// Runs a started daemon until SIGTERM/SIGINT, handling SIGHUP, systemd notification and
/// the watchdog.
pub async fn run_until_signal(
    running: Running,
    config_path: Option<PathBuf>,
) -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut hup = signal(SignalKind::hangup())?;
    let _ = sd_notify::notify(&[
        sd_notify::NotifyState::Status("serving"),
        sd_notify::NotifyState::Ready,
    ]);
    let watchdog = sd_notify::watchdog_enabled().map(|every| {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every / 2);
            loop {
                tick.tick().await;
                let _ = sd_notify::notify(&[sd_notify::NotifyState::Watchdog]);
            }
        })
    });
    loop {
        tokio::select! {
            _ = term.recv() => break,
            _ = int.recv() => break,
            _ = hup.recv() => {
                let _ = sd_notify::notify(&[sd_notify::NotifyState::Reloading]);
                let new_config = match &config_path {
                    Some(p) => match Config::load(p, true) {
                        Ok(c) => Some(c),
                        Err(e) => { log::error!("reload: {e}; keeping the running configuration"); None }
                    },
                    None => None,
                };
                running.reload(new_config).await;
                let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
            }
        }
    }
    log::info!("stopping");
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
    if let Some(w) = watchdog {
        w.abort();
    }
    running.shutdown().await;
    Ok(())
}

/// Creates the data directory (0700) if needed and checks this user can write to it.
pub fn prepare_data_dir(dir: &Path) -> Result<(), DaemonError> {
    use std::os::unix::fs::DirBuilderExt;
    let err = |detail: String| DaemonError::DataDir { path: dir.to_path_buf(), detail };
    if !dir.exists() {
        std::fs::DirBuilder::new().mode(0o700).recursive(true).create(dir).map_err(|e| {
            err(format!("cannot create it ({e}); create it and give it to the user adebox runs as (`install -d -m 0700 -o adebox -g adebox {}`)", dir.display()))
        })?;
    }
    if !dir.is_dir() {
        return Err(err("is not a directory".into()));
    }
    let probe = dir.join(".write-test");
    std::fs::write(&probe, b"").map_err(|e| {
        err(format!("is not writable by this user ({e}); give it to the user adebox runs as (`chown -R adebox:adebox {}`)", dir.display()))
    })?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, DaemonError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| DaemonError::Task(e.to_string()))
}
