//! Replaying an election from its log (spec/23 §23.10): every record of the election's
//! context, in log order, through the same checks the board ran on arrival. What the
//! verifier, `urne demo` and the role commands use to re-derive the outcome.
//!
//! A replay may defer the proofs of cast ballots ([`Replay::deferring_casts`]): a cast
//! ballot's proofs change nothing later records are checked against, so they can wait for
//! one batched, parallel verification ([`verify_deferred_casts`]) after the log is read,
//! each with the parameters sealed when it arrived.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rayon::prelude::*;
use urne_crypto::BatchVerifier;
use urne_crypto::triptych;
use urne_record::kinds::{CONTEXT_OPEN, CONTEXT_PHASE};
use urne_record::{ContextId, ContextOpen, ContextPhase, ContextType, Record};

use crate::anonymous::AnonymousCast;
use crate::body::CastBallot;
use crate::error::ElectionError;
use crate::phase::Phase;
use crate::state::{Decoded, ElectionState, Sealed, decode};

/// Ballots per batch verification: large enough that the multiscalar multiplication
/// amortises, small enough that every core gets several batches.
pub const BALLOTS_PER_BATCH: usize = 64;

/// A cast ballot whose proofs a deferring replay has not verified yet.
#[derive(Clone, Debug)]
pub struct DeferredCast {
    /// Its index in the log.
    pub index: u64,
    /// The ballot and what authorises it.
    pub cast: DeferredBallot,
    /// The election's parameters when it arrived.
    pub sealed: Arc<Sealed>,
}

/// The body of a deferred cast ballot.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum DeferredBallot {
    /// A pseudonymous election's: its credential's signature (version 1).
    Pseudonymous(Box<CastBallot>),
    /// An anonymous election's: its ring signature over a bucket (version 2).
    Anonymous(Box<AnonymousCast>),
}

/// Verifies deferred cast ballots in batches of [`BALLOTS_PER_BATCH`] across all cores,
/// calling `progress` with the size of each finished batch. Every ballot that fails is
/// named, in log order, with the proof at fault. An anonymous election's ballots are
/// batched per bucket, their ring signatures in one Triptych batch over the bucket's ring
/// (spec/08 §8.9) beside their proofs' batch.
pub fn verify_deferred_casts(
    casts: &[DeferredCast],
    progress: &(dyn Fn(u64) + Sync),
) -> Vec<Fault> {
    let mut pseudonymous = Vec::new();
    // By (sealed parameters, bucket): one ring per batch.
    let mut by_bucket: BTreeMap<(usize, u32), Vec<(&DeferredCast, &AnonymousCast)>> =
        BTreeMap::new();
    for deferred in casts {
        match &deferred.cast {
            DeferredBallot::Pseudonymous(cast) => pseudonymous.push((deferred, cast.as_ref())),
            DeferredBallot::Anonymous(cast) => by_bucket
                .entry((
                    Arc::as_ptr(&deferred.sealed) as usize,
                    cast.signature.bucket,
                ))
                .or_default()
                .push((deferred, cast.as_ref())),
        }
    }
    let anonymous: Vec<&[(&DeferredCast, &AnonymousCast)]> = by_bucket
        .values()
        .flat_map(|group| group.chunks(BALLOTS_PER_BATCH))
        .collect();
    let mut faults: Vec<Fault> = pseudonymous
        .par_chunks(BALLOTS_PER_BATCH)
        .flat_map_iter(|chunk| {
            let faults = verify_pseudonymous_batch(chunk);
            progress(chunk.len() as u64);
            faults
        })
        .chain(anonymous.into_par_iter().flat_map_iter(|chunk| {
            let faults = verify_anonymous_batch(chunk);
            progress(chunk.len() as u64);
            faults
        }))
        .collect();
    faults.sort_by_key(|f| f.index);
    faults
}

fn verify_pseudonymous_batch(chunk: &[(&DeferredCast, &CastBallot)]) -> Vec<Fault> {
    let mut batch = BatchVerifier::with_capacity(chunk.len());
    let mut early = Vec::new();
    for (position, (deferred, cast)) in chunk.iter().enumerate() {
        match deferred.sealed.precheck_cast(cast) {
            Ok(relations) => batch.push(position, Ok(relations)),
            Err(error) => early.push(Fault {
                index: deferred.index,
                error,
            }),
        }
    }
    if let Err(failure) = batch.verify(&mut rand::rng()) {
        early.extend(failure.failures.into_iter().filter_map(|(position, _)| {
            chunk.get(position).map(|(d, cast)| Fault {
                index: d.index,
                error: d.sealed.diagnose_cast(cast),
            })
        }));
    }
    early
}

