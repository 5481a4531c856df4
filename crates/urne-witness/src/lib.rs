//! A witness (spec/10-log.md §10.3, spec/14-witness.md).
//!
//! What it is for: defeating split views. A witness cosigns a board's checkpoint only
//! after verifying the board's signature and a consistency proof from the last
//! checkpoint it cosigned, and only after recording the new one durably — so that,
//! whatever happens, it never cosigns two checkpoints that are not consistent with each
//! other. Shown a fork (another root at a size it cosigned, a smaller tree, or a proof
//! that fails), it refuses and keeps the evidence.
//!
//! What it must never do: cosign before its state is durable, forget a checkpoint it
//! cosigned, or trust a checkpoint without the board's signature.

#![deny(unsafe_code)]

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use urne_log::note::{Cosigner, Note, NoteSignature, NoteVerifier};
use urne_log::{Checkpoint, Hash, verify_consistency};

/// Where a witness gets a board's checkpoints and proofs.
pub trait BoardSource {
    /// The latest checkpoint note.
    fn checkpoint(&mut self) -> Result<String, String>;
    /// A consistency proof between two sizes.
    fn consistency(&mut self, first: u64, second: u64) -> Result<Vec<Hash>, String>;
    /// Hands the cosigned note back to the board.
    fn submit_cosignature(&mut self, note: &str) -> Result<(), String>;
}

/// What one step of the witness did.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Cosigned this checkpoint (size).
    Cosigned(u64),
    /// Nothing new since the last cosigned checkpoint.
    Unchanged(u64),
}

/// Why a witness refused.
#[derive(Debug)]
pub enum WitnessError {
    /// The board could not be reached or answered nonsense.
    Board(String),
    /// The checkpoint is not validly signed by the board.
    BadCheckpoint(String),
    /// A fork: evidence was written to this file.
    Fork {
        /// What the fork is.
        detail: String,
        /// The evidence file.
        evidence: PathBuf,
    },
    /// The witness's own state could not be read or written.
    State(String),
}

impl std::fmt::Display for WitnessError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Board(e) => write!(f, "board: {e}"),
            Self::BadCheckpoint(e) => write!(f, "checkpoint refused: {e}"),
            Self::Fork { detail, evidence } => {
                write!(
                    f,
                    "FORK: {detail}; refused to cosign, evidence in {}",
                    evidence.display()
                )
            }
            Self::State(e) => write!(f, "witness state: {e}"),
        }
    }
}

impl std::error::Error for WitnessError {}

/// A witness of one board.
pub struct Witness {
    board: NoteVerifier,
    cosigner: Cosigner,
    state_dir: PathBuf,
}

const STATE: &str = "last-cosigned.note";

fn write_durably(dir: &Path, name: &str, contents: &str) -> Result<(), WitnessError> {
    let err = |e: std::io::Error| WitnessError::State(format!("{}: {e}", dir.join(name).display()));
    let tmp = dir.join(format!("{name}.tmp"));
    let mut f = File::create(&tmp).map_err(err)?;
    f.write_all(contents.as_bytes()).map_err(err)?;
    f.sync_all().map_err(err)?;
    std::fs::rename(&tmp, dir.join(name)).map_err(err)?;
    File::open(dir).and_then(|d| d.sync_all()).map_err(err)?;
    Ok(())
}

impl Witness {
    /// A witness of the board whose key is `board`, cosigning with `cosigner`, keeping
    /// its state in `state_dir`.
    pub fn new(
        board: NoteVerifier,
        cosigner: Cosigner,
        state_dir: &Path,
    ) -> Result<Self, WitnessError> {
        std::fs::create_dir_all(state_dir).map_err(|e| WitnessError::State(e.to_string()))?;
        Ok(Self {
            board,
            cosigner,
            state_dir: state_dir.to_owned(),
        })
    }

