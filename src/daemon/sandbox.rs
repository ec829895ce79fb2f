//! Sandbox wiring: the simulated Apple DEP service with its stand-in ABM portal, the simulated
//! APNs service whose stand-in CA issues the sandbox's push certificate, an admin
//! with a generated password and an API token, and a demo MDM server with devices — all set
//! up through the product's real paths (a pending key, a `.p7m` token from the simulated ABM,
//! the token check with Apple, the sync worker). `<data>/sandbox.json` (0600) lets scripts
//! drive it, and `<data>/stand-in-pki.json` (0600; written only in sandbox mode) hands the
//! stand-in Apple PKI to `adebox sim devices`, so simulated devices in another process are
//! trusted by this sandbox.
//!
//! The simulated Apple side is kept in `<data>/simulated-apple.json` (0600), saved after each
//! change: a sandbox restarted on the same data directory finds Apple as the earlier run left
//! it (servers, tokens downloaded or rehearsed, devices, migrations, profiles at Apple). A
//! data directory without that file (made by an older adebox) gets the seeded demo server
//! back through [`restore_hook`] before the daemon's workers start. The demo set-up is
//! idempotent: a sandbox killed at any point completes it at its next start.

use super::{AppleSide, BeforeWorkers, Running, StartupServices};
use crate::audit::Actor;
use crate::crypto::Secret;
use crate::sim::apns::{RunningSimApns, SimApns, SimApnsConfig};
use crate::sim::dep::portal_client::PortalClient;
use crate::sim::dep::state::Shared;
use crate::sim::dep::{RunningSimDep, SimDep, SimDepConfig};
use serde::Serialize;
use std::path::Path;
use std::sync::Arc;

pub const ADMIN_USER: &str = "admin";
pub const DEMO_SERVER: &str = "Sandbox MDM server";
/// The simulated Apple side's server of another MDM, whose devices the demo can move here.
pub const OTHER_SERVER: &str = "Another MDM (demo)";
pub use super::sandbox_lifecycle::demo_lifecycle;
/// A Help desk admin the demo limits to the demo server's token (docs/roles.md, Scope).
pub const SCOPED_USER: &str = "desk";
pub const DEMO_PROFILE: &str = "Sandbox demo profile";
pub const DEMO_APPLE_ID: &str = "sandbox-admin@example.org";
pub use super::sandbox_users::{AFFINITY_PROFILE, DemoUser};
/// The files of a sandbox's data directory that `adebox sim devices` reads: defined by the
/// reader, on the simulators' side.
pub use crate::sim::fleet::remote::{SANDBOX_FILE, STAND_IN_PKI_FILE};
/// Devices the demo server starts with unless `--devices` says otherwise.
pub const DEFAULT_DEVICES: usize = 300;
/// The simulated Apple side's seed: fixed, so a first start is reproducible.
const SEED: u64 = 20261124;
/// The file in a sandbox's data directory that keeps the simulated Apple side.
pub const SIMULATED_APPLE_FILE: &str = "simulated-apple.json";

/// The sandbox's device fleet, enrolling against this daemon: the public host name is
/// reached at the first bound address (loopback when bound to every address).
pub(super) fn fleet(
    urls: &crate::urls::Urls,
    tls: &crate::tls::TlsManager,
    https_addrs: &[std::net::SocketAddr],
    pki: &Arc<crate::sim::apple_pki::StandInApplePki>,
    pushes: Option<crate::sim::apns::PushFeed>,
    apple: &super::AppleSide,
) -> Result<crate::sim::fleet::sandbox::SandboxFleet, super::DaemonError> {
    let resolve_to = https_addrs.first().map(|a| {
        let ip = if a.ip().is_unspecified() {
            std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)
        } else {
            a.ip()
        };
        std::net::SocketAddr::new(ip, a.port())
    });
    let target = crate::sim::fleet::FleetTarget {
        profile_url: urls.enroll_machine_info(),
        ca_pem: tls.ca().cert_pem().to_string(),
        resolve_to,
    };
    let mut fleet = crate::sim::fleet::Fleet::new(target, pki.clone())
        .map_err(|e| super::DaemonError::Task(e.to_string()))?;
    if let Some(feed) = pushes {
        fleet = fleet.woken_by(feed);
    }
    // Devices whose DEP profile names a web sign-in page walk it first, as Setup Assistant
    // does: the fleet asks the simulated Apple side which those are.
    if let super::AppleSide::Simulator { portal_url, ca_pem, .. } = apple {
        let http = crate::outbound::client(&crate::outbound::OutboundConfig::trusting_only([
            ca_pem.clone(),
        ]))
        .map_err(|e| super::DaemonError::Task(e.to_string()))?;
        fleet = fleet.asking_apple(PortalClient::new(portal_url.clone(), http));
    }
    Ok(crate::sim::fleet::sandbox::SandboxFleet::new(fleet))
}

