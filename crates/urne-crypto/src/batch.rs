//! Verification equations and batch verification (spec/06-batch.md).
//!
//! Every proof states its checks as equations Σ sᵢ·Pᵢ = identity over (scalar, base)
//! terms ([`Relations`]). One proof is checked equation by equation. A batch multiplies
//! every equation by an independent random 128-bit weight, adds the coefficients of
//! bases that recur (G, the election key, a proof's own ciphertext), and runs a single
//! variable-time multiscalar multiplication. If that fails, bisection finds and names
//! the failing proofs. Verification handles only public data, so vartime is safe here.

use std::collections::HashMap;

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT;
use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar as DalekScalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use rand_core::CryptoRng;

use crate::encoding::Point;
use crate::error::VerifyError;
use crate::group::BASEPOINT_ENCODING;
use crate::weaken::{Check, skipped};

/// A base in a verification equation: G, or a handle that [`Relations::shared`] or
/// [`Relations::local`] gave out. Opaque, so a handle cannot be forged to point at
/// another proof's points or past the end of the list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Base(BaseKind);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BaseKind {
    /// The basepoint G.
    G,
    /// A base likely to recur across the proofs of a batch (a public key, a
    /// generator): the batch merges its coefficients by encoding.
    Shared(usize),
    /// A point of this proof alone (commitments, its ciphertext).
    Local(usize),
}

impl Base {
    /// The basepoint G.
    pub const G: Base = Base(BaseKind::G);
}

#[derive(Clone, Copy, Debug)]
struct EquationName {
    name: &'static str,
    index: Option<usize>,
}

/// The verification equations of one proof. Each equation says Σ s·P = identity.
#[derive(Clone, Debug, Default)]
pub struct Relations {
    shared: Vec<Point>,
    locals: Vec<RistrettoPoint>,
    terms: Vec<(DalekScalar, Base)>,
    /// End offset in `terms` of each equation, and its name.
    equations: Vec<(usize, EquationName)>,
}

impl Relations {
    /// No equations yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// No equations yet, with room for the given numbers of shared bases, local points,
    /// terms and equations (a proof knows them; it saves reallocation on the hot path).
    pub fn with_capacity(shared: usize, locals: usize, terms: usize, equations: usize) -> Self {
        Self {
            shared: Vec::with_capacity(shared),
            locals: Vec::with_capacity(locals),
            terms: Vec::with_capacity(terms),
            equations: Vec::with_capacity(equations),
        }
    }

    /// Registers a base that may recur across a batch; G is recognised as G.
    pub fn shared(&mut self, point: &Point) -> Base {
        if point.as_bytes() == &BASEPOINT_ENCODING {
            return Base::G;
        }
        self.shared.push(*point);
        Base(BaseKind::Shared(self.shared.len() - 1))
    }

    /// Registers a point of this proof.
    pub fn local(&mut self, point: &RistrettoPoint) -> Base {
        self.locals.push(*point);
        Base(BaseKind::Local(self.locals.len() - 1))
    }

    /// Adds the equation Σ s·P = identity; `name` is the spec's name for it and
    /// `index` the branch or bit it belongs to, for error reports.
    pub fn equation(
        &mut self,
        name: &'static str,
        index: Option<usize>,
        terms: impl IntoIterator<Item = (DalekScalar, Base)>,
    ) {
        self.terms.extend(terms);
        self.equations
            .push((self.terms.len(), EquationName { name, index }));
    }

    /// Appends another proof's equations (an AND of statements).
    pub fn extend(&mut self, other: Relations) {
        let shared_offset = self.shared.len();
        let local_offset = self.locals.len();
        let term_offset = self.terms.len();
        self.shared.extend(other.shared);
        self.locals.extend(other.locals);
        self.terms.extend(other.terms.into_iter().map(|(s, base)| {
            let base = match base.0 {
                BaseKind::G => BaseKind::G,
                BaseKind::Shared(i) => BaseKind::Shared(i + shared_offset),
                BaseKind::Local(i) => BaseKind::Local(i + local_offset),
            };
            (s, Base(base))
        }));
        self.equations.extend(
            other
                .equations
                .into_iter()
                .map(|(end, n)| (end + term_offset, n)),
        );
    }

