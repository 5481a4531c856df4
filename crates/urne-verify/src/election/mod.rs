//! The verifier's own fold of an election (spec/23, with spec/20–24 for what each
//! record must prove): who may post what, in which phase and ceremony round, the
//! credential list's parts, ballots and audits, revotes, decryption shares and the
//! result, each record accepted or refused as the board should have.
//!
//! Why its own (ARCHITECTURE §9): a verifier that replays the board's acceptance code
//! cannot catch a bug in it. Only the pure cryptographic checks are shared with the
//! board — a ballot's and a signature's equations (urne-ballot, urne-credential), the
//! Benaloh opening (urne-ballot), the ceremony's outcome and the decryption shares
//! (urne-ceremony), the sums and their opening (urne-tally). A differential test
//! (tests/tamper.rs) holds the two folds to the same verdicts.
//!
//! Cast ballots' proofs are deferred: they change nothing a later record is checked
//! against, so they are verified after the log is read, batched across cores; the
//! records from the move to `tallying` on, which read the counted ballots, wait for
//! them (§23.8).

pub(crate) mod body;
mod ceremony;

pub(crate) use body::cast_ballot;
pub use body::{Phase, kinds};

use std::collections::{BTreeMap, HashMap, HashSet};

use rayon::prelude::*;
use urne_ballot::{Ballot, BallotError, ContextInputs, Election, Manifest, check_audit};
use urne_ceremony::{CeremonyOutcome, DecryptionError, DecryptionShares, verify_decryption_shares};
use urne_credential::{
    BallotSignature, CredentialList, CredentialListPart, ListedCredential, PublicCredential,
};
use urne_crypto::BatchVerifier;
use urne_log::{Hash, leaf_hash};
use urne_record::kinds::{CONTEXT_OPEN, CONTEXT_PHASE};
use urne_record::{ContextId, ContextOpen, ContextPhase, ContextType, Record};
use urne_tally::{Aggregation, TallyError, TallyResult, aggregate, check_opening};

use crate::report::{ElectionSummary, Failure, Report, Step};
use crate::snapshot::{Assembler as SnapshotAssembler, Dealt as Snapshot, verify_cosignatures};
use crate::verify::Progress;
use body::{AuditBody, Body, BodyError, Eligibility, RingSignedBallot, SignedBallot, decode};
use ceremony::CeremonyFold;
use urne_credential::registry::{SignedSnapshot, SnapshotPart};
use urne_crypto::triptych;

/// The most bytes a ballot may have (spec/23 §23.2): a record's 65,535, less the
/// envelope's 135 (spec/12) and the cast body's version, length and signature, 69.
const MAX_BALLOT_IN_A_CAST: usize = 65_535 - 135 - (1 + 4 + 64);

/// A body decoded ahead of the fold (in parallel): None for a record not decoded ahead.
pub(crate) type Decoding = Option<Option<Result<Body, BodyError>>>;

/// Decodes a record's body ahead of the fold.
pub(crate) fn decode_ahead(record: &Record) -> Decoding {
    match record.kind() {
        CONTEXT_OPEN | CONTEXT_PHASE => None,
        kind => Some(decode(kind, record.body())),
    }
}

/// Ballots per batch verification: the multiscalar multiplication amortises, and
/// every core still gets several batches.
const BALLOTS_PER_BATCH: usize = 64;

/// Audits one credential may post (spec/23 §23.7, K = 8).
const MAX_AUDITS_PER_CREDENTIAL: u8 = 8;

/// Why the fold refuses a record: the step of spec/50 it fails, the field, what.
#[derive(Debug)]
struct Refused {
    step: Step,
    field: String,
    message: String,
}

fn refused(step: Step, field: impl Into<String>, message: impl Into<String>) -> Refused {
    Refused {
        step,
        field: field.into(),
        message: message.into(),
    }
}

/// The step a record of `kind` belongs to when it is refused.
fn step_of(kind: urne_record::Kind) -> Step {
    match kind {
        CONTEXT_OPEN | CONTEXT_PHASE | kinds::ELECTION_MANIFEST => Step::Parameters,
        kinds::ELECTION_CREDENTIALS | kinds::ELECTION_SNAPSHOT | kinds::ELECTION_SNAPSHOT_PART => {
            Step::Credentials
        }
        kinds::BALLOT_CAST => Step::Ballots,
        kinds::BALLOT_AUDIT => Step::Audits,
        kinds::TALLY_DECRYPTION_SHARES => Step::Decryption,
        kinds::TALLY_RESULT => Step::Result,
        k if kinds::name(k).is_some_and(|n| n.starts_with("ceremony.")) => Step::Ceremony,
        _ => Step::Records,
    }
}

fn ballot_field(e: &BallotError) -> String {
    match e {
        BallotError::Decode(d) => format!("body.ballot.{}", d.field()),
        BallotError::WrongElection => "body.ballot.context".into(),
        BallotError::WrongCredential => "body.ballot.credential".into(),
        BallotError::Shape { field, .. }
        | BallotError::SumProofKind { field, .. }
        | BallotError::Proof { field, .. }
        | BallotError::Prove { field, .. } => format!("body.ballot.{field}"),
        _ => "body.ballot".into(),
    }
}

/// The credential list's parts as they arrive (spec/22 §22.3): each must continue the
/// list; with the last, the entries must hash to the declared root.
#[derive(Default)]
struct Parts {
    /// Part 0's root, total and part count.
    first: Option<(Hash, u64, u32)>,
    entries: Vec<ListedCredential>,
    next: u32,
}

/// Entries per part but the last (spec/22 §22.3).
const ENTRIES_PER_PART: u64 = 1800;

fn entry_leaf(entry: &ListedCredential) -> Hash {
    let mut bytes = [0u8; 36];
    bytes[..32].copy_from_slice(&entry.credential.to_bytes());
    bytes[32..].copy_from_slice(&entry.weight.to_be_bytes());
    leaf_hash(&bytes)
}

impl Parts {
    fn check(&self, part: &CredentialListPart) -> Result<(), String> {
        let header = (part.root, part.total, part.parts);
        let (root, total, parts) = self.first.unwrap_or(header);
        let implied = total.div_ceil(ENTRIES_PER_PART).max(1);
        if u64::from(part.parts) != implied {
            return Err(format!(
                "{} parts declared, a list of {total} entries has {implied}",
                part.parts
            ));
        }
        if header != (root, total, parts) {
            return Err(format!(
                "part {} declares another root, total or part count than part 0",
                part.part
            ));
        }
        if part.part != self.next {
            return Err(format!(
                "part {} where part {} comes next",
                part.part, self.next
            ));
        }
        let last = part.part + 1 == parts;
        let here = if last {
            total - u64::from(part.part) * ENTRIES_PER_PART
        } else {
            ENTRIES_PER_PART
        };
        if part.entries.len() as u64 != here {
            return Err(format!(
                "part {} holds {} entries, {here} expected",
                part.part,
                part.entries.len()
            ));
        }
        if let (Some(prev), Some(first)) = (self.entries.last(), part.entries.first())
            && prev.credential.to_bytes() >= first.credential.to_bytes()
        {
            return Err(format!(
                "entry {} does not follow the previous part's last in increasing order",
                self.entries.len()
            ));
        }
        if last {
            let leaves: Vec<Hash> = self
                .entries
                .iter()
                .chain(&part.entries)
                .map(entry_leaf)
                .collect();
            if urne_log::hash::root_of(&leaves) != root {
                return Err("the entries do not hash to the root the parts declare".into());
            }
        }
        Ok(())
    }

    fn push(&mut self, part: CredentialListPart) -> bool {
        self.first
            .get_or_insert((part.root, part.total, part.parts));
        self.entries.extend(part.entries);
        self.next += 1;
        self.first.is_some_and(|(_, _, parts)| self.next == parts)
    }
}

