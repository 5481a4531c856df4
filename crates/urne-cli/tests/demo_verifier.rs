//! The demo's verifier against a lying board: an election held on a log that checks
//! nothing, then tampered with and signed again (a board that signs whatever it holds).
//! Every tampering must make `verify_log` fail and name what is wrong; the untouched
//! log must verify and count exactly what the voters chose.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::OnceLock;

use ed25519_dalek::SigningKey;
use urne_cli::demo::progress::Stages;
use urne_cli::demo::{
    DemoError, HeldElection, UncheckedLog, VerifyError, check_against_plaintext, hold_election,
    verify_log,
};
use urne_election::{CastBallot, kinds};
use urne_log::note::{Note, NoteSigner};
use urne_log::{Checkpoint, Hash, leaf_hash};
use urne_record::Record;
use urne_tally::TallyResult;

const ORIGIN: &str = "test.urne.local/board";

struct Held {
    election: HeldElection,
    entries: Vec<Vec<u8>>,
    authority: SigningKey,
    board: NoteSigner,
}

fn held() -> &'static Held {
    static HELD: OnceLock<Held> = OnceLock::new();
    HELD.get_or_init(|| {
        let authority = SigningKey::from_bytes(&[7; 32]);
        let log = UncheckedLog::default();
        let election =
            hold_election(&log, authority.clone(), ORIGIN, 40, &mut Stages::new()).unwrap();
        Held {
            election,
            entries: log.into_entries(),
            authority,
            board: NoteSigner::from_seed(ORIGIN, &[3; 32]).unwrap(),
        }
    })
}

