//! The voting booth's and the public pages' files, and the JSON they read (spec/60,
//! spec/61): what the board holds, said for people — each context's phase and counts, an
//! election's sealed parameters (which the booth hashes itself), its result once
//! published, and where a ballot is by its tracking code.
//!
//! What it must never do: decide anything (every figure is the board's state or a record
//! as logged), serve a file from anywhere but this crate's `web/` folder and the booth's
//! WebAssembly bundle, or let a page load anything from another origin.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use serde::{Deserialize, Serialize};
use urne_ballot::{Manifest, TrackingCode, check_audit};
use urne_credential::registry::{ENTRY_BYTES, Snapshot, SnapshotPart, parts_for};
use urne_election::body::tracking_code_of_body;
use urne_election::{AuditRecord, ElectionState, kinds};
use urne_record::{ContextId, Record};

use crate::errors::{JsonPath, JsonQuery, error, json, store_error};
use crate::reads::IMMUTABLE;
use crate::state::{AppState, off_runtime};

/// The route templates of this module, for metrics and logs.
pub(crate) const ROUTES: [&str; 12] = [
    "/booth",
    "/booth/",
    "/booth/{file}",
    "/board",
    "/board/",
    "/v1/public/contexts",
    "/v1/public/elections/{id}",
    "/v1/public/elections/{id}/snapshot",
    "/v1/public/elections/{id}/credentials/{key}",
    "/v1/public/petitions/{id}",
    "/v1/public/sittings/{id}",
    "/v1/public/lookup",
];

/// Routes whose work grows with the board (a walk over contexts or new entries).
pub(crate) const HEAVY: [&str; 3] = [
    "/v1/public/contexts",
    "/v1/public/lookup",
    "/v1/public/elections/{id}/snapshot",
];

/// The routes, to merge into the service's router.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/booth", get(|| async { Redirect::permanent("/booth/") }))
        .route("/booth/", get(|| async { page(BOOTH_HTML) }))
        .route("/booth/{file}", get(booth_file))
        .route("/board", get(|| async { Redirect::permanent("/board/") }))
        .route("/board/", get(|| async { page(BOARD_HTML) }))
        .route("/v1/public/contexts", get(contexts))
        .route("/v1/public/elections/{id}", get(election))
        .route("/v1/public/elections/{id}/snapshot", get(election_snapshot))
        .route(
            "/v1/public/elections/{id}/credentials/{key}",
            get(credential),
        )
        .route("/v1/public/petitions/{id}", get(petition))
        .route("/v1/public/sittings/{id}", get(sitting))
        .route("/v1/public/lookup", get(lookup))
}

// ---- static files ----

const BOOTH_HTML: &str = include_str!("../web/booth.html");
const BOARD_HTML: &str = include_str!("../web/board.html");
const BOOTH_JS: &str = include_str!("../web/booth.js");
const BOARD_JS: &str = include_str!("../web/board.js");
const COMMON_JS: &str = include_str!("../web/common.js");
const STYLE_CSS: &str = include_str!("../web/urne.css");

/// Same origin only; WebAssembly compiled from bytes the page fetched from here; no
/// inline script or style, no frame, no form to elsewhere.
const POLICY: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

fn file(content_type: &'static str, body: impl IntoResponse) -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_SECURITY_POLICY, POLICY),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

fn page(html: &'static str) -> Response {
    file("text/html; charset=utf-8", html)
}

async fn booth_file(JsonPath(name): JsonPath<String>) -> Response {
    let text = |body: &'static str, kind| file(kind, body);
    match name.as_str() {
        "index.html" => page(BOOTH_HTML),
        "booth.js" => text(BOOTH_JS, "text/javascript; charset=utf-8"),
        "board.js" => text(BOARD_JS, "text/javascript; charset=utf-8"),
        "common.js" => text(COMMON_JS, "text/javascript; charset=utf-8"),
        "urne.css" => text(STYLE_CSS, "text/css; charset=utf-8"),
        "urne_booth.wasm" => wasm().await,
        _ => error(
            StatusCode::NOT_FOUND,
            "not-found",
            "no such booth file",
            Some("path"),
        ),
    }
}

/// Where the booth's WebAssembly bundle is (spec/60 §60.2).
fn wasm_path() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("URNE_BOOTH_WASM") {
        return Some(PathBuf::from(path));
    }
    let exe = std::env::current_exe().ok()?;
    Some(
        exe.parent()?
            .parent()?
            .join("booth")
            .join("urne_booth.wasm"),
    )
}

async fn wasm() -> Response {
    let read = off_runtime(|| wasm_path().map(|p| (std::fs::read(&p), p))).await;
    match read {
        Ok(Some((Ok(bytes), _))) => file("application/wasm", bytes),
        Ok(found) => {
            // Where the server looked is the operator's to read, in its log: a visitor
            // learns nothing of the machine's file system.
            if let Some((_, path)) = found {
                tracing::warn!(path = %path.display(), "the booth's WebAssembly bundle is not installed");
            }
            error(
                StatusCode::NOT_FOUND,
                "not-found",
                "the booth's WebAssembly bundle is not installed: build it with \
                 crates/urne-booth/build.sh, or set URNE_BOOTH_WASM to its path",
                Some("path"),
            )
        }
        Err(response) => response,
    }
}

// ---- contexts ----

fn context_id(text: &str) -> Result<ContextId, Response> {
    ContextId::from_hex(text).ok_or_else(|| {
        error(
            StatusCode::BAD_REQUEST,
            "malformed",
            "a context id is 64 lowercase hex digits",
            Some("id"),
        )
    })
}

fn no_context(kind: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "unknown-context",
        &format!("no {kind} with this id on the board"),
        Some("id"),
    )
}

#[derive(Serialize)]
struct ContextCounts {
    id: String,
    name: String,
    #[serde(rename = "type")]
    context_type: &'static str,
    phase: &'static str,
    opened_at: u64,
    records: u64,
    /// Ballots cast (revotes included) and audited, signatures counted and withdrawn, or
    /// divisions held: the type's own figures.
    counts: BTreeMap<&'static str, u64>,
}

