//! `urne witness` from the outside: its exit status when a round fails, the lock on its
//! state directory, and `--serve` answering the tlog-witness push API (spec/14).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use urne_log::note::{Note, NoteSigner};
use urne_log::{Checkpoint, leaf_hash};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("urne-witness-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn board() -> NoteSigner {
    NoteSigner::from_seed("board.example/cli", &[4; 32]).unwrap()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn witness_args(dir: &std::path::Path) -> Vec<String> {
    vec![
        "witness".into(),
        "--board-key".into(),
        board().verifier().to_vkey(),
        "--key".into(),
        dir.join("w.key").display().to_string(),
        "--name".into(),
        "witness.example/cli".into(),
        "--state".into(),
        dir.join("state").display().to_string(),
    ]
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn witness_once_exits_non_zero_when_its_round_fails() {
    let dir = scratch("once");
    let mut args = witness_args(&dir);
    // Nothing listens there: the round cannot fetch a checkpoint.
    args.extend([
        "--board".into(),
        format!("http://127.0.0.1:{}", free_port()),
        "--once".into(),
    ]);
    let out = Command::new(env!("CARGO_BIN_EXE_urne"))
        .args(&args)
        .output()
        .unwrap();
    assert!(!out.status.success(), "a failed round exited 0");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("round failed"), "{stderr}");
}

#[test]
fn witness_serve_answers_add_checkpoint_and_holds_its_state_directory() {
    let dir = scratch("serve");
    let port = free_port();
    let mut args = witness_args(&dir);
    args.extend(["--serve".into(), format!("127.0.0.1:{port}")]);
    let _server = Killed(
        Command::new(env!("CARGO_BIN_EXE_urne"))
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let cp = Checkpoint::new("board.example/cli", 1, leaf_hash(b"only"), vec![]).unwrap();
    let mut note = Note::new(&cp.to_text()).unwrap();
    board().sign(&mut note);
    let body = urne_log::witness_protocol::encode_request(0, &[], &note.to_text());
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let url = format!("http://127.0.0.1:{port}/add-checkpoint");
    let started = Instant::now();
    let (status, answer) = loop {
        match agent.post(&url).send(body.as_bytes()) {
            Ok(mut r) => break (r.status().as_u16(), r.body_mut().read_to_string().unwrap()),
            Err(_) if started.elapsed() < Duration::from_secs(20) => {
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => panic!("the witness never answered: {e}"),
        }
    };
    assert_eq!(status, 200, "{answer}");
    assert!(answer.starts_with("— witness.example/cli "), "{answer}");
    // The same push again: the witness is now at size 1, not 0.
    let mut stale = agent.post(&url).send(body.as_bytes()).unwrap();
    assert_eq!(stale.status().as_u16(), 409);
    assert_eq!(stale.body_mut().read_to_string().unwrap(), "1\n");

    // Malformed: 400. Over the size limit: 413, unread.
    let malformed = agent.post(&url).send(&b"old 01\n\n"[..]).unwrap();
    assert_eq!(malformed.status().as_u16(), 400);
    let huge = vec![b'a'; urne_log::witness_protocol::MAX_REQUEST_BYTES + 1];
    let too_large = agent.post(&url).send(&huge[..]).unwrap();
    assert_eq!(too_large.status().as_u16(), 413);

    // A second witness on the same state directory refuses to start, and says why.
    let out = Command::new(env!("CARGO_BIN_EXE_urne"))
        .args(witness_args(&dir))
        .args(["--board", "http://127.0.0.1:1", "--once"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("another witness is running"), "{stderr}");
}
