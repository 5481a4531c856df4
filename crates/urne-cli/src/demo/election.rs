//! The demo's election, stage by stage, on an embedded board.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use ed25519_dalek::SigningKey;
use rayon::prelude::*;
use urne_ballot::{Ballot, ContextInputs, Election, Manifest, check_audit};
use urne_board::{Board, BoardConfig, ContextId, ContextOpen, ContextType, Record};
use urne_ceremony::{CeremonyOutcome, TrusteeKey};
use urne_credential::{Credential, CredentialList, ListedCredential};
use urne_election::{AuditRecord, CastBallot, CloseRound, ManifestRecord, Phase, kinds};
use urne_record::Kind;
use urne_record::kinds::{CONTEXT_OPEN, CONTEXT_PHASE};
use urne_tally::{TallyResult, aggregate, decrypt_tally};
use zeroize::Zeroizing;

use super::progress::{StageTime, Stages};
use super::trustees::{self, CeremonyBoard, Round, Trustees};
use super::verify::{self, DATA_DIR, VKEY_FILE, Verified};
use super::voters::{self, SignedBallot, VoterPlan};
use super::{DemoDir, DemoError, DemoOptions};

/// The board's origin in the demo.
pub const DEMO_ORIGIN: &str = "demo.urne.local/board";
/// Trustees and threshold of the demo's ceremony.
pub(crate) const TRUSTEES: u16 = 3;
pub(crate) const THRESHOLD: u16 = 2;
/// The trustee who does not turn up for the tally.
pub const ABSENT_TRUSTEE: u16 = 2;
/// Threads submitting ballots at once: enough that the board's group commit makes one
/// disk sync serve many ballots, as concurrent voters would.
pub(crate) const SUBMITTERS: usize = 32;

/// What the demo did and found.
pub struct DemoOutcome {
    /// The manifest voted on.
    pub manifest: Manifest,
    /// Voters registered.
    pub voters: usize,
    /// Ballots cast (first casts and revotes), audited ballots posted.
    pub cast: usize,
    /// Voters who voted again.
    pub revotes: usize,
    /// Ballots audited (Benaloh) and posted as spoiled.
    pub audits: usize,
    /// The published result, verified from the log.
    pub result: TallyResult,
    /// The count the demo kept in the clear, in the layout of the result's counts.
    pub plaintext: Vec<Vec<u64>>,
    /// What the verification covered.
    pub verified: Verified,
    /// Each stage's time.
    pub stages: Vec<StageTime>,
    /// The whole run.
    pub total: std::time::Duration,
    /// The board's directory.
    pub dir: std::path::PathBuf,
    /// Whether it was removed at the end (a temporary directory without --keep).
    pub removed: bool,
}

fn board_error(what: &str, e: impl std::fmt::Display) -> DemoError {
    DemoError::Board(format!("{what}: {e}"))
}

pub(crate) fn random_key() -> SigningKey {
    let mut seed = Zeroizing::new([0u8; 32]);
    rand::Rng::fill_bytes(&mut rand::rng(), seed.as_mut());
    SigningKey::from_bytes(&seed)
}

/// Where the election's records go: the embedded board's real acceptance path, or (for
/// the verifier's own tests) a bare list of entries that checks nothing, as a lying
/// board would.
pub trait BoardLog: Sync {
    /// Submits a record; its index once durable.
    fn submit(&self, record: Vec<u8>) -> Result<u64, String>;
    /// Every entry, in log order.
    fn entries(&self) -> Result<Vec<Vec<u8>>, String>;
}

impl BoardLog for Board {
    fn submit(&self, record: Vec<u8>) -> Result<u64, String> {
        Board::submit(self, record)
            .map(|r| r.index)
            .map_err(|e| e.to_string())
    }
    fn entries(&self) -> Result<Vec<Vec<u8>>, String> {
        let store = self.store();
        (0..store.size())
            .map(|i| store.entry(i).map_err(|e| format!("entry {i}: {e}")))
            .collect()
    }
}

