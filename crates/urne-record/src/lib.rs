//! The record envelope of the urne bulletin board (spec/12-records.md).
//!
//! What it is for: the exact bytes of a signed record ([`Record`]), the codes of record
//! kinds ([`Kind`]), context ids and the bodies of the records that open a context and
//! move its phase ([`context`]), and their errors ([`RecordError`]). The board, the
//! verifier and the browser booth all read records through this crate, so it is pure:
//! no storage, no clock, no randomness of its own, no HTTP; it builds for wasm32.
//!
//! What it must never do: re-serialise a record (the bytes received are the bytes
//! stored, hashed and served), accept a record a strict parser would refuse, or know
//! anything of the board's acceptance rules (those live in urne-board, and the verifier
//! must not depend on them).

#![deny(unsafe_code)]

pub mod context;
mod envelope;
mod error;
mod hex;

pub use context::{
    ContextId, ContextOpen, ContextPhase, ContextType, NameError, check_context_name, hides_text,
};
pub use envelope::{
    ENVELOPE_OVERHEAD, Kind, MAX_RECORD_BYTES, RECORD_SIGNATURE_LABEL, RECORD_VERSION, Record,
    leaf_hash,
};
pub use error::RecordError;

/// The record kinds every board knows (spec/12-records.md §12.2). Domain crates define
/// their own codes in their spec pages.
pub mod kinds {
    use crate::Kind;

    /// `context.open`: opens a context (election, petition, sitting).
    pub const CONTEXT_OPEN: Kind = Kind(0x0001);
    /// `context.phase`: moves a context to another phase of its type's state machine.
    pub const CONTEXT_PHASE: Kind = Kind(0x0002);
}