/// What `sandbox.json` holds.
#[derive(Debug, Serialize)]
pub struct SandboxInfo {
    pub url: String,
    pub admin_user: String,
    pub admin_password: String,
    /// A Help desk admin limited to the demo server's token: sign in as them to see a scope.
    pub scoped_user: String,
    pub scoped_password: String,
    pub api_token: String,
    /// Path of the appliance CA certificate (PEM).
    pub ca_cert: String,
    pub simulator: SimulatorInfo,
    /// The account `adebox sim devices` signs in with on web sign-in pages (the first of
    /// `demo_users`).
    pub sign_in: Option<super::sandbox_users::DemoUser>,
    /// The local accounts users of the demo profile with user affinity sign in with.
    pub demo_users: Vec<super::sandbox_users::DemoUser>,
}

#[derive(Debug, Serialize)]
pub struct SimulatorInfo {
    /// The simulated DEP service (what tokens talk to).
    pub dep_url: String,
    /// The stand-in Apple Business Manager portal.
    pub portal_url: String,
    /// Path of the simulator's CA certificate (PEM).
    pub ca_cert: String,
}

/// Starts the simulated Apple DEP service on a free loopback port, in memory only.
pub async fn start_simulator() -> anyhow::Result<RunningSimDep> {
    Ok(SimDep::start(SimDepConfig { seed: SEED, ..SimDepConfig::default() }).await?)
}

/// Starts the simulated Apple DEP service on a free loopback port, keeping it in `dir`
/// ([`SIMULATED_APPLE_FILE`]): what an earlier run did there is loaded, each change saved.
/// A file that cannot be used is an error naming it; nothing is written before a change.
pub async fn start_simulator_in(dir: &Path) -> anyhow::Result<RunningSimDep> {
    let state_file = Some(dir.join(SIMULATED_APPLE_FILE));
    Ok(SimDep::start(SimDepConfig { seed: SEED, state_file, ..SimDepConfig::default() }).await?)
}

/// Starts the simulated APNs service (with its stand-in push CA) on a free loopback port.
pub async fn start_apns_simulator() -> anyhow::Result<RunningSimApns> {
    Ok(SimApns::start(SimApnsConfig { seed: SEED, ..SimApnsConfig::default() }).await?)
}

/// How the daemon reaches running simulators.
pub fn apple_side(sim: &RunningSimDep, apns: &RunningSimApns) -> AppleSide {
    AppleSide::Simulator {
        base_url: sim.base_url().to_string(),
        portal_url: sim.portal_url(),
        ca_pem: sim.ca_pem().to_string(),
        apns_url: apns.base_url().to_string(),
        apns_ca_pem: apns.ca_pem().to_string(),
    }
}

/// Gives the daemon a push certificate from the APNs simulator's stand-in CA through the real
/// path, as an admin would: a request, the (simulated) portal, the upload. Kept across
/// restarts only while it still verifies: each simulator start makes a new stand-in CA, so
/// a restarted sandbox renews (same seeded topic, so enrolled devices keep theirs).
pub async fn provision_push_certificate(
    running: &Running,
    apns: &RunningSimApns,
) -> anyhow::Result<()> {
    running
        .services
        .push
        .create_request(Actor::System, Some("sandbox-admin@example.org".into()))
        .await?;
    let csr = running.services.push.request_csr_pem().await?;
    let cert = apns.issue_push_certificate(csr.as_bytes(), None)?;
    running.services.push.upload(Actor::System, cert.into_bytes()).await?;
    Ok(())
}

