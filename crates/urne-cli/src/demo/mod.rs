//! `urne demo`: a whole election on an embedded board, then its verification from the
//! board's log alone.
//!
//! The authority opens an election, three trustees run a 2-of-3 key ceremony on the
//! board, the registrar posts the credentials of N voters, the voters cast ballots
//! (some audit one first, some vote again) through the board's real acceptance path,
//! voting closes, trustees 1 and 3 decrypt (trustee 2 stays away), the result is posted;
//! then [`verify::verify_log`] re-checks everything from the log's bytes and the signed
//! checkpoint, and the published counts are compared with the count the demo kept in
//! the clear. Any disagreement is an error: the demo never prints a result it did not
//! verify.

pub mod anonymous;
pub mod budget;
mod election;
pub mod progress;
pub mod trustees;
pub mod verify;
pub mod voters;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use election::{
    BoardLog, DEMO_ORIGIN, DemoOutcome, HeldElection, UncheckedLog, check_against_plaintext,
    hold_election, hold_planned_election, hold_planned_election_on, run_election, run_election_on,
};
pub(crate) use election::{ballot_record, open_for_voting, random_key, tally};
pub use verify::{Verified, VerifyError, verify_directory, verify_log};

/// Why the demo stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DemoError {
    /// The demo's own set-up failed (directory, keys, manifest, encryption).
    #[error("set-up: {0}")]
    Setup(String),
    /// The board could not be opened or refused a record the demo made.
    #[error("board: {0}")]
    Board(String),
    /// The key ceremony failed.
    #[error("key ceremony: {0}")]
    Ceremony(String),
    /// The tally failed.
    #[error("tally: {0}")]
    Tally(String),
    /// The verification of the board found a fault.
    #[error("VERIFICATION FAILED: {0}")]
    Verification(#[from] VerifyError),
    /// The verified result is not the count the demo kept in the clear.
    #[error("RESULT MISMATCH: {0}")]
    Mismatch(String),
}

/// What `urne demo` is asked to do.
#[derive(Clone, Debug)]
pub struct DemoOptions {
    /// How many voters.
    pub voters: usize,
    /// Where the board's data goes; None: a fresh temporary directory.
    pub dir: Option<PathBuf>,
    /// Keep the temporary directory at the end.
    pub keep: bool,
}

/// Where the demo's board lives, and whether it is removed at the end.
pub struct DemoDir {
    path: PathBuf,
    remove: bool,
}

impl DemoDir {
    /// `dir` if given (it must not hold a board already: the demo's keys are fresh),
    /// else a new directory under the system's temporary directory, removed on drop
    /// unless `keep`.
    pub fn new(dir: Option<&Path>, keep: bool) -> Result<Self, DemoError> {
        match dir {
            Some(path) => {
                if path.exists()
                    && std::fs::read_dir(path)
                        .map_err(|e| DemoError::Setup(format!("{}: {e}", path.display())))?
                        .next()
                        .is_some()
                {
                    return Err(DemoError::Setup(format!(
                        "--dir {}: the directory is not empty; the demo needs a new or empty one",
                        path.display()
                    )));
                }
                std::fs::create_dir_all(path)
                    .map_err(|e| DemoError::Setup(format!("{}: {e}", path.display())))?;
                Ok(Self {
                    path: path.to_owned(),
                    remove: false,
                })
            }
            None => {
                let mut suffix = [0u8; 8];
                rand::Rng::fill_bytes(&mut rand::rng(), &mut suffix);
                let path = std::env::temp_dir().join(format!("urne-demo-{}", hex::encode(suffix)));
                std::fs::create_dir(&path)
                    .map_err(|e| DemoError::Setup(format!("{}: {e}", path.display())))?;
                Ok(Self {
                    path,
                    remove: !keep,
                })
            }
        }
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether it is removed at the end.
    pub fn removed_at_end(&self) -> bool {
        self.remove
    }
}

impl Drop for DemoDir {
    fn drop(&mut self) {
        if self.remove {
            // Best effort: a temporary directory left behind is harmless.
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// Seconds with one decimal, for the timings table.
pub fn seconds(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}
