//! The observer's commands (spec/50, spec/51): `urne verify` re-checks a whole board from
//! its public log, `urne export` writes that log to an archive file.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use urne_client::{BoardClient, ClientOptions};
use urne_verify::{Archive, Options, Progress, Report, VerifiedState, VoterReceipt};

use crate::output::{Failure, say, stderr_line};
use crate::{BoardArgs, BoardKeyArgs};

/// The observer's commands.
#[derive(Subcommand)]
pub enum ObserverCommand {
    /// Anyone: re-run every check of spec/50 on a board (its URL) or an archive (a file
    /// `urne export` wrote). Exit status 0 only if every step passed.
    Verify(VerifyArgs),
    /// Anyone: write the board's public log (entries, checkpoint, cosignatures) to an
    /// archive file (spec/51), for `urne verify FILE` later or elsewhere.
    Export(ExportArgs),
    /// A voter: check a ballot's receipt (spec/52), or which ballots a credential cast.
    Receipt {
        #[command(subcommand)]
        command: ReceiptCommand,
    },
}

#[derive(Subcommand)]
pub enum ReceiptCommand {
    /// Check a receipt offline: the checkpoint signed by the board (and cosigned), the
    /// ballot's record in it at its index. With --later, also against the board's newest
    /// checkpoint through its consistency proof: the ballot is still on the log.
    Check {
        /// The receipt file `urne vote --cast` wrote.
        file: PathBuf,
        /// Also fetch the board's newest checkpoint and check it extends the receipt's.
        #[arg(long)]
        later: bool,
        #[command(flatten)]
        keys: ReceiptKeyArgs,
    },
    /// Verify the board (or an archive), then list the ballots cast with a credential:
    /// none for a voter who did not vote; the last one is the one counted.
    Credential {
        /// A board's URL or an archive file.
        source: String,
        /// The election's context id.
        #[arg(long)]
        election: String,
        /// The voter's credential file.
        #[arg(long)]
        credential: PathBuf,
        /// The receipt of the ballot the voter expects to be counted.
        #[arg(long)]
        receipt: Option<PathBuf>,
        #[command(flatten)]
        keys: TrustArgs,
    },
    /// In an anonymous election: verify the board (or an archive), then list the ballots
    /// cast under the wallet's tag in that election (spec/52 §52.4): none for a voter who
    /// did not vote; the last one is the one counted. The tag is computed here, from the
    /// wallet's secret and the election's snapshot on the log; nothing is sent.
    Tag {
        /// A board's URL or an archive file.
        source: String,
        /// The election's context id.
        #[arg(long)]
        election: String,
        #[command(flatten)]
        wallet: crate::anonymous::WalletFile,
        /// The receipt of the ballot the voter expects to be counted.
        #[arg(long)]
        receipt: Option<PathBuf>,
        #[command(flatten)]
        keys: TrustArgs,
    },
}

/// The anchors a receipt is checked against (spec/52 §52.2): the board's key and the
/// witnesses, every one of whom must have cosigned unless a smaller quorum is given. A
/// voter who names witnesses means them: a default of 0 would accept a checkpoint none
/// of them saw, which is what a split view looks like.
#[derive(Args)]
pub struct ReceiptKeyArgs {
    /// The board's verifier key (vkey), obtained out of band.
    #[arg(long)]
    board_key: Option<String>,
    /// A file holding the board's vkey (e.g. <data>/board.vkey).
    #[arg(long)]
    board_key_file: Option<PathBuf>,
    /// A witness vkey to count cosignatures of; repeatable.
    #[arg(long = "witness")]
    witnesses: Vec<String>,
    /// How many of the witnesses given must have cosigned the checkpoint (default: all
    /// of them).
    #[arg(long)]
    quorum: Option<usize>,
}

impl ReceiptKeyArgs {
    /// As the board-key arguments the other commands take, the quorum resolved.
    fn resolved(self) -> BoardKeyArgs {
        BoardKeyArgs {
            quorum: self.quorum.unwrap_or(self.witnesses.len()),
            board_key: self.board_key,
            board_key_file: self.board_key_file,
            witnesses: self.witnesses,
        }
    }
}

