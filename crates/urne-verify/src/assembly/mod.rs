//! The verifier's own fold of chambers and sittings (spec/40, V12 of spec/50): who may
//! post what in which phase, the roster and its changes, sequence numbers, presence,
//! delegations and their expiry on the sitting clock, quorum, divisions and their events,
//! roll-call votes and corrections, every published result recounted, and the links of
//! each secret division to the anonymous election that votes it (§40.12).
//!
//! Why its own (ARCHITECTURE §9): replaying urne-assembly's fold, the board's acceptance
//! code, could not catch a bug in it. Shared with the board are only formats: spec/12's
//! envelope and context records (urne-record), the election's bodies as the verifier's
//! own election fold decodes them, and spec/31's snapshot and parts (urne-credential). A
//! differential test (tests/assembly_differential.rs) holds both folds to one verdict.
//!
//! The first record in log order that breaks a rule is named, as §40.11 asks: a record's
//! signature is checked (`verify_strict`, every record in parallel first) before its
//! rules, since a forged record must not be judged as the member's.

mod body;

pub use body::{kind_name, kinds};

use std::collections::{BTreeMap, HashMap, HashSet};

use rayon::prelude::*;
use sha2::{Digest, Sha256};
use urne_credential::registry::{SignedSnapshot, SnapshotPart};
use urne_record::kinds::{CONTEXT_OPEN, CONTEXT_PHASE};
use urne_record::{ContextId, ContextOpen, ContextPhase, ContextType, Record};

use body::{Body, DivisionOpen, DivisionResult, Quorum, Rules, label};

/// The context type of a chamber (spec/12 §12.3): its rules and its roster.
pub const CHAMBER_CONTEXT: ContextType = ContextType(4);

/// §40.3: the label of a chamber's parameters hash.
const PARAMETERS_LABEL: &[u8] = b"urne/v1/assembly/parameters\n";
/// §40.9: the label of a roll-call hash.
const ROLL_CALL_LABEL: &[u8] = b"urne/v1/assembly/roll-call\n";
/// §40.12: the label of a secret division's registry id.
const SECRET_REGISTRY_LABEL: &[u8] = b"urne/v1/assembly/secret-registry\n";
/// §40.12: the label of a secret division's trustee-draw seed.
const TRUSTEE_DRAW_LABEL: &[u8] = b"urne/v1/assembly/trustee-draw\n";

/// The election kinds a secret division's links read (§40.12), besides `context.open`.
pub(crate) const ELECTION_LINK_KINDS: [urne_record::Kind; 6] = [
    crate::election::kinds::ELECTION_MANIFEST,
    crate::election::kinds::ELECTION_CREDENTIALS,
    crate::election::kinds::ELECTION_SNAPSHOT,
    crate::election::kinds::ELECTION_SNAPSHOT_PART,
    crate::election::kinds::CEREMONY_OPEN,
    crate::election::kinds::TALLY_RESULT,
];

/// A record the board should have refused, or a secret division's broken link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Its index in the log.
    pub index: u64,
    /// Its kind's name.
    pub kind: &'static str,
    /// The field at fault.
    pub field: String,
    /// Why.
    pub reason: String,
}

/// Where a division stands at the end of the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Taking votes.
    Open,
    /// Waiting for a resume.
    Suspended,
    /// Closed.
    Closed,
    /// Annulled, never counted.
    Voided,
}

/// A division as the verifier recounted it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recounted {
    /// Its number in its sitting.
    pub division: u32,
    /// Votes per choice: the roll call's, or for a secret division its published
    /// result's (which the links tie to its election's tally).
    pub counts: Vec<u32>,
    /// A secret ballot.
    pub secret: bool,
    /// Where it stands.
    pub status: Status,
    /// The index of its published `division.result`.
    pub published_at: Option<u64>,
}

/// Recounts every chamber and sitting of a log of (index, record), in log order, with
/// the election records their secret divisions' links read; returns each sitting's id
/// and divisions, in the order they were opened, or the first violation.
pub fn recount(records: &[(u64, Record)]) -> Result<Vec<(ContextId, Vec<Recounted>)>, Violation> {
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
    let forged: Vec<bool> = mine
        .par_iter()
        .map(|(_, r)| r.verify_signature().is_err())
        .collect();
    let ceremonies: Vec<(u64, ContextId)> = records
        .iter()
        .filter(|(_, r)| r.kind() == crate::election::kinds::CEREMONY_OPEN)
        .map(|(i, r)| (*i, r.context()))
        .collect();
    let mut fold = Fold::default();
    // The chamber as it stands at each ceremony of an election a division has named by
    // then: only those are read (a ceremony before its division's close is refused for
    // its order first), and only that division's chamber is kept, so a log of many
    // elections costs no copy of a chamber each.
    let mut at_ceremony: HashMap<u64, HashMap<ContextId, Chamber>> = HashMap::new();
    let mut ahead = ceremonies.iter().peekable();
    let mut keep = |fold: &Fold, (c, election): (u64, ContextId)| {
        if let Some(chamber) = fold.chamber_naming(&election)
            && let Some(state) = fold.chambers.get(&chamber)
        {
            at_ceremony.insert(c, HashMap::from([(chamber, state.clone())]));
        }
    };
    for ((index, record), forged) in mine.iter().zip(forged) {
        while let Some(&&(c, election)) = ahead.peek()
            && c < *index
        {
            keep(&fold, (c, election));
            ahead.next();
        }
        if forged {
            return Err(signature_violation(*index, record));
        }
        fold.feed(*index, record)?;
    }
    for &(c, election) in ahead {
        keep(&fold, (c, election));
    }
    links(&fold, &at_ceremony, records)?;
    Ok(fold
        .order
        .iter()
        .filter_map(|id| Some((*id, fold.sittings.get(id)?.recounted())))
        .collect())
}

fn signature_violation(index: u64, record: &Record) -> Violation {
    Violation {
        index,
        kind: label(record.kind()),
        field: "signature".into(),
        reason: "the record's signature does not verify (verify_strict)".into(),
    }
}

/// A refusal of the record being folded: its field and why (the index and kind are the
/// record's).
type Refusal = (String, String);

fn refuse<T>(field: &str, reason: impl Into<String>) -> Result<T, Refusal> {
    Err((field.to_owned(), reason.into()))
}

#[derive(Default)]
struct Fold {
    chambers: HashMap<ContextId, Chamber>,
    sittings: HashMap<ContextId, Sitting>,
    order: Vec<ContextId>,
    /// Each context's record hashes: a repeat is a replay (spec/12 §12.5 step 5).
    seen: HashMap<ContextId, HashMap<[u8; 32], u64>>,
}

