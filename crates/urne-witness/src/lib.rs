//! A witness (spec/10-log.md §10.3, spec/14-witness.md).
//!
//! What it is for: defeating split views. A witness cosigns a board's checkpoint only
//! after verifying the board's signature and a consistency proof from the last
//! checkpoint it cosigned, and only after recording the new one durably — so that,
//! whatever happens, it never cosigns two checkpoints that are not consistent with each
//! other. Shown a fork (another root at a size it cosigned, a smaller tree, or a proof
//! that fails), it refuses and keeps the evidence. It follows a board either by pulling
//! (`step`) or by answering the C2SP tlog-witness `add-checkpoint` push
//! (`add_checkpoint`, served over HTTP by [`serve`]).
//!
//! What it must never do: cosign before its state is durable, forget a checkpoint it
//! cosigned, trust a checkpoint without the board's signature, or let two processes (or
//! two requests) decide on one state at once.

#![deny(unsafe_code)]

pub mod serve;

use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};
use urne_log::note::{Cosigner, Note, NoteSignature, NoteVerifier};
use urne_log::witness_protocol::{self, SIZE_CONTENT_TYPE};
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

/// A board over HTTP(S), through the client the CLI, the tests and the verifier share
/// (spec/15 §15.2): its errors name the URL and the board's error code.
impl BoardSource for urne_client::BoardClient {
    fn checkpoint(&mut self) -> Result<String, String> {
        self.checkpoint_text().map_err(|e| e.to_string())
    }

    fn consistency(&mut self, first: u64, second: u64) -> Result<Vec<Hash>, String> {
        self.consistency_proof(first, second)
            .map_err(|e| e.to_string())
    }

    fn submit_cosignature(&mut self, note: &str) -> Result<(), String> {
        self.post_cosignature(note).map_err(|e| e.to_string())
    }
}

/// What one step of the witness did.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Cosigned this checkpoint (size).
    Cosigned(u64),
    /// Nothing new since the last cosigned checkpoint.
    Unchanged(u64),
}

/// What kind of fork a refused checkpoint shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForkKind {
    /// A smaller tree than the one cosigned.
    Rollback,
    /// Another root at the size cosigned.
    RootMismatch,
    /// A larger tree with no valid consistency proof from the size cosigned.
    Inconsistent,
}

/// Why a witness refused.
#[derive(Debug)]
#[non_exhaustive]
pub enum WitnessError {
    /// The board could not be reached or answered nonsense.
    Board(String),
    /// The checkpoint is not validly signed by the board.
    BadCheckpoint(String),
    /// A fork: evidence was written to this file.
    Fork {
        /// Which kind.
        kind: ForkKind,
        /// What the fork is.
        detail: String,
        /// The evidence file.
        evidence: PathBuf,
    },
    /// A push named another old size than the witness's latest cosigned one.
    OldSizeMismatch {
        /// The size of the latest checkpoint the witness cosigned (0 if none).
        witness_size: u64,
    },
    /// A push request that breaks the protocol's rules.
    Malformed(String),
    /// Another witness process (or instance) holds this state directory.
    Locked(PathBuf),
    /// The witness's own state could not be read or written.
    State(String),
}

impl std::fmt::Display for WitnessError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Board(e) => write!(f, "board: {e}"),
            Self::BadCheckpoint(e) => write!(f, "checkpoint refused: {e}"),
            Self::Fork {
                detail, evidence, ..
            } => {
                write!(
                    f,
                    "FORK: {detail}; refused to cosign, evidence in {}",
                    evidence.display()
                )
            }
            Self::OldSizeMismatch { witness_size } => write!(
                f,
                "the old size does not match the witness's latest cosigned size {witness_size}"
            ),
            Self::Malformed(e) => write!(f, "malformed request: {e}"),
            Self::Locked(path) => write!(
                f,
                "another witness is running on this state directory (lock {} is held); \
                 two witnesses on one state could cosign both sides of a fork",
                path.display()
            ),
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
    /// Holds the exclusive flock on `witness.lock` for the witness's lifetime; the lock
    /// goes with the descriptor when the witness is dropped (or the process dies).
    _lock: File,
    /// Check-then-persist is one atomic step (the race in c2sp.org/tlog-witness): every
    /// decision holds this, across reading the state, checking and writing it.
    decisions: Mutex<()>,
}

