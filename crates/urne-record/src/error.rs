//! Why a record, or the body of a built-in kind, was refused. Each error names the
//! field at fault (spec/12-records.md §12.5) and carries a stable code; it carries no
//! transport status: the server maps codes to HTTP.

use crate::context::NameError;

/// A record or built-in body that does not parse or does not verify.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// Shorter than an envelope around an empty body.
    #[error("{len} bytes is shorter than an empty envelope (135 bytes)")]
    TooShort {
        /// The record's length.
        len: usize,
    },
    /// Longer than the log allows.
    #[error("record of {len} bytes exceeds the 65,535-byte limit")]
    TooLarge {
        /// The record's length.
        len: usize,
    },
    /// A version this parser does not know.
    #[error("unsupported record version {0}")]
    Version(u8),
    /// The declared body length disagrees with the record's length.
    #[error("body length {declared} does not match the record's {actual} bytes")]
    BodyLength {
        /// The body length the envelope declares.
        declared: u32,
        /// The record's length.
        actual: usize,
    },
    /// The signer field is not an Ed25519 public key.
    #[error("the signer is not a valid Ed25519 public key")]
    SignerKey,
    /// The signature does not verify (`verify_strict`).
    #[error("the signature does not verify under the signer's key")]
    Signature,
    /// A built-in body (`context.open`, `context.phase`) is malformed.
    #[error("{reason}")]
    Body {
        /// The body field at fault.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A context name breaks the naming rules.
    #[error("context name: {0}")]
    Name(#[from] NameError),
}

impl RecordError {
    /// The field at fault, as spec/12 names it.
    pub fn field(&self) -> &'static str {
        match self {
            Self::TooShort { .. } | Self::TooLarge { .. } => "record",
            Self::Version(_) => "version",
            Self::BodyLength { .. } => "body_length",
            Self::SignerKey => "signer",
            Self::Signature => "signature",
            Self::Body { field, .. } => field,
            Self::Name(_) => "body.name",
        }
    }

    /// The stable code of spec/12 §12.5: `too-large`, `malformed`, `bad-signature` or
    /// `invalid-body`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "too-large",
            Self::TooShort { .. } | Self::Version(_) | Self::BodyLength { .. } => "malformed",
            Self::SignerKey | Self::Signature => "bad-signature",
            Self::Body { .. } | Self::Name(_) => "invalid-body",
        }
    }

    pub(crate) fn body(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Body {
            field,
            reason: reason.into(),
        }
    }
}
