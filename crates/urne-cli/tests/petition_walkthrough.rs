//! A petition with the real `urne` binary against `urne serve` over HTTP (spec/32 §32.8):
//! citizens make wallets and enrolment requests, the registrars build and cosign a
//! snapshot, the authority creates and opens the petition, citizens sign, a second
//! signature by the same wallet is refused naming the first, one signer withdraws, the
//! live count follows, the petition closes and reaches its threshold.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::{BoardProcess, Walk, field};

#[test]
fn a_petition_from_wallets_to_its_outcome_over_http() {
    let dir = std::env::temp_dir().join(format!("urne-petition-walk-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("requests")).unwrap();
    std::fs::write(dir.join("serve.toml"), "checkpoint_interval_ms = 500\n").unwrap();
    std::fs::write(dir.join("text.txt"), "Open the library on Sundays.\n").unwrap();
    std::fs::write(dir.join("pass"), "a citizen's passphrase\n").unwrap();
    let _server = BoardProcess::start(&dir, &[], &[]);
    let walk = Walk {
        dir: dir.clone(),
        board: _server.url.clone(),
        board_key_file: Some("data/board.vkey"),
    };

    let registry = "5e".repeat(32);
    // Three registrars, two of whom must cosign a snapshot.
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
    // Six citizens: wallets made on their devices, requests handed to the registrar, the
    // registry and its registrars recorded in the wallet as the registrar gave them.
    // Wallet 6 was told of another registrar set: it must refuse this petition.
    let wallet = |i: usize| format!("wallet{i}.bin");
    for i in 0..7 {
        let w = wallet(i);
        let district = (1 + i % 2).to_string();
        let base = ["--wallet", w.as_str(), "--passphrase-file", "pass"];
        walk.ok(&[&["wallet", "new", "--district", &district][..], &base].concat());
        let registrars: &[&str] = if i == 6 {
            &[
                "--registrar-threshold",
                "1",
                "--registrar",
                &registrar_keys[0],
            ]
        } else {
            &registrar_args
        };
        let out = if i == 6 {
            "elsewhere".to_owned()
        } else {
            format!("requests/person{i}")
        };
        walk.ok(&[
            &["wallet", "enrol", "--registry", &registry, "--out", &out][..],
            registrars,
            &base,
        ]
        .concat());
    }
    // Two of three registrars cosign a snapshot in buckets of 4.
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
    }

    let authority = ["--key", "data/authority.key"];
    let mut create = vec![
        "petition",
        "create",
        "--key",
        "data/authority.key",
        "--name",
        "Sunday library",
        "--text",
        "text.txt",
        "--threshold",
        "3",
        "--deadline",
        "1900000000",
        "--scope",
        "City council",
        "--registry",
        &registry,
        "--registrar-threshold",
        "2",
        "--min-snapshot",
        "1",
    ];
    for k in &registrar_keys {
        create.extend(["--registrar", k.as_str()]);
    }
    // The definition binds the floor the board holds the snapshot to (spec/32 §32.6): the
    // default (buckets of 2^10, 512 registered keys) refuses this demo's snapshot.
    let strict = field(&walk.ok(&create), "petition:").to_owned();
    let refused = walk.refused(
        &[
            &["petition", "open", "--petition", strict.as_str()][..],
            &authority,
            &["--snapshot", "snapshot.bin"],
        ]
        .concat(),
    );
    assert!(
        refused.contains("body.bucket_bits") && refused.contains("below the floor of 1024"),
        "{refused}"
    );
    create.extend([
        "--min-bucket-bits",
        "2",
        "--min-real-keys",
        "2",
        "--disclosure-min-bin",
        "2",
    ]);
    let created = walk.ok(&create);
    let petition = field(&created, "petition:").to_owned();
    let p = ["--petition", petition.as_str()];

    // Not open yet: signing is refused. Rings of 4 are far below the spec's floor: this
    // demo lowers it explicitly.
    let sign_with = |i: usize, withdraw: bool, floor: &[&str]| {
        let w = wallet(i);
        let mut args = vec![
            "petition",
            "sign",
            p[0],
            p[1],
            "--wallet",
            &w,
            "--passphrase-file",
            "pass",
        ];
        args.extend_from_slice(floor);
        if withdraw {
            args.push("--withdraw");
        }
        walk.run(&args)
    };
    let demo_floor = ["--min-bucket", "4", "--min-real-keys", "2"];
    let sign = |i: usize, withdraw: bool| sign_with(i, withdraw, &demo_floor);
    assert!(!sign(0, false).status.success());

    walk.ok(&[
        &["petition", "open"][..],
        &p,
        &authority,
        &["--snapshot", "snapshot.bin"],
    ]
    .concat());
    // The spec's floor: a ring of 4 is refused, naming its size.
    let small = sign_with(0, false, &[]);
    assert!(!small.status.success());
    let refusal = String::from_utf8_lossy(&small.stderr);
    assert!(
        refusal.contains("the ring has 4 keys, fewer than 1024"),
        "{refusal}"
    );
    // Real keys: a bucket of 4 holding 3 people is refused under a floor of 4.
    let padded = sign_with(0, false, &["--min-bucket", "4", "--min-real-keys", "4"]);
    let refusal = String::from_utf8_lossy(&padded.stderr);
    assert!(
        refusal.contains("registered keys, fewer than 4"),
        "{refusal}"
    );
    // A wallet enrolled under other registrars refuses the petition's.
    let other = sign(6, false);
    assert!(!other.status.success());
    let refusal = String::from_utf8_lossy(&other.stderr);
    assert!(
        refusal.contains("this wallet's registry has registrars 1 of 1"),
        "{refusal}"
    );
    // Disclosure under a minimum bin of 2, below the wallet's floor of 100: refused.
    let unsafe_bin = sign_with(
        0,
        false,
        &[&demo_floor[..], &["--disclose-district"]].concat(),
    );
    let refusal = String::from_utf8_lossy(&unsafe_bin.stderr);
    assert!(
        !unsafe_bin.status.success() && refusal.contains("minimum bin is 2, below 100"),
        "{refusal}"
    );
    // Wallets 0 and 2 (district 1) and 3 (district 2) disclose their district; 1 does not.
    let disclosing = [
        &demo_floor[..],
        &["--disclose-district", "--min-disclosure-bin", "2"],
    ]
    .concat();
    for i in 0..4 {
        let out = if i == 1 {
            sign(i, false)
        } else {
            sign_with(i, false, &disclosing)
        };
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let said = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            said.contains("will be public in this record"),
            i != 1,
            "{said}"
        );
    }
    // The same wallet again: its own tag is on the log, so the wallet refuses before
    // posting (a retry must not become evidence of signing twice); nothing is posted.
    let before = walk.ok(&[&["petition", "status"][..], &p].concat());
    let again = sign(2, false);
    assert!(!again.status.success());
    let refusal = String::from_utf8_lossy(&again.stderr);
    assert!(
        refusal.contains("this wallet already signed this petition in record #")
            && refusal.contains("not signing again"),
        "{refusal}"
    );
    assert_eq!(walk.ok(&[&["petition", "status"][..], &p].concat()), before);
    // Signer 1 withdraws.
    assert!(sign(1, true).status.success());
    let status = walk.ok(&[
        &["petition", "status"][..],
        &p,
        &["--watch", "1", "--rounds", "2"],
    ]
    .concat());
    assert_eq!(
        status
            .lines()
            .filter(|l| l.starts_with("petition "))
            .count(),
        2,
        "{status}"
    );
    assert!(
        status.contains(&format!("registry {registry}, registrars 2 of 3")),
        "{status}"
    );
    assert!(
        status
            .contains("rings: 2 buckets of 4 keys, at least 3 registered in each; below the floor"),
        "{status}"
    );
    assert!(
        status.contains("open, 3 signatures (threshold 3), 1 withdrawn"),
        "{status}"
    );
    // District 2 has one disclosed signature, below the bin of 2: withheld.
    assert!(
        status.contains(
            "disclosed districts (public in each record; bins of at least 2 shown here, the rest withheld): district 1: 2\n"
        ),
        "{status}"
    );

    let closed = walk.ok(&[&["petition", "close"][..], &p, &authority].concat());
    assert!(
        closed.contains("3 signatures, threshold 3: reached"),
        "{closed}"
    );
    assert!(
        walk.refused(
            &[
                &[
                    "petition",
                    "sign",
                    "--wallet",
                    &wallet(5),
                    "--passphrase-file",
                    "pass"
                ][..],
                &p
            ]
            .concat()
        )
        .contains("not open")
    );
    let status = walk.ok(&[&["petition", "status"][..], &p].concat());
    assert!(status.contains("reached, 3 signatures"), "{status}");
    let _ = std::fs::remove_dir_all(&dir);
}
