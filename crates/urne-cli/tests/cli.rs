//! The `urne` binary's behaviour without a board: a closed stdout, key roles, key file
//! modes, board URLs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("urne-cli-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn urne(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_urne"))
        .current_dir(dir)
        .env_remove("URNE_BOARD")
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn a_closed_stdout_ends_the_command_quietly() {
    let d = dir("pipe");
    let (reader, writer) = std::io::pipe().unwrap();
    // The reader is gone before urne writes a byte, as with `urne … | head -0`.
    drop(reader);
    let out = Command::new(env!("CARGO_BIN_EXE_urne"))
        .current_dir(&d)
        .args(["keygen", "--role", "authority", "--out", "a.key"])
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
    assert!(out.status.success(), "{:?}", out.status);
    // The work was done before the output was lost.
    assert!(d.join("a.key").exists());
}

#[test]
fn a_key_of_another_role_is_refused() {
    let d = dir("roles");
    let out = urne(
        &d,
        &[
            "keygen",
            "--role",
            "witness",
            "--out",
            "w.key",
            "--name",
            "w.example/w",
        ],
    );
    assert!(out.status.success());
    let out = urne(
        &d,
        &[
            "post",
            "--key",
            "w.key",
            "context-open",
            "--name",
            "Election",
        ],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("a key of role witness, but this needs a key of role authority"),
        "{stderr}"
    );
}

#[test]
fn a_key_file_readable_by_others_is_warned_about() {
    let d = dir("modes");
    assert!(
        urne(&d, &["keygen", "--role", "authority", "--out", "a.key"])
            .status
            .success()
    );
    let mode = std::fs::metadata(d.join("a.key"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    let post = |d: &Path| {
        urne(
            d,
            &[
                "--board",
                "http://127.0.0.1:9",
                "post",
                "--key",
                "a.key",
                "context-open",
                "--name",
                "E",
            ],
        )
    };
    let stderr = String::from_utf8_lossy(&post(&d).stderr).into_owned();
    assert!(!stderr.contains("warning"), "{stderr}");
    std::fs::set_permissions(d.join("a.key"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let stderr = String::from_utf8_lossy(&post(&d).stderr).into_owned();
    assert!(
        stderr.contains("warning: key file a.key has mode 644"),
        "{stderr}"
    );
}

#[test]
fn keygen_never_overwrites_and_needs_a_name_for_a_vkey() {
    let d = dir("keygen");
    assert!(
        urne(&d, &["keygen", "--role", "authority", "--out", "a.key"])
            .status
            .success()
    );
    let before = std::fs::read(d.join("a.key")).unwrap();
    assert!(
        !urne(&d, &["keygen", "--role", "authority", "--out", "a.key"])
            .status
            .success()
    );
    assert_eq!(std::fs::read(d.join("a.key")).unwrap(), before);
    let out = urne(&d, &["keygen", "--role", "board", "--out", "b.key"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--name is needed"));
}

#[test]
fn plain_http_to_a_remote_board_is_refused_unless_allowed() {
    let d = dir("http");
    let args = ["log", "checkpoint", "--board-key", "x"];
    let out = Command::new(env!("CARGO_BIN_EXE_urne"))
        .current_dir(&d)
        .env("URNE_BOARD", "http://192.0.2.1:8400")
        .args(args)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("plain http:// is allowed only to a loopback address"),
        "{stderr}"
    );
    // Allowed explicitly, the URL passes and the next problem (the board key) is reported.
    let out = Command::new(env!("CARGO_BIN_EXE_urne"))
        .current_dir(&d)
        .env("URNE_BOARD", "http://192.0.2.1:8400")
        .args(args)
        .arg("--allow-plain-http")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("board key"), "{stderr}");
}

#[test]
fn a_submission_that_timed_out_is_not_reported_as_refused() {
    use std::io::{Read, Write};
    let d = dir("timeout");
    assert!(
        urne(&d, &["keygen", "--role", "authority", "--out", "a.key"])
            .status
            .success()
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let board = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let body = r#"{"code":"timeout","message":"the request took too long; a submission may still have been stored"}"#;
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 65536];
            let _ = stream.read(&mut buf);
            let _ = write!(
                stream,
                "HTTP/1.1 504 Gateway Timeout\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    let out = urne(
        &d,
        &[
            "post",
            "--key",
            "a.key",
            "--board",
            &board,
            "context-open",
            "--name",
            "E",
        ],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("may still have been stored"), "{stderr}");
    assert!(!stderr.contains("refused"), "{stderr}");
}
