//! Replaying an election from its log (spec/23 §23.10): every record of the election's
//! context, in log order, through the same checks the board ran on arrival, one by
//! one. What the verifier and `urne demo` use to re-derive the outcome.

use urne_record::kinds::{CONTEXT_OPEN, CONTEXT_PHASE};
use urne_record::{ContextId, ContextOpen, ContextPhase, ContextType, Record};

use crate::error::ElectionError;
use crate::phase::Phase;
use crate::state::{ElectionState, decode};

/// The first record of an election's log that its rules refuse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("record {index}: {error}")]
pub struct Fault {
    /// Its index in the log.
    pub index: u64,
    /// Why.
    pub error: ElectionError,
}

/// The fold of one election's records.
pub struct Replay {
    id: ContextId,
    origin: String,
    state: Option<ElectionState>,
}

impl Replay {
    /// A replay of the election `id` on the board of `origin`.
    pub fn new(id: ContextId, origin: &str) -> Self {
        Self {
            id,
            origin: origin.to_owned(),
            state: None,
        }
    }

    /// The state so far (None before the election's `context.open`).
    pub fn state(&self) -> Option<&ElectionState> {
        self.state.as_ref()
    }

    /// The state at the end of the replay.
    pub fn into_state(self) -> Option<ElectionState> {
        self.state
    }

    /// Feeds the record at `index`; records of other contexts are passed over.
    pub fn feed(&mut self, index: u64, record: &Record) -> Result<(), Fault> {
        if record.context() != self.id {
            return Ok(());
        }
        let fault = |error: ElectionError| Fault { index, error };
        let invalid = |kind: &'static str, field: &str, detail: String| {
            fault(ElectionError::Invalid {
                kind,
                field: field.to_owned(),
                detail,
            })
        };
        let kind_name = crate::kinds::name(record.kind()).unwrap_or("record");
        record
            .verify_signature()
            .map_err(|e| invalid(kind_name, "signature", e.to_string()))?;
        if record.kind() == CONTEXT_OPEN {
            let open = ContextOpen::parse(record.body())
                .map_err(|e| invalid("context.open", e.field(), e.to_string()))?;
            if self.state.is_some()
                || open.context_type != ContextType::ELECTION
                || ContextId::derive(record.signer(), record.body()) != self.id
            {
                return Err(invalid(
                    "context.open",
                    "context",
                    "not the opening of this election".into(),
                ));
            }
            self.state = Some(ElectionState::new(
                self.id.0,
                *record.signer(),
                open.parameters,
                &self.origin,
            ));
            return Ok(());
        }
        let Some(state) = self.state.as_mut() else {
            return Err(invalid(
                kind_name,
                "context",
                "a record before the election's context.open".into(),
            ));
        };
        if record.kind() == CONTEXT_PHASE {
            if record.signer() != state.authority() {
                return Err(fault(ElectionError::NotAuthorized {
                    kind: "context.phase",
                    detail: "must be signed by the election's authority".into(),
                }));
            }
            let to = ContextPhase::parse(record.body())
                .map_err(|e| invalid("context.phase", e.field(), e.to_string()))?
                .to;
            let to = Phase::from_code(to).ok_or_else(|| {
                invalid(
                    "context.phase",
                    "body",
                    format!("an election has no phase {to}"),
                )
            })?;
            state.check_phase(to).map_err(fault)?;
            return state.apply_phase(to).map_err(fault);
        }
        let decoded = decode(record.kind(), record.body())
            .ok_or_else(|| {
                invalid(
                    kind_name,
                    "kind",
                    format!("kind 0x{:04x} is not an election's", record.kind().0),
                )
            })?
            .map_err(fault)?;
        let relations = ElectionState::precheck(
            state.sealed().map(|s| s.as_ref()),
            record.signer(),
            &decoded,
        )
        .map_err(fault)?;
        if let Some(relations) = relations
            && relations.check().is_err()
        {
            let error = match state.sealed() {
                Some(sealed) => sealed.diagnose(record.signer(), &decoded),
                None => ElectionError::Invalid {
                    kind: kind_name,
                    field: "body".into(),
                    detail: "a proof does not verify".into(),
                },
            };
            return Err(fault(error));
        }
        state.check(record.signer(), &decoded).map_err(fault)?;
        state
            .apply(record.kind(), record.body(), index)
            .map_err(fault)
    }
}
