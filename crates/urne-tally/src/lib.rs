//! The tally of an election (spec/24-tally.md): the last ballot of each credential counts,
//! the counted ballots are summed homomorphically per contest and option with each
//! credential's weight, any t trustees' decryption shares open the sums, and the counts
//! are the discrete logs of the results within a bound set by the counted weight.
//!
//! A [`TallyResult`] carries the encrypted sums next to the counts so that
//! [`verify_result`] can recheck everything from the public board: the revote
//! resolution, the aggregation, each trustee's shares, their combination and each count.
//! Ballot proofs and signatures are not rechecked here: the board checks them on arrival
//! and the verifier checks them as a step of its own (spec/21).
//!
//! Pure: no I/O, and no panic on anything read from outside.

mod codec;
mod error;
mod funding;
mod result;
mod tally;

pub use codec::DecodeError;
pub use error::{Entry, Position, TallyError};
pub use funding::{Funding, check_fundings};
pub use result::{TallyResult, check_opening, decrypt_sums, decrypt_tally, verify_result};
pub use tally::{Aggregation, EncryptedTally, Resolution, Superseded, aggregate, resolve_revotes};

/// Version byte of the [`EncryptedTally`] and [`TallyResult`] encodings.
pub const TALLY_VERSION: u8 = 1;
/// Version byte of a [`TallyResult`] of an election with a budget contest: the counts
/// are followed by the funded projects (spec/24 §24.5).
pub const TALLY_VERSION_FUNDED: u8 = 2;
