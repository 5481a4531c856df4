//! The demo's verifier: everything re-checked from the board's log bytes and its signed
//! checkpoint alone, never from the board's state or its acceptance path.
//!
//! In order: the checkpoint's signature, and the Merkle root of the entries against it;
//! every envelope's signature; every record replayed in log order through urne-election's
//! fold (who posted it, in which phase, in which order); then, per election, the key
//! ceremony re-verified from its records, the credential list reassembled, every cast
//! ballot's proofs and credential signature batch-verified across cores, every audited
//! ballot's opening checked, and the tally result re-verified against the ballots, the
//! credential list and the trustees' decryption shares.

use std::path::Path;

use rayon::prelude::*;
use std::sync::Arc;
use urne_ballot::{Ballot, ContextInputs, Election, Manifest, check_audit};
use urne_ceremony::{
    CeremonyOpen, CeremonyOutcome, CeremonyTranscript, CommitmentHash, Commitments, Complaint,
    ComplaintAnswer, DecryptionShares, EncryptedShares, TrusteeRegistration, verify_ceremony,
};
use urne_credential::{CredentialList, CredentialListPart};
use urne_crypto::BatchVerifier;

use urne_election::{
    AuditRecord, CastBallot, Decoded, ElectionError, ElectionState, Phase, Sealed, decode,
};
use urne_log::note::{Note, NoteVerifier};
use urne_log::{Checkpoint, Hash, leaf_hash};
use urne_record::kinds::{CONTEXT_OPEN, CONTEXT_PHASE};
use urne_record::{ContextId, ContextOpen, ContextPhase, ContextType, Record};
use urne_tally::{TallyResult, verify_result};

/// Ballots per batch: large enough that the multiscalar multiplication amortises, small
/// enough that every core gets several batches.
const BALLOTS_PER_BATCH: usize = 64;

/// What the verification found wrong, and where.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The checkpoint note does not verify or does not parse.
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    /// The checkpoint covers another number of entries than the log has.
    #[error("the signed checkpoint covers {signed} entries, the log has {found}")]
    Size {
        /// In the checkpoint.
        signed: u64,
        /// In the log.
        found: u64,
    },
    /// The entries do not hash to the signed root.
    #[error("the log's Merkle root {computed} is not the signed checkpoint's root {signed}")]
    Root {
        /// Recomputed from the entries.
        computed: String,
        /// In the checkpoint.
        signed: String,
    },
    /// One record is wrong: its envelope, its signature, its body, or its place in the
    /// election (the fold refused it).
    #[error("record {index}: {problem}")]
    Record {
        /// Its index in the log.
        index: u64,
        /// What is wrong.
        problem: String,
    },
    /// Something an election needs is not on the board.
    #[error("election {context}: {what} is missing from the log")]
    Missing {
        /// The election's context id (hex).
        context: String,
        /// What.
        what: &'static str,
    },
    /// The key ceremony does not verify.
    #[error("election {context}: key ceremony: {problem}")]
    Ceremony {
        /// The election's context id (hex).
        context: String,
        /// What.
        problem: String,
    },
    /// The tally result does not verify.
    #[error("election {context}: tally result (record {index}): {problem}")]
    Tally {
        /// The election's context id (hex).
        context: String,
        /// The result record's index.
        index: u64,
        /// What.
        problem: String,
    },
    /// The directory could not be read as a board.
    #[error("{0}")]
    Directory(String),
}

/// One verified election.
#[derive(Clone, Debug)]
pub struct VerifiedElection {
    /// Its context id.
    pub context: ContextId,
    /// Its manifest.
    pub manifest: Manifest,
    /// The ceremony's outcome (joint key, qualified dealers).
    pub outcome: CeremonyOutcome,
    /// Listed credentials.
    pub credentials: usize,
    /// `ballot.cast` records, every proof and signature verified.
    pub ballots: usize,
    /// `ballot.audit` records, every opening checked.
    pub audits: usize,
    /// The verified result, if the election has one.
    pub result: Option<TallyResult>,
}

/// What the verification covered.
#[derive(Clone, Debug)]
pub struct Verified {
    /// Entries of the log, all covered by the checkpoint.
    pub entries: u64,
    /// The signed root.
    pub root: Hash,
    /// The board's origin.
    pub origin: String,
    /// Each election on the log, verified.
    pub elections: Vec<VerifiedElection>,
}

fn record_error(index: u64, problem: impl std::fmt::Display) -> VerifyError {
    VerifyError::Record {
        index,
        problem: problem.to_string(),
    }
}

