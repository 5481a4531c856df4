//! The index: the layers' own keys, derived from the log and rebuilt from it when it
//! disagrees (spec/11-storage.md §11.2). Entry hash → index is not here but in memory
//! (`entries.rs`). It sits behind
//! [`Index`] so that no sled type reaches a public API and so that the simulated-disk
//! tests can run the store with an in-memory index (sled does its own I/O).
//!
//! Writes never sync and never delay an acknowledgement: each group commit's keys are
//! applied by the indexer thread after the commit (`indexer.rs`), without a flush, and
//! the index is flushed off the hot path (checkpoints, close); after a crash it is
//! extended or rebuilt from the log on open.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, RwLock};

use urne_log::Hash;

use crate::error::{StoreError, io};

/// The tree that held entry hash → index before it moved to memory (index format 1):
/// an index still holding it is rebuilt, and fsck names it.
pub(crate) const BY_HASH: &str = "entry-by-hash";

/// What `meta/schema` holds for a layer's schema name: the index's own format first, so
/// that an index written by an earlier format is rebuilt like one of another schema.
pub(crate) fn stored_schema(schema: &str) -> Vec<u8> {
    format!("urne-store-index/2 {schema}").into_bytes()
}
/// Tree holding the index's own bookkeeping: `count`, `tip`, `schema`.
pub(crate) const META: &str = "meta";

/// A key the index keeps for a record: (tree, key, value).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexEntry {
    /// Tree name.
    pub tree: &'static str,
    /// Key.
    pub key: Vec<u8>,
    /// Value.
    pub value: Vec<u8>,
}

/// Extracts the index keys of a record (entry index, bytes). Run for every append and,
/// when the index is rebuilt, for every record of the log, so it must be a pure
/// function of the record.
pub type IndexFn = Arc<dyn Fn(u64, &[u8]) -> Vec<IndexEntry> + Send + Sync>;

/// Key-value pairs of a tree, in key order.
pub type IndexRows = Vec<(Vec<u8>, Vec<u8>)>;

/// Called with each (key, value) pair of a tree by [`Index::for_each`].
pub type RowVisitor<'a> = dyn FnMut(&[u8], &[u8]) -> Result<(), StoreError> + 'a;

type Trees = BTreeMap<String, BTreeMap<Vec<u8>, Vec<u8>>>;

/// Where the index lives.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum IndexBackend {
    /// A sled 0.34 database in `index.sled` (real disks only).
    #[default]
    Sled,
    /// In memory, rebuilt from the log on every open (tests on a simulated disk, tools).
    Memory,
    /// For tests of a failing index: in memory, and the `at_apply`-th write (counting
    /// from 1, the ones made while opening included) fails, or panics as sled can.
    #[doc(hidden)]
    FailingForTests {
        /// Which write fails.
        at_apply: u64,
        /// Panic instead of returning an error.
        panic: bool,
    },
}

/// The in-memory index whose `at_apply`-th write fails (see
/// [`IndexBackend::FailingForTests`]).
pub(crate) struct FailingIndex {
    pub inner: MemoryIndex,
    pub at_apply: u64,
    pub panic: bool,
    pub applied: std::sync::atomic::AtomicU64,
}

impl Index for FailingIndex {
    fn get(&self, tree: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.get(tree, key)
    }
    fn scan_prefix(&self, tree: &str, prefix: &[u8]) -> Result<IndexRows, StoreError> {
        self.inner.scan_prefix(tree, prefix)
    }
    fn for_each(&self, tree: &str, visit: &mut RowVisitor<'_>) -> Result<(), StoreError> {
        self.inner.for_each(tree, visit)
    }
    fn apply(&self, rows: &[IndexEntry]) -> Result<(), StoreError> {
        let n = self
            .applied
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            + 1;
        if n == self.at_apply {
            if self.panic {
                #[allow(clippy::panic)]
                {
                    panic!("a test index panics at write {n}");
                }
            }
            return Err(StoreError::Index(format!(
                "a test index fails at write {n}"
            )));
        }
        self.inner.apply(rows)
    }
    fn clear(&self) -> Result<(), StoreError> {
        self.inner.clear()
    }
    fn flush(&self) -> Result<(), StoreError> {
        self.inner.flush()
    }
}

