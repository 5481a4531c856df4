//! `urne bench ballots`: the board's acceptance of encrypted ballots over HTTP, and in the
//! same run the crypto floor it is measured against (issue 7's second target).
//!
//! An election is set up to voting on an embedded board (the demo's own stages), every
//! ballot is encrypted, proved and signed before the clock starts, then keep-alive
//! connections post them, each ballot once, to an in-process `urne serve`. The floor is
//! what the board's proof batching alone costs per ballot: the same ballots' bodies
//! decoded, their validity equations and their credential signature's equation pushed
//! into one `BatchVerifier` per group of the board's size, on one thread and on every
//! core. The ratio of the two says how much of the server's time goes to the crypto the
//! board cannot skip.
//!
//! The load generator runs in the same process on the same cores; its CPU time is
//! measured per thread and reported apart from the server's.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rand::RngExt;
use rayon::prelude::*;
use urne_ballot::{Contest, ContestKind, Election, Manifest};
use urne_board::{Board, BoardConfig, Record};
use urne_credential::PublicCredential;
use urne_crypto::BatchVerifier;
use urne_election::CastBallot;
use urne_server::{AppState, ServerConfig};
use zeroize::Zeroizing;

use crate::demo::progress::{StageTime, Stages};
use crate::demo::voters::{BallotRole, Choice, encrypt_one};
use crate::demo::{DemoDir, DemoError, ballot_record, open_for_voting, random_key};
use crate::measure::{load_average, machine, process_cpu_seconds, thread_cpu_seconds};

/// The board's origin in this benchmark.
const ORIGIN: &str = "bench.urne.local/board";

/// Ballots per proof batch in the floor: the most submissions one of the board's precheck
/// workers takes at once (`PRECHECK_GROUP` in urne-board's pipeline), so the floor batches
/// as the board does at full load.
pub const BOARD_BATCH: usize = 64;

/// What `urne bench ballots` is asked to do.
#[derive(Clone, Debug)]
pub struct BallotBenchOptions {
    /// Seconds of load at most; the run ends sooner if every ballot has been posted.
    pub seconds: f64,
    /// Concurrent keep-alive connections.
    pub connections: usize,
    /// Options of the approval contest.
    pub options: usize,
    /// Voters registered (credentials on the list).
    pub voters: usize,
    /// Ballots made and posted; beyond `voters`, later ballots of the same voters
    /// (revotes, which the board accepts and the tally resolves).
    pub ballots: usize,
    /// Ballots the floor is measured on (a sample of the posted ones).
    pub floor_ballots: usize,
}

/// The crypto floor: batched verification of the same ballots, per ballot.
#[derive(Clone, Debug)]
pub struct Floor {
    /// Ballots verified.
    pub ballots: usize,
    /// Per ballot, on one thread (wall clock / ballots).
    pub one_thread: Duration,
    /// CPU time per ballot of the one-thread measurement: the same as `one_thread` on
    /// an idle machine, less when other processes took the core.
    pub one_thread_cpu: Duration,
    /// Per ballot, batches spread over every core (wall clock / ballots).
    pub all_cores: Duration,
    /// CPU time per ballot of the all-cores measurement.
    pub all_cores_cpu: Duration,
    /// Threads of the all-cores measurement.
    pub threads: usize,
}

impl Floor {
    /// Ballots per second on every core.
    pub fn all_cores_per_second(&self) -> f64 {
        per_second(self.all_cores)
    }
}

fn per_second(each: Duration) -> f64 {
    let s = each.as_secs_f64();
    if s > 0.0 { 1.0 / s } else { 0.0 }
}

/// What one run measured.
#[derive(Clone, Debug)]
pub struct BallotBenchReport {
    /// CPU model and cores.
    pub machine: String,
    /// /proc/loadavg before the set-up.
    pub load_before: String,
    /// /proc/loadavg after the floor, the last measurement.
    pub load_after: String,
    /// The set-up's stages (ceremony, credentials, encryption).
    pub stages: Vec<StageTime>,
    /// Bytes of one posted record (envelope and ballot).
    pub record_bytes: usize,
    /// Ballots answered 201.
    pub accepted: u64,
    /// Anything else: another status, a broken connection.
    pub errors: u64,
    /// The first error seen, for the report.
    pub first_error: Option<String>,
    /// From the first post to the last answer.
    pub elapsed: Duration,
    /// Whether every ballot made was posted before the time was up.
    pub ran_out: bool,
    /// CPU seconds of the process during the load, minus the load generator's.
    pub server_cpu: f64,
    /// CPU seconds of the load generator's threads.
    pub generator_cpu: f64,
    /// The crypto floor, measured after the load on a sample of the same ballots.
    pub floor: Floor,
    /// The options and connections used.
    pub options: BallotBenchOptions,
}

