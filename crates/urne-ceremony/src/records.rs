//! The ceremony's record bodies and their canonical encodings (spec/20-ceremony.md §20.3).
//!
//! Every body opens with the version byte 1, carries its integers big-endian, and is
//! decoded strictly: canonical points and scalars only, indices in range and in order,
//! no trailing bytes. Each error names the record and the field.

#![allow(non_snake_case)]

use sha2::{Digest, Sha256};
use urne_crypto::proofs::SchnorrProof;
use urne_crypto::{ContextHash, Point, Scalar};

use crate::codec::{DecodeError, DecodeProblem, Reader, name};
use crate::labels;
use crate::verify::CeremonyFault;

/// Version byte of every ceremony record body.
pub const RECORD_VERSION: u8 = 1;

/// Most trustees a ceremony may have: an `ceremony.shares` body for this many recipients
/// still fits a 65,535-byte record.
pub const MAX_TRUSTEES: u16 = 1000;

/// The least threshold, hence the least trustee count (spec/20 §20.1): decryption takes
/// several key-holders together (CNIL 2019-053, level 3).
pub const MIN_THRESHOLD: u16 = 2;

fn put_u16(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_be_bytes());
}

/// `ceremony.open`, posted by the election authority: the threshold and the trustees'
/// Ed25519 identity keys; trustee j is the j-th key (1-based).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CeremonyOpen {
    /// t: how many trustees it takes to decrypt.
    pub threshold: u16,
    /// The trustees' Ed25519 public keys, in index order.
    pub identities: Vec<[u8; 32]>,
}

impl CeremonyOpen {
    const NAME: &'static str = "ceremony.open";

    /// Checks 2 ≤ t ≤ n ≤ [`MAX_TRUSTEES`] and distinct identities (spec/20 §20.1: one
    /// key-holder alone never decrypts).
    pub fn new(threshold: u16, identities: Vec<[u8; 32]>) -> Result<Self, DecodeError> {
        let open = Self {
            threshold,
            identities,
        };
        Self::decode(&open.encode_unchecked())
    }

    /// n.
    pub fn trustee_count(&self) -> u16 {
        // Bounded by MAX_TRUSTEES at construction and decoding.
        self.identities.len() as u16
    }

    fn encode_unchecked(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(5 + 32 * self.identities.len());
        out.push(RECORD_VERSION);
        put_u16(&mut out, self.threshold);
        put_u16(
            &mut out,
            self.identities.len().min(usize::from(u16::MAX)) as u16,
        );
        for identity in &self.identities {
            out.extend_from_slice(identity);
        }
        out
    }

    /// The body bytes.
    pub fn encode(&self) -> Vec<u8> {
        self.encode_unchecked()
    }

    /// Strict decoding.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(Self::NAME, bytes);
        r.version(RECORD_VERSION)?;
        let threshold = r.u16(&name("threshold"))?;
        let n = r.u16(&name("trustee_count"))?;
        if !(MIN_THRESHOLD..=MAX_TRUSTEES).contains(&n) {
            return Err(r.error(
                "trustee_count",
                DecodeProblem::OutOfBounds {
                    detail: "2 ≤ n ≤ 1000",
                },
            ));
        }
        if !(MIN_THRESHOLD..=n).contains(&threshold) {
            return Err(r.error(
                "threshold",
                DecodeProblem::OutOfBounds {
                    detail: "2 ≤ t ≤ n: one key-holder alone never decrypts",
                },
            ));
        }
        let mut identities: Vec<[u8; 32]> = Vec::with_capacity(usize::from(n));
        for j in 0..usize::from(n) {
            let identity = r.array::<32>(&|| format!("identities[{j}]"))?;
            if identities.contains(&identity) {
                return Err(r.error(
                    format!("identities[{j}]"),
                    DecodeProblem::OutOfBounds {
                        detail: "an identity key appears twice",
                    },
                ));
            }
            identities.push(identity);
        }
        r.finish()?;
        Ok(Self {
            threshold,
            identities,
        })
    }
}

/// `ceremony.register`, posted by trustee `trustee`: the ristretto255 key its shares are
/// encrypted to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrusteeRegistration {
    /// The trustee's index (1-based).
    pub trustee: u16,
    /// P_j, never the identity.
    pub share_key: Point,
}

