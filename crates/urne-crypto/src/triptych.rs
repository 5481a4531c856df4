//! Linkable one-out-of-many signatures: Triptych (Noether–Goodell 2020), as
//! spec/08-triptych.md fixes it byte for byte.
//!
//! The statement, over a ring M of N = n^m keys and a linking base U: the signer knows
//! l and r with M[l] = r·G and r·J = U. J = r⁻¹·U is the signature's tag: one per key
//! and linking base, so one per person per petition (U is derived from the snapshot
//! id and the context id by [`linking_base`]), and unlinkable across linking bases.
//!
//! Cost shape, which drives the types: a ring is prepared once ([`Ring`]: keys decoded,
//! encodings kept, digest hashed), never per signature. Verification needs, per
//! signature, the N coefficients t_k = Π_j f_{j,k_j}, computed as a Kronecker product
//! of the m rows of f (O(N) per signature); the batch verifier sums those coefficients,
//! weighted, across signatures and then runs one multiscalar multiplication over the
//! ring plus the signatures' own points.
//!
//! The prover is constant time in l and r: the one-hot digits of l are selected with
//! `subtle`, the witness is checked by a scan of the whole ring, and the ring-sized sums
//! fold the ring digit by digit with constant-time selections and curve25519-dalek's
//! constant-time multiscalar products. Only verification is variable time. Field names follow the paper (`A`, `X`, `z_A`).
#![allow(non_snake_case)]

use core::fmt;
use std::sync::OnceLock;

use curve25519_dalek::constants::{RISTRETTO_BASEPOINT_POINT, RISTRETTO_BASEPOINT_TABLE};
use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, MultiscalarMul, VartimeMultiscalarMul};
use merlin::Transcript;
use rand_core::CryptoRng;
use sha2::{Digest, Sha256};
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};
/// The wrapper [`sign`] takes the secret in, re-exported so callers need no second
/// dependency line.
pub use zeroize::Zeroizing;

#[cfg(feature = "hazmat")]
use crate::encoding::Scalar as CanonicalScalar;
use crate::encoding::{DecodeError, Point, Reader};
use crate::group::{generator, hash_to_group};
use crate::labels::{
    PROOF_TRIPTYCH, PROOF_TRIPTYCH_DISCLOSING, TRIPTYCH_LINKING_BASE, TRIPTYCH_RING,
};
use crate::proofs::{PROOF_ENCODING_VERSION, prover_challenge};
use crate::secret::{NonceSource, SecretScalar};
use crate::weaken::{Check, skipped};

/// The largest ring: 2^16 keys (spec/08 §8.2).
pub const MAX_RING_LOG2: u32 = 16;

/// The largest number of digits m any ring size uses (2^15 = 2^15 with n = 2).
const MAX_DIGITS: usize = 15;
/// The largest digit base n.
const MAX_BASE: usize = 4;

/// Why a ring, a signature or a batch was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The ring size is not 2^k with 1 ≤ k ≤ 16 (spec/08 §8.2).
    RingSize {
        /// The number of keys given.
        found: usize,
    },
    /// A ring key is the identity, or its encoding is not canonical (spec/08 §8.3).
    RingKey {
        /// The key's position in the ring.
        index: usize,
        /// What was wrong with it.
        reason: DecodeError,
    },
    /// The signer's index is not a position of the ring.
    IndexOutOfRange {
        /// The index given.
        index: usize,
        /// The ring size.
        ring_size: usize,
    },
    /// The secret is not the discrete log of the ring key at the signer's index (or is 0).
    WitnessMismatch,
    /// The linking base U is the identity.
    LinkingBaseIdentity,
    /// The signature was made for another ring size than the ring it is checked against.
    ParametersMismatch {
        /// The ring's size.
        ring: usize,
        /// The signature's ring size.
        signature: usize,
    },
    /// A signature that discloses an attribute checked as one that does not, or the
    /// reverse (spec/08 §8.12).
    DisclosureMismatch {
        /// Whether the signature discloses one.
        disclosing: bool,
    },
    /// The attribute commitments are not one per ring key (spec/08 §8.12).
    CommitmentRingSize {
        /// The ring's size.
        keys: usize,
        /// The number of commitments.
        commitments: usize,
    },
    /// A field of the signature failed strict decoding (spec/08 §8.6).
    Decode(DecodeError),
    /// A verification equation does not hold: `E1`…`E4` of spec/08 §8.8.
    Equation {
        /// The spec's name of the equation.
        equation: &'static str,
    },
    /// A batch failed: the position (in push order) of every failing signature, and why.
    Batch {
        /// (position, reason) of each failing signature.
        invalid: Vec<(usize, Error)>,
    },
    /// The prover's own check of the signature it made failed: a prover bug, never the
    /// caller's fault. The signature is withheld.
    SelfCheckFailed(Box<Error>),
}

impl Error {
    /// The spec's name of the check that failed (`E1`…`E4`, `decode`, `parameters`,
    /// `ring`, `statement`, `batch`, `witness`).
    pub fn spec_check(&self) -> &'static str {
        match self {
            Self::Equation { equation } => equation,
            Self::Decode(_) => "decode",
            Self::ParametersMismatch { .. } | Self::DisclosureMismatch { .. } => "parameters",
            Self::RingSize { .. } | Self::RingKey { .. } | Self::CommitmentRingSize { .. } => {
                "ring"
            }
            Self::LinkingBaseIdentity | Self::IndexOutOfRange { .. } => "statement",
            Self::Batch { .. } => "batch",
            Self::WitnessMismatch | Self::SelfCheckFailed(_) => "witness",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RingSize { found } => write!(
                f,
                "a ring has 2^k keys with 1 ≤ k ≤ {MAX_RING_LOG2}; this one has {found}"
            ),
            Self::RingKey { index, reason } => write!(f, "ring key {index}: {reason}"),
            Self::IndexOutOfRange { index, ring_size } => write!(
                f,
                "signer index {index} is outside the ring of {ring_size} keys"
            ),
            Self::WitnessMismatch => {
                f.write_str("the secret is not the key at the signer's index in the ring")
            }
            Self::LinkingBaseIdentity => f.write_str("the linking base U is the identity"),
            Self::ParametersMismatch { ring, signature } => write!(
                f,
                "the signature is for a ring of {signature} keys, the ring has {ring}"
            ),
            Self::DisclosureMismatch { disclosing: true } => f.write_str(
                "the signature discloses an attribute: it is checked with the attribute commitments",
            ),
            Self::DisclosureMismatch { disclosing: false } => {
                f.write_str("the signature discloses no attribute, but one was expected")
            }
            Self::CommitmentRingSize { keys, commitments } => write!(
                f,
                "{commitments} attribute commitments for a ring of {keys} keys: one per key"
            ),
            Self::Decode(e) => write!(f, "malformed signature: {e}"),
            Self::Equation { equation } => {
                write!(f, "verification equation {equation} of spec/08 §8.8/§8.12 fails")
            }
            Self::Batch { invalid } => {
                write!(f, "{} signature(s) of the batch fail:", invalid.len())?;
                for (position, reason) in invalid {
                    write!(f, " #{position} ({reason});")?;
                }
                Ok(())
            }
            Self::SelfCheckFailed(e) => {
                write!(f, "the prover made a signature that does not verify ({e})")
            }
        }
    }
}

impl std::error::Error for Error {}

impl From<DecodeError> for Error {
    fn from(e: DecodeError) -> Self {
        Self::Decode(e)
    }
}

