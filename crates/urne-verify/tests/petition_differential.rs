//! V13's differential test: the verifier's own petition fold (urne_verify::petition)
//! against the board's (urne_petition::recount), on an honest petition and on every
//! tamper class of spec/32 §32.6 plus random byte flips in every body. Both must accept
//! or refuse alike, refuse first the same record, and agree on the count. A disagreement
//! is a bug in one of them, or a place where spec/32 says too little.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ed25519_dalek::SigningKey;
use rand::{Rng, RngExt};
use sha2::{Digest, Sha256};
use urne_credential::registry::{Cosignature, Register, Registrars, SignedSnapshot, Snapshot};
use urne_credential::wallet::{ATTRIBUTE_DISTRICT, EnrolmentRequest, Wallet};
use urne_petition::kinds::*;
use urne_petition::signature::{self, BucketRing};
use urne_petition::{Definition, Duplicate, PetitionResult, Phase, Policy, SignatureBody, labels};
use urne_record::Kind;
use urne_record::kinds::CONTEXT_PHASE;
use urne_verify::petition::{self as verifier, PetitionOutcome};

const REGISTRY: [u8; 32] = [4; 32];
const CONTEXT: [u8; 32] = [2; 32];
const AUTHORITY: [u8; 32] = [1; 32];

struct Fixture {
    wallets: Vec<Wallet>,
    snapshot: Snapshot,
    registrar_keys: Vec<SigningKey>,
    definition: Definition,
}

/// Ten wallets, districts 1 (even) and 2 (odd), a version-2 snapshot in buckets of 8
/// cosigned by 2 of 3 registrars, a version-2 definition taking disclosure (min bin 2).
fn fixture() -> Fixture {
    let mut rng = rand::rng();
    let mut register = Register::new();
    let mut wallets = Vec::new();
    for i in 0..10usize {
        let w = Wallet::generate(&[(ATTRIBUTE_DISTRICT, 1 + (i % 2) as u32)], &mut rng).unwrap();
        let bytes = w.enrolment_request(&REGISTRY, &mut rng).unwrap().to_bytes();
        let request = EnrolmentRequest::decode_and_verify(&bytes, &REGISTRY).unwrap();
        let mut person = [0u8; 32];
        person[..8].copy_from_slice(&(i as u64).to_be_bytes());
        register.enrol(person, &request, false).unwrap();
        wallets.push(w);
    }
    let registrar_keys: Vec<SigningKey> = (0..3u8)
        .map(|i| SigningKey::from_bytes(&[i + 10; 32]))
        .collect();
    let registrars = Registrars::new(
        2,
        registrar_keys
            .iter()
            .map(SigningKey::verifying_key)
            .collect(),
    )
    .unwrap();
    let (header, entries) = register.snapshot_header(REGISTRY, 1, [0; 32], 3);
    let id = header.id();
    let signed = SignedSnapshot {
        header,
        cosignatures: vec![
            Cosignature::sign(0, &registrar_keys[0], &id),
            Cosignature::sign(2, &registrar_keys[2], &id),
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
            disclosure: Some(2),
        }),
        registry: REGISTRY,
        registrars,
    };
    Fixture {
        wallets,
        snapshot,
        registrar_keys,
        definition,
    }
}

#[derive(Clone)]
struct Log {
    records: Vec<(Kind, [u8; 32], Vec<u8>)>,
    /// The parameters hash of the context.open, if not the definition's own hash.
    parameters: Option<[u8; 32]>,
}

impl Log {
    fn push(&mut self, kind: Kind, signer: [u8; 32], body: Vec<u8>) -> usize {
        self.records.push((kind, signer, body));
        self.records.len() - 1
    }

    fn phase(&mut self, to: Phase) -> usize {
        self.push(CONTEXT_PHASE, AUTHORITY, vec![to.code()])
    }

    fn insert(&mut self, at: usize, kind: Kind, signer: [u8; 32], body: Vec<u8>) {
        self.records.insert(at, (kind, signer, body));
    }

