//! Errors of provers and verifiers.

use core::fmt;

use crate::encoding::DecodeError;
use crate::secret::NonceCountMismatch;

/// Why a proof was not accepted. Every variant says which check failed, so that a
/// verification report can name it (spec/04-proofs.md lists the checks).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifyError {
    /// A verification equation does not hold.
    EquationFailed {
        /// The spec's name of the equation.
        equation: &'static str,
        /// Which branch, bit or part of the proof it belongs to, where there are several.
        index: Option<usize>,
    },
    /// The branch challenges do not add up to the transcript's challenge.
    ChallengeSumMismatch {
        /// The bit whose branches disagree (bit-range proofs), if any.
        bit: Option<usize>,
    },
    /// The proof's shape does not match the statement (number of branches, of bits).
    ShapeMismatch {
        /// What was counted.
        what: &'static str,
        /// The statement's count.
        expected: usize,
        /// The proof's count.
        found: usize,
    },
    /// The statement itself is not valid (an empty range, too many bits…).
    InvalidStatement {
        /// What is wrong with it.
        detail: &'static str,
    },
    /// A field of the proof failed to decode.
    Decode(DecodeError),
}

impl VerifyError {
    /// The spec's name of the check that failed: `E1`, `E2`, `R1`, `R2` (spec/04-proofs.md),
    /// `challenge-sum`, `branch-count`, `bit-count`, or `statement` and `decode`.
    pub fn spec_check(&self) -> &'static str {
        match self {
            // Equation names open with their spec name ("E2 z·G2 = A2 + c·X2").
            Self::EquationFailed { equation, .. } => {
                equation.split_once(' ').map_or(*equation, |(name, _)| name)
            }
            Self::ChallengeSumMismatch { .. } => "challenge-sum",
            Self::ShapeMismatch { what: "bits", .. } => "bit-count",
            Self::ShapeMismatch { .. } => "branch-count",
            Self::InvalidStatement { .. } => "statement",
            Self::Decode(_) => "decode",
        }
    }
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EquationFailed {
                equation,
                index: Some(i),
            } => {
                write!(f, "verification equation {equation} fails (at {i})")
            }
            Self::EquationFailed {
                equation,
                index: None,
            } => {
                write!(f, "verification equation {equation} fails")
            }
            Self::ChallengeSumMismatch { bit: Some(b) } => {
                write!(
                    f,
                    "branch challenges of bit {b} do not sum to the challenge"
                )
            }
            Self::ChallengeSumMismatch { bit: None } => {
                f.write_str("branch challenges do not sum to the challenge")
            }
            Self::ShapeMismatch {
                what,
                expected,
                found,
            } => {
                write!(
                    f,
                    "proof has {found} {what}, the statement needs {expected}"
                )
            }
            Self::InvalidStatement { detail } => write!(f, "invalid statement: {detail}"),
            Self::Decode(e) => write!(f, "malformed proof: {e}"),
        }
    }
}

impl std::error::Error for VerifyError {}

impl From<DecodeError> for VerifyError {
    fn from(e: DecodeError) -> Self {
        Self::Decode(e)
    }
}

/// Why a prover refused to make a proof. A prover never makes a proof of a false
/// statement: it checks the witness first.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProveError {
    /// The witness does not satisfy the statement.
    WitnessMismatch,
    /// The statement is invalid (see [`VerifyError::InvalidStatement`]).
    InvalidStatement {
        /// What is wrong with it.
        detail: &'static str,
    },
    /// Explicit nonces were given in the wrong number.
    NonceCount(NonceCountMismatch),
    /// The prover's own check of the proof it made failed: a bug in the prover, never
    /// the caller's fault. The proof is withheld.
    SelfCheckFailed(VerifyError),
}

impl fmt::Display for ProveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WitnessMismatch => f.write_str("the witness does not satisfy the statement"),
            Self::InvalidStatement { detail } => write!(f, "invalid statement: {detail}"),
            Self::NonceCount(m) => {
                write!(
                    f,
                    "the proof draws {} nonces, {} were given",
                    m.expected, m.found
                )
            }
            Self::SelfCheckFailed(e) => {
                write!(f, "the prover made a proof that does not verify ({e})")
            }
        }
    }
}

impl std::error::Error for ProveError {}

impl From<NonceCountMismatch> for ProveError {
    fn from(m: NonceCountMismatch) -> Self {
        Self::NonceCount(m)
    }
}
