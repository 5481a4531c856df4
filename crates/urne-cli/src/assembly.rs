//! `urne demo assembly` (spec/40-assembly.md): a 577-member chamber on an embedded
//! board — the roster in eleven groups, a sitting, presence, proxies, four divisions
//! (one suspended and resumed, one voided and rerun), corrections of voting intention,
//! results — then the log read back from the store, checked against the board's signed
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

use crate::demo::DemoDir;

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

    let t = Instant::now();
    let divisions = recount(id, &log).map_err(|v| format!("VERIFICATION FAILED: {v}"))?;
    let recount_time = t.elapsed();
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
    Ok(AssemblyDemoOutcome {
        members: n,
        groups: GROUPS.iter().map(|(g, _)| (*g).to_owned()).collect(),
        present,
        proxies,
        records: log.iter().filter(|(_, r)| r.context() == id).count(),
        divisions,
        titles: PLANS.iter().map(|p| p.title.to_owned()).collect(),
        recount: recount_time,
        strict_each,
        one_division,
        one_division_votes: one.len(),
        posting,
        dir: dir.path().to_owned(),
        removed: dir.removed_at_end(),
    })
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