#[derive(Args)]
pub struct VerifyArgs {
    /// A board's URL (https://…, or http:// to a loopback address) or an archive file.
    source: String,
    /// Print the structured report (JSON) instead of the summary.
    #[arg(long)]
    json: bool,
    /// Incremental verification (spec/50 §50.6): the state an earlier run left here (an
    /// archive of what it verified) is read, only newer entries are checked, and the file
    /// is replaced by the new state once everything passes.
    #[arg(long)]
    state: Option<PathBuf>,
    #[command(flatten)]
    keys: TrustArgs,
    /// An election you mean (its context id): the verification fails unless it is on
    /// the log. Repeatable.
    #[arg(long = "election")]
    elections: Vec<String>,
    /// An authority key (Ed25519, 64 hex digits) you trust: every election on the log
    /// must be opened by one of those given. Repeatable.
    #[arg(long = "authority")]
    authorities: Vec<String>,
}

#[derive(Args)]
pub struct ExportArgs {
    /// Where to write the archive (a new file).
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    keys: TrustArgs,
}

/// The trust anchors of spec/50 §50.1: the board's key (required, unless the user
/// explicitly accepts the one the archive carries), the witnesses and their quorum.
#[derive(Args)]
pub struct TrustArgs {
    /// The board's verifier key (vkey), obtained out of band. Required unless
    /// --trust-archive-keys.
    #[arg(long)]
    board_key: Option<String>,
    /// A file holding the board's vkey.
    #[arg(long)]
    board_key_file: Option<PathBuf>,
    /// Without a board key, accept the key the archive, the state file or the board
    /// itself carries: this proves the log self-consistent only, not that it is the
    /// board you mean. The report says so.
    #[arg(long)]
    trust_archive_keys: bool,
    /// A witness vkey to count cosignatures of; repeatable.
    #[arg(long = "witness")]
    witnesses: Vec<String>,
    /// How many of the witnesses given must have cosigned the newest checkpoint
    /// (default: all of them).
    #[arg(long)]
    quorum: Option<usize>,
}

impl TrustArgs {
    fn board_vkey(&self) -> Result<Option<String>, Failure> {
        let vkey = match (&self.board_key, &self.board_key_file) {
            (None, None) => return Ok(None),
            (Some(k), None) => k.trim().to_owned(),
            (None, Some(f)) => std::fs::read_to_string(f)
                .map_err(|e| format!("{}: {e}", f.display()))?
                .trim()
                .to_owned(),
            (Some(_), Some(_)) => {
                return Err("give the board's key once: --board-key or --board-key-file".into());
            }
        };
        urne_log::note::NoteVerifier::from_vkey(&vkey).map_err(|e| format!("--board-key: {e}"))?;
        Ok(Some(vkey))
    }

    /// The verifier's options with these anchors.
    fn options(&self) -> Result<Options, Failure> {
        let witnesses = self
            .witnesses
            .iter()
            .map(|v| {
                urne_log::note::CosignatureVerifier::from_vkey(v)
                    .map_err(|e| format!("witness key {v}: {e}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Options {
            board_key: self.board_vkey()?,
            trust_archive_key: self.trust_archive_keys,
            witnesses,
            quorum: self.quorum,
            ..Options::default()
        })
    }
}

pub fn run(board: &BoardArgs, command: ObserverCommand) -> Result<(), Failure> {
    match command {
        ObserverCommand::Verify(args) => verify(board, args),
        ObserverCommand::Export(args) => export(board, args),
        ObserverCommand::Receipt { command } => receipt(board, command),
    }
}

fn is_url(source: &str) -> bool {
    source.starts_with("https://") || source.starts_with("http://")
}

fn fetch(
    url: &str,
    board: &BoardArgs,
    keys: &TrustArgs,
    prior: Option<&Archive>,
) -> Result<Archive, Failure> {
    let client = BoardClient::with_options(
        url,
        &ClientOptions::allowing_plain_http(board.allow_plain_http),
    )?;
    let vkey = keys.board_vkey()?;
    urne_verify::fetch(&client, vkey.as_deref(), prior).map_err(|e| Failure::from(e.to_string()))
}

fn read_archive(path: &Path) -> Result<Archive, Failure> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Archive::decode(&bytes).map_err(|e| format!("{}: {e}", path.display()))?)
}

