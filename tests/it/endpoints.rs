//! `serve` pointed at another Apple: the daemon in production mode (Apple's pinned device
//! roots; the system's roots plus `apple.extra_ca_file` for outbound calls) adds a token and
//! syncs its devices from `adebox sim dep` running as a separate process (the built binary),
//! through a real proxy (Debian's tinyproxy, started with its own configuration: it allows
//! CONNECT only to port 443 by default, so the test allows the simulator's port). The proxy's
//! log proves it carried the traffic; `/api/v1/status` and the OpenAPI document show the
//! non-default endpoint. A proxy that is down or refuses the credentials gives an error that
//! names it, never its password.

use crate::common::*;
use crate::tokens_api::sync_until;
use adebox::config::Config;
use adebox::daemon::{DaemonOptions, Mode};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PROXY_USER: &str = "ops";
const PROXY_PASSWORD: &str = "pa55-w0rd";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn which(name: &str) -> Option<PathBuf> {
    ["/usr/sbin", "/usr/bin", "/usr/local/bin", "/bin"]
        .iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.exists())
}

/// Stops a child process of this test: SIGINT first (both programs clean up on it), then
/// SIGKILL after 5 s.
fn stop(child: &mut Child) {
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT);
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// `adebox sim dep` as its own process, and what it printed.
struct SimDepProcess {
    child: Child,
    base_url: String,
    port: u16,
    ca_path: PathBuf,
    portal_url: String,
    server_uuid: String,
}

impl SimDepProcess {
    fn spawn(devices: usize) -> SimDepProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_adebox"))
            .args(["sim", "dep", "--listen", "127.0.0.1:0", "--seed", "15", "--devices"])
            .arg(devices.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the adebox binary starts");
        // `sim dep` prints `Label: value` lines, then waits for Ctrl-C.
        let (tx, rx) = std::sync::mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut printed = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while !printed.iter().any(|l: &String| l.starts_with("Press Ctrl-C")) {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => printed.push(line),
                Err(_) => {
                    stop(&mut child);
                    panic!("`adebox sim dep` did not start; it printed: {printed:#?}");
                }
            }
        }
        let value = |label: &str| {
            printed
                .iter()
                .find_map(|l| l.strip_prefix(label).map(|v| v.trim().to_string()))
                .unwrap_or_else(|| panic!("no `{label}` line in {printed:#?}"))
        };
        let base_url = value("DEP simulator:");
        let port = base_url.rsplit(':').next().unwrap().trim_end_matches('/').parse().unwrap();
        // "MDM server:      Simulated MDM server (<uuid>), N devices"
        let server = value("MDM server:");
        let server_uuid = server.split_once('(').unwrap().1.split_once(')').unwrap().0.to_string();
        SimDepProcess {
            base_url,
            port,
            ca_path: PathBuf::from(value("CA certificate:")),
            portal_url: value("ABM portal:"),
            server_uuid,
            child,
        }
    }

    fn ca_pem(&self) -> String {
        std::fs::read_to_string(&self.ca_path).unwrap()
    }
}

