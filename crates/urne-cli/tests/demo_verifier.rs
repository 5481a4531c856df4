//! The demo's verifier against a lying board: an election held on a log that checks
//! nothing, then tampered with and signed again (a board that signs whatever it holds).
//! Every tampering must make `verify_log` fail and name what is wrong; the untouched
//! log must verify and count exactly what the voters chose.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::OnceLock;

use ed25519_dalek::SigningKey;
use urne_ceremony::{CeremonyOpen, TrusteeSetup};
use urne_cli::demo::progress::Stages;
use urne_cli::demo::{
    DemoError, HeldElection, UncheckedLog, VerifyError, check_against_plaintext, hold_election,
    verify_log,
};
use urne_election::{CastBallot, ManifestRecord, Phase, kinds};
use urne_log::note::{Note, NoteSigner};
use urne_log::{Checkpoint, Hash, leaf_hash};
use urne_record::kinds::{CONTEXT_OPEN, CONTEXT_PHASE};
use urne_record::{ContextId, ContextOpen, ContextType, Record};
use urne_tally::TallyResult;
use urne_verify::Step;

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
        VerifyError::Failed { step, record, .. } => {
            *step >= Step::Revotes || record.is_some_and(|index| index >= from)
        }
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
    assert!(
        matches!(
            err,
            VerifyError::Failed {
                step: Step::Log,
                ..
            }
        ),
        "{err}"
    );
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
    assert!(
        matches!(
            err,
            VerifyError::Failed {
                step: Step::Log,
                ..
            }
        ),
        "{err}"
    );
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
        matches!(err, VerifyError::Failed { record: Some(index), .. } if index == at as u64),
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
        matches!(err, VerifyError::Failed { record: Some(index), .. } if index == a as u64),
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
        election: std::sync::Arc::clone(&held.election.election),
        credentials: Vec::new(),
        trustee_keys: Vec::new(),
    };
    held_other.plaintext[1][2] += 1;
    let err = check_against_plaintext(&published, &held_other).unwrap_err();
    assert!(err.to_string().contains("contest 2"), "{err}");
}

#[test]
fn ceremony_reopened_after_a_registration_verifies_from_the_roster_that_stands() {
    let held = held();
    let mut entries = held.entries.clone();
    let at = positions(&entries, kinds::CEREMONY_OPEN)[0];
    let context = Record::parse(entries[at].clone()).unwrap().context();
    // A first roster the authority replaced after one of its trustees registered.
    let stale: Vec<SigningKey> = (11..14).map(|s| SigningKey::from_bytes(&[s; 32])).collect();
    let open = CeremonyOpen::new(
        2,
        stale.iter().map(|k| k.verifying_key().to_bytes()).collect(),
    )
    .unwrap();
    let (_, registration) = TrusteeSetup::new(1, &mut rand::rng());
    let sign = |kind, body: &[u8], key: &SigningKey| {
        Record::sign(context, kind, body, key).unwrap().into_bytes()
    };
    entries.insert(
        at,
        sign(kinds::CEREMONY_REGISTER, &registration.encode(), &stale[0]),
    );
    entries.insert(
        at,
        sign(kinds::CEREMONY_OPEN, &open.encode(), &held.authority),
    );
    let verified = verify(&entries).unwrap();
    assert_eq!(verified.elections[0].outcome.qualified, vec![1, 2, 3]);

    // Opening again with exactly the roster already open is a duplicate entry the board
    // would have refused; the fold refuses it too.
    let mut entries = held.entries.clone();
    let real = entries[at].clone();
    entries.insert(at + 1, real);
    let err = verify(&entries).unwrap_err();
    assert!(
        matches!(err, VerifyError::Failed { record: Some(index), .. } if index == at as u64 + 1),
        "{err}"
    );
}

#[test]
fn an_abandoned_second_election_does_not_stop_the_board_verifying() {
    let held = held();
    let mut entries = held.entries.clone();
    let manifest = ManifestRecord {
        manifest: held.election.manifest.clone(),
        eligibility: None,
    };
    let open = ContextOpen {
        context_type: ContextType::ELECTION,
        nonce: [1; 16],
        name: "abandoned".into(),
        parameters: manifest.parameters_hash(),
    }
    .to_body()
    .unwrap();
    let context = ContextId::derive(held.authority.verifying_key().as_bytes(), &open);
    let roster = CeremonyOpen::new(
        2,
        (11..14)
            .map(|s| SigningKey::from_bytes(&[s; 32]).verifying_key().to_bytes())
            .collect(),
    )
    .unwrap();
    for (kind, body) in [
        (CONTEXT_OPEN, open),
        (kinds::ELECTION_MANIFEST, manifest.to_body()),
        (CONTEXT_PHASE, vec![Phase::Ceremony.code()]),
        (kinds::CEREMONY_OPEN, roster.encode()),
    ] {
        entries.push(
            Record::sign(context, kind, &body, &held.authority)
                .unwrap()
                .into_bytes(),
        );
    }
    let verified = verify(&entries).unwrap();
    assert_eq!(verified.elections.len(), 1, "the held election, verified");
    assert_eq!(verified.unfinished.len(), 1);
    let abandoned = &verified.unfinished[0];
    assert_eq!(abandoned.context, context);
    assert_eq!(abandoned.phase, Phase::Ceremony);
    assert!(abandoned.ceremony.is_none());

    // Verified as far as it went: a record it may not hold still fails.
    let last = entries.len() - 1;
    entries.push(entries[last].clone());
    let err = verify(&entries).unwrap_err();
    assert!(
        matches!(err, VerifyError::Failed { record: Some(index), .. } if index == last as u64 + 1),
        "{err}"
    );
}

#[test]
fn records_before_their_context_open_or_of_a_context_never_opened_are_faults() {
    let held = held();
    let mut entries = held.entries.clone();
    assert_eq!(positions(&entries, CONTEXT_OPEN)[0], 0);
    entries.swap(0, 1);
    let err = verify(&entries).unwrap_err();
    assert!(
        matches!(&err, VerifyError::Failed { record: Some(0), problem, .. } if problem.contains("no context.open")),
        "{err}"
    );

    let mut entries = held.entries.clone();
    let stray = Record::sign(
        ContextId([4; 32]),
        CONTEXT_PHASE,
        &[Phase::Ceremony.code()],
        &held.authority,
    )
    .unwrap();
    entries.push(stray.into_bytes());
    let err = verify(&entries).unwrap_err();
    assert!(
        matches!(&err, VerifyError::Failed { record: Some(index), .. } if *index == held.entries.len() as u64),
        "{err}"
    );
}
