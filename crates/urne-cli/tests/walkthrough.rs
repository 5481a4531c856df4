//! The README's walkthrough, run with the real `urne` binary: serve, post, checkpoint,
//! inclusion (at once, waiting for the next checkpoint), a witness round, a quorum,
//! consistency, `--board` anywhere and from `URNE_BOARD`, SIGTERM.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output};

mod common;
use common::{BoardProcess, field};
use std::time::{Duration, Instant};

fn urne(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_urne"))
        .current_dir(dir)
        .env_remove("URNE_BOARD")
        .args(args)
        .output()
        .unwrap()
}

fn urne_with_board_env(dir: &Path, board: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_urne"))
        .current_dir(dir)
        .env("URNE_BOARD", board)
        .args(args)
        .output()
        .unwrap()
}

fn succeeded(args: &[&str], out: Output) -> String {
    assert!(
        out.status.success(),
        "urne {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn ok(dir: &Path, args: &[&str]) -> String {
    succeeded(args, urne(dir, args))
}

/// Waits until the board's checkpoint covers `size` entries (it signs one every second).
fn wait_for_checkpoint(dir: &Path, board: &str, size: u64) {
    let started = Instant::now();
    loop {
        let out = urne(
            dir,
            &[
                "log",
                "checkpoint",
                "--board",
                board,
                "--board-key-file",
                "data/board.vkey",
            ],
        );
        if String::from_utf8_lossy(&out.stdout).contains(&format!(" size {size} ")) {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no checkpoint of size {size}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn the_readme_walkthrough_works_end_to_end() {
    let dir = std::env::temp_dir().join(format!("urne-walkthrough-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let keygen = ok(
        &dir,
        &[
            "keygen",
            "--role",
            "witness",
            "--out",
            "witness.key",
            "--name",
            "witness.local/w1",
        ],
    );
    let witness_vkey = field(&keygen, "witness vkey:").to_owned();
    // Checkpoints every 2 s: a record is verified before the next one is signed.
    std::fs::write(dir.join("serve.toml"), "checkpoint_interval_ms = 2000\n").unwrap();
    let server = BoardProcess::start(&dir, &["--witness", &witness_vkey], &[]);
    let board = server.url.clone();
    let keys = [
        "--board",
        board.as_str(),
        "--board-key-file",
        "data/board.vkey",
    ];

    let posted = ok(
        &dir,
        &[
            "post",
            "--board",
            &board,
            "--key",
            "data/authority.key",
            "context-open",
            "--name",
            "Test election",
        ],
    );
    let hash = field(&posted, "record hash:").to_owned();
    let context = field(&posted, "context id:").to_owned();
    // At once: the record is durable but not yet in a signed checkpoint; the command
    // waits for the next one instead of failing.
    let mut args = vec!["log", "verify-inclusion", "--hash", &hash];
    args.extend(keys);
    assert!(ok(&dir, &args).contains("is entry 0"));

    wait_for_checkpoint(&dir, &board, 1);
    // --board before the subcommand.
    let args = [
        "--board",
        board.as_str(),
        "log",
        "checkpoint",
        "--save",
        "first.note",
        "--board-key-file",
        "data/board.vkey",
    ];
    assert!(ok(&dir, &args).contains("size 1"));

    // The ceremony cannot start before the election's manifest is on the board
    // (spec/23 §23.3); a second election is opened instead, so the log has two entries.
    let early = urne(
        &dir,
        &[
            "post",
            "--board",
            &board,
            "--key",
            "data/authority.key",
            "context-phase",
            "--context",
            &context,
            "--to",
            "ceremony",
        ],
    );
    assert!(!early.status.success());
    assert!(String::from_utf8_lossy(&early.stderr).contains("manifest"));
    ok(
        &dir,
        &[
            "post",
            "--board",
            &board,
            "--key",
            "data/authority.key",
            "context-open",
            "--name",
            "Second election",
        ],
    );
    let refused = urne(
        &dir,
        &[
            "post",
            "--board",
            &board,
            "--key",
            "data/authority.key",
            "context-phase",
            "--context",
            &context,
            "--to",
            "voting",
        ],
    );
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("wrong-phase"));
    wait_for_checkpoint(&dir, &board, 2);

    let mut args = vec![
        "witness",
        "--key",
        "witness.key",
        "--name",
        "witness.local/w1",
        "--state",
        "witness-state",
        "--once",
    ];
    args.extend(keys);
    assert!(ok(&dir, &args).contains("cosigned checkpoint of size 2"));
    let mut args = vec![
        "log",
        "checkpoint",
        "--witness",
        &witness_vkey,
        "--quorum",
        "1",
    ];
    args.extend(keys);
    assert!(ok(&dir, &args).contains("cosigned by 1 of 1"));
    // The board from URNE_BOARD alone.
    let args = [
        "log",
        "verify-consistency",
        "--old",
        "first.note",
        "--board-key-file",
        "data/board.vkey",
    ];
    let out = succeeded(&args, urne_with_board_env(&dir, &board, &args));
    assert!(out.contains("extends the checkpoint of size 1"));

    // A wrong board key is refused.
    let wrong = urne(
        &dir,
        &[
            "log",
            "checkpoint",
            "--board",
            &board,
            "--board-key",
            "urne.local/board+00000000+AQQ0ti2kzBjJlBHmnxa7o1GTmsRVnqJ1Wjsrh16wQYRH",
        ],
    );
    assert!(!wrong.status.success());

    // SIGTERM: graceful shutdown.
    let (status, stdout) = server.terminate();
    assert!(status.success(), "serve exited with {status}");
    assert!(stdout.contains("signing a last checkpoint"), "{stdout}");
    // A data directory made by this very run had nothing to repair.
    assert!(!stdout.contains("repaired"), "{stdout}");
}

#[test]
fn a_board_that_cannot_start_is_reported_with_what_it_printed() {
    let dir = std::env::temp_dir().join(format!("urne-walk-nostart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("serve.toml"),
        "checkpoint_interval_ms = \"soon\"\n",
    )
    .unwrap();
    let failed = std::panic::catch_unwind(|| BoardProcess::start(&dir, &[], &[]))
        .err()
        .expect("a server that cannot read its configuration never serves");
    let message = failed.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("exited before it served"), "{message}");
    assert!(message.contains("serve.toml"), "{message}");
    std::fs::remove_dir_all(&dir).unwrap();
}
