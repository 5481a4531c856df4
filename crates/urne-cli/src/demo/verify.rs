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
use urne_ballot::{Ballot, ContextInputs, Election, Manifest, check_audit};
use urne_ceremony::{
    CeremonyOpen, CeremonyOutcome, CeremonyTranscript, CommitmentHash, Commitments, Complaint,
    ComplaintAnswer, DecryptionShares, EncryptedShares, TrusteeRegistration, verify_ceremony,
};
use urne_credential::{CredentialList, CredentialListPart, PublicCredential};
use urne_crypto::BatchVerifier;
use urne_election::{AuditRecord, CastBallot, ManifestRecord, kinds};
use urne_log::note::{Note, NoteVerifier};
use urne_log::{Checkpoint, Hash, leaf_hash};
use urne_record::{ContextId, ContextOpen, ContextType, Record};
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
    casts: Vec<(u64, CastBallot)>,
    audits: Vec<(u64, AuditRecord)>,
    decryption_shares: Vec<DecryptionShares>,
    result: Option<(u64, TallyResult)>,
}

fn decoded<T, E: std::fmt::Display>(index: u64, r: Result<T, E>) -> Result<T, VerifyError> {
    r.map_err(|e| record_error(index, e))
}

impl ElectionRecords {
    fn add(&mut self, index: u64, record: &Record) -> Result<(), VerifyError> {
        let body = record.body();
        match record.kind() {
            kinds::ELECTION_MANIFEST => {
                self.manifest = Some(decoded(index, ManifestRecord::decode(body))?.manifest);
            }
            kinds::CEREMONY_OPEN => {
                self.ceremony_open = Some(decoded(index, CeremonyOpen::decode(body))?);
            }
            kinds::CEREMONY_REGISTER => self
                .registrations
                .push(decoded(index, TrusteeRegistration::decode(body))?),
            kinds::CEREMONY_COMMITMENT_HASH => self
                .commitment_hashes
                .push(decoded(index, CommitmentHash::decode(body))?),
            kinds::CEREMONY_COMMITMENTS => self
                .commitments
                .push(decoded(index, Commitments::decode(body))?),
            kinds::CEREMONY_SHARES => self
                .shares
                .push(decoded(index, EncryptedShares::decode(body))?),
            kinds::CEREMONY_COMPLAINT => self
                .complaints
                .push(decoded(index, Complaint::decode(body))?),
            kinds::CEREMONY_ANSWER => self
                .answers
                .push(decoded(index, ComplaintAnswer::decode(body))?),
            kinds::ELECTION_CREDENTIALS => self
                .credential_parts
                .push(decoded(index, CredentialListPart::decode(body))?),
            kinds::BALLOT_CAST => self
                .casts
                .push((index, decoded(index, CastBallot::decode(body))?)),
            kinds::BALLOT_AUDIT => self
                .audits
                .push((index, decoded(index, AuditRecord::decode(body))?)),
            kinds::TALLY_DECRYPTION_SHARES => self
                .decryption_shares
                .push(decoded(index, DecryptionShares::decode(body))?),
            kinds::TALLY_RESULT => {
                self.result = Some((index, decoded(index, TallyResult::decode(body))?));
            }
            // Phase moves, round closings and the opening itself: the fold judged them.
            _ => {}
        }
        Ok(())
    }
}

/// Batch-verifies every cast ballot's proofs and its credential's signature, batches in
/// parallel across cores; names the first record at fault.
fn verify_ballots(
    election: &Election,
    list: &CredentialList,
    casts: &[(u64, CastBallot)],
) -> Result<(), VerifyError> {
    casts.par_chunks(BALLOTS_PER_BATCH).try_for_each(|chunk| {
        let mut batch = BatchVerifier::with_capacity(chunk.len() * 2);
        for (index, cast) in chunk {
            let credential = PublicCredential::decode(&cast.ballot.credential.0)
                .map_err(|e| record_error(*index, format!("ballot credential: {e}")))?;
            if list.weight_of(&credential).is_none() {
                return Err(record_error(
                    *index,
                    "the ballot's credential is not on the credential list",
                ));
            }
            let proofs = cast
                .ballot
                .relations(election, &cast.ballot.credential)
                .map_err(|e| record_error(*index, format!("ballot: {e}")))?;
            batch.push(*index, Ok(proofs));
            let signature = cast
                .signature
                .relations(&credential, election.context(), &cast.tracking_code().0)
                .map_err(|e| record_error(*index, format!("ballot signature: {e}")));
            batch.push(*index, Ok(signature?));
        }
        batch.verify(&mut rand::rng()).map_err(|failure| {
            let at = failure
                .failures
                .iter()
                .map(|(index, _)| *index)
                .min()
                .unwrap_or(0);
            record_error(
                at,
                "a proof or the credential's signature of this ballot does not verify",
            )
        })
    })
}

fn verify_election(
    context: ContextId,
    origin: &str,
    records: ElectionRecords,
) -> Result<VerifiedElection, VerifyError> {
    let id = context.to_hex();
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
            index: 0,
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

    verify_ballots(&election, &list, &records.casts)?;
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

    let mut elections: Vec<(ContextId, ElectionRecords)> = Vec::new();
    let mut election_ids = std::collections::HashSet::new();
    for (index, record) in records.iter().enumerate() {
        let index = index as u64;
        if record.kind() == urne_record::kinds::CONTEXT_OPEN {
            let open = ContextOpen::parse(record.body()).map_err(|e| record_error(index, e))?;
            if open.context_type == ContextType::ELECTION {
                election_ids.insert(record.context());
            }
        }
        if !election_ids.contains(&record.context()) {
            continue;
        }
        let at = match elections.iter().position(|(c, _)| *c == record.context()) {
            Some(at) => at,
            None => {
                elections.push((record.context(), ElectionRecords::default()));
                elections.len() - 1
            }
        };
        elections[at].1.add(index, record)?;
    }
    let elections = elections
        .into_iter()
        .map(|(context, records)| verify_election(context, checkpoint.origin(), records))
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
    verify_log(&entries, &checkpoint, vkey.trim())
}
