//! The built `adebox` binary: signals, exit codes and messages.

use crate::shutdown::sigterm_and_wait;
use std::io::Read;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) fn adebox() -> Command {
    Command::new(env!("CARGO_BIN_EXE_adebox"))
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn write_config(dir: &Path, port: u16, extra: &str) -> std::path::PathBuf {
    let path = dir.join("adebox.toml");
    let data = dir.join("data");
    std::fs::write(
        &path,
        format!("data_dir = \"{}\"\n{extra}\n[listen]\nhttps = [\"127.0.0.1:{port}\"]\n[public]\nhosts = [\"localhost\"]\n", data.display()),
    )
    .unwrap();
    path
}

fn wait_healthy(port: u16, ca: &Path) -> bool {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if ca.exists() {
            let ok = Command::new("curl")
                .args(["-sf", "--cacert"])
                .arg(ca)
                .arg(format!("https://localhost:{port}/healthz"))
                .stdout(Stdio::null())
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            if ok {
                return true;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

#[test]
fn sigterm_shuts_down_gracefully_and_quickly() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = write_config(dir.path(), port, "");
    let mut child =
        adebox().arg("serve").arg("--config").arg(&config).stderr(Stdio::piped()).spawn().unwrap();
    assert!(
        wait_healthy(port, &dir.path().join("data/tls/ca.pem")),
        "daemon did not become healthy"
    );
    // A client that keeps its connection open (a browser tab left on the page) must not hold
    // the shutdown up.
    let idle = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let (status, took) = sigterm_and_wait(&mut child);
    drop(idle);
    assert!(status.success(), "{status:?}");
    let mut log = String::new();
    child.stderr.take().unwrap().read_to_string(&mut log).unwrap();
    assert!(took < Duration::from_secs(2), "SIGTERM took {took:?} (at most 2 s): {log}");
    assert!(log.contains("setup code"), "the first start prints the setup code: {log}");
    assert!(log.contains("adebox stopped"), "{log}");
    assert!(!log.contains("still in use"), "the store is released at shutdown: {log}");
    assert!(!log.contains("did not stop"), "every task stops: {log}");
    assert!(!dir.path().join("data/control.sock").exists());
    // A production daemon hands out no stand-in Apple PKI (only `adebox sandbox` writes one).
    assert!(!dir.path().join("data/stand-in-pki.json").exists());
}

#[test]
fn sighup_reloads_the_log_level_and_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = write_config(dir.path(), port, "");
    let mut child =
        adebox().arg("serve").arg("--config").arg(&config).stderr(Stdio::piped()).spawn().unwrap();
    assert!(wait_healthy(port, &dir.path().join("data/tls/ca.pem")));
    write_config(dir.path(), port, "log_level = \"debug\"");
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGHUP).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    assert!(wait_healthy(port, &dir.path().join("data/tls/ca.pem")));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let status = child.wait().unwrap();
    assert!(status.success());
    let mut log = String::new();
    child.stderr.take().unwrap().read_to_string(&mut log).unwrap();
    assert!(log.contains("reloaded"), "{log}");
}

pub(crate) fn run_fail(args: &[&str]) -> String {
    let out = adebox().args(args).output().unwrap();
    assert!(!out.status.success(), "expected failure: {args:?}");
    String::from_utf8_lossy(&out.stderr).to_string()
}

#[test]
fn bad_configuration_is_refused_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, "[listen]\nhttps = [\"0.0.0.0\"]\n").unwrap();
    let err = run_fail(&["check-config", "--config", path.to_str().unwrap()]);
    assert!(err.contains("listen.https") && err.contains("Fix"), "{err}");
    let err = run_fail(&["serve", "--config", path.to_str().unwrap()]);
    assert!(err.contains("listen.https"), "{err}");
    std::fs::write(&path, "unknown_key = 1\n").unwrap();
    let err = run_fail(&["check-config", "--config", path.to_str().unwrap()]);
    assert!(err.contains("unknown_key"), "{err}");
    let err = run_fail(&["serve", "--config", dir.path().join("missing.toml").to_str().unwrap()]);
    assert!(err.contains("missing.toml"), "{err}");
}

#[test]
fn check_config_prints_the_effective_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), 8443, "");
    let out = adebox().arg("check-config").arg("--config").arg(&config).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("https = [\"127.0.0.1:8443\"]") && text.contains("is valid"), "{text}");
}

