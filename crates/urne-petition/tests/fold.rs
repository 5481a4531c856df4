//! The petition fold and its recount, end to end in memory: a registry of wallets, a
//! snapshot in buckets of 8, a petition defined, opened, signed, a signature withdrawn,
//! closed, counted; and every tamper the recount must name (spec/32 §32.6–§32.7).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ed25519_dalek::SigningKey;
use sha2::{Digest, Sha256};
use urne_credential::registry::{
    Cosignature, Register, Registrars, SNAPSHOT_VERSION, SNAPSHOT_VERSION_1, SignedSnapshot,
    Snapshot,
};
use urne_credential::wallet::{ATTRIBUTE_DISTRICT, EnrolmentRequest, Wallet};
use urne_petition::kinds::*;
use urne_petition::signature::{self, BucketRing};
use urne_petition::{
    Definition, Duplicate, PetitionRecord, PetitionResult, Phase, Policy, SignatureBody, Violation,
    labels, recount,
};
use urne_record::Kind;
use urne_record::kinds::CONTEXT_PHASE;

const REGISTRY: [u8; 32] = [4; 32];
const CONTEXT: [u8; 32] = [2; 32];
const AUTHORITY: [u8; 32] = [1; 32];

struct Fixture {
    wallets: Vec<Wallet>,
    snapshot: Snapshot,
    registrars: Registrars,
    definition: Definition,
}

fn registrar_keys() -> Vec<SigningKey> {
    (0..3u8)
        .map(|i| SigningKey::from_bytes(&[i + 10; 32]))
        .collect()
}

fn fixture(people: usize) -> Fixture {
    fixture_with_snapshot_version(people, SNAPSHOT_VERSION)
}

fn fixture_with_snapshot_version(people: usize, version: u8) -> Fixture {
    let mut rng = rand::rng();
    let mut register = Register::new();
    let mut wallets = Vec::new();
    for i in 0..people {
        let w = Wallet::generate(&[(ATTRIBUTE_DISTRICT, 1 + (i % 2) as u32)], &mut rng).unwrap();
        let bytes = w.enrolment_request(&REGISTRY, &mut rng).unwrap().to_bytes();
        let request = EnrolmentRequest::decode_and_verify(&bytes, &REGISTRY).unwrap();
        let mut person = [0u8; 32];
        person[..8].copy_from_slice(&(i as u64).to_be_bytes());
        register.enrol(person, &request, false).unwrap();
        wallets.push(w);
    }
    let keys = registrar_keys();
    let registrars =
        Registrars::new(2, keys.iter().map(SigningKey::verifying_key).collect()).unwrap();
    let (mut header, entries) = register.snapshot_header(REGISTRY, 1, [0; 32], 3);
    header.version = version;
    let id = header.id();
    let signed = SignedSnapshot {
        header,
        cosignatures: vec![
            Cosignature::sign(0, &keys[0], &id),
            Cosignature::sign(2, &keys[2], &id),
        ],
    };
    let snapshot = Snapshot::new(signed, entries).unwrap();
    let definition = Definition {
        text_hash: [7; 32],
        threshold: 3,
        deadline: 1_900_000_000,
        scope: "City council of Urneville".into(),
        policy: Some(Policy {
            min_bucket_bits: 3,
            min_real_keys: 2,
            min_snapshot: 1,
            disclosure: None,
        }),
        registry: REGISTRY,
        registrars: registrars.clone(),
    };
    Fixture {
        wallets,
        snapshot,
        registrars,
        definition,
    }
}

struct Log {
    records: Vec<PetitionRecord>,
}

impl Log {
    fn push(&mut self, kind: Kind, signer: [u8; 32], body: Vec<u8>) -> u64 {
        let index = 100 + self.records.len() as u64;
        self.records.push(PetitionRecord {
            index,
            kind,
            signer,
            body,
        });
        index
    }

    fn phase(&mut self, to: Phase) {
        self.push(CONTEXT_PHASE, AUTHORITY, vec![to.code()]);
    }
}

fn one_time_key() -> [u8; 32] {
    let mut seed = [0u8; 32];
    rand::Rng::fill_bytes(&mut rand::rng(), &mut seed);
    SigningKey::from_bytes(&seed).verifying_key().to_bytes()
}