    /// Number of equations.
    pub fn len(&self) -> usize {
        self.equations.len()
    }

    /// True when there are no equations.
    pub fn is_empty(&self) -> bool {
        self.equations.is_empty()
    }

    /// Number of points of this proof alone (not shared, not G): in a batch, each is one
    /// term of the multiscalar multiplication, so a benchmark's floor is one MSM of this
    /// many points.
    pub fn local_points(&self) -> usize {
        self.locals.len()
    }

    fn resolve(&self, base: Base) -> RistrettoPoint {
        match base.0 {
            BaseKind::G => RISTRETTO_BASEPOINT_POINT,
            BaseKind::Shared(i) => *self.shared[i].as_ristretto(),
            BaseKind::Local(i) => self.locals[i],
        }
    }

    /// Checks every equation on its own (no randomness); names the first that fails.
    pub fn check(&self) -> Result<(), VerifyError> {
        let mut start = 0;
        for (end, name) in &self.equations {
            let terms = &self.terms[start..*end];
            let sum = RistrettoPoint::vartime_multiscalar_mul(
                terms.iter().map(|(s, _)| s),
                terms.iter().map(|(_, base)| self.resolve(*base)),
            );
            if !sum.is_identity() {
                return Err(VerifyError::EquationFailed {
                    equation: name.name,
                    index: name.index,
                });
            }
            start = *end;
        }
        Ok(())
    }
}

/// A weight 2¹²⁸ + r with r uniform in [0, 2¹²⁸) (spec/06-batch.md): 128 bits of
/// randomness, so false equations cancel with probability at most 2⁻¹²⁸, and never
/// zero mod ℓ, so a single false equation can never be masked, whatever the RNG does.
pub(crate) fn random_weight<R: CryptoRng + ?Sized>(rng: &mut R) -> DalekScalar {
    if skipped(Check::BatchRandomWeights) {
        return DalekScalar::ONE;
    }
    uniform_weight(rng)
}

/// 2^128 + a uniform 128-bit integer, with no switch: callers with their own (the
/// Triptych batch) weaken it under their own name.
pub(crate) fn uniform_weight<R: CryptoRng + ?Sized>(rng: &mut R) -> DalekScalar {
    let mut bytes = [0u8; 32];
    rng.fill_bytes(&mut bytes[..16]);
    bytes[16] = 1;
    DalekScalar::from_bytes_mod_order(bytes)
}

/// Folds the given items into one multiscalar multiplication and says whether it is
/// the identity.
fn check_combined<R: CryptoRng + ?Sized>(items: &[&Relations], rng: &mut R) -> bool {
    #[cfg(test)]
    work::note(|w| w.combined_checks += 1);
    let local_count: usize = items.iter().map(|r| r.locals.len()).sum();
    let mut scalars: Vec<DalekScalar> = Vec::with_capacity(local_count + 8);
    let mut points: Vec<RistrettoPoint> = Vec::with_capacity(local_count + 8);
    let mut g_coefficient = DalekScalar::ZERO;
    let mut shared_index: HashMap<[u8; 32], usize> = HashMap::new();
    let mut shared_points: Vec<RistrettoPoint> = Vec::new();
    let mut shared_coefficients: Vec<DalekScalar> = Vec::new();
    let mut shared_map: Vec<usize> = Vec::new();

    for relations in items {
        shared_map.clear();
        for point in &relations.shared {
            let next = shared_points.len();
            let index = *shared_index.entry(point.to_bytes()).or_insert(next);
            if index == next {
                shared_points.push(*point.as_ristretto());
                shared_coefficients.push(DalekScalar::ZERO);
            }
            shared_map.push(index);
        }
        let local_start = scalars.len();
        scalars.resize(local_start + relations.locals.len(), DalekScalar::ZERO);
        points.extend_from_slice(&relations.locals);

        let per_proof = skipped(Check::BatchWeightPerEquation).then(|| random_weight(rng));
        let mut start = 0;
        for (end, _) in &relations.equations {
            let weight = per_proof.unwrap_or_else(|| random_weight(rng));
            for (s, base) in &relations.terms[start..*end] {
                let coefficient = weight * s;
                match base.0 {
                    BaseKind::G => g_coefficient += coefficient,
                    BaseKind::Shared(i) => shared_coefficients[shared_map[i]] += coefficient,
                    BaseKind::Local(i) => scalars[local_start + i] += coefficient,
                }
            }
            start = *end;
        }
    }
    scalars.push(g_coefficient);
    points.push(RISTRETTO_BASEPOINT_POINT);
    scalars.extend(shared_coefficients);
    points.extend(shared_points);
    RistrettoPoint::vartime_multiscalar_mul(&scalars, &points).is_identity()
}

