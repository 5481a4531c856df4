//! What every handler shares.

use std::sync::Arc;

use axum::response::Response;
use urne_board::Board;

use crate::checkpoints::CheckpointCache;
use crate::config::ServerConfig;
use crate::errors::internal;
use crate::limits::{Budgets, InFlight, RateLimits};
use crate::metrics::Metrics;

/// What every handler shares: one reference count per request, not one per field.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// The shared parts (fields private to the crate).
pub struct Shared {
    pub(crate) board: Arc<Board>,
    pub(crate) config: Arc<ServerConfig>,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) rates: Arc<RateLimits>,
    pub(crate) budgets: Arc<Budgets>,
    pub(crate) in_flight: Arc<InFlight>,
    pub(crate) checkpoints: Arc<CheckpointCache>,
    pub(crate) public: Arc<crate::public::BallotIndex>,
    pub(crate) snapshots: Arc<crate::public::SnapshotAnswers>,
}

impl AppState {
    /// State for serving `board` under `config`. Reads the board's checkpoints once
    /// (blocking briefly): call it before serving, not from a request.
    pub fn new(board: Arc<Board>, config: ServerConfig) -> Self {
        let checkpoints = CheckpointCache::default();
        checkpoints.refresh(&board);
        let metrics = Metrics::default();
        let snapshots = crate::public::SnapshotAnswers::new(
            config.max_snapshot_cache_bytes,
            metrics.snapshot_encodings.clone(),
            metrics.snapshot_cache_bytes.clone(),
        );
        Self(Arc::new(Shared {
            rates: Arc::new(RateLimits::new(&config)),
            budgets: Arc::new(Budgets::new(&config)),
            in_flight: Arc::new(InFlight::new(config.max_in_flight_per_client)),
            metrics: Arc::new(metrics),
            checkpoints: Arc::new(checkpoints),
            public: Arc::default(),
            snapshots: Arc::new(snapshots),
            config: Arc::new(config),
            board,
        }))
    }

    /// The board served.
    pub fn board(&self) -> &Arc<Board> {
        &self.board
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// Runs blocking board or store work (disk reads, fsyncs, lock waits) on tokio's
/// blocking pool, so async workers keep serving.
pub(crate) async fn off_runtime<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Response> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| internal("worker failed"))
}