/// Wallet `who` signs (or withdraws) with a fresh one-time envelope key.
fn signature_body(f: &Fixture, who: usize, withdrawal: bool, signer: &[u8; 32]) -> SignatureBody {
    let key = f.wallets[who].public_key();
    let at = f.snapshot.position(&key).unwrap();
    let ring = BucketRing::new(&f.snapshot.bucket(at.bucket).unwrap()).unwrap();
    let context = signature::context_bytes(
        if withdrawal {
            labels::WITHDRAWAL
        } else {
            labels::SIGNATURE
        },
        &CONTEXT,
        &f.snapshot.id(),
        at.bucket,
        &f.definition.text_hash,
        signer,
    );
    let sig = signature::sign(
        &ring,
        at.index,
        f.wallets[who].secret(),
        &signature::linking_base(&f.snapshot.id(), &CONTEXT),
        &context,
        &mut rand::rng(),
    )
    .unwrap();
    SignatureBody {
        bucket: at.bucket,
        disclosed: None,
        signature: sig.to_bytes(),
    }
}

fn sign(log: &mut Log, f: &Fixture, who: usize) -> u64 {
    let signer = one_time_key();
    let body = signature_body(f, who, false, &signer);
    log.push(PETITION_SIGN, signer, body.to_bytes())
}

fn withdraw(log: &mut Log, f: &Fixture, who: usize) -> u64 {
    let signer = one_time_key();
    let body = signature_body(f, who, true, &signer);
    log.push(PETITION_WITHDRAW, signer, body.to_bytes())
}

/// Definition, snapshot and its parts, opened.
fn opened(f: &Fixture) -> Log {
    let mut log = Log { records: vec![] };
    log.push(PETITION_DEFINE, AUTHORITY, f.definition.to_bytes());
    log.push(REGISTRY_SNAPSHOT, AUTHORITY, f.snapshot.signed().to_bytes());
    for part in f.snapshot.parts() {
        log.push(REGISTRY_SNAPSHOT_PART, AUTHORITY, part.to_bytes());
    }
    log.phase(Phase::Open);
    log
}

/// The parameters hash of the petition's `context.open`: that of its definition, if the
/// log has one.
fn parameters(log: &Log) -> [u8; 32] {
    log.records
        .iter()
        .find(|r| r.kind == PETITION_DEFINE)
        .map_or([0; 32], |r| Sha256::digest(&r.body).into())
}

fn run(log: &Log) -> Result<urne_petition::PetitionCount, Violation> {
    recount(
        CONTEXT,
        AUTHORITY,
        parameters(log),
        &log.records,
        &mut rand::rng(),
    )
}

#[test]
fn a_definition_other_than_the_opens_parameters_is_refused() {
    let f = fixture(4);
    let log = opened(&f);
    let mut other = f.definition.clone();
    other.threshold += 1;
    let found = recount(
        CONTEXT,
        AUTHORITY,
        Sha256::digest(other.to_bytes()).into(),
        &log.records,
        &mut rand::rng(),
    )
    .unwrap_err();
    assert_eq!((found.index, found.field.as_str()), (100, "body"));
    assert!(found.reason.contains("parameters"), "{found}");
}

#[test]
fn a_petition_is_signed_withdrawn_closed_and_counted() {
    let f = fixture(20);
    assert_eq!(f.snapshot.header().bucket_count(), 3);
    let mut log = opened(&f);
    for who in 0..5 {
        sign(&mut log, &f, who);
    }
    withdraw(&mut log, &f, 3);
    log.phase(Phase::Closed);
    let result = PetitionResult {
        counted: 4,
        withdrawn: 1,
        reached: true,
    };
    log.push(PETITION_RESULT, AUTHORITY, result.to_bytes());
    log.phase(Phase::Reached);
    let count = run(&log).unwrap();
    assert_eq!(count.phase, Phase::Reached);
    assert_eq!((count.counted, count.withdrawn), (4, 1));
    assert_eq!(count.result, Some(result));
    assert_eq!(f.registrars.threshold, 2);
}

#[test]
fn a_second_signature_with_the_same_tag_is_refused_naming_the_first() {
    let f = fixture(10);
    let mut log = opened(&f);
    let first = sign(&mut log, &f, 2);
    // The same person, another one-time key, a fresh signature: the tag is the same.
    let again = sign(&mut log, &f, 2);
    let v = run(&log).unwrap_err();
    assert_eq!(v.index, again);
    assert_eq!(v.field, "body.signature.tag");
    assert!(v.reason.contains(&format!("record #{first}")), "{v}");
}

#[test]
fn an_altered_proof_is_refused() {
    let f = fixture(10);
    let mut log = opened(&f);
    sign(&mut log, &f, 0);
    let bad = sign(&mut log, &f, 1);
    sign(&mut log, &f, 4);
    let body = &mut log
        .records
        .iter_mut()
        .find(|r| r.index == bad)
        .unwrap()
        .body;
    // The low bit of z's least significant byte: z stays canonical, so only the
    // verification equations can refuse it.
    let at = body.len() - 32;
    body[at] ^= 1;
    let v = run(&log).unwrap_err();
    assert_eq!(v.index, bad);
    assert_eq!(v.field, "body.signature");
}

