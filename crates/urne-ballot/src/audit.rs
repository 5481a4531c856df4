//! The Benaloh audit (spec/21-ballots.md §21.8).
//!
//! Before casting, the voter may instead challenge the device: it reveals every
//! ciphertext's value and nonce. Anyone can then re-encrypt each value under its nonce
//! and compare with the ballot, so a device that encrypted something else than it showed
//! is caught. The audited ballot is spoiled (posted, never counted) and a fresh one made.

use curve25519_dalek::RistrettoPoint;
use curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE;
use curve25519_dalek::scalar::Scalar as DalekScalar;
use urne_crypto::{Ciphertext, Scalar};

use crate::ballot::{Ballot, BallotError, BallotSecrets, ContestSelection, reveal};
use crate::election::Election;
use crate::manifest::{MAX_CONTESTS, MAX_OPTIONS};
use crate::tracking::TrackingCode;
use crate::wire::{DecodeError, Problem, Reader};

/// Version byte of the audited-ballot encoding.
pub const AUDIT_VERSION: u8 = 1;

/// The revealed values and nonces of one contest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditedContest {
    /// (value, nonce) per option, in manifest order.
    pub options: Vec<(u64, Scalar)>,
    /// The blank vote's (value, nonce), when the contest has one.
    pub blank: Option<(u64, Scalar)>,
}

/// A spoiled ballot's opening: what its device claims it encrypts, and the nonces that
/// prove it. Public once made: the ballot it opens is never counted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditedBallot {
    /// The tracking code of the ballot this opens.
    pub tracking_code: TrackingCode,
    /// One per contest.
    pub contests: Vec<AuditedContest>,
}

/// Why an audit does not hold.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// The opening is for another ballot.
    #[error("the opening is for another ballot (tracking code differs)")]
    TrackingCodeMismatch,
    /// The ballot does not fit the election (wrong election, shape).
    #[error("{0}")]
    Ballot(BallotError),
    /// The opening's shape does not match the ballot.
    #[error("field `{field}`: the ballot has {expected}, the opening {found}")]
    Shape {
        /// Where.
        field: String,
        /// What the ballot has.
        expected: usize,
        /// What the opening has.
        found: usize,
    },
    /// This ciphertext is not the encryption of the shown value under the shown nonce:
    /// the device encrypted something else than it showed.
    #[error("field `{field}`: the ciphertext does not encrypt the shown value")]
    Mismatch {
        /// Which ciphertext.
        field: String,
    },
    /// The shown choices break the contest's rule.
    #[error("the shown choices are not a valid vote: {0}")]
    InvalidChoices(BallotError),
}

impl BallotSecrets {
    /// Reveals everything to audit `ballot` (the ballot these secrets made); the ballot
    /// must then be spoiled, never cast.
    pub fn audit(self, ballot: &Ballot) -> AuditedBallot {
        AuditedBallot {
            tracking_code: TrackingCode::of(ballot),
            contests: self
                .contests
                .iter()
                .map(|c| AuditedContest {
                    options: c.options.iter().map(reveal).collect(),
                    blank: c.blank.as_ref().map(reveal),
                })
                .collect(),
        }
    }
}

impl AuditedBallot {
    /// The choices shown, one selection per contest.
    pub fn selections(&self) -> Vec<ContestSelection> {
        self.contests
            .iter()
            .map(|c| ContestSelection {
                values: c.options.iter().map(|(v, _)| *v).collect(),
                // A shown blank value other than 0 or 1 is refused by check_audit.
                blank: matches!(c.blank, Some((1, _))),
            })
            .collect()
    }

