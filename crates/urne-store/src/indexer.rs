//! The index catching up with the log off the writer's path (spec/11-storage.md §11.2).
//!
//! The writer's group commit makes records durable; their index rows (the layers' keys;
//! entry hashes are in memory, `entries.rs`) are applied to the index afterwards by a
//! thread of their own, so that no acknowledgement waits on sled. Between the two, the
//! rows of every durable entry not yet in the index are kept in memory in the [`Tail`],
//! which the publisher fills *before* it publishes the new durable size and hands to the
//! indexer only after: every lookup reads the tail first (rows of entries below the
//! durable size only) and the index second, and the indexer takes rows out of the tail
//! only after the index holds them, so an acknowledged record is always found,
//! whichever side it is on at that moment, and a record never acknowledged never is.

use std::collections::{BTreeMap, HashMap};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use urne_log::Hash;

use crate::index::{IndexEntry, IndexRows, META};
use crate::store::Inner;

/// Most durable entries the index may lag behind the log: a group that would go beyond
/// it waits, on the publisher, for the indexer (a bound on the tail's memory if sled
/// falls behind); the writer then waits too once two synced groups queue behind it.
pub(crate) const MAX_UNINDEXED: u64 = 1 << 16;

/// One group commit's rows, handed from the writer to the indexer.
pub(crate) struct IndexJob {
    /// Index of the first entry of the group.
    pub first: u64,
    /// Leaf hashes of the group's entries, in order.
    pub hashes: Vec<Hash>,
    /// The layers' keys for those entries.
    pub layer: Vec<IndexEntry>,
}

/// One layer tree's rows in the tail: key → (value, first entry of the group that
/// wrote it), oldest first. More than one while a later group rewrites a key: a reader
/// takes the latest that is durable, so a group not yet published (or refused
/// publication by a stop) never hides the value before it.
type LayerRows = BTreeMap<Vec<u8>, Vec<(Vec<u8>, u64)>>;

#[derive(Default)]
pub(crate) struct TailState {
    /// The layers' rows of those entries: tree → key → (value, first entry of the
    /// group that wrote it). Later groups win, as in the index.
    layer: HashMap<&'static str, LayerRows>,
    /// Entries durable and not yet indexed.
    unindexed: u64,
    /// Set when the indexer failed: it indexes nothing more, and the tail keeps what it
    /// holds so that lookups stay right until the store is reopened.
    failed: bool,
    /// A test holds the indexer (to look at a store whose index lags the log).
    paused: bool,
}

/// The rows of the durable entries the index does not hold yet.
#[derive(Default)]
pub(crate) struct Tail {
    state: Mutex<TailState>,
    changed: Condvar,
}

impl Tail {
    fn lock(&self) -> MutexGuard<'_, TailState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a group commit's rows; called by the publisher before it publishes the
    /// group as durable. Waits first while adding the group would make the index lag by
    /// more than [`MAX_UNINDEXED`] (a group alone always fits: it is at most 4,096).
    pub(crate) fn add(&self, job: &IndexJob) {
        let group = job.hashes.len() as u64;
        let mut tail = self.lock();
        while tail.unindexed > 0 && tail.unindexed + group > MAX_UNINDEXED && !tail.failed {
            tail = self.changed.wait(tail).unwrap_or_else(|p| p.into_inner());
        }
        for row in &job.layer {
            tail.layer
                .entry(row.tree)
                .or_default()
                .entry(row.key.clone())
                .or_default()
                .push((row.value.clone(), job.first));
        }
        tail.unindexed += job.hashes.len() as u64;
    }

    /// Removes a group's rows: once the index holds them, or when the group was
    /// refused publication (the store stopped before it was acknowledged).
    pub(crate) fn remove(&self, job: &IndexJob) {
        let mut tail = self.lock();
        for row in &job.layer {
            if let Some(tree) = tail.layer.get_mut(row.tree)
                && let Some(versions) = tree.get_mut(&row.key)
            {
                versions.retain(|(_, at)| *at != job.first);
                if versions.is_empty() {
                    tree.remove(&row.key);
                }
            }
        }
        tail.unindexed -= job.hashes.len() as u64;
        drop(tail);
        self.changed.notify_all();
    }

    fn fail(&self) {
        self.lock().failed = true;
        self.changed.notify_all();
    }

    /// How many durable entries the index lags behind (for tests of the bound).
    pub(crate) fn unindexed(&self) -> u64 {
        self.lock().unindexed
    }

