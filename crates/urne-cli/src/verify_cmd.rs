//! The observer's commands (spec/50, spec/51): `urne verify` re-checks a whole board from
//! its public log, `urne export` writes that log to an archive file.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use urne_client::{BoardClient, ClientOptions};
use urne_verify::{Archive, Options, Progress, Report, VoterReceipt};

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
        keys: BoardKeyArgs,
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
        keys: OptionalKeys,
    },
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
    keys: OptionalKeys,
}

#[derive(Args)]
pub struct ExportArgs {
    /// Where to write the archive (a new file).
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    keys: OptionalKeys,
}

/// The board's key and the witnesses, as [`BoardKeyArgs`], but the board key may be left
/// out: the report then says the log is only self-consistent under the key it carries.
#[derive(Args)]
pub struct OptionalKeys {
    #[command(flatten)]
    keys: BoardKeyArgs,
}

impl OptionalKeys {
    fn board_vkey(&self) -> Result<Option<String>, Failure> {
        if self.keys.board_key.is_none() && self.keys.board_key_file.is_none() {
            return Ok(None);
        }
        Ok(Some(self.keys.verifier()?.to_vkey()))
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
    keys: &OptionalKeys,
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
    keys: &OptionalKeys,
    prior: Option<&Archive>,
) -> Result<Archive, Failure> {
    let mut archive = if is_url(source) {
        fetch(source, board, keys, prior)?
    } else {
        let mut archive = read_archive(Path::new(source))?;
        if let Some(last) = prior.and_then(|p| p.checkpoints.last()) {
            archive.checkpoints.insert(0, last.clone());
        }
        archive
    };
    match keys.board_vkey()? {
        Some(given) if given.trim() != archive.board_vkey.trim() => {
            // The given key decides: the report then fails V1 if the log is not signed
            // by it.
            archive.board_vkey = given;
        }
        Some(_) => {}
        None => stderr_line!(
            "urne: no --board-key given: the log is checked under the key it carries, which proves it self-consistent, not that it is the board you mean"
        ),
    }
    Ok(archive)
}

fn verify(board: &BoardArgs, args: VerifyArgs) -> Result<(), Failure> {
    let prior = match &args.state {
        Some(path) if path.exists() => Some(read_archive(path)?),
        _ => None,
    };
    let archive = load(&args.source, board, &args.keys, prior.as_ref())?;
    let options = Options {
        witnesses: args.keys.keys.witnesses()?,
        quorum: args.keys.keys.quorum,
        verified_prefix: prior.as_ref().map_or(0, |p| p.entries.len() as u64),
    };
    let progress = bar();
    let report = urne_verify::verify(&archive, &options, &progress);
    progress.0.finish_and_clear();
    print_report(&report, args.json)?;
    if report.passed {
        if let Some(path) = &args.state {
            // Only a state that passed is kept: an interrupted or failed run leaves the
            // last good one, from which the next run resumes.
            let state = Archive {
                board_vkey: archive.board_vkey.clone(),
                checkpoints: archive.checkpoints.last().cloned().into_iter().collect(),
                entries: archive.entries,
            };
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
            let archive = load(&source, board, &keys, None)?;
            let options = Options {
                witnesses: keys.keys.witnesses()?,
                quorum: keys.keys.quorum,
                verified_prefix: 0,
            };
            let report = urne_verify::verify(&archive, &options, &urne_verify::Quiet);
            if !report.passed {
                print_report(&report, false)?;
                return Err(
                    "the board does not verify: what it says of a credential proves nothing".into(),
                );
            }
            let cast = urne_verify::ballots_with_credential(&archive.entries, election, &public);
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
                let receipt = read_receipt(&path)?;
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
    }
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
