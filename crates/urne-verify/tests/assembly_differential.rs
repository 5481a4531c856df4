//! V12's differential test: the verifier's own fold of chambers and sittings
//! (urne_verify::assembly) against the board's (urne-assembly's recount), on honest
//! sittings and on logs a dishonest board could write — each record dropped, repeated or
//! moved, random byte flips in every body re-signed by the record's own signer, and
//! records the board's fold refuses forced in. Both must agree on accept or refuse, on
//! the first record refused and its field, and on every division's counts.
//!
//! The random flips and wallet keys come from one seeded generator per test
//! ([`seeded`]): each test prints its seed, which cargo shows when it fails, and
//! `URNE_TEST_SEED=<seed>` replays that run exactly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[path = "../../urne-assembly/tests/common/mod.rs"]
mod common;

use std::collections::HashMap;

use common::Chamber;
use ed25519_dalek::SigningKey;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use urne_assembly::body::DivisionEvent;
use urne_assembly::{DEFAULT_PROXY_SECONDS, RosterChange, RosterOp, VoteChange, kinds};
use urne_record::Record;

/// The random source of one test: seeded from `URNE_TEST_SEED` when it is set, else
/// from the system; the seed is printed (cargo shows a failing test's output) so that a
/// failure can be replayed with `URNE_TEST_SEED=<seed>`.
fn seeded(test: &str) -> StdRng {
    let seed: u64 = match std::env::var("URNE_TEST_SEED") {
        Ok(text) => text
            .trim()
            .parse()
            .unwrap_or_else(|e| panic!("URNE_TEST_SEED={text:?} is not a u64: {e}")),
        Err(_) => rand::random(),
    };
    eprintln!(
        "{test}: seed {seed} (replay: URNE_TEST_SEED={seed} cargo test -p urne-verify --test assembly_differential {test})"
    );
    StdRng::seed_from_u64(seed)
}

/// An honest sitting touching every kind: presence, a delegation used and revoked, a
/// roll call with a proxy vote, its result, a correction, a voided division and its
/// rerun, a roster rotation and revocation, a suspension, and a second sitting.
fn honest(vote_change: VoteChange) -> Chamber {
    let mut c = Chamber::new(10, vote_change);
    for m in 0..9 {
        c.presence(m, true).unwrap();
    }
    c.grant(9, 0, DEFAULT_PROXY_SECONDS).unwrap();
    c.open_division(1, 1_000).unwrap();
    for m in 0..9 {
        c.vote(m, 1, (m % 3) as u8).unwrap();
    }
    c.proxy_vote(0, 9, 1, 1).unwrap();
    if vote_change == VoteChange::LastVoteCounts {
        c.vote(4, 1, 2).unwrap();
    }
    c.event(kinds::DIVISION_SUSPEND, 1, 1_100).unwrap();
    c.event(kinds::DIVISION_RESUME, 1, 1_200).unwrap();
    c.event(kinds::DIVISION_CLOSE, 1, 1_600).unwrap();
    let result = c.expected_result(1);
    c.post_result(&result).unwrap();
    let correction = urne_assembly::Correction {
        sequence: c.seq(3),
        division: 1,
        choice: 2,
        note: "meant to abstain".into(),
    }
    .to_body()
    .unwrap();
    let m3 = c.member(3);
    c.post(kinds::VOTE_CORRECTION, &correction, &m3).unwrap();
    let revoke = urne_assembly::ProxyRevoke { sequence: c.seq(9) }.to_body();
    let m9 = c.member(9);
    c.post(kinds::PROXY_REVOKE, &revoke, &m9).unwrap();
    c.open_division(2, 2_000).unwrap();
    c.vote(1, 2, 0).unwrap();
    c.event(kinds::DIVISION_VOID, 2, 2_100).unwrap();
    let rotate = RosterChange {
        version: c.roster_version() + 1,
        member: 5,
        op: RosterOp::Rotate(common::key(55, 3).verifying_key().to_bytes()),
    }
    .to_body();
    let clerk = c.clerk.clone();
    c.post(kinds::ROSTER_CHANGE, &rotate, &clerk).unwrap();
    c.members[5] = common::key(55, 3);
    let revoke = RosterChange {
        version: c.roster_version() + 1,
        member: 8,
        op: RosterOp::Revoke,
    }
    .to_body();
    c.post(kinds::ROSTER_CHANGE, &revoke, &clerk).unwrap();
    let mut rerun = division_open(&c.open_body(3, 2_200, false));
    rerun.reruns = 2;
    let officer = c.officer.clone();
    c.post(kinds::DIVISION_OPEN, &rerun.to_body().unwrap(), &officer)
        .unwrap();
    for m in [0, 1, 2, 5, 6] {
        c.vote(m, 3, 0).unwrap();
    }
    c.event(kinds::DIVISION_CLOSE, 3, 2_800).unwrap();
    let result = c.expected_result(3);
    c.post_result(&result).unwrap();
    c.next_sitting(9);
    c.presence(0, true).unwrap();
    c.presence(1, true).unwrap();
    c.presence(2, true).unwrap();
    c.open_division(1, 3_000).unwrap();
    c.vote(2, 1, 1).unwrap();
    c
}