impl TrusteeRegistration {
    /// The trustee who posts this record: the board checks that the envelope is signed
    /// by that trustee's identity key (spec/20-ceremony.md §20.9).
    pub fn poster(&self) -> u16 {
        self.trustee
    }

    const NAME: &'static str = "ceremony.register";
    /// Length of the body.
    pub const LEN: usize = 35;

    /// The body bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::LEN);
        out.push(RECORD_VERSION);
        put_u16(&mut out, self.trustee);
        out.extend_from_slice(self.share_key.as_bytes());
        out
    }

    /// Strict decoding.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(Self::NAME, bytes);
        r.version(RECORD_VERSION)?;
        let trustee = r.trustee(&name("trustee"), MAX_TRUSTEES)?;
        let share_key = r.point_non_identity(&name("share_key"))?;
        r.finish()?;
        Ok(Self { trustee, share_key })
    }
}

/// Everything the ceremony's proofs and keys are bound to: the board context id, the
/// threshold, and every trustee's identity and share key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CeremonyContext {
    ceremony_id: [u8; 32],
    open: CeremonyOpen,
    share_keys: Vec<Point>,
    hash: ContextHash,
}

impl CeremonyContext {
    /// Builds the context once every trustee has registered (spec §20.4 step 1).
    pub fn new(
        ceremony_id: [u8; 32],
        open: CeremonyOpen,
        registrations: &[TrusteeRegistration],
    ) -> Result<Self, CeremonyFault> {
        let n = open.trustee_count();
        let mut share_keys: Vec<Option<Point>> = vec![None; usize::from(n)];
        for registration in registrations {
            let slot = share_keys
                .get_mut(usize::from(registration.trustee).wrapping_sub(1))
                .ok_or(CeremonyFault::UnknownTrustee {
                    record: "ceremony.register",
                    trustee: registration.trustee,
                })?;
            if slot.is_some() {
                return Err(CeremonyFault::DuplicateRecord {
                    record: "ceremony.register",
                    trustee: registration.trustee,
                });
            }
            *slot = Some(registration.share_key);
        }
        let share_keys = share_keys
            .into_iter()
            .enumerate()
            .map(|(j, key)| {
                key.ok_or(CeremonyFault::MissingRegistration {
                    trustee: j as u16 + 1,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut hasher = Sha256::new();
        hasher.update(labels::CONTEXT);
        hasher.update(ceremony_id);
        hasher.update(open.threshold.to_be_bytes());
        hasher.update(n.to_be_bytes());
        for (identity, share_key) in open.identities.iter().zip(&share_keys) {
            hasher.update(identity);
            hasher.update(share_key.as_bytes());
        }
        let hash = ContextHash(hasher.finalize().into());
        Ok(Self {
            ceremony_id,
            open,
            share_keys,
            hash,
        })
    }

    /// The ceremony context hash every proof and encryption is bound to.
    pub fn hash(&self) -> &ContextHash {
        &self.hash
    }

    /// The board context id of the ceremony.
    pub fn ceremony_id(&self) -> &[u8; 32] {
        &self.ceremony_id
    }

    /// t.
    pub fn threshold(&self) -> u16 {
        self.open.threshold
    }

    /// n.
    pub fn trustee_count(&self) -> u16 {
        self.open.trustee_count()
    }

    /// Trustee `j`'s Ed25519 identity key (the key its records must be signed with).
    pub fn identity(&self, trustee: u16) -> Option<&[u8; 32]> {
        self.open
            .identities
            .get(usize::from(trustee).wrapping_sub(1))
    }

    /// Trustee `j`'s share-encryption key P_j.
    pub fn share_key(&self, trustee: u16) -> Option<&Point> {
        self.share_keys.get(usize::from(trustee).wrapping_sub(1))
    }

    /// The authority's `ceremony.open`.
    pub fn open(&self) -> &CeremonyOpen {
        &self.open
    }

    /// The registrations, in index order.
    pub fn registrations(&self) -> Vec<TrusteeRegistration> {
        self.share_keys
            .iter()
            .zip(1u16..)
            .map(|(share_key, trustee)| TrusteeRegistration {
                trustee,
                share_key: *share_key,
            })
            .collect()
    }

    /// The trustee indices 1..=n.
    pub fn trustees(&self) -> impl Iterator<Item = u16> + use<> {
        1..=self.trustee_count()
    }
}

/// `ceremony.commitment-hash`, posted by each dealer before any reveal: the hash of its
/// Feldman commitments, so that no dealer can choose its polynomial after seeing others'.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommitmentHash {
    /// The dealer's index.
    pub dealer: u16,
    /// SHA-256 as in [`CommitmentHash::of`].
    pub hash: [u8; 32],
}

impl CommitmentHash {
    /// The trustee who posts this record: the board checks that the envelope is signed
    /// by that trustee's identity key (spec/20-ceremony.md §20.9).
    pub fn poster(&self) -> u16 {
        self.dealer
    }

    const NAME: &'static str = "ceremony.commitment-hash";
    /// Length of the body.
    pub const LEN: usize = 35;

    /// SHA-256(label ‖ context hash ‖ dealer ‖ count ‖ A_0 ‖ … ‖ A_{t−1}).
    pub fn of(context: &ContextHash, dealer: u16, coefficients: &[Point]) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(labels::COMMITMENT_HASH);
        hasher.update(context.0);
        hasher.update(dealer.to_be_bytes());
        hasher.update((coefficients.len().min(usize::from(u16::MAX)) as u16).to_be_bytes());
        for A in coefficients {
            hasher.update(A.as_bytes());
        }
        hasher.finalize().into()
    }

    /// The body bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::LEN);
        out.push(RECORD_VERSION);
        put_u16(&mut out, self.dealer);
        out.extend_from_slice(&self.hash);
        out
    }

    /// Strict decoding.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(Self::NAME, bytes);
        r.version(RECORD_VERSION)?;
        let dealer = r.trustee(&name("dealer"), MAX_TRUSTEES)?;
        let hash = r.array::<32>(&name("hash"))?;
        r.finish()?;
        Ok(Self { dealer, hash })
    }
}

