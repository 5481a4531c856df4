//! A witness cosigns consistent growth and refuses forks, rollbacks and bad proofs,
//! keeping evidence and never losing what it cosigned.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use urne_log::note::{Cosigner, Note, NoteSigner};
use urne_log::proof::consistency_proof;
use urne_log::{Checkpoint, Hash, leaf_hash};
use urne_witness::{BoardSource, Outcome, Witness, WitnessError};

/// A board in memory: leaves, a key, and what the witness handed back.
struct FakeBoard {
    leaves: Vec<Hash>,
    signer: NoteSigner,
    /// A checkpoint to show instead of the honest one (a split view), and the leaves
    /// its proofs are made from.
    lie: Option<String>,
    lie_leaves: Option<Vec<Hash>>,
    returned: Vec<String>,
}

impl FakeBoard {
    fn new() -> Self {
        Self {
            leaves: Vec::new(),
            signer: NoteSigner::from_seed("fake.example/board", &[1; 32]).unwrap(),
            lie: None,
            lie_leaves: None,
            returned: Vec::new(),
        }
    }

    fn grow(&mut self, n: usize, tag: &str) {
        for i in 0..n {
            self.leaves.push(leaf_hash(format!("{tag} {i}").as_bytes()));
        }
    }

    fn note_for(&self, leaves: &[Hash]) -> String {
        let cp = Checkpoint::new(
            "fake.example/board",
            leaves.len() as u64,
            urne_log::hash::root_of(leaves),
            vec![],
        )
        .unwrap();
        let mut note = Note::new(&cp.to_text()).unwrap();
        self.signer.sign(&mut note);
        note.to_text()
    }
}

impl BoardSource for FakeBoard {
    fn checkpoint(&mut self) -> Result<String, String> {
        Ok(self
            .lie
            .clone()
            .unwrap_or_else(|| self.note_for(&self.leaves)))
    }
    fn consistency(&mut self, first: u64, second: u64) -> Result<Vec<Hash>, String> {
        let leaves = self.lie_leaves.as_ref().unwrap_or(&self.leaves);
        consistency_proof(&leaves[..], first, second).map_err(|e| format!("{e:?}"))
    }
    fn submit_cosignature(&mut self, note: &str) -> Result<(), String> {
        self.returned.push(note.to_owned());
        Ok(())
    }
}

fn witness(dir: &str, board: &FakeBoard) -> (Witness, PathBuf) {
    let path = std::env::temp_dir().join(format!("urne-witness-{}-{dir}", std::process::id()));
    let _ = std::fs::remove_dir_all(&path);
    let cosigner = Cosigner::from_seed("witness.example/w1", &[9; 32]).unwrap();
    (
        Witness::new(board.signer.verifier(), cosigner, &path).unwrap(),
        path,
    )
}

#[test]
fn consistent_growth_is_cosigned_and_the_cosignature_verifies() {
    let mut board = FakeBoard::new();
    let (w, _) = witness("growth", &board);
    board.grow(5, "a");
    assert_eq!(w.step(&mut board).unwrap(), Outcome::Cosigned(5));
    assert_eq!(w.step(&mut board).unwrap(), Outcome::Unchanged(5));
    board.grow(300, "b");
    assert_eq!(w.step(&mut board).unwrap(), Outcome::Cosigned(305));
    let returned = Note::parse(board.returned.last().unwrap().as_bytes()).unwrap();
    let verifier = Cosigner::from_seed("witness.example/w1", &[9; 32])
        .unwrap()
        .verifier();
    verifier.verify(&returned).unwrap();
}

