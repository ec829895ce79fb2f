//! The backup schedule set on the admin page (Settings → Backups), kept in the store
//! (`backup.schedule`): directory, time, retention, and a passphrase (sealed at rest with the
//! data key, never sent back) or an age recipient.
//!
//! Which wins: once saved on the page, this schedule replaces `[backup]` of the configuration
//! file, whose keys are only the default until then; removing it on the page goes back to
//! the file's. [`Plan`] is the schedule in effect, whichever it came from.

use super::BackupError;
use crate::config::{BackupConfig, BackupSeal, DEFAULT_KEEP, Retention};
use crate::crypto::Secret;
use crate::store::{self, Sealed, SecretField, Store, Table};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use time::OffsetDateTime;

/// `schedule` → [`Stored`]: the schedule set on the page, if any.
pub(super) const SCHEDULE: Table = store::table("backup.schedule");
const KEY: &[u8] = b"schedule";
const PASSPHRASE: SecretField = SecretField::new("backup.schedule", "passphrase");

#[derive(Clone, Serialize, Deserialize)]
struct Stored {
    directory: PathBuf,
    at: (u8, u8),
    keep: Option<u32>,
    keep_days: Option<u32>,
    /// Sealed ([`PASSPHRASE`]); `None` when the backups go to `recipient`.
    passphrase: Option<Sealed>,
    recipient: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    changed_at: OffsetDateTime,
    changed_by: String,
}

/// Where the schedule in effect comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Saved on the admin page (wins over the file).
    Page,
    /// `[backup]` of the configuration file.
    File,
}

/// What a backup in effect is sealed with.
#[derive(Clone)]
pub enum PlanSeal {
    PassphraseFile(PathBuf),
    /// The page's passphrase, opened from the store.
    Passphrase(Secret<String>),
    Recipient(String),
}

/// The schedule in effect.
#[derive(Clone)]
pub struct Plan {
    pub source: Source,
    pub directory: PathBuf,
    pub at: (u8, u8),
    pub retention: Retention,
    pub seal: PlanSeal,
    /// Who saved it on the page, and when.
    pub changed: Option<(OffsetDateTime, String)>,
}

impl Plan {
    pub(super) fn from_file(c: &BackupConfig) -> Plan {
        Plan {
            source: Source::File,
            directory: c.directory.clone(),
            at: c.at,
            retention: c.retention,
            seal: match &c.seal {
                BackupSeal::PassphraseFile(p) => PlanSeal::PassphraseFile(p.clone()),
                BackupSeal::Recipient(r) => PlanSeal::Recipient(r.clone()),
            },
            changed: None,
        }
    }
}

/// A schedule as the page sends it; the passphrase may be left out to keep the saved one.
#[derive(Clone)]
pub struct ScheduleInput {
    pub directory: String,
    /// `HH:MM`, UTC.
    pub time: String,
    pub keep: Option<u32>,
    pub keep_days: Option<u32>,
    pub passphrase: Option<Secret<String>>,
    pub recipient: Option<String>,
}

fn invalid(field: &'static str, problem: String, fix: &str) -> BackupError {
    BackupError::Schedule { field, problem, fix: fix.to_string() }
}

/// Checks `input` and turns it into what is stored (the passphrase still in clear).
fn check(input: &ScheduleInput) -> Result<(Stored, Option<Secret<String>>), BackupError> {
    let directory = PathBuf::from(input.directory.trim());
    if !directory.is_absolute() {
        return Err(invalid(
            "directory",
            format!("`{}` is not an absolute path", input.directory.trim()),
            "give the full path of a directory the adebox user may write, e.g. /var/backups/adebox",
        ));
    }
    let time = input.time.trim();
    let at = time
        .split_once(':')
        .and_then(|(h, m)| Some((h.parse::<u8>().ok()?, m.parse::<u8>().ok()?)))
        .filter(|(h, m)| *h < 24 && *m < 60 && time.len() == 5)
        .ok_or_else(|| {
            invalid("time", format!("`{time}` is not a time of day"), "write it as HH:MM in UTC")
        })?;
    let (keep, keep_days) = match (input.keep, input.keep_days) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                "keep_days",
                "is given together with keep".into(),
                "keep either a number of backups or the backups of a number of days",
            ));
        }
        (None, None) => (Some(DEFAULT_KEEP), None),
        (Some(n), None) if (1..=1000).contains(&n) => (Some(n), None),
        (None, Some(d)) if (1..=3650).contains(&d) => (None, Some(d)),
        (Some(n), None) => {
            return Err(invalid("keep", format!("is {n}"), "keep from 1 to 1000 backups"));
        }
        (None, Some(d)) => {
            return Err(invalid("keep_days", format!("is {d}"), "keep from 1 to 3650 days"));
        }
    };
    let recipient = input.recipient.as_deref().map(str::trim).filter(|r| !r.is_empty());
    let recipient = match recipient {
        Some(r) => Some(super::age::Recipient::parse(r)?.to_string()),
        None => None,
    };
    let passphrase = input.passphrase.clone().filter(|p| !p.expose().is_empty());
    if let Some(p) = &passphrase {
        if recipient.is_some() {
            return Err(invalid(
                "passphrase",
                "is given together with an age recipient".into(),
                "seal the backups either with a passphrase or to a recipient: clear one of the two",
            ));
        }
        crate::store::check_new_passphrase(p)
            .map_err(|e| invalid("passphrase", e.to_string(), "choose a longer passphrase"))?;
    }
    let stored = Stored {
        directory,
        at,
        keep,
        keep_days,
        passphrase: None,
        recipient,
        changed_at: OffsetDateTime::UNIX_EPOCH,
        changed_by: String::new(),
    };
    Ok((stored, passphrase))
}

