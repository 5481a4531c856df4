//! The checks a verifier makes, named as in spec/04-proofs.md and spec/06-batch.md, and
//! (feature `test-weakened-verifier`, tests only) a switch that skips one of them.
//!
//! Why a switch exists at all: the golden vectors must catch a verifier that forgets a
//! check. The vector tests skip each check in turn and require some vector to be
//! accepted wrongly; a check whose removal no vector notices is a check other
//! implementations can silently drop. Without the feature, [`skipped`] is the constant
//! `false` and the switch does not exist.

/// One check of one verifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Check {
    /// Schnorr E1: z·G = A + c·X (§4.2).
    SchnorrE1,
    /// DLEQ E1: z·G1 = A1 + c·X1 (§4.3).
    DleqE1,
    /// DLEQ E2: z·G2 = A2 + c·X2 (§4.3).
    DleqE2,
    /// Range proof: as many branches as values in [min, max] (§4.4).
    RangeBranchCount,
    /// Range proof: the branch challenges sum to c (§4.4).
    RangeChallengeSum,
    /// Range proof E1ᵢ: z·G = A + c·α (§4.4).
    RangeE1,
    /// Range proof E2ᵢ: z·K = B + c·(β − j·G) (§4.4).
    RangeE2,
    /// Bit range proof: as many bits as the statement says (§4.5).
    BitCount,
    /// Bit range proof: each bit's two branch challenges sum to c (§4.5).
    BitChallengeSum,
    /// Bit range proof R1: Σ 2^i·αᵢ = α (§4.5).
    BitR1,
    /// Bit range proof R2: Σ 2^i·βᵢ = β (§4.5).
    BitR2,
    /// Bit range proof, E1 of a bit's branch (§4.5).
    BitE1,
    /// Bit range proof, E2 of a bit's branch (§4.5).
    BitE2,
    /// Batch: random weights, not all 1 (§6 step 1).
    BatchRandomWeights,
    /// Triptych E1: A + ξ·B = Com(f; z_A) (spec/08 §8.8).
    TriptychE1,
    /// Triptych E2: ξ·C + D = Com(f∘(ξ − f); z_C) (spec/08 §8.8).
    TriptychE2,
    /// Triptych E3: Σ t_k·M_k − Σ ξ^j·X_j = z·G (spec/08 §8.8).
    TriptychE3,
    /// Triptych E4: ξ^m·U − Σ ξ^j·Y_j = z·J (spec/08 §8.8).
    TriptychE4,
    /// Triptych E5, attribute disclosure: Σ t_k·C_k − ξ^m·Q − Σ ξ^j·W_j = z_b·H
    /// (spec/08 §8.12).
    TriptychE5,
    /// Batch: one weight per equation, not one per proof (§6 step 1).
    BatchWeightPerEquation,
    /// Triptych batch: random weights, not all 1 (spec/08 §8.9).
    TriptychBatchRandomWeights,
    /// Triptych batch: one weight per equation, not one per signature (spec/08 §8.9).
    TriptychBatchWeightPerEquation,
}

impl Check {
    /// Every check, in the order of the spec.
    #[cfg_attr(not(feature = "hazmat"), allow(dead_code))]
    pub const ALL: [Check; 22] = [
        Check::SchnorrE1,
        Check::DleqE1,
        Check::DleqE2,
        Check::RangeBranchCount,
        Check::RangeChallengeSum,
        Check::RangeE1,
        Check::RangeE2,
        Check::BitCount,
        Check::BitChallengeSum,
        Check::BitR1,
        Check::BitR2,
        Check::BitE1,
        Check::BitE2,
        Check::BatchRandomWeights,
        Check::BatchWeightPerEquation,
        Check::TriptychE1,
        Check::TriptychE2,
        Check::TriptychE3,
        Check::TriptychE4,
        Check::TriptychE5,
        Check::TriptychBatchRandomWeights,
        Check::TriptychBatchWeightPerEquation,
    ];
}

#[cfg(feature = "test-weakened-verifier")]
std::thread_local! {
    static SKIPPED: core::cell::Cell<Option<Check>> = const { core::cell::Cell::new(None) };
}

/// True if `check` is switched off on this thread (never, without the feature).
#[inline(always)]
pub(crate) fn skipped(check: Check) -> bool {
    #[cfg(feature = "test-weakened-verifier")]
    {
        SKIPPED.with(|s| s.get() == Some(check))
    }
    #[cfg(not(feature = "test-weakened-verifier"))]
    {
        let _ = check;
        false
    }
}

/// While alive, the verifiers on this thread skip one check. Tests only.
#[cfg(feature = "test-weakened-verifier")]
#[derive(Debug)]
pub struct Weakened {
    previous: Option<Check>,
}

#[cfg(feature = "test-weakened-verifier")]
impl Weakened {
    /// Skips `check` on this thread until the guard is dropped.
    pub fn skip(check: Check) -> Self {
        Self {
            previous: SKIPPED.with(|s| s.replace(Some(check))),
        }
    }
}

#[cfg(feature = "test-weakened-verifier")]
impl Drop for Weakened {
    fn drop(&mut self) {
        SKIPPED.with(|s| s.set(self.previous));
    }
}
