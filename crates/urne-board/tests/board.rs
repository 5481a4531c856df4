//! The board's acceptance rules, each rejection with its own code and no change to the
//! log; state rebuilt from the log; checkpoints and cosignatures.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::Arc;

use ed25519_dalek::SigningKey;
use urne_board::kinds::{
    CONTEXT_OPEN, CONTEXT_PHASE, ContextOpen, ContextState, KindSpec, Poster, Registry, Validator,
};
use urne_board::{Board, BoardConfig, ContextId, Kind, Phase, Record, Rejection};
use urne_log::note::{Cosigner, Note};
use zeroize::Zeroizing;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("urne-board-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn authority() -> SigningKey {
    SigningKey::from_bytes(&[1; 32])
}

fn second_authority() -> SigningKey {
    SigningKey::from_bytes(&[11; 32])
}

fn witness(i: u8) -> Cosigner {
    Cosigner::from_seed(&format!("witness{i}.example"), &[50 + i; 32]).unwrap()
}

/// A kind plugged in from outside: accepted in the voting phase from anyone whose
/// body says "ok" — the shape later crates (ballots, signatures) use.
struct OkBody;
impl Validator for OkBody {
    fn validate(&self, record: &Record, _context: Option<&ContextState>) -> Result<(), Rejection> {
        if record.body() == b"ok" {
            Ok(())
        } else {
            Err(Rejection::invalid_body("body", "must be ok"))
        }
    }
}
const TEST_KIND: Kind = Kind(0x7f01);

fn registry() -> Registry {
    let mut r = Registry::with_builtin();
    r.register(KindSpec {
        kind: TEST_KIND,
        name: "test.ok",
        poster: Poster::ValidatorDecides,
        phases: vec![Phase::Voting],
        validator: Arc::new(OkBody),
    })
    .unwrap();
    assert!(
        r.register(KindSpec {
            kind: CONTEXT_OPEN,
            name: "again",
            poster: Poster::ValidatorDecides,
            phases: vec![],
            validator: Arc::new(OkBody)
        })
        .is_err()
    );
    r
}

fn open(dir: &std::path::Path) -> Board {
    let config = BoardConfig {
        origin: "test.example/board".into(),
        signing_seed: Zeroizing::new([7; 32]),
        authorities: vec![
            authority().verifying_key().to_bytes(),
            second_authority().verifying_key().to_bytes(),
        ],
        witnesses: (0..3).map(|i| witness(i).verifier()).collect(),
    };
    Board::open(dir, config, registry()).unwrap().0
}

fn open_context(board: &Board, name: &str) -> ContextId {
    let body = ContextOpen {
        name: name.into(),
        parameters: [0; 32],
    }
    .to_body();
    let id = ContextId::derive(&body);
    board
        .submit(
            Record::sign(id, CONTEXT_OPEN, &body, &authority())
                .unwrap()
                .into_bytes(),
        )
        .unwrap();
    id
}

fn phase(board: &Board, id: ContextId, to: Phase, key: &SigningKey) -> Result<u64, Rejection> {
    board
        .submit(
            Record::sign(id, CONTEXT_PHASE, &[to.code()], key)
                .unwrap()
                .into_bytes(),
        )
        .map(|r| r.index)
}

fn rejected(board: &Board, bytes: Vec<u8>, code: &str) -> Rejection {
    let before = board.store().size();
    let r = board.submit(bytes).unwrap_err();
    assert_eq!(r.code, code, "{r}");
    assert_eq!(
        board.store().size(),
        before,
        "a rejected record changed the log"
    );
    r
}

#[test]
fn contexts_open_and_move_through_their_phases_in_order() {
    let board = open(&scratch("phases"));
    let id = open_context(&board, "Municipal 2027");
    for p in [
        Phase::Ceremony,
        Phase::Registration,
        Phase::Voting,
        Phase::Closed,
        Phase::Tallying,
        Phase::Published,
    ] {
        phase(&board, id, p, &authority()).unwrap();
    }
    assert_eq!(board.contexts()[0].phase, Phase::Published);
    // Nothing moves a published context (a new record, not a duplicate of the last).
    let r = board
        .submit(
            Record::sign(id, CONTEXT_PHASE, &[7], &authority())
                .unwrap()
                .into_bytes(),
        )
        .unwrap_err();
    assert_eq!(r.code, "wrong-phase");
}

