//! The store: its options, opening (recovery in `recovery.rs`), queueing appends for the
//! writer (`writer.rs`), and the index. Reads and proofs are in `read.rs`, checkpoints in
//! `checkpoint.rs`, the scrub in `scrub.rs`.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use urne_log::Hash;
use urne_log::proof::range_hash;

use crate::checkpoint::read_checkpoint;
use crate::entries::EntryHashes;
use crate::error::{StoreError, io};
use crate::frame::MAX_RECORD_BYTES;
use crate::fs::{FileSystem, LockGuard, RealFs, StoreFile};
use crate::index::{
    Index, IndexBackend, IndexFn, IndexRows, META, MemoryIndex, SledIndex, indexed, rows_for,
    stored_schema,
};
use crate::indexer::Tail;
use crate::recovery::{OpenedHashes, recover};
use crate::scrub::{ScrubHandle, ScrubStatus};
use crate::writer::{Acks, Pending, Publisher, Request, Writer};

pub(crate) const LOG: &str = "log.dat";
pub(crate) const OFFSETS: &str = "offsets.dat";
pub(crate) const CHECKPOINT: &str = "checkpoint";
pub(crate) const INDEX: &str = "index.sled";
pub(crate) const LOCK: &str = "lock";

pub(crate) fn height_file(height: u32) -> String {
    format!("height-{height}.dat")
}

/// Heights below this are read from their files on demand; from it up (1/256 of the
/// leaves and less) they are also kept in memory.
pub(crate) const MEMORY_FROM: u32 = 8;

/// When the background scrub runs (spec/11-storage.md §11.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Scrub {
    /// Never (tests, short-lived tools).
    Off,
    /// Once right after opening, then every interval.
    AfterOpenAndEvery(Duration),
}

impl Default for Scrub {
    fn default() -> Self {
        Self::AfterOpenAndEvery(Duration::from_secs(24 * 3600))
    }
}

/// How to open a store.
#[derive(Clone)]
pub struct StoreOptions {
    /// Extra index keys, for the layers above (tracking codes, nullifiers, …).
    pub index_keys: Option<IndexFn>,
    /// Names what `index_keys` extracts (`urne-board/v1`). An index built under another
    /// schema is rebuilt, so that opening the store with other options can never leave
    /// an index that silently lacks keys.
    pub index_schema: String,
    /// Where the index lives.
    pub index: IndexBackend,
    /// The file system (the real one, or a simulated disk in tests).
    pub fs: Arc<dyn FileSystem>,
    /// Cut damage that acknowledged frames follow (into a side file) instead of refusing
    /// to open. Only on an operator's explicit request (spec/11-storage.md §11.4).
    pub salvage: bool,
    /// The background scrub.
    pub scrub: Scrub,
    /// The most log entries the scrub reads and rehashes per second (0: no bound), so
    /// that a pass over a large log never takes the disk and a core from appends and
    /// reads (spec/11-storage.md §11.5).
    pub scrub_entries_per_second: u64,
}

impl StoreOptions {
    /// The default bound on the scrub's pace: a log of a million entries in under a
    /// minute, at a few percent of a core.
    pub const DEFAULT_SCRUB_ENTRIES_PER_SECOND: u64 = 20_000;
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            index_keys: None,
            index_schema: String::new(),
            index: IndexBackend::Sled,
            fs: Arc::new(RealFs),
            salvage: false,
            scrub: Scrub::default(),
            scrub_entries_per_second: Self::DEFAULT_SCRUB_ENTRIES_PER_SECOND,
        }
    }
}

/// Bytes cut off the end of `log.dat` when it was opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CutReport {
    /// The entry index the first cut frame would have had.
    pub entry: u64,
    /// Its byte offset in `log.dat`.
    pub offset: u64,
    /// How many bytes were cut.
    pub bytes: u64,
    /// What was wrong with the first cut frame.
    pub why: String,
    /// The side file (in the data directory) that keeps the cut bytes.
    pub file: String,
}

/// What opening found and repaired.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OpenReport {
    /// Entries in the log.
    pub size: u64,
    /// Bytes cut off the end of `log.dat` (see `cut`).
    pub truncated_bytes: u64,
    /// The damaged or torn tail cut off `log.dat`, if any.
    pub cut: Option<CutReport>,
    /// Whether the cut removed frames after damage (opened with salvage).
    pub salvaged: bool,
    /// Derived files or indexes that were rebuilt or extended from the log.
    pub repaired: Vec<String>,
    /// The saved checkpoint's size, if any; the log agrees with it.
    pub checkpoint_size: Option<u64>,
}

