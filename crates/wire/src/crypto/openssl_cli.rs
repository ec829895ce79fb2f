//! Test-only: the `openssl` command line as an independent oracle for CMS and certificates.
//!
//! Tests call [`available`] first and return early (with a printed notice) when `openssl` is
//! not on PATH, so the suite still passes on a machine without it.

use std::path::Path;
use std::process::Command;

/// True when `openssl version` runs; prints a notice otherwise.
pub fn available() -> bool {
    let ok = Command::new("openssl").arg("version").output().is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("notice: `openssl` is not on PATH; skipping this test");
    }
    ok
}

/// Runs `openssl ARGS` in `dir`; stdout on success, stderr as the error otherwise.
pub fn run(dir: &Path, args: &[&str]) -> Result<Vec<u8>, String> {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(|e| format!("cannot run openssl: {e}"))?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// `openssl cms -verify` of the DER/BER message `blob` against the PEM anchor `ca_pem`, at
/// the Unix time `at` (so short-lived test certificates stay valid); the content on success.
pub fn cms_verify(blob: &[u8], ca_pem: &str, at: i64) -> Result<Vec<u8>, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    std::fs::write(dir.path().join("ca.pem"), ca_pem).map_err(|e| e.to_string())?;
    std::fs::write(dir.path().join("signed.p7"), blob).map_err(|e| e.to_string())?;
    let at = at.to_string();
    run(
        dir.path(),
        &[
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            "signed.p7",
            "-CAfile",
            "ca.pem",
            "-purpose",
            "any",
            "-attime",
            &at,
        ],
    )
}