/// Checks the checkpoint's signature by the board's key and that the entries are exactly
/// the log it signs.
fn check_checkpoint(
    entries: &[Vec<u8>],
    checkpoint: &str,
    board_vkey: &str,
) -> Result<Checkpoint, VerifyError> {
    let verifier = NoteVerifier::from_vkey(board_vkey)
        .map_err(|e| VerifyError::Checkpoint(format!("the board key: {e}")))?;
    let note =
        Note::parse(checkpoint.as_bytes()).map_err(|e| VerifyError::Checkpoint(e.to_string()))?;
    let checkpoint = Checkpoint::open(&note, &verifier)
        .map_err(|e| VerifyError::Checkpoint(format!("not signed by the board: {e}")))?;
    let found = entries.len() as u64;
    if checkpoint.size() != found {
        return Err(VerifyError::Size {
            signed: checkpoint.size(),
            found,
        });
    }
    let leaves: Vec<Hash> = entries.par_iter().map(|e| leaf_hash(e)).collect();
    let computed = urne_log::hash::root_of(&leaves);
    if computed != *checkpoint.root() {
        return Err(VerifyError::Root {
            computed: computed.to_hex(),
            signed: checkpoint.root().to_hex(),
        });
    }
    Ok(checkpoint)
}

/// The records of one election, in log order, decoded by kind.
#[derive(Default)]
struct ElectionRecords {
    manifest: Option<Manifest>,
    ceremony_open: Option<CeremonyOpen>,
    registrations: Vec<TrusteeRegistration>,
    commitment_hashes: Vec<CommitmentHash>,
    commitments: Vec<Commitments>,
    shares: Vec<EncryptedShares>,
    complaints: Vec<Complaint>,
    answers: Vec<ComplaintAnswer>,
    credential_parts: Vec<CredentialListPart>,
    last_credential_part: u64,
    casts: Vec<(u64, CastBallot)>,
    audits: Vec<(u64, AuditRecord)>,
    decryption_shares: Vec<DecryptionShares>,
    result: Option<(u64, TallyResult)>,
}

impl ElectionRecords {
    fn add(&mut self, index: u64, decoded: &Decoded) {
        match decoded {
            Decoded::Manifest(m) => self.manifest = Some(m.manifest.clone()),
            Decoded::CeremonyOpen(o) => self.ceremony_open = Some(o.clone()),
            Decoded::Register(r) => self.registrations.push(*r),
            Decoded::CommitmentHash(h) => self.commitment_hashes.push(*h),
            Decoded::Commitments(c) => self.commitments.push(c.clone()),
            Decoded::Shares(s) => self.shares.push(s.clone()),
            Decoded::Complaint(c) => self.complaints.push(*c),
            Decoded::Answer(a) => self.answers.push(*a),
            Decoded::Credentials(p) => {
                self.credential_parts.push(p.clone());
                self.last_credential_part = index;
            }
            Decoded::Cast(c) => self.casts.push((index, (**c).clone())),
            Decoded::Audit(a) => self.audits.push((index, (**a).clone())),
            Decoded::DecryptionShares(s) => self.decryption_shares.push(s.clone()),
            Decoded::Result(r) => self.result = Some((index, (**r).clone())),
            // Round closings: the fold judged them; the ceremony's verification reads
            // only what the trustees posted.
            _ => {}
        }
    }
}

/// One election's records through urne-election's fold, in log order: the same checks
/// the board ran on arrival (poster, phase, round, order, unique ballots, audits,
/// decryption shares, the result against the sealed tally). Ballot proofs are the one
/// exception: the fold's stateless precheck of each cast ballot is deferred, with the
/// parameters sealed when it arrived, to one parallel batch verification after the log
/// is read; a cast ballot's proofs change nothing later records are checked against.
struct ElectionFold {
    id: ContextId,
    state: Option<ElectionState>,
    casts: Vec<(u64, Box<CastBallot>, Arc<Sealed>)>,
    records: ElectionRecords,
}

impl ElectionFold {
    fn new(id: ContextId) -> Self {
        Self {
            id,
            state: None,
            casts: Vec::new(),
            records: ElectionRecords::default(),
        }
    }