/// The proofs of a batch that failed, each with the reason, in the order pushed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchFailure<T> {
    /// (tag, reason) of every failing proof.
    pub failures: Vec<(T, VerifyError)>,
}

/// Accumulates proofs' equations and verifies them together.
#[derive(Debug)]
pub struct BatchVerifier<T> {
    items: Vec<(usize, T, Relations)>,
    rejected: Vec<(usize, T, VerifyError)>,
    pushed: usize,
}

impl<T> Default for BatchVerifier<T> {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            rejected: Vec::new(),
            pushed: 0,
        }
    }
}

/// Below this many items, bisection checks each item on its own.
const BISECTION_LEAF: usize = 2;

impl<T> BatchVerifier<T> {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty batch with room for `n` proofs.
    pub fn with_capacity(n: usize) -> Self {
        Self {
            items: Vec::with_capacity(n),
            rejected: Vec::new(),
            pushed: 0,
        }
    }

    /// Adds one proof's equations under `tag` (a record index, a ballot hash…), or its
    /// early failure (a check that needs no group arithmetic, such as a challenge sum).
    pub fn push(&mut self, tag: T, relations: Result<Relations, VerifyError>) {
        let order = self.pushed;
        self.pushed += 1;
        match relations {
            Ok(r) => self.items.push((order, tag, r)),
            Err(e) => self.rejected.push((order, tag, e)),
        }
    }

    /// Number of proofs pushed.
    pub fn len(&self) -> usize {
        self.pushed
    }

    /// True if nothing was pushed.
    pub fn is_empty(&self) -> bool {
        self.pushed == 0
    }

    /// Verifies everything pushed. On failure, names every failing proof.
    pub fn verify<R: CryptoRng + ?Sized>(self, rng: &mut R) -> Result<(), BatchFailure<T>> {
        let Self {
            items,
            mut rejected,
            ..
        } = self;
        let all: Vec<&Relations> = items.iter().map(|(_, _, r)| r).collect();
        let mut guilty = Vec::new();
        if !all.is_empty() && !check_combined(&all, rng) {
            bisect(&items, 0, items.len(), rng, &mut guilty);
            if guilty.is_empty() {
                // The combined check failing proves some equation false; bisection's
                // fresh weights missed it (probability 2^-128). Never answer Ok then:
                // check every proof on its own.
                #[cfg(test)]
                work::note(|w| w.fallbacks += 1);
                check_each(&items, 0, items.len(), &mut guilty);
            }
        }
        if guilty.is_empty() && rejected.is_empty() {
            return Ok(());
        }
        let mut guilty = guilty.into_iter().peekable();
        for (position, (order, tag, _)) in items.into_iter().enumerate() {
            if let Some((_, reason)) = guilty.next_if(|(p, _)| *p == position) {
                rejected.push((order, tag, reason));
            }
        }
        rejected.sort_by_key(|(order, _, _)| *order);
        Err(BatchFailure {
            failures: rejected.into_iter().map(|(_, t, e)| (t, e)).collect(),
        })
    }
}

