//! The disjunctive (CDS) core shared by the range proofs (spec/04-proofs.md §4.4):
//! a ciphertext (α, β) under K encrypts one of the values j = first, first+1, …,
//! first+n−1, i.e. for some j: α = r·G ∧ β − j·G = r·K.
//!
//! The prover runs the same arithmetic for every branch whatever the secret value:
//! for each branch it draws t and s and commits A = t·G, B = t·K − s·(m − j)·G, which
//! is a simulation with challenge s when j ≠ m and an honest commitment when j = m
//! (then m − j = 0). Only the choice of which branch takes the remaining challenge
//! differs, and that is a constant-time select.
#![allow(non_snake_case)]

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE;
use curve25519_dalek::scalar::Scalar as DalekScalar;
use merlin::Transcript;
use subtle::{ConditionallySelectable, ConstantTimeEq};
use zeroize::Zeroizing;

use crate::batch::{Base, Relations};
use crate::elgamal::EncryptionKey;
use crate::encoding::{DecodeError, Point, Reader, Scalar};
use crate::error::VerifyError;
use crate::secret::{NonceSource, SecretScalar};
use crate::transcript::TranscriptExt;
use crate::weaken::{Check, skipped};

/// One branch of a disjunctive proof: commitments A = t·G and B, its challenge c and
/// response z. 128 bytes: A ‖ B ‖ c ‖ z.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrBranch {
    /// Commitment on G.
    pub A: Point,
    /// Commitment on K.
    pub B: Point,
    /// This branch's share of the challenge.
    pub c: Scalar,
    /// Response.
    pub z: Scalar,
}

impl OrBranch {
    pub(crate) const LEN: usize = 128;

    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.A.as_bytes());
        out.extend_from_slice(self.B.as_bytes());
        out.extend_from_slice(&self.c.to_bytes());
        out.extend_from_slice(&self.z.to_bytes());
    }

    /// Reads a branch; `prefix` names it in errors (called only on error).
    pub(crate) fn read(
        reader: &mut Reader<'_>,
        prefix: impl Fn() -> String,
    ) -> Result<Self, DecodeError> {
        Ok(Self {
            A: reader.point_non_identity(|| format!("{}.A", prefix()))?,
            B: reader.point_non_identity(|| format!("{}.B", prefix()))?,
            c: reader.scalar(|| format!("{}.c", prefix()))?,
            z: reader.scalar(|| format!("{}.z", prefix()))?,
        })
    }
}

/// The values first, first+1, …: never past first + count − 1, so a range ending at
/// u64::MAX does not overflow (callers bound count by the statement's max).
fn branch_values(first: u64, count: usize) -> impl Iterator<Item = u64> {
    (0..count as u64).map(move |i| first.saturating_add(i))
}

/// The prover's state between commitment and challenge.
pub(crate) struct Pending {
    t: Vec<Zeroizing<DalekScalar>>,
    s: Vec<Zeroizing<DalekScalar>>,
    commitments: Vec<(Point, Point)>,
    first: u64,
}

/// Commits to every branch. Draws 2n nonces: t₀, s₀, t₁, s₁, …
pub(crate) fn commit(
    key: &EncryptionKey,
    message: &SecretScalar,
    first: u64,
    count: usize,
    nonces: &mut NonceSource<'_>,
) -> Pending {
    let mut pending = Pending {
        t: Vec::with_capacity(count),
        s: Vec::with_capacity(count),
        commitments: Vec::with_capacity(count),
        first,
    };
    for j in branch_values(first, count) {
        let t = nonces.next();
        let s = nonces.next();
        let offset = Zeroizing::new(*s * (message.expose_secret() - DalekScalar::from(j)));
        let A = RISTRETTO_BASEPOINT_TABLE * &*t;
        let B = key.mul_key(&t) - RISTRETTO_BASEPOINT_TABLE * &*offset;
        pending
            .commitments
            .push((Point::from_ristretto(A), Point::from_ristretto(B)));
        pending.t.push(t);
        pending.s.push(s);
    }
    pending
}

