use std::fmt;
use std::path::PathBuf;

use urne_log::Hash;

/// What went wrong in storage. I/O errors name the file.
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreError {
    /// An I/O error on a file.
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The index database failed.
    Index(String),
    /// Stored data is damaged in a way that truncation cannot repair (acknowledged,
    /// checkpointed data).
    Corrupt {
        /// Which file or structure.
        what: &'static str,
        /// What was found.
        detail: String,
    },
    /// The log does not have the root its last checkpoint states: refuse to serve it.
    ContradictsCheckpoint {
        /// The checkpoint's tree size.
        size: u64,
        /// The checkpoint's root.
        expected: Hash,
        /// The root the log has at that size (None if the log is shorter).
        found: Option<Hash>,
    },
    /// A record longer than [`crate::MAX_RECORD_BYTES`] or empty.
    RecordSize {
        /// Its length.
        len: usize,
    },
    /// An entry index or range outside the log.
    OutOfRange {
        /// What was asked.
        detail: String,
    },
    /// The writer is gone (the store was closed): nothing more is appended.
    Failed,
    /// The store stopped accepting records (fail-stop): a write or sync failed, or the
    /// scrub or a check before signing found derived data that disagrees with the log.
    /// Reopen (after `urne fsck`) to recover.
    Stopped {
        /// Why.
        reason: String,
    },
    /// The checkpoint handed to `save_checkpoint` does not match the log.
    BadCheckpoint(String),
    /// Another process (or store) has this data directory open.
    Locked {
        /// The data directory.
        path: PathBuf,
    },
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Self::Index(e) => write!(f, "index: {e}"),
            Self::Corrupt { what, detail } => write!(f, "{what} is corrupt: {detail}"),
            Self::ContradictsCheckpoint {
                size,
                expected,
                found,
            } => match found {
                Some(found) => write!(
                    f,
                    "log root at size {size} is {found}, its last checkpoint says {expected}"
                ),
                None => write!(f, "log is shorter than its last checkpoint (size {size})"),
            },
            Self::RecordSize { len } => {
                write!(
                    f,
                    "record of {len} bytes (must be 1 to {} bytes)",
                    crate::MAX_RECORD_BYTES
                )
            }
            Self::OutOfRange { detail } => f.write_str(detail),
            Self::Failed => f.write_str("the store is closed; it accepts no more records"),
            Self::Stopped { reason } => write!(
                f,
                "storage stopped accepting records ({reason}); restart after checking it with `urne fsck`"
            ),
            Self::BadCheckpoint(e) => write!(f, "checkpoint: {e}"),
            Self::Locked { path } => {
                write!(f, "{} is in use by another board process", path.display())
            }
        }
    }
}

impl std::error::Error for StoreError {}

pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_owned(),
        source,
    }
}
