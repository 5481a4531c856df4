//! Reads: entries (checked against the tree), roots, proofs, tiles and entry bundles,
//! and the full check of every entry and node (spec/11-storage.md §11.6).

use urne_log::Hash;
use urne_log::hash::node_hash;
use urne_log::proof::{
    HashSource, ProofRequestError, consistency_proof, inclusion_proof, range_hash,
};
use urne_log::tiles::TILE_WIDTH;

use crate::error::{StoreError, io};
use crate::frame;
use crate::store::{Inner, LOG, MEMORY_FROM, Store, height_file};

/// How many entries a range check reads between two reports of its progress.
pub(crate) const PROGRESS_EVERY: usize = 256;
/// How many tree nodes the check recomputes between two calls of its progress.
pub(crate) const NODE_PROGRESS_EVERY: usize = 4096;

impl Store {
    /// The record at `index`, as stored: its frame checksum verified, and its leaf hash
    /// checked against the tree's, so that a record altered in `log.dat` is never served
    /// as if it were the one the tree (and its checkpoints) commit to.
    pub fn entry(&self, index: u64) -> Result<Vec<u8>, StoreError> {
        let offset = {
            let state = self.inner.read_state();
            *state
                .offsets
                .get(index as usize)
                .ok_or_else(|| StoreError::OutOfRange {
                    detail: format!("entry {index} is beyond the log's {} entries", state.size),
                })?
        };
        let (record, hash) =
            frame::read(&*self.inner.log_reader, &self.inner.dir.join(LOG), offset)?;
        if hash != self.node(0, index)? {
            return Err(StoreError::Corrupt {
                what: "log.dat",
                detail: format!("entry {index} does not match the leaf hash the tree holds for it"),
            });
        }
        Ok(record)
    }

    /// The leaf hash of entry `index`.
    pub fn leaf_hash(&self, index: u64) -> Result<Hash, StoreError> {
        self.node(0, index)
    }

    fn check_size(&self, size: u64) -> Result<(), StoreError> {
        let current = self.size();
        if size > current {
            return Err(StoreError::OutOfRange {
                detail: format!("tree size {size} exceeds the log's {current}"),
            });
        }
        Ok(())
    }

    /// The root at `size` (≤ the current size).
    pub fn root(&self, size: u64) -> Result<Hash, StoreError> {
        self.check_size(size)?;
        if let Some((cached_size, root)) = *self
            .inner
            .root_cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            && cached_size == size
        {
            return Ok(root);
        }
        let root = range_hash(self, 0, size)?;
        *self
            .inner
            .root_cache
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some((size, root));
        Ok(root)
    }

