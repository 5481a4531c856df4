//! The demo's electorate: a realistic manifest, what each simulated voter does (choices,
//! a Benaloh audit first, a revote), the plaintext count kept beside the board to compare
//! the published result with, and ballot encryption in parallel across cores.

use rand::{Rng, RngExt};
use rayon::prelude::*;
use urne_ballot::{
    AuditedBallot, Ballot, Contest, ContestKind, ContestSelection, CredentialKey, Election,
    Manifest, TrackingCode,
};
use urne_credential::{BallotSignature, Credential};

use super::DemoError;

/// The manifest of the demo: one single-choice contest with a blank vote and one approval
/// contest with a minimum and a maximum, as a municipal consultation would have.
pub fn manifest() -> Result<Manifest, DemoError> {
    let contests = vec![
        Contest {
            title: "Mayor of Urneville".to_owned(),
            kind: ContestKind::SingleChoice,
            blank: true,
            options: [
                "Ada Lovelace",
                "Alan Turing",
                "Grace Hopper",
                "Edsger Dijkstra",
            ]
            .map(str::to_owned)
            .to_vec(),
        },
        Contest {
            title: "Participatory budget: approve 1 to 3 projects".to_owned(),
            kind: ContestKind::Approval { min: 1, max: 3 },
            blank: false,
            options: [
                "Cycle lanes on the ring road",
                "A new public library",
                "Trees in every school yard",
                "Free swimming lessons",
                "Night buses",
                "Repair the old bridge",
            ]
            .map(str::to_owned)
            .to_vec(),
        },
    ];
    Manifest::new("Urneville 2026 municipal vote", contests)
        .map_err(|e| DemoError::Setup(format!("the demo manifest is refused: {e}")))
}

/// One voter's choice in one contest: the indices of the options chosen, or blank.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Choice {
    /// The explicit blank vote.
    Blank,
    /// These options, increasing.
    Options(Vec<usize>),
}

impl Choice {
    fn selection(&self, options: usize) -> Option<ContestSelection> {
        match self {
            Choice::Blank => Some(ContestSelection::blank(options)),
            Choice::Options(chosen) => ContestSelection::approve(options, chosen),
        }
    }
}

/// What one simulated voter does, in order: audit a ballot first (Benaloh), cast, and
/// maybe cast again; the last cast counts.
#[derive(Clone, Debug)]
pub struct VoterPlan {
    /// The voter's position in the register.
    pub voter: usize,
    /// A ballot made, then audited instead of cast (its choices, one per contest).
    pub audit: Option<Vec<Choice>>,
    /// The first ballot cast.
    pub first: Vec<Choice>,
    /// A later ballot that replaces the first.
    pub revote: Option<Vec<Choice>>,
}

impl VoterPlan {
    /// The choices that count.
    pub fn counted(&self) -> &[Choice] {
        self.revote.as_deref().unwrap_or(&self.first)
    }
}

/// Per mille of voters who revote and who audit first.
const REVOTE_PER_MILLE: u32 = 50;
const AUDIT_PER_MILLE: u32 = 20;

/// Popularity of the mayoral candidates and of the blank vote (last), so the result is not
/// a flat tie.
const MAYOR_WEIGHTS: [u32; 5] = [38, 31, 19, 7, 5];
const PROJECT_WEIGHTS: [u32; 6] = [30, 45, 25, 15, 20, 35];

fn weighted_index<R: Rng + ?Sized>(weights: &[u32], rng: &mut R) -> usize {
    let total: u32 = weights.iter().sum();
    let mut draw = rng.random_range(0..total.max(1));
    for (i, w) in weights.iter().enumerate() {
        if draw < *w {
            return i;
        }
        draw -= w;
    }
    weights.len().saturating_sub(1)
}

/// How popular project `i` of a budget contest is: a fixed spread, so the totals differ
/// and the two selection rules of spec/26 fund different projects.
fn project_popularity(i: usize) -> u32 {
    5 + (i as u32).wrapping_mul(7919) % 41
}

/// Tries before a simulated voter who cannot find projects that fit gives up (and votes
/// blank, where the contest offers it).
const BUDGET_TRIES: usize = 1000;

