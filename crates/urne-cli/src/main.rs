//! `urne`: the board operator's, the authority's, the witness's and the observer's tool.

mod bench;
mod client;
mod keys;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use serde::Deserialize;
use urne_board::kinds::{CONTEXT_OPEN, CONTEXT_PHASE};
use urne_board::{
    Board, BoardConfig, ContextId, ContextOpen, ContextType, LinearMachine, Record, Registry,
};
use urne_log::note::{CosignatureVerifier, Cosigner, Note, NoteVerifier};
use urne_log::{Checkpoint, Hash, leaf_hash, verify_consistency, verify_inclusion};
use urne_server::{AppState, ServerConfig};

use crate::client::BoardClient;

#[derive(Parser)]
#[command(
    name = "urne",
    version,
    about = "urne: a verifiable bulletin board for elections, petitions and assemblies"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the bulletin board (embedded store in a data directory).
    Serve(ServeArgs),
    /// Create an Ed25519 key file and print its public forms.
    Keygen {
        /// Where to write the key (refuses to overwrite).
        #[arg(long)]
        out: PathBuf,
        /// A name to print the verifier keys (vkeys) under.
        #[arg(long)]
        name: Option<String>,
    },
    /// Sign a record and submit it to a board.
    Post(PostArgs),
    /// Fetch and check the board's checkpoint and proofs.
    Log {
        #[command(subcommand)]
        command: LogCommand,
    },
    /// Follow a board and cosign its checkpoints (refusing forks).
    Witness(WitnessArgs),
    /// Check a stopped board's storage in full: rehash every entry and every tree node.
    /// Read-only unless --repair.
    Fsck {
        /// The board's data directory.
        #[arg(long, default_value = "urne-data")]
        data: PathBuf,
        /// Repair what opening the store repairs (derived files, a torn tail cut into a
        /// side file), then check.
        #[arg(long)]
        repair: bool,
        /// With --repair: also cut a damaged entry and everything after it, although
        /// acknowledged records follow, into a side file (spec/11-storage.md §11.4).
        #[arg(long, requires = "repair")]
        salvage: bool,
    },
    /// Measure the board's storage and HTTP service.
    Bench {
        #[command(subcommand)]
        command: bench::BenchCommand,
    },
}

#[derive(Args)]
struct ServeArgs {
    /// A TOML file with any of the settings below (flags override it).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Data directory (default ./urne-data).
    #[arg(long)]
    data: Option<PathBuf>,
    /// The log's origin and board key name (default urne.local/board).
    #[arg(long)]
    origin: Option<String>,
    /// Board signing key (default <data>/board.key, created on first start).
    #[arg(long)]
    key: Option<PathBuf>,
    /// Address to listen on (default 127.0.0.1:8400: loopback unless told otherwise).
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Public key (hex) allowed to open contexts; repeatable. With none, the board
    /// creates <data>/authority.key and allows that key.
    #[arg(long = "authority")]
    authorities: Vec<String>,
    /// A witness's verifier key (vkey) whose cosignatures the board gathers; repeatable.
    #[arg(long = "witness")]
    witnesses: Vec<String>,
    /// A witness to push each new checkpoint to (tlog-witness `add-checkpoint`), as
    /// `<url>=<vkey>`; its key is also gathered as with --witness. Repeatable.
    #[arg(long = "push-witness")]
    push_witnesses: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ServeFile {
    data: Option<PathBuf>,
    origin: Option<String>,
    key: Option<PathBuf>,
    listen: Option<SocketAddr>,
    #[serde(default)]
    authorities: Vec<String>,
    #[serde(default)]
    witnesses: Vec<String>,
    #[serde(default)]
    push_witnesses: Vec<String>,
    max_concurrent: Option<usize>,
    request_timeout_seconds: Option<u64>,
    writes_per_second: Option<u32>,
    reads_per_second: Option<u32>,
    checkpoint_interval_ms: Option<u64>,
}

#[derive(Args)]
struct BoardKeyArgs {
    /// The board's URL.
    #[arg(long, default_value = "http://127.0.0.1:8400")]
    board: String,
    /// The board's verifier key (vkey), obtained out of band.
    #[arg(long)]
    board_key: Option<String>,
    /// A file holding the board's vkey (e.g. <data>/board.vkey).
    #[arg(long)]
    board_key_file: Option<PathBuf>,
    /// A witness vkey to count cosignatures of; repeatable.
    #[arg(long = "witness")]
    witnesses: Vec<String>,
    /// Require this many known witnesses to have cosigned the checkpoint.
    #[arg(long, default_value_t = 0)]
    quorum: usize,
}

impl BoardKeyArgs {
    fn verifier(&self) -> Result<NoteVerifier, String> {
        let vkey = match (&self.board_key, &self.board_key_file) {
            (Some(k), None) => k.clone(),
            (None, Some(f)) => std::fs::read_to_string(f)
                .map_err(|e| format!("{}: {e}", f.display()))?
                .trim()
                .to_owned(),
            _ => {
                return Err(
                    "give the board's key: --board-key VKEY or --board-key-file FILE".into(),
                );
            }
        };
        NoteVerifier::from_vkey(&vkey).map_err(|e| format!("board key: {e}"))
    }

