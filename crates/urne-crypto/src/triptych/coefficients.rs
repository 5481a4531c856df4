//! The ring keys' coefficients of a batch (spec/08 §8.9): c_k = Σ_s w_s·t_k^(s) with
//! t_k^(s) = Π_j f^(s)_{j,k_j}, the verifier's per-signature O(N) work.
//!
//! How, and why so: the digits of k split into a low half (k_lo, the first m_lo digits)
//! and a high half (k_hi), so t_k = a_{k_lo}·b_{k_hi} with a and b the Kronecker products
//! of the two halves of f's rows (√N entries each at 2^16, a few hundred products). The
//! weight goes into b. What remains is one product and one sum per key and signature,
//! which is all of the cost at 2^16, so:
//! - the products are not reduced mod ℓ: each key keeps a 576-bit sum of 512-bit products
//!   (9 limbs), reduced once per key when the batch is checked; a Montgomery product costs
//!   twice the multiplications of a plain one;
//! - keys are visited in blocks whose sums fit the core's cache, every pending signature
//!   going over one block before the next, so the 4.7 MB of sums at 2^16 are not streamed
//!   from memory once per signature;
//! - signatures wait in chunks of [`CHUNK`] so their halves (16 KiB each at 2^16) stay
//!   small, whatever the batch size.
//!
//! Everything here is public data (verification only): variable time is fine.

use curve25519_dalek::scalar::Scalar;

use super::Parameters;

/// Signatures whose halves are held before they are added to the sums.
const CHUNK: usize = 64;
/// Keys per block: 4096 sums of 72 bytes, about 288 KiB.
const BLOCK_KEYS: usize = 4096;

/// A 512-bit product's sum, little-endian 64-bit limbs, with a ninth limb of carries.
type Wide = [u64; 9];
/// A scalar below 2^256 as little-endian 64-bit limbs.
type Limbs = [u64; 4];

/// Σ_s w_s·t_k^(s) for every key k of a ring, accumulated signature by signature.
pub(super) struct RingCoefficients {
    parameters: Parameters,
    /// Number of low digits m_lo; n^m_lo entries in a.
    low_digits: usize,
    size: usize,
    /// The sums, allocated when the first signature is added.
    sums: Vec<Wide>,
    /// Signatures not yet added: (a, weight·b) as canonical limbs.
    pending: Vec<(Vec<Limbs>, Vec<Limbs>)>,
    terms: usize,
}

impl RingCoefficients {
    /// No terms yet, for a ring of `size` keys (0: the equations that use no ring).
    pub(super) fn new(parameters: Parameters, size: usize) -> Self {
        Self {
            parameters,
            low_digits: parameters.m.div_ceil(2),
            size,
            sums: Vec::new(),
            pending: Vec::new(),
            terms: 0,
        }
    }

    /// The ring size these coefficients are for (0: the ring is not used).
    pub(super) fn size(&self) -> usize {
        self.size
    }

