//! Scheduled backups (`[backup]` in the configuration file, or the schedule saved on the
//! admin page, which wins: [`super::schedule`]): once a day, at the configured
//! time (UTC), the daemon writes a backup of the whole appliance — the store with the key,
//! TLS and signing folders, sealed under the passphrase of `backup.passphrase_file` or
//! encrypted to the age recipient `backup.recipient` ([`super::age`]), exactly what
//! `adebox admin backup` writes and `adebox admin restore` reads — to
//! `backup.directory`, then removes the backups retention no longer keeps.
//!
//! A backup is written to a hidden temporary name, synced, renamed into place and the
//! directory synced: only complete files carry the backup name, so a kill at any moment
//! leaves at most a `.…partial` file, never counted as a backup and removed by the next run.
//! The last result (time, file, size, or what went wrong) is kept in the store
//! (`backup.last`), so a failure survives a restart until a backup succeeds: the status API,
//! its banner and the `backup_failed` alert read it from there.

use super::schedule::{Plan, PlanSeal, ScheduleInput};
use super::{BackupError, Sealing};
use crate::clock::Clock;
use crate::config::{BackupConfig, Retention};
use crate::crypto::Secret;
use crate::store::{self, Store, Table};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use time::{OffsetDateTime, UtcOffset};

/// `last` → [`LastBackup`]: the outcome of the last scheduled backup.
const LAST: Table = store::table("backup.last");
const LAST_KEY: &[u8] = b"last";
/// The tables of scheduled backups, created when the store opens.
pub const TABLES: &[Table] = &[LAST, super::schedule::SCHEDULE];

const PREFIX: &str = "adebox-";
const SUFFIX: &str = ".backup";

/// The outcome of the last scheduled backup.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastBackup {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub ok: bool,
    /// The backup's file name in the backup directory, when it was written.
    pub file: Option<String>,
    pub bytes: u64,
    /// Plain words: what was written, or what went wrong and the fix.
    pub message: String,
}

/// The daily backup of one appliance (cheap to clone).
#[derive(Clone)]
pub struct Scheduled {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    clock: Clock,
    data_dir: PathBuf,
    /// `[backup]` of the configuration file: in effect unless the page saved a schedule.
    config: Option<BackupConfig>,
    /// Wakes the schedule when the page changes it.
    changed: tokio::sync::Notify,
    /// The newest complete backup in the directory at start, shown until a run is recorded.
    found: Option<LastBackup>,
    /// One backup at a time (the schedule and a manual run).
    running: tokio::sync::Mutex<()>,
}

impl Scheduled {
    /// The schedule of `config` (the file's `[backup]`, if any) until the page saves one; the
    /// last backup is the recorded one, or the newest complete one in the file's directory
    /// until a run is recorded.
    pub fn new(
        store: Store,
        clock: Clock,
        data_dir: PathBuf,
        config: impl Into<Option<BackupConfig>>,
    ) -> Scheduled {
        let config = config.into();
        let last = config.as_ref().and_then(|c| {
            newest(&c.directory).map(|(name, at, bytes)| LastBackup {
                at,
                ok: true,
                message: format!("{name} in {}", c.directory.display()),
                file: Some(name),
                bytes,
            })
        });
        let inner = Inner {
            store,
            clock,
            data_dir,
            config,
            changed: tokio::sync::Notify::new(),
            found: last,
            running: tokio::sync::Mutex::new(()),
        };
        Scheduled { inner: Arc::new(inner) }
    }

    /// `[backup]` of the configuration file, if any.
    pub fn file_config(&self) -> Option<&BackupConfig> {
        self.inner.config.as_ref()
    }

    /// The schedule in effect: the page's, else the file's, else none.
    pub async fn plan(&self) -> Result<Option<Plan>, BackupError> {
        let page = super::schedule::load(&self.inner.store).await?;
        Ok(page.or_else(|| self.inner.config.as_ref().map(Plan::from_file)))
    }

