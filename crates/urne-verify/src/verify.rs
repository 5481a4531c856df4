//! The steps of spec/50, run over one board's public log.

use std::collections::HashMap;

use rayon::prelude::*;
use urne_log::note::{CosignatureVerifier, Note, NoteVerifier, count_cosignatures};
use urne_log::{Checkpoint, Hash, leaf_hash};
use urne_record::kinds::CONTEXT_OPEN;
use urne_record::{ContextId, ContextOpen, ContextType, Record};

use crate::archive::Archive;
use crate::election::{Decoding, ElectionFold, decode_ahead};
use crate::report::{Failure, Report, Step, Trust};

/// What the verifier trusts besides the log: its trust anchors (spec/50 §50.1), each
/// listed in the report. A verification without a board key fails V1 unless the caller
/// explicitly accepts the key the archive carries.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The board's verifier key (C2SP vkey), obtained out of band: every checkpoint must
    /// be signed by it. Required unless `trust_archive_key`.
    pub board_key: Option<String>,
    /// Without `board_key`, accept the key the archive (or the state file) carries: the
    /// log is then proven self-consistent only, not the board the user means; the
    /// report says so.
    pub trust_archive_key: bool,
    /// The witnesses' cosignature keys (got out of band).
    pub witnesses: Vec<CosignatureVerifier>,
    /// How many of them must have cosigned the newest checkpoint; None: all of them.
    pub quorum: Option<usize>,
    /// Elections the user means (context ids): each must be on the log.
    pub elections: Vec<ContextId>,
    /// Authority keys (Ed25519) the user trusts: when any is given, every election must
    /// be opened by one of them.
    pub authorities: Vec<[u8; 32]>,
    /// Entries below this index were verified by an earlier run whose state the caller
    /// kept (spec/50 §50.6): their envelope signatures and ballot proofs are not checked
    /// again. The archive MUST hold a checkpoint of exactly this size, which V1 proves
    /// is the root of those same entries; 0 verifies everything.
    pub verified_prefix: u64,
}

impl Options {
    /// Options pinning the board's key, and nothing else.
    pub fn pinned(board_key: &str) -> Self {
        Self {
            board_key: Some(board_key.trim().to_owned()),
            ..Self::default()
        }
    }

