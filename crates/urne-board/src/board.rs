//! The board: checks, durable append, checkpoints, cosignatures (spec/12-records.md).

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::path::Path;
use std::sync::{Arc, Mutex};

use urne_log::note::{CosignatureVerifier, Note, NoteSigner};
use urne_log::{Checkpoint, Hash};
use urne_store::{IndexEntry, OpenReport, Store, StoreError, StoreOptions};
use zeroize::Zeroizing;

use crate::error::Rejection;
use crate::kinds::{CONTEXT_OPEN, CONTEXT_PHASE, ContextOpen, ContextState, Poster, Registry};
use crate::record::{ContextId, Phase, Record};

const CONTEXTS: &str = "contexts";
const PHASES: &str = "context-phases";
/// Signed checkpoints kept for cosigning.
const RECENT_CHECKPOINTS: usize = 16;

/// How a board is set up.
pub struct BoardConfig {
    /// The log's origin and the board key's name (`board.example/urne`).
    pub origin: String,
    /// The board's Ed25519 signing seed.
    pub signing_seed: Zeroizing<[u8; 32]>,
    /// Keys allowed to open contexts.
    pub authorities: Vec<[u8; 32]>,
    /// Witnesses whose cosignatures the board gathers.
    pub witnesses: Vec<CosignatureVerifier>,
}

/// What the board answers for an accepted record: durable at `index`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Receipt {
    /// Its index in the log.
    pub index: u64,
    /// Its leaf hash.
    pub hash: Hash,
}

struct State {
    contexts: BTreeMap<ContextId, ContextState>,
    /// Hashes queued but perhaps not yet indexed, so a concurrent duplicate is caught.
    pending: HashSet<Hash>,
}

/// The bulletin board.
pub struct Board {
    store: Store,
    registry: Registry,
    state: Mutex<State>,
    signer: NoteSigner,
    origin: String,
    authorities: Vec<[u8; 32]>,
    witnesses: Vec<CosignatureVerifier>,
    /// Recent signed checkpoints (size, note with cosignatures), oldest first.
    recent: Mutex<VecDeque<(u64, Note)>>,
}

/// Why a board could not be opened.
#[derive(Debug)]
pub enum BoardError {
    /// Storage refused (damage, a contradicting checkpoint, a lock…).
    Store(StoreError),
    /// Configuration is wrong.
    Config(String),
}

impl core::fmt::Display for BoardError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Store(e) => write!(f, "storage: {e}"),
            Self::Config(e) => write!(f, "configuration: {e}"),
        }
    }
}

impl std::error::Error for BoardError {}

impl From<StoreError> for BoardError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