impl Drop for SimDepProcess {
    fn drop(&mut self) {
        stop(&mut self.child);
        // Its folder of files under the temporary directory, if it left it behind.
        if let Some(dir) = self.ca_path.parent()
            && dir.file_name().is_some_and(|n| n.to_string_lossy().starts_with("adebox-sim-dep-"))
        {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// tinyproxy in the foreground with its own configuration and log.
struct Tinyproxy {
    child: Child,
    port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Tinyproxy {
    /// `None` (with a notice) when Debian's tinyproxy is not installed.
    fn start(connect_ports: &[u16]) -> Option<Tinyproxy> {
        let Some(program) = which("tinyproxy") else {
            eprintln!(
                "notice: tinyproxy is not installed (apt-get install tinyproxy); skipping the proxy test"
            );
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let (port, log) = (free_port(), dir.path().join("tinyproxy.log"));
        let conf = dir.path().join("tinyproxy.conf");
        // CONNECT is allowed to the simulators' ports only (tinyproxy's default is 443 alone);
        // Basic auth, so the daemon's credentials are exercised too.
        let allowed: String = connect_ports.iter().map(|p| format!("ConnectPort {p}\n")).collect();
        std::fs::write(
            &conf,
            format!(
                "Port {port}\nListen 127.0.0.1\nTimeout 60\nLogFile \"{}\"\nLogLevel Info\nMaxClients 50\nAllow 127.0.0.1\n{allowed}BasicAuth {PROXY_USER} {PROXY_PASSWORD}\nDisableViaHeader Yes\n",
                log.display()
            ),
        )
        .unwrap();
        let mut child = Command::new(program)
            .arg("-d")
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("tinyproxy starts");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                stop(&mut child);
                panic!(
                    "tinyproxy did not listen on {port}: {}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(Tinyproxy { child, port, log, _dir: dir })
    }

    fn url(&self, password: &str) -> String {
        format!("http://{PROXY_USER}:{password}@127.0.0.1:{}", self.port)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Tinyproxy {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

/// A production daemon reading `extra` (its `[apple]` and `[outbound]` tables) from a real
/// configuration file, as `serve` does.
pub(crate) async fn serve_with(extra: &str) -> TestDaemon {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("adebox.toml");
    std::fs::write(
        &path,
        format!(
            "data_dir = \"{}\"\n[listen]\nhttps = [\"127.0.0.1:0\"]\n[public]\nhosts = [\"localhost\"]\n{extra}",
            dir.path().display()
        ),
    )
    .unwrap();
    let config = Config::load(&path, true).unwrap_or_else(|e| panic!("{e}"));
    let mut opts = DaemonOptions::new(config, Mode::Production);
    opts.admin = options(dir.path(), Mode::Production).admin;
    opts.workers = 2;
    TestDaemon::start_with(dir, opts).await
}

/// The admin's round trip with a DEP service of its own: a key pair on the appliance, a new
/// token for `server_uuid` from the service's portal, the upload (checked with `/account`).
async fn upload_token(
    d: &TestDaemon,
    page: &Page,
    portal_url: &str,
    portal_ca: &str,
    server_uuid: &str,
) -> (StatusCode, Value) {
    let (key_id, pem) = pending_key(d, page).await;
    let portal = client_trusting(portal_ca.as_bytes());
    let issued: Value = portal
        .post(format!("{portal_url}/servers/{server_uuid}/token"))
        .json(&json!({"public_key_pem": pem}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let p7m = issued["token_p7m"].as_str().unwrap_or_else(|| panic!("{issued}"));
    page.post(
        "/api/v1/tokens",
        json!({"key_id": key_id, "token": p7m, "apple_id": "it@example.org"}),
    )
    .await
}

/// DER certificates as one PEM text.
fn pem_of(ders: &[Vec<u8>]) -> String {
    use base64ct::Encoding;
    ders.iter()
        .map(|der| {
            let b64 = base64ct::Base64::encode_string(der);
            let lines: Vec<&str> =
                b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect();
            format!(
                "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
                lines.join("\n")
            )
        })
        .collect()
}

#[tokio::test]
async fn serve_syncs_from_a_separate_dep_simulator_through_a_proxy() {
    let sim = SimDepProcess::spawn(30);
    let Some(proxy) = Tinyproxy::start(&[sim.port]) else { return };
    // The extra roots: the simulator's CA, and (to show they never reach device trust) a
    // stand-in Apple PKI's device-identity and attestation roots.
    let now = adebox::clock::Clock::system().now();
    let stand_in = adebox::sim::apple_pki::StandInApplePki::generate(now).unwrap();
    let extra = std::env::temp_dir().join(format!("adebox-extra-ca-{}.pem", sim.port));
    let mut roots = sim.ca_pem();
    roots += &pem_of(stand_in.device_identity_anchors().certificates());
    roots += &pem_of(stand_in.attestation_anchors().certificates());
    std::fs::write(&extra, roots).unwrap();
    let d = serve_with(&format!(
        "[apple]\ndep_url = \"{}\"\nextra_ca_file = \"{}\"\n[outbound]\nproxy = \"{}\"\n",
        sim.base_url,
        extra.display(),
        proxy.url(PROXY_PASSWORD)
    ))
    .await;
    let _ = std::fs::remove_file(&extra);
    let page = d.setup_admin().await;

    let (s, token) =
        upload_token(&d, &page, &sim.portal_url, &sim.ca_pem(), &sim.server_uuid).await;
    assert_eq!(s, StatusCode::CREATED, "{token}");
    let token_id = token["id"].as_str().unwrap();
    sync_until(&d, &page, token_id, 30).await;

    // The proxy carried it: tunnels to the simulator's port, with the credentials it wants.
    let log = proxy.log();
    let tunnels = log.matches(&format!("CONNECT 127.0.0.1:{} ", sim.port)).count();
    assert!(tunnels >= 1, "no CONNECT to the simulator in the proxy's log:\n{log}");
    assert!(!log.contains("Refused") && !log.contains("authentication"), "{log}");

    // Status says where "Apple" is, with the proxy's password hidden.
    let (s, status) = page.get("/api/v1/status").await;
    assert_eq!(s, StatusCode::OK);
    let services = &status["apple_services"];
    assert_eq!(services["dep_api"]["url"], sim.base_url.as_str(), "{services}");
    assert_eq!(services["dep_api"]["apple"], false);
    assert_eq!(services["dep_api"]["via_proxy"], true);
    assert_eq!(services["apns"]["apple"], true);
    assert_eq!(services["trust"], "system_and_extra");
    assert_eq!(
        services["proxy"]["url"],
        format!("http://{PROXY_USER}:***@127.0.0.1:{}", proxy.port)
    );
    assert_eq!(services["proxy"]["source"], "outbound.proxy");
    let notices = services["notices"].to_string();
    assert!(
        notices.contains(&format!("Apple DEP API: {} (not Apple's", sim.base_url)),
        "{notices}"
    );
    let banner =
        status["banners"].as_array().unwrap().iter().find(|b| b["code"] == "dep_api_not_apple");
    assert!(banner.is_some_and(|b| b["link"] == "/admin/settings#apple-services"), "{status}");
    assert!(!status.to_string().contains(PROXY_PASSWORD), "{status}");

    // The OpenAPI document describes the new fields.
    let (_, doc) = page.get("/api/v1/openapi.json").await;
    let schemas = &doc["components"]["schemas"];
    assert!(schemas["Status"]["properties"]["apple_services"].is_object(), "{}", schemas["Status"]);
    assert!(schemas["AppleServices"]["properties"]["notices"].is_object());

    // The extra roots are for the DEP API and APNs only: a device signed by the stand-in PKI
    // they hold is still refused, as devices are trusted through Apple's roots alone.
    let (_, list) = page.get(&format!("/api/v1/devices?token={token_id}&limit=1")).await;
    let serial = list["items"][0]["serial"].as_str().unwrap().to_string();
    let (s, _, body) =
        crate::enroll::post(&d, crate::enroll::signed(&stand_in, &serial, "00008101-000A11CE0001"))
            .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{}", String::from_utf8_lossy(&body));
    let refusal: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(refusal["code"], "adebox.enrollment.bad_machine_info", "{refusal}");
}

#[tokio::test]
async fn a_proxy_that_is_down_or_refuses_the_credentials_is_named_in_the_error() {
    let sim = adebox::daemon::sandbox::start_simulator().await.unwrap();
    let now = sim.now();
    let server_uuid = sim.with_world(|w| {
        let id = w.add_server("Behind a proxy", None, now);
        w.server(id).unwrap().uuid.clone()
    });
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("sim-ca.pem");
    std::fs::write(&ca, sim.ca_pem()).unwrap();
    let port: u16 = sim.base_url().rsplit(':').next().unwrap().parse().unwrap();

    // A proxy nobody listens on, and (when tinyproxy is installed) one that wants other
    // credentials: (proxy URL, how the error shows it, what it says went wrong).
    let closed = free_port();
    let mut proxies = vec![(
        format!("http://{PROXY_USER}:{PROXY_PASSWORD}@127.0.0.1:{closed}"),
        format!("http://{PROXY_USER}:***@127.0.0.1:{closed}"),
        "tcp connect error",
    )];
    let tinyproxy = Tinyproxy::start(&[port]);
    if let Some(t) = &tinyproxy {
        proxies.push((
            t.url("not-the-password"),
            format!("http://{PROXY_USER}:***@127.0.0.1:{}", t.port),
            "refused the tunnel",
        ));
    }
    for (proxy, shown, why) in proxies {
        let d = serve_with(&format!(
            "[apple]\ndep_url = \"{}\"\nextra_ca_file = \"{}\"\n[outbound]\nproxy = \"{proxy}\"\n",
            sim.base_url(),
            ca.display()
        ))
        .await;
        let page = d.setup_admin().await;
        let (s, e) = upload_token(&d, &page, &sim.portal_url(), sim.ca_pem(), &server_uuid).await;
        assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{e}");
        assert_eq!(e["error"], "apple_unreachable", "{e}");
        let message = e["message"].as_str().unwrap();
        assert!(message.contains(&format!("through the proxy {shown}")), "{message}");
        assert!(message.contains(why), "{message}");
        let text = e.to_string();
        assert!(!text.contains(PROXY_PASSWORD) && !text.contains("not-the-password"), "{text}");
    }
    if let Some(t) = &tinyproxy {
        let log = t.log();
        assert!(log.contains(&format!("CONNECT 127.0.0.1:{port} ")), "{log}");
    }
}

#[tokio::test]
async fn serve_pushes_to_a_configured_apns_through_the_proxy() {
    let apns = adebox::daemon::sandbox::start_apns_simulator().await.unwrap();
    let port: u16 = apns.base_url().rsplit(':').next().unwrap().parse().unwrap();
    let Some(proxy) = Tinyproxy::start(&[port]) else { return };
    let ca = std::env::temp_dir().join(format!("adebox-apns-ca-{port}.pem"));
    std::fs::write(&ca, apns.ca_pem()).unwrap();
    let d = serve_with(&format!(
        "[apple]\napns_url = \"{}\"\nextra_ca_file = \"{}\"\n[outbound]\nproxy = \"{}\"\n",
        apns.base_url(),
        ca.display(),
        proxy.url(PROXY_PASSWORD)
    ))
    .await;
    let _ = std::fs::remove_file(&ca);
    adebox::daemon::sandbox::provision_push_certificate(d.running(), &apns).await.unwrap();

    // APNs is HTTP/2 with the push certificate as client identity, inside the proxy's tunnel.
    let token = vec![0x7c; 32];
    d.running().services.pusher.notify(adebox::push::PushTarget {
        udid: adebox::ids::Udid::parse("00008101-PROXIED").unwrap(),
        token: token.clone(),
        push_magic: "through-the-proxy".into(),
        topic: apns.topic().to_string(),
    });
    let got = apns
        .wait_for_push(&hex::encode(&token), Duration::from_secs(10))
        .await
        .expect("the push arrives");
    assert_eq!(got.push_magic, "through-the-proxy");
    let log = proxy.log();
    assert!(log.contains(&format!("CONNECT 127.0.0.1:{port} ")), "{log}");

    let page = d.setup_admin().await;
    let (_, status) = page.get("/api/v1/status").await;
    let services = &status["apple_services"];
    assert_eq!(services["apns"]["url"], apns.base_url(), "{services}");
    assert_eq!(
        (&services["apns"]["apple"], &services["apns"]["via_proxy"]),
        (&json!(false), &json!(true))
    );
    assert_eq!(services["dep_api"]["apple"], true);
    let banner =
        status["banners"].as_array().unwrap().iter().any(|b| b["code"] == "apns_not_apple");
    assert!(banner, "{status}");
}
