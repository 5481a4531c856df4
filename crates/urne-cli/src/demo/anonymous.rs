//! `urne demo anonymous`: an election whose voters are wallets (spec/23 §23.9, spec/25
//! §25.8) on an embedded board. Citizens make wallets on their devices and enrol with a
//! registrar; two of three registrars cosign a snapshot dealt into buckets; the election
//! takes its voters from that registry; each ballot carries the wallet's tag as its
//! credential and a Triptych signature over the wallet's bucket (made in parallel
//! across cores); some voters audit a ballot first, some vote again under the same tag;
//! trustees 1 and 3 decrypt; then the board is verified from its log, and the verified
//! counts are compared with the count kept in the clear.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use ed25519_dalek::SigningKey;
use rayon::prelude::*;
use sha2::Digest;
use urne_ballot::{Ballot, ContextInputs, CredentialKey, Election, Manifest, TrackingCode};
use urne_board::{Board, ContextId, Record};
use urne_credential::registry::{Cosignature, Register, Registrars, SignedSnapshot, Snapshot};
use urne_credential::wallet::{ATTRIBUTE_DISTRICT, EnrolmentRequest, Wallet};
use urne_election::anonymous::Eligibility;
use urne_election::anonymous::{
    AnonymousAudit, AnonymousCast, AnonymousSignature, credential_of_tag, sign_ballot, tag_for,
};
use urne_election::{ManifestRecord, Phase, Replay, kinds};
use urne_tally::TallyResult;

use super::election::{self, BoardLog, DEMO_ORIGIN, THRESHOLD, TRUSTEES};
use super::progress::{StageTime, Stages};
use super::trustees::{self, Trustees};
use super::verify::{self, Verified};
use super::voters::{self, BallotRole, Choice, VoterPlan};
use super::{DemoDir, DemoError};

/// The default bucket size, as a power of two: 2^8 keys per ring.
pub const DEFAULT_BUCKET_BITS: u8 = 8;
/// Registrars, of whom [`REGISTRAR_THRESHOLD`] cosign the snapshot.
const REGISTRARS: usize = 3;
const REGISTRAR_THRESHOLD: u8 = 2;
/// Districts the citizens live in (each wallet registers one, as a commitment).
const DISTRICTS: u32 = 4;

/// What `urne demo anonymous` is asked to do.
#[derive(Clone, Debug)]
pub struct AnonymousOptions {
    /// How many citizens enrol and vote.
    pub voters: usize,
    /// Buckets of 2^this keys.
    pub bucket_bits: u8,
    /// Where the board's data goes; None: a fresh temporary directory.
    pub dir: Option<std::path::PathBuf>,
    /// Keep the temporary directory at the end.
    pub keep: bool,
}

/// What the demo did and found.
pub struct AnonymousOutcome {
    /// The manifest voted on.
    pub manifest: Manifest,
    /// Citizens enrolled (and voters).
    pub voters: usize,
    /// The snapshot's buckets and their size.
    pub buckets: u32,
    /// Keys per ring.
    pub bucket_size: usize,
    /// Ballots cast, of which revotes; ballots audited.
    pub cast: usize,
    /// Voters who voted again under the same tag.
    pub revotes: usize,
    /// Ballots audited (Benaloh) and posted as spoiled.
    pub audits: usize,
    /// The verified result.
    pub result: TallyResult,
    /// The count kept in the clear.
    pub plaintext: Vec<Vec<u64>>,
    /// How the board was verified.
    pub verification: Box<Verified>,
    /// Records on the board.
    pub entries: u64,
    /// Each stage's time.
    pub stages: Vec<StageTime>,
    /// The whole run.
    pub total: std::time::Duration,
    /// The board's directory.
    pub dir: std::path::PathBuf,
    /// Whether it was removed at the end.
    pub removed: bool,
}

fn setup(what: &str, e: impl std::fmt::Display) -> DemoError {
    DemoError::Setup(format!("{what}: {e}"))
}

