//! urne's cryptographic core.
//!
//! What it is for: the ristretto255 group with strict encodings, Fiat–Shamir
//! transcripts with frozen labels, exponential ElGamal, the sigma proofs the protocols
//! are built from (Schnorr, Chaum–Pedersen, disjunctive and bit range proofs), their
//! batch verification, and discrete logs of tallies. Every function cites the section of
//! `spec/` it implements.
//!
//! What it must never do: I/O of any kind, panic on input from outside, branch on or
//! print a secret, or accept a non-canonical encoding. It builds for
//! `wasm32-unknown-unknown` (the browser booth), so it takes randomness as an argument
//! (`rand_core` 0.10 `CryptoRng`) rather than reaching for the operating system.

#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod batch;
pub mod dlog;
pub mod elgamal;
pub mod encoding;
pub mod error;
pub mod group;
pub mod labels;
pub mod proofs;
pub mod secret;
pub mod transcript;

pub use batch::{BatchFailure, BatchVerifier, Relations};
pub use elgamal::{Ciphertext, CiphertextSum, EncryptionKey, Opening, PublicKey, SecretKey};
pub use encoding::{DecodeError, DecodeErrorKind, Point, Scalar};
pub use error::{ProveError, VerifyError};
pub use secret::SecretScalar;
pub use transcript::{ContextHash, ProofContext, TranscriptExt};

/// The `rand_core` this crate's APIs take randomness from.
pub use rand_core;
