//! `adebox sim dep`: the simulator as a standalone process any DEP client can use.
//!
//! [`run_standalone`] starts the server on the system clock, creates one MDM server with the
//! asked number of devices, writes the stand-in CA certificate and that server's OAuth
//! credentials (0600) to a fresh folder under the temporary directory, prints where everything
//! is, and serves until Ctrl-C. Uses tokio and the file system; no domain module.

use crate::sim::dep::faults::Faults;
use crate::sim::dep::server::{SimDep, SimDepConfig, SimDepError};
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Runs the simulator until Ctrl-C. `faults` is a SPEC (see [`Faults`]).
pub async fn run_standalone(
    listen: SocketAddr,
    devices: usize,
    seed: u64,
    faults: &str,
) -> Result<(), SimDepError> {
    let faults = Faults::parse(faults)?;
    let sim =
        SimDep::start(SimDepConfig { listen, seed, faults, ..SimDepConfig::default() }).await?;
    let now = sim.now();
    let (uuid, name, creds) = sim.with_world(|w| -> Result<_, SimDepError> {
        let id = w.add_server("Simulated MDM server", None, now);
        w.add_devices(Some(id), devices, &[], now)?;
        let s = w.server(id).expect("the server was just added");
        Ok((s.uuid.clone(), s.name.clone(), s.token.to_credentials()))
    })?;

    let dir = std::env::temp_dir()
        .join(format!("adebox-sim-dep-{}", sim.base_url().rsplit(':').next().unwrap_or("0")));
    std::fs::create_dir_all(&dir)
        .map_err(|source| SimDepError::Write { path: dir.display().to_string(), source })?;
    let ca_path = dir.join("ca.pem");
    write_private(&ca_path, sim.ca_pem().as_bytes())?;
    let token_path = dir.join("server-token.json");
    let token = serde_json::json!({
        "consumer_key": creds.consumer_key,
        "consumer_secret": creds.consumer_secret.expose(),
        "access_token": creds.access_token.expose(),
        "access_secret": creds.access_secret.expose(),
        "access_token_expiry": crate::apple::dep::time_format::format(creds.access_token_expiry),
    });
    write_private(&token_path, token.to_string().as_bytes())?;

    let portal = sim.portal_url();
    println!("DEP simulator:   {}", sim.base_url());
    println!("CA certificate:  {}", ca_path.display());
    println!("ABM portal:      {portal}");
    println!("MDM server:      {name} ({uuid}), {devices} devices");
    println!("Its credentials: {} (the decrypted token JSON)", token_path.display());
    println!("Its .p7m token:  POST {portal}/servers/{uuid}/token {{\"public_key_pem\": \"…\"}}");
    println!("Faults:          {}", sim.faults());
    println!("Press Ctrl-C to stop.");
    let _ = tokio::signal::ctrl_c().await;
    sim.stop().await;
    Ok(())
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), SimDepError> {
    use std::os::unix::fs::OpenOptionsExt;
    let err =
        |source| SimDepError::Write { path: PathBuf::from(path).display().to_string(), source };
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(err)?;
    f.write_all(bytes).map_err(err)
}