fn counts_of(state: &AppState, id: &ContextId, context_type: &str) -> BTreeMap<&'static str, u64> {
    let board = &state.board;
    let found = match context_type {
        "election" => board.with_context_state(id, |s: &ElectionState| {
            let (cast, audited) = s.ballot_counts();
            BTreeMap::from([("ballots", cast), ("audits", audited)])
        }),
        "petition" => board.with_context_state(id, |s: &urne_petition::PetitionState| {
            BTreeMap::from([("signatures", s.counted()), ("withdrawn", s.withdrawn())])
        }),
        _ => {
            let chamber = chamber_of(board, id);
            board.with_context_state(id, |s: &urne_assembly::SittingState| {
                let votes = s.divisions().iter().map(|d| d.counted.len() as u64).sum();
                let present = chamber
                    .as_ref()
                    .and_then(|c| c.read(|c| s.quorum_now(c).0))
                    .unwrap_or(0);
                BTreeMap::from([
                    ("divisions", s.divisions().len() as u64),
                    ("votes", votes),
                    ("present", u64::from(present)),
                ])
            })
        }
    };
    found.unwrap_or_default()
}

async fn contexts(State(state): State<AppState>) -> Response {
    let reading = state.clone();
    let listed = off_runtime(move || {
        reading
            .board
            .contexts()
            .into_iter()
            .map(|c| ContextCounts {
                counts: counts_of(&reading, &c.id, c.context_type),
                id: c.id.to_hex(),
                name: c.name,
                context_type: c.context_type,
                phase: c.phase_name,
                opened_at: c.opened_at,
                records: c.records,
            })
            .collect::<Vec<_>>()
    })
    .await;
    match listed {
        Ok(list) => json(StatusCode::OK, &list),
        Err(response) => response,
    }
}

#[derive(Serialize)]
struct ContestBody {
    title: String,
    kind: &'static str,
    options: Vec<String>,
    blank: bool,
    min: u64,
    max: u64,
    per_option_max: u64,
    costs: Vec<u64>,
    min_spend: u64,
    budget: u64,
}

fn contests(manifest: &Manifest) -> Vec<ContestBody> {
    manifest
        .contests()
        .iter()
        .map(|c| {
            let rules = c.rules();
            let spending = c.spending();
            ContestBody {
                title: c.title.clone(),
                kind: match c.kind {
                    urne_ballot::ContestKind::SingleChoice => "single",
                    urne_ballot::ContestKind::Approval { .. } => "approval",
                    urne_ballot::ContestKind::Budget { .. } => "budget",
                    _ => "cumulative",
                },
                options: c.options.clone(),
                blank: c.blank,
                min: rules.min,
                max: rules.max,
                per_option_max: rules.per_option_max,
                costs: spending.map(|s| s.costs.to_vec()).unwrap_or_default(),
                min_spend: spending.map_or(0, |s| s.min),
                budget: spending.map_or(0, |s| s.max),
            }
        })
        .collect()
}

/// What the booth hashes into the context (spec/21 §21.3), as its `load` reads it.
#[derive(Serialize)]
struct Params {
    election: String,
    origin: String,
    manifest: String,
    joint_key: String,
    credential_root: String,
    /// An anonymous election's eligibility (spec/23 §23.2), hex; its snapshot is served
    /// apart (`…/snapshot`), since it grows with the register.
    #[serde(skip_serializing_if = "Option::is_none")]
    eligibility: Option<String>,
}

/// An anonymous election's registry snapshot (spec/61 §61.2).
#[derive(Serialize)]
struct AnonymityBody {
    registry: String,
    snapshot: u32,
    people: u64,
    buckets: u32,
    bucket_size: usize,
}

#[derive(Serialize)]
struct ResultBody {
    ballots: u64,
    superseded: u64,
    weight: u64,
    trustees: Vec<u16>,
    counts: Vec<Vec<u64>>,
    funded: Vec<FundedBody>,
}

/// The funded projects of a budget contest (spec/24 §24.5, spec/26).
#[derive(Serialize)]
struct FundedBody {
    contest: u16,
    projects: Vec<u32>,
    /// At most the budget, which is below 2^53: exact as a JSON number.
    money_used: u64,
}

#[derive(Serialize)]
struct ElectionBody {
    id: String,
    name: String,
    phase: &'static str,
    opened_at: u64,
    title: Option<String>,
    contests: Vec<ContestBody>,
    params: Option<Params>,
    context_hash: Option<String>,
    /// Voters: the credential list's entries, or the snapshot's people.
    credentials: Option<usize>,
    /// An anonymous election's snapshot (null for a pseudonymous one, or before voting).
    anonymous: Option<AnonymityBody>,
    ballots: u64,
    audits: u64,
    result: Option<ResultBody>,
}

async fn election(State(state): State<AppState>, JsonPath(id): JsonPath<String>) -> Response {
    let id = match context_id(&id) {
        Ok(id) => id,
        Err(response) => return response,
    };
    let reading = state.clone();
    let found = off_runtime(move || {
        let summary = reading.board.context(&id)?;
        let origin = reading.board.origin().to_owned();
        reading.board.with_context_state(&id, |s: &ElectionState| {
            let sealed = s.sealed();
            let (ballots, audits) = s.ballot_counts();
            ElectionBody {
                id: id.to_hex(),
                name: summary.name.clone(),
                phase: summary.phase_name,
                opened_at: summary.opened_at,
                title: s.manifest().map(|m| m.title().to_owned()),
                contests: s.manifest().map(contests).unwrap_or_default(),
                params: sealed.map(|sealed| Params {
                    election: id.to_hex(),
                    origin: origin.clone(),
                    manifest: hex::encode(sealed.election().manifest().to_bytes()),
                    joint_key: hex::encode(sealed.election().public_key().to_bytes()),
                    credential_root: hex::encode(sealed.credential_root()),
                    eligibility: s.eligibility().map(|e| hex::encode(e.to_bytes())),
                }),
                context_hash: sealed.map(|s| hex::encode(s.election().context().0)),
                credentials: sealed.map(|sealed| match sealed.anonymous() {
                    Some(a) => usize::try_from(a.snapshot().header().total).unwrap_or(usize::MAX),
                    None => sealed.credentials().entries().len(),
                }),
                anonymous: sealed.and_then(|s| s.anonymous()).map(|a| {
                    let header = a.snapshot().header();
                    AnonymityBody {
                        registry: hex::encode(header.registry),
                        snapshot: header.number,
                        people: header.total,
                        buckets: header.bucket_count(),
                        bucket_size: header.bucket_size(),
                    }
                }),
                ballots,
                audits,
                result: s.result().map(|r| ResultBody {
                    ballots: r.tally.ballots,
                    superseded: r.superseded,
                    weight: r.tally.weight,
                    trustees: r.trustees.clone(),
                    counts: r.counts.clone(),
                    funded: r
                        .fundings
                        .iter()
                        .map(|f| FundedBody {
                            contest: f.contest,
                            projects: f.selection.funded.clone(),
                            money_used: u64::try_from(f.selection.money_used).unwrap_or(u64::MAX),
                        })
                        .collect(),
                }),
            }
        })
    })
    .await;
    match found {
        Ok(Some(body)) => json(StatusCode::OK, &body),
        Ok(None) => no_context("election"),
        Err(response) => response,
    }
}

