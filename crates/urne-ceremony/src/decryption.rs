//! Threshold decryption: each trustee's shares D_j = s_j·α with DLEQ proofs, their
//! verification, and the Lagrange combination of any t (spec/20-ceremony.md §20.7).

#![allow(non_snake_case)]

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar as DalekScalar;
use curve25519_dalek::traits::VartimeMultiscalarMul;
use sha2::{Digest, Sha256};
use urne_crypto::group::basepoint;
use urne_crypto::proofs::{DleqProof, DleqStatement};
use urne_crypto::rand_core::CryptoRng;
use urne_crypto::{Ciphertext, ContextHash, Point, ProofContext, ProveError};

use crate::codec::{DecodeError, DecodeProblem, Reader, name};
use crate::labels;
use crate::records::{MAX_TRUSTEES, RECORD_VERSION};
use crate::trustee::TrusteeKey;
use crate::verify::CeremonyOutcome;

/// Why decryption shares were refused or could not be combined. Every variant that
/// concerns a share names its trustee.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecryptionError {
    /// The shares name a trustee the ceremony does not have.
    #[error("decryption shares from trustee {trustee}, who is not in the ceremony")]
    UnknownTrustee {
        /// The index.
        trustee: u16,
    },
    /// Not one share per ciphertext.
    #[error("trustee {trustee} posted {found} decryption shares for {expected} ciphertexts")]
    WrongCount {
        /// The trustee.
        trustee: u16,
        /// Ciphertexts.
        expected: usize,
        /// Shares.
        found: usize,
    },
    /// A share whose proof fails, or whose form disagrees with its ciphertext.
    #[error("trustee {trustee}'s decryption share of ciphertext {ciphertext} is invalid")]
    InvalidShare {
        /// The trustee at fault.
        trustee: u16,
        /// The ciphertext's position in the list.
        ciphertext: usize,
    },
    /// Two share sets from one trustee.
    #[error("two sets of decryption shares from trustee {trustee}")]
    DuplicateTrustee {
        /// The trustee.
        trustee: u16,
    },
    /// Shares checked against another list of ciphertexts.
    #[error("trustee {trustee}'s shares were checked against other ciphertexts")]
    DifferentCiphertexts {
        /// The trustee.
        trustee: u16,
    },
    /// Fewer than t valid share sets.
    #[error("{found} valid decryption share sets, the threshold is {threshold}")]
    NotEnoughShares {
        /// How many.
        found: usize,
        /// t.
        threshold: u16,
    },
    /// A proof could not be made (a bug: the witness is ours).
    #[error("decryption proof of ciphertext {ciphertext}: {source}")]
    Prove {
        /// The ciphertext's position.
        ciphertext: usize,
        /// Why.
        source: ProveError,
    },
}

/// One ciphertext's decryption share.
// Nearly every share is `Proven`: boxing it would cost an allocation per ciphertext to
// save space on the rare empty-tally entry.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecryptionShare {
    /// α is the identity (a sum of no ballots): D is the identity, nothing to prove.
    Trivial,
    /// D = s_j·α and the proof that log_G S_j = log_α D.
    Proven {
        /// D.
        D: Point,
        /// The DLEQ proof.
        proof: DleqProof,
    },
}

/// `tally.decryption-shares`: trustee j's share of each ciphertext of a list, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecryptionShares {
    /// j.
    pub trustee: u16,
    /// One per ciphertext.
    pub shares: Vec<DecryptionShare>,
}

/// The DLEQ binding bytes: label ‖ trustee (u16) ‖ ciphertext position (u32), all
/// big-endian, so a share cannot be moved to another trustee or position.
fn binding(trustee: u16, position: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(labels::DECRYPTION_SHARE.len() + 6);
    out.extend_from_slice(labels::DECRYPTION_SHARE);
    out.extend_from_slice(&trustee.to_be_bytes());
    out.extend_from_slice(&(position.min(u32::MAX as usize) as u32).to_be_bytes());
    out
}

fn ciphertexts_digest(ciphertexts: &[Ciphertext]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(labels::CIPHERTEXT_LIST);
    hasher.update((ciphertexts.len() as u64).to_be_bytes());
    for c in ciphertexts {
        hasher.update(c.to_bytes());
    }
    hasher.finalize().into()
}

impl DecryptionShares {
    /// The trustee who posts this record (the board checks the envelope's signer).
    pub fn poster(&self) -> u16 {
        self.trustee
    }

    const NAME: &'static str = "tally.decryption-shares";
    const PROVEN_LEN: usize = 32 + DleqProof::LEN;

