//! An election's record kinds, phases and the bodies of its own kinds, read from
//! spec/23 alone (§23.1 codes, §23.2 manifest record, §23.3 phases, §23.6 cast,
//! §23.7 audit, §23.4 round closing). Written apart from the board's acceptance code
//! on purpose (ARCHITECTURE §9): a decoder bug shared by both would hide itself. The
//! bodies spec/23 borrows from a domain crate (the ceremony's, the credential list's,
//! the tally's) are read with that crate's strict decoder.

use sha2::{Digest, Sha256};
use urne_ballot::{AuditedBallot, Ballot, Manifest, TrackingCode};
use urne_ceremony::{
    CeremonyOpen, CommitmentHash, Commitments, Complaint, ComplaintAnswer, DecryptionShares,
    EncryptedShares, TrusteeRegistration,
};
use urne_credential::registry::{Registrars, SignedSnapshot, SnapshotPart};
use urne_credential::{BallotSignature, CredentialListPart};
use urne_record::Kind;
use urne_tally::TallyResult;

/// The frozen kind codes of spec/23 §23.1.
pub mod kinds {
    use urne_record::Kind;

    /// `election.manifest`.
    pub const ELECTION_MANIFEST: Kind = Kind(0x0101);
    /// `ceremony.open`.
    pub const CEREMONY_OPEN: Kind = Kind(0x0102);
    /// `ceremony.register`.
    pub const CEREMONY_REGISTER: Kind = Kind(0x0103);
    /// `ceremony.commitment-hash`.
    pub const CEREMONY_COMMITMENT_HASH: Kind = Kind(0x0104);
    /// `ceremony.commitments`.
    pub const CEREMONY_COMMITMENTS: Kind = Kind(0x0105);
    /// `ceremony.shares`.
    pub const CEREMONY_SHARES: Kind = Kind(0x0106);
    /// `ceremony.complaint`.
    pub const CEREMONY_COMPLAINT: Kind = Kind(0x0107);
    /// `ceremony.answer`.
    pub const CEREMONY_ANSWER: Kind = Kind(0x0108);
    /// `ceremony.close-round`.
    pub const CEREMONY_CLOSE_ROUND: Kind = Kind(0x0109);
    /// `election.credentials`.
    pub const ELECTION_CREDENTIALS: Kind = Kind(0x0110);
    /// `election.snapshot` (anonymous elections, §23.12).
    pub const ELECTION_SNAPSHOT: Kind = Kind(0x0111);
    /// `election.snapshot-part` (anonymous elections, §23.12).
    pub const ELECTION_SNAPSHOT_PART: Kind = Kind(0x0112);
    /// `ballot.cast`.
    pub const BALLOT_CAST: Kind = Kind(0x0120);
    /// `ballot.audit`.
    pub const BALLOT_AUDIT: Kind = Kind(0x0121);
    /// `tally.decryption-shares`.
    pub const TALLY_DECRYPTION_SHARES: Kind = Kind(0x0130);
    /// `tally.result`.
    pub const TALLY_RESULT: Kind = Kind(0x0131);

    /// A kind's name (spec/23 §23.1), or None for a kind that is not an election's.
    pub fn name(kind: Kind) -> Option<&'static str> {
        Some(match kind {
            ELECTION_MANIFEST => "election.manifest",
            CEREMONY_OPEN => "ceremony.open",
            CEREMONY_REGISTER => "ceremony.register",
            CEREMONY_COMMITMENT_HASH => "ceremony.commitment-hash",
            CEREMONY_COMMITMENTS => "ceremony.commitments",
            CEREMONY_SHARES => "ceremony.shares",
            CEREMONY_COMPLAINT => "ceremony.complaint",
            CEREMONY_ANSWER => "ceremony.answer",
            CEREMONY_CLOSE_ROUND => "ceremony.close-round",
            ELECTION_CREDENTIALS => "election.credentials",
            ELECTION_SNAPSHOT => "election.snapshot",
            ELECTION_SNAPSHOT_PART => "election.snapshot-part",
            BALLOT_CAST => "ballot.cast",
            BALLOT_AUDIT => "ballot.audit",
            TALLY_DECRYPTION_SHARES => "tally.decryption-shares",
            TALLY_RESULT => "tally.result",
            _ => return None,
        })
    }
}