/// The shape of a ring and its signatures: N = n^m (spec/08 §8.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Parameters {
    /// log2 of the digit base n (1 or 2).
    base_bits: u32,
    /// Number of digits m.
    m: usize,
}

impl Parameters {
    /// The parameters of a ring of `size` keys: size = 2^k with 1 ≤ k ≤ 16; n = 4 and
    /// m = k/2 for even k (the smaller signature), n = 2 and m = k for odd k.
    pub fn for_ring_size(size: usize) -> Result<Self, Error> {
        if !size.is_power_of_two() || size < 2 || size.trailing_zeros() > MAX_RING_LOG2 {
            return Err(Error::RingSize { found: size });
        }
        let k = size.trailing_zeros();
        Ok(if k.is_multiple_of(2) {
            Self {
                base_bits: 2,
                m: (k / 2) as usize,
            }
        } else {
            Self {
                base_bits: 1,
                m: k as usize,
            }
        })
    }

    /// The digit base n.
    pub fn n(&self) -> usize {
        1 << self.base_bits
    }

    /// The number of digits m.
    pub fn m(&self) -> usize {
        self.m
    }

    /// The ring size N = n^m.
    pub fn ring_size(&self) -> usize {
        1 << (self.base_bits as usize * self.m)
    }

    /// The length of a signature's encoding: 1 + 32·(5 + 2m) + 32·(m(n−1) + 3).
    pub fn signature_len(&self) -> usize {
        1 + 32 * (5 + 2 * self.m) + 32 * (self.m * (self.n() - 1) + 3)
    }

    /// Nonces a signature draws: r_A, r_B, r_C, r_D, m(n−1) values a_{j,i}, m values ρ_j.
    pub fn nonce_count(&self) -> usize {
        4 + self.m * self.n()
    }

    /// The length of a disclosing signature (spec/08 §8.12): m points W_j and z_b more.
    pub fn disclosing_signature_len(&self) -> usize {
        self.signature_len() + 32 * (self.m + 1)
    }

    /// Nonces a disclosing signature draws: those of [`Self::nonce_count`], then m
    /// values ρ'_j.
    pub fn disclosing_nonce_count(&self) -> usize {
        self.nonce_count() + self.m
    }
}

/// The generators of the matrix commitments (spec/08 §8.4): H_T = Gen("triptych/H") and
/// G_{j,i} = Gen("triptych/G/" ‖ j ‖ "/" ‖ i), j and i in ASCII decimal. Derived once
/// per process.
struct CommitmentGenerators {
    H: RistrettoPoint,
    /// G_{j,i} at j·MAX_BASE + i.
    G: Vec<RistrettoPoint>,
}

fn commitment_generators() -> &'static CommitmentGenerators {
    static GENERATORS: OnceLock<CommitmentGenerators> = OnceLock::new();
    GENERATORS.get_or_init(|| CommitmentGenerators {
        H: *generator(b"triptych/H").as_ristretto(),
        G: (0..MAX_DIGITS * MAX_BASE)
            .map(|at| {
                let name = format!("triptych/G/{}/{}", at / MAX_BASE, at % MAX_BASE);
                *generator(name.as_bytes()).as_ristretto()
            })
            .collect(),
    })
}

impl CommitmentGenerators {
    /// G_{j,i} for j < m, i < n, in the order j-major.
    /// (A Vec: dalek's multiscalar multiplication wants exact iterator lengths.)
    fn for_parameters(&self, p: &Parameters) -> Vec<RistrettoPoint> {
        let n = p.n();
        (0..p.m)
            .flat_map(|j| self.G[j * MAX_BASE..j * MAX_BASE + n].iter().copied())
            .collect()
    }
}

/// A ring of keys, prepared once: decoded, encodings kept for the transcript and the
/// prover's witness scan, and its digest hashed (spec/08 §8.3).
#[derive(Clone)]
pub struct Ring {
    keys: Vec<RistrettoPoint>,
    encodings: Vec<[u8; 32]>,
    parameters: Parameters,
    digest: [u8; 32],
}

impl fmt::Debug for Ring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ring")
            .field("len", &self.keys.len())
            .field("digest", &crate::encoding::to_hex(&self.digest))
            .finish()
    }
}

impl Ring {
    /// A ring of computed keys (2^k of them, 1 ≤ k ≤ 16, none the identity).
    pub fn new(keys: Vec<RistrettoPoint>) -> Result<Self, Error> {
        let parameters = Parameters::for_ring_size(keys.len())?;
        let mut encodings = Vec::with_capacity(keys.len());
        for (index, key) in keys.iter().enumerate() {
            if key.is_identity() {
                return Err(Error::RingKey {
                    index,
                    reason: DecodeError::new("", crate::DecodeErrorKind::IdentityPoint),
                });
            }
            encodings.push(key.compress().to_bytes());
        }
        Ok(Self::assemble(keys, encodings, parameters))
    }

    /// A ring from the keys' canonical encodings, decoded strictly (none the identity).
    pub fn from_encodings(encodings: Vec<[u8; 32]>) -> Result<Self, Error> {
        let parameters = Parameters::for_ring_size(encodings.len())?;
        let keys = encodings
            .iter()
            .enumerate()
            .map(|(index, bytes)| {
                Point::decode_non_identity(bytes)
                    .map(|p| *p.as_ristretto())
                    .map_err(|reason| Error::RingKey { index, reason })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::assemble(keys, encodings, parameters))
    }

    fn assemble(
        keys: Vec<RistrettoPoint>,
        encodings: Vec<[u8; 32]>,
        parameters: Parameters,
    ) -> Self {
        let mut hash = Sha256::new();
        hash.update(TRIPTYCH_RING);
        hash.update((keys.len() as u64).to_le_bytes());
        for encoding in &encodings {
            hash.update(encoding);
        }
        let mut digest = [0u8; 32];
        digest.copy_from_slice(&hash.finalize());
        Self {
            keys,
            encodings,
            parameters,
            digest,
        }
    }

    /// The number of keys N.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Never true: a ring has at least two keys.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// SHA-256(`urne/v1/triptych/ring` ‖ LE64(N) ‖ enc(M_0) ‖ … ‖ enc(M_{N−1})), the
    /// ring as the transcript binds it (spec/08 §8.3).
    pub fn digest(&self) -> [u8; 32] {
        self.digest
    }

    /// The ring's parameters (n, m).
    pub fn parameters(&self) -> Parameters {
        self.parameters
    }

    /// The key at `index`.
    pub fn key(&self, index: usize) -> Option<&RistrettoPoint> {
        self.keys.get(index)
    }
}

/// U = HashToGroup(`urne/v1/triptych/linking-base` ‖ snapshot id ‖ context id)
/// (spec/08 §8.5): one linking base per registry snapshot and context, so one tag per
/// key per petition or election.
pub fn linking_base(snapshot_id: &[u8; 32], context_id: &[u8; 32]) -> RistrettoPoint {
    let mut input = Vec::with_capacity(TRIPTYCH_LINKING_BASE.len() + 64);
    input.extend_from_slice(TRIPTYCH_LINKING_BASE);
    input.extend_from_slice(snapshot_id);
    input.extend_from_slice(context_id);
    *hash_to_group(&input).as_ristretto()
}

/// A Triptych signature (spec/08 §8.6): the tag J, the commitments A, B, C, D, X_j, Y_j,
/// and the responses f_{j,i} (i ≥ 1), z_A, z_C, z.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    parameters: Parameters,
    J: Point,
    A: Point,
    B: Point,
    C: Point,
    D: Point,
    X: Vec<Point>,
    Y: Vec<Point>,
    /// f_{j,i} for i ≥ 1 at j·(n−1) + i − 1.
    f: Vec<Scalar>,
    z_A: Scalar,
    z_C: Scalar,
    z: Scalar,
    /// The parallel relation's part, for a signature that discloses an attribute.
    disclosure: Option<Disclosure>,
}