    /// Saves the page's schedule (it wins over the file's) and reschedules.
    pub async fn set(&self, input: &ScheduleInput, by: &str) -> Result<(), BackupError> {
        super::schedule::save(&self.inner.store, input, self.inner.clock.now(), by).await?;
        self.inner.changed.notify_one();
        Ok(())
    }

    /// Removes the page's schedule (the file's is in effect again); whether there was one.
    pub async fn clear(&self) -> Result<bool, BackupError> {
        let removed = super::schedule::remove(&self.inner.store).await?;
        self.inner.changed.notify_one();
        Ok(removed)
    }

    /// The last backup's outcome (recorded in the store; survives a restart).
    pub async fn last(&self) -> Result<Option<LastBackup>, BackupError> {
        let stored: Option<LastBackup> = self
            .inner
            .store
            .read(|rtx| Ok::<_, BackupError>(store::get(&rtx.open_table(LAST)?, LAST_KEY)?))
            .await?;
        Ok(stored.or_else(|| self.inner.found.clone()))
    }

    /// Writes a backup now and prunes; the result is also kept as [`Scheduled::last`].
    pub async fn run_now(&self) -> LastBackup {
        let _one = self.inner.running.lock().await;
        let now = self.inner.clock.now();
        let plan = self.plan().await;
        let directory = match &plan {
            Ok(Some(p)) => p.directory.display().to_string(),
            _ => String::new(),
        };
        let (store, dir) = (self.inner.store.clone(), self.inner.data_dir.clone());
        let done = match plan {
            Ok(Some(plan)) => tokio::task::spawn_blocking(move || once(&store, &dir, &plan, now))
                .await
                .unwrap_or_else(|e| {
                    Err(BackupError::Directory {
                        path: PathBuf::new(),
                        detail: format!("the backup task ended: {e}"),
                    })
                }),
            Ok(None) => Err(BackupError::Schedule {
                field: "directory",
                problem: "is not set: no backup is scheduled".into(),
                fix:
                    "set the schedule on Settings → Backups, or [backup] in the configuration file"
                        .into(),
            }),
            Err(e) => Err(e),
        };
        let last = match done {
            Ok((name, bytes, kept)) => {
                log::info!(file = name.as_str(), bytes = bytes, kept = kept; "scheduled backup written");
                LastBackup {
                    at: now,
                    ok: true,
                    message: format!("{name} ({bytes} bytes) in {directory}; {kept} backups kept"),
                    file: Some(name),
                    bytes,
                }
            }
            Err(e) => {
                log::error!("scheduled backup failed: {e}");
                LastBackup { at: now, ok: false, file: None, bytes: 0, message: e.to_string() }
            }
        };
        let record = last.clone();
        let saved = self
            .inner
            .store
            .write(move |wtx| {
                store::put(&mut wtx.open_table(LAST)?, LAST_KEY, &record)?;
                Ok::<_, BackupError>(())
            })
            .await;
        if let Err(e) = saved {
            log::error!("the scheduled backup's outcome could not be recorded: {e}");
        }
        last
    }

    /// Runs the backup every day at the time in effect, until the task is stopped; a change
    /// on the page reschedules at once.
    pub async fn run(self) {
        loop {
            let at = match self.plan().await {
                Ok(plan) => plan.map(|p| p.at),
                Err(e) => {
                    log::error!("the backup schedule cannot be read: {e}");
                    None
                }
            };
            let Some(at) = at else {
                self.inner.changed.notified().await;
                continue;
            };
            let wait = until_next(self.inner.clock.now(), at);
            tokio::select! {
                _ = tokio::time::sleep(wait) => {
                    self.run_now().await;
                }
                _ = self.inner.changed.notified() => {}
            }
        }
    }
}

/// Time from `now` to the next `at` (UTC hours, minutes), at least a minute ahead.
pub fn until_next(now: OffsetDateTime, at: (u8, u8)) -> std::time::Duration {
    let now = now.to_offset(UtcOffset::UTC);
    let today =
        now.replace_time(time::Time::from_hms(at.0, at.1, 0).unwrap_or(time::Time::MIDNIGHT));
    let mut next = today;
    while next - now < time::Duration::minutes(1) {
        next += time::Duration::days(1);
    }
    (next - now).try_into().unwrap_or_default()
}

