//! Pushing the board's checkpoints to witnesses with the C2SP tlog-witness
//! `add-checkpoint` API (spec/14-witness.md §14.2), and keeping their cosignatures.
//!
//! One thread per witness, never an async worker: each push reads a consistency proof
//! from storage, waits on the network and, through `Board::add_cosignatures`, fsyncs the
//! checkpoint. The thread remembers the witness's size as the witness last reported it,
//! so a 409 costs one retry, not a restart from zero.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use urne_board::Board;
use urne_client::{ClientOptions, WitnessAnswer, WitnessClient};
use urne_log::Checkpoint;
use urne_log::note::{CosignatureVerifier, Note};

/// Attempts per checkpoint: a first push, and retries after 409 with the witness's size.
const ATTEMPTS: usize = 3;

/// A witness the board pushes its checkpoints to.
#[derive(Clone, Debug)]
pub struct PushWitness {
    /// The witness's submission prefix, e.g. `http://127.0.0.1:8500`.
    pub url: String,
    /// Its cosignature key (also to be among the board's known witnesses, or the board
    /// refuses its cosignatures).
    pub verifier: CosignatureVerifier,
}

impl PushWitness {
    /// Parses `<url>=<vkey>` (the form of `--push-witness` and `push_witnesses`).
    pub fn parse(spec: &str) -> Result<Self, String> {
        let (url, vkey) = spec
            .split_once('=')
            .ok_or_else(|| format!("push witness {spec:?}: expected <url>=<vkey>"))?;
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!(
                "push witness {spec:?}: the URL must start with http://"
            ));
        }
        let verifier = CosignatureVerifier::from_vkey(vkey)
            .map_err(|e| format!("push witness {spec:?}: {e}"))?;
        Ok(Self {
            url: url.trim_end_matches('/').to_owned(),
            verifier,
        })
    }
}

/// The running push threads.
pub(crate) struct Pushers {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Pushers {
    /// Asks every thread to stop and waits for them (call off the async runtime).
    pub(crate) fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads {
            let _ = t.join();
        }
    }
}

fn unix_millis() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

/// Starts one push thread per witness, each looking for a new checkpoint every `interval`.
pub(crate) fn spawn(board: &Arc<Board>, witnesses: &[PushWitness], interval: Duration) -> Pushers {
    let stop = Arc::new(AtomicBool::new(false));
    let threads = witnesses
        .iter()
        .filter_map(|w| {
            let (board, w, stop) = (Arc::clone(board), w.clone(), Arc::clone(&stop));
            std::thread::Builder::new()
                .name("witness-push".into())
                .spawn(move || run(&board, &w, &stop, interval))
                .ok()
        })
        .collect();
    Pushers { stop, threads }
}

/// The push client's options: plain `http://` to any host, as configured: what travels
/// is the board's public, signed checkpoint, and the answer's cosignatures are verified
/// against the witness's key, so the network can delay a cosignature but not forge one.
fn push_options() -> ClientOptions {
    let mut options = ClientOptions::allowing_plain_http(true);
    options.timeout = Duration::from_secs(10);
    options
}

fn run(board: &Board, witness: &PushWitness, stop: &AtomicBool, interval: Duration) {
    let client = match WitnessClient::new(&witness.url, witness.verifier.clone(), &push_options()) {
        Ok(client) => client,
        Err(e) => {
            eprintln!(
                "{{\"t\":{},\"event\":\"witness-push-disabled\",\"witness\":{:?},\"error\":{:?}}}",
                unix_millis(),
                witness.url,
                e.to_string()
            );
            return;
        }
    };
    let mut pusher = Pusher {
        board,
        client,
        witness_size: None,
    };
    let mut cosigned: Option<u64> = None;
    while !stop.load(Ordering::Relaxed) {
        if let Some(note) = board.checkpoint() {
            match checkpoint_size(&note) {
                Some(size) if cosigned != Some(size) => match pusher.push(&note, size) {
                    Ok(()) => cosigned = Some(size),
                    Err(e) => eprintln!(
                        "{{\"t\":{},\"event\":\"witness-push-failed\",\"witness\":{:?},\"size\":{size},\"error\":{e:?}}}",
                        unix_millis(),
                        witness.url
                    ),
                },
                _ => {}
            }
        }
        let until = Instant::now() + interval;
        while !stop.load(Ordering::Relaxed) && Instant::now() < until {
            std::thread::sleep(interval.min(Duration::from_millis(50)));
        }
    }
}

fn checkpoint_size(note: &str) -> Option<u64> {
    let note = Note::parse(note.as_bytes()).ok()?;
    Checkpoint::parse(note.text()).ok().map(|c| c.size())
}

struct Pusher<'a> {
    board: &'a Board,
    client: WitnessClient,
    /// The witness's latest cosigned size as it last told us; None: ask with 0.
    witness_size: Option<u64>,
}