/// The index keys of a record: a pure function of its bytes, so the board's state can
/// be rebuilt from the log alone.
fn index_keys(index: u64, bytes: &[u8]) -> Vec<IndexEntry> {
    let Ok(record) = Record::parse(bytes.to_vec()) else {
        return Vec::new();
    };
    let value = index.to_be_bytes().to_vec();
    match record.kind() {
        k if k == CONTEXT_OPEN => vec![IndexEntry {
            tree: CONTEXTS,
            key: record.context().0.to_vec(),
            value,
        }],
        k if k == CONTEXT_PHASE => match record.body() {
            [code] => {
                let mut key = record.context().0.to_vec();
                key.push(*code);
                vec![IndexEntry {
                    tree: PHASES,
                    key,
                    value,
                }]
            }
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// The store options a board's data directory is always opened with (the board's index
/// keys under schema `urne-board/v1`): tools that open the store directly use these.
pub fn store_options() -> StoreOptions {
    StoreOptions {
        index_keys: Some(Arc::new(index_keys)),
        index_schema: "urne-board/v1".to_owned(),
        ..StoreOptions::default()
    }
}

fn rebuild_contexts(store: &Store) -> Result<BTreeMap<ContextId, ContextState>, BoardError> {
    let mut contexts = BTreeMap::new();
    for (key, value) in store.index_scan(CONTEXTS, &[])? {
        let bad = |what: &str| {
            BoardError::Config(format!("index entry for a context is damaged: {what}"))
        };
        let id = ContextId(key.as_slice().try_into().map_err(|_| bad("key"))?);
        let index = u64::from_be_bytes(value.as_slice().try_into().map_err(|_| bad("value"))?);
        let record = Record::parse(store.entry(index)?).map_err(|e| bad(&e.to_string()))?;
        let open = ContextOpen::parse(record.body()).map_err(|e| bad(&e.to_string()))?;
        let mut phase = Phase::Setup;
        for (k, _) in store.index_scan(PHASES, &id.0)? {
            if let Some(found) = k.last().and_then(|c| Phase::from_code(*c)) {
                phase = phase.max(found);
            }
        }
        contexts.insert(
            id,
            ContextState {
                id,
                name: open.name,
                authority: *record.signer(),
                phase,
                opened_at: index,
            },
        );
    }
    Ok(contexts)
}

impl Board {
    /// Opens the board's data directory, recovering storage and rebuilding state.
    pub fn open(
        dir: &Path,
        config: BoardConfig,
        registry: Registry,
    ) -> Result<(Self, OpenReport), BoardError> {
        let signer = NoteSigner::from_seed(&config.origin, &config.signing_seed)
            .map_err(|e| BoardError::Config(format!("origin: {e}")))?;
        let (store, report) = Store::open(dir, store_options())?;
        let mut recent = VecDeque::new();
        if let Some(text) = store.checkpoint() {
            let note =
                Note::parse(text.as_bytes()).map_err(|e| BoardError::Config(e.to_string()))?;
            let checkpoint = Checkpoint::open(&note, &signer.verifier()).map_err(|e| {
                BoardError::Config(format!(
                    "the saved checkpoint is not this board's ({e}); wrong key or origin?"
                ))
            })?;
            recent.push_back((checkpoint.size, note));
        }
        let contexts = rebuild_contexts(&store)?;
        let board = Self {
            store,
            registry,
            state: Mutex::new(State {
                contexts,
                pending: HashSet::new(),
            }),
            signer,
            origin: config.origin,
            authorities: config.authorities,
            witnesses: config.witnesses,
            recent: Mutex::new(recent),
        };
        Ok((board, report))
    }

    /// The storage below.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The kind registry.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The origin (and board key name).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The board's verifier key, as a vkey.
    pub fn vkey(&self) -> String {
        self.signer.verifier().to_vkey()
    }

    /// Known witnesses.
    pub fn witnesses(&self) -> &[CosignatureVerifier] {
        &self.witnesses
    }

    /// Open contexts.
    pub fn contexts(&self) -> Vec<ContextState> {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contexts
            .values()
            .cloned()
            .collect()
    }

    /// Checks a record and appends it durably. Stateless checks (size, envelope,
    /// signature) run first and unlocked; the stateful ones (context, phase, poster,
    /// duplicate, body) run under the board's lock together with queueing the append,
    /// so that records are judged in the order they are stored. The answer comes once
    /// the record is durable.
    pub fn submit(&self, bytes: Vec<u8>) -> Result<Receipt, Rejection> {
        if bytes.len() > urne_store::MAX_RECORD_BYTES {
            return Err(Rejection::too_large(bytes.len()));
        }
        let record = Record::parse(bytes)?;
        let spec = self
            .registry
            .get(record.kind())
            .ok_or_else(|| Rejection::unknown_kind(record.kind().0))?;
        record.verify_signature()?;
        let hash = record.hash();

        let pending = {
            let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            if state.pending.contains(&hash) {
                return Err(Rejection::duplicate(None));
            }
            if let Some(index) = self
                .store
                .index_of(&hash)
                .map_err(|e| Rejection::storage(e.to_string()))?
            {
                return Err(Rejection::duplicate(Some(index)));
            }
            let id = record.context();
            let context = state.contexts.get(&id);
            if spec.phases.is_empty() {
                if context.is_some() {
                    return Err(Rejection::context_exists(&id.to_hex()));
                }
            } else {
                let context = context.ok_or_else(|| Rejection::unknown_context(&id.to_hex()))?;
                if !spec.phases.contains(&context.phase) {
                    return Err(Rejection::wrong_phase(spec.name, context.phase.name()));
                }
            }
            match spec.poster {
                Poster::BoardAuthority if !self.authorities.contains(record.signer()) => {
                    return Err(Rejection::not_authorized(format!(
                        "{} records must be signed by one of the board's authorities",
                        spec.name
                    )));
                }
                Poster::ContextAuthority
                    if context.map(|c| &c.authority) != Some(record.signer()) =>
                {
                    return Err(Rejection::not_authorized(format!(
                        "{} records must be signed by the context's authority",
                        spec.name
                    )));
                }
                _ => {}
            }
            spec.validator.validate(&record, context)?;

            let opened = (record.kind() == CONTEXT_OPEN).then(|| ContextOpen::parse(record.body()));
            let phase = (record.kind() == CONTEXT_PHASE)
                .then(|| record.body().first().and_then(|c| Phase::from_code(*c)));
            let signer = *record.signer();
            let size_before = self.store.size();
            let pending = self
                .store
                .enqueue(record.into_bytes())
                .map_err(|e| Rejection::storage(e.to_string()))?;
            state.pending.insert(hash);
            // The state moves on now, for the records queued after this one; if the
            // append fails the store is fail-stop and accepts nothing more.
            if let Some(Ok(open)) = opened {
                state.contexts.insert(
                    id,
                    ContextState {
                        id,
                        name: open.name,
                        authority: signer,
                        phase: Phase::Setup,
                        opened_at: size_before,
                    },
                );
            }
            if let (Some(Some(p)), Some(c)) = (phase, state.contexts.get_mut(&id)) {
                c.phase = p;
            }
            pending
        };
        let result = pending.wait();
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pending
            .remove(&hash);
        let index = result.map_err(|e| Rejection::storage(e.to_string()))?;
        Ok(Receipt { index, hash })
    }

    /// Signs a checkpoint over every durable entry (or returns the latest if nothing
    /// was added since), saves it durably, and keeps it for cosigning.
    pub fn sign_checkpoint(&self) -> Result<String, StoreError> {
        let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        let size = self.store.size();
        if let Some((latest_size, latest)) = recent.back()
            && *latest_size == size
        {
            return Ok(latest.to_text());
        }
        let checkpoint = Checkpoint {
            origin: self.origin.clone(),
            size,
            root: self.store.verified_root(size)?,
            extensions: Vec::new(),
        };
        let mut note = Note::new(&checkpoint.to_text())
            .map_err(|e| StoreError::BadCheckpoint(e.to_string()))?;
        self.signer.sign(&mut note);
        self.store.save_checkpoint(&note.to_text())?;
        recent.push_back((size, note.clone()));
        while recent.len() > RECENT_CHECKPOINTS {
            recent.pop_front();
        }
        Ok(note.to_text())
    }

    /// The latest signed checkpoint with the cosignatures gathered for it.
    pub fn checkpoint(&self) -> Option<String> {
        self.recent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .back()
            .map(|(_, note)| note.to_text())
    }

    /// The tree size of the latest signed checkpoint.
    pub fn checkpoint_size(&self) -> Option<u64> {
        self.recent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .back()
            .map(|(size, _)| *size)
    }

    /// The newest signed checkpoint cosigned by at least `quorum` known witnesses.
    pub fn cosigned_checkpoint(&self, quorum: usize) -> Option<String> {
        let recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        recent
            .iter()
            .rev()
            .find(|(_, note)| urne_log::note::count_cosignatures(note, &self.witnesses) >= quorum)
            .map(|(_, note)| note.to_text())
    }

    /// Takes a checkpoint note carrying witness cosignatures; keeps those by known
    /// witnesses that verify on one of the recent checkpoints. Returns how many were new.
    pub fn add_cosignatures(&self, note_text: &str) -> Result<usize, Rejection> {
        let note = Note::parse(note_text.as_bytes())
            .map_err(|e| Rejection::malformed("note", e.to_string()))?;
        let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        let position = recent
            .iter()
            .position(|(_, n)| n.text() == note.text())
            .ok_or_else(|| {
                Rejection::invalid_body("checkpoint", "not one of this board's recent checkpoints")
            })?;
        let mut added = 0;
        for line in note.signatures() {
            let Some(witness) = self
                .witnesses
                .iter()
                .find(|w| w.name() == line.name && w.key_id() == line.key_id)
            else {
                continue;
            };
            witness.verify_line(note.text(), line).map_err(|_| {
                Rejection::bad_signature(
                    "cosignature",
                    format!("cosignature by {} does not verify", line.name),
                )
            })?;
            let target = &mut recent[position].1;
            if !target.signatures().contains(line) {
                target.add_signature(line.clone());
                added += 1;
            }
        }
        if added == 0
            && !note
                .signatures()
                .iter()
                .any(|l| self.witnesses.iter().any(|w| w.name() == l.name))
        {
            return Err(Rejection::not_authorized(
                "no cosignature by a witness this board knows",
            ));
        }
        if position + 1 == recent.len() && added > 0 {
            self.store
                .save_checkpoint(&recent[position].1.to_text())
                .map_err(|e| Rejection::storage(e.to_string()))?;
        }
        Ok(added)
    }
}
