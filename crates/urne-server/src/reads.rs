//! Read routes: tlog-tiles, records by hash, pages of entries, contexts, board
//! description, health, metrics and the OpenAPI document.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use urne_log::Hash;
use urne_log::tiles::{TILE_WIDTH, TilePath};
use urne_store::StoreError;

use crate::errors::{JsonPath, JsonQuery, error, json, store_error};
use crate::state::{AppState, off_runtime};

pub(crate) fn text(body: String, cache: &'static str) -> Response {
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

fn octets(body: impl Into<Body>, cache: &'static str) -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/octet-stream"),
            (header::CACHE_CONTROL, cache),
        ],
        body.into(),
    )
        .into_response()
}

/// Tiles and entry bundles, full or partial (`.p/W`), never change: a path names a
/// fixed range of durable entries, so its bytes are the same for ever (tlog-tiles: "this
/// endpoint is immutable"). A partial one may later be deleted, never altered.
pub(crate) const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Marks an entry bundle's response, the one answer of `/tile/...` worth compressing:
/// records compress, while a hash tile is SHA-256 output, which gzip only makes longer.
#[derive(Clone, Copy)]
pub(crate) struct EntryBundle;

pub(crate) async fn tile(
    State(state): State<AppState>,
    JsonPath(rest): JsonPath<String>,
) -> Response {
    let Some(path) = TilePath::parse(&format!("tile/{rest}")) else {
        return error(
            StatusCode::NOT_FOUND,
            "not-found",
            "not a tlog-tiles path",
            Some("path"),
        );
    };
    match path {
        TilePath::Hashes {
            level,
            index,
            partial,
        } => {
            let width = partial.map_or(TILE_WIDTH, u64::from);
            let store = state.board.store().clone();
            match off_runtime(move || store.tile(level, index, width)).await {
                Ok(Ok(bytes)) => octets(bytes, IMMUTABLE),
                Ok(Err(e)) => store_error(&e),
                Err(response) => response,
            }
        }
        TilePath::Entries { index, partial } => {
            let width = partial.map_or(TILE_WIDTH, u64::from);
            entry_bundle(&state, index, width)
        }
    }
}

/// Entries read per step of a streamed bundle: bounds the memory one bundle holds
/// (a full bundle of maximal records is 16 MiB) to a few steps.
const BUNDLE_STEP: u64 = 16;

/// An entry bundle, streamed as it is read: `u16` big-endian length, then the entry.
fn entry_bundle(state: &AppState, index: u64, width: u64) -> Response {
    let range = index
        .checked_mul(TILE_WIDTH)
        .and_then(|start| Some((start, start.checked_add(width)?)));
    let Some((start, end)) = range.filter(|(_, end)| *end <= state.board.store().size()) else {
        return error(
            StatusCode::NOT_FOUND,
            "not-found",
            "no such entry bundle in the log yet",
            Some("path"),
        );
    };
    let (sender, receiver) = mpsc::channel::<Result<Bytes, StoreError>>(2);
    let complete = Arc::new(AtomicBool::new(false));
    let done = complete.clone();
    let store = state.board.store().clone();
    let give_up = tokio::time::Instant::now() + state.config.send_timeout;
    // Reads run on the blocking pool a step at a time; waiting for the client to take a
    // step is async and bounded, so a client that stops reading pins no thread.
    tokio::spawn(async move {
        let mut i = start;
        while i < end {
            let step_end = end.min(i + BUNDLE_STEP);
            let reader = store.clone();
            let Ok(chunk) = off_runtime(move || read_bundle_step(&reader, i, step_end)).await
            else {
                return;
            };
            let failed = chunk.is_err();
            let sent = tokio::time::timeout_at(give_up, sender.send(chunk.map(Bytes::from))).await;
            if failed || !matches!(sent, Ok(Ok(()))) {
                return;
            }
            i = step_end;
        }
        // Only a producer that sent every step says so: any other end is a cut.
        done.store(true, Ordering::Release);
    });
    let mut response = octets(
        Body::new(ChannelBody {
            chunks: receiver,
            complete,
        }),
        IMMUTABLE,
    );
    response.extensions_mut().insert(EntryBundle);
    response
}

/// Entries `from..to` framed as in an entry bundle.
fn read_bundle_step(store: &urne_store::Store, from: u64, to: u64) -> Result<Vec<u8>, StoreError> {
    let mut out = Vec::new();
    for j in from..to {
        let record = store.entry(j)?;
        out.extend_from_slice(&(record.len() as u16).to_be_bytes());
        out.extend_from_slice(&record);
    }
    Ok(out)
}

/// A response body fed by a channel. Its producer marks `complete` after the last step
/// is sent; a channel that closes before that (a store error, a client too slow for the
/// send deadline, a failed read) ends the body with an error, so hyper aborts the
/// transfer: the client sees a cut, never a short bundle ending cleanly — which, served
/// `immutable`, a cache would keep for a year.
struct ChannelBody {
    chunks: mpsc::Receiver<Result<Bytes, StoreError>>,
    complete: Arc<AtomicBool>,
}

