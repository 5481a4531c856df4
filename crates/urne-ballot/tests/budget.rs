//! Budget contests (spec/21 §21.1, §21.4–§21.6, issue 12): the manifest's kind 4 and its
//! bounds, the spend proof on Σ costᵢ·xᵢ + min_spend·b, version-2 ballot bytes, and every
//! check failing on a tampered ballot.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use urne_ballot::{
    BALLOT_VERSION, BALLOT_VERSION_SPEND, Ballot, BallotError, Contest, ContestKind,
    ContestSelection, ContextInputs, CredentialKey, Election, Manifest, SelectionRule, SumProof,
    check_audit,
};
use urne_crypto::{BatchVerifier, SecretKey};

const COSTS: [u64; 5] = [300_000, 450_000, 120_000, 800_000, 60_000];

fn budget_kind(min_spend: u64, budget: u64) -> ContestKind {
    ContestKind::Budget {
        min_projects: 1,
        max_projects: 4,
        min_spend,
        budget,
        rule: SelectionRule::MaxApprovals,
        costs: COSTS.to_vec(),
    }
}

fn contest(kind: ContestKind, blank: bool) -> Contest {
    Contest {
        title: "Participatory budget 2027".into(),
        kind,
        blank,
        options: ["Park", "Library", "Bike lanes", "Pool", "Benches"]
            .map(String::from)
            .to_vec(),
    }
}

/// A single-choice question, then a budget of 1,000,000 with a minimum spend of 500,000
/// (a width of 500,000: the spend is proven by two 19-bit proofs).
fn election_of(kind: ContestKind) -> Election {
    let manifest = Manifest::new(
        "City budget",
        vec![
            Contest {
                title: "Question".into(),
                kind: ContestKind::SingleChoice,
                blank: false,
                options: vec!["Yes".into(), "No".into()],
            },
            contest(kind, true),
        ],
    )
    .unwrap();
    let key = SecretKey::generate(&mut rand::rng()).public_key();
    Election::new(ContextInputs {
        manifest: &manifest,
        joint_key: &key,
        credential_root: &[7; 32],
        board_origin: "board.example/urne",
        context_id: &[5; 32],
    })
    .unwrap()
}

fn election() -> Election {
    election_of(budget_kind(500_000, 1_000_000))
}

fn voter() -> CredentialKey {
    CredentialKey([0xb0; 32])
}

fn choose(projects: &[usize]) -> Vec<ContestSelection> {
    vec![
        ContestSelection::single(2, 0).unwrap(),
        ContestSelection::approve(5, projects).unwrap(),
    ]
}

fn cast(election: &Election, projects: &[usize]) -> Ballot {
    Ballot::encrypt(election, &voter(), &choose(projects), &mut rand::rng())
        .unwrap()
        .0
}

fn refused(election: &Election, ballot: &Ballot) -> BallotError {
    ballot.verify(election, &voter()).unwrap_err()
}

fn proof_field(error: BallotError) -> String {
    match error {
        BallotError::Proof { field, .. } => field,
        other => panic!("expected a proof failure, got {other:?}"),
    }
}

