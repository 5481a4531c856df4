//! The board: acceptance through the pipeline, durable append, state rebuilt from the
//! log, checkpoints and cosignatures (spec/12-records.md).

use std::collections::VecDeque;
use std::path::Path;
use std::sync::mpsc::{Sender, channel, sync_channel};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use urne_log::note::{CosignatureVerifier, Note, NoteSigner};
use urne_log::{Checkpoint, Hash};
use urne_record::Record;
use urne_store::{OpenReport, Store, StoreError, StoreOptions};
use zeroize::Zeroizing;

use crate::error::Rejection;
use crate::handler::{ContextSummary, Registry};
use crate::pipeline::{self, Intake, QueueBound, Reply, ReplyTo, Sequencer, Shared};
use crate::state::BoardState;

/// Signed checkpoints kept for cosigning, at most (a bound on memory).
const MAX_RECENT_CHECKPOINTS: usize = 4096;

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
    /// How long a signed checkpoint stays open to cosignatures (spec/12 §12.6): a
    /// witness round must fit in it.
    pub cosign_window: Duration,
    /// Precheck threads (signature and proof checks); 0 = one per core.
    pub precheck_threads: usize,
    /// Most submissions taken and not yet answered; beyond it a submission is refused
    /// at once with `unavailable` (spec/12 §12.5).
    pub max_queued_records: usize,
    /// Most bytes of submissions taken and not yet answered (the same refusal).
    pub max_queued_bytes: usize,
    /// The storage scrub's pace bound, in log entries per second (0: unbounded;
    /// spec/11 §11.5).
    pub scrub_entries_per_second: u64,
}

impl BoardConfig {
    /// The default cosigning window: ten minutes.
    pub const DEFAULT_COSIGN_WINDOW: Duration = Duration::from_secs(600);
    /// The default bound on waiting submissions: about half a second of work at the
    /// board's target rate, far more than the connections a server admits at once.
    pub const DEFAULT_MAX_QUEUED_RECORDS: usize = 10_000;
    /// The default bound on the bytes of waiting submissions.
    pub const DEFAULT_MAX_QUEUED_BYTES: usize = 64 << 20;

    /// A configuration with the default cosigning window and one precheck thread per
    /// core.
    pub fn new(
        origin: impl Into<String>,
        signing_seed: Zeroizing<[u8; 32]>,
        authorities: Vec<[u8; 32]>,
        witnesses: Vec<CosignatureVerifier>,
    ) -> Self {
        Self {
            origin: origin.into(),
            signing_seed,
            authorities,
            witnesses,
            cosign_window: Self::DEFAULT_COSIGN_WINDOW,
            precheck_threads: 0,
            max_queued_records: Self::DEFAULT_MAX_QUEUED_RECORDS,
            max_queued_bytes: Self::DEFAULT_MAX_QUEUED_BYTES,
            scrub_entries_per_second: StoreOptions::DEFAULT_SCRUB_ENTRIES_PER_SECOND,
        }
    }
}

/// What the board answers for an accepted record: durable at `index`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Receipt {
    /// Its index in the log.
    pub index: u64,
    /// Its leaf hash.
    pub hash: Hash,
}

struct Recent {
    size: u64,
    signed: Instant,
    note: Note,
    /// Known witnesses whose cosignature on `note` verified: counted once, when they
    /// arrive, so that serving a quorum checkpoint verifies nothing.
    cosigners: usize,
}

/// The bulletin board.
pub struct Board {
    shared: Arc<Shared>,
    intake: Option<Sender<Intake>>,
    queue: Arc<QueueBound>,
    workers: Vec<JoinHandle<()>>,
    sequencer: Option<(Sender<pipeline::ToSequencerMsg>, JoinHandle<()>)>,
    applier: Option<JoinHandle<()>>,
    signer: NoteSigner,
    origin: String,
    witnesses: Vec<CosignatureVerifier>,
    cosign_window: Duration,
    /// Recent signed checkpoints with their cosignatures, oldest first.
    recent: Mutex<VecDeque<Recent>>,
    /// Serialises signing and saving checkpoints (held across the fsync; readers never
    /// take it).
    saving: Mutex<()>,
}

/// Why a board could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BoardError {
    /// Storage refused (damage, a contradicting checkpoint, a lock…).
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    /// Configuration is wrong.
    #[error("configuration: {0}")]
    Config(String),
    /// A record on the log does not apply to the state rebuilt before it: the log
    /// breaks this software's rules (a damaged log, or kinds this board no longer has).
    #[error(
        "record {index} does not apply to the state rebuilt from the log before it: {rejection}"
    )]
    Replay {
        /// The record's index.
        index: u64,
        /// Why.
        rejection: Rejection,
    },
    /// A thread could not be started.
    #[error("could not start the board's {0} thread")]
    Thread(&'static str),
}