#[test]
fn two_checkpoints_of_the_same_size_one_is_cosigned_the_other_refused() {
    let mut board = FakeBoard::new();
    let (w, dir) = witness("fork", &board);
    board.grow(8, "honest");
    assert_eq!(w.step(&mut board).unwrap(), Outcome::Cosigned(8));
    let mut other: Vec<Hash> = board.leaves.clone();
    other[3] = leaf_hash(b"rewritten history");
    board.lie = Some(board.note_for(&other));
    match w.step(&mut board) {
        Err(WitnessError::Fork { evidence, .. }) => {
            let text = std::fs::read_to_string(&evidence).unwrap();
            assert!(text.contains("two different roots at size 8"));
            assert!(evidence.starts_with(&dir));
        }
        other => panic!("expected a fork refusal, got {other:?}"),
    }
    assert_eq!(board.returned.len(), 1, "nothing was cosigned for the fork");
    assert_eq!(
        *w.last_cosigned().unwrap().unwrap().root(),
        urne_log::hash::root_of(&board.leaves)
    );
}

#[test]
fn a_rollback_or_an_inconsistent_extension_is_refused() {
    let mut board = FakeBoard::new();
    let (w, _) = witness("rollback", &board);
    board.grow(10, "x");
    w.step(&mut board).unwrap();
    board.lie = Some(board.note_for(&board.leaves[..6]));
    assert!(matches!(w.step(&mut board), Err(WitnessError::Fork { .. })));
    // A bigger tree that rewrote an old leaf: the board cannot prove consistency.
    let mut rewritten = board.leaves.clone();
    rewritten[0] = leaf_hash(b"changed");
    rewritten.push(leaf_hash(b"new"));
    board.lie = Some(board.note_for(&rewritten));
    board.lie_leaves = Some(rewritten);
    assert!(matches!(w.step(&mut board), Err(WitnessError::Fork { .. })));
    // A checkpoint not signed by the board is refused outright.
    let impostor = NoteSigner::from_seed("fake.example/board", &[2; 32]).unwrap();
    let cp = Checkpoint::new("fake.example/board", 11, leaf_hash(b"r"), vec![]).unwrap();
    let mut note = Note::new(&cp.to_text()).unwrap();
    impostor.sign(&mut note);
    board.lie = Some(note.to_text());
    assert!(matches!(
        w.step(&mut board),
        Err(WitnessError::BadCheckpoint(_))
    ));
}

#[test]
fn the_witness_remembers_across_restarts() {
    let mut board = FakeBoard::new();
    let (w, dir) = witness("restart", &board);
    board.grow(4, "r");
    w.step(&mut board).unwrap();
    drop(w);
    let w = Witness::new(
        board.signer.verifier(),
        Cosigner::from_seed("witness.example/w1", &[9; 32]).unwrap(),
        &dir,
    )
    .unwrap();
    assert_eq!(w.last_cosigned().unwrap().unwrap().size(), 4);
    let mut other = board.leaves.clone();
    other[0] = leaf_hash(b"x");
    board.lie = Some(board.note_for(&other));
    assert!(matches!(w.step(&mut board), Err(WitnessError::Fork { .. })));
}

fn open_witness(dir: &std::path::Path, board: &FakeBoard) -> Result<Witness, WitnessError> {
    Witness::new(
        board.signer.verifier(),
        Cosigner::from_seed("witness.example/w1", &[9; 32]).unwrap(),
        dir,
    )
}

#[test]
fn a_second_witness_on_the_same_state_directory_fails_to_open() {
    let mut board = FakeBoard::new();
    let (w, dir) = witness("locked", &board);
    match open_witness(&dir, &board) {
        Err(e @ WitnessError::Locked(_)) => {
            assert!(e.to_string().contains("another witness is running"), "{e}");
        }
        Err(e) => panic!("expected Locked, got {e}"),
        Ok(_) => panic!("a second witness opened a locked state directory"),
    }
    board.grow(3, "l");
    assert_eq!(w.step(&mut board).unwrap(), Outcome::Cosigned(3));
    drop(w);
    // The lock goes with the witness.
    let again = open_witness(&dir, &board).unwrap();
    assert_eq!(again.last_cosigned().unwrap().unwrap().size(), 3);
}