/// A bar on stderr, drawn only when stderr is a terminal.
struct Bar(ProgressBar);

impl Progress for Bar {
    fn ballots(&self, total: u64) {
        self.0.set_length(total);
    }
    fn verified(&self, n: u64) {
        self.0.inc(n);
    }
}

fn bar() -> Bar {
    let target = if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(0), target);
    // A constant template: a refusal would be a bug of ours, and a bar without style
    // still counts.
    if let Ok(style) =
        ProgressStyle::with_template("ballots [{bar:40}] {pos}/{len} {per_sec} eta {eta}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    Bar(bar)
}

fn load(
    source: &str,
    board: &BoardArgs,
    keys: &TrustArgs,
    prior: Option<&Archive>,
) -> Result<Archive, Failure> {
    let archive = if is_url(source) {
        fetch(source, board, keys, prior)?
    } else {
        let mut archive = read_archive(Path::new(source))?;
        if let Some(last) = prior.and_then(|p| p.checkpoints.last()) {
            archive.checkpoints.insert(0, last.clone());
        }
        archive
    };
    // The given key decides (spec/50 §50.1): V1 fails if the log is not signed by it.
    // Without one, only an explicit --trust-archive-keys lets the archive's count.
    if keys.board_vkey()?.is_none() && keys.trust_archive_keys {
        stderr_line!(
            "urne: TRUST WARNING: no --board-key given; --trust-archive-keys accepts the key the log carries, which proves it self-consistent, not that it is the board you mean"
        );
    }
    Ok(archive)
}

fn verify(board: &BoardArgs, args: VerifyArgs) -> Result<(), Failure> {
    let options = Options {
        elections: args
            .elections
            .iter()
            .map(|e| {
                urne_record::ContextId::from_hex(e.trim())
                    .ok_or_else(|| format!("--election {e}: not a context id (64 hex digits)"))
            })
            .collect::<Result<_, _>>()?,
        authorities: args
            .authorities
            .iter()
            .map(|a| {
                hex::decode(a.trim())
                    .ok()
                    .and_then(|b| <[u8; 32]>::try_from(b).ok())
                    .ok_or_else(|| format!("--authority {a}: not an Ed25519 key (64 hex digits)"))
            })
            .collect::<Result<_, _>>()?,
        ..args.keys.options()?
    };
    // A state file lends the trust of the run that wrote it: only one made under this
    // run's board key and anchors, unaltered, may (spec/51 §51.4).
    let prior = match &args.state {
        Some(path) if path.exists() => {
            let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let state = VerifiedState::decode(&bytes)
                .and_then(|s| s.check(&options).map(|()| s))
                .map_err(|e| {
                    format!(
                        "{}: {e} (remove it to verify from the start)",
                        path.display()
                    )
                })?;
            Some(state.archive)
        }
        _ => None,
    };
    let options = Options {
        verified_prefix: prior.as_ref().map_or(0, |p| p.entries.len() as u64),
        ..options
    };
    let archive = load(&args.source, board, &args.keys, prior.as_ref())?;
    let progress = bar();
    let report = urne_verify::verify(&archive, &options, &progress);
    progress.0.finish_and_clear();
    print_report(&report, args.json)?;
    if report.passed {
        if let Some(path) = &args.state {
            // Only a state that passed is kept: an interrupted or failed run leaves the
            // last good one, from which the next run resumes.
            let state = VerifiedState::after(&archive, &options, &report)
                .ok_or("the run passed but left no state to keep")?;
            urne_fsutil::replace(path, &state.encode(), 0o644)
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
        Ok(())
    } else {
        Err(Failure::from(format!(
            "verification failed: {} failures",
            report.failures().count()
        )))
    }
}

fn print_report(report: &Report, json: bool) -> Result<(), Failure> {
    if json {
        say!("{}", report.to_json())
    } else {
        say!("{}", report.summary().trim_end())
    }
}

fn export(board: &BoardArgs, args: ExportArgs) -> Result<(), Failure> {
    let archive = fetch(&board.board, board, &args.keys, None)?;
    urne_fsutil::write_new(&args.out, &archive.encode(), 0o644)
        .map_err(|e| format!("{}: {e}", args.out.display()))?;
    say!(
        "wrote {}: {} entries, {} checkpoint(s)",
        args.out.display(),
        archive.entries.len(),
        archive.checkpoints.len()
    )
}

fn read_receipt(path: &Path) -> Result<VoterReceipt, Failure> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(VoterReceipt::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?)
}

