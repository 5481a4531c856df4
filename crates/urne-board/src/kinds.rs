//! The registry of record kinds (spec/12-records.md §12.2): who may post each kind, in
//! which phases of its context, and the validator that checks its body.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::error::Rejection;
use crate::record::{ContextId, Kind, Phase, Record};

/// `context.open`: opens a context (election, petition, sitting).
pub const CONTEXT_OPEN: Kind = Kind(0x0001);
/// `context.phase`: moves a context to its next phase.
pub const CONTEXT_PHASE: Kind = Kind(0x0002);

/// What the board knows of an open context.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContextState {
    /// Its id.
    pub id: ContextId,
    /// Its name.
    pub name: String,
    /// Its authority's Ed25519 key (the signer of its `context.open`).
    pub authority: [u8; 32],
    /// Its current phase.
    pub phase: Phase,
    /// The index of its `context.open` record.
    pub opened_at: u64,
}

/// Who may post a kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Poster {
    /// A key in the board's configured list of authorities.
    BoardAuthority,
    /// The context's authority.
    ContextAuthority,
    /// Anyone; the kind's validator decides (a voter's credential, a member's key).
    ValidatorDecides,
}

/// Checks a record's body against its context. Implemented by the crates that define
/// record kinds (ballots, ceremony, credentials, petitions, assembly).
pub trait Validator: Send + Sync {
    /// Accepts or rejects the record. `context` is None only for kinds that open one.
    fn validate(&self, record: &Record, context: Option<&ContextState>) -> Result<(), Rejection>;
}

/// One kind's rules.
#[derive(Clone)]
pub struct KindSpec {
    /// Its code.
    pub kind: Kind,
    /// Its name (`context.open`).
    pub name: &'static str,
    /// Who may post it.
    pub poster: Poster,
    /// The phases in which it is accepted; empty for a kind that opens a context.
    pub phases: Vec<Phase>,
    /// Its body checks.
    pub validator: Arc<dyn Validator>,
}

/// The kinds a board accepts.
#[derive(Clone, Default)]
pub struct Registry {
    kinds: BTreeMap<u16, KindSpec>,
}

/// Maximum bytes of a context name.
pub const MAX_CONTEXT_NAME: usize = 200;

/// The body of `context.open`: version 1 ‖ u16 BE name length ‖ UTF-8 name ‖ 32-byte
/// parameters hash (the manifest, when the elections work defines it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContextOpen {
    /// Human-readable name.
    pub name: String,
    /// Hash of the context's parameters.
    pub parameters: [u8; 32],
}

impl ContextOpen {
    /// Encodes the body.
    pub fn to_body(&self) -> Vec<u8> {
        let mut out = vec![1u8];
        out.extend_from_slice(&(self.name.len() as u16).to_be_bytes());
        out.extend_from_slice(self.name.as_bytes());
        out.extend_from_slice(&self.parameters);
        out
    }

    /// Decodes strictly.
    pub fn parse(body: &[u8]) -> Result<Self, Rejection> {
        let bad = |m: &str| Rejection::invalid_body("body", m.to_owned());
        if body.first() != Some(&1) {
            return Err(bad("context.open body must start with version 1"));
        }
        if body.len() < 3 {
            return Err(bad("context.open body is too short"));
        }
        let len = u16::from_be_bytes([body[1], body[2]]) as usize;
        if body.len() != 3 + len + 32 {
            return Err(bad(
                "context.open body length does not match its name length",
            ));
        }
        let name = core::str::from_utf8(&body[3..3 + len])
            .map_err(|_| bad("context name is not UTF-8"))?;
        if name.trim().is_empty() || len > MAX_CONTEXT_NAME || name.chars().any(char::is_control) {
            return Err(bad("context name must be 1 to 200 bytes of printable text"));
        }
        let mut parameters = [0u8; 32];
        parameters.copy_from_slice(&body[3 + len..]);
        Ok(Self {
            name: name.to_owned(),
            parameters,
        })
    }
}

struct OpenValidator;

impl Validator for OpenValidator {
    fn validate(&self, record: &Record, _context: Option<&ContextState>) -> Result<(), Rejection> {
        ContextOpen::parse(record.body())?;
        if record.context() != ContextId::derive(record.body()) {
            return Err(Rejection::invalid_body(
                "context",
                "the context id of a context.open record must be SHA-256(\"urne/v1/context\\n\" ‖ body)",
            ));
        }
        Ok(())
    }
}

struct PhaseValidator;

impl Validator for PhaseValidator {
    fn validate(&self, record: &Record, context: Option<&ContextState>) -> Result<(), Rejection> {
        let context =
            context.ok_or_else(|| Rejection::unknown_context(&record.context().to_hex()))?;
        let [code] = record.body() else {
            return Err(Rejection::invalid_body(
                "body",
                "context.phase body is one byte: the next phase",
            ));
        };
        let target = Phase::from_code(*code)
            .ok_or_else(|| Rejection::invalid_body("body", format!("no phase {code}")))?;
        if context.phase.next() != Some(target) {
            return Err(Rejection::invalid_body(
                "body",
                format!(
                    "a context in {} can only move to the next phase, not to {}",
                    context.phase.name(),
                    target.name()
                ),
            ));
        }
        Ok(())
    }
}

impl Registry {
    /// The built-in kinds: `context.open` and `context.phase`.
    pub fn with_builtin() -> Self {
        let mut registry = Self::default();
        let all_but_published: Vec<Phase> = Phase::ALL
            .into_iter()
            .filter(|p| *p != Phase::Published)
            .collect();
        registry.kinds.insert(
            CONTEXT_OPEN.0,
            KindSpec {
                kind: CONTEXT_OPEN,
                name: "context.open",
                poster: Poster::BoardAuthority,
                phases: Vec::new(),
                validator: Arc::new(OpenValidator),
            },
        );
        registry.kinds.insert(
            CONTEXT_PHASE.0,
            KindSpec {
                kind: CONTEXT_PHASE,
                name: "context.phase",
                poster: Poster::ContextAuthority,
                phases: all_but_published,
                validator: Arc::new(PhaseValidator),
            },
        );
        registry
    }

    /// Adds a kind; refuses a code that is taken.
    pub fn register(&mut self, spec: KindSpec) -> Result<(), String> {
        if self.kinds.contains_key(&spec.kind.0) {
            return Err(format!(
                "record kind 0x{:04x} is already registered",
                spec.kind.0
            ));
        }
        self.kinds.insert(spec.kind.0, spec);
        Ok(())
    }

    /// The rules of a kind.
    pub fn get(&self, kind: Kind) -> Option<&KindSpec> {
        self.kinds.get(&kind.0)
    }

    /// Every kind, by code.
    pub fn all(&self) -> impl Iterator<Item = &KindSpec> {
        self.kinds.values()
    }
}
