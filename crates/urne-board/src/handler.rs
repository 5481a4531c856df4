//! The kind API (spec/12-records.md §12.5): how the domain crates — elections,
//! petitions, assemblies — plug their record kinds and context types into the board.
//!
//! A context type is a [`ContextMachine`]: its phases, the moves between them, and the
//! typed state its records build. A record kind is a [`KindHandler`] with three steps:
//! - [`KindHandler::precheck`]: stateless (body decoding, proofs), run outside any lock,
//!   in parallel, its proof equations folded into one batch verification with the
//!   other records waiting at the same moment, and its ring signature, if it has one,
//!   verified in one Triptych batch with the others over the same ring;
//! - [`KindHandler::check`]: ordered, against a read view of the context's state, with
//!   the unique keys the record would take;
//! - [`KindHandler::apply`]: updates the state once the record is durable, with its real
//!   index; the same function rebuilds all state from the log when the board opens, so
//!   state is a pure function of the log.

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::Arc;

use urne_crypto::batch::Relations;
use urne_crypto::curve25519_dalek::ristretto::RistrettoPoint;
use urne_crypto::triptych::{self, Ring};
use urne_record::{ContextId, ContextOpen, ContextType, Kind, Record};

use crate::error::Rejection;

/// Who may post a kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Poster {
    /// A key in the board's configured list of authorities.
    BoardAuthority,
    /// The context's authority (the signer of its `context.open`).
    ContextAuthority,
    /// Anyone; the handler's `check` decides (a trustee, a voter's credential, a member).
    HandlerDecides,
}

/// How a kind is ordered against the other records of its context.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sequencing {
    /// Its `apply` changes what other records' checks read (a phase, a list, a
    /// roster): it is checked only once every earlier record of its context is applied,
    /// and the context's later records wait until it is applied.
    Barrier,
    /// Its `apply` changes nothing another record's `check` reads (a ballot, a
    /// signature, a vote): many are checked while earlier ones are still being written.
    /// Uniqueness between them is expressed with unique keys, which the board reserves
    /// while they are pending.
    Concurrent,
}

/// Where a kind is accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// It opens a context (its record's context must not exist yet).
    Opens,
    /// In contexts of these types (all types if empty), in these phases (all phases if
    /// `None`).
    In {
        /// Accepted context types; empty = any.
        types: Vec<ContextType>,
        /// Accepted phase codes; `None` = any phase.
        phases: Option<Vec<u8>>,
    },
}

/// A context type's state machine: phases, moves, and its typed state.
pub trait ContextMachine: Send + Sync + 'static {
    /// Its code in `context.open`.
    fn context_type(&self) -> ContextType;
    /// Its name (`election`).
    fn name(&self) -> &'static str;
    /// The phase a context of this type is in when opened.
    fn initial_phase(&self) -> u8;
    /// A phase's name, or None for a code this type does not have.
    fn phase_name(&self, phase: u8) -> Option<&'static str>;
    /// Whether `context.phase` may move a context from `from` to `to`.
    fn may_move(&self, from: u8, to: u8) -> bool;
    /// A check of a move against the context's state (an election may not open voting
    /// before its credential list is complete). Called after `may_move` allowed it.
    fn guard_move(&self, context: &ContextView<'_>, to: u8) -> Result<(), Rejection> {
        let _ = (context, to);
        Ok(())
    }
    /// The state of a newly opened context (the domain crate's own type, reached by
    /// handlers through [`ContextView::data`]).
    fn new_state(&self, open: &ContextOpen) -> Box<dyn Any + Send + Sync> {
        let _ = open;
        Box::new(())
    }
    /// The state of a newly opened context, for a type whose state needs more than the
    /// opening body (its id, its authority, the board's origin). Defaults to
    /// [`Self::new_state`].
    fn new_context_state(&self, context: &NewContext<'_>) -> Box<dyn Any + Send + Sync> {
        self.new_state(context.open)
    }
    /// Applies a move `context.phase` made (after `may_move` and `guard_move` allowed
    /// it), before the phase changes: an election computes its tally when tallying
    /// begins, and seals parameters ([`ContextMut::seal`]).
    fn apply_move(&self, context: &mut ContextMut<'_>, to: u8) -> Result<(), Rejection> {
        let _ = (context, to);
        Ok(())
    }
}

/// What a context type's machine is told of a context it opens.
pub struct NewContext<'a> {
    /// Its id.
    pub id: ContextId,
    /// Its `context.open` body.
    pub open: &'a ContextOpen,
    /// Its authority (the signer of its `context.open`).
    pub authority: [u8; 32],
    /// The board's origin.
    pub origin: &'a str,
}

