//! `urne demo assembly` (spec/40-assembly.md): a 577-member chamber on an embedded
//! board — the roster in eleven groups, a sitting, presence, proxies, four divisions
//! (one suspended and resumed, one voided and rerun), corrections of voting intention,
//! results, and a secret ballot through an election (§40.12) — then the log read back from the store, checked against the board's signed
//! checkpoint, and recounted with one Ed25519 batch (spec/40 §40.11). The recount must
//! equal both the published results and the count the demo kept of what each member
//! meant to vote; any disagreement is an error.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use urne_assembly::body::DivisionEvent;
use urne_assembly::kinds::*;
use urne_assembly::{
    Correction, DEFAULT_PROXY_SECONDS, DivisionOpen, Member, Presence, ProxyGrant, Quorum,
    Recounted, Roster, Rules, SittingState, Vote, VoteChange, parameters_hash, recount,
};
use urne_board::kinds::{CONTEXT_OPEN, CONTEXT_PHASE};
use urne_board::{Board, BoardConfig, ContextId, ContextOpen, ContextType, Kind, Record};
use urne_log::note::{Note, NoteVerifier};
use urne_log::{Checkpoint, leaf_hash};
use zeroize::Zeroizing;

use rayon::prelude::*;

use crate::demo::trustees::{CeremonyBoard, Round, Trustees, decryption_shares};
use crate::demo::{DemoDir, DemoError, random_key};

/// The board's origin in the demo.
pub const DEMO_ORIGIN: &str = "demo.urne.example/assemblee";

/// The groups of the demo chamber and their sizes (577 in all).
pub const GROUPS: [(&str, u32); 11] = [
    ("RN", 88),
    ("EPR", 99),
    ("LFI", 71),
    ("SOC", 66),
    ("DR", 47),
    ("ECO", 38),
    ("DEM", 36),
    ("HOR", 30),
    ("LIOT", 22),
    ("GDR", 17),
    ("NI", 63),
];

/// What the demo is asked to do.
#[derive(Clone, Debug)]
pub struct AssemblyDemoOptions {
    /// Where to put the board; a temporary directory when None.
    pub dir: Option<PathBuf>,
    /// Keep the temporary directory.
    pub keep: bool,
}

/// What the demo did and what the recount found.
pub struct AssemblyDemoOutcome {
    /// Members on the roster.
    pub members: u32,
    /// Group names.
    pub groups: Vec<String>,
    /// Members who registered presence.
    pub present: u32,
    /// Delegations granted.
    pub proxies: u32,
    /// Records the sitting holds.
    pub records: usize,
    /// The divisions, recounted from the log.
    pub divisions: Vec<Recounted>,
    /// The divisions' titles, by number − 1.
    pub titles: Vec<String>,
    /// The election of the secret ballot (the last division).
    pub secret_election: ContextId,
    /// Members who registered a wallet key and voted in it.
    pub secret_voters: usize,
    /// How long the recount of the whole sitting took (batch verification and fold).
    pub recount: Duration,
    /// How long `verify_strict` on each of the sitting's records took, for comparison.
    pub strict_each: Duration,
    /// How long verifying one division's vote signatures alone took, in one batch.
    pub one_division: Duration,
    /// Votes in that division.
    pub one_division_votes: usize,
    /// Time to post everything through the board.
    pub posting: Duration,
    /// The independent verifier's run over the whole log (urne-verify, spec/50): how
    /// long it took and how many divisions its V12 recounted.
    pub independent: Duration,
    /// Divisions (and sittings' items) V12 of the independent verifier checked.
    pub independent_divisions: u64,
    /// Where the board is.
    pub dir: PathBuf,
    /// Whether the directory is removed at the end.
    pub removed: bool,
}

fn key() -> SigningKey {
    let mut seed = Zeroizing::new([0u8; 32]);
    rand::Rng::fill_bytes(&mut rand::rng(), seed.as_mut());
    SigningKey::from_bytes(&seed)
}

struct Sitting<'a> {
    board: &'a Board,
    id: ContextId,
    /// The chamber the sitting belongs to: its rules and roster are posted there.
    chamber: ContextId,
    officer: SigningKey,
    members: Vec<SigningKey>,
    /// The simulated time, which the board's clock reads.
    now: Arc<AtomicU64>,
}

