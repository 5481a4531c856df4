//! Revote resolution and the weighted homomorphic sums (spec/24-tally.md §24.1–§24.3).

use std::collections::{BTreeMap, HashMap};

use urne_ballot::{Ballot, Election, MAX_CONTESTS, MAX_OPTIONS, Manifest};
use urne_credential::CredentialList;
use urne_crypto::{Ciphertext, CiphertextSum, ContextHash, Scalar};

use crate::TALLY_VERSION;
use crate::codec::{DecodeError, Reader};
use crate::error::{Entry, Position, TallyError};

/// A ballot that does not count because the same credential cast a later one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Superseded {
    /// Its index in the accepted ballots, in log order.
    pub ballot: usize,
    /// The index of the next ballot of the same credential.
    pub by: usize,
}

/// Which accepted ballots count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolution {
    /// The indices of the ballots that count (the last of each credential), increasing.
    pub counted: Vec<usize>,
    /// The others, increasing by index.
    pub superseded: Vec<Superseded>,
}

/// The last ballot of each credential counts; each earlier one is superseded by the
/// credential's next ballot. `ballots` are the accepted ballots in log order.
pub fn resolve_revotes(ballots: &[Ballot]) -> Resolution {
    let mut last: HashMap<[u8; 32], usize> = HashMap::with_capacity(ballots.len());
    let mut superseded = Vec::new();
    for (index, ballot) in ballots.iter().enumerate() {
        if let Some(previous) = last.insert(ballot.credential.0, index) {
            superseded.push(Superseded {
                ballot: previous,
                by: index,
            });
        }
    }
    let mut counted: Vec<usize> = last.into_values().collect();
    counted.sort_unstable();
    superseded.sort_unstable_by_key(|s| s.ballot);
    Resolution {
        counted,
        superseded,
    }
}

/// The encrypted sums of an election: per contest, one ciphertext per option (manifest
/// order) and one more for the blank vote if the contest offers it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncryptedTally {
    /// The election.
    pub context: ContextHash,
    /// How many ballots were summed.
    pub ballots: u64,
    /// The sum of their credentials' weights.
    pub weight: u64,
    /// Per contest, per entry: Σ weight · ciphertext over the counted ballots.
    pub contests: Vec<Vec<Ciphertext>>,
}

/// The entries of each contest: its options, and the blank vote if it has one.
pub(crate) fn entries_per_contest(manifest: &Manifest) -> Vec<usize> {
    manifest
        .contests()
        .iter()
        .map(|c| c.options.len() + usize::from(c.blank))
        .collect()
}

/// The entry at index `k` of a contest with `options` options.
pub(crate) fn entry_at(options: usize, k: usize) -> Entry {
    if k < options {
        Entry::Option(k)
    } else {
        Entry::Blank
    }
}

/// The largest value one ballot puts on each entry: the per-option maximum, 1 for blank.
pub(crate) fn entry_maxima(manifest: &Manifest) -> Vec<Vec<u64>> {
    manifest
        .contests()
        .iter()
        .map(|c| {
            let per_option = c.rules().per_option_max;
            let mut maxima = vec![per_option; c.options.len()];
            if c.blank {
                maxima.push(1);
            }
            maxima
        })
        .collect()
}

/// Refuses sums whose contests or entries disagree with the manifest.
pub(crate) fn check_shape(
    manifest: &Manifest,
    contests: &[Vec<Ciphertext>],
) -> Result<(), TallyError> {
    let expected = entries_per_contest(manifest);
    if contests.len() != expected.len() {
        return Err(TallyError::TallyShape {
            field: "contests".into(),
            expected: expected.len(),
            found: contests.len(),
        });
    }
    for (i, (sums, &n)) in contests.iter().zip(&expected).enumerate() {
        if sums.len() != n {
            return Err(TallyError::TallyShape {
                field: format!("contests[{i}].entries"),
                expected: n,
                found: sums.len(),
            });
        }
    }
    Ok(())
}

impl EncryptedTally {
    const NAME: &'static str = "tally.encrypted";

    /// Every sum in order (contest by contest, entries in order): the list the trustees'
    /// decryption shares are made for.
    pub fn ciphertexts(&self) -> Vec<Ciphertext> {
        self.contests.iter().flatten().copied().collect()
    }

