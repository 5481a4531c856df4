//! Routes, handlers and the request pipeline (spec/13-http.md).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{ConnectInfo, MatchedPath, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;
use urne_board::{Board, Code, Rejection};
use urne_log::Hash;
use urne_log::hash::hex;
use urne_log::tiles::{TILE_WIDTH, TilePath};
use urne_store::StoreError;

use crate::limits::RateLimiter;
use crate::metrics::Metrics;

/// Limits and timings, with safe defaults (loopback only).
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Where to listen. Default 127.0.0.1:8400: exposing the board is a decision.
    pub listen: SocketAddr,
    /// Largest request body (a hex-encoded record in JSON is about twice the record).
    pub max_body_bytes: usize,
    /// Requests served at once; more are shed with 503.
    pub max_concurrent: usize,
    /// Time allowed per request.
    pub request_timeout: Duration,
    /// Sustained record submissions per client address per second.
    pub writes_per_second: u32,
    /// Burst of submissions per client address.
    pub write_burst: u32,
    /// Sustained reads per client address per second.
    pub reads_per_second: u32,
    /// Burst of reads per client address.
    pub read_burst: u32,
    /// How often a new checkpoint is signed when entries were added.
    pub checkpoint_interval: Duration,
    /// Most entries one `/v1/entries` request returns.
    pub max_entries_per_request: u64,
    /// Witnesses to push each new checkpoint to (tlog-witness `add-checkpoint`).
    pub push_witnesses: Vec<crate::push::PushWitness>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 8400)),
            max_body_bytes: 2 * urne_store::MAX_RECORD_BYTES + 64,
            max_concurrent: 1024,
            request_timeout: Duration::from_secs(10),
            writes_per_second: 200,
            write_burst: 400,
            reads_per_second: 20_000,
            read_burst: 40_000,
            checkpoint_interval: Duration::from_secs(1),
            max_entries_per_request: 1000,
            push_witnesses: Vec::new(),
        }
    }
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    board: Arc<Board>,
    config: Arc<ServerConfig>,
    metrics: Arc<Metrics>,
    writes: Arc<RateLimiter>,
    reads: Arc<RateLimiter>,
    inflight: Arc<Semaphore>,
}

impl AppState {
    /// State for serving `board` under `config`.
    pub fn new(board: Arc<Board>, config: ServerConfig) -> Self {
        Self {
            writes: Arc::new(RateLimiter::new(
                config.writes_per_second,
                config.write_burst,
            )),
            reads: Arc::new(RateLimiter::new(config.reads_per_second, config.read_burst)),
            inflight: Arc::new(Semaphore::new(config.max_concurrent)),
            metrics: Arc::new(Metrics::default()),
            config: Arc::new(config),
            board,
        }
    }