impl Sitting<'_> {
    /// Posts a record in the chamber if it is one of the chamber's kinds, else in the
    /// sitting.
    fn post(&self, kind: Kind, body: &[u8], key: &SigningKey) -> Result<u64, String> {
        let context = if urne_assembly::kinds::CHAMBER.contains(&kind) {
            self.chamber
        } else {
            self.id
        };
        self.post_in(context, kind, body, key)
    }

    fn post_in(
        &self,
        context: ContextId,
        kind: Kind,
        body: &[u8],
        key: &SigningKey,
    ) -> Result<u64, String> {
        let name = urne_assembly::kinds::label(kind);
        let record = Record::sign(context, kind, body, key).map_err(|e| format!("{name}: {e}"))?;
        self.board
            .submit(record.into_bytes())
            .map(|r| r.index)
            .map_err(|e| format!("the board refused {name}: {e}"))
    }

    /// Posts records signed by members, on 32 threads (the board commits concurrent
    /// records in groups). A member's records go through one thread, in order, since
    /// each carries the member's next sequence number (spec/40 §40.2).
    fn post_many(&self, jobs: Vec<(Kind, Vec<u8>, u32)>) -> Result<(), String> {
        const THREADS: u32 = 32;
        let mut parts: Vec<Vec<(Kind, Vec<u8>, u32)>> = vec![Vec::new(); THREADS as usize];
        for job in jobs {
            parts[(job.2 % THREADS) as usize].push(job);
        }
        std::thread::scope(|s| {
            let handles: Vec<_> = parts
                .iter()
                .map(|part| {
                    s.spawn(move || {
                        part.iter().try_for_each(|(kind, body, m)| {
                            self.post(*kind, body, &self.members[*m as usize])
                                .map(|_| ())
                        })
                    })
                })
                .collect();
            handles.into_iter().try_for_each(|h| {
                h.join()
                    .map_err(|_| "a posting thread panicked".to_owned())?
            })
        })
    }

    /// Moves the simulated time on to `time`.
    fn at(&self, time: u64) {
        self.now.store(time, Ordering::Relaxed);
    }

    fn event(&self, kind: Kind, division: u32, time: u64, reason: &str) -> Result<u64, String> {
        self.at(time);
        let body = DivisionEvent {
            division,
            time,
            reason: reason.into(),
        }
        .to_body(kind)
        .map_err(|e| e.to_string())?;
        self.post(kind, &body, &self.officer)
    }

    fn state<R>(&self, read: impl FnOnce(&SittingState) -> R) -> Result<R, String> {
        self.board
            .with_context_state(&self.id, read)
            .ok_or_else(|| "the sitting is not on the board".to_owned())
    }
}

/// When the demo's sitting starts: 15:00 UTC on 30 November 2026.
const DEMO_START: u64 = 1_796_050_800;

/// A division of the demo: its title, and how member m votes (None: does not vote).
struct Plan {
    title: &'static str,
    line: fn(group: usize, member: u32) -> Option<u8>,
}

const PLANS: [Plan; 4] = [
    Plan {
        title: "Projet de loi de finances, article liminaire",
        line: |g, m| {
            Some(if g % 3 == 1 {
                0
            } else if m % 11 == 0 {
                2
            } else {
                1
            })
        },
    },
    Plan {
        title: "Amendement n° 1337 à l'article 3",
        line: |g, m| (m % 7 != 0).then_some(if g < 4 { 0 } else { 1 }),
    },
    Plan {
        title: "Article 3 (scrutin annulé pour incident technique)",
        line: |_, m| (m % 2 == 0).then_some(0),
    },
    Plan {
        title: "Article 3 (nouveau scrutin)",
        line: |g, m| Some(if g % 2 == 0 || m % 5 == 0 { 0 } else { 1 }),
    },
];