#[test]
fn the_state_is_re_read_before_each_decision() {
    let mut board = FakeBoard::new();
    let (w, dir) = witness("reread", &board);
    board.grow(5, "s");
    assert_eq!(w.step(&mut board).unwrap(), Outcome::Cosigned(5));
    // The state on disk moves to size 8 (as a restored backup or an operator would leave
    // it); a witness that trusted a copy in memory would now cosign size 5 again.
    board.grow(3, "t");
    let newer = board.note_for(&board.leaves);
    std::fs::write(dir.join(urne_witness::STATE_FILE), &newer).unwrap();
    board.lie = Some(board.note_for(&board.leaves[..5]));
    match w.step(&mut board) {
        Err(WitnessError::Fork { kind, detail, .. }) => {
            assert_eq!(kind, urne_witness::ForkKind::Rollback);
            assert!(detail.contains("from size 8 to 5"), "{detail}");
        }
        other => panic!("expected a rollback refusal, got {other:?}"),
    }
}

/// A push request for the board's checkpoint over `leaves`, with a proof from `old`.
fn push_body(board: &FakeBoard, leaves: &[Hash], old: u64) -> Vec<u8> {
    let proof = if old == 0 {
        vec![]
    } else {
        consistency_proof(leaves, old, leaves.len() as u64).unwrap()
    };
    urne_log::witness_protocol::encode_request(old, &proof, &board.note_for(leaves)).into_bytes()
}