impl BallotBenchReport {
    /// Ballots accepted per second.
    pub fn accepted_per_second(&self) -> f64 {
        let s = self.elapsed.as_secs_f64();
        if s > 0.0 {
            self.accepted as f64 / s
        } else {
            0.0
        }
    }

    /// Accepted/s over the floor's ballots/s on every core: 1.0 would be a board that
    /// does nothing but verify proofs.
    pub fn ratio_to_floor(&self) -> f64 {
        let floor = self.floor.all_cores_per_second();
        if floor > 0.0 {
            self.accepted_per_second() / floor
        } else {
            0.0
        }
    }

    /// The floor's CPU per ballot (all cores) over the server's CPU per accepted ballot:
    /// the share of the server's work that is the crypto it cannot skip. Unlike the
    /// ratio of rates, other processes on the machine hardly move it.
    pub fn cpu_share_of_floor(&self) -> f64 {
        let server = self.server_cpu_per_ballot().as_secs_f64();
        if server > 0.0 {
            self.floor.all_cores_cpu.as_secs_f64() / server
        } else {
            0.0
        }
    }

    /// Server CPU time per accepted ballot.
    pub fn server_cpu_per_ballot(&self) -> Duration {
        per_ballot(self.server_cpu, self.accepted)
    }

    /// Load generator CPU time per accepted ballot.
    pub fn generator_cpu_per_ballot(&self) -> Duration {
        per_ballot(self.generator_cpu, self.accepted)
    }
}

fn per_ballot(cpu_seconds: f64, ballots: u64) -> Duration {
    if ballots == 0 {
        return Duration::ZERO;
    }
    Duration::from_secs_f64((cpu_seconds / ballots as f64).max(0.0))
}

/// Why the benchmark stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BallotBenchError {
    /// An option out of range.
    #[error("{0}")]
    Options(String),
    /// The election's set-up failed.
    #[error(transparent)]
    Setup(#[from] DemoError),
    /// The server or a socket failed.
    #[error("server: {0}")]
    Server(String),
    /// A ballot made here did not verify in the floor's batch: the figures would mean
    /// nothing.
    #[error("floor: {0}")]
    Floor(String),
}

/// One approval contest of `options` options, any number of them approved: the issue's
/// reference ballot (and urne-ballot's bench).
fn manifest(options: usize) -> Result<Manifest, BallotBenchError> {
    let max = u16::try_from(options)
        .map_err(|_| BallotBenchError::Options(format!("--options {options}: too many")))?;
    Manifest::new(
        "urne bench ballots",
        vec![Contest {
            title: format!("{options}-option approval"),
            kind: ContestKind::Approval { min: 0, max },
            blank: false,
            options: (0..options).map(|i| format!("option {i}")).collect(),
        }],
    )
    .map_err(|e| BallotBenchError::Options(format!("--options {options}: {e}")))
}

/// A random approval: each option with probability one half.
fn random_choice(options: usize, rng: &mut impl RngExt) -> Choice {
    Choice::Options((0..options).filter(|_| rng.random_bool(0.5)).collect())
}

/// Sends one keep-alive POST of a record and reads the answer's status (the body is
/// read and dropped).
fn post_record(stream: &mut BufReader<TcpStream>, record: &[u8]) -> Result<(u16, Vec<u8>), String> {
    let mut request = format!(
        "POST /v1/records HTTP/1.1\r\nHost: bench\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n",
        record.len()
    )
    .into_bytes();
    request.extend_from_slice(record);
    stream
        .get_mut()
        .write_all(&request)
        .map_err(|e| format!("sending: {e}"))?;
    let mut line = String::new();
    stream
        .read_line(&mut line)
        .map_err(|e| format!("reading the status line: {e}"))?;
    let status: u16 = line
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line {line:?}"))?;
    let mut length = 0usize;
    loop {
        line.clear();
        stream
            .read_line(&mut line)
            .map_err(|e| format!("reading a header: {e}"))?;
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v
                .trim()
                .parse()
                .map_err(|_| format!("bad content-length {v:?}"))?;
        }
    }
    let mut body = vec![0u8; length];
    stream
        .read_exact(&mut body)
        .map_err(|e| format!("reading the body: {e}"))?;
    Ok((status, body))
}

