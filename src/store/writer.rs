//! Group commit: one thread per open store runs the write units waiting at each moment in one
//! redb write transaction, commits it durably once, and only then answers every caller.
//!
//! A unit stays all-or-nothing although redb 4 takes no savepoint once a transaction has
//! touched a table: a unit that fails (or panics) aborts the whole group, its caller gets its
//! own error, and the writer runs the others again in a fresh transaction without it. Units
//! are therefore `Clone` closures that act only through the transaction: each run starts from
//! a fresh copy of what the closure captured, so a run that was thrown away leaves no trace.
//! The alternative — units that check everything in a read phase so that only I/O can fail
//! their write phase — would have split every change of every module in two; replay keeps the
//! call sites as they were (see `docs/store.md`).

use super::StoreError;
use super::slot::DbSlot;
use redb::WriteTransaction;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, TryRecvError};
use std::thread::{JoinHandle, ThreadId};

/// At most this many units share one transaction: bounds the work a failed unit makes the
/// others redo, and the memory a group holds until its commit.
const MAX_GROUP: usize = 256;

/// Counts of the durable commits made and the changes they carried, since the store opened.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct WriteStats {
    /// Durable redb commits (one fsync'd commit each, grouped or not).
    pub commits: u64,
    /// Changes committed (callers answered with success).
    pub units: u64,
    /// Groups run again without a unit that failed.
    pub replays: u64,
}

#[derive(Default)]
pub(super) struct Counters {
    commits: AtomicU64,
    units: AtomicU64,
    replays: AtomicU64,
    /// The appliance's metrics, which also time each commit.
    pub(super) metrics: crate::metrics::Metrics,
}

impl Counters {
    pub(super) fn committed(&self, units: usize) {
        self.commits.fetch_add(1, Ordering::Relaxed);
        self.units.fetch_add(units as u64, Ordering::Relaxed);
    }

    pub(super) fn snapshot(&self) -> WriteStats {
        WriteStats {
            commits: self.commits.load(Ordering::Relaxed),
            units: self.units.load(Ordering::Relaxed),
            replays: self.replays.load(Ordering::Relaxed),
        }
    }
}

/// One caller's change, type-erased so that changes of any result type share a group.
trait Unit: Send {
    /// Runs the change in `wtx`; false when it failed (its error is kept for its caller).
    /// With `keep`, a copy runs and the original stays for a replay.
    fn run(&mut self, wtx: &WriteTransaction, keep: bool) -> bool;
    /// The group is durable: runs `after` and answers the caller with the result.
    fn committed(self: Box<Self>);
    /// Answers the caller with the change's own error.
    fn refused(self: Box<Self>);
    /// Answers the caller with the store's error: nothing of the group was saved.
    fn not_saved(self: Box<Self>, error: StoreError);
}

struct Change<T, E, F, A> {
    change: Option<F>,
    after: Option<A>,
    outcome: Option<Result<T, E>>,
    reply: tokio::sync::oneshot::Sender<Result<T, E>>,
}

impl<T, E, F, A> Unit for Change<T, E, F, A>
where
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
    F: FnOnce(&WriteTransaction) -> Result<T, E> + Clone + Send + 'static,
    A: FnOnce(&mut T) + Send + 'static,
{
    fn run(&mut self, wtx: &WriteTransaction, keep: bool) -> bool {
        let change = if keep { self.change.clone() } else { self.change.take() };
        let outcome = match change {
            // A panic fails this change alone, as it failed its blocking task before.
            Some(change) => catch_unwind(AssertUnwindSafe(|| change(wtx)))
                .unwrap_or_else(|_| Err(E::from(StoreError::TaskFailed))),
            None => Err(E::from(StoreError::TaskFailed)),
        };
        let ok = outcome.is_ok();
        self.outcome = Some(outcome);
        ok
    }

    fn committed(mut self: Box<Self>) {
        let outcome = match self.outcome.take() {
            Some(Ok(mut value)) => match self.after.take() {
                Some(after) => catch_unwind(AssertUnwindSafe(|| after(&mut value)))
                    .map(|()| value)
                    .map_err(|_| E::from(StoreError::TaskFailed)),
                None => Ok(value),
            },
            Some(Err(e)) => Err(e),
            None => Err(E::from(StoreError::TaskFailed)),
        };
        // A caller that stopped waiting (shutdown, a timeout) still had its change saved.
        let _ = self.reply.send(outcome);
    }

    fn refused(mut self: Box<Self>) {
        let outcome = self.outcome.take().unwrap_or_else(|| Err(E::from(StoreError::TaskFailed)));
        let _ = self.reply.send(outcome);
    }

    fn not_saved(self: Box<Self>, error: StoreError) {
        let _ = self.reply.send(Err(E::from(error)));
    }
}

