//! Discrete logarithms of tallies: find m ≤ bound with m·G = P, by baby-step
//! giant-step (spec/05-elgamal.md §5.4).
//!
//! The table holds the encodings of j·G for j < n (n ≈ √(bound+1)) and is reused for
//! every result of an election. Giant steps compress points in chunks with one shared
//! inversion (dalek's `double_and_compress_batch`, applied to halved points so that the
//! doubling lands on the point wanted). Tallies are public: variable time is fine.
//!
//! Bounds are capped ([`MAX_BOUND`], [`MAX_BABY_STEPS`]) so that a bound read from an
//! election's data can never make a verifier allocate without limit or loop for days:
//! beyond the caps, construction fails with a [`DlogError`] instead.

use std::collections::HashMap;

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT;
use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar as DalekScalar;
use curve25519_dalek::traits::Identity;

/// Points compressed together per inversion.
const CHUNK: usize = 256;

/// The largest bound a table accepts: 2^40 (about 1.1·10^12), e.g. 10^9 ballots with a
/// weight up to 1,000. Its default table has 2^20 entries (about 50 MiB) and a solve
/// takes at most 2^20 giant steps.
pub const MAX_BOUND: u64 = 1 << 40;

/// The most baby steps a table may have: 2^22 entries, about 200 MiB.
pub const MAX_BABY_STEPS: u64 = 1 << 22;

/// Why a table cannot be made.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DlogError {
    /// The bound exceeds [`MAX_BOUND`].
    BoundTooLarge {
        /// The bound asked for.
        bound: u64,
        /// [`MAX_BOUND`].
        max: u64,
    },
    /// Zero baby steps, or more than [`MAX_BABY_STEPS`].
    BabyStepsOutOfRange {
        /// The number asked for.
        baby_steps: u64,
        /// [`MAX_BABY_STEPS`].
        max: u64,
    },
}

impl core::fmt::Display for DlogError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::BoundTooLarge { bound, max } => {
                write!(f, "discrete-log bound {bound} exceeds the maximum {max}")
            }
            Self::BabyStepsOutOfRange { baby_steps, max } => {
                write!(f, "{baby_steps} baby steps: must be 1 to {max}")
            }
        }
    }
}

impl std::error::Error for DlogError {}

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

fn check_bound(bound: u64) -> Result<u64, DlogError> {
    if bound > MAX_BOUND {
        return Err(DlogError::BoundTooLarge {
            bound,
            max: MAX_BOUND,
        });
    }
    Ok(bound)
}

/// ⌈√n⌉ in integers (n ≤ 2^40 + 1, so the square fits in u64 with room to spare).
fn ceil_sqrt(n: u64) -> u64 {
    let mut root = (n as f64).sqrt() as u64;
    while root.saturating_mul(root) > n {
        root -= 1;
    }
    while root.saturating_mul(root) < n {
        root += 1;
    }
    root.max(1)
}

impl DiscreteLogTable {
    /// A table for values up to `bound` (at most [`MAX_BOUND`]), with ⌈√(bound+1)⌉
    /// baby steps.
    pub fn new(bound: u64) -> Result<Self, DlogError> {
        Self::with_baby_steps(bound, ceil_sqrt(check_bound(bound)? + 1))
    }

    /// A table with `baby_steps` entries (1 to [`MAX_BABY_STEPS`]): more memory, fewer
    /// giant steps per solve.
    pub fn with_baby_steps(bound: u64, baby_steps: u64) -> Result<Self, DlogError> {
        let bound = check_bound(bound)?;
        if baby_steps == 0 || baby_steps > MAX_BABY_STEPS {
            return Err(DlogError::BabyStepsOutOfRange {
                baby_steps,
                max: MAX_BABY_STEPS,
            });
        }
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
        Ok(Self {
            bound,
            baby_steps,
            table,
        })
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
        // bound ≤ 2^40 and baby_steps ≥ 1, so neither this nor i·baby_steps + j below
        // can overflow; they are checked all the same, as the result is compared to the
        // bound.
        let giant_steps = (self.bound / self.baby_steps).checked_add(1)?;
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
                    let m = i
                        .checked_add(offset as u64)?
                        .checked_mul(self.baby_steps)?
                        .checked_add(*j)?;
                    return (m <= self.bound).then_some(m);
                }
            }
            i = i.checked_add(take as u64)?;
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
    fn bounds_and_table_sizes_past_the_caps_are_refused_not_allocated() {
        assert_eq!(
            DiscreteLogTable::new(u64::MAX).unwrap_err(),
            DlogError::BoundTooLarge {
                bound: u64::MAX,
                max: MAX_BOUND
            }
        );
        assert!(DiscreteLogTable::new(MAX_BOUND + 1).is_err());
        assert!(DiscreteLogTable::with_baby_steps(MAX_BOUND + 1, 16).is_err());
        assert_eq!(
            DiscreteLogTable::with_baby_steps(10, 0).unwrap_err(),
            DlogError::BabyStepsOutOfRange {
                baby_steps: 0,
                max: MAX_BABY_STEPS
            }
        );
        assert!(DiscreteLogTable::with_baby_steps(10, MAX_BABY_STEPS + 1).is_err());
        assert!(DiscreteLogTable::with_baby_steps(10, u64::MAX).is_err());
    }

    #[test]
    fn the_largest_bound_solves_its_extremes_with_a_small_table() {
        // 2^12 baby steps keep the test cheap; the bound is the cap itself.
        let table = DiscreteLogTable::with_baby_steps(MAX_BOUND, 1 << 12).unwrap();
        assert_eq!(table.solve(&times_g(0)), Some(0));
        assert_eq!(table.solve(&times_g(4097)), Some(4097));
        assert_eq!(ceil_sqrt(MAX_BOUND + 1), (1 << 20) + 1);
        assert_eq!(ceil_sqrt(1), 1);
        assert_eq!(ceil_sqrt(16), 4);
        assert_eq!(ceil_sqrt(17), 5);
    }

    #[test]
    fn solves_every_value_of_a_small_bound_and_nothing_beyond() {
        let table = DiscreteLogTable::new(1000).unwrap();
        for m in 0..=1000 {
            assert_eq!(table.solve(&times_g(m)), Some(m), "{m}");
        }
        assert_eq!(table.solve(&times_g(1001)), None);
        assert_eq!(table.solve(&times_g(5000)), None);
        assert_eq!(table.solve(&(-times_g(1))), None);
    }

    #[test]
    fn solves_large_values_with_custom_table_sizes() {
        let table = DiscreteLogTable::with_baby_steps(10_000_000, 1 << 12).unwrap();
        for m in [0, 1, 4095, 4096, 4097, 9_999_999, 10_000_000] {
            assert_eq!(table.solve(&times_g(m)), Some(m), "{m}");
        }
        assert_eq!(table.solve(&times_g(10_000_001)), None);
        let tiny = DiscreteLogTable::new(0).unwrap();
        assert_eq!(tiny.solve(&times_g(0)), Some(0));
        assert_eq!(tiny.solve(&times_g(1)), None);
    }
}