/// A context's sealed parameters (spec/12 §12.5): immutable values its `apply` publishes
/// (an election's manifest, joint key, context hash and credential list, once voting
/// opens) that its kinds' stateless prechecks read without the state lock.
pub type SealedParams = Arc<dyn Any + Send + Sync>;

/// A unique key a record takes in its context: no two records of the context may hold
/// the same (space, key) — a petition tag, a member's vote under "first cast is final".
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UniqueKey {
    /// What kind of key (`petition.tag`); it also names the field in a rejection.
    pub space: &'static str,
    /// The key's bytes.
    pub key: Vec<u8>,
}

/// What a precheck found: the proof equations to verify in a batch, and the decoded
/// body, so that `check` does not decode it again.
#[derive(Default)]
pub struct Prechecked {
    /// The equations of the record's proofs; verified in one batch with the other
    /// records waiting at the same moment. A record whose equations fail is rejected
    /// alone, with `proof_field` as the field at fault.
    pub relations: Option<Relations>,
    /// The field named when the relations fail.
    pub proof_field: &'static str,
    /// The decoded body, for `check` (downcast by the handler that made it).
    pub decoded: Option<Box<dyn Any + Send + Sync>>,
    /// The record's ring signature, left for the board to verify with the others of
    /// the same group over the same ring (spec/12 §12.5). A record whose signature fails
    /// is refused with [`KindHandler::ring_signature_refused`], before its relations are
    /// batched.
    pub ring_signature: Option<RingSignatureCheck>,
}

/// A linkable ring signature (spec/08) a precheck leaves to the board: verified with the
/// other signatures of its precheck group over the same ring and linking base in one
/// Triptych batch (spec/08 §8.9), where a Triptych verification alone costs tens to
/// hundreds of milliseconds, mostly the multiscalar multiplication over the ring's keys,
/// which a batch does once. An anonymous ballot uses it; a petition's `petition.sign`
/// can too (a disclosing signature would add the ring of attribute commitments and
/// the attribute's base, spec/08 §8.12).
#[derive(Clone, Debug)]
pub struct RingSignatureCheck {
    ring: Arc<Ring>,
    linking_base: RistrettoPoint,
    context: Vec<u8>,
    signature: triptych::Signature,
}

impl RingSignatureCheck {
    /// `signature` over `context` by a key of `ring`, with tag base `linking_base`.
    /// Signatures are batched only with those holding the same `Arc` (a ring two
    /// handlers prepared separately is verified in two batches: never one ring's
    /// signature against another's keys).
    pub fn new(
        ring: Arc<Ring>,
        linking_base: RistrettoPoint,
        context: Vec<u8>,
        signature: triptych::Signature,
    ) -> Self {
        Self {
            ring,
            linking_base,
            context,
            signature,
        }
    }

    /// The ring.
    pub fn ring(&self) -> &Arc<Ring> {
        &self.ring
    }

    /// The linking base U.
    pub fn linking_base(&self) -> &RistrettoPoint {
        &self.linking_base
    }

    /// The context bytes the signature binds.
    pub fn context(&self) -> &[u8] {
        &self.context
    }

    /// The signature.
    pub fn signature(&self) -> &triptych::Signature {
        &self.signature
    }

    /// Verifies it on its own.
    pub fn verify(&self) -> Result<(), triptych::Error> {
        triptych::verify(
            &self.ring,
            &self.linking_base,
            &self.context,
            &self.signature,
        )
    }
}

/// A read view of a context, for `check`.
pub struct ContextView<'a> {
    pub(crate) entry: &'a ContextEntry,
}

impl ContextView<'_> {
    /// The context's id.
    pub fn id(&self) -> ContextId {
        self.entry.id
    }
    /// Its type.
    pub fn context_type(&self) -> ContextType {
        self.entry.open.context_type
    }
    /// What opened it.
    pub fn open(&self) -> &ContextOpen {
        &self.entry.open
    }
    /// Its authority's Ed25519 key.
    pub fn authority(&self) -> &[u8; 32] {
        &self.entry.authority
    }
    /// Its current phase code.
    pub fn phase(&self) -> u8 {
        self.entry.phase
    }
    /// The index of its `context.open` record.
    pub fn opened_at(&self) -> u64 {
        self.entry.opened_at
    }
    /// The domain state, if it is of type `T`.
    pub fn data<T: Any>(&self) -> Option<&T> {
        self.entry.data.downcast_ref()
    }
    /// Its type's state machine.
    pub fn machine(&self) -> &dyn ContextMachine {
        self.entry.machine.as_ref()
    }
}