impl Pusher<'_> {
    /// Pushes the checkpoint `note_text` of `size` leaves until the witness cosigns it,
    /// a 409 names a size we cannot prove from, or the attempts run out.
    fn push(&mut self, note_text: &str, size: u64) -> Result<(), String> {
        for _ in 0..ATTEMPTS {
            let old = self.witness_size.unwrap_or(0);
            if old > size {
                // Asked afresh next time: the witness may have been reset, or the size
                // may have come from a bad answer; kept, it would never be retried.
                self.witness_size = None;
                return Err(format!(
                    "the witness has cosigned size {old}, beyond this board's {size}"
                ));
            }
            let proof = if old == 0 {
                Vec::new()
            } else {
                self.board
                    .store()
                    .consistency_proof(old, size)
                    .map_err(|e| format!("consistency proof {old}→{size}: {e}"))?
            };
            let answer = self
                .client
                .add_checkpoint(old, &proof, note_text)
                .map_err(|e| e.to_string())?;
            match answer {
                WitnessAnswer::Cosigned(lines) => return self.keep(note_text, lines, size),
                WitnessAnswer::Conflict { size: reported } => {
                    self.witness_size = Some(reported);
                    if reported == old {
                        return Err(format!(
                            "409 at the witness's own size {old}: it holds another root (a fork)"
                        ));
                    }
                }
                _ => return Err("an answer this board does not know".to_owned()),
            }
        }
        Err(format!("no cosignature after {ATTEMPTS} attempts"))
    }

    /// Keeps the witness's verified cosignature lines on the board's checkpoint.
    fn keep(
        &mut self,
        note_text: &str,
        lines: Vec<urne_log::note::NoteSignature>,
        size: u64,
    ) -> Result<(), String> {
        let mut note = Note::parse(note_text.as_bytes()).map_err(|e| e.to_string())?;
        self.witness_size = Some(size);
        for line in lines {
            note.add_signature(line);
        }
        self.board
            .add_cosignatures(&note.to_text())
            .map(|_| ())
            .map_err(|e| format!("the board refused the cosignature: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_push_witness_is_a_url_and_a_cosignature_vkey() {
        let vkey = urne_log::note::Cosigner::from_seed("w.example", &[1; 32])
            .map(|c| c.verifier().to_vkey())
            .unwrap_or_default();
        let parsed = PushWitness::parse(&format!("http://127.0.0.1:8500/={vkey}"));
        assert_eq!(
            parsed
                .as_ref()
                .map(|w| (w.url.as_str(), w.verifier.to_vkey())),
            Ok(("http://127.0.0.1:8500", vkey.clone()))
        );
        for bad in [
            vkey.clone(),
            format!("127.0.0.1:8500={vkey}"),
            "http://127.0.0.1:8500=w.example+00000000+AAAA".to_owned(),
        ] {
            assert!(PushWitness::parse(&bad).is_err(), "{bad}");
        }
        let note_key = urne_log::note::NoteSigner::from_seed("w.example", &[1; 32])
            .map(|s| s.verifier().to_vkey())
            .unwrap_or_default();
        assert!(
            PushWitness::parse(&format!("http://x={note_key}")).is_err(),
            "a note key is not a cosignature key"
        );
    }

    /// A witness that answers every request 409 with `size` and counts the requests.
    fn conflicting_witness(size: u64) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| {
            unreachable!("loopback: {e}");
        });
        let url = format!(
            "http://{}",
            listener
                .local_addr()
                .map_or_else(|e| e.to_string(), |a| a.to_string())
        );
        let requests = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = Arc::clone(&requests);
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                let mut request = Vec::new();
                let mut chunk = [0u8; 4096];
                // Read the head and the body it declares, then answer.
                while let Ok(n) = stream.read(&mut chunk) {
                    if n == 0 {
                        break;
                    }
                    request.extend_from_slice(&chunk[..n]);
                    let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") else {
                        continue;
                    };
                    let head = String::from_utf8_lossy(&request[..end]).to_ascii_lowercase();
                    let length: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    if request.len() >= end + 4 + length {
                        break;
                    }
                }
                counted.fetch_add(1, Ordering::SeqCst);
                let body = format!("{size}\n");
                let _ = write!(
                    stream,
                    "HTTP/1.1 409 Conflict\r\ncontent-type: text/x.tlog.size\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        (url, requests)
    }

    #[test]
    fn a_witness_size_beyond_the_boards_is_asked_again_on_the_next_push() {
        let dir = std::env::temp_dir().join(format!("urne-push-reset-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let authority = [9u8; 32];
        let config = urne_board::BoardConfig::new(
            "test.example/board",
            zeroize::Zeroizing::new([7; 32]),
            vec![authority],
            vec![],
        );
        let Ok((board, _)) = Board::open(&dir, config, urne_board::Registry::standard()) else {
            unreachable!("a new board opens");
        };
        let Ok(note) = board.sign_checkpoint() else {
            unreachable!("an empty board signs");
        };
        let (url, requests) = conflicting_witness(1000);
        let witness = urne_log::note::Cosigner::from_seed("w.example", &[1; 32]);
        let Ok(client) = witness.map_err(|e| e.to_string()).and_then(|w| {
            WitnessClient::new(&url, w.verifier(), &ClientOptions::default())
                .map_err(|e| e.to_string())
        }) else {
            unreachable!("a loopback client");
        };
        let mut pusher = Pusher {
            board: &board,
            client,
            witness_size: None,
        };
        let first = pusher.push(&note, 0);
        assert!(
            first.as_ref().is_err_and(|e| e.contains("size 1000")),
            "{first:?}"
        );
        assert_eq!(requests.load(Ordering::SeqCst), 1);
        // Without the reset the next push would refuse at once, never asking again.
        let second = pusher.push(&note, 0);
        assert!(second.is_err(), "{second:?}");
        assert_eq!(
            requests.load(Ordering::SeqCst),
            2,
            "the witness was not asked again"
        );
        drop(board);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
