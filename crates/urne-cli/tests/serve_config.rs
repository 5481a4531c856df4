//! serve.toml's queue bounds reach the board, and a bound of 0 is refused by name.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs `urne` in `dir`; a server that starts after all is stopped, not waited for.
fn urne(dir: &std::path::Path, args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_urne"))
        .current_dir(dir)
        .env_remove("URNE_BOARD")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn a_queue_bound_of_zero_in_serve_toml_is_a_config_error_naming_the_key() {
    let dir = std::env::temp_dir().join(format!("urne-serve-config-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for key in ["max_queued_records", "max_queued_bytes"] {
        std::fs::write(dir.join("serve.toml"), format!("{key} = 0\n")).unwrap();
        let out = urne(
            &dir,
            &[
                "serve",
                "--config",
                "serve.toml",
                "--data",
                "data",
                "--listen",
                "127.0.0.1:0",
            ],
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{key} = 0 was accepted: {stderr}");
        assert!(
            stderr.contains(&format!("{key} is 0")) && stderr.contains("at least 1"),
            "{stderr}"
        );
    }
    // An unknown key stays refused (the file is read strictly).
    std::fs::write(dir.join("serve.toml"), "max_queued = 5\n").unwrap();
    let out = urne(
        &dir,
        &[
            "serve",
            "--config",
            "serve.toml",
            "--data",
            "data",
            "--listen",
            "127.0.0.1:0",
        ],
    );
    assert!(!out.status.success());
    let _ = std::fs::remove_dir_all(&dir);
}
