//! Inclusion and consistency proofs (RFC 9162 §2.1.3 and §2.1.4).
//!
//! Proofs are produced from any [`HashSource`] — the hashes of complete subtrees, which
//! storage keeps in tiles — and verified by pure functions that follow the RFC's
//! verification algorithms step by step.

use core::fmt;

use crate::hash::{Hash, node_hash, root_of, split_point};

/// Hashes of complete subtrees: `subtree(h, i)` is the hash of the 2^h leaves starting
/// at leaf i·2^h. Only subtrees inside the tree are ever asked for.
pub trait HashSource {
    /// What can go wrong reading the hashes.
    type Error;
    /// The hash of leaves [i·2^h, (i+1)·2^h).
    fn subtree(&self, height: u32, index: u64) -> Result<Hash, Self::Error>;
}

/// A subtree asked of an in-memory tree that does not hold it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotInTree {
    /// The subtree's height.
    pub height: u32,
    /// Its index.
    pub index: u64,
}

impl fmt::Display for NotInTree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "subtree {} at height {} is not in the tree",
            self.index, self.height
        )
    }
}

/// Leaf hashes in memory (tests, small trees).
impl HashSource for [Hash] {
    type Error = NotInTree;
    fn subtree(&self, height: u32, index: u64) -> Result<Hash, Self::Error> {
        let missing = NotInTree { height, index };
        // checked_shl only refuses shifts of 64 or more and drops high bits silently:
        // multiply by the width instead, so an index past the tree is never wrapped
        // onto one inside it.
        let width = 1u64.checked_shl(height).ok_or(missing)?;
        let start = index.checked_mul(width).ok_or(missing)?;
        let end = start.checked_add(width).ok_or(missing)?;
        let leaves = self.get(
            usize::try_from(start).map_err(|_| missing)?
                ..usize::try_from(end).map_err(|_| missing)?,
        );
        leaves.map(root_of).ok_or(missing)
    }
}

/// MTH(D[start:end]) for a range that the RFC's recursion produces (start is a multiple
/// of the largest power of two not above end − start): the right fold of the maximal
/// aligned complete subtrees the range splits into.
pub fn range_hash<S: HashSource + ?Sized>(
    source: &S,
    start: u64,
    end: u64,
) -> Result<Hash, S::Error> {
    if start == end {
        return Ok(Hash::empty());
    }
    let mut parts = Vec::with_capacity(64);
    let mut at = start;
    while at < end {
        // Largest aligned power of two that fits.
        let mut height = if at == 0 { 63 } else { at.trailing_zeros() };
        while height > 0 && (1u64 << height) > end - at {
            height -= 1;
        }
        parts.push(source.subtree(height, at >> height)?);
        at += 1u64 << height;
    }
    let mut hash = parts.pop().unwrap_or_else(Hash::empty);
    while let Some(left) = parts.pop() {
        hash = node_hash(&left, &hash);
    }
    Ok(hash)
}

/// Why a proof could not be made.
#[derive(Debug, PartialEq, Eq)]
pub enum ProofRequestError<E> {
    /// The index or sizes do not describe a proof that exists.
    Invalid(&'static str),
    /// The hash source failed.
    Source(E),
}

impl<E: fmt::Display> fmt::Display for ProofRequestError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Invalid(why) => f.write_str(why),
            Self::Source(e) => write!(f, "reading the tree: {e}"),
        }
    }
}