    /// The body bytes: version ‖ trustee ‖ count (u32) ‖ entries, each 0x00 (trivial)
    /// or 0x01 ‖ D ‖ proof.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(7 + self.shares.len() * (1 + Self::PROVEN_LEN));
        out.push(RECORD_VERSION);
        out.extend_from_slice(&self.trustee.to_be_bytes());
        out.extend_from_slice(&(self.shares.len().min(u32::MAX as usize) as u32).to_be_bytes());
        for share in &self.shares {
            match share {
                DecryptionShare::Trivial => out.push(0),
                DecryptionShare::Proven { D, proof } => {
                    out.push(1);
                    out.extend_from_slice(D.as_bytes());
                    out.extend_from_slice(&proof.to_bytes());
                }
            }
        }
        out
    }

    /// Strict decoding.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(Self::NAME, bytes);
        r.version(RECORD_VERSION)?;
        let trustee = r.trustee(&name("trustee"), MAX_TRUSTEES)?;
        let count = r.u32(&name("count"))?;
        // Every entry takes at least a byte: a count beyond that is a lie, refused
        // before anything is allocated for it.
        if count as usize > bytes.len() {
            return Err(r.error(
                "count",
                DecodeProblem::OutOfBounds {
                    detail: "more entries than bytes",
                },
            ));
        }
        let mut shares = Vec::with_capacity(count as usize);
        for k in 0..count {
            let share = match r.u8(&|| format!("shares[{k}].tag"))? {
                0 => DecryptionShare::Trivial,
                1 => DecryptionShare::Proven {
                    D: r.point(&|| format!("shares[{k}].D"))?,
                    proof: r.dleq(&|| format!("shares[{k}].proof"))?,
                },
                _ => {
                    return Err(r.error(
                        format!("shares[{k}].tag"),
                        DecodeProblem::OutOfBounds {
                            detail: "tag is 0 (trivial) or 1 (proven)",
                        },
                    ));
                }
            };
            shares.push(share);
        }
        r.finish()?;
        Ok(Self { trustee, shares })
    }
}

impl TrusteeKey {
    /// D_j = s_j·α for each ciphertext, with a DLEQ proof against S_j, bound to the
    /// `election` context and to (trustee, position) (spec §20.7).
    pub fn decryption_shares<R: CryptoRng + ?Sized>(
        &self,
        election: &ContextHash,
        ciphertexts: &[Ciphertext],
        rng: &mut R,
    ) -> Result<DecryptionShares, DecryptionError> {
        let G = basepoint();
        let mut shares = Vec::with_capacity(ciphertexts.len());
        for (position, ciphertext) in ciphertexts.iter().enumerate() {
            let alpha = ciphertext.alpha();
            if alpha.is_identity() {
                shares.push(DecryptionShare::Trivial);
                continue;
            }
            let D = Point::from_ristretto(alpha.as_ristretto() * self.share.expose_secret());
            let binding = binding(self.trustee, position);
            let statement = DleqStatement {
                G1: &G,
                X1: &self.verification_key,
                G2: alpha,
                X2: &D,
            };
            let proof = DleqProof::prove(
                &ProofContext::new(election, &binding),
                &statement,
                &self.share,
                rng,
            )
            .map_err(|source| DecryptionError::Prove {
                ciphertext: position,
                source,
            })?;
            shares.push(DecryptionShare::Proven { D, proof });
        }
        Ok(DecryptionShares {
            trustee: self.trustee,
            shares,
        })
    }
}

/// Shares that passed [`verify_decryption_shares`]: the only input [`combine`] takes.
#[derive(Clone, Debug)]
pub struct VerifiedDecryptionShares {
    trustee: u16,
    ciphertexts: [u8; 32],
    points: Vec<Point>,
}

impl VerifiedDecryptionShares {
    /// The trustee.
    pub fn trustee(&self) -> u16 {
        self.trustee
    }
}

/// Checks trustee j's shares of `ciphertexts` against S_j from the ceremony outcome
/// (spec §20.7 checks 1–3).
pub fn verify_decryption_shares(
    outcome: &CeremonyOutcome,
    election: &ContextHash,
    ciphertexts: &[Ciphertext],
    shares: &DecryptionShares,
) -> Result<VerifiedDecryptionShares, DecryptionError> {
    let points = check_shares(
        outcome,
        election,
        ciphertexts,
        shares,
        |proof, context, statement| proof.verify(context, statement).is_ok(),
    )?;
    Ok(VerifiedDecryptionShares {
        trustee: shares.trustee,
        ciphertexts: ciphertexts_digest(ciphertexts),
        points,
    })
}