/// Why a streamed bundle ended early.
#[derive(Debug, thiserror::Error)]
enum BundleCut {
    #[error("reading the bundle: {0}")]
    Store(#[from] StoreError),
    #[error("the bundle's producer stopped before its last entry")]
    Unfinished,
}

impl http_body::Body for ChannelBody {
    type Data = Bytes;
    type Error = BundleCut;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, BundleCut>>> {
        match self.chunks.poll_recv(cx) {
            Poll::Ready(Some(chunk)) => Poll::Ready(Some(
                chunk.map(http_body::Frame::data).map_err(BundleCut::from),
            )),
            // The sender is dropped after `complete` is stored, so a closed channel
            // reads it set exactly when the producer finished.
            Poll::Ready(None) if self.complete.load(Ordering::Acquire) => Poll::Ready(None),
            Poll::Ready(None) => Poll::Ready(Some(Err(BundleCut::Unfinished))),
            Poll::Pending => Poll::Pending,
        }
    }
}

pub(crate) async fn record_by_hash(
    State(state): State<AppState>,
    JsonPath(hash): JsonPath<String>,
) -> Response {
    let Some(hash) = Hash::from_hex(&hash) else {
        return error(
            StatusCode::BAD_REQUEST,
            "malformed",
            "hash is not 64 lowercase hex digits",
            Some("hash"),
        );
    };
    let store = state.board.store().clone();
    let result = off_runtime(move || -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        match store.index_of(&hash)? {
            Some(i) => Ok(Some((i, store.entry(i)?))),
            None => Ok(None),
        }
    })
    .await;
    match result {
        Ok(Ok(Some((index, bytes)))) => {
            let mut response = octets(bytes, IMMUTABLE);
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
pub(crate) struct EntriesQuery {
    start: u64,
    limit: Option<u64>,
}

#[derive(Serialize)]
struct EntryBody {
    index: u64,
    hash: String,
    record: String,
}

#[derive(Serialize)]
struct EntriesPage {
    entries: Vec<EntryBody>,
    /// Where the next page starts; `null` once the page reached the log's end.
    next: Option<u64>,
}

/// A page of entries from `start`: at most `limit` (and the configured most) entries
/// and the configured most record bytes, at least one entry if any is left.
pub(crate) async fn entries(
    State(state): State<AppState>,
    JsonQuery(q): JsonQuery<EntriesQuery>,
) -> Response {
    let most = state.config.max_entries_per_request;
    let limit = q.limit.unwrap_or(most);
    if limit == 0 || limit > most {
        return error(
            StatusCode::BAD_REQUEST,
            "malformed",
            &format!("limit must be between 1 and {most}"),
            Some("limit"),
        );
    }
    let size = state.board.store().size();
    if q.start > size {
        return error(
            StatusCode::NOT_FOUND,
            "not-found",
            &format!("start {} is past the log's end ({size} entries)", q.start),
            Some("start"),
        );
    }
    let max_bytes = state.config.max_entries_bytes;
    let store = state.board.store().clone();
    let result = off_runtime(move || -> Result<EntriesPage, StoreError> {
        let end = size.min(q.start.saturating_add(limit));
        let mut entries = Vec::new();
        let mut bytes = 0usize;
        let mut i = q.start;
        while i < end {
            let record = store.entry(i)?;
            if !entries.is_empty() && bytes + record.len() > max_bytes {
                break;
            }
            bytes += record.len();
            entries.push(EntryBody {
                index: i,
                hash: urne_log::leaf_hash(&record).to_hex(),
                record: hex::encode(&record),
            });
            i += 1;
        }
        Ok(EntriesPage {
            entries,
            next: (i < size).then_some(i),
        })
    })
    .await;
    match result {
        Ok(Ok(page)) => json(StatusCode::OK, &page),
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

pub(crate) async fn contexts(State(state): State<AppState>) -> Response {
    let board = std::sync::Arc::clone(&state.board);
    let listed = off_runtime(move || {
        board
            .contexts()
            .into_iter()
            .map(|c| ContextBody {
                id: c.id.to_hex(),
                name: c.name,
                authority: hex::encode(c.authority),
                context_type: c.context_type,
                phase: c.phase_name,
                opened_at: c.opened_at,
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

pub(crate) async fn board_info(State(state): State<AppState>) -> Response {
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

pub(crate) async fn health(State(state): State<AppState>) -> Response {
    text(format!("ok {}\n", state.board.store().size()), "no-store")
}

pub(crate) async fn metrics(State(state): State<AppState>) -> Response {
    let checkpoint_size = state
        .checkpoints
        .current()
        .latest
        .as_ref()
        .map_or(0, |(size, _)| *size);
    let mut response = text(
        state
            .metrics
            .render(state.board.store().size(), checkpoint_size),
        "no-store",
    );
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    response
}

pub(crate) async fn openapi() -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        include_str!("openapi.json"),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use super::*;
    use http_body_util::BodyExt as _;

    async fn drain(
        chunks: Vec<Result<Bytes, StoreError>>,
        finished: bool,
    ) -> Result<Vec<u8>, BundleCut> {
        let (sender, receiver) = mpsc::channel(8);
        let complete = Arc::new(AtomicBool::new(false));
        for chunk in chunks {
            sender.send(chunk).await.unwrap();
        }
        complete.store(finished, Ordering::Release);
        drop(sender);
        let mut body = ChannelBody {
            chunks: receiver,
            complete,
        };
        let mut out = Vec::new();
        while let Some(frame) = body.frame().await {
            out.extend_from_slice(&frame?.into_data().unwrap());
        }
        Ok(out)
    }

    /// spec/13: a bundle's bytes never change, and it is served `immutable`; a producer
    /// that stops early must cut the transfer, not end it cleanly with fewer entries.
    #[tokio::test]
    async fn a_bundle_whose_producer_stops_early_ends_in_an_error_not_a_clean_end() {
        let steps = || {
            vec![
                Ok(Bytes::from_static(b"step 1")),
                Ok(Bytes::from_static(b"step 2")),
            ]
        };
        assert_eq!(drain(steps(), true).await.unwrap(), b"step 1step 2");
        assert!(matches!(
            drain(steps(), false).await,
            Err(BundleCut::Unfinished)
        ));
    }
}
