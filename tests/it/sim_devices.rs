//! `adebox sim devices` (the binary) against a sandbox in another process (the binary too):
//! it registers devices at the simulated ABM, syncs, waits for their profile and enrolls
//! them; a second run inside Apple's manual-sync budget says until when. A production daemon
//! exposes none of the sandbox's means.

use crate::common::*;
use adebox::daemon::Mode;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn adebox() -> Command {
    Command::new(env!("CARGO_BIN_EXE_adebox"))
}

/// The sandbox child, stopped when the test ends (also on a failed assertion).
struct Sandbox(Child);

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn sim_devices_enrolls_new_devices_with_a_sandbox_in_another_process() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = adebox()
        .args(["sandbox", "--devices", "0", "--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _sandbox = Sandbox(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    while !dir.path().join("sandbox.json").exists() {
        assert!(Instant::now() < deadline, "the sandbox did not write sandbox.json");
        std::thread::sleep(Duration::from_millis(100));
    }
    let pki = dir.path().join("stand-in-pki.json");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&pki).unwrap().permissions().mode() & 0o777, 0o600);

    let server = format!("https://localhost:{port}");
    let run = |extra: &[&str]| {
        adebox()
            .args(["sim", "devices", "--server", &server, "--concurrency", "2", "--sandbox-dir"])
            .arg(dir.path())
            .args(extra)
            .output()
            .unwrap()
    };
    let out = run(&["--count", "4", "--json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["devices"], 4, "{report}");
    assert_eq!(report["enrolled"], 4, "{report}");
    assert_eq!(report["failed"], 0, "{report}");
    assert_eq!(report["released"], 4, "{report}");
    assert_eq!(report["failures"], json!({}));
    let (p50, p99) = (report["latency_ms"]["p50"].as_f64(), report["latency_ms"]["p99"].as_f64());
    assert!(p50.unwrap() > 0.0 && p99.unwrap() >= p50.unwrap(), "{report}");
    assert!(stderr.contains("registered 4 devices"), "{stderr}");
    assert!(stderr.contains("manual sync requested"), "{stderr}");

    // Inside Apple's 15-minute manual-sync budget: says until when, registers nothing.
    let out = run(&["--count", "1"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("allows the next manual sync at"), "{stderr}");
    assert!(stderr.contains("--wait"), "{stderr}");
    assert!(!stderr.contains("registered"), "{stderr}");

    // A directory that is no sandbox's is named as such.
    let other = tempfile::tempdir().unwrap();
    let out = adebox()
        .args(["sim", "devices", "--server", &server, "--sandbox-dir"])
        .arg(other.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("sandbox.json"));
}

#[tokio::test]
async fn a_production_daemon_exposes_no_stand_in_pki_nor_sandbox_routes() {
    let d = TestDaemon::start_in(tempfile::tempdir().unwrap(), Mode::Production).await;
    assert!(d.running().services.stand_in_pki.is_none());
    let err = adebox::daemon::sandbox::write_stand_in_pki(d.running(), d.dir.path()).unwrap_err();
    assert!(err.to_string().contains("only a sandbox"), "{err}");
    assert!(!d.dir.path().join("stand-in-pki.json").exists());

    let page = d.setup_admin().await;
    for path in ["/api/v1/sandbox", "/api/v1/sandbox/enroll"] {
        let (s, v) = page.get(path).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}: {v}");
    }
    let (s, _) = page.post("/api/v1/sandbox/enroll", json!({"count": 1})).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) =
        page.post("/api/v1/sandbox/devices", json!({"server_uuid": "x", "count": 1})).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}
