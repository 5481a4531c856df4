//! Entry hash → index, in memory (spec/11-storage.md §11.2).
//!
//! Every acceptance asks whether a record is already in the log, so this lookup is on
//! the hot path of every append; kept in sled it cost a tree insert per record and
//! sled's I/O threads' wake-ups, about a quarter of the board's CPU per record. It is
//! rebuilt on every open from `height-0.dat` (the leaf hashes, which recovery checked
//! against the checkpoint and recomputed from the frames after it), so it is never
//! written to disk and can never disagree with the log.
//!
//! Only the first 8 bytes of each leaf hash are kept (16 bytes an entry, not 40): a
//! lookup confirms each candidate against the full leaf hash in `height-0.dat`. Leaf
//! hashes are SHA-256 outputs, but anyone can grind two records sharing 8 bytes
//! (about 2^32 tries), so a shared prefix holds every entry that has it.

use std::collections::HashMap;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use urne_log::Hash;

#[derive(Default)]
struct Slots {
    /// The first entry with each prefix.
    first: HashMap<u64, u64>,
    /// Later entries with a prefix already taken, in log order.
    more: HashMap<u64, Vec<u64>>,
}

/// Entry hash → index for every entry written to `height-0.dat`; readers confirm a
/// candidate against its full leaf hash and its durability.
#[derive(Default)]
pub(crate) struct EntryHashes {
    slots: RwLock<Slots>,
}

fn prefix(hash: &Hash) -> u64 {
    let mut first = [0u8; 8];
    first.copy_from_slice(&hash.0[..8]);
    u64::from_le_bytes(first)
}

impl EntryHashes {
    fn read(&self) -> RwLockReadGuard<'_, Slots> {
        self.slots.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Slots> {
        self.slots.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds entries `first`, `first + 1`, … with these leaf hashes (in log order).
    pub(crate) fn add(&self, first: u64, hashes: &[Hash]) {
        let mut slots = self.write();
        let Slots {
            first: firsts,
            more,
        } = &mut *slots;
        firsts.reserve(hashes.len());
        for (i, hash) in hashes.iter().enumerate() {
            let index = first + i as u64;
            match firsts.entry(prefix(hash)) {
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(index);
                }
                std::collections::hash_map::Entry::Occupied(slot) => {
                    more.entry(*slot.key()).or_default().push(index);
                }
            }
        }
    }

    /// The entries whose leaf hash may be `hash`, latest first.
    pub(crate) fn candidates(&self, hash: &Hash) -> Vec<u64> {
        let key = prefix(hash);
        let slots = self.read();
        let Some(first) = slots.first.get(&key) else {
            return Vec::new();
        };
        let mut found: Vec<u64> = slots
            .more
            .get(&key)
            .map(|later| later.iter().rev().copied().collect())
            .unwrap_or_default();
        found.push(*first);
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash_with_prefix(prefix: u8, rest: u8) -> Hash {
        let mut bytes = [rest; 32];
        bytes[..8].copy_from_slice(&[prefix; 8]);
        Hash(bytes)
    }

    #[test]
    fn entries_sharing_a_prefix_are_all_candidates_latest_first() {
        let entries = EntryHashes::default();
        entries.add(0, &[hash_with_prefix(1, 0), hash_with_prefix(2, 0)]);
        entries.add(2, &[hash_with_prefix(1, 9), hash_with_prefix(1, 7)]);
        assert_eq!(entries.candidates(&hash_with_prefix(1, 5)), vec![3, 2, 0]);
        assert_eq!(entries.candidates(&hash_with_prefix(2, 0)), vec![1]);
        assert!(entries.candidates(&hash_with_prefix(3, 0)).is_empty());
    }
}
