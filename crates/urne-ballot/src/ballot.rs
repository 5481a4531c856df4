//! Encrypted ballots: one ciphertext per option with its range proof, one proof per
//! contest on the homomorphic sum, every proof bound to the election, the contest, the
//! option and the credential (spec/21-ballots.md §21.4–§21.6).

use core::fmt;

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE;
use curve25519_dalek::scalar::Scalar as DalekScalar;
use urne_crypto::proofs::{BitRangeProof, MAX_BITS, MAX_RANGE_BRANCHES, RangeProof, ValueRange};
use urne_crypto::rand_core::CryptoRng;
#[cfg(feature = "hazmat")]
use urne_crypto::secret::NonceCountMismatch;
use urne_crypto::{
    Ciphertext, ContextHash, EncryptionKey, Opening, Point, ProofContext, ProveError, Relations,
    Scalar, SecretScalar, VerifyError,
};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::election::{CredentialKey, Election};
use crate::labels::PROOF_BINDING;
use crate::manifest::{Contest, ContestRules, MAX_CONTESTS, MAX_OPTIONS, SpendRules};
use crate::wire::{DecodeError, Problem, Reader, put_sized};

/// Version byte of the ballot encoding of an election without budget contests.
pub const BALLOT_VERSION: u8 = 1;
/// Version byte of a ballot that carries a spend proof (an election with a budget
/// contest): a bit per contest then says whether one follows (spec/21 §21.5).
pub const BALLOT_VERSION_SPEND: u8 = 2;

const MAX_RANGE_PROOF_LEN: usize = 1 + 128 * MAX_RANGE_BRANCHES;
const MAX_BIT_PROOF_LEN: usize = 1 + 320 * MAX_BITS;

/// Why a ballot could not be made, decoded or verified. Every variant names where.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BallotError {
    /// The bytes are not a ballot.
    #[error("malformed ballot: {0}")]
    Decode(#[from] DecodeError),
    /// The ballot names another election's context hash.
    #[error("the ballot was made for another election (its context hash differs)")]
    WrongElection,
    /// The ballot names another credential than the one it is checked for.
    #[error("the ballot names another credential than the one that cast it")]
    WrongCredential,
    /// The ballot's shape does not match the manifest.
    #[error("field `{field}`: the manifest needs {expected}, the ballot has {found}")]
    Shape {
        /// Where.
        field: String,
        /// What the manifest needs.
        expected: usize,
        /// What the ballot has.
        found: usize,
    },
    /// A sum proof of the other kind than the contest's range requires.
    #[error("field `{field}`: the contest's range needs a {expected} proof")]
    SumProofKind {
        /// Where.
        field: String,
        /// The kind required (`range` or `bits`).
        expected: &'static str,
    },
    /// A proof does not verify.
    #[error("field `{field}`: {error}")]
    Proof {
        /// Which proof.
        field: String,
        /// Which of its checks failed.
        error: VerifyError,
    },
    /// The voter's selection breaks the contest's rule; nothing was encrypted.
    #[error("contest {contest}: {detail}")]
    InvalidSelection {
        /// Index of the contest.
        contest: usize,
        /// The rule broken.
        detail: &'static str,
    },
    /// A prover refused (it never proves a false statement).
    #[error("field `{field}`: the prover refused: {error}")]
    Prove {
        /// Which proof.
        field: String,
        /// Why.
        error: ProveError,
    },
}

/// A voter's choices in one contest: a value per option (0/1, or points), or the blank
/// vote. Wiped on drop; `Debug` shows nothing.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct ContestSelection {
    pub(crate) values: Vec<u64>,
    pub(crate) blank: bool,
}

impl fmt::Debug for ContestSelection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ContestSelection(<redacted>)")
    }
}

impl ContestSelection {
    /// A value per option, in manifest order.
    pub fn values(values: Vec<u64>) -> Self {
        Self {
            values,
            blank: false,
        }
    }

    /// The one option `choice` of `options`; `None` if there is no such option.
    pub fn single(options: usize, choice: usize) -> Option<Self> {
        Self::approve(options, &[choice])
    }

    /// The options `chosen` of `options`; `None` if an index names no option or comes
    /// twice (silently dropping or merging a choice would change the vote).
    pub fn approve(options: usize, chosen: &[usize]) -> Option<Self> {
        let mut values = vec![0; options];
        for &i in chosen {
            let value = values.get_mut(i)?;
            if *value == 1 {
                return None;
            }
            *value = 1;
        }
        Some(Self::values(values))
    }

    /// The explicit blank vote of a contest with `options` options.
    pub fn blank(options: usize) -> Self {
        Self {
            values: vec![0; options],
            blank: true,
        }
    }

    /// The value of each option.
    pub fn option_values(&self) -> &[u64] {
        &self.values
    }

    /// Whether this is the blank vote.
    pub fn is_blank(&self) -> bool {
        self.blank
    }

    /// Checks the selection against the contest's rule (spec/21-ballots.md §21.4).
    pub(crate) fn check(&self, contest: &Contest, index: usize) -> Result<(), BallotError> {
        let refuse = |detail| {
            Err(BallotError::InvalidSelection {
                contest: index,
                detail,
            })
        };
        let rules = contest.rules();
        if self.values.len() != contest.options.len() {
            return refuse("the selection does not have one value per option");
        }
        if self.values.iter().any(|v| *v > rules.per_option_max) {
            return refuse("an option holds more than the per-option maximum");
        }
        let sum: u64 = self.values.iter().sum();
        if self.blank {
            if !contest.blank {
                return refuse("the contest has no blank vote");
            }
            if sum != 0 {
                return refuse("a blank vote selects nothing else");
            }
            return Ok(());
        }
        if sum > rules.max {
            return refuse("more selections than the contest's maximum (overvote)");
        }
        if sum < rules.min {
            return refuse("fewer selections than the contest's minimum (undervote)");
        }
        if let Some(spending) = contest.spending() {
            let spend = spending.spend(&self.values);
            if spend > u128::from(spending.max) {
                return refuse("the chosen projects cost more than the budget (overspend)");
            }
            if spend < u128::from(spending.min) {
                return refuse("the chosen projects spend less than the contest's minimum");
            }
        }
        Ok(())
    }
}

/// One option's ciphertext and the proof that it encrypts 0..=per-option maximum.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncryptedOption {
    /// Enc(x; r) under the joint key.
    pub ciphertext: Ciphertext,
    /// x ∈ [0, per-option maximum].
    pub proof: RangeProof,
}

/// The proof that a contest's sum lies in [min, max].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SumProof {
    /// max − min < 256: one disjunctive proof over [min, max]. Tag 1.
    Range(RangeProof),
    /// Wider ranges: sum − min and max − sum both in [0, 2^k), k the bit length of
    /// max − min. Tag 2.
    Bits {
        /// On Enc(sum) − min·G.
        above_min: BitRangeProof,
        /// On max·G − Enc(sum).
        below_max: BitRangeProof,
    },
}

