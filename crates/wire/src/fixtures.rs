//! Finds `../shared/fixtures` (real public Apple artifacts) for tests.
//!
//! Tests call [`read`] or [`path`]; when the folder is absent they print a notice and skip
//! (return early) rather than fail, so the crate still tests on a machine without it. The
//! folder is `$ADEBOX_FIXTURES`, or `../shared/fixtures` beside the repository by default. The
//! files are never copied into the project.

use std::path::PathBuf;

/// The fixtures folder, or `None` (with a printed notice) when it is absent.
pub fn dir() -> Option<PathBuf> {
    let dir = std::env::var_os("ADEBOX_FIXTURES").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures")
    });
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "notice: fixtures folder {} not found (set ADEBOX_FIXTURES); skipping this test",
            dir.display()
        );
        None
    }
}

/// Path of one fixture file (`"dep-token/apple-mdm-client-tests-1.pem"`), if the folder exists.
pub fn path(relative: &str) -> Option<PathBuf> {
    dir().map(|d| d.join(relative))
}

/// Contents of one fixture file, if the folder exists. Panics if the folder exists but the
/// file does not: that is a broken fixture set, not an absent one.
pub fn read(relative: &str) -> Option<Vec<u8>> {
    let p = path(relative)?;
    Some(std::fs::read(&p).unwrap_or_else(|e| panic!("fixture {} unreadable: {e}", p.display())))
}