    /// The quorum in force: the one given, else every witness given.
    pub fn quorum(&self) -> usize {
        self.quorum.unwrap_or(self.witnesses.len())
    }
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
    let vkey = match (&options.board_key, options.trust_archive_key) {
        (Some(pinned), _) => pinned.as_str(),
        (None, true) => archive.board_vkey.as_str(),
        (None, false) => {
            report.fail(
                Step::Log,
                failure(
                    None,
                    "board_key",
                    "no board key given: it is a required trust anchor (--board-key), or accept the key the archive carries with --trust-archive-keys, which proves the log self-consistent only",
                ),
            );
            return None;
        }
    };
    let board = match NoteVerifier::from_vkey(vkey.trim()) {
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
    // Every size a checkpoint claims, its root computed in one pass over the leaves.
    let mut sizes: Vec<u64> = archive
        .checkpoints
        .iter()
        .filter_map(|text| {
            let note = Note::parse(text.as_bytes()).ok()?;
            Checkpoint::parse(note.text()).ok().map(|c| c.size())
        })
        .filter(|&size| size <= leaves.len() as u64)
        .collect();
    sizes.sort_unstable();
    sizes.dedup();
    let roots = roots_at(leaves, &sizes);
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
        let root = roots
            .get(&size)
            .copied()
            .unwrap_or_else(|| urne_log::hash::root_of(&leaves[..size as usize]));
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
    let quorum = options.quorum();
    if quorum > options.witnesses.len() {
        report.fail(
            Step::Log,
            failure(
                None,
                "quorum",
                format!(
                    "a quorum of {quorum} witnesses, but only {} witness keys given: it can never be met",
                    options.witnesses.len()
                ),
            ),
        );
    } else if cosigned < quorum {
        report.fail(
            Step::Log,
            failure(
                None,
                format!("checkpoints[{k}].cosignatures"),
                format!("{cosigned} of the known witnesses cosigned it, {quorum} required"),
            ),
        );
    }
    Some((checkpoint, trusted))
}

/// The RFC 6962 root of the first `size` leaves for each of `sizes` (ascending, none
/// above the leaves), in one pass: a frontier of perfect subtrees, extended leaf by leaf,
/// folded from the right at each size. Checkpoints each recomputed from the first leaf
/// would cost O(checkpoints × entries).
fn roots_at(leaves: &[Hash], sizes: &[u64]) -> HashMap<u64, Hash> {
    let mut frontier: Vec<(u32, Hash)> = Vec::new();
    let mut roots = HashMap::with_capacity(sizes.len());
    let mut next = 0usize;
    for &size in sizes {
        while (next as u64) < size {
            let mut node = (0u32, leaves[next]);
            while let Some(&(height, left)) = frontier.last()
                && height == node.0
            {
                frontier.pop();
                node = (height + 1, urne_log::hash::node_hash(&left, &node.1));
            }
            frontier.push(node);
            next += 1;
        }
        let root = match frontier.split_last() {
            None => urne_log::hash::root_of(&[]),
            Some((&(_, last), rest)) => rest.iter().rev().fold(last, |right, (_, left)| {
                urne_log::hash::node_hash(left, &right)
            }),
        };
        roots.insert(size, root);
    }
    roots
}

/// Records decoded in parallel ahead of the fold, this many at a time: the fold is
/// sequential, the decoding (every point's decompression) is most of its work.
const DECODE_CHUNK: usize = 4096;

/// The verifier of one context type's records (spec/50 §50.4): elections, petitions and
/// assembly sittings.
enum ContextCheck {
    Election(Box<ElectionFold>),
    /// A chamber or sitting: every one is recounted at the end, together, by the
    /// verifier's own fold ([`crate::assembly`]).
    Sitting,
    /// A petition's records after its `context.open`, recounted at the end by the
    /// verifier's own fold (spec/32 §32.7, [`crate::petition`]): its authority and
    /// parameters hash from that `context.open`.
    Petition {
        authority: [u8; 32],
        parameters: [u8; 32],
        records: Vec<crate::petition::PetitionRecord>,
    },
    /// A context type this verifier does not recount yet: its records' envelopes and
    /// signatures are checked (V2), nothing more, and the report says so.
    NotRecounted(ContextType),
}

fn check_for(open: &ContextOpen, authority: [u8; 32], id: ContextId, origin: &str) -> ContextCheck {
    match open.context_type {
        ContextType::ELECTION => ContextCheck::Election(Box::new(ElectionFold::new(id, origin))),
        // A sitting reads its chamber's roster (spec/40 §40.4): both are recounted
        // together, in one fold of the whole log (V12).
        ContextType::SITTING | crate::assembly::CHAMBER_CONTEXT => ContextCheck::Sitting,
        ContextType::PETITION => ContextCheck::Petition {
            authority,
            parameters: open.parameters,
            records: Vec::new(),
        },
        other => ContextCheck::NotRecounted(other),
    }
}

/// The contexts of the log as the main pass meets them, and what V12 reads of them.
#[derive(Default)]
struct Contexts {
    checks: HashMap<ContextId, ContextCheck>,
    /// The context ids in the order their `context.open` came.
    order: Vec<ContextId>,
    /// What V12 recounts (spec/50 V12's input) besides the records below: the records of
    /// chambers and sittings, in log order, moved here by the main pass (nothing else
    /// reads them), so the log is parsed once.
    sittings: Vec<(u64, Record)>,
    /// The indices of the other records V12 reads, in log order: every `context.open`,
    /// every record of an election kind a secret division's links read (spec/40 §40.12),
    /// and every record whose envelope signature failed V2 (V12 names a forged record of a
    /// chamber, a sitting or a linked election itself). Only indices: they are parsed
    /// again from the archive if the log holds a chamber or a sitting, so a board without
    /// one keeps no copy of its credential lists, snapshots or forged records. The rest
    /// (ballots, shares, petitions' signatures, a validly signed record of a context not
    /// open yet) is not kept: V12's fold passes a validly signed record of any other
    /// context, or of one it has not opened (V2's to name), over without reading it.
    elsewhere: Vec<u64>,
}

/// V12's input in log order: the chambers' and sittings' records `moved` by the main
/// pass, merged with the records at the indices `elsewhere`, parsed again from `entries`
/// (each parsed once already by the main pass, so parsing cannot fail here; one that did
/// would be left out, and V2 has named it).
fn assembly_input(
    moved: Vec<(u64, Record)>,
    elsewhere: &[u64],
    entries: &[Vec<u8>],
) -> Vec<(u64, Record)> {
    let parsed = elsewhere.iter().filter_map(|&index| {
        let bytes = entries.get(usize::try_from(index).ok()?)?;
        Some((index, Record::parse(bytes.clone()).ok()?))
    });
    let mut merged = Vec::with_capacity(moved.len() + elsewhere.len());
    let mut moved = moved.into_iter().peekable();
    for (index, record) in parsed {
        while let Some(earlier) = moved.next_if(|(i, _)| *i < index) {
            merged.push(earlier);
        }
        merged.push((index, record));
    }
    merged.extend(moved);
    merged
}

/// The context id of record `index` among the records V12 read (in log order).
fn assembly_context(records: &[(u64, Record)], index: u64) -> Option<ContextId> {
    records
        .binary_search_by_key(&index, |(i, _)| *i)
        .ok()
        .and_then(|k| records.get(k))
        .map(|(_, r)| r.context())
}

/// A record of the main pass: parsed, and its envelope signature verified; a failure
/// keeps the record when it parsed (a signature that does not verify), for V12.
type Parsed = Result<Record, Box<(Failure, Option<Record>)>>;

/// One record through V2's context rule and its context's fold.
fn fold_record(
    index: u64,
    record: Parsed,
    decoded: Decoding,
    origin: &str,
    authorities: &[[u8; 32]],
    folds: &mut Contexts,
    report: &mut Report,
) {
    let record = match record {
        Ok(r) => r,
        Err(refused) => {
            let (f, forged) = *refused;
            report.fail(Step::Records, f);
            if forged.is_some() {
                folds.elsewhere.push(index);
            }
            return;
        }
    };
    let id = record.context();
    let kind = record.kind();
    if kind == CONTEXT_OPEN || crate::assembly::ELECTION_LINK_KINDS.contains(&kind) {
        folds.elsewhere.push(index);
    } else if matches!(folds.checks.get(&id), Some(ContextCheck::Sitting)) {
        // Nothing but V12 reads a chamber's or a sitting's record.
        folds.sittings.push((index, record));
        return;
    }
    let Contexts {
        checks: contexts,
        order,
        ..
    } = folds;
    let opens = record.kind() == CONTEXT_OPEN && !contexts.contains_key(&id);
    if opens {
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
        if open.context_type == ContextType::ELECTION
            && !authorities.is_empty()
            && !authorities.contains(record.signer())
        {
            // A trust anchor, not a rule of the board: the election is still verified,
            // but it is not one the user's pinned authorities opened.
            report.fail(
                Step::Parameters,
                Failure {
                    record: Some(index),
                    field: "signer".into(),
                    context: Some(id.to_hex()),
                    message: "the election's authority is not one of the pinned authority keys (--authority)".into(),
                },
            );
        }
        contexts.insert(id, check_for(&open, *record.signer(), id, origin));
        order.push(id);
    }
    match contexts.get_mut(&id) {
        Some(ContextCheck::Election(check)) => check.feed(index, record, decoded, report),
        Some(ContextCheck::Sitting) => {}
        // The recount takes the records after the petition's context.open.
        Some(ContextCheck::Petition { records, .. }) if record.kind() != CONTEXT_OPEN => {
            records.push(crate::petition::PetitionRecord {
                index,
                kind: record.kind(),
                signer: *record.signer(),
                body: record.body().to_vec(),
            })
        }
        // A second context.open of the same id: the board refuses it (spec/12 §12.5 step
        // 6, `context-exists`); an election's fold refuses it itself.
        Some(ContextCheck::Petition { .. } | ContextCheck::NotRecounted(_))
            if record.kind() == CONTEXT_OPEN && !opens =>
        {
            report.fail(
                Step::Records,
                Failure {
                    record: Some(index),
                    field: "context".into(),
                    context: Some(id.to_hex()),
                    message: "a second context.open of a context already open (spec/12 §12.5: context-exists)".into(),
                },
            )
        }
        Some(ContextCheck::Petition { .. }) => {}
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
    report.trust = Trust::of(archive, options);
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
    let parsed: Vec<Parsed> = archive
        .entries
        .par_iter()
        .enumerate()
        .map(|(index, bytes)| {
            let index = index as u64;
            let record = Record::parse(bytes.clone())
                .map_err(|e| Box::new((failure(Some(index), e.field(), e.to_string()), None)))?;
            if index >= trusted
                && let Err(e) = record.verify_signature()
            {
                return Err(Box::new((
                    failure(Some(index), "signature", e.to_string()),
                    Some(record),
                )));
            }
            Ok(record)
        })
        .collect();

    let mut folds = Contexts::default();
    let mut parsed = parsed.into_iter().enumerate().peekable();
    while parsed.peek().is_some() {
        let chunk: Vec<(usize, Parsed)> = parsed.by_ref().take(DECODE_CHUNK).collect();
        let decoded: Vec<Decoding> = chunk
            .par_iter()
            .map(|(_, record)| match record {
                Ok(r) => decode_ahead(r),
                Err(_) => None,
            })
            .collect();
        for ((index, record), decoded) in chunk.into_iter().zip(decoded) {
            fold_record(
                index as u64,
                record,
                decoded,
                origin,
                &options.authorities,
                &mut folds,
                &mut report,
            );
        }
    }

    let Contexts {
        checks: mut contexts,
        order,
        sittings,
        elsewhere,
    } = folds;
    let mut sittings = Some((sittings, elsewhere));
    let total: u64 = contexts
        .values()
        .map(|c| match c {
            ContextCheck::Election(e) => e.pending_ballots(),
            ContextCheck::Sitting
            | ContextCheck::Petition { .. }
            | ContextCheck::NotRecounted(_) => 0,
        })
        .sum();
    let total = total.min((archive.entries.len() as u64).saturating_sub(trusted));
    progress.ballots(total);
    for id in order {
        match contexts.remove(&id) {
            Some(ContextCheck::Election(check)) => {
                let summary = check.finish(trusted, progress, &mut report);
                report.elections.push(summary);
            }
            Some(ContextCheck::Sitting) if sittings.is_some() => {
                // Every chamber and sitting in one fold, in log order (a sitting's records
                // are judged against its chamber's roster at their point in the log), with
                // the election records a secret division's links read (spec/40 §40.12);
                // the first violation is reported.
                let (moved, elsewhere) = sittings.take().unwrap_or_default();
                let assembly = assembly_input(moved, &elsewhere, &archive.entries);
                match crate::assembly::recount(&assembly) {
                    Ok(sittings) => report.count(
                        Step::Divisions,
                        sittings.iter().map(|(_, d)| d.len() as u64).sum(),
                    ),
                    Err(v) => report.fail(
                        Step::Divisions,
                        Failure {
                            record: Some(v.index),
                            field: v.field.clone(),
                            context: assembly_context(&assembly, v.index).map(|c| c.to_hex()),
                            message: format!("{}: {}", v.kind, v.reason),
                        },
                    ),
                }
            }
            Some(ContextCheck::Sitting) => {}
            Some(ContextCheck::Petition {
                authority,
                parameters,
                records,
            }) => {
                // Every signature verified in one batch per bucket, tags unique, the
                // snapshot's cosignatures, floors and parts, the count and the posted
                // result; every record the board should have refused is named.
                let outcome = crate::petition::recount(id.0, authority, parameters, &records);
                report.count(Step::Petitions, 1);
                for fault in &outcome.faults {
                    report.fail(
                        Step::Petitions,
                        Failure {
                            record: Some(fault.index),
                            field: fault.field.clone(),
                            context: Some(id.to_hex()),
                            message: fault.message.clone(),
                        },
                    );
                }
                report.petitions.push(crate::report::PetitionSummary {
                    context: id.to_hex(),
                    phase: outcome.phase.name().to_owned(),
                    counted: outcome.counted,
                    withdrawn: outcome.withdrawn,
                    threshold: outcome.threshold,
                    duplicates: outcome.duplicates,
                    districts: outcome
                        .districts
                        .iter()
                        .map(|&(district, signatures)| crate::report::DistrictCount {
                            district,
                            signatures,
                        })
                        .collect(),
                });
            }
            Some(ContextCheck::NotRecounted(t)) => report.not_recounted.push(format!(
                "{} (context type {}): envelopes and signatures only",
                id.to_hex(),
                t.0
            )),
            None => {}
        }
    }
    for pinned in &options.elections {
        let hex = pinned.to_hex();
        if !report.elections.iter().any(|e| e.context == hex) {
            report.fail(
                Step::Parameters,
                Failure {
                    record: None,
                    field: "election".into(),
                    context: Some(hex),
                    message: "the pinned election (--election) is not on the log".into(),
                },
            );
        }
    }
    report.finish();
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_computed_in_one_pass_are_the_rfc_6962_roots_of_every_prefix() {
        let leaves: Vec<Hash> = (0u32..70).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let sizes: Vec<u64> = (0..=70).collect();
        let roots = roots_at(&leaves, &sizes);
        for size in sizes {
            assert_eq!(
                roots.get(&size),
                Some(&urne_log::hash::root_of(&leaves[..size as usize])),
                "size {size}"
            );
        }
        let sparse = roots_at(&leaves, &[3, 17, 64, 70]);
        assert_eq!(sparse.len(), 4);
        assert_eq!(sparse[&17], urne_log::hash::root_of(&leaves[..17]));
    }
}
