//! The tamper suite (issue 8): a valid election is held on a log that checks nothing, as
//! a lying board would keep it; then each mutation class below is applied, the records it
//! touches signed again with the keys that make them pass every check but the one aimed
//! at (the authority's, a trustee's, the voter's credential), the log signed again by the
//! board, and urne-verify must fail exactly the step of spec/50 the mutation breaks, at the
//! record it touched, while no earlier step fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::OnceLock;

use ed25519_dalek::SigningKey;
use urne_ballot::{Ballot, CredentialKey, Manifest, SumProof, TrackingCode};
use urne_ceremony::{CeremonyOpen, Commitments, DecryptionShare, DecryptionShares};
use urne_cli::demo::progress::Stages;
use urne_cli::demo::voters::{self, Choice, VoterPlan};
use urne_cli::demo::{
    HeldElection, UncheckedLog, budget, hold_planned_election, hold_planned_election_on,
};
use urne_credential::{BallotSignature, Credential};
use urne_crypto::Scalar;
use urne_election::{AuditRecord, CastBallot, ManifestRecord, Phase, kinds};
use urne_log::note::{Cosigner, Note, NoteSigner};
use urne_log::{Checkpoint, Hash, leaf_hash};
use urne_record::kinds::{CONTEXT_OPEN, CONTEXT_PHASE};
use urne_record::{ContextId, ContextOpen, ContextType, Record};
use urne_tally::TallyResult;
use urne_verify::{Archive, Options, Quiet, Report, Step};

const ORIGIN: &str = "tamper.urne.local/board";

struct Held {
    election: HeldElection,
    entries: Vec<Vec<u8>>,
    authority: SigningKey,
    board: NoteSigner,
    /// A cast record's body from another election (same board, other authority).
    foreign_cast: Vec<u8>,
}

/// Twelve voters: 0 and 1 audit a ballot first, 2 and 3 vote again.
fn plans(voters: usize) -> Vec<VoterPlan> {
    let manifest = voters::manifest().unwrap();
    let mut plans = voters::plan(&manifest, voters, &mut rand::rng()).unwrap();
    for plan in &mut plans {
        plan.audit = None;
        plan.revote = None;
    }
    for i in 0..2.min(voters) {
        plans[i].audit = Some(plans[(i + 1) % voters].first.clone());
    }
    for i in 2..4.min(voters) {
        plans[i].revote = Some(plans[(i + 1) % voters].first.clone());
    }
    plans
}

fn held() -> &'static Held {
    static HELD: OnceLock<Held> = OnceLock::new();
    HELD.get_or_init(|| {
        let authority = SigningKey::from_bytes(&[7; 32]);
        let log = UncheckedLog::default();
        let election = hold_planned_election(
            &log,
            authority.clone(),
            ORIGIN,
            plans(12),
            &mut Stages::new(),
        )
        .unwrap();
        let other = UncheckedLog::default();
        hold_planned_election(
            &other,
            SigningKey::from_bytes(&[8; 32]),
            ORIGIN,
            plans(2),
            &mut Stages::new(),
        )
        .unwrap();
        let other = other.into_entries();
        let foreign_cast = body(&other[positions(&other, kinds::BALLOT_CAST)[0]]);
        Held {
            election,
            entries: log.into_entries(),
            authority,
            board: NoteSigner::from_seed(ORIGIN, &[3; 32]).unwrap(),
            foreign_cast,
        }
    })
}

/// A participatory budget (spec/21 kind 4, spec/26) of eight voters on the same board:
/// the demo's 30 projects, funded by max-approvals.
fn budget_held() -> &'static Held {
    static HELD: OnceLock<Held> = OnceLock::new();
    HELD.get_or_init(|| {
        let authority = SigningKey::from_bytes(&[7; 32]);
        let manifest = budget::manifest(urne_ballot::SelectionRule::MaxApprovals).unwrap();
        let mut plans = voters::plan(&manifest, 8, &mut rand::rng()).unwrap();
        for plan in &mut plans {
            plan.audit = None;
            plan.revote = None;
        }
        // The first two ballots' projects are known (m52 splices between them): the
        // first spends 240,000 + 290,000, the second 40,000 + 45,000 + 275,000.
        plans[0].first[1] = Choice::Options(vec![0, 1]);
        plans[1].first[1] = Choice::Options(vec![5, 6, 8]);
        let log = UncheckedLog::default();
        let election = hold_planned_election_on(
            &log,
            authority.clone(),
            ORIGIN,
            manifest,
            plans,
            &mut Stages::new(),
        )
        .unwrap();
        Held {
            election,
            entries: log.into_entries(),
            authority,
            board: NoteSigner::from_seed(ORIGIN, &[3; 32]).unwrap(),
            foreign_cast: Vec::new(),
        }
    })
}

fn record(entry: &[u8]) -> Record {
    Record::parse(entry.to_vec()).unwrap()
}

fn body(entry: &[u8]) -> Vec<u8> {
    record(entry).body().to_vec()
}

fn positions(entries: &[Vec<u8>], kind: urne_record::Kind) -> Vec<usize> {
    entries
        .iter()
        .enumerate()
        .filter(|(_, e)| record(e).kind() == kind)
        .map(|(i, _)| i)
        .collect()
}

fn phase_at(entries: &[Vec<u8>], phase: Phase) -> usize {
    positions(entries, CONTEXT_PHASE)
        .into_iter()
        .find(|&i| body(&entries[i]) == [phase.code()])
        .unwrap()
}

/// The board's signed checkpoint over the first `size` of `entries`.
fn checkpoint_of(signer: &NoteSigner, entries: &[Vec<u8>]) -> String {
    let leaves: Vec<Hash> = entries.iter().map(|e| leaf_hash(e)).collect();
    let checkpoint = Checkpoint::new(
        ORIGIN,
        entries.len() as u64,
        urne_log::hash::root_of(&leaves),
        Vec::new(),
    )
    .unwrap();
    let mut note = Note::new(&checkpoint.to_text()).unwrap();
    signer.sign(&mut note);
    note.to_text()
}

/// The board's key, as an observer got it out of band.
fn board_vkey() -> String {
    held().board.verifier().to_vkey()
}

fn archive(entries: Vec<Vec<u8>>) -> Archive {
    let board = &held().board;
    Archive {
        board_vkey: board.verifier().to_vkey(),
        checkpoints: vec![checkpoint_of(board, &entries)],
        entries,
    }
}

fn verify(archive: &Archive) -> Report {
    urne_verify::verify(archive, &Options::pinned(&board_vkey()), &Quiet)
}

/// A record signed again by `key` with a new body, in its place.
fn resign(entries: &mut [Vec<u8>], at: usize, body: &[u8], key: &SigningKey) {
    let r = record(&entries[at]);
    entries[at] = Record::sign(r.context(), r.kind(), body, key)
        .unwrap()
        .into_bytes();
}

fn anyone() -> SigningKey {
    SigningKey::from_bytes(&[9; 32])
}

/// `step` failed at `record`, and that failure is the first: for a record, no earlier
/// record failed any step (later records may fail after it: a refused record leaves the
/// ones that build on it refused too); for the log itself, no step before `step` failed.
#[track_caller]
fn assert_caught(report: &Report, step: Step, record: Option<usize>) {
    let record = record.map(|r| r as u64);
    assert!(!report.passed, "{}", report.summary());
    assert!(
        report
            .step(step)
            .failures
            .iter()
            .any(|f| f.record == record),
        "expected V{} at {record:?}:\n{}",
        step.number(),
        report.summary()
    );
    match record {
        Some(at) => {
            let first = report
                .failures()
                .filter_map(|(s, f)| f.record.map(|r| (r, s)))
                .min_by_key(|(r, s)| (*r, *s != step));
            assert_eq!(first, Some((at, step)), "{}", report.summary());
        }
        None => {
            let first = report.failures().next().map(|(s, _)| s);
            assert_eq!(first, Some(step), "{}", report.summary());
        }
    }
}

/// [`assert_caught`], and the failure of `step` at `record` names exactly `field`.
#[track_caller]
fn assert_field(report: &Report, step: Step, record: usize, field: &str) {
    assert_caught(report, step, Some(record));
    let fields: Vec<&str> = report
        .step(step)
        .failures
        .iter()
        .filter(|f| f.record == Some(record as u64))
        .map(|f| f.field.as_str())
        .collect();
    assert_eq!(fields, vec![field], "{}", report.summary());
}

fn credential_of(ballot: &Ballot) -> &'static Credential {
    held()
        .election
        .credentials
        .iter()
        .chain(&budget_held().election.credentials)
        .find(|c| CredentialKey(c.public().to_bytes()) == ballot.credential)
        .unwrap()
}

/// The ballot at `at` changed by `change`, signed again with its voter's credential (so
/// its signature holds) and posted again by anyone.
fn tamper_ballot(entries: &mut [Vec<u8>], at: usize, change: impl FnOnce(&mut Ballot)) {
    let cast = CastBallot::decode(&body(&entries[at])).unwrap();
    let credential = credential_of(&cast.ballot);
    let mut ballot = cast.ballot.clone();
    change(&mut ballot);
    let signature = BallotSignature::sign(
        credential,
        &ballot.context,
        urne_credential::Decision::Cast,
        &TrackingCode::of(&ballot).0,
        &mut rand::rng(),
    )
    .unwrap();
    resign(
        entries,
        at,
        &CastBallot::new(ballot, signature).to_body(),
        &anyone(),
    );
}

fn plus_one(z: &mut Scalar) {
    *z = *z + Scalar::from_u64(1);
}

fn cast_at(entries: &[Vec<u8>], n: usize) -> usize {
    positions(entries, kinds::BALLOT_CAST)[n]
}

fn result_at(entries: &[Vec<u8>]) -> (usize, TallyResult) {
    let at = positions(entries, kinds::TALLY_RESULT)[0];
    (at, TallyResult::decode(&body(&entries[at])).unwrap())
}

fn tamper_result(change: impl FnOnce(&mut TallyResult)) -> (Report, usize) {
    tamper_result_of(held(), change)
}

/// The result of `held` changed by `change` and signed again by its authority.
fn tamper_result_of(held: &Held, change: impl FnOnce(&mut TallyResult)) -> (Report, usize) {
    let mut entries = held.entries.clone();
    let (at, mut result) = result_at(&entries);
    change(&mut result);
    resign(&mut entries, at, &result.to_bytes(), &held.authority);
    (verify(&archive(entries)), at)
}

/// The first decryption-share record, its trustee and shares.
fn shares_at(entries: &[Vec<u8>]) -> (usize, DecryptionShares) {
    let at = positions(entries, kinds::TALLY_DECRYPTION_SHARES)[0];
    (at, DecryptionShares::decode(&body(&entries[at])).unwrap())
}

fn trustee_key(j: u16) -> &'static SigningKey {
    &held().election.trustee_keys[usize::from(j) - 1]
}

// ---- the untouched log ------------------------------------------------------------

#[test]
fn untouched_election_passes_every_step() {
    let report = verify(&archive(held().entries.clone()));
    assert!(report.passed, "{}", report.summary());
    let e = &report.elections[0];
    assert_eq!(e.ballots, held().election.cast);
    assert_eq!(e.audits, 2);
    assert_eq!(e.counts.as_ref(), Some(&held().election.plaintext));
    assert_eq!(report.step(Step::Ballots).checked, 14);
    assert!(report.to_json().contains("\"passed\": true"));
}

// ---- V1: the log ------------------------------------------------------------------

#[test]
fn m01_entry_changed_after_the_checkpoint_breaks_the_root() {
    let mut a = archive(held().entries.clone());
    let at = cast_at(&a.entries, 0);
    let len = a.entries[at].len();
    a.entries[at][len - 1] ^= 1;
    assert_caught(&verify(&a), Step::Log, None);
}

#[test]
fn m02_checkpoint_signed_by_another_key_is_refused() {
    let mut a = archive(held().entries.clone());
    let impostor = NoteSigner::from_seed(ORIGIN, &[4; 32]).unwrap();
    a.checkpoints = vec![checkpoint_of(&impostor, &a.entries)];
    assert_caught(&verify(&a), Step::Log, None);
}

#[test]
fn m03_ballot_dropped_after_a_checkpoint_is_seen_by_the_older_checkpoint() {
    let entries = held().entries.clone();
    // The older checkpoint covers the ballot and a few entries after it; the board
    // then drops the ballot and signs its shorter log. The older checkpoint's size is
    // still within the log: its root is what betrays the drop.
    let dropped_at = cast_at(&entries, 5);
    let older = checkpoint_of(&held().board, &entries[..dropped_at + 4]);
    let mut dropped = entries.clone();
    dropped.remove(dropped_at);
    let mut a = archive(dropped);
    a.checkpoints.insert(0, older);
    let report = verify(&a);
    assert_caught(&report, Step::Log, None);
    let failure = &report.step(Step::Log).failures[0];
    assert_eq!(failure.field, "checkpoints[0]");
    assert!(
        failure.message.contains("is not the root"),
        "{}",
        failure.message
    );
}

#[test]
fn m04_forked_checkpoint_of_the_same_size_is_caught() {
    let entries = held().entries.clone();
    let mut fork = entries.clone();
    let at = cast_at(&fork, 1);
    fork.swap(at, at + 1);
    let mut a = archive(entries);
    a.checkpoints.insert(0, checkpoint_of(&held().board, &fork));
    assert_caught(&verify(&a), Step::Log, None);
}

#[test]
fn m05_checkpoint_covering_fewer_entries_than_the_log_is_caught() {
    let entries = held().entries.clone();
    let mut a = archive(entries.clone());
    a.checkpoints = vec![checkpoint_of(&held().board, &entries[..entries.len() - 1])];
    assert_caught(&verify(&a), Step::Log, None);
}

#[test]
fn m06_checkpoint_without_the_witness_quorum_is_caught() {
    let a = archive(held().entries.clone());
    let witness = Cosigner::from_seed("witness.example", &[5; 32]).unwrap();
    let options = Options {
        witnesses: vec![witness.verifier()],
        ..Options::pinned(&board_vkey())
    };
    let report = urne_verify::verify(&a, &options, &Quiet);
    assert_caught(&report, Step::Log, None);
    assert!(
        report.step(Step::Log).failures[0]
            .field
            .ends_with("cosignatures")
    );
    // Cosigned, it passes.
    let mut note = Note::parse(a.checkpoints[0].as_bytes()).unwrap();
    note.add_signature(witness.cosign(note.text(), 1_700_000_000));
    let mut cosigned = a.clone();
    cosigned.checkpoints = vec![note.to_text()];
    assert!(urne_verify::verify(&cosigned, &options, &Quiet).passed);
}

// ---- trust anchors (spec/50 §50.1) ------------------------------------------------

#[test]
fn without_a_board_key_the_log_fails_unless_the_archive_key_is_trusted_explicitly() {
    // A log fabricated under a key of the forger's own: self-consistent, signed.
    let forger = NoteSigner::from_seed(ORIGIN, &[4; 32]).unwrap();
    let entries = held().entries.clone();
    let fabricated = Archive {
        board_vkey: forger.verifier().to_vkey(),
        checkpoints: vec![checkpoint_of(&forger, &entries)],
        entries,
    };
    let report = urne_verify::verify(&fabricated, &Options::default(), &Quiet);
    assert_caught(&report, Step::Log, None);
    assert_eq!(report.step(Step::Log).failures[0].field, "board_key");
    assert_eq!(report.trust.board_key_from, "none");
    // The real board's key, pinned, refuses the forger's checkpoint.
    let pinned = urne_verify::verify(&fabricated, &Options::pinned(&board_vkey()), &Quiet);
    assert_caught(&pinned, Step::Log, None);
    assert_eq!(
        pinned.step(Step::Log).failures[0].field,
        "checkpoints[0]",
        "{}",
        pinned.summary()
    );
    // Trusting the archive's key passes, and the report says so, loudly.
    let trusting = Options {
        trust_archive_key: true,
        ..Options::default()
    };
    let report = urne_verify::verify(&fabricated, &trusting, &Quiet);
    assert!(report.passed, "{}", report.summary());
    assert_eq!(report.trust.board_key_from, "archive");
    assert!(report.summary().contains("TRUST WARNING"));
    assert!(report.to_json().contains("\"board_key_from\": \"archive\""));
    // Its verdict is not VERIFIED.
    assert!(
        report.summary().contains("SELF-CONSISTENT ONLY"),
        "{}",
        report.summary()
    );
    assert!(
        !report.summary().contains("VERIFIED"),
        "{}",
        report.summary()
    );
}

/// What the anchors leave unproven is said: no witness (a split view goes unseen), no
/// authority pinned (anyone's election verifies); pinning them removes the warnings.
#[test]
fn the_report_warns_of_every_anchor_not_given() {
    let a = archive(held().entries.clone());
    let report = verify(&a);
    assert!(report.passed, "{}", report.summary());
    let warnings = &report.trust.warnings;
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(warnings[0].contains("split view"), "{warnings:?}");
    assert!(
        warnings[1].contains("no authority is pinned"),
        "{warnings:?}"
    );
    assert!(report.summary().contains("TRUST WARNING: no witness"));
    assert!(report.to_json().contains("\"warnings\""));
    let pinned = Options {
        authorities: vec![held().authority.verifying_key().to_bytes()],
        ..Options::pinned(&board_vkey())
    };
    let report = urne_verify::verify(&a, &pinned, &Quiet);
    assert!(report.passed, "{}", report.summary());
    assert_eq!(
        report.trust.warnings.len(),
        1,
        "{:?}",
        report.trust.warnings
    );
}

#[test]
fn a_quorum_above_the_witnesses_given_can_never_pass() {
    let a = archive(held().entries.clone());
    let witness = Cosigner::from_seed("witness.example", &[5; 32]).unwrap();
    let mut note = Note::parse(a.checkpoints[0].as_bytes()).unwrap();
    note.add_signature(witness.cosign(note.text(), 1_700_000_000));
    let mut cosigned = a.clone();
    cosigned.checkpoints = vec![note.to_text()];
    let options = Options {
        witnesses: vec![witness.verifier()],
        quorum: Some(2),
        ..Options::pinned(&board_vkey())
    };
    let report = urne_verify::verify(&cosigned, &options, &Quiet);
    assert_caught(&report, Step::Log, None);
    assert_eq!(report.step(Step::Log).failures[0].field, "quorum");
    // The default quorum is every witness given: here one, which cosigned.
    let options = Options {
        quorum: None,
        ..options
    };
    let report = urne_verify::verify(&cosigned, &options, &Quiet);
    assert!(report.passed, "{}", report.summary());
    assert_eq!(report.trust.quorum, 1);
    assert_eq!(report.trust.witnesses.len(), 1);
}

#[test]
fn a_pinned_election_missing_from_the_log_fails_v3() {
    let entries = held().entries.clone();
    let ours = record(&entries[0]).context();
    let pinned = Options {
        elections: vec![ours],
        ..Options::pinned(&board_vkey())
    };
    assert!(urne_verify::verify(&archive(entries.clone()), &pinned, &Quiet).passed);
    let other = Options {
        elections: vec![ContextId([0x55; 32])],
        ..Options::pinned(&board_vkey())
    };
    let report = urne_verify::verify(&archive(entries), &other, &Quiet);
    assert_caught(&report, Step::Parameters, None);
    let failure = &report.step(Step::Parameters).failures[0];
    assert_eq!(failure.field, "election");
    assert_eq!(failure.context, Some(ContextId([0x55; 32]).to_hex()));
}

#[test]
fn an_election_opened_by_an_authority_not_pinned_fails_v3_at_its_opening() {
    let entries = held().entries.clone();
    let authority = held().authority.verifying_key().to_bytes();
    let right = Options {
        authorities: vec![authority],
        ..Options::pinned(&board_vkey())
    };
    let report = urne_verify::verify(&archive(entries.clone()), &right, &Quiet);
    assert!(report.passed, "{}", report.summary());
    assert_eq!(report.trust.authorities, vec![hex::encode(authority)]);
    let wrong = Options {
        authorities: vec![anyone().verifying_key().to_bytes()],
        ..Options::pinned(&board_vkey())
    };
    let report = urne_verify::verify(&archive(entries), &wrong, &Quiet);
    assert_caught(&report, Step::Parameters, Some(0));
    assert_eq!(report.step(Step::Parameters).failures[0].field, "signer");
}

// ---- V2: envelopes ----------------------------------------------------------------

#[test]
fn m07_record_altered_without_its_signer_fails_the_envelope_signature() {
    let mut entries = held().entries.clone();
    let at = cast_at(&entries, 2);
    let len = entries[at].len();
    entries[at][len - 100] ^= 1;
    let report = verify(&archive(entries));
    assert_caught(&report, Step::Records, Some(at));
    assert_eq!(report.step(Step::Records).failures[0].field, "signature");
}

