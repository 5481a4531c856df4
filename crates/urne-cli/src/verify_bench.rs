//! `urne bench verify`: the independent verifier (urne-verify) on a synthesized board of N
//! ballots of one 10-option approval contest, tallied and published, on one thread and on
//! two; and in the same run the crypto floor it is measured against (issue 8's target).
//!
//! The floor is what verifying the ballots' proofs alone costs: each `ballot.cast` body
//! decoded (every point's strict decoding), its validity and signature equations built and
//! pushed into one batch of urne-election's `BALLOTS_PER_BATCH`, each batch checked with
//! one multiscalar multiplication; on one thread and on two. The verifier does that and
//! everything else (the tree, every envelope's Ed25519 signature, the fold, the ceremony,
//! the aggregation and the result): the ratio says what the rest costs.

use std::time::{Duration, Instant};

use rand::RngExt;
use rayon::prelude::*;
use urne_ballot::{Contest, ContestKind, Manifest};
use urne_crypto::BatchVerifier;
use urne_election::{BALLOTS_PER_BATCH, CastBallot, DeferredCast, Replay};
use urne_log::note::{Note, NoteSigner};
use urne_log::{Checkpoint, Hash, leaf_hash};
use urne_record::Record;
use urne_verify::{Archive, Options, Quiet, Report};

use crate::demo::progress::{StageTime, Stages};
use crate::demo::voters::{BallotRole, Choice, encrypt_one};
use crate::demo::{
    BoardLog, DemoError, UncheckedLog, ballot_record, open_for_voting, random_key, tally,
};
use crate::measure::{load_average, machine};

const ORIGIN: &str = "bench.urne.local/verify";
/// Options of the approval contest (issue 8's target is stated for 10).
pub const OPTIONS: usize = 10;

/// One measured run on `threads` threads.
#[derive(Clone, Debug)]
pub struct Timing {
    /// Threads of the rayon pool.
    pub threads: usize,
    /// Wall time.
    pub elapsed: Duration,
}

impl Timing {
    /// Ballots per second.
    pub fn per_second(&self, ballots: usize) -> f64 {
        ballots as f64 / self.elapsed.as_secs_f64()
    }

    /// Milliseconds of one core per ballot (wall time × threads / ballots).
    pub fn core_ms_per_ballot(&self, ballots: usize) -> f64 {
        self.elapsed.as_secs_f64() * 1000.0 * self.threads as f64 / ballots as f64
    }
}

/// What `urne bench verify` measured.
#[derive(Clone, Debug)]
pub struct VerifyBenchReport {
    /// CPU and cores.
    pub machine: String,
    /// Load averages before and after.
    pub load: (String, String),
    /// Ballots on the board.
    pub ballots: usize,
    /// Entries on the board.
    pub entries: usize,
    /// The set-up stages (not measured against the target).
    pub stages: Vec<StageTime>,
    /// The whole verification, per thread count.
    pub verify: Vec<Timing>,
    /// The floor, per thread count.
    pub floor: Vec<Timing>,
    /// The report of the last verification (it must pass).
    pub report: Report,
    /// The floor taken apart, on one thread.
    pub breakdown: Breakdown,
}

/// The floor's parts on one thread, over the first `sample` ballots (their equations are
/// all held in memory at once, so not over 100,000): strict decoding of the bodies,
/// building each ballot's equations, and the multiscalar multiplications at several batch
/// sizes (issue 8: Pippenger's cost per point falls with the batch).
#[derive(Clone, Debug)]
pub struct Breakdown {
    /// Ballots measured.
    pub sample: usize,
    /// Points of each ballot's own in the MSM (shared bases and G not counted).
    pub points_per_ballot: f64,
    /// Decoding every body (every point decompressed and checked).
    pub decode: Duration,
    /// Building every ballot's equations from its decoded proofs.
    pub relations: Duration,
    /// The batches' verification alone, per batch size.
    pub msm: Vec<(usize, Duration)>,
}

/// Batch sizes the breakdown measures.
pub const BATCH_SIZES: [usize; 3] = [64, 256, 1024];
/// Ballots the breakdown takes at most.
const BREAKDOWN_SAMPLE: usize = 10_000;

