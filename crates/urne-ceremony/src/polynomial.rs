//! A dealer's secret polynomial and the public evaluation of its commitments
//! (spec/20-ceremony.md §20.4 steps 2–3).

#![allow(non_snake_case)]

use core::fmt;

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE;
use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar as DalekScalar;
use curve25519_dalek::traits::VartimeMultiscalarMul;
use urne_crypto::rand_core::CryptoRng;
use urne_crypto::{Point, SecretScalar};
use zeroize::Zeroizing;

/// f(x) = a_0 + a_1·x + … + a_{t−1}·x^{t−1}; a_0 is the dealer's contribution to the
/// joint secret. Zeroized on drop, not `Clone`, `Debug` shows nothing.
pub(crate) struct SecretPolynomial {
    coefficients: Vec<SecretScalar>,
}

impl fmt::Debug for SecretPolynomial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretPolynomial(<redacted>)")
    }
}

impl SecretPolynomial {
    pub(crate) fn random<R: CryptoRng + ?Sized>(degree_plus_one: u16, rng: &mut R) -> Self {
        Self {
            coefficients: (0..degree_plus_one)
                .map(|_| SecretScalar::random(rng))
                .collect(),
        }
    }

    pub(crate) fn coefficients(&self) -> &[SecretScalar] {
        &self.coefficients
    }

    /// A_k = a_k·G, with the constant-time fixed-base table.
    pub(crate) fn commitments(&self) -> Vec<Point> {
        self.coefficients
            .iter()
            .map(|a| Point::from_ristretto(RISTRETTO_BASEPOINT_TABLE * a.expose_secret()))
            .collect()
    }

    /// f(x) by Horner's rule; scalar arithmetic is constant time, and every
    /// intermediate lives in zeroized memory.
    pub(crate) fn evaluate(&self, x: u16) -> SecretScalar {
        let x = DalekScalar::from(u64::from(x));
        let mut acc = Zeroizing::new(DalekScalar::ZERO);
        for a in self.coefficients.iter().rev() {
            *acc = *acc * x + a.expose_secret();
        }
        SecretScalar::from_dalek(*acc)
    }
}

/// Σ_k A_k·j^k: what f(j)·G must equal. Public data, so variable time.
pub(crate) fn evaluate_commitments(commitments: &[Point], j: u16) -> RistrettoPoint {
    let x = DalekScalar::from(u64::from(j));
    let mut power = DalekScalar::ONE;
    let mut scalars = Vec::with_capacity(commitments.len());
    for _ in commitments {
        scalars.push(power);
        power *= x;
    }
    RistrettoPoint::vartime_multiscalar_mul(scalars, commitments.iter().map(|A| *A.as_ristretto()))
}

/// Whether f(j)·G = Σ_k A_k·j^k. The share may be secret (a recipient's own check), so
/// its multiple is taken in constant time.
pub(crate) fn share_matches(commitments: &[Point], j: u16, share: &DalekScalar) -> bool {
    RISTRETTO_BASEPOINT_TABLE * share == evaluate_commitments(commitments, j)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_match_commitments_and_others_do_not() {
        let mut rng = rand::rng();
        let f = SecretPolynomial::random(3, &mut rng);
        let commitments = f.commitments();
        for j in 1..=5u16 {
            let share = f.evaluate(j);
            assert!(share_matches(&commitments, j, share.expose_secret()));
            assert!(!share_matches(&commitments, j + 1, share.expose_secret()));
        }
        let f0 = f.evaluate(0);
        assert_eq!(f0.expose_secret(), f.coefficients()[0].expose_secret());
    }
}