    fn position(&self, kind: Kind, nth: usize) -> usize {
        self.records
            .iter()
            .enumerate()
            .filter(|(_, r)| r.0 == kind)
            .nth(nth)
            .unwrap()
            .0
    }

    fn phase_at(&self, to: Phase) -> usize {
        self.records
            .iter()
            .position(|r| r.0 == CONTEXT_PHASE && r.2 == [to.code()])
            .unwrap()
    }
}

fn one_time_key() -> [u8; 32] {
    let mut seed = [0u8; 32];
    rand::rng().fill_bytes(&mut seed);
    SigningKey::from_bytes(&seed).verifying_key().to_bytes()
}

/// Wallet `who`'s signature (or withdrawal) body bound to `signer`, disclosing its
/// district if `disclose`.
fn signature_body(
    f: &Fixture,
    who: usize,
    withdrawal: bool,
    disclose: bool,
    signer: &[u8; 32],
) -> SignatureBody {
    let wallet = &f.wallets[who];
    let at = f.snapshot.position(&wallet.public_key()).unwrap();
    let ring = BucketRing::new(&f.snapshot.bucket(at.bucket).unwrap()).unwrap();
    let label = if withdrawal {
        labels::WITHDRAWAL
    } else {
        labels::SIGNATURE
    };
    let district = wallet
        .attributes()
        .iter()
        .find(|a| a.code == ATTRIBUTE_DISTRICT)
        .unwrap();
    let disclosed = disclose.then_some(district.value);
    let context = signature::context_bytes_disclosing(
        label,
        &CONTEXT,
        &f.snapshot.id(),
        at.bucket,
        &f.definition.text_hash,
        disclosed,
        signer,
    );
    let base = signature::linking_base(&f.snapshot.id(), &CONTEXT);
    let sig = if disclose {
        let commitments =
            BucketRing::new(&f.snapshot.bucket_commitments(at.bucket).unwrap()).unwrap();
        signature::sign_disclosing(
            &ring,
            &commitments,
            at.index,
            wallet.secret(),
            district.blinding(),
            district.value,
            &base,
            &context,
            &mut rand::rng(),
        )
    } else {
        signature::sign(
            &ring,
            at.index,
            wallet.secret(),
            &base,
            &context,
            &mut rand::rng(),
        )
    }
    .unwrap();
    SignatureBody {
        bucket: at.bucket,
        disclosed,
        signature: sig.to_bytes(),
    }
}

fn sign(log: &mut Log, f: &Fixture, who: usize, disclose: bool) -> usize {
    let signer = one_time_key();
    let body = signature_body(f, who, false, disclose, &signer);
    log.push(PETITION_SIGN, signer, body.to_bytes())
}

fn withdrawal(f: &Fixture, who: usize) -> (Kind, [u8; 32], Vec<u8>) {
    let signer = one_time_key();
    let body = signature_body(f, who, true, false, &signer);
    (PETITION_WITHDRAW, signer, body.to_bytes())
}

/// A second signature by `who`, posted as evidence under another one-time key.
fn evidence(f: &Fixture, who: usize) -> (Kind, [u8; 32], Vec<u8>) {
    let signer = one_time_key();
    let body = signature_body(f, who, false, false, &signer);
    (
        PETITION_DUPLICATE,
        one_time_key(),
        Duplicate { signer, body }.to_bytes(),
    )
}

fn result(counted: u64, withdrawn: u64, reached: bool) -> Vec<u8> {
    PetitionResult {
        counted,
        withdrawn,
        reached,
    }
    .to_bytes()
}

/// Defined, snapshot posted, opened.
fn opened(f: &Fixture) -> Log {
    let mut log = Log {
        records: Vec::new(),
        parameters: None,
    };
    log.push(PETITION_DEFINE, AUTHORITY, f.definition.to_bytes());
    log.push(REGISTRY_SNAPSHOT, AUTHORITY, f.snapshot.signed().to_bytes());
    for part in f.snapshot.parts() {
        log.push(REGISTRY_SNAPSHOT_PART, AUTHORITY, part.to_bytes());
    }
    log.phase(Phase::Open);
    log
}