pub(crate) struct State {
    pub size: u64,
    pub offsets: Vec<u64>,
    /// Node hashes of heights MEMORY_FROM and up (index: height − MEMORY_FROM).
    pub upper: Vec<Vec<Hash>>,
}

pub(crate) struct Inner {
    pub fs: Arc<dyn FileSystem>,
    pub dir: PathBuf,
    pub log_reader: Arc<dyn StoreFile>,
    /// Readers of heights 0 … MEMORY_FROM − 1.
    pub height_readers: Vec<Arc<dyn StoreFile>>,
    pub state: RwLock<State>,
    pub index: Box<dyn Index>,
    /// Entry hash → index, in memory (`entries.rs`).
    pub entries: EntryHashes,
    /// The rows of durable entries the index does not hold yet (`indexer.rs`).
    pub tail: Tail,
    pub acks: Arc<Acks>,
    /// Held for the store's lifetime: one process per data directory.
    pub _lock: LockGuard,
    pub checkpoint: RwLock<Option<String>>,
    /// The last root computed (size, root): proofs are asked for at the checkpoint's size.
    pub root_cache: Mutex<Option<(u64, Hash)>>,
    /// Serialises checkpoint saving with the fsync of derived files.
    pub checkpoint_lock: Mutex<()>,
    /// Entries whose derived hashes were checked against their frames since open.
    pub verified: Mutex<u64>,
    pub scrub: Mutex<ScrubStatus>,
}

impl Inner {
    pub(crate) fn read_state(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }
}

/// The writer thread and the only sender to it, and the indexer thread the writer
/// feeds. Dropping the last store clone drops this, which lets the writer finish what
/// is queued and exit, and then the indexer index what the writer made durable.
struct WriterHandle {
    /// The sender, and the index the next queued record will have.
    sender: Mutex<Option<(Sender<Request>, u64)>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    indexer: Mutex<Option<JoinHandle<()>>>,
    inner: Arc<Inner>,
}

impl WriterHandle {
    fn stop(&self) {
        self.sender.lock().unwrap_or_else(|p| p.into_inner()).take();
        // A test's hold on the indexer is let go first: with the index at its lag
        // bound, the publisher, and behind it the writer, wait for the indexer.
        self.inner.tail.pause(false);
        if let Some(handle) = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = handle.join();
        }
        // The writer dropped the indexer's queue on exit: the indexer ends once the
        // index holds every durable entry.
        if let Some(handle) = self
            .indexer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            let _ = handle.join();
        }
    }
}

impl Drop for WriterHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The durable log. Cheap to clone; all clones share one writer.
#[derive(Clone)]
pub struct Store {
    pub(crate) inner: Arc<Inner>,
    writer: Arc<WriterHandle>,
    _scrub: Arc<ScrubHandle>,
}