/// Wiping a signature (spec/60 §60.1): a booth that made a signature it will not release
/// (the decision the voter did not take) wipes every part of it, the heap-held X, Y, f
/// and W included, before its memory is freed. The parameters (public sizes) stay. A
/// wiped signature is no signature: it is only to be dropped.
impl zeroize::Zeroize for Signature {
    fn zeroize(&mut self) {
        for point in [
            &mut self.J,
            &mut self.A,
            &mut self.B,
            &mut self.C,
            &mut self.D,
        ] {
            point.zeroize();
        }
        self.X.zeroize();
        self.Y.zeroize();
        self.f.zeroize();
        self.z_A.zeroize();
        self.z_C.zeroize();
        self.z.zeroize();
        if let Some(d) = &mut self.disclosure {
            d.W.zeroize();
            d.z_b.zeroize();
        }
        self.disclosure = None;
    }
}

/// What a disclosing signature adds (spec/08 §8.12): W_j = Σ_k p_{k,j}·C_k + ρ'_j·H and
/// z_b = b·ξ^m − Σ_j ρ'_j·ξ^j.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Disclosure {
    W: Vec<Point>,
    z_b: Scalar,
}

/// The attribute a disclosing signature speaks of (spec/08 §8.12): the commitments C_k,
/// one per ring key and in its order, and the generator Q of the disclosed value, so
/// that the signer proves C_l − Q = b·H for its own index l.
#[derive(Clone, Copy, Debug)]
pub struct Attribute<'a> {
    /// The commitments, C_k for the key M_k.
    pub commitments: &'a Ring,
    /// Q: the disclosed value's generator (a district's G_d).
    pub base: RistrettoPoint,
}

/// H of spec/01 §1.3 (`urne/v1/generator/H`), the blinding base of the attribute
/// commitments of spec/30 §30.2.
fn blinding_base() -> &'static (RistrettoPoint, [u8; 32]) {
    static H: OnceLock<(RistrettoPoint, [u8; 32])> = OnceLock::new();
    H.get_or_init(|| {
        let h = *crate::group::generator_h().as_ristretto();
        (h, h.compress().to_bytes())
    })
}

/// The attribute statement as the transcript binds it.
#[derive(Clone, Copy)]
pub(crate) struct AttributeStatement<'a> {
    commitments: &'a Ring,
    base: &'a RistrettoPoint,
    base_encoding: [u8; 32],
}

impl<'a> AttributeStatement<'a> {
    fn new(ring: &Ring, attribute: &'a Attribute<'a>) -> Result<Self, Error> {
        if attribute.commitments.len() != ring.len() {
            return Err(Error::CommitmentRingSize {
                keys: ring.len(),
                commitments: attribute.commitments.len(),
            });
        }
        Ok(Self {
            commitments: attribute.commitments,
            base: &attribute.base,
            base_encoding: attribute.base.compress().to_bytes(),
        })
    }
}

impl Signature {
    /// True if the signature discloses an attribute (spec/08 §8.12).
    pub fn discloses(&self) -> bool {
        self.disclosure.is_some()
    }

    /// The tag J = r⁻¹·U: equal for two signatures exactly when one key signed both
    /// under one linking base.
    pub fn tag(&self) -> CompressedRistretto {
        CompressedRistretto(self.J.to_bytes())
    }

    /// The parameters the signature was made for.
    pub fn parameters(&self) -> Parameters {
        self.parameters
    }

    /// version ‖ J ‖ A ‖ B ‖ C ‖ D ‖ X_0…X_{m−1} ‖ Y_0…Y_{m−1} ‖ f ‖ z_A ‖ z_C ‖ z.
    pub fn to_bytes(&self) -> Vec<u8> {
        // The whole length up front, a disclosure's W and z_b included: a buffer grown
        // midway would free its first copy (X, f) unwiped, which a booth wiping an
        // unreleased signature must not leave behind (spec/60 §60.1).
        let mut out = Vec::with_capacity(if self.discloses() {
            self.parameters.disclosing_signature_len()
        } else {
            self.parameters.signature_len()
        });
        out.push(PROOF_ENCODING_VERSION);
        for point in [&self.J, &self.A, &self.B, &self.C, &self.D]
            .into_iter()
            .chain(&self.X)
            .chain(&self.Y)
        {
            out.extend_from_slice(point.as_bytes());
        }
        for scalar in self.f.iter().chain([&self.z_A, &self.z_C, &self.z]) {
            out.extend_from_slice(scalar.as_bytes());
        }
        if let Some(d) = &self.disclosure {
            for point in &d.W {
                out.extend_from_slice(point.as_bytes());
            }
            out.extend_from_slice(d.z_b.as_bytes());
        }
        out
    }

    /// Strict decoding for a ring of the given parameters (spec/08 §8.6): version 1, the
    /// exact length, canonical points none the identity, canonical scalars.
    pub fn from_bytes(bytes: &[u8], parameters: Parameters) -> Result<Self, Error> {
        Self::decode(bytes, parameters, false)
    }

    /// Strict decoding of a disclosing signature (spec/08 §8.12): §8.6's fields, then
    /// W_0 … W_{m−1} (points, none the identity) and z_b (canonical).
    pub fn from_bytes_disclosing(bytes: &[u8], parameters: Parameters) -> Result<Self, Error> {
        Self::decode(bytes, parameters, true)
    }

    fn decode(bytes: &[u8], parameters: Parameters, disclosing: bool) -> Result<Self, Error> {
        let expected = if disclosing {
            parameters.disclosing_signature_len()
        } else {
            parameters.signature_len()
        };
        let mut reader = Reader::new(bytes);
        reader.version("version", PROOF_ENCODING_VERSION)?;
        // The length first: a signature for another ring size is named as such, not as
        // whichever field happens to run short.
        if bytes.len() != expected {
            return Err(Error::Decode(DecodeError::new(
                "length",
                crate::DecodeErrorKind::WrongLength {
                    expected,
                    found: bytes.len(),
                },
            )));
        }
        let J = reader.point_non_identity("J")?;
        let A = reader.point_non_identity("A")?;
        let B = reader.point_non_identity("B")?;
        let C = reader.point_non_identity("C")?;
        let D = reader.point_non_identity("D")?;
        let m = parameters.m;
        let X = (0..m)
            .map(|j| reader.point_non_identity(|| format!("X[{j}]")))
            .collect::<Result<Vec<_>, _>>()?;
        let Y = (0..m)
            .map(|j| reader.point_non_identity(|| format!("Y[{j}]")))
            .collect::<Result<Vec<_>, _>>()?;
        let n = parameters.n();
        let f = (0..m * (n - 1))
            .map(|at| {
                reader
                    .scalar(|| format!("f[{}][{}]", at / (n - 1), at % (n - 1) + 1))
                    .map(|s| *s.as_dalek())
            })
            .collect::<Result<Vec<_>, _>>()?;
        let z_A = *reader.scalar("z_A")?.as_dalek();
        let z_C = *reader.scalar("z_C")?.as_dalek();
        let z = *reader.scalar("z")?.as_dalek();
        let disclosure = if disclosing {
            let W = (0..m)
                .map(|j| reader.point_non_identity(|| format!("W[{j}]")))
                .collect::<Result<Vec<_>, _>>()?;
            let z_b = *reader.scalar("z_b")?.as_dalek();
            Some(Disclosure { W, z_b })
        } else {
            None
        };
        reader.finish()?;
        Ok(Self {
            parameters,
            J,
            A,
            B,
            C,
            D,
            X,
            Y,
            f,
            z_A,
            z_C,
            z,
            disclosure,
        })
    }