/// The last cosigned checkpoint, as a note with the board's signature only.
pub const STATE_FILE: &str = "last-cosigned.note";
/// The lock file held for the witness's lifetime.
pub const LOCK_FILE: &str = "witness.lock";

/// Replaces `dir/name` durably and atomically (urne-fsutil: temporary file, fsync,
/// rename, fsync the directory): after a power cut the state is the old note or the new.
fn write_durably(dir: &Path, name: &str, contents: &str) -> Result<(), WitnessError> {
    let path = dir.join(name);
    urne_fsutil::replace(&path, contents.as_bytes(), 0o644)
        .map_err(|e| WitnessError::State(format!("{}: {e}", path.display())))
}

/// Where the proof of a new, larger checkpoint comes from.
enum ProofFrom<'a> {
    /// Pull: ask the board for one from the size last cosigned.
    Board(&'a mut dyn BoardSource),
    /// Push: the request's, from the old size it names.
    Request { old_size: u64, proof: &'a [Hash] },
}

/// The answer to an HTTP request, as a status, a content type and a body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpAnswer {
    /// HTTP status code.
    pub status: u16,
    /// Content-Type of the body.
    pub content_type: &'static str,
    /// The body.
    pub body: String,
}

impl HttpAnswer {
    pub(crate) fn text(status: u16, body: impl Into<String>) -> Self {
        let mut body = body.into();
        if !body.ends_with('\n') {
            body.push('\n');
        }
        Self {
            status,
            content_type: "text/plain; charset=utf-8",
            body,
        }
    }
}