/// The honest petition: seven signatures (wallets 0, 1, 2 and 4 disclose: district 1
/// three times, district 2 once), wallet 5 withdraws, wallet 1's second signature kept as
/// evidence, closed, 6 counted, reached.
fn honest(f: &Fixture) -> Log {
    let mut log = opened(f);
    for who in 0..7 {
        sign(&mut log, f, who, matches!(who, 0 | 1 | 2 | 4));
    }
    let (k, s, b) = withdrawal(f, 5);
    log.push(k, s, b);
    let (k, s, b) = evidence(f, 1);
    log.push(k, s, b);
    log.phase(Phase::Closed);
    log.push(PETITION_RESULT, AUTHORITY, result(6, 1, true));
    log.phase(Phase::Reached);
    log
}

const FIRST: u64 = 100;

/// Both folds over `log`; panics, naming `case`, where they disagree. Returns the
/// verifier's outcome.
fn judge(case: &str, log: &Log) -> PetitionOutcome {
    let parameters = log.parameters.unwrap_or_else(|| {
        log.records
            .iter()
            .find(|r| r.0 == PETITION_DEFINE)
            .map_or([0; 32], |r| Sha256::digest(&r.2).into())
    });
    let board_records: Vec<urne_petition::PetitionRecord> = log
        .records
        .iter()
        .enumerate()
        .map(|(i, (kind, signer, body))| urne_petition::PetitionRecord {
            index: FIRST + i as u64,
            kind: *kind,
            signer: *signer,
            body: body.clone(),
        })
        .collect();
    let ours: Vec<verifier::PetitionRecord> = board_records
        .iter()
        .map(|r| verifier::PetitionRecord {
            index: r.index,
            kind: r.kind,
            signer: r.signer,
            body: r.body.clone(),
        })
        .collect();
    let board = urne_petition::recount(
        CONTEXT,
        AUTHORITY,
        parameters,
        &board_records,
        &mut rand::rng(),
    );
    let outcome = verifier::recount(CONTEXT, AUTHORITY, parameters, &ours);
    match (&board, outcome.faults.first()) {
        (Ok(count), None) => {
            assert_eq!(
                (
                    count.phase.name(),
                    count.counted,
                    count.withdrawn,
                    count.threshold,
                    count.duplicates,
                    &count.districts
                ),
                (
                    outcome.phase.name(),
                    outcome.counted,
                    outcome.withdrawn,
                    outcome.threshold,
                    outcome.duplicates,
                    &outcome.districts
                ),
                "{case}: the folds count differently"
            );
            assert_eq!(
                count.result.map(|r| (r.counted, r.withdrawn, r.reached)),
                outcome.result.map(|r| (r.counted, r.withdrawn, r.reached)),
                "{case}"
            );
        }
        (Err(v), Some(fault)) => assert_eq!(
            (v.index, v.field.to_string()),
            (fault.index, fault.field.to_string()),
            "{case}: the board's fold refuses first record #{} ({}: {}), the verifier's #{} ({}: {})",
            v.index,
            v.field,
            v.reason,
            fault.index,
            fault.field,
            fault.message
        ),
        (Ok(_), Some(fault)) => panic!(
            "{case}: the board's fold accepts, the verifier's refuses record #{} ({}: {})",
            fault.index, fault.field, fault.message
        ),
        (Err(v), None) => panic!(
            "{case}: the board's fold refuses record #{} ({}: {}), the verifier's accepts",
            v.index, v.field, v.reason
        ),
    }
    outcome
}

/// `judge`, and the verifier's first fault must be at `at` (a log position) on `field`.
fn refused(case: &str, log: &Log, at: usize, field: &str) {
    let outcome = judge(case, log);
    let fault = outcome
        .faults
        .first()
        .unwrap_or_else(|| panic!("{case}: accepted"));
    assert_eq!(
        (fault.index, fault.field.as_str()),
        (FIRST + at as u64, field),
        "{case}: {}",
        fault.message
    );
}

