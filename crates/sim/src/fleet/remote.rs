//! `adebox sim devices`: the device fleet against a sandbox running in **another** process.
//! It reads what the sandbox left in its data directory (`sandbox.json`: the API token, the
//! CA, the simulated Apple portal; `stand-in-pki.json`: the stand-in Apple PKI, written only
//! in sandbox mode), then shows the whole path working (issue 7 item 5): registers N new
//! devices at the simulated ABM, asks the sandbox for a manual sync (Apple's budget may refuse;
//! it says until when, and waits with `--wait`), waits until every device is synced and has
//! its profile, and enrolls them.
//!
//! Exposes [`RemoteOptions`], [`SandboxFiles`], [`find_sandbox_dir`] and [`run`]. Talks to the
//! sandbox only over HTTPS (its `/api/v1` with the sandbox's API token, the simulator's
//! portal); never opens its store. Progress lines go to the `say` callback (stderr in the CLI).

use super::{Fleet, FleetDevice, FleetReport, FleetTarget, Progress};
use crate::apple_pki::StandInApplePki;
use crate::clock::Clock;
use crate::dep::portal_client::PortalClient;
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The stand-in Apple PKI file in a sandbox's data directory (the sandbox writes it).
pub const STAND_IN_PKI_FILE: &str = "stand-in-pki.json";
/// The sandbox's details for scripts, in its data directory (the sandbox writes it).
pub const SANDBOX_FILE: &str = "sandbox.json";
use time::OffsetDateTime;

/// Most devices one run registers (the simulated ABM takes them in chunks).
pub const MAX_COUNT: usize = 100_000;
const CHUNK: usize = 1000;
/// Without `--wait`, how long to wait for the sync and the profiles.
const READY_TIMEOUT: Duration = Duration::from_secs(300);
const POLL: Duration = Duration::from_millis(500);
const MAX_FILE: u64 = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    #[error(
        "no sandbox data directory found for {server}: give it with --sandbox-dir (the `data:` line `adebox sandbox` prints)"
    )]
    NoSandboxDir { server: String },
    #[error("cannot read {path}: {detail}. Is this the data directory of a running sandbox?")]
    Files { path: String, detail: String },
    #[error("{0}")]
    Pki(#[from] crate::apple_pki::ApplePkiError),
    #[error("the sandbox at {url} did not answer as expected: {detail}")]
    Api { url: String, detail: String },
    #[error("the simulated Apple portal refused to add devices: {0}")]
    Portal(String),
    #[error(
        "the sandbox has no Apple server token to register devices with; add one on its Sandbox page"
    )]
    NoToken,
    #[error(
        "Apple's budget allows the next manual sync at {until} (in about {minutes} min); run again then, or add --wait to wait for it"
    )]
    Budget { until: String, minutes: i64 },
    #[error(
        "{missing} of {total} devices are not synced with a profile yet after {secs} s; add --wait to wait longer"
    )]
    NotReady { missing: usize, total: usize, secs: u64 },
    #[error("{0}")]
    Fleet(#[from] super::FleetError),
}

/// What `adebox sim devices` was asked.
#[derive(Clone, Debug)]
pub struct RemoteOptions {
    /// The sandbox's base URL, `https://host:port`.
    pub server: String,
    pub count: usize,
    pub concurrency: usize,
    /// The appliance CA (PEM file); default: the sandbox's.
    pub ca: Option<PathBuf>,
    pub sandbox_dir: PathBuf,
    /// Wait for Apple's manual-sync budget instead of stopping.
    pub wait: bool,
    /// The account users sign in with on the web sign-in page of profiles with user
    /// affinity; default: the sandbox's demo account (its `sandbox.json`).
    pub sign_in: Option<super::SignInAs>,
}

/// What a sandbox wrote into its data directory for scripts.
pub struct SandboxFiles {
    pub url: String,
    pub api_token: crate::crypto::Secret<String>,
    pub ca_pem: String,
    pub portal_url: String,
    pub portal_ca_pem: String,
    pub pki: StandInApplePki,
    /// The sandbox's demo sign-in account, when it wrote one.
    pub sign_in: Option<super::SignInAs>,
}

