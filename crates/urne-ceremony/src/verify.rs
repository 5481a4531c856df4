//! The ceremony re-checked from its public records alone (spec/20-ceremony.md §20.6).
//!
//! [`verify_ceremony`] is the one place the outcome is decided: the trustees call it to
//! learn who qualified, the board's handlers and the independent verifier call it on
//! what the board holds, so all of them reach the same joint key or the same fault.

#![allow(non_snake_case)]

use std::collections::BTreeMap;

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::traits::Identity;
use urne_crypto::proofs::SchnorrProof;
use urne_crypto::{ContextHash, Point, ProofContext, PublicKey};

use crate::polynomial::{evaluate_commitments, share_matches};
use crate::records::{
    CeremonyContext, CeremonyOpen, CommitmentHash, Commitments, Complaint, ComplaintAnswer,
    EncryptedShares, TrusteeRegistration,
};

/// A fault of the transcript itself: records a board should never have accepted, or a
/// ceremony that cannot produce a key. Each names the record kind and the trustee.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CeremonyFault {
    /// A trustee registered no share key.
    #[error("trustee {trustee} has no ceremony.register record")]
    MissingRegistration {
        /// The trustee.
        trustee: u16,
    },
    /// A record names a trustee index the ceremony does not have.
    #[error("{record} names trustee {trustee}, who is not in the ceremony")]
    UnknownTrustee {
        /// The record kind.
        record: &'static str,
        /// The index it names.
        trustee: u16,
    },
    /// Two records of one kind from one trustee (or for one pair of trustees).
    #[error("two {record} records from trustee {trustee}")]
    DuplicateRecord {
        /// The record kind.
        record: &'static str,
        /// The trustee who posted both.
        trustee: u16,
    },
    /// A complaint against a dealer that posted no shares.
    #[error("trustee {complainer} complains about dealer {dealer}, who posted no shares")]
    ComplaintWithoutShares {
        /// The complainer.
        complainer: u16,
        /// The dealer.
        dealer: u16,
    },
    /// An answer to a complaint nobody made.
    #[error("dealer {dealer} answers a complaint by trustee {recipient} that was never made")]
    UnsolicitedAnswer {
        /// The dealer.
        dealer: u16,
        /// The recipient named.
        recipient: u16,
    },
    /// Fewer than t dealers qualified: there is no key.
    #[error("only {qualified} dealers qualified, the threshold is {threshold}")]
    TooFewQualified {
        /// How many qualified.
        qualified: usize,
        /// t.
        threshold: u16,
    },
    /// The joint key came out as the identity (negligible unless dealers collude openly).
    #[error("the joint key is the identity")]
    JointKeyIsIdentity,
}

/// Why a dealer was disqualified. The ceremony goes on without it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DisqualificationReason {
    /// It posted no commitment hash.
    NoCommitmentHash,
    /// It posted no commitments.
    NoCommitments,
    /// Its commitments do not hash to the commitment hash it posted first.
    CommitmentHashMismatch,
    /// It committed to a number of coefficients other than t.
    WrongCoefficientCount {
        /// How many it posted.
        found: usize,
    },
    /// The proof of knowledge of coefficient k fails.
    BadCoefficientProof {
        /// k.
        coefficient: usize,
    },
    /// It posted no encrypted shares.
    NoShares,
    /// Its shares do not go to exactly every other trustee.
    WrongShareRecipients,
    /// It did not answer a complaint.
    ComplaintUnanswered {
        /// The complainer.
        recipient: u16,
    },
    /// The share it revealed does not match its commitments.
    RevealedShareInvalid {
        /// The complainer.
        recipient: u16,
    },
}

/// A dealer left out of the joint key, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Disqualification {
    /// The dealer.
    pub dealer: u16,
    /// Why.
    pub reason: DisqualificationReason,
}

/// Every public record of a ceremony, as the board holds them (each decoded; the board
/// has checked that each is signed by the identity key of the trustee it names and was
/// posted in its phase).
#[derive(Clone, Debug)]
pub struct CeremonyTranscript {
    /// The board context id of the ceremony.
    pub ceremony_id: [u8; 32],
    /// The authority's `ceremony.open`.
    pub open: CeremonyOpen,
    /// One `ceremony.register` per trustee.
    pub registrations: Vec<TrusteeRegistration>,
    /// `ceremony.commitment-hash` records.
    pub commitment_hashes: Vec<CommitmentHash>,
    /// `ceremony.commitments` records.
    pub commitments: Vec<Commitments>,
    /// `ceremony.shares` records.
    pub shares: Vec<EncryptedShares>,
    /// `ceremony.complaint` records.
    pub complaints: Vec<Complaint>,
    /// `ceremony.answer` records.
    pub answers: Vec<ComplaintAnswer>,
}

