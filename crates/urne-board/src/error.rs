//! Rejections: every refused record gets a stable machine code, a message, and the field
//! at fault (spec/12-records.md §12.5). No transport status: the server maps codes.

use urne_record::RecordError;

/// The stable code of a rejection (spec/12 §12.5); clients may match on its text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Code {
    /// The record is larger than the log allows.
    TooLarge,
    /// The envelope does not parse.
    Malformed,
    /// No such kind on this board.
    UnknownKind,
    /// The signature or the signer's key is bad.
    BadSignature,
    /// The same record is already on the board, or being appended.
    Duplicate,
    /// No such context.
    UnknownContext,
    /// The context already exists.
    ContextExists,
    /// The kind is not accepted in this context's type or phase.
    WrongPhase,
    /// The signer may not post this kind here.
    NotAuthorized,
    /// The body is not valid for its kind (including its proofs).
    InvalidBody,
    /// A unique key of the record (a petition tag, a vote) is already taken in its
    /// context.
    AlreadyUsed,
    /// Storage failed: nothing was acknowledged.
    Storage,
    /// The board is shutting down, or at its acceptance bound: nothing was stored, and
    /// the same record may be sent again.
    Unavailable,
    /// The answer was lost after the record was handed to the store: it may be on the
    /// board. Look it up by hash before sending it again.
    MaybeStored,
}

impl Code {
    /// The code's text (`wrong-phase`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TooLarge => "too-large",
            Self::Malformed => "malformed",
            Self::UnknownKind => "unknown-kind",
            Self::BadSignature => "bad-signature",
            Self::Duplicate => "duplicate",
            Self::UnknownContext => "unknown-context",
            Self::ContextExists => "context-exists",
            Self::WrongPhase => "wrong-phase",
            Self::NotAuthorized => "not-authorized",
            Self::InvalidBody => "invalid-body",
            Self::AlreadyUsed => "already-used",
            Self::Storage => "storage",
            Self::Unavailable => "unavailable",
            Self::MaybeStored => "maybe-stored",
        }
    }
}

impl core::fmt::Display for Code {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why the board refused a record: `code` is stable, the message is for people, `field`
/// names the part of the record at fault.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code}{}: {message}", field.as_deref().map(|f| format!(" ({f})")).unwrap_or_default())]
pub struct Rejection {
    /// Stable machine code.
    pub code: Code,
    /// What was wrong, for people.
    pub message: String,
    /// The field at fault, if one is.
    pub field: Option<String>,
}

impl From<RecordError> for Rejection {
    fn from(e: RecordError) -> Self {
        let code = match &e {
            RecordError::TooLarge { .. } => Code::TooLarge,
            RecordError::SignerKey | RecordError::Signature => Code::BadSignature,
            RecordError::Body { .. } | RecordError::Name(_) => Code::InvalidBody,
            _ => Code::Malformed,
        };
        debug_assert_eq!(
            code.as_str(),
            e.code(),
            "spec/12 gives each record error one code"
        );
        Self::new(code, Some(e.field()), e.to_string())
    }
}

impl Rejection {
    /// A rejection with its code, field and message.
    pub fn new(code: Code, field: Option<&str>, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            field: field.map(str::to_owned),
        }
    }

    /// The envelope does not parse.
    pub fn malformed(field: &str, message: impl Into<String>) -> Self {
        Self::new(Code::Malformed, Some(field), message)
    }

    /// The signature or signer key is bad.
    pub fn bad_signature(field: &str, message: impl Into<String>) -> Self {
        Self::new(Code::BadSignature, Some(field), message)
    }

    /// No such kind on this board.
    pub fn unknown_kind(kind: u16) -> Self {
        Self::new(
            Code::UnknownKind,
            Some("kind"),
            format!("record kind 0x{kind:04x} is not accepted by this board"),
        )
    }

    /// No such context.
    pub fn unknown_context(id: &str) -> Self {
        Self::new(
            Code::UnknownContext,
            Some("context"),
            format!("context {id} has not been opened"),
        )
    }

    /// The context already exists.
    pub fn context_exists(id: &str) -> Self {
        Self::new(
            Code::ContextExists,
            Some("context"),
            format!("context {id} is already open"),
        )
    }

    /// The context is in a phase (or of a type) where this kind is not accepted.
    pub fn wrong_phase(kind: &str, where_: &str) -> Self {
        Self::new(
            Code::WrongPhase,
            Some("kind"),
            format!("{kind} records are not accepted in {where_}"),
        )
    }

    /// The context's machine does not allow this move.
    pub fn wrong_phase_move(machine: &str, from: &str, to: &str) -> Self {
        Self::new(
            Code::WrongPhase,
            Some("body"),
            format!("this {machine} is in {from} and cannot move to {to}"),
        )
    }

    /// The signer may not post this kind here.
    pub fn not_authorized(message: impl Into<String>) -> Self {
        Self::new(Code::NotAuthorized, Some("signer"), message)
    }

    /// The same record is already on the board.
    pub fn duplicate(index: Option<u64>) -> Self {
        let message = match index {
            Some(i) => format!("this exact record is already on the board at index {i}"),
            None => "this exact record is already being appended".to_owned(),
        };
        Self::new(Code::Duplicate, None, message)
    }

    /// The body is not valid for its kind.
    pub fn invalid_body(field: &str, message: impl Into<String>) -> Self {
        Self::new(Code::InvalidBody, Some(field), message)
    }

    /// A unique key is taken.
    pub fn already_used(space: &str, pending: bool) -> Self {
        let message = if pending {
            format!("{space} is already used by a record being appended in this context")
        } else {
            format!("{space} is already used by a record of this context")
        };
        Self::new(Code::AlreadyUsed, Some(space), message)
    }

    /// Storage failed: nothing was acknowledged.
    pub fn storage(message: impl Into<String>) -> Self {
        Self::new(Code::Storage, None, message)
    }

    /// The answer was lost after the record was handed to the store (`why`): it may
    /// have been stored.
    pub fn maybe_stored(why: &str) -> Self {
        Self::new(
            Code::MaybeStored,
            None,
            format!("{why}; the record may have been stored: check by hash before resending"),
        )
    }

    /// The board is shutting down: nothing was acknowledged.
    pub fn unavailable() -> Self {
        Self::new(
            Code::Unavailable,
            None,
            "the board is shutting down; the record was not stored",
        )
    }
}
