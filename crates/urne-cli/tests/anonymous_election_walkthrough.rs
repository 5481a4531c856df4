//! An anonymous election with the real `urne` binary against `urne serve` over HTTP
//! (spec/25 §25.2–§25.5): citizens make wallets and enrolment requests, two of three
//! registrars cosign a snapshot, the authority creates an election whose eligibility is
//! that registry, the trustees run the ceremony, the authority posts the snapshot and
//! opens voting; wallets vote with ring signatures (one audits a ballot first, one votes
//! again), a wallet not in the snapshot is refused, the trustees decrypt and the verified
//! results are what the wallets chose.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::{BoardProcess, Walk, field};

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
fn an_anonymous_election_from_wallets_to_its_verified_result_over_http() {
    let dir = std::env::temp_dir().join(format!("urne-anon-walk-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("requests")).unwrap();
    // A snapshot answer cap too small for any snapshot: the booth's route refuses it, the
    // command line (which reads the snapshot from the log) votes on.
    std::fs::write(
        dir.join("serve.toml"),
        "checkpoint_interval_ms = 500\nmax_snapshot_bytes = 64\nmax_snapshot_cache_bytes = 4096\n",
    )
    .unwrap();
    std::fs::write(dir.join("pass"), "a citizen's passphrase\n").unwrap();
    let _server = BoardProcess::start(&dir, &[], &[]);
    let walk = Walk {
        dir: dir.clone(),
        board: _server.url.clone(),
        board_key_file: None,
    };

    // The registry: three registrars, two of whom cosign a snapshot.
    let registry = "a7".repeat(32);
    let mut registrar_keys = Vec::new();
    for r in 0..3 {
        let out = walk.ok(&[
            "keygen",
            "--role",
            "authority",
            "--out",
            &format!("registrar{r}.key"),
        ]);
        registrar_keys.push(field(&out, "public key:").to_owned());
    }
    let mut registrar_args = vec!["--registrar-threshold", "2"];
    for k in &registrar_keys {
        registrar_args.extend(["--registrar", k.as_str()]);
    }
    // Five wallets enrol; the request of wallet 4 never reaches the registrar, so its key
    // is not in the snapshot.
    let wallet = |i: usize| format!("wallet{i}.bin");
    for i in 0..5 {
        let w = wallet(i);
        let base = ["--wallet", w.as_str(), "--passphrase-file", "pass"];
        walk.ok(&[&["wallet", "new", "--district", "1"][..], &base].concat());
        let out = if i == 4 {
            "lost-request".to_owned()
        } else {
            format!("requests/person{i}")
        };
        walk.ok(&[
            &["wallet", "enrol", "--registry", &registry, "--out", &out][..],
            &registrar_args,
            &base,
        ]
        .concat());
    }
    walk.ok(&[
        "registry",
        "snapshot",
        "--registry",
        &registry,
        "--requests",
        "requests",
        "--bucket-bits",
        "2",
        "--out",
        "snapshot.bin",
    ]);
    for r in [0, 2] {
        walk.ok(&[
            "registry",
            "cosign",
            "--snapshot",
            "snapshot.bin",
            "--key",
            &format!("registrar{r}.key"),
            "--registrar",
            &r.to_string(),
        ]);
        if r == 0 {
            // Kept aside: a snapshot only one registrar vouched for.
            std::fs::copy(dir.join("snapshot.bin"), dir.join("one-cosignature.bin")).unwrap();
        }
    }
    // Another registry's snapshot, fully cosigned; and a wallet enrolled in it.
    let elsewhere = "b8".repeat(32);
    std::fs::create_dir_all(dir.join("other-requests")).unwrap();
    let base = ["--wallet", "elsewhere.bin", "--passphrase-file", "pass"];
    walk.ok(&[&["wallet", "new", "--district", "1"][..], &base].concat());
    walk.ok(&[
        &[
            "wallet",
            "enrol",
            "--registry",
            &elsewhere,
            "--out",
            "other-requests/person",
        ][..],
        &registrar_args,
        &base,
    ]
    .concat());
    walk.ok(&[
        "registry",
        "snapshot",
        "--registry",
        &elsewhere,
        "--requests",
        "other-requests",
        "--bucket-bits",
        "2",
        "--out",
        "other.bin",
    ]);
    for r in [0, 1] {
        walk.ok(&[
            "registry",
            "cosign",
            "--snapshot",
            "other.bin",
            "--key",
            &format!("registrar{r}.key"),
            "--registrar",
            &r.to_string(),
        ]);
    }

    // The election takes its voters from that registry.
    let manifest = format!(
        r#"title = "Neighbourhood council"

[[contest]]
title = "Chair"
kind = "single-choice"
blank = true
options = ["Ada", "Alan", "Grace"]

[eligibility]
mode = "anonymous"
registry = "{registry}"
registrar-threshold = 2
registrars = ["{}", "{}", "{}"]
min-bucket-bits = 2
min-registered-keys = 2
"#,
        registrar_keys[0], registrar_keys[1], registrar_keys[2]
    );
    std::fs::write(dir.join("manifest.toml"), manifest).unwrap();
    let authority = ["--key", "data/authority.key"];
    let created = walk.ok(&[
        "election",
        "create",
        authority[0],
        authority[1],
        "--manifest",
        "manifest.toml",
    ]);
    assert!(created.contains("anonymous"), "{created}");
    let election = field(&created, "election:").to_owned();
    let e = ["--election", election.as_str()];

    walk.key_ceremony(&authority, &election);

    // The registrar issues no credentials here: the snapshot is the electorate.
    std::fs::write(dir.join("voters.csv"), "alice\n").unwrap();
    let refused = walk.refused(&[
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
    assert!(refused.contains("anonymous"), "{refused}");
    // Refused before anything is posted: too few cosignatures, another registry.
    let post_snapshot = |file: &str| {
        walk.run(&[
            "election",
            "snapshot",
            authority[0],
            authority[1],
            e[0],
            e[1],
            "--snapshot",
            file,
        ])
    };
    for (file, says) in [
        (
            "one-cosignature.bin",
            "not vouched for by the election's registrars",
        ),
        ("other.bin", "the election takes registry"),
    ] {
        let out = post_snapshot(file);
        assert!(!out.status.success(), "{file}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says) && err.contains(file), "{err}");
    }
    let posted = walk.ok(&[
        "election",
        "snapshot",
        authority[0],
        authority[1],
        e[0],
        e[1],
        "--snapshot",
        "snapshot.bin",
    ]);
    assert!(posted.contains("4 keys in 1 buckets of 4"), "{posted}");
    walk.ok(&["election", "open", authority[0], authority[1], e[0], e[1]]);
    let shown = walk.ok(&["election", "show", e[0], e[1]]);
    assert!(shown.contains("anonymous"), "{shown}");
    let answer = http_get(
        &walk.board,
        &format!("/v1/public/elections/{election}/snapshot"),
    );
    assert!(
        answer.starts_with("HTTP/1.1 503") && answer.contains("cap of 64 bytes"),
        "serve.toml's max_snapshot_bytes is the route's cap: {answer}"
    );

    let make = |i: usize, pick: &str| {
        let w = wallet(i);
        walk.run(&[
            "vote",
            e[0],
            e[1],
            "--wallet",
            &w,
            "--passphrase-file",
            "pass",
            "--pick",
            pick,
        ])
    };
    let ok = |out: std::process::Output| {
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    // A wallet whose key is not in the snapshot cannot vote: refused on the device.
    let out = make(4, "1");
    assert!(!out.status.success());
    let refusal = String::from_utf8_lossy(&out.stderr);
    assert!(
        refusal.contains("not in the election's registry snapshot"),
        "{refusal}"
    );
    // Nor a wallet enrolled in another registry: refused on the device.
    let out = walk.run(&[
        "vote",
        e[0],
        e[1],
        "--wallet",
        "elsewhere.bin",
        "--passphrase-file",
        "pass",
        "--pick",
        "1",
    ]);
    assert!(!out.status.success());
    let refusal = String::from_utf8_lossy(&out.stderr);
    assert!(
        refusal.contains("this wallet was enrolled in registry"),
        "{refusal}"
    );
    // A credential is no way in either.
    std::fs::write(dir.join("fake.credential"), "not a credential\n").unwrap();
    walk.refused(&[
        "vote",
        e[0],
        e[1],
        "--credential",
        "fake.credential",
        "--pick",
        "1",
    ]);

    // Wallet 0 audits a ballot first; anyone checks it.
    let made = ok(make(0, "1"));
    assert!(made.contains("ring: bucket 0 of 1, 4 keys"), "{made}");
    let code = field(&made, "tracking code:").to_owned();
    // The pending ballot shows the vote once opened: it is sealed like the wallet, and
    // neither posted without the passphrase nor with a wrong one (and is kept for both).
    let sealed = std::fs::read(dir.join("wallet0.pending")).unwrap();
    assert!(sealed.starts_with(b"urne-pending-sealed\n"));
    assert!(!String::from_utf8_lossy(&sealed).contains("opening"));
    let refusal = walk.refused(&["vote", "--audit", "wallet0.pending"]);
    assert!(
        refusal.contains("sealed with the wallet's passphrase: give --passphrase-file"),
        "{refusal}"
    );
    std::fs::write(dir.join("wrong-pass"), "not the passphrase\n").unwrap();
    let refusal = walk.refused(&[
        "vote",
        "--audit",
        "wallet0.pending",
        "--passphrase-file",
        "wrong-pass",
    ]);
    assert!(refusal.contains("wrong passphrase"), "{refusal}");
    assert!(dir.join("wallet0.pending").exists());
    let audited = walk.ok(&[
        "vote",
        "--audit",
        "wallet0.pending",
        "--passphrase-file",
        "pass",
    ]);
    assert_eq!(field(&audited, "tracking code:"), code);
    let audit = walk.ok(&["audit", e[0], e[1], "--tracking-code", &code]);
    assert!(audit.contains("Chair: Ada"), "{audit}");
    let vote = |i: usize, pick: &str| {
        let made = ok(make(i, pick));
        let cast = walk.ok(&[
            "vote",
            "--cast",
            &format!("wallet{i}.pending"),
            "--passphrase-file",
            "pass",
        ]);
        assert_eq!(
            field(&cast, "tracking code:"),
            field(&made, "tracking code:")
        );
    };
    vote(0, "2");
    vote(1, "blank");
    vote(2, "3");
    // Wallet 2 changes its mind: the later ballot under the same tag replaces the first.
    vote(2, "2");
    vote(3, "1");

    walk.ok(&["election", "close", authority[0], authority[1], e[0], e[1]]);
    walk.decrypt(&election, &[1, 3]);
    walk.ok(&["tally", authority[0], authority[1], e[0], e[1]]);
    let results = walk.ok(&["results", e[0], e[1], "--board-key-file", "data/board.vkey"]);
    assert!(results.contains("board verified"), "{results}");
    let expected: Vec<(String, u64)> = [("Ada", 1), ("Alan", 2), ("Grace", 0), ("(blank vote)", 1)]
        .iter()
        .map(|(l, c)| ((*l).to_owned(), *c))
        .collect();
    assert_eq!(counts(&results), expected, "{results}");
    assert!(
        results.contains("4 ballots counted, 1 replaced by a revote"),
        "{results}"
    );

    // Each wallet finds its ballots by the tag it derives itself (spec/52): wallet 2 its
    // two, the second the one counted; wallet 4, not in the snapshot, and the wallet of
    // another registry are told no ballot can carry their tag, not "no ballot was cast".
    let board = walk.board.clone();
    let tag = |wallet: &str| {
        walk.run(&[
            "receipt",
            "tag",
            &board,
            e[0],
            e[1],
            "--wallet",
            wallet,
            "--passphrase-file",
            "pass",
            "--board-key-file",
            "data/board.vkey",
        ])
    };
    let found = ok(tag("wallet2.bin"));
    assert_eq!(
        found.matches("cast with this credential").count(),
        2,
        "{found}"
    );
    assert!(found.contains("the one counted"), "{found}");
    let never = ok(tag("wallet1.bin"));
    assert_eq!(
        never.matches("cast with this credential").count(),
        1,
        "{never}"
    );
    for (wallet, why) in [
        ("wallet4.bin", "not in the election's registry snapshot"),
        ("elsewhere.bin", "this wallet was enrolled in registry"),
    ] {
        let out = tag(wallet);
        assert!(!out.status.success(), "{wallet}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(why), "{wallet}: {stderr}");
        assert!(
            !String::from_utf8_lossy(&out.stdout).contains("no ballot was cast"),
            "{wallet}"
        );
    }
    // A log proven only self-consistent says nothing of a voter's ballots.
    let out = walk.run(&[
        "receipt",
        "tag",
        &board,
        e[0],
        e[1],
        "--wallet",
        "wallet2.bin",
        "--passphrase-file",
        "pass",
        "--trust-archive-keys",
    ]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--trust-archive-keys is refused"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A plain `GET path` to the board at `url` (`http://host:port`): the whole answer, head and
/// body.
fn http_get(url: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let addr = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}