#[test]
fn m08_record_of_a_context_never_opened_is_caught() {
    let mut entries = held().entries.clone();
    let stray = Record::sign(
        ContextId([4; 32]),
        CONTEXT_PHASE,
        &[Phase::Ceremony.code()],
        &held().authority,
    )
    .unwrap();
    let at = entries.len();
    entries.push(stray.into_bytes());
    assert_caught(&verify(&archive(entries)), Step::Records, Some(at));
}

#[test]
fn m09_entries_reordered_before_their_context_open_are_caught() {
    let mut entries = held().entries.clone();
    entries.swap(0, 1);
    assert_caught(&verify(&archive(entries)), Step::Records, Some(0));
}

// ---- V3: parameters and context ----------------------------------------------------

#[test]
fn m10_manifest_that_is_not_the_opened_parameters_is_caught() {
    let mut entries = held().entries.clone();
    let at = positions(&entries, kinds::ELECTION_MANIFEST)[0];
    let manifest = ManifestRecord::decode(&body(&entries[at]))
        .unwrap()
        .manifest;
    let other = Manifest::new("Another election", manifest.contests().to_vec()).unwrap();
    resign(
        &mut entries,
        at,
        &ManifestRecord {
            manifest: other,
            eligibility: None,
        }
        .to_body(),
        &held().authority,
    );
    assert_caught(&verify(&archive(entries)), Step::Parameters, Some(at));
}

/// A manifest whose ballots could never fit in a ballot.cast record (256 approval
/// options: 83 kB a ballot), committed to by its opening: refused where it is posted
/// (spec/23 §23.2), as the board refuses it.
#[test]
fn m51_manifest_whose_ballots_cannot_be_cast_is_caught() {
    let big = Manifest::new(
        "Too many",
        vec![urne_ballot::Contest {
            title: "Approve".into(),
            kind: urne_ballot::ContestKind::Approval { min: 0, max: 256 },
            blank: false,
            options: (0..256).map(|i| format!("option {i}")).collect(),
        }],
    )
    .unwrap();
    let record = ManifestRecord {
        manifest: big,
        eligibility: None,
    };
    let authority = &held().authority;
    let open = ContextOpen {
        context_type: ContextType::ELECTION,
        nonce: [4; 16],
        name: "Too many".into(),
        parameters: record.parameters_hash(),
    }
    .to_body()
    .unwrap();
    let id = ContextId::derive(authority.verifying_key().as_bytes(), &open);
    let entries = vec![
        Record::sign(id, CONTEXT_OPEN, &open, authority)
            .unwrap()
            .into_bytes(),
        Record::sign(id, kinds::ELECTION_MANIFEST, &record.to_body(), authority)
            .unwrap()
            .into_bytes(),
    ];
    assert_field(
        &verify(&archive(entries)),
        Step::Parameters,
        1,
        "body.manifest",
    );
}

#[test]
fn m11_phase_moved_by_someone_else_than_the_authority_is_caught() {
    let mut entries = held().entries.clone();
    let at = phase_at(&entries, Phase::Closed);
    resign(&mut entries, at, &[Phase::Closed.code()], &anyone());
    assert_caught(&verify(&archive(entries)), Step::Parameters, Some(at));
}

// ---- V4: the ceremony ----------------------------------------------------------------

#[test]
fn m12_ceremony_opened_by_someone_else_than_the_authority_is_caught() {
    let mut entries = held().entries.clone();
    let at = positions(&entries, kinds::CEREMONY_OPEN)[0];
    let open = body(&entries[at]);
    resign(&mut entries, at, &open, trustee_key(1));
    assert_caught(&verify(&archive(entries)), Step::Ceremony, Some(at));
}

#[test]
fn m13_commitments_posted_for_another_dealer_are_caught() {
    let mut entries = held().entries.clone();
    let at = positions(&entries, kinds::CEREMONY_COMMITMENTS);
    let second = body(&entries[at[1]]);
    let dealer = Commitments::decode(&body(&entries[at[0]])).unwrap().dealer;
    resign(&mut entries, at[0], &second, trustee_key(dealer));
    assert_caught(&verify(&archive(entries)), Step::Ceremony, Some(at[0]));
}

#[test]
fn m14_commitment_proof_of_knowledge_altered_disqualifies_the_dealer_and_every_ballot_fails() {
    let mut entries = held().entries.clone();
    let at = positions(&entries, kinds::CEREMONY_COMMITMENTS)[0];
    let mut commitments = Commitments::decode(&body(&entries[at])).unwrap();
    plus_one(&mut commitments.coefficients[0].1.z);
    let dealer = commitments.dealer;
    resign(&mut entries, at, &commitments.encode(), trustee_key(dealer));
    let report = verify(&archive(entries));
    // The ceremony's rules disqualify the dealer (spec/20 §20.6): the ceremony itself
    // holds, under another joint key, so every ballot made for the real key is for
    // another election, and the first of them is the first record at fault.
    assert!(report.step(Step::Ceremony).passed(), "{}", report.summary());
    let outcome = report.elections[0].ceremony.clone().unwrap().unwrap();
    assert!(!outcome.qualified.contains(&dealer), "{outcome:?}");
    let first_ballot = positions(&held().entries, kinds::BALLOT_AUDIT)[0];
    assert_caught(&report, Step::Audits, Some(first_ballot));
    assert_eq!(
        report.step(Step::Ballots).failures.len(),
        held().election.cast
    );
}

#[test]
fn m15_ceremony_roster_replaced_after_the_fact_is_caught() {
    let mut entries = held().entries.clone();
    let at = positions(&entries, kinds::CEREMONY_OPEN)[0];
    let stale: Vec<[u8; 32]> = (11..14)
        .map(|s| SigningKey::from_bytes(&[s; 32]).verifying_key().to_bytes())
        .collect();
    let open = CeremonyOpen::new(2, stale).unwrap();
    resign(&mut entries, at, &open.encode(), &held().authority);
    let report = verify(&archive(entries));
    // The registrations that follow are by trustees no longer on the roster.
    assert_caught(&report, Step::Ceremony, Some(at + 1));
}

// ---- V5: credentials ----------------------------------------------------------------

#[test]
fn m16_credential_list_part_posted_twice_is_caught() {
    let mut entries = held().entries.clone();
    let at = positions(&entries, kinds::ELECTION_CREDENTIALS)[0];
    let part = entries[at].clone();
    entries.insert(at + 1, part);
    assert_caught(&verify(&archive(entries)), Step::Credentials, Some(at + 1));
}

// ---- V6: ballots ----------------------------------------------------------------------

#[test]
fn m17_option_range_proof_altered_is_caught() {
    let mut entries = held().entries.clone();
    let at = cast_at(&entries, 0);
    tamper_ballot(&mut entries, at, |b| {
        plus_one(&mut b.contests[0].options[0].proof.branches[0].z)
    });
    assert_field(
        &verify(&archive(entries)),
        Step::Ballots,
        at,
        "body.ballot.contests[0].options[0].proof",
    );
}

#[test]
fn m18_blank_vote_proof_altered_is_caught() {
    let mut entries = held().entries.clone();
    let at = cast_at(&entries, 1);
    tamper_ballot(&mut entries, at, |b| {
        let blank = b.contests[0].blank.as_mut().unwrap();
        plus_one(&mut blank.proof.branches[1].c);
    });
    assert_field(
        &verify(&archive(entries)),
        Step::Ballots,
        at,
        "body.ballot.contests[0].blank.proof",
    );
}

#[test]
fn m19_single_choice_sum_proof_altered_is_caught() {
    let mut entries = held().entries.clone();
    let at = cast_at(&entries, 2);
    tamper_ballot(&mut entries, at, |b| match &mut b.contests[0].sum_proof {
        SumProof::Range(p) => plus_one(&mut p.branches[0].z),
        _ => panic!("a single-choice contest proves its sum with one range proof"),
    });
    assert_field(
        &verify(&archive(entries)),
        Step::Ballots,
        at,
        "body.ballot.contests[0].sum_proof",
    );
}

#[test]
fn m20_approval_sum_proof_altered_is_caught() {
    let mut entries = held().entries.clone();
    let at = cast_at(&entries, 3);
    tamper_ballot(&mut entries, at, |b| match &mut b.contests[1].sum_proof {
        SumProof::Range(p) => {
            let last = p.branches.len() - 1;
            p.branches[last].A = p.branches[last].A + p.branches[0].B;
        }
        _ => panic!("an approval contest of 1 to 3 proves its sum with one range proof"),
    });
    assert_field(
        &verify(&archive(entries)),
        Step::Ballots,
        at,
        "body.ballot.contests[1].sum_proof",
    );
}

#[test]
fn m21_ciphertexts_swapped_between_options_are_caught() {
    let mut entries = held().entries.clone();
    let at = cast_at(&entries, 4);
    tamper_ballot(&mut entries, at, |b| {
        let options = &mut b.contests[1].options;
        let first = options[0].ciphertext;
        options[0].ciphertext = options[1].ciphertext;
        options[1].ciphertext = first;
    });
    assert_field(
        &verify(&archive(entries)),
        Step::Ballots,
        at,
        "body.ballot.contests[1].options[0].proof",
    );
}

#[test]
fn m22_credential_signature_over_another_ballot_is_caught() {
    let mut entries = held().entries.clone();
    let at = cast_at(&entries, 5);
    let cast = CastBallot::decode(&body(&entries[at])).unwrap();
    let signature = BallotSignature::sign(
        credential_of(&cast.ballot),
        &cast.ballot.context,
        urne_credential::Decision::Cast,
        &[0; 32],
        &mut rand::rng(),
    )
    .unwrap();
    resign(
        &mut entries,
        at,
        &CastBallot::new(cast.ballot, signature).to_body(),
        &anyone(),
    );
    let report = verify(&archive(entries));
    assert_caught(&report, Step::Ballots, Some(at));
    assert_eq!(
        report.step(Step::Ballots).failures[0].field,
        "body.signature"
    );
}

#[test]
fn m23_ballot_from_a_credential_not_on_the_list_is_caught() {
    let mut entries = held().entries.clone();
    let at = cast_at(&entries, 6);
    let stranger = Credential::generate(&mut rand::rng());
    let mut ballot = CastBallot::decode(&body(&entries[at])).unwrap().ballot;
    ballot.credential = CredentialKey(stranger.public().to_bytes());
    let signature = BallotSignature::sign(
        &stranger,
        &ballot.context,
        urne_credential::Decision::Cast,
        &TrackingCode::of(&ballot).0,
        &mut rand::rng(),
    )
    .unwrap();
    resign(
        &mut entries,
        at,
        &CastBallot::new(ballot, signature).to_body(),
        &anyone(),
    );
    let report = verify(&archive(entries));
    assert_caught(&report, Step::Ballots, Some(at));
    assert_eq!(
        report.step(Step::Ballots).failures[0].field,
        "body.ballot.credential"
    );
}

#[test]
fn m24_ballot_with_a_wrong_context_hash_is_caught() {
    let mut entries = held().entries.clone();
    let at = cast_at(&entries, 7);
    tamper_ballot(&mut entries, at, |b| b.context.0[0] ^= 1);
    let report = verify(&archive(entries));
    assert_caught(&report, Step::Ballots, Some(at));
    assert_eq!(
        report.step(Step::Ballots).failures[0].field,
        "body.ballot.context"
    );
}

#[test]
fn m25_ballot_replayed_from_another_election_is_caught() {
    let mut entries = held().entries.clone();
    let at = phase_at(&entries, Phase::Closed);
    let context = record(&entries[at]).context();
    let replayed = Record::sign(context, kinds::BALLOT_CAST, &held().foreign_cast, &anyone())
        .unwrap()
        .into_bytes();
    entries.insert(at, replayed);
    // A ballot valid in its own election (its proofs and signature hold there): what
    // refuses it here is the context hash every proof binds, not the list or a proof.
    let report = verify(&archive(entries));
    assert_field(&report, Step::Ballots, at, "body.ballot.context");
}

#[test]
fn m26_ballot_duplicated_is_caught() {
    let mut entries = held().entries.clone();
    let at = cast_at(&entries, 8);
    let copy = entries[at].clone();
    entries.insert(at + 1, copy);
    assert_field(
        &verify(&archive(entries)),
        Step::Ballots,
        at + 1,
        "body.ballot",
    );
}

#[test]
fn m27_non_canonical_point_in_a_ballot_is_caught() {
    let mut entries = held().entries.clone();
    let at = cast_at(&entries, 9);
    let cast = CastBallot::decode(&body(&entries[at])).unwrap();
    let alpha = &cast.ballot.contests[0].options[0].ciphertext.to_bytes()[..32];
    let mut bytes = body(&entries[at]);
    let offset = bytes.windows(32).position(|w| w == alpha).unwrap();
    // 2^255 - 1: not below p, so no canonical encoding (RFC 9496 §4.3.1).
    bytes[offset..offset + 32].copy_from_slice(&[0xff; 32]);
    bytes[offset + 31] = 0x7f;
    // Signed again by the voter's credential over the new bytes' tracking code, so the
    // signature holds and only the strict decoding can refuse it.
    let ballot_bytes = &bytes[5..bytes.len() - BallotSignature::LEN];
    let signature = BallotSignature::sign(
        credential_of(&cast.ballot),
        &cast.ballot.context,
        urne_credential::Decision::Cast,
        &TrackingCode::of_bytes(ballot_bytes).0,
        &mut rand::rng(),
    )
    .unwrap();
    let end = bytes.len() - BallotSignature::LEN;
    bytes[end..].copy_from_slice(&signature.to_bytes());
    resign(&mut entries, at, &bytes, &anyone());
    let report = verify(&archive(entries));
    assert_caught(&report, Step::Ballots, Some(at));
    let failure = &report.step(Step::Ballots).failures[0];
    assert!(
        failure
            .field
            .starts_with("body.ballot.contests[0].options[0].ciphertext"),
        "{}",
        report.summary()
    );
}

#[test]
fn m28_trailing_bytes_after_a_ballot_are_caught() {
    let mut entries = held().entries.clone();
    let at = cast_at(&entries, 10);
    let mut bytes = body(&entries[at]);
    bytes.push(0);
    resign(&mut entries, at, &bytes, &anyone());
    assert_field(&verify(&archive(entries)), Step::Ballots, at, "body.end");
}

#[test]
fn m29_ballot_reordered_after_the_close_of_voting_is_caught() {
    let mut entries = held().entries.clone();
    let close = phase_at(&entries, Phase::Closed);
    // The last ballot before the close moved after it.
    let last = positions(&entries, kinds::BALLOT_CAST)
        .into_iter()
        .rfind(|&i| i < close)
        .unwrap();
    let moved = entries.remove(last);
    entries.insert(close, moved);
    assert_field(&verify(&archive(entries)), Step::Ballots, close, "kind");
}

// ---- V7-V8: revotes and audits ---------------------------------------------------------

#[test]
fn m30_superseded_count_altered_in_the_result_is_caught() {
    let (report, at) = tamper_result(|r| r.superseded += 1);
    assert_caught(&report, Step::Revotes, Some(at));
}

#[test]
fn m31_counted_ballots_altered_in_the_result_is_caught() {
    let (report, at) = tamper_result(|r| r.tally.ballots -= 1);
    assert_caught(&report, Step::Revotes, Some(at));
}

#[test]
fn m32_audit_opening_of_another_ballot_is_caught() {
    let mut entries = held().entries.clone();
    let at = positions(&entries, kinds::BALLOT_AUDIT);
    let first = AuditRecord::decode(&body(&entries[at[0]])).unwrap();
    let second = AuditRecord::decode(&body(&entries[at[1]])).unwrap();
    let swapped = AuditRecord::new(first.ballot, first.signature, second.opening);
    resign(&mut entries, at[0], &swapped.to_body(), &anyone());
    assert_caught(&verify(&archive(entries)), Step::Audits, Some(at[0]));
}

#[test]
fn m33_spoiled_ballot_cast_to_be_counted_is_caught() {
    let mut entries = held().entries.clone();
    let audit_at = positions(&entries, kinds::BALLOT_AUDIT)[0];
    let audit = AuditRecord::decode(&body(&entries[audit_at])).unwrap();
    let close = phase_at(&entries, Phase::Closed);
    let context = record(&entries[close]).context();
    // Cast with a cast's signature by its own credential (as the device that made it
    // could): only the rule that an audited ballot never counts is left to refuse it.
    let signature = BallotSignature::sign(
        credential_of(&audit.ballot),
        &audit.ballot.context,
        urne_credential::Decision::Cast,
        &audit.tracking_code().0,
        &mut rand::rng(),
    )
    .unwrap();
    let cast = CastBallot::new(audit.ballot, signature).to_body();
    entries.insert(
        close,
        Record::sign(context, kinds::BALLOT_CAST, &cast, &anyone())
            .unwrap()
            .into_bytes(),
    );
    // Its proofs and its credential's signature hold: only "an audited ballot never
    // counts" refuses it, in V8, and V6 has nothing to say.
    let report = verify(&archive(entries));
    assert_field(&report, Step::Audits, close, "body.ballot");
    assert!(report.step(Step::Ballots).passed(), "{}", report.summary());
}

/// The relay of an audit (which learns its choices from the opening) posts its ballot as a
/// cast with the audit's own signature, the audit dropped: the signature is an audit's,
/// never a cast's (spec/22 §22.4), so V6 refuses it at that record.
#[test]
fn m33b_audit_relayed_as_a_cast_is_caught_by_its_signature() {
    let mut entries = held().entries.clone();
    let audit_at = positions(&entries, kinds::BALLOT_AUDIT)[0];
    let audit = AuditRecord::decode(&body(&entries[audit_at])).unwrap();
    let relayed = CastBallot::new(audit.ballot, audit.signature).to_body();
    let context = record(&entries[audit_at]).context();
    entries[audit_at] = Record::sign(context, kinds::BALLOT_CAST, &relayed, &anyone())
        .unwrap()
        .into_bytes();
    let report = verify(&archive(entries));
    assert_field(&report, Step::Ballots, audit_at, "body.signature");
}

// ---- V9-V11: tally ------------------------------------------------------------------------

#[test]
fn m34_encrypted_sums_swapped_in_the_result_are_caught() {
    let (report, at) = tamper_result(|r| r.tally.contests[1].swap(0, 1));
    assert_caught(&report, Step::Aggregation, Some(at));
}

#[test]
fn m35_counted_weight_altered_is_caught() {
    let (report, at) = tamper_result(|r| r.tally.weight += 1);
    assert_caught(&report, Step::Aggregation, Some(at));
}

#[test]
fn m36_decryption_shares_swapped_between_trustees_are_caught() {
    let mut entries = held().entries.clone();
    let at = positions(&entries, kinds::TALLY_DECRYPTION_SHARES);
    let first = DecryptionShares::decode(&body(&entries[at[0]])).unwrap();
    let second = DecryptionShares::decode(&body(&entries[at[1]])).unwrap();
    let swapped = DecryptionShares {
        trustee: first.trustee,
        shares: second.shares,
    };
    resign(
        &mut entries,
        at[0],
        &swapped.encode(),
        trustee_key(first.trustee),
    );
    assert_caught(&verify(&archive(entries)), Step::Decryption, Some(at[0]));
}

#[test]
fn m37_decryption_share_proof_altered_is_caught() {
    let mut entries = held().entries.clone();
    let (at, mut shares) = shares_at(&entries);
    let proven = shares
        .shares
        .iter_mut()
        .find_map(|s| match s {
            DecryptionShare::Proven { proof, .. } => Some(proof),
            _ => None,
        })
        .unwrap();
    plus_one(&mut proven.z);
    let trustee = shares.trustee;
    resign(&mut entries, at, &shares.encode(), trustee_key(trustee));
    assert_caught(&verify(&archive(entries)), Step::Decryption, Some(at));
}

#[test]
fn m38_result_naming_a_trustee_without_shares_is_caught() {
    let (report, at) = tamper_result(|r| r.trustees = vec![1, 2]);
    assert_caught(&report, Step::Decryption, Some(at));
}

#[test]
fn m39_result_with_one_count_altered_is_caught_even_signed_by_the_authority() {
    let (report, at) = tamper_result(|r| r.counts[0][0] += 1);
    assert_caught(&report, Step::Result, Some(at));
}

#[test]
fn m40_result_posted_by_someone_else_than_the_authority_is_caught() {
    let mut entries = held().entries.clone();
    let (at, result) = result_at(&entries);
    resign(&mut entries, at, &result.to_bytes(), &anyone());
    assert_caught(&verify(&archive(entries)), Step::Result, Some(at));
}