fn receipt(board: &BoardArgs, command: ReceiptCommand) -> Result<(), Failure> {
    match command {
        ReceiptCommand::Check { file, later, keys } => {
            let keys = keys.resolved();
            let receipt = read_receipt(&file)?;
            let verifier = keys.verifier()?;
            let checked = receipt
                .check(&verifier, &keys.witnesses()?, keys.quorum)
                .map_err(|e| format!("RECEIPT REFUSED: {e}"))?;
            say!(
                "receipt holds: ballot {} is entry {} of the log under the board's checkpoint of {} entries ({} witness cosignatures)",
                receipt.tracking_code.short(),
                receipt.index,
                checked.checkpoint.size(),
                checked.cosigned
            )?;
            if later {
                let client = board.client()?;
                let newest = client.checkpoint(&verifier, &keys.witnesses()?, keys.quorum)?;
                let proof = client
                    .consistency_proof(checked.checkpoint.size(), newest.checkpoint.size())?;
                let extended = receipt
                    .check_later(&verifier, &newest.text, &proof)
                    .map_err(|e| format!("RECEIPT REFUSED: {e}"))?;
                say!(
                    "still on the log: the board's newest checkpoint ({} entries) extends the receipt's",
                    extended.size()
                )?;
            }
            Ok(())
        }
        ReceiptCommand::Credential {
            source,
            election,
            credential,
            receipt,
            keys,
        } => {
            let election = urne_record::ContextId::from_hex(election.trim())
                .ok_or("--election: not a context id (64 hex digits)")?;
            let text = zeroize::Zeroizing::new(
                std::fs::read_to_string(&credential)
                    .map_err(|e| format!("{}: {e}", credential.display()))?,
            );
            let public = urne_credential::Credential::parse(text.trim())
                .map_err(|e| format!("{}: {e}", credential.display()))?
                .public()
                .to_bytes();
            let archive = verified_for(&source, board, &keys, election)?;
            ballots_of(&archive, election, &public, receipt.as_deref())
        }
        ReceiptCommand::Tag {
            source,
            election,
            wallet,
            receipt,
            keys,
        } => {
            let election = urne_record::ContextId::from_hex(election.trim())
                .ok_or("--election: not a context id (64 hex digits)")?;
            let wallet = wallet.open()?;
            let archive = verified_for(&source, board, &keys, election)?;
            let snapshot = election_snapshot(&archive.entries, election)?;
            // "No ballot was cast" proves something only for a wallet that could have cast
            // one: enrolled in the snapshot's registry, its key in the snapshot.
            let registry = snapshot.header().registry;
            if let Some(enrolment) = wallet.enrolment()
                && enrolment.registry != registry
            {
                return Err(format!(
                    "this wallet was enrolled in registry {}, the election's snapshot is of registry {}: no ballot of this election can carry its tag",
                    hex::encode(enrolment.registry),
                    hex::encode(registry)
                )
                .into());
            }
            if snapshot.position(&wallet.public_key()).is_none() {
                return Err(
                    "this wallet's key is not in the election's registry snapshot: it was not eligible, so no ballot of this election can carry its tag".into(),
                );
            }
            let tag =
                urne_election::anonymous::tag_for(wallet.secret(), &snapshot.id(), &election.0);
            let tag = urne_election::anonymous::credential_of_tag(&tag).0;
            ballots_of(&archive, election, &tag, receipt.as_deref())
        }
    }
}