    fn witnesses(&self) -> Result<Vec<CosignatureVerifier>, String> {
        self.witnesses
            .iter()
            .map(|v| CosignatureVerifier::from_vkey(v).map_err(|e| format!("witness key {v}: {e}")))
            .collect()
    }
}

#[derive(Args)]
struct PostArgs {
    /// The board's URL.
    #[arg(long, default_value = "http://127.0.0.1:8400")]
    board: String,
    /// The signer's key file.
    #[arg(long)]
    key: Option<PathBuf>,
    #[command(subcommand)]
    record: PostRecord,
}

#[derive(Subcommand)]
enum PostRecord {
    /// Open a context (election, petition, sitting).
    ContextOpen {
        /// Its name.
        #[arg(long)]
        name: String,
        /// Hash of its parameters (hex; default all zeros).
        #[arg(long)]
        parameters: Option<String>,
    },
    /// Move a context to its next phase.
    ContextPhase {
        /// The context id (hex).
        #[arg(long)]
        context: String,
        /// The next phase (ceremony, registration, voting, closed, tallying, published).
        #[arg(long)]
        to: String,
    },
    /// Submit a record already made (its bytes in a file).
    Raw {
        /// The file.
        #[arg(long)]
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum LogCommand {
    /// Fetch the checkpoint, check the board's signature (and a witness quorum).
    Checkpoint {
        #[command(flatten)]
        keys: BoardKeyArgs,
        /// Save the checkpoint note to this file (for verify-consistency later).
        #[arg(long)]
        save: Option<PathBuf>,
    },
    /// Check that a record is in the log the board signed.
    VerifyInclusion {
        #[command(flatten)]
        keys: BoardKeyArgs,
        /// The record's hash.
        #[arg(long)]
        hash: Option<String>,
        /// The record's bytes in a file (its hash is computed).
        #[arg(long)]
        record: Option<PathBuf>,
    },
    /// Check that the log today extends a checkpoint saved earlier.
    VerifyConsistency {
        #[command(flatten)]
        keys: BoardKeyArgs,
        /// The earlier checkpoint note (from `urne log checkpoint --save`).
        #[arg(long)]
        old: PathBuf,
    },
}

#[derive(Args)]
struct WitnessArgs {
    #[command(flatten)]
    keys: BoardKeyArgs,
    /// The witness's cosigning key (created if missing).
    #[arg(long)]
    key: PathBuf,
    /// The witness's name (its key name, a schema-less URL).
    #[arg(long)]
    name: String,
    /// Where the witness keeps its state and evidence.
    #[arg(long)]
    state: PathBuf,
    /// Seconds between rounds.
    #[arg(long, default_value_t = 2)]
    interval: u64,
    /// One round, then exit (non-zero if the round failed).
    #[arg(long)]
    once: bool,
    /// Instead of pulling, answer the C2SP tlog-witness push API (`POST /add-checkpoint`)
    /// on this address (default 127.0.0.1:8500: loopback unless told otherwise).
    #[arg(long, num_args = 0..=1, default_missing_value = "127.0.0.1:8500", conflicts_with = "once")]
    serve: Option<SocketAddr>,
}

fn serve(args: ServeArgs) -> Result<(), String> {
    let file: ServeFile = match &args.config {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?
        }
        None => ServeFile::default(),
    };
    let data = args
        .data
        .or(file.data)
        .unwrap_or_else(|| PathBuf::from("urne-data"));
    std::fs::create_dir_all(&data).map_err(|e| format!("{}: {e}", data.display()))?;
    let origin = args
        .origin
        .or(file.origin)
        .unwrap_or_else(|| "urne.local/board".to_owned());
    let key_path = args
        .key
        .or(file.key)
        .unwrap_or_else(|| data.join("board.key"));
    let (seed, created) = keys::read_or_create(&key_path)?;
    if created {
        println!("created the board key {}", key_path.display());
    }
    let mut authority_hex: Vec<String> = file.authorities;
    authority_hex.extend(args.authorities);
    if authority_hex.is_empty() {
        let path = data.join("authority.key");
        let (authority, created) = keys::read_or_create(&path)?;
        authority_hex.push(keys::hex(
            keys::signing_key(&authority).verifying_key().as_bytes(),
        ));
        println!(
            "{} the authority key {} (no --authority given: it alone may open contexts)",
            if created { "created" } else { "using" },
            path.display()
        );
    }
    let authorities = authority_hex
        .iter()
        .map(|h| keys::parse_hex32(h, "authority"))
        .collect::<Result<Vec<_>, _>>()?;
    let mut witness_vkeys = file.witnesses;
    witness_vkeys.extend(args.witnesses);
    let mut witnesses = witness_vkeys
        .iter()
        .map(|v| CosignatureVerifier::from_vkey(v).map_err(|e| format!("witness {v}: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let push_witnesses = file
        .push_witnesses
        .iter()
        .chain(&args.push_witnesses)
        .map(|spec| urne_server::PushWitness::parse(spec))
        .collect::<Result<Vec<_>, _>>()?;
    witnesses.extend(push_witnesses.iter().map(|w| w.verifier.clone()));
    let config = BoardConfig::new(origin, seed, authorities, witnesses);
    let (board, report) =
        Board::open(&data, config, Registry::standard()).map_err(|e| e.to_string())?;
    for repair in &report.repaired {
        println!("repaired: {repair}");
    }
    if let Some(cut) = &report.cut {
        println!(
            "cut {} damaged or torn bytes of log.dat from entry {} ({}); kept in {}",
            cut.bytes,
            cut.entry,
            cut.why,
            data.join(&cut.file).display()
        );
    }
    let vkey_path = data.join("board.vkey");
    std::fs::write(&vkey_path, format!("{}\n", board.vkey()))
        .map_err(|e| format!("{}: {e}", vkey_path.display()))?;
    let mut server = ServerConfig {
        push_witnesses,
        ..ServerConfig::default()
    };
    if let Some(l) = args.listen.or(file.listen) {
        server.listen = l;
    }
    if let Some(v) = file.max_concurrent {
        server.max_concurrent = v;
    }
    if let Some(v) = file.request_timeout_seconds {
        server.request_timeout = Duration::from_secs(v);
    }
    if let Some(v) = file.writes_per_second {
        server.writes_per_second = v;
    }
    if let Some(v) = file.reads_per_second {
        server.reads_per_second = v;
    }
    if let Some(v) = file.checkpoint_interval_ms {
        server.checkpoint_interval = Duration::from_millis(v);
    }
    let listen = server.listen;
    println!("board {} with {} entries", board.origin(), report.size);
    println!(
        "board key (vkey): {}  (also in {})",
        board.vkey(),
        vkey_path.display()
    );
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen).await.map_err(|e| format!("listen on {listen}: {e}"))?;
        println!("listening on http://{}", listener.local_addr().map_err(|e| e.to_string())?);
        let shutdown = async {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {}
            }
            println!("shutting down: finishing requests, signing a last checkpoint");
        };
        urne_server::serve(listener, AppState::new(Arc::new(board), server), shutdown).await.map_err(|e| e.to_string())
    })
}

fn keygen(out: &Path, name: Option<&str>) -> Result<(), String> {
    let seed = keys::create_seed(out)?;
    let key = keys::signing_key(&seed);
    println!("key file:   {}", out.display());
    println!("public key: {}", keys::hex(key.verifying_key().as_bytes()));
    if let Some(name) = name {
        let note = urne_log::note::NoteSigner::from_seed(name, &seed).map_err(|e| e.to_string())?;
        let witness = Cosigner::from_seed(name, &seed).map_err(|e| e.to_string())?;
        println!("as a board key, vkey:   {}", note.verifier().to_vkey());
        println!("as a witness key, vkey: {}", witness.verifier().to_vkey());
    }
    Ok(())
}

fn signing_key(path: Option<&PathBuf>) -> Result<ed25519_dalek::SigningKey, String> {
    let path = path.ok_or("--key is needed to sign a record")?;
    let seed = keys::read_seed(path)?;
    Ok(keys::signing_key(&seed))
}

fn post(args: PostArgs) -> Result<(), String> {
    let client = BoardClient::new(&args.board);
    let bytes = match &args.record {
        PostRecord::Raw { file } => {
            std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?
        }
        PostRecord::ContextOpen { name, parameters } => {
            let parameters = match parameters {
                Some(p) => keys::parse_hex32(p, "parameters")?,
                None => [0; 32],
            };
            // A fresh nonce: two openings with the same name and parameters are two
            // contexts (spec/12 §12.4).
            let mut nonce = [0u8; 16];
            rand::fill(&mut nonce);
            let body = ContextOpen {
                context_type: ContextType::ELECTION,
                nonce,
                name: name.clone(),
                parameters,
            }
            .to_body()
            .map_err(|e| e.to_string())?;
            let key = signing_key(args.key.as_ref())?;
            let id = ContextId::derive(key.verifying_key().as_bytes(), &body);
            Record::sign(id, CONTEXT_OPEN, &body, &key)
                .map_err(|e| e.to_string())?
                .into_bytes()
        }
        PostRecord::ContextPhase { context, to } => {
            let id = ContextId(keys::parse_hex32(context, "context")?);
            let phase = LinearMachine::election()
                .phase_code(to)
                .ok_or_else(|| format!("an election has no phase {to}"))?;
            let key = signing_key(args.key.as_ref())?;
            Record::sign(id, CONTEXT_PHASE, &[phase], &key)
                .map_err(|e| e.to_string())?
                .into_bytes()
        }
    };
    let record = Record::parse(bytes.clone()).map_err(|e| e.to_string())?;
    let (status, body) = client.post("/v1/records", "application/octet-stream", &bytes)?;
    let answer = String::from_utf8_lossy(&body);
    if status != 201 {
        return Err(format!("the board refused the record ({status}): {answer}"));
    }
    println!("accepted: {answer}");
    println!("record hash: {}", urne_log::Hash(record.hash()));
    if record.kind() == CONTEXT_OPEN {
        println!("context id:  {}", record.context().to_hex());
    }
    Ok(())
}

fn log(command: LogCommand) -> Result<(), String> {
    match command {
        LogCommand::Checkpoint { keys, save } => {
            let client = BoardClient::new(&keys.board);
            let (checkpoint, text, cosigned) =
                client.checkpoint(&keys.verifier()?, &keys.witnesses()?, keys.quorum)?;
            println!(
                "checkpoint verified: {} size {} root {}",
                checkpoint.origin(),
                checkpoint.size(),
                checkpoint.root()
            );
            println!(
                "cosigned by {cosigned} of {} known witnesses",
                keys.witnesses.len()
            );
            if let Some(path) = save {
                std::fs::write(&path, &text).map_err(|e| format!("{}: {e}", path.display()))?;
                println!("saved to {}", path.display());
            }
            Ok(())
        }
        LogCommand::VerifyInclusion { keys, hash, record } => {
            let leaf = match (hash, record) {
                (Some(h), None) => {
                    Hash::from_hex(&h).ok_or("--hash: expected 64 lowercase hex digits")?
                }
                (None, Some(f)) => {
                    leaf_hash(&std::fs::read(&f).map_err(|e| format!("{}: {e}", f.display()))?)
                }
                _ => return Err("give --hash or --record".into()),
            };
            let client = BoardClient::new(&keys.board);
            let (checkpoint, _, cosigned) =
                client.checkpoint(&keys.verifier()?, &keys.witnesses()?, keys.quorum)?;
            let body = client.get_ok(&format!(
                "/v1/proof/inclusion?hash={}&size={}",
                leaf.to_hex(),
                checkpoint.size()
            ))?;
            let value: serde_json::Value =
                serde_json::from_slice(&body).map_err(|e| e.to_string())?;
            let index = value["index"]
                .as_u64()
                .ok_or("proof response has no index")?;
            let proof = client::hashes_field(&body, "proof")?;
            verify_inclusion(&leaf, index, checkpoint.size(), &proof, checkpoint.root())
                .map_err(|e| format!("INCLUSION PROOF FAILED: {e}"))?;
            println!(
                "verified: record {leaf} is entry {index} of the log of size {} signed by {} (cosigned by {cosigned} known witnesses)",
                checkpoint.size(),
                checkpoint.origin()
            );
            Ok(())
        }
        LogCommand::VerifyConsistency { keys, old } => {
            let verifier = keys.verifier()?;
            let text =
                std::fs::read_to_string(&old).map_err(|e| format!("{}: {e}", old.display()))?;
            let old_note =
                Note::parse(text.as_bytes()).map_err(|e| format!("{}: {e}", old.display()))?;
            let before = Checkpoint::open(&old_note, &verifier)
                .map_err(|e| format!("{}: {e}", old.display()))?;
            let client = BoardClient::new(&keys.board);
            let (now, _, _) = client.checkpoint(&verifier, &keys.witnesses()?, keys.quorum)?;
            let proof = client.consistency(before.size(), now.size())?;
            verify_consistency(before.size(), now.size(), before.root(), now.root(), &proof)
                .map_err(|e| {
                    format!("CONSISTENCY PROOF FAILED — the board rewrote its history: {e}")
                })?;
            println!(
                "verified: the log of size {} extends the checkpoint of size {} you kept",
                now.size(),
                before.size()
            );
            Ok(())
        }
    }
}

fn witness(args: WitnessArgs) -> Result<(), String> {
    let (seed, created) = keys::read_or_create(&args.key)?;
    let cosigner = Cosigner::from_seed(&args.name, &seed).map_err(|e| e.to_string())?;
    if created {
        println!("created the witness key {}", args.key.display());
    }
    println!(
        "witness {} (vkey: {})",
        args.name,
        cosigner.verifier().to_vkey()
    );
    let witness = urne_witness::Witness::new(args.keys.verifier()?, cosigner, &args.state)
        .map_err(|e| e.to_string())?;
    if let Some(addr) = args.serve {
        return serve_witness(witness, addr);
    }
    let mut client = BoardClient::new(&args.keys.board);
    loop {
        match witness.step(&mut client) {
            Ok(urne_witness::Outcome::Cosigned(size)) => {
                println!("cosigned checkpoint of size {size}")
            }
            Ok(urne_witness::Outcome::Unchanged(_)) => {}
            Err(e @ urne_witness::WitnessError::Fork { .. }) => return Err(e.to_string()),
            // One round asked for and it failed: the exit status must say so (spec/14 §14.4).
            Err(e) if args.once => return Err(format!("round failed: {e}")),
            Err(e) => eprintln!("round failed: {e}"),
        }
        if args.once {
            return Ok(());
        }
        std::thread::sleep(Duration::from_secs(args.interval));
    }
}

/// `urne witness --serve`: the tlog-witness push API until Ctrl-C (spec/14 §14.2).
fn serve_witness(witness: urne_witness::Witness, addr: SocketAddr) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| format!("{addr}: {e}"))?;
        println!("witness listening on http://{addr}/add-checkpoint");
        urne_witness::serve::serve(listener, Arc::new(witness), async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| e.to_string())
    })
}