/// An anonymous election's snapshot answers (spec/61 §61.2), each encoded once and kept:
/// the snapshot is fixed once voting opens (an election takes one, never replaced), and
/// at a city's size its JSON is megabytes that every voter's booth fetches. What is kept
/// is bounded by `max_snapshot_cache_bytes`: the least recently asked answer goes first,
/// and is encoded again (the same bytes, so the same tag) when next asked. The phase does
/// not matter: an election nobody asks about any more is the first dropped, and one still
/// asked about after its close is not encoded again for each request.
pub(crate) struct SnapshotAnswers {
    cap: usize,
    kept: Mutex<Kept>,
    /// Encodings made (`urne_snapshot_encodings_total`).
    encodings: Counter,
    /// Bytes kept (`urne_snapshot_cache_bytes`).
    kept_bytes: Gauge,
}

/// An answer's key: the election and its snapshot's id, which fix the answer's bytes.
type SnapshotKey = (ContextId, [u8; 32]);

#[derive(Default)]
struct Kept {
    slots: HashMap<SnapshotKey, Slot>,
    /// What the encoded slots cost, together.
    bytes: usize,
    /// Ticks at each request: a slot's `used` orders it by its last request.
    clock: u64,
}

struct Slot {
    answer: Arc<SnapshotAnswer>,
    /// What the answer costs once encoded; None while its first request encodes it. Such
    /// a slot is never evicted: the requests waiting on it would each encode again.
    bytes: Option<usize>,
    used: u64,
}

/// One answer, encoded by the first request that needs it. Concurrent first requests
/// share this slot, and `OnceLock::get_or_init` runs one encoding while the others wait
/// for it: an answer is encoded once for as long as it is kept.
#[derive(Default)]
pub(crate) struct SnapshotAnswer {
    encoded: OnceLock<Encoded>,
}

#[derive(Clone)]
enum Encoded {
    Body(Bytes),
    /// Over the server's cap: its length, so the refusal says by how much.
    TooLarge(usize),
}

/// What a kept answer costs besides its body: the slot, its key, its share of the map.
const SLOT_BYTES: usize = 256;

impl Encoded {
    fn cost(&self) -> usize {
        match self {
            Encoded::Body(body) => SLOT_BYTES.saturating_add(body.len()),
            Encoded::TooLarge(_) => SLOT_BYTES,
        }
    }
}