/// Signs and submits one record.
pub(crate) fn post(
    board: &dyn BoardLog,
    context: ContextId,
    kind: Kind,
    body: &[u8],
    key: &SigningKey,
) -> Result<u64, DemoError> {
    let name = kinds::name(kind).unwrap_or("record");
    let record = Record::sign(context, kind, body, key).map_err(|e| board_error(name, e))?;
    board
        .submit(record.into_bytes())
        .map_err(|e| board_error(&format!("the board refused {name}"), e))
}

/// The election's authority: opens it and moves it through its phases.
pub(crate) struct Authority<'a> {
    board: &'a dyn BoardLog,
    key: SigningKey,
    pub(crate) context: ContextId,
}

impl Authority<'_> {
    pub(crate) fn post(&self, kind: Kind, body: &[u8]) -> Result<u64, DemoError> {
        post(self.board, self.context, kind, body, &self.key)
    }

    pub(crate) fn move_to(&self, phase: Phase) -> Result<(), DemoError> {
        self.post(CONTEXT_PHASE, &[phase.code()]).map(|_| ())
    }
}

impl CeremonyBoard for Authority<'_> {
    fn begin_round(&mut self, round: Round) -> Result<(), DemoError> {
        // A round moves on by itself once every trustee has posted, except the complaint
        // round: nobody can know that no complaint is coming, so the authority ends it
        // (and with no complaint, that ends the ceremony).
        if round == Round::Answer {
            let close = CloseRound {
                round: urne_election::round::COMPLAIN,
            };
            Authority::post(self, kinds::CEREMONY_CLOSE_ROUND, &close.to_body())?;
        }
        Ok(())
    }
    fn post(&mut self, round: Round, trustee: &SigningKey, body: Vec<u8>) -> Result<(), DemoError> {
        let kind = match round {
            Round::Register => kinds::CEREMONY_REGISTER,
            Round::CommitmentHash => kinds::CEREMONY_COMMITMENT_HASH,
            Round::Commitments => kinds::CEREMONY_COMMITMENTS,
            Round::Shares => kinds::CEREMONY_SHARES,
            Round::Complaint => kinds::CEREMONY_COMPLAINT,
            Round::Answer => kinds::CEREMONY_ANSWER,
        };
        post(self.board, self.context, kind, &body, trustee).map(|_| ())
    }
}

/// Opens the election: `context.open` committing to the manifest, then the manifest.
fn open_election<'a>(
    board: &'a dyn BoardLog,
    key: SigningKey,
    manifest: &Manifest,
) -> Result<Authority<'a>, DemoError> {
    let manifest_record = ManifestRecord {
        manifest: manifest.clone(),
        eligibility: None,
    };
    open_election_record(board, key, &manifest_record)
}

/// [`open_election`] with its manifest record given (an anonymous election's carries
/// its eligibility).
pub(crate) fn open_election_record<'a>(
    board: &'a dyn BoardLog,
    key: SigningKey,
    manifest_record: &ManifestRecord,
) -> Result<Authority<'a>, DemoError> {
    let manifest = &manifest_record.manifest;
    let mut nonce = [0u8; 16];
    rand::Rng::fill_bytes(&mut rand::rng(), &mut nonce);
    let open = ContextOpen {
        context_type: ContextType::ELECTION,
        nonce,
        name: manifest.title().to_owned(),
        parameters: manifest_record.parameters_hash(),
    }
    .to_body()
    .map_err(|e| board_error("context.open", e))?;
    let context = ContextId::derive(key.verifying_key().as_bytes(), &open);
    post(board, context, CONTEXT_OPEN, &open, &key)?;
    let authority = Authority {
        board,
        key,
        context,
    };
    authority.post(kinds::ELECTION_MANIFEST, &manifest_record.to_body())?;
    Ok(authority)
}

/// The registrar's work: one secret credential per voter, the public list posted in
/// parts. Returns the secret credentials (which a real registrar mails, one per voter)
/// and the list.
fn register(
    authority: &Authority<'_>,
    voters: usize,
) -> Result<(Vec<Credential>, CredentialList), DemoError> {
    let credentials: Vec<Credential> = (0..voters)
        .into_par_iter()
        .map(|_| Credential::generate(&mut rand::rng()))
        .collect();
    let entries = credentials
        .par_iter()
        .map(|c| ListedCredential {
            credential: c.public(),
            weight: 1,
        })
        .collect();
    let list = CredentialList::new(entries)
        .map_err(|e| DemoError::Setup(format!("the credential list: {e}")))?;
    for part in list.parts() {
        authority.post(kinds::ELECTION_CREDENTIALS, &part.to_bytes())?;
    }
    Ok((credentials, list))
}

