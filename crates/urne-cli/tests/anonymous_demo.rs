//! `urne demo anonymous` (issue 9 item 5, spec/25 §25.8): an election whose voters are
//! wallets, held end to end on an embedded board; the verified counts are the plaintext
//! count, checked by the independent verifier (urne-verify).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

use urne_cli::demo::anonymous::{AnonymousOptions, run_anonymous};

#[test]
fn an_anonymous_election_of_wallets_is_verified_and_counts_what_they_chose() {
    let options = AnonymousOptions {
        voters: 40,
        bucket_bits: 3,
        dir: None,
        keep: false,
    };
    let outcome = run_anonymous(&options).unwrap();
    // 40 keys in rings of 8: five buckets, every voter counted once, revotes replacing.
    assert_eq!((outcome.buckets, outcome.bucket_size), (5, 8));
    assert_eq!(outcome.cast, 40 + outcome.revotes);
    assert_eq!(outcome.result.tally.ballots, 40);
    assert_eq!(outcome.result.superseded as usize, outcome.revotes);
    assert_eq!(outcome.result.counts, outcome.plaintext);
    // The independent verifier checked every ballot posted, cast and audited.
    let verified = &outcome.verification.elections;
    assert_eq!(verified.len(), 1);
    assert_eq!(
        (verified[0].ballots, verified[0].audits),
        (outcome.cast, outcome.audits)
    );
    assert_eq!(verified[0].result.as_ref(), Some(&outcome.result));
}

#[test]
fn the_command_prints_every_count_beside_the_kept_one_and_how_it_verified() {
    let out = Command::new(env!("CARGO_BIN_EXE_urne"))
        .args(["demo", "anonymous", "--voters", "24", "--bucket-bits", "2"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("24 wallets in 6 buckets of 4 keys"),
        "{stdout}"
    );
    assert_eq!(stdout.matches("  ok").count(), 11, "{stdout}");
    assert!(!stdout.contains("DIFFERS"), "{stdout}");
    assert!(
        stdout.contains("verification: PASSED — urne-verify"),
        "{stdout}"
    );
    // Too few voters for anyone to hide: refused.
    let out = Command::new(env!("CARGO_BIN_EXE_urne"))
        .args(["demo", "anonymous", "--voters", "1"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}