#[test]
fn a_budget_manifest_round_trips_and_every_bound_is_named() {
    let manifest = Manifest::new("b", vec![contest(budget_kind(0, 1_000_000), false)]).unwrap();
    assert_eq!(Manifest::decode(&manifest.to_bytes()).unwrap(), manifest);
    let refused_at = |kind: ContestKind| {
        Manifest::new("b", vec![contest(kind, false)])
            .unwrap_err()
            .field()
            .to_owned()
    };
    let with = |change: &dyn Fn(&mut ContestKind)| {
        let mut kind = budget_kind(500_000, 1_000_000);
        change(&mut kind);
        refused_at(kind)
    };
    macro_rules! set {
        ($field:ident = $value:expr) => {
            |k: &mut ContestKind| {
                if let ContestKind::Budget { $field, .. } = k {
                    *$field = $value;
                }
            }
        };
    }
    assert_eq!(
        with(&set!(max_projects = 0)),
        "contests[0].kind.max_projects"
    );
    assert_eq!(
        with(&set!(max_projects = 6)),
        "contests[0].kind.max_projects"
    );
    assert_eq!(
        with(&set!(min_projects = 5)),
        "contests[0].kind.min_projects"
    );
    assert_eq!(with(&set!(budget = 0)), "contests[0].kind.budget");
    assert_eq!(with(&set!(budget = 1 << 53)), "contests[0].kind.budget");
    assert_eq!(
        with(&set!(min_spend = 1_000_001)),
        "contests[0].kind.min_spend"
    );
    assert_eq!(with(&set!(costs = vec![1; 4])), "contests[0].costs");
    assert_eq!(
        with(&set!(costs = vec![1, 2, 0, 4, 5])),
        "contests[0].costs[2]"
    );
    assert_eq!(
        with(&set!(costs = vec![1, 2, 3, 1_000_001, 5])),
        "contests[0].costs[3]"
    );
    // The four dearest projects cost 1,670,000: a minimum above that leaves no valid
    // choice but the blank vote.
    assert_eq!(
        refused_at(budget_kind(1_670_001, 2_000_000)),
        "contests[0].kind.min_spend"
    );
    assert!(Manifest::new("b", vec![contest(budget_kind(1_670_000, 2_000_000), false)]).is_ok());
    // Exact selection of 41 projects under 2^22 + 1 units is beyond spec/26 §26.3.
    let many = Contest {
        title: "big".into(),
        kind: ContestKind::Budget {
            min_projects: 0,
            max_projects: 41,
            min_spend: 0,
            budget: (1 << 22) + 1,
            rule: SelectionRule::MaxApprovals,
            costs: vec![1; 41],
        },
        blank: false,
        options: (0..41).map(|i| format!("p{i}")).collect(),
    };
    assert_eq!(
        Manifest::new("b", vec![many.clone()]).unwrap_err().field(),
        "contests[0].kind.rule"
    );
    let mut greedy = many;
    if let ContestKind::Budget { rule, .. } = &mut greedy.kind {
        *rule = SelectionRule::Greedy;
    }
    assert!(Manifest::new("b", vec![greedy]).is_ok());

    // Strict decoding: an unknown rule tag and a cost cut short are named.
    let bytes = manifest.to_bytes();
    let mut greedy_kind = budget_kind(0, 1_000_000);
    if let ContestKind::Budget { rule, .. } = &mut greedy_kind {
        *rule = SelectionRule::Greedy;
    }
    let greedy_bytes = Manifest::new("b", vec![contest(greedy_kind, false)])
        .unwrap()
        .to_bytes();
    let differ: Vec<usize> = (0..bytes.len())
        .filter(|&i| bytes[i] != greedy_bytes[i])
        .collect();
    let [rule_at] = differ[..] else {
        panic!("the rule is one byte: {differ:?}")
    };
    assert_eq!((bytes[rule_at], greedy_bytes[rule_at]), (2, 1));
    let mut unknown_rule = bytes.clone();
    unknown_rule[rule_at] = 9;
    assert_eq!(
        Manifest::decode(&unknown_rule).unwrap_err().field(),
        "contests[0].kind.rule"
    );
    assert_eq!(
        Manifest::decode(&bytes[..bytes.len() - 3])
            .unwrap_err()
            .field(),
        "contests[0].costs[4]"
    );
}

#[test]
fn budget_ballots_verify_alone_as_relations_and_in_a_batch() {
    let election = election();
    let mut batch = BatchVerifier::new();
    for (i, projects) in [&[0, 1][..], &[3], &[0, 1, 4], &[1, 2, 4]]
        .iter()
        .enumerate()
    {
        let ballot = cast(&election, projects);
        ballot.verify(&election, &voter()).unwrap();
        assert!(matches!(
            ballot.contests[1].spend_proof,
            Some(SumProof::Bits { .. })
        ));
        assert_eq!(ballot.contests[0].spend_proof, None);
        let bytes = ballot.to_bytes();
        assert_eq!(bytes[0], BALLOT_VERSION_SPEND);
        assert_eq!(Ballot::decode(&bytes).unwrap(), ballot);
        let skim = Ballot::skim(&bytes).unwrap();
        assert_eq!(skim.ciphertexts.len(), 2 + 5 + 1);
        batch.push(i, Ok(ballot.relations(&election, &voter()).unwrap()));
    }
    batch.verify(&mut rand::rng()).unwrap();
    // The blank vote spends min_spend by construction and verifies.
    let blank = vec![
        ContestSelection::single(2, 1).unwrap(),
        ContestSelection::blank(5),
    ];
    let (ballot, _) = Ballot::encrypt(&election, &voter(), &blank, &mut rand::rng()).unwrap();
    ballot.verify(&election, &voter()).unwrap();
    // A narrow spend range (width < 256) is proven by one range proof (tag 1).
    let narrow = election_of(budget_kind(870_000, 870_200));
    let ballot = cast(&narrow, &[0, 1, 2]);
    assert!(matches!(
        ballot.contests[1].spend_proof,
        Some(SumProof::Range(_))
    ));
    ballot.verify(&narrow, &voter()).unwrap();
}

