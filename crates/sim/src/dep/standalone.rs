//! `adebox sim dep`: the simulator as a standalone process any DEP client can use.
//!
//! [`start_standalone`] starts the server on the system clock, creates one MDM server with the
//! asked number of devices, and writes the stand-in CA certificate and that server's OAuth
//! credentials (both 0600) to a fresh private folder under the temporary directory;
//! [`run_standalone`] prints where everything is and serves until Ctrl-C, SIGTERM or SIGHUP.
//! The folder lives as long as the [`Standalone`]: stopping (or a panic) removes it, so the
//! process leaves nothing in the temporary directory. Uses tokio and the file system; no
//! domain module.

use crate::dep::faults::Faults;
use crate::dep::server::{RunningSimDep, SimDep, SimDepConfig, SimDepError};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// A started standalone simulator and where its files are.
pub struct Standalone {
    pub sim: RunningSimDep,
    pub server_uuid: String,
    pub server_name: String,
    pub devices: usize,
    /// The stand-in CA certificate clients must trust.
    pub ca_path: PathBuf,
    /// The MDM server's decrypted token JSON (what a `.p7m` would contain).
    pub token_path: PathBuf,
    /// Holds `ca_path` and `token_path`; removed on drop.
    dir: tempfile::TempDir,
}

impl Standalone {
    /// What `adebox sim dep` prints.
    pub fn describe(&self) -> String {
        let portal = self.sim.portal_url();
        let uuid = &self.server_uuid;
        [
            format!("DEP simulator:   {}", self.sim.base_url()),
            format!("CA certificate:  {}", self.ca_path.display()),
            format!("ABM portal:      {portal}"),
            format!("MDM server:      {} ({uuid}), {} devices", self.server_name, self.devices),
            format!("Its credentials: {} (the decrypted token JSON)", self.token_path.display()),
            format!(
                "Its .p7m token:  POST {portal}/servers/{uuid}/token {{\"public_key_pem\": \"…\"}}"
            ),
            format!("Faults:          {}", self.sim.faults()),
        ]
        .join("\n")
    }

    /// Stops serving and removes the files it wrote.
    pub async fn stop(self) {
        let Standalone { sim, dir, .. } = self;
        sim.stop().await;
        if let Err(e) = dir.close() {
            log::warn!(target: "sim::dep", "cannot remove the simulator's files: {e}");
        }
    }
}

/// Starts the simulator with one MDM server holding `devices` devices; `faults` is a SPEC
/// (see [`Faults`]).
pub async fn start_standalone(
    listen: SocketAddr,
    devices: usize,
    seed: u64,
    faults: &str,
) -> Result<Standalone, SimDepError> {
    let faults = Faults::parse(faults)?;
    let sim =
        SimDep::start(SimDepConfig { listen, seed, faults, ..SimDepConfig::default() }).await?;
    let now = sim.now();
    let (server_uuid, server_name, creds) = sim.with_world(|w| -> Result<_, SimDepError> {
        let id = w.add_server("Simulated MDM server", None, now);
        w.add_devices(Some(id), devices, &[], now)?;
        let s = w.server(id).expect("the server was just added");
        Ok((s.uuid.clone(), s.name.clone(), s.token.to_credentials()))
    })?;

    let port = sim.base_url().rsplit(':').next().unwrap_or("0").to_string();
    let prefix = format!("adebox-sim-dep-{port}-");
    let dir = crate::scratch_dir(&prefix).map_err(|source| SimDepError::Write {
        path: std::env::temp_dir().join(prefix).display().to_string(),
        source,
    })?;
    let ca_path = dir.path().join("ca.pem");
    write_private(&ca_path, sim.ca_pem().as_bytes())?;
    let token_path = dir.path().join("server-token.json");
    let token = serde_json::json!({
        "consumer_key": creds.consumer_key,
        "consumer_secret": creds.consumer_secret.expose(),
        "access_token": creds.access_token.expose(),
        "access_secret": creds.access_secret.expose(),
        "access_token_expiry": crate::apple::dep::time_format::format(creds.access_token_expiry),
    });
    write_private(&token_path, token.to_string().as_bytes())?;
    Ok(Standalone { sim, server_uuid, server_name, devices, ca_path, token_path, dir })
}

/// Runs the simulator until Ctrl-C, SIGTERM or SIGHUP, printing where everything is; removes
/// its files before returning.
pub async fn run_standalone(
    listen: SocketAddr,
    devices: usize,
    seed: u64,
    faults: &str,
) -> Result<(), SimDepError> {
    let stop = crate::StopSignal::listen().map_err(SimDepError::Signals)?;
    let standalone = start_standalone(listen, devices, seed, faults).await?;
    println!("{}", standalone.describe());
    println!("Press Ctrl-C to stop.");
    stop.wait().await;
    standalone.stop().await;
    Ok(())
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), SimDepError> {
    crate::write_private(path, bytes)
        .map_err(|source| SimDepError::Write { path: path.display().to_string(), source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn standalone_writes_a_ca_and_credentials_a_client_can_use() {
        let s =
            start_standalone(SocketAddr::from(([127, 0, 0, 1], 0)), 7, 3, "dup=0.1").await.unwrap();
        let text = s.describe();
        assert!(
            text.contains(s.sim.base_url()) && text.contains("/portal") && text.contains("dup=0.1"),
            "{text}"
        );
        let ca = std::fs::read_to_string(&s.ca_path).unwrap();
        assert_eq!(ca, s.sim.ca_pem());
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&s.token_path).unwrap().permissions().mode() & 0o777, 0o600);
        let token: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&s.token_path).unwrap()).unwrap();
        assert!(token["consumer_key"].as_str().unwrap().starts_with("CK_"));
        let truth = s.sim.truth();
        assert_eq!(truth.servers[0].devices.len(), 7);
        let dir = s.ca_path.parent().unwrap().to_path_buf();
        assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
        s.stop().await;
        assert!(!dir.exists(), "stopping removes the files");
    }

    #[tokio::test]
    async fn a_bad_fault_spec_is_refused_before_starting() {
        let e = start_standalone(SocketAddr::from(([127, 0, 0, 1], 0)), 0, 1, "explode")
            .await
            .err()
            .unwrap();
        assert!(e.to_string().contains("unknown fault `explode`"), "{e}");
    }

    #[tokio::test]
    async fn a_busy_port_is_reported_with_the_fix() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = taken.local_addr().unwrap();
        let e = start_standalone(addr, 0, 1, "").await.err().unwrap();
        assert!(e.to_string().contains("port 0 picks a free one"), "{e}");
    }
}