#[test]
fn a_port_in_use_is_reported_with_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let config = write_config(dir.path(), taken.local_addr().unwrap().port(), "");
    let err = run_fail(&["serve", "--config", config.to_str().unwrap()]);
    assert!(err.contains("already in use") && err.contains("config key listen.https"), "{err}");
    let err = run_fail(&[
        "sandbox",
        "--data",
        dir.path().join("sandbox").to_str().unwrap(),
        "--listen",
        &taken.local_addr().unwrap().to_string(),
    ]);
    assert!(err.contains("already in use") && err.contains("option --listen"), "{err}");
    assert!(!err.contains("listen.https"), "the sandbox has no configuration file: {err}");
}

#[test]
fn a_damaged_store_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), free_port(), "");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let garbage = vec![0x5au8; 8192];
    std::fs::write(data.join("adebox.redb"), &garbage).unwrap();
    let err = run_fail(&["serve", "--config", config.to_str().unwrap()]);
    assert!(err.contains("damaged"), "{err}");
    assert!(std::fs::read(data.join("adebox.redb")).unwrap() == garbage);
}

#[test]
fn an_unwritable_data_directory_is_reported_with_the_fix() {
    if nix::unistd::getuid().is_root() {
        eprintln!("notice: running as root, permissions are not enforced; skipping");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), free_port(), "");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o500)).unwrap();
    let err = run_fail(&["serve", "--config", config.to_str().unwrap()]);
    assert!(err.contains("data_dir") && err.contains("chown"), "{err}");
}

#[test]
fn backup_and_set_password_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), free_port(), "");
    // No daemon running: set-password opens the store itself (and creates the first admin).
    let mut child = adebox()
        .args(["admin", "set-password", "rescue", "--config"])
        .arg(&config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"rescue password 1\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stdout).contains("created admin rescue"));
    let backup = dir.path().join("b.redb");
    let passphrase = dir.path().join("passphrase");
    std::fs::write(&passphrase, "the backup passphrase\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&passphrase, std::fs::Permissions::from_mode(0o644)).unwrap();
    let run = |command: &str, passphrase: &std::path::Path| {
        adebox()
            .args(["admin", command])
            .arg(&backup)
            .arg("--passphrase-file")
            .arg(passphrase)
            .arg("--config")
            .arg(&config)
            .output()
            .unwrap()
    };
    let out = run("backup", &passphrase);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("chmod 600"), "{err}");
    std::fs::set_permissions(&passphrase, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = run("backup", &passphrase);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(backup.exists());
    let wrong = dir.path().join("wrong");
    std::fs::write(&wrong, "not the backup passphrase").unwrap();
    std::fs::set_permissions(&wrong, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = run("restore", &wrong);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("wrong passphrase"), "{err}");
    let out = run("restore", &passphrase);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("restored the key folder (data.key"), "{said}");
}

#[test]
fn tells_systemd_it_is_ready_only_once_it_serves() {
    use std::os::unix::net::UnixDatagram;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = write_config(dir.path(), port, "");
    let socket_path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut child = adebox()
        .arg("serve")
        .arg("--config")
        .arg(&config)
        .env("NOTIFY_SOCKET", &socket_path)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut buf = [0u8; 512];
    let mut ready = false;
    for _ in 0..5 {
        let Ok(n) = socket.recv(&mut buf) else { break };
        let msg = String::from_utf8_lossy(&buf[..n]).to_string();
        if msg.contains("READY=1") {
            ready = true;
            break;
        }
    }
    assert!(ready, "no READY=1");
    // Ready means serving: the listener answers right away.
    assert!(wait_healthy(port, &dir.path().join("data/tls/ca.pem")));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let mut stopping = false;
    for _ in 0..5 {
        let Ok(n) = socket.recv(&mut buf) else { break };
        if String::from_utf8_lossy(&buf[..n]).contains("STOPPING=1") {
            stopping = true;
            break;
        }
    }
    assert!(stopping, "no STOPPING=1");
    assert!(child.wait().unwrap().success());
}

