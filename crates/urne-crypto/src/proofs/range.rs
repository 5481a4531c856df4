//! Disjunctive range proof: a ciphertext encrypts an integer in [min, max], for small
//! ranges (spec/04-proofs.md §4.4). One branch per value.
#![allow(non_snake_case)]

use merlin::Transcript;
use rand_core::CryptoRng;

use super::disjunction::{self, BranchBases, OrBranch};
use super::{PROOF_ENCODING_VERSION, prover_challenge, self_check};
use crate::batch::Relations;
use crate::elgamal::{Ciphertext, EncryptionKey, Opening, PublicKey};
use crate::encoding::{DecodeError, DecodeErrorKind, Reader, hex_serde};
use crate::error::{ProveError, VerifyError};
use crate::group::basepoint;
use crate::labels::PROOF_CDS_RANGE;
use crate::secret::{NonceSource, SecretScalar};
use crate::transcript::{ProofContext, TranscriptExt};
use crate::weaken::{Check, skipped};

/// The widest range one disjunctive proof may cover; wider ranges use
/// [`super::BitRangeProof`].
pub const MAX_RANGE_BRANCHES: usize = 256;

/// A range [min, max] of at most [`MAX_RANGE_BRANCHES`] values. Only valid ranges can
/// be made, so provers and verifiers need not check again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ValueRange {
    min: u64,
    max: u64,
}

impl ValueRange {
    /// [min, max]; refused if min > max or the range has more than
    /// [`MAX_RANGE_BRANCHES`] values.
    pub fn new(min: u64, max: u64) -> Result<Self, VerifyError> {
        if min > max {
            return Err(VerifyError::InvalidStatement {
                detail: "range minimum exceeds maximum",
            });
        }
        if max - min >= MAX_RANGE_BRANCHES as u64 {
            return Err(VerifyError::InvalidStatement {
                detail: "range wider than 256 values",
            });
        }
        Ok(Self { min, max })
    }

    /// The smallest value.
    pub fn min(&self) -> u64 {
        self.min
    }

    /// The largest value.
    pub fn max(&self) -> u64 {
        self.max
    }

    /// Number of values, which is the number of branches.
    pub fn len(&self) -> usize {
        (self.max - self.min) as usize + 1
    }

    /// Never: a range holds at least one value.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// True if `value` lies in the range.
    pub fn contains(&self, value: u64) -> bool {
        (self.min..=self.max).contains(&value)
    }
}

/// One branch per value min, min+1, …, max. Encoding: version ‖ branches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RangeProof {
    /// Branch i stands for the value min + i.
    pub branches: Vec<OrBranch>,
}

fn statement_transcript(
    context: &ProofContext<'_>,
    key: &PublicKey,
    ciphertext: &Ciphertext,
    min: u64,
    max: u64,
) -> Transcript {
    let mut transcript = context.open_transcript(PROOF_CDS_RANGE);
    transcript.append_point(b"G", &basepoint());
    transcript.append_point(b"K", key.point());
    transcript.append_point(b"alpha", ciphertext.alpha());
    transcript.append_point(b"beta", ciphertext.beta());
    transcript.append_u64(b"min", min);
    transcript.append_u64(b"max", max);
    transcript
}

/// The challenge over the given branch commitments (§4.4, steps 4 to 6).
#[cfg(feature = "hazmat")]
pub(crate) fn challenge<'a>(
    context: &ProofContext<'_>,
    key: &PublicKey,
    ciphertext: &Ciphertext,
    min: u64,
    max: u64,
    commitments: impl IntoIterator<Item = &'a (crate::encoding::Point, crate::encoding::Point)>,
) -> curve25519_dalek::scalar::Scalar {
    let mut transcript = statement_transcript(context, key, ciphertext, min, max);
    disjunction::append_commitments(
        &mut transcript,
        commitments.into_iter().map(|(a, b)| (a, b)),
    );
    transcript.challenge_scalar(b"c")
}

impl RangeProof {
    /// Encrypts `message` under a fresh nonce and proves it lies in `range`. The opening
    /// is returned for a Benaloh audit or a later proof about sums.
    pub fn encrypt_and_prove<R: CryptoRng + ?Sized>(
        context: &ProofContext<'_>,
        key: &EncryptionKey,
        message: u64,
        range: ValueRange,
        rng: &mut R,
    ) -> Result<(Ciphertext, Self, Opening), ProveError> {
        let (ciphertext, opening) = key.encrypt(message, rng);
        let transcript =
            statement_transcript(context, key.public_key(), &ciphertext, range.min, range.max);
        let m = SecretScalar::from_u64(message);
        let nonces = NonceSource::hedged(&transcript, &[&m, opening.nonce()], rng);
        let proof = Self::prove_inner(transcript, key, &opening, range, nonces)?;
        self_check(|| proof.verify(context, key.public_key(), &ciphertext, range))?;
        Ok((ciphertext, proof, opening))
    }