// ---- participatory budgets (issue 12 §5) ----------------------------------------------------

#[test]
fn an_untouched_budget_election_passes_every_step() {
    let report = verify(&archive(budget_held().entries.clone()));
    assert!(report.passed, "{}", report.summary());
}

#[test]
fn m47_result_funding_projects_the_rule_would_not_is_caught() {
    let held = budget_held();
    let (_, result) = result_at(&held.entries);
    let funded = result.fundings[0].selection.funded.clone();
    // Drop the last funded project and fund the first one it left out.
    let left_out = (0..30u32).find(|i| !funded.contains(i)).unwrap();
    let (report, at) = tamper_result_of(held, |r| {
        let s = &mut r.fundings[0].selection;
        s.funded.pop();
        s.funded.push(left_out);
        s.funded.sort_unstable();
    });
    assert_caught(&report, Step::Result, Some(at));
}

#[test]
fn m48_result_without_its_fundings_is_caught() {
    let (report, at) = tamper_result_of(budget_held(), |r| r.fundings.clear());
    assert_caught(&report, Step::Result, Some(at));
}

#[test]
fn m49_budget_ballot_with_another_ballots_spend_proof_is_caught() {
    let held = budget_held();
    let mut entries = held.entries.clone();
    let casts = positions(&entries, kinds::BALLOT_CAST);
    let other = CastBallot::decode(&body(&entries[casts[1]]))
        .unwrap()
        .ballot;
    let at = casts[0];
    tamper_ballot(&mut entries, at, |b| {
        b.contests[1].spend_proof = other.contests[1].spend_proof.clone();
    });
    let report = verify(&archive(entries));
    assert_caught(&report, Step::Ballots, Some(at));
    let fields: Vec<&str> = report
        .step(Step::Ballots)
        .failures
        .iter()
        .filter(|f| f.record == Some(at as u64))
        .map(|f| f.field.as_str())
        .collect();
    assert!(
        fields.len() == 1 && fields[0].starts_with("body.ballot.contests[1].spend_proof"),
        "{fields:?}"
    );
}

#[test]
fn m50_budget_ballot_without_its_spend_proof_is_caught() {
    let held = budget_held();
    let mut entries = held.entries.clone();
    let at = positions(&entries, kinds::BALLOT_CAST)[2];
    tamper_ballot(&mut entries, at, |b| b.contests[1].spend_proof = None);
    assert_caught(&verify(&archive(entries)), Step::Ballots, Some(at));
}

/// An under-minimum ballot: the first ballot's project 1 (290,000) swapped for the second
/// ballot's (not approved) and its project 6 for the second's (40,000, approved): two
/// projects for 280,000, under the minimum spend of 300,000. The count proof, checked
/// first and bound to the ciphertexts it sums, catches the splice; a ballot whose count
/// proof is remade and only its spend is short fails at the spend proof
/// (`a_borrowed_spend_proof_fails_on_an_underspending_ballot`, urne-ballot).
#[test]
fn m52_budget_ballot_spending_under_the_minimum_is_caught() {
    let held = budget_held();
    let mut entries = held.entries.clone();
    // Ballots are submitted in parallel: find each voter's by its credential.
    let cast_of = |voter: usize| {
        let credential = CredentialKey(held.election.credentials[voter].public().to_bytes());
        positions(&entries, kinds::BALLOT_CAST)
            .into_iter()
            .find(|&i| {
                CastBallot::decode(&body(&entries[i]))
                    .unwrap()
                    .ballot
                    .credential
                    == credential
            })
            .unwrap()
    };
    let (at, from) = (cast_of(0), cast_of(1));
    let second = CastBallot::decode(&body(&entries[from])).unwrap().ballot;
    tamper_ballot(&mut entries, at, |b| {
        for project in [1, 6] {
            b.contests[1].options[project] = second.contests[1].options[project].clone();
        }
    });
    let report = verify(&archive(entries));
    assert_caught(&report, Step::Ballots, Some(at));
}

// ---- the archive itself -------------------------------------------------------------------

#[test]
fn m41_archive_with_trailing_bytes_is_refused() {
    let mut bytes = archive(held().entries.clone()).encode();
    assert!(Archive::decode(&bytes).is_ok());
    bytes.push(0);
    assert_eq!(Archive::decode(&bytes).unwrap_err().field, "end");
}

#[test]
fn report_json_names_the_step_record_and_field() {
    let mut entries = held().entries.clone();
    let at = cast_at(&entries, 0);
    let mut bytes = body(&entries[at]);
    bytes.push(0);
    resign(&mut entries, at, &bytes, &anyone());
    let json = verify(&archive(entries)).to_json();
    assert!(json.contains("\"step\": \"ballots\""), "{json}");
    assert!(json.contains(&format!("\"record\": {at}")), "{json}");
    assert!(json.contains("\"passed\": false"), "{json}");
}

// ---- receipts (spec/52) ---------------------------------------------------------------------

fn receipt_of(entries: &[Vec<u8>], at: usize) -> urne_verify::VoterReceipt {
    let leaves: Vec<Hash> = entries.iter().map(|e| leaf_hash(e)).collect();
    let cast = CastBallot::decode(&body(&entries[at])).unwrap();
    urne_verify::VoterReceipt {
        election: record(&entries[at]).context(),
        tracking_code: cast.tracking_code(),
        index: at as u64,
        record: entries[at].clone(),
        inclusion: urne_log::proof::inclusion_proof(&leaves[..], at as u64, leaves.len() as u64)
            .unwrap(),
        checkpoint: checkpoint_of(&held().board, entries),
    }
}

fn board_verifier() -> urne_log::note::NoteVerifier {
    urne_log::note::NoteVerifier::from_vkey(&held().board.verifier().to_vkey()).unwrap()
}

#[test]
fn receipt_checks_offline_and_round_trips_its_text() {
    let entries = &held().entries;
    let receipt = receipt_of(entries, cast_at(entries, 3));
    let parsed = urne_verify::VoterReceipt::parse(&receipt.to_json()).unwrap();
    assert_eq!(parsed, receipt);
    let checked = parsed.check(&board_verifier(), &[], 0).unwrap();
    assert_eq!(checked.checkpoint.size(), entries.len() as u64);
}

#[test]
fn receipt_with_another_ballots_tracking_code_is_refused() {
    let entries = &held().entries;
    let mut receipt = receipt_of(entries, cast_at(entries, 3));
    receipt.tracking_code = receipt_of(entries, cast_at(entries, 4)).tracking_code;
    let e = receipt.check(&board_verifier(), &[], 0).unwrap_err();
    assert_eq!(e.field, "tracking_code");
}

#[test]
fn receipt_with_an_altered_inclusion_path_or_index_is_refused() {
    let entries = &held().entries;
    let mut receipt = receipt_of(entries, cast_at(entries, 3));
    receipt.inclusion[0].0[0] ^= 1;
    assert_eq!(
        receipt.check(&board_verifier(), &[], 0).unwrap_err().field,
        "inclusion"
    );
    let mut receipt = receipt_of(entries, cast_at(entries, 3));
    receipt.index += 1;
    assert_eq!(
        receipt.check(&board_verifier(), &[], 0).unwrap_err().field,
        "inclusion"
    );
}

#[test]
fn receipt_under_a_checkpoint_of_another_key_or_without_the_quorum_is_refused() {
    let entries = &held().entries;
    let mut receipt = receipt_of(entries, cast_at(entries, 3));
    let impostor = NoteSigner::from_seed(ORIGIN, &[4; 32]).unwrap();
    receipt.checkpoint = checkpoint_of(&impostor, entries);
    assert_eq!(
        receipt.check(&board_verifier(), &[], 0).unwrap_err().field,
        "checkpoint"
    );
    let receipt = receipt_of(entries, cast_at(entries, 3));
    let witness = Cosigner::from_seed("witness.example", &[5; 32]).unwrap();
    assert_eq!(
        receipt
            .check(&board_verifier(), &[witness.verifier()], 1)
            .unwrap_err()
            .field,
        "checkpoint"
    );
}

#[test]
fn receipt_text_with_an_unknown_field_or_a_wrong_entry_hash_is_refused() {
    let entries = &held().entries;
    let text = receipt_of(entries, cast_at(entries, 3)).to_json();
    let extra = text.replacen('{', "{\n  \"note\": \"x\",", 1);
    assert!(urne_verify::VoterReceipt::parse(&extra).is_err());
    let hash = leaf_hash(&entries[cast_at(entries, 3)]).to_hex();
    let other = leaf_hash(&entries[0]).to_hex();
    let wrong = text.replace(&hash, &other);
    assert_eq!(
        urne_verify::VoterReceipt::parse(&wrong).unwrap_err().field,
        "entry_hash"
    );
}

#[test]
fn receipt_holds_against_a_later_checkpoint_only_if_the_log_extends_it() {
    let entries = &held().entries;
    let close = phase_at(entries, Phase::Closed);
    let at = cast_at(entries, 3);
    let receipt = receipt_of(&entries[..close], at);
    let leaves: Vec<Hash> = entries.iter().map(|e| leaf_hash(e)).collect();
    let proof =
        urne_log::proof::consistency_proof(&leaves[..], close as u64, leaves.len() as u64).unwrap();
    let later = checkpoint_of(&held().board, entries);
    receipt
        .check_later(&board_verifier(), &later, &proof)
        .unwrap();

    // The board drops the ballot afterwards and signs the new log: no consistency
    // proof from the receipt's checkpoint can lead there.
    let mut dropped = entries.clone();
    dropped.remove(at);
    let forked = checkpoint_of(&held().board, &dropped);
    let e = receipt
        .check_later(&board_verifier(), &forked, &proof)
        .unwrap_err();
    assert_eq!(e.field, "later");
}

#[test]
fn credential_check_finds_no_ballot_for_a_voter_who_did_not_vote_and_the_last_for_one_who_revoted()
{
    let entries = &held().entries;
    let context = record(&entries[0]).context();
    let stranger = Credential::generate(&mut rand::rng());
    assert!(
        urne_verify::ballots_with_credential(entries, context, &stranger.public().to_bytes())
            .is_empty()
    );
    // Voter 2 voted twice: both ballots, the second counted.
    let revoter = &held().election.credentials[2];
    let cast = urne_verify::ballots_with_credential(entries, context, &revoter.public().to_bytes());
    assert_eq!(cast.len(), 2);
    assert!(cast[0].0 < cast[1].0);
    // A ballot cast with a stolen credential shows up to its owner.
    let mut stolen = entries.clone();
    let victim = &held().election.credentials[5];
    let at = cast_at(&stolen, 0);
    tamper_ballot(&mut stolen, at, |b| {
        b.credential = CredentialKey(victim.public().to_bytes())
    });
    let cast = urne_verify::ballots_with_credential(&stolen, context, &victim.public().to_bytes());
    assert!(cast.iter().any(|(i, _)| *i == at as u64));
}

// ---- incremental verification (spec/50 §50.6) ---------------------------------------------

fn incremental(entries: Vec<Vec<u8>>, prefix: usize) -> Report {
    let mut a = archive(entries);
    let older = checkpoint_of(&held().board, &held().entries[..prefix]);
    a.checkpoints.insert(0, older);
    let options = Options {
        verified_prefix: prefix as u64,
        ..Options::pinned(&board_vkey())
    };
    urne_verify::verify(&a, &options, &Quiet)
}

#[test]
fn incremental_run_checks_only_the_ballots_after_the_earlier_state() {
    let entries = held().entries.clone();
    let prefix = cast_at(&entries, 10);
    let report = incremental(entries.clone(), prefix);
    assert!(report.passed, "{}", report.summary());
    assert_eq!(report.verified_before, prefix as u64);
    let after = positions(&entries, kinds::BALLOT_CAST)
        .iter()
        .filter(|&&i| i >= prefix)
        .count() as u64;
    assert_eq!(report.step(Step::Ballots).checked, after);
    assert_eq!(
        report.step(Step::Records).checked,
        (entries.len() - prefix) as u64
    );
    assert!(report.summary().contains("incremental"));
}

#[test]
fn incremental_run_still_catches_a_bad_ballot_after_the_earlier_state() {
    let mut entries = held().entries.clone();
    let prefix = cast_at(&entries, 10);
    let at = cast_at(&entries, 11);
    tamper_ballot(&mut entries, at, |b| {
        plus_one(&mut b.contests[0].options[2].proof.branches[0].z)
    });
    assert_caught(&incremental(entries, prefix), Step::Ballots, Some(at));
}

#[test]
fn incremental_run_over_an_old_entry_changed_since_fails_and_verifies_everything_again() {
    let mut entries = held().entries.clone();
    let prefix = cast_at(&entries, 10);
    let at = cast_at(&entries, 2);
    tamper_ballot(&mut entries, at, |b| {
        plus_one(&mut b.contests[0].options[0].proof.branches[0].z)
    });
    let report = incremental(entries, prefix);
    assert_caught(&report, Step::Log, None);
    assert_eq!(report.verified_before, 0);
    // Everything was verified again: the changed ballot's proof is caught too.
    assert!(
        report
            .step(Step::Ballots)
            .failures
            .iter()
            .any(|f| f.record == Some(at as u64)),
        "{}",
        report.summary()
    );
}

#[test]
fn incremental_run_without_a_checkpoint_of_the_earlier_state_verifies_everything() {
    let a = archive(held().entries.clone());
    let options = Options {
        verified_prefix: 5,
        ..Options::pinned(&board_vkey())
    };
    let report = urne_verify::verify(&a, &options, &Quiet);
    assert_caught(&report, Step::Log, None);
    assert_eq!(report.verified_before, 0);
    assert_eq!(
        report.step(Step::Ballots).checked,
        held().election.cast as u64
    );
}

// ---- assembly sittings (V12) -------------------------------------------------------------

/// The assembly demo's sitting (577 members, four divisions and a secret ballot), read back from its store
/// and signed again under a checkpoint of ours.
fn sitting_log() -> &'static Vec<Vec<u8>> {
    static LOG: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("urne-tamper-sitting-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        urne_cli::assembly::run(&urne_cli::assembly::AssemblyDemoOptions {
            dir: Some(dir.clone()),
            keep: true,
        })
        .unwrap();
        let (store, _) =
            urne_store::Store::open(&dir.join("board"), urne_board::board::store_options())
                .unwrap();
        let entries = (0..store.size()).map(|i| store.entry(i).unwrap()).collect();
        store.close();
        std::fs::remove_dir_all(&dir).unwrap();
        entries
    })
}

/// The assembly demo's log under a checkpoint of the demo's own origin: its secret
/// ballot's election binds that origin into its context hash (spec/23), so the log
/// verifies only under it.
fn sitting_signer() -> NoteSigner {
    NoteSigner::from_seed(urne_cli::assembly::DEMO_ORIGIN, &[5; 32]).unwrap()
}

/// The assembly demo's log verified with its own board key pinned.
fn verify_sitting(entries: Vec<Vec<u8>>) -> Report {
    let vkey = sitting_signer().verifier().to_vkey();
    urne_verify::verify(&sitting_archive(entries), &Options::pinned(&vkey), &Quiet)
}

fn sitting_archive(entries: Vec<Vec<u8>>) -> Archive {
    let origin = urne_cli::assembly::DEMO_ORIGIN;
    let signer = sitting_signer();
    let leaves: Vec<Hash> = entries.iter().map(|e| leaf_hash(e)).collect();
    let checkpoint = Checkpoint::new(
        origin,
        entries.len() as u64,
        urne_log::hash::root_of(&leaves),
        Vec::new(),
    )
    .unwrap();
    let mut note = Note::new(&checkpoint.to_text()).unwrap();
    signer.sign(&mut note);
    Archive {
        board_vkey: signer.verifier().to_vkey(),
        checkpoints: vec![note.to_text()],
        entries,
    }
}

#[test]
fn sitting_divisions_are_recounted_and_a_vote_by_a_non_member_is_caught() {
    let entries = sitting_log().clone();
    let report = verify_sitting(entries.clone());
    assert!(report.passed, "{}", report.summary());
    // Four roll-call divisions and the secret ballot.
    assert_eq!(report.step(Step::Divisions).checked, 5);
    assert!(report.not_recounted.is_empty());

    let mut forged = entries;
    let at = positions(&forged, urne_assembly::kinds::VOTE)[10];
    let body = body(&forged[at]);
    resign(&mut forged, at, &body, &anyone());
    assert_caught(&verify_sitting(forged), Step::Divisions, Some(at));
}

/// V12 step 7 through the whole verifier on the demo's sitting: its secret division's
/// close moved after its election's `ceremony.open` (the board's order of two records
/// of the officer's, nothing re-signed). The election itself still verifies; V12 names
/// the ceremony, opened before the division's close (spec/40 §40.12 step 3).
#[test]
fn a_secret_divisions_ceremony_before_its_close_is_named_by_v12() {
    let mut entries = sitting_log().clone();
    let ceremony = positions(&entries, urne_verify::election::kinds::CEREMONY_OPEN)[0];
    let close = positions(&entries, urne_assembly::kinds::DIVISION_CLOSE)
        .into_iter()
        .rfind(|&i| i < ceremony)
        .unwrap();
    let moved = entries.remove(close);
    entries.insert(ceremony, moved);
    let report = verify_sitting(entries);
    assert_field(&report, Step::Divisions, ceremony - 1, "body");
    let others: Vec<Step> = report
        .failures()
        .map(|(s, _)| s)
        .filter(|s| *s != Step::Divisions)
        .collect();
    assert!(others.is_empty(), "{}", report.summary());
}

/// A forged record of a secret division's election (its `tally.result`, one byte of the
/// envelope signature flipped): V2 names it, and so does V12 itself, which reads the
/// linked election's records (spec/40 §40.12) including those whose signature failed.
/// Were V12 not handed the forged record it would name the division's result instead,
/// whose counts no tally before it gives.
#[test]
fn a_forged_record_of_a_secret_divisions_election_is_named_by_v2_and_v12() {
    let mut entries = sitting_log().clone();
    let tally = positions(&entries, urne_verify::election::kinds::TALLY_RESULT)[0];
    let last = entries[tally].len() - 1;
    entries[tally][last] ^= 1;
    let report = verify_sitting(entries);
    assert_field(&report, Step::Records, tally, "signature");
    assert_field(&report, Step::Divisions, tally, "signature");
}

/// A chamber's record moved before its chamber's `context.open` (validly signed, nothing
/// re-signed): V2 names it (a record before its context opened); V12's fold does not read
/// it, so it names nothing at that place.
#[test]
fn a_chamber_record_before_its_context_open_is_named_by_v2_alone() {
    let mut entries = sitting_log().clone();
    let open = positions(&entries, CONTEXT_OPEN)[0];
    let id = record(&entries[open]).context();
    let after = (open + 1..entries.len())
        .find(|&i| record(&entries[i]).context() == id)
        .unwrap();
    let moved = entries.remove(after);
    entries.insert(open, moved);
    let report = verify_sitting(entries);
    assert_caught(&report, Step::Records, Some(open));
    assert!(
        report
            .step(Step::Divisions)
            .failures
            .iter()
            .all(|f| f.record != Some(open as u64)),
        "{}",
        report.summary()
    );
}

/// V12 step 7 through the whole verifier: the secret division's result moved before its
/// election's `tally.result` (nothing re-signed). V12 names the result, whose counts no
/// tally before it gives (spec/40 §40.12 step 4); every other step passes.
#[test]
fn a_secret_divisions_result_before_its_tally_is_named_by_v12() {
    let mut entries = sitting_log().clone();
    let tally = positions(&entries, urne_verify::election::kinds::TALLY_RESULT)[0];
    let result = positions(&entries, urne_assembly::kinds::DIVISION_RESULT)
        .into_iter()
        .find(|&i| i > tally)
        .unwrap();
    let moved = entries.remove(result);
    entries.insert(tally, moved);
    let report = verify_sitting(entries);
    assert_field(&report, Step::Divisions, tally, "body.counts");
    let others: Vec<Step> = report
        .failures()
        .map(|(s, _)| s)
        .filter(|s| *s != Step::Divisions)
        .collect();
    assert!(others.is_empty(), "{}", report.summary());
}

// ---- V12 on sittings built record by record: one rule broken per class ---------------
//
// The chamber builder of urne-assembly's tests (deterministic keys, so each tampered
// record is signed again by whoever may sign it and exactly one rule of spec/40 breaks).
// Each class goes through the whole verifier, which must name V12, the record and the
// field.

#[path = "../crates/urne-assembly/tests/common/mod.rs"]
mod assembly_common;

use assembly_common::Chamber;

