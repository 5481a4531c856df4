//! The steps of spec/50, run over one board's public log.

use std::collections::{HashMap, HashSet};

use rayon::prelude::*;
use urne_ballot::{Ballot, ContextInputs, Election, TrackingCode, check_audit};
use urne_ceremony::{DecryptionShares, verify_ceremony};
use urne_credential::{CredentialList, CredentialListPart};
use urne_election::{
    AuditRecord, Decoded, DeferredCast, ElectionError, Fault, Replay, verify_deferred_casts,
};
use urne_log::note::{CosignatureVerifier, Note, NoteVerifier, count_cosignatures};
use urne_log::{Checkpoint, Hash, leaf_hash};
use urne_record::kinds::CONTEXT_OPEN;
use urne_record::{ContextId, ContextOpen, ContextType, Record};
use urne_tally::{TallyError, TallyResult, resolve_revotes, verify_result};

use crate::archive::Archive;
use crate::report::{ElectionSummary, Failure, Report, Step};

/// What the verifier trusts besides the log: the witnesses whose cosignatures count, and
/// how many of them the newest checkpoint needs.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The witnesses' cosignature keys (got out of band).
    pub witnesses: Vec<CosignatureVerifier>,
    /// How many of them must have cosigned the newest checkpoint.
    pub quorum: usize,
    /// Entries below this index were verified by an earlier run whose state the caller
    /// kept (spec/50 §50.6): their envelope signatures and ballot proofs are not checked
    /// again. The archive MUST hold a checkpoint of exactly this size, which V1 proves
    /// is the root of those same entries; 0 verifies everything.
    pub verified_prefix: u64,
}

/// Where a long verification is (for a progress bar).
pub trait Progress: Sync {
    /// The number of cast ballots to verify, once known.
    fn ballots(&self, _total: u64) {}
    /// `n` more ballots verified.
    fn verified(&self, _n: u64) {}
}

/// No progress shown.
#[derive(Clone, Copy, Debug, Default)]
pub struct Quiet;

impl Progress for Quiet {}

fn failure(record: Option<u64>, field: impl Into<String>, message: impl Into<String>) -> Failure {
    Failure {
        record,
        field: field.into(),
        context: None,
        message: message.into(),
    }
}

/// V1: every checkpoint signed by the board and the root of the entries it covers (so
/// every two are consistent, and none shows another log); the newest covers every entry
/// and carries the quorum of cosignatures. Returns the newest valid checkpoint.
fn check_log(
    archive: &Archive,
    leaves: &[Hash],
    options: &Options,
    report: &mut Report,
) -> Option<(Checkpoint, u64)> {
    let board = match NoteVerifier::from_vkey(archive.board_vkey.trim()) {
        Ok(b) => b,
        Err(e) => {
            report.fail(
                Step::Log,
                failure(None, "board_vkey", format!("not a verifier key: {e}")),
            );
            return None;
        }
    };
    let mut newest: Option<(usize, Checkpoint, Note)> = None;
    let mut roots: HashMap<u64, Hash> = HashMap::new();
    let mut prefix_signed = options.verified_prefix == 0;
    let last = archive.checkpoints.len().saturating_sub(1);
    for (k, text) in archive.checkpoints.iter().enumerate() {
        report.count(Step::Log, 1);
        let field = format!("checkpoints[{k}]");
        let opened = Note::parse(text.as_bytes())
            .map_err(|e| format!("not a signed note: {e}"))
            .and_then(|note| {
                Checkpoint::open(&note, &board)
                    .map(|c| (c, note))
                    .map_err(|e| format!("not signed by the board: {e}"))
            });
        let (checkpoint, note) = match opened {
            Ok(c) => c,
            Err(e) => {
                report.fail(Step::Log, failure(None, field, e));
                continue;
            }
        };
        if let Some((_, first, _)) = &newest
            && first.origin() != checkpoint.origin()
        {
            report.fail(
                Step::Log,
                failure(
                    None,
                    field,
                    format!(
                        "origin {:?}, the other checkpoints' is {:?}",
                        checkpoint.origin(),
                        first.origin()
                    ),
                ),
            );
            continue;
        }
        let size = checkpoint.size();
        if size > leaves.len() as u64 {
            report.fail(
                Step::Log,
                failure(
                    None,
                    field,
                    format!(
                        "covers {size} entries, the log has {}: entries are missing",
                        leaves.len()
                    ),
                ),
            );
            continue;
        }
        let root = *roots
            .entry(size)
            .or_insert_with(|| urne_log::hash::root_of(&leaves[..size as usize]));
        if root != *checkpoint.root() {
            report.fail(
                Step::Log,
                failure(
                    None,
                    field,
                    format!(
                        "its root {} is not the root {} of the first {size} entries: the board signed another log (a fork, or entries changed since)",
                        checkpoint.root().to_hex(),
                        root.to_hex()
                    ),
                ),
            );
            continue;
        }
        if size == options.verified_prefix {
            prefix_signed = true;
        }
        if newest.as_ref().is_none_or(|(_, c, _)| c.size() <= size) {
            newest = Some((k, checkpoint, note));
        }
    }
    let (k, checkpoint, note) = newest?;
    if k != last || checkpoint.size() != leaves.len() as u64 {
        report.fail(
            Step::Log,
            failure(
                None,
                format!("checkpoints[{last}]"),
                format!(
                    "the newest valid checkpoint covers {} entries, the log has {}",
                    checkpoint.size(),
                    leaves.len()
                ),
            ),
        );
    }
    let trusted = if prefix_signed {
        options.verified_prefix
    } else {
        report.fail(
            Step::Log,
            failure(
                None,
                "checkpoints",
                format!(
                    "no valid checkpoint of the {} entries the earlier run verified: everything is verified again",
                    options.verified_prefix
                ),
            ),
        );
        0
    };
    let cosigned = count_cosignatures(&note, &options.witnesses);
    if cosigned < options.quorum {
        report.fail(
            Step::Log,
            failure(
                None,
                format!("checkpoints[{k}].cosignatures"),
                format!(
                    "{cosigned} of the known witnesses cosigned it, {} required",
                    options.quorum
                ),
            ),
        );
    }
    Some((checkpoint, trusted))
}