/// Runs the demo.
pub fn run(options: &AssemblyDemoOptions) -> Result<AssemblyDemoOutcome, String> {
    let dir = DemoDir::new(options.dir.as_deref(), options.keep).map_err(|e| e.to_string())?;
    let mut board_seed = Zeroizing::new([0u8; 32]);
    rand::Rng::fill_bytes(&mut rand::rng(), board_seed.as_mut());
    let officer = key();
    let clerk = key();
    let config = BoardConfig::new(
        DEMO_ORIGIN,
        board_seed,
        vec![officer.verifying_key().to_bytes()],
        Vec::new(),
    );
    // The sitting runs on a simulated afternoon: the board's clock is the demo's, so the
    // declared times pass the board's skew check (spec/40 §40.2) without waiting.
    let now = Arc::new(AtomicU64::new(DEMO_START));
    let clock: urne_board::assembly::Clock = {
        let now = now.clone();
        Arc::new(move || now.load(Ordering::Relaxed))
    };
    let mut registry = urne_board::Registry::with_builtin();
    urne_board::assembly::register_sittings(&mut registry, &clock)?;
    // The secret ballot's election.
    registry.register_context(Arc::new(urne_board::election::ElectionMachine))?;
    for kind in urne_election::kinds::ALL {
        registry.register(Arc::new(urne_board::election::ElectionKind::new(kind)))?;
    }
    let (board, _) = Board::open(&dir.path().join("board"), config, registry)
        .map_err(|e| format!("opening the board: {e}"))?;
    let started = Instant::now();

    let mut group_of = Vec::new();
    for (g, (_, size)) in GROUPS.iter().enumerate() {
        group_of.extend(std::iter::repeat_n(g, *size as usize));
    }
    let n = group_of.len() as u32;
    let rules = Rules {
        clerk: clerk.verifying_key().to_bytes(),
        quorum: Quorum::Fraction { num: 1, den: 2 },
        proxies_count_for_quorum: false,
        vote_change: VoteChange::FinalOnFirstCast,
        max_proxies_held: 1,
        proxies_in_secret_ballots: false,
        // Fixed before any division (spec/40 §40.3): three trustees, two to decrypt;
        // a secret ballot's vote opens only with 50 registrants or more, so a ballot
        // hides among at least 50 members, not among two who read each other's vote off
        // the tally.
        secret: urne_assembly::SecretRules {
            trustees: SECRET_TRUSTEES,
            threshold: SECRET_THRESHOLD,
            min_registrants: SECRET_MIN_REGISTRANTS,
        },
    };
    let mut nonce = [0u8; 16];
    rand::Rng::fill_bytes(&mut rand::rng(), &mut nonce);
    let chamber_open = ContextOpen {
        context_type: urne_assembly::CHAMBER_CONTEXT,
        nonce,
        name: "Assemblée nationale, XVIIe législature".into(),
        parameters: parameters_hash(&rules.to_body()),
    }
    .to_body()
    .map_err(|e| e.to_string())?;
    let chamber = ContextId::derive(&officer.verifying_key().to_bytes(), &chamber_open);
    let open = ContextOpen {
        context_type: ContextType::SITTING,
        nonce,
        name: "Assemblée nationale, séance publique".into(),
        parameters: chamber.0,
    };
    let open_body = open.to_body().map_err(|e| e.to_string())?;
    let id = ContextId::derive(&officer.verifying_key().to_bytes(), &open_body);
    let sitting = Sitting {
        board: &board,
        id,
        chamber,
        officer: officer.clone(),
        members: (0..n).map(|_| key()).collect(),
        now,
    };
    sitting.post_in(chamber, CONTEXT_OPEN, &chamber_open, &officer)?;
    sitting.post(CHAMBER_RULES, &rules.to_body(), &officer)?;
    let roster = Roster {
        version: 1,
        groups: GROUPS.iter().map(|(g, _)| (*g).to_owned()).collect(),
        members: sitting
            .members
            .iter()
            .enumerate()
            .map(|(m, k)| Member {
                key: k.verifying_key().to_bytes(),
                group: group_of[m] as u16,
                name: format!("Député·e {:03}", m + 1),
            })
            .collect(),
    };
    sitting.post(
        ROSTER_MEMBERS,
        &roster.to_body().map_err(|e| e.to_string())?,
        &clerk,
    )?;
    sitting.post_in(chamber, CONTEXT_PHASE, &[1], &officer)?;
    sitting.post_in(id, CONTEXT_OPEN, &open_body, &officer)?;
    sitting.post(CONTEXT_PHASE, &[1], &officer)?;

    // Presence: every member but one in ten; of the absent, those with an even number
    // give a proxy to the next member, who is present.
    let absent = |m: u32| m % 10 == 9;
    // Each member's last sequence number in the sitting (spec/40 §40.2).
    let mut sequences = vec![0u32; n as usize];
    let mut next = |m: u32| {
        let s = &mut sequences[m as usize];
        *s += 1;
        *s
    };
    let mut presences = Vec::new();
    for m in (0..n).filter(|&m| !absent(m)) {
        let body = Presence {
            sequence: next(m),
            roster_version: 1,
            present: true,
        }
        .to_body();
        presences.push((PRESENCE, body, m));
    }
    sitting.post_many(presences)?;
    let delegate_of = |m: u32| (absent(m) && m % 20 == 19 && m + 1 < n).then_some(m + 1);
    let mut proxies = 0;
    for m in 0..n {
        if let Some(d) = delegate_of(m) {
            let body = ProxyGrant {
                sequence: next(m),
                roster_version: 1,
                delegate: d,
                seconds: DEFAULT_PROXY_SECONDS,
                reason: "mission à l'étranger".into(),
            }
            .to_body()
            .map_err(|e| e.to_string())?;
            sitting.post(PROXY_GRANT, &body, &sitting.members[m as usize])?;
            proxies += 1;
        }
    }

    // The divisions. Declared times: the officer's clock, from 15:00 UTC on the day.
    let mut time: u64 = DEMO_START;
    let mut expected: Vec<Vec<u32>> = Vec::new();
    for (i, plan) in PLANS.iter().enumerate() {
        let division = i as u32 + 1;
        // Division 4 reruns division 3: the same text, so the same hash (spec/40 §40.7).
        let text = match division {
            3 | 4 => "Article 3 du projet de loi",
            _ => plan.title,
        };
        let text_hash: [u8; 32] = {
            use sha2::{Digest, Sha256};
            Sha256::digest(text.as_bytes()).into()
        };
        time += 60;
        let open = DivisionOpen {
            division,
            time,
            text_hash,
            roster_version: 1,
            window: 120,
            secret: false,
            election: None,
            reruns: if division == 4 { 3 } else { 0 },
            choices: vec!["pour".into(), "contre".into(), "abstention".into()],
        };
        sitting.at(time);
        sitting.post(
            DIVISION_OPEN,
            &open.to_body().map_err(|e| e.to_string())?,
            &officer,
        )?;
        let mut counts = vec![0u32; 3];
        let mut votes = Vec::new();
        for m in 0..n {
            let Some(choice) = (plan.line)(group_of[m as usize], m) else {
                continue;
            };
            let (signer, on_behalf) = if absent(m) {
                match delegate_of(m) {
                    Some(d) => (d, Some(m)),
                    None => continue,
                }
            } else {
                (m, None)
            };
            counts[usize::from(choice)] += 1;
            let body = Vote {
                sequence: next(signer),
                division,
                text_hash,
                roster_version: 1,
                choice,
                on_behalf,
            }
            .to_body();
            votes.push((VOTE, body, signer));
        }
        if division == 2 {
            // A suspension halfway through (a point of order), then the rest.
            let rest = votes.split_off(votes.len() / 2);
            sitting.post_many(votes)?;
            sitting.event(DIVISION_SUSPEND, division, time + 30, "")?;
            sitting.event(DIVISION_RESUME, division, time + 90, "")?;
            sitting.post_many(rest)?;
            time += 90;
        } else {
            sitting.post_many(votes)?;
        }
        time += 120;
        if division == 3 {
            sitting.event(DIVISION_VOID, division, time, "panne du système de vote")?;
            expected.push(vec![0; 3]);
            continue;
        }
        sitting.event(DIVISION_CLOSE, division, time, "")?;
        if division == 1 {
            // Two members state they meant otherwise: recorded, not counted.
            for m in [3u32, 4] {
                let body = Correction {
                    sequence: next(m),
                    division,
                    choice: 0,
                    note: "mise au point : je voulais voter pour".into(),
                }
                .to_body()
                .map_err(|e| e.to_string())?;
                sitting.post(VOTE_CORRECTION, &body, &sitting.members[m as usize])?;
            }
        }
        let result = sitting.state(|s| s.division(division).map(|d| d.count()))?;
        let result = result.ok_or("a division the board does not have")?;
        sitting.post(
            DIVISION_RESULT,
            &result.to_body().map_err(|e| e.to_string())?,
            &officer,
        )?;
        expected.push(counts);
    }
    // The secret ballot: the committee chair, elected among three candidates by the
    // members present, through an election whose trustees are three members.
    let division = PLANS.len() as u32 + 1;
    let voters: Vec<u32> = (0..n).filter(|&m| !absent(m)).collect();
    let (election, counts) = secret_ballot(
        &sitting, &officer, division, &mut time, &voters, &group_of, &mut next,
    )?;
    expected.push(counts);
    sitting.post(CONTEXT_PHASE, &[2], &officer)?;
    let posting = started.elapsed();
    let present = (0..n).filter(|&m| !absent(m)).count() as u32;

    // The verification: the log from the store, under the board's signed checkpoint.
    board
        .sign_checkpoint()
        .map_err(|e| format!("signing the checkpoint: {e}"))?;
    let checkpoint = board.checkpoint().ok_or("the board signed no checkpoint")?;
    let vkey = board.vkey();
    let size = board.store().size();
    let mut log = Vec::with_capacity(size as usize);
    for i in 0..size {
        let bytes = board
            .store()
            .entry(i)
            .map_err(|e| format!("reading entry {i}: {e}"))?;
        log.push((
            i,
            Record::parse(bytes).map_err(|e| format!("entry {i}: {e}"))?,
        ));
    }
    drop(board);
    check_checkpoint(&log, &checkpoint, &vkey)?;

    // The independent verifier over the whole log, as an observer would run it: its
    // refusal ends the demo, and it must have recounted the sitting, not skipped it.
    let t = Instant::now();
    let entries: Vec<Vec<u8>> = log.iter().map(|(_, r)| r.bytes().to_vec()).collect();
    let independently = crate::demo::verify::verify_log(&entries, &checkpoint, &vkey)
        .map_err(|e| format!("VERIFICATION FAILED (urne-verify): {e}"))?;
    let independent = t.elapsed();
    if !independently.report.not_recounted.is_empty() {
        return Err(format!(
            "VERIFICATION INCOMPLETE: urne-verify did not recount {:?}",
            independently.report.not_recounted
        ));
    }
    let independent_divisions = independently
        .report
        .steps
        .iter()
        .find(|s| s.step == urne_verify::Step::Divisions)
        .map_or(0, |s| s.checked);
    if independent_divisions == 0 {
        return Err("VERIFICATION INCOMPLETE: urne-verify's V12 checked no division".into());
    }

    let t = Instant::now();
    let divisions = recount(id, &log).map_err(|v| format!("VERIFICATION FAILED: {v}"))?;
    let recount_time = t.elapsed();
    // The secret ballot's election, replayed through the election's own fold (its
    // ceremony, snapshot, every ring signature and ballot proof — batched across cores —,
    // the decryption shares, the tally): the recount above tied its eligibility,
    // snapshot, trustees and counts to the sitting.
    let mut replay = urne_election::Replay::new(election, DEMO_ORIGIN).deferring_casts();
    for (index, record) in log.iter().filter(|(_, r)| r.context() == election) {
        replay
            .feed(*index, record)
            .map_err(|f| format!("VERIFICATION FAILED: the secret ballot's election: {f}"))?;
    }
    let deferred = replay.take_deferred();
    if let Some(f) = urne_election::verify_deferred_casts(&deferred, &|_| {}).first() {
        return Err(format!(
            "VERIFICATION FAILED: the secret ballot's election: {f}"
        ));
    }
    let tallied = replay
        .state()
        .and_then(|s| s.result())
        .ok_or("VERIFICATION FAILED: the secret ballot's election has no verified tally")?;
    let secret_counts: Vec<u64> = tallied.counts.first().cloned().unwrap_or_default();
    let t = Instant::now();
    for (index, record) in &log {
        record
            .verify_signature()
            .map_err(|e| format!("VERIFICATION FAILED: entry {index}: {e}"))?;
    }
    let strict_each = t.elapsed();
    // One division alone: its votes' signatures in one batch, then the fold.
    let one: Vec<(u64, Record)> = log
        .iter()
        .filter(|(_, r)| r.kind() == VOTE && vote_division(r) == Some(1))
        .cloned()
        .collect();
    let t = Instant::now();
    one_division_batch(&one)?;
    let one_division = t.elapsed();

    for (d, recounted) in divisions.iter().enumerate() {
        let division = d as u32 + 1;
        let want = expected.get(d).ok_or("more divisions than the demo held")?;
        if division != 3 {
            if &recounted.result.counts != want {
                return Err(format!(
                    "RESULT MISMATCH: division {division}: recount {:?}, the demo's own count {want:?}",
                    recounted.result.counts
                ));
            }
            if recounted.published_at.is_none() {
                return Err(format!("division {division} has no published result"));
            }
        }
    }
    let secret_want = expected.last().ok_or("no secret ballot")?;
    let verified: Vec<u64> = secret_want.iter().map(|&c| u64::from(c)).collect();
    if secret_counts != verified {
        return Err(format!(
            "RESULT MISMATCH: the secret ballot's verified tally {secret_counts:?}, the demo's own count {secret_want:?}"
        ));
    }
    let mut titles: Vec<String> = PLANS.iter().map(|p| p.title.to_owned()).collect();
    titles.push(SECRET_TITLE.to_owned());
    Ok(AssemblyDemoOutcome {
        members: n,
        groups: GROUPS.iter().map(|(g, _)| (*g).to_owned()).collect(),
        present,
        proxies,
        records: log.iter().filter(|(_, r)| r.context() == id).count(),
        divisions,
        titles,
        secret_election: election,
        secret_voters: voters.len(),
        recount: recount_time,
        strict_each,
        one_division,
        one_division_votes: one.len(),
        posting,
        independent,
        independent_divisions,
        dir: dir.path().to_owned(),
        removed: dir.removed_at_end(),
    })
}