    /// Proves that `ciphertext` is opened by `opening` and its message lies in `range`.
    pub fn prove<R: CryptoRng + ?Sized>(
        context: &ProofContext<'_>,
        key: &EncryptionKey,
        ciphertext: &Ciphertext,
        opening: &Opening,
        range: ValueRange,
        rng: &mut R,
    ) -> Result<Self, ProveError> {
        if key.encrypt_opening(opening) != *ciphertext {
            return Err(ProveError::WitnessMismatch);
        }
        let transcript =
            statement_transcript(context, key.public_key(), ciphertext, range.min, range.max);
        let m = SecretScalar::from_u64(opening.message());
        let nonces = NonceSource::hedged(&transcript, &[&m, opening.nonce()], rng);
        let proof = Self::prove_inner(transcript, key, opening, range, nonces)?;
        self_check(|| proof.verify(context, key.public_key(), ciphertext, range))?;
        Ok(proof)
    }

    /// As [`Self::prove`], with the 2n nonces t₀, s₀, t₁, s₁, … given (`crate::hazmat`).
    #[cfg(feature = "hazmat")]
    pub(crate) fn prove_with_nonces(
        context: &ProofContext<'_>,
        key: &EncryptionKey,
        ciphertext: &Ciphertext,
        opening: &Opening,
        range: ValueRange,
        nonces: &[SecretScalar],
    ) -> Result<Self, ProveError> {
        if key.encrypt_opening(opening) != *ciphertext {
            return Err(ProveError::WitnessMismatch);
        }
        let source = NonceSource::explicit(nonces, 2 * range.len())?;
        let transcript =
            statement_transcript(context, key.public_key(), ciphertext, range.min, range.max);
        let proof = Self::prove_inner(transcript, key, opening, range, source)?;
        self_check(|| proof.verify(context, key.public_key(), ciphertext, range))?;
        Ok(proof)
    }

    fn prove_inner(
        mut transcript: Transcript,
        key: &EncryptionKey,
        opening: &Opening,
        range: ValueRange,
        mut nonces: NonceSource<'_>,
    ) -> Result<Self, ProveError> {
        // Refusing a value out of range reveals only that the caller asked for a false
        // proof, never which in-range value a valid call holds.
        if !range.contains(opening.message()) {
            return Err(ProveError::WitnessMismatch);
        }
        let m = SecretScalar::from_u64(opening.message());
        let pending = disjunction::commit(key, &m, range.min, range.len(), &mut nonces);
        disjunction::append_commitments(&mut transcript, pending.commitments());
        let c = prover_challenge(transcript.challenge_scalar(b"c"));
        Ok(Self {
            branches: pending.respond(&c, opening.message(), opening.nonce()),
        })
    }

    /// The equations of every branch, after the shape and challenge-sum checks.
    pub fn relations(
        &self,
        context: &ProofContext<'_>,
        key: &PublicKey,
        ciphertext: &Ciphertext,
        range: ValueRange,
    ) -> Result<Relations, VerifyError> {
        if self.branches.len() != range.len() && !skipped(Check::RangeBranchCount) {
            return Err(VerifyError::ShapeMismatch {
                what: "branches",
                expected: range.len(),
                found: self.branches.len(),
            });
        }
        let mut transcript = statement_transcript(context, key, ciphertext, range.min, range.max);
        disjunction::append_commitments(
            &mut transcript,
            self.branches.iter().map(|b| (&b.A, &b.B)),
        );
        let c = transcript.challenge_scalar(b"c");
        let n = self.branches.len();
        let mut relations = Relations::with_capacity(1, 2 + 2 * n, 7 * n, 2 * n);
        let bases = BranchBases {
            key: relations.shared(key.point()),
            alpha: relations.local(ciphertext.alpha().as_ristretto()),
            beta: relations.local(ciphertext.beta().as_ristretto()),
        };
        disjunction::relations(&mut relations, bases, range.min, &self.branches, &c, None)?;
        Ok(relations)
    }

    /// Verifies this proof on its own.
    pub fn verify(
        &self,
        context: &ProofContext<'_>,
        key: &PublicKey,
        ciphertext: &Ciphertext,
        range: ValueRange,
    ) -> Result<(), VerifyError> {
        self.relations(context, key, ciphertext, range)?.check()
    }

