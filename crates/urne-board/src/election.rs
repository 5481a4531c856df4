//! Elections on the board (spec/23-election-records.md): thin adapters from the kind API
//! to `urne_election`, whose pure fold holds every rule. The verifier and `urne demo`
//! replay the same fold, so the board cannot accept what they would refuse.

use std::any::Any;

use urne_election::{ElectionError, ElectionState, Phase, PrecheckedRecord, Sealed};
use urne_record::{ContextType, Kind, Record};

use crate::error::{Code, Rejection};
use crate::handler::{
    ContextMachine, ContextMut, ContextView, KindHandler, NewContext, Poster, Prechecked,
    RingSignatureCheck, Scope, SealedParams, Sequencing, UniqueKey,
};

pub use urne_election::kinds::ELECTION_CREDENTIALS;

/// An election error as the board's rejection: its code, and its field.
pub fn rejection(e: ElectionError) -> Rejection {
    let code = match &e {
        ElectionError::WrongPhase { .. } => Code::WrongPhase,
        ElectionError::NotAuthorized { .. } => Code::NotAuthorized,
        ElectionError::AlreadyUsed { .. } => Code::AlreadyUsed,
        _ => Code::InvalidBody,
    };
    let field = e.field().to_owned();
    Rejection::new(code, Some(&field), e.to_string())
}

/// The election's state machine: its phases are `urne_election::Phase`; its moves are
/// checked and applied by the election's state.
pub struct ElectionMachine;

fn election<'a>(context: &'a ContextView<'_>) -> Result<&'a ElectionState, Rejection> {
    context.data::<ElectionState>().ok_or_else(|| {
        Rejection::wrong_phase("an election record", "a context that is not an election")
    })
}

impl ContextMachine for ElectionMachine {
    fn context_type(&self) -> ContextType {
        ContextType::ELECTION
    }
    fn name(&self) -> &'static str {
        "election"
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
        let to = Phase::from_code(to).ok_or_else(|| {
            Rejection::invalid_body("body", format!("an election has no phase {to}"))
        })?;
        election(context)?.check_phase(to).map_err(rejection)
    }
    fn new_context_state(&self, context: &NewContext<'_>) -> Box<dyn Any + Send + Sync> {
        Box::new(ElectionState::new(
            context.id.0,
            context.authority,
            context.open.parameters,
            context.origin,
        ))
    }
    fn apply_move(&self, context: &mut ContextMut<'_>, to: u8) -> Result<(), Rejection> {
        let to = Phase::from_code(to).ok_or_else(|| {
            Rejection::invalid_body("body", format!("an election has no phase {to}"))
        })?;
        let state = context
            .data_mut::<ElectionState>()
            .ok_or_else(|| Rejection::invalid_body("context", "not an election"))?;
        state.apply_phase(to).map_err(rejection)?;
        if let Some(sealed) = state.sealed().cloned() {
            if to == Phase::Tallying && !context.is_replaying() {
                // The encrypted tally is computed on first use (seconds at 100,000
                // ballots): start now, off the applier and its lock, so the trustees'
                // first request finds it ready. If no thread can start, the first
                // decryption share's precheck computes it.
                let warm = sealed.clone();
                let _ = std::thread::Builder::new()
                    .name("urne-election-tally".into())
                    .spawn(move || {
                        let _ = warm.tally();
                    });
            }
            context.seal(sealed as SealedParams);
        }
        Ok(())
    }
}

/// The handler of one election kind: decoding and the sealed-parameter checks in
/// precheck, the rest against the election's state.
pub struct ElectionKind {
    kind: Kind,
    name: &'static str,
}

impl ElectionKind {
    /// The handler of `kind` (one of `urne_election::kinds::ALL`).
    pub fn new(kind: Kind) -> Self {
        Self {
            kind,
            name: urne_election::kinds::name(kind).unwrap_or("election record"),
        }
    }

    fn phases(&self) -> Vec<u8> {
        use urne_election::kinds::*;
        let phase = match self.kind {
            ELECTION_MANIFEST => Phase::Setup,
            ELECTION_CREDENTIALS | ELECTION_SNAPSHOT | ELECTION_SNAPSHOT_PART => {
                Phase::Registration
            }
            BALLOT_CAST | BALLOT_AUDIT => Phase::Voting,
            TALLY_DECRYPTION_SHARES | TALLY_RESULT => Phase::Tallying,
            _ => Phase::Ceremony,
        };
        vec![phase.code()]
    }
}

