//! The booth's operations natively: the records it makes are the CLI's byte for byte
//! (urne-election decodes and checks them), its context hash is urne-ballot's, its
//! receipts are urne-verify's, and every check it runs fails on tampered input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use serde_json::{Value, json};
use urne_ballot::{Contest, ContestKind, ContextInputs, Manifest, check_audit};
use urne_booth::abi::{
    OP_AUDIT, OP_BALLOT, OP_CAST, OP_CREDENTIAL, OP_LOAD, OP_RECEIPT, OP_RECEIPT_CHECK,
    OP_TRAP_DRILL, dispatch,
};
use urne_booth::{Booth, ElectionParams, Receipt, Selection};
use urne_credential::Credential;
use urne_crypto::SecretKey;
use urne_election::{AuditRecord, CastBallot, kinds};
use urne_log::note::{Cosigner, Note, NoteSigner};
use urne_log::{Checkpoint, Hash, leaf_hash};
use urne_record::{ContextId, Record};

const ORIGIN: &str = "example.org/urne-booth-test";

fn manifest() -> Manifest {
    Manifest::new(
        "Consultation",
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
        ],
    )
    .unwrap()
}

struct Setup {
    params: ElectionParams,
    credential: Credential,
    manifest: Manifest,
    key: urne_crypto::PublicKey,
    root: [u8; 32],
    id: [u8; 32],
}

fn setup() -> Setup {
    let mut rng = rand::rng();
    let manifest = manifest();
    let key = SecretKey::generate(&mut rng).public_key();
    let root = [7u8; 32];
    let id = [9u8; 32];
    Setup {
        params: ElectionParams {
            election: hex::encode(id),
            origin: ORIGIN.into(),
            manifest: hex::encode(manifest.to_bytes()),
            joint_key: hex::encode(key.to_bytes()),
            credential_root: hex::encode(root),
            eligibility: None,
            snapshot: None,
        },
        credential: Credential::generate(&mut rng),
        manifest,
        key,
        root,
        id,
    }
}

fn election(s: &Setup) -> urne_ballot::Election {
    urne_ballot::Election::new(ContextInputs {
        manifest: &s.manifest,
        joint_key: &s.key,
        credential_root: &s.root,
        board_origin: ORIGIN,
        context_id: &s.id,
    })
    .unwrap()
}

fn seed(byte: u8) -> urne_booth::Seed {
    urne_booth::Seed::take(&mut [byte; 32])
}

fn valid() -> Vec<Selection> {
    vec![
        Selection {
            blank: false,
            values: vec![0, 1, 0],
        },
        Selection {
            blank: false,
            values: vec![1, 0, 1, 0],
        },
    ]
}

#[test]
fn context_hash_is_urne_ballots_and_changes_with_every_parameter() {
    let s = setup();
    let mut booth = Booth::default();
    let view = booth.load(&s.params).unwrap();
    assert_eq!(view.context_hash, hex::encode(election(&s).context().0));
    assert_eq!(view.contests[1].kind, "approval");
    assert_eq!((view.contests[1].min, view.contests[1].max), (1, 2));
    // A board that serves another key, list or origin shows another fingerprint.
    for tamper in [
        |p: &mut ElectionParams| {
            p.joint_key = hex::encode(
                SecretKey::generate(&mut rand::rng())
                    .public_key()
                    .to_bytes(),
            )
        },
        |p: &mut ElectionParams| p.credential_root = hex::encode([8u8; 32]),
        |p: &mut ElectionParams| p.origin.push('x'),
    ] {
        let mut params = s.params.clone();
        tamper(&mut params);
        let other = Booth::default().load(&params).unwrap();
        assert_ne!(other.context_hash, view.context_hash);
    }
}

#[test]
fn malformed_parameters_are_refused_naming_the_field() {
    let s = setup();
    let mut params = s.params.clone();
    params.manifest.replace_range(0..2, "07");
    let e = Booth::default().load(&params).unwrap_err();
    assert_eq!(e.field, "manifest.version", "{e}");
    let mut params = s.params.clone();
    params.joint_key = "AB".repeat(32);
    assert_eq!(
        Booth::default().load(&params).unwrap_err().field,
        "joint_key"
    );
}

