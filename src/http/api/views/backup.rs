//! Views of the scheduled backups (`/api/v1/settings/backup`, `/api/v1/status`): where the
//! schedule comes from and how the last backup went.

use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;

/// The outcome of the last scheduled backup.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
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

impl From<&crate::backup::scheduled::LastBackup> for LastBackup {
    fn from(r: &crate::backup::scheduled::LastBackup) -> LastBackup {
        LastBackup {
            at: r.at,
            ok: r.ok,
            file: r.file.clone(),
            bytes: r.bytes,
            message: r.message.clone(),
        }
    }
}

/// Where the schedule in effect comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Saved on the admin page (wins over the file).
    Page,
    /// `[backup]` of the configuration file.
    File,
}

impl From<crate::backup::schedule::Source> for Source {
    fn from(s: crate::backup::schedule::Source) -> Source {
        use crate::backup::schedule::Source as S;
        match s {
            S::Page => Source::Page,
            S::File => Source::File,
        }
    }
}