    /// The board served.
    pub fn board(&self) -> &Arc<Board> {
        &self.board
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

fn error(status: StatusCode, code: &str, message: &str, field: Option<&str>) -> Response {
    let body = serde_json::to_vec(&ErrorBody {
        code,
        message,
        field,
    })
    .unwrap_or_default();
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// The HTTP status of each rejection code (spec/13-http.md): the board's rejections
/// carry none of their own.
pub fn rejection_status(code: Code) -> StatusCode {
    match code {
        Code::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        Code::BadSignature | Code::NotAuthorized => StatusCode::FORBIDDEN,
        Code::UnknownContext => StatusCode::NOT_FOUND,
        Code::ContextExists | Code::WrongPhase | Code::Duplicate | Code::AlreadyUsed => {
            StatusCode::CONFLICT
        }
        Code::Storage | Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    }
}

fn rejection(r: &Rejection) -> Response {
    error(
        rejection_status(r.code),
        r.code.as_str(),
        &r.message,
        r.field.as_deref(),
    )
}

fn store_error(e: &StoreError) -> Response {
    match e {
        StoreError::OutOfRange { detail } => {
            error(StatusCode::NOT_FOUND, "not-found", detail, None)
        }
        other => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "storage",
            &other.to_string(),
            None,
        ),
    }
}

fn json<T: Serialize>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => (status, [(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            &e.to_string(),
            None,
        ),
    }
}

/// Runs blocking board or store work off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Response> {
    tokio::task::spawn_blocking(f).await.map_err(|_| {
        error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "worker failed",
            None,
        )
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SubmitJson {
    /// The record's bytes in lowercase hex.
    record: String,
}

#[derive(Serialize)]
struct ReceiptBody {
    index: u64,
    hash: String,
}

async fn submit(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let bytes = match to_bytes(body, state.config.max_body_bytes).await {
        Ok(b) => b,
        Err(_) => {
            state.metrics.rejection("too-large");
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too-large",
                &format!("request body exceeds {} bytes", state.config.max_body_bytes),
                Some("body"),
            );
        }
    };
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let record = if is_json {
        let parsed: SubmitJson = match serde_json::from_slice(&bytes) {
            Ok(p) => p,
            Err(e) => {
                state.metrics.rejection("bad-json");
                return error(
                    StatusCode::BAD_REQUEST,
                    "bad-json",
                    &format!("request is not the expected JSON: {e}"),
                    None,
                );
            }
        };
        match urne_log::hash::from_hex(&parsed.record) {
            Some(r) => r,
            None => {
                state.metrics.rejection("bad-json");
                return error(
                    StatusCode::BAD_REQUEST,
                    "bad-json",
                    "record is not lowercase hex",
                    Some("record"),
                );
            }
        }
    } else {
        bytes.to_vec()
    };
    let board = Arc::clone(&state.board);
    match blocking(move || board.submit(record)).await {
        Ok(Ok(receipt)) => {
            state.metrics.accepted.fetch_add(1, Ordering::Relaxed);
            json(
                StatusCode::CREATED,
                &ReceiptBody {
                    index: receipt.index,
                    hash: receipt.hash.to_hex(),
                },
            )
        }
        Ok(Err(r)) => {
            state.metrics.rejection(r.code.as_str());
            rejection(&r)
        }
        Err(response) => response,
    }
}

fn text(body: String, cache: &'static str) -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, cache),
        ],
        body,
    )
        .into_response()
}

async fn checkpoint(State(state): State<AppState>) -> Response {
    let board = Arc::clone(&state.board);
    let latest = match board.checkpoint() {
        Some(c) => Ok(c),
        None => blocking(move || board.sign_checkpoint())
            .await
            .and_then(|r| r.map_err(|e| store_error(&e))),
    };
    match latest {
        Ok(note) => text(note, "no-cache, max-age=1"),
        Err(response) => response,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QuorumQuery {
    quorum: usize,
}

async fn cosigned_checkpoint(
    State(state): State<AppState>,
    Query(q): Query<QuorumQuery>,
) -> Response {
    match state.board.cosigned_checkpoint(q.quorum) {
        Some(note) => text(note, "no-cache, max-age=1"),
        None => error(
            StatusCode::NOT_FOUND,
            "not-found",
            &format!(
                "no recent checkpoint has {} witness cosignatures yet",
                q.quorum
            ),
            Some("quorum"),
        ),
    }
}

#[derive(Serialize)]
struct Added {
    added: usize,
}

async fn cosignatures(State(state): State<AppState>, body: Bytes) -> Response {
    let Ok(note) = String::from_utf8(body.to_vec()) else {
        return error(
            StatusCode::BAD_REQUEST,
            "malformed",
            "note is not UTF-8",
            Some("note"),
        );
    };
    let board = Arc::clone(&state.board);
    match blocking(move || board.add_cosignatures(&note)).await {
        Ok(Ok(added)) => json(StatusCode::OK, &Added { added }),
        Ok(Err(r)) => rejection(&r),
        Err(response) => response,
    }
}

fn octets(body: Vec<u8>, cache: &'static str) -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/octet-stream"),
            (header::CACHE_CONTROL, cache),
        ],
        body,
    )
        .into_response()
}