#[test]
fn cast_record_is_the_clis_and_passes_the_boards_checks() {
    let s = setup();
    let mut booth = Booth::default();
    booth.load(&s.params).unwrap();
    let made = booth
        .make_ballot(Some(&s.credential.to_text()), &valid(), seed(1))
        .unwrap();
    let cast = booth.cast(seed(2)).unwrap();
    let record = Record::parse(hex::decode(&cast.record).unwrap()).unwrap();
    record.verify_signature().unwrap();
    assert_eq!(record.kind(), kinds::BALLOT_CAST);
    assert_eq!(record.context(), ContextId(s.id));
    assert_eq!(cast.hash, hex::encode(leaf_hash(record.bytes()).0));
    let decoded = CastBallot::decode(record.body()).unwrap();
    assert_eq!(
        decoded.to_body(),
        record.body(),
        "urne-election re-encodes the same bytes"
    );
    assert_eq!(decoded.tracking_code().to_hex(), made.tracking_code);
    let election = election(&s);
    decoded
        .ballot
        .verify(&election, &decoded.ballot.credential)
        .unwrap();
    decoded
        .signature
        .verify(
            &s.credential.public(),
            election.context(),
            urne_credential::Decision::Cast,
            &decoded.tracking_code().0,
        )
        .unwrap();
    // The ballot is gone once cast: its nonces cannot be revealed afterwards.
    assert_eq!(booth.audit(seed(3)).unwrap_err().field, "ballot");
}

#[test]
fn audit_record_is_the_clis_and_opens_to_the_choices() {
    let s = setup();
    let mut booth = Booth::default();
    booth.load(&s.params).unwrap();
    booth
        .make_ballot(Some(&s.credential.to_text()), &valid(), seed(4))
        .unwrap();
    let audit = booth.audit(seed(5)).unwrap();
    let record = Record::parse(hex::decode(&audit.record).unwrap()).unwrap();
    assert_eq!(record.kind(), kinds::BALLOT_AUDIT);
    let decoded = AuditRecord::decode(record.body()).unwrap();
    assert_eq!(decoded.to_body(), record.body());
    check_audit(&election(&s), &decoded.ballot, &decoded.opening).unwrap();
    // Its signature is an audit's, never a cast's: whoever relays it cannot post the
    // ballot, whose openings it now holds, as a cast.
    let made_for = election(&s);
    let code = decoded.tracking_code().0;
    let public = s.credential.public();
    use urne_credential::Decision;
    decoded
        .signature
        .verify(&public, made_for.context(), Decision::Audit, &code)
        .unwrap();
    assert!(
        decoded
            .signature
            .verify(&public, made_for.context(), Decision::Cast, &code)
            .is_err()
    );
    let shown: Vec<u64> = audit.contests[1].values.iter().map(|v| v.value).collect();
    assert_eq!(shown, vec![1, 0, 1, 0]);
    assert_eq!(
        audit.contests[0].values.len(),
        4,
        "three options and the blank vote"
    );
    // An opening whose value is changed no longer matches the ciphertext.
    let mut lying = decoded.opening.clone();
    lying.contests[1].options[1].0 = 1;
    lying.contests[1].options[2].0 = 0;
    assert!(check_audit(&election(&s), &decoded.ballot, &lying).is_err());
}

#[test]
fn a_selection_breaking_the_contest_rule_is_refused_naming_the_contest() {
    let s = setup();
    let mut booth = Booth::default();
    booth.load(&s.params).unwrap();
    let mut three = valid();
    three[1].values = vec![1, 1, 1, 0];
    let e = booth
        .make_ballot(Some(&s.credential.to_text()), &three, seed(6))
        .unwrap_err();
    assert_eq!(e.field, "selections[1]", "{e}");
    let e = booth
        .make_ballot(Some("not-a-credential"), &valid(), seed(6))
        .unwrap_err();
    assert_eq!(e.field, "credential");
    assert_eq!(
        booth.cast(seed(7)).unwrap_err().field,
        "ballot",
        "nothing pending"
    );
}

#[test]
fn two_seeds_make_two_ballots_and_one_seed_the_same() {
    let s = setup();
    let mut booth = Booth::default();
    booth.load(&s.params).unwrap();
    let text = s.credential.to_text();
    let a = booth.make_ballot(Some(&text), &valid(), seed(8)).unwrap();
    let b = booth.make_ballot(Some(&text), &valid(), seed(9)).unwrap();
    let c = booth.make_ballot(Some(&text), &valid(), seed(8)).unwrap();
    assert_ne!(a.tracking_code, b.tracking_code);
    assert_eq!(
        a.tracking_code, c.tracking_code,
        "the seed is the only randomness"
    );
}

