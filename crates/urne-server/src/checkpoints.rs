//! Signed checkpoints as served: signing and cosignature merging run on blocking
//! threads (they fsync), and what GETs read is a snapshot published atomically after
//! each change — the latest note, its size, and for every quorum k the newest recent
//! checkpoint with k cosignatures, computed once per change instead of once per GET.

use std::sync::{Arc, Mutex, RwLock};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use urne_board::{Board, Rejection};
use urne_store::StoreError;

use crate::errors::{JsonQuery, error, json, rejection, store_error};
use crate::reads::text;
use crate::state::{AppState, off_runtime};

/// What checkpoint GETs read; replaced whole, never changed in place.
#[derive(Default)]
pub(crate) struct Published {
    /// The latest signed checkpoint note with its cosignatures, and its tree size.
    pub(crate) latest: Option<(u64, Arc<str>)>,
    /// `by_quorum[k]`: the newest recent checkpoint with at least k known cosignatures.
    by_quorum: Vec<Option<Arc<str>>>,
}

/// The published snapshot and the lock that orders its recomputations.
#[derive(Default)]
pub(crate) struct CheckpointCache {
    current: RwLock<Arc<Published>>,
    /// Held while the board is read and the snapshot swapped, so a slower
    /// recomputation cannot publish an older view over a newer one.
    publishing: Mutex<()>,
}

impl CheckpointCache {
    pub(crate) fn current(&self) -> Arc<Published> {
        Arc::clone(&self.current.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// Re-reads the board's checkpoints and publishes them. Blocking: call off the runtime.
    pub(crate) fn refresh(&self, board: &Board) {
        let _order = self.publishing.lock().unwrap_or_else(|p| p.into_inner());
        let latest = match (board.checkpoint_size(), board.checkpoint()) {
            (Some(size), Some(note)) => Some((size, Arc::from(note))),
            _ => None,
        };
        let by_quorum = (0..=board.witnesses().len())
            .map(|k| board.cosigned_checkpoint(k).map(Arc::from))
            .collect();
        *self.current.write().unwrap_or_else(|p| p.into_inner()) =
            Arc::new(Published { latest, by_quorum });
    }
}

/// Signs a checkpoint over every durable entry and publishes it. Blocking.
pub(crate) fn sign_and_publish(state: &AppState) -> Result<(), StoreError> {
    let signed = state.board.sign_checkpoint();
    state.checkpoints.refresh(&state.board);
    state.metrics.published();
    signed.map(|_| ())
}

/// The latest checkpoint, signing the first one if the board has none yet.
pub(crate) async fn latest(state: &AppState) -> Result<(u64, Arc<str>), Response> {
    if let Some(latest) = &state.checkpoints.current().latest {
        return Ok(latest.clone());
    }
    let signer = state.clone();
    off_runtime(move || sign_and_publish(&signer))
        .await?
        .map_err(|e| store_error(&e))?;
    state
        .checkpoints
        .current()
        .latest
        .clone()
        .ok_or_else(|| crate::errors::internal("no checkpoint after signing one"))
}

pub(crate) async fn checkpoint(State(state): State<AppState>) -> Response {
    match latest(&state).await {
        Ok((_, note)) => text(note.to_string(), "no-cache, max-age=1"),
        Err(response) => response,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct QuorumQuery {
    quorum: usize,
}

pub(crate) async fn cosigned_checkpoint(
    State(state): State<AppState>,
    JsonQuery(q): JsonQuery<QuorumQuery>,
) -> Response {
    let published = state.checkpoints.current();
    match published.by_quorum.get(q.quorum).and_then(Option::as_ref) {
        Some(note) => text(note.to_string(), "no-cache, max-age=1"),
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

pub(crate) async fn cosignatures(State(state): State<AppState>, body: Bytes) -> Response {
    let Ok(note) = String::from_utf8(body.to_vec()) else {
        return error(
            StatusCode::BAD_REQUEST,
            "malformed",
            "note is not UTF-8",
            Some("note"),
        );
    };
    let merger = state.clone();
    let merged = off_runtime(move || -> Result<usize, Rejection> {
        let added = merger.board.add_cosignatures(&note)?;
        if added > 0 {
            merger.checkpoints.refresh(&merger.board);
            merger.metrics.published();
        }
        Ok(added)
    })
    .await;
    match merged {
        Ok(Ok(added)) => json(StatusCode::OK, &Added { added }),
        Ok(Err(r)) => rejection(&r),
        Err(response) => response,
    }
}

/// Signs a checkpoint every `interval` when entries were added, off the runtime.
pub(crate) async fn signer_loop(state: AppState) {
    let interval = state.config.checkpoint_interval;
    loop {
        tokio::time::sleep(interval).await;
        let signer = state.clone();
        let signed = off_runtime(move || {
            let published = signer.checkpoints.current();
            let size = signer.board.store().size();
            if published.latest.as_ref().is_some_and(|(s, _)| *s == size) {
                // Cosignatures may also arrive by the push to witnesses (push.rs), which
                // goes to the board directly: pick them up once per interval.
                signer.checkpoints.refresh(&signer.board);
                return Ok(());
            }
            sign_and_publish(&signer)
        })
        .await;
        if let Ok(Err(e)) = signed {
            tracing::error!(event = "checkpoint-failed", error = %e);
        }
    }
}
