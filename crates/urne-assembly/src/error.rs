//! Why an assembly record was refused: each error names the record kind and the field.

/// A record the assembly's rules refuse (spec/40 §40.10). Every variant names the record
/// kind (`vote`) and the field at fault (`body.choice`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AssemblyError {
    /// The kind is not accepted in the sitting's current phase.
    #[error("{kind} is not accepted in the sitting's {phase} phase")]
    WrongPhase {
        /// The record kind.
        kind: &'static str,
        /// The sitting's phase name.
        phase: &'static str,
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
        /// The field at fault, as spec/40 names it.
        field: String,
        /// What is wrong.
        detail: String,
    },
    /// A key the record would take is taken (a member's vote under "first cast is final").
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

impl AssemblyError {
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

    /// The field at fault.
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
