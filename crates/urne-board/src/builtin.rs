//! The kinds every board knows — `context.open` and `context.phase` (spec/12 §12.2–§12.4)
//! — and [`LinearMachine`], the state machine of a context whose phases follow one
//! another in a fixed order.

use urne_record::kinds::{CONTEXT_OPEN, CONTEXT_PHASE};
use urne_record::{ContextId, ContextOpen, ContextPhase, ContextType, Kind, Record};

use crate::error::Rejection;
use crate::handler::{
    ContextMachine, ContextMut, ContextView, KindHandler, Poster, Prechecked, Scope, UniqueKey,
};

/// `context.open`. The board itself creates the context when the record is durable
/// (it needs the registry's machine for the type), so `apply` has nothing to do.
pub(crate) struct OpenHandler;

impl KindHandler for OpenHandler {
    fn kind(&self) -> Kind {
        CONTEXT_OPEN
    }
    fn name(&self) -> &'static str {
        "context.open"
    }
    fn poster(&self) -> Poster {
        Poster::BoardAuthority
    }
    fn scope(&self) -> Scope {
        Scope::Opens
    }
    fn precheck(&self, record: &Record) -> Result<Prechecked, Rejection> {
        let open = ContextOpen::parse(record.body())?;
        if record.context() != ContextId::derive(record.signer(), record.body()) {
            return Err(Rejection::invalid_body(
                "context",
                "the context id of a context.open record must be SHA-256(\"urne/v2/context\\n\" ‖ signer ‖ body)",
            ));
        }
        Ok(Prechecked {
            decoded: Some(Box::new(open)),
            ..Prechecked::default()
        })
    }
    fn check(
        &self,
        _record: &Record,
        _prechecked: &Prechecked,
        _context: Option<&ContextView<'_>>,
    ) -> Result<Vec<UniqueKey>, Rejection> {
        Ok(Vec::new())
    }
    fn apply(&self, _: &Record, _: u64, _: &mut ContextMut<'_>) -> Result<(), Rejection> {
        Ok(())
    }
}

/// `context.phase`: a move its context's machine allows.
pub(crate) struct PhaseHandler;

impl KindHandler for PhaseHandler {
    fn kind(&self) -> Kind {
        CONTEXT_PHASE
    }
    fn name(&self) -> &'static str {
        "context.phase"
    }
    fn poster(&self) -> Poster {
        Poster::ContextAuthority
    }
    fn scope(&self) -> Scope {
        Scope::In {
            types: Vec::new(),
            phases: None,
        }
    }
    fn precheck(&self, record: &Record) -> Result<Prechecked, Rejection> {
        ContextPhase::parse(record.body())?;
        Ok(Prechecked::default())
    }
    fn check(
        &self,
        record: &Record,
        _prechecked: &Prechecked,
        context: Option<&ContextView<'_>>,
    ) -> Result<Vec<UniqueKey>, Rejection> {
        let context =
            context.ok_or_else(|| Rejection::unknown_context(&record.context().to_hex()))?;
        let to = ContextPhase::parse(record.body())?.to;
        let machine = context.machine();
        let from = context.phase();
        if !machine.may_move(from, to) {
            let from_name = machine.phase_name(from).unwrap_or("?");
            return Err(match machine.phase_name(to) {
                None => Rejection::invalid_body(
                    "body",
                    format!("a {} has no phase {to}", machine.name()),
                ),
                Some(to_name) => Rejection::wrong_phase_move(machine.name(), from_name, to_name),
            });
        }
        machine.guard_move(context, to)?;
        Ok(Vec::new())
    }
    fn apply(
        &self,
        record: &Record,
        _: u64,
        context: &mut ContextMut<'_>,
    ) -> Result<(), Rejection> {
        let to = ContextPhase::parse(record.body())?.to;
        let machine = context.entry.machine.clone();
        machine.apply_move(context, to)?;
        context.set_phase(to);
        Ok(())
    }
}

/// A context type whose phases follow one another in a fixed order, one step at a time,
/// the last one final (an election: setup → ceremony → registration → voting → closed →
/// tallying → published).
pub struct LinearMachine {
    context_type: ContextType,
    name: &'static str,
    phases: &'static [&'static str],
}

impl LinearMachine {
    /// A machine over `phases`, in order; phase codes are their positions.
    pub const fn new(
        context_type: ContextType,
        name: &'static str,
        phases: &'static [&'static str],
    ) -> Self {
        Self {
            context_type,
            name,
            phases,
        }
    }

    /// A machine over the election's phases (their one definition is
    /// `urne_election::Phase`), for tools that name phases; the board's election type is
    /// [`crate::election::ElectionMachine`].
    pub const fn election() -> Self {
        Self::new(
            ContextType::ELECTION,
            "election",
            urne_election::PHASE_NAMES,
        )
    }

    /// A phase's code by name.
    pub fn phase_code(&self, name: &str) -> Option<u8> {
        self.phases
            .iter()
            .position(|p| *p == name)
            .and_then(|i| u8::try_from(i).ok())
    }
}

impl ContextMachine for LinearMachine {
    fn context_type(&self) -> ContextType {
        self.context_type
    }
    fn name(&self) -> &'static str {
        self.name
    }
    fn initial_phase(&self) -> u8 {
        0
    }
    fn phase_name(&self, phase: u8) -> Option<&'static str> {
        self.phases.get(usize::from(phase)).copied()
    }
    fn may_move(&self, from: u8, to: u8) -> bool {
        usize::from(to) < self.phases.len() && u16::from(from) + 1 == u16::from(to)
    }
}
