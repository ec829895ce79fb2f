//! The built `adebox` binary: signals, exit codes and messages.

use crate::shutdown::sigterm_and_wait;
use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
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

fn run_fail(args: &[&str]) -> String {
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
fn inspect_token_decrypts_the_real_fixture_and_refuses_a_wrong_key() {
    let (Some(key), Some(token), Some(example)) = (
        adebox::fixtures::path("dep-token/apple-mdm-client-tests-1.pem"),
        adebox::fixtures::path("dep-token/apple-mdm-client-tests-1-server-token.p7m"),
        adebox::fixtures::path("dep-token/apple-example-server-token.p7m"),
    ) else {
        return;
    };
    let out = adebox().args(["inspect", "token", "--key"]).arg(&key).arg(&token).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["access_token_expiry"], "2026-01-17T11:02:21Z");
    assert!(json["consumer_secret"].as_str().unwrap().ends_with("(masked)"));
    let shown = adebox()
        .args(["inspect", "token", "--show-secrets", "--key"])
        .arg(&key)
        .arg(&token)
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(json["consumer_secret"], "CS_810bb5ab05e53becb3bfbe40b3608a0c9039c457");
    let err =
        run_fail(&["inspect", "token", "--key", key.to_str().unwrap(), example.to_str().unwrap()]);
    assert!(err.contains("different public key"), "{err}");
    let err =
        run_fail(&["inspect", "token", "--key", key.to_str().unwrap(), key.to_str().unwrap()]);
    assert!(err.contains("private key"), "{err}");
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

/// Signs `plist` with a new stand-in device identity via `openssl cms -sign -stream` (BER,
/// SHA-1, no signed attributes: the shape of real captures); None without openssl.
fn stand_in_machineinfo(
    dir: &Path,
    pki: &adebox::sim::apple_pki::StandInApplePki,
    plist: &str,
) -> Option<PathBuf> {
    let now = time::macros::datetime!(2026-11-24 12:00 UTC);
    let id = pki.issue_device_identity("UDID-CLI-1", now).unwrap();
    std::fs::write(dir.join("id.crt"), &id.cert_pem).unwrap();
    std::fs::write(dir.join("id.key"), id.key_pem.expose()).unwrap();
    std::fs::write(
        dir.join("bag.pem"),
        format!("{}{}", pki.device_ca.cert_pem, pki.device_root.cert_pem),
    )
    .unwrap();
    std::fs::write(dir.join("mi.plist"), plist).unwrap();
    let status = Command::new("openssl")
        .current_dir(dir)
        .args(["cms", "-sign", "-binary", "-nodetach", "-stream", "-noattr", "-md", "sha1"])
        .args(["-in", "mi.plist", "-signer", "id.crt", "-inkey", "id.key", "-certfile", "bag.pem"])
        .args(["-outform", "DER", "-out", "mi.p7"])
        .status();
    match status {
        Ok(s) if s.success() => Some(dir.join("mi.p7")),
        _ => {
            eprintln!("notice: openssl unavailable; skipping");
            None
        }
    }
}

#[test]
fn inspect_machineinfo_prints_the_plist_and_refuses_an_untrusted_signer() {
    let dir = tempfile::tempdir().unwrap();
    let now = time::macros::datetime!(2026-11-24 12:00 UTC);
    let pki = adebox::sim::apple_pki::StandInApplePki::generate(now).unwrap();
    let plist = r#"<plist version="1.0"><dict><key>SERIAL</key><string>C02CLI</string><key>UDID</key><string>UDID-CLI-1</string><key>PRODUCT</key><string>iPhone15,2</string></dict></plist>"#;
    let Some(body) = stand_in_machineinfo(dir.path(), &pki, plist) else { return };
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &pki.device_ca.cert_pem).unwrap();
    let out =
        adebox().args(["inspect", "machineinfo", "--ca"]).arg(&ca).arg(&body).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["verified"], true);
    assert_eq!(json["plist"]["SERIAL"], "C02CLI");
    assert_eq!(json["machine_info"]["product"], "iPhone15,2");
    assert_eq!(json["digest"], "sha1");
    // The same body in base64, as the x-apple-aspen-deviceinfo header carries it.
    use base64ct::{Base64, Encoding};
    let b64 = dir.path().join("mi.b64");
    std::fs::write(&b64, Base64::encode_string(&std::fs::read(&body).unwrap())).unwrap();
    let out =
        adebox().args(["inspect", "machineinfo", "--ca"]).arg(&ca).arg(&b64).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // Against Apple's pinned Device CA, the stand-in signer is refused.
    let err = run_fail(&["inspect", "machineinfo", body.to_str().unwrap()]);
    assert!(err.contains("not signed by a device identity"), "{err}");
    let err = run_fail(&["inspect", "machineinfo", ca.to_str().unwrap()]);
    assert!(err.contains("not a valid signed message"), "{err}");
}

