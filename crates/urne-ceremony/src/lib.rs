//! urne's trustee key ceremony and threshold decryption (spec/20-ceremony.md).
//!
//! What it is for: n trustees make a joint ElGamal key K that none of them knows, such
//! that any t of them can decrypt and fewer cannot (a Pedersen/Feldman distributed key
//! generation with a commit-then-reveal round and public complaints); each trustee's
//! decryption shares with their DLEQ proofs; their Lagrange combination; and
//! [`verify_ceremony`], which re-checks the whole ceremony from its public records alone.
//! A trustee's side is a chain of typestates ([`TrusteeSetup`] → … → [`QualifiedTrustee`]):
//! each step consumes the previous state, so no step can be skipped, repeated or reordered.
//!
//! What it must never do: I/O other than the trustee's own state file ([`state_file`]),
//! panic on a record from outside, branch on a secret, or keep a secret anywhere but in
//! zeroized memory. It knows nothing of the board: record bodies are bytes in and out,
//! and the board checks that each body is signed by the trustee whose index it carries.

#![deny(unsafe_code)]
#![warn(missing_docs)]

mod codec;
pub mod decryption;
pub mod labels;
mod polynomial;
pub mod records;
mod share_encryption;
pub mod state_file;
pub mod trustee;
pub mod verify;

pub use codec::{DecodeError, DecodeProblem};
pub use decryption::{
    DecryptionError, DecryptionShare, DecryptionShares, VerifiedDecryptionShares, combine,
    verify_decryption_shares,
};
pub use records::{
    CeremonyContext, CeremonyOpen, CommitmentHash, Commitments, Complaint, ComplaintAnswer,
    ComplaintReason, EncryptedShare, EncryptedShares, MAX_TRUSTEES, TrusteeRegistration,
};
pub use trustee::{
    AwaitingAnswers, AwaitingCommitments, AwaitingComplaints, AwaitingReveals, AwaitingShares,
    CeremonyError, QualifiedTrustee, TrusteeKey, TrusteeSetup,
};
pub use verify::{
    CeremonyFault, CeremonyOutcome, CeremonyTranscript, Disqualification, DisqualificationReason,
    verify_ceremony,
};

#[cfg(test)]
mod tests;