/// Sets the sandbox admin's password (fresh at every start), creates an API token, sets up
/// the demo server on the simulated Apple side, and writes `sandbox.json`.
pub async fn prepare(
    running: &Running,
    dir: &Path,
    sim: &RunningSimDep,
    demo_devices: usize,
) -> anyhow::Result<SandboxInfo> {
    let password = crate::crypto::random_token::<12>();
    running
        .services
        .admin
        .set_password_cli(
            ADMIN_USER,
            Secret::new(password.clone()),
            Some(crate::admin::Role::Owner),
        )
        .await?;
    let token = running.services.admin.create_api_token(Actor::System, "sandbox").await?;
    let http = crate::outbound::client(&crate::outbound::OutboundConfig::trusting_only([sim
        .ca_pem()
        .to_string()]))?;
    let portal = PortalClient::new(sim.portal_url(), http);
    let token_id = demo_world(running, &portal, demo_devices).await?;
    let demo_users = super::sandbox_users::demo_sign_in(running, token_id.as_ref()).await?;
    let scoped_password = scoped_admin(running).await?;
    demo_webhook(running).await?;
    demo_business(running, sim).await?;

    let sim_ca = dir.join("simulator-ca.pem");
    std::fs::write(&sim_ca, sim.ca_pem())?;
    let url =
        format!("https://localhost:{}", running.https_addrs.first().map_or(8443, |a| a.port()));
    let info = SandboxInfo {
        url,
        admin_user: ADMIN_USER.into(),
        admin_password: password,
        scoped_user: SCOPED_USER.into(),
        scoped_password,
        api_token: token.token.expose().clone(),
        ca_cert: dir.join("tls").join("ca.pem").display().to_string(),
        simulator: SimulatorInfo {
            dep_url: sim.base_url().to_string(),
            portal_url: sim.portal_url(),
            ca_cert: sim_ca.display().to_string(),
        },
        sign_in: demo_users.first().cloned(),
        demo_users,
    };
    write_private(&dir.join(SANDBOX_FILE), &serde_json::to_vec_pretty(&info)?)?;
    Ok(info)
}