/// One contest of a ballot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContestBallot {
    /// One per option, in manifest order.
    pub options: Vec<EncryptedOption>,
    /// The blank vote's 0/1 ciphertext, present exactly when the contest offers one.
    pub blank: Option<EncryptedOption>,
    /// The proof on Σ options + max·blank.
    pub sum_proof: SumProof,
    /// The proof on Σ costᵢ·optionᵢ + min_spend·blank, present exactly in a budget
    /// contest (spec/21 §21.4).
    pub spend_proof: Option<SumProof>,
}

/// An encrypted ballot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ballot {
    /// The election it was made for.
    pub context: ContextHash,
    /// The credential it was made for.
    pub credential: CredentialKey,
    /// One per contest, in manifest order.
    pub contests: Vec<ContestBallot>,
}

/// Which proof of a contest binding bytes are for.
#[derive(Clone, Copy)]
#[repr(u8)]
enum Role {
    Option = 0,
    Blank = 1,
    Sum = 2,
    SumAboveMin = 3,
    SumBelowMax = 4,
    Spend = 5,
    SpendAboveMin = 6,
    SpendBelowMax = 7,
}

/// The roles of the proofs of one proven sum: tag 1, and tag 2's two halves.
#[derive(Clone, Copy)]
struct SumRoles {
    range: Role,
    above_min: Role,
    below_max: Role,
}

const COUNT: SumRoles = SumRoles {
    range: Role::Sum,
    above_min: Role::SumAboveMin,
    below_max: Role::SumBelowMax,
};

const SPEND: SumRoles = SumRoles {
    range: Role::Spend,
    above_min: Role::SpendAboveMin,
    below_max: Role::SpendBelowMax,
};

const BINDING_LEN: usize = PROOF_BINDING.len() + 32 + 2 + 1 + 2;

/// label ‖ credential ‖ u16 contest ‖ role ‖ u16 option (spec/21-ballots.md §21.5).
fn binding(
    credential: &CredentialKey,
    contest: usize,
    role: Role,
    option: usize,
) -> [u8; BINDING_LEN] {
    let mut out = [0u8; BINDING_LEN];
    let (label, rest) = out.split_at_mut(PROOF_BINDING.len());
    label.copy_from_slice(PROOF_BINDING);
    rest[..32].copy_from_slice(&credential.0);
    // Indices are below MAX_CONTESTS and MAX_OPTIONS + 1: they fit in u16.
    rest[32..34].copy_from_slice(&(contest as u16).to_be_bytes());
    rest[34] = role as u8;
    rest[35..37].copy_from_slice(&(option as u16).to_be_bytes());
    out
}

/// The proven sum of a contest: Σ options + max·blank.
fn contest_sum(
    options: &[EncryptedOption],
    blank: Option<&EncryptedOption>,
    max: u64,
) -> Ciphertext {
    let mut alpha = curve25519_dalek::RistrettoPoint::default();
    let mut beta = curve25519_dalek::RistrettoPoint::default();
    for option in options {
        alpha += option.ciphertext.alpha().as_ristretto();
        beta += option.ciphertext.beta().as_ristretto();
    }
    if let Some(blank) = blank {
        let weight = DalekScalar::from(max);
        alpha += blank.ciphertext.alpha().as_ristretto() * weight;
        beta += blank.ciphertext.beta().as_ristretto() * weight;
    }
    Ciphertext::new(Point::from_ristretto(alpha), Point::from_ristretto(beta))
}

/// The proven spend of a budget contest: Σ costᵢ·Cᵢ + min_spend·C_b, from public
/// ciphertexts and costs (hence variable time).
fn spend_sum(
    options: &[EncryptedOption],
    blank: Option<&EncryptedOption>,
    spending: &SpendRules<'_>,
) -> Ciphertext {
    use curve25519_dalek::traits::VartimeMultiscalarMul;
    let weights: Vec<DalekScalar> = spending
        .costs
        .iter()
        .map(|&cost| DalekScalar::from(cost))
        .chain(blank.map(|_| DalekScalar::from(spending.min)))
        .collect();
    let ciphertexts = || options.iter().chain(blank).map(|o| &o.ciphertext);
    let alpha = curve25519_dalek::RistrettoPoint::vartime_multiscalar_mul(
        &weights,
        ciphertexts().map(|c| c.alpha().as_ristretto()),
    );
    let beta = curve25519_dalek::RistrettoPoint::vartime_multiscalar_mul(
        &weights,
        ciphertexts().map(|c| c.beta().as_ristretto()),
    );
    Ciphertext::new(Point::from_ristretto(alpha), Point::from_ristretto(beta))
}

/// Enc(s) − min·G and max·G − Enc(s): the two ciphertexts of a wide sum proof.
fn wide_parts(sum: &Ciphertext, min: u64, max: u64) -> (Ciphertext, Ciphertext) {
    let min_g = RISTRETTO_BASEPOINT_TABLE * &DalekScalar::from(min);
    let max_g = RISTRETTO_BASEPOINT_TABLE * &DalekScalar::from(max);
    let above = Ciphertext::new(
        *sum.alpha(),
        Point::from_ristretto(sum.beta().as_ristretto() - min_g),
    );
    let below = Ciphertext::new(
        Point::from_ristretto(-sum.alpha().as_ristretto()),
        Point::from_ristretto(max_g - sum.beta().as_ristretto()),
    );
    (above, below)
}

/// How a contest's sum is proven: a disjunctive range, or k-bit ranges on both sides.
enum SumStatement {
    Range(ValueRange),
    Bits(usize),
}

fn sum_statement(min: u64, max: u64) -> Result<SumStatement, VerifyError> {
    // Manifests keep min ≤ max; a wrapped width would be refused as a statement.
    let width = max.wrapping_sub(min);
    if width < MAX_RANGE_BRANCHES as u64 {
        ValueRange::new(min, max).map(SumStatement::Range)
    } else {
        Ok(SumStatement::Bits(
            (u64::BITS - width.leading_zeros()) as usize,
        ))
    }
}

fn option_range(rules: &ContestRules) -> Result<ValueRange, VerifyError> {
    ValueRange::new(0, rules.per_option_max)
}

/// A ciphertext's opening as the device keeps it: the vote and the nonce, both wiped on
/// drop (urne-crypto's `Opening` wipes only the nonce).
pub(crate) struct SecretOpening {
    value: u64,
    nonce: SecretScalar,
}

impl SecretOpening {
    fn keep(opening: &Opening) -> Self {
        Self {
            value: opening.message(),
            nonce: opening.nonce().duplicate(),
        }
    }
}

impl Drop for SecretOpening {
    fn drop(&mut self) {
        self.value.zeroize();
    }
}

/// The openings of one contest's ciphertexts.
pub(crate) struct ContestOpenings {
    pub(crate) options: Vec<SecretOpening>,
    pub(crate) blank: Option<SecretOpening>,
}

/// What the voter's device keeps after encrypting: every ciphertext's opening. Handed
/// over only to make an [`crate::AuditedBallot`] (the ballot is then spoiled); dropped,
/// and wiped, once the ballot is cast.
pub struct BallotSecrets {
    pub(crate) contests: Vec<ContestOpenings>,
}