#[test]
fn both_folds_accept_the_honest_petition_and_count_it_alike() {
    let f = fixture();
    let outcome = judge("honest", &honest(&f));
    assert!(outcome.faults.is_empty());
    assert_eq!(
        (outcome.counted, outcome.withdrawn, outcome.duplicates),
        (6, 1, 1)
    );
    assert_eq!(outcome.phase.name(), "reached");
    // District 1 disclosed three times, district 2 once: below the minimum bin of 2.
    assert_eq!(outcome.districts, vec![(1, 3)]);
}

/// Re-encodes a definition, the context.open's parameters following it (the authority
/// opened the petition with it).
fn redefined(f: &Fixture, edit: impl FnOnce(&mut Definition)) -> Log {
    let mut g = Fixture {
        wallets: Vec::new(),
        snapshot: f.snapshot.clone(),
        registrar_keys: Vec::new(),
        definition: f.definition.clone(),
    };
    edit(&mut g.definition);
    let mut log = honest(f);
    log.records[0].2 = g.definition.to_bytes();
    log
}

fn resnapshot(f: &Fixture, edit: impl FnOnce(&mut SignedSnapshot)) -> Log {
    let mut signed = f.snapshot.signed().clone();
    edit(&mut signed);
    let mut log = honest(f);
    log.records[1].2 = signed.to_bytes();
    log
}

#[test]
fn both_folds_refuse_every_tamper_of_the_definition_and_the_snapshot() {
    let f = fixture();
    let mut log = honest(&f);
    log.parameters = Some([9; 32]);
    refused("definition not the open's parameters", &log, 0, "body");

    let log = redefined(&f, |d| {
        d.policy = Some(Policy {
            min_bucket_bits: 4,
            ..d.policy.unwrap()
        })
    });
    refused(
        "buckets below the definition's floor",
        &log,
        1,
        "body.bucket_bits",
    );
    let log = redefined(&f, |d| {
        d.policy = Some(Policy {
            min_real_keys: 6,
            ..d.policy.unwrap()
        })
    });
    refused("too few registered keys per bucket", &log, 1, "body.total");
    let log = redefined(&f, |d| {
        d.policy = Some(Policy {
            min_snapshot: 2,
            ..d.policy.unwrap()
        })
    });
    refused(
        "snapshot older than the definition takes",
        &log,
        1,
        "body.number",
    );
    let log = redefined(&f, |d| d.registry = [5; 32]);
    refused("snapshot of another registry", &log, 1, "body.registry");
    let log = redefined(&f, |d| d.policy = None);
    // Version 1 takes no disclosure: the first disclosing signature is refused.
    let first_sign = log.position(PETITION_SIGN, 0);
    refused(
        "disclosure under a version-1 definition",
        &log,
        first_sign,
        "body.disclosure",
    );

    let log = resnapshot(&f, |s| {
        let mut bytes = s.cosignatures[1].signature.to_bytes();
        bytes[5] ^= 1;
        s.cosignatures[1].signature = ed25519_dalek::Signature::from_bytes(&bytes);
    });
    refused(
        "a registrar's cosignature forged",
        &log,
        1,
        "body.cosignatures",
    );
    let log = resnapshot(&f, |s| {
        s.cosignatures.truncate(1);
    });
    refused(
        "one cosignature of the two needed",
        &log,
        1,
        "body.cosignatures",
    );
    let log = resnapshot(&f, |s| {
        s.header.version = 1;
        let id = s.header.id();
        s.cosignatures = vec![
            Cosignature::sign(0, &f.registrar_keys[0], &id),
            Cosignature::sign(1, &f.registrar_keys[1], &id),
        ];
    });
    refused(
        "a version-1 snapshot under a version-2 definition",
        &log,
        1,
        "body.version",
    );

    let mut log = honest(&f);
    let part = log.position(REGISTRY_SNAPSHOT_PART, 0);
    log.records[part].2[60] ^= 1;
    judge("an entry of the part changed", &log);
    assert_eq!(
        verifier_first(&log),
        Some(FIRST + part as u64),
        "the part's entries no longer hash to the root"
    );
    let mut log = honest(&f);
    log.records.remove(part);
    refused("the part dropped: opened incomplete", &log, part, "body");
    let mut log = honest(&f);
    log.records.swap(0, 1);
    refused("the snapshot before the definition", &log, 0, "kind");
    let mut log = honest(&f);
    log.records[1].1 = [8; 32];
    refused("the snapshot posted by another key", &log, 1, "signer");
    let mut log = honest(&f);
    let define = log.records[0].clone();
    log.records.insert(1, define);
    refused("the definition posted twice", &log, 1, "kind");
}