/// A sitting of 10 members: 9 present, member 9 away with a delegation to member 0, and
/// division 1 open at time 1,000 with the votes of members 0..5 in.
fn open_sitting() -> Chamber {
    let mut c = Chamber::new(10, urne_assembly::VoteChange::FinalOnFirstCast);
    for m in 0..9 {
        c.presence(m, true).unwrap();
    }
    c.grant(9, 0, urne_assembly::DEFAULT_PROXY_SECONDS).unwrap();
    c.open_division(1, 1_000).unwrap();
    for m in 0..5 {
        c.vote(m, 1, (m % 3) as u8).unwrap();
    }
    c
}

/// The same division closed, with every vote in (member 0 for 9 by proxy) and its result.
fn closed_sitting() -> Chamber {
    let mut c = open_sitting();
    for m in 5..9 {
        c.vote(m, 1, (m % 3) as u8).unwrap();
    }
    c.proxy_vote(0, 9, 1, 1).unwrap();
    c.event(urne_assembly::kinds::DIVISION_CLOSE, 1, 1_600)
        .unwrap();
    let result = c.expected_result(1);
    c.post_result(&result).unwrap();
    c
}

fn verify_chamber(c: &Chamber) -> Report {
    let entries: Vec<Vec<u8>> = c.log.iter().map(|(_, r)| r.bytes().to_vec()).collect();
    let signer = NoteSigner::from_seed("tamper.example/assembly", &[6; 32]).unwrap();
    let leaves: Vec<Hash> = entries.iter().map(|e| leaf_hash(e)).collect();
    let checkpoint = Checkpoint::new(
        "tamper.example/assembly",
        entries.len() as u64,
        urne_log::hash::root_of(&leaves),
        Vec::new(),
    )
    .unwrap();
    let mut note = Note::new(&checkpoint.to_text()).unwrap();
    signer.sign(&mut note);
    let archive = Archive {
        board_vkey: signer.verifier().to_vkey(),
        checkpoints: vec![note.to_text()],
        entries,
    };
    let vkey = signer.verifier().to_vkey();
    urne_verify::verify(&archive, &Options::pinned(&vkey), &Quiet)
}

#[test]
fn honest_sittings_pass_v12() {
    for c in [open_sitting(), closed_sitting()] {
        let report = verify_chamber(&c);
        assert!(report.passed, "{}", report.summary());
        assert_eq!(report.step(Step::Divisions).checked, 1);
    }
}

#[test]
fn each_rule_of_a_sitting_broken_alone_is_named_by_v12() {
    use urne_assembly::kinds as k;
    type Class = (&'static str, &'static str, fn(&mut Chamber) -> u64);
    let classes: Vec<Class> = vec![
        ("a vote on another text", "body.text_hash", |c| {
            let mut body = c.vote_body(5, 1, 0, None);
            body[9] ^= 1;
            let key = c.member(5);
            c.force(k::VOTE, &body, &key)
        }),
        ("a vote for a choice not offered", "body.choice", |c| {
            let body = c.vote_body(5, 1, 3, None);
            let key = c.member(5);
            c.force(k::VOTE, &body, &key)
        }),
        ("a second vote under first-cast-final", "vote.member", |c| {
            let body = c.vote_body(2, 1, 0, None);
            let key = c.member(2);
            c.force(k::VOTE, &body, &key)
        }),
        ("a vote by a member not present", "presence", |c| {
            let body = c.vote_body(9, 1, 0, None);
            let key = c.member(9);
            c.force(k::VOTE, &body, &key)
        }),
        ("a vote skipping a sequence number", "body.sequence", |c| {
            let mut body = c.vote_body(5, 1, 0, None);
            body[4] += 1;
            let key = c.member(5);
            c.force(k::VOTE, &body, &key)
        }),
        ("a proxy vote with no delegation", "body.on_behalf", |c| {
            let body = c.vote_body(6, 1, 0, Some(9));
            let key = c.member(6);
            c.force(k::VOTE, &body, &key)
        }),
        ("a vote signed by a stranger", "signer", |c| {
            let body = c.vote_body(5, 1, 0, None);
            c.force(k::VOTE, &body, &assembly_common::key(99, 3))
        }),
        ("a vote replayed byte for byte", "record", |c| {
            let last = c.log.last().unwrap().1.clone();
            let index = c.log.len() as u64;
            c.log.push((index, last));
            index
        }),
        ("a close before the window's end", "body.time", |c| {
            let body = urne_assembly::body::DivisionEvent {
                division: 1,
                time: 1_100,
                reason: String::new(),
            }
            .to_body(k::DIVISION_CLOSE)
            .unwrap();
            let officer = c.officer.clone();
            c.force(k::DIVISION_CLOSE, &body, &officer)
        }),
        ("a second division while one runs", "body.division", |c| {
            let body = c.open_body(2, 1_200, false);
            let officer = c.officer.clone();
            c.force(k::DIVISION_OPEN, &body, &officer)
        }),
        ("a division event by a member", "signer", |c| {
            let body = urne_assembly::body::DivisionEvent {
                division: 1,
                time: 1_100,
                reason: String::new(),
            }
            .to_body(k::DIVISION_SUSPEND)
            .unwrap();
            let key = c.member(1);
            c.force(k::DIVISION_SUSPEND, &body, &key)
        }),
        ("a roster change signed by the officer", "signer", |c| {
            let body = urne_assembly::RosterChange {
                version: c.roster_version() + 1,
                member: 3,
                op: urne_assembly::RosterOp::Revoke,
            }
            .to_body();
            let officer = c.officer.clone();
            c.force(k::ROSTER_CHANGE, &body, &officer)
        }),
        ("the sitting closed with a division open", "body", |c| {
            let officer = c.officer.clone();
            c.force(CONTEXT_PHASE, &[2], &officer)
        }),
    ];
    // The case names document each class; assert_field prints the report on failure.
    for (_case, field, tamper) in classes {
        let mut c = open_sitting();
        let at = tamper(&mut c);
        assert_field(&verify_chamber(&c), Step::Divisions, at as usize, field);
    }
    type ResultClass = (
        &'static str,
        &'static str,
        fn(&mut urne_assembly::DivisionResult),
    );
    let results: Vec<ResultClass> = vec![
        ("a result with a vote moved", "body.counts[0]", |r| {
            r.counts[0] += 1;
            r.counts[1] -= 1;
        }),
        ("a result hiding the proxy vote", "body.proxy_votes", |r| {
            r.proxy_votes = 0
        }),
        ("a result with more present", "body.present", |r| {
            r.present += 1
        }),
        ("a result with a lower quorum", "body.quorum", |r| {
            r.quorum -= 1
        }),
        (
            "a result over another roll call",
            "body.roll_call_hash",
            |r| {
                r.roll_call_hash[0] ^= 1;
            },
        ),
    ];
    for (case, field, change) in results {
        let mut c = closed_sitting();
        let (at, record) = c.log.pop().unwrap();
        let mut result = match urne_assembly::decode(record.kind(), record.body()) {
            Some(Ok(urne_assembly::Decoded::DivisionResult(r))) => r,
            other => panic!("{case}: {other:?}"),
        };
        change(&mut result);
        let officer = c.officer.clone();
        let forced = c.force(k::DIVISION_RESULT, &result.to_body().unwrap(), &officer);
        assert_eq!(forced, at);
        assert_field(&verify_chamber(&c), Step::Divisions, at as usize, field);
    }
}

/// `record` put at position `at` of the sitting's log (what a dishonest board could
/// write), the records after it moved on by one; returns `at`.
/// The clerk forces a roster change `ahead` versions past the chamber's, of `member`.
fn clerk_changes(c: &mut Chamber, ahead: u32, member: u32, op: urne_assembly::RosterOp) -> u64 {
    let body = urne_assembly::RosterChange {
        version: c.roster_version() + ahead,
        member,
        op,
    }
    .to_body();
    let clerk = c.clerk.clone();
    c.force(urne_assembly::kinds::ROSTER_CHANGE, &body, &clerk)
}

fn inserted(c: &mut Chamber, at: usize, record: Record) -> u64 {
    c.log.insert(at, (0, record));
    for (i, entry) in c.log.iter_mut().enumerate() {
        entry.0 = i as u64;
    }
    at as u64
}

/// A record of context `id` appended without any check; returns its index.
fn forced_in(
    c: &mut Chamber,
    id: ContextId,
    kind: urne_record::Kind,
    body: &[u8],
    key: &SigningKey,
) -> u64 {
    let index = c.log.len() as u64;
    c.log
        .push((index, Record::sign(id, kind, body, key).unwrap()));
    index
}

/// The chamber's rules as the builder posts them.
fn chamber_rules(c: &Chamber) -> urne_assembly::Rules {
    assembly_common::rules(&c.clerk, urne_assembly::VoteChange::FinalOnFirstCast)
}

/// The body of division `division`'s opening at `time`, changed by `change`.
fn open_changed(
    c: &Chamber,
    division: u32,
    time: u64,
    change: impl FnOnce(&mut urne_assembly::DivisionOpen),
) -> Vec<u8> {
    let mut open = match urne_assembly::decode(
        urne_assembly::kinds::DIVISION_OPEN,
        &c.open_body(division, time, false),
    ) {
        Some(Ok(urne_assembly::Decoded::DivisionOpen(open))) => open,
        other => panic!("{other:?}"),
    };
    change(&mut open);
    open.to_body().unwrap()
}

/// A wallet key (a canonical point, not the identity) for a secret division.
fn wallet_key(seed: u64) -> [u8; 32] {
    *(urne_crypto::group::generator_h() * Scalar::from_u64(seed + 1)).as_bytes()
}

/// Member `m`'s registration of `key` for division `division` (on behalf of `on_behalf`).
fn credential_body(
    c: &Chamber,
    m: u32,
    division: u32,
    key: [u8; 32],
    on_behalf: Option<u32>,
) -> Vec<u8> {
    urne_assembly::CredentialRegistration {
        sequence: c.seq(m),
        division,
        credential: key,
        on_behalf,
    }
    .to_body()
}

/// [`closed_sitting`] with a secret division 2 open at 2,000 (naming the builder's
/// election), every member but 9 present.
fn secret_open() -> Chamber {
    let mut c = closed_sitting();
    let body = c.open_body(2, 2_000, true);
    let officer = c.officer.clone();
    c.post(urne_assembly::kinds::DIVISION_OPEN, &body, &officer)
        .unwrap();
    c
}

