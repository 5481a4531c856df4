//! Range proof for [0, 2^k) by bit decomposition (spec/04-proofs.md §4.5), for budgets
//! and large weights where one branch per value would be too many.
//!
//! The prover encrypts each bit bᵢ of m as Cᵢ = Enc(bᵢ; rᵢ), choosing the nonces so
//! that Σ 2ⁱ·rᵢ = r: then Σ 2ⁱ·Cᵢ = C exactly, which the verifier checks, and each Cᵢ
//! carries a two-branch disjunctive proof that it encrypts 0 or 1. All branches of
//! all bits share one transcript and one challenge c.
#![allow(non_snake_case)]

use curve25519_dalek::scalar::Scalar as DalekScalar;
use merlin::Transcript;
use rand_core::CryptoRng;
use zeroize::Zeroizing;

use super::disjunction::{self, BranchBases, OrBranch};
use super::{PROOF_ENCODING_VERSION, prover_challenge, self_check};
use crate::batch::{Base, Relations};
use crate::elgamal::{Ciphertext, EncryptionKey, Opening, PublicKey};
use crate::encoding::{DecodeError, DecodeErrorKind, Reader, hex_serde};
use crate::error::{ProveError, VerifyError};
use crate::group::basepoint;
use crate::labels::PROOF_BIT_RANGE;
use crate::secret::{NonceSource, SecretScalar};
use crate::transcript::{ProofContext, TranscriptExt};
use crate::weaken::{Check, skipped};

/// The most bits a proof may have (values below 2^64).
pub const MAX_BITS: usize = 64;

/// One bit: its ciphertext and the proof that it encrypts 0 or 1. 320 bytes:
/// α ‖ β ‖ branch for 0 ‖ branch for 1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BitProof {
    /// Cᵢ = Enc(bᵢ; rᵢ).
    pub ciphertext: Ciphertext,
    /// Branches for the values 0 and 1.
    pub branches: [OrBranch; 2],
}

/// The proof: one [`BitProof`] per bit, least significant first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BitRangeProof {
    /// Bit i has weight 2ⁱ.
    pub bits: Vec<BitProof>,
}

const BIT_LEN: usize = Ciphertext::LEN + 2 * OrBranch::LEN;

fn check_bits(bits: usize) -> Result<(), &'static str> {
    if bits == 0 || bits > MAX_BITS {
        return Err("bit count must be 1 to 64");
    }
    Ok(())
}

/// Nonces the prover draws for k bits: r₀ … r_{k−2}, then t, s for each branch.
#[cfg(feature = "hazmat")]
fn nonce_count(bits: usize) -> usize {
    (bits - 1) + 4 * bits
}

fn power_of_two(i: usize) -> DalekScalar {
    DalekScalar::from(1u128 << i)
}

fn statement_transcript(
    context: &ProofContext<'_>,
    key: &PublicKey,
    ciphertext: &Ciphertext,
    bits: u64,
) -> Transcript {
    let mut transcript = context.open_transcript(PROOF_BIT_RANGE);
    transcript.append_point(b"G", &basepoint());
    transcript.append_point(b"K", key.point());
    transcript.append_point(b"alpha", ciphertext.alpha());
    transcript.append_point(b"beta", ciphertext.beta());
    transcript.append_u64(b"bits", bits);
    transcript
}

/// The challenge over the given bit ciphertexts and branch commitments (§4.5, steps 4
/// to 6).
#[cfg(feature = "hazmat")]
pub(crate) fn challenge<'a>(
    context: &ProofContext<'_>,
    key: &PublicKey,
    ciphertext: &Ciphertext,
    bits: u64,
    bit_ciphertexts: impl IntoIterator<Item = &'a Ciphertext>,
    commitments: impl IntoIterator<Item = &'a (crate::encoding::Point, crate::encoding::Point)>,
) -> DalekScalar {
    let mut transcript = statement_transcript(context, key, ciphertext, bits);
    append_bit_ciphertexts(&mut transcript, bit_ciphertexts.into_iter());
    disjunction::append_commitments(
        &mut transcript,
        commitments.into_iter().map(|(a, b)| (a, b)),
    );
    transcript.challenge_scalar(b"c")
}