impl Fold {
    /// The chamber of the sitting whose division names `election`, if one does.
    fn chamber_naming(&self, election: &ContextId) -> Option<ContextId> {
        self.sittings.values().find_map(|sitting| {
            sitting
                .divisions
                .iter()
                .any(|d| d.open.election == Some(election.0))
                .then_some(sitting.chamber)
        })
    }

    fn feed(&mut self, index: u64, record: &Record) -> Result<(), Violation> {
        let kind = label(record.kind());
        let at = |(field, reason): Refusal| Violation {
            index,
            kind,
            field,
            reason,
        };
        let id = record.context();
        let hash = record.hash();
        if let Some(first) = self.seen.get(&id).and_then(|s| s.get(&hash)) {
            return Err(at((
                "record".into(),
                format!(
                    "the same bytes as record {first}: the board refuses a record already on it"
                ),
            )));
        }
        if record.kind() == CONTEXT_OPEN {
            return self.open(index, record).map_err(at);
        }
        if let Some(chamber) = self.chambers.get_mut(&id) {
            chamber.fold(record).map_err(at)?;
        } else if let Some(sitting) = self.sittings.get_mut(&id) {
            let chamber = self.chambers.get(&sitting.chamber);
            sitting.fold(index, record, chamber).map_err(at)?;
        } else {
            // A record before its context's opening: V2's context rule names it.
            return Ok(());
        }
        self.seen.entry(id).or_default().insert(hash, index);
        Ok(())
    }

    fn open(&mut self, index: u64, record: &Record) -> Result<(), Refusal> {
        let Ok(open) = ContextOpen::parse(record.body()) else {
            return Ok(());
        };
        let id = record.context();
        if open.context_type != ContextType::SITTING && open.context_type != CHAMBER_CONTEXT {
            return Ok(());
        }
        if ContextId::derive(record.signer(), record.body()) != id {
            return refuse(
                "context",
                "not the id its context.open derives (spec/12 §12.3)",
            );
        }
        if self.chambers.contains_key(&id) || self.sittings.contains_key(&id) {
            return refuse("context", "this context is open already");
        }
        if open.context_type == CHAMBER_CONTEXT {
            self.chambers
                .insert(id, Chamber::new(*record.signer(), open.parameters));
        } else {
            self.sittings.insert(
                id,
                Sitting::new(*record.signer(), ContextId(open.parameters)),
            );
            self.order.push(id);
        }
        self.seen
            .entry(id)
            .or_default()
            .insert(record.hash(), index);
        Ok(())
    }
}

fn phase_of(record: &Record, authority: &[u8; 32]) -> Result<u8, Refusal> {
    if record.signer() != authority {
        return refuse("signer", "context.phase is signed by the presiding officer");
    }
    ContextPhase::parse(record.body())
        .map(|p| p.to)
        .map_err(|e| (e.field().to_owned(), e.to_string()))
}

fn decode(record: &Record) -> Result<Body, Refusal> {
    match body::decode(record.kind(), record.body()) {
        None => refuse(
            "kind",
            format!("kind 0x{:04x} is not an assembly's", record.kind().0),
        ),
        Some(decoded) => decoded.map_err(|e| (e.field, e.reason)),
    }
}

/// A member as the chamber knows them now.
#[derive(Clone, Debug)]
struct MemberNow {
    key: [u8; 32],
    revoked: bool,
}

/// A chamber (§40.3–§40.4): its rules and its one roster.
#[derive(Clone, Debug)]
struct Chamber {
    authority: [u8; 32],
    parameters: [u8; 32],
    in_force: bool,
    rules: Option<Rules>,
    roster_version: u32,
    members: Vec<MemberNow>,
    by_key: HashMap<[u8; 32], u32>,
    /// Keys rotated out or revoked: the member and the roster version that ended them.
    retired: HashMap<[u8; 32], (u32, u32)>,
}

impl Chamber {
    fn new(authority: [u8; 32], parameters: [u8; 32]) -> Self {
        Self {
            authority,
            parameters,
            in_force: false,
            rules: None,
            roster_version: 0,
            members: Vec::new(),
            by_key: HashMap::new(),
            retired: HashMap::new(),
        }
    }

    fn in_force(&self, member: u32) -> bool {
        self.members
            .get(member as usize)
            .is_some_and(|m| !m.revoked)
    }

    fn members_in_force(&self) -> u64 {
        self.members.iter().filter(|m| !m.revoked).count() as u64
    }

    /// The member whose key in force signed (§40.4), or why the signer is none.
    fn signer(&self, signer: &[u8; 32]) -> Result<u32, Refusal> {
        if let Some(&m) = self.by_key.get(signer) {
            return Ok(m);
        }
        match self.retired.get(signer) {
            Some((m, v)) => refuse(
                "signer",
                format!("member {m}'s key was rotated out or revoked in roster version {v}"),
            ),
            None => refuse(
                "signer",
                format!("not a member in roster version {}", self.roster_version),
            ),
        }
    }

    fn roster_version_is(&self, version: u32) -> Result<(), Refusal> {
        if version == self.roster_version {
            return Ok(());
        }
        refuse(
            "body.roster_version",
            format!(
                "roster version {version}; {} is in force",
                self.roster_version
            ),
        )
    }

    fn clerk(&self, signer: &[u8; 32]) -> Result<(), Refusal> {
        match &self.rules {
            Some(rules) if &rules.clerk == signer => Ok(()),
            Some(_) => refuse("signer", "signed by the clerk the chamber's rules name"),
            None => refuse(
                "body",
                "the roster comes after chamber.rules, which names the clerk",
            ),
        }
    }