/// The step a fold refusal belongs to: by the record's kind, and for a result by the
/// field the check of spec/23 §23.9 names.
fn step_of_fault(error: &ElectionError) -> Step {
    match error.kind() {
        "context.open" | "context.phase" | "election.manifest" => Step::Parameters,
        "election.credentials" => Step::Credentials,
        "ballot.cast" => Step::Ballots,
        "ballot.audit" => Step::Audits,
        "tally.decryption-shares" => Step::Decryption,
        "tally.result" => {
            let field = error.field();
            if field == "body.ballots" || field == "body.superseded" {
                Step::Revotes
            } else if field == "body.trustees" {
                Step::Decryption
            } else if field == "body.weight"
                || field == "body.context"
                || (field.starts_with("body.contests") && !field.ends_with(".count"))
            {
                Step::Aggregation
            } else {
                Step::Result
            }
        }
        kind if kind.starts_with("ceremony.") => Step::Ceremony,
        _ => Step::Records,
    }
}

/// The step a refusal of `verify_result` (spec/24 §24.6) belongs to.
fn step_of_tally_error(error: &TallyError) -> (Step, &'static str) {
    match error {
        TallyError::BallotOfAnotherElection { .. }
        | TallyError::UnlistedCredential { .. }
        | TallyError::BallotShape { .. }
        | TallyError::ReplayedBallot { .. } => (Step::Ballots, "body.ballot"),
        TallyError::CountedBallots { .. } => (Step::Revotes, "body.ballots"),
        TallyError::SupersededBallots { .. } => (Step::Revotes, "body.superseded"),
        TallyError::CountedWeight { .. } => (Step::Aggregation, "body.weight"),
        TallyError::EncryptedSum { .. }
        | TallyError::TallyShape { .. }
        | TallyError::TallyOfAnotherElection => (Step::Aggregation, "body.contests"),
        TallyError::InvalidShare { .. }
        | TallyError::Shares(_)
        | TallyError::WrongTrusteeCount { .. }
        | TallyError::MissingShares { .. }
        | TallyError::CeremonyOfAnotherKey => (Step::Decryption, "body.trustees"),
        _ => (Step::Result, "body.counts"),
    }
}

/// One election's records through urne-election's fold, with its cast ballots' proofs
/// deferred to one parallel batch, and what the later steps re-verify kept aside.
struct ElectionCheck {
    id: ContextId,
    replay: Replay,
    manifest_at: Option<u64>,
    credential_parts: Vec<CredentialListPart>,
    last_credential_part: Option<u64>,
    audits: Vec<(u64, AuditRecord)>,
    decryption_shares: Vec<DecryptionShares>,
    result: Option<(u64, TallyResult)>,
    casts: Vec<DeferredCast>,
}

