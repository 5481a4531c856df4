//! Decryption of the sums, the result record, and its verification (spec/24-tally.md
//! §24.4–§24.6).

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE;
use curve25519_dalek::scalar::Scalar as DalekScalar;
use urne_ballot::{Ballot, Election, Manifest};
use urne_ceremony::{
    CeremonyOutcome, DecryptionError, DecryptionShares, MAX_TRUSTEES, VerifiedDecryptionShares,
    combine, verify_decryption_shares,
};
use urne_credential::CredentialList;
use urne_crypto::{Ciphertext, ContextHash, DiscreteLogTable, Point};

use crate::codec::{DecodeError, Reader};
use crate::error::{Position, TallyError};
use crate::funding::{Funding, check_fundings, encode_fundings, fits, fund, read_fundings};
use crate::tally::{
    Aggregation, EncryptedTally, aggregate, check_shape, entry_maxima, read_contests,
};
use crate::{TALLY_VERSION, TALLY_VERSION_FUNDED};

/// `tally.result`: the encrypted sums, which trustees' shares opened them, and the counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TallyResult {
    /// The sums that were decrypted (with the counted ballots and weight).
    pub tally: EncryptedTally,
    /// How many accepted ballots were superseded by a later one of their credential.
    pub superseded: u64,
    /// The t trustees whose decryption shares were combined, increasing.
    pub trustees: Vec<u16>,
    /// Per contest, per entry (as in `tally.contests`): the count.
    pub counts: Vec<Vec<u64>>,
    /// Per budget contest, in manifest order: the funded projects (spec/26).
    pub fundings: Vec<Funding>,
}

/// Counted weight × each entry's per-ballot maximum.
fn bounds(manifest: &Manifest, weight: u64) -> Vec<Vec<u64>> {
    entry_maxima(manifest)
        .into_iter()
        .map(|maxima| {
            maxima
                .into_iter()
                .map(|m| weight.saturating_mul(m))
                .collect()
        })
        .collect()
}

/// Verifies each share set against the sums, naming the trustee and entry of a bad share.
fn verify_shares(
    outcome: &CeremonyOutcome,
    context: &ContextHash,
    ciphertexts: &[Ciphertext],
    positions: &[Position],
    shares: &DecryptionShares,
) -> Result<VerifiedDecryptionShares, TallyError> {
    verify_decryption_shares(outcome, context, ciphertexts, shares).map_err(|e| match e {
        DecryptionError::InvalidShare {
            trustee,
            ciphertext,
        } => match positions.get(ciphertext) {
            Some(&at) => TallyError::InvalidShare { trustee, at },
            None => TallyError::Shares(e),
        },
        other => TallyError::Shares(other),
    })
}

/// Opens the sums of an aggregation with the decryption shares of any t trustees (more
/// are accepted; the t lowest-numbered are used), then solves each count within counted
/// weight × the entry's maximum. Every share set given is verified first.
pub fn decrypt_tally(
    election: &Election,
    outcome: &CeremonyOutcome,
    aggregation: &Aggregation,
    shares: &[DecryptionShares],
) -> Result<TallyResult, TallyError> {
    decrypt_sums(
        election,
        outcome,
        &aggregation.tally,
        aggregation.resolution.superseded.len() as u64,
        shares,
    )
}

/// [`decrypt_tally`] of sums computed elsewhere (the board's fold keeps them with the
/// number of superseded ballots, not as an [`Aggregation`]): spec/24 §24.4 in one place.
pub fn decrypt_sums(
    election: &Election,
    outcome: &CeremonyOutcome,
    tally: &EncryptedTally,
    superseded: u64,
    shares: &[DecryptionShares],
) -> Result<TallyResult, TallyError> {
    let manifest = election.manifest();
    if tally.context != *election.context() {
        return Err(TallyError::TallyOfAnotherElection);
    }
    if outcome.joint_key != *election.public_key() {
        return Err(TallyError::CeremonyOfAnotherKey);
    }
    check_shape(manifest, &tally.contests)?;
    let ciphertexts = tally.ciphertexts();
    let positions = tally.positions(manifest);
    let mut verified = shares
        .iter()
        .map(|s| verify_shares(outcome, &tally.context, &ciphertexts, &positions, s))
        .collect::<Result<Vec<_>, _>>()?;
    verified.sort_by_key(VerifiedDecryptionShares::trustee);
    verified.dedup_by_key(|v| v.trustee());
    if verified.len() != shares.len() {
        return Err(TallyError::Shares(DecryptionError::DuplicateTrustee {
            trustee: duplicate(shares).unwrap_or(0),
        }));
    }
    verified.truncate(usize::from(outcome.threshold));
    let trustees: Vec<u16> = verified
        .iter()
        .map(VerifiedDecryptionShares::trustee)
        .collect();
    let points = combine(outcome.threshold, &ciphertexts, &verified).map_err(TallyError::Shares)?;

    let bounds = bounds(manifest, tally.weight);
    let largest = bounds.iter().flatten().copied().max().unwrap_or(0);
    let table = DiscreteLogTable::new(largest).map_err(|_| {
        let at = positions
            .iter()
            .zip(bounds.iter().flatten())
            .find(|(_, b)| **b == largest)
            .map(|(p, _)| *p)
            .unwrap_or(Position {
                contest: 0,
                entry: crate::Entry::Option(0),
            });
        TallyError::BoundTooLarge { at, bound: largest }
    })?;
    let mut counts: Vec<Vec<u64>> = tally
        .contests
        .iter()
        .map(|c| Vec::with_capacity(c.len()))
        .collect();
    let mut flat = points.iter().zip(&positions);
    for (contest_counts, contest_bounds) in counts.iter_mut().zip(&bounds) {
        for &bound in contest_bounds {
            let Some((point, &at)) = flat.next() else {
                break;
            };
            let count = table
                .solve(point.as_ristretto())
                .filter(|&c| c <= bound)
                .ok_or(TallyError::NoCountWithinBound { at, bound })?;
            contest_counts.push(count);
        }
    }
    let fundings = fund(manifest, &counts)?;
    if let Some((k, funding)) = fundings.iter().enumerate().find(|(_, f)| !fits(f)) {
        return Err(TallyError::Funding {
            funding: k,
            contest: usize::from(funding.contest),
            field: "approvals_total".into(),
            detail: "a total beyond the 64 bits of the result's fields".into(),
        });
    }
    Ok(TallyResult {
        tally: tally.clone(),
        superseded,
        trustees,
        counts,
        fundings,
    })
}

