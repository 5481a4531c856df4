//! `urne bench ballots`: its options and its report (the measurement is in
//! `urne_cli::ballot_bench`).

use urne_cli::ballot_bench::{self, BallotBenchOptions, BallotBenchReport};
use urne_cli::demo::seconds;

/// Encrypted ballots posted over HTTP to an election's board, against the crypto floor.
#[derive(clap::Args)]
pub struct BallotsArgs {
    /// Seconds of load at most (the run ends sooner once every ballot is posted).
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Options of the approval contest.
    #[arg(long, default_value_t = 10)]
    options: usize,
    /// Voters registered.
    #[arg(long, default_value_t = 10_000)]
    voters: usize,
    /// Ballots made and posted (default: one per voter); beyond --voters, revotes.
    #[arg(long)]
    ballots: Option<usize>,
    /// Ballots the crypto floor is measured on, from those posted.
    #[arg(long, default_value_t = 2_048)]
    floor_ballots: usize,
}

fn micros(d: std::time::Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

fn print(report: &BallotBenchReport) {
    let o = &report.options;
    println!(
        "board acceptance of {}-option approval ballots over HTTP/1.1 keep-alive on loopback, {} connections",
        o.options, o.connections
    );
    println!(
        "machine: {}; load average {} before, {} after (load generator in the same process)",
        report.machine, report.load_before, report.load_after
    );
    println!("set-up (not timed):");
    for stage in &report.stages {
        let rate = stage
            .rate()
            .zip(stage.items)
            .map(|(r, (_, unit))| format!(" ({r:.0} {unit}/s)"))
            .unwrap_or_default();
        println!("  {:<32} {}{rate}", stage.name, seconds(stage.elapsed));
    }
    println!(
        "load: {} ballots of {} bytes accepted (201) in {:.2} s = {:.0} ballots/s; {} errors{}",
        report.accepted,
        report.record_bytes,
        report.elapsed.as_secs_f64(),
        report.accepted_per_second(),
        report.errors,
        if report.ran_out {
            " (every ballot made was posted before the time was up: use more --ballots for a longer window)"
        } else {
            ""
        }
    );
    if let Some(e) = &report.first_error {
        println!("  first error: {e}");
    }
    println!(
        "  CPU per ballot: server {}, load generator {}",
        micros(report.server_cpu_per_ballot()),
        micros(report.generator_cpu_per_ballot())
    );
    let f = &report.floor;
    println!(
        "crypto floor (decode, ballot proofs and credential signature batched {} at a time, on {} of the same ballots):",
        ballot_bench::BOARD_BATCH,
        f.ballots
    );
    println!(
        "  one thread: {} per ballot ({:.0}/s), CPU {} per ballot",
        micros(f.one_thread),
        1.0 / f.one_thread.as_secs_f64().max(f64::MIN_POSITIVE),
        micros(f.one_thread_cpu),
    );
    println!(
        "  {} threads: {} per ballot ({:.0}/s), CPU {} per ballot",
        f.threads,
        micros(f.all_cores),
        f.all_cores_per_second(),
        micros(f.all_cores_cpu),
    );
    println!(
        "ratio accepted/s ÷ floor/s on all cores: {:.2}",
        report.ratio_to_floor()
    );
    println!(
        "floor CPU ÷ server CPU per ballot: {:.2} (the share of the server's work that is the batched proof checks)",
        report.cpu_share_of_floor()
    );
}

pub fn run(args: BallotsArgs) -> Result<(), String> {
    let options = BallotBenchOptions {
        seconds: args.seconds,
        connections: args.connections,
        options: args.options,
        voters: args.voters,
        ballots: args.ballots.unwrap_or(args.voters),
        floor_ballots: args.floor_ballots,
    };
    let report = ballot_bench::run(&options).map_err(|e| e.to_string())?;
    print(&report);
    if report.errors > 0 {
        return Err(format!("{} ballots were not accepted", report.errors));
    }
    Ok(())
}
