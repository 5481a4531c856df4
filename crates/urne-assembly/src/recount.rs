//! The recount (spec/40 §40.11): a sitting's records and its chamber's, in log order,
//! through the same fold the board ran, after one batch verification of every signature. What the
//! verifier and `urne demo assembly` call; it names the first record that breaks a rule.

use std::collections::{HashMap, HashSet};

use urne_record::kinds::{CONTEXT_OPEN, CONTEXT_PHASE};
use urne_record::{ContextId, ContextOpen, ContextPhase, ContextType, Record};

use crate::CHAMBER_CONTEXT;
use crate::batch;
use crate::body::{Decoded, DivisionResult, decode};
use crate::chamber::{ChamberPhase, ChamberState};
use crate::error::AssemblyError;
use crate::kinds;
use crate::state::{CountedVote, Division, DivisionStatus, Phase, SittingState};
use urne_credential::registry::{SignedSnapshot, SnapshotPart};
use urne_election::Decoded as ElectionDecoded;
use urne_tally::TallyResult;

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

/// One context's state and the hashes of its records so far: the board refuses a
/// record already on it (spec/12 §12.5 step 5), so a repeat in the log is a replay.
struct Fold<S> {
    state: S,
    seen: HashMap<[u8; 32], u64>,
}

impl<S> Fold<S> {
    fn new(state: S) -> Self {
        Self {
            state,
            seen: HashMap::new(),
        }
    }
}

/// The fold of a log's chambers and sittings, in log order: each sitting's records are
/// judged against the roster in force in its chamber at their point in the log.
#[derive(Default)]
pub struct Recount {
    chambers: HashMap<ContextId, Fold<ChamberState>>,
    sittings: HashMap<ContextId, Fold<SittingState>>,
    /// The sittings, in the order they were opened.
    order: Vec<ContextId>,
}

/// The chambers as they stood just before each `ceremony.open` of the log, by its
/// index: a secret division's trustees are judged against the roster in force at the
/// ceremony's point in the log (§40.12), not at its end. Ceremonies are few, so a copy
/// of the chambers at each is cheap.
#[derive(Default)]
struct RostersAtCeremonies {
    /// The `ceremony.open` indices not reached yet, in log order.
    ahead: std::collections::VecDeque<u64>,
    at: HashMap<u64, HashMap<ContextId, ChamberState>>,
}

impl RostersAtCeremonies {
    fn new(records: &[(u64, Record)]) -> Self {
        Self {
            ahead: records
                .iter()
                .filter(|(_, r)| r.kind() == urne_election::kinds::CEREMONY_OPEN)
                .map(|(i, _)| *i)
                .collect(),
            at: HashMap::new(),
        }
    }

    /// Called before the fold takes the record at `index` (u64::MAX at the end).
    fn reach(&mut self, index: u64, fold: &Recount) {
        while let Some(&ceremony) = self.ahead.front()
            && ceremony < index
        {
            self.ahead.pop_front();
            let chambers = fold
                .chambers
                .iter()
                .map(|(id, f)| (*id, f.state.clone()))
                .collect();
            self.at.insert(ceremony, chambers);
        }
    }

    fn chamber(&self, ceremony: u64, chamber: ContextId) -> Option<&ChamberState> {
        self.at.get(&ceremony).and_then(|c| c.get(&chamber))
    }
}

/// The chamber a sitting's `context.open` names: its parameters field (§40.2).
pub fn chamber_of(open: &ContextOpen) -> ContextId {
    ContextId(open.parameters)
}

impl Recount {
    /// A fold with no context yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// A chamber's state (None before its `context.open`).
    pub fn chamber(&self, id: ContextId) -> Option<&ChamberState> {
        self.chambers.get(&id).map(|f| &f.state)
    }

    /// A sitting's state (None before its `context.open`).
    pub fn sitting(&self, id: ContextId) -> Option<&SittingState> {
        self.sittings.get(&id).map(|f| &f.state)
    }

    /// The sittings, in the order they were opened.
    pub fn sittings(&self) -> &[ContextId] {
        &self.order
    }