impl SnapshotAnswers {
    /// Answers kept up to `cap` bytes; `encodings` counts the encodings made, `kept_bytes`
    /// shows the bytes kept.
    pub(crate) fn new(cap: usize, encodings: Counter, kept_bytes: Gauge) -> Self {
        Self {
            cap,
            kept: Mutex::default(),
            encodings,
            kept_bytes,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Kept> {
        self.kept
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The answer for `key`: the one kept, else `encode`'s, kept from now on (within the
    /// cap).
    fn serve(&self, key: SnapshotKey, encode: impl FnOnce() -> Encoded) -> Encoded {
        let answer = self.answer(key);
        let encoded = answer
            .encoded
            .get_or_init(|| {
                self.encodings.inc();
                encode()
            })
            .clone();
        self.settle(key, &answer, encoded.cost());
        encoded
    }

    /// The kept answer for `key`, or a new one to encode, kept from now on.
    fn answer(&self, key: SnapshotKey) -> Arc<SnapshotAnswer> {
        let mut kept = self.lock();
        kept.clock += 1;
        let used = kept.clock;
        let slot = kept.slots.entry(key).or_insert_with(|| Slot {
            answer: Arc::default(),
            bytes: None,
            used,
        });
        slot.used = used;
        Arc::clone(&slot.answer)
    }

    /// Books `cost` for `key`'s newly encoded answer (a no-op for one booked already, or
    /// dropped meanwhile), then drops the least recently asked answers until the kept ones
    /// fit the cap. An answer that alone passes the cap is served but not kept, and
    /// drops nothing.
    fn settle(&self, key: SnapshotKey, answer: &Arc<SnapshotAnswer>, cost: usize) {
        let mut kept = self.lock();
        let Kept { slots, bytes, .. } = &mut *kept;
        match slots.get_mut(&key) {
            Some(slot) if slot.bytes.is_none() && Arc::ptr_eq(&slot.answer, answer) => {
                if cost > self.cap {
                    slots.remove(&key);
                    return;
                }
                slot.bytes = Some(cost);
                *bytes = bytes.saturating_add(cost);
            }
            _ => return,
        }
        while *bytes > self.cap {
            let oldest = slots
                .iter()
                .filter(|(_, slot)| slot.bytes.is_some())
                .min_by_key(|(_, slot)| slot.used)
                .map(|(key, _)| *key);
            let Some(gone) = oldest.and_then(|key| slots.remove(&key)) else {
                break;
            };
            *bytes = bytes.saturating_sub(gone.bytes.unwrap_or(0));
        }
        self.kept_bytes
            .set(i64::try_from(*bytes).unwrap_or(i64::MAX));
    }
}

/// The snapshot answer's entity tag: its representation at this address is fixed by the
/// snapshot's id (spec/61 §61.2), versioned should the encoding ever change.
fn snapshot_etag(id: &[u8; 32]) -> String {
    format!("\"snapshot-v1-{}\"", hex::encode(id))
}

/// Whether an `If-None-Match` header names `etag` (or is `*`), weak tags included.
fn none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

/// An anonymous election's snapshot once voting opened: its signed header and every
/// part, hex, as the booth's `load` takes them (spec/60 §60.2, spec/61 §61.2). Encoded
/// once and kept while the election votes, served `immutable` with an entity tag (304 on
/// a matching `If-None-Match`), refused over `max_snapshot_bytes`.
async fn election_snapshot(
    State(state): State<AppState>,
    JsonPath(id): JsonPath<String>,
    headers: HeaderMap,
) -> Response {
    let id = match context_id(&id) {
        Ok(id) => id,
        Err(response) => return response,
    };
    let reading = state.clone();
    let found = off_runtime(move || {
        // Only the sealed parameters' Arc is taken under the board's state lock: the
        // snapshot is immutable once sealed, and encoding it (megabytes at a city's size)
        // must not hold up the applier.
        let sealed = reading
            .board
            .with_context_state(&id, |s: &ElectionState| s.sealed().cloned());
        sealed.map(|sealed| {
            sealed.map(|sealed| {
                sealed.anonymous().map(|a| {
                    // The tag is the snapshot's id: a client that holds it holds the
                    // answer, so it is told so before anything is encoded — unless the
                    // answer is over the cap, which is refused to every request.
                    let etag = snapshot_etag(a.id());
                    let cap = reading.config.max_snapshot_bytes;
                    if none_match(&headers, &etag) && snapshot_len(a.snapshot()) <= cap {
                        return (etag, None);
                    }
                    let encoded = reading
                        .snapshots
                        .serve((id, *a.id()), || encode_snapshot(a.snapshot(), cap));
                    (etag, Some(encoded))
                })
            })
        })
    })
    .await;
    match found {
        Ok(Some(Some(Some((etag, encoded))))) => {
            match encoded {
                None => (
                    StatusCode::NOT_MODIFIED,
                    [
                        (header::ETAG, etag),
                        (header::CACHE_CONTROL, IMMUTABLE.into()),
                    ],
                )
                    .into_response(),
                Some(Encoded::Body(body)) => (
                    StatusCode::OK,
                    [
                        (header::CONTENT_TYPE, "application/json".to_owned()),
                        (header::ETAG, etag),
                        (header::CACHE_CONTROL, IMMUTABLE.into()),
                    ],
                    body,
                )
                    .into_response(),
                // Not a bug (500 is kept for those) nor the request's fault (4xx): the
                // operator's cap keeps this answer off this board until it is raised, so
                // 503 with no Retry-After, as `storage` (spec/13 §13.3).
                Some(Encoded::TooLarge(len)) => error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "snapshot-too-large",
                    &format!(
                        "this election's snapshot encodes to {len} bytes, over this board's cap of {} bytes for one answer (max_snapshot_bytes): the booth cannot load it; voters vote with the urne command line, which reads the snapshot's records from the log",
                        state.config.max_snapshot_bytes
                    ),
                    Some("id"),
                ),
            }
        }
        Ok(Some(Some(None))) => error(
            StatusCode::NOT_FOUND,
            "not-found",
            "a pseudonymous election has no snapshot: its voters are a credential list",
            Some("id"),
        ),
        Ok(Some(None)) => error(
            StatusCode::CONFLICT,
            "wrong-phase",
            "the election's voters are not sealed: voting has not opened",
            Some("id"),
        ),
        Ok(None) => no_context("election"),
        Err(response) => response,
    }
}

/// The snapshot answer's JSON, or its length when it passes `cap`.
fn encode_snapshot(snapshot: &Snapshot, cap: usize) -> Encoded {
    encode_answer(
        &snapshot.signed().to_bytes(),
        snapshot.entries().len(),
        || snapshot.parts(),
        cap,
    )
}

/// The length of the snapshot answer of `snapshot`, from its records' lengths alone.
fn snapshot_len(snapshot: &Snapshot) -> usize {
    answer_len(snapshot.signed().to_bytes().len(), snapshot.entries().len())
}

/// `{"header": hex, "parts": [hex, …]}` of the header record `header` and the parts
/// `parts` makes of `entries` entries — or its length when it passes `cap`, counted from
/// the records' lengths before `parts` runs, so an oversized snapshot costs no copy.
fn encode_answer(
    header: &[u8],
    entries: usize,
    parts: impl FnOnce() -> Vec<SnapshotPart>,
    cap: usize,
) -> Encoded {
    let len = answer_len(header.len(), entries);
    if len > cap {
        return Encoded::TooLarge(len);
    }
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(b"{\"header\":\"");
    out.extend_from_slice(hex::encode(header).as_bytes());
    out.extend_from_slice(b"\",\"parts\":[");
    for (i, part) in parts().iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'"');
        out.extend_from_slice(hex::encode(part.to_bytes()).as_bytes());
        out.push(b'"');
    }
    out.extend_from_slice(b"]}");
    // The length counted is the length made (a test holds them equal); the cap is still
    // checked on what was made, should they ever part.
    if out.len() > cap {
        return Encoded::TooLarge(out.len());
    }
    Encoded::Body(Bytes::from(out))
}

/// The answer's length: `{"header":"…","parts":["…",…]}`, two hex digits a byte. The
/// parts are those the board took (spec/23 §23.12): `parts_for(entries)` of them, each a
/// part header and its entries.
fn answer_len(header: usize, entries: usize) -> usize {
    let part_header = SnapshotPart {
        snapshot: [0; 32],
        part: 0,
        parts: 1,
        entries: Vec::new(),
    }
    .to_bytes()
    .len();
    let parts = usize::try_from(parts_for(entries as u64)).unwrap_or(usize::MAX);
    let bytes = parts
        .checked_mul(part_header)
        .and_then(|h| entries.checked_mul(ENTRY_BYTES)?.checked_add(h))
        .and_then(|b| b.checked_add(header))
        .and_then(|b| b.checked_mul(2));
    // 24 for the braces, names and quotes; two quotes a part and a comma between two.
    bytes
        .and_then(|b| b.checked_add(24))
        .and_then(|b| b.checked_add(parts.checked_mul(3)?.saturating_sub(1)))
        .unwrap_or(usize::MAX)
}

