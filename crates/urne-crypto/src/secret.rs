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

use crate::encoding::{DecodeError, Point, Scalar};

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

// Secret arithmetic for the protocols above this crate (polynomial shares, sums of
// shares, Lagrange combinations) so that they never handle a bare dalek scalar. Results
// are new secrets, zeroized on drop like their operands; every operation is dalek's
// constant-time scalar arithmetic.
impl core::ops::Add<&SecretScalar> for &SecretScalar {
    type Output = SecretScalar;
    fn add(self, other: &SecretScalar) -> SecretScalar {
        SecretScalar::from_dalek(*self.0 + *other.0)
    }
}

impl core::ops::Sub<&SecretScalar> for &SecretScalar {
    type Output = SecretScalar;
    fn sub(self, other: &SecretScalar) -> SecretScalar {
        SecretScalar::from_dalek(*self.0 - *other.0)
    }
}

impl core::ops::Mul<&SecretScalar> for &SecretScalar {
    type Output = SecretScalar;
    fn mul(self, other: &SecretScalar) -> SecretScalar {
        SecretScalar::from_dalek(*self.0 * *other.0)
    }
}

impl core::ops::Mul<&Scalar> for &SecretScalar {
    type Output = SecretScalar;
    fn mul(self, other: &Scalar) -> SecretScalar {
        SecretScalar::from_dalek(*self.0 * other.as_dalek())
    }
}

impl core::ops::Neg for &SecretScalar {
    type Output = SecretScalar;
    fn neg(self) -> SecretScalar {
        SecretScalar::from_dalek(-*self.0)
    }
}

/// x·P in constant time (a partial decryption, an ECDH share).
impl core::ops::Mul<&Point> for &SecretScalar {
    type Output = Point;
    fn mul(self, point: &Point) -> Point {
        Point::from_ristretto(point.as_ristretto() * *self.0)
    }
}

impl core::iter::Sum for SecretScalar {
    fn sum<I: Iterator<Item = SecretScalar>>(iter: I) -> SecretScalar {
        let mut total = SecretScalar::from_dalek(DalekScalar::ZERO);
        for item in iter {
            *total.0 += *item.0;
        }
        total
    }
}

impl SecretScalar {
    /// x·G in constant time, with the precomputed table of G.
    pub fn times_basepoint(&self) -> Point {
        Point::from_ristretto(curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE * &*self.0)
    }
}

/// Marks that dropping a secret wipes it (`Zeroizing` inside).
impl zeroize::ZeroizeOnDrop for SecretScalar {}

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
    #[cfg_attr(not(feature = "hazmat"), allow(dead_code))]
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
    #[cfg_attr(not(feature = "hazmat"), allow(dead_code))]
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

    /// A broken system RNG: every byte zero.
    struct ZeroRng;

    impl rand_core::TryRng for ZeroRng {
        type Error = core::convert::Infallible;
        fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
            Ok(0)
        }
        fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
            Ok(0)
        }
        fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
            dst.fill(0);
            Ok(())
        }
    }
    impl rand_core::TryCryptoRng for ZeroRng {}

    #[test]
    fn with_an_all_zero_rng_nonces_still_differ_per_witness_and_per_statement() {
        // The RNG adds nothing here, so whatever separates the nonces is the hedge: the
        // witness and the transcript. Without it, two different secrets proven under one
        // statement would share a nonce, and z − z' = c·(x − x') would give both away.
        let transcript = Transcript::new(b"test");
        let seven = SecretScalar::from_u64(7);
        let eight = SecretScalar::from_u64(8);
        let a = NonceSource::hedged(&transcript, &[&seven], &mut ZeroRng).next();
        let b = NonceSource::hedged(&transcript, &[&eight], &mut ZeroRng).next();
        assert_ne!(*a, *b, "same nonce for different witnesses");
        let other = Transcript::new(b"other statement");
        let c = NonceSource::hedged(&other, &[&seven], &mut ZeroRng).next();
        assert_ne!(*a, *c, "same nonce for different statements");
        // The RNG really is stuck: the same inputs give the same nonce.
        let again = NonceSource::hedged(&transcript, &[&seven], &mut ZeroRng).next();
        assert_eq!(*a, *again);
        // Successive nonces of one proof differ too.
        let mut source = NonceSource::hedged(&transcript, &[&seven], &mut ZeroRng);
        let first = source.next();
        assert_ne!(*first, *source.next());
    }

    #[test]
    fn hedged_nonces_differ_between_calls_with_a_working_rng() {
        let transcript = Transcript::new(b"test");
        let witness = SecretScalar::from_u64(7);
        let mut rng = rand::rng();
        let a = NonceSource::hedged(&transcript, &[&witness], &mut rng).next();
        let b = NonceSource::hedged(&transcript, &[&witness], &mut rng).next();
        assert_ne!(*a, *b);
    }

    #[test]
    fn secret_arithmetic_evaluates_a_share_polynomial_as_its_commitments_say() {
        // f(j) = a0 + a1·j + a2·j²; Feldman: f(j)·G = A0 + j·A1 + j²·A2.
        let mut rng = rand::rng();
        let coefficients: Vec<SecretScalar> =
            (0..3).map(|_| SecretScalar::random(&mut rng)).collect();
        let commitments: Vec<Point> = coefficients
            .iter()
            .map(SecretScalar::times_basepoint)
            .collect();
        let j = Scalar::from_u64(5);
        let mut power = Scalar::from_u64(1);
        let mut terms = Vec::new();
        let mut expected = Point::identity();
        for (a, big_a) in coefficients.iter().zip(&commitments) {
            terms.push(a * &power);
            expected = expected + *big_a * power;
            power = power * j;
        }
        let share: SecretScalar = terms.into_iter().sum();
        assert_eq!(share.times_basepoint(), expected);
        let g = crate::group::basepoint();
        assert_eq!(&share * &g, expected);
        let doubled = &share + &share;
        assert_eq!((&doubled - &share).times_basepoint(), expected);
        assert_eq!((-&share).times_basepoint(), -expected);
        assert_eq!(
            (&share * &SecretScalar::from_u64(2)).times_basepoint(),
            doubled.times_basepoint()
        );
        let points = [expected, expected];
        assert_eq!(points.into_iter().sum::<Point>(), doubled.times_basepoint());
        assert_eq!(expected - expected, Point::identity());
    }
}
