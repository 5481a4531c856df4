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
//!
//! Domain crates need no second dependency line: curve25519-dalek is re-exported, and
//! [`Point`], [`Scalar`] and [`SecretScalar`] have the arithmetic the protocols use.
//!
//! Features: `hazmat` (provers with caller-chosen nonces and raw challenges, for the
//! vector generator only), `self-check` (provers verify their proofs before returning
//! them in release builds too; debug builds always do; the browser booth enables it),
//! `test-weakened-verifier` (tests only: switch off one verification check at a time).

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
pub mod triptych;
mod weaken;

#[cfg(feature = "hazmat")]
pub mod hazmat;

pub use batch::{Base, BatchFailure, BatchVerifier, Relations};
pub use dlog::{DiscreteLogTable, DlogError};
pub use elgamal::{Ciphertext, CiphertextSum, EncryptionKey, Opening, PublicKey, SecretKey};
pub use encoding::{DecodeError, DecodeErrorKind, Point, Scalar};
pub use error::{ProveError, VerifyError};
pub use secret::SecretScalar;
pub use transcript::{ContextHash, ProofContext, TranscriptExt};

/// The `rand_core` this crate's APIs take randomness from.
pub use rand_core;

/// The curve25519-dalek this crate is built on (one version in the whole tree).
pub use curve25519_dalek;
