//! `urne conformance` (issue 13 §3): the rows of docs/conformance.md, each with what this
//! run found — the checks that need nothing beyond loopback run here, against a board
//! started in-process on 127.0.0.1, and against the golden vectors; the others name the
//! tests `cargo test` runs for them.
//!
//! One source of truth: the table is docs/conformance.md itself, compiled in. The
//! command adds to a row only an outcome, never a row of its own; a test
//! (`every_check_names_one_row_of_the_doc`) keeps the checks here and the doc's rows
//! in one-to-one agreement, so neither can claim what the other does not hold.

use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use ed25519_dalek::SigningKey;
use sha2::{Digest, Sha256};
use urne_board::kinds::CONTEXT_OPEN;
use urne_board::{Board, BoardConfig, ContextId, ContextOpen, ContextType, Record, Registry};
use urne_log::note::{Note, NoteSigner, NoteVerifier};
use urne_log::tiles::{TILE_WIDTH, TilePath, index_path};
use urne_log::{Checkpoint, Hash, leaf_hash, verify_consistency, verify_inclusion};
use urne_server::{AppState, ServerConfig};
use zeroize::Zeroizing;

/// docs/conformance.md, the table this command prints.
pub const DOC: &str = include_str!("../../../docs/conformance.md");

/// The Go program that checks a live board with Go's sumdb `note` and `tlog` packages.
pub const GO_INTEROP: &str = include_str!("../../../tests/interop-go/main.go");

/// The golden vectors of the group encodings (RFC 9496 Appendix A among them).
const ENCODINGS: &str = include_str!("../../../vectors/encodings.json");

/// Where Debian's golang-golang-x-mod-dev puts golang.org/x/mod (GOPATH layout).
const DEBIAN_GOPATH: &str = "/usr/share/gocode";

/// One requirement of docs/conformance.md.
#[derive(Clone, Debug)]
pub struct Row {
    /// Its id (`TT-6`, `CNIL-4`).
    pub id: String,
    /// The heading of the standard's section.
    pub standard: String,
    /// The requirement as the doc states it.
    pub requirement: String,
    /// The tests the doc names as its evidence.
    pub tests: Vec<String>,
    /// The doc's status: met, partly met or not met.
    pub status: String,
}

/// The rows of every requirement table of `doc` (tables whose header starts `| # |`).
pub fn rows(doc: &str) -> Result<Vec<Row>, String> {
    let mut out = Vec::new();
    let mut standard = String::new();
    let mut columns: Option<Vec<String>> = None;
    for (n, line) in doc.lines().enumerate() {
        if let Some(heading) = line.strip_prefix("## ") {
            standard = heading.trim().to_owned();
            columns = None;
            continue;
        }
        if !line.starts_with('|') {
            columns = None;
            continue;
        }
        let cells = cells(line);
        match &columns {
            None if cells.first().map(String::as_str) == Some("#") => columns = Some(cells),
            None => {}
            Some(_)
                if cells
                    .iter()
                    .all(|c| c.chars().all(|ch| ch == '-' || ch == ':')) => {}
            Some(header) => {
                if cells.len() != header.len() {
                    return Err(format!(
                        "docs/conformance.md line {}: {} cells under a header of {}",
                        n + 1,
                        cells.len(),
                        header.len()
                    ));
                }
                let column = |name: &str| {
                    header
                        .iter()
                        .position(|h| h == name)
                        .and_then(|i| cells.get(i))
                        .cloned()
                        .ok_or_else(|| {
                            format!("docs/conformance.md line {}: no `{name}` column", n + 1)
                        })
                };
                let status = column("status")?;
                if !matches!(status.as_str(), "met" | "partly met" | "not met") {
                    return Err(format!(
                        "docs/conformance.md line {}: status `{status}` is not met, partly met or not met",
                        n + 1
                    ));
                }
                let requirement =
                    column("requirement").or_else(|_| column("standard (paraphrase)"))?;
                out.push(Row {
                    id: cells[0].clone(),
                    standard: standard.clone(),
                    requirement,
                    tests: test_names(&column("test")?),
                    status,
                });
            }
        }
    }
    Ok(out)
}

/// The cells of a table line; `\|` inside a cell is a literal bar.
fn cells(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|').trim_end_matches('|');
    let mut out = vec![String::new()];
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                if let (Some(bar), Some(last)) = (chars.next(), out.last_mut()) {
                    last.push(bar);
                }
            }
            '|' => out.push(String::new()),
            _ => {
                if let Some(last) = out.last_mut() {
                    last.push(c);
                }
            }
        }
    }
    out.into_iter().map(|c| c.trim().to_owned()).collect()
}