fn division_open(body: &[u8]) -> urne_assembly::DivisionOpen {
    match urne_assembly::decode(kinds::DIVISION_OPEN, body) {
        Some(Ok(urne_assembly::Decoded::DivisionOpen(open))) => open,
        other => panic!("{other:?}"),
    }
}

/// Every key that signs in these logs, by its public key: a dishonest board re-signs
/// nothing, but these tests play every signer to isolate one rule at a time.
fn signers(c: &Chamber) -> HashMap<[u8; 32], SigningKey> {
    let mut keys: Vec<SigningKey> = vec![c.officer.clone(), c.clerk.clone()];
    keys.extend((0..c.members.len() as u32).map(|m| common::key(m, 3)));
    keys.push(common::key(55, 3));
    keys.into_iter()
        .map(|k| (k.verifying_key().to_bytes(), k))
        .collect()
}

/// The two verdicts: the first violation's (index, field), or every sitting's divisions'
/// counts.
type Verdict = Result<Vec<Vec<Vec<u32>>>, (u64, String)>;

fn board(log: &[(u64, Record)]) -> Verdict {
    urne_assembly::recount_sittings(log)
        .map(|sittings| {
            sittings
                .into_iter()
                .map(|(_, ds)| ds.into_iter().map(|d| d.result.counts).collect())
                .collect()
        })
        .map_err(|v| (v.index, v.field))
}

fn verifier(log: &[(u64, Record)]) -> Verdict {
    urne_verify::assembly::recount(log)
        .map(|sittings| {
            sittings
                .into_iter()
                .map(|(_, ds)| ds.into_iter().map(|d| d.counts).collect())
                .collect()
        })
        .map_err(|v| (v.index, v.field))
}

/// Both folds' verdicts on `log`, which must agree; returns whether it was refused.
fn judge(case: &str, log: &[(u64, Record)]) -> bool {
    let (b, v) = (board(log), verifier(log));
    assert_eq!(
        b, v,
        "{case}: the board's fold (left) and the verifier's (right) disagree"
    );
    b.is_err()
}

/// `times` random bit flips in the body of record `at`, each re-signed by its signer and
/// judged by both folds alike: how many of them were refused.
fn flips_judged(
    rng: &mut impl rand::Rng,
    base: &[Record],
    at: usize,
    keys: &HashMap<[u8; 32], SigningKey>,
    times: usize,
) -> usize {
    let record = &base[at];
    let key = &keys[record.signer()];
    (0..times)
        .map(|_| {
            let mut body = record.body().to_vec();
            let byte = rng.random_range(0..body.len());
            body[byte] ^= 1 << rng.random_range(0..8);
            let mut log = base.to_vec();
            log[at] = Record::sign(record.context(), record.kind(), &body, key).unwrap();
            usize::from(judge(
                &format!(
                    "record {at} (kind 0x{:04x}) byte {byte} flipped",
                    record.kind().0
                ),
                &reindexed(log),
            ))
        })
        .sum()
}