    /// The full matrix f_{j,i}, i = 0 included: f_{j,0} = ξ − Σ_{i≥1} f_{j,i}.
    fn full_f(&self, xi: &Scalar) -> Vec<Scalar> {
        let n = self.parameters.n();
        let mut full = Vec::with_capacity(self.parameters.m * n);
        for row in self.f.chunks_exact(n - 1) {
            let sum: Scalar = row.iter().sum();
            full.push(xi - sum);
            full.extend_from_slice(row);
        }
        full
    }
}

/// The transcript up to the commitments (spec/08 §8.7 items 1–4; §8.12 for a disclosing
/// signature: its own label, then the commitments' digest, Q and H after J).
fn statement_transcript(
    ring: &Ring,
    U: &[u8; 32],
    J: &[u8; 32],
    context: &[u8],
    attribute: Option<&AttributeStatement<'_>>,
) -> Transcript {
    let p = ring.parameters;
    let mut t = Transcript::new(if attribute.is_some() {
        PROOF_TRIPTYCH_DISCLOSING
    } else {
        PROOF_TRIPTYCH
    });
    t.append_message(b"context", context);
    t.append_u64(b"n", p.n() as u64);
    t.append_u64(b"m", p.m as u64);
    t.append_message(b"ring", &ring.digest);
    t.append_message(b"U", U);
    t.append_message(b"J", J);
    if let Some(a) = attribute {
        t.append_message(b"commitments", &a.commitments.digest);
        t.append_message(b"Q", &a.base_encoding);
        t.append_message(b"H", &blinding_base().1);
    }
    t
}

/// ξ: the transcript with the commitments, then `challenge("c")` (spec/08 §8.7).
#[allow(clippy::too_many_arguments)]
fn challenge_from(
    mut t: Transcript,
    A: &Point,
    B: &Point,
    C: &Point,
    D: &Point,
    X: &[Point],
    Y: &[Point],
    W: &[Point],
) -> Scalar {
    for (label, point) in [(b"A", A), (b"B", B), (b"C", C), (b"D", D)] {
        t.append_message(label, point.as_bytes());
    }
    for point in X {
        t.append_message(b"X", point.as_bytes());
    }
    for point in Y {
        t.append_message(b"Y", point.as_bytes());
    }
    for point in W {
        t.append_message(b"W", point.as_bytes());
    }
    let mut wide = [0u8; 64];
    t.challenge_bytes(b"c", &mut wide);
    Scalar::from_bytes_mod_order_wide(&wide)
}

pub(crate) fn challenge(
    ring: &Ring,
    U: &[u8; 32],
    context: &[u8],
    attribute: Option<&AttributeStatement<'_>>,
    s: &Signature,
) -> Scalar {
    challenge_from(
        statement_transcript(ring, U, s.J.as_bytes(), context, attribute),
        &s.A,
        &s.B,
        &s.C,
        &s.D,
        &s.X,
        &s.Y,
        s.disclosure.as_ref().map_or(&[], |d| &d.W),
    )
}

/// The compressed linking base, refusing the identity.
fn linking_base_encoding(U: &RistrettoPoint) -> Result<[u8; 32], Error> {
    if U.is_identity() {
        return Err(Error::LinkingBaseIdentity);
    }
    Ok(U.compress().to_bytes())
}

/// Signs `context` as the holder of the ring key at `index` (spec/08 §8.7), drawing
/// hedged nonces. The context bytes are whatever the calling protocol binds (context
/// id, snapshot id, bucket, text hash, disclosed attribute, one-time envelope key).
pub fn sign<R: CryptoRng + ?Sized>(
    ring: &Ring,
    index: usize,
    secret: &Zeroizing<Scalar>,
    linking_base: &RistrettoPoint,
    context: &[u8],
    rng: &mut R,
) -> Result<Signature, Error> {
    let U = linking_base_encoding(linking_base)?;
    let witness = SecretScalar::from_dalek(**secret);
    let tag = tag_for(secret, linking_base);
    let nonces = NonceSource::hedged(
        &statement_transcript(ring, &U, tag.as_bytes(), context, None),
        &[&witness],
        rng,
    );
    let signature = prove_with(ring, index, secret, &tag, &U, context, None, nonces, true)?;
    self_check(ring, None, linking_base, context, &signature)?;
    Ok(signature)
}

/// Signs as [`sign`] and also proves that the attribute commitment at the signer's
/// index opens to the disclosed value: C_l = Q + b·H with `blinding` = b (spec/08 §8.12,
/// the parallel relation with one index).
#[allow(clippy::too_many_arguments)]
pub fn sign_disclosing<R: CryptoRng + ?Sized>(
    ring: &Ring,
    attribute: &Attribute<'_>,
    index: usize,
    secret: &Zeroizing<Scalar>,
    blinding: &Zeroizing<Scalar>,
    linking_base: &RistrettoPoint,
    context: &[u8],
    rng: &mut R,
) -> Result<Signature, Error> {
    let U = linking_base_encoding(linking_base)?;
    let statement = AttributeStatement::new(ring, attribute)?;
    let witness = SecretScalar::from_dalek(**secret);
    let blinding_witness = SecretScalar::from_dalek(**blinding);
    let tag = tag_for(secret, linking_base);
    let nonces = NonceSource::hedged(
        &statement_transcript(ring, &U, tag.as_bytes(), context, Some(&statement)),
        &[&witness, &blinding_witness],
        rng,
    );
    let signature = prove_with(
        ring,
        index,
        secret,
        &tag,
        &U,
        context,
        Some((&statement, blinding, index)),
        nonces,
        true,
    )?;
    self_check(ring, Some(attribute), linking_base, context, &signature)?;
    Ok(signature)
}

/// J = r⁻¹·U in constant time (r = 0 gives the identity, which the witness check and
/// the decoder both refuse).
fn tag_for(secret: &Zeroizing<Scalar>, U: &RistrettoPoint) -> Point {
    let inverse = Zeroizing::new(secret.invert());
    Point::from_ristretto(U * *inverse)
}

fn self_check(
    ring: &Ring,
    attribute: Option<&Attribute<'_>>,
    U: &RistrettoPoint,
    context: &[u8],
    signature: &Signature,
) -> Result<(), Error> {
    if cfg!(any(debug_assertions, feature = "self-check")) {
        match attribute {
            None => verify(ring, U, context, signature),
            Some(a) => verify_disclosing(ring, a, U, context, signature),
        }
        .map_err(|e| Error::SelfCheckFailed(Box::new(e)))?;
    }
    Ok(())
}