/// The record body of a signed ballot: a cast, or an audit with its opening.
pub(crate) fn ballot_record(ballot: &SignedBallot) -> (Kind, Vec<u8>) {
    match &ballot.audit {
        Some(opening) => (
            kinds::BALLOT_AUDIT,
            AuditRecord::new(
                ballot.ballot.clone(),
                ballot.signature.clone(),
                opening.clone(),
            )
            .to_body(),
        ),
        None => (
            kinds::BALLOT_CAST,
            CastBallot::new(ballot.ballot.clone(), ballot.signature.clone()).to_body(),
        ),
    }
}

/// Submits a wave of ballots from many threads at once (the board batches their checks
/// and their disk syncs); every one must be accepted.
fn submit_wave(
    board: &dyn BoardLog,
    context: ContextId,
    wave: &[SignedBallot],
    tick: &(dyn Fn() + Sync),
) -> Result<(), DemoError> {
    // A device key per ballot: the envelope's signer says nothing of the voter, whose
    // credential signs inside the body.
    let records = wave
        .par_iter()
        .map(|b| {
            let (kind, body) = ballot_record(b);
            Record::sign(context, kind, &body, &random_key())
                .map(Record::into_bytes)
                .map_err(|e| board_error(&format!("voter {}'s ballot", b.voter), e))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let next = AtomicUsize::new(0);
    let failure = std::sync::Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..SUBMITTERS.min(records.len()) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(bytes) = records.get(i) else { break };
                    if let Err(e) = board.submit(bytes.clone()) {
                        let voter = wave.get(i).map(|b| b.voter).unwrap_or(0);
                        let mut slot = failure.lock().unwrap_or_else(|p| p.into_inner());
                        slot.get_or_insert_with(|| {
                            board_error(&format!("the board refused voter {voter}'s ballot"), e)
                        });
                        // Stop the other submitters too: one refusal fails the demo.
                        next.store(records.len(), Ordering::Relaxed);
                        break;
                    }
                    tick();
                }
            });
        }
    });
    match failure.into_inner().unwrap_or_else(|p| p.into_inner()) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// The cast ballots on the board, in log order, read back from the log.
fn cast_ballots(board: &dyn BoardLog, context: ContextId) -> Result<Vec<Ballot>, DemoError> {
    let mut ballots = Vec::new();
    for (index, bytes) in board
        .entries()
        .map_err(|e| board_error("reading the log", e))?
        .into_iter()
        .enumerate()
    {
        let record = Record::parse(bytes).map_err(|e| board_error("reading the log", e))?;
        if record.context() == context && record.kind() == kinds::BALLOT_CAST {
            let cast = CastBallot::decode(record.body())
                .map_err(|e| board_error(&format!("record {index}"), e))?;
            ballots.push(cast.ballot);
        }
    }
    Ok(ballots)
}

/// Closes voting and tallies: the encrypted sums, the present trustees' decryption
/// shares posted, the combination, the result posted.
pub(crate) fn tally(
    authority: &Authority<'_>,
    trustees: &Trustees,
    keys: &[TrusteeKey],
    election: &Election,
    outcome: &CeremonyOutcome,
    list: &CredentialList,
) -> Result<TallyResult, DemoError> {
    authority.move_to(Phase::Closed)?;
    authority.move_to(Phase::Tallying)?;
    let ballots = cast_ballots(authority.board, authority.context)?;
    let aggregation = aggregate(election, list, &ballots)
        .map_err(|e| DemoError::Tally(format!("aggregation: {e}")))?;
    let ciphertexts = aggregation.tally.ciphertexts();
    let present: Vec<&TrusteeKey> = keys
        .iter()
        .filter(|k| k.trustee() != ABSENT_TRUSTEE)
        .collect();
    let shares = present
        .par_iter()
        .map(|key| trustees::decryption_shares(key, election.context(), &ciphertexts))
        .collect::<Result<Vec<_>, _>>()?;
    for share in &shares {
        let identity = trustees
            .identity(share.trustee)
            .ok_or_else(|| DemoError::Tally(format!("no trustee {}", share.trustee)))?;
        post(
            authority.board,
            authority.context,
            kinds::TALLY_DECRYPTION_SHARES,
            &share.encode(),
            identity,
        )?;
    }
    let result = decrypt_tally(election, outcome, &aggregation, &shares)
        .map_err(|e| DemoError::Tally(e.to_string()))?;
    authority.post(kinds::TALLY_RESULT, &result.to_bytes())?;
    authority.move_to(Phase::Published)?;
    Ok(result)
}