/// The submitting side of the writer thread, shared by every clone of a store. The last one
/// dropped stops the thread and waits for it, so the file is closed when the store is.
pub(super) struct Writer {
    queue: Option<Sender<Box<dyn Unit>>>,
    thread: Option<JoinHandle<()>>,
    thread_id: ThreadId,
}

impl Writer {
    pub(super) fn start(slot: Arc<DbSlot>, counters: Arc<Counters>) -> Result<Writer, StoreError> {
        let (queue, units) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("adebox-store-writer".into())
            .spawn(move || run(&slot, &counters, &units))
            .map_err(|e| StoreError::Redb(format!("cannot start the store's writer: {e}")))?;
        let thread_id = thread.thread().id();
        Ok(Writer { queue: Some(queue), thread: Some(thread), thread_id })
    }

    /// Queues `change` (with `after`, run once it is durable); the answer comes on `reply`.
    pub(super) fn submit<T, E, F, A>(
        &self,
        change: F,
        after: A,
        reply: tokio::sync::oneshot::Sender<Result<T, E>>,
    ) -> Result<(), StoreError>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&WriteTransaction) -> Result<T, E> + Clone + Send + 'static,
        A: FnOnce(&mut T) + Send + 'static,
    {
        let unit =
            Box::new(Change { change: Some(change), after: Some(after), outcome: None, reply });
        let queue = self.queue.as_ref().ok_or(StoreError::TaskFailed)?;
        queue.send(unit).map_err(|_| StoreError::TaskFailed)
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        drop(self.queue.take());
        // A unit's captures may hold the last store handle; the thread cannot wait for itself.
        if std::thread::current().id() != self.thread_id
            && let Some(thread) = self.thread.take()
        {
            let _ = thread.join();
        }
    }
}

/// The writer thread: takes every unit waiting, commits them as one group, repeats until the
/// last store handle is gone.
fn run(slot: &DbSlot, counters: &Counters, units: &Receiver<Box<dyn Unit>>) {
    while let Ok(first) = units.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match units.try_recv() {
                Ok(unit) => group.push(unit),
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
        commit_group(slot, counters, group);
    }
}

/// Runs `group` in one transaction and commits it durably; a unit that fails is answered
/// with its error and the rest run again without it (see the module docs).
fn commit_group(slot: &DbSlot, counters: &Counters, mut group: Vec<Box<dyn Unit>>) {
    while !group.is_empty() {
        let mut wtx = match slot.begin(|db| db.begin_write()) {
            Ok(wtx) => wtx,
            Err(e) => return answer_all(group, &e),
        };
        wtx.set_quick_repair(true);
        // A lone unit has nothing to replay: it runs itself rather than a copy.
        let keep = group.len() > 1;
        if let Some(failed) = group.iter_mut().position(|unit| !unit.run(&wtx, keep)) {
            // Aborting may fail only on I/O; the next begin then reopens the file.
            let _ = wtx.abort();
            group.remove(failed).refused();
            if !group.is_empty() {
                counters.replays.fetch_add(1, Ordering::Relaxed);
            }
            continue;
        }
        let commit_started = std::time::Instant::now();
        match wtx.commit() {
            Ok(()) => {
                counters.metrics.store_commit(commit_started.elapsed());
                counters.committed(group.len());
                group.into_iter().for_each(|unit| unit.committed());
            }
            Err(e) => answer_all(group, &StoreError::from(e)),
        }
        return;
    }
}

fn answer_all(group: Vec<Box<dyn Unit>>, error: &StoreError) {
    for unit in group {
        unit.not_saved(error.duplicate());
    }
}

#[cfg(test)]
mod tests;
