//! The acceptance pipeline (spec/12-records.md §12.5): how many submissions at once
//! become durable records with few hand-offs.
//!
//! ```text
//! submit ──► precheck workers ──► sequencer ──► store writer ──► applier ──► reply
//!            (parallel: parse,     (one thread:   (group commit,   (one thread: apply
//!             signature, proofs    ordered checks, fdatasync)       in log order, then
//!             and ring signatures  reservations)                    answer the group)
//!             batched per group)
//! ```
//!
//! One thread per stage, not per request: a group commit wakes the applier once and it
//! answers every record of the group. Submitters wait on a channel (async or blocking),
//! never on a parked thread of ours.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, SyncSender, TryRecvError};
use std::sync::{Arc, Mutex, RwLock};

use urne_crypto::batch::BatchVerifier;
use urne_crypto::triptych::{self, Ring};
use urne_log::Hash;
use urne_record::kinds::CONTEXT_OPEN;
use urne_record::{ContextId, Record};
use urne_store::{Pending, Store};

use crate::board::Receipt;
use crate::error::Rejection;
use crate::handler::{
    ContextView, KindHandler, Poster, Prechecked, Registry, RingSignatureCheck, Scope, Sequencing,
    UniqueKey,
};
use crate::state::BoardState;

/// Most submissions a precheck worker takes at once (one proof batch).
const PRECHECK_GROUP: usize = 64;
/// Most ring signatures in one Triptych batch. A failing batch checks each of its
/// signatures alone to name the bad one, so one junk signature (anyone can make one, no
/// credential needed) costs the board a batch's worth of verifications alone: 16 keeps
/// that near half a second at 2^12 (spec/23 §23.13) while a batch still shares the
/// ring's multiscalar multiplication 16 ways (2.4 ms a signature at 2^12, against 30 ms
/// alone).
const RING_BATCH: usize = 16;
/// Most records the applier answers at once.
const APPLY_GROUP: usize = 4096;

/// Where an answer goes: an async task or a blocked caller.
pub(crate) enum ReplyTo {
    Async(tokio::sync::oneshot::Sender<Result<Receipt, Rejection>>),
    Blocking(SyncSender<Result<Receipt, Rejection>>),
}

impl ReplyTo {
    pub(crate) fn send(self, result: Result<Receipt, Rejection>) {
        // A submitter that went away (a closed connection) no longer needs its answer;
        // the record's fate does not depend on it.
        match self {
            Self::Async(s) => {
                let _ = s.send(result);
            }
            Self::Blocking(s) => {
                let _ = s.send(result);
            }
        }
    }
}

/// The bound on submissions taken and not yet answered (spec/12 §12.5): without it a
/// burst faster than the disk and the signature checks would queue without limit, in
/// memory, while every submitter's wait grows.
pub(crate) struct QueueBound {
    /// Submissions waiting (high bits) and their bytes (low `BYTES_BITS` bits) in one
    /// word, so one compare-and-swap checks both bounds and moves both counts together:
    /// an attempt refused by either bound never counts, even for a moment.
    waiting: AtomicU64,
    max_records: u64,
    max_bytes: u64,
}

const BYTES_BITS: u32 = 40;
const BYTES_MASK: u64 = (1 << BYTES_BITS) - 1;
const ONE_RECORD: u64 = 1 << BYTES_BITS;
/// The largest record bound the word can count.
pub(crate) const MAX_QUEUED_RECORDS: usize = (1 << (64 - BYTES_BITS)) - 1;
/// The largest byte bound the word can count (1 TiB).
pub(crate) const MAX_QUEUED_BYTES: usize = BYTES_MASK as usize;

impl QueueBound {
    /// Bounds above what the word can count are taken as its largest.
    pub(crate) fn new(max_records: usize, max_bytes: usize) -> Arc<Self> {
        Arc::new(Self {
            waiting: AtomicU64::new(0),
            max_records: max_records.min(MAX_QUEUED_RECORDS) as u64,
            max_bytes: max_bytes.min(MAX_QUEUED_BYTES) as u64,
        })
    }