/// An election's phase (spec/12 §12.3, spec/23 §23.3); its code is its position.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Phase {
    /// The authority posts the manifest.
    Setup = 0,
    /// The trustees run the key ceremony.
    Ceremony = 1,
    /// The registrar posts the credential list.
    Registration = 2,
    /// Ballots and audits.
    Voting = 3,
    /// No more ballots.
    Closed = 4,
    /// Decryption shares and the result.
    Tallying = 5,
    /// The result is on the board. Final.
    Published = 6,
}

impl Phase {
    const ALL: [Phase; 7] = [
        Phase::Setup,
        Phase::Ceremony,
        Phase::Registration,
        Phase::Voting,
        Phase::Closed,
        Phase::Tallying,
        Phase::Published,
    ];

    /// The phase of a code.
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.get(usize::from(code)).copied()
    }

    /// Its code.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// Its name, as spec/12 §12.3 spells it.
    pub fn name(self) -> &'static str {
        [
            "setup",
            "ceremony",
            "registration",
            "voting",
            "closed",
            "tallying",
            "published",
        ][self as usize]
    }

    /// The one phase it may move to.
    pub fn next(self) -> Option<Self> {
        Self::from_code(self.code() + 1)
    }
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Version byte of the bodies spec/23 defines.
const BODY_VERSION: u8 = 1;
/// Version byte of an anonymous election's manifest, cast and audit bodies (§23.2, §23.13).
const ANONYMOUS_VERSION: u8 = 2;

/// SHA-256 label of the parameters hash an election's `context.open` carries (§23.2).
const PARAMETERS_LABEL: &[u8] = b"urne/v1/election/parameters\n";

/// Why a body does not decode: the field (as spec/23 names it) and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BodyError {
    pub field: String,
    pub message: String,
}

fn body_error(field: impl Into<String>, message: impl Into<String>) -> BodyError {
    BodyError {
        field: field.into(),
        message: message.into(),
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn open(bytes: &'a [u8]) -> Result<Self, BodyError> {
        match bytes.first() {
            None => Err(body_error("body.version", "the body is empty")),
            Some(&BODY_VERSION) => Ok(Self { bytes, at: 1 }),
            Some(v) => Err(body_error(
                "body.version",
                format!("version {v}, this verifier reads version {BODY_VERSION}"),
            )),
        }
    }

    /// Opens a body of version 1 or 2 (the anonymous election's), returning which.
    fn open_either(bytes: &'a [u8]) -> Result<(Self, u8), BodyError> {
        match bytes.first() {
            Some(&ANONYMOUS_VERSION) => Ok((Self { bytes, at: 1 }, ANONYMOUS_VERSION)),
            _ => Self::open(bytes).map(|r| (r, BODY_VERSION)),
        }
    }

    fn u32(&mut self, field: &str) -> Result<u32, BodyError> {
        let b = self.take(4, field)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn take(&mut self, n: usize, field: &str) -> Result<&'a [u8], BodyError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len())
            .ok_or_else(|| body_error(field, "the body ends inside this field"))?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    /// A u32 BE length, then that many bytes; the length's field is `<field>_length`.
    fn sized(&mut self, field: &str) -> Result<&'a [u8], BodyError> {
        let len = self.take(4, &format!("{field}_length"))?;
        let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]);
        self.take(len as usize, field)
    }

    fn rest(&mut self) -> &'a [u8] {
        let out = &self.bytes[self.at..];
        self.at = self.bytes.len();
        out
    }

    fn end(&self) -> Result<(), BodyError> {
        match self.bytes.len() - self.at {
            0 => Ok(()),
            extra => Err(body_error(
                "body.end",
                format!("{extra} bytes after the last field"),
            )),
        }
    }
}

/// A `ballot.cast` body (§23.6), or the ballot and signature of a `ballot.audit`.
#[derive(Clone, Debug)]
pub(crate) struct SignedBallot {
    pub ballot: Ballot,
    /// SHA-256 over the ballot bytes as posted (spec/21 §21.7), hashed once here.
    pub tracking: TrackingCode,
    pub signature: BallotSignature,
}

/// A `ballot.audit` body (§23.7).
#[derive(Clone, Debug)]
pub(crate) struct AuditBody {
    pub signed: SignedBallot,
    pub opening: AuditedBallot,
}

/// Where an anonymous election's voters come from (§23.2): the prefix of a version-2
/// manifest record, its floors checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Eligibility {
    pub min_bucket_bits: u8,
    pub min_real_keys: u32,
    pub min_snapshot: u32,
    pub registry: [u8; 32],
    pub registrars: Registrars,
}