#[test]
fn add_checkpoint_cosigns_consistent_pushes_and_answers_each_refusal_with_its_status() {
    let mut board = FakeBoard::new();
    let (w, dir) = witness("push", &board);
    let verifier = Cosigner::from_seed("witness.example/w1", &[9; 32])
        .unwrap()
        .verifier();
    board.grow(5, "p");
    let first = w.add_checkpoint(&push_body(&board, &board.leaves, 0), 100);
    assert_eq!(first.status, 200, "{}", first.body);
    let cp_text = board.note_for(&board.leaves);
    let cp_text = &cp_text[..cp_text.find("\n\n").unwrap() + 1];
    let lines =
        urne_log::witness_protocol::parse_cosignatures(cp_text, first.body.as_bytes(), &verifier)
            .unwrap();
    assert_eq!(verifier.verify_line(cp_text, &lines[0]).unwrap(), 100);

    // The client's idea of the witness's size is stale: 409 with the witness's size.
    board.grow(4, "q");
    let stale = w.add_checkpoint(&push_body(&board, &board.leaves, 0), 101);
    assert_eq!(
        (stale.status, stale.content_type, stale.body.as_str()),
        (409, "text/x.tlog.size", "5\n")
    );
    let wrong_old = w.add_checkpoint(&push_body(&board, &board.leaves, 3), 101);
    assert_eq!((wrong_old.status, wrong_old.body.as_str()), (409, "5\n"));
    // With the size the witness gave: cosigned.
    let grown = w.add_checkpoint(&push_body(&board, &board.leaves, 5), 102);
    assert_eq!(grown.status, 200, "{}", grown.body);
    assert_eq!(w.last_cosigned().unwrap().unwrap().size(), 9);
    // The same checkpoint again: cosigned again (same size, same root).
    let again = w.add_checkpoint(&push_body(&board, &board.leaves, 9), 103);
    assert_eq!(again.status, 200, "{}", again.body);

    // Same size, another root: 409, evidence kept.
    let mut other = board.leaves.clone();
    other[2] = leaf_hash(b"rewritten");
    let fork = w.add_checkpoint(&push_body(&board, &other, 9), 104);
    assert_eq!((fork.status, fork.body.as_str()), (409, "9\n"));
    // A larger tree whose proof does not verify: 422, evidence kept, state unchanged.
    other.push(leaf_hash(b"more"));
    let inconsistent = w.add_checkpoint(&push_body(&board, &other, 9), 105);
    assert_eq!(inconsistent.status, 422, "{}", inconsistent.body);
    assert_eq!(w.last_cosigned().unwrap().unwrap().size(), 9);
    let evidence: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("fork-evidence-")
        })
        .collect();
    assert_eq!(evidence.len(), 2, "one evidence file per refused note");
    // Replaying the refused push writes no new file.
    let replay = w.add_checkpoint(&push_body(&board, &other, 9), 106);
    assert_eq!(replay.status, 422);
    assert_eq!(
        std::fs::read_dir(&dir)
            .unwrap()
            .filter(|e| e
                .as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("fork-evidence-"))
            .count(),
        2
    );

    // Another log: 404. Not signed by the board's key: 403.
    let stranger = NoteSigner::from_seed("other.example/log", &[3; 32]).unwrap();
    let cp = Checkpoint::new("other.example/log", 1, leaf_hash(b"x"), vec![]).unwrap();
    let mut note = Note::new(&cp.to_text()).unwrap();
    stranger.sign(&mut note);
    let body = urne_log::witness_protocol::encode_request(0, &[], &note.to_text());
    assert_eq!(w.add_checkpoint(body.as_bytes(), 107).status, 404);
    let impostor = NoteSigner::from_seed("fake.example/board", &[2; 32]).unwrap();
    let cp = Checkpoint::new("fake.example/board", 10, leaf_hash(b"x"), vec![]).unwrap();
    let mut note = Note::new(&cp.to_text()).unwrap();
    impostor.sign(&mut note);
    let body = urne_log::witness_protocol::encode_request(9, &[], &note.to_text());
    assert_eq!(w.add_checkpoint(body.as_bytes(), 108).status, 403);

    // Malformed: 400; an old size above the checkpoint's: 400; a proof from 0: 400.
    assert_eq!(w.add_checkpoint(b"old x\n\n", 109).status, 400);
    let body = urne_log::witness_protocol::encode_request(12, &[], &board.note_for(&board.leaves));
    assert_eq!(w.add_checkpoint(body.as_bytes(), 110).status, 400);
    let fresh = FakeBoard::new();
    let (w2, _) = witness("push-fresh", &fresh);
    let body = urne_log::witness_protocol::encode_request(
        0,
        &[leaf_hash(b"junk")],
        &board.note_for(&board.leaves),
    );
    assert_eq!(w2.add_checkpoint(body.as_bytes(), 111).status, 400);
    assert_eq!(w.last_cosigned().unwrap().unwrap().size(), 9);
}

#[test]
fn concurrent_pushes_from_one_size_get_one_cosignature_and_never_roll_back() {
    let mut board = FakeBoard::new();
    let (w, _) = witness("race", &board);
    board.grow(4, "r");
    assert_eq!(
        w.add_checkpoint(&push_body(&board, &board.leaves, 0), 1)
            .status,
        200
    );
    board.grow(12, "s");
    let bodies: Vec<Vec<u8>> = (5..=16)
        .map(|n| push_body(&board, &board.leaves[..n], 4))
        .collect();
    let w = std::sync::Arc::new(w);
    let answers: Vec<(usize, u16)> = std::thread::scope(|scope| {
        let handles: Vec<_> = bodies
            .iter()
            .enumerate()
            .map(|(i, body)| {
                let w = std::sync::Arc::clone(&w);
                scope.spawn(move || (i + 5, w.add_checkpoint(body, 2).status))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let winners: Vec<usize> = answers
        .iter()
        .filter(|(_, s)| *s == 200)
        .map(|(n, _)| *n)
        .collect();
    assert_eq!(winners.len(), 1, "{answers:?}");
    assert!(answers.iter().all(|(_, s)| *s == 200 || *s == 409));
    assert_eq!(
        w.last_cosigned().unwrap().unwrap().size(),
        winners[0] as u64
    );
}