    /// A place in the queue for a submission of `len` bytes, or a refusal saying which
    /// bound is reached. The place is given back when the submission is answered.
    pub(crate) fn enter(self: &Arc<Self>, len: usize) -> Result<QueuePlace, Rejection> {
        let records_full = || {
            queue_full(format!(
                "{} submissions are already waiting to be checked and stored",
                self.max_records
            ))
        };
        let bytes_full = || {
            queue_full(format!(
                "submissions of {} bytes in all are already waiting to be checked and stored",
                self.max_bytes
            ))
        };
        let Some(len64) = u64::try_from(len).ok().filter(|l| *l <= BYTES_MASK) else {
            return Err(bytes_full());
        };
        let entered = self
            .waiting
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |word| {
                let (records, bytes) = (word >> BYTES_BITS, word & BYTES_MASK);
                // A submission alone (no other bytes waiting) is always let in, whatever
                // its size: the bound is on what waits, and the record size limit is
                // §12.5's own check.
                let fits = bytes == 0 || bytes + len64 <= self.max_bytes;
                (records < self.max_records && fits).then_some(word + ONE_RECORD + len64)
            });
        match entered {
            Ok(_) => Ok(QueuePlace {
                bound: Arc::clone(self),
                len: len64,
            }),
            Err(word) if word >> BYTES_BITS >= self.max_records => Err(records_full()),
            Err(_) => Err(bytes_full()),
        }
    }

    /// Submissions taken and not yet answered.
    pub(crate) fn waiting(&self) -> usize {
        (self.waiting.load(Ordering::Acquire) >> BYTES_BITS) as usize
    }
}

/// A submission's place in the queue, given back when it is dropped (with its answer).
pub(crate) struct QueuePlace {
    bound: Arc<QueueBound>,
    len: u64,
}

impl Drop for QueuePlace {
    fn drop(&mut self) {
        self.bound
            .waiting
            .fetch_sub(ONE_RECORD + self.len, Ordering::AcqRel);
    }
}

/// The board is not stopping, but too much already waits: nothing was stored, and the
/// submitter may send the same record again shortly.
fn queue_full(why: String) -> Rejection {
    Rejection::new(
        crate::error::Code::Unavailable,
        None,
        format!(
            "the board is at its acceptance bound: {why}; nothing was stored: send the record again shortly"
        ),
    )
}

/// Where an answer goes, holding the submission's place in the queue until it is sent.
/// One dropped unanswered (a stage that stopped or failed) still answers: "not stored"
/// before the record reached the store, "may have been stored" after, since from then
/// on the writer may make it durable whatever happens to the answer.
pub(crate) struct Reply {
    to: Option<ReplyTo>,
    place: Option<QueuePlace>,
    enqueued: bool,
}

impl Reply {
    pub(crate) fn new(to: ReplyTo, place: QueuePlace) -> Self {
        Self {
            to: Some(to),
            place: Some(place),
            enqueued: false,
        }
    }

    /// Whether the submitter went away (an async caller whose request was dropped):
    /// its record is then not worth checking.
    fn is_closed(&self) -> bool {
        match &self.to {
            Some(ReplyTo::Async(s)) => s.is_closed(),
            Some(ReplyTo::Blocking(_)) | None => false,
        }
    }

    /// The record was handed to the store: an answer lost from now on must not say
    /// "not stored".
    fn mark_enqueued(&mut self) {
        self.enqueued = true;
    }

    pub(crate) fn send(mut self, result: Result<Receipt, Rejection>) {
        // The place is given back first: a submitter that sends its next record as soon
        // as it has this answer finds it free.
        drop(self.place.take());
        if let Some(to) = self.to.take() {
            to.send(result);
        }
    }
}

impl Drop for Reply {
    fn drop(&mut self) {
        drop(self.place.take());
        if let Some(to) = self.to.take() {
            to.send(Err(if self.enqueued {
                Rejection::maybe_stored("the board stopped before answering")
            } else {
                Rejection::unavailable()
            }));
        }
    }
}

pub(crate) struct Intake {
    pub(crate) bytes: Vec<u8>,
    pub(crate) reply: Reply,
}

/// What every stage shares.
pub(crate) struct Shared {
    pub(crate) store: Store,
    pub(crate) registry: Registry,
    pub(crate) state: RwLock<BoardState>,
    pub(crate) authorities: Vec<[u8; 32]>,
    /// Every context's sealed parameters (the state's map, shared).
    pub(crate) sealed: crate::state::SealedMap,
    /// Set when a durable record did not apply: the state no longer follows the log,
    /// so the board accepts nothing more (fail-stop) and says why.
    pub(crate) halted: Mutex<Option<String>>,
}

impl Shared {
    pub(crate) fn halted(&self) -> Option<String> {
        self.halted
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn halt(&self, reason: String) {
        eprintln!("urne-board: accepting nothing more: {reason}");
        let mut halted = self.halted.lock().unwrap_or_else(|p| p.into_inner());
        halted.get_or_insert(reason);
    }
}

/// Runs a kind handler's step, turning a panic (a bug in that handler) into an error,
/// so one bad handler cannot kill a pipeline stage.
fn guarded<T>(what: &str, step: impl FnOnce() -> Result<T, Rejection>) -> Result<T, Rejection> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(step)).unwrap_or_else(|_| {
        Err(Rejection::invalid_body(
            "body",
            format!("the board failed while running {what}; the record was not stored"),
        ))
    })
}

