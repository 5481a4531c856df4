//! Ballots end to end: encodings, verification, tampering, copying, audits, batches.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT;
use urne_ballot::{
    AuditError, AuditedBallot, Ballot, BallotError, Contest, ContestKind, ContestSelection,
    ContextInputs, CredentialKey, Election, Manifest, Problem, SumProof, TrackingCode, check_audit,
};
use urne_crypto::{BatchVerifier, Ciphertext, Point, PublicKey, Scalar, SecretKey, VerifyError};

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
                title: "Council".into(),
                kind: ContestKind::Approval { min: 1, max: 2 },
                blank: false,
                options: vec!["A".into(), "B".into(), "C".into(), "D".into()],
            },
            Contest {
                title: "Priorities".into(),
                kind: ContestKind::Cumulative {
                    per_option_max: 3,
                    min_total: 2,
                    max_total: 5,
                },
                blank: true,
                options: vec!["Parks".into(), "Roads".into(), "Schools".into()],
            },
        ],
    )
    .unwrap()
}

fn election_with(manifest: &Manifest, key: &PublicKey, context_id: [u8; 32]) -> Election {
    Election::new(ContextInputs {
        manifest,
        joint_key: key,
        credential_root: &[7; 32],
        board_origin: "board.example/urne",
        context_id: &context_id,
    })
    .unwrap()
}

fn election() -> Election {
    let key = SecretKey::generate(&mut rand::rng()).public_key();
    election_with(&manifest(), &key, [9; 32])
}

/// Two options of up to 130 points, 1 to 260 in total: wider than one disjunctive proof,
/// so the sum is proven by two bit-range proofs.
fn wide_election() -> Election {
    let manifest = Manifest::new(
        "Budget points",
        vec![Contest {
            title: "Points".into(),
            kind: ContestKind::Cumulative {
                per_option_max: 130,
                min_total: 1,
                max_total: 260,
            },
            blank: true,
            options: vec!["Library".into(), "Pool".into()],
        }],
    )
    .unwrap();
    let key = SecretKey::generate(&mut rand::rng()).public_key();
    election_with(&manifest, &key, [3; 32])
}

fn alice() -> CredentialKey {
    CredentialKey([0xa1; 32])
}

fn mallory() -> CredentialKey {
    CredentialKey([0x66; 32])
}

fn valid_selections() -> Vec<ContestSelection> {
    vec![
        ContestSelection::single(3, 1).unwrap(),
        ContestSelection::approve(4, &[0, 3]).unwrap(),
        ContestSelection::values(vec![3, 0, 2]),
    ]
}

fn cast(
    election: &Election,
    credential: &CredentialKey,
    selections: &[ContestSelection],
) -> Ballot {
    Ballot::encrypt(election, credential, selections, &mut rand::rng())
        .unwrap()
        .0
}

#[test]
fn valid_ballots_of_every_kind_verify_alone_and_as_relations() {
    let election = election();
    let blank = vec![
        ContestSelection::blank(3),
        ContestSelection::approve(4, &[2]).unwrap(),
        ContestSelection::blank(3),
    ];
    for selections in [valid_selections(), blank] {
        let ballot = cast(&election, &alice(), &selections);
        ballot.verify(&election, &alice()).unwrap();
        ballot
            .relations(&election, &alice())
            .unwrap()
            .check()
            .unwrap();
        assert!(matches!(ballot.contests[0].sum_proof, SumProof::Range(_)));
    }
}

fn points(library: u64, pool: u64) -> Vec<ContestSelection> {
    vec![ContestSelection::values(vec![library, pool])]
}

