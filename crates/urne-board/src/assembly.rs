//! Chambers and sittings on the board (spec/40-assembly.md): thin adapters from the kind API to
//! `urne_assembly`, whose pure fold holds every rule of a sitting's own records. The
//! recount a verifier runs is the same fold, plus checks the board cannot make from a
//! sitting: it never reads a secret division's election, so it accepts an election whose
//! credential list comes before the division's close or differs from the registrations,
//! trustees who are not members, and a `division.result` whose counts are not the
//! election's tally — the recount refuses those (spec/40 §40.12). It also cannot see the
//! real time a declared time was written at beyond its own clock (§40.2).

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use urne_assembly::{
    AssemblyError, CHAMBER_CONTEXT, ChamberPhase, ChamberState, Decoded, Phase, SittingState,
};
use urne_record::{ContextId, ContextType, Kind, Record};

use crate::error::{Code, Rejection};
use crate::handler::{
    ContextMachine, ContextMut, ContextView, KindHandler, NewContext, Poster, Prechecked, Registry,
    Scope, Sequencing, UniqueKey,
};

/// How far a time the presiding officer declares may be from the board's clock, in
/// seconds (spec/40 §40.2): a board refuses a division event declared further ahead or
/// behind, so the officer cannot jump the sitting clock to run delegations out.
pub const CLOCK_SKEW_SECONDS: u64 = 300;

/// The board's clock, in Unix seconds.
pub type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    })
}

/// Registers the chamber and sitting context types and the assembly's kinds, checking
/// declared times against `clock` (a simulation or a test gives its own; a board,
/// [`system_clock`]).
pub fn register_sittings(registry: &mut Registry, clock: &Clock) -> Result<(), String> {
    let chambers = SharedChambers::default();
    registry.register_context(Arc::new(ChamberMachine(chambers.clone())))?;
    registry.register_context(Arc::new(SittingMachine(chambers.clone())))?;
    for kind in urne_assembly::kinds::ALL {
        registry.register(handler(kind, clock, &chambers))?;
    }
    Ok(())
}

fn handler(kind: Kind, clock: &Clock, chambers: &SharedChambers) -> Arc<dyn KindHandler> {
    if urne_assembly::kinds::CHAMBER.contains(&kind) {
        Arc::new(ChamberKind::new(kind, chambers.clone()))
    } else {
        Arc::new(AssemblyKind::in_chambers(
            kind,
            clock.clone(),
            chambers.clone(),
        ))
    }
}

/// The chambers and sittings of `Registry::standard()`: the system clock.
pub(crate) fn standard(registry: &mut Registry) {
    let chambers = SharedChambers::default();
    registry.machines.insert(
        CHAMBER_CONTEXT.0,
        Arc::new(ChamberMachine(chambers.clone())),
    );
    registry.machines.insert(
        ContextType::SITTING.0,
        Arc::new(SittingMachine(chambers.clone())),
    );
    let clock = system_clock();
    for kind in urne_assembly::kinds::ALL {
        registry
            .kinds
            .insert(kind.0, handler(kind, &clock, &chambers));
    }
}

/// A chamber as the board holds it: its state, and its record checked and not yet
/// applied, if one is.
struct ChamberEntry {
    state: ChamberState,
    /// The hash of the chamber record that passed its check and is not applied yet.
    /// A chamber's records are barriers of the chamber alone, so while one is pending
    /// a record of one of its sittings, checked against the chamber as applied, could
    /// be judged against a roster that is no longer the one in force where it lands in
    /// the log: such a record is refused as `unavailable` (send it again) until the
    /// chamber record applies, or is dropped before the store takes it
    /// ([`KindHandler::released`]: its submitter went away, or the store refused it).
    /// Only one can be pending (barriers), so a later chamber check replaces it.
    pending: Option<[u8; 32]>,
}

