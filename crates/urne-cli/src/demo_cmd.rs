//! `urne demo`: runs the demo election (the library's [`urne_cli::demo`]) and prints its
//! verified results beside the count kept in the clear, and the time of each stage.

use std::path::PathBuf;

use clap::Args;
use urne_ballot::SelectionRule;
use urne_budget::Selection;
use urne_cli::demo::anonymous::{self, AnonymousOptions};
use urne_cli::demo::budget::{self, BudgetOutcome};
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
    /// A participatory budget of 30 projects: budget-proven ballots, the funded projects
    /// in the result and recomputed by the verification, and both selection rules
    /// (spec/26).
    Budget(BudgetDemoArgs),
    /// An anonymous election: wallets enrolled in a registry, a snapshot cosigned by 2
    /// of 3 registrars, ballots ring-signed over buckets of the snapshot (one tag per
    /// wallet: a revote replaces, nobody can tell whose), tally and verification
    /// (spec/23 §23.9, spec/25 §25.8).
    Anonymous(AnonymousDemoArgs),
}

/// `urne demo anonymous`.
#[derive(Args)]
pub struct AnonymousDemoArgs {
    /// How many citizens enrol and vote (about 5% vote twice, 2% audit a ballot first).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(2..=100_000))]
    voters: u32,
    /// Rings of 2^this keys: each ballot hides among the keys of its bucket.
    #[arg(long, default_value_t = anonymous::DEFAULT_BUCKET_BITS, value_parser = clap::value_parser!(u8).range(1..=16))]
    bucket_bits: u8,
    /// Where to put the board (a new or empty directory, kept at the end).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Keep the temporary directory.
    #[arg(long)]
    keep: bool,
}

/// `urne demo budget`.
#[derive(Args)]
pub struct BudgetDemoArgs {
    /// How many voters (about 5% vote twice, 2% audit a ballot first).
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    voters: u32,
    /// The rule the manifest names: `max-approvals` (the exact knapsack) or `greedy`
    /// (Decidim's). The other is computed beside it from the verified totals.
    #[arg(long, default_value = "max-approvals", value_parser = parse_rule)]
    rule: SelectionRule,
    /// Where to put the board (a new or empty directory, kept at the end).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Keep the temporary directory.
    #[arg(long)]
    keep: bool,
}

fn parse_rule(name: &str) -> Result<SelectionRule, String> {
    SelectionRule::from_name(name)
        .ok_or_else(|| format!("`{name}`: the rules are `greedy` and `max-approvals`"))
}