fn open_index(
    options: &StoreOptions,
    dir: &Path,
    log: &dyn StoreFile,
    offsets: &[u64],
    report: &mut OpenReport,
) -> Result<Box<dyn Index>, StoreError> {
    if options.index_keys.is_none() {
        // Nothing to index (entry hashes are in memory, `entries.rs`): no sled, and no
        // index thread work per group. An `index.sled` an earlier version left is not
        // opened.
        return Ok(Box::new(MemoryIndex::default()));
    }
    let mut unreadable = false;
    let index: Box<dyn Index> = match options.index {
        IndexBackend::Sled if options.fs.supports_sled() => {
            Box::new(SledIndex::open(&dir.join(INDEX), &mut unreadable)?)
        }
        IndexBackend::FailingForTests { at_apply, panic } => Box::new(crate::index::FailingIndex {
            inner: MemoryIndex::default(),
            at_apply,
            panic,
            applied: std::sync::atomic::AtomicU64::new(0),
        }),
        _ => Box::new(MemoryIndex::default()),
    };
    let log_path = dir.join(LOG);
    let size = offsets.len() as u64;
    let (count, tip, schema) = indexed(&*index)?;
    let same_schema = schema == stored_schema(&options.index_schema);
    let agrees = count <= size
        && (count == 0
            || tip == Some(crate::frame::read(log, &log_path, offsets[count as usize - 1])?.1));
    let from = if unreadable {
        report
            .repaired
            .push("index rebuilt from the log (it could not be opened)".into());
        0
    } else if !same_schema && count > 0 {
        report
            .repaired
            .push("index rebuilt from the log (it was built for another schema)".into());
        0
    } else if !agrees {
        report
            .repaired
            .push("index rebuilt from the log (it disagreed with the log)".into());
        0
    } else {
        count
    };
    if from == 0 {
        index.clear()?;
        index.apply(&[crate::index::IndexEntry {
            tree: META,
            key: b"schema".to_vec(),
            value: stored_schema(&options.index_schema),
        }])?;
    }
    if from < size {
        if from > 0 {
            report
                .repaired
                .push(format!("index extended by {} entries", size - from));
        }
        let mut batch = Vec::with_capacity(1024);
        for i in from..size {
            let (record, hash) = crate::frame::read(log, &log_path, offsets[i as usize])?;
            batch.push((i, record, hash));
            if batch.len() == 1024 {
                index.apply(&rows_for(&batch, &options.index_keys))?;
                batch.clear();
            }
        }
        index.apply(&rows_for(&batch, &options.index_keys))?;
    }
    Ok(index)
}

