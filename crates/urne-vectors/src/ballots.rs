//! vectors/ballot.json (spec/21-ballots.md): election context hashes, ballots made from
//! given nonces (recomputable byte for byte from the spec), ballots that each fail one
//! check of §21.6, and Benaloh audits that pass or fail one check of §21.8.
#![allow(non_snake_case)]
// The generator stops at the first vector it cannot make as described: every expect and
// assert below is on our own fixed inputs (a bug here, never input from outside). The
// checker functions read files and return errors instead.
#![allow(clippy::expect_used, clippy::panic)]

use std::path::Path;

use curve25519_dalek::scalar::Scalar as DalekScalar;
use sha2::{Digest, Sha256};
use urne_ballot::{
    AuditedBallot, Ballot, BallotError, BallotSecrets, Contest, ContestKind, ContestSelection,
    ContextInputs, CredentialKey, Election, Manifest, SelectionRule, SumProof, TrackingCode,
    check_audit,
};
use urne_crypto::encoding::{from_hex, to_hex};
use urne_crypto::group::basepoint;
use urne_crypto::{Ciphertext, EncryptionKey, Opening, Point, PublicKey, Scalar, SecretScalar};

use crate::check::{Report, read};
use crate::generate::{derive, file, header};
use crate::names;
use crate::schema::*;

fn hex32(text: &str, what: &str) -> Result<[u8; 32], String> {
    from_hex(text)
        .map_err(|e| format!("{what}: {e}"))?
        .try_into()
        .map_err(|_| format!("{what}: not 32 bytes"))
}

fn bytes32(name: &str) -> [u8; 32] {
    derive(name).to_bytes()
}

struct Named {
    vector: ElectionVector,
    election: Election,
}

fn election(
    name: &str,
    manifest: Manifest,
    key: PublicKey,
    root: [u8; 32],
    origin: &str,
    id: [u8; 32],
) -> Named {
    let election = Election::new(ContextInputs {
        manifest: &manifest,
        joint_key: &key,
        credential_root: &root,
        board_origin: origin,
        context_id: &id,
    })
    .expect("short origin");
    let vector = ElectionVector {
        name: name.into(),
        manifest: to_hex(&manifest.to_bytes()),
        joint_key: *key.point(),
        credential_root: to_hex(&root),
        board_origin: origin.into(),
        context_id: to_hex(&id),
        context: to_hex(&election.context().0),
    };
    Named { vector, election }
}

/// spec/21 §21.3's example, K = G.
fn spec_example() -> Named {
    let contest = |title: &str, kind, blank, options: &[&str]| Contest {
        title: title.into(),
        kind,
        blank,
        options: options.iter().map(|o| (*o).into()).collect(),
    };
    let manifest = Manifest::new(
        "T",
        vec![
            contest("Q", ContestKind::SingleChoice, true, &["a", "b"]),
            contest(
                "R",
                ContestKind::Approval { min: 0, max: 2 },
                false,
                &["x", "y", "z"],
            ),
        ],
    )
    .expect("example manifest");
    let key = PublicKey::from_point(basepoint()).expect("G is not O");
    let named = election(
        "spec-example",
        manifest,
        key,
        [7; 32],
        "board.example",
        [9; 32],
    );
    assert_eq!(
        named.vector.context, "7e7969d2d6d1674507563c81603b255edd76c485f51c692821095ecee9ab5add",
        "spec/21 §21.3 example"
    );
    named
}

/// Every kind of contest, each with a one-range sum proof (tag 1).
fn mixed() -> Named {
    let manifest = Manifest::new(
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
                    min_total: 1,
                    max_total: 5,
                },
                blank: false,
                options: vec!["Library".into(), "Pool".into(), "Parks".into()],
            },
        ],
    )
    .expect("mixed manifest");
    let key = PublicKey::from_point(Point::from_ristretto(
        basepoint().as_ristretto() * derive("ballot/mixed/joint-secret"),
    ))
    .expect("not O");
    election(
        "mixed",
        manifest,
        key,
        bytes32("ballot/mixed/credential-root"),
        "board.example/urne",
        bytes32("ballot/mixed/context-id"),
    )
}

