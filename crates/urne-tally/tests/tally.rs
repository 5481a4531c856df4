//! Whole tallies through a real 2-of-3 ceremony, real credentials and real ballots; then
//! every check of `verify_result` against a tampered input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use urne_ballot::{
    Ballot, Contest, ContestKind, ContestSelection, ContextInputs, CredentialKey, Election,
    Manifest,
};
use urne_credential::{Credential, CredentialList, ListedCredential};
use urne_crypto::{Ciphertext, EncryptionKey};
mod support;

use support::{Fixture, ceremony};
use urne_tally::{
    DecodeError, EncryptedTally, Entry, Position, Superseded, TallyError, TallyResult, aggregate,
    check_opening, decrypt_sums, decrypt_tally, resolve_revotes, verify_result,
};

fn manifest() -> Manifest {
    Manifest::new(
        "Municipal consultation",
        vec![
            Contest {
                title: "Mayor".into(),
                kind: ContestKind::SingleChoice,
                blank: true,
                options: vec!["Ada".into(), "Grace".into(), "Edsger".into()],
            },
            Contest {
                title: "Priorities".into(),
                kind: ContestKind::Cumulative {
                    per_option_max: 3,
                    min_total: 2,
                    max_total: 5,
                },
                blank: false,
                options: vec!["Parks".into(), "Roads".into()],
            },
        ],
    )
    .unwrap()
}

const WEIGHTS: [u32; 5] = [1, 2, 1, 3, 1];

/// A vote: which voter, the Mayor choice (None = blank), the Priorities points.
type Vote = (usize, Option<usize>, [u64; 2]);

/// In log order: voters 0 and 3 vote again, voter 4 abstains.
const VOTES: [Vote; 6] = [
    (0, Some(0), [1, 1]),
    (1, Some(1), [3, 2]),
    (3, None, [2, 0]),
    (2, Some(1), [0, 3]),
    (0, Some(2), [2, 2]),
    (3, Some(0), [1, 3]),
];

fn selections(vote: &Vote) -> Vec<ContestSelection> {
    let mayor = match vote.1 {
        Some(choice) => ContestSelection::single(3, choice).unwrap(),
        None => ContestSelection::blank(3),
    };
    vec![mayor, ContestSelection::values(vote.2.to_vec())]
}

fn fixture(votes: &[Vote]) -> Fixture {
    let (outcome, keys) = ceremony(2, 3);
    let mut rng = rand::rng();
    let voters: Vec<CredentialKey> = WEIGHTS
        .iter()
        .map(|_| CredentialKey(Credential::generate(&mut rng).public().to_bytes()))
        .collect();
    let credentials = CredentialList::new(
        voters
            .iter()
            .zip(WEIGHTS)
            .map(|(key, weight)| ListedCredential {
                credential: urne_credential::PublicCredential::decode(&key.0).unwrap(),
                weight,
            })
            .collect(),
    )
    .unwrap();
    let manifest = manifest();
    let election = Election::new(ContextInputs {
        manifest: &manifest,
        joint_key: &outcome.joint_key,
        credential_root: &credentials.root().0,
        board_origin: "board.example/urne",
        context_id: &[5; 32],
    })
    .unwrap();
    let ballots = votes
        .iter()
        .map(|vote| {
            Ballot::encrypt(&election, &voters[vote.0], &selections(vote), &mut rng)
                .unwrap()
                .0
        })
        .collect();
    Fixture {
        outcome,
        keys,
        election,
        credentials,
        ballots,
    }
}

/// The plaintext count: last vote per voter, times the voter's weight.
fn plaintext_count(votes: &[Vote]) -> Vec<Vec<u64>> {
    let mut counts = vec![vec![0u64; 4], vec![0u64; 2]];
    for (i, vote) in votes.iter().enumerate() {
        if votes[i + 1..].iter().any(|later| later.0 == vote.0) {
            continue;
        }
        let w = u64::from(WEIGHTS[vote.0]);
        match vote.1 {
            Some(choice) => counts[0][choice] += w,
            None => counts[0][3] += w,
        }
        counts[1][0] += w * vote.2[0];
        counts[1][1] += w * vote.2[1];
    }
    counts
}