/// Checks each of `items[start..end]` on its own, equation by equation.
fn check_each<T>(
    items: &[(usize, T, Relations)],
    start: usize,
    end: usize,
    guilty: &mut Vec<(usize, VerifyError)>,
) {
    for (position, (_, _, relations)) in items.iter().enumerate().take(end).skip(start) {
        if let Err(e) = relations.check() {
            guilty.push((position, e));
        }
    }
}

/// Finds the failing items in `items[start..end]`, known to fail as a whole.
fn bisect<T, R: CryptoRng + ?Sized>(
    items: &[(usize, T, Relations)],
    start: usize,
    end: usize,
    rng: &mut R,
    guilty: &mut Vec<(usize, VerifyError)>,
) {
    if end - start <= BISECTION_LEAF {
        check_each(items, start, end, guilty);
        return;
    }
    let middle = start + (end - start) / 2;
    for (lo, hi) in [(start, middle), (middle, end)] {
        let half: Vec<&Relations> = items[lo..hi].iter().map(|(_, _, r)| r).collect();
        if !check_combined(&half, rng) {
            bisect(items, lo, hi, rng, guilty);
        }
    }
}

/// What a batch verification did, counted in tests: the verdict alone cannot show that
/// a valid batch took one multiscalar multiplication, or that bisection (not the
/// one-by-one fallback) found the failing proofs.
#[cfg(test)]
mod work {
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub(crate) struct Work {
        pub(crate) combined_checks: usize,
        pub(crate) fallbacks: usize,
    }

    std::thread_local! {
        static WORK: core::cell::Cell<Work> = const {
            core::cell::Cell::new(Work { combined_checks: 0, fallbacks: 0 })
        };
    }

    pub(crate) fn note(f: impl FnOnce(&mut Work)) {
        WORK.with(|w| {
            let mut current = w.get();
            f(&mut current);
            w.set(current);
        });
    }

    /// The work counted since the last call.
    pub(crate) fn take() -> Work {
        WORK.with(|w| w.replace(Work::default()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE;

    /// x·G − X = 0 for a claimed X.
    fn claim(x: u64, claimed: u64) -> Relations {
        let mut r = Relations::new();
        let big_x = RISTRETTO_BASEPOINT_TABLE * &DalekScalar::from(claimed);
        let local = r.local(&big_x);
        r.equation(
            "xG = X",
            None,
            [(DalekScalar::from(x), Base::G), (-DalekScalar::ONE, local)],
        );
        r
    }

    #[test]
    fn batch_accepts_true_equations_and_names_each_false_one() {
        let mut rng = rand::rng();
        let mut batch = BatchVerifier::new();
        for i in 0..37u64 {
            let claimed = if i == 3 || i == 20 || i == 36 {
                i + 1
            } else {
                i
            };
            batch.push(i, Ok(claim(i, claimed)));
        }
        batch.push(99, Err(VerifyError::ChallengeSumMismatch { bit: None }));
        let failure = batch.verify(&mut rng).unwrap_err();
        let tags: Vec<u64> = failure.failures.iter().map(|(t, _)| *t).collect();
        assert_eq!(tags, vec![3, 20, 36, 99]);

        let mut good = BatchVerifier::new();
        for i in 0..10u64 {
            good.push(i, Ok(claim(i, i)));
        }
        assert!(good.verify(&mut rng).is_ok());
        assert!(BatchVerifier::<u8>::new().verify(&mut rng).is_ok());
    }

    #[test]
    fn shared_bases_merge_and_still_catch_errors() {
        let mut rng = rand::rng();
        let h = crate::group::generator_h();
        let mut batch = BatchVerifier::new();
        for i in 0..8u64 {
            // i·H − (i·H) = 0, with H shared; item 5 claims the wrong point.
            let mut r = Relations::new();
            let base = r.shared(&h);
            let target = h.as_ristretto() * DalekScalar::from(if i == 5 { i + 2 } else { i });
            let local = r.local(&target);
            r.equation(
                "iH = T",
                Some(i as usize),
                [(DalekScalar::from(i), base), (-DalekScalar::ONE, local)],
            );
            batch.push(i, Ok(r));
        }
        let failure = batch.verify(&mut rng).unwrap_err();
        assert_eq!(failure.failures.len(), 1);
        assert_eq!(failure.failures[0].0, 5);
        assert_eq!(
            failure.failures[0].1,
            VerifyError::EquationFailed {
                equation: "iH = T",
                index: Some(5)
            }
        );
    }

    /// An "RNG" that returns a scripted sequence of 16-byte weights (the byte value
    /// repeated), for driving the batch through paths honest randomness reaches with
    /// negligible probability.
    struct ScriptedWeights(std::vec::IntoIter<u8>);

    impl rand_core::TryRng for ScriptedWeights {
        type Error = core::convert::Infallible;
        fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
            Ok(0)
        }
        fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
            Ok(0)
        }
        fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
            dst.fill(self.0.next().unwrap_or(0));
            Ok(())
        }
    }
    impl rand_core::TryCryptoRng for ScriptedWeights {}