/// Who may vote, as sealed when voting opened.
enum Voters {
    /// A pseudonymous election's credential list (spec/22).
    List {
        list: CredentialList,
        /// Each listed credential by its encoding, decoded once.
        listed: HashMap<[u8; 32], PublicCredential>,
    },
    /// An anonymous election's registry snapshot (§23.11): its buckets are the rings.
    Snapshot(Box<SealedSnapshot>),
}

/// An anonymous election's snapshot as sealed (§23.3): what every ring signature binds.
struct SealedSnapshot {
    snapshot: Snapshot,
    id: [u8; 32],
    linking_base: curve25519_dalek::ristretto::RistrettoPoint,
    /// The Triptych shape of its buckets' rings (spec/08 §8.2).
    parameters: triptych::Parameters,
}

/// What voting opened on (spec/23 §23.3): never changed afterwards.
struct Sealed {
    election: Election,
    outcome: CeremonyOutcome,
    voters: Voters,
}

/// What authorises a pending cast: its credential's signature, or a ring signature over
/// a bucket of the snapshot (verified with that bucket's batch).
// The large variant is the common one (every pseudonymous ballot): boxing it would cost an
// allocation per ballot to save memory only on anonymous ones.
#[allow(clippy::large_enum_variant)]
enum Authorisation {
    Credential(PublicCredential, BallotSignature),
    Ring {
        bucket: u32,
        signature: Box<triptych::Signature>,
        context: Vec<u8>,
    },
}

/// What holds a tracking code on the board.
#[derive(Clone, Copy)]
enum Holder {
    /// An audited (spoiled) ballot, checked whole on arrival.
    Audit,
    /// The pending cast at this position, its signature and proofs `verified` yet or not.
    Cast { position: usize, verified: bool },
}

/// A cast ballot accepted by the ordered checks, its proofs not verified yet.
struct PendingCast {
    index: u64,
    ballot: Ballot,
    tracking: urne_ballot::TrackingCode,
    authorisation: Authorisation,
}

/// One election's records folded in log order.
pub(crate) struct ElectionFold {
    id: ContextId,
    origin: String,
    authority: Option<[u8; 32]>,
    parameters: [u8; 32],
    phase: Phase,
    manifest: Option<Manifest>,
    ceremony: CeremonyFold,
    parts: Parts,
    list: Option<CredentialList>,
    /// An anonymous election's eligibility (a version-2 manifest record).
    eligibility: Option<Eligibility>,
    /// Its snapshot's parts as they arrive, then the complete snapshot.
    assembler: Option<SnapshotAssembler>,
    snapshot_total: u64,
    sealed: Option<Sealed>,
    /// Tracking codes on the board, and what holds each.
    tracking: HashMap<[u8; 32], Holder>,
    /// Pending casts verified ahead of the batch because a later record reused their
    /// tracking code, and refused: they hold no code and never count.
    refused_early: Vec<(usize, Refused)>,
    audits_of: HashMap<[u8; 32], u8>,
    audits: u64,
    pending: Vec<PendingCast>,
    /// Records from the move to `tallying` on: checked once the ballots are.
    tail: Vec<(u64, Record, Decoding)>,
    finishing: bool,
    /// The counted ballots' ballots, in log order, once their proofs are verified.
    ballots: Vec<Ballot>,
    aggregation: Option<Aggregation>,
    decryptions: BTreeMap<u16, DecryptionShares>,
    result: Option<(u64, TallyResult)>,
}

impl ElectionFold {
    pub(crate) fn new(id: ContextId, origin: &str) -> Self {
        Self {
            id,
            origin: origin.to_owned(),
            authority: None,
            parameters: [0; 32],
            phase: Phase::Setup,
            manifest: None,
            ceremony: CeremonyFold::default(),
            parts: Parts::default(),
            list: None,
            eligibility: None,
            assembler: None,
            snapshot_total: 0,
            sealed: None,
            tracking: HashMap::new(),
            refused_early: Vec::new(),
            audits_of: HashMap::new(),
            audits: 0,
            pending: Vec::new(),
            tail: Vec::new(),
            finishing: false,
            ballots: Vec::new(),
            aggregation: None,
            decryptions: BTreeMap::new(),
            result: None,
        }
    }

    /// Cast ballots accepted so far, their proofs still to verify.
    pub(crate) fn pending_ballots(&self) -> u64 {
        self.pending.len() as u64
    }

    fn fail(&self, report: &mut Report, index: Option<u64>, r: Refused) {
        report.fail(
            r.step,
            Failure {
                record: index,
                field: r.field,
                context: Some(self.id.to_hex()),
                message: r.message,
            },
        );
    }

    /// One record of this election, in log order (its envelope signature verified). A
    /// record the rules refuse is reported and changes nothing.
    pub(crate) fn feed(
        &mut self,
        index: u64,
        record: Record,
        decoded: Decoding,
        report: &mut Report,
    ) {
        if !self.finishing && self.phase >= Phase::Tallying {
            self.tail.push((index, record, decoded));
            return;
        }
        match self.check_and_apply(index, &record, decoded) {
            Ok(step) => {
                if let Some(step) = step {
                    report.count(step, 1);
                }
            }
            Err(r) => self.fail(report, Some(index), r),
        }
    }

    fn authority_only(&self, kind: urne_record::Kind, signer: &[u8; 32]) -> Result<(), Refused> {
        if self.authority.as_ref() == Some(signer) {
            Ok(())
        } else {
            Err(refused(
                step_of(kind),
                "signer",
                format!(
                    "{} must be signed by the election's authority (the signer of its context.open)",
                    name(kind)
                ),
            ))
        }
    }

    fn in_phase(&self, kind: urne_record::Kind, phase: Phase) -> Result<(), Refused> {
        if self.phase == phase {
            Ok(())
        } else {
            Err(refused(
                step_of(kind),
                "kind",
                format!(
                    "{} is accepted only in the {phase} phase; the election is in its {} phase",
                    name(kind),
                    self.phase
                ),
            ))
        }
    }

    fn in_round(&self, kind: urne_record::Kind, round: u8) -> Result<(), Refused> {
        self.in_phase(kind, Phase::Ceremony)?;
        if self.ceremony.round == round {
            Ok(())
        } else {
            Err(refused(
                Step::Ceremony,
                "kind",
                format!(
                    "{} belongs to ceremony round {round}; the ceremony is in round {}",
                    name(kind),
                    self.ceremony.round
                ),
            ))
        }
    }

    /// Signed by the identity key of trustee `j`, whom the body names; an index outside
    /// the roster is named `field` (spec/23 §23.4: `body.trustee` whichever role names it).
    fn trustee_only(
        &self,
        kind: urne_record::Kind,
        signer: &[u8; 32],
        j: u16,
        field: &str,
    ) -> Result<(), Refused> {
        match self.ceremony.identity(j) {
            Some(id) if id == signer => Ok(()),
            Some(_) => Err(refused(
                step_of(kind),
                "signer",
                format!(
                    "{} must be signed by the identity key of trustee {j}, whom it names",
                    name(kind)
                ),
            )),
            None => Err(refused(
                step_of(kind),
                field,
                format!("the ceremony has no trustee {j}"),
            )),
        }
    }