impl ElectionCheck {
    fn new(id: ContextId, origin: &str) -> Self {
        Self {
            id,
            replay: Replay::new(id, origin).deferring_casts(),
            manifest_at: None,
            credential_parts: Vec::new(),
            last_credential_part: None,
            audits: Vec::new(),
            decryption_shares: Vec::new(),
            result: None,
            casts: Vec::new(),
        }
    }

    fn fail(&self, report: &mut Report, step: Step, mut failure: Failure) {
        failure.context = Some(self.id.to_hex());
        report.fail(step, failure);
    }

    fn fault(&self, report: &mut Report, fault: Fault) {
        let step = step_of_fault(&fault.error);
        self.fail(
            report,
            step,
            failure(
                Some(fault.index),
                fault.error.field(),
                fault.error.to_string(),
            ),
        );
    }

    /// Feeds one record (its signature already verified, its body decoded if it is an
    /// election record); a record the fold refuses is reported and left out, as the board
    /// should have left it out.
    fn feed(&mut self, index: u64, record: &Record, decoded: Decoding, report: &mut Report) {
        match self.replay.feed_decoded(index, record, decoded) {
            Err(fault) => self.fault(report, fault),
            Ok(None) => {
                if record.kind() == CONTEXT_OPEN {
                    report.count(Step::Parameters, 1);
                }
            }
            Ok(Some(decoded)) => match decoded {
                Decoded::Manifest(_) => {
                    self.manifest_at = Some(index);
                    report.count(Step::Parameters, 1);
                }
                Decoded::Credentials(part) => {
                    self.credential_parts.push(part);
                    self.last_credential_part = Some(index);
                }
                Decoded::Audit(audit) => self.audits.push((index, *audit)),
                Decoded::DecryptionShares(shares) => {
                    report.count(Step::Decryption, 1);
                    self.decryption_shares.push(shares);
                }
                Decoded::Result(result) => self.result = Some((index, *result)),
                // A cast ballot the replay did not defer cannot happen (it defers every
                // one); the ceremony's records are kept by the fold itself.
                _ => report.count(Step::Ceremony, 1),
            },
        }
    }

    /// V6: the deferred ballots from entry `trusted` on, batched across cores (those
    /// before it were verified by an earlier run, §50.6).
    fn verify_casts(&mut self, trusted: u64, progress: &dyn Progress, report: &mut Report) {
        self.casts = self.replay.take_deferred();
        let new = self.casts.partition_point(|c| c.index < trusted);
        report.count(Step::Ballots, (self.casts.len() - new) as u64);
        for fault in verify_deferred_casts(&self.casts[new..], &|n| progress.verified(n)) {
            self.fault(report, fault);
        }
    }

