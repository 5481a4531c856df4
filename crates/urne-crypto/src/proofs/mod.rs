//! Sigma proofs made non-interactive by strong Fiat–Shamir (spec/04-proofs.md).
//!
//! Each proof has a prover that checks its witness and draws hedged nonces (constant
//! time in the secrets), a `*_with_nonces` prover for golden vectors, `relations` (its
//! verification equations, for batches) and `verify` (one proof on its own). Field
//! names follow the spec's math (`A`, `z`), hence the lint allowance.

mod bits;
mod disjunction;
mod dleq;
mod range;
mod schnorr;

pub use bits::{BitProof, BitRangeProof, MAX_BITS};
pub use disjunction::OrBranch;
pub use dleq::{DleqProof, DleqStatement};
pub use range::{MAX_RANGE_BRANCHES, RangeProof, ValueRange};
pub use schnorr::SchnorrProof;

/// Version byte that opens every proof's byte encoding (spec/02-encodings.md §2.3).
pub const PROOF_ENCODING_VERSION: u8 = 1;