async fn credential(
    State(state): State<AppState>,
    JsonPath((id, key)): JsonPath<(String, String)>,
) -> Response {
    let id = match context_id(&id) {
        Ok(id) => id,
        Err(response) => return response,
    };
    let Some(key) = urne_log::strict_hex::decode_array::<32>(&key)
        .and_then(|k| urne_credential::PublicCredential::decode(&k).ok())
    else {
        return error(
            StatusCode::BAD_REQUEST,
            "malformed",
            "a public credential is 64 lowercase hex digits encoding a point",
            Some("key"),
        );
    };
    let reading = state.clone();
    let found = off_runtime(move || {
        reading.board.with_context_state(&id, |s: &ElectionState| {
            s.sealed()
                .map(|sealed| sealed.credentials().weight_of(&key))
        })
    })
    .await;
    match found {
        Ok(Some(Some(weight))) => json(
            StatusCode::OK,
            &serde_json::json!({ "listed": weight.is_some(), "weight": weight }),
        ),
        Ok(Some(None)) => error(
            StatusCode::CONFLICT,
            "wrong-phase",
            "the election's credential list is not sealed: voting has not opened",
            Some("id"),
        ),
        Ok(None) => no_context("election"),
        Err(response) => response,
    }
}

#[derive(Serialize)]
struct PetitionBody {
    id: String,
    name: String,
    phase: &'static str,
    opened_at: u64,
    scope: Option<String>,
    threshold: Option<u64>,
    deadline: Option<u64>,
    text_hash: Option<String>,
    signatures: u64,
    withdrawn: u64,
    reached: Option<bool>,
}

async fn petition(State(state): State<AppState>, JsonPath(id): JsonPath<String>) -> Response {
    let id = match context_id(&id) {
        Ok(id) => id,
        Err(response) => return response,
    };
    let reading = state.clone();
    let found = off_runtime(move || {
        let summary = reading.board.context(&id)?;
        reading
            .board
            .with_context_state(&id, |s: &urne_petition::PetitionState| {
                let definition = s.definition();
                PetitionBody {
                    id: id.to_hex(),
                    name: summary.name.clone(),
                    phase: summary.phase_name,
                    opened_at: summary.opened_at,
                    scope: definition.map(|d| d.scope.clone()),
                    threshold: definition.map(|d| d.threshold),
                    deadline: definition.map(|d| d.deadline),
                    text_hash: definition.map(|d| hex::encode(d.text_hash)),
                    signatures: s.counted(),
                    withdrawn: s.withdrawn(),
                    reached: s.result().map(|r| r.reached),
                }
            })
    })
    .await;
    match found {
        Ok(Some(body)) => json(StatusCode::OK, &body),
        Ok(None) => no_context("petition"),
        Err(response) => response,
    }
}

#[derive(Serialize)]
struct DivisionBody {
    division: u32,
    text_hash: String,
    choices: Vec<String>,
    secret: bool,
    status: &'static str,
    present: u32,
    quorum: u32,
    votes: usize,
    /// Per choice, once the division is closed (a roll call is public; a secret
    /// division's count is its tally's, not shown here).
    counts: Option<Vec<u32>>,
}

#[derive(Serialize)]
struct SittingBody {
    id: String,
    name: String,
    phase: &'static str,
    opened_at: u64,
    members: usize,
    present: u32,
    quorum: u32,
    divisions: Vec<DivisionBody>,
}

/// The chamber a sitting names, as the board holds it (two reads, never nested: the
/// board's state lock is not taken twice).
fn chamber_of(
    board: &urne_board::Board,
    sitting: &urne_board::ContextId,
) -> Option<urne_board::assembly::ChamberHandle> {
    let chamber =
        board.with_context_state(sitting, |s: &urne_assembly::SittingState| s.chamber())?;
    board.with_context_state(&chamber, |h: &urne_board::assembly::ChamberHandle| {
        h.clone()
    })
}

async fn sitting(State(state): State<AppState>, JsonPath(id): JsonPath<String>) -> Response {
    use urne_assembly::DivisionStatus;
    let id = match context_id(&id) {
        Ok(id) => id,
        Err(response) => return response,
    };
    let reading = state.clone();
    let found = off_runtime(move || {
        let summary = reading.board.context(&id)?;
        let chamber = chamber_of(&reading.board, &id);
        reading
            .board
            .with_context_state(&id, |s: &urne_assembly::SittingState| {
                // A sitting reads the roster in force in its chamber (spec/40 §40.4).
                let (present, quorum, members) = chamber
                    .as_ref()
                    .and_then(|c| {
                        c.read(|c| {
                            let (present, quorum) = s.quorum_now(c);
                            (present, quorum, c.members().len())
                        })
                    })
                    .unwrap_or((0, 0, 0));
                SittingBody {
                    id: id.to_hex(),
                    name: summary.name.clone(),
                    phase: summary.phase_name,
                    opened_at: summary.opened_at,
                    members,
                    present,
                    quorum,
                    divisions: s
                        .divisions()
                        .iter()
                        .map(|d| {
                            let closed = d.status == DivisionStatus::Closed;
                            DivisionBody {
                                division: d.open.division,
                                text_hash: hex::encode(d.open.text_hash),
                                choices: d.open.choices.clone(),
                                secret: d.open.secret,
                                status: match d.status {
                                    DivisionStatus::Open => "open",
                                    DivisionStatus::Suspended => "suspended",
                                    DivisionStatus::Closed => "closed",
                                    _ => "voided",
                                },
                                present: d.present,
                                quorum: d.quorum,
                                votes: d.counted.len(),
                                counts: (closed && !d.open.secret).then(|| d.count().counts),
                            }
                        })
                        .collect(),
                }
            })
    })
    .await;
    match found {
        Ok(Some(body)) => json(StatusCode::OK, &body),
        Ok(None) => no_context("sitting"),
        Err(response) => response,
    }
}

// ---- ballot lookup ----

