//! The board's HTTP service.
//!
//! What it is for: serving one [`urne_board::Board`] over HTTP — submitting records,
//! the C2SP tlog-tiles read paths (`/checkpoint`, `/tile/...`) that any static server or
//! CDN can mirror, proofs, records by hash, cosignatures, health, metrics and an OpenAPI
//! description (`/openapi.json`) — with limits on body size, concurrent requests, time
//! per request and per-client rate, and a graceful shutdown that loses nothing.
//!
//! What it must never do: decide what a record means (the board does), log personal data
//! (no client addresses, no record contents), or block the async runtime on a disk sync.

#![deny(unsafe_code)]
// Handlers return axum `Response`s as their error type: that is the error the client gets.
#![allow(clippy::result_large_err)]

mod api;
mod limits;
mod metrics;
mod push;

pub use api::{AppState, ServerConfig, router, serve};
pub use push::PushWitness;
