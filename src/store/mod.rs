//! The one redb file (`adebox.redb` in the data directory): opening, the schema version and
//! migrations, running transactions off the async threads, and consistent backups.
//!
//! Owns the table `store.meta`. Every other table belongs to one domain module, is named
//! `module.what`, and — a store-wide rule — maps byte keys to byte values
//! (`TableDefinition<&[u8], &[u8]>`, made with [`table`]): keys are encoded by their owner
//! (big-endian integers sort), values are serde JSON of the owner's stored-record types. The
//! uniform shape lets [`backup`] copy every table without knowing its owner.
//!
//! Every table exists from the moment the store is open: [`Store::open`] takes the tables to
//! create and, in the one write transaction that also checks and migrates the schema, creates
//! those the file lacks (existing ones, and their records, are left as they are). Readers
//! therefore open any table with `?`; a missing table is a defect, not "empty". The store sits
//! below the domain modules and cannot name their tables, so each domain module owns its
//! definitions and exposes them as one `TABLES` list, and the edge that opens the store hands
//! in the whole product's list (`daemon::TABLES`, whose tests fail on a table defined in
//! `src/` but missing from it). The list is passed rather than collected at link time
//! (`linkme`, `inventory`): a linker may drop a registration it sees no reference to, and
//! that would show only in the shipped binary, never in the unit tests.
//!
//! Creating tables is additive and idempotent, so it is no versioned migration: it runs at
//! every open, and a file an older adebox made (some tables never written) gains the missing
//! tables without a schema bump, staying readable by that older adebox. Read-only opens —
//! the version check before a writable open, `adebox admin backup` beside a running daemon,
//! the check of a backup before a restore — read `store.meta` or copy whatever tables the
//! file holds and never a domain table, so they need no list; a restored file gains its
//! missing tables when the daemon next opens it.
//!
//! Secret values are sealed with the data key kept beside the store ([`seal`]); opening the
//! store loads that key (creating it for a store that has sealed nothing yet) and refuses a
//! missing or foreign one.
//!
//! One write transaction per logical change (../shared/design.md rule 4): callers hand
//! [`Store::write`] a closure that does all of the change. Group commit ([`writer`]): the
//! store's one writer thread runs the changes waiting at each moment in one redb transaction
//! and commits them durably once, answering every caller only after that commit; a change
//! that fails aborts the group and the others run again without it, so each stays
//! all-or-nothing. Closures are therefore `Clone` and act only through their transaction
//! (`docs/store.md` says why replay was chosen over a read phase). Every commit uses redb's
//! quick-repair mode, so recovery after a crash is immediate and a torn commit rolls back to
//! the previous one.
//!
//! A full disk: the write that fails returns [`StoreError::DiskFull`] (the change is not
//! saved; the file keeps the last commit). redb then fails every later transaction of that
//! handle until the file is opened again (redb 4: "previous I/O error"), so the store reopens
//! it by itself at the next transaction, once nothing uses the failed handle: when space
//! returns, adebox carries on without a restart.

pub mod backup;
mod backup_passphrase;
mod codec;
mod migrate;
pub mod seal;
mod slot;
mod writer;

pub use backup::{BackupFiles, Restored, backup, is_protected, restore};
pub use backup_passphrase::{MIN_PASSPHRASE_CHARS, check_new_passphrase};
pub use codec::{decode, encode, get, put};
pub(crate) use migrate::schema_3_user_terms;
#[cfg(test)]
pub(crate) use migrate::set_schema_version_in;
#[cfg(test)]
pub(crate) use migrate::{SCHEMA_4_TOKEN_INDEX, SCHEMA_5_ACME_ORDERS};
pub use seal::{Sealed, Sealer, SecretField};
pub use writer::WriteStats;

use redb::{Database, ReadTransaction, ReadableDatabase, TableDefinition, WriteTransaction};
use slot::DbSlot;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use writer::{Counters, Writer};

/// File name of the store inside the data directory.
pub const FILE_NAME: &str = "adebox.redb";

/// A table of the store: byte keys to byte values (see the module docs).
pub type Table = TableDefinition<'static, &'static [u8], &'static [u8]>;

/// A table open for writing inside a [`WriteTransaction`].
pub type WriteTable<'txn> = redb::Table<'txn, &'static [u8], &'static [u8]>;