#[test]
fn revotes_weights_and_an_absent_trustee_give_the_plaintext_count() {
    let f = fixture(&VOTES);
    let (result, shares) = f.tally(&f.ballots);
    assert_eq!(result.counts, plaintext_count(&VOTES));
    assert_eq!(result.counts, vec![vec![3, 3, 1, 0], vec![11, 18]]);
    assert_eq!(result.tally.ballots, 4);
    assert_eq!(result.superseded, 2);
    assert_eq!(result.tally.weight, 7);
    assert_eq!(result.trustees, vec![1, 3]);
    f.verify(&shares, &result).unwrap();

    let decoded = TallyResult::decode(&result.to_bytes()).unwrap();
    assert_eq!(decoded, result);
    f.verify(&shares, &decoded).unwrap();
    let tally = EncryptedTally::decode(&result.tally.to_bytes()).unwrap();
    assert_eq!(tally, result.tally);
}

#[test]
fn the_last_ballot_of_each_credential_counts() {
    let f = fixture(&VOTES);
    let resolution = resolve_revotes(&f.ballots);
    assert_eq!(resolution.counted, vec![1, 3, 4, 5]);
    assert_eq!(
        resolution.superseded,
        vec![
            Superseded { ballot: 0, by: 4 },
            Superseded { ballot: 2, by: 5 }
        ]
    );
}

#[test]
fn an_election_without_ballots_tallies_to_zero() {
    let f = fixture(&[]);
    let (result, shares) = f.tally(&f.ballots);
    assert_eq!(result.counts, vec![vec![0; 4], vec![0; 2]]);
    assert!(
        result
            .tally
            .ciphertexts()
            .iter()
            .all(|c| *c == Ciphertext::zero())
    );
    assert_eq!(result.tally.weight, 0);
    f.verify(&shares, &result).unwrap();
}

#[test]
fn an_altered_count_is_caught() {
    let f = fixture(&VOTES);
    let (mut result, shares) = f.tally(&f.ballots);
    result.counts[0][1] += 1;
    assert_eq!(
        f.verify(&shares, &result),
        Err(TallyError::Count {
            at: Position {
                contest: 0,
                entry: Entry::Option(1)
            },
            count: 4
        })
    );
    // The blank entry is bounded by the counted weight.
    let (mut result, shares) = f.tally(&f.ballots);
    result.counts[0][3] = 8;
    assert_eq!(
        f.verify(&shares, &result),
        Err(TallyError::CountAboveBound {
            at: Position {
                contest: 0,
                entry: Entry::Blank
            },
            count: 8,
            bound: 7
        })
    );
}

#[test]
fn an_altered_encrypted_sum_is_caught() {
    let f = fixture(&VOTES);
    let (mut result, shares) = f.tally(&f.ballots);
    let key = EncryptionKey::new(f.outcome.joint_key);
    let zero = key.encrypt(0, &mut rand::rng()).0;
    result.tally.contests[1][0] = &result.tally.contests[1][0] + &zero;
    assert_eq!(
        f.verify(&shares, &result),
        Err(TallyError::EncryptedSum {
            at: Position {
                contest: 1,
                entry: Entry::Option(0)
            }
        })
    );
}

#[test]
fn a_swapped_share_is_caught_naming_trustee_and_entry() {
    let f = fixture(&VOTES);
    let (result, shares) = f.tally(&f.ballots);
    // Two entries' shares of trustee 3 swapped.
    let mut swapped = shares.clone();
    swapped[1].shares.swap(0, 4);
    assert_eq!(
        f.verify(&swapped, &result),
        Err(TallyError::InvalidShare {
            trustee: 3,
            at: Position {
                contest: 0,
                entry: Entry::Option(0)
            }
        })
    );
    // Trustee 2's shares posted as trustee 3's.
    let mut swapped = shares.clone();
    let mut of_two = f.shares(&[2], &result.tally).remove(0);
    of_two.trustee = 3;
    swapped[1] = of_two;
    assert!(matches!(
        f.verify(&swapped, &result),
        Err(TallyError::InvalidShare { trustee: 3, .. })
    ));
    // A named trustee whose shares are missing, and too few trustees named.
    assert_eq!(
        f.verify(&shares[..1], &result),
        Err(TallyError::MissingShares { trustee: 3 })
    );
    let mut fewer = result.clone();
    fewer.trustees.pop();
    assert_eq!(
        f.verify(&shares, &fewer),
        Err(TallyError::WrongTrusteeCount {
            found: 1,
            threshold: 2
        })
    );
}