/// The secret ballot's question and candidates.
/// The demo chamber's secret ballots (its rules, spec/40 §40.3): trustees drawn, how
/// many decrypt, and the fewest registrants for the vote to open.
const SECRET_TRUSTEES: u8 = 3;
const SECRET_THRESHOLD: u8 = 2;
const SECRET_MIN_REGISTRANTS: u32 = 50;
const SECRET_TITLE: &str = "Élection du président de la commission des lois (scrutin secret)";
const CANDIDATES: [&str; 3] = ["Mme Ada Lovelace", "M. Alan Turing", "Mme Grace Hopper"];

/// Where the secret ballot's election records go: the embedded board.
struct ElectionPoster<'a> {
    board: &'a Board,
    election: ContextId,
    officer: &'a SigningKey,
}

impl ElectionPoster<'_> {
    fn post(&self, kind: Kind, body: &[u8], key: &SigningKey) -> Result<u64, String> {
        let name = urne_election::kinds::name(kind).unwrap_or("record");
        let record =
            Record::sign(self.election, kind, body, key).map_err(|e| format!("{name}: {e}"))?;
        self.board
            .submit(record.into_bytes())
            .map(|r| r.index)
            .map_err(|e| format!("the board refused {name}: {e}"))
    }

    fn move_to(&self, phase: urne_election::Phase) -> Result<(), String> {
        self.post(CONTEXT_PHASE, &[phase.code()], self.officer)
            .map(|_| ())
    }
}