/// The rest of V12's checks of spec/50 (steps 1 to 6), each broken alone on an
/// otherwise valid sitting: the chamber's phase, rules, roster and roster changes; the
/// sitting's phase, chamber and context; presence, delegations, divisions (numbers,
/// times, roster versions, quorum, reruns, secret flags, elections named), events,
/// results, votes, corrections and a secret division's registrations; a forged record.
/// Each must be named by V12 at its record with its field, and be the first failure.
#[test]
fn every_other_rule_of_a_chamber_or_sitting_broken_alone_is_named_by_v12() {
    use urne_assembly::kinds as k;
    use urne_assembly::{ProxyGrant, ProxyRevoke, RosterChange, RosterOp};
    type Class = (&'static str, &'static str, fn(&mut Chamber) -> u64);
    let classes: Vec<Class> = vec![
        // ---- a chamber (step 3, step 4)
        ("a chamber moved back to setup", "body", |c| {
            let (id, o) = (c.chamber_id, c.officer.clone());
            forced_in(c, id, CONTEXT_PHASE, &[0], &o)
        }),
        ("a chamber's phase moved by a member", "signer", |c| {
            let (id, m) = (c.chamber_id, c.member(1));
            forced_in(c, id, CONTEXT_PHASE, &[1], &m)
        }),
        ("a chamber moved to a phase it has not", "body", |c| {
            let (id, o) = (c.chamber_id, c.officer.clone());
            forced_in(c, id, CONTEXT_PHASE, &[2], &o)
        }),
        ("rules posted in a chamber in force", "kind", |c| {
            let (body, m) = (chamber_rules(c).to_body(), c.member(1));
            c.force(k::CHAMBER_RULES, &body, &m)
        }),
        ("a roster posted in a chamber in force", "kind", |c| {
            let body = assembly_common::roster_of(&c.members, 2).to_body().unwrap();
            let clerk = c.clerk.clone();
            c.force(k::ROSTER_MEMBERS, &body, &clerk)
        }),
        (
            "a roster change skipping a version",
            "body.version_number",
            |c| clerk_changes(c, 2, 3, RosterOp::Revoke),
        ),
        (
            "a roster change of a member not on the roster",
            "body.member",
            |c| clerk_changes(c, 1, 42, RosterOp::Revoke),
        ),
        (
            "a rotation to a key another member holds",
            "body.key",
            |c| {
                clerk_changes(
                    c,
                    1,
                    3,
                    RosterOp::Rotate(c.member(4).verifying_key().to_bytes()),
                )
            },
        ),
        ("a sitting's record posted in the chamber", "kind", |c| {
            let (id, body, m) = (c.chamber_id, c.vote_body(5, 1, 0, None), c.member(5));
            forced_in(c, id, k::VOTE, &body, &m)
        }),
        // The chamber's setup, each record put among the builder's: 0 the chamber's
        // context.open, 1 its rules, 2 its roster, 3 its phase, 4 and 5 the sitting's.
        ("rules signed by the clerk", "signer", |c| {
            let r = c.record(k::CHAMBER_RULES, &chamber_rules(c).to_body(), &c.clerk);
            inserted(c, 1, r)
        }),
        (
            "rules that do not hash to the chamber's parameters",
            "body",
            |c| {
                let mut rules = chamber_rules(c);
                rules.max_proxies_held = 2;
                let r = c.record(k::CHAMBER_RULES, &rules.to_body(), &c.officer);
                inserted(c, 1, r)
            },
        ),
        ("rules posted twice", "body", |c| {
            let mut rules = chamber_rules(c);
            rules.max_proxies_held = 2;
            let r = c.record(k::CHAMBER_RULES, &rules.to_body(), &c.officer);
            inserted(c, 2, r)
        }),
        ("a roster before the rules", "body", |c| {
            let body = assembly_common::roster_of(&c.members, 1).to_body().unwrap();
            let r = c.record(k::ROSTER_MEMBERS, &body, &c.clerk);
            inserted(c, 1, r)
        }),
        ("a roster signed by the officer", "signer", |c| {
            let body = assembly_common::roster_of(&c.members, 1).to_body().unwrap();
            let r = c.record(k::ROSTER_MEMBERS, &body, &c.officer);
            inserted(c, 2, r)
        }),
        ("a roster of version 0", "body.version_number", |c| {
            let body = assembly_common::roster_of(&c.members, 0).to_body().unwrap();
            let r = c.record(k::ROSTER_MEMBERS, &body, &c.clerk);
            inserted(c, 2, r)
        }),
        ("a roster posted twice", "body", |c| {
            let body = assembly_common::roster_of(&c.members, 2).to_body().unwrap();
            let r = c.record(k::ROSTER_MEMBERS, &body, &c.clerk);
            inserted(c, 3, r)
        }),
        ("a chamber in force before its roster", "body", |c| {
            let r = Record::sign(c.chamber_id, CONTEXT_PHASE, &[1], &c.officer).unwrap();
            inserted(c, 2, r)
        }),
        ("a roster change in setup", "kind", |c| {
            let body = RosterChange {
                version: 2,
                member: 3,
                op: RosterOp::Revoke,
            }
            .to_body();
            let r = c.record(k::ROSTER_CHANGE, &body, &c.clerk);
            inserted(c, 3, r)
        }),
        // ---- a sitting's phase and context (steps 2, 5, 6)
        ("a sitting's phase moved by a member", "signer", |c| {
            let (id, m) = (c.id, c.member(1));
            forced_in(c, id, CONTEXT_PHASE, &[2], &m)
        }),
        ("a sitting moved back to setup", "body", |c| {
            let (id, o) = (c.id, c.officer.clone());
            forced_in(c, id, CONTEXT_PHASE, &[0], &o)
        }),
        (
            "a sitting closed with a closed division's result missing",
            "body",
            |c| {
                c.event(k::DIVISION_CLOSE, 1, 1_600).unwrap();
                let (id, o) = (c.id, c.officer.clone());
                forced_in(c, id, CONTEXT_PHASE, &[2], &o)
            },
        ),
        (
            "a sitting put in session by another officer than its chamber's",
            "body",
            |c| {
                let other = assembly_common::key(1, 1);
                let body = assembly_common::sitting_open(c.chamber_id, 30);
                let id = ContextId::derive(&other.verifying_key().to_bytes(), &body);
                forced_in(c, id, CONTEXT_OPEN, &body, &other);
                forced_in(c, id, CONTEXT_PHASE, &[1], &other)
            },
        ),
        (
            "a record of a sitting whose chamber is not on the board",
            "context",
            |c| {
                let body = assembly_common::sitting_open(ContextId([0x33; 32]), 31);
                let officer = c.officer.clone();
                let id = ContextId::derive(&officer.verifying_key().to_bytes(), &body);
                forced_in(c, id, CONTEXT_OPEN, &body, &officer);
                let presence = urne_assembly::Presence {
                    sequence: 1,
                    roster_version: 1,
                    present: true,
                }
                .to_body();
                let m = c.member(1);
                forced_in(c, id, k::PRESENCE, &presence, &m)
            },
        ),
        (
            "a second context.open of the sitting, another body under its id",
            "context",
            |c| {
                let body = assembly_common::sitting_open(c.chamber_id, 99);
                let (id, o) = (c.id, c.officer.clone());
                forced_in(c, id, CONTEXT_OPEN, &body, &o)
            },
        ),
        ("a chamber's record posted in the sitting", "kind", |c| {
            let body = RosterChange {
                version: c.roster_version() + 1,
                member: 3,
                op: RosterOp::Revoke,
            }
            .to_body();
            let (id, clerk) = (c.id, c.clerk.clone());
            forced_in(c, id, k::ROSTER_CHANGE, &body, &clerk)
        }),
        ("a presence in a sitting not in session", "kind", |c| {
            let body = assembly_common::sitting_open(c.chamber_id, 32);
            let officer = c.officer.clone();
            let id = ContextId::derive(&officer.verifying_key().to_bytes(), &body);
            forced_in(c, id, CONTEXT_OPEN, &body, &officer);
            let presence = urne_assembly::Presence {
                sequence: 1,
                roster_version: 1,
                present: true,
            }
            .to_body();
            let m = c.member(1);
            forced_in(c, id, k::PRESENCE, &presence, &m)
        }),
        // ---- presence and delegations (step 6)
        ("a vote signed with a key rotated out", "signer", |c| {
            let body = RosterChange {
                version: c.roster_version() + 1,
                member: 5,
                op: RosterOp::Rotate(assembly_common::key(55, 3).verifying_key().to_bytes()),
            }
            .to_body();
            let clerk = c.clerk.clone();
            c.post(k::ROSTER_CHANGE, &body, &clerk).unwrap();
            let (body, old) = (c.vote_body(5, 1, 0, None), c.member(5));
            c.force(k::VOTE, &body, &old)
        }),
        (
            "a presence under another roster version",
            "body.roster_version",
            |c| {
                let body = urne_assembly::Presence {
                    sequence: c.seq(9),
                    roster_version: c.roster_version() + 1,
                    present: true,
                }
                .to_body();
                let m = c.member(9);
                c.force(k::PRESENCE, &body, &m)
            },
        ),
        ("a delegation to oneself", "body.delegate", |c| {
            let body = ProxyGrant {
                sequence: c.seq(1),
                roster_version: c.roster_version(),
                delegate: 1,
                seconds: 600,
                reason: "mission abroad".into(),
            }
            .to_body()
            .unwrap();
            let m = c.member(1);
            c.force(k::PROXY_GRANT, &body, &m)
        }),
        ("a second delegation while one is in force", "body", |c| {
            let body = ProxyGrant {
                sequence: c.seq(9),
                roster_version: c.roster_version(),
                delegate: 1,
                seconds: 600,
                reason: "mission abroad".into(),
            }
            .to_body()
            .unwrap();
            let m = c.member(9);
            c.force(k::PROXY_GRANT, &body, &m)
        }),
        (
            "a delegate holding more delegations than the rules allow",
            "body.delegate",
            |c| {
                let body = ProxyGrant {
                    sequence: c.seq(1),
                    roster_version: c.roster_version(),
                    delegate: 0,
                    seconds: 600,
                    reason: "mission abroad".into(),
                }
                .to_body()
                .unwrap();
                let m = c.member(1);
                c.force(k::PROXY_GRANT, &body, &m)
            },
        ),
        ("a revocation with no delegation to revoke", "body", |c| {
            let body = ProxyRevoke { sequence: c.seq(1) }.to_body();
            let m = c.member(1);
            c.force(k::PROXY_REVOKE, &body, &m)
        }),
        // ---- divisions (step 6)
        ("a division numbered out of turn", "body.division", |c| {
            *c = closed_sitting();
            let (body, o) = (c.open_body(3, 2_000, false), c.officer.clone());
            c.force(k::DIVISION_OPEN, &body, &o)
        }),
        (
            "a division opened before the sitting clock",
            "body.time",
            |c| {
                *c = closed_sitting();
                let (body, o) = (c.open_body(2, 1_500, false), c.officer.clone());
                c.force(k::DIVISION_OPEN, &body, &o)
            },
        ),
        (
            "a division under another roster version",
            "body.roster_version",
            |c| {
                *c = closed_sitting();
                let body = open_changed(c, 2, 2_000, |o| o.roster_version += 1);
                let o = c.officer.clone();
                c.force(k::DIVISION_OPEN, &body, &o)
            },
        ),
        ("a division opened without a quorum", "quorum", |c| {
            *c = closed_sitting();
            for m in 1..9 {
                c.presence(m, false).unwrap();
            }
            let (body, o) = (c.open_body(2, 2_000, false), c.officer.clone());
            c.force(k::DIVISION_OPEN, &body, &o)
        }),
        ("a rerun of a division not voided", "body.reruns", |c| {
            *c = closed_sitting();
            let body = open_changed(c, 2, 2_000, |o| o.reruns = 1);
            let o = c.officer.clone();
            c.force(k::DIVISION_OPEN, &body, &o)
        }),
        ("a rerun on another text", "body.text_hash", |c| {
            c.event(k::DIVISION_VOID, 1, 1_100).unwrap();
            let body = open_changed(c, 2, 1_200, |o| {
                o.reruns = 1;
                o.text_hash[0] ^= 1;
            });
            let o = c.officer.clone();
            c.force(k::DIVISION_OPEN, &body, &o)
        }),
        ("a rerun with other choices", "body.choices", |c| {
            c.event(k::DIVISION_VOID, 1, 1_100).unwrap();
            let body = open_changed(c, 2, 1_200, |o| {
                o.reruns = 1;
                o.choices.swap(0, 1);
            });
            let o = c.officer.clone();
            c.force(k::DIVISION_OPEN, &body, &o)
        }),
        (
            "a rerun of a roll call as a secret ballot",
            "body.secret",
            |c| {
                c.event(k::DIVISION_VOID, 1, 1_100).unwrap();
                let body = open_changed(c, 2, 1_200, |o| {
                    o.reruns = 1;
                    o.secret = true;
                    o.election = Some(assembly_common::ELECTION);
                });
                let o = c.officer.clone();
                c.force(k::DIVISION_OPEN, &body, &o)
            },
        ),
        (
            "a secret division in a chamber too small for one",
            "body.secret",
            |c| {
                *c = Chamber::new(2, urne_assembly::VoteChange::FinalOnFirstCast);
                c.all_present();
                let (body, o) = (c.open_body(1, 1_000, true), c.officer.clone());
                c.force(k::DIVISION_OPEN, &body, &o)
            },
        ),
        ("an election named by two divisions", "body.election", |c| {
            *c = secret_open();
            c.event(k::DIVISION_CLOSE, 2, 2_600).unwrap();
            let (body, o) = (c.open_body(3, 2_700, true), c.officer.clone());
            c.force(k::DIVISION_OPEN, &body, &o)
        }),
        // ---- events (step 6)
        (
            "an event of a division that does not exist",
            "body.division",
            |c| event_forced(c, k::DIVISION_SUSPEND, 5, 1_100),
        ),
        (
            "a resume of a division not suspended",
            "body.division",
            |c| event_forced(c, k::DIVISION_RESUME, 1, 1_100),
        ),
        ("an event before the sitting clock", "body.time", |c| {
            event_forced(c, k::DIVISION_SUSPEND, 1, 900)
        }),
        ("a division voided after its result", "body.division", |c| {
            *c = closed_sitting();
            event_forced(c, k::DIVISION_VOID, 1, 1_700)
        }),
        // ---- results (step 6)
        ("a result of a division still open", "body.division", |c| {
            let body = c.expected_result(1).to_body().unwrap();
            let o = c.officer.clone();
            c.force(k::DIVISION_RESULT, &body, &o)
        }),
        ("a result posted twice", "body.division", |c| {
            *c = closed_sitting();
            let mut result = c.expected_result(1);
            result.present += 1;
            let o = c.officer.clone();
            c.force(k::DIVISION_RESULT, &result.to_body().unwrap(), &o)
        }),
        // ---- votes and corrections (step 6)
        ("a vote in a closed division", "body.division", |c| {
            *c = closed_sitting();
            let (body, m) = (c.vote_body(1, 1, 0, None), c.member(1));
            c.force(k::VOTE, &body, &m)
        }),
        (
            "a vote under another roster version",
            "body.roster_version",
            |c| {
                let body = urne_assembly::Vote {
                    sequence: c.seq(5),
                    division: 1,
                    text_hash: c.text_hash,
                    roster_version: c.roster_version() + 1,
                    choice: 0,
                    on_behalf: None,
                }
                .to_body();
                let m = c.member(5);
                c.force(k::VOTE, &body, &m)
            },
        ),
        (
            "a roll-call vote in a secret division",
            "body.division",
            |c| {
                *c = secret_open();
                let (body, m) = (c.vote_body(1, 2, 0, None), c.member(1));
                c.force(k::VOTE, &body, &m)
            },
        ),
        ("a proxy vote in a secret division", "body.on_behalf", |c| {
            *c = secret_open();
            let (body, m) = (c.vote_body(0, 2, 0, Some(9)), c.member(0));
            c.force(k::VOTE, &body, &m)
        }),
        ("a correction in a voided division", "body.division", |c| {
            c.event(k::DIVISION_VOID, 1, 1_100).unwrap();
            correction_forced(c, 1, 1, 2)
        }),
        ("a correction to a choice not offered", "body.choice", |c| {
            correction_forced(c, 1, 1, 3)
        }),
        // ---- a secret division's registrations (step 6)
        (
            "a wallet key for a roll-call division",
            "body.division",
            |c| {
                let (body, m) = (credential_body(c, 5, 1, wallet_key(1), None), c.member(5));
                c.force(k::SECRET_CREDENTIAL, &body, &m)
            },
        ),
        ("a wallet key from a member not present", "presence", |c| {
            *c = secret_open();
            let (body, m) = (credential_body(c, 9, 2, wallet_key(1), None), c.member(9));
            c.force(k::SECRET_CREDENTIAL, &body, &m)
        }),
        (
            "a wallet key registered by proxy against the rules",
            "body.on_behalf",
            |c| {
                *c = secret_open();
                let (body, m) = (
                    credential_body(c, 0, 2, wallet_key(1), Some(9)),
                    c.member(0),
                );
                c.force(k::SECRET_CREDENTIAL, &body, &m)
            },
        ),
        ("a member registering twice", "credential.member", |c| {
            *c = secret_open();
            let (body, m) = (credential_body(c, 1, 2, wallet_key(1), None), c.member(1));
            c.post(k::SECRET_CREDENTIAL, &body, &m).unwrap();
            let body = credential_body(c, 1, 2, wallet_key(2), None);
            c.force(k::SECRET_CREDENTIAL, &body, &m)
        }),
        (
            "a wallet key registered by two members",
            "body.credential",
            |c| {
                *c = secret_open();
                let (body, m) = (credential_body(c, 1, 2, wallet_key(1), None), c.member(1));
                c.post(k::SECRET_CREDENTIAL, &body, &m).unwrap();
                let (body, m) = (credential_body(c, 2, 2, wallet_key(1), None), c.member(2));
                c.force(k::SECRET_CREDENTIAL, &body, &m)
            },
        ),
        (
            "a wallet key after the division's close",
            "body.division",
            |c| {
                *c = secret_open();
                c.event(k::DIVISION_CLOSE, 2, 2_600).unwrap();
                let (body, m) = (credential_body(c, 1, 2, wallet_key(1), None), c.member(1));
                c.force(k::SECRET_CREDENTIAL, &body, &m)
            },
        ),
        // ---- bodies decoded strictly (steps 4 and 6)
        ("a body of another version", "body.version", |c| {
            let mut body = c.vote_body(5, 1, 0, None);
            body[0] = 2;
            let m = c.member(5);
            c.force(k::VOTE, &body, &m)
        }),
        (
            "a vote whose proxy flag is neither 0 nor 1",
            "body.proxy",
            |c| {
                let mut body = c.vote_body(5, 1, 0, None);
                *body.last_mut().unwrap() = 2;
                let m = c.member(5);
                c.force(k::VOTE, &body, &m)
            },
        ),
        ("a presence flag that is not a flag", "body.present", |c| {
            let mut body = urne_assembly::Presence {
                sequence: c.seq(9),
                roster_version: c.roster_version(),
                present: true,
            }
            .to_body();
            *body.last_mut().unwrap() = 2;
            let m = c.member(9);
            c.force(k::PRESENCE, &body, &m)
        }),
        (
            "a roster change of an operation that is none",
            "body.op",
            |c| {
                let mut body = RosterChange {
                    version: c.roster_version() + 1,
                    member: 3,
                    op: RosterOp::Revoke,
                }
                .to_body();
                *body.last_mut().unwrap() = 3;
                let clerk = c.clerk.clone();
                c.force(k::ROSTER_CHANGE, &body, &clerk)
            },
        ),
        ("a division voided without a reason", "body.reason", |c| {
            let body = urne_assembly::body::DivisionEvent {
                division: 1,
                time: 1_100,
                reason: String::new(),
            }
            .to_body(k::DIVISION_VOID)
            .unwrap();
            let o = c.officer.clone();
            c.force(k::DIVISION_VOID, &body, &o)
        }),
        ("a vote with a byte after its body", "body.end", |c| {
            let mut body = c.vote_body(5, 1, 0, None);
            body.push(0);
            let m = c.member(5);
            c.force(k::VOTE, &body, &m)
        }),
        // ---- step 1: a forged record (V2 names it too)
        ("a vote whose signature does not verify", "signature", |c| {
            let (body, m) = (c.vote_body(5, 1, 0, None), c.member(5));
            let mut bytes = c.record(k::VOTE, &body, &m).into_bytes();
            let last = bytes.len() - 1;
            bytes[last] ^= 1;
            let index = c.log.len() as u64;
            c.log.push((index, Record::parse(bytes).unwrap()));
            index
        }),
    ];
    let mut wrong = Vec::new();
    for (case, field, tamper) in classes {
        let mut c = open_sitting();
        let at = tamper(&mut c);
        let report = verify_chamber(&c);
        if std::panic::catch_unwind(|| assert_field(&report, Step::Divisions, at as usize, field))
            .is_err()
        {
            wrong.push(case);
        }
    }
    assert!(wrong.is_empty(), "not named as expected: {wrong:?}");
    // A result whose roster version or number of choices is not the division's.
    type ResultClass = (&'static str, fn(&mut urne_assembly::DivisionResult));
    let results: Vec<(&str, ResultClass)> = vec![
        (
            "body.roster_version",
            ("another roster version", |r| r.roster_version += 1),
        ),
        (
            "body.choice_count",
            ("a choice fewer", |r| {
                r.counts.pop();
            }),
        ),
    ];
    for (field, (case, change)) in results {
        let mut c = closed_sitting();
        let (at, record) = c.log.pop().unwrap();
        let mut result = match urne_assembly::decode(record.kind(), record.body()) {
            Some(Ok(urne_assembly::Decoded::DivisionResult(r))) => r,
            other => panic!("{case}: {other:?}"),
        };
        change(&mut result);
        let officer = c.officer.clone();
        let forced = c.force(k::DIVISION_RESULT, &result.to_body().unwrap(), &officer);
        assert_eq!(forced, at, "{case}");
        assert_field(&verify_chamber(&c), Step::Divisions, at as usize, field);
    }
}

/// The officer's `kind` event of `division` at `time`, appended without any check.
fn event_forced(c: &mut Chamber, kind: urne_record::Kind, division: u32, time: u64) -> u64 {
    let body = urne_assembly::body::DivisionEvent {
        division,
        time,
        reason: "recount requested".into(),
    }
    .to_body(kind)
    .unwrap();
    let officer = c.officer.clone();
    c.force(kind, &body, &officer)
}

/// Member `m`'s correction of its vote in `division` to `choice`, appended without any
/// check.
fn correction_forced(c: &mut Chamber, m: u32, division: u32, choice: u8) -> u64 {
    let body = urne_assembly::Correction {
        sequence: c.seq(m),
        division,
        choice,
        note: String::new(),
    }
    .to_body()
    .unwrap();
    let key = c.member(m);
    c.force(urne_assembly::kinds::VOTE_CORRECTION, &body, &key)
}

// ---- the board's fold and the verifier's own agree (ARCHITECTURE §9) ------------------
//
// urne-verify folds an election with its own code, not urne-election's: the two must
// accept and refuse the same records, on the valid log and on many mutated ones. Where
// they could legitimately differ: the verifier defers a cast ballot's proofs to one
// batch after the log is read, so a ballot the board refused for its proofs still holds
// its tracking code in the verifier's fold, and a later ballot of the very same bytes
// (same tracking code) would be refused there and accepted by the board. No mutation
// below makes such a pair (a flipped byte changes the tracking code; a duplicate copies a
// valid ballot), so the verdicts must be equal.

/// The election contexts a log opens (their first valid `context.open`).
fn elections_of(entries: &[Vec<u8>]) -> Vec<ContextId> {
    let mut ids = Vec::new();
    for e in entries {
        let Ok(r) = Record::parse(e.clone()) else {
            continue;
        };
        if r.kind() == urne_record::kinds::CONTEXT_OPEN
            && !ids.contains(&r.context())
            && urne_record::ContextOpen::parse(r.body())
                .is_ok_and(|o| o.context_type == urne_record::ContextType::ELECTION)
            && ContextId::derive(r.signer(), r.body()) == r.context()
        {
            ids.push(r.context());
        }
    }
    ids
}

/// The records of the log's elections urne-election's fold (the board's acceptance
/// code, replayed record by record with every proof checked on arrival) refuses.
fn board_refuses(entries: &[Vec<u8>], ids: &[ContextId]) -> std::collections::BTreeSet<u64> {
    let mut replays: Vec<urne_election::Replay> = ids
        .iter()
        .map(|id| urne_election::Replay::new(*id, ORIGIN))
        .collect();
    let mut refused = std::collections::BTreeSet::new();
    for (i, e) in entries.iter().enumerate() {
        let Ok(r) = Record::parse(e.clone()) else {
            continue;
        };
        for replay in &mut replays {
            if replay.feed(i as u64, &r).is_err() {
                refused.insert(i as u64);
            }
        }
    }
    refused
}

/// The records of the log's elections urne-verify's report names as refused.
fn verifier_refuses(report: &Report, ids: &[ContextId]) -> std::collections::BTreeSet<u64> {
    let ids: Vec<String> = ids.iter().map(ContextId::to_hex).collect();
    report
        .failures()
        .filter(|(_, f)| f.context.as_ref().is_some_and(|c| ids.contains(c)))
        .filter_map(|(_, f)| f.record)
        .collect()
}

/// Both folds on `entries`: their refused records must be the same.
#[track_caller]
fn assert_folds_agree(entries: Vec<Vec<u8>>, what: &str) -> usize {
    let ids = elections_of(&entries);
    let board = board_refuses(&entries, &ids);
    let report = verify(&archive(entries));
    let verifier = verifier_refuses(&report, &ids);
    assert_eq!(
        board,
        verifier,
        "{what}: the board's fold refuses {board:?}, the verifier's {verifier:?}\n{}",
        report.summary()
    );
    board.len()
}

/// The key that signed `signer` in the held election, or anyone's (a ballot's poster).
fn key_of(signer: &[u8; 32]) -> SigningKey {
    let h = held();
    if h.authority.verifying_key().as_bytes() == signer {
        return h.authority.clone();
    }
    h.election
        .trustee_keys
        .iter()
        .find(|k| k.verifying_key().as_bytes() == signer)
        .cloned()
        .unwrap_or_else(anyone)
}

/// A reproducible sequence of numbers for the byte flips (no seed API to depend on).
struct Xorshift(u64);

impl Xorshift {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

#[test]
fn board_and_verifier_folds_agree_on_the_valid_log_and_on_moved_records() {
    let entries = held().entries.clone();
    assert_eq!(assert_folds_agree(entries.clone(), "the valid log"), 0);
    let mut refusing = 0;
    for i in 1..entries.len() {
        let mut dropped = entries.clone();
        dropped.remove(i);
        refusing += assert_folds_agree(dropped, &format!("record {i} dropped"));

        let mut doubled = entries.clone();
        doubled.insert(i + 1, entries[i].clone());
        refusing += assert_folds_agree(doubled, &format!("record {i} posted twice"));

        if i + 1 < entries.len() {
            let mut swapped = entries.clone();
            swapped.swap(i, i + 1);
            refusing += assert_folds_agree(swapped, &format!("records {i} and {} swapped", i + 1));
        }

        let r = record(&entries[i]);
        for (who, key) in [
            ("anyone", anyone()),
            ("the authority", held().authority.clone()),
        ] {
            if key.verifying_key().as_bytes() == r.signer() {
                continue;
            }
            let mut resigned = entries.clone();
            resign(&mut resigned, i, r.body(), &key);
            refusing += assert_folds_agree(resigned, &format!("record {i} posted by {who}"));
        }
    }
    // The mutations did make the folds refuse records: the agreement is not vacuous.
    assert!(refusing > entries.len(), "only {refusing} refusals");
}

#[test]
fn board_and_verifier_folds_agree_on_random_byte_flips_in_bodies() {
    let entries = held().entries.clone();
    let mut rng = Xorshift(0x9e37_79b9_7f4a_7c15);
    let mut refusing = 0;
    for round in 0..160 {
        let mut mutated = entries.clone();
        let i = 1 + rng.below(entries.len() - 1);
        let r = record(&entries[i]);
        let mut body = r.body().to_vec();
        match rng.below(8) {
            0 => body.truncate(rng.below(body.len())),
            1 => body.push(rng.below(256) as u8),
            _ => {
                let at = rng.below(body.len());
                body[at] ^= 1 << rng.below(8);
            }
        }
        resign(&mut mutated, i, &body, &key_of(r.signer()));
        refusing += assert_folds_agree(mutated, &format!("flip {round} in record {i}"));
    }
    assert!(refusing >= 160, "only {refusing} refusals");
}

// ---- the state file of incremental runs (spec/51 §51.4) ---------------------------------

/// The state a passed run over the first `prefix` entries leaves, with its options.
fn state_after(prefix: usize, options: &Options) -> urne_verify::VerifiedState {
    let a = archive(held().entries[..prefix].to_vec());
    let report = urne_verify::verify(&a, options, &Quiet);
    assert!(report.passed, "{}", report.summary());
    urne_verify::VerifiedState::after(&a, options, &report).unwrap()
}

#[test]
fn state_file_round_trips_and_starts_an_incremental_run_of_the_same_options() {
    let options = Options::pinned(&board_vkey());
    let prefix = cast_at(&held().entries, 10);
    let state = state_after(prefix, &options);
    let bytes = state.encode();
    assert!(bytes.starts_with(urne_verify::STATE_MAGIC));
    let read = urne_verify::VerifiedState::decode(&bytes).unwrap();
    assert_eq!(read, state);
    read.check(&options).unwrap();
    // The next run: the state's checkpoint before the board's, its entries trusted.
    let mut a = archive(held().entries.clone());
    a.checkpoints.insert(0, read.archive.checkpoints[0].clone());
    let next = Options {
        verified_prefix: read.size,
        ..options
    };
    let report = urne_verify::verify(&a, &next, &Quiet);
    assert!(report.passed, "{}", report.summary());
    assert_eq!(report.verified_before, prefix as u64);
    // A failed run leaves no state.
    let mut bad = held().entries[..prefix].to_vec();
    let at = cast_at(&bad, 3);
    tamper_ballot(&mut bad, at, |b| {
        plus_one(&mut b.contests[0].options[0].proof.branches[0].z)
    });
    let a = archive(bad);
    let report = urne_verify::verify(&a, &Options::pinned(&board_vkey()), &Quiet);
    assert!(
        urne_verify::VerifiedState::after(&a, &Options::pinned(&board_vkey()), &report).is_none()
    );
}

#[test]
fn state_file_of_another_board_or_other_trust_anchors_is_refused() {
    let options = Options::pinned(&board_vkey());
    let state = state_after(cast_at(&held().entries, 4), &options);
    let other_board = NoteSigner::from_seed(ORIGIN, &[4; 32]).unwrap();
    let err = state
        .check(&Options::pinned(&other_board.verifier().to_vkey()))
        .unwrap_err();
    assert!(
        matches!(err, urne_verify::StateError::OtherBoard { .. }),
        "{err}"
    );
    // No key at all: refused too (the state cannot stand in for the anchor).
    assert!(matches!(
        state.check(&Options::default()).unwrap_err(),
        urne_verify::StateError::OtherBoard { .. }
    ));
    let witness = Cosigner::from_seed("witness.example", &[5; 32]).unwrap();
    for other in [
        Options {
            witnesses: vec![witness.verifier()],
            ..options.clone()
        },
        Options {
            elections: vec![record(&held().entries[0]).context()],
            ..options.clone()
        },
        Options {
            authorities: vec![held().authority.verifying_key().to_bytes()],
            ..options.clone()
        },
        Options {
            trust_archive_key: true,
            ..options.clone()
        },
    ] {
        assert_eq!(
            state.check(&other).unwrap_err(),
            urne_verify::StateError::OtherOptions
        );
    }
}

#[test]
fn state_file_altered_is_refused_even_resealed() {
    let options = Options::pinned(&board_vkey());
    let prefix = cast_at(&held().entries, 6);
    let state = state_after(prefix, &options);
    // A byte changed anywhere breaks the seal.
    let mut bytes = state.encode();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 1;
    assert!(matches!(
        urne_verify::VerifiedState::decode(&bytes).unwrap_err(),
        urne_verify::StateError::Altered(_)
    ));
    // The seal is no secret: one who rewrites the entries and seals again is caught by
    // the board's checkpoint, which no longer signs them.
    let mut forged = state.clone();
    let at = cast_at(&forged.archive.entries, 2);
    tamper_ballot(&mut forged.archive.entries, at, |b| {
        plus_one(&mut b.contests[0].options[0].proof.branches[0].z)
    });
    let resealed = urne_verify::VerifiedState::decode(&forged.encode()).unwrap();
    assert!(matches!(
        resealed.check(&options).unwrap_err(),
        urne_verify::StateError::Altered(_)
    ));
    // Nor may it claim more entries than its checkpoint covers.
    let mut longer = state.clone();
    longer.size += 1;
    assert!(matches!(
        longer.check(&options).unwrap_err(),
        urne_verify::StateError::Altered(_)
    ));
    // An archive (spec/51) is not a state file.
    assert!(matches!(
        urne_verify::VerifiedState::decode(&archive(held().entries.clone()).encode()).unwrap_err(),
        urne_verify::StateError::Format { .. }
    ));
}

// ---- more classes: counting, phases, cosignatures ----------------------------------------

/// Every cast ballot of the held election, in log order, and its credential list.
fn ballots_and_list(
    entries: &[Vec<u8>],
) -> (Vec<(usize, Ballot)>, urne_credential::CredentialList) {
    let ballots = positions(entries, kinds::BALLOT_CAST)
        .into_iter()
        .map(|i| (i, CastBallot::decode(&body(&entries[i])).unwrap().ballot))
        .collect();
    let parts: Vec<_> = positions(entries, kinds::ELECTION_CREDENTIALS)
        .into_iter()
        .map(|i| urne_credential::CredentialListPart::decode(&body(&entries[i])).unwrap())
        .collect();
    (
        ballots,
        urne_credential::CredentialList::from_parts(&parts).unwrap(),
    )
}

#[test]
fn m42_superseded_ballot_counted_instead_of_its_revote_is_caught() {
    let entries = held().entries.clone();
    let (ballots, list) = ballots_and_list(&entries);
    // Each revoting credential's later ballots left out: its first ballot counts.
    let mut seen = std::collections::HashSet::new();
    let firsts: Vec<Ballot> = ballots
        .into_iter()
        .filter(|(_, b)| seen.insert(b.credential.0))
        .map(|(_, b)| b)
        .collect();
    let stale = urne_tally::aggregate(&held().election.election, &list, &firsts).unwrap();
    let (report, at) = tamper_result(|r| {
        // The same counted ballots, superseded count and weight: only the sums differ.
        assert_eq!(stale.tally.ballots, r.tally.ballots);
        r.tally.contests = stale.tally.contests.clone();
    });
    assert_caught(&report, Step::Aggregation, Some(at));
    let field = &report.step(Step::Aggregation).failures[0].field;
    assert!(
        field.starts_with("body.contests[") && field.ends_with("].sum"),
        "{}",
        report.summary()
    );
}

#[test]
fn m43_tally_of_a_subset_of_the_counted_ballots_is_caught() {
    let entries = held().entries.clone();
    let (ballots, list) = ballots_and_list(&entries);
    let all: Vec<Ballot> = ballots.into_iter().map(|(_, b)| b).collect();
    let resolution = urne_tally::resolve_revotes(&all);
    let mut counted: Vec<Ballot> = resolution.counted.iter().map(|&i| all[i].clone()).collect();
    counted.truncate(counted.len() - 3);
    let subset = urne_tally::aggregate(&held().election.election, &list, &counted).unwrap();
    let (report, at) = tamper_result(|r| r.tally = subset.tally.clone());
    assert_field(&report, Step::Revotes, at, "body.ballots");
}

#[test]
fn m44_credential_added_after_registration_closed_is_caught() {
    let mut entries = held().entries.clone();
    let voting = phase_at(&entries, Phase::Voting);
    let context = record(&entries[voting]).context();
    let stranger = Credential::generate(&mut rand::rng());
    let list = urne_credential::CredentialList::new(vec![urne_credential::ListedCredential {
        credential: stranger.public(),
        weight: 1,
    }])
    .unwrap();
    let part = list.parts()[0].to_bytes();
    let at = voting + 1;
    entries.insert(
        at,
        Record::sign(
            context,
            kinds::ELECTION_CREDENTIALS,
            &part,
            &held().authority,
        )
        .unwrap()
        .into_bytes(),
    );
    assert_field(&verify(&archive(entries)), Step::Credentials, at, "kind");
}

#[test]
fn m45_ballot_cast_before_voting_opened_is_caught() {
    let mut entries = held().entries.clone();
    let voting = phase_at(&entries, Phase::Voting);
    let first = cast_at(&entries, 0);
    let moved = entries.remove(first);
    entries.insert(voting, moved);
    assert_field(&verify(&archive(entries)), Step::Ballots, voting, "kind");
}

#[test]
fn m46_forged_witness_cosignature_is_caught() {
    let a = archive(held().entries.clone());
    let witness = Cosigner::from_seed("witness.example", &[5; 32]).unwrap();
    let mut note = Note::parse(a.checkpoints[0].as_bytes()).unwrap();
    // The witness's name and key id, but a signature it never made.
    let mut forged = witness.cosign(note.text(), 1_700_000_000);
    let last = forged.signature.len() - 1;
    forged.signature[last] ^= 1;
    note.add_signature(forged);
    let mut cosigned = a.clone();
    cosigned.checkpoints = vec![note.to_text()];
    let options = Options {
        witnesses: vec![witness.verifier()],
        ..Options::pinned(&board_vkey())
    };
    let report = urne_verify::verify(&cosigned, &options, &Quiet);
    assert_caught(&report, Step::Log, None);
    assert_eq!(
        report.step(Step::Log).failures[0].field,
        "checkpoints[0].cosignatures"
    );
}

// ---- the URL path: a lying board over HTTP ------------------------------------------

/// A board that serves `archive` over the three endpoints `urne verify URL` reads
/// (spec/13: `/v1/board`, `/checkpoint`, `/v1/entries`), whatever its entries are:
/// the verifier must find over HTTP what it finds in a file. Returns its URL.
fn lying_board(archive: Archive) -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let path = request.split_whitespace().nth(1).unwrap_or("").to_owned();
            let (kind, body) = if path == "/v1/board" {
                let info = serde_json::json!({
                    "origin": ORIGIN,
                    "vkey": archive.board_vkey,
                    "witnesses": [],
                    "size": archive.entries.len(),
                });
                ("application/json", info.to_string())
            } else if path == "/checkpoint" {
                ("text/plain", archive.checkpoints.last().unwrap().clone())
            } else if let Some(query) = path.strip_prefix("/v1/entries?") {
                let arg = |name: &str| -> usize {
                    query
                        .split('&')
                        .find_map(|kv| kv.strip_prefix(name))
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0)
                };
                let start = arg("start=");
                let end = (start + arg("limit=")).min(archive.entries.len());
                let entries: Vec<_> = (start..end)
                    .map(|i| {
                        serde_json::json!({
                            "index": i,
                            "hash": leaf_hash(&archive.entries[i]).to_hex(),
                            "record": hex::encode(&archive.entries[i]),
                        })
                    })
                    .collect();
                let next = (end < archive.entries.len()).then_some(end);
                (
                    "application/json",
                    serde_json::json!({ "entries": entries, "next": next }).to_string(),
                )
            } else {
                ("text/plain", String::new())
            };
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: {kind}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

fn fetched(url: &str, key: Option<&str>) -> Result<Archive, urne_verify::FetchError> {
    let client = urne_client::BoardClient::with_options(
        url,
        &urne_client::ClientOptions::allowing_plain_http(true),
    )
    .unwrap();
    urne_verify::fetch(&client, key, None)
}

#[test]
fn a_tampered_log_served_over_http_is_caught_as_from_a_file() {
    let mut entries = held().entries.clone();
    let at = cast_at(&entries, 0);
    tamper_ballot(&mut entries, at, |b| {
        plus_one(&mut b.contests[0].options[0].proof.branches[0].z)
    });
    let url = lying_board(archive(entries));
    let a = fetched(&url, Some(&board_vkey())).unwrap();
    assert_eq!(a.entries.len(), held().entries.len());
    assert_field(
        &verify(&a),
        Step::Ballots,
        at,
        "body.ballot.contests[0].options[0].proof",
    );
    // The untouched log over the same path passes: the catch above is the tampering's.
    let honest = fetched(
        &lying_board(archive(held().entries.clone())),
        Some(&board_vkey()),
    );
    let report = verify(&honest.unwrap());
    assert!(report.passed, "{}", report.summary());
}

#[test]
fn a_board_serving_another_key_than_the_pinned_one_is_refused_over_http() {
    let forger = NoteSigner::from_seed(ORIGIN, &[4; 32]).unwrap();
    let entries = held().entries.clone();
    let url = lying_board(Archive {
        board_vkey: forger.verifier().to_vkey(),
        checkpoints: vec![checkpoint_of(&forger, &entries)],
        entries,
    });
    assert!(matches!(
        fetched(&url, Some(&board_vkey())),
        Err(urne_verify::FetchError::OtherKey { .. })
    ));
    // Fetched without a key, the verifier still refuses it: no anchor, no pass.
    let a = fetched(&url, None).unwrap();
    let report = urne_verify::verify(&a, &Options::default(), &Quiet);
    assert_caught(&report, Step::Log, None);
    assert_eq!(report.step(Step::Log).failures[0].field, "board_key");
}

// ---- petitions (V13) ----------------------------------------------------------------

/// A petition held on a log: ten registered wallets, a snapshot in buckets of 8
/// cosigned by 2 of 3 registrars, the petition defined and opened, five signatures, one
/// withdrawn, closed, its result (4 counted, threshold 3), reached. Every record signed:
/// the authority's by its key, each signature by a one-time key.
struct HeldPetition {
    entries: Vec<Vec<u8>>,
    authority: SigningKey,
    wallets: Vec<urne_credential::wallet::Wallet>,
    snapshot: urne_credential::registry::Snapshot,
    definition: urne_petition::Definition,
    context: ContextId,
}

fn held_petition() -> &'static HeldPetition {
    use sha2::Digest;
    use urne_credential::registry::{Cosignature, Register, Registrars, SignedSnapshot};
    use urne_credential::wallet::{ATTRIBUTE_DISTRICT, EnrolmentRequest, Wallet};
    use urne_petition::kinds::*;
    static HELD: OnceLock<HeldPetition> = OnceLock::new();
    HELD.get_or_init(|| {
        let registry = [4u8; 32];
        let mut rng = rand::rng();
        let mut register = Register::new();
        let mut wallets = Vec::new();
        for i in 0..10usize {
            let w =
                Wallet::generate(&[(ATTRIBUTE_DISTRICT, 1 + (i % 2) as u32)], &mut rng).unwrap();
            let bytes = w.enrolment_request(&registry, &mut rng).unwrap().to_bytes();
            let request = EnrolmentRequest::decode_and_verify(&bytes, &registry).unwrap();
            let mut person = [0u8; 32];
            person[..8].copy_from_slice(&(i as u64).to_be_bytes());
            register.enrol(person, &request, false).unwrap();
            wallets.push(w);
        }
        let keys: Vec<SigningKey> = (0..3u8)
            .map(|i| SigningKey::from_bytes(&[i + 10; 32]))
            .collect();
        let registrars =
            Registrars::new(2, keys.iter().map(SigningKey::verifying_key).collect()).unwrap();
        let (header, snapshot_entries) = register.snapshot_header(registry, 1, [0; 32], 3);
        let id = header.id();
        let signed = SignedSnapshot {
            header,
            cosignatures: vec![
                Cosignature::sign(0, &keys[0], &id),
                Cosignature::sign(2, &keys[2], &id),
            ],
        };
        let snapshot = urne_credential::registry::Snapshot::new(signed, snapshot_entries).unwrap();
        let definition = urne_petition::Definition {
            text_hash: [7; 32],
            threshold: 3,
            deadline: 1_900_000_000,
            scope: "City council of Urneville".into(),
            // Version 1: the protocol's floor, no disclosure.
            policy: None,
            registry,
            registrars,
        };
        let authority = SigningKey::from_bytes(&[21; 32]);
        let open = urne_record::ContextOpen {
            context_type: urne_record::ContextType::PETITION,
            nonce: [6; 16],
            name: "A petition".into(),
            parameters: sha2::Sha256::digest(definition.to_bytes()).into(),
        }
        .to_body()
        .unwrap();
        let context = ContextId::derive(&authority.verifying_key().to_bytes(), &open);
        let mut held = HeldPetition {
            entries: Vec::new(),
            authority,
            wallets,
            snapshot,
            definition,
            context,
        };
        let by_authority = |h: &mut HeldPetition, kind, body: &[u8]| {
            let r = Record::sign(h.context, kind, body, &h.authority).unwrap();
            h.entries.push(r.into_bytes());
        };
        by_authority(&mut held, urne_record::kinds::CONTEXT_OPEN, &open);
        let definition = held.definition.to_bytes();
        by_authority(&mut held, PETITION_DEFINE, &definition);
        let snapshot = held.snapshot.signed().to_bytes();
        by_authority(&mut held, REGISTRY_SNAPSHOT, &snapshot);
        for part in held.snapshot.parts() {
            by_authority(&mut held, REGISTRY_SNAPSHOT_PART, &part.to_bytes());
        }
        let phase = |h: &mut HeldPetition, to: urne_petition::Phase| {
            let r = Record::sign(h.context, CONTEXT_PHASE, &[to.code()], &h.authority).unwrap();
            h.entries.push(r.into_bytes());
        };
        phase(&mut held, urne_petition::Phase::Open);
        for who in 0..5 {
            let entry = petition_signature(&held, who, false);
            held.entries.push(entry);
        }
        let entry = petition_signature(&held, 3, true);
        held.entries.push(entry);
        phase(&mut held, urne_petition::Phase::Closed);
        let result = urne_petition::PetitionResult {
            counted: 4,
            withdrawn: 1,
            reached: true,
        };
        by_authority(&mut held, PETITION_RESULT, &result.to_bytes());
        phase(&mut held, urne_petition::Phase::Reached);
        held
    })
}

