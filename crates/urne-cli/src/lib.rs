//! The library side of the `urne` command: what its tests reach without a process — the
//! demo election and the verifier that re-checks its board from the log alone.
//!
//! What it must never do: print (the binary prints), or report a result it did not
//! verify.

#![deny(unsafe_code)]

pub mod assembly;
pub mod ballot_bench;
pub mod conformance;
pub mod demo;
pub mod measure;
pub mod verify_bench;