/// The test names of a test cell: the backquoted identifiers before each ` — ` path.
/// Paths, commands and quoted values in parentheses are not names.
pub fn test_names(cell: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut quoted: Option<String> = None;
    for c in cell.chars() {
        match (c, &mut quoted) {
            ('`', None) => quoted = Some(String::new()),
            ('`', Some(q)) => {
                if depth == 0
                    && !q.is_empty()
                    && q.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
                    && q.contains('_')
                {
                    out.push(q.clone());
                }
                quoted = None;
            }
            (ch, Some(q)) => q.push(ch),
            ('(', None) => depth += 1,
            (')', None) => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    out.dedup();
    out
}

/// What this run found for one row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Checked here, and it held; what was checked.
    Pass(String),
    /// Checked here, and it did not hold; what failed.
    Fail(String),
    /// Has a check here that could not run on this machine, and why.
    NotRun(String),
    /// Its evidence is tests that only `cargo test` runs.
    ByCargoTest,
    /// The doc says not met: nothing to run.
    NotMet,
}

/// A check of one row against the live board and the vectors.
type Check = fn(&Live) -> Result<String, String>;

/// The rows this command checks itself, by id. Go's row has its own runner (it may not
/// run at all).
const CHECKS: &[(&str, Check)] = &[
    ("RFC9162-2.1.3.2", check_inclusion),
    ("RFC9162-2.1.4.2", check_consistency),
    ("SN-3", check_note_key_id),
    ("SN-6", check_note_tamper),
    ("CP-1", check_checkpoint_format),
    ("CP-4", check_checkpoint_key_name),
    ("TT-2", check_checkpoint_http),
    ("TT-3", check_tile_paths),
    ("TT-4", check_tiles),
    ("TT-5", check_bundles),
    ("TT-6", check_tile_caching),
    ("TT-7", check_bundle_gzip),
    ("R255-4.3.1", check_invalid_points),
    ("R255-4.3.2", check_small_multiples),
    ("R255-4.3.4", check_hash_to_group),
    ("R255-4.4", check_scalars),
    ("ED-5.1.7-S", check_non_canonical_s),
];

/// The row of the Go interop test.
pub const GO_ROW: &str = "TT-8";

/// The ids of the rows this command runs a check for.
pub fn checked_ids() -> Vec<&'static str> {
    CHECKS
        .iter()
        .map(|(id, _)| *id)
        .chain(std::iter::once(GO_ROW))
        .collect()
}

/// A board on loopback, in this process, with a few hundred records: two full tiles,
/// a partial one, and a level-1 tile, so every tile shape is served.
pub struct Live {
    /// Its URL (`http://127.0.0.1:<port>`).
    pub url: String,
    /// Its verifier key.
    pub vkey: String,
    /// The latest checkpoint's size, and a smaller one for consistency.
    pub size: u64,
    /// The size of an earlier checkpoint.
    pub older: u64,
    board: Arc<Board>,
    agent: ureq::Agent,
    runtime: tokio::runtime::Runtime,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    dir: PathBuf,
}

/// Records on the live board: 2 full tiles, then a partial one of 44.
pub const LIVE_RECORDS: u64 = 2 * TILE_WIDTH + 44;
/// The earlier checkpoint's size.
const OLDER: u64 = 300;

