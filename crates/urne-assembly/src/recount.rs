//! The recount (spec/40 §40.11): a sitting's records, in log order, through the same
//! fold the board ran, after one batch verification of every signature. What the
//! verifier and `urne demo assembly` call; it names the first record that breaks a rule.

use std::collections::HashMap;

use urne_record::kinds::{CONTEXT_OPEN, CONTEXT_PHASE};
use urne_record::{ContextId, ContextOpen, ContextPhase, ContextType, Record};

use crate::batch;
use crate::body::{DivisionResult, decode};
use crate::chamber::Chamber;
use crate::error::AssemblyError;
use crate::kinds;
use crate::state::{CountedVote, DivisionStatus, Phase, SittingState};

/// A record that breaks a rule: its index in the log, the field at fault, and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("record {index} ({kind}), field {field}: {reason}")]
pub struct Violation {
    /// Its index in the log.
    pub index: u64,
    /// Its kind's name.
    pub kind: &'static str,
    /// The field at fault (`signature`, `signer`, `body.counts[0]`…).
    pub field: String,
    /// Why.
    pub reason: String,
}

impl Violation {
    fn from_error(index: u64, e: AssemblyError) -> Self {
        Self {
            index,
            kind: e.kind(),
            field: e.field().to_owned(),
            reason: e.to_string(),
        }
    }
}

/// One entry of a published roll call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RollCallEntry {
    /// The member's number.
    pub member: u32,
    /// The member's name.
    pub name: String,
    /// The member's group.
    pub group: String,
    /// The choice counted.
    pub choice: String,
    /// The delegate who cast it, when cast by proxy.
    pub by_proxy: Option<u32>,
    /// The vote record counted.
    pub index: u64,
}

/// A division as recounted from the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recounted {
    /// The result the log gives (equal to the published one, when there is one).
    pub result: DivisionResult,
    /// Its choices.
    pub choices: Vec<String>,
    /// The hash of the text voted.
    pub text_hash: [u8; 32],
    /// A secret ballot: no roll call, and no `division.result` on the sitting (§40.12).
    pub secret: bool,
    /// Its status at the end of the log.
    pub status: DivisionStatus,
    /// Index of the published `division.result`, if any.
    pub published_at: Option<u64>,
    /// Why it was voided and the index of its `division.void`, when voided.
    pub voided: Option<(String, u64)>,
    /// The roll call, by member number; proxy votes are marked.
    pub roll_call: Vec<RollCallEntry>,
    /// Corrections of voting intention (member, choice meant, record): not counted.
    pub corrections: Vec<(u32, String, u64)>,
}

impl Recounted {
    /// Whether the presiding officer has a `division.result` to post for it: closed,
    /// not secret, none posted yet (§40.9).
    pub fn awaits_result(&self) -> bool {
        self.status == DivisionStatus::Closed && !self.secret && self.published_at.is_none()
    }
}

/// The fold of one sitting's records.
pub struct Recount {
    id: ContextId,
    state: Option<SittingState>,
    /// Hashes of the sitting's records so far: the board refuses a record already on it
    /// (spec/12 §12.5 step 5), so a repeat in the log is a replay.
    seen: HashMap<[u8; 32], u64>,
    /// The chamber as this sitting alone shows it, for [`Self::feed_verified`].
    chamber: Chamber,
}

impl Recount {
    /// A recount of the sitting `id`.
    pub fn new(id: ContextId) -> Self {
        Self {
            id,
            state: None,
            seen: HashMap::new(),
            chamber: Chamber::new(),
        }
    }

    /// The state so far (None before the sitting's `context.open`).
    pub fn state(&self) -> Option<&SittingState> {
        self.state.as_ref()
    }

    /// Feeds the record at `index`, whose signature the caller has verified; records of
    /// other contexts are passed over.
    pub fn feed_verified(&mut self, index: u64, record: &Record) -> Result<(), Violation> {
        let mut chamber = std::mem::take(&mut self.chamber);
        let result = self.feed_in_chamber(index, record, &mut chamber);
        self.chamber = chamber;
        result
    }