impl Store {
    /// Opens (creating) the store in `dir`, recovering as spec/11-storage.md §11.3 says.
    pub fn open(dir: &Path, options: StoreOptions) -> Result<(Self, OpenReport), StoreError> {
        let fs = Arc::clone(&options.fs);
        fs.create_dir_all(dir).map_err(io(dir))?;
        let lock_path = dir.join(LOCK);
        let lock = match fs.lock(&lock_path, true) {
            Ok(lock) => lock,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                return Err(StoreError::Locked {
                    path: dir.to_owned(),
                });
            }
            Err(e) => return Err(io(&lock_path)(e)),
        };
        let saved = read_checkpoint(&*fs, dir)?;
        let recovered = recover(&*fs, dir, saved.as_ref().map(|(_, c)| c), options.salvage)?;
        let mut report = recovered.report;
        let state = recovered.state;
        if let Some((_, checkpoint)) = &saved {
            let found = if checkpoint.size() <= state.size {
                Some(range_hash(
                    &OpenedHashes {
                        heights: &recovered.heights,
                    },
                    0,
                    checkpoint.size(),
                )?)
            } else {
                None
            };
            if found != Some(*checkpoint.root()) {
                return Err(StoreError::ContradictsCheckpoint {
                    size: checkpoint.size(),
                    expected: *checkpoint.root(),
                    found,
                });
            }
            report.checkpoint_size = Some(checkpoint.size());
        }
        let index = open_index(&options, dir, &*recovered.log, &state.offsets, &mut report)?;
        let height_readers = recovered
            .heights
            .iter()
            .take(MEMORY_FROM as usize)
            .map(|f| f.reader())
            .collect();
        let size = state.size;
        let entries = EntryHashes::default();
        if let Some(leaves) = recovered.heights.first() {
            // In runs, so a large log is never read into one buffer.
            const RUN: u64 = 1 << 16;
            let mut from = 0;
            while from < size {
                let count = RUN.min(size - from);
                let hashes: Vec<Hash> = leaves
                    .read(from, count)?
                    .chunks_exact(32)
                    .filter_map(Hash::from_slice)
                    .collect();
                entries.add(from, &hashes);
                from += count;
            }
        }
        let (sender, receiver) = channel();
        let inner = Arc::new(Inner {
            fs: Arc::clone(&fs),
            dir: dir.to_owned(),
            log_reader: Arc::clone(&recovered.log),
            height_readers,
            state: RwLock::new(state),
            index,
            entries,
            tail: Tail::default(),
            acks: Arc::new(Acks::new(size)),
            _lock: lock,
            checkpoint: RwLock::new(saved.map(|(text, _)| text)),
            root_cache: Mutex::new(None),
            checkpoint_lock: Mutex::new(()),
            // Recovery recomputed every hash after the checkpoint from the frames.
            verified: Mutex::new(size),
            scrub: Mutex::new(ScrubStatus::default()),
        });
        let (to_indexer, index_jobs) = channel();
        let indexer_inner = Arc::clone(&inner);
        let indexer = std::thread::Builder::new()
            .name("urne-store-indexer".into())
            .spawn(move || crate::indexer::run(indexer_inner, index_jobs))
            .map_err(io(dir))?;
        let writer = Writer {
            dir: dir.to_owned(),
            log: recovered.log,
            end: recovered.end,
            next_index: size,
        };
        let publisher = Publisher {
            fs,
            dir: dir.to_owned(),
            offsets: recovered.offsets,
            heights: recovered.heights,
            keys: options.index_keys,
            indexer: to_indexer,
        };
        let thread_inner = Arc::clone(&inner);
        let handle = std::thread::Builder::new()
            .name("urne-store-writer".into())
            .spawn(move || writer.run(thread_inner, receiver, publisher))
            .map_err(io(dir))?;
        let writer = Arc::new(WriterHandle {
            sender: Mutex::new(Some((sender, size))),
            thread: Mutex::new(Some(handle)),
            indexer: Mutex::new(Some(indexer)),
            inner: Arc::clone(&inner),
        });
        let scrub = Arc::new(ScrubHandle::start(
            &inner,
            options.scrub,
            options.scrub_entries_per_second,
        )?);
        Ok((
            Self {
                inner,
                writer,
                _scrub: scrub,
            },
            report,
        ))
    }

    /// Queues a record for the next group commit. Records are appended in the order
    /// they are queued; the returned [`Pending`] knows the index it will have.
    pub fn enqueue(&self, record: Vec<u8>) -> Result<Pending, StoreError> {
        if record.is_empty() || record.len() > MAX_RECORD_BYTES {
            return Err(StoreError::RecordSize { len: record.len() });
        }
        if let Some(reason) = &self.inner.acks.lock().stopped {
            return Err(StoreError::Stopped {
                reason: reason.clone(),
            });
        }
        let mut sender = self.writer.sender.lock().unwrap_or_else(|p| p.into_inner());
        let (channel, next) = sender.as_mut().ok_or(StoreError::Failed)?;
        channel
            .send(Request { record })
            .map_err(|_| StoreError::Failed)?;
        let index = *next;
        *next += 1;
        Ok(Pending::new(index, Arc::clone(&self.inner.acks)))
    }

    /// Appends a record and waits until it is durable; returns its index.
    pub fn append(&self, record: Vec<u8>) -> Result<u64, StoreError> {
        self.enqueue(record)?.wait()
    }

    /// Number of durable entries.
    pub fn size(&self) -> u64 {
        self.inner.read_state().size
    }

    /// Why the store stopped accepting records, if it did (fail-stop after a failed
    /// write or sync, or damage found by the scrub).
    pub fn stopped(&self) -> Option<String> {
        self.inner.acks.lock().stopped.clone()
    }

    /// Index of the durable entry whose leaf hash is `hash` (the latest, if a record
    /// was appended twice). Found from the moment the entry is acknowledged, whether
    /// or not the index has caught up with it.
    pub fn index_of(&self, hash: &Hash) -> Result<Option<u64>, StoreError> {
        // The publisher adds a group's hashes before it publishes the group: an entry at
        // or beyond the durable size is not acknowledged (and may never be, if the
        // store stops first), so it is not found.
        let durable = self.inner.acks.lock().durable;
        for index in self.inner.entries.candidates(hash) {
            if index < durable && self.inner.nodes(0, index, 1)?.first() == Some(hash) {
                return Ok(Some(index));
            }
        }
        Ok(None)
    }

    /// The value of `key` in one of the layers' index trees (see
    /// [`StoreOptions::index_keys`]), durable entries not yet indexed included.
    pub fn index_get(&self, tree: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let durable = self.inner.acks.lock().durable;
        if let Some(value) = self.inner.tail.get(tree, key, durable) {
            return Ok(Some(value));
        }
        self.inner.index.get(tree, key)
    }

    /// The (key, value) pairs of a layer's index tree whose keys start with `prefix`,
    /// in key order (an empty prefix lists the tree), durable entries not yet indexed
    /// included.
    pub fn index_scan(&self, tree: &str, prefix: &[u8]) -> Result<IndexRows, StoreError> {
        // The tail is read first (as in `index_of`); its rows are newer than the
        // index's for the same key.
        let durable = self.inner.acks.lock().durable;
        let tail = self.inner.tail.scan_prefix(tree, prefix, durable);
        let mut rows: std::collections::BTreeMap<Vec<u8>, Vec<u8>> = self
            .inner
            .index
            .scan_prefix(tree, prefix)?
            .into_iter()
            .collect();
        rows.extend(tail);
        Ok(rows.into_iter().collect())
    }

    /// The background scrub's progress and last result.
    pub fn scrub_status(&self) -> ScrubStatus {
        self.inner
            .scrub
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Stops the writer after it has committed everything queued.
    /// Appends queued before this call are committed; later ones fail.
    pub fn close(&self) {
        self.writer.stop();
        let _ = self.inner.index.flush();
    }
}