/// The checks of spec §20.7 (1–3) on trustee j's shares, in order: a verification key
/// for j, one entry per ciphertext, each trivial exactly when α is the identity, and each
/// proven entry's DLEQ proof passed to `proven` (which checks it, or collects its
/// equations for a batch and accepts). Returns D_j for each ciphertext (the identity
/// for a trivial entry). One walk serves both the one-by-one check and the batch, so the
/// two cannot drift apart.
fn check_shares(
    outcome: &CeremonyOutcome,
    election: &ContextHash,
    ciphertexts: &[Ciphertext],
    shares: &DecryptionShares,
    mut proven: impl FnMut(&DleqProof, &ProofContext<'_>, &DleqStatement<'_>) -> bool,
) -> Result<Vec<Point>, DecryptionError> {
    let trustee = shares.trustee;
    let S = outcome
        .verification_key(trustee)
        .ok_or(DecryptionError::UnknownTrustee { trustee })?;
    if shares.shares.len() != ciphertexts.len() {
        return Err(DecryptionError::WrongCount {
            trustee,
            expected: ciphertexts.len(),
            found: shares.shares.len(),
        });
    }
    let G = basepoint();
    let mut points = Vec::with_capacity(ciphertexts.len());
    for (position, (ciphertext, share)) in ciphertexts.iter().zip(&shares.shares).enumerate() {
        let alpha = ciphertext.alpha();
        let invalid = DecryptionError::InvalidShare {
            trustee,
            ciphertext: position,
        };
        match share {
            DecryptionShare::Trivial if alpha.is_identity() => points.push(Point::identity()),
            DecryptionShare::Proven { D, proof } if !alpha.is_identity() => {
                let binding = binding(trustee, position);
                let statement = DleqStatement {
                    G1: &G,
                    X1: S,
                    G2: alpha,
                    X2: D,
                };
                if !proven(proof, &ProofContext::new(election, &binding), &statement) {
                    return Err(invalid);
                }
                points.push(*D);
            }
            _ => return Err(invalid),
        }
    }
    Ok(points)
}

/// m·G for each ciphertext, from the verified shares of the t lowest-numbered trustees
/// given: m·G = β − Σ_j λ_j·D_j with λ_j = Π_{m≠j} m/(m − j) (spec §20.7 step 4).
pub fn combine(
    threshold: u16,
    ciphertexts: &[Ciphertext],
    verified: &[VerifiedDecryptionShares],
) -> Result<Vec<Point>, DecryptionError> {
    let digest = ciphertexts_digest(ciphertexts);
    let mut chosen: Vec<&VerifiedDecryptionShares> = Vec::with_capacity(verified.len());
    for shares in verified {
        if shares.ciphertexts != digest {
            return Err(DecryptionError::DifferentCiphertexts {
                trustee: shares.trustee,
            });
        }
        if chosen.iter().any(|c| c.trustee == shares.trustee) {
            return Err(DecryptionError::DuplicateTrustee {
                trustee: shares.trustee,
            });
        }
        chosen.push(shares);
    }
    if threshold == 0 || chosen.len() < usize::from(threshold) {
        return Err(DecryptionError::NotEnoughShares {
            found: chosen.len(),
            threshold,
        });
    }
    chosen.sort_by_key(|c| c.trustee);
    chosen.truncate(usize::from(threshold));
    let lambdas: Vec<DalekScalar> = chosen
        .iter()
        .map(|j| {
            let xj = DalekScalar::from(u64::from(j.trustee));
            let (num, den) = chosen.iter().filter(|m| m.trustee != j.trustee).fold(
                (DalekScalar::ONE, DalekScalar::ONE),
                |(num, den), m| {
                    let xm = DalekScalar::from(u64::from(m.trustee));
                    (num * xm, den * (xm - xj))
                },
            );
            // Distinct indices in 1..=n < ℓ, so den ≠ 0.
            -(num * den.invert())
        })
        .collect();
    Ok(ciphertexts
        .iter()
        .enumerate()
        .map(|(position, c)| {
            let terms = chosen.iter().map(|j| *j.points[position].as_ristretto());
            let sum = RistrettoPoint::vartime_multiscalar_mul(
                lambdas.iter().copied().chain([DalekScalar::ONE]),
                terms.chain([*c.beta().as_ristretto()]),
            );
            Point::from_ristretto(sum)
        })
        .collect())
}

/// For a board that verifies proofs in batches (spec/23 §23.8): the same checks as
/// [`verify_decryption_shares`], with the DLEQ equations returned for a
/// [`urne_crypto::BatchVerifier`] instead of checked one by one.
impl DecryptionShares {
    /// Checks 1–2 of spec §20.7 and the form of each entry (trivial exactly when α is
    /// the identity); returns the equations of every proven entry. A batch that fails is
    /// re-checked with [`verify_decryption_shares`] to name the entry at fault.
    pub fn relations(
        &self,
        outcome: &CeremonyOutcome,
        election: &ContextHash,
        ciphertexts: &[Ciphertext],
    ) -> Result<urne_crypto::Relations, DecryptionError> {
        let mut all = urne_crypto::Relations::new();
        check_shares(
            outcome,
            election,
            ciphertexts,
            self,
            |proof, context, statement| match proof.relations(context, statement) {
                Ok(relations) => {
                    all.extend(relations);
                    true
                }
                Err(_) => false,
            },
        )?;
        Ok(all)
    }
}