/// Saves the page's schedule (it wins over the file's from now on); a passphrase left out
/// keeps the saved one, and one is needed unless a recipient is given.
pub(super) async fn save(
    store: &Store,
    input: &ScheduleInput,
    now: OffsetDateTime,
    by: &str,
) -> Result<(), BackupError> {
    let (mut record, passphrase) = check(input)?;
    record.changed_at = now;
    record.changed_by = by.to_string();
    let sealed = passphrase.map(|p| store.sealer().seal(PASSPHRASE, KEY, &p));
    store
        .write(move |wtx| {
            let mut t = wtx.open_table(SCHEDULE)?;
            let mut record = record.clone();
            if record.recipient.is_none() {
                let old: Option<Stored> = store::get(&t, KEY)?;
                record.passphrase = sealed.clone().or_else(|| old.and_then(|o| o.passphrase));
                if record.passphrase.is_none() {
                    return Err(invalid(
                        "passphrase",
                        "is missing".into(),
                        "give a passphrase of 12 characters or more, or an age recipient (age1…)",
                    ));
                }
            }
            store::put(&mut t, KEY, &record)?;
            Ok::<_, BackupError>(())
        })
        .await
}

/// Removes the page's schedule: the file's `[backup]`, if any, is in effect again. Whether
/// there was one.
pub(super) async fn remove(store: &Store) -> Result<bool, BackupError> {
    store
        .write(|wtx| {
            let mut t = wtx.open_table(SCHEDULE)?;
            let removed = t.remove(KEY)?.is_some();
            Ok::<_, BackupError>(removed)
        })
        .await
}

/// The page's schedule, its passphrase opened, if one is saved.
pub(super) async fn load(store: &Store) -> Result<Option<Plan>, BackupError> {
    let stored: Option<Stored> = store
        .read(|rtx| Ok::<_, BackupError>(store::get(&rtx.open_table(SCHEDULE)?, KEY)?))
        .await?;
    let Some(s) = stored else { return Ok(None) };
    let seal = match (&s.recipient, &s.passphrase) {
        (Some(r), _) => PlanSeal::Recipient(r.clone()),
        (None, Some(sealed)) => PlanSeal::Passphrase(store.sealer().open(PASSPHRASE, KEY, sealed)?),
        (None, None) => {
            return Err(invalid("passphrase", "is missing".into(), "save the schedule again"));
        }
    };
    let retention = match (s.keep, s.keep_days) {
        (_, Some(d)) => Retention::Days(d),
        (n, None) => Retention::Count(n.unwrap_or(DEFAULT_KEEP)),
    };
    Ok(Some(Plan {
        source: Source::Page,
        directory: s.directory,
        at: s.at,
        retention,
        seal,
        changed: Some((s.changed_at, s.changed_by)),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> ScheduleInput {
        ScheduleInput {
            directory: "/srv/backups".into(),
            time: "02:30".into(),
            keep: None,
            keep_days: Some(14),
            passphrase: Some(Secret::new("a long backup passphrase".into())),
            recipient: None,
        }
    }

    /// A change to a good input, and the field its refusal must name.
    type Case = (Box<dyn Fn(&mut ScheduleInput)>, &'static str);

    #[test]
    fn bad_schedules_name_the_field_and_the_fix() {
        let cases: Vec<Case> = vec![
            (Box::new(|i: &mut ScheduleInput| i.directory = "backups".into()), "directory"),
            (Box::new(|i: &mut ScheduleInput| i.time = "3:00".into()), "time"),
            (Box::new(|i: &mut ScheduleInput| i.time = "24:00".into()), "time"),
            (Box::new(|i: &mut ScheduleInput| i.keep = Some(3)), "keep_days"),
            (Box::new(|i: &mut ScheduleInput| i.keep_days = Some(0)), "keep_days"),
            (
                Box::new(|i: &mut ScheduleInput| i.passphrase = Some(Secret::new("short".into()))),
                "passphrase",
            ),
            (Box::new(|i: &mut ScheduleInput| i.recipient = Some("age1oops".into())), "recipient"),
        ];
        for (change, field) in cases {
            let mut i = input();
            change(&mut i);
            let err = check(&i).err().expect(field);
            let text = err.to_string();
            assert!(text.contains(field) && text.contains("Fix:"), "{field}: {text}");
        }
        let (s, p) = check(&input()).unwrap();
        assert_eq!((s.at, s.keep, s.keep_days), ((2, 30), None, Some(14)));
        assert!(p.is_some());
    }
}
