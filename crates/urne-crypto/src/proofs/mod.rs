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

    /// (field, kind) of a decode error, for compact assertions.
    fn fault<T>(r: Result<T, crate::DecodeError>) -> (String, crate::encoding::DecodeErrorKind) {
        match r {
            Ok(_) => panic!("decoded"),
            Err(e) => (e.field().to_owned(), e.kind().clone()),
        }
    }

    #[test]
    fn decode_errors_name_the_field_spec_02_names_in_its_order() {
        use crate::encoding::DecodeErrorKind as K;
        let mut rng = rand::rng();
        let hash = ContextHash([9; 32]);
        let ctx = ProofContext::new(&hash, b"");
        let x = SecretScalar::random(&mut rng);
        let schnorr = SchnorrProof::prove(&ctx, &x, &x.times_basepoint(), &mut rng)
            .unwrap()
            .to_bytes();
        // Version first, even when the rest is also wrong.
        assert_eq!(fault(SchnorrProof::decode(&[])).0, "version");
        assert_eq!(
            fault(SchnorrProof::decode(&[2; 65])),
            ("version".to_owned(), K::UnsupportedVersion { found: 2 })
        );
        // A field cut short is named, with the length the layout needs.
        assert_eq!(
            fault(SchnorrProof::decode(&schnorr[..64])),
            (
                "z".to_owned(),
                K::WrongLength {
                    expected: 65,
                    found: 64
                }
            )
        );
        let mut long = schnorr.clone();
        long.push(0);
        assert_eq!(
            fault(SchnorrProof::decode(&long)),
            (
                "trailing".to_owned(),
                K::TrailingBytes {
                    expected: 65,
                    found: 66
                }
            )
        );
        let mut identity = schnorr.clone();
        identity[1..33].fill(0);
        assert_eq!(
            fault(SchnorrProof::decode(&identity)),
            ("A".to_owned(), K::IdentityPoint)
        );
        let mut big = schnorr.clone();
        big[33..65].fill(0xff);
        assert_eq!(
            fault(SchnorrProof::decode(&big)),
            ("z".to_owned(), K::NonCanonicalScalar)
        );

        let key = EncryptionKey::new(SecretKey::generate(&mut rng).public_key());
        let range = ValueRange::new(0, 1).unwrap();
        let (_, proof, _) = RangeProof::encrypt_and_prove(&ctx, &key, 1, range, &mut rng).unwrap();
        let bytes = proof.to_bytes();
        // Range and bit proofs: the count is checked (from the length) before any field.
        assert_eq!(
            fault(RangeProof::decode(&bytes[..bytes.len() - 1])).0,
            "branches"
        );
        assert_eq!(fault(RangeProof::decode(&[1])).0, "branches");
        let mut bad = bytes.clone();
        bad[128 + 1 + 96..128 + 1 + 128].fill(0xff);
        assert_eq!(
            fault(RangeProof::decode(&bad)),
            ("branches[1].z".to_owned(), K::NonCanonicalScalar)
        );
        let mut bad = bytes.clone();
        bad[1 + 32..1 + 64].fill(0);
        assert_eq!(
            fault(RangeProof::decode(&bad)),
            ("branches[0].B".to_owned(), K::IdentityPoint)
        );

        let (ct, opening) = key.encrypt(2, &mut rng);
        let bits = BitRangeProof::prove(&ctx, &key, &ct, &opening, 2, &mut rng)
            .unwrap()
            .to_bytes();
        assert_eq!(
            fault(BitRangeProof::decode(&bits[..bits.len() - 1])).0,
            "bits"
        );
        let mut bad = bits.clone();
        bad[1 + 320 + 32] = 1;
        bad[1 + 320 + 33..1 + 320 + 64].fill(0);
        assert_eq!(
            fault(BitRangeProof::decode(&bad)),
            ("bits[1].beta".to_owned(), K::NonCanonicalPoint)
        );
        let mut bad = bits.clone();
        bad[1 + 64 + 128 + 64..1 + 64 + 128 + 96].fill(0xff);
        assert_eq!(
            fault(BitRangeProof::decode(&bad)),
            ("bits[0].branches[1].c".to_owned(), K::NonCanonicalScalar)
        );

        let mut dleq = vec![1u8];
        dleq.extend_from_slice(basepoint().as_bytes());
        dleq.extend_from_slice(&[0; 32]);
        dleq.extend_from_slice(&[0; 31]);
        assert_eq!(
            fault(DleqProof::decode(&dleq)),
            (
                "z".to_owned(),
                K::WrongLength {
                    expected: 97,
                    found: 96
                }
            )
        );
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