    /// Feeds the record at `index`, whose signature the caller has verified, judged also
    /// against the chamber's earlier sittings (§40.4, "Across sittings").
    pub fn feed_in_chamber(
        &mut self,
        index: u64,
        record: &Record,
        chamber: &mut Chamber,
    ) -> Result<(), Violation> {
        if record.context() != self.id {
            return Ok(());
        }
        let kind_name = kinds::label(record.kind());
        let violation = |field: &str, reason: String| Violation {
            index,
            kind: kind_name,
            field: field.to_owned(),
            reason,
        };
        let hash = record.hash();
        if let Some(first) = self.seen.get(&hash) {
            return Err(violation(
                "record",
                format!(
                    "the same bytes as record {first}: the board refuses a record already on it (spec/12 §12.5)"
                ),
            ));
        }
        self.fold_one(index, record, chamber, &violation)?;
        self.seen.insert(hash, index);
        Ok(())
    }

    fn fold_one(
        &mut self,
        index: u64,
        record: &Record,
        chamber: &mut Chamber,
        violation: &dyn Fn(&str, String) -> Violation,
    ) -> Result<(), Violation> {
        if record.kind() == CONTEXT_OPEN {
            let open = ContextOpen::parse(record.body())
                .map_err(|e| violation(e.field(), e.to_string()))?;
            if self.state.is_some()
                || open.context_type != ContextType::SITTING
                || ContextId::derive(record.signer(), record.body()) != self.id
            {
                return Err(violation(
                    "context",
                    "not the opening of this sitting".into(),
                ));
            }
            self.state = Some(SittingState::new(*record.signer(), open.parameters));
            return Ok(());
        }
        let Some(state) = self.state.as_mut() else {
            return Err(violation(
                "context",
                "a record before the sitting's context.open".into(),
            ));
        };
        if record.kind() == CONTEXT_PHASE {
            if record.signer() != state.authority() {
                return Err(violation(
                    "signer",
                    "context.phase must be signed by the presiding officer".into(),
                ));
            }
            let to = ContextPhase::parse(record.body())
                .map_err(|e| violation(e.field(), e.to_string()))?
                .to;
            let to = Phase::from_code(to)
                .ok_or_else(|| violation("body", format!("a sitting has no phase {to}")))?;
            state
                .check_phase(to)
                .map_err(|e| Violation::from_error(index, e))?;
            state.apply_phase(to);
            return Ok(());
        }
        let decoded = decode(record.kind(), record.body())
            .ok_or_else(|| {
                violation(
                    "kind",
                    format!("kind 0x{:04x} is not a sitting's", record.kind().0),
                )
            })?
            .map_err(|e| Violation::from_error(index, e))?;
        state
            .check(record.signer(), &decoded)
            .map_err(|e| Violation::from_error(index, e))?;
        chamber
            .check(&decoded)
            .map_err(|e| Violation::from_error(index, e))?;
        chamber.apply(&decoded, state);
        state
            .apply(record.signer(), &decoded, index)
            .map_err(|e| Violation::from_error(index, e))
    }

    /// Every division, recounted, with its roll call.
    pub fn divisions(&self) -> Vec<Recounted> {
        let Some(state) = &self.state else {
            return Vec::new();
        };
        state
            .divisions()
            .iter()
            .map(|d| {
                let choice = |c: u8| {
                    d.open
                        .choices
                        .get(usize::from(c))
                        .cloned()
                        .unwrap_or_default()
                };
                let entry = |(&member, ballot): (&u32, &CountedVote)| {
                    let m = state.members().get(member as usize);
                    RollCallEntry {
                        member,
                        name: m.map(|m| m.name.clone()).unwrap_or_default(),
                        group: m
                            .and_then(|m| state.groups().get(usize::from(m.group)))
                            .cloned()
                            .unwrap_or_default(),
                        choice: choice(ballot.choice),
                        by_proxy: ballot.delegate,
                        index: ballot.index,
                    }
                };
                Recounted {
                    result: d.count(),
                    choices: d.open.choices.clone(),
                    text_hash: d.open.text_hash,
                    secret: d.open.secret,
                    voided: d.voided.clone(),
                    status: d.status,
                    published_at: d.result_at,
                    roll_call: d.counted.iter().map(entry).collect(),
                    corrections: d
                        .corrections
                        .iter()
                        .map(|&(m, c, i)| (m, choice(c), i))
                        .collect(),
                }
            })
            .collect()
    }
}

