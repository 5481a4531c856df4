//! The browser booth's WebAssembly module (spec/60-booth.md).
//!
//! What it is for: everything the voter's browser computes, with the same Rust code the
//! CLI and the verifier run — the election context hash from the board's sealed
//! parameters, the credential's public key, the encrypted ballot with its proofs and its
//! credential signature, the `ballot.cast` and `ballot.audit` records (byte for byte the
//! CLI's), and the voter's receipt (spec/52) and its checks. [`Booth`] holds the
//! operations; [`abi`] exports them to JavaScript as bytes in, JSON out.
//!
//! What it must never do: let a secret leave the module except the audit opening the
//! voter asks for (the credential is used and dropped; a cast ballot's nonces are wiped
//! with the ballot), take randomness from anywhere but the 32 fresh bytes of the
//! browser's `crypto.getRandomValues` handed to each operation, or panic on input from
//! the page or the board.

#![warn(missing_docs)]

pub mod abi;
mod booth;
mod receipt;
mod records;

pub use booth::{
    AnonymityView, AuditOutcome, Booth, BoothError, CastOutcome, ContestView, ElectionParams,
    ElectionView, MadeBallot, Seed, Selection, SnapshotParams, WalletView, eligibility_policy,
};
pub use receipt::{Receipt, ReceiptCheck};
pub use records::{
    anonymous_audit_body, anonymous_cast_body, audit_body, cast_body, decode_cast_body,
};
