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
        let cp = Checkpoint {
            origin: "fake.example/board".into(),
            size: leaves.len() as u64,
            root: urne_log::hash::root_of(leaves),
            extensions: vec![],
        };
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
        w.last_cosigned().unwrap().unwrap().root,
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
    let cp = Checkpoint {
        origin: "fake.example/board".into(),
        size: 11,
        root: leaf_hash(b"r"),
        extensions: vec![],
    };
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
    assert_eq!(w.last_cosigned().unwrap().unwrap().size, 4);
    let mut other = board.leaves.clone();
    other[0] = leaf_hash(b"x");
    board.lie = Some(board.note_for(&other));
    assert!(matches!(w.step(&mut board), Err(WitnessError::Fork { .. })));
}