fn verifier_first(log: &Log) -> Option<u64> {
    judge("first", log).faults.first().map(|f| f.index)
}

#[test]
fn both_folds_refuse_every_tamper_of_signatures_withdrawals_and_evidence() {
    let f = fixture();
    let base = honest(&f);
    let second = base.position(PETITION_SIGN, 1);
    let fourth = base.position(PETITION_SIGN, 3);
    let close = base.phase_at(Phase::Closed);
    let open = base.phase_at(Phase::Open);

    let mut log = base.clone();
    let z = log.records[fourth].2.len() - 32;
    log.records[fourth].2[z] ^= 1;
    refused(
        "a signature's proof altered",
        &log,
        fourth,
        "body.signature",
    );
    let mut log = base.clone();
    let z = log.records[second].2.len() - 32;
    log.records[second].2[z] ^= 1;
    refused(
        "a disclosing signature's proof altered",
        &log,
        second,
        "body.signature",
    );
    let mut log = base.clone();
    log.records[fourth].1 = one_time_key();
    refused(
        "a signature moved to another envelope key",
        &log,
        fourth,
        "body.signature",
    );
    let mut log = base.clone();
    log.records[fourth].2[1..5].copy_from_slice(&7u32.to_be_bytes());
    refused("a bucket out of range", &log, fourth, "body.bucket");
    let mut log = base.clone();
    // Wallet 0 is in bucket b; say the other bucket: the ring is another, the proof fails.
    let bucket = u32::from_be_bytes(log.records[fourth].2[1..5].try_into().unwrap());
    log.records[fourth].2[1..5].copy_from_slice(&(1 - bucket).to_be_bytes());
    refused(
        "a signature moved to another bucket",
        &log,
        fourth,
        "body.signature",
    );
    let mut log = base.clone();
    log.records[second].2[6..10].copy_from_slice(&1u32.to_be_bytes());
    refused(
        "a disclosed district altered",
        &log,
        second,
        "body.signature",
    );
    let mut log = base.clone();
    log.records[second].2[6..10].copy_from_slice(&9u32.to_be_bytes());
    refused(
        "a district nobody is enrolled in",
        &log,
        second,
        "body.disclosure",
    );
    let mut log = base.clone();
    let signer = one_time_key();
    let again = signature_body(&f, 2, false, false, &signer).to_bytes();
    log.insert(close, PETITION_SIGN, signer, again);
    refused("a tag signed twice", &log, close, "body.signature.tag");
    let mut log = base.clone();
    let signer = one_time_key();
    let late = signature_body(&f, 8, false, false, &signer).to_bytes();
    log.insert(close + 1, PETITION_SIGN, signer, late);
    refused("a signature after close", &log, close + 1, "kind");
    let mut log = base.clone();
    let signer = one_time_key();
    let early = signature_body(&f, 8, false, false, &signer).to_bytes();
    log.insert(open, PETITION_SIGN, signer, early);
    refused("a signature before open", &log, open, "kind");
    let mut log = base.clone();
    let (k, s, b) = withdrawal(&f, 8);
    log.insert(close, k, s, b);
    refused(
        "a withdrawal of a tag never signed",
        &log,
        close,
        "body.signature.tag",
    );
    let mut log = base.clone();
    let (k, s, b) = withdrawal(&f, 5);
    log.insert(close, k, s, b);
    refused("a tag withdrawn twice", &log, close, "body.signature.tag");
    let mut log = base.clone();
    let signer = one_time_key();
    let disclosing = signature_body(&f, 6, true, true, &signer).to_bytes();
    log.insert(close, PETITION_WITHDRAW, signer, disclosing);
    refused(
        "a withdrawal disclosing a district",
        &log,
        close,
        "body.disclosure",
    );

    let duplicate = base.position(PETITION_DUPLICATE, 0);
    let mut log = base.clone();
    let (k, s, b) = evidence(&f, 1);
    log.insert(close, k, s, b);
    refused(
        "evidence of a tag twice",
        &log,
        close,
        "body.signed.signature.tag",
    );
    let mut log = base.clone();
    let (k, s, b) = evidence(&f, 9);
    log.insert(close, k, s, b);
    refused(
        "evidence of a tag never signed",
        &log,
        close,
        "body.signed.signature.tag",
    );
    let mut log = base.clone();
    let counted = log.records[fourth].clone();
    let itself = Duplicate {
        signer: counted.1,
        body: SignatureBody::decode(&counted.2).unwrap(),
    }
    .to_bytes();
    log.records[duplicate] = (PETITION_DUPLICATE, one_time_key(), itself);
    refused(
        "the counted signature posted as its own duplicate",
        &log,
        duplicate,
        "body.signed",
    );
    let mut log = base.clone();
    let (k, s, b) = evidence(&f, 0);
    let end = log.records.len();
    log.insert(end, k, s, b);
    refused("evidence after the result", &log, end, "kind");
    let mut log = base.clone();
    log.records[duplicate].2[1] ^= 1;
    refused(
        "evidence whose embedded signer changed",
        &log,
        duplicate,
        "body.signed.signature",
    );
}