/// A cumulative contest whose sum range [0, 256] is too wide for one disjunctive proof:
/// its sum is proven by two bit proofs (tag 2).
fn wide() -> Named {
    let manifest = Manifest::new(
        "Budget points",
        vec![Contest {
            title: "Points".into(),
            kind: ContestKind::Cumulative {
                per_option_max: 129,
                min_total: 0,
                max_total: 256,
            },
            blank: false,
            options: vec!["Library".into(), "Pool".into()],
        }],
    )
    .expect("wide manifest");
    let key = PublicKey::from_point(Point::from_ristretto(
        basepoint().as_ristretto() * derive("ballot/wide/joint-secret"),
    ))
    .expect("not O");
    election(
        "wide",
        manifest,
        key,
        bytes32("ballot/wide/credential-root"),
        "board.example/urne",
        bytes32("ballot/wide/context-id"),
    )
}

/// A participatory budget of five projects (spec/21 §21.1 kind 4) after a yes/no
/// question; its spend range [500,000, 1,000,000] is proven by two 19-bit proofs.
fn budget() -> Named {
    let manifest = Manifest::new(
        "City budget",
        vec![
            Contest {
                title: "Question".into(),
                kind: ContestKind::SingleChoice,
                blank: false,
                options: vec!["Yes".into(), "No".into()],
            },
            Contest {
                title: "Participatory budget 2027".into(),
                kind: ContestKind::Budget {
                    min_projects: 1,
                    max_projects: 4,
                    min_spend: 500_000,
                    budget: 1_000_000,
                    rule: SelectionRule::MaxApprovals,
                    costs: vec![300_000, 450_000, 120_000, 800_000, 60_000],
                },
                blank: true,
                options: ["Park", "Library", "Bike lanes", "Pool", "Benches"]
                    .map(String::from)
                    .to_vec(),
            },
        ],
    )
    .expect("budget manifest");
    let key = PublicKey::from_point(Point::from_ristretto(
        basepoint().as_ristretto() * derive("ballot/budget/joint-secret"),
    ))
    .expect("not O");
    election(
        "budget",
        manifest,
        key,
        bytes32("ballot/budget/credential-root"),
        "board.example/urne",
        bytes32("ballot/budget/context-id"),
    )
}

/// The nonces of a sum or spend proof over [min, max] (§21.9).
fn sum_nonces(min: u64, max: u64) -> usize {
    let width = max - min;
    if width < 256 {
        2 * (width as usize + 1)
    } else {
        let k = (u64::BITS - width.leading_zeros()) as usize;
        2 * ((k - 1) + 4 * k)
    }
}

/// How many nonces §21.9 says a ballot of `manifest` takes.
fn nonce_count(manifest: &Manifest) -> usize {
    manifest
        .contests()
        .iter()
        .map(|c| {
            let rules = c.rules();
            let p = rules.per_option_max as usize;
            let options = c.options.len() * (1 + 2 * (p + 1));
            let blank = if c.blank { 1 + 4 } else { 0 };
            let spend = c.spending().map_or(0, |s| sum_nonces(s.min, s.max));
            options + blank + sum_nonces(rules.min, rules.max) + spend
        })
        .sum()
}

fn selection_vectors(selections: &[ContestSelection]) -> Vec<SelectionVector> {
    selections
        .iter()
        .map(|s| SelectionVector {
            values: s.option_values().to_vec(),
            blank: s.is_blank(),
        })
        .collect()
}

fn selections_of(vectors: &[SelectionVector]) -> Vec<ContestSelection> {
    vectors
        .iter()
        .map(|s| {
            if s.blank {
                ContestSelection::blank(s.values.len())
            } else {
                ContestSelection::values(s.values.clone())
            }
        })
        .collect()
}

struct Made {
    case: BallotCase,
    ballot: Ballot,
    secrets: BallotSecrets,
}