#[test]
fn a_signature_moved_to_another_envelope_key_is_refused() {
    let f = fixture(10);
    let mut log = opened(&f);
    let moved = sign(&mut log, &f, 1);
    log.records
        .iter_mut()
        .find(|r| r.index == moved)
        .unwrap()
        .signer = one_time_key();
    let v = run(&log).unwrap_err();
    assert_eq!((v.index, v.field.as_str()), (moved, "body.signature"));
}

#[test]
fn a_signer_outside_the_bucket_is_refused() {
    let f = fixture(20);
    let mut log = opened(&f);
    // A real signature, over the signer's bucket, presented as over another bucket (whose
    // ring does not hold the signer's key).
    let signer = one_time_key();
    let mut body = signature_body(&f, 0, false, &signer);
    body.bucket = (body.bucket + 1) % 3;
    let index = log.push(PETITION_SIGN, signer, body.to_bytes());
    let v = run(&log).unwrap_err();
    assert_eq!((v.index, v.field.as_str()), (index, "body.signature"));
    // A bucket that does not exist.
    let mut log = opened(&f);
    let mut body = signature_body(&f, 0, false, &signer);
    body.bucket = 3;
    let index = log.push(PETITION_SIGN, signer, body.to_bytes());
    let v = run(&log).unwrap_err();
    assert_eq!((v.index, v.field.as_str()), (index, "body.bucket"));
}

#[test]
fn a_signature_over_a_swapped_snapshot_is_refused() {
    let f = fixture(10);
    let other = fixture(10);
    // The petition is posted with the other snapshot (same registrars, cosigned): the
    // signatures made over the first snapshot's buckets do not verify.
    let mut log = Log { records: vec![] };
    log.push(PETITION_DEFINE, AUTHORITY, f.definition.to_bytes());
    log.push(
        REGISTRY_SNAPSHOT,
        AUTHORITY,
        other.snapshot.signed().to_bytes(),
    );
    for part in other.snapshot.parts() {
        log.push(REGISTRY_SNAPSHOT_PART, AUTHORITY, part.to_bytes());
    }
    log.phase(Phase::Open);
    let index = sign(&mut log, &f, 0);
    let v = run(&log).unwrap_err();
    assert_eq!(v.index, index);
    // A snapshot cosigned by registrars who are not the petition's.
    let mut log = Log { records: vec![] };
    let mut foreign = f.definition.clone();
    foreign.registrars =
        Registrars::new(1, vec![SigningKey::from_bytes(&[99; 32]).verifying_key()]).unwrap();
    log.push(PETITION_DEFINE, AUTHORITY, foreign.to_bytes());
    let index = log.push(REGISTRY_SNAPSHOT, AUTHORITY, f.snapshot.signed().to_bytes());
    let v = run(&log).unwrap_err();
    assert_eq!((v.index, v.field.as_str()), (index, "body.cosignatures"));
}

#[test]
fn an_altered_count_is_refused() {
    let f = fixture(10);
    let mut log = opened(&f);
    for who in 0..3 {
        sign(&mut log, &f, who);
    }
    log.phase(Phase::Closed);
    for (counted, withdrawn, reached) in [(4, 0, true), (3, 1, true), (3, 0, false)] {
        let mut l = Log {
            records: log.records.clone(),
        };
        let at = l.push(
            PETITION_RESULT,
            AUTHORITY,
            PetitionResult {
                counted,
                withdrawn,
                reached,
            }
            .to_bytes(),
        );
        let v = run(&l).unwrap_err();
        assert_eq!((v.index, v.field.as_str()), (at, "body"), "{v}");
    }
    // The right result, then the wrong outcome.
    let mut l = Log {
        records: log.records.clone(),
    };
    l.push(
        PETITION_RESULT,
        AUTHORITY,
        PetitionResult {
            counted: 3,
            withdrawn: 0,
            reached: true,
        }
        .to_bytes(),
    );
    l.phase(Phase::NotReached);
    assert!(run(&l).unwrap_err().reason.contains("reached"));
    // A result by someone else than the authority.
    let mut l = Log {
        records: log.records.clone(),
    };
    let at = l.push(
        PETITION_RESULT,
        [9; 32],
        PetitionResult {
            counted: 3,
            withdrawn: 0,
            reached: true,
        }
        .to_bytes(),
    );
    assert_eq!(run(&l).unwrap_err().index, at);
}