fn reindexed(records: Vec<Record>) -> Vec<(u64, Record)> {
    records
        .into_iter()
        .enumerate()
        .map(|(i, r)| (i as u64, r))
        .collect()
}

fn records(c: &Chamber) -> Vec<Record> {
    c.log.iter().map(|(_, r)| r.clone()).collect()
}

#[test]
fn both_folds_recount_honest_sittings_alike() {
    for vote_change in [VoteChange::FinalOnFirstCast, VoteChange::LastVoteCounts] {
        let c = honest(vote_change);
        let verdict = verifier(&c.log).unwrap();
        assert_eq!(verdict.len(), 2, "two sittings");
        assert_eq!(verdict[0].len(), 3, "three divisions in the first");
        assert!(!judge(&format!("honest, {vote_change:?}"), &c.log));
    }
}

#[test]
fn both_folds_agree_on_every_record_dropped_repeated_or_moved() {
    let c = honest(VoteChange::FinalOnFirstCast);
    let base = records(&c);
    let mut refused = 0;
    for at in 0..base.len() {
        let mut dropped = base.clone();
        dropped.remove(at);
        refused += usize::from(judge(&format!("record {at} dropped"), &reindexed(dropped)));
        let mut repeated = base.clone();
        repeated.push(base[at].clone());
        refused += usize::from(judge(
            &format!("record {at} repeated"),
            &reindexed(repeated),
        ));
        if at + 1 < base.len() {
            let mut swapped = base.clone();
            swapped.swap(at, at + 1);
            refused += usize::from(judge(
                &format!("records {at} and {} swapped", at + 1),
                &reindexed(swapped),
            ));
        }
    }
    assert!(refused > base.len(), "{refused} refusals");
}

#[test]
fn both_folds_agree_on_random_byte_flips_in_every_body_re_signed() {
    let mut rng = seeded("both_folds_agree_on_random_byte_flips_in_every_body_re_signed");
    for vote_change in [VoteChange::FinalOnFirstCast, VoteChange::LastVoteCounts] {
        let c = honest(vote_change);
        let keys = signers(&c);
        let base = records(&c);
        let mut refused = 0;
        for at in 0..base.len() {
            refused += flips_judged(&mut rng, &base, at, &keys, 6);
        }
        assert!(refused > base.len() * 3, "{refused} refusals");
    }
}

