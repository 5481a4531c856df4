//! `urne`: the board operator's, the authority's, the witness's and the observer's tool.

mod anonymous;
mod assembly_cmd;
mod bench;
mod bench_ballots;
mod demo_cmd;
mod keys;
mod output;
mod roles;
mod verify_cmd;

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
use urne_client::{BoardClient, ClientOptions};
use urne_log::note::{CosignatureVerifier, Cosigner, Note, NoteVerifier};
use urne_log::{Checkpoint, leaf_hash, verify_consistency, verify_inclusion};
use urne_server::{AppState, ServerConfig};

use crate::keys::Role;
use crate::output::{Failure, note, say, stderr_line};

#[derive(Parser)]
#[command(
    name = "urne",
    version,
    about = "urne: a verifiable bulletin board for elections, petitions and assemblies"
)]
struct Cli {
    #[command(flatten)]
    board: BoardArgs,
    #[command(subcommand)]
    command: Command,
}

/// How to reach the board: accepted anywhere on the command line.
#[derive(Args)]
struct BoardArgs {
    /// The board's URL: https://, or http:// to a loopback address.
    #[arg(
        long,
        global = true,
        env = "URNE_BOARD",
        default_value = "http://127.0.0.1:8400"
    )]
    board: String,
    /// Allow plain http:// to a board that is not on a loopback address (records and
    /// submissions then travel in the clear).
    #[arg(long, global = true)]
    allow_plain_http: bool,
}

impl BoardArgs {
    fn client(&self) -> Result<BoardClient, Failure> {
        Ok(BoardClient::with_options(
            &self.board,
            &ClientOptions::allowing_plain_http(self.allow_plain_http),
        )?)
    }
}

#[derive(Subcommand)]
enum Command {
    /// Run a whole election end to end on an embedded board — ceremony, credentials,
    /// ballots with revotes and audits, tally with a trustee absent — then verify the
    /// board from its log alone and print the results with timings.
    Demo(demo_cmd::DemoArgs),
    /// A chamber's remote voting (spec/40): sittings, roster, presence, divisions,
    /// votes, proxies, quorum and recounted results.
    Assembly {
        #[command(subcommand)]
        command: assembly_cmd::AssemblyCommand,
    },
    /// The election authority: create an election, run its phases.
    Election {
        #[command(subcommand)]
        command: roles::ElectionCommand,
    },
    /// A trustee: identity key, the key ceremony, decryption shares.
    Trustee {
        #[command(subcommand)]
        command: roles::TrusteeCommand,
    },
    /// The registrar: voters' credentials.
    Registrar {
        #[command(subcommand)]
        command: roles::RegistrarCommand,
    },
    /// A voter: encrypt, sign and cast a ballot (or audit it first with --audit).
    Vote(roles::VoteArgs),
    /// Anyone: check that an audited ballot encrypts the choices its device showed.
    Audit {
        /// The election's context id.
        #[arg(long)]
        election: String,
        /// The ballot's tracking code, as `urne vote --audit` printed it.
        #[arg(long)]
        tracking_code: String,
    },
    /// The authority: combine the trustees' decryption shares and post the result.
    Tally(roles::AuthorityArgs),
    /// Anyone: verify the whole board against its signed checkpoint, then print an
    /// election's result.
    Results {
        /// The election's context id.
        #[arg(long)]
        election: String,
        #[command(flatten)]
        keys: BoardKeyArgs,
    },
    #[command(flatten)]
    Observer(verify_cmd::ObserverCommand),
    /// Run the bulletin board (embedded store in a data directory).
    Serve(ServeArgs),
    /// Create an Ed25519 key file for one role and print its public form.
    Keygen {
        /// What the key is for: one key per role.
        #[arg(long, value_enum)]
        role: Role,
        /// Where to write the key (refuses to overwrite).
        #[arg(long)]
        out: PathBuf,
        /// The board's origin or the witness's name, for its verifier key (vkey).
        #[arg(long)]
        name: Option<String>,
    },
    /// Sign a record and submit it to a board.
    Post(PostArgs),
    /// The anonymous mode: `urne wallet …` (spec/30).
    #[command(flatten)]
    Anonymous(anonymous::Command),
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
        /// Where the read-only check copies index.sled (sled writes to what it opens);
        /// default: the directory holding --data.
        #[arg(long)]
        scratch: Option<PathBuf>,
    },
    /// Check the standards of docs/conformance.md that need no network beyond loopback,
    /// on a board started in this process, and print its table with pass/fail per row.
    Conformance(urne_cli::conformance::ConformanceArgs),
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
    /// The log's origin and board key name. Default: --public-url without its scheme,
    /// else the origin the board in --data already has, else the listen address.
    #[arg(long)]
    origin: Option<String>,
    /// The URL prefix clients reach the board at (https://vote.example.org/board); the
    /// default origin is it without the scheme (C2SP tlog-tiles).
    #[arg(long)]
    public_url: Option<String>,
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
    public_url: Option<String>,
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
    /// The storage scrub's pace, in log entries read and rehashed per second (0: no bound).
    scrub_entries_per_second: Option<u64>,
    /// Most submissions taken and not yet answered (spec/12 §12.5; at least 1).
    max_queued_records: Option<usize>,
    /// Most bytes of submissions taken and not yet answered (at least 1).
    max_queued_bytes: Option<usize>,
    /// Longest snapshot answer the public route serves (spec/61 §61.2).
    max_snapshot_bytes: Option<usize>,
    /// Most bytes of snapshot answers kept encoded (spec/61 §61.2).
    max_snapshot_cache_bytes: Option<usize>,
}