    /// The canonical bytes: version ‖ tracking code ‖ u16 contests ‖ per contest u16
    /// options ‖ (u64 value ‖ nonce)* ‖ blank flag ‖ [u64 value ‖ nonce].
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![AUDIT_VERSION];
        out.extend_from_slice(&self.tracking_code.0);
        out.extend_from_slice(&(self.contests.len() as u16).to_be_bytes());
        let put = |out: &mut Vec<u8>, (value, nonce): &(u64, Scalar)| {
            out.extend_from_slice(&value.to_be_bytes());
            out.extend_from_slice(&nonce.to_bytes());
        };
        for contest in &self.contests {
            out.extend_from_slice(&(contest.options.len() as u16).to_be_bytes());
            for option in &contest.options {
                put(&mut out, option);
            }
            match &contest.blank {
                None => out.push(0),
                Some(blank) => {
                    out.push(1);
                    put(&mut out, blank);
                }
            }
        }
        out
    }

    /// Strict decoding; errors name the field (`contests[0].options[2].nonce`).
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        r.version(AUDIT_VERSION)?;
        let tracking_code = TrackingCode(r.array(|| "tracking_code".to_owned())?);
        let count = r.u16(|| "contests".to_owned())? as usize;
        if count == 0 || count > MAX_CONTESTS {
            return Err(DecodeError::new(
                "contests",
                Problem::OutOfBounds {
                    detail: "1 to 64 contests",
                },
            ));
        }
        let read =
            |r: &mut Reader<'_>, at: &dyn Fn() -> String| -> Result<(u64, Scalar), DecodeError> {
                let value = u64::from_be_bytes(r.array(|| format!("{}.value", at()))?);
                let field = || format!("{}.nonce", at());
                let nonce = Scalar::decode(r.take(32, field)?)
                    .map_err(|e| DecodeError::crypto(&field(), e))?;
                Ok((value, nonce))
            };
        let mut contests = Vec::with_capacity(count);
        for c in 0..count {
            let n = r.u16(|| format!("contests[{c}].options"))? as usize;
            if n == 0 || n > MAX_OPTIONS {
                return Err(DecodeError::new(
                    format!("contests[{c}].options"),
                    Problem::OutOfBounds {
                        detail: "1 to 256 options",
                    },
                ));
            }
            let mut options = Vec::with_capacity(n);
            for o in 0..n {
                options.push(read(&mut r, &|| format!("contests[{c}].options[{o}]"))?);
            }
            let blank = if r.flag(|| format!("contests[{c}].blank"))? {
                Some(read(&mut r, &|| format!("contests[{c}].blank"))?)
            } else {
                None
            };
            contests.push(AuditedContest { options, blank });
        }
        r.finish()?;
        Ok(Self {
            tracking_code,
            contests,
        })
    }
}

/// Enc(value; nonce) == ciphertext, recomputed from public data (vartime is fine: the
/// nonce is revealed).
fn encrypts(election: &Election, ciphertext: &Ciphertext, (value, nonce): &(u64, Scalar)) -> bool {
    let r = nonce.as_dalek();
    let alpha = RISTRETTO_BASEPOINT_TABLE * r;
    let beta = RistrettoPoint::vartime_double_scalar_mul_basepoint(
        r,
        election.public_key().point().as_ristretto(),
        &DalekScalar::from(*value),
    );
    ciphertext.alpha().as_ristretto() == &alpha && ciphertext.beta().as_ristretto() == &beta
}

