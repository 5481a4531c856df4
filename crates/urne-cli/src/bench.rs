//! `urne bench`: the board's storage and HTTP targets, measured on this machine.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Subcommand;
use ed25519_dalek::SigningKey;
use urne_board::kinds::CONTEXT_OPEN;
use urne_board::{Board, BoardConfig, ContextId, ContextOpen, ContextType, Record, Registry};
use urne_cli::measure::{machine, process_cpu_seconds, thread_cpu_seconds};
use urne_server::{AppState, ServerConfig};
use urne_store::{Store, StoreOptions};
use zeroize::Zeroizing;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Durable appends of 1 KiB records from 1, 16 and 64 concurrent writers.
    Appends {
        /// Seconds per writer count.
        #[arg(long, default_value_t = 5)]
        seconds: u64,
        /// Writer counts, comma-separated.
        #[arg(long, default_value = "1,16,64")]
        writers: String,
        /// Where to put the scratch log (default: a temporary directory).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Time to open (and check against its checkpoint) a log of N entries.
    Open {
        /// Entries.
        #[arg(long, default_value_t = 1_000_000)]
        entries: u64,
        /// Where to put the scratch log.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Inclusion proofs served over HTTP on loopback, from keep-alive connections.
    Http {
        /// Entries in the served log.
        #[arg(long, default_value_t = 100_000)]
        entries: u64,
        /// Seconds of load.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Concurrent connections.
        #[arg(long, default_value_t = 32)]
        connections: usize,
    },
    /// Signed records submitted over HTTP from keep-alive connections, each waiting
    /// for its answer (201 once durable) before sending the next.
    Submit {
        /// Seconds of load.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Concurrent keep-alive connections.
        #[arg(long, default_value_t = 64)]
        connections: usize,
        /// Where to put the scratch board (default: a temporary directory).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// What to send: `valid` records (stored), records with a `bad-signature`
        /// (refused after Ed25519 verification, nothing stored), or `malformed` bytes
        /// (refused at parsing): the last two measure the HTTP path without storage.
        #[arg(long, default_value = "valid")]
        send: String,
        /// Records signed before the timed window, per second of load: signing is the
        /// generator's heaviest work and must not take the server's cores while it is
        /// measured. A connection that runs out stops (and says so).
        #[arg(long, default_value_t = 30_000)]
        presign_rate: u64,
        /// Threads of the load generator, each one event loop over its share of the
        /// connections (a thread per connection would spend the machine on switches).
        #[arg(long, default_value_t = 1)]
        generator_threads: usize,
    },
    /// Encrypted ballots posted to an election's board over HTTP, against the crypto floor.
    Ballots(crate::bench_ballots::BallotsArgs),
    /// The independent verifier on a synthesized, tallied board of 10-option approval
    /// ballots, on 1 and 2 threads, against the crypto floor.
    Verify(crate::verify_cmd::BenchVerifyArgs),
}

fn scratch(dir: Option<PathBuf>, name: &str) -> PathBuf {
    let dir = dir.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("urne-bench-{}-{name}", std::process::id()))
    });
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Fills a store fast: queue many records, wait for the last (one fsync per 4,096).
fn fill(store: &Store, entries: u64, size: usize) -> Result<(), String> {
    let mut i = store.size();
    while i < entries {
        let mut last = None;
        for _ in 0..4096.min(entries - i) {
            let mut record = format!("bench record {i} ").into_bytes();
            record.resize(size, b'.');
            last = Some(store.enqueue(record).map_err(|e| e.to_string())?);
            i += 1;
        }
        if let Some(p) = last {
            p.wait().map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

fn appends(seconds: u64, writers: &str, dir: Option<PathBuf>) -> Result<(), String> {
    println!(
        "durable appends of 1 KiB records ({}; each append returns after fdatasync)",
        machine()
    );
    for w in writers.split(',') {
        let w: usize = w.trim().parse().map_err(|_| format!("writer count {w}"))?;
        let path = scratch(dir.clone(), &format!("appends-{w}"));
        let (store, _) = Store::open(&path, StoreOptions::default()).map_err(|e| e.to_string())?;
        let stop = Arc::new(AtomicBool::new(false));
        let done = Arc::new(AtomicU64::new(0));
        let started = Instant::now();
        let threads: Vec<_> = (0..w)
            .map(|t| {
                let (store, stop, done) = (store.clone(), Arc::clone(&stop), Arc::clone(&done));
                std::thread::spawn(move || {
                    let mut n = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        let mut record = format!("writer {t} record {n} ").into_bytes();
                        record.resize(1024, b'.');
                        if store.append(record).is_err() {
                            break;
                        }
                        n += 1;
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        std::thread::sleep(Duration::from_secs(seconds));
        stop.store(true, Ordering::Relaxed);
        for t in threads {
            let _ = t.join();
        }
        let elapsed = started.elapsed().as_secs_f64();
        let n = done.load(Ordering::Relaxed);
        println!(
            "  {w:>3} writers: {n:>8} appends in {elapsed:.1} s = {:>8.0} appends/s",
            n as f64 / elapsed
        );
        drop(store);
        let _ = std::fs::remove_dir_all(&path);
    }
    Ok(())
}

fn open(entries: u64, dir: Option<PathBuf>) -> Result<(), String> {
    let path = scratch(dir, "open");
    let board_like_checkpoint = |store: &Store| -> Result<(), String> {
        let size = store.size();
        let root = store.root(size).map_err(|e| e.to_string())?;
        let cp = urne_log::Checkpoint::new("bench.local/board", size, root, vec![])
            .map_err(|e| e.to_string())?;
        let mut note = urne_log::note::Note::new(&cp.to_text()).map_err(|e| e.to_string())?;
        urne_log::note::NoteSigner::from_seed("bench.local/board", &[5; 32])
            .map_err(|e| e.to_string())?
            .sign(&mut note);
        store
            .save_checkpoint(&note.to_text())
            .map_err(|e| e.to_string())
    };
    {
        let (store, _) = Store::open(&path, StoreOptions::default()).map_err(|e| e.to_string())?;
        let started = Instant::now();
        fill(&store, entries, 100)?;
        board_like_checkpoint(&store)?;
        println!(
            "built a log of {entries} entries of 100 bytes in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    let started = Instant::now();
    let (store, report) = Store::open(&path, StoreOptions::default()).map_err(|e| e.to_string())?;
    let elapsed = started.elapsed();
    println!(
        "opened it (torn-tail scan, derived files checked, root recomputed and checked against the checkpoint, entry-hash map rebuilt from height-0.dat) in {:.3} s ({})",
        elapsed.as_secs_f64(),
        machine()
    );
    if !report.repaired.is_empty() {
        println!("  repairs: {:?}", report.repaired);
    }
    drop(store);
    let _ = std::fs::remove_dir_all(&path);
    Ok(())
}

/// One keep-alive HTTP/1.1 GET; returns the status.
fn get(stream: &mut BufReader<TcpStream>, path: &str) -> Result<u16, String> {
    write!(
        stream.get_mut(),
        "GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    read_response(stream)
}

/// Reads one response with a Content-Length body; returns the status.
fn read_response(stream: &mut BufReader<TcpStream>) -> Result<u16, String> {
    let mut line = String::new();
    stream.read_line(&mut line).map_err(|e| e.to_string())?;
    let status: u16 = line
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line {line:?}"))?;
    let mut length = 0usize;
    loop {
        line.clear();
        stream.read_line(&mut line).map_err(|e| e.to_string())?;
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v
                .trim()
                .parse()
                .map_err(|_| "bad content-length".to_owned())?;
        }
    }
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).map_err(|e| e.to_string())?;
    Ok(status)
}

fn http(entries: u64, seconds: u64, connections: usize) -> Result<(), String> {
    let path = scratch(None, "http");
    // The board rebuilds its state from the log on open: the log must hold records it
    // accepts, so it is filled with signed `context.open`s, written straight to the store.
    let authority = SigningKey::from_bytes(&[9; 32]);
    {
        let (store, _) = Store::open(&path, StoreOptions::default()).map_err(|e| e.to_string())?;
        let mut i = store.size();
        while i < entries {
            let mut last = None;
            for _ in 0..4096.min(entries - i) {
                let record = open_record(&authority, &format!("bench {i}"))?;
                last = Some(store.enqueue(record).map_err(|e| e.to_string())?);
                i += 1;
            }
            if let Some(p) = last {
                p.wait().map_err(|e| e.to_string())?;
            }
        }
    }
    let config = BoardConfig::new(
        "bench.local/board",
        Zeroizing::new([5; 32]),
        vec![authority.verifying_key().to_bytes()],
        vec![],
    );
    let (board, _) = Board::open(&path, config, Registry::standard()).map_err(|e| e.to_string())?;
    let board = Arc::new(board);
    board.sign_checkpoint().map_err(|e| e.to_string())?;
    let server = ServerConfig {
        reads_per_second: 0,
        max_concurrent: 100_000,
        ..ServerConfig::default()
    };
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let (stop_server, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = runtime.spawn(urne_server::serve(
        listener,
        AppState::new(Arc::clone(&board), server),
        async move {
            let _ = stopped.await;
        },
    ));
    let stop = Arc::new(AtomicBool::new(false));
    let latencies = Arc::new(std::sync::Mutex::new(Vec::new()));
    let errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let threads: Vec<_> = (0..connections)
        .map(|c| {
            let (stop, latencies, errors) = (
                Arc::clone(&stop),
                Arc::clone(&latencies),
                Arc::clone(&errors),
            );
            std::thread::spawn(move || {
                let Ok(stream) = TcpStream::connect(addr) else {
                    return;
                };
                let _ = stream.set_nodelay(true);
                let mut stream = BufReader::new(stream);
                let mut mine = Vec::new();
                let mut i = c as u64;
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    match get(
                        &mut stream,
                        &format!(
                            "/v1/proof/inclusion?index={}&size={entries}",
                            (i * 7919) % entries
                        ),
                    ) {
                        Ok(200) => mine.push(t.elapsed()),
                        _ => {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    i += connections as u64;
                }
                latencies
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .extend(mine);
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        let _ = t.join();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut all = std::mem::take(&mut *latencies.lock().unwrap_or_else(|p| p.into_inner()));
    all.sort();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "inclusion proofs over HTTP/1.1 keep-alive on loopback, log of {entries}, {connections} connections, {seconds} s ({}; load generator on the same machine)",
        machine()
    );
    println!(
        "  {} proofs = {:.0} requests/s; latency p50 {:.2} ms, p99 {:.2} ms; {} errors",
        all.len(),
        all.len() as f64 / elapsed,
        pct(0.5),
        pct(0.99),
        errors.load(Ordering::Relaxed)
    );
    let _ = stop_server.send(());
    let _ = runtime.block_on(serving);
    let _ = std::fs::remove_dir_all(&path);
    Ok(())
}

/// A `context.open` record with a name no other has, signed by `authority`.
fn open_record(authority: &SigningKey, name: &str) -> Result<Vec<u8>, String> {
    let body = ContextOpen {
        context_type: ContextType::ELECTION,
        nonce: [0; 16],
        name: name.into(),
        parameters: [0; 32],
    }
    .to_body()
    .map_err(|e| e.to_string())?;
    let id = ContextId::derive(authority.verifying_key().as_bytes(), &body);
    Record::sign(id, CONTEXT_OPEN, &body, authority)
        .map(Record::into_bytes)
        .map_err(|e| e.to_string())
}

struct SubmitLoad {
    seconds: u64,
    connections: usize,
    send: String,
    presign_rate: u64,
    generator_threads: usize,
}

/// The requests one connection sends, in order.
type Requests = Vec<Vec<u8>>;

/// Whole HTTP/1.1 requests (head and body) posting signed records, made before the
/// timed window, `per_connection` for each connection, signed on every core.
fn presign(
    authority: &SigningKey,
    connections: usize,
    per_connection: usize,
    spoil: fn(&mut Vec<u8>),
) -> Result<Vec<Requests>, String> {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunks: Vec<Vec<usize>> = (0..cores)
        .map(|t| (t..connections).step_by(cores).collect())
        .collect();
    let signed = std::thread::scope(|scope| {
        let workers: Vec<_> = chunks
            .iter()
            .map(|mine| {
                scope.spawn(move || -> Result<Vec<(usize, Requests)>, String> {
                    mine.iter()
                        .map(|&c| {
                            let requests = (0..per_connection)
                                .map(|i| {
                                    let mut record =
                                        open_record(authority, &format!("bench {c} {i}"))?;
                                    spoil(&mut record);
                                    let mut request = format!(
                                        "POST /v1/records HTTP/1.1\r\nHost: bench\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n",
                                        record.len()
                                    )
                                    .into_bytes();
                                    request.extend_from_slice(&record);
                                    Ok(request)
                                })
                                .collect::<Result<Vec<_>, String>>()?;
                            Ok((c, requests))
                        })
                        .collect()
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().map_err(|_| "a signing thread failed".to_owned())?)
            .collect::<Result<Vec<_>, String>>()
    })?;
    let mut by_connection = vec![Vec::new(); connections];
    for (c, requests) in signed.into_iter().flatten() {
        by_connection[c] = requests;
    }
    Ok(by_connection)
}

/// The end of an HTTP/1.1 response head in `buffer`, and the body length it declares.
fn response_head(buffer: &[u8]) -> Option<(usize, u16, usize)> {
    let end = buffer.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = std::str::from_utf8(&buffer[..end]).ok()?;
    let status = head.get(9..12)?.parse().ok()?;
    let length = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    Some((end, status, length))
}

/// How a wait for one answer ended.
enum Answer {
    Status(u16),
    Stopped,
    Failed,
}

/// What one connection saw.
#[derive(Default)]
struct Seen {
    expected: u64,
    unexpected: u64,
    failed: bool,
    ran_out: bool,
}

/// How often a connection waiting for an answer looks at the stop flag.
const STOP_POLL: Duration = Duration::from_millis(100);
/// How long a connection waits for an answer before counting the server as failed.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);
/// Most records pre-signed for one run: each is a whole request of about 300 bytes
/// held until sent, so about 600 MB at most.
const MAX_PRESIGNED: u64 = 2_000_000;

/// Records to pre-sign per connection for `rate` per second over `seconds`, or an error
/// when all of them would pass [`MAX_PRESIGNED`].
fn presign_count(rate: u64, seconds: u64, connections: usize) -> Result<usize, String> {
    let total = rate.saturating_mul(seconds);
    if total > MAX_PRESIGNED {
        return Err(format!(
            "--presign-rate {rate} × --seconds {seconds} = {total} records to sign ahead, above {MAX_PRESIGNED} (about {} MB held in memory): lower one of them",
            MAX_PRESIGNED * 300 / 1_000_000
        ));
    }
    Ok(usize::try_from(total)
        .unwrap_or(usize::MAX)
        .div_ceil(connections.max(1)))
}

/// One keep-alive connection: each request sent after the answer to the previous. A
/// wait for an answer ends when `stop` is set (the window is over) or after
/// [`ANSWER_TIMEOUT`] (a silent server: the connection failed), never hangs.
async fn drive(
    addr: std::net::SocketAddr,
    requests: Requests,
    expected: u16,
    stop: Arc<AtomicBool>,
) -> Seen {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut seen = Seen::default();
    let Ok(Ok(mut stream)) =
        tokio::time::timeout(ANSWER_TIMEOUT, tokio::net::TcpStream::connect(addr)).await
    else {
        seen.failed = true;
        return seen;
    };
    let _ = stream.set_nodelay(true);
    let mut buffer = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    let mut requests = requests.into_iter();
    while !stop.load(Ordering::Relaxed) {
        let Some(request) = requests.next() else {
            seen.ran_out = true;
            break;
        };
        if !matches!(
            tokio::time::timeout(ANSWER_TIMEOUT, stream.write_all(&request)).await,
            Ok(Ok(()))
        ) {
            seen.failed = true;
            break;
        }
        let asked = Instant::now();
        let status = loop {
            if let Some((end, status, length)) = response_head(&buffer)
                && buffer.len() >= end + length
            {
                buffer.drain(..end + length);
                break Answer::Status(status);
            }
            if stop.load(Ordering::Relaxed) {
                break Answer::Stopped;
            }
            if asked.elapsed() > ANSWER_TIMEOUT {
                break Answer::Failed;
            }
            match tokio::time::timeout(STOP_POLL, stream.read(&mut chunk)).await {
                Err(_) => {}
                Ok(Ok(0) | Err(_)) => break Answer::Failed,
                Ok(Ok(n)) => buffer.extend_from_slice(&chunk[..n]),
            }
        };
        match status {
            Answer::Status(s) if s == expected => seen.expected += 1,
            Answer::Status(_) => seen.unexpected += 1,
            // The window ended while this answer was on its way: not counted.
            Answer::Stopped => break,
            Answer::Failed => {
                seen.failed = true;
                break;
            }
        }
    }
    seen
}

fn submit(load: &SubmitLoad, dir: Option<PathBuf>) -> Result<(), String> {
    let (expected, spoil): (u16, fn(&mut Vec<u8>)) = match load.send.as_str() {
        "valid" => (201, |_| {}),
        "bad-signature" => (403, |r| {
            if let Some(last) = r.last_mut() {
                *last ^= 1;
            }
        }),
        "malformed" => (400, |r| r.truncate(3)),
        other => {
            return Err(format!(
                "--send {other}: expected valid, bad-signature or malformed"
            ));
        }
    };
    let connections = load.connections.max(1);
    let generator_threads = load.generator_threads.clamp(1, connections);
    let seconds = load.seconds;
    let authority = SigningKey::from_bytes(&[9; 32]);
    let per_connection = presign_count(load.presign_rate, seconds, connections)?;
    let signing = Instant::now();
    let mut requests = presign(&authority, connections, per_connection, spoil)?;
    println!(
        "signed {} records in {:.1} s before the timed window",
        per_connection * connections,
        signing.elapsed().as_secs_f64()
    );
    let floor_sample: Vec<Vec<u8>> = requests
        .iter()
        .flatten()
        .take(FLOOR_SAMPLE)
        .filter_map(|request| record_of(request).map(<[u8]>::to_vec))
        .collect();

    let path = scratch(dir, "submit");
    let config = BoardConfig::new(
        "bench.local/board",
        Zeroizing::new([5; 32]),
        vec![authority.verifying_key().to_bytes()],
        vec![],
    );
    let (board, _) = Board::open(&path, config, Registry::standard()).map_err(|e| e.to_string())?;
    let board = Arc::new(board);
    let server = ServerConfig {
        writes_per_second: 0,
        reads_per_second: 0,
        max_concurrent: 100_000,
        max_concurrent_writes: 100_000,
        max_in_flight_per_client: 100_000,
        ..ServerConfig::default()
    };
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let (stop_server, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = runtime.spawn(urne_server::serve(
        listener,
        AppState::new(Arc::clone(&board), server),
        async move {
            let _ = stopped.await;
        },
    ));
    let stop = Arc::new(AtomicBool::new(false));
    let process_before = process_cpu_seconds();
    let started = Instant::now();
    // Each generator thread is one single-threaded event loop over its connections, and
    // its CPU time (HTTP framing, syscalls, loopback delivery) is measured and reported
    // apart from the server's.
    let threads: Vec<_> = (0..generator_threads)
        .map(|t| {
            let mine: Vec<Requests> = (t..connections)
                .step_by(generator_threads)
                .map(|c| std::mem::take(&mut requests[c]))
                .collect();
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || -> Result<(f64, Vec<Seen>), String> {
                let cpu_before = thread_cpu_seconds();
                let events = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| e.to_string())?;
                let seen = events.block_on(async {
                    let tasks: Vec<_> = mine
                        .into_iter()
                        .map(|requests| {
                            tokio::spawn(drive(addr, requests, expected, Arc::clone(&stop)))
                        })
                        .collect();
                    let mut seen = Vec::with_capacity(tasks.len());
                    for task in tasks {
                        seen.push(task.await.unwrap_or_else(|_| Seen {
                            failed: true,
                            ..Seen::default()
                        }));
                    }
                    seen
                });
                Ok((thread_cpu_seconds() - cpu_before, seen))
            })
        })
        .collect();
    drop(requests);
    std::thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    let mut generator_cpu = 0.0;
    let mut seen = Vec::new();
    for t in threads {
        let (cpu, s) = t
            .join()
            .map_err(|_| "a generator thread failed".to_owned())??;
        generator_cpu += cpu;
        seen.extend(s);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let process_cpu = process_cpu_seconds() - process_before;
    let n: u64 = seen.iter().map(|s| s.expected).sum();
    let unexpected: u64 = seen.iter().map(|s| s.unexpected).sum();
    let failed = seen.iter().filter(|s| s.failed).count();
    let ran_out = seen.iter().filter(|s| s.ran_out).count();
    let server_cpu = process_cpu - generator_cpu;
    let per_record = |cpu: f64| {
        if n == 0 { 0.0 } else { cpu / n as f64 * 1e6 }
    };
    println!(
        "signed records (context.open, ~{} bytes) submitted over HTTP/1.1 keep-alive on loopback, {connections} connections, {seconds} s ({}; load generator in the same process, {generator_threads} thread(s))",
        open_record(&authority, "bench 0 0").map_or(0, |r| r.len()),
        machine()
    );
    println!(
        "  {n} answered {expected} ({}) = {:.0} records/s; {unexpected} other answers, {failed} connections failed",
        load.send,
        n as f64 / elapsed
    );
    if ran_out > 0 {
        println!("  {ran_out} connections ran out of pre-signed records: raise --presign-rate");
    }
    println!(
        "  CPU: server {server_cpu:.1} s ({:.0}% of a core, {:.0} µs per record), load generator {generator_cpu:.1} s ({:.0}% of a core, {:.0} µs per record), over {elapsed:.1} s",
        server_cpu / elapsed * 100.0,
        per_record(server_cpu),
        generator_cpu / elapsed * 100.0,
        per_record(generator_cpu),
    );
    let _ = stop_server.send(());
    let _ = runtime.block_on(serving);
    drop(board);
    let _ = std::fs::remove_dir_all(&path);
    let floor = envelope_floor(&floor_sample);
    // Malformed records fail at the first bytes: no signature to bound anything.
    if floor >= 1.0 {
        println!(
            "  floor, on one thread over {} of the same records (no HTTP, no storage): parse and Ed25519 verify_strict {floor:.1} µs per record, so at most {:.0} records/s on {} cores for that alone",
            floor_sample.len(),
            cores() as f64 * 1e6 / floor,
            cores()
        );
    }
    Ok(())
}

/// Records the floor is measured over: enough for a stable mean, few enough to take
/// well under a second.
const FLOOR_SAMPLE: usize = 4096;

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The record a pre-built request posts: its body.
fn record_of(request: &[u8]) -> Option<&[u8]> {
    let head_end = request.windows(4).position(|w| w == b"\r\n\r\n")?;
    request.get(head_end + 4..)
}

/// CPU µs per record, on this thread, of the stateless envelope checks the board cannot
/// skip for any record: parsing and `verify_strict` (spec/12 §12.5, steps 1–3). Records
/// that fail (`--send bad-signature`, `malformed`) are timed all the same: the board
/// spends that on them too.
fn envelope_floor(records: &[Vec<u8>]) -> f64 {
    if records.is_empty() {
        return 0.0;
    }
    let before = thread_cpu_seconds();
    let mut valid = 0usize;
    for bytes in records {
        if Record::parse(bytes.clone())
            .and_then(|record| record.verify_signature())
            .is_ok()
        {
            valid += 1;
        }
    }
    std::hint::black_box(valid);
    (thread_cpu_seconds() - before) / records.len() as f64 * 1e6
}

pub fn run(command: BenchCommand) -> Result<(), String> {
    match command {
        BenchCommand::Appends {
            seconds,
            writers,
            dir,
        } => appends(seconds, &writers, dir),
        BenchCommand::Open { entries, dir } => open(entries, dir),
        BenchCommand::Http {
            entries,
            seconds,
            connections,
        } => http(entries, seconds, connections),
        BenchCommand::Submit {
            seconds,
            connections,
            dir,
            send,
            presign_rate,
            generator_threads,
        } => submit(
            &SubmitLoad {
                seconds,
                connections,
                send,
                presign_rate,
                generator_threads,
            },
            dir,
        ),
        BenchCommand::Ballots(args) => crate::bench_ballots::run(args),
        BenchCommand::Verify(args) => crate::verify_cmd::bench(args),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pre_signing_is_bounded() {
        assert_eq!(presign_count(30_000, 10, 64), Ok(4_688));
        let refused = presign_count(30_000, 600, 64);
        assert!(
            refused
                .as_ref()
                .is_err_and(|e| e.contains("18000000 records")),
            "{refused:?}"
        );
        assert!(presign_count(u64::MAX, u64::MAX, 1).is_err());
    }

    #[test]
    fn a_connection_to_a_silent_server_ends_when_the_window_does() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|e| unreachable!("a runtime: {e}"));
        runtime.block_on(async {
            let Ok(listener) = tokio::net::TcpListener::bind("127.0.0.1:0").await else {
                unreachable!("loopback");
            };
            let Ok(addr) = listener.local_addr() else {
                unreachable!("bound");
            };
            // Accepts and reads, never answers.
            tokio::spawn(async move {
                let mut held = Vec::new();
                while let Ok((stream, _)) = listener.accept().await {
                    held.push(stream);
                }
            });
            let stop = Arc::new(AtomicBool::new(false));
            let driving = tokio::spawn(drive(
                addr,
                vec![b"POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n".to_vec()],
                201,
                Arc::clone(&stop),
            ));
            tokio::time::sleep(Duration::from_millis(200)).await;
            stop.store(true, Ordering::Relaxed);
            let seen = tokio::time::timeout(Duration::from_secs(20), driving).await;
            let Ok(Ok(seen)) = seen else {
                unreachable!("the connection still waits for the silent server");
            };
            assert_eq!((seen.expected, seen.unexpected), (0, 0));
            assert!(!seen.failed, "a stop is not a failure");
        });
    }

    #[test]
    fn the_generator_reads_a_response_head_only_once_it_is_whole() {
        let whole = b"HTTP/1.1 201 Created\r\ncontent-type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}";
        assert_eq!(response_head(whole), Some((whole.len() - 7, 201, 7)));
        assert_eq!(response_head(&whole[..30]), None, "head not complete");
        assert_eq!(
            response_head(b"HTTP/1.1 503 Service Unavailable\r\n\r\n"),
            Some((36, 503, 0)),
            "no Content-Length: no body"
        );
        assert_eq!(response_head(b"HTTP/1.1 2x1 ?\r\n\r\n"), None);
    }
}