fn make(
    name: &str,
    on: &Named,
    credential: CredentialKey,
    selections: Vec<ContestSelection>,
) -> Made {
    let nonces: Vec<SecretScalar> = (0..nonce_count(on.election.manifest()))
        .map(|i| SecretScalar::from_dalek(derive(&format!("ballot/{name}/nonce/{i}"))))
        .collect();
    let (ballot, secrets) =
        Ballot::encrypt_with_nonces(&on.election, &credential, &selections, &nonces)
            .expect("spec/21 §21.9 nonce count");
    ballot
        .verify(&on.election, &credential)
        .expect("an honest ballot verifies");
    let bytes = ballot.to_bytes();
    let code = TrackingCode::of_bytes(&bytes);
    Made {
        case: BallotCase {
            name: name.into(),
            election: on.vector.name.clone(),
            credential: to_hex(&credential.0),
            selections: selection_vectors(&selections),
            nonces: nonces
                .iter()
                .map(|n| Scalar::from_dalek(*n.expose_secret()))
                .collect(),
            ballot: to_hex(&bytes),
            tracking_code: code.to_hex(),
            short_code: code.short(),
        },
        ballot,
        secrets,
    }
}

/// Another ballot of alice's in the wide election (drawn from a fixed stream; only a
/// part of it is used, spliced into a negative).
fn wide_ballot(on: &Named, values: Vec<u64>) -> Ballot {
    let mut rng = crate::rng::VectorRng::new("ballot/wide/other");
    Ballot::encrypt(
        &on.election,
        &alice(),
        &[ContestSelection::values(values)],
        &mut rng,
    )
    .expect("valid selection")
    .0
}

fn alice() -> CredentialKey {
    CredentialKey(bytes32("ballot/credential/alice"))
}

fn mallory() -> CredentialKey {
    CredentialKey(bytes32("ballot/credential/mallory"))
}

fn plus_g(c: &Ciphertext) -> Ciphertext {
    Ciphertext::new(
        *c.alpha(),
        Point::from_ristretto(c.beta().as_ristretto() + basepoint().as_ristretto()),
    )
}