/// The board's signed checkpoint over exactly these entries.
fn checkpoint(signer: &NoteSigner, entries: &[Vec<u8>]) -> String {
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

fn verify(entries: &[Vec<u8>]) -> Result<urne_cli::demo::Verified, VerifyError> {
    let held = held();
    verify_log(
        entries,
        &checkpoint(&held.board, entries),
        &held.board.verifier().to_vkey(),
    )
}

fn positions(entries: &[Vec<u8>], kind: urne_record::Kind) -> Vec<usize> {
    entries
        .iter()
        .enumerate()
        .filter(|(_, e)| Record::parse((*e).clone()).unwrap().kind() == kind)
        .map(|(i, _)| i)
        .collect()
}

/// The record at `index` with a new body, signed again by `key`.
fn resign(entries: &mut [Vec<u8>], index: usize, body: &[u8], key: &SigningKey) {
    let record = Record::parse(entries[index].clone()).unwrap();
    entries[index] = Record::sign(record.context(), record.kind(), body, key)
        .unwrap()
        .into_bytes();
}

/// The fold refuses a record of the tally from `from` on (the decryption shares no longer
/// open the sums, or the result is not theirs), or the direct check refuses the result.
fn refuses_tally(err: &VerifyError, from: u64) -> bool {
    match err {
        VerifyError::Record { index, .. } => *index >= from,
        VerifyError::Tally { .. } => true,
        _ => false,
    }
}

#[test]
fn untouched_election_verifies_and_its_result_is_the_plaintext_count() {
    let held = held();
    let verified = verify(&held.entries).unwrap();
    assert_eq!(verified.entries, held.entries.len() as u64);
    let election = &verified.elections[0];
    assert_eq!(election.ballots, held.election.cast);
    assert_eq!(election.audits, held.election.audits);
    assert_eq!(election.credentials, 40);
    assert_eq!(election.outcome.qualified, vec![1, 2, 3]);
    let result = election.result.as_ref().unwrap();
    assert_eq!(result.counts, held.election.plaintext);
    assert_eq!(result.trustees, vec![1, 3]);
    assert_eq!(result, &held.election.result);
}

#[test]
fn entry_changed_after_the_checkpoint_was_signed_breaks_the_root() {
    let held = held();
    let signed = checkpoint(&held.board, &held.entries);
    let mut entries = held.entries.clone();
    let last = entries.len() - 1;
    entries[last][40] ^= 1;
    let err = verify_log(&entries, &signed, &held.board.verifier().to_vkey()).unwrap_err();
    assert!(matches!(err, VerifyError::Root { .. }), "{err}");
}

#[test]
fn checkpoint_signed_by_another_key_is_refused() {
    let held = held();
    let impostor = NoteSigner::from_seed(ORIGIN, &[4; 32]).unwrap();
    let err = verify_log(
        &held.entries,
        &checkpoint(&impostor, &held.entries),
        &held.board.verifier().to_vkey(),
    )
    .unwrap_err();
    assert!(matches!(err, VerifyError::Checkpoint(_)), "{err}");
}

#[test]
fn record_altered_without_its_signer_fails_the_envelope_signature() {
    let held = held();
    let mut entries = held.entries.clone();
    let at = positions(&entries, kinds::BALLOT_CAST)[0];
    let len = entries[at].len();
    entries[at][len - 100] ^= 1;
    let err = verify(&entries).unwrap_err();
    assert!(
        matches!(err, VerifyError::Record { index, .. } if index == at as u64),
        "{err}"
    );
}

#[test]
fn ballot_signed_by_another_credential_is_found_by_the_batch() {
    let held = held();
    let mut entries = held.entries.clone();
    let casts = positions(&entries, kinds::BALLOT_CAST);
    let (a, b) = (casts[0], casts[1]);
    let first = CastBallot::decode(Record::parse(entries[a].clone()).unwrap().body()).unwrap();
    let second = CastBallot::decode(Record::parse(entries[b].clone()).unwrap().body()).unwrap();
    // The first ballot with the second's credential signature: a copied signature.
    let forged = CastBallot::new(first.ballot, second.signature).to_body();
    resign(&mut entries, a, &forged, &SigningKey::from_bytes(&[9; 32]));
    let err = verify(&entries).unwrap_err();
    assert!(
        matches!(err, VerifyError::Record { index, .. } if index == a as u64),
        "{err}"
    );
}

#[test]
fn dropped_ballot_makes_the_published_result_fail() {
    let held = held();
    let mut entries = held.entries.clone();
    let at = positions(&entries, kinds::BALLOT_CAST)[3];
    entries.remove(at);
    let shares_at = positions(&entries, kinds::TALLY_DECRYPTION_SHARES)[0] as u64;
    let err = verify(&entries).unwrap_err();
    assert!(refuses_tally(&err, shares_at), "{err}");
}

#[test]
fn result_with_one_count_changed_fails_even_signed_by_the_authority() {
    let held = held();
    let mut entries = held.entries.clone();
    let at = positions(&entries, kinds::TALLY_RESULT)[0];
    let mut result =
        TallyResult::decode(Record::parse(entries[at].clone()).unwrap().body()).unwrap();
    result.counts[0][0] += 1;
    resign(&mut entries, at, &result.to_bytes(), &held.authority);
    let err = verify(&entries).unwrap_err();
    assert!(refuses_tally(&err, at as u64), "{err}");
}

#[test]
fn ceremony_commitments_swapped_between_dealers_fail_the_ceremony_or_every_ballot() {
    let held = held();
    let mut entries = held.entries.clone();
    let at = positions(&entries, kinds::CEREMONY_COMMITMENTS);
    let (a, b) = (at[0], at[1]);
    let body_b = Record::parse(entries[b].clone()).unwrap().body().to_vec();
    resign(&mut entries, a, &body_b, &SigningKey::from_bytes(&[5; 32]));
    assert!(verify(&entries).is_err());
}

#[test]
fn demo_refuses_a_verified_result_that_is_not_the_plaintext_count() {
    let held = held();
    let verified = verify(&held.entries).unwrap();
    let published = verified.elections[0].result.clone().unwrap();
    check_against_plaintext(&published, &held.election).unwrap();

    // A result that verifies but is not what the trustees computed or the voters chose
    // (as a board and trustees colluding on another tally would post).
    let mut other = published.clone();
    other.counts[1][2] += 1;
    let err = check_against_plaintext(&other, &held.election).unwrap_err();
    assert!(matches!(err, DemoError::Mismatch(_)), "{err}");

    let mut held_other = HeldElection {
        manifest: held.election.manifest.clone(),
        plaintext: held.election.plaintext.clone(),
        result: held.election.result.clone(),
        cast: held.election.cast,
        revotes: held.election.revotes,
        audits: held.election.audits,
    };
    held_other.plaintext[1][2] += 1;
    let err = check_against_plaintext(&published, &held_other).unwrap_err();
    assert!(err.to_string().contains("contest 2"), "{err}");
}