    fn fold(&mut self, record: &Record) -> Result<(), Refusal> {
        if record.kind() == CONTEXT_PHASE {
            let to = phase_of(record, &self.authority)?;
            if to > 1 {
                return refuse("body", format!("a chamber has no phase {to}"));
            }
            if self.in_force || to != 1 {
                return refuse(
                    "body",
                    "a chamber moves once, from setup to in-force (§40.2)",
                );
            }
            if self.rules.is_none() || self.members.is_empty() {
                return refuse(
                    "body",
                    "the roster is put in force once the rules and roster are on the board",
                );
            }
            self.in_force = true;
            return Ok(());
        }
        let body = decode(record)?;
        let signer = record.signer();
        let phase = if self.in_force { "in-force" } else { "setup" };
        let wrong_phase = || {
            refuse(
                "kind",
                format!("not accepted in a chamber in {phase} (§40.2)"),
            )
        };
        match body {
            Body::Rules(rules) => {
                if self.in_force {
                    return wrong_phase();
                }
                if signer != &self.authority {
                    return refuse("signer", "signed by the chamber's presiding officer");
                }
                if self.rules.is_some() {
                    return refuse("body", "the chamber's rules are posted already");
                }
                let hash: [u8; 32] = Sha256::new()
                    .chain_update(PARAMETERS_LABEL)
                    .chain_update(record.body())
                    .finalize()
                    .into();
                if hash != self.parameters {
                    return refuse(
                        "body",
                        "these rules do not hash to the parameters of the chamber's context.open",
                    );
                }
                self.rules = Some(rules);
            }
            Body::Roster { version, members } => {
                if self.in_force {
                    return wrong_phase();
                }
                self.clerk(signer)?;
                if !self.members.is_empty() {
                    return refuse("body", "the chamber's roster is posted already");
                }
                if version == 0 {
                    return refuse("body.version_number", "version 0 means no roster");
                }
                self.roster_version = version;
                self.by_key = members
                    .iter()
                    .enumerate()
                    .map(|(m, member)| (member.key, m as u32))
                    .collect();
                self.members = members
                    .into_iter()
                    .map(|m| MemberNow {
                        key: m.key,
                        revoked: false,
                    })
                    .collect();
            }
            Body::RosterChange {
                version,
                member,
                rotate_to,
            } => {
                if !self.in_force {
                    return wrong_phase();
                }
                self.clerk(signer)?;
                if Some(version) != self.roster_version.checked_add(1) {
                    return refuse(
                        "body.version_number",
                        format!(
                            "version {version} does not follow {}, the one in force",
                            self.roster_version
                        ),
                    );
                }
                if !self.in_force(member) {
                    return refuse(
                        "body.member",
                        format!("member {member} is not on the roster in force"),
                    );
                }
                if let Some(key) = rotate_to
                    && (self.by_key.contains_key(&key) || self.retired.contains_key(&key))
                {
                    return refuse("body.key", "a key a member holds or held");
                }
                let m = &mut self.members[member as usize];
                self.by_key.remove(&m.key);
                self.retired.insert(m.key, (member, version));
                match rotate_to {
                    Some(key) => {
                        m.key = key;
                        self.by_key.insert(key, member);
                    }
                    None => m.revoked = true,
                }
                self.roster_version = version;
            }
            _ => return refuse("kind", "a sitting's record, posted in a chamber (§40.2)"),
        }
        Ok(())
    }
}

/// A delegation (§40.6).
#[derive(Clone, Copy, Debug)]
struct Grant {
    delegate: u32,
    seconds: u32,
    /// The sitting clock when granted; None before the first declared time (it then
    /// starts at that time).
    start: Option<u64>,
}

#[derive(Clone, Copy, Debug)]
struct CastVote {
    choice: u8,
    delegate: Option<u32>,
}

#[derive(Clone, Debug)]
struct Division {
    open: DivisionOpen,
    opened_at: u64,
    status: Status,
    present: u32,
    quorum: u32,
    counted: BTreeMap<u32, CastVote>,
    published: Option<(u64, DivisionResult)>,
    /// Wallet keys registered (§40.12), by member: the key and whether a delegate did.
    registered: BTreeMap<u32, ([u8; 32], bool)>,
    /// The first `division.close` or `division.void`.
    window_ended_at: Option<u64>,
    /// A secret division's draw candidates, fixed at its close: members in force there,
    /// with the key each held there, in member order (§40.12 step 3).
    candidates: Option<Vec<(u32, [u8; 32])>>,
    rerun: bool,
}

impl Division {
    fn running(&self) -> bool {
        matches!(self.status, Status::Open | Status::Suspended)
    }

    /// The result the log gives (§40.9); a secret division's counts are zero here.
    fn count(&self) -> DivisionResult {
        let mut counts = vec![0u32; self.open.choices.len()];
        let mut proxy_votes = self.registered.values().filter(|(_, by)| *by).count() as u32;
        let mut hash = Sha256::new()
            .chain_update(ROLL_CALL_LABEL)
            .chain_update(self.open.division.to_be_bytes())
            .chain_update((self.counted.len() as u32).to_be_bytes());
        for (member, vote) in &self.counted {
            if let Some(c) = counts.get_mut(usize::from(vote.choice)) {
                *c = c.saturating_add(1);
            }
            hash.update(member.to_be_bytes());
            hash.update([vote.choice]);
            match vote.delegate {
                None => hash.update([0]),
                Some(d) => {
                    proxy_votes = proxy_votes.saturating_add(1);
                    hash.update([1]);
                    hash.update(d.to_be_bytes());
                }
            }
        }
        DivisionResult {
            division: self.open.division,
            roster_version: self.open.roster_version,
            counts,
            proxy_votes,
            present: self.present,
            quorum: self.quorum,
            roll_call_hash: hash.finalize().into(),
        }
    }
}

/// A sitting (§40.2, §40.5–§40.9).
#[derive(Clone, Debug)]
struct Sitting {
    authority: [u8; 32],
    chamber: ContextId,
    /// 0 setup, 1 in-session, 2 closed.
    phase: u8,
    present: HashMap<u32, bool>,
    grants: HashMap<u32, Grant>,
    sequences: HashMap<u32, u32>,
    clock: Option<u64>,
    divisions: Vec<Division>,
}

impl Sitting {
    fn new(authority: [u8; 32], chamber: ContextId) -> Self {
        Self {
            authority,
            chamber,
            phase: 0,
            present: HashMap::new(),
            grants: HashMap::new(),
            sequences: HashMap::new(),
            clock: None,
            divisions: Vec::new(),
        }
    }

    fn recounted(&self) -> Vec<Recounted> {
        self.divisions
            .iter()
            .map(|d| Recounted {
                division: d.open.division,
                counts: match (&d.published, d.open.election) {
                    (Some((_, published)), Some(_)) => published.counts.clone(),
                    _ => d.count().counts,
                },
                secret: d.open.election.is_some(),
                status: d.status,
                published_at: d.published.as_ref().map(|(at, _)| *at),
            })
            .collect()
    }

    fn is_present(&self, c: &Chamber, member: u32) -> bool {
        c.in_force(member) && self.present.get(&member).copied().unwrap_or(false)
    }

    /// A member's delegation in force when the sitting clock reads `clock` (§40.6): not
    /// revoked, the grantor in force, and start + seconds not reached.
    fn grant_at(&self, c: &Chamber, member: u32, clock: Option<u64>) -> Option<&Grant> {
        if !c.in_force(member) {
            return None;
        }
        let grant = self.grants.get(&member)?;
        match (grant.start, clock) {
            (Some(start), Some(now)) if now >= start.saturating_add(u64::from(grant.seconds)) => {
                None
            }
            _ => Some(grant),
        }
    }