/// The file.
pub(crate) fn generate() -> crate::VectorFile {
    let example = spec_example();
    let mixed = mixed();
    let first = make(
        "spec-example",
        &example,
        CredentialKey([0xa1; 32]),
        vec![
            ContestSelection::single(2, 0).expect("a"),
            ContestSelection::approve(3, &[0, 2]).expect("x, z"),
        ],
    );
    let blank = make(
        "mixed-blank",
        &mixed,
        alice(),
        vec![
            ContestSelection::blank(3),
            ContestSelection::approve(4, &[0, 3]).expect("A, D"),
            ContestSelection::values(vec![3, 0, 2]),
        ],
    );
    let grace = make(
        "mixed-grace",
        &mixed,
        alice(),
        vec![
            ContestSelection::single(3, 1).expect("Grace"),
            ContestSelection::approve(4, &[1]).expect("B"),
            ContestSelection::values(vec![0, 3, 0]),
        ],
    );
    let wide = wide();
    let points = make(
        "wide-points",
        &wide,
        alice(),
        vec![ContestSelection::values(vec![129, 100])],
    );
    let pool = wide_ballot(&wide, vec![0, 129]);
    let budget = budget();
    let park_library = make(
        "budget-park-library",
        &budget,
        alice(),
        vec![
            ContestSelection::single(2, 0).expect("Yes"),
            ContestSelection::approve(5, &[0, 1]).expect("Park, Library"),
        ],
    );
    let budget_blank = make(
        "budget-blank",
        &budget,
        alice(),
        vec![
            ContestSelection::single(2, 1).expect("No"),
            ContestSelection::blank(5),
        ],
    );
    let pool_only = make(
        "budget-pool",
        &budget,
        alice(),
        vec![
            ContestSelection::single(2, 0).expect("Yes"),
            ContestSelection::approve(5, &[3]).expect("Pool"),
        ],
    );

    let mut negative = Vec::new();
    let mut add = |name: &str, expect: &str, on: &Named, cast_by: CredentialKey, bytes: Vec<u8>| {
        let verdict = match Ballot::decode(&bytes) {
            Err(e) => names::ballot(&Err(BallotError::Decode(e))),
            Ok(b) => names::ballot(&b.verify(&on.election, &cast_by)),
        };
        assert!(
            verdict.starts_with(expect),
            "ballot negative {name}: {verdict}"
        );
        negative.push(BallotNegative {
            name: name.into(),
            election: on.vector.name.clone(),
            cast_by: to_hex(&cast_by.0),
            ballot: to_hex(&bytes),
            expect: verdict,
        });
    };
    let base = &blank.ballot;
    let mut b = base.clone();
    b.context = *example.election.context();
    add(
        "its context field names another election (the proofs still bind this one)",
        "wrong-election",
        &mixed,
        alice(),
        b.to_bytes(),
    );
    add(
        "checked for another casting credential than its own field",
        "wrong-credential",
        &mixed,
        mallory(),
        base.to_bytes(),
    );
    let mut b = base.clone();
    b.credential = mallory();
    add(
        "copied under another credential (fails every proof; the first is named)",
        "proof contests[0].options[0].proof",
        &mixed,
        mallory(),
        b.to_bytes(),
    );
    let mut b = base.clone();
    b.contests.pop();
    add(
        "a contest missing",
        "shape contests",
        &mixed,
        alice(),
        b.to_bytes(),
    );
    let mut b = base.clone();
    b.contests[1].options.pop();
    add(
        "an option missing",
        "shape contests[1].options",
        &mixed,
        alice(),
        b.to_bytes(),
    );
    let mut b = base.clone();
    b.contests[0].blank = None;
    add(
        "the blank vote missing",
        "shape contests[0].blank",
        &mixed,
        alice(),
        b.to_bytes(),
    );
    let mut b = base.clone();
    b.contests[0].sum_proof = points.ballot.contests[0].sum_proof.clone();
    assert!(matches!(b.contests[0].sum_proof, SumProof::Bits { .. }));
    add(
        "two bit proofs as the sum proof where the range needs one disjunctive proof",
        "sum-proof-kind contests[0].sum_proof",
        &mixed,
        alice(),
        b.to_bytes(),
    );
    let mut b = points.ballot.clone();
    b.contests[0].options[1] = pool.contests[0].options[1].clone();
    add(
        "258 of at most 256 points: option Pool spliced in from another ballot",
        "proof contests[0].sum_proof.above_min",
        &wide,
        alice(),
        b.to_bytes(),
    );
    let mut b = base.clone();
    b.contests[1].options[1] = grace.ballot.contests[1].options[1].clone();
    add(
        "approval overvote: option B spliced in from another ballot of the same voter",
        "proof contests[1].sum_proof",
        &mixed,
        alice(),
        b.to_bytes(),
    );
    let mut b = base.clone();
    b.contests[2].options[1] = grace.ballot.contests[2].options[1].clone();
    add(
        "8 of at most 5 points: option Pool spliced in from another ballot",
        "proof contests[2].sum_proof",
        &mixed,
        alice(),
        b.to_bytes(),
    );
    let mut b = base.clone();
    b.contests[1].options[0].ciphertext = plus_g(&b.contests[1].options[0].ciphertext);
    add(
        "option A's β + G: 2 approvals of one option",
        "proof contests[1].options[0].proof",
        &mixed,
        alice(),
        b.to_bytes(),
    );
    let mut b = base.clone();
    b.contests[1].options.swap(0, 1);
    add(
        "options A and B swapped with their proofs",
        "proof contests[1].options[0].proof",
        &mixed,
        alice(),
        b.to_bytes(),
    );
    let mut b = base.clone();
    {
        let contest = &mut b.contests[0];
        let blank_option = contest.blank.take().expect("blank offered");
        contest.blank = Some(core::mem::replace(&mut contest.options[2], blank_option));
    }
    add(
        "the blank vote and option Edsger swapped: blank becomes Edsger",
        "proof contests[0].options[2].proof",
        &mixed,
        alice(),
        b.to_bytes(),
    );
    let mut bytes = base.to_bytes();
    bytes.push(0);
    add("a byte after the end", "decode end", &mixed, alice(), bytes);
    let mut bytes = base.to_bytes();
    bytes[0] = 2;
    add("version 2", "decode version", &mixed, alice(), bytes);

    // Budget contests (§21.4 item 4, §21.5 version 2).
    let spend = &park_library.ballot;
    let mut b = spend.clone();
    b.contests[1].spend_proof = None;
    add(
        "a budget contest without its spend proof",
        "shape contests[1].spend_proof",
        &budget,
        alice(),
        b.to_bytes(),
    );
    let mut b = spend.clone();
    b.contests[0].spend_proof = spend.contests[1].spend_proof.clone();
    add(
        "a spend proof on the yes/no question",
        "shape contests[0].spend_proof",
        &budget,
        alice(),
        b.to_bytes(),
    );
    let mut b = spend.clone();
    b.contests[1].spend_proof = pool_only.ballot.contests[1].spend_proof.clone();
    add(
        "the spend proof of another ballot (Pool, 800,000) under Park and Library",
        "proof contests[1].spend_proof.above_min",
        &budget,
        alice(),
        b.to_bytes(),
    );
    let mut b = spend.clone();
    b.contests[1].options[3] = pool_only.ballot.contests[1].options[3].clone();
    add(
        "overspend: Pool spliced in from another ballot, 1,550,000 of at most 1,000,000",
        "proof contests[1].sum_proof",
        &budget,
        alice(),
        b.to_bytes(),
    );
    let mut b = spend.clone();
    b.contests[1].sum_proof = budget_blank.ballot.contests[1].sum_proof.clone();
    b.contests[1].spend_proof = budget_blank.ballot.contests[1].spend_proof.clone();
    b.contests[1].blank = budget_blank.ballot.contests[1].blank.clone();
    add(
        "the blank vote's count and spend proofs with two projects approved",
        "proof contests[1].sum_proof",
        &budget,
        alice(),
        b.to_bytes(),
    );
    let mut bytes = spend.to_bytes();
    // The spend bits follow the 2-byte contest count; contest 1's is 0x40.
    let spend_bits = 1 + 32 + 32 + 2;
    bytes[spend_bits] |= 0x20;
    add(
        "a spend bit past the last contest",
        "decode spends",
        &budget,
        alice(),
        bytes,
    );
    let mut b = spend.clone();
    b.contests[1].spend_proof = None;
    let mut bytes = b.to_bytes();
    bytes[0] = 2;
    bytes.insert(spend_bits, 0);
    add(
        "version 2 with no spend bit set (its one encoding is version 1)",
        "decode version",
        &budget,
        alice(),
        bytes,
    );

    let audit = |name: &str, on: &Named, ballot: &Ballot, audited: &AuditedBallot, expect: &str| {
        let verdict = names::audit(&check_audit(&on.election, ballot, audited));
        assert_eq!(verdict, expect, "audit {name}");
        AuditCase {
            name: name.into(),
            election: on.vector.name.clone(),
            ballot: to_hex(&ballot.to_bytes()),
            audited: to_hex(&audited.to_bytes()),
            expect: verdict,
        }
    };
    let example_audit = first.secrets.audit(&first.ballot);
    let blank_audit = blank.secrets.audit(&blank.ballot);
    let audits = vec![
        audit(
            "the spec example's opening",
            &example,
            &first.ballot,
            &example_audit,
            "ok",
        ),
        audit(
            "mixed-blank's opening",
            &mixed,
            &blank.ballot,
            &blank_audit,
            "ok",
        ),
    ];
    let mut audit_negative = vec![audit(
        "mixed-blank's opening shown for mixed-grace",
        &mixed,
        &grace.ballot,
        &blank_audit,
        "tracking-code-mismatch",
    )];
    audit_negative.push(audit(
        "checked in another election",
        &example,
        &blank.ballot,
        &blank_audit,
        "ballot wrong-election",
    ));
    let mut shown = blank_audit.clone();
    shown.contests[1].options[0].0 = 0;
    audit_negative.push(audit(
        "the device encrypted A but shows no approval of A",
        &mixed,
        &blank.ballot,
        &shown,
        "mismatch contests[1].options[0]",
    ));
    let mut shown = blank_audit.clone();
    let nonce = &mut shown.contests[2].options[2].1;
    *nonce = Scalar::from_dalek(nonce.as_dalek() + DalekScalar::ONE);
    audit_negative.push(audit(
        "a nonce plus one",
        &mixed,
        &blank.ballot,
        &shown,
        "mismatch contests[2].options[2]",
    ));
    let mut shown = blank_audit.clone();
    shown.contests[2].options.pop();
    audit_negative.push(audit(
        "an opening short of one option",
        &mixed,
        &blank.ballot,
        &shown,
        "shape contests[2].options",
    ));
    // A device that encrypted an approval of all four (no valid proof: the audit does
    // not need one) and shows exactly that.
    let key = EncryptionKey::new(*mixed.election.public_key());
    let mut forged = blank.ballot.clone();
    let mut shown = blank_audit.clone();
    for o in 0..4 {
        let nonce = derive(&format!("ballot/forged-overvote/nonce/{o}"));
        let opening = Opening::new(1, SecretScalar::from_dalek(nonce));
        forged.contests[1].options[o].ciphertext = key.encrypt_opening(&opening);
        shown.contests[1].options[o] = (1, Scalar::from_dalek(nonce));
    }
    shown.tracking_code = TrackingCode::of(&forged);
    audit_negative.push(audit(
        "a device that encrypted, and shows, four approvals of at most two",
        &mixed,
        &forged,
        &shown,
        "invalid-choices 1",
    ));

    file(
        "ballot.json",
        &BallotVectors {
            header: header(
                "Ballots: election context hashes, ballots from given nonces, ballots that each fail one check of §21.6, and Benaloh audits",
                "spec/21-ballots.md",
            ),
            elections: vec![example.vector, mixed.vector, wide.vector, budget.vector],
            ballots: vec![
                first.case,
                blank.case,
                grace.case,
                points.case,
                park_library.case,
                budget_blank.case,
                pool_only.case,
            ],
            negative,
            audits,
            audit_negative,
        },
    )
}

