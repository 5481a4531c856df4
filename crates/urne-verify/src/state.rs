//! The state an incremental run keeps (spec/51 §51.4, spec/50 §50.6): the log a run
//! verified, bound to the board key it was verified under, to the checkpoint (size and
//! root) it covers, and to the run's trust anchors, and sealed by a hash over all of it.
//!
//! Why bound: the next run skips the signatures and ballot proofs of the entries the
//! state holds. A state file made under another board key or other anchors (fewer
//! witnesses, another pinned election), or altered since, must not lend that trust to
//! a run that did not earn it: such a file is refused, by name.

use sha2::{Digest, Sha256};
use urne_log::note::{Note, NoteVerifier};
use urne_log::{Checkpoint, Hash, leaf_hash};

use crate::archive::Archive;
use crate::report::Report;
use crate::verify::Options;

/// The first bytes of every state file.
pub const STATE_MAGIC: &[u8; 20] = b"urne-verify-state/1\n";
/// Label of the hash of a run's trust anchors.
const OPTIONS_LABEL: &[u8] = b"urne/v1/verify-state/options\n";
/// Label of the seal over the whole file.
const SEAL_LABEL: &[u8] = b"urne/v1/verify-state/seal\n";

/// Why a state file is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// Not a state file of version 1, or its layout is broken.
    #[error("state file, {field}: {detail}")]
    Format {
        /// The field (spec/51 §51.4 names).
        field: String,
        /// What is wrong.
        detail: String,
    },
    /// Bytes changed since it was written: its seal, or its checkpoint, size or root
    /// against its entries.
    #[error("state file altered: {0}")]
    Altered(String),
    /// Written under another board key than this run's.
    #[error("state file made for another board: its key is {state:?}, this run's {run:?}")]
    OtherBoard {
        /// The state's key.
        state: String,
        /// This run's.
        run: String,
    },
    /// Written by a run with other trust anchors (witnesses, quorum, pins).
    #[error(
        "state file made by a run with other trust anchors (witnesses, quorum, pinned elections or authorities, trusted archive key): verify from the start, without it"
    )]
    OtherOptions,
}

fn format(field: &str, detail: impl Into<String>) -> StateError {
    StateError::Format {
        field: field.to_owned(),
        detail: detail.into(),
    }
}

/// SHA-256 over the trust anchors of a run (spec/51 §51.4), under the board key it ran
/// with. Lists are sorted: their order means nothing.
pub fn options_hash(options: &Options, board_key: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(OPTIONS_LABEL);
    let item = |h: &mut Sha256, bytes: &[u8]| {
        h.update((bytes.len() as u32).to_be_bytes());
        h.update(bytes);
    };
    item(&mut h, board_key.trim().as_bytes());
    h.update([u8::from(options.trust_archive_key)]);
    let mut witnesses: Vec<String> = options.witnesses.iter().map(|w| w.to_vkey()).collect();
    witnesses.sort();
    h.update((witnesses.len() as u32).to_be_bytes());
    for w in &witnesses {
        item(&mut h, w.as_bytes());
    }
    h.update((options.quorum() as u64).to_be_bytes());
    let mut elections: Vec<[u8; 32]> = options.elections.iter().map(|e| e.0).collect();
    elections.sort();
    h.update((elections.len() as u32).to_be_bytes());
    for e in &elections {
        h.update(e);
    }
    let mut authorities = options.authorities.clone();
    authorities.sort();
    h.update((authorities.len() as u32).to_be_bytes());
    for a in &authorities {
        h.update(a);
    }
    h.finalize().into()
}

/// What a passed run verified, for the next run to start from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedState {
    /// The anchors' hash ([`options_hash`]).
    pub options: [u8; 32],
    /// The entries covered.
    pub size: u64,
    /// Their root.
    pub root: Hash,
    /// The log: the board key, its one checkpoint (of `size` entries, root `root`), the
    /// entries.
    pub archive: Archive,
}

impl VerifiedState {
    /// The state after a run of `options` over `archive` that passed; None if it did
    /// not (only a passed run is kept, spec/50 §50.6).
    pub fn after(archive: &Archive, options: &Options, report: &Report) -> Option<Self> {
        if !report.passed {
            return None;
        }
        let board_key = report.trust.board_key.clone()?;
        let checkpoint = archive.checkpoints.last()?.clone();
        Some(Self {
            options: options_hash(options, &board_key),
            size: archive.entries.len() as u64,
            root: Hash::from_hex(&report.root)?,
            archive: Archive {
                board_vkey: board_key,
                checkpoints: vec![checkpoint],
                entries: archive.entries.clone(),
            },
        })
    }

