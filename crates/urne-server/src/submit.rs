//! The one place the server hands a record to the board's acceptance path. The board's
//! pipeline (parallel precheck, batch verification, one wake-up per group commit) will
//! replace the body of [`accept`]; nothing else in the server needs to change.

use std::sync::Arc;

use urne_board::{Board, Receipt, Rejection};

/// Submits `record` and waits until it is durable (or rejected), without blocking
/// an async worker: the board's `submit` waits on the store's fsync.
pub(crate) async fn accept(board: &Arc<Board>, record: Vec<u8>) -> Result<Receipt, Rejection> {
    let board = Arc::clone(board);
    tokio::task::spawn_blocking(move || board.submit(record))
        .await
        .unwrap_or_else(|_| Err(Rejection::storage("the acceptance worker failed")))
}
