//! The demo's verification: the board's log, read back from its directory, through the
//! independent verifier (urne-verify, spec/50), never through the board's state or its
//! acceptance path. This module only adapts urne-verify's report to what the demo and
//! `urne results` print.

use std::path::Path;

use urne_ballot::Manifest;
use urne_ceremony::{CeremonyFault, CeremonyOutcome};
use urne_election::Phase;
use urne_log::Hash;
use urne_record::ContextId;
use urne_tally::TallyResult;
use urne_verify::{Archive, Options, Progress, Report, Step};

/// The first thing the verification found wrong, with its step, record and field.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// A step of spec/50 failed.
    #[error("V{} {}: {}, {field}: {problem}", step.number(), step.title(), match record { Some(i) => format!("record {i}"), None => "the log".to_owned() })]
    Failed {
        /// The step.
        step: Step,
        /// The record at fault, if one is.
        record: Option<u64>,
        /// The field at fault.
        field: String,
        /// What is wrong.
        problem: String,
        /// The whole report.
        report: Box<Report>,
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
    /// Each election on the log that opened voting, verified.
    pub elections: Vec<VerifiedElection>,
    /// Each election that never opened voting, verified as far as it went.
    pub unfinished: Vec<UnfinishedElection>,
    /// urne-verify's report.
    pub report: Report,
}

/// An election that never opened voting: its records passed the fold, and its ceremony,
/// if it finished, re-verified to the same outcome.
#[derive(Clone, Debug)]
pub struct UnfinishedElection {
    /// Its context id.
    pub context: ContextId,
    /// The phase its log reached.
    pub phase: Phase,
    /// The ceremony's outcome if it finished: a fault means the authority opens a new
    /// election (spec/23 §23.3).
    pub ceremony: Option<Result<CeremonyOutcome, CeremonyFault>>,
}

struct Counter<'a>(&'a (dyn Fn(u64) + Sync));

impl Progress for Counter<'_> {
    fn verified(&self, n: u64) {
        (self.0)(n)
    }
}

fn adapt(report: Report) -> Result<Verified, VerifyError> {
    // The cause is the first record at fault in log order (spec/50 §50.2): a refused
    // record leaves later ones refused too, in later or earlier steps. A failure of no
    // record (the log itself) comes first.
    let cause = report
        .failures()
        .min_by_key(|(step, f)| (f.record.is_some(), f.record, *step));
    if let Some((step, failure)) = cause {
        return Err(VerifyError::Failed {
            step,
            record: failure.record,
            field: failure.field.clone(),
            problem: failure.message.clone(),
            report: Box::new(report.clone()),
        });
    }
    let unexpected = |what: &str| VerifyError::Directory(format!("the verifier's report: {what}"));
    let mut verified = Verified {
        entries: report.entries,
        root: Hash::from_hex(&report.root).ok_or_else(|| unexpected("no root"))?,
        origin: report.origin.clone(),
        elections: Vec::new(),
        unfinished: Vec::new(),
        report: report.clone(),
    };
    for e in report.elections {
        let context = ContextId::from_hex(&e.context).ok_or_else(|| unexpected("context id"))?;
        if e.voting_opened {
            let outcome = match e.ceremony {
                Some(Ok(outcome)) => outcome,
                _ => return Err(unexpected("an election voted without a ceremony")),
            };
            verified.elections.push(VerifiedElection {
                context,
                manifest: e.manifest.ok_or_else(|| unexpected("no manifest"))?,
                outcome,
                credentials: e.credentials,
                ballots: e.ballots,
                audits: e.audits,
                result: e.result,
            });
        } else {
            verified.unfinished.push(UnfinishedElection {
                context,
                // The verifier's phase is its own type (it shares no code with the
                // board's fold); the codes are spec/12 §12.3's.
                phase: e
                    .phase_reached
                    .and_then(|p| Phase::from_code(p.code()))
                    .unwrap_or(Phase::Setup),
                ceremony: e.ceremony,
            });
        }
    }
    Ok(verified)
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
    let archive = Archive {
        board_vkey: board_vkey.to_owned(),
        checkpoints: vec![checkpoint.to_owned()],
        entries: entries.to_vec(),
    };
    adapt(urne_verify::verify(
        &archive,
        // The demo holds its board's key itself: that is its out-of-band pin.
        &Options::pinned(&archive.board_vkey),
        &Counter(progress),
    ))
}

/// The board's verifier key file the demo leaves beside its data.
pub const VKEY_FILE: &str = "board.vkey";
/// The board's data directory inside the demo's directory.
pub const DATA_DIR: &str = "board";