impl fmt::Debug for BallotSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BallotSecrets(<redacted>)")
    }
}

/// Where a ballot's nonces come from: fresh (hedged) randomness, or a given list.
pub(crate) trait Prover {
    fn encrypt_and_prove(
        &mut self,
        context: &ProofContext<'_>,
        key: &EncryptionKey,
        value: u64,
        range: ValueRange,
    ) -> Result<(Ciphertext, RangeProof, Opening), ProveError>;

    fn range(
        &mut self,
        context: &ProofContext<'_>,
        key: &EncryptionKey,
        ciphertext: &Ciphertext,
        opening: &Opening,
        range: ValueRange,
    ) -> Result<RangeProof, ProveError>;

    fn bits(
        &mut self,
        context: &ProofContext<'_>,
        key: &EncryptionKey,
        ciphertext: &Ciphertext,
        opening: &Opening,
        bits: usize,
    ) -> Result<BitRangeProof, ProveError>;
}

pub(crate) struct Fresh<'a, R: ?Sized>(pub(crate) &'a mut R);

impl<R: CryptoRng + ?Sized> Prover for Fresh<'_, R> {
    fn encrypt_and_prove(
        &mut self,
        context: &ProofContext<'_>,
        key: &EncryptionKey,
        value: u64,
        range: ValueRange,
    ) -> Result<(Ciphertext, RangeProof, Opening), ProveError> {
        RangeProof::encrypt_and_prove(context, key, value, range, self.0)
    }

    fn range(
        &mut self,
        context: &ProofContext<'_>,
        key: &EncryptionKey,
        ciphertext: &Ciphertext,
        opening: &Opening,
        range: ValueRange,
    ) -> Result<RangeProof, ProveError> {
        RangeProof::prove(context, key, ciphertext, opening, range, self.0)
    }

    fn bits(
        &mut self,
        context: &ProofContext<'_>,
        key: &EncryptionKey,
        ciphertext: &Ciphertext,
        opening: &Opening,
        bits: usize,
    ) -> Result<BitRangeProof, ProveError> {
        BitRangeProof::prove(context, key, ciphertext, opening, bits, self.0)
    }
}

/// Given nonces, consumed in order (spec/21-ballots.md §21.9).
#[cfg(feature = "hazmat")]
struct Given<'a>(&'a [SecretScalar]);

#[cfg(feature = "hazmat")]
impl<'a> Given<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [SecretScalar], ProveError> {
        if self.0.len() < n {
            return Err(ProveError::NonceCount(NonceCountMismatch {
                expected: n,
                found: self.0.len(),
            }));
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }
}

#[cfg(feature = "hazmat")]
impl Prover for Given<'_> {
    fn encrypt_and_prove(
        &mut self,
        context: &ProofContext<'_>,
        key: &EncryptionKey,
        value: u64,
        range: ValueRange,
    ) -> Result<(Ciphertext, RangeProof, Opening), ProveError> {
        let opening = Opening::new(value, self.take(1)?[0].duplicate());
        let ciphertext = key.encrypt_opening(&opening);
        let proof = urne_crypto::hazmat::range_prove_with_nonces(
            context,
            key,
            &ciphertext,
            &opening,
            range,
            self.take(2 * range.len())?,
        )?;
        Ok((ciphertext, proof, opening))
    }

    fn range(
        &mut self,
        context: &ProofContext<'_>,
        key: &EncryptionKey,
        ciphertext: &Ciphertext,
        opening: &Opening,
        range: ValueRange,
    ) -> Result<RangeProof, ProveError> {
        let nonces = self.take(2 * range.len())?;
        urne_crypto::hazmat::range_prove_with_nonces(
            context, key, ciphertext, opening, range, nonces,
        )
    }

    fn bits(
        &mut self,
        context: &ProofContext<'_>,
        key: &EncryptionKey,
        ciphertext: &Ciphertext,
        opening: &Opening,
        bits: usize,
    ) -> Result<BitRangeProof, ProveError> {
        let nonces = self.take((bits.max(1) - 1) + 4 * bits)?;
        urne_crypto::hazmat::bit_range_prove_with_nonces(
            context, key, ciphertext, opening, bits, nonces,
        )
    }
}

/// A statement the verifier checks, with the field that names it in errors.
enum Check<'a> {
    Range {
        proof: &'a RangeProof,
        ciphertext: Ciphertext,
        range: ValueRange,
        binding: [u8; BINDING_LEN],
    },
    Bits {
        proof: &'a BitRangeProof,
        ciphertext: Ciphertext,
        bits: usize,
        binding: [u8; BINDING_LEN],
    },
}

impl Check<'_> {
    /// The statement's equations, bound to the election context and its binding bytes.
    fn relations(
        &self,
        context: &ContextHash,
        key: &urne_crypto::PublicKey,
    ) -> Result<Relations, urne_crypto::VerifyError> {
        match self {
            Check::Range {
                proof,
                ciphertext,
                range,
                binding,
            } => proof.relations(
                &ProofContext::new(context, binding),
                key,
                ciphertext,
                *range,
            ),
            Check::Bits {
                proof,
                ciphertext,
                bits,
                binding,
            } => proof.relations(&ProofContext::new(context, binding), key, ciphertext, *bits),
        }
    }
}

/// A proven sum of one contest: its bounds, its proofs' roles, and the field that names
/// it in errors (spec/21 §21.4: the count, and in a budget contest the spend).
struct Statement<'a> {
    credential: &'a CredentialKey,
    contest: usize,
    min: u64,
    max: u64,
    roles: SumRoles,
    field: String,
}

