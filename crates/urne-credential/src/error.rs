//! Errors, each naming what was wrong and where.

/// A credential, list or signature that does not decode or check.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialError {
    /// A credential string of the wrong length (after removing separators).
    #[error("a credential has {expected} characters (not counting dashes), not {found}")]
    Length {
        /// Characters expected.
        expected: usize,
        /// Characters found.
        found: usize,
    },
    /// A character outside the credential alphabet.
    #[error(
        "character {position} of the credential, {found:?}, is not in the alphabet (no 0, O, I or l)"
    )]
    Character {
        /// Its position, from 1.
        position: usize,
        /// The character.
        found: char,
    },
    /// The checksum does not match: a typing mistake.
    #[error("the credential's checksum does not match: check for a typing mistake")]
    Checksum,
    /// Bytes that do not decode.
    #[error("{field}: {reason}")]
    Decode {
        /// The field at fault (`entries[12].credential`).
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// A list whose entries are not strictly increasing.
    #[error("entries[{index}]: the list must be sorted by credential and without duplicates")]
    Order {
        /// The first entry out of order.
        index: u64,
    },
    /// A list whose parts do not fit together.
    #[error("{0}")]
    Parts(String),
    /// A signature that does not verify.
    #[error("the ballot signature does not verify under the credential")]
    Signature,
}

impl CredentialError {
    pub(crate) fn decode(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Decode {
            field: field.into(),
            reason: reason.into(),
        }
    }
}