#[test]
fn inspect_attestation_reads_the_real_leaf_and_verifies_a_stand_in_att_obj() {
    if let Some(leaf) = adebox::fixtures::path("attestation/apple-attestation-leaf-macos-15.5.pem")
    {
        let out = adebox()
            .args(["inspect", "attestation", "--at", "2025-08-01T00:00:00Z"])
            .arg(&leaf)
            .output()
            .unwrap();
        // The Sub CA is not published, so the chain cannot verify: non-zero, report printed.
        assert!(!out.status.success());
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(json["serial"], "TMWFWWWP67");
        assert_eq!(json["udid"], "00006030-000651690A84001C");
        assert_eq!(json["os_version"], "15.5");
        assert_eq!(json["chain_verified"], false);
        assert!(json["nonce_hex"].as_str().unwrap().starts_with("9ff219c2"));
    }
    let dir = tempfile::tempdir().unwrap();
    let now = time::macros::datetime!(2026-11-24 12:00 UTC);
    let pki = adebox::sim::apple_pki::StandInApplePki::generate(now).unwrap();
    let key = adebox::sim::apple_pki::new_device_key().unwrap();
    let props = adebox::sim::apple_pki::AttestedProperties {
        serial: Some("C02CLI".into()),
        freshness: Some(vec![7; 32]),
        ..Default::default()
    };
    let spki = rcgen::PublicKeyData::subject_public_key_info(&key);
    let x5c = pki.issue_attestation(&props, &spki, now).unwrap();
    let att = dir.path().join("att.cbor");
    std::fs::write(&att, adebox::apple::attestation::encode_att_obj(&x5c)).unwrap();
    let root = dir.path().join("root.pem");
    std::fs::write(&root, &pki.attestation_root.cert_pem).unwrap();
    let out = adebox()
        .args(["inspect", "attestation", "--at", "2026-11-25T00:00:00Z", "--ca"])
        .arg(&root)
        .arg(&att)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["serial"], "C02CLI");
    assert_eq!(json["chain_verified"], true);
    // Under Apple's real root, the stand-in chain is refused.
    let out = adebox().args(["inspect", "attestation"]).arg(&att).output().unwrap();
    assert!(!out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json["chain_error"].as_str().unwrap().contains("trusted Apple attestation root"));
    let err = run_fail(&["inspect", "attestation", root.to_str().unwrap(), "--at", "yesterday"]);
    assert!(err.contains("--at"), "{err}");
    std::fs::write(dir.path().join("junk"), [0xffu8; 40]).unwrap();
    let err = run_fail(&["inspect", "attestation", dir.path().join("junk").to_str().unwrap()]);
    assert!(err.contains("CBOR") || err.contains("malformed"), "{err}");
}