/// Every ballot record's tracking code, from a walk over the log that resumes where the
/// last lookup stopped: a lookup reads only the entries added since.
///
/// The walk reads the log in chunks with no lock on the index (only `walker`, so one
/// request walks at a time) and takes the index's lock for a moment per chunk: other
/// lookups are never held behind a walk over the whole log. A request walks at most
/// [`WALK_BUDGET`] entries; while the index is behind the log by more than that (the first
/// lookup after a start on a long log), lookups answer 503 `index-building`.
#[derive(Default)]
pub(crate) struct BallotIndex {
    walker: Mutex<()>,
    inner: Mutex<IndexInner>,
}

#[derive(Default)]
struct IndexInner {
    next: u64,
    by_code: BTreeMap<[u8; 32], Vec<u64>>,
}

/// Entries one lookup request reads before it answers.
const WALK_BUDGET: u64 = 1 << 16;
/// Entries read between two short holds of the index's lock.
const WALK_CHUNK: u64 = 1024;

fn index_building(next: u64, size: u64) -> Response {
    let mut response = error(
        StatusCode::SERVICE_UNAVAILABLE,
        "index-building",
        &format!(
            "the ballot lookup is still reading the log ({next} of {size} entries): try again in a moment"
        ),
        None,
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
    response
}

impl BallotIndex {
    fn next(&self) -> u64 {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).next
    }

    /// Entries of the durable log past the walk, read and indexed; then the indexes of
    /// the ballot records whose tracking code starts with `prefix`.
    fn find(&self, state: &AppState, prefix: &[u8]) -> Result<Vec<u64>, Response> {
        self.find_within(state, prefix, WALK_BUDGET, WALK_CHUNK)
    }

    fn find_within(
        &self,
        state: &AppState,
        prefix: &[u8],
        budget: u64,
        chunk: u64,
    ) -> Result<Vec<u64>, Response> {
        let size = state.board.store().size();
        let behind = size.saturating_sub(self.next());
        if behind > 0 {
            // A short tail is worth waiting for (the walker holds its lock for one budget
            // at most); a long one is answered 503 rather than queued behind the walk.
            let _walking = if behind > budget {
                match self.walker.try_lock() {
                    Ok(guard) => guard,
                    Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
                    Err(std::sync::TryLockError::WouldBlock) => {
                        return Err(index_building(self.next(), size));
                    }
                }
            } else {
                self.walker.lock().unwrap_or_else(|p| p.into_inner())
            };
            self.walk(state, size, budget, chunk)?;
            let next = self.next();
            if next < size {
                return Err(index_building(next, size));
            }
        }
        let mut start = [0u8; 32];
        start[..prefix.len()].copy_from_slice(prefix);
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        Ok(inner
            .by_code
            .range(start..)
            .take_while(|(code, _)| code.starts_with(prefix))
            .flat_map(|(_, at)| at.iter().copied())
            .collect())
    }

    /// Reads up to `budget` entries past the index, `chunk` at a time, each chunk read
    /// without the index's lock. The caller holds `walker`.
    fn walk(&self, state: &AppState, size: u64, budget: u64, chunk: u64) -> Result<(), Response> {
        let store = state.board.store();
        let mut from = self.next();
        let end = size.min(from.saturating_add(budget));
        while from < end {
            let to = end.min(from.saturating_add(chunk.max(1)));
            let mut found = Vec::new();
            for index in from..to {
                let bytes = store.entry(index).map_err(|e| store_error(&e))?;
                if let Ok(record) = Record::parse(bytes) {
                    let kind = record.kind();
                    if (kind == kinds::BALLOT_CAST || kind == kinds::BALLOT_AUDIT)
                        && let Ok(code) = tracking_code_of_body(kind, record.body())
                    {
                        found.push((code.0, index));
                    }
                }
            }
            let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
            for (code, index) in found {
                inner.by_code.entry(code).or_default().push(index);
            }
            inner.next = to;
            drop(inner);
            from = to;
        }
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LookupQuery {
    code: String,
}

#[derive(Serialize)]
struct Opened {
    title: String,
    /// (label, value) per option; the blank vote last, as `(blank vote)`.
    values: Vec<(String, u64)>,
}

#[derive(Serialize)]
struct Found {
    election: String,
    index: u64,
    hash: String,
    kind: &'static str,
    tracking_code: String,
    short: String,
    /// For an audited ballot: whether its opening re-encrypts to its ciphertexts
    /// (spec/21 §21.8), and the choices it shows.
    audit: Option<AuditBody>,
}

#[derive(Serialize)]
struct AuditBody {
    passed: bool,
    problem: Option<String>,
    contests: Vec<Opened>,
}

fn parse_code(text: &str) -> Result<Vec<u8>, Response> {
    let text = text.trim();
    if let Some(full) = urne_log::strict_hex::decode_array::<32>(text) {
        return Ok(full.to_vec());
    }
    TrackingCode::parse_short(text)
        .map(|short| short.to_vec())
        .map_err(|e| {
            error(
                StatusCode::BAD_REQUEST,
                "malformed",
                &format!("not a tracking code (its short form, or 64 lowercase hex digits): {e}"),
                Some("code"),
            )
        })
}

/// An audited ballot's opening checked against its election (spec/21 §21.8), and the
/// choices it shows.
fn opened_audit(election: &urne_ballot::Election, audit: &AuditRecord) -> AuditBody {
    let checked = check_audit(election, &audit.ballot, &audit.opening);
    let contests = election
        .manifest()
        .contests()
        .iter()
        .zip(audit.opening.selections())
        .map(|(contest, selection)| Opened {
            title: contest.title.clone(),
            values: contest
                .options
                .iter()
                .cloned()
                .zip(selection.option_values().iter().copied())
                .chain(
                    contest
                        .blank
                        .then(|| ("(blank vote)".to_owned(), u64::from(selection.is_blank()))),
                )
                .collect(),
        })
        .collect();
    AuditBody {
        passed: checked.is_ok(),
        problem: checked.err().map(|e| e.to_string()),
        contests,
    }
}

fn describe(state: &AppState, index: u64) -> Result<Option<Found>, Response> {
    let bytes = state
        .board
        .store()
        .entry(index)
        .map_err(|e| store_error(&e))?;
    let hash = urne_record::leaf_hash(&bytes);
    let Ok(record) = Record::parse(bytes) else {
        return Ok(None);
    };
    let Ok(code) = tracking_code_of_body(record.kind(), record.body()) else {
        return Ok(None);
    };
    let audit = if record.kind() == kinds::BALLOT_AUDIT {
        let decoded = AuditRecord::decode(record.body()).ok();
        // The sealed election is taken out of the state's lock: check_audit re-encrypts
        // every option, which must not hold up the board's acceptance.
        let sealed = state
            .board
            .with_context_state(&record.context(), |s: &ElectionState| s.sealed().cloned())
            .flatten();
        match (sealed, decoded) {
            (Some(sealed), Some(audit)) => Some(opened_audit(sealed.election(), &audit)),
            _ => None,
        }
    } else {
        None
    };
    Ok(Some(Found {
        election: record.context().to_hex(),
        index,
        hash: hex::encode(hash),
        kind: if record.kind() == kinds::BALLOT_AUDIT {
            "audit"
        } else {
            "cast"
        },
        tracking_code: code.to_hex(),
        short: code.short(),
        audit,
    }))
}

async fn lookup(
    State(state): State<AppState>,
    JsonQuery(query): JsonQuery<LookupQuery>,
) -> Response {
    let prefix = match parse_code(&query.code) {
        Ok(prefix) => prefix,
        Err(response) => return response,
    };
    let reading = state.clone();
    let found = off_runtime(move || -> Result<Vec<Found>, Response> {
        let mut at = reading.public.find(&reading, &prefix)?;
        at.sort_unstable();
        let mut found = Vec::with_capacity(at.len());
        for index in at {
            found.extend(describe(&reading, index)?);
        }
        Ok(found)
    })
    .await;
    match found {
        Ok(Ok(found)) => json(StatusCode::OK, &found),
        Ok(Err(response)) | Err(response) => response,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use std::sync::Arc;

    use ed25519_dalek::SigningKey;
    use urne_board::kinds::CONTEXT_OPEN;
    use urne_board::{Board, BoardConfig, ContextId, ContextOpen, ContextType, Record, Registry};
    use zeroize::Zeroizing;

    use super::*;
    use crate::ServerConfig;

    fn board_with_entries(name: &str, entries: u8) -> AppState {
        let dir = std::env::temp_dir().join(format!("urne-index-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let authority = SigningKey::from_bytes(&[1; 32]);
        let config = BoardConfig::new(
            "test.example/board",
            Zeroizing::new([7; 32]),
            vec![authority.verifying_key().to_bytes()],
            vec![],
        );
        let board = Arc::new(Board::open(&dir, config, Registry::standard()).unwrap().0);
        for n in 0..entries {
            let body = ContextOpen {
                context_type: ContextType::ELECTION,
                nonce: [n; 16],
                name: format!("election {n}"),
                parameters: [0; 32],
            }
            .to_body()
            .unwrap();
            let id = ContextId::derive(authority.verifying_key().as_bytes(), &body);
            let record = Record::sign(id, CONTEXT_OPEN, &body, &authority).unwrap();
            board.submit(record.into_bytes()).unwrap();
        }
        AppState::new(board, ServerConfig::default())
    }

    fn building(answer: Result<Vec<u64>, Response>) -> bool {
        match answer {
            Err(response) => {
                response.status() == StatusCode::SERVICE_UNAVAILABLE
                    && response.headers().contains_key(header::RETRY_AFTER)
            }
            Ok(_) => false,
        }
    }

    #[test]
    fn a_long_walk_answers_index_building_in_chunks_and_never_queues_behind_another() {
        let state = board_with_entries("walk", 5);
        let size = state.board.store().size();
        assert!(size >= 5);
        let index = BallotIndex::default();
        // A budget smaller than the log: the request walks its share, then answers 503.
        assert!(building(index.find_within(&state, &[], 2, 1)));
        assert_eq!(index.next(), 2);
        // While another request walks, a long tail is 503 at once (no wait, no progress).
        let walking = index.walker.lock().unwrap();
        assert!(building(index.find_within(&state, &[], 2, 1)));
        assert_eq!(index.next(), 2);
        drop(walking);
        // The index lock is free between chunks: a reader gets it while nobody walks.
        assert!(index.inner.try_lock().is_ok());
        // Enough budget: the walk completes and lookups answer.
        assert_eq!(
            index.find_within(&state, &[], size, 2).unwrap(),
            Vec::<u64>::new()
        );
        assert_eq!(index.next(), size);
    }

    fn answers(cap: usize) -> SnapshotAnswers {
        SnapshotAnswers::new(cap, Counter::default(), Gauge::default())
    }

    fn body(len: usize, fill: u8) -> Encoded {
        Encoded::Body(Bytes::from(vec![fill; len]))
    }

    fn bytes_of(encoded: &Encoded) -> &[u8] {
        match encoded {
            Encoded::Body(body) => body,
            Encoded::TooLarge(_) => panic!("refused"),
        }
    }

    /// Which keys are kept (as `key`'s arguments), sorted, and the bytes booked for them.
    fn kept(answers: &SnapshotAnswers) -> (Vec<(u8, u8)>, usize) {
        let kept = answers.lock();
        let mut keys: Vec<_> = kept.slots.keys().map(|(e, s)| (e.0[0], s[0])).collect();
        keys.sort();
        (keys, kept.bytes)
    }

    fn key(election: u8, snapshot: u8) -> SnapshotKey {
        (ContextId([election; 32]), [snapshot; 32])
    }

    /// While its election votes, an answer is encoded once per election and snapshot:
    /// the second request gets the kept bytes (the encoder is not called); another
    /// election, or another snapshot id, is encoded apart.
    #[test]
    fn a_snapshot_answer_is_encoded_once_per_election_and_snapshot_id() {
        let answers = answers(usize::MAX);
        let first = answers.serve(key(1, 5), || body(3, b'a'));
        let again = answers.serve(key(1, 5), || body(3, b'z'));
        assert_eq!(bytes_of(&again), bytes_of(&first));
        assert_eq!(bytes_of(&again), b"aaa");
        assert_eq!(answers.encodings.get(), 1);
        assert_eq!(bytes_of(&answers.serve(key(2, 5), || body(1, b'b'))), b"b");
        assert_eq!(bytes_of(&answers.serve(key(1, 6), || body(1, b'c'))), b"c");
        assert_eq!(answers.encodings.get(), 3);
        assert_eq!(
            kept(&answers),
            (vec![(1, 5), (1, 6), (2, 5)], 3 * SLOT_BYTES + 5)
        );
        assert_eq!(answers.kept_bytes.get(), (3 * SLOT_BYTES + 5) as i64);
    }

    /// The kept answers never pass the cap: the least recently asked goes first, and is
    /// encoded again when asked; one that alone passes the cap is served, not kept, and
    /// drops nothing.
    #[test]
    fn the_kept_answers_stay_within_the_cap_least_recently_asked_first_out() {
        let one = SLOT_BYTES + 100;
        let answers = answers(2 * one);
        answers.serve(key(1, 1), || body(100, 1));
        answers.serve(key(2, 2), || body(100, 2));
        // 1 is asked again, so 2 is now the least recently asked.
        answers.serve(key(1, 1), || body(100, 9));
        answers.serve(key(3, 3), || body(100, 3));
        assert_eq!(kept(&answers), (vec![(1, 1), (3, 3)], 2 * one));
        assert_eq!(answers.kept_bytes.get(), (2 * one) as i64);
        assert_eq!(answers.encodings.get(), 3);
        // 2 was dropped: asked again, it is encoded again, and 1 (now the oldest) goes.
        let again = answers.serve(key(2, 2), || body(100, 2));
        assert_eq!(bytes_of(&again), [2; 100]);
        assert_eq!(answers.encodings.get(), 4);
        assert_eq!(kept(&answers), (vec![(2, 2), (3, 3)], 2 * one));
        // Too large to keep: served, never kept, nothing dropped for it.
        let large = answers.serve(key(4, 4), || body(2 * one, 4));
        assert_eq!(bytes_of(&large).len(), 2 * one);
        assert_eq!(kept(&answers), (vec![(2, 2), (3, 3)], 2 * one));
        answers.serve(key(4, 4), || body(2 * one, 4));
        assert_eq!(answers.encodings.get(), 6);
    }

    /// A slot still being encoded is never dropped to make room (the requests waiting on
    /// it would each encode again); once booked, it takes its turn like any other.
    #[test]
    fn an_answer_being_encoded_is_not_evicted() {
        let answers = answers(SLOT_BYTES + 10);
        let pending = answers.answer(key(1, 1));
        answers.serve(key(2, 2), || body(10, 2));
        answers.serve(key(3, 3), || body(10, 3));
        assert_eq!(kept(&answers), (vec![(1, 1), (3, 3)], SLOT_BYTES + 10));
        // Its encoding done, the pending one is booked and 3, now older, goes.
        let done = answers.serve(key(1, 1), || body(10, 1));
        assert_eq!(bytes_of(&done), [1; 10]);
        assert_eq!(kept(&answers), (vec![(1, 1)], SLOT_BYTES + 10));
        assert!(Arc::ptr_eq(&pending, &answers.answer(key(1, 1))));
        assert_eq!(answers.encodings.get(), 3);
    }

    /// Concurrent first requests share one slot: one encodes, the others wait for it.
    #[test]
    fn concurrent_first_requests_encode_once() {
        let answers = Arc::new(answers(usize::MAX));
        let start = Arc::new(std::sync::Barrier::new(8));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (answers, start) = (Arc::clone(&answers), Arc::clone(&start));
                std::thread::spawn(move || {
                    start.wait();
                    answers.serve(key(1, 1), || {
                        // Long enough for the others to arrive while this one encodes.
                        std::thread::sleep(std::time::Duration::from_millis(50));
                        body(10, 7)
                    })
                })
            })
            .collect();
        for thread in threads {
            assert_eq!(bytes_of(&thread.join().unwrap()), [7; 10]);
        }
        assert_eq!(answers.encodings.get(), 1);
    }

    /// A registry entry, for parts of any size.
    fn an_entry() -> urne_credential::registry::Entry {
        use urne_credential::registry::Register;
        use urne_credential::wallet::{ATTRIBUTE_DISTRICT, EnrolmentRequest, Wallet};
        let mut rng = rand::rng();
        let registry = [0x42; 32];
        let wallet = Wallet::generate(&[(ATTRIBUTE_DISTRICT, 1)], &mut rng).unwrap();
        let bytes = wallet
            .enrolment_request(&registry, &mut rng)
            .unwrap()
            .to_bytes();
        let request = EnrolmentRequest::decode_and_verify(&bytes, &registry).unwrap();
        let mut register = Register::new();
        register.enrol([1; 32], &request, false).unwrap();
        register.snapshot_header(registry, 1, [0; 32], 2).1[0]
    }

    /// The length counted before encoding is the length encoded, for one part, a full
    /// one and several; one byte under it, the answer is refused with that length and no
    /// part is made.
    #[test]
    fn the_answer_length_is_counted_exactly_before_any_part_is_made() {
        let entry = an_entry();
        let header = [0xab; 301];
        for count in [0, 1, 6, 999, 1000, 1001, 2500] {
            let entries = vec![entry; count];
            let parts = || {
                let chunks: Vec<&[_]> = if entries.is_empty() {
                    vec![&[]]
                } else {
                    entries
                        .chunks(urne_credential::registry::MAX_ENTRIES_PER_PART)
                        .collect()
                };
                let total = chunks.len() as u32;
                chunks
                    .into_iter()
                    .enumerate()
                    .map(|(i, chunk)| SnapshotPart {
                        snapshot: [3; 32],
                        part: i as u32,
                        parts: total,
                        entries: chunk.to_vec(),
                    })
                    .collect::<Vec<_>>()
            };
            let made = encode_answer(&header, count, parts, usize::MAX);
            let made = bytes_of(&made);
            assert_eq!(made.len(), answer_len(header.len(), count), "{count}");
            let json: serde_json::Value = serde_json::from_slice(made).unwrap();
            assert_eq!(
                json,
                serde_json::json!({
                    "header": hex::encode(header),
                    "parts": parts().iter().map(|p| hex::encode(p.to_bytes())).collect::<Vec<_>>(),
                }),
                "{count}"
            );
            let refused = encode_answer(
                &header,
                count,
                || -> Vec<SnapshotPart> { panic!("no part is made for a refusal") },
                made.len() - 1,
            );
            assert!(matches!(refused, Encoded::TooLarge(len) if len == made.len()));
        }
    }
}
