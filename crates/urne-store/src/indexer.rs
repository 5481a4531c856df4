//! The index catching up with the log off the writer's path (spec/11-storage.md §11.2).
//!
//! The writer's group commit makes records durable; their index rows (entry hash →
//! index, and the layers' keys) are applied to the index afterwards by a thread of
//! their own, so that no acknowledgement waits on sled. Between the two, the rows of
//! every durable entry not yet in the index are kept in memory in the [`Tail`], which
//! the writer fills *before* it publishes the new durable size: every lookup reads the
//! tail first and the index second, and the indexer takes rows out of the tail only
//! after the index holds them, so an acknowledged record is always found, whichever
//! side it is on at that moment.

use std::collections::{BTreeMap, HashMap};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use urne_log::Hash;

use crate::index::{BY_HASH, IndexEntry, IndexRows, META};
use crate::store::Inner;

/// Most durable entries the index may lag behind the log: beyond it the writer waits
/// for the indexer (a bound on the tail's memory if sled falls behind).
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

/// One layer tree's rows in the tail: key → (value, first entry of the group).
type LayerRows = BTreeMap<Vec<u8>, (Vec<u8>, u64)>;

#[derive(Default)]
pub(crate) struct TailState {
    /// Entry hash → index, for durable entries not yet in the index.
    by_hash: HashMap<Hash, u64>,
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

    /// Adds a group commit's rows; called by the writer before it publishes the group
    /// as durable. Waits first while the index lags by more than [`MAX_UNINDEXED`].
    pub(crate) fn add(&self, job: &IndexJob) {
        let mut tail = self.lock();
        while tail.unindexed >= MAX_UNINDEXED && !tail.failed {
            tail = self.changed.wait(tail).unwrap_or_else(|p| p.into_inner());
        }
        for (i, hash) in job.hashes.iter().enumerate() {
            tail.by_hash.insert(*hash, job.first + i as u64);
        }
        for row in &job.layer {
            tail.layer
                .entry(row.tree)
                .or_default()
                .insert(row.key.clone(), (row.value.clone(), job.first));
        }
        tail.unindexed += job.hashes.len() as u64;
    }

    /// Removes what the index now holds: a row only if no later entry replaced it.
    fn indexed(&self, job: &IndexJob) {
        let mut tail = self.lock();
        for (i, hash) in job.hashes.iter().enumerate() {
            let index = job.first + i as u64;
            if tail.by_hash.get(hash) == Some(&index) {
                tail.by_hash.remove(hash);
            }
        }
        for row in &job.layer {
            if let Some(tree) = tail.layer.get_mut(row.tree)
                && tree.get(&row.key).is_some_and(|(_, at)| *at == job.first)
            {
                tree.remove(&row.key);
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

    /// The index of the not-yet-indexed entry whose leaf hash is `hash`.
    pub(crate) fn index_of(&self, hash: &Hash) -> Option<u64> {
        self.lock().by_hash.get(hash).copied()
    }

    /// A layer key's value among the not-yet-indexed entries.
    pub(crate) fn get(&self, tree: &str, key: &[u8]) -> Option<Vec<u8>> {
        let tail = self.lock();
        tail.layer
            .get(tree)
            .and_then(|rows| rows.get(key))
            .map(|(value, _)| value.clone())
    }

    /// The not-yet-indexed layer rows of `tree` under `prefix`.
    pub(crate) fn scan_prefix(&self, tree: &str, prefix: &[u8]) -> IndexRows {
        let tail = self.lock();
        tail.layer
            .get(tree)
            .map(|rows| {
                rows.range(prefix.to_vec()..)
                    .take_while(|(k, _)| k.starts_with(prefix))
                    .map(|(k, (v, _))| (k.clone(), v.clone()))
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

/// The rows a group commit adds to the index: hashes, the layers' keys, and the
/// bookkeeping (count and tip) last, so an index cut anywhere says how far it got.
fn rows(job: &IndexJob) -> Vec<IndexEntry> {
    let mut rows = Vec::with_capacity(job.hashes.len() + job.layer.len() + 2);
    for (i, hash) in job.hashes.iter().enumerate() {
        rows.push(IndexEntry {
            tree: BY_HASH,
            key: hash.0.to_vec(),
            value: (job.first + i as u64).to_be_bytes().to_vec(),
        });
    }
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
    while let Ok(first) = jobs.recv() {
        inner.tail.wait_unpaused();
        let mut taken = vec![first];
        while let Ok(job) = jobs.try_recv() {
            taken.push(job);
        }
        let all: Vec<IndexEntry> = taken.iter().flat_map(rows).collect();
        if let Err(e) = inner.index.apply(&all) {
            let reason = format!("an index write failed: {e}");
            eprintln!("urne-store: STOPPED ACCEPTING RECORDS: {reason}");
            inner.acks.stop(reason);
            inner.tail.fail();
            return;
        }
        for job in &taken {
            inner.tail.indexed(job);
        }
    }
}