    /// Checks a record against the rules and the state; applies it if it passes.
    /// Returns the step to count it under.
    fn check_and_apply(
        &mut self,
        index: u64,
        record: &Record,
        decoded: Decoding,
    ) -> Result<Option<Step>, Refused> {
        let kind = record.kind();
        let signer = record.signer();
        if kind == CONTEXT_OPEN {
            return self.open(record).map(|()| Some(Step::Parameters));
        }
        if self.authority.is_none() {
            return Err(refused(
                Step::Records,
                "context",
                "a record before its election's context.open",
            ));
        }
        if kind == CONTEXT_PHASE {
            return self.move_phase(record).map(|()| None);
        }
        let body = decoded
            .unwrap_or_else(|| decode(kind, record.body()))
            .ok_or_else(|| {
                refused(
                    Step::Records,
                    "kind",
                    format!("kind 0x{:04x} is not an election record kind", kind.0),
                )
            })?
            .map_err(|e| {
                refused(
                    step_of(kind),
                    e.field,
                    format!("{}: {}", name(kind), e.message),
                )
            })?;
        let id = self.id.0;
        match body {
            Body::Manifest {
                manifest,
                parameters,
                eligibility,
            } => {
                self.authority_only(kind, signer)?;
                self.in_phase(kind, Phase::Setup)?;
                if self.manifest.is_some() {
                    return Err(refused(
                        Step::Parameters,
                        "body",
                        "the election already has its manifest",
                    ));
                }
                if parameters != self.parameters {
                    return Err(refused(
                        Step::Parameters,
                        "body.manifest",
                        "the manifest does not hash to the parameters hash of the election's context.open",
                    ));
                }
                // spec/23 §23.2: ballots of a fixed length that must fit a ballot.cast
                // record (65,535 − 135 envelope − 69 cast body = 65,331 bytes).
                // An anonymous election's cast overhead depends on its snapshot's
                // bucket size: the bound is checked with the snapshot (§23.12).
                let ballot = manifest.ballot_len();
                if eligibility.is_none() && ballot > MAX_BALLOT_IN_A_CAST {
                    return Err(refused(
                        Step::Parameters,
                        "body.manifest",
                        format!(
                            "its ballots would be {ballot} bytes; a ballot.cast record holds at most {MAX_BALLOT_IN_A_CAST}"
                        ),
                    ));
                }
                self.manifest = Some(manifest);
                self.eligibility = eligibility.map(|e| *e);
                Ok(Some(Step::Parameters))
            }
            Body::CeremonyOpen(open) => {
                self.authority_only(kind, signer)?;
                self.in_phase(kind, Phase::Ceremony)?;
                if self.ceremony.open.as_ref() == Some(&open) {
                    return Err(refused(
                        Step::Ceremony,
                        "body",
                        "the ceremony is already open with exactly this roster",
                    ));
                }
                if self.ceremony.round > ceremony::REGISTER {
                    return Err(refused(
                        Step::Ceremony,
                        "kind",
                        format!(
                            "ceremony.open is accepted in rounds 0 and 1; the ceremony is in round {}",
                            self.ceremony.round
                        ),
                    ));
                }
                self.ceremony.reopen(open);
                Ok(Some(Step::Ceremony))
            }
            Body::Register(r) => {
                self.in_round(kind, ceremony::REGISTER)?;
                self.trustee_only(kind, signer, r.trustee, "body.trustee")?;
                if self.ceremony.registrations.contains_key(&r.trustee) {
                    return Err(refused(
                        Step::Ceremony,
                        "body.trustee",
                        format!("trustee {} has already registered", r.trustee),
                    ));
                }
                self.ceremony.registrations.insert(r.trustee, r);
                self.ceremony.advance(id);
                Ok(Some(Step::Ceremony))
            }
            Body::CommitmentHash(h) => {
                let posted = self.ceremony.hashes.contains_key(&h.dealer);
                self.check_dealer(kind, signer, h.dealer, ceremony::COMMIT, posted)?;
                self.ceremony.hashes.insert(h.dealer, h);
                self.ceremony.advance(id);
                Ok(Some(Step::Ceremony))
            }
            Body::Commitments(c) => {
                let posted = self.ceremony.commitments.contains_key(&c.dealer);
                self.check_dealer(kind, signer, c.dealer, ceremony::REVEAL, posted)?;
                self.ceremony.commitments.insert(c.dealer, c);
                self.ceremony.advance(id);
                Ok(Some(Step::Ceremony))
            }
            Body::Shares(s) => {
                let posted = self.ceremony.shares.contains_key(&s.dealer);
                self.check_dealer(kind, signer, s.dealer, ceremony::DEAL, posted)?;
                self.ceremony.shares.insert(s.dealer, s);
                self.ceremony.advance(id);
                Ok(Some(Step::Ceremony))
            }
            Body::Complaint(c) => {
                self.in_round(kind, ceremony::COMPLAIN)?;
                self.trustee_only(kind, signer, c.complainer, "body.trustee")?;
                if c.dealer == c.complainer || !self.ceremony.shares.contains_key(&c.dealer) {
                    return Err(refused(
                        Step::Ceremony,
                        "body.dealer",
                        format!("dealer {} posted no shares to complain about", c.dealer),
                    ));
                }
                if self
                    .ceremony
                    .complaints
                    .contains_key(&(c.dealer, c.complainer))
                {
                    return Err(refused(
                        Step::Ceremony,
                        "body.dealer",
                        format!(
                            "trustee {} has already complained about dealer {}",
                            c.complainer, c.dealer
                        ),
                    ));
                }
                self.ceremony.complaints.insert((c.dealer, c.complainer), c);
                Ok(Some(Step::Ceremony))
            }
            Body::Answer(a) => {
                self.in_round(kind, ceremony::ANSWER)?;
                self.trustee_only(kind, signer, a.dealer, "body.trustee")?;
                let key = (a.dealer, a.recipient);
                if !self.ceremony.complaints.contains_key(&key) {
                    return Err(refused(
                        Step::Ceremony,
                        "body.recipient",
                        format!(
                            "trustee {} made no complaint against dealer {}",
                            a.recipient, a.dealer
                        ),
                    ));
                }
                if self.ceremony.answers.contains_key(&key) {
                    return Err(refused(
                        Step::Ceremony,
                        "body.recipient",
                        "this complaint is already answered",
                    ));
                }
                self.ceremony.answers.insert(key, a);
                self.ceremony.advance(id);
                Ok(Some(Step::Ceremony))
            }
            Body::CloseRound(round) => {
                self.authority_only(kind, signer)?;
                self.in_phase(kind, Phase::Ceremony)?;
                let current = self.ceremony.round;
                if !(ceremony::COMMIT..=ceremony::ANSWER).contains(&current) {
                    return Err(refused(
                        Step::Ceremony,
                        "kind",
                        format!(
                            "ceremony.close-round closes rounds 2 to 6; the ceremony is in round {current}"
                        ),
                    ));
                }
                if round != current {
                    return Err(refused(
                        Step::Ceremony,
                        "body.round",
                        format!("round {round} is not the current round {current}"),
                    ));
                }
                self.ceremony.close(id);
                Ok(Some(Step::Ceremony))
            }
            Body::Credentials(part) => {
                self.authority_only(kind, signer)?;
                self.in_phase(kind, Phase::Registration)?;
                if self.eligibility.is_some() {
                    return Err(refused(
                        Step::Credentials,
                        "kind",
                        "an anonymous election takes its voters from a registry snapshot, not a credential list (spec/23 §23.5)",
                    ));
                }
                if self.list.is_some() {
                    return Err(refused(
                        Step::Credentials,
                        "body",
                        "the credential list is complete; a second list is refused",
                    ));
                }
                self.parts.check(&part).map_err(|e| {
                    refused(
                        Step::Credentials,
                        "body",
                        format!("election.credentials: {e}"),
                    )
                })?;
                if self.parts.push(part) {
                    let parts = std::mem::take(&mut self.parts);
                    let list = CredentialList::new(parts.entries).map_err(|e| {
                        refused(
                            Step::Credentials,
                            "body",
                            format!("the credential list: {e}"),
                        )
                    })?;
                    self.list = Some(list);
                }
                Ok(None)
            }
            Body::Cast(signed) => self.cast(index, signed).map(|()| None),
            Body::Audit(audit) => self.audit(*audit).map(|()| None),
            Body::Snapshot(snapshot) => {
                self.authority_only(kind, signer)?;
                self.in_phase(kind, Phase::Registration)?;
                self.snapshot(*snapshot).map(|()| None)
            }
            Body::SnapshotPart(part) => {
                self.authority_only(kind, signer)?;
                self.in_phase(kind, Phase::Registration)?;
                self.snapshot_part(&part).map(|()| None)
            }
            Body::AnonymousCast(signed) => self.anonymous_cast(index, *signed).map(|()| None),
            Body::AnonymousAudit(signed, opening) => {
                self.anonymous_audit(*signed, &opening).map(|()| None)
            }
            Body::DecryptionShares(shares) => self
                .decryption_shares(signer, shares)
                .map(|()| Some(Step::Decryption)),
            Body::Result(result) => self.result(index, signer, *result).map(|()| None),
        }
    }