impl Statement<'_> {
    fn kind(&self) -> Result<SumStatement, VerifyError> {
        sum_statement(self.min, self.max)
    }

    fn binding(&self, role: Role) -> [u8; BINDING_LEN] {
        binding(self.credential, self.contest, role, 0)
    }

    /// Proves `value` (under `nonce`) in [min, max] on `sum`.
    fn prove<P: Prover>(
        &self,
        prover: &mut P,
        context: &ContextHash,
        key: &EncryptionKey,
        sum: &Ciphertext,
        value: &u64,
        nonce: &DalekScalar,
    ) -> Result<SumProof, BallotError> {
        let prove_err = |field: String| move |error| BallotError::Prove { field, error };
        let kind = self.kind().map_err(|error| BallotError::Prove {
            field: self.field.clone(),
            error: match error {
                VerifyError::InvalidStatement { detail } => ProveError::InvalidStatement { detail },
                _ => ProveError::WitnessMismatch,
            },
        })?;
        Ok(match kind {
            SumStatement::Range(range) => {
                let bind = self.binding(self.roles.range);
                let opening = Opening::new(*value, SecretScalar::from_dalek(*nonce));
                SumProof::Range(
                    prover
                        .range(
                            &ProofContext::new(context, &bind),
                            key,
                            sum,
                            &opening,
                            range,
                        )
                        .map_err(prove_err(self.field.clone()))?,
                )
            }
            SumStatement::Bits(bits) => {
                let (above, below) = wide_parts(sum, self.min, self.max);
                // Out-of-range sums wrap to values the bit provers refuse.
                let above_opening = Opening::new(
                    (*value).wrapping_sub(self.min),
                    SecretScalar::from_dalek(*nonce),
                );
                let below_opening = Opening::new(
                    self.max.wrapping_sub(*value),
                    SecretScalar::from_dalek(-*nonce),
                );
                let bind_above = self.binding(self.roles.above_min);
                let bind_below = self.binding(self.roles.below_max);
                SumProof::Bits {
                    above_min: prover
                        .bits(
                            &ProofContext::new(context, &bind_above),
                            key,
                            &above,
                            &above_opening,
                            bits,
                        )
                        .map_err(prove_err(format!("{}.above_min", self.field)))?,
                    below_max: prover
                        .bits(
                            &ProofContext::new(context, &bind_below),
                            key,
                            &below,
                            &below_opening,
                            bits,
                        )
                        .map_err(prove_err(format!("{}.below_max", self.field)))?,
                }
            }
        })
    }

    /// Hands each proof of `proof` on `sum` to `each`, after checking its tag is the
    /// one the bounds prescribe (spec/21 §21.6 check 5).
    fn visit<'p, F>(
        &self,
        sum: Ciphertext,
        proof: &'p SumProof,
        each: &mut F,
    ) -> Result<(), BallotError>
    where
        F: FnMut(&dyn Fn() -> String, Check<'p>) -> Result<(), BallotError>,
    {
        let field = &self.field;
        let kind = self.kind().map_err(|error| BallotError::Proof {
            field: field.clone(),
            error,
        })?;
        match (kind, proof) {
            (SumStatement::Range(range), SumProof::Range(proof)) => each(
                &|| field.clone(),
                Check::Range {
                    proof,
                    ciphertext: sum,
                    range,
                    binding: self.binding(self.roles.range),
                },
            ),
            (
                SumStatement::Bits(bits),
                SumProof::Bits {
                    above_min,
                    below_max,
                },
            ) => {
                let (above, below) = wide_parts(&sum, self.min, self.max);
                each(
                    &|| format!("{field}.above_min"),
                    Check::Bits {
                        proof: above_min,
                        ciphertext: above,
                        bits,
                        binding: self.binding(self.roles.above_min),
                    },
                )?;
                each(
                    &|| format!("{field}.below_max"),
                    Check::Bits {
                        proof: below_max,
                        ciphertext: below,
                        bits,
                        binding: self.binding(self.roles.below_max),
                    },
                )
            }
            (SumStatement::Range(_), _) => Err(BallotError::SumProofKind {
                field: field.clone(),
                expected: "range",
            }),
            (SumStatement::Bits(_), _) => Err(BallotError::SumProofKind {
                field: field.clone(),
                expected: "bits",
            }),
        }
    }
}

impl Ballot {
    /// Encrypts `selections` (one per contest, in manifest order) for `credential`. A
    /// selection that breaks its contest's rule is refused before anything is encrypted
    /// (spec/21-ballots.md §21.4).
    pub fn encrypt<R: CryptoRng + ?Sized>(
        election: &Election,
        credential: &CredentialKey,
        selections: &[ContestSelection],
        rng: &mut R,
    ) -> Result<(Self, BallotSecrets), BallotError> {
        let contests = election.manifest().contests();
        if selections.len() != contests.len() {
            return Err(BallotError::Shape {
                field: "contests".into(),
                expected: contests.len(),
                found: selections.len(),
            });
        }
        for (i, (contest, selection)) in contests.iter().zip(selections).enumerate() {
            selection.check(contest, i)?;
        }
        Self::encrypt_unchecked(election, credential, selections, &mut Fresh(rng))
    }

    /// As [`Self::encrypt`], with every nonce given, in the order of spec/21-ballots.md
    /// §21.9: for golden vectors only (feature `hazmat`, which enables urne-crypto's).
    /// Nonces used twice reveal the votes.
    #[cfg(feature = "hazmat")]
    pub fn encrypt_with_nonces(
        election: &Election,
        credential: &CredentialKey,
        selections: &[ContestSelection],
        nonces: &[SecretScalar],
    ) -> Result<(Self, BallotSecrets), BallotError> {
        let contests = election.manifest().contests();
        if selections.len() != contests.len() {
            return Err(BallotError::Shape {
                field: "contests".into(),
                expected: contests.len(),
                found: selections.len(),
            });
        }
        for (i, (contest, selection)) in contests.iter().zip(selections).enumerate() {
            selection.check(contest, i)?;
        }
        let mut given = Given(nonces);
        let made = Self::encrypt_unchecked(election, credential, selections, &mut given)?;
        if !given.0.is_empty() {
            return Err(BallotError::Prove {
                field: "nonces".into(),
                error: ProveError::NonceCount(NonceCountMismatch {
                    expected: nonces.len() - given.0.len(),
                    found: nonces.len(),
                }),
            });
        }
        Ok(made)
    }