#[test]
fn both_folds_agree_on_a_forged_signature_and_on_records_the_board_refuses() {
    let c = honest(VoteChange::FinalOnFirstCast);
    let base = records(&c);
    // A vote whose signature is not its signer's.
    let at = base.iter().position(|r| r.kind() == kinds::VOTE).unwrap();
    let forged = Record::sign(
        base[at].context(),
        kinds::VOTE,
        base[at].body(),
        &common::key(99, 3),
    )
    .unwrap();
    let mut log = base.clone();
    log[at] = forged;
    assert!(judge("a vote signed by a stranger", &reindexed(log)));

    // Records the board's fold refuses, forced into the first sitting after its last
    // record: each breaks one rule, named by both folds.
    type Case = fn(&Chamber) -> (urne_record::Kind, Vec<u8>, SigningKey);
    let event = |kind, division, time| {
        DivisionEvent {
            division,
            time,
            reason: "why".into(),
        }
        .to_body(kind)
        .unwrap()
    };
    let cases: Vec<(&str, &str, Case)> = vec![
        ("a second vote under first-cast-final", "vote.member", |c| {
            (kinds::VOTE, c.vote_body(2, 4, 1, None), c.member(2))
        }),
        ("a vote of a member not present", "presence", |c| {
            (kinds::VOTE, c.vote_body(9, 4, 1, None), c.member(9))
        }),
        ("a vote by the revoked member", "signer", |c| {
            (kinds::VOTE, c.vote_body(8, 4, 1, None), common::key(8, 3))
        }),
        ("a vote by a rotated-out key", "signer", |c| {
            (kinds::VOTE, c.vote_body(5, 4, 1, None), common::key(5, 3))
        }),
        ("a proxy vote after the revocation", "body.on_behalf", |c| {
            (kinds::VOTE, c.vote_body(0, 4, 1, Some(9)), c.member(0))
        }),
        (
            "a division opened while another runs",
            "body.division",
            |c| {
                (
                    kinds::DIVISION_OPEN,
                    c.open_body(5, 2_900, false),
                    c.officer.clone(),
                )
            },
        ),
        ("a vote on a closed division", "body.division", |c| {
            (kinds::VOTE, c.vote_body(6, 3, 1, None), c.member(6))
        }),
    ];
    for (case, field, make) in cases {
        let mut c = honest(VoteChange::FinalOnFirstCast);
        c.id = c.fold.sittings()[0];
        c.open_division(4, 2_900).unwrap();
        c.vote(2, 4, 0).unwrap();
        let (kind, body, key) = make(&c);
        let index = c.force(kind, &body, &key);
        assert!(judge(case, &c.log), "{case}: accepted");
        assert_eq!(
            verifier(&c.log).unwrap_err(),
            (index, field.to_owned()),
            "{case}"
        );
    }
    for (case, field, kind, time) in [
        (
            "a close of a closed division",
            "body.division",
            kinds::DIVISION_CLOSE,
            2_900,
        ),
        (
            "a void of a division with a result",
            "body.division",
            kinds::DIVISION_VOID,
            2_900,
        ),
        (
            "a suspend back in time",
            "body.time",
            kinds::DIVISION_SUSPEND,
            10,
        ),
    ] {
        let mut c = honest(VoteChange::FinalOnFirstCast);
        c.id = c.fold.sittings()[0];
        c.open_division(4, 2_900).unwrap();
        let division = match kind {
            kinds::DIVISION_CLOSE => 3,
            kinds::DIVISION_VOID => 1,
            _ => 4,
        };
        let officer = c.officer.clone();
        let index = c.force(kind, &event(kind, division, time), &officer);
        assert!(judge(case, &c.log), "{case}: accepted");
        assert_eq!(
            verifier(&c.log).unwrap_err(),
            (index, field.to_owned()),
            "{case}"
        );
    }
}

// ---- a secret division and its election (spec/40 §40.12) ------------------------------

const CHOICES: [&str; 3] = ["Ada", "Grace", "Edsger"];

/// Edits a ceremony's trustees and threshold.
type EditTrustees = fn(&mut Vec<[u8; 32]>, &mut u16);

/// What a dishonest officer may change in a secret ballot's election (spec/40 §40.12's
/// links, one each), or nothing.
#[derive(Clone, Debug, Default)]
struct Tweak {
    /// The election's `context.open` signed by another key than the officer's.
    opener: Option<SigningKey>,
    /// The manifest's options.
    options: Option<Vec<String>>,
    /// The manifest names no eligibility: a pseudonymous election.
    pseudonymous: bool,
    /// A pseudonymous credential list posted beside the snapshot.
    credential_list: bool,
    /// The manifest's floor of registered keys.
    min_real_keys: Option<u32>,
    /// The sitting whose registry the manifest and snapshot take.
    registry_of: Option<urne_record::ContextId>,
    /// Another registrar than the officer (it cosigns the snapshot).
    registrar: Option<SigningKey>,
    /// Edits the ceremony's trustees (the draw's first three) and threshold.
    trustees: Option<EditTrustees>,
    /// The wallet keys the snapshot lists (the registered ones by default).
    listed: Option<fn(&mut Vec<[u8; 32]>)>,
    /// The tally's counts.
    tally: Option<Vec<u64>>,
    /// The division result's counts.
    result: Option<Vec<u32>>,
}