    /// P and Q of §40.5 with the sitting clock at `clock`.
    fn quorum_at(&self, c: &Chamber, clock: Option<u64>) -> (u32, u32) {
        let rules = c.rules.as_ref();
        let proxies_count = rules.is_some_and(|r| r.proxies_count_for_quorum);
        let mut present = 0u32;
        for m in 0..c.members.len() as u32 {
            if !c.in_force(m) {
                continue;
            }
            let represented = proxies_count
                && self
                    .grant_at(c, m, clock)
                    .is_some_and(|g| self.is_present(c, g.delegate));
            if self.is_present(c, m) || represented {
                present += 1;
            }
        }
        let members = c.members_in_force();
        let required = match rules.map(|r| r.quorum) {
            Some(Quorum::Number(n)) => n,
            Some(Quorum::Fraction(a, b)) => {
                u32::try_from((members * u64::from(a)).div_ceil(u64::from(b.max(1))))
                    .unwrap_or(u32::MAX)
            }
            None => u32::MAX,
        };
        (present, required)
    }

    fn sequence(&self, member: u32, sequence: u32) -> Result<(), Refusal> {
        let last = self.sequences.get(&member).copied().unwrap_or(0);
        if Some(sequence) == last.checked_add(1) {
            return Ok(());
        }
        refuse(
            "body.sequence",
            format!(
                "member {member}'s last number in the sitting is {last}: not {sequence} (§40.2)"
            ),
        )
    }

    fn division(&self, number: u32) -> Result<&Division, Refusal> {
        number
            .checked_sub(1)
            .and_then(|i| self.divisions.get(i as usize))
            .map_or_else(
                || {
                    refuse(
                        "body.division",
                        format!(
                            "no division {number} (the sitting has {})",
                            self.divisions.len()
                        ),
                    )
                },
                Ok,
            )
    }

    fn division_mut(&mut self, number: u32) -> Result<&mut Division, Refusal> {
        let count = self.divisions.len();
        number
            .checked_sub(1)
            .and_then(|i| self.divisions.get_mut(i as usize))
            .ok_or_else(|| {
                (
                    "body.division".into(),
                    format!("no division {number} (the sitting has {count})"),
                )
            })
    }

    fn time(&self, time: u64) -> Result<(), Refusal> {
        match self.clock {
            Some(now) if time < now => refuse(
                "body.time",
                format!("{time} is before the sitting clock, {now}"),
            ),
            _ => Ok(()),
        }
    }

    fn set_clock(&mut self, time: u64) {
        if self.clock.is_none() {
            for grant in self.grants.values_mut() {
                grant.start.get_or_insert(time);
            }
        }
        self.clock = Some(time);
    }

    fn officer(&self, signer: &[u8; 32]) -> Result<(), Refusal> {
        if signer == &self.authority {
            return Ok(());
        }
        refuse("signer", "signed by the sitting's presiding officer")
    }

    fn fold(&mut self, index: u64, record: &Record, c: Option<&Chamber>) -> Result<(), Refusal> {
        if record.kind() == CONTEXT_PHASE {
            let to = phase_of(record, &self.authority)?;
            return self.move_to(to, c);
        }
        let body = decode(record)?;
        let Some(c) = c else {
            return refuse(
                "context",
                format!(
                    "the sitting's chamber {} is not open on the board",
                    self.chamber.to_hex()
                ),
            );
        };
        if matches!(
            body,
            Body::Rules(_) | Body::Roster { .. } | Body::RosterChange { .. }
        ) {
            return refuse("kind", "a chamber's record, posted in a sitting (§40.2)");
        }
        if self.phase != 1 {
            return refuse("kind", "a sitting takes it in session only (§40.2)");
        }
        let signer = record.signer();
        match body {
            Body::Presence {
                sequence,
                roster_version,
                present,
            } => {
                let m = c.signer(signer)?;
                self.sequence(m, sequence)?;
                c.roster_version_is(roster_version)?;
                self.sequences.insert(m, sequence);
                self.present.insert(m, present);
            }
            Body::ProxyGrant {
                sequence,
                roster_version,
                delegate,
                seconds,
            } => {
                let m = c.signer(signer)?;
                self.sequence(m, sequence)?;
                self.check_grant(c, m, roster_version, delegate)?;
                self.sequences.insert(m, sequence);
                self.grants.insert(
                    m,
                    Grant {
                        delegate,
                        seconds,
                        start: self.clock,
                    },
                );
            }
            Body::ProxyRevoke { sequence } => {
                let m = c.signer(signer)?;
                self.sequence(m, sequence)?;
                if self.grant_at(c, m, self.clock).is_none() {
                    return refuse(
                        "body",
                        format!("member {m} has no delegation in force to revoke"),
                    );
                }
                self.sequences.insert(m, sequence);
                self.grants.remove(&m);
            }
            Body::DivisionOpen(open) => {
                self.officer(signer)?;
                self.check_open(c, &open)?;
                self.set_clock(open.time);
                let (present, quorum) = self.quorum_at(c, self.clock);
                if open.reruns != 0 {
                    self.division_mut(open.reruns)?.rerun = true;
                }
                self.divisions.push(Division {
                    open,
                    opened_at: index,
                    status: Status::Open,
                    present,
                    quorum,
                    counted: BTreeMap::new(),
                    published: None,
                    registered: BTreeMap::new(),
                    window_ended_at: None,
                    candidates: None,
                    rerun: false,
                });
            }
            Body::Event { division, time } => {
                self.officer(signer)?;
                self.event(index, record.kind(), division, time, c)?;
            }
            Body::DivisionResult(claimed) => {
                self.officer(signer)?;
                self.check_result(c, &claimed)?;
                let division = claimed.division;
                self.division_mut(division)?.published = Some((index, claimed));
            }
            Body::Vote {
                sequence,
                division,
                text_hash,
                roster_version,
                choice,
                on_behalf,
            } => {
                let voter = c.signer(signer)?;
                self.sequence(voter, sequence)?;
                let d = self.division(division)?;
                match d.status {
                    Status::Open => {}
                    other => {
                        return refuse(
                            "body.division",
                            format!("division {division} is {other:?}: outside its voting window"),
                        );
                    }
                }
                if !self.is_present(c, voter) {
                    return refuse(
                        "presence",
                        format!("member {voter} votes without having arrived (§40.8)"),
                    );
                }
                if text_hash != d.open.text_hash {
                    return refuse("body.text_hash", format!("not division {division}'s text"));
                }
                if roster_version != d.open.roster_version {
                    return refuse(
                        "body.roster_version",
                        format!(
                            "division {division} is voted under roster version {}",
                            d.open.roster_version
                        ),
                    );
                }
                if usize::from(choice) >= d.open.choices.len() {
                    return refuse(
                        "body.choice",
                        format!("choice {choice} of {}", d.open.choices.len()),
                    );
                }
                let rules = c.rules.as_ref();
                if d.open.election.is_some() {
                    if on_behalf.is_some() && !rules.is_some_and(|r| r.proxies_in_secret_ballots) {
                        return refuse(
                            "body.on_behalf",
                            "the chamber's rules keep proxies out of secret ballots",
                        );
                    }
                    return refuse(
                        "body.division",
                        format!("division {division} is a secret ballot, voted in its election"),
                    );
                }
                let member = match on_behalf {
                    None => voter,
                    Some(m) => {
                        self.delegated(c, m, voter)?;
                        m
                    }
                };
                let first_is_final = rules.is_some_and(|r| !r.last_vote_counts);
                if first_is_final && d.counted.contains_key(&member) {
                    return refuse(
                        "vote.member",
                        format!(
                            "member {member} voted in division {division} already and the first cast is final"
                        ),
                    );
                }
                self.sequences.insert(voter, sequence);
                let delegate = on_behalf.map(|_| voter);
                self.division_mut(division)?
                    .counted
                    .insert(member, CastVote { choice, delegate });
            }
            Body::Correction {
                sequence,
                division,
                choice,
            } => {
                let m = c.signer(signer)?;
                self.sequence(m, sequence)?;
                let d = self.division(division)?;
                if d.status == Status::Voided || d.open.election.is_some() {
                    return refuse(
                        "body.division",
                        format!("division {division} has no roll call to correct"),
                    );
                }
                if usize::from(choice) >= d.open.choices.len() {
                    return refuse(
                        "body.choice",
                        format!("choice {choice} of {}", d.open.choices.len()),
                    );
                }
                self.sequences.insert(m, sequence);
            }
            Body::Credential {
                sequence,
                division,
                key,
                on_behalf,
            } => {
                let signer = c.signer(signer)?;
                self.sequence(signer, sequence)?;
                let d = self.division(division)?;
                if d.open.election.is_none() {
                    return refuse(
                        "body.division",
                        format!("division {division} is not a secret ballot"),
                    );
                }
                if d.status != Status::Open {
                    return refuse(
                        "body.division",
                        format!(
                            "division {division} is {:?}: outside its voting window",
                            d.status
                        ),
                    );
                }
                if !self.is_present(c, signer) {
                    return refuse(
                        "presence",
                        format!("member {signer} registers without having arrived (§40.12)"),
                    );
                }
                let member = match on_behalf {
                    None => signer,
                    Some(m) => {
                        if !c
                            .rules
                            .as_ref()
                            .is_some_and(|r| r.proxies_in_secret_ballots)
                        {
                            return refuse(
                                "body.on_behalf",
                                "the chamber's rules keep proxies out of secret ballots",
                            );
                        }
                        self.delegated(c, m, signer)?;
                        m
                    }
                };
                if d.registered.contains_key(&member) {
                    return refuse(
                        "credential.member",
                        format!("member {member} registered for division {division} already"),
                    );
                }
                if let Some((m, _)) = d.registered.iter().find(|(_, (k, _))| *k == key) {
                    return refuse(
                        "body.credential",
                        format!("member {m} registered this key for division {division}"),
                    );
                }
                self.sequences.insert(signer, sequence);
                self.division_mut(division)?
                    .registered
                    .insert(member, (key, on_behalf.is_some()));
            }
            Body::Rules(_) | Body::Roster { .. } | Body::RosterChange { .. } => {
                return refuse("kind", "a chamber's record, posted in a sitting (§40.2)");
            }
        }
        Ok(())
    }