/// Projects by popularity, between the contest's fewest and most, until their cost is
/// within [min_spend, budget].
fn draw_projects<R: Rng + ?Sized>(
    contest: &Contest,
    index: usize,
    rng: &mut R,
) -> Result<Choice, DemoError> {
    let rules = contest.rules();
    let Some(spending) = contest.spending() else {
        return Err(DemoError::Setup(format!("contest {index} is not a budget")));
    };
    let weights: Vec<u32> = (0..contest.options.len()).map(project_popularity).collect();
    let most = usize::try_from(rules.max)
        .unwrap_or(usize::MAX)
        .min(contest.options.len());
    let fewest = usize::try_from(rules.min).unwrap_or(usize::MAX).min(most);
    for _ in 0..BUDGET_TRIES {
        let how_many = rng.random_range(fewest..=most);
        let mut chosen: Vec<usize> = Vec::with_capacity(how_many);
        while chosen.len() < how_many {
            let pick = weighted_index(&weights, rng);
            if !chosen.contains(&pick) {
                chosen.push(pick);
            }
        }
        chosen.sort_unstable();
        let mut values = vec![0u64; contest.options.len()];
        for &i in &chosen {
            values[i] = 1;
        }
        let spend = spending.spend(&values);
        if spend >= u128::from(spending.min) && spend <= u128::from(spending.max) {
            return Ok(Choice::Options(chosen));
        }
    }
    if contest.blank {
        Ok(Choice::Blank)
    } else {
        Err(DemoError::Setup(format!(
            "contest {index}: no choice of projects within the budget found in {BUDGET_TRIES} tries"
        )))
    }
}

fn draw_choices<R: Rng + ?Sized>(
    manifest: &Manifest,
    rng: &mut R,
) -> Result<Vec<Choice>, DemoError> {
    manifest
        .contests()
        .iter()
        .enumerate()
        .map(|(index, contest)| {
            Ok(match contest.kind {
                ContestKind::Budget { .. } => draw_projects(contest, index, rng)?,
                ContestKind::Approval { min, max } => {
                    let how_many = rng.random_range(usize::from(min)..=usize::from(max));
                    let mut chosen: Vec<usize> = Vec::with_capacity(how_many);
                    while chosen.len() < how_many.min(contest.options.len()) {
                        let pick = weighted_index(&PROJECT_WEIGHTS[..contest.options.len()], rng);
                        if !chosen.contains(&pick) {
                            chosen.push(pick);
                        }
                    }
                    chosen.sort_unstable();
                    Choice::Options(chosen)
                }
                _ => {
                    let weights = &MAYOR_WEIGHTS[..=contest.options.len().min(4)];
                    let pick = weighted_index(weights, rng);
                    if contest.blank && pick == contest.options.len() {
                        Choice::Blank
                    } else {
                        Choice::Options(vec![pick.min(contest.options.len() - 1)])
                    }
                }
            })
        })
        .collect()
}

/// What `voters` voters do: about 5% revote and 2% audit a ballot before casting.
pub fn plan<R: Rng + ?Sized>(
    manifest: &Manifest,
    voters: usize,
    rng: &mut R,
) -> Result<Vec<VoterPlan>, DemoError> {
    (0..voters)
        .map(|voter| {
            let audit = if rng.random_range(0..1000) < AUDIT_PER_MILLE {
                Some(draw_choices(manifest, rng)?)
            } else {
                None
            };
            let first = draw_choices(manifest, rng)?;
            let revote = if rng.random_range(0..1000) < REVOTE_PER_MILLE {
                Some(draw_choices(manifest, rng)?)
            } else {
                None
            };
            Ok(VoterPlan {
                voter,
                audit,
                first,
                revote,
            })
        })
        .collect()
}

/// The count the demo keeps in the clear, per contest and entry (each option in manifest
/// order, then the blank vote if the contest has one): the layout of urne-tally's counts.
pub fn plaintext_count(manifest: &Manifest, plans: &[VoterPlan]) -> Vec<Vec<u64>> {
    let mut counts: Vec<Vec<u64>> = manifest
        .contests()
        .iter()
        .map(|c| vec![0; c.options.len() + usize::from(c.blank)])
        .collect();
    for plan in plans {
        for ((choice, counts), contest) in plan
            .counted()
            .iter()
            .zip(counts.iter_mut())
            .zip(manifest.contests())
        {
            match choice {
                Choice::Blank => {
                    if let Some(blank) = counts.get_mut(contest.options.len()) {
                        *blank += 1;
                    }
                }
                Choice::Options(chosen) => {
                    for &i in chosen {
                        if let Some(count) = counts.get_mut(i) {
                            *count += 1;
                        }
                    }
                }
            }
        }
    }
    counts
}

