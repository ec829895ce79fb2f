//! A site's checkout of `apple/device-management` with the project's overlay compiled in: what
//! the daemon loads when `[mdm] schemas_dir` is set ([`Schemas::load_checkout`]).
//!
//! The overlay files (`schemas/overlay/`) are adebox's own, so they travel inside the binary
//! ([`OVERLAY`], `include_str!`) and the package carries no schema file; Apple's files (MIT)
//! come from the site's checkout and are not shipped. Two rules differ from the tests'
//! [`Schemas::from_fixtures`]: a key the overlay adds that the checkout already defines is not an
//! error (Apple's definition stays, so a newer checkout never stops the daemon), and a folder
//! that is not a checkout (no command or profile schemas, no `TopLevel`) is refused.

use crate::catalog::{COMMAND_ENVELOPE, Clash, REPORT_ENVELOPE, Schemas};
use crate::spec::Kind;
use crate::yaml::{LoadError, parse};
use std::path::Path;

/// The overlay, as `(kind, file name, text)`; a test checks it names every file of
/// `schemas/overlay/mdm/`.
pub const OVERLAY: &[(Kind, &str, &str)] = &[
    (
        Kind::CheckIn,
        "authenticate.yaml",
        include_str!("../../../schemas/overlay/mdm/checkin/authenticate.yaml"),
    ),
    (
        Kind::CheckIn,
        "getbootstraptoken.yaml",
        include_str!("../../../schemas/overlay/mdm/checkin/getbootstraptoken.yaml"),
    ),
    (
        Kind::CheckIn,
        "setbootstraptoken.yaml",
        include_str!("../../../schemas/overlay/mdm/checkin/setbootstraptoken.yaml"),
    ),
    (
        Kind::Envelope,
        "command.yaml",
        include_str!("../../../schemas/overlay/mdm/envelope/command.yaml"),
    ),
    (
        Kind::Envelope,
        "report.yaml",
        include_str!("../../../schemas/overlay/mdm/envelope/report.yaml"),
    ),
];

/// What a checkout must hold for the checks the daemon makes.
const REQUIRED: &[(Kind, &str)] = &[
    (Kind::Payload, "TopLevel"),
    (Kind::Payload, "CommonPayloadKeys"),
    (Kind::Envelope, COMMAND_ENVELOPE),
    (Kind::Envelope, REPORT_ENVELOPE),
];

impl Schemas {
    /// Loads the checkout at `apple` (the folder holding `mdm/commands`, `mdm/profiles`, …)
    /// and merges the built-in overlay.
    pub fn load_checkout(apple: &Path) -> Result<Schemas, LoadError> {
        let not_a_checkout =
            |detail: String| LoadError::NotACheckout { path: apple.display().to_string(), detail };
        let meta = std::fs::metadata(apple).map_err(|e| LoadError::Io {
            path: apple.display().to_string(),
            detail: e.to_string(),
        })?;
        if !meta.is_dir() {
            return Err(not_a_checkout("it is a file, not a folder".into()));
        }
        let mut s = Schemas::apple(apple)?;
        for (kind, name, text) in OVERLAY {
            let path = format!("(built-in overlay) mdm/{}/{name}", kind.folder());
            s.merge_with(parse(*kind, &path, text)?, Clash::AppleWins)?;
        }
        for kind in [Kind::Command, Kind::Payload] {
            if s.count(kind) == 0 {
                return Err(not_a_checkout(format!("it has no mdm/{}/*.yaml", kind.folder())));
            }
        }
        for (kind, name) in REQUIRED {
            if s.get(*kind, name).is_none() {
                let folder = kind.folder();
                return Err(not_a_checkout(format!("it has no schema {name} (mdm/{folder}/)")));
            }
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::Context;
    use crate::spec::Os;
    use crate::violation::Problem;
    use plist::{Dictionary, Value};

    #[test]
    fn the_built_in_overlay_names_every_overlay_file() {
        let mut files = Vec::new();
        for kind in crate::catalog::KINDS {
            let dir = crate::overlay_dir().join("mdm").join(kind.folder());
            for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.ends_with(".yaml") {
                    files.push((kind, name));
                }
            }
        }
        files.sort_by(|a, b| (a.0.folder(), &a.1).cmp(&(b.0.folder(), &b.1)));
        let mut built_in: Vec<(Kind, String)> =
            OVERLAY.iter().map(|(k, n, _)| (*k, n.to_string())).collect();
        built_in.sort_by(|a, b| (a.0.folder(), &a.1).cmp(&(b.0.folder(), &b.1)));
        assert_eq!(built_in, files, "add the new overlay file to OVERLAY in checkout.rs");
    }

    #[test]
    fn a_folder_that_is_not_a_checkout_is_refused_naming_it() {
        let missing = Path::new("/nonexistent/device-management");
        let e = Schemas::load_checkout(missing).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/device-management"), "{e}");
        let empty =
            std::env::temp_dir().join(format!("device-schema-empty-{}", std::process::id()));
        std::fs::create_dir_all(&empty).unwrap();
        let e = Schemas::load_checkout(&empty).unwrap_err();
        assert!(matches!(e, LoadError::NotACheckout { .. }), "{e}");
        assert!(e.to_string().contains("mdm/commands"), "{e}");
        let file = empty.join("file.yaml");
        std::fs::write(&file, "x: 1\n").unwrap();
        let e = Schemas::load_checkout(&file).unwrap_err();
        assert!(e.to_string().contains("not a folder"), "{e}");
        std::fs::remove_dir_all(&empty).unwrap();
    }

    #[test]
    fn a_checkout_loads_with_the_built_in_overlay_and_checks_a_command() {
        let Some(dir) = crate::tests::real::fixtures() else { return };
        let s = Schemas::load_checkout(&dir.join("device-management")).unwrap();
        assert!(s.count(Kind::Command) >= 60);
        let mut cmd = Dictionary::new();
        cmd.insert("RequestType".into(), "DeviceLock".into());
        cmd.insert("PIN".into(), 123456.into());
        let mut env = Dictionary::new();
        env.insert("CommandUUID".into(), "u-1".into());
        env.insert("Command".into(), Value::Dictionary(cmd));
        // PIN is a Mac's key (not on iOS).
        let v = s.check_command(&Value::Dictionary(env), &Context::device(Os::MacOs)).unwrap_err();
        assert!(matches!(v.at("Command.PIN"), Some(Problem::WrongType { .. })), "{v}");
    }

    #[test]
    fn an_overlay_key_the_checkout_already_has_keeps_apples_definition() {
        let Some(dir) = crate::tests::real::fixtures() else { return };
        let mut s = Schemas::apple(&dir.join("device-management")).unwrap();
        // Authenticate's UDID is Apple's: the strict merge refuses it, the checkout's keeps it.
        let again = parse(
            Kind::CheckIn,
            "again.yaml",
            "title: A\ndescription: B\npayload:\n  requesttype: Authenticate\npayloadkeys:\n- key: UDID\n  source: x\n  type: <integer>\n",
        )
        .unwrap();
        assert!(s.clone().merge(again.clone()).is_err());
        s.merge_with(again, Clash::AppleWins).unwrap();
        let udid =
            s.get(Kind::CheckIn, "Authenticate").unwrap().keys.iter().find(|k| k.key == "UDID");
        assert_eq!(udid.unwrap().ty, crate::spec::Type::String);
    }
}