    /// Inclusion proof of `index` in the tree of `size`.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, StoreError> {
        self.check_size(size)?;
        inclusion_proof(self, index, size).map_err(proof_error)
    }

    /// Consistency proof between two sizes.
    pub fn consistency_proof(&self, first: u64, second: u64) -> Result<Vec<Hash>, StoreError> {
        self.check_size(second)?;
        consistency_proof(self, first, second).map_err(proof_error)
    }

    /// The bytes of hash tile (level, index), `width` hashes (256 for a full tile):
    /// nodes at height 8·level.
    pub fn tile(&self, level: u8, index: u64, width: u64) -> Result<Vec<u8>, StoreError> {
        let start = index
            .checked_mul(TILE_WIDTH)
            .ok_or_else(|| StoreError::OutOfRange {
                detail: "tile index too large".into(),
            })?;
        let hashes = self.nodes(u32::from(level) * 8, start, width)?;
        Ok(hashes.iter().flat_map(|h| h.0).collect())
    }

    /// The entry bundle `index` of `width` entries: each a u16 big-endian length and bytes.
    pub fn entry_bundle(&self, index: u64, width: u64) -> Result<Vec<u8>, StoreError> {
        let start = index
            .checked_mul(TILE_WIDTH)
            .ok_or_else(|| StoreError::OutOfRange {
                detail: "bundle index too large".into(),
            })?;
        let mut out = Vec::new();
        let end = start
            .checked_add(width)
            .ok_or_else(|| StoreError::OutOfRange {
                detail: "bundle index too large".into(),
            })?;
        for i in start..end {
            let record = self.entry(i)?;
            out.extend_from_slice(&(record.len() as u16).to_be_bytes());
            out.extend_from_slice(&record);
        }
        Ok(out)
    }

    /// The full check opening does not make: every frame of `log.dat` is read and
    /// rehashed and compared with the tree's leaf hashes, and every height of the tree
    /// is recomputed from the one below. Returns the entries checked; the first
    /// disagreement is an error naming the entry or node. `progress` is called with the
    /// entries checked so far.
    pub fn check_all(&self, mut progress: impl FnMut(u64)) -> Result<u64, StoreError> {
        let size = self.size();
        self.inner.check_range(0, size, &mut |n, _| {
            progress(n);
            true
        })?;
        Ok(size)
    }

    /// The root at `size`, after checking every leaf hash not checked before against
    /// its frame in `log.dat`, and every node above those leaves against its children.
    /// This is the root to sign (spec/11-storage.md §11.3): a derived hash that does not
    /// match the log stops the store instead of reaching a signature.
    pub fn verified_root(&self, size: u64) -> Result<Hash, StoreError> {
        self.check_size(size)?;
        let mut verified = self
            .inner
            .verified
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if size > *verified {
            if let Err(e) = self.inner.check_range(*verified, size, &mut |_, _| true) {
                if !matches!(e, StoreError::Corrupt { .. }) {
                    return Err(e);
                }
                let reason = format!("a derived hash disagrees with log.dat: {e}");
                eprintln!("urne-store: STOPPED ACCEPTING RECORDS: {reason}");
                self.inner.acks.stop(reason);
                return Err(e);
            }
            *verified = size;
        }
        drop(verified);
        self.root(size)
    }
}

impl Inner {
    /// Checks the leaves [from, to) against their frames and every node over them
    /// against its children (children left of the range are taken as checked).
    /// `progress(entries, work)` is told the entries checked so far and the work done
    /// (leaves and nodes rehashed: recomputing the nodes is as much work again as the
    /// leaves, and a paced scrub must spread it too), every [`PROGRESS_EVERY`] leaves
    /// or [`NODE_PROGRESS_EVERY`] nodes; returning false stops the check there.
    pub(crate) fn check_range(
        &self,
        from: u64,
        to: u64,
        progress: &mut dyn FnMut(u64, u64) -> bool,
    ) -> Result<(), StoreError> {
        let offsets: Vec<u64> = self.read_state().offsets[from as usize..to as usize].to_vec();
        let log_path = self.dir.join(LOG);
        let chunk = 1u64 << 14;
        let mut start = from;
        while start < to {
            let n = chunk.min(to - start);
            let leaves = self.nodes(0, start, n)?;
            for (k, leaf) in leaves.iter().enumerate() {
                let i = start + k as u64;
                let (_, hash) =
                    frame::read(&*self.log_reader, &log_path, offsets[(i - from) as usize])?;
                if hash != *leaf {
                    return Err(StoreError::Corrupt {
                        what: "log.dat",
                        detail: format!(
                            "entry {i} does not match the leaf hash the tree holds for it"
                        ),
                    });
                }
                // Told often enough for a paced scrub to spread its reads evenly.
                if (k + 1) % PROGRESS_EVERY == 0
                    && k + 1 < leaves.len()
                    && !progress(i + 1, i + 1 - from)
                {
                    return Ok(());
                }
            }
            start += n;
            if !progress(start, start - from) {
                return Ok(());
            }
        }
        let mut work = to - from;
        let mut height = 1u32;
        while height < 64 && to >> height > 0 {
            let count = to >> height;
            let mut start = from >> height;
            while start < count {
                let n = (chunk * 4).min(count - start);
                let children = self.nodes(height - 1, 2 * start, 2 * n)?;
                let stored = self.nodes(height, start, n)?;
                for (p, (pair, node)) in children.chunks_exact(2).zip(&stored).enumerate() {
                    if (p + 1) % NODE_PROGRESS_EVERY == 0 && !progress(to, work + p as u64 + 1) {
                        return Ok(());
                    }
                    if node_hash(&pair[0], &pair[1]) != *node {
                        return Err(StoreError::Corrupt {
                            what: "height files",
                            detail: format!(
                                "node {} at height {height} (entries {} to {}) does not hash its children",
                                start + p as u64,
                                (start + p as u64) << height,
                                ((start + p as u64 + 1) << height) - 1
                            ),
                        });
                    }
                }
                start += n;
                work += n;
            }
            height += 1;
        }
        progress(to, work);
        Ok(())
    }