/// As [`sign`] (or [`sign_disclosing`], with `attribute`, its blinding and the index of
/// the commitment the W_j answer for, the signer's own in an honest signature) with the
/// nonces given, in the order of spec/08 §8.7 and §8.12 (`crate::hazmat`). With
/// `check_witness` false, the ring secret and the tag's secret may differ from each other
/// and from the ring, the blinding need not open the commitment, and the commitment's
/// index may differ from the key's: the vector generator's forgeries.
#[cfg(feature = "hazmat")]
#[allow(clippy::too_many_arguments)]
pub(crate) fn sign_with_nonces(
    ring: &Ring,
    index: usize,
    secret: &Zeroizing<Scalar>,
    tag_secret: &Zeroizing<Scalar>,
    attribute: Option<(&Attribute<'_>, &Zeroizing<Scalar>, usize)>,
    linking_base: &RistrettoPoint,
    context: &[u8],
    nonces: &[SecretScalar],
    check_witness: bool,
) -> Result<Signature, Error> {
    let U = linking_base_encoding(linking_base)?;
    let tag = tag_for(tag_secret, linking_base);
    let p = ring.parameters;
    let expected = if attribute.is_some() {
        p.disclosing_nonce_count()
    } else {
        p.nonce_count()
    };
    let source = NonceSource::explicit(nonces, expected).map_err(|_| {
        Error::Decode(DecodeError::new(
            "nonces",
            crate::DecodeErrorKind::WrongLength {
                expected,
                found: nonces.len(),
            },
        ))
    })?;
    let statement = match attribute {
        Some((a, _, _)) => Some(AttributeStatement::new(ring, a)?),
        None => None,
    };
    if check_witness && attribute.is_some_and(|(_, _, at)| at != index) {
        return Err(Error::WitnessMismatch);
    }
    let signature = prove_with(
        ring,
        index,
        secret,
        &tag,
        &U,
        context,
        statement
            .as_ref()
            .zip(attribute)
            .map(|(statement, (_, b, at))| (statement, b, at)),
        source,
        check_witness,
    )?;
    if check_witness {
        self_check(
            ring,
            attribute.map(|(a, _, _)| a),
            linking_base,
            context,
            &signature,
        )?;
    }
    Ok(signature)
}

/// [`prove_with`] without an attribute (the tests' forgeries).
#[cfg(test)]
#[allow(clippy::too_many_arguments)]
fn prove(
    ring: &Ring,
    index: usize,
    r: &Zeroizing<Scalar>,
    J: &Point,
    U_encoding: &[u8; 32],
    context: &[u8],
    nonces: NonceSource<'_>,
    check_witness: bool,
) -> Result<Signature, Error> {
    prove_with(
        ring,
        index,
        r,
        J,
        U_encoding,
        context,
        None,
        nonces,
        check_witness,
    )
}

/// Σ_k p_{k,d}·P_k for d < m, with p_k(x) = Π_j (σ_{j,k_j}·x + a_{j,k_j}) (spec/08 §8.7
/// step 5), in constant time in l.
///
/// Expanding the product, the coefficient of x^d picks σ (digit k_j = l_j) in d digits
/// and a in the others, so the sum is folded one digit at a time: at digit j, a tensor
/// of degree d either selects its slice k_j = l_j (degree d + 1, a constant-time select)
/// or contracts it with a_{j,·} (degree d). Tensors of equal degree are added. That costs
/// about N·n/(n−1)² small multiscalar products instead of m multiscalar products of size
/// N. The partial sums depend on l and the a_{j,i}: wiped on drop like the scalars.
fn fold_ring(
    points: &[RistrettoPoint],
    p: &Parameters,
    index: usize,
    a: &[Scalar],
) -> Zeroizing<Vec<RistrettoPoint>> {
    let (n, m) = (p.n(), p.m);
    let mut tensors: Zeroizing<Vec<Vec<RistrettoPoint>>> = Zeroizing::new(vec![points.to_vec()]);
    for j in 0..m {
        let digit = ((index >> (p.base_bits as usize * j)) & (n - 1)) as u64;
        let a_row = &a[j * n + 1..(j + 1) * n];
        let size = tensors[0].len() / n;
        let degrees = (tensors.len() + 1).min(m);
        let mut next = Zeroizing::new(vec![vec![RistrettoPoint::default(); size]; degrees]);
        let mut differences = Zeroizing::new(vec![RistrettoPoint::default(); n - 1]);
        for (d, tensor) in tensors.iter().enumerate() {
            for (w, slice) in tensor.chunks_exact(n).enumerate() {
                // a_{j,0} = −Σ_{i≥1} a_{j,i}, so Σ_i a_{j,i}·T_i = Σ_{i≥1} a_{j,i}·(T_i − T_0).
                for (difference, point) in differences.iter_mut().zip(&slice[1..]) {
                    *difference = point - slice[0];
                }
                next[d][w] += RistrettoPoint::multiscalar_mul(a_row, differences.iter());
                if d + 1 < degrees {
                    let mut selected = Zeroizing::new(slice[0]);
                    for (i, point) in slice.iter().enumerate().skip(1) {
                        selected.conditional_assign(point, digit.ct_eq(&(i as u64)));
                    }
                    next[d + 1][w] += *selected;
                }
            }
        }
        tensors = next;
    }
    Zeroizing::new(tensors.iter().map(|t| t[0]).collect())
}

/// True if `expected` is the encoding at `index`, by a scan of the whole ring: M[index]
/// would be a secret-dependent memory access.
fn holds_at(ring: &Ring, index: usize, expected: &[u8; 32]) -> bool {
    let mut found = Choice::from(0);
    for (k, encoding) in ring.encodings.iter().enumerate() {
        found |= (k as u64).ct_eq(&(index as u64)) & encoding.ct_eq(expected);
    }
    bool::from(found)
}

#[allow(clippy::too_many_arguments)]
fn prove_with(
    ring: &Ring,
    index: usize,
    r: &Zeroizing<Scalar>,
    J: &Point,
    U_encoding: &[u8; 32],
    context: &[u8],
    attribute: Option<(&AttributeStatement<'_>, &Zeroizing<Scalar>, usize)>,
    mut nonces: NonceSource<'_>,
    check_witness: bool,
) -> Result<Signature, Error> {
    let p = ring.parameters;
    let (n, m, N) = (p.n(), p.m, p.ring_size());
    if index >= N {
        return Err(Error::IndexOutOfRange {
            index,
            ring_size: N,
        });
    }
    if let Some((_, _, commitment_index)) = attribute
        && commitment_index >= N
    {
        return Err(Error::IndexOutOfRange {
            index: commitment_index,
            ring_size: N,
        });
    }
    let (H_A, _) = blinding_base();
    if check_witness {
        let key = (RISTRETTO_BASEPOINT_TABLE * &**r).compress().to_bytes();
        if !holds_at(ring, index, &key) {
            return Err(Error::WitnessMismatch);
        }
        if let Some((a, b, commitment_index)) = attribute {
            // The W_j are folded at commitment_index: an honest signature needs it to be
            // the key's own, whatever the caller passed (the forgeries alone may differ).
            if commitment_index != index {
                return Err(Error::WitnessMismatch);
            }
            let commitment = (a.base + H_A * **b).compress().to_bytes();
            if !holds_at(a.commitments, index, &commitment) {
                return Err(Error::WitnessMismatch);
            }
        }
    }

    let r_A = nonces.next();
    let r_B = nonces.next();
    let r_C = nonces.next();
    let r_D = nonces.next();
    // a_{j,i} for i ≥ 1 drawn row by row; a_{j,0} = −Σ_{i≥1} a_{j,i}.
    let mut a = Zeroizing::new(vec![Scalar::ZERO; m * n]);
    for j in 0..m {
        let mut sum = Zeroizing::new(Scalar::ZERO);
        for i in 1..n {
            let value = nonces.next();
            a[j * n + i] = *value;
            *sum += *value;
        }
        a[j * n] = -*sum;
    }
    let rho: Vec<Zeroizing<Scalar>> = (0..m).map(|_| nonces.next()).collect();
    let rho_b: Vec<Zeroizing<Scalar>> = match attribute {
        Some(_) => (0..m).map(|_| nonces.next()).collect(),
        None => Vec::new(),
    };

    // σ_{j,i} = [digit j of l = i], selected without a branch or an index on l.
    let mut sigma = Zeroizing::new(vec![Scalar::ZERO; m * n]);
    for j in 0..m {
        let digit = ((index >> (p.base_bits as usize * j)) & (n - 1)) as u64;
        for i in 0..n {
            sigma[j * n + i] =
                Scalar::conditional_select(&Scalar::ZERO, &Scalar::ONE, digit.ct_eq(&(i as u64)));
        }
    }

    let generators = commitment_generators();
    let commitment_bases = generators.for_parameters(&p);
    let commit = |entries: &[Scalar], blind: &Scalar| -> Point {
        Point::from_ristretto(RistrettoPoint::multiscalar_mul(
            entries.iter().chain([blind]),
            commitment_bases.iter().chain([&generators.H]),
        ))
    };
    let A = commit(&a, &r_A);
    let B = commit(&sigma, &r_B);
    let c_entries: Zeroizing<Vec<Scalar>> = Zeroizing::new(
        a.iter()
            .zip(sigma.iter())
            .map(|(a, s)| a * (Scalar::ONE - s - s))
            .collect(),
    );
    let C = commit(&c_entries, &r_C);
    let d_entries: Zeroizing<Vec<Scalar>> = Zeroizing::new(a.iter().map(|a| -(a * a)).collect());
    let D = commit(&d_entries, &r_D);

    let X: Vec<Point> = fold_ring(&ring.keys, &p, index, &a)
        .iter()
        .zip(&rho)
        .map(|(X_j, rho_j)| Point::from_ristretto(X_j + RISTRETTO_BASEPOINT_TABLE * &**rho_j))
        .collect();
    let Y: Vec<Point> = rho
        .iter()
        .map(|rho_j| Point::from_ristretto(J.as_ristretto() * **rho_j))
        .collect();
    // The parallel ring: W_d = Σ_k p_{k,d}·C_k + ρ'_d·H. (Σ_k p_{k,d} = 0 for d < m, so
    // the offset by Q that the relation is about, P_k = C_k − Q, changes no W_d.)
    let W: Vec<Point> = match attribute {
        Some((a_statement, _, commitment_index)) => {
            fold_ring(&a_statement.commitments.keys, &p, commitment_index, &a)
                .iter()
                .zip(&rho_b)
                .map(|(W_j, rho_j)| Point::from_ristretto(W_j + H_A * **rho_j))
                .collect()
        }
        None => Vec::new(),
    };

    let xi = prover_challenge(challenge_from(
        statement_transcript(
            ring,
            U_encoding,
            J.as_bytes(),
            context,
            attribute.map(|(a, _, _)| a),
        ),
        &A,
        &B,
        &C,
        &D,
        &X,
        &Y,
        &W,
    ));

    let mut f = Vec::with_capacity(m * (n - 1));
    for j in 0..m {
        for i in 1..n {
            f.push(sigma[j * n + i] * xi + a[j * n + i]);
        }
    }
    let z_A = *r_A + xi * *r_B;
    let z_C = xi * *r_C + *r_D;
    // z = r·ξ^m − Σ_j ρ_j·ξ^j, and z_b = b·ξ^m − Σ_j ρ'_j·ξ^j.
    let mut power = Scalar::ONE;
    let mut rho_sum = Zeroizing::new(Scalar::ZERO);
    let mut rho_b_sum = Zeroizing::new(Scalar::ZERO);
    for (j, rho_j) in rho.iter().enumerate() {
        *rho_sum += **rho_j * power;
        if let Some(rho_b_j) = rho_b.get(j) {
            *rho_b_sum += **rho_b_j * power;
        }
        power *= xi;
    }
    let z = **r * power - *rho_sum;
    let disclosure = attribute.map(|(_, b, _)| Disclosure {
        W,
        z_b: **b * power - *rho_b_sum,
    });

    Ok(Signature {
        parameters: p,
        J: *J,
        A,
        B,
        C,
        D,
        X,
        Y,
        f,
        z_A,
        z_C,
        z,
        disclosure,
    })
}

/// The weighted terms of one signature's equations (spec/08 §8.8, §8.12), added to the
/// batch's shared coefficients; its own points and their scalars are pushed.
struct Terms<'a> {
    ring: &'a mut RingCoefficients,
    /// The attribute commitments' coefficients (of no key if no signature discloses).
    commitments: &'a mut RingCoefficients,
    G: &'a mut Scalar,
    H: &'a mut Scalar,
    /// The coefficient of H of spec/01, the commitments' blinding base.
    H_A: &'a mut Scalar,
    U: &'a mut Scalar,
    commitment: &'a mut [Scalar],
    scalars: &'a mut Vec<Scalar>,
    points: &'a mut Vec<RistrettoPoint>,
}

/// Weights of E1…E5; a zero weight leaves its equation out. `attribute_base` is Q for a
/// disclosing signature (E5 needs it).
fn add_terms(
    s: &Signature,
    xi: &Scalar,
    weights: [Scalar; 5],
    attribute_base: Option<&RistrettoPoint>,
    t: &mut Terms<'_>,
) -> Result<(), Error> {
    let p = s.parameters;
    let [w1, w2, w3, w4, w5] = weights;
    // A weighted E5 without its commitment terms, or without its attribute base, would
    // check another equation, one a forger can satisfy: refuse, before anything is added,
    // rather than drop a term.
    if w5 != Scalar::ZERO {
        if s.disclosure.is_some() != attribute_base.is_some() {
            return Err(Error::DisclosureMismatch {
                disclosing: s.disclosure.is_some(),
            });
        }
        if s.disclosure.is_some() && t.commitments.size() != p.ring_size() {
            return Err(Error::CommitmentRingSize {
                keys: p.ring_size(),
                commitments: t.commitments.size(),
            });
        }
    }
    let full = s.full_f(xi);
    // E1: Σ f_{j,i}·G_{j,i} + z_A·H_T − A − ξ·B = O.
    // E2: Σ f_{j,i}(ξ − f_{j,i})·G_{j,i} + z_C·H_T − ξ·C − D = O.
    for (coefficient, f) in t.commitment.iter_mut().zip(&full) {
        *coefficient += w1 * f + w2 * f * (xi - f);
    }
    *t.H += w1 * s.z_A + w2 * s.z_C;
    t.scalars.extend([-w1, -w1 * xi, -w2 * xi, -w2]);
    t.points.extend([
        *s.A.as_ristretto(),
        *s.B.as_ristretto(),
        *s.C.as_ristretto(),
        *s.D.as_ristretto(),
    ]);
    // E3: Σ t_k·M_k − Σ ξ^j·X_j − z·G = O.
    // E4: ξ^m·U − Σ ξ^j·Y_j − z·J = O.
    if w3 != Scalar::ZERO {
        t.ring.add(&full, w3);
    }
    let mut power = Scalar::ONE;
    for (X_j, Y_j) in s.X.iter().zip(&s.Y) {
        t.scalars.extend([-w3 * power, -w4 * power]);
        t.points.extend([*X_j.as_ristretto(), *Y_j.as_ristretto()]);
        power *= xi;
    }
    *t.G -= w3 * s.z;
    *t.U += w4 * power;
    t.scalars.push(-w4 * s.z);
    t.points.push(*s.J.as_ristretto());
    // E5: Σ t_k·C_k − ξ^m·Q − Σ ξ^j·W_j − z_b·H = O.
    if let (Some(d), Some(Q)) = (&s.disclosure, attribute_base) {
        if w5 != Scalar::ZERO {
            t.commitments.add(&full, w5);
        }
        t.scalars.push(-w5 * power);
        t.points.push(*Q);
        let mut power = Scalar::ONE;
        for W_j in &d.W {
            t.scalars.push(-w5 * power);
            t.points.push(*W_j.as_ristretto());
            power *= xi;
        }
        *t.H_A -= w5 * d.z_b;
    }
    Ok(())
}

/// The shared coefficients of a batch (or of one equation).
struct Shared {
    ring: RingCoefficients,
    commitments: RingCoefficients,
    G: Scalar,
    H: Scalar,
    H_A: Scalar,
    U: Scalar,
    commitment: Vec<Scalar>,
    scalars: Vec<Scalar>,
    points: Vec<RistrettoPoint>,
}

impl Shared {
    fn new(p: &Parameters, ring: usize, commitments: usize) -> Self {
        Self {
            ring: RingCoefficients::new(*p, ring),
            commitments: RingCoefficients::new(*p, commitments),
            G: Scalar::ZERO,
            H: Scalar::ZERO,
            H_A: Scalar::ZERO,
            U: Scalar::ZERO,
            commitment: vec![Scalar::ZERO; p.m * p.n()],
            scalars: Vec::new(),
            points: Vec::new(),
        }
    }

    fn add(
        &mut self,
        s: &Signature,
        xi: &Scalar,
        weights: [Scalar; 5],
        attribute_base: Option<&RistrettoPoint>,
    ) -> Result<(), Error> {
        add_terms(
            s,
            xi,
            weights,
            attribute_base,
            &mut Terms {
                ring: &mut self.ring,
                commitments: &mut self.commitments,
                G: &mut self.G,
                H: &mut self.H,
                H_A: &mut self.H_A,
                U: &mut self.U,
                commitment: &mut self.commitment,
                scalars: &mut self.scalars,
                points: &mut self.points,
            },
        )
    }

    /// One multiscalar multiplication over the ring keys (as many as have coefficients),
    /// the commitments (likewise), G, H_T, H, U, the commitment generators and the
    /// signatures' own points; true if it is the identity.
    fn sums_to_identity(self, ring: &Ring, commitments: Option<&Ring>, U: &RistrettoPoint) -> bool {
        let generators = commitment_generators();
        let p = ring.parameters;
        let ring_coefficients = self.ring.finish();
        let commitment_coefficients = self.commitments.finish();
        let commitment_keys = commitments.map_or(&[][..], |c| &c.keys[..]);
        RistrettoPoint::vartime_multiscalar_mul(
            ring_coefficients
                .iter()
                .chain(&commitment_coefficients)
                .chain([&self.G, &self.H, &self.H_A, &self.U])
                .chain(&self.commitment)
                .chain(&self.scalars),
            ring.keys[..ring_coefficients.len()]
                .iter()
                .chain(&commitment_keys[..commitment_coefficients.len()])
                .chain([
                    &RISTRETTO_BASEPOINT_POINT,
                    &generators.H,
                    &blinding_base().0,
                    U,
                ])
                .chain(&generators.for_parameters(&p))
                .chain(&self.points),
        )
        .is_identity()
    }
}

fn check_shape(ring: &Ring, signature: &Signature) -> Result<(), Error> {
    if signature.parameters != ring.parameters {
        return Err(Error::ParametersMismatch {
            ring: ring.len(),
            signature: signature.parameters.ring_size(),
        });
    }
    Ok(())
}

/// The equations of spec/08 §8.8 and §8.12, by name, with the switch that skips each in
/// tests of the vectors.
const EQUATIONS: [(&str, Check); 5] = [
    ("E1", Check::TriptychE1),
    ("E2", Check::TriptychE2),
    ("E3", Check::TriptychE3),
    ("E4", Check::TriptychE4),
    ("E5", Check::TriptychE5),
];

/// True if equation `e` (0 for E1 … 4 for E5) holds for the signature.
fn equation_holds(
    ring: &Ring,
    attribute: Option<&Attribute<'_>>,
    linking_base: &RistrettoPoint,
    xi: &Scalar,
    signature: &Signature,
    e: usize,
) -> Result<bool, Error> {
    let p = ring.parameters;
    let mut weights = [Scalar::ZERO; 5];
    weights[e] = Scalar::ONE;
    // Only E3 has ring terms, only E5 commitment terms.
    let mut shared = Shared::new(
        &p,
        if e == 2 { ring.len() } else { 0 },
        match attribute {
            Some(a) if e == 4 => a.commitments.len(),
            _ => 0,
        },
    );
    shared.add(signature, xi, weights, attribute.map(|a| &a.base))?;
    Ok(shared.sums_to_identity(ring, attribute.map(|a| a.commitments), linking_base))
}

/// Verifies one signature that discloses no attribute (spec/08 §8.8), equation by
/// equation, naming the first that fails.
pub fn verify(
    ring: &Ring,
    linking_base: &RistrettoPoint,
    context: &[u8],
    signature: &Signature,
) -> Result<(), Error> {
    verify_with(ring, None, linking_base, context, signature)
}

/// Verifies one disclosing signature (spec/08 §8.12): E1…E4 of §8.8 and E5, that the
/// commitment at the signer's (hidden) index opens to `attribute.base`.
pub fn verify_disclosing(
    ring: &Ring,
    attribute: &Attribute<'_>,
    linking_base: &RistrettoPoint,
    context: &[u8],
    signature: &Signature,
) -> Result<(), Error> {
    verify_with(ring, Some(attribute), linking_base, context, signature)
}

fn verify_with(
    ring: &Ring,
    attribute: Option<&Attribute<'_>>,
    linking_base: &RistrettoPoint,
    context: &[u8],
    signature: &Signature,
) -> Result<(), Error> {
    check_shape(ring, signature)?;
    if signature.discloses() != attribute.is_some() {
        return Err(Error::DisclosureMismatch {
            disclosing: signature.discloses(),
        });
    }
    let U = linking_base_encoding(linking_base)?;
    let statement = match attribute {
        Some(a) => Some(AttributeStatement::new(ring, a)?),
        None => None,
    };
    let xi = challenge(ring, &U, context, statement.as_ref(), signature);
    let equations = if attribute.is_some() { 5 } else { 4 };
    for (e, (name, check)) in EQUATIONS.into_iter().enumerate().take(equations) {
        if !skipped(check) && !equation_holds(ring, attribute, linking_base, &xi, signature, e)? {
            return Err(Error::Equation { equation: name });
        }
    }
    Ok(())
}

/// The names of every equation the signature fails, not only the first (tests: a
/// forgery must fail exactly the equation it was built for).
#[cfg(test)]
pub(crate) fn failing_equations(
    ring: &Ring,
    linking_base: &RistrettoPoint,
    context: &[u8],
    signature: &Signature,
) -> Vec<&'static str> {
    failing_equations_with(ring, None, linking_base, context, signature)
}

