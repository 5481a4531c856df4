//! Petitions (spec/32-petitions.md; ARCHITECTURE §8): a pure fold over a petition
//! context's records, which the board's adapter, the verifier and the CLI all run.
//!
//! What it is for: a petition's definition (text hash, threshold, deadline, scope, the
//! registrars whose snapshot it uses), the snapshot posted into it, its lifecycle
//! (draft → open → closed → reached or not reached), anonymous signatures — a
//! linkable ring signature (urne-crypto's Triptych) over one bucket of the snapshot,
//! one tag per person per petition — withdrawal by the same tag, and [`recount`].
//!
//! What it must never do: I/O, know the board or its storage, count a tag twice, or
//! accept a record a replay of the log would refuse.

#![deny(unsafe_code)]

mod body;
mod error;
pub mod kinds;
mod phase;
mod recount;
pub mod signature;
mod state;

pub use body::{
    Definition, Duplicate, MAX_SCOPE, PROTOCOL_MIN_REAL_KEYS, PetitionResult, Policy, SignatureBody,
};
pub use error::{PetitionError, Violation};
pub use phase::Phase;
pub use recount::{PetitionCount, PetitionRecord, recount};
pub use state::{Decoded, PetitionState, Sealed};

/// The smallest ring a wallet signs in by default (spec/32 §32.9): a bucket of 2^10 keys.
pub const MIN_BUCKET_SIZE: usize = 1 << 10;
/// The fewest registered (non-padding) keys a wallet's bucket must hold by default
/// (spec/32 §32.9): padding hides nobody.
pub const MIN_REAL_KEYS: usize = 1 << 9;

/// Frozen labels of this crate (spec/32 §32.1).
pub mod labels {
    /// The context bytes of a signature start with this.
    pub const SIGNATURE: &[u8] = b"urne/v1/petition/signature\n";
    /// The context bytes of a withdrawal start with this.
    pub const WITHDRAWAL: &[u8] = b"urne/v1/petition/withdrawal\n";
}