#[test]
fn the_plain_http_listener_only_redirects_to_https() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let http_port = free_port();
    let config = write_config(dir.path(), port, "");
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("[listen]\n", &format!("[listen]\nhttp_redirect = \"127.0.0.1:{http_port}\"\n"));
    std::fs::write(&config, text).unwrap();
    let mut child =
        adebox().arg("serve").arg("--config").arg(&config).stderr(Stdio::null()).spawn().unwrap();
    assert!(wait_healthy(port, &dir.path().join("data/tls/ca.pem")));
    let out = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{redirect_url}",
            "-H",
            "Host: evil.example",
        ])
        .arg(format!("http://127.0.0.1:{http_port}/admin/devices?x=1"))
        .output()
        .unwrap();
    let answer = String::from_utf8_lossy(&out.stdout).to_string();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let _ = child.wait();
    assert_eq!(
        answer,
        format!("308 https://localhost:{port}/admin/devices?x=1"),
        "the Host header is ignored"
    );
}

#[test]
fn the_benchmarks_run_and_report_json() {
    let out = adebox().args(["bench", "sync", "--devices", "1500", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["devices"], 1500);
    assert_eq!(r["pages"], 2);
    assert_eq!(r["pager_devices"], 1500, "the plain pager saw every device: {r}");
    for key in ["wall_s", "per_s", "requests", "peak_rss_mb", "commits", "pager_s", "ratio"] {
        assert!(r[key].as_f64().unwrap() > 0.0, "{key}: {r}");
    }
    let out = adebox()
        .args(["bench", "api", "--devices", "3000", "--requests", "16", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in ["wall_s", "per_s", "p50_ms", "p99_ms", "peak_rss_mb", "index_build_s"] {
        assert!(r[key].is_number(), "{key}: {r}");
    }
    let out = adebox()
        .args(["bench", "enroll", "--devices", "6", "--concurrency", "3", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((r["devices"].as_u64(), r["enrolled"].as_u64()), (Some(6), Some(6)), "{r}");
    assert_eq!(r["released"].as_u64(), Some(6), "{r}");
    for key in ["wall_s", "per_s", "p50_ms", "p99_ms", "peak_rss_mb", "commits_per_device"] {
        assert!(r[key].as_f64().unwrap() > 0.0, "{key}: {r}");
    }
    assert!(r["changes_per_device"].as_f64() >= r["commits_per_device"].as_f64(), "{r}");
    let out = adebox()
        .args(["bench", "pipeline", "--devices", "6", "--concurrency", "3", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((r["devices"].as_u64(), r["released"].as_u64()), (Some(6), Some(6)), "{r}");
    for key in ["total_s", "devices_per_minute", "sync_s", "assign_s", "enroll_release_s"] {
        assert!(r[key].as_f64().unwrap() > 0.0, "{key}: {r}");
    }
    let out = adebox().args(["bench", "assign", "--devices", "2500", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["devices"], 2500, "{r}");
    assert!(r["requests"].as_u64().unwrap() >= 3, "three batches at least: {r}");
    for key in ["wall_s", "per_s", "first_batch_ms", "p50_ms", "p99_ms", "peak_rss_mb"] {
        assert!(r[key].as_f64().unwrap() > 0.0, "{key}: {r}");
    }
    let out = adebox()
        .args(["bench", "mdm", "--devices", "8", "--polls", "5", "--concurrency", "4", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((r["devices"].as_u64(), r["polls"].as_u64()), (Some(8), Some(40)), "{r}");
    for key in ["wall_s", "per_s", "p50_ms", "p99_ms", "peak_rss_mb"] {
        assert!(r[key].as_f64().unwrap() > 0.0, "{key}: {r}");
    }
    let out = adebox()
        .args(["bench", "login", "--addresses", "3", "--seconds", "3", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["addresses"].as_u64(), Some(3), "{r}");
    assert!(r["answers"].as_u64().unwrap() >= 3, "every flood client was answered: {r}");
    assert_eq!(r["admin_sign_ins"].as_u64(), Some(1), "{r}");
    for key in ["rss_before_mb", "rss_peak_mb", "healthz_p50_ms", "healthz_p99_ms", "admin_max_ms"]
    {
        assert!(r[key].as_f64().unwrap() > 0.0, "{key}: {r}");
    }
    let out = adebox()
        .args(["bench", "start", "--devices", "2000", "--restarts", "2", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((r["devices"].as_u64(), r["restarts"].as_u64()), (Some(2000), Some(2)), "{r}");
    for key in ["first_start_ms", "wall_s", "per_s", "p50_ms", "p99_ms", "peak_rss_mb"] {
        assert!(r[key].as_f64().unwrap() > 0.0, "{key}: {r}");
    }
}