    fn open(&mut self, record: &Record) -> Result<(), Refused> {
        if self.authority.is_some() {
            return Err(refused(
                Step::Parameters,
                "context",
                "the election is already open: a second context.open",
            ));
        }
        let open = ContextOpen::parse(record.body())
            .map_err(|e| refused(Step::Parameters, e.field(), e.to_string()))?;
        if open.context_type != ContextType::ELECTION
            || ContextId::derive(record.signer(), record.body()) != self.id
        {
            return Err(refused(
                Step::Parameters,
                "context",
                "not the opening of this election (spec/12 §12.4)",
            ));
        }
        self.authority = Some(*record.signer());
        self.parameters = open.parameters;
        Ok(())
    }

    fn check_dealer(
        &self,
        kind: urne_record::Kind,
        signer: &[u8; 32],
        dealer: u16,
        round: u8,
        posted: bool,
    ) -> Result<(), Refused> {
        self.in_round(kind, round)?;
        self.trustee_only(kind, signer, dealer, "body.trustee")?;
        if posted {
            return Err(refused(
                Step::Ceremony,
                "body.dealer",
                format!("dealer {dealer} has already posted its {}", name(kind)),
            ));
        }
        if !self.ceremony.in_the_running(dealer) {
            return Err(refused(
                Step::Ceremony,
                "body.dealer",
                format!("dealer {dealer} missed an earlier round and is disqualified"),
            ));
        }
        Ok(())
    }

    /// `context.phase` (spec/23 §23.3).
    fn move_phase(&mut self, record: &Record) -> Result<(), Refused> {
        let kind = CONTEXT_PHASE;
        self.authority_only(kind, record.signer())?;
        let code = ContextPhase::parse(record.body())
            .map_err(|e| refused(Step::Parameters, e.field(), e.to_string()))?
            .to;
        let to = Phase::from_code(code).ok_or_else(|| {
            refused(
                Step::Parameters,
                "body",
                format!("an election has no phase {code}"),
            )
        })?;
        if self.phase.next() != Some(to) {
            return Err(refused(
                Step::Parameters,
                "kind",
                format!(
                    "a move to {to} from the {} phase: one step forward at a time",
                    self.phase
                ),
            ));
        }
        let refuse = |why: &str| Err(refused(Step::Parameters, "body", why.to_owned()));
        match to {
            Phase::Ceremony if self.manifest.is_none() => {
                return refuse("the ceremony cannot start before the manifest is on the board");
            }
            Phase::Registration => match &self.ceremony.outcome {
                Some(Ok(_)) => {}
                Some(Err(fault)) => {
                    return refuse(&format!(
                        "the ceremony failed ({fault}); the election has no key"
                    ));
                }
                None => {
                    return refuse("registration cannot start before the key ceremony is complete");
                }
            },
            Phase::Voting => self.seal()?,
            Phase::Published if self.result.is_none() => {
                return refuse(
                    "the election cannot be published before its tally.result is on the board",
                );
            }
            _ => {}
        }
        self.phase = to;
        Ok(())
    }

    /// Seals what voting opens on: the manifest, the joint key, the list, and the
    /// election context hash over them (spec/21 §21.3).
    fn seal(&mut self) -> Result<(), Refused> {
        if self.eligibility.is_some() {
            return self.seal_anonymous();
        }
        let (Some(manifest), Some(list), Some(Ok(outcome))) =
            (&self.manifest, &self.list, &self.ceremony.outcome)
        else {
            return Err(refused(
                Step::Parameters,
                "body",
                "voting cannot open before the credential list is complete on the board",
            ));
        };
        let root = list.root().0;
        let election = Election::new(ContextInputs {
            manifest,
            joint_key: &outcome.joint_key,
            credential_root: &root,
            board_origin: &self.origin,
            context_id: &self.id.0,
        })
        .map_err(|e| {
            refused(
                Step::Parameters,
                "body",
                format!("the election context: {e}"),
            )
        })?;
        let listed = list
            .entries()
            .iter()
            .map(|e| (e.credential.to_bytes(), e.credential))
            .collect();
        self.sealed = Some(Sealed {
            election,
            outcome: outcome.clone(),
            voters: Voters::List {
                list: list.clone(),
                listed,
            },
        });
        Ok(())
    }

    /// An anonymous election's seal (§23.3): the complete snapshot, and the context hash
    /// with the snapshot id in the list root's place (spec/21 §21.3).
    fn seal_anonymous(&mut self) -> Result<(), Refused> {
        let refuse = |why: &str| refused(Step::Parameters, "body", why.to_owned());
        if !self
            .assembler
            .as_ref()
            .is_some_and(SnapshotAssembler::is_complete)
        {
            return Err(refuse(
                "voting cannot open before every part of the election's snapshot is on the board",
            ));
        }
        let (Some(manifest), Some(Ok(outcome))) = (&self.manifest, &self.ceremony.outcome) else {
            return Err(refuse("voting cannot open before the manifest and the key"));
        };
        let assembler = self.assembler.take().ok_or_else(|| refuse("no snapshot"))?;
        let snapshot = assembler
            .finish()
            .map_err(|(_, e)| refused(Step::Parameters, "body", format!("the snapshot: {e}")))?;
        let id = snapshot.id();
        let election = Election::new(ContextInputs {
            manifest,
            joint_key: &outcome.joint_key,
            credential_root: &id,
            board_origin: &self.origin,
            context_id: &self.id.0,
        })
        .map_err(|e| {
            refused(
                Step::Parameters,
                "body",
                format!("the election context: {e}"),
            )
        })?;
        let parameters = triptych::Parameters::for_ring_size(snapshot.header().bucket_size())
            .map_err(|e| {
                refused(
                    Step::Parameters,
                    "body",
                    format!("the snapshot's rings: {e}"),
                )
            })?;
        self.sealed = Some(Sealed {
            election,
            outcome: outcome.clone(),
            voters: Voters::Snapshot(Box::new(SealedSnapshot {
                linking_base: triptych::linking_base(&id, &self.id.0),
                snapshot,
                id,
                parameters,
            })),
        });
        Ok(())
    }