pub fn run(args: DemoArgs) -> Result<(), Failure> {
    match args.what {
        Some(DemoWhat::Assembly(assembly)) => return crate::assembly_cmd::demo(assembly),
        Some(DemoWhat::Budget(budget)) => return run_budget(budget),
        Some(DemoWhat::Anonymous(args)) => return run_anonymous(args),
        None => {}
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

/// Each contest's verified counts beside the counts the demo kept in the clear.
fn print_counts(
    manifest: &urne_ballot::Manifest,
    verified: &[Vec<u64>],
    plaintext: &[Vec<u64>],
) -> Result<(), Failure> {
    say!(
        "results verified from the board's log: published count, then the count the demo kept in the clear"
    )?;
    for (index, (contest, counts)) in manifest.contests().iter().zip(verified).enumerate() {
        say!("  {}", contest.title)?;
        let plaintext = plaintext.get(index);
        let labels = contest
            .options
            .iter()
            .map(String::as_str)
            .chain(contest.blank.then_some("(blank vote)"));
        for (entry, (label, count)) in labels.zip(counts).enumerate() {
            let kept = plaintext.and_then(|p: &Vec<u64>| p.get(entry)).copied();
            let agree = if kept == Some(*count) {
                "ok"
            } else {
                "DIFFERS"
            };
            let kept = kept.map_or_else(|| "-".to_owned(), |k| k.to_string());
            say!("    {label:<36} {count:>8} | {kept:>8}  {agree}")?;
        }
    }
    Ok(())
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
    print_counts(
        &outcome.manifest,
        &outcome.result.counts,
        &outcome.plaintext,
    )?;
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

fn run_budget(args: BudgetDemoArgs) -> Result<(), Failure> {
    let options = DemoOptions {
        voters: args.voters as usize,
        dir: args.dir,
        keep: args.keep,
    };
    say!(
        "urne demo budget: {} voters, 30 projects, a budget of {} euros (at least {} spent), \
         selection rule {}",
        options.voters,
        budget::BUDGET,
        budget::MIN_SPEND,
        args.rule.name()
    )?;
    let outcome =
        budget::run_budget(&options, args.rule).map_err(|e| Failure::Message(e.to_string()))?;
    print_outcome(&outcome.election)?;
    print_fundings(&outcome)
}

fn print_selection(
    outcome: &BudgetOutcome,
    rule: SelectionRule,
    s: &Selection,
) -> Result<(), Failure> {
    let Some(contest) = outcome.election.manifest.contests().get(1) else {
        return Ok(());
    };
    let costs = contest.spending().map(|s| s.costs).unwrap_or(&[]);
    let percent = |part: u128, whole: u128| {
        if whole == 0 {
            0.0
        } else {
            part as f64 * 100.0 / whole as f64
        }
    };
    say!(
        "  rule {}: {} projects, {} of {} euros ({:.1}% of the budget), {:.1}% of all approvals",
        rule.name(),
        s.funded.len(),
        s.money_used,
        budget::BUDGET,
        percent(s.money_used, u128::from(budget::BUDGET)),
        percent(s.approvals_represented, s.approvals_total)
    )?;
    for &i in &s.funded {
        let i = i as usize;
        let name = contest.options.get(i).map_or("?", String::as_str);
        let cost = costs.get(i).copied().unwrap_or(0);
        let approvals = outcome
            .election
            .result
            .counts
            .get(1)
            .and_then(|c| c.get(i))
            .copied()
            .unwrap_or(0);
        say!("    {name:<36} {cost:>9} euros {approvals:>8} approvals")?;
    }
    Ok(())
}

fn print_fundings(outcome: &BudgetOutcome) -> Result<(), Failure> {
    say!("")?;
    say!("funded projects (the published selection, recomputed by the verification):")?;
    print_selection(outcome, outcome.rule, &outcome.published)?;
    say!("")?;
    say!("for comparison, from the same verified totals:")?;
    let (rule, other) = &outcome.other;
    print_selection(outcome, *rule, other)
}

fn run_anonymous(args: AnonymousDemoArgs) -> Result<(), Failure> {
    let options = AnonymousOptions {
        voters: args.voters as usize,
        bucket_bits: args.bucket_bits,
        dir: args.dir,
        keep: args.keep,
    };
    say!(
        "urne demo anonymous: {} wallets, a registry snapshot cosigned by 2 of 3 registrars in rings of {} keys, a 2-of-3 trustee ceremony, an embedded board",
        options.voters,
        1u32 << options.bucket_bits
    )?;
    let o = anonymous::run_anonymous(&options).map_err(|e| Failure::Message(e.to_string()))?;
    say!("")?;
    say!(
        "{} wallets in {} buckets of {} keys: {} ballots cast ({} of them revotes under the same tag), {} audited (Benaloh) and spoiled",
        o.voters,
        o.buckets,
        o.bucket_size,
        o.cast,
        o.revotes,
        o.audits
    )?;
    say!("")?;
    print_counts(&o.manifest, &o.result.counts, &o.plaintext)?;
    say!("")?;
    say!(
        "verification: PASSED — urne-verify (spec/50) over {} records under the board's signed root {}: snapshot, every ring signature and ballot proof, audits and the tally result re-verified",
        o.verification.entries,
        o.verification.root
    )?;
    say!("")?;
    say!("timings")?;
    for stage in &o.stages {
        match (stage.rate(), stage.items) {
            (Some(rate), Some((_, unit))) => say!(
                "  {:<34} {:>9}  ({rate:.0} {unit}/s)",
                stage.name,
                seconds(stage.elapsed)
            )?,
            _ => say!("  {:<34} {:>9}", stage.name, seconds(stage.elapsed))?,
        }
    }
    say!("  {:<34} {:>9}", "total", seconds(o.total))?;
    if o.removed {
        say!(
            "the board was in {} (removed; --keep keeps it)",
            o.dir.display()
        )?;
    } else {
        say!("the board is kept in {}", o.dir.display())?;
    }
    Ok(())
}