impl Live {
    /// Starts it in a fresh directory under `parent`.
    pub fn start(parent: &Path) -> Result<Self, String> {
        let dir = parent.join(format!("urne-conformance-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .map_err(|e| format!("listen on loopback: {e}"))?;
        let bound: SocketAddr = listener.local_addr().map_err(|e| e.to_string())?;
        // The origin `urne serve` would take on this address (spec/10 §10.2).
        let origin = urne_server::board_origin(None, None, None, bound)?;
        let authority = SigningKey::from_bytes(&[0xa7; 32]);
        let config = BoardConfig::new(
            origin,
            Zeroizing::new([0x5e; 32]),
            vec![authority.verifying_key().to_bytes()],
            vec![],
        );
        let (board, _) =
            Board::open(&dir, config, Registry::standard()).map_err(|e| e.to_string())?;
        let board = Arc::new(board);
        let server = ServerConfig {
            writes_per_second: 0,
            reads_per_second: 0,
            checkpoint_interval: Duration::from_millis(50),
            ..ServerConfig::default()
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        runtime.spawn(urne_server::serve(
            listener,
            AppState::new(Arc::clone(&board), server),
            async move {
                let _ = stopped.await;
            },
        ));
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(30)))
            .http_status_as_error(false)
            .build()
            .new_agent();
        let mut live = Self {
            url: format!("http://{bound}"),
            vkey: board.vkey(),
            size: 0,
            older: OLDER,
            board,
            agent,
            runtime,
            stop: Some(stop),
            dir,
        };
        live.post_records(0, OLDER, &authority)?;
        live.wait_for_checkpoint(OLDER)?;
        live.post_records(OLDER, LIVE_RECORDS, &authority)?;
        live.wait_for_checkpoint(LIVE_RECORDS)?;
        live.size = LIVE_RECORDS;
        Ok(live)
    }

    fn post_records(&self, from: u64, to: u64, authority: &SigningKey) -> Result<(), String> {
        for i in from..to {
            let body = ContextOpen {
                context_type: ContextType::ELECTION,
                nonce: [0; 16],
                name: format!("Conformance context {i}"),
                parameters: [0; 32],
            }
            .to_body()
            .map_err(|e| e.to_string())?;
            let id = ContextId::derive(authority.verifying_key().as_bytes(), &body);
            let record = Record::sign(id, CONTEXT_OPEN, &body, authority)
                .map_err(|e| e.to_string())?
                .into_bytes();
            let answer = self
                .agent
                .post(&format!("{}/v1/records", self.url))
                .header("content-type", "application/octet-stream")
                .send(&record[..])
                .map_err(|e| format!("POST record {i}: {e}"))?;
            if answer.status() != 201 {
                return Err(format!("POST record {i}: status {}", answer.status()));
            }
        }
        Ok(())
    }

    fn wait_for_checkpoint(&self, size: u64) -> Result<(), String> {
        for _ in 0..200 {
            if let Ok(checkpoint) = self.checkpoint()
                && checkpoint.size() == size
            {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!("no checkpoint of size {size} within 10 s"))
    }

    /// GET `path`: status, the headers asked for, the raw body (never decompressed).
    fn get(&self, path: &str, accept: Option<&str>) -> Result<Got, String> {
        let mut request = self.agent.get(&format!("{}/{path}", self.url));
        if let Some(encodings) = accept {
            request = request.header("accept-encoding", encodings);
        }
        let answer = request.call().map_err(|e| format!("GET /{path}: {e}"))?;
        let header = |name: &str| {
            answer
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned()
        };
        let got = Got {
            status: answer.status().as_u16(),
            content_type: header("content-type"),
            cache_control: header("cache-control"),
            content_encoding: header("content-encoding"),
            body: Vec::new(),
        };
        let mut body = Vec::new();
        answer
            .into_body()
            .into_reader()
            .read_to_end(&mut body)
            .map_err(|e| format!("GET /{path}: {e}"))?;
        Ok(Got { body, ..got })
    }

    fn ok(&self, path: &str) -> Result<Vec<u8>, String> {
        let got = self.get(path, None)?;
        if got.status != 200 {
            return Err(format!("GET /{path}: status {}", got.status));
        }
        Ok(got.body)
    }

    fn note(&self) -> Result<Note, String> {
        Note::parse(&self.ok("checkpoint")?).map_err(|e| format!("checkpoint note: {e}"))
    }

    fn verifier(&self) -> Result<NoteVerifier, String> {
        NoteVerifier::from_vkey(&self.vkey).map_err(|e| format!("board vkey: {e}"))
    }

    fn checkpoint(&self) -> Result<Checkpoint, String> {
        Checkpoint::open(&self.note()?, &self.verifier()?).map_err(|e| format!("checkpoint: {e}"))
    }

    /// The level-0 hashes of the whole log, read from its tiles.
    fn leaves(&self) -> Result<Vec<Hash>, String> {
        let mut out = Vec::new();
        let mut index = 0;
        while (out.len() as u64) < self.size {
            let width = (self.size - out.len() as u64).min(TILE_WIDTH);
            let path = TilePath::Hashes {
                level: 0,
                index,
                partial: (width < TILE_WIDTH).then_some(width as u8),
            };
            let bytes = self.ok(&path.to_path())?;
            if bytes.len() as u64 != width * 32 {
                return Err(format!("{}: {} bytes", path.to_path(), bytes.len()));
            }
            out.extend(bytes.chunks_exact(32).filter_map(Hash::from_slice));
            index += 1;
        }
        Ok(out)
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        // Give the server its graceful stop (a last checkpoint, the store closed).
        self.runtime.block_on(async {
            tokio::time::sleep(Duration::from_millis(100)).await;
        });
        self.board.store().close();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

struct Got {
    status: u16,
    content_type: String,
    cache_control: String,
    content_encoding: String,
    body: Vec<u8>,
}

fn hashes_of(value: &serde_json::Value, what: &str) -> Result<Vec<Hash>, String> {
    value
        .as_array()
        .ok_or_else(|| format!("{what} is not a list"))?
        .iter()
        .map(|h| {
            h.as_str()
                .and_then(Hash::from_hex)
                .ok_or_else(|| format!("{what}: {h} is not a hash"))
        })
        .collect()
}

fn json(bytes: &[u8], what: &str) -> Result<serde_json::Value, String> {
    serde_json::from_slice(bytes).map_err(|e| format!("{what}: {e}"))
}

fn check_inclusion(live: &Live) -> Result<String, String> {
    let checkpoint = live.checkpoint()?;
    let leaves = live.leaves()?;
    let picks = [0, 255, 256, live.size / 2, live.size - 1];
    for index in picks {
        let answer = json(
            &live.ok(&format!(
                "v1/proof/inclusion?index={index}&size={}",
                live.size
            ))?,
            "inclusion proof",
        )?;
        let mut path = hashes_of(&answer["proof"], "inclusion proof")?;
        let leaf = &leaves[index as usize];
        verify_inclusion(leaf, index, live.size, &path, checkpoint.root())
            .map_err(|e| format!("inclusion of {index}: {e}"))?;
        if let Some(first) = path.first_mut() {
            first.0[0] ^= 1;
            if verify_inclusion(leaf, index, live.size, &path, checkpoint.root()).is_ok() {
                return Err(format!("an altered inclusion path of {index} verified"));
            }
        }
    }
    Ok(format!(
        "{} inclusion proofs from the live board verify against its checkpoint; altered ones fail",
        picks.len()
    ))
}

fn check_consistency(live: &Live) -> Result<String, String> {
    let checkpoint = live.checkpoint()?;
    let leaves = live.leaves()?;
    let old_root = urne_log::hash::root_of(&leaves[..live.older as usize]);
    let answer = json(
        &live.ok(&format!(
            "v1/proof/consistency?first={}&second={}",
            live.older, live.size
        ))?,
        "consistency proof",
    )?;
    let mut path = hashes_of(&answer["proof"], "consistency proof")?;
    verify_consistency(live.older, live.size, &old_root, checkpoint.root(), &path)
        .map_err(|e| format!("consistency {} → {}: {e}", live.older, live.size))?;
    if let Some(last) = path.last_mut() {
        last.0[31] ^= 1;
    }
    if verify_consistency(live.older, live.size, &old_root, checkpoint.root(), &path).is_ok() {
        return Err("an altered consistency proof verified".into());
    }
    Ok(format!(
        "consistency {} → {} verifies against roots from the tiles; an altered proof fails",
        live.older, live.size
    ))
}

fn check_note_key_id(live: &Live) -> Result<String, String> {
    // Recomputed here from the vkey's bytes, with SHA-256 alone, not urne-log's code.
    let mut parts = live.vkey.splitn(3, '+');
    let (Some(name), Some(id_hex), Some(key_b64)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(format!("vkey {} is not name+id+key", live.vkey));
    };
    use base64::Engine;
    let key = base64::engine::general_purpose::STANDARD
        .decode(key_b64)
        .map_err(|e| format!("vkey key: {e}"))?;
    if key.len() != 33 || key[0] != 0x01 {
        return Err("vkey key is not type 0x01 and 32 bytes".into());
    }
    let digest = Sha256::new()
        .chain_update(name.as_bytes())
        .chain_update([0x0a])
        .chain_update(&key)
        .finalize();
    let id = hex::encode(&digest[..4]);
    if id != id_hex {
        return Err(format!("vkey key ID {id_hex}, SHA-256 gives {id}"));
    }
    let note = live.note()?;
    let signature = note
        .signatures()
        .iter()
        .find(|s| s.name == name)
        .ok_or("the checkpoint carries no signature by the board's name")?;
    if format!("{:08x}", signature.key_id) != id || signature.signature.len() != 64 {
        return Err("the checkpoint's signature is not the key ID and 64 bytes".into());
    }
    let key: [u8; 32] = key[1..]
        .try_into()
        .map_err(|_| "vkey key is not 32 bytes")?;
    let signature = ed25519_dalek::Signature::from_slice(&signature.signature)
        .map_err(|e| format!("signature: {e}"))?;
    ed25519_dalek::VerifyingKey::from_bytes(&key)
        .and_then(|k| k.verify_strict(note.text().as_bytes(), &signature))
        .map_err(|e| format!("the signature over the note text: {e}"))?;
    Ok(
        "key ID = SHA-256(name ‖ 0x0A ‖ 0x01 ‖ key)[:4]; the signature is Ed25519 over the text"
            .into(),
    )
}

fn check_note_tamper(live: &Live) -> Result<String, String> {
    let verifier = live.verifier()?;
    let note = live.note()?;
    verifier
        .verify(&note)
        .map_err(|e| format!("the checkpoint note: {e}"))?;
    let text = note.to_text();
    let altered = text.replacen(
        &format!("\n{}\n", live.size),
        &format!("\n{}\n", live.size + 1),
        1,
    );
    let refused = Note::parse(altered.as_bytes())
        .map_err(|e| e.to_string())
        .and_then(|n| verifier.verify(&n).map_err(|e| e.to_string()));
    if refused.is_ok() {
        return Err("a note with an altered size verified".into());
    }
    let unsigned = text
        .split_once("\n\n")
        .map(|(body, _)| format!("{body}\n\n— {} AAAAAAAA\n", verifier.name()))
        .unwrap_or_default();
    if Note::parse(unsigned.as_bytes())
        .ok()
        .is_some_and(|n| verifier.verify(&n).is_ok())
    {
        return Err("a note without a valid known signature verified".into());
    }
    Ok("the live note verifies; altered text or signature is refused".into())
}

fn check_checkpoint_format(live: &Live) -> Result<String, String> {
    let note = live.note()?;
    let checkpoint = Checkpoint::parse(note.text()).map_err(|e| e.to_string())?;
    if checkpoint.to_text() != note.text() {
        return Err("the checkpoint does not round-trip byte for byte".into());
    }
    let lines: Vec<&str> = note.text().lines().collect();
    if lines.len() < 3 || lines[1] != live.size.to_string() {
        return Err(format!("checkpoint text {:?}", note.text()));
    }
    for bad in [
        note.text().replacen(
            &format!("\n{}\n", live.size),
            &format!("\n0{}\n", live.size),
            1,
        ),
        note.text().trim_end().to_owned(),
        format!("{}\n\n", note.text().trim_end()),
    ] {
        if Checkpoint::parse(&bad).is_ok() {
            return Err(format!("a malformed checkpoint parsed: {bad:?}"));
        }
    }
    Ok(
        "origin, size, base64 root; strict (leading zero, no final newline, empty line refused)"
            .into(),
    )
}

fn check_checkpoint_key_name(live: &Live) -> Result<String, String> {
    let note = live.note()?;
    let other =
        NoteSigner::from_seed("another.example/log", &[3; 32]).map_err(|e| e.to_string())?;
    if Checkpoint::open(&note, &other.verifier()).is_ok() {
        return Err("the checkpoint opened under another log's key".into());
    }
    let checkpoint = live.checkpoint()?;
    if checkpoint.origin() != live.verifier()?.name() {
        return Err("the origin is not the key name".into());
    }
    Ok(format!(
        "origin {} is the board key's name; another key is refused",
        checkpoint.origin()
    ))
}

fn check_checkpoint_http(live: &Live) -> Result<String, String> {
    let got = live.get("checkpoint", None)?;
    if got.content_type != "text/plain; charset=utf-8" {
        return Err(format!("Content-Type {}", got.content_type));
    }
    if got.cache_control != "no-cache, max-age=1" {
        return Err(format!("Cache-Control {}", got.cache_control));
    }
    live.checkpoint()?;
    Ok("text/plain; charset=utf-8, no-cache, max-age=1, Ed25519-signed by the log".into())
}

fn check_tile_paths(_: &Live) -> Result<String, String> {
    if index_path(1_234_067) != "x001/x234/067" {
        return Err(format!("index 1234067 → {}", index_path(1_234_067)));
    }
    for good in [
        "tile/0/x001/x234/067",
        "tile/63/000.p/255",
        "tile/entries/001.p/1",
    ] {
        match TilePath::parse(good) {
            Some(path) if path.to_path() == good => {}
            _ => return Err(format!("{good} does not parse and round-trip")),
        }
    }
    for bad in [
        "tile/64/000",
        "tile/00/000",
        "tile/0/1",
        "tile/0/000.p/256",
        "tile/0/000.p/0",
        "tile/0/001/002",
    ] {
        if TilePath::parse(bad).is_some() {
            return Err(format!("{bad} parsed"));
        }
    }
    Ok("tlog-tiles' own example path; levels, widths and indexes parsed strictly".into())
}

fn check_tiles(live: &Live) -> Result<String, String> {
    let checkpoint = live.checkpoint()?;
    let leaves = live.leaves()?;
    let root = urne_log::hash::root_of(&leaves);
    if root != *checkpoint.root() {
        return Err("the root of the level-0 tiles is not the checkpoint's".into());
    }
    let level1 = live.ok("tile/1/000.p/2")?;
    let expected: Vec<u8> = leaves
        .chunks_exact(TILE_WIDTH as usize)
        .flat_map(|tile| urne_log::hash::root_of(tile).0)
        .collect();
    if level1 != expected {
        return Err("the level-1 tile is not the roots of the full level-0 tiles".into());
    }
    for absent in [
        "tile/0/002.p/45",
        "tile/0/003",
        "tile/1/000",
        "tile/2/000.p/1",
    ] {
        if live.get(absent, None)?.status != 404 {
            return Err(format!("{absent} is served"));
        }
    }
    let mut altered = leaves.clone();
    altered[300].0[0] ^= 1;
    if urne_log::hash::root_of(&altered) == *checkpoint.root() {
        return Err("an altered leaf gave the same root".into());
    }
    Ok(format!(
        "the root of {} leaf hashes from the tiles is the checkpoint's; the level-1 tile, the partial tile; no empty or future tile",
        live.size
    ))
}

fn check_bundles(live: &Live) -> Result<String, String> {
    let leaves = live.leaves()?;
    let mut index = 0u64;
    while index < live.size {
        let width = (live.size - index).min(TILE_WIDTH);
        let path = TilePath::Entries {
            index: index / TILE_WIDTH,
            partial: (width < TILE_WIDTH).then_some(width as u8),
        }
        .to_path();
        let bundle = live.ok(&path)?;
        let mut rest = &bundle[..];
        for i in index..index + width {
            let (len, tail) = rest
                .split_first_chunk::<2>()
                .ok_or_else(|| format!("{path} ends before entry {i}"))?;
            let len = u16::from_be_bytes(*len) as usize;
            let entry = tail
                .get(..len)
                .ok_or_else(|| format!("{path}: entry {i} is cut"))?;
            if leaf_hash(entry) != leaves[i as usize] {
                return Err(format!(
                    "{path}: entry {i} does not hash to its tile's leaf"
                ));
            }
            rest = &tail[len..];
        }
        if !rest.is_empty() {
            return Err(format!("{path}: bytes after its {width} entries"));
        }
        index += width;
    }
    Ok(format!(
        "{} entries, u16-length-prefixed, hash to their level-0 tile leaves",
        live.size
    ))
}

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

fn check_tile_caching(live: &Live) -> Result<String, String> {
    let paths = [
        "tile/0/000",
        "tile/0/002.p/44",
        "tile/1/000.p/2",
        "tile/entries/000",
        "tile/entries/002.p/44",
    ];
    for path in paths {
        let got = live.get(path, None)?;
        if got.status != 200
            || got.content_type != "application/octet-stream"
            || got.cache_control != IMMUTABLE
        {
            return Err(format!(
                "{path}: {} {} {}",
                got.status, got.content_type, got.cache_control
            ));
        }
    }
    Ok("full and partial tiles and bundles: application/octet-stream, immutable".into())
}

fn check_bundle_gzip(live: &Live) -> Result<String, String> {
    let plain = live.get("tile/entries/000", None)?;
    let zipped = live.get("tile/entries/000", Some("gzip, identity"))?;
    if !plain.content_encoding.is_empty() || zipped.content_encoding != "gzip" {
        return Err(format!(
            "Content-Encoding {:?} plain, {:?} when gzip is accepted",
            plain.content_encoding, zipped.content_encoding
        ));
    }
    if zipped.body.len() >= plain.body.len() || !zipped.body.starts_with(&[0x1f, 0x8b]) {
        return Err("the gzipped bundle is not a smaller gzip stream".into());
    }
    Ok(format!(
        "a full bundle: {} bytes gzipped, {} plain (the unzipped bytes are checked by Go's client in {GO_ROW} and by cargo test)",
        zipped.body.len(),
        plain.body.len()
    ))
}

fn vectors() -> Result<serde_json::Value, String> {
    serde_json::from_str(ENCODINGS).map_err(|e| format!("vectors/encodings.json: {e}"))
}

fn hex_bytes(value: &serde_json::Value) -> Result<Vec<u8>, String> {
    value
        .as_str()
        .and_then(|s| hex::decode(s).ok())
        .ok_or_else(|| format!("{value} is not hex"))
}

fn check_invalid_points(_: &Live) -> Result<String, String> {
    let vectors = vectors()?;
    let invalid = vectors["invalid_points"]
        .as_array()
        .ok_or("no invalid_points")?;
    for case in invalid {
        let bytes = hex_bytes(&case["encoding"])?;
        if urne_crypto::Point::decode(&bytes).is_ok() {
            return Err(format!(
                "accepted: {} ({})",
                case["encoding"], case["reason"]
            ));
        }
    }
    Ok(format!(
        "{} invalid encodings (RFC 9496 A.2 and more) all refused",
        invalid.len()
    ))
}

fn check_small_multiples(_: &Live) -> Result<String, String> {
    let vectors = vectors()?;
    let multiples = vectors["small_multiples"]
        .as_array()
        .ok_or("no small_multiples")?;
    let g = urne_crypto::group::basepoint();
    let mut expected = urne_crypto::Point::identity();
    for (k, encoding) in multiples.iter().enumerate() {
        let bytes = hex_bytes(encoding)?;
        let point = urne_crypto::Point::decode(&bytes).map_err(|e| format!("{k}·G: {e}"))?;
        if point.to_bytes() != expected.to_bytes() || point.to_bytes()[..] != bytes[..] {
            return Err(format!("{k}·G does not encode as RFC 9496 A.1 says"));
        }
        expected = expected + g;
    }
    Ok(format!(
        "0·G … {}·G encode and decode as RFC 9496 A.1",
        multiples.len() - 1
    ))
}

fn check_hash_to_group(_: &Live) -> Result<String, String> {
    let vectors = vectors()?;
    let cases = vectors["hash_to_group"]
        .as_array()
        .ok_or("no hash_to_group")?;
    for case in cases {
        let input = hex_bytes(&case["input"])?;
        let output = hex_bytes(&case["output"])?;
        if urne_crypto::group::hash_to_group(&input).to_bytes()[..] != output[..] {
            return Err(format!("hash_to_group({}) differs", case["input"]));
        }
    }
    Ok(format!(
        "{} element derivations of RFC 9496 A.3",
        cases.len()
    ))
}

fn check_scalars(_: &Live) -> Result<String, String> {
    let vectors = vectors()?;
    let invalid = vectors["invalid_scalars"]
        .as_array()
        .ok_or("no invalid_scalars")?;
    for case in invalid {
        if urne_crypto::Scalar::decode(&hex_bytes(&case["encoding"])?).is_ok() {
            return Err(format!("scalar accepted: {}", case["reason"]));
        }
    }
    let valid = vectors["valid_scalars"]
        .as_array()
        .ok_or("no valid_scalars")?;
    for case in valid {
        urne_crypto::Scalar::decode(&hex_bytes(case)?).map_err(|e| e.to_string())?;
    }
    Ok(format!(
        "{} scalars ≥ ℓ refused, {} canonical ones accepted",
        invalid.len(),
        valid.len()
    ))
}

/// ℓ, the order of the group, little-endian.
const ELL: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

fn check_non_canonical_s(live: &Live) -> Result<String, String> {
    let verifier = live.verifier()?;
    let note = live.note()?;
    let text = note.to_text();
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("— {} ", verifier.name())))
        .ok_or("no board signature line")?;
    use base64::Engine;
    let engine = base64::engine::general_purpose::STANDARD;
    let b64 = line.rsplit(' ').next().unwrap_or_default();
    let mut signature = engine.decode(b64).map_err(|e| e.to_string())?;
    // S is the last 32 bytes (after the key ID and R): S + ℓ, the same S mod ℓ.
    let s = signature
        .get_mut(36..68)
        .ok_or("the signature is not key ID ‖ R ‖ S")?;
    let mut carry = 0u16;
    for (byte, l) in s.iter_mut().zip(ELL) {
        let sum = u16::from(*byte) + u16::from(l) + carry;
        *byte = (sum & 0xff) as u8;
        carry = sum >> 8;
    }
    if carry != 0 {
        return Err("S + ℓ overflows 256 bits".into());
    }
    let forged = text.replace(b64, &engine.encode(&signature));
    let refused = Note::parse(forged.as_bytes())
        .map_err(|e| e.to_string())
        .and_then(|n| verifier.verify(&n).map_err(|e| e.to_string()));
    if refused.is_ok() {
        return Err("the checkpoint with S + ℓ verified".into());
    }
    Ok("the live checkpoint's signature with S + ℓ is refused".into())
}

/// What the Go interop program said, or why it did not run.
pub fn go_interop(live: &Live) -> Outcome {
    let gopath = std::env::var_os("URNE_GOPATH")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEBIAN_GOPATH));
    let go = Command::new("go").arg("version").output();
    if !go.as_ref().is_ok_and(|o| o.status.success()) {
        return Outcome::NotRun(
            "no `go` on PATH (Debian: apt-get install golang-go golang-golang-x-mod-dev)".into(),
        );
    }
    if !gopath.join("src/golang.org/x/mod/sumdb/tlog").is_dir() {
        return Outcome::NotRun(format!(
            "golang.org/x/mod is not in {} (Debian: apt-get install golang-golang-x-mod-dev; or set URNE_GOPATH)",
            gopath.display()
        ));
    }
    let work = live.dir.join("interop-go");
    let program = work.join("main.go");
    if let Err(e) =
        std::fs::create_dir_all(&work).and_then(|()| std::fs::write(&program, GO_INTEROP))
    {
        return Outcome::Fail(format!("{}: {e}", program.display()));
    }
    // GOPATH mode, offline: the Debian package is the module's source, nothing is fetched.
    let cache = std::env::var_os("GOCACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("urne-go-cache"));
    let run = Command::new("go")
        .arg("run")
        .arg(&program)
        .arg(&live.url)
        .arg(&live.vkey)
        .arg(live.older.to_string())
        .current_dir(&work)
        .env("GO111MODULE", "off")
        .env("GOPATH", &gopath)
        .env("GOCACHE", cache)
        .env("GOFLAGS", "")
        .env("GOPROXY", "off")
        .output();
    match run {
        Err(e) => Outcome::Fail(format!("go run: {e}")),
        Ok(out) => {
            let stdout = String::from_utf8_lossy(&out.stdout).trim().to_owned();
            let stderr = String::from_utf8_lossy(&out.stderr).trim().to_owned();
            if out.status.success() && stdout.lines().filter(|l| l.starts_with("ok: ")).count() == 5
            {
                Outcome::Pass(format!(
                    "Go's sumdb note and tlog: {}",
                    stdout.lines().collect::<Vec<_>>().join("; ")
                ))
            } else {
                Outcome::Fail(format!("go run exited {}: {stdout} {stderr}", out.status))
            }
        }
    }
}

/// Every row with this run's outcome.
pub struct Report {
    /// In the doc's order.
    pub rows: Vec<(Row, Outcome)>,
}

impl Report {
    /// Whether any check failed.
    pub fn failed(&self) -> bool {
        self.rows.iter().any(|(_, o)| matches!(o, Outcome::Fail(_)))
    }