#[derive(Args)]
struct BoardKeyArgs {
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
    fn verifier(&self) -> Result<NoteVerifier, Failure> {
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
        Ok(NoteVerifier::from_vkey(&vkey).map_err(|e| format!("board key: {e}"))?)
    }

    fn witnesses(&self) -> Result<Vec<CosignatureVerifier>, Failure> {
        Ok(self
            .witnesses
            .iter()
            .map(|v| CosignatureVerifier::from_vkey(v).map_err(|e| format!("witness key {v}: {e}")))
            .collect::<Result<_, _>>()?)
    }
}

#[derive(Args)]
struct PostArgs {
    /// The signer's key file (an authority key).
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
        /// Seconds to wait for a checkpoint covering a record acknowledged a moment ago.
        #[arg(long, default_value_t = 10)]
        wait: u64,
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
    /// The witness's cosigning key (a witness key; created if missing).
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

fn serve(args: ServeArgs) -> Result<(), Failure> {
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
    // Opening a new data directory builds its index from nothing: that is no repair
    // and must not be reported as one.
    let fresh = !data.join("log.dat").exists();
    std::fs::create_dir_all(&data).map_err(|e| format!("{}: {e}", data.display()))?;
    // Bound before the board opens: with port 0 the address, and so the default origin,
    // is known only once bound.
    let listen = args
        .listen
        .or(file.listen)
        .unwrap_or(ServerConfig::default().listen);
    let listener =
        std::net::TcpListener::bind(listen).map_err(|e| format!("listen on {listen}: {e}"))?;
    let bound = listener.local_addr().map_err(|e| e.to_string())?;
    let existing = std::fs::read_to_string(data.join("board.vkey"))
        .ok()
        .and_then(|vkey| NoteVerifier::from_vkey(vkey.trim()).ok())
        .map(|verifier| verifier.name().to_owned());
    let origin = urne_server::board_origin(
        args.origin.or(file.origin).as_deref(),
        args.public_url.or(file.public_url).as_deref(),
        existing.as_deref(),
        bound,
    )?;
    let key_path = args
        .key
        .or(file.key)
        .unwrap_or_else(|| data.join("board.key"));
    let (seed, created) = keys::read_or_create(&key_path, Role::Board)?;
    if created {
        note!("created the board key {}", key_path.display());
    }
    let mut authority_hex: Vec<String> = file.authorities;
    authority_hex.extend(args.authorities);
    if authority_hex.is_empty() {
        let path = data.join("authority.key");
        let (authority, created) = keys::read_or_create(&path, Role::Authority)?;
        authority_hex.push(hex::encode(
            keys::signing_key(&authority).verifying_key().as_bytes(),
        ));
        note!(
            "{} the authority key {} (no --authority given: it alone may open contexts)",
            if created { "created" } else { "using" },
            path.display()
        );
        stderr_line!(
            "urne: warning: the authority key is on the board machine: fine for a trial; for a real election create it elsewhere (urne keygen --role authority) and give the board only its public key (--authority)"
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
    let mut config = BoardConfig::new(origin, seed, authorities, witnesses);
    if let Some(v) = file.scrub_entries_per_second {
        config.scrub_entries_per_second = v;
    }
    if let Some(v) = file.max_queued_records {
        config.max_queued_records = v;
    }
    if let Some(v) = file.max_queued_bytes {
        config.max_queued_bytes = v;
    }
    let (board, report) =
        Board::open(&data, config, Registry::standard()).map_err(|e| e.to_string())?;
    if !fresh {
        for repair in &report.repaired {
            note!("repaired: {repair}");
        }
    }
    if let Some(cut) = &report.cut {
        note!(
            "cut {} damaged or torn bytes of log.dat from entry {} ({}); kept in {}",
            cut.bytes,
            cut.entry,
            cut.why,
            data.join(&cut.file).display()
        );
    }
    let vkey_path = data.join("board.vkey");
    urne_fsutil::replace(&vkey_path, format!("{}\n", board.vkey()).as_bytes(), 0o644)
        .map_err(|e| format!("{}: {e}", vkey_path.display()))?;
    let mut server = ServerConfig {
        push_witnesses,
        ..ServerConfig::default()
    };
    server.listen = bound;
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
    if let Some(v) = file.max_snapshot_bytes {
        server.max_snapshot_bytes = v;
    }
    if let Some(v) = file.max_snapshot_cache_bytes {
        server.max_snapshot_cache_bytes = v;
    }
    let listen = server.listen;
    note!("board {} with {} entries", board.origin(), report.size);
    note!(
        "board key (vkey): {}  (also in {})",
        board.vkey(),
        vkey_path.display()
    );
    urne_server::json_logs();
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        listener.set_nonblocking(true).map_err(|e| format!("listen on {listen}: {e}"))?;
        let listener = tokio::net::TcpListener::from_std(listener).map_err(|e| format!("listen on {listen}: {e}"))?;
        note!("listening on http://{}", listener.local_addr().map_err(|e| e.to_string())?);
        let shutdown = async {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {}
            }
            note!("shutting down: finishing requests, signing a last checkpoint");
        };
        urne_server::serve(listener, AppState::new(Arc::new(board), server), shutdown).await.map_err(|e| Failure::from(e.to_string()))
    })
}