/// The public log of a stopped demo board: its entries (read through the store, which
/// checks every frame), its last signed checkpoint, and the verifier key in
/// `dir/board.vkey`.
pub fn archive_of_directory(dir: &Path) -> Result<Archive, VerifyError> {
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
        .map(|i| {
            store
                .entry(i)
                .map_err(|e| VerifyError::Directory(format!("entry {i}: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    store.close();
    Ok(Archive {
        board_vkey: vkey.trim().to_owned(),
        checkpoints: vec![checkpoint],
        entries,
    })
}

/// Verifies a stopped demo board from its directory.
pub fn verify_directory(dir: &Path) -> Result<Verified, VerifyError> {
    verify_directory_with_progress(dir, &|_| {})
}

/// [`verify_directory`] with [`verify_log_with_progress`]'s progress.
pub fn verify_directory_with_progress(
    dir: &Path,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Verified, VerifyError> {
    let archive = archive_of_directory(dir)?;
    adapt(urne_verify::verify(
        &archive,
        // The demo holds its board's key itself: that is its out-of-band pin.
        &Options::pinned(&archive.board_vkey),
        &Counter(progress),
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use ed25519_dalek::SigningKey;
    use urne_ceremony::DecryptionShares;
    use urne_election::kinds;
    use urne_log::note::{Note, NoteSigner};
    use urne_log::{Checkpoint, leaf_hash};
    use urne_record::Record;
    use urne_record::kinds::CONTEXT_PHASE;
    use urne_tally::{aggregate, decrypt_tally};

    use super::*;
    use crate::demo::progress::Stages;
    use crate::demo::voters::{BallotRole, Choice};
    use crate::demo::{BoardLog, UncheckedLog, ballot_record, open_for_voting, trustees, voters};

    const ORIGIN: &str = "test.urne.local/board";

    fn checkpoint(signer: &NoteSigner, entries: &[Vec<u8>]) -> String {
        let leaves: Vec<Hash> = entries.iter().map(|e| leaf_hash(e)).collect();
        let checkpoint = Checkpoint::new(
            ORIGIN,
            entries.len() as u64,
            urne_log::hash::root_of(&leaves),
            Vec::new(),
        )
        .unwrap();
        let mut note = Note::new(&checkpoint.to_text()).unwrap();
        signer.sign(&mut note);
        note.to_text()
    }

    /// An election of one ballot tallied by trustees 1 and 3, where absent trustee 2
    /// also posted decryption shares: `garbage` makes them trustee 1's relabelled as 2,
    /// whose proofs are bound to trustee 1 and so fail.
    fn tallied_with_trustee_2(garbage: bool) -> (Vec<Vec<u8>>, u64) {
        let log = UncheckedLog::default();
        let authority_key = SigningKey::from_bytes(&[7; 32]);
        let manifest = voters::manifest().unwrap();
        let open = open_for_voting(
            &log,
            authority_key.clone(),
            ORIGIN,
            &manifest,
            3,
            &mut Stages::new(),
        )
        .unwrap();
        let context = open.authority.context;
        let post = |kind, body: &[u8], key: &SigningKey| {
            log.submit(Record::sign(context, kind, body, key).unwrap().into_bytes())
                .unwrap()
        };
        // One ballot, so the sums are not the identity (whose shares need no proof).
        let choices = [Choice::Options(vec![1]), Choice::Options(vec![0, 2])];
        let signed = voters::encrypt_one(
            &open.election,
            &open.credentials[0],
            0,
            BallotRole::First,
            &choices,
        )
        .unwrap();
        let (kind, body) = ballot_record(&signed);
        post(kind, &body, &SigningKey::from_bytes(&[9; 32]));
        post(CONTEXT_PHASE, &[Phase::Closed.code()], &authority_key);
        post(CONTEXT_PHASE, &[Phase::Tallying.code()], &authority_key);
        let aggregation = aggregate(&open.election, &open.list, &[signed.ballot]).unwrap();
        let ciphertexts = aggregation.tally.ciphertexts();
        let shares: Vec<DecryptionShares> = open
            .keys
            .iter()
            .map(|key| {
                trustees::decryption_shares(key, open.election.context(), &ciphertexts).unwrap()
            })
            .collect();
        let mut absent = shares[1].clone();
        if garbage {
            absent = shares[0].clone();
            absent.trustee = 2;
        }
        let at = post(
            kinds::TALLY_DECRYPTION_SHARES,
            &absent.encode(),
            open.trustees.identity(2).unwrap(),
        );
        let named = [shares[0].clone(), shares[2].clone()];
        for share in &named {
            post(
                kinds::TALLY_DECRYPTION_SHARES,
                &share.encode(),
                open.trustees.identity(share.trustee).unwrap(),
            );
        }
        let result = decrypt_tally(&open.election, &open.outcome, &aggregation, &named).unwrap();
        post(kinds::TALLY_RESULT, &result.to_bytes(), &authority_key);
        post(CONTEXT_PHASE, &[Phase::Published.code()], &authority_key);
        (log.into_entries(), at)
    }

    fn verify(entries: &[Vec<u8>]) -> Result<Verified, VerifyError> {
        let board = NoteSigner::from_seed(ORIGIN, &[3; 32]).unwrap();
        verify_log(
            entries,
            &checkpoint(&board, entries),
            &board.verifier().to_vkey(),
        )
    }

    #[test]
    fn decryption_shares_the_result_does_not_name_are_still_proof_checked() {
        let (entries, _) = tallied_with_trustee_2(false);
        verify(&entries).unwrap();
        let (entries, at) = tallied_with_trustee_2(true);
        let err = verify(&entries).unwrap_err();
        assert!(
            matches!(err, VerifyError::Failed { step: Step::Decryption, record: Some(index), .. } if index == at),
            "{err}"
        );
    }
}