    /// The table: one line per row of docs/conformance.md.
    pub fn table(&self) -> String {
        let mut out = String::from(
            "| # | standard | docs/conformance.md | this run | detail |\n| --- | --- | --- | --- | --- |\n",
        );
        for (row, outcome) in &self.rows {
            let (verdict, detail) = match outcome {
                Outcome::Pass(what) => ("pass", what.clone()),
                Outcome::Fail(what) => ("FAIL", what.clone()),
                Outcome::NotRun(why) => ("not run", why.clone()),
                Outcome::ByCargoTest => (
                    "run by `cargo test`",
                    row.tests
                        .iter()
                        .map(|t| format!("`{t}`"))
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                Outcome::NotMet => ("not met", "no test: nothing to run".into()),
            };
            let standard = row.standard.split([',', ':']).next().unwrap_or("").trim();
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} |\n",
                row.id,
                standard,
                row.status,
                verdict,
                detail.replace('|', "\\|")
            ));
        }
        let count = |f: fn(&Outcome) -> bool| self.rows.iter().filter(|(_, o)| f(o)).count();
        out.push_str(&format!(
            "\n{} rows: {} pass, {} fail, {} not run, {} run by `cargo test`, {} not met\n",
            self.rows.len(),
            count(|o| matches!(o, Outcome::Pass(_))),
            count(|o| matches!(o, Outcome::Fail(_))),
            count(|o| matches!(o, Outcome::NotRun(_))),
            count(|o| matches!(o, Outcome::ByCargoTest)),
            count(|o| matches!(o, Outcome::NotMet)),
        ));
        out
    }
}