impl CeremonyBoard for ElectionPoster<'_> {
    fn begin_round(&mut self, round: Round) -> Result<(), DemoError> {
        // The complaint round ends when the authority says so (no complaint came).
        if round == Round::Answer {
            let close = urne_election::CloseRound {
                round: urne_election::round::COMPLAIN,
            };
            ElectionPoster::post(
                self,
                urne_election::kinds::CEREMONY_CLOSE_ROUND,
                &close.to_body(),
                self.officer,
            )
            .map_err(DemoError::Board)?;
        }
        Ok(())
    }
    fn post(&mut self, round: Round, trustee: &SigningKey, body: Vec<u8>) -> Result<(), DemoError> {
        use urne_election::kinds as k;
        let kind = match round {
            Round::Register => k::CEREMONY_REGISTER,
            Round::CommitmentHash => k::CEREMONY_COMMITMENT_HASH,
            Round::Commitments => k::CEREMONY_COMMITMENTS,
            Round::Shares => k::CEREMONY_SHARES,
            Round::Complaint => k::CEREMONY_COMPLAINT,
            Round::Answer => k::CEREMONY_ANSWER,
        };
        ElectionPoster::post(self, kind, &body, trustee)
            .map(|_| ())
            .map_err(DemoError::Board)
    }
}

