//! What a newcomer sees of `adebox sandbox` in the terminal: the address, user and password are
//! the last lines printed once the demo has settled (not scrolled away by the first sync's log),
//! and a start that fails leaves nothing behind that it made.

use crate::binary::{adebox, free_port};
use crate::shutdown::sigterm_and_wait;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs the sandbox on a port that is taken; its error output.
fn fails_on_a_taken_port(cmd: &mut Command) -> String {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let out = cmd.args(["--listen", &taken.local_addr().unwrap().to_string()]).output().unwrap();
    assert!(!out.status.success(), "the sandbox started on a port in use");
    String::from_utf8_lossy(&out.stderr).to_string()
}

fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect()
}

#[test]
fn a_failed_start_creates_nothing() {
    let tmp = tempfile::tempdir().unwrap();

    // A --data directory that did not exist is not left behind.
    let fresh = tmp.path().join("fresh");
    let err = fails_on_a_taken_port(adebox().arg("sandbox").arg("--data").arg(&fresh));
    assert!(err.contains("option --listen"), "{err}");
    assert!(!fresh.exists(), "the failed start left {}", fresh.display());

    // An empty one is left empty.
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    fails_on_a_taken_port(adebox().arg("sandbox").arg("--data").arg(&empty));
    assert!(entries(&empty).is_empty(), "left in the empty directory: {:?}", entries(&empty));

    // Without --data, the temporary directory it made is removed.
    let temp_root = tmp.path().join("tmp");
    std::fs::create_dir(&temp_root).unwrap();
    fails_on_a_taken_port(adebox().arg("sandbox").env("TMPDIR", &temp_root));
    assert!(entries(&temp_root).is_empty(), "left in TMPDIR: {:?}", entries(&temp_root));

    // A directory holding an earlier run's files keeps them.
    let earlier = tmp.path().join("earlier");
    std::fs::create_dir(&earlier).unwrap();
    std::fs::write(earlier.join("keep.txt"), "earlier run").unwrap();
    fails_on_a_taken_port(adebox().arg("sandbox").arg("--data").arg(&earlier));
    assert_eq!(std::fs::read_to_string(earlier.join("keep.txt")).unwrap(), "earlier run");
}

#[test]
fn the_credentials_are_the_last_lines_after_the_first_sync() {
    let dir = tempfile::tempdir().unwrap();
    // One file for both streams, so the order of what the terminal shows is kept.
    let console_path = dir.path().join("console.txt");
    let console = std::fs::File::create(&console_path).unwrap();
    let port = free_port();
    let mut child = adebox()
        .args(["sandbox", "--devices", "1200", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--data")
        .arg(dir.path().join("data"))
        .stdout(Stdio::from(console.try_clone().unwrap()))
        .stderr(Stdio::from(console))
        .spawn()
        .unwrap();
    let started = Instant::now();
    let read = || std::fs::read_to_string(&console_path).unwrap();
    while !read().contains("Press Ctrl-C to stop") {
        if started.elapsed() > Duration::from_secs(150) || child.try_wait().unwrap().is_some() {
            let _ = child.kill();
            panic!("the sandbox did not start: {}", read());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    // Whatever the first sync and the default assignment log comes before, not after.
    std::thread::sleep(Duration::from_secs(2));
    let text = read();
    let (status, _) = sigterm_and_wait(&mut child);
    assert!(status.success(), "{text}");
    let after = text.split("Press Ctrl-C to stop.").nth(1).unwrap_or_default();
    assert!(after.trim().is_empty(), "printed after the credentials: {after}");
    let before = text.split("adebox sandbox is running").next().unwrap();
    assert!(before.contains("sync run ended"), "printed before the first sync ended: {text}");
    assert!(text.contains("  password: "), "{text}");
    assert!(!text.contains("still running"), "the demo settled: {text}");
}