    /// Feeds the record at `index`, whose signature the caller has verified; records of
    /// contexts that are neither chambers nor sittings are passed over.
    pub fn feed_verified(&mut self, index: u64, record: &Record) -> Result<(), Violation> {
        let kind_name = kinds::label(record.kind());
        let violation = |field: &str, reason: String| Violation {
            index,
            kind: kind_name,
            field: field.to_owned(),
            reason,
        };
        let id = record.context();
        let hash = record.hash();
        let seen = if let Some(f) = self.chambers.get(&id) {
            f.seen.get(&hash)
        } else if let Some(f) = self.sittings.get(&id) {
            f.seen.get(&hash)
        } else {
            None
        };
        if let Some(first) = seen {
            return Err(violation(
                "record",
                format!(
                    "the same bytes as record {first}: the board refuses a record already on it (spec/12 §12.5)"
                ),
            ));
        }
        if record.kind() == CONTEXT_OPEN {
            return self.open(index, record, &violation);
        }
        if let Some(fold) = self.chambers.get_mut(&id) {
            fold_chamber(index, record, &mut fold.state, &violation)?;
            fold.seen.insert(hash, index);
        } else if let Some(fold) = self.sittings.get_mut(&id) {
            let chamber = self.chambers.get(&fold.state.chamber()).map(|f| &f.state);
            fold_sitting(index, record, &mut fold.state, chamber, &violation)?;
            fold.seen.insert(hash, index);
        }
        Ok(())
    }

    fn open(
        &mut self,
        index: u64,
        record: &Record,
        violation: &dyn Fn(&str, String) -> Violation,
    ) -> Result<(), Violation> {
        let Ok(open) = ContextOpen::parse(record.body()) else {
            // Not a context this fold knows: the verifier's envelope step judges it.
            return Ok(());
        };
        let id = record.context();
        if open.context_type != ContextType::SITTING && open.context_type != CHAMBER_CONTEXT {
            return Ok(());
        }
        if ContextId::derive(record.signer(), record.body()) != id {
            return Err(violation(
                "context",
                "not SHA-256(\"urne/v2/context\\n\" ‖ signer ‖ body) of its context.open".into(),
            ));
        }
        if self.chambers.contains_key(&id) || self.sittings.contains_key(&id) {
            return Err(violation("context", "this context is open already".into()));
        }
        let hash = record.hash();
        if open.context_type == CHAMBER_CONTEXT {
            let mut fold = Fold::new(ChamberState::new(*record.signer(), open.parameters));
            fold.seen.insert(hash, index);
            self.chambers.insert(id, fold);
        } else {
            let mut fold = Fold::new(SittingState::new(*record.signer(), chamber_of(&open)));
            fold.seen.insert(hash, index);
            self.sittings.insert(id, fold);
            self.order.push(id);
        }
        Ok(())
    }

