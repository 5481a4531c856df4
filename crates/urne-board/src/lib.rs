//! The bulletin board.
//!
//! What it is for: accepting signed records (the envelope is urne-record's) only after
//! every check passed, appending them durably through urne-store, keeping each
//! context's state, signing checkpoints over durable entries and gathering witness
//! cosignatures. [`handler`] is the kind API through which the election, petition and
//! assembly crates plug in their record kinds and context types; [`builtin`] has the
//! kinds every board knows; [`board::Board`] runs the acceptance pipeline.
//!
//! What it must never do: acknowledge a record before it is durable, re-serialise a
//! record (the bytes received are the bytes stored, hashed and served), keep state that
//! the log alone does not determine, or answer a rejection without saying what was
//! wrong and where. The verifier does not depend on this crate: only on urne-record and
//! the domain crates.

#![deny(unsafe_code)]

pub mod assembly;
pub mod board;
pub mod builtin;
pub mod election;
pub mod error;
pub mod handler;
pub mod petition;
mod pipeline;
mod state;

pub use board::{Board, BoardConfig, BoardError, Receipt};
pub use builtin::LinearMachine;
pub use error::{Code, Rejection};
pub use handler::{
    ContextMachine, ContextMut, ContextSummary, ContextView, KindHandler, Poster, Prechecked,
    Registry, Scope, Sequencing, UniqueKey,
};
pub use urne_record::{ContextId, ContextOpen, ContextPhase, ContextType, Kind, Record, kinds};