/// A version-2 `ballot.cast` body (§23.13), or the ballot and signature of a version-2
/// `ballot.audit`: the signature's bytes are decoded once the ring size is known.
#[derive(Clone, Debug)]
pub(crate) struct RingSignedBallot {
    pub ballot: Ballot,
    pub tracking: TrackingCode,
    pub bucket: u32,
    pub signature: Vec<u8>,
}

/// The smallest floor of registered keys any eligibility may promise: one registered key
/// in a bucket names its voter (§23.2).
const PROTOCOL_MIN_REAL_KEYS: u32 = 2;

fn eligibility(r: &mut Reader<'_>) -> Result<Eligibility, BodyError> {
    let mode = r.take(1, "body.eligibility.mode")?[0];
    if mode != 1 {
        return Err(body_error(
            "body.eligibility.mode",
            format!("mode {mode} is not 1 (anonymous)"),
        ));
    }
    let bits = r.take(1, "body.eligibility.min_bucket_bits")?[0];
    let real = r.u32("body.eligibility.min_real_keys")?;
    let oldest = r.u32("body.eligibility.min_snapshot")?;
    let mut registry = [0u8; 32];
    registry.copy_from_slice(r.take(32, "body.eligibility.registry")?);
    let length = r.take(2, "body.eligibility.registrars_length")?;
    let length = usize::from(u16::from_be_bytes([length[0], length[1]]));
    let registrars = Registrars::decode(r.take(length, "body.eligibility.registrars")?)
        .map_err(|e| body_error("body.eligibility.registrars", e.to_string()))?;
    if !(1..=16).contains(&bits) {
        return Err(body_error(
            "body.eligibility.min_bucket_bits",
            format!("{bits} is not in 1..=16"),
        ));
    }
    if real < PROTOCOL_MIN_REAL_KEYS || real > 1 << bits {
        return Err(body_error(
            "body.eligibility.min_real_keys",
            format!(
                "{real} is not in {PROTOCOL_MIN_REAL_KEYS}..={} (buckets of 2^{bits})",
                1u32 << bits
            ),
        ));
    }
    if oldest == 0 {
        return Err(body_error(
            "body.eligibility.min_snapshot",
            "snapshots are numbered from 1",
        ));
    }
    Ok(Eligibility {
        min_bucket_bits: bits,
        min_real_keys: real,
        min_snapshot: oldest,
        registry,
        registrars,
    })
}

fn ring_signed_ballot(r: &mut Reader<'_>) -> Result<RingSignedBallot, BodyError> {
    let bytes = r.sized("body.ballot")?;
    let ballot = Ballot::decode(bytes)
        .map_err(|e| body_error(format!("body.ballot.{}", e.field()), e.to_string()))?;
    let bucket = r.u32("body.bucket")?;
    let signature = r.sized("body.signature")?.to_vec();
    Ok(RingSignedBallot {
        ballot,
        tracking: TrackingCode::of_bytes(bytes),
        bucket,
        signature,
    })
}

/// A decoded election record body.
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)]
pub(crate) enum Body {
    /// The manifest and SHA-256(label ‖ the record's body as stored); the eligibility
    /// of an anonymous election (version 2).
    Manifest {
        manifest: Manifest,
        parameters: [u8; 32],
        eligibility: Option<Box<Eligibility>>,
    },
    Snapshot(Box<SignedSnapshot>),
    SnapshotPart(SnapshotPart),
    AnonymousCast(Box<RingSignedBallot>),
    AnonymousAudit(Box<RingSignedBallot>, Box<AuditedBallot>),
    CeremonyOpen(CeremonyOpen),
    Register(TrusteeRegistration),
    CommitmentHash(CommitmentHash),
    Commitments(Commitments),
    Shares(EncryptedShares),
    Complaint(Complaint),
    Answer(ComplaintAnswer),
    CloseRound(u8),
    Credentials(CredentialListPart),
    Cast(Box<SignedBallot>),
    Audit(Box<AuditBody>),
    DecryptionShares(DecryptionShares),
    Result(Box<TallyResult>),
}