/// A log of `records` under a checkpoint signed by `signer`.
fn log(records: &[Vec<u8>], signer: &NoteSigner) -> (Vec<Hash>, String) {
    let leaves: Vec<Hash> = records.iter().map(|r| leaf_hash(r)).collect();
    let size = leaves.len() as u64;
    let root = urne_log::proof::range_hash(leaves.as_slice(), 0, size).unwrap();
    let checkpoint = Checkpoint::new(ORIGIN, size, root, vec![]).unwrap();
    let mut note = Note::new(&checkpoint.to_text()).unwrap();
    signer.sign(&mut note);
    (leaves, note.to_text())
}

fn ok(answer: Vec<u8>) -> Value {
    let value: Value = serde_json::from_slice(&answer).unwrap();
    value
        .get("ok")
        .cloned()
        .unwrap_or_else(|| panic!("{value}"))
}

fn err(answer: Vec<u8>) -> Value {
    let value: Value = serde_json::from_slice(&answer).unwrap();
    value
        .get("error")
        .cloned()
        .unwrap_or_else(|| panic!("{value}"))
}

#[test]
fn receipt_through_the_abi_is_urne_verifys_and_tampering_fails_it() {
    let s = setup();
    let mut booth = Booth::default();
    let params = serde_json::to_vec(&json!({
        "election": s.params.election, "origin": s.params.origin, "manifest": s.params.manifest,
        "joint_key": s.params.joint_key, "credential_root": s.params.credential_root,
    }))
    .unwrap();
    ok(dispatch(&mut booth, OP_LOAD, &params, &mut [0; 32]));
    let selections = json!([{"values": [1, 0, 0]}, {"values": [0, 0, 1, 1]}]);
    let request = json!({"credential": s.credential.to_text().as_str(), "selections": selections});
    ok(dispatch(
        &mut booth,
        OP_BALLOT,
        &serde_json::to_vec(&request).unwrap(),
        &mut [0x11; 32],
    ));
    let cast = ok(dispatch(&mut booth, OP_CAST, b"{}", &mut [0x22; 32]));
    let record = hex::decode(cast["record"].as_str().unwrap()).unwrap();
    let signer = NoteSigner::from_seed(ORIGIN, &[3u8; 32]).unwrap();
    let vkey = signer.verifier().to_vkey();
    let records = vec![b"first".to_vec(), record.clone(), b"third".to_vec()];
    let (leaves, checkpoint) = log(&records, &signer);
    let inclusion = urne_log::proof::inclusion_proof(leaves.as_slice(), 1, 3).unwrap();
    let made = ok(dispatch(
        &mut booth,
        OP_RECEIPT,
        &serde_json::to_vec(&json!({
            "election": s.params.election, "tracking_code": cast["tracking_code"], "index": 1,
            "record": cast["record"], "inclusion": inclusion.iter().map(Hash::to_hex).collect::<Vec<_>>(),
            "checkpoint": checkpoint, "vkey": vkey,
        }))
        .unwrap(),
        &mut [0; 32],
    ));
    let text = made["receipt"].as_str().unwrap().to_owned();
    // urne receipt check reads the booth's receipt, and the booth reads urne's.
    let theirs = urne_verify::VoterReceipt::parse(&text).unwrap();
    let verifier = urne_log::note::NoteVerifier::from_vkey(&vkey).unwrap();
    theirs.check(&verifier, &[], 0).unwrap();
    assert_eq!(Receipt::parse(&theirs.to_json()).unwrap().to_json(), text);

    let check = |receipt: &str, extra: Value| {
        let mut request = json!({"receipt": receipt, "vkey": vkey});
        for (k, v) in extra.as_object().unwrap() {
            request[k] = v.clone();
        }
        dispatch(
            &mut booth_for_checks(),
            OP_RECEIPT_CHECK,
            &serde_json::to_vec(&request).unwrap(),
            &mut [0; 32],
        )
    };
    assert_eq!(ok(check(&text, json!({})))["size"], 3);
    // Later: the log grew by one; the consistency proof 3 → 4 holds.
    let mut grown = records.clone();
    grown.push(b"fourth".to_vec());
    let (grown_leaves, later) = log(&grown, &signer);
    let proof = urne_log::proof::consistency_proof(grown_leaves.as_slice(), 3, 4).unwrap();
    let proof: Vec<String> = proof.iter().map(Hash::to_hex).collect();
    assert_eq!(
        ok(check(&text, json!({"later": later, "proof": proof})))["later_size"],
        4
    );
    // The later checkpoint with a witness quorum (review finding 2): cosigned by the
    // witness, it passes and the answer names the witness and the board key used; the
    // same checkpoint without the cosignature, or a quorum above the witnesses given, fails.
    let witness = Cosigner::from_seed("witness.example/one", &[9u8; 32]).unwrap();
    let mut note = Note::parse(later.as_bytes()).unwrap();
    note.add_signature(witness.cosign(note.text(), 1_700_000_000));
    let cosigned = note.to_text();
    let witnesses = json!([witness.verifier().to_vkey()]);
    let answer = ok(check(
        &text,
        json!({"later": cosigned, "proof": proof, "witnesses": witnesses, "quorum": 1}),
    ));
    assert_eq!(answer["cosigned_by"], json!(["witness.example/one"]));
    assert_eq!(answer["board_key"], json!(vkey));
    assert_eq!(
        err(check(
            &text,
            json!({"later": later, "proof": proof, "witnesses": witnesses, "quorum": 1})
        ))["field"],
        "later"
    );
    assert_eq!(
        err(check(
            &text,
            json!({"later": cosigned, "proof": proof, "witnesses": witnesses, "quorum": 2})
        ))["field"],
        "quorum"
    );
    assert_eq!(
        err(check(&text, json!({"witnesses": witnesses, "quorum": 1})))["field"],
        "later"
    );
    assert_eq!(
        err(check(
            &text,
            json!({"later": cosigned, "proof": proof, "witnesses": ["not a vkey"], "quorum": 1})
        ))["field"],
        "witnesses[0]"
    );
    // A later log that changed the ballot's entry is not consistent with the receipt.
    let mut rewritten = grown.clone();
    rewritten[1] = b"something else".to_vec();
    let (_, forged) = log(&rewritten, &signer);
    assert_eq!(
        err(check(&text, json!({"later": forged, "proof": proof})))["field"],
        "later"
    );

    let mut receipt: Value = serde_json::from_str(&text).unwrap();
    receipt["index"] = json!(2);
    assert_eq!(
        err(check(&receipt.to_string(), json!({})))["field"],
        "inclusion"
    );
    let mut receipt: Value = serde_json::from_str(&text).unwrap();
    receipt["tracking_code"] = json!("00".repeat(32));
    assert_eq!(
        err(check(&receipt.to_string(), json!({})))["field"],
        "tracking_code"
    );
    let mut receipt: Value = serde_json::from_str(&text).unwrap();
    receipt["checkpoint"] = json!(checkpoint.replace("\n3\n", "\n4\n"));
    assert_eq!(
        err(check(&receipt.to_string(), json!({})))["field"],
        "checkpoint"
    );
    let mut receipt: Value = serde_json::from_str(&text).unwrap();
    receipt["extra"] = json!(1);
    assert_eq!(
        err(check(&receipt.to_string(), json!({})))["field"],
        "receipt"
    );
    let other = NoteSigner::from_seed(ORIGIN, &[4u8; 32])
        .unwrap()
        .verifier()
        .to_vkey();
    let request = json!({"receipt": text, "vkey": other});
    assert_eq!(
        err(dispatch(
            &mut Booth::default(),
            OP_RECEIPT_CHECK,
            &serde_json::to_vec(&request).unwrap(),
            &mut [0; 32],
        ))["field"],
        "checkpoint"
    );
}