async fn tile(State(state): State<AppState>, Path(rest): Path<String>) -> Response {
    let Some(path) = TilePath::parse(&format!("tile/{rest}")) else {
        return error(
            StatusCode::NOT_FOUND,
            "not-found",
            "not a tlog-tiles path",
            Some("path"),
        );
    };
    let store = state.board.store().clone();
    let (partial, result) = match path {
        TilePath::Hashes {
            level,
            index,
            partial,
        } => {
            let width = partial.map_or(TILE_WIDTH, u64::from);
            (
                partial.is_some(),
                blocking(move || store.tile(level, index, width)).await,
            )
        }
        TilePath::Entries { index, partial } => {
            let width = partial.map_or(TILE_WIDTH, u64::from);
            (
                partial.is_some(),
                blocking(move || store.entry_bundle(index, width)).await,
            )
        }
    };
    let cache = if partial {
        "public, max-age=60"
    } else {
        "public, max-age=31536000, immutable"
    };
    match result {
        Ok(Ok(bytes)) => octets(bytes, cache),
        Ok(Err(e)) => store_error(&e),
        Err(response) => response,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InclusionQuery {
    hash: Option<String>,
    index: Option<u64>,
    size: Option<u64>,
}

#[derive(Serialize)]
struct InclusionBody {
    index: u64,
    size: u64,
    leaf: String,
    root: String,
    proof: Vec<String>,
}

/// The size of the latest signed checkpoint (signing one if there is none), so that
/// proofs served by default match something the board has signed.
fn checkpoint_size(board: &Board) -> Result<u64, StoreError> {
    match board.checkpoint_size() {
        Some(size) => Ok(size),
        None => {
            board.sign_checkpoint()?;
            board
                .checkpoint_size()
                .ok_or_else(|| StoreError::BadCheckpoint("no checkpoint after signing one".into()))
        }
    }
}

async fn inclusion(State(state): State<AppState>, Query(q): Query<InclusionQuery>) -> Response {
    let board = Arc::clone(&state.board);
    let result = blocking(move || -> Result<InclusionBody, Response> {
        let store = board.store();
        let index = match (q.index, q.hash.as_deref()) {
            (Some(i), None) => i,
            (None, Some(h)) => {
                let hash = Hash::from_hex(h).ok_or_else(|| {
                    error(
                        StatusCode::BAD_REQUEST,
                        "malformed",
                        "hash is not 64 lowercase hex digits",
                        Some("hash"),
                    )
                })?;
                store
                    .index_of(&hash)
                    .map_err(|e| store_error(&e))?
                    .ok_or_else(|| {
                        error(
                            StatusCode::NOT_FOUND,
                            "not-found",
                            "no record with this hash",
                            Some("hash"),
                        )
                    })?
            }
            _ => {
                return Err(error(
                    StatusCode::BAD_REQUEST,
                    "malformed",
                    "give exactly one of hash and index",
                    None,
                ));
            }
        };
        let size = match q.size {
            Some(s) => s,
            None => checkpoint_size(&board).map_err(|e| store_error(&e))?,
        };
        if index >= size {
            return Err(error(
                StatusCode::NOT_FOUND,
                "not-found",
                &format!(
                    "entry {index} is not in the tree of size {size} (wait for the next checkpoint)"
                ),
                Some("size"),
            ));
        }
        let proof = store
            .inclusion_proof(index, size)
            .map_err(|e| store_error(&e))?;
        let leaf = store.leaf_hash(index).map_err(|e| store_error(&e))?;
        let root = store.root(size).map_err(|e| store_error(&e))?;
        Ok(InclusionBody {
            index,
            size,
            leaf: leaf.to_hex(),
            root: root.to_hex(),
            proof: proof.iter().map(Hash::to_hex).collect(),
        })
    })
    .await;
    match result {
        Ok(Ok(body)) => json(StatusCode::OK, &body),
        Ok(Err(response)) | Err(response) => response,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsistencyQuery {
    first: u64,
    second: Option<u64>,
}

#[derive(Serialize)]
struct ConsistencyBody {
    first: u64,
    second: u64,
    proof: Vec<String>,
}

async fn consistency(State(state): State<AppState>, Query(q): Query<ConsistencyQuery>) -> Response {
    let board = Arc::clone(&state.board);
    let result = blocking(move || -> Result<ConsistencyBody, StoreError> {
        let second = match q.second {
            Some(s) => s,
            None => checkpoint_size(&board)?,
        };
        let proof = board.store().consistency_proof(q.first, second)?;
        Ok(ConsistencyBody {
            first: q.first,
            second,
            proof: proof.iter().map(Hash::to_hex).collect(),
        })
    })
    .await;
    match result {
        Ok(Ok(body)) => json(StatusCode::OK, &body),
        Ok(Err(e)) => store_error(&e),
        Err(response) => response,
    }
}

async fn record_by_hash(State(state): State<AppState>, Path(hash): Path<String>) -> Response {
    let Some(hash) = Hash::from_hex(&hash) else {
        return error(
            StatusCode::BAD_REQUEST,
            "malformed",
            "hash is not 64 lowercase hex digits",
            Some("hash"),
        );
    };
    let store = state.board.store().clone();
    let result = blocking(move || -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        match store.index_of(&hash)? {
            Some(i) => Ok(Some((i, store.entry(i)?))),
            None => Ok(None),
        }
    })
    .await;
    match result {
        Ok(Ok(Some((index, bytes)))) => {
            let mut response = octets(bytes, "public, max-age=31536000, immutable");
            if let Ok(v) = HeaderValue::from_str(&index.to_string()) {
                response.headers_mut().insert("x-urne-index", v);
            }
            response
        }
        Ok(Ok(None)) => error(
            StatusCode::NOT_FOUND,
            "not-found",
            "no record with this hash",
            Some("hash"),
        ),
        Ok(Err(e)) => store_error(&e),
        Err(response) => response,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntriesQuery {
    start: u64,
    end: u64,
}

#[derive(Serialize)]
struct EntryBody {
    index: u64,
    hash: String,
    record: String,
}

async fn entries(State(state): State<AppState>, Query(q): Query<EntriesQuery>) -> Response {
    if q.end <= q.start || q.end - q.start > state.config.max_entries_per_request {
        return error(
            StatusCode::BAD_REQUEST,
            "malformed",
            &format!(
                "need start < end and at most {} entries",
                state.config.max_entries_per_request
            ),
            Some("end"),
        );
    }
    let store = state.board.store().clone();
    let result = blocking(move || -> Result<Vec<EntryBody>, StoreError> {
        (q.start..q.end)
            .map(|i| {
                let record = store.entry(i)?;
                Ok(EntryBody {
                    index: i,
                    hash: urne_log::leaf_hash(&record).to_hex(),
                    record: hex(&record),
                })
            })
            .collect()
    })
    .await;
    match result {
        Ok(Ok(body)) => json(StatusCode::OK, &body),
        Ok(Err(e)) => store_error(&e),
        Err(response) => response,
    }
}

#[derive(Serialize)]
struct ContextBody {
    id: String,
    name: String,
    authority: String,
    context_type: &'static str,
    phase: &'static str,
    opened_at: u64,
}

async fn contexts(State(state): State<AppState>) -> Response {
    let list: Vec<ContextBody> = state
        .board
        .contexts()
        .into_iter()
        .map(|c| ContextBody {
            id: c.id.to_hex(),
            name: c.name,
            authority: hex(&c.authority),
            context_type: c.context_type,
            phase: c.phase_name,
            opened_at: c.opened_at,
        })
        .collect();
    json(StatusCode::OK, &list)
}

#[derive(Serialize)]
struct BoardInfo {
    origin: String,
    vkey: String,
    witnesses: Vec<String>,
    size: u64,
    kinds: Vec<KindInfo>,
}

#[derive(Serialize)]
struct KindInfo {
    code: u16,
    name: &'static str,
}

async fn board_info(State(state): State<AppState>) -> Response {
    let board = &state.board;
    json(
        StatusCode::OK,
        &BoardInfo {
            origin: board.origin().to_owned(),
            vkey: board.vkey(),
            witnesses: board.witnesses().iter().map(|w| w.to_vkey()).collect(),
            size: board.store().size(),
            kinds: board
                .registry()
                .all()
                .map(|k| KindInfo {
                    code: k.kind().0,
                    name: k.name(),
                })
                .collect(),
        },
    )
}

async fn health(State(state): State<AppState>) -> Response {
    text(format!("ok {}\n", state.board.store().size()), "no-store")
}

async fn metrics(State(state): State<AppState>) -> Response {
    let size = state.board.checkpoint_size().unwrap_or(0);
    text(
        state.metrics.render(state.board.store().size(), size),
        "no-store",
    )
}

async fn openapi() -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        include_str!("openapi.json"),
    )
        .into_response()
}

fn unix_millis() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

/// Load shedding, per-client rate limits, the time limit, metrics and one JSON log
/// line per request (method, route template, status, duration: no address, no body).
async fn pipeline(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
    let response = 'handled: {
        let Ok(_permit) = Arc::clone(&state.inflight).try_acquire_owned() else {
            state.metrics.shed.fetch_add(1, Ordering::Relaxed);
            break 'handled error(
                StatusCode::SERVICE_UNAVAILABLE,
                "overloaded",
                "too many requests in flight; retry",
                None,
            );
        };
        let limiter = if method == Method::POST {
            &state.writes
        } else {
            &state.reads
        };
        if !limiter.allow(client) {
            state.metrics.rate_limited.fetch_add(1, Ordering::Relaxed);
            let mut r = error(
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                "too many requests from this client; retry",
                None,
            );
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            break 'handled r;
        }
        match tokio::time::timeout(state.config.request_timeout, next.run(request)).await {
            Ok(r) => r,
            Err(_) => error(
                StatusCode::GATEWAY_TIMEOUT,
                "timeout",
                "the request took too long; a submitted record may still have been stored: look it up by hash",
                None,
            ),
        }
    };
    let status = response.status().as_u16();
    state.metrics.response(&route, status);
    eprintln!(
        "{{\"t\":{},\"event\":\"http\",\"method\":\"{}\",\"route\":\"{}\",\"status\":{},\"ms\":{:.3}}}",
        unix_millis(),
        method,
        route,
        status,
        started.elapsed().as_secs_f64() * 1000.0
    );
    response
}

/// The service's routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/checkpoint", get(checkpoint))
        .route("/tile/{*rest}", get(tile))
        .route("/v1/records", post(submit))
        .route("/v1/records/{hash}", get(record_by_hash))
        .route("/v1/entries", get(entries))
        .route("/v1/checkpoint", get(cosigned_checkpoint))
        .route("/v1/cosignatures", post(cosignatures))
        .route("/v1/proof/inclusion", get(inclusion))
        .route("/v1/proof/consistency", get(consistency))
        .route("/v1/contexts", get(contexts))
        .route("/v1/board", get(board_info))
        .route("/healthz", get(health))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .layer(middleware::from_fn_with_state(state.clone(), pipeline))
        .with_state(state)
}

/// Serves until `shutdown` resolves, signing a checkpoint every
/// `checkpoint_interval` when entries were added. On shutdown, requests in flight
/// finish, a last checkpoint covers every durable entry, and the store is closed.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let board = Arc::clone(&state.board);
    let interval = state.config.checkpoint_interval;
    let signer_board = Arc::clone(&board);
    let checkpoints = tokio::spawn(async move {
        loop {
            tokio::time::sleep(interval).await;
            let b = Arc::clone(&signer_board);
            if let Ok(Err(e)) = tokio::task::spawn_blocking(move || b.sign_checkpoint()).await {
                eprintln!(
                    "{{\"t\":{},\"event\":\"checkpoint-failed\",\"error\":{:?}}}",
                    unix_millis(),
                    e.to_string()
                );
            }
        }
    });
    let pushers = crate::push::spawn(&board, &state.config.push_witnesses, interval);
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    checkpoints.abort();
    let closing = Arc::clone(&board);
    let _ = tokio::task::spawn_blocking(move || {
        pushers.stop();
        let _ = closing.sign_checkpoint();
        closing.store().close();
    })
    .await;
    result
}