#[test]
fn a_signature_after_close_or_before_open_is_refused() {
    let f = fixture(10);
    let mut log = opened(&f);
    sign(&mut log, &f, 0);
    log.phase(Phase::Closed);
    let late = sign(&mut log, &f, 1);
    let v = run(&log).unwrap_err();
    assert_eq!((v.index, v.field.as_str()), (late, "kind"));
    assert!(v.reason.contains("closed"), "{v}");
    // Before opening, nothing to sign against.
    let mut early = Log {
        records: opened(&f).records[..3].to_vec(),
    };
    let signer = one_time_key();
    let at = early.push(
        PETITION_SIGN,
        signer,
        signature_body(&f, 0, false, &signer).to_bytes(),
    );
    assert_eq!(run(&early).unwrap_err().index, at);
}

#[test]
fn withdrawal_needs_the_same_tag_and_happens_once() {
    let f = fixture(10);
    let mut log = opened(&f);
    sign(&mut log, &f, 0);
    // Someone who never signed cannot withdraw.
    let mut l = Log {
        records: log.records.clone(),
    };
    let at = withdraw(&mut l, &f, 1);
    assert_eq!((run(&l).unwrap_err().index, at), (at, at));
    let first = withdraw(&mut log, &f, 0);
    let again = withdraw(&mut log, &f, 0);
    let v = run(&log).unwrap_err();
    assert_eq!(v.index, again);
    assert!(v.reason.contains(&format!("record #{first}")), "{v}");
    // A withdrawn signer cannot sign again.
    let mut l = Log {
        records: log.records[..log.records.len() - 1].to_vec(),
    };
    let resign = sign(&mut l, &f, 0);
    assert_eq!(run(&l).unwrap_err().index, resign);
    // A signature body presented as a withdrawal (other label) does not verify.
    let mut l = Log {
        records: opened(&f).records,
    };
    sign(&mut l, &f, 0);
    let signer = one_time_key();
    let body = signature_body(&f, 0, false, &signer);
    let at = l.push(PETITION_WITHDRAW, signer, body.to_bytes());
    assert_eq!(run(&l).unwrap_err().index, at);
}

#[test]
fn the_lifecycle_is_enforced() {
    let f = fixture(10);
    // Opening without a complete snapshot.
    let mut l = Log {
        records: opened(&f).records,
    };
    l.records.retain(|r| r.kind != REGISTRY_SNAPSHOT_PART);
    assert!(run(&l).unwrap_err().reason.contains("snapshot is complete"));
    // Skipping a phase, and a phase move by someone else.
    let mut l = Log { records: vec![] };
    l.phase(Phase::Closed);
    assert!(run(&l).is_err());
    let mut l = Log {
        records: opened(&f).records,
    };
    l.push(CONTEXT_PHASE, [9; 32], vec![Phase::Closed.code()]);
    assert_eq!(run(&l).unwrap_err().field, "signer");
    // A second definition.
    let mut l = Log { records: vec![] };
    l.push(PETITION_DEFINE, AUTHORITY, f.definition.to_bytes());
    let at = l.push(PETITION_DEFINE, AUTHORITY, f.definition.to_bytes());
    assert_eq!(run(&l).unwrap_err().index, at);
}

#[test]
fn bodies_are_decoded_strictly() {
    let f = fixture(2);
    let d = f.definition.to_bytes();
    assert_eq!(Definition::decode(&d).unwrap(), f.definition);
    let field = |b: &[u8]| Definition::decode(b).unwrap_err().field().to_owned();
    let mut zero = d.clone();
    zero[33..41].copy_from_slice(&0u64.to_be_bytes());
    assert_eq!(field(&zero), "body.threshold");
    let mut v = d.clone();
    v[0] = 3;
    assert_eq!(field(&v), "body.version");
    let mut control = d.clone();
    control[51] = b'\n';
    assert_eq!(field(&control), "body.scope");
    let mut trailing = d.clone();
    trailing.push(0);
    assert_eq!(field(&trailing), "body.registrars");
    let r = PetitionResult {
        counted: 1,
        withdrawn: 2,
        reached: false,
    }
    .to_bytes();
    let mut flag = r.clone();
    flag[17] = 2;
    assert_eq!(
        PetitionResult::decode(&flag).unwrap_err().field(),
        "body.reached"
    );
    let s = SignatureBody {
        bucket: 1,
        disclosed: None,
        signature: vec![1; 10],
    }
    .to_bytes();
    let mut disclosure = s.clone();
    disclosure[5] = 2;
    assert_eq!(
        SignatureBody::decode(&disclosure).unwrap_err().field(),
        "body.disclosure"
    );
    let district_zero = [&s[..5], &[1, 0, 0, 0, 0], &s[6..]].concat();
    assert_eq!(
        SignatureBody::decode(&district_zero).unwrap_err().field(),
        "body.disclosure"
    );
    let short = [&s[..5], &[1, 0, 0]].concat();
    assert_eq!(
        SignatureBody::decode(&short).unwrap_err().field(),
        "body.disclosure"
    );
    let disclosed = SignatureBody {
        bucket: 1,
        disclosed: Some(7),
        signature: vec![1; 10],
    };
    assert_eq!(
        SignatureBody::decode(&disclosed.to_bytes()).unwrap(),
        disclosed
    );
}

