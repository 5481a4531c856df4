//! The walkthroughs' harness: the real `urne` binary run in a scratch directory against a
//! board started by the test. Each walkthrough uses part of it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

pub struct Walk {
    pub dir: PathBuf,
    pub board: String,
    /// `URNE_BOARD_KEY_FILE` for every command, when the walkthrough's reads are checked
    /// against the board's signed checkpoints.
    pub board_key_file: Option<&'static str>,
}

impl Walk {
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_urne"));
        c.current_dir(&self.dir).env("URNE_BOARD", &self.board);
        if let Some(file) = self.board_key_file {
            c.env("URNE_BOARD_KEY_FILE", file);
        }
        c.args(args);
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "urne {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    pub fn refused(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(!out.status.success(), "urne {args:?} succeeded");
        String::from_utf8(out.stderr).unwrap()
    }

    /// The key ceremony of `election` by three trustees with threshold 2: each makes its key
    /// (`trustee<t>.key`, passphrase in `pass<t>`), the authority names them, each runs
    /// `trustee ceremony` in its own process, and the authority ends the complaint round.
    /// Returns what each trustee printed (its last line names the joint key).
    pub fn key_ceremony(&self, authority: &[&str; 2], election: &str) -> Vec<String> {
        let mut trustee_keys = Vec::new();
        for t in 1..=3 {
            let out = self.ok(&["trustee", "keygen", "--out", &format!("trustee{t}.key")]);
            trustee_keys.push(field(&out, "public key:").to_owned());
            std::fs::write(
                self.dir.join(format!("pass{t}")),
                format!("passphrase of trustee {t}\n"),
            )
            .unwrap();
        }
        let e = ["--election", election];
        let mut ceremony = vec![
            "election",
            "ceremony",
            authority[0],
            authority[1],
            e[0],
            e[1],
        ];
        for key in &trustee_keys {
            ceremony.extend(["--trustee", key.as_str()]);
        }
        ceremony.extend(["--threshold", "2"]);
        self.ok(&ceremony);
        // Killed if this panics before they are reaped, so none outlives the test.
        let mut trustees = Children(Vec::new());
        trustees.0 = (1..=3)
            .map(|t| {
                self.spawn(&[
                    "trustee",
                    "ceremony",
                    e[0],
                    e[1],
                    "--key",
                    &format!("trustee{t}.key"),
                    "--state",
                    &format!("trustee{t}.state"),
                    "--passphrase-file",
                    &format!("pass{t}"),
                    "--timeout",
                    "120",
                ])
            })
            .collect();
        self.ok(&[
            "election",
            "close-round",
            authority[0],
            authority[1],
            e[0],
            e[1],
            "--round",
            "5",
        ]);
        std::mem::take(&mut trustees.0)
            .into_iter()
            .map(|trustee| {
                let out = trustee.wait_with_output().unwrap();
                let stdout = String::from_utf8(out.stdout).unwrap();
                assert!(
                    out.status.success(),
                    "trustee failed: {stdout}{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                stdout
            })
            .collect()
    }

    /// Trustees `trustees` (of [`Walk::key_ceremony`]) post their decryption shares.
    pub fn decrypt(&self, election: &str, trustees: &[u32]) {
        for t in trustees {
            self.ok(&[
                "trustee",
                "decrypt",
                "--election",
                election,
                "--key",
                &format!("trustee{t}.key"),
                "--state",
                &format!("trustee{t}.state"),
                "--passphrase-file",
                &format!("pass{t}"),
            ]);
        }
    }

    pub fn spawn(&self, args: &[&str]) -> Child {
        self.command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }
}