fn keygen(role: Role, out: &Path, name: Option<&str>) -> Result<(), Failure> {
    let name = match (role, name) {
        (Role::Board | Role::Witness, None) => {
            return Err(format!(
                "--name is needed for a {} key (its verifier key carries the name)",
                role.name()
            )
            .into());
        }
        (_, name) => name,
    };
    let seed = keys::create_seed(out, role)?;
    let key = keys::signing_key(&seed);
    say!("key file:   {} ({} key)", out.display(), role.name())?;
    say!(
        "public key: {}",
        hex::encode(key.verifying_key().as_bytes())
    )?;
    match (role, name) {
        (Role::Board, Some(name)) => {
            let signer =
                urne_log::note::NoteSigner::from_seed(name, &seed).map_err(|e| e.to_string())?;
            say!("board vkey: {}", signer.verifier().to_vkey())?;
        }
        (Role::Witness, Some(name)) => {
            let cosigner = Cosigner::from_seed(name, &seed).map_err(|e| e.to_string())?;
            say!("witness vkey: {}", cosigner.verifier().to_vkey())?;
        }
        _ => {}
    }
    Ok(())
}

fn authority_key(path: Option<&PathBuf>) -> Result<ed25519_dalek::SigningKey, Failure> {
    let path = path.ok_or("--key is needed to sign a record")?;
    let seed = keys::read_seed(path, Role::Authority)?;
    Ok(keys::signing_key(&seed))
}

