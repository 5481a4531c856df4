//! The bulletin board.
//!
//! What it is for: [`record`] (pure, no storage) defines the signed record envelope and
//! its canonical bytes; [`kinds`] the registry of record kinds — who may post each, in
//! which phase of its context — and the [`kinds::Validator`] trait through which the
//! election, petition and assembly crates plug in their checks; [`board::Board`] accepts
//! a record only after every check passed, appends it durably through `urne-store`,
//! signs checkpoints over durable entries and gathers witness cosignatures.
//!
//! What it must never do: acknowledge a record before it is durable, re-serialise a
//! record (the bytes received are the bytes stored, hashed and served), or answer a
//! rejection without saying what was wrong and where. The verifier does not depend on
//! this crate's acceptance path — only on [`record`], which is pure.

#![deny(unsafe_code)]

pub mod board;
pub mod error;
pub mod kinds;
pub mod record;

pub use board::{Board, BoardConfig, Receipt};
pub use error::Rejection;
pub use record::{ContextId, Kind, Phase, Record};