    /// `election.snapshot` (§23.12 step 1).
    fn snapshot(&mut self, signed: SignedSnapshot) -> Result<(), Refused> {
        let at = |field: &str, why: String| refused(Step::Credentials, field, why);
        let Some(eligibility) = &self.eligibility else {
            return Err(at(
                "kind",
                "a pseudonymous election takes no snapshot (spec/23 §23.12)".into(),
            ));
        };
        if self.assembler.is_some() {
            return Err(at("kind", "the election already has its snapshot".into()));
        }
        let header = &signed.header;
        if header.registry != eligibility.registry {
            return Err(at(
                "body.registry",
                "the snapshot is of another registry than the manifest's eligibility names".into(),
            ));
        }
        verify_cosignatures(&signed, &eligibility.registrars)
            .map_err(|e| at("body.cosignatures", e))?;
        if header.version != 2 {
            return Err(at(
                "body.version",
                format!(
                    "a version-{} snapshot deals its buckets by its own id, which the registrar can grind; an election takes only version 2",
                    header.version
                ),
            ));
        }
        crate::petition::check_floors(
            header,
            eligibility.min_bucket_bits,
            eligibility.min_real_keys,
            eligibility.min_snapshot,
        )
        .map_err(|(field, why)| at(field, why))?;
        // A cast body over these buckets must fit a record (65,535 − 135 envelope):
        // version, ballot length, bucket and signature length are 13 bytes.
        let signature = triptych::Parameters::for_ring_size(header.bucket_size())
            .map(|p| p.signature_len())
            .map_err(|e| at("body.bucket_bits", e.to_string()))?;
        let ballot = self.manifest.as_ref().map_or(0, Manifest::ballot_len);
        if ballot + 13 + signature > 65_535 - 135 {
            return Err(at(
                "body.bucket_bits",
                format!(
                    "a cast body would be {} bytes (a ballot of {ballot}, a ring signature of {signature}); a record holds at most {}",
                    ballot + 13 + signature,
                    65_535 - 135
                ),
            ));
        }
        self.snapshot_total = header.total;
        self.assembler = Some(SnapshotAssembler::new(signed));
        Ok(())
    }

    /// `election.snapshot-part` (§23.12 step 2, spec/31 §31.5).
    fn snapshot_part(&mut self, part: &SnapshotPart) -> Result<(), Refused> {
        if self.eligibility.is_none() {
            return Err(refused(
                Step::Credentials,
                "kind",
                "a pseudonymous election takes no snapshot (spec/23 §23.12)",
            ));
        }
        let assembler = self.assembler.as_mut().ok_or_else(|| {
            refused(
                Step::Credentials,
                "kind",
                "a snapshot part before its election.snapshot",
            )
        })?;
        assembler
            .push(part)
            .map_err(|(field, reason)| refused(Step::Credentials, field, reason))
    }

    /// The sealed snapshot of an anonymous election, or the refusal of a version-2
    /// body in a pseudonymous one (§23.13: `body.version`).
    fn sealed_snapshot(&self, kind: urne_record::Kind) -> Result<&SealedSnapshot, Refused> {
        match &self.sealed(kind)?.voters {
            Voters::Snapshot(s) => Ok(s),
            Voters::List { .. } => Err(refused(
                step_of(kind),
                "body.version",
                "a version-2 (anonymous) body in a pseudonymous election",
            )),
        }
    }

    /// The stateless checks of a version-2 cast or audit (§23.13), in order, but for
    /// the ring signature's equations: the ballot's election, the bucket, the signature's
    /// strict decoding and its tag. Returns the signature and its context bytes.
    fn ring_checks(
        &self,
        kind: urne_record::Kind,
        signed: &RingSignedBallot,
    ) -> Result<(triptych::Signature, Vec<u8>), Refused> {
        let snapshot = self.sealed_snapshot(kind)?;
        let sealed = self.sealed(kind)?;
        let step = step_of(kind);
        if signed.ballot.context != *sealed.election.context() {
            return Err(refused(
                step,
                "body.ballot.context",
                "the ballot was made for another election (its context hash differs)",
            ));
        }
        let buckets = snapshot.snapshot.header().bucket_count();
        if signed.bucket >= buckets {
            return Err(refused(
                step,
                "body.bucket",
                format!(
                    "bucket {} does not exist: the snapshot has {buckets}",
                    signed.bucket
                ),
            ));
        }
        let expected = snapshot.parameters.signature_len();
        if signed.signature.len() != expected {
            return Err(refused(
                step,
                "body.signature",
                format!(
                    "{} bytes, where a signature over buckets of {} keys has {expected}",
                    signed.signature.len(),
                    snapshot.parameters.ring_size()
                ),
            ));
        }
        let signature = triptych::Signature::from_bytes(&signed.signature, snapshot.parameters)
            .map_err(|e| refused(step, "body.signature", e.to_string()))?;
        if signature.tag().to_bytes() != signed.ballot.credential.0 {
            return Err(refused(
                step,
                "body.signature.tag",
                "the ring signature's tag is not the ballot's credential",
            ));
        }
        let mut context = Vec::with_capacity(ANONYMOUS_BALLOT.len() + 100);
        context.extend_from_slice(ANONYMOUS_BALLOT);
        context.extend_from_slice(&self.id.0);
        context.extend_from_slice(&snapshot.id);
        context.extend_from_slice(&signed.bucket.to_be_bytes());
        context.extend_from_slice(&signed.tracking.0);
        Ok((signature, context))
    }

    /// A version-2 `ballot.cast` (§23.13), but for its ring signature's and proofs'
    /// equations ([`Self::finish`] verifies them, by bucket and in batches).
    fn anonymous_cast(&mut self, index: u64, signed: RingSignedBallot) -> Result<(), Refused> {
        let kind = kinds::BALLOT_CAST;
        let (signature, context) = self.ring_checks(kind, &signed)?;
        self.in_phase(kind, Phase::Voting)?;
        self.unused(&signed.tracking.0, kind)?;
        self.hold(signed.tracking.0);
        self.pending.push(PendingCast {
            index,
            authorisation: Authorisation::Ring {
                bucket: signed.bucket,
                signature: Box::new(signature),
                context,
            },
            ballot: signed.ballot,
            tracking: signed.tracking,
        });
        Ok(())
    }

    /// A version-2 `ballot.audit` (§23.13), checked whole on arrival.
    fn anonymous_audit(
        &mut self,
        signed: RingSignedBallot,
        opening: &urne_ballot::AuditedBallot,
    ) -> Result<(), Refused> {
        let kind = kinds::BALLOT_AUDIT;
        let (signature, context) = self.ring_checks(kind, &signed)?;
        let snapshot = self.sealed_snapshot(kind)?;
        let ring = bucket_ring(&snapshot.snapshot, signed.bucket)
            .map_err(|e| refused(Step::Audits, "body.bucket", e))?;
        triptych::verify(&ring, &snapshot.linking_base, &context, &signature).map_err(|e| {
            refused(
                Step::Audits,
                "body.signature",
                format!("the ring signature does not verify: {e}"),
            )
        })?;
        let sealed = self.sealed(kind)?;
        check_audit(&sealed.election, &signed.ballot, opening)
            .map_err(|e| refused(Step::Audits, "body.opening", format!("audited ballot: {e}")))?;
        self.in_phase(kind, Phase::Voting)?;
        self.unused(&signed.tracking.0, kind)?;
        self.count_audit(&signed.ballot.credential.0, &signed.tracking.0)
    }

    /// The audit quota of a credential or tag (K = 8, §23.7), then the audit recorded.
    fn count_audit(&mut self, credential: &[u8; 32], tracking: &[u8; 32]) -> Result<(), Refused> {
        let rank = self.audits_of.get(credential).copied().unwrap_or(0);
        if rank >= MAX_AUDITS_PER_CREDENTIAL {
            return Err(refused(
                Step::Audits,
                "body.ballot.credential",
                format!("this credential already posted its {MAX_AUDITS_PER_CREDENTIAL} audits"),
            ));
        }
        self.audits_of.insert(*credential, rank + 1);
        self.tracking.insert(*tracking, Holder::Audit);
        self.audits += 1;
        Ok(())
    }