    fn feed(&mut self, index: u64, record: &Record, origin: &str) -> Result<(), VerifyError> {
        let fault = |e: ElectionError| record_error(index, e);
        if record.kind() == CONTEXT_OPEN {
            let open = ContextOpen::parse(record.body()).map_err(|e| record_error(index, e))?;
            if self.state.is_some() {
                return Err(record_error(
                    index,
                    "a second context.open of this election",
                ));
            }
            self.state = Some(ElectionState::new(
                self.id.0,
                *record.signer(),
                open.parameters,
                origin,
            ));
            return Ok(());
        }
        let Some(state) = self.state.as_mut() else {
            return Err(record_error(
                index,
                "a record before the election's context.open",
            ));
        };
        if record.kind() == CONTEXT_PHASE {
            if record.signer() != state.authority() {
                return Err(record_error(
                    index,
                    "context.phase must be signed by the election's authority",
                ));
            }
            let to = ContextPhase::parse(record.body())
                .map_err(|e| record_error(index, e))?
                .to;
            let to = Phase::from_code(to)
                .ok_or_else(|| record_error(index, format!("an election has no phase {to}")))?;
            state.check_phase(to).map_err(fault)?;
            return state.apply_phase(to).map_err(fault);
        }
        let decoded = decode(record.kind(), record.body())
            .ok_or_else(|| {
                record_error(
                    index,
                    format!("kind 0x{:04x} is not an election's", record.kind().0),
                )
            })?
            .map_err(fault)?;
        match &decoded {
            Decoded::Cast(cast) => {
                let sealed = state
                    .sealed()
                    .cloned()
                    .ok_or_else(|| record_error(index, "ballot.cast before voting opened"))?;
                self.casts.push((index, cast.clone(), sealed));
            }
            _ => {
                ElectionState::precheck(
                    state.sealed().map(|s| s.as_ref()),
                    record.signer(),
                    &decoded,
                )
                .map_err(fault)?;
            }
        }
        state.check(record.signer(), &decoded).map_err(fault)?;
        state
            .apply(record.kind(), record.body(), index)
            .map_err(fault)?;
        self.records.add(index, &decoded);
        Ok(())
    }

    /// The deferred ballot prechecks, batched in parallel; a failing batch is searched
    /// for its first bad ballot, named with the fold's own diagnosis.
    fn verify_casts(&self, progress: &(dyn Fn(u64) + Sync)) -> Result<(), VerifyError> {
        self.casts
            .par_chunks(BALLOTS_PER_BATCH)
            .try_for_each(|chunk| {
                let mut batch = BatchVerifier::with_capacity(chunk.len());
                for (index, cast, sealed) in chunk {
                    let relations = sealed
                        .precheck_cast(cast)
                        .map_err(|e| record_error(*index, e))?;
                    batch.push(*index, Ok(relations));
                }
                let verified = batch.verify(&mut rand::rng());
                progress(chunk.len() as u64);
                verified.map_err(|failure| {
                    let at = failure
                        .failures
                        .iter()
                        .map(|(index, _)| *index)
                        .min()
                        .unwrap_or(0);
                    let why = chunk
                        .iter()
                        .find(|(index, _, _)| *index == at)
                        .map(|(_, cast, sealed)| sealed.diagnose_cast(cast).to_string())
                        .unwrap_or_else(|| "a proof of the ballot does not verify".into());
                    record_error(at, why)
                })
            })
    }
}