    /// A proof whose two equations are each off by ±G: with equal weights they cancel.
    fn cancelling_pair() -> Relations {
        let mut r = Relations::new();
        r.equation("off by +G", Some(0), [(DalekScalar::ONE, Base::G)]);
        r.equation("off by -G", Some(1), [(-DalekScalar::ONE, Base::G)]);
        r
    }

    #[test]
    fn a_failed_batch_never_passes_even_when_bisection_weights_are_unlucky() {
        // Batch [bad, good, good]. First check: bad's equations get different weights
        // (1, 2), so the batch fails. Bisection then checks [bad] with equal weights
        // (5, 5): the errors cancel and that half passes; [good, good] passes too. The
        // verifier must still not answer Ok, and must name the bad proof.
        let mut batch = BatchVerifier::new();
        batch.push("bad", Ok(cancelling_pair()));
        batch.push("good 1", Ok(claim(1, 1)));
        batch.push("good 2", Ok(claim(2, 2)));
        let mut rng = ScriptedWeights(vec![1, 2, 3, 4, 5, 5, 6, 7].into_iter());
        let failure = batch.verify(&mut rng).unwrap_err();
        assert_eq!(failure.failures.len(), 1);
        assert_eq!(failure.failures[0].0, "bad");
        assert_eq!(
            failure.failures[0].1,
            VerifyError::EquationFailed {
                equation: "off by +G",
                index: Some(0)
            }
        );
    }

    #[test]
    fn an_all_zero_rng_cannot_make_a_false_equation_pass() {
        let mut batch = BatchVerifier::new();
        batch.push(0, Ok(claim(3, 4)));
        batch.push(1, Ok(claim(5, 5)));
        let mut zeros = ScriptedWeights(Vec::new().into_iter());
        let failure = batch.verify(&mut zeros).unwrap_err();
        assert_eq!(
            failure.failures.iter().map(|(t, _)| *t).collect::<Vec<_>>(),
            vec![0]
        );
    }

    /// Real proofs: G, a shared key and local points in every equation.
    fn honest_range_proofs(n: usize) -> Vec<Relations> {
        use crate::proofs::{RangeProof, ValueRange};
        use crate::transcript::{ContextHash, ProofContext};
        let mut rng = rand::rng();
        let key = crate::EncryptionKey::new(crate::SecretKey::generate(&mut rng).public_key());
        let hash = ContextHash([4; 32]);
        let range = ValueRange::new(0, 3).unwrap();
        (0..n)
            .map(|i| {
                let ctx = ProofContext::new(&hash, b"batch");
                let (ct, proof, _) =
                    RangeProof::encrypt_and_prove(&ctx, &key, (i % 4) as u64, range, &mut rng)
                        .unwrap();
                proof.relations(&ctx, key.public_key(), &ct, range).unwrap()
            })
            .collect()
    }

