//! Rejections: every refused record gets a stable machine code, a message, and the field
//! at fault.

use core::fmt;

/// Why the board refused a record. `code` is stable (clients may match on it); the
/// message is for people; `field` names the part of the record at fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// Stable machine code: `malformed`, `too-large`, `bad-signature`, `unknown-kind`,
    /// `unknown-context`, `context-exists`, `wrong-phase`, `not-authorized`,
    /// `duplicate`, `invalid-body`, `storage`.
    pub code: &'static str,
    /// What was wrong, for people.
    pub message: String,
    /// The field at fault, if one is.
    pub field: Option<String>,
}

impl Rejection {
    fn new(code: &'static str, field: Option<&str>, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            field: field.map(str::to_owned),
        }
    }

    /// The envelope does not parse.
    pub fn malformed(field: &str, message: impl Into<String>) -> Self {
        Self::new("malformed", Some(field), message)
    }

    /// The record is larger than the log allows.
    pub fn too_large(len: usize) -> Self {
        Self::new(
            "too-large",
            Some("record"),
            format!("record of {len} bytes exceeds the 65,535-byte limit"),
        )
    }

    /// The signature or signer key is bad.
    pub fn bad_signature(field: &str, message: impl Into<String>) -> Self {
        Self::new("bad-signature", Some(field), message)
    }

    /// No such kind on this board.
    pub fn unknown_kind(kind: u16) -> Self {
        Self::new(
            "unknown-kind",
            Some("kind"),
            format!("record kind 0x{kind:04x} is not accepted by this board"),
        )
    }

    /// No such context.
    pub fn unknown_context(id: &str) -> Self {
        Self::new(
            "unknown-context",
            Some("context"),
            format!("context {id} has not been opened"),
        )
    }

    /// The context already exists.
    pub fn context_exists(id: &str) -> Self {
        Self::new(
            "context-exists",
            Some("context"),
            format!("context {id} is already open"),
        )
    }

    /// The context is in a phase where this kind is not accepted.
    pub fn wrong_phase(kind: &str, phase: &str) -> Self {
        Self::new(
            "wrong-phase",
            Some("kind"),
            format!("{kind} records are not accepted in the {phase} phase"),
        )
    }

    /// The signer may not post this kind here.
    pub fn not_authorized(message: impl Into<String>) -> Self {
        Self::new("not-authorized", Some("signer"), message)
    }

    /// The same record is already on the board.
    pub fn duplicate(index: Option<u64>) -> Self {
        let message = match index {
            Some(i) => format!("this exact record is already on the board at index {i}"),
            None => "this exact record is already being appended".to_owned(),
        };
        Self::new("duplicate", None, message)
    }

    /// The body is not valid for its kind.
    pub fn invalid_body(field: &str, message: impl Into<String>) -> Self {
        Self::new("invalid-body", Some(field), message)
    }

    /// Storage failed: nothing was acknowledged.
    pub fn storage(message: impl Into<String>) -> Self {
        Self::new("storage", None, message)
    }

    /// The HTTP status that fits.
    pub fn http_status(&self) -> u16 {
        match self.code {
            "too-large" => 413,
            "bad-signature" | "not-authorized" => 403,
            "unknown-context" => 404,
            "context-exists" | "wrong-phase" | "duplicate" => 409,
            "storage" => 503,
            _ => 400,
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{} ({field}): {}", self.code, self.message),
            None => write!(f, "{}: {}", self.code, self.message),
        }
    }
}

impl std::error::Error for Rejection {}