#[derive(Deserialize)]
struct InfoFile {
    url: String,
    api_token: String,
    ca_cert: String,
    simulator: SimulatorFile,
    #[serde(default)]
    sign_in: Option<SignInFile>,
}

/// The first demo account of the sandbox's local directory.
#[derive(Deserialize)]
struct SignInFile {
    username: String,
    password: String,
}

#[derive(Deserialize)]
struct SimulatorFile {
    portal_url: String,
    ca_cert: String,
}

fn read_small(path: &Path) -> Result<Vec<u8>, RemoteError> {
    let err = |detail: String| RemoteError::Files { path: path.display().to_string(), detail };
    let len = std::fs::metadata(path).map_err(|e| err(e.to_string()))?.len();
    if len > MAX_FILE {
        return Err(err(format!("{len} bytes is more than a sandbox writes")));
    }
    std::fs::read(path).map_err(|e| err(e.to_string()))
}

fn read_text(path: &Path) -> Result<String, RemoteError> {
    String::from_utf8(read_small(path)?).map_err(|_| RemoteError::Files {
        path: path.display().to_string(),
        detail: "not text".into(),
    })
}

impl SandboxFiles {
    pub fn load(dir: &Path, ca: Option<&Path>) -> Result<SandboxFiles, RemoteError> {
        let info_path = dir.join(SANDBOX_FILE);
        let info: InfoFile = serde_json::from_slice(&read_small(&info_path)?).map_err(|e| {
            RemoteError::Files { path: info_path.display().to_string(), detail: e.to_string() }
        })?;
        let pki = StandInApplePki::from_json(&read_small(&dir.join(STAND_IN_PKI_FILE))?)?;
        let ca_path = ca.map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from(&info.ca_cert));
        Ok(SandboxFiles {
            url: info.url,
            api_token: crate::crypto::Secret::new(info.api_token),
            ca_pem: read_text(&ca_path)?,
            portal_url: info.simulator.portal_url,
            portal_ca_pem: read_text(Path::new(&info.simulator.ca_cert))?,
            pki,
            sign_in: info.sign_in.map(|a| super::SignInAs {
                username: a.username,
                password: crate::crypto::Secret::new(a.password),
            }),
        })
    }
}

fn port_of(url: &str) -> Option<u16> {
    reqwest::Url::parse(url).ok()?.port_or_known_default()
}

/// The data directory of the sandbox serving `server`: the newest `adebox-sandbox-*`
/// directory under `tmp` (where `adebox sandbox` puts it by default) whose `sandbox.json`
/// names the same port.
pub fn find_sandbox_dir(server: &str, tmp: &Path) -> Option<PathBuf> {
    let port = port_of(server)?;
    let mut best: Option<(std::time::SystemTime, PathBuf)> = None;
    for entry in std::fs::read_dir(tmp).ok()?.flatten() {
        if !entry.file_name().to_string_lossy().starts_with("adebox-sandbox-") {
            continue;
        }
        let file = entry.path().join(SANDBOX_FILE);
        let Ok(bytes) = read_small(&file) else { continue };
        let Ok(info) = serde_json::from_slice::<InfoFile>(&bytes) else { continue };
        let modified = std::fs::metadata(&file).and_then(|m| m.modified()).ok();
        if port_of(&info.url) == Some(port)
            && let Some(m) = modified
            && best.as_ref().is_none_or(|(t, _)| m > *t)
        {
            best = Some((m, entry.path()));
        }
    }
    best.map(|(_, p)| p)
}

/// The sandbox's `/api/v1`, with its API token.
struct Api {
    base: String,
    token: crate::crypto::Secret<String>,
    http: reqwest::Client,
}

impl Api {
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let url = format!("{}/api/v1{path}", self.base);
        let mut req = self.http.request(method, &url).bearer_auth(self.token.expose());
        if let Some(b) = body {
            req = req.json(&b);
        }
        match req.send().await {
            Ok(resp) => {
                let status = resp.status();
                (status, resp.json().await.unwrap_or(Value::Null))
            }
            Err(e) => (StatusCode::BAD_GATEWAY, json!({"message": e.to_string()})),
        }
    }

    async fn get(&self, path: &str) -> Result<Value, RemoteError> {
        let (status, v) = self.call(Method::GET, path, None).await;
        if status.is_success() { Ok(v) } else { Err(self.failed(path, status, &v)) }
    }

    fn failed(&self, path: &str, status: StatusCode, v: &Value) -> RemoteError {
        let words = v["message"].as_str().unwrap_or("no message");
        RemoteError::Api {
            url: format!("{}/api/v1{path}", self.base),
            detail: format!("{status}: {words}"),
        }
    }
}

