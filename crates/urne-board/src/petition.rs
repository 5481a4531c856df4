//! Petitions on the board (spec/32-petitions.md): thin adapters from the kind API to
//! `urne_petition`, whose pure fold holds every rule. The verifier replays the same fold
//! (`urne_petition::recount`), so the board cannot accept what it would refuse.

use std::any::Any;
use std::sync::Arc;

use urne_petition::kinds::{PETITION_DUPLICATE, PETITION_SIGN, PETITION_WITHDRAW};
use urne_petition::{Decoded, PetitionError, PetitionState, Phase, Sealed};
use urne_record::{ContextType, Kind, Record};

use crate::error::{Code, Rejection};
use crate::handler::{
    ContextMachine, ContextMut, ContextView, KindHandler, NewContext, Poster, Prechecked, Scope,
    SealedParams, Sequencing, UniqueKey,
};

/// A petition error as the board's rejection: its code, and its field.
pub fn rejection(e: PetitionError) -> Rejection {
    let code = match &e {
        PetitionError::WrongPhase { .. } => Code::WrongPhase,
        PetitionError::NotAuthorized(_) => Code::NotAuthorized,
        PetitionError::AlreadyUsed { .. } => Code::AlreadyUsed,
        _ => Code::InvalidBody,
    };
    let field = e.field().to_owned();
    Rejection::new(code, Some(&field), e.to_string())
}

fn petition<'a>(context: &'a ContextView<'_>) -> Result<&'a PetitionState, Rejection> {
    context.data::<PetitionState>().ok_or_else(|| {
        Rejection::wrong_phase("a petition record", "a context that is not a petition")
    })
}

fn phase(code: u8) -> Result<Phase, Rejection> {
    Phase::from_code(code)
        .ok_or_else(|| Rejection::invalid_body("body", format!("a petition has no phase {code}")))
}

/// The petition's state machine: phases and moves are `urne_petition::Phase`'s, their
/// conditions the petition state's.
pub struct PetitionMachine;

impl ContextMachine for PetitionMachine {
    fn context_type(&self) -> ContextType {
        ContextType::PETITION
    }
    fn name(&self) -> &'static str {
        "petition"
    }
    fn initial_phase(&self) -> u8 {
        Phase::Draft.code()
    }
    fn phase_name(&self, code: u8) -> Option<&'static str> {
        Phase::from_code(code).map(Phase::name)
    }
    fn may_move(&self, from: u8, to: u8) -> bool {
        matches!((Phase::from_code(from), Phase::from_code(to)), (Some(f), Some(t)) if f.may_move(t))
    }
    fn guard_move(&self, context: &ContextView<'_>, to: u8) -> Result<(), Rejection> {
        petition(context)?
            .check_phase(phase(to)?)
            .map_err(rejection)
    }
    fn new_context_state(&self, context: &NewContext<'_>) -> Box<dyn Any + Send + Sync> {
        Box::new(PetitionState::new(
            context.id.0,
            context.authority,
            context.open.parameters,
        ))
    }
    fn apply_move(&self, context: &mut ContextMut<'_>, to: u8) -> Result<(), Rejection> {
        let to = phase(to)?;
        let state = context
            .data_mut::<PetitionState>()
            .ok_or_else(|| Rejection::invalid_body("context", "not a petition"))?;
        state.apply_phase(to).map_err(rejection)?;
        if to == Phase::Open
            && let Some(sealed) = state.sealed().cloned()
        {
            context.seal(sealed as SealedParams);
        }
        Ok(())
    }
}

/// The handler of one petition kind.
pub struct PetitionKind {
    kind: Kind,
    name: &'static str,
}

impl PetitionKind {
    /// The handler of `kind` (one of `urne_petition::kinds::ALL`).
    pub fn new(kind: Kind) -> Self {
        Self {
            kind,
            name: urne_petition::kinds::name(kind).unwrap_or("petition record"),
        }
    }

    /// Anonymous kinds: posted by any (one-time) key, concurrent, a ring signature each.
    fn is_signature(&self) -> bool {
        self.kind == PETITION_SIGN
            || self.kind == PETITION_WITHDRAW
            || self.kind == PETITION_DUPLICATE
    }
}

impl KindHandler for PetitionKind {
    fn kind(&self) -> Kind {
        self.kind
    }
    fn name(&self) -> &'static str {
        self.name
    }
    fn poster(&self) -> Poster {
        if self.is_signature() {
            // The ring signature authorises it; the envelope key is a one-time key.
            Poster::HandlerDecides
        } else {
            Poster::ContextAuthority
        }
    }
    fn scope(&self) -> Scope {
        use urne_petition::kinds::*;
        let phases = match self.kind {
            PETITION_SIGN | PETITION_WITHDRAW => vec![Phase::Open],
            PETITION_RESULT => vec![Phase::Closed],
            // Evidence of an attempt stays worth keeping after the count is final.
            PETITION_DUPLICATE => vec![
                Phase::Open,
                Phase::Closed,
                Phase::Reached,
                Phase::NotReached,
            ],
            _ => vec![Phase::Draft],
        };
        Scope::In {
            types: vec![ContextType::PETITION],
            phases: Some(phases.into_iter().map(Phase::code).collect()),
        }
    }
    fn sequencing(&self) -> Sequencing {
        if self.is_signature() {
            Sequencing::Concurrent
        } else {
            Sequencing::Barrier
        }
    }
    fn precheck_sealed(
        &self,
        record: &Record,
        sealed: Option<&SealedParams>,
    ) -> Result<Prechecked, Rejection> {
        let mut decoded = Decoded::decode(self.kind, record.body())
            .ok_or_else(|| Rejection::unknown_kind(self.kind.0))?
            .map_err(rejection)?;
        let sealed = sealed.and_then(|s| s.clone().downcast::<Sealed>().ok());
        PetitionState::precheck(sealed.as_deref(), record.signer(), &mut decoded)
            .map_err(rejection)?;
        Ok(Prechecked {
            relations: None,
            proof_field: "body.signature",
            decoded: Some(Box::new(decoded)),
            ring_signature: None,
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
        let keys = petition(context)?
            .check(record.signer(), decoded)
            .map_err(rejection)?;
        Ok(keys
            .into_iter()
            .map(|(space, key)| UniqueKey { space, key })
            .collect())
    }
    // `unique_keys` stays empty: a durable tag is in the petition's state, whose check
    // refuses it naming the record that holds it; the board only reserves pending ones.
    fn apply(
        &self,
        record: &Record,
        index: u64,
        context: &mut ContextMut<'_>,
    ) -> Result<(), Rejection> {
        let state = context
            .data_mut::<PetitionState>()
            .ok_or_else(|| Rejection::invalid_body("context", "not a petition"))?;
        state
            .apply(self.kind, record.body(), index)
            .map_err(rejection)
    }
}

/// Registers the petition context type and its kinds.
pub(crate) fn register(registry: &mut crate::handler::Registry) {
    registry
        .machines
        .insert(ContextType::PETITION.0, Arc::new(PetitionMachine));
    for kind in urne_petition::kinds::ALL {
        registry
            .kinds
            .insert(kind.0, Arc::new(PetitionKind::new(kind)));
    }
}
