//! Why an election record was refused: each error names the record kind and the field.

use crate::phase::Phase;

/// An election record the election's rules refuse. Every variant names the record kind
/// (`ballot.cast`) and, where it concerns the body, the field (`body.ballot.context`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ElectionError {
    /// The kind is not accepted in the election's current phase (or ceremony round).
    #[error("{kind} is not accepted {detail} (the election is in its {phase} phase)")]
    WrongPhase {
        /// The record kind.
        kind: &'static str,
        /// The election's phase.
        phase: Phase,
        /// What would have been needed, or where it is now.
        detail: String,
    },
    /// The signer may not post this record.
    #[error("{kind}: {detail}")]
    NotAuthorized {
        /// The record kind.
        kind: &'static str,
        /// Who may post it.
        detail: String,
    },
    /// The body breaks a rule.
    #[error("{kind}, field {field}: {detail}")]
    Invalid {
        /// The record kind.
        kind: &'static str,
        /// The field at fault, as spec/23 names it.
        field: String,
        /// What is wrong.
        detail: String,
    },
    /// A key the record would take is taken (a tracking code, a trustee's one record).
    #[error("{kind}, field {field}: {detail}")]
    AlreadyUsed {
        /// The record kind.
        kind: &'static str,
        /// The field whose value is taken.
        field: String,
        /// What took it.
        detail: String,
    },
}

impl ElectionError {
    pub(crate) fn invalid(
        kind: &'static str,
        field: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        Self::Invalid {
            kind,
            field: field.into(),
            detail: detail.into(),
        }
    }

    /// The field at fault (`body` when the error concerns no one field).
    pub fn field(&self) -> &str {
        match self {
            Self::Invalid { field, .. } | Self::AlreadyUsed { field, .. } => field,
            Self::WrongPhase { .. } => "kind",
            Self::NotAuthorized { .. } => "signer",
        }
    }

    /// The record kind refused.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Invalid { kind, .. }
            | Self::AlreadyUsed { kind, .. }
            | Self::WrongPhase { kind, .. }
            | Self::NotAuthorized { kind, .. } => kind,
        }
    }
}