/// A signed SCEP-variant enrollment profile from a new appliance CA: (profile file, CA PEM file,
/// another CA's PEM file).
fn signed_profile(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    use adebox::apple::enroll_profile::{self as ep, IdentityInputs, MdmInputs, ProfileInputs};
    use adebox::crypto::ca::{Authority, pem_to_der};
    let now = time::macros::datetime!(2026-11-24 12:00 UTC);
    let ca = Authority::generate("adebox CLI test CA", now, time::Duration::days(3650)).unwrap();
    let leaf =
        ca.issue_server(&["mdm.example.test".into()], now, time::Duration::days(800)).unwrap();
    let inputs = ProfileInputs {
        identifier: "com.example.adebox.enroll".into(),
        display_name: "Example MDM".into(),
        organization: "Example".into(),
        description: None,
        ca_der: ca.cert_der().to_vec(),
        ca_file_name: "adebox-root.cer".into(),
        identity: IdentityInputs::Scep {
            url: "https://mdm.example.test/scep".into(),
            challenge: adebox::crypto::Secret::new("cli-secret-challenge".into()),
            subject: ep::subject("Example", "C02CLI"),
            ca_fingerprint: None,
        },
        mdm: MdmInputs {
            topic: "com.apple.mgmt.External.00000000-1111-2222-3333-444444444444".into(),
            server_url: "https://mdm.example.test/mdm/connect".into(),
            check_in_url: "https://mdm.example.test/mdm/checkin".into(),
            server_capabilities: vec![],
        },
    };
    let profile = ep::build_profile(&inputs, &mut ep::random_uuid).unwrap();
    let key = adebox::crypto::cms::SignerKey::from_pkcs8_pem(leaf.key_pem.expose()).unwrap();
    let cert = pem_to_der(&leaf.cert_pem).unwrap();
    let bytes = ep::sign_profile(&profile, &cert, &[ca.cert_der().to_vec()], &key, now).unwrap();
    let other = Authority::generate("another CA", now, time::Duration::days(3650)).unwrap();
    let (file, ca_pem, other_pem) =
        (dir.join("enroll.mobileconfig"), dir.join("ca.pem"), dir.join("other.pem"));
    std::fs::write(&file, bytes).unwrap();
    std::fs::write(&ca_pem, ca.cert_pem()).unwrap();
    std::fs::write(&other_pem, other.cert_pem()).unwrap();
    (file, ca_pem, other_pem)
}

#[test]
fn inspect_profile_lists_payloads_masks_the_challenge_and_refuses_bad_signatures() {
    let dir = tempfile::tempdir().unwrap();
    let (file, ca, other) = signed_profile(dir.path());
    let out = adebox().args(["inspect", "profile", "--ca"]).arg(&ca).arg(&file).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("cli-secret-challenge"), "{stdout}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["signature_verified"], true);
    assert_eq!(json["chains_to_ca"], true);
    assert!(json["signer"].as_str().unwrap().contains("mdm.example.test"), "{json}");
    let types: Vec<&str> =
        json["payloads"].as_array().unwrap().iter().map(|p| p["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["com.apple.security.root", "com.apple.security.scep", "com.apple.mdm"]);
    assert_eq!(json["payloads"][1]["fields"]["PayloadContent"]["Challenge"], "(set, hidden)");
    // Without --ca only the signature counts.
    assert!(adebox().args(["inspect", "profile"]).arg(&file).status().unwrap().success());
    // A signer that does not chain to --ca: report printed, non-zero exit.
    let out =
        adebox().args(["inspect", "profile", "--ca"]).arg(&other).arg(&file).output().unwrap();
    assert!(!out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["chains_to_ca"], false);
    // Altered, truncated and garbage files: non-zero with a reason, never a panic.
    let bytes = std::fs::read(&file).unwrap();
    let mut altered = bytes.clone();
    let at = altered.windows(7).position(|w| w == b"Example").unwrap();
    altered[at] ^= 0x20;
    for (name, content) in [
        ("altered", altered),
        ("truncated", bytes[..bytes.len() / 2].to_vec()),
        ("garbage", b"this is not a profile".to_vec()),
        ("empty", Vec::new()),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        let err = run_fail(&["inspect", "profile", path.to_str().unwrap()]);
        assert!(!err.contains("panicked"), "{name}: {err}");
        assert!(err.contains("not a validly signed profile"), "{name}: {err}");
    }
}