    /// version ‖ branch₀ ‖ … ‖ branchₙ₋₁, each A ‖ B ‖ c ‖ z.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + OrBranch::LEN * self.branches.len());
        out.push(PROOF_ENCODING_VERSION);
        for branch in &self.branches {
            branch.write(&mut out);
        }
        out
    }

    /// Strict decoding: version 1, 1 to [`MAX_RANGE_BRANCHES`] whole branches,
    /// canonical fields, non-identity commitments.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut reader = Reader::new(bytes);
        reader.version("version", PROOF_ENCODING_VERSION)?;
        let body = reader.remaining();
        if body == 0
            || !body.is_multiple_of(OrBranch::LEN)
            || body / OrBranch::LEN > MAX_RANGE_BRANCHES
        {
            return Err(DecodeError::new(
                "branches",
                DecodeErrorKind::OutOfBounds {
                    detail: "must be 1 to 256 branches of 128 bytes each",
                },
            ));
        }
        let branches = (0..body / OrBranch::LEN)
            .map(|i| OrBranch::read(&mut reader, || format!("branches[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        reader.finish()?;
        Ok(Self { branches })
    }
}

hex_serde!(RangeProof);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elgamal::SecretKey;
    use crate::encoding::{Point, Scalar};
    use crate::transcript::ContextHash;
    use curve25519_dalek::scalar::Scalar as DalekScalar;

    fn key() -> EncryptionKey {
        EncryptionKey::new(SecretKey::generate(&mut rand::rng()).public_key())
    }

    #[test]
    fn every_value_in_range_proves_and_verifies() {
        let key = key();
        let h = ContextHash([3; 32]);
        let ctx = ProofContext::new(&h, b"contest 1 option 2");
        for (min, max) in [(0, 1), (0, 10), (3, 5), (7, 7), (u64::MAX - 2, u64::MAX)] {
            let range = ValueRange::new(min, max).unwrap();
            for m in min..=max {
                let (ct, proof, _) =
                    RangeProof::encrypt_and_prove(&ctx, &key, m, range, &mut rand::rng()).unwrap();
                proof.verify(&ctx, key.public_key(), &ct, range).unwrap();
                assert_eq!(RangeProof::decode(&proof.to_bytes()).unwrap(), proof);
            }
        }
    }

    #[test]
    fn prover_refuses_out_of_range_values_and_bad_ranges() {
        let key = key();
        let h = ContextHash([3; 32]);
        let ctx = ProofContext::new(&h, b"");
        let r = RangeProof::encrypt_and_prove(
            &ctx,
            &key,
            2,
            ValueRange::new(0, 1).unwrap(),
            &mut rand::rng(),
        );
        assert_eq!(r.unwrap_err(), ProveError::WitnessMismatch);
        assert!(ValueRange::new(1, 0).is_err());
        assert!(ValueRange::new(0, 255).is_ok());
        assert!(ValueRange::new(0, 256).is_err());
        assert!(ValueRange::new(0, u64::MAX).is_err());
    }

    #[test]
    fn prover_refuses_a_ciphertext_that_is_not_enc_of_the_witness() {
        let key = key();
        let h = ContextHash([3; 32]);
        let ctx = ProofContext::new(&h, b"");
        let (ct, opening) = key.encrypt(1, &mut rand::rng());
        let range = ValueRange::new(0, 1).unwrap();
        let lie = Opening::new(0, opening.nonce().duplicate());
        let r = RangeProof::prove(&ctx, &key, &ct, &lie, range, &mut rand::rng());
        assert_eq!(r.unwrap_err(), ProveError::WitnessMismatch);
        assert!(RangeProof::prove(&ctx, &key, &ct, &opening, range, &mut rand::rng()).is_ok());
    }

    #[test]
    fn proof_fails_under_each_altered_public_input_and_field() {
        let key = key();
        let h = ContextHash([3; 32]);
        let ctx = ProofContext::new(&h, b"b");
        let r02 = ValueRange::new(0, 2).unwrap();
        let (ct, proof, _) =
            RangeProof::encrypt_and_prove(&ctx, &key, 1, r02, &mut rand::rng()).unwrap();
        let pk = key.public_key();
        proof.verify(&ctx, pk, &ct, r02).unwrap();

        let h2 = ContextHash([4; 32]);
        assert!(
            proof
                .verify(&ProofContext::new(&h2, b"b"), pk, &ct, r02)
                .is_err(),
            "context"
        );
        assert!(
            proof
                .verify(&ProofContext::new(&h, b"B"), pk, &ct, r02)
                .is_err(),
            "binding"
        );
        let other_key = self::key();
        assert!(
            proof
                .verify(&ctx, other_key.public_key(), &ct, r02)
                .is_err(),
            "K"
        );
        let g = crate::group::basepoint();
        let moved_alpha = Ciphertext::new(
            Point::from_ristretto(ct.alpha().as_ristretto() + g.as_ristretto()),
            *ct.beta(),
        );
        assert!(proof.verify(&ctx, pk, &moved_alpha, r02).is_err(), "alpha");
        // β + G encrypts 2, still in range: only the transcript binding catches it.
        let moved_beta = Ciphertext::new(
            *ct.alpha(),
            Point::from_ristretto(ct.beta().as_ristretto() + g.as_ristretto()),
        );
        assert!(proof.verify(&ctx, pk, &moved_beta, r02).is_err(), "beta");
        assert!(
            proof
                .verify(&ctx, pk, &ct, ValueRange::new(1, 3).unwrap())
                .is_err(),
            "min and max"
        );

        for i in 0..proof.branches.len() {
            let bump = |s: &Scalar| Scalar(s.0 + DalekScalar::ONE);
            let mut bad = proof.clone();
            bad.branches[i].z = bump(&bad.branches[i].z);
            assert!(bad.verify(&ctx, pk, &ct, r02).is_err(), "z[{i}]");
            let mut bad = proof.clone();
            bad.branches[i].c = bump(&bad.branches[i].c);
            assert!(
                matches!(
                    bad.verify(&ctx, pk, &ct, r02),
                    Err(VerifyError::ChallengeSumMismatch { .. })
                ),
                "c[{i}]"
            );
            let mut bad = proof.clone();
            bad.branches[i].A = g;
            assert!(bad.verify(&ctx, pk, &ct, r02).is_err(), "A[{i}]");
            let mut bad = proof.clone();
            bad.branches[i].B = g;
            assert!(bad.verify(&ctx, pk, &ct, r02).is_err(), "B[{i}]");
        }
        // Moving challenge between branches keeps the sum but breaks the equations.
        let mut bad = proof.clone();
        bad.branches[0].c = Scalar(bad.branches[0].c.0 + DalekScalar::ONE);
        bad.branches[1].c = Scalar(bad.branches[1].c.0 - DalekScalar::ONE);
        assert!(matches!(
            bad.verify(&ctx, pk, &ct, r02),
            Err(VerifyError::EquationFailed { .. })
        ));
        let mut short = proof.clone();
        short.branches.pop();
        assert!(matches!(
            short.verify(&ctx, pk, &ct, r02),
            Err(VerifyError::ShapeMismatch { .. })
        ));
    }

    #[test]
    fn a_ciphertext_of_an_out_of_range_value_cannot_be_proven_by_splicing() {
        // Encrypt 2, then reuse a proof made for a ciphertext of 1: must fail.
        let key = key();
        let h = ContextHash([3; 32]);
        let ctx = ProofContext::new(&h, b"");
        let r01 = ValueRange::new(0, 1).unwrap();
        let (_, proof, _) =
            RangeProof::encrypt_and_prove(&ctx, &key, 1, r01, &mut rand::rng()).unwrap();
        let (two, _) = key.encrypt(2, &mut rand::rng());
        assert!(proof.verify(&ctx, key.public_key(), &two, r01).is_err());
    }

    #[test]
    fn the_widest_range_proves_decodes_and_verifies_and_one_more_branch_does_not_decode() {
        let key = key();
        let h = ContextHash([3; 32]);
        let ctx = ProofContext::new(&h, b"");
        let range = ValueRange::new(0, 255).unwrap();
        let (ct, proof, _) =
            RangeProof::encrypt_and_prove(&ctx, &key, 200, range, &mut rand::rng()).unwrap();
        let bytes = proof.to_bytes();
        let decoded = RangeProof::decode(&bytes).unwrap();
        decoded.verify(&ctx, key.public_key(), &ct, range).unwrap();
        let mut longer = bytes.clone();
        longer.extend_from_slice(&bytes[1..1 + OrBranch::LEN]);
        assert_eq!(RangeProof::decode(&longer).unwrap_err().field(), "branches");
    }

    #[test]
    fn decoding_rejects_partial_branches_and_empty_proofs() {
        assert!(RangeProof::decode(&[1]).is_err());
        assert!(RangeProof::decode(&[1; 130]).is_err());
        assert!(RangeProof::decode(&[]).is_err());
    }
}