/// A secret ballot: four members register wallet keys for a secret division, the
/// officer closes it, then opens its anonymous election (manifest, the public draw's
/// trustees, the snapshot of the registered keys in one bucket), posts its tally and the
/// division's result. Honest under `Tweak::default()`.
fn secret_ballot(t: &Tweak, rng: &mut StdRng) -> Chamber {
    use urne_assembly::secret;
    let mut c = Chamber::new(4, VoteChange::FinalOnFirstCast);
    c.all_present();
    let officer = c.officer.clone();
    let opener = t.opener.clone().unwrap_or_else(|| officer.clone());
    let election_body = urne_record::ContextOpen {
        context_type: urne_record::ContextType::ELECTION,
        nonce: [5; 16],
        name: "Election of the committee chair".into(),
        parameters: [0; 32],
    }
    .to_body()
    .unwrap();
    let election =
        urne_record::ContextId::derive(&opener.verifying_key().to_bytes(), &election_body);
    let open = urne_assembly::DivisionOpen {
        division: 1,
        time: 100,
        text_hash: c.text_hash,
        roster_version: c.roster_version(),
        window: 600,
        secret: true,
        election: Some(election.0),
        reruns: 0,
        choices: CHOICES.map(str::to_owned).to_vec(),
    };
    c.post(kinds::DIVISION_OPEN, &open.to_body().unwrap(), &officer)
        .unwrap();
    let wallets: Vec<[u8; 32]> = (0..5)
        .map(|_| {
            urne_credential::Credential::generate(rng)
                .public()
                .to_bytes()
        })
        .collect();
    for (m, key) in wallets.iter().take(4).enumerate() {
        let body = urne_assembly::CredentialRegistration {
            sequence: c.seq(m as u32),
            division: 1,
            credential: *key,
            on_behalf: None,
        }
        .to_body();
        let member = c.member(m as u32);
        c.post(kinds::SECRET_CREDENTIAL, &body, &member).unwrap();
    }
    c.event(kinds::DIVISION_CLOSE, 1, 700).unwrap();
    let post = |c: &mut Chamber, kind, body: &[u8]| {
        c.post_record(Record::sign(election, kind, body, &opener).unwrap())
            .unwrap()
    };
    post(&mut c, urne_record::kinds::CONTEXT_OPEN, &election_body);
    let registry_of = t.registry_of.unwrap_or(c.id);
    let registrar = t.registrar.clone().unwrap_or_else(|| officer.clone());
    let manifest = urne_election::ManifestRecord {
        eligibility: (!t.pseudonymous).then(|| urne_election::anonymous::Eligibility {
            min_bucket_bits: 2,
            min_real_keys: t
                .min_real_keys
                .unwrap_or(common::SECRET_RULES.min_registrants),
            min_snapshot: 1,
            registry: secret::registry_id(registry_of, 1),
            registrars: secret::registrars(registrar.verifying_key()),
        }),
        manifest: urne_ballot::Manifest::new(
            "Election of the committee chair",
            vec![urne_ballot::Contest {
                title: "Chair".into(),
                kind: urne_ballot::ContestKind::SingleChoice,
                blank: false,
                options: t
                    .options
                    .clone()
                    .unwrap_or_else(|| CHOICES.map(str::to_owned).to_vec()),
            }],
        )
        .unwrap(),
    };
    post(
        &mut c,
        urne_election::kinds::ELECTION_MANIFEST,
        &manifest.to_body(),
    );
    let at_close: Vec<[u8; 32]> = (0..4)
        .map(|m| c.member(m).verifying_key().to_bytes())
        .collect();
    let seed = secret::trustee_seed(c.id, 1, &wallets[..4]);
    let mut trustees = secret::trustee_order(&seed, &at_close);
    trustees.truncate(3);
    let mut threshold = 2;
    if let Some(edit) = t.trustees {
        edit(&mut trustees, &mut threshold);
    }
    let ceremony = urne_ceremony::CeremonyOpen::new(threshold, trustees)
        .unwrap()
        .encode();
    post(&mut c, urne_election::kinds::CEREMONY_OPEN, &ceremony);
    let mut listed = wallets[..4].to_vec();
    if let Some(edit) = t.listed {
        edit(&mut listed);
        listed.iter_mut().for_each(|k| {
            if *k == [0; 32] {
                *k = wallets[4];
            }
        });
    }
    if t.pseudonymous || t.credential_list {
        let list = urne_credential::CredentialList::new(
            listed
                .iter()
                .map(|k| urne_credential::ListedCredential {
                    credential: urne_credential::PublicCredential::decode(k).unwrap(),
                    weight: 1,
                })
                .collect(),
        )
        .unwrap();
        for part in list.parts() {
            post(
                &mut c,
                urne_election::kinds::ELECTION_CREDENTIALS,
                &part.to_bytes(),
            );
        }
    }
    if !t.pseudonymous {
        let keys: Vec<urne_crypto::Point> = listed
            .iter()
            .map(|k| urne_crypto::Point::decode_non_identity(k).unwrap())
            .collect();
        let snapshot = secret::snapshot(registry_of, 1, &registrar, &keys).unwrap();
        post(
            &mut c,
            urne_election::kinds::ELECTION_SNAPSHOT,
            &snapshot.signed().to_bytes(),
        );
        for part in snapshot.parts() {
            post(
                &mut c,
                urne_election::kinds::ELECTION_SNAPSHOT_PART,
                &part.to_bytes(),
            );
        }
    }
    let tally = urne_tally::TallyResult {
        tally: urne_tally::EncryptedTally {
            context: urne_crypto::ContextHash([0; 32]),
            ballots: 4,
            weight: 4,
            contests: vec![vec![urne_crypto::Ciphertext::zero(); 3]],
        },
        superseded: 0,
        trustees: vec![1, 2],
        counts: vec![t.tally.clone().unwrap_or(vec![2, 1, 1])],
        fundings: Vec::new(),
    };
    post(
        &mut c,
        urne_election::kinds::TALLY_RESULT,
        &tally.to_bytes(),
    );
    let mut result = c.expected_result(1);
    result.counts = t.result.clone().unwrap_or(vec![2, 1, 1]);
    c.force(kinds::DIVISION_RESULT, &result.to_body().unwrap(), &officer);
    c
}