/// The board's chambers (spec/40 §40.4), shared by the chamber and sitting handlers of
/// one registry: a sitting's checks read the roster in force in its chamber. Each
/// chamber's state is built by its records' apply, in log order, on open too, so it is
/// rebuilt from the log like every context's state.
#[derive(Clone, Default)]
pub struct SharedChambers(Arc<Mutex<HashMap<ContextId, ChamberEntry>>>);

impl SharedChambers {
    fn lock(&self) -> MutexGuard<'_, HashMap<ContextId, ChamberEntry>> {
        // A panic while holding it cannot leave a chamber half-changed: the fold checks
        // everything before it changes anything.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A chamber's context state on the board: a handle on its entry in [`SharedChambers`],
/// so readers outside the handlers (the public pages) can read the roster in force.
#[derive(Clone)]
pub struct ChamberHandle {
    chambers: SharedChambers,
    id: ContextId,
}

impl ChamberHandle {
    /// Reads the chamber's state (None if the board has no such chamber).
    pub fn read<R>(&self, read: impl FnOnce(&ChamberState) -> R) -> Option<R> {
        self.chambers.lock().get(&self.id).map(|e| read(&e.state))
    }
}

fn chamber_missing(id: ContextId) -> Rejection {
    Rejection::invalid_body(
        "context",
        format!(
            "the sitting's chamber {} is not open on the board",
            id.to_hex()
        ),
    )
}

fn chamber_busy(id: ContextId) -> Rejection {
    Rejection::new(
        Code::Unavailable,
        Some("context"),
        format!(
            "a record of the sitting's chamber {} is being appended; nothing was stored: send this record again",
            id.to_hex()
        ),
    )
}

/// The time a division event declares, if the record is one.
fn declared_time(decoded: &Decoded) -> Option<u64> {
    match decoded {
        Decoded::DivisionOpen(open) => Some(open.time),
        Decoded::DivisionSuspend(e)
        | Decoded::DivisionResume(e)
        | Decoded::DivisionClose(e)
        | Decoded::DivisionVoid(e) => Some(e.time),
        _ => None,
    }
}

/// An assembly error as the board's rejection: its code, and its field.
pub fn rejection(e: AssemblyError) -> Rejection {
    let code = match &e {
        AssemblyError::WrongPhase { .. } => Code::WrongPhase,
        AssemblyError::NotAuthorized { .. } => Code::NotAuthorized,
        AssemblyError::AlreadyUsed { .. } => Code::AlreadyUsed,
        _ => Code::InvalidBody,
    };
    let field = e.field().to_owned();
    Rejection::new(code, Some(&field), e.to_string())
}

/// The chamber's state machine (context type 4): `setup` → `in-force`. Its state
/// lives in [`SharedChambers`], where its sittings read it; the context holds its id.
pub struct ChamberMachine(SharedChambers);

fn chamber_phase(to: u8) -> Result<ChamberPhase, Rejection> {
    ChamberPhase::from_code(to)
        .ok_or_else(|| Rejection::invalid_body("body", format!("a chamber has no phase {to}")))
}

impl ContextMachine for ChamberMachine {
    fn context_type(&self) -> ContextType {
        CHAMBER_CONTEXT
    }
    fn name(&self) -> &'static str {
        "chamber"
    }
    fn initial_phase(&self) -> u8 {
        ChamberPhase::Setup.code()
    }
    fn phase_name(&self, phase: u8) -> Option<&'static str> {
        ChamberPhase::from_code(phase).map(ChamberPhase::name)
    }
    fn may_move(&self, from: u8, to: u8) -> bool {
        from == ChamberPhase::Setup.code() && to == ChamberPhase::InForce.code()
    }
    fn guard_move(&self, context: &ContextView<'_>, to: u8) -> Result<(), Rejection> {
        let to = chamber_phase(to)?;
        let mut chambers = self.0.lock();
        let entry = chambers
            .get_mut(&context.id())
            .ok_or_else(|| chamber_missing(context.id()))?;
        // No pending mark: this move only lets sittings open (setup → in-force, final),
        // so a sitting checked against the chamber before it applies is refused, never
        // wrongly accepted, and a move dropped on its way to the log leaves nothing set.
        entry.state.check_phase(to).map_err(rejection)
    }
    fn new_context_state(&self, context: &NewContext<'_>) -> Box<dyn Any + Send + Sync> {
        self.0.lock().insert(
            context.id,
            ChamberEntry {
                state: ChamberState::new(context.authority, context.open.parameters),
                pending: None,
            },
        );
        Box::new(ChamberHandle {
            chambers: self.0.clone(),
            id: context.id,
        })
    }
    fn apply_move(&self, context: &mut ContextMut<'_>, to: u8) -> Result<(), Rejection> {
        let to = chamber_phase(to)?;
        let id = context.view().id();
        let mut chambers = self.0.lock();
        let entry = chambers.get_mut(&id).ok_or_else(|| chamber_missing(id))?;
        entry.state.apply_phase(to);
        Ok(())
    }
}