    fn sealed(&self, kind: urne_record::Kind) -> Result<&Sealed, Refused> {
        self.sealed.as_ref().ok_or_else(|| {
            refused(
                step_of(kind),
                "kind",
                format!(
                    "{} before voting opened (the election is in its {} phase)",
                    name(kind),
                    self.phase
                ),
            )
        })
    }

    /// This election's ballot, from a listed credential (decoded once, on the list).
    fn listed(
        &self,
        kind: urne_record::Kind,
        ballot: &Ballot,
    ) -> Result<PublicCredential, Refused> {
        let sealed = self.sealed(kind)?;
        // The body's version first: a credential-signed body has no place in an
        // anonymous election, whatever it carries (§23.13).
        let listed = match &sealed.voters {
            Voters::List { listed, .. } => listed,
            Voters::Snapshot(_) => {
                return Err(refused(
                    step_of(kind),
                    "body.version",
                    "a version-1 (credential-signed) body in an anonymous election",
                ));
            }
        };
        if ballot.context != *sealed.election.context() {
            return Err(refused(
                step_of(kind),
                "body.ballot.context",
                "the ballot was made for another election (its context hash differs)",
            ));
        }
        listed.get(&ballot.credential.0).copied().ok_or_else(|| {
            refused(
                step_of(kind),
                "body.ballot.credential",
                "the credential is not on the election's credential list",
            )
        })
    }

    /// The next pending cast's tracking code, held.
    fn hold(&mut self, tracking: [u8; 32]) {
        let holder = Holder::Cast {
            position: self.pending.len(),
            verified: false,
        };
        self.tracking.insert(tracking, holder);
    }

    /// Refuses a record whose tracking code is on the board. A code held by a cast whose
    /// signature and proofs are not verified yet is only held if they verify: the board
    /// checks them before recording the code, so a refused cast must not shut out a
    /// later valid record of the same ballot (spec/50 V6). That cast is verified here,
    /// alone; collisions are rare and each cast is verified this way at most once.
    fn unused(&mut self, tracking: &[u8; 32], kind: urne_record::Kind) -> Result<(), Refused> {
        if let Some(Holder::Cast {
            position,
            verified: false,
        }) = self.tracking.get(tracking).copied()
        {
            let verdict = match (&self.sealed, self.pending.get(position)) {
                (Some(sealed), Some(cast)) => verify_one(sealed, cast),
                _ => Ok(()),
            };
            match verdict {
                Ok(()) => {
                    self.tracking.insert(
                        *tracking,
                        Holder::Cast {
                            position,
                            verified: true,
                        },
                    );
                }
                Err(r) => {
                    self.tracking.remove(tracking);
                    self.refused_early.push((position, r));
                }
            }
        }
        match self.tracking.get(tracking) {
            None => Ok(()),
            Some(Holder::Audit) if kind == kinds::BALLOT_CAST => Err(refused(
                Step::Audits,
                "body.ballot",
                "a spoiled (audited) ballot cast to be counted: an audited ballot never counts",
            )),
            Some(_) => Err(refused(
                step_of(kind),
                "body.ballot",
                "this ballot (its tracking code) is already on the board, cast or audited",
            )),
        }
    }

    /// `ballot.cast` (spec/23 §23.6), but for its proofs ([`Self::finish`] verifies them).
    fn cast(&mut self, index: u64, signed: Box<SignedBallot>) -> Result<(), Refused> {
        let kind = kinds::BALLOT_CAST;
        self.sealed(kind)?;
        self.in_phase(kind, Phase::Voting)?;
        let public = self.listed(kind, &signed.ballot)?;
        self.unused(&signed.tracking.0, kind)?;
        self.hold(signed.tracking.0);
        let SignedBallot {
            ballot,
            tracking,
            signature,
        } = *signed;
        self.pending.push(PendingCast {
            index,
            ballot,
            tracking,
            authorisation: Authorisation::Credential(public, signature),
        });
        Ok(())
    }

    /// `ballot.audit` (spec/23 §23.7), checked whole on arrival: audits are few.
    fn audit(&mut self, audit: AuditBody) -> Result<(), Refused> {
        let kind = kinds::BALLOT_AUDIT;
        let AuditBody { signed, opening } = audit;
        let public = self.listed(kind, &signed.ballot)?;
        let sealed = self.sealed(kind)?;
        signed
            .signature
            .verify(&public, sealed.election.context(), &signed.tracking.0)
            .map_err(|e| refused(Step::Audits, "body.signature", e.to_string()))?;
        check_audit(&sealed.election, &signed.ballot, &opening)
            .map_err(|e| refused(Step::Audits, "body.opening", format!("audited ballot: {e}")))?;
        self.in_phase(kind, Phase::Voting)?;
        self.unused(&signed.tracking.0, kind)?;
        self.count_audit(&signed.ballot.credential.0, &signed.tracking.0)
    }

    /// The encrypted tally of the counted ballots (spec/24 §24.3), computed once.
    fn aggregation(&mut self, kind: urne_record::Kind) -> Result<&Aggregation, Refused> {
        if self.aggregation.is_none() {
            let sealed = self.sealed(kind)?;
            let tags;
            let list = match &sealed.voters {
                Voters::List { list, .. } => list,
                // Every tag weighs 1 (§23.11): the counted ballots' tags are the list.
                Voters::Snapshot(_) => {
                    tags = tag_list(&self.ballots).map_err(|e| {
                        refused(Step::Aggregation, "body", format!("the tags: {e}"))
                    })?;
                    &tags
                }
            };
            let aggregation = aggregate(&sealed.election, list, &self.ballots).map_err(|e| {
                refused(
                    Step::Aggregation,
                    "body",
                    format!("the encrypted tally: {e}"),
                )
            })?;
            self.aggregation = Some(aggregation);
        }
        self.aggregation
            .as_ref()
            .ok_or_else(|| refused(Step::Aggregation, "body", "the encrypted tally"))
    }

    /// `tally.decryption-shares` (spec/23 §23.8, spec/20 §20.7).
    fn decryption_shares(
        &mut self,
        signer: &[u8; 32],
        shares: DecryptionShares,
    ) -> Result<(), Refused> {
        let kind = kinds::TALLY_DECRYPTION_SHARES;
        self.in_phase(kind, Phase::Tallying)?;
        self.trustee_only(kind, signer, shares.trustee, "body.trustee")?;
        if self.decryptions.contains_key(&shares.trustee) {
            return Err(refused(
                Step::Decryption,
                "body.trustee",
                format!(
                    "trustee {} has already posted its decryption shares",
                    shares.trustee
                ),
            ));
        }
        let ciphertexts = self.aggregation(kind)?.tally.ciphertexts();
        let sealed = self.sealed(kind)?;
        verify_decryption_shares(&sealed.outcome, sealed.election.context(), &ciphertexts, &shares)
            .map_err(|e| match e {
                DecryptionError::InvalidShare {
                    trustee,
                    ciphertext,
                } => refused(
                    Step::Decryption,
                    format!("body.shares[{ciphertext}]"),
                    format!("trustee {trustee}'s decryption share of ciphertext {ciphertext} does not verify"),
                ),
                other => refused(Step::Decryption, "body", other.to_string()),
            })?;
        self.decryptions.insert(shares.trustee, shares);
        Ok(())
    }

