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
//!
//! A 2-of-2 ceremony, each round's records gathered as the board would hold them:
//!
//! ```
//! use urne_ceremony::*;
//! let mut rng = rand::rng();
//! let open = CeremonyOpen::new(2, vec![[1; 32], [2; 32]])?;
//! let (setups, registrations): (Vec<_>, Vec<_>) =
//!     (1..=2).map(|j| TrusteeSetup::new(j, &mut rng)).unzip();
//! let context = CeremonyContext::new([9; 32], open.clone(), &registrations)?;
//! let mut states = Vec::new();
//! let mut hashes = Vec::new();
//! for setup in setups {
//!     let (state, hash) = setup.begin(context.clone(), &mut rng)?;
//!     states.push(state);
//!     hashes.push(hash);
//! }
//! let (states, commitments): (Vec<_>, Vec<_>) =
//!     states.into_iter().map(|s| s.reveal(hashes.clone())).unzip();
//! let mut next = Vec::new();
//! let mut shares = Vec::new();
//! for state in states {
//!     let (state, dealt) = state.deal(commitments.clone(), &mut rng)?;
//!     next.push(state);
//!     shares.push(dealt);
//! }
//! let (states, complaints): (Vec<_>, Vec<_>) =
//!     next.into_iter().map(|s| s.receive(shares.clone())).unzip();
//! let complaints: Vec<Complaint> = complaints.into_iter().flatten().collect();
//! let (states, answers): (Vec<_>, Vec<_>) =
//!     states.into_iter().map(|s| s.answer(complaints.clone())).unzip();
//! let answers: Vec<ComplaintAnswer> = answers.into_iter().flatten().collect();
//! let trustees = states
//!     .into_iter()
//!     .map(|s| s.finish(answers.clone()))
//!     .collect::<Result<Vec<_>, _>>()?;
//!
//! // Anyone reaches the same outcome from the public records alone.
//! let outcome = verify_ceremony(&CeremonyTranscript {
//!     ceremony_id: [9; 32],
//!     open,
//!     registrations,
//!     commitment_hashes: hashes,
//!     commitments,
//!     shares,
//!     complaints,
//!     answers,
//! })?;
//! assert_eq!(trustees[0].outcome(), &outcome);
//! assert_eq!(outcome.qualified, vec![1, 2]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A step cannot be run twice: each consumes the state it was called on.
//!
//! ```compile_fail,E0382
//! use urne_ceremony::*;
//! let mut rng = rand::rng();
//! let open = CeremonyOpen::new(2, vec![[1; 32], [2; 32]]).unwrap();
//! let (setup, registration) = TrusteeSetup::new(1, &mut rng);
//! let (_, other) = TrusteeSetup::new(2, &mut rng);
//! let context = CeremonyContext::new([9; 32], open, &[registration, other]).unwrap();
//! let (awaiting, hash) = setup.begin(context, &mut rng).unwrap();
//! let (_, first) = awaiting.reveal(vec![hash]);
//! let (_, second) = awaiting.reveal(vec![hash]); // use of moved value
//! ```

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
    ComplaintReason, EncryptedShare, EncryptedShares, MAX_TRUSTEES, MIN_THRESHOLD,
    TrusteeRegistration,
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