/// The definition with its policy changed by `edit`.
fn with_policy(f: &Fixture, edit: impl FnOnce(&mut Policy)) -> Definition {
    let mut definition = f.definition.clone();
    let mut policy = definition.policy.unwrap();
    edit(&mut policy);
    definition.policy = Some(policy);
    definition
}

/// The fold's verdict on the snapshot record of a log with `definition`.
fn snapshot_verdict(f: &Fixture, definition: &Definition) -> Result<(), (u64, String, String)> {
    let mut log = Log { records: vec![] };
    log.push(PETITION_DEFINE, AUTHORITY, definition.to_bytes());
    log.push(REGISTRY_SNAPSHOT, AUTHORITY, f.snapshot.signed().to_bytes());
    run(&log)
        .map(|_| ())
        .map_err(|v| (v.index, v.field, v.reason))
}

#[test]
fn a_snapshot_below_the_definitions_floor_is_refused() {
    // 10 people in buckets of 8: two buckets of 5 registered keys, snapshot number 1.
    let f = fixture(10);
    assert_eq!(snapshot_verdict(&f, &f.definition), Ok(()));
    let larger = with_policy(&f, |p| {
        p.min_bucket_bits = 4;
        p.min_real_keys = 2;
    });
    let (index, field, reason) = snapshot_verdict(&f, &larger).unwrap_err();
    assert_eq!(
        (index, field.as_str()),
        (101, "body.bucket_bits"),
        "{reason}"
    );
    let fuller = with_policy(&f, |p| p.min_real_keys = 6);
    let (index, field, reason) = snapshot_verdict(&f, &fuller).unwrap_err();
    assert_eq!((index, field.as_str()), (101, "body.total"), "{reason}");
    assert!(reason.contains("5 registered keys"), "{reason}");
    let exactly = with_policy(&f, |p| p.min_real_keys = 5);
    assert_eq!(snapshot_verdict(&f, &exactly), Ok(()));
    let newer = with_policy(&f, |p| p.min_snapshot = 2);
    let (index, field, reason) = snapshot_verdict(&f, &newer).unwrap_err();
    assert_eq!((index, field.as_str()), (101, "body.number"), "{reason}");
}

#[test]
fn a_version_1_snapshot_is_refused_under_a_version_2_definition_and_replays_under_version_1() {
    let f = fixture_with_snapshot_version(10, SNAPSHOT_VERSION_1);
    assert_eq!(f.snapshot.header().version, 1);
    let (index, field, reason) = snapshot_verdict(&f, &f.definition).unwrap_err();
    assert_eq!((index, field.as_str()), (101, "body.version"), "{reason}");
    let mut v1 = f.definition.clone();
    v1.policy = None;
    assert_eq!(snapshot_verdict(&f, &v1), Ok(()));
}

#[test]
fn a_bucket_of_one_registered_key_is_refused_even_under_a_version_1_definition() {
    let f = fixture(1);
    let mut v1 = f.definition.clone();
    v1.policy = None;
    assert_eq!(v1.to_bytes()[0], 1);
    assert_eq!(Definition::decode(&v1.to_bytes()).unwrap(), v1);
    let (index, field, _) = snapshot_verdict(&f, &v1).unwrap_err();
    assert_eq!((index, field.as_str()), (101, "body.total"));
    let two = fixture(2);
    let mut v1 = two.definition.clone();
    v1.policy = None;
    assert_eq!(snapshot_verdict(&two, &v1), Ok(()));
}

#[test]
fn a_definition_promising_less_than_the_protocol_floor_is_refused() {
    let f = fixture(2);
    let field = |edit: fn(&mut Policy)| {
        Definition::decode(&with_policy(&f, edit).to_bytes())
            .unwrap_err()
            .field()
            .to_owned()
    };
    assert_eq!(field(|p| p.min_real_keys = 1), "body.min_real_keys");
    assert_eq!(field(|p| p.min_real_keys = 9), "body.min_real_keys");
    assert_eq!(field(|p| p.min_bucket_bits = 0), "body.min_bucket_bits");
    assert_eq!(field(|p| p.min_bucket_bits = 17), "body.min_bucket_bits");
    assert_eq!(field(|p| p.min_snapshot = 0), "body.min_snapshot");
    assert_eq!(field(|p| p.disclosure = Some(0)), "body.min_bin");
    let mut bytes = f.definition.to_bytes();
    let policy_at = 51 + f.definition.scope.len();
    bytes[policy_at + 9] = 2;
    assert_eq!(
        Definition::decode(&bytes).unwrap_err().field(),
        "body.disclosure"
    );
    bytes[policy_at + 9] = 0;
    bytes[policy_at + 13] = 1;
    assert_eq!(
        Definition::decode(&bytes).unwrap_err().field(),
        "body.min_bin"
    );
}

