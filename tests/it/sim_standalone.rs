//! `adebox sim dep` and `adebox sim apns` as separate processes: they print where their CA is,
//! serve, and when stopped with SIGINT or SIGTERM leave nothing in the temporary directory.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Starts `adebox sim <what>` with its own TMPDIR; returns it with the printed CA path.
fn start(what: &str, tmp: &Path) -> (Child, PathBuf) {
    let mut args = vec!["sim", what, "--listen", "127.0.0.1:0"];
    if what == "dep" {
        args.extend(["--devices", "3"]);
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_adebox"))
        .args(&args)
        .env("TMPDIR", tmp)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("adebox runs");
    let mut ca = None;
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some(path) = line.strip_prefix("CA certificate:") {
            ca = Some(PathBuf::from(path.trim()));
        }
        if line.starts_with("Press Ctrl-C") {
            break;
        }
    }
    (child, ca.expect("the CA path is printed"))
}

fn stop(child: &mut Child, signal: nix::sys::signal::Signal) {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), signal).unwrap();
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{status:?}");
            return;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "still running after {signal}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_simulators_leave_no_files_behind_when_stopped() {
    use nix::sys::signal::Signal::{SIGINT, SIGTERM};
    for what in ["dep", "apns"] {
        for signal in [SIGINT, SIGTERM] {
            let tmp = tempfile::tempdir().unwrap();
            let (mut child, ca) = start(what, tmp.path());
            assert!(ca.starts_with(tmp.path()), "{what}: {}", ca.display());
            let pem = std::fs::read_to_string(&ca).unwrap();
            assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{what}");
            stop(&mut child, signal);
            let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
            assert!(left.is_empty(), "sim {what} after {signal} left {left:?}");
        }
    }
}