/// As [`failing_equations`], for a disclosing signature (E1…E5).
#[cfg(test)]
pub(crate) fn failing_equations_with(
    ring: &Ring,
    attribute: Option<&Attribute<'_>>,
    linking_base: &RistrettoPoint,
    context: &[u8],
    signature: &Signature,
) -> Vec<&'static str> {
    let U = linking_base.compress().to_bytes();
    let statement = attribute.map(|a| AttributeStatement::new(ring, a).unwrap());
    let xi = challenge(ring, &U, context, statement.as_ref(), signature);
    let equations = if attribute.is_some() { 5 } else { 4 };
    (0..equations)
        .filter(|e| {
            !equation_holds(ring, attribute, linking_base, &xi, signature, *e).unwrap_or(false)
        })
        .map(|e| EQUATIONS[e].0)
        .collect()
}

/// Many signatures over one ring and one linking base, checked with one multiscalar
/// multiplication (spec/08 §8.9); with [`BatchVerifier::with_commitments`], disclosing
/// signatures too, whatever value each discloses (spec/08 §8.12).
#[derive(Debug)]
pub struct BatchVerifier<'r> {
    ring: &'r Ring,
    commitments: Option<&'r Ring>,
    linking_base: RistrettoPoint,
    /// (context, signature, Q for a disclosing one).
    items: Vec<(Vec<u8>, Signature, Option<RistrettoPoint>)>,
}