/// A key-value index of trees of byte keys. Implementations need not be durable: the
/// store checks the index against the log on open.
pub trait Index: Send + Sync {
    /// The value of `key` in `tree`.
    fn get(&self, tree: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    /// The (key, value) pairs of `tree` whose key starts with `prefix`, in key order.
    fn scan_prefix(&self, tree: &str, prefix: &[u8]) -> Result<IndexRows, StoreError>;
    /// Calls `visit` with each (key, value) pair of `tree` in key order, one at a time
    /// (a tree can be larger than memory), stopping at the first error it returns.
    fn for_each(&self, tree: &str, visit: &mut RowVisitor<'_>) -> Result<(), StoreError>;
    /// Inserts the rows (later rows win), as one batch per tree.
    fn apply(&self, rows: &[IndexEntry]) -> Result<(), StoreError>;
    /// Removes every tree.
    fn clear(&self) -> Result<(), StoreError>;
    /// Writes what is buffered to disk (no durability promise).
    fn flush(&self) -> Result<(), StoreError>;
}

/// The in-memory index.
#[derive(Default)]
pub(crate) struct MemoryIndex {
    trees: RwLock<Trees>,
}

impl Index for MemoryIndex {
    fn get(&self, tree: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let trees = self.trees.read().unwrap_or_else(|p| p.into_inner());
        Ok(trees.get(tree).and_then(|t| t.get(key)).cloned())
    }
    fn scan_prefix(&self, tree: &str, prefix: &[u8]) -> Result<IndexRows, StoreError> {
        let trees = self.trees.read().unwrap_or_else(|p| p.into_inner());
        Ok(trees
            .get(tree)
            .map(|t| {
                t.range(prefix.to_vec()..)
                    .take_while(|(k, _)| k.starts_with(prefix))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default())
    }
    fn for_each(&self, tree: &str, visit: &mut RowVisitor<'_>) -> Result<(), StoreError> {
        let trees = self.trees.read().unwrap_or_else(|p| p.into_inner());
        for (k, v) in trees.get(tree).into_iter().flatten() {
            visit(k, v)?;
        }
        Ok(())
    }
    fn apply(&self, rows: &[IndexEntry]) -> Result<(), StoreError> {
        let mut trees = self.trees.write().unwrap_or_else(|p| p.into_inner());
        for row in rows {
            trees
                .entry(row.tree.to_owned())
                .or_default()
                .insert(row.key.clone(), row.value.clone());
        }
        Ok(())
    }
    fn clear(&self) -> Result<(), StoreError> {
        self.trees
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        Ok(())
    }
    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// sled's errors stay inside this module: no sled type in the public API.
fn sled_error(e: sled::Error) -> StoreError {
    StoreError::Index(e.to_string())
}

/// The sled index.
pub(crate) struct SledIndex {
    db: sled::Db,
}

impl SledIndex {
    /// Opens the database at `path`; one that cannot be opened (damaged) is removed and
    /// created anew, which `rebuilt` reports.
    pub(crate) fn open(path: &Path, rebuilt: &mut bool) -> Result<Self, StoreError> {
        let config = || {
            // No background fsync: the index is derived, its writes never wait for a disk.
            sled::Config::new().path(path).flush_every_ms(None)
        };
        let started = std::time::Instant::now();
        loop {
            match config().open() {
                Ok(db) => return Ok(Self { db }),
                // sled reports its lock as ErrorKind::Other with this message; it releases
                // it from a background thread after the last handle drops: wait a little
                // rather than mistake a lock for damage (a loaded machine can take seconds).
                Err(sled::Error::Io(e)) if e.to_string().contains("could not acquire lock") => {
                    if started.elapsed() > std::time::Duration::from_secs(30) {
                        return Err(StoreError::Index(format!("{}: {e}", path.display())));
                    }
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(_) => {
                    if path.exists() {
                        std::fs::remove_dir_all(path).map_err(io(path))?;
                    }
                    *rebuilt = true;
                    return Ok(Self {
                        db: config().open().map_err(sled_error)?,
                    });
                }
            }
        }
    }
}

impl SledIndex {
    /// Opens a copy of the database at `path` in a new directory under `scratch` (sled
    /// writes to what it opens, even to read: a read-only check must not). The copy is
    /// removed when the returned [`IndexCopy`] drops, after the database it holds. See
    /// [`scratch_room`] first.
    pub(crate) fn open_copy(path: &Path, scratch: &Path) -> Result<IndexCopy, StoreError> {
        let copy = scratch.join(format!(
            "urne-fsck-index-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        let guard = CopyGuard(copy.clone());
        copy_dir(path, &copy)?;
        let db = sled::Config::new()
            .path(&copy)
            .flush_every_ms(None)
            .temporary(false)
            .open()
            .map_err(sled_error)?;
        Ok(IndexCopy {
            index: Self { db },
            _guard: guard,
        })
    }
}

/// A copied index, open. Fields drop in declaration order: the database closes before
/// its directory is removed (the other way round, sled's files vanish under it).
pub(crate) struct IndexCopy {
    pub(crate) index: SledIndex,
    _guard: CopyGuard,
}

/// Removes a copied index when dropped.
struct CopyGuard(std::path::PathBuf);

impl Drop for CopyGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Whether `scratch` (created if need be) has room for a copy of the database at `path`.
pub(crate) fn scratch_room(path: &Path, scratch: &Path) -> Result<(), StoreError> {
    let needed = dir_size(path)?;
    std::fs::create_dir_all(scratch).map_err(io(scratch))?;
    let free = fs2::available_space(scratch).map_err(io(scratch))?;
    // Some room beyond the copy itself: sled writes to the copy when it opens it.
    let margin = 64 << 20;
    if free < needed.saturating_add(margin) {
        return Err(StoreError::Index(format!(
            "a copy of {} takes {needed} bytes and {} has {free} free",
            path.display(),
            scratch.display()
        )));
    }
    Ok(())
}

fn dir_size(path: &Path) -> Result<u64, StoreError> {
    let meta = std::fs::metadata(path).map_err(io(path))?;
    if !meta.is_dir() {
        return Ok(meta.len());
    }
    let mut total = 0u64;
    for entry in std::fs::read_dir(path).map_err(io(path))? {
        let entry = entry.map_err(io(path))?;
        let meta = entry.metadata().map_err(io(&entry.path()))?;
        total = total.saturating_add(if meta.is_dir() {
            dir_size(&entry.path())?
        } else {
            meta.len()
        });
    }
    Ok(total)
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), StoreError> {
    std::fs::create_dir_all(to).map_err(io(to))?;
    for entry in std::fs::read_dir(from).map_err(io(from))? {
        let entry = entry.map_err(io(from))?;
        let target = to.join(entry.file_name());
        if entry.file_type().map_err(io(from))?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target).map_err(io(&target))?;
        }
    }
    Ok(())
}

impl Index for SledIndex {
    fn get(&self, tree: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .db
            .open_tree(tree)
            .and_then(|t| t.get(key))
            .map_err(sled_error)?
            .map(|v| v.to_vec()))
    }
    fn scan_prefix(&self, tree: &str, prefix: &[u8]) -> Result<IndexRows, StoreError> {
        self.db
            .open_tree(tree)
            .map_err(sled_error)?
            .scan_prefix(prefix)
            .map(|item| {
                let (k, v) = item.map_err(sled_error)?;
                Ok((k.to_vec(), v.to_vec()))
            })
            .collect()
    }
    fn for_each(&self, tree: &str, visit: &mut RowVisitor<'_>) -> Result<(), StoreError> {
        for item in self.db.open_tree(tree).map_err(sled_error)?.iter() {
            let (k, v) = item.map_err(sled_error)?;
            visit(&k, &v)?;
        }
        Ok(())
    }
    fn apply(&self, rows: &[IndexEntry]) -> Result<(), StoreError> {
        let mut batches: BTreeMap<&'static str, sled::Batch> = BTreeMap::new();
        for row in rows {
            batches
                .entry(row.tree)
                .or_default()
                .insert(row.key.as_slice(), row.value.as_slice());
        }
        // The bookkeeping goes last: sled recovers a prefix of its writes, so a count
        // that survived a crash never claims keys that did not.
        let meta = batches.remove(META);
        for (tree, batch) in batches {
            self.db
                .open_tree(tree)
                .and_then(|t| t.apply_batch(batch))
                .map_err(sled_error)?;
        }
        if let Some(batch) = meta {
            self.db
                .open_tree(META)
                .and_then(|t| t.apply_batch(batch))
                .map_err(sled_error)?;
        }
        Ok(())
    }
    fn clear(&self) -> Result<(), StoreError> {
        for name in self.db.tree_names() {
            if name.as_ref() == b"__sled__default" {
                continue;
            }
            self.db.drop_tree(&name).map_err(sled_error)?;
        }
        Ok(())
    }
    fn flush(&self) -> Result<(), StoreError> {
        self.db.flush().map_err(sled_error)?;
        Ok(())
    }
}

/// The rows for a batch of log entries: the layers' keys, and the bookkeeping (count
/// and tip) last, so that an index cut anywhere says how far it got.
pub(crate) fn rows_for<R: AsRef<[u8]>>(
    batch: &[(u64, R, Hash)],
    keys: &Option<IndexFn>,
) -> Vec<IndexEntry> {
    let mut rows = Vec::with_capacity(batch.len() + 2);
    for (index, record, _) in batch {
        if let Some(f) = keys {
            rows.extend(f(*index, record.as_ref()));
        }
    }
    if let Some((index, _, hash)) = batch.last() {
        rows.push(IndexEntry {
            tree: META,
            key: b"count".to_vec(),
            value: (index + 1).to_be_bytes().to_vec(),
        });
        rows.push(IndexEntry {
            tree: META,
            key: b"tip".to_vec(),
            value: hash.0.to_vec(),
        });
    }
    rows
}

/// The count of entries the index says it holds, and the hash of the last one.
pub(crate) fn indexed(index: &dyn Index) -> Result<(u64, Option<Hash>, Vec<u8>), StoreError> {
    let count = index
        .get(META, b"count")?
        .and_then(|v| v.as_slice().try_into().ok())
        .map(u64::from_be_bytes)
        .unwrap_or(0);
    let tip = index.get(META, b"tip")?.and_then(|v| Hash::from_slice(&v));
    let schema = index.get(META, b"schema")?.unwrap_or_default();
    Ok((count, tip, schema))
}