/// The citizens' wallets, the registrars' keys and the snapshot they cosign (two of
/// three), built as `urne wallet` and `urne registry` do: every enrolment request is
/// verified against the registry before the registrar enrols it.
fn enrol(
    voters: usize,
    registry: [u8; 32],
    bucket_bits: u8,
) -> Result<(Vec<Wallet>, Registrars, Snapshot), DemoError> {
    let wallets: Vec<Wallet> = (0..voters)
        .into_par_iter()
        .map(|i| {
            Wallet::generate(
                &[(ATTRIBUTE_DISTRICT, 1 + i as u32 % DISTRICTS)],
                &mut rand::rng(),
            )
            .map_err(|e| setup("a wallet", e))
        })
        .collect::<Result<_, _>>()?;
    let requests: Vec<EnrolmentRequest> = wallets
        .par_iter()
        .map(|w| {
            let bytes = w
                .enrolment_request(&registry, &mut rand::rng())
                .map_err(|e| setup("an enrolment request", e))?
                .to_bytes();
            // The registrar reads the request as handed over, and checks it.
            EnrolmentRequest::decode_and_verify(&bytes, &registry)
                .map_err(|e| setup("an enrolment request", e))
        })
        .collect::<Result<_, _>>()?;
    let mut register = Register::new();
    for (i, request) in requests.iter().enumerate() {
        let person: [u8; 32] = sha2::Sha256::digest(format!("citizen {i}").as_bytes()).into();
        register
            .enrol(person, request, false)
            .map_err(|e| setup(&format!("enrolling citizen {i}"), e))?;
    }
    let keys: Vec<SigningKey> = (0..REGISTRARS).map(|_| election::random_key()).collect();
    let registrars = Registrars::new(
        REGISTRAR_THRESHOLD,
        keys.iter().map(SigningKey::verifying_key).collect(),
    )
    .map_err(|e| setup("the registrars", e))?;
    let (header, entries) = register.snapshot_header(registry, 1, [0; 32], bucket_bits);
    let id = header.id();
    // Registrars 1 and 3 cosign; registrar 2 does not, and is not needed.
    let signed = SignedSnapshot {
        header,
        cosignatures: vec![
            Cosignature::sign(0, &keys[0], &id),
            Cosignature::sign(2, &keys[2], &id),
        ],
    };
    let snapshot = Snapshot::new(signed, entries).map_err(|e| setup("the snapshot", e))?;
    Ok((wallets, registrars, snapshot))
}

/// One ballot ready for the board, and what the demo needs to know of it.
struct Made {
    voter: usize,
    role: BallotRole,
    kind: urne_record::Kind,
    body: Vec<u8>,
}

/// Encrypts and ring-signs one ballot of `wallet` (spec/23 §23.11): its credential
/// field is the wallet's tag in this election, which every ballot proof binds; its
/// signature is bound to its role, a cast's or an audit's (spec/23 §23.13).
fn make_ballot(
    election: &Election,
    snapshot: &Snapshot,
    context: ContextId,
    wallet: &Wallet,
    voter: usize,
    role: BallotRole,
    choices: &[Choice],
) -> Result<Made, DemoError> {
    let mut rng = rand::rng();
    let position = snapshot
        .position(&wallet.public_key())
        .ok_or_else(|| setup(&format!("voter {voter}"), "not in the snapshot"))?;
    let credential: CredentialKey =
        credential_of_tag(&tag_for(wallet.secret(), &snapshot.id(), &context.0));
    let selections = voters::selections(election, choices)
        .ok_or_else(|| setup(&format!("voter {voter}"), "a choice names no option"))?;
    let (ballot, secrets) = Ballot::encrypt(election, &credential, &selections, &mut rng)
        .map_err(|e| setup(&format!("voter {voter}: encryption"), e))?;
    let code = TrackingCode::of(&ballot);
    // The demo knows each ballot's role in advance and signs only for it; a voter's
    // device signs for both decisions before it learns which (spec/23 §23.7).
    let decision = match role {
        BallotRole::Audited => urne_election::Decision::Audit,
        _ => urne_election::Decision::Cast,
    };
    let signature = sign_ballot(
        &mut rng,
        wallet.secret(),
        snapshot,
        position,
        &context.0,
        decision,
        &code,
    )
    .map_err(|e| setup(&format!("voter {voter}: signing"), e))?;
    let signature = AnonymousSignature::new(position.bucket, &signature);
    let (kind, body) = if role == BallotRole::Audited {
        let opening = secrets.audit(&ballot);
        urne_ballot::check_audit(election, &ballot, &opening)
            .map_err(|e| DemoError::Mismatch(format!("voter {voter}'s audited ballot: {e}")))?;
        (
            kinds::BALLOT_AUDIT,
            AnonymousAudit::new(ballot, signature, opening).to_body(),
        )
    } else {
        (
            kinds::BALLOT_CAST,
            AnonymousCast::new(ballot, signature).to_body(),
        )
    };
    Ok(Made {
        voter,
        role,
        kind,
        body,
    })
}