    /// Adds weight·t_k for every k, t_k = Π_j f_{j,k_j} over `full_f` (m rows of n,
    /// f_{j,0} included).
    pub(super) fn add(&mut self, full_f: &[Scalar], weight: Scalar) {
        if self.size == 0 {
            return;
        }
        let n = self.parameters.n();
        let rows: Vec<&[Scalar]> = full_f.chunks_exact(n).collect();
        let low = kronecker(&rows[..self.low_digits], Scalar::ONE);
        let high = kronecker(&rows[self.low_digits..], weight);
        self.pending.push((limbs(&low), limbs(&high)));
        self.terms += 1;
        if self.pending.len() == CHUNK {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        if self.sums.is_empty() {
            self.sums = vec![[0; 9]; self.size];
        }
        let low_size = self.pending[0].0.len();
        let high_size = self.pending[0].1.len();
        let block = (BLOCK_KEYS / low_size).max(1);
        for first in (0..high_size).step_by(block) {
            let last = (first + block).min(high_size);
            for (low, high) in &self.pending {
                for (hi, b) in high.iter().enumerate().take(last).skip(first) {
                    let row = &mut self.sums[hi * low_size..(hi + 1) * low_size];
                    for (sum, a) in row.iter_mut().zip(low) {
                        multiply_add(sum, a, b);
                    }
                }
            }
        }
        self.pending.clear();
    }

    /// The coefficients c_k, reduced mod ℓ (empty if nothing was added).
    pub(super) fn finish(mut self) -> Vec<Scalar> {
        if self.terms == 0 {
            return Vec::new();
        }
        self.flush();
        let carry_weight = two_to_the_512();
        self.sums
            .iter()
            .map(|sum| {
                let mut bytes = [0u8; 64];
                for (chunk, limb) in bytes.chunks_exact_mut(8).zip(&sum[..8]) {
                    chunk.copy_from_slice(&limb.to_le_bytes());
                }
                let low = Scalar::from_bytes_mod_order_wide(&bytes);
                if sum[8] == 0 {
                    low
                } else {
                    low + Scalar::from(sum[8]) * carry_weight
                }
            })
            .collect()
    }
}

/// weight·(rows[last] ⊗ … ⊗ rows[0]): entry Σ_j k_j·n^j is weight·Π_j rows[j][k_j].
fn kronecker(rows: &[&[Scalar]], weight: Scalar) -> Vec<Scalar> {
    let mut out = vec![weight];
    for row in rows.iter().rev() {
        out = out
            .iter()
            .flat_map(|value| row.iter().map(move |f| value * f))
            .collect();
    }
    out
}

fn limbs(values: &[Scalar]) -> Vec<Limbs> {
    values
        .iter()
        .map(|s| {
            let bytes = s.as_bytes();
            let mut out = [0u64; 4];
            for (limb, chunk) in out.iter_mut().zip(bytes.chunks_exact(8)) {
                let mut word = [0u8; 8];
                word.copy_from_slice(chunk);
                *limb = u64::from_le_bytes(word);
            }
            out
        })
        .collect()
}

/// 2^512 mod ℓ, the weight of the ninth limb.
fn two_to_the_512() -> Scalar {
    let mut bytes = [0u8; 64];
    bytes[32] = 1;
    let two_to_the_256 = Scalar::from_bytes_mod_order_wide(&bytes);
    two_to_the_256 * two_to_the_256
}

/// sum += a·b, a and b below 2^256 (the product below 2^512; the ninth limb takes the
/// carries of up to 2^64 of them).
#[inline(always)]
fn multiply_add(sum: &mut Wide, a: &Limbs, b: &Limbs) {
    let mut product = [0u64; 8];
    for i in 0..4 {
        let mut carry = 0u64;
        for j in 0..4 {
            // At most (2^64 − 1)² + 2·(2^64 − 1) = 2^128 − 1: no overflow.
            let t = u128::from(a[i]) * u128::from(b[j])
                + u128::from(product[i + j])
                + u128::from(carry);
            product[i + j] = t as u64;
            carry = (t >> 64) as u64;
        }
        product[i + 4] = carry;
    }
    let mut carry = false;
    for (limb, p) in sum.iter_mut().zip(product) {
        let (s, c1) = limb.overflowing_add(p);
        let (s, c2) = s.overflowing_add(u64::from(carry));
        *limb = s;
        carry = c1 | c2;
    }
    // 2^64 sums of products below 2^512 would be needed to wrap: no batch comes near.
    debug_assert!(
        !(carry && sum[8] == u64::MAX),
        "the ninth limb of a coefficient sum overflowed"
    );
    sum[8] = sum[8].wrapping_add(u64::from(carry));
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::MAX_RING_LOG2;
    use super::*;

    fn random() -> Scalar {
        *crate::SecretScalar::random(&mut rand::rng()).expose_secret()
    }

    /// Σ_s w_s·Π_j f^(s)_{j,k_j}, computed directly.
    fn direct(p: &Parameters, terms: &[(Vec<Scalar>, Scalar)]) -> Vec<Scalar> {
        let n = p.n();
        (0..p.ring_size())
            .map(|k| {
                terms
                    .iter()
                    .map(|(full, weight)| {
                        let mut product = *weight;
                        for j in 0..p.m() {
                            product *= full[j * n + (k / n.pow(j as u32)) % n];
                        }
                        product
                    })
                    .sum()
            })
            .collect()
    }

    fn random_terms(p: &Parameters, count: usize) -> Vec<(Vec<Scalar>, Scalar)> {
        (0..count)
            .map(|_| ((0..p.m() * p.n()).map(|_| random()).collect(), random()))
            .collect()
    }

    fn accumulated(p: Parameters, terms: &[(Vec<Scalar>, Scalar)]) -> Vec<Scalar> {
        let mut coefficients = RingCoefficients::new(p, p.ring_size());
        for (full, weight) in terms {
            coefficients.add(full, *weight);
        }
        coefficients.finish()
    }

    #[test]
    fn coefficients_are_the_weighted_products_over_digits_at_every_ring_size() {
        // Every ring size production allows, 2^1 to 2^16 (m odd and even, n = 2 and 4);
        // from 2^13 on the keys span several blocks, which is where all the work at 2^16
        // is. Signature counts around a chunk (one short, one full, one past, two past)
        // wherever the direct product is cheap; at the largest rings one signature and one
        // past a chunk, so a flush of a full chunk over several blocks is compared too.
        for log2 in 1..=MAX_RING_LOG2 {
            let size = 1usize << log2;
            let p = Parameters::for_ring_size(size).unwrap();
            let counts: &[usize] = if size <= 1 << 10 {
                &[1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK + 1]
            } else if size <= 1 << 13 {
                &[1, CHUNK + 1]
            } else {
                &[1, 2]
            };
            for &count in counts {
                let terms = random_terms(&p, count);
                assert_eq!(
                    accumulated(p, &terms),
                    direct(&p, &terms),
                    "ring size 2^{log2}, {count} signatures"
                );
            }
        }
    }

    #[test]
    fn a_full_chunk_over_every_block_of_the_largest_ring_is_the_direct_product() {
        // The multi-block loop with many pending signatures at 2^16: each signature's f rows
        // are random but shared halves would hide a block mix-up, so every term differs.
        let p = Parameters::for_ring_size(1 << MAX_RING_LOG2).unwrap();
        let terms = random_terms(&p, CHUNK + 1);
        assert_eq!(accumulated(p, &terms), direct(&p, &terms));
    }

    #[test]
    fn sums_past_2_to_the_512_are_exact_with_two_digits_and_more() {
        // Every entry ℓ − 1 and weight 1 at m = 2: both halves are ℓ − 1, so each key adds
        // (ℓ − 1)², just above 2^504, per signature; 300 signatures pass 2^512 in every key.
        // At m = 3 and 4 the halves are ±1, and the sum is checked against the direct one.
        for size in [16usize, 8, 256] {
            let p = Parameters::for_ring_size(size).unwrap();
            let minus_one = -Scalar::ONE;
            let terms: Vec<(Vec<Scalar>, Scalar)> = (0..300)
                .map(|_| (vec![minus_one; p.m() * p.n()], Scalar::ONE))
                .collect();
            let coefficients = accumulated(p, &terms);
            assert_eq!(coefficients, direct(&p, &terms), "size {size}");
            let sign = if p.m().is_multiple_of(2) {
                Scalar::ONE
            } else {
                minus_one
            };
            assert_eq!(coefficients, vec![sign * Scalar::from(300u64); size]);
        }
        let p = Parameters::for_ring_size(16).unwrap();
        assert_eq!(p.m(), 2);
        let mut coefficients = RingCoefficients::new(p, 16);
        for _ in 0..300 {
            coefficients.add(&vec![-Scalar::ONE; p.m() * p.n()], Scalar::ONE);
        }
        coefficients.flush();
        assert!(
            coefficients.sums.iter().all(|sum| sum[8] != 0),
            "every key's sum passed 2^512"
        );
    }

    #[test]
    fn the_ninth_limb_carries_sums_past_2_to_the_512() {
        // (ℓ − 1)² is just above 2^504: 300 of them exceed 2^512.
        let p = Parameters::for_ring_size(4).unwrap();
        let minus_one = -Scalar::ONE;
        let full = vec![minus_one; p.m() * p.n()];
        let mut coefficients = RingCoefficients::new(p, 4);
        for _ in 0..300 {
            coefficients.add(&full, minus_one);
        }
        // Each term is (−1)·(−1) = 1 for m = 1.
        let expected = Scalar::from(300u64);
        assert_eq!(coefficients.finish(), vec![expected; 4]);
        let mut sum: Wide = [0; 9];
        let big = limbs(&[minus_one])[0];
        for _ in 0..300 {
            multiply_add(&mut sum, &big, &big);
        }
        assert_ne!(sum[8], 0, "the sums did pass 2^512");
    }

    #[test]
    fn nothing_added_gives_no_coefficients() {
        let p = Parameters::for_ring_size(16).unwrap();
        let coefficients = RingCoefficients::new(p, 16);
        assert!(coefficients.finish().is_empty());
        let mut unused = RingCoefficients::new(p, 0);
        unused.add(&vec![Scalar::ONE; p.m() * p.n()], Scalar::ONE);
        assert!(unused.finish().is_empty());
    }
}