/// Appends the commitments of every branch to the transcript, in branch order.
pub(crate) fn append_commitments<'a>(
    transcript: &mut Transcript,
    commitments: impl IntoIterator<Item = (&'a Point, &'a Point)>,
) {
    for (A, B) in commitments {
        transcript.append_point(b"A", A);
        transcript.append_point(b"B", B);
    }
}

impl Pending {
    pub(crate) fn commitments(&self) -> impl Iterator<Item = (&Point, &Point)> {
        self.commitments.iter().map(|(a, b)| (a, b))
    }

    /// The responses to challenge c, for the value m with nonce r.
    pub(crate) fn respond(self, c: &DalekScalar, m: u64, r: &SecretScalar) -> Vec<OrBranch> {
        let is_real: Vec<subtle::Choice> = branch_values(self.first, self.t.len())
            .map(|j| m.ct_eq(&j))
            .collect();
        let mut simulated_sum = DalekScalar::ZERO;
        for (s, real) in self.s.iter().zip(&is_real) {
            simulated_sum += DalekScalar::conditional_select(s, &DalekScalar::ZERO, *real);
        }
        let real_challenge = Zeroizing::new(c - simulated_sum);
        let mut branches = Vec::with_capacity(self.t.len());
        for (((t, s), real), (A, B)) in self
            .t
            .iter()
            .zip(&self.s)
            .zip(&is_real)
            .zip(&self.commitments)
        {
            let branch_c = DalekScalar::conditional_select(s, &real_challenge, *real);
            let z = **t + branch_c * r.expose_secret();
            branches.push(OrBranch {
                A: *A,
                B: *B,
                c: Scalar(branch_c),
                z: Scalar(z),
            });
        }
        branches
    }
}

/// Where K, α and β sit in the proof's [`Relations`].
#[derive(Clone, Copy)]
pub(crate) struct BranchBases {
    pub(crate) key: Base,
    pub(crate) alpha: Base,
    pub(crate) beta: Base,
}

/// Adds the equations of every branch (branch i stands for the value first + i):
///   z·G = A + c·α   and   z·K = B + c·(β − j·G),
/// after checking that the branch challenges sum to c.
pub(crate) fn relations(
    relations: &mut Relations,
    bases: BranchBases,
    first: u64,
    branches: &[OrBranch],
    c: &DalekScalar,
    bit: Option<usize>,
) -> Result<(), VerifyError> {
    let (sum_check, e1_check, e2_check) = match bit {
        None => (Check::RangeChallengeSum, Check::RangeE1, Check::RangeE2),
        Some(_) => (Check::BitChallengeSum, Check::BitE1, Check::BitE2),
    };
    let sum: DalekScalar = branches.iter().map(|b| b.c.0).sum();
    if sum != *c && !skipped(sum_check) {
        return Err(VerifyError::ChallengeSumMismatch { bit });
    }
    let BranchBases { key, alpha, beta } = bases;
    let minus_one = -DalekScalar::ONE;
    for (i, (branch, j)) in branches
        .iter()
        .zip(branch_values(first, branches.len()))
        .enumerate()
    {
        let index = Some(bit.unwrap_or(i));
        let A = relations.local(branch.A.as_ristretto());
        let B = relations.local(branch.B.as_ristretto());
        if !skipped(e1_check) {
            relations.equation(
                "E1 z·G = A + c·α",
                index,
                [(branch.z.0, Base::G), (minus_one, A), (-branch.c.0, alpha)],
            );
        }
        if !skipped(e2_check) {
            relations.equation(
                "E2 z·K = B + c·(β − j·G)",
                index,
                [
                    (branch.z.0, key),
                    (minus_one, B),
                    (-branch.c.0, beta),
                    (branch.c.0 * DalekScalar::from(j), Base::G),
                ],
            );
        }
    }
    Ok(())
}