/// Wallet `who`'s signature (or withdrawal) of the held petition, as a record posted
/// with a fresh one-time key.
fn petition_signature(h: &HeldPetition, who: usize, withdrawal: bool) -> Vec<u8> {
    petition_signature_changed(h, who, withdrawal, |_| {})
}

/// [`petition_signature`] with its body changed by `change` before its one-time key
/// signs the envelope: the envelope holds, the change is all that is wrong.
fn petition_signature_changed(
    h: &HeldPetition,
    who: usize,
    withdrawal: bool,
    change: impl FnOnce(&mut Vec<u8>),
) -> Vec<u8> {
    use urne_petition::signature::{self, BucketRing};
    let one_time = {
        let mut seed = [0u8; 32];
        rand::Rng::fill_bytes(&mut rand::rng(), &mut seed);
        SigningKey::from_bytes(&seed)
    };
    let signer = one_time.verifying_key().to_bytes();
    let key = h.wallets[who].public_key();
    let at = h.snapshot.position(&key).unwrap();
    let ring = BucketRing::new(&h.snapshot.bucket(at.bucket).unwrap()).unwrap();
    let context = signature::context_bytes(
        if withdrawal {
            urne_petition::labels::WITHDRAWAL
        } else {
            urne_petition::labels::SIGNATURE
        },
        &h.context.0,
        &h.snapshot.id(),
        at.bucket,
        &h.definition.text_hash,
        &signer,
    );
    let sig = signature::sign(
        &ring,
        at.index,
        h.wallets[who].secret(),
        &signature::linking_base(&h.snapshot.id(), &h.context.0),
        &context,
        &mut rand::rng(),
    )
    .unwrap();
    let body = urne_petition::SignatureBody {
        bucket: at.bucket,
        disclosed: None,
        signature: sig.to_bytes(),
    };
    let kind = if withdrawal {
        urne_petition::kinds::PETITION_WITHDRAW
    } else {
        urne_petition::kinds::PETITION_SIGN
    };
    let mut body = body.to_bytes();
    change(&mut body);
    Record::sign(h.context, kind, &body, &one_time)
        .unwrap()
        .into_bytes()
}

fn petition_signs(entries: &[Vec<u8>]) -> Vec<usize> {
    positions(entries, urne_petition::kinds::PETITION_SIGN)
}

#[test]
fn petition_is_recounted_and_passes() {
    let report = verify(&archive(held_petition().entries.clone()));
    assert!(report.passed, "{}", report.summary());
    assert_eq!(report.step(Step::Petitions).checked, 1);
    assert!(report.not_recounted.is_empty());
    let p = &report.petitions[0];
    assert_eq!((p.counted, p.withdrawn, p.threshold), (4, 1, Some(3)));
    assert_eq!(p.phase, "reached");
    // A version-1 petition: no evidence posted, no district may be disclosed.
    assert_eq!((p.duplicates, p.districts.len()), (0, 0));
    let json = report.to_json();
    assert!(
        json.contains("\"duplicates\": 0") && json.contains("\"districts\": []"),
        "{json}"
    );
}

#[test]
fn petition_signature_with_an_altered_proof_is_caught() {
    let mut entries = held_petition().entries.clone();
    // Wallet 1's signature, made again with the low bit of z's least significant byte
    // flipped (z stays canonical, so only the equations can refuse it), posted by the
    // one-time key it binds, so the envelope and its binding hold.
    let at = petition_signs(&entries)[1];
    entries[at] = petition_signature_changed(held_petition(), 1, false, |body| {
        let z = body.len() - 32;
        body[z] ^= 1;
    });
    assert_field(
        &verify(&archive(entries)),
        Step::Petitions,
        at,
        "body.signature",
    );
}

#[test]
fn petition_tag_used_twice_is_caught() {
    let mut entries = held_petition().entries.clone();
    let close = positions(&entries, CONTEXT_PHASE)
        .into_iter()
        .rfind(|&i| body(&entries[i]) == [urne_petition::Phase::Closed.code()])
        .unwrap();
    // Wallet 2 signs again with a fresh one-time key: a valid signature, the same tag.
    let again = petition_signature(held_petition(), 2, false);
    entries.insert(close, again);
    assert_field(
        &verify(&archive(entries)),
        Step::Petitions,
        close,
        "body.signature.tag",
    );
}

#[test]
fn petition_result_with_its_count_altered_is_caught() {
    let mut entries = held_petition().entries.clone();
    let at = positions(&entries, urne_petition::kinds::PETITION_RESULT)[0];
    let forged = urne_petition::PetitionResult {
        counted: 5,
        withdrawn: 1,
        reached: true,
    };
    resign(
        &mut entries,
        at,
        &forged.to_bytes(),
        &held_petition().authority,
    );
    let report = verify(&archive(entries));
    assert_caught(&report, Step::Petitions, Some(at));
}