/// Checks that `ballot` encrypts exactly the choices `audited` shows (spec/21-ballots.md
/// §21.8): same tracking code, same election, same shape, every ciphertext re-encrypted
/// from its value and nonce, and the choices a valid vote. The ballot's proofs are not
/// checked here (a spoiled ballot is never counted); the board checked them on arrival.
pub fn check_audit(
    election: &Election,
    ballot: &Ballot,
    audited: &AuditedBallot,
) -> Result<(), AuditError> {
    if audited.tracking_code != TrackingCode::of(ballot) {
        return Err(AuditError::TrackingCodeMismatch);
    }
    ballot
        .check_shape(election, &ballot.credential)
        .map_err(AuditError::Ballot)?;
    if audited.contests.len() != ballot.contests.len() {
        return Err(AuditError::Shape {
            field: "contests".into(),
            expected: ballot.contests.len(),
            found: audited.contests.len(),
        });
    }
    for (c, (shown, cast)) in audited.contests.iter().zip(&ballot.contests).enumerate() {
        if shown.options.len() != cast.options.len() {
            return Err(AuditError::Shape {
                field: format!("contests[{c}].options"),
                expected: cast.options.len(),
                found: shown.options.len(),
            });
        }
        for (o, (opening, option)) in shown.options.iter().zip(&cast.options).enumerate() {
            if !encrypts(election, &option.ciphertext, opening) {
                return Err(AuditError::Mismatch {
                    field: format!("contests[{c}].options[{o}]"),
                });
            }
        }
        match (&shown.blank, &cast.blank) {
            (None, None) => {}
            (Some(opening), Some(blank)) => {
                if !encrypts(election, &blank.ciphertext, opening) {
                    return Err(AuditError::Mismatch {
                        field: format!("contests[{c}].blank"),
                    });
                }
            }
            (shown_blank, _) => {
                return Err(AuditError::Shape {
                    field: format!("contests[{c}].blank"),
                    expected: usize::from(cast.blank.is_some()),
                    found: usize::from(shown_blank.is_some()),
                });
            }
        }
    }
    // Step 5, once every ciphertext matched (step 4): the shown values are a valid vote.
    for (c, shown) in audited.contests.iter().enumerate() {
        if shown.blank.as_ref().is_some_and(|(v, _)| *v > 1) {
            return Err(AuditError::InvalidChoices(BallotError::InvalidSelection {
                contest: c,
                detail: "the blank vote is neither 0 nor 1",
            }));
        }
    }
    for (c, (contest, selection)) in election
        .manifest()
        .contests()
        .iter()
        .zip(audited.selections())
        .enumerate()
    {
        selection
            .check(contest, c)
            .map_err(AuditError::InvalidChoices)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::election::{ContextInputs, CredentialKey};
    use crate::manifest::{Contest, ContestKind, Manifest};
    use urne_crypto::SecretKey;

    /// spec/21 §21.8: every ciphertext is compared (step 4) before the shown values are
    /// judged (step 5), so a device caught encrypting something else is named as such
    /// even when another contest shows a blank value of 2.
    #[test]
    fn audit_reports_a_mismatch_before_invalid_choices() {
        let contest = |blank| Contest {
            title: "c".into(),
            kind: ContestKind::SingleChoice,
            blank,
            options: vec!["a".into(), "b".into()],
        };
        let manifest = Manifest::new("t", vec![contest(true), contest(false)]).unwrap();
        let key = SecretKey::generate(&mut rand::rng()).public_key();
        let election = Election::new(ContextInputs {
            manifest: &manifest,
            joint_key: &key,
            credential_root: &[0; 32],
            board_origin: "o",
            context_id: &[0; 32],
        })
        .unwrap();
        let selections = [
            ContestSelection::single(2, 0).unwrap(),
            ContestSelection::single(2, 1).unwrap(),
        ];
        let (mut ballot, secrets) = Ballot::encrypt(
            &election,
            &CredentialKey([1; 32]),
            &selections,
            &mut rand::rng(),
        )
        .unwrap();
        // Contest 0's blank re-encrypted as 2 (its opening shown truthfully), and
        // contest 1's first option re-encrypted as 1 while its opening still shows 0.
        let (two, two_opening) = election.encryption_key().encrypt(2, &mut rand::rng());
        let (one, _) = election.encryption_key().encrypt(1, &mut rand::rng());
        if let Some(blank) = ballot.contests[0].blank.as_mut() {
            blank.ciphertext = two;
        }
        let mut audited = secrets.audit(&ballot);
        audited.contests[0].blank =
            Some((2, Scalar::from_dalek(*two_opening.nonce().expose_secret())));
        let mut altered = ballot.clone();
        altered.contests[1].options[0].ciphertext = one;
        let mut altered_audit = audited.clone();
        altered_audit.tracking_code = TrackingCode::of(&altered);
        assert_eq!(
            check_audit(&election, &altered, &altered_audit),
            Err(AuditError::Mismatch {
                field: "contests[1].options[0]".into()
            })
        );
        // With contest 1 shown truthfully, the blank value of 2 is what is refused.
        assert!(matches!(
            check_audit(&election, &ballot, &audited),
            Err(AuditError::InvalidChoices(BallotError::InvalidSelection {
                contest: 0,
                ..
            }))
        ));
    }

    /// A device that encrypted an overvote (and a blank vote with a choice) without
    /// proofs: its ciphertexts open to the shown values, and the audit still refuses.
    #[test]
    fn audit_refuses_shown_choices_that_are_no_valid_vote() {
        let manifest = Manifest::new(
            "t",
            vec![Contest {
                title: "c".into(),
                kind: ContestKind::SingleChoice,
                blank: true,
                options: vec!["a".into(), "b".into(), "c".into()],
            }],
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
        let selection = ContestSelection::single(3, 0).unwrap();
        let (ballot, _) = Ballot::encrypt(
            &election,
            &CredentialKey([1; 32]),
            &[selection],
            &mut rand::rng(),
        )
        .unwrap();
        for (values, blank) in [([1, 1, 0], 0), ([0, 1, 0], 1)] {
            let mut forged = ballot.clone();
            let mut shown = Vec::new();
            for (o, value) in values.into_iter().enumerate() {
                let (ciphertext, opening) =
                    election.encryption_key().encrypt(value, &mut rand::rng());
                forged.contests[0].options[o].ciphertext = ciphertext;
                shown.push((value, Scalar::from_dalek(*opening.nonce().expose_secret())));
            }
            let (ciphertext, opening) = election.encryption_key().encrypt(blank, &mut rand::rng());
            if let Some(b) = forged.contests[0].blank.as_mut() {
                b.ciphertext = ciphertext;
            }
            let audited = AuditedBallot {
                tracking_code: TrackingCode::of(&forged),
                contests: vec![AuditedContest {
                    options: shown,
                    blank: Some((blank, Scalar::from_dalek(*opening.nonce().expose_secret()))),
                }],
            };
            assert!(matches!(
                check_audit(&election, &forged, &audited),
                Err(AuditError::InvalidChoices(BallotError::InvalidSelection {
                    contest: 0,
                    ..
                }))
            ));
        }
    }
}
