//! The APNs simulator: Apple's push service as adebox's push worker sees it
//! (../shared/spec/enrollment.md §5), plus the stand-in push CA that issues push certificates
//! as the Apple Push Certificates Portal would.
//!
//! A real HTTPS server (HTTP/2 by ALPN, client certificates of its own stand-in CA) answering
//! `POST /3/device/<token>` with Apple's statuses and `{"reason": …}` bodies ([`routes`]) after
//! reading each push strictly with its own types ([`request`]),
//! switchable [`faults`], and a record of accepted pushes per device token that tests and the
//! simulated fleet read or wait on ([`RunningSimApns::wait_for_push`],
//! [`RunningSimApns::subscribe`]). Used in-process by tests and the sandbox and standalone
//! (`adebox sim apns`, [`run_standalone`]). Must not use a domain module or the store.

pub mod faults;
pub mod request;
pub mod routes;
pub mod server;
pub mod state;

pub use faults::Faults;
pub use server::{PushFeed, RunningSimApns, SimApns, SimApnsConfig, SimApnsError};
pub use state::Delivery;

use std::net::SocketAddr;

/// `adebox sim apns`: serves until Ctrl-C, SIGTERM or SIGHUP, after writing its CA (0600) to
/// a fresh private folder under the temporary directory and printing how to get a push
/// certificate; the folder is removed when it stops.
pub async fn run_standalone(
    listen: SocketAddr,
    seed: u64,
    faults: &str,
) -> Result<(), SimApnsError> {
    let faults = Faults::parse(faults)?;
    let stop = crate::StopSignal::listen().map_err(SimApnsError::Signals)?;
    let sim = SimApns::start(SimApnsConfig { listen, seed, faults, ..Default::default() }).await?;
    let port = sim.base_url().rsplit(':').next().unwrap_or("0").to_string();
    let prefix = format!("adebox-sim-apns-{port}-");
    let dir = crate::scratch_dir(&prefix).map_err(|source| SimApnsError::Write {
        path: std::env::temp_dir().join(&prefix).display().to_string(),
        source,
    })?;
    let ca_path = dir.path().join("ca.pem");
    crate::write_private(&ca_path, sim.ca_pem().as_bytes())
        .map_err(|source| SimApnsError::Write { path: ca_path.display().to_string(), source })?;
    println!("APNs simulator:  {}", sim.base_url());
    println!("CA certificate:  {}", ca_path.display());
    println!("Push topic:      {}", sim.topic());
    println!(
        "Push certificate: POST {}/portal/certificates with the CSR (PEM) as the body",
        sim.base_url()
    );
    println!("Pushes received: GET {}/portal/pushes/<hex token>", sim.base_url());
    println!("Faults:          {}", sim.faults());
    println!("Press Ctrl-C to stop.");
    stop.wait().await;
    sim.stop().await;
    if let Err(e) = dir.close() {
        log::warn!(target: "sim::apns", "cannot remove the simulator's files: {e}");
    }
    Ok(())
}

#[cfg(test)]
mod tests;