/// The trap drill arms one operation, once, on this instance only; it refuses an
/// operation that does not exist (or itself), and a request it does not know.
#[test]
fn the_trap_drill_arms_one_existing_operation_once() {
    let mut booth = Booth::default();
    assert_eq!(
        ok(dispatch(
            &mut booth,
            OP_TRAP_DRILL,
            b"{\"op\": 4}",
            &mut [0; 32]
        )),
        json!({"armed": 4})
    );
    assert!(!booth.trap_drill_due(OP_AUDIT));
    assert!(booth.trap_drill_due(OP_CAST));
    assert!(!booth.trap_drill_due(OP_CAST), "the drill fires once");
    for op in [0, OP_TRAP_DRILL, 99] {
        let refused = err(dispatch(
            &mut booth,
            OP_TRAP_DRILL,
            format!("{{\"op\": {op}}}").as_bytes(),
            &mut [0; 32],
        ));
        assert_eq!(refused["field"], "op", "{op}");
        assert!(
            refused["message"]
                .as_str()
                .unwrap()
                .contains(&format!("no operation {op}")),
            "{refused}"
        );
        assert!(!booth.trap_drill_due(op));
    }
    assert_eq!(
        err(dispatch(
            &mut booth,
            OP_TRAP_DRILL,
            b"{\"op\": 4, \"x\": 1}",
            &mut [0; 32]
        ))["field"],
        "request"
    );
    assert!(!booth.trap_drill_due(OP_CAST));
    assert!(!Booth::default().trap_drill_due(OP_CAST));
}