/// The election replayed from the board's log through its fold: the authority's and the
/// trustees' view of it, as the role commands have it. Cast ballots' proofs and
/// signatures are left deferred (the board checked them, and the verification stage
/// checks them again from the log).
pub fn replay(board: &dyn BoardLog, context: ContextId, origin: &str) -> Result<Replay, DemoError> {
    let mut replay = Replay::new(context, origin).deferring_casts();
    for (index, bytes) in board
        .entries()
        .map_err(|e| DemoError::Board(format!("reading the log: {e}")))?
        .into_iter()
        .enumerate()
    {
        let record =
            Record::parse(bytes).map_err(|e| DemoError::Board(format!("entry {index}: {e}")))?;
        replay
            .feed(index as u64, &record)
            .map_err(|e| DemoError::Board(format!("the board's log: {e}")))?;
    }
    replay.take_deferred();
    Ok(replay)
}

/// Runs the whole anonymous demo.
pub fn run_anonymous(options: &AnonymousOptions) -> Result<AnonymousOutcome, DemoError> {
    let started = Instant::now();
    if options.voters < 2 {
        return Err(DemoError::Setup(
            "--voters must be at least 2 (one voter's ballot is theirs by elimination)".into(),
        ));
    }
    if !(1..=urne_credential::registry::MAX_BUCKET_BITS).contains(&options.bucket_bits) {
        return Err(DemoError::Setup(format!(
            "--bucket-bits {} is not in 1..=16",
            options.bucket_bits
        )));
    }
    let dir = DemoDir::new(options.dir.as_deref(), options.keep)?;
    let mut stages = Stages::new();
    let authority_key = election::random_key();
    let board = election::open_board(dir.path(), &authority_key, &mut stages)?;

    let mut registry = [0u8; 32];
    rand::Rng::fill_bytes(&mut rand::rng(), &mut registry);
    let (wallets, registrars, snapshot) = stages.run_counted(
        "wallets enrolled, snapshot cosigned",
        options.voters as u64,
        "wallets",
        |_| enrol(options.voters, registry, options.bucket_bits),
    )?;
    let buckets = snapshot.header().bucket_count();
    // The floors the election promises: buckets of 2^bits, and the registered keys the
    // smallest bucket of this snapshot holds (the deal differs by at most one).
    let smallest = (0..buckets)
        .filter_map(|b| snapshot.real_keys(b))
        .min()
        .unwrap_or(0) as u32;
    let eligibility = Eligibility {
        min_bucket_bits: options.bucket_bits,
        min_real_keys: smallest.clamp(2, 1u32 << options.bucket_bits),
        min_snapshot: 1,
        registry,
        registrars,
    };
    let manifest = voters::manifest()?;
    let plans: Vec<VoterPlan> = voters::plan(&manifest, options.voters, &mut rand::rng())?;

    let trustees = Trustees::new(TRUSTEES, THRESHOLD);
    let (keys, outcome, authority) = stages.run("election opened, key ceremony", || {
        let record = ManifestRecord {
            manifest: manifest.clone(),
            eligibility: Some(eligibility.clone()),
        };
        let mut authority = election::open_election_record(&board, authority_key, &record)?;
        authority.move_to(Phase::Ceremony)?;
        authority.post(kinds::CEREMONY_OPEN, &trustees.open()?.encode())?;
        let context = authority.context;
        let (keys, outcome) = trustees.run_ceremony(context.0, &mut authority)?;
        Ok::<_, DemoError>((keys, outcome, authority))
    })?;
    stages.run("snapshot posted, voting opened", || {
        authority.move_to(Phase::Registration)?;
        authority.post(kinds::ELECTION_SNAPSHOT, &snapshot.signed().to_bytes())?;
        for part in snapshot.parts() {
            authority.post(kinds::ELECTION_SNAPSHOT_PART, &part.to_bytes())?;
        }
        authority.move_to(Phase::Voting)
    })?;
    let context = authority.context;
    let ballot_election = Election::new(ContextInputs {
        manifest: &manifest,
        joint_key: &outcome.joint_key,
        credential_root: &snapshot.id(),
        board_origin: DEMO_ORIGIN,
        context_id: &context.0,
    })
    .map_err(|e| setup("the election's parameters", e))?;

    let jobs: Vec<(usize, BallotRole, &[Choice])> = plans
        .iter()
        .flat_map(|p| {
            let audit = p
                .audit
                .as_deref()
                .map(|c| (p.voter, BallotRole::Audited, c));
            let revote = p
                .revote
                .as_deref()
                .map(|c| (p.voter, BallotRole::Revote, c));
            audit
                .into_iter()
                .chain(std::iter::once((p.voter, BallotRole::First, &p.first[..])))
                .chain(revote)
        })
        .collect();
    let made = stages.run_counted(
        "ballots encrypted and ring-signed",
        jobs.len() as u64,
        "ballots",
        |bar| {
            jobs.par_iter()
                .map(|&(voter, role, choices)| {
                    let wallet = wallets
                        .get(voter)
                        .ok_or_else(|| setup(&format!("voter {voter}"), "no wallet"))?;
                    let made = make_ballot(
                        &ballot_election,
                        &snapshot,
                        context,
                        wallet,
                        voter,
                        role,
                        choices,
                    );
                    bar.inc(1);
                    made
                })
                .collect::<Result<Vec<Made>, DemoError>>()
        },
    )?;
    let count = |role| made.iter().filter(|m| m.role == role).count();
    let (audits, first, revotes) = (
        count(BallotRole::Audited),
        count(BallotRole::First),
        count(BallotRole::Revote),
    );
    stages.run_counted(
        "ballots accepted by the board",
        made.len() as u64,
        "ballots",
        |bar| {
            // Audits, then first casts, then revotes: a revote must come after the
            // ballot it replaces.
            for role in [BallotRole::Audited, BallotRole::First, BallotRole::Revote] {
                let wave: Vec<&Made> = made.iter().filter(|m| m.role == role).collect();
                submit(&board, context, &wave, &|| bar.inc(1))?;
            }
            Ok::<_, DemoError>(())
        },
    )?;

    let result = stages.run("tally (trustees 1 and 3)", || {
        authority.move_to(Phase::Closed)?;
        authority.move_to(Phase::Tallying)?;
        let replayed = replay(&board, context, DEMO_ORIGIN)?;
        let state = replayed
            .state()
            .ok_or_else(|| DemoError::Tally("the election is not on the board".into()))?;
        let sealed = state
            .sealed()
            .ok_or_else(|| DemoError::Tally("the election never opened voting".into()))?;
        let ciphertexts = sealed
            .tally_ciphertexts()
            .ok_or_else(|| DemoError::Tally("no sealed tally".into()))?
            .to_vec();
        let present: Vec<_> = keys
            .iter()
            .filter(|k| k.trustee() != election::ABSENT_TRUSTEE)
            .collect();
        let shares = present
            .par_iter()
            .map(|key| trustees::decryption_shares(key, sealed.election().context(), &ciphertexts))
            .collect::<Result<Vec<_>, _>>()?;
        for share in &shares {
            let identity = trustees
                .identity(share.trustee)
                .ok_or_else(|| DemoError::Tally(format!("no trustee {}", share.trustee)))?;
            election::post(
                &board,
                context,
                kinds::TALLY_DECRYPTION_SHARES,
                &share.encode(),
                identity,
            )?;
        }
        let result = replay(&board, context, DEMO_ORIGIN)?
            .state()
            .ok_or_else(|| DemoError::Tally("the election is not on the board".into()))?
            .decrypt_result()
            .map_err(|e| DemoError::Tally(e.to_string()))?;
        authority.post(kinds::TALLY_RESULT, &result.to_bytes())?;
        authority.move_to(Phase::Published)?;
        Ok::<_, DemoError>(result)
    })?;
    board
        .sign_checkpoint()
        .map_err(|e| DemoError::Board(format!("signing the checkpoint: {e}")))?;
    drop(board);

    let plaintext = voters::plaintext_count(&manifest, &plans);
    let (verification, entries) = stages.run_counted(
        "verification from the log",
        (first + revotes) as u64,
        "ballots",
        |bar| verify_board(dir.path(), context, &result, &|n| bar.inc(n)),
    )?;
    if result.counts.len() != plaintext.len() {
        return Err(DemoError::Mismatch(format!(
            "the verified result has {} contests, the plaintext count {}",
            result.counts.len(),
            plaintext.len()
        )));
    }
    // The verifier checked every ballot the demo posted: none skipped.
    let checked = verification
        .elections
        .iter()
        .find(|e| e.context == context)
        .map(|e| (e.ballots, e.audits));
    if checked != Some((first + revotes, audits)) {
        return Err(DemoError::Mismatch(format!(
            "the verifier checked {checked:?} (cast, audited) ballots; the demo posted {} and {audits}",
            first + revotes
        )));
    }
    for (c, (found, kept)) in result.counts.iter().zip(&plaintext).enumerate() {
        if found != kept {
            return Err(DemoError::Mismatch(format!(
                "contest {}: the verified counts {found:?} are not the plaintext count {kept:?}",
                c + 1
            )));
        }
    }
    Ok(AnonymousOutcome {
        manifest,
        voters: options.voters,
        buckets,
        bucket_size: snapshot.header().bucket_size(),
        cast: first + revotes,
        revotes,
        audits,
        result,
        plaintext,
        verification,
        entries,
        stages: stages.times().to_vec(),
        total: started.elapsed(),
        dir: dir.path().to_owned(),
        removed: dir.removed_at_end(),
    })
}

