//! Secret scalars and the nonces provers draw.
//!
//! Secrets live in [`SecretScalar`]: zeroized on drop, not `Clone`, and their `Debug`
//! prints nothing of the value. Provers draw nonces from a transcript-bound RNG
//! rekeyed with the witness and then with fresh randomness (merlin's hedged
//! construction), so a weak system RNG alone cannot leak a witness; for golden vectors,
//! nonces can instead be given explicitly.

use core::fmt;

use curve25519_dalek::scalar::Scalar as DalekScalar;
use merlin::{Transcript, TranscriptRng};
use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::encoding::{DecodeError, Scalar};

/// A secret scalar: a key, a share, a nonce.
pub struct SecretScalar(Zeroizing<DalekScalar>);

impl SecretScalar {
    /// A uniformly random secret.
    pub fn random<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut wide = Zeroizing::new([0u8; 64]);
        rng.fill_bytes(wide.as_mut());
        Self(Zeroizing::new(DalekScalar::from_bytes_mod_order_wide(
            &wide,
        )))
    }

    /// Wraps a dalek scalar (which the caller should zeroize if it kept a copy).
    pub fn from_dalek(scalar: DalekScalar) -> Self {
        Self(Zeroizing::new(scalar))
    }

    /// The integer `value` as a secret (a vote, a selection).
    pub fn from_u64(value: u64) -> Self {
        Self::from_dalek(DalekScalar::from(value))
    }

    /// Decodes a canonical 32-byte encoding.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        Scalar::decode(bytes).map(|s| Self::from_dalek(s.0))
    }

    /// The canonical encoding, in memory that is wiped on drop.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0.to_bytes())
    }

    /// The secret value. Named so that every use stands out in review.
    pub fn expose_secret(&self) -> &DalekScalar {
        &self.0
    }

    /// An explicit copy, for the rare protocol step that must hand a secret on.
    pub fn duplicate(&self) -> Self {
        Self(Zeroizing::new(*self.0))
    }
}

impl fmt::Debug for SecretScalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretScalar(<redacted>)")
    }
}

/// rand_core 0.10 (ours, dalek's) seen as rand_core 0.6 (merlin's). This is the one
/// place the two worlds meet.
struct RngCompat<'a, R: ?Sized>(&'a mut R);

impl<R: CryptoRng + ?Sized> rand_core_06::RngCore for RngCompat<'_, R> {
    fn next_u32(&mut self) -> u32 {
        self.0.next_u32()
    }
    fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.0.fill_bytes(dest)
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core_06::Error> {
        self.0.fill_bytes(dest);
        Ok(())
    }
}

impl<R: CryptoRng + ?Sized> rand_core_06::CryptoRng for RngCompat<'_, R> {}

/// Where a prover's nonces come from.
pub(crate) enum NonceSource<'a> {
    Hedged(TranscriptRng),
    Explicit(core::slice::Iter<'a, SecretScalar>),
}

/// How many explicit nonces a prover needed and how many it was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NonceCountMismatch {
    /// Nonces the proof draws.
    pub expected: usize,
    /// Nonces given.
    pub found: usize,
}

impl<'a> NonceSource<'a> {
    /// Hedged nonces: the transcript so far (statement included), the witness, then
    /// fresh randomness.
    pub(crate) fn hedged<R: CryptoRng + ?Sized>(
        transcript: &Transcript,
        witness: &[&SecretScalar],
        rng: &mut R,
    ) -> Self {
        let mut builder = transcript.build_rng();
        for secret in witness {
            builder = builder.rekey_with_witness_bytes(b"witness", secret.to_bytes().as_ref());
        }
        Self::Hedged(builder.finalize(&mut RngCompat(rng)))
    }

    /// Explicit nonces, which must be exactly as many as the proof draws.
    pub(crate) fn explicit(
        nonces: &'a [SecretScalar],
        expected: usize,
    ) -> Result<Self, NonceCountMismatch> {
        if nonces.len() != expected {
            return Err(NonceCountMismatch {
                expected,
                found: nonces.len(),
            });
        }
        Ok(Self::Explicit(nonces.iter()))
    }

    /// The next nonce. Explicit sources were checked for length up front against the
    /// count the prover declares, so running dry is a bug in that declaration: debug
    /// builds stop there, and release builds, rather than panic, produce a proof that
    /// fails verification and the vectors' byte comparison.
    pub(crate) fn next(&mut self) -> Zeroizing<DalekScalar> {
        match self {
            Self::Hedged(rng) => {
                let mut wide = Zeroizing::new([0u8; 64]);
                rand_core_06::RngCore::fill_bytes(rng, wide.as_mut());
                Zeroizing::new(DalekScalar::from_bytes_mod_order_wide(&wide))
            }
            Self::Explicit(iter) => {
                let next = iter.next();
                debug_assert!(next.is_some(), "prover drew more nonces than it declared");
                Zeroizing::new(next.map(|s| *s.expose_secret()).unwrap_or(DalekScalar::ONE))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_debug_prints_nothing_of_the_value() {
        let secret = SecretScalar::from_u64(1234567);
        let shown = format!("{secret:?}");
        assert_eq!(shown, "SecretScalar(<redacted>)");
    }

    #[test]
    fn explicit_nonces_must_match_the_count() {
        let nonces = [SecretScalar::from_u64(1)];
        assert!(NonceSource::explicit(&nonces, 1).is_ok());
        assert_eq!(
            NonceSource::explicit(&nonces, 2).err(),
            Some(NonceCountMismatch {
                expected: 2,
                found: 1
            })
        );
    }

    #[test]
    fn hedged_nonces_differ_between_calls_even_with_same_transcript() {
        let transcript = Transcript::new(b"test");
        let witness = SecretScalar::from_u64(7);
        let mut rng = rand::rng();
        let a = NonceSource::hedged(&transcript, &[&witness], &mut rng).next();
        let b = NonceSource::hedged(&transcript, &[&witness], &mut rng).next();
        assert_ne!(*a, *b);
    }
}