#[test]
fn wide_sums_are_proven_by_bit_ranges_on_both_sides() {
    let election = wide_election();
    for selection in [
        points(1, 0),
        points(130, 130),
        points(0, 77),
        vec![ContestSelection::blank(2)],
    ] {
        let ballot = cast(&election, &alice(), &selection);
        assert!(matches!(
            ballot.contests[0].sum_proof,
            SumProof::Bits { .. }
        ));
        ballot.verify(&election, &alice()).unwrap();
        ballot
            .relations(&election, &alice())
            .unwrap()
            .check()
            .unwrap();
        let bytes = ballot.to_bytes();
        assert_eq!(Ballot::decode(&bytes).unwrap().to_bytes(), bytes);
    }
    for (selection, detail) in [(points(0, 0), "undervote"), (points(131, 0), "per-option")] {
        match Ballot::encrypt(&election, &alice(), &selection, &mut rand::rng()) {
            Err(BallotError::InvalidSelection { detail: d, .. }) => assert!(d.contains(detail)),
            other => panic!("{other:?}"),
        }
    }
    // One bit proof altered.
    let ballot = cast(&election, &alice(), &points(3, 4));
    let mut bad = ballot.clone();
    if let SumProof::Bits { below_max, .. } = &mut bad.contests[0].sum_proof {
        below_max.bits[4].branches[1].z = Scalar::from_u64(1);
    }
    match bad.verify(&election, &alice()) {
        Err(BallotError::Proof { field, .. }) => {
            assert_eq!(field, "contests[0].sum_proof.below_max")
        }
        other => panic!("{other:?}"),
    }
    // A blank vote with points spliced in from another ballot of the same voter.
    let blank = cast(&election, &alice(), &[ContestSelection::blank(2)]);
    let mut forged = blank.clone();
    splice(&mut forged, &ballot, 0, 1);
    match forged.verify(&election, &alice()) {
        Err(BallotError::Proof { field, .. }) => {
            assert!(field.starts_with("contests[0].sum_proof."), "{field}")
        }
        other => panic!("{other:?}"),
    }
    // A range proof where the contest needs bit proofs.
    let narrow = cast(&self::election(), &alice(), &valid_selections());
    let mut kind = ballot.clone();
    kind.contests[0].sum_proof = narrow.contests[2].sum_proof.clone();
    assert_eq!(
        kind.verify(&election, &alice()),
        Err(BallotError::SumProofKind {
            field: "contests[0].sum_proof".into(),
            expected: "bits"
        })
    );
}

#[test]
fn ballot_round_trips_through_its_bytes() {
    let election = election();
    let ballot = cast(&election, &alice(), &valid_selections());
    let bytes = ballot.to_bytes();
    let decoded = Ballot::decode(&bytes).unwrap();
    assert_eq!(decoded, ballot);
    assert_eq!(decoded.to_bytes(), bytes);
    decoded.verify(&election, &alice()).unwrap();
    assert_eq!(TrackingCode::of(&ballot), TrackingCode::of_bytes(&bytes));
}

#[test]
fn ballot_decoding_is_strict_and_names_the_field() {
    let election = election();
    let ballot = cast(&election, &alice(), &valid_selections());
    let bytes = ballot.to_bytes();

    let mut long = bytes.clone();
    long.push(0);
    let e = Ballot::decode(&long).unwrap_err();
    assert_eq!(
        (e.field(), e.problem()),
        ("end", &Problem::TrailingBytes { count: 1 })
    );
    for cut in (0..bytes.len()).step_by(13) {
        assert!(Ballot::decode(&bytes[..cut]).is_err(), "cut at {cut}");
    }
    let mut v3 = bytes.clone();
    v3[0] = 3;
    assert_eq!(
        Ballot::decode(&v3).unwrap_err().problem(),
        &Problem::UnsupportedVersion { found: 3 }
    );
    // Version 2 (ballots with a spend proof, tests/budget.rs) reads a spend bit per
    // contest after the count: here the first options count's high byte, 0, so no spend
    // proof, which version 2 is not for.
    let mut v2 = bytes.clone();
    v2[0] = 2;
    assert_eq!(Ballot::decode(&v2).unwrap_err().field(), "version");

    // A non-canonical scalar inside contest 1, option 3's proof is named down to the field.
    let proof = ballot.contests[1].options[3].proof.to_bytes();
    let at = bytes.windows(proof.len()).position(|w| w == proof).unwrap();
    let mut bad = bytes.clone();
    // version ‖ A ‖ B ‖ c: the challenge c of branch 0 starts at byte 65.
    bad[at + 65..at + 97].fill(0xff);
    let e = Ballot::decode(&bad).unwrap_err();
    assert_eq!(e.field(), "contests[1].options[3].proof.branches[0].c");

    // The blank flag of contest 1 (no blank vote) follows its last option.
    let after_proof = at + proof.len();
    let mut flag = bytes.clone();
    assert_eq!(flag[after_proof], 0);
    flag[after_proof] = 7;
    assert_eq!(
        Ballot::decode(&flag).unwrap_err().field(),
        "contests[1].blank"
    );
    let mut tag = bytes.clone();
    tag[after_proof + 1] = 3;
    let e = Ballot::decode(&tag).unwrap_err();
    assert_eq!(
        (e.field(), e.problem()),
        ("contests[1].sum_proof", &Problem::UnknownTag { found: 3 })
    );
}