#[test]
fn petition_snapshot_with_a_forged_registrar_cosignature_is_caught() {
    let mut entries = held_petition().entries.clone();
    let at = positions(&entries, urne_petition::kinds::REGISTRY_SNAPSHOT)[0];
    // The last cosignature's last byte flipped, the record re-signed by the authority:
    // the envelope holds, only the registrar's signature is forged.
    let mut forged = body(&entries[at]);
    let last = forged.len() - 1;
    forged[last] ^= 1;
    resign(&mut entries, at, &forged, &held_petition().authority);
    let report = verify(&archive(entries));
    assert_field(&report, Step::Petitions, at, "body.cosignatures");
    // The petition never opens: every signature after it is refused as well, each named.
    let signs = petition_signs(&held_petition().entries);
    assert!(signs.iter().all(|&s| {
        report
            .step(Step::Petitions)
            .failures
            .iter()
            .any(|f| f.record == Some(s as u64))
    }));
}

// ---- anonymous elections (V3–V11 over a registry snapshot, spec/23 §23.11–§23.13) ----

/// An anonymous election held on a log: six wallets in a version-2 snapshot of buckets
/// of 4 (two buckets of 3), cosigned by 2 of 3 registrars; a 2-of-3 key ceremony; six
/// ballots (voter 0 audits one first, voter 1 votes twice), each signed by its wallet's
/// ring signature under a fresh envelope key; closed, tallied, published.
struct HeldAnonymous {
    entries: Vec<Vec<u8>>,
    authority: SigningKey,
    context: ContextId,
    snapshot: urne_credential::registry::Snapshot,
    registrar_keys: Vec<SigningKey>,
    wallets: Vec<urne_credential::wallet::Wallet>,
    election: urne_ballot::Election,
    /// Each cast record's position and its voter.
    casts: Vec<(usize, usize)>,
    /// The trustees' identity keys.
    trustee_keys: Vec<SigningKey>,
}

/// Posts records into an anonymous election's log, signed.
struct AnonymousLog<'a> {
    entries: &'a mut Vec<Vec<u8>>,
    context: ContextId,
    authority: SigningKey,
}

impl AnonymousLog<'_> {
    fn post(&mut self, kind: urne_record::Kind, body: &[u8], key: &SigningKey) -> usize {
        let r = Record::sign(self.context, kind, body, key).unwrap();
        self.entries.push(r.into_bytes());
        self.entries.len() - 1
    }

    fn by_authority(&mut self, kind: urne_record::Kind, body: &[u8]) -> usize {
        let key = self.authority.clone();
        self.post(kind, body, &key)
    }

    fn phase(&mut self, to: Phase) {
        self.by_authority(CONTEXT_PHASE, &[to.code()]);
    }
}

impl urne_cli::demo::trustees::CeremonyBoard for AnonymousLog<'_> {
    fn begin_round(
        &mut self,
        round: urne_cli::demo::trustees::Round,
    ) -> Result<(), urne_cli::demo::DemoError> {
        // As the demo: the authority ends the complaint round.
        if round == urne_cli::demo::trustees::Round::Answer {
            let close = urne_election::CloseRound {
                round: urne_election::round::COMPLAIN,
            };
            self.by_authority(kinds::CEREMONY_CLOSE_ROUND, &close.to_body());
        }
        Ok(())
    }

    fn post(
        &mut self,
        round: urne_cli::demo::trustees::Round,
        trustee: &SigningKey,
        body: Vec<u8>,
    ) -> Result<(), urne_cli::demo::DemoError> {
        use urne_cli::demo::trustees::Round;
        let kind = match round {
            Round::Register => kinds::CEREMONY_REGISTER,
            Round::CommitmentHash => kinds::CEREMONY_COMMITMENT_HASH,
            Round::Commitments => kinds::CEREMONY_COMMITMENTS,
            Round::Shares => kinds::CEREMONY_SHARES,
            Round::Complaint => kinds::CEREMONY_COMPLAINT,
            Round::Answer => kinds::CEREMONY_ANSWER,
        };
        AnonymousLog::post(self, kind, &body, trustee);
        Ok(())
    }
}

/// Wallet `voter`'s anonymous ballot for `option`: its tag as the credential, encrypted,
/// signed by its ring signature over its bucket. The cast (or audit) record body.
fn anonymous_ballot(h: &HeldAnonymous, voter: usize, option: usize, audit: bool) -> Vec<u8> {
    anonymous_ballot_with(
        &h.election,
        &h.snapshot,
        &h.wallets[voter],
        h.context,
        option,
        audit,
    )
}

fn anonymous_ballot_with(
    election: &urne_ballot::Election,
    snapshot: &urne_credential::registry::Snapshot,
    wallet: &urne_credential::wallet::Wallet,
    context: ContextId,
    option: usize,
    audit: bool,
) -> Vec<u8> {
    use urne_election::anonymous::*;
    let mut rng = rand::rng();
    let tag = tag_for(wallet.secret(), &snapshot.id(), &context.0);
    let credential = credential_of_tag(&tag);
    let selections = vec![urne_ballot::ContestSelection::single(2, option).unwrap()];
    let (ballot, secrets) = Ballot::encrypt(election, &credential, &selections, &mut rng).unwrap();
    let tracking = TrackingCode::of_bytes(&ballot.to_bytes());
    let position = position_of(snapshot, wallet.secret()).unwrap();
    let signature = sign_ballot(
        &mut rng,
        wallet.secret(),
        snapshot,
        position,
        &context.0,
        if audit {
            urne_credential::Decision::Audit
        } else {
            urne_credential::Decision::Cast
        },
        &tracking,
    )
    .unwrap();
    let signature = AnonymousSignature::new(position.bucket, &signature);
    if audit {
        let opening = secrets.audit(&ballot);
        AnonymousAudit::new(ballot, signature, opening).to_body()
    } else {
        AnonymousCast::new(ballot, signature).to_body()
    }
}

fn held_anonymous() -> &'static HeldAnonymous {
    use urne_credential::registry::{Cosignature, Register, Registrars, SignedSnapshot};
    use urne_credential::wallet::{ATTRIBUTE_DISTRICT, EnrolmentRequest, Wallet};
    static HELD: OnceLock<HeldAnonymous> = OnceLock::new();
    HELD.get_or_init(|| {
        let registry = [5u8; 32];
        let mut rng = rand::rng();
        let mut register = Register::new();
        let mut wallets = Vec::new();
        for i in 0..6u8 {
            let w = Wallet::generate(&[(ATTRIBUTE_DISTRICT, 1)], &mut rng).unwrap();
            let bytes = w.enrolment_request(&registry, &mut rng).unwrap().to_bytes();
            let request = EnrolmentRequest::decode_and_verify(&bytes, &registry).unwrap();
            register.enrol([i; 32], &request, false).unwrap();
            wallets.push(w);
        }
        let registrar_keys: Vec<SigningKey> = (0..3u8)
            .map(|i| SigningKey::from_bytes(&[i + 40; 32]))
            .collect();
        let registrars = Registrars::new(
            2,
            registrar_keys
                .iter()
                .map(SigningKey::verifying_key)
                .collect(),
        )
        .unwrap();
        let (header, entries) = register.snapshot_header(registry, 1, [0; 32], 2);
        let id = header.id();
        let signed = SignedSnapshot {
            header,
            cosignatures: vec![
                Cosignature::sign(0, &registrar_keys[0], &id),
                Cosignature::sign(1, &registrar_keys[1], &id),
            ],
        };
        let snapshot = urne_credential::registry::Snapshot::new(signed, entries).unwrap();
        let manifest = Manifest::new(
            "Anonymous",
            vec![urne_ballot::Contest {
                title: "Q".into(),
                kind: urne_ballot::ContestKind::SingleChoice,
                blank: false,
                options: vec!["a".into(), "b".into()],
            }],
        )
        .unwrap();
        let manifest_record = ManifestRecord {
            manifest: manifest.clone(),
            eligibility: Some(urne_election::anonymous::Eligibility {
                min_bucket_bits: 2,
                min_real_keys: 2,
                min_snapshot: 1,
                registry,
                registrars,
            }),
        };
        let authority = SigningKey::from_bytes(&[31; 32]);
        let open = ContextOpen {
            context_type: ContextType::ELECTION,
            nonce: [3; 16],
            name: "Anonymous".into(),
            parameters: manifest_record.parameters_hash(),
        }
        .to_body()
        .unwrap();
        let context = ContextId::derive(&authority.verifying_key().to_bytes(), &open);
        let mut entries = Vec::new();
        let mut log = AnonymousLog {
            entries: &mut entries,
            context,
            authority: authority.clone(),
        };
        log.by_authority(CONTEXT_OPEN, &open);
        log.by_authority(kinds::ELECTION_MANIFEST, &manifest_record.to_body());
        log.phase(Phase::Ceremony);
        let trustees = urne_cli::demo::trustees::Trustees::new(3, 2);
        log.by_authority(kinds::CEREMONY_OPEN, &trustees.open().unwrap().encode());
        let (keys, outcome) = trustees.run_ceremony(context.0, &mut log).unwrap();
        log.phase(Phase::Registration);
        log.by_authority(
            urne_verify::kinds::ELECTION_SNAPSHOT,
            &snapshot.signed().to_bytes(),
        );
        for part in snapshot.parts() {
            log.by_authority(urne_verify::kinds::ELECTION_SNAPSHOT_PART, &part.to_bytes());
        }
        log.phase(Phase::Voting);
        let snapshot_id = snapshot.id();
        let election = urne_ballot::Election::new(urne_ballot::ContextInputs {
            manifest: &manifest,
            joint_key: &outcome.joint_key,
            credential_root: &snapshot_id,
            board_origin: ORIGIN,
            context_id: &context.0,
        })
        .unwrap();
        let mut held = HeldAnonymous {
            entries: Vec::new(),
            authority,
            context,
            snapshot,
            registrar_keys,
            wallets,
            election,
            casts: Vec::new(),
            trustee_keys: (1..=3)
                .map(|j| trustees.identity(j).unwrap().clone())
                .collect(),
        };
        let audit = anonymous_ballot(&held, 0, 1, true);
        log.post(kinds::BALLOT_AUDIT, &audit, &anyone());
        // Voters 0..6 vote 0,1,0,1,0,1; voter 1 then votes again, for 0: 4 for a, 2 for b.
        for (voter, option) in [(0, 0), (1, 1), (2, 0), (3, 1), (4, 0), (5, 1), (1, 0)] {
            let body = anonymous_ballot(&held, voter, option, false);
            let one_time = SigningKey::from_bytes(&[100 + voter as u8 + option as u8 * 10; 32]);
            let at = log.post(kinds::BALLOT_CAST, &body, &one_time);
            held.casts.push((at, voter));
        }
        log.phase(Phase::Closed);
        log.phase(Phase::Tallying);
        let ballots: Vec<Ballot> = log
            .entries
            .iter()
            .filter(|e| record(e).kind() == kinds::BALLOT_CAST)
            .map(|e| {
                urne_election::anonymous::AnonymousCast::decode(&body(e))
                    .unwrap()
                    .ballot
            })
            .collect();
        let mut tags: Vec<urne_credential::ListedCredential> = ballots
            .iter()
            .map(|b| urne_credential::ListedCredential {
                credential: urne_credential::PublicCredential::decode(&b.credential.0).unwrap(),
                weight: 1,
            })
            .collect();
        tags.sort_by_key(|t| t.credential.to_bytes());
        tags.dedup_by_key(|t| t.credential.to_bytes());
        let list = urne_credential::CredentialList::new(tags).unwrap();
        let aggregation = urne_tally::aggregate(&held.election, &list, &ballots).unwrap();
        let ciphertexts = aggregation.tally.ciphertexts();
        let mut shares = Vec::new();
        for key in &keys {
            let share = urne_cli::demo::trustees::decryption_shares(
                key,
                held.election.context(),
                &ciphertexts,
            )
            .unwrap();
            let identity = trustees.identity(share.trustee).unwrap().clone();
            log.post(kinds::TALLY_DECRYPTION_SHARES, &share.encode(), &identity);
            shares.push(share);
        }
        let result =
            urne_tally::decrypt_tally(&held.election, &outcome, &aggregation, &shares).unwrap();
        assert_eq!(result.counts, vec![vec![4, 2]]);
        log.by_authority(kinds::TALLY_RESULT, &result.to_bytes());
        log.phase(Phase::Published);
        held.entries = entries;
        held
    })
}

fn anonymous_casts() -> Vec<usize> {
    positions(&held_anonymous().entries, kinds::BALLOT_CAST)
}

#[test]
fn anonymous_election_is_verified_and_passes() {
    let report = verify(&archive(held_anonymous().entries.clone()));
    assert!(report.passed, "{}", report.summary());
    let e = &report.elections[0];
    assert_eq!(e.counts, Some(vec![vec![4, 2]]));
    assert_eq!((e.ballots, e.audits, e.credentials), (7, 1, 6));
}

fn anonymous_archive(entries: Vec<Vec<u8>>) -> Report {
    verify(&archive(entries))
}

// ---- the verifier's own snapshot assembly, through the whole verifier (spec/50 V5) ------
//
// src/snapshot.rs is tested against urne-credential's assembler; these hold the verifier
// to refusing, at the right step, record and field, a snapshot of several parts that a
// dishonest board or registry changed: the held anonymous election's log up to its
// registration, its snapshot replaced by one of 2,500 keys (three parts) cosigned by two
// of its registrars, then tampered with.

/// 2,500 keys (multiples of H: distinct, canonical), each committed to district 1 with
/// blinding 0, sorted by key.
fn many_entries() -> Vec<urne_credential::registry::Entry> {
    let district = urne_credential::wallet::district_generator(1);
    let mut entries: Vec<urne_credential::registry::Entry> = (0..2_500u64)
        .map(|i| urne_credential::registry::Entry {
            key: urne_crypto::group::generator_h() * Scalar::from_u64(i + 2),
            district,
        })
        .collect();
    entries.sort_by(|a, b| a.key.as_bytes().cmp(b.key.as_bytes()));
    entries
}

/// The header of `entries` in the held election's registry: buckets of 2^8, district 1
/// holding them all.
fn many_header(
    entries: &[urne_credential::registry::Entry],
) -> urne_credential::registry::SnapshotHeader {
    let leaves: Vec<Hash> = entries
        .iter()
        .map(|e| leaf_hash(&[*e.key.as_bytes(), *e.district.as_bytes()].concat()))
        .collect();
    urne_credential::registry::SnapshotHeader {
        version: urne_credential::registry::SNAPSHOT_VERSION,
        registry: [5; 32],
        number: 1,
        previous: [0; 32],
        entries_root: urne_log::hash::root_of(&leaves),
        total: entries.len() as u64,
        bucket_bits: 8,
        aggregate_blinding: Scalar::from_u64(0),
        districts: vec![(1, entries.len() as u64)],
    }
}

/// The held anonymous election's log up to (not with) its snapshot, then `header`
/// cosigned by two registrars and `parts` (each part's body changed by `body`), all
/// posted by the authority. Returns the log and the snapshot's position.
fn with_snapshot(
    header: urne_credential::registry::SnapshotHeader,
    parts: Vec<urne_credential::registry::SnapshotPart>,
    body: impl Fn(usize, Vec<u8>) -> Vec<u8>,
) -> (Vec<Vec<u8>>, usize) {
    use urne_credential::registry::{Cosignature, SignedSnapshot};
    let h = held_anonymous();
    let at = positions(&h.entries, urne_verify::kinds::ELECTION_SNAPSHOT)[0];
    let mut entries = h.entries[..at].to_vec();
    let id = header.id();
    let signed = SignedSnapshot {
        header,
        cosignatures: vec![
            Cosignature::sign(0, &h.registrar_keys[0], &id),
            Cosignature::sign(1, &h.registrar_keys[1], &id),
        ],
    };
    let mut log = AnonymousLog {
        entries: &mut entries,
        context: h.context,
        authority: h.authority.clone(),
    };
    log.by_authority(urne_verify::kinds::ELECTION_SNAPSHOT, &signed.to_bytes());
    for (i, part) in parts.iter().enumerate() {
        log.by_authority(
            urne_verify::kinds::ELECTION_SNAPSHOT_PART,
            &body(i, part.to_bytes()),
        );
    }
    (entries, at)
}

/// `entries` cut into parts of 1,000 under the snapshot `header` names.
fn parts_of(
    header: &urne_credential::registry::SnapshotHeader,
    entries: &[urne_credential::registry::Entry],
) -> Vec<urne_credential::registry::SnapshotPart> {
    let chunks: Vec<&[urne_credential::registry::Entry]> = entries
        .chunks(urne_credential::registry::MAX_ENTRIES_PER_PART)
        .collect();
    chunks
        .iter()
        .enumerate()
        .map(|(i, c)| urne_credential::registry::SnapshotPart {
            snapshot: header.id(),
            part: i as u32,
            parts: chunks.len() as u32,
            entries: c.to_vec(),
        })
        .collect()
}

/// The snapshot's part at `at` is refused by V5, named by its body alone, for the reason
/// `says` (several tampers are refused at one field, each for its own reason).
#[track_caller]
fn refused_saying(report: &Report, at: usize, says: &str) {
    assert_field(report, Step::Credentials, at, "body");
    let messages: Vec<&str> = report
        .step(Step::Credentials)
        .failures
        .iter()
        .filter(|f| f.record == Some(at as u64))
        .map(|f| f.message.as_str())
        .collect();
    assert!(
        messages.iter().any(|m| m.contains(says)),
        "expected {says:?}, got {messages:?}"
    );
}

#[test]
fn a_snapshot_of_three_parts_tampered_with_is_refused_by_v5_at_its_part() {
    let entries = many_entries();
    let header = many_header(&entries);
    let same = |_: usize, body: Vec<u8>| body;
    // Untouched: the election verifies (up to its registration).
    let (log, at) = with_snapshot(header.clone(), parts_of(&header, &entries), same);
    let report = anonymous_archive(log);
    assert!(report.passed, "{}", report.summary());
    let (first, last) = (at + 1, at + 3);

    // Parts 0 and 1 posted in each other's place: part 1 where part 0 comes next.
    let mut parts = parts_of(&header, &entries);
    parts.swap(0, 1);
    let (log, _) = with_snapshot(header.clone(), parts, same);
    assert_field(&anonymous_archive(log), Step::Credentials, first, "body");

    // A person dropped, the total and the parts made to agree (the header cosigned
    // again): the 2,499 entries left do not hash to the entries root.
    let mut dropped = entries.clone();
    dropped.remove(1_700);
    let mut fewer = header.clone();
    fewer.total -= 1;
    fewer.districts = vec![(1, 2_499)];
    let (log, _) = with_snapshot(fewer.clone(), parts_of(&fewer, &dropped), same);
    refused_saying(
        &anonymous_archive(log),
        last,
        "the entries do not hash to the snapshot's entries root",
    );

    // A person dropped from the parts only: the last part holds one entry fewer than
    // the total says.
    let (log, _) = with_snapshot(header.clone(), parts_of(&header, &dropped), same);
    refused_saying(
        &anonymous_archive(log),
        last,
        "part 2 holds 499 entries; the total says 500",
    );

    // A total that disagrees with the district counts (cosigned again): the header.
    let mut more = header.clone();
    more.total += 1;
    let (log, _) = with_snapshot(more.clone(), parts_of(&more, &entries), same);
    assert_field(
        &anonymous_archive(log),
        Step::Credentials,
        at,
        "body.districts",
    );

    // A total and counts of one more than the entries (cosigned again): the last part
    // is short.
    more.districts = vec![(1, 2_501)];
    let (log, _) = with_snapshot(more.clone(), parts_of(&more, &entries), same);
    refused_saying(
        &anonymous_archive(log),
        last,
        "part 2 holds 500 entries; the total says 501",
    );

    // District counts that disagree with the commitments (a person moved to district
    // 2 in the counts only, cosigned again).
    let mut moved = header.clone();
    moved.districts = vec![(1, 2_499), (2, 1)];
    let (log, _) = with_snapshot(moved.clone(), parts_of(&moved, &entries), same);
    refused_saying(
        &anonymous_archive(log),
        last,
        "the district commitments do not open to the published district counts",
    );

    // Trailing bytes after the second part's body: its entries are not whole (the part
    // after it is then out of order, a consequence named too).
    let trailing = |i: usize, mut body: Vec<u8>| {
        if i == 1 {
            body.push(0);
        }
        body
    };
    let (log, _) = with_snapshot(header.clone(), parts_of(&header, &entries), trailing);
    assert_field(
        &anonymous_archive(log),
        Step::Credentials,
        first + 1,
        "body.entries",
    );
}