/// The store options a board's data directory is always opened with: tools that open
/// the store directly (fsck) use these.
pub fn store_options() -> StoreOptions {
    StoreOptions {
        index_keys: None,
        index_schema: "urne-board/v2".to_owned(),
        ..StoreOptions::default()
    }
}

/// Rebuilds the state by applying every record of the log in order.
fn replay(store: &Store, registry: &Registry, origin: &str) -> Result<BoardState, BoardError> {
    let mut state = BoardState::new(origin);
    state.replaying = true;
    for index in 0..store.size() {
        let record = Record::parse(store.entry(index)?).map_err(|e| BoardError::Replay {
            index,
            rejection: e.into(),
        })?;
        state
            .apply(registry, &record, index)
            .map_err(|rejection| BoardError::Replay { index, rejection })?;
    }
    state.replaying = false;
    Ok(state)
}

/// A bound of 0 would refuse every submission forever, and one above what the queue
/// can count would silently mean less: both are configuration mistakes.
fn check_queue_bounds(config: &BoardConfig) -> Result<(), BoardError> {
    for (name, value, most) in [
        (
            "max_queued_records",
            config.max_queued_records,
            pipeline::MAX_QUEUED_RECORDS,
        ),
        (
            "max_queued_bytes",
            config.max_queued_bytes,
            pipeline::MAX_QUEUED_BYTES,
        ),
    ] {
        if value == 0 || value > most {
            return Err(BoardError::Config(format!(
                "{name} is {value}: it must be at least 1 and at most {most} (0 would refuse every submission)"
            )));
        }
    }
    Ok(())
}