fn append_bit_ciphertexts<'a>(
    transcript: &mut Transcript,
    bits: impl Iterator<Item = &'a Ciphertext>,
) {
    for ciphertext in bits {
        transcript.append_point(b"bit_alpha", ciphertext.alpha());
        transcript.append_point(b"bit_beta", ciphertext.beta());
    }
}

impl BitRangeProof {
    /// Proves that `ciphertext` is opened by `opening` with a message below 2^bits.
    pub fn prove<R: CryptoRng + ?Sized>(
        context: &ProofContext<'_>,
        key: &EncryptionKey,
        ciphertext: &Ciphertext,
        opening: &Opening,
        bits: usize,
        rng: &mut R,
    ) -> Result<Self, ProveError> {
        if key.encrypt_opening(opening) != *ciphertext {
            return Err(ProveError::WitnessMismatch);
        }
        let transcript = statement_transcript(context, key.public_key(), ciphertext, bits as u64);
        let m = SecretScalar::from_u64(opening.message());
        let nonces = NonceSource::hedged(&transcript, &[&m, opening.nonce()], rng);
        let proof = Self::prove_inner(transcript, key, opening, bits, nonces)?;
        self_check(|| proof.verify(context, key.public_key(), ciphertext, bits))?;
        Ok(proof)
    }

    /// As [`Self::prove`], with the nonces given (`crate::hazmat`): r₀ … r_{k−2}, then
    /// for each bit t₀, s₀, t₁, s₁.
    #[cfg(feature = "hazmat")]
    pub(crate) fn prove_with_nonces(
        context: &ProofContext<'_>,
        key: &EncryptionKey,
        ciphertext: &Ciphertext,
        opening: &Opening,
        bits: usize,
        nonces: &[SecretScalar],
    ) -> Result<Self, ProveError> {
        check_bits(bits).map_err(|detail| ProveError::InvalidStatement { detail })?;
        if key.encrypt_opening(opening) != *ciphertext {
            return Err(ProveError::WitnessMismatch);
        }
        let source = NonceSource::explicit(nonces, nonce_count(bits))?;
        let transcript = statement_transcript(context, key.public_key(), ciphertext, bits as u64);
        let proof = Self::prove_inner(transcript, key, opening, bits, source)?;
        self_check(|| proof.verify(context, key.public_key(), ciphertext, bits))?;
        Ok(proof)
    }

    fn prove_inner(
        mut transcript: Transcript,
        key: &EncryptionKey,
        opening: &Opening,
        bits: usize,
        mut nonces: NonceSource<'_>,
    ) -> Result<Self, ProveError> {
        let (message, nonce) = (opening.message(), opening.nonce());
        check_bits(bits).map_err(|detail| ProveError::InvalidStatement { detail })?;
        if bits < 64 && message >> bits != 0 {
            return Err(ProveError::WitnessMismatch);
        }
        // Bit nonces: r₀ … r_{k−2} drawn, r_{k−1} = (r − Σ_{i<k−1} 2ⁱ·rᵢ) / 2^{k−1}.
        let mut bit_nonces: Vec<SecretScalar> = Vec::with_capacity(bits);
        let mut weighted = Zeroizing::new(DalekScalar::ZERO);
        for i in 0..bits - 1 {
            let r_i = nonces.next();
            *weighted += power_of_two(i) * *r_i;
            bit_nonces.push(SecretScalar::from_dalek(*r_i));
        }
        let last = (nonce.expose_secret() - *weighted) * power_of_two(bits - 1).invert();
        bit_nonces.push(SecretScalar::from_dalek(last));

        let bit_values: Zeroizing<Vec<u64>> =
            Zeroizing::new((0..bits).map(|i| (message >> i) & 1).collect());
        let bit_secrets: Vec<SecretScalar> = bit_values
            .iter()
            .map(|b| SecretScalar::from_u64(*b))
            .collect();
        let bit_ciphertexts: Vec<Ciphertext> = bit_secrets
            .iter()
            .zip(&bit_nonces)
            .map(|(b, r)| key.encrypt_with_nonce(b, r))
            .collect();
        append_bit_ciphertexts(&mut transcript, bit_ciphertexts.iter());

        let pending: Vec<_> = bit_secrets
            .iter()
            .map(|b| disjunction::commit(key, b, 0, 2, &mut nonces))
            .collect();
        for p in &pending {
            disjunction::append_commitments(&mut transcript, p.commitments());
        }
        let c = prover_challenge(transcript.challenge_scalar(b"c"));

        let mut proofs = Vec::with_capacity(bits);
        for (((p, value), r), ciphertext) in pending
            .into_iter()
            .zip(bit_values.iter())
            .zip(&bit_nonces)
            .zip(bit_ciphertexts)
        {
            let branches = p.respond(&c, *value, r);
            let branches: [OrBranch; 2] = [branches[0], branches[1]];
            proofs.push(BitProof {
                ciphertext,
                branches,
            });
        }
        Ok(Self { bits: proofs })
    }

