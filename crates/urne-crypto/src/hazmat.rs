//! Hazardous: provers that take caller-chosen nonces, and the raw Fiat–Shamir challenges.
#![allow(non_snake_case)]
//!
//! A nonce that repeats, or that anyone else can guess, gives away the witness (a
//! trustee's key share, a vote). These functions exist so that the golden vectors can be
//! recomputed byte for byte and so that the vector generator can build the forgeries
//! that show each verification check is needed (spec/07-vectors.md). They are behind the
//! `hazmat` feature, which only `urne-vectors` enables; every other caller uses the
//! provers of [`crate::proofs`], which draw hedged nonces (spec/04-proofs.md §4.1).

use curve25519_dalek::scalar::Scalar as DalekScalar;

use crate::elgamal::{Ciphertext, EncryptionKey, Opening, PublicKey};
use crate::encoding::{Point, Scalar};
use crate::error::ProveError;
use crate::proofs::{
    BitRangeProof, DleqProof, DleqStatement, RangeProof, SchnorrProof, ValueRange, bits, dleq,
    range, schnorr,
};
use crate::secret::SecretScalar;
use crate::transcript::ProofContext;

pub use crate::weaken::Check;
#[cfg(feature = "test-weakened-verifier")]
pub use crate::weaken::Weakened;

/// Schnorr proof (§4.2) with the nonce w given.
pub fn schnorr_prove_with_nonces(
    context: &ProofContext<'_>,
    x: &SecretScalar,
    X: &Point,
    nonces: &[SecretScalar],
) -> Result<SchnorrProof, ProveError> {
    SchnorrProof::prove_with_nonces(context, x, X, nonces)
}

/// DLEQ proof (§4.3) with the nonce w given.
pub fn dleq_prove_with_nonces(
    context: &ProofContext<'_>,
    statement: &DleqStatement<'_>,
    x: &SecretScalar,
    nonces: &[SecretScalar],
) -> Result<DleqProof, ProveError> {
    DleqProof::prove_with_nonces(context, statement, x, nonces)
}

/// Range proof (§4.4) with the 2n nonces t₀, s₀, t₁, s₁, … given.
pub fn range_prove_with_nonces(
    context: &ProofContext<'_>,
    key: &EncryptionKey,
    ciphertext: &Ciphertext,
    opening: &Opening,
    range: ValueRange,
    nonces: &[SecretScalar],
) -> Result<RangeProof, ProveError> {
    RangeProof::prove_with_nonces(context, key, ciphertext, opening, range, nonces)
}

/// Bit range proof (§4.5) with the nonces r₀ … r_{k−2}, then t, s per branch per bit.
pub fn bit_range_prove_with_nonces(
    context: &ProofContext<'_>,
    key: &EncryptionKey,
    ciphertext: &Ciphertext,
    opening: &Opening,
    bits: usize,
    nonces: &[SecretScalar],
) -> Result<BitRangeProof, ProveError> {
    BitRangeProof::prove_with_nonces(context, key, ciphertext, opening, bits, nonces)
}

/// The challenge c of a Schnorr transcript (§4.2) for X and commitment A.
pub fn schnorr_challenge(context: &ProofContext<'_>, X: &Point, A: &Point) -> Scalar {
    Scalar::from_dalek(schnorr::challenge(context, X, A))
}

/// The challenge c of a DLEQ transcript (§4.3).
pub fn dleq_challenge(
    context: &ProofContext<'_>,
    statement: &DleqStatement<'_>,
    A1: &Point,
    A2: &Point,
) -> Scalar {
    Scalar::from_dalek(dleq::challenge(context, statement, A1, A2))
}

/// The challenge c of a range transcript (§4.4) over any number of branch commitments
/// (A, B): a forgery may carry more or fewer branches than [min, max] has values.
pub fn range_challenge(
    context: &ProofContext<'_>,
    key: &PublicKey,
    ciphertext: &Ciphertext,
    min: u64,
    max: u64,
    commitments: &[(Point, Point)],
) -> Scalar {
    let c: DalekScalar = range::challenge(context, key, ciphertext, min, max, commitments);
    Scalar::from_dalek(c)
}

