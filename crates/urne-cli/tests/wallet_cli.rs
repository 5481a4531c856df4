//! `urne wallet new|show|enrol` with the real binary (spec/30 §30.5): the file is written
//! 0600 and encrypted, a wrong passphrase is a clear refusal, the enrolment request
//! verifies for its registry only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use urne_credential::wallet::{ATTRIBUTE_DISTRICT, EnrolmentRequest};

fn urne(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_urne"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = urne(dir, args);
    assert!(
        out.status.success(),
        "urne {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn refused(dir: &Path, args: &[&str]) -> String {
    let out = urne(dir, args);
    assert!(!out.status.success(), "urne {args:?} succeeded");
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn a_wallet_is_made_shown_and_enrolled_from_the_command_line() {
    let dir = std::env::temp_dir().join(format!("urne-wallet-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("pass"), "correct horse battery\n").unwrap();
    std::fs::write(dir.join("wrong"), "correct horse\n").unwrap();
    let wallet = ["--wallet", "w.bin", "--passphrase-file", "pass"];

    let made = ok(
        &dir,
        &[&["wallet", "new", "--district", "12"][..], &wallet].concat(),
    );
    let key = made.trim().strip_prefix("key: ").unwrap().to_owned();
    let mode = std::fs::metadata(dir.join("w.bin"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    // A second `new` never overwrites a wallet (its key would be lost).
    assert!(refused(&dir, &[&["wallet", "new"][..], &wallet].concat()).contains("w.bin"));

    let shown = ok(&dir, &[&["wallet", "show"][..], &wallet].concat());
    assert!(shown.contains(&format!("key: {key}")), "{shown}");
    assert!(shown.contains("district (1): 12 commitment "), "{shown}");

    let wrong = refused(
        &dir,
        &[
            "wallet",
            "show",
            "--wallet",
            "w.bin",
            "--passphrase-file",
            "wrong",
        ],
    );
    assert!(wrong.contains("wrong passphrase"), "{wrong}");

    let registry = "ab".repeat(32);
    ok(
        &dir,
        &[
            &[
                "wallet",
                "enrol",
                "--registry",
                &registry,
                "--registrar-threshold",
                "1",
                "--registrar",
                "5866666666666666666666666666666666666666666666666666666666666666",
                "--out",
                "req.bin",
            ][..],
            &wallet,
        ]
        .concat(),
    );
    let request = std::fs::read(dir.join("req.bin")).unwrap();
    assert_eq!(
        std::fs::metadata(dir.join("req.bin"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    let decoded = EnrolmentRequest::decode_and_verify(&request, &[0xab; 32]).unwrap();
    assert_eq!(decoded.key.to_hex(), key);
    assert_eq!(decoded.attribute(ATTRIBUTE_DISTRICT), Some(12));
    assert!(EnrolmentRequest::decode_and_verify(&request, &[0xac; 32]).is_err());
    let _ = std::fs::remove_dir_all(&dir);
}