struct Checked {
    record: Record,
    hash: Hash,
    handler: Arc<dyn KindHandler>,
    prechecked: Prechecked,
    reply: Reply,
}

enum ToSequencer {
    Group(Vec<Checked>),
    Applied(Vec<Settled>),
    /// Every precheck worker has stopped: answer what waits, let the applier drain.
    Stop,
}

/// Tells the sequencer the board is stopping (sent after the precheck workers ended).
pub(crate) fn stop_message() -> ToSequencerMsg {
    ToSequencerMsg(ToSequencer::Stop)
}

/// A record whose append is settled (durable and applied, or failed): its
/// reservations can go.
struct Settled {
    context: ContextId,
    hash: Hash,
    keys: Vec<UniqueKey>,
    barrier: bool,
}

pub(crate) struct ApplyJob {
    pending: Pending,
    record: Record,
    hash: Hash,
    keys: Vec<UniqueKey>,
    barrier: bool,
    reply: Reply,
}

/// Stateless checks of one submission, in spec/12 §12.5 order: size and envelope,
/// kind, signature, the kind's own precheck.
fn precheck(
    shared: &Shared,
    bytes: Vec<u8>,
) -> Result<(Record, Arc<dyn KindHandler>, Prechecked), Rejection> {
    let record = Record::parse(bytes)?;
    let handler = shared
        .registry
        .get(record.kind())
        .ok_or_else(|| Rejection::unknown_kind(record.kind().0))?
        .clone();
    record.verify_signature()?;
    let sealed = BoardState::sealed_of(&shared.sealed, &record.context());
    let prechecked = guarded(handler.name(), || {
        handler.precheck_sealed(&record, sealed.as_ref())
    })?;
    Ok((record, handler, prechecked))
}

pub(crate) fn precheck_worker(
    shared: Arc<Shared>,
    intake: Arc<Mutex<Receiver<Intake>>>,
    sequencer: Sender<ToSequencerMsg>,
) {
    loop {
        let group = {
            let receiver = intake.lock().unwrap_or_else(|p| p.into_inner());
            let Ok(first) = receiver.recv() else { return };
            let mut group = vec![first];
            while group.len() < PRECHECK_GROUP {
                match receiver.try_recv() {
                    Ok(next) => group.push(next),
                    Err(_) => break,
                }
            }
            group
        };
        let mut passed: Vec<Option<Checked>> = Vec::with_capacity(group.len());
        for submission in group {
            if submission.reply.is_closed() {
                continue;
            }
            match precheck(&shared, submission.bytes) {
                Ok((record, handler, prechecked)) => passed.push(Some(Checked {
                    hash: Hash(record.hash()),
                    record,
                    handler,
                    prechecked,
                    reply: submission.reply,
                })),
                Err(rejection) => submission.reply.send(Err(rejection)),
            }
        }
        refuse_bad_ring_signatures(&mut passed);
        let mut batch = BatchVerifier::with_capacity(passed.len());
        for (at, item) in passed.iter_mut().enumerate() {
            if let Some(relations) = item
                .as_mut()
                .and_then(|item| item.prechecked.relations.take())
            {
                batch.push(at, Ok(relations));
            }
        }
        if !batch.is_empty()
            && let Err(failure) = batch.verify(&mut rand::rng())
        {
            for (at, reason) in failure.failures {
                if let Some(item) = passed.get_mut(at).and_then(Option::take) {
                    let field = item.prechecked.proof_field;
                    let rejection = item.handler.diagnose(&item.record, &item.prechecked);
                    item.reply.send(Err(rejection.unwrap_or_else(|| {
                        Rejection::invalid_body(
                            if field.is_empty() { "body" } else { field },
                            format!("proof does not verify: {reason}"),
                        )
                    })));
                }
            }
        }
        let survivors: Vec<Checked> = passed.into_iter().flatten().collect();
        if !survivors.is_empty()
            && let Err(returned) = sequencer.send(ToSequencerMsg(ToSequencer::Group(survivors)))
        {
            if let ToSequencer::Group(items) = returned.0.0 {
                for item in items {
                    item.reply.send(Err(Rejection::unavailable()));
                }
            }
            return;
        }
    }
}

/// Verifies the ring signatures the group's prechecks left to the board, and answers
/// each record whose signature fails with its kind's refusal: it goes no further.
fn refuse_bad_ring_signatures(passed: &mut [Option<Checked>]) {
    let checks: Vec<(usize, RingSignatureCheck)> = passed
        .iter_mut()
        .enumerate()
        .filter_map(|(at, item)| {
            let check = item.as_mut()?.prechecked.ring_signature.take()?;
            Some((at, check))
        })
        .collect();
    if checks.is_empty() {
        return;
    }
    for (at, error) in verify_ring_signatures(checks).refused {
        if let Some(item) = passed.get_mut(at).and_then(Option::take) {
            let rejection = guarded(item.handler.name(), || {
                Ok(item
                    .handler
                    .ring_signature_refused(&item.record, &item.prechecked, &error))
            })
            .unwrap_or_else(|failed| failed);
            item.reply.send(Err(rejection));
        }
    }
}