/// The challenge c of a bit range transcript (§4.5) over any number of bit ciphertexts
/// and branch commitments (two per bit, bit 0 first).
pub fn bit_range_challenge(
    context: &ProofContext<'_>,
    key: &PublicKey,
    ciphertext: &Ciphertext,
    bits: u64,
    bit_ciphertexts: &[Ciphertext],
    commitments: &[(Point, Point)],
) -> Scalar {
    Scalar::from_dalek(bits::challenge(
        context,
        key,
        ciphertext,
        bits,
        bit_ciphertexts,
        commitments,
    ))
}

/// Triptych signature (spec/08 §8.7) with the 4 + m·n nonces given in the spec's order
/// (r_A, r_B, r_C, r_D, a_{j,i} row by row for i ≥ 1, ρ_0 … ρ_{m−1}); the witness is
/// checked and the signature self-checked as [`crate::triptych::sign`] does.
pub fn triptych_sign_with_nonces(
    ring: &crate::triptych::Ring,
    index: usize,
    secret: &zeroize::Zeroizing<DalekScalar>,
    linking_base: &curve25519_dalek::ristretto::RistrettoPoint,
    context: &[u8],
    nonces: &[SecretScalar],
) -> Result<crate::triptych::Signature, crate::triptych::Error> {
    crate::triptych::sign_with_nonces(
        ring,
        index,
        secret,
        secret,
        None,
        linking_base,
        context,
        nonces,
        true,
    )
}

/// Disclosing Triptych signature (spec/08 §8.12) with the 4 + m·n + m nonces given (those
/// of [`triptych_sign_with_nonces`], then ρ'_0 … ρ'_{m−1}); the witness (key and
/// commitment opening) is checked and the signature self-checked.
#[allow(clippy::too_many_arguments)]
pub fn triptych_sign_disclosing_with_nonces(
    ring: &crate::triptych::Ring,
    attribute: &crate::triptych::Attribute<'_>,
    index: usize,
    secret: &zeroize::Zeroizing<DalekScalar>,
    blinding: &zeroize::Zeroizing<DalekScalar>,
    linking_base: &curve25519_dalek::ristretto::RistrettoPoint,
    context: &[u8],
    nonces: &[SecretScalar],
) -> Result<crate::triptych::Signature, crate::triptych::Error> {
    crate::triptych::sign_with_nonces(
        ring,
        index,
        secret,
        secret,
        Some((attribute, blinding, index)),
        linking_base,
        context,
        nonces,
        true,
    )
}

/// A disclosing Triptych "signature" made without checking the witness: `blinding` need
/// not open the commitment at `index` to `attribute.base` (E5's forgeries).
#[allow(clippy::too_many_arguments)]
pub fn triptych_forge_disclosing_with_nonces(
    ring: &crate::triptych::Ring,
    attribute: &crate::triptych::Attribute<'_>,
    index: usize,
    secret: &zeroize::Zeroizing<DalekScalar>,
    blinding: &zeroize::Zeroizing<DalekScalar>,
    linking_base: &curve25519_dalek::ristretto::RistrettoPoint,
    context: &[u8],
    nonces: &[SecretScalar],
) -> Result<crate::triptych::Signature, crate::triptych::Error> {
    triptych_forge_disclosing_at(
        ring,
        attribute,
        index,
        index,
        secret,
        blinding,
        linking_base,
        context,
        nonces,
    )
}

