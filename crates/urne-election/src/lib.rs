//! An election on the board (spec/23-election-records.md), as a pure fold.
//!
//! What it is for: the election's record kinds ([`kinds`]) and the bodies that are not a
//! domain crate's ([`body`]); its phases ([`Phase`]); and its state, built by checking
//! and applying its records in log order ([`ElectionState`]). The board's handlers are
//! thin adapters over this state, and the verifier and `urne demo` replay a log through
//! the same fold ([`Replay`]), so what the board accepted and what an observer re-checks
//! are one piece of code, tied to one spec. An election takes its voters from a
//! pseudonymous credential list or, anonymously, from a registry snapshot's wallet keys
//! ([`anonymous`]).
//!
//! What it must never do: I/O, depend on the board or its storage, keep state that the
//! records alone do not determine, or panic on a record from outside. The cryptography
//! is the domain crates' (urne-ceremony, urne-credential, urne-ballot, urne-tally).

#![deny(unsafe_code)]

pub mod anonymous;
pub mod body;
mod error;
pub mod kinds;
mod phase;

pub use body::{AuditRecord, CastBallot, CloseRound, ManifestRecord, parameters_hash};
pub use error::ElectionError;
pub use phase::{PHASE_NAMES, Phase};
/// What a ballot signature authorises: a cast or an audit (spec/22 §22.4, spec/23 §23.13).
pub use urne_credential::Decision;

pub mod ceremony;
mod state;

pub use ceremony::{Ceremony, round};
pub use state::{
    AUDIT_SLOT_KEY, AnonymousStatement, Decoded, ElectionState, Key, MAX_AUDITS_PER_CREDENTIAL,
    PrecheckedRecord, Sealed, SealedSnapshot, TRACKING_CODE_KEY, TRUSTEE_SHARES_KEY,
    anonymous_signature_refusal, decode,
};
mod replay;

pub use replay::{
    BALLOTS_PER_BATCH, DeferredBallot, DeferredCast, Fault, Replay, verify_deferred_casts,
};