fn secret_ballot_honest(rng: &mut StdRng) -> Chamber {
    secret_ballot(&Tweak::default(), rng)
}

#[test]
fn both_folds_tie_an_honest_secret_division_to_its_election_alike() {
    let c = secret_ballot_honest(&mut seeded(
        "both_folds_tie_an_honest_secret_division_to_its_election_alike",
    ));
    assert_eq!(verifier(&c.log).unwrap(), vec![vec![vec![2, 1, 1]]]);
    assert!(!judge("an honest secret ballot", &c.log));
}

#[test]
fn both_folds_agree_on_every_mutation_of_a_secret_division_and_its_election() {
    let mut rng =
        seeded("both_folds_agree_on_every_mutation_of_a_secret_division_and_its_election");
    let c = secret_ballot_honest(&mut rng);
    let keys = signers(&c);
    let base = records(&c);
    let mut refused = 0;
    for at in 0..base.len() {
        let mut dropped = base.clone();
        dropped.remove(at);
        refused += usize::from(judge(&format!("record {at} dropped"), &reindexed(dropped)));
        if at + 1 < base.len() {
            let mut swapped = base.clone();
            swapped.swap(at, at + 1);
            refused += usize::from(judge(
                &format!("records {at} and {} swapped", at + 1),
                &reindexed(swapped),
            ));
        }
        refused += flips_judged(&mut rng, &base, at, &keys, 8);
    }
    assert!(refused > base.len() * 4, "{refused} refusals");
}