/// What a ceremony produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CeremonyOutcome {
    /// The ceremony context hash.
    pub context: ContextHash,
    /// t.
    pub threshold: u16,
    /// The dealers whose polynomials make the joint key, increasing.
    pub qualified: Vec<u16>,
    /// The others, increasing by dealer.
    pub disqualified: Vec<Disqualification>,
    /// K = Σ_{i qualified} A_i0.
    pub joint_key: PublicKey,
    /// S_j = Σ_{i qualified} Σ_k A_ik·j^k for j = 1..=n (index j−1).
    pub verification_keys: Vec<Point>,
}

impl CeremonyOutcome {
    /// S_j, if j is a trustee.
    pub fn verification_key(&self, trustee: u16) -> Option<&Point> {
        self.verification_keys
            .get(usize::from(trustee).wrapping_sub(1))
    }
}

/// Schnorr binding bytes of coefficient k of dealer i: i ‖ k, both u16 big-endian.
pub(crate) fn coefficient_binding(dealer: u16, k: usize) -> [u8; 4] {
    let mut binding = [0u8; 4];
    binding[..2].copy_from_slice(&dealer.to_be_bytes());
    binding[2..].copy_from_slice(&(k.min(usize::from(u16::MAX)) as u16).to_be_bytes());
    binding
}

/// Indexes records by trustee, refusing unknown indices and duplicates.
fn by_trustee<'a, T>(
    context: &CeremonyContext,
    record: &'static str,
    items: &'a [T],
    trustee: impl Fn(&T) -> u16,
) -> Result<BTreeMap<u16, &'a T>, CeremonyFault> {
    let mut map = BTreeMap::new();
    for item in items {
        let index = trustee(item);
        if index == 0 || index > context.trustee_count() {
            return Err(CeremonyFault::UnknownTrustee {
                record,
                trustee: index,
            });
        }
        if map.insert(index, item).is_some() {
            return Err(CeremonyFault::DuplicateRecord {
                record,
                trustee: index,
            });
        }
    }
    Ok(map)
}

/// The commitment checks of dealer i (spec §20.6 step 3, a–e): its commitment points if
/// they pass.
pub(crate) fn check_commitments(
    context: &CeremonyContext,
    dealer: u16,
    hash: Option<&CommitmentHash>,
    commitments: Option<&Commitments>,
) -> Result<Vec<Point>, DisqualificationReason> {
    let hash = hash.ok_or(DisqualificationReason::NoCommitmentHash)?;
    let commitments = commitments.ok_or(DisqualificationReason::NoCommitments)?;
    let points = commitments.points();
    if CommitmentHash::of(context.hash(), dealer, &points) != hash.hash {
        return Err(DisqualificationReason::CommitmentHashMismatch);
    }
    if points.len() != usize::from(context.threshold()) {
        return Err(DisqualificationReason::WrongCoefficientCount {
            found: points.len(),
        });
    }
    for (k, (A, proof)) in commitments.coefficients.iter().enumerate() {
        let binding = coefficient_binding(dealer, k);
        let proof_context = ProofContext::new(context.hash(), &binding);
        SchnorrProof::verify(proof, &proof_context, A)
            .map_err(|_| DisqualificationReason::BadCoefficientProof { coefficient: k })?;
    }
    Ok(points)
}