/// Declares a table; `name` is `module.what`.
pub const fn table(name: &'static str) -> Table {
    TableDefinition::new(name)
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the store {path} was written by a newer adebox (schema version {found}, this version \
         understands up to {supported}); install that newer adebox again, or restore a backup \
         made by this version. Nothing was changed."
    )]
    NewerSchema { path: PathBuf, found: u32, supported: u32 },
    #[error(
        "the store {path} is damaged or is not an adebox database ({detail}). Restore it from a \
         backup (`adebox admin backup` makes one), or move the file away to start empty. \
         Nothing was changed."
    )]
    Corrupt { path: PathBuf, detail: String },
    #[error(
        "the store {path} is in use by another process (is the adebox daemon already running? \
         `systemctl status adebox`)"
    )]
    InUse { path: PathBuf },
    #[error("cannot open the store {path}: {detail}")]
    Open { path: PathBuf, detail: String },
    #[error(
        "the disk holding adebox's data directory (config key `data_dir`) is full ({detail}); \
         the change was not saved. Free space on that file system or enlarge it: adebox \
         carries on by itself once there is room, nothing saved before is lost"
    )]
    DiskFull { detail: String },
    /// redb refuses every operation on a handle after a write failed ("previous I/O error")
    /// until the file is opened again; a change caught in between lands here. The failure
    /// that started it was reported by its own write (most often [`StoreError::DiskFull`]).
    #[error(
        "the change was not saved: an earlier write to the store failed, most often because \
         the disk holding adebox's data directory (config key `data_dir`) is full. Free space \
         on that file system if so: adebox opens the store again by itself, nothing saved \
         before is lost"
    )]
    EarlierWriteFailed,
    #[error("store error: {0}")]
    Redb(String),
    #[error("a stored record of {table} could not be decoded: {detail}")]
    Decode { table: String, detail: String },
    #[error("the store task stopped unexpectedly")]
    TaskFailed,
    /// A change refused because newer work took over the record it was based on.
    #[error("superseded by newer work")]
    Superseded,
    #[error(transparent)]
    Key(#[from] crate::keys::KeyError),
    #[error(
        "the data key {path} is missing, but the store beside it holds secrets sealed with it \
         (server tokens, the push certificate). Put back the key folder from the backup made \
         with this store (`adebox admin restore FILE` restores both); without it those secrets \
         are lost. Nothing was changed."
    )]
    DataKeyMissing { path: PathBuf },
    #[error(
        "the data key {key} did not seal the secrets of the store {store}: the store and the \
         key come from different appliances or backups. Put back the key folder from the \
         backup made with this store (`adebox admin restore FILE` restores both). Nothing was \
         changed."
    )]
    DataKeyMismatch { key: PathBuf, store: PathBuf },
    #[error(
        "a secret stored in {table} (field {field}) cannot be opened: {reason}. The data key \
         (keys/data.key in the data directory) must be the one saved with this store: restore \
         both from one backup"
    )]
    Unseal { table: &'static str, field: &'static str, reason: &'static str },
    #[error(
        "wrong passphrase for the backup {path}: the keys it carries did not open. Nothing was \
         changed; try again with the passphrase given when the backup was made"
    )]
    WrongPassphrase { path: PathBuf },
    /// A passphrase missing, too weak, or a backup whose key derivation cannot be read.
    #[error("{0}")]
    Passphrase(String),
}

macro_rules! from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> Self {
                StoreError::from_redb_error(&e)
            }
        }
    )*};
}