/// §21.3 from the spec text alone.
fn context_hash(v: &ElectionVector) -> Result<String, String> {
    let manifest = from_hex(&v.manifest).map_err(|e| e.to_string())?;
    let mut h = Sha256::new();
    h.update(b"urne/v1/ballot/context");
    h.update((manifest.len() as u32).to_be_bytes());
    h.update(&manifest);
    h.update(v.joint_key.as_bytes());
    h.update(hex32(&v.credential_root, "credential_root")?);
    h.update((v.board_origin.len() as u16).to_be_bytes());
    h.update(v.board_origin.as_bytes());
    h.update(hex32(&v.context_id, "context_id")?);
    Ok(to_hex(&h.finalize()))
}

fn decode_ballot(hex: &str) -> Result<Ballot, String> {
    let bytes = from_hex(hex).map_err(|e| e.to_string())?;
    Ballot::decode(&bytes).map_err(|e| e.to_string())
}

/// Checks ballot.json.
pub(crate) fn check(dir: &Path, report: &mut Report) -> Result<(), String> {
    let v: BallotVectors = read(dir, "ballot.json")?;
    let mut elections = Vec::new();
    for e in &v.elections {
        let manifest = from_hex(&e.manifest)
            .map_err(|x| x.to_string())
            .and_then(|b| Manifest::decode(&b).map_err(|x| x.to_string()))
            .map_err(|x| format!("election {}: manifest: {x}", e.name))?;
        report.expect(to_hex(&manifest.to_bytes()) == e.manifest, || {
            format!("election {}: manifest re-encodes differently", e.name)
        });
        let key = PublicKey::from_point(e.joint_key).map_err(|x| x.to_string())?;
        let election = Election::new(ContextInputs {
            manifest: &manifest,
            joint_key: &key,
            credential_root: &hex32(&e.credential_root, "credential_root")?,
            board_origin: &e.board_origin,
            context_id: &hex32(&e.context_id, "context_id")?,
        })
        .map_err(|x| x.to_string())?;
        report.expect(to_hex(&election.context().0) == e.context, || {
            format!("election {}: context hash", e.name)
        });
        report.expect(context_hash(e).as_deref() == Ok(e.context.as_str()), || {
            format!("election {}: context hash from the spec text", e.name)
        });
        elections.push((e.name.clone(), election));
    }
    let find = |name: &str| {
        elections
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, e)| e)
            .ok_or_else(|| format!("no election named {name}"))
    };
    for case in &v.ballots {
        let election = find(&case.election)?;
        let credential = CredentialKey(hex32(&case.credential, "credential")?);
        let nonces: Vec<SecretScalar> = case
            .nonces
            .iter()
            .map(|n| SecretScalar::from_dalek(*n.as_dalek()))
            .collect();
        let remade = Ballot::encrypt_with_nonces(
            election,
            &credential,
            &selections_of(&case.selections),
            &nonces,
        )
        .map(|(b, _)| to_hex(&b.to_bytes()));
        report.expect(remade.as_deref() == Ok(case.ballot.as_str()), || {
            format!("ballot {}: remade from its nonces as {remade:?}", case.name)
        });
        // §21.9: exactly this many nonces; one more or one fewer is an error.
        let mut more = nonces
            .iter()
            .map(SecretScalar::duplicate)
            .collect::<Vec<_>>();
        more.push(SecretScalar::from_dalek(DalekScalar::ONE));
        for (what, given) in [
            ("fewer", &nonces[..nonces.len().saturating_sub(1)]),
            ("more", &more[..]),
        ] {
            let refused = Ballot::encrypt_with_nonces(
                election,
                &credential,
                &selections_of(&case.selections),
                given,
            )
            .is_err();
            report.expect(refused, || {
                format!("ballot {}: {what} nonces accepted", case.name)
            });
        }
        let ballot =
            decode_ballot(&case.ballot).map_err(|e| format!("ballot {}: {e}", case.name))?;
        report.expect(to_hex(&ballot.to_bytes()) == case.ballot, || {
            format!("ballot {}: re-encodes differently", case.name)
        });
        let verdict = names::ballot(&ballot.verify(election, &credential));
        report.expect(verdict == "ok", || {
            format!("ballot {}: {verdict}", case.name)
        });
        let bytes = from_hex(&case.ballot).map_err(|e| e.to_string())?;
        let mut h = Sha256::new();
        h.update(b"urne/v1/ballot/tracking-code");
        h.update(&bytes);
        let code = TrackingCode(h.finalize().into());
        report.expect(code.to_hex() == case.tracking_code, || {
            format!("ballot {}: tracking code", case.name)
        });
        report.expect(
            code.short() == case.short_code && code.matches_short(&case.short_code),
            || format!("ballot {}: short code", case.name),
        );
    }
    for negative in &v.negative {
        let election = find(&negative.election)?;
        let cast_by = CredentialKey(hex32(&negative.cast_by, "cast_by")?);
        let bytes = from_hex(&negative.ballot).map_err(|e| e.to_string())?;
        let verdict = match Ballot::decode(&bytes) {
            Err(e) => names::ballot(&Err(BallotError::Decode(e))),
            Ok(b) => {
                // The batch path (§21.6: checks 1–4 and each proof's non-equation
                // checks, then the equations) refuses the same ballots.
                let batch = b.relations(election, &cast_by).and_then(|r| {
                    r.check().map_err(|error| BallotError::Proof {
                        field: "equations".into(),
                        error,
                    })
                });
                let one_by_one = b.verify(election, &cast_by);
                let agree = match (&batch, &one_by_one) {
                    (Ok(()), Ok(())) => true,
                    (Err(BallotError::Proof { field, .. }), Err(BallotError::Proof { .. })) => {
                        field == "equations" || names::ballot(&batch) == names::ballot(&one_by_one)
                    }
                    (Err(a), Err(b)) => a == b,
                    _ => false,
                };
                report.expect(agree, || {
                    format!(
                        "ballot negative `{}`: batch path gives {batch:?}, one by one {one_by_one:?}",
                        negative.name
                    )
                });
                names::ballot(&one_by_one)
            }
        };
        report.expect(verdict == negative.expect, || {
            format!(
                "ballot negative `{}`: {verdict}, expected {}",
                negative.name, negative.expect
            )
        });
    }
    for case in v.audits.iter().chain(&v.audit_negative) {
        let election = find(&case.election)?;
        let ballot =
            decode_ballot(&case.ballot).map_err(|e| format!("audit {}: {e}", case.name))?;
        let audited = from_hex(&case.audited)
            .map_err(|e| e.to_string())
            .and_then(|b| AuditedBallot::decode(&b).map_err(|e| e.to_string()))
            .map_err(|e| format!("audit {}: {e}", case.name))?;
        report.expect(to_hex(&audited.to_bytes()) == case.audited, || {
            format!("audit {}: re-encodes differently", case.name)
        });
        let verdict = names::audit(&check_audit(election, &ballot, &audited));
        report.expect(verdict == case.expect, || {
            format!("audit `{}`: {verdict}, expected {}", case.name, case.expect)
        });
    }
    Ok(())
}