    /// Every division of the sitting `id`, recounted, with its roll call.
    pub fn divisions(&self, id: ContextId) -> Vec<Recounted> {
        let Some(state) = self.sitting(id) else {
            return Vec::new();
        };
        let chamber = self.chamber(state.chamber());
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
                    let m = chamber.and_then(|c| c.members().get(member as usize));
                    RollCallEntry {
                        member,
                        name: m.map(|m| m.name.clone()).unwrap_or_default(),
                        group: m
                            .and_then(|m| {
                                chamber.and_then(|c| c.groups().get(usize::from(m.group)))
                            })
                            .cloned()
                            .unwrap_or_default(),
                        choice: choice(ballot.choice),
                        by_proxy: ballot.delegate,
                        index: ballot.index,
                    }
                };
                // A secret division's counts are its published result's, which the
                // recount ties to its election's tally (§40.12).
                let result = match (&d.published, d.open.secret) {
                    (Some(published), true) => published.clone(),
                    _ => d.count(),
                };
                Recounted {
                    result,
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

fn phase_code(
    record: &Record,
    authority: &[u8; 32],
    violation: &dyn Fn(&str, String) -> Violation,
) -> Result<u8, Violation> {
    if record.signer() != authority {
        return Err(violation(
            "signer",
            "context.phase must be signed by the presiding officer".into(),
        ));
    }
    Ok(ContextPhase::parse(record.body())
        .map_err(|e| violation(e.field(), e.to_string()))?
        .to)
}

fn decode_record(
    index: u64,
    record: &Record,
    violation: &dyn Fn(&str, String) -> Violation,
) -> Result<Decoded, Violation> {
    decode(record.kind(), record.body())
        .ok_or_else(|| {
            violation(
                "kind",
                format!("kind 0x{:04x} is not an assembly's", record.kind().0),
            )
        })?
        .map_err(|e| Violation::from_error(index, e))
}

fn fold_chamber(
    index: u64,
    record: &Record,
    state: &mut ChamberState,
    violation: &dyn Fn(&str, String) -> Violation,
) -> Result<(), Violation> {
    if record.kind() == CONTEXT_PHASE {
        let to = phase_code(record, state.authority(), violation)?;
        let to = ChamberPhase::from_code(to)
            .ok_or_else(|| violation("body", format!("a chamber has no phase {to}")))?;
        state
            .check_phase(to)
            .map_err(|e| Violation::from_error(index, e))?;
        state.apply_phase(to);
        return Ok(());
    }
    let decoded = decode_record(index, record, violation)?;
    state
        .check(record.signer(), &decoded)
        .map_err(|e| Violation::from_error(index, e))?;
    state
        .apply(&decoded)
        .map_err(|e| Violation::from_error(index, e))
}

fn fold_sitting(
    index: u64,
    record: &Record,
    state: &mut SittingState,
    chamber: Option<&ChamberState>,
    violation: &dyn Fn(&str, String) -> Violation,
) -> Result<(), Violation> {
    if record.kind() == CONTEXT_PHASE {
        let to = phase_code(record, state.authority(), violation)?;
        let to = Phase::from_code(to)
            .ok_or_else(|| violation("body", format!("a sitting has no phase {to}")))?;
        state
            .check_phase(chamber, to)
            .map_err(|e| Violation::from_error(index, e))?;
        state.apply_phase(to);
        return Ok(());
    }
    let decoded = decode_record(index, record, violation)?;
    let chamber = chamber.ok_or_else(|| {
        violation(
            "context",
            format!(
                "the sitting's chamber {} is not open on the board",
                state.chamber().to_hex()
            ),
        )
    })?;
    state
        .check(chamber, record.signer(), &decoded)
        .map_err(|e| Violation::from_error(index, e))?;
    state
        .apply(chamber, record.signer(), &decoded, index)
        .map_err(|e| Violation::from_error(index, e))
}

/// Recounts the sitting `sitting` from log entries (index, record), in log order:
/// takes the sitting's records and its chamber's, verifies every signature of them in
/// one batch (§40.11), then replays them through the board's fold. Returns every
/// division recounted, or the first record that breaks a rule.
pub fn recount(sitting: ContextId, records: &[(u64, Record)]) -> Result<Vec<Recounted>, Violation> {
    let chamber = records
        .iter()
        .filter(|(_, r)| r.context() == sitting && r.kind() == CONTEXT_OPEN)
        .find_map(|(_, r)| ContextOpen::parse(r.body()).ok())
        .filter(|open| open.context_type == ContextType::SITTING)
        .map(|open| chamber_of(&open));
    let mine: Vec<&(u64, Record)> = records
        .iter()
        .filter(|(_, r)| r.context() == sitting || Some(r.context()) == chamber)
        .collect();
    let bad_signature = verify_batch(&mine);
    let mut fold = Recount::new();
    let mut rosters = RostersAtCeremonies::new(records);
    // The first record in log order that breaks a rule is named, whether the rule is its
    // signature or one the fold checks: records before a bad signature are folded first.
    for (position, (index, record)) in mine.iter().enumerate() {
        if bad_signature == Some(position) {
            return Err(signature_violation(*index, record));
        }
        rosters.reach(*index, &fold);
        if record.context() == sitting && fold.sitting(sitting).is_none() {
            let opens_it = record.kind() == CONTEXT_OPEN
                && ContextOpen::parse(record.body())
                    .is_ok_and(|o| o.context_type == ContextType::SITTING);
            if !opens_it {
                return Err(Violation {
                    index: *index,
                    kind: kinds::label(record.kind()),
                    field: "context".into(),
                    reason: "not the opening of this sitting, and before it".into(),
                });
            }
        }
        fold.feed_verified(*index, record)?;
    }
    rosters.reach(u64::MAX, &fold);
    check_elections(&fold, &rosters, &[sitting], records)?;
    Ok(fold.divisions(sitting))
}

/// Recounts every chamber and sitting of a log (index, record), in log order: the
/// contexts a `context.open` of type 4 or 3 opens. Each sitting's records are judged
/// against the roster in force in its chamber at their point in the log (§40.4).
/// Returns each sitting's id and divisions, in the order they were opened, or the first
/// record in log order that breaks a rule.
pub fn recount_sittings(
    records: &[(u64, Record)],
) -> Result<Vec<(ContextId, Vec<Recounted>)>, Violation> {
    let assembly: HashSet<ContextId> = records
        .iter()
        .filter(|(_, r)| r.kind() == CONTEXT_OPEN)
        .filter(|(_, r)| {
            ContextOpen::parse(r.body()).is_ok_and(|o| {
                o.context_type == ContextType::SITTING || o.context_type == CHAMBER_CONTEXT
            })
        })
        .map(|(_, r)| r.context())
        .collect();
    let mine: Vec<&(u64, Record)> = records
        .iter()
        .filter(|(_, r)| assembly.contains(&r.context()))
        .collect();
    let bad_signature = verify_batch(&mine);
    let mut fold = Recount::new();
    let mut rosters = RostersAtCeremonies::new(records);
    for (position, (index, record)) in mine.iter().enumerate() {
        if bad_signature == Some(position) {
            return Err(signature_violation(*index, record));
        }
        rosters.reach(*index, &fold);
        fold.feed_verified(*index, record)?;
    }
    rosters.reach(u64::MAX, &fold);
    check_elections(&fold, &rosters, fold.sittings(), records)?;
    Ok(fold
        .sittings()
        .iter()
        .map(|&id| (id, fold.divisions(id)))
        .collect())
}

/// The kinds of an election's records a secret division's links read (§40.12): a
/// verifier that hands `recount_sittings` only part of the log keeps these.
pub const ELECTION_LINK_KINDS: [urne_record::Kind; 7] = [
    CONTEXT_OPEN,
    urne_election::kinds::ELECTION_MANIFEST,
    urne_election::kinds::ELECTION_CREDENTIALS,
    urne_election::kinds::ELECTION_SNAPSHOT,
    urne_election::kinds::ELECTION_SNAPSHOT_PART,
    urne_election::kinds::CEREMONY_OPEN,
    urne_election::kinds::TALLY_RESULT,
];

/// The links of every secret division of these sittings to the election that votes it
/// (§40.12), checked once the fold has passed: the election is opened by the sitting's
/// presiding officer; it is anonymous, with the division's registry and the officer as
/// its one registrar; its snapshot's keys are exactly the wallet keys members registered
/// for the division, in one bucket; its trustees are members of the chamber; and the
/// division's published counts are the election's `tally.result`. The election itself
/// (its ceremony, ballots, decryption) is the election verifier's to check.
fn check_elections(
    fold: &Recount,
    rosters: &RostersAtCeremonies,
    sittings: &[ContextId],
    records: &[(u64, Record)],
) -> Result<(), Violation> {
    // The fold refuses a second division naming one election within a sitting; this
    // is the same rule across sittings, which no sitting's fold sees.
    let mut named: HashMap<[u8; 32], u32> = HashMap::new();
    for &id in sittings {
        let Some(state) = fold.sitting(id) else {
            continue;
        };
        for d in state.divisions() {
            if let Some(election) = d.open.election {
                if let Some(first) = named.insert(election, d.open.division) {
                    return Err(Violation {
                        index: d.opened_at,
                        kind: "division.open",
                        field: "body.election".into(),
                        reason: format!(
                            "election {} already votes division {first} of another sitting: a secret division needs an election of its own",
                            ContextId(election).to_hex()
                        ),
                    });
                }
                // The rules are the chamber's from its opening: they never change.
                let floor = fold
                    .chamber(state.chamber())
                    .and_then(ChamberState::rules)
                    .map_or(0, |r| r.secret.min_registrants);
                check_election(id, state, floor, rosters, d, ContextId(election), records)?;
            }
        }
    }
    Ok(())
}

fn check_election(
    sitting: ContextId,
    state: &SittingState,
    floor: u32,
    rosters: &RostersAtCeremonies,
    d: &Division,
    election: ContextId,
    records: &[(u64, Record)],
) -> Result<(), Violation> {
    let division = d.open.division;
    let violation = |index: u64, kind: &'static str, field: &str, reason: String| Violation {
        index,
        kind,
        field: field.to_owned(),
        reason,
    };
    let mut snapshot: Option<(u64, SignedSnapshot)> = None;
    let mut parts: Vec<(u64, SnapshotPart)> = Vec::new();
    let mut tally: Option<(u64, TallyResult)> = None;
    let mut opened = false;
    for (index, record) in records.iter().filter(|(_, r)| r.context() == election) {
        if !ELECTION_LINK_KINDS.contains(&record.kind()) {
            continue;
        }
        // The records the links read are not in the sitting's batch: each is checked
        // here, so a forged one cannot speak for the officer or the election.
        if record.verify_signature().is_err() {
            return Err(signature_violation(*index, record));
        }
        if record.kind() == CONTEXT_OPEN {
            let opened_by_officer = record.signer() == state.authority()
                && ContextOpen::parse(record.body())
                    .is_ok_and(|o| o.context_type == ContextType::ELECTION);
            if !opened_by_officer {
                return Err(violation(
                    d.opened_at,
                    "division.open",
                    "body.election",
                    format!(
                        "division {division}'s election {} is not an election opened by the sitting's presiding officer",
                        election.to_hex()
                    ),
                ));
            }
            opened = true;
            continue;
        }
        // The snapshot's records are urne-credential's formats (spec/31 §31.4–§31.5);
        // one that does not decode, or a second snapshot, is the election verifier's
        // to name.
        if record.kind() == urne_election::kinds::ELECTION_SNAPSHOT {
            if let (None, Ok(signed)) = (&snapshot, SignedSnapshot::decode(record.body())) {
                snapshot = Some((*index, signed));
            }
            continue;
        }
        if record.kind() == urne_election::kinds::ELECTION_SNAPSHOT_PART {
            if let Ok(part) = SnapshotPart::decode(record.body()) {
                parts.push((*index, part));
            }
            continue;
        }
        // A record that does not decode is the election verifier's to name.
        match urne_election::decode(record.kind(), record.body()) {
            Some(Ok(ElectionDecoded::Credentials(_))) => {
                return Err(violation(
                    *index,
                    "election.credentials",
                    "kind",
                    format!(
                        "division {division}'s election takes a pseudonymous credential list: a secret division's election is anonymous (spec/40 §40.12)"
                    ),
                ));
            }
            Some(Ok(ElectionDecoded::CeremonyOpen(open))) => {
                let chamber = rosters.chamber(*index, state.chamber());
                check_ceremony(
                    sitting,
                    d,
                    *index,
                    open.threshold,
                    &open.identities,
                    chamber,
                )?;
            }
            Some(Ok(ElectionDecoded::Manifest(record))) => {
                check_manifest(d, *index, &record.manifest)?;
                check_eligibility(
                    sitting,
                    state,
                    floor,
                    d,
                    *index,
                    record.eligibility.as_ref(),
                )?;
            }
            Some(Ok(ElectionDecoded::Result(result))) => tally = Some((*index, *result)),
            _ => {}
        }
    }
    // A closed secret division whose election is not on the log would otherwise pass
    // with nothing of its vote checked: its ballots, tally and list are all elsewhere.
    // A running division's election may come later; a voided one is never counted.
    if !opened && d.status == DivisionStatus::Closed {
        return Err(violation(
            d.opened_at,
            "division.open",
            "body.election",
            format!(
                "division {division} is closed and its election {} is not on the log: its vote cannot be verified",
                election.to_hex()
            ),
        ));
    }
    check_snapshot(sitting, floor, d, snapshot.as_ref(), &parts)?;
    let (Some(published), Some(at)) = (&d.published, d.result_at) else {
        return Ok(());
    };
    let Some((tally_at, tally)) = tally.filter(|(i, _)| *i < at) else {
        return Err(violation(
            at,
            "division.result",
            "body.counts",
            format!(
                "division {division} is a secret ballot and its election {} has no tally.result before this record",
                election.to_hex()
            ),
        ));
    };
    let counts = match tally.counts.as_slice() {
        [counts] if counts.len() == d.open.choices.len() => counts,
        _ => {
            return Err(violation(
                tally_at,
                "tally.result",
                "body.counts",
                format!(
                    "division {division}'s election does not count one contest of its {} choices",
                    d.open.choices.len()
                ),
            ));
        }
    };
    for (i, (claimed, counted)) in published.counts.iter().zip(counts).enumerate() {
        if u64::from(*claimed) != *counted {
            return Err(violation(
                at,
                "division.result",
                &format!("body.counts[{i}]"),
                format!(
                    "the result says {claimed}; the election's tally.result (record {tally_at}) counts {counted}"
                ),
            ));
        }
    }
    Ok(())
}

/// The election's trustees are the public draw's (§40.12 step 3): its `ceremony.open`
/// comes after the division's close, where the draw's seed and candidates are fixed;
/// it names as many trustees and the threshold the chamber's rules fix; each is the key
/// in force, at the ceremony, of a member of the chamber; and identity i is the key then
/// of the i-th member of the draw over the candidates at the close. So the officer, who
/// opens the ceremony after seeing the draw, chooses neither who nor how many, and a
/// roster change after the close moves no one up.
fn check_ceremony(
    sitting: ContextId,
    d: &Division,
    index: u64,
    threshold: u16,
    identities: &[[u8; 32]],
    chamber: Option<&ChamberState>,
) -> Result<(), Violation> {
    let division = d.open.division;
    let wrong = |field: &str, reason: String| {
        Err(Violation {
            index,
            kind: "ceremony.open",
            field: field.to_owned(),
            reason,
        })
    };
    let closed = d
        .trustee_candidates
        .as_ref()
        .zip(d.window_ended_at)
        .filter(|(_, closed_at)| *closed_at < index);
    let Some((candidates, _)) = closed else {
        return wrong(
            "body",
            format!(
                "division {division}'s election opens its ceremony before the division's close: the draw's seed (the registrations) and candidates (the roster) are fixed only there"
            ),
        );
    };
    let Some(chamber) = chamber else {
        return wrong(
            "body.identities",
            format!("the chamber of division {division}'s sitting is not open on the log"),
        );
    };
    let Some(rules) = chamber.rules() else {
        return wrong(
            "body.identities",
            format!("the chamber of division {division}'s sitting has no rules on the log"),
        );
    };
    if identities.len() != usize::from(rules.secret.trustees) {
        return wrong(
            "body.identities",
            format!(
                "{} trustees; the chamber's rules fix {} for a secret ballot",
                identities.len(),
                rules.secret.trustees
            ),
        );
    }
    if threshold != u16::from(rules.secret.threshold) {
        return wrong(
            "body.threshold",
            format!(
                "a threshold of {}; the chamber's rules fix {} for a secret ballot",
                threshold, rules.secret.threshold
            ),
        );
    }
    // A member has one key in force and the identities are distinct (the ceremony's
    // decoder), so trustees in force are distinct members: one member cannot hold two
    // shares through an old and a new key.
    let stranger = identities
        .iter()
        .position(|key| !chamber.member_of(key).is_some_and(|m| chamber.in_force(m)));
    if let Some(t) = stranger {
        return wrong(
            &format!("body.identities[{t}]"),
            format!(
                "trustee {} of division {division}'s election is not the key in force of a member of the chamber at this point of the log (a stranger, a revoked member or a key rotated out)",
                t + 1
            ),
        );
    }
    let keys: Vec<[u8; 32]> = candidates.iter().map(|(_, key)| *key).collect();
    let registered: Vec<[u8; 32]> = d.registrations.values().map(|r| r.credential).collect();
    let seed = crate::secret::trustee_seed(sitting, division, &registered);
    let drawn = crate::secret::trustee_order(&seed, &keys)
        .into_iter()
        .filter_map(|key| candidates.iter().find(|(_, k)| *k == key).map(|(m, _)| *m));
    for (t, (identity, member)) in identities.iter().zip(drawn).enumerate() {
        if chamber.member_of(identity) != Some(member) {
            return wrong(
                &format!("body.identities[{t}]"),
                format!(
                    "trustee {} of division {division}'s election is not member {member}, whom the public draw at the division's close puts there (spec/40 §40.12 step 3)",
                    t + 1
                ),
            );
        }
    }
    Ok(())
}

/// The election votes exactly the division's question (§40.12): one single-choice
/// contest, no blank vote, whose options are the division's choices in order. Else the
/// ballots could answer something else, and its tally be read as the division's.
fn check_manifest(
    d: &Division,
    index: u64,
    manifest: &urne_ballot::Manifest,
) -> Result<(), Violation> {
    let division = d.open.division;
    let wrong = |field: &str, reason: String| {
        Err(Violation {
            index,
            kind: "election.manifest",
            field: field.to_owned(),
            reason,
        })
    };
    let [contest] = manifest.contests() else {
        return wrong(
            "body.contests",
            format!(
                "division {division}'s election has {} contests, not the division's one question",
                manifest.contests().len()
            ),
        );
    };
    if contest.kind != urne_ballot::ContestKind::SingleChoice || contest.blank {
        return wrong(
            "body.contests[0].kind",
            format!(
                "division {division}'s election is not a single choice without a blank vote, as a division is"
            ),
        );
    }
    if contest.options != d.open.choices {
        return wrong(
            "body.contests[0].options",
            format!(
                "division {division}'s election offers {:?}, the division {:?}",
                contest.options, d.open.choices
            ),
        );
    }
    Ok(())
}

/// The election is anonymous (spec/23 §23.2), its registry the division's
/// ([`crate::secret::registry_id`]) and its one registrar the presiding officer, k = 1
/// (§40.12). Else its ballots would carry a credential tied to a member (a pseudonymous
/// list), or its ring could be another registry's keys, or vouched for by someone the
/// chamber never named.
fn check_eligibility(
    sitting: ContextId,
    state: &SittingState,
    floor: u32,
    d: &Division,
    index: u64,
    eligibility: Option<&urne_election::anonymous::Eligibility>,
) -> Result<(), Violation> {
    let division = d.open.division;
    let wrong = |field: &str, reason: String| {
        Err(Violation {
            index,
            kind: "election.manifest",
            field: field.to_owned(),
            reason,
        })
    };
    let Some(eligibility) = eligibility else {
        return wrong(
            "body.eligibility",
            format!(
                "division {division}'s election is pseudonymous: its ballots would carry credentials tied to named members; a secret division's election is anonymous"
            ),
        );
    };
    let registry = crate::secret::registry_id(sitting, division);
    if eligibility.registry != registry {
        return wrong(
            "body.eligibility.registry",
            format!(
                "division {division}'s election takes registry {}, not the division's {} (SHA-256 of the label, the sitting and the division)",
                ContextId(eligibility.registry).to_hex(),
                ContextId(registry).to_hex()
            ),
        );
    }
    if eligibility.min_real_keys < floor {
        return wrong(
            "body.eligibility.min_real_keys",
            format!(
                "division {division}'s election opens its vote with {} registered keys; the chamber's floor is {floor}",
                eligibility.min_real_keys
            ),
        );
    }
    let officer_only = eligibility.registrars.threshold == 1
        && matches!(eligibility.registrars.keys.as_slice(), [key] if key.as_bytes() == state.authority());
    if !officer_only {
        return wrong(
            "body.eligibility.registrars",
            format!(
                "division {division}'s election names {} registrars, {} needed, not the presiding officer alone",
                eligibility.registrars.keys.len(),
                eligibility.registrars.threshold
            ),
        );
    }
    Ok(())
}

/// The election's snapshot comes after the division's window has ended, holds its keys
/// in one bucket and, once all its parts are on the log, holds exactly the wallet keys
/// registered for the division (§40.12). The fold refuses a registration after the
/// close, so the registrations it holds are those as of the close: a snapshot posted
/// while members could still register could not be compared with anything fixed, and
/// an honest late registration would make an honest snapshot look wrong. Its
/// cosignature, registry and parts are the election fold's to check.
fn check_snapshot(
    sitting: ContextId,
    floor: u32,
    d: &Division,
    snapshot: Option<&(u64, SignedSnapshot)>,
    parts: &[(u64, SnapshotPart)],
) -> Result<(), Violation> {
    let Some((at, signed)) = snapshot else {
        return Ok(());
    };
    let division = d.open.division;
    let header = &signed.header;
    let on_snapshot = |field: &str, reason: String| {
        Err(Violation {
            index: *at,
            kind: "election.snapshot",
            field: field.to_owned(),
            reason,
        })
    };
    if d.window_ended_at.is_none_or(|ended| *at < ended) {
        let ended = d.window_ended_at.map_or_else(
            || "which the log never closes".to_owned(),
            |at| format!("closed at record {at}"),
        );
        return on_snapshot(
            "body",
            format!(
                "division {division}'s election posts its snapshot while members may still register: it must come after the division's close ({ended})"
            ),
        );
    }
    if header.registry != crate::secret::registry_id(sitting, division) {
        return on_snapshot(
            "body.registry",
            format!("not division {division}'s registry"),
        );
    }
    if header.total < u64::from(floor) {
        return on_snapshot(
            "body.total",
            format!(
                "{} keys: fewer than the chamber's floor of {floor} registrants for a secret ballot (spec/40 §40.3), so division {division}'s vote does not open",
                header.total
            ),
        );
    }
    if header.bucket_count() != 1 {
        return on_snapshot(
            "body.bucket_bits",
            format!(
                "{} keys in {} buckets of 2^{}: a ballot would hide among fewer than all who registered for division {division}",
                header.total,
                header.bucket_count(),
                header.bucket_bits
            ),
        );
    }
    let id = header.id();
    let mine: Vec<&(u64, SnapshotPart)> = parts.iter().filter(|(_, p)| p.snapshot == id).collect();
    let count: u64 = mine.iter().map(|(_, p)| p.entries.len() as u64).sum();
    let Some(last) = mine.last() else {
        return Ok(());
    };
    if count < header.total {
        return Ok(());
    }
    let registered: HashMap<[u8; 32], u32> = d
        .registrations
        .iter()
        .map(|(&m, r)| (r.credential, m))
        .collect();
    let mut listed = HashSet::new();
    let mut i = 0usize;
    for (index, part) in &mine {
        for entry in &part.entries {
            let key = entry.key.to_bytes();
            if !registered.contains_key(&key) {
                return Err(Violation {
                    index: *index,
                    kind: "election.snapshot-part",
                    field: format!("body.entries[{i}]"),
                    reason: format!(
                        "a wallet key no member registered for division {division}: the ring is not the registrations"
                    ),
                });
            }
            listed.insert(key);
            i += 1;
        }
    }
    if let Some(member) = registered
        .iter()
        .filter(|(k, _)| !listed.contains(*k))
        .map(|(_, m)| *m)
        .min()
    {
        return Err(Violation {
            index: last.0,
            kind: "election.snapshot-part",
            field: "body.entries".into(),
            reason: format!(
                "member {member}'s wallet key for division {division} is not in the election's snapshot"
            ),
        });
    }
    Ok(())
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
