//! A trustee's side of the ceremony as typestates (spec/20-ceremony.md §20.4).
//!
//! [`TrusteeSetup`] → [`AwaitingCommitments`] → [`AwaitingReveals`] → [`AwaitingShares`]
//! → [`AwaitingComplaints`] → [`AwaitingAnswers`] → [`QualifiedTrustee`]. Each step takes
//! the records the board holds for the previous round and returns this trustee's record
//! for the next one; each consumes `self`, so a round cannot be skipped, repeated or run
//! out of order. Who qualified is decided by [`verify_ceremony`] alone, the same function
//! every observer runs.

#![allow(non_snake_case)]

use core::fmt;
use std::collections::BTreeMap;

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE;
use curve25519_dalek::scalar::Scalar as DalekScalar;
use urne_crypto::proofs::SchnorrProof;
use urne_crypto::rand_core::CryptoRng;
use urne_crypto::{ContextHash, Point, ProofContext, ProveError, PublicKey, SecretScalar};
use zeroize::Zeroizing;

use crate::polynomial::{SecretPolynomial, share_matches};
use crate::records::{
    CeremonyContext, CommitmentHash, Commitments, Complaint, ComplaintAnswer, ComplaintReason,
    EncryptedShare, EncryptedShares, TrusteeRegistration,
};
use crate::share_encryption::ShareChannel;
use crate::verify::{
    CeremonyFault, CeremonyOutcome, CeremonyTranscript, check_commitments, coefficient_binding,
    verify_ceremony,
};

/// Why a trustee's step failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CeremonyError {
    /// The context has no trustee with this index.
    #[error("trustee {trustee} is not in this ceremony")]
    NotInCeremony {
        /// The index.
        trustee: u16,
    },
    /// The context registers another share key for this trustee.
    #[error("the ceremony registers another share key for trustee {trustee}")]
    ShareKeyMismatch {
        /// The index.
        trustee: u16,
    },
    /// A proof could not be made (a bug: the witness is ours).
    #[error("proof of coefficient {coefficient}: {source}")]
    Prove {
        /// k.
        coefficient: usize,
        /// Why.
        source: ProveError,
    },
    /// A share could not be encrypted.
    #[error("the share for trustee {recipient} could not be encrypted")]
    Encryption {
        /// j.
        recipient: u16,
    },
    /// The ceremony as a whole failed.
    #[error(transparent)]
    Fault(#[from] CeremonyFault),
    /// A qualified dealer's share to us is neither decrypted nor revealed.
    #[error("no valid share from qualified dealer {dealer}")]
    MissingShare {
        /// i.
        dealer: u16,
    },
    /// s_j·G ≠ S_j: our share disagrees with the public verification key.
    #[error("our share does not match our public verification key")]
    ShareInconsistent,
}

/// A trustee before the ceremony opens: its index and share-encryption key.
pub struct TrusteeSetup {
    trustee: u16,
    pub(crate) share_key_secret: SecretScalar,
    share_key: Point,
}

impl fmt::Debug for TrusteeSetup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrusteeSetup")
            .field("trustee", &self.trustee)
            .field("share_key", &self.share_key)
            .finish_non_exhaustive()
    }
}

/// What every later state carries.
pub(crate) struct Common {
    trustee: u16,
    share_key_secret: SecretScalar,
    context: CeremonyContext,
    pub(crate) polynomial: SecretPolynomial,
    own_commitments: Commitments,
    /// A test hook: the dealer deals (and reveals) f(j) + 1 to this recipient.
    #[cfg(test)]
    corrupt_share_for: Option<u16>,
}

impl Common {
    fn share_for(&self, recipient: u16) -> SecretScalar {
        let share = self.polynomial.evaluate(recipient);
        #[cfg(test)]
        if self.corrupt_share_for == Some(recipient) {
            return SecretScalar::from_dalek(share.expose_secret() + DalekScalar::ONE);
        }
        share
    }
}

impl fmt::Debug for Common {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Trustee")
            .field("trustee", &self.trustee)
            .field("context", self.context.hash())
            .finish_non_exhaustive()
    }
}