#[test]
fn a_superseded_ballot_counted_is_caught() {
    let f = fixture(&VOTES);
    // Voter 0's first ballot counted instead of their revote.
    let mut dishonest = f.ballots.clone();
    dishonest.swap(0, 4);
    let (result, shares) = f.tally(&dishonest);
    assert_eq!(result.tally.ballots, 4);
    assert!(matches!(
        f.verify(&shares, &result),
        Err(TallyError::EncryptedSum { .. })
    ));
    // Both of voter 0's ballots counted, as if the revote were another voter's.
    let mut dishonest = f.ballots.clone();
    dishonest[0].credential = f.ballots[5].credential;
    dishonest.swap(0, 5);
    let (result, shares) = f.tally(&dishonest[..5]);
    assert!(f.verify(&shares, &result).is_err());
}

#[test]
fn a_dropped_ballot_is_caught() {
    let f = fixture(&VOTES);
    let mut fewer = f.ballots.clone();
    fewer.remove(3);
    let (result, shares) = f.tally(&fewer);
    assert_eq!(
        f.verify(&shares, &result),
        Err(TallyError::CountedBallots {
            expected: 4,
            found: 3
        })
    );
    // The same sums with the count of ballots forged: the weight gives it away.
    let (mut result, shares) = f.tally(&fewer);
    result.tally.ballots = 4;
    assert_eq!(
        f.verify(&shares, &result),
        Err(TallyError::CountedWeight {
            expected: 7,
            found: 6
        })
    );
    // Forged weight too: the sums give it away.
    result.tally.weight = 7;
    assert!(matches!(
        f.verify(&shares, &result),
        Err(TallyError::EncryptedSum { .. })
    ));
}

#[test]
fn altered_superseded_count_and_election_are_caught() {
    let f = fixture(&VOTES);
    let (mut result, shares) = f.tally(&f.ballots);
    result.superseded = 1;
    assert_eq!(
        f.verify(&shares, &result),
        Err(TallyError::SupersededBallots {
            expected: 2,
            found: 1
        })
    );
    let (mut result, shares) = f.tally(&f.ballots);
    result.tally.context.0[0] ^= 1;
    assert_eq!(
        f.verify(&shares, &result),
        Err(TallyError::TallyOfAnotherElection)
    );
    let (mut result, shares) = f.tally(&f.ballots);
    result.tally.contests[1].pop();
    result.counts[1].pop();
    assert!(matches!(
        f.verify(&shares, &result),
        Err(TallyError::TallyShape { .. })
    ));
    let (mut result, shares) = f.tally(&f.ballots);
    result.counts[0].pop();
    assert_eq!(
        f.verify(&shares, &result),
        Err(TallyError::TallyShape {
            field: "contests[0].entries".into(),
            expected: 4,
            found: 3
        })
    );
}

