//! Sittings on the board (spec/40-assembly.md): thin adapters from the kind API to
//! `urne_assembly`, whose pure fold holds every rule. The recount a verifier runs is the
//! same fold, so the board cannot accept a record the recount would refuse.

use std::any::Any;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use urne_assembly::{AssemblyError, Chamber, Decoded, Phase, SittingState};
use urne_record::{ContextType, Kind, Record};

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

/// Registers the sitting context type and the assembly's kinds, checking declared times
/// against `clock` (a simulation or a test gives its own; a board, [`system_clock`]).
pub fn register_sittings(registry: &mut Registry, clock: &Clock) -> Result<(), String> {
    registry.register_context(Arc::new(SittingMachine))?;
    let chamber = SharedChamber::default();
    for kind in urne_assembly::kinds::ALL {
        registry.register(Arc::new(AssemblyKind::in_chamber(
            kind,
            clock.clone(),
            chamber.clone(),
        )))?;
    }
    Ok(())
}

/// The sittings of `Registry::standard()`: the system clock, one chamber.
pub(crate) fn standard(registry: &mut Registry) {
    registry
        .machines
        .insert(ContextType::SITTING.0, Arc::new(SittingMachine));
    let clock = system_clock();
    let chamber = SharedChamber::default();
    for kind in urne_assembly::kinds::ALL {
        registry.kinds.insert(
            kind.0,
            Arc::new(AssemblyKind::in_chamber(
                kind,
                clock.clone(),
                chamber.clone(),
            )),
        );
    }
}

/// The chamber across the board's sittings (spec/40 §40.4, "Across sittings"), shared
/// by the handlers of one registry: its apply runs in log order, on open too, so it is
/// rebuilt from the log like every context's state.
#[derive(Clone, Default)]
pub struct SharedChamber(Arc<Mutex<Chamber>>);

impl SharedChamber {
    fn lock(&self) -> MutexGuard<'_, Chamber> {
        // A panic while holding it cannot leave it half-changed: its apply only inserts.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
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

/// The sitting's state machine (context type 3): `setup` → `in-session` → `closed`.
pub struct SittingMachine;

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
        sitting(context)?.check_phase(phase(to)?).map_err(rejection)
    }
    fn new_context_state(&self, context: &NewContext<'_>) -> Box<dyn Any + Send + Sync> {
        Box::new(SittingState::new(
            context.authority,
            context.open.parameters,
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

/// The handler of one assembly kind: decoding in precheck, the rest against the
/// sitting's state.
pub struct AssemblyKind {
    kind: Kind,
    name: &'static str,
    clock: Clock,
    chamber: SharedChamber,
}

impl AssemblyKind {
    /// The handler of `kind` (one of `urne_assembly::kinds::ALL`), on the system clock.
    pub fn new(kind: Kind) -> Self {
        Self::with_clock(kind, system_clock())
    }

    /// The handler of `kind`, checking declared times against `clock`, alone in its
    /// chamber.
    pub fn with_clock(kind: Kind, clock: Clock) -> Self {
        Self::in_chamber(kind, clock, SharedChamber::default())
    }

    /// The handler of `kind` in `chamber`, which every assembly kind of one board shares.
    pub fn in_chamber(kind: Kind, clock: Clock, chamber: SharedChamber) -> Self {
        Self {
            kind,
            name: urne_assembly::kinds::label(kind),
            clock,
            chamber,
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

    fn decode(&self, record: &Record) -> Result<Decoded, Rejection> {
        urne_assembly::decode(self.kind, record.body())
            .ok_or_else(|| Rejection::unknown_kind(self.kind.0))?
            .map_err(rejection)
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
        // The sitting's state checks every poster: the presiding officer, the clerk
        // its rules name, or a member by their key in force.
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
            decoded: Some(Box::new(self.decode(record)?)),
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
        let decoded = prechecked
            .decoded
            .as_ref()
            .and_then(|d| d.downcast_ref::<Decoded>())
            .ok_or_else(|| Rejection::invalid_body("body", "the record was not prechecked"))?;
        let keys = sitting(context)?
            .check(record.signer(), decoded)
            .map_err(rejection)?;
        self.chamber.lock().check(decoded).map_err(rejection)?;
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
        let decoded = self.decode(record)?;
        let state = context
            .data_mut::<SittingState>()
            .ok_or_else(|| Rejection::invalid_body("context", "not a sitting"))?;
        self.chamber.lock().apply(&decoded, state);
        state
            .apply(record.signer(), &decoded, index)
            .map_err(rejection)
    }
}