/// `ceremony.commitments`: the dealer's Feldman commitments A_k = a_k·G (k < t), each
/// with a Schnorr proof of knowledge of a_k.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Commitments {
    /// The dealer's index.
    pub dealer: u16,
    /// (A_k, proof of knowledge of a_k), k = 0..t−1.
    pub coefficients: Vec<(Point, SchnorrProof)>,
}

impl Commitments {
    /// The trustee who posts this record: the board checks that the envelope is signed
    /// by that trustee's identity key (spec/20-ceremony.md §20.9).
    pub fn poster(&self) -> u16 {
        self.dealer
    }

    const NAME: &'static str = "ceremony.commitments";

    /// The points A_0..A_{t−1}.
    pub fn points(&self) -> Vec<Point> {
        self.coefficients.iter().map(|(A, _)| *A).collect()
    }

    /// The body bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(5 + self.coefficients.len() * (32 + SchnorrProof::LEN));
        out.push(RECORD_VERSION);
        put_u16(&mut out, self.dealer);
        put_u16(
            &mut out,
            self.coefficients.len().min(usize::from(u16::MAX)) as u16,
        );
        for (A, proof) in &self.coefficients {
            out.extend_from_slice(A.as_bytes());
            out.extend_from_slice(&proof.to_bytes());
        }
        out
    }

    /// Strict decoding; the identity is refused as a commitment.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(Self::NAME, bytes);
        r.version(RECORD_VERSION)?;
        let dealer = r.trustee(&name("dealer"), MAX_TRUSTEES)?;
        let count = r.u16(&name("count"))?;
        if count == 0 || count > MAX_TRUSTEES {
            return Err(r.error(
                "count",
                DecodeProblem::OutOfBounds {
                    detail: "1 ≤ count ≤ 1000",
                },
            ));
        }
        let mut coefficients = Vec::with_capacity(usize::from(count));
        for k in 0..count {
            let A = r.point_non_identity(&|| format!("coefficients[{k}].A"))?;
            let proof = r.schnorr(&|| format!("coefficients[{k}].proof"))?;
            coefficients.push((A, proof));
        }
        r.finish()?;
        Ok(Self {
            dealer,
            coefficients,
        })
    }
}