#[test]
fn decryption_refuses_a_sum_outside_its_bound() {
    let f = fixture(&VOTES);
    let honest = aggregate(&f.election, &f.credentials, &f.ballots).unwrap();
    let shares = f.shares(&[1, 2], &honest.tally);
    let mut lighter = honest.clone();
    // Claiming a counted weight of 2 makes Ada's bound 2, below her weighted votes of 3.
    lighter.tally.weight = 2;
    assert_eq!(
        decrypt_tally(&f.election, &f.outcome, &lighter, &shares),
        Err(TallyError::NoCountWithinBound {
            at: Position {
                contest: 0,
                entry: Entry::Option(0)
            },
            bound: 2
        })
    );
    // A weight no discrete-log table covers is refused, naming the widest entry.
    let mut heavy = honest.clone();
    heavy.tally.weight = 1 << 40;
    assert_eq!(
        decrypt_tally(&f.election, &f.outcome, &heavy, &shares),
        Err(TallyError::BoundTooLarge {
            at: Position {
                contest: 1,
                entry: Entry::Option(0)
            },
            bound: 3 << 40
        })
    );
    // A bad share is refused before any combination, naming its trustee and entry.
    let mut bad = shares.clone();
    bad[0].shares.swap(1, 2);
    assert_eq!(
        decrypt_tally(&f.election, &f.outcome, &honest, &bad),
        Err(TallyError::InvalidShare {
            trustee: 1,
            at: Position {
                contest: 0,
                entry: Entry::Option(1)
            }
        })
    );
    // One trustee's shares twice are not two trustees; the error names that trustee.
    for j in 0..2 {
        let twice = vec![shares[0].clone(), shares[j].clone(), shares[j].clone()];
        let trustee = shares[j].trustee;
        assert_eq!(
            decrypt_tally(&f.election, &f.outcome, &honest, &twice),
            Err(TallyError::Shares(
                urne_ceremony::DecryptionError::DuplicateTrustee { trustee }
            ))
        );
    }
    // Fewer than t.
    assert!(matches!(
        decrypt_tally(&f.election, &f.outcome, &honest, &shares[..1]),
        Err(TallyError::Shares(
            urne_ceremony::DecryptionError::NotEnoughShares {
                found: 1,
                threshold: 2
            }
        ))
    ));
    // All three given: the two lowest are used, and the result checks.
    let all = f.shares(&[3, 1, 2], &honest.tally);
    let result = decrypt_tally(&f.election, &f.outcome, &honest, &all).unwrap();
    assert_eq!(result.trustees, vec![1, 2]);
    f.verify(&all, &result).unwrap();
}

#[test]
fn aggregation_refuses_ballots_that_do_not_belong() {
    let f = fixture(&VOTES[..2]);
    let mut ballots = f.ballots.clone();
    ballots[1].context.0[0] ^= 1;
    assert_eq!(
        aggregate(&f.election, &f.credentials, &ballots),
        Err(TallyError::BallotOfAnotherElection { ballot: 1 })
    );
    let mut ballots = f.ballots.clone();
    ballots[0].credential = CredentialKey([0x42; 32]);
    assert_eq!(
        aggregate(&f.election, &f.credentials, &ballots),
        Err(TallyError::UnlistedCredential { ballot: 0 })
    );
    let mut ballots = f.ballots.clone();
    ballots[1].contests[1].options.pop();
    assert_eq!(
        aggregate(&f.election, &f.credentials, &ballots),
        Err(TallyError::BallotShape {
            ballot: 1,
            field: "contests[1].options".into(),
            expected: 2,
            found: 1
        })
    );
    let mut ballots = f.ballots.clone();
    ballots[0].contests[0].blank = None;
    assert!(matches!(
        aggregate(&f.election, &f.credentials, &ballots),
        Err(TallyError::BallotShape { ballot: 0, .. })
    ));
}

fn field_of(result: Result<TallyResult, DecodeError>) -> String {
    result.unwrap_err().field().to_owned()
}

