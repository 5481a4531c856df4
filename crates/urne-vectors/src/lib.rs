//! urne's golden test vectors: made by [`generate`], checked by [`check`]
//! (spec/07-vectors.md).
//!
//! Generation is deterministic: every key, nonce and message comes from
//! SHA-512("urne/v1/test-vectors/" ‖ name) reduced mod ℓ, so the files regenerate byte
//! for byte. Checking uses only the files and urne-crypto's public API: it recomputes
//! every proof from its nonces, verifies it, and requires every negative case to fail
//! the way it says.

mod ballots;
mod budget;
mod ceremony;
pub mod check;
mod credentials;
mod forge;
mod generate;
mod names;
mod petition;
mod rng;
pub mod schema;
mod tally;
mod triptych;

pub use generate::generate;

/// A vector file: its name under `vectors/` and its contents.
pub struct VectorFile {
    /// File name, e.g. `schnorr.json`.
    pub name: &'static str,
    /// Pretty-printed JSON with a final newline.
    pub contents: String,
}
