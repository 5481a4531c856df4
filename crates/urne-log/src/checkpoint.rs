//! C2SP tlog-checkpoint bodies: origin, tree size, base64 root hash, optional extension
//! lines, each newline-terminated.

use core::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::hash::Hash;
use crate::note::{Note, NoteError, NoteVerifier};

/// A checkpoint: the log's tree head at one size. The fields are private so that every
/// `Checkpoint` in existence passed the format's rules (spec/10-log.md §10.2): one made
/// with [`Checkpoint::new`] always writes a text that [`Checkpoint::parse`] accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    origin: String,
    size: u64,
    root: Hash,
    extensions: Vec<String>,
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

const ORIGIN_RULE: &str = "origin must be non-empty, without spaces, control characters or '+'";
const EXTENSION_RULE: &str = "extension lines must be non-empty, without control characters";

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

/// An origin: non-empty, no whitespace, no `+`, no control character — the rules of a
/// note key name, since the origin is the log key's name.
fn valid_origin(origin: &str) -> bool {
    crate::note::valid_key_name(origin)
}

/// An extension line: non-empty, no control character (so no newline either).
fn valid_extension(line: &str) -> bool {
    !line.is_empty() && !line.chars().any(char::is_control)
}

impl Checkpoint {
    /// A checkpoint from its parts; refuses an origin or an extension line the format
    /// does not allow (reported as the line it would occupy in the text).
    pub fn new(
        origin: &str,
        size: u64,
        root: Hash,
        extensions: Vec<String>,
    ) -> Result<Self, CheckpointError> {
        if !valid_origin(origin) {
            return Err(CheckpointError::BadLine {
                line: 1,
                detail: ORIGIN_RULE,
            });
        }
        if let Some(i) = extensions.iter().position(|l| !valid_extension(l)) {
            return Err(CheckpointError::BadLine {
                line: i.saturating_add(4),
                detail: EXTENSION_RULE,
            });
        }
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root,
            extensions,
        })
    }

    /// The log's identity (its origin line).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// RFC 6962 root hash at that size.
    pub fn root(&self) -> &Hash {
        &self.root
    }

    /// Opaque extension lines.
    pub fn extensions(&self) -> &[String] {
        &self.extensions
    }

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
        let bad = |line, detail| CheckpointError::BadLine { line, detail };
        let (origin, size_text, root_text, extensions) = match lines.as_slice() {
            [origin, size, root, extensions @ ..] => (*origin, *size, *root, extensions),
            _ => return Err(CheckpointError::TooShort),
        };
        if !valid_origin(origin) {
            return Err(bad(1, ORIGIN_RULE));
        }
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
            .decode(root_text)
            .map_err(|_| bad(3, "root hash is not canonical base64"))?;
        let root = Hash::from_slice(&root_bytes).ok_or(bad(3, "root hash is not 32 bytes"))?;
        Self::new(
            origin,
            size,
            root,
            extensions.iter().map(|l| (*l).to_owned()).collect(),
        )
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

/// The checkpoint origin tlog-tiles recommends for a log served at `prefix`: the URL
/// prefix with its scheme and trailing slashes removed (`https://board.example/urne/` →
/// `board.example/urne`), spec/10 §10.2. Only `http` and `https` prefixes are logs'
/// URLs; a query or a fragment is not part of a prefix.
pub fn origin_of_prefix(prefix: &str) -> Result<String, &'static str> {
    let (scheme, rest) = prefix
        .split_once("://")
        .ok_or("the URL prefix has no scheme (http:// or https://)")?;
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return Err("the URL prefix's scheme is not http or https");
    }
    if rest.contains(['?', '#']) {
        return Err("a URL prefix holds no query or fragment");
    }
    if rest.contains('@') {
        return Err("a URL prefix holds no user name or password");
    }
    let origin = rest.trim_end_matches('/');
    if origin.is_empty() || origin.starts_with('/') {
        return Err("the URL prefix has no host");
    }
    if !valid_origin(origin) {
        return Err(ORIGIN_RULE);
    }
    Ok(origin.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_origin_of_a_prefix_drops_the_scheme_and_trailing_slashes() {
        assert_eq!(
            origin_of_prefix("https://rome.ct.example.com/tevere/"),
            Ok("rome.ct.example.com/tevere".to_owned())
        );
        assert_eq!(
            origin_of_prefix("http://127.0.0.1:8400"),
            Ok("127.0.0.1:8400".to_owned())
        );
        assert_eq!(
            origin_of_prefix("HTTPS://board.example//"),
            Ok("board.example".to_owned())
        );
        assert_eq!(
            origin_of_prefix("http://[::1]:8400/urne"),
            Ok("[::1]:8400/urne".to_owned())
        );
        for bad in [
            "board.example/urne",
            "ftp://board.example",
            "https://",
            "https:///path",
            "https://board.example/a b",
            "https://board.example/a+b",
            "https://board.example/?x=1",
            "https://board.example/#top",
            "https://user:pw@board.example",
        ] {
            let refused = origin_of_prefix(bad);
            assert!(refused.is_err(), "{bad} gave {refused:?}");
        }
    }
}
