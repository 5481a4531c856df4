//! The README's election walkthrough, run with the real `urne` binary against `urne serve`:
//! the authority creates an election, three trustees run the key ceremony each in its own
//! process, the registrar issues credentials, voters vote (one audits a ballot first, one
//! votes again), voting closes, trustees 1 and 3 decrypt, the authority tallies, and
//! anyone verifies the board and reads the result — which must be what the voters chose.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

mod common;
use common::{BoardProcess, Walk, field};

const MANIFEST: &str = r#"title = "Board of the Urneville cycling club"

[[contest]]
title = "President"
kind = "single-choice"
blank = true
options = ["Ada", "Alan", "Grace"]

[[contest]]
title = "Rides next season"
kind = "approval"
min = 1
max = 2
options = ["Coast", "Mountains", "Vineyards"]
"#;

/// `results` lines: `<label> <count>`, in manifest order.
fn counts(results: &str) -> Vec<(String, u64)> {
    results
        .lines()
        .filter(|l| l.starts_with("    "))
        .map(|l| {
            let (label, count) = l.trim().rsplit_once(' ').unwrap();
            (label.trim().to_owned(), count.parse().unwrap())
        })
        .collect()
}

#[test]
fn an_election_with_the_role_commands_against_a_running_board() {
    let dir = std::env::temp_dir().join(format!("urne-election-walk-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("serve.toml"), "checkpoint_interval_ms = 500\n").unwrap();
    std::fs::write(dir.join("manifest.toml"), MANIFEST).unwrap();
    let server = BoardProcess::start(&dir, &[], &[]);
    let walk = Walk {
        dir: dir.clone(),
        board: server.url.clone(),
        board_key_file: None,
    };
    let authority = ["--key", "data/authority.key"];

    // The authority creates the election; the trustees make their keys.
    let created = walk.ok(&[
        "election",
        "create",
        authority[0],
        authority[1],
        "--manifest",
        "manifest.toml",
    ]);
    let election = field(&created, "election:").to_owned();
    let e = ["--election", election.as_str()];
    // One key-holder alone never decrypts (spec/20 §20.1): refused before anything is
    // posted, so the ceremony below still opens.
    let (one, two) = ("11".repeat(32), "22".repeat(32));
    let alone = walk.refused(&[
        "election",
        "ceremony",
        authority[0],
        authority[1],
        e[0],
        e[1],
        "--trustee",
        &one,
        "--trustee",
        &two,
        "--threshold",
        "1",
    ]);
    assert!(alone.contains("one key-holder alone"), "{alone}");
    // Each trustee runs the ceremony in its own process; the authority ends the
    // complaint round once it is open.
    let mut joint_keys = Vec::new();
    for stdout in walk.key_ceremony(&authority, &election) {
        let done = stdout.lines().last().unwrap();
        joint_keys.push(
            done.split("joint key ")
                .nth(1)
                .unwrap()
                .split(';')
                .next()
                .unwrap()
                .to_owned(),
        );
    }
    assert!(
        joint_keys.iter().all(|k| *k == joint_keys[0]),
        "{joint_keys:?}"
    );
    // A key the authority did not name is no trustee; a trustee cannot run it twice.
    walk.ok(&["trustee", "keygen", "--out", "stranger.key"]);
    let stranger = [
        "trustee",
        "ceremony",
        e[0],
        e[1],
        "--key",
        "stranger.key",
        "--state",
        "stranger.state",
        "--passphrase-file",
        "pass1",
    ];
    let refused = walk.refused(&stranger);
    assert!(
        refused.contains("not one of the ceremony's trustees"),
        "{refused}"
    );
    let again = [
        "trustee",
        "ceremony",
        e[0],
        e[1],
        "--key",
        "trustee1.key",
        "--state",
        "trustee1.state",
        "--passphrase-file",
        "pass1",
    ];
    let refused = walk.refused(&again);
    assert!(refused.contains("already there"), "{refused}");

    // The registrar issues credentials; voting opens. A first run under the wrong key
    // writes the files and is refused at the board; the next run resumes from them.
    std::fs::write(dir.join("voters.csv"), "id\nalice\nbob\ncarol\n").unwrap();
    walk.ok(&[
        "keygen",
        "--role",
        "authority",
        "--out",
        "not-the-authority.key",
    ]);
    walk.refused(&[
        "registrar",
        "issue",
        "--key",
        "not-the-authority.key",
        e[0],
        e[1],
        "--voters",
        "voters.csv",
        "--out",
        "credentials",
    ]);
    let alice_file = std::fs::read(dir.join("credentials/alice.credential")).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &str| std::fs::metadata(dir.join(p)).unwrap().permissions().mode();
        assert_eq!(
            mode("credentials") & 0o077,
            0,
            "the credentials directory is open to others"
        );
        assert_eq!(mode("credentials/alice.credential") & 0o077, 0);
    }
    let issued = walk.ok(&[
        "registrar",
        "issue",
        authority[0],
        authority[1],
        e[0],
        e[1],
        "--voters",
        "voters.csv",
        "--out",
        "credentials",
    ]);
    assert!(
        issued.contains("resumed from credentials: 0 of 1"),
        "{issued}"
    );
    assert_eq!(
        std::fs::read(dir.join("credentials/alice.credential")).unwrap(),
        alice_file,
        "resuming reads the credentials drawn, never draws them again"
    );
    let again = walk.ok(&[
        "registrar",
        "issue",
        authority[0],
        authority[1],
        e[0],
        e[1],
        "--voters",
        "voters.csv",
        "--out",
        "credentials",
    ]);
    assert!(again.contains("1 of 1 list parts"), "{again}");
    let refused = walk.refused(&[
        "vote",
        e[0],
        e[1],
        "--credential",
        "credentials/alice.credential",
        "--pick",
        "1",
        "--pick",
        "1",
    ]);
    assert!(refused.contains("registration phase"), "{refused}");
    walk.ok(&["election", "open", authority[0], authority[1], e[0], e[1]]);
    let shown = walk.ok(&["election", "show", e[0], e[1]]);
    assert!(shown.contains("phase: voting"), "{shown}");
    assert!(shown.contains("  3. Vineyards"), "{shown}");

    // Alice audits a ballot first, anyone checks it, then she votes for real. The device
    // encrypts and shows the tracking code before it learns whether she casts or audits.
    let made = walk.ok(&[
        "vote",
        e[0],
        e[1],
        "--credential",
        "credentials/alice.credential",
        "--pick",
        "1",
        "--pick",
        "1,3",
    ]);
    let code = field(&made, "tracking code:").to_owned();
    let pending = dir.join("credentials/alice.pending");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&pending).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the pending ballot holds its openings");
    }
    let audited = walk.ok(&["vote", "--audit", "credentials/alice.pending"]);
    assert_eq!(field(&audited, "tracking code:"), code);
    assert!(!pending.exists(), "posted, the pending ballot is gone");
    let audit = walk.ok(&["audit", e[0], e[1], "--tracking-code", &code]);
    assert!(audit.contains("President: Ada"), "{audit}");
    assert!(
        audit.contains("Rides next season: Coast, Vineyards"),
        "{audit}"
    );
    let vote = |who: &str, picks: [&str; 2]| {
        let made = walk.ok(&[
            "vote",
            e[0],
            e[1],
            "--credential",
            &format!("credentials/{who}.credential"),
            "--pick",
            picks[0],
            "--pick",
            picks[1],
        ]);
        let cast = walk.ok(&["vote", "--cast", &format!("credentials/{who}.pending")]);
        assert_eq!(
            field(&cast, "tracking code:"),
            field(&made, "tracking code:")
        );
        cast
    };
    let cast = vote("alice", ["1", "1,3"]);
    let refused = walk.refused(&[
        "audit",
        e[0],
        e[1],
        "--tracking-code",
        field(&cast, "tracking code:"),
    ]);
    assert!(refused.contains("cast, not audited"), "{refused}");
    vote("bob", ["blank", "2"]);
    // Carol's device posts one pending ballot twice, from a copy: cast from the copy, the
    // audit of the original is refused saying it is cast and counts, and its openings go.
    // (A relay cannot do this with her audit: its signature is an audit's, never a
    // cast's, spec/23 §23.7; the election fold's tests show the board refusing it.)
    let make_carol = |picks: [&str; 2]| {
        walk.ok(&[
            "vote",
            e[0],
            e[1],
            "--credential",
            "credentials/carol.credential",
            "--pick",
            picks[0],
            "--pick",
            picks[1],
        ])
    };
    // A pending ballot spent for an audit (its openings left the device on a try whose
    // answer was lost) can never be cast: the file holds no cast's signature any more.
    make_carol(["1", "2"]);
    let text = std::fs::read_to_string(dir.join("credentials/carol.pending")).unwrap();
    let spent: String = text
        .lines()
        .map(|l| {
            if l.starts_with("cast-signature ") {
                "cast-signature none\n".to_owned()
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    std::fs::write(dir.join("spent.pending"), spent).unwrap();
    std::fs::remove_file(dir.join("credentials/carol.pending")).unwrap();
    let refused = walk.refused(&["vote", "--cast", "spent.pending"]);
    assert!(refused.contains("can never be cast"), "{refused}");
    assert!(dir.join("spent.pending").exists());
    make_carol(["1", "1"]);
    std::fs::copy(
        dir.join("credentials/carol.pending"),
        dir.join("copy.pending"),
    )
    .unwrap();
    walk.ok(&["vote", "--cast", "copy.pending"]);
    assert!(
        !dir.join("copy.pending").exists(),
        "cast, the pending ballot and its openings are gone"
    );
    let refused = walk.refused(&["vote", "--audit", "credentials/carol.pending"]);
    assert!(refused.contains("is already CAST"), "{refused}");
    assert!(refused.contains("it counts"), "{refused}");
    assert!(!dir.join("credentials/carol.pending").exists());
    vote("carol", ["3", "1"]);
    // Carol changes her mind: her second ballot replaces the first. Its first try's
    // answer is lost (the copy's cast stands for it): the retry finds it on the board and
    // writes the receipt of the record there.
    let made = make_carol(["2", "2,3"]);
    std::fs::copy(
        dir.join("credentials/carol.pending"),
        dir.join("first-try.pending"),
    )
    .unwrap();
    walk.ok(&["vote", "--cast", "first-try.pending"]);
    let retried = walk.ok(&["vote", "--cast", "credentials/carol.pending"]);
    assert!(
        retried.contains("by an earlier try whose answer was lost"),
        "{retried}"
    );
    assert_eq!(
        field(&retried, "tracking code:"),
        field(&made, "tracking code:")
    );
    // An overvote never leaves the voter's machine.
    let refused = walk.refused(&[
        "vote",
        e[0],
        e[1],
        "--credential",
        "credentials/bob.credential",
        "--pick",
        "1",
        "--pick",
        "1,2,3",
    ]);
    assert!(refused.contains("overvote"), "{refused}");

    // Close, trustees 1 and 3 decrypt (2 stays away), tally, verify and read.
    walk.ok(&["election", "close", authority[0], authority[1], e[0], e[1]]);
    walk.decrypt(&election, &[1, 3]);
    let refused = walk.refused(&[
        "trustee",
        "decrypt",
        e[0],
        e[1],
        "--key",
        "trustee2.key",
        "--state",
        "trustee2.state",
        "--passphrase-file",
        "pass1",
    ]);
    assert!(refused.contains("trustee2.state"), "{refused}");
    walk.ok(&["tally", authority[0], authority[1], e[0], e[1]]);
    let results = walk.ok(&["results", e[0], e[1], "--board-key-file", "data/board.vkey"]);
    assert!(results.contains("board verified"), "{results}");
    let expected: Vec<(String, u64)> = [
        ("Ada", 1),
        ("Alan", 1),
        ("Grace", 0),
        ("(blank vote)", 1),
        ("Coast", 1),
        ("Mountains", 2),
        ("Vineyards", 2),
    ]
    .iter()
    .map(|(l, c)| ((*l).to_owned(), *c))
    .collect();
    assert_eq!(counts(&results), expected, "{results}");
    assert!(
        results.contains("3 ballots counted, 2 replaced by a revote"),
        "{results}"
    );
    // Under another board's key nothing is printed but the refusal.
    let other = walk.ok(&[
        "keygen",
        "--role",
        "board",
        "--out",
        "other.key",
        "--name",
        "urne.local/board",
    ]);
    let out = walk.run(&[
        "results",
        e[0],
        e[1],
        "--board-key",
        field(&other, "board vkey:"),
    ]);
    assert!(!out.status.success());
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let refusal = String::from_utf8_lossy(&out.stderr);
    assert!(refusal.contains("checkpoint refused"), "{refusal}");

    // The observer's commands (spec/50-52): the board verified over HTTP, exported and
    // verified again offline; a damaged archive fails with exit status 1; the voters'
    // receipts checked offline and against the newest checkpoint; Carol's credential cast
    // three ballots (one cast from a copy), the last of which is counted and is her receipt's.
    let key = ["--board-key-file", "data/board.vkey"];
    let board = walk.board.clone();
    let verified = walk.ok(&["verify", &board, key[0], key[1]]);
    assert!(
        verified.contains("VERIFIED: every step passed"),
        "{verified}"
    );
    let json = walk.ok(&["verify", &board, "--json", key[0], key[1]]);
    assert!(json.contains("\"passed\": true"), "{json}");
    walk.ok(&["export", "--out", "board.archive", key[0], key[1]]);
    let offline = walk.ok(&["verify", "board.archive", key[0], key[1]]);
    assert!(offline.contains("VERIFIED"), "{offline}");
    let first = walk.ok(&["verify", &board, "--state", "verify.state", key[0], key[1]]);
    assert!(!first.contains("incremental"), "{first}");
    let again = walk.ok(&["verify", &board, "--state", "verify.state", key[0], key[1]]);
    assert!(again.contains("incremental: entries 0.."), "{again}");
    assert!(again.contains("VERIFIED"), "{again}");
    let mut archive = std::fs::read(dir.join("board.archive")).unwrap();
    let near_end = archive.len() - 40;
    archive[near_end] ^= 1;
    std::fs::write(dir.join("damaged.archive"), archive).unwrap();
    let out = walk.run(&["verify", "damaged.archive", key[0], key[1]]);
    assert!(!out.status.success());
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(summary.contains("VERIFICATION FAILED"), "{summary}");
    let receipt = walk.ok(&[
        "receipt",
        "check",
        "credentials/alice.pending.receipt",
        "--later",
        key[0],
        key[1],
    ]);
    assert!(receipt.contains("receipt holds"), "{receipt}");
    assert!(receipt.contains("still on the log"), "{receipt}");
    // A witness named and no quorum given: every witness named must have cosigned, so
    // the receipt's checkpoint, which this witness never saw, is refused by default.
    let witness = urne_log::note::Cosigner::from_seed("witness.example", &[7; 32])
        .unwrap()
        .verifier()
        .to_vkey();
    let short = walk.run(&[
        "receipt",
        "check",
        "credentials/alice.pending.receipt",
        "--witness",
        &witness,
        key[0],
        key[1],
    ]);
    assert!(!short.status.success());
    let refusal = String::from_utf8_lossy(&short.stderr);
    assert!(refusal.contains("RECEIPT REFUSED"), "{refusal}");
    let lowered = walk.ok(&[
        "receipt",
        "check",
        "credentials/alice.pending.receipt",
        "--witness",
        &witness,
        "--quorum",
        "0",
        key[0],
        key[1],
    ]);
    assert!(lowered.contains("receipt holds"), "{lowered}");
    let carol = walk.ok(&[
        "receipt",
        "credential",
        &board,
        e[0],
        e[1],
        "--credential",
        "credentials/carol.credential",
        "--receipt",
        "credentials/carol.pending.receipt",
        key[0],
        key[1],
    ]);
    assert_eq!(
        carol.matches("cast with this credential").count(),
        3,
        "{carol}"
    );
    assert!(
        carol.contains("the receipt's ballot is the one counted"),
        "{carol}"
    );

    let (status, _) = server.terminate();
    assert!(status.success(), "serve exited with {status}");
    std::fs::remove_dir_all(Path::new(&dir)).unwrap();
}