/// Which of a voter's ballots this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BallotRole {
    /// Made, then opened for a Benaloh audit: posted as spoiled, never counted.
    Audited,
    /// The first ballot cast.
    First,
    /// A ballot cast again, replacing the first.
    Revote,
}

/// One encrypted, signed ballot ready for the board.
pub struct SignedBallot {
    /// Whose.
    pub voter: usize,
    /// Which of the voter's ballots.
    pub role: BallotRole,
    /// The ballot.
    pub ballot: Ballot,
    /// Its credential's signature over the ballot and the election.
    pub signature: BallotSignature,
    /// The opening, for an audited ballot only.
    pub audit: Option<AuditedBallot>,
}

/// The digest a credential signs: the ballot's tracking code, SHA-256 of its canonical
/// bytes (spec/21 §21.7), so the signature covers every byte of the ballot.
pub fn ballot_digest(ballot: &Ballot) -> [u8; 32] {
    TrackingCode::of(ballot).0
}

/// Each contest's selection of `choices`, or None if a choice names no option.
pub(crate) fn selections(election: &Election, choices: &[Choice]) -> Option<Vec<ContestSelection>> {
    choices
        .iter()
        .zip(election.manifest().contests())
        .map(|(choice, contest)| choice.selection(contest.options.len()))
        .collect()
}

pub(crate) fn encrypt_one(
    election: &Election,
    credential: &Credential,
    voter: usize,
    role: BallotRole,
    choices: &[Choice],
) -> Result<SignedBallot, DemoError> {
    let mut rng = rand::rng();
    let contests = election.manifest().contests();
    let selections = choices
        .iter()
        .zip(contests)
        .map(|(choice, contest)| choice.selection(contest.options.len()))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| DemoError::Setup(format!("voter {voter}: a choice names no option")))?;
    let key = CredentialKey(credential.public().to_bytes());
    let (ballot, secrets) = Ballot::encrypt(election, &key, &selections, &mut rng)
        .map_err(|e| DemoError::Setup(format!("voter {voter}: encryption refused: {e}")))?;
    // The demo knows each ballot's role in advance and signs only for it; a voter's
    // device signs for both decisions before it learns which (spec/23 §23.7).
    let decision = match role {
        BallotRole::Audited => urne_credential::Decision::Audit,
        _ => urne_credential::Decision::Cast,
    };
    let signature = BallotSignature::sign(
        credential,
        election.context(),
        decision,
        &ballot_digest(&ballot),
        &mut rng,
    )
    .map_err(|e| DemoError::Setup(format!("voter {voter}: signing refused: {e}")))?;
    let audit = (role == BallotRole::Audited).then(|| secrets.audit(&ballot));
    Ok(SignedBallot {
        voter,
        role,
        ballot,
        signature,
        audit,
    })
}

/// Encrypts and signs every ballot of the plans (audited ones, first casts, revotes) in
/// parallel across cores; `tick` is called once per ballot made. Returns them grouped in
/// the order they must reach the board: audits, then first casts, then revotes.
pub fn encrypt_all(
    election: &Election,
    credentials: &[Credential],
    plans: &[VoterPlan],
    tick: &(dyn Fn() + Sync),
) -> Result<[Vec<SignedBallot>; 3], DemoError> {
    let jobs: Vec<(usize, BallotRole, &[Choice])> = plans
        .iter()
        .flat_map(|p| {
            let audit = p
                .audit
                .as_deref()
                .map(|c| (p.voter, BallotRole::Audited, c));
            let revote = p
                .revote
                .as_deref()
                .map(|c| (p.voter, BallotRole::Revote, c));
            audit
                .into_iter()
                .chain(std::iter::once((p.voter, BallotRole::First, &p.first[..])))
                .chain(revote)
        })
        .collect();
    let made = jobs
        .into_par_iter()
        .map(|(voter, role, choices)| {
            let credential = credentials
                .get(voter)
                .ok_or_else(|| DemoError::Setup(format!("voter {voter} has no credential")))?;
            let ballot = encrypt_one(election, credential, voter, role, choices);
            tick();
            ballot
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut waves: [Vec<SignedBallot>; 3] = [Vec::new(), Vec::new(), Vec::new()];
    for ballot in made {
        let wave = match ballot.role {
            BallotRole::Audited => 0,
            BallotRole::First => 1,
            BallotRole::Revote => 2,
        };
        waves[wave].push(ballot);
    }
    Ok(waves)
}