/// The inclusion proof of leaf `index` in the tree of `size` leaves (RFC 9162 §2.1.3.1).
pub fn inclusion_proof<S: HashSource + ?Sized>(
    source: &S,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, ProofRequestError<S::Error>> {
    if index >= size {
        return Err(ProofRequestError::Invalid(
            "leaf index is not below the tree size",
        ));
    }
    let mut proof = Vec::new();
    // Walk down from the root, recording each sibling range; the proof lists them
    // bottom-up.
    let (mut m, mut start, mut n) = (index, 0u64, size);
    let mut siblings = Vec::new();
    while n > 1 {
        let k = split_point(n);
        if m < k {
            siblings.push((start + k, start + n));
            n = k;
        } else {
            siblings.push((start, start + k));
            m -= k;
            start += k;
            n -= k;
        }
    }
    for (a, b) in siblings.into_iter().rev() {
        proof.push(range_hash(source, a, b).map_err(ProofRequestError::Source)?);
    }
    Ok(proof)
}

/// The consistency proof between the trees of `first` and `second` leaves (RFC 9162
/// §2.1.4.1). Empty when first = second or first = 0.
pub fn consistency_proof<S: HashSource + ?Sized>(
    source: &S,
    first: u64,
    second: u64,
) -> Result<Vec<Hash>, ProofRequestError<S::Error>> {
    if first > second {
        return Err(ProofRequestError::Invalid("first size exceeds second size"));
    }
    if first == 0 || first == second {
        return Ok(Vec::new());
    }
    // SUBPROOF(m, D[start:start+n], b), unrolled: collect the ranges top-down, emit
    // them bottom-up.
    let (mut m, mut start, mut n, mut whole) = (first, 0u64, second, true);
    let mut ranges = Vec::new();
    loop {
        if m == n {
            if !whole {
                ranges.push((start, start + m));
            }
            break;
        }
        let k = split_point(n);
        if m <= k {
            ranges.push((start + k, start + n));
            n = k;
        } else {
            ranges.push((start, start + k));
            m -= k;
            start += k;
            n -= k;
            whole = false;
        }
    }
    ranges
        .into_iter()
        .rev()
        .map(|(a, b)| range_hash(source, a, b).map_err(ProofRequestError::Source))
        .collect()
}

/// Why a proof did not verify.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProofError {
    /// The leaf index is not below the tree size.
    IndexOutOfRange,
    /// The first tree is larger than the second.
    SizesOutOfOrder,
    /// The proof has too many or too few hashes for these sizes.
    WrongLength,
    /// The computed root does not match the given root.
    RootMismatch,
}

impl fmt::Display for ProofError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::IndexOutOfRange => "leaf index is not below the tree size",
            Self::SizesOutOfOrder => "the first tree size exceeds the second",
            Self::WrongLength => "the proof has the wrong number of hashes",
            Self::RootMismatch => "the proof leads to a different root",
        })
    }
}

impl std::error::Error for ProofError {}

/// Verifies an inclusion proof (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange);
    }
    let (mut f_n, mut s_n) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if s_n == 0 {
            return Err(ProofError::WrongLength);
        }
        if f_n & 1 == 1 || f_n == s_n {
            r = node_hash(p, &r);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    if s_n != 0 {
        return Err(ProofError::WrongLength);
    }
    if r != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// Verifies a consistency proof (RFC 9162 §2.1.4.2), with the RFC's preconditions: equal
/// sizes need equal roots and an empty proof; an empty first tree is consistent with
/// everything, with an empty proof.
pub fn verify_consistency(
    first: u64,
    second: u64,
    first_root: &Hash,
    second_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if first > second {
        return Err(ProofError::SizesOutOfOrder);
    }
    if first == second {
        if !proof.is_empty() {
            return Err(ProofError::WrongLength);
        }
        return if first_root == second_root {
            Ok(())
        } else {
            Err(ProofError::RootMismatch)
        };
    }
    if first == 0 {
        return if proof.is_empty() {
            Ok(())
        } else {
            Err(ProofError::WrongLength)
        };
    }
    if proof.is_empty() {
        return Err(ProofError::WrongLength);
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if first.is_power_of_two() {
        path.push(*first_root);
    }
    path.extend_from_slice(proof);
    let (mut f_n, mut s_n) = (first - 1, second - 1);
    while f_n & 1 == 1 {
        f_n >>= 1;
        s_n >>= 1;
    }
    let (mut f_r, mut s_r) = (path[0], path[0]);
    for c in &path[1..] {
        if s_n == 0 {
            return Err(ProofError::WrongLength);
        }
        if f_n & 1 == 1 || f_n == s_n {
            f_r = node_hash(c, &f_r);
            s_r = node_hash(c, &s_r);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            s_r = node_hash(&s_r, c);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    if s_n != 0 {
        return Err(ProofError::WrongLength);
    }
    if f_r != *first_root || s_r != *second_root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}
