//! The independent verifier (spec/50-verification.md): every check of a board re-run
//! from its public log alone, as numbered steps, with a report that names each failed
//! step, the record at fault and the field.
//!
//! What it is for: `urne verify` (a board URL or an archive), `urne demo`'s verification,
//! the tamper suite. It takes the log as bytes ([`Archive`], spec/51), from a file or
//! fetched over the board's HTTP API ([`fetch`]), and re-verifies it with the pure crates:
//! urne-log for the tree and the checkpoints, its own fold of each election's rules
//! (spec/23, [`election`]), of each petition's (spec/32, [`petition`]) and of each
//! chamber's and sitting's (spec/40, [`assembly`]), the domain crates for every proof.
//!
//! What it must never do: depend on urne-board, urne-store or urne-server, or use
//! urne-election's, urne-petition's or urne-assembly's acceptance fold (a bug in the
//! board's acceptance must not hide from it; the last two are dev-dependencies, for the
//! differential tests only), trust anything the board says about its own log, or panic
//! on bytes from outside.

#![deny(unsafe_code)]

pub mod archive;
pub mod assembly;
pub mod election;
mod fetch;
pub mod petition;
pub mod receipt;
mod report;
mod snapshot;
mod state;
mod verify;

pub use archive::{Archive, ArchiveError};
pub use election::{Phase, kinds};
pub use fetch::{FetchError, fetch};
pub use receipt::{CheckedReceipt, ReceiptError, VoterReceipt, ballots_with_credential};
pub use report::{
    DistrictCount, ElectionSummary, Failure, PetitionSummary, Report, Step, StepReport, Trust,
};
pub use state::{STATE_MAGIC, StateError, VerifiedState, options_hash};
pub use verify::{Options, Progress, Quiet, verify};
