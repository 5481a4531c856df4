//! Stable names of every verdict the election vectors expect (spec/07 §7.5): the kebab
//! form of the spec's name of the check, then the field or index it names. The
//! generator writes them and the checker compares them, so a verifier in another
//! language maps its own errors to these strings.

use urne_ballot::{AuditError, BallotError};
use urne_ceremony::{CeremonyFault, CeremonyOutcome, DecryptionError, DisqualificationReason};
use urne_tally::{Entry, Position, TallyError};

/// `ok`, or `disqualified <dealer> <reason>[, …]`, or the fault.
pub(crate) fn ceremony(result: &Result<CeremonyOutcome, CeremonyFault>) -> String {
    match result {
        Ok(outcome) if outcome.disqualified.is_empty() => "ok".into(),
        Ok(outcome) => outcome
            .disqualified
            .iter()
            .map(|d| format!("disqualified {} {}", d.dealer, reason(&d.reason)))
            .collect::<Vec<_>>()
            .join(", "),
        Err(fault) => match fault {
            CeremonyFault::MissingRegistration { trustee } => {
                format!("missing-registration {trustee}")
            }
            CeremonyFault::UnknownTrustee { record, trustee } => {
                format!("unknown-trustee {record} {trustee}")
            }
            CeremonyFault::DuplicateRecord { record, trustee } => {
                format!("duplicate-record {record} {trustee}")
            }
            CeremonyFault::ComplaintWithoutShares { complainer, dealer } => {
                format!("complaint-without-shares {complainer} {dealer}")
            }
            CeremonyFault::UnsolicitedAnswer { dealer, recipient } => {
                format!("unsolicited-answer {dealer} {recipient}")
            }
            CeremonyFault::TooFewQualified {
                qualified,
                threshold,
            } => format!("too-few-qualified {qualified} {threshold}"),
            CeremonyFault::JointKeyIsIdentity => "joint-key-identity".into(),
            other => format!("unnamed {other}"),
        },
    }
}

fn reason(reason: &DisqualificationReason) -> String {
    match reason {
        DisqualificationReason::NoCommitmentHash => "no-commitment-hash".into(),
        DisqualificationReason::NoCommitments => "no-commitments".into(),
        DisqualificationReason::CommitmentHashMismatch => "commitment-hash-mismatch".into(),
        DisqualificationReason::WrongCoefficientCount { found } => {
            format!("wrong-coefficient-count {found}")
        }
        DisqualificationReason::BadCoefficientProof { coefficient } => {
            format!("bad-coefficient-proof {coefficient}")
        }
        DisqualificationReason::NoShares => "no-shares".into(),
        DisqualificationReason::WrongShareRecipients => "wrong-share-recipients".into(),
        DisqualificationReason::ComplaintUnanswered { recipient } => {
            format!("complaint-unanswered {recipient}")
        }
        DisqualificationReason::RevealedShareInvalid { recipient } => {
            format!("revealed-share-invalid {recipient}")
        }
        other => format!("unnamed {other:?}"),
    }
}

/// A decryption-share verdict (spec/20 §20.7).
pub(crate) fn decryption(result: &Result<(), DecryptionError>) -> String {
    match result {
        Ok(()) => "ok".into(),
        Err(DecryptionError::UnknownTrustee { trustee }) => format!("unknown-trustee {trustee}"),
        Err(DecryptionError::WrongCount { trustee, .. }) => format!("wrong-count {trustee}"),
        Err(DecryptionError::InvalidShare {
            trustee,
            ciphertext,
        }) => format!("invalid-share {trustee} {ciphertext}"),
        Err(other) => format!("unnamed {other}"),
    }
}

/// A ballot verdict (spec/21 §21.6): the error's name, its field, the proof's check.
pub(crate) fn ballot(result: &Result<(), BallotError>) -> String {
    match result {
        Ok(()) => "ok".into(),
        Err(BallotError::Decode(e)) => format!("decode {}", e.field()),
        Err(BallotError::WrongElection) => "wrong-election".into(),
        Err(BallotError::WrongCredential) => "wrong-credential".into(),
        Err(BallotError::Shape { field, .. }) => format!("shape {field}"),
        Err(BallotError::SumProofKind { field, .. }) => format!("sum-proof-kind {field}"),
        Err(BallotError::Proof { field, error }) => {
            format!("proof {field} {}", error.spec_check())
        }
        Err(other) => format!("unnamed {other}"),
    }
}

/// An audit verdict (spec/21 §21.8).
pub(crate) fn audit(result: &Result<(), AuditError>) -> String {
    match result {
        Ok(()) => "ok".into(),
        Err(AuditError::TrackingCodeMismatch) => "tracking-code-mismatch".into(),
        Err(AuditError::Ballot(e)) => format!("ballot {}", ballot(&Err(e.clone()))),
        Err(AuditError::Shape { field, .. }) => format!("shape {field}"),
        Err(AuditError::Mismatch { field }) => format!("mismatch {field}"),
        Err(AuditError::InvalidChoices(BallotError::InvalidSelection { contest, .. })) => {
            format!("invalid-choices {contest}")
        }
        Err(other) => format!("unnamed {other}"),
    }
}

fn at(position: &Position) -> String {
    match position.entry {
        Entry::Option(k) => format!("{} {k}", position.contest),
        Entry::Blank => format!("{} blank", position.contest),
    }
}

/// A result verdict (spec/24 §24.6), entries as `<contest> <option>` or `<contest> blank`.
pub(crate) fn tally(result: &Result<(), TallyError>) -> String {
    match result {
        Ok(()) => "ok".into(),
        Err(e) => match e {
            TallyError::BallotOfAnotherElection { ballot } => {
                format!("ballot-of-another-election {ballot}")
            }
            TallyError::UnlistedCredential { ballot } => format!("unlisted-credential {ballot}"),
            TallyError::ReplayedBallot { ballot, first } => {
                format!("replayed-ballot {ballot} {first}")
            }
            TallyError::BallotShape { ballot, field, .. } => {
                format!("ballot-shape {ballot} {field}")
            }
            TallyError::TallyShape { field, .. } => format!("tally-shape {field}"),
            TallyError::TallyOfAnotherElection => "tally-of-another-election".into(),
            TallyError::CeremonyOfAnotherKey => "ceremony-of-another-key".into(),
            TallyError::BoundTooLarge { at: p, .. } => format!("bound-too-large {}", at(p)),
            TallyError::NoCountWithinBound { at: p, .. } => {
                format!("no-count-within-bound {}", at(p))
            }
            TallyError::InvalidShare { trustee, at: p } => {
                format!("invalid-share {trustee} {}", at(p))
            }
            TallyError::Shares(d) => format!("shares {}", decryption(&Err(d.clone()))),
            TallyError::WrongTrusteeCount { .. } => "wrong-trustee-count".into(),
            TallyError::MissingShares { trustee } => format!("missing-shares {trustee}"),
            TallyError::CountedBallots { .. } => "counted-ballots".into(),
            TallyError::SupersededBallots { .. } => "superseded-ballots".into(),
            TallyError::CountedWeight { .. } => "counted-weight".into(),
            TallyError::EncryptedSum { at: p } => format!("encrypted-sum {}", at(p)),
            TallyError::Count { at: p, .. } => format!("count {}", at(p)),
            TallyError::CountAboveBound { at: p, .. } => format!("count-above-bound {}", at(p)),
            other => format!("unnamed {other}"),
        },
    }
}