/// An election on a board, moved up to its voting phase: what casting ballots needs.
pub(crate) struct OpenForVoting<'a> {
    pub(crate) authority: Authority<'a>,
    pub(crate) trustees: Trustees,
    pub(crate) keys: Vec<TrusteeKey>,
    pub(crate) outcome: CeremonyOutcome,
    /// The voters' secret credentials, in register order.
    pub(crate) credentials: Vec<Credential>,
    pub(crate) list: CredentialList,
    pub(crate) election: Election,
}

/// Opens an election on `manifest`, runs the 2-of-3 key ceremony, registers `voters`
/// voters and opens voting, every record through [`BoardLog::submit`]. Stages are timed
/// into `stages`.
pub(crate) fn open_for_voting<'a>(
    board: &'a dyn BoardLog,
    authority_key: SigningKey,
    origin: &str,
    manifest: &Manifest,
    voters: usize,
    stages: &mut Stages,
) -> Result<OpenForVoting<'a>, DemoError> {
    let trustees = Trustees::new(TRUSTEES, THRESHOLD);
    let (keys, outcome, authority) = stages.run("election opened, key ceremony", || {
        let mut authority = open_election(board, authority_key, manifest)?;
        authority.move_to(Phase::Ceremony)?;
        authority.post(kinds::CEREMONY_OPEN, &trustees.open()?.encode())?;
        let context = authority.context;
        let (keys, outcome) = trustees.run_ceremony(context.0, &mut authority)?;
        Ok::<_, DemoError>((keys, outcome, authority))
    })?;

    let (credentials, list) =
        stages.run_counted("credentials issued", voters as u64, "credentials", |_| {
            authority.move_to(Phase::Registration)?;
            let registered = register(&authority, voters)?;
            authority.move_to(Phase::Voting)?;
            Ok::<_, DemoError>(registered)
        })?;
    let root = list.root().0;
    let election = Election::new(ContextInputs {
        manifest,
        joint_key: &outcome.joint_key,
        credential_root: &root,
        board_origin: origin,
        context_id: &authority.context.0,
    })
    .map_err(|e| DemoError::Setup(e.to_string()))?;
    Ok(OpenForVoting {
        authority,
        trustees,
        keys,
        outcome,
        credentials,
        list,
        election,
    })
}

/// An election held on a board: what happened, and the plaintext count to compare with.
pub struct HeldElection {
    /// The manifest voted on.
    pub manifest: Manifest,
    /// The count kept in the clear.
    pub plaintext: Vec<Vec<u64>>,
    /// The result the trustees computed and posted.
    pub result: TallyResult,
    /// Ballots cast (first casts and revotes).
    pub cast: usize,
    /// Of which revotes.
    pub revotes: usize,
    /// Ballots audited and posted as spoiled.
    pub audits: usize,
    /// The election as its voters saw it (to make more ballots for it).
    pub election: std::sync::Arc<Election>,
    /// The voters' secret credentials, in register order (the tamper suite signs with
    /// them; a real registrar mails them and keeps none).
    pub credentials: Vec<Credential>,
    /// The trustees' identity keys, trustee j at `j - 1`.
    pub trustee_keys: Vec<SigningKey>,
}