/// One recipient's encrypted share: ChaCha20-Poly1305 of the 32-byte f_i(j), tag last.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EncryptedShare {
    /// j.
    pub recipient: u16,
    /// 32 bytes of ciphertext then the 16-byte tag.
    pub ciphertext: [u8; 48],
}

/// `ceremony.shares`: dealer i's shares f_i(j) for every other trustee j, encrypted under
/// keys derived from the ephemeral E = e·G and each recipient's P_j.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncryptedShares {
    /// i.
    pub dealer: u16,
    /// E, never the identity.
    pub ephemeral: Point,
    /// One per trustee j ≠ i, in increasing j.
    pub shares: Vec<EncryptedShare>,
}

impl EncryptedShares {
    /// The trustee who posts this record: the board checks that the envelope is signed
    /// by that trustee's identity key (spec/20-ceremony.md §20.9).
    pub fn poster(&self) -> u16 {
        self.dealer
    }

    const NAME: &'static str = "ceremony.shares";

    /// The share for `recipient`, if there is one.
    pub fn share_for(&self, recipient: u16) -> Option<&EncryptedShare> {
        self.shares.iter().find(|s| s.recipient == recipient)
    }

    /// True when the recipients are exactly 1..=n less the dealer.
    pub fn covers_every_other_trustee(&self, n: u16) -> bool {
        let expected = (1..=n).filter(|&j| j != self.dealer);
        self.shares.len() == usize::from(n).saturating_sub(1)
            && expected.zip(&self.shares).all(|(j, s)| s.recipient == j)
    }

    /// The body bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(37 + self.shares.len() * 50);
        out.push(RECORD_VERSION);
        put_u16(&mut out, self.dealer);
        out.extend_from_slice(self.ephemeral.as_bytes());
        put_u16(
            &mut out,
            self.shares.len().min(usize::from(u16::MAX)) as u16,
        );
        for share in &self.shares {
            put_u16(&mut out, share.recipient);
            out.extend_from_slice(&share.ciphertext);
        }
        out
    }

    /// Strict decoding: recipients strictly increasing, none equal to the dealer.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(Self::NAME, bytes);
        r.version(RECORD_VERSION)?;
        let dealer = r.trustee(&name("dealer"), MAX_TRUSTEES)?;
        let ephemeral = r.point_non_identity(&name("ephemeral"))?;
        let count = r.u16(&name("count"))?;
        if count >= MAX_TRUSTEES {
            return Err(r.error(
                "count",
                DecodeProblem::OutOfBounds {
                    detail: "count < 1000",
                },
            ));
        }
        let mut shares: Vec<EncryptedShare> = Vec::with_capacity(usize::from(count));
        for k in 0..count {
            let recipient = r.trustee(&|| format!("shares[{k}].recipient"), MAX_TRUSTEES)?;
            if recipient == dealer || shares.last().is_some_and(|s| s.recipient >= recipient) {
                return Err(r.error(
                    format!("shares[{k}].recipient"),
                    DecodeProblem::OutOfBounds {
                        detail: "recipients strictly increasing, never the dealer",
                    },
                ));
            }
            let ciphertext = r.array::<48>(&|| format!("shares[{k}].ciphertext"))?;
            shares.push(EncryptedShare {
                recipient,
                ciphertext,
            });
        }
        r.finish()?;
        Ok(Self {
            dealer,
            ephemeral,
            shares,
        })
    }
}

/// Why a recipient complains.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ComplaintReason {
    /// The share does not decrypt (code 1).
    Undecryptable,
    /// f_i(j)·G ≠ Σ_k A_ik·j^k (code 2).
    ShareMismatch,
}

impl ComplaintReason {
    fn code(self) -> u8 {
        match self {
            Self::Undecryptable => 1,
            Self::ShareMismatch => 2,
        }
    }
}

/// `ceremony.complaint`, posted by recipient `complainer` against `dealer`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Complaint {
    /// j.
    pub complainer: u16,
    /// i.
    pub dealer: u16,
    /// Why (informative: the answer is checked the same way either way).
    pub reason: ComplaintReason,
}

impl Complaint {
    /// The trustee who posts this record: the board checks that the envelope is signed
    /// by that trustee's identity key (spec/20-ceremony.md §20.9).
    pub fn poster(&self) -> u16 {
        self.complainer
    }