#[test]
fn result_decoding_is_strict_and_names_the_field() {
    let f = fixture(&VOTES[..1]);
    let (result, _) = f.tally(&f.ballots);
    let bytes = result.to_bytes();
    // 1 + 32 + 8·3 + 2 + 2·2 trustees + 2 contests + (2 + 4·72) + (2 + 2·72)
    assert_eq!(bytes.len(), 63 + 2 + 290 + 146);

    let mut trailing = bytes.clone();
    trailing.push(0);
    assert_eq!(field_of(TallyResult::decode(&trailing)), "end");
    assert_eq!(
        field_of(TallyResult::decode(&bytes[..bytes.len() - 1])),
        "contests[1].entries[1].count"
    );
    let mut version = bytes.clone();
    version[0] = 3;
    assert_eq!(field_of(TallyResult::decode(&version)), "version");
    // Version 2 (a budget election's, tests/budget.rs) has fundings after the counts.
    version[0] = 2;
    assert_eq!(field_of(TallyResult::decode(&version)), "fundings");
    let mut order = bytes.clone();
    order[59..61].copy_from_slice(&1u16.to_be_bytes());
    order[61..63].copy_from_slice(&1u16.to_be_bytes());
    assert_eq!(field_of(TallyResult::decode(&order)), "trustees[1]");
    let mut zero = bytes.clone();
    zero[59..61].copy_from_slice(&0u16.to_be_bytes());
    assert_eq!(field_of(TallyResult::decode(&zero)), "trustees[0]");
    // Trustee indices run to 1000: the last one decodes, the next does not.
    let mut last = bytes.clone();
    last[61..63].copy_from_slice(&1000u16.to_be_bytes());
    assert_eq!(TallyResult::decode(&last).unwrap().trustees, vec![1, 1000]);
    let mut beyond = bytes.clone();
    beyond[61..63].copy_from_slice(&1001u16.to_be_bytes());
    assert_eq!(field_of(TallyResult::decode(&beyond)), "trustees[1]");
    let mut no_contests = bytes.clone();
    no_contests[63..65].copy_from_slice(&0u16.to_be_bytes());
    assert_eq!(field_of(TallyResult::decode(&no_contests)), "contests");
    // A non-canonical point (all 0xff) as the first sum's α.
    let mut point = bytes.clone();
    point[67..99].copy_from_slice(&[0xff; 32]);
    assert_eq!(
        field_of(TallyResult::decode(&point)),
        "contests[0].entries[0].sum.alpha"
    );

    let tally = result.tally.to_bytes();
    let mut trailing = tally.clone();
    trailing.push(0);
    assert_eq!(
        EncryptedTally::decode(&trailing).unwrap_err().field(),
        "end"
    );
    assert_eq!(
        EncryptedTally::decode(&tally[..tally.len() - 1])
            .unwrap_err()
            .field(),
        "contests[1].entries[1].sum"
    );
}

/// Every voter on one option: each count equals its bound (weight × maximum) exactly, and
/// a bound is inclusive in decryption and in verification alike.
#[test]
fn a_unanimous_count_at_its_bound_decrypts_and_verifies() {
    let votes: Vec<Vote> = (0..WEIGHTS.len()).map(|v| (v, Some(0), [3, 2])).collect();
    let f = fixture(&votes);
    let (result, shares) = f.tally(&f.ballots);
    let weight: u64 = WEIGHTS.iter().map(|&w| u64::from(w)).sum();
    assert_eq!(result.tally.weight, weight);
    assert_eq!(
        result.counts,
        vec![vec![weight, 0, 0, 0], vec![3 * weight, 2 * weight]]
    );
    f.verify(&shares, &result).unwrap();
}

/// spec/24 §24.6 step 5, the bound alone: a ballot whose option encrypts 5 (its proof is
/// not what the tally checks, spec/24 §24.6 last paragraph) gives a count that the shares
/// open correctly, so only the bound W × maximum can refuse it.
#[test]
fn a_count_above_its_bound_is_caught_even_when_the_shares_open_to_it() {
    let mut f = fixture(&[(0, Some(0), [1, 1])]);
    let key = EncryptionKey::new(f.outcome.joint_key);
    f.ballots[0].contests[0].options[1].ciphertext = key.encrypt(5, &mut rand::rng()).0;
    let aggregation = aggregate(&f.election, &f.credentials, &f.ballots).unwrap();
    let shares = f.shares(&[1, 3], &aggregation.tally);
    let at = Position {
        contest: 0,
        entry: Entry::Option(1),
    };
    assert_eq!(
        decrypt_tally(&f.election, &f.outcome, &aggregation, &shares),
        Err(TallyError::NoCountWithinBound { at, bound: 1 })
    );
    let result = TallyResult {
        tally: aggregation.tally,
        superseded: 0,
        trustees: vec![1, 3],
        counts: vec![vec![1, 5, 0, 0], vec![1, 1]],
        fundings: Vec::new(),
    };
    assert_eq!(
        f.verify(&shares, &result),
        Err(TallyError::CountAboveBound {
            at,
            count: 5,
            bound: 1
        })
    );
}