impl StoreError {
    /// A redb error in words; a full file system becomes [`StoreError::DiskFull`]. redb's
    /// error types wrap the `io::Error` at different depths, so it is found by its source
    /// chain and, for wrappers that keep only its text, by the OS error (ENOSPC, EDQUOT).
    fn from_redb_error(e: &(dyn std::error::Error + 'static)) -> StoreError {
        let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
        while let Some(err) = cur {
            if let Some(io) = err.downcast_ref::<std::io::Error>()
                && is_disk_full(io)
            {
                return StoreError::DiskFull { detail: io.to_string() };
            }
            cur = err.source();
        }
        let text = e.to_string();
        // redb's wrappers (TableError, CommitError, …) keep the StorageError without exposing
        // it as a source; its words are stable across redb 4.
        if text.contains("Previous I/O error") {
            return StoreError::EarlierWriteFailed;
        }
        if text.contains("os error 28") || text.contains("os error 122") {
            return StoreError::DiskFull { detail: text };
        }
        StoreError::Redb(text)
    }

    /// The same failure again, for each caller of a group that one failed commit answers.
    pub(crate) fn duplicate(&self) -> StoreError {
        match self {
            StoreError::DiskFull { detail } => StoreError::DiskFull { detail: detail.clone() },
            StoreError::EarlierWriteFailed => StoreError::EarlierWriteFailed,
            StoreError::TaskFailed => StoreError::TaskFailed,
            other => StoreError::Redb(other.to_string()),
        }
    }
}

fn is_disk_full(io: &std::io::Error) -> bool {
    matches!(io.kind(), std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded)
}
from_redb!(
    redb::Error,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError,
    redb::CompactionError
);

/// Lets a domain error enum with a `Store(StoreError)` variant take redb errors with `?`
/// inside store closures: `store::redb_errors_into!(AdminError);`.
macro_rules! redb_errors_into {
    ($target:ty) => {
        $crate::store::redb_errors_into!(@each $target; redb::Error, redb::TransactionError,
            redb::TableError, redb::StorageError, redb::CommitError);
    };
    (@each $target:ty; $($t:ty),*) => {$(
        impl From<$t> for $target {
            fn from(e: $t) -> Self {
                <$target>::from($crate::store::StoreError::from(e))
            }
        }
    )*};
}
pub(crate) use redb_errors_into;

/// The store handle: cheap to clone, shared by every domain service. The database itself
/// is replaced when a failed write made redb refuse further work (see the module docs).
/// Writes go to the store's one writer thread, which commits them in groups ([`writer`]).
#[derive(Clone)]
pub struct Store {
    writer: Arc<Writer>,
    slot: Arc<DbSlot>,
    counters: Arc<Counters>,
    sealer: Sealer,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.slot.path).finish()
    }
}

impl Store {
    /// Opens (or creates) `<data_dir>/adebox.redb`, refuses a newer or damaged file without
    /// changing it, and in one transaction brings an older schema up to date and creates the
    /// tables of `tables` the file lacks (see the module docs). Blocking.
    pub fn open(data_dir: &Path, tables: &[&[Table]]) -> Result<Store, StoreError> {
        let path = data_dir.join(FILE_NAME);
        let db = open_database(&path)?;
        let sealer = migrate::data_key(data_dir, &db, &path)?;
        migrate::bring_up_to_date(&db, &path, tables, &sealer)?;
        let slot = Arc::new(DbSlot::new(db, path));
        let counters = Arc::new(Counters::default());
        let writer = Arc::new(Writer::start(slot.clone(), counters.clone())?);
        Ok(Store { writer, slot, counters, sealer })
    }

    pub fn path(&self) -> &Path {
        &self.slot.path
    }

    /// The durable commits made and the changes they carried since the store was opened.
    pub fn write_stats(&self) -> WriteStats {
        self.counters.snapshot()
    }

    /// The appliance's live metrics, which every module holding the store records into.
    pub fn metrics(&self) -> &crate::metrics::Metrics {
        &self.counters.metrics
    }

    /// Seals and opens the secret values of records with the data key ([`seal`]).
    pub fn sealer(&self) -> &Sealer {
        &self.sealer
    }

    /// How many handles share the database (shutdown waits for the others to go, so the
    /// file is closed — and unlocked — when it returns).
    pub fn handles(&self) -> usize {
        Arc::strong_count(&self.writer)
    }