    /// Encryption without the rule check: the provers still refuse a false statement,
    /// which the tests show. Selections must have one value per option.
    pub(crate) fn encrypt_unchecked<P: Prover>(
        election: &Election,
        credential: &CredentialKey,
        selections: &[ContestSelection],
        prover: &mut P,
    ) -> Result<(Self, BallotSecrets), BallotError> {
        let key = election.encryption_key();
        let context = election.context();
        let mut ballot_contests = Vec::with_capacity(selections.len());
        let mut secrets = Vec::with_capacity(selections.len());
        for (c, (contest, selection)) in election
            .manifest()
            .contests()
            .iter()
            .zip(selections)
            .enumerate()
        {
            let rules = contest.rules();
            let prove_err = |field: String| move |error| BallotError::Prove { field, error };
            let range = option_range(&rules).map_err(|_| BallotError::InvalidSelection {
                contest: c,
                detail: "per-option maximum too large",
            })?;
            let mut options = Vec::with_capacity(selection.values.len());
            let mut openings = Vec::with_capacity(selection.values.len());
            for (o, value) in selection.values.iter().enumerate() {
                let bind = binding(credential, c, Role::Option, o);
                let (ciphertext, proof, opening) = prover
                    .encrypt_and_prove(&ProofContext::new(context, &bind), key, *value, range)
                    .map_err(prove_err(format!("contests[{c}].options[{o}].proof")))?;
                options.push(EncryptedOption { ciphertext, proof });
                openings.push(opening);
            }
            let (blank, blank_opening) = if contest.blank {
                let bind = binding(credential, c, Role::Blank, contest.options.len());
                let (ciphertext, proof, opening) = prover
                    .encrypt_and_prove(
                        &ProofContext::new(context, &bind),
                        key,
                        u64::from(selection.blank),
                        ValueRange::new(0, 1).map_err(|_| BallotError::InvalidSelection {
                            contest: c,
                            detail: "blank range",
                        })?,
                    )
                    .map_err(prove_err(format!("contests[{c}].blank.proof")))?;
                (Some(EncryptedOption { ciphertext, proof }), Some(opening))
            } else {
                (None, None)
            };

            // The opening of the sum: Σ xᵢ + max·b under Σ rᵢ + max·r_b.
            let weight = DalekScalar::from(rules.max);
            let mut nonce = Zeroizing::new(DalekScalar::ZERO);
            // The count (and below the spend) tells much of the vote: wiped like it.
            let mut value = Zeroizing::new(0u64);
            for opening in &openings {
                *nonce += opening.nonce().expose_secret();
                *value = value.wrapping_add(opening.message());
            }
            if let Some(opening) = &blank_opening {
                *nonce += weight * opening.nonce().expose_secret();
                *value = value.wrapping_add(rules.max.wrapping_mul(opening.message()));
            }
            let sum = contest_sum(&options, blank.as_ref(), rules.max);
            let statement = Statement {
                credential,
                contest: c,
                min: rules.min,
                max: rules.max,
                roles: COUNT,
                field: format!("contests[{c}].sum_proof"),
            };
            let sum_proof = statement.prove(prover, context, key, &sum, &value, &nonce)?;
            // The opening of the spend: Σ costᵢ·xᵢ + min_spend·b under
            // Σ costᵢ·rᵢ + min_spend·r_b. Out-of-rule spends wrap to values the provers
            // refuse.
            let spend_proof = match contest.spending() {
                None => None,
                Some(spending) => {
                    let mut nonce = Zeroizing::new(DalekScalar::ZERO);
                    let mut value = Zeroizing::new(0u64);
                    for (opening, &cost) in openings.iter().zip(spending.costs) {
                        *nonce += DalekScalar::from(cost) * opening.nonce().expose_secret();
                        *value = value.wrapping_add(cost.wrapping_mul(opening.message()));
                    }
                    if let Some(opening) = &blank_opening {
                        *nonce += DalekScalar::from(spending.min) * opening.nonce().expose_secret();
                        *value = value.wrapping_add(spending.min.wrapping_mul(opening.message()));
                    }
                    let spend = spend_sum(&options, blank.as_ref(), &spending);
                    let statement = Statement {
                        credential,
                        contest: c,
                        min: spending.min,
                        max: spending.max,
                        roles: SPEND,
                        field: format!("contests[{c}].spend_proof"),
                    };
                    Some(statement.prove(prover, context, key, &spend, &value, &nonce)?)
                }
            };
            ballot_contests.push(ContestBallot {
                options,
                blank,
                sum_proof,
                spend_proof,
            });
            secrets.push(ContestOpenings {
                options: openings.iter().map(SecretOpening::keep).collect(),
                blank: blank_opening.as_ref().map(SecretOpening::keep),
            });
        }
        Ok((
            Self {
                context: *context,
                credential: *credential,
                contests: ballot_contests,
            },
            BallotSecrets { contests: secrets },
        ))
    }

    /// Checks 2–4 of spec/21-ballots.md §21.6: the election, the credential, the shape.
    pub(crate) fn check_shape(
        &self,
        election: &Election,
        credential: &CredentialKey,
    ) -> Result<(), BallotError> {
        if self.context != *election.context() {
            return Err(BallotError::WrongElection);
        }
        if self.credential != *credential {
            return Err(BallotError::WrongCredential);
        }
        let contests = election.manifest().contests();
        if self.contests.len() != contests.len() {
            return Err(BallotError::Shape {
                field: "contests".into(),
                expected: contests.len(),
                found: self.contests.len(),
            });
        }
        for (c, (contest, ballot)) in contests.iter().zip(&self.contests).enumerate() {
            if ballot.options.len() != contest.options.len() {
                return Err(BallotError::Shape {
                    field: format!("contests[{c}].options"),
                    expected: contest.options.len(),
                    found: ballot.options.len(),
                });
            }
            if ballot.blank.is_some() != contest.blank {
                return Err(BallotError::Shape {
                    field: format!("contests[{c}].blank"),
                    expected: usize::from(contest.blank),
                    found: usize::from(ballot.blank.is_some()),
                });
            }
            let spends = contest.spending().is_some();
            if ballot.spend_proof.is_some() != spends {
                return Err(BallotError::Shape {
                    field: format!("contests[{c}].spend_proof"),
                    expected: usize::from(spends),
                    found: usize::from(ballot.spend_proof.is_some()),
                });
            }
        }
        Ok(())
    }