fn signed_ballot(r: &mut Reader<'_>) -> Result<SignedBallot, BodyError> {
    let bytes = r.sized("body.ballot")?;
    let ballot = Ballot::decode(bytes)
        .map_err(|e| body_error(format!("body.ballot.{}", e.field()), e.to_string()))?;
    let signature = BallotSignature::decode(r.take(BallotSignature::LEN, "body.signature")?)
        .map_err(|e| body_error("body.signature", e.to_string()))?;
    Ok(SignedBallot {
        ballot,
        tracking: TrackingCode::of_bytes(bytes),
        signature,
    })
}

fn ceremony_field(e: urne_ceremony::DecodeError) -> BodyError {
    let field = if e.field.is_empty() {
        "body".to_owned()
    } else {
        format!("body.{}", e.field)
    };
    body_error(field, e.problem.to_string())
}

fn registry_field(e: urne_credential::registry::RegistryError) -> BodyError {
    match e {
        urne_credential::registry::RegistryError::Decode { field, reason } => {
            body_error(format!("body.{field}"), reason)
        }
        other => body_error("body", other.to_string()),
    }
}

/// Decodes an election record's body strictly; None for a kind that is not an
/// election's (and for `context.open` / `context.phase`, which are spec/12's).
pub(crate) fn decode(kind: Kind, body: &[u8]) -> Option<Result<Body, BodyError>> {
    use kinds::*;
    Some(match kind {
        ELECTION_MANIFEST => Reader::open_either(body).and_then(|(mut r, version)| {
            let eligibility = match version {
                ANONYMOUS_VERSION => Some(Box::new(eligibility(&mut r)?)),
                _ => None,
            };
            let manifest = Manifest::decode(r.rest())
                .map_err(|e| body_error(format!("body.manifest.{}", e.field()), e.to_string()))?;
            let mut h = Sha256::new();
            h.update(PARAMETERS_LABEL);
            h.update(body);
            Ok(Body::Manifest {
                manifest,
                parameters: h.finalize().into(),
                eligibility,
            })
        }),
        CEREMONY_OPEN => CeremonyOpen::decode(body)
            .map(Body::CeremonyOpen)
            .map_err(ceremony_field),
        CEREMONY_REGISTER => TrusteeRegistration::decode(body)
            .map(Body::Register)
            .map_err(ceremony_field),
        CEREMONY_COMMITMENT_HASH => CommitmentHash::decode(body)
            .map(Body::CommitmentHash)
            .map_err(ceremony_field),
        CEREMONY_COMMITMENTS => Commitments::decode(body)
            .map(Body::Commitments)
            .map_err(ceremony_field),
        CEREMONY_SHARES => EncryptedShares::decode(body)
            .map(Body::Shares)
            .map_err(ceremony_field),
        CEREMONY_COMPLAINT => Complaint::decode(body)
            .map(Body::Complaint)
            .map_err(ceremony_field),
        CEREMONY_ANSWER => ComplaintAnswer::decode(body)
            .map(Body::Answer)
            .map_err(ceremony_field),
        CEREMONY_CLOSE_ROUND => Reader::open(body).and_then(|mut r| {
            let round = r.take(1, "body.round")?[0];
            r.end()?;
            Ok(Body::CloseRound(round))
        }),
        ELECTION_CREDENTIALS => CredentialListPart::decode(body)
            .map(Body::Credentials)
            .map_err(|e| match e {
                urne_credential::CredentialError::Decode { field, reason } => {
                    body_error(format!("body.{field}"), reason)
                }
                urne_credential::CredentialError::Order { index } => {
                    body_error(format!("body.entries[{index}]"), e.to_string())
                }
                other => body_error("body", other.to_string()),
            }),
        BALLOT_CAST => Reader::open_either(body).and_then(|(mut r, version)| {
            if version == ANONYMOUS_VERSION {
                let signed = ring_signed_ballot(&mut r)?;
                r.end()?;
                return Ok(Body::AnonymousCast(Box::new(signed)));
            }
            let signed = signed_ballot(&mut r)?;
            r.end()?;
            Ok(Body::Cast(Box::new(signed)))
        }),
        BALLOT_AUDIT => Reader::open_either(body).and_then(|(mut r, version)| {
            let opening = |rest: &[u8]| {
                AuditedBallot::decode(rest)
                    .map_err(|e| body_error(format!("body.opening.{}", e.field()), e.to_string()))
            };
            if version == ANONYMOUS_VERSION {
                let signed = ring_signed_ballot(&mut r)?;
                let opening = opening(r.rest())?;
                return Ok(Body::AnonymousAudit(Box::new(signed), Box::new(opening)));
            }
            let signed = signed_ballot(&mut r)?;
            let opening = opening(r.rest())?;
            Ok(Body::Audit(Box::new(AuditBody { signed, opening })))
        }),
        ELECTION_SNAPSHOT => SignedSnapshot::decode(body)
            .map(|s| Body::Snapshot(Box::new(s)))
            .map_err(registry_field),
        ELECTION_SNAPSHOT_PART => SnapshotPart::decode(body)
            .map(Body::SnapshotPart)
            .map_err(registry_field),
        TALLY_DECRYPTION_SHARES => DecryptionShares::decode(body)
            .map(Body::DecryptionShares)
            .map_err(ceremony_field),
        TALLY_RESULT => TallyResult::decode(body)
            .map(|r| Body::Result(Box::new(r)))
            .map_err(|e| body_error(format!("body.{}", e.field()), e.detail().to_owned())),
        _ => return None,
    })
}