impl Witness {
    /// A witness of the board whose key is `board`, cosigning with `cosigner`, keeping
    /// its state in `state_dir`. Takes an exclusive lock on the directory for the
    /// witness's lifetime: a second witness on the same directory fails here with
    /// [`WitnessError::Locked`].
    pub fn new(
        board: NoteVerifier,
        cosigner: Cosigner,
        state_dir: &Path,
    ) -> Result<Self, WitnessError> {
        let state =
            |e: std::io::Error| WitnessError::State(format!("{}: {e}", state_dir.display()));
        std::fs::create_dir_all(state_dir).map_err(state)?;
        let lock_path = state_dir.join(LOCK_FILE);
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(state)?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Err(WitnessError::Locked(lock_path)),
            Err(TryLockError::Error(e)) => return Err(state(e)),
        }
        Ok(Self {
            board,
            cosigner,
            state_dir: state_dir.to_owned(),
            _lock: lock,
            decisions: Mutex::new(()),
        })
    }

    /// The board key this witness trusts.
    pub fn board(&self) -> &NoteVerifier {
        &self.board
    }

    /// The witness's cosigning key.
    pub fn cosigner(&self) -> &Cosigner {
        &self.cosigner
    }

    /// The last checkpoint this witness cosigned, read from disk (never from memory:
    /// the state file is the one truth).
    pub fn last_cosigned(&self) -> Result<Option<Checkpoint>, WitnessError> {
        Ok(self.read_state()?.map(|(_, checkpoint)| checkpoint))
    }

    fn read_state(&self) -> Result<Option<(String, Checkpoint)>, WitnessError> {
        let path = self.state_dir.join(STATE_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(WitnessError::State(format!("{}: {e}", path.display()))),
        };
        let bad = |e: String| WitnessError::State(format!("{}: {e}", path.display()));
        let note = Note::parse(text.as_bytes()).map_err(|e| bad(e.to_string()))?;
        let checkpoint = Checkpoint::open(&note, &self.board).map_err(|e| bad(e.to_string()))?;
        Ok(Some((text, checkpoint)))
    }

    /// Keeps the evidence of a refused checkpoint in
    /// `fork-evidence-<hex of SHA-256(refused note)[:16]>.txt`: one file per refused
    /// note, written once, so that replaying a public checkpoint with bad proofs cannot
    /// fill the disk.
    fn fork(
        &self,
        kind: ForkKind,
        detail: String,
        old_note: &str,
        new_note: &str,
        proof: &[Hash],
    ) -> WitnessError {
        let digest = Sha256::digest(new_note.as_bytes());
        let name = format!("fork-evidence-{}.txt", hex::encode(&digest[..16]));
        let path = self.state_dir.join(&name);
        if !path.exists() {
            let proof_lines: String = proof.iter().map(|h| format!("{}\n", h.to_hex())).collect();
            let evidence = format!(
                "{detail}\n\n# last cosigned checkpoint (signed note)\n{old_note}\n# checkpoint refused (signed note)\n{new_note}\n# consistency proof offered (hex, one hash a line)\n{proof_lines}"
            );
            if let Err(e) = write_durably(&self.state_dir, &name, &evidence) {
                return e;
            }
        }
        WitnessError::Fork {
            kind,
            detail,
            evidence: path,
        }
    }

    /// The one decision: under the lock, re-read the state, check `note` against it,
    /// persist, and only then cosign. `Ok(None)`: the checkpoint is the one last
    /// cosigned and the caller did not ask for a fresh cosignature.
    fn decide(
        &self,
        note: &Note,
        note_text: &str,
        proof_from: ProofFrom<'_>,
        cosign_unchanged: bool,
        now: u64,
    ) -> Result<Option<NoteSignature>, WitnessError> {
        let new = Checkpoint::open(note, &self.board)
            .map_err(|e| WitnessError::BadCheckpoint(e.to_string()))?;
        let _decision = self.decisions.lock().unwrap_or_else(|p| p.into_inner());
        let old = self.read_state()?;
        let old_size = old.as_ref().map_or(0, |(_, c)| c.size());
        let mut proof_from = proof_from;
        if let ProofFrom::Request {
            old_size: claimed,
            proof,
        } = &proof_from
        {
            if *claimed != old_size {
                return Err(WitnessError::OldSizeMismatch {
                    witness_size: old_size,
                });
            }
            if *claimed == 0 && !proof.is_empty() {
                return Err(WitnessError::Malformed(
                    "a proof from old size 0 must be empty".into(),
                ));
            }
        }
        if let Some((old_note, old)) = &old {
            if new.size() < old.size() {
                return Err(self.fork(
                    ForkKind::Rollback,
                    format!(
                        "the board went back from size {} to {}",
                        old.size(),
                        new.size()
                    ),
                    old_note,
                    note_text,
                    &[],
                ));
            }
            if new.size() == old.size() {
                if new.root() != old.root() {
                    return Err(self.fork(
                        ForkKind::RootMismatch,
                        format!("two different roots at size {}", new.size()),
                        old_note,
                        note_text,
                        &[],
                    ));
                }
                return Ok(cosign_unchanged.then(|| self.cosigner.cosign(note.text(), now)));
            }
            let fetched;
            let proof: &[Hash] = match &mut proof_from {
                ProofFrom::Board(source) => {
                    fetched = source
                        .consistency(old.size(), new.size())
                        .map_err(WitnessError::Board)?;
                    &fetched
                }
                ProofFrom::Request { proof, .. } => proof,
            };
            if let Err(e) =
                verify_consistency(old.size(), new.size(), old.root(), new.root(), proof)
            {
                return Err(self.fork(
                    ForkKind::Inconsistent,
                    format!(
                        "no consistency between size {} and {}: {e}",
                        old.size(),
                        new.size()
                    ),
                    old_note,
                    note_text,
                    proof,
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
        write_durably(&self.state_dir, STATE_FILE, &state_note.to_text())?;
        Ok(Some(self.cosigner.cosign(note.text(), now)))
    }

    /// Checks `note_text` against the last cosigned checkpoint (fetching a consistency
    /// proof from `source` if the tree grew) and returns the cosignature line, or None
    /// if it is the checkpoint last cosigned. The new state is durable before the line
    /// exists.
    pub fn cosign(
        &self,
        note_text: &str,
        source: &mut dyn BoardSource,
        now: u64,
    ) -> Result<Option<NoteSignature>, WitnessError> {
        let note = Note::parse(note_text.as_bytes())
            .map_err(|e| WitnessError::BadCheckpoint(e.to_string()))?;
        self.decide(&note, note_text, ProofFrom::Board(source), false, now)
    }

    /// One round: fetch the latest checkpoint, check it, cosign it, hand it back.
    pub fn step(&self, source: &mut dyn BoardSource) -> Result<Outcome, WitnessError> {
        let note_text = source.checkpoint().map_err(WitnessError::Board)?;
        let now = unix_seconds();
        match self.cosign(&note_text, source, now)? {
            Some(line) => {
                let mut note = Note::parse(note_text.as_bytes())
                    .map_err(|e| WitnessError::BadCheckpoint(e.to_string()))?;
                let size = Checkpoint::parse(note.text()).map_or(0, |c| c.size());
                note.add_signature(line);
                source
                    .submit_cosignature(&note.to_text())
                    .map_err(WitnessError::Board)?;
                Ok(Outcome::Cosigned(size))
            }
            None => Ok(Outcome::Unchanged(
                self.last_cosigned()?.map_or(0, |c| c.size()),
            )),
        }
    }

    /// Answers a C2SP tlog-witness `add-checkpoint` request body (spec/14-witness.md
    /// §14.2): 200 with the cosignature line; 400 malformed; 404 another log's origin;
    /// 403 no valid signature by the board; 409 (body: the witness's size, as
    /// `text/x.tlog.size`) when the old size is not the witness's or the root differs at
    /// the same size; 422 when the consistency proof fails; 500 when the state cannot be
    /// read or written.
    pub fn add_checkpoint(&self, body: &[u8], now: u64) -> HttpAnswer {
        let request = match witness_protocol::parse_request(body) {
            Ok(r) => r,
            Err(e) => return HttpAnswer::text(400, format!("malformed request: {e}")),
        };
        let checkpoint = match Checkpoint::parse(request.checkpoint.text()) {
            Ok(c) => c,
            Err(e) => return HttpAnswer::text(400, format!("malformed checkpoint: {e}")),
        };
        if checkpoint.origin() != self.board.name() {
            return HttpAnswer::text(
                404,
                format!("unknown log: this witness follows {}", self.board.name()),
            );
        }
        if let Err(e) = self.board.verify(&request.checkpoint) {
            return HttpAnswer::text(403, format!("checkpoint not signed by the log key: {e}"));
        }
        if request.old_size > checkpoint.size() {
            return HttpAnswer::text(
                400,
                format!(
                    "old size {} exceeds the checkpoint size {}",
                    request.old_size,
                    checkpoint.size()
                ),
            );
        }
        let note_text = request.checkpoint.to_text();
        let decided = self.decide(
            &request.checkpoint,
            &note_text,
            ProofFrom::Request {
                old_size: request.old_size,
                proof: &request.proof,
            },
            true,
            now,
        );
        let size_answer = |witness_size: u64| HttpAnswer {
            status: 409,
            content_type: SIZE_CONTENT_TYPE,
            body: witness_protocol::encode_size(witness_size),
        };
        match decided {
            Ok(Some(line)) => HttpAnswer::text(200, line.to_line()),
            Ok(None) => HttpAnswer::text(500, "no cosignature was made"),
            Err(WitnessError::OldSizeMismatch { witness_size }) => size_answer(witness_size),
            Err(WitnessError::Fork {
                kind: ForkKind::RootMismatch | ForkKind::Rollback,
                ..
            }) => size_answer(request.old_size), // equal to the witness's size here
            Err(e @ WitnessError::Fork { .. }) => HttpAnswer::text(422, e.to_string()),
            Err(WitnessError::Malformed(e)) => HttpAnswer::text(400, e),
            Err(WitnessError::BadCheckpoint(e)) => HttpAnswer::text(403, e),
            Err(e) => HttpAnswer::text(500, e.to_string()),
        }
    }
}

/// Seconds since the Unix epoch (0 if the clock is before it).
pub fn unix_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
