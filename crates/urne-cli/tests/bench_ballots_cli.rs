//! `urne bench ballots` from the command line: a brief run prints its figures and the
//! floor, with no error; a bad option is refused by name.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

fn urne(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_urne"))
        .args(args)
        .output()
        .expect("urne runs")
}

#[test]
fn a_brief_run_reports_accepted_ballots_and_the_floor() {
    let out = urne(&[
        "bench",
        "ballots",
        "--seconds",
        "1",
        "--connections",
        "2",
        "--voters",
        "4",
        "--ballots",
        "6",
        "--floor-ballots",
        "4",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("6 ballots of") && stdout.contains("accepted (201)"),
        "{stdout}"
    );
    assert!(stdout.contains("; 0 errors"), "{stdout}");
    assert!(stdout.contains("on 4 of the same ballots"), "{stdout}");
    assert!(
        stdout.contains("floor CPU ÷ server CPU per ballot"),
        "{stdout}"
    );
}

#[test]
fn no_options_is_refused_by_name() {
    let out = urne(&["bench", "ballots", "--options", "0", "--voters", "1"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--options"), "{stderr}");
}
