//! The APNs simulator: Apple's push service as adebox's push worker sees it
//! (../shared/spec/enrollment.md §5), plus the stand-in push CA that issues push certificates
//! as the Apple Push Certificates Portal would.
//!
//! A real HTTPS server (HTTP/2 by ALPN, client certificates of its own stand-in CA) answering
//! `POST /3/device/<token>` with Apple's statuses and `{"reason": …}` bodies ([`routes`]),
//! switchable [`faults`], and a record of accepted pushes per device token that tests and the
//! simulated fleet read or wait on ([`RunningSimApns::wait_for_push`],
//! [`RunningSimApns::subscribe`]). Used in-process by tests and the sandbox and standalone
//! (`adebox sim apns`, [`run_standalone`]). Must not use a domain module or the store.

pub mod faults;
pub mod routes;
pub mod server;

pub use faults::Faults;
pub use server::{Delivery, PushFeed, RunningSimApns, SimApns, SimApnsConfig, SimApnsError};

use std::net::SocketAddr;

/// `adebox sim apns`: serves until Ctrl-C, after writing its CA (0600) where clients can
/// read it and printing how to get a push certificate.
pub async fn run_standalone(
    listen: SocketAddr,
    seed: u64,
    faults: &str,
) -> Result<(), SimApnsError> {
    let faults = Faults::parse(faults)?;
    let sim = SimApns::start(SimApnsConfig { listen, seed, faults, ..Default::default() }).await?;
    let port = sim.base_url().rsplit(':').next().unwrap_or("0").to_string();
    let dir = std::env::temp_dir().join(format!("adebox-sim-apns-{port}"));
    let ca_path = dir.join("ca.pem");
    let write = || -> std::io::Result<()> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::create_dir_all(&dir)?;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&ca_path)?;
        f.write_all(sim.ca_pem().as_bytes())
    };
    write()
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
    let _ = tokio::signal::ctrl_c().await;
    sim.stop().await;
    Ok(())
}

#[cfg(test)]
mod tests;