/// A voter's first ballot posted again after their revote (anyone can: ballot and
/// signature are public) would count again as the last; it is refused as a replay, so
/// a board that accepted it fails verification.
#[test]
fn a_ballot_replayed_after_a_revote_is_refused() {
    let f = fixture(&VOTES);
    let mut replayed = f.ballots.clone();
    replayed.push(f.ballots[0].clone());
    assert_eq!(
        aggregate(&f.election, &f.credentials, &replayed),
        Err(TallyError::ReplayedBallot {
            ballot: 6,
            first: 0
        })
    );
    // The honest result checked against a board holding the replay.
    let (result, shares) = f.tally(&f.ballots);
    assert_eq!(
        verify_result(
            &f.election,
            &f.outcome,
            &f.credentials,
            &replayed,
            &shares,
            &result
        ),
        Err(TallyError::ReplayedBallot {
            ballot: 6,
            first: 0
        })
    );
}

/// spec/24 §24.6 step 1: the outcome of another ceremony (its own t, verification keys
/// and joint key) is named as such, not left to fail as a wrong share or count.
#[test]
fn the_outcome_of_another_ceremony_is_refused() {
    let f = fixture(&VOTES);
    let (result, shares) = f.tally(&f.ballots);
    let (other, _) = ceremony(2, 3);
    let aggregation = aggregate(&f.election, &f.credentials, &f.ballots).unwrap();
    assert_eq!(
        decrypt_tally(&f.election, &other, &aggregation, &shares),
        Err(TallyError::CeremonyOfAnotherKey)
    );
    assert_eq!(
        verify_result(
            &f.election,
            &other,
            &f.credentials,
            &f.ballots,
            &shares,
            &result
        ),
        Err(TallyError::CeremonyOfAnotherKey)
    );
}

/// spec/24 §24.3: a contest has 1 to 257 entries (256 options and a blank vote).
#[test]
fn a_contest_of_257_entries_decodes_and_one_of_258_does_not() {
    let tally = |entries: usize| EncryptedTally {
        context: urne_crypto::ContextHash([1; 32]),
        ballots: 0,
        weight: 0,
        contests: vec![vec![Ciphertext::zero(); entries]],
    };
    let widest = tally(257);
    assert_eq!(EncryptedTally::decode(&widest.to_bytes()).unwrap(), widest);
    assert_eq!(
        EncryptedTally::decode(&tally(258).to_bytes())
            .unwrap_err()
            .field(),
        "contests[0].entries"
    );
}

#[test]
fn check_opening_alone_refuses_counts_of_another_shape_a_missing_trustee_and_a_wrong_count() {
    let f = fixture(&VOTES);
    let (result, shares) = f.tally(&f.ballots);
    let open = |trustees: &[u16], counts: &[Vec<u64>]| {
        check_opening(
            &f.election,
            &f.outcome,
            &result.tally,
            &shares,
            trustees,
            counts,
        )
    };
    assert_eq!(open(&result.trustees, &result.counts), Ok(()));
    let mut short = result.counts.clone();
    short[1].pop();
    assert!(matches!(
        open(&result.trustees, &short),
        Err(TallyError::TallyShape { .. })
    ));
    assert_eq!(
        open(&[1, 2], &result.counts),
        Err(TallyError::MissingShares { trustee: 2 })
    );
    let mut wrong = result.counts.clone();
    wrong[1][0] += 1;
    assert!(matches!(
        open(&result.trustees, &wrong),
        Err(TallyError::Count { .. } | TallyError::CountAboveBound { .. })
    ));
}

#[test]
fn decrypt_sums_of_the_aggregation_is_decrypt_tally() {
    let f = fixture(&VOTES);
    let aggregation = aggregate(&f.election, &f.credentials, &f.ballots).unwrap();
    let shares = f.shares(&[1, 3], &aggregation.tally);
    let superseded = aggregation.resolution.superseded.len() as u64;
    assert_eq!(
        decrypt_sums(
            &f.election,
            &f.outcome,
            &aggregation.tally,
            superseded,
            &shares
        ),
        decrypt_tally(&f.election, &f.outcome, &aggregation, &shares)
    );
}