    /// Every proof's statement, in the order of spec/21-ballots.md §21.6 check 5.
    fn visit(
        &self,
        election: &Election,
        mut each: impl FnMut(&dyn Fn() -> String, Check<'_>) -> Result<(), BallotError>,
    ) -> Result<(), BallotError> {
        let contests = election.manifest().contests();
        for (c, (contest, ballot)) in contests.iter().zip(&self.contests).enumerate() {
            let rules = contest.rules();
            let statement_error = |field: String| move |error| BallotError::Proof { field, error };
            let range = option_range(&rules).map_err(statement_error(format!("contests[{c}]")))?;
            for (o, option) in ballot.options.iter().enumerate() {
                each(
                    &|| format!("contests[{c}].options[{o}].proof"),
                    Check::Range {
                        proof: &option.proof,
                        ciphertext: option.ciphertext,
                        range,
                        binding: binding(&self.credential, c, Role::Option, o),
                    },
                )?;
            }
            if let Some(blank) = &ballot.blank {
                each(
                    &|| format!("contests[{c}].blank.proof"),
                    Check::Range {
                        proof: &blank.proof,
                        ciphertext: blank.ciphertext,
                        range: ValueRange::new(0, 1)
                            .map_err(statement_error(format!("contests[{c}].blank")))?,
                        binding: binding(&self.credential, c, Role::Blank, ballot.options.len()),
                    },
                )?;
            }
            let sum = contest_sum(&ballot.options, ballot.blank.as_ref(), rules.max);
            Statement {
                credential: &self.credential,
                contest: c,
                min: rules.min,
                max: rules.max,
                roles: COUNT,
                field: format!("contests[{c}].sum_proof"),
            }
            .visit(sum, &ballot.sum_proof, &mut each)?;
            if let (Some(spending), Some(proof)) = (contest.spending(), &ballot.spend_proof) {
                let spend = spend_sum(&ballot.options, ballot.blank.as_ref(), &spending);
                Statement {
                    credential: &self.credential,
                    contest: c,
                    min: spending.min,
                    max: spending.max,
                    roles: SPEND,
                    field: format!("contests[{c}].spend_proof"),
                }
                .visit(spend, proof, &mut each)?;
            }
        }
        Ok(())
    }

    /// All the ballot's verification equations, for one push into a
    /// [`urne_crypto::BatchVerifier`] (the board batches across ballots). The shape
    /// checks and each proof's own non-equation checks (shape, challenge sums) run here;
    /// the equations run in the batch (spec/21-ballots.md §21.6).
    pub fn relations(
        &self,
        election: &Election,
        credential: &CredentialKey,
    ) -> Result<Relations, BallotError> {
        self.check_shape(election, credential)?;
        let key = election.public_key();
        let context = election.context();
        let mut all = Relations::new();
        self.visit(election, |field, check| {
            let relations = check
                .relations(context, key)
                .map_err(|error| BallotError::Proof {
                    field: field(),
                    error,
                })?;
            all.extend(relations);
            Ok(())
        })?;
        Ok(all)
    }

    /// Verifies the ballot proof by proof, naming the first that fails
    /// (spec/21-ballots.md §21.6).
    pub fn verify(
        &self,
        election: &Election,
        credential: &CredentialKey,
    ) -> Result<(), BallotError> {
        self.check_shape(election, credential)?;
        let key = election.public_key();
        let context = election.context();
        self.visit(election, |field, check| {
            // One proof on its own: its equations checked one by one, as `verify` of
            // each proof does.
            check
                .relations(context, key)
                .and_then(|relations| relations.check())
                .map_err(|error| BallotError::Proof {
                    field: field(),
                    error,
                })
        })
    }

    /// The canonical bytes (spec/21-ballots.md §21.5).
    pub fn to_bytes(&self) -> Vec<u8> {
        let spends = self.contests.iter().any(|c| c.spend_proof.is_some());
        let mut out = vec![if spends {
            BALLOT_VERSION_SPEND
        } else {
            BALLOT_VERSION
        }];
        out.extend_from_slice(&self.context.0);
        out.extend_from_slice(&self.credential.0);
        // Counts were bounded by the manifest or the decoder.
        out.extend_from_slice(&(self.contests.len() as u16).to_be_bytes());
        if spends {
            let mut mask = vec![0u8; self.contests.len().div_ceil(8)];
            for (c, contest) in self.contests.iter().enumerate() {
                if contest.spend_proof.is_some() {
                    mask[c / 8] |= 0x80 >> (c % 8);
                }
            }
            out.extend_from_slice(&mask);
        }
        let put_option = |out: &mut Vec<u8>, option: &EncryptedOption| {
            out.extend_from_slice(&option.ciphertext.to_bytes());
            put_sized(out, &option.proof.to_bytes());
        };
        for contest in &self.contests {
            out.extend_from_slice(&(contest.options.len() as u16).to_be_bytes());
            for option in &contest.options {
                put_option(&mut out, option);
            }
            match &contest.blank {
                None => out.push(0),
                Some(blank) => {
                    out.push(1);
                    put_option(&mut out, blank);
                }
            }
            put_sum(&mut out, &contest.sum_proof);
            if let Some(proof) = &contest.spend_proof {
                put_sum(&mut out, proof);
            }
        }
        out
    }

    /// Strict decoding without the manifest (the board decodes before it looks the
    /// election up): version 1, bounded counts and lengths, canonical ciphertexts and
    /// proofs, no trailing bytes. Errors name the field (`contests[1].options[3].proof`).
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let spends = match r.u8(|| "version".to_owned())? {
            BALLOT_VERSION => false,
            BALLOT_VERSION_SPEND => true,
            found => {
                return Err(DecodeError::new(
                    "version",
                    Problem::UnsupportedVersion { found },
                ));
            }
        };
        let context = ContextHash(r.array(|| "context".to_owned())?);
        let credential = CredentialKey(r.array(|| "credential".to_owned())?);
        let count = r.u16(|| "contests".to_owned())? as usize;
        if count == 0 || count > MAX_CONTESTS {
            return Err(DecodeError::new(
                "contests",
                Problem::OutOfBounds {
                    detail: "a ballot has 1 to 64 contests",
                },
            ));
        }
        let mut mask = vec![0u8; if spends { count.div_ceil(8) } else { 0 }];
        for (i, byte) in mask.iter_mut().enumerate() {
            *byte = r.u8(|| format!("spends[{i}]"))?;
        }
        if spends && mask.iter().all(|&b| b == 0) {
            // The same ballot has a version-1 encoding: one ballot, one encoding.
            return Err(DecodeError::new(
                "version",
                Problem::OutOfBounds {
                    detail: "version 2 is for ballots with a spend proof",
                },
            ));
        }
        let has_spend = |c: usize| mask.get(c / 8).is_some_and(|b| b & (0x80 >> (c % 8)) != 0);
        if (count..mask.len() * 8).any(has_spend) {
            return Err(DecodeError::new(
                "spends",
                Problem::OutOfBounds {
                    detail: "a spend bit set past the last contest",
                },
            ));
        }
        let read_option =
            |r: &mut Reader<'_>, at: &dyn Fn() -> String| -> Result<EncryptedOption, DecodeError> {
                let ciphertext = r.ciphertext(|| format!("{}.ciphertext", at()))?;
                let field = || format!("{}.proof", at());
                let proof = RangeProof::decode(r.sized(MAX_RANGE_PROOF_LEN, field)?)
                    .map_err(|e| DecodeError::crypto(&field(), e))?;
                Ok(EncryptedOption { ciphertext, proof })
            };
        let mut contests = Vec::with_capacity(count);
        for c in 0..count {
            let n = r.u16(|| format!("contests[{c}].options"))? as usize;
            if n == 0 || n > MAX_OPTIONS {
                return Err(DecodeError::new(
                    format!("contests[{c}].options"),
                    Problem::OutOfBounds {
                        detail: "a contest has 1 to 256 options",
                    },
                ));
            }
            let mut options = Vec::with_capacity(n);
            for o in 0..n {
                options.push(read_option(&mut r, &|| {
                    format!("contests[{c}].options[{o}]")
                })?);
            }
            let blank = if r.flag(|| format!("contests[{c}].blank"))? {
                Some(read_option(&mut r, &|| format!("contests[{c}].blank"))?)
            } else {
                None
            };
            let sum_proof = read_sum(&mut r, &format!("contests[{c}].sum_proof"))?;
            let spend_proof = if has_spend(c) {
                Some(read_sum(&mut r, &format!("contests[{c}].spend_proof"))?)
            } else {
                None
            };
            contests.push(ContestBallot {
                options,
                blank,
                sum_proof,
                spend_proof,
            });
        }
        r.finish()?;
        Ok(Self {
            context,
            credential,
            contests,
        })
    }
}

/// `sum` of spec/21 §21.5: a tag, then the proof(s).
fn put_sum(out: &mut Vec<u8>, proof: &SumProof) {
    match proof {
        SumProof::Range(proof) => {
            out.push(1);
            put_sized(out, &proof.to_bytes());
        }
        SumProof::Bits {
            above_min,
            below_max,
        } => {
            out.push(2);
            put_sized(out, &above_min.to_bytes());
            put_sized(out, &below_max.to_bytes());
        }
    }
}