    /// The position of each ciphertext of [`Self::ciphertexts`].
    pub(crate) fn positions(&self, manifest: &Manifest) -> Vec<Position> {
        let mut out = Vec::new();
        for (contest, (sums, c)) in self.contests.iter().zip(manifest.contests()).enumerate() {
            for k in 0..sums.len() {
                out.push(Position {
                    contest,
                    entry: entry_at(c.options.len(), k),
                });
            }
        }
        out
    }

    pub(crate) fn encode_into(&self, out: &mut Vec<u8>, counts: Option<&[Vec<u64>]>) {
        out.extend_from_slice(
            &(self.contests.len().min(usize::from(u16::MAX)) as u16).to_be_bytes(),
        );
        for (i, sums) in self.contests.iter().enumerate() {
            out.extend_from_slice(&(sums.len().min(usize::from(u16::MAX)) as u16).to_be_bytes());
            for (k, sum) in sums.iter().enumerate() {
                out.extend_from_slice(&sum.to_bytes());
                if let Some(counts) = counts {
                    let count = counts.get(i).and_then(|c| c.get(k)).copied().unwrap_or(0);
                    out.extend_from_slice(&count.to_be_bytes());
                }
            }
        }
    }

    /// version ‖ context ‖ ballots (u64) ‖ weight (u64) ‖ contests (u16) ‖ per contest:
    /// entries (u16) ‖ that many ciphertexts (α ‖ β). Integers big-endian.
    pub fn to_bytes(&self) -> Vec<u8> {
        let entries: usize = self.contests.iter().map(Vec::len).sum();
        let mut out = Vec::with_capacity(51 + 2 * self.contests.len() + 64 * entries);
        out.push(TALLY_VERSION);
        out.extend_from_slice(&self.context.0);
        out.extend_from_slice(&self.ballots.to_be_bytes());
        out.extend_from_slice(&self.weight.to_be_bytes());
        self.encode_into(&mut out, None);
        out
    }

    /// Strict decoding of [`Self::to_bytes`].
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(Self::NAME, bytes);
        r.version(TALLY_VERSION)?;
        let context = ContextHash(r.bytes32(&|| "context".into())?);
        let ballots = r.u64(&|| "ballots".into())?;
        let weight = r.u64(&|| "weight".into())?;
        let (contests, _) = read_contests(&mut r, false)?;
        r.finish()?;
        Ok(Self {
            context,
            ballots,
            weight,
            contests,
        })
    }
}

/// Per contest, per entry: the sums, and the counts (empty when the encoding has none).
pub(crate) type ContestsAndCounts = (Vec<Vec<Ciphertext>>, Vec<Vec<u64>>);

/// Reads the contests of a tally encoding; with `counts`, each ciphertext is followed by
/// a u64 count.
pub(crate) fn read_contests(
    r: &mut Reader<'_>,
    counts: bool,
) -> Result<ContestsAndCounts, DecodeError> {
    let n = r.count(&|| "contests".into(), MAX_CONTESTS)?;
    let mut contests = Vec::with_capacity(n);
    let mut all_counts = Vec::with_capacity(if counts { n } else { 0 });
    for i in 0..n {
        let m = r.count(&|| format!("contests[{i}].entries"), MAX_OPTIONS + 1)?;
        let mut sums = Vec::with_capacity(m);
        let mut contest_counts = Vec::with_capacity(if counts { m } else { 0 });
        for k in 0..m {
            sums.push(r.ciphertext(&|| format!("contests[{i}].entries[{k}].sum"))?);
            if counts {
                contest_counts.push(r.u64(&|| format!("contests[{i}].entries[{k}].count"))?);
            }
        }
        contests.push(sums);
        if counts {
            all_counts.push(contest_counts);
        }
    }
    Ok((contests, all_counts))
}

/// The encrypted sums and the resolution they were made from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Aggregation {
    /// Which ballots count.
    pub resolution: Resolution,
    /// Their weighted sums.
    pub tally: EncryptedTally,
}