    /// The last checkpoint this witness cosigned.
    pub fn last_cosigned(&self) -> Result<Option<Checkpoint>, WitnessError> {
        let path = self.state_dir.join(STATE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(WitnessError::State(format!("{}: {e}", path.display()))),
        };
        let note = Note::parse(text.as_bytes()).map_err(|e| WitnessError::State(e.to_string()))?;
        Checkpoint::open(&note, &self.board)
            .map(Some)
            .map_err(|e| WitnessError::State(e.to_string()))
    }

    fn fork(
        &self,
        detail: String,
        old: &Checkpoint,
        new_note: &str,
        proof: &[Hash],
    ) -> WitnessError {
        let stamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let name = format!("fork-evidence-{stamp}.txt");
        let proof_lines: Vec<String> = proof.iter().map(Hash::to_hex).collect();
        let evidence = format!(
            "{detail}\n\n# last cosigned checkpoint\n{}\n# checkpoint refused (signed note)\n{new_note}\n# consistency proof offered\n{}\n",
            old.to_text(),
            proof_lines.join("\n")
        );
        match write_durably(&self.state_dir, &name, &evidence) {
            Ok(()) => WitnessError::Fork {
                detail,
                evidence: self.state_dir.join(name),
            },
            Err(e) => e,
        }
    }

    /// Checks `note_text` against the last cosigned checkpoint (fetching a consistency
    /// proof from `source` if the tree grew) and returns the cosignature line. The new
    /// state is durable before the line exists.
    pub fn cosign(
        &self,
        note_text: &str,
        source: &mut dyn BoardSource,
        now: u64,
    ) -> Result<Option<NoteSignature>, WitnessError> {
        let note = Note::parse(note_text.as_bytes())
            .map_err(|e| WitnessError::BadCheckpoint(e.to_string()))?;
        let new = Checkpoint::open(&note, &self.board)
            .map_err(|e| WitnessError::BadCheckpoint(e.to_string()))?;
        if let Some(old) = self.last_cosigned()? {
            if new.size < old.size {
                return Err(self.fork(
                    format!("the board went back from size {} to {}", old.size, new.size),
                    &old,
                    note_text,
                    &[],
                ));
            }
            if new.size == old.size {
                if new.root != old.root {
                    return Err(self.fork(
                        format!("two different roots at size {}", new.size),
                        &old,
                        note_text,
                        &[],
                    ));
                }
                return Ok(None);
            }
            let proof = source
                .consistency(old.size, new.size)
                .map_err(WitnessError::Board)?;
            if let Err(e) = verify_consistency(old.size, new.size, &old.root, &new.root, &proof) {
                return Err(self.fork(
                    format!(
                        "no consistency between size {} and {}: {e}",
                        old.size, new.size
                    ),
                    &old,
                    note_text,
                    &proof,
                ));
            }
        }
        // Only the board's own signature goes into the state file.
        let mut state_note =
            Note::new(note.text()).map_err(|e| WitnessError::State(e.to_string()))?;
        for s in note
            .signatures()
            .iter()
            .filter(|s| s.name == self.board.name() && s.key_id == self.board.key_id())
        {
            state_note.add_signature(s.clone());
        }
        write_durably(&self.state_dir, STATE, &state_note.to_text())?;
        Ok(Some(self.cosigner.cosign(note.text(), now)))
    }

    /// One round: fetch the latest checkpoint, check it, cosign it, hand it back.
    pub fn step(&self, source: &mut dyn BoardSource) -> Result<Outcome, WitnessError> {
        let note_text = source.checkpoint().map_err(WitnessError::Board)?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        match self.cosign(&note_text, source, now)? {
            Some(line) => {
                let mut note = Note::parse(note_text.as_bytes())
                    .map_err(|e| WitnessError::BadCheckpoint(e.to_string()))?;
                let size = Checkpoint::parse(note.text()).map_or(0, |c| c.size);
                note.add_signature(line);
                source
                    .submit_cosignature(&note.to_text())
                    .map_err(WitnessError::Board)?;
                Ok(Outcome::Cosigned(size))
            }
            None => Ok(Outcome::Unchanged(
                self.last_cosigned()?.map_or(0, |c| c.size),
            )),
        }
    }
}
