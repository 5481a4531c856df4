//! urne's election ballots (spec/21-ballots.md).
//!
//! What it is for: the election manifest and its canonical bytes; the election context
//! hash that every proof of a ballot binds; ballot encryption under the trustees' joint
//! key with a range proof per option and one per contest on the homomorphic sum, each
//! bound to the election, the contest, the option and the voter's credential; the
//! ballot's canonical bytes and strict decoder; its verification, one by one or as
//! equations for a batch; tracking codes; and the Benaloh audit that lets anyone check a
//! spoiled ballot encrypts exactly the choices its device showed.
//!
//! What it must never do: I/O, panic on input from outside, keep a secret (choice or
//! nonce) where it is not wiped on drop, or accept a second encoding of anything. It
//! builds for `wasm32-unknown-unknown`: the browser booth encrypts with it.

#![deny(unsafe_code)]
#![warn(missing_docs)]

mod audit;
mod ballot;
mod election;
pub mod labels;
mod manifest;
mod tracking;
mod wire;

pub use audit::{AuditError, AuditedBallot, AuditedContest, check_audit};
pub use ballot::{
    BALLOT_VERSION, BALLOT_VERSION_SPEND, Ballot, BallotError, BallotSecrets, BallotSkim,
    ContestBallot, ContestSelection, EncryptedOption, SumProof,
};
pub use election::{ContextInputs, CredentialKey, Election, OriginTooLong};
pub use manifest::{
    Contest, ContestKind, ContestRules, MANIFEST_VERSION, MAX_BUDGET, MAX_CONTESTS, MAX_OPTIONS,
    MAX_PER_OPTION, MAX_TEXT, Manifest, SpendRules,
};
pub use tracking::{ShortCodeError, TrackingCode};
pub use urne_budget::Rule as SelectionRule;
pub use wire::{DecodeError, Problem};