/// The handler of a chamber's kind (`chamber.rules`, `roster.members`, `roster.change`).
pub struct ChamberKind {
    kind: Kind,
    name: &'static str,
    chambers: SharedChambers,
}

impl ChamberKind {
    /// The handler of `kind` (one of `urne_assembly::kinds::CHAMBER`) over `chambers`.
    pub fn new(kind: Kind, chambers: SharedChambers) -> Self {
        Self {
            kind,
            name: urne_assembly::kinds::label(kind),
            chambers,
        }
    }
}

impl KindHandler for ChamberKind {
    fn kind(&self) -> Kind {
        self.kind
    }
    fn name(&self) -> &'static str {
        self.name
    }
    fn poster(&self) -> Poster {
        // The chamber's state checks it: the presiding officer for the rules, the clerk
        // they name for the roster.
        Poster::HandlerDecides
    }
    fn scope(&self) -> Scope {
        Scope::In {
            types: vec![CHAMBER_CONTEXT],
            phases: Some(
                urne_assembly::chamber_phases(self.kind)
                    .iter()
                    .map(|p| p.code())
                    .collect(),
            ),
        }
    }
    fn precheck(&self, record: &Record) -> Result<Prechecked, Rejection> {
        Ok(Prechecked {
            decoded: Some(Box::new(decode(self.kind, record)?)),
            ..Prechecked::default()
        })
    }
    fn check(
        &self,
        record: &Record,
        prechecked: &Prechecked,
        context: Option<&ContextView<'_>>,
    ) -> Result<Vec<UniqueKey>, Rejection> {
        let context =
            context.ok_or_else(|| Rejection::unknown_context(&record.context().to_hex()))?;
        let decoded = prechecked_body(prechecked)?;
        let mut chambers = self.chambers.lock();
        let entry = chambers
            .get_mut(&context.id())
            .ok_or_else(|| chamber_missing(context.id()))?;
        entry
            .state
            .check(record.signer(), decoded)
            .map_err(rejection)?;
        entry.pending = Some(record.hash());
        Ok(Vec::new())
    }
    fn apply(
        &self,
        record: &Record,
        _index: u64,
        context: &mut ContextMut<'_>,
    ) -> Result<(), Rejection> {
        let decoded = decode(self.kind, record)?;
        let id = context.view().id();
        let mut chambers = self.chambers.lock();
        let entry = chambers.get_mut(&id).ok_or_else(|| chamber_missing(id))?;
        entry.state.apply(&decoded).map_err(rejection)?;
        if entry.pending == Some(record.hash()) {
            entry.pending = None;
        }
        Ok(())
    }
    fn released(&self, record: &Record) {
        let mut chambers = self.chambers.lock();
        if let Some(entry) = chambers.get_mut(&record.context())
            && entry.pending == Some(record.hash())
        {
            entry.pending = None;
        }
    }
}

fn decode(kind: Kind, record: &Record) -> Result<Decoded, Rejection> {
    urne_assembly::decode(kind, record.body())
        .ok_or_else(|| Rejection::unknown_kind(kind.0))?
        .map_err(rejection)
}