    /// `member`'s delegation in force names `delegate` (§40.6, §40.8).
    fn delegated(&self, c: &Chamber, member: u32, delegate: u32) -> Result<(), Refusal> {
        let in_force = self
            .grant_at(c, member, self.clock)
            .is_some_and(|g| g.delegate == delegate);
        if member == delegate || !in_force {
            return refuse(
                "body.on_behalf",
                format!("no delegation from member {member} to member {delegate} is in force here"),
            );
        }
        Ok(())
    }

    fn move_to(&mut self, to: u8, c: Option<&Chamber>) -> Result<(), Refusal> {
        if to != self.phase + 1 || to > 2 {
            return refuse(
                "body",
                format!(
                    "a sitting in phase {} cannot move to {to} (one step forward at a time)",
                    self.phase
                ),
            );
        }
        if to == 1 {
            match c {
                None => {
                    return refuse("body", "the sitting's chamber is not open on the board");
                }
                Some(c) if !c.in_force => {
                    return refuse("body", "the chamber's roster is not in force");
                }
                Some(c) if c.authority != self.authority => {
                    return refuse(
                        "body",
                        "the sitting's presiding officer is not its chamber's",
                    );
                }
                Some(_) => {}
            }
        } else {
            if let Some(d) = self.divisions.iter().find(|d| d.running()) {
                return refuse(
                    "body",
                    format!("division {} is still open", d.open.division),
                );
            }
            let unpublished = self.divisions.iter().find(|d| {
                d.status == Status::Closed && d.open.election.is_none() && d.published.is_none()
            });
            if let Some(d) = unpublished {
                return refuse(
                    "body",
                    format!("division {} is closed without its result", d.open.division),
                );
            }
        }
        self.phase = to;
        Ok(())
    }

    fn check_grant(
        &self,
        c: &Chamber,
        grantor: u32,
        roster_version: u32,
        delegate: u32,
    ) -> Result<(), Refusal> {
        let max = c.rules.as_ref().map_or(0, |r| r.max_proxies_held);
        if max == 0 {
            return refuse("body", "the chamber's rules allow no proxies");
        }
        c.roster_version_is(roster_version)?;
        if delegate == grantor || !c.in_force(delegate) {
            return refuse(
                "body.delegate",
                format!("member {delegate} is not another member in force"),
            );
        }
        if self.grant_at(c, grantor, self.clock).is_some() {
            return refuse(
                "body",
                format!("member {grantor} has a delegation in force: revoke it first"),
            );
        }
        let held = self
            .grants
            .keys()
            .filter(|&&m| {
                self.grant_at(c, m, self.clock)
                    .is_some_and(|g| g.delegate == delegate)
            })
            .count();
        if held >= usize::from(max) {
            return refuse(
                "body.delegate",
                format!("member {delegate} holds {held} delegation(s), the most the rules allow"),
            );
        }
        Ok(())
    }

