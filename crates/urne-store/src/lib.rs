//! The bulletin board's storage (spec/11-storage.md).
//!
//! What it is for: keeping every acknowledged record, byte for byte, across crashes and
//! power loss. `log.dat` — length-prefixed frames, each carrying its RFC 6962 leaf hash
//! as checksum — is the record of truth; an append is acknowledged only after
//! `fdatasync`, and concurrent appends share one sync (group commit). Everything else is
//! derived from it: entry offsets, the node hashes of every height (so that a proof or a
//! root is a few reads), entry hash → index (in memory, rebuilt from the leaf hashes on
//! every open), and the layers' index (sled 0.34, whose `flush` does not fsync: an
//! index here, never the truth). On open every hash after the last checkpoint is
//! recomputed from the frames, a torn tail is cut into a side file, damage that
//! acknowledged frames follow is refused, and a log that contradicts its checkpoint is
//! refused. A background scrub rehashes everything and stops the store on a mismatch.
//! All file I/O goes through [`FileSystem`], so durability is tested on a simulated
//! disk ([`sim::SimDisk`]) that loses what was not synced.
//!
//! What it must never do: acknowledge a record that is not durable, drop an acknowledged
//! one, sign over (or let anyone sign over) a root it did not check against the log,
//! re-serialise a record, or know what a record means.

#![deny(unsafe_code)]

mod checkpoint;
mod entries;
mod error;
mod frame;
mod fs;
mod fsck;
mod index;
mod indexer;
mod levels;
mod read;
mod recovery;
mod scrub;
pub mod sim;
mod store;
mod writer;

pub use error::StoreError;
pub use frame::{FRAME_HEADER, MAX_RECORD_BYTES};
pub use fs::{FileSystem, LockGuard, RealFs, StoreFile};
pub use fsck::{FsckFinding, FsckOptions, FsckReport, fsck};
pub use index::{Index, IndexBackend, IndexEntry, IndexFn, IndexRows, RowVisitor};
pub use scrub::ScrubStatus;
pub use store::{
    CutReport, OpenReport, Scrub, Store, StoreOptions, pause_indexer_for_tests,
    set_index_count_for_tests, stop_for_tests, unindexed_for_tests,
};
pub use writer::Pending;