fn decoded(prechecked: &Prechecked) -> Option<&PrecheckedRecord> {
    prechecked.decoded.as_ref().and_then(|d| d.downcast_ref())
}

impl KindHandler for ElectionKind {
    fn kind(&self) -> Kind {
        self.kind
    }
    fn name(&self) -> &'static str {
        self.name
    }
    fn poster(&self) -> Poster {
        // The election's state checks the poster of every kind: the authority, the
        // trustee a ceremony or decryption record names, or — for ballots — no one (the
        // credential's signature authorises a ballot).
        Poster::HandlerDecides
    }
    fn scope(&self) -> Scope {
        Scope::In {
            types: vec![ContextType::ELECTION],
            phases: Some(self.phases()),
        }
    }
    fn sequencing(&self) -> Sequencing {
        match self.kind {
            urne_election::kinds::BALLOT_CAST | urne_election::kinds::BALLOT_AUDIT => {
                Sequencing::Concurrent
            }
            _ => Sequencing::Barrier,
        }
    }
    fn precheck_sealed(
        &self,
        record: &Record,
        sealed: Option<&SealedParams>,
    ) -> Result<Prechecked, Rejection> {
        let decoded = urne_election::decode(self.kind, record.body())
            .ok_or_else(|| Rejection::unknown_kind(self.kind.0))?
            .map_err(rejection)?;
        let sealed = sealed.and_then(|s| s.clone().downcast::<Sealed>().ok());
        // An anonymous ballot's ring signature is left to the board's batch over its
        // bucket (spec/23 §23.13); everything cheaper is checked here first.
        let (checked, relations, statement) =
            ElectionState::precheck_record_deferred(sealed, record.signer(), decoded)
                .map_err(rejection)?;
        Ok(Prechecked {
            relations,
            proof_field: match self.kind {
                urne_election::kinds::TALLY_DECRYPTION_SHARES => "body.shares",
                _ => "body.ballot",
            },
            decoded: Some(Box::new(checked)),
            ring_signature: statement
                .map(|s| RingSignatureCheck::new(s.ring, s.linking_base, s.context, s.signature)),
        })
    }
    fn diagnose(&self, record: &Record, prechecked: &Prechecked) -> Option<Rejection> {
        let checked = decoded(prechecked)?;
        let sealed = checked.sealed()?;
        // The board calls this only once the ring signature, if any, verified.
        Some(rejection(
            sealed.diagnose_ring_verified(record.signer(), checked.decoded()),
        ))
    }
    fn ring_signature_refused(
        &self,
        _record: &Record,
        _prechecked: &Prechecked,
        error: &urne_crypto::triptych::Error,
    ) -> Rejection {
        rejection(urne_election::anonymous_signature_refusal(self.name, error))
    }
    fn check(
        &self,
        record: &Record,
        prechecked: &Prechecked,
        context: Option<&ContextView<'_>>,
    ) -> Result<Vec<UniqueKey>, Rejection> {
        let context =
            context.ok_or_else(|| Rejection::unknown_context(&record.context().to_hex()))?;
        let state = election(context)?;
        let checked = decoded(prechecked)
            .ok_or_else(|| Rejection::invalid_body("body", "the record was not prechecked"))?;
        let keys = state
            .check_prechecked(record.signer(), checked)
            .map_err(rejection)?;
        Ok(keys
            .into_iter()
            .map(|k| UniqueKey {
                space: k.space,
                key: k.key,
            })
            .collect())
    }
    // `unique_keys` stays empty: the keys `check` returns (tracking codes, a trustee's
    // one share set) are only reserved while pending; once durable, the election's state
    // holds them itself and its check refuses a taken one, so the board keeping a second
    // copy of 100,000 tracking codes would buy nothing.
    fn apply(
        &self,
        record: &Record,
        index: u64,
        context: &mut ContextMut<'_>,
    ) -> Result<(), Rejection> {
        let state = context
            .data_mut::<ElectionState>()
            .ok_or_else(|| Rejection::invalid_body("context", "not an election"))?;
        state
            .apply(self.kind, record.body(), index)
            .map_err(rejection)
    }
}