    fn check_open(&self, c: &Chamber, open: &DivisionOpen) -> Result<(), Refusal> {
        let next = self.divisions.len() as u32 + 1;
        if open.division != next {
            return refuse(
                "body.division",
                format!("the next division is number {next}"),
            );
        }
        if let Some(d) = self.divisions.iter().find(|d| d.running()) {
            return refuse(
                "body.division",
                format!("division {} is still open", d.open.division),
            );
        }
        if let Some(election) = open.election
            && let Some(d) = self
                .divisions
                .iter()
                .find(|d| d.open.election == Some(election))
        {
            return refuse(
                "body.election",
                format!("division {} names this election already", d.open.division),
            );
        }
        self.time(open.time)?;
        c.roster_version_is(open.roster_version)?;
        if open.election.is_some()
            && let Some(rules) = &c.rules
        {
            let needed =
                u64::from(rules.secret_trustees).max(u64::from(rules.secret_min_registrants));
            if c.members_in_force() < needed {
                return refuse(
                    "body.secret",
                    format!(
                        "{} members in force; a secret ballot needs {} trustees and {} registrants",
                        c.members_in_force(),
                        rules.secret_trustees,
                        rules.secret_min_registrants
                    ),
                );
            }
        }
        if open.reruns != 0 {
            let voided = self
                .division(open.reruns)
                .ok()
                .filter(|d| d.status == Status::Voided && !d.rerun);
            let Some(voided) = voided else {
                return refuse(
                    "body.reruns",
                    format!(
                        "division {} is not a voided division awaiting its rerun",
                        open.reruns
                    ),
                );
            };
            if open.text_hash != voided.open.text_hash {
                return refuse("body.text_hash", "not the text of the division it reruns");
            }
            if open.choices != voided.open.choices {
                return refuse("body.choices", "not the choices of the division it reruns");
            }
            if open.election.is_some() != voided.open.election.is_some() {
                return refuse(
                    "body.secret",
                    "not the secret flag of the division it reruns",
                );
            }
        }
        let (present, required) = self.quorum_at(c, Some(open.time));
        if present < required {
            return refuse(
                "quorum",
                format!("quorum not met: {present} counted present, {required} required"),
            );
        }
        Ok(())
    }

    fn event(
        &mut self,
        index: u64,
        kind: urne_record::Kind,
        division: u32,
        time: u64,
        c: &Chamber,
    ) -> Result<(), Refusal> {
        let d = self.division(division)?;
        let (from, to): (&[Status], Status) = match kind {
            kinds::DIVISION_SUSPEND => (&[Status::Open], Status::Suspended),
            kinds::DIVISION_RESUME => (&[Status::Suspended], Status::Open),
            kinds::DIVISION_CLOSE => (&[Status::Open, Status::Suspended], Status::Closed),
            _ => (
                &[Status::Open, Status::Suspended, Status::Closed],
                Status::Voided,
            ),
        };
        if !from.contains(&d.status) {
            return refuse(
                "body.division",
                format!("division {division} is {:?}", d.status),
            );
        }
        self.time(time)?;
        if to == Status::Closed {
            let ends = d.open.time.saturating_add(u64::from(d.open.window));
            if time < ends {
                return refuse(
                    "body.time",
                    format!("division {division}'s window ends at {ends}, not before"),
                );
            }
        }
        if to == Status::Voided && d.published.is_some() {
            return refuse(
                "body.division",
                format!("division {division} has a published result"),
            );
        }
        self.set_clock(time);
        let d = self.division_mut(division)?;
        d.status = to;
        if matches!(to, Status::Closed | Status::Voided) {
            d.window_ended_at.get_or_insert(index);
        }
        if to == Status::Closed && d.open.election.is_some() {
            d.candidates = Some(
                c.members
                    .iter()
                    .enumerate()
                    .filter(|(_, m)| !m.revoked)
                    .map(|(m, member)| (m as u32, member.key))
                    .collect(),
            );
        }
        Ok(())
    }

    fn check_result(&self, c: &Chamber, claimed: &DivisionResult) -> Result<(), Refusal> {
        let d = self.division(claimed.division)?;
        if d.status != Status::Closed {
            return refuse(
                "body.division",
                format!(
                    "division {} is {:?}: a result comes after its close",
                    claimed.division, d.status
                ),
            );
        }
        if let Some((at, _)) = &d.published {
            return refuse(
                "body.division",
                format!("division {}'s result is record {at}", claimed.division),
            );
        }
        let mut expected = d.count();
        if d.open.election.is_some() {
            // The counts are the election's (§40.12, tied to its tally after the fold).
            let floor = c.rules.as_ref().map_or(0, |r| r.secret_min_registrants);
            let registered = d.registered.len() as u64;
            if registered < u64::from(floor) {
                return refuse(
                    "body.counts",
                    format!(
                        "{registered} registrants, below the chamber's floor of {floor}: the vote never opens"
                    ),
                );
            }
            if claimed.counts.len() == expected.counts.len() {
                let total: u64 = claimed.counts.iter().map(|&n| u64::from(n)).sum();
                if total > registered {
                    return refuse(
                        "body.counts",
                        format!("{total} votes from {registered} registered keys"),
                    );
                }
                expected.counts.clone_from(&claimed.counts);
            }
        }
        let differs = |field: &str, recounted: String, said: String| {
            refuse(
                field,
                format!("the result says {said}; the recount from the log gives {recounted}"),
            )
        };
        if claimed.roster_version != expected.roster_version {
            return differs(
                "body.roster_version",
                expected.roster_version.to_string(),
                claimed.roster_version.to_string(),
            );
        }
        if claimed.counts.len() != expected.counts.len() {
            return differs(
                "body.choice_count",
                expected.counts.len().to_string(),
                claimed.counts.len().to_string(),
            );
        }
        for (i, (e, said)) in expected.counts.iter().zip(&claimed.counts).enumerate() {
            if e != said {
                return differs(
                    &format!("body.counts[{i}]"),
                    e.to_string(),
                    said.to_string(),
                );
            }
        }
        if claimed.proxy_votes != expected.proxy_votes {
            return differs(
                "body.proxy_votes",
                expected.proxy_votes.to_string(),
                claimed.proxy_votes.to_string(),
            );
        }
        if claimed.present != expected.present {
            return differs(
                "body.present",
                expected.present.to_string(),
                claimed.present.to_string(),
            );
        }
        if claimed.quorum != expected.quorum {
            return differs(
                "body.quorum",
                expected.quorum.to_string(),
                claimed.quorum.to_string(),
            );
        }
        if claimed.roll_call_hash != expected.roll_call_hash {
            return refuse(
                "body.roll_call_hash",
                "not the hash of the roll call recounted from the log",
            );
        }
        Ok(())
    }
}

/// SHA-256(label ‖ sitting ‖ division): a secret division's registry id (§40.12).
fn registry_id(sitting: ContextId, division: u32) -> [u8; 32] {
    Sha256::new()
        .chain_update(SECRET_REGISTRY_LABEL)
        .chain_update(sitting.0)
        .chain_update(division.to_be_bytes())
        .finalize()
        .into()
}