/// Casts over one bucket of one sealed snapshot: the ring signatures in one Triptych
/// batch, the ballots' proofs in another; a ballot either batch finds bad is checked
/// alone to name the check at fault.
fn verify_anonymous_batch(chunk: &[(&DeferredCast, &AnonymousCast)]) -> Vec<Fault> {
    let kind = "ballot.cast";
    let mut early = Vec::new();
    let Some((first, _)) = chunk.first() else {
        return early;
    };
    let sealed = &first.sealed;
    let mut proofs = BatchVerifier::with_capacity(chunk.len());
    let mut statements = Vec::with_capacity(chunk.len());
    for (position, (deferred, cast)) in chunk.iter().enumerate() {
        let checked = sealed
            .anonymous_statement(
                kind,
                crate::Decision::Cast,
                &cast.ballot,
                &cast.signature,
                &cast.tracking_code(),
            )
            .and_then(|statement| {
                sealed
                    .anonymous_ballot_relations(cast)
                    .map(|relations| (statement, relations))
            });
        match checked {
            Ok((statement, relations)) => {
                proofs.push(position, Ok(relations));
                statements.push((position, statement));
            }
            Err(error) => early.push(Fault {
                index: deferred.index,
                error,
            }),
        }
    }
    let mut bad: BTreeSet<usize> = BTreeSet::new();
    if let (Some(anonymous), Some((_, statement))) = (sealed.anonymous(), statements.first()) {
        let mut signatures =
            triptych::BatchVerifier::new(&statement.ring, *anonymous.linking_base());
        for (_, statement) in &statements {
            signatures.push(&statement.context, &statement.signature);
        }
        match signatures.verify(&mut rand::rng()) {
            Ok(()) => {}
            Err(triptych::Error::Batch { invalid }) => bad.extend(
                invalid
                    .into_iter()
                    .filter_map(|(at, _)| statements.get(at).map(|(p, _)| *p)),
            ),
            Err(_) => bad.extend(statements.iter().map(|(p, _)| *p)),
        }
    }
    if let Err(failure) = proofs.verify(&mut rand::rng()) {
        bad.extend(failure.failures.into_iter().map(|(position, _)| position));
    }
    early.extend(bad.into_iter().filter_map(|position| {
        chunk.get(position).map(|(d, cast)| Fault {
            index: d.index,
            error: d.sealed.diagnose_anonymous_cast(cast),
        })
    }));
    early
}

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
    deferring: bool,
    deferred: Vec<DeferredCast>,
}

impl Replay {
    /// A replay of the election `id` on the board of `origin`.
    pub fn new(id: ContextId, origin: &str) -> Self {
        Self {
            id,
            origin: origin.to_owned(),
            state: None,
            deferring: false,
            deferred: Vec::new(),
        }
    }

    /// This replay, holding each cast ballot's proofs back for [`verify_deferred_casts`]
    /// instead of checking them on arrival; [`Replay::take_deferred`] hands them over.
    /// Everything else about a cast ballot (phase, uniqueness, revotes) is still checked
    /// in log order.
    pub fn deferring_casts(mut self) -> Self {
        self.deferring = true;
        self
    }

    /// The cast ballots deferred so far, in log order, leaving none behind.
    pub fn take_deferred(&mut self) -> Vec<DeferredCast> {
        std::mem::take(&mut self.deferred)
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
        let kind_name = crate::kinds::name(record.kind()).unwrap_or("record");
        record.verify_signature().map_err(|e| Fault {
            index,
            error: ElectionError::invalid(kind_name, "signature", e.to_string()),
        })?;
        self.feed_signature_checked(index, record).map(|_| ())
    }

    /// [`Replay::feed`] for a record whose envelope signature the caller has verified
    /// (the verifier checks every signature of the log in parallel first). Returns the
    /// decoded body of an election record it applied, for the caller to keep; a cast
    /// ballot a deferring replay holds back is not returned.
    pub fn feed_signature_checked(
        &mut self,
        index: u64,
        record: &Record,
    ) -> Result<Option<Decoded>, Fault> {
        self.feed_decoded(index, record, None)
    }

    /// [`Replay::feed_signature_checked`] with the body already decoded by
    /// [`decode`] (`Some`), so a caller can decode many records in parallel before the
    /// fold takes them in order; `None` decodes it here.
    pub fn feed_decoded(
        &mut self,
        index: u64,
        record: &Record,
        decoded: Option<Option<Result<Decoded, ElectionError>>>,
    ) -> Result<Option<Decoded>, Fault> {
        if record.context() != self.id {
            return Ok(None);
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
            return Ok(None);
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
            return state.apply_phase(to).map_err(fault).map(|()| None);
        }
        let decoded = decoded
            .unwrap_or_else(|| decode(record.kind(), record.body()))
            .ok_or_else(|| {
                invalid(
                    kind_name,
                    "kind",
                    format!("kind 0x{:04x} is not an election's", record.kind().0),
                )
            })?
            .map_err(fault)?;
        let sealed_for_deferral = match (&decoded, self.deferring) {
            (Decoded::Cast(_) | Decoded::AnonymousCast(_), true) => {
                Some(state.sealed().cloned().ok_or_else(|| {
                    fault(ElectionError::WrongPhase {
                        kind: "ballot.cast",
                        phase: state.phase(),
                        detail: "before voting opened".into(),
                    })
                })?)
            }
            _ => None,
        };
        let relations = match sealed_for_deferral {
            Some(_) => None,
            None => ElectionState::precheck(
                state.sealed().map(|s| s.as_ref()),
                record.signer(),
                &decoded,
            )
            .map_err(fault)?,
        };
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
            .map_err(fault)?;
        match (decoded, sealed_for_deferral) {
            (Decoded::Cast(cast), Some(sealed)) => {
                self.deferred.push(DeferredCast {
                    index,
                    cast: DeferredBallot::Pseudonymous(cast),
                    sealed,
                });
                Ok(None)
            }
            (Decoded::AnonymousCast(cast), Some(sealed)) => {
                self.deferred.push(DeferredCast {
                    index,
                    cast: DeferredBallot::Anonymous(cast),
                    sealed,
                });
                Ok(None)
            }
            (decoded, _) => Ok(Some(decoded)),
        }
    }
}
