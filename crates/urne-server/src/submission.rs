//! `POST /v1/records`: reading the upload under its limits, then acceptance.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use http_body_util::BodyExt;
use serde::{Deserialize, Serialize};

use crate::errors::{error, json, rejection, retry_later};
use crate::state::AppState;
use crate::submit::accept;

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

/// Why a body could not be read.
enum BodyError {
    TooLarge,
    Truncated { received: usize },
    TimedOut { received: usize },
}

/// Reads the whole body: at most `limit` bytes, all within `deadline`. A declared
/// length above the limit is refused before reading anything.
async fn read_body(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    deadline: std::time::Duration,
) -> Result<Vec<u8>, BodyError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(BodyError::TooLarge);
    }
    let mut received = Vec::with_capacity(declared.map_or(0, |n| n as usize));
    let mut body = body;
    let reading = async {
        while let Some(frame) = body.frame().await {
            let Ok(frame) = frame else {
                return Err(BodyError::Truncated {
                    received: received.len(),
                });
            };
            if let Ok(data) = frame.into_data() {
                if received.len() + data.len() > limit {
                    return Err(BodyError::TooLarge);
                }
                received.extend_from_slice(&data);
            }
        }
        Ok(())
    };
    match tokio::time::timeout(deadline, reading).await {
        Ok(Ok(())) => Ok(received),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(BodyError::TimedOut {
            received: received.len(),
        }),
    }
}

fn body_error(state: &AppState, e: BodyError, declared: Option<&str>) -> Response {
    let declared = declared.unwrap_or("the declared");
    match e {
        BodyError::TooLarge => {
            state.metrics.rejection("too-large");
            error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too-large",
                &format!("request body exceeds {} bytes", state.config.max_body_bytes),
                Some("body"),
            )
        }
        BodyError::Truncated { received } => {
            state.metrics.rejection("truncated");
            retry_later(
                StatusCode::BAD_REQUEST,
                "truncated",
                &format!(
                    "the body ended after {received} of {declared} bytes; nothing was stored: send the record again"
                ),
                "1",
            )
        }
        BodyError::TimedOut { received } => {
            state.metrics.rejection("body-timeout");
            retry_later(
                StatusCode::REQUEST_TIMEOUT,
                "body-timeout",
                &format!(
                    "only {received} of {declared} body bytes arrived within {} ms; nothing was stored: send the record again",
                    state.config.body_timeout.as_millis()
                ),
                "1",
            )
        }
    }
}

pub(crate) async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let bytes = match read_body(
        &headers,
        body,
        state.config.max_body_bytes,
        state.config.body_timeout,
    )
    .await
    {
        Ok(b) => b,
        Err(e) => {
            let declared = headers
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok());
            return body_error(&state, e, declared);
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
        match urne_log::strict_hex::decode(&parsed.record) {
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
        bytes
    };
    match accept(&state.board, record).await {
        Ok(receipt) => {
            state.metrics.accepted();
            json(
                StatusCode::CREATED,
                &ReceiptBody {
                    index: receipt.index,
                    hash: receipt.hash.to_hex(),
                },
            )
        }
        Err(r) => {
            state.metrics.rejection(r.code.as_str());
            rejection(&r)
        }
    }
}