fn post(board: &BoardArgs, args: PostArgs) -> Result<(), Failure> {
    let client = board.client()?;
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
            let key = authority_key(args.key.as_ref())?;
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
            let key = authority_key(args.key.as_ref())?;
            Record::sign(id, CONTEXT_PHASE, &[phase], &key)
                .map_err(|e| e.to_string())?
                .into_bytes()
        }
    };
    let record = Record::parse(bytes.clone()).map_err(|e| e.to_string())?;
    let receipt = client.post_record(&bytes).map_err(|e| match e.board_code() {
        // spec/13: a 504 means the record may still have been stored.
        Some("timeout") => format!(
            "the board did not answer in time; record {} may still have been stored (look it up by hash): {e}",
            urne_log::Hash(record.hash())
        ),
        Some(_) => format!("the board refused the record: {e}"),
        None => format!("submitting the record failed: {e}"),
    })?;
    say!("accepted: entry {}", receipt.index)?;
    say!("record hash: {}", urne_log::Hash(record.hash()))?;
    if record.kind() == CONTEXT_OPEN {
        say!("context id:  {}", record.context().to_hex())?;
    }
    Ok(())
}

fn log(board: &BoardArgs, command: LogCommand) -> Result<(), Failure> {
    let client = board.client()?;
    match command {
        LogCommand::Checkpoint { keys, save } => {
            let signed = client.checkpoint(&keys.verifier()?, &keys.witnesses()?, keys.quorum)?;
            let checkpoint = &signed.checkpoint;
            if let Some(path) = &save {
                urne_fsutil::replace(path, signed.text.as_bytes(), 0o644)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
            }
            say!(
                "checkpoint verified: {} size {} root {}",
                checkpoint.origin(),
                checkpoint.size(),
                checkpoint.root()
            )?;
            say!(
                "cosigned by {} of {} known witnesses",
                signed.cosigned,
                keys.witnesses.len()
            )?;
            if let Some(path) = save {
                say!("saved to {}", path.display())?;
            }
            Ok(())
        }
        LogCommand::VerifyInclusion {
            keys,
            hash,
            record,
            wait,
        } => {
            let leaf = match (hash, record) {
                (Some(h), None) => {
                    urne_client::parse_hash(&h).ok_or("--hash: expected 64 lowercase hex digits")?
                }
                (None, Some(f)) => {
                    leaf_hash(&std::fs::read(&f).map_err(|e| format!("{}: {e}", f.display()))?)
                }
                _ => return Err("give --hash or --record".into()),
            };
            // A record acknowledged a moment ago is durable but in no signed checkpoint
            // until the next one (spec/15 §15.3): find its index, then wait, bounded.
            let (index, _) = client.record(&leaf)?;
            let signed = client.checkpoint_covering(
                &keys.verifier()?,
                &keys.witnesses()?,
                keys.quorum,
                &leaf,
                index,
                Duration::from_secs(wait),
            )?;
            let checkpoint = &signed.checkpoint;
            let proof = client.inclusion_proof(&leaf, checkpoint.size())?;
            if proof.index != index {
                return Err(format!(
                    "INCLUSION PROOF FAILED: the board served record {leaf} as entry {index} but proves it at {}",
                    proof.index
                )
                .into());
            }
            verify_inclusion(
                &leaf,
                proof.index,
                checkpoint.size(),
                &proof.proof,
                checkpoint.root(),
            )
            .map_err(|e| format!("INCLUSION PROOF FAILED: {e}"))?;
            say!(
                "verified: record {leaf} is entry {index} of the log of size {} signed by {} (cosigned by {} known witnesses)",
                checkpoint.size(),
                checkpoint.origin(),
                signed.cosigned
            )?;
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
            let now = client
                .checkpoint(&verifier, &keys.witnesses()?, keys.quorum)?
                .checkpoint;
            let proof = client.consistency_proof(before.size(), now.size())?;
            verify_consistency(before.size(), now.size(), before.root(), now.root(), &proof)
                .map_err(|e| {
                    format!("CONSISTENCY PROOF FAILED — the board rewrote its history: {e}")
                })?;
            say!(
                "verified: the log of size {} extends the checkpoint of size {} you kept",
                now.size(),
                before.size()
            )?;
            Ok(())
        }
    }
}