impl TrusteeSetup {
    /// A trustee with index `trustee` (its position in `ceremony.open`) and a fresh
    /// share-encryption key; the registration is its `ceremony.register` body.
    pub fn new<R: CryptoRng + ?Sized>(trustee: u16, rng: &mut R) -> (Self, TrusteeRegistration) {
        let share_key_secret = SecretScalar::random(rng);
        let share_key =
            Point::from_ristretto(RISTRETTO_BASEPOINT_TABLE * share_key_secret.expose_secret());
        let registration = TrusteeRegistration { trustee, share_key };
        (
            Self {
                trustee,
                share_key_secret,
                share_key,
            },
            registration,
        )
    }

    /// Round 1 (spec §20.4 step 2): draws the polynomial, commits to it and proves each
    /// coefficient; returns the `ceremony.commitment-hash` body to post.
    pub fn begin<R: CryptoRng + ?Sized>(
        self,
        context: CeremonyContext,
        rng: &mut R,
    ) -> Result<(AwaitingCommitments, CommitmentHash), CeremonyError> {
        let registered = context
            .share_key(self.trustee)
            .ok_or(CeremonyError::NotInCeremony {
                trustee: self.trustee,
            })?;
        if *registered != self.share_key {
            return Err(CeremonyError::ShareKeyMismatch {
                trustee: self.trustee,
            });
        }
        let polynomial = SecretPolynomial::random(context.threshold(), rng);
        let points = polynomial.commitments();
        let mut coefficients = Vec::with_capacity(points.len());
        for (k, (a, A)) in polynomial.coefficients().iter().zip(&points).enumerate() {
            let binding = coefficient_binding(self.trustee, k);
            let proof =
                SchnorrProof::prove(&ProofContext::new(context.hash(), &binding), a, A, rng)
                    .map_err(|source| CeremonyError::Prove {
                        coefficient: k,
                        source,
                    })?;
            coefficients.push((*A, proof));
        }
        let hash = CommitmentHash {
            dealer: self.trustee,
            hash: CommitmentHash::of(context.hash(), self.trustee, &points),
        };
        let common = Common {
            trustee: self.trustee,
            share_key_secret: self.share_key_secret,
            context,
            polynomial,
            own_commitments: Commitments {
                dealer: self.trustee,
                coefficients,
            },
            #[cfg(test)]
            corrupt_share_for: None,
        };
        Ok((AwaitingCommitments { common }, hash))
    }
}

/// Waiting for every dealer's commitment hash.
#[derive(Debug)]
pub struct AwaitingCommitments {
    pub(crate) common: Common,
}

impl AwaitingCommitments {
    /// Makes this dealer deal a wrong share to `recipient` and reveal it when challenged.
    #[cfg(test)]
    pub(crate) fn corrupt_share_for(&mut self, recipient: u16) {
        self.common.corrupt_share_for = Some(recipient);
    }

    /// Round 2 (§20.4 step 2): once the hashes are all posted, reveals the commitments.
    pub fn reveal(self, hashes: Vec<CommitmentHash>) -> (AwaitingReveals, Commitments) {
        let commitments = self.common.own_commitments.clone();
        (
            AwaitingReveals {
                common: self.common,
                hashes,
            },
            commitments,
        )
    }
}

/// Waiting for every dealer's commitments.
#[derive(Debug)]
pub struct AwaitingReveals {
    common: Common,
    hashes: Vec<CommitmentHash>,
}