/// The secret ballot of spec/40 §40.12, as division `division`: the presiding officer
/// opens an anonymous election whose one contest offers the candidates, with the
/// division's registry and themself as its one registrar, then the division naming it;
/// each member present registers a fresh wallet key on the sitting; after the close,
/// three members run the key ceremony as trustees and the officer posts the snapshot of
/// exactly the registered keys, in one bucket; each member casts an encrypted ballot
/// ring-signed over that bucket (its credential field a tag no one can tie to the
/// member); two of the trustees decrypt the tally; the division's result is the tally's
/// counts. Returns the election and the count the demo kept in the clear.
fn secret_ballot(
    sitting: &Sitting<'_>,
    officer: &SigningKey,
    division: u32,
    time: &mut u64,
    voters: &[u32],
    group_of: &[usize],
    next: &mut impl FnMut(u32) -> u32,
) -> Result<(ContextId, Vec<u32>), String> {
    use urne_ballot::{Contest, ContestKind, ContextInputs, Election, Manifest, TrackingCode};
    use urne_election::anonymous::Eligibility;
    use urne_election::anonymous::{
        AnonymousCast, AnonymousSignature, credential_of_tag, sign_ballot, tag_for,
    };
    use urne_election::{ManifestRecord, Phase, kinds as ek};

    let contest = Contest {
        title: SECRET_TITLE.to_owned(),
        kind: ContestKind::SingleChoice,
        blank: false,
        options: CANDIDATES.map(str::to_owned).to_vec(),
    };
    let manifest = Manifest::new(SECRET_TITLE, vec![contest]).map_err(|e| e.to_string())?;
    // Fixed before anyone registers: the registry the division's snapshot must be of,
    // and who vouches for it (§40.12). One bucket; the floor of registered keys is the
    // chamber's (§40.3), which the recount holds the election to: a division where
    // fewer registered cannot open its vote.
    let manifest_record = ManifestRecord {
        manifest: manifest.clone(),
        eligibility: Some(Eligibility {
            // The one bucket must be able to hold the floor's keys.
            min_bucket_bits: urne_assembly::secret::bucket_bits_for(
                SECRET_MIN_REGISTRANTS as usize,
            )
            .ok_or("the floor of registrants does not fit one bucket")?,
            min_real_keys: SECRET_MIN_REGISTRANTS,
            min_snapshot: 1,
            registry: urne_assembly::secret::registry_id(sitting.id, division),
            registrars: urne_assembly::secret::registrars(officer.verifying_key()),
        }),
    };
    let mut nonce = [0u8; 16];
    rand::Rng::fill_bytes(&mut rand::rng(), &mut nonce);
    let open = ContextOpen {
        context_type: ContextType::ELECTION,
        nonce,
        name: SECRET_TITLE.to_owned(),
        parameters: manifest_record.parameters_hash(),
    }
    .to_body()
    .map_err(|e| e.to_string())?;
    let election = ContextId::derive(&officer.verifying_key().to_bytes(), &open);
    let mut poster = ElectionPoster {
        board: sitting.board,
        election,
        officer,
    };
    poster.post(CONTEXT_OPEN, &open, officer)?;
    poster.post(ek::ELECTION_MANIFEST, &manifest_record.to_body(), officer)?;

    *time += 60;
    let text_hash: [u8; 32] = {
        use sha2::{Digest, Sha256};
        Sha256::digest(SECRET_TITLE.as_bytes()).into()
    };
    let opened = DivisionOpen {
        division,
        time: *time,
        text_hash,
        roster_version: 1,
        window: 120,
        secret: true,
        election: Some(election.0),
        reruns: 0,
        choices: CANDIDATES.map(str::to_owned).to_vec(),
    };
    sitting.at(*time);
    sitting.post(
        DIVISION_OPEN,
        &opened.to_body().map_err(|e| e.to_string())?,
        officer,
    )?;

    // Each member's device draws a wallet secret r for this division and registers
    // K = r·G, signed by the member's key: who registered is public, r never leaves
    // the device.
    let secrets: Vec<urne_crypto::SecretScalar> = voters
        .iter()
        .map(|_| urne_crypto::SecretScalar::random(&mut rand::rng()))
        .collect();
    let wallet_keys: Vec<urne_crypto::Point> =
        secrets.par_iter().map(|r| r.times_basepoint()).collect();
    let registrations = voters
        .iter()
        .zip(&wallet_keys)
        .map(|(&m, key)| {
            let body = urne_assembly::CredentialRegistration {
                sequence: next(m),
                division,
                credential: key.to_bytes(),
                on_behalf: None,
            }
            .to_body();
            (SECRET_CREDENTIAL, body, m)
        })
        .collect();
    sitting.post_many(registrations)?;

    // Registrations end at the close, and the snapshot comes after it: it is the
    // registrations as they stand there, fixed (§40.12).
    *time += 120;
    sitting.event(DIVISION_CLOSE, division, *time, "")?;

    // Trustees drawn from the chamber by the public draw over the registered keys and
    // the members in force at the close (§40.12 step 3; the demo revokes no one): the
    // first n members of its order, t needed to decrypt, n and t the chamber's rules.
    // The officer chooses neither who nor how many.
    poster.move_to(Phase::Ceremony)?;
    let registered: Vec<[u8; 32]> = wallet_keys.iter().map(|k| k.to_bytes()).collect();
    let seed = urne_assembly::secret::trustee_seed(sitting.id, division, &registered);
    let candidates: Vec<[u8; 32]> = sitting
        .members
        .iter()
        .map(|k| k.verifying_key().to_bytes())
        .collect();
    let drawn = urne_assembly::secret::trustee_order(&seed, &candidates);
    let trustees = Trustees::with_identities(
        drawn
            .iter()
            .take(usize::from(SECRET_TRUSTEES))
            .filter_map(|key| candidates.iter().position(|c| c == key))
            .map(|m| sitting.members[m].clone())
            .collect(),
        u16::from(SECRET_THRESHOLD),
    );
    let ceremony = trustees.open().map_err(|e| e.to_string())?;
    poster.post(ek::CEREMONY_OPEN, &ceremony.encode(), officer)?;
    let (keys, outcome) = trustees
        .run_ceremony(election.0, &mut poster)
        .map_err(|e| e.to_string())?;

    poster.move_to(Phase::Registration)?;
    let snapshot = urne_assembly::secret::snapshot(sitting.id, division, officer, &wallet_keys)
        .map_err(|e| format!("the division's snapshot: {e}"))?;
    poster.post(
        ek::ELECTION_SNAPSHOT,
        &snapshot.signed().to_bytes(),
        officer,
    )?;
    for part in snapshot.parts() {
        poster.post(ek::ELECTION_SNAPSHOT_PART, &part.to_bytes(), officer)?;
    }
    poster.move_to(Phase::Voting)?;
    let snapshot_id = snapshot.id();
    let ballot_election = Election::new(ContextInputs {
        manifest: &manifest,
        joint_key: &outcome.joint_key,
        credential_root: &snapshot_id,
        board_origin: DEMO_ORIGIN,
        context_id: &election.0,
    })
    .map_err(|e| e.to_string())?;

    // Each member votes by the line of their group; the demo keeps the count in the clear
    // to compare with the verified tally.
    let mut counts = vec![0u32; CANDIDATES.len()];
    let choices: Vec<usize> = voters
        .iter()
        .map(|&m| (group_of[m as usize] + m as usize % 4) % CANDIDATES.len())
        .collect();
    for &c in &choices {
        counts[c] += 1;
    }
    let ballots = secrets
        .par_iter()
        .zip(&choices)
        .enumerate()
        .map(|(voter, (secret, &choice))| {
            let mut rng = rand::rng();
            let position = snapshot
                .position(&wallet_keys[voter])
                .ok_or("a registered key missing from the snapshot")?;
            let tag = credential_of_tag(&tag_for(secret, &snapshot_id, &election.0));
            let selection = urne_ballot::ContestSelection::approve(CANDIDATES.len(), &[choice])
                .ok_or("a choice that is no candidate")?;
            let (ballot, _) =
                urne_ballot::Ballot::encrypt(&ballot_election, &tag, &[selection], &mut rng)
                    .map_err(|e| e.to_string())?;
            let code = TrackingCode::of(&ballot);
            let signature = sign_ballot(
                &mut rng,
                secret,
                &snapshot,
                position,
                &election.0,
                urne_election::Decision::Cast,
                &code,
            )
            .map_err(|e| e.to_string())?;
            let body =
                AnonymousCast::new(ballot, AnonymousSignature::new(position.bucket, &signature))
                    .to_body();
            // A fresh key per ballot signs the envelope, and the body names no member:
            // its credential is a tag and its signature hides the key among all who
            // registered (spec/40 §40.12).
            Record::sign(election, ek::BALLOT_CAST, &body, &random_key())
                .map(Record::into_bytes)
                .map_err(|e| e.to_string())
        })
        .collect::<Result<Vec<_>, String>>()?;
    ballots.par_iter().try_for_each(|bytes| {
        sitting
            .board
            .submit(bytes.clone())
            .map(|_| ())
            .map_err(|e| format!("the board refused a secret ballot: {e}"))
    })?;

    // The tally: the sealed sums from the election's fold, two of the three trustees
    // decrypt them.
    poster.move_to(Phase::Closed)?;
    poster.move_to(Phase::Tallying)?;
    let replayed = crate::demo::anonymous::replay(sitting.board, election, DEMO_ORIGIN)
        .map_err(|e| e.to_string())?;
    let state = replayed.state().ok_or("the election is not on the board")?;
    let sealed = state.sealed().ok_or("the election never opened voting")?;
    let ciphertexts = sealed
        .tally_ciphertexts()
        .ok_or("the election has no sealed tally")?
        .to_vec();
    for key in keys.iter().take(2) {
        let share = decryption_shares(key, sealed.election().context(), &ciphertexts)
            .map_err(|e| e.to_string())?;
        let identity = trustees
            .identity(share.trustee)
            .ok_or("a trustee without an identity")?;
        poster.post(ek::TALLY_DECRYPTION_SHARES, &share.encode(), identity)?;
    }
    let result = crate::demo::anonymous::replay(sitting.board, election, DEMO_ORIGIN)
        .map_err(|e| e.to_string())?
        .state()
        .ok_or("the election is not on the board")?
        .decrypt_result()
        .map_err(|e| e.to_string())?;
    poster.post(ek::TALLY_RESULT, &result.to_bytes(), officer)?;
    poster.move_to(Phase::Published)?;

    // The division's result is the tally's counts.
    let mut published = sitting
        .state(|s| s.division(division).map(|d| d.count()))?
        .ok_or("the board has no secret division")?;
    published.counts = result
        .counts
        .first()
        .ok_or("a tally without a contest")?
        .iter()
        .map(|&c| u32::try_from(c).map_err(|_| "a count beyond u32".to_owned()))
        .collect::<Result<_, _>>()?;
    sitting.post(
        DIVISION_RESULT,
        &published.to_body().map_err(|e| e.to_string())?,
        officer,
    )?;
    Ok((election, counts))
}

