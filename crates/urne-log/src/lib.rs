//! The public log's mathematics, without storage or election knowledge.
//!
//! What it is for: Merkle tree hashing exactly as RFC 6962 / RFC 9162 (leaf =
//! SHA-256(0x00 ‖ entry), node = SHA-256(0x01 ‖ left ‖ right)); inclusion and
//! consistency proofs, produced from any source of complete-subtree hashes and verified
//! as pure functions; the C2SP signed-note, tlog-checkpoint and tlog-cosignature
//! formats with Ed25519 (spec/10-log.md), and the tlog-witness `add-checkpoint` wire
//! format (spec/14-witness.md).
//!
//! What it must never do: I/O, accept a malformed note or checkpoint, or verify an
//! Ed25519 signature other than with `verify_strict`. The verifier, the witness and
//! clients use this crate as it is.

#![deny(unsafe_code)]

pub mod checkpoint;
pub mod hash;
pub mod note;
pub mod proof;
pub mod strict_hex;
pub mod tiles;
pub mod witness_protocol;

pub use checkpoint::Checkpoint;
pub use hash::{Hash, leaf_hash, node_hash};
pub use proof::{ProofError, verify_consistency, verify_inclusion};