fn booth_for_checks() -> Booth {
    Booth::default()
}

#[test]
fn abi_requests_are_decoded_strictly() {
    let mut booth = Booth::default();
    assert_eq!(
        err(dispatch(&mut booth, 99, b"{}", &mut [0; 32]))["field"],
        "op"
    );
    // The seed travels in the seed buffer only: one in the JSON is an unknown member.
    assert_eq!(
        err(dispatch(
            &mut booth,
            OP_CAST,
            b"{\"seed\": \"zz\"}",
            &mut [7; 32]
        ))["field"],
        "request"
    );
    assert_eq!(
        err(dispatch(&mut booth, OP_AUDIT, b"{\"x\": 2}", &mut [7; 32]))["field"],
        "request"
    );
    assert_eq!(
        err(dispatch(&mut booth, OP_LOAD, b"not json", &mut [0; 32]))["field"],
        "request"
    );
}

#[test]
fn a_budget_contest_shows_its_costs_and_an_overspend_is_refused_before_encryption() {
    let manifest = Manifest::new(
        "Budget",
        vec![Contest {
            title: "Projects".into(),
            kind: ContestKind::Budget {
                min_projects: 1,
                max_projects: 3,
                min_spend: 100,
                budget: 1_000,
                rule: urne_ballot::SelectionRule::Greedy,
                costs: vec![600, 300, 200, 500],
            },
            blank: true,
            options: vec![
                "Park".into(),
                "Library".into(),
                "Lanes".into(),
                "Pool".into(),
            ],
        }],
    )
    .unwrap();
    let mut s = setup();
    s.params.manifest = hex::encode(manifest.to_bytes());
    let mut booth = Booth::default();
    let view = booth.load(&s.params).unwrap();
    let contest = &view.contests[0];
    assert_eq!(contest.kind, "budget");
    assert_eq!(contest.costs, vec![600, 300, 200, 500]);
    assert_eq!((contest.min_spend, contest.budget), (100, 1_000));
    let text = s.credential.to_text();
    let over = Selection {
        blank: false,
        values: vec![1, 0, 0, 1],
    };
    let e = booth
        .make_ballot(Some(&text), &[over], seed(10))
        .unwrap_err();
    assert_eq!(e.field, "selections[0]", "{e}");
    let within = Selection {
        blank: false,
        values: vec![1, 1, 0, 0],
    };
    booth.make_ballot(Some(&text), &[within], seed(11)).unwrap();
    let cast = booth.cast(seed(12)).unwrap();
    let record = Record::parse(hex::decode(&cast.record).unwrap()).unwrap();
    assert_eq!(
        CastBallot::decode(record.body()).unwrap().to_body(),
        record.body()
    );
}