/// Cast `n` of the anonymous election, its body decoded, changed by `change`, encoded
/// and posted again under a fresh envelope key (which no signature binds).
fn anonymous_cast_changed(
    n: usize,
    change: impl FnOnce(&mut urne_election::anonymous::AnonymousCast),
) -> (Vec<Vec<u8>>, usize) {
    let mut entries = held_anonymous().entries.clone();
    let at = anonymous_casts()[n];
    let mut cast = urne_election::anonymous::AnonymousCast::decode(&body(&entries[at])).unwrap();
    change(&mut cast);
    let changed = urne_election::anonymous::AnonymousCast::new(cast.ballot, cast.signature);
    resign(&mut entries, at, &changed.to_body(), &anyone());
    (entries, at)
}

/// Exactly one ballot refused: the batch of its bucket named it alone.
#[track_caller]
fn only_ballot_refused(report: &Report, at: usize) {
    let refused: Vec<Option<u64>> = report
        .step(Step::Ballots)
        .failures
        .iter()
        .map(|f| f.record)
        .collect();
    assert_eq!(refused, vec![Some(at as u64)], "{}", report.summary());
}

#[test]
fn anonymous_ballot_with_a_ring_signature_byte_flipped_is_caught_alone() {
    // Cast 2 shares its bucket with others: the batch fails, and names cast 2 only.
    let (entries, at) = anonymous_cast_changed(2, |cast| {
        let z = cast.signature.bytes.len() - 1;
        cast.signature.bytes[z - 31] ^= 1;
    });
    let report = anonymous_archive(entries);
    assert_field(&report, Step::Ballots, at, "body.signature");
    only_ballot_refused(&report, at);
}

#[test]
fn anonymous_ballot_whose_tag_is_not_its_credential_is_caught() {
    // Voter 3's ballot made under voter 4's tag, signed by voter 3's ring signature:
    // the tag would count it as voter 4's.
    let h = held_anonymous();
    let other =
        urne_election::anonymous::tag_for(h.wallets[4].secret(), &h.snapshot.id(), &h.context.0);
    let (entries, at) = anonymous_cast_changed(3, |cast| {
        cast.ballot.credential = urne_election::anonymous::credential_of_tag(&other);
    });
    let report = anonymous_archive(entries);
    assert_field(&report, Step::Ballots, at, "body.signature.tag");
}

#[test]
fn anonymous_ballot_naming_a_bucket_out_of_range_is_caught() {
    let (entries, at) = anonymous_cast_changed(1, |cast| cast.signature.bucket = 7);
    assert_field(
        &anonymous_archive(entries),
        Step::Ballots,
        at,
        "body.bucket",
    );
}

#[test]
fn anonymous_ballot_moved_to_another_bucket_is_caught() {
    // Its ring signature is over its own bucket's ring: over the other one it fails.
    let (entries, at) = anonymous_cast_changed(0, |cast| {
        cast.signature.bucket = 1 - cast.signature.bucket;
    });
    let report = anonymous_archive(entries);
    assert_field(&report, Step::Ballots, at, "body.signature");
    only_ballot_refused(&report, at);
}

/// The anonymous election's snapshot record replaced by `change`d header, cosigned again
/// by two registrars (so only the change is wrong), the record signed again by the
/// authority.
fn anonymous_snapshot_changed(
    change: impl FnOnce(&mut urne_credential::registry::SignedSnapshot),
) -> (Vec<Vec<u8>>, usize) {
    use urne_credential::registry::Cosignature;
    let h = held_anonymous();
    let mut entries = h.entries.clone();
    let at = positions(&entries, urne_verify::kinds::ELECTION_SNAPSHOT)[0];
    let mut signed = h.snapshot.signed().clone();
    change(&mut signed);
    let id = signed.header.id();
    if signed.cosignatures.len() == 2 && id != h.snapshot.id() {
        signed.cosignatures = vec![
            Cosignature::sign(0, &h.registrar_keys[0], &id),
            Cosignature::sign(1, &h.registrar_keys[1], &id),
        ];
    }
    resign(&mut entries, at, &signed.to_bytes(), &h.authority);
    (entries, at)
}

#[test]
fn anonymous_snapshot_below_the_manifest_s_floor_is_caught() {
    // Buckets of 2 where the eligibility promises at least 2^2 keys a bucket.
    let (entries, at) = anonymous_snapshot_changed(|s| s.header.bucket_bits = 1);
    assert_field(
        &anonymous_archive(entries),
        Step::Credentials,
        at,
        "body.bucket_bits",
    );
}

#[test]
fn anonymous_snapshot_with_a_forged_registrar_cosignature_is_caught() {
    let (entries, at) = anonymous_snapshot_changed(|s| {
        let mut bytes = s.cosignatures[1].signature.to_bytes();
        bytes[3] ^= 1;
        s.cosignatures[1].signature = ed25519_dalek::Signature::from_bytes(&bytes);
    });
    assert_field(
        &anonymous_archive(entries),
        Step::Credentials,
        at,
        "body.cosignatures",
    );
}

#[test]
fn anonymous_election_refuses_a_credential_list() {
    let h = held_anonymous();
    let mut entries = h.entries.clone();
    let at = positions(&entries, urne_verify::kinds::ELECTION_SNAPSHOT)[0];
    // The pseudonymous election's list, posted here by this election's authority.
    let list = body(&held().entries[positions(&held().entries, kinds::ELECTION_CREDENTIALS)[0]]);
    let r = Record::sign(h.context, kinds::ELECTION_CREDENTIALS, &list, &h.authority).unwrap();
    entries.insert(at, r.into_bytes());
    assert_field(&anonymous_archive(entries), Step::Credentials, at, "kind");
}

#[test]
fn anonymous_ballot_receipt_checks_offline_and_its_tag_finds_it() {
    let h = held_anonymous();
    let entries = &h.entries;
    let casts = anonymous_casts();
    let at = casts[1];
    let cast = urne_election::anonymous::AnonymousCast::decode(&body(&entries[at])).unwrap();
    let leaves: Vec<Hash> = entries.iter().map(|e| leaf_hash(e)).collect();
    let mut receipt = urne_verify::VoterReceipt {
        election: h.context,
        tracking_code: cast.tracking_code(),
        index: at as u64,
        record: entries[at].clone(),
        inclusion: urne_log::proof::inclusion_proof(&leaves[..], at as u64, leaves.len() as u64)
            .unwrap(),
        checkpoint: checkpoint_of(&held().board, entries),
    };
    receipt.check(&board_verifier(), &[], 0).unwrap();
    // Voter 1 voted twice: its tag finds both ballots, the last the one counted.
    let found = urne_verify::ballots_with_credential(entries, h.context, &cast.ballot.credential.0);
    assert_eq!(
        found.iter().map(|(i, _)| *i as usize).collect::<Vec<_>>(),
        vec![casts[1], casts[6]]
    );
    receipt.tracking_code =
        urne_election::anonymous::AnonymousCast::decode(&body(&entries[casts[2]]))
            .unwrap()
            .tracking_code();
    assert_eq!(
        receipt.check(&board_verifier(), &[], 0).unwrap_err().field,
        "tracking_code"
    );
}

#[test]
fn anonymous_audit_with_a_ring_signature_byte_flipped_is_caught() {
    let h = held_anonymous();
    let mut entries = h.entries.clone();
    let at = positions(&entries, kinds::BALLOT_AUDIT)[0];
    let mut audit = urne_election::anonymous::AnonymousAudit::decode(&body(&entries[at])).unwrap();
    let z = audit.signature.bytes.len() - 32;
    audit.signature.bytes[z] ^= 1;
    let changed =
        urne_election::anonymous::AnonymousAudit::new(audit.ballot, audit.signature, audit.opening);
    resign(&mut entries, at, &changed.to_body(), &anyone());
    assert_field(
        &anonymous_archive(entries),
        Step::Audits,
        at,
        "body.signature",
    );
}

#[test]
fn a_ballot_of_the_other_eligibility_mode_is_refused_by_its_version() {
    // A pseudonymous (version-1) cast in the anonymous election.
    let h = held_anonymous();
    let mut entries = h.entries.clone();
    let at = anonymous_casts()[0];
    let plain = body(&held().entries[cast_at(&held().entries, 0)]);
    resign(&mut entries, at, &plain, &anyone());
    assert_field(
        &anonymous_archive(entries),
        Step::Ballots,
        at,
        "body.version",
    );
    // An anonymous (version-2) cast in the pseudonymous election.
    let mut entries = held().entries.clone();
    let at = cast_at(&entries, 0);
    resign(
        &mut entries,
        at,
        &body(&h.entries[anonymous_casts()[0]]),
        &anyone(),
    );
    assert_field(
        &verify(&archive(entries)),
        Step::Ballots,
        at,
        "body.version",
    );
}

/// A tampered log and the position of the record the tamper touched.
type Tampered = (Vec<Vec<u8>>, usize);

/// The key that signed `signer` in the anonymous election, or anyone's.
fn anonymous_key_of(signer: &[u8; 32]) -> SigningKey {
    let h = held_anonymous();
    if h.authority.verifying_key().as_bytes() == signer {
        return h.authority.clone();
    }
    h.trustee_keys
        .iter()
        .find(|k| k.verifying_key().as_bytes() == signer)
        .cloned()
        .unwrap_or_else(anyone)
}

#[test]
fn board_and_verifier_folds_agree_on_the_anonymous_election_and_its_tampers() {
    let entries = held_anonymous().entries.clone();
    assert_eq!(
        assert_folds_agree(entries.clone(), "the valid anonymous log"),
        0
    );
    let h = held_anonymous();
    let other =
        urne_election::anonymous::tag_for(h.wallets[4].secret(), &h.snapshot.id(), &h.context.0);
    let classes: Vec<(&str, Tampered)> = vec![
        (
            "ring signature flipped",
            anonymous_cast_changed(2, |c| {
                let z = c.signature.bytes.len() - 32;
                c.signature.bytes[z] ^= 1;
            }),
        ),
        (
            "tag not the credential",
            anonymous_cast_changed(3, |c| {
                c.ballot.credential = urne_election::anonymous::credential_of_tag(&other)
            }),
        ),
        (
            "bucket out of range",
            anonymous_cast_changed(1, |c| c.signature.bucket = 7),
        ),
        (
            "moved to the other bucket",
            anonymous_cast_changed(0, |c| c.signature.bucket = 1 - c.signature.bucket),
        ),
        (
            "snapshot below the floor",
            anonymous_snapshot_changed(|s| s.header.bucket_bits = 1),
        ),
        (
            "snapshot cosignature forged",
            anonymous_snapshot_changed(|s| {
                let mut bytes = s.cosignatures[1].signature.to_bytes();
                bytes[3] ^= 1;
                s.cosignatures[1].signature = ed25519_dalek::Signature::from_bytes(&bytes);
            }),
        ),
    ];
    for (what, (mutated, at)) in classes {
        let refused = assert_folds_agree(mutated.clone(), what);
        assert!(refused >= 1, "{what}: nothing refused");
        let report = verify(&archive(mutated));
        let first = report.failures().filter_map(|(_, f)| f.record).min();
        assert_eq!(first, Some(at as u64), "{what}");
    }
    let mut refusing = 0;
    for i in 1..entries.len() {
        let mut dropped = entries.clone();
        dropped.remove(i);
        refusing += assert_folds_agree(dropped, &format!("anonymous record {i} dropped"));
        if i + 1 < entries.len() {
            let mut swapped = entries.clone();
            swapped.swap(i, i + 1);
            refusing += assert_folds_agree(
                swapped,
                &format!("anonymous records {i} and {} swapped", i + 1),
            );
        }
    }
    let mut rng = Xorshift(0x2545_f491_4f6c_dd1d);
    for round in 0..120 {
        let mut mutated = entries.clone();
        let i = 1 + rng.below(entries.len() - 1);
        let r = record(&entries[i]);
        let mut body = r.body().to_vec();
        let at = rng.below(body.len());
        body[at] ^= 1 << rng.below(8);
        resign(&mut mutated, i, &body, &anonymous_key_of(r.signer()));
        refusing += assert_folds_agree(mutated, &format!("anonymous flip {round} in record {i}"));
    }
    assert!(refusing > entries.len(), "only {refusing} refusals");
}

/// `entries` with `copy` inserted just before the record at `at`: the copy comes first.
fn posted_before(entries: &[Vec<u8>], at: usize, copy: Vec<u8>) -> Vec<Vec<u8>> {
    let mut out = entries.to_vec();
    out.insert(at, copy);
    out
}

#[test]
fn a_refused_anonymous_cast_leaves_its_ballot_free_for_a_valid_cast() {
    // The board checks the ring signature before it records the tracking code: a
    // badly signed copy of a ballot, posted first, must not shut out the ballot itself.
    let (tampered, at) = anonymous_cast_changed(2, |c| {
        let z = c.signature.bytes.len() - 32;
        c.signature.bytes[z] ^= 1;
    });
    let entries = posted_before(&held_anonymous().entries, at, tampered[at].clone());
    assert_eq!(
        assert_folds_agree(entries.clone(), "bad-signature cast, then the same ballot"),
        1
    );
    let report = verify(&archive(entries));
    only_ballot_refused(&report, at);
    assert_eq!(report.elections[0].counts, Some(vec![vec![4, 2]]));
}

#[test]
fn a_refused_pseudonymous_cast_leaves_its_ballot_free_for_a_valid_cast() {
    // The same ballot signed with another voter's credential: its signature fails.
    let entries = &held().entries;
    let at = cast_at(entries, 1);
    let cast = CastBallot::decode(&body(&entries[at])).unwrap();
    let other = held()
        .election
        .credentials
        .iter()
        .find(|c| CredentialKey(c.public().to_bytes()) != cast.ballot.credential)
        .unwrap();
    let signature = BallotSignature::sign(
        other,
        &cast.ballot.context,
        urne_credential::Decision::Cast,
        &TrackingCode::of(&cast.ballot).0,
        &mut rand::rng(),
    )
    .unwrap();
    let forged = Record::sign(
        record(&entries[at]).context(),
        kinds::BALLOT_CAST,
        &CastBallot::new(cast.ballot.clone(), signature).to_body(),
        &anyone(),
    )
    .unwrap()
    .into_bytes();
    let entries = posted_before(entries, at, forged);
    assert_eq!(
        assert_folds_agree(entries.clone(), "bad-signature cast, then the same ballot"),
        1
    );
    let report = verify(&archive(entries));
    assert_field(&report, Step::Ballots, at, "body.signature");
    let refused: Vec<Option<u64>> = report.failures().map(|(_, f)| f.record).collect();
    assert_eq!(refused, vec![Some(at as u64)], "{}", report.summary());
}

#[test]
fn petition_opened_twice_is_caught_under_v2() {
    let mut entries = held_petition().entries.clone();
    let open = positions(&entries, CONTEXT_OPEN)
        .into_iter()
        .find(|&i| {
            record(&entries[i]).context() == record(&entries[petition_signs(&entries)[0]]).context()
        })
        .unwrap();
    let at = petition_signs(&entries)[1];
    let again = entries[open].clone();
    entries.insert(at, again);
    assert_field(&verify(&archive(entries)), Step::Records, at, "context");
}

#[test]
fn anonymous_snapshot_of_version_1_or_of_another_registry_is_caught() {
    // Version 1 deals its buckets by its own id, which the registrar can grind (§23.12).
    let (entries, at) = anonymous_snapshot_changed(|s| s.header.version = 1);
    assert_folds_agree(entries.clone(), "a version-1 snapshot");
    assert_field(
        &anonymous_archive(entries),
        Step::Credentials,
        at,
        "body.version",
    );
    let (entries, at) = anonymous_snapshot_changed(|s| s.header.registry = [6; 32]);
    assert_folds_agree(entries.clone(), "a snapshot of another registry");
    assert_field(
        &anonymous_archive(entries),
        Step::Credentials,
        at,
        "body.registry",
    );
}

#[test]
fn anonymous_cast_with_a_ring_signature_of_the_wrong_length_is_caught() {
    for (what, change) in [
        ("one byte short", -1isize),
        ("one byte long", 1),
        ("one scalar long", 32),
    ] {
        let (entries, at) = anonymous_cast_changed(0, |c| {
            let len = c.signature.bytes.len() as isize + change;
            c.signature.bytes.resize(len as usize, 0);
        });
        assert_folds_agree(entries.clone(), what);
        let report = anonymous_archive(entries);
        assert_field(&report, Step::Ballots, at, "body.signature");
        // Named by the length check (spec/23 §23.13), before any decoding is tried.
        let message = &report.step(Step::Ballots).failures[0].message;
        assert!(
            message.contains("where a signature over buckets of"),
            "{what}: {message}"
        );
    }
}

#[test]
fn anonymous_ninth_audit_of_a_tag_is_caught() {
    // Voter 2 audits eight ballots, the limit (K = 8, §23.7): the ninth is refused.
    let h = held_anonymous();
    let mut entries = h.entries.clone();
    let after = positions(&entries, kinds::BALLOT_AUDIT)[0] + 1;
    for n in 0..9 {
        let audit = anonymous_ballot(h, 2, n % 2, true);
        let posted = Record::sign(h.context, kinds::BALLOT_AUDIT, &audit, &anyone())
            .unwrap()
            .into_bytes();
        entries.insert(after + n, posted);
    }
    let ninth = after + 8;
    assert_eq!(
        assert_folds_agree(entries.clone(), "nine audits of a tag"),
        1
    );
    assert_field(
        &anonymous_archive(entries),
        Step::Audits,
        ninth,
        "body.ballot.credential",
    );
}

// ---- decision-bound signatures (spec/22 §22.4, spec/23 §23.7, §23.13) --------------------

/// An audit carrying its credential's *cast* signature over its ballot (what a device that
/// released the wrong one, or a relay holding a cast's signature, would post): V8 refuses
/// the signature, the audit's every other check holding.
#[test]
fn m33c_audit_with_a_casts_signature_is_caught() {
    let mut entries = held().entries.clone();
    let at = positions(&entries, kinds::BALLOT_AUDIT)[0];
    let audit = AuditRecord::decode(&body(&entries[at])).unwrap();
    let signature = BallotSignature::sign(
        credential_of(&audit.ballot),
        &audit.ballot.context,
        urne_credential::Decision::Cast,
        &audit.tracking_code().0,
        &mut rand::rng(),
    )
    .unwrap();
    let changed = AuditRecord::new(audit.ballot, signature, audit.opening);
    resign(&mut entries, at, &changed.to_body(), &anyone());
    assert_field(
        &verify(&archive(entries)),
        Step::Audits,
        at,
        "body.signature",
    );
}

/// The ring signature of wallet `voter` over `ballot` in the held anonymous election, for
/// `decision`.
fn ring_signature_for(
    h: &HeldAnonymous,
    voter: usize,
    ballot: &Ballot,
    decision: urne_credential::Decision,
) -> urne_election::anonymous::AnonymousSignature {
    use urne_election::anonymous::*;
    let wallet = &h.wallets[voter];
    let position = position_of(&h.snapshot, wallet.secret()).unwrap();
    let signature = sign_ballot(
        &mut rand::rng(),
        wallet.secret(),
        &h.snapshot,
        position,
        &h.context.0,
        decision,
        &TrackingCode::of(ballot),
    )
    .unwrap();
    AnonymousSignature::new(position.bucket, &signature)
}

/// Anonymous: an audit ring-signed for a cast (V8 refuses its signature) and a cast
/// ring-signed for an audit — a relay's conversion of an audit — (V6 names that cast
/// alone). Each is otherwise valid: the right wallet, ring, tag and ballot.
#[test]
fn m33d_anonymous_ring_signatures_for_the_other_decision_are_caught() {
    let h = held_anonymous();
    // The held audit is wallet 0's.
    let mut entries = h.entries.clone();
    let at = positions(&entries, kinds::BALLOT_AUDIT)[0];
    let audit = urne_election::anonymous::AnonymousAudit::decode(&body(&entries[at])).unwrap();
    let signature = ring_signature_for(h, 0, &audit.ballot, urne_credential::Decision::Cast);
    let changed =
        urne_election::anonymous::AnonymousAudit::new(audit.ballot, signature, audit.opening);
    resign(&mut entries, at, &changed.to_body(), &anyone());
    assert_field(
        &anonymous_archive(entries),
        Step::Audits,
        at,
        "body.signature",
    );

    let (cast_at, voter) = h.casts[2];
    let (entries, at) = anonymous_cast_changed(2, |cast| {
        cast.signature =
            ring_signature_for(h, voter, &cast.ballot, urne_credential::Decision::Audit);
    });
    assert_eq!(at, cast_at);
    only_ballot_refused(&anonymous_archive(entries), at);
}