    /// V3-V5 and V7-V11 from the domain crates directly, a second opinion on the fold's
    /// own state that must agree with it.
    fn verify_state(&self, origin: &str, report: &mut Report) -> ElectionSummary {
        let context = self.id.to_hex();
        let Some(state) = self.replay.state() else {
            unreachable_open(self, report);
            return summary(&context, "none", 0, 0, 0, None);
        };
        let phase = state.phase().to_string();
        let ballots = self.casts.len();
        let Some(sealed) = state.sealed().cloned() else {
            // Before voting: what went as far as a ceremony outcome must still agree.
            let mut ceremony = None;
            if let (Some(kept), Some(transcript)) = (
                state.ceremony().outcome(),
                state.ceremony().transcript(self.id.0),
            ) {
                report.count(Step::Ceremony, 1);
                let direct = verify_ceremony(&transcript);
                let agree = &direct == kept;
                ceremony = Some(direct);
                if !agree {
                    self.fail(
                        report,
                        Step::Ceremony,
                        failure(
                            None,
                            "ceremony",
                            "the fold's ceremony outcome and the direct verification disagree",
                        ),
                    );
                }
            }
            let mut s = summary(&context, &phase, 0, ballots, self.audits.len(), None);
            s.ceremony = ceremony;
            return s;
        };

        // V4: the ceremony, verified from its transcript alone.
        report.count(Step::Ceremony, 1);
        let outcome = match state
            .ceremony()
            .transcript(self.id.0)
            .map(|t| verify_ceremony(&t))
        {
            Some(Ok(outcome)) => outcome,
            Some(Err(fault)) => {
                self.fail(
                    report,
                    Step::Ceremony,
                    failure(
                        None,
                        "ceremony",
                        format!("voting opened on a ceremony that fails: {fault}"),
                    ),
                );
                let mut s = summary(&context, &phase, 0, ballots, self.audits.len(), None);
                s.ceremony = Some(Err(fault));
                return s;
            }
            None => {
                self.fail(
                    report,
                    Step::Ceremony,
                    failure(None, "ceremony.open", "voting opened without a ceremony"),
                );
                return summary(&context, &phase, 0, ballots, self.audits.len(), None);
            }
        };
        if sealed.outcome() != &outcome {
            self.fail(
                report,
                Step::Ceremony,
                failure(
                    None,
                    "ceremony",
                    "the fold's joint key and the direct verification disagree",
                ),
            );
        }

        // V5: the credential list, reassembled from its parts.
        let list = match CredentialList::from_parts(&self.credential_parts) {
            Ok(list) => list,
            Err(e) => {
                self.fail(
                    report,
                    Step::Credentials,
                    failure(
                        self.last_credential_part,
                        "body",
                        format!("the credential list: {e}"),
                    ),
                );
                return summary(&context, &phase, 0, ballots, self.audits.len(), None);
            }
        };
        report.count(Step::Credentials, list.entries().len() as u64);
        if sealed.credentials() != &list {
            self.fail(
                report,
                Step::Credentials,
                failure(
                    self.last_credential_part,
                    "body",
                    "the fold's credential list and its parts disagree",
                ),
            );
        }

        // V3: the context hash, recomputed from its inputs.
        let Some(manifest) = state.manifest() else {
            self.fail(
                report,
                Step::Parameters,
                failure(
                    None,
                    "election.manifest",
                    "voting opened without a manifest",
                ),
            );
            return summary(&context, &phase, list.entries().len(), ballots, 0, None);
        };
        let root = list.root().0;
        let election = match Election::new(ContextInputs {
            manifest,
            joint_key: &outcome.joint_key,
            credential_root: &root,
            board_origin: origin,
            context_id: &self.id.0,
        }) {
            Ok(e) => e,
            Err(e) => {
                self.fail(
                    report,
                    Step::Parameters,
                    failure(
                        self.manifest_at,
                        "body",
                        format!("the election context: {e}"),
                    ),
                );
                return summary(&context, &phase, list.entries().len(), ballots, 0, None);
            }
        };
        if sealed.election().context() != election.context() {
            self.fail(
                report,
                Step::Parameters,
                failure(
                    None,
                    "context_hash",
                    "the fold's election context hash and the recomputed one disagree",
                ),
            );
        }

        // V8: each audited ballot opened correctly and never counted.
        report.count(Step::Audits, self.audits.len() as u64);
        let mut audit_failures: Vec<Failure> = self
            .audits
            .par_iter()
            .filter_map(|(index, audit)| {
                check_audit(&election, &audit.ballot, &audit.opening)
                    .err()
                    .map(|e| failure(Some(*index), "body.opening", format!("audited ballot: {e}")))
            })
            .collect();
        let audited: HashSet<TrackingCode> = self
            .audits
            .iter()
            .map(|(_, a)| TrackingCode::of(&a.ballot))
            .collect();
        for cast in &self.casts {
            if audited.contains(&cast.cast.tracking_code()) {
                audit_failures.push(failure(
                    Some(cast.index),
                    "body.ballot",
                    "a spoiled (audited) ballot is cast to be counted",
                ));
            }
        }
        for f in audit_failures {
            self.fail(report, Step::Audits, f);
        }

        // V7: the revote resolution.
        let ballot_list: Vec<Ballot> = self.casts.iter().map(|c| c.cast.ballot.clone()).collect();
        let resolution = resolve_revotes(&ballot_list);
        report.count(Step::Revotes, ballot_list.len() as u64);

        // V9-V11: the result, re-verified from the ballots, the list and the shares.
        let Some((at, result)) = &self.result else {
            let mut s = summary(
                &context,
                &phase,
                list.entries().len(),
                ballots,
                self.audits.len(),
                None,
            );
            s.ceremony = Some(Ok(outcome));
            return s;
        };
        report.count(Step::Aggregation, result.tally.ciphertexts().len() as u64);
        report.count(Step::Result, 1);
        if result.tally.ballots != resolution.counted.len() as u64 {
            self.fail(
                report,
                Step::Revotes,
                failure(
                    Some(*at),
                    "body.ballots",
                    format!(
                        "the last ballot of each credential gives {} counted ballots, the result says {}",
                        resolution.counted.len(),
                        result.tally.ballots
                    ),
                ),
            );
        }
        let mut verified = true;
        if let Err(e) = verify_result(
            &election,
            &outcome,
            &list,
            &ballot_list,
            &self.decryption_shares,
            result,
        ) {
            verified = false;
            let (step, field) = step_of_tally_error(&e);
            self.fail(report, step, failure(Some(*at), field, e.to_string()));
        }
        if state.result() != Some(result) {
            verified = false;
            self.fail(
                report,
                Step::Result,
                failure(
                    Some(*at),
                    "body",
                    "the fold's result and the published one disagree",
                ),
            );
        }
        let mut s = summary(
            &context,
            &phase,
            list.entries().len(),
            ballots,
            self.audits.len(),
            verified.then(|| result.counts.clone()),
        );
        s.ceremony = Some(Ok(outcome));
        s.result = verified.then(|| result.clone());
        s
    }
}