/// A second signature by wallet `who`, as the board would refuse it, and its envelope key.
fn second_signature(f: &Fixture, who: usize) -> ([u8; 32], SignatureBody) {
    let signer = one_time_key();
    (signer, signature_body(f, who, false, &signer))
}

fn evidence(signer: [u8; 32], body: SignatureBody) -> Vec<u8> {
    Duplicate { signer, body }.to_bytes()
}

#[test]
fn a_refused_second_signature_is_kept_as_evidence_and_never_counted() {
    let f = fixture(10);
    let mut log = opened(&f);
    sign(&mut log, &f, 0);
    sign(&mut log, &f, 1);
    // The second signature itself is refused, naming the record that holds its tag.
    let (signer, body) = second_signature(&f, 1);
    let mut refused = Log {
        records: log.records.clone(),
    };
    let at = refused.push(PETITION_SIGN, signer, body.to_bytes());
    let v = run(&refused).unwrap_err();
    assert_eq!((v.index, v.field.as_str()), (at, "body.signature.tag"));
    // Posted as evidence by anyone (another one-time key): accepted, not counted.
    log.push(
        PETITION_DUPLICATE,
        one_time_key(),
        evidence(signer, body.clone()),
    );
    let count = run(&log).unwrap();
    assert_eq!((count.counted, count.duplicates), (2, 1));
    // The same evidence twice, and another second signature under the same tag (its signer
    // can make any number, the embedded envelope key being any 32 bytes): one evidence per
    // tag, so neither is kept and the count of duplicates stays a count of tags.
    for (signer, body) in [(signer, body.clone()), second_signature(&f, 1)] {
        let mut twice = Log {
            records: log.records.clone(),
        };
        let at = twice.push(PETITION_DUPLICATE, one_time_key(), evidence(signer, body));
        let v = run(&twice).unwrap_err();
        assert_eq!(
            (v.index, v.field.as_str()),
            (at, "body.signed.signature.tag"),
            "{v}"
        );
        assert!(v.reason.contains("already kept as evidence"), "{v}");
    }
    // Evidence survives the close and is taken until the result is posted, not after.
    log.phase(Phase::Closed);
    let (signer, body) = second_signature(&f, 0);
    log.push(PETITION_DUPLICATE, one_time_key(), evidence(signer, body));
    let count = run(&log).unwrap();
    assert_eq!((count.counted, count.duplicates), (2, 2));
    evidence_after_the_result_is_refused(&f, log);
}

/// Evidence posted after the result is refused: the finished record stays as it was.
fn evidence_after_the_result_is_refused(f: &Fixture, mut log: Log) {
    let count = run(&log).unwrap();
    let result = PetitionResult {
        counted: count.counted,
        withdrawn: count.withdrawn,
        reached: count.counted >= f.definition.threshold,
    };
    log.push(PETITION_RESULT, AUTHORITY, result.to_bytes());
    run(&log).unwrap();
    let mut late = Log {
        records: log.records.clone(),
    };
    let (signer, body) = second_signature(f, 1);
    let at = late.push(PETITION_DUPLICATE, one_time_key(), evidence(signer, body));
    assert_eq!(run(&late).unwrap_err().index, at);
    log.phase(if result.reached {
        Phase::Reached
    } else {
        Phase::NotReached
    });
    let (signer, body) = second_signature(f, 1);
    let at = log.push(PETITION_DUPLICATE, one_time_key(), evidence(signer, body));
    assert_eq!(run(&log).unwrap_err().index, at);
}