    /// The equations: Σ 2ⁱ·αᵢ = α, Σ 2ⁱ·βᵢ = β, and each bit's two branches.
    pub fn relations(
        &self,
        context: &ProofContext<'_>,
        key: &PublicKey,
        ciphertext: &Ciphertext,
        bits: usize,
    ) -> Result<Relations, VerifyError> {
        check_bits(bits).map_err(|detail| VerifyError::InvalidStatement { detail })?;
        if self.bits.len() != bits && !skipped(Check::BitCount) {
            return Err(VerifyError::ShapeMismatch {
                what: "bits",
                expected: bits,
                found: self.bits.len(),
            });
        }
        let mut transcript = statement_transcript(context, key, ciphertext, bits as u64);
        append_bit_ciphertexts(&mut transcript, self.bits.iter().map(|b| &b.ciphertext));
        for bit in &self.bits {
            disjunction::append_commitments(
                &mut transcript,
                bit.branches.iter().map(|b| (&b.A, &b.B)),
            );
        }
        let c = transcript.challenge_scalar(b"c");

        // Locals: α, β, each bit's αᵢ, βᵢ and four commitments; terms: the two
        // recombination equations, then 14 per bit.
        let n = self.bits.len();
        let mut relations = Relations::with_capacity(1, 2 + 6 * n, 2 * (n + 1) + 14 * n, 2 + 4 * n);
        let k = relations.shared(key.point());
        let alpha = relations.local(ciphertext.alpha().as_ristretto());
        let beta = relations.local(ciphertext.beta().as_ristretto());
        let mut alpha_terms = vec![(-DalekScalar::ONE, alpha)];
        let mut beta_terms = vec![(-DalekScalar::ONE, beta)];
        let mut bit_bases: Vec<(Base, Base)> = Vec::with_capacity(n);
        for (i, bit) in self.bits.iter().enumerate() {
            let a = relations.local(bit.ciphertext.alpha().as_ristretto());
            let b = relations.local(bit.ciphertext.beta().as_ristretto());
            alpha_terms.push((power_of_two(i), a));
            beta_terms.push((power_of_two(i), b));
            bit_bases.push((a, b));
        }
        if !skipped(Check::BitR1) {
            relations.equation("R1 Σ 2^i·α_i = α", None, alpha_terms);
        }
        if !skipped(Check::BitR2) {
            relations.equation("R2 Σ 2^i·β_i = β", None, beta_terms);
        }
        for (i, (bit, (a, b))) in self.bits.iter().zip(bit_bases).enumerate() {
            disjunction::relations(
                &mut relations,
                BranchBases {
                    key: k,
                    alpha: a,
                    beta: b,
                },
                0,
                &bit.branches,
                &c,
                Some(i),
            )?;
        }
        Ok(relations)
    }

    /// Verifies this proof on its own.
    pub fn verify(
        &self,
        context: &ProofContext<'_>,
        key: &PublicKey,
        ciphertext: &Ciphertext,
        bits: usize,
    ) -> Result<(), VerifyError> {
        self.relations(context, key, ciphertext, bits)?.check()
    }

