//! Errors, each naming what was wrong and where.

/// A petition record refused: the check that failed and the field at fault.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PetitionError {
    /// A body that does not decode or check.
    #[error("{field}: {reason}")]
    Invalid {
        /// The field (`body.signature`, `body.bucket`).
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// A record in a phase that does not take it.
    #[error("{kind} is not accepted while the petition is {phase}")]
    WrongPhase {
        /// The kind's name.
        kind: &'static str,
        /// The phase's name.
        phase: &'static str,
    },
    /// A record by someone who may not post it.
    #[error("{0}")]
    NotAuthorized(String),
    /// A tag already used: the record that used it is named, so the refusal is the
    /// evidence of the attempt (spec/32 §32.6).
    #[error("{field}: {reason}")]
    AlreadyUsed {
        /// The field (`body.signature.tag`).
        field: String,
        /// Which earlier record holds it.
        reason: String,
    },
}

impl PetitionError {
    pub(crate) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// The field at fault.
    pub fn field(&self) -> &str {
        match self {
            Self::Invalid { field, .. } | Self::AlreadyUsed { field, .. } => field,
            // A move its type does not allow is the body's fault (spec/12 §12.3).
            Self::WrongPhase {
                kind: "context.phase",
                ..
            } => "body",
            Self::WrongPhase { .. } => "kind",
            Self::NotAuthorized(_) => "signer",
        }
    }
}

/// What [`crate::recount`] found wrong: the record, the field, why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("record #{index}: {field}: {reason}")]
pub struct Violation {
    /// The record's index in the log.
    pub index: u64,
    /// The field at fault.
    pub field: String,
    /// Why.
    pub reason: String,
}