/// Holds a whole election of `voters` voters on `board`, whose authorities include
/// `authority_key` and whose origin is `origin`: every record goes through
/// [`BoardLog::submit`]. Stages are timed into `stages`.
pub fn hold_election(
    board: &dyn BoardLog,
    authority_key: SigningKey,
    origin: &str,
    voters: usize,
    stages: &mut Stages,
) -> Result<HeldElection, DemoError> {
    if voters == 0 {
        return Err(DemoError::Setup("--voters must be at least 1".into()));
    }
    let manifest = voters::manifest()?;
    let plans: Vec<VoterPlan> = voters::plan(&manifest, voters, &mut rand::rng())?;
    hold_planned_election(board, authority_key, origin, plans, stages)
}

/// [`hold_election`] with each voter's plan given (on [`voters::manifest`]): the tamper
/// suite needs audits and revotes it can count on.
pub fn hold_planned_election(
    board: &dyn BoardLog,
    authority_key: SigningKey,
    origin: &str,
    plans: Vec<VoterPlan>,
    stages: &mut Stages,
) -> Result<HeldElection, DemoError> {
    let manifest = voters::manifest()?;
    hold_planned_election_on(board, authority_key, origin, manifest, plans, stages)
}

/// [`hold_planned_election`] on any manifest (the budget demo's, say), with plans drawn
/// for it ([`voters::plan`]).
pub fn hold_planned_election_on(
    board: &dyn BoardLog,
    authority_key: SigningKey,
    origin: &str,
    manifest: Manifest,
    plans: Vec<VoterPlan>,
    stages: &mut Stages,
) -> Result<HeldElection, DemoError> {
    let voters = plans.len();
    if voters == 0 {
        return Err(DemoError::Setup("--voters must be at least 1".into()));
    }
    let OpenForVoting {
        authority,
        trustees,
        keys,
        outcome,
        credentials,
        list,
        election,
    } = open_for_voting(board, authority_key, origin, &manifest, voters, stages)?;

    let total_ballots: usize = plans
        .iter()
        .map(|p| 1 + usize::from(p.audit.is_some()) + usize::from(p.revote.is_some()))
        .sum();
    let waves = stages.run_counted(
        "ballots encrypted",
        total_ballots as u64,
        "ballots",
        |bar| voters::encrypt_all(&election, &credentials, &plans, &|| bar.inc(1)),
    )?;
    let [audited, first, revotes] = &waves;
    for ballot in audited {
        if let Some(opening) = &ballot.audit {
            check_audit(&election, &ballot.ballot, opening).map_err(|e| {
                DemoError::Mismatch(format!("voter {}'s audited ballot: {e}", ballot.voter))
            })?;
        }
    }
    stages.run_counted(
        "ballots accepted by the board",
        total_ballots as u64,
        "ballots",
        |bar| {
            for wave in &waves {
                submit_wave(board, authority.context, wave, &|| bar.inc(1))?;
            }
            Ok::<_, DemoError>(())
        },
    )?;

    let result = stages.run("tally (trustees 1 and 3)", || {
        tally(&authority, &trustees, &keys, &election, &outcome, &list)
    })?;
    Ok(HeldElection {
        plaintext: voters::plaintext_count(&manifest, &plans),
        manifest,
        result,
        cast: first.len() + revotes.len(),
        revotes: revotes.len(),
        audits: audited.len(),
        trustee_keys: (1..=TRUSTEES)
            .filter_map(|j| trustees.identity(j).cloned())
            .collect(),
        election: std::sync::Arc::new(election),
        credentials,
    })
}

/// The result verified from the board must be the one the trustees computed, and its
/// counts the ones the demo kept in the clear.
pub fn check_against_plaintext(
    published: &TallyResult,
    held: &HeldElection,
) -> Result<(), DemoError> {
    if *published != held.result {
        return Err(DemoError::Mismatch(
            "the result on the board is not the result the trustees computed".into(),
        ));
    }
    for (c, (found, kept)) in published.counts.iter().zip(&held.plaintext).enumerate() {
        if found != kept {
            let title = held
                .manifest
                .contests()
                .get(c)
                .map_or("?", |contest| contest.title.as_str());
            return Err(DemoError::Mismatch(format!(
                "contest {} ({title}): the verified counts {found:?} are not the plaintext count {kept:?}",
                c + 1
            )));
        }
    }
    if published.counts.len() != held.plaintext.len() {
        return Err(DemoError::Mismatch(format!(
            "the verified result has {} contests, the manifest {}",
            published.counts.len(),
            held.plaintext.len()
        )));
    }
    Ok(())
}