    const NAME: &'static str = "ceremony.complaint";
    /// Length of the body.
    pub const LEN: usize = 6;

    /// The body bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::LEN);
        out.push(RECORD_VERSION);
        put_u16(&mut out, self.complainer);
        put_u16(&mut out, self.dealer);
        out.push(self.reason.code());
        out
    }

    /// Strict decoding.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(Self::NAME, bytes);
        r.version(RECORD_VERSION)?;
        let complainer = r.trustee(&name("complainer"), MAX_TRUSTEES)?;
        let dealer = r.trustee(&name("dealer"), MAX_TRUSTEES)?;
        if dealer == complainer {
            return Err(r.error(
                "dealer",
                DecodeProblem::OutOfBounds {
                    detail: "a trustee cannot complain about itself",
                },
            ));
        }
        let reason = match r.u8(&name("reason"))? {
            1 => ComplaintReason::Undecryptable,
            2 => ComplaintReason::ShareMismatch,
            _ => {
                return Err(r.error(
                    "reason",
                    DecodeProblem::OutOfBounds {
                        detail: "reason is 1 or 2",
                    },
                ));
            }
        };
        r.finish()?;
        Ok(Self {
            complainer,
            dealer,
            reason,
        })
    }
}

/// `ceremony.answer`: dealer i reveals f_i(j) in the clear to answer j's complaint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ComplaintAnswer {
    /// i.
    pub dealer: u16,
    /// j.
    pub recipient: u16,
    /// f_i(j), now public (the complaint made it so).
    pub share: Scalar,
}

impl ComplaintAnswer {
    /// The trustee who posts this record: the board checks that the envelope is signed
    /// by that trustee's identity key (spec/20-ceremony.md §20.9).
    pub fn poster(&self) -> u16 {
        self.dealer
    }

    const NAME: &'static str = "ceremony.answer";
    /// Length of the body.
    pub const LEN: usize = 37;

    /// The body bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::LEN);
        out.push(RECORD_VERSION);
        put_u16(&mut out, self.dealer);
        put_u16(&mut out, self.recipient);
        out.extend_from_slice(&self.share.to_bytes());
        out
    }

    /// Strict decoding.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(Self::NAME, bytes);
        r.version(RECORD_VERSION)?;
        let dealer = r.trustee(&name("dealer"), MAX_TRUSTEES)?;
        let recipient = r.trustee(&name("recipient"), MAX_TRUSTEES)?;
        if dealer == recipient {
            return Err(r.error(
                "recipient",
                DecodeProblem::OutOfBounds {
                    detail: "a dealer never answers itself",
                },
            ));
        }
        let share = r.scalar(&name("share"))?;
        r.finish()?;
        Ok(Self {
            dealer,
            recipient,
            share,
        })
    }
}

#[cfg(test)]
mod golden {
    use super::*;
    use urne_crypto::encoding::to_hex;

    #[test]
    fn context_and_commitment_hashes_are_pinned() {
        // spec/20-ceremony.md §20.4 steps 1–2; both values were reproduced with a plain
        // SHA-256 from the spec text. P_1 = 7·G and P_2 = 11·G (RFC 9496 A.1).
        let seven =
            Point::from_hex("44f53520926ec81fbd5a387845beb7df85a96a24ece18738bdcfa6a7822a176d")
                .unwrap();
        let eleven =
            Point::from_hex("bce83f8ba5dd2fa572864c24ba1810f9522bc6004afe95877ac73241cafdab42")
                .unwrap();
        let open = CeremonyOpen::new(2, vec![[1; 32], [2; 32]]).unwrap();
        let registrations = [
            TrusteeRegistration {
                trustee: 2,
                share_key: eleven,
            },
            TrusteeRegistration {
                trustee: 1,
                share_key: seven,
            },
        ];
        let context = CeremonyContext::new([9; 32], open, &registrations).unwrap();
        assert_eq!(
            to_hex(&context.hash().0),
            "547d9153734c9f04739ea54e70d89fe0aee532ff5b046d28e4c46c6150a5c427"
        );
        assert_eq!(
            to_hex(&CommitmentHash::of(context.hash(), 1, &[seven, eleven])),
            "29ba7959ffae9a1a0958ef05e1c28bde2a724e9d9001d5fc0371f2b871b3085d"
        );
    }
}