/// `urne conformance`'s options.
#[derive(clap::Args)]
pub struct ConformanceArgs {
    /// Skip the Go interop row (it then prints as not run).
    #[arg(long)]
    pub no_go: bool,
    /// Where the live board keeps its data while it runs (default: the system's
    /// temporary directory); removed afterwards.
    #[arg(long)]
    pub scratch: Option<PathBuf>,
}

/// Runs the command: the report, whose table the binary prints.
pub fn command(args: &ConformanceArgs) -> Result<Report, String> {
    let scratch = args.scratch.clone().unwrap_or_else(std::env::temp_dir);
    run(&scratch, !args.no_go)
}

/// Runs every check of this module (Go's if `go` is wanted) on a live board in a fresh
/// directory under `scratch`, and gives each row of the doc its outcome.
pub fn run(scratch: &Path, with_go: bool) -> Result<Report, String> {
    let rows = rows(DOC)?;
    let live = Live::start(scratch)?;
    let mut out = Vec::new();
    for row in rows {
        let outcome = if let Some((_, check)) = CHECKS.iter().find(|(id, _)| *id == row.id) {
            match check(&live) {
                Ok(what) => Outcome::Pass(what),
                Err(what) => Outcome::Fail(what),
            }
        } else if row.id == GO_ROW {
            if with_go {
                go_interop(&live)
            } else {
                Outcome::NotRun("--no-go".into())
            }
        } else if row.status == "not met" {
            Outcome::NotMet
        } else {
            Outcome::ByCargoTest
        };
        out.push((row, outcome));
    }
    Ok(Report { rows: out })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn every_check_names_one_row_of_the_doc() {
        let rows = rows(DOC).unwrap();
        let mut ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        let count = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), count, "row ids of docs/conformance.md repeat");
        for id in checked_ids() {
            let row = rows.iter().find(|r| r.id == id);
            let row = row.unwrap_or_else(|| panic!("{id} is checked but is no row of the doc"));
            assert_ne!(
                row.status, "not met",
                "{id} is checked but the doc says not met"
            );
            assert!(
                row.tests
                    .iter()
                    .any(|t| t.starts_with("urne conformance") || !t.is_empty()),
                "{id} names no test"
            );
        }
        let mut checked = checked_ids();
        checked.sort_unstable();
        let before = checked.len();
        checked.dedup();
        assert_eq!(checked.len(), before, "a row is checked twice");
    }

    #[test]
    fn the_docs_summary_counts_its_rows() {
        let rows = rows(DOC).unwrap();
        let summary: Vec<Vec<String>> = DOC
            .split("## Summary")
            .nth(1)
            .and_then(|rest| rest.split("\n## ").next())
            .unwrap()
            .lines()
            .filter(|l| {
                l.starts_with("| ") && !l.starts_with("| standard") && !l.starts_with("| ---")
            })
            .map(cells)
            .collect();
        let total = summary.last().unwrap();
        let number = |cell: &str| cell.trim_matches('*').parse::<usize>().unwrap();
        assert_eq!(number(&total[1]), rows.len(), "total rows");
        for (i, status) in ["met", "partly met", "not met"].iter().enumerate() {
            assert_eq!(
                number(&total[2 + i]),
                rows.iter().filter(|r| r.status == *status).count(),
                "total {status}"
            );
        }
        let sections: usize = summary[..summary.len() - 1]
            .iter()
            .map(|line| number(&line[1]))
            .sum();
        assert_eq!(
            sections,
            rows.len(),
            "the sections' rows add up to the total"
        );
    }

    #[test]
    fn a_malformed_row_or_status_is_refused_by_line() {
        let doc = "## X\n\n| # | requirement | test | status |\n| --- | --- | --- | --- |\n| A-1 | r | `a_test` | met |\n| A-2 | r | — | done |\n";
        let refused = rows(doc).unwrap_err();
        assert!(
            refused.contains("line 6") && refused.contains("done"),
            "{refused}"
        );
        let doc = "## X\n\n| # | requirement | test | status |\n| --- | --- | --- | --- |\n| A-1 | r | met |\n";
        assert!(
            rows(doc)
                .unwrap_err()
                .contains("3 cells under a header of 4")
        );
    }

    #[test]
    fn a_failed_check_fails_the_report_and_shows_in_the_table() {
        let row = |id: &str| Row {
            id: id.into(),
            standard: "X".into(),
            requirement: "r".into(),
            tests: vec!["a_test".into()],
            status: "met".into(),
        };
        let mut report = Report {
            rows: vec![
                (row("A-1"), Outcome::Pass("fine".into())),
                (row("A-2"), Outcome::ByCargoTest),
            ],
        };
        assert!(!report.failed());
        report
            .rows
            .push((row("A-3"), Outcome::Fail("tile altered".into())));
        assert!(report.failed());
        let table = report.table();
        assert!(
            table.contains("| A-3 | X | met | FAIL | tile altered |"),
            "{table}"
        );
        assert!(
            table.contains("| A-2 | X | met | run by `cargo test` | `a_test` |"),
            "{table}"
        );
        assert!(table.contains("3 rows: 1 pass, 1 fail"), "{table}");
    }

    #[test]
    fn test_names_skip_paths_commands_and_parenthesised_values() {
        assert_eq!(
            test_names(
                "`a_test`, `b_test` — `crates/x/tests/y.rs` (`u64::MAX` refused, `not_a_name` here); `c_test`"
            ),
            vec!["a_test", "b_test", "c_test"]
        );
    }
}