/// What the ring signatures of a precheck group came to.
#[derive(Debug, Default)]
pub(crate) struct RingVerdicts {
    /// (position given, why) of each signature that does not verify.
    pub(crate) refused: Vec<(usize, triptych::Error)>,
    /// Triptych batches run (one per ring and linking base with two signatures or
    /// more; a lone signature is verified on its own).
    pub(crate) batches: usize,
}

/// The signatures over the same ring (the same `Arc`) and linking base verified in one
/// Triptych batch (spec/08 §8.9): the multiscalar multiplication over the ring's keys,
/// most of a verification's cost, is made once per batch instead of once per signature.
/// A batch that fails checks each of its signatures on its own to name the bad ones
/// (spec/12 §12.5), so a bad signature costs its batch what verifying each alone would.
pub(crate) fn verify_ring_signatures(checks: Vec<(usize, RingSignatureCheck)>) -> RingVerdicts {
    // Keyed on the shared ring itself (its address, alive as long as `checks`) and U.
    type SameRing = (*const Ring, [u8; 32]);
    let mut by_ring: BTreeMap<SameRing, Vec<(usize, RingSignatureCheck)>> = BTreeMap::new();
    for (at, check) in checks {
        let key = (
            Arc::as_ptr(check.ring()),
            check.linking_base().compress().to_bytes(),
        );
        by_ring.entry(key).or_default().push((at, check));
    }
    let mut verdicts = RingVerdicts::default();
    for same_ring in by_ring.values().flat_map(|all| all.chunks(RING_BATCH)) {
        let first = match same_ring {
            [] => continue,
            [(at, only)] => {
                if let Err(error) = only.verify() {
                    verdicts.refused.push((*at, error));
                }
                continue;
            }
            [(_, first), ..] => first,
        };
        let mut batch = triptych::BatchVerifier::new(first.ring(), *first.linking_base());
        for (_, check) in same_ring {
            batch.push(check.context(), check.signature());
        }
        verdicts.batches += 1;
        match batch.verify(&mut rand::rng()) {
            Ok(()) => {}
            Err(triptych::Error::Batch { invalid }) => {
                verdicts
                    .refused
                    .extend(invalid.into_iter().filter_map(|(pushed, error)| {
                        same_ring.get(pushed).map(|(at, _)| (*at, error))
                    }));
            }
            // Refused as a whole (a linking base that is the identity): no signature
            // over it verifies.
            Err(error) => verdicts
                .refused
                .extend(same_ring.iter().map(|(at, _)| (*at, error.clone()))),
        }
    }
    verdicts
}

/// A message to the sequencer (opaque outside this module).
pub(crate) struct ToSequencerMsg(ToSequencer);

#[derive(Default)]
struct InFlight {
    /// Records of the context queued for the store and not yet applied.
    pending: usize,
    /// One of them is a barrier.
    barrier: bool,
    /// Records that arrived while a barrier was pending, in arrival order.
    waiting: VecDeque<Checked>,
}

pub(crate) struct Sequencer {
    shared: Arc<Shared>,
    applier: Sender<ApplyJob>,
    hashes: HashSet<Hash>,
    reserved: HashSet<(ContextId, UniqueKey)>,
    contexts: HashMap<ContextId, InFlight>,
}

impl Sequencer {
    pub(crate) fn run(
        shared: Arc<Shared>,
        inbox: Receiver<ToSequencerMsg>,
        applier: Sender<ApplyJob>,
    ) {
        let mut sequencer = Self {
            shared,
            applier,
            hashes: HashSet::new(),
            reserved: HashSet::new(),
            contexts: HashMap::new(),
        };
        while let Ok(ToSequencerMsg(message)) = inbox.recv() {
            match message {
                ToSequencer::Group(items) => {
                    for item in items {
                        sequencer.admit(item);
                    }
                }
                ToSequencer::Applied(settled) => sequencer.settle(settled),
                ToSequencer::Stop => break,
            }
        }
        // Submissions still waiting behind a barrier when the board stops: unanswered
        // would leave their submitters hanging.
        for (_, flight) in sequencer.contexts.drain() {
            for item in flight.waiting {
                item.reply.send(Err(Rejection::unavailable()));
            }
        }
    }

    fn is_barrier(item: &Checked) -> bool {
        item.record.kind() == CONTEXT_OPEN || item.handler.sequencing() == Sequencing::Barrier
    }

