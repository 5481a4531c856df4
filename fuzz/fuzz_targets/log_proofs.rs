//! The tree arithmetic with arbitrary sizes, indexes and heights (the values a proof
//! request or a proof carries): split points, subtrees from leaves and from tiles, proof
//! making and verifying never panic, and whatever is made from a real tree verifies.
#![no_main]

use libfuzzer_sys::fuzz_target;
use urne_log::hash::{root_of, split_point};
use urne_log::proof::{HashSource, consistency_proof, inclusion_proof};
use urne_log::tiles::{StoredHashes, Tiled};
use urne_log::{Hash, leaf_hash, verify_consistency, verify_inclusion};

/// Level 0 of tiles: the leaves themselves; nothing above (so higher levels are errors).
struct Leaves(Vec<Hash>);

impl StoredHashes for Leaves {
    type Error = ();
    fn stored(&self, level: u32, position: u64) -> Result<Hash, ()> {
        if level != 0 {
            return Err(());
        }
        usize::try_from(position)
            .ok()
            .and_then(|p| self.0.get(p))
            .copied()
            .ok_or(())
    }
}

fn u64_at(data: &[u8], at: usize) -> u64 {
    let mut bytes = [0u8; 8];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = data.get(at + i).copied().unwrap_or(0);
    }
    u64::from_le_bytes(bytes)
}

fuzz_target!(|data: &[u8]| {
    let (a, b) = (u64_at(data, 0), u64_at(data, 8));
    let height = u64_at(data, 16) as u32;
    let _ = split_point(a);
    let n = (a % 200) as usize + 1;
    let leaves: Vec<Hash> = (0..n as u32).map(|i| leaf_hash(&i.to_le_bytes())).collect();
    let _ = leaves[..].subtree(height, b);
    let tiles = Leaves(leaves.clone());
    let _ = Tiled(&tiles).subtree(height, b);
    for (x, y) in [(a, b), (a % 256, b % 256), (b % n as u64, n as u64)] {
        let _ = inclusion_proof(&leaves[..], x, y);
        let _ = consistency_proof(&leaves[..], x, y);
        let proof: Vec<Hash> = data.chunks_exact(32).filter_map(Hash::from_slice).collect();
        let _ = verify_inclusion(&leaves[0], x, y, &proof, &leaves[0]);
        let _ = verify_consistency(x, y, &leaves[0], &leaves[0], &proof);
    }
    let root = root_of(&leaves);
    let index = b % n as u64;
    if let Ok(proof) = inclusion_proof(&leaves[..], index, n as u64) {
        assert!(verify_inclusion(&leaves[index as usize], index, n as u64, &proof, &root).is_ok());
    }
    let first = b % (n as u64 + 1);
    if let Ok(proof) = consistency_proof(&leaves[..], first, n as u64) {
        let first_root = root_of(&leaves[..first as usize]);
        assert!(verify_consistency(first, n as u64, &first_root, &root, &proof).is_ok());
    }
});