/// The time of the next run at `at` (UTC hours, minutes) after `now`.
pub fn next_at(now: OffsetDateTime, at: (u8, u8)) -> OffsetDateTime {
    now + until_next(now, at).try_into().unwrap_or(time::Duration::ZERO)
}

/// The backup's file name for `at`: sorts by time.
pub fn file_name(at: OffsetDateTime) -> String {
    let t = at.to_offset(UtcOffset::UTC);
    format!(
        "{PREFIX}{:04}{:02}{:02}T{:02}{:02}{:02}Z{SUFFIX}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn time_of(name: &str) -> Option<OffsetDateTime> {
    let stamp = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    Some(time::PrimitiveDateTime::parse(stamp, &format).ok()?.assume_utc())
}

/// One backup: the file written, its size and how many backups remain after pruning.
fn once(
    store: &Store,
    data_dir: &Path,
    plan: &Plan,
    now: OffsetDateTime,
) -> Result<(String, u64, usize), BackupError> {
    let dir = &plan.directory;
    let io = |path: &Path, e: std::io::Error| BackupError::Directory {
        path: path.to_path_buf(),
        detail: e.to_string(),
    };
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| io(dir, e))?;
    }
    remove_partials(dir);
    let sealing = sealing(&plan.seal)?;
    let name = file_name(now);
    let dest = dir.join(&name);
    super::write_sealed_from(store, data_dir, &dest, &sealing)?;
    std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(|e| io(dir, e))?;
    let bytes = std::fs::metadata(&dest).map_err(|e| io(&dest, e))?.len();
    let kept = prune(dir, plan.retention, now).map_err(|e| io(dir, e))?;
    Ok((name, bytes, kept))
}

/// The complete backups in `dir`, oldest first: name, time, size.
pub fn list(dir: &Path) -> Vec<(String, OffsetDateTime, u64)> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut found: Vec<_> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let at = time_of(&name)?;
            let meta = e.metadata().ok().filter(|m| m.is_file())?;
            Some((name, at, meta.len()))
        })
        .collect();
    found.sort_by_key(|(_, at, _)| *at);
    found
}

fn newest(dir: &Path) -> Option<(String, OffsetDateTime, u64)> {
    list(dir).pop()
}