fn unreachable_open(check: &ElectionCheck, report: &mut Report) {
    check.fail(
        report,
        Step::Parameters,
        failure(
            None,
            "context.open",
            "the election's context.open was refused",
        ),
    );
}

fn summary(
    context: &str,
    phase: &str,
    credentials: usize,
    ballots: usize,
    audits: usize,
    counts: Option<Vec<Vec<u64>>>,
) -> ElectionSummary {
    ElectionSummary {
        context: context.to_owned(),
        phase: phase.to_owned(),
        credentials,
        ballots,
        audits,
        counts,
        phase_reached: None,
        manifest: None,
        ceremony: None,
        voting_opened: false,
        result: None,
    }
}

impl ElectionCheck {
    /// [`ElectionCheck::verify_state`] with what the fold kept of the election.
    fn finish(self, origin: &str, report: &mut Report) -> ElectionSummary {
        let state = self.replay.state();
        let phase_reached = state.map(|s| s.phase());
        let manifest = state.and_then(|s| s.manifest().cloned());
        let voting_opened = state.is_some_and(|s| s.sealed().is_some());
        let mut summary = self.verify_state(origin, report);
        summary.phase_reached = phase_reached;
        summary.manifest = manifest;
        summary.voting_opened = voting_opened;
        summary
    }
}

/// A record's body decoded ahead of the fold (None: not decoded ahead).
type Decoding = Option<Option<Result<Decoded, ElectionError>>>;

/// Records decoded in parallel ahead of the fold, this many at a time: the fold is
/// sequential, the decoding (every point's decompression) is most of its work.
const DECODE_CHUNK: usize = 4096;

/// The verifier of one context type's records (spec/50 §50.4): elections and assembly
/// sittings; petitions join here with their own recount.
enum ContextCheck {
    Election(Box<ElectionCheck>),
    /// A sitting's records (signatures verified), recounted by urne-assembly at the end.
    Sitting(Vec<(u64, Record)>),
    /// A context type this verifier does not recount yet: its records' envelopes and
    /// signatures are checked (V2), nothing more, and the report says so.
    NotRecounted(ContextType),
}

fn check_for(context_type: ContextType, id: ContextId, origin: &str) -> ContextCheck {
    match context_type {
        ContextType::ELECTION => ContextCheck::Election(Box::new(ElectionCheck::new(id, origin))),
        ContextType::SITTING => ContextCheck::Sitting(Vec::new()),
        other => ContextCheck::NotRecounted(other),
    }
}

/// One record through V2's context rule and its context's fold.
fn fold_record(
    index: u64,
    record: Result<Record, Failure>,
    decoded: Decoding,
    origin: &str,
    contexts: &mut HashMap<ContextId, ContextCheck>,
    order: &mut Vec<ContextId>,
    report: &mut Report,
) {
    let record = match record {
        Ok(r) => r,
        Err(f) => {
            report.fail(Step::Records, f);
            return;
        }
    };
    let id = record.context();
    if record.kind() == CONTEXT_OPEN && !contexts.contains_key(&id) {
        let open = match ContextOpen::parse(record.body()) {
            Ok(open) => open,
            Err(e) => {
                report.fail(
                    Step::Parameters,
                    failure(Some(index), e.field(), e.to_string()),
                );
                return;
            }
        };
        if ContextId::derive(record.signer(), record.body()) != id {
            report.fail(
                Step::Parameters,
                failure(
                    Some(index),
                    "context",
                    "the context id is not derived from the signer and the body (spec/12 §12.4)",
                ),
            );
            return;
        }
        contexts.insert(id, check_for(open.context_type, id, origin));
        order.push(id);
    }
    match contexts.get_mut(&id) {
        Some(ContextCheck::Election(check)) => check.feed(index, &record, decoded, report),
        Some(ContextCheck::Sitting(records)) => records.push((index, record)),
        Some(ContextCheck::NotRecounted(_)) => {}
        None => report.fail(
            Step::Records,
            failure(
                Some(index),
                "context",
                format!(
                    "a record of context {}, which no context.open before it opened (spec/12 §12.4)",
                    id.to_hex()
                ),
            ),
        ),
    }
}