fn vote_division(record: &Record) -> Option<u32> {
    match urne_assembly::decode(VOTE, record.body())? {
        Ok(urne_assembly::Decoded::Vote(v)) => Some(v.division),
        _ => None,
    }
}

fn one_division_batch(votes: &[(u64, Record)]) -> Result<(), String> {
    let messages: Vec<Vec<u8>> = votes.iter().map(|(_, r)| r.signed_message()).collect();
    let items: Vec<urne_assembly::batch::Item<'_>> = votes
        .iter()
        .zip(&messages)
        .map(|((_, r), message)| urne_assembly::batch::Item {
            message,
            key: *r.signer(),
            signature: r.signature(),
        })
        .collect();
    urne_assembly::batch::verify(&items)
        .map_err(|at| format!("VERIFICATION FAILED: vote {} does not verify", votes[at].0))
}

/// Checks that the records are exactly the log the board's checkpoint signs (also the
/// petition commands' check of what the board serves).
pub fn check_checkpoint(log: &[(u64, Record)], checkpoint: &str, vkey: &str) -> Result<(), String> {
    let verifier = NoteVerifier::from_vkey(vkey).map_err(|e| format!("the board key: {e}"))?;
    let note = Note::parse(checkpoint.as_bytes()).map_err(|e| e.to_string())?;
    let checkpoint = Checkpoint::open(&note, &verifier)
        .map_err(|e| format!("VERIFICATION FAILED: checkpoint not signed by the board: {e}"))?;
    if checkpoint.size() != log.len() as u64 {
        return Err(format!(
            "VERIFICATION FAILED: the checkpoint signs {} entries, the store has {}",
            checkpoint.size(),
            log.len()
        ));
    }
    let leaves: Vec<_> = log.iter().map(|(_, r)| leaf_hash(r.bytes())).collect();
    if urne_log::hash::root_of(&leaves) != *checkpoint.root() {
        return Err("VERIFICATION FAILED: the entries do not hash to the signed root".into());
    }
    Ok(())
}