#[test]
fn ballot_with_any_altered_byte_is_rejected() {
    let election = election();
    let selections = vec![
        ContestSelection::single(3, 0).unwrap(),
        ContestSelection::approve(4, &[1]).unwrap(),
        ContestSelection::values(vec![1, 1, 0]),
    ];
    let bytes = cast(&election, &alice(), &selections).to_bytes();
    // Every byte is covered by some check: the header by the context and credential
    // checks, lengths and tags by the decoder, points and scalars by the proofs. Every
    // 29th byte (co-prime to every field size) keeps the test short.
    for i in (0..bytes.len()).step_by(29) {
        let mut bad = bytes.clone();
        bad[i] ^= 0x01;
        let outcome = Ballot::decode(&bad)
            .map_err(BallotError::from)
            .and_then(|b| b.verify(&election, &alice()));
        assert!(outcome.is_err(), "byte {i} altered and still accepted");
    }
}

#[test]
fn ballot_with_altered_proof_is_rejected_and_named() {
    let election = election();
    let ballot = cast(&election, &alice(), &valid_selections());
    let mut bad = ballot.clone();
    let z = &mut bad.contests[2].options[1].proof.branches[2].z;
    *z = Scalar::from_dalek(z.as_dalek() + curve25519_dalek::Scalar::ONE);
    match bad.verify(&election, &alice()) {
        Err(BallotError::Proof {
            field,
            error: VerifyError::EquationFailed { .. },
        }) => {
            assert_eq!(field, "contests[2].options[1].proof")
        }
        other => panic!("{other:?}"),
    }
    assert!(bad.relations(&election, &alice()).unwrap().check().is_err());

    let mut bad = ballot.clone();
    if let SumProof::Range(proof) = &mut bad.contests[1].sum_proof {
        proof.branches[0].A = Point::from_ristretto(RISTRETTO_BASEPOINT_POINT);
    }
    match bad.verify(&election, &alice()) {
        Err(BallotError::Proof { field, .. }) => assert_eq!(field, "contests[1].sum_proof"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_selection_naming_no_option_or_one_twice_is_refused() {
    assert!(ContestSelection::approve(4, &[0, 4]).is_none());
    assert!(ContestSelection::approve(4, &[1, 1]).is_none());
    assert!(ContestSelection::single(3, 3).is_none());
    assert_eq!(
        ContestSelection::approve(4, &[3, 0])
            .unwrap()
            .option_values(),
        &[1, 0, 0, 1]
    );
}

#[test]
fn overvote_undervote_and_over_max_cannot_be_encrypted() {
    let election = election();
    let refuse = |contest: usize, selection: ContestSelection| {
        let mut selections = valid_selections();
        selections[contest] = selection;
        match Ballot::encrypt(&election, &alice(), &selections, &mut rand::rng()) {
            Err(BallotError::InvalidSelection { contest: c, detail }) => {
                assert_eq!(c, contest);
                detail
            }
            other => panic!("{other:?}"),
        }
    };
    assert!(refuse(0, ContestSelection::approve(3, &[0, 1]).unwrap()).contains("overvote"));
    assert!(refuse(0, ContestSelection::values(vec![0, 0, 0])).contains("undervote"));
    assert!(refuse(1, ContestSelection::approve(4, &[0, 1, 2]).unwrap()).contains("overvote"));
    assert!(refuse(1, ContestSelection::blank(4)).contains("no blank"));
    assert!(refuse(2, ContestSelection::values(vec![4, 0, 0])).contains("per-option"));
    assert!(refuse(2, ContestSelection::values(vec![3, 3, 0])).contains("overvote"));
    assert!(refuse(2, ContestSelection::values(vec![1, 0, 0])).contains("undervote"));
    assert!(refuse(0, ContestSelection::values(vec![2, 0, 0])).contains("per-option"));
    assert!(refuse(1, ContestSelection::values(vec![1, 0])).contains("one value per option"));
}

/// Option `o` of contest `c` taken from another ballot of the same voter: its own proof
/// verifies (same election, credential, contest and option), so only the contest's sum
/// proof can catch a forged total.
fn splice(into: &mut Ballot, from: &Ballot, c: usize, o: usize) {
    into.contests[c].options[o] = from.contests[c].options[o].clone();
}

fn sum_proof_fails(ballot: &Ballot, election: &Election, contest: usize) {
    match ballot.verify(election, &alice()) {
        Err(BallotError::Proof { field, .. }) => {
            assert!(
                field.starts_with(&format!("contests[{contest}].sum_proof")),
                "{field}"
            )
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn forged_overvote_and_undervote_fail_verification() {
    let election = election();
    let base = cast(&election, &alice(), &valid_selections());
    let mut others = valid_selections();
    others[0] = ContestSelection::single(3, 0).unwrap();
    others[1] = ContestSelection::approve(4, &[1, 2]).unwrap();
    others[2] = ContestSelection::values(vec![0, 3, 0]);
    let other = cast(&election, &alice(), &others);

    // Mayor: Grace (base) and Ada (other) → two choices in a single-choice contest.
    let mut two_mayors = base.clone();
    splice(&mut two_mayors, &other, 0, 0);
    sum_proof_fails(&two_mayors, &election, 0);
    // Council: A, D (base) + B (other) → three of at most two.
    let mut overvote = base.clone();
    splice(&mut overvote, &other, 1, 1);
    sum_proof_fails(&overvote, &election, 1);
    // Council: A and D replaced by zeros → none of at least one.
    let mut undervote = base.clone();
    splice(&mut undervote, &other, 1, 0);
    let zero_d = cast(
        &election,
        &alice(),
        &[
            ContestSelection::single(3, 1).unwrap(),
            ContestSelection::approve(4, &[0]).unwrap(),
            ContestSelection::values(vec![3, 0, 2]),
        ],
    );
    splice(&mut undervote, &zero_d, 1, 3);
    sum_proof_fails(&undervote, &election, 1);
    // Priorities: 3 + 3 + 2 = 8 points of at most 5.
    let mut too_many_points = base.clone();
    splice(&mut too_many_points, &other, 2, 1);
    sum_proof_fails(&too_many_points, &election, 2);
}

#[test]
fn forged_blank_with_a_choice_fails_verification() {
    let election = election();
    let mut blank = valid_selections();
    blank[0] = ContestSelection::blank(3);
    let blank = cast(&election, &alice(), &blank);
    let chosen = cast(&election, &alice(), &valid_selections());
    let mut both = blank.clone();
    splice(&mut both, &chosen, 0, 1);
    sum_proof_fails(&both, &election, 0);
}

#[test]
fn per_option_over_max_fails_verification() {
    let election = election();
    let ballot = cast(&election, &alice(), &valid_selections());
    // Option 0 of "Priorities" holds 3 (the maximum); β + G makes it 4.
    let mut bad = ballot.clone();
    let option = &mut bad.contests[2].options[0];
    option.ciphertext = Ciphertext::new(
        *option.ciphertext.alpha(),
        Point::from_ristretto(option.ciphertext.beta().as_ristretto() + RISTRETTO_BASEPOINT_POINT),
    );
    match bad.verify(&election, &alice()) {
        Err(BallotError::Proof { field, .. }) => assert_eq!(field, "contests[2].options[0].proof"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn ballot_copied_under_another_credential_fails() {
    let election = election();
    let ballot = cast(&election, &alice(), &valid_selections());
    // Cast as is by Mallory: the ballot names Alice.
    assert_eq!(
        ballot.verify(&election, &mallory()),
        Err(BallotError::WrongCredential)
    );
    // Relabelled for Mallory: every proof was bound to Alice's credential.
    let mut copied = ballot.clone();
    copied.credential = mallory();
    match copied.verify(&election, &mallory()) {
        Err(BallotError::Proof { field, .. }) => assert_eq!(field, "contests[0].options[0].proof"),
        other => panic!("{other:?}"),
    }
    assert!(
        copied
            .relations(&election, &mallory())
            .and_then(|r| r.check().map_err(|error| BallotError::Proof {
                field: String::new(),
                error
            }))
            .is_err()
    );
}

#[test]
fn ballot_from_another_election_fails() {
    let key = SecretKey::generate(&mut rand::rng()).public_key();
    let first = election_with(&manifest(), &key, [1; 32]);
    let second = election_with(&manifest(), &key, [2; 32]);
    let ballot = cast(&first, &alice(), &valid_selections());
    assert_eq!(
        ballot.verify(&second, &alice()),
        Err(BallotError::WrongElection)
    );
    let mut replayed = ballot.clone();
    replayed.context = *second.context();
    assert!(matches!(
        replayed.verify(&second, &alice()),
        Err(BallotError::Proof { .. })
    ));
    assert!(
        replayed
            .relations(&second, &alice())
            .and_then(|r| r.check().map_err(|error| BallotError::Proof {
                field: String::new(),
                error
            }))
            .is_err()
    );
}

#[test]
fn context_hash_depends_on_every_input() {
    let key = SecretKey::generate(&mut rand::rng()).public_key();
    let other_key = SecretKey::generate(&mut rand::rng()).public_key();
    let m = manifest();
    let mut m2_contests = m.contests().to_vec();
    m2_contests[1].options[0] = "A.".into();
    let m2 = Manifest::new(m.title(), m2_contests).unwrap();
    let base = ContextInputs {
        manifest: &m,
        joint_key: &key,
        credential_root: &[7; 32],
        board_origin: "board.example/urne",
        context_id: &[9; 32],
    };
    let h = base.hash().unwrap();
    let variants = [
        ContextInputs {
            manifest: &m2,
            ..base
        },
        ContextInputs {
            joint_key: &other_key,
            ..base
        },
        ContextInputs {
            credential_root: &[8; 32],
            ..base
        },
        ContextInputs {
            board_origin: "board.example/urnf",
            ..base
        },
        ContextInputs {
            context_id: &[10; 32],
            ..base
        },
    ];
    for (i, v) in variants.iter().enumerate() {
        assert_ne!(v.hash().unwrap(), h, "input {i}");
    }
    let long = "x".repeat(70_000);
    assert!(
        ContextInputs {
            board_origin: &long,
            ..base
        }
        .hash()
        .is_none()
    );
}

#[test]
fn wrong_shape_and_wrong_sum_proof_kind_are_named() {
    let election = election();
    let ballot = cast(&election, &alice(), &valid_selections());
    let mut short = ballot.clone();
    short.contests[1].options.pop();
    assert_eq!(
        short.verify(&election, &alice()),
        Err(BallotError::Shape {
            field: "contests[1].options".into(),
            expected: 4,
            found: 3
        })
    );
    let mut no_blank = ballot.clone();
    no_blank.contests[0].blank = None;
    assert_eq!(
        no_blank.verify(&election, &alice()),
        Err(BallotError::Shape {
            field: "contests[0].blank".into(),
            expected: 1,
            found: 0
        })
    );
    let mut fewer = ballot.clone();
    fewer.contests.pop();
    assert!(matches!(
        fewer.relations(&election, &alice()),
        Err(BallotError::Shape { .. })
    ));
}

#[test]
fn audit_accepts_the_true_opening_and_round_trips() {
    let election = election();
    let selections = valid_selections();
    let (ballot, secrets) =
        Ballot::encrypt(&election, &alice(), &selections, &mut rand::rng()).unwrap();
    let audited = secrets.audit(&ballot);
    check_audit(&election, &ballot, &audited).unwrap();
    let bytes = audited.to_bytes();
    let decoded = AuditedBallot::decode(&bytes).unwrap();
    assert_eq!(decoded, audited);
    assert_eq!(decoded.to_bytes(), bytes);
    let shown = decoded.selections();
    for (shown, chosen) in shown.iter().zip(&selections) {
        assert_eq!(shown.option_values(), chosen.option_values());
        assert_eq!(shown.is_blank(), chosen.is_blank());
    }
    let mut long = bytes.clone();
    long.push(0);
    assert_eq!(AuditedBallot::decode(&long).unwrap_err().field(), "end");
    let mut bad_nonce = bytes.clone();
    // version ‖ code ‖ u16 ‖ u16 ‖ value(8): the first nonce.
    bad_nonce[1 + 32 + 2 + 2 + 8..1 + 32 + 2 + 2 + 40].fill(0xff);
    assert_eq!(
        AuditedBallot::decode(&bad_nonce).unwrap_err().field(),
        "contests[0].options[0].nonce"
    );
}

#[test]
fn audit_refuses_any_altered_choice_or_nonce() {
    let election = election();
    let (ballot, secrets) =
        Ballot::encrypt(&election, &alice(), &valid_selections(), &mut rand::rng()).unwrap();
    let audited = secrets.audit(&ballot);
    let mismatch = |a: &AuditedBallot, field: &str| {
        assert_eq!(
            check_audit(&election, &ballot, a),
            Err(AuditError::Mismatch {
                field: field.into()
            })
        );
    };
    // The device showed Ada, but encrypted Grace.
    let mut shown = audited.clone();
    shown.contests[0].options[0].0 = 1;
    mismatch(&shown, "contests[0].options[0]");
    let mut shown = audited.clone();
    shown.contests[0].options[1].0 = 0;
    mismatch(&shown, "contests[0].options[1]");
    let mut shown = audited.clone();
    shown.contests[0].blank.as_mut().unwrap().0 = 1;
    mismatch(&shown, "contests[0].blank");
    for (c, o) in [(1, 2), (2, 0), (2, 2)] {
        let mut nonce = audited.clone();
        let n = &mut nonce.contests[c].options[o].1;
        *n = Scalar::from_dalek(n.as_dalek() + curve25519_dalek::Scalar::ONE);
        mismatch(&nonce, &format!("contests[{c}].options[{o}]"));
        let mut value = audited.clone();
        value.contests[c].options[o].0 += 1;
        mismatch(&value, &format!("contests[{c}].options[{o}]"));
    }
    // The opening of another ballot.
    let other = cast(&election, &alice(), &valid_selections());
    assert_eq!(
        check_audit(&election, &other, &audited),
        Err(AuditError::TrackingCodeMismatch)
    );
    let mut short = audited.clone();
    short.contests[2].options.pop();
    assert!(matches!(
        check_audit(&election, &ballot, &short),
        Err(AuditError::Shape { .. })
    ));
}

#[test]
fn batch_verification_over_many_ballots_names_the_bad_one() {
    let election = election();
    let mut batch = BatchVerifier::new();
    let credentials: Vec<CredentialKey> = (0..12u8).map(|i| CredentialKey([i; 32])).collect();
    for (i, credential) in credentials.iter().enumerate() {
        let mut ballot = cast(&election, credential, &valid_selections());
        if i == 7 {
            let z = &mut ballot.contests[1].options[2].proof.branches[0].z;
            *z = Scalar::from_dalek(z.as_dalek() + curve25519_dalek::Scalar::ONE);
        }
        // A ballot copied from voter 2 under voter 10's credential.
        if i == 10 {
            ballot = cast(&election, &credentials[2], &valid_selections());
            ballot.credential = *credential;
        }
        let bytes = ballot.to_bytes();
        // Checks outside the equations (a challenge sum) fail before the batch; the
        // board pushes them as failures so the report keeps submission order.
        match Ballot::decode(&bytes)
            .unwrap()
            .relations(&election, credential)
        {
            Ok(relations) => batch.push(i, Ok(relations)),
            Err(BallotError::Proof { error, .. }) => batch.push(i, Err(error)),
            Err(other) => panic!("{other:?}"),
        }
    }
    let failure = batch.verify(&mut rand::rng()).unwrap_err();
    let guilty: Vec<usize> = failure.failures.iter().map(|(i, _)| *i).collect();
    assert_eq!(guilty, vec![7, 10]);

    let mut clean = BatchVerifier::new();
    for (i, credential) in credentials.iter().take(4).enumerate() {
        let ballot = cast(&election, credential, &valid_selections());
        clean.push(i, Ok(ballot.relations(&election, credential).unwrap()));
    }
    clean.verify(&mut rand::rng()).unwrap();
}

#[test]
fn tracking_code_changes_with_every_ballot() {
    let election = election();
    let a = cast(&election, &alice(), &valid_selections());
    let b = cast(&election, &alice(), &valid_selections());
    assert_ne!(TrackingCode::of(&a), TrackingCode::of(&b));
    let code = TrackingCode::of(&a);
    assert!(code.matches_short(&code.short()));
    assert!(!TrackingCode::of(&b).matches_short(&code.short()));
}

/// Ballots made from given nonces are pinned: a change to an encoding, a binding, a
/// transcript or the nonce order (spec/21-ballots.md §21.9) changes this tracking code,
/// and old ballots would stop verifying.
#[cfg(feature = "hazmat")]
#[test]
fn ballot_from_given_nonces_is_pinned() {
    let manifest = Manifest::new(
        "T",
        vec![
            Contest {
                title: "Q".into(),
                kind: ContestKind::SingleChoice,
                blank: true,
                options: vec!["a".into(), "b".into()],
            },
            Contest {
                title: "R".into(),
                kind: ContestKind::Cumulative {
                    per_option_max: 130,
                    min_total: 1,
                    max_total: 260,
                },
                blank: false,
                options: vec!["x".into(), "y".into()],
            },
        ],
    )
    .unwrap();
    let key = PublicKey::from_point(urne_crypto::group::basepoint()).unwrap();
    let election = election_with(&manifest, &key, [9; 32]);
    let selections = [
        ContestSelection::single(2, 1).unwrap(),
        ContestSelection::values(vec![100, 30]),
    ];
    let nonces = |n: u64| -> Vec<urne_crypto::SecretScalar> {
        (1..=n).map(urne_crypto::SecretScalar::from_u64).collect()
    };
    // Contest 0: 2 options × (1 + 4), blank 1 + 4, sum [1, 1] 2. Contest 1: 2 × (1 + 262),
    // sum 260 − 1 = 259 needs k = 9 bits: 2 × (8 + 36).
    let expected = 2 * 5 + 5 + 2 + 2 * 263 + 2 * 44;
    match Ballot::encrypt_with_nonces(&election, &alice(), &selections, &nonces(expected + 1)) {
        Err(BallotError::Prove { field, .. }) => assert_eq!(field, "nonces"),
        other => panic!("{other:?}"),
    }
    assert!(
        Ballot::encrypt_with_nonces(&election, &alice(), &selections, &nonces(expected - 1))
            .is_err()
    );
    let (ballot, secrets) =
        Ballot::encrypt_with_nonces(&election, &alice(), &selections, &nonces(expected)).unwrap();
    ballot.verify(&election, &alice()).unwrap();
    let audited = secrets.audit(&ballot);
    check_audit(&election, &ballot, &audited).unwrap();
    assert_eq!(
        audited.contests[1].options[1],
        (30, Scalar::from_u64(2 * 5 + 5 + 2 + 263 + 1))
    );
    assert_eq!(
        TrackingCode::of(&ballot).to_hex(),
        "827387be616b17968bba196e6d43a0c8b3562f8058767a3e2b096472dc6c3c71"
    );
}

#[test]
fn ballot_size_follows_the_layout_of_the_spec() {
    // spec/21 §21.5 for one approval contest of 10 options, sum [0, 10]: header 67,
    // u16 count, 10 × (ciphertext 64 + u32 + proof 1 + 2·128), blank flag, sum tag, u32 and
    // proof 1 + 11·128.
    let manifest = Manifest::new(
        "t",
        vec![Contest {
            title: "c".into(),
            kind: ContestKind::Approval { min: 0, max: 10 },
            blank: false,
            options: (0..10).map(|i| format!("o{i}")).collect(),
        }],
    )
    .unwrap();
    let key = SecretKey::generate(&mut rand::rng()).public_key();
    let election = election_with(&manifest, &key, [1; 32]);
    let ballot = cast(
        &election,
        &alice(),
        &[ContestSelection::approve(10, &[2, 5]).unwrap()],
    );
    let expected = 1 + 32 + 32 + 2 + 2 + 10 * (64 + 4 + 1 + 2 * 128) + 1 + 1 + 4 + 1 + 11 * 128;
    assert_eq!(expected, 4734);
    assert_eq!(ballot.to_bytes().len(), expected);
}

/// Every proof binds its contest index, its option index and its role (spec/21 §21.5).
/// Each move below keeps every statement true and every sum unchanged, so a binding that
/// left out the index or role moved would let it pass while the vote changes.
#[test]
fn proofs_moved_to_another_option_contest_or_role_fail() {
    let twin = |title: &str| Contest {
        title: title.into(),
        kind: ContestKind::SingleChoice,
        blank: true,
        options: vec!["a".into(), "b".into(), "c".into()],
    };
    let manifest = Manifest::new("Twins", vec![twin("First"), twin("Second")]).unwrap();
    let key = SecretKey::generate(&mut rand::rng()).public_key();
    let election = election_with(&manifest, &key, [4; 32]);
    let ballot = cast(
        &election,
        &alice(),
        &[
            ContestSelection::single(3, 0).unwrap(),
            ContestSelection::blank(3),
        ],
    );
    ballot.verify(&election, &alice()).unwrap();
    let fails_at = |forged: &Ballot, expected: &str| match forged.verify(&election, &alice()) {
        Err(BallotError::Proof { field, .. }) => assert_eq!(field, expected),
        other => panic!("{expected}: {other:?}"),
    };

    // Options a and b swapped: the vote moves from a to b.
    let mut moved = ballot.clone();
    moved.contests[0].options.swap(0, 1);
    fails_at(&moved, "contests[0].options[0].proof");
    // The two contests swapped: the blank vote moves to the first.
    let mut moved = ballot.clone();
    moved.contests.swap(0, 1);
    fails_at(&moved, "contests[0].options[0].proof");
    // The blank vote and option c swapped (the sum weighs the blank by max = 1): blank
    // becomes a vote for c.
    let mut moved = ballot.clone();
    let contest = &mut moved.contests[1];
    let blank = contest.blank.take().unwrap();
    contest.blank = Some(core::mem::replace(&mut contest.options[2], blank));
    fails_at(&moved, "contests[1].options[2].proof");
}

/// spec/21 §21.5 and §21.8 bounds: 1 to 64 contests, 1 to 256 options, in ballots and
/// audited ballots alike. A count at its bound is read on (and the body, cut short there,
/// is found truncated further on); one past it, or zero, is refused at the count.
#[test]
fn contest_and_option_counts_are_bounded_at_both_ends() {
    let out_of_bounds = |e: urne_ballot::DecodeError| {
        matches!(e.problem(), Problem::OutOfBounds { .. })
            .then(|| e.field().to_owned())
            .unwrap_or_else(|| format!("{:?} at {}", e.problem(), e.field()))
    };
    // version ‖ ctx ‖ credential (ballots) or version ‖ code (audits), then counts.
    for (name, head) in [("ballot", 1 + 32 + 32), ("audited", 1 + 32)] {
        let decode = |contests: u16, options: Option<u16>| {
            let mut bytes = vec![1u8];
            bytes.resize(head, 0);
            bytes.extend_from_slice(&contests.to_be_bytes());
            if let Some(options) = options {
                bytes.extend_from_slice(&options.to_be_bytes());
            }
            if name == "ballot" {
                Ballot::decode(&bytes).map(|_| ()).unwrap_err()
            } else {
                AuditedBallot::decode(&bytes).map(|_| ()).unwrap_err()
            }
        };
        for contests in [0, 65] {
            assert_eq!(out_of_bounds(decode(contests, None)), "contests", "{name}");
        }
        for contests in [1, 64] {
            let e = decode(contests, None);
            assert!(
                matches!(e.problem(), Problem::Truncated { .. }),
                "{name} {e}"
            );
            assert_eq!(e.field(), "contests[0].options", "{name}");
        }
        for options in [0, 257] {
            assert_eq!(
                out_of_bounds(decode(1, Some(options))),
                "contests[0].options",
                "{name}"
            );
        }
        let e = decode(1, Some(256));
        assert!(
            matches!(e.problem(), Problem::Truncated { .. }),
            "{name} {e}"
        );
        assert!(
            e.field().starts_with("contests[0].options[0]"),
            "{name} {e}"
        );
    }
}

/// spec/21 §21.4: the sum proof is one disjunctive range exactly when max − min < 256,
/// whatever min is.
#[test]
fn the_sum_proof_kind_follows_the_width_of_the_range_exactly() {
    let key = SecretKey::generate(&mut rand::rng()).public_key();
    for (min, max, values, range) in [
        (0, 255, vec![255, 0], true),
        (0, 256, vec![255, 1], false),
        (200, 300, vec![150, 100], true),
    ] {
        let manifest = Manifest::new(
            "t",
            vec![Contest {
                title: "points".into(),
                kind: ContestKind::Cumulative {
                    per_option_max: 255,
                    min_total: min,
                    max_total: max,
                },
                blank: false,
                options: vec!["a".into(), "b".into()],
            }],
        )
        .unwrap();
        let election = election_with(&manifest, &key, [6; 32]);
        let ballot = cast(&election, &alice(), &[ContestSelection::values(values)]);
        ballot.verify(&election, &alice()).unwrap();
        assert_eq!(
            matches!(ballot.contests[0].sum_proof, SumProof::Range(_)),
            range,
            "[{min}, {max}]"
        );
    }
}

/// spec/21 §21.8: an honest blank vote (shown value 1) passes the audit.
#[test]
fn the_audit_of_an_honest_blank_vote_passes() {
    let election = election();
    let mut selections = valid_selections();
    selections[0] = ContestSelection::blank(3);
    let (ballot, secrets) =
        Ballot::encrypt(&election, &alice(), &selections, &mut rand::rng()).unwrap();
    let audited = secrets.audit(&ballot);
    assert_eq!(audited.contests[0].blank.map(|(v, _)| v), Some(1));
    check_audit(&election, &ballot, &audited).unwrap();
}