    /// Nodes start … start+count−1 at `height`, read at once.
    pub(crate) fn nodes(
        &self,
        height: u32,
        start: u64,
        count: u64,
    ) -> Result<Vec<Hash>, StoreError> {
        let missing = || StoreError::OutOfRange {
            detail: format!("no nodes {start}+{count} at height {height}"),
        };
        let end = start.checked_add(count).ok_or_else(missing)?;
        if height >= 64 || end > self.read_state().size >> height {
            return Err(missing());
        }
        if height < MEMORY_FROM {
            let reader = self
                .height_readers
                .get(height as usize)
                .ok_or_else(missing)?;
            let mut buf = vec![0u8; (count * 32) as usize];
            reader
                .read_exact_at(&mut buf, start * 32)
                .map_err(io(&self.dir.join(height_file(height))))?;
            return Ok(buf.chunks_exact(32).filter_map(Hash::from_slice).collect());
        }
        let state = self.read_state();
        state
            .upper
            .get((height - MEMORY_FROM) as usize)
            .and_then(|l| l.get(start as usize..end as usize))
            .map(<[Hash]>::to_vec)
            .ok_or_else(missing)
    }
}

fn proof_error(e: ProofRequestError<StoreError>) -> StoreError {
    match e {
        ProofRequestError::Invalid(why) => StoreError::OutOfRange {
            detail: why.to_owned(),
        },
        ProofRequestError::Source(e) => e,
    }
}

impl Store {
    /// Node `position` at `height` (complete subtrees only).
    fn node(&self, height: u32, position: u64) -> Result<Hash, StoreError> {
        self.nodes(height, position, 1)?
            .pop()
            .ok_or_else(|| StoreError::OutOfRange {
                detail: "empty read".into(),
            })
    }

    /// Nodes start … start+count−1 at `height`, read at once.
    fn nodes(&self, height: u32, start: u64, count: u64) -> Result<Vec<Hash>, StoreError> {
        self.inner.nodes(height, start, count)
    }
}

/// Every complete subtree is stored: one read per proof hash, no rehashing.
impl HashSource for Store {
    type Error = StoreError;
    fn subtree(&self, height: u32, index: u64) -> Result<Hash, StoreError> {
        self.node(height, index)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use super::NODE_PROGRESS_EVERY;
    use crate::index::IndexBackend;
    use crate::sim::SimDisk;
    use crate::store::{Scrub, Store, StoreOptions};

    #[test]
    fn recomputing_the_nodes_reports_progress_and_can_be_stopped() {
        let options = StoreOptions {
            fs: Arc::new(SimDisk::new()),
            index: IndexBackend::Memory,
            scrub: Scrub::Off,
            ..StoreOptions::default()
        };
        let (store, _) = Store::open(Path::new("/board"), options).unwrap();
        let entries = 4 * NODE_PROGRESS_EVERY as u64;
        let pending: Vec<_> = (0..entries)
            .map(|i| store.enqueue(i.to_le_bytes().to_vec()).unwrap())
            .collect();
        for p in pending {
            p.wait().unwrap();
        }
        let mut calls = Vec::new();
        store
            .inner
            .check_range(0, entries, &mut |n, work| {
                calls.push((n, work));
                true
            })
            .unwrap();
        let in_nodes = calls.iter().filter(|(_, work)| *work > entries).count();
        // About `entries` nodes in all: a report every NODE_PROGRESS_EVERY of them.
        assert!(in_nodes >= 2, "{calls:?}");
        assert!(calls.windows(2).all(|w| w[0].1 <= w[1].1), "{calls:?}");

        // Stopped at the first report past the leaves: nothing is reported after it.
        let mut after_stop = 0;
        let mut stopped = false;
        store
            .inner
            .check_range(0, entries, &mut |_, work| {
                if stopped {
                    after_stop += 1;
                }
                if work > entries {
                    stopped = true;
                }
                !stopped
            })
            .unwrap();
        assert!(stopped);
        assert_eq!(after_stop, 0);
    }
}