#[test]
fn both_folds_refuse_every_tamper_of_the_lifecycle_and_the_result() {
    let f = fixture();
    let base = honest(&f);
    let at = base.position(PETITION_RESULT, 0);
    let close = base.phase_at(Phase::Closed);
    let reached = base.phase_at(Phase::Reached);

    let mut log = base.clone();
    log.records[at].2 = result(7, 1, true);
    refused("the result's count altered", &log, at, "body");
    let mut log = base.clone();
    log.records[at].2 = result(6, 1, false);
    refused("the result says not reached", &log, at, "body");
    let mut log = base.clone();
    log.records[at].1 = [8; 32];
    refused("the result posted by another key", &log, at, "signer");
    let mut log = base.clone();
    let r = log.records[at].clone();
    log.records.insert(close, r);
    refused("the result before close", &log, close, "kind");
    let mut log = base.clone();
    log.records[reached].2 = vec![Phase::NotReached.code()];
    refused(
        "not reached where the result says reached",
        &log,
        reached,
        "body",
    );
    let mut log = base.clone();
    log.records[reached].1 = [8; 32];
    refused("a phase moved by another key", &log, reached, "signer");
    let mut log = base.clone();
    log.records.remove(close);
    refused("the result without close", &log, close, "kind");
    let mut log = base.clone();
    log.records[close].2 = vec![Phase::Reached.code()];
    refused("open straight to reached", &log, close, "body");
    let mut log = base.clone();
    log.records[close].2 = vec![9];
    refused("no such phase", &log, close, "body");
    let mut log = base.clone();
    log.records.insert(at, (Kind(0x0101), AUTHORITY, vec![1]));
    refused("an election kind in a petition", &log, at, "kind");
}

#[test]
fn both_folds_agree_on_every_random_byte_flip_in_every_body() {
    let f = fixture();
    let base = honest(&f);
    let mut rng = rand::rng();
    let mut refusals = 0;
    for at in 0..base.records.len() {
        for _ in 0..4 {
            let mut log = base.clone();
            let body = &mut log.records[at].2;
            let byte = rng.random_range(0..body.len());
            body[byte] ^= 1 << rng.random_range(0..8);
            let case = format!("record {at} ({:?}) byte {byte} flipped", log.records[at].0);
            if !judge(&case, &log).faults.is_empty() {
                refusals += 1;
            }
        }
    }
    // Nearly every flip is refused (a flipped deadline byte or scope letter is a valid
    // definition, but then not the context.open's); the folds agreed on each.
    assert!(refusals > base.records.len() * 3, "{refusals}");
}