fn fsck(data: &Path, repair: bool, salvage: bool) -> Result<(), String> {
    let mut options = urne_board::board::store_options();
    options.salvage = salvage;
    let started = std::time::Instant::now();
    let report = urne_store::fsck(data, &options, &urne_store::FsckOptions::new(repair), |n| {
        if n > 0 {
            eprint!("\rchecked {n} entries");
        }
    })
    .map_err(|e| e.to_string())?;
    eprintln!();
    for repair in &report.repaired {
        println!("repaired: {repair}");
    }
    for finding in &report.findings {
        match finding.entry {
            Some(entry) => println!("DAMAGED at entry {entry}: {}", finding.what),
            None => println!("DAMAGED: {}", finding.what),
        }
    }
    if !report.findings.is_empty() {
        return Err(format!(
            "STORAGE DAMAGED: {} finding(s) in {}{}",
            report.findings.len(),
            data.display(),
            if repair {
                ""
            } else {
                " (nothing was changed; see --repair)"
            }
        ));
    }
    println!(
        "ok: {} entries and every tree node rehashed in {:.1} s{}",
        report.entries,
        started.elapsed().as_secs_f64(),
        if repair { "" } else { " (read-only)" }
    );
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve(args),
        Command::Keygen { out, name } => keygen(&out, name.as_deref()),
        Command::Post(args) => post(args),
        Command::Log { command } => log(command),
        Command::Witness(args) => witness(args),
        Command::Fsck {
            data,
            repair,
            salvage,
        } => fsck(&data, repair, salvage),
        Command::Bench { command } => bench::run(command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("urne: {e}");
            ExitCode::FAILURE
        }
    }
}
