//! Simulators shipped in the product for sandbox mode and tests: the other side of the wire.
//!
//! [`dep`] is Apple's DEP (Device Assignment) service with a stand-in Apple Business Manager
//! portal; [`apple_pki`] is a stand-in for Apple's device CA and attestation CA (sandbox and
//! tests only); [`apns`] is Apple's push service with a stand-in push CA; [`fleet`] plays simulated iPhones/iPads enrolling over HTTPS; [`rng`] is the seeded generator every simulator draws from so runs reproduce.
//! [`business`] is the Apple Business API, served with [`dep`] and sharing its world.
//! [`webhook_sink`] is a site's tool receiving adebox's webhook events (sandbox only).
//! [`drain`] keeps their early answers readable over HTTP/2; [`scratch_dir`] and
//! [`StopSignal`] serve the standalone `adebox sim …` processes.
//! They use [`crate::apple`] and [`crate::crypto`], never a domain module or the store.

// The wire crate's modules under the names the simulators have always used.
#[cfg(test)]
use adebox_wire::fixtures;
use adebox_wire::{apple, clock, crypto};

pub mod apns;
pub mod business;
pub use adebox_wire::apple::stand_in_pki as apple_pki;
pub mod dep;
pub mod drain;
pub mod fleet;
pub mod rng;
pub mod webhook_sink;

/// The process's one rustls provider, shared with the product (`adebox-tls-provider`).
pub use adebox_tls_provider::ensure_crypto_provider;

/// `https://<host>:<port>` for a simulator bound to `addr` (loopback when bound to all).
pub(crate) fn base_url(addr: std::net::SocketAddr) -> String {
    let host = match addr.ip() {
        ip if ip.is_unspecified() => "127.0.0.1".to_string(),
        std::net::IpAddr::V6(v6) => format!("[{v6}]"),
        std::net::IpAddr::V4(v4) => v4.to_string(),
    };
    format!("https://{host}:{}", addr.port())
}

/// The names a simulator's server certificate carries: loopback names and the bound address.
pub(crate) fn server_names(addr: std::net::SocketAddr) -> Vec<String> {
    let mut names = vec!["localhost".to_string(), "127.0.0.1".to_string(), "::1".to_string()];
    if !addr.ip().is_unspecified() && !names.contains(&addr.ip().to_string()) {
        names.push(addr.ip().to_string());
    }
    names
}

/// A fresh private (0700) folder under the temporary directory for a standalone simulator's
/// files; it is removed when the value is dropped, so a simulator that stops leaves nothing
/// behind.
pub(crate) fn scratch_dir(prefix: &str) -> std::io::Result<tempfile::TempDir> {
    use std::os::unix::fs::PermissionsExt;
    tempfile::Builder::new()
        .prefix(prefix)
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir()
}

/// Writes a file only its owner can read (0600): a simulator's CA and credentials.
pub(crate) fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?
        .write_all(bytes)
}

/// Ctrl-C (SIGINT), SIGTERM or SIGHUP (the terminal went away): how a standalone simulator
/// is asked to stop, so that it can clean up after itself. The handlers are in place from
/// [`StopSignal::listen`] on, so create it before telling anyone the simulator is up.
pub(crate) struct StopSignal {
    signals: Vec<tokio::signal::unix::Signal>,
}

impl StopSignal {
    pub(crate) fn listen() -> std::io::Result<StopSignal> {
        use tokio::signal::unix::{SignalKind, signal};
        let kinds = [SignalKind::interrupt(), SignalKind::terminate(), SignalKind::hangup()];
        Ok(StopSignal { signals: kinds.into_iter().map(signal).collect::<Result<_, _>>()? })
    }

    /// Waits for the first of them.
    pub(crate) async fn wait(mut self) {
        let waits = self.signals.iter_mut().map(|s| Box::pin(s.recv()));
        futures_util::future::select_all(waits).await;
    }
}