fn read_sum(r: &mut Reader<'_>, field: &str) -> Result<SumProof, DecodeError> {
    let at = |f: &str| format!("{field}{f}");
    Ok(match r.u8(|| at(""))? {
        1 => SumProof::Range(
            RangeProof::decode(r.sized(MAX_RANGE_PROOF_LEN, || at(""))?)
                .map_err(|e| DecodeError::crypto(&at(""), e))?,
        ),
        2 => SumProof::Bits {
            above_min: BitRangeProof::decode(r.sized(MAX_BIT_PROOF_LEN, || at(".above_min"))?)
                .map_err(|e| DecodeError::crypto(&at(".above_min"), e))?,
            below_max: BitRangeProof::decode(r.sized(MAX_BIT_PROOF_LEN, || at(".below_max"))?)
                .map_err(|e| DecodeError::crypto(&at(".below_max"), e))?,
        },
        found => return Err(DecodeError::new(at(""), Problem::UnknownTag { found })),
    })
}

/// What a ballot's bytes name, read by [`Ballot::skim`] without decoding a point or a
/// proof.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BallotSkim {
    /// The credential the ballot names.
    pub credential: [u8; 32],
    /// Each ciphertext's encoding, in order: every contest's options, then its blank
    /// vote if it has one.
    pub ciphertexts: Vec<[u8; 64]>,
}

impl Ballot {
    /// Reads the credential and the ciphertexts' encodings from a ballot's bytes
    /// (spec/21 §21.5 layout), skipping the proofs and decompressing nothing: for bytes
    /// that [`Ballot::decode`] accepted before (a board applying a checked record, or
    /// replaying its own log), where decoding again would cost a point decompression
    /// per ciphertext. It checks only the layout (counts, lengths, tags, no trailing
    /// byte), so it answers None for bytes that do not even read, never a partial
    /// reading; anything else must go through [`Ballot::decode`].
    pub fn skim(bytes: &[u8]) -> Option<BallotSkim> {
        struct Skim<'a>(&'a [u8], usize);
        impl<'a> Skim<'a> {
            fn take(&mut self, n: usize) -> Option<&'a [u8]> {
                let out = self.0.get(self.1..self.1.checked_add(n)?)?;
                self.1 += n;
                Some(out)
            }
            fn u8(&mut self) -> Option<u8> {
                self.take(1).map(|b| b[0])
            }
            fn u16(&mut self) -> Option<usize> {
                self.take(2)
                    .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
            }
            fn sized(&mut self) -> Option<()> {
                let b = self.take(4)?;
                self.take(u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
                    .map(|_| ())
            }
            fn sum(&mut self) -> Option<()> {
                match self.u8()? {
                    1 => self.sized(),
                    2 => {
                        self.sized()?;
                        self.sized()
                    }
                    _ => None,
                }
            }
            fn option(&mut self, out: &mut Vec<[u8; 64]>) -> Option<()> {
                out.push(self.take(64)?.try_into().ok()?);
                self.sized()
            }
        }
        let mut r = Skim(bytes, 0);
        let spends = match r.u8()? {
            BALLOT_VERSION => false,
            BALLOT_VERSION_SPEND => true,
            _ => return None,
        };
        r.take(32)?;
        let credential: [u8; 32] = r.take(32)?.try_into().ok()?;
        let contests = r.u16()?;
        let mask = if spends {
            r.take(contests.div_ceil(8))?
        } else {
            &[]
        };
        let has_spend = |c: usize| mask.get(c / 8).is_some_and(|b| b & (0x80 >> (c % 8)) != 0);
        // As `decode`: version 2 has a spend bit set, none past the last contest.
        if spends && (mask.iter().all(|&b| b == 0) || (contests..mask.len() * 8).any(has_spend)) {
            return None;
        }
        let mut ciphertexts = Vec::new();
        for c in 0..contests {
            let options = r.u16()?;
            for _ in 0..options {
                r.option(&mut ciphertexts)?;
            }
            match r.u8()? {
                0 => {}
                1 => r.option(&mut ciphertexts)?,
                _ => return None,
            }
            r.sum()?;
            if has_spend(c) {
                r.sum()?;
            }
        }
        (r.1 == bytes.len()).then_some(BallotSkim {
            credential,
            ciphertexts,
        })
    }
}

