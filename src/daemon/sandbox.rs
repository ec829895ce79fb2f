//! Sandbox wiring: an admin with a generated password and an API token, written to
//! `<data>/sandbox.json` (0600) so scripts can drive the sandbox. Later steps add the Apple
//! simulators and demo data, always through the product's real paths.

use super::Running;
use crate::audit::Actor;
use crate::crypto::Secret;
use serde::Serialize;
use std::path::Path;

pub const ADMIN_USER: &str = "admin";

/// What `sandbox.json` holds.
#[derive(Debug, Serialize)]
pub struct SandboxInfo {
    pub url: String,
    pub admin_user: String,
    pub admin_password: String,
    pub api_token: String,
    /// Path of the appliance CA certificate (PEM).
    pub ca_cert: String,
}

/// Sets the sandbox admin's password (fresh at every start), creates an API token, and
/// writes `sandbox.json`.
pub async fn prepare(running: &Running, dir: &Path) -> anyhow::Result<SandboxInfo> {
    let password = crate::crypto::random_token::<12>();
    running.admin.set_password_cli(ADMIN_USER, Secret::new(password.clone())).await?;
    let token = running.admin.create_api_token(Actor::System, "sandbox").await?;
    let url =
        format!("https://localhost:{}", running.https_addrs.first().map_or(8443, |a| a.port()));
    let info = SandboxInfo {
        url,
        admin_user: ADMIN_USER.into(),
        admin_password: password,
        api_token: token.token.expose().clone(),
        ca_cert: dir.join("tls").join("ca.pem").display().to_string(),
    };
    let json = serde_json::to_vec_pretty(&info)?;
    write_private(&dir.join("sandbox.json"), &json)?;
    Ok(info)
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)
}
