//! `urne serve`'s default origin (spec/10 §10.2, C2SP tlog-tiles): the public URL prefix
//! without its scheme, else the origin the board already has, else the listen address;
//! a new board on all interfaces must be told its public URL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `urne serve` with `args`, waits until it listens, reads the checkpoint's origin
/// line over HTTP, stops it with SIGTERM. Err(stderr) if it did not start.
fn served_origin(dir: &Path, args: &[&str]) -> Result<String, String> {
    let mut server = Command::new(env!("CARGO_BIN_EXE_urne"))
        .current_dir(dir)
        .env_remove("URNE_BOARD")
        .arg("serve")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let started = Instant::now();
    let address = loop {
        match lines.next() {
            Some(line) => {
                if let Some(url) = line.unwrap().strip_prefix("listening on http://") {
                    break url.to_owned();
                }
            }
            None => {
                let out = server.wait_with_output().unwrap();
                return Err(String::from_utf8_lossy(&out.stderr).into_owned());
            }
        }
        assert!(started.elapsed() < Duration::from_secs(30));
    };
    let body = ureq::get(&format!("http://{address}/checkpoint"))
        .call()
        .unwrap()
        .into_body()
        .read_to_string()
        .unwrap();
    Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(server.wait().unwrap().success());
    Ok(body.lines().next().unwrap().to_owned())
}

#[test]
fn the_default_origin_is_the_public_url_else_the_boards_own_else_the_listen_address() {
    let dir = std::env::temp_dir().join(format!("urne-serve-origin-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();

    let first = format!("127.0.0.1:{}", free_port());
    assert_eq!(
        served_origin(&dir, &["--data", "a", "--listen", &first]).unwrap(),
        first,
        "a new board without --public-url is named by its address"
    );
    let moved = format!("127.0.0.1:{}", free_port());
    assert_eq!(
        served_origin(&dir, &["--data", "a", "--listen", &moved]).unwrap(),
        first,
        "a board moved to another address keeps its origin"
    );
    let refused = served_origin(
        &dir,
        &[
            "--data",
            "a",
            "--listen",
            &moved,
            "--public-url",
            "https://vote.example.org/board",
        ],
    )
    .unwrap_err();
    assert!(refused.contains("wrong key or origin"), "{refused}");

    let listen = format!("127.0.0.1:{}", free_port());
    assert_eq!(
        served_origin(
            &dir,
            &[
                "--data",
                "b",
                "--listen",
                &listen,
                "--public-url",
                "https://vote.example.org/board/",
            ],
        )
        .unwrap(),
        "vote.example.org/board"
    );
    std::fs::write(
        dir.join("serve.toml"),
        "public_url = \"https://file.example/urne\"\n",
    )
    .unwrap();
    assert_eq!(
        served_origin(
            &dir,
            &[
                "--config",
                "serve.toml",
                "--data",
                "c",
                "--listen",
                &listen,
                "--origin",
                "chosen.example/x",
            ],
        )
        .unwrap(),
        "chosen.example/x",
        "--origin overrides the public URL"
    );

    let everywhere = format!("0.0.0.0:{}", free_port());
    let refused = served_origin(&dir, &["--data", "d", "--listen", &everywhere]).unwrap_err();
    assert!(
        refused.contains("--public-url") && refused.contains(&everywhere),
        "{refused}"
    );
    let refused = served_origin(
        &dir,
        &[
            "--data",
            "d",
            "--listen",
            &listen,
            "--public-url",
            "vote.example.org",
        ],
    )
    .unwrap_err();
    assert!(refused.contains("public URL vote.example.org"), "{refused}");
    let _ = std::fs::remove_dir_all(&dir);
}