    /// A layer key's value among the not-yet-indexed entries below `durable`.
    pub(crate) fn get(&self, tree: &str, key: &[u8], durable: u64) -> Option<Vec<u8>> {
        let tail = self.lock();
        tail.layer
            .get(tree)
            .and_then(|rows| rows.get(key))
            .and_then(|versions| latest_durable(versions, durable))
    }

    /// The not-yet-indexed layer rows of `tree` under `prefix`, of entries below
    /// `durable`.
    pub(crate) fn scan_prefix(&self, tree: &str, prefix: &[u8], durable: u64) -> IndexRows {
        let tail = self.lock();
        tail.layer
            .get(tree)
            .map(|rows| {
                rows.range(prefix.to_vec()..)
                    .take_while(|(k, _)| k.starts_with(prefix))
                    .filter_map(|(k, versions)| {
                        latest_durable(versions, durable).map(|v| (k.clone(), v))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Holds (or releases) the indexer: tests look at a store whose index lags.
    pub(crate) fn pause(&self, paused: bool) {
        self.lock().paused = paused;
        self.changed.notify_all();
    }

    /// Waits until the index holds every durable entry (or the indexer failed).
    pub(crate) fn wait_caught_up(&self) {
        let mut tail = self.lock();
        while tail.unindexed > 0 && !tail.failed && !tail.paused {
            tail = self.changed.wait(tail).unwrap_or_else(|p| p.into_inner());
        }
    }

    fn wait_unpaused(&self) {
        let mut tail = self.lock();
        while tail.paused {
            tail = self.changed.wait(tail).unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// A group's value of a key is acknowledged once the group is (a group is published
/// whole: its first entry below the durable size means all of it is).
fn latest_durable(versions: &[(Vec<u8>, u64)], durable: u64) -> Option<Vec<u8>> {
    versions
        .iter()
        .rev()
        .find(|(_, at)| *at < durable)
        .map(|(value, _)| value.clone())
}

/// The rows a group commit adds to the index: the layers' keys, and the bookkeeping
/// (count and tip) last, so an index cut anywhere says how far it got.
fn rows(job: &IndexJob) -> Vec<IndexEntry> {
    let mut rows = Vec::with_capacity(job.layer.len() + 2);
    rows.extend(job.layer.iter().cloned());
    if let Some(last) = job.hashes.last() {
        rows.push(IndexEntry {
            tree: META,
            key: b"count".to_vec(),
            value: (job.first + job.hashes.len() as u64).to_be_bytes().to_vec(),
        });
        rows.push(IndexEntry {
            tree: META,
            key: b"tip".to_vec(),
            value: last.0.to_vec(),
        });
    }
    rows
}

/// The indexer thread: applies each group commit's rows, in log order, then takes them
/// out of the tail. Several queued groups are applied as one batch. A failed index
/// write stops the store (fail-stop, as a failed derived-file write does): the tail
/// keeps the rows, so reads stay right, and reopening rebuilds the index from the log.
pub(crate) fn run(inner: Arc<Inner>, jobs: Receiver<IndexJob>) {
    let mut guard = StopOnExit {
        inner: &inner,
        thread: "indexer",
        finished: false,
    };
    while let Ok(first) = jobs.recv() {
        inner.tail.wait_unpaused();
        let mut taken = vec![first];
        while let Ok(job) = jobs.try_recv() {
            taken.push(job);
        }
        let all: Vec<IndexEntry> = taken.iter().flat_map(rows).collect();
        if let Err(e) = inner.index.apply(&all) {
            guard.stop(format!("an index write failed: {e}"));
            return;
        }
        for job in &taken {
            inner.tail.remove(job);
        }
    }
    // The writer closed the queue: everything durable is indexed.
    guard.finished = true;
}

/// Stops the store when a store thread ends with work pending — an error, or a panic
/// (sled can panic) — so that nothing waits forever on a thread that is gone: the
/// publisher blocked on the tail's bound, appenders on their acknowledgement, `close`
/// on a join.
pub(crate) struct StopOnExit<'a> {
    pub inner: &'a Inner,
    pub thread: &'static str,
    /// Set on a clean exit (the queue was closed and drained).
    pub finished: bool,
}

impl StopOnExit<'_> {
    pub(crate) fn stop(&mut self, reason: String) {
        eprintln!("urne-store: STOPPED ACCEPTING RECORDS: {reason}");
        self.inner.acks.stop(reason);
        self.inner.tail.fail();
        self.finished = true;
    }
}

impl Drop for StopOnExit<'_> {
    fn drop(&mut self) {
        if !self.finished {
            let thread = self.thread;
            self.stop(format!("the store's {thread} thread failed"));
        }
    }
}