/// Checks each accepted ballot against the election and the list, resolves revotes, and
/// sums the counted ballots per contest and entry, each scaled by its credential's weight.
///
/// Ballots are summed per distinct weight first and each partial sum scaled once, so the
/// cost is one point addition per ciphertext, not a scalar multiplication.
pub fn aggregate(
    election: &Election,
    credentials: &CredentialList,
    ballots: &[Ballot],
) -> Result<Aggregation, TallyError> {
    let manifest = election.manifest();
    let weights: HashMap<[u8; 32], u32> = credentials
        .entries()
        .iter()
        .map(|e| (e.credential.to_bytes(), e.weight))
        .collect();
    for (index, ballot) in ballots.iter().enumerate() {
        check_ballot(manifest, election.context(), &weights, index, ballot)?;
    }
    refuse_replays(ballots)?;
    let resolution = resolve_revotes(ballots);
    let shape = entries_per_contest(manifest);
    let empty = || -> Vec<Vec<CiphertextSum>> {
        shape
            .iter()
            .map(|&n| vec![CiphertextSum::default(); n])
            .collect()
    };
    let mut by_weight: BTreeMap<u32, Vec<Vec<CiphertextSum>>> = BTreeMap::new();
    let mut total_weight = 0u64;
    for &index in &resolution.counted {
        let ballot = &ballots[index];
        // Checked above: every ballot's credential is listed.
        let weight = weights.get(&ballot.credential.0).copied().unwrap_or(0);
        total_weight += u64::from(weight);
        let sums = by_weight.entry(weight).or_insert_with(empty);
        for (contest, sums) in ballot.contests.iter().zip(sums.iter_mut()) {
            let ciphertexts = contest
                .options
                .iter()
                .chain(contest.blank.as_ref())
                .map(|o| &o.ciphertext);
            for (sum, ciphertext) in sums.iter_mut().zip(ciphertexts) {
                sum.add(ciphertext);
            }
        }
    }
    let mut contests: Vec<Vec<Ciphertext>> =
        shape.iter().map(|&n| vec![Ciphertext::zero(); n]).collect();
    for (weight, sums) in by_weight {
        let scale = Scalar::from_u64(u64::from(weight));
        for (total, sums) in contests.iter_mut().zip(sums) {
            for (total, sum) in total.iter_mut().zip(sums) {
                let partial = sum.finish();
                let scaled = if weight == 1 {
                    partial
                } else {
                    partial.scale(&scale)
                };
                *total = &*total + &scaled;
            }
        }
    }
    Ok(Aggregation {
        tally: EncryptedTally {
            context: *election.context(),
            ballots: resolution.counted.len() as u64,
            weight: total_weight,
            contests,
        },
        resolution,
    })
}

/// Refuses a ballot equal to an earlier one (spec/24 §24.3). Two honest ballots never
/// share a ciphertext, so ballots are grouped by their first ciphertext and only those
/// that share it are compared whole: one hash-map entry per ballot, not a hash of every
/// ballot's bytes.
fn refuse_replays(ballots: &[Ballot]) -> Result<(), TallyError> {
    let mut seen: HashMap<[u8; 64], Vec<usize>> = HashMap::with_capacity(ballots.len());
    for (index, ballot) in ballots.iter().enumerate() {
        // Shape was checked: every ballot has a contest with an option.
        let Some(first) = ballot.contests.first().and_then(|c| c.options.first()) else {
            continue;
        };
        let earlier = seen.entry(first.ciphertext.to_bytes()).or_default();
        if let Some(&first) = earlier.iter().find(|&&e| ballots[e] == *ballot) {
            return Err(TallyError::ReplayedBallot {
                ballot: index,
                first,
            });
        }
        earlier.push(index);
    }
    Ok(())
}

fn check_ballot(
    manifest: &Manifest,
    context: &ContextHash,
    weights: &HashMap<[u8; 32], u32>,
    index: usize,
    ballot: &Ballot,
) -> Result<(), TallyError> {
    if ballot.context != *context {
        return Err(TallyError::BallotOfAnotherElection { ballot: index });
    }
    if !weights.contains_key(&ballot.credential.0) {
        return Err(TallyError::UnlistedCredential { ballot: index });
    }
    let shape = |field: String, expected: usize, found: usize| TallyError::BallotShape {
        ballot: index,
        field,
        expected,
        found,
    };
    let contests = manifest.contests();
    if ballot.contests.len() != contests.len() {
        return Err(shape(
            "contests".into(),
            contests.len(),
            ballot.contests.len(),
        ));
    }
    for (i, (b, c)) in ballot.contests.iter().zip(contests).enumerate() {
        if b.options.len() != c.options.len() {
            return Err(shape(
                format!("contests[{i}].options"),
                c.options.len(),
                b.options.len(),
            ));
        }
        if b.blank.is_some() != c.blank {
            return Err(shape(
                format!("contests[{i}].blank"),
                usize::from(c.blank),
                usize::from(b.blank.is_some()),
            ));
        }
    }
    Ok(())
}
