//! The whole `adebox sandbox` process (daemon, simulated Apple side, simulated devices
//! enrolling) stops within 2 s of SIGTERM with its store released; `adebox serve` is
//! `binary::sigterm_shuts_down_gracefully_and_quickly`.

use crate::binary::{adebox, free_port};
use std::io::{BufRead, BufReader, Read};
use std::process::Stdio;
use std::time::{Duration, Instant};

#[test]
fn sigterm_stops_the_whole_sandbox_within_two_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = adebox()
        .args(["sandbox", "--devices", "20", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--data")
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Running once it says so; the demo devices go on enrolling in the background.
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let ready = Instant::now();
    let mut line = String::new();
    loop {
        line.clear();
        let n = out.read_line(&mut line).unwrap();
        assert!(n > 0, "the sandbox ended before it was running");
        if line.contains("Press Ctrl-C to stop") {
            break;
        }
        assert!(ready.elapsed() < Duration::from_secs(120), "the sandbox never started");
    }
    std::thread::sleep(Duration::from_millis(300));
    let (status, took) = sigterm_and_wait(&mut child);
    eprintln!("the sandbox stopped {took:?} after SIGTERM");
    let mut log = String::new();
    child.stderr.take().unwrap().read_to_string(&mut log).unwrap();
    assert!(status.success(), "{status:?}: {log}");
    assert!(took < Duration::from_secs(2), "SIGTERM took {took:?} (at most 2 s): {log}");
    assert!(log.contains("adebox stopped"), "{log}");
    assert!(!log.contains("still in use"), "the store is released at shutdown: {log}");
    assert!(!log.contains("did not stop"), "every task stops: {log}");
    // The store is closed: another process opens it at once.
    let reopened = adebox::store::Store::open(dir.path(), &[]);
    assert!(reopened.is_ok(), "the store is free after exit: {:?}", reopened.err());
}

/// Sends SIGTERM and waits (at most 10 s) for the exit: its status and how long it took.
pub(crate) fn sigterm_and_wait(
    child: &mut std::process::Child,
) -> (std::process::ExitStatus, Duration) {
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let started = Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return (s, started.elapsed());
        }
        assert!(started.elapsed() < Duration::from_secs(10), "still running 10 s after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
}
