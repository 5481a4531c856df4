//! `urne demo`: runs the demo election (the library's [`urne_cli::demo`]) and prints its
//! verified results beside the count kept in the clear, and the time of each stage.

use std::path::PathBuf;

use clap::Args;
use urne_cli::demo::{self, DemoOptions, DemoOutcome, seconds};

use crate::output::{Failure, say};

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct DemoArgs {
    /// Another demo than the election.
    #[command(subcommand)]
    what: Option<DemoWhat>,
    /// How many voters (about 5% vote twice, 2% audit a ballot first).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    voters: u32,
    /// Where to put the board (a new or empty directory, kept at the end). Default: a
    /// temporary directory, removed at the end unless --keep.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Keep the temporary directory (to look at the board or verify it again).
    #[arg(long)]
    keep: bool,
}

/// The demos other than the election.
#[derive(clap::Subcommand)]
pub enum DemoWhat {
    /// A 577-member chamber: roster, sitting, presence, proxies, divisions, results,
    /// and their recount from the board's log (spec/40).
    Assembly(crate::assembly_cmd::AssemblyDemoArgs),
}

pub fn run(args: DemoArgs) -> Result<(), Failure> {
    if let Some(DemoWhat::Assembly(assembly)) = args.what {
        return crate::assembly_cmd::demo(assembly);
    }
    let options = DemoOptions {
        voters: args.voters as usize,
        dir: args.dir,
        keep: args.keep,
    };
    say!(
        "urne demo: {} voters, a 2-of-3 trustee ceremony, an embedded board",
        options.voters
    )?;
    let outcome = demo::run_election(&options).map_err(|e| Failure::Message(e.to_string()))?;
    print_outcome(&outcome)
}

fn print_outcome(outcome: &DemoOutcome) -> Result<(), Failure> {
    let verified = &outcome.verified;
    say!("")?;
    say!(
        "{} voters: {} ballots cast ({} of them revotes), {} ballots audited (Benaloh) and spoiled",
        outcome.voters,
        outcome.cast,
        outcome.revotes,
        outcome.audits
    )?;
    say!("")?;
    say!(
        "results verified from the board's log: published count, then the count the demo kept in the clear"
    )?;
    for (index, (contest, counts)) in outcome
        .manifest
        .contests()
        .iter()
        .zip(&outcome.result.counts)
        .enumerate()
    {
        say!("  {}", contest.title)?;
        let plaintext = outcome.plaintext.get(index);
        let labels = contest
            .options
            .iter()
            .map(String::as_str)
            .chain(contest.blank.then_some("(blank vote)"));
        for (entry, (label, count)) in labels.zip(counts).enumerate() {
            let kept = plaintext.and_then(|p| p.get(entry)).copied();
            let agree = if kept == Some(*count) {
                "ok"
            } else {
                "DIFFERS"
            };
            let kept = kept.map_or_else(|| "-".to_owned(), |k| k.to_string());
            say!("    {label:<36} {count:>8} | {kept:>8}  {agree}")?;
        }
    }
    say!("")?;
    for election in &verified.elections {
        say!(
            "verification: PASSED — {} records under the board's signed root {} (origin {}); \
             key ceremony re-verified ({} dealers qualified); {} credentials; {} ballots' proofs \
             and signatures batch-verified; {} audits checked; tally result re-verified",
            verified.entries,
            verified.root,
            verified.origin,
            election.outcome.qualified.len(),
            election.credentials,
            election.ballots,
            election.audits
        )?;
    }
    say!("")?;
    say!("timings")?;
    for stage in &outcome.stages {
        match (stage.rate(), stage.items) {
            (Some(rate), Some((_, unit))) => say!(
                "  {:<34} {:>9}  ({rate:.0} {unit}/s)",
                stage.name,
                seconds(stage.elapsed)
            )?,
            _ => say!("  {:<34} {:>9}", stage.name, seconds(stage.elapsed))?,
        }
    }
    say!("  {:<34} {:>9}", "total", seconds(outcome.total))?;
    say!("")?;
    if outcome.removed {
        say!(
            "the board was in {} (removed; --keep keeps it)",
            outcome.dir.display()
        )?;
    } else {
        say!("the board is kept in {}", outcome.dir.display())?;
    }
    Ok(())
}