fn client(ca_pem: &str) -> Result<reqwest::Client, RemoteError> {
    let ca = reqwest::Certificate::from_pem(ca_pem.as_bytes())
        .map_err(|e| super::FleetError::BadCa(e.to_string()))?;
    crate::ensure_crypto_provider();
    reqwest::Client::builder()
        .tls_certs_only([ca])
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| RemoteError::Fleet(super::FleetError::Client(e.to_string())))
}

/// Registers, syncs, waits and enrolls; returns the fleet's report.
pub async fn run(
    opts: &RemoteOptions,
    clock: &Clock,
    say: &(dyn Fn(&str) + Sync),
) -> Result<FleetReport, RemoteError> {
    let files = SandboxFiles::load(&opts.sandbox_dir, opts.ca.as_deref())?;
    let base = opts.server.trim_end_matches('/').to_string();
    let api =
        Api { base: base.clone(), token: files.api_token.clone(), http: client(&files.ca_pem)? };
    let tokens = api.get("/tokens").await?;
    let token = tokens["items"].as_array().and_then(|a| a.first()).ok_or(RemoteError::NoToken)?;
    let (token_id, server_uuid) = (
        token["id"].as_str().unwrap_or_default().to_string(),
        token["server_uuid"].as_str().unwrap_or_default().to_string(),
    );

    // Without --wait, a refusing budget stops the run before any device is registered.
    if !opts.wait
        && let Some(until) = token["sync"]["manual_allowed_at"].as_str().and_then(parse_time)
        && until > clock.now()
    {
        return Err(budget(until, clock));
    }

    let portal = PortalClient::new(files.portal_url.clone(), client(&files.portal_ca_pem)?);
    let mut serials = Vec::with_capacity(opts.count);
    while serials.len() < opts.count {
        let n = CHUNK.min(opts.count - serials.len());
        let added = portal
            .add_devices(&server_uuid, n)
            .await
            .map_err(|e| RemoteError::Portal(e.to_string()))?;
        serials.extend(
            added["added"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(String::from),
        );
        if added["added"].as_array().is_none_or(Vec::is_empty) {
            return Err(RemoteError::Portal("it added no device".into()));
        }
    }
    say(&format!(
        "registered {} devices at the simulated Apple Business Manager (server {})",
        serials.len(),
        token["server_name"].as_str().unwrap_or(&server_uuid)
    ));

    sync_and_wait(&api, &token_id, &serials, opts.wait, clock, say).await?;

    let settings = api.get("/enrollment/settings").await?;
    let profile_url = settings["enrollment_url"].as_str().unwrap_or_default().to_string();
    let resolve_to = resolve(&base).await;
    let mut fleet = Fleet::new(
        FleetTarget { profile_url: profile_url.clone(), ca_pem: files.ca_pem, resolve_to },
        Arc::new(files.pki),
    )?
    .asking_apple(portal);
    if let Some(who) = opts.sign_in.clone().or(files.sign_in) {
        say(&format!(
            "devices whose profile has user affinity sign in as {} on its web page",
            who.username
        ));
        fleet = fleet.signing_in(who);
    }
    let devices: Vec<FleetDevice> =
        serials.iter().enumerate().map(|(i, s)| FleetDevice::for_serial(s, i)).collect();
    say(&format!(
        "enrolling {} devices at {profile_url}, {} at a time",
        devices.len(),
        opts.concurrency.max(1)
    ));
    Ok(fleet.run(&devices, opts.concurrency, &Progress::default(), clock.now()).await)
}

/// Where the enrollment URL's host is reached: the address `--server` names (the sandbox
/// gives devices its public host name, which may not resolve here).
async fn resolve(base: &str) -> Option<std::net::SocketAddr> {
    let url = reqwest::Url::parse(base).ok()?;
    let host = url.host_str()?.trim_start_matches('[').trim_end_matches(']').to_string();
    let port = url.port_or_known_default()?;
    tokio::net::lookup_host((host.as_str(), port)).await.ok()?.next()
}

/// Asks for a manual sync (retrying once the budget allows, with `wait`) and waits until
/// every serial is synced and has its profile assigned.
async fn sync_and_wait(
    api: &Api,
    token_id: &str,
    serials: &[String],
    wait: bool,
    clock: &Clock,
    say: &(dyn Fn(&str) + Sync),
) -> Result<(), RemoteError> {
    let path = format!("/sync/{token_id}");
    let started = std::time::Instant::now();
    let mut retry_at: Option<OffsetDateTime> = Some(clock.now());
    loop {
        if let Some(at) = retry_at
            && clock.now() >= at
        {
            let (status, v) = api.call(Method::POST, &path, Some(json!({"kind": "sync"}))).await;
            if status.is_success() {
                say("manual sync requested");
                retry_at = None;
            } else if status == StatusCode::TOO_MANY_REQUESTS {
                let until = v["next_allowed_at"]
                    .as_str()
                    .and_then(parse_time)
                    .unwrap_or_else(|| clock.now() + time::Duration::minutes(15));
                let refused = budget(until, clock);
                if !wait {
                    return Err(refused);
                }
                say(&format!("{refused}"));
                say("waiting for it (--wait); a scheduled sync that brings the devices counts too");
                retry_at = Some(until);
            } else {
                return Err(api.failed(&path, status, &v));
            }
        }
        let missing = missing(api, token_id, serials).await?;
        if missing == 0 {
            say(&format!("all {} devices are synced and have their profile", serials.len()));
            return Ok(());
        }
        if !wait && started.elapsed() > READY_TIMEOUT {
            return Err(RemoteError::NotReady {
                missing,
                total: serials.len(),
                secs: READY_TIMEOUT.as_secs(),
            });
        }
        tokio::time::sleep(POLL).await;
    }
}

fn parse_time(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}

fn budget(until: OffsetDateTime, clock: &Clock) -> RemoteError {
    let minutes = ((until - clock.now()).whole_seconds().max(0) + 59) / 60;
    let until = until.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
    RemoteError::Budget { until, minutes }
}

/// How many of `serials` have no assigned profile yet.
async fn missing(api: &Api, token_id: &str, serials: &[String]) -> Result<usize, RemoteError> {
    let mut assigned = std::collections::HashSet::new();
    let mut offset = 0;
    loop {
        let page = api
            .get(&format!(
                "/assignments?state=assigned&token={token_id}&limit=1000&offset={offset}"
            ))
            .await?;
        let items = page["items"].as_array().cloned().unwrap_or_default();
        assigned.extend(items.iter().filter_map(|i| i["serial"].as_str().map(String::from)));
        offset += items.len();
        if items.is_empty() || offset as u64 >= page["total"].as_u64().unwrap_or(0) {
            break;
        }
    }
    Ok(serials.iter().filter(|s| !assigned.contains(*s)).count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_newest_sandbox_directory_serving_the_port() {
        let tmp = tempfile::tempdir().unwrap();
        let write = |name: &str, url: &str| {
            let d = tmp.path().join(name);
            std::fs::create_dir(&d).unwrap();
            let info = json!({"url": url, "api_token": "t", "ca_cert": "c",
                "simulator": {"portal_url": "p", "ca_cert": "c"}});
            std::fs::write(d.join("sandbox.json"), info.to_string()).unwrap();
            d
        };
        write("adebox-sandbox-a", "https://localhost:9001");
        let b = write("adebox-sandbox-b", "https://localhost:9002");
        write("something-else", "https://localhost:9002");
        assert_eq!(find_sandbox_dir("https://127.0.0.1:9002/", tmp.path()), Some(b));
        assert_eq!(find_sandbox_dir("https://localhost:9003", tmp.path()), None);
        assert_eq!(find_sandbox_dir("not a url", tmp.path()), None);
    }

    #[test]
    fn a_directory_without_the_sandbox_files_says_what_is_missing() {
        let tmp = tempfile::tempdir().unwrap();
        let err = SandboxFiles::load(tmp.path(), None).err().unwrap();
        assert!(err.to_string().contains("sandbox.json"), "{err}");
        assert!(err.to_string().contains("running sandbox"), "{err}");
    }
}
