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
use urne_cli::demo::voters::{self, VoterPlan};
use urne_cli::demo::{HeldElection, UncheckedLog, hold_planned_election};
use urne_credential::{BallotSignature, Credential};
use urne_crypto::Scalar;
use urne_election::{AuditRecord, CastBallot, ManifestRecord, Phase, kinds};
use urne_log::note::{Cosigner, Note, NoteSigner};
use urne_log::{Checkpoint, Hash, leaf_hash};
use urne_record::kinds::CONTEXT_PHASE;
use urne_record::{ContextId, Record};
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

fn archive(entries: Vec<Vec<u8>>) -> Archive {
    let board = &held().board;
    Archive {
        board_vkey: board.verifier().to_vkey(),
        checkpoints: vec![checkpoint_of(board, &entries)],
        entries,
    }
}

fn verify(archive: &Archive) -> Report {
    urne_verify::verify(archive, &Options::default(), &Quiet)
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

fn credential_of(ballot: &Ballot) -> &'static Credential {
    held()
        .election
        .credentials
        .iter()
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
    let mut entries = held().entries.clone();
    let (at, mut result) = result_at(&entries);
    change(&mut result);
    resign(&mut entries, at, &result.to_bytes(), &held().authority);
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
    let older = checkpoint_of(&held().board, &entries);
    let mut dropped = entries.clone();
    dropped.remove(cast_at(&entries, 5));
    let mut a = archive(dropped);
    a.checkpoints.insert(0, older);
    let report = verify(&a);
    assert_caught(&report, Step::Log, None);
    assert_eq!(report.step(Step::Log).failures[0].field, "checkpoints[0]");
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
        quorum: 1,
        verified_prefix: 0,
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
        &ManifestRecord { manifest: other }.to_body(),
        &held().authority,
    );
    assert_caught(&verify(&archive(entries)), Step::Parameters, Some(at));
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
    assert_caught(&verify(&archive(entries)), Step::Ballots, Some(at));
}

#[test]
fn m18_blank_vote_proof_altered_is_caught() {
    let mut entries = held().entries.clone();
    let at = cast_at(&entries, 1);
    tamper_ballot(&mut entries, at, |b| {
        let blank = b.contests[0].blank.as_mut().unwrap();
        plus_one(&mut blank.proof.branches[1].c);
    });
    assert_caught(&verify(&archive(entries)), Step::Ballots, Some(at));
}

#[test]
fn m19_single_choice_sum_proof_altered_is_caught() {
    let mut entries = held().entries.clone();
    let at = cast_at(&entries, 2);
    tamper_ballot(&mut entries, at, |b| match &mut b.contests[0].sum_proof {
        SumProof::Range(p) => plus_one(&mut p.branches[0].z),
        _ => panic!("a single-choice contest proves its sum with one range proof"),
    });
    assert_caught(&verify(&archive(entries)), Step::Ballots, Some(at));
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
    assert_caught(&verify(&archive(entries)), Step::Ballots, Some(at));
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
    assert_caught(&verify(&archive(entries)), Step::Ballots, Some(at));
}

#[test]
fn m22_credential_signature_over_another_ballot_is_caught() {
    let mut entries = held().entries.clone();
    let at = cast_at(&entries, 5);
    let cast = CastBallot::decode(&body(&entries[at])).unwrap();
    let signature = BallotSignature::sign(
        credential_of(&cast.ballot),
        &cast.ballot.context,
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
    let report = verify(&archive(entries));
    assert_caught(&report, Step::Ballots, Some(at));
}

#[test]
fn m26_ballot_duplicated_is_caught() {
    let mut entries = held().entries.clone();
    let at = cast_at(&entries, 8);
    let copy = entries[at].clone();
    entries.insert(at + 1, copy);
    assert_caught(&verify(&archive(entries)), Step::Ballots, Some(at + 1));
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
    resign(&mut entries, at, &bytes, &anyone());
    assert_caught(&verify(&archive(entries)), Step::Ballots, Some(at));
}

#[test]
fn m28_trailing_bytes_after_a_ballot_are_caught() {
    let mut entries = held().entries.clone();
    let at = cast_at(&entries, 10);
    let mut bytes = body(&entries[at]);
    bytes.push(0);
    resign(&mut entries, at, &bytes, &anyone());
    assert_caught(&verify(&archive(entries)), Step::Ballots, Some(at));
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
    assert_caught(&verify(&archive(entries)), Step::Ballots, Some(close));
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
    let cast = CastBallot::new(audit.ballot, audit.signature).to_body();
    entries.insert(
        close,
        Record::sign(context, kinds::BALLOT_CAST, &cast, &anyone())
            .unwrap()
            .into_bytes(),
    );
    let report = verify(&archive(entries));
    assert!(!report.passed);
    let caught = [Step::Ballots, Step::Audits].iter().any(|&s| {
        report
            .step(s)
            .failures
            .iter()
            .any(|f| f.record == Some(close as u64))
    });
    assert!(caught, "{}", report.summary());
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
        ..Options::default()
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
        ..Options::default()
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
fn sitting_archive(entries: Vec<Vec<u8>>) -> Archive {
    let origin = urne_cli::assembly::DEMO_ORIGIN;
    let signer = NoteSigner::from_seed(origin, &[5; 32]).unwrap();
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
    let report = verify(&sitting_archive(entries.clone()));
    assert!(report.passed, "{}", report.summary());
    // Four roll-call divisions and the secret ballot.
    assert_eq!(report.step(Step::Divisions).checked, 5);
    assert!(report.not_recounted.is_empty());

    let mut forged = entries;
    let at = positions(&forged, urne_assembly::kinds::VOTE)[10];
    let body = body(&forged[at]);
    resign(&mut forged, at, &body, &anyone());
    assert_caught(&verify(&sitting_archive(forged)), Step::Divisions, Some(at));
}
