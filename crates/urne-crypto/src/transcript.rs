//! Fiat–Shamir transcripts (spec/03-labels.md §3.2).
//!
//! Strong Fiat–Shamir: a proof's transcript is opened with its frozen label, then the
//! context hash, then the binding bytes, then every public input of the statement
//! (bases included), then the prover's commitments; only then is the challenge drawn.
//! Leaving one public input out makes a proof forgeable (Helios 2012, bulletproofs'
//! "frozen heart"); the tests of every proof alter each input in turn.

use curve25519_dalek::scalar::Scalar as DalekScalar;
use merlin::Transcript;

use crate::encoding::{Point, Scalar};

/// The hash of the election's (or petition's, or sitting's) context: what every proof
/// in that context is bound to, so a proof cannot be replayed in another one.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ContextHash(pub [u8; 32]);

impl core::fmt::Debug for ContextHash {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "ContextHash({})", crate::encoding::to_hex(&self.0))
    }
}

/// What a proof is bound to besides its statement: the context hash, and binding
/// bytes that the calling protocol defines (trustee index, contest id, credential…).
#[derive(Clone, Copy, Debug)]
pub struct ProofContext<'a> {
    /// The context hash.
    pub context: &'a ContextHash,
    /// Protocol-defined binding bytes; may be empty.
    pub binding: &'a [u8],
}

impl<'a> ProofContext<'a> {
    /// A context with binding bytes.
    pub fn new(context: &'a ContextHash, binding: &'a [u8]) -> Self {
        Self { context, binding }
    }

    /// Opens a transcript for the proof whose label is `label` (spec/03-labels.md §3.2,
    /// steps 1–3).
    pub fn open_transcript(&self, label: &'static [u8]) -> Transcript {
        let mut transcript = Transcript::new(label);
        transcript.append_message(b"context", &self.context.0);
        transcript.append_message(b"binding", self.binding);
        transcript
    }
}

/// The operations proofs perform on a merlin transcript.
pub trait TranscriptExt {
    /// Appends a point's canonical encoding.
    fn append_point(&mut self, label: &'static [u8], point: &Point);
    /// Appends a scalar's canonical encoding.
    fn append_scalar(&mut self, label: &'static [u8], scalar: &Scalar);
    /// Draws 64 challenge bytes and reduces them mod ℓ.
    fn challenge_scalar(&mut self, label: &'static [u8]) -> DalekScalar;
}

impl TranscriptExt for Transcript {
    fn append_point(&mut self, label: &'static [u8], point: &Point) {
        self.append_message(label, point.as_bytes());
    }

    fn append_scalar(&mut self, label: &'static [u8], scalar: &Scalar) {
        self.append_message(label, &scalar.to_bytes());
    }

    fn challenge_scalar(&mut self, label: &'static [u8]) -> DalekScalar {
        let mut wide = [0u8; 64];
        self.challenge_bytes(label, &mut wide);
        DalekScalar::from_bytes_mod_order_wide(&wide)
    }
}
