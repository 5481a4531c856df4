//! Strict decoding of record bodies: every field named in its error, a version byte
//! first, nothing left over at the end (spec/20-ceremony.md §20.3).

use core::fmt;

use urne_crypto::proofs::{DleqProof, SchnorrProof};
use urne_crypto::{DecodeErrorKind, Point, Scalar};

/// What was wrong with a field.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeProblem {
    /// The body ends inside this field.
    Truncated {
        /// Bytes the field needs.
        needed: usize,
        /// Bytes that were left.
        remaining: usize,
    },
    /// Bytes after the last field.
    TrailingBytes {
        /// How many.
        count: usize,
    },
    /// A version byte this implementation does not know.
    UnsupportedVersion {
        /// The byte found.
        found: u8,
    },
    /// A point, scalar or proof that is not canonical, or the identity where it is refused.
    Encoding(DecodeErrorKind),
    /// A count or index outside its bounds, or out of order.
    OutOfBounds {
        /// Which bound.
        detail: &'static str,
    },
}

impl fmt::Display for DecodeProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated { needed, remaining } => {
                write!(f, "truncated: needs {needed} bytes, {remaining} left")
            }
            Self::TrailingBytes { count } => write!(f, "{count} trailing bytes"),
            Self::UnsupportedVersion { found } => write!(f, "unsupported version {found}"),
            Self::Encoding(kind) => write!(f, "{kind:?}"),
            Self::OutOfBounds { detail } => write!(f, "out of bounds: {detail}"),
        }
    }
}

/// A record body that failed to decode: which record, which field, what was wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{record} body, field `{field}`: {problem}")]
pub struct DecodeError {
    /// The record body's name (`ceremony.commitments`).
    pub record: &'static str,
    /// The field path (`coefficients[2].proof.z`).
    pub field: String,
    /// What was wrong.
    pub problem: DecodeProblem,
}

pub(crate) struct Reader<'a> {
    record: &'static str,
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(record: &'static str, bytes: &'a [u8]) -> Self {
        Self {
            record,
            rest: bytes,
        }
    }

    pub(crate) fn error(&self, field: impl Into<String>, problem: DecodeProblem) -> DecodeError {
        DecodeError {
            record: self.record,
            field: field.into(),
            problem,
        }
    }

    fn take(&mut self, field: &dyn Fn() -> String, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.rest.len() < n {
            return Err(self.error(
                field(),
                DecodeProblem::Truncated {
                    needed: n,
                    remaining: self.rest.len(),
                },
            ));
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    pub(crate) fn version(&mut self, expected: u8) -> Result<(), DecodeError> {
        let found = self.take(&|| "version".into(), 1)?[0];
        if found != expected {
            return Err(self.error("version", DecodeProblem::UnsupportedVersion { found }));
        }
        Ok(())
    }

    pub(crate) fn u8(&mut self, field: &dyn Fn() -> String) -> Result<u8, DecodeError> {
        Ok(self.take(field, 1)?[0])
    }

    pub(crate) fn u16(&mut self, field: &dyn Fn() -> String) -> Result<u16, DecodeError> {
        let b = self.take(field, 2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub(crate) fn u32(&mut self, field: &dyn Fn() -> String) -> Result<u32, DecodeError> {
        let b = self.take(field, 4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(crate) fn array<const N: usize>(
        &mut self,
        field: &dyn Fn() -> String,
    ) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(field, N)?);
        Ok(out)
    }

    /// A trustee index: 1 ≤ index ≤ `n` (or ≤ [`crate::MAX_TRUSTEES`] where n is not known).
    pub(crate) fn trustee(
        &mut self,
        field: &dyn Fn() -> String,
        n: u16,
    ) -> Result<u16, DecodeError> {
        let index = self.u16(field)?;
        if index == 0 || index > n {
            return Err(self.error(
                field(),
                DecodeProblem::OutOfBounds {
                    detail: "trustee index must be in 1..=n",
                },
            ));
        }
        Ok(index)
    }

    pub(crate) fn point_non_identity(
        &mut self,
        field: &dyn Fn() -> String,
    ) -> Result<Point, DecodeError> {
        let bytes = self.take(field, 32)?;
        Point::decode_non_identity(bytes)
            .map_err(|e| self.error(field(), DecodeProblem::Encoding(e.kind().clone())))
    }

    pub(crate) fn point(&mut self, field: &dyn Fn() -> String) -> Result<Point, DecodeError> {
        let bytes = self.take(field, 32)?;
        Point::decode(bytes)
            .map_err(|e| self.error(field(), DecodeProblem::Encoding(e.kind().clone())))
    }

    pub(crate) fn scalar(&mut self, field: &dyn Fn() -> String) -> Result<Scalar, DecodeError> {
        let bytes = self.take(field, 32)?;
        Scalar::decode(bytes)
            .map_err(|e| self.error(field(), DecodeProblem::Encoding(e.kind().clone())))
    }

    pub(crate) fn schnorr(
        &mut self,
        field: &dyn Fn() -> String,
    ) -> Result<SchnorrProof, DecodeError> {
        let bytes = self.take(field, SchnorrProof::LEN)?;
        SchnorrProof::decode(bytes).map_err(|e| {
            self.error(
                format!("{}.{}", field(), e.field()),
                DecodeProblem::Encoding(e.kind().clone()),
            )
        })
    }

    pub(crate) fn dleq(&mut self, field: &dyn Fn() -> String) -> Result<DleqProof, DecodeError> {
        let bytes = self.take(field, DleqProof::LEN)?;
        DleqProof::decode(bytes).map_err(|e| {
            self.error(
                format!("{}.{}", field(), e.field()),
                DecodeProblem::Encoding(e.kind().clone()),
            )
        })
    }

    pub(crate) fn finish(self) -> Result<(), DecodeError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(self.error(
                "",
                DecodeProblem::TrailingBytes {
                    count: self.rest.len(),
                },
            ))
        }
    }
}

/// A field name that is only formatted when an error is reported.
pub(crate) fn name(field: &'static str) -> impl Fn() -> String {
    move || field.to_owned()
}