/// The members of the draw (§40.12 step 3) in its order: candidates ranked by
/// SHA-256(seed ‖ key at the close), ties by key.
fn draw(sitting: ContextId, d: &Division, candidates: &[(u32, [u8; 32])]) -> Vec<u32> {
    let mut registered: Vec<[u8; 32]> = d.registered.values().map(|(k, _)| *k).collect();
    registered.sort_unstable();
    let mut seed = Sha256::new()
        .chain_update(TRUSTEE_DRAW_LABEL)
        .chain_update(sitting.0)
        .chain_update(d.open.division.to_be_bytes())
        .chain_update((registered.len() as u32).to_be_bytes());
    for key in &registered {
        seed.update(key);
    }
    let seed: [u8; 32] = seed.finalize().into();
    let mut ranked: Vec<([u8; 32], [u8; 32], u32)> = candidates
        .iter()
        .map(|(m, key)| {
            let rank: [u8; 32] = Sha256::new()
                .chain_update(seed)
                .chain_update(key)
                .finalize()
                .into();
            (rank, *key, *m)
        })
        .collect();
    ranked.sort_unstable();
    ranked.into_iter().map(|(_, _, m)| m).collect()
}

/// The links of every secret division to its election (§40.12, "what the recount ties
/// together"), once the fold of the whole log has passed.
fn links(
    fold: &Fold,
    at_ceremony: &HashMap<u64, HashMap<ContextId, Chamber>>,
    records: &[(u64, Record)],
) -> Result<(), Violation> {
    let mut named: HashMap<[u8; 32], u32> = HashMap::new();
    for id in &fold.order {
        let Some(sitting) = fold.sittings.get(id) else {
            continue;
        };
        for d in &sitting.divisions {
            let Some(election) = d.open.election else {
                continue;
            };
            if let Some(first) = named.insert(election, d.open.division) {
                return Err(Violation {
                    index: d.opened_at,
                    kind: "division.open",
                    field: "body.election".into(),
                    reason: format!(
                        "its election votes division {first} of another sitting already"
                    ),
                });
            }
            let chamber = fold.chambers.get(&sitting.chamber);
            let link = Link {
                sitting: *id,
                officer: sitting.authority,
                chamber_id: sitting.chamber,
                rules: chamber.and_then(|c| c.rules.as_ref()),
                d,
                election: ContextId(election),
            };
            link.check(at_ceremony, records)?;
        }
    }
    Ok(())
}

struct Link<'a> {
    sitting: ContextId,
    officer: [u8; 32],
    chamber_id: ContextId,
    rules: Option<&'a Rules>,
    d: &'a Division,
    election: ContextId,
}

