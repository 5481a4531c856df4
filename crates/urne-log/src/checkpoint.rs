//! C2SP tlog-checkpoint bodies: origin, tree size, base64 root hash, optional extension
//! lines, each newline-terminated.

use core::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::hash::Hash;
use crate::note::{Note, NoteError, NoteVerifier};

/// A checkpoint: the log's tree head at one size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's identity (its origin line).
    pub origin: String,
    /// Number of leaves.
    pub size: u64,
    /// RFC 6962 root hash at that size.
    pub root: Hash,
    /// Opaque extension lines (non-empty each).
    pub extensions: Vec<String>,
}

/// Why a checkpoint text was refused; `line` is 1-based.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The text does not end in a newline.
    NoFinalNewline,
    /// Fewer than three lines.
    TooShort,
    /// A line is not what the format requires.
    BadLine {
        /// Line number.
        line: usize,
        /// What is wrong.
        detail: &'static str,
    },
    /// The signed note around it did not verify.
    Note(NoteError),
}

impl fmt::Display for CheckpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoFinalNewline => f.write_str("checkpoint text does not end in a newline"),
            Self::TooShort => f.write_str("checkpoint has fewer than three lines"),
            Self::BadLine { line, detail } => write!(f, "checkpoint line {line}: {detail}"),
            Self::Note(e) => write!(f, "checkpoint note: {e}"),
        }
    }
}

impl std::error::Error for CheckpointError {}

impl From<NoteError> for CheckpointError {
    fn from(e: NoteError) -> Self {
        Self::Note(e)
    }
}

impl Checkpoint {
    /// The note text.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root.0)
        );
        for line in &self.extensions {
            out.push_str(line);
            out.push('\n');
        }
        out
    }

    /// Parses a note text strictly.
    pub fn parse(text: &str) -> Result<Self, CheckpointError> {
        let body = text
            .strip_suffix('\n')
            .ok_or(CheckpointError::NoFinalNewline)?;
        let lines: Vec<&str> = body.split('\n').collect();
        if lines.len() < 3 {
            return Err(CheckpointError::TooShort);
        }
        let bad = |line, detail| CheckpointError::BadLine { line, detail };
        let origin = lines[0];
        if origin.is_empty() || origin.chars().any(|c| c.is_whitespace() || c == '+') {
            return Err(bad(1, "origin must be non-empty, without spaces or '+'"));
        }
        let size_text = lines[1];
        if size_text.is_empty()
            || !size_text.bytes().all(|b| b.is_ascii_digit())
            || (size_text.len() > 1 && size_text.starts_with('0'))
        {
            return Err(bad(
                2,
                "tree size must be a decimal number without leading zeros",
            ));
        }
        let size = size_text
            .parse()
            .map_err(|_| bad(2, "tree size does not fit 64 bits"))?;
        let root_bytes = STANDARD
            .decode(lines[2])
            .map_err(|_| bad(3, "root hash is not canonical base64"))?;
        let root = Hash::from_slice(&root_bytes).ok_or(bad(3, "root hash is not 32 bytes"))?;
        let mut extensions = Vec::new();
        for (i, line) in lines[3..].iter().enumerate() {
            if line.is_empty() {
                return Err(bad(4 + i, "extension lines must be non-empty"));
            }
            extensions.push((*line).to_owned());
        }
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root,
            extensions,
        })
    }

    /// Verifies the log's signature on a signed checkpoint note and parses it; also
    /// requires the origin to be the log key's name.
    pub fn open(note: &Note, log: &NoteVerifier) -> Result<Self, CheckpointError> {
        log.verify(note)?;
        let checkpoint = Self::parse(note.text())?;
        if checkpoint.origin != log.name() {
            return Err(CheckpointError::BadLine {
                line: 1,
                detail: "origin is not the log key's name",
            });
        }
        Ok(checkpoint)
    }
}