/// The ballot a `ballot.cast` body carries (for receipts), decoded strictly: version 1, or
/// version 2 in an anonymous election.
pub(crate) fn cast_ballot(body: &[u8]) -> Result<(Ballot, TrackingCode), BodyError> {
    match decode(kinds::BALLOT_CAST, body) {
        Some(Ok(Body::Cast(signed))) => Ok((signed.ballot, signed.tracking)),
        // An anonymous election's (§23.13): its credential field is the voter's tag.
        Some(Ok(Body::AnonymousCast(signed))) => Ok((signed.ballot, signed.tracking)),
        Some(Err(e)) => Err(e),
        _ => Err(body_error("body", "not a ballot.cast body")),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// spec/23 §23.2's example, recomputed from the spec text: the body and the
    /// parameters hash must be the spec's.
    #[test]
    fn the_manifest_example_of_the_spec_decodes_to_its_parameters_hash() {
        let body = hex::decode(
            "0101000154000200015101010002000161000162000152020000000200000300017800017900017a",
        )
        .unwrap();
        let Some(Ok(Body::Manifest { parameters, .. })) = decode(kinds::ELECTION_MANIFEST, &body)
        else {
            panic!("the spec's manifest body does not decode");
        };
        assert_eq!(
            hex::encode(parameters),
            "41da3d0c89d2856c8fc0991ee55f8c09626bfb3c6fe1605be2042775df77f5d7"
        );
        let mut trailing = body.clone();
        trailing.push(0);
        assert!(
            decode(kinds::ELECTION_MANIFEST, &trailing)
                .unwrap()
                .unwrap_err()
                .field
                .starts_with("body.manifest")
        );
        let mut version = body;
        version[0] = 3;
        assert_eq!(
            decode(kinds::ELECTION_MANIFEST, &version)
                .unwrap()
                .unwrap_err()
                .field,
            "body.version"
        );
    }

    #[test]
    fn bodies_cut_short_or_with_trailing_bytes_are_refused_naming_the_field() {
        let field = |kind, body: &[u8]| decode(kind, body).unwrap().unwrap_err().field;
        assert_eq!(field(kinds::CEREMONY_CLOSE_ROUND, &[1]), "body.round");
        assert_eq!(field(kinds::CEREMONY_CLOSE_ROUND, &[1, 5, 0]), "body.end");
        assert_eq!(field(kinds::CEREMONY_CLOSE_ROUND, &[]), "body.version");
        assert!(matches!(
            decode(kinds::CEREMONY_CLOSE_ROUND, &[1, 5]),
            Some(Ok(Body::CloseRound(5)))
        ));
        assert_eq!(
            field(kinds::BALLOT_CAST, &[1, 0, 0, 0, 9, 1]),
            "body.ballot"
        );
        assert_eq!(field(kinds::BALLOT_CAST, &[1, 0, 0]), "body.ballot_length");
        assert_eq!(field(kinds::BALLOT_AUDIT, &[3]), "body.version");
        assert!(decode(urne_record::kinds::CONTEXT_PHASE, &[1]).is_none());
    }

    #[test]
    fn phases_move_one_step_forward_and_stop_at_published() {
        assert_eq!(Phase::Setup.next(), Some(Phase::Ceremony));
        assert_eq!(Phase::Published.next(), None);
        assert_eq!(Phase::from_code(7), None);
        assert_eq!(Phase::Tallying.to_string(), "tallying");
    }
}