/// Submits ballots from many threads at once, as concurrent voters would (the board
/// batches their checks and disk syncs); each under a fresh envelope key, so the
/// envelope says nothing of the voter. Every one must be accepted.
fn submit(
    board: &Board,
    context: ContextId,
    wave: &[&Made],
    tick: &(dyn Fn() + Sync),
) -> Result<(), DemoError> {
    let records = wave
        .par_iter()
        .map(|m| {
            Record::sign(context, m.kind, &m.body, &election::random_key())
                .map(Record::into_bytes)
                .map_err(|e| DemoError::Board(format!("voter {}'s ballot: {e}", m.voter)))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let next = AtomicUsize::new(0);
    let failure = std::sync::Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..election::SUBMITTERS.min(records.len()) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(bytes) = records.get(i) else { break };
                    if let Err(e) = board.submit(bytes.clone()) {
                        let voter = wave.get(i).map_or(0, |m| m.voter);
                        let mut slot = failure.lock().unwrap_or_else(|p| p.into_inner());
                        slot.get_or_insert_with(|| {
                            DemoError::Board(format!(
                                "the board refused voter {voter}'s ballot: {e}"
                            ))
                        });
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

/// Verifies the stopped board from its directory with the independent verifier
/// (urne-verify, spec/50), whose refusal ends the demo, and checks that the result it
/// verified is the one the trustees computed.
fn verify_board(
    dir: &std::path::Path,
    context: ContextId,
    result: &TallyResult,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(Box<Verified>, u64), DemoError> {
    let verified = verify::verify_directory_with_progress(dir, progress)?;
    let published = verified
        .elections
        .iter()
        .find(|e| e.context == context)
        .and_then(|e| e.result.as_ref())
        .ok_or_else(|| DemoError::Mismatch("the verified board has no result".into()))?;
    if published != result {
        return Err(DemoError::Mismatch(
            "the verified result is not the one the trustees computed".into(),
        ));
    }
    let entries = verified.entries;
    Ok((Box::new(verified), entries))
}