    #[test]
    fn a_valid_batch_passes_in_one_combined_check() {
        let proofs = honest_range_proofs(6);
        let mut rng = rand::rng();
        let refs: Vec<&Relations> = proofs.iter().collect();
        assert!(check_combined(&refs, &mut rng));
        work::take();
        let mut batch = BatchVerifier::new();
        for (i, r) in proofs.into_iter().enumerate() {
            batch.push(i, Ok(r));
        }
        assert!(batch.verify(&mut rng).is_ok());
        assert_eq!(
            work::take(),
            work::Work {
                combined_checks: 1,
                fallbacks: 0
            }
        );
    }

    #[test]
    fn bisection_itself_finds_the_failing_proofs() {
        let mut rng = rand::rng();
        let mut batch = BatchVerifier::new();
        let bad = [3u64, 20, 36];
        for i in 0..37u64 {
            let claimed = if bad.contains(&i) { i + 1 } else { i };
            batch.push(i, Ok(claim(i, claimed)));
        }
        work::take();
        let failure = batch.verify(&mut rng).unwrap_err();
        let tags: Vec<u64> = failure.failures.iter().map(|(t, _)| *t).collect();
        assert_eq!(tags, bad);
        let work = work::take();
        assert_eq!(
            work.fallbacks, 0,
            "bisection missed, the fallback found them"
        );
        // One check of the whole, then at most two per level of the bisection tree for
        // each failing proof (6 levels for 37 items): far fewer than checking each.
        assert!(
            work.combined_checks > 1 && work.combined_checks <= 1 + 2 * 6 * bad.len(),
            "{work:?}"
        );
    }

    #[test]
    fn extend_renumbers_shared_bases_locals_and_equation_ends() {
        // A DLEQ (two shared bases, three locals, two equations of three terms) AND a
        // range proof (one shared key, four equations): every index of the second must
        // be moved past the first's, or its equations read the first's points.
        use crate::proofs::{DleqProof, DleqStatement};
        use crate::transcript::{ContextHash, ProofContext};
        let mut rng = rand::rng();
        let hash = ContextHash([6; 32]);
        let ctx = ProofContext::new(&hash, b"and");
        let x = crate::SecretScalar::random(&mut rng);
        let g = crate::group::basepoint();
        let h = crate::group::generator_h();
        let x1 = x.times_basepoint();
        let x2 = &x * &h;
        let statement = DleqStatement {
            G1: &g,
            X1: &x1,
            G2: &h,
            X2: &x2,
        };
        let dleq = DleqProof::prove(&ctx, &statement, &x, &mut rng).unwrap();
        let dleq_relations = || dleq.relations(&ctx, &statement).unwrap();
        let range = honest_range_proofs(1).remove(0);
        assert_eq!((dleq_relations().shared.len(), range.shared.len()), (2, 1));
        let mut both = dleq_relations();
        both.extend(range.clone());
        assert_eq!(both.len(), 2 + range.len());
        assert!(both.check().is_ok());
        let mut batch = BatchVerifier::new();
        batch.push(0, Ok(both));
        assert!(batch.verify(&mut rng).is_ok());
        // The other way round, and with a false statement second: still caught.
        let mut reversed = range.clone();
        reversed.extend(dleq_relations());
        assert!(reversed.check().is_ok());
        let mut with_false = dleq_relations();
        with_false.extend(claim(3, 4));
        assert!(with_false.check().is_err());
    }

    #[test]
    fn extend_renumbers_bases() {
        let mut a = claim(2, 2);
        a.extend(claim(3, 4));
        assert_eq!(a.len(), 2);
        assert!(a.check().is_err());
        let mut b = claim(2, 2);
        b.extend(claim(3, 3));
        assert!(b.check().is_ok());
    }
}