#[test]
fn overspending_and_underspending_cannot_be_encrypted() {
    let election = election();
    let detail = |projects: &[usize]| match Ballot::encrypt(
        &election,
        &voter(),
        &choose(projects),
        &mut rand::rng(),
    ) {
        Err(BallotError::InvalidSelection { contest: 1, detail }) => detail,
        other => panic!("{other:?}"),
    };
    // 300,000 + 450,000 + 800,000 > 1,000,000.
    assert!(
        detail(&[0, 1, 3]).contains("overspend"),
        "{}",
        detail(&[0, 1, 3])
    );
    // 120,000 + 60,000 < 500,000.
    assert!(detail(&[2, 4]).contains("less than"), "{}", detail(&[2, 4]));
    // 450,000 + 60,000 = 510,000 is within.
    cast(&election, &[1, 4]);
}

/// Spliced options change the count's and the spend's ciphertexts: the count proof,
/// checked first, fails; another ballot's spend proof fails on this one. (A ballot whose
/// count proof is honestly remade and only the spend is out of bounds is the unit test
/// `a_borrowed_spend_proof_fails_on_an_overspending_ballot` in src/ballot.rs.)
#[test]
fn spliced_options_and_borrowed_spend_proofs_fail() {
    let election = election();
    let low = cast(&election, &[0, 1]); // 750,000
    let other = cast(&election, &[3]); // 800,000
    // Options of `low` plus the pool of `other`: 1,550,000, over the budget.
    let mut forged = low.clone();
    forged.contests[1].options[3] = other.contests[1].options[3].clone();
    let field = proof_field(refused(&election, &forged));
    assert!(field.starts_with("contests[1].sum_proof"), "{field}");
    let mut swapped = low.clone();
    swapped.contests[1].spend_proof = other.contests[1].spend_proof.clone();
    let field = proof_field(refused(&election, &swapped));
    assert!(field.starts_with("contests[1].spend_proof"), "{field}");
}

/// Spending exactly the minimum or exactly the budget is valid: the bounds are inclusive.
#[test]
fn spending_exactly_a_bound_is_valid() {
    // 450,000 + 300,000 + 120,000 = 870,000, the minimum of the narrow range.
    let narrow = election_of(budget_kind(870_000, 870_200));
    cast(&narrow, &[0, 1, 2]).verify(&narrow, &voter()).unwrap();
    // 300,000 + 450,000 + 120,000 + 60,000 = 930,000, the whole budget.
    let exact = election_of(budget_kind(500_000, 930_000));
    cast(&exact, &[0, 1, 2, 4])
        .verify(&exact, &voter())
        .unwrap();
    // One unit more than the budget cannot be chosen.
    let under = election_of(budget_kind(500_000, 929_999));
    assert!(matches!(
        Ballot::encrypt(&under, &voter(), &choose(&[0, 1, 2, 4]), &mut rand::rng()),
        Err(BallotError::InvalidSelection { contest: 1, .. })
    ));
}

#[test]
fn every_spend_check_fails_alone_and_is_named() {
    let election = election();
    let ballot = cast(&election, &[0, 1]);

    // A byte of each half of the spend proof.
    for half in ["above_min", "below_max"] {
        let mut bad = ballot.clone();
        if let Some(SumProof::Bits {
            above_min,
            below_max,
        }) = &mut bad.contests[1].spend_proof
        {
            let proof = if half == "above_min" {
                above_min
            } else {
                below_max
            };
            let mut bytes = proof.to_bytes();
            let at = bytes.len() - 1;
            bytes[at] ^= 1;
            match urne_crypto::proofs::BitRangeProof::decode(&bytes) {
                Ok(altered) => *proof = altered,
                // A non-canonical scalar: flip a lower byte instead.
                Err(_) => {
                    bytes[at] ^= 1;
                    bytes[at - 8] ^= 1;
                    *proof = urne_crypto::proofs::BitRangeProof::decode(&bytes).unwrap();
                }
            }
        }
        assert_eq!(
            proof_field(refused(&election, &bad)),
            format!("contests[1].spend_proof.{half}")
        );
    }

    // A missing spend proof, and one on a contest without a budget, are shape errors.
    let mut missing = ballot.clone();
    missing.contests[1].spend_proof = None;
    assert!(matches!(
        refused(&election, &missing),
        BallotError::Shape { field, expected: 1, found: 0 } if field == "contests[1].spend_proof"
    ));
    let mut extra = ballot.clone();
    extra.contests[0].spend_proof = ballot.contests[1].spend_proof.clone();
    assert!(matches!(
        refused(&election, &extra),
        BallotError::Shape { field, expected: 0, found: 1 } if field == "contests[0].spend_proof"
    ));

    // A tag-1 proof where the width needs tag 2.
    let narrow = election_of(budget_kind(870_000, 870_200));
    let mut wrong_kind = ballot.clone();
    wrong_kind.contests[1].spend_proof = cast(&narrow, &[0, 1, 2]).contests[1].spend_proof.clone();
    assert!(matches!(
        refused(&election, &wrong_kind),
        BallotError::SumProofKind { field, expected: "bits" } if field == "contests[1].spend_proof"
    ));

    // The spend proof of the same choices under another budget (another election, so
    // another context hash) fails.
    let other_budget = election_of(budget_kind(500_000, 1_000_001));
    let mut moved = ballot.clone();
    moved.contests[1].spend_proof = cast(&other_budget, &[0, 1]).contests[1].spend_proof.clone();
    assert!(proof_field(refused(&election, &moved)).starts_with("contests[1].spend_proof"));
}