/// Decoding, equations and the MSM at each batch size, each on its own, on the current
/// thread.
fn breakdown(casts: &[(Vec<u8>, DeferredCast)]) -> Result<Breakdown, String> {
    let sample = &casts[..casts.len().min(BREAKDOWN_SAMPLE)];
    let started = Instant::now();
    let decoded = sample
        .iter()
        .map(|(body, _)| CastBallot::decode(body).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    let decode = started.elapsed();
    let started = Instant::now();
    let relations = sample
        .iter()
        .zip(&decoded)
        .map(|((_, deferred), cast)| {
            deferred
                .sealed
                .precheck_cast(cast)
                .map_err(|e| e.to_string())
        })
        .collect::<Result<Vec<_>, _>>()?;
    let built = started.elapsed();
    let points: usize = relations
        .iter()
        .map(urne_crypto::Relations::local_points)
        .sum();
    let mut msm = Vec::new();
    for size in BATCH_SIZES {
        let batches: Vec<BatchVerifier<usize>> = relations
            .chunks(size)
            .map(|chunk| {
                let mut batch = BatchVerifier::with_capacity(chunk.len());
                for (i, r) in chunk.iter().enumerate() {
                    batch.push(i, Ok(r.clone()));
                }
                batch
            })
            .collect();
        let started = Instant::now();
        for batch in batches {
            batch
                .verify(&mut rand::rng())
                .map_err(|_| "a ballot of the breakdown does not verify".to_owned())?;
        }
        msm.push((size, started.elapsed()));
    }
    Ok(Breakdown {
        sample: sample.len(),
        points_per_ballot: points as f64 / sample.len().max(1) as f64,
        decode,
        relations: built,
        msm,
    })
}

fn manifest() -> Result<Manifest, DemoError> {
    Manifest::new(
        "urne bench verify",
        vec![Contest {
            title: format!("{OPTIONS}-option approval"),
            kind: ContestKind::Approval {
                min: 0,
                max: OPTIONS as u16,
            },
            blank: false,
            options: (0..OPTIONS).map(|i| format!("option {i}")).collect(),
        }],
    )
    .map_err(|e| DemoError::Setup(e.to_string()))
}

fn pool(threads: usize) -> Result<rayon::ThreadPool, DemoError> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| DemoError::Setup(format!("a pool of {threads} threads: {e}")))
}

/// The floor: decode every cast body, build its equations, verify in batches.
fn floor(casts: &[(Vec<u8>, DeferredCast)]) -> Result<(), String> {
    casts.par_chunks(BALLOTS_PER_BATCH).try_for_each(|chunk| {
        let mut batch = BatchVerifier::with_capacity(chunk.len());
        for (i, (body, deferred)) in chunk.iter().enumerate() {
            let cast = CastBallot::decode(body).map_err(|e| e.to_string())?;
            let relations = deferred
                .sealed
                .precheck_cast(&cast)
                .map_err(|e| e.to_string())?;
            batch.push(i, Ok(relations));
        }
        batch
            .verify(&mut rand::rng())
            .map_err(|_| "a ballot of the floor does not verify".to_owned())
    })
}

/// Synthesizes the board, then measures the verifier and the floor on each of `threads`.
pub fn run(ballots: usize, threads: &[usize]) -> Result<VerifyBenchReport, DemoError> {
    if ballots == 0 {
        return Err(DemoError::Setup("--ballots must be at least 1".into()));
    }
    let load_before = load_average();
    let mut stages = Stages::new();
    let manifest = manifest()?;
    let log = UncheckedLog::default();
    let voting = open_for_voting(&log, random_key(), ORIGIN, &manifest, ballots, &mut stages)?;
    let context = voting.authority.context;
    let records: Vec<Vec<u8>> =
        stages.run_counted("ballots encrypted", ballots as u64, "ballots", |bar| {
            voting
                .credentials
                .par_iter()
                .enumerate()
                .map(|(voter, credential)| {
                    let mut rng = rand::rng();
                    let choice =
                        Choice::Options((0..OPTIONS).filter(|_| rng.random_bool(0.5)).collect());
                    let signed = encrypt_one(
                        &voting.election,
                        credential,
                        voter,
                        BallotRole::First,
                        &[choice],
                    )?;
                    let (kind, body) = ballot_record(&signed);
                    bar.inc(1);
                    Record::sign(context, kind, &body, &random_key())
                        .map(Record::into_bytes)
                        .map_err(|e| DemoError::Setup(format!("ballot {voter}: {e}")))
                })
                .collect::<Result<_, _>>()
        })?;
    for record in records {
        log.submit(record).map_err(DemoError::Board)?;
    }
    stages.run("tally (trustees 1 and 3)", || {
        tally(
            &voting.authority,
            &voting.trustees,
            &voting.keys,
            &voting.election,
            &voting.outcome,
            &voting.list,
        )
    })?;
    drop(voting);
    let entries = log.into_entries();

    let board = NoteSigner::from_seed(ORIGIN, &random_key().to_bytes())
        .map_err(|e| DemoError::Setup(e.to_string()))?;
    let leaves: Vec<Hash> = entries.par_iter().map(|e| leaf_hash(e)).collect();
    let checkpoint = Checkpoint::new(
        ORIGIN,
        entries.len() as u64,
        urne_log::hash::root_of(&leaves),
        Vec::new(),
    )
    .map_err(|e| DemoError::Setup(e.to_string()))?;
    let mut note = Note::new(&checkpoint.to_text()).map_err(|e| DemoError::Setup(e.to_string()))?;
    board.sign(&mut note);
    let archive = Archive {
        board_vkey: board.verifier().to_vkey(),
        checkpoints: vec![note.to_text()],
        entries,
    };

    // The floor's inputs: each cast body with the parameters it is checked against.
    let mut replay = Replay::new(context, ORIGIN).deferring_casts();
    let mut bodies = Vec::with_capacity(ballots);
    for (index, bytes) in archive.entries.iter().enumerate() {
        let record = Record::parse(bytes.clone()).map_err(|e| DemoError::Setup(e.to_string()))?;
        replay
            .feed(index as u64, &record)
            .map_err(|e| DemoError::Setup(e.to_string()))?;
        if record.kind() == urne_election::kinds::BALLOT_CAST {
            bodies.push(record.body().to_vec());
        }
    }
    let casts: Vec<(Vec<u8>, DeferredCast)> =
        bodies.into_iter().zip(replay.take_deferred()).collect();

    let mut verify_times = Vec::new();
    let mut floor_times = Vec::new();
    let mut report = None;
    for &n in threads {
        let pool = pool(n)?;
        let started = Instant::now();
        let r = pool.install(|| {
            urne_verify::verify(&archive, &Options::pinned(&archive.board_vkey), &Quiet)
        });
        verify_times.push(Timing {
            threads: n,
            elapsed: started.elapsed(),
        });
        if !r.passed {
            return Err(DemoError::Verification(
                crate::demo::verify::VerifyError::Directory(format!(
                    "the synthesized board does not verify:\n{}",
                    r.summary()
                )),
            ));
        }
        report = Some(r);
        let started = Instant::now();
        pool.install(|| floor(&casts)).map_err(DemoError::Setup)?;
        floor_times.push(Timing {
            threads: n,
            elapsed: started.elapsed(),
        });
    }
    let report = report.ok_or_else(|| DemoError::Setup("no thread count given".into()))?;
    let breakdown = pool(1)?
        .install(|| breakdown(&casts))
        .map_err(DemoError::Setup)?;
    Ok(VerifyBenchReport {
        machine: machine(),
        load: (load_before, load_average()),
        ballots,
        entries: archive.entries.len(),
        stages: stages.times().to_vec(),
        verify: verify_times,
        floor: floor_times,
        report,
        breakdown,
    })
}