/// A context's state as `apply` may change it.
pub struct ContextMut<'a> {
    pub(crate) entry: &'a mut ContextEntry,
    pub(crate) replaying: bool,
}

impl ContextMut<'_> {
    /// Whether the board is rebuilding its state from the log on opening (work meant
    /// for live records, like warming a cache, can wait until it is asked for).
    pub fn is_replaying(&self) -> bool {
        self.replaying
    }
    /// A read view.
    pub fn view(&self) -> ContextView<'_> {
        ContextView { entry: self.entry }
    }
    /// The domain state, if it is of type `T`.
    pub fn data_mut<T: Any>(&mut self) -> Option<&mut T> {
        self.entry.data.downcast_mut()
    }
    pub(crate) fn set_phase(&mut self, phase: u8) {
        self.entry.phase = phase;
    }
    /// Seals (or re-seals) the context's parameters: from now on the prechecks of its
    /// records receive them. Only a barrier's apply may seal, so every record checked
    /// after it sees them.
    pub fn seal(&mut self, params: SealedParams) {
        self.entry.sealed = Some(params);
        self.entry.sealed_changed = true;
    }
}

/// One record kind's rules and steps.
pub trait KindHandler: Send + Sync + 'static {
    /// Its code.
    fn kind(&self) -> Kind;
    /// Its name (`ballot.cast`).
    fn name(&self) -> &'static str;
    /// Who may post it.
    fn poster(&self) -> Poster;
    /// Where it is accepted.
    fn scope(&self) -> Scope;
    /// How it is ordered against its context's other records. Barrier unless a kind
    /// says otherwise: it is always safe, only slower.
    fn sequencing(&self) -> Sequencing {
        Sequencing::Barrier
    }
    /// Stateless checks of the body: decoding, and the proof equations to batch.
    fn precheck(&self, record: &Record) -> Result<Prechecked, Rejection> {
        let _ = record;
        Ok(Prechecked::default())
    }
    /// The stateless checks with the sealed parameters of the record's context, if it
    /// has any (spec/12 §12.5); read without the state lock. Defaults to
    /// [`Self::precheck`].
    fn precheck_sealed(
        &self,
        record: &Record,
        sealed: Option<&SealedParams>,
    ) -> Result<Prechecked, Rejection> {
        let _ = sealed;
        self.precheck(record)
    }
    /// Why a record whose relations failed in a batch is refused, checked on its own to
    /// name the proof at fault; None to report `proof_field`. Its ring signature, if it
    /// left one to the board, has verified: a record whose signature fails is refused
    /// before its relations are batched.
    fn diagnose(&self, record: &Record, prechecked: &Prechecked) -> Option<Rejection> {
        let _ = (record, prechecked);
        None
    }
    /// Why a record whose deferred ring signature ([`Prechecked::ring_signature`])
    /// does not verify is refused. Defaults to `body.signature` with the failed
    /// equation.
    fn ring_signature_refused(
        &self,
        record: &Record,
        prechecked: &Prechecked,
        error: &triptych::Error,
    ) -> Rejection {
        let _ = (record, prechecked);
        Rejection::invalid_body(
            "body.signature",
            format!(
                "the ring signature does not verify ({}): {error}",
                error.spec_check()
            ),
        )
    }
    /// Ordered checks against the context (None only for a kind that opens one). The
    /// board has already checked the poster, scope and phase. Returns the unique keys
    /// the record takes.
    fn check(
        &self,
        record: &Record,
        prechecked: &Prechecked,
        context: Option<&ContextView<'_>>,
    ) -> Result<Vec<UniqueKey>, Rejection>;
    /// Applies a durable record to its context. Also run, in log order, on every
    /// record when the board opens, so it must depend on nothing but the record, its
    /// index and the state; it may not fail on a record that `check` accepted.
    fn apply(
        &self,
        record: &Record,
        index: u64,
        context: &mut ContextMut<'_>,
    ) -> Result<(), Rejection>;
    /// Told that a record which passed `check` will not be stored: its submitter went
    /// away before the store took it, or the store refused it. A handler that noted
    /// something in `check` for the record's way to the log (a chamber's record in
    /// flight, which holds its sittings) takes it back here, or it would stay until a
    /// restart. Not called for a record the store took: `apply` follows.
    fn released(&self, record: &Record) {
        let _ = record;
    }
    /// The unique keys of a durable record (the same keys `check` returned), so they
    /// can be rebuilt from the log.
    fn unique_keys(&self, record: &Record) -> Vec<UniqueKey> {
        let _ = record;
        Vec::new()
    }
}