/// A disclosing Triptych "signature" whose W_j answer for the commitment at
/// `commitment_index` (opened with `blinding`) while every other part answers for the
/// key at `index`: what a signer who knows another entry's opening (its own second key,
/// or the registrar) would try, to disclose a value that is not its own key's. E1…E4
/// hold; E5, over the index the f_{j,i} make one-hot, fails (the `another-index` vector
/// of spec/08 §8.12).
#[allow(clippy::too_many_arguments)]
pub fn triptych_forge_disclosing_at(
    ring: &crate::triptych::Ring,
    attribute: &crate::triptych::Attribute<'_>,
    index: usize,
    commitment_index: usize,
    secret: &zeroize::Zeroizing<DalekScalar>,
    blinding: &zeroize::Zeroizing<DalekScalar>,
    linking_base: &curve25519_dalek::ristretto::RistrettoPoint,
    context: &[u8],
    nonces: &[SecretScalar],
) -> Result<crate::triptych::Signature, crate::triptych::Error> {
    crate::triptych::sign_with_nonces(
        ring,
        index,
        secret,
        secret,
        Some((attribute, blinding, commitment_index)),
        linking_base,
        context,
        nonces,
        false,
    )
}

/// A Triptych "signature" made without checking the witness: `ring_secret` stands for
/// the key at `index` (E3) and `tag_secret` makes the tag J = tag_secret⁻¹·U (E4).
/// With either one wrong, exactly one equation fails: the vectors' forgeries.
#[allow(clippy::too_many_arguments)]
pub fn triptych_forge_with_nonces(
    ring: &crate::triptych::Ring,
    index: usize,
    ring_secret: &zeroize::Zeroizing<DalekScalar>,
    tag_secret: &zeroize::Zeroizing<DalekScalar>,
    linking_base: &curve25519_dalek::ristretto::RistrettoPoint,
    context: &[u8],
    nonces: &[SecretScalar],
) -> Result<crate::triptych::Signature, crate::triptych::Error> {
    crate::triptych::sign_with_nonces(
        ring,
        index,
        ring_secret,
        tag_secret,
        None,
        linking_base,
        context,
        nonces,
        false,
    )
}

/// A Triptych "signature" whose B commits to `sigma_B` and whose responses answer for
/// the matrix `sigma` (m rows of n, row-major, each summing to 1) instead of the one-hot
/// digits of an index; E3 and E4 answer for `ring_secret` and `tag_secret`. The
/// structural forgeries of spec/08 §8.11 (a digit 2, two 1s in a row, a row of halves:
/// E2 only; a B with no 1 in a row: E1 only).
#[allow(clippy::too_many_arguments)]
pub fn triptych_forge_structure(
    ring: &crate::triptych::Ring,
    sigma: &[DalekScalar],
    sigma_B: &[DalekScalar],
    ring_secret: &zeroize::Zeroizing<DalekScalar>,
    tag_secret: &zeroize::Zeroizing<DalekScalar>,
    linking_base: &curve25519_dalek::ristretto::RistrettoPoint,
    context: &[u8],
    nonces: &[SecretScalar],
) -> Result<crate::triptych::Signature, crate::triptych::Error> {
    crate::triptych::structural::forge(
        ring,
        sigma,
        sigma_B,
        ring_secret,
        tag_secret,
        linking_base,
        context,
        nonces,
    )
}

/// The challenge ξ of a Triptych signature (spec/08 §8.7).
pub fn triptych_challenge(
    ring: &crate::triptych::Ring,
    linking_base: &curve25519_dalek::ristretto::RistrettoPoint,
    context: &[u8],
    signature: &crate::triptych::Signature,
) -> Scalar {
    crate::triptych::challenge_of(ring, linking_base, context, signature)
}

/// The challenge ξ of a disclosing Triptych signature (spec/08 §8.12).
pub fn triptych_challenge_disclosing(
    ring: &crate::triptych::Ring,
    attribute: &crate::triptych::Attribute<'_>,
    linking_base: &curve25519_dalek::ristretto::RistrettoPoint,
    context: &[u8],
    signature: &crate::triptych::Signature,
) -> Result<Scalar, crate::triptych::Error> {
    crate::triptych::challenge_of_disclosing(ring, attribute, linking_base, context, signature)
}