#[test]
fn both_folds_name_the_same_field_when_a_record_has_two_faults() {
    let f = fixture();
    // A version-1 snapshot whose buckets are also below the floor: its version first
    // (spec/32 §32.6 step 2, as spec/23 §23.12), since it undoes every floor.
    let mut log = resnapshot(&f, |s| {
        s.header.version = 1;
        let id = s.header.id();
        s.cosignatures = vec![
            Cosignature::sign(0, &f.registrar_keys[0], &id),
            Cosignature::sign(1, &f.registrar_keys[1], &id),
        ];
    });
    let mut definition = f.definition.clone();
    definition.policy = Some(Policy {
        min_bucket_bits: 4,
        ..definition.policy.unwrap()
    });
    log.records[0].2 = definition.to_bytes();
    refused(
        "a version-1 snapshot below the floors",
        &log,
        1,
        "body.version",
    );
    // A disclosure of a district nobody is enrolled in, over a bucket out of range: the
    // disclosure first (spec/32 §32.6 step 4).
    let mut log = honest(&f);
    let second = log.position(PETITION_SIGN, 1);
    log.records[second].2[1..5].copy_from_slice(&7u32.to_be_bytes());
    log.records[second].2[6..10].copy_from_slice(&9u32.to_be_bytes());
    refused(
        "a bad disclosure over a bucket out of range",
        &log,
        second,
        "body.disclosure",
    );
}

#[test]
fn both_folds_refuse_records_repeated_or_out_of_place() {
    let f = fixture();
    let base = honest(&f);
    let at = base.position(PETITION_RESULT, 0);
    let close = base.phase_at(Phase::Closed);
    let open = base.phase_at(Phase::Open);
    let part = base.position(REGISTRY_SNAPSHOT_PART, 0);

    let mut log = base.clone();
    let r = log.records[at].clone();
    log.records.insert(at + 1, r);
    refused("the result posted twice", &log, at + 1, "kind");
    let mut log = base.clone();
    let snapshot = log.records[1].clone();
    log.records.insert(open, snapshot);
    refused("a second snapshot", &log, open, "kind");
    let mut log = base.clone();
    let (k, s, b) = withdrawal(&f, 6);
    log.insert(close + 1, k, s, b);
    refused("a withdrawal after close", &log, close + 1, "kind");
    let mut log = base.clone();
    log.records[part].1 = [8; 32];
    refused("a snapshot part from another key", &log, part, "signer");
    let mut log = base.clone();
    let p = log.records.remove(part);
    log.records.insert(open, p);
    // The part moved after the open: the open comes before the snapshot is complete.
    refused("a snapshot part after the open", &log, open - 1, "body");
    let mut log = base.clone();
    let p = log.records[part].clone();
    log.records.insert(open + 1, p);
    refused("a snapshot part in the open phase", &log, open + 1, "kind");
}

#[test]
fn a_junk_signature_copying_a_tag_does_not_shut_out_its_signer() {
    // Wallet 3's real signature, copied under another envelope key (so its proof fails,
    // but it decodes to wallet 3's tag) and posted first: both folds refuse the copy and
    // still count the real one (the second pass leaves refused records out).
    let f = fixture();
    let mut log = honest(&f);
    let real = log.position(PETITION_SIGN, 3);
    let (kind, _, body) = log.records[real].clone();
    log.insert(real, kind, one_time_key(), body);
    let outcome = judge("a junk signature copying a tag", &log);
    let faults: Vec<(u64, &str)> = outcome
        .faults
        .iter()
        .map(|f| (f.index, f.field.as_str()))
        .collect();
    assert_eq!(faults, vec![(FIRST + real as u64, "body.signature")]);
    assert_eq!((outcome.counted, outcome.withdrawn), (6, 1));
}
