//! A sitting with the real `urne` binary against `urne serve` (spec/40): the presiding
//! officer opens it, the clerk posts the roster from a TOML file, members register
//! presence, one delegates, a division is opened on a text file, members vote (one on
//! another's behalf) and each gets a receipt checked against a signed checkpoint, a
//! second vote is refused, the division closes, anyone recounts, the officer posts the
//! result. And `urne demo assembly` end to end.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

mod common;
use common::{BoardProcess, Walk, field};

#[test]
fn a_sitting_with_the_assembly_commands_against_a_running_board() {
    let dir = std::env::temp_dir().join(format!("urne-assembly-walk-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("serve.toml"), "checkpoint_interval_ms = 300\n").unwrap();
    std::fs::write(
        dir.join("bill.txt"),
        "Article 1. The sitting recounts itself.\n",
    )
    .unwrap();
    let server = BoardProcess::start(&dir, &[], &[]);
    let walk = Walk {
        dir: dir.clone(),
        board: server.url.clone(),
        board_key_file: None,
    };

    let clerk = walk.ok(&["keygen", "--role", "authority", "--out", "clerk.key"]);
    let clerk_key = field(&clerk, "public key:").to_owned();
    let mut roster = String::from("version = 1\ngroups = [\"Left\", \"Right\"]\n");
    for m in 0..4 {
        let out = walk.ok(&["keygen", "--role", "member", "--out", &format!("m{m}.key")]);
        roster.push_str(&format!(
            "\n[[member]]\nname = \"Member {m}\"\ngroup = \"{}\"\nkey = \"{}\"\n",
            if m % 2 == 0 { "Left" } else { "Right" },
            field(&out, "public key:")
        ));
    }
    std::fs::write(dir.join("roster.toml"), roster).unwrap();

    let officer = "data/authority.key";
    let opened = walk.ok(&[
        "assembly",
        "chamber",
        "open",
        "--key",
        officer,
        "--name",
        "Test chamber",
        "--clerk",
        &clerk_key,
        "--quorum",
        "1/2",
        // Four members: a secret ballot among three registrants (the least a chamber
        // may set) needs a floor of 3, not the default 20.
        "--secret-min-registrants",
        "3",
    ]);
    let chamber = field(&opened, "chamber:").to_owned();
    let ch = ["--chamber", chamber.as_str()];
    walk.ok(&[
        "assembly",
        "roster",
        "post",
        ch[0],
        ch[1],
        "--key",
        "clerk.key",
        "--members",
        "roster.toml",
    ]);
    let opened = walk.ok(&[
        "assembly",
        "sitting",
        "open",
        "--key",
        officer,
        "--name",
        "Test sitting",
        ch[0],
        ch[1],
    ]);
    let sitting = field(&opened, "sitting:").to_owned();
    let s = ["--sitting", sitting.as_str()];
    // The sitting cannot start before its chamber's roster is in force.
    let early = walk.refused(&["assembly", "sitting", "start", s[0], s[1], "--key", officer]);
    assert!(early.contains("in force"), "{early}");
    walk.ok(&[
        "assembly", "chamber", "start", ch[0], ch[1], "--key", officer,
    ]);
    // A member key cannot start the sitting (the key file's role is checked first).
    let wrong = walk.refused(&[
        "assembly", "sitting", "start", s[0], s[1], "--key", "m0.key",
    ]);
    assert!(wrong.contains("role"), "{wrong}");
    walk.ok(&["assembly", "sitting", "start", s[0], s[1], "--key", officer]);
    for m in 0..3 {
        walk.ok(&[
            "assembly",
            "presence",
            s[0],
            s[1],
            "--key",
            &format!("m{m}.key"),
        ]);
    }
    walk.ok(&[
        "assembly",
        "proxy",
        "grant",
        s[0],
        s[1],
        "--key",
        "m3.key",
        "--delegate",
        "0",
        "--reason",
        "illness",
    ]);
    let quorum = walk.ok(&["assembly", "quorum", s[0], s[1]]);
    assert!(
        quorum.contains("3 counted present, 2 required: quorum met"),
        "{quorum}"
    );
    walk.ok(&[
        "assembly", "division", "open", s[0], s[1], "--key", officer, "--text", "bill.txt",
        "--window", "0",
    ]);
    let keys = ["--board-key-file", "data/board.vkey"];
    for (m, choice) in [(0, "for"), (1, "against"), (2, "for")] {
        let out = walk.ok(&[
            "assembly",
            "vote",
            s[0],
            s[1],
            "--key",
            &format!("m{m}.key"),
            "--division",
            "1",
            "--choice",
            choice,
            keys[0],
            keys[1],
        ]);
        assert!(out.contains("receipt: vote"), "{out}");
    }
    walk.ok(&[
        "assembly",
        "vote",
        s[0],
        s[1],
        "--key",
        "m0.key",
        "--division",
        "1",
        "--choice",
        "abstain",
        "--on-behalf",
        "3",
        keys[0],
        keys[1],
    ]);
    let again = walk.refused(&[
        "assembly",
        "vote",
        s[0],
        s[1],
        "--key",
        "m1.key",
        "--division",
        "1",
        "--choice",
        "for",
        keys[0],
        keys[1],
    ]);
    assert!(
        again.contains("already-used") && again.contains("vote.member"),
        "{again}"
    );
    walk.ok(&[
        "assembly",
        "division",
        "close",
        s[0],
        s[1],
        "--key",
        officer,
        "--division",
        "1",
    ]);
    let late = walk.refused(&[
        "assembly",
        "vote",
        s[0],
        s[1],
        "--key",
        "m2.key",
        "--division",
        "1",
        "--choice",
        "against",
        keys[0],
        keys[1],
    ]);
    assert!(late.contains("outside its voting window"), "{late}");
    // A closed secret division: `result --post` skips it (its result is its election's).
    walk.ok(&[
        "assembly",
        "division",
        "open",
        s[0],
        s[1],
        "--key",
        officer,
        "--text",
        "bill.txt",
        "--window",
        "0",
        "--secret",
        &"ee".repeat(32),
    ]);
    // Members register wallet keys for it, each drawn on their own device; a key for a
    // roll call is refused, and the snapshot waits for the close.
    std::fs::write(dir.join("pass"), "a member's passphrase\n").unwrap();
    let register = |m: u32, division: &str| {
        walk.run(&[
            "assembly",
            "register-key",
            s[0],
            s[1],
            "--key",
            &format!("m{m}.key"),
            "--division",
            division,
            "--wallet",
            &format!("w{m}-{division}.bin"),
            "--passphrase-file",
            "pass",
        ])
    };
    let roll_call = register(0, "1");
    assert!(!roll_call.status.success());
    assert!(
        String::from_utf8_lossy(&roll_call.stderr).contains("is a roll call, not a secret ballot"),
        "{}",
        String::from_utf8_lossy(&roll_call.stderr)
    );
    let mut registered = Vec::new();
    for m in 0..3 {
        let out = register(m, "2");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        registered.push(
            field(&String::from_utf8(out.stdout).unwrap(), "wallet key")
                .split(' ')
                .next()
                .unwrap()
                .to_owned(),
        );
    }
    let snapshot = [
        "assembly",
        "snapshot",
        s[0],
        s[1],
        "--key",
        officer,
        "--division",
        "2",
        "--out",
        "division2.snapshot",
    ];
    let early = walk.refused(&snapshot);
    assert!(early.contains("still open"), "{early}");
    walk.ok(&[
        "assembly",
        "division",
        "close",
        s[0],
        s[1],
        "--key",
        officer,
        "--division",
        "2",
    ]);
    let written = walk.ok(&snapshot);
    assert!(
        written.contains("3 registered keys in one bucket of 4"),
        "{written}"
    );
    // The file holds exactly the registered keys, each once.
    let file = std::fs::read(dir.join("division2.snapshot")).unwrap();
    for key in &registered {
        let key = (0..key.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&key[i..i + 2], 16).unwrap())
            .collect::<Vec<u8>>();
        assert_eq!(
            file.windows(32).filter(|w| *w == key.as_slice()).count(),
            1,
            "{written}"
        );
    }
    walk.ok(&["assembly", "result", s[0], s[1], "--post", "--key", officer]);
    let result = walk.ok(&["assembly", "result", s[0], s[1], "--roll-call"]);
    assert!(result.contains("  for                      2"), "{result}");
    assert!(result.contains("  against                  1"), "{result}");
    assert!(result.contains("  abstain                  1"), "{result}");
    assert!(result.contains("(1 of them cast by proxy)"), "{result}");
    assert!(result.contains("equal to the recount"), "{result}");
    assert!(result.contains("by proxy of member 0"), "{result}");
    walk.ok(&["assembly", "sitting", "close", s[0], s[1], "--key", officer]);

    // A later chamber whose roster is at the last version number: a change is refused
    // with a message, not a panic on the next number.
    let last = std::fs::read_to_string(dir.join("roster.toml"))
        .unwrap()
        .replacen("version = 1", "version = 4294967295", 1);
    std::fs::write(dir.join("last.toml"), last).unwrap();
    let opened = walk.ok(&[
        "assembly",
        "chamber",
        "open",
        "--key",
        officer,
        "--name",
        "Later chamber",
        "--clerk",
        &clerk_key,
    ]);
    let later = field(&opened, "chamber:").to_owned();
    let l = ["--chamber", later.as_str()];
    walk.ok(&[
        "assembly",
        "roster",
        "post",
        l[0],
        l[1],
        "--key",
        "clerk.key",
        "--members",
        "last.toml",
    ]);
    walk.ok(&["assembly", "chamber", "start", l[0], l[1], "--key", officer]);
    let full = walk.refused(&[
        "assembly",
        "roster",
        "revoke",
        l[0],
        l[1],
        "--key",
        "clerk.key",
        "--member",
        "0",
    ]);
    assert!(full.contains("every version number"), "{full}");

    drop(server);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn demo_assembly_recounts_every_division_of_a_577_member_chamber() {
    let out = Command::new(env!("CARGO_BIN_EXE_urne"))
        .args(["demo", "assembly"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("577 members in 11 groups"), "{stdout}");
    assert_eq!(
        stdout
            .matches("published result equal to the recount")
            .count(),
        3,
        "{stdout}"
    );
    assert!(
        stdout.contains("voided (entry") && stdout.contains("panne du système de vote"),
        "{stdout}"
    );
    assert!(
        stdout.contains("correction of voting intention (not counted)"),
        "{stdout}"
    );
    assert!(stdout.contains("vote signatures in one batch"), "{stdout}");
    // And the observer's verifier recounted the whole log, the sitting included.
    assert!(
        stdout.contains("the independent verifier (urne-verify, spec/50) over the whole log: PASSED, V12 checked 5 items"),
        "{stdout}"
    );
    // The secret ballot: its election verified, its result its tally.
    assert!(
        stdout.contains("secret ballot: Mme Ada Lovelace")
            && stdout.contains("the result is its tally, equal to the demo's own count"),
        "{stdout}"
    );
    // It is anonymous now, and what it still does not defend is said beside it
    // (spec/40 §40.12); the old limitation is gone.
    assert!(
        stdout.contains("anonymous: each ballot is ring-signed over the wallet keys")
            && stdout.contains("trustees drawn publicly over the registered keys")
            && stdout.contains("NOT DEFENDED YET: a threshold of trustees can decrypt one"),
        "{stdout}"
    );
    assert!(!stdout.contains("LIMITATION"), "{stdout}");
}
