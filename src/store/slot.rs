//! The open database behind a store, and its replacement after a failed write (redb refuses
//! every later transaction of that handle until the file is opened again).

use super::{StoreError, open_database};
use redb::{Database, ReadableDatabase};
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// How long a reopen waits for transactions on the failed handle to finish.
const REOPEN_WAIT: Duration = Duration::from_secs(10);

/// The database of one store file; `None` while a reopen has not succeeded yet.
pub(super) struct DbSlot {
    db: RwLock<Option<Arc<Database>>>,
    pub(super) path: PathBuf,
}

impl DbSlot {
    pub(super) fn new(db: Database, path: PathBuf) -> DbSlot {
        DbSlot { db: RwLock::new(Some(Arc::new(db))), path }
    }

    /// Begins a transaction with `begin`; when the handle refuses because an earlier write
    /// failed (redb's "previous I/O error"), opens the file again and begins once more.
    pub(super) fn begin<X>(
        &self,
        begin: impl Fn(&Database) -> Result<X, redb::TransactionError>,
    ) -> Result<X, StoreError> {
        let db = self.database()?;
        match begin(&db) {
            Err(redb::TransactionError::Storage(redb::StorageError::PreviousIo)) => {
                drop(db);
                let db = self.reopen()?;
                Ok(begin(&db)?)
            }
            other => Ok(other?),
        }
    }

    /// The open database, reopening it when an earlier reopen did not succeed.
    fn database(&self) -> Result<Arc<Database>, StoreError> {
        let current = self.db.read().unwrap_or_else(|e| e.into_inner()).clone();
        match current {
            Some(db) => Ok(db),
            None => self.reopen(),
        }
    }

    /// Closes the failed handle once no transaction uses it (they fail fast on it) and opens
    /// the file again; redb's quick repair brings back the last commit.
    fn reopen(&self) -> Result<Arc<Database>, StoreError> {
        let mut slot = self.db.write().unwrap_or_else(|e| e.into_inner());
        if let Some(db) = slot.as_ref()
            && db.begin_read().is_ok()
        {
            return Ok(db.clone()); // another caller reopened it meanwhile
        }
        if let Some(mut failed) = slot.take() {
            let deadline = Instant::now() + REOPEN_WAIT;
            loop {
                match Arc::try_unwrap(failed) {
                    Ok(db) => break drop(db),
                    Err(still_used) if Instant::now() < deadline => {
                        failed = still_used;
                        std::thread::sleep(Duration::from_millis(10));
                    }
                    Err(still_used) => {
                        *slot = Some(still_used);
                        return Err(StoreError::Redb(
                            "the store failed a write and is still in use; it is reopened at the next try".into(),
                        ));
                    }
                }
            }
        }
        let db = Arc::new(open_database(&self.path).map_err(|e| match e {
            StoreError::Open { detail, .. } if detail.contains("os error 28") => {
                StoreError::DiskFull { detail }
            }
            other => other,
        })?);
        log::warn!(path = self.path.display().to_string().as_str(); "the store was opened again after a failed write");
        *slot = Some(db.clone());
        Ok(db)
    }
}