    /// version ‖ bit₀ ‖ … ‖ bit_{k−1}, each α ‖ β ‖ branch for 0 ‖ branch for 1.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + BIT_LEN * self.bits.len());
        out.push(PROOF_ENCODING_VERSION);
        for bit in &self.bits {
            out.extend_from_slice(&bit.ciphertext.to_bytes());
            bit.branches[0].write(&mut out);
            bit.branches[1].write(&mut out);
        }
        out
    }

    /// Strict decoding: version 1, 1 to 64 whole bits, canonical fields.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut reader = Reader::new(bytes);
        reader.version("version", PROOF_ENCODING_VERSION)?;
        let body = reader.remaining();
        if body == 0 || !body.is_multiple_of(BIT_LEN) || body / BIT_LEN > MAX_BITS {
            return Err(DecodeError::new(
                "bits",
                DecodeErrorKind::OutOfBounds {
                    detail: "must be 1 to 64 bits of 320 bytes each",
                },
            ));
        }
        let mut bits = Vec::with_capacity(body / BIT_LEN);
        for i in 0..body / BIT_LEN {
            let alpha = reader.point(|| format!("bits[{i}].alpha"))?;
            let beta = reader.point(|| format!("bits[{i}].beta"))?;
            let zero = OrBranch::read(&mut reader, || format!("bits[{i}].branches[0]"))?;
            let one = OrBranch::read(&mut reader, || format!("bits[{i}].branches[1]"))?;
            bits.push(BitProof {
                ciphertext: Ciphertext::new(alpha, beta),
                branches: [zero, one],
            });
        }
        reader.finish()?;
        Ok(Self { bits })
    }
}