impl<'r> BatchVerifier<'r> {
    /// An empty batch over `ring` and `linking_base`.
    pub fn new(ring: &'r Ring, linking_base: RistrettoPoint) -> Self {
        Self {
            ring,
            commitments: None,
            linking_base,
            items: Vec::new(),
        }
    }

    /// An empty batch over `ring`, its attribute `commitments` (one per key) and
    /// `linking_base`: it takes signatures that disclose and signatures that do not.
    pub fn with_commitments(
        ring: &'r Ring,
        commitments: &'r Ring,
        linking_base: RistrettoPoint,
    ) -> Self {
        Self {
            ring,
            commitments: Some(commitments),
            linking_base,
            items: Vec::new(),
        }
    }

    /// Adds a signature over `context` that discloses no attribute.
    pub fn push(&mut self, context: &[u8], signature: &Signature) {
        self.items.push((context.to_vec(), signature.clone(), None));
    }

    /// Adds a disclosing signature over `context` whose disclosed value has generator
    /// `attribute_base` (Q).
    pub fn push_disclosing(
        &mut self,
        context: &[u8],
        signature: &Signature,
        attribute_base: RistrettoPoint,
    ) {
        self.items
            .push((context.to_vec(), signature.clone(), Some(attribute_base)));
    }

    /// Number of signatures pushed.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True if nothing was pushed.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    fn attribute_of(&self, base: Option<RistrettoPoint>) -> Option<Attribute<'r>> {
        match (self.commitments, base) {
            (Some(commitments), Some(base)) => Some(Attribute { commitments, base }),
            _ => None,
        }
    }

    fn verify_one(
        &self,
        context: &[u8],
        s: &Signature,
        base: Option<RistrettoPoint>,
    ) -> Result<(), Error> {
        if base.is_some() && self.commitments.is_none() {
            return Err(Error::DisclosureMismatch {
                disclosing: s.discloses(),
            });
        }
        verify_with(
            self.ring,
            self.attribute_of(base).as_ref(),
            &self.linking_base,
            context,
            s,
        )
    }

    /// Verifies every signature pushed. On failure, checks each on its own and names
    /// every failing one, by push order, with its reason.
    pub fn verify<R: CryptoRng + ?Sized>(self, rng: &mut R) -> Result<(), Error> {
        let ring = self.ring;
        let U = linking_base_encoding(&self.linking_base)?;
        let p = ring.parameters;
        let discloses = self.items.iter().any(|(_, _, base)| base.is_some());
        let commitment_count = match self.commitments {
            Some(c) if discloses => {
                if c.len() != ring.len() {
                    return Err(Error::CommitmentRingSize {
                        keys: ring.len(),
                        commitments: c.len(),
                    });
                }
                c.len()
            }
            _ => 0,
        };
        let mut shared = Shared::new(&p, ring.len(), commitment_count);
        let per_signature = 5 + 2 * p.m;
        shared.scalars.reserve(self.items.len() * per_signature);
        shared.points.reserve(self.items.len() * per_signature);
        let mut shape_failures = Vec::new();
        for (position, (context, signature, base)) in self.items.iter().enumerate() {
            let shape = check_shape(ring, signature).and_then(|()| {
                if signature.discloses() != base.is_some()
                    || (base.is_some() && self.commitments.is_none())
                {
                    Err(Error::DisclosureMismatch {
                        disclosing: signature.discloses(),
                    })
                } else {
                    Ok(())
                }
            });
            if let Err(e) = shape {
                shape_failures.push((position, e));
                continue;
            }
            let attribute = self.attribute_of(*base);
            let statement = match &attribute {
                Some(a) => Some(AttributeStatement::new(ring, a)?),
                None => None,
            };
            let xi = challenge(ring, &U, context, statement.as_ref(), signature);
            let weights = batch_weights(rng);
            if let Err(e) = shared.add(signature, &xi, weights, base.as_ref()) {
                shape_failures.push((position, e));
            }
        }
        let holds = shared.sums_to_identity(ring, self.commitments, &self.linking_base);
        if holds && shape_failures.is_empty() {
            return Ok(());
        }
        let mut invalid = shape_failures;
        if !holds {
            for (position, (context, signature, base)) in self.items.iter().enumerate() {
                if invalid.iter().any(|(p, _)| *p == position) {
                    continue;
                }
                if let Err(e) = self.verify_one(context, signature, *base) {
                    invalid.push((position, e));
                }
            }
            invalid.sort_by_key(|(position, _)| *position);
        }
        if invalid.is_empty() {
            // The combined check failed, yet every signature verifies on its own: the
            // weights were unlucky (probability 2⁻¹²⁸). One by one is authoritative.
            return Ok(());
        }
        Err(Error::Batch { invalid })
    }
}

