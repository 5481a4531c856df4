//! The one place the server hands a record to the board's acceptance path.

use std::sync::Arc;

use urne_board::{Board, Receipt, Rejection};

/// Submits `record` and waits until it is durable (or rejected). The board's staged
/// pipeline answers through a channel: no thread is parked per request.
pub(crate) async fn accept(board: &Arc<Board>, record: Vec<u8>) -> Result<Receipt, Rejection> {
    board.submit_async(record).await
}
