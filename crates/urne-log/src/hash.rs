//! RFC 6962 §2.1 hashing.

use core::fmt;

use sha2::{Digest, Sha256};

/// A SHA-256 Merkle tree hash.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// The root of the empty tree: SHA-256 of the empty string.
    pub fn empty() -> Self {
        Self(Sha256::digest([]).into())
    }

    /// Lowercase hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses exactly 64 lowercase hex digits ([`crate::strict_hex`]).
    pub fn from_hex(text: &str) -> Option<Self> {
        crate::strict_hex::decode_array(text).map(Self)
    }

    /// From a slice of exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(Self)
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", self.to_hex())
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// MTH({d}) = SHA-256(0x00 ‖ d).
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(entry);
    Hash(h.finalize().into())
}

/// SHA-256(0x01 ‖ left ‖ right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left.0);
    h.update(right.0);
    Hash(h.finalize().into())
}

/// The largest power of two strictly below n, the RFC's split point k; 0 when n < 2
/// (a tree of 0 or 1 leaves has no split). Total: no input panics.
pub fn split_point(n: u64) -> u64 {
    n.saturating_sub(1).checked_ilog2().map_or(0, |e| 1u64 << e)
}

/// The root of a list of leaf hashes, by the RFC's recursive definition (reference
/// implementation for tests and small trees; storage uses [`crate::proof::range_hash`]).
pub fn root_of(leaves: &[Hash]) -> Hash {
    match leaves {
        [] => Hash::empty(),
        [leaf] => *leaf,
        _ => {
            let k = usize::try_from(split_point(leaves.len() as u64)).unwrap_or(0);
            let (left, right) = leaves.split_at(k.min(leaves.len()));
            node_hash(&root_of(left), &root_of(right))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_point_is_the_largest_power_of_two_below() {
        assert_eq!(split_point(2), 1);
        assert_eq!(split_point(3), 2);
        assert_eq!(split_point(4), 2);
        assert_eq!(split_point(5), 4);
        assert_eq!(split_point(8), 4);
        assert_eq!(split_point(9), 8);
        assert_eq!(split_point(u64::MAX), 1 << 63);
        assert_eq!(split_point(1), 0);
        assert_eq!(split_point(0), 0);
    }

    #[test]
    fn hex_round_trip_is_strict() {
        let h = leaf_hash(b"x");
        assert_eq!(Hash::from_hex(&h.to_hex()), Some(h));
        assert_eq!(Hash::from_hex(&h.to_hex().to_uppercase()), None);
        assert_eq!(Hash::from_hex("00"), None);
        assert_eq!(Hash::from_hex(&format!("{}0", h.to_hex())), None);
        assert_eq!(Hash::from_hex(&format!("+{}", &h.to_hex()[1..])), None);
    }
}
