//! Apple's device-management schemas at run time: when `[mdm] schemas_dir` names a checkout of
//! `apple/device-management`, the commands of the command API, the commands of setup steps and
//! the configuration profiles admins upload are checked against it, key by key and type by
//! type (`device-schema`, with adebox's overlay compiled in).
//!
//! Owns [`AppleSchemas`], a handle shared by `setup`, `mdm` and the status API: loaded once at
//! start ([`AppleSchemas::load`], which refuses a folder that is not a checkout) and again on
//! reload ([`AppleSchemas::reload`], which keeps the running schemas when the new folder is
//! bad). Without the setting every check passes and [`AppleSchemas::notice`] says so: the
//! checks are then for shape only (the known request types, the common payload keys).
//!
//! Apple's files are not in the package (a site clones the repository at a release tag); only
//! the overlay, adebox's own, is in the binary. Must not use: store, domain modules.

use arc_swap::ArcSwapOption;
use device_schema::{Context, Os, Schemas};
use plist::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use device_schema::{Problem, Violation, Violations};

/// What the status API and the Integrations page say while no checkout is configured.
pub const OFF_NOTICE: &str = "commands and profiles are checked for shape only; set `[mdm] \
                              schemas_dir` for Apple's schema checks";

/// The configuration key.
pub const KEY: &str = "mdm.schemas_dir";

#[derive(Debug, thiserror::Error)]
#[error(
    "`{KEY}` = {path}: {detail}. Fix: point it at a checkout of \
     https://github.com/apple/device-management (the folder holding mdm/commands and \
     mdm/profiles), e.g. `git clone --depth 1 --branch release \
     https://github.com/apple/device-management {path}`, or remove the key"
)]
pub struct SchemasError {
    pub path: String,
    pub detail: String,
}

struct Loaded {
    dir: PathBuf,
    schemas: Schemas,
}

/// The schemas in use, if any; cheap to clone.
#[derive(Clone, Default)]
pub struct AppleSchemas {
    current: Arc<ArcSwapOption<Loaded>>,
}

impl std::fmt::Debug for AppleSchemas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppleSchemas").field("dir", &self.dir()).finish()
    }
}

/// How a device is addressed by the checks: its OS, from its model identifier.
pub fn os_of_product(product: &str) -> Os {
    match product {
        p if p.starts_with("iPhone") || p.starts_with("iPad") || p.starts_with("iPod") => Os::Ios,
        p if p.starts_with("AppleTV") => Os::TvOs,
        p if p.starts_with("RealityDevice") => Os::VisionOs,
        p if p.starts_with("Watch") => Os::WatchOs,
        _ => Os::MacOs,
    }
}

fn read(dir: &Path) -> Result<Loaded, SchemasError> {
    let schemas = Schemas::load_checkout(dir)
        .map_err(|e| SchemasError { path: dir.display().to_string(), detail: e.to_string() })?;
    Ok(Loaded { dir: dir.to_path_buf(), schemas })
}

impl AppleSchemas {
    /// No checkout: every check passes (shape only).
    pub fn off() -> AppleSchemas {
        AppleSchemas::default()
    }

    /// Loads the checkout at `dir`, or none when `None`.
    pub fn load(dir: Option<&Path>) -> Result<AppleSchemas, SchemasError> {
        let s = AppleSchemas::off();
        if let Some(dir) = dir {
            s.current.store(Some(Arc::new(read(dir)?)));
        }
        Ok(s)
    }

    /// Loads `dir` again (a checkout updated in place, a new path) or turns the checks off;
    /// a bad folder leaves the running schemas in place.
    pub fn reload(&self, dir: Option<&Path>) -> Result<(), SchemasError> {
        let next = match dir {
            Some(d) => Some(Arc::new(read(d)?)),
            None => None,
        };
        self.current.store(next);
        Ok(())
    }

    /// The checkout in use.
    pub fn dir(&self) -> Option<PathBuf> {
        self.current.load().as_ref().map(|l| l.dir.clone())
    }

    /// [`OFF_NOTICE`] while the checks are off.
    pub fn notice(&self) -> Option<&'static str> {
        self.current.load().is_none().then_some(OFF_NOTICE)
    }

    /// Checks a command plist (`{CommandUUID, Command}`) for a device on `os`, or for any OS
    /// when `None` (it passes when one OS accepts it; otherwise the findings for the OS with
    /// the fewest are returned). Passes when the checks are off.
    pub fn check_command(&self, command: &Value, os: Option<Os>) -> Result<(), Violations> {
        let Some(l) = self.current.load_full() else { return Ok(()) };
        any_os(os, |ctx| l.schemas.check_command(command, ctx))
    }

    /// Checks a configuration profile for any OS: the top level and each payload (payloads of
    /// a type the checkout has no schema for: their common keys).
    pub fn check_profile(&self, profile: &Value) -> Result<(), Violations> {
        let Some(l) = self.current.load_full() else { return Ok(()) };
        any_os(None, |ctx| l.schemas.check_profile(profile, ctx))
    }

    /// Whether the checkout describes the command `request_type`.
    pub fn knows_command(&self, request_type: &str) -> Option<bool> {
        let l = self.current.load_full()?;
        Some(l.schemas.get(device_schema::Kind::Command, request_type).is_some())
    }
}