fn prechecked_body(prechecked: &Prechecked) -> Result<&Decoded, Rejection> {
    prechecked
        .decoded
        .as_ref()
        .and_then(|d| d.downcast_ref::<Decoded>())
        .ok_or_else(|| Rejection::invalid_body("body", "the record was not prechecked"))
}

/// The sitting's state machine (context type 3): `setup` → `in-session` → `closed`.
pub struct SittingMachine(SharedChambers);

fn sitting<'a>(context: &'a ContextView<'_>) -> Result<&'a SittingState, Rejection> {
    context.data::<SittingState>().ok_or_else(|| {
        Rejection::wrong_phase("a sitting record", "a context that is not a sitting")
    })
}

fn phase(to: u8) -> Result<Phase, Rejection> {
    Phase::from_code(to)
        .ok_or_else(|| Rejection::invalid_body("body", format!("a sitting has no phase {to}")))
}

impl ContextMachine for SittingMachine {
    fn context_type(&self) -> ContextType {
        ContextType::SITTING
    }
    fn name(&self) -> &'static str {
        "sitting"
    }
    fn initial_phase(&self) -> u8 {
        Phase::Setup.code()
    }
    fn phase_name(&self, phase: u8) -> Option<&'static str> {
        Phase::from_code(phase).map(Phase::name)
    }
    fn may_move(&self, from: u8, to: u8) -> bool {
        Phase::from_code(from)
            .and_then(Phase::next)
            .map(Phase::code)
            == Some(to)
    }
    fn guard_move(&self, context: &ContextView<'_>, to: u8) -> Result<(), Rejection> {
        let state = sitting(context)?;
        let chambers = self.0.lock();
        let entry = chambers.get(&state.chamber());
        if entry.is_some_and(|e| e.pending.is_some()) {
            return Err(chamber_busy(state.chamber()));
        }
        state
            .check_phase(entry.map(|e| &e.state), phase(to)?)
            .map_err(rejection)
    }
    fn new_context_state(&self, context: &NewContext<'_>) -> Box<dyn Any + Send + Sync> {
        Box::new(SittingState::new(
            context.authority,
            urne_assembly::chamber_of(context.open),
        ))
    }
    fn apply_move(&self, context: &mut ContextMut<'_>, to: u8) -> Result<(), Rejection> {
        let to = phase(to)?;
        context
            .data_mut::<SittingState>()
            .ok_or_else(|| Rejection::invalid_body("context", "not a sitting"))?
            .apply_phase(to);
        Ok(())
    }
}

/// The handler of one sitting kind: decoding in precheck, the rest against the
/// sitting's state and its chamber's.
pub struct AssemblyKind {
    kind: Kind,
    name: &'static str,
    clock: Clock,
    chambers: SharedChambers,
}

impl AssemblyKind {
    /// The handler of the sitting kind `kind`, checking declared times against `clock`,
    /// reading the chambers of `chambers`, which every assembly handler of one board
    /// shares.
    pub fn in_chambers(kind: Kind, clock: Clock, chambers: SharedChambers) -> Self {
        Self {
            kind,
            name: urne_assembly::kinds::label(kind),
            clock,
            chambers,
        }
    }

    /// Only the board can check this, at acceptance: the records carry no trusted time,
    /// and the recount bounds declared times by later cosigned checkpoints (§40.2).
    fn check_declared_time(&self, decoded: &Decoded) -> Result<(), Rejection> {
        let Some(time) = declared_time(decoded) else {
            return Ok(());
        };
        let now = (self.clock)();
        if time.abs_diff(now) > CLOCK_SKEW_SECONDS {
            return Err(Rejection::invalid_body(
                "body.time",
                format!(
                    "{}: declared time {time} is more than {CLOCK_SKEW_SECONDS} s from the board's clock, {now}",
                    self.name
                ),
            ));
        }
        Ok(())
    }
}