/// The log from `source`, verified whole with `election` pinned: what it says of a voter's
/// ballots proves nothing otherwise.
fn verified_for(
    source: &str,
    board: &BoardArgs,
    keys: &TrustArgs,
    election: urne_record::ContextId,
) -> Result<Archive, Failure> {
    // What the log says of a voter's ballots is worth what the board's key is: a log
    // proven only self-consistent could be any log.
    if keys.trust_archive_keys {
        return Err(
            "--trust-archive-keys is refused here: a receipt is checked against the board's key (--board-key or --board-key-file), obtained out of band".into(),
        );
    }
    let archive = load(source, board, keys, None)?;
    let options = Options {
        elections: vec![election],
        ..keys.options()?
    };
    let report = urne_verify::verify(&archive, &options, &urne_verify::Quiet);
    if !report.passed {
        print_report(&report, false)?;
        return Err(
            "the board does not verify: what it says of a credential proves nothing".into(),
        );
    }
    Ok(archive)
}

/// The registry snapshot an anonymous election's log carries (its `election.snapshot`
/// and parts, spec/23 §23.12), assembled: the verified log has exactly one.
fn election_snapshot(
    entries: &[Vec<u8>],
    election: urne_record::ContextId,
) -> Result<urne_credential::registry::Snapshot, Failure> {
    use urne_credential::registry::{SignedSnapshot, SnapshotAssembler, SnapshotPart};
    let mut assembler: Option<SnapshotAssembler> = None;
    for (index, bytes) in entries.iter().enumerate() {
        let Ok(record) = urne_record::Record::parse(bytes.clone()) else {
            continue;
        };
        if record.context() != election {
            continue;
        }
        let at = |e: &dyn std::fmt::Display| format!("record {index}: {e}");
        match (record.kind(), assembler.as_mut()) {
            (urne_verify::kinds::ELECTION_SNAPSHOT, None) => {
                let signed = SignedSnapshot::decode(record.body()).map_err(|e| at(&e))?;
                assembler = Some(SnapshotAssembler::new(signed));
            }
            (urne_verify::kinds::ELECTION_SNAPSHOT_PART, Some(assembler)) => {
                let part = SnapshotPart::decode(record.body()).map_err(|e| at(&e))?;
                assembler.push(&part).map_err(|e| at(&e))?;
            }
            _ => {}
        }
    }
    Ok(assembler
        .ok_or("the election has no registry snapshot on the log: it is not an anonymous election")?
        .finish()
        .map_err(|e| format!("the election's snapshot: {e}"))?)
}

/// Lists the ballots of `credential` (a credential's public key, or an anonymous voter's
/// tag) in `election`, and checks the receipt's ballot is the one counted.
fn ballots_of(
    archive: &Archive,
    election: urne_record::ContextId,
    credential: &[u8; 32],
    receipt: Option<&Path>,
) -> Result<(), Failure> {
    let cast = urne_verify::ballots_with_credential(&archive.entries, election, credential);
    let Some((last_index, last_code)) = cast.last() else {
        say!(
            "no ballot was cast with this credential in election {}",
            election.to_hex()
        )?;
        return Ok(());
    };
    for (index, code) in &cast {
        say!(
            "entry {index}: ballot {} cast with this credential",
            code.short()
        )?;
    }
    say!(
        "the one counted: ballot {} (entry {last_index})",
        last_code.short()
    )?;
    if let Some(path) = receipt {
        let receipt = read_receipt(path)?;
        if receipt.tracking_code != *last_code {
            return Err(format!(
                "YOUR BALLOT IS NOT THE ONE COUNTED: the receipt's ballot {} is not the last ballot of this credential",
                receipt.tracking_code.short()
            )
            .into());
        }
        say!("the receipt's ballot is the one counted")?;
    }
    Ok(())
}