/// One signature's weights w_1 … w_5 (spec/08 §8.9): independent, each 2^128 + a uniform
/// 128-bit integer (spec/06 step 1). Equal weights would let two false signatures, or two
/// false equations of one, cancel (the `batch/…` vectors of spec/08 §8.11); the switches
/// that make them equal exist only in tests.
fn batch_weights<R: CryptoRng + ?Sized>(rng: &mut R) -> [Scalar; 5] {
    let draw = |rng: &mut R| {
        if skipped(Check::TriptychBatchRandomWeights) {
            Scalar::ONE
        } else {
            crate::batch::uniform_weight(rng)
        }
    };
    let per_signature = skipped(Check::TriptychBatchWeightPerEquation).then(|| draw(rng));
    EQUATIONS.map(|(_, check)| {
        if skipped(check) {
            Scalar::ZERO
        } else {
            per_signature.unwrap_or_else(|| draw(rng))
        }
    })
}

/// The challenge ξ of a signature (spec/08 §8.7), for the vector generator.
#[cfg(feature = "hazmat")]
pub(crate) fn challenge_of(
    ring: &Ring,
    linking_base: &RistrettoPoint,
    context: &[u8],
    signature: &Signature,
) -> CanonicalScalar {
    let U = linking_base.compress().to_bytes();
    CanonicalScalar::from_dalek(challenge(ring, &U, context, None, signature))
}

/// The challenge ξ of a disclosing signature (spec/08 §8.12), for the vector generator.
#[cfg(feature = "hazmat")]
pub(crate) fn challenge_of_disclosing(
    ring: &Ring,
    attribute: &Attribute<'_>,
    linking_base: &RistrettoPoint,
    context: &[u8],
    signature: &Signature,
) -> Result<CanonicalScalar, Error> {
    let U = linking_base.compress().to_bytes();
    let statement = AttributeStatement::new(ring, attribute)?;
    Ok(CanonicalScalar::from_dalek(challenge(
        ring,
        &U,
        context,
        Some(&statement),
        signature,
    )))
}

mod coefficients;
#[cfg(feature = "hazmat")]
pub(crate) mod structural;
use coefficients::RingCoefficients;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;