/// A revealed opening: value and nonce (spec/21-ballots.md §21.8).
pub(crate) fn reveal(opening: &SecretOpening) -> (u64, Scalar) {
    (
        opening.value,
        Scalar::from_dalek(*opening.nonce.expose_secret()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::election::ContextInputs;
    use crate::manifest::{ContestKind, Manifest};
    use urne_crypto::SecretKey;

    fn election(kind: ContestKind, blank: bool, options: usize) -> Election {
        let manifest = Manifest::new(
            "t",
            vec![Contest {
                title: "c".into(),
                kind,
                blank,
                options: (0..options).map(|i| format!("o{i}")).collect(),
            }],
        )
        .unwrap();
        let key = SecretKey::generate(&mut rand::rng()).public_key();
        Election::new(ContextInputs {
            manifest: &manifest,
            joint_key: &key,
            credential_root: &[0; 32],
            board_origin: "o",
            context_id: &[0; 32],
        })
        .unwrap()
    }

    fn refused_field(election: &Election, selection: ContestSelection) -> String {
        match Ballot::encrypt_unchecked(
            election,
            &CredentialKey([1; 32]),
            &[selection],
            &mut Fresh(&mut rand::rng()),
        ) {
            Err(BallotError::Prove {
                field,
                error: ProveError::WitnessMismatch,
            }) => field,
            other => panic!("{other:?}"),
        }
    }

    /// `skim` reads exactly what strict decoding reads, for every contest kind and
    /// both sum proofs (range and bits), and reads nothing from bytes cut short or
    /// followed by more.
    #[test]
    fn skimming_a_ballot_reads_what_strict_decoding_reads() {
        let manifest = Manifest::new(
            "t",
            vec![
                Contest {
                    title: "single".into(),
                    kind: ContestKind::SingleChoice,
                    blank: true,
                    options: (0..3).map(|i| format!("s{i}")).collect(),
                },
                Contest {
                    title: "approval".into(),
                    kind: ContestKind::Approval { min: 0, max: 2 },
                    blank: false,
                    options: (0..4).map(|i| format!("a{i}")).collect(),
                },
                Contest {
                    title: "cumulative".into(),
                    // A width of 399: its sum is proven by bits, the others' by ranges.
                    kind: ContestKind::Cumulative {
                        per_option_max: 200,
                        min_total: 1,
                        max_total: 400,
                    },
                    blank: true,
                    options: (0..2).map(|i| format!("c{i}")).collect(),
                },
            ],
        )
        .unwrap();
        let key = SecretKey::generate(&mut rand::rng()).public_key();
        let election = Election::new(ContextInputs {
            manifest: &manifest,
            joint_key: &key,
            credential_root: &[0; 32],
            board_origin: "o",
            context_id: &[0; 32],
        })
        .unwrap();
        let choices = [
            [
                ContestSelection::single(3, 2).unwrap(),
                ContestSelection::approve(4, &[0, 3]).unwrap(),
                ContestSelection::values(vec![150, 7]),
            ],
            [
                ContestSelection::blank(3),
                ContestSelection::approve(4, &[]).unwrap(),
                ContestSelection::blank(2),
            ],
        ];
        for (n, selections) in choices.iter().enumerate() {
            let credential = CredentialKey([n as u8 + 9; 32]);
            let (ballot, _) =
                Ballot::encrypt(&election, &credential, selections, &mut rand::rng()).unwrap();
            let bytes = ballot.to_bytes();
            let decoded = Ballot::decode(&bytes).unwrap();
            let expected: Vec<[u8; 64]> = decoded
                .contests
                .iter()
                .flat_map(|c| c.options.iter().chain(c.blank.as_ref()))
                .map(|o| o.ciphertext.to_bytes())
                .collect();
            let skim = Ballot::skim(&bytes).unwrap();
            assert_eq!(skim.credential, decoded.credential.0, "ballot {n}");
            assert_eq!(skim.ciphertexts, expected, "ballot {n}");
            assert_eq!(skim.ciphertexts.len(), 3 + 1 + 4 + 2 + 1);
            assert!(matches!(
                decoded.contests[2].sum_proof,
                SumProof::Bits { .. }
            ));
            assert!(matches!(decoded.contests[0].sum_proof, SumProof::Range(_)));
            for cut in [1, 65, bytes.len() / 2, bytes.len() - 1] {
                assert_eq!(Ballot::skim(&bytes[..cut]), None, "cut at {cut}");
            }
            let mut longer = bytes.clone();
            longer.push(0);
            assert_eq!(Ballot::skim(&longer), None);
            let mut other_version = bytes.clone();
            other_version[0] ^= 0x80;
            assert_eq!(Ballot::skim(&other_version), None);
        }
    }

    /// Behind the rule check, the provers themselves refuse every invalid vote.
    #[test]
    fn provers_refuse_invalid_votes_even_without_the_rule_check() {
        let single = election(ContestKind::SingleChoice, true, 3);
        assert_eq!(
            refused_field(&single, ContestSelection::values(vec![1, 1, 0])),
            "contests[0].sum_proof"
        );
        assert_eq!(
            refused_field(&single, ContestSelection::values(vec![0, 0, 0])),
            "contests[0].sum_proof"
        );
        assert_eq!(
            refused_field(&single, ContestSelection::values(vec![0, 2, 0])),
            "contests[0].options[1].proof"
        );
        let mut blank_and_choice = ContestSelection::values(vec![1, 0, 0]);
        blank_and_choice.blank = true;
        assert_eq!(
            refused_field(&single, blank_and_choice),
            "contests[0].sum_proof"
        );

        let wide = ContestKind::Cumulative {
            per_option_max: 10,
            min_total: 5,
            max_total: 400,
        };
        let wide = election(wide, false, 50);
        assert_eq!(
            refused_field(&wide, ContestSelection::values(vec![10; 50])),
            "contests[0].sum_proof.below_max"
        );
        let mut under = vec![0; 50];
        under[0] = 4;
        assert_eq!(
            refused_field(&wide, ContestSelection::values(under)),
            "contests[0].sum_proof.above_min"
        );
    }

    fn budget(min_spend: u64, budget: u64) -> ContestKind {
        ContestKind::Budget {
            min_projects: 0,
            max_projects: 3,
            min_spend,
            budget,
            rule: urne_budget::Rule::Greedy,
            costs: vec![600, 500, 50],
        }
    }

    /// Behind the rule check, the spend provers refuse a ballot over or under budget.
    #[test]
    fn provers_refuse_overspending_even_without_the_rule_check() {
        let wide = election(budget(100, 1000), false, 3);
        assert_eq!(
            refused_field(&wide, ContestSelection::values(vec![1, 1, 0])),
            "contests[0].spend_proof.below_max"
        );
        assert_eq!(
            refused_field(&wide, ContestSelection::values(vec![0, 0, 1])),
            "contests[0].spend_proof.above_min"
        );
        let narrow = election(budget(550, 650), false, 3);
        assert_eq!(
            refused_field(&narrow, ContestSelection::values(vec![0, 1, 0])),
            "contests[0].spend_proof"
        );
    }

    /// A ballot whose options come from `sources` (ballot, option) of honest ballots of
    /// the election, with an honest count proof made from their openings and the spend
    /// proof of `spend_from`: it fails exactly at the spend proof when the options'
    /// spend is outside the bounds (the proofs are checked in order, spec/21 §21.6, so
    /// failing there means every option proof and the count proof held).
    fn borrowed_spend_fails(min_spend: u64, values: [Vec<u64>; 2], sources: [usize; 3]) {
        let election = election(budget(min_spend, 1000), false, 3);
        let voter = CredentialKey([4; 32]);
        let made: Vec<(Ballot, BallotSecrets)> = values
            .into_iter()
            .map(|v| {
                Ballot::encrypt(
                    &election,
                    &voter,
                    &[ContestSelection::values(v)],
                    &mut rand::rng(),
                )
                .unwrap()
            })
            .collect();
        let mut forged = made[0].0.clone();
        let mut nonce = DalekScalar::ZERO;
        let mut count = 0;
        for (o, &b) in sources.iter().enumerate() {
            forged.contests[0].options[o] = made[b].0.contests[0].options[o].clone();
            let opening = &made[b].1.contests[0].options[o];
            nonce += opening.nonce.expose_secret();
            count += opening.value;
        }
        let statement = Statement {
            credential: &voter,
            contest: 0,
            min: 0,
            max: 3,
            roles: COUNT,
            field: "contests[0].sum_proof".into(),
        };
        let sum = contest_sum(&forged.contests[0].options, None, 3);
        forged.contests[0].sum_proof = statement
            .prove(
                &mut Fresh(&mut rand::rng()),
                election.context(),
                election.encryption_key(),
                &sum,
                &count,
                &nonce,
            )
            .unwrap();
        match forged.verify(&election, &voter) {
            Err(BallotError::Proof { field, .. }) => {
                assert!(field.starts_with("contests[0].spend_proof"), "{field}")
            }
            other => panic!("{other:?}"),
        }
    }

    /// Costs 600, 500, 50 under a budget of 1,000.
    #[test]
    fn a_borrowed_spend_proof_fails_on_an_overspending_ballot() {
        // Option 0 of the first (600) and option 1 of the second (500): 1,100.
        borrowed_spend_fails(0, [vec![1, 0, 0], vec![0, 1, 0]], [0, 1, 0]);
    }

    #[test]
    fn a_borrowed_spend_proof_fails_on_an_underspending_ballot() {
        // At least 500: option 0 of the second (0), option 2 of the first (50): 50.
        borrowed_spend_fails(500, [vec![0, 1, 1], vec![0, 1, 0]], [1, 1, 0]);
    }

    #[test]
    fn proof_bindings_differ_in_every_field() {
        let a = CredentialKey([1; 32]);
        let b = CredentialKey([2; 32]);
        let base = binding(&a, 1, Role::Option, 2);
        assert_ne!(base, binding(&b, 1, Role::Option, 2));
        assert_ne!(base, binding(&a, 0, Role::Option, 2));
        assert_ne!(base, binding(&a, 1, Role::Blank, 2));
        assert_ne!(base, binding(&a, 1, Role::Option, 3));
        assert_eq!(&base[..PROOF_BINDING.len()], PROOF_BINDING);
    }
}