/// `urne bench verify`.
#[derive(Args)]
pub struct BenchVerifyArgs {
    /// Ballots on the synthesized board (one per voter).
    #[arg(long, default_value_t = 10_000)]
    ballots: usize,
    /// Thread counts to verify with, comma-separated.
    #[arg(long, default_value = "1,2")]
    threads: String,
}

pub fn bench(args: BenchVerifyArgs) -> Result<(), String> {
    let threads = args
        .threads
        .split(',')
        .map(|t| {
            t.trim()
                .parse::<usize>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| format!("--threads: {t:?} is not a positive count"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let report = urne_cli::verify_bench::run(args.ballots, &threads).map_err(|e| e.to_string())?;
    for stage in &report.stages {
        println!(
            "set-up: {:<32} {}",
            stage.name,
            urne_cli::demo::seconds(stage.elapsed)
        );
    }
    for line in report.lines() {
        println!("{line}");
    }
    Ok(())
}

#[cfg(test)]
mod receipt_key_tests {
    use clap::Parser;

    use super::ReceiptKeyArgs;

    #[derive(Parser)]
    struct Line {
        #[command(flatten)]
        keys: ReceiptKeyArgs,
    }

    fn quorum(args: &[&str]) -> usize {
        let line = Line::try_parse_from(std::iter::once("check").chain(args.iter().copied()))
            .unwrap_or_else(|e| panic!("{e}"));
        line.keys.resolved().quorum
    }

    #[test]
    fn a_receipt_check_requires_every_witness_named_unless_told_otherwise() {
        assert_eq!(quorum(&["--witness", "w1", "--witness", "w2"]), 2);
        assert_eq!(quorum(&["--witness", "w1", "--quorum", "1"]), 1);
        assert_eq!(quorum(&[]), 0);
    }
}

#[cfg(test)]
mod tag_tests {
    use urne_credential::registry::{SignedSnapshot, SnapshotHeader};
    use urne_record::{ContextId, Record};

    use super::election_snapshot;
    use crate::output::Failure;

    fn message(failure: &Failure) -> String {
        match failure {
            Failure::Message(m) => m.clone(),
            Failure::StdoutClosed => String::new(),
        }
    }

    #[test]
    fn the_tag_is_taken_over_the_snapshot_of_this_election_only() {
        let header = SnapshotHeader {
            version: 2,
            registry: [5; 32],
            number: 1,
            previous: [0; 32],
            entries_root: urne_log::Hash([0; 32]),
            total: 0,
            bucket_bits: 1,
            aggregate_blinding: urne_crypto::Scalar::ZERO,
            districts: Vec::new(),
        };
        let body = SignedSnapshot {
            header: header.clone(),
            cosignatures: Vec::new(),
        }
        .to_bytes();
        let key = ed25519_dalek::SigningKey::from_bytes(&[4; 32]);
        let (ours, theirs) = (ContextId([1; 32]), ContextId([2; 32]));
        let posted = |context| {
            Record::sign(context, urne_verify::kinds::ELECTION_SNAPSHOT, &body, &key)
                .map(Record::into_bytes)
                .unwrap_or_default()
        };
        let entries = vec![posted(theirs), posted(ours)];
        // Ours is found (an empty one may not assemble, but is not "none on the log").
        match election_snapshot(&entries, ours) {
            Ok(snapshot) => assert_eq!(snapshot.id(), header.id()),
            Err(e) => assert!(!message(&e).contains("no registry snapshot")),
        }
        let theirs_only = election_snapshot(&entries[..1], ours)
            .err()
            .map(|e| message(&e));
        assert!(
            theirs_only.is_some_and(|e| e.contains("no registry snapshot")),
            "another election's snapshot was taken"
        );
    }
}