/// Leftovers of a backup that was killed before its rename.
fn remove_partials(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        // `.<name>.partial`, and the clear copy of an age backup (`.<name>.inner.partial`)
        // with its own `.partial` (`..<name>.inner.partial.partial`).
        let hidden = name.starts_with('.') && name.trim_start_matches('.').starts_with(PREFIX);
        if hidden && name.ends_with(".partial") {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Removes the backups `retention` no longer keeps (never the newest); how many remain.
pub fn prune(dir: &Path, retention: Retention, now: OffsetDateTime) -> std::io::Result<usize> {
    let all = list(dir);
    let total = all.len();
    let drop: Vec<&(String, OffsetDateTime, u64)> = match retention {
        Retention::Count(n) => all.iter().take(total.saturating_sub(n.max(1) as usize)).collect(),
        Retention::Days(d) => {
            let cutoff = now - time::Duration::days(i64::from(d));
            all.iter().take(total.saturating_sub(1)).filter(|(_, at, _)| *at < cutoff).collect()
        }
    };
    for (name, _, _) in &drop {
        std::fs::remove_file(dir.join(name))?;
    }
    Ok(total - drop.len())
}

/// What the schedule in effect seals the backups with.
fn sealing(seal: &PlanSeal) -> Result<Sealing, BackupError> {
    Ok(match seal {
        PlanSeal::PassphraseFile(file) => Sealing::Passphrase(read_passphrase(file)?),
        PlanSeal::Passphrase(p) => Sealing::Passphrase(p.clone()),
        PlanSeal::Recipient(r) => Sealing::Recipient(super::age::Recipient::parse(r)?),
    })
}

/// The first line of the passphrase file, refused when other users may read it.
fn read_passphrase(path: &Path) -> Result<Secret<String>, BackupError> {
    let fail = |detail: String| BackupError::Passphrase { path: path.to_path_buf(), detail };
    crate::files::refuse_if_others_read(path).map_err(fail)?;
    let text = Secret::new(std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?);
    let first = text.expose().lines().next().unwrap_or("").to_string();
    let passphrase = Secret::new(first);
    crate::store::check_new_passphrase(&passphrase).map_err(|e| fail(e.to_string()))?;
    Ok(passphrase)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> OffsetDateTime {
        OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).unwrap()
    }

    /// The last backup as `backup.last` kept it while it was also the API's type reads back
    /// and is re-written byte for byte.
    #[test]
    fn the_stored_last_backup_keeps_its_bytes() {
        let stored = br#"{"at":"2026-12-07T03:00:00Z","ok":false,"file":null,"bytes":0,"message":"the backup directory is full"}"#;
        let last: LastBackup = store::decode("backup.last", stored).unwrap();
        assert_eq!((last.at, last.ok), (at("2026-12-07T03:00:00Z"), false));
        assert_eq!(store::encode(&last), stored.to_vec());
    }

    #[test]
    fn the_next_run_is_today_or_tomorrow_at_the_time() {
        let now = at("2026-12-07T02:00:00Z");
        assert_eq!(until_next(now, (3, 0)).as_secs(), 3600);
        assert_eq!(until_next(now, (1, 0)).as_secs(), 23 * 3600);
        assert_eq!(until_next(now, (2, 0)).as_secs(), 24 * 3600, "not twice in a minute");
    }

    #[test]
    fn names_sort_by_time_and_read_back() {
        let t = at("2026-12-07T03:04:05Z");
        assert_eq!(file_name(t), "adebox-20261207T030405Z.backup");
        assert_eq!(time_of(&file_name(t)), Some(t));
        assert_eq!(time_of("adebox-notatime.backup"), None);
    }

    #[test]
    fn retention_keeps_a_count_or_days_and_never_counts_partial_files() {
        let dir = tempfile::tempdir().unwrap();
        let start = at("2026-12-01T03:00:00Z");
        for day in 0..6 {
            let name = file_name(start + time::Duration::days(day));
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        // What a kill during a backup leaves behind, and a file that is not ours.
        let partial =
            dir.path().join(format!(".{}.partial", file_name(at("2026-12-07T03:00:00Z"))));
        std::fs::write(&partial, b"half").unwrap();
        std::fs::write(dir.path().join("notes.txt"), b"site notes").unwrap();
        assert_eq!(list(dir.path()).len(), 6, "the partial file is no backup");

        let now = at("2026-12-06T04:00:00Z");
        assert_eq!(prune(dir.path(), Retention::Days(2), now).unwrap(), 2);
        let names: Vec<String> = list(dir.path()).into_iter().map(|(n, _, _)| n).collect();
        assert_eq!(names, ["adebox-20261205T030000Z.backup", "adebox-20261206T030000Z.backup"]);
        assert_eq!(prune(dir.path(), Retention::Count(1), now).unwrap(), 1);
        assert_eq!(
            prune(dir.path(), Retention::Days(1), now + time::Duration::days(30)).unwrap(),
            1,
            "the newest always stays"
        );
        remove_partials(dir.path());
        assert!(!partial.exists());
        assert!(dir.path().join("notes.txt").exists(), "other files are left alone");
    }

    #[test]
    fn a_passphrase_file_others_can_read_is_refused_naming_the_fix() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pass");
        std::fs::write(&file, "correct horse\nignored\n").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = read_passphrase(&file).unwrap_err().to_string();
        assert!(err.contains("chmod 600"), "{err}");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_passphrase(&file).unwrap().expose(), "correct horse");
    }
}