fn duplicate(shares: &[DecryptionShares]) -> Option<u16> {
    let mut seen: Vec<u16> = shares.iter().map(|s| s.trustee).collect();
    seen.sort_unstable();
    seen.windows(2).find(|w| w[0] == w[1]).map(|w| w[0])
}

impl TallyResult {
    const NAME: &'static str = "tally.result";

    /// version ‖ context ‖ ballots (u64) ‖ superseded (u64) ‖ weight (u64) ‖ trustees
    /// (u16) ‖ that many trustee indices (u16, increasing) ‖ contests (u16) ‖ per
    /// contest: entries (u16) ‖ per entry: sum (α ‖ β) ‖ count (u64) ‖ with a budget
    /// contest, the fundings (version 2). Big-endian.
    pub fn to_bytes(&self) -> Vec<u8> {
        let entries: usize = self.tally.contests.iter().map(Vec::len).sum();
        let mut out = Vec::with_capacity(
            61 + 2 * self.trustees.len() + 2 * self.tally.contests.len() + 72 * entries,
        );
        out.push(if self.fundings.is_empty() {
            TALLY_VERSION
        } else {
            TALLY_VERSION_FUNDED
        });
        out.extend_from_slice(&self.tally.context.0);
        out.extend_from_slice(&self.tally.ballots.to_be_bytes());
        out.extend_from_slice(&self.superseded.to_be_bytes());
        out.extend_from_slice(&self.tally.weight.to_be_bytes());
        out.extend_from_slice(
            &(self.trustees.len().min(usize::from(u16::MAX)) as u16).to_be_bytes(),
        );
        for trustee in &self.trustees {
            out.extend_from_slice(&trustee.to_be_bytes());
        }
        self.tally.encode_into(&mut out, Some(&self.counts));
        if !self.fundings.is_empty() {
            encode_fundings(&mut out, &self.fundings);
        }
        out
    }

    /// Strict decoding of [`Self::to_bytes`]: trustees in [1, 1000] strictly increasing.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(Self::NAME, bytes);
        let funded = r.either_version(TALLY_VERSION, TALLY_VERSION_FUNDED)? == TALLY_VERSION_FUNDED;
        let context = ContextHash(r.bytes32(&|| "context".into())?);
        let ballots = r.u64(&|| "ballots".into())?;
        let superseded = r.u64(&|| "superseded".into())?;
        let weight = r.u64(&|| "weight".into())?;
        let n = r.count(&|| "trustees".into(), usize::from(MAX_TRUSTEES))?;
        let mut trustees: Vec<u16> = Vec::with_capacity(n);
        for i in 0..n {
            let trustee = r.u16(&|| format!("trustees[{i}]"))?;
            if trustee == 0 || trustee > MAX_TRUSTEES {
                return Err(r.error(format!("trustees[{i}]"), "a trustee index is in [1, 1000]"));
            }
            if trustees.last().is_some_and(|&last| last >= trustee) {
                return Err(r.error(format!("trustees[{i}]"), "trustees are strictly increasing"));
            }
            trustees.push(trustee);
        }
        let (contests, counts) = read_contests(&mut r, true)?;
        // Version 2 has at least one funding (the count is in [1, 64]), so a result has
        // one encoding.
        let fundings = if funded {
            read_fundings(&mut r)?
        } else {
            Vec::new()
        };
        r.finish()?;
        Ok(Self {
            tally: EncryptedTally {
                context,
                ballots,
                weight,
                contests,
            },
            superseded,
            trustees,
            counts,
            fundings,
        })
    }
}