impl Link<'_> {
    fn at<T>(
        &self,
        index: u64,
        kind: &'static str,
        field: &str,
        reason: String,
    ) -> Result<T, Violation> {
        Err(Violation {
            index,
            kind,
            field: field.to_owned(),
            reason,
        })
    }

    fn check(
        &self,
        at_ceremony: &HashMap<u64, HashMap<ContextId, Chamber>>,
        records: &[(u64, Record)],
    ) -> Result<(), Violation> {
        use crate::election::body::{Body as Election, decode};
        use crate::election::kinds::*;
        let d = self.d;
        let division = d.open.division;
        let floor = self.rules.map_or(0, |r| r.secret_min_registrants);
        let mut opened = false;
        let mut snapshot: Option<(u64, SignedSnapshot)> = None;
        let mut parts: Vec<(u64, SnapshotPart)> = Vec::new();
        let mut tally: Option<(u64, Vec<Vec<u64>>)> = None;
        for (index, record) in records.iter().filter(|(_, r)| r.context() == self.election) {
            let kind = record.kind();
            if kind != CONTEXT_OPEN && !ELECTION_LINK_KINDS.contains(&kind) {
                continue;
            }
            if record.verify_signature().is_err() {
                return Err(signature_violation(*index, record));
            }
            if kind == CONTEXT_OPEN {
                let by_officer = record.signer() == &self.officer
                    && ContextOpen::parse(record.body())
                        .is_ok_and(|o| o.context_type == ContextType::ELECTION);
                if !by_officer {
                    return self.at(
                        d.opened_at,
                        "division.open",
                        "body.election",
                        format!("division {division}'s election is not an election opened by the sitting's presiding officer"),
                    );
                }
                opened = true;
                continue;
            }
            if kind == ELECTION_SNAPSHOT {
                if let (None, Ok(signed)) = (&snapshot, SignedSnapshot::decode(record.body())) {
                    snapshot = Some((*index, signed));
                }
                continue;
            }
            if kind == ELECTION_SNAPSHOT_PART {
                if let Ok(part) = SnapshotPart::decode(record.body()) {
                    parts.push((*index, part));
                }
                continue;
            }
            // A body that does not decode is the election verifier's to name.
            match decode(kind, record.body()) {
                Some(Ok(Election::Credentials(_))) => {
                    return self.at(
                        *index,
                        "election.credentials",
                        "kind",
                        format!("division {division}'s election takes a pseudonymous credential list: it is anonymous (§40.12)"),
                    );
                }
                Some(Ok(Election::CeremonyOpen(open))) => {
                    let chamber = at_ceremony
                        .get(index)
                        .and_then(|chambers| chambers.get(&self.chamber_id));
                    self.ceremony(*index, open.threshold, &open.identities, chamber)?;
                }
                Some(Ok(Election::Manifest {
                    manifest,
                    eligibility,
                    ..
                })) => {
                    self.manifest(*index, &manifest)?;
                    self.eligibility(*index, floor, eligibility.as_deref())?;
                }
                Some(Ok(Election::Result(result))) => {
                    tally = Some((*index, result.counts.clone()));
                }
                _ => {}
            }
        }
        if !opened && d.status == Status::Closed {
            return self.at(
                d.opened_at,
                "division.open",
                "body.election",
                format!("division {division} is closed and its election is not on the log: its vote cannot be verified"),
            );
        }
        self.snapshot(floor, snapshot.as_ref(), &parts)?;
        let Some((at, published)) = &d.published else {
            return Ok(());
        };
        let Some((tally_at, counts)) = tally.filter(|(i, _)| i < at) else {
            return self.at(
                *at,
                "division.result",
                "body.counts",
                format!("division {division}'s election has no tally.result before this record"),
            );
        };
        let counts = match counts.as_slice() {
            [counts] if counts.len() == d.open.choices.len() => counts,
            _ => {
                return self.at(
                    tally_at,
                    "tally.result",
                    "body.counts",
                    format!(
                        "division {division}'s election does not count one contest of its choices"
                    ),
                );
            }
        };
        for (i, (said, counted)) in published.counts.iter().zip(counts).enumerate() {
            if u64::from(*said) != *counted {
                return self.at(
                    *at,
                    "division.result",
                    &format!("body.counts[{i}]"),
                    format!("the result says {said}; the election's tally (record {tally_at}) counts {counted}"),
                );
            }
        }
        Ok(())
    }

    /// §40.12 step 3: the ceremony after the close, the rules' n and t, trustees members
    /// in force at the ceremony, in the draw's order.
    fn ceremony(
        &self,
        index: u64,
        threshold: u16,
        identities: &[[u8; 32]],
        chamber: Option<&Chamber>,
    ) -> Result<(), Violation> {
        let d = self.d;
        let division = d.open.division;
        let kind = "ceremony.open";
        let candidates = d
            .candidates
            .as_ref()
            .filter(|_| d.window_ended_at.is_some_and(|closed| closed < index));
        let Some(candidates) = candidates else {
            return self.at(
                index,
                kind,
                "body",
                format!(
                    "division {division}'s election opens its ceremony before the division's close"
                ),
            );
        };
        let Some((chamber, rules)) = chamber.and_then(|c| Some((c, c.rules.as_ref()?))) else {
            return self.at(
                index,
                kind,
                "body.identities",
                format!("the chamber of division {division}'s sitting has no rules on the log"),
            );
        };
        if identities.len() != usize::from(rules.secret_trustees) {
            return self.at(
                index,
                kind,
                "body.identities",
                format!(
                    "{} trustees; the chamber's rules fix {}",
                    identities.len(),
                    rules.secret_trustees
                ),
            );
        }
        if threshold != u16::from(rules.secret_threshold) {
            return self.at(
                index,
                kind,
                "body.threshold",
                format!(
                    "a threshold of {threshold}; the chamber's rules fix {}",
                    rules.secret_threshold
                ),
            );
        }
        let member_of = |key: &[u8; 32]| {
            chamber
                .by_key
                .get(key)
                .copied()
                .filter(|&m| chamber.in_force(m))
        };
        if let Some(t) = identities.iter().position(|key| member_of(key).is_none()) {
            return self.at(
                index,
                kind,
                &format!("body.identities[{t}]"),
                format!(
                    "trustee {} is not the key in force of a member of the chamber here",
                    t + 1
                ),
            );
        }
        let drawn = draw(self.sitting, d, candidates);
        for (t, (identity, member)) in identities.iter().zip(drawn).enumerate() {
            if member_of(identity) != Some(member) {
                return self.at(
                    index,
                    kind,
                    &format!("body.identities[{t}]"),
                    format!("trustee {} is not member {member}, whom the public draw at the division's close puts there", t + 1),
                );
            }
        }
        Ok(())
    }

    /// §40.12: one single-choice contest, no blank vote, the division's choices in order.
    fn manifest(&self, index: u64, manifest: &urne_ballot::Manifest) -> Result<(), Violation> {
        let kind = "election.manifest";
        let [contest] = manifest.contests() else {
            return self.at(
                index,
                kind,
                "body.contests",
                format!(
                    "{} contests, not the division's one question",
                    manifest.contests().len()
                ),
            );
        };
        if contest.kind != urne_ballot::ContestKind::SingleChoice || contest.blank {
            return self.at(
                index,
                kind,
                "body.contests[0].kind",
                "not a single choice without a blank vote, as a division is".into(),
            );
        }
        if contest.options != self.d.open.choices {
            return self.at(
                index,
                kind,
                "body.contests[0].options",
                format!(
                    "{:?}, the division's {:?}",
                    contest.options, self.d.open.choices
                ),
            );
        }
        Ok(())
    }

    /// §40.12 step 2: anonymous, the division's registry, the officer alone, k = 1, and a
    /// floor of registered keys at least the chamber's.
    fn eligibility(
        &self,
        index: u64,
        floor: u32,
        eligibility: Option<&crate::election::body::Eligibility>,
    ) -> Result<(), Violation> {
        let kind = "election.manifest";
        let Some(eligibility) = eligibility else {
            return self.at(
                index,
                kind,
                "body.eligibility",
                "a pseudonymous election: its ballots would carry credentials tied to members"
                    .into(),
            );
        };
        if eligibility.registry != registry_id(self.sitting, self.d.open.division) {
            return self.at(
                index,
                kind,
                "body.eligibility.registry",
                "not the division's registry id".into(),
            );
        }
        if eligibility.min_real_keys < floor {
            return self.at(
                index,
                kind,
                "body.eligibility.min_real_keys",
                format!(
                    "{} registered keys; the chamber's floor is {floor}",
                    eligibility.min_real_keys
                ),
            );
        }
        let officer_only = eligibility.registrars.threshold == 1
            && matches!(eligibility.registrars.keys.as_slice(), [key] if key.as_bytes() == &self.officer);
        if !officer_only {
            return self.at(
                index,
                kind,
                "body.eligibility.registrars",
                "not the presiding officer alone, k = 1".into(),
            );
        }
        Ok(())
    }

    /// §40.12 step 2: the snapshot after the close, the division's registry, at least
    /// the floor, one bucket, and once complete exactly the registered keys.
    fn snapshot(
        &self,
        floor: u32,
        snapshot: Option<&(u64, SignedSnapshot)>,
        parts: &[(u64, SnapshotPart)],
    ) -> Result<(), Violation> {
        let Some((at, signed)) = snapshot else {
            return Ok(());
        };
        let d = self.d;
        let division = d.open.division;
        let kind = "election.snapshot";
        let header = &signed.header;
        if d.window_ended_at.is_none_or(|ended| *at < ended) {
            return self.at(
                *at,
                kind,
                "body",
                format!("division {division}'s snapshot comes while members may still register: after its close"),
            );
        }
        if header.registry != registry_id(self.sitting, division) {
            return self.at(
                *at,
                kind,
                "body.registry",
                format!("not division {division}'s registry"),
            );
        }
        if header.total < u64::from(floor) {
            return self.at(
                *at,
                kind,
                "body.total",
                format!(
                    "{} keys, below the chamber's floor of {floor}",
                    header.total
                ),
            );
        }
        if header.bucket_count() != 1 {
            return self.at(
                *at,
                kind,
                "body.bucket_bits",
                format!(
                    "{} buckets: a ballot would hide among fewer than all who registered",
                    header.bucket_count()
                ),
            );
        }
        let id = header.id();
        let mine: Vec<&(u64, SnapshotPart)> =
            parts.iter().filter(|(_, p)| p.snapshot == id).collect();
        let count: u64 = mine.iter().map(|(_, p)| p.entries.len() as u64).sum();
        let Some(last) = mine.last() else {
            return Ok(());
        };
        if count < header.total {
            return Ok(());
        }
        let registered: HashMap<[u8; 32], u32> = d
            .registered
            .iter()
            .map(|(&m, (key, _))| (*key, m))
            .collect();
        let mut listed = HashSet::new();
        let mut i = 0usize;
        for (index, part) in &mine {
            for entry in &part.entries {
                let key = entry.key.to_bytes();
                if !registered.contains_key(&key) {
                    return self.at(
                        *index,
                        "election.snapshot-part",
                        &format!("body.entries[{i}]"),
                        format!("a wallet key no member registered for division {division}"),
                    );
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
            return self.at(
                last.0,
                "election.snapshot-part",
                "body.entries",
                format!(
                    "member {member}'s wallet key for division {division} is not in the snapshot"
                ),
            );
        }
        Ok(())
    }
}