/// After the fold: the deferred ballot batch, then the ceremony, the credential list and
/// the result re-verified straight from the domain crates, as a second opinion on the
/// fold's own state, which must agree.
fn verify_election(
    fold: ElectionFold,
    origin: &str,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<VerifiedElection, VerifyError> {
    fold.verify_casts(progress)?;
    let context = fold.id;
    let id = context.to_hex();
    let disagree = |what: &str| VerifyError::Ceremony {
        context: id.clone(),
        problem: format!("the fold's {what} and the direct verification disagree"),
    };
    let state = fold.state.ok_or_else(|| VerifyError::Missing {
        context: id.clone(),
        what: "context.open",
    })?;
    let records = fold.records;
    let missing = |what| VerifyError::Missing {
        context: id.clone(),
        what,
    };
    let manifest = records
        .manifest
        .ok_or_else(|| missing("election.manifest"))?;
    let open = records
        .ceremony_open
        .ok_or_else(|| missing("ceremony.open"))?;
    let outcome = verify_ceremony(&CeremonyTranscript {
        ceremony_id: context.0,
        open,
        registrations: records.registrations,
        commitment_hashes: records.commitment_hashes,
        commitments: records.commitments,
        shares: records.shares,
        complaints: records.complaints,
        answers: records.answers,
    })
    .map_err(|e| VerifyError::Ceremony {
        context: id.clone(),
        problem: e.to_string(),
    })?;
    if records.credential_parts.is_empty() {
        return Err(missing("election.credentials"));
    }
    let list =
        CredentialList::from_parts(&records.credential_parts).map_err(|e| VerifyError::Record {
            index: records.last_credential_part,
            problem: format!("election {id}: the credential list: {e}"),
        })?;
    let root = list.root().0;
    let election = Election::new(ContextInputs {
        manifest: &manifest,
        joint_key: &outcome.joint_key,
        credential_root: &root,
        board_origin: origin,
        context_id: &context.0,
    })
    .map_err(|e| VerifyError::Checkpoint(e.to_string()))?;

    if let Some(sealed) = state.sealed() {
        if sealed.outcome() != &outcome {
            return Err(disagree("ceremony outcome"));
        }
        if sealed.credentials() != &list {
            return Err(disagree("credential list"));
        }
        if sealed.election().context() != election.context() {
            return Err(disagree("election context hash"));
        }
    }
    records.audits.par_iter().try_for_each(|(index, audit)| {
        check_audit(&election, &audit.ballot, &audit.opening)
            .map_err(|e| record_error(*index, format!("audited ballot: {e}")))
    })?;

    let result = match records.result {
        None => None,
        Some((index, result)) => {
            let ballots: Vec<Ballot> = records
                .casts
                .iter()
                .map(|(_, c)| c.ballot.clone())
                .collect();
            verify_result(
                &election,
                &outcome,
                &list,
                &ballots,
                &records.decryption_shares,
                &result,
            )
            .map_err(|e| VerifyError::Tally {
                context: id.clone(),
                index,
                problem: e.to_string(),
            })?;
            if state.result() != Some(&result) {
                return Err(disagree("result"));
            }
            Some(result)
        }
    };
    Ok(VerifiedElection {
        context,
        manifest,
        outcome,
        credentials: list.entries().len(),
        ballots: records.casts.len(),
        audits: records.audits.len(),
        result,
    })
}

/// Verifies a board from its entries (in log order), its signed checkpoint covering all
/// of them, and the board's verifier key.
pub fn verify_log(
    entries: &[Vec<u8>],
    checkpoint: &str,
    board_vkey: &str,
) -> Result<Verified, VerifyError> {
    verify_log_with_progress(entries, checkpoint, board_vkey, &|_| {})
}

/// [`verify_log`], calling `progress` with the number of cast ballots each finished
/// batch verified.
pub fn verify_log_with_progress(
    entries: &[Vec<u8>],
    checkpoint: &str,
    board_vkey: &str,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Verified, VerifyError> {
    let checkpoint = check_checkpoint(entries, checkpoint, board_vkey)?;

    let records: Vec<Record> = entries
        .par_iter()
        .enumerate()
        .map(|(index, bytes)| {
            let index = index as u64;
            let record = Record::parse(bytes.clone()).map_err(|e| record_error(index, e))?;
            record
                .verify_signature()
                .map_err(|e| record_error(index, e))?;
            Ok(record)
        })
        .collect::<Result<_, VerifyError>>()?;

    let mut elections: Vec<ElectionFold> = Vec::new();
    for (index, record) in records.iter().enumerate() {
        let index = index as u64;
        if record.kind() == CONTEXT_OPEN {
            let open = ContextOpen::parse(record.body()).map_err(|e| record_error(index, e))?;
            if open.context_type == ContextType::ELECTION {
                if record.context() != ContextId::derive(record.signer(), record.body()) {
                    return Err(record_error(
                        index,
                        "the context id is not derived from the signer and the body (spec/12 §12.4)",
                    ));
                }
                if elections.iter().all(|e| e.id != record.context()) {
                    elections.push(ElectionFold::new(record.context()));
                }
            }
        }
        if let Some(fold) = elections.iter_mut().find(|e| e.id == record.context()) {
            fold.feed(index, record, checkpoint.origin())?;
        }
    }
    let elections = elections
        .into_iter()
        .map(|fold| verify_election(fold, checkpoint.origin(), progress))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Verified {
        entries: entries.len() as u64,
        root: *checkpoint.root(),
        origin: checkpoint.origin().to_owned(),
        elections,
    })
}

/// The board's verifier key file the demo leaves beside its data.
pub const VKEY_FILE: &str = "board.vkey";
/// The board's data directory inside the demo's directory.
pub const DATA_DIR: &str = "board";

/// Verifies a stopped demo board: its log (read through the store, which checks every
/// frame), its last signed checkpoint, and the verifier key in `dir/board.vkey`.
pub fn verify_directory(dir: &Path) -> Result<Verified, VerifyError> {
    verify_directory_with_progress(dir, &|_| {})
}

/// [`verify_directory`] with [`verify_log_with_progress`]'s progress.
pub fn verify_directory_with_progress(
    dir: &Path,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Verified, VerifyError> {
    let vkey_path = dir.join(VKEY_FILE);
    let vkey = std::fs::read_to_string(&vkey_path)
        .map_err(|e| VerifyError::Directory(format!("{}: {e}", vkey_path.display())))?;
    let data = dir.join(DATA_DIR);
    let (store, _) = urne_store::Store::open(&data, urne_board::board::store_options())
        .map_err(|e| VerifyError::Directory(format!("{}: {e}", data.display())))?;
    let checkpoint = store.checkpoint().ok_or_else(|| {
        VerifyError::Directory(format!("{}: no signed checkpoint", data.display()))
    })?;
    let entries = (0..store.size())
        .map(|i| store.entry(i).map_err(|e| record_error(i, e)))
        .collect::<Result<Vec<_>, _>>()?;
    store.close();
    verify_log_with_progress(&entries, &checkpoint, vkey.trim(), progress)
}