    /// Checks now, or queues behind its context's pending barrier.
    fn admit(&mut self, item: Checked) {
        let context = item.record.context();
        let barrier = Self::is_barrier(&item);
        let flight = self.contexts.entry(context).or_default();
        if flight.barrier || !flight.waiting.is_empty() || (barrier && flight.pending > 0) {
            flight.waiting.push_back(item);
            return;
        }
        self.check_and_enqueue(item);
    }

    fn settle(&mut self, settled: Vec<Settled>) {
        let mut touched = Vec::new();
        for s in settled {
            self.hashes.remove(&s.hash);
            for key in s.keys {
                self.reserved.remove(&(s.context, key));
            }
            if let Some(flight) = self.contexts.get_mut(&s.context) {
                flight.pending = flight.pending.saturating_sub(1);
                if s.barrier {
                    flight.barrier = false;
                }
                touched.push(s.context);
            }
        }
        touched.dedup();
        for context in touched {
            self.release(context);
        }
    }

    /// Lets the records waiting in a context through, up to the next barrier that has
    /// to wait.
    fn release(&mut self, context: ContextId) {
        loop {
            let Some(flight) = self.contexts.get_mut(&context) else {
                return;
            };
            if flight.barrier {
                return;
            }
            let Some(next) = flight.waiting.front() else {
                if flight.pending == 0 {
                    self.contexts.remove(&context);
                }
                return;
            };
            if Self::is_barrier(next) && flight.pending > 0 {
                return;
            }
            let Some(item) = flight.waiting.pop_front() else {
                return;
            };
            self.check_and_enqueue(item);
        }
    }

    fn check_and_enqueue(&mut self, item: Checked) {
        let context = item.record.context();
        match self.check(&item) {
            // Checked again here, the last moment before the store: an async submitter
            // that went away after precheck (a closed connection) would otherwise have
            // its record stored with nobody told. Dropping the reply gives its place back.
            Ok(_) if item.reply.is_closed() => {
                item.handler.released(&item.record);
                drop(item);
            }
            Ok(keys) => return self.enqueue(item, keys),
            Err(rejection) => item.reply.send(Err(rejection)),
        }
        if let Some(flight) = self.contexts.get(&context)
            && flight.pending == 0
            && flight.waiting.is_empty()
            && !flight.barrier
        {
            self.contexts.remove(&context);
        }
    }

    /// The ordered checks of spec/12 §12.5 after the stateless ones: not a duplicate,
    /// context and scope, poster, the kind's own check, unique keys.
    fn check(&self, item: &Checked) -> Result<Vec<UniqueKey>, Rejection> {
        let record = &item.record;
        if let Some(reason) = self.shared.halted() {
            // Fail-stop until an operator restarts the board: retrying cannot help.
            return Err(Rejection::storage(format!(
                "the board accepts nothing more until it is restarted: {reason}"
            )));
        }
        if self.hashes.contains(&item.hash) {
            return Err(Rejection::duplicate(None));
        }
        if let Some(index) = self
            .shared
            .store
            .index_of(&item.hash)
            .map_err(|e| Rejection::storage(e.to_string()))?
        {
            return Err(Rejection::duplicate(Some(index)));
        }
        let state = self.shared.state.read().unwrap_or_else(|p| p.into_inner());
        let id = record.context();
        let entry = state.contexts.get(&id);
        let name = item.handler.name();
        match item.handler.scope() {
            Scope::Opens => {
                if entry.is_some() {
                    return Err(Rejection::context_exists(&id.to_hex()));
                }
                let open = item
                    .prechecked
                    .decoded
                    .as_ref()
                    .and_then(|d| d.downcast_ref::<urne_record::ContextOpen>());
                if let Some(open) = open
                    && self.shared.registry.machine(open.context_type).is_none()
                {
                    return Err(Rejection::invalid_body(
                        "body.context_type",
                        format!("this board has no context type {}", open.context_type.0),
                    ));
                }
            }
            Scope::In { types, phases } => {
                let entry = entry.ok_or_else(|| Rejection::unknown_context(&id.to_hex()))?;
                let context_type = entry.open.context_type;
                if !types.is_empty() && !types.contains(&context_type) {
                    return Err(Rejection::wrong_phase(
                        name,
                        &format!("a context of type {}", entry.machine.name()),
                    ));
                }
                if let Some(phases) = phases
                    && !phases.contains(&entry.phase)
                {
                    let phase = entry.machine.phase_name(entry.phase).unwrap_or("?");
                    return Err(Rejection::wrong_phase(name, &format!("the {phase} phase")));
                }
            }
        }
        match item.handler.poster() {
            Poster::BoardAuthority if !self.shared.authorities.contains(record.signer()) => {
                return Err(Rejection::not_authorized(format!(
                    "{name} records must be signed by one of the board's authorities"
                )));
            }
            Poster::ContextAuthority if entry.map(|c| &c.authority) != Some(record.signer()) => {
                return Err(Rejection::not_authorized(format!(
                    "{name} records must be signed by the context's authority"
                )));
            }
            _ => {}
        }
        let view = entry.map(|entry| ContextView { entry });
        let keys = guarded(name, || {
            item.handler.check(record, &item.prechecked, view.as_ref())
        })?;
        let mut seen = HashSet::new();
        for key in &keys {
            if entry.is_some_and(|e| e.taken.contains(key)) {
                return Err(Rejection::already_used(key.space, false));
            }
            if self.reserved.contains(&(id, key.clone())) || !seen.insert(key) {
                return Err(Rejection::already_used(key.space, true));
            }
        }
        Ok(keys)
    }

