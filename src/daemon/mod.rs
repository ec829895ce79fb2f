//! The composition root: prepares the data directory, opens the store, builds the services,
//! binds the listeners, spawns the named background tasks, tells systemd it is ready, and
//! shuts everything down in order. Sandbox wiring lives here too.

mod acme_task;
mod anchors_task;
mod apple_side;
mod demo_profile;
mod options;
pub mod sandbox;
mod sandbox_lifecycle;
mod sandbox_users;
mod services;
mod tables;
mod tasks;
mod tls_renewal;
mod trust;

pub use apple_side::{AppleSide, Routes, routes};
pub use options::{BeforeWorkers, DaemonOptions, Mode, StartupServices};
pub use services::{Foundation, Services, Workers};
pub use tables::TABLES;
pub use trust::{DeviceRoots, DeviceTrust, device_roots};

use crate::config::Config;
use crate::http::{self, AppState, ListenError};
use crate::store::StoreError;
use crate::tls::TlsError;
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
    Audit(#[from] crate::audit::AuditError),
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
    #[error(transparent)]
    Acme(#[from] crate::tls::AcmeError),
    /// Names `mdm.schemas_dir`, the folder and the fix.
    #[error(transparent)]
    Schemas(#[from] crate::schemas::SchemasError),
}

/// A started daemon: its services (see [`Services`]), listeners and background tasks.
pub struct Running {
    pub https_addrs: Vec<SocketAddr>,
    pub redirect_addr: Option<SocketAddr>,
    pub services: Services,
    pub mode: Mode,
    /// The sandbox's device fleet (sandbox mode only): the sandbox hands it its demo account.
    pub sandbox_fleet: Option<crate::sim::fleet::sandbox::SandboxFleet>,
    pub apple: AppleSide,
    /// The one-time setup code printed at start while no admin exists.
    pub setup_code: Option<crate::crypto::Secret<String>>,
    config: Config,
    stop: watch::Sender<bool>,
    tasks: Vec<(&'static str, JoinHandle<()>)>,
    servers: Vec<(actix_web::dev::ServerHandle, JoinHandle<std::io::Result<()>>)>,
}

/// Starts everything; returns once the store is open and the listeners are bound.
pub async fn start(opts: DaemonOptions) -> Result<Running, DaemonError> {
    let config = opts.config.clone();
    let base = Foundation::open(&opts).await?;
    let listeners = Listeners::bind(&config, opts.mode)?;
    let (services, workers) = Services::build(&opts, base, listeners.public_port)?;
    follow_apple(&services, &opts.apple).await?;
    anchors_task::arm_hold(&services.tls, &services.profiles, &services.clock).await;
    if let Some(hook) = &opts.before_workers {
        let startup = StartupServices {
            tokens: services.tokens.clone(),
            profiles: services.profiles.clone(),
        };
        (hook.0)(startup).await.map_err(DaemonError::Task)?;
    }

    let sandbox_fleet = match (&services.stand_in_pki, opts.mode) {
        (Some(pki), Mode::Sandbox) => Some(sandbox::fleet(
            &crate::urls::Urls::new(&config).with_port(listeners.public_port),
            &services.tls,
            &listeners.https_addrs,
            pki,
            opts.sandbox_pushes.clone(),
            &opts.apple,
        )?),
        _ => None,
    };
    let state = app_state(&services, sandbox_fleet.clone(), opts.mode, &opts.config);
    let workers_n = if opts.workers == 0 {
        std::thread::available_parallelism().map_or(2, |n| n.get())
    } else {
        opts.workers
    };
    let (https_addrs, redirect_addr) = (listeners.https_addrs.clone(), listeners.redirect_addr);
    let mut servers = Vec::new();
    let https = http::serve_https(state, listeners.https, workers_n, opts.http_timeouts)?;
    servers.push((https.handle(), tokio::spawn(https)));
    if let Some(l) = listeners.redirect {
        let base = crate::urls::Urls::new(&config).base();
        let redirect = http::serve_redirect(l, base)?;
        servers.push((redirect.handle(), tokio::spawn(redirect)));
    }
    if let (Some(l), Some(acme)) = (listeners.acme, &services.tls_acme) {
        let challenges = http::acme_challenge::serve(l, acme.challenges())?;
        servers.push((challenges.handle(), tokio::spawn(challenges)));
    }

    let (stop, stop_rx) = watch::channel(false);
    let tasks = tasks::spawn_all(&services, workers, &config, stop_rx);
    // The device list's index is built in the background: readiness does not wait for a
    // scan of the whole inventory.
    let warming = services.devices.clone();
    tokio::spawn(async move {
        if let Err(e) = warming.warm().await {
            log::error!("the device list index could not be built: {e}");
        }
    });

    // The sandbox creates its own admin; only a real appliance starts with a setup code.
    let setup_code = match opts.mode {
        Mode::Production => services
            .admin
            .prepare_setup_code()
            .await
            .map_err(|e| DaemonError::Task(e.to_string()))?,
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
        https_addrs,
        redirect_addr,
        services,
        mode: opts.mode,
        sandbox_fleet,
        apple: opts.apple.clone(),
        setup_code,
        config,
        stop,
        tasks,
        servers,
    })
}

/// Where the tokens' DEP service is: the simulator in the sandbox; otherwise the
/// configuration is the one source (`apple.dep_url`), and the log says when a token moves.
async fn follow_apple(services: &Services, apple: &AppleSide) -> Result<(), DaemonError> {
    let tokens = &services.tokens;
    match apple {
        AppleSide::Simulator { base_url, .. } => {
            tokens
                .retarget_simulator(base_url)
                .await
                .map_err(|e| DaemonError::Task(e.to_string()))?;
        }
        AppleSide::Production => {
            let dep_url = &services.routes.dep_url;
            let moved = tokens
                .follow_service(dep_url)
                .await
                .map_err(|e| DaemonError::Task(e.to_string()))?;
            for m in moved {
                log::warn!(
                    token = m.id.as_str();
                    "the server token of \"{}\" was used at {}; it now talks to {} (apple.dep_url). A token only works at the service that issued it",
                    m.server_name, m.from, dep_url
                );
            }
        }
    }
    Ok(())
}

/// What the HTTP handlers get: service handles, never the raw store (design rule 8).
fn app_state(
    s: &Services,
    sandbox_fleet: Option<crate::sim::fleet::sandbox::SandboxFleet>,
    mode: Mode,
    config: &crate::config::Config,
) -> AppState {
    let store = s.store.clone();
    AppState {
        backups: s.backups.clone(),
        metrics: crate::http::MetricsState {
            live: s.store.metrics().clone(),
            config: config.metrics.clone(),
            store: Arc::new(move |snap| {
                let stats = store.write_stats();
                snap.store_bytes = std::fs::metadata(store.path()).map_or(0, |m| m.len());
                (snap.store_commits, snap.store_changes) = (stats.commits, stats.units);
                snap.store_replays = stats.replays;
            }),
        },
        sandbox_fleet,
        acme: s.acme.clone(),
        admin: s.admin.clone(),
        tokens: s.tokens.clone(),
        business_actions: s.business_actions.clone(),
        business: s.business.clone(),
        business_devices: s.business_devices.clone(),
        devices: s.devices.clone(),
        sync: s.sync.clone(),
        profiles: s.profiles.clone(),
        enroll: s.enroll.clone(),
        directory: s.directory.clone(),
        signin: s.signin.clone(),
        push: s.push.clone(),
        mdm: s.mdm.clone(),
        setup: s.setup.clone(),
        scep: s.scep.clone(),
        sandbox_portal: s
            .routes
            .portal_url
            .clone()
            .map(|p| crate::sim::dep::portal_client::PortalClient::new(p, s.dep_client.clone())),
        apple_services: Arc::new(s.routes.report.clone()),
        audit: s.audit.clone(),
        events: s.events.clone(),
        alerts: s.alerts.clone(),
        tls: s.tls.clone(),
        tls_acme: s.tls_acme.clone(),
        clock: s.clock.clone(),
        started_at: s.clock.now(),
        sandbox: mode == Mode::Sandbox,
        openapi_json: Arc::new(http::api::openapi_json()),
    }
}

/// The bound listeners, before they serve.
struct Listeners {
    https: Vec<std::net::TcpListener>,
    https_addrs: Vec<SocketAddr>,
    redirect: Option<std::net::TcpListener>,
    redirect_addr: Option<SocketAddr>,
    /// The HTTP-01 challenge listener of `[tls.acme]`.
    acme: Option<std::net::TcpListener>,
    /// The port devices are told (a configured port 0, in tests, becomes the bound one).
    public_port: u16,
}

impl Listeners {
    fn bind(config: &Config, mode: Mode) -> Result<Listeners, DaemonError> {
        // The sandbox's address comes from its command line, not from a configuration file.
        let https_key = match mode {
            Mode::Sandbox => "option --listen",
            _ => "config key listen.https",
        };
        let mut https = Vec::new();
        for addr in &config.https_listen {
            https.push(http::bind(*addr, https_key)?);
        }
        let https_addrs: Vec<SocketAddr> =
            https.iter().filter_map(|l| l.local_addr().ok()).collect();
        let redirect = match config.http_redirect_listen {
            Some(addr) => Some(http::bind(addr, "config key listen.http_redirect")?),
            None => None,
        };
        let redirect_addr = redirect.as_ref().and_then(|l| l.local_addr().ok());
        let acme = match &config.tls_acme {
            Some(a) => Some(http::bind(a.http_listen, "config key tls.acme.http_listen")?),
            None => None,
        };
        let public_port = match (config.public_port, https_addrs.first()) {
            (0, Some(addr)) => addr.port(),
            (port, _) => port,
        };
        Ok(Listeners { https, https_addrs, redirect, redirect_addr, acme, public_port })
    }
}

impl Running {
    /// SIGHUP: re-read what can change without a restart (log level, certificate files,
    /// Apple's schemas).
    pub async fn reload(&self, new_config: Option<Config>) {
        if let Some(c) = &new_config {
            crate::logging::set_level(c.log_level);
            self.reload_schemas(c.mdm_schemas_dir.clone()).await;
            // The certificate follows `public.hosts` on reload; the URLs devices are given
            // name the first host, so changing that one still needs a restart.
            let same_url_host = c.public_hosts.first() == self.config.public_hosts.first();
            let restart_needed = Config {
                log_level: self.config.log_level,
                public_hosts: if same_url_host {
                    self.config.public_hosts.clone()
                } else {
                    c.public_hosts.clone()
                },
                tls_cert_file: self.config.tls_cert_file.clone(),
                tls_key_file: self.config.tls_key_file.clone(),
                mdm_schemas_dir: self.config.mdm_schemas_dir.clone(),
                ..c.clone()
            } != self.config;
            if restart_needed {
                log::warn!(
                    "the configuration file changed in keys that need a restart (data_dir, listen, the first of public.hosts, public.port, mdm.release_timeout_minutes, apple, outbound); run `systemctl restart adebox` to apply them"
                );
            }
        }
        let tls = self.services.tls.clone();
        let now = self.services.clock.now();
        let hosts = new_config.map(|c| c.public_hosts);
        match blocking(move || tls.reload(hosts, now)).await {
            Ok(Ok(reloaded)) => {
                let info = &reloaded.info;
                log::info!(
                    "reloaded: TLS certificate {:?} for {} valid until {}",
                    info.mode,
                    info.server.sans.join(", "),
                    info.server.not_after
                );
                if reloaded.order_needed
                    && let Some(acme) = &self.services.tls_acme
                {
                    log::info!(
                        "ordering an ACME certificate for {} (public.hosts changed); the current one is served until it arrives",
                        info.public_hosts.join(", ")
                    );
                    acme.order_soon();
                }
            }
            Ok(Err(e)) => log::error!(
                "reload: the TLS certificate could not be reloaded ({e}); still serving the previous one"
            ),
            Err(e) => log::error!("reload failed: {e}"),
        }
    }

    /// Loads `[mdm] schemas_dir` again (a checkout updated in place, or another one); a bad
    /// folder keeps the running schemas and says why.
    pub async fn reload_schemas(&self, dir: Option<PathBuf>) {
        let schemas = self.services.schemas.clone();
        let d = dir.clone();
        match blocking(move || schemas.reload(d.as_deref())).await {
            Ok(Ok(())) => match dir {
                Some(d) => log::info!("reloaded: Apple's schemas from {}", d.display()),
                None => log::info!("reloaded: {}", crate::schemas::OFF_NOTICE),
            },
            Ok(Err(e)) => log::error!("reload: {e}; still checking with the previous schemas"),
            Err(e) => log::error!("reload of Apple's schemas failed: {e}"),
        }
    }

    /// Graceful shutdown within [`SHUTDOWN_WITHIN`]: stop accepting, give in-flight requests
    /// [`http::SHUTDOWN_GRACE`] (an idle keep-alive connection is closed then), stop the
    /// background tasks (aborting any still busy), and close the store once every handle
    /// (worker threads, blocking store calls) has let go.
    pub async fn shutdown(self) {
        let started = std::time::Instant::now();
        let deadline = started + SHUTDOWN_WITHIN;
        let _ = self.stop.send(true);
        // Both listeners at once: each may wait out the grace.
        futures_util::future::join_all(self.servers.iter().map(|(h, _)| h.stop(true))).await;
        for (_, task) in self.servers {
            let _ = task.await;
        }
        log::debug!(ms = started.elapsed().as_millis() as u64, handles = self.services.store.handles(); "shutdown: listeners stopped");
        for (name, mut task) in self.tasks {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let wait = left.saturating_sub(StdDuration::from_millis(300));
            if tokio::time::timeout(wait, &mut task).await.is_err() {
                // Dropping the future ends it at its next await; its store writes are whole
                // transactions, so nothing is left half-done.
                task.abort();
                let _ = task.await;
                log::info!(task = name; "background task stopped at its next step (shutdown)");
            }
        }
        log::debug!(ms = started.elapsed().as_millis() as u64, handles = self.services.store.handles(); "shutdown: tasks stopped");
        let _ = std::fs::remove_file(self.config.data_dir.join(crate::control::SOCKET_NAME));
        // Worker threads and blocking store calls let go of their handles a moment after
        // they stop; wait for that so the store file is really closed when shutdown returns.
        let store = self.services.store.clone();
        drop(self.services);
        while store.handles() > 1 && std::time::Instant::now() < deadline {
            tokio::time::sleep(StdDuration::from_millis(5)).await;
        }
        if store.handles() > 1 {
            log::warn!("the store is still in use by {} handles at shutdown", store.handles() - 1);
        }
        drop(store);
        log::info!(ms = started.elapsed().as_millis() as u64; "adebox stopped");
    }
}

/// How long a shutdown (SIGTERM) may take at most, store closed.
pub const SHUTDOWN_WITHIN: StdDuration = StdDuration::from_millis(1900);

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