/// Recounts the sitting `sitting` from log entries (index, record), in log order:
/// verifies every signature of its records in one batch (§40.11), then replays them
/// through the board's fold. Returns every division recounted, or the first record
/// that breaks a rule.
pub fn recount(sitting: ContextId, records: &[(u64, Record)]) -> Result<Vec<Recounted>, Violation> {
    let mine: Vec<&(u64, Record)> = records
        .iter()
        .filter(|(_, r)| r.context() == sitting)
        .collect();
    let bad_signature = verify_batch(&mine);
    let mut fold = Recount::new(sitting);
    // The first record in log order that breaks a rule is named, whether the rule is its
    // signature or one the fold checks: records before a bad signature are folded first.
    for (position, (index, record)) in mine.iter().enumerate() {
        if bad_signature == Some(position) {
            return Err(signature_violation(*index, record));
        }
        fold.feed_verified(*index, record)?;
    }
    Ok(fold.divisions())
}

/// Recounts every sitting of a log (index, record), in log order: the sittings are the
/// contexts a `context.open` of type 3 opens. Every sitting's records are folded in log
/// order against one [`Chamber`], so a sitting that names another clerk, posts an older
/// roster or gives back a retired key is named (§40.4). Returns each sitting's id and
/// divisions, in the order they were opened, or the first record in log order that
/// breaks a rule.
pub fn recount_sittings(
    records: &[(u64, Record)],
) -> Result<Vec<(ContextId, Vec<Recounted>)>, Violation> {
    let sittings: Vec<ContextId> = records
        .iter()
        .filter(|(_, r)| r.kind() == CONTEXT_OPEN)
        .filter(|(_, r)| {
            ContextOpen::parse(r.body()).is_ok_and(|o| o.context_type == ContextType::SITTING)
        })
        .map(|(_, r)| r.context())
        .collect();
    let mut folds: HashMap<ContextId, Recount> =
        sittings.iter().map(|&id| (id, Recount::new(id))).collect();
    let mine: Vec<&(u64, Record)> = records
        .iter()
        .filter(|(_, r)| folds.contains_key(&r.context()))
        .collect();
    let bad_signature = verify_batch(&mine);
    let mut chamber = Chamber::new();
    for (position, (index, record)) in mine.iter().enumerate() {
        if bad_signature == Some(position) {
            return Err(signature_violation(*index, record));
        }
        if let Some(fold) = folds.get_mut(&record.context()) {
            fold.feed_in_chamber(*index, record, &mut chamber)?;
        }
    }
    Ok(sittings
        .iter()
        .map(|id| {
            (
                *id,
                folds.get(id).map(Recount::divisions).unwrap_or_default(),
            )
        })
        .collect())
}

/// One batch over the records' signatures (§40.11): the position of the first bad one.
fn verify_batch(records: &[&(u64, Record)]) -> Option<usize> {
    let messages: Vec<Vec<u8>> = records.iter().map(|(_, r)| r.signed_message()).collect();
    let items: Vec<batch::Item<'_>> = records
        .iter()
        .zip(&messages)
        .map(|((_, r), message)| batch::Item {
            message,
            key: *r.signer(),
            signature: r.signature(),
        })
        .collect();
    batch::verify(&items).err()
}

fn signature_violation(index: u64, record: &Record) -> Violation {
    Violation {
        index,
        kind: kinds::label(record.kind()),
        field: "signature".into(),
        reason: "the record's signature does not verify (verify_strict)".into(),
    }
}