    /// The file's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let archive = self.archive.encode();
        let mut out = Vec::with_capacity(STATE_MAGIC.len() + 120 + archive.len());
        out.extend_from_slice(STATE_MAGIC);
        out.extend_from_slice(&self.options);
        out.extend_from_slice(&self.size.to_be_bytes());
        out.extend_from_slice(&self.root.0);
        out.extend_from_slice(&(archive.len() as u64).to_be_bytes());
        out.extend_from_slice(&archive);
        let seal = seal(&out);
        out.extend_from_slice(&seal);
        out
    }

    /// Decodes a state file strictly and checks its seal.
    pub fn decode(bytes: &[u8]) -> Result<Self, StateError> {
        let header = STATE_MAGIC.len() + 32 + 8 + 32 + 8;
        if bytes.len() < header + 32 {
            return Err(format("magic", "too short for a state file"));
        }
        if &bytes[..STATE_MAGIC.len()] != STATE_MAGIC {
            return Err(format(
                "magic",
                "not an urne verify state file of version 1",
            ));
        }
        let (body, sealed) = bytes.split_at(bytes.len() - 32);
        if seal(body) != sealed {
            return Err(StateError::Altered(
                "its seal does not match its bytes".into(),
            ));
        }
        let mut at = STATE_MAGIC.len();
        let mut take = |n: usize| {
            let out = &body[at..at + n];
            at += n;
            out
        };
        let mut options = [0u8; 32];
        options.copy_from_slice(take(32));
        let size = u64::from_be_bytes(take(8).try_into().unwrap_or_default());
        let mut root = [0u8; 32];
        root.copy_from_slice(take(32));
        let length = u64::from_be_bytes(take(8).try_into().unwrap_or_default());
        if length != (body.len() - header) as u64 {
            return Err(format(
                "archive_length",
                format!(
                    "{length} bytes declared, {} before the seal",
                    body.len() - header
                ),
            ));
        }
        let archive =
            Archive::decode(&body[header..]).map_err(|e| format("archive", e.to_string()))?;
        Ok(Self {
            options,
            size,
            root: Hash(root),
            archive,
        })
    }

    /// Whether this state may start a run of `options` (spec/51 §51.4): made under the
    /// run's board key (or its own, when the run trusts the archive's key) and the
    /// run's anchors, its one checkpoint signed by that key over exactly its entries.
    pub fn check(&self, options: &Options) -> Result<(), StateError> {
        let key = match (&options.board_key, options.trust_archive_key) {
            (Some(k), _) => k.trim().to_owned(),
            (None, true) => self.archive.board_vkey.trim().to_owned(),
            (None, false) => {
                return Err(StateError::OtherBoard {
                    state: self.archive.board_vkey.clone(),
                    run: "none given".into(),
                });
            }
        };
        if self.archive.board_vkey.trim() != key {
            return Err(StateError::OtherBoard {
                state: self.archive.board_vkey.clone(),
                run: key,
            });
        }
        if options_hash(options, &key) != self.options {
            return Err(StateError::OtherOptions);
        }
        let [text] = self.archive.checkpoints.as_slice() else {
            return Err(StateError::Altered(format!(
                "{} checkpoints, a state holds one",
                self.archive.checkpoints.len()
            )));
        };
        let verifier = NoteVerifier::from_vkey(&key)
            .map_err(|e| StateError::Altered(format!("its board key: {e}")))?;
        let checkpoint = Note::parse(text.as_bytes())
            .map_err(|e| e.to_string())
            .and_then(|note| Checkpoint::open(&note, &verifier).map_err(|e| e.to_string()))
            .map_err(|e| StateError::Altered(format!("its checkpoint: {e}")))?;
        let leaves: Vec<Hash> = self.archive.entries.iter().map(|e| leaf_hash(e)).collect();
        let root = urne_log::hash::root_of(&leaves);
        if checkpoint.size() != self.size
            || self.size != leaves.len() as u64
            || *checkpoint.root() != self.root
            || root != self.root
        {
            return Err(StateError::Altered(format!(
                "it covers {} entries with root {}, its checkpoint {} with root {}, its entries hash to {}",
                self.size,
                self.root.to_hex(),
                checkpoint.size(),
                checkpoint.root().to_hex(),
                root.to_hex()
            )));
        }
        Ok(())
    }
}

fn seal(bytes: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(SEAL_LABEL);
    h.update(bytes);
    h.finalize().into()
}