/// The floor's work on one batch, as a precheck worker of the board does it for
/// `ballot.cast` (urne-election's `precheck_cast`): decode each body, push the ballot's
/// validity equations and its credential signature's into one batch, verify the batch.
fn verify_batch(election: &Election, bodies: &[&[u8]]) -> Result<(), String> {
    let mut batch = BatchVerifier::with_capacity(bodies.len());
    for (i, body) in bodies.iter().enumerate() {
        let cast = CastBallot::decode(body).map_err(|e| format!("ballot {i}: {e}"))?;
        let public = PublicCredential::decode(&cast.ballot.credential.0)
            .map_err(|e| format!("ballot {i}'s credential: {e}"))?;
        let mut relations = cast
            .ballot
            .relations(election, &cast.ballot.credential)
            .map_err(|e| format!("ballot {i}: {e}"))?;
        let signature = cast
            .signature
            .relations(
                &public,
                election.context(),
                urne_credential::Decision::Cast,
                &cast.tracking_code().0,
            )
            .map_err(|e| format!("ballot {i}'s signature: {e}"))?;
        relations.extend(signature);
        batch.push(i, Ok(relations));
    }
    batch.verify(&mut rand::rng()).map_err(|f| {
        let first = f
            .failures
            .first()
            .map(|(i, e)| format!(" (first: ballot {i}, {e})"))
            .unwrap_or_default();
        format!("{} ballots of a batch failed{first}", f.failures.len())
    })
}

/// The floor on `bodies`: every batch on this thread, then the batches spread over
/// rayon's threads (one per core).
fn measure_floor(election: &Election, bodies: &[&[u8]]) -> Result<Floor, BallotBenchError> {
    let n = bodies.len().max(1) as u32;
    let per_ballot_cpu = |seconds: f64| Duration::from_secs_f64(seconds.max(0.0)) / n;
    let cpu_before = process_cpu_seconds();
    let started = Instant::now();
    for chunk in bodies.chunks(BOARD_BATCH) {
        verify_batch(election, chunk).map_err(BallotBenchError::Floor)?;
    }
    let one_thread = started.elapsed() / n;
    let one_thread_cpu = per_ballot_cpu(process_cpu_seconds() - cpu_before);
    let cpu_before = process_cpu_seconds();
    let started = Instant::now();
    bodies
        .par_chunks(BOARD_BATCH)
        .try_for_each(|chunk| verify_batch(election, chunk))
        .map_err(BallotBenchError::Floor)?;
    let all_cores = started.elapsed() / n;
    let all_cores_cpu = per_ballot_cpu(process_cpu_seconds() - cpu_before);
    Ok(Floor {
        ballots: bodies.len(),
        one_thread,
        one_thread_cpu,
        all_cores,
        all_cores_cpu,
        threads: rayon::current_num_threads(),
    })
}

/// What the connections share during the load.
struct Load {
    records: Vec<Vec<u8>>,
    next: AtomicUsize,
    stop: AtomicBool,
    accepted: AtomicU64,
    errors: AtomicU64,
    first_error: std::sync::Mutex<Option<String>>,
}

impl Load {
    fn error(&self, what: String) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        self.first_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_or_insert(what);
    }

    /// One connection: takes the next ballot not yet posted until time is up or none is
    /// left; returns the thread's CPU seconds.
    fn connection(&self, addr: SocketAddr) -> f64 {
        let cpu_before = thread_cpu_seconds();
        let stream = match TcpStream::connect(addr) {
            Ok(s) => s,
            Err(e) => {
                self.error(format!("connecting: {e}"));
                return thread_cpu_seconds() - cpu_before;
            }
        };
        let _ = stream.set_nodelay(true);
        let mut stream = BufReader::new(stream);
        while !self.stop.load(Ordering::Relaxed) {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            let Some(record) = self.records.get(i) else {
                break;
            };
            match post_record(&mut stream, record) {
                Ok((201, _)) => {
                    self.accepted.fetch_add(1, Ordering::Relaxed);
                }
                Ok((status, body)) => self.error(format!(
                    "ballot {i}: answered {status}: {}",
                    String::from_utf8_lossy(&body)
                )),
                Err(e) => {
                    self.error(format!("ballot {i}: {e}"));
                    break;
                }
            }
        }
        thread_cpu_seconds() - cpu_before
    }
}