impl AwaitingReveals {
    /// Round 3 (§20.4 step 3): encrypts f(j) to every other trustee j.
    pub fn deal<R: CryptoRng + ?Sized>(
        self,
        commitments: Vec<Commitments>,
        rng: &mut R,
    ) -> Result<(AwaitingShares, EncryptedShares), CeremonyError> {
        let common = &self.common;
        let ephemeral_secret = SecretScalar::random(rng);
        let ephemeral =
            Point::from_ristretto(RISTRETTO_BASEPOINT_TABLE * ephemeral_secret.expose_secret());
        let mut shares = Vec::new();
        for recipient in common.context.trustees().filter(|&j| j != common.trustee) {
            let recipient_key = common
                .context
                .share_key(recipient)
                .ok_or(CeremonyError::NotInCeremony { trustee: recipient })?;
            let channel = ShareChannel {
                context: common.context.hash(),
                ephemeral: &ephemeral,
                recipient_key,
                dealer: common.trustee,
                recipient,
            };
            let ciphertext = channel
                .seal(&ephemeral_secret, &common.share_for(recipient))
                .ok_or(CeremonyError::Encryption { recipient })?;
            shares.push(EncryptedShare {
                recipient,
                ciphertext,
            });
        }
        let record = EncryptedShares {
            dealer: common.trustee,
            ephemeral,
            shares,
        };
        Ok((
            AwaitingShares {
                common: self.common,
                hashes: self.hashes,
                commitments,
            },
            record,
        ))
    }
}

/// Waiting for every dealer's encrypted shares.
#[derive(Debug)]
pub struct AwaitingShares {
    common: Common,
    hashes: Vec<CommitmentHash>,
    commitments: Vec<Commitments>,
}

impl AwaitingShares {
    /// Round 4 (§20.4 step 3): decrypts and checks the share of every dealer whose
    /// commitments hold; returns the complaints to post (possibly none).
    pub fn receive(self, shares: Vec<EncryptedShares>) -> (AwaitingComplaints, Vec<Complaint>) {
        let common = &self.common;
        let me = common.trustee;
        let mut received = BTreeMap::new();
        let mut complaints = Vec::new();
        for dealt in shares.iter().filter(|s| s.dealer != me) {
            let dealer = dealt.dealer;
            let hash = self.hashes.iter().find(|h| h.dealer == dealer);
            let commitments = self.commitments.iter().find(|c| c.dealer == dealer);
            // A dealer whose commitments fail is out whatever it deals: nothing to say.
            let Ok(points) = check_commitments(&common.context, dealer, hash, commitments) else {
                continue;
            };
            let (Some(encrypted), Some(recipient_key)) =
                (dealt.share_for(me), common.context.share_key(me))
            else {
                continue;
            };
            let channel = ShareChannel {
                context: common.context.hash(),
                ephemeral: &dealt.ephemeral,
                recipient_key,
                dealer,
                recipient: me,
            };
            let reason = match channel.open(&common.share_key_secret, &encrypted.ciphertext) {
                None => ComplaintReason::Undecryptable,
                Some(share) if share_matches(&points, me, share.expose_secret()) => {
                    received.insert(dealer, share);
                    continue;
                }
                Some(_) => ComplaintReason::ShareMismatch,
            };
            complaints.push(Complaint {
                complainer: me,
                dealer,
                reason,
            });
        }
        (
            AwaitingComplaints {
                common: self.common,
                hashes: self.hashes,
                commitments: self.commitments,
                shares,
                received,
            },
            complaints,
        )
    }
}

/// Waiting for everyone's complaints.
#[derive(Debug)]
pub struct AwaitingComplaints {
    common: Common,
    hashes: Vec<CommitmentHash>,
    commitments: Vec<Commitments>,
    shares: Vec<EncryptedShares>,
    received: BTreeMap<u16, SecretScalar>,
}

impl AwaitingComplaints {
    /// Round 5 (§20.4 step 3): reveals, for each complaint against this dealer, the
    /// disputed share in the clear.
    pub fn answer(self, complaints: Vec<Complaint>) -> (AwaitingAnswers, Vec<ComplaintAnswer>) {
        let me = self.common.trustee;
        let answers = complaints
            .iter()
            .filter(|c| c.dealer == me && c.complainer != me)
            .map(|c| {
                let share = self.common.share_for(c.complainer);
                ComplaintAnswer {
                    dealer: me,
                    recipient: c.complainer,
                    // The complaint made this share public: it leaves secret memory here.
                    share: urne_crypto::Scalar::from_dalek(*share.expose_secret()),
                }
            })
            .collect();
        (
            AwaitingAnswers {
                common: self.common,
                hashes: self.hashes,
                commitments: self.commitments,
                shares: self.shares,
                received: self.received,
                complaints,
            },
            answers,
        )
    }
}

