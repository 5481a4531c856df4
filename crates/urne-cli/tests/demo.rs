//! `urne demo` as a user runs it: the printed result equals the count kept in the clear
//! and the verification passed; its board, kept, verifies again from the directory and
//! fails once tampered with; argument errors are clear.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output};

use urne_cli::demo::{VerifyError, verify_directory};
use urne_verify::Step;

fn urne(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_urne"))
        .args(args)
        .output()
        .unwrap()
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Each result line: `<label> <published> | <kept in the clear>  ok|DIFFERS`.
fn result_lines(stdout: &str) -> Vec<(u64, u64, String)> {
    stdout
        .lines()
        .filter(|l| l.contains(" | "))
        .map(|l| {
            let (left, right) = l.split_once(" | ").unwrap();
            let published = left.split_whitespace().last().unwrap().parse().unwrap();
            let mut right = right.split_whitespace();
            let kept = right.next().unwrap().parse().unwrap();
            (published, kept, right.next().unwrap().to_owned())
        })
        .collect()
}

fn run_demo(dir: &Path) -> String {
    let out = urne(&["demo", "--voters", "50", "--dir", dir.to_str().unwrap()]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "urne demo failed: {stdout}{stderr}");
    stdout
}

#[test]
fn demo_prints_the_verified_result_equal_to_the_plaintext_count_and_keeps_a_board_that_verifies() {
    let tmp = std::env::temp_dir().join(format!("urne-demo-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let stdout = run_demo(&tmp);

    let lines = result_lines(&stdout);
    // Four candidates and the blank vote, then six projects.
    assert_eq!(lines.len(), 11, "{stdout}");
    for (published, kept, verdict) in &lines {
        assert_eq!(published, kept, "{stdout}");
        assert_eq!(verdict, "ok", "{stdout}");
    }
    // 50 voters, one choice each in the first contest.
    assert_eq!(lines[..5].iter().map(|l| l.0).sum::<u64>(), 50, "{stdout}");
    assert!(stdout.contains("verification: PASSED"), "{stdout}");
    assert!(stdout.contains("50 credentials"), "{stdout}");
    assert!(stdout.contains("ballots accepted by the board"), "{stdout}");
    assert!(stdout.contains("ballots/s"), "{stdout}");

    // The kept board verifies again from its directory alone...
    let verified = verify_directory(&tmp).unwrap();
    let result = verified.elections[0].result.as_ref().unwrap();
    let published: Vec<u64> = result.counts.iter().flatten().copied().collect();
    assert_eq!(
        published,
        lines.iter().map(|l| l.0).collect::<Vec<_>>(),
        "{stdout}"
    );

    // ...and not under another board's key.
    let vkey_path = tmp.join("board.vkey");
    let vkey = std::fs::read_to_string(&vkey_path).unwrap();
    let other = urne_log::note::NoteSigner::from_seed("demo.urne.local/board", &[1; 32])
        .unwrap()
        .verifier()
        .to_vkey();
    std::fs::write(&vkey_path, format!("{other}\n")).unwrap();
    let err = verify_directory(&tmp).unwrap_err();
    assert!(
        matches!(
            err,
            VerifyError::Failed {
                step: Step::Log,
                ..
            }
        ),
        "{err}"
    );
    std::fs::write(&vkey_path, vkey).unwrap();

    // One byte of the log changed on disk: refused (the store's frame check, or the
    // verifier's root), never verified.
    let log = tmp.join("board").join("log.dat");
    let mut bytes = std::fs::read(&log).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(&log, bytes).unwrap();
    assert!(verify_directory(&tmp).is_err());
    std::fs::remove_dir_all(&tmp).unwrap();
}

#[test]
fn demo_refuses_zero_voters_a_non_number_and_a_directory_in_use() {
    for (args, expected) in [
        (vec!["demo", "--voters", "0"], "--voters"),
        (vec!["demo", "--voters", "many"], "--voters"),
        (vec!["demo", "--voters"], "--voters"),
        (vec!["demo", "--unknown"], "--unknown"),
    ] {
        let out = urne(&args);
        let (_, stderr) = text(&out);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }

    let tmp = std::env::temp_dir().join(format!("urne-demo-busy-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    std::fs::write(tmp.join("something"), b"x").unwrap();
    let out = urne(&["demo", "--voters", "3", "--dir", tmp.to_str().unwrap()]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("not empty"), "{stderr}");
    assert!(stderr.contains(tmp.to_str().unwrap()), "{stderr}");
    std::fs::remove_dir_all(&tmp).unwrap();
}

#[test]
fn demo_without_dir_removes_its_temporary_board() {
    let out = urne(&["demo", "--voters", "4"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    let removed = stdout
        .lines()
        .find_map(|l| l.strip_prefix("the board was in "))
        .and_then(|l| l.split(" (removed").next())
        .unwrap();
    assert!(!Path::new(removed).exists(), "{removed} is still there");
    let kept = urne(&["demo", "--voters", "4", "--keep"]);
    let (stdout, _) = text(&kept);
    let dir = stdout
        .lines()
        .find_map(|l| l.strip_prefix("the board is kept in "))
        .unwrap();
    assert!(Path::new(dir).join("board.vkey").exists());
    verify_directory(Path::new(dir)).unwrap();
    std::fs::remove_dir_all(dir).unwrap();
}
