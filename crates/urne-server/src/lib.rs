//! The board's HTTP service.
//!
//! What it is for: serving one [`urne_board::Board`] over HTTP — submitting records,
//! the C2SP tlog-tiles read paths (`/checkpoint`, `/tile/...`) that any static server or
//! CDN can mirror, proofs, records by hash, cosignatures, health, metrics and an OpenAPI
//! description (`/openapi.json`) — with limits that keep one client from taking the
//! board from the others (spec/13-http.md), and a graceful shutdown that loses nothing.
//!
//! What it must never do: decide what a record means (the board does), log personal data
//! (no client addresses, no record contents), or block the async runtime on a disk sync.

#![deny(unsafe_code)]
// Handlers return axum `Response`s as their error type: that is the error the client gets.
#![allow(clippy::result_large_err)]

mod checkpoints;
mod config;
mod errors;
mod limits;
mod metrics;
mod proofs;
mod public;
mod push;
mod reads;
mod routes;
mod state;
mod submission;
mod submit;

pub use config::{ServerConfig, board_origin};
pub use push::PushWitness;
pub use routes::{router, serve};
pub use state::AppState;

/// Sends the service's logs (one JSON line per request: method, route template,
/// status, latency; never a client address or record contents) to stderr. Does
/// nothing if the process already has a subscriber.
pub fn json_logs() {
    let _ = tracing_subscriber::fmt()
        .json()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::INFO)
        .try_init();
}