/// `Manifest::ballot_len` is the length of every ballot (spec/21 §21.5), for every kind,
/// both sum tags, the blank vote and the spend proof.
#[test]
fn the_ballot_length_is_fixed_by_the_manifest() {
    for election in [
        election(),
        election_of(budget_kind(870_000, 870_200)),
        election_of(budget_kind(0, 2_000_000)),
    ] {
        let expected = election.manifest().ballot_len();
        for projects in [&[0usize][..], &[0, 2], &[1, 2, 4]] {
            let Ok((ballot, _)) =
                Ballot::encrypt(&election, &voter(), &choose(projects), &mut rand::rng())
            else {
                continue;
            };
            assert_eq!(ballot.to_bytes().len(), expected);
        }
        let blank = vec![
            ContestSelection::single(2, 1).unwrap(),
            ContestSelection::blank(5),
        ];
        let (ballot, _) = Ballot::encrypt(&election, &voter(), &blank, &mut rand::rng()).unwrap();
        assert_eq!(ballot.to_bytes().len(), expected);
    }
    let plain = Manifest::new(
        "p",
        vec![Contest {
            title: "c".into(),
            kind: ContestKind::Cumulative {
                per_option_max: 200,
                min_total: 1,
                max_total: 400,
            },
            blank: true,
            options: vec!["a".into(), "b".into()],
        }],
    )
    .unwrap();
    let key = SecretKey::generate(&mut rand::rng()).public_key();
    let election = Election::new(ContextInputs {
        manifest: &plain,
        joint_key: &key,
        credential_root: &[7; 32],
        board_origin: "o",
        context_id: &[5; 32],
    })
    .unwrap();
    let (ballot, _) = Ballot::encrypt(
        &election,
        &voter(),
        &[ContestSelection::values(vec![150, 7])],
        &mut rand::rng(),
    )
    .unwrap();
    assert_eq!(ballot.to_bytes().len(), plain.ballot_len());
}

#[test]
fn version_two_is_the_one_encoding_of_a_ballot_with_a_spend_proof() {
    let election = election();
    let ballot = cast(&election, &[0, 1]);
    let bytes = ballot.to_bytes();
    // Read as version 1, the flags and spend proofs are trailing garbage or misread.
    let mut as_v1 = bytes.clone();
    as_v1[0] = BALLOT_VERSION;
    assert!(Ballot::decode(&as_v1).is_err());
    assert_eq!(Ballot::skim(&as_v1), None);
    // A ballot without spend proofs written as version 2 (no spend bit set) is refused:
    // its one encoding is version 1.
    let mut plain = ballot.clone();
    plain.contests[1].spend_proof = None;
    let v1 = plain.to_bytes();
    assert_eq!(v1[0], BALLOT_VERSION);
    let header = 1 + 32 + 32 + 2;
    let mut v2 = v1.clone();
    v2[0] = BALLOT_VERSION_SPEND;
    v2.insert(header, 0);
    assert_eq!(Ballot::decode(&v2).unwrap_err().field(), "version");
    // A spend bit past the last contest (2 contests: bits 2 to 7 of the mask byte).
    let mut stray = bytes.clone();
    assert_eq!(stray[header], 0b0100_0000, "contest 1's spend bit");
    stray[header] |= 0b0010_0000;
    assert_eq!(Ballot::decode(&stray).unwrap_err().field(), "spends");
    // The bit of a contest without a spend proof, or without the bit of one with it.
    let mut moved = bytes.clone();
    moved[header] = 0b1000_0000;
    assert!(Ballot::decode(&moved).is_err());
    assert_eq!(Ballot::skim(&moved), None);
}

#[test]
fn an_audit_of_a_budget_ballot_checks_the_spend_rule() {
    let election = election();
    let (ballot, secrets) =
        Ballot::encrypt(&election, &voter(), &choose(&[0, 1]), &mut rand::rng()).unwrap();
    let audited = secrets.audit(&ballot);
    check_audit(&election, &ballot, &audited).unwrap();
    let shown = audited.selections();
    assert_eq!(shown[1].option_values(), &[1, 1, 0, 0, 0]);
}
