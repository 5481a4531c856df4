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
    },
    /// Encrypted ballots posted to an election's board over HTTP, against the crypto floor.
    Ballots(crate::bench_ballots::BallotsArgs),
}

fn scratch(dir: Option<PathBuf>, name: &str) -> PathBuf {
    let dir = dir.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("urne-bench-{}-{name}", std::process::id()))
    });
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!(
        "{cpu}, {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    )
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
        "opened it (torn-tail scan, derived files checked, root recomputed and checked against the checkpoint, index checked) in {:.3} s ({})",
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

/// One keep-alive HTTP/1.1 POST of a raw record; returns the status.
fn post_record(stream: &mut BufReader<TcpStream>, record: &[u8]) -> Result<u16, String> {
    let mut request = format!(
        "POST /v1/records HTTP/1.1\r\nHost: bench\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n",
        record.len()
    )
    .into_bytes();
    request.extend_from_slice(record);
    stream
        .get_mut()
        .write_all(&request)
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

/// CPU seconds (user + system) the calling thread has used, from
/// `/proc/thread-self/stat` (fields 14 and 15, in clock ticks of 1/100 s).
fn thread_cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/thread-self/stat") else {
        return 0.0;
    };
    cpu_seconds_of(&stat)
}

/// CPU seconds the whole process has used.
fn process_cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/self/stat").map_or(0.0, |s| cpu_seconds_of(&s))
}

fn cpu_seconds_of(stat: &str) -> f64 {
    // The command name may hold spaces: fields are counted after its closing ')'.
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // After ')' come field 3 (state) onwards: utime is field 14, stime field 15.
    (ticks(11) + ticks(12)) as f64 / 100.0
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

fn submit(
    seconds: u64,
    connections: usize,
    dir: Option<PathBuf>,
    send: &str,
) -> Result<(), String> {
    let (expected, spoil): (u16, fn(&mut Vec<u8>)) = match send {
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
    let path = scratch(dir, "submit");
    let authority = SigningKey::from_bytes(&[9; 32]);
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
    let accepted = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    // Records are signed ahead, in batches, by the generator threads; their CPU time
    // (signing, HTTP framing, waiting syscalls) is measured per thread and reported apart.
    const AHEAD: usize = 256;
    let process_before = process_cpu_seconds();
    let started = Instant::now();
    let threads: Vec<_> = (0..connections)
        .map(|c| {
            let (stop, accepted, errors, authority) = (
                Arc::clone(&stop),
                Arc::clone(&accepted),
                Arc::clone(&errors),
                authority.clone(),
            );
            std::thread::spawn(move || -> f64 {
                let cpu_before = thread_cpu_seconds();
                let Ok(stream) = TcpStream::connect(addr) else {
                    errors.fetch_add(1, Ordering::Relaxed);
                    return thread_cpu_seconds() - cpu_before;
                };
                let _ = stream.set_nodelay(true);
                let mut stream = BufReader::new(stream);
                let mut next = 0u64;
                let mut ready: Vec<Vec<u8>> = Vec::with_capacity(AHEAD);
                while !stop.load(Ordering::Relaxed) {
                    if ready.is_empty() {
                        for _ in 0..AHEAD {
                            match open_record(&authority, &format!("bench {c} {next}")) {
                                Ok(mut r) => {
                                    spoil(&mut r);
                                    ready.push(r);
                                }
                                Err(_) => return thread_cpu_seconds() - cpu_before,
                            }
                            next += 1;
                        }
                        ready.reverse();
                    }
                    let Some(record) = ready.pop() else { break };
                    match post_record(&mut stream, &record) {
                        Ok(status) if status == expected => {
                            accepted.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(_) => {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(_) => {
                            errors.fetch_add(1, Ordering::Relaxed);
                            break;
                        }
                    }
                }
                thread_cpu_seconds() - cpu_before
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    let generator_cpu: f64 = threads.into_iter().filter_map(|t| t.join().ok()).sum();
    let elapsed = started.elapsed().as_secs_f64();
    let process_cpu = process_cpu_seconds() - process_before;
    let n = accepted.load(Ordering::Relaxed);
    println!(
        "signed records (context.open, ~{} bytes) submitted over HTTP/1.1 keep-alive on loopback, {connections} connections, {seconds} s ({}; load generator in the same process)",
        open_record(&authority, "bench 0 0").map_or(0, |r| r.len()),
        machine()
    );
    println!(
        "  {n} answered {expected} ({send}) = {:.0} records/s; {} errors",
        n as f64 / elapsed,
        errors.load(Ordering::Relaxed)
    );
    println!(
        "  CPU: server {:.1} s ({:.0}% of a core), load generator {:.1} s ({:.0}% of a core), over {elapsed:.1} s",
        process_cpu - generator_cpu,
        (process_cpu - generator_cpu) / elapsed * 100.0,
        generator_cpu,
        generator_cpu / elapsed * 100.0
    );
    let _ = stop_server.send(());
    let _ = runtime.block_on(serving);
    drop(board);
    let _ = std::fs::remove_dir_all(&path);
    Ok(())
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
        } => submit(seconds, connections, dir, &send),
        BenchCommand::Ballots(args) => crate::bench_ballots::run(args),
    }
}