/// Verifies a board's public log: every step of spec/50, in order. Never stops at the
/// first fault: a record the board should have refused is reported and left out, and
/// the steps go on with the rest.
pub fn verify(archive: &Archive, options: &Options, progress: &dyn Progress) -> Report {
    let mut report = Report::new();
    report.entries = archive.entries.len() as u64;
    let leaves: Vec<Hash> = archive.entries.par_iter().map(|e| leaf_hash(e)).collect();
    let Some((checkpoint, trusted)) = check_log(archive, &leaves, options, &mut report) else {
        report.finish();
        return report;
    };
    report.origin = checkpoint.origin().to_owned();
    report.root = checkpoint.root().to_hex();
    let origin = checkpoint.origin();

    // V2: envelopes and signatures, in parallel.
    report.count(
        Step::Records,
        (archive.entries.len() as u64).saturating_sub(trusted),
    );
    report.verified_before = trusted;
    let parsed: Vec<Result<Record, Failure>> = archive
        .entries
        .par_iter()
        .enumerate()
        .map(|(index, bytes)| {
            let index = index as u64;
            let record = Record::parse(bytes.clone())
                .map_err(|e| failure(Some(index), e.field(), e.to_string()))?;
            if index >= trusted {
                record
                    .verify_signature()
                    .map_err(|e| failure(Some(index), "signature", e.to_string()))?;
            }
            Ok(record)
        })
        .collect();

    let mut contexts: HashMap<ContextId, ContextCheck> = HashMap::new();
    let mut order: Vec<ContextId> = Vec::new();
    let mut parsed = parsed.into_iter().enumerate().peekable();
    while parsed.peek().is_some() {
        let chunk: Vec<(usize, Result<Record, Failure>)> =
            parsed.by_ref().take(DECODE_CHUNK).collect();
        let decoded: Vec<Decoding> = chunk
            .par_iter()
            .map(|(_, record)| match record {
                Ok(r) if r.kind() != CONTEXT_OPEN => {
                    urne_election::decode(r.kind(), r.body()).map(Some)
                }
                _ => None,
            })
            .collect();
        for ((index, record), decoded) in chunk.into_iter().zip(decoded) {
            fold_record(
                index as u64,
                record,
                decoded,
                origin,
                &mut contexts,
                &mut order,
                &mut report,
            );
        }
    }

    let total: u64 = contexts
        .values()
        .map(|c| match c {
            ContextCheck::Election(e) => e.replay.state().map_or(0, |s| s.ballot_counts().0),
            ContextCheck::Sitting(_) | ContextCheck::NotRecounted(_) => 0,
        })
        .sum();
    let total = total.min((archive.entries.len() as u64).saturating_sub(trusted));
    progress.ballots(total);
    for id in order {
        match contexts.remove(&id) {
            Some(ContextCheck::Election(mut check)) => {
                check.verify_casts(trusted, progress, &mut report);
                let summary = check.finish(origin, &mut report);
                report.elections.push(summary);
            }
            Some(ContextCheck::Sitting(records)) => {
                // urne-assembly batch-verifies the sitting's signatures again (its own
                // rule, §40.11) and replays its fold; the first violation is reported.
                match urne_assembly::recount(id, &records) {
                    Ok(divisions) => report.count(Step::Divisions, divisions.len() as u64),
                    Err(v) => report.fail(
                        Step::Divisions,
                        Failure {
                            record: Some(v.index),
                            field: v.field.clone(),
                            context: Some(id.to_hex()),
                            message: format!("{}: {}", v.kind, v.reason),
                        },
                    ),
                }
            }
            Some(ContextCheck::NotRecounted(t)) => report.not_recounted.push(format!(
                "{} (context type {}): envelopes and signatures only",
                id.to_hex(),
                t.0
            )),
            None => {}
        }
    }
    report.finish();
    report
}
