//! The bulletin board's storage (spec/11-storage.md).
//!
//! What it is for: keeping every acknowledged record, byte for byte, across crashes.
//! `log.dat` — length-prefixed frames, each carrying its RFC 6962 leaf hash as checksum —
//! is the record of truth; an append is acknowledged only after `fdatasync`, and
//! concurrent appends share one sync (group commit). Everything else is derived from it
//! and rebuilt when it disagrees: entry offsets, the tile hashes of every level (so that
//! opening a large log rehashes nothing), and sled indexes (sled 0.34's `flush` does not
//! fsync: it is an index here, never the truth). On open a torn tail is truncated, the
//! tree is recomputed from the tiles and checked against the last saved checkpoint, and
//! a log that contradicts it is refused.
//!
//! What it must never do: acknowledge a record that is not durable, drop an acknowledged
//! one, re-serialise a record, or know what a record means.

#![deny(unsafe_code)]

mod error;
mod frame;
mod levels;
mod store;

pub use error::StoreError;
pub use frame::{FRAME_HEADER, MAX_RECORD_BYTES};
pub use store::{IndexEntry, IndexFn, OpenReport, Pending, Store, StoreOptions};