/// What the board knows of a context.
pub(crate) struct ContextEntry {
    pub(crate) id: ContextId,
    pub(crate) open: ContextOpen,
    pub(crate) authority: [u8; 32],
    pub(crate) phase: u8,
    pub(crate) opened_at: u64,
    pub(crate) machine: Arc<dyn ContextMachine>,
    pub(crate) data: Box<dyn Any + Send + Sync>,
    pub(crate) taken: std::collections::HashSet<UniqueKey>,
    pub(crate) records: u64,
    pub(crate) sealed: Option<SealedParams>,
    /// Set by [`ContextMut::seal`] until the board publishes the new parameters.
    pub(crate) sealed_changed: bool,
}

/// A context, as the board lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContextSummary {
    /// Its id.
    pub id: ContextId,
    /// Its name.
    pub name: String,
    /// Its type's name.
    pub context_type: &'static str,
    /// Its authority's Ed25519 key.
    pub authority: [u8; 32],
    /// Its phase code.
    pub phase: u8,
    /// Its phase's name.
    pub phase_name: &'static str,
    /// The index of its `context.open` record.
    pub opened_at: u64,
    /// Hash of its parameters (from `context.open`).
    pub parameters: [u8; 32],
    /// Records of this context on the board (its `context.open` included).
    pub records: u64,
}

impl ContextEntry {
    pub(crate) fn summary(&self) -> ContextSummary {
        ContextSummary {
            id: self.id,
            name: self.open.name.clone(),
            context_type: self.machine.name(),
            authority: self.authority,
            phase: self.phase,
            phase_name: self.machine.phase_name(self.phase).unwrap_or("?"),
            opened_at: self.opened_at,
            parameters: self.open.parameters,
            records: self.records,
        }
    }
}

/// The kinds and context types a board accepts.
#[derive(Clone, Default)]
pub struct Registry {
    pub(crate) kinds: BTreeMap<u16, Arc<dyn KindHandler>>,
    pub(crate) machines: BTreeMap<u16, Arc<dyn ContextMachine>>,
}

impl Registry {
    /// The built-in kinds (`context.open`, `context.phase`) and no context type.
    pub fn with_builtin() -> Self {
        let mut registry = Self::default();
        registry.kinds.insert(
            urne_record::kinds::CONTEXT_OPEN.0,
            Arc::new(crate::builtin::OpenHandler),
        );
        registry.kinds.insert(
            urne_record::kinds::CONTEXT_PHASE.0,
            Arc::new(crate::builtin::PhaseHandler),
        );
        registry
    }

    /// The built-in kinds, the election, petition and sitting context types and their
    /// record kinds.
    pub fn standard() -> Self {
        let mut registry = Self::with_builtin();
        registry.machines.insert(
            ContextType::ELECTION.0,
            Arc::new(crate::election::ElectionMachine),
        );
        for kind in urne_election::kinds::ALL {
            registry
                .kinds
                .insert(kind.0, Arc::new(crate::election::ElectionKind::new(kind)));
        }
        crate::petition::register(&mut registry);
        crate::assembly::standard(&mut registry);
        registry
    }

    /// Adds a kind; refuses a code that is taken.
    pub fn register(&mut self, handler: Arc<dyn KindHandler>) -> Result<(), String> {
        let code = handler.kind().0;
        if self.kinds.contains_key(&code) {
            return Err(format!("record kind 0x{code:04x} is already registered"));
        }
        self.kinds.insert(code, handler);
        Ok(())
    }

    /// Adds a context type; refuses a code that is taken.
    pub fn register_context(&mut self, machine: Arc<dyn ContextMachine>) -> Result<(), String> {
        let code = machine.context_type().0;
        if self.machines.contains_key(&code) {
            return Err(format!("context type {code} is already registered"));
        }
        self.machines.insert(code, machine);
        Ok(())
    }

    /// A kind's handler.
    pub fn get(&self, kind: Kind) -> Option<&Arc<dyn KindHandler>> {
        self.kinds.get(&kind.0)
    }

    /// A context type's machine.
    pub fn machine(&self, context_type: ContextType) -> Option<&Arc<dyn ContextMachine>> {
        self.machines.get(&context_type.0)
    }

    /// Every kind, by code.
    pub fn all(&self) -> impl Iterator<Item = &Arc<dyn KindHandler>> {
        self.kinds.values()
    }
}