/// Waits until the demo has settled (no sync running, every token synced once, the device
/// counts still for a second), at most `limit`: the console's last lines are then the
/// credentials, not buried under the first sync's log lines. Whether it settled.
pub async fn settle(running: &Running, limit: std::time::Duration) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    let mut last = None;
    let mut still_since = tokio::time::Instant::now();
    while tokio::time::Instant::now() < deadline {
        let synced = match running.services.sync.statuses().await {
            Ok(all) => all.iter().all(|s| s.running.is_none() && s.last_run.is_some()),
            Err(_) => false,
        };
        // Default assignments are queued by the sync's hook and sent by the profile worker
        // a moment later: the console is quiet only once none waits to be sent.
        let queued = running.services.profiles.assignments(Some("queued".into()), None, 0, 0).await;
        let assigned = matches!(queued, Ok((_, 0)));
        let counts = running.services.devices.counts().await.ok().map(|c| c.by_lifecycle);
        let now = tokio::time::Instant::now();
        if !synced || !assigned || counts != last {
            still_since = now;
            last = counts;
        } else if now - still_since >= std::time::Duration::from_secs(1) {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    false
}

/// The simulator's Apple Business API account, saved on the Apple Business page, and a
/// server of another MDM plus devices assigned to none, so "where is this serial" has each
/// answer to show and the organisation devices (synced here once) each kind of server. The
/// simulator keeps no API account across restarts: a fresh one is made at every start.
async fn demo_business(running: &Running, sim: &RunningSimDep) -> anyhow::Result<()> {
    const OTHER: &str = OTHER_SERVER;
    if !sim.truth().servers.iter().any(|s| s.server_name == OTHER) {
        let (uuid, _) = sim.add_server_with_credentials(OTHER);
        sim.add_devices(Some(&uuid), 5)?;
        sim.add_devices(None, 3)?;
    }
    let account = sim.business().create_account("adebox sandbox")?;
    let input = crate::business::AccountInput {
        client_id: account.client_id,
        key_id: account.key_id,
        private_key_pem: Secret::new(account.private_key_pem),
    };
    running.services.business.save(Actor::System, input).await?;
    // The first sync of the organisation's devices, so their list is there at once.
    if let Err(e) = running.services.business_devices.run_now().await {
        log::warn!("the sandbox's first sync of the organisation's devices failed: {e}");
    }
    Ok(())
}

/// The demo's scoped admin: Help desk, limited to the demo server's token, with a fresh
/// password at every start.
async fn scoped_admin(running: &Running) -> anyhow::Result<String> {
    let password = crate::crypto::random_token::<12>();
    let role = Some(crate::admin::Role::HelpDesk);
    running
        .services
        .admin
        .set_password_cli(SCOPED_USER, Secret::new(password.clone()), role)
        .await?;
    let tokens = running.services.tokens.list().await?;
    let demo = tokens.iter().filter(|t| t.server_name == DEMO_SERVER).map(|t| t.id.clone());
    let scope = crate::admin::Scope::Tokens(demo.collect());
    running.services.admin.set_scope(Actor::System, SCOPED_USER, scope).await?;
    Ok(password)
}

/// Writes the running sandbox's stand-in Apple PKI (keys included) to
/// `<dir>/stand-in-pki.json`, 0600. Refused outside sandbox mode: a production appliance
/// has no stand-in PKI and must never hand out anything like it (design rule 10).
pub fn write_stand_in_pki(running: &Running, dir: &Path) -> anyhow::Result<()> {
    let pki = match (running.mode, &running.services.stand_in_pki) {
        (super::Mode::Sandbox, Some(pki)) => pki,
        _ => anyhow::bail!("only a sandbox has a stand-in Apple PKI to write"),
    };
    write_private(&dir.join(STAND_IN_PKI_FILE), pki.to_json().expose().as_bytes())?;
    Ok(())
}

/// The start-up hook of a sandbox restarted on a data directory whose simulated Apple side
/// was not saved (an older adebox made it): before any worker runs, the new simulated Apple
/// side recreates the demo server and its devices (seeded: the same ones) and takes back the
/// token adebox stored, and the stored profiles are marked for definition again (the new
/// simulator knows none of them). Without this a worker could call the simulator first, be
/// refused (401) and back off for minutes. A saved side already has all that: nothing to do.
pub fn restore_hook(sim: &RunningSimDep, devices: usize) -> BeforeWorkers {
    let shared = sim.shared();
    BeforeWorkers(Arc::new(move |services: StartupServices| {
        let shared = shared.clone();
        Box::pin(
            async move { restore(&shared, &services, devices).await.map_err(|e| e.to_string()) },
        )
    }))
}

async fn restore(sim: &Shared, services: &StartupServices, devices: usize) -> anyhow::Result<()> {
    let existing = services.tokens.list().await?;
    let Some(first) = existing.iter().find(|t| t.server_name == DEMO_SERVER) else {
        return Ok(());
    };
    if sim.world().server_by_uuid(&first.server_uuid).is_ok() {
        return Ok(());
    }
    // The access token the simulator adopts embeds the time it was issued.
    let (_, creds) = services.tokens.credentials(&first.id).await?;
    let now = sim.now();
    let salt = u64::from_be_bytes(crate::crypto::random_bytes::<8>());
    let uuid = sim.with_world(|w| -> anyhow::Result<String> {
        let id = w.add_server(DEMO_SERVER, None, now);
        if devices > 0 {
            w.add_devices(Some(id), devices, &[], now)?;
        }
        w.adopt_token(id, &creds);
        // The profiles defined again below get uuids the earlier run never handed out.
        w.diverge(salt);
        Ok(w.server(id).map(|s| s.uuid.clone()).unwrap_or_default())
    })?;
    services.profiles.redefine_all().await?;
    if !uuid.eq_ignore_ascii_case(&first.server_uuid) {
        log::warn!(
            "the simulated Apple side could not recreate the earlier demo server; add a token again on the Sandbox page"
        );
    }
    Ok(())
}

/// The demo MDM server and its devices, made through the real add-token path, then the demo
/// profile; answers the demo token (none when the admin's own tokens keep the demo away). Each step checks what exists, so a sandbox killed half-way through finishes the
/// set-up at its next start (the server and token themselves are taken back by
/// [`restore_hook`]).
async fn demo_world(
    running: &Running,
    portal: &PortalClient,
    devices: usize,
) -> anyhow::Result<Option<crate::ids::TokenId>> {
    let existing = running.services.tokens.list().await?;
    let token_id = match existing.iter().find(|t| t.server_name == DEMO_SERVER) {
        Some(demo) => demo.id.clone(),
        // The admin added tokens of their own: the demo stays out of the way.
        None if !existing.is_empty() => return Ok(None),
        None => {
            let key = running.services.tokens.create_pending_key(Actor::System, None).await?;
            let cert = running.services.tokens.pending_key_certificate(&key.id).await?;
            let issued = portal.create_server(DEMO_SERVER, &cert).await?;
            let uuid = issued["server_uuid"].as_str().unwrap_or_default().to_string();
            if devices > 0 {
                portal.add_devices(&uuid, devices).await?;
            }
            let p7m = issued["token_p7m"].as_str().unwrap_or_default().to_string();
            // The token is added last so its first sync (started by the token event) finds
            // the devices.
            let token = running
                .services
                .tokens
                .add(Actor::System, &key.id, p7m.as_bytes(), DEMO_APPLE_ID)
                .await?;
            token.id
        }
    };
    demo_profile(running, &token_id).await?;
    Ok(Some(token_id))
}

/// The demo profile (supervised, awaits configuration, hides a few screens), made the demo
/// token's default so simulated devices show "Profile assigned" after the next sync.
async fn demo_profile(running: &Running, token_id: &crate::ids::TokenId) -> anyhow::Result<()> {
    let definition = serde_json::json!({
        "name": DEMO_PROFILE,
        "description": "Made by the sandbox: the demo MDM server's default profile.",
        "platforms": ["iOS", "iPadOS", "macOS", "tvOS", "visionOS"],
        "supervised": true,
        "await_device_configured": true,
        "department": "Sandbox IT",
        "hidden_screens": ["Siri", "Privacy", "ScreenTime", "AppleID"],
    });
    let id = super::demo_profile::ensure_demo_profile(running, token_id, definition, None).await?;
    demo_setup_steps(running, &id).await
}

/// A configuration profile the sandbox "uploads" for its demo setup steps.
pub(super) const DEMO_WIFI_PROFILE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0"><dict>
<key>PayloadType</key><string>Configuration</string>
<key>PayloadIdentifier</key><string>org.example.sandbox.wifi</string>
<key>PayloadUUID</key><string>4F0B6C1E-2D3A-4B5C-8D7E-9F0A1B2C3D4E</string>
<key>PayloadVersion</key><integer>1</integer>
<key>PayloadDisplayName</key><string>Sandbox Wi-Fi</string>
<key>PayloadContent</key><array><dict>
<key>PayloadType</key><string>com.apple.wifi.managed</string>
<key>PayloadIdentifier</key><string>org.example.sandbox.wifi.payload</string>
<key>PayloadUUID</key><string>5A1B2C3D-4E5F-4061-8273-94A5B6C7D8E9</string>
<key>PayloadVersion</key><integer>1</integer>
<key>SSID_STR</key><string>Sandbox</string>
<key>EncryptionType</key><string>None</string>
</dict></array>
</dict></plist>
"#;

/// The demo profile's setup steps (a Wi-Fi profile, then the device name), set once: an
/// admin's edits in the sandbox are kept across restarts.
async fn demo_setup_steps(running: &Running, id: &crate::ids::ProfileId) -> anyhow::Result<()> {
    if running.services.setup.steps(id).await?.edited {
        return Ok(());
    }
    let wifi =
        running.services.setup.upload(DEMO_WIFI_PROFILE.as_bytes().to_vec(), "sandbox").await?;
    let steps = vec![
        crate::setup::Step {
            action: crate::setup::StepAction::InstallProfile { profile_id: wifi.id },
            on_error: crate::setup::OnError::Block,
        },
        crate::setup::Step {
            action: crate::setup::StepAction::DeviceName,
            on_error: crate::setup::OnError::Skip,
        },
    ];
    running.services.setup.set_steps(id, steps, "sandbox").await?;
    Ok(())
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

/// The name of the sandbox's webhook subscription.
const DEMO_WEBHOOK: &str = "Sandbox receiver";

/// A webhook subscription, to every topic, delivering to a receiver the sandbox runs, so the
/// Integrations page shows deliveries. A restart points the subscription kept in the data
/// directory at the new receiver (whose port changed); its secret is not shown again, so that
/// receiver accepts without checking signatures.
async fn demo_webhook(running: &Running) -> anyhow::Result<()> {
    let sink = crate::sim::webhook_sink::start()?;
    let existing =
        running.services.events.list().await?.into_iter().find(|s| s.name == DEMO_WEBHOOK);
    let id = match existing {
        Some(sub) => {
            let change = crate::events::SubscriptionUpdate {
                url: Some(sink.url.clone()),
                allow_http: Some(true),
                ..Default::default()
            };
            running.services.events.update(&sub.id, change).await?;
            sub.id
        }
        None => {
            let new = crate::events::NewSubscription {
                name: DEMO_WEBHOOK.into(),
                url: sink.url.clone(),
                topics: crate::events::Topic::ALL.iter().map(|t| t.name().to_string()).collect(),
                secret: None,
                allow_http: true,
                max_outbox: None,
            };
            let (sub, secret) = running.services.events.create(new).await?;
            sink.set_secret(Some(secret.expose().clone()));
            sub.id
        }
    };
    running.services.events.send_test(&id).await?;
    Ok(())
}