    /// `tally.result` (spec/23 §23.9, spec/24 §24.6): against the sums of the counted
    /// ballots and the decryption shares the board accepted.
    fn result(
        &mut self,
        index: u64,
        signer: &[u8; 32],
        result: TallyResult,
    ) -> Result<(), Refused> {
        let kind = kinds::TALLY_RESULT;
        self.authority_only(kind, signer)?;
        self.in_phase(kind, Phase::Tallying)?;
        if self.result.is_some() {
            return Err(refused(
                Step::Result,
                "body",
                "the result is already on the board",
            ));
        }
        let aggregation = self.aggregation(kind)?;
        let mine = &aggregation.tally;
        let superseded = aggregation.resolution.superseded.len() as u64;
        if result.tally.context != mine.context {
            return Err(refused(
                Step::Aggregation,
                "body.context",
                "a tally of another election",
            ));
        }
        let compare = |step: Step, field: &str, expected: u64, found: u64| {
            if expected == found {
                Ok(())
            } else {
                Err(refused(
                    step,
                    format!("body.{field}"),
                    format!("the board's ballots give {expected}, the result says {found}"),
                ))
            }
        };
        compare(Step::Revotes, "ballots", mine.ballots, result.tally.ballots)?;
        compare(Step::Revotes, "superseded", superseded, result.superseded)?;
        compare(
            Step::Aggregation,
            "weight",
            mine.weight,
            result.tally.weight,
        )?;
        if result.tally.contests.len() != mine.contests.len() {
            return Err(refused(
                Step::Aggregation,
                "body.contests",
                format!("the manifest has {} contests", mine.contests.len()),
            ));
        }
        for (i, (ours, theirs)) in mine.contests.iter().zip(&result.tally.contests).enumerate() {
            if ours.len() != theirs.len() {
                return Err(refused(
                    Step::Aggregation,
                    format!("body.contests[{i}]"),
                    format!("contest {i} has {} entries", ours.len()),
                ));
            }
            if let Some(k) = ours.iter().zip(theirs).position(|(a, b)| a != b) {
                return Err(refused(
                    Step::Aggregation,
                    format!("body.contests[{i}].entries[{k}].sum"),
                    "not the sum of the counted ballots on the board",
                ));
            }
        }
        let sealed = self.sealed(kind)?;
        let shares: Vec<DecryptionShares> = self.decryptions.values().cloned().collect();
        check_opening(
            &sealed.election,
            &sealed.outcome,
            &result.tally,
            &shares,
            &result.trustees,
            &result.counts,
        )
        .map_err(|e| opening_refusal(sealed.election.manifest(), e))?;
        // spec/24 §24.6 step 6: each budget contest's funded projects, as its rule
        // (spec/26) selects them from the counts.
        urne_tally::check_fundings(sealed.election.manifest(), &result.counts, &result.fundings)
            .map_err(|e| opening_refusal(sealed.election.manifest(), e))?;
        self.result = Some((index, result));
        Ok(())
    }

    /// V6 on the ballots accepted by the ordered checks, then the records that waited
    /// for them; then the summary. Ballots before entry `trusted` were verified by an
    /// earlier run (spec/50 §50.6).
    pub(crate) fn finish(
        mut self,
        trusted: u64,
        progress: &dyn Progress,
        report: &mut Report,
    ) -> ElectionSummary {
        let mut pending = std::mem::take(&mut self.pending);
        report.count(
            Step::Ballots,
            pending.iter().filter(|c| c.index >= trusted).count() as u64,
        );
        let mut early = Vec::with_capacity(self.refused_early.len());
        if !self.refused_early.is_empty() {
            let positions: HashSet<usize> = self.refused_early.iter().map(|(p, _)| *p).collect();
            for (position, r) in std::mem::take(&mut self.refused_early) {
                if let Some(cast) = pending.get(position) {
                    early.push((cast.index, r));
                }
            }
            let mut position = 0;
            pending.retain(|_| {
                position += 1;
                !positions.contains(&(position - 1))
            });
        }
        let mut failed = match &self.sealed {
            Some(sealed) => verify_casts(sealed, &pending, trusted, progress),
            None => Vec::new(),
        };
        failed.extend(early);
        failed.sort_by_key(|(index, _)| *index);
        let refused_at: HashSet<u64> = failed.iter().map(|(i, _)| *i).collect();
        for (index, r) in failed {
            self.fail(report, Some(index), r);
        }
        // A ballot whose proofs fail was refused by the board: it neither counts nor
        // supersedes an earlier ballot of its credential.
        self.ballots = pending
            .into_iter()
            .filter(|c| !refused_at.contains(&c.index))
            .map(|c| c.ballot)
            .collect();
        report.count(Step::Revotes, self.ballots.len() as u64);
        report.count(Step::Audits, self.audits);

        self.finishing = true;
        for (index, record, decoded) in std::mem::take(&mut self.tail) {
            match self.check_and_apply(index, &record, decoded) {
                Ok(step) => {
                    if let Some(step) = step {
                        report.count(step, 1);
                    }
                }
                Err(r) => self.fail(report, Some(index), r),
            }
        }
        if let Some(a) = &self.aggregation {
            report.count(Step::Aggregation, a.tally.ciphertexts().len() as u64);
        }
        if self.result.is_some() {
            report.count(Step::Result, 1);
        }
        self.summary(report)
    }

    fn summary(self, report: &mut Report) -> ElectionSummary {
        let credentials = match &self.eligibility {
            Some(_) => self.snapshot_total as usize,
            None => self.list.as_ref().map_or(0, |l| l.entries().len()),
        };
        report.count(Step::Credentials, credentials as u64);
        let result = self.result.map(|(_, r)| r);
        ElectionSummary {
            context: self.id.to_hex(),
            phase: self.phase.to_string(),
            credentials,
            ballots: self.ballots.len(),
            audits: self.audits as usize,
            counts: result.as_ref().map(|r| r.counts.clone()),
            phase_reached: self.authority.map(|_| self.phase),
            manifest: self.manifest,
            ceremony: self.ceremony.outcome,
            voting_opened: self.sealed.is_some(),
            result,
        }
    }
}

fn name(kind: urne_record::Kind) -> &'static str {
    match kind {
        CONTEXT_OPEN => "context.open",
        CONTEXT_PHASE => "context.phase",
        k => kinds::name(k).unwrap_or("record"),
    }
}

/// A refusal of spec/24 §24.6 steps 4–5 (urne-tally's opening check) as the step and
/// the result's field it concerns.
fn opening_refusal(manifest: &Manifest, e: TallyError) -> Refused {
    let (step, field) = match &e {
        TallyError::WrongTrusteeCount { .. }
        | TallyError::MissingShares { .. }
        | TallyError::InvalidShare { .. }
        | TallyError::Shares(_)
        | TallyError::CeremonyOfAnotherKey => (Step::Decryption, "body.trustees".to_owned()),
        TallyError::Count { at, .. }
        | TallyError::CountAboveBound { at, .. }
        | TallyError::NoCountWithinBound { at, .. } => {
            let entry = match at.entry {
                urne_tally::Entry::Option(k) => k,
                urne_tally::Entry::Blank => manifest
                    .contests()
                    .get(at.contest)
                    .map_or(0, |c| c.options.len()),
            };
            (
                Step::Result,
                format!("body.contests[{}].entries[{entry}].count", at.contest),
            )
        }
        TallyError::BoundTooLarge { .. } => (Step::Aggregation, "body.weight".to_owned()),
        TallyError::TallyShape { .. } => (Step::Result, "body.counts".to_owned()),
        TallyError::FundingShape { .. } => (Step::Result, "body.fundings".to_owned()),
        TallyError::Funding { funding, field, .. } => {
            (Step::Result, format!("body.fundings[{funding}].{field}"))
        }
        _ => (Step::Result, "body".to_owned()),
    };
    refused(step, field, e.to_string())
}