/// Runs the whole demo: the board, the election, the board's verification from its
/// directory, and the comparison of the verified result with the plaintext count.
pub fn run_election(options: &DemoOptions) -> Result<DemoOutcome, DemoError> {
    run_election_on(options, voters::manifest()?)
}

/// [`run_election`] on any manifest: the voters' plans are drawn for it.
pub fn run_election_on(
    options: &DemoOptions,
    manifest: Manifest,
) -> Result<DemoOutcome, DemoError> {
    let started = Instant::now();
    if options.voters == 0 {
        return Err(DemoError::Setup("--voters must be at least 1".into()));
    }
    let dir = DemoDir::new(options.dir.as_deref(), options.keep)?;
    let mut stages = Stages::new();
    let authority_key = random_key();
    let board = open_board(dir.path(), &authority_key, &mut stages)?;
    let plans = voters::plan(&manifest, options.voters, &mut rand::rng())?;
    let held = hold_planned_election_on(
        &board,
        authority_key,
        DEMO_ORIGIN,
        manifest,
        plans,
        &mut stages,
    )?;
    board
        .sign_checkpoint()
        .map_err(|e| board_error("signing the checkpoint", e))?;
    drop(board);

    let verified = stages.run_counted(
        "verification from the log",
        held.cast as u64,
        "ballots",
        |bar| verify::verify_directory_with_progress(dir.path(), &|n| bar.inc(n)),
    )?;
    let published = verified
        .elections
        .first()
        .and_then(|e| e.result.clone())
        .ok_or_else(|| DemoError::Mismatch("the verified board has no result".into()))?;
    check_against_plaintext(&published, &held)?;
    Ok(DemoOutcome {
        manifest: held.manifest,
        voters: options.voters,
        cast: held.cast,
        revotes: held.revotes,
        audits: held.audits,
        result: held.result,
        plaintext: held.plaintext,
        verified,
        stages: stages.times().to_vec(),
        total: started.elapsed(),
        dir: dir.path().to_owned(),
        removed: dir.removed_at_end(),
    })
}

/// Opens a fresh embedded board in `dir` whose one authority is `authority_key`, with
/// its verifier key written beside it ([`VKEY_FILE`]).
pub(crate) fn open_board(
    dir: &std::path::Path,
    authority_key: &SigningKey,
    stages: &mut Stages,
) -> Result<Board, DemoError> {
    let board_seed = {
        let mut seed = Zeroizing::new([0u8; 32]);
        rand::Rng::fill_bytes(&mut rand::rng(), seed.as_mut());
        seed
    };
    stages.run("board opened", || {
        let config = BoardConfig::new(
            DEMO_ORIGIN,
            board_seed.clone(),
            vec![authority_key.verifying_key().to_bytes()],
            Vec::new(),
        );
        let (board, _) = Board::open(
            &dir.join(DATA_DIR),
            config,
            urne_board::Registry::standard(),
        )
        .map_err(|e| board_error("opening the board", e))?;
        std::fs::write(dir.join(VKEY_FILE), format!("{}\n", board.vkey()))
            .map_err(|e| DemoError::Setup(format!("writing the board key: {e}")))?;
        Ok::<_, DemoError>(board)
    })
}

/// A log that accepts every record without a check, as a lying board would: the
/// verifier's tests hold elections on it, tamper with them and sign the result.
#[derive(Default)]
pub struct UncheckedLog {
    entries: std::sync::Mutex<Vec<Vec<u8>>>,
}

impl UncheckedLog {
    /// Its entries, in order.
    pub fn into_entries(self) -> Vec<Vec<u8>> {
        self.entries.into_inner().unwrap_or_else(|p| p.into_inner())
    }
}

impl BoardLog for UncheckedLog {
    fn submit(&self, record: Vec<u8>) -> Result<u64, String> {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.push(record);
        Ok(entries.len() as u64 - 1)
    }
    fn entries(&self) -> Result<Vec<Vec<u8>>, String> {
        Ok(self
            .entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone())
    }
}