#[test]
fn every_kind_of_bad_record_gets_its_own_rejection_and_changes_nothing() {
    let board = open(&scratch("rejections"));
    let id = open_context(&board, "Consultation");
    let stranger = SigningKey::from_bytes(&[2; 32]);

    // malformed: truncated envelope; too large
    let good = Record::sign(id, CONTEXT_PHASE, &[1], &authority())
        .unwrap()
        .into_bytes();
    let r = rejected(&board, good[..good.len() - 1].to_vec(), "malformed");
    assert_eq!(r.field.as_deref(), Some("body_length"));
    rejected(&board, vec![1; 70_000], "too-large");
    // bad signature: one flipped bit of the signature
    let mut forged = good.clone();
    let n = forged.len();
    forged[n - 1] ^= 1;
    rejected(&board, forged, "bad-signature");
    // unknown kind
    rejected(
        &board,
        Record::sign(id, Kind(0x6666), b"", &authority())
            .unwrap()
            .into_bytes(),
        "unknown-kind",
    );
    // unknown context
    rejected(
        &board,
        Record::sign(ContextId([9; 32]), CONTEXT_PHASE, &[1], &authority())
            .unwrap()
            .into_bytes(),
        "unknown-context",
    );
    // not authorized: a stranger moves the phase; a stranger opens a context
    rejected(
        &board,
        Record::sign(id, CONTEXT_PHASE, &[1], &stranger)
            .unwrap()
            .into_bytes(),
        "not-authorized",
    );
    let body = ContextOpen {
        name: "Rogue".into(),
        parameters: [0; 32],
    }
    .to_body();
    rejected(
        &board,
        Record::sign(ContextId::derive(&body), CONTEXT_OPEN, &body, &stranger)
            .unwrap()
            .into_bytes(),
        "not-authorized",
    );
    // invalid body: skipping a phase; a context id that does not match its body
    rejected(
        &board,
        Record::sign(id, CONTEXT_PHASE, &[3], &authority())
            .unwrap()
            .into_bytes(),
        "invalid-body",
    );
    rejected(
        &board,
        Record::sign(ContextId([4; 32]), CONTEXT_OPEN, &body, &authority())
            .unwrap()
            .into_bytes(),
        "invalid-body",
    );
    // wrong phase: the plugged-in kind before voting
    rejected(
        &board,
        Record::sign(id, TEST_KIND, b"ok", &stranger)
            .unwrap()
            .into_bytes(),
        "wrong-phase",
    );
    // context exists: another authority opens the same context (same body, same id)
    let body = ContextOpen {
        name: "Consultation".into(),
        parameters: [0; 32],
    }
    .to_body();
    rejected(
        &board,
        Record::sign(id, CONTEXT_OPEN, &body, &second_authority())
            .unwrap()
            .into_bytes(),
        "context-exists",
    );
    // duplicate: the same bytes twice
    board.submit(good.clone()).unwrap();
    let r = rejected(&board, good, "duplicate");
    assert!(r.message.contains("index 1"), "{r}");
}

#[test]
fn plugged_in_validators_decide_their_kinds() {
    let board = open(&scratch("plugged"));
    let id = open_context(&board, "Budget");
    for p in [Phase::Ceremony, Phase::Registration, Phase::Voting] {
        phase(&board, id, p, &authority()).unwrap();
    }
    let voter = SigningKey::from_bytes(&[3; 32]);
    board
        .submit(
            Record::sign(id, TEST_KIND, b"ok", &voter)
                .unwrap()
                .into_bytes(),
        )
        .unwrap();
    rejected(
        &board,
        Record::sign(id, TEST_KIND, b"no", &voter)
            .unwrap()
            .into_bytes(),
        "invalid-body",
    );
}

#[test]
fn state_is_rebuilt_from_the_log_after_a_restart_and_after_losing_the_index() {
    let dir = scratch("restart");
    {
        let board = open(&dir);
        let id = open_context(&board, "Sitting 12");
        phase(&board, id, Phase::Ceremony, &authority()).unwrap();
        phase(&board, id, Phase::Registration, &authority()).unwrap();
        board.sign_checkpoint().unwrap();
    }
    let board = open(&dir);
    assert_eq!(board.contexts()[0].phase, Phase::Registration);
    assert_eq!(board.contexts()[0].name, "Sitting 12");
    let id = board.contexts()[0].id;
    drop(board);
    std::fs::remove_dir_all(dir.join("index.sled")).unwrap();
    let board = open(&dir);
    assert_eq!(board.contexts()[0].phase, Phase::Registration);
    phase(&board, id, Phase::Voting, &authority()).unwrap();
}