/// Child processes killed and reaped when dropped (by a panic), unless taken first.
struct Children(Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A child process killed and reaped when the test ends, passing or not.
pub struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The rest of the line of `text` that starts with `prefix`, trimmed.
pub fn field<'a>(text: &'a str, prefix: &str) -> &'a str {
    text.lines()
        .find_map(|l| l.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no {prefix} in {text}"))
        .trim()
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `urne serve` started by a test, on a port the kernel picks.
///
/// Ready means the server printed `listening on http://…`, which it does only after its
/// key files, `board.vkey` and the board itself are in place: a TCP connect would succeed
/// earlier (the socket listens from the moment it is bound, before the authority key the
/// walkthroughs read is written). Both pipes are drained for the server's whole life, so a
/// chatty log never blocks it, and both are kept: a server that fails to start, or to
/// stop, is reported with what it printed.
pub struct BoardProcess {
    child: Child,
    /// `http://127.0.0.1:<port>`
    pub url: String,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    drains: Vec<JoinHandle<()>>,
}

/// At most this much of a pipe is kept (the newest): a server's log can be long.
const KEPT_BYTES: usize = 1 << 20;

/// Reads `pipe` to its end, line by line (bytes that are not UTF-8 replaced, never a
/// reason to stop), keeping the newest [`KEPT_BYTES`] in `kept` and sending each line to
/// `lines`.
fn drain(
    pipe: impl std::io::Read + Send + 'static,
    kept: Arc<Mutex<String>>,
    lines: Option<mpsc::Sender<String>>,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut reader = std::io::BufReader::new(pipe);
        let mut buffer = Vec::new();
        loop {
            buffer.clear();
            match reader.read_until(b'\n', &mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            let line = String::from_utf8_lossy(&buffer).into_owned();
            if let Some(lines) = &lines {
                let _ = lines.send(line.trim_end().to_owned());
            }
            let mut kept = kept.lock().unwrap_or_else(|p| p.into_inner());
            kept.push_str(&line);
            if kept.len() > KEPT_BYTES {
                let mut cut = kept.len() - KEPT_BYTES;
                while !kept.is_char_boundary(cut) {
                    cut += 1;
                }
                kept.drain(..cut);
            }
        }
    })
}

impl BoardProcess {
    /// Runs `urne serve --config serve.toml --data data <args> --listen 127.0.0.1:0` in
    /// `dir`, with `URNE_BOARD` unset and `envs` set, and waits until it serves.
    pub fn start(dir: &Path, args: &[&str], envs: &[(&str, &Path)]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_urne"))
            .current_dir(dir)
            .env_remove("URNE_BOARD")
            .envs(envs.iter().copied())
            .args(["serve", "--config", "serve.toml", "--data", "data"])
            .args(args)
            .args(["--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = Arc::new(Mutex::new(String::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let (lines_tx, lines) = mpsc::channel();
        let drains = vec![
            drain(
                child.stdout.take().unwrap(),
                Arc::clone(&stdout),
                Some(lines_tx),
            ),
            drain(child.stderr.take().unwrap(), Arc::clone(&stderr), None),
        ];
        let mut board = Self {
            child,
            url: String::new(),
            stdout,
            stderr,
            drains,
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(addr) = line.strip_prefix("listening on http://") {
                        board.url = format!("http://{addr}");
                        return board;
                    }
                }
                // Stdout closed: the server exited before it served.
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = board.child.wait().ok();
                    board.fail(&format!("urne serve exited before it served ({status:?})"));
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    board.fail("urne serve did not become ready in 60 s");
                }
            }
        }
    }

    fn fail(&self, what: &str) -> ! {
        panic!(
            "{what}; its stdout:\n{}\nits stderr:\n{}",
            self.stdout.lock().unwrap_or_else(|p| p.into_inner()),
            self.stderr.lock().unwrap_or_else(|p| p.into_inner())
        )
    }

    /// `127.0.0.1:<port>`
    pub fn addr(&self) -> &str {
        self.url.trim_start_matches("http://")
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM, then waits (at most 60 s, then kills it and fails) for the graceful
    /// shutdown: its exit status and all it printed on stdout.
    pub fn terminate(mut self) -> (ExitStatus, String) {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success(), "kill -TERM failed");
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if std::time::Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                self.fail("urne serve did not stop within 60 s of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        for drain in self.drains.drain(..) {
            drain.join().unwrap();
        }
        let stdout = std::mem::take(&mut *self.stdout.lock().unwrap());
        (status, stdout)
    }
}

impl Drop for BoardProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() && !self.url.is_empty() {
            let stderr = self.stderr.lock().unwrap_or_else(|p| p.into_inner());
            let mut from = stderr.len().saturating_sub(16 * 1024);
            while !stderr.is_char_boundary(from) {
                from += 1;
            }
            eprintln!("the board's stderr, its end:\n{}", &stderr[from..]);
        }
    }
}