impl VerifyBenchReport {
    /// The report's lines.
    pub fn lines(&self) -> Vec<String> {
        let mut out = vec![
            format!("machine: {}", self.machine),
            format!(
                "load average before: {}, after: {}",
                self.load.0, self.load.1
            ),
            format!(
                "board: {} ballots of one {OPTIONS}-option approval contest, {} entries, tallied and published",
                self.ballots, self.entries
            ),
        ];
        for (v, f) in self.verify.iter().zip(&self.floor) {
            out.push(format!(
                "{} thread(s): verify {:.1} s, {:.0} ballots/s, {:.3} ms per ballot per core; floor {:.0} ballots/s, {:.3} ms per ballot per core; verify/floor {:.2}",
                v.threads,
                v.elapsed.as_secs_f64(),
                v.per_second(self.ballots),
                v.core_ms_per_ballot(self.ballots),
                f.per_second(self.ballots),
                f.core_ms_per_ballot(self.ballots),
                v.elapsed.as_secs_f64() / f.elapsed.as_secs_f64()
            ));
        }
        let b = &self.breakdown;
        let per_ballot = |d: Duration| d.as_secs_f64() * 1000.0 / b.sample.max(1) as f64;
        let per_point =
            |d: Duration| d.as_secs_f64() * 1e6 / (b.sample as f64 * b.points_per_ballot).max(1.0);
        out.push(format!(
            "floor on 1 thread, first {} ballots, {:.0} points each: decode {:.3} ms per ballot ({:.2} µs per point), equations {:.3} ms per ballot ({:.2} µs per point)",
            b.sample,
            b.points_per_ballot,
            per_ballot(b.decode),
            per_point(b.decode),
            per_ballot(b.relations),
            per_point(b.relations),
        ));
        for (size, d) in &b.msm {
            out.push(format!(
                "  MSM in batches of {size}: {:.3} ms per ballot ({:.2} µs per point)",
                per_ballot(*d),
                per_point(*d)
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_small_synthesized_board_verifies_on_one_and_two_threads() {
        let report = run(20, &[1, 2]).unwrap();
        assert!(report.report.passed);
        assert_eq!(report.report.elections[0].ballots, 20);
        assert_eq!(report.verify.len(), 2);
        assert!(report.lines().iter().any(|l| l.contains("verify/floor")));
        assert_eq!(report.breakdown.sample, 20);
        assert_eq!(report.breakdown.msm.len(), BATCH_SIZES.len());
        assert!(report.breakdown.points_per_ballot > 0.0);
    }
}