impl Board {
    /// Opens the board's data directory: recovers storage, rebuilds the state from the
    /// log, starts the acceptance pipeline.
    pub fn open(
        dir: &Path,
        config: BoardConfig,
        registry: Registry,
    ) -> Result<(Self, OpenReport), BoardError> {
        let signer = NoteSigner::from_seed(&config.origin, &config.signing_seed)
            .map_err(|e| BoardError::Config(format!("origin: {e}")))?;
        check_queue_bounds(&config)?;
        let (store, report) = Store::open(
            dir,
            StoreOptions {
                scrub_entries_per_second: config.scrub_entries_per_second,
                ..store_options()
            },
        )?;
        let mut recent = VecDeque::new();
        if let Some(text) = store.checkpoint() {
            let note =
                Note::parse(text.as_bytes()).map_err(|e| BoardError::Config(e.to_string()))?;
            let checkpoint = Checkpoint::open(&note, &signer.verifier()).map_err(|e| {
                BoardError::Config(format!(
                    "the saved checkpoint is not this board's ({e}); wrong key or origin?"
                ))
            })?;
            let cosigners = urne_log::note::count_cosignatures(&note, &config.witnesses);
            recent.push_back(Recent {
                size: checkpoint.size(),
                signed: Instant::now(),
                note,
                cosigners,
            });
        }
        let state = replay(&store, &registry, &config.origin)?;
        let shared = Arc::new(Shared {
            sealed: state.sealed.clone(),
            store,
            registry,
            state: RwLock::new(state),
            authorities: config.authorities,
            halted: Mutex::new(None),
        });

        let (intake_tx, intake_rx) = channel::<Intake>();
        let (seq_tx, seq_rx) = channel();
        let (apply_tx, apply_rx) = channel();
        let spawn = |name: &'static str, f: Box<dyn FnOnce() + Send>| {
            std::thread::Builder::new()
                .name(format!("urne-board-{name}"))
                .spawn(f)
                .map_err(|_| BoardError::Thread(name))
        };
        let applier = {
            let (shared, seq_tx) = (shared.clone(), seq_tx.clone());
            spawn(
                "applier",
                Box::new(move || pipeline::applier(shared, apply_rx, seq_tx)),
            )?
        };
        let sequencer = {
            let shared = shared.clone();
            spawn(
                "sequencer",
                Box::new(move || Sequencer::run(shared, seq_rx, apply_tx)),
            )?
        };
        let threads = match config.precheck_threads {
            0 => std::thread::available_parallelism().map_or(2, usize::from),
            n => n,
        };
        let intake_rx = Arc::new(Mutex::new(intake_rx));
        let mut workers = Vec::with_capacity(threads);
        for _ in 0..threads {
            let (shared, intake_rx, to_sequencer) =
                (shared.clone(), intake_rx.clone(), seq_tx.clone());
            match spawn(
                "precheck",
                Box::new(move || pipeline::precheck_worker(shared, intake_rx, to_sequencer)),
            ) {
                Ok(worker) => workers.push(worker),
                Err(e) => {
                    // Stop what was started, in the order Drop does, so no thread keeps
                    // the store (and its directory lock) alive.
                    drop(intake_tx);
                    for worker in workers {
                        let _ = worker.join();
                    }
                    let _ = seq_tx.send(pipeline::stop_message());
                    drop(seq_tx);
                    let _ = sequencer.join();
                    let _ = applier.join();
                    return Err(e);
                }
            }
        }
        let board = Self {
            shared,
            intake: Some(intake_tx),
            queue: QueueBound::new(config.max_queued_records, config.max_queued_bytes),
            workers,
            sequencer: Some((seq_tx, sequencer)),
            applier: Some(applier),
            signer,
            origin: config.origin,
            witnesses: config.witnesses,
            cosign_window: config.cosign_window,
            recent: Mutex::new(recent),
            saving: Mutex::new(()),
        };
        Ok((board, report))
    }

    /// The storage below.
    pub fn store(&self) -> &Store {
        &self.shared.store
    }

    /// The kind registry.
    pub fn registry(&self) -> &Registry {
        &self.shared.registry
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

    /// Why the board stopped accepting records, if it did: a durable record did not
    /// apply to the state (a handler bug). Health checks report it.
    pub fn halted(&self) -> Option<String> {
        self.shared.halted()
    }

    /// Open contexts, by id.
    pub fn contexts(&self) -> Vec<ContextSummary> {
        let state = self.shared.state.read().unwrap_or_else(|p| p.into_inner());
        state.contexts.values().map(|c| c.summary()).collect()
    }

    /// One context.
    pub fn context(&self, id: &urne_record::ContextId) -> Option<ContextSummary> {
        let state = self.shared.state.read().unwrap_or_else(|p| p.into_inner());
        state.contexts.get(id).map(|c| c.summary())
    }

    /// Reads a context's domain state (of type `T`, its machine's) under the state lock.
    pub fn with_context_state<T: std::any::Any, R>(
        &self,
        id: &urne_record::ContextId,
        read: impl FnOnce(&T) -> R,
    ) -> Option<R> {
        let state = self.shared.state.read().unwrap_or_else(|p| p.into_inner());
        state
            .contexts
            .get(id)
            .and_then(|c| c.data.downcast_ref::<T>())
            .map(read)
    }

    /// Submissions taken and not yet answered.
    pub fn queued(&self) -> usize {
        self.queue.waiting()
    }

    fn send(&self, bytes: Vec<u8>, to: ReplyTo) {
        let place = match self.queue.enter(bytes.len()) {
            Ok(place) => place,
            Err(refusal) => return to.send(Err(refusal)),
        };
        let intake = Intake {
            bytes,
            reply: Reply::new(to, place),
        };
        match &self.intake {
            Some(sender) => {
                if let Err(returned) = sender.send(intake) {
                    returned.0.reply.send(Err(Rejection::unavailable()));
                }
            }
            None => intake.reply.send(Err(Rejection::unavailable())),
        }
    }

    /// Checks a record and appends it durably; answers once it is durable and applied
    /// (spec/12 §12.5). For async callers: never blocks the calling thread.
    pub async fn submit_async(&self, bytes: Vec<u8>) -> Result<Receipt, Rejection> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.send(bytes, ReplyTo::Async(tx));
        rx.await
            .unwrap_or_else(|_| Err(Rejection::maybe_stored("the answer was lost")))
    }

    /// Checks a record and appends it durably; blocks until it is durable and applied.
    pub fn submit(&self, bytes: Vec<u8>) -> Result<Receipt, Rejection> {
        let (tx, rx) = sync_channel(1);
        self.send(bytes, ReplyTo::Blocking(tx));
        rx.recv()
            .unwrap_or_else(|_| Err(Rejection::maybe_stored("the answer was lost")))
    }

    fn recent(&self) -> std::sync::MutexGuard<'_, VecDeque<Recent>> {
        self.recent.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Signs a checkpoint over every durable entry (or returns the latest if nothing
    /// was added since), saves it durably, and keeps it for cosigning. The list of
    /// recent checkpoints is locked only to read and to publish, never across the
    /// root computation or the fsync, so readers of `checkpoint()` never wait on a disk.
    pub fn sign_checkpoint(&self) -> Result<String, StoreError> {
        let _saving = self.saving.lock().unwrap_or_else(|p| p.into_inner());
        let size = self.shared.store.size();
        if let Some(latest) = self.recent().back()
            && latest.size == size
        {
            return Ok(latest.note.to_text());
        }
        let checkpoint = Checkpoint::new(
            &self.origin,
            size,
            self.shared.store.verified_root(size)?,
            Vec::new(),
        )
        .map_err(|e| StoreError::BadCheckpoint(e.to_string()))?;
        let mut note = Note::new(&checkpoint.to_text())
            .map_err(|e| StoreError::BadCheckpoint(e.to_string()))?;
        self.signer.sign(&mut note);
        self.shared.store.save_checkpoint(&note.to_text())?;
        let now = Instant::now();
        let mut recent = self.recent();
        recent.push_back(Recent {
            size,
            signed: now,
            note: note.clone(),
            cosigners: 0,
        });
        // Older checkpoints stay open to cosignatures for the window, the newest always.
        while recent.len() > 1
            && (recent.len() > MAX_RECENT_CHECKPOINTS
                || recent
                    .front()
                    .is_some_and(|r| now.duration_since(r.signed) > self.cosign_window))
        {
            recent.pop_front();
        }
        Ok(note.to_text())
    }

    /// The latest signed checkpoint with the cosignatures gathered for it.
    pub fn checkpoint(&self) -> Option<String> {
        self.recent().back().map(|r| r.note.to_text())
    }

    /// The tree size of the latest signed checkpoint.
    pub fn checkpoint_size(&self) -> Option<u64> {
        self.recent().back().map(|r| r.size)
    }

    /// The newest signed checkpoint cosigned by at least `quorum` known witnesses.
    pub fn cosigned_checkpoint(&self, quorum: usize) -> Option<String> {
        self.recent()
            .iter()
            .rev()
            .find(|r| r.cosigners >= quorum)
            .map(|r| r.note.to_text())
    }

    /// Takes a checkpoint note carrying witness cosignatures; keeps those by known
    /// witnesses that verify on one of the recent checkpoints. Returns how many were new.
    /// Signatures are verified, and the newest checkpoint saved, outside the lock on
    /// the recent checkpoints.
    pub fn add_cosignatures(&self, note_text: &str) -> Result<usize, Rejection> {
        let note = Note::parse(note_text.as_bytes())
            .map_err(|e| Rejection::malformed("note", e.to_string()))?;
        if !self.recent().iter().any(|r| r.note.text() == note.text()) {
            return Err(Rejection::invalid_body(
                "checkpoint",
                "not one of this board's recent checkpoints",
            ));
        }
        let mut verified = Vec::new();
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
            verified.push(line.clone());
        }
        if verified.is_empty() {
            return Err(Rejection::not_authorized(
                "no cosignature by a witness this board knows",
            ));
        }
        let _saving = self.saving.lock().unwrap_or_else(|p| p.into_inner());
        let (added, newest) = {
            let mut recent = self.recent();
            let newest_at = recent.len().saturating_sub(1);
            let Some(position) = recent.iter().position(|r| r.note.text() == note.text()) else {
                return Err(Rejection::invalid_body(
                    "checkpoint",
                    "the checkpoint left the cosigning window",
                ));
            };
            let target = &mut recent[position];
            let mut added = 0;
            for line in verified {
                if !target.note.signatures().contains(&line) {
                    target.note.add_signature(line);
                    added += 1;
                }
            }
            if added > 0 {
                target.cosigners =
                    urne_log::note::count_cosignatures(&target.note, &self.witnesses);
            }
            let newest = (position == newest_at && added > 0).then(|| target.note.to_text());
            (added, newest)
        };
        // Only the newest checkpoint is saved (the store keeps one); `saving` keeps a
        // newer checkpoint from being signed and saved meanwhile.
        if let Some(text) = newest {
            self.shared
                .store
                .save_checkpoint(&text)
                .map_err(|e| Rejection::storage(e.to_string()))?;
        }
        Ok(added)
    }
}

impl Drop for Board {
    /// Stops the pipeline in order: no new submissions; the precheck workers finish
    /// their groups; the sequencer answers what waits behind a barrier; the applier
    /// answers everything already queued for the store.
    fn drop(&mut self) {
        self.intake.take();
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
        if let Some((sender, sequencer)) = self.sequencer.take() {
            let _ = sender.send(pipeline::stop_message());
            drop(sender);
            let _ = sequencer.join();
        }
        if let Some(applier) = self.applier.take() {
            let _ = applier.join();
        }
    }
}