/// Re-checks a whole ceremony from its public records and computes its outcome
/// (spec/20-ceremony.md §20.6, the checks in the order listed there).
pub fn verify_ceremony(transcript: &CeremonyTranscript) -> Result<CeremonyOutcome, CeremonyFault> {
    // Step 1: the context.
    let context = CeremonyContext::new(
        transcript.ceremony_id,
        transcript.open.clone(),
        &transcript.registrations,
    )?;
    let n = context.trustee_count();

    // Step 2: every record names a trustee of this ceremony, at most once.
    let hashes = by_trustee(
        &context,
        "ceremony.commitment-hash",
        &transcript.commitment_hashes,
        |r| r.dealer,
    )?;
    let commitments = by_trustee(
        &context,
        "ceremony.commitments",
        &transcript.commitments,
        |r| r.dealer,
    )?;
    let shares = by_trustee(&context, "ceremony.shares", &transcript.shares, |r| {
        r.dealer
    })?;
    let mut complaints: BTreeMap<(u16, u16), &Complaint> = BTreeMap::new();
    for complaint in &transcript.complaints {
        for index in [complaint.complainer, complaint.dealer] {
            if index == 0 || index > n {
                return Err(CeremonyFault::UnknownTrustee {
                    record: "ceremony.complaint",
                    trustee: index,
                });
            }
        }
        if !shares.contains_key(&complaint.dealer) {
            return Err(CeremonyFault::ComplaintWithoutShares {
                complainer: complaint.complainer,
                dealer: complaint.dealer,
            });
        }
        if complaints
            .insert((complaint.dealer, complaint.complainer), complaint)
            .is_some()
        {
            return Err(CeremonyFault::DuplicateRecord {
                record: "ceremony.complaint",
                trustee: complaint.complainer,
            });
        }
    }
    let mut answers: BTreeMap<(u16, u16), &ComplaintAnswer> = BTreeMap::new();
    for answer in &transcript.answers {
        if !complaints.contains_key(&(answer.dealer, answer.recipient)) {
            return Err(CeremonyFault::UnsolicitedAnswer {
                dealer: answer.dealer,
                recipient: answer.recipient,
            });
        }
        if answers
            .insert((answer.dealer, answer.recipient), answer)
            .is_some()
        {
            return Err(CeremonyFault::DuplicateRecord {
                record: "ceremony.answer",
                trustee: answer.dealer,
            });
        }
    }

    // Step 3: each dealer in turn.
    let mut qualified = Vec::new();
    let mut qualified_points: Vec<Vec<Point>> = Vec::new();
    let mut disqualified = Vec::new();
    for dealer in context.trustees() {
        let verdict = (|| {
            let points = check_commitments(
                &context,
                dealer,
                hashes.get(&dealer).copied(),
                commitments.get(&dealer).copied(),
            )?;
            let dealt = shares
                .get(&dealer)
                .ok_or(DisqualificationReason::NoShares)?;
            if !dealt.covers_every_other_trustee(n) {
                return Err(DisqualificationReason::WrongShareRecipients);
            }
            for &(_, recipient) in complaints
                .range((dealer, 0)..=(dealer, u16::MAX))
                .map(|(k, _)| k)
            {
                let answer = answers
                    .get(&(dealer, recipient))
                    .ok_or(DisqualificationReason::ComplaintUnanswered { recipient })?;
                if !share_matches(&points, recipient, answer.share.as_dalek()) {
                    return Err(DisqualificationReason::RevealedShareInvalid { recipient });
                }
            }
            Ok(points)
        })();
        match verdict {
            Ok(points) => {
                qualified.push(dealer);
                qualified_points.push(points);
            }
            Err(reason) => disqualified.push(Disqualification { dealer, reason }),
        }
    }

    // Step 4: at least t qualified dealers.
    if qualified.len() < usize::from(context.threshold()) {
        return Err(CeremonyFault::TooFewQualified {
            qualified: qualified.len(),
            threshold: context.threshold(),
        });
    }

    // Step 5: C_k = Σ_i A_ik, K = C_0, S_j = Σ_k C_k·j^k.
    let mut combined = vec![RistrettoPoint::identity(); usize::from(context.threshold())];
    for points in &qualified_points {
        for (sum, A) in combined.iter_mut().zip(points) {
            *sum += A.as_ristretto();
        }
    }
    let combined: Vec<Point> = combined.into_iter().map(Point::from_ristretto).collect();
    let joint_key = combined
        .first()
        .and_then(|K| PublicKey::from_point(*K).ok())
        .ok_or(CeremonyFault::JointKeyIsIdentity)?;
    let verification_keys = context
        .trustees()
        .map(|j| Point::from_ristretto(evaluate_commitments(&combined, j)))
        .collect();
    Ok(CeremonyOutcome {
        context: *context.hash(),
        threshold: context.threshold(),
        qualified,
        disqualified,
        joint_key,
        verification_keys,
    })
}