/// The seed reaches the module through its seed buffer only (spec/60 §60.2): an
/// operation that needs randomness refuses an empty buffer instead of running on none,
/// and every call leaves the buffer zeroed, so no two operations draw the same bytes.
#[test]
fn randomness_comes_from_the_seed_buffer_and_is_used_once() {
    let s = setup();
    let mut booth = Booth::default();
    let params = serde_json::to_vec(&json!({
        "election": s.params.election, "origin": s.params.origin, "manifest": s.params.manifest,
        "joint_key": s.params.joint_key, "credential_root": s.params.credential_root,
    }))
    .unwrap();
    let mut seed = [0x5a; 32];
    ok(dispatch(&mut booth, OP_LOAD, &params, &mut seed));
    assert_eq!(
        seed, [0; 32],
        "a call that draws nothing still wipes the buffer"
    );
    let request = serde_json::to_vec(&json!({
        "credential": s.credential.to_text().as_str(),
        "selections": [{"values": [1, 0, 0]}, {"values": [0, 0, 1, 1]}],
    }))
    .unwrap();
    let refused = err(dispatch(&mut booth, OP_BALLOT, &request, &mut [0; 32]));
    assert_eq!(refused["field"], "seed", "{refused}");
    let mut seed = [0x33; 32];
    let first = ok(dispatch(&mut booth, OP_BALLOT, &request, &mut seed));
    assert_eq!(seed, [0; 32], "the seed is taken out of the buffer");
    assert_eq!(
        err(dispatch(&mut booth, OP_CAST, b"{}", &mut seed))["field"],
        "seed",
        "a second call finds the buffer empty"
    );
    // The same bytes make the same ballot: the buffer is the only randomness.
    let again = ok(dispatch(&mut booth, OP_BALLOT, &request, &mut [0x33; 32]));
    assert_eq!(first["tracking_code"], again["tracking_code"]);
    let other = ok(dispatch(&mut booth, OP_BALLOT, &request, &mut [0x34; 32]));
    assert_ne!(first["tracking_code"], other["tracking_code"]);
}

/// A voter's own mistakes carry a code the page words in French or English (spec/60
/// §60.2), with the values the wording needs.
#[test]
fn a_voters_mistakes_carry_codes_the_page_translates() {
    let s = setup();
    let mut booth = Booth::default();
    let coded = |booth: &mut Booth, op, request: Value| {
        let e = err(dispatch(
            booth,
            op,
            &serde_json::to_vec(&request).unwrap(),
            &mut [9; 32],
        ));
        (e["code"].clone(), e["args"].clone(), e["field"].clone())
    };
    let text = s.credential.to_text();
    let short = &text.as_str()[..text.len() - 5];
    assert_eq!(
        coded(&mut booth, OP_CREDENTIAL, json!({"credential": short})),
        (
            json!("credential-length"),
            json!(["24", "20"]),
            json!("credential")
        )
    );
    let mut typo: Vec<char> = text.as_str().chars().collect();
    typo[2] = '0';
    assert_eq!(
        coded(
            &mut booth,
            OP_CREDENTIAL,
            json!({"credential": typo.iter().collect::<String>()})
        ),
        (
            json!("credential-character"),
            json!(["3", "0"]),
            json!("credential")
        )
    );
    let mut swapped: Vec<char> = text.as_str().chars().collect();
    swapped.swap(0, 1);
    if swapped != text.as_str().chars().collect::<Vec<_>>() {
        assert_eq!(
            coded(
                &mut booth,
                OP_CREDENTIAL,
                json!({"credential": swapped.iter().collect::<String>()})
            )
            .0,
            json!("credential-checksum")
        );
    }
    let params = serde_json::to_vec(&json!({
        "election": s.params.election, "origin": s.params.origin, "manifest": s.params.manifest,
        "joint_key": s.params.joint_key, "credential_root": s.params.credential_root,
    }))
    .unwrap();
    ok(dispatch(&mut booth, OP_LOAD, &params, &mut [0; 32]));
    let overvote = json!({"credential": text.as_str(), "selections": [{"values": [1, 1, 0]}, {"values": [0, 0, 1, 1]}]});
    assert_eq!(
        coded(&mut booth, OP_BALLOT, overvote),
        (json!("selection"), json!(["1"]), json!("selections[0]"))
    );
    // Whatever is wrong with a receipt, its code says the receipt does not hold.
    let (code, _, field) = coded(
        &mut booth,
        OP_RECEIPT_CHECK,
        json!({"receipt": "{}", "vkey": "x"}),
    );
    assert_eq!(code, json!("receipt"), "{field}");
    // A fault of the page's own making has no code: it is not the voter's to mend.
    let (code, _, field) = coded(&mut booth, 99, json!({}));
    assert_eq!((code, field), (Value::Null, json!("op")));
}
