//! Sigma proofs made non-interactive by strong Fiat–Shamir (spec/04-proofs.md).
//!
//! Each proof has a prover that checks its witness and draws hedged nonces (constant
//! time in the secrets), `relations` (its verification equations, for batches) and
//! `verify` (one proof on its own). Provers that take caller-chosen nonces live in
//! `crate::hazmat`, behind a feature only the vector generator enables:
//!
//! ```compile_fail
//! use urne_crypto::proofs::SchnorrProof;
//! use urne_crypto::{ContextHash, ProofContext, SecretScalar, group::basepoint};
//! let hash = ContextHash([0; 32]);
//! let nonce = [SecretScalar::from_u64(1)];
//! // Not public: a chosen nonce gives the witness away.
//! let _ = SchnorrProof::prove_with_nonces(
//!     &ProofContext::new(&hash, b""), &SecretScalar::from_u64(1), &basepoint(), &nonce);
//! ```
//!
//! Every prover verifies its own proof before returning it in debug builds and with the
//! `self-check` feature (the browser booth enables it): a prover bug then surfaces as
//! [`crate::ProveError::SelfCheckFailed`] on the voter's device instead of as a ballot
//! the board rejects. Field names follow the spec's math (`A`, `z`), hence the lint
//! allowance.

pub(crate) mod bits;
mod disjunction;
pub(crate) mod dleq;
pub(crate) mod range;
pub(crate) mod schnorr;

use curve25519_dalek::scalar::Scalar as DalekScalar;

pub use bits::{BitProof, BitRangeProof, MAX_BITS};
pub use disjunction::OrBranch;
pub use dleq::{DleqProof, DleqStatement};
pub use range::{MAX_RANGE_BRANCHES, RangeProof, ValueRange};
pub use schnorr::SchnorrProof;

use crate::error::{ProveError, VerifyError};

/// Version byte that opens every proof's byte encoding (spec/02-encodings.md §2.3).
pub const PROOF_ENCODING_VERSION: u8 = 1;

/// Runs `verify` on a fresh proof in debug builds and with the `self-check` feature.
pub(crate) fn self_check(
    verify: impl FnOnce() -> Result<(), VerifyError>,
) -> Result<(), ProveError> {
    if cfg!(any(debug_assertions, feature = "self-check")) {
        verify().map_err(ProveError::SelfCheckFailed)?;
    }
    Ok(())
}

/// The challenge as the prover uses it. Tests can skew it, which is a prover bug made
/// on purpose, to show that [`self_check`] refuses the proof that results.
#[inline(always)]
pub(crate) fn prover_challenge(c: DalekScalar) -> DalekScalar {
    #[cfg(test)]
    if fault::SKEW_CHALLENGE.with(|s| s.get()) {
        return c + DalekScalar::ONE;
    }
    c
}

#[cfg(test)]
pub(crate) mod fault {
    std::thread_local! {
        pub(crate) static SKEW_CHALLENGE: core::cell::Cell<bool> = const { core::cell::Cell::new(false) };
    }
}

#[cfg(test)]
#[allow(non_snake_case)]
mod tests {
    use super::*;
    use crate::elgamal::{EncryptionKey, SecretKey};
    use crate::encoding::Point;
    use crate::group::{basepoint, generator_h};
    use crate::secret::SecretScalar;
    use crate::transcript::{ContextHash, ProofContext};

    /// Every prover, run once on a valid witness.
    fn prove_each() -> Vec<Result<(), ProveError>> {
        let mut rng = rand::rng();
        let hash = ContextHash([9; 32]);
        let ctx = ProofContext::new(&hash, b"self-check");
        let x = SecretScalar::random(&mut rng);
        let X = Point::from(basepoint().as_ristretto() * x.expose_secret());
        let h = generator_h();
        let Xh = Point::from(h.as_ristretto() * x.expose_secret());
        let g = basepoint();
        let statement = DleqStatement {
            G1: &g,
            X1: &X,
            G2: &h,
            X2: &Xh,
        };
        let key = EncryptionKey::new(SecretKey::generate(&mut rng).public_key());
        let (ct, opening) = key.encrypt(3, &mut rng);
        let range = ValueRange::new(0, 5).unwrap();
        vec![
            SchnorrProof::prove(&ctx, &x, &X, &mut rng).map(drop),
            DleqProof::prove(&ctx, &statement, &x, &mut rng).map(drop),
            RangeProof::prove(&ctx, &key, &ct, &opening, range, &mut rng).map(drop),
            RangeProof::encrypt_and_prove(&ctx, &key, 1, range, &mut rng).map(drop),
            BitRangeProof::prove(&ctx, &key, &ct, &opening, 3, &mut rng).map(drop),
        ]
    }

    #[test]
    fn every_prover_refuses_to_return_a_proof_that_does_not_verify() {
        assert!(prove_each().iter().all(Result::is_ok));
        fault::SKEW_CHALLENGE.with(|s| s.set(true));
        let skewed = prove_each();
        fault::SKEW_CHALLENGE.with(|s| s.set(false));
        for (i, result) in skewed.into_iter().enumerate() {
            assert!(
                matches!(result, Err(ProveError::SelfCheckFailed(_))),
                "prover {i}: {result:?}"
            );
        }
    }
}