/// Runs `check` for `os`, or for each OS until one passes.
fn any_os(
    os: Option<Os>,
    check: impl Fn(&Context) -> Result<(), Violations>,
) -> Result<(), Violations> {
    let oses: Vec<Os> = match os {
        Some(os) => vec![os],
        None => Os::ALL.to_vec(),
    };
    // The closest OS: the fewest findings, then the fewest "not on this OS" among them (a
    // wrong type found on the OS that has the key says more than the key's absence elsewhere).
    let score = |v: &Violations| {
        let elsewhere = v.0.iter().filter(|f| matches!(f.problem, Problem::NotSupported(_)));
        (v.0.len(), elsewhere.count())
    };
    let mut best: Option<Violations> = None;
    for os in oses {
        match check(&Context::device(os)) {
            Ok(()) => return Ok(()),
            Err(v) if best.as_ref().is_none_or(|b| score(&v) < score(b)) => best = Some(v),
            Err(_) => {}
        }
    }
    Err(best.unwrap_or(Violations(Vec::new())))
}

/// The findings in one line for an error message: `Command.PIN: expected string, found
/// integer; …` (at most five).
pub fn describe(v: &Violations) -> String {
    let mut parts: Vec<String> = v.0.iter().take(5).map(ToString::to_string).collect();
    if v.0.len() > 5 {
        parts.push(format!("and {} more", v.0.len() - 5));
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command(pairs: &[(&str, Value)]) -> Value {
        let mut cmd = plist::Dictionary::new();
        for (k, v) in pairs {
            cmd.insert(k.to_string(), v.clone());
        }
        let mut env = plist::Dictionary::new();
        env.insert("CommandUUID".into(), "c-1".into());
        env.insert("Command".into(), Value::Dictionary(cmd));
        Value::Dictionary(env)
    }

    #[test]
    fn without_a_checkout_everything_passes_and_the_notice_says_so() {
        let s = AppleSchemas::off();
        assert_eq!(s.notice(), Some(OFF_NOTICE));
        assert!(s.check_command(&command(&[("RequestType", "X".into())]), None).is_ok());
        assert_eq!(s.knows_command("DeviceLock"), None);
    }

    #[test]
    fn a_bad_folder_is_refused_naming_it_and_the_fix_and_reload_keeps_the_running_one() {
        let e = AppleSchemas::load(Some(Path::new("/nonexistent/dm"))).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("mdm.schemas_dir") && text.contains("/nonexistent/dm"), "{text}");
        assert!(text.contains("git clone"), "{text}");
        let Some(fixtures) = crate::fixtures::dir() else { return };
        let dir = fixtures.join("device-management");
        let s = AppleSchemas::load(Some(&dir)).unwrap();
        assert!(s.reload(Some(Path::new("/nonexistent/dm"))).is_err());
        assert_eq!(s.dir(), Some(dir));
        s.reload(None).unwrap();
        assert_eq!(s.notice(), Some(OFF_NOTICE));
    }

    #[test]
    fn commands_are_checked_for_the_devices_os_or_any() {
        let Some(fixtures) = crate::fixtures::dir() else { return };
        let s = AppleSchemas::load(Some(&fixtures.join("device-management"))).unwrap();
        assert_eq!(s.notice(), None);
        // PIN is a Mac's key: the wrong type found on macOS is reported, not iOS's "n/a".
        let lock = command(&[("RequestType", "DeviceLock".into()), ("PIN", 123456.into())]);
        let v = s.check_command(&lock, None).unwrap_err();
        assert!(describe(&v).contains("Command.PIN: expected string, found integer"), "{v}");
        let erase =
            command(&[("RequestType", "EraseDevice".into()), ("PreserveDataPlan", true.into())]);
        s.check_command(&erase, None).unwrap();
        s.check_command(&erase, Some(Os::Ios)).unwrap();
        let v = s.check_command(&erase, Some(os_of_product("Mac14,3"))).unwrap_err();
        assert!(describe(&v).contains("Command.PreserveDataPlan"), "{v}");
        assert_eq!(s.knows_command("DeviceLock"), Some(true));
        assert_eq!(s.knows_command("MadeUpCommand"), Some(false));
    }
}