    /// Runs `f` in a read transaction (a consistent snapshot) on the blocking pool.
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&ReadTransaction) -> Result<T, E> + Send + 'static,
    {
        let store = self.clone();
        tokio::task::spawn_blocking(move || store.read_blocking(f))
            .await
            .map_err(|_| E::from(StoreError::TaskFailed))?
    }

    /// Runs `f` in one write transaction; commits when `f` returns `Ok`, rolls everything
    /// back when it returns `Err`. The change shares a durable commit with the others waiting
    /// at that moment ([`writer`]) and is answered only once that commit is durable; `f` may
    /// run more than once (a copy each time) and must act only through the transaction.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&WriteTransaction) -> Result<T, E> + Clone + Send + 'static,
    {
        self.write_then(f, |_| {}).await
    }

    /// [`Store::write`], then `after` with the committed result, on the writer thread in
    /// commit order: `after` runs even if the caller's future is dropped meanwhile
    /// (shutdown, a timeout), so derived in-memory views (the device list index) never miss
    /// a committed change. It delays every later write, so it must be quick.
    pub async fn write_then<T, E, F, A>(&self, f: F, after: A) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&WriteTransaction) -> Result<T, E> + Clone + Send + 'static,
        A: FnOnce(&mut T) + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.writer.submit(f, after, reply).map_err(E::from)?;
        answer.await.map_err(|_| E::from(StoreError::TaskFailed))?
    }

    /// [`Store::read`] for code already off the async threads (CLI, startup).
    pub fn read_blocking<T, E, F>(&self, f: F) -> Result<T, E>
    where
        E: From<StoreError>,
        F: FnOnce(&ReadTransaction) -> Result<T, E>,
    {
        let rtx = self.slot.begin(|db| db.begin_read()).map_err(E::from)?;
        f(&rtx)
    }

    /// [`Store::write`] for code already off the async threads (CLI, startup, tests): its
    /// own durable commit, not grouped, so `f` may borrow; redb's writer lock orders it
    /// with the grouped writes.
    pub fn write_blocking<T, E, F>(&self, f: F) -> Result<T, E>
    where
        E: From<StoreError>,
        F: FnOnce(&WriteTransaction) -> Result<T, E>,
    {
        let mut wtx = self.slot.begin(|db| db.begin_write()).map_err(E::from)?;
        wtx.set_quick_repair(true);
        let value = f(&wtx)?; // dropping an uncommitted transaction aborts it
        wtx.commit().map_err(|e| E::from(e.into()))?;
        self.counters.committed(1);
        Ok(value)
    }

    /// Writes a consistent copy of the whole store with `files`, sealed under `passphrase`,
    /// to `dest`, as [`backup`] does from the file (the daemon's scheduled backups). Blocking.
    pub fn backup_sealed_to(
        &self,
        dest: &Path,
        files: &BackupFiles,
        passphrase: &crate::crypto::Secret<String>,
    ) -> Result<u64, StoreError> {
        let rtx = self.slot.begin(|db| db.begin_read())?;
        backup::sealed_snapshot(&rtx, dest, files, passphrase)
    }

    /// Writes a consistent copy of the whole store to `dest` (see [`backup`]). Blocking.
    pub fn backup_to(&self, dest: &Path) -> Result<u64, StoreError> {
        let rtx = self.slot.begin(|db| db.begin_read())?;
        backup::copy_snapshot(&rtx, dest, &Vec::new(), None)
    }
}

/// Opens the database file, classifying failures into messages an admin can act on.
///
/// An existing file is first opened read-only to check its schema version, because a
/// writable open already writes to the file; a newer or damaged file is refused untouched.
fn open_database(path: &Path) -> Result<Database, StoreError> {
    if !path.exists() {
        return builder().create(path).map_err(|e| classify_open_error(path, e));
    }
    match builder().open_read_only(path) {
        Ok(ro) => {
            migrate::refuse_newer(&ro, path)?;
            drop(ro);
        }
        // Left by a crash: only a writable open can repair it; the version is checked after.
        Err(redb::DatabaseError::RepairAborted) => {}
        Err(e) => return Err(classify_open_error(path, e)),
    }
    builder().open(path).map_err(|e| classify_open_error(path, e))
}

pub(crate) fn builder() -> redb::Builder {
    let mut b = Database::builder();
    // One daemon writes; `adebox admin backup` may open the file read-only at the same time
    // and copy a consistent snapshot.
    b.set_concurrency_mode(redb::ConcurrencyMode::SingleWriter);
    // redb caches pages up to this much memory; its default (1 GiB) would let the cache grow
    // with the inventory. 64 MiB keeps an appliance of 200,000 devices well under 150 MB.
    b.set_cache_size(CACHE_BYTES);
    b
}

/// The page cache size (see `builder`).
pub const CACHE_BYTES: usize = 32 * 1024 * 1024;

pub(crate) fn classify_open_error(path: &Path, e: redb::DatabaseError) -> StoreError {
    let path = path.to_path_buf();
    match e {
        redb::DatabaseError::DatabaseAlreadyOpen => StoreError::InUse { path },
        redb::DatabaseError::Storage(redb::StorageError::Corrupted(detail)) => {
            StoreError::Corrupt { path, detail }
        }
        redb::DatabaseError::Storage(redb::StorageError::Io(io))
            if io.kind() == std::io::ErrorKind::PermissionDenied =>
        {
            StoreError::Open {
                path,
                detail: format!(
                    "permission denied ({io}); the daemon's user must own the data directory \
                     (config key `data_dir`)"
                ),
            }
        }
        redb::DatabaseError::UpgradeRequired(v) => StoreError::Corrupt {
            path,
            detail: format!("file format {v} is not one this version reads"),
        },
        other => {
            let detail = other.to_string();
            if detail.contains("magic") || detail.contains("corrupt") || detail.contains("Invalid")
            {
                StoreError::Corrupt { path, detail }
            } else {
                StoreError::Open { path, detail }
            }
        }
    }
}

#[cfg(test)]
mod tests;