fn server_error(e: impl std::fmt::Display) -> BallotBenchError {
    BallotBenchError::Server(e.to_string())
}

/// Runs the benchmark. Progress bars are drawn only on a terminal.
pub fn run(options: &BallotBenchOptions) -> Result<BallotBenchReport, BallotBenchError> {
    if options.voters == 0 || options.ballots == 0 || options.connections == 0 {
        return Err(BallotBenchError::Options(
            "--voters, --ballots and --connections must be at least 1".into(),
        ));
    }
    if options.options == 0 {
        return Err(BallotBenchError::Options(
            "--options must be at least 1".into(),
        ));
    }
    if !(options.seconds > 0.0 && options.seconds.is_finite()) {
        return Err(BallotBenchError::Options(format!(
            "--seconds {}: must be a positive number",
            options.seconds
        )));
    }
    let load_before = load_average();
    let manifest = manifest(options.options)?;
    let dir = DemoDir::new(None, false)?;
    let authority_key = random_key();
    let config = BoardConfig::new(
        ORIGIN,
        Zeroizing::new(random_key().to_bytes()),
        vec![authority_key.verifying_key().to_bytes()],
        Vec::new(),
    );
    let (board, _) = Board::open(dir.path(), config, urne_board::Registry::standard())
        .map_err(|e| DemoError::Board(format!("opening the board: {e}")))?;
    let board = Arc::new(board);
    let mut stages = Stages::new();
    let voting = open_for_voting(
        board.as_ref(),
        authority_key,
        ORIGIN,
        &manifest,
        options.voters,
        &mut stages,
    )?;
    let context = voting.authority.context;
    let election = &voting.election;

    // Made before the clock starts: what is measured is the board, not the voters.
    let records: Vec<Vec<u8>> = stages.run_counted(
        "ballots encrypted and signed",
        options.ballots as u64,
        "ballots",
        |bar| {
            (0..options.ballots)
                .into_par_iter()
                .map(|i| {
                    let voter = i % options.voters;
                    let credential = voting.credentials.get(voter).ok_or_else(|| {
                        DemoError::Setup(format!("voter {voter} has no credential"))
                    })?;
                    let role = if i < options.voters {
                        BallotRole::First
                    } else {
                        BallotRole::Revote
                    };
                    let choice = random_choice(options.options, &mut rand::rng());
                    let signed = encrypt_one(election, credential, voter, role, &[choice])?;
                    let (kind, body) = ballot_record(&signed);
                    let record = Record::sign(context, kind, &body, &random_key())
                        .map(Record::into_bytes)
                        .map_err(|e| DemoError::Setup(format!("ballot {i}: {e}")))?;
                    bar.inc(1);
                    Ok::<_, DemoError>(record)
                })
                .collect::<Result<Vec<_>, _>>()
        },
    )?;
    let record_bytes = records.first().map_or(0, Vec::len);

    let server = ServerConfig {
        writes_per_second: 0,
        reads_per_second: 0,
        max_concurrent: 100_000,
        max_concurrent_writes: 100_000,
        max_in_flight_per_client: 100_000,
        ..ServerConfig::default()
    };
    let runtime = tokio::runtime::Runtime::new().map_err(server_error)?;
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .map_err(server_error)?;
    let addr = listener.local_addr().map_err(server_error)?;
    let (stop_server, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = runtime.spawn(urne_server::serve(
        listener,
        AppState::new(Arc::clone(&board), server),
        async move {
            let _ = stopped.await;
        },
    ));

    let load = Load {
        records,
        next: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
        accepted: AtomicU64::new(0),
        errors: AtomicU64::new(0),
        first_error: std::sync::Mutex::new(None),
    };
    let process_before = process_cpu_seconds();
    let started = Instant::now();
    let generator_cpu: f64 = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..options.connections)
            .map(|_| scope.spawn(|| load.connection(addr)))
            .collect();
        let deadline = started + Duration::from_secs_f64(options.seconds);
        while Instant::now() < deadline && !threads.iter().all(|t| t.is_finished()) {
            std::thread::sleep(Duration::from_millis(20));
        }
        load.stop.store(true, Ordering::Relaxed);
        threads.into_iter().filter_map(|t| t.join().ok()).sum()
    });
    let elapsed = started.elapsed();
    let process_cpu = process_cpu_seconds() - process_before;
    let _ = stop_server.send(());
    let _ = runtime.block_on(serving);
    let ran_out = load.next.load(Ordering::Relaxed) >= load.records.len();

    let bodies: Vec<Vec<u8>> = load
        .records
        .iter()
        .take(options.floor_ballots.max(1))
        .map(|bytes| {
            Record::parse(bytes.clone())
                .map(|r| r.body().to_vec())
                .map_err(|e| BallotBenchError::Floor(format!("a posted record: {e}")))
        })
        .collect::<Result<_, _>>()?;
    let sample: Vec<&[u8]> = bodies.iter().map(Vec::as_slice).collect();
    let floor = measure_floor(election, &sample)?;
    let load_after = load_average();
    drop(voting);
    drop(board);
    Ok(BallotBenchReport {
        machine: machine(),
        load_before,
        load_after,
        stages: stages.times().to_vec(),
        record_bytes,
        accepted: load.accepted.load(Ordering::Relaxed),
        errors: load.errors.load(Ordering::Relaxed),
        first_error: load
            .first_error
            .into_inner()
            .unwrap_or_else(|p| p.into_inner()),
        elapsed,
        ran_out,
        server_cpu: (process_cpu - generator_cpu).max(0.0),
        generator_cpu,
        floor,
        options: options.clone(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use urne_ballot::ContextInputs;
    use urne_credential::Credential;
    use urne_crypto::SecretKey;

    use super::*;

    /// A short run: every ballot (first casts and revotes) accepted over HTTP, none
    /// refused, and the floor measured on the sample asked for.
    #[test]
    fn a_short_run_accepts_every_ballot_and_measures_the_floor() {
        let options = BallotBenchOptions {
            seconds: 1.0,
            connections: 4,
            options: 10,
            voters: 6,
            ballots: 16,
            floor_ballots: 10,
        };
        let report = run(&options).expect("the benchmark runs");
        assert_eq!(report.errors, 0, "first error: {:?}", report.first_error);
        assert!(report.accepted > 0);
        assert_eq!(report.floor.ballots, 10);
        assert!(report.floor.threads >= 1);
        assert!(report.record_bytes > 0);
    }

    #[test]
    fn options_out_of_range_are_refused_by_name() {
        let options = BallotBenchOptions {
            seconds: 1.0,
            connections: 1,
            options: 0,
            voters: 1,
            ballots: 1,
            floor_ballots: 1,
        };
        let err = run(&options).map(|_| ()).expect_err("no options");
        assert!(err.to_string().contains("--options"), "{err}");
    }

    fn election(options: usize) -> Election {
        let manifest = manifest(options).unwrap();
        let key = SecretKey::generate(&mut rand::rng()).public_key();
        Election::new(ContextInputs {
            manifest: &manifest,
            joint_key: &key,
            credential_root: &[1; 32],
            board_origin: ORIGIN,
            context_id: &[2; 32],
        })
        .unwrap()
    }

    fn signed(election: &Election, credential: &Credential) -> crate::demo::voters::SignedBallot {
        let choice = random_choice(10, &mut rand::rng());
        encrypt_one(election, credential, 0, BallotRole::First, &[choice]).unwrap()
    }

    /// The floor verifies what the board verifies: a ballot carrying another ballot's
    /// credential signature fails its batch, and so does a ballot whose proofs were made
    /// for another election.
    #[test]
    fn the_floor_refuses_a_swapped_signature_and_a_ballot_of_another_election() {
        let election = election(10);
        let (a, b) = (
            Credential::generate(&mut rand::rng()),
            Credential::generate(&mut rand::rng()),
        );
        let (first, second) = (signed(&election, &a), signed(&election, &b));
        let good: Vec<Vec<u8>> = [&first, &second]
            .iter()
            .map(|s| ballot_record(s).1)
            .collect();
        let refs: Vec<&[u8]> = good.iter().map(Vec::as_slice).collect();
        verify_batch(&election, &refs).expect("valid ballots pass");

        let swapped = CastBallot::new(first.ballot.clone(), second.signature.clone()).to_body();
        let err = verify_batch(&election, &[&good[1], &swapped]).expect_err("swapped signature");
        assert!(err.contains("ballot 1"), "{err}");

        let other = signed(&self::election(10), &a);
        let foreign = ballot_record(&other).1;
        let err = verify_batch(&election, &[&foreign, &good[0]]).expect_err("another election");
        assert!(err.contains("ballot 0"), "{err}");
    }
}
