//! Elections on the board (spec/23-election-records.md): the election's context type —
//! its phases and the state its records build — and the handlers of its record kinds.
//! The checks themselves are the domain crates' (urne-credential, and as they land
//! urne-ceremony, urne-ballot, urne-tally), so the verifier runs the same ones without
//! this crate.

use std::any::Any;

use urne_credential::{CredentialList, CredentialListPart, ListAssembler};
use urne_record::{ContextOpen, ContextType, Kind, Record};

use crate::builtin::{ELECTION_PHASES, LinearMachine};
use crate::error::Rejection;
use crate::handler::{
    ContextMachine, ContextMut, ContextView, KindHandler, Poster, Prechecked, Scope, UniqueKey,
};

/// `election.credentials`: one part of the public credential list (spec/22 §22.3).
pub const ELECTION_CREDENTIALS: Kind = Kind(0x0110);

/// Phase codes of an election (spec/12 §12.3).
pub mod phase {
    /// Parameters are set.
    pub const SETUP: u8 = 0;
    /// Trustees run the key ceremony.
    pub const CEREMONY: u8 = 1;
    /// The registrar posts the credential list.
    pub const REGISTRATION: u8 = 2;
    /// Ballots are accepted.
    pub const VOTING: u8 = 3;
    /// No more ballots.
    pub const CLOSED: u8 = 4;
    /// Trustees decrypt.
    pub const TALLYING: u8 = 5;
    /// The result is published.
    pub const PUBLISHED: u8 = 6;
}

/// What the board keeps of an election.
#[derive(Default)]
pub struct ElectionState {
    credentials: ListAssembler,
    list: Option<CredentialList>,
}

impl ElectionState {
    /// The credential list, once every part of it is on the board.
    pub fn credential_list(&self) -> Option<&CredentialList> {
        self.list.as_ref()
    }
}

/// The election's state machine: phases one step at a time (§12.3); voting opens only
/// once the credential list is complete, so the list is frozen before the first ballot.
pub struct ElectionMachine;

const LINEAR: LinearMachine =
    LinearMachine::new(ContextType::ELECTION, "election", ELECTION_PHASES);

impl ContextMachine for ElectionMachine {
    fn context_type(&self) -> ContextType {
        ContextType::ELECTION
    }
    fn name(&self) -> &'static str {
        "election"
    }
    fn initial_phase(&self) -> u8 {
        phase::SETUP
    }
    fn phase_name(&self, phase: u8) -> Option<&'static str> {
        LINEAR.phase_name(phase)
    }
    fn may_move(&self, from: u8, to: u8) -> bool {
        LINEAR.may_move(from, to)
    }
    fn guard_move(&self, context: &ContextView<'_>, to: u8) -> Result<(), Rejection> {
        let complete = context
            .data::<ElectionState>()
            .is_some_and(|s| s.list.is_some());
        if to == phase::VOTING && !complete {
            return Err(Rejection::invalid_body(
                "body",
                "voting cannot open before the credential list is complete on the board",
            ));
        }
        Ok(())
    }
    fn new_state(&self, _: &ContextOpen) -> Box<dyn Any + Send + Sync> {
        Box::new(ElectionState::default())
    }
}

fn state<'a>(context: Option<&'a ContextView<'_>>) -> Result<&'a ElectionState, Rejection> {
    context
        .and_then(|c| c.data::<ElectionState>())
        .ok_or_else(|| {
            Rejection::wrong_phase("election.credentials", "a context that is not an election")
        })
}

/// A credential-list error as a rejection naming `body.<field of spec/22>`.
fn list_rejection(e: urne_credential::CredentialError) -> Rejection {
    use urne_credential::CredentialError;
    match e {
        CredentialError::Decode { field, reason } => {
            Rejection::invalid_body(&format!("body.{field}"), reason)
        }
        CredentialError::Order { index } => {
            Rejection::invalid_body(&format!("body.entries[{index}]"), e.to_string())
        }
        other => Rejection::invalid_body("body", other.to_string()),
    }
}

fn decode_part(record: &Record) -> Result<CredentialListPart, Rejection> {
    CredentialListPart::decode(record.body()).map_err(list_rejection)
}

/// `election.credentials`: posted by the election's authority (its registrar) during
/// registration, parts in order; a barrier (voting's opening reads the list).
pub struct CredentialListHandler;

impl KindHandler for CredentialListHandler {
    fn kind(&self) -> Kind {
        ELECTION_CREDENTIALS
    }
    fn name(&self) -> &'static str {
        "election.credentials"
    }
    fn poster(&self) -> Poster {
        Poster::ContextAuthority
    }
    fn scope(&self) -> Scope {
        Scope::In {
            types: vec![ContextType::ELECTION],
            phases: Some(vec![phase::REGISTRATION]),
        }
    }
    fn precheck(&self, record: &Record) -> Result<Prechecked, Rejection> {
        Ok(Prechecked {
            decoded: Some(Box::new(decode_part(record)?)),
            ..Prechecked::default()
        })
    }
    fn check(
        &self,
        record: &Record,
        prechecked: &Prechecked,
        context: Option<&ContextView<'_>>,
    ) -> Result<Vec<UniqueKey>, Rejection> {
        let state = state(context)?;
        if state.list.is_some() {
            return Err(Rejection::invalid_body(
                "body",
                "the credential list is complete; a second list is refused",
            ));
        }
        let decoded;
        let part = match prechecked
            .decoded
            .as_ref()
            .and_then(|d| d.downcast_ref::<CredentialListPart>())
        {
            Some(part) => part,
            None => {
                decoded = decode_part(record)?;
                &decoded
            }
        };
        state.credentials.check(part).map_err(list_rejection)?;
        Ok(Vec::new())
    }
    fn apply(
        &self,
        record: &Record,
        _: u64,
        context: &mut ContextMut<'_>,
    ) -> Result<(), Rejection> {
        let part = decode_part(record)?;
        let state = context
            .data_mut::<ElectionState>()
            .ok_or_else(|| Rejection::invalid_body("context", "not an election"))?;
        state.credentials.push(&part).map_err(list_rejection)?;
        if state.credentials.is_complete() {
            let assembled = std::mem::take(&mut state.credentials);
            state.list = Some(assembled.finish().map_err(list_rejection)?);
        }
        Ok(())
    }
}