fn witness(board: &BoardArgs, args: WitnessArgs) -> Result<(), Failure> {
    let (seed, created) = keys::read_or_create(&args.key, Role::Witness)?;
    let cosigner = Cosigner::from_seed(&args.name, &seed).map_err(|e| e.to_string())?;
    if created {
        say!("created the witness key {}", args.key.display())?;
    }
    say!(
        "witness {} (vkey: {})",
        args.name,
        cosigner.verifier().to_vkey()
    )?;
    let witness = urne_witness::Witness::new(args.keys.verifier()?, cosigner, &args.state)
        .map_err(|e| e.to_string())?;
    if let Some(addr) = args.serve {
        return serve_witness(witness, addr);
    }
    let mut source = board.client()?;
    loop {
        match witness.step(&mut source) {
            Ok(urne_witness::Outcome::Cosigned(size)) => {
                say!("cosigned checkpoint of size {size}")?;
            }
            Ok(urne_witness::Outcome::Unchanged(_)) => {}
            Err(e @ urne_witness::WitnessError::Fork { .. }) => return Err(e.to_string().into()),
            // One round asked for and it failed: the exit status must say so (spec/14 §14.4).
            Err(e) if args.once => return Err(format!("round failed: {e}").into()),
            Err(e) => stderr_line!("round failed: {e}"),
        }
        if args.once {
            return Ok(());
        }
        std::thread::sleep(Duration::from_secs(args.interval));
    }
}

/// `urne witness --serve`: the tlog-witness push API until Ctrl-C (spec/14 §14.2).
fn serve_witness(witness: urne_witness::Witness, addr: SocketAddr) -> Result<(), Failure> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| format!("{addr}: {e}"))?;
        // A log line of a long-running service: a closed stdout must not stop it.
        note!("witness listening on http://{addr}/add-checkpoint");
        urne_witness::serve::serve(listener, Arc::new(witness), async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| Failure::from(e.to_string()))
    })
}

fn fsck(data: &Path, repair: bool, salvage: bool, scratch: Option<PathBuf>) -> Result<(), String> {
    let mut options = urne_board::board::store_options();
    options.salvage = salvage;
    let started = std::time::Instant::now();
    let mut fsck_options = urne_store::FsckOptions::new(repair);
    if let Some(scratch) = scratch {
        fsck_options = fsck_options.with_scratch(scratch);
    }
    let report = urne_store::fsck(data, &options, &fsck_options, |n| {
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
        Command::Demo(args) => demo_cmd::run(args),
        Command::Anonymous(command) => anonymous::run(&cli.board, command),
        Command::Assembly { command } => assembly_cmd::run(&cli.board, command),
        Command::Election { command } => roles::election(&cli.board, command),
        Command::Trustee { command } => roles::trustee(&cli.board, command),
        Command::Registrar { command } => roles::registrar(&cli.board, command),
        Command::Vote(args) => roles::vote(&cli.board, args),
        Command::Audit {
            election,
            tracking_code,
        } => roles::audit(&cli.board, &election, &tracking_code),
        Command::Tally(args) => roles::tally(&cli.board, args),
        Command::Results { election, keys } => roles::results(&cli.board, &election, &keys),
        Command::Observer(command) => verify_cmd::run(&cli.board, command),
        Command::Serve(args) => serve(args),
        Command::Keygen { role, out, name } => keygen(role, &out, name.as_deref()),
        Command::Post(args) => post(&cli.board, args),
        Command::Log { command } => log(&cli.board, command),
        Command::Witness(args) => witness(&cli.board, args),
        Command::Fsck {
            data,
            repair,
            salvage,
            scratch,
        } => fsck(&data, repair, salvage, scratch).map_err(Failure::from),
        Command::Bench { command } => bench::run(command).map_err(Failure::from),
        Command::Conformance(args) => urne_cli::conformance::command(&args)
            .map_err(Failure::from)
            .and_then(|report| {
                say!("{}", report.table())?;
                if report.failed() {
                    Err("a conformance check failed: see the FAIL rows".into())
                } else {
                    Ok(())
                }
            }),
    };
    match result {
        Ok(()) | Err(Failure::StdoutClosed) => ExitCode::SUCCESS,
        Err(Failure::Message(e)) => {
            stderr_line!("urne: {e}");
            ExitCode::FAILURE
        }
    }
}