#[test]
fn evidence_that_is_no_duplicate_is_refused() {
    let f = fixture(10);
    let mut log = opened(&f);
    let first = sign(&mut log, &f, 0);
    // A first signature dressed as evidence: its tag is held by no signature.
    let (signer, body) = second_signature(&f, 1);
    let mut fresh = Log {
        records: log.records.clone(),
    };
    let at = fresh.push(PETITION_DUPLICATE, one_time_key(), evidence(signer, body));
    let v = run(&fresh).unwrap_err();
    assert_eq!(
        (v.index, v.field.as_str()),
        (at, "body.signed.signature.tag")
    );
    // The counted signature itself, re-posted as its own duplicate.
    let counted = log
        .records
        .iter()
        .find(|r| r.index == first)
        .unwrap()
        .clone();
    let mut itself = Log {
        records: log.records.clone(),
    };
    let body = SignatureBody::decode(&counted.body).unwrap();
    let at = itself.push(
        PETITION_DUPLICATE,
        one_time_key(),
        evidence(counted.signer, body),
    );
    let v = run(&itself).unwrap_err();
    assert_eq!((v.index, v.field.as_str()), (at, "body.signed"));
    assert!(v.reason.contains("itself"), "{v}");
    // A duplicate whose embedded envelope key was swapped: its ring signature binds the
    // refused record's key, so it no longer verifies.
    let (_, body) = second_signature(&f, 0);
    let mut swapped = Log {
        records: log.records.clone(),
    };
    let at = swapped.push(
        PETITION_DUPLICATE,
        one_time_key(),
        evidence(one_time_key(), body),
    );
    let v = run(&swapped).unwrap_err();
    assert_eq!((v.index, v.field.as_str()), (at, "body.signed.signature"));
    // Before the petition opens there is nothing to duplicate.
    let mut draft = Log { records: vec![] };
    draft.push(PETITION_DEFINE, AUTHORITY, f.definition.to_bytes());
    let (signer, body) = second_signature(&f, 0);
    let at = draft.push(PETITION_DUPLICATE, one_time_key(), evidence(signer, body));
    assert_eq!(run(&draft).unwrap_err().index, at);
}

/// The fixture's definition taking district disclosure with minimum bin `min_bin`.
fn disclosing_fixture(people: usize, min_bin: u32) -> Fixture {
    let mut f = fixture(people);
    f.definition = with_policy(&f, |p| p.disclosure = Some(min_bin));
    f
}

/// Wallet `who` signs disclosing its district (or `claim`, altered after signing).
fn disclosing_body(
    f: &Fixture,
    who: usize,
    claim: Option<u32>,
    signer: &[u8; 32],
) -> SignatureBody {
    disclosing_body_labelled(f, who, claim, signer, labels::SIGNATURE)
}

fn disclosing_body_labelled(
    f: &Fixture,
    who: usize,
    claim: Option<u32>,
    signer: &[u8; 32],
    label: &[u8],
) -> SignatureBody {
    let wallet = &f.wallets[who];
    let district = wallet
        .attributes()
        .iter()
        .find(|a| a.code == ATTRIBUTE_DISTRICT)
        .unwrap();
    let at = f.snapshot.position(&wallet.public_key()).unwrap();
    let ring = BucketRing::new(&f.snapshot.bucket(at.bucket).unwrap()).unwrap();
    let commitments = BucketRing::new(&f.snapshot.bucket_commitments(at.bucket).unwrap()).unwrap();
    let context = signature::context_bytes_disclosing(
        label,
        &CONTEXT,
        &f.snapshot.id(),
        at.bucket,
        &f.definition.text_hash,
        Some(district.value),
        signer,
    );
    let sig = signature::sign_disclosing(
        &ring,
        &commitments,
        at.index,
        wallet.secret(),
        district.blinding(),
        district.value,
        &signature::linking_base(&f.snapshot.id(), &CONTEXT),
        &context,
        &mut rand::rng(),
    )
    .unwrap();
    SignatureBody {
        bucket: at.bucket,
        disclosed: Some(claim.unwrap_or(district.value)),
        signature: sig.to_bytes(),
    }
}

fn sign_disclosing(log: &mut Log, f: &Fixture, who: usize) -> u64 {
    let signer = one_time_key();
    let body = disclosing_body(f, who, None, &signer);
    log.push(PETITION_SIGN, signer, body.to_bytes())
}

#[test]
fn disclosed_districts_are_counted_and_bins_below_the_minimum_are_withheld() {
    // Wallets alternate districts 1 (even) and 2 (odd); five of each enrolled.
    let f = disclosing_fixture(10, 2);
    let mut log = opened(&f);
    sign_disclosing(&mut log, &f, 0);
    sign_disclosing(&mut log, &f, 2);
    sign_disclosing(&mut log, &f, 1);
    sign(&mut log, &f, 3);
    let count = run(&log).unwrap();
    // District 2 has one signature, below the bin of 2: withheld, yet counted.
    assert_eq!((count.counted, count.districts.clone()), (4, vec![(1, 2)]));
    sign_disclosing(&mut log, &f, 5);
    assert_eq!(run(&log).unwrap().districts, [(1, 2), (2, 2)]);
    // A withdrawal takes its district's signature out: district 1 falls below the bin.
    withdraw(&mut log, &f, 0);
    let count = run(&log).unwrap();
    assert_eq!((count.counted, count.districts), (4, vec![(2, 2)]));
    // A disclosing signature's tag is the key's: the same person cannot sign again
    // without disclosing.
    let at = sign(&mut log, &f, 2);
    let v = run(&log).unwrap_err();
    assert_eq!((v.index, v.field.as_str()), (at, "body.signature.tag"));
}

