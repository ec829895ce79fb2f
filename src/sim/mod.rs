//! Simulators shipped in the product for sandbox mode and tests: the other side of the wire.
//!
//! [`dep`] is Apple's DEP (Device Assignment) service with a stand-in Apple Business Manager
//! portal; [`apple_pki`] is a stand-in for Apple's device CA and attestation CA (sandbox and
//! tests only); [`apns`] is Apple's push service with a stand-in push CA; [`fleet`] plays simulated iPhones/iPads enrolling over HTTPS; [`rng`] is the seeded generator every simulator draws from so runs reproduce.
//! They use [`crate::apple`] and [`crate::crypto`], never a domain module or the store.

pub mod apns;
pub mod apple_pki;
pub mod dep;
pub mod fleet;
pub mod rng;

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
