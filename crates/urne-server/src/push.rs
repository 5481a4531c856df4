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
use urne_log::Checkpoint;
use urne_log::note::{CosignatureVerifier, Note};
use urne_log::witness_protocol::{
    ADD_CHECKPOINT_PATH, MAX_RESPONSE_BYTES, encode_request, parse_cosignatures, parse_size,
};

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

fn run(board: &Board, witness: &PushWitness, stop: &AtomicBool, interval: Duration) {
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .new_agent();
    let mut pusher = Pusher {
        board,
        witness,
        agent,
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
    witness: &'a PushWitness,
    agent: ureq::Agent,
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
            let body = encode_request(old, &proof, note_text);
            let (status, answer) = self.post(&body)?;
            match status {
                200 => return self.keep(note_text, &answer, size),
                409 => {
                    let reported = parse_size(&answer).map_err(|e| format!("409 answer: {e}"))?;
                    self.witness_size = Some(reported);
                    if reported == old {
                        return Err(format!(
                            "409 at the witness's own size {old}: it holds another root (a fork)"
                        ));
                    }
                }
                other => {
                    return Err(format!(
                        "{other}: {}",
                        String::from_utf8_lossy(&answer).trim_end()
                    ));
                }
            }
        }
        Err(format!("no cosignature after {ATTEMPTS} attempts"))
    }

    fn post(&self, body: &str) -> Result<(u16, Vec<u8>), String> {
        let url = format!("{}{ADD_CHECKPOINT_PATH}", self.witness.url);
        let mut response = self
            .agent
            .post(&url)
            .header("content-type", "text/plain; charset=utf-8")
            .send(body.as_bytes())
            .map_err(|e| format!("POST {url}: {e}"))?;
        let status = response.status().as_u16();
        let answer = response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE_BYTES as u64)
            .read_to_vec()
            .map_err(|e| format!("POST {url}: {e}"))?;
        Ok((status, answer))
    }

    /// Keeps the witness's verified cosignature lines on the board's checkpoint.
    fn keep(&mut self, note_text: &str, answer: &[u8], size: u64) -> Result<(), String> {
        let mut note = Note::parse(note_text.as_bytes()).map_err(|e| e.to_string())?;
        let lines = parse_cosignatures(note.text(), answer, &self.witness.verifier)
            .map_err(|e| format!("200 answer: {e}"))?;
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
}