#[test]
fn a_false_or_unwelcome_disclosure_is_refused() {
    let f = disclosing_fixture(10, 2);
    // Wallet 0 is in district 1; its signature relabelled as district 2 does not verify.
    let mut log = opened(&f);
    let signer = one_time_key();
    let body = disclosing_body(&f, 0, Some(2), &signer);
    let at = log.push(PETITION_SIGN, signer, body.to_bytes());
    let v = run(&log).unwrap_err();
    assert_eq!((v.index, v.field.as_str()), (at, "body.signature"));
    // A disclosing signature presented without its disclosure does not decode.
    let mut log = opened(&f);
    let signer = one_time_key();
    let mut body = disclosing_body(&f, 0, None, &signer);
    body.disclosed = None;
    let at = log.push(PETITION_SIGN, signer, body.to_bytes());
    let v = run(&log).unwrap_err();
    assert_eq!((v.index, v.field.as_str()), (at, "body.signature"));
    // A definition that takes no disclosure refuses one.
    let plain = fixture(10);
    let mut log = opened(&plain);
    let signer = one_time_key();
    let body = disclosing_body(&plain, 0, None, &signer);
    let at = log.push(PETITION_SIGN, signer, body.to_bytes());
    let v = run(&log).unwrap_err();
    assert_eq!((v.index, v.field.as_str()), (at, "body.disclosure"));
    // A district enrolled fewer times than the minimum bin may not be disclosed.
    let strict = disclosing_fixture(10, 6);
    let mut log = opened(&strict);
    let signer = one_time_key();
    let body = disclosing_body(&strict, 0, None, &signer);
    let at = log.push(PETITION_SIGN, signer, body.to_bytes());
    let v = run(&log).unwrap_err();
    assert_eq!((v.index, v.field.as_str()), (at, "body.disclosure"));
    assert!(v.reason.contains("5 people enrolled"), "{v}");
    // A withdrawal that discloses a district, correctly signed under the withdrawal label:
    // refused for the disclosure alone (the plain withdrawal of the same signer passes).
    let mut log = opened(&f);
    sign_disclosing(&mut log, &f, 0);
    let signer = one_time_key();
    let body = disclosing_body_labelled(&f, 0, None, &signer, labels::WITHDRAWAL);
    let mut disclosing = Log {
        records: log.records.clone(),
    };
    let at = disclosing.push(PETITION_WITHDRAW, signer, body.to_bytes());
    let v = run(&disclosing).unwrap_err();
    assert_eq!((v.index, v.field.as_str()), (at, "body.disclosure"), "{v}");
    assert!(v.reason.contains("withdrawal"), "{v}");
    withdraw(&mut log, &f, 0);
    assert_eq!(run(&log).unwrap().withdrawn, 1);
}

#[test]
fn the_encoded_tag_of_a_signature_body_is_its_verified_tag() {
    let f = fixture(10);
    let body = signature_body(&f, 3, false, &one_time_key());
    let at = f.snapshot.position(&f.wallets[3].public_key()).unwrap();
    let ring = BucketRing::new(&f.snapshot.bucket(at.bucket).unwrap()).unwrap();
    let decoded = signature::RingSignature::decode(&body.signature, &ring).unwrap();
    assert_eq!(body.encoded_tag(), Some(decoded.tag()));
    let disclosing = disclosing_fixture(10, 2);
    let body = disclosing_body(&disclosing, 3, None, &one_time_key());
    let decoded = signature::RingSignature::decode_disclosing(&body.signature, &ring).unwrap();
    assert_eq!(body.encoded_tag(), Some(decoded.tag()));
}

/// spec/32 §32.6 steps 4 and 5 check the ring signature before the tag: a record that
/// fails both is named for its signature, though the replay verifies rings in a batch
/// after its tag lookups.
#[test]
fn a_record_failing_its_signature_and_its_tag_is_named_for_the_signature() {
    let f = fixture(10);
    let mut log = opened(&f);
    // A withdrawal under the SIGNATURE label by someone who never signed: its ring
    // equation fails and no signature holds its tag.
    let signer = one_time_key();
    let body = signature_body(&f, 3, false, &signer);
    let at = log.push(PETITION_WITHDRAW, signer, body.to_bytes());
    let v = run(&log).unwrap_err();
    assert_eq!((v.index, v.field.as_str()), (at, "body.signature"), "{v}");

    // A second signature of a signer, its proof altered: its tag is held already.
    let mut log = opened(&f);
    sign(&mut log, &f, 2);
    let again = sign(&mut log, &f, 2);
    let body = &mut log.records.last_mut().unwrap().body;
    let z = body.len() - 32;
    body[z] ^= 1;
    let v = run(&log).unwrap_err();
    assert_eq!(
        (v.index, v.field.as_str()),
        (again, "body.signature"),
        "{v}"
    );
}
