//! Strict reading of the byte encodings of spec/21-ballots.md, with errors that name the
//! field at fault as a path (`contests[1].options[3].proof.branches[0].z`).

use core::fmt;

use urne_crypto::{Ciphertext, DecodeErrorKind};

/// What was wrong with an encoding.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// The input ends before the field does.
    Truncated {
        /// Bytes the field needs.
        needed: usize,
        /// Bytes that were left.
        remaining: usize,
    },
    /// Bytes remain after the last field.
    TrailingBytes {
        /// How many.
        count: usize,
    },
    /// A version byte this implementation does not know.
    UnsupportedVersion {
        /// The byte found.
        found: u8,
    },
    /// A tag byte (contest kind, sum proof kind, flag) outside the defined values.
    UnknownTag {
        /// The byte found.
        found: u8,
    },
    /// A count, length or parameter outside its bounds.
    OutOfBounds {
        /// The bound, in words.
        detail: &'static str,
    },
    /// A text field that is not UTF-8, or holds control characters.
    BadText,
    /// A cryptographic value (point, scalar, proof) failed its own strict decoding.
    Crypto(DecodeErrorKind),
}

/// A decoding failure: which field, and what was wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    field: String,
    problem: Problem,
}

impl DecodeError {
    pub(crate) fn new(field: impl Into<String>, problem: Problem) -> Self {
        Self {
            field: field.into(),
            problem,
        }
    }

    /// The field at fault, as a path from the top of the encoding.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// What was wrong with it.
    pub fn problem(&self) -> &Problem {
        &self.problem
    }

    /// A crypto decoding error found inside `outer`.
    pub(crate) fn crypto(outer: &str, error: urne_crypto::DecodeError) -> Self {
        let field = if error.field().is_empty() {
            outer.to_owned()
        } else {
            format!("{outer}.{}", error.field())
        };
        Self::new(field, Problem::Crypto(error.kind().clone()))
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "field `{}`: ", self.field)?;
        match &self.problem {
            Problem::Truncated { needed, remaining } => {
                write!(f, "truncated ({needed} bytes needed, {remaining} left)")
            }
            Problem::TrailingBytes { count } => write!(f, "{count} bytes after the end"),
            Problem::UnsupportedVersion { found } => write!(f, "unsupported version {found}"),
            Problem::UnknownTag { found } => write!(f, "unknown tag {found}"),
            Problem::OutOfBounds { detail } => write!(f, "out of bounds: {detail}"),
            Problem::BadText => f.write_str("not UTF-8 text without control characters"),
            Problem::Crypto(kind) => match kind {
                DecodeErrorKind::WrongLength { expected, found } => {
                    write!(f, "expected {expected} bytes, found {found}")
                }
                DecodeErrorKind::NonCanonicalPoint => {
                    f.write_str("not a canonical ristretto255 encoding")
                }
                DecodeErrorKind::NonCanonicalScalar => {
                    f.write_str("scalar is not canonical (must be < ℓ)")
                }
                DecodeErrorKind::IdentityPoint => {
                    f.write_str("the identity element is not allowed here")
                }
                DecodeErrorKind::UnsupportedVersion { found } => {
                    write!(f, "unsupported proof encoding version {found}")
                }
                DecodeErrorKind::OutOfBounds { detail } => write!(f, "out of bounds: {detail}"),
                other => write!(f, "{other:?}"),
            },
        }
    }
}

impl std::error::Error for DecodeError {}

/// Reads fields off the front of a byte string; `finish` insists nothing is left.
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    pub(crate) fn take(
        &mut self,
        n: usize,
        field: impl FnOnce() -> String,
    ) -> Result<&'a [u8], DecodeError> {
        if self.rest.len() < n {
            return Err(DecodeError::new(
                field(),
                Problem::Truncated {
                    needed: n,
                    remaining: self.rest.len(),
                },
            ));
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    pub(crate) fn array<const N: usize>(
        &mut self,
        field: impl FnOnce() -> String,
    ) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, field)?);
        Ok(out)
    }

    pub(crate) fn u8(&mut self, field: impl FnOnce() -> String) -> Result<u8, DecodeError> {
        Ok(self.array::<1>(field)?[0])
    }

    pub(crate) fn u16(&mut self, field: impl FnOnce() -> String) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array(field)?))
    }

    pub(crate) fn u32(&mut self, field: impl FnOnce() -> String) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array(field)?))
    }

    pub(crate) fn u64(&mut self, field: impl FnOnce() -> String) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array(field)?))
    }

    pub(crate) fn version(&mut self, expected: u8) -> Result<(), DecodeError> {
        let found = self.u8(|| "version".to_owned())?;
        if found != expected {
            return Err(DecodeError::new(
                "version",
                Problem::UnsupportedVersion { found },
            ));
        }
        Ok(())
    }

    /// A 0/1 flag; any other byte is refused so the encoding stays unique.
    pub(crate) fn flag(&mut self, field: impl Fn() -> String) -> Result<bool, DecodeError> {
        match self.u8(&field)? {
            0 => Ok(false),
            1 => Ok(true),
            found => Err(DecodeError::new(field(), Problem::UnknownTag { found })),
        }
    }

    /// u16 length ‖ UTF-8 without control characters.
    pub(crate) fn text(&mut self, field: impl Fn() -> String) -> Result<String, DecodeError> {
        let len = self.u16(&field)? as usize;
        let bytes = self.take(len, &field)?;
        let text =
            core::str::from_utf8(bytes).map_err(|_| DecodeError::new(field(), Problem::BadText))?;
        if !is_clean_text(text) {
            return Err(DecodeError::new(field(), Problem::BadText));
        }
        Ok(text.to_owned())
    }

    /// u32 length ‖ bytes, at most `max` of them.
    pub(crate) fn sized(
        &mut self,
        max: usize,
        field: impl Fn() -> String,
    ) -> Result<&'a [u8], DecodeError> {
        let len = self.u32(&field)? as usize;
        if len > max {
            return Err(DecodeError::new(
                field(),
                Problem::OutOfBounds {
                    detail: "length exceeds the largest proof of its kind",
                },
            ));
        }
        self.take(len, field)
    }

    pub(crate) fn ciphertext(
        &mut self,
        field: impl Fn() -> String,
    ) -> Result<Ciphertext, DecodeError> {
        let bytes = self.take(Ciphertext::LEN, &field)?;
        Ciphertext::decode(bytes).map_err(|e| DecodeError::crypto(&field(), e))
    }

    pub(crate) fn finish(self) -> Result<(), DecodeError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::new(
                "end",
                Problem::TrailingBytes {
                    count: self.rest.len(),
                },
            ))
        }
    }
}

/// Texts are shown to voters: refusing control, format and invisible characters keeps a
/// manifest from hiding lines, reordering what a screen shows, or making two options
/// look alike while their bytes differ.
pub(crate) fn is_clean_text(text: &str) -> bool {
    !text.chars().any(urne_record::hides_text)
}

pub(crate) fn put_text(out: &mut Vec<u8>, text: &str) {
    // Lengths were bounded when the value was built.
    out.extend_from_slice(&(text.len() as u16).to_be_bytes());
    out.extend_from_slice(text.as_bytes());
}

pub(crate) fn put_sized(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}