#[test]
fn both_folds_name_each_broken_link_of_a_secret_division_alike() {
    use urne_record::ContextId;
    let mut rng = seeded("both_folds_name_each_broken_link_of_a_secret_division_alike");
    let cases: Vec<(&str, Tweak, &str, &str)> = vec![
        (
            "counts other than the tally's",
            Tweak {
                result: Some(vec![1, 2, 1]),
                ..Tweak::default()
            },
            "division.result",
            "body.counts[0]",
        ),
        (
            "a tally of other counts",
            Tweak {
                tally: Some(vec![3, 0, 1]),
                ..Tweak::default()
            },
            "division.result",
            "body.counts[0]",
        ),
        (
            "an election opened by another",
            Tweak {
                opener: Some(common::key(77, 1)),
                ..Tweak::default()
            },
            "division.open",
            "body.election",
        ),
        (
            "the manifest's options swapped",
            Tweak {
                options: Some(vec!["Grace".into(), "Ada".into(), "Edsger".into()]),
                ..Tweak::default()
            },
            "election.manifest",
            "body.contests[0].options",
        ),
        (
            "a pseudonymous election",
            Tweak {
                pseudonymous: true,
                ..Tweak::default()
            },
            "election.manifest",
            "body.eligibility",
        ),
        (
            "a credential list beside the snapshot",
            Tweak {
                credential_list: true,
                ..Tweak::default()
            },
            "election.credentials",
            "kind",
        ),
        (
            "a floor below the chamber's",
            Tweak {
                min_real_keys: Some(2),
                ..Tweak::default()
            },
            "election.manifest",
            "body.eligibility.min_real_keys",
        ),
        (
            "another sitting's registry",
            Tweak {
                registry_of: Some(ContextId([0x42; 32])),
                ..Tweak::default()
            },
            "election.manifest",
            "body.eligibility.registry",
        ),
        (
            "another registrar",
            Tweak {
                registrar: Some(common::key(80, 1)),
                ..Tweak::default()
            },
            "election.manifest",
            "body.eligibility.registrars",
        ),
        (
            "a threshold of 3",
            Tweak {
                trustees: Some(|_, t| *t = 3),
                ..Tweak::default()
            },
            "ceremony.open",
            "body.threshold",
        ),
        (
            "two trustees",
            Tweak {
                trustees: Some(|ids, _| {
                    ids.pop();
                }),
                ..Tweak::default()
            },
            "ceremony.open",
            "body.identities",
        ),
        (
            "the draw's first two swapped",
            Tweak {
                trustees: Some(|ids, _| ids.swap(0, 1)),
                ..Tweak::default()
            },
            "ceremony.open",
            "body.identities[0]",
        ),
        (
            "a stranger trustee",
            Tweak {
                trustees: Some(|ids, _| ids[2] = common::key(78, 3).verifying_key().to_bytes()),
                ..Tweak::default()
            },
            "ceremony.open",
            "body.identities[2]",
        ),
        (
            "a stranger's wallet key in the snapshot",
            Tweak {
                listed: Some(|keys| keys.push([0; 32])),
                ..Tweak::default()
            },
            "election.snapshot-part",
            "body.entries[",
        ),
        (
            "a member's wallet key left out",
            Tweak {
                listed: Some(|keys| {
                    keys.pop();
                }),
                ..Tweak::default()
            },
            "election.snapshot-part",
            "body.entries",
        ),
    ];
    for (case, tweak, kind, field) in cases {
        let c = secret_ballot(&tweak, &mut rng);
        assert!(judge(case, &c.log), "{case}: accepted");
        let v = urne_verify::assembly::recount(&c.log).unwrap_err();
        // The snapshot sorts its keys, so a stranger's position varies: `[` ends a prefix.
        let named = v.field == field || (field.ends_with('[') && v.field.starts_with(field));
        assert!(v.kind == kind && named, "{case}: {v:?}");
    }
    // The snapshot, or the ceremony, before the division's close: the close moved after.
    let c = secret_ballot_honest(&mut rng);
    let base = records(&c);
    let close = base
        .iter()
        .position(|r| r.kind() == kinds::DIVISION_CLOSE)
        .unwrap();
    for (case, kind, field) in [
        (
            "a ceremony before the close",
            urne_verify::election::kinds::CEREMONY_OPEN,
            "body",
        ),
        (
            "a snapshot before the close",
            urne_verify::election::kinds::ELECTION_SNAPSHOT,
            "body",
        ),
    ] {
        let to = base.iter().position(|r| r.kind() == kind).unwrap();
        let mut log = base.clone();
        let moved = log.remove(close);
        log.insert(to, moved);
        let log = reindexed(log);
        assert!(judge(case, &log), "{case}: accepted");
        let v = urne_verify::assembly::recount(&log).unwrap_err();
        assert_eq!(v.field, field, "{case}: {v:?}");
    }
}
