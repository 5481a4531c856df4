//! Scalars mod ℓ in Montgomery form (R = 2^256) for the verifier's ring coefficients.
//!
//! Why not dalek's `Scalar`: it stores bytes, so every product unpacks both operands,
//! multiplies, and packs again; at 2^16 keys the per-signature Kronecker product is
//! about 2^16·(1 + 1/3) products and 2^16 sums, and the packing alone made it several
//! times slower than the arithmetic. These values are public (verification only), so
//! the final subtractions branch freely. Checked against dalek's arithmetic by test.

use curve25519_dalek::scalar::Scalar;

/// ℓ, little-endian 64-bit limbs.
const L: [u64; 4] = [
    0x5812631a5cf5d3ed,
    0x14def9dea2f79cd6,
    0,
    0x1000000000000000,
];
/// −ℓ⁻¹ mod 2^64.
const L_INV_NEG: u64 = 0xd2b51da312547e1b;
/// R² mod ℓ, to enter Montgomery form.
const R2: [u64; 4] = [
    0xa40611e3449c0f01,
    0xd00e1ba768859347,
    0xceec73d217f5be65,
    0x0399411b7c309a3d,
];

/// x·R mod ℓ, fully reduced (< ℓ).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Montgomery([u64; 4]);

/// a − ℓ if a ≥ ℓ (a < 2ℓ).
fn reduce_once(a: [u64; 4]) -> [u64; 4] {
    let mut out = [0u64; 4];
    let mut borrow = 0u64;
    for i in 0..4 {
        let (d, b1) = a[i].overflowing_sub(L[i]);
        let (d, b2) = d.overflowing_sub(borrow);
        out[i] = d;
        borrow = u64::from(b1 | b2);
    }
    if borrow == 0 { out } else { a }
}

/// a·b·R⁻¹ mod ℓ (CIOS), for a, b < ℓ.
fn mont_mul(a: &[u64; 4], b: &[u64; 4]) -> [u64; 4] {
    let mut t = [0u64; 6];
    for &b_i in b {
        let mut carry = 0u64;
        for j in 0..4 {
            let uv = u128::from(t[j]) + u128::from(a[j]) * u128::from(b_i) + u128::from(carry);
            t[j] = uv as u64;
            carry = (uv >> 64) as u64;
        }
        let uv = u128::from(t[4]) + u128::from(carry);
        t[4] = uv as u64;
        t[5] = (uv >> 64) as u64;

        let m = t[0].wrapping_mul(L_INV_NEG);
        let uv = u128::from(t[0]) + u128::from(m) * u128::from(L[0]);
        let mut carry = (uv >> 64) as u64;
        for j in 1..4 {
            let uv = u128::from(t[j]) + u128::from(m) * u128::from(L[j]) + u128::from(carry);
            t[j - 1] = uv as u64;
            carry = (uv >> 64) as u64;
        }
        let uv = u128::from(t[4]) + u128::from(carry);
        t[3] = uv as u64;
        t[4] = t[5] + (uv >> 64) as u64;
    }
    // ℓ < 2^253: the result is below 2ℓ < 2^256, so t[4] is 0 here.
    reduce_once([t[0], t[1], t[2], t[3]])
}

impl Montgomery {
    pub(super) const ZERO: Self = Self([0; 4]);

    /// Into Montgomery form.
    pub(super) fn from_scalar(s: &Scalar) -> Self {
        let bytes = s.as_bytes();
        let mut limbs = [0u64; 4];
        for (i, limb) in limbs.iter_mut().enumerate() {
            let mut word = [0u8; 8];
            word.copy_from_slice(&bytes[8 * i..8 * i + 8]);
            *limb = u64::from_le_bytes(word);
        }
        Self(mont_mul(&limbs, &R2))
    }

    /// Out of Montgomery form.
    pub(super) fn to_scalar(self) -> Scalar {
        let plain = mont_mul(&self.0, &[1, 0, 0, 0]);
        let mut bytes = [0u8; 32];
        for (i, limb) in plain.iter().enumerate() {
            bytes[8 * i..8 * i + 8].copy_from_slice(&limb.to_le_bytes());
        }
        // Fully reduced by construction; from_bytes_mod_order would also accept it.
        Scalar::from_bytes_mod_order(bytes)
    }

    pub(super) fn mul(&self, other: &Self) -> Self {
        Self(mont_mul(&self.0, &other.0))
    }

    pub(super) fn add_assign(&mut self, other: &Self) {
        let mut sum = [0u64; 4];
        let mut carry = false;
        for (i, limb) in sum.iter_mut().enumerate() {
            let (s, c1) = self.0[i].overflowing_add(other.0[i]);
            let (s, c2) = s.overflowing_add(u64::from(carry));
            *limb = s;
            carry = c1 | c2;
        }
        // Both below ℓ < 2^253: no carry out of the top limb.
        self.0 = reduce_once(sum);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random() -> Scalar {
        *crate::SecretScalar::random(&mut rand::rng()).expose_secret()
    }

    #[test]
    fn products_and_sums_agree_with_dalek_including_edge_values() {
        let mut values = vec![Scalar::ZERO, Scalar::ONE, -Scalar::ONE, -Scalar::from(2u8)];
        values.extend((0..40).map(|_| random()));
        for a in &values {
            let ma = Montgomery::from_scalar(a);
            assert_eq!(ma.to_scalar(), *a);
            for b in &values {
                let mb = Montgomery::from_scalar(b);
                assert_eq!(ma.mul(&mb).to_scalar(), a * b);
                let mut sum = ma;
                sum.add_assign(&mb);
                assert_eq!(sum.to_scalar(), a + b);
            }
        }
        assert_eq!(Montgomery::ZERO.to_scalar(), Scalar::ZERO);
    }
}
