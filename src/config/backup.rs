//! The `[backup]` section of the configuration file: a daily backup of the whole appliance to
//! a directory, sealed under a passphrase read from a file or encrypted to an age recipient,
//! and how many are kept.

use super::ConfigError;
use super::apple::Bad;
use serde::Deserialize;
use std::path::PathBuf;

/// Default of `backup.keep`.
pub const DEFAULT_KEEP: u32 = 7;

/// `[backup]`: off unless `directory` is set.
#[derive(Clone, Debug, PartialEq)]
pub struct BackupConfig {
    /// Where the backups are written (created if missing, mode 0700).
    pub directory: PathBuf,
    /// What the backups are sealed with.
    pub seal: BackupSeal,
    /// The time of day (UTC) the backup runs: hours and minutes.
    pub at: (u8, u8),
    pub retention: Retention,
}

/// `backup.passphrase_file` or `backup.recipient` (one of the two).
#[derive(Clone, Debug, PartialEq)]
pub enum BackupSeal {
    /// A file whose first line is the passphrase the backups are sealed under.
    PassphraseFile(PathBuf),
    /// An age X25519 recipient (`age1…`, checked) the backups are encrypted to.
    Recipient(String),
}

/// Which backups stay: the newest `Count`, or those younger than `Days` (the newest one
/// always stays).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retention {
    Count(u32),
    Days(u32),
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBackup {
    directory: Option<String>,
    passphrase_file: Option<String>,
    recipient: Option<String>,
    time: Option<String>,
    keep: Option<i64>,
    keep_days: Option<i64>,
}

impl BackupConfig {
    pub(super) fn to_toml(&self, quote: &dyn Fn(&str) -> String) -> String {
        let seal = match &self.seal {
            BackupSeal::PassphraseFile(p) => {
                format!("passphrase_file = {}", quote(&p.display().to_string()))
            }
            BackupSeal::Recipient(r) => format!("recipient = {}", quote(r)),
        };
        let mut out = format!(
            "\n[backup]\ndirectory = {}\n{seal}\ntime = \"{:02}:{:02}\"\n",
            quote(&self.directory.display().to_string()),
            self.at.0,
            self.at.1
        );
        out += &match self.retention {
            Retention::Count(n) => format!("keep = {n}\n"),
            Retention::Days(d) => format!("keep_days = {d}\n"),
        };
        out
    }
}

pub(super) fn parse_backup(
    raw: RawBackup,
    bad: &Bad<'_>,
) -> Result<Option<BackupConfig>, ConfigError> {
    let absolute = |key, value: String| {
        let path = PathBuf::from(&value);
        if path.is_absolute() {
            Ok(path)
        } else {
            Err(bad(key, format!("is `{value}`, a relative path"), "use an absolute path"))
        }
    };
    let directory = raw.directory.filter(|d| !d.is_empty());
    let Some(directory) = directory else {
        let set = raw.passphrase_file.is_some()
            || raw.recipient.is_some()
            || raw.time.is_some()
            || raw.keep.is_some()
            || raw.keep_days.is_some();
        if set {
            return Err(bad(
                "backup.directory",
                "is missing while other [backup] keys are set".into(),
                "set `directory` to where the daily backups go, or remove the [backup] keys",
            ));
        }
        return Ok(None);
    };
    let directory = absolute("backup.directory", directory)?;
    let seal = match (
        raw.passphrase_file.filter(|p| !p.is_empty()),
        raw.recipient.filter(|r| !r.trim().is_empty()),
    ) {
        (None, None) => {
            return Err(bad(
                "backup.passphrase_file",
                "is missing while backup.directory is set (and so is backup.recipient)".into(),
                "name a file (mode 0600, readable by the adebox user) whose first line is the passphrase the backups are sealed under, or set `recipient` to an age public key (`age1…`)",
            ));
        }
        (Some(_), Some(_)) => {
            return Err(bad(
                "backup.recipient",
                "is set together with backup.passphrase_file".into(),
                "seal the backups either with a passphrase or to an age recipient: remove one of the two",
            ));
        }
        (Some(file), None) => BackupSeal::PassphraseFile(absolute("backup.passphrase_file", file)?),
        (None, Some(r)) => {
            let r = r.trim().to_string();
            if <age::x25519::Recipient as std::str::FromStr>::from_str(&r).is_err() {
                let shown: String = r.chars().take(24).collect();
                return Err(bad(
                    "backup.recipient",
                    format!("is `{shown}`, not an age recipient"),
                    "give the public key `age-keygen` printed (one line beginning with `age1`), never the identity, which stays off the appliance",
                ));
            }
            BackupSeal::Recipient(r)
        }
    };
    let time = raw.time.unwrap_or_else(|| "03:00".into());
    let at = time
        .split_once(':')
        .and_then(|(h, m)| Some((h.parse::<u8>().ok()?, m.parse::<u8>().ok()?)))
        .filter(|(h, m)| *h < 24 && *m < 60 && time.len() == 5)
        .ok_or_else(|| {
            bad(
                "backup.time",
                format!("is `{time}`"),
                "write the time of day in UTC as \"HH:MM\", e.g. \"03:00\"",
            )
        })?;
    let retention = match (raw.keep, raw.keep_days) {
        (Some(_), Some(_)) => {
            return Err(bad(
                "backup.keep_days",
                "is set together with backup.keep".into(),
                "keep either a number of backups (`keep`) or the backups of a number of days (`keep_days`)",
            ));
        }
        (None, None) => Retention::Count(DEFAULT_KEEP),
        (Some(n), None) if (1..=1000).contains(&n) => Retention::Count(n as u32),
        (None, Some(d)) if (1..=3650).contains(&d) => Retention::Days(d as u32),
        (Some(n), None) => {
            return Err(bad("backup.keep", format!("is {n}"), "keep from 1 to 1000 backups"));
        }
        (None, Some(d)) => {
            return Err(bad("backup.keep_days", format!("is {d}"), "keep from 1 to 3650 days"));
        }
    };
    Ok(Some(BackupConfig { directory, seal, at, retention }))
}

