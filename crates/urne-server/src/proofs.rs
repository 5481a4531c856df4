//! Inclusion and consistency proofs, by default against the latest signed checkpoint
//! so that what is served matches something the board has signed.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use urne_log::Hash;
use urne_store::StoreError;

use crate::checkpoints::latest;
use crate::errors::{JsonQuery, error, json, store_error};
use crate::state::{AppState, off_runtime};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InclusionQuery {
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

/// The tree size asked for, or the latest signed checkpoint's.
async fn size_or_latest(state: &AppState, size: Option<u64>) -> Result<u64, Response> {
    match size {
        Some(s) => Ok(s),
        None => Ok(latest(state).await?.0),
    }
}

pub(crate) async fn inclusion(
    State(state): State<AppState>,
    JsonQuery(q): JsonQuery<InclusionQuery>,
) -> Response {
    let hash = match (q.index, q.hash.as_deref()) {
        (Some(_), None) => None,
        (None, Some(h)) => match Hash::from_hex(h) {
            Some(hash) => Some(hash),
            None => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "malformed",
                    "hash is not 64 lowercase hex digits",
                    Some("hash"),
                );
            }
        },
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "malformed",
                "give exactly one of hash and index",
                None,
            );
        }
    };
    let size = match size_or_latest(&state, q.size).await {
        Ok(s) => s,
        Err(response) => return response,
    };
    let store = state.board.store().clone();
    let by_index = q.index;
    let result = off_runtime(move || -> Result<InclusionBody, Response> {
        let index = match (by_index, hash) {
            (Some(i), _) => i,
            (None, Some(hash)) => store
                .index_of(&hash)
                .map_err(|e| store_error(&e))?
                .ok_or_else(|| {
                    error(
                        StatusCode::NOT_FOUND,
                        "not-found",
                        "no record with this hash",
                        Some("hash"),
                    )
                })?,
            (None, None) => return Err(crate::errors::internal("no index nor hash")),
        };
        if index >= size {
            return Err(error(
                StatusCode::NOT_FOUND,
                "not-yet-checkpointed",
                &format!(
                    "entry {index} is not in the tree of size {size}: retry after the next checkpoint"
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
pub(crate) struct ConsistencyQuery {
    first: u64,
    second: Option<u64>,
}

#[derive(Serialize)]
struct ConsistencyBody {
    first: u64,
    second: u64,
    proof: Vec<String>,
}

pub(crate) async fn consistency(
    State(state): State<AppState>,
    JsonQuery(q): JsonQuery<ConsistencyQuery>,
) -> Response {
    let second = match size_or_latest(&state, q.second).await {
        Ok(s) => s,
        Err(response) => return response,
    };
    let store = state.board.store().clone();
    let first = q.first;
    let result = off_runtime(move || -> Result<ConsistencyBody, StoreError> {
        let proof = store.consistency_proof(first, second)?;
        Ok(ConsistencyBody {
            first,
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