    fn enqueue(&mut self, mut item: Checked, keys: Vec<UniqueKey>) {
        let context = item.record.context();
        let barrier = Self::is_barrier(&item);
        let pending = match self.shared.store.enqueue(item.record.bytes().to_vec()) {
            Ok(p) => p,
            Err(e) => {
                item.handler.released(&item.record);
                item.reply.send(Err(Rejection::storage(e.to_string())));
                return;
            }
        };
        item.reply.mark_enqueued();
        self.hashes.insert(item.hash);
        for key in &keys {
            self.reserved.insert((context, key.clone()));
        }
        let flight = self.contexts.entry(context).or_default();
        flight.pending += 1;
        if barrier {
            flight.barrier = true;
        }
        let job = ApplyJob {
            pending,
            record: item.record,
            hash: item.hash,
            keys,
            barrier,
            reply: item.reply,
        };
        if let Err(returned) = self.applier.send(job) {
            returned.0.reply.send(Err(Rejection::maybe_stored(
                "the board's applier stopped after the record was handed to the store",
            )));
        }
    }
}

/// Waits for each record's durability in log order, applies the durable ones to the
/// state under one write lock per group, answers, and tells the sequencer.
pub(crate) fn applier(
    shared: Arc<Shared>,
    jobs: Receiver<ApplyJob>,
    sequencer: Sender<ToSequencerMsg>,
) {
    // A job drained from the queue whose commit is not durable yet: it starts the next
    // group, so answers never wait for a later commit than their own.
    let mut carried: Option<ApplyJob> = None;
    loop {
        let first = match carried.take() {
            Some(job) => job,
            None => match jobs.recv() {
                Ok(job) => job,
                Err(_) => return,
            },
        };
        let split = |job: ApplyJob, result| {
            let ApplyJob {
                record,
                hash,
                keys,
                barrier,
                reply,
                ..
            } = job;
            (result, record, hash, keys, barrier, reply)
        };
        // Blocks for the first job's group commit; then takes the jobs already durable
        // (the rest of that commit) without blocking.
        let ApplyJob {
            pending,
            record,
            hash,
            keys,
            barrier,
            reply,
        } = first;
        let first_result = pending.wait();
        let mut outcomes = vec![(first_result, record, hash, keys, barrier, reply)];
        while outcomes.len() < APPLY_GROUP {
            match jobs.try_recv() {
                Ok(job) => match job.pending.try_wait() {
                    Some(result) => outcomes.push(split(job, result)),
                    None => {
                        carried = Some(job);
                        break;
                    }
                },
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
        let mut settled = Vec::with_capacity(outcomes.len());
        let mut answers = Vec::with_capacity(outcomes.len());
        {
            let mut state = shared.state.write().unwrap_or_else(|p| p.into_inner());
            for (result, record, hash, keys, barrier, reply) in outcomes {
                let answer = match result {
                    Ok(index) => {
                        let applied =
                            guarded("apply", || state.apply(&shared.registry, &record, index));
                        if let Err(e) = applied {
                            // The record passed its checks and is durable, so it is
                            // acknowledged; but the state no longer follows the log (a
                            // handler bug): stop accepting, and the next open, which
                            // replays the log, names the record.
                            shared.halt(format!("durable record {index} did not apply: {e}"));
                        }
                        Ok(Receipt { index, hash })
                    }
                    // The store stopped after this record was handed to it: a group
                    // already synced when the stop came (a derived-file write failed
                    // behind it) is in the log and comes back on reopen, so "nothing
                    // was stored" would be a lie the client cannot check.
                    Err(e) => Err(Rejection::maybe_stored(&format!(
                        "the store stopped after the record was queued ({e})"
                    ))),
                };
                settled.push(Settled {
                    context: record.context(),
                    hash,
                    keys,
                    barrier,
                });
                answers.push((reply, answer));
            }
        }
        for (reply, answer) in answers {
            reply.send(answer);
        }
        // The sequencer is gone only when the board is stopping; what is queued here
        // is still written, applied and answered.
        let _ = sequencer.send(ToSequencerMsg(ToSequencer::Applied(settled)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use urne_crypto::curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT as G;
    use urne_crypto::curve25519_dalek::scalar::Scalar;
    use zeroize::Zeroizing;

    fn secret() -> Zeroizing<Scalar> {
        let mut wide = [0u8; 64];
        rand::fill(&mut wide);
        Zeroizing::new(Scalar::from_bytes_mod_order_wide(&wide))
    }

    /// A ring of four keys whose secrets we hold.
    fn ring() -> (Arc<Ring>, Vec<Zeroizing<Scalar>>) {
        let secrets: Vec<_> = (0..4).map(|_| secret()).collect();
        let keys = secrets.iter().map(|r| **r * G).collect();
        let ring = Ring::new(keys).unwrap_or_else(|e| unreachable!("{e}"));
        (Arc::new(ring), secrets)
    }

    fn signed(
        ring: &Arc<Ring>,
        secrets: &[Zeroizing<Scalar>],
        signer: usize,
        context: &[u8],
    ) -> RingSignatureCheck {
        let u = triptych::linking_base(&[1; 32], &[2; 32]);
        let signature = triptych::sign(
            ring,
            signer,
            &secrets[signer],
            &u,
            context,
            &mut rand::rng(),
        )
        .unwrap_or_else(|e| unreachable!("{e}"));
        RingSignatureCheck::new(Arc::clone(ring), u, context.to_vec(), signature)
    }

    #[test]
    fn ring_signatures_are_batched_per_ring_and_only_the_bad_ones_refused() {
        let (a, a_secrets) = ring();
        let (b, b_secrets) = ring();
        let mut checks = vec![
            (0, signed(&a, &a_secrets, 0, b"ballot 0")),
            (1, signed(&b, &b_secrets, 1, b"ballot 1")),
            (2, signed(&a, &a_secrets, 2, b"ballot 2")),
            (4, signed(&b, &b_secrets, 3, b"ballot 4")),
            (5, signed(&a, &a_secrets, 3, b"ballot 5")),
        ];
        // Position 3 presents ring A's signature over other context bytes, and position
        // 6 ring B's signature as one by ring A's keys: each fails its own ring's batch.
        let other = signed(&a, &a_secrets, 1, b"ballot 3");
        checks.push((
            3,
            RingSignatureCheck::new(
                Arc::clone(&a),
                *other.linking_base(),
                b"another ballot".to_vec(),
                other.signature().clone(),
            ),
        ));
        let by_b = signed(&b, &b_secrets, 0, b"ballot 6");
        checks.push((
            6,
            RingSignatureCheck::new(
                Arc::clone(&a),
                *by_b.linking_base(),
                by_b.context().to_vec(),
                by_b.signature().clone(),
            ),
        ));
        let verdicts = verify_ring_signatures(checks);
        assert_eq!(verdicts.batches, 2, "one batch per ring");
        let mut refused: Vec<usize> = verdicts.refused.iter().map(|(at, _)| *at).collect();
        refused.sort_unstable();
        assert_eq!(refused, vec![3, 6], "{:?}", verdicts.refused);
        assert!(
            verdicts
                .refused
                .iter()
                .all(|(_, e)| matches!(e, triptych::Error::Equation { .. })),
            "{:?}",
            verdicts.refused
        );
    }

    #[test]
    fn a_ring_batch_holds_at_most_ring_batch_signatures() {
        let (a, secrets) = ring();
        let checks = (0..RING_BATCH + 1)
            .map(|at| (at, signed(&a, &secrets, at % 4, &at.to_be_bytes())))
            .collect();
        let verdicts = verify_ring_signatures(checks);
        // RING_BATCH in one batch, the last one alone.
        assert_eq!((verdicts.batches, verdicts.refused.len()), (1, 0));
        let checks = (0..RING_BATCH + 2)
            .map(|at| (at, signed(&a, &secrets, at % 4, &at.to_be_bytes())))
            .collect();
        assert_eq!(verify_ring_signatures(checks).batches, 2);
    }

    #[test]
    fn a_lone_ring_signature_is_verified_on_its_own() {
        let (a, secrets) = ring();
        let good = signed(&a, &secrets, 2, b"alone");
        let verdicts = verify_ring_signatures(vec![(7, good.clone())]);
        assert_eq!((verdicts.batches, verdicts.refused.len()), (0, 0));
        let bad = RingSignatureCheck::new(
            Arc::clone(&a),
            *good.linking_base(),
            b"other".to_vec(),
            good.signature().clone(),
        );
        let verdicts = verify_ring_signatures(vec![(7, bad)]);
        assert_eq!(verdicts.batches, 0);
        assert_eq!(
            verdicts
                .refused
                .iter()
                .map(|(at, _)| *at)
                .collect::<Vec<_>>(),
            vec![7]
        );
    }

    #[test]
    fn the_same_keys_in_two_rings_prepared_apart_are_two_batches() {
        // Batches are keyed on the shared ring itself, not on what it holds: a handler
        // cannot get a signature checked against keys it was not made for, at the cost
        // of one more batch when two handlers prepare the same ring apart.
        let (a, secrets) = ring();
        let copy = Arc::new(Ring::clone(&a));
        let verdicts = verify_ring_signatures(vec![
            (0, signed(&a, &secrets, 0, b"one")),
            (1, signed(&copy, &secrets, 1, b"two")),
            (2, signed(&a, &secrets, 2, b"three")),
            (3, signed(&copy, &secrets, 3, b"four")),
        ]);
        assert_eq!((verdicts.batches, verdicts.refused.len()), (2, 0));
    }

    #[test]
    fn the_queue_bound_counts_records_and_bytes_and_gives_places_back() {
        let bound = QueueBound::new(2, 100);
        let a = bound.enter(60).ok();
        assert!(a.is_some());
        // Bytes: 60 wait, 50 more would pass 100.
        let refused = bound.enter(50).err();
        assert!(
            refused
                .as_ref()
                .is_some_and(|r| r.code == crate::error::Code::Unavailable
                    && r.message.contains("100 bytes")),
            "{refused:?}"
        );
        assert_eq!(bound.waiting(), 1, "a refusal keeps no place");
        let b = bound.enter(40).ok();
        assert!(b.is_some());
        // Records: two wait.
        let refused = bound.enter(0).err();
        assert!(
            refused
                .as_ref()
                .is_some_and(|r| r.message.contains("2 submissions")),
            "{refused:?}"
        );
        drop(a);
        assert_eq!(bound.waiting(), 1);
        assert!(bound.enter(60).is_ok(), "a place given back is free again");
        drop(b);
        assert_eq!(bound.waiting(), 0);
        assert_eq!(
            bound.waiting.load(Ordering::Acquire),
            0,
            "every place given back"
        );
    }

    #[test]
    fn one_submission_larger_than_the_byte_bound_is_let_in_when_nothing_waits() {
        let bound = QueueBound::new(10, 100);
        let big = bound.enter(500);
        assert!(big.is_ok());
        assert!(bound.enter(1).is_err(), "but nothing beside it");
    }

    #[test]
    fn attempts_refused_concurrently_never_take_a_place_that_fits() {
        // One submission of 50 bytes waits; others keep trying ones that cannot fit (by
        // bytes, or once two wait, by count). A submission of 40 bytes always fits
        // beside the one waiting: a refused attempt must never count, even for a moment.
        let bound = QueueBound::new(2, 100);
        let _waiting = bound.enter(50).ok();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let spammers: Vec<_> = (0..2)
            .map(|_| {
                let (bound, stop) = (Arc::clone(&bound), Arc::clone(&stop));
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        let _ = bound.enter(60);
                    }
                })
            })
            .collect();
        let mut refused = 0;
        for _ in 0..200_000 {
            if bound.enter(40).is_err() {
                refused += 1;
            }
        }
        stop.store(true, Ordering::Relaxed);
        for spammer in spammers {
            let _ = spammer.join();
        }
        assert_eq!(refused, 0, "refused attempts counted against the bound");
        assert_eq!(bound.waiting(), 1);
    }

    fn blocking_reply(
        bound: &Arc<QueueBound>,
    ) -> (Reply, std::sync::mpsc::Receiver<Result<Receipt, Rejection>>) {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let place = bound.enter(1).ok();
        let reply = place.map(|place| Reply::new(ReplyTo::Blocking(tx), place));
        (
            reply.unwrap_or_else(|| unreachable!("the bound is empty")),
            rx,
        )
    }

    #[test]
    fn an_answer_lost_after_the_store_took_the_record_says_it_may_have_been_stored() {
        let bound = QueueBound::new(4, 100);
        let (reply, answers) = blocking_reply(&bound);
        drop(reply);
        let answer = answers.recv().ok().and_then(Result::err);
        assert!(
            answer
                .as_ref()
                .is_some_and(|r| r.code == crate::error::Code::Unavailable),
            "{answer:?}"
        );

        let (mut reply, answers) = blocking_reply(&bound);
        reply.mark_enqueued();
        drop(reply);
        let answer = answers.recv().ok().and_then(Result::err);
        assert!(
            answer
                .as_ref()
                .is_some_and(|r| r.code == crate::error::Code::MaybeStored
                    && r.message.contains("check by hash before resending")),
            "{answer:?}"
        );
        assert_eq!(bound.waiting(), 0, "the places were given back");
    }
}