#[cfg(test)]
mod tests {
    use super::super::Config;
    use super::*;
    use std::path::Path;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("/etc/adebox/adebox.toml"))
    }

    #[test]
    fn backups_are_off_by_default_and_every_key_is_read() {
        assert_eq!(parse("").unwrap().backup, None);
        let c = parse(
            "[backup]\ndirectory = \"/srv/backups\"\npassphrase_file = \"/etc/adebox/backup.pass\"\ntime = \"01:30\"\nkeep_days = 30\n",
        )
        .unwrap();
        let b = c.backup.clone().unwrap();
        assert_eq!(b.directory, PathBuf::from("/srv/backups"));
        assert_eq!((b.at, b.retention), ((1, 30), Retention::Days(30)));
        assert_eq!(parse(&c.to_toml()).unwrap().backup, c.backup);
        let c = parse("[backup]\ndirectory = \"/b\"\npassphrase_file = \"/p\"\n").unwrap();
        let b = c.backup.unwrap();
        assert_eq!((b.at, b.retention), ((3, 0), Retention::Count(DEFAULT_KEEP)));
        assert_eq!(b.seal, BackupSeal::PassphraseFile("/p".into()));
        let key = age::x25519::Identity::generate().to_public().to_string();
        let c = parse(&format!("[backup]\ndirectory = \"/b\"\nrecipient = \"{key}\"\n")).unwrap();
        assert_eq!(c.backup.as_ref().unwrap().seal, BackupSeal::Recipient(key));
        assert_eq!(parse(&c.to_toml()).unwrap().backup, c.backup);
    }

    #[test]
    fn bad_backup_settings_name_the_key_and_the_fix() {
        let base = "[backup]\ndirectory = \"/b\"\npassphrase_file = \"/p\"\n";
        for (text, key) in [
            ("[backup]\nkeep = 3\n".to_string(), "backup.directory"),
            ("[backup]\ndirectory = \"/b\"\n".to_string(), "backup.passphrase_file"),
            (
                "[backup]\ndirectory = \"b\"\npassphrase_file = \"/p\"\n".to_string(),
                "backup.directory",
            ),
            (format!("{base}time = \"25:00\"\n"), "backup.time"),
            (format!("{base}time = \"3:00\"\n"), "backup.time"),
            (format!("{base}keep = 0\n"), "backup.keep"),
            (format!("{base}keep = 2\nkeep_days = 3\n"), "backup.keep_days"),
            (format!("{base}recipient = \"age1zzz\"\n"), "backup.recipient"),
            (
                "[backup]\ndirectory = \"/b\"\nrecipient = \"AGE-SECRET-KEY-1ABC\"\n".to_string(),
                "backup.recipient",
            ),
        ] {
            let err = parse(&text).unwrap_err().to_string();
            assert!(err.contains(&format!("`{key}`")) && err.contains("Fix:"), "{text}: {err}");
        }
    }
}