/// For tests of the index's agreement with the log: overwrite its bookkeeping (once
/// the index has caught up, so the indexer does not overwrite it back).
#[doc(hidden)]
pub fn set_index_count_for_tests(store: &Store, count: u64, tip: Hash) -> Result<(), StoreError> {
    store.inner.tail.wait_caught_up();
    store.inner.index.apply(&[
        crate::index::IndexEntry {
            tree: META,
            key: b"count".to_vec(),
            value: count.to_be_bytes().to_vec(),
        },
        crate::index::IndexEntry {
            tree: META,
            key: b"tip".to_vec(),
            value: tip.0.to_vec(),
        },
    ])
}

/// For tests of a store whose index lags the log: holds the indexer (`true`) or lets it
/// go (`false`). Records are still made durable and acknowledged meanwhile.
#[doc(hidden)]
pub fn pause_indexer_for_tests(store: &Store, paused: bool) {
    store.inner.tail.pause(paused);
}

/// For tests of a stop racing with group commits: stops the store as the scrub or a
/// failed index write does.
#[doc(hidden)]
pub fn stop_for_tests(store: &Store, reason: &str) {
    store.inner.acks.stop(reason.to_owned());
}

/// For tests of the index's lag bound: how many durable entries the index lags behind.
#[doc(hidden)]
pub fn unindexed_for_tests(store: &Store) -> u64 {
    store.inner.tail.unindexed()
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use urne_log::{Hash, leaf_hash};

    use crate::sim::SimDisk;
    use crate::store::{Scrub, Store, StoreOptions};

    #[test]
    fn an_entry_sharing_only_the_prefix_of_a_hash_is_not_that_hash() {
        // Two leaf hashes with the same first 8 bytes take ~2^32 tries to grind; made
        // here by hand. The map's candidate must be confirmed against the full leaf hash,
        // or a record nobody stored is answered as a duplicate of another.
        let disk = SimDisk::new();
        let options = || StoreOptions {
            fs: Arc::new(disk.clone()),
            scrub: Scrub::Off,
            ..StoreOptions::default()
        };
        let (store, _) = Store::open(Path::new("/board"), options()).unwrap();
        for i in 0..3u8 {
            store.append(vec![i; 10]).unwrap();
        }
        let stored = leaf_hash(&[1u8; 10]);
        let mut grinded = stored;
        grinded.0[31] ^= 1;
        assert_eq!(store.index_of(&stored).unwrap(), Some(1));
        assert_eq!(store.index_of(&grinded).unwrap(), None);

        // A map that claims entry 3 has the ground hash (it has another): the claim is
        // checked against height-0.dat, as is entry 1, which shares the prefix.
        store.inner.entries.add(3, &[grinded]);
        store.append(b"entry 3".to_vec()).unwrap();
        assert_eq!(store.index_of(&grinded).unwrap(), None);
        assert_eq!(store.index_of(&stored).unwrap(), Some(1));
        assert_eq!(store.index_of(&Hash([7; 32])).unwrap(), None);
        // A record stored twice: the latest copy.
        store.append(vec![1u8; 10]).unwrap();
        assert_eq!(store.index_of(&stored).unwrap(), Some(4), "the latest copy");
        store.close();
        drop(store);

        let (store, _) = Store::open(Path::new("/board"), options()).unwrap();
        assert_eq!(store.index_of(&stored).unwrap(), Some(4), "rebuilt on open");
        assert_eq!(store.index_of(&leaf_hash(&[2u8; 10])).unwrap(), Some(2));
    }
}
