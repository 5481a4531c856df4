//! Forgeries that fail exactly one verification check (spec/07-vectors.md §7.2).
//!
//! Each is built with the correct Fiat–Shamir challenge for the statement it is checked
//! against (from `urne_crypto::hazmat`), so nothing but the targeted check can reject it:
//! a verifier that skips that check accepts it. Most are the attack the check exists
//! for (a wrong decryption share, a 5 passed off as a 0/1 selection, bit proofs of
//! another value); the rest are the smallest proof that breaks only that equation.
#![allow(non_snake_case)]

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT;
use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar as DalekScalar;
use curve25519_dalek::traits::Identity;
use urne_crypto::proofs::{BitProof, BitRangeProof, OrBranch, RangeProof};
use urne_crypto::{Ciphertext, Point, ProofContext, PublicKey, Scalar, hazmat};

use crate::generate::derive;

/// G.
pub(crate) fn g() -> RistrettoPoint {
    RISTRETTO_BASEPOINT_POINT
}

/// Enc(m; r) computed in the open (public test data, no constant time needed).
pub(crate) fn encrypt(K: &PublicKey, m: DalekScalar, r: DalekScalar) -> Ciphertext {
    Ciphertext::new(
        Point::from_ristretto(g() * r),
        Point::from_ristretto(g() * m + K.point().as_ristretto() * r),
    )
}

/// The branch that is answered with a witness; the others are simulated.
pub(crate) struct Real {
    /// Which branch.
    pub index: usize,
    /// The nonce r used as witness: z = t + c·r.
    pub r: DalekScalar,
    /// Added to A = t·G: E1 of this branch is then off by −a_offset.
    pub a_offset: RistrettoPoint,
    /// Added to B = t·K: E2 of this branch is then off by −b_offset.
    pub b_offset: RistrettoPoint,
}

impl Real {
    pub(crate) fn honest(index: usize, r: DalekScalar) -> Self {
        Self {
            index,
            r,
            a_offset: RistrettoPoint::identity(),
            b_offset: RistrettoPoint::identity(),
        }
    }
}

/// A disjunctive proof between commitment and challenge.
pub(crate) struct Draft {
    commitments: Vec<(Point, Point)>,
    c: Vec<DalekScalar>,
    z: Vec<DalekScalar>,
    real: Option<(usize, DalekScalar, DalekScalar)>,
}

/// Commits to one branch per value: simulated branches satisfy both equations for any
/// challenge they pick; the real branch (if any) is t·G, t·K plus its offsets.
pub(crate) fn draft(
    name: &str,
    K: &PublicKey,
    ciphertext: &Ciphertext,
    values: &[u64],
    real: Option<Real>,
) -> Draft {
    let (alpha, beta) = (
        ciphertext.alpha().as_ristretto(),
        ciphertext.beta().as_ristretto(),
    );
    let k = K.point().as_ristretto();
    let mut draft = Draft {
        commitments: Vec::new(),
        c: Vec::new(),
        z: Vec::new(),
        real: None,
    };
    for (i, j) in values.iter().enumerate() {
        match &real {
            Some(real) if real.index == i => {
                let t = derive(&format!("{name}/t/{i}"));
                draft.commitments.push((
                    Point::from_ristretto(g() * t + real.a_offset),
                    Point::from_ristretto(k * t + real.b_offset),
                ));
                draft.real = Some((i, t, real.r));
                draft.c.push(DalekScalar::ZERO);
                draft.z.push(DalekScalar::ZERO);
            }
            _ => {
                let c = derive(&format!("{name}/c/{i}"));
                let z = derive(&format!("{name}/z/{i}"));
                let shifted = beta - g() * DalekScalar::from(*j);
                draft.commitments.push((
                    Point::from_ristretto(g() * z - alpha * c),
                    Point::from_ristretto(k * z - shifted * c),
                ));
                draft.c.push(c);
                draft.z.push(z);
            }
        }
    }
    draft
}

impl Draft {
    pub(crate) fn commitments(&self) -> &[(Point, Point)] {
        &self.commitments
    }

    /// The branches for challenge c: the real branch takes what the simulated ones
    /// leave, so the challenges sum to c (unless every branch is simulated).
    pub(crate) fn finish(mut self, c: &Scalar) -> Vec<OrBranch> {
        if let Some((index, t, r)) = self.real {
            let others: DalekScalar = self
                .c
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != index)
                .map(|(_, c)| c)
                .sum();
            let real_c = c.as_dalek() - others;
            self.c[index] = real_c;
            self.z[index] = t + real_c * r;
        }
        self.commitments
            .iter()
            .zip(self.c.iter().zip(&self.z))
            .map(|((A, B), (c, z))| OrBranch {
                A: *A,
                B: *B,
                c: Scalar::from_dalek(*c),
                z: Scalar::from_dalek(*z),
            })
            .collect()
    }
}

/// A range proof over `values` (one branch each) checked against [min, max].
pub(crate) fn range_proof(
    ctx: &ProofContext<'_>,
    name: &str,
    K: &PublicKey,
    ciphertext: &Ciphertext,
    (min, max): (u64, u64),
    values: &[u64],
    real: Option<Real>,
) -> RangeProof {
    let draft = draft(name, K, ciphertext, values, real);
    let c = hazmat::range_challenge(ctx, K, ciphertext, min, max, draft.commitments());
    RangeProof {
        branches: draft.finish(&c),
    }
}

/// One bit of a forged bit range proof: its ciphertext and how its two branches are
/// answered.
pub(crate) struct ForgedBit {
    pub ciphertext: Ciphertext,
    pub real: Option<Real>,
}

/// A bit range proof over the given bits, checked against a statement of `bits` bits.
pub(crate) fn bit_range_proof(
    ctx: &ProofContext<'_>,
    name: &str,
    K: &PublicKey,
    ciphertext: &Ciphertext,
    bits: u64,
    forged: Vec<ForgedBit>,
) -> BitRangeProof {
    let bit_ciphertexts: Vec<Ciphertext> = forged.iter().map(|b| b.ciphertext).collect();
    let drafts: Vec<Draft> = forged
        .into_iter()
        .enumerate()
        .map(|(i, b)| {
            draft(
                &format!("{name}/bit/{i}"),
                K,
                &b.ciphertext,
                &[0, 1],
                b.real,
            )
        })
        .collect();
    let commitments: Vec<(Point, Point)> = drafts
        .iter()
        .flat_map(|d| d.commitments().iter().copied())
        .collect();
    let c = hazmat::bit_range_challenge(ctx, K, ciphertext, bits, &bit_ciphertexts, &commitments);
    BitRangeProof {
        bits: drafts
            .into_iter()
            .zip(bit_ciphertexts)
            .map(|(d, ciphertext)| {
                let b = d.finish(&c);
                BitProof {
                    ciphertext,
                    branches: [b[0], b[1]],
                }
            })
            .collect(),
    }
}

/// Nonces r₀ … r_{k−1} with Σ 2^i·rᵢ = r (the last one solved for, as §4.5 does).
pub(crate) fn bit_nonces(name: &str, r: DalekScalar, k: usize) -> Vec<DalekScalar> {
    let mut nonces: Vec<DalekScalar> = (0..k - 1)
        .map(|i| derive(&format!("{name}/bit-nonce/{i}")))
        .collect();
    let weighted: DalekScalar = nonces
        .iter()
        .enumerate()
        .map(|(i, r_i)| DalekScalar::from(1u64 << i) * r_i)
        .sum();
    nonces.push((r - weighted) * DalekScalar::from(1u64 << (k - 1)).invert());
    nonces
}