hex_serde!(BitRangeProof);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elgamal::SecretKey;
    use crate::encoding::{Point, Scalar};
    use crate::transcript::ContextHash;

    fn key() -> EncryptionKey {
        EncryptionKey::new(SecretKey::generate(&mut rand::rng()).public_key())
    }

    #[test]
    fn values_at_the_edges_prove_and_verify() {
        let key = key();
        let h = ContextHash([5; 32]);
        let ctx = ProofContext::new(&h, b"budget");
        for (m, bits) in [
            (0u64, 1usize),
            (1, 1),
            (0, 16),
            (65535, 16),
            (12345, 16),
            (u64::MAX, 64),
            (1 << 40, 41),
        ] {
            let (ct, opening) = key.encrypt(m, &mut rand::rng());
            let proof =
                BitRangeProof::prove(&ctx, &key, &ct, &opening, bits, &mut rand::rng()).unwrap();
            proof.verify(&ctx, key.public_key(), &ct, bits).unwrap();
            assert_eq!(BitRangeProof::decode(&proof.to_bytes()).unwrap(), proof);
        }
    }

    #[test]
    fn prover_refuses_values_too_large_and_bad_bit_counts() {
        let key = key();
        let h = ContextHash([5; 32]);
        let ctx = ProofContext::new(&h, b"");
        let (ct, opening) = key.encrypt(1 << 16, &mut rand::rng());
        let r = BitRangeProof::prove(&ctx, &key, &ct, &opening, 16, &mut rand::rng());
        assert_eq!(r.unwrap_err(), ProveError::WitnessMismatch);
        let r = BitRangeProof::prove(&ctx, &key, &ct, &opening, 0, &mut rand::rng());
        assert!(matches!(
            r.unwrap_err(),
            ProveError::InvalidStatement { .. }
        ));
        let r = BitRangeProof::prove(&ctx, &key, &ct, &opening, 65, &mut rand::rng());
        assert!(matches!(
            r.unwrap_err(),
            ProveError::InvalidStatement { .. }
        ));
    }

    #[test]
    fn proof_fails_under_each_altered_public_input_and_field() {
        let key = key();
        let h = ContextHash([5; 32]);
        let ctx = ProofContext::new(&h, b"b");
        let (ct, opening) = key.encrypt(5, &mut rand::rng());
        let proof = BitRangeProof::prove(&ctx, &key, &ct, &opening, 3, &mut rand::rng()).unwrap();
        let pk = key.public_key();
        proof.verify(&ctx, pk, &ct, 3).unwrap();
        let h2 = ContextHash([6; 32]);
        assert!(
            proof
                .verify(&ProofContext::new(&h2, b"b"), pk, &ct, 3)
                .is_err(),
            "context"
        );
        assert!(
            proof
                .verify(&ProofContext::new(&h, b"x"), pk, &ct, 3)
                .is_err(),
            "binding"
        );
        assert!(
            proof
                .verify(&ctx, self::key().public_key(), &ct, 3)
                .is_err(),
            "K"
        );
        let g = crate::group::basepoint();
        let shift = |p: &Point| Point::from_ristretto(p.as_ristretto() + g.as_ristretto());
        assert!(
            proof
                .verify(&ctx, pk, &Ciphertext::new(shift(ct.alpha()), *ct.beta()), 3)
                .is_err(),
            "alpha"
        );
        assert!(
            proof
                .verify(&ctx, pk, &Ciphertext::new(*ct.alpha(), shift(ct.beta())), 3)
                .is_err(),
            "beta"
        );
        assert!(
            matches!(
                proof.verify(&ctx, pk, &ct, 4),
                Err(VerifyError::ShapeMismatch { .. })
            ),
            "bits"
        );

        let bump = |s: &Scalar| Scalar(s.0 + DalekScalar::ONE);
        for i in 0..3 {
            let mut bad = proof.clone();
            bad.bits[i].ciphertext = Ciphertext::new(
                shift(bad.bits[i].ciphertext.alpha()),
                *bad.bits[i].ciphertext.beta(),
            );
            assert!(bad.verify(&ctx, pk, &ct, 3).is_err(), "bit {i} alpha");
            let mut bad = proof.clone();
            bad.bits[i].ciphertext = Ciphertext::new(
                *bad.bits[i].ciphertext.alpha(),
                shift(bad.bits[i].ciphertext.beta()),
            );
            assert!(bad.verify(&ctx, pk, &ct, 3).is_err(), "bit {i} beta");
            for b in 0..2 {
                let mut bad = proof.clone();
                bad.bits[i].branches[b].z = bump(&bad.bits[i].branches[b].z);
                assert!(
                    bad.verify(&ctx, pk, &ct, 3).is_err(),
                    "bit {i} branch {b} z"
                );
                let mut bad = proof.clone();
                bad.bits[i].branches[b].c = bump(&bad.bits[i].branches[b].c);
                assert_eq!(
                    bad.verify(&ctx, pk, &ct, 3),
                    Err(VerifyError::ChallengeSumMismatch { bit: Some(i) }),
                    "bit {i} branch {b} c"
                );
                let mut bad = proof.clone();
                bad.bits[i].branches[b].A = g;
                assert!(
                    bad.verify(&ctx, pk, &ct, 3).is_err(),
                    "bit {i} branch {b} A"
                );
                let mut bad = proof.clone();
                bad.bits[i].branches[b].B = g;
                assert!(
                    bad.verify(&ctx, pk, &ct, 3).is_err(),
                    "bit {i} branch {b} B"
                );
            }
        }
    }

    #[test]
    fn a_value_too_large_cannot_pass_with_honest_looking_bits() {
        // Encrypt 8 and splice in the bit proof of 0 for 3 bits: recombination fails.
        let key = key();
        let h = ContextHash([5; 32]);
        let ctx = ProofContext::new(&h, b"");
        let (zero, opening) = key.encrypt(0, &mut rand::rng());
        let proof = BitRangeProof::prove(&ctx, &key, &zero, &opening, 3, &mut rand::rng()).unwrap();
        let (eight, _) = key.encrypt(8, &mut rand::rng());
        assert!(proof.verify(&ctx, key.public_key(), &eight, 3).is_err());
    }

    #[test]
    fn sixty_five_well_formed_bits_are_refused_by_count_before_any_field() {
        let key = key();
        let h = ContextHash([5; 32]);
        let ctx = ProofContext::new(&h, b"");
        let (ct, opening) = key.encrypt(u64::MAX, &mut rand::rng());
        let proof = BitRangeProof::prove(&ctx, &key, &ct, &opening, 64, &mut rand::rng()).unwrap();
        let mut bytes = proof.to_bytes();
        assert!(BitRangeProof::decode(&bytes).is_ok());
        let first_bit = bytes[1..1 + BIT_LEN].to_vec();
        bytes.extend_from_slice(&first_bit);
        let err = BitRangeProof::decode(&bytes).unwrap_err();
        assert_eq!(err.field(), "bits");
        assert!(matches!(err.kind(), DecodeErrorKind::OutOfBounds { .. }));
    }

    #[test]
    fn decoding_rejects_partial_bits() {
        assert!(BitRangeProof::decode(&[1]).is_err());
        assert!(BitRangeProof::decode(&vec![1u8; 1 + BIT_LEN - 1]).is_err());
        let mut too_many = vec![1u8];
        too_many.resize(1 + BIT_LEN * 65, 0);
        assert!(BitRangeProof::decode(&too_many).is_err());
    }
}