/// Rechecks a result from the public board, in the order of spec/24 §24.6: the election
/// and shape; the revote resolution and every weighted sum, recomputed from the accepted
/// `ballots` (in log order) and the credential list; the named trustees' decryption
/// shares; their combination against each count, within its bound.
pub fn verify_result(
    election: &Election,
    outcome: &CeremonyOutcome,
    credentials: &CredentialList,
    ballots: &[Ballot],
    shares: &[DecryptionShares],
    result: &TallyResult,
) -> Result<(), TallyError> {
    let manifest = election.manifest();
    // 1. The election and the shape.
    if result.tally.context != *election.context() {
        return Err(TallyError::TallyOfAnotherElection);
    }
    if outcome.joint_key != *election.public_key() {
        return Err(TallyError::CeremonyOfAnotherKey);
    }
    check_shape(manifest, &result.tally.contests)?;
    let counts_as_sums: Vec<Vec<Ciphertext>> = result
        .counts
        .iter()
        .map(|c| vec![Ciphertext::zero(); c.len()])
        .collect();
    check_shape(manifest, &counts_as_sums)?;

    // 2. Revote resolution and aggregation.
    let expected = aggregate(election, credentials, ballots)?;
    let compare = |expected: u64, found: u64, error: fn(u64, u64) -> TallyError| {
        if expected == found {
            Ok(())
        } else {
            Err(error(expected, found))
        }
    };
    compare(
        expected.tally.ballots,
        result.tally.ballots,
        |expected, found| TallyError::CountedBallots { expected, found },
    )?;
    compare(
        expected.resolution.superseded.len() as u64,
        result.superseded,
        |expected, found| TallyError::SupersededBallots { expected, found },
    )?;
    compare(
        expected.tally.weight,
        result.tally.weight,
        |expected, found| TallyError::CountedWeight { expected, found },
    )?;
    let positions = result.tally.positions(manifest);
    let ciphertexts = result.tally.ciphertexts();
    for ((mine, theirs), &at) in expected
        .tally
        .ciphertexts()
        .iter()
        .zip(&ciphertexts)
        .zip(&positions)
    {
        if mine != theirs {
            return Err(TallyError::EncryptedSum { at });
        }
    }

    // 4-5. The named trustees' shares, their combination against each count.
    check_opening(
        election,
        outcome,
        &result.tally,
        shares,
        &result.trustees,
        &result.counts,
    )?;
    // 6. The funded projects of each budget contest.
    check_fundings(manifest, &result.counts, &result.fundings)
}

/// Steps 4 and 5 of spec/24 §24.6, for sums already known to be the board's: the result
/// names exactly t trustees, each with a posted share set that verifies against the sums;
/// their combination opens each sum to its count, each count within its bound. Shared by
/// [`verify_result`] and the board's fold (urne-election), so the check lives in one place.
pub fn check_opening(
    election: &Election,
    outcome: &CeremonyOutcome,
    tally: &EncryptedTally,
    shares: &[DecryptionShares],
    trustees: &[u16],
    counts: &[Vec<u64>],
) -> Result<(), TallyError> {
    let manifest = election.manifest();
    check_shape(manifest, &tally.contests)?;
    let counts_as_sums: Vec<Vec<Ciphertext>> = counts
        .iter()
        .map(|c| vec![Ciphertext::zero(); c.len()])
        .collect();
    check_shape(manifest, &counts_as_sums)?;
    let positions = tally.positions(manifest);
    let ciphertexts = tally.ciphertexts();
    if trustees.len() != usize::from(outcome.threshold) {
        return Err(TallyError::WrongTrusteeCount {
            found: trustees.len(),
            threshold: outcome.threshold,
        });
    }
    let mut verified = Vec::with_capacity(trustees.len());
    for &trustee in trustees {
        let set = shares
            .iter()
            .find(|s| s.trustee == trustee)
            .ok_or(TallyError::MissingShares { trustee })?;
        verified.push(verify_shares(
            outcome,
            election.context(),
            &ciphertexts,
            &positions,
            set,
        )?);
    }
    let points = combine(outcome.threshold, &ciphertexts, &verified).map_err(TallyError::Shares)?;
    let bounds = bounds(manifest, tally.weight);
    for (((point, &count), &bound), &at) in points
        .iter()
        .zip(counts.iter().flatten())
        .zip(bounds.iter().flatten())
        .zip(&positions)
    {
        if count > bound {
            return Err(TallyError::CountAboveBound { at, count, bound });
        }
        let opened = Point::from_ristretto(RISTRETTO_BASEPOINT_TABLE * &DalekScalar::from(count));
        if opened != *point {
            return Err(TallyError::Count { at, count });
        }
    }
    Ok(())
}