impl KindHandler for AssemblyKind {
    fn kind(&self) -> Kind {
        self.kind
    }
    fn name(&self) -> &'static str {
        self.name
    }
    fn poster(&self) -> Poster {
        // The sitting's state checks every poster: the presiding officer, or a member
        // by their key in force in the chamber.
        Poster::HandlerDecides
    }
    fn scope(&self) -> Scope {
        Scope::In {
            types: vec![ContextType::SITTING],
            phases: Some(
                urne_assembly::phases(self.kind)
                    .iter()
                    .map(|p| p.code())
                    .collect(),
            ),
        }
    }
    fn sequencing(&self) -> Sequencing {
        if urne_assembly::is_concurrent(self.kind) {
            Sequencing::Concurrent
        } else {
            Sequencing::Barrier
        }
    }
    fn precheck(&self, record: &Record) -> Result<Prechecked, Rejection> {
        Ok(Prechecked {
            decoded: Some(Box::new(decode(self.kind, record)?)),
            ..Prechecked::default()
        })
    }
    fn check(
        &self,
        record: &Record,
        prechecked: &Prechecked,
        context: Option<&ContextView<'_>>,
    ) -> Result<Vec<UniqueKey>, Rejection> {
        let context =
            context.ok_or_else(|| Rejection::unknown_context(&record.context().to_hex()))?;
        let decoded = prechecked_body(prechecked)?;
        let state = sitting(context)?;
        let keys = {
            let chambers = self.chambers.lock();
            let entry = chambers
                .get(&state.chamber())
                .ok_or_else(|| chamber_missing(state.chamber()))?;
            if entry.pending.is_some() {
                return Err(chamber_busy(state.chamber()));
            }
            state
                .check(&entry.state, record.signer(), decoded)
                .map_err(rejection)?
        };
        self.check_declared_time(decoded)?;
        Ok(keys
            .into_iter()
            .map(|k| UniqueKey {
                space: k.space,
                key: k.key,
            })
            .collect())
    }
    // `unique_keys` stays empty: a durable vote is in the sitting's roll call, whose
    // check refuses a second one under "first cast is final"; the key only guards
    // votes pending at the same moment.
    fn apply(
        &self,
        record: &Record,
        index: u64,
        context: &mut ContextMut<'_>,
    ) -> Result<(), Rejection> {
        let decoded = decode(self.kind, record)?;
        let state = context
            .data_mut::<SittingState>()
            .ok_or_else(|| Rejection::invalid_body("context", "not a sitting"))?;
        let chambers = self.chambers.lock();
        let chamber = chambers
            .get(&state.chamber())
            .ok_or_else(|| chamber_missing(state.chamber()))?;
        state
            .apply(&chamber.state, record.signer(), &decoded, index)
            .map_err(rejection)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::collections::HashSet;

    use ed25519_dalek::SigningKey;
    use urne_assembly::{Member, Presence, Quorum, Roster, RosterChange, RosterOp, Rules, kinds};
    use urne_record::ContextOpen;

    use super::*;
    use crate::handler::ContextEntry;

    fn entry(
        id: ContextId,
        machine: Arc<dyn ContextMachine>,
        data: Box<dyn Any + Send + Sync>,
        phase: u8,
        authority: [u8; 32],
    ) -> ContextEntry {
        ContextEntry {
            id,
            open: ContextOpen {
                context_type: machine.context_type(),
                nonce: [0; 16],
                name: "test".into(),
                parameters: [0; 32],
            },
            authority,
            phase,
            opened_at: 0,
            machine,
            data,
            taken: HashSet::new(),
            records: 1,
            sealed: None,
            sealed_changed: false,
        }
    }

    fn checked(
        handler: &dyn KindHandler,
        record: &Record,
        entry: &ContextEntry,
    ) -> Result<Vec<UniqueKey>, Rejection> {
        let prechecked = handler.precheck(record)?;
        handler.check(record, &prechecked, Some(&ContextView { entry }))
    }

    /// The race the pending mark closes: a roster change checked and not yet applied,
    /// then a record of a sitting signed by the key it revokes. Checked against the
    /// chamber as applied, the record would pass and land in the log after the change —
    /// where the recount refuses it.
    #[test]
    fn a_sitting_record_is_not_checked_while_its_chamber_has_a_record_pending() {
        let officer = SigningKey::from_bytes(&[1; 32]);
        let clerk = SigningKey::from_bytes(&[2; 32]);
        let member = SigningKey::from_bytes(&[3; 32]);
        let rules = Rules {
            clerk: clerk.verifying_key().to_bytes(),
            quorum: Quorum::Number(1),
            proxies_count_for_quorum: false,
            vote_change: urne_assembly::VoteChange::FinalOnFirstCast,
            max_proxies_held: 0,
            proxies_in_secret_ballots: false,
            secret: urne_assembly::SecretRules {
                trustees: 3,
                threshold: 2,
                min_registrants: 3,
            },
        };
        let authority = officer.verifying_key().to_bytes();
        let mut state =
            ChamberState::new(authority, urne_assembly::parameters_hash(&rules.to_body()));
        let roster = Roster {
            version: 1,
            groups: vec!["A".into()],
            members: vec![Member {
                key: member.verifying_key().to_bytes(),
                group: 0,
                name: "M".into(),
            }],
        };
        for decoded in [Decoded::Rules(rules), Decoded::Roster(roster)] {
            state.apply(&decoded).unwrap();
        }
        state.apply_phase(ChamberPhase::InForce);
        let chamber = ContextId([4; 32]);
        let sitting = ContextId([3; 32]);
        let chambers = SharedChambers::default();
        chambers.lock().insert(
            chamber,
            ChamberEntry {
                state,
                pending: None,
            },
        );
        let mut sitting_state = SittingState::new(authority, chamber);
        sitting_state.apply_phase(Phase::InSession);
        let sitting_entry = entry(
            sitting,
            Arc::new(SittingMachine(chambers.clone())),
            Box::new(sitting_state),
            Phase::InSession.code(),
            authority,
        );
        let mut chamber_entry = entry(
            chamber,
            Arc::new(ChamberMachine(chambers.clone())),
            Box::new(chamber),
            ChamberPhase::InForce.code(),
            authority,
        );
        let clock: Clock = Arc::new(|| 0);
        let presence = AssemblyKind::in_chambers(kinds::PRESENCE, clock, chambers.clone());
        let here = Presence {
            sequence: 1,
            roster_version: 1,
            present: true,
        }
        .to_body();
        let arrives = Record::sign(sitting, kinds::PRESENCE, &here, &member).unwrap();
        // Nothing pending: accepted.
        checked(&presence, &arrives, &sitting_entry).unwrap();
        // The clerk's revocation passes its check: pending until applied.
        let change = ChamberKind::new(kinds::ROSTER_CHANGE, chambers.clone());
        let revoke = RosterChange {
            version: 2,
            member: 0,
            op: RosterOp::Revoke,
        }
        .to_body();
        let revoke = Record::sign(chamber, kinds::ROSTER_CHANGE, &revoke, &clerk).unwrap();
        checked(&change, &revoke, &chamber_entry).unwrap();
        let e = checked(&presence, &arrives, &sitting_entry).unwrap_err();
        assert_eq!(
            (e.code, e.field.as_deref()),
            (Code::Unavailable, Some("context")),
            "{e}"
        );
        // Dropped before the store took it (its submitter went away): the chamber holds
        // its sittings no more, and the roster in force is still the one without it.
        change.released(&revoke);
        checked(&presence, &arrives, &sitting_entry).unwrap();
        // Checked again and, this time, applied.
        checked(&change, &revoke, &chamber_entry).unwrap();
        // Applied: the member's key is revoked, and the refusal says so.
        change
            .apply(
                &revoke,
                7,
                &mut ContextMut {
                    entry: &mut chamber_entry,
                    replaying: false,
                },
            )
            .unwrap();
        let e = checked(&presence, &arrives, &sitting_entry).unwrap_err();
        assert_eq!(
            (e.code, e.field.as_deref()),
            (Code::NotAuthorized, Some("signer")),
            "{e}"
        );
    }
}
