//! Discrete logarithms of tallies: find m ≤ bound with m·G = P, by baby-step
//! giant-step (spec/05-elgamal.md §5.4).
//!
//! The table holds the encodings of j·G for j < n (n ≈ √(bound+1)) and is reused for
//! every result of an election. Giant steps compress points in chunks with one shared
//! inversion (dalek's `double_and_compress_batch`, applied to halved points so that the
//! doubling lands on the point wanted). Tallies are public: variable time is fine.

use std::collections::HashMap;

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT;
use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar as DalekScalar;
use curve25519_dalek::traits::Identity;

/// Points compressed together per inversion.
const CHUNK: usize = 256;

/// A reusable baby-step table for values in [0, bound].
#[derive(Debug)]
pub struct DiscreteLogTable {
    bound: u64,
    baby_steps: u64,
    table: HashMap<[u8; 32], u64>,
}

/// Compressions of 2·pᵢ for each pᵢ; with pᵢ = Qᵢ/2 that is the compression of Qᵢ.
fn compress_halved(points: &[RistrettoPoint]) -> Vec<[u8; 32]> {
    RistrettoPoint::double_and_compress_batch(points)
        .into_iter()
        .map(|c| c.to_bytes())
        .collect()
}

impl DiscreteLogTable {
    /// A table for values up to `bound`, with about √(bound+1) baby steps.
    pub fn new(bound: u64) -> Self {
        let span = bound as u128 + 1;
        let mut n = (span as f64).sqrt().ceil() as u64;
        while (n as u128) * (n as u128) < span {
            n += 1;
        }
        Self::with_baby_steps(bound, n.max(1))
    }

    /// A table with `baby_steps` entries: more memory, fewer giant steps per solve.
    pub fn with_baby_steps(bound: u64, baby_steps: u64) -> Self {
        let baby_steps = baby_steps.max(1);
        let half = DalekScalar::from(2u64).invert();
        let half_g = RISTRETTO_BASEPOINT_POINT * half;
        let mut table = HashMap::with_capacity(baby_steps as usize);
        let mut current = RistrettoPoint::identity();
        let mut j = 0u64;
        while j < baby_steps {
            let take = ((baby_steps - j) as usize).min(CHUNK);
            let mut halved = Vec::with_capacity(take);
            for _ in 0..take {
                halved.push(current);
                current += half_g;
            }
            for (offset, encoding) in compress_halved(&halved).into_iter().enumerate() {
                table.entry(encoding).or_insert(j + offset as u64);
            }
            j += take as u64;
        }
        Self {
            bound,
            baby_steps,
            table,
        }
    }

    /// The largest value this table solves.
    pub fn bound(&self) -> u64 {
        self.bound
    }

    /// m in [0, bound] with m·G = `target`, or None if there is none.
    pub fn solve(&self, target: &RistrettoPoint) -> Option<u64> {
        let half = DalekScalar::from(2u64).invert();
        let step = RISTRETTO_BASEPOINT_POINT * (DalekScalar::from(self.baby_steps) * half);
        let mut current = target * half;
        let giant_steps = self.bound / self.baby_steps + 1;
        let mut i = 0u64;
        while i < giant_steps {
            let take = ((giant_steps - i) as usize).min(CHUNK);
            let mut halved = Vec::with_capacity(take);
            for _ in 0..take {
                halved.push(current);
                current -= step;
            }
            for (offset, encoding) in compress_halved(&halved).into_iter().enumerate() {
                if let Some(j) = self.table.get(&encoding) {
                    let m = (i + offset as u64)
                        .checked_mul(self.baby_steps)?
                        .checked_add(*j)?;
                    return (m <= self.bound).then_some(m);
                }
            }
            i += take as u64;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE;

    fn times_g(m: u64) -> RistrettoPoint {
        RISTRETTO_BASEPOINT_TABLE * &DalekScalar::from(m)
    }

    #[test]
    fn solves_every_value_of_a_small_bound_and_nothing_beyond() {
        let table = DiscreteLogTable::new(1000);
        for m in 0..=1000 {
            assert_eq!(table.solve(&times_g(m)), Some(m), "{m}");
        }
        assert_eq!(table.solve(&times_g(1001)), None);
        assert_eq!(table.solve(&times_g(5000)), None);
        assert_eq!(table.solve(&(-times_g(1))), None);
    }

    #[test]
    fn solves_large_values_with_custom_table_sizes() {
        let table = DiscreteLogTable::with_baby_steps(10_000_000, 1 << 12);
        for m in [0, 1, 4095, 4096, 4097, 9_999_999, 10_000_000] {
            assert_eq!(table.solve(&times_g(m)), Some(m), "{m}");
        }
        assert_eq!(table.solve(&times_g(10_000_001)), None);
        let tiny = DiscreteLogTable::new(0);
        assert_eq!(tiny.solve(&times_g(0)), Some(0));
        assert_eq!(tiny.solve(&times_g(1)), None);
    }
}