/// Waiting for the answers to the complaints.
#[derive(Debug)]
pub struct AwaitingAnswers {
    common: Common,
    hashes: Vec<CommitmentHash>,
    commitments: Vec<Commitments>,
    shares: Vec<EncryptedShares>,
    received: BTreeMap<u16, SecretScalar>,
    complaints: Vec<Complaint>,
}

impl AwaitingAnswers {
    /// The end (§20.4 step 4): runs [`verify_ceremony`] over every record, then sums the
    /// shares of the qualified dealers into s_j and checks s_j·G = S_j.
    pub fn finish(self, answers: Vec<ComplaintAnswer>) -> Result<QualifiedTrustee, CeremonyError> {
        let common = self.common;
        let me = common.trustee;
        let transcript = CeremonyTranscript {
            ceremony_id: *common.context.ceremony_id(),
            open: common.context.open().clone(),
            registrations: common.context.registrations(),
            commitment_hashes: self.hashes,
            commitments: self.commitments,
            shares: self.shares,
            complaints: self.complaints,
            answers,
        };
        let outcome = verify_ceremony(&transcript)?;
        let mut share = Zeroizing::new(DalekScalar::ZERO);
        for &dealer in &outcome.qualified {
            if dealer == me {
                *share += common.share_for(me).expose_secret();
            } else if let Some(answer) = transcript
                .answers
                .iter()
                .find(|a| a.dealer == dealer && a.recipient == me)
            {
                *share += answer.share.as_dalek();
            } else if let Some(received) = self.received.get(&dealer) {
                *share += received.expose_secret();
            } else {
                return Err(CeremonyError::MissingShare { dealer });
            }
        }
        let verification_key = *outcome
            .verification_key(me)
            .ok_or(CeremonyError::NotInCeremony { trustee: me })?;
        if RISTRETTO_BASEPOINT_TABLE * &*share != *verification_key.as_ristretto() {
            return Err(CeremonyError::ShareInconsistent);
        }
        let key = TrusteeKey {
            ceremony: outcome.context,
            trustee: me,
            share: SecretScalar::from_dalek(*share),
            verification_key,
            joint_key: outcome.joint_key,
        };
        Ok(QualifiedTrustee { key, outcome })
    }
}

/// A trustee at the end of a ceremony: its key share and the public outcome.
#[derive(Debug)]
pub struct QualifiedTrustee {
    key: TrusteeKey,
    outcome: CeremonyOutcome,
}

impl QualifiedTrustee {
    /// The public outcome (the same as [`verify_ceremony`]'s).
    pub fn outcome(&self) -> &CeremonyOutcome {
        &self.outcome
    }

    /// The trustee's key, kept until the tally (see [`crate::state_file`]).
    pub fn key(&self) -> &TrusteeKey {
        &self.key
    }

    /// The key alone.
    pub fn into_key(self) -> TrusteeKey {
        self.key
    }
}

/// What a trustee keeps between ceremony and tally: s_j and the public values it
/// belongs to. Not `Clone`; `Debug` shows no secret; the share is zeroized on drop.
pub struct TrusteeKey {
    pub(crate) ceremony: ContextHash,
    pub(crate) trustee: u16,
    pub(crate) share: SecretScalar,
    pub(crate) verification_key: Point,
    pub(crate) joint_key: PublicKey,
}

impl fmt::Debug for TrusteeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrusteeKey")
            .field("ceremony", &self.ceremony)
            .field("trustee", &self.trustee)
            .field("share", &"<redacted>")
            .field("verification_key", &self.verification_key)
            .field("joint_key", &self.joint_key)
            .finish()
    }
}

impl TrusteeKey {
    /// The ceremony context hash.
    pub fn ceremony(&self) -> &ContextHash {
        &self.ceremony
    }

    /// j.
    pub fn trustee(&self) -> u16 {
        self.trustee
    }

    /// S_j = s_j·G.
    pub fn verification_key(&self) -> &Point {
        &self.verification_key
    }

    /// K.
    pub fn joint_key(&self) -> &PublicKey {
        &self.joint_key
    }
}