/// Every pending ballot from entry `trusted` on, its proofs and its credential's
/// signature as one batch item, in batches across cores; a batch that fails is
/// bisected and each guilty ballot re-checked proof by proof to name the field.
fn verify_casts(
    sealed: &Sealed,
    casts: &[PendingCast],
    trusted: u64,
    progress: &dyn Progress,
) -> Vec<(u64, Refused)> {
    let new = casts.partition_point(|c| c.index < trusted);
    let mut failed: Vec<(u64, Refused)> = casts[new..]
        .par_chunks(BALLOTS_PER_BATCH)
        .flat_map_iter(|chunk| {
            let mut batch = BatchVerifier::with_capacity(chunk.len());
            let mut early = Vec::new();
            for (position, cast) in chunk.iter().enumerate() {
                match relations(sealed, cast) {
                    Ok(r) => batch.push(position, Ok(r)),
                    Err(r) => early.push((cast.index, r)),
                }
            }
            let verdict = batch.verify(&mut rand::rng());
            progress.verified(chunk.len() as u64);
            if let Err(failure) = verdict {
                early.extend(failure.failures.into_iter().filter_map(|(position, _)| {
                    chunk.get(position).map(|c| (c.index, diagnose(sealed, c)))
                }));
            }
            early
        })
        .collect();
    if let Voters::Snapshot(snapshot) = &sealed.voters {
        // The ring signature comes before the ballot's proofs (§23.13): its refusal is
        // the one named.
        let rings = verify_rings(snapshot, &casts[new..]);
        let named: HashSet<u64> = rings.iter().map(|(i, _)| *i).collect();
        failed.retain(|(index, _)| !named.contains(index));
        failed.extend(rings);
    }
    failed.sort_by_key(|(index, _)| *index);
    failed
}

/// A cast's ring signature to verify: its record, the signature, its context bytes.
type RingItem<'a> = (u64, &'a triptych::Signature, &'a [u8]);

/// The ring signatures of anonymous casts, one batch per bucket (spec/08 §8.9), the
/// buckets across cores; a failing batch names each bad signature (urne-crypto checks
/// each of its items alone).
fn verify_rings(snapshot: &SealedSnapshot, casts: &[PendingCast]) -> Vec<(u64, Refused)> {
    let mut buckets: BTreeMap<u32, Vec<RingItem<'_>>> = BTreeMap::new();
    for cast in casts {
        if let Authorisation::Ring {
            bucket,
            signature,
            context,
        } = &cast.authorisation
        {
            buckets
                .entry(*bucket)
                .or_default()
                .push((cast.index, signature, context));
        }
    }
    let buckets: Vec<(u32, Vec<RingItem<'_>>)> = buckets.into_iter().collect();
    buckets
        .par_iter()
        .flat_map_iter(|(bucket, items)| {
            let bad = |why: String| -> Vec<(u64, Refused)> {
                items
                    .iter()
                    .map(|(index, ..)| {
                        (
                            *index,
                            refused(Step::Ballots, "body.signature", why.clone()),
                        )
                    })
                    .collect()
            };
            let ring = match bucket_ring(&snapshot.snapshot, *bucket) {
                Ok(ring) => ring,
                Err(e) => return bad(e),
            };
            let mut batch = triptych::BatchVerifier::new(&ring, snapshot.linking_base);
            for (_, signature, context) in items {
                batch.push(context, signature);
            }
            match batch.verify(&mut rand::rng()) {
                Ok(()) => Vec::new(),
                Err(triptych::Error::Batch { invalid }) => invalid
                    .into_iter()
                    .filter_map(|(at, e)| {
                        items.get(at).map(|(index, ..)| {
                            (
                                *index,
                                refused(
                                    Step::Ballots,
                                    "body.signature",
                                    format!("the ring signature does not verify: {e}"),
                                ),
                            )
                        })
                    })
                    .collect(),
                Err(e) => bad(format!("the ring signatures of bucket {bucket}: {e}")),
            }
        })
        .collect()
}

/// Bucket `bucket`'s ring of the snapshot (spec/31 §31.6).
fn bucket_ring(snapshot: &Snapshot, bucket: u32) -> Result<triptych::Ring, String> {
    let points = snapshot
        .bucket(bucket)
        .ok_or_else(|| format!("bucket {bucket} does not exist"))?;
    triptych::Ring::new(points.iter().map(|p| *p.as_ristretto()).collect())
        .map_err(|e| format!("bucket {bucket}'s ring: {e}"))
}

/// The counted ballots' tags as a list of weight-1 credentials: what urne-tally weighs
/// an anonymous election's ballots by (§23.11).
fn tag_list(ballots: &[Ballot]) -> Result<CredentialList, String> {
    let mut tags: Vec<[u8; 32]> = ballots.iter().map(|b| b.credential.0).collect();
    tags.sort_unstable();
    tags.dedup();
    let entries = tags
        .iter()
        .map(|t| {
            PublicCredential::decode(t)
                .map(|credential| ListedCredential {
                    credential,
                    weight: 1,
                })
                .map_err(|e| e.to_string())
        })
        .collect::<Result<Vec<_>, _>>()?;
    CredentialList::new(entries).map_err(|e| e.to_string())
}

/// The label of an anonymous ballot's ring signature (spec/23 §23.11, frozen).
const ANONYMOUS_BALLOT: &[u8] = b"urne/v1/election/anonymous-ballot\n";

fn relations(sealed: &Sealed, cast: &PendingCast) -> Result<urne_crypto::Relations, Refused> {
    let ballot = &cast.ballot;
    let mut relations = ballot
        .relations(&sealed.election, &ballot.credential)
        .map_err(|e| refused(Step::Ballots, ballot_field(&e), e.to_string()))?;
    if let Authorisation::Credential(public, signature) = &cast.authorisation {
        relations.extend(
            signature
                .relations(public, sealed.election.context(), &cast.tracking.0)
                .map_err(|e| refused(Step::Ballots, "body.signature", e.to_string()))?,
        );
    }
    Ok(relations)
}

/// One pending cast verified alone, as [`verify_casts`] would judge it: the ring
/// signature first (§23.13), then the ballot's proofs, then its credential's signature.
fn verify_one(sealed: &Sealed, cast: &PendingCast) -> Result<(), Refused> {
    if let (
        Voters::Snapshot(snapshot),
        Authorisation::Ring {
            bucket,
            signature,
            context,
        },
    ) = (&sealed.voters, &cast.authorisation)
    {
        let ring = bucket_ring(&snapshot.snapshot, *bucket)
            .map_err(|e| refused(Step::Ballots, "body.signature", e))?;
        triptych::verify(&ring, &snapshot.linking_base, context, signature).map_err(|e| {
            refused(
                Step::Ballots,
                "body.signature",
                format!("the ring signature does not verify: {e}"),
            )
        })?;
    }
    let ballot = &cast.ballot;
    ballot
        .verify(&sealed.election, &ballot.credential)
        .map_err(|e| refused(Step::Ballots, ballot_field(&e), e.to_string()))?;
    if let Authorisation::Credential(public, signature) = &cast.authorisation {
        signature
            .verify(public, sealed.election.context(), &cast.tracking.0)
            .map_err(|e| refused(Step::Ballots, "body.signature", e.to_string()))?;
    }
    Ok(())
}

fn diagnose(sealed: &Sealed, cast: &PendingCast) -> Refused {
    let ballot = &cast.ballot;
    if let Err(e) = ballot.verify(&sealed.election, &ballot.credential) {
        return refused(Step::Ballots, ballot_field(&e), e.to_string());
    }
    if let Authorisation::Credential(public, signature) = &cast.authorisation
        && let Err(e) = signature.verify(public, sealed.election.context(), &cast.tracking.0)
    {
        return refused(Step::Ballots, "body.signature", e.to_string());
    }
    refused(
        Step::Ballots,
        "body",
        "a proof of the ballot does not verify",
    )
}