#[test]
fn concurrent_duplicates_are_accepted_once() {
    let board = Arc::new(open(&scratch("dup-race")));
    let id = open_context(&board, "Race");
    let bytes = Record::sign(id, CONTEXT_PHASE, &[1], &authority())
        .unwrap()
        .into_bytes();
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let board = Arc::clone(&board);
            let bytes = bytes.clone();
            std::thread::spawn(move || board.submit(bytes))
        })
        .collect();
    let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert!(
        results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .all(|e| e.code == "duplicate" || e.code == "invalid-body")
    );
    assert_eq!(board.store().size(), 2);
}

#[test]
fn checkpoints_are_signed_over_durable_entries_and_gather_cosignatures() {
    let dir = scratch("checkpoints");
    let board = open(&dir);
    open_context(&board, "Cosigned");
    let text = board.sign_checkpoint().unwrap();
    let note = Note::parse(text.as_bytes()).unwrap();
    let cp = urne_log::Checkpoint::open(
        &note,
        &urne_log::note::NoteVerifier::from_vkey(&board.vkey()).unwrap(),
    )
    .unwrap();
    assert_eq!(cp.size(), 1);
    assert_eq!(*cp.root(), board.store().root(1).unwrap());
    assert_eq!(
        board.sign_checkpoint().unwrap(),
        text,
        "no new entries, no new checkpoint"
    );

    // Two witnesses cosign; a stranger's cosignature is refused; a forged one too.
    for i in 0..2 {
        let mut n = note.clone();
        n.add_signature(witness(i).cosign(note.text(), 1_800_000_000));
        assert_eq!(board.add_cosignatures(&n.to_text()).unwrap(), 1);
    }
    let stranger = Cosigner::from_seed("stranger.example", &[99; 32]).unwrap();
    let mut n = note.clone();
    n.add_signature(stranger.cosign(note.text(), 1));
    assert_eq!(
        board.add_cosignatures(&n.to_text()).unwrap_err().code,
        "not-authorized"
    );
    let mut n = note.clone();
    let mut line = witness(2).cosign(note.text(), 5);
    line.signature[10] ^= 1;
    n.add_signature(line);
    assert_eq!(
        board.add_cosignatures(&n.to_text()).unwrap_err().code,
        "bad-signature"
    );
    let other = urne_log::Checkpoint::new(cp.origin(), 9, *cp.root(), vec![]).unwrap();
    let mut n = Note::new(&other.to_text()).unwrap();
    n.add_signature(witness(0).cosign(&other.to_text(), 1));
    assert_eq!(
        board.add_cosignatures(&n.to_text()).unwrap_err().code,
        "invalid-body"
    );

    let served = Note::parse(board.checkpoint().unwrap().as_bytes()).unwrap();
    let verifiers: Vec<_> = (0..3).map(|i| witness(i).verifier()).collect();
    assert_eq!(urne_log::note::count_cosignatures(&served, &verifiers), 2);
    assert!(board.cosigned_checkpoint(2).is_some());
    assert!(board.cosigned_checkpoint(3).is_none());
    // The cosignatures survive a restart.
    drop(board);
    let board = open(&dir);
    let served = Note::parse(board.checkpoint().unwrap().as_bytes()).unwrap();
    assert_eq!(urne_log::note::count_cosignatures(&served, &verifiers), 2);
}

#[test]
fn a_board_refuses_a_checkpoint_signed_by_another_key() {
    let dir = scratch("other-key");
    {
        let board = open(&dir);
        open_context(&board, "Keyed");
        board.sign_checkpoint().unwrap();
    }
    let config = BoardConfig {
        origin: "test.example/board".into(),
        signing_seed: Zeroizing::new([8; 32]),
        authorities: vec![],
        witnesses: vec![],
    };
    assert!(Board::open(&dir, config, registry()).is_err());
}
